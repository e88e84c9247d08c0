/**
 * `signet csr create SUBJECT OUT_CSR` — write a PKCS#10 request (RFC 2986) for an existing key
 * (`--key`) or a new one (`--key-out`), with SANs of every type in an extensionRequest. Nothing
 * is written unless everything succeeded; the CSR and a new key (0600, encrypted unless
 * `--no-password`) are committed together ({@link commitOutputs}). OUT `-` writes to stdout.
 */
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { encodePem } from '../../core/pem.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { assertSigningKey, describeKey, encodePrivateKeyPem } from '../../crypto/keys.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { buildCsr, parseCsr } from '../../x509/csr.js';
import { decodeName } from '../../x509/decode-names.js';
import { formatGeneralName, parseGeneralName } from '../../x509/general-name.js';
import { parseSubject } from '../../x509/name.js';
import { loadPrivateKeyFile } from '../key/load.js';
import { keySpecFromFlags } from '../key/key-flags.js';
import { checkOutputs, commitOutputs, printJson, readPassword, type PlannedOutput } from '../io.js';

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

/** Runs `csr create`. */
export async function createCsrCommand(subjectText: string, outPath: string, flags: CsrCreateFlags): Promise<CsrCreateResult> {
  const force = flags.force === true;
  if ((flags.key === undefined) === (flags.keyOut === undefined)) {
    throw new SignetError('ERR_USAGE', 'give exactly one of --key KEY or --key-out FILE (to generate a new key)');
  }
  if ((flags.kty ?? flags.type ?? flags.curve ?? flags.size) !== undefined && flags.keyOut === undefined) {
    throw new SignetError('ERR_USAGE', '--kty, --curve and --size apply to a new key (--key-out)');
  }
  const keySpec = flags.keyOut !== undefined ? keySpecFromFlags({ type: flags.kty ?? flags.type, curve: flags.curve, size: flags.size }, '--kty') : undefined;
  const subject = parseSubject(subjectText);
  const sans = (flags.san ?? []).map((s) => parseGeneralName(s));
  if (subject.length === 0 && sans.length === 0) {
    throw new SignetError('ERR_BAD_SUBJECT', 'a CSR with an empty subject needs at least one --san (RFC 5280 §4.2.1.6)');
  }
  if (flags.json && (outPath === '-' || flags.keyOut === '-')) {
    throw new SignetError('ERR_USAGE', '--json cannot be combined with writing to stdout (-)', { hint: 'write the CSR and the key to files' });
  }
  const planned: PlannedOutput[] = [
    { path: outPath, role: 'OUT' },
    ...(flags.keyOut !== undefined ? [{ path: flags.keyOut, role: '--key-out', mode: 0o600 }] : []),
  ];
  checkOutputs(
    planned,
    [
      { path: flags.key, role: '--key' },
      { path: flags.passwordFile, role: '--password-file' },
    ],
    { force },
  );

  let key;
  let keyPem: string | undefined;
  if (flags.key !== undefined) {
    key = await loadPrivateKeyFile(flags.key, { passwordFile: flags.passwordFile, source: `--key ${flags.key}` });
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
    key = (await generateKeyAsync(keySpec)).privateKey;
    keyPem = encodePrivateKeyPem(key, password);
  }
  assertSigningKey(key);

  const der = buildCsr(
    { subject, ...(sans.length > 0 ? { extensions: { subjectAltName: { names: sans, critical: subject.length === 0 } } } : {}) },
    createSoftwareSigner(key),
  );

  const newKeyPem = keyPem;
  commitOutputs(
    planned.map((o) => ({ ...o, data: o.role === 'OUT' ? encodePem('CERTIFICATE REQUEST', der) : (newKeyPem ?? '') })),
    { force },
  );
  return {
    csr: outPath,
    ...(flags.keyOut !== undefined ? { key: flags.keyOut } : {}),
    // As inspect, verify and lint print names: the encoded subject, RFC 4514 attributes in DER order.
    subject: decodeName(parseCsr(der).subjectDer, 'ERR_CSR_MALFORMED').text,
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
    .argument('<out>', 'where to write the CSR (PEM; - for stdout)')
    .option('--key <file>', 'sign with this existing private key')
    .option('--key-out <file>', 'generate a new key and write it here (0600, encrypted unless --no-password; - for stdout)')
    .option('--san <name>', 'subject alternative name (repeatable): DNS name, IP, e-mail or URI, auto-detected or prefixed dns:/ip:/email:/uri:', collect)
    .option('--password-file <file>', 'password for --key, or to encrypt --key-out (first line)')
    .option('--no-password', 'write the new key (--key-out) unencrypted')
    .option('--kty <type>', 'type of a new key: ec (default), ed25519 or rsa')
    .addOption(new Option('--type <type>', 'alias of --kty').hideHelp())
    .option('--curve <curve>', 'curve of a new EC key: P-256 (default), P-384, P-521')
    .option('--size <bits>', 'size of a new RSA key: 2048 (default), 3072, 4096')
    .option('--force', 'overwrite existing output files (never an input file)')
    .option('--json', 'print what was written as JSON')
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
      // With a PEM on stdout a summary would corrupt it.
      if (out === '-' || flags.keyOut === '-') return;
      const lines = [
        `csr      ${r.csr}`,
        ...(r.key !== undefined ? [`key      ${r.key}`] : []),
        `subject  ${r.subject || '(empty)'}`,
        ...(r.sans.length > 0 ? [`sans     ${r.sans.join(', ')}`] : []),
        `key alg  ${r.keyAlgorithm}`,
      ];
      process.stdout.write(lines.map(escapeControl).join('\n') + '\n');
    });
}
