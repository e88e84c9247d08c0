/**
 * `signet crl inspect FILE|URL` — show a CRL read from a file, stdin or its distribution point
 * (http/https), optionally checked against its issuer (`--issuer`: signature, issuer name,
 * currency at --time) and searched for serial numbers (`--serial`). A failed check exits 1 with
 * its code after the report is printed; looking serials up never fails (being listed is an
 * answer, not an error).
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { fetchableUrl, fetchBytes } from '../../client/fetch.js';
import { parseCertificates, type Certificate } from '../../x509/certificate.js';
import { parseCrls, verifyCrlSignature, type Crl } from '../../x509/crl.js';
import { crlStatus, describeCrl, renderText, type CrlReport } from '../../x509/inspect.js';
import { commandTime } from '../certificate/inspect.js';
import { parseSerialText } from '../inventory/flags.js';
import { collect, MAX_CRL_BYTES, parseTimeoutOption, printJson, readInput, withSource } from '../io.js';
import { equalBytes } from '../../core/bytes.js';

interface CrlInspectOptions {
  issuer?: string;
  serial?: string[];
  short?: boolean;
  time?: string;
  timeout: string;
  roots?: string;
  json?: boolean;
}

/** What `--issuer` found. */
interface IssuerCheck {
  readonly issuer: string;
  readonly issuerNameMatches: boolean;
  readonly signatureValid: boolean;
  /** The CRL's own currency at the time (`current`, `stale`, `not-yet-valid`). */
  readonly status: CrlReport['status'];
}

/** One `--serial` lookup. */
interface SerialLookup {
  readonly serial: string;
  readonly listed: boolean;
  readonly revocationDate?: string;
  readonly reason?: string;
  readonly invalidityDate?: string;
}


/** Reads the CRL(s): a file, stdin, or an http(s) URL. */
async function loadCrls(input: string, opts: CrlInspectOptions): Promise<{ source: { type: 'file' | 'stdin' | 'url'; name: string }; crls: Crl[] }> {
  if (/^https?:\/\//i.test(input)) {
    const url = fetchableUrl(input);
    const timeoutMs = parseTimeoutOption(opts.timeout);
    const roots = opts.roots === undefined ? undefined : Buffer.from(readInput(opts.roots, 'roots file')).toString('latin1');
    const fetched = await fetchBytes(url, { timeoutMs, maxBytes: MAX_CRL_BYTES, accept: 'application/pkix-crl, application/x-pem-file;q=0.5', ...(roots !== undefined && { roots }) });
    if (fetched.body.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${escapeControl(url.href)} answered an empty body`);
    return { source: { type: 'url', name: url.href }, crls: withSource(`CRL from ${url.href}`, () => parseCrls(fetched.body)) };
  }
  if (opts.roots !== undefined) throw new SignetError('ERR_BAD_OPTION', '--roots only applies to an https:// URL');
  const data = readInput(input, 'CRL file', MAX_CRL_BYTES);
  return { source: { type: input === '-' ? 'stdin' : 'file', name: input }, crls: withSource(`CRL file ${input === '-' ? '(stdin)' : input}`, () => parseCrls(data)) };
}

function checkIssuer(crl: Crl, issuer: Certificate, time: Date): IssuerCheck {
  return {
    issuer: issuer.subject.text,
    issuerNameMatches: equalBytes(crl.issuer.der, issuer.subject.der),
    signatureValid: verifyCrlSignature(crl, issuer),
    status: crlStatus(crl, time),
  };
}

/** The first failed check as an error (exit 1), or undefined. */
function failure(check: IssuerCheck, crl: Crl, time: Date): SignetError | undefined {
  if (!check.issuerNameMatches) {
    return new SignetError('ERR_VERIFY_NO_ISSUER', `the CRL was issued by "${escapeControl(crl.issuer.text)}", not by --issuer "${escapeControl(check.issuer)}"`, { hint: 'pass the certificate of the CA that signed this CRL' });
  }
  if (!check.signatureValid) return new SignetError('ERR_VERIFY_SIGNATURE', `the CRL's signature does not verify with the key of "${escapeControl(check.issuer)}"`);
  if (check.status !== 'current') {
    return new SignetError('ERR_VERIFY_CRL_EXPIRED', `the CRL is ${check.status === 'stale' ? 'stale' : 'not valid yet'} at ${formatTime(time)} (thisUpdate ${formatTime(crl.thisUpdate)}, nextUpdate ${crl.nextUpdate ? formatTime(crl.nextUpdate) : 'none'})`);
  }
  return undefined;
}

function lookUp(crl: Crl, serials: readonly string[]): SerialLookup[] {
  const wanted = new Set(serials);
  const found = new Map(crl.revoked.filter((e) => wanted.has(e.serialHex)).map((e) => [e.serialHex, e]));
  return serials.map((serial) => {
    const e = found.get(serial);
    if (e === undefined) return { serial, listed: false };
    return {
      serial,
      listed: true,
      revocationDate: formatTime(e.revocationDate),
      ...(e.reason !== undefined && { reason: e.reason }),
      ...(e.invalidityDate !== undefined && { invalidityDate: formatTime(e.invalidityDate) }),
    };
  });
}

function checkLines(check: IssuerCheck | undefined, lookups: readonly SerialLookup[]): string[] {
  const lines: string[] = [];
  if (check !== undefined) {
    const name = escapeControl(check.issuer) || '(empty subject)';
    lines.push(`    Checked against: ${name}`);
    lines.push(`        Issuer name: ${check.issuerNameMatches ? 'matches' : 'DOES NOT MATCH'}`);
    lines.push(`        Signature:   ${check.signatureValid ? 'valid' : 'INVALID'}`);
    lines.push(`        Currency:    ${check.status}`);
  }
  for (const l of lookups) {
    lines.push(
      l.listed
        ? `    Serial ${l.serial}: REVOKED ${l.revocationDate ?? ''}${l.reason !== undefined ? ` (${l.reason})` : ''}${l.invalidityDate !== undefined ? `, invalid since ${l.invalidityDate}` : ''}`
        : `    Serial ${l.serial}: not listed`,
    );
  }
  return lines;
}

/** Registers `signet crl`. */
export function registerCrlCommands(program: Command): void {
  const crl = program.command('crl').description('certificate revocation lists: inspect one from a file or its URL');
  crl
    .command('inspect')
    .description('show a CRL (file, stdin or http/https URL), check it against its issuer, look serials up')
    .argument('<input>', 'CRL file (PEM or DER), - for stdin, or the http:// or https:// URL it is published at')
    .option('--issuer <file>', 'the CA certificate that signed it: check the issuer name, the signature and that it is current at --time (exit 1 if not)')
    .option('--serial <hex>', 'look this serial number up (hex, colons allowed); repeatable', collect)
    .option('--short', 'the header and the number of entries, without listing them')
    .option('--time <time>', 'judge currency at this time (RFC 3339 or relative, e.g. +24h) instead of now')
    .option('--timeout <duration>', 'deadline for fetching a URL', '10s')
    .option('--roots <file>', 'trusted roots for an https URL (default: the system\'s)')
    .option('--json', 'print {source, time, items: [...]} as JSON')
    .addHelpText(
      'after',
      `
A URL is fetched with GET (no redirects, ${MAX_CRL_BYTES / 1024 / 1024} MiB at most); the answer may be DER or PEM.
Plain http is the norm for CRLs: they are signed, so check them with --issuer.

With --issuer the CRL must name that CA as its issuer, carry its valid signature and be current
(thisUpdate <= time < nextUpdate); the report is printed first, then the first failed check exits
1 (ERR_VERIFY_NO_ISSUER, ERR_VERIFY_SIGNATURE or ERR_VERIFY_CRL_EXPIRED). --serial reports
whether each serial is listed, with its revocation date, reason and invalidity date.

Examples:
  $ signet crl inspect ca.crl
  $ signet crl inspect http://ca.internal:8080/crl --issuer intermediate.crt --short
  $ signet crl inspect ca.crl --serial 4a:1f:03 --serial 7b22 --json
  $ curl -s http://ca.internal:8080/crl | signet crl inspect - --short`,
    )
    .action(async (input: string, opts: CrlInspectOptions) => {
      const time = commandTime(opts.time);
      const serials = (opts.serial ?? []).map((s) => parseSerialText(s, '--serial'));
      let issuer: Certificate | undefined;
      if (opts.issuer !== undefined) {
        const file = opts.issuer;
        const certs = withSource(`issuer file ${file}`, () => parseCertificates(readInput(file, 'issuer file')));
        issuer = certs[0];
        if (issuer === undefined || certs.length > 1) throw new SignetError('ERR_BAD_OPTION', `--issuer ${file} must hold exactly one certificate, not ${certs.length}`);
      }
      const { source, crls } = await loadCrls(input, opts);
      const results = crls.map((c) => ({ crl: c, check: issuer === undefined ? undefined : checkIssuer(c, issuer, time), lookups: lookUp(c, serials) }));
      if (opts.json) {
        printJson({
          source,
          time: formatTime(time),
          items: results.map((r) => ({
            // --short: the entries are neither described nor printed (a CRL can hold a million).
            ...(opts.short ? { ...describeCrl({ ...r.crl, revoked: [] }, { now: time }), revoked: undefined } : describeCrl(r.crl, { now: time })),
            revokedCount: r.crl.revoked.length,
            ...(r.check !== undefined && { check: r.check }),
            ...(serials.length > 0 && { lookups: r.lookups }),
          })),
        });
      } else {
        const out: string[] = [];
        results.forEach((r, i) => {
          const text = renderText([{ kind: 'crl', crl: r.crl }], { now: time, short: opts.short === true }).trimEnd();
          out.push(results.length > 1 ? text.replace(/^Certificate Revocation List:/, `Certificate Revocation List ${i + 1} of ${results.length}:`) : text);
          out.push(...checkLines(r.check, r.lookups));
        });
        process.stdout.write(out.join('\n') + '\n');
      }
      for (const r of results) {
        const failed = r.check === undefined ? undefined : failure(r.check, r.crl, time);
        if (failed !== undefined) throw failed;
      }
    });
}
