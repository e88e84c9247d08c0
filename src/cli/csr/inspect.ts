/**
 * `signet csr inspect CSR` — show a request's subject, SANs, key, requested extensions and
 * whether its self-signature verifies. A CSR whose signature does not verify is shown, then the
 * command fails with ERR_CSR_SIGNATURE_INVALID (exit 4), so scripts cannot miss it.
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { toHex } from '../../core/bytes.js';
import { describeKey } from '../../crypto/keys.js';
import { isCsrSignatureValid, parseCsr, type ParsedCsr } from '../../x509/csr.js';
import { decodeGeneralNames, decodeName } from '../../x509/decode-names.js';
import { formatGeneralName } from '../../x509/general-name.js';
import { OID, oidName } from '../../x509/oids.js';
import { printJson, readInput } from '../io.js';

/** What `csr inspect --json` prints. */
export interface CsrReport {
  /** The subject as `certificate inspect` shows it: RFC 4514 attributes in encoded order (`C=DE, O=Example, CN=web`). */
  readonly subject: string;
  /** Requested SANs as `certificate inspect --json` lists them: `{type: "dns", value: "web.example.com"}`. */
  readonly sans: readonly { readonly type: string; readonly value: string }[];
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
  const sanExtension = csr.extensions.find((e) => e.oid === OID.subjectAltName);
  return {
    subject: decodeName(csr.subjectDer, 'ERR_CSR_MALFORMED').text,
    sans: sanExtension === undefined ? [] : decodeGeneralNames(sanExtension.value, 'ERR_CSR_MALFORMED').map((n) => ({ type: n.type, value: n.value })),
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
    .argument('<csr>', 'CSR file, PEM or DER (- for stdin)')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
Exit status: 0 when the CSR parses and its signature verifies; 4 (ERR_CSR_SIGNATURE_INVALID)
when the signature is wrong; 3 when the input is not a CSR.

Examples:
  $ signet csr inspect web.csr
  $ signet csr inspect web.csr --json | jq .sans`,
    )
    .action((path: string, flags: { json?: boolean }) => {
      const csr = parseCsr(readInput(path, 'CSR'));
      const report = describeCsr(csr);
      if (flags.json) {
        printJson(report);
      } else {
        // Aligned `label:  value` rows, as `key inspect` prints them.
        const rows: Array<[string, string]> = [
          ['subject', report.subject || '(empty)'],
          ['sans', csr.subjectAltNames.length > 0 ? csr.subjectAltNames.map(formatGeneralName).join(', ') : '(none)'],
          ['key', report.key.algorithm],
          ['spki sha256', report.key.spkiSha256],
          ['signature', `${report.signatureAlgorithm}, ${report.signatureValid ? 'valid' : 'INVALID'}`],
          ...report.extensions.map((e, i): [string, string] => [i === 0 ? 'extensions' : '', `${e.name}${e.critical ? ' (critical)' : ''}`]),
        ];
        const width = Math.max(...rows.map(([k]) => k.length)) + 2;
        process.stdout.write(rows.map(([k, v]) => `${(k === '' ? '' : k + ':').padEnd(width)}${escapeControl(v)}`).join('\n') + '\n');
      }
      if (!report.signatureValid) {
        throw new SignetError('ERR_CSR_SIGNATURE_INVALID', 'the CSR signature does not verify with its own public key', {
          hint: 'the request was altered or not signed by the private key of its public key',
        });
      }
    });
}
