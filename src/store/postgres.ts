/**
 * The PostgreSQL backend (DESIGN.md "Scale": several replicas on one database). The same Kysely
 * repositories as SQLite (kysely-store.ts) over a node-postgres connection pool, so any number of
 * `signet ca start` processes can share one database; everything that must be unique or
 * single-use is decided by the database (primary keys, `INSERT … ON CONFLICT DO NOTHING`,
 * conditional `UPDATE`s), never by process memory.
 *
 * Operational choices:
 * - the password never travels in the URL or the config: the caller reads it from a file or an
 *   environment variable and passes it here; a URL with a password is refused;
 * - every statement has a server-side `statement_timeout` and a client-side read timeout, and
 *   connecting has its own timeout, so a database that is down or hung fails a request quickly
 *   (ERR_STORE_UNAVAILABLE / ERR_STORE_BUSY, HTTP 503) instead of holding it;
 * - a connection the server dropped (restart, failover) is discarded by the pool and the next
 *   request opens a new one: the CA recovers without a restart;
 * - TLS to the database: `disable`, `require` (encrypted, server not authenticated) or
 *   `verify-full` (the server's certificate must chain to `ca` and name the host);
 * - migrations run under a PostgreSQL advisory lock (migrations.ts), so replicas starting at the
 *   same time apply each migration once.
 */
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { createKyselyStore, type CheckedIssuance } from './kysely-store.js';
import type { Issuance } from './store.js';
import { reversedName } from './validation.js';
import { migrate } from './migrations.js';
import { POSTGRES_DEFAULTS, formatPostgresTarget, parsePostgresUrl, type PostgresTarget, type PostgresTls } from './postgres-url.js';
import type { StoreDatabase } from './schema.js';
import type { Store } from './store.js';

/** Options of {@link openPostgresStore}. */
export interface PostgresStoreOptions {
  /** Time source for the migration bookkeeping. */
  readonly clock: Clock;
  /** The user's password (read from a file or an environment variable by the caller). */
  readonly password?: string;
  /** Most connections this process opens; default 10. */
  readonly poolSize?: number;
  /** Longest a statement may run (server-side `statement_timeout`, and the client's read timeout); default 5000 ms. */
  readonly statementTimeoutMs?: number;
  /** Longest connecting (TCP, TLS, authentication) may take; default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Default: `disable`. */
  readonly tls?: PostgresTls;
}

// node-postgres reports a lost or refused connection as a plain Error, without a code.
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'The server does not support SSL connections',
  'server does not support SSL',
  'Client was closed and is not queryable',
];

const SYSTEM_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|ECONNABORTED)$/;

/**
 * Maps a node-postgres error to the store's codes (SQLSTATE classes from the PostgreSQL
 * manual, Appendix A): the server unreachable, shutting down, out of connections or a standby
 * → ERR_STORE_UNAVAILABLE; a statement or lock timeout, a serialization failure or a deadlock →
 * ERR_STORE_BUSY; a refused login → ERR_STORE_AUTH; disk full or I/O trouble → ERR_STORE_IO;
 * any other database error → ERR_INTERNAL. Anything else is returned unchanged.
 */
export function translatePostgresError(error: unknown, target: PostgresTarget): unknown {
  if (isSignetError(error)) return error;
  const where = formatPostgresTarget(target);
  const unavailable = (why: string, cause: unknown) =>
    new SignetError('ERR_STORE_UNAVAILABLE', `the database ${where} is not available: ${why}`, {
      hint: 'the request changed nothing; retry once the database is reachable',
      cause,
      detail: { database: where },
    });
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    const message = error.message.toLowerCase();
    if (code === '57014' || code === '55P03' || code === '40001' || code === '40P01') {
      return new SignetError('ERR_STORE_BUSY', `the database ${where} did not complete the request in time (${message})`, {
        hint: 'the request changed nothing; retry, or look for long-running transactions on the database',
        cause: error,
        detail: { database: where, sqlstate: code },
      });
    }
    if (code === '28P01' || code === '28000') {
      return new SignetError('ERR_STORE_AUTH', `the database ${where} refused the login (${message})`, {
        hint: 'check the user in the URL and the password file or environment variable',
        cause: error,
        detail: { database: where, sqlstate: code },
      });
    }
    if (code === '3D000') return unavailable(`no database ${JSON.stringify(target.database)} on the server`, error);
    if (code === '25006') return unavailable('it is read-only (a standby?)', error);
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300' || code === '53400') return unavailable(message, error);
    if (code.startsWith('53') || code.startsWith('58') || code === 'XX001' || code === 'XX002') {
      return new SignetError('ERR_STORE_IO', `the database ${where} cannot store the request (${message})`, { cause: error, detail: { database: where, sqlstate: code } });
    }
    return new SignetError('ERR_INTERNAL', `unexpected database error (${code})`, { cause: error, detail: { sqlstate: code } });
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && SYSTEM_CODES.test(code)) return unavailable(code, error);
    if (CONNECTION_MESSAGES.some((m) => error.message.includes(m))) return unavailable(error.message.toLowerCase(), error);
    // TLS: the server's certificate did not verify (codes such as UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID).
    if (typeof code === 'string' && (/CERT|SELF_SIGNED|VERIFY|ERR_TLS|ERR_SSL/).test(code)) return unavailable(`TLS: ${error.message}`, error);
  }
  return error;
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new SignetError('ERR_INTERNAL', `${name} must be a positive integer`);
  return value;
}

function sslOptions(tls: PostgresTls | undefined, host: string): pg.PoolConfig['ssl'] {
  switch (tls?.mode ?? 'disable') {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    default:
      return { rejectUnauthorized: true, servername: host, ...(tls?.ca !== undefined ? { ca: tls.ca } : {}) };
  }
}

/**
 * Opens a store on the PostgreSQL database `url` names and applies pending migrations (under an
 * advisory lock). ERR_STORE_UNAVAILABLE when the server cannot be reached, ERR_STORE_AUTH when it
 * refuses the login, ERR_STORE_SCHEMA_NEWER when a newer signet migrated the database.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<Store> {
  const { db, target, pool } = openPostgresKysely(url, options);
  const translateError = (e: unknown): unknown => translatePostgresError(e, target);
  try {
    await migrate(db, options.clock);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    if (isSignetError(e, 'ERR_STORE_MIGRATION_FAILED')) {
      const cause = translateError(e.cause);
      if (isSignetError(cause) && cause.code !== 'ERR_INTERNAL') throw cause;
    }
    throw translateError(e);
  }
  const batcher = issuanceBatcher(pool);
  return createKyselyStore(db, { translateError, destroy: () => db.destroy(), recordIssuance: (_db, issuance, checked) => batcher(issuance, checked) });
}

/** Most issuances sent in one statement. */
const MAX_BATCH = 64;

interface Pending {
  readonly issuance: Issuance;
  readonly checked: CheckedIssuance;
  readonly resolve: (outcome: 'recorded' | 'token-used') => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for PostgreSQL: the issuances that arrive in the same turn of the event loop go
 * to the database as one statement — one client call and one round trip for all of them, which is
 * where the CA process spends its time per issuance (the server does the same work either way).
 * Each keeps its own outcome: a used token (or a token twice in one batch: the first wins) makes
 * only its own issuance `token-used`. A batch statement the database refuses — a duplicate serial,
 * say — committed nothing and is sent again one statement per member, so that one bad member
 * cannot fail the others.
 */
function issuanceBatcher(pool: pg.Pool): (issuance: Issuance, checked: CheckedIssuance) => Promise<'recorded' | 'token-used'> {
  const waiting: Pending[] = [];
  const flush = (): void => {
    const batch = waiting.splice(0, MAX_BATCH);
    if (waiting.length > 0) setImmediate(flush);
    if (batch.length === 1) {
      const only = batch[0] as Pending;
      recordIssuance(pool, only.issuance, only.checked).then(only.resolve, only.reject);
      return;
    }
    recordBatch(pool, batch).then(
      (recorded) => batch.forEach((m, i) => m.resolve(recorded.has(i) ? 'recorded' : 'token-used')),
      (err: unknown) => {
        // A statement the database refused committed nothing: each member alone, for its own outcome.
        // Anything else (the connection lost: maybe committed, maybe not) is every member's error.
        if (err instanceof pg.DatabaseError) for (const m of batch) recordIssuance(pool, m.issuance, m.checked).then(m.resolve, m.reject);
        else for (const m of batch) m.reject(err);
      },
    );
  };
  return (issuance, checked) =>
    new Promise((resolve, reject) => {
      waiting.push({ issuance, checked, resolve, reject });
      if (waiting.length === 1) setImmediate(flush);
    });
}

/**
 * The statement of {@link recordBatch}. Its two parameters are JSON arrays — the issuances (token,
 * certificate and audit event of each, `idx` its place in the batch) and their name rows — so
 * that its text is the same for every batch: each connection prepares and plans it once, where a
 * statement with a parameter per value would be parsed and planned anew for every batch size and
 * name count (the database's largest cost per issuance, measured: 180 µs of server CPU).
 */
const BATCH_STATEMENT = `with input as (
      select * from json_to_recordset($1::json) as x(idx integer, tprov text, jti text, texp bigint, serial text, issuer_serial text, subject text, not_before bigint, not_after bigint, key_fingerprint text, key_type text, provisioner text, requester text, profile text, status text, revoked_at bigint, revocation_reason text, replaced_by text, replaces text, issued_at bigint, der text, crl_shard integer, etime bigint, etype text, eoutcome text, eactor text, eprovisioner text, eserial text, ereason text, edetail text)
    ), tok as (
      insert into used_tokens (provisioner, jti, expires_at)
      select distinct on (tprov, jti) tprov, jti, texp from input order by tprov, jti, idx
      on conflict (provisioner, jti) do nothing
      returning provisioner, jti
    ), ok as (
      select distinct on (i.tprov, i.jti) i.* from input i join tok t on t.provisioner = i.tprov and t.jti = i.jti order by i.tprov, i.jti, i.idx
    ), cert as (
      insert into certificates (serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, revoked_at, revocation_reason, replaced_by, replaces, issued_at, der, crl_shard)
      select serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, revoked_at, revocation_reason, replaced_by, replaces, issued_at, decode(der, 'base64'), crl_shard from ok
      returning serial
    ), names as (
      insert into certificate_names (serial, ordinal, type, value, reversed_name)
      select ok.serial, n.ordinal, n.type, n.value, n.reversed_name
      from json_to_recordset($2::json) as n(idx integer, ordinal integer, type text, value text, reversed_name text) join ok on ok.idx = n.idx
    ), audit as (
      insert into audit_events (time, type, outcome, actor, provisioner, serial, reason, detail)
      select etime, etype, eoutcome, eactor, eprovisioner, eserial, ereason, edetail from ok order by idx
      returning id
    )
    select idx, (select count(*) from cert) as certs, (select count(*) from audit) as audits from ok`;

/** One statement for several issuances; resolves with the indexes (into `batch`) that were recorded. */
async function recordBatch(pool: pg.Pool, batch: readonly Pick<Pending, 'issuance' | 'checked'>[]): Promise<Set<number>> {
  const rows: Record<string, unknown>[] = [];
  const names: Record<string, unknown>[] = [];
  batch.forEach(({ issuance: { token, certificate: r, event: e }, checked }, idx) => {
    const c = checked.certificate;
    rows.push({
      idx, tprov: token.provisioner, jti: token.jti, texp: checked.tokenExpiresAt,
      serial: r.serial, issuer_serial: r.issuerSerial ?? null, subject: r.subject, not_before: c.notBefore, not_after: c.notAfter, key_fingerprint: r.keyFingerprint, key_type: r.keyType,
      provisioner: r.provisioner, requester: r.requester, profile: r.profile, status: r.status, revoked_at: c.revokedAt, revocation_reason: r.revocationReason ?? null,
      replaced_by: r.replacedBy ?? null, replaces: r.replaces ?? null, issued_at: c.issuedAt, der: Buffer.from(r.der.buffer, r.der.byteOffset, r.der.byteLength).toString('base64'), crl_shard: c.crlShard,
      etime: checked.event.time, etype: e.type, eoutcome: e.outcome, eactor: e.actor, eprovisioner: e.provisioner ?? null, eserial: e.serial ?? null, ereason: e.reason ?? null, edetail: checked.event.detail,
    });
    r.names.forEach((n, ordinal) => names.push({ idx, ordinal, type: n.type, value: n.value, reversed_name: reversedName(n.type, n.value) }));
  });
  const result = await pool.query<{ idx: number; certs: string; audits: string }>({ name: 'signet_issuance_batch', text: BATCH_STATEMENT, values: [JSON.stringify(rows), JSON.stringify(names)] });
  const recorded = new Set(result.rows.map((r) => Number(r.idx)));
  const first = result.rows[0];
  if (first !== undefined && (Number(first.certs) !== recorded.size || Number(first.audits) !== recorded.size)) {
    throw new SignetError('ERR_INTERNAL', 'a batch of issuances was not recorded whole');
  }
  return recorded;
}

/**
 * One issuance alone (its own transaction), through the statement of {@link recordBatch}: the
 * data-modifying CTEs consume the token, insert the certificate only when the token was fresh,
 * then its names and its audit event; a used token inserts nothing at all. A duplicate serial is
 * a unique violation of the whole statement — nothing is written, the token included — reported
 * as ERR_STORE_DUPLICATE_SERIAL. The foreign key from the names to the certificate is checked at
 * the end of the statement, when the certificate row exists.
 */
async function recordIssuance(pool: pg.Pool, issuance: Issuance, checked: CheckedIssuance): Promise<'recorded' | 'token-used'> {
  try {
    return (await recordBatch(pool, [{ issuance, checked }])).has(0) ? 'recorded' : 'token-used';
  } catch (err) {
    if (err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === 'certificates_pkey') {
      const serial = issuance.certificate.serial;
      throw new SignetError('ERR_STORE_DUPLICATE_SERIAL', `a certificate with serial ${serial} is already recorded`, { detail: { serial } });
    }
    throw err;
  }
}

/**
 * The connection pool of {@link openPostgresStore} behind Kysely (see the module comment for its
 * settings): what the store runs on, and what `signet db status` and `signet db migrate` use
 * directly. Connects lazily; nothing is migrated.
 */
export function openPostgresKysely(url: string, options: Omit<PostgresStoreOptions, 'clock'>): { db: Kysely<StoreDatabase>; target: PostgresTarget; pool: pg.Pool } {
  const target = parsePostgresUrl(url);
  const statementTimeoutMs = positive(options.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs, 'statementTimeoutMs');
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    user: target.user,
    database: target.database,
    ...(options.password !== undefined ? { password: options.password } : {}),
    max: positive(options.poolSize ?? POSTGRES_DEFAULTS.poolSize, 'poolSize'),
    connectionTimeoutMillis: positive(options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs, 'connectTimeoutMs'),
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    // The server cancels a statement at statement_timeout; this catches a server that stopped answering at all.
    query_timeout: statementTimeoutMs + 2000,
    idle_in_transaction_session_timeout: statementTimeoutMs * 4,
    application_name: 'signet',
    keepAlive: true,
    ssl: sslOptions(options.tls, target.host),
  });
  // An idle connection the server dropped (restart, failover) emits 'error' on the pool; the pool
  // discards it and opens a new one for the next request. Without a listener it would crash the process.
  pool.on('error', () => undefined);
  // A connection lost while checked out (mid-transaction) emits 'error' on its client too: the
  // statement in flight already rejects with it, so the event itself needs only a listener.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { db: new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) }), target, pool };
}
