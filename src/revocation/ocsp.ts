/**
 * The OCSP responder (RFC 6960, RFC 5019 profile). Each replica signs with its own delegated
 * responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck), issued by the issuing CA in
 * this process with a key that never leaves memory, recorded in the inventory like every
 * certificate, and replaced two thirds into its lifetime.
 *
 * Speed: a response for a request without a nonce is kept, signed, keyed by the request's CertID
 * bytes; a repeat is a map lookup. Entries are signed again halfway through their validity — in
 * the background, before that, for the ones asked for since their signing ("hot"), so that a hot
 * certificate never waits for a signature — and dropped the moment the revocation watcher sees
 * their certificate revoked (every `revocation.propagation`, through the revocation sequence).
 * When the database cannot be read, a kept response is served until its nextUpdate.
 *
 * Race with revocations: a response is kept only when no watcher tick happened between reading
 * the certificate's status and storing the response; otherwise a revocation the tick evicted
 * could be overwritten by the "good" read before it.
 */
import { createHash } from 'node:crypto';
import { generateKeyPairSync } from '../crypto/generate.js';
import type { Clock } from '../core/clock.js';
import { isSignetError } from '../core/errors.js';
import { createSoftwareSigner, type Signer } from '../crypto/signer.js';
import type { CertificateRecord, Store } from '../store/store.js';
import { serialHex } from '../store/validation.js';
import { issuerFromCertificate } from '../x509/certificate-builder.js';
import { parseCertificate } from '../x509/certificate.js';
import { NULL } from '../x509/der.js';
import { issueLintedCertificate } from '../x509/issue.js';
import { parseSubject } from '../x509/name.js';
import { issuerHashes, ocspStatusResponse, parseOcspRequest, signOcspResponse, subjectPublicKeyBits, type CertStatus, type IssuerHashes, type OcspCertId } from '../x509/ocsp.js';
import { OID } from '../x509/oids.js';
import { specFromProfile } from '../x509/profiles.js';

/** The inventory's provisioner and profile names for responder certificates (issued by the CA itself). */
export const RESPONDER_PROVISIONER = 'signet';
export const RESPONDER_PROFILE = 'ocsp-responder';
/** Most kept responses signed again per watcher tick (the rest are signed on their next request). */
const MAX_REFRESH_PER_TICK = 2_000;
/** Revoked serials read per query by the watcher (more than a bulk-revocation batch, which shares one number). */
const REVOKED_PAGE = 10_000;

/** What {@link OcspResponder} needs. */
export interface OcspResponderOptions {
  readonly store: Store;
  /** The issuing CA's certificate (DER) and signer: the CA answers for what it issued, through a delegated responder it certifies. */
  readonly issuer: Uint8Array;
  readonly issuerSigner: Signer;
  readonly clock: Clock;
  /** nextUpdate − thisUpdate of each response. */
  readonly validityMs: number;
  /** Lifetime of a responder certificate (replaced at two thirds). */
  readonly signerLifetimeMs: number;
  /** Most responses kept. */
  readonly cacheSize: number;
  /** Names this replica in the responder certificate's subject and the inventory. */
  readonly replica: string;
  /** How often {@link OcspResponder.maintain} runs (hot responses are signed again within two ticks of their refresh time). */
  readonly tickMs: number;
}

/** The delegated responder this replica signs with. */
export interface ResponderIdentity {
  readonly certificate: Uint8Array;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly renewAt: Date;
}

interface Identity extends ResponderIdentity {
  readonly signer: Signer;
  /** SHA-1 of its subjectPublicKey: the ResponderID byKey. */
  readonly keyHash: Uint8Array;
}

interface Kept {
  readonly key: string;
  /** The CertID as its request sent it (copied out of the request buffer). */
  readonly id: OcspCertId;
  readonly serial: string | undefined;
  readonly der: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Sign anew from here on. */
  readonly refreshAt: number;
  readonly etag: string;
  /** Asked for since it was signed. */
  hot: boolean;
  /** The GET paths (as sent) known to ask for exactly this (see {@link OcspResponder.respondKnown}); a few at most. */
  aliases: string[] | undefined;
}

/** Most GET spellings remembered per kept response (clients differ in base64 and URL encoding), and the longest remembered (an RFC 5019 request is under 400 characters in a URL). */
const MAX_ALIASES = 2;
const MAX_ALIAS_LENGTH = 512;

/** How a response came about (for logs and metrics). */
export type OcspOutcome = 'cached' | 'signed' | 'stale' | 'malformedRequest' | 'unauthorized' | 'tryLater';

/** A response and what HTTP caching may say about it. */
export interface OcspAnswer {
  readonly der: Uint8Array;
  readonly outcome: OcspOutcome;
  /** Present for a successful response a shared cache may keep (no nonce): its validity and an ETag. */
  readonly caching?: { readonly thisUpdate: Date; readonly nextUpdate: Date; readonly etag: string };
  /** Why the request was refused or answered from an old response, for the access log: a catalogue code. */
  readonly code?: string;
}

/** What one watcher tick did. */
export interface OcspMaintenance {
  /** Kept responses dropped because their certificate was revoked. */
  readonly evicted: number;
  /** Hot responses signed again before they were due. */
  readonly refreshed: number;
  /** The new responder certificate, when one was issued. */
  readonly rotated?: ResponderIdentity;
}

/** Answers OCSP requests for one issuing CA. */
export class OcspResponder {
  readonly #o: OcspResponderOptions;
  readonly #issuerSerial: string;
  readonly #issuerHashes: ReadonlyMap<string, IssuerHashes>;
  #identity!: Identity;
  readonly #kept = new Map<string, Kept>();
  readonly #bySerial = new Map<string, string[]>();
  /** GET path → kept response, so that a repeated GET skips decoding and parsing. */
  readonly #aliases = new Map<string, Kept>();
  /** The revocation sequence the kept responses reflect; each tick moves it on. */
  #seq = 0n;
  /** Counts watcher ticks that moved {@link #seq}: a response read before one is not kept. */
  #epoch = 0;

  private constructor(options: OcspResponderOptions) {
    this.#o = options;
    const issuer = parseCertificate(options.issuer);
    this.#issuerSerial = issuer.serialHex;
    const bits = subjectPublicKeyBits(issuer.spki);
    this.#issuerHashes = new Map(issuerHashes(issuerFromCertificate(options.issuer).name, bits).map((h) => [h.hash, h]));
  }

  /** A responder with its first responder certificate issued and recorded. */
  static async create(options: OcspResponderOptions): Promise<OcspResponder> {
    const r = new OcspResponder(options);
    r.#seq = await options.store.revocations.sequence();
    await r.#rotate();
    return r;
  }

  /** The responder certificate in use. */
  get identity(): ResponderIdentity {
    const { certificate, serial, notBefore, notAfter, renewAt } = this.#identity;
    return { certificate, serial, notBefore, notAfter, renewAt };
  }

  /** How many responses are kept. */
  get kept(): number {
    return this.#kept.size;
  }

  /** Issues a new responder certificate and records it (inventory and audit, one transaction). */
  async #rotate(): Promise<void> {
    const o = this.#o;
    const now = o.clock.now();
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spec = specFromProfile('leaf', {
      subject: parseSubject(`CN=Signet OCSP responder ${o.replica}`.slice(0, 64)),
      publicKey,
      now,
      lifetimeMs: o.signerLifetimeMs,
      keyUsage: ['digitalSignature'],
      extKeyUsage: ['OCSPSigning'],
      // RFC 6960 §4.2.2.2.1: relying parties need not check the responder certificate's own status.
      extra: [{ oid: OID.ocspNoCheck, value: NULL }],
    });
    const issued = issueLintedCertificate(spec, o.issuerSigner, issuerFromCertificate(o.issuer), { profile: 'leaf', now });
    const cert = issued.certificate;
    const serial = serialHex(cert.serialNumber);
    const signer = createSoftwareSigner(privateKey);
    const record: CertificateRecord = {
      serial,
      issuerSerial: this.#issuerSerial,
      subject: cert.subject.text,
      names: [],
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keyFingerprint: createHash('sha256').update(cert.spki).digest('hex'),
      keyType: 'EC P-256',
      provisioner: RESPONDER_PROVISIONER,
      requester: `replica ${o.replica}`,
      profile: RESPONDER_PROFILE,
      status: 'valid',
      issuedAt: now,
      der: issued.der,
    };
    await o.store.transaction(async (tx) => {
      await tx.certificates.insert(record);
      await tx.audit.append({ time: now, type: 'ocsp.responder.issue', outcome: 'success', actor: `replica ${o.replica}`, serial, detail: { notAfter: cert.notAfter.toISOString() } });
    });
    const life = cert.notAfter.getTime() - cert.notBefore.getTime();
    this.#identity = {
      certificate: issued.der,
      serial,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      renewAt: new Date(cert.notBefore.getTime() + (life * 2) / 3),
      signer,
      keyHash: new Uint8Array(createHash('sha1').update(subjectPublicKeyBits(signer.spki)).digest()),
    };
  }

  /** The issuer a CertID names, when it is ours. */
  #ours(id: OcspCertId): boolean {
    if (id.hash === undefined) return false;
    const h = this.#issuerHashes.get(id.hash);
    return h !== undefined && Buffer.from(h.nameHash).equals(id.issuerNameHash) && Buffer.from(h.keyHash).equals(id.issuerKeyHash);
  }

  async #status(id: OcspCertId): Promise<CertStatus> {
    if (id.serial === undefined) return { status: 'unknown' };
    const r = await this.#o.store.revocations.status(id.serial);
    // Issued here, by this issuing CA: a serial of another issuer is not ours to vouch for.
    if (r === undefined || r.issuerSerial !== this.#issuerSerial) return { status: 'unknown' };
    if (r.status === 'revoked') {
      return { status: 'revoked', revokedAt: r.revokedAt ?? r.notAfter, ...(r.reason !== undefined && { reason: r.reason }), ...(r.invalidAt !== undefined && { invalidAt: r.invalidAt }) };
    }
    return { status: 'good' };
  }

  /** Signs a response for `ids` (statuses read from the store now). */
  async #sign(ids: readonly OcspCertId[], nonce: Uint8Array | undefined): Promise<{ der: Uint8Array; thisUpdate: Date; nextUpdate: Date }> {
    const statuses = await Promise.all(ids.map((id) => this.#status(id)));
    const now = this.#o.clock.now();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const identity = this.#identity;
    // Never valid past the certificate that vouches for it.
    const nextUpdate = new Date(Math.min(thisUpdate.getTime() + this.#o.validityMs, identity.notAfter.getTime()));
    const der = signOcspResponse(
      {
        responderKeyHash: identity.keyHash,
        producedAt: thisUpdate,
        responses: ids.map((id, i) => ({ certId: id.der, cert: statuses[i] as CertStatus, thisUpdate, nextUpdate })),
        ...(nonce !== undefined && { nonce }),
        certs: [identity.certificate],
      },
      identity.signer,
    );
    return { der, thisUpdate, nextUpdate };
  }

  #keep(id: OcspCertId, key: string, signed: { der: Uint8Array; thisUpdate: Date; nextUpdate: Date }): Kept {
    const entry: Kept = {
      key,
      // Copies: the request's buffer is not kept alive by a view into it.
      id: { ...id, der: new Uint8Array(id.der), issuerNameHash: new Uint8Array(id.issuerNameHash), issuerKeyHash: new Uint8Array(id.issuerKeyHash) },
      serial: id.serial,
      der: signed.der,
      thisUpdate: signed.thisUpdate,
      nextUpdate: signed.nextUpdate,
      refreshAt: signed.thisUpdate.getTime() + (signed.nextUpdate.getTime() - signed.thisUpdate.getTime()) / 2,
      etag: etagOf(signed.der),
      hot: false,
      aliases: undefined,
    };
    const had = this.#kept.get(key);
    if (had !== undefined) {
      this.#kept.delete(key);
      this.#unalias(had);
    } else if (id.serial !== undefined) {
      const keys = this.#bySerial.get(id.serial);
      if (keys === undefined) this.#bySerial.set(id.serial, [key]);
      else keys.push(key);
    }
    this.#kept.set(key, entry);
    // Oldest signed first out: hot entries are signed again, so they stay.
    while (this.#kept.size > this.#o.cacheSize) {
      const oldest = this.#kept.values().next().value as Kept;
      this.#drop(oldest);
    }
    return entry;
  }

  #unalias(entry: Kept): void {
    for (const a of entry.aliases ?? []) if (this.#aliases.get(a) === entry) this.#aliases.delete(a);
  }

  #drop(entry: Kept): void {
    this.#kept.delete(entry.key);
    this.#unalias(entry);
    if (entry.serial === undefined) return;
    const keys = this.#bySerial.get(entry.serial);
    if (keys === undefined) return;
    const rest = keys.filter((k) => k !== entry.key);
    if (rest.length === 0) this.#bySerial.delete(entry.serial);
    else this.#bySerial.set(entry.serial, rest);
  }

  /**
   * The kept response a GET path (as sent, before decoding) is known to ask for, while it is
   * current; undefined: decode the request and {@link respond} with the path as `alias`. The hot
   * path of the responder: a map lookup, no decoding, no parsing, no promise.
   */
  respondKnown(alias: string): OcspAnswer | undefined {
    const kept = this.#aliases.get(alias);
    if (kept === undefined || this.#o.clock.now().getTime() >= kept.refreshAt) return undefined;
    kept.hot = true;
    return { der: kept.der, outcome: 'cached', caching: kept };
  }

  /**
   * Answers one OCSPRequest (DER). Never throws for what a client sent: that is a `malformedRequest`
   * or `unauthorized` response. `alias`: the GET path it came as, remembered with the kept response.
   */
  async respond(requestDer: Uint8Array, alias?: string): Promise<OcspAnswer> {
    let request;
    try {
      request = parseOcspRequest(requestDer);
    } catch (e) {
      if (isSignetError(e) && e.code === 'ERR_OCSP_MALFORMED_REQUEST') return { der: ocspStatusResponse('malformedRequest'), outcome: 'malformedRequest', code: e.code };
      throw e;
    }
    const now = this.#o.clock.now().getTime();
    const single = request.certIds.length === 1 && request.nonce === undefined ? (request.certIds[0] as OcspCertId) : undefined;
    const key = single === undefined ? undefined : Buffer.from(single.der.buffer, single.der.byteOffset, single.der.byteLength).toString('latin1');
    const kept = key === undefined ? undefined : this.#kept.get(key);
    if (kept !== undefined && now < kept.refreshAt) {
      kept.hot = true;
      if (alias !== undefined) this.#alias(kept, alias);
      return { der: kept.der, outcome: 'cached', caching: kept };
    }
    // RFC 5019 §2.2.3: a request about an issuer this responder does not serve is `unauthorized`.
    if (!request.certIds.every((id) => this.#ours(id))) return { der: ocspStatusResponse('unauthorized'), outcome: 'unauthorized', code: 'ERR_OCSP_UNAUTHORIZED' };
    const epoch = this.#epoch;
    let signed;
    try {
      signed = await this.#sign(request.certIds, request.nonce);
    } catch (e) {
      if (!isSignetError(e) || (e.code !== 'ERR_STORE_UNAVAILABLE' && e.code !== 'ERR_STORE_BUSY')) throw e;
      // The database is away: what was signed stays true until its nextUpdate.
      if (kept !== undefined && now < kept.nextUpdate.getTime()) return { der: kept.der, outcome: 'stale', caching: kept, code: e.code };
      return { der: ocspStatusResponse('tryLater'), outcome: 'tryLater', code: e.code };
    }
    if (single === undefined || key === undefined) return { der: signed.der, outcome: 'signed' };
    if (epoch !== this.#epoch) return { der: signed.der, outcome: 'signed', caching: { ...signed, etag: etagOf(signed.der) } };
    const entry = this.#keep(single, key, signed);
    if (alias !== undefined) this.#alias(entry, alias);
    return { der: signed.der, outcome: 'signed', caching: entry };
  }

  #alias(entry: Kept, alias: string): void {
    if (this.#aliases.get(alias) === entry) return;
    if (alias.length > MAX_ALIAS_LENGTH) return;
    const list = (entry.aliases ??= []);
    if (list.length >= MAX_ALIASES) return;
    list.push(alias);
    this.#aliases.set(alias, entry);
  }

  /**
   * One watcher tick: drops kept responses of certificates revoked since the last tick, replaces
   * the responder certificate when due, and signs again the hot responses that fall due before
   * the next tick.
   */
  async maintain(): Promise<OcspMaintenance> {
    const store = this.#o.store;
    let evicted = 0;
    for (;;) {
      const page = await store.revocations.revokedSince(this.#seq, REVOKED_PAGE);
      if (page.length === 0) break;
      this.#epoch++;
      for (const { serial } of page) {
        for (const key of this.#bySerial.get(serial) ?? []) {
          const entry = this.#kept.get(key);
          if (entry === undefined) continue;
          this.#kept.delete(key);
          this.#unalias(entry);
          evicted++;
        }
        this.#bySerial.delete(serial);
      }
      // A bulk revocation gives a whole batch one number, so a full page may end inside a batch:
      // the last number is then read again with the next page (dropping twice is harmless).
      const full = page.length === REVOKED_PAGE;
      const first = (page[0] as { seq: bigint }).seq;
      const last = (page[page.length - 1] as { seq: bigint }).seq;
      this.#seq = full && first !== last ? last - 1n : last;
      if (!full) break;
    }
    let rotated: ResponderIdentity | undefined;
    if (this.#o.clock.now().getTime() >= this.#identity.renewAt.getTime()) {
      await this.#rotate();
      rotated = this.identity;
    }
    const horizon = this.#o.clock.now().getTime() + 2 * this.#o.tickMs;
    const due: Kept[] = [];
    for (const k of this.#kept.values()) {
      if (k.hot && k.serial !== undefined && k.refreshAt <= horizon) due.push(k);
      if (due.length >= MAX_REFRESH_PER_TICK) break;
    }
    let refreshed = 0;
    for (const k of due) {
      const epoch = this.#epoch;
      const signed = await this.#sign([k.id], undefined);
      if (epoch === this.#epoch && this.#kept.get(k.key) === k) {
        this.#keep(k.id, k.key, signed);
        refreshed++;
      }
    }
    return { evicted, refreshed, ...(rotated !== undefined && { rotated }) };
  }
}

/** A strong validator of a response: its digest. */
function etagOf(der: Uint8Array): string {
  return `"${createHash('sha256').update(der).digest('base64url').slice(0, 22)}"`;
}
