/** `signet key public FILE` — print or write the public key of a private (or public) key file. */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { encodePublicKeyPem } from '../../crypto/keys.js';
import { exportJwk } from '../../crypto/jwk.js';
import { checkInputs, checkOutputs, emit } from '../io.js';
import { loadPublicKeyFile } from './load.js';

interface PublicOptions {
  passwordFile?: string;
  out?: string;
  format: string;
  force?: boolean;
}

/** Registers `signet key public`. */
export function registerKeyPublic(group: Command): void {
  group
    .command('public')
    .description('print or write the public key (SPKI PEM or JWK) of a key file')
    .argument('<file>', 'private or public key file: PEM, DER or JWK; - for stdin')
    .option('--password-file <file>', 'password for an encrypted private key (otherwise prompted on a terminal)')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--format <format>', 'pem (SubjectPublicKeyInfo) or jwk', 'pem')
    .option('--force', 'overwrite the --out file if it exists')
    .addHelpText(
      'after',
      `
Examples:
  $ signet key public ca.key --password-file pw.txt
  $ signet key public leaf.key --out leaf.pub
  $ signet key public leaf.key --format jwk`,
    )
    .action(async (file: string, opts: PublicOptions) => {
      if (opts.format !== 'pem' && opts.format !== 'jwk') {
        throw new SignetError('ERR_BAD_OPTION', `unknown format "${opts.format}"`, { hint: 'use --format pem or --format jwk' });
      }
      const inputs = [{ path: file, role: 'FILE' }, { path: opts.passwordFile, role: '--password-file' }];
      if (opts.out !== undefined) {
        // Never replace the key being read (`--out` the same file, even with --force).
        checkOutputs([{ path: opts.out, role: '--out' }], inputs, { force: opts.force === true });
      } else {
        checkInputs(inputs);
      }
      const publicKey = await loadPublicKeyFile(file, { passwordFile: opts.passwordFile });
      const data = opts.format === 'jwk' ? JSON.stringify(exportJwk(publicKey), null, 2) + '\n' : encodePublicKeyPem(publicKey);
      emit(opts.out, data, { force: opts.force === true, mode: 0o644 });
    });
}
