/**
 * `signet svid fetch x509|jwt`, `signet svid validate` — a SPIFFE Workload API client on the
 * command line (Signet's agent or any other, e.g. SPIRE's): what identity does this process get,
 * write it to files, get a JWT-SVID, have a JWT-SVID validated.
 */
import type { Command } from 'commander';
import { formatTime } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import type { WorkloadClient } from '../../agent/workload-client.js';
import { parseSpiffeId } from '../../spiffe/id.js';
import { MAX_JWT_SVID_SIZE } from '../../spiffe/jwt-svid.js';
import { parseCertificate } from '../../x509/certificate.js';
import { collect, parseTimeoutOption, printJson, readInput } from '../io.js';

interface ClientFlags {
  socket?: string;
  timeout: string;
}

function addClientOptions(c: Command): Command {
  return c
    .option('--socket <address>', 'the Workload API: unix:///path/to/socket or tcp://ip:port (default: $SPIFFE_ENDPOINT_SOCKET)')
    .option('--timeout <duration>', 'how long to wait for the answer', '10s');
}

/** Runs `fn` with a client (gRPC is loaded only by the commands that need it). */
async function withClient<T>(flags: ClientFlags, fn: (c: WorkloadClient) => Promise<T>): Promise<T> {
  const { WorkloadClient } = await import('../../agent/workload-client.js');
  const client = new WorkloadClient({ ...(flags.socket !== undefined && { address: flags.socket }), timeoutMs: parseTimeoutOption(flags.timeout) });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Registers `signet svid …`. */
export function registerSvidCommands(program: Command): void {
  const svid = program.command('svid').description('SPIFFE Workload API client: fetch and validate this process\'s SVIDs');
  const fetch = svid.command('fetch').description('fetch this process\'s SVIDs from the Workload API');

  addClientOptions(fetch.command('x509').description('the X509-SVIDs (and bundles) this process gets; --out writes one of them to files'))
    .option('--out <dir>', 'write svid.pem, svid_key.pem (0600), svid_bundle.pem and federated_bundle.<td>.pem into this existing directory (replaced atomically)')
    .option('--spiffe-id <id>', 'with --out: which of the process\'s SVIDs to write (default: the first)')
    .option('--json', 'print {svids: [{spiffeId, hint, serial, notBefore, notAfter, chainLength}], bundles: [trust domains]}')
    .addHelpText(
      'after',
      `
Prints each SPIFFE ID the Workload API gives this process (who the process is, as its agent
attested it: uid, gid, executable…), with the SVID's serial and validity, and the trust domains
whose bundles it may use. Private keys are never printed; --out writes them 0600.

Examples:
  $ signet svid fetch x509 --socket unix:///run/signet/agent.sock
  $ SPIFFE_ENDPOINT_SOCKET=unix:///run/signet/agent.sock signet svid fetch x509 --json
  $ signet svid fetch x509 --out /etc/nginx/svid --spiffe-id spiffe://example.org/web`,
    )
    .action(async (flags: ClientFlags & { out?: string; spiffeId?: string; json?: boolean }) => {
      if (flags.spiffeId !== undefined && flags.out === undefined) throw new SignetError('ERR_USAGE', '--spiffe-id selects the SVID that --out writes', { hint: 'add --out DIR' });
      const wanted = flags.spiffeId === undefined ? undefined : parseSpiffeId(flags.spiffeId).toString();
      const ctx = await withClient(flags, (c) => c.fetchX509Context());
      if (flags.out !== undefined) {
        const { writeSvidFiles } = await import('../../agent/helper.js');
        writeSvidFiles(ctx, flags.out, wanted);
      }
      const svids = ctx.svids.map((s) => ({ spiffeId: s.spiffeId, hint: s.hint, serial: parseCertificate(s.chain[0] as Uint8Array).serialHex, notBefore: formatTime(s.notBefore), notAfter: formatTime(s.notAfter), chainLength: s.chain.length }));
      const bundles = [...ctx.bundles.keys()].sort();
      if (flags.json === true) return printJson({ svids, bundles, ...(flags.out !== undefined && { written: flags.out }) });
      for (const s of svids) process.stdout.write(`${s.spiffeId}${s.hint === '' ? '' : ` (${s.hint})`}\n  serial ${s.serial}, valid ${s.notBefore} to ${s.notAfter}, chain of ${s.chainLength}\n`);
      process.stdout.write(`bundles: ${bundles.join(', ') || 'none'}\n`);
      if (flags.out !== undefined) process.stderr.write(`written to ${flags.out}: svid.pem, svid_key.pem, svid_bundle.pem${bundles.length > 1 ? ', federated_bundle.<td>.pem' : ''}\n`);
    });

  addClientOptions(fetch.command('jwt').description('JWT-SVIDs for an audience, one token per line'))
    .option('--audience <aud>', 'who the token is for (repeatable; at least one)', collect)
    .option('--spiffe-id <id>', 'only this one of the process\'s identities')
    .option('--json', 'print {svids: [{spiffeId, hint, token}]}')
    .addHelpText(
      'after',
      `
A JWT-SVID is a bearer token: give it to the audience only (an Authorization header), and keep
it out of shell history and logs.

Examples:
  $ signet svid fetch jwt --audience https://api.example.org --socket unix:///run/signet/agent.sock
  $ TOKEN=$(signet svid fetch jwt --audience db --spiffe-id spiffe://example.org/web)`,
    )
    .action(async (flags: ClientFlags & { audience?: string[]; spiffeId?: string; json?: boolean }) => {
      const audience = flags.audience ?? [];
      if (audience.length === 0 || audience.some((a) => a === '')) throw new SignetError('ERR_USAGE', 'at least one --audience, none empty, is required');
      const wanted = flags.spiffeId === undefined ? undefined : parseSpiffeId(flags.spiffeId).toString();
      const svids = await withClient(flags, (c) => c.fetchJwtSvids(audience, wanted));
      if (flags.json === true) return printJson({ svids: svids.map((s) => ({ spiffeId: s.spiffeId, hint: s.hint, token: s.token })) });
      for (const s of svids) process.stdout.write(`${s.token}\n`);
      process.stderr.write(svids.map((s) => `JWT-SVID for ${s.spiffeId}, audience ${audience.join(' ')}\n`).join(''));
    });

  addClientOptions(svid.command('validate').description('have the Workload API validate a JWT-SVID for an audience'))
    .requiredOption('--audience <aud>', 'the audience this service is (the token must name it)')
    .option('--token-file <file>', 'the token (default: stdin; never an argument)', '-')
    .option('--json', 'print {spiffeId, claims}')
    .addHelpText(
      'after',
      `
Validation runs in the agent with the bundle of the token's own trust domain (signature,
expiry, audience). A token that does not validate is ERR_JWT_SVID_INVALID with the reason
(exit 1).

Examples:
  $ signet svid fetch jwt --audience db | signet svid validate --audience db
  $ signet svid validate --audience https://api.example.org --token-file token.jwt --json`,
    )
    .action(async (flags: ClientFlags & { audience: string; tokenFile: string; json?: boolean }) => {
      if (flags.audience === '') throw new SignetError('ERR_USAGE', '--audience must not be empty');
      const token = Buffer.from(readInput(flags.tokenFile, 'token', MAX_JWT_SVID_SIZE)).toString('utf8').trim();
      if (token === '') throw new SignetError('ERR_INPUT_EMPTY', `no token in ${flags.tokenFile === '-' ? 'stdin' : flags.tokenFile}`);
      const v = await withClient(flags, (c) => c.validateJwtSvid(token, flags.audience));
      if (flags.json === true) return printJson(v);
      process.stdout.write(`valid: ${v.spiffeId}\n`);
      const exp = v.claims.exp;
      if (typeof exp === 'number') process.stdout.write(`expires ${formatTime(new Date(exp * 1000))}\n`);
    });
}
