/**
 * `signet certificate needs-renewal CERT` — a yes/no for scripts and cron jobs: exit 0 when the
 * certificate should be renewed now, exit 1 when it need not be. Errors keep their catalogue
 * exit codes (2 usage, 3 malformed input, 5 missing file), so `if signet certificate
 * needs-renewal …; then renew; fi` never renews because of a typo.
 */
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { parseCertificates } from '../../x509/certificate.js';
import { DEFAULT_RENEWAL_THRESHOLD, checkRenewal, humanDuration, parseRenewalThreshold, type RenewalThreshold } from '../../x509/inspect.js';
import { printJson, readInput } from '../io.js';
import { commandTime } from './inspect.js';
import { formatTime } from '../../core/duration.js';

interface NeedsRenewalOptions {
  expiresIn?: string;
  time?: string;
  json?: boolean;
}

function thresholdText(t: RenewalThreshold): string {
  return 'percent' in t ? `${t.percent}% of the lifetime` : `${humanDuration(t.remainingMs)} before expiry`;
}

/** Registers `signet certificate needs-renewal`. */
export function registerCertificateNeedsRenewal(group: Command): void {
  group
    .command('needs-renewal')
    .description('exit 0 when a certificate is due for renewal, 1 when it is not')
    .argument('<certificate>', 'certificate file (PEM or DER); for a bundle, the first (leaf) certificate is checked')
    .option('--expires-in <threshold>', 'renew once this share of the lifetime has passed (66%) or this little time remains (8h)', '66%')
    .option('--time <time>', 'decide at this time (RFC 3339 or relative, e.g. +12h) instead of now')
    .option('--json', 'print the decision as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 renewal needed (also when already expired), 1 not needed yet (also when not yet
valid), 2 bad usage, 3 malformed certificate, 5 file missing or unreadable.

Examples:
  $ signet certificate needs-renewal leaf.crt && renew-my-cert
  $ signet certificate needs-renewal leaf.crt --expires-in 8h
  $ signet certificate needs-renewal chain.pem --expires-in 75% --json
  $ signet certificate needs-renewal leaf.crt --time 2026-06-01T00:00:00Z`,
    )
    .action((file: string, opts: NeedsRenewalOptions) => {
      const threshold = opts.expiresIn === undefined ? DEFAULT_RENEWAL_THRESHOLD : parseRenewalThreshold(opts.expiresIn);
      const now = commandTime(opts.time);
      const [leaf] = parseCertificates(readInput(file, 'certificate'));
      if (!leaf) return;
      const d = checkRenewal(leaf, threshold, now);
      if (opts.json) {
        printJson({
          needsRenewal: d.needsRenewal,
          reason: d.reason,
          subject: leaf.subject.text,
          serialNumber: leaf.serialHex,
          time: formatTime(d.now),
          notBefore: formatTime(d.notBefore),
          notAfter: formatTime(d.notAfter),
          renewAt: formatTime(d.renewAt),
          lifetimeSeconds: Math.round(d.lifetimeMs / 1000),
          remainingSeconds: Math.round(d.remainingMs / 1000),
          elapsedPercent: Math.round(d.elapsedPercent * 100) / 100,
          threshold: 'percent' in threshold ? { percent: threshold.percent } : { remainingSeconds: Math.round(threshold.remainingMs / 1000) },
        });
      } else {
        const pct = `${Math.max(0, Math.round(d.elapsedPercent))}% of the lifetime has passed`;
        const line = {
          expired: `renewal needed: expired ${humanDuration(d.remainingMs)} ago`,
          threshold: `renewal needed: ${pct}, expires in ${humanDuration(d.remainingMs)} (threshold ${thresholdText(threshold)})`,
          'not-due': `not due: ${pct}, renewal window opens ${formatTime(d.renewAt)} (in ${humanDuration(d.renewAt.getTime() - now.getTime())})`,
          'not-yet-valid': `not due: not valid until ${formatTime(d.notBefore)}`,
        }[d.reason];
        // Only times and durations today; escaped like every human-readable line that describes a certificate.
        process.stdout.write(`${escapeControl(line)}\n`);
      }
      process.exitCode = d.needsRenewal ? 0 : 1;
    });
}
