/**
 * `signet ca renew CRT KEY` — renew a certificate the CA issued, with the same key: `POST /renew`
 * over mTLS with the current certificate (or, once it has expired, with a renewal token signed by
 * its key, where the CA allows that). Without --force only when it is due: two thirds of its
 * lifetime have passed (or --expires-in says otherwise); before that it says "not yet" and exits 0.
 * The new chain replaces CRT atomically; then --exec / --signal run.
 *
 * `--daemon` keeps doing that (renew-daemon.ts) until SIGTERM or SIGINT, which end it with exit 0.
 */
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime, parseDuration } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { RENEW_AT_TWO_THIRDS } from '../../client/schedule.js';
import { DEFAULT_RETRY_MAX_MS, DEFAULT_RETRY_MIN_MS } from '../../client/schedule.js';
import { checkRenewal, humanDuration, parseRenewalThreshold, type RenewalThreshold } from '../../x509/inspect.js';
import { printJson, readInput, readPassword, withSource } from '../io.js';
import { peekKey } from '../../crypto/keys.js';
import { loadCertificateAndKey, type KeyPassword } from './client-common.js';
import { addConnectionOptions, resolveCa, type ConnectionFlags } from './connection.js';
import { daemonEventJson, formatDaemonEvent, renewFiles, runRenewDaemon, x509Credential, type DaemonEvent, type RenewableCredential } from './renew-daemon.js';
import { parseSignalTarget, runRenewHooks, type RenewHooks } from './renew-hooks.js';

/** The renewal flags `ca renew` and `ssh renew` share. */
export interface RenewLoopFlags {
  force?: boolean;
  expiresIn?: string;
  daemon?: boolean;
  exec?: string;
  signal?: string;
  retryMax?: string;
  json?: boolean;
}

interface RenewFlags extends ConnectionFlags, RenewLoopFlags {
  passwordFile?: string;
}

/** `--exec` and `--signal` as hooks. */
export function hooksFromFlags(flags: { exec?: string; signal?: string }): RenewHooks {
  if (flags.exec !== undefined && flags.exec.trim() === '') throw new SignetError('ERR_BAD_OPTION', '--exec is empty');
  return { ...(flags.exec !== undefined ? { exec: flags.exec } : {}), ...(flags.signal !== undefined ? { signal: parseSignalTarget(flags.signal) } : {}) };
}

/** A random number in [0, 1) from the CSPRNG (jitter need not be secret, but one source is simpler to reason about). */
function random(): number {
  return randomInt(0, 2 ** 32) / 2 ** 32;
}

/** The key's password, asked once when the key is encrypted (the daemon reloads the key every cycle). */
async function keyPassword(keyPath: string, passwordFile: string | undefined): Promise<KeyPassword> {
  if (passwordFile === undefined && !withSource(`KEY ${keyPath}`, () => peekKey(readInput(keyPath, 'key file'))).encrypted) return {};
  return { password: await readPassword({ passwordFile, prompt: `password for ${keyPath}: `, file: keyPath }) };
}

async function once(crt: string, key: string, flags: RenewFlags, threshold: RenewalThreshold, hooks: RenewHooks): Promise<void> {
  const now = systemClock.now();
  const pw: KeyPassword = { passwordFile: flags.passwordFile };
  const current = await loadCertificateAndKey(crt, key, pw);
  const d = checkRenewal(current.leaf, threshold, now);
  if (!flags.force && !d.needsRenewal) {
    if (flags.json) {
      printJson({ renewed: false, crt, serial: current.leaf.serialHex, notAfter: formatTime(d.notAfter), renewAt: formatTime(d.renewAt) });
    } else {
      const when = d.reason === 'not-yet-valid' ? `it is not valid until ${formatTime(d.notBefore)}` : `${Math.max(0, Math.round(d.elapsedPercent))}% of its lifetime has passed; due at ${formatTime(d.renewAt)} (in ${humanDuration(d.renewAt.getTime() - now.getTime())})`;
      process.stdout.write(escapeControl(`not yet: ${crt} need not be renewed: ${when}; --force renews now`) + '\n');
    }
    return;
  }
  const target = resolveCa(flags);
  const { previous, leaf } = await renewFiles(target, crt, key, pw, systemClock);
  if (flags.json) {
    printJson({ renewed: true, crt, serial: leaf.serialHex, previousSerial: previous.serialHex, notBefore: formatTime(leaf.notBefore), notAfter: formatTime(leaf.notAfter) });
  } else {
    process.stdout.write(escapeControl(`renewed ${crt}: serial ${leaf.serialHex} (was ${previous.serialHex}), valid until ${formatTime(leaf.notAfter)}`) + '\n');
  }
  await runRenewHooks(hooks, { crt, key, serial: leaf.serialHex });
}

async function daemon(crt: string, key: string, flags: RenewFlags, threshold: RenewalThreshold, hooks: RenewHooks): Promise<void> {
  const target = resolveCa(flags);
  const password = await keyPassword(key, flags.passwordFile);
  // Fail now, not at the first renewal, on a file or key problem.
  await loadCertificateAndKey(crt, key, password);
  await runDaemonCommand(crt, key, x509Credential(target, crt, key, password, systemClock), flags, threshold, hooks);
}

/**
 * The daemon of `ca renew --daemon` and `ssh renew --daemon`: --retry-max checked, the loop run
 * until SIGTERM or SIGINT, one log line per event on stdout (JSON lines with --json).
 */
export async function runDaemonCommand(crt: string, key: string, credential: RenewableCredential, flags: { retryMax?: string; json?: boolean }, threshold: RenewalThreshold, hooks: RenewHooks): Promise<void> {
  const retryMaxMs = flags.retryMax === undefined ? DEFAULT_RETRY_MAX_MS : parseDuration(flags.retryMax);
  if (retryMaxMs < DEFAULT_RETRY_MIN_MS) throw new SignetError('ERR_BAD_OPTION', `--retry-max must be at least ${DEFAULT_RETRY_MIN_MS / 1000}s`);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const log = (e: DaemonEvent): void => {
    const now = systemClock.now();
    process.stdout.write(flags.json ? `${JSON.stringify(daemonEventJson(e, now))}\n` : `${escapeControl(formatDaemonEvent(e, now))}\n`);
  };
  try {
    await runRenewDaemon({ crt, key, credential, threshold, hooks, retryMaxMs, clock: systemClock, random, log, signal: controller.signal });
  } finally {
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  }
}

/** Registers `signet ca renew`. */
export function registerCaRenew(ca: Command): void {
  const cmd = ca
    .command('renew')
    .description('renew a certificate with the same key (mTLS with the current one); --daemon keeps it renewed')
    .argument('<crt>', 'the certificate chain file to renew (replaced atomically)')
    .argument('<key>', 'its private key (unchanged)')
    .option('--force', 'renew even if it is not due yet')
    .option('--expires-in <threshold>', 'due once this share of the lifetime has passed (75%) or this little time is left (8h); default 2/3 of the lifetime')
    .option('--daemon', 'keep running: renew at 2/3 of each lifetime (± jitter), retry while the CA is down; SIGTERM stops it')
    .option('--exec <command>', 'after each renewal run this command through /bin/sh (gets SIGNET_CERT_FILE, SIGNET_KEY_FILE, SIGNET_SERIAL)')
    .option('--signal <pid:signame>', 'after each renewal send this signal to this process, e.g. 1234:HUP')
    .option('--retry-max <duration>', 'longest wait between retries while the CA is down (daemon)', '1m')
    .option('--password-file <file>', 'first line: the password of an encrypted KEY');
  addConnectionOptions(cmd)
    .option('--json', 'print the result as JSON (daemon: one JSON object per line)')
    .addHelpText(
      'after',
      `
Renewal keeps the subject, SANs, key and provisioner; the new certificate lives as long as the old
one did (the provisioner's maximum caps it), starting now. The CA authenticates the request with
the current certificate over mTLS; a certificate that has already expired is sent as a renewal
token signed by its key, which the CA accepts only where the provisioner allows renewal after
expiry (else ERR_RENEWAL_NOT_ALLOWED). A revoked certificate is refused (ERR_CERT_REVOKED).

--daemon logs one line per event on stdout (--json: JSON lines): waiting (with the next renewal
time), renewed, retry (CA unreachable or failing: exponential backoff with jitter from 1s up to
--retry-max), hook-failed, stopped. A refusal no retry can fix ends it with that error.

Hooks run after the new files are in place; their output goes to stderr. A failing hook is
ERR_HOOK_FAILED (exit 5) for a one-shot renewal, a logged warning in the daemon.

Exit codes: 0 renewed, not due yet, or the daemon stopped by SIGTERM/SIGINT; 1 the CA refused
(ERR_CERT_REVOKED, ERR_RENEWAL_NOT_ALLOWED, ERR_CERT_REPLACED, …); 4 KEY is not the key of CRT
(ERR_KEY_MISMATCH) or a password problem; 5 a file problem or a failed hook; 6 the CA cannot be
reached (ERR_CA_UNREACHABLE).

Examples:
  $ signet ca renew web.crt web.key
  $ signet ca renew web.crt web.key --force --exec 'systemctl reload nginx'
  $ signet ca renew web.crt web.key --daemon --signal "$(cat /run/nginx.pid):HUP"
  $ signet ca renew web.crt web.key --daemon --expires-in 50% --retry-max 5m --json`,
    )
    .action(async (crt: string, key: string, flags: RenewFlags) => {
      const threshold = flags.expiresIn === undefined ? RENEW_AT_TWO_THIRDS : parseRenewalThreshold(flags.expiresIn);
      const hooks = hooksFromFlags(flags);
      if (flags.daemon) {
        if (flags.force) throw new SignetError('ERR_USAGE', '--force and --daemon cannot be combined', { hint: 'the daemon renews when due; run a one-shot renew --force first if you need to' });
        await daemon(crt, key, flags, threshold, hooks);
      } else {
        await once(crt, key, flags, threshold, hooks);
      }
    });
}
