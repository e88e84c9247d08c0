/**
 * `signet federation …` — the SPIFFE trust domains this CA federates with (SPIFFE Federation
 * standard): each relationship names a foreign trust domain and its bundle endpoint; the running
 * CA fetches that domain's bundle and refreshes it by its refresh hint, and validation of that
 * domain's SVIDs uses it — only it. Run on the CA host (the config names the store); every
 * replica sees a change at once.
 */
import { Option, type Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { decodePemAll, encodePem } from '../../core/pem.js';
import { fetchableUrl } from '../../client/fetch.js';
import { MAX_BUNDLE_BYTES, parseBundle } from '../../spiffe/bundle.js';
import { bundleDigest, parseBundleRecord, refreshFederation } from '../../spiffe/federation.js';
import { parseSpiffeId, parseTrustDomain } from '../../spiffe/id.js';
import type { BundleEndpointProfile, BundleRecord, FederationRecord } from '../../store/store.js';
import { parseCertificate } from '../../x509/certificate.js';
import { caTrustDomains } from '../spiffe-common.js';
import { readInput } from '../io.js';
import { addConfigOption } from '../inventory/flags.js';
import { jsonArrayWriter, stdoutSink, tableWriter, type Column } from '../inventory/output.js';
import { withStore } from '../inventory/store-access.js';

interface AddFlags {
  readonly config?: string;
  readonly url: string;
  readonly profile: BundleEndpointProfile;
  readonly caFile?: string;
  readonly endpointId?: string;
  readonly bundleFile?: string;
  readonly json?: boolean;
}

/** A relationship and the bundle held for it, as `list --json` and `show` print them. */
function federationJson(f: FederationRecord, b: BundleRecord | undefined): Record<string, unknown> {
  let summary: Record<string, unknown> | undefined;
  if (b !== undefined) {
    const parsed = parseBundleRecord(b);
    summary = { sequence: Number(b.sequence), updatedAt: formatTime(b.updatedAt), x509Authorities: parsed.x509Authorities.map((d) => parseCertificate(d).subject.text), jwtAuthorities: [...parsed.jwtAuthorities.keys()], refreshHintSeconds: parsed.refreshHintSeconds ?? null };
  }
  return {
    trustDomain: f.trustDomain,
    url: f.url,
    profile: f.profile,
    ...(f.endpointSpiffeId !== undefined && { endpointSpiffeId: f.endpointSpiffeId }),
    caCertificates: f.caCertificates === undefined ? 'system' : decodePemAll(f.caCertificates).length,
    createdAt: formatTime(f.createdAt),
    nextRefreshAt: formatTime(f.nextRefreshAt),
    lastSuccessAt: f.lastSuccessAt === undefined ? null : formatTime(f.lastSuccessAt),
    lastError: f.lastError ?? null,
    bundle: summary ?? null,
  };
}

const TABLE: readonly Column<{ f: FederationRecord; b: BundleRecord | undefined }>[] = [
  { header: 'TRUST DOMAIN', value: ({ f }) => f.trustDomain },
  { header: 'PROFILE', value: ({ f }) => f.profile },
  { header: 'URL', value: ({ f }) => f.url },
  { header: 'SEQUENCE', value: ({ b }) => (b === undefined ? '-' : String(b.sequence)) },
  { header: 'LAST FETCH', value: ({ f }) => (f.lastSuccessAt === undefined ? 'never' : formatTime(f.lastSuccessAt)) },
  { header: 'STATUS', value: ({ f }) => (f.lastError === undefined ? 'ok' : `failing: ${f.lastError.split(':')[0] ?? ''}`) },
];

/** The relationship to add, checked before anything is written. */
function checkAdd(td: string, flags: AddFlags): { record: FederationRecord; bootstrap?: { document: string; sequence: number } } {
  const trustDomain = parseTrustDomain(td);
  if (caTrustDomains(flags.config).includes(trustDomain)) throw new SignetError('ERR_BAD_OPTION', `${trustDomain} is the trust domain this CA serves; a CA does not federate with itself`);
  const url = fetchableUrl(flags.url);
  if (url.protocol !== 'https:') throw new SignetError('ERR_BAD_OPTION', 'a bundle endpoint URL must be https (SPIFFE Federation §5)');
  if (url.href.length > 2048) throw new SignetError('ERR_BAD_OPTION', '--url is longer than 2048 characters');
  const now = systemClock.now();
  if (flags.profile === 'https_web') {
    if (flags.endpointId !== undefined || flags.bundleFile !== undefined) throw new SignetError('ERR_USAGE', '--endpoint-id and --bundle-file go with --profile https_spiffe; https_web authenticates the endpoint by its TLS certificate');
    let caCertificates: string | undefined;
    if (flags.caFile !== undefined) {
      const blocks = decodePemAll(Buffer.from(readInput(flags.caFile, 'CA certificates', MAX_BUNDLE_BYTES)).toString('latin1')).filter((b) => b.label === 'CERTIFICATE');
      if (blocks.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${flags.caFile} holds no PEM certificate`);
      for (const b of blocks) parseCertificate(b.der);
      caCertificates = blocks.map((b) => encodePem('CERTIFICATE', b.der)).join('');
    }
    return { record: { trustDomain, url: url.href, profile: 'https_web', ...(caCertificates !== undefined && { caCertificates }), createdAt: now, nextRefreshAt: now } };
  }
  if (flags.caFile !== undefined) throw new SignetError('ERR_USAGE', '--ca-file goes with --profile https_web; https_spiffe authenticates the endpoint with the trust domain\'s own bundle (--bundle-file)');
  if (flags.endpointId === undefined || flags.bundleFile === undefined) throw new SignetError('ERR_USAGE', '--profile https_spiffe needs --endpoint-id (the SPIFFE ID the endpoint presents) and --bundle-file (the trust domain\'s bundle to start from)');
  const endpoint = parseSpiffeId(flags.endpointId);
  if (endpoint.trustDomain !== trustDomain) throw new SignetError('ERR_BAD_OPTION', `the endpoint's SPIFFE ID ${endpoint.toString()} is not in ${trustDomain}: its bundle (--bundle-file) could not authenticate it`);
  const document = Buffer.from(readInput(flags.bundleFile, 'bundle', MAX_BUNDLE_BYTES)).toString('utf8');
  const bundle = parseBundle(document, trustDomain);
  if (bundle.x509Authorities.length === 0) throw new SignetError('ERR_SPIFFE_BUNDLE_INVALID', `${flags.bundleFile} has no X.509 authority to authenticate the endpoint with`);
  return { record: { trustDomain, url: url.href, profile: 'https_spiffe', endpointSpiffeId: endpoint.toString(), createdAt: now, nextRefreshAt: now }, bootstrap: { document, sequence: bundle.sequence ?? 0 } };
}

function notFound(td: string): SignetError {
  return new SignetError('ERR_FEDERATION_NOT_FOUND', `no federation relationship with ${escapeControl(td.slice(0, 255))}`, { hint: 'see signet federation list' });
}

/** Registers `signet federation add|list|show|remove|refresh`. */
export function registerFederationCommands(program: Command): Command {
  const fed = program.command('federation').description('SPIFFE federation: foreign trust domains whose bundles this CA fetches and trusts for their own SVIDs');

  addConfigOption(fed.command('add').description('federate with a trust domain: its bundle is fetched from its bundle endpoint and refreshed by its refresh hint'))
    .argument('<trust-domain>', 'the foreign trust domain, e.g. partner.example')
    .requiredOption('--url <url>', 'its bundle endpoint, https://…')
    .addOption(new Option('--profile <profile>', 'how the endpoint is authenticated').choices(['https_web', 'https_spiffe']).default('https_web'))
    .option('--ca-file <file>', 'https_web: PEM certificates the endpoint\'s TLS certificate must chain to (default: the system\'s roots)')
    .option('--endpoint-id <spiffe-id>', 'https_spiffe: the SPIFFE ID the endpoint presents (a Signet CA: spiffe://TD/signet/server)')
    .option('--bundle-file <file>', 'https_spiffe: the trust domain\'s bundle to start from (it authenticates the first fetch)')
    .option('--json', 'print the relationship as JSON')
    .addHelpText(
      'after',
      `
The running CA fetches the bundle at its next SPIFFE tick (within 30 s) and then by the bundle's
refresh hint; \`signet federation refresh\` fetches it now. With https_spiffe the bootstrap bundle
is stored at once, and every later fetch is authenticated with the newest bundle held.

Exit codes: 0 added; 1 a relationship with that trust domain exists (ERR_FEDERATION_EXISTS);
2 bad flags; 3 a malformed trust domain, SPIFFE ID, bundle or certificate file.

Examples:
  $ signet federation add partner.example --url https://ca.partner.example:9443/spiffe/bundle --ca-file partner-root.pem
  $ signet federation add partner.example --url https://ca.partner.example:9443/spiffe/bundle \\
      --profile https_spiffe --endpoint-id spiffe://partner.example/signet/server --bundle-file partner.bundle.json`,
    )
    .action(async (td: string, flags: AddFlags) => {
      const { record, bootstrap } = checkAdd(td, flags);
      await withStore(flags.config, (store) =>
        store.transaction(async (tx) => {
          if ((await tx.spiffe.addFederation(record)) === 'exists') throw new SignetError('ERR_FEDERATION_EXISTS', `a federation relationship with ${record.trustDomain} exists`, { hint: 'remove it first: signet federation remove' });
          if (bootstrap !== undefined) {
            await tx.spiffe.saveFederatedBundle({ trustDomain: record.trustDomain, kind: 'federated', document: bootstrap.document, digest: bundleDigest(bootstrap.document), sequence: BigInt(bootstrap.sequence), updatedAt: record.createdAt }, record.nextRefreshAt);
          }
          await tx.audit.append({ time: record.createdAt, type: 'spiffe.federation.add', outcome: 'success', actor: 'operator (signet federation add)', detail: { trustDomain: record.trustDomain, url: record.url, profile: record.profile } });
        }),
      );
      if (flags.json === true) process.stdout.write(`${JSON.stringify(federationJson(record, undefined))}\n`);
      else process.stdout.write(`federating with ${record.trustDomain} (${record.profile}, ${record.url}); the CA fetches its bundle within 30 s\n`);
    });

  addConfigOption(fed.command('list').description('list the federation relationships, their bundles\' sequence and the last fetch'))
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExamples:\n  $ signet federation list\n  $ signet federation list --json')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const rows = await withStore(flags.config, async (store) => Promise.all((await store.spiffe.listFederations()).map(async (f) => ({ f, b: await store.spiffe.getBundle(f.trustDomain) }))));
      const sink = stdoutSink();
      const writer = flags.json === true ? jsonArrayWriter(sink, ({ f, b }: { f: FederationRecord; b: BundleRecord | undefined }) => federationJson(f, b)) : tableWriter(sink, TABLE);
      for (const r of rows) await writer.write(r);
      await writer.end();
      if (rows.length === 0 && flags.json !== true) process.stderr.write('no federation relationships\n');
    });

  addConfigOption(fed.command('show').description('one relationship with the bundle held for it (JSON); --bundle prints the bundle document itself'))
    .argument('<trust-domain>', 'the foreign trust domain')
    .option('--bundle', 'print the bundle document as fetched')
    .addHelpText('after', '\nExamples:\n  $ signet federation show partner.example\n  $ signet federation show partner.example --bundle > partner.bundle.json')
    .action(async (td: string, flags: { config?: string; bundle?: boolean }) => {
      const trustDomain = parseTrustDomain(td);
      const { f, b } = await withStore(flags.config, async (store) => ({ f: await store.spiffe.getFederation(trustDomain), b: await store.spiffe.getBundle(trustDomain) }));
      if (f === undefined) throw notFound(trustDomain);
      if (flags.bundle === true) {
        if (b === undefined) throw new SignetError('ERR_BUNDLE_NOT_FOUND', `no bundle of ${trustDomain} has been fetched yet`, { hint: f.lastError !== undefined ? `the last fetch failed: ${f.lastError}` : 'signet federation refresh fetches it now' });
        process.stdout.write(b.document.endsWith('\n') ? b.document : `${b.document}\n`);
        return;
      }
      process.stdout.write(`${JSON.stringify(federationJson(f, b), null, 2)}\n`);
    });

  addConfigOption(fed.command('remove').description('end a federation relationship: its bundle is deleted with it, and that trust domain\'s SVIDs no longer validate here'))
    .argument('<trust-domain>', 'the foreign trust domain')
    .addHelpText('after', '\nExamples:\n  $ signet federation remove partner.example')
    .action(async (td: string, flags: { config?: string }) => {
      const trustDomain = parseTrustDomain(td);
      const removed = await withStore(flags.config, (store) =>
        store.transaction(async (tx) => {
          if (!(await tx.spiffe.removeFederation(trustDomain))) return false;
          await tx.audit.append({ time: systemClock.now(), type: 'spiffe.federation.remove', outcome: 'success', actor: 'operator (signet federation remove)', detail: { trustDomain } });
          return true;
        }),
      );
      if (!removed) throw notFound(trustDomain);
      process.stdout.write(`no longer federating with ${trustDomain}\n`);
    });

  addConfigOption(fed.command('refresh').description('fetch a federated trust domain\'s bundle now (what the CA does by the refresh hint)'))
    .argument('<trust-domain>', 'the foreign trust domain')
    .option('--json', 'print {trustDomain, outcome, sequence, nextRefreshAt}')
    .addHelpText(
      'after',
      `
Exit codes: 0 fetched (updated or unchanged); 6 the endpoint cannot be fetched or authenticated,
or answered something that is not a valid bundle (ERR_BUNDLE_FETCH, recorded on the relationship;
the bundle held before stays); 2 no such relationship.

Examples:
  $ signet federation refresh partner.example`,
    )
    .action(async (td: string, flags: { config?: string; json?: boolean }) => {
      const trustDomain = parseTrustDomain(td);
      const r = await withStore(flags.config, async (store) => {
        const f = await store.spiffe.getFederation(trustDomain);
        if (f === undefined) throw notFound(trustDomain);
        return refreshFederation(store, systemClock, f);
      });
      if (r.outcome === 'failed') {
        const [code, ...rest] = (r.error ?? '').split(': ');
        throw new SignetError('ERR_BUNDLE_FETCH', rest.join(': ') || `the fetch failed (${code ?? ''})`);
      }
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ trustDomain, outcome: r.outcome, sequence: r.sequence ?? null, nextRefreshAt: formatTime(r.nextRefreshAt) })}\n`);
      else process.stdout.write(`${trustDomain}: bundle ${r.outcome}${r.sequence !== undefined ? ` (sequence ${r.sequence})` : ''}; next fetch at ${formatTime(r.nextRefreshAt)}\n`);
    });

  fed.addHelpText(
    'after',
    `
Examples:
  $ signet federation add partner.example --url https://ca.partner.example:9443/spiffe/bundle --ca-file partner-root.pem
  $ signet federation list
  $ signet federation refresh partner.example
  $ signet federation remove partner.example`,
  );
  return fed;
}
