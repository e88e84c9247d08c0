/**
 * Copying a CA's store to another database (`signet db copy`): SQLite → PostgreSQL when a CA
 * outgrows one node, or any direction between the two backends. Every table is copied row for
 * row — certificates with their DER, names, used one-time tokens (so a token used before the
 * move stays used after it), the audit log with its ids, the ACME server's accounts, orders,
 * authorizations, challenges, EAB keys and renewal windows, shared settings, counters (CRL
 * numbers keep growing after the move), the signed CRLs, and the SPIFFE JWT signing keys, bundles,
 * federation relationships, registration entries, join tokens and
 * attested agents — from one consistent snapshot of the
 * source, into an empty, migrated target, in one transaction: the target ends up with all of it
 * or none of it. The counts are checked afterwards.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Clock } from '../core/clock.js';
import { SignetError } from '../core/errors.js';
import { dialectOf, migrate, schemaStatus } from './migrations.js';
import type { StoreDatabase } from './schema.js';

/** Rows per INSERT and per page read (17 columns × 500 stays far below both drivers' parameter limits). */
const BATCH = 500;

type TableName =
  | 'certificates'
  | 'certificate_names'
  | 'used_tokens'
  | 'audit_events'
  | 'acme_accounts'
  | 'acme_eab_keys'
  | 'acme_authorizations'
  | 'acme_challenges'
  | 'acme_orders'
  | 'renewal_windows'
  | 'settings'
  | 'counters'
  | 'crls'
  | 'spiffe_jwt_keys'
  | 'spiffe_bundles'
  | 'spiffe_federations'
  | 'spiffe_entries'
  | 'spiffe_entry_selectors'
  | 'spiffe_join_tokens'
  | 'spiffe_agents';

/** Each copied table: its columns and its primary key (the order pages are read in). */
const TABLES: readonly { readonly name: TableName; readonly columns: readonly string[]; readonly key: readonly string[] }[] = [
  {
    name: 'certificates',
    columns: ['serial', 'issuer_serial', 'subject', 'not_before', 'not_after', 'key_fingerprint', 'key_type', 'provisioner', 'requester', 'profile', 'status', 'revoked_at', 'revocation_reason', 'revoked_seq', 'invalid_at', 'replaced_by', 'replaces', 'issued_at', 'der', 'crl_shard'],
    key: ['serial'],
  },
  { name: 'certificate_names', columns: ['serial', 'ordinal', 'type', 'value', 'reversed_name'], key: ['serial', 'ordinal'] },
  { name: 'used_tokens', columns: ['provisioner', 'jti', 'expires_at'], key: ['provisioner', 'jti'] },
  { name: 'audit_events', columns: ['id', 'time', 'type', 'outcome', 'actor', 'provisioner', 'serial', 'reason', 'detail'], key: ['id'] },
  // ACME: accounts (with their EAB bindings), authorizations and challenges, orders, renewal windows.
  { name: 'acme_accounts', columns: ['id', 'provisioner', 'key_thumbprint', 'jwk', 'status', 'contact', 'terms_agreed', 'eab_key_id', 'created_at'], key: ['id'] },
  { name: 'acme_eab_keys', columns: ['key_id', 'provisioner', 'reference', 'hmac_key', 'account_id', 'created_at', 'bound_at'], key: ['key_id'] },
  { name: 'acme_authorizations', columns: ['id', 'account_id', 'identifier_type', 'identifier_value', 'wildcard', 'status', 'expires_at', 'created_at'], key: ['id'] },
  { name: 'acme_challenges', columns: ['id', 'authorization_id', 'type', 'token', 'status', 'validated_at', 'error', 'updated_at'], key: ['id'] },
  { name: 'acme_orders', columns: ['id', 'account_id', 'status', 'identifiers', 'authorizations', 'not_before', 'not_after', 'expires_at', 'error', 'certificate_serial', 'replaces', 'created_at'], key: ['id'] },
  { name: 'renewal_windows', columns: ['serial', 'window_start', 'window_end', 'explanation_url', 'set_at'], key: ['serial'] },
  // Shared settings (the ACME nonce key), counters (CRL numbers must keep growing after a move, RFC 5280 §5.2.3), signed CRLs.
  { name: 'settings', columns: ['name', 'value'], key: ['name'] },
  { name: 'counters', columns: ['name', 'value'], key: ['name'] },
  { name: 'crls', columns: ['issuer_serial', 'number', 'this_update', 'next_update', 'revocation_seq', 'entries', 'der', 'shard'], key: ['issuer_serial', 'number'] },
  // SPIFFE: the JWT signing keys (still encrypted), the published and fetched bundles with their sequences, the federation relationships.
  { name: 'spiffe_jwt_keys', columns: ['kid', 'trust_domain', 'public_jwk', 'private_key', 'created_at', 'activates_at', 'expires_at'], key: ['kid'] },
  { name: 'spiffe_bundles', columns: ['trust_domain', 'kind', 'document', 'digest', 'sequence', 'updated_at'], key: ['trust_domain'] },
  { name: 'spiffe_federations', columns: ['trust_domain', 'url', 'profile', 'endpoint_spiffe_id', 'ca_certificates', 'created_at', 'next_refresh_at', 'last_success_at', 'last_error'], key: ['trust_domain'] },
  { name: 'spiffe_entries', columns: ['id', 'spiffe_id', 'parent_id', 'selectors', 'match_key', 'x509_ttl_ms', 'jwt_ttl_ms', 'dns_names', 'admin', 'downstream', 'federates_with', 'hint', 'created_at', 'updated_at', 'revision', 'deleted_at'], key: ['id'] },
  { name: 'spiffe_entry_selectors', columns: ['entry_id', 'selector'], key: ['entry_id', 'selector'] },
  { name: 'spiffe_join_tokens', columns: ['id', 'secret_hash', 'created_at', 'expires_at', 'used_at', 'used_by', 'trust_domain'], key: ['id'] },
  { name: 'spiffe_agents', columns: ['spiffe_id', 'attestor', 'selectors', 'serial', 'svid_expires_at', 'banned', 'created_at', 'updated_at'], key: ['spiffe_id'] },
];

/** What {@link copyStore} copied: rows per table. */
export type CopyReport = Readonly<Record<TableName, number>>;

type Row = Record<string, unknown>;

async function countRows(db: Kysely<StoreDatabase>, table: TableName): Promise<number> {
  const r = await db.selectFrom(table).select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** One page of `table` after `after` (the previous page's last key), in key order. */
function page(db: Kysely<StoreDatabase>, table: (typeof TABLES)[number], after: Row | undefined): Promise<Row[]> {
  const cols = sql.join(table.columns.map((c) => sql.ref(c)));
  const keys = sql.join(table.key.map((c) => sql.ref(c)));
  const where = after === undefined ? sql`` : sql`where (${keys}) > (${sql.join(table.key.map((k) => after[k]))})`;
  return sql<Row>`select ${cols} from ${sql.table(table.name)} ${where} order by ${keys} limit ${BATCH}`
    .execute(db)
    .then((r) => r.rows);
}

function insert(table: (typeof TABLES)[number], rows: readonly Row[], postgres: boolean): RawBuilder<unknown> {
  const cols = sql.join(table.columns.map((c) => sql.ref(c)));
  // PostgreSQL's identity column takes the source's audit ids only when told to (they must stay
  // what they were: they order the log and are quoted in incident notes).
  const overriding = postgres && table.name === 'audit_events' ? sql`overriding system value` : sql``;
  const values = sql.join(rows.map((r) => sql`(${sql.join(table.columns.map((c) => r[c]))})`));
  return sql`insert into ${sql.table(table.name)} (${cols}) ${overriding} values ${values}`;
}

/**
 * Copies every row of `from` into `to`. `to` is migrated first and must then be empty
 * (ERR_STORE_NOT_EMPTY); `from` must be at the schema version this code knows
 * (ERR_STORE_SCHEMA_OLDER: migrate it first; ERR_STORE_SCHEMA_NEWER). `from` is read in one
 * snapshot — a read transaction (SQLite: deferred, so a running CA keeps writing; PostgreSQL:
 * REPEATABLE READ) — and `to` is written in one transaction.
 */
export async function copyStore(from: Kysely<StoreDatabase>, to: Kysely<StoreDatabase>, clock: Clock): Promise<CopyReport> {
  const source = await schemaStatus(from);
  if (source.current > source.latest) {
    throw new SignetError('ERR_STORE_SCHEMA_NEWER', `the source database schema (version ${source.current}) is newer than this signet supports (version ${source.latest})`, {
      hint: 'copy with a signet release at least as new as the one that last migrated the source',
    });
  }
  if (source.pending.length > 0) {
    throw new SignetError('ERR_STORE_SCHEMA_OLDER', `the source database schema (version ${source.current}) is older than this signet's (version ${source.latest})`, {
      hint: 'run "signet db migrate" on the source (or start its CA once with this release), then copy',
    });
  }
  await migrate(to, clock);
  for (const t of TABLES) {
    if ((await countRows(to, t.name)) > 0) {
      throw new SignetError('ERR_STORE_NOT_EMPTY', `the target database already holds ${t.name.replace('_', ' ')}`, {
        hint: 'copy into an empty database: a CA inventory is never merged into another',
      });
    }
  }
  const postgresTarget = dialectOf(to) === 'postgres';
  const snapshot = dialectOf(from) === 'postgres' ? from.transaction().setIsolationLevel('repeatable read') : from.transaction();
  return snapshot.execute(async (src) => {
    const copied = Object.fromEntries(TABLES.map((t) => [t.name, 0])) as Record<TableName, number>;
    const expected: Record<string, number> = {};
    for (const t of TABLES) expected[t.name] = await countRows(src, t.name);
    await to.transaction().execute(async (dst) => {
      for (const t of TABLES) {
        let after: Row | undefined;
        for (;;) {
          const rows = await page(src, t, after);
          if (rows.length === 0) break;
          await insert(t, rows, postgresTarget).execute(dst);
          copied[t.name] += rows.length;
          after = rows.at(-1);
          if (rows.length < BATCH) break;
        }
      }
      // New audit ids continue after the copied ones.
      if (postgresTarget) await sql`select setval(pg_get_serial_sequence('audit_events', 'id'), greatest((select max(id) from audit_events), 1))`.execute(dst);
      for (const t of TABLES) {
        const n = await countRows(dst, t.name);
        if (n !== expected[t.name] || n !== copied[t.name]) {
          throw new SignetError('ERR_INTERNAL', `copy check failed for ${t.name}: ${expected[t.name] ?? 0} in the source, ${copied[t.name]} copied, ${n} in the target`);
        }
      }
    });
    return copied;
  });
}
