/**
 * What runs after a renewal wrote the new files: `--exec CMD` (through `/bin/sh -c`, so a user
 * can write `systemctl reload nginx && logger renewed`) and `--signal PID:SIGNAME` (tell a
 * server to reread its certificate, e.g. `$(cat /run/nginx.pid):HUP`).
 *
 * No secret reaches a hook: its command line is exactly what the user wrote, and its environment
 * is this process's plus the paths of the files and the new serial (SIGNET_CERT_FILE,
 * SIGNET_KEY_FILE, SIGNET_SERIAL) — never key material or passwords. Its stdout goes to our
 * stderr so that `--json` output on stdout stays one JSON document per line.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { SignetError } from '../../core/errors.js';

/** A process to signal. */
export interface SignalTarget {
  readonly pid: number;
  readonly signal: NodeJS.Signals;
}

/** The hooks of `ca renew` / `ca rekey`. */
export interface RenewHooks {
  readonly exec?: string;
  readonly signal?: SignalTarget;
}

/** What the hooks are told about the renewal. */
export interface RenewedFiles {
  readonly crt: string;
  readonly key: string;
  readonly serial: string;
}

/** Parses `PID:SIGNAME` (`1234:HUP`, `1234:SIGUSR1`, `1234:1`); ERR_BAD_OPTION otherwise. */
export function parseSignalTarget(text: string): SignalTarget {
  const m = /^(\d+):([A-Za-z0-9]+)$/.exec(text.trim());
  const bad = (why: string): SignetError => new SignetError('ERR_BAD_OPTION', `invalid --signal "${text}": ${why}`, { hint: 'use PID:SIGNAME, e.g. --signal "$(cat /run/nginx.pid):HUP"' });
  if (!m) throw bad('not PID:SIGNAME');
  const pid = Number(m[1]);
  if (!Number.isSafeInteger(pid) || pid < 2) throw bad('the PID must be a process id above 1');
  const raw = (m[2] ?? '').toUpperCase().replace(/^SIG/, '');
  const byNumber = /^\d+$/.test(raw) ? Object.entries(constants.signals).find(([, n]) => n === Number(raw))?.[0] : undefined;
  const name = byNumber ?? `SIG${raw}`;
  if (!Object.hasOwn(constants.signals, name)) throw bad(`unknown signal ${raw}`);
  return { pid, signal: name as NodeJS.Signals };
}

/** Runs `/bin/sh -c command`; resolves with its exit status (or the signal that ended it). */
function runShell(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2], env });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Runs the hooks in order (exec, then signal). ERR_HOOK_FAILED when the command exits non-zero
 * or cannot start, or the process cannot be signalled; the renewed files are in place either way.
 */
export async function runRenewHooks(hooks: RenewHooks, files: RenewedFiles): Promise<void> {
  if (hooks.exec !== undefined) {
    const env = { ...process.env, SIGNET_CERT_FILE: files.crt, SIGNET_KEY_FILE: files.key, SIGNET_SERIAL: files.serial };
    let r: { code: number | null; signal: NodeJS.Signals | null };
    try {
      r = await runShell(hooks.exec, env);
    } catch (e) {
      throw new SignetError('ERR_HOOK_FAILED', `--exec could not start: ${(e as Error).message}`, { cause: e });
    }
    if (r.code !== 0) {
      throw new SignetError('ERR_HOOK_FAILED', `--exec command ${r.signal !== null ? `was killed by ${r.signal}` : `exited with status ${r.code ?? '?'}`}`, {
        hint: 'the certificate was renewed and written; fix the command',
        detail: { exitCode: r.code, signal: r.signal },
      });
    }
  }
  if (hooks.signal !== undefined) {
    const { pid, signal } = hooks.signal;
    try {
      process.kill(pid, signal);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new SignetError('ERR_HOOK_FAILED', `cannot send ${signal} to process ${pid}: ${code === 'ESRCH' ? 'no such process' : code === 'EPERM' ? 'permission denied' : String(code)}`, {
        hint: 'the certificate was renewed and written; check the PID',
        cause: e,
      });
    }
  }
}
