/**
 * Online backup of a SQLite store (`signet db backup`): SQLite's backup API copies the database
 * page by page from a read snapshot, so the copy is consistent while `signet ca start` keeps
 * writing the file (WAL mode: the backup never blocks the writer). The copy is written to a
 * temporary file next to the destination (0600 from its first byte), checked — SQLite's
 * `integrity_check` and the schema version — and only then renamed into place.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { SignetError } from '../core/errors.js';
import { openSqliteConnection, translateSqliteError } from './sqlite.js';

/** What {@link backupSqlite} wrote. */
export interface BackupReport {
  readonly file: string;
  readonly bytes: number;
  readonly schemaVersion: number;
  readonly certificates: number;
  readonly auditEvents: number;
}

/**
 * Checks a SQLite store file the way a restore would rely on it and returns its version and
 * counts. With `selfContained`, the file is also switched from WAL to a rollback journal first, so
 * that it is one file with nothing beside it (a backup; the CA switches it back to WAL when it
 * opens it); otherwise it is opened read-only.
 */
export function checkSqliteBackup(path: string, options: { selfContained?: boolean } = {}): Omit<BackupReport, 'file' | 'bytes'> {
  let raw: Database.Database | undefined;
  try {
    raw = new Database(path, { readonly: options.selfContained !== true, fileMustExist: true });
    if (options.selfContained === true) raw.pragma('journal_mode = DELETE');
    const integrity = raw.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new SignetError('ERR_STORE_IO', `the backup ${path} is damaged: ${String(integrity)}`);
    const version = raw.prepare('select max(version) as v from schema_migrations').get() as { v: number | null };
    const n = (table: string) => (raw?.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    return { schemaVersion: version.v ?? 0, certificates: n('certificates'), auditEvents: n('audit_events') };
  } catch (e) {
    throw translateSqliteError(e, path);
  } finally {
    raw?.close();
  }
}

/**
 * Writes a consistent copy of the SQLite store at `path` to `out` (which must not exist unless
 * `overwrite`), checked before it is put in place. ERR_FILE_NOT_FOUND when `path` does not exist.
 */
export async function backupSqlite(path: string, out: string, options: { overwrite?: boolean } = {}): Promise<BackupReport> {
  const source = resolve(path);
  const target = resolve(out);
  try {
    statSync(source);
  } catch {
    throw new SignetError('ERR_FILE_NOT_FOUND', `the CA database ${source} does not exist`);
  }
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let raw: Database.Database | undefined;
  try {
    closeSync(openSync(tmp, 'wx', 0o600));
    raw = openSqliteConnection(source);
    await raw.backup(tmp);
    raw.close();
    raw = undefined;
    const checked = checkSqliteBackup(tmp, { selfContained: true });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.overwrite !== true) {
      // Re-checked at the last moment: nothing appeared at `out` while the backup ran.
      let exists = true;
      try {
        statSync(target);
      } catch {
        exists = false;
      }
      if (exists) throw new SignetError('ERR_FILE_EXISTS', `${target} exists`, { hint: 'pass --force to replace it' });
    }
    renameSync(tmp, target);
    return { file: target, bytes: statSync(target).size, ...checked };
  } catch (e) {
    throw e instanceof SignetError ? e : translateSqliteError(e, source);
  } finally {
    raw?.close();
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) rmSync(f, { force: true });
  }
}
