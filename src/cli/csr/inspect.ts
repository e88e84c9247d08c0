/**
 * `signet csr inspect CSR` — show a request's subject, SANs, key, requested extensions and
 * whether its self-signature verifies. A CSR whose signature does not verify is shown, then the
 * command fails with ERR_CSR_SIGNATURE_INVALID (exit 4), so scripts cannot miss it.
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { toHex } from '../../core/bytes.js';
import { describeKey } from '../../crypto/keys.js';
import { isCsrSignatureValid, parseCsr, type ParsedCsr } from '../../x509/csr.js';
import { formatGeneralName } from '../../x509/general-name.js';
import { oidName } from '../../x509/oids.js';
import { printJson, readInput } from '../io.js';

/** What `csr inspect --json` prints. */
export interface CsrReport {
  readonly subject: string;
  readonly sans: readonly string[];
  readonly key: { readonly algorithm: string; readonly spkiSha256: string };
  readonly signatureAlgorithm: string;
  readonly signatureValid: boolean;
  readonly extensions: readonly { readonly name: string; readonly oid: string; readonly critical: boolean }[];
  readonly attributes: readonly { readonly name: string; readonly oid: string }[];
}

/** Describes a parsed CSR (checks the signature; never throws for an invalid one). */
export function describeCsr(csr: ParsedCsr): CsrReport {
  let signatureValid = false;
  try {
    signatureValid = isCsrSignatureValid(csr);
  } catch (e) {
    if (!(e instanceof SignetError)) throw e;
  }
  let algorithm: string = csr.publicKey.asymmetricKeyType ?? 'unknown';
  try {
    algorithm = describeKey(csr.publicKey).algorithm;
  } catch {
    // a key type Signet does not issue for (e.g. secp256k1): show node's name for it
  }
  const spkiSha256 = toHex(new Uint8Array(createHash('sha256').update(csr.spki).digest()));
  return {
    subject: csr.subjectText,
    sans: csr.subjectAltNames.map(formatGeneralName),
    key: { algorithm, spkiSha256 },
    signatureAlgorithm: csr.signatureAlgorithm.name,
    signatureValid,
    extensions: csr.extensions.map((e) => ({ name: oidName(e.oid), oid: e.oid, critical: e.critical })),
    attributes: csr.attributes.map((a) => ({ name: oidName(a.oid), oid: a.oid })),
  };
}

/** Registers `signet csr inspect`. */
export function registerCsrInspect(group: Command): void {
  group
    .command('inspect')
    .description('show a certificate signing request and check its signature')
    .argument('<csr>', 'csr file, PEM or DER (- for stdin)')
    .option('--json', 'print as json')
    .addHelpText(
      'after',
      `
Exit status: 0 when the csr parses and its signature verifies; 4 (ERR_CSR_SIGNATURE_INVALID)
when the signature is wrong; 3 when the input is not a csr.

Examples:
  $ signet csr inspect web.csr
  $ signet csr inspect web.csr --json | jq .sans`,
    )
    .action((path: string, flags: { json?: boolean }) => {
      const report = describeCsr(parseCsr(readInput(path, 'csr')));
      if (flags.json) {
        printJson(report);
      } else {
        const lines = [
          `subject     ${report.subject || '(empty)'}`,
          `sans        ${report.sans.length > 0 ? report.sans.join(', ') : '(none)'}`,
          `key         ${report.key.algorithm}`,
          `spki sha256 ${report.key.spkiSha256}`,
          `signature   ${report.signatureAlgorithm}, ${report.signatureValid ? 'valid' : 'INVALID'}`,
          ...report.extensions.map((e, i) => `${i === 0 ? 'extensions ' : '           '} ${e.name}${e.critical ? ' (critical)' : ''}`),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (!report.signatureValid) {
        throw new SignetError('ERR_CSR_SIGNATURE_INVALID', 'the csr signature does not verify with its own public key', {
          hint: 'the request was altered or not signed by the private key of its public key',
        });
      }
    });
}
