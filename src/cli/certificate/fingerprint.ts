/**
 * `signet certificate fingerprint INPUT` — the digest of each object's DER, one line each, in
 * input order (certificates, bundles, CSRs, CRLs, or a TLS server's chain).
 */
import { Option, type Command } from 'commander';
import { derOfObject, fingerprint, formatFingerprint, type FingerprintAlgorithm, type FingerprintFormat, type InspectedObject } from '../../x509/inspect.js';
import { decodeName } from '../../x509/decode-names.js';
import { printJson } from '../io.js';
import { loadInspectInput } from './inspect.js';

interface FingerprintOptions {
  algorithm: FingerprintAlgorithm;
  format: FingerprintFormat;
  json?: boolean;
  servername?: string;
  timeout?: string;
}

function nameOf(o: InspectedObject): string {
  switch (o.kind) {
    case 'certificate':
      return o.certificate.subject.text;
    case 'csr':
      return decodeName(o.csr.subjectDer, 'ERR_CSR_MALFORMED').text;
    case 'crl':
      return o.crl.issuer.text;
  }
}

/** Registers `signet certificate fingerprint`. */
export function registerCertificateFingerprint(group: Command): void {
  group
    .command('fingerprint')
    .description('print the fingerprint of each certificate (or CSR/CRL) in a file or a TLS chain')
    .argument('<input>', 'PEM/DER file or bundle; - for stdin; or host:port of a TLS server')
    .addOption(new Option('--algorithm <hash>', 'digest').choices(['sha256', 'sha1', 'sha384', 'sha512']).default('sha256'))
    .addOption(new Option('--format <format>', 'hex (lower case), colon (OpenSSL style), base64 or base64url').choices(['hex', 'colon', 'base64', 'base64url']).default('hex'))
    .option('--json', 'print {algorithm, format, items: [{type, name, fingerprint}]}')
    .option('--servername <name>', 'SNI to send to a TLS server')
    .option('--timeout <duration>', 'TLS connect and handshake timeout', '10s')
    .addHelpText(
      'after',
      `
The fingerprint is the digest of the whole DER object, the same value as
openssl x509 -noout -fingerprint -sha256 (use --format colon for that exact form).

Examples:
  $ signet certificate fingerprint leaf.crt
  $ signet certificate fingerprint chain.pem --format colon
  $ signet certificate fingerprint root.crt --algorithm sha1
  $ signet certificate fingerprint example.com:443 --json`,
    )
    .action(async (input: string, opts: FingerprintOptions) => {
      const loaded = await loadInspectInput(input, { servername: opts.servername, timeout: opts.timeout });
      const items = loaded.objects.map((o) => ({ type: o.kind, name: nameOf(o), fingerprint: formatFingerprint(fingerprint(derOfObject(o), opts.algorithm), opts.format) }));
      if (opts.json) {
        printJson({ algorithm: opts.algorithm, format: opts.format, items });
        return;
      }
      process.stdout.write(items.map((i) => i.fingerprint).join('\n') + '\n');
    });
}
