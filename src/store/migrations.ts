/**
 * Numbered schema migrations, in code (DESIGN.md "Data": migrations are numbered and run on
 * start). `schema_migrations(version, name, applied_at)` records what has been applied; each
 * pending migration runs in its own transaction together with its bookkeeping row, so a failed
 * migration leaves the schema as it was before it. A database whose schema is newer than this
 * code knows is refused rather than guessed at.
 *
 * The DDL is portable between SQLite and PostgreSQL; the few type names that differ (BLOB/BYTEA,
 * the auto-increment id, the byte-wise collation of keys compared by range) come from
 * {@link columnTypes}.
 */
import { PostgresAdapter, SqliteAdapter, sql, type Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import type { StoreDatabase } from './schema.js';

/** One schema change. `up` receives the transaction it runs in; it must not commit or roll back itself. */
export interface Migration {
  /** Positive integer, strictly increasing through the list. Never renumber a released migration. */
  readonly version: number;
  /** kebab-case description, recorded in `schema_migrations`. */
  readonly name: string;
  up(db: Kysely<unknown>): Promise<void>;
}

/** A migration as `schemaStatus` and `migrate` report it. */
export interface MigrationInfo {
  readonly version: number;
  readonly name: string;
}

/** Where a database's schema stands relative to the code. */
export interface SchemaStatus {
  /** Highest applied version; 0 for an empty database. */
  readonly current: number;
  /** Highest version the code knows. */
  readonly latest: number;
  /** Known migrations not yet applied, in order. */
  readonly pending: readonly MigrationInfo[];
}

/** The SQL dialects the store's DDL supports. */
export type StoreDialect = 'sqlite' | 'postgres';

/** Which dialect `db` speaks (from its Kysely adapter). */
export function dialectOf<D>(db: Kysely<D>): StoreDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return 'sqlite';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  throw new SignetError('ERR_INTERNAL', 'the store supports only sqlite and postgresql databases');
}

/**
 * Column types that differ between dialects. `key` is text compared byte by byte: PostgreSQL's
 * default collation may follow the locale, which would break range scans over reversed names and
 * make cursor order differ between backends; SQLite's default (BINARY) already compares bytes.
 */
export function columnTypes(dialect: StoreDialect) {
  return dialect === 'postgres'
    ? { key: sql`text collate "C"`, blob: sql`bytea`, id: sql`bigint generated always as identity` }
    : { key: sql`text`, blob: sql`blob`, id: sql`integer` };
}

/** Migration 1: certificates and their names, used tokens, audit events. */
const initial: Migration = {
  version: 1,
  name: 'initial-schema',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    const sqlite = dialectOf(db) === 'sqlite';

    await db.schema
      .createTable('certificates')
      .addColumn('serial', t.key, (c) => c.primaryKey())
      .addColumn('issuer_serial', t.key)
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('not_before', 'bigint', (c) => c.notNull())
      .addColumn('not_after', 'bigint', (c) => c.notNull())
      .addColumn('key_fingerprint', 'text', (c) => c.notNull())
      .addColumn('key_type', 'text', (c) => c.notNull())
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('requester', 'text', (c) => c.notNull())
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('valid', 'revoked')`))
      .addColumn('revoked_at', 'bigint')
      .addColumn('revocation_reason', 'text')
      .addColumn('replaced_by', t.key)
      .addColumn('replaces', t.key)
      .addColumn('issued_at', 'bigint', (c) => c.notNull())
      .addColumn('der', t.blob, (c) => c.notNull())
      .addCheckConstraint('certificates_revoked_at', sql`(status = 'revoked') = (revoked_at is not null)`)
      .execute();
    // Inventory questions are single indexed queries (DESIGN.md "Data"). The list order is
    // (issued_at, serial), so the indexes that filter also deliver rows in that order.
    await db.schema.createIndex('certificates_issued_at').on('certificates').columns(['issued_at', 'serial']).execute();
    await db.schema
      .createIndex('certificates_provisioner')
      .on('certificates')
      .columns(['provisioner', 'issued_at', 'serial'])
      .execute();
    await db.schema.createIndex('certificates_not_after').on('certificates').column('not_after').execute();
    await db.schema.createIndex('certificates_status').on('certificates').columns(['status', 'not_after']).execute();
    await db.schema.createIndex('certificates_key_fingerprint').on('certificates').column('key_fingerprint').execute();
    await db.schema.createIndex('certificates_replaced_by').on('certificates').column('replaced_by').execute();

    await db.schema
      .createTable('certificate_names')
      .addColumn('serial', t.key, (c) => c.notNull().references('certificates.serial').onDelete('cascade'))
      .addColumn('ordinal', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('dns', 'ip', 'email', 'uri', 'cn')`))
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('reversed_name', t.key)
      .addPrimaryKeyConstraint('certificate_names_pk', ['serial', 'ordinal'])
      .execute();
    await db.schema.createIndex('certificate_names_type_value').on('certificate_names').columns(['type', 'value']).execute();
    await db.schema.createIndex('certificate_names_value').on('certificate_names').column('value').execute();
    await db.schema.createIndex('certificate_names_reversed').on('certificate_names').column('reversed_name').execute();

    await db.schema
      .createTable('used_tokens')
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('jti', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('used_tokens_pk', ['provisioner', 'jti'])
      .execute();
    await db.schema.createIndex('used_tokens_expires_at').on('used_tokens').column('expires_at').execute();

    await db.schema
      .createTable('audit_events')
      // SQLite: INTEGER PRIMARY KEY AUTOINCREMENT never reuses an id, even after the newest row
      // is deleted, so ids stay increasing (PostgreSQL's identity column never reuses either).
      .addColumn('id', t.id, (c) => (sqlite ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('success', 'failure')`))
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('provisioner', 'text')
      .addColumn('serial', t.key)
      .addColumn('reason', 'text')
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('audit_events_time').on('audit_events').columns(['time', 'id']).execute();
    await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'time']).execute();
    await db.schema.createIndex('audit_events_serial').on('audit_events').columns(['serial', 'time']).execute();
  },
};

/**
 * Migration 2: drops `certificate_names (type, value)`. No query uses it — name lookups go
 * through `value` and `reversed_name`, the names of one certificate through the primary key —
 * and every issuance paid for it: one more random B-tree insert per name, one more page to
 * write at COMMIT. A future filter by name type would add the index it needs.
 */
const dropNameTypeIndex: Migration = {
  version: 2,
  name: 'drop-unused-name-type-index',
  async up(db) {
    await db.schema.dropIndex('certificate_names_type_value').ifExists().execute();
  },
};

/**
 * Migration 3: what replicas coordinate through — `job_leases` (one replica at a time runs a
 * periodic job) and `counters` (numbers that must grow across replicas, such as CRL numbers).
 */
const coordination: Migration = {
  version: 3,
  name: 'job-leases-and-counters',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('job_leases')
      .addColumn('name', t.key, (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('counters')
      .addColumn('name', t.key, (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull().check(sql`value > 0`))
      .execute();
  },
};

/**
 * Migration 4, indexes measured at a million certificates (bench/store.ts):
 * - the certificates not replaced by a renewal — what is deployed now, the question operators ask
 *   most — in list order, as a partial index (SQLite and PostgreSQL both have them). Without it,
 *   "not replaced" walked the `replaced_by` index for NULL and sorted 40% of the table per page
 *   (0.5 s on SQLite);
 * - `replaced_by` itself goes: no query looks a value up in it (a successor names its predecessor
 *   in `replaces`), and SQLite preferred it to the partial index;
 * - `(status, not_after)` becomes `(status, not_after, issued_at, serial)`: an expiry window is
 *   then answered from the index alone — which rows, in which order — and only the page's rows
 *   are read from the table.
 */
const currentIndex: Migration = {
  version: 4,
  name: 'inventory-indexes-at-scale',
  async up(db) {
    await db.schema.dropIndex('certificates_replaced_by').execute();
    await db.schema.dropIndex('certificates_status').execute();
    await db.schema
      .createIndex('certificates_status')
      .on('certificates')
      .columns(['status', 'not_after', 'issued_at', 'serial'])
      .execute();
    await db.schema
      .createIndex('certificates_current')
      .on('certificates')
      .columns(['issued_at', 'serial'])
      .where(sql.ref('replaced_by'), 'is', null)
      .execute();
  },
};

/**
 * Migration 5, the ACME server's state (RFC 8555 §7.1): accounts (one per key and provisioner),
 * orders, authorizations and their challenges, external account binding keys, and `settings`
 * (values every replica must share, such as the key nonces are authenticated with). State
 * changes are compare-and-set updates on `status`, so two replicas cannot both move an object.
 */
const acme: Migration = {
  version: 5,
  name: 'acme',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('settings')
      .addColumn('name', t.key, (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('acme_accounts')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('key_thumbprint', t.key, (c) => c.notNull())
      .addColumn('jwk', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('valid', 'deactivated', 'revoked')`))
      .addColumn('contact', 'text', (c) => c.notNull())
      .addColumn('terms_agreed', 'integer', (c) => c.notNull())
      .addColumn('eab_key_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('acme_accounts_key').unique().on('acme_accounts').columns(['provisioner', 'key_thumbprint']).execute();
    await db.schema
      .createTable('acme_orders')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('account_id', t.key, (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'processing', 'valid', 'invalid')`))
      .addColumn('identifiers', 'text', (c) => c.notNull())
      .addColumn('authorizations', 'text', (c) => c.notNull())
      .addColumn('not_before', 'bigint')
      .addColumn('not_after', 'bigint')
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('certificate_serial', t.key)
      .addColumn('replaces', t.key)
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('acme_orders_account').on('acme_orders').columns(['account_id', 'created_at', 'id']).execute();
    await db.schema
      .createTable('acme_authorizations')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('account_id', t.key, (c) => c.notNull())
      .addColumn('identifier_type', 'text', (c) => c.notNull())
      .addColumn('identifier_value', t.key, (c) => c.notNull())
      .addColumn('wildcard', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'valid', 'invalid', 'deactivated', 'revoked')`))
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('acme_authorizations_reuse')
      .on('acme_authorizations')
      .columns(['account_id', 'identifier_type', 'identifier_value', 'status', 'expires_at'])
      .execute();
    await db.schema
      .createTable('acme_challenges')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('authorization_id', t.key, (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'processing', 'valid', 'invalid')`))
      .addColumn('validated_at', 'bigint')
      .addColumn('error', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('acme_challenges_authorization').on('acme_challenges').column('authorization_id').execute();
    await db.schema.createIndex('acme_challenges_status').on('acme_challenges').columns(['status', 'updated_at']).execute();
    await db.schema
      .createTable('acme_eab_keys')
      .addColumn('key_id', t.key, (c) => c.primaryKey())
      .addColumn('provisioner', 'text', (c) => c.notNull())
      .addColumn('reference', 'text')
      .addColumn('hmac_key', t.blob, (c) => c.notNull())
      .addColumn('account_id', t.key)
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('bound_at', 'bigint')
      .execute();
    await db.schema.createIndex('acme_eab_keys_provisioner').on('acme_eab_keys').columns(['provisioner', 'created_at']).execute();
  },
};

/**
 * Migration 6, renewal windows set by the operator (ACME Renewal Information, RFC 9773): a
 * certificate listed here is told to renew within this window instead of its default one — the
 * building block of incident response (`signet acme renewal-window`).
 */
const renewalWindows: Migration = {
  version: 6,
  name: 'renewal-windows',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('renewal_windows')
      .addColumn('serial', t.key, (c) => c.primaryKey())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('window_end', 'bigint', (c) => c.notNull())
      .addColumn('explanation_url', 'text')
      .addColumn('set_at', 'bigint', (c) => c.notNull())
      .addCheckConstraint('renewal_windows_order', sql`window_end > window_start`)
      .execute();
  },
};

/**
 * Migration 7: expiry indexes of ACME orders and authorizations, so that the periodic purge of
 * long-expired protocol objects is an index range, not a table scan.
 */
const acmeExpiry: Migration = {
  version: 7,
  name: 'acme-expiry-indexes',
  async up(db) {
    await db.schema.createIndex('acme_orders_expires_at').on('acme_orders').column('expires_at').execute();
    await db.schema.createIndex('acme_authorizations_expires_at').on('acme_authorizations').column('expires_at').execute();
  },
};

/**
 * Migration 8: revocation lists and the revocation sequence. Every revocation takes the next value
 * of the `revocations` counter in its transaction and records it on the certificate
 * (`revoked_seq`), so a replica can ask "what was revoked since sequence N" (its OCSP cache) and
 * the CRL job "was anything revoked since the CRL I made last"; revocations before this migration
 * get sequence 0. `invalid_at` is the invalidity date (RFC 5280 §5.3.2) when one is known. `crls`
 * keeps the latest signed CRLs of each issuer, so that every replica serves the same one.
 */
const revocationLists: Migration = {
  version: 8,
  name: 'revocation-lists',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema.alterTable('certificates').addColumn('revoked_seq', 'bigint').execute();
    await db.schema.alterTable('certificates').addColumn('invalid_at', 'bigint').execute();
    await sql`update certificates set revoked_seq = 0 where status = 'revoked'`.execute(db);
    // Partial indexes (both backends have them): only revoked certificates are in them.
    await db.schema.createIndex('certificates_revoked_seq').on('certificates').column('revoked_seq').where(sql<boolean>`revoked_seq is not null`).execute();
    await db.schema
      .createIndex('certificates_crl_entries')
      .on('certificates')
      .columns(['issuer_serial', 'not_after', 'serial'])
      .where(sql<boolean>`status = 'revoked'`)
      .execute();
    await db.schema
      .createTable('crls')
      .addColumn('issuer_serial', t.key, (c) => c.notNull())
      .addColumn('number', 'bigint', (c) => c.notNull())
      .addColumn('this_update', 'bigint', (c) => c.notNull())
      .addColumn('next_update', 'bigint', (c) => c.notNull())
      .addColumn('revocation_seq', 'bigint', (c) => c.notNull())
      .addColumn('entries', 'bigint', (c) => c.notNull())
      .addColumn('der', t.blob, (c) => c.notNull())
      .addPrimaryKeyConstraint('crls_pk', ['issuer_serial', 'number'])
      .execute();
  },
};

/**
 * Migration 9: partitioned CRLs. A certificate records which CRL partition its CRL distribution
 * point names (`crl_shard`; 0, every certificate before this migration: the CRL at `crlUrl`
 * itself), and a stored CRL which partition it is; the CRL entry index leads with the partition,
 * so one partition's CRL reads only its own entries.
 */
const crlPartitions: Migration = {
  version: 9,
  name: 'crl-partitions',
  async up(db) {
    await db.schema.alterTable('certificates').addColumn('crl_shard', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.dropIndex('certificates_crl_entries').execute();
    await db.schema
      .createIndex('certificates_crl_entries')
      .on('certificates')
      .columns(['issuer_serial', 'crl_shard', 'not_after', 'serial'])
      .where(sql<boolean>`status = 'revoked'`)
      .execute();
    await db.schema.alterTable('crls').addColumn('shard', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('crls_shard').on('crls').columns(['issuer_serial', 'shard', 'number']).execute();
  },
};

/**
 * Migration 10, SPIFFE: the JWT-SVID signing keys of the served trust domains (shared by every
 * replica, private halves encrypted), the bundles published and fetched (each with its sequence,
 * so every replica serves the same document), and the federation relationships.
 */
const spiffe: Migration = {
  version: 10,
  name: 'spiffe',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('spiffe_jwt_keys')
      .addColumn('kid', t.key, (c) => c.primaryKey())
      .addColumn('trust_domain', t.key, (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('activates_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addCheckConstraint('spiffe_jwt_keys_order', sql`expires_at > activates_at`)
      .execute();
    await db.schema.createIndex('spiffe_jwt_keys_domain').on('spiffe_jwt_keys').columns(['trust_domain', 'expires_at']).execute();
    await db.schema
      .createTable('spiffe_bundles')
      .addColumn('trust_domain', t.key, (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('sequence', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addCheckConstraint('spiffe_bundles_kind', sql`kind in ('own', 'federated')`)
      .execute();
    await db.schema
      .createTable('spiffe_federations')
      .addColumn('trust_domain', t.key, (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('endpoint_spiffe_id', 'text')
      .addColumn('ca_certificates', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('next_refresh_at', 'bigint', (c) => c.notNull())
      .addColumn('last_success_at', 'bigint')
      .addColumn('last_error', 'text')
      .addCheckConstraint('spiffe_federations_profile', sql`profile in ('https_web', 'https_spiffe')`)
      .execute();
    await db.schema.createIndex('spiffe_federations_due').on('spiffe_federations').column('next_refresh_at').execute();
  },
};

/**
 * Migration 11, SPIFFE registration entries: who gets which SPIFFE ID, by parent and selectors.
 * Each change takes the next value of the `spiffe-entries` counter as the entry's revision, so
 * "what changed since revision N" is an index range (deleted entries stay as tombstones until
 * purged); an entry is unique by SPIFFE ID, parent and selectors among the live ones (a partial
 * unique index on `match_key`); selectors are also one row each, so entries are found by selector.
 */
const spiffeEntries: Migration = {
  version: 11,
  name: 'spiffe-entries',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('spiffe_entries')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('spiffe_id', t.key, (c) => c.notNull())
      .addColumn('parent_id', t.key, (c) => c.notNull())
      .addColumn('selectors', 'text', (c) => c.notNull())
      .addColumn('match_key', t.key, (c) => c.notNull())
      .addColumn('x509_ttl_ms', 'bigint')
      .addColumn('jwt_ttl_ms', 'bigint')
      .addColumn('dns_names', 'text', (c) => c.notNull())
      .addColumn('admin', 'integer', (c) => c.notNull())
      .addColumn('downstream', 'integer', (c) => c.notNull())
      .addColumn('federates_with', 'text', (c) => c.notNull())
      .addColumn('hint', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .execute();
    await db.schema.createIndex('spiffe_entries_match').unique().on('spiffe_entries').column('match_key').where(sql<boolean>`deleted_at is null`).execute();
    await db.schema.createIndex('spiffe_entries_parent').on('spiffe_entries').columns(['parent_id', 'id']).execute();
    await db.schema.createIndex('spiffe_entries_spiffe_id').on('spiffe_entries').columns(['spiffe_id', 'id']).execute();
    await db.schema.createIndex('spiffe_entries_revision').on('spiffe_entries').column('revision').execute();
    await db.schema
      .createTable('spiffe_entry_selectors')
      .addColumn('entry_id', t.key, (c) => c.notNull())
      .addColumn('selector', t.key, (c) => c.notNull())
      .addPrimaryKeyConstraint('spiffe_entry_selectors_pk', ['entry_id', 'selector'])
      .execute();
    await db.schema.createIndex('spiffe_entry_selectors_selector').on('spiffe_entry_selectors').columns(['selector', 'entry_id']).execute();
  },
};

/**
 * Migration 12, SPIFFE node attestation: join tokens (single-use: a token is used by exactly one
 * UPDATE … WHERE used_at IS NULL; only a hash of its secret is kept) and the attested agents
 * (their node selectors, their newest agent SVID, banned or not).
 */
const spiffeAgents: Migration = {
  version: 12,
  name: 'spiffe-agents',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('spiffe_join_tokens')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('used_by', 'text')
      .execute();
    await db.schema
      .createTable('spiffe_agents')
      .addColumn('spiffe_id', t.key, (c) => c.primaryKey())
      .addColumn('attestor', 'text', (c) => c.notNull())
      .addColumn('selectors', 'text', (c) => c.notNull())
      .addColumn('serial', t.key)
      .addColumn('svid_expires_at', 'bigint')
      .addColumn('banned', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/** Migration 13: the purge of long-expired join tokens is an index range. */
const joinTokenExpiry: Migration = {
  version: 13,
  name: 'spiffe-join-token-expiry',
  async up(db) {
    await db.schema.createIndex('spiffe_join_tokens_expires_at').on('spiffe_join_tokens').column('expires_at').execute();
  },
};

/**
 * Migration 14, TPM node attestation: the credential-activation challenges handed out and not yet
 * answered. A challenge is answered at most once (the answer deletes its row); only a hash of its
 * secret, bound to the EK and AK it was made for, is kept; expired ones are purged.
 */
const tpmChallenges: Migration = {
  version: 14,
  name: 'spiffe-tpm-challenges',
  async up(db) {
    const t = columnTypes(dialectOf(db));
    await db.schema
      .createTable('spiffe_tpm_challenges')
      .addColumn('id', t.key, (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('spiffe_tpm_challenges_expires_at').on('spiffe_tpm_challenges').column('expires_at').execute();
  },
};

/**
 * Migration 15, several trust domains per CA: a join token names the trust domain its agent joins
 * (null for tokens made before: any trust domain the CA serves).
 */
const joinTokenTrustDomain: Migration = {
  version: 15,
  name: 'spiffe-join-token-trust-domain',
  async up(db) {
    await db.schema.alterTable('spiffe_join_tokens').addColumn('trust_domain', 'text').execute();
  },
};

/** Every migration the code knows, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [initial, dropNameTypeIndex, coordination, currentIndex, acme, renewalWindows, acmeExpiry, revocationLists, crlPartitions, spiffe, spiffeEntries, spiffeAgents, joinTokenExpiry, tpmChallenges, joinTokenTrustDomain];

function checkList(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version <= previous) {
      throw new SignetError('ERR_INTERNAL', `migration versions must be positive and increasing (${m.version} after ${previous})`);
    }
    previous = m.version;
  }
}

async function hasMigrationsTable(db: Kysely<StoreDatabase>): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return tables.some((t) => t.name === 'schema_migrations');
}

async function appliedVersions(db: Kysely<StoreDatabase>): Promise<number[]> {
  const rows = await db.selectFrom('schema_migrations').select('version').orderBy('version').execute();
  return rows.map((r) => Number(r.version));
}

function status(applied: readonly number[], migrations: readonly Migration[]): SchemaStatus {
  const done = new Set(applied);
  const latest = migrations.at(-1)?.version ?? 0;
  return {
    current: applied.length === 0 ? 0 : Math.max(...applied),
    latest,
    pending: migrations.filter((m) => !done.has(m.version)).map((m) => ({ version: m.version, name: m.name })),
  };
}

function refuseNewer(s: SchemaStatus, applied: readonly number[], known: ReadonlySet<number>): void {
  const unknown = applied.filter((v) => !known.has(v));
  if (s.current > s.latest || unknown.length > 0) {
    throw new SignetError(
      'ERR_STORE_SCHEMA_NEWER',
      `the database schema (version ${s.current}) is newer than this signet supports (version ${s.latest})`,
      { hint: 'run a signet release at least as new as the one that last opened this database', detail: { current: s.current, latest: s.latest, unknown } },
    );
  }
}

/** Where the schema of `db` stands; reads only (an empty database reports every migration pending). */
export async function schemaStatus<DB>(db: Kysely<DB>, migrations: readonly Migration[] = MIGRATIONS): Promise<SchemaStatus> {
  checkList(migrations);
  const sdb = db as unknown as Kysely<StoreDatabase>;
  const applied = (await hasMigrationsTable(sdb)) ? await appliedVersions(sdb) : [];
  return status(applied, migrations);
}

/**
 * Applies the pending migrations in order, each in its own transaction with its
 * `schema_migrations` row; returns those it applied. Safe to run from several processes at once:
 * each transaction re-checks whether its migration was applied meanwhile (on SQLite the store
 * starts write transactions with BEGIN IMMEDIATE, which serialises them; on PostgreSQL an
 * advisory lock serialises whole runs). `ERR_STORE_SCHEMA_NEWER`
 * when the database has a version the code does not know; `ERR_STORE_MIGRATION_FAILED` when a
 * migration throws (its changes are rolled back; earlier migrations stay applied).
 */
export async function migrate<DB>(db: Kysely<DB>, clock: Clock, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationInfo[]> {
  checkList(migrations);
  const sdb = db as unknown as Kysely<StoreDatabase>;
  if (dialectOf(sdb as unknown as Kysely<unknown>) !== 'postgres') return migrateOn(sdb, clock, migrations);
  // PostgreSQL: under READ COMMITTED two replicas could both see a migration pending and both
  // run it (and CREATE TABLE IF NOT EXISTS itself races on the catalog). One session-level
  // advisory lock, on the one connection that does all the work, lets one replica migrate at a
  // time; the others then find nothing pending. The lock goes with the connection if we die.
  return sdb.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      return await migrateOn(conn, clock, migrations);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
}

/** The advisory lock key of migrations (PostgreSQL): "signet-migrations" as a stable 63-bit number. */
const MIGRATION_LOCK = 0x5349474e45544d49n;

async function migrateOn(sdb: Kysely<StoreDatabase>, clock: Clock, migrations: readonly Migration[]): Promise<MigrationInfo[]> {
  await sdb.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'bigint', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  const known = new Set(migrations.map((m) => m.version));
  const before = await appliedVersions(sdb);
  refuseNewer(status(before, migrations), before, known);

  const applied: MigrationInfo[] = [];
  for (const m of migrations) {
    if (before.includes(m.version)) continue;
    try {
      const ran = await sdb.transaction().execute(async (trx) => {
        const now = await appliedVersions(trx);
        refuseNewer(status(now, migrations), now, known);
        if (now.includes(m.version)) return false;
        await m.up(trx as unknown as Kysely<unknown>);
        await trx.insertInto('schema_migrations').values({ version: m.version, name: m.name, applied_at: clock.now().getTime() }).execute();
        return true;
      });
      if (ran) applied.push({ version: m.version, name: m.name });
    } catch (e) {
      if (isSignetError(e) && e.code !== 'ERR_INTERNAL') throw e;
      throw new SignetError('ERR_STORE_MIGRATION_FAILED', `database migration ${m.version} (${m.name}) failed; nothing of it was applied`, {
        cause: e,
        detail: { version: m.version, name: m.name },
      });
    }
  }
  return applied;
}
