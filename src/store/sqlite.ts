/**
 * The embedded default backend (DESIGN.md "Scale": one node, SQLite in WAL mode). One
 * better-sqlite3 connection per store; Kysely serialises the store's operations on it, and other
 * connections — other processes, or other stores on the same file — are kept consistent by
 * SQLite's locks:
 * - WAL, so readers never wait for the writer;
 * - `busy_timeout`, so a writer waits for another connection's write instead of failing;
 * - every transaction starts with BEGIN IMMEDIATE: it takes the write lock up front instead of
 *   upgrading a read lock later, which in WAL mode fails at once with SQLITE_BUSY_SNAPSHOT
 *   whenever another connection committed in between. BEGIN does not wait in SQLite's busy
 *   handler, which sleeps with the whole process (better-sqlite3 is synchronous: a 1 ms… 100 ms
 *   sleep per attempt, while the other replica needs well under a millisecond): it tries once
 *   without waiting and retries on the event loop, so the process keeps serving requests — which
 *   join the next group commit — until the lock is free or `busy_timeout` has passed;
 * - group commit (kysely-store.ts): the transactions waiting for the connection share one
 *   COMMIT, i.e. one fsync;
 * - `synchronous = FULL`: a committed issuance survives a power cut (NORMAL could lose the last
 *   transactions, i.e. certificates that exist but are not in the inventory);
 * - foreign keys on (SQLite's default is off);
 * - `temp_store = MEMORY`: each transaction of a group commit runs in a SAVEPOINT, whose statement
 *   journal (the pages it changed, ≈ 100 KiB for one issuance) otherwise spills to a temporary
 *   file that is created, written and deleted for every member — about half the cost of its
 *   inserts. Only temporary data moves to memory; the database and its WAL are synced as before.
 * The database file is created 0600 in a directory created 0700; SQLite gives its -wal and -shm
 * files the database file's mode.
 */
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { createKyselyStore, type DirectRun } from './kysely-store.js';
import { migrate } from './migrations.js';
import type { StoreDatabase } from './schema.js';
import type { Store } from './store.js';

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Time source for the migration bookkeeping. */
  readonly clock: Clock;
  /** How long a write waits for another connection's write lock before ERR_STORE_BUSY; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /**
   * Caps the database at this many pages (SQLite's `max_page_count`): a write that would grow it
   * further fails as on a full disk (ERR_STORE_IO, nothing written). For embedders that must not
   * fill a volume, and for the tests of that failure.
   */
  readonly maxPageCount?: number;
}

/** Prepared statements kept per connection (Kysely prepares every query anew otherwise). */
const STATEMENT_CACHE = 256;

/** Retries of BEGIN IMMEDIATE on the next turn of the event loop before waiting 1 ms between them. */
const QUICK_RETRIES = 8;

/** SQLite result codes that mean "another connection holds the lock". */
const BUSY_CODES = /^SQLITE_(BUSY|LOCKED)/;

/**
 * BEGIN IMMEDIATE that waits for another connection's write lock on the event loop instead of
 * in SQLite's sleeping busy handler (see the module comment); after `busyTimeoutMs` the last
 * SQLITE_BUSY is thrown (ERR_STORE_BUSY once translated).
 */
function asyncBeginImmediate(raw: Database.Database, busyTimeoutMs: number): () => Promise<void> {
  const begin = raw.prepare('begin immediate');
  /** Undefined when the transaction began, the SQLITE_BUSY error when the lock is taken. */
  const tryBegin = (): InstanceType<typeof Database.SqliteError> | undefined => {
    // Not a prepared statement: SQLite applies `pragma busy_timeout` when it compiles it.
    raw.pragma('busy_timeout = 0');
    try {
      begin.run();
      return undefined;
    } catch (e) {
      if (e instanceof Database.SqliteError && BUSY_CODES.test(e.code)) return e;
      throw e;
    } finally {
      raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
  };
  return async () => {
    const deadline = performance.now() + busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const busy = tryBegin();
      if (busy === undefined) return;
      if (performance.now() >= deadline) throw busy;
      await new Promise<void>((resolve) => (attempt < QUICK_RETRIES ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  };
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #begin: () => Promise<void>;
  constructor(config: SqliteDialectConfig, begin: () => Promise<void>) {
    super(config);
    this.#begin = begin;
  }
  override async beginTransaction(): Promise<void> {
    await this.#begin();
  }
}

/** Kysely's SQLite dialect with BEGIN IMMEDIATE transactions (see the module comment). */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #begin: () => Promise<void>;
  constructor(config: SqliteDialectConfig, begin: () => Promise<void>) {
    super(config);
    this.#config = config;
    this.#begin = begin;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#begin);
  }
}

/**
 * The connection as Kysely sees it, with a bounded cache of prepared statements, and `direct`:
 * the same statements run synchronously, bypassing Kysely (kysely-store.ts uses it for the hot
 * writes of an issuance inside its transactions), with the result Kysely's driver would give.
 */
function cachingDatabase(raw: Database.Database): SqliteDatabase & { direct: DirectRun } {
  const cache = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    let statement = cache.get(source);
    if (statement === undefined) {
      statement = raw.prepare(source);
      if (cache.size >= STATEMENT_CACHE) {
        const oldest = cache.keys().next();
        if (oldest.done !== true) cache.delete(oldest.value);
      }
      cache.set(source, statement);
    }
    return statement;
  };
  return {
    close: () => raw.close(),
    prepare,
    direct(source, parameters) {
      const statement = prepare(source);
      if (statement.reader) return { rows: statement.all(parameters) };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    },
  };
}

const IO_CODES = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|FULL|IOERR|READONLY|PERM|AUTH|NOLFS|PROTOCOL)/;

/**
 * Maps a better-sqlite3 or file-system error to the store's codes: lock timeouts to
 * ERR_STORE_BUSY, file and disk problems to ERR_STORE_IO, any other SQLite error (a violated
 * constraint the store did not expect) to ERR_INTERNAL. Anything else is returned unchanged.
 */
export function translateSqliteError(error: unknown, path: string): unknown {
  if (error instanceof Database.SqliteError) {
    const code = error.code;
    if (BUSY_CODES.test(code)) {
      return new SignetError('ERR_STORE_BUSY', `the database ${path} stayed locked by another connection`, {
        hint: 'another signet process is writing to it; retry, or raise the busy timeout',
        cause: error,
        detail: { path, sqlite: code },
      });
    }
    if (IO_CODES.test(code)) {
      return new SignetError('ERR_STORE_IO', `cannot use the database ${path}: ${error.message.toLowerCase()}`, {
        cause: error,
        detail: { path, sqlite: code },
      });
    }
    return new SignetError('ERR_INTERNAL', `unexpected database error (${code})`, { cause: error, detail: { sqlite: code } });
  }
  if (error instanceof TypeError && error.message.includes('database connection is not open')) {
    return new SignetError('ERR_STORE_CLOSED', 'the store is closed', { cause: error });
  }
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && 'syscall' in error) {
    return new SignetError('ERR_STORE_IO', `cannot create the database ${path}: ${error.code}`, { cause: error, detail: { path, errno: error.code } });
  }
  return error;
}

/**
 * Opens (creating when missing) the SQLite database at `path` and configures the connection as
 * the module comment describes. `:memory:` gives a private in-memory database (no WAL). The
 * caller owns the connection; most code wants {@link openSqliteStore} instead.
 */
export function openSqliteConnection(path: string, options: { busyTimeoutMs?: number } = {}): Database.Database {
  const memory = path === ':memory:';
  const where = memory ? path : resolve(path);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new SignetError('ERR_INTERNAL', 'busyTimeoutMs must be a non-negative integer');
  }
  let raw: Database.Database | undefined;
  try {
    if (!memory) {
      mkdirSync(dirname(where), { recursive: true, mode: 0o700 });
      try {
        // Create it ourselves so that it is 0600 from the first byte (better-sqlite3 would use 0644).
        closeSync(openSync(where, 'wx', 0o600));
      } catch (e) {
        if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
      }
    }
    raw = new Database(where, { timeout: busyTimeoutMs });
    raw.pragma('foreign_keys = ON');
    raw.pragma('synchronous = FULL');
    raw.pragma('temp_store = MEMORY');
    // 64 MiB of page cache (SQLite's default is 2 MiB): at a million certificates the indexes a
    // revocation touches no longer fit in 2 MiB, and every bulk-revocation batch paid for it.
    raw.pragma('cache_size = -65536');
    if (!memory) {
      const mode: unknown = raw.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new SignetError('ERR_STORE_IO', `cannot switch the database ${where} to WAL mode (it stays in ${String(mode)})`);
    }
    return raw;
  } catch (e) {
    raw?.close();
    throw translateSqliteError(e, where);
  }
}

/**
 * The connection of {@link openSqliteConnection} behind Kysely, with BEGIN IMMEDIATE
 * transactions and the statement cache: what the store runs on, and what `signet db status` and
 * `signet db migrate` use directly. Nothing is migrated.
 */
export function openSqliteKysely(
  path: string,
  options: { busyTimeoutMs?: number; readSnapshots?: boolean } = {},
): { db: Kysely<StoreDatabase>; raw: Database.Database; where: string; database: ReturnType<typeof cachingDatabase> } {
  const where = path === ':memory:' ? path : resolve(path);
  const raw = openSqliteConnection(where, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
  const database = cachingDatabase(raw);
  // readSnapshots: plain (deferred) BEGIN, for a connection that only reads in its transactions —
  // a WAL snapshot that never takes the write lock, so a CA serving from the file keeps writing.
  if (options.readSnapshots === true) return { db: new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database }) }), raw, where, database };
  const begin = asyncBeginImmediate(raw, raw.pragma('busy_timeout', { simple: true }) as number);
  return { db: new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }, begin) }), raw, where, database };
}

/**
 * Opens the SQLite store at `path` (`:memory:` for tests): creates the directory (0700) and the
 * file (0600) when missing, configures the connection (WAL, busy timeout, foreign keys,
 * synchronous FULL) and applies pending migrations. ERR_STORE_SCHEMA_NEWER when the database
 * was migrated by a newer signet; ERR_STORE_IO when the file cannot be created or is not a
 * SQLite database; ERR_STORE_BUSY when another connection holds the lock for longer than
 * `busyTimeoutMs`.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions): Promise<Store> {
  const { db, raw, where, database } = openSqliteKysely(path, options);
  if (options.maxPageCount !== undefined) raw.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxPageCount))}`);
  const translateError = (e: unknown): unknown => translateSqliteError(e, where);
  try {
    await migrate(db, options.clock);
  } catch (e) {
    await db.destroy();
    if (raw.open) raw.close();
    // A migration that failed because of the file or a lock is reported as such.
    if (isSignetError(e, 'ERR_STORE_MIGRATION_FAILED')) {
      const cause = translateError(e.cause);
      if (isSignetError(cause) && cause.code !== 'ERR_INTERNAL') throw cause;
    }
    throw translateError(e);
  }
  return createKyselyStore(db, {
    translateError,
    destroy: () => db.destroy(),
    groupCommit: true,
    direct: (sql, parameters) => database.direct(sql, parameters),
    inTransaction: () => raw.open && raw.inTransaction,
  });
}
