/**
 * Row types of the store's tables, as Kysely sees them. Kept apart from the port (store.ts) so
 * that nothing outside src/store depends on column names.
 *
 * Portability (SQLite now, PostgreSQL next): times are epoch milliseconds in BIGINT columns, which
 * node-postgres returns as strings — hence `IntegerColumn` accepts string and bigint on the way
 * out; JSON is text; booleans would be integers.
 */
import type { ColumnType, Generated } from 'kysely';

/** An integer column (epoch milliseconds, ids): written as a number, read as whatever the driver returns. */
export type IntegerColumn = ColumnType<number | string | bigint, number, number>;

/** `schema_migrations`: one row per applied migration. */
export interface SchemaMigrationsTable {
  version: IntegerColumn;
  name: string;
  applied_at: IntegerColumn;
}

/** `certificates`: the inventory. */
export interface CertificatesTable {
  serial: string;
  issuer_serial: string | null;
  subject: string;
  not_before: IntegerColumn;
  not_after: IntegerColumn;
  key_fingerprint: string;
  key_type: string;
  provisioner: string;
  requester: string;
  profile: string;
  status: string;
  revoked_at: IntegerColumn | null;
  revocation_reason: string | null;
  /** The `revocations` counter value of the revocation (migration 8); null while valid, 0 for revocations before migration 8. */
  revoked_seq: IntegerColumn | null;
  /** The invalidity date (RFC 5280 §5.3.2), when known (migration 8). */
  invalid_at: IntegerColumn | null;
  /** The CRL partition the certificate names in its CRL distribution point; 0: the CRL at `crlUrl` itself (migration 9). */
  crl_shard: Generated<number>;
  replaced_by: string | null;
  replaces: string | null;
  issued_at: IntegerColumn;
  der: Uint8Array;
}

/** `certificate_names`: the names of each certificate, for lookups by name. */
export interface CertificateNamesTable {
  serial: string;
  /** Position in the certificate (0-based); with `serial`, the primary key. */
  ordinal: IntegerColumn;
  type: string;
  value: string;
  /** For DNS names and CNs: lower-cased labels in reverse order (`com.example.www`), else null. */
  reversed_name: string | null;
}

/** `used_tokens`: one-time tokens already consumed. */
export interface UsedTokensTable {
  provisioner: string;
  jti: string;
  expires_at: IntegerColumn;
}

/** `audit_events`: the append-only audit log. */
export interface AuditEventsTable {
  /** Assigned by the database; never written. */
  id: ColumnType<number | string | bigint, never, never>;
  time: IntegerColumn;
  type: string;
  outcome: string;
  actor: string;
  provisioner: string | null;
  serial: string | null;
  reason: string | null;
  /** JSON text. */
  detail: string | null;
}

/** `job_leases`: who runs a periodic job now (migration 3). */
export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: IntegerColumn;
}

/** `counters`: named counters that only grow (migration 3). */
export interface CountersTable {
  name: string;
  value: IntegerColumn;
}

/** `settings`: values every replica shares (migration 5). */
export interface SettingsTable {
  name: string;
  value: string;
}

/** `acme_accounts` (migration 5). */
export interface AcmeAccountsTable {
  id: string;
  provisioner: string;
  key_thumbprint: string;
  /** The account's public JWK, JSON text. */
  jwk: string;
  status: string;
  /** JSON array of URLs. */
  contact: string;
  terms_agreed: IntegerColumn;
  eab_key_id: string | null;
  created_at: IntegerColumn;
}

/** `acme_orders` (migration 5). */
export interface AcmeOrdersTable {
  id: string;
  account_id: string;
  status: string;
  /** JSON array of `{type, value}`. */
  identifiers: string;
  /** JSON array of authorization ids, in identifier order. */
  authorizations: string;
  not_before: IntegerColumn | null;
  not_after: IntegerColumn | null;
  expires_at: IntegerColumn;
  /** JSON problem document. */
  error: string | null;
  certificate_serial: string | null;
  replaces: string | null;
  created_at: IntegerColumn;
}

/** `acme_authorizations` (migration 5). */
export interface AcmeAuthorizationsTable {
  id: string;
  account_id: string;
  identifier_type: string;
  identifier_value: string;
  wildcard: IntegerColumn;
  status: string;
  expires_at: IntegerColumn;
  created_at: IntegerColumn;
}

/** `acme_challenges` (migration 5). */
export interface AcmeChallengesTable {
  id: string;
  authorization_id: string;
  type: string;
  token: string;
  status: string;
  validated_at: IntegerColumn | null;
  /** JSON problem document. */
  error: string | null;
  updated_at: IntegerColumn;
}

/** `acme_eab_keys` (migration 5). */
export interface AcmeEabKeysTable {
  key_id: string;
  provisioner: string;
  reference: string | null;
  hmac_key: Uint8Array;
  account_id: string | null;
  created_at: IntegerColumn;
  bound_at: IntegerColumn | null;
}

/** `renewal_windows` (migration 6). */
export interface RenewalWindowsTable {
  serial: string;
  window_start: IntegerColumn;
  window_end: IntegerColumn;
  explanation_url: string | null;
  set_at: IntegerColumn;
}

/** `crls` (migration 8): the latest signed CRLs of each issuer. */
export interface CrlsTable {
  issuer_serial: string;
  number: IntegerColumn;
  this_update: IntegerColumn;
  next_update: IntegerColumn;
  /** The revocation sequence the CRL covers: every revocation up to it is in it (unless expired). */
  revocation_seq: IntegerColumn;
  entries: IntegerColumn;
  der: Uint8Array;
  /** The CRL partition (0: the CRL at `crlUrl` itself; migration 9). */
  shard: Generated<number>;
}

/** `spiffe_jwt_keys` (migration 10): the JWT-SVID signing keys of the trust domains the CA serves. */
export interface SpiffeJwtKeysTable {
  kid: string;
  trust_domain: string;
  /** The public key as a JWK (JSON). */
  public_jwk: string;
  /** The private key, encrypted PKCS#8 PEM (the intermediate's password). */
  private_key: string;
  created_at: IntegerColumn;
  /** When it starts signing (published in the bundle from `created_at` on). */
  activates_at: IntegerColumn;
  /** When it stops being published: every token it signed has expired by then. */
  expires_at: IntegerColumn;
}

/** `spiffe_bundles` (migration 10): the trust bundles the CA publishes (own) and has fetched (federated). */
export interface SpiffeBundlesTable {
  trust_domain: string;
  kind: string;
  /** The bundle document (JSON) as served or as fetched. */
  document: string;
  /** SHA-256 (hex) of what the bundle says, without its sequence number. */
  digest: string;
  sequence: IntegerColumn;
  updated_at: IntegerColumn;
}

/** `spiffe_federations` (migration 10): the foreign trust domains whose bundles the CA fetches. */
export interface SpiffeFederationsTable {
  trust_domain: string;
  url: string;
  profile: string;
  endpoint_spiffe_id: string | null;
  /** https_web: the PEM certificates the endpoint's TLS certificate must chain to (null: the system's). */
  ca_certificates: string | null;
  created_at: IntegerColumn;
  next_refresh_at: IntegerColumn;
  last_success_at: IntegerColumn | null;
  last_error: string | null;
}

/** `spiffe_entries` (migration 11): registration entries; deleted ones stay as tombstones for a while (agents sync by revision). */
export interface SpiffeEntriesTable {
  id: string;
  spiffe_id: string;
  parent_id: string;
  /** JSON list of `type:value`, sorted. */
  selectors: string;
  /** SHA-256 of spiffe ID, parent ID and selectors: an entry is unique by these (while not deleted). */
  match_key: string;
  x509_ttl_ms: IntegerColumn | null;
  jwt_ttl_ms: IntegerColumn | null;
  /** JSON list. */
  dns_names: string;
  admin: number;
  downstream: number;
  /** JSON list of trust domains. */
  federates_with: string;
  hint: string | null;
  created_at: IntegerColumn;
  updated_at: IntegerColumn;
  /** The `spiffe-entries` counter value of its last change (creation, update, deletion). */
  revision: IntegerColumn;
  deleted_at: IntegerColumn | null;
}

/** `spiffe_entry_selectors` (migration 11): one row per selector of a live entry, for lookups by selector. */
export interface SpiffeEntrySelectorsTable {
  entry_id: string;
  selector: string;
}

/** `spiffe_join_tokens` (migration 12): single-use node attestation tokens (only their hash). */
export interface SpiffeJoinTokensTable {
  id: string;
  secret_hash: string;
  created_at: IntegerColumn;
  expires_at: IntegerColumn;
  used_at: IntegerColumn | null;
  used_by: string | null;
  /** Migration 15: the trust domain its agent joins; null: any the CA serves (tokens made before). */
  trust_domain: string | null;
}

/** `spiffe_tpm_challenges` (migration 14): TPM credential-activation challenges not yet answered. */
export interface SpiffeTpmChallengesTable {
  id: string;
  /** SHA-256 (hex) of the secret bound to the EK and AK. */
  secret_hash: string;
  created_at: IntegerColumn;
  expires_at: IntegerColumn;
}

/** `spiffe_agents` (migration 12): attested nodes. */
export interface SpiffeAgentsTable {
  spiffe_id: string;
  attestor: string;
  /** JSON list of node selectors from the attestation. */
  selectors: string;
  /** The serial of its newest agent SVID. */
  serial: string | null;
  svid_expires_at: IntegerColumn | null;
  banned: number;
  created_at: IntegerColumn;
  updated_at: IntegerColumn;
}

/** The whole schema at the latest migration. */
export interface StoreDatabase {
  spiffe_join_tokens: SpiffeJoinTokensTable;
  spiffe_tpm_challenges: SpiffeTpmChallengesTable;
  spiffe_agents: SpiffeAgentsTable;
  spiffe_entries: SpiffeEntriesTable;
  spiffe_entry_selectors: SpiffeEntrySelectorsTable;
  spiffe_jwt_keys: SpiffeJwtKeysTable;
  spiffe_bundles: SpiffeBundlesTable;
  spiffe_federations: SpiffeFederationsTable;
  crls: CrlsTable;
  renewal_windows: RenewalWindowsTable;
  settings: SettingsTable;
  acme_accounts: AcmeAccountsTable;
  acme_orders: AcmeOrdersTable;
  acme_authorizations: AcmeAuthorizationsTable;
  acme_challenges: AcmeChallengesTable;
  acme_eab_keys: AcmeEabKeysTable;
  job_leases: JobLeasesTable;
  counters: CountersTable;
  schema_migrations: SchemaMigrationsTable;
  certificates: CertificatesTable;
  certificate_names: CertificateNamesTable;
  used_tokens: UsedTokensTable;
  audit_events: AuditEventsTable;
}
