/**
 * `signet csr create SUBJECT OUT_CSR` — write a PKCS#10 request (RFC 2986) for an existing key
 * (`--key`) or a new one (`--key-out`), with SANs of every type in an extensionRequest. Nothing
 * is written unless everything succeeded; a new key is written 0600 (encrypted unless
 * `--no-password`) and removed again if the CSR cannot be written.
 */
import { unlinkSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { encodePem } from '../../core/pem.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { assertSigningKey, describeKey, encodePrivateKeyPem } from '../../crypto/keys.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { buildCsr } from '../../x509/csr.js';
import { formatGeneralName, parseGeneralName } from '../../x509/general-name.js';
import { formatDistinguishedName, parseSubject } from '../../x509/name.js';
import { loadPrivateKeyFile } from '../key/load.js';
import { fsError, printJson, readPassword, writeOutputFile } from '../io.js';
import { lstatSync } from 'node:fs';

/** The flags of `csr create`. */
export interface CsrCreateFlags {
  key?: string | undefined;
  keyOut?: string | undefined;
  san?: string[] | undefined;
  passwordFile?: string | undefined;
  /** false with --no-password. */
  password?: boolean | undefined;
  kty?: string | undefined;
  type?: string | undefined;
  curve?: string | undefined;
  size?: string | undefined;
  force?: boolean | undefined;
  json?: boolean | undefined;
}

/** What `csr create --json` prints. */
export interface CsrCreateResult {
  readonly csr: string;
  readonly key?: string;
  readonly subject: string;
  readonly sans: readonly string[];
  readonly keyAlgorithm: string;
}

function refuseExisting(path: string | undefined, force: boolean): void {
  if (path === undefined || force) return;
  try {
    lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(e, path);
  }
  throw new SignetError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'use --force to overwrite' });
}

/** Runs `csr create`. */
export async function createCsrCommand(subjectText: string, outPath: string, flags: CsrCreateFlags): Promise<CsrCreateResult> {
  const force = flags.force === true;
  if ((flags.key === undefined) === (flags.keyOut === undefined)) {
    throw new SignetError('ERR_USAGE', 'give exactly one of --key KEY or --key-out FILE (to generate a new key)');
  }
  if (flags.keyOut !== undefined && flags.keyOut === outPath) throw new SignetError('ERR_USAGE', 'the key and the csr cannot be written to the same file');
  if ((flags.kty ?? flags.type ?? flags.curve ?? flags.size) !== undefined && flags.keyOut === undefined) {
    throw new SignetError('ERR_USAGE', '--kty, --curve and --size apply to a new key (--key-out)');
  }
  const subject = parseSubject(subjectText);
  const sans = (flags.san ?? []).map((s) => parseGeneralName(s));
  if (subject.length === 0 && sans.length === 0) {
    throw new SignetError('ERR_BAD_SUBJECT', 'a csr with an empty subject needs at least one --san (RFC 5280 §4.2.1.6)');
  }
  refuseExisting(outPath, force);
  refuseExisting(flags.keyOut, force);

  let key;
  let keyPem: string | undefined;
  if (flags.key !== undefined) {
    key = await loadPrivateKeyFile(flags.key, { passwordFile: flags.passwordFile });
  } else {
    let password: string | undefined;
    if (flags.password === false) {
      if (flags.passwordFile !== undefined) throw new SignetError('ERR_USAGE', '--password-file and --no-password cannot be combined');
    } else {
      if (flags.passwordFile === undefined && !process.stdin.isTTY) {
        throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'the new key must be encrypted but there is no terminal to ask for a password', {
          hint: 'pass --password-file FILE, or --no-password to write the key unencrypted',
        });
      }
      password = await readPassword({ passwordFile: flags.passwordFile, prompt: 'password for the new key: ', confirm: true });
    }
    key = (await generateKeyAsync({ type: flags.kty ?? flags.type, curve: flags.curve, size: flags.size })).privateKey;
    keyPem = encodePrivateKeyPem(key, password);
  }
  assertSigningKey(key);

  const der = buildCsr(
    { subject, ...(sans.length > 0 ? { extensions: { subjectAltName: { names: sans, critical: subject.length === 0 } } } : {}) },
    createSoftwareSigner(key),
  );

  if (keyPem !== undefined && flags.keyOut !== undefined) writeOutputFile(flags.keyOut, keyPem, { force, mode: 0o600 });
  try {
    writeOutputFile(outPath, encodePem('CERTIFICATE REQUEST', der), { force });
  } catch (e) {
    if (keyPem !== undefined && flags.keyOut !== undefined) {
      try {
        unlinkSync(flags.keyOut);
      } catch {
        // nothing to undo
      }
    }
    throw e;
  }
  return {
    csr: outPath,
    ...(flags.keyOut !== undefined ? { key: flags.keyOut } : {}),
    subject: formatDistinguishedName(subject),
    sans: sans.map(formatGeneralName),
    keyAlgorithm: describeKey(key).algorithm,
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Registers `signet csr create`. */
export function registerCsrCreate(group: Command): void {
  group
    .command('create')
    .description('create a certificate signing request (PKCS#10) for an existing or a new key')
    .argument('<subject>', 'subject: "CN=web,O=Example" (RFC 4514), "/O=Example/CN=web" (OpenSSL), a plain common name, or "" for none')
    .argument('<out>', 'where to write the csr (PEM)')
    .option('--key <file>', 'sign with this existing private key')
    .option('--key-out <file>', 'generate a new key and write it here (0600, encrypted unless --no-password)')
    .option('--san <name>', 'subject alternative name (repeatable): DNS name, IP, e-mail or URI, auto-detected or prefixed dns:/ip:/email:/uri:', collect)
    .option('--password-file <file>', 'password for --key, or to encrypt --key-out (first line)')
    .option('--no-password', 'write the new key (--key-out) unencrypted')
    .option('--kty <type>', 'type of a new key: ec (default), ed25519 or rsa')
    .addOption(new Option('--type <type>', 'alias of --kty').hideHelp())
    .option('--curve <curve>', 'curve of a new ec key: P-256 (default), P-384, P-521')
    .option('--size <bits>', 'size of a new rsa key: 2048 (default), 3072, 4096')
    .option('--force', 'overwrite existing output files')
    .option('--json', 'print what was written as json')
    .addHelpText(
      'after',
      `
Examples:
  $ signet csr create web.example.com web.csr --key-out web.key --no-password --san www.example.com --san 10.0.0.5
  $ signet csr create "CN=Jane Doe,O=Example" jane.csr --key jane.key --password-file pw.txt --san jane@example.com
  $ signet csr create "" svc.csr --key svc.key --san uri:spiffe://example.org/ns/prod/sa/web`,
    )
    .action(async (subject: string, out: string, flags: CsrCreateFlags) => {
      const r = await createCsrCommand(subject, out, flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      const lines = [
        `csr      ${r.csr}`,
        ...(r.key !== undefined ? [`key      ${r.key}`] : []),
        `subject  ${r.subject || '(empty)'}`,
        ...(r.sans.length > 0 ? [`sans     ${r.sans.join(', ')}`] : []),
        `key alg  ${r.keyAlgorithm}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
