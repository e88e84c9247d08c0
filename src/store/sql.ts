/**
 * Small helpers every Kysely repository of the store shares: the database type, the runner that
 * guards each operation, atomic sections, and integer columns read back as numbers.
 */
import type { Kysely } from 'kysely';
import type { StoreDatabase } from './schema.js';

/** The store's database, as every repository sees it. */
export type Db = Kysely<StoreDatabase>;

/** Wraps one repository operation (open/closed checks, error mapping, tracking). */
export type Runner = <T>(op: () => Promise<T>) => Promise<T>;

/** Runs `fn` atomically: in the caller's transaction when there is one, else in a new one. */
export function atomic<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** A unique-index (or primary-key) violation from either driver (SQLite: SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; PostgreSQL: 23505). */
export function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/** An integer column as a number (node-postgres returns BIGINT as a string). */
export function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}
