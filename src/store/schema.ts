/**
 * Row types of the store's tables, as Kysely sees them. Kept apart from the port (store.ts) so
 * that nothing outside src/store depends on column names.
 *
 * Portability (SQLite now, PostgreSQL next): times are epoch milliseconds in BIGINT columns, which
 * node-postgres returns as strings — hence `IntegerColumn` accepts string and bigint on the way
 * out; JSON is text; booleans would be integers.
 */
import type { ColumnType } from 'kysely';

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

/** The whole schema at the latest migration. */
export interface StoreDatabase {
  job_leases: JobLeasesTable;
  counters: CountersTable;
  schema_migrations: SchemaMigrationsTable;
  certificates: CertificatesTable;
  certificate_names: CertificateNamesTable;
  used_tokens: UsedTokensTable;
  audit_events: AuditEventsTable;
}
