/**
 * `signet acme …` — operating the ACME server: external account binding keys (RFC 8555 §7.3.4).
 * An EAB key lets exactly one ACME account be created under a provisioner with `requireEAB`;
 * its HMAC key is printed once, when it is made, and never again (the store keeps it to verify
 * the binding; `list` shows who used which key).
 */
import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseDuration } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { loadCaConfig } from '../../ca/config.js';
import { liveUnreplaced, setRenewalWindow } from '../../revocation/bulk.js';
import type { AcmeEabKey } from '../../store/store.js';
import { DEFAULT_CONFIG_PATH } from '../ca/config-validate.js';
import { addConfigOption, addFilterOptions, buildFilter, type FilterFlags } from '../inventory/flags.js';
import { jsonArrayWriter, stdoutSink, tableWriter, type Column } from '../inventory/output.js';
import { withStore } from '../inventory/store-access.js';

interface EabFlags {
  readonly config?: string;
  readonly provisioner?: string;
  readonly reference?: string;
  readonly json?: boolean;
}

/** The ACME provisioner `name` of the config at `configPath` (ERR_ACME_NOT_FOUND otherwise, naming those that exist). */
function acmeProvisioner(configPath: string | undefined, name: string): void {
  const config = loadCaConfig(configPath ?? DEFAULT_CONFIG_PATH);
  const acme = config.provisioners.filter((p) => p.type === 'ACME').map((p) => p.name);
  if (!acme.includes(name)) {
    throw new SignetError('ERR_ACME_NOT_FOUND', `the config has no ACME provisioner "${escapeControl(name.slice(0, 64))}"`, {
      hint: acme.length > 0 ? `ACME provisioners: ${acme.join(', ')}` : 'add one to "provisioners" with "type": "ACME"',
    });
  }
}

function eabJson(k: AcmeEabKey): Record<string, unknown> {
  return {
    keyId: k.keyId,
    provisioner: k.provisioner,
    ...(k.reference !== undefined && { reference: k.reference }),
    createdAt: formatTime(k.createdAt),
    ...(k.accountId !== undefined && { account: k.accountId }),
    ...(k.boundAt !== undefined && { boundAt: formatTime(k.boundAt) }),
  };
}

const TABLE: readonly Column<AcmeEabKey>[] = [
  { header: 'KEY ID', value: (k) => k.keyId },
  { header: 'PROVISIONER', value: (k) => k.provisioner },
  { header: 'REFERENCE', value: (k) => k.reference ?? '-' },
  { header: 'CREATED', value: (k) => formatTime(k.createdAt) },
  { header: 'ACCOUNT', value: (k) => k.accountId ?? '(unused)' },
];

/** Registers `signet acme eab add|list|remove`. */
export function registerAcmeCommands(program: Command): Command {
  const acme = program.command('acme').description('operate the ACME server: external account binding keys, renewal windows (ARI)');
  const eab = acme.command('eab').description('external account binding keys (RFC 8555 §7.3.4): one key admits one ACME account');

  addConfigOption(eab.command('add').description('make an EAB key for an ACME provisioner; its HMAC key is printed once'))
    .requiredOption('--provisioner <name>', 'the ACME provisioner the key admits an account to')
    .option('--reference <text>', 'your own label for the key (a customer, a team, a ticket), at most 256 characters')
    .option('--json', 'print {keyId, hmacKey, provisioner, reference?}')
    .addHelpText(
      'after',
      `
The HMAC key is shown only now: give the key id and HMAC key to whoever registers the ACME
account (certbot --eab-kid ID --eab-hmac-key KEY; lego --eab --kid ID --hmac KEY).

Examples:
  $ signet acme eab add --provisioner acme --reference team-payments
  $ signet acme eab add --provisioner acme --json --config /etc/signet/signet.json`,
    )
    .action(async (opts: EabFlags & { provisioner: string }) => {
      if (opts.reference !== undefined && (opts.reference.length === 0 || opts.reference.length > 256 || escapeControl(opts.reference) !== opts.reference)) {
        throw new SignetError('ERR_BAD_OPTION', '--reference must be 1–256 characters without control characters');
      }
      acmeProvisioner(opts.config, opts.provisioner);
      const key: AcmeEabKey = {
        keyId: randomBytes(16).toString('base64url'),
        provisioner: opts.provisioner,
        ...(opts.reference !== undefined && { reference: opts.reference }),
        hmacKey: randomBytes(32),
        createdAt: systemClock.now(),
      };
      await withStore(opts.config, (store) =>
        store.transaction(async (tx) => {
          await tx.acme.addEabKey(key);
          await tx.audit.append({ time: key.createdAt, type: 'acme.eab.add', outcome: 'success', actor: 'operator (signet acme eab add)', provisioner: key.provisioner, detail: { keyId: key.keyId, ...(key.reference !== undefined && { reference: key.reference }) } });
        }),
      );
      const hmacKey = Buffer.from(key.hmacKey).toString('base64url');
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ keyId: key.keyId, hmacKey, provisioner: key.provisioner, ...(key.reference !== undefined && { reference: key.reference }) })}\n`);
      } else {
        process.stdout.write(`key id:   ${key.keyId}\nhmac key: ${hmacKey}\n`);
        process.stderr.write('the HMAC key is shown only now; it admits one account to provisioner ' + `${key.provisioner}\n`);
      }
    });

  addConfigOption(eab.command('list').description('list EAB keys and the accounts that used them (never the HMAC keys)'))
    .option('--provisioner <name>', 'only the keys of this provisioner')
    .addOption(new Option('--json', 'print a JSON array'))
    .addHelpText(
      'after',
      `
Examples:
  $ signet acme eab list
  $ signet acme eab list --provisioner acme --json`,
    )
    .action(async (opts: EabFlags) => {
      const keys = await withStore(opts.config, (store) => store.acme.listEabKeys(opts.provisioner));
      const sink = stdoutSink();
      const writer = opts.json === true ? jsonArrayWriter(sink, eabJson) : tableWriter(sink, TABLE);
      for (const k of keys) await writer.write(k);
      await writer.end();
      if (keys.length === 0 && opts.json !== true) process.stderr.write('no EAB keys\n');
    });

  addConfigOption(eab.command('remove').description('delete an EAB key: an unused one can no longer admit an account (an account already made with it stays)'))
    .argument('<key-id>', 'the key id `add` printed')
    .addHelpText(
      'after',
      `
Examples:
  $ signet acme eab remove 3q2n1X0Jb9c5mYw6aT4pRg`,
    )
    .action(async (keyId: string, opts: EabFlags) => {
      const removed = await withStore(opts.config, (store) =>
        store.transaction(async (tx) => {
          const key = await tx.acme.getEabKey(keyId);
          if (key === undefined || !(await tx.acme.removeEabKey(keyId))) return undefined;
          await tx.audit.append({ time: systemClock.now(), type: 'acme.eab.remove', outcome: 'success', actor: 'operator (signet acme eab remove)', provisioner: key.provisioner, detail: { keyId } });
          return key;
        }),
      );
      if (removed === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', `no EAB key "${escapeControl(keyId.slice(0, 64))}"`, { hint: 'see signet acme eab list' });
      process.stdout.write(`removed EAB key ${removed.keyId}${removed.accountId !== undefined ? ` (account ${removed.accountId} made with it stays)` : ''}\n`);
    });
  addFilterOptions(
    addConfigOption(
      acme
        .command('renewal-window')
        .description('tell the selected certificates to renew now (ACME Renewal Information, RFC 9773): incident response without waiting for expiry'),
    ),
  )
    .option('--now', 'the window opens now (required: the command changes nothing without it)')
    .option('--within <duration>', 'the window closes this long after now', '1h')
    .option('--explanation <url>', 'a page that tells the certificates\' owners why (ARI explanationURL)')
    .option('--dry-run', 'count and list what would be selected; change nothing')
    .option('--json', 'print {selected, set, window, serials}')
    .addHelpText(
      'after',
      `
Selects certificates with the inventory filters (only those not replaced and not revoked), then
sets their ARI window to [now, now + --within]: ACME clients that read renewal information
(RFC 9773) renew within it. The change is in the audit log (acme.renewal-window).

Examples:
  $ signet acme renewal-window --provisioner acme --name '*.payments.example.com' --now --dry-run
  $ signet acme renewal-window --issued-before 2026-11-20T00:00:00Z --now --within 6h \\
      --explanation https://status.example.com/incident-42`,
    )
    .action(async (opts: FilterFlags & { config?: string; now?: boolean; within: string; explanation?: string; dryRun?: boolean; json?: boolean }) => {
      if (opts.now !== true) throw new SignetError('ERR_USAGE', 'renewal-window needs --now (the window opens now)', { hint: 'add --dry-run to see what would be selected' });
      const within = parseDuration(opts.within);
      if (within <= 0 || within > 90 * 24 * 3_600_000) throw new SignetError('ERR_BAD_DURATION', `--within must be a positive duration of at most 90d, got "${escapeControl(opts.within)}"`);
      if (opts.explanation !== undefined && !/^https?:\/\/[^\s]+$/.test(opts.explanation)) throw new SignetError('ERR_BAD_OPTION', '--explanation must be an http(s) URL');
      const now = systemClock.now();
      const filter = { ...buildFilter(opts, now), replaced: false };
      const window = { start: now, end: new Date(now.getTime() + within), ...(opts.explanation !== undefined && { explanationUrl: opts.explanation }), setAt: now };
      const result = await withStore(opts.config, async (store) => {
        const serials = await liveUnreplaced(store, [filter], now);
        // Every window and the audit event in one transaction: all of the selection, or none of it.
        const set = opts.dryRun === true ? 0 : await setRenewalWindow(store, serials, window, 'operator (signet acme renewal-window)');
        return { serials, set };
      });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ selected: result.serials.length, set: result.set, window: { start: formatTime(window.start), end: formatTime(window.end) }, serials: result.serials })}\n`);
      } else {
        process.stdout.write(
          opts.dryRun === true
            ? `${result.serials.length} certificate(s) would be told to renew between ${formatTime(window.start)} and ${formatTime(window.end)}\n`
            : `${result.set} certificate(s) told to renew between ${formatTime(window.start)} and ${formatTime(window.end)}\n`,
        );
      }
    });
  return acme;
}
