/**
 * PostgreSQL connection settings that need no driver: the URL reader, the TLS setting and the
 * defaults. Kept apart from postgres.ts so that reading a config does not load node-postgres.
 */
import { SignetError } from '../core/errors.js';

/** TLS to the database server. */
export interface PostgresTls {
  readonly mode: 'disable' | 'require' | 'verify-full';
  /** PEM of the CA certificate(s) the server's certificate must chain to (`verify-full`; default: Node's bundled roots). */
  readonly ca?: string;
}

/** Where the database is, as {@link parsePostgresUrl} reads `postgres://user@host:port/database`. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/** Defaults of PostgresStoreOptions (postgres.ts). */
export const POSTGRES_DEFAULTS = Object.freeze({ poolSize: 10, statementTimeoutMs: 5000, connectTimeoutMs: 5000 });

const DEFAULT_PORT = 5432;

function badUrl(why: string): SignetError {
  return new SignetError('ERR_CONFIG_INVALID', `bad PostgreSQL URL: ${why}`, {
    hint: 'write it as postgres://user@host:port/database; give the password in a file or an environment variable',
  });
}

/**
 * Reads `postgres://user@host[:port]/database` (or `postgresql://`). Refuses a password in the
 * URL (it would end up in config files, process listings and logs), query parameters (TLS and
 * timeouts are settings of their own), and anything without a user, host or database.
 */
export function parsePostgresUrl(text: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUrl('not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw badUrl(`the scheme must be postgres:, not ${url.protocol}`);
  if (url.password !== '') throw badUrl('it contains a password');
  if (url.search !== '' || url.hash !== '') throw badUrl('query parameters and fragments are not read (TLS and timeouts are settings of their own)');
  const user = decodeURIComponent(url.username);
  if (user === '') throw badUrl('no user name (postgres://user@host/database)');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw badUrl('no host');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw badUrl('no database name (postgres://user@host/database)');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  return { host, port, user, database };
}

/** The URL of `target` (never with a password), for messages. */
export function formatPostgresTarget(t: PostgresTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `postgres://${encodeURIComponent(t.user)}@${host}:${t.port}/${encodeURIComponent(t.database)}`;
}
