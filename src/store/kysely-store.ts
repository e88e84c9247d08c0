/**
 * The store's repositories over Kysely, shared by every SQL backend: SQLite (sqlite.ts) now,
 * PostgreSQL next. Only portable SQL is written here — INSERT … ON CONFLICT DO NOTHING, row-value
 * comparisons, RETURNING, IN sub-queries — and no error is detected by parsing a driver message:
 * a duplicate serial or a replayed token is an insert that inserted nothing, which also keeps a
 * PostgreSQL transaction usable after it. Driver errors are mapped by the backend's
 * `translateError`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Selectable } from 'kysely';
import { SignetError } from '../core/errors.js';
import type { CertificateNamesTable, CertificatesTable, StoreDatabase } from './schema.js';
import type {
  AuditEvent,
  AuditEventInput,
  AuditQuery,
  AuditRepository,
  CertificateFilter,
  CertificateName,
  CertificateNameType,
  CertificateRecord,
  CertificateRepository,
  Page,
  PageRequest,
  ReplaceResult,
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

/** What a backend supplies to {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /** Maps a driver error to a SignetError; returns anything else unchanged. */
  translateError(error: unknown): unknown;
  /** Releases the connection(s); called once by `close()` after running operations finished. */
  destroy(): Promise<void>;
}

type Db = Kysely<StoreDatabase>;
/** Runs one repository operation: checks that it may run, maps driver errors. */
type Runner = <T>(op: () => Promise<T>) => Promise<T>;

// Rows per multi-row INSERT of names: 5 parameters each stays far below every driver's limit.
const NAME_BATCH = 500;

function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

/** A byte view a driver binds as a BLOB / BYTEA, without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Runs `fn` atomically: in the caller's transaction when there is one, else in a new one. */
function atomic<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
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
    ...(row.replaced_by !== null && { replacedBy: row.replaced_by }),
    ...(row.replaces !== null && { replaces: row.replaces }),
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

function certificates(db: Db, run: Runner): CertificateRepository {
  return {
    insert: (record) =>
      run(async () => {
        const t = checkCertificate(record);
        await atomic(db, async (trx) => {
          const result = await trx
            .insertInto('certificates')
            .values({
              serial: record.serial,
              issuer_serial: record.issuerSerial ?? null,
              subject: record.subject,
              not_before: t.notBefore,
              not_after: t.notAfter,
              key_fingerprint: record.keyFingerprint,
              key_type: record.keyType,
              provisioner: record.provisioner,
              requester: record.requester,
              profile: record.profile,
              status: record.status,
              revoked_at: t.revokedAt,
              revocation_reason: record.revocationReason ?? null,
              replaced_by: record.replacedBy ?? null,
              replaces: record.replaces ?? null,
              issued_at: t.issuedAt,
              der: asBuffer(record.der),
            })
            .onConflict((oc) => oc.column('serial').doNothing())
            .executeTakeFirst();
          if (result.numInsertedOrUpdatedRows !== 1n) {
            throw new SignetError('ERR_STORE_DUPLICATE_SERIAL', `a certificate with serial ${record.serial} is already recorded`, {
              detail: { serial: record.serial },
            });
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
        let q = db.selectFrom('certificates').selectAll();
        if (filter.status !== undefined) {
          if (filter.status !== 'valid' && filter.status !== 'revoked') throw badQuery("status must be 'valid' or 'revoked'", 'status');
          q = q.where('status', '=', filter.status);
        }
        if (filter.expiresBefore !== undefined) q = q.where('not_after', '<', queryTime(filter.expiresBefore, 'expiresBefore'));
        if (filter.expiresAfter !== undefined) q = q.where('not_after', '>=', queryTime(filter.expiresAfter, 'expiresAfter'));
        if (filter.issuedBefore !== undefined) q = q.where('issued_at', '<', queryTime(filter.issuedBefore, 'issuedBefore'));
        if (filter.issuedAfter !== undefined) q = q.where('issued_at', '>=', queryTime(filter.issuedAfter, 'issuedAfter'));
        if (filter.provisioner !== undefined) q = q.where('provisioner', '=', queryText(filter.provisioner, 'provisioner'));
        if (filter.keyFingerprint !== undefined) q = q.where('key_fingerprint', '=', queryText(filter.keyFingerprint, 'keyFingerprint'));
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
          if (filter.serials.length === 0) return { items: [] };
          q = q.where('serial', 'in', filter.serials);
        }
        if (cursor !== undefined) {
          const after = cursor;
          q = q.where((eb) => eb(eb.refTuple('issued_at', 'serial'), '>', eb.tuple(after.issuedAt, after.serial)));
        }
        const rows = await q.orderBy('issued_at').orderBy('serial').limit(limit + 1).execute();
        const pageRows = rows.slice(0, limit);
        const names = await namesOf(db, pageRows.map((r) => r.serial));
        const items = pageRows.map((r) => toCertificate(r, names.get(r.serial) ?? []));
        const last = pageRows.at(-1);
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
        if (typeof revocation !== 'object' || revocation === null) {
          throw new SignetError('ERR_STORE_INVALID_RECORD', 'revocation must be an object', { detail: { field: 'revocation' } });
        }
        const at = epochMs(revocation.at, 'at');
        const reason = revocation.reason;
        if (reason !== undefined && (typeof reason !== 'string' || reason.length === 0)) {
          throw new SignetError('ERR_STORE_INVALID_RECORD', 'reason must be a non-empty string', { detail: { field: 'reason' } });
        }
        return atomic(db, async (trx): Promise<RevokeResult> => {
          const updated = await trx
            .updateTable('certificates')
            .set({ status: 'revoked', revoked_at: at, revocation_reason: reason ?? null })
            .where('serial', '=', serial)
            .where('status', '=', 'valid')
            .executeTakeFirst();
          if (updated.numUpdatedRows > 0n) return 'revoked';
          const current = await trx.selectFrom('certificates').select('serial').where('serial', '=', serial).executeTakeFirst();
          return current === undefined ? 'not-found' : 'already-revoked';
        });
      }),
  };
}

function tokens(db: Db, run: Runner): TokenRepository {
  return {
    consume: (token: TokenUse) =>
      run(async () => {
        if (typeof token !== 'object' || token === null) {
          throw new SignetError('ERR_STORE_INVALID_RECORD', 'token must be an object', { detail: { field: 'token' } });
        }
        for (const field of ['provisioner', 'jti'] as const) {
          if (typeof token[field] !== 'string' || token[field].length === 0) {
            throw new SignetError('ERR_STORE_INVALID_RECORD', `${field} must be a non-empty string`, { detail: { field } });
          }
        }
        const expiresAt = epochMs(token.expiresAt, 'expiresAt');
        // The primary key decides: of concurrent inserts, on any connection, exactly one inserts
        // a row; the others conflict and insert nothing (no read-then-write race).
        const result = await db
          .insertInto('used_tokens')
          .values({ provisioner: token.provisioner, jti: token.jti, expires_at: expiresAt })
          .onConflict((oc) => oc.columns(['provisioner', 'jti']).doNothing())
          .executeTakeFirst();
        return result.numInsertedOrUpdatedRows === 1n;
      }),

    purgeExpired: (now) =>
      run(async () => {
        const t = epochMs(now, 'now');
        const result = await db.deleteFrom('used_tokens').where('expires_at', '<', t).executeTakeFirst();
        return Number(result.numDeletedRows);
      }),
  };
}

function audit(db: Db, run: Runner): AuditRepository {
  return {
    append: (event: AuditEventInput) =>
      run(async () => {
        const { time, detail } = checkAuditEvent(event);
        const row = await db
          .insertInto('audit_events')
          .values({
            time,
            type: event.type,
            outcome: event.outcome,
            actor: event.actor,
            provisioner: event.provisioner ?? null,
            serial: event.serial ?? null,
            reason: event.reason ?? null,
            detail,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
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

function repositories(db: Db, run: Runner): StoreTx {
  return { certificates: certificates(db, run), tokens: tokens(db, run), audit: audit(db, run) };
}

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

  return {
    ...repositories(db, outer),

    async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      mayStart();
      const state = { active: true };
      const inner: Runner = async (op) => {
        if (!state.active) throw new SignetError('ERR_STORE_CLOSED', 'the transaction has already ended');
        return guarded(op);
      };
      const run = async (): Promise<T> => {
        try {
          return await db.transaction().execute((trx) => context.run(state, () => fn(repositories(trx, inner))));
        } catch (e) {
          throw translate(e);
        } finally {
          state.active = false;
        }
      };
      return track(run());
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.allSettled([...running]);
        await options.destroy();
      })();
      return closing;
    },
  };
}
