/**
 * A real PostgreSQL server for the tests (the Debian package; scripts/test-setup.mjs installs it
 * when missing): its own data directory under the system temp directory, its own port on
 * 127.0.0.1, password (SCRAM) authentication for the user `signet`, started by the test file that
 * needs it and stopped afterwards. PostgreSQL refuses to run as root, so as root the server runs
 * as the `postgres` system user the package creates (or `nobody`).
 *
 * One cluster is initialised per PostgreSQL version and user and copied for every server (initdb
 * costs over a second; a copy a few milliseconds). `durable: false` (the default for tests) turns
 * fsync off; the benchmarks keep PostgreSQL's defaults.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

/** The superuser the clusters are created with; tests connect as it. */
export const PG_USER = 'signet';

/** A running (or stopped, restartable) PostgreSQL server. */
export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  /** The user's password (tests only: the CA reads it from {@link passwordFile}). */
  readonly password: string;
  /** A 0600 file holding the password, readable by this process. */
  readonly passwordFile: string;
  /** `postgres://signet@127.0.0.1:port/<database>`: no password in the URL. */
  url(database: string): string;
  /** Creates an empty database with a unique name and returns its name. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs one SQL statement as the superuser on `database` (default `postgres`) and returns the rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], database?: string): Promise<T[]>;
  /** Fast shutdown (SIGINT): open connections are terminated. Resolves when the server exited. */
  stop(): Promise<void>;
  /** CPU seconds (user + system) the server's processes have used so far (Linux /proc; the benchmarks). */
  cpuSeconds(): number;
  /** Starts the server again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its directory. */
  destroy(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Keep fsync and full-page writes on (the benchmarks); default false. */
  readonly durable?: boolean;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Serve TLS with this certificate chain and unencrypted key (PEM files); plain connections stay allowed. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** The newest PostgreSQL server binaries on this machine (SIGNET_PG_BIN overrides). */
export function postgresBinDir(): string {
  const override = process.env.SIGNET_PG_BIN;
  if (override !== undefined && override !== '') return override;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error('no PostgreSQL server under /usr/lib/postgresql: run scripts/test-setup.mjs (installs the Debian package postgresql)');
  return join(root, newest, 'bin');
}

/** uid/gid to run the server as: this process's own, or `postgres` (else `nobody`) when root. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres') return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return { uid: 65534, gid: 65534 };
}

function run(bin: string, args: readonly string[], who: { uid: number; gid: number } | undefined): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', ...(who ?? {}) });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr || r.stdout || String(r.error)}`);
}

function ownTree(path: string, who: { uid: number; gid: number } | undefined): void {
  if (who === undefined) return;
  chownSync(path, who.uid, who.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, entry.name);
    if (entry.isDirectory()) ownTree(p, who);
    else chownSync(p, who.uid, who.gid);
  }
}

const PASSWORD = 'signet-test-database-password';

/** The initialised cluster every server copies (created once per version and user). */
function templateCluster(bin: string, who: { uid: number; gid: number } | undefined): string {
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/\W+/g, '-');
  const dir = join(tmpdir(), `signet-pg-template-${version}-${who?.uid ?? process.getuid?.() ?? 0}`);
  if (existsSync(join(dir, 'data', 'PG_VERSION'))) return dir;
  const staging = mkdtempSync(join(tmpdir(), 'signet-pg-init-'));
  chmodSync(staging, 0o755);
  const pwfile = join(staging, 'pw');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  ownTree(staging, who);
  run(join(bin, 'initdb'), ['-D', join(staging, 'data'), '-U', PG_USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C'], who);
  rmSync(pwfile);
  try {
    renameSync(staging, dir);
  } catch {
    // Another test process made it first: use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}


const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/**
 * Starts a PostgreSQL server in a new directory on a free loopback port and resolves once it
 * accepts connections (it says so on its log; no polling).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const who = serverIdentity();
  const template = templateCluster(bin, who);
  const dir = mkdtempSync(join(tmpdir(), 'signet-pg-'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  cpSync(join(template, 'data'), data, { recursive: true });
  const sockets = join(dir, 'sockets');
  mkdirSync(sockets);
  ownTree(dir, who);
  chmodSync(data, 0o700);
  if (options.tls) {
    // PostgreSQL wants its key owned by the server's user and not readable by others.
    cpSync(options.tls.certFile, join(data, 'server.crt'));
    cpSync(options.tls.keyFile, join(data, 'server.key'));
    chmodSync(join(data, 'server.key'), 0o600);
    if (who) for (const f of ['server.crt', 'server.key']) chownSync(join(data, f), who.uid, who.gid);
  }
  const passwordFile = join(dir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

  let port = 0;
  let child: ChildProcess | undefined;
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: sockets,
    max_connections: '200',
    ...(options.durable === true ? {} : { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off' }),
    ...(options.tls ? { ssl: 'on', ssl_cert_file: join(data, 'server.crt'), ssl_key_file: join(data, 'server.key') } : {}),
    ...options.settings,
  };

  const startOnce = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const p = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...(who ?? {}) });
      let log = '';
      let ready = false;
      p.stderr?.setEncoding('utf8');
      p.stderr?.on('data', (chunk: string) => {
        if (ready) return;
        log += chunk;
        if (log.includes('database system is ready to accept connections')) {
          ready = true;
          log = '';
          resolve();
        }
      });
      p.once('exit', (code, signal) => {
        running.delete(p);
        if (!ready) reject(new Error(`postgres exited (${code ?? signal}) before it was ready:\n${log}`));
      });
      running.add(p);
      child = p;
    });

  const start = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (port === 0 || attempt > 0) port = await freePort();
      try {
        await startOnce();
        return;
      } catch (e) {
        // Someone took the port between freePort() and the server's bind: try another.
        if (attempt >= 3 || !String(e).includes('could not bind')) throw e;
      }
    }
  };
  await start();

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const p = child;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGINT');
    });

  let sequence = 0;
  const query = async <T>(text: string, params: readonly unknown[] = [], database = 'postgres'): Promise<T[]> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: PG_USER, password: PASSWORD, database });
    await client.connect();
    try {
      const r = await client.query(text, params as unknown[]);
      return r.rows as T[];
    } finally {
      await client.end();
    }
  };

  return {
    host: '127.0.0.1',
    port,
    user: PG_USER,
    password: PASSWORD,
    passwordFile,
    url: (database) => `postgres://${PG_USER}@127.0.0.1:${port}/${database}`,
    async createDatabase(prefix = 'signet') {
      const name = `${prefix}_${process.pid}_${++sequence}`;
      await query(`create database ${name}`);
      return name;
    },
    query,
    stop,
    cpuSeconds: () => {
      const root = child?.pid;
      if (root === undefined) return 0;
      const ticks = 100; // USER_HZ on Linux
      let total = 0;
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
          stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        } catch {
          continue; // the process ended meanwhile
        }
        // Fields after the command name (which may contain spaces): state ppid … utime(14) stime(15).
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const pid = Number(entry);
        if (pid === root || Number(f[1]) === root) total += (Number(f[11]) + Number(f[12])) / ticks;
      }
      return total;
    },
    start: async () => {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
      await startOnce();
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
