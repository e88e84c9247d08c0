/**
 * `signet ca revoke SERIAL | --cert CRT --key KEY` — revoke a certificate: `POST /revoke`,
 * authorized either by the certificate itself (mTLS with CRT and KEY: whoever holds the key may
 * give it up) or by a one-time token whose subject is the serial and whose audience is /revoke
 * (given, or minted here with a provisioner key, as `signet ca token --revoke` does).
 * Revoking twice is not an error: the CA answers with the first revocation.
 */
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { REVOCATION_REASONS, type RevocationReason } from '../../client/http.js';
import { printJson } from '../io.js';
import { addTokenOptions, loadCertificateAndKey, obtainToken, type TokenSourceFlags } from './client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';
import { normalizeSerial } from './token.js';

interface RevokeFlags extends ConnectionFlags, TokenSourceFlags {
  cert?: string;
  key?: string;
  passwordFile?: string;
  reason?: string;
  json?: boolean;
}

/** `keyCompromise`, `key-compromise`, `KEY_COMPROMISE` … → the RFC 5280 §5.3.1 name; ERR_BAD_OPTION otherwise. */
export function parseRevocationReason(text: string): RevocationReason {
  const squashed = text.replace(/[-_\s]/g, '').toLowerCase();
  const found = REVOCATION_REASONS.find((r) => r.toLowerCase() === squashed);
  if (found === undefined) throw new SignetError('ERR_BAD_OPTION', `unknown revocation reason "${text}"`, { hint: `use one of: ${REVOCATION_REASONS.join(', ')}` });
  return found;
}

/** Registers `signet ca revoke`. */
export function registerCaRevoke(ca: Command): void {
  const cmd = ca
    .command('revoke')
    .description('revoke a certificate by serial (with a token) or by the certificate itself (mTLS)')
    .argument('[serial]', 'serial number in hex (colons allowed); or use --cert and --key')
    .option('--cert <file>', 'revoke this certificate, authenticating with it and --key over mTLS')
    .option('--key <file>', 'the private key of --cert')
    .option('--password-file <file>', 'first line: the password of an encrypted --key')
    .option('--reason <reason>', `why: ${REVOCATION_REASONS.join(', ')}`);
  addTokenOptions(cmd);
  addConnectionOptions(cmd, { withConfig: true })
    .option('--json', 'print the revocation as JSON')
    .addHelpText(
      'after',
      `
Two ways to prove you may revoke: hold the certificate's key (--cert and --key: mTLS), or a
one-time token for this serial — from \`signet ca token SERIAL --revoke\` (--token, --token-file),
or minted here with --provisioner-key (anywhere) or --config (on the CA host). The status and
reason are recorded in the inventory; renewing or rekeying the certificate is refused from then on
(ERR_CERT_REVOKED).

Exit codes: 0 revoked (also when it already was); 1 the CA refused (ERR_CERT_NOT_FOUND, a token
problem); 2 bad flags; 6 the CA cannot be reached.

Examples:
  $ signet ca revoke --cert web.crt --key web.key --reason superseded
  $ signet ca revoke 4a:1f:03:9c:… --reason keyCompromise --provisioner admin \\
      --provisioner-key admin.key --provisioner-password-file prov-pw.txt
  $ signet ca revoke 4a1f039c… --token-file revoke.token --json`,
    )
    .action(async (serialArg: string | undefined, flags: RevokeFlags) => {
      const reason = flags.reason !== undefined ? parseRevocationReason(flags.reason) : undefined;
      const byCert = flags.cert !== undefined || flags.key !== undefined;
      if (byCert && (flags.cert === undefined || flags.key === undefined)) throw new SignetError('ERR_USAGE', '--cert and --key go together');
      if (byCert && [flags.token, flags.tokenFile, flags.provisioner, flags.provisionerKey, flags.provisionerPasswordFile].some((f) => f !== undefined)) {
        throw new SignetError('ERR_USAGE', '--cert/--key (mTLS) and a token (--token, --provisioner…) are two ways to authorize: use one');
      }
      if (!byCert && serialArg === undefined) throw new SignetError('ERR_USAGE', 'which certificate? pass SERIAL, or --cert CRT --key KEY');
      if (!byCert && flags.passwordFile !== undefined) throw new SignetError('ERR_USAGE', '--password-file is the password of --key');
      const target = resolveCa(flags, { withConfig: true });
      const client = clientFor(target);
      let result;
      if (byCert && flags.cert !== undefined && flags.key !== undefined) {
        const current = await loadCertificateAndKey(flags.cert, flags.key, { passwordFile: flags.passwordFile });
        const serial = current.leaf.serialHex;
        if (serialArg !== undefined && normalizeSerial(serialArg) !== serial) throw new SignetError('ERR_USAGE', `SERIAL ${serialArg} is not the serial of ${flags.cert} (${serial})`);
        result = await client.revoke({ serial, ...(reason !== undefined ? { reason } : {}) }, { certificateChain: current.chainPem, key: current.key });
      } else {
        const serial = normalizeSerial(serialArg ?? '');
        const ott = await obtainToken(serial, flags, target, { revoke: true });
        result = await client.revoke({ serial, ...(reason !== undefined ? { reason } : {}), ott });
      }
      if (flags.json) printJson(result);
      else {
        const at = new Date(result.revokedAt);
        const when = Number.isNaN(at.getTime()) ? result.revokedAt : formatTime(at);
        process.stdout.write(escapeControl(`revoked ${result.serial} at ${when}${result.reason !== undefined ? ` (${result.reason})` : ''}`) + '\n');
      }
    });
}
