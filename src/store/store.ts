/**
 * The store port (DESIGN.md "Seams"): typed repositories for the certificate inventory, used
 * one-time tokens and the audit log. This file holds interfaces only — no SQL, no driver — so the
 * authority depends on the port and the SQLite (now) and PostgreSQL (next) implementations plug
 * in behind it. One conformance suite (test/store/conformance.ts) runs against every
 * implementation.
 *
 * Conventions every implementation keeps:
 * - serials are the lower-case hex of the serial number's magnitude, two digits per octet, no
 *   separators and no leading `00` octet (RFC 5280 §4.1.2.2: positive, at most 20 octets);
 * - times are stored as integer epoch milliseconds, so a `Date` comes back exactly as it went in;
 * - optional fields that are absent come back absent (not `undefined`, not `null`);
 * - every method is atomic: a failed call leaves nothing behind;
 * - a malformed argument to a write (insert, revoke, markReplaced, consume, append) is a bug in the
 *   caller: ERR_STORE_INVALID_RECORD; a malformed read (get, list) may come from an API user:
 *   ERR_STORE_BAD_QUERY.
 */

/** The kinds of names indexed for a certificate: SAN types (RFC 5280 §4.2.1.6) and the subject CN. */
export type CertificateNameType = 'dns' | 'ip' | 'email' | 'uri' | 'cn';

/** One name a certificate is valid for, as written in it (DNS names are matched case-insensitively). */
export interface CertificateName {
  readonly type: CertificateNameType;
  readonly value: string;
}

/** Where a certificate stands. Expiry is not a status: it follows from `notAfter`. */
export type CertificateStatus = 'valid' | 'revoked';

/** One issued certificate in the inventory (DESIGN.md principle 4: who, how, for what, until when, replaced by what). */
export interface CertificateRecord {
  /** Lower-case hex of the serial's magnitude (see the module comment). Primary key. */
  readonly serial: string;
  /** Serial of the issuing CA certificate, when that certificate is known. */
  readonly issuerSerial?: string;
  /** The subject DN as text (RFC 4514); empty for a subject-less certificate. */
  readonly subject: string;
  /** The names the certificate is valid for, in certificate order. */
  readonly names: readonly CertificateName[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the SubjectPublicKeyInfo DER, 64 lower-case hex digits. */
  readonly keyFingerprint: string;
  /** The key type as Signet names it, e.g. `EC P-256`, `RSA 2048`, `Ed25519`. */
  readonly keyType: string;
  /** Name of the provisioner that authorized the issuance. */
  readonly provisioner: string;
  /** Who asked (the token subject, the ACME account, …). */
  readonly requester: string;
  /** The profile or template the certificate was built from. */
  readonly profile: string;
  readonly status: CertificateStatus;
  /** When the certificate was revoked; present exactly when `status` is `revoked`. */
  readonly revokedAt?: Date;
  /** The revocation reason (RFC 5280 §5.3.1 name, e.g. `keyCompromise`), when one was given. */
  readonly revocationReason?: string;
  /** Serial of the certificate that replaced this one (renewal). */
  readonly replacedBy?: string;
  /** Serial of the certificate this one replaced. */
  readonly replaces?: string;
  /** When the authority issued (signed) it. */
  readonly issuedAt: Date;
  /** The certificate's DER. */
  readonly der: Uint8Array;
}

/**
 * Which certificates {@link CertificateRepository.list} returns; all given conditions must hold.
 * Ranges are half-open so that `…Before: T` and `…After: T` partition the inventory.
 */
export interface CertificateFilter {
  readonly status?: CertificateStatus;
  /** `notAfter < expiresBefore`. */
  readonly expiresBefore?: Date;
  /** `notAfter ≥ expiresAfter` (the complement of `expiresBefore`). */
  readonly expiresAfter?: Date;
  /** `issuedAt < issuedBefore`. */
  readonly issuedBefore?: Date;
  /** `issuedAt ≥ issuedAfter`. */
  readonly issuedAfter?: Date;
  readonly provisioner?: string;
  /**
   * A name the certificate is valid for: an exact value of any type (DNS names and CNs compare
   * case-insensitively), or `*.example.com` for any DNS name or CN under `example.com` (at any
   * depth, including wildcard names such as `*.a.example.com`; not `example.com` itself).
   */
  readonly name?: string;
  /** SHA-256 of the SubjectPublicKeyInfo, 64 lower-case hex digits. */
  readonly keyFingerprint?: string;
  /** Only these serials (at most 1000). An empty list matches nothing. */
  readonly serials?: readonly string[];
  /** `true`: only certificates that have been replaced; `false`: only those that have not. */
  readonly replaced?: boolean;
}

/** A page request. Results come in a stable order: by `issuedAt`, then `serial`. */
export interface PageRequest {
  /** 1…1000; default 100. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page; opaque. */
  readonly cursor?: string;
}

/** One page of results. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Present when more results may follow; pass it as `cursor` to get them. */
  readonly nextCursor?: string;
}

/** Outcome of {@link CertificateRepository.revoke}. */
export type RevokeResult = 'revoked' | 'already-revoked' | 'not-found';

/** Outcome of {@link CertificateRepository.markReplaced}. */
export type ReplaceResult = 'replaced' | 'already-replaced' | 'not-found';

/** The certificate inventory. */
export interface CertificateRepository {
  /**
   * Records a newly issued certificate and its names. `ERR_STORE_DUPLICATE_SERIAL` when the serial
   * exists (serials are unique cluster-wide, enforced by the primary key);
   * `ERR_STORE_INVALID_RECORD` when the record breaks the conventions above.
   */
  insert(record: CertificateRecord): Promise<void>;
  /** The certificate with this serial, or `undefined` (ERR_STORE_BAD_QUERY for a serial not in the store's form). */
  get(serial: string): Promise<CertificateRecord | undefined>;
  /** Certificates matching `filter`, one page at a time (`ERR_STORE_BAD_QUERY` for a bad limit, cursor or filter). */
  list(filter?: CertificateFilter, page?: PageRequest): Promise<Page<CertificateRecord>>;
  /**
   * Records that `bySerial` (already inserted) replaced `serial`. The first replacement wins:
   * a second one returns `already-replaced` and changes nothing, so a renewal that forks the
   * chain can be refused by rolling back the transaction.
   */
  markReplaced(serial: string, bySerial: string): Promise<ReplaceResult>;
  /** Revokes a valid certificate; revoking twice keeps the first time and reason. */
  revoke(serial: string, revocation: { readonly at: Date; readonly reason?: string }): Promise<RevokeResult>;
}

/** A one-time token seen by the authority (RFC 7519 §4.1.7 `jti`). */
export interface TokenUse {
  /** The provisioner that issued the token (its `iss`). */
  readonly provisioner: string;
  /** The token's `jti`. */
  readonly jti: string;
  /**
   * Until when the token could still be accepted — its `exp` plus the verifier's leeway. The row
   * is kept until then; purging it earlier would let the token be replayed.
   */
  readonly expiresAt: Date;
}

/** Used one-time tokens, shared through the database so that any replica can refuse a replay. */
export interface TokenRepository {
  /**
   * Marks the token used. `true` the first time only; enforced by the primary key
   * (provisioner, jti), so of any number of concurrent consumers, on any connection, exactly one
   * gets `true`.
   */
  consume(token: TokenUse): Promise<boolean>;
  /** Deletes the tokens with `expiresAt < now`; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

/** Whether the audited action succeeded. */
export type AuditOutcome = 'success' | 'failure';

/** An audit event to record. Never put secrets (tokens, keys, passwords) in it. */
export interface AuditEventInput {
  readonly time: Date;
  /** What happened, e.g. `certificate.issue`, `certificate.revoke`, `token.replay`. */
  readonly type: string;
  readonly outcome: AuditOutcome;
  /** Who did it (token subject, account, operator). */
  readonly actor: string;
  readonly provisioner?: string;
  /** The certificate concerned. */
  readonly serial?: string;
  /** Why it failed, or the reason given. */
  readonly reason?: string;
  /** Structured extra data; must survive `JSON.stringify` (at most 64 KiB of JSON). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A recorded audit event. */
export interface AuditEvent extends AuditEventInput {
  /** Assigned by the store, increasing in the order events were appended. */
  readonly id: number;
}

/** Which audit events {@link AuditRepository.list} returns. */
export interface AuditQuery {
  /** `time ≥ since`. */
  readonly since?: Date;
  /** `time < until`. */
  readonly until?: Date;
  readonly type?: string;
  readonly serial?: string;
  /** 1…1000; default 100. */
  readonly limit?: number;
}

/** The append-only audit log. */
export interface AuditRepository {
  /** Appends an event; returns its id. */
  append(event: AuditEventInput): Promise<number>;
  /** Events matching `query`, newest first (by time, then id). */
  list(query?: AuditQuery): Promise<readonly AuditEvent[]>;
}

/** The repositories bound to one transaction. Valid only until the transaction ends. */
export interface StoreTx {
  readonly certificates: CertificateRepository;
  readonly tokens: TokenRepository;
  readonly audit: AuditRepository;
  readonly coordination: CoordinationRepository;
}

/**
 * What replicas of one CA coordinate through the database (DESIGN.md "Scale": nothing that must be
 * unique lives in process memory): leases, so that a periodic job runs on one replica at a time,
 * and counters that grow strictly across every connection (CRL numbers).
 */
export interface CoordinationRepository {
  /**
   * Takes the lease `name` for `holder` until `now + ttlMs` when it is free, expired at `now`, or
   * already held by `holder` (then it is renewed). Resolves true when `holder` holds it afterwards.
   * Of concurrent calls by different holders for a free lease, exactly one gets it.
   */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Gives the lease up before it expires; does nothing unless `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The next value of the counter `name` (1 the first time): strictly increasing, never repeated, across every connection. */
  nextCounterValue(name: string): Promise<bigint>;
}

/** The one write of a new certificate authorized by a one-time token (`POST /sign`). */
export interface Issuance {
  readonly token: TokenUse;
  readonly certificate: CertificateRecord;
  readonly event: AuditEventInput;
}

/** A store: the repositories, transactions, and the connection's lifetime. */
export interface Store {
  readonly certificates: CertificateRepository;
  readonly tokens: TokenRepository;
  readonly audit: AuditRepository;
  /** Leases and counters; inside a transaction (`tx.coordination`) a counter value commits with the rest. */
  readonly coordination: CoordinationRepository;
  /**
   * Runs `fn` in one database transaction; the repositories passed to `fn` are bound to it.
   * Commits when `fn` resolves, rolls back (and rethrows) when it throws. Inside `fn`, use only
   * the `tx` repositories: calling this store's own repositories or `transaction` again is
   * refused with `ERR_INTERNAL` (on SQLite it would wait for itself forever).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Records an issuance atomically: consumes the token, inserts the certificate (with its names)
   * and appends the event — all of it, or nothing. `token-used` (nothing written) when the token
   * was consumed before; ERR_STORE_DUPLICATE_SERIAL (nothing written, the token not consumed) for
   * a serial already recorded. The same as doing the three in {@link transaction}; a backend may
   * do it in fewer round trips (PostgreSQL: one statement).
   */
  recordIssuance(issuance: Issuance): Promise<'recorded' | 'token-used'>;
  /** Waits for running operations, then closes the connection. Later calls fail with `ERR_STORE_CLOSED`. */
  close(): Promise<void>;
}
