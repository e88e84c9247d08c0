/**
 * A trust domain this CA serves, at run time: its JWT-SVID signing keys with rotation, and its
 * published bundle. Every replica of the CA shares both through the store.
 *
 * JWT key rotation (lifetime L, `spiffe.jwtKeyLifetime`):
 *  - the first key signs from the moment it is made (no peer holds an older bundle);
 *  - once the signing key is half way through its life, the next key is made and published at
 *    once, and starts signing at 5/6 of the current key's life — a third of L after peers could
 *    first fetch it (the refresh hint is at most L/6, config.ts);
 *  - a key stays in the bundle until it expires, and no JWT-SVID outlives the key that signed it
 *    (its `exp` is capped), so the bundle keeps every key a live token needs;
 *  - expired keys are deleted.
 * Private keys are stored as encrypted PKCS#8 (the intermediate key's password), decrypted once
 * per replica when first used.
 *
 * The bundle (SPIFFE Trust Domain and Bundle standard §4): the root certificate as the X.509
 * authority, the live JWT keys, the refresh hint; its `spiffe_sequence` grows by one with every
 * change (the store publishes a new document only when its digest changes), so every replica
 * serves the same document with the same sequence.
 */
import { createHash, createPublicKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { SignetError } from '../core/errors.js';
import { generateKeyAsync, type KeySpec } from '../crypto/key-spec.js';
import { encodePrivateKeyPem, parsePrivateKey } from '../crypto/keys.js';
import type { KeyTypeName, SpiffeSettings } from '../ca/config.js';
import type { BundleRecord, JwtKeyRecord, Store } from '../store/store.js';
import { formatBundle, type TrustBundle } from './bundle.js';
import { mintJwtSvids } from './jwt-svid.js';
import { parseSpiffeId, type SpiffeId } from './id.js';
import type { Certificate } from '../x509/certificate.js';

/** The {@link KeySpec} of a config key type name (`EC P-256` → `p256`). */
function keySpecOf(name: KeyTypeName): KeySpec {
  return name.replace(/^EC P-/, 'p').replace(/^RSA /, 'rsa').toLowerCase() as KeySpec;
}

/**
 * The trust domains a CA certificate serves: those of its `spiffe://<trust domain>` URI SANs
 * (an X509-SVID signing certificate, `ca init --trust-domain`).
 */
export function servedTrustDomains(ca: Certificate): string[] {
  return (ca.ext.subjectAltName ?? []).flatMap((n) => {
    if (n.type !== 'uri' || !n.value.startsWith('spiffe://')) return [];
    try {
      const id = parseSpiffeId(n.value);
      return id.path === '' ? [id.trustDomain] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The SPIFFE ID of the CA server of `trustDomain` (its TLS certificate carries it): what an
 * `https_spiffe` federation peer expects from the bundle endpoint. Paths under `/signet/` are
 * reserved for Signet's own identities (the server, node agents); no entry may use them.
 */
export function serverSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/signet/server`;
}

/** What one {@link TrustDomainService.maintain} did. */
export interface TrustDomainMaintenance {
  readonly trustDomain: string;
  /** The key made (the first one, or the next one prepared). */
  readonly created?: { readonly kid: string; readonly activatesAt: Date; readonly expiresAt: Date };
  /** Expired keys deleted. */
  readonly pruned: number;
  /** The bundle's sequence after this run, and whether this run published it. */
  readonly sequence: bigint;
  readonly published: boolean;
}

/** What {@link TrustDomainService} needs. */
export interface TrustDomainOptions {
  readonly trustDomain: string;
  readonly store: Store;
  readonly clock: Clock;
  readonly settings: SpiffeSettings;
  /** The trust anchors of the domain's X509-SVIDs (DER): the CA's root. */
  readonly x509Authorities: readonly Uint8Array[];
  /** Encrypts the JWT signing keys at rest: the intermediate key's password. */
  readonly password: string;
}

/** A minted JWT-SVID. */
export interface MintedJwtSvid {
  readonly token: string;
  readonly kid: string;
  readonly expiresAt: Date;
}

/** See the module comment. */
export class TrustDomainService {
  readonly #o: TrustDomainOptions;
  /** The live keys as last read from the store, by activation time. */
  #keys: readonly JwtKeyRecord[] = [];
  readonly #public = new Map<string, KeyObject>();
  readonly #private = new Map<string, KeyObject>();
  #bundle: BundleRecord | undefined;

  constructor(options: TrustDomainOptions) {
    if (options.password === '') throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'a CA that serves a SPIFFE trust domain needs an encrypted intermediate key: its password encrypts the JWT signing keys in the store');
    this.#o = options;
  }

  get trustDomain(): string {
    return this.#o.trustDomain;
  }

  /** The bundle document as last published (undefined before the first {@link maintain} or {@link refresh}). */
  get bundle(): BundleRecord | undefined {
    return this.#bundle;
  }

  /** The signing key at `at`: the live key activated last (ties: the larger key ID, as on every replica). */
  #signing(at: Date): JwtKeyRecord | undefined {
    const t = at.getTime();
    let best: JwtKeyRecord | undefined;
    for (const k of this.#keys) {
      if (k.activatesAt.getTime() <= t && k.expiresAt.getTime() > t && (best === undefined || k.activatesAt.getTime() > best.activatesAt.getTime() || (k.activatesAt.getTime() === best.activatesAt.getTime() && k.kid > best.kid))) best = k;
    }
    return best;
  }

  /** Reads the live keys and the published bundle from the store (what another replica made). */
  async refresh(): Promise<void> {
    const now = this.#o.clock.now();
    this.#keys = await this.#o.store.spiffe.jwtKeys(this.#o.trustDomain, now);
    const live = new Set(this.#keys.map((k) => k.kid));
    for (const k of this.#keys) {
      if (!this.#public.has(k.kid)) this.#public.set(k.kid, createPublicKey({ key: JSON.parse(k.publicJwk) as JsonWebKey, format: 'jwk' }));
    }
    for (const kid of [...this.#public.keys()]) if (!live.has(kid)) this.#public.delete(kid);
    for (const kid of [...this.#private.keys()]) if (!live.has(kid)) this.#private.delete(kid);
    this.#bundle = await this.#o.store.spiffe.getBundle(this.#o.trustDomain);
  }

  /** The bundle as it should be now: the X.509 authorities, the live JWT keys, the refresh hint. */
  #currentBundle(): TrustBundle {
    const jwt = new Map<string, KeyObject>();
    for (const k of this.#keys) jwt.set(k.kid, this.#public.get(k.kid) as KeyObject);
    return { trustDomain: this.#o.trustDomain, x509Authorities: this.#o.x509Authorities, jwtAuthorities: jwt, refreshHintSeconds: Math.max(1, Math.round(this.#o.settings.refreshHintMs / 1000)) };
  }

  async #createKey(activatesAt: Date, now: Date): Promise<JwtKeyRecord> {
    const { privateKey, publicKey } = await generateKeyAsync(keySpecOf(this.#o.settings.jwtKeyType));
    const jwk = publicKey.export({ format: 'jwk' });
    const record: JwtKeyRecord = {
      kid: randomBytes(24).toString('base64url'),
      trustDomain: this.#o.trustDomain,
      publicJwk: JSON.stringify(jwk),
      privateKey: encodePrivateKeyPem(privateKey, this.#o.password),
      createdAt: now,
      activatesAt,
      expiresAt: new Date(activatesAt.getTime() + this.#o.settings.jwtKeyLifetimeMs),
    };
    await this.#o.store.spiffe.addJwtKey(record);
    this.#private.set(record.kid, privateKey);
    return record;
  }

  /**
   * One rotation step and a publication of the bundle (see the module comment). Run by one
   * replica at a time (a lease), and at start; concurrent runs are harmless — at worst two keys
   * are made for one step and both are published, and every replica signs with the same one.
   */
  async maintain(): Promise<TrustDomainMaintenance> {
    const now = this.#o.clock.now();
    const L = this.#o.settings.jwtKeyLifetimeMs;
    await this.refresh();
    let created: JwtKeyRecord | undefined;
    const current = this.#signing(now);
    if (current === undefined) {
      // No key signs now: the first key (or the CA was stopped past its keys' lives) signs at once.
      if (!this.#keys.some((k) => k.activatesAt.getTime() > now.getTime())) created = await this.#createKey(now, now);
    } else if (now.getTime() >= current.activatesAt.getTime() + L / 2 && !this.#keys.some((k) => k.activatesAt.getTime() > current.activatesAt.getTime())) {
      created = await this.#createKey(new Date(Math.max(now.getTime(), current.activatesAt.getTime() + Math.floor((5 * L) / 6))), now);
    }
    const pruned = await this.#o.store.spiffe.pruneJwtKeys(this.#o.trustDomain, now);
    await this.refresh();
    const bundle = this.#currentBundle();
    const digest = createHash('sha256').update(formatBundle(bundle)).digest('hex');
    const { bundle: stored, changed } = await this.#o.store.spiffe.publishOwnBundle(this.#o.trustDomain, digest, (sequence) => formatBundle({ ...bundle, sequence: Number(sequence) }), now);
    this.#bundle = stored;
    return {
      trustDomain: this.#o.trustDomain,
      ...(created !== undefined ? { created: { kid: created.kid, activatesAt: created.activatesAt, expiresAt: created.expiresAt } } : {}),
      pruned,
      sequence: stored.sequence,
      published: changed,
    };
  }

  /**
   * Signs a JWT-SVID for `id` (of this trust domain) with the signing key of now; its lifetime is
   * `ttlMs` capped at the key's expiry. ERR_SPIFFE_NOT_READY when no key signs yet (a replica
   * that has not read the key another one just made: it will at its next refresh).
   */
  async mint(id: SpiffeId, audience: readonly string[], ttlMs: number): Promise<MintedJwtSvid> {
    if (id.trustDomain !== this.#o.trustDomain) throw this.#foreign(id);
    const [minted] = await this.mintMany([{ id, audience, ttlMs }]);
    if (minted === undefined) throw new SignetError('ERR_INTERNAL', 'no JWT-SVID was minted');
    if (minted instanceof SignetError) throw minted;
    return minted;
  }

  /** The refusal of an ID of another trust domain (nothing is signed for it). */
  #foreign(id: SpiffeId): SignetError {
    return new SignetError('ERR_FORBIDDEN_NAMES', `${id.toString()} is not in trust domain ${this.#o.trustDomain}`);
  }

  /**
   * {@link mint} for several JWT-SVIDs at once (an agent's batch): one signing key for all of
   * them, all signed one after the other. Each item is the minted SVID or why it was refused;
   * ERR_SPIFFE_NOT_READY (thrown) when there is no key to sign with at all.
   */
  async mintMany(requests: readonly { readonly id: SpiffeId; readonly audience: readonly string[]; readonly ttlMs: number }[]): Promise<(MintedJwtSvid | SignetError)[]> {
    const now = this.#o.clock.now();
    let key = this.#signing(now);
    if (key === undefined) {
      await this.refresh();
      key = this.#signing(now);
    }
    if (key === undefined) throw new SignetError('ERR_SPIFFE_NOT_READY', `trust domain ${this.#o.trustDomain} has no JWT signing key yet`, { hint: 'try again in a moment' });
    let privateKey = this.#private.get(key.kid);
    if (privateKey === undefined) {
      privateKey = parsePrivateKey(new TextEncoder().encode(key.privateKey), this.#o.password);
      this.#private.set(key.kid, privateKey);
    }
    // Whole seconds: exp is in seconds, and it must not pass the key's expiry.
    const left = Math.floor((key.expiresAt.getTime() - now.getTime()) / 1000) * 1000;
    if (left < 1000) throw new SignetError('ERR_SPIFFE_NOT_READY', `the JWT signing key of ${this.#o.trustDomain} is about to expire`, { hint: 'try again in a moment' });
    const { kid } = key;
    const signingKey = privateKey;
    const second = Math.floor(now.getTime() / 1000) * 1000;
    // Nothing is signed for an ID of another trust domain.
    const mine = requests.filter((r) => r.id.trustDomain === this.#o.trustDomain);
    const tokens = mintJwtSvids(mine.map((r) => ({ id: r.id, audience: r.audience, key: signingKey, kid, now, ttlMs: Math.min(r.ttlMs, left) })));
    let next = 0;
    return requests.map((r) => {
      if (r.id.trustDomain !== this.#o.trustDomain) return this.#foreign(r.id);
      const token = tokens[next++];
      if (token === undefined) return new SignetError('ERR_INTERNAL', 'no JWT-SVID was minted');
      if (token instanceof SignetError) return token;
      return { token, kid, expiresAt: new Date(second + Math.floor(Math.min(r.ttlMs, left) / 1000) * 1000) };
    });
  }
}
