/**
 * The store: the certificate inventory, used one-time tokens and the audit log behind one port
 * (store.ts), implemented over SQLite today and PostgreSQL next through the same Kysely code.
 *
 * @example
 * ```ts
 * import { openSqliteStore } from './store/index.js';
 * const store = await openSqliteStore('db/signet.db', { clock: systemClock });
 * const fresh = await store.tokens.consume({ provisioner: 'admin', jti, expiresAt });
 * await store.transaction(async (tx) => {
 *   await tx.certificates.insert(record);
 *   await tx.audit.append({ time: record.issuedAt, type: 'certificate.issue', outcome: 'success', actor: record.requester, serial: record.serial });
 * });
 * await store.close();
 * ```
 */
export type {
  AuditEvent,
  AuditEventInput,
  AuditOutcome,
  AuditQuery,
  AuditRepository,
  CertificateFilter,
  CertificateName,
  CertificateNameType,
  CertificateRecord,
  CertificateRepository,
  CertificateStatus,
  CoordinationRepository,
  Issuance,
  Page,
  PageRequest,
  ReplaceResult,
  RevokeResult,
  Store,
  StoreTx,
  TokenRepository,
  TokenUse,
} from './store.js';
export { MIGRATIONS, migrate, schemaStatus, type Migration, type MigrationInfo, type SchemaStatus } from './migrations.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { isCanonicalSerial, serialHex } from './validation.js';
