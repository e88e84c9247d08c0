/**
 * CRL publication (RFC 5280 §5): one replica at a time (a lease in the database) signs a new CRL
 * when something was revoked since the last one, or when the last one is due for refresh; every
 * replica serves the newest stored CRL. The CRL number comes from a counter in the database, so
 * numbers grow across replicas and restarts and are never repeated.
 *
 * "Within seconds of a revocation": every revocation (every bulk batch) commits with the next value of the
 * revocation sequence (store.ts `RevocationRepository`); a CRL records the sequence it was built
 * at, read *before* its entries (a revocation holding a lower number has committed by then), so
 * "sequence now > sequence of the latest CRL" is exactly "something is missing from it".
 *
 * Partitions (`revocation.crl.shards`): each certificate names one partition's CRL in its CRL
 * distribution point (`crlUrl/k`; partition 0 is the CRL at `crlUrl` itself, which every
 * certificate issued without partitions names), and one publisher per partition signs a CRL of
 * that partition's entries only, when a revocation touched it. The CRL number counter is the
 * issuer's, shared by its partitions, so numbers never repeat.
 */
import type { Clock } from '../core/clock.js';
import type { Signer } from '../crypto/signer.js';
import type { CrlRecord, RevokedEntry, Store } from '../store/store.js';
import { signCrl, type CrlEntryInput } from '../x509/crl-builder.js';
import { issuerFromCertificate } from '../x509/certificate-builder.js';
import { parseCertificate } from '../x509/certificate.js';
import { MAX_REVOKED_PAGE } from '../store/revocations.js';

/** The URL of CRL partition `shard` of the CRL at `base`: `base` itself for 0, `base/k` for k. */
export function crlPartitionUrl(base: string, shard: number): string {
  return shard === 0 ? base : `${base.replace(/\/+$/, '')}/${shard}`;
}

/** How many signed CRLs of an issuer the store keeps (the newest is served; older ones help incident review). */
export const CRLS_KEPT = 5;

/** What {@link CrlPublisher} needs. */
export interface CrlPublisherOptions {
  readonly store: Store;
  /** The issuing CA's certificate (DER) and signer: it signs its own CRL. */
  readonly issuer: Uint8Array;
  readonly signer: Signer;
  readonly clock: Clock;
  /** nextUpdate − thisUpdate. */
  readonly validityMs: number;
  /** Sign a new CRL at least this often. */
  readonly refreshMs: number;
  /** The URL the CRL is published at (its issuingDistributionPoint), read at each signing (a reload may change it); undefined: none. */
  readonly url: () => string | undefined;
  /** The CRL partition (0, the default: the CRL at `crlUrl` itself). */
  readonly shard?: number;
}

/** The CRL a replica serves: the newest stored one. */
export interface ServedCrl {
  readonly number: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: number;
  readonly der: Uint8Array;
}

/** Why a CRL was signed, or why not. */
export type CrlDecision = 'first' | 'revocations' | 'refresh' | 'current';

/** Signs, stores and serves the issuing CA's CRL. */
export class CrlPublisher {
  readonly #o: CrlPublisherOptions;
  readonly #issuerSerial: string;
  readonly #issuerName: Uint8Array;
  readonly #keyIdentifier: Uint8Array;
  readonly #shard: number;
  #served: ServedCrl | undefined;
  /** A revocation sequence up to which nothing of this partition was revoked after its latest CRL (this replica's memory). */
  #quietUpTo = 0n;

  constructor(options: CrlPublisherOptions) {
    this.#o = options;
    this.#issuerSerial = parseCertificate(options.issuer).serialHex;
    const issuer = issuerFromCertificate(options.issuer);
    this.#issuerName = issuer.name;
    // issuerFromCertificate falls back to the key's hash when the certificate has no SKI.
    this.#keyIdentifier = issuer.keyIdentifier as Uint8Array;
    this.#shard = options.shard ?? 0;
  }

  /** The CRL partition this publisher signs. */
  get shard(): number {
    return this.#shard;
  }

  /** The serial of the issuing CA certificate whose CRL this is. */
  get issuerSerial(): string {
    return this.#issuerSerial;
  }

  /**
   * Whether a new CRL is due now, given the newest stored one: none yet (`first`), something
   * revoked since (`revocations`), or older than the refresh period (`refresh`); `current`: not due.
   * `sequence`: the revocation sequence read this tick (the partitions of one CA share one read).
   */
  async due(now: Date, sequence?: bigint): Promise<CrlDecision> {
    const revocations = this.#o.store.revocations;
    const latest = await revocations.latestCrl(this.#issuerSerial, this.#shard, false);
    if (latest === undefined) return 'first';
    const seq = sequence ?? (await revocations.sequence());
    const checked = latest.revocationSeq > this.#quietUpTo ? latest.revocationSeq : this.#quietUpTo;
    if (seq > checked) {
      // Read after the sequence: every revocation numbered up to it has committed.
      if (await revocations.revokedInShardSince(this.#issuerSerial, this.#shard, checked)) return 'revocations';
      this.#quietUpTo = seq;
    }
    if (now.getTime() - latest.thisUpdate.getTime() >= this.#o.refreshMs) return 'refresh';
    // A clock that went back past thisUpdate: sign anew so that thisUpdate is never in the future.
    if (latest.thisUpdate.getTime() > now.getTime()) return 'refresh';
    return 'current';
  }

  /** Builds, signs and stores a new CRL of every unexpired revoked certificate of the issuer. */
  async generate(): Promise<CrlRecord> {
    const store = this.#o.store;
    // The sequence first: every revocation numbered up to it has committed, so its entries are read below.
    const seq = await store.revocations.sequence();
    const now = this.#o.clock.now();
    const entries: CrlEntryInput[] = [];
    let after: RevokedEntry | undefined;
    for (;;) {
      const page = await store.revocations.listRevoked(this.#issuerSerial, this.#shard, now, after, MAX_REVOKED_PAGE);
      for (const e of page) entries.push(e);
      if (page.length < MAX_REVOKED_PAGE) break;
      after = page[page.length - 1];
    }
    const number = await store.coordination.nextCounterValue(`crl-number:${this.#issuerSerial}`);
    // Whole seconds: the DER times carry no fractions, and Last-Modified compares in seconds.
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + this.#o.validityMs);
    const url = this.#o.url();
    const der = signCrl(
      { issuerName: this.#issuerName, issuerKeyIdentifier: this.#keyIdentifier, number, thisUpdate, nextUpdate, ...(url !== undefined && { url }) },
      entries,
      this.#o.signer,
    );
    const record: CrlRecord = { issuerSerial: this.#issuerSerial, number, thisUpdate, nextUpdate, revocationSeq: seq, entries: entries.length, der, shard: this.#shard };
    await store.revocations.saveCrl(record, CRLS_KEPT);
    // Serve it at once: the next refresh then finds it current instead of reading it back.
    if (this.#served === undefined || number > this.#served.number) this.#served = { number, thisUpdate, nextUpdate, entries: entries.length, der };
    return record;
  }

  /** Signs a new CRL when one is due; returns why (or `current`) and the CRL signed. `sequence` as for {@link due}. */
  async publishIfDue(sequence?: bigint): Promise<{ readonly decision: CrlDecision; readonly crl?: CrlRecord }> {
    const decision = await this.due(this.#o.clock.now(), sequence);
    if (decision === 'current') return { decision };
    return { decision, crl: await this.generate() };
  }

  /**
   * Loads the newest stored CRL when it is not the one served (a cheap check otherwise); returns
   * the CRL served now, or undefined while none was signed yet.
   */
  async refresh(): Promise<ServedCrl | undefined> {
    const store = this.#o.store;
    const latest = await store.revocations.latestCrl(this.#issuerSerial, this.#shard, false);
    if (latest !== undefined && latest.number !== this.#served?.number) {
      const full = await store.revocations.latestCrl(this.#issuerSerial, this.#shard, true);
      if (full !== undefined) this.#served = { number: full.number, thisUpdate: full.thisUpdate, nextUpdate: full.nextUpdate, entries: full.entries, der: full.der };
    }
    return this.#served;
  }

  /** The CRL served now (as of the last {@link refresh}). */
  served(): ServedCrl | undefined {
    return this.#served;
  }
}
