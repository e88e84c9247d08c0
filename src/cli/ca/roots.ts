/** `signet ca roots` — the root certificates the CA serves (GET /roots), over TLS verified against the pinned root. */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { formatTime } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { decodePem, decodePemAll, encodePem } from '../../core/pem.js';
import { parseCertificate } from '../../x509/certificate.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';
import { printJson } from '../io.js';

interface RootsFlags extends ConnectionFlags {
  json?: boolean;
}

/** Registers `signet ca roots`. */
export function registerCaRoots(ca: Command): void {
  const cmd = ca
    .command('roots')
    .description('print the root certificates the CA serves (PEM)');
  addConnectionOptions(cmd)
    .option('--json', 'print {url, roots: [{fingerprint, subject, notAfter, pinned, pem}]}')
    .addHelpText(
      'after',
      `
The answer comes over TLS verified against the pinned root of the context (or --root). "pinned"
in --json says which of the served roots is the one this client pinned.

Exit codes: 0 printed; 6 the CA cannot be reached (ERR_CA_UNREACHABLE); 1 its TLS certificate does
not verify (ERR_CA_UNTRUSTED); 2 no context (ERR_CONTEXT_NOT_FOUND).

Examples:
  $ signet ca roots > roots.pem
  $ signet ca roots --context lab --json`,
    )
    .action(async (flags: RootsFlags) => {
      const target = resolveCa(flags);
      const client = clientFor(target);
      const pems = await client.roots();
      const pinned = new Set(decodePemAll(target.rootsPem).map((b) => createHash('sha256').update(b.der).digest('hex')));
      const roots = pems.map((pem) => {
        let der: Uint8Array;
        try {
          der = decodePem(pem, ['CERTIFICATE']).der;
        } catch (e) {
          throw new SignetError('ERR_CA_BAD_RESPONSE', `${client.url}/roots returned something that is not a PEM certificate`, { cause: e });
        }
        const cert = parseCertificate(der);
        const fingerprint = createHash('sha256').update(der).digest('hex');
        return { fingerprint, subject: cert.subject.text, notAfter: formatTime(cert.notAfter), pinned: pinned.has(fingerprint), pem: encodePem('CERTIFICATE', der) };
      });
      if (flags.json) printJson({ url: client.url, roots });
      else process.stdout.write(roots.map((r) => r.pem).join(''));
    });
}
