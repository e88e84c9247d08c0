/**
 * `signet certificate lint` end to end: exit codes (0 clean or warnings only, 1 ERR_LINT_FAILED,
 * 2 bad flags, 3 not a certificate), one line per finding, --json, --min-severity, --profile,
 * bundles and DER, and --help with examples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { encodePem } from '../../src/core/pem.js';
import { signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { issued, leafSpec, rootSpec, selfSigned } from '../x509-lint/builders.js';

const tmp = tempDir('signet-cli-lint-');
process.on('exit', tmp.cleanup);

const pem = (der: Uint8Array): string => encodePem('CERTIFICATE', der);
const root = selfSigned(rootSpec());
const clean = issued(leafSpec());
const bad = issued(leafSpec({ authorityKeyIdentifier: false, keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }));
const warnOnly = issued(leafSpec({ subjectKeyIdentifier: false }));

writeFileSync(tmp.path('root.pem'), pem(root.der));
writeFileSync(tmp.path('clean.pem'), pem(clean.der));
writeFileSync(tmp.path('clean.der'), clean.der);
writeFileSync(tmp.path('bad.pem'), pem(bad.der));
writeFileSync(tmp.path('warn.pem'), pem(warnOnly.der));
writeFileSync(tmp.path('bundle.pem'), pem(clean.der) + pem(bad.der) + pem(root.der));
writeFileSync(tmp.path('garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');

interface JsonOut {
  certificates: Array<{ index: number; subject: string; profile: string; errors: number; warnings: number; findings: Array<{ rule: string; severity: string; source: string; message: string }> }>;
  errors: number;
  warnings: number;
  notices: number;
}

test('a clean certificate exits 0 and says so', () => {
  for (const file of ['clean.pem', 'clean.der', 'root.pem']) {
    const r = signet(['certificate', 'lint', tmp.path(file)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^no findings \(profile (leaf|root-ca), \d+ rules applied\)\n$/);
    assert.equal(r.stderr, '');
  }
});

test('an error finding exits 1 with ERR_LINT_FAILED and one line per finding', () => {
  const r = signet(['cert', 'lint', tmp.path('bad.pem')]);
  assert.equal(r.status, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3, r.stdout);
  assert.ok(lines.some((l) => /^error {4}e_key_usage_incompatible_with_key +RFC 3279 §2\.3\.1, RFC 4055 §1\.2, RFC 5480 §3, RFC 8410 §5: keyEncipherment cannot be used with an EC key/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^error {4}e_aki_missing +RFC 5280 §4\.2\.1\.1: authorityKeyIdentifier is missing$/.test(l)), r.stdout);
  assert.match(lines[lines.length - 1] ?? '', /^2 errors, 0 warnings, 0 notices \(profile leaf\)$/);
  assert.match(r.stderr, /ERR_LINT_FAILED/);
  assert.match(r.stderr, /e_aki_missing/);
});

test('warnings alone exit 0; --min-severity hides what is below it', () => {
  const r = signet(['certificate', 'lint', tmp.path('warn.pem')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^warning {2}w_leaf_ski_missing {2}RFC 5280 §4\.2\.1\.2: subjectKeyIdentifier is missing$/m);
  const hidden = signet(['certificate', 'lint', tmp.path('warn.pem'), '--min-severity', 'error']);
  assert.equal(hidden.status, 0);
  assert.doesNotMatch(hidden.stdout, /w_leaf_ski_missing/);
  assert.match(hidden.stdout, /0 errors, 1 warning, 0 notices/);
});

test('--json prints every report; the exit code still follows the errors', () => {
  const r = signet(['certificate', 'lint', tmp.path('bundle.pem'), '--json']);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout) as JsonOut;
  assert.equal(out.certificates.length, 3);
  assert.deepEqual(
    out.certificates.map((c) => [c.profile, c.errors]),
    [
      ['leaf', 0],
      ['leaf', 2],
      ['root-ca', 0],
    ],
  );
  assert.equal(out.errors, 2);
  const f = out.certificates[1]?.findings.find((x) => x.rule === 'e_aki_missing');
  assert.deepEqual(f, { rule: 'e_aki_missing', severity: 'error', source: 'RFC 5280 §4.2.1.1', message: 'authorityKeyIdentifier is missing' });
  const err = JSON.parse(r.stderr) as { error: { code: string; detail: { certificates: number[] } } };
  assert.equal(err.error.code, 'ERR_LINT_FAILED');
  assert.deepEqual(err.error.detail.certificates, [2]);

  const ok = signet(['certificate', 'lint', tmp.path('clean.pem'), '--json']);
  assert.equal(ok.status, 0);
  assert.equal((JSON.parse(ok.stdout) as JsonOut).certificates[0]?.findings.length, 0);
});

test('a bundle lists each certificate and a total', () => {
  const r = signet(['certificate', 'lint', tmp.path('bundle.pem')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^\[1\/3\] CN=www\.example\.com \(profile leaf\)$/m);
  assert.match(r.stdout, /^\[3\/3\] O=Signet Lint Tests, CN=Lint Root \(profile root-ca\)$/m);
  assert.match(r.stdout, /^total: 2 errors, 0 warnings, 0 notices in 3 certificates$/m);
  assert.match(r.stderr, /1 of 3 certificates fail lint \(#2\)/);
});

test('--profile checks the certificate against the named role; stdin works', () => {
  const r = signet(['certificate', 'lint', '-', '--profile', 'root-ca'], { input: pem(clean.der) });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /e_profile_mismatch/);
  assert.equal(signet(['certificate', 'lint', tmp.path('root.pem'), '--profile', 'root-ca']).status, 0);
});

test('bad flags exit 2, bad input exits 3, a missing file exits 5', () => {
  const p = signet(['certificate', 'lint', tmp.path('clean.pem'), '--profile', 'server']);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /ERR_BAD_OPTION/);
  const s = signet(['certificate', 'lint', tmp.path('clean.pem'), '--min-severity', 'fatal']);
  assert.equal(s.status, 2);
  const g = signet(['certificate', 'lint', tmp.path('garbage.pem')]);
  assert.equal(g.status, 3);
  assert.match(g.stderr, /ERR_PEM_MALFORMED|ERR_CERT_MALFORMED/);
  assert.equal(g.stdout, '');
  const m = signet(['certificate', 'lint', tmp.path('missing.pem')]);
  assert.equal(m.status, 5);
  assert.match(m.stderr, /ERR_FILE_NOT_FOUND/);
});

test('findings and subjects from the certificate reach the terminal escaped; --json keeps them as data', () => {
  // A dNSName with ESC (the builder writes it as given) and a subject with a right-to-left override.
  const evil = issued(leafSpec({ subjectAltName: { names: [{ type: 'dns', value: 'ev\u001b[31mil.com' }] } }, { subject: [[{ type: 'CN', value: 'evil\u202eroot' }]] }));
  writeFileSync(tmp.path('evil.pem'), pem(evil.der) + pem(clean.der));
  const r = signet(['certificate', 'lint', tmp.path('evil.pem')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^error {4}e_san_dns_name_invalid +[^\n]*DNS name "ev\\x1b\[31mil\.com"/m);
  assert.match(r.stdout, /^\[1\/2\] CN=evil\\u\{202e\}root \(profile leaf\)$/m);
  assert.ok(!r.stdout.includes('\u001b') && !r.stdout.includes('\u202e'), 'no raw ESC or bidi override on stdout');
  assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('\u202e'), 'nor on stderr');

  const j = signet(['certificate', 'lint', tmp.path('evil.pem'), '--json']);
  assert.equal(j.status, 1, j.stderr);
  assert.ok(!j.stdout.includes('\u001b') && !j.stdout.includes('\u202e'), 'JSON text escapes them too');
  const out = JSON.parse(j.stdout) as JsonOut;
  const first = out.certificates[0];
  assert.equal(first?.subject, 'CN=evil\u202eroot', 'the parsed JSON has the exact data');
  assert.ok(first?.findings.some((f) => f.rule === 'e_san_dns_name_invalid' && f.message.includes('"ev\u001b[31mil.com"')), j.stdout);
});

test('--help explains the output and shows examples', () => {
  const r = signet(['certificate', 'lint', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /signet certificate lint leaf\.crt/);
  assert.match(r.stdout, /--min-severity/);
  assert.match(r.stdout, /Exit codes/);
});
