/**
 * `signet inventory search TEXT` — finds certificates by whatever TEXT looks like: a name the
 * certificate is valid for (exact, or `*.example.com`), a serial number, or a SHA-256 key
 * fingerprint. Text that fits several readings (`cafe` is both a host name and a serial) is
 * searched as each, and the results are merged.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import type { CertificateFilter } from '../../store/store.js';
import { addConfigOption, isNameQuery, parseFingerprintText, parseSerialText } from './flags.js';
import { addListOutputOptions, printCertificates, type ListOutputFlags } from './list.js';
import { certificatesMatching, mergeInStoreOrder } from './records.js';
import { withStore } from './store-access.js';

/** One reading of the search text. */
export interface SearchReading {
  readonly as: 'name' | 'serial' | 'key-fingerprint';
  readonly filter: CertificateFilter;
}

/**
 * Every way `text` can be read: a SHA-256 fingerprint (64 hex digits, colons and `sha256:`
 * allowed), a serial number (hex of at most 20 octets, colons and `0x` allowed; exact, since
 * the store has no index for prefixes), a name. ERR_BAD_OPTION when it fits none.
 */
export function searchReadings(text: string): SearchReading[] {
  const t = text.trim();
  const readings: SearchReading[] = [];
  const attempt = (fn: () => SearchReading): void => {
    try {
      readings.push(fn());
    } catch {
      // not this kind of text
    }
  };
  if (/^(sha256:)?[0-9a-f:]+$/i.test(t)) attempt(() => ({ as: 'key-fingerprint', filter: { keyFingerprint: parseFingerprintText(t) } }));
  if (/^(0x)?[0-9a-f:]+$/i.test(t)) attempt(() => ({ as: 'serial', filter: { serials: [parseSerialText(t)] } }));
  if (isNameQuery(t)) readings.push({ as: 'name', filter: { name: t } });
  if (readings.length === 0) {
    throw new SignetError('ERR_BAD_OPTION', `cannot search for "${text}": it is not a name, a serial number or a key fingerprint`, {
      hint: 'a name (web.example.com, *.example.com, 10.0.0.1, a CN), a serial in hex, or a SHA-256 fingerprint',
    });
  }
  return readings;
}

/** Registers `signet inventory search`. */
export function registerInventorySearch(group: Command): void {
  const cmd = group
    .command('search')
    .description('find certificates by a name, a serial number or a key fingerprint')
    .argument('<text>', 'a name (exact, or *.example.com), a serial (hex), or a SHA-256 key fingerprint');
  addConfigOption(cmd);
  addListOutputOptions(cmd);
  cmd
    .addHelpText(
      'after',
      `
TEXT is looked up as every kind it can be: a name the certificate is valid for (DNS names and
CNs case-insensitively; *.example.com matches every name under example.com), an exact serial
number, a SHA-256 SubjectPublicKeyInfo fingerprint. Output as for "inventory list".

Examples:
  $ signet inventory search web.example.com
  $ signet inventory search '*.example.com' --json
  $ signet inventory search 4A:1F:03:C2:D5:E6:F7:08:19:2A:3B:4C:5D:6E:7F:80
  $ signet inventory search sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --csv`,
    )
    .action(async (text: string, opts: ListOutputFlags) => {
      const now = systemClock.now();
      const readings = searchReadings(text);
      await withStore(opts.config, (store) =>
        printCertificates(opts, now, (max) => mergeInStoreOrder(readings.map((r) => certificatesMatching(store.certificates, r.filter, max)))),
      );
    });
}
