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
  /** Since when the key is known or suspected to be compromised (RFC 5280 §5.3.2 invalidity date), when given. */
  readonly invalidAt?: Date;
  /** Serial of the certificate that replaced this one (renewal). */
  readonly replacedBy?: string;
  /** Serial of the certificate this one replaced. */
  readonly replaces?: string;
  /** The CRL partition its CRL distribution point names (1…); absent: the CRL at `crlUrl` itself (partition 0). */
  readonly crlShard?: number;
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
  /** Issued by the CA certificate with this serial (lower-case hex, the store's form). */
  readonly issuerSerial?: string;
  /**
   * A name the certificate is valid for: an exact value of any type (DNS names and CNs compare
   * case-insensitively), or `*.example.com` for any DNS name or CN under `example.com` (at any
   * depth, including wildcard names such as `*.a.example.com`; not `example.com` itself).
   */
  readonly name?: string;
  /** SHA-256 of the SubjectPublicKeyInfo, 64 lower-case hex digits. */
  readonly keyFingerprint?: string;
  /** Built from this profile or template (`leaf`, `ssh-user`, `ssh-host`, …). */
  readonly profile?: string;
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

/** What decides a certificate's state in an incident: revoked, expired, replaced or live. */
export interface CertificateState {
  readonly serial: string;
  readonly status: CertificateStatus;
  readonly notAfter: Date;
  /** Renewed or rekeyed: it names a successor. */
  readonly replaced: boolean;
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
   * The same selection and order as {@link list}, but only what decides a certificate's state
   * (no DER, no names): what an incident's survey and bulk revocation walk, a page at a time.
   */
  listStates(filter?: CertificateFilter, page?: PageRequest): Promise<Page<CertificateState>>;
  /**
   * Records that `bySerial` (already inserted) replaced `serial`. The first replacement wins:
   * a second one returns `already-replaced` and changes nothing, so a renewal that forks the
   * chain can be refused by rolling back the transaction.
   */
  markReplaced(serial: string, bySerial: string): Promise<ReplaceResult>;
  /**
   * Revokes a valid certificate; revoking twice keeps the first time and reason. A revocation
   * takes the next revocation sequence number in its transaction (see {@link RevocationRepository}).
   */
  revoke(serial: string, revocation: Revocation): Promise<RevokeResult>;
  /**
   * Revokes those of `serials` (at most 1000) that are not revoked yet, in one transaction and
   * with one revocation sequence number for all of them (bulk revocation: one number per batch);
   * returns the serials it revoked. Same lock order as {@link revoke}: the rows, then the counter.
   */
  revokeMany(serials: readonly string[], revocation: Revocation): Promise<string[]>;
}

/** When and why a certificate was revoked. */
export interface Revocation {
  readonly at: Date;
  /** RFC 5280 §5.3.1 reason name. */
  readonly reason?: string;
  /** RFC 5280 §5.3.2: since when the key is known or suspected to be compromised (not after `at`). */
  readonly invalidAt?: Date;
}

/** One entry of a CRL: a revoked certificate that has not expired. */
export interface RevokedEntry {
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason?: string;
  readonly invalidAt?: Date;
  readonly notAfter: Date;
}

/** A signed CRL as stored, so that every replica serves the same one. */
export interface CrlRecord {
  /** The issuing CA certificate's serial (the CRL covers what it issued). */
  readonly issuerSerial: string;
  readonly number: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Every revocation with a sequence number up to this one is in the CRL (unless its certificate expired). */
  readonly revocationSeq: bigint;
  readonly entries: number;
  readonly der: Uint8Array;
  /** The CRL partition: 0 for the CRL at `crlUrl`, k for `crlUrl/k`. */
  readonly shard: number;
}

/**
 * Revocation as the CRL and OCSP edges need it. Every revocation — every batch of a bulk
 * revocation ({@link CertificateRepository.revokeMany}) — commits with the next value of one
 * counter (its *sequence*); the counter is read after the revocations below it committed
 * (they hold its row until they commit), so "everything up to sequence N" is a snapshot a
 * replica can build a CRL from and then ask for what came after.
 */
export interface RevocationRepository {
  /** The sequence number of the latest committed revocation; 0 when there was none. */
  sequence(): Promise<bigint>;
  /**
   * Revoked certificates of `issuerSerial` in CRL partition `shard` that have not expired at `at`
   * (notAfter > at), in (notAfter, serial) order, after `after` (the last entry of the previous
   * page), at most `limit` (1…10,000).
   */
  listRevoked(issuerSerial: string, shard: number, at: Date, after: { readonly notAfter: Date; readonly serial: string } | undefined, limit: number): Promise<RevokedEntry[]>;
  /** Whether a certificate of `issuerSerial` in CRL partition `shard` was revoked with a sequence number above `since`. */
  revokedInShardSince(issuerSerial: string, shard: number, since: bigint): Promise<boolean>;
  /**
   * Serials revoked with a sequence number above `since`, at most `limit`, in sequence order, with
   * their sequence numbers. A batch shares one number, so a full page can end inside it: read on
   * from the page's last number minus one.
   */
  revokedSince(since: bigint, limit: number): Promise<{ readonly serial: string; readonly seq: bigint }[]>;
  /** Stores a signed CRL and deletes all but the `keep` latest of its issuer and partition. A number already stored for the issuer is ERR_STORE_INVALID_RECORD (numbers come from a counter). */
  saveCrl(crl: CrlRecord, keep: number): Promise<void>;
  /** The CRL of `issuerSerial`'s partition `shard` with the highest number; `withDer: false` leaves `der` empty (a cheap freshness check). */
  latestCrl(issuerSerial: string, shard: number, withDer: boolean): Promise<CrlRecord | undefined>;
  /** The highest CRL partition of `issuerSerial` with a stored CRL; 0 when there is none above 0. */
  highestCrlShard(issuerSerial: string): Promise<number>;
  /** The revocation status of the certificate with this serial (a primary-key read of a few columns, for OCSP); undefined: not issued here. */
  status(serial: string): Promise<CertificateStatusRecord | undefined>;
}

/** What OCSP says about one certificate. */
export interface CertificateStatusRecord {
  readonly serial: string;
  /** The issuing CA certificate's serial, when known. */
  readonly issuerSerial?: string;
  readonly status: CertificateStatus;
  readonly notAfter: Date;
  readonly revokedAt?: Date;
  readonly reason?: string;
  readonly invalidAt?: Date;
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
  readonly acme: AcmeRepository;
  readonly revocations: RevocationRepository;
  readonly spiffe: SpiffeRepository;
}

// ---------------------------------------------------------------------------------------------
// ACME (RFC 8555 §7.1): the server's objects. Ids are opaque URL-safe strings the ACME layer
// draws from the CSPRNG. Status changes are compare-and-set: an update names the status it
// expects and reports whether it applied, so of two replicas moving one object only one wins.

/** An ACME identifier (RFC 8555 §9.7.7: `dns`; RFC 8738: `ip`). */
export interface AcmeIdentifier {
  readonly type: 'dns' | 'ip';
  readonly value: string;
}

export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

/** An ACME account (RFC 8555 §7.1.2). */
export interface AcmeAccount {
  readonly id: string;
  readonly provisioner: string;
  /** RFC 7638 thumbprint of {@link jwk}: one account per key and provisioner. */
  readonly keyThumbprint: string;
  /** The account's public JWK. */
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly status: AcmeAccountStatus;
  readonly contact: readonly string[];
  readonly termsAgreed: boolean;
  /** The external account binding key the account was created with. */
  readonly eabKeyId?: string;
  readonly createdAt: Date;
}

/** Stored order states; `ready` is derived (pending with every authorization valid). */
export type AcmeOrderStatus = 'pending' | 'processing' | 'valid' | 'invalid';

/** An ACME problem document as stored (RFC 7807 members the server sets). */
export interface AcmeProblemRecord {
  readonly type: string;
  readonly detail: string;
  readonly status?: number;
  /** Per identifier (RFC 8555 §6.7.1); the identifier as the client sent it, whatever its type. */
  readonly subproblems?: readonly { readonly type: string; readonly detail: string; readonly identifier?: { readonly type: string; readonly value: string } }[];
}

/** An ACME order (RFC 8555 §7.1.3). */
export interface AcmeOrder {
  readonly id: string;
  readonly accountId: string;
  readonly status: AcmeOrderStatus;
  readonly identifiers: readonly AcmeIdentifier[];
  /** Authorization ids, one per identifier, in identifier order. */
  readonly authorizations: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly expiresAt: Date;
  readonly error?: AcmeProblemRecord;
  /** The issued certificate, once the order is valid. */
  readonly certificateSerial?: string;
  /** ARI (RFC 9773 §5): the serial of the certificate this order replaces. */
  readonly replaces?: string;
  readonly createdAt: Date;
}

export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'revoked';
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';

/** An ACME challenge (RFC 8555 §8). */
export interface AcmeChallenge {
  readonly id: string;
  readonly authorizationId: string;
  /** `http-01`, `dns-01`, `tls-alpn-01`. */
  readonly type: string;
  readonly token: string;
  readonly status: AcmeChallengeStatus;
  readonly validatedAt?: Date;
  readonly error?: AcmeProblemRecord;
  /** When the status or error last changed (validation retries and recovery read it). */
  readonly updatedAt: Date;
}

/** An ACME authorization (RFC 8555 §7.1.4) with its challenges. */
export interface AcmeAuthorization {
  readonly id: string;
  readonly accountId: string;
  /** The identifier without the `*.` of a wildcard. */
  readonly identifier: AcmeIdentifier;
  readonly wildcard: boolean;
  readonly status: AcmeAuthorizationStatus;
  readonly expiresAt: Date;
  readonly createdAt: Date;
  readonly challenges: readonly AcmeChallenge[];
}

/** An external account binding key (RFC 8555 §7.3.4). */
export interface AcmeEabKey {
  readonly keyId: string;
  readonly provisioner: string;
  readonly reference?: string;
  /** The HMAC key: shown to the operator once, never returned by an API. */
  readonly hmacKey: Uint8Array;
  /** The account it is bound to, once used. */
  readonly accountId?: string;
  readonly createdAt: Date;
  readonly boundAt?: Date;
}

/** The ACME server's state. */
export interface AcmeRepository {
  /**
   * Creates the account unless the provisioner already has one for its key: then returns that
   * one with `created: false` (RFC 8555 §7.3.1: the existing account's URL).
   */
  createAccount(account: AcmeAccount): Promise<{ readonly account: AcmeAccount; readonly created: boolean }>;
  getAccount(id: string): Promise<AcmeAccount | undefined>;
  findAccountByKey(provisioner: string, keyThumbprint: string): Promise<AcmeAccount | undefined>;
  /**
   * Changes contact, status or key of a `valid` account. `not-found`, `not-valid` (deactivated or
   * revoked: nothing changed), `key-in-use` (another account of the provisioner has the new key).
   */
  updateAccount(
    id: string,
    change: { readonly contact?: readonly string[]; readonly status?: AcmeAccountStatus; readonly jwk?: Readonly<Record<string, unknown>>; readonly keyThumbprint?: string },
  ): Promise<{ readonly result: 'updated'; readonly account: AcmeAccount } | { readonly result: 'not-found' | 'not-valid' | 'key-in-use' }>;
  /** Creates an order and the authorizations it names that are new (those with an id already stored are reused). */
  createOrder(order: AcmeOrder, newAuthorizations: readonly AcmeAuthorization[]): Promise<void>;
  getOrder(id: string): Promise<AcmeOrder | undefined>;
  /** The account's orders, oldest first, a page at a time (cursor as for certificates). */
  listOrders(accountId: string, page?: PageRequest): Promise<Page<AcmeOrder>>;
  /**
   * Moves an order from `from` to the change's status; false (nothing changed) when it was not
   * in `from`.
   */
  updateOrder(id: string, from: AcmeOrderStatus, change: { readonly status: AcmeOrderStatus; readonly error?: AcmeProblemRecord; readonly certificateSerial?: string }): Promise<boolean>;
  getAuthorization(id: string): Promise<AcmeAuthorization | undefined>;
  /** Authorizations by id (those that exist), with their challenges. */
  getAuthorizations(ids: readonly string[]): Promise<readonly AcmeAuthorization[]>;
  /** A valid authorization of the account for the identifier that is still valid at `validAt`, newest first. */
  findValidAuthorization(accountId: string, identifier: AcmeIdentifier, wildcard: boolean, validAt: Date): Promise<AcmeAuthorization | undefined>;
  /** Compare-and-set on an authorization's status. */
  updateAuthorization(id: string, from: AcmeAuthorizationStatus, to: AcmeAuthorizationStatus): Promise<boolean>;
  getChallenge(id: string): Promise<AcmeChallenge | undefined>;
  /** Compare-and-set on a challenge's status, with its error and validation time. */
  updateChallenge(
    id: string,
    from: AcmeChallengeStatus,
    change: { readonly status: AcmeChallengeStatus; readonly at: Date; readonly error?: AcmeProblemRecord; readonly validatedAt?: Date },
  ): Promise<boolean>;
  /** Challenges in `processing` not updated since `before` (a replica died validating them), at most `limit`. */
  staleChallenges(before: Date, limit: number): Promise<readonly AcmeChallenge[]>;
  addEabKey(key: AcmeEabKey): Promise<void>;
  getEabKey(keyId: string): Promise<AcmeEabKey | undefined>;
  listEabKeys(provisioner?: string): Promise<readonly AcmeEabKey[]>;
  /** Binds an unbound key to an account; false when it is bound already (or gone). */
  bindEabKey(keyId: string, accountId: string, at: Date): Promise<boolean>;
  /** Deletes a key; false when there was none. */
  removeEabKey(keyId: string): Promise<boolean>;
  /** The setting's value, creating it with `value` when absent (the first writer wins across replicas). */
  setting(name: string, value: string): Promise<string>;
  /** Sets (or replaces) the renewal window of each serial (at most 1000); returns how many were set. */
  setRenewalWindows(serials: readonly string[], window: RenewalWindow): Promise<number>;
  /** The window the operator set for a certificate, if any. */
  getRenewalWindow(serial: string): Promise<RenewalWindow | undefined>;
  /**
   * Deletes orders and authorizations (with their challenges) that expired before `before`,
   * at most `limit` of each per call; returns how many orders and authorizations went. Issued
   * certificates stay in the inventory.
   */
  purgeExpired(before: Date, limit: number): Promise<number>;
}

/** A renewal window the operator set (RFC 9773 `suggestedWindow`, with its `explanationURL`). */
export interface RenewalWindow {
  readonly start: Date;
  readonly end: Date;
  readonly explanationUrl?: string;
  /** When it was set. */
  readonly setAt: Date;
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

/** A JWT-SVID signing key of a served trust domain (shared by every replica). */
export interface JwtKeyRecord {
  /** The key ID (`kid`): URL-safe, unique across trust domains. */
  readonly kid: string;
  readonly trustDomain: string;
  /** The public key as a JWK (JSON text). */
  readonly publicJwk: string;
  /** The private key as encrypted PKCS#8 PEM. */
  readonly privateKey: string;
  readonly createdAt: Date;
  /** When it starts signing; it is published from {@link createdAt} on. */
  readonly activatesAt: Date;
  /** When it is dropped from the bundle: nothing it signed lives past it. */
  readonly expiresAt: Date;
}

/** A trust bundle the CA publishes (`own`) or fetched from a federated trust domain (`federated`). */
export interface BundleRecord {
  readonly trustDomain: string;
  readonly kind: 'own' | 'federated';
  /** The document as served (own) or as fetched (federated). */
  readonly document: string;
  /** SHA-256 (hex) of what the bundle says apart from its sequence: equal digests, equal bundles. */
  readonly digest: string;
  readonly sequence: bigint;
  readonly updatedAt: Date;
}

/** The SPIFFE bundle endpoint profiles (SPIFFE Federation standard §5). */
export type BundleEndpointProfile = 'https_web' | 'https_spiffe';

/** A federation relationship: a foreign trust domain whose bundle the CA fetches from its bundle endpoint. */
export interface FederationRecord {
  readonly trustDomain: string;
  /** The bundle endpoint URL (https). */
  readonly url: string;
  readonly profile: BundleEndpointProfile;
  /** https_spiffe: the SPIFFE ID the endpoint's server must present. */
  readonly endpointSpiffeId?: string;
  /** https_web: PEM certificates the endpoint's TLS certificate must chain to (else the system's roots). */
  readonly caCertificates?: string;
  readonly createdAt: Date;
  /** When the bundle is fetched next (its refresh hint after the last fetch). */
  readonly nextRefreshAt: Date;
  readonly lastSuccessAt?: Date;
  /** Why the last fetch failed (`CODE: message`), until one succeeds. */
  readonly lastError?: string;
}

/** A SPIFFE registration entry: who gets `spiffeId` — workloads (or nodes) under `parentId` whose attested selectors include all of `selectors`. */
export interface EntryRecord {
  /** Opaque, URL-safe; assigned by the caller. */
  readonly id: string;
  readonly spiffeId: string;
  /** An agent's or node entry's SPIFFE ID, or the server's for node entries. */
  readonly parentId: string;
  /** `type:value`, at least one, sorted, no repeats. */
  readonly selectors: readonly string[];
  readonly x509TtlMs?: number;
  readonly jwtTtlMs?: number;
  readonly dnsNames: readonly string[];
  /** Its SVID may call the admin API. */
  readonly admin: boolean;
  /** Its SVID may mint SVIDs for others (a nested CA). */
  readonly downstream: boolean;
  /** Trust domains whose bundles workloads of this entry receive. */
  readonly federatesWith: readonly string[];
  readonly hint?: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** The revision of its last change (store-assigned, strictly growing across all entries). */
  readonly revision: bigint;
  /** Set on a deleted entry (a tombstone, listed only by {@link SpiffeRepository.entriesSince}). */
  readonly deletedAt?: Date;
}

/** What {@link SpiffeRepository.createEntry} and {@link SpiffeRepository.updateEntry} write (the store sets revision and dates). */
export type EntryInput = Omit<EntryRecord, 'createdAt' | 'updatedAt' | 'revision' | 'deletedAt'>;

/** A filter of live entries (all given fields must match). */
export interface EntryFilter {
  readonly spiffeId?: string;
  readonly parentId?: string;
  /** Entries that have this selector among theirs. */
  readonly selector?: string;
}

/** A join token: a single-use secret an operator hands to a node so that its agent can attest. */
export interface JoinTokenRecord {
  /** Public, URL-safe: part of the agent's SPIFFE ID. */
  readonly id: string;
  /** SHA-256 (hex) of the secret; the secret itself is never stored. */
  readonly secretHash: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** The trust domain its agent joins; absent: any the CA serves (tokens made before migration 15). */
  readonly trustDomain?: string;
  readonly usedAt?: Date;
  /** The agent that used it. */
  readonly usedBy?: string;
}

/**
 * A TPM credential-activation challenge handed to an agent: only the hash of its secret (bound to
 * the EK and AK it was made for) is kept.
 */
export interface TpmChallengeRecord {
  /** Public, URL-safe. */
  readonly id: string;
  /** SHA-256 (hex). */
  readonly secretHash: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** What using a join token came to. */
export type JoinTokenUse = 'used' | 'unknown' | 'already-used' | 'expired' | 'wrong-trust-domain';

/** An attested node agent. */
export interface AgentRecord {
  readonly spiffeId: string;
  /** How it attested: `join_token`, `x509pop`, `tpm`. */
  readonly attestor: string;
  /** Node selectors from the attestation. */
  readonly selectors: readonly string[];
  /** Its newest agent SVID. */
  readonly serial?: string;
  readonly svidExpiresAt?: Date;
  readonly banned: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** SPIFFE state every replica shares: JWT signing keys, bundles, federation relationships, registration entries. */
export interface SpiffeRepository {
  /** Adds a JWT signing key; ERR_STORE_INVALID_RECORD for a bad record or a key ID in use. */
  addJwtKey(key: JwtKeyRecord): Promise<void>;
  /** The keys of `trustDomain` that have not expired at `at`, by activation time then key ID. */
  jwtKeys(trustDomain: string, at: Date): Promise<readonly JwtKeyRecord[]>;
  /** Deletes the keys of `trustDomain` that expired at or before `at`; resolves how many. */
  pruneJwtKeys(trustDomain: string, at: Date): Promise<number>;
  getBundle(trustDomain: string): Promise<BundleRecord | undefined>;
  listBundles(kind?: BundleRecord['kind']): Promise<readonly BundleRecord[]>;
  /**
   * Publishes this CA's bundle of `trustDomain` when `digest` differs from the stored one: the
   * sequence grows by one (1 the first time) and `render(sequence)` is the stored document.
   * Concurrent calls with one digest publish it once. Resolves the bundle stored afterwards and
   * whether this call changed it.
   */
  publishOwnBundle(trustDomain: string, digest: string, render: (sequence: bigint) => string, at: Date): Promise<{ readonly bundle: BundleRecord; readonly changed: boolean }>;
  /** Stores a fetched foreign bundle (replacing the one before) and records the successful fetch on its relationship. */
  saveFederatedBundle(bundle: BundleRecord, nextRefreshAt: Date): Promise<void>;
  addFederation(federation: FederationRecord): Promise<'added' | 'exists'>;
  getFederation(trustDomain: string): Promise<FederationRecord | undefined>;
  listFederations(): Promise<readonly FederationRecord[]>;
  /** Relationships whose next refresh is due at `at`. */
  dueFederations(at: Date, limit: number): Promise<readonly FederationRecord[]>;
  /** Records a failed fetch: the error and when to try again. */
  recordFederationFailure(trustDomain: string, error: string, nextRefreshAt: Date): Promise<void>;
  /** Removes the relationship and the foreign bundle fetched through it, together; false when there was none. */
  removeFederation(trustDomain: string): Promise<boolean>;
  /** Adds an entry (revision assigned); ERR_ENTRY_EXISTS when a live entry has the same SPIFFE ID, parent and selectors, or the ID is taken. */
  createEntry(entry: EntryInput, at: Date): Promise<EntryRecord>;
  /** A live entry by ID. */
  getEntry(id: string): Promise<EntryRecord | undefined>;
  /** Live entries matching `filter`, by ID, a page at a time. */
  listEntries(filter: EntryFilter, page?: PageRequest): Promise<Page<EntryRecord>>;
  /**
   * Replaces a live entry's fields (not its ID or creation time) and gives it a new revision;
   * with `expectedRevision`, only if it is still at that revision (else ERR_ENTRY_CONFLICT).
   * Undefined when there is no such live entry; ERR_ENTRY_EXISTS when it would duplicate another.
   */
  updateEntry(entry: EntryInput, at: Date, expectedRevision?: bigint): Promise<EntryRecord | undefined>;
  /** Deletes a live entry (it stays as a tombstone with a new revision); undefined when there was none. */
  deleteEntry(id: string, at: Date): Promise<EntryRecord | undefined>;
  /** Entries (tombstones too) changed after `revision`, in revision order: how a follower catches up. */
  entriesSince(revision: bigint, limit: number): Promise<readonly EntryRecord[]>;
  /**
   * The highest entry revision handed out (0 before the first change). A change of what agents
   * hand their workloads besides entries — a trust domain's own bundle published anew, a federated
   * bundle with new content or withdrawn — takes a revision too (no entry carries it), so that
   * agents waiting for changes wake and take the bundles.
   */
  entryRevision(): Promise<bigint>;
  /** Forgets tombstones deleted before `before`; resolves how many. */
  purgeDeletedEntries(before: Date, limit: number): Promise<number>;
  addJoinToken(token: JoinTokenRecord): Promise<void>;
  /**
   * Uses a join token: exactly one caller gets `used`, and only with the right secret, before it
   * expires, for an agent of the token's trust domain (`trustDomain`; else `wrong-trust-domain`,
   * and the token stays usable).
   */
  useJoinToken(id: string, secretHash: string, at: Date, agentId: string, trustDomain: string): Promise<JoinTokenUse>;
  listJoinTokens(): Promise<readonly JoinTokenRecord[]>;
  /** Forgets join tokens that expired before `before` (used or not); resolves how many. */
  purgeJoinTokens(before: Date, limit: number): Promise<number>;
  /** Adds a TPM challenge; ERR_STORE_INVALID_RECORD for a bad record or an ID in use. */
  addTpmChallenge(challenge: TpmChallengeRecord): Promise<void>;
  /**
   * Takes a TPM challenge: it is deleted, and exactly one caller gets its secret hash — if it had
   * not expired at `at`. `unknown` when there is none (never made, or already taken).
   */
  takeTpmChallenge(id: string, at: Date): Promise<{ readonly secretHash: string } | 'unknown' | 'expired'>;
  /** Forgets TPM challenges that expired before `before`; resolves how many. */
  purgeTpmChallenges(before: Date, limit: number): Promise<number>;
  /**
   * Records an attestation: a new agent, or the same agent attesting again (its selectors and
   * SVID replaced). ERR_AGENT_BANNED when it is banned (nothing changes).
   */
  attestAgent(agent: Omit<AgentRecord, 'createdAt' | 'updatedAt' | 'banned'>, at: Date): Promise<AgentRecord>;
  getAgent(spiffeId: string): Promise<AgentRecord | undefined>;
  listAgents(): Promise<readonly AgentRecord[]>;
  /** Records an agent's renewed SVID; false when the agent is gone (evicted) or banned. */
  renewAgent(spiffeId: string, serial: string, svidExpiresAt: Date, at: Date): Promise<boolean>;
  /** Bans (or unbans) an agent: a banned one can neither renew nor attest again. False when there is no such agent. */
  setAgentBanned(spiffeId: string, banned: boolean, at: Date): Promise<boolean>;
  /** Forgets an agent (eviction): it must attest again. False when there was none. */
  deleteAgent(spiffeId: string): Promise<boolean>;
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
  /** The ACME server's accounts, orders, authorizations, challenges and EAB keys. */
  readonly acme: AcmeRepository;
  /** Revocation sequence, CRL entries and the stored CRLs. */
  readonly revocations: RevocationRepository;
  /** SPIFFE: JWT signing keys, bundles, federation relationships. */
  readonly spiffe: SpiffeRepository;
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
