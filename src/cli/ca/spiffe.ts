/**
 * `signet ca jwt-svid` — a JWT-SVID from the CA (POST /spiffe/jwt-svid) for a SPIFFE ID a one-time
 * token authorizes; `signet ca bundle` — the trust domain's SPIFFE bundle (GET /spiffe/bundle),
 * checked as strictly as go-spiffe reads one before it is printed.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { parseBundle } from '../../spiffe/bundle.js';
import { parseSpiffeId } from '../../spiffe/id.js';
import { collect, printJson } from '../io.js';
import { addTokenOptions, obtainToken, type TokenSourceFlags } from './client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';

interface JwtSvidFlags extends ConnectionFlags, TokenSourceFlags {
  audience?: string[];
  lifetime?: string;
  json?: boolean;
}


/** Runs `ca jwt-svid`: the token and what the CA said about it. */
export async function caJwtSvidCommand(spiffeId: string, flags: JwtSvidFlags): Promise<{ token: string; spiffeId: string; kid: string; expiresAt: string }> {
  const id = parseSpiffeId(spiffeId);
  const audience = flags.audience ?? [];
  if (audience.length === 0) throw new SignetError('ERR_USAGE', 'name who will accept the JWT-SVID: --audience (repeatable)');
  const target = resolveCa(flags, { withConfig: true });
  const token = await obtainToken(id.toString(), flags, target, { jwtSvid: true });
  const client = clientFor(target);
  try {
    return await client.jwtSvid({ ott: token, audience, ...(flags.lifetime !== undefined ? { lifetime: flags.lifetime } : {}) });
  } finally {
    client.close();
  }
}

/** Registers `signet ca jwt-svid` and `signet ca bundle`. */
export function registerCaSpiffe(ca: Command): void {
  const jwt = ca
    .command('jwt-svid')
    .description('get a JWT-SVID from the CA for a SPIFFE ID (one-time token, POST /spiffe/jwt-svid); prints the token')
    .argument('<spiffe-id>', 'the SPIFFE ID, e.g. spiffe://example.org/billing/api')
    .option('--audience <aud>', 'who will accept the token: its "aud" (repeatable, at least one)', collect)
    .option('--lifetime <duration>', 'how long it lives, within the provisioner\'s jwtSvid claims (default jwtSvidDefaultLifetime, 5m)');
  addTokenOptions(jwt);
  addConnectionOptions(jwt, { withConfig: true })
    .option('--json', 'print {token, spiffeId, kid, expiresAt}')
    .addHelpText(
      'after',
      `
The one-time token authorizes exactly the SPIFFE ID (\`signet ca token ID --jwt-svid\`), or this
command mints it with --provisioner-key / --config like \`signet ca certificate\`. The JWT-SVID
is signed with the trust domain's current JWT key (ES256 by default); its "exp" never passes that
key's expiry. Verify it with the bundle from \`signet ca bundle\`.

Exit codes: 0 printed; 1 the CA refused (ERR_FORBIDDEN_NAMES for an ID outside the CA's trust
domain, ERR_POLICY_DENIED, ERR_LIFETIME_OUT_OF_BOUNDS, ERR_TOKEN_REPLAYED); 2 bad flags; 3 a
malformed SPIFFE ID (ERR_SPIFFE_ID_INVALID); 6 the CA cannot be reached.

Examples:
  $ signet ca jwt-svid spiffe://example.org/billing/api --audience spiffe://example.org/db --config .signet/ca/signet.json --provisioner-password-file prov-pw.txt
  $ signet ca jwt-svid spiffe://example.org/web --audience https://api.example.com --token "$(cat web.token)" --lifetime 2m --json`,
    )
    .action(async (spiffeId: string, flags: JwtSvidFlags) => {
      const r = await caJwtSvidCommand(spiffeId, flags);
      if (flags.json) printJson(r);
      else process.stdout.write(`${r.token}\n`);
    });

  const bundle = ca.command('bundle').description('print the SPIFFE trust bundle the CA publishes (GET /spiffe/bundle), checked before it is printed');
  addConnectionOptions(bundle)
    .option('--json', 'print {url, sequence, refreshHintSeconds, x509Authorities, jwtAuthorities} instead of the document')
    .addHelpText(
      'after',
      `
The bundle comes over TLS verified against the pinned root (the https_web profile of the SPIFFE
bundle endpoint). It is read as strictly as go-spiffe reads one (ERR_SPIFFE_BUNDLE_INVALID
otherwise) and printed as served: the document a SPIFFE peer or a federated trust domain uses.

Examples:
  $ signet ca bundle > example.org.bundle.json
  $ signet ca bundle --json`,
    )
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const target = resolveCa(flags);
      const client = clientFor(target);
      let doc: string;
      try {
        doc = await client.spiffeBundle();
      } finally {
        client.close();
      }
      // The trust domain is the intermediate's; the bundle's own contents do not name it, so read it with a placeholder name.
      const parsed = parseBundle(doc, 'bundle');
      if (!flags.json) {
        process.stdout.write(doc.endsWith('\n') ? doc : `${doc}\n`);
        return;
      }
      printJson({
        url: client.url,
        sequence: parsed.sequence ?? null,
        refreshHintSeconds: parsed.refreshHintSeconds ?? null,
        x509Authorities: parsed.x509Authorities.length,
        jwtAuthorities: [...parsed.jwtAuthorities.keys()],
      });
    });
}
