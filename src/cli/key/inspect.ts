/**
 * `signet key inspect FILE` — what a key file holds: type, size or curve, fingerprints. Never
 * prints private material.
 *
 * An encrypted PKCS#8 key is described without its password (container and PBES2 parameters are
 * not secret); `--password-file` decrypts it to add the key type and fingerprints. The command does
 * not prompt, so it behaves the same in scripts and on a terminal.
 */
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { describeKey, parsePrivateKey, parsePublicKey, peekKey, type KeyDescription, type KeyFileInfo } from '../../crypto/keys.js';
import { checkInputs, printJson, readInput, readPassword } from '../io.js';

interface InspectOptions {
  passwordFile?: string;
  json?: boolean;
}

const CONTAINER_LABELS: Readonly<Record<KeyFileInfo['container'], string>> = {
  pkcs8: 'PKCS#8',
  'encrypted-pkcs8': 'encrypted PKCS#8',
  sec1: 'SEC1 (legacy EC)',
  pkcs1: 'PKCS#1 (legacy RSA)',
  spki: 'SubjectPublicKeyInfo',
  'pkcs1-public': 'PKCS#1 public key',
  jwk: 'JWK',
};

const ENCODING_LABELS: Readonly<Record<KeyFileInfo['encoding'], string>> = { pem: 'PEM', der: 'DER', jwk: 'JWK' };

function humanLines(path: string, info: KeyFileInfo, key: KeyDescription | undefined): string[] {
  const rows: Array<[string, string]> = [
    ['file', path],
    // A JWK is its own encoding and container: say it once.
    ['format', info.encoding === info.container ? CONTAINER_LABELS[info.container] : `${ENCODING_LABELS[info.encoding]}, ${CONTAINER_LABELS[info.container]}${info.pemLabel ? ` (${info.pemLabel})` : ''}`],
  ];
  if (info.encryption) rows.push(['encryption', info.encryption.label]);
  if (key) {
    rows.push(['key', `${key.algorithm} ${key.private ? 'private' : 'public'} key`]);
    if (key.publicExponent !== undefined) rows.push(['exponent', String(key.publicExponent)]);
    if (key.pss) {
      const p = key.pss;
      rows.push(['pss', [p.hash && `hash ${p.hash}`, p.mgf1Hash && `mgf1 ${p.mgf1Hash}`, p.saltLength !== undefined && `salt ${p.saltLength}`].filter(Boolean).join(', ')]);
    }
    rows.push(['signature', key.signatureAlgorithm]);
    rows.push(['spki sha256', key.spkiSha256.hex]);
    rows.push(['spki sha256 b64', key.spkiSha256.base64url]);
    if (key.jwkThumbprint !== undefined) rows.push(['jwk thumbprint', key.jwkThumbprint]);
    if (key.weakness !== undefined) rows.push(['weak', `${key.weakness} (signet refuses to sign with it)`]);
  } else {
    rows.push(['key', 'encrypted private key (pass --password-file to see its type and fingerprints)']);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  // The file name and PEM label come from the user and the file: print them inert.
  return rows.map(([k, v]) => `${(k + ':').padEnd(width)}${escapeControl(v)}`);
}

/** Registers `signet key inspect`. */
export function registerKeyInspect(group: Command): void {
  group
    .command('inspect')
    .description('show the type, size or curve and fingerprints of a private or public key')
    .argument('<file>', 'key file: PEM, DER or JWK; private or public; - for stdin')
    .option('--password-file <file>', 'decrypt an encrypted key with the first line of this file')
    .option('--json', 'print the description as JSON')
    .addHelpText(
      'after',
      `
Private material is never printed. An encrypted key is described without its password (format and
encryption parameters); add --password-file to see its type and fingerprints.

Examples:
  $ signet key inspect ca.key --password-file pw.txt
  $ signet key inspect leaf.pub --json
  $ openssl genpkey -algorithm ed25519 | signet key inspect -`,
    )
    .action(async (file: string, opts: InspectOptions) => {
      checkInputs([
        { path: file, role: 'FILE' },
        { path: opts.passwordFile, role: '--password-file' },
      ]);
      const data = readInput(file, 'key file');
      const info = peekKey(data);
      let key: KeyDescription | undefined;
      if (!info.encrypted) {
        key = describeKey(info.private ? parsePrivateKey(data) : parsePublicKey(data));
      } else if (opts.passwordFile !== undefined) {
        const password = await readPassword({ passwordFile: opts.passwordFile, prompt: '' });
        key = describeKey(parsePrivateKey(data, password));
      }
      if (opts.json) {
        printJson({ path: file, ...info, ...(info.encryption ? { encryption: info.encryption } : {}), ...(key ? { key } : {}) });
        return;
      }
      process.stdout.write(humanLines(file, info, key).join('\n') + '\n');
    });
}
