/**
 * `signet certificate format INPUT` — converts certificates, CSRs and CRLs between PEM and DER
 * (by default to the other encoding). Every object is parsed first, so garbage is never
 * "converted"; output is written atomically and never over an existing file without --force.
 */
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { decodePemAll, encodePem, looksLikePem } from '../../core/pem.js';
import { INSPECT_PEM_LABELS, derOfObject, parseInspectable, type InspectKind, type InspectedObject } from '../../x509/inspect.js';
import { checkOutputs, emit, readInput } from '../io.js';

interface FormatOptions {
  format?: 'pem' | 'der';
  out?: string;
  force?: boolean;
}

/** The label written for each kind (RFC 7468 §5, §7, §6). */
const OUTPUT_LABEL: Readonly<Record<InspectKind, string>> = { certificate: 'CERTIFICATE', csr: 'CERTIFICATE REQUEST', crl: 'X509 CRL' };

const KEY_LABEL = /PRIVATE KEY|PUBLIC KEY/;

/** Converts parsed objects to the target encoding. */
export function convertObjects(objects: readonly InspectedObject[], target: 'pem' | 'der'): Uint8Array | string {
  if (target === 'pem') return objects.map((o) => encodePem(OUTPUT_LABEL[o.kind], derOfObject(o))).join('');
  const [only, ...rest] = objects;
  if (!only || rest.length > 0) {
    throw new SignetError('ERR_USAGE', `DER holds exactly one object, the input has ${objects.length}`, {
      hint: 'keep PEM for bundles (--format pem), or split the bundle first',
    });
  }
  return derOfObject(only);
}

/** Registers `signet certificate format`. */
export function registerCertificateFormat(group: Command): void {
  group
    .command('format')
    .description('convert a certificate, CSR or CRL between PEM and DER')
    .argument('<input>', 'PEM or DER certificate, CSR or CRL (or a PEM bundle); - for stdin')
    .addOption(new Option('--format <format>', 'output encoding (default: the other one)').choices(['pem', 'der']))
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--force', 'overwrite --out if it exists')
    .addHelpText(
      'after',
      `
PEM input becomes DER and DER input becomes PEM unless --format says otherwise. A PEM bundle
can only stay PEM (DER holds one object). DER is not written to a terminal: use --out or a pipe.
Private and public keys are converted by signet key (e.g. signet key public).

Examples:
  $ signet certificate format leaf.crt --out leaf.der
  $ signet certificate format leaf.der --out leaf.crt
  $ signet certificate format ca.crl --format der > ca.crl.der
  $ signet certificate format request.csr.der --format pem`,
    )
    .action((input: string, opts: FormatOptions) => {
      // Before reading: the output must never replace the input, even with --force.
      if (opts.out !== undefined) checkOutputs([{ path: opts.out, role: '--out' }], [{ path: input, role: 'INPUT' }], { force: opts.force === true });
      const data = readInput(input, 'input');
      const isPem = looksLikePem(data);
      if (isPem) {
        const blocks = decodePemAll(Buffer.from(data).toString('latin1'));
        const key = blocks.find((b) => KEY_LABEL.test(b.label));
        const known = blocks.filter((b) => Object.values(INSPECT_PEM_LABELS).some((labels) => labels.includes(b.label)));
        if (key && known.length === 0) {
          throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `${input} holds a key (${key.label}), not a certificate, CSR or CRL`, {
            hint: 'for the public key use signet key public KEY (SPKI PEM, or --format jwk); for DER keys use openssl pkey -outform der',
          });
        }
      }
      const objects = parseInspectable(data);
      const target = opts.format ?? (isPem ? 'der' : 'pem');
      const output = convertObjects(objects, target);
      if (typeof output !== 'string' && (opts.out === undefined || opts.out === '-') && process.stdout.isTTY) {
        throw new SignetError('ERR_USAGE', 'refusing to write binary DER to a terminal', { hint: 'pass --out FILE or redirect the output' });
      }
      emit(opts.out, output, { force: opts.force === true });
    });
}
