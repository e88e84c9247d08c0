/**
 * `signet inventory export` — every matching record, certificates included, streamed page by
 * page to a file (written atomically) or stdout, as JSON Lines, a JSON array or CSV. Memory use
 * does not grow with the inventory: one page of at most 1000 records is held at a time.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { escapeControl } from '../../core/escape.js';
import { addConfigOption, addFilterOptions, buildFilter, type FilterFlags } from './flags.js';
import { atomicFileSink, stdoutSink, type TextSink } from './output.js';
import { certificatesMatching, recordWriter, writeRecords } from './records.js';
import { withStore } from './store-access.js';

/** The formats of `inventory export`. */
export const EXPORT_FORMATS = ['jsonl', 'json', 'csv'] as const;

interface ExportFlags extends FilterFlags {
  readonly config?: string;
  readonly format: (typeof EXPORT_FORMATS)[number];
  readonly out?: string;
  readonly force?: boolean;
}

/** Registers `signet inventory export`. */
export function registerInventoryExport(group: Command): void {
  const cmd = group.command('export').description('write every matching record, with its certificate, to a file or stdout (JSON Lines, JSON or CSV)');
  addConfigOption(cmd);
  addFilterOptions(cmd);
  cmd
    .addOption(new Option('--format <format>', 'jsonl (one record a line), json (an array) or csv (no certificates)').choices(EXPORT_FORMATS).default('jsonl'))
    .option('--out <file>', 'write here instead of stdout (atomically, mode 0600); - for stdout')
    .option('--force', 'overwrite an existing --out file')
    .addHelpText(
      'after',
      `
Takes the filters of "inventory list" (none: the whole inventory). JSON and JSON Lines records
carry every field plus the certificate as "pem"; CSV carries every field but the certificate.
The file appears only when the export is complete: it is written to a temporary file next to it
and renamed into place.

Examples:
  $ signet inventory export --out inventory.jsonl
  $ signet inventory export --format csv --out inventory.csv --force
  $ signet inventory export --provisioner admin --status valid --format json | jq length`,
    )
    .action(async (opts: ExportFlags) => {
      const now = systemClock.now();
      const filter = buildFilter(opts, now);
      const toFile = opts.out !== undefined && opts.out !== '-';
      const count = await withStore(opts.config, async (store, files) => {
        const sink: TextSink = toFile
          ? atomicFileSink(opts.out ?? '', {
              force: opts.force === true,
              inputs: [{ path: files.config, role: '--config' }, ...(files.database !== undefined ? [{ path: files.database, role: 'the CA database' }] : [])],
            })
          : stdoutSink();
        try {
          const written = await writeRecords(certificatesMatching(store.certificates, filter), recordWriter(opts.format, sink, now, opts.format !== 'csv'));
          await sink.close();
          return written.count;
        } catch (e) {
          sink.abort();
          throw e;
        }
      });
      if (toFile) process.stderr.write(`exported ${count} certificate${count === 1 ? '' : 's'} to ${escapeControl(opts.out ?? '')}\n`);
    });
}
