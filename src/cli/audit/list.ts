/**
 * `signet audit list` — the CA's audit log, newest first: every issuance and refusal (and, as
 * the CA grows, renewals, revocations, provisioner changes and logins), with who, through which
 * provisioner, for which certificate, and why it failed. The store holds no secrets in it;
 * every text is still escaped, since actors and reasons come from tokens and requests.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseTime } from '../../core/duration.js';
import type { AuditEvent, AuditQuery } from '../../store/store.js';
import { addConfigOption, parseLimit, parseSerialText, DEFAULT_LIMIT } from '../inventory/flags.js';
import { csvWriter, jsonArrayWriter, listFormat, stdoutSink, tableWriter, type Column, type ItemWriter } from '../inventory/output.js';
import { withStore } from '../inventory/store-access.js';

/** The store returns at most this many events per query. */
const MAX_AUDIT_LIMIT = 1000;

interface AuditListFlags {
  readonly config?: string;
  readonly since?: string;
  readonly until?: string;
  readonly type?: string;
  readonly serial?: string;
  readonly limit?: string;
  readonly json?: boolean;
  readonly csv?: boolean;
}

/** An audit event as `--json` prints it (time in RFC 3339). */
export function auditJson(e: AuditEvent): Record<string, unknown> {
  return {
    id: e.id,
    time: formatTime(e.time),
    type: e.type,
    outcome: e.outcome,
    actor: e.actor,
    ...(e.provisioner !== undefined && { provisioner: e.provisioner }),
    ...(e.serial !== undefined && { serial: e.serial }),
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.detail !== undefined && { detail: e.detail }),
  };
}

const dash = (v: string | undefined): string => (v === undefined || v === '' ? '-' : v);

const TABLE: readonly Column<AuditEvent>[] = [
  { header: 'TIME', value: (e) => formatTime(e.time) },
  { header: 'TYPE', value: (e) => e.type },
  { header: 'OUTCOME', value: (e) => e.outcome },
  { header: 'ACTOR', value: (e) => dash(e.actor) },
  { header: 'PROVISIONER', value: (e) => dash(e.provisioner) },
  { header: 'SERIAL', value: (e) => dash(e.serial) },
  { header: 'REASON', value: (e) => dash(e.reason) },
];

const CSV: readonly Column<AuditEvent>[] = [
  { header: 'id', value: (e) => String(e.id) },
  { header: 'time', value: (e) => formatTime(e.time) },
  { header: 'type', value: (e) => e.type },
  { header: 'outcome', value: (e) => e.outcome },
  { header: 'actor', value: (e) => e.actor },
  { header: 'provisioner', value: (e) => e.provisioner ?? '' },
  { header: 'serial', value: (e) => e.serial ?? '' },
  { header: 'reason', value: (e) => e.reason ?? '' },
  { header: 'detail', value: (e) => (e.detail === undefined ? '' : JSON.stringify(e.detail)) },
];

/** The store query for the flags, at time `now`. */
export function auditQuery(opts: AuditListFlags, now: Date, limit: number): AuditQuery {
  return {
    ...(opts.since !== undefined && { since: parseTime(opts.since, now) }),
    ...(opts.until !== undefined && { until: parseTime(opts.until, now) }),
    ...(opts.type !== undefined && { type: opts.type }),
    ...(opts.serial !== undefined && { serial: parseSerialText(opts.serial, '--serial') }),
    limit,
  };
}

/** Registers `signet audit list`. */
export function registerAuditList(group: Command): void {
  const cmd = group.command('list').description('list audit events, newest first: issuances, refusals and why');
  addConfigOption(cmd)
    .option('--since <time>', 'events at or after this time (RFC 3339, or relative such as -24h)')
    .option('--until <time>', 'events before this time (RFC 3339, or relative such as -1h)')
    .option('--type <type>', 'only events of this type, e.g. certificate.sign')
    .option('--serial <hex>', 'only events about this certificate (hex, colons and upper case allowed)')
    .option('--limit <n>', `print at most this many, newest first (1 to ${MAX_AUDIT_LIMIT}; default ${DEFAULT_LIMIT})`)
    .addOption(new Option('--json', 'print a JSON array of events (with their detail)').conflicts('csv'))
    .option('--csv', 'print CSV (RFC 4180), the detail as JSON text')
    .addHelpText(
      'after',
      `
Event types so far: certificate.sign (outcome success, or failure with the error code as the
reason). REASON is the error code of a refusal; --json adds the detail (names, notAfter, message).

Examples:
  $ signet audit list
  $ signet audit list --since -24h --type certificate.sign --json
  $ signet audit list --serial 4a:1f:03:c2:d5:e6:f7:08:19:2a:3b:4c:5d:6e:7f:80
  $ signet audit list --until 2026-01-01T00:00:00Z --limit 1000 --csv > audit-2025.csv`,
    )
    .action(async (opts: AuditListFlags) => {
      const now = systemClock.now();
      const limit = parseLimit(opts.limit, false, MAX_AUDIT_LIMIT) ?? DEFAULT_LIMIT;
      const query = auditQuery(opts, now, Math.min(limit + 1, MAX_AUDIT_LIMIT));
      const events = await withStore(opts.config, (store) => store.audit.list(query));
      const format = listFormat(opts);
      const sink = stdoutSink();
      const writer: ItemWriter<AuditEvent> = format === 'json' ? jsonArrayWriter(sink, auditJson) : format === 'csv' ? csvWriter(sink, CSV) : tableWriter(sink, TABLE);
      const shown = events.slice(0, limit);
      for (const e of shown) await writer.write(e);
      await writer.end();
      if (events.length > limit || (limit === MAX_AUDIT_LIMIT && events.length === limit)) {
        process.stderr.write(`note: showing the newest ${shown.length === 1 ? 'event' : `${shown.length} events`}; older ones may match (narrow the time range with --since and --until)\n`);
      } else if (shown.length === 0 && format === 'table') {
        process.stderr.write('no audit events match\n');
      }
    });
}
