/**
 * `signet certificate bundle LEAF CA...` — concatenates certificates into one PEM bundle in the
 * order TLS servers send them (RFC 8446 §4.4.2: the sender's certificate first, each following
 * one certifying the one before). Every input must parse; unless --no-check, each certificate
 * must be issued by the next one (issuer/subject names and signature).
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { encodePem } from '../../core/pem.js';
import { equalBytes } from '../../core/bytes.js';
import { verifySignature } from '../../crypto/signature.js';
import { parseCertificates, type Certificate } from '../../x509/certificate.js';
import { checkOutputs, emit, printJson, readInput } from '../io.js';

interface BundleOptions {
  out?: string;
  force?: boolean;
  check: boolean;
  json?: boolean;
}

interface Entry {
  readonly file: string;
  readonly cert: Certificate;
}

/**
 * RFC 5280 §7.1 compares names after normalisation; byte equality is what conforming issuers
 * produce, and a case/space-insensitive comparison of the text catches re-encoded names.
 */
function sameName(a: Certificate['issuer'], b: Certificate['subject']): boolean {
  if (equalBytes(a.der, b.der)) return true;
  const norm = (t: string): string => t.toLowerCase().replace(/\s+/g, ' ').trim();
  return norm(a.text) === norm(b.text);
}

/** True when `child` names `issuer` as its issuer and `issuer`'s key verifies `child`'s signature. */
export function isIssuedBy(child: Certificate, issuer: Certificate): boolean {
  if (!sameName(child.issuer, issuer.subject) || !issuer.publicKey) return false;
  try {
    return verifySignature(issuer.publicKey, child.signatureAlgorithm, child.tbs, child.signatureValue);
  } catch {
    return false;
  }
}

/**
 * Finds an order of all certificates where each is issued by the next, starting from the one
 * that issues none of the others. Returns indexes, or undefined when there is none.
 */
export function findChainOrder(certs: readonly Certificate[]): number[] | undefined {
  const issues = (i: number, j: number): boolean => i !== j && isIssuedBy(certs[j] as Certificate, certs[i] as Certificate);
  const leaves = certs.map((_c, i) => i).filter((i) => !certs.some((_c, j) => issues(i, j)));
  for (const start of leaves) {
    const order = [start];
    const used = new Set(order);
    let cur = start;
    while (order.length < certs.length) {
      const next = certs.findIndex((_c, j) => !used.has(j) && issues(j, cur));
      if (next < 0) break;
      order.push(next);
      used.add(next);
      cur = next;
    }
    if (order.length === certs.length) return order;
  }
  return undefined;
}

function checkOrder(entries: readonly Entry[]): void {
  const seen = new Map<string, string>();
  for (const e of entries) {
    const prev = seen.get(e.cert.fingerprintSha256);
    if (prev !== undefined) {
      throw new SignetError('ERR_BUNDLE_ORDER', `certificate "${e.cert.subject.text}" is listed twice (${prev} and ${e.file})`, { hint: 'list each certificate once' });
    }
    seen.set(e.cert.fingerprintSha256, e.file);
  }
  for (let i = 0; i + 1 < entries.length; i++) {
    const child = entries[i] as Entry;
    const parent = entries[i + 1] as Entry;
    if (isIssuedBy(child.cert, parent.cert)) continue;
    const order = findChainOrder(entries.map((e) => e.cert));
    const filesUnique = new Set(entries.map((e) => e.file)).size === entries.length;
    const label = (k: number): string => (filesUnique ? (entries[k]?.file ?? '') : `"${entries[k]?.cert.subject.text ?? ''}"`);
    const suggestion = order
      ? `reorder as: ${order.map(label).join(' ')}`
      : 'pass the leaf first, then each issuer in turn, or --no-check to bundle as given';
    throw new SignetError(
      'ERR_BUNDLE_ORDER',
      `certificate ${i + 1} ("${child.cert.subject.text}", ${child.file}) is not issued by certificate ${i + 2} ("${parent.cert.subject.text}", ${parent.file})`,
      { hint: suggestion, detail: { position: i + 1, file: child.file, next: parent.file } },
    );
  }
}

/** Registers `signet certificate bundle`. */
export function registerCertificateBundle(group: Command): void {
  group
    .command('bundle')
    .description('concatenate certificates into a PEM bundle: leaf first, then its issuers')
    .argument('<certificates...>', 'certificate files (PEM, DER or PEM bundles), leaf first')
    .option('--out <file>', 'write the bundle to this file (default: stdout)')
    .option('--force', 'overwrite --out if it exists')
    .option('--no-check', 'do not check that each certificate is issued by the next')
    .option('--json', 'print a summary of the bundle as JSON')
    .addHelpText(
      'after',
      `
Each certificate must be issued by the one after it (issuer name and signature); the bundle is
refused with ERR_BUNDLE_ORDER (exit 1) otherwise, and the error suggests the right order when one
exists. Whether to include the root is up to you: servers usually leave it out.

Examples:
  $ signet certificate bundle leaf.crt intermediate.crt --out chain.pem
  $ signet certificate bundle leaf.crt intermediate.crt root.crt --out full-chain.pem --force
  $ signet certificate bundle cross-signed.crt other.crt --no-check > chain.pem`,
    )
    .action((files: string[], opts: BundleOptions) => {
      // Before reading: stdin at most once, and --out never one of the inputs (even with --force).
      checkOutputs(
        opts.out !== undefined ? [{ path: opts.out, role: '--out' }] : [],
        files.map((path, i) => ({ path, role: `certificate ${i + 1}` })),
        { force: opts.force === true },
      );
      const entries: Entry[] = [];
      for (const file of files) {
        for (const cert of parseCertificates(readInput(file, 'certificate'))) entries.push({ file, cert });
      }
      if (opts.check) checkOrder(entries);
      const pem = entries.map((e) => encodePem('CERTIFICATE', e.cert.der)).join('');
      const toFile = opts.out !== undefined && opts.out !== '-';
      if (opts.json) {
        if (!toFile) throw new SignetError('ERR_USAGE', '--json needs --out: the bundle itself goes to stdout otherwise');
        emit(opts.out, pem, { force: opts.force === true });
        printJson({
          out: opts.out,
          checked: opts.check,
          certificates: entries.map((e) => ({ file: e.file, subject: e.cert.subject.text, issuer: e.cert.issuer.text, sha256: e.cert.fingerprintSha256 })),
        });
        return;
      }
      emit(opts.out, pem, { force: opts.force === true });
      if (toFile) process.stderr.write(`wrote ${escapeControl(opts.out ?? '')} (${entries.length} certificate${entries.length === 1 ? '' : 's'})\n`);
    });
}
