/**
 * `signet inventory show SERIAL` — every field of one inventory record; `--pem` prints the
 * certificate itself.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { escapeControl } from '../../core/escape.js';
import { formatDuration, formatTime } from '../../core/duration.js';
import type { CertificateRecord } from '../../store/store.js';
import { printJson } from '../io.js';
import { addConfigOption, parseSerialText } from './flags.js';
import { withStore } from './store-access.js';
import { certificateJson, inventoryStatus, recordText } from './view.js';

interface ShowFlags {
  readonly config?: string;
  readonly json?: boolean;
  readonly pem?: boolean;
}

function statusText(r: CertificateRecord, now: Date): string {
  const status = inventoryStatus(r, now);
  const left = r.notAfter.getTime() - now.getTime();
  if (status === 'revoked') return 'revoked';
  // Whole seconds: the certificate's own times have no fractions.
  return status === 'expired' ? `expired (${formatDuration(Math.floor(-left / 1000) * 1000)} ago)` : `valid (expires in ${formatDuration(Math.floor(left / 1000) * 1000)})`;
}

/** The `key: value` lines of `inventory show`, every field (absent ones as `-`), values escaped. */
export function showLines(r: CertificateRecord, now: Date): string[] {
  const opt = (v: string | undefined): string => v ?? '-';
  const rows: [string, string][] = [
    ['serial', r.serial],
    ['status', statusText(r, now)],
    ['subject', r.subject === '' ? '-' : r.subject],
  ];
  if (r.names.length === 0) rows.push(['names', '-']);
  r.names.forEach((n, i) => rows.push([i === 0 ? 'names' : '', `${n.type}:${n.value}`]));
  rows.push(
    ['not before', formatTime(r.notBefore)],
    ['not after', formatTime(r.notAfter)],
    ['issued at', formatTime(r.issuedAt)],
    ['provisioner', r.provisioner],
    ['requester', r.requester === '' ? '-' : r.requester],
    ['profile', r.profile],
    ['key type', r.keyType],
    ['key sha256', r.keyFingerprint],
    ['issuer serial', opt(r.issuerSerial)],
    ['replaces', opt(r.replaces)],
    ['replaced by', opt(r.replacedBy)],
    ['revoked at', r.revokedAt === undefined ? '-' : formatTime(r.revokedAt)],
    ['revocation reason', opt(r.revocationReason)],
  );
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${(k === '' ? '' : `${k}:`).padEnd(width)}${escapeControl(v)}`);
}

/** Registers `signet inventory show`. */
export function registerInventoryShow(group: Command): void {
  const cmd = group
    .command('show')
    .description('show every field of one issued certificate, or print it (--pem)')
    .argument('<serial>', 'the serial number in hex (colons and upper case allowed, as openssl and inspect print it)');
  addConfigOption(cmd)
    .option('--json', 'print the record as JSON (with --pem: and the certificate as "pem")')
    .option('--pem', 'print the certificate instead of the record: PEM, or an SSH certificate as its -cert.pub line')
    .addHelpText(
      'after',
      `
An unknown serial is ERR_CERT_NOT_FOUND (exit 1).

Examples:
  $ signet inventory show 4a1f03c2d5e6f708192a3b4c5d6e7f80
  $ signet inventory show 4A:1F:03:C2:D5:E6:F7:08:19:2A:3B:4C:5D:6E:7F:80 --json
  $ signet inventory show 4a1f03c2d5e6f708192a3b4c5d6e7f80 --pem > web.crt`,
    )
    .action(async (serialText: string, opts: ShowFlags) => {
      const serial = parseSerialText(serialText, 'SERIAL');
      const now = systemClock.now();
      const record = await withStore(opts.config, (store) => store.certificates.get(serial));
      if (record === undefined) {
        throw new SignetError('ERR_CERT_NOT_FOUND', `no certificate with serial ${serial} in the inventory`, {
          hint: 'signet inventory search TEXT finds certificates by name, serial or key fingerprint',
        });
      }
      if (opts.json === true) printJson(certificateJson(record, now, opts.pem === true));
      else if (opts.pem === true) process.stdout.write(recordText(record));
      else process.stdout.write(showLines(record, now).join('\n') + '\n');
    });
}
