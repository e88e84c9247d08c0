/**
 * `signet ca certificate SUBJECT CRT KEY` — get a certificate from the CA: generate the key and
 * the CSR here (SANs default to the subject), get a one-time token (given, or minted with the
 * provisioner key), `POST /sign`, and write the chain (leaf + intermediate) and the key, both
 * together and atomically, never over existing files without --force.
 *
 * The key is written unencrypted (0600) by default: the services that use it read it at start
 * without a person at hand. `--password-file` encrypts it instead.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseTime } from '../../core/duration.js';
import { encodePem } from '../../core/pem.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { encodePrivateKeyPem } from '../../crypto/keys.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { buildCsr } from '../../x509/csr.js';
import { formatGeneralName, parseGeneralName } from '../../x509/general-name.js';
import { keySpecFromFlags } from '../key/key-flags.js';
import { collect, checkOutputs, commitOutputs, printJson, readPassword, type PlannedOutput } from '../io.js';
import { addTokenOptions, tokenInputs, checkIssued, obtainToken, type TokenSourceFlags } from './client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';

interface CertificateFlags extends ConnectionFlags, TokenSourceFlags {
  san?: string[];
  keyType?: string;
  notBefore?: string;
  notAfter?: string;
  passwordFile?: string;
  force?: boolean;
  json?: boolean;
}

/** What `ca certificate --json` prints. */
export interface CaCertificateResult {
  readonly crt: string;
  readonly key: string;
  readonly keyEncrypted: boolean;
  readonly serial: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly caUrl: string;
}


/** `--not-after 8h` (from now), `+8h` or an RFC 3339 time, as RFC 3339 for the API (ERR_BAD_TIME). */
function requestTime(text: string | undefined, now: Date): string | undefined {
  return text === undefined ? undefined : formatTime(parseTime(text, now));
}

/** Runs `ca certificate`. */
export async function caCertificateCommand(subject: string, crtPath: string, keyPath: string, flags: CertificateFlags): Promise<CaCertificateResult> {
  const force = flags.force === true;
  if (subject.trim() === '') throw new SignetError('ERR_BAD_SUBJECT', 'the subject (common name) is empty');
  const spec = keySpecFromFlags({ type: flags.keyType }, '--key-type');
  const sanTexts = flags.san ?? [subject];
  const sans = sanTexts.map((s) => parseGeneralName(s));
  const now = systemClock.now();
  const notBefore = requestTime(flags.notBefore, now);
  const notAfter = requestTime(flags.notAfter, now);
  const planned: PlannedOutput[] = [
    { path: crtPath, role: 'CRT', mode: 0o644 },
    { path: keyPath, role: 'KEY', mode: 0o600 },
  ];
  if (crtPath === '-' || keyPath === '-') throw new SignetError('ERR_USAGE', 'CRT and KEY must be files');
  checkOutputs(
    planned,
    [{ path: flags.passwordFile, role: '--password-file' }, ...tokenInputs(flags)],
    { force },
  );
  const target = resolveCa(flags, { withConfig: true });
  const token = await obtainToken(subject, flags, target, { sans: sanTexts });
  const password = flags.passwordFile !== undefined ? await readPassword({ passwordFile: flags.passwordFile, prompt: 'password for the new key: ' }) : undefined;

  const { privateKey } = await generateKeyAsync(spec);
  const csr = buildCsr({ subject: [[{ type: 'CN', value: subject }]], extensions: { subjectAltName: { names: sans } } }, createSoftwareSigner(privateKey));
  const client = clientFor(target);
  const issued = await client.sign({
    csr: encodePem('CERTIFICATE REQUEST', csr),
    ott: token,
    ...(notBefore !== undefined ? { notBefore } : {}),
    ...(notAfter !== undefined ? { notAfter } : {}),
  });
  const { leaf, chainPem } = checkIssued(issued, privateKey, client.url);
  commitOutputs(
    [
      { path: crtPath, role: 'CRT', mode: 0o644, data: chainPem },
      { path: keyPath, role: 'KEY', mode: 0o600, data: encodePrivateKeyPem(privateKey, password) },
    ],
    { force },
  );
  return {
    crt: crtPath,
    key: keyPath,
    keyEncrypted: password !== undefined,
    serial: leaf.serialHex,
    subject: leaf.subject.text,
    sans: sans.map(formatGeneralName),
    notBefore: formatTime(leaf.notBefore),
    notAfter: formatTime(leaf.notAfter),
    caUrl: client.url,
  };
}

/** Registers `signet ca certificate`. */
export function registerCaCertificate(ca: Command): void {
  const cmd = ca
    .command('certificate')
    .description('get a certificate from the CA: new key and CSR here, one-time token, POST /sign; writes the chain and the key')
    .argument('<subject>', 'the common name, e.g. web.example.com')
    .argument('<crt>', 'where to write the certificate chain (leaf + intermediate, PEM)')
    .argument('<key>', 'where to write the new private key (PEM, 0600)')
    .option('--san <name>', 'a SAN: DNS name, IP, e-mail or URI (repeatable; default: the subject)', collect)
    .option('--key-type <type>', 'the new key: p256 (default), p384, ed25519, rsa2048, rsa3072, rsa4096');
  addTokenOptions(cmd);
  addConnectionOptions(cmd, { withConfig: true })
    .option('--not-before <time>', 'ask for this notBefore (RFC 3339 or relative, e.g. +1h)')
    .option('--not-after <time>', 'ask for this notAfter: a duration from now (8h) or a time; the provisioner\'s claims bound it')
    .option('--password-file <file>', 'encrypt the new key with this password (first line); default: unencrypted, 0600')
    .option('--force', 'overwrite CRT and KEY')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
The token authorizes exactly the SANs of the CSR (default: the subject). Give it with --token or
--token-file (from \`signet ca token\`), or let this command mint it: with --provisioner-key and
--provisioner (anywhere), or with --config on the CA host. The CA comes from the current context,
--context, --ca-url with --root, or --config.

The key is unencrypted by default (0600): services read it unattended. --password-file encrypts
it (PBES2, AES-256). CRT and KEY are written together, atomically, after the CA answered; existing
files are replaced only with --force.

Exit codes: 0 written; 1 the CA refused (its code, e.g. ERR_TOKEN_REPLAYED, ERR_POLICY_DENIED);
2 bad flags or no context; 4 a provisioner password problem; 5 CRT or KEY exists; 6 the CA cannot
be reached (ERR_CA_UNREACHABLE).

Examples:
  $ signet ca certificate web.example.com web.crt web.key --token "$(cat web.token)"
  $ signet ca certificate web.example.com web.crt web.key --san web.example.com --san 10.0.0.5 \\
      --provisioner admin --provisioner-key admin.key --provisioner-password-file prov-pw.txt
  $ signet ca certificate localhost localhost.crt localhost.key --config .signet/ca/signet.json \\
      --provisioner-password-file .signet/provisioner-password.txt --not-after 1h`,
    )
    .action(async (subject: string, crt: string, key: string, flags: CertificateFlags) => {
      const r = await caCertificateCommand(subject, crt, key, flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        [
          `certificate  ${r.crt} (leaf + intermediate)`,
          `key          ${r.key} (0600, ${r.keyEncrypted ? 'encrypted' : 'unencrypted'})`,
          `subject      ${r.subject}`,
          `sans         ${r.sans.join(', ')}`,
          `serial       ${r.serial}`,
          `valid        ${r.notBefore} to ${r.notAfter}`,
        ]
          .map(escapeControl)
          .join('\n') + '\n',
      );
    });
}
