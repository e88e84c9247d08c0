/**
 * The renewal loop of `signet ca renew --daemon`: wait until the certificate is due (two thirds
 * of its lifetime, ± jitter), renew it, write it atomically, run the hooks, start over. While the
 * CA cannot be reached it retries with exponential backoff and jitter, up to a cap; a refusal
 * that no retry can fix (revoked, renewal not allowed, replaced) ends the loop with that error.
 * An abort (SIGTERM, SIGINT) ends the wait at once; a renewal in flight is completed first, so the
 * files are never left half way.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { SignetError, isSignetError } from '../../core/errors.js';
import { renewCertificate } from '../../client/renew.js';
import { renewalTime, retryDelay } from '../../client/schedule.js';
import type { RenewalThreshold } from '../../x509/inspect.js';
import type { Certificate } from '../../x509/certificate.js';
import { commitOutputs } from '../io.js';
import { checkIssued, existingMode, loadCertificateAndKey, replaceTarget, type KeyPassword } from './client-common.js';
import { clientFor, type ResolvedCa } from './connection.js';
import { runRenewHooks, type RenewHooks } from './renew-hooks.js';

/** A line of the daemon's log. */
export interface DaemonEvent {
  readonly msg: 'waiting' | 'renewed' | 'retry' | 'hook-failed' | 'stopped';
  readonly crt: string;
  readonly serial?: string;
  readonly notAfter?: Date;
  readonly renewAt?: Date;
  readonly retryInMs?: number;
  readonly attempt?: number;
  readonly error?: SignetError;
}

/** What one renewal did. */
export interface RenewedCertificate {
  readonly previous: Certificate;
  readonly leaf: Certificate;
}

/**
 * Renews CRT once (mTLS, or the renewal token once expired) and writes the new chain over it
 * atomically, keeping the file's mode; KEY is unchanged.
 */
export async function renewFiles(target: ResolvedCa, crt: string, key: string, pw: KeyPassword, clock: Clock): Promise<RenewedCertificate> {
  const current = await loadCertificateAndKey(crt, key, pw);
  const client = clientFor(target);
  const issued = await renewCertificate(client, { leaf: current.leaf, chainPem: current.chainPem, key: current.key, now: clock.now() });
  const { leaf, chainPem } = checkIssued(issued, current.key, client.url);
  const file = replaceTarget(crt);
  commitOutputs([{ path: file, role: 'CRT', mode: existingMode(file, 0o644), data: chainPem }], { force: true });
  return { previous: current.leaf, leaf };
}

/**
 * True for failures a later attempt may not meet: the CA unreachable or answering garbage
 * (category network), a server-side error (HTTP 5xx), too many requests (429).
 */
export function isRetryable(e: unknown): boolean {
  if (!(e instanceof SignetError)) return false;
  if (e.category === 'network') return true;
  const status = e.detail?.status;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

/** What the daemon needs to know of a credential: its serial and validity. */
export interface CredentialState {
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A credential on disk that the daemon keeps renewed: an X.509 certificate, an SSH host certificate. */
export interface RenewableCredential {
  /** What the files hold now. */
  read(): Promise<CredentialState>;
  /** Renews it and writes the files atomically; returns the new one. */
  renew(): Promise<CredentialState>;
}

/** An X.509 certificate and key renewed through `renewFiles`. */
export function x509Credential(target: ResolvedCa, crt: string, key: string, password: KeyPassword, clock: Clock): RenewableCredential {
  const state = (c: Certificate): CredentialState => ({ serial: c.serialHex, notBefore: c.notBefore, notAfter: c.notAfter });
  return {
    read: async () => state((await loadCertificateAndKey(crt, key, password)).leaf),
    renew: async () => state((await renewFiles(target, crt, key, password, clock)).leaf),
  };
}

/** Options of {@link runRenewDaemon}. */
export interface RenewDaemonOptions {
  /** The certificate file and the key file (for the log and the hooks). */
  readonly crt: string;
  readonly key: string;
  readonly credential: RenewableCredential;
  readonly threshold: RenewalThreshold;
  readonly hooks: RenewHooks;
  readonly retryMaxMs: number;
  readonly clock: Clock;
  /** A uniform random number in [0, 1) per call (jitter). */
  readonly random: () => number;
  readonly log: (event: DaemonEvent) => void;
  /** Aborting ends the loop (after a renewal in flight). */
  readonly signal: AbortSignal;
}

/** Sleeps until `at` (in chunks that setTimeout can hold), or until `signal` aborts. */
async function sleepUntil(at: Date, clock: Clock, signal: AbortSignal): Promise<void> {
  for (;;) {
    const ms = at.getTime() - clock.now().getTime();
    if (ms <= 0 || signal.aborted) return;
    try {
      await delay(Math.min(ms, 2 ** 31 - 1), undefined, { signal });
    } catch {
      return; // aborted
    }
  }
}

/** Runs the loop until `options.signal` aborts (resolves) or a renewal fails for good (rejects). */
export async function runRenewDaemon(options: RenewDaemonOptions): Promise<void> {
  const { crt, key, clock, signal, log } = options;
  let failures = 0;
  let plan: { serial: string; at: Date } | undefined;
  while (!signal.aborted) {
    if (plan === undefined) {
      const current = await options.credential.read();
      plan = { serial: current.serial, at: renewalTime(current, options.threshold, options.random()) };
      log({ msg: 'waiting', crt, serial: current.serial, notAfter: current.notAfter, renewAt: plan.at });
    }
    const scheduled = plan;
    await sleepUntil(scheduled.at, clock, signal);
    if (signal.aborted) break;
    try {
      const onDisk = await options.credential.read();
      if (failures === 0 && onDisk.serial !== scheduled.serial) {
        // Someone renewed it meanwhile (a one-shot `ca renew`): plan for the new one.
        plan = undefined;
        continue;
      }
      const renewed = await options.credential.renew();
      failures = 0;
      plan = undefined;
      log({ msg: 'renewed', crt, serial: renewed.serial, notAfter: renewed.notAfter });
      try {
        await runRenewHooks(options.hooks, { crt, key, serial: renewed.serial });
      } catch (e) {
        if (!isSignetError(e)) throw e;
        log({ msg: 'hook-failed', crt, serial: renewed.serial, error: e });
      }
    } catch (e) {
      if (!isRetryable(e)) throw e;
      failures++;
      const retryInMs = retryDelay(failures, options.random(), { maxMs: options.retryMaxMs });
      plan = { serial: scheduled.serial, at: new Date(clock.now().getTime() + retryInMs) };
      log({ msg: 'retry', crt, attempt: failures, retryInMs, renewAt: plan.at, error: e as SignetError });
    }
  }
  log({ msg: 'stopped', crt });
}

/** One human line per event (text mode), timestamped. */
export function formatDaemonEvent(e: DaemonEvent, now: Date): string {
  const t = formatTime(now);
  const inText = (at: Date | undefined): string => (at === undefined ? '' : ` (in ${Math.max(0, Math.round((at.getTime() - now.getTime()) / 100) / 10)}s)`);
  switch (e.msg) {
    case 'waiting':
      return `${t} ${e.crt}: serial ${e.serial ?? '?'} valid until ${e.notAfter ? formatTime(e.notAfter) : '?'}; next renewal at ${e.renewAt ? formatTime(e.renewAt) : '?'}${inText(e.renewAt)}`;
    case 'renewed':
      return `${t} renewed ${e.crt}: serial ${e.serial ?? '?'} valid until ${e.notAfter ? formatTime(e.notAfter) : '?'}`;
    case 'retry':
      return `${t} renewal of ${e.crt} failed: ${e.error?.message ?? '?'} (${e.error?.code ?? '?'}); retry ${e.attempt ?? '?'}${inText(e.renewAt)}`;
    case 'hook-failed':
      return `${t} hook after renewing ${e.crt} failed: ${e.error?.message ?? '?'} (${e.error?.code ?? '?'})`;
    case 'stopped':
      return `${t} stopped`;
  }
}

/** One JSON object per event (`--json`), with RFC 3339 times. */
export function daemonEventJson(e: DaemonEvent, now: Date): Record<string, unknown> {
  return {
    time: formatTime(now),
    level: e.msg === 'retry' || e.msg === 'hook-failed' ? 'warn' : 'info',
    msg: e.msg,
    crt: e.crt,
    ...(e.serial !== undefined ? { serial: e.serial } : {}),
    ...(e.notAfter !== undefined ? { notAfter: formatTime(e.notAfter) } : {}),
    ...(e.renewAt !== undefined ? { renewAt: e.renewAt.toISOString() } : {}),
    ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
    ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}),
    ...(e.error !== undefined ? { error: { code: e.error.code, message: e.error.message } } : {}),
  };
}
