/**
 * `signet certificate verify LEAF --roots FILE …` — RFC 5280 §6 path validation with chain
 * building and the RFC 6125 host/IP check, over the library's verifyChain. Exit 0 when valid,
 * 1 with the ERR_VERIFY_* code of the precise reason otherwise.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseTime } from '../../core/duration.js';
import { parseCertificates, type Certificate } from '../../x509/certificate.js';
import { verifyChain, DEFAULT_MAX_DEPTH, type VerifyPurpose } from '../../x509/verify/index.js';
import { parseCrls, type Crl } from '../../x509/crl.js';
import { checkCrls, type CrlCheck } from '../../x509/verify/revocation.js';
import { checkOcspResponse, ocspQuery, type OcspGood } from '../../x509/verify/ocsp.js';
import { fetchableUrl, fetchBytes } from '../../client/fetch.js';
import { collect, checkInputs, MAX_CRL_BYTES, printJson, readInput, withSource } from '../io.js';

interface VerifyCliOptions {
  roots?: string[];
  intermediates?: string[];
  host?: string;
  ip?: string;
  time?: string;
  purpose: string;
  maxDepth?: string;
  crl?: string[];
  ocsp?: boolean;
  ocspUrl?: string;
  json?: boolean;
}

const PURPOSES: readonly VerifyPurpose[] = ['server', 'client', 'any'];


/** Reads and parses certificate files; a parse error names the file (`roots file web.key: …`). */
function readCertificates(files: readonly string[], what: string): Certificate[] {
  return files.flatMap((f) => {
    const data = readInput(f, what);
    return withSource(`${what} ${f === '-' ? '(stdin)' : f}`, () => parseCertificates(data));
  });
}

/**
 * `--ip [2001:db8::1]` (the bracketed form URLs use, RFC 3986 §3.2.2) → `2001:db8::1`, so that
 * the ok line and error messages show the address itself. Anything else is returned unchanged
 * for the library to accept or refuse.
 */
function unbracketIp(ip: string): string {
  const inner = /^\[(.*)\]$/.exec(ip)?.[1];
  return inner !== undefined && isIP(inner) !== 0 ? inner : ip;
}

function chainEntry(cert: Certificate, depth: number, trusted: boolean): Record<string, unknown> {
  return {
    depth,
    subject: cert.subject.text,
    issuer: cert.issuer.text,
    serial: cert.serialHex,
    notBefore: formatTime(cert.notBefore),
    notAfter: formatTime(cert.notAfter),
    fingerprint: cert.fingerprintSha256,
    ...(trusted ? { trustedRoot: true } : {}),
  };
}

/** A good OCSP answer about one certificate of the path, and where it came from. */
interface OcspCheck extends OcspGood {
  readonly url: string;
}

/** Deadline and size limit of one OCSP exchange. */
const OCSP_TIMEOUT_MS = 10_000;
const OCSP_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Asks the OCSP responder of each certificate of `chain` but the root (the leaf's may be given);
 * undefined for a CA certificate that names none. Throws the first failure.
 */
async function checkOcsp(chain: readonly Certificate[], leafUrl: URL | undefined): Promise<(OcspCheck | undefined)[]> {
  const out: (OcspCheck | undefined)[] = [];
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as Certificate;
    const issuer = chain[i + 1] as Certificate;
    const named = cert.ext.authorityInfoAccess?.ocsp.find((u) => /^https?:\/\//i.test(u));
    const url = i === 0 && leafUrl !== undefined ? leafUrl : named === undefined ? undefined : fetchableUrl(named);
    if (url === undefined) {
      if (i > 0) {
        out.push(undefined);
        continue;
      }
      throw new SignetError('ERR_VERIFY_OCSP_UNAVAILABLE', `the leaf ("${escapeControl(cert.subject.text)}") names no OCSP responder`, { hint: 'pass the responder with --ocsp-url URL, or check revocation with --crl FILE' });
    }
    const query = ocspQuery(cert, issuer);
    let body: Uint8Array;
    try {
      body = (await fetchBytes(url, { method: 'POST', body: query.der, contentType: 'application/ocsp-request', accept: 'application/ocsp-response', timeoutMs: OCSP_TIMEOUT_MS, maxBytes: OCSP_MAX_RESPONSE_BYTES })).body;
    } catch (e) {
      if (e instanceof SignetError && (e.code === 'ERR_FETCH_FAILED' || e.code === 'ERR_INPUT_TOO_LARGE')) {
        throw new SignetError('ERR_VERIFY_OCSP_UNAVAILABLE', `no OCSP answer about "${escapeControl(cert.subject.text)}": ${e.message}`, { detail: { url: url.href, ...e.detail }, cause: e });
      }
      throw e;
    }
    out.push({ url: url.href, ...checkOcspResponse(body, query, cert, issuer, systemClock.now()) });
  }
  return out;
}

function ocspJson(o: OcspCheck): Record<string, unknown> {
  return {
    status: 'good',
    url: o.url,
    producedAt: formatTime(o.producedAt),
    thisUpdate: formatTime(o.thisUpdate),
    ...(o.nextUpdate !== undefined && { nextUpdate: formatTime(o.nextUpdate) }),
    responder: o.responder,
    nonceEchoed: o.nonceEchoed,
  };
}

/** Registers `signet certificate verify`. */
export function registerCertificateVerify(group: Command): void {
  group
    .command('verify')
    .description('validate a certificate chain to trusted roots (RFC 5280 path validation, RFC 6125 host/IP check)')
    .argument('<leaf>', 'certificate to verify: PEM or DER; in a PEM bundle (fullchain.pem) the first certificate is the leaf and the rest are untrusted intermediates; - for stdin')
    .option('--roots <file>', 'trusted root certificates (PEM bundle or DER); repeat for several files', collect)
    .option('--intermediates <file>', 'untrusted intermediate certificates for chain building; repeatable', collect)
    .option('--host <name>', 'check that the leaf is valid for this DNS name (dNSName SANs, wildcards per RFC 6125)')
    .option('--ip <address>', 'check that the leaf is valid for this IP address (iPAddress SANs); IPv6 with or without [brackets]')
    .option('--time <time>', 'verify at this time instead of now: RFC 3339 (2026-01-02T03:04:05Z) or relative (+30d, -1h)')
    .option('--purpose <purpose>', 'required extended key usage: server, client or any', 'any')
    .option('--max-depth <n>', `most intermediate certificates between leaf and root (default ${DEFAULT_MAX_DEPTH})`)
    .option('--crl <file>', 'check revocation with these CRLs (PEM or DER; repeatable): the leaf must be covered by a current CRL of its issuer, CAs are checked when their issuer\'s CRL is given', collect)
    .option('--ocsp', 'check revocation with OCSP: ask the responder each certificate names (AIA); the leaf must get a good answer')
    .option('--ocsp-url <url>', 'ask this OCSP responder about the leaf instead of the one it names (implies --ocsp)')
    .option('--json', 'print {valid, chain} (or {valid: false, error}) as JSON')
    .addHelpText(
      'after',
      `
Signet builds every possible path from the leaf through the given intermediates to a root (trying
all issuers with a matching name, preferring AKI/SKI matches, backtracking past expired or
wrong-key candidates) and validates it per RFC 5280 §6: signatures, validity at --time, basic
constraints and path length, CA key usage, extended key usage for --purpose (also on CAs that
restrict it), name constraints, certificate policies, unknown critical and duplicate extensions.
Roots are trust anchors: their signatures are not checked, but their validity and constraints are.
--host matches dNSName SANs only (never the common name); a wildcard is only a whole leftmost label.

With --crl, the certificates of the validated path are then looked up in the CRLs their issuers
signed (signature, issuer name, scope and thisUpdate/nextUpdate at --time checked): a listed
serial is ERR_VERIFY_REVOKED; a leaf without a current CRL of its issuer is ERR_VERIFY_CRL_MISSING
(ERR_VERIFY_CRL_EXPIRED when only stale ones were given).

With --ocsp, each certificate of the path that names an OCSP responder (and the leaf always) is
asked about over HTTP POST (SHA-1 CertID, a fresh nonce; 10 s deadline). The answer must be
signed by the issuer or by a responder certificate it issued for OCSP signing, answer for that
certificate, and be current now (5 minutes of clock skew; a nonce, when echoed, must match).
revoked is ERR_VERIFY_REVOKED, unknown ERR_VERIFY_OCSP_UNKNOWN, a bad answer
ERR_VERIFY_OCSP_INVALID, no answer (no URL, connection, tryLater) ERR_VERIFY_OCSP_UNAVAILABLE.
OCSP is judged at the current time, whatever --time says.

Exit codes: 0 valid; 1 invalid (the reason code is printed: ERR_VERIFY_EXPIRED,
ERR_VERIFY_NO_ISSUER, ERR_VERIFY_HOSTNAME, ERR_VERIFY_REVOKED, ...); 2 bad flags; 3 unreadable
certificate or CRL; 5 file error; 6 OCSP responder unreachable.

Examples:
  $ signet certificate verify leaf.crt --roots root.crt --intermediates intermediate.crt
  $ signet certificate verify fullchain.pem --roots root.crt --host www.example.com --purpose server
  $ signet certificate verify client.crt --roots ca.crt --purpose client --time 2026-01-02T03:04:05Z
  $ signet certificate verify svc.crt --roots ca.crt --ip 10.0.0.7 --json
  $ signet certificate verify leaf.crt --roots root.crt --intermediates intermediate.crt --crl ca.crl
  $ signet certificate verify fullchain.pem --roots root.crt --ocsp`,
    )
    .action(async (file: string, opts: VerifyCliOptions) => {
      const rootFiles = opts.roots ?? [];
      if (rootFiles.length === 0) {
        throw new SignetError('ERR_BAD_OPTION', 'no trusted roots given', { hint: 'pass --roots FILE (repeatable)' });
      }
      if (!PURPOSES.includes(opts.purpose as VerifyPurpose)) {
        throw new SignetError('ERR_BAD_OPTION', `unknown purpose "${opts.purpose}"`, { hint: 'use server, client or any' });
      }
      if (opts.host !== undefined && opts.ip !== undefined) {
        throw new SignetError('ERR_BAD_OPTION', '--host and --ip cannot be combined', { hint: 'verify one reference identity at a time' });
      }
      const ip = opts.ip === undefined ? undefined : unbracketIp(opts.ip);
      // A bad --ocsp-url is a flag error, found before any work.
      const ocspUrl = opts.ocspUrl === undefined ? undefined : fetchableUrl(opts.ocspUrl);
      let maxDepth: number | undefined;
      if (opts.maxDepth !== undefined) {
        if (!/^\d{1,3}$/.test(opts.maxDepth)) throw new SignetError('ERR_BAD_OPTION', `--max-depth must be a number from 0 to 999, not "${opts.maxDepth}"`);
        maxDepth = Number(opts.maxDepth);
      }
      const now = systemClock.now();
      const time = opts.time === undefined ? now : parseTime(opts.time, now);
      // Only one of the inputs can be read from stdin.
      checkInputs(
        [
          { path: file, role: 'LEAF' },
          ...rootFiles.map((path) => ({ path, role: '--roots' })),
          ...(opts.intermediates ?? []).map((path) => ({ path, role: '--intermediates' })),
          ...(opts.crl ?? []).map((path) => ({ path, role: '--crl' })),
        ],
      );
      const crls: Crl[] = (opts.crl ?? []).flatMap((f) => {
        const data = readInput(f, 'CRL file', MAX_CRL_BYTES);
        return withSource(`CRL file ${f === '-' ? '(stdin)' : f}`, () => parseCrls(data));
      });

      const [leaf, ...bundled] = readCertificates([file], 'certificate');
      if (!leaf) throw new SignetError('ERR_INPUT_EMPTY', `no certificate in ${file}`);
      const roots = readCertificates(rootFiles, 'roots file');
      const intermediates = [...bundled, ...readCertificates(opts.intermediates ?? [], 'intermediates file')];

      let chain: readonly Certificate[];
      let revocation: CrlCheck[] | undefined;
      let ocsp: (OcspCheck | undefined)[] | undefined;
      try {
        chain = verifyChain(leaf, {
          roots,
          intermediates,
          time,
          purpose: opts.purpose as VerifyPurpose,
          ...(opts.host === undefined ? {} : { host: opts.host }),
          ...(ip === undefined ? {} : { ip }),
          ...(maxDepth === undefined ? {} : { maxDepth }),
        }).chain;
        if (opts.crl !== undefined) revocation = checkCrls(chain, crls, time);
        if (opts.ocsp === true || opts.ocspUrl !== undefined) ocsp = await checkOcsp(chain, ocspUrl);
      } catch (e) {
        if (opts.json && e instanceof SignetError && (e.category === 'invalid' || e.code === 'ERR_VERIFY_OCSP_UNAVAILABLE')) {
          printJson({ valid: false, time: formatTime(time), error: { code: e.code, message: e.message, hint: e.hint, detail: e.detail } });
        }
        throw e;
      }

      const entries = chain.map((c, i) => {
        const r = revocation?.[i];
        const o = ocsp?.[i];
        return {
          ...chainEntry(c, i, i === chain.length - 1),
          ...(r !== undefined && { revocation: r.checked ? { status: 'good', ...(r.crlNumber !== undefined && { crlNumber: r.crlNumber.toString() }) } : { status: 'not checked' } }),
          ...(ocsp !== undefined && i < chain.length - 1 && { ocsp: o === undefined ? { status: 'not checked' } : ocspJson(o) }),
        };
      });
      if (opts.json) {
        printJson({ valid: true, time: formatTime(time), chain: entries });
        return;
      }
      // Subjects come from the certificates (and --host from the user): printed inert, aligned as shown.
      const crlChecked = revocation?.filter((r) => r.checked).length ?? 0;
      const ocspChecked = ocsp?.filter((o) => o !== undefined).length ?? 0;
      const checked = [
        opts.host && `host ${escapeControl(opts.host)}`,
        ip && `IP ${ip}`,
        opts.purpose !== 'any' && `purpose ${opts.purpose}`,
        revocation !== undefined && `not revoked: ${crlChecked} certificate${crlChecked === 1 ? '' : 's'} checked against CRLs`,
        ocsp !== undefined && `OCSP good: ${ocspChecked} certificate${ocspChecked === 1 ? '' : 's'}`,
      ]
        .filter(Boolean)
        .join(', ');
      const lines = [`ok: chain of ${chain.length} certificate${chain.length === 1 ? '' : 's'} valid at ${formatTime(time)}${checked ? ` (${checked})` : ''}`];
      const subjects = chain.map((c) => escapeControl(c.subject.text) || '(empty subject)');
      const width = Math.max(...subjects.map((s) => s.length));
      chain.forEach((c, i) => {
        const role = i === chain.length - 1 ? '  trusted root' : '';
        lines.push(`  ${i}  ${(subjects[i] ?? '').padEnd(width)}  until ${formatTime(c.notAfter)}${role}`);
      });
      process.stdout.write(lines.join('\n') + '\n');
    });
}
