/**
 * `signet inventory list` — the certificates the CA issued, filtered by status, expiry,
 * provisioner, name, issuance time, key, serial and replacement; as a table, JSON or CSV.
 */
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import type { CertificateRecord } from '../../store/store.js';
import { addConfigOption, addFilterOptions, buildFilter, parseLimit, DEFAULT_LIMIT, MAX_LIMIT, type FilterFlags } from './flags.js';
import { listFormat, stdoutSink } from './output.js';
import { certificatesMatching, recordWriter, writeRecords } from './records.js';
import { withStore } from './store-access.js';

/** The output flags `inventory list` and `inventory search` share. */
export interface ListOutputFlags {
  readonly config?: string;
  readonly limit?: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly pem?: boolean;
}

/** Adds `--limit`, `--all`, `--json`, `--csv` and `--pem`. */
export function addListOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--limit <n>', `print at most this many (1 to ${MAX_LIMIT}; default ${DEFAULT_LIMIT})`).conflicts('all'))
    .option('--all', 'print every match (read page by page)')
    .addOption(new Option('--json', 'print a JSON array of records (times in RFC 3339)').conflicts('csv'))
    .option('--csv', 'print CSV (RFC 4180) with every field; cells a spreadsheet would run as formulas start with \'')
    .option('--pem', 'with --json: add each certificate as "pem"');
}

/**
 * Prints the records `read(max)` yields in the format the flags ask for, at most `--limit` of
 * them, then says on stderr when more matched or (for the table) when nothing did. `read` is
 * given how many records to fetch (one past the limit) or undefined for all.
 */
export async function printCertificates(opts: ListOutputFlags, now: Date, read: (max: number | undefined) => AsyncIterable<CertificateRecord>): Promise<void> {
  const limit = parseLimit(opts.limit, opts.all);
  const format = listFormat(opts);
  if (opts.pem === true && format !== 'json') {
    throw new SignetError('ERR_USAGE', '--pem needs --json', { hint: 'signet inventory show SERIAL --pem prints one certificate; inventory export writes them all' });
  }
  const writer = recordWriter(format, stdoutSink(), now, opts.pem === true);
  const { count, more } = await writeRecords(read(limit === undefined ? undefined : limit + 1), writer, limit);
  if (more) process.stderr.write(`note: showing the first ${count === 1 ? 'certificate' : `${count} certificates`}; more match (raise --limit, or use --all)\n`);
  else if (count === 0 && format === 'table') process.stderr.write('no certificates match\n');
}

/** Registers `signet inventory list`. */
export function registerInventoryList(group: Command): void {
  const cmd = group.command('list').description('list issued certificates: filter by status, expiry, provisioner, name, time, key, serial');
  addConfigOption(cmd);
  addFilterOptions(cmd);
  addListOutputOptions(cmd);
  cmd
    .addHelpText(
      'after',
      `
Statuses: valid = not revoked and not expired; expired = not revoked, notAfter in the past;
revoked = revoked (whether or not it has expired since). --expiring-within D selects valid
certificates with now <= notAfter < now + D. All filters must hold. Rows come in the order the
certificates were issued. The database is only read, also while "signet ca start" serves it.

Examples:
  $ signet inventory list
  $ signet inventory list --expiring-within 7d --not-replaced
  $ signet inventory list --provisioner admin --issued-after -24h --json
  $ signet inventory list --name '*.example.com' --status valid --csv > certs.csv
  $ signet inventory list --serial 4A:1F:03 --serial 5b7c --all --config /etc/signet/signet.json`,
    )
    .action(async (opts: FilterFlags & ListOutputFlags) => {
      const now = systemClock.now();
      const filter = buildFilter(opts, now);
      await withStore(opts.config, (store) => printCertificates(opts, now, (max) => certificatesMatching(store.certificates, filter, max)));
    });
}
