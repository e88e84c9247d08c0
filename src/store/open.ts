/**
 * Opens the store a CA config names (`$.db`): SQLite (the embedded default) or PostgreSQL, whose
 * password comes from a file or an environment variable — never from the config itself. The
 * backend's modules are loaded only when that backend is used (start-up cost of the CLI).
 */
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { MAX_PASSWORD_FILE_BYTES, passwordFromFile } from '../core/password-file.js';
import type { Kysely } from 'kysely';
import type { StoreDatabase } from './schema.js';
import type { Store } from './store.js';

/** Where the store lives, validated. */
export type DbConfig =
  | { readonly type: 'sqlite'; readonly path: string }
  | {
      readonly type: 'postgres';
      readonly url: string;
      readonly passwordFile: string | undefined;
      readonly passwordEnv: string | undefined;
      readonly poolSize: number;
      readonly statementTimeoutMs: number;
      readonly connectTimeoutMs: number;
      readonly tls: { readonly mode: 'disable' | 'require' | 'verify-full'; readonly ca: string | undefined };
    };

/** Options of {@link openConfiguredStore}. */
export interface OpenStoreOptions {
  readonly clock: Clock;
  /** Where `passwordEnv` is looked up; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reads a small file (the database password, its CA certificate) with a size bound; ERR_FILE_NOT_FOUND / ERR_STORE_IO. */
function readSmall(path: string, what: string, max: number): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new SignetError('ERR_FILE_NOT_FOUND', `${what} ${path} does not exist`, { cause: e });
    throw new SignetError('ERR_STORE_IO', `cannot read ${what} ${path}: ${String(code ?? e)}`, { cause: e });
  }
  if (data.length > max) throw new SignetError('ERR_INPUT_TOO_LARGE', `${what} ${path} is larger than ${max} bytes`);
  return data;
}

/** The database password a PostgreSQL `db` config refers to (undefined when it names none). */
export function databasePassword(db: Extract<DbConfig, { type: 'postgres' }>, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if (db.passwordFile !== undefined) return passwordFromFile(readSmall(db.passwordFile, 'database password file', MAX_PASSWORD_FILE_BYTES), db.passwordFile);
  if (db.passwordEnv !== undefined) {
    const value = env[db.passwordEnv];
    if (value === undefined || value === '') {
      throw new SignetError('ERR_PASSWORD_EMPTY', `the environment variable ${db.passwordEnv} (the database password) is not set`, {
        hint: `export ${db.passwordEnv} before starting signet, or use "passwordFile" in $.db`,
      });
    }
    return value;
  }
  return undefined;
}

/** The connection settings of a PostgreSQL `db` config, with its password and CA certificate read. */
function postgresOptions(db: Extract<DbConfig, { type: 'postgres' }>, env: OpenStoreOptions['env']) {
  const password = databasePassword(db, env);
  const ca = db.tls.ca === undefined ? undefined : readSmall(db.tls.ca, 'database CA certificate file', 1024 * 1024).toString('utf8');
  return {
    ...(password !== undefined ? { password } : {}),
    poolSize: db.poolSize,
    statementTimeoutMs: db.statementTimeoutMs,
    connectTimeoutMs: db.connectTimeoutMs,
    tls: { mode: db.tls.mode, ...(ca !== undefined ? { ca } : {}) },
  };
}

/** Opens (and migrates) the store `db` describes. */
export async function openConfiguredStore(db: DbConfig, options: OpenStoreOptions): Promise<Store> {
  if (db.type === 'sqlite') {
    const { openSqliteStore } = await import('./sqlite.js');
    return openSqliteStore(db.path, { clock: options.clock });
  }
  const { openPostgresStore } = await import('./postgres.js');
  return openPostgresStore(db.url, { clock: options.clock, ...postgresOptions(db, options.env) });
}

/**
 * Runs `fn` on the raw database `db` describes (no store, no migrations: what `signet db status`
 * and `signet db migrate` work on), with the backend's error translation applied to whatever it
 * throws, and closes the connection afterwards. A SQLite file that does not exist is
 * ERR_FILE_NOT_FOUND rather than a new, empty database.
 */
export async function withDatabase<T>(
  db: DbConfig,
  options: Pick<OpenStoreOptions, 'env'> & { readonly readSnapshots?: boolean; readonly mustExist?: boolean },
  fn: (kysely: Kysely<StoreDatabase>) => Promise<T>,
): Promise<T> {
  let kysely: Kysely<StoreDatabase>;
  let translate: (e: unknown) => unknown;
  if (db.type === 'sqlite') {
    const { existsSync } = await import('node:fs');
    if (options.mustExist !== false && !existsSync(db.path)) throw new SignetError('ERR_FILE_NOT_FOUND', `the CA database ${db.path} does not exist`, { hint: 'create the CA with "signet ca init", or check $.db.path' });
    const { openSqliteKysely, translateSqliteError } = await import('./sqlite.js');
    const opened = openSqliteKysely(db.path, { readSnapshots: options.readSnapshots === true });
    kysely = opened.db;
    translate = (e) => translateSqliteError(e, opened.where);
  } else {
    const { openPostgresKysely, translatePostgresError } = await import('./postgres.js');
    const opened = openPostgresKysely(db.url, postgresOptions(db, options.env));
    kysely = opened.db;
    translate = (e) => translatePostgresError(e, opened.target);
  }
  try {
    return await fn(kysely);
  } catch (e) {
    const cause = isSignetError(e, 'ERR_STORE_MIGRATION_FAILED') ? translate(e.cause) : undefined;
    throw isSignetError(cause) && cause.code !== 'ERR_INTERNAL' ? cause : translate(e);
  } finally {
    await kysely.destroy().catch(() => undefined);
  }
}

/** How messages name the database: its file, or its URL (which never holds a password). */
export function describeDb(db: DbConfig): string {
  return db.type === 'sqlite' ? db.path : db.url;
}
