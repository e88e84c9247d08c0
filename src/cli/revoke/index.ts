/**
 * `signet revoke --where KEY=VALUE …` — incident response on the CA host: selects certificates
 * in the CA's database, says what the selection holds (`--dry-run`), and revokes the ones still
 * valid in short batches, as one audited incident that can be resumed (`--incident ID`). The
 * running CA (any replica) publishes the revocations in its CRL and OCSP answers at its next
 * revocation watcher tick.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime, parseDuration, parseTime } from '../../core/duration.js';
import { liveUnreplaced, MAX_BATCH, newIncidentId, revokeSelection, setRenewalWindow, survey, type Survey } from '../../revocation/bulk.js';
import type { CertificateFilter, Store } from '../../store/store.js';
import { parseRevocationReason } from '../ca/revoke.js';
import { collect, printJson } from '../io.js';
import { isNameQuery, parseFingerprintText, parseSerialText } from '../inventory/flags.js';
import { CONFIG_OPTION_HELP, withStore } from '../inventory/store-access.js';

/** A `--where issued-…` time; its error names the selector. */
function timeOf(value: string, key: string, now: Date): Date {
  try {
    return parseTime(value, now);
  } catch (e) {
    if (e instanceof SignetError) throw new SignetError(e.code, `--where ${key}: ${e.message}`, e.hint !== undefined ? { hint: e.hint } : {});
    throw e;
  }
}

/** The selectors `--where` takes. */
export const WHERE_KEYS = ['provisioner', 'issuer', 'issued-after', 'issued-before', 'name', 'key-fingerprint', 'profile', 'serial', 'serials-file', 'all'] as const;


interface RevokeFlags {
  readonly where?: string[];
  readonly reason?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly incident?: string;
  readonly renewFirst?: boolean;
  readonly grace?: string;
  readonly batchSize?: string;
  readonly config?: string;
  readonly json?: boolean;
}


/**
 * The filters `where` selects (several when a serial list is longer than one query takes), and
 * `where` as the incident records it: relative times resolved at `now`, so that a resumed
 * incident selects what the first run did.
 */
export function selectionOf(where: readonly string[], now: Date): { readonly filters: CertificateFilter[]; readonly where: string[] } {
  if (where.length === 0) throw new SignetError('ERR_USAGE', 'say which certificates to revoke with --where KEY=VALUE', { hint: `keys: ${WHERE_KEYS.join(', ')}; --where all selects every certificate` });
  const filter: { -readonly [K in keyof CertificateFilter]: CertificateFilter[K] } = {};
  let all = false;
  const serials: string[] = [];
  const seen = new Set<string>();
  const recorded: string[] = [];
  for (const w of where) {
    const eq = w.indexOf('=');
    const key = (eq < 0 ? w : w.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : w.slice(eq + 1).trim();
    if (!(WHERE_KEYS as readonly string[]).includes(key)) {
      throw new SignetError('ERR_BAD_OPTION', `--where: unknown selector "${escapeControl(key.slice(0, 40))}"`, { hint: `use KEY=VALUE with KEY one of: ${WHERE_KEYS.join(', ')}` });
    }
    if (key === 'all') {
      if (eq >= 0) throw new SignetError('ERR_BAD_OPTION', '--where all takes no value');
      all = true;
      recorded.push(key);
      continue;
    }
    if (value === '') throw new SignetError('ERR_BAD_OPTION', `--where ${key}= needs a value`);
    if (key !== 'serial' && key !== 'serials-file' && seen.has(key)) throw new SignetError('ERR_BAD_OPTION', `--where ${key} is given twice`, { hint: 'all selectors must hold at once; give each once' });
    seen.add(key);
    switch (key) {
      case 'provisioner':
        filter.provisioner = value;
        break;
      case 'issuer':
        filter.issuerSerial = parseSerialText(value, '--where issuer');
        break;
      case 'issued-after':
        filter.issuedAfter = timeOf(value, key, now);
        recorded.push(`${key}=${filter.issuedAfter.toISOString()}`);
        continue;
      case 'issued-before':
        filter.issuedBefore = timeOf(value, key, now);
        recorded.push(`${key}=${filter.issuedBefore.toISOString()}`);
        continue;
      case 'name':
        if (!isNameQuery(value)) {
          throw new SignetError('ERR_BAD_OPTION', `--where name: "${escapeControl(value.slice(0, 80))}" is neither a name nor a pattern like *.example.com`, {
            hint: '"*" can only be the whole first label: *.example.com matches every name under example.com',
          });
        }
        filter.name = value;
        break;
      case 'key-fingerprint':
        filter.keyFingerprint = parseFingerprintText(value, '--where key-fingerprint');
        break;
      case 'profile':
        filter.profile = value;
        break;
      case 'serial':
        serials.push(parseSerialText(value, '--where serial'));
        break;
      case 'serials-file': {
        let text: string;
        try {
          text = readFileSync(value, 'utf8');
        } catch {
          throw new SignetError('ERR_FILE_NOT_FOUND', `--where serials-file: cannot read ${escapeControl(value)}`);
        }
        text.split(/\r?\n/).forEach((line, i) => {
          const t = line.replace(/#.*/, '').trim();
          if (t !== '') serials.push(parseSerialText(t, `${value} line ${i + 1}`));
        });
        break;
      }
    }
    recorded.push(`${key}=${value}`);
  }
  if (all && seen.size > 0) throw new SignetError('ERR_USAGE', '--where all cannot be combined with other selectors');
  if (!seen.has('serial') && !seen.has('serials-file')) return { filters: [filter], where: recorded };
  const unique = [...new Set(serials)];
  const chunks: CertificateFilter[] = [];
  for (let i = 0; i < unique.length; i += MAX_BATCH) chunks.push({ ...filter, serials: unique.slice(i, i + MAX_BATCH) });
  return { filters: chunks.length > 0 ? chunks : [{ ...filter, serials: [] }], where: recorded };
}

async function surveyAll(store: Store, filters: readonly CertificateFilter[], now: Date): Promise<Survey> {
  const total = { matched: 0, alreadyRevoked: 0, expired: 0, replaced: 0, liveUnreplaced: 0 };
  for (const f of filters) {
    const s = await survey(store, f, now);
    for (const k of Object.keys(total) as (keyof Survey)[]) total[k] += s[k];
  }
  return total;
}

function surveyLines(s: Survey): string[] {
  const rows: [string, number][] = [
    ['matched', s.matched],
    ['already revoked', s.alreadyRevoked],
    ['already expired', s.expired],
    ['replaced (renewed/rekeyed), still valid', s.replaced],
    ['live with no replacement', s.liveUnreplaced],
    ['to revoke', s.replaced + s.liveUnreplaced],
  ];
  const width = Math.max(...rows.map(([, n]) => n.toLocaleString('en-US').length));
  return rows.map(([label, n]) => `  ${n.toLocaleString('en-US').padStart(width)}  ${label}`);
}

interface StartEvent {
  readonly where: string[];
  readonly reason?: string;
  /** With --renew-first: when the grace period ends (the revocation waits for it). */
  readonly renewUntil?: Date;
}

async function findIncident(store: Store, id: string): Promise<StartEvent> {
  if (!/^[0-9a-f]{12}$/.test(id)) throw new SignetError('ERR_BAD_OPTION', `--incident: "${escapeControl(id.slice(0, 40))}" is not an incident id (12 hex digits, as signet revoke printed it)`);
  const events = await store.audit.list({ type: 'incident.revoke.start', limit: 1000 });
  const start = events.find((e) => (e.detail as { incident?: unknown } | undefined)?.incident === id);
  if (start === undefined) throw new SignetError('ERR_INCIDENT_NOT_FOUND', `no incident ${id} in the audit log`, { hint: 'signet audit list --type incident.revoke.start shows the incidents' });
  const d = start.detail as { where?: unknown; reason?: unknown; renewFirst?: { until?: unknown } };
  if (!Array.isArray(d.where) || !d.where.every((w) => typeof w === 'string')) throw new SignetError('ERR_INTERNAL', `incident ${id} has no query in its audit event`);
  const until = typeof d.renewFirst?.until === 'string' ? new Date(d.renewFirst.until) : undefined;
  return { where: d.where, ...(typeof d.reason === 'string' && { reason: d.reason }), ...(until !== undefined && !Number.isNaN(until.getTime()) && { renewUntil: until }) };
}

/** Registers `signet revoke`. */
export function registerRevokeCommand(program: Command): void {
  program
    .command('revoke')
    .description('incident response: revoke every certificate a query selects, in batches, as one audited incident (on the CA host)')
    .option('--where <KEY=VALUE>', `select certificates (repeatable; all must hold): ${WHERE_KEYS.join(', ')}`, collect)
    .option('--reason <reason>', 'RFC 5280 reason: keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, … (default unspecified)')
    .option('--dry-run', 'only say what the selection holds: matched, already revoked, expired, replaced, live with no replacement')
    .option('--yes', 'revoke without asking (required: the command never prompts)')
    .option('--incident <id>', 'resume an interrupted incident: its query and reason come from its audit event')
    .option('--renew-first', 'first tell the live, unreplaced certificates of the selection to renew now (ACME Renewal Information), wait --grace, then revoke')
    .option('--grace <duration>', 'with --renew-first: how long owners get to renew before the revocation (1s–7d)', '1h')
    .option('--batch-size <n>', `certificates per transaction (1–${MAX_BATCH}, default ${MAX_BATCH})`)
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print the survey and the outcome as JSON')
    .addHelpText(
      'after',
      `
Runs against the CA's database (as the inventory commands do) while the CA serves: each batch is
one short transaction, and every replica publishes the revocations in its CRL and OCSP answers
within revocation.propagation. Certificates already revoked or expired are left alone; replaced
ones that are still valid are revoked too (whoever holds their key could still use them).

Selectors (--where, repeatable, all must hold): provisioner=NAME, issuer=SERIAL (of the issuing
CA certificate), issued-after=TIME, issued-before=TIME (RFC 3339 or relative, -24h), name=NAME or
name=*.example.com, key-fingerprint=SHA256, profile=NAME (leaf, ssh-user, ssh-host, a template),
serial=HEX (repeatable), serials-file=FILE (one serial a line, # comments), or all.

With --renew-first, the live certificates that have no replacement yet get their ARI renewal
window (RFC 9773) set to [now, now + --grace] first, in one transaction with an
acme.renewal-window audit event: ACME clients that read renewal information renew at once. The
command then waits until the window closes and revokes the selection — the certificates that
were renewed meanwhile included (their successors are not in the selection unless the query
selects them too).

The incident is recorded in the audit log (incident.revoke.start with its id, query, reason,
survey and renewal deadline; incident.revoke.done with the count). If the run is interrupted (also
while it waits), run "signet revoke --incident ID --yes": it waits for what is left of the grace
period, and revoking is idempotent: only what is left is revoked.

Exit codes: 0 done (or the dry run printed); 1 the store refused; 2 bad flags or --yes missing;
5 the database cannot be reached.

Examples:
  $ signet revoke --where provisioner=acme --where issued-after=2026-11-20T00:00:00Z --dry-run
  $ signet revoke --where key-fingerprint=3f5a…c2 --reason keyCompromise --yes
  $ signet revoke --where serials-file=affected.txt --reason superseded --yes --json
  $ signet revoke --where provisioner=acme --where name=*.shop.example.com --renew-first --grace 6h --reason keyCompromise --yes
  $ signet revoke --incident 4f2a9c1be07d --yes`,
    )
    .action(async (opts: RevokeFlags) => {
      const now = systemClock.now();
      if (opts.incident !== undefined && opts.where !== undefined) throw new SignetError('ERR_USAGE', '--incident resumes an incident with its own query; leave out --where');
      if (opts.incident !== undefined && opts.reason !== undefined) throw new SignetError('ERR_USAGE', '--incident resumes an incident with its own reason; leave out --reason');
      let batchSize = MAX_BATCH;
      if (opts.batchSize !== undefined) {
        batchSize = /^\d{1,4}$/.test(opts.batchSize) ? Number(opts.batchSize) : NaN;
        if (!(batchSize >= 1 && batchSize <= MAX_BATCH)) throw new SignetError('ERR_BAD_OPTION', `--batch-size must be a whole number from 1 to ${MAX_BATCH}, got "${escapeControl(opts.batchSize.slice(0, 20))}"`);
      }
      if (opts.incident !== undefined && opts.renewFirst === true) throw new SignetError('ERR_USAGE', '--incident resumes an incident as it started; leave out --renew-first');
      const graceMs = parseDuration(opts.grace ?? '1h');
      if (graceMs < 1000 || graceMs > 7 * 24 * 3_600_000) throw new SignetError('ERR_BAD_DURATION', `--grace must be from 1s to 7d, got "${escapeControl((opts.grace ?? '').slice(0, 20))}"`);
      const reasonGiven = opts.reason === undefined ? undefined : parseRevocationReason(opts.reason);
      await withStore(opts.config, async (store) => {
        const resumed = opts.incident === undefined ? undefined : await findIncident(store, opts.incident);
        const selection = selectionOf(resumed?.where ?? opts.where ?? [], now);
        const { filters, where } = selection;
        const reason = resumed?.reason ?? (reasonGiven === 'unspecified' ? undefined : reasonGiven);
        const counts = await surveyAll(store, filters, now);
        const toRevoke = counts.replaced + counts.liveUnreplaced;
        if (opts.dryRun === true) {
          if (opts.json === true) printJson({ dryRun: true, where, ...(reason !== undefined && { reason }), survey: counts, toRevoke });
          else process.stdout.write([`dry run: ${where.map((w) => `--where ${escapeControl(w)}`).join(' ')}`, ...surveyLines(counts)].join('\n') + '\n');
          return;
        }
        if (opts.yes !== true) {
          throw new SignetError('ERR_USAGE', `this would revoke ${toRevoke.toLocaleString('en-US')} certificate${toRevoke === 1 ? '' : 's'}; nothing was changed`, { hint: 'look first with --dry-run, then run again with --yes' });
        }
        const incident = opts.incident ?? newIncidentId();
        const actor = 'operator (signet revoke)';
        // A whole second: the audit event records it in RFC 3339 seconds, and a resumed run waits for exactly that.
        const renewUntil = resumed?.renewUntil ?? (opts.renewFirst === true ? new Date(Math.ceil((now.getTime() + graceMs) / 1000) * 1000) : undefined);
        await store.audit.append({
          time: now,
          type: resumed === undefined ? 'incident.revoke.start' : 'incident.revoke.resume',
          outcome: 'success',
          actor,
          detail: { incident, where, ...(reason !== undefined && { reason }), survey: { ...counts }, ...(renewUntil !== undefined && { renewFirst: { until: formatTime(renewUntil) } }) },
        });
        if (resumed === undefined && renewUntil !== undefined) {
          const told = await setRenewalWindow(store, await liveUnreplaced(store, filters, now), { start: now, end: renewUntil, setAt: now }, actor, { incident });
          if (opts.json !== true) process.stderr.write(`incident ${incident}: ${told.toLocaleString('en-US')} certificate${told === 1 ? '' : 's'} told to renew by ${formatTime(renewUntil)} (ARI)\n`);
        }
        if (renewUntil !== undefined && renewUntil.getTime() > systemClock.now().getTime()) {
          if (opts.json !== true) process.stderr.write(`incident ${incident}: revoking at ${formatTime(renewUntil)}; interrupting is safe: signet revoke --incident ${incident} --yes resumes\n`);
          await new Promise((resolve) => setTimeout(resolve, renewUntil.getTime() - systemClock.now().getTime()));
        }
        const at = renewUntil === undefined ? now : systemClock.now();
        if (opts.json !== true) process.stderr.write(`incident ${incident}: revoking ${toRevoke.toLocaleString('en-US')} certificates${reason !== undefined ? ` (${reason})` : ''}\n`);
        let revoked = 0;
        let batches = 0;
        for (const f of filters) {
          const base = revoked;
          const done = await revokeSelection(store, f, {
            at,
            batchSize,
            ...(reason !== undefined && { reason }),
            onProgress: (p) => {
              if (opts.json !== true) process.stderr.write(`  revoked ${(base + p.revoked).toLocaleString('en-US')} of ${toRevoke.toLocaleString('en-US')}\n`);
            },
          });
          revoked += done.revoked;
          batches += done.batches;
        }
        await store.audit.append({ time: systemClock.now(), type: 'incident.revoke.done', outcome: 'success', actor, detail: { incident, revoked, batches } });
        if (opts.json === true) printJson({ incident, where, ...(reason !== undefined && { reason }), survey: counts, revoked, batches });
        else process.stdout.write(`incident ${incident}: revoked ${revoked.toLocaleString('en-US')} certificate${revoked === 1 ? '' : 's'} in ${batches} batch${batches === 1 ? '' : 'es'}\n`);
      });
    });
}
