/**
 * `signet key create FILE` — generate a key pair and write the private key (encrypted PKCS#8 by
 * default), optionally the public key.
 *
 * Password UX (simpler than `step crypto keypair`, same safety): the key is encrypted unless
 * `--no-password` is given. The password comes from `--password-file` or, on a terminal, from a
 * no-echo prompt asked twice. Without a terminal and without either flag the command fails with
 * ERR_KEY_PASSWORD_REQUIRED instead of silently writing plaintext.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { describeKey, encodePrivateKeyPem, encodePublicKeyPem, peekKey } from '../../crypto/keys.js';
import { exportJwk } from '../../crypto/jwk.js';
import { checkOutputs, commitOutputs, printJson, readPassword, type OutputData, type PlannedOutput } from '../io.js';
import { keySpecFromFlags } from './key-flags.js';

interface CreateOptions {
  type?: string;
  curve?: string;
  size?: string;
  passwordFile?: string;
  /** false with `--no-password`. */
  password: boolean;
  publicOut?: string;
  format: string;
  force?: boolean;
  json?: boolean;
}

/** Aligned `label:  value` rows, as `key inspect` prints them. */
function rows(entries: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  return entries.map(([k, v]) => `${(k + ':').padEnd(width)}${escapeControl(v)}`).join('\n') + '\n';
}

async function choosePassword(opts: CreateOptions): Promise<string | undefined> {
  if (!opts.password) {
    if (opts.passwordFile !== undefined) throw new SignetError('ERR_USAGE', '--password-file and --no-password cannot be combined');
    return undefined;
  }
  if (opts.format === 'jwk') {
    throw new SignetError('ERR_USAGE', 'JWK private keys cannot be encrypted', {
      hint: 'use --format pem for an encrypted key, or --no-password for a plaintext JWK',
    });
  }
  if (opts.passwordFile === undefined && !process.stdin.isTTY) {
    throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'the new key must be encrypted but there is no terminal to ask for a password', {
      hint: 'pass --password-file FILE, or --no-password to write the key unencrypted',
    });
  }
  return readPassword({ passwordFile: opts.passwordFile, prompt: 'password for the new key: ', confirm: true });
}

/** Registers `signet key create`. */
export function registerKeyCreate(group: Command): void {
  group
    .command('create')
    .description('generate a key pair and write the private key (encrypted PKCS#8 PEM by default)')
    .argument('<file>', 'where to write the private key (0600; - for stdout)')
    .option('--type <type>', 'key type: ec (default), ed25519 or rsa')
    .option('--curve <curve>', 'EC curve: P-256 (default), P-384 or P-521')
    .option('--size <bits>', 'RSA modulus size: 2048 (default), 3072 or 4096')
    .option('--password-file <file>', 'read the encryption password from the first line of this file')
    .option('--no-password', 'write the private key unencrypted')
    .option('--public-out <file>', 'also write the public key to this file')
    .option('--format <format>', 'output format: pem (PKCS#8 / SPKI) or jwk', 'pem')
    .option('--force', 'overwrite existing files')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
By default the private key is encrypted (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC); the password is
read from --password-file or prompted twice without echo. Without a terminal, pass
--password-file or --no-password. Key files are written 0600 and never overwritten without --force.

Examples:
  $ signet key create ca.key --password-file pw.txt
  $ signet key create leaf.key --no-password --public-out leaf.pub
  $ signet key create ed.key --type ed25519 --password-file pw.txt --json
  $ signet key create rsa.key --type rsa --size 3072 --no-password
  $ signet key create p384.jwk --curve P-384 --format jwk --no-password`,
    )
    .action(async (file: string, opts: CreateOptions) => {
      // `--type` alone may be any spelling parseKeySpec knows (EC, RSA, P-384, rsa:4096, …);
      // `--size` alone implies rsa.
      const spec = keySpecFromFlags(opts, '--type');
      if (opts.format !== 'pem' && opts.format !== 'jwk') {
        throw new SignetError('ERR_BAD_OPTION', `unknown format "${opts.format}"`, { hint: 'use --format pem or --format jwk' });
      }
      const toStdout = [file, opts.publicOut].filter((p) => p === '-').length;
      if (toStdout > 1 || (toStdout > 0 && opts.json)) {
        throw new SignetError('ERR_USAGE', 'only one of the key, the public key and --json can go to stdout');
      }
      const force = opts.force === true;
      const planned: PlannedOutput[] = [
        { path: file, role: 'FILE', mode: 0o600 },
        ...(opts.publicOut !== undefined ? [{ path: opts.publicOut, role: '--public-out', mode: 0o644 }] : []),
      ];
      // Fail before asking for a password or spending time on key generation.
      checkOutputs(planned, [{ path: opts.passwordFile, role: '--password-file' }], { force });
      const password = await choosePassword(opts);

      const slow = spec.startsWith('rsa') && process.stderr.isTTY;
      if (slow) process.stderr.write(`generating ${spec.replace('rsa', 'RSA ')} key… `);
      const { privateKey, publicKey } = await generateKeyAsync(spec);
      if (slow) process.stderr.write('done\n');

      const privateData =
        opts.format === 'jwk' ? JSON.stringify(exportJwk(privateKey), null, 2) + '\n' : encodePrivateKeyPem(privateKey, password);
      const publicData = opts.format === 'jwk' ? JSON.stringify(exportJwk(publicKey), null, 2) + '\n' : encodePublicKeyPem(publicKey);

      // Both files or neither; an existing file is replaced only once both are written.
      const outputs: OutputData[] = planned.map((o) => ({ ...o, data: o.role === 'FILE' ? privateData : publicData }));
      commitOutputs(outputs, { force });

      const encryption = password === undefined ? undefined : peekKey(Buffer.from(privateData)).encryption;
      const description = describeKey(privateKey);
      if (opts.json) {
        printJson({
          path: file,
          format: opts.format,
          encrypted: password !== undefined,
          ...(encryption ? { encryption: encryption.label } : {}),
          ...(opts.publicOut !== undefined ? { publicPath: opts.publicOut } : {}),
          key: description,
        });
        return;
      }
      if (file === '-' || opts.publicOut === '-') return;
      process.stdout.write(
        rows([
          ['private key', file],
          ...(opts.publicOut !== undefined ? [['public key', opts.publicOut] as const] : []),
          ['key', description.algorithm],
          ['format', opts.format === 'jwk' ? 'JWK' : encryption ? 'PEM, encrypted PKCS#8' : 'PEM, PKCS#8'],
          ['encryption', encryption ? encryption.label : 'none (--no-password)'],
          ['spki sha256', description.spkiSha256.hex],
          ...(description.jwkThumbprint !== undefined ? [['jwk thumbprint', description.jwkThumbprint] as const] : []),
        ]),
      );
    });
}
