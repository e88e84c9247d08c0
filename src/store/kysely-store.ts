/**
 * The store's repositories over Kysely, shared by every SQL backend: SQLite (sqlite.ts) now,
 * PostgreSQL next. Only portable SQL is written here — INSERT … ON CONFLICT DO NOTHING, row-value
 * comparisons, RETURNING, IN sub-queries — and no error is detected by parsing a driver message:
 * a duplicate serial or a replayed token is an insert that inserted nothing, which also keeps a
 * PostgreSQL transaction usable after it. Driver errors are mapped by the backend's
 * `translateError`.
 *
 * Group commit (`groupCommit`, for SQLite): a backend with a single connection runs one
 * transaction at a time anyway, and with `synchronous = FULL` each COMMIT is an fsync plus a
 * rewrite of every page it touched (≈ 29 pages for one issuance here) — several times the
 * cryptography of an issuance. So the transactions that are waiting for the connection run
 * together: one BEGIN, each transaction in its own SAVEPOINT (rolled back alone when its callback
 * throws), one COMMIT. Durability is unchanged: no transaction's promise settles before the
 * COMMIT that holds it has returned, i.e. before SQLite has synced it. What changes is that the
 * transactions of one batch commit or fail together when the COMMIT itself fails (a disk
 * error: then all of them are reported failed), and that a later member sees an earlier
 * member's writes — as if they had run one after the other, which they do.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CompiledQuery, type Compilable, type ControlledTransaction, type Kysely, type QueryResult, type Selectable } from 'kysely';
import { SignetError } from '../core/errors.js';
import type { CertificateNamesTable, CertificatesTable, StoreDatabase } from './schema.js';
import { acmeRepository } from './acme.js';
import { spiffeRepository } from './spiffe.js';
import { nextRevocationSeq, revocationRepository } from './revocations.js';
import { dialectOf } from './migrations.js';
import type {
  AcmeRepository,
  SpiffeRepository,
  AuditEvent,
  AuditEventInput,
  AuditQuery,
  AuditRepository,
  CertificateFilter,
  CertificateName,
  CertificateNameType,
  CertificateRecord,
  CertificateRepository,
  CertificateState,
  CoordinationRepository,
  CrlRecord,
  Issuance,
  Page,
  PageRequest,
  ReplaceResult,
  Revocation,
  RevokeResult,
  Store,
  StoreTx,
  TokenRepository,
  TokenUse,
} from './store.js';
import {
  MAX_SERIALS,
  badQuery,
  checkAuditEvent,
  checkCertificate,
  checkSerial,
  decodeCursor,
  encodeCursor,
  epochMs,
  pageLimit,
  parseNameQuery,
  querySerial,
  queryText,
  queryTime,
  reversedName,
} from './validation.js';
import { atomic, type Db, type Runner } from './sql.js';

/** What a backend supplies to {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /** Maps a driver error to a SignetError; returns anything else unchanged. */
  translateError(error: unknown): unknown;
  /** Releases the connection(s); called once by `close()` after running operations finished. */
  destroy(): Promise<void>;
  /**
   * Run waiting transactions, and writes outside a transaction, together under one COMMIT (see
   * the module comment). Only for a backend whose one connection serialises all transactions
   * (SQLite); with a pool of connections it would only serialise what could run in parallel.
   */
  readonly groupCommit?: boolean;
  /**
   * Records an issuance in one round trip instead of a transaction of several statements (see
   * Store.recordIssuance for the contract; the arguments are already validated). PostgreSQL only.
   */
  readonly recordIssuance?: (db: Kysely<StoreDatabase>, issuance: Issuance, checked: CheckedIssuance) => Promise<'recorded' | 'token-used'>;
  /**
   * Runs a compiled statement synchronously on the backend's one connection, bypassing Kysely's
   * executor (SQLite: a cached better-sqlite3 statement). Used only for the hot writes and the
   * savepoints of a group, and only inside a transaction, i.e. while this store holds that
   * connection. The SQL is still the one Kysely compiled, so both paths write alike.
   */
  readonly direct?: DirectRun;
  /**
   * Whether the connection is inside a transaction now (SQLite). After some errors — a full
   * disk, an I/O error — SQLite rolls the whole transaction back on its own; a group commit then
   * reports that error to every member instead of carrying on with savepoints that no longer exist.
   */
  readonly inTransaction?: () => boolean;
}

/** The validated, encoded fields of an issuance (what checkCertificate / checkAuditEvent return). */
export interface CheckedIssuance {
  readonly certificate: ReturnType<typeof checkCertificate>;
  readonly event: ReturnType<typeof checkAuditEvent>;
  readonly tokenExpiresAt: number;
}

/** See {@link KyselyStoreOptions.direct}; the result as Kysely would report it. */
export type DirectRun = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>;

/** Runs one repository operation: checks that it may run, maps driver errors. */

// Rows per multi-row INSERT of names: 5 parameters each stays far below every driver's limit.
const NAME_BATCH = 500;
/** Most transactions committed together: bounds the latency a batch adds to its first member. */
const MAX_GROUP = 256;

function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

/** A byte view a driver binds as a BLOB / BYTEA, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Runs a {@link reusable} query on `db` (a store or a transaction) with `args` as its parameters;
 * synchronously when the backend has a {@link DirectRun} and `db` is a transaction.
 */
type Reusable = (db: Db, args: readonly unknown[]) => QueryResult<unknown> | Promise<QueryResult<unknown>>;

/**
 * A query Kysely builds and compiles once, then runs with new parameters: building and compiling
 * costs about as much as SQLite's own work for a small INSERT, and every issuance runs four of
 * them. `build` writes the query with `$(i)` where the i-th argument goes. Per store, because the
 * compiled SQL is the dialect's.
 */
function reusable(direct: DirectRun | undefined, build: (db: Db, $: (i: number) => never) => Compilable<unknown>): Reusable {
  let compiled: { readonly query: CompiledQuery<unknown>; readonly order: readonly number[] } | undefined;
  return (db, args) => {
    if (compiled === undefined) {
      const slots = new Map<unknown, number>();
      const query = build(db, (i) => {
        const slot = { slot: i };
        slots.set(slot, i);
        return slot as never;
      }).compile();
      const order = query.parameters.map((p) => {
        const i = slots.get(p);
        if (i === undefined) throw new SignetError('ERR_INTERNAL', 'a reusable query has a parameter that is not an argument');
        return i;
      });
      compiled = { query, order };
    }
    const { query, order } = compiled;
    const parameters = order.map((i) => args[i]);
    return direct !== undefined && db.isTransaction ? direct(query.sql, parameters) : db.executeQuery({ ...query, parameters });
  };
}

/** Most names per certificate written by one reusable INSERT (longer lists are built each time). */
const REUSED_NAME_ROWS = 16;

/** The writes every issuance makes, as {@link reusable} queries. */
interface HotWrites {
  readonly consumeToken: Reusable;
  readonly insertCertificate: Reusable;
  /** INSERT of `rows` name rows (1 ≤ rows ≤ REUSED_NAME_ROWS). */
  insertNames(rows: number): Reusable;
  readonly appendAudit: Reusable;
}

function hotWrites(direct: DirectRun | undefined): HotWrites {
  const names = new Map<number, Reusable>();
  return {
    consumeToken: reusable(direct, (db, $) =>
      db
        .insertInto('used_tokens')
        .values({ provisioner: $(0), jti: $(1), expires_at: $(2) })
        .onConflict((oc) => oc.columns(['provisioner', 'jti']).doNothing()),
    ),
    insertCertificate: reusable(direct, (db, $) =>
      db
        .insertInto('certificates')
        .values({
          serial: $(0),
          issuer_serial: $(1),
          subject: $(2),
          not_before: $(3),
          not_after: $(4),
          key_fingerprint: $(5),
          key_type: $(6),
          provisioner: $(7),
          requester: $(8),
          profile: $(9),
          status: $(10),
          revoked_at: $(11),
          revocation_reason: $(12),
          replaced_by: $(13),
          replaces: $(14),
          issued_at: $(15),
          der: $(16),
          crl_shard: $(17),
        })
        .onConflict((oc) => oc.column('serial').doNothing()),
    ),
    insertNames(rows) {
      let q = names.get(rows);
      if (q === undefined) {
        q = reusable(direct, (db, $) =>
          db.insertInto('certificate_names').values(
            Array.from({ length: rows }, (_, r) => ({ serial: $(5 * r), ordinal: $(5 * r + 1), type: $(5 * r + 2), value: $(5 * r + 3), reversed_name: $(5 * r + 4) })),
          ),
        );
        names.set(rows, q);
      }
      return q;
    },
    appendAudit: reusable(direct, (db, $) =>
      db
        .insertInto('audit_events')
        .values({ time: $(0), type: $(1), outcome: $(2), actor: $(3), provisioner: $(4), serial: $(5), reason: $(6), detail: $(7) })
        .returning('id'),
    ),
  };
}

/**
 * The certificates `filter` selects after `page`'s cursor, in list order (issued at, serial), as
 * a query to pick columns from; `undefined` when it selects nothing (an empty serial list).
 * `ERR_STORE_BAD_QUERY` for a bad filter or cursor.
 */
function selectionOf(db: Db, filter: CertificateFilter, page: PageRequest) {
  let q = db.selectFrom('certificates');
  if (filter.status !== undefined) {
    if (filter.status !== 'valid' && filter.status !== 'revoked') throw badQuery("status must be 'valid' or 'revoked'", 'status');
    q = q.where('status', '=', filter.status);
  }
  if (filter.expiresBefore !== undefined) q = q.where('not_after', '<', queryTime(filter.expiresBefore, 'expiresBefore'));
  if (filter.expiresAfter !== undefined) q = q.where('not_after', '>=', queryTime(filter.expiresAfter, 'expiresAfter'));
  if (filter.issuedBefore !== undefined) q = q.where('issued_at', '<', queryTime(filter.issuedBefore, 'issuedBefore'));
  if (filter.issuedAfter !== undefined) q = q.where('issued_at', '>=', queryTime(filter.issuedAfter, 'issuedAfter'));
  if (filter.provisioner !== undefined) q = q.where('provisioner', '=', queryText(filter.provisioner, 'provisioner'));
  if (filter.issuerSerial !== undefined) q = q.where('issuer_serial', '=', querySerial(filter.issuerSerial, 'issuerSerial'));
  if (filter.keyFingerprint !== undefined) q = q.where('key_fingerprint', '=', queryText(filter.keyFingerprint, 'keyFingerprint'));
  if (filter.profile !== undefined) q = q.where('profile', '=', queryText(filter.profile, 'profile'));
  if (filter.replaced !== undefined) {
    if (typeof filter.replaced !== 'boolean') throw badQuery('replaced must be true or false', 'replaced');
    q = q.where('replaced_by', filter.replaced ? 'is not' : 'is', null);
  }
  if (filter.name !== undefined) {
    const n = parseNameQuery(filter.name);
    const sub = db.selectFrom('certificate_names').select('serial');
    q = q.where(
      'serial',
      'in',
      n.kind === 'exact'
        ? sub.where((eb) => eb.or([eb('value', '=', n.value), eb('reversed_name', '=', n.reversed)]))
        : sub.where('reversed_name', '>=', n.from).where('reversed_name', '<', n.to),
    );
  }
  let cursor: { issuedAt: number; serial: string } | undefined;
  if (page.cursor !== undefined) cursor = decodeCursor(page.cursor);
  if (filter.serials !== undefined) {
    if (!Array.isArray(filter.serials) || filter.serials.length > MAX_SERIALS) {
      throw badQuery(`serials must be a list of at most ${MAX_SERIALS} serials`, 'serials');
    }
    filter.serials.forEach((s, i) => querySerial(s, `serials[${i}]`));
    if (filter.serials.length === 0) return undefined;
    q = q.where('serial', 'in', filter.serials);
  }
  if (cursor !== undefined) {
    const after = cursor;
    q = q.where((eb) => eb(eb.refTuple('issued_at', 'serial'), '>', eb.tuple(after.issuedAt, after.serial)));
  }
  return q.orderBy('issued_at').orderBy('serial');
}

function toCertificate(row: Selectable<CertificatesTable>, names: readonly CertificateName[]): CertificateRecord {
  return {
    serial: row.serial,
    ...(row.issuer_serial !== null && { issuerSerial: row.issuer_serial }),
    subject: row.subject,
    names,
    notBefore: new Date(toNumber(row.not_before)),
    notAfter: new Date(toNumber(row.not_after)),
    keyFingerprint: row.key_fingerprint,
    keyType: row.key_type,
    provisioner: row.provisioner,
    requester: row.requester,
    profile: row.profile,
    status: row.status === 'revoked' ? 'revoked' : 'valid',
    ...(row.revoked_at !== null && { revokedAt: new Date(toNumber(row.revoked_at)) }),
    ...(row.revocation_reason !== null && { revocationReason: row.revocation_reason }),
    ...(row.invalid_at !== null && row.invalid_at !== undefined && { invalidAt: new Date(toNumber(row.invalid_at)) }),
    ...(row.replaced_by !== null && { replacedBy: row.replaced_by }),
    ...(row.replaces !== null && { replaces: row.replaces }),
    ...(row.crl_shard !== 0 && row.crl_shard !== undefined && { crlShard: toNumber(row.crl_shard) }),
    issuedAt: new Date(toNumber(row.issued_at)),
    // A plain Uint8Array the caller owns (drivers return a Buffer, possibly pooled).
    der: new Uint8Array(row.der),
  };
}

async function namesOf(db: Db, serials: readonly string[]): Promise<Map<string, CertificateName[]>> {
  const out = new Map<string, CertificateName[]>(serials.map((s) => [s, []]));
  if (serials.length === 0) return out;
  const rows: Selectable<CertificateNamesTable>[] = await db
    .selectFrom('certificate_names')
    .selectAll()
    .where('serial', 'in', serials)
    .orderBy('serial')
    .orderBy('ordinal')
    .execute();
  for (const r of rows) out.get(r.serial)?.push({ type: r.type as CertificateNameType, value: r.value });
  return out;
}

function certificates(db: Db, run: Runner, hot: HotWrites): CertificateRepository {
  return {
    insert: (record) =>
      run(async () => {
        const t = checkCertificate(record);
        await atomic(db, async (trx) => {
          const result = await hot.insertCertificate(trx, [
            record.serial,
            record.issuerSerial ?? null,
            record.subject,
            t.notBefore,
            t.notAfter,
            record.keyFingerprint,
            record.keyType,
            record.provisioner,
            record.requester,
            record.profile,
            record.status,
            t.revokedAt,
            record.revocationReason ?? null,
            record.replacedBy ?? null,
            record.replaces ?? null,
            t.issuedAt,
            asBuffer(record.der),
            t.crlShard,
          ]);
          if (result.numAffectedRows !== 1n) {
            throw new SignetError('ERR_STORE_DUPLICATE_SERIAL', `a certificate with serial ${record.serial} is already recorded`, {
              detail: { serial: record.serial },
            });
          }
          const count = record.names.length;
          if (count > 0 && count <= REUSED_NAME_ROWS) {
            await hot.insertNames(count)(
              trx,
              record.names.flatMap((n, ordinal) => [record.serial, ordinal, n.type, n.value, reversedName(n.type, n.value)]),
            );
            return;
          }
          const rows = record.names.map((n, ordinal) => ({
            serial: record.serial,
            ordinal,
            type: n.type,
            value: n.value,
            reversed_name: reversedName(n.type, n.value),
          }));
          for (let i = 0; i < rows.length; i += NAME_BATCH) {
            await trx.insertInto('certificate_names').values(rows.slice(i, i + NAME_BATCH)).execute();
          }
        });
      }),

    get: (serial) =>
      run(async () => {
        querySerial(serial, 'serial');
        const row = await db.selectFrom('certificates').selectAll().where('serial', '=', serial).executeTakeFirst();
        if (row === undefined) return undefined;
        const names = await namesOf(db, [serial]);
        return toCertificate(row, names.get(serial) ?? []);
      }),

    list: (filter: CertificateFilter = {}, page: PageRequest = {}) =>
      run(async (): Promise<Page<CertificateRecord>> => {
        const limit = pageLimit(page.limit);
        // Two steps: which rows, in which order (from an index alone where one covers the filter),
        // then those rows. Sorting a window of keys costs far less than sorting whole rows with
        // their DER, which is what a one-step query made SQLite do for wide windows.
        const selection = selectionOf(db, filter, page);
        if (selection === undefined) return { items: [] };
        const keys = await selection.select(['serial', 'issued_at']).limit(limit + 1).execute();
        const pageKeys = keys.slice(0, limit).map((k) => k.serial);
        const [rows, names] = await Promise.all([
          pageKeys.length === 0 ? [] : db.selectFrom('certificates').selectAll().where('serial', 'in', pageKeys).execute(),
          namesOf(db, pageKeys),
        ]);
        const bySerial = new Map(rows.map((r) => [r.serial, r]));
        const pageRows = pageKeys.flatMap((s) => {
          const r = bySerial.get(s);
          return r === undefined ? [] : [r];
        });
        const items = pageRows.map((r) => toCertificate(r, names.get(r.serial) ?? []));
        const last = pageRows.at(-1);
        return keys.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(toNumber(last.issued_at), last.serial) } : { items };
      }),

    listStates: (filter: CertificateFilter = {}, page: PageRequest = {}) =>
      run(async (): Promise<Page<CertificateState>> => {
        const limit = pageLimit(page.limit);
        const selection = selectionOf(db, filter, page);
        if (selection === undefined) return { items: [] };
        // Narrow columns: one step, sorted (where the index does not deliver the order) as keys.
        const rows = await selection.select(['serial', 'issued_at', 'status', 'not_after', 'replaced_by']).limit(limit + 1).execute();
        const items = rows.slice(0, limit).map(
          (r): CertificateState => ({ serial: r.serial, status: r.status === 'revoked' ? 'revoked' : 'valid', notAfter: new Date(toNumber(r.not_after)), replaced: r.replaced_by !== null }),
        );
        const last = rows[limit - 1];
        return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(toNumber(last.issued_at), last.serial) } : { items };
      }),

    markReplaced: (serial, bySerial) =>
      run(() => {
        checkSerial(serial);
        checkSerial(bySerial, 'bySerial');
        if (serial === bySerial) {
          throw new SignetError('ERR_STORE_INVALID_RECORD', 'a certificate cannot replace itself', { detail: { field: 'bySerial' } });
        }
        return atomic(db, async (trx): Promise<ReplaceResult> => {
          const by = await trx.selectFrom('certificates').select('serial').where('serial', '=', bySerial).executeTakeFirst();
          if (by === undefined) {
            throw new SignetError('ERR_STORE_INVALID_RECORD', `the replacing certificate ${bySerial} is not recorded`, { detail: { field: 'bySerial' } });
          }
          const updated = await trx
            .updateTable('certificates')
            .set({ replaced_by: bySerial })
            .where('serial', '=', serial)
            .where('replaced_by', 'is', null)
            .executeTakeFirst();
          if (updated.numUpdatedRows > 0n) return 'replaced';
          const current = await trx.selectFrom('certificates').select('serial').where('serial', '=', serial).executeTakeFirst();
          return current === undefined ? 'not-found' : 'already-replaced';
        });
      }),

    revoke: (serial, revocation) =>
      run(() => {
        checkSerial(serial);
        const r = checkRevocation(revocation);
        return atomic(db, async (trx): Promise<RevokeResult> => {
          const updated = await trx
            .updateTable('certificates')
            .set({ status: 'revoked', revoked_at: r.at, revocation_reason: r.reason, invalid_at: r.invalidAt })
            .where('serial', '=', serial)
            .where('status', '=', 'valid')
            .executeTakeFirst();
          if (updated.numUpdatedRows > 0n) {
            // Only a revocation that happened takes a sequence number (a CRL is then due). Certificate
            // rows first, the counter's row last: every revocation locks in this order, so none
            // deadlocks another, and the counter stays locked until this one commits.
            const seq = await nextRevocationSeq(trx);
            await trx.updateTable('certificates').set({ revoked_seq: Number(seq) }).where('serial', '=', serial).execute();
            return 'revoked';
          }
          const current = await trx.selectFrom('certificates').select('serial').where('serial', '=', serial).executeTakeFirst();
          return current === undefined ? 'not-found' : 'already-revoked';
        });
      }),

    revokeMany: (serials, revocation) =>
      run(async () => {
        if (!Array.isArray(serials)) throw new SignetError('ERR_STORE_INVALID_RECORD', 'serials must be a list', { detail: { field: 'serials' } });
        if (serials.length > MAX_SERIALS) throw new SignetError('ERR_STORE_INVALID_RECORD', `at most ${MAX_SERIALS} serials at once`, { detail: { field: 'serials' } });
        for (const s of serials) checkSerial(s);
        const r = checkRevocation(revocation);
        if (serials.length === 0) return [];
        return atomic(db, async (trx): Promise<string[]> => {
          // Which of them are still valid, by the primary key alone: with `status` in the same
          // WHERE, SQLite walks the status index over every valid certificate instead — a full
          // scan per batch, quadratic over an incident. On PostgreSQL the read locks the rows
          // (rows first, then the counter: the lock order of every revocation).
          const read = trx.selectFrom('certificates').select(['serial', 'status']).where('serial', 'in', serials);
          const rows = await (dialectOf(trx) === 'postgres' ? read.forUpdate() : read).execute();
          const revoked = rows.filter((c) => c.status === 'valid').map((c) => c.serial);
          if (revoked.length === 0) return [];
          // One number for the batch, and one write per certificate.
          const seq = await nextRevocationSeq(trx);
          await trx
            .updateTable('certificates')
            .set({ status: 'revoked', revoked_at: r.at, revocation_reason: r.reason, invalid_at: r.invalidAt, revoked_seq: Number(seq) })
            .where('serial', 'in', revoked)
            .execute();
          return revoked;
        });
      }),
  };
}

/** Validates a revocation; returns its columns. */
function checkRevocation(revocation: Revocation): { at: number; reason: string | null; invalidAt: number | null } {
  if (typeof revocation !== 'object' || revocation === null) {
    throw new SignetError('ERR_STORE_INVALID_RECORD', 'revocation must be an object', { detail: { field: 'revocation' } });
  }
  const at = epochMs(revocation.at, 'at');
  const reason = revocation.reason;
  if (reason !== undefined && (typeof reason !== 'string' || reason.length === 0)) {
    throw new SignetError('ERR_STORE_INVALID_RECORD', 'reason must be a non-empty string', { detail: { field: 'reason' } });
  }
  const invalidAt = revocation.invalidAt === undefined ? null : epochMs(revocation.invalidAt, 'invalidAt');
  if (invalidAt !== null && invalidAt > at) throw new SignetError('ERR_STORE_INVALID_RECORD', 'invalidAt must not be after the revocation', { detail: { field: 'invalidAt' } });
  return { at, reason: reason ?? null, invalidAt };
}

/** Validates a used token; returns its expiry in epoch milliseconds. */
function checkTokenUse(token: TokenUse): number {
  if (typeof token !== 'object' || token === null) {
    throw new SignetError('ERR_STORE_INVALID_RECORD', 'token must be an object', { detail: { field: 'token' } });
  }
  for (const field of ['provisioner', 'jti'] as const) {
    if (typeof token[field] !== 'string' || token[field].length === 0) {
      throw new SignetError('ERR_STORE_INVALID_RECORD', `${field} must be a non-empty string`, { detail: { field } });
    }
  }
  return epochMs(token.expiresAt, 'expiresAt');
}

function tokens(db: Db, run: Runner, hot: HotWrites): TokenRepository {
  return {
    consume: (token: TokenUse) =>
      run(async () => {
        const expiresAt = checkTokenUse(token);
        // The primary key decides: of concurrent inserts, on any connection, exactly one inserts
        // a row; the others conflict and insert nothing (no read-then-write race).
        const result = await hot.consumeToken(db, [token.provisioner, token.jti, expiresAt]);
        return result.numAffectedRows === 1n;
      }),

    purgeExpired: (now) =>
      run(async () => {
        const t = epochMs(now, 'now');
        const result = await db.deleteFrom('used_tokens').where('expires_at', '<', t).executeTakeFirst();
        return Number(result.numDeletedRows);
      }),
  };
}

function audit(db: Db, run: Runner, hot: HotWrites): AuditRepository {
  return {
    append: (event: AuditEventInput) =>
      run(async () => {
        const { time, detail } = checkAuditEvent(event);
        const result = await hot.appendAudit(db, [time, event.type, event.outcome, event.actor, event.provisioner ?? null, event.serial ?? null, event.reason ?? null, detail]);
        const row = result.rows[0] as { id: number | string | bigint } | undefined;
        if (row === undefined) throw new SignetError('ERR_INTERNAL', 'the audit event was not stored');
        return toNumber(row.id);
      }),

    list: (query: AuditQuery = {}) =>
      run(async () => {
        const limit = pageLimit(query.limit);
        let q = db.selectFrom('audit_events').selectAll();
        if (query.since !== undefined) q = q.where('time', '>=', queryTime(query.since, 'since'));
        if (query.until !== undefined) q = q.where('time', '<', queryTime(query.until, 'until'));
        if (query.type !== undefined) q = q.where('type', '=', queryText(query.type, 'type'));
        if (query.serial !== undefined) q = q.where('serial', '=', querySerial(query.serial, 'serial'));
        const rows = await q.orderBy('time', 'desc').orderBy('id', 'desc').limit(limit).execute();
        return rows.map((r): AuditEvent => {
          const detail: unknown = r.detail === null ? undefined : JSON.parse(r.detail);
          return {
            id: toNumber(r.id),
            time: new Date(toNumber(r.time)),
            type: r.type,
            outcome: r.outcome === 'failure' ? 'failure' : 'success',
            actor: r.actor,
            ...(r.provisioner !== null && { provisioner: r.provisioner }),
            ...(r.serial !== null && { serial: r.serial }),
            ...(r.reason !== null && { reason: r.reason }),
            ...(typeof detail === 'object' && detail !== null && { detail: detail as Record<string, unknown> }),
          };
        });
      }),
  };
}

function coordination(db: Db, run: Runner): CoordinationRepository {
  const text = (v: unknown, field: string): string => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) {
      throw new SignetError('ERR_STORE_INVALID_RECORD', `${field} must be a non-empty string of at most 256 characters`, { detail: { field } });
    }
    return v;
  };
  return {
    acquireLease: (name, holder, now, ttlMs) =>
      run(async () => {
        text(name, 'name');
        text(holder, 'holder');
        const t = epochMs(now, 'now');
        if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new SignetError('ERR_STORE_INVALID_RECORD', 'ttlMs must be a positive integer', { detail: { field: 'ttlMs' } });
        // One statement decides, on any backend and connection: insert the lease, or take it over
        // when it expired or is ours; a row comes back only when we hold it.
        const row = await db
          .insertInto('job_leases')
          .values({ name, holder, expires_at: t + ttlMs })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({ holder, expires_at: t + ttlMs })
              .where((eb) => eb.or([eb('job_leases.expires_at', '<=', t), eb('job_leases.holder', '=', holder)])),
          )
          .returning('holder')
          .executeTakeFirst();
        return row !== undefined;
      }),

    releaseLease: (name, holder) =>
      run(async () => {
        await db.deleteFrom('job_leases').where('name', '=', text(name, 'name')).where('holder', '=', text(holder, 'holder')).execute();
      }),

    nextCounterValue: (name) =>
      run(async () => {
        const row = await db
          .insertInto('counters')
          .values({ name: text(name, 'name'), value: 1 })
          .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
          .returning('value')
          .executeTakeFirstOrThrow();
        return BigInt(row.value);
      }),
  };
}

function repositories(db: Db, run: Runner, hot: HotWrites): StoreTx {
  return {
    certificates: certificates(db, run, hot),
    tokens: tokens(db, run, hot),
    audit: audit(db, run, hot),
    coordination: coordination(db, run),
    acme: acmeRepository(db, run),
    revocations: revocationRepository(db, run),
    spiffe: spiffeRepository(db, run),
  };
}

/** The ACME repository's methods that write (with group commit they join a group). */
const ACME_WRITES = ['createAccount', 'updateAccount', 'createOrder', 'updateOrder', 'updateAuthorization', 'updateChallenge', 'addEabKey', 'bindEabKey', 'removeEabKey', 'setting', 'setRenewalWindows', 'purgeExpired'] as const satisfies readonly (keyof AcmeRepository)[];

/** The SPIFFE repository's methods that write (with group commit they run in a transaction of their own). */
const SPIFFE_WRITES = ['addJwtKey', 'pruneJwtKeys', 'publishOwnBundle', 'saveFederatedBundle', 'addFederation', 'recordFederationFailure', 'removeFederation', 'createEntry', 'updateEntry', 'deleteEntry', 'purgeDeletedEntries', 'addJoinToken', 'useJoinToken', 'purgeJoinTokens', 'addTpmChallenge', 'takeTpmChallenge', 'purgeTpmChallenges', 'attestAgent', 'renewAgent', 'setAgentBanned', 'deleteAgent'] as const satisfies readonly (keyof SpiffeRepository)[];

/** A transaction waiting for its turn in a group commit. */
interface Waiting {
  readonly fn: (tx: StoreTx) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

// Savepoint commands of a group member (SQLite and PostgreSQL spell them alike); members run one
// after the other, so one name serves all. Raw: Kysely's savepoint builder compiles them anew each time.
const SAVEPOINT = CompiledQuery.raw('savepoint signet_member');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint signet_member');
const RELEASE = CompiledQuery.raw('release savepoint signet_member');

/**
 * A {@link Store} over a migrated Kysely database. The backend opens the connection, migrates,
 * and hands it here with its error translation.
 */
export function createKyselyStore(db: Db, options: KyselyStoreOptions): Store {
  // Marks the async context of a transaction callback, so that a call to this store's own
  // repositories from inside it is refused instead of waiting forever for the connection the
  // transaction holds (SQLite) or silently running outside the transaction (PostgreSQL).
  const context = new AsyncLocalStorage<{ active: boolean }>();
  const running = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  const translate = (e: unknown): unknown => options.translateError(e);
  const direct = options.direct;
  const hot = hotWrites(direct);
  /** A savepoint command of a group member, on the connection the group's transaction holds. */
  const savepoint = async (trx: Db, query: CompiledQuery): Promise<unknown> => (direct !== undefined ? direct(query.sql, []) : trx.executeQuery(query));
  const track = <T>(p: Promise<T>): Promise<T> => {
    running.add(p);
    const forget = () => running.delete(p);
    p.then(forget, forget);
    return p;
  };
  const mayStart = (): void => {
    if (closing !== undefined) throw new SignetError('ERR_STORE_CLOSED', 'the store is closed');
    if (context.getStore()?.active === true) {
      throw new SignetError('ERR_INTERNAL', 'inside store.transaction(), use the repositories passed to the callback');
    }
  };

  const guarded = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (e) {
      throw translate(e);
    }
  };

  const outer: Runner = async (op) => {
    mayStart();
    return track(guarded(op));
  };

  /** Runs one transaction callback on `trx`, in its own context; never throws. */
  const runCallback = async (fn: (tx: StoreTx) => Promise<unknown>, trx: Db): Promise<Outcome> => {
    const state = { active: true };
    const inner: Runner = async (op) => {
      if (!state.active) throw new SignetError('ERR_STORE_CLOSED', 'the transaction has already ended');
      return guarded(op);
    };
    try {
      return { ok: true, value: await context.run(state, () => fn(repositories(trx, inner, hot))) };
    } catch (error) {
      return { ok: false, error };
    } finally {
      state.active = false;
    }
  };

  // -- group commit (see the module comment)
  const waiting: Waiting[] = [];
  let draining = false;

  /** One BEGIN … COMMIT for the transactions waiting now (and those that arrive while BEGIN waits for the lock). */
  const runGroup = async (): Promise<void> => {
    let trx: ControlledTransaction<StoreDatabase>;
    try {
      trx = await db.startTransaction().execute();
    } catch (e) {
      // No lock (ERR_STORE_BUSY) or no database: every waiting transaction fails alike.
      for (const w of waiting.splice(0)) w.reject(translate(e));
      return;
    }
    const group = waiting.splice(0, MAX_GROUP);
    const outcomes: Outcome[] = [];
    try {
      const only = group.length === 1 ? group[0] : undefined;
      if (only !== undefined) {
        const outcome = await runCallback(only.fn, trx);
        if (!outcome.ok) {
          // After a full disk SQLite has already rolled back; ROLLBACK then fails, and that is fine.
          await trx.rollback().execute().catch((e: unknown) => {
            if (options.inTransaction?.() !== false) throw e;
          });
          only.reject(translate(outcome.error));
          return;
        }
        outcomes.push(outcome);
      } else {
        for (const w of group) {
          await savepoint(trx, SAVEPOINT);
          const outcome = await runCallback(w.fn, trx);
          // The database rolled everything back (full disk, I/O error): the whole group failed with it.
          if (!outcome.ok && options.inTransaction?.() === false) throw outcome.error;
          if (!outcome.ok) await savepoint(trx, ROLLBACK_TO);
          await savepoint(trx, RELEASE);
          outcomes.push(outcome);
        }
      }
      await trx.commit().execute();
    } catch (e) {
      // A savepoint command or the COMMIT failed: nothing of the group was committed.
      if (!trx.isCommitted && !trx.isRolledBack) await trx.rollback().execute().catch(() => undefined);
      for (const w of group) w.reject(translate(e));
      return;
    }
    group.forEach((w, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) w.resolve(outcome.value);
      else w.reject(translate(outcome.error));
    });
  };

  const drain = async (): Promise<void> => {
    try {
      while (waiting.length > 0) await runGroup();
    } finally {
      draining = false;
    }
  };

  const grouped = <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!draining) {
        draining = true;
        // Let the requests that are already readable reach their transactions first: they join this group.
        setImmediate(() => void drain());
      }
    });

  const single = async <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    try {
      return await db.transaction().execute(async (trx) => {
        const outcome = await runCallback(fn, trx);
        if (!outcome.ok) throw outcome.error;
        return outcome.value as T;
      });
    } catch (e) {
      throw translate(e);
    }
  };

  const transaction = async <T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> => {
    mayStart();
    return track(options.groupCommit === true ? grouped(fn) : single(fn));
  };

  const repos = repositories(db, outer, hot);
  // With group commit, writes outside a transaction join a group too (they need the write lock
  // and a COMMIT just the same); reads run at once.
  const viaGroup = <A extends unknown[], R>(op: (tx: StoreTx, ...args: A) => Promise<R>) => (...args: A): Promise<R> => transaction((tx) => op(tx, ...args));
  const writes: StoreTx =
    options.groupCommit === true
      ? {
          certificates: {
            ...repos.certificates,
            insert: viaGroup((tx, record: CertificateRecord) => tx.certificates.insert(record)),
            markReplaced: viaGroup((tx, serial: string, bySerial: string) => tx.certificates.markReplaced(serial, bySerial)),
            revoke: viaGroup((tx, serial: string, revocation: Parameters<CertificateRepository['revoke']>[1]) => tx.certificates.revoke(serial, revocation)),
            revokeMany: viaGroup((tx, serials: readonly string[], revocation: Parameters<CertificateRepository['revokeMany']>[1]) => tx.certificates.revokeMany(serials, revocation)),
          },
          tokens: {
            consume: viaGroup((tx, token: TokenUse) => tx.tokens.consume(token)),
            purgeExpired: viaGroup((tx, now: Date) => tx.tokens.purgeExpired(now)),
          },
          audit: { ...repos.audit, append: viaGroup((tx, event: AuditEventInput) => tx.audit.append(event)) },
          coordination: {
            acquireLease: viaGroup((tx, name: string, holder: string, now: Date, ttlMs: number) => tx.coordination.acquireLease(name, holder, now, ttlMs)),
            releaseLease: viaGroup((tx, name: string, holder: string) => tx.coordination.releaseLease(name, holder)),
            nextCounterValue: viaGroup((tx, name: string) => tx.coordination.nextCounterValue(name)),
          },
          revocations: { ...repos.revocations, saveCrl: viaGroup((tx, crl: CrlRecord, keep: number) => tx.revocations.saveCrl(crl, keep)) },
          spiffe: {
            ...repos.spiffe,
            ...Object.fromEntries(
              SPIFFE_WRITES.map((m) => [m, (...args: unknown[]) => transaction((tx) => (tx.spiffe[m] as (...a: unknown[]) => Promise<unknown>)(...args))]),
            ),
          },
          acme: {
            ...repos.acme,
            ...Object.fromEntries(
              ACME_WRITES.map((m) => [m, (...args: unknown[]) => transaction((tx) => (tx.acme[m] as (...a: unknown[]) => Promise<unknown>)(...args))]),
            ),
          },
        }
      : repos;

  /** Thrown inside the generic recordIssuance transaction to roll it back: the token was used. */
  class TokenUsed extends Error {}
  const recordIssuance = async (issuance: Issuance): Promise<'recorded' | 'token-used'> => {
    mayStart();
    if (typeof issuance !== 'object' || issuance === null) throw new SignetError('ERR_STORE_INVALID_RECORD', 'issuance must be an object', { detail: { field: 'issuance' } });
    const fast = options.recordIssuance;
    if (fast !== undefined) {
      const checked: CheckedIssuance = {
        certificate: checkCertificate(issuance.certificate),
        event: checkAuditEvent(issuance.event),
        tokenExpiresAt: checkTokenUse(issuance.token),
      };
      return track(guarded(() => fast(db, issuance, checked)));
    }
    try {
      await transaction(async (tx) => {
        if (!(await tx.tokens.consume(issuance.token))) throw new TokenUsed('token used');
        await tx.certificates.insert(issuance.certificate);
        await tx.audit.append(issuance.event);
      });
      return 'recorded';
    } catch (e) {
      if (e instanceof TokenUsed) return 'token-used';
      throw e;
    }
  };

  return {
    ...writes,
    transaction,
    recordIssuance,

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.allSettled([...running]);
        await options.destroy();
      })();
      return closing;
    },
  };
}
