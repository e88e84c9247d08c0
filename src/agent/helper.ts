/**
 * Helper mode: for programs that cannot speak the Workload API (nginx, PostgreSQL, HAProxy…), the
 * SVID, its key and the bundles are kept as files, replaced atomically on every rotation, and the
 * program is told (a signal to the PID in its pid file, or a command run) once all of them are in
 * place. The same files are what `signet svid fetch x509 --out DIR` writes once.
 *
 * Files (spiffe-helper's names): svid.pem (leaf first, then intermediates), svid_key.pem (PKCS#8,
 * 0600), svid_bundle.pem (the SVID's own trust domain's authorities), and one
 * federated_bundle.<trust domain>.pem per federated trust domain (removed when that trust domain's
 * bundle is withdrawn).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { encodeCertificatesPem } from '../core/pem.js';
import { SignetError } from '../core/errors.js';
import { commitOutputs, fsError, type OutputData } from '../core/files.js';
import { parseSpiffeId } from '../spiffe/id.js';
import type { AgentLog } from './agent.js';
import { pickSvid, WorkloadClient, type Watch, type WorkloadClientOptions, type X509Context } from './workload-client.js';

export const SVID_FILE = 'svid.pem';
export const KEY_FILE = 'svid_key.pem';
export const BUNDLE_FILE = 'svid_bundle.pem';
const federatedFile = (td: string): string => `federated_bundle.${td}.pem`;
const FEDERATED_FILE = /^federated_bundle\.[a-z0-9._-]+\.pem$/;

/** The files for one SVID of a context. */
export function svidFiles(ctx: X509Context, dir: string, spiffeId?: string): OutputData[] {
  const s = pickSvid(ctx, spiffeId);
  const own = parseSpiffeId(s.spiffeId).trustDomain;
  const out: OutputData[] = [
    { path: join(dir, SVID_FILE), role: SVID_FILE, data: encodeCertificatesPem(s.chain) },
    { path: join(dir, BUNDLE_FILE), role: BUNDLE_FILE, data: encodeCertificatesPem(ctx.bundles.get(own) ?? []) },
  ];
  for (const [td, certs] of [...ctx.bundles].sort(([a], [b]) => a.localeCompare(b))) if (td !== own) out.push({ path: join(dir, federatedFile(td)), role: federatedFile(td), data: encodeCertificatesPem(certs) });
  out.push({ path: join(dir, KEY_FILE), role: KEY_FILE, data: s.privateKey.export({ format: 'pem', type: 'pkcs8' }), mode: 0o600 });
  return out;
}

/**
 * Writes {@link svidFiles} into `dir` (all replaced in one step), then removes the
 * federated_bundle.<trust domain>.pem files of trust domains the context no longer has (a
 * federation ended): a program that reads every such file must not go on trusting them.
 */
export function writeSvidFiles(ctx: X509Context, dir: string, spiffeId?: string): void {
  commitSvidFiles(dir, svidFiles(ctx, dir, spiffeId));
}

/** {@link writeSvidFiles} for files already made. */
function commitSvidFiles(dir: string, files: readonly OutputData[]): void {
  commitOutputs(files, { force: true });
  const keep = new Set(files.map((f) => f.role));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw fsError(e, dir, 'output directory');
  }
  for (const name of names) {
    if (!FEDERATED_FILE.test(name) || keep.has(name)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, join(dir, name), 'withdrawn federated bundle file');
    }
  }
}

export interface HelperOptions extends WorkloadClientOptions {
  /** Where the files go (must exist). */
  readonly dir: string;
  readonly spiffeId?: string;
  /** Signal sent to the PID read from `pidFile` after every write. */
  readonly signal?: NodeJS.Signals;
  readonly pidFile?: string;
  /** Run with /bin/sh -c after every write (its exit status is logged). */
  readonly exec?: string;
  /** A Workload API error before the first write rejects `ready` (else it is logged and the watch retries). */
  readonly failFast?: boolean;
  readonly log: AgentLog;
}

/** A running helper. */
export interface Helper {
  /** Resolves after the first write (rejects when it fails). */
  readonly ready: Promise<void>;
  close(): void;
}

/** Reads a pid file: one positive integer; undefined while the file does not exist (the program has not started yet). */
function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(e, path, 'pid file');
  }
  const m = /^\s*([0-9]{1,10})\s*$/.exec(text.slice(0, 64));
  const pid = Number(m?.[1]);
  if (m === null || pid < 1) throw new SignetError('ERR_BAD_OPTION', `${path} does not hold a process ID`);
  return pid;
}

/**
 * Watches the Workload API and writes the files on every change of what they hold; then signals
 * or runs the command. A failed write or notification is logged and retried at the next update;
 * the previous files stay whole (commitOutputs replaces them all or none).
 */
export function startHelper(o: HelperOptions): Helper {
  const client = new WorkloadClient(o);
  let last = '';
  let watch: Watch | undefined;
  let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let running: Promise<void> = Promise.resolve();

  const notify = async (): Promise<void> => {
    if (o.signal !== undefined && o.pidFile !== undefined) {
      const pid = readPid(o.pidFile);
      if (pid === undefined) o.log.info({ pidFile: o.pidFile }, 'helper: no pid file yet, nobody to signal');
      else {
        try {
          process.kill(pid, o.signal);
        } catch (e) {
          throw new SignetError('ERR_HELPER_COMMAND', `cannot send ${o.signal} to process ${pid} (from ${o.pidFile}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        o.log.info({ pid, signal: o.signal }, 'helper: signalled');
      }
    }
    if (o.exec !== undefined) {
      const cmd = o.exec;
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, SVID_DIR: o.dir } });
        p.once('error', () => resolve(null));
        p.once('exit', (c) => resolve(c));
      });
      if (code !== 0) throw new SignetError('ERR_HELPER_COMMAND', `the --exec command exited ${code ?? 'without starting'}`);
      o.log.info({}, 'helper: command ran');
    }
  };

  const write = async (ctx: X509Context): Promise<void> => {
    const files = svidFiles(ctx, o.dir, o.spiffeId);
    const digest = createHash('sha256');
    for (const f of files) digest.update(`${f.path}\0${typeof f.data === 'string' ? f.data : Buffer.from(f.data).toString('base64')}\0`);
    const key = digest.digest('hex');
    if (key === last) return;
    commitSvidFiles(o.dir, files);
    last = key;
    const s = pickSvid(ctx, o.spiffeId);
    o.log.info({ spiffeId: s.spiffeId, notAfter: s.notAfter.toISOString(), dir: o.dir }, 'helper: SVID written');
    await notify();
  };

  watch = client.watchX509Context(
    (ctx) => {
      running = running.then(() =>
        write(ctx).then(
          () => settle?.resolve(),
          (e: unknown) => {
            o.log.error({ code: e instanceof SignetError ? e.code : 'ERR_INTERNAL' }, `helper: ${(e as Error).message}`);
            settle?.reject(e);
          },
        ),
      );
    },
    (e) => {
      o.log.warn({ code: e.code, status: e.detail?.status }, `helper: ${e.message}`);
      if (o.failFast === true) settle?.reject(e);
    },
  );
  return {
    ready,
    close: () => {
      watch?.close();
      watch = undefined;
      client.close();
    },
  };
}
