/**
 * `signet entry …` — SPIFFE registration entries, on the CA host (the config names the store):
 * which SPIFFE ID the workloads (or nodes) under a parent get, by their attested selectors.
 * Every replica sees a change at once; each change is audited and gets a new revision, which
 * is how agents follow them.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { createEntry, deleteEntry, entryContext, entryJson, entryNotFound, updateEntry, type EntrySpec } from '../../spiffe/entries.js';
import { serverSpiffeId } from '../../spiffe/trust-domain.js';
import type { EntryRecord } from '../../store/store.js';
import { addConfigOption } from '../inventory/flags.js';
import { jsonArrayWriter, stdoutSink, tableWriter, type Column } from '../inventory/output.js';
import { withStore } from '../inventory/store-access.js';
import { caTrustDomains } from '../spiffe-common.js';
import { collect } from '../io.js';

interface EntryFlags {
  readonly config?: string;
  readonly spiffeId?: string;
  readonly parentId?: string;
  readonly node?: boolean;
  readonly selector?: string[];
  readonly x509Ttl?: string;
  readonly jwtTtl?: string;
  readonly dns?: string[];
  readonly admin?: boolean;
  readonly downstream?: boolean;
  readonly federatesWith?: string[];
  readonly hint?: string;
  readonly revision?: string;
  readonly clearX509Ttl?: boolean;
  readonly clearJwtTtl?: boolean;
  readonly clearHint?: boolean;
  readonly json?: boolean;
}

const ACTOR = (cmd: string): string => `operator (signet entry ${cmd})`;


function duration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    throw new SignetError('ERR_BAD_DURATION', `${flag} must be a duration such as 1h or 5m, got ${JSON.stringify(text.slice(0, 32))}`);
  }
}

/** The fields the flags give (for update: only those). */
function specOf(flags: EntryFlags, trustDomains: readonly string[]): Partial<EntrySpec> {
  if (flags.node === true && flags.parentId !== undefined) throw new SignetError('ERR_USAGE', '--node and --parent-id cannot be combined: a node entry\'s parent is the server');
  const td = trustDomains[0];
  if (flags.node === true && td === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', 'this CA serves no trust domain');
  const x509TtlMs = duration(flags.x509Ttl, '--x509-ttl');
  const jwtTtlMs = duration(flags.jwtTtl, '--jwt-ttl');
  return {
    ...(flags.spiffeId !== undefined ? { spiffeId: flags.spiffeId } : {}),
    ...(flags.node === true ? { parentId: serverSpiffeId(td as string) } : flags.parentId !== undefined ? { parentId: flags.parentId } : {}),
    ...(flags.selector !== undefined ? { selectors: flags.selector } : {}),
    ...(x509TtlMs !== undefined ? { x509TtlMs } : {}),
    ...(jwtTtlMs !== undefined ? { jwtTtlMs } : {}),
    ...(flags.dns !== undefined ? { dnsNames: flags.dns } : {}),
    ...(flags.admin !== undefined ? { admin: flags.admin } : {}),
    ...(flags.downstream !== undefined ? { downstream: flags.downstream } : {}),
    ...(flags.federatesWith !== undefined ? { federatesWith: flags.federatesWith } : {}),
    ...(flags.hint !== undefined ? { hint: flags.hint } : {}),
  };
}

function print(e: EntryRecord, json: boolean | undefined): void {
  if (json === true) {
    process.stdout.write(`${JSON.stringify(entryJson(e))}\n`);
    return;
  }
  const j = entryJson(e);
  const lines = [
    `entry id:       ${e.id}`,
    `spiffe id:      ${e.spiffeId}`,
    `parent id:      ${e.parentId}`,
    ...e.selectors.map((s, i) => `${i === 0 ? 'selectors:      ' : '                '}${s}`),
    ...(e.x509TtlMs !== undefined ? [`x509-svid ttl:  ${String(j.x509Ttl)}`] : []),
    ...(e.jwtTtlMs !== undefined ? [`jwt-svid ttl:   ${String(j.jwtTtl)}`] : []),
    ...(e.dnsNames.length > 0 ? [`dns names:      ${e.dnsNames.join(', ')}`] : []),
    ...(e.federatesWith.length > 0 ? [`federates with: ${e.federatesWith.join(', ')}`] : []),
    ...(e.admin ? ['admin:          yes'] : []),
    ...(e.downstream ? ['downstream:     yes'] : []),
    ...(e.hint !== undefined ? [`hint:           ${e.hint}`] : []),
    `revision:       ${e.revision}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const TABLE: readonly Column<EntryRecord>[] = [
  { header: 'ENTRY ID', value: (e) => e.id },
  { header: 'SPIFFE ID', value: (e) => e.spiffeId },
  { header: 'PARENT ID', value: (e) => e.parentId },
  { header: 'SELECTORS', value: (e) => e.selectors.join(',') },
];

function addEntryOptions(cmd: Command, create: boolean): Command {
  return cmd
    .option('--spiffe-id <id>', create ? 'the SPIFFE ID the entry grants (required)' : 'a new SPIFFE ID')
    .option('--parent-id <id>', 'the parent: an agent\'s SPIFFE ID (spiffe://TD/signet/agent/…), a node entry\'s, or another entry\'s')
    .option('--node', 'a node entry: the parent is the server, the selectors are node attestation selectors')
    .option('--selector <type:value>', create ? 'a selector the workload must have, e.g. unix:uid:1000 (repeatable, at least one)' : 'the new selectors (repeatable; replace all)', collect)
    .option('--x509-ttl <duration>', 'lifetime of the X509-SVIDs (1m–30d; default: the provisioner\'s)')
    .option('--jwt-ttl <duration>', 'lifetime of the JWT-SVIDs (1m–24h; default: the provisioner\'s)')
    .option('--dns <name>', 'a DNS name the X509-SVID carries too (repeatable)', collect)
    .option('--admin', 'its SVID may use the admin API')
    .option('--downstream', 'its SVID may sign SVIDs for others (a nested CA)')
    .option('--federates-with <trust-domain>', 'workloads also get this federated trust domain\'s bundle (repeatable; needs a federation relationship)', collect)
    .option('--hint <text>', 'a hint for workloads that get several identities')
    .option('--json', 'print the entry as JSON');
}

/** Registers `signet entry create|list|show|update|delete`. */
export function registerEntryCommands(program: Command): Command {
  const entry = program.command('entry').description('SPIFFE registration entries: which SPIFFE ID workloads and nodes get, by parent and selectors');

  addEntryOptions(addConfigOption(entry.command('create').description('create a registration entry')), true)
    .addHelpText(
      'after',
      `
The SPIFFE ID must be of the CA's trust domain and not under /signet/ (reserved for the server and
node agents). A second entry with the same SPIFFE ID, parent and selectors is ERR_ENTRY_EXISTS.

Examples:
  $ signet entry create --spiffe-id spiffe://example.org/billing --parent-id spiffe://example.org/signet/agent/join_token/4f2c… --selector unix:uid:1000
  $ signet entry create --node --spiffe-id spiffe://example.org/nodes/web --selector join_token:4f2c…
  $ signet entry create --spiffe-id spiffe://example.org/web --parent-id spiffe://example.org/nodes/web \\
      --selector unix:user:www-data --selector unix:sha256:9f86d08188… --dns web.example.org --x509-ttl 1h --json`,
    )
    .action(async (flags: EntryFlags) => {
      const tds = caTrustDomains(flags.config);
      const spec = specOf(flags, tds);
      if (spec.spiffeId === undefined) throw new SignetError('ERR_USAGE', 'name the SPIFFE ID: --spiffe-id');
      if (spec.parentId === undefined) throw new SignetError('ERR_USAGE', 'name the parent: --parent-id, or --node for a node entry');
      if (spec.selectors === undefined) throw new SignetError('ERR_USAGE', 'name at least one selector: --selector type:value');
      const full: EntrySpec = { ...spec, spiffeId: spec.spiffeId, parentId: spec.parentId, selectors: spec.selectors };
      const made = await withStore(flags.config, async (store) => createEntry(store, full, await entryContext(store, tds), ACTOR('create'), systemClock.now()));
      print(made, flags.json);
    });

  addConfigOption(entry.command('list').description('list registration entries, by SPIFFE ID, parent or selector'))
    .option('--spiffe-id <id>', 'only entries granting this SPIFFE ID')
    .option('--parent-id <id>', 'only entries under this parent')
    .option('--selector <type:value>', 'only entries with this selector')
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExamples:\n  $ signet entry list\n  $ signet entry list --selector unix:uid:1000 --json')
    .action(async (flags: { config?: string; spiffeId?: string; parentId?: string; selector?: string; json?: boolean }) => {
      const filter = { ...(flags.spiffeId !== undefined ? { spiffeId: flags.spiffeId } : {}), ...(flags.parentId !== undefined ? { parentId: flags.parentId } : {}), ...(flags.selector !== undefined ? { selector: flags.selector } : {}) };
      const sink = stdoutSink();
      const writer = flags.json === true ? jsonArrayWriter(sink, entryJson) : tableWriter(sink, TABLE);
      let count = 0;
      await withStore(flags.config, async (store) => {
        let cursor: string | undefined;
        do {
          const page = await store.spiffe.listEntries(filter, { limit: 500, ...(cursor !== undefined ? { cursor } : {}) });
          for (const e of page.items) await writer.write(e);
          count += page.items.length;
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      });
      await writer.end();
      if (count === 0 && flags.json !== true) process.stderr.write('no entries\n');
    });

  addConfigOption(entry.command('show').description('show one registration entry'))
    .argument('<entry-id>', 'the entry ID')
    .option('--json', 'print the entry as JSON')
    .addHelpText('after', '\nExamples:\n  $ signet entry show 1b4e28ba-2fa1-11d2-883f-0016d3cca427')
    .action(async (id: string, flags: { config?: string; json?: boolean }) => {
      const e = await withStore(flags.config, (store) => store.spiffe.getEntry(id));
      if (e === undefined) throw entryNotFound(id);
      print(e, flags.json);
    });

  addEntryOptions(addConfigOption(entry.command('update').description('change a registration entry: the given fields replace the entry\'s')), false)
    .argument('<entry-id>', 'the entry ID')
    .option('--no-admin', 'its SVID may no longer use the admin API')
    .option('--no-downstream', 'its SVID may no longer sign SVIDs')
    .option('--revision <n>', 'change it only if it is still at this revision (else ERR_ENTRY_CONFLICT)')
    .option('--clear-x509-ttl', 'back to the provisioner\'s X509-SVID lifetime')
    .option('--clear-jwt-ttl', 'back to the provisioner\'s JWT-SVID lifetime')
    .option('--clear-hint', 'remove the hint')
    .addHelpText(
      'after',
      `
Selectors, DNS names and federated trust domains given replace the whole list. The changed entry is
checked whole, as on create.

Examples:
  $ signet entry update 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --selector unix:uid:1001 --x509-ttl 30m
  $ signet entry update 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --no-admin --revision 42
  $ signet entry update 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --clear-x509-ttl --clear-hint`,
    )
    .action(async (id: string, flags: EntryFlags) => {
      const tds = caTrustDomains(flags.config);
      const clear = [...(flags.clearX509Ttl === true ? (['x509Ttl'] as const) : []), ...(flags.clearJwtTtl === true ? (['jwtTtl'] as const) : []), ...(flags.clearHint === true ? (['hint'] as const) : [])];
      const change = { ...specOf(flags, tds), ...(clear.length > 0 ? { clear } : {}) };
      if (Object.keys(change).length === 0) throw new SignetError('ERR_USAGE', 'nothing to change: give at least one field');
      let expected: bigint | undefined;
      if (flags.revision !== undefined) {
        if (!/^\d{1,18}$/.test(flags.revision)) throw new SignetError('ERR_BAD_OPTION', '--revision must be a whole number');
        expected = BigInt(flags.revision);
      }
      const updated = await withStore(flags.config, async (store) => updateEntry(store, id, change, await entryContext(store, tds), ACTOR('update'), systemClock.now(), expected));
      print(updated, flags.json);
    });

  addConfigOption(entry.command('delete').description('delete a registration entry: its workloads stop getting its SPIFFE ID'))
    .argument('<entry-id>', 'the entry ID')
    .addHelpText('after', '\nExamples:\n  $ signet entry delete 1b4e28ba-2fa1-11d2-883f-0016d3cca427')
    .action(async (id: string, flags: { config?: string }) => {
      const gone = await withStore(flags.config, (store) => deleteEntry(store, id, ACTOR('delete'), systemClock.now()));
      process.stdout.write(`deleted entry ${gone.id} (${gone.spiffeId})\n`);
    });

  entry.addHelpText(
    'after',
    `
Examples:
  $ signet entry create --spiffe-id spiffe://example.org/billing --parent-id spiffe://example.org/signet/agent/join_token/4f2c… --selector unix:uid:1000
  $ signet entry list --selector unix:uid:1000
  $ signet entry update 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --x509-ttl 30m
  $ signet entry delete 1b4e28ba-2fa1-11d2-883f-0016d3cca427`,
  );
  return entry;
}
