/**
 * `signet certificate verify` end to end: exit codes (0 valid, 1 invalid, 2 usage, 3 input,
 * 5 file), the one-line `error: … (ERR_VERIFY_…)` on stderr, --json on both outcomes, bundles as
 * LEAF, repeatable --roots/--intermediates, --host/--ip/--purpose/--time/--max-depth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { NOW, intermediate, issue, newParty, root } from '../x509-verify/kit.js';

const tmp = tempDir('signet-cli-verify-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

const k = { root: newParty(), int: newParty(), leaf: newParty(), other: newParty() };
const R = root('CLI Root', k.root);
const I = intermediate('CLI Int', k.int, R);
const L = issue({ subject: 'CN=www.example.com', party: k.leaf, issuer: I, san: ['dns:www.example.com', 'ip:10.0.0.1'], eku: ['serverAuth'] });
const OtherRoot = root('Other Root', k.other);

writeFileSync(p('root.pem'), R.pem);
writeFileSync(p('other-root.pem'), OtherRoot.pem);
writeFileSync(p('int.pem'), I.pem);
writeFileSync(p('leaf.pem'), L.pem);
writeFileSync(p('fullchain.pem'), L.pem + I.pem);
writeFileSync(p('garbage.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
const T = NOW.toISOString();
const base = [p('leaf.pem'), '--roots', p('root.pem'), '--intermediates', p('int.pem'), '--time', T];

function errorCode(stderr: string): string | undefined {
  return /\((ERR_[A-Z_]+)\)\s*$/m.exec(stderr)?.[1];
}

test('valid chain: exit 0 and the chain, leaf first', () => {
  const r = signet(['certificate', 'verify', ...base]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: chain of 3 certificates valid at 2026-06-01T00:00:00Z/);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[1] ?? '', /0 {2}CN=www\.example\.com/);
  assert.match(lines[2] ?? '', /1 {2}CN=CLI Int/);
  assert.match(lines[3] ?? '', /2 {2}CN=CLI Root .*trusted root/);
  assert.equal(r.stderr, '');
});

test('a fullchain bundle as LEAF: the rest are untrusted intermediates', () => {
  const r = signet(['cert', 'verify', p('fullchain.pem'), '--roots', p('root.pem'), '--time', T, '--host', 'www.example.com', '--purpose', 'server']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /chain of 3 certificates .*\(host www\.example\.com, purpose server\)/);
});

test('repeatable --roots: the right root in the second file', () => {
  const r = signet(['certificate', 'verify', p('fullchain.pem'), '--roots', p('other-root.pem'), '--roots', p('root.pem'), '--time', T]);
  assert.equal(r.status, 0, r.stderr);
});

test('--json on success: {valid, chain:[{subject, issuer, serial, notAfter, fingerprint}]}', () => {
  const r = signet(['certificate', 'verify', ...base, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { valid: boolean; chain: Array<Record<string, unknown>> };
  assert.equal(out.valid, true);
  assert.equal(out.chain.length, 3);
  assert.deepEqual(
    out.chain.map((c) => c.subject),
    ['CN=www.example.com', 'CN=CLI Int', 'CN=CLI Root'],
  );
  const first = out.chain[0] ?? {};
  assert.equal(first.issuer, 'CN=CLI Int');
  assert.equal(first.serial, L.cert.serialHex);
  assert.equal(first.fingerprint, L.cert.fingerprintSha256);
  assert.equal(first.notAfter, L.cert.notAfter.toISOString().replace('.000Z', 'Z'));
});

interface FailCase {
  readonly name: string;
  readonly args: readonly string[];
  readonly status: number;
  readonly code: string;
}

const FAILS: FailCase[] = [
  { name: 'expired at --time', args: [...base.slice(0, -1), '2027-06-01T00:00:00Z'], status: 1, code: 'ERR_VERIFY_EXPIRED' },
  { name: 'not yet valid at --time', args: [...base.slice(0, -1), '2025-06-01T00:00:00Z'], status: 1, code: 'ERR_VERIFY_NOT_YET_VALID' },
  { name: 'missing intermediate', args: [p('leaf.pem'), '--roots', p('root.pem'), '--time', T], status: 1, code: 'ERR_VERIFY_NO_ISSUER' },
  { name: 'wrong root', args: [p('fullchain.pem'), '--roots', p('other-root.pem'), '--time', T], status: 1, code: 'ERR_VERIFY_NO_ISSUER' },
  { name: 'wrong host', args: [...base, '--host', 'mail.example.com'], status: 1, code: 'ERR_VERIFY_HOSTNAME' },
  { name: 'wrong ip', args: [...base, '--ip', '10.0.0.2'], status: 1, code: 'ERR_VERIFY_IP' },
  { name: 'purpose client on a serverAuth leaf', args: [...base, '--purpose', 'client'], status: 1, code: 'ERR_VERIFY_EKU' },
  { name: 'max depth 0 with one intermediate', args: [...base, '--max-depth', '0'], status: 1, code: 'ERR_VERIFY_DEPTH' },
  { name: 'no --roots', args: [p('leaf.pem'), '--time', T], status: 2, code: 'ERR_BAD_OPTION' },
  { name: 'unknown purpose', args: [...base, '--purpose', 'email'], status: 2, code: 'ERR_BAD_OPTION' },
  { name: '--host with --ip', args: [...base, '--host', 'www.example.com', '--ip', '10.0.0.1'], status: 2, code: 'ERR_BAD_OPTION' },
  { name: 'bad --max-depth', args: [...base, '--max-depth', 'ten'], status: 2, code: 'ERR_BAD_OPTION' },
  { name: 'bad --time', args: [...base.slice(0, -1), 'yesterday'], status: 2, code: 'ERR_BAD_TIME' },
  { name: 'bad --host', args: [...base, '--host', 'not a host'], status: 2, code: 'ERR_BAD_OPTION' },
  { name: 'bad --ip', args: [...base, '--ip', '10.0.0.300'], status: 2, code: 'ERR_BAD_OPTION' },
  { name: 'garbage leaf', args: [p('garbage.pem'), '--roots', p('root.pem')], status: 3, code: 'ERR_CERT_MALFORMED' },
  { name: 'missing roots file', args: [p('leaf.pem'), '--roots', p('nope.pem')], status: 5, code: 'ERR_FILE_NOT_FOUND' },
];

for (const c of FAILS) {
  test(`failure: ${c.name} → exit ${c.status} ${c.code}`, () => {
    const r = signet(['certificate', 'verify', ...c.args]);
    assert.equal(r.status, c.status, r.stderr);
    assert.equal(errorCode(r.stderr), c.code, r.stderr);
    assert.match(r.stderr, /^error: \S[^\n]*\n(hint: [^\n]*\n)?$/, 'one error line and at most one hint');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    if (c.status === 1) assert.equal(r.stdout, '');
  });
}

test('ok with the wrong host passes with the right one and the ip', () => {
  assert.equal(signet(['certificate', 'verify', ...base, '--host', 'WWW.example.com.']).status, 0);
  assert.equal(signet(['certificate', 'verify', ...base, '--ip', '10.0.0.1']).status, 0);
});

test('--json on failure: {valid: false, error} on stdout, exit 1', () => {
  const r = signet(['certificate', 'verify', ...base.slice(0, -1), '2027-06-01T00:00:00Z', '--json']);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout) as { valid: boolean; error: { code: string; detail: { depth: number; subject: string } } };
  assert.equal(out.valid, false);
  assert.equal(out.error.code, 'ERR_VERIFY_EXPIRED');
  // Everything has expired by then; validation runs from the anchor down, so the root is named.
  assert.equal(out.error.detail.depth, 2);
  assert.equal(out.error.detail.subject, 'CN=CLI Root');
});

test('without --time the current time is used', () => {
  const now = Date.now();
  const fresh = issue({ subject: 'CN=now.example.com', party: k.leaf, issuer: I, notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) });
  const stale = issue({ subject: 'CN=old.example.com', party: k.leaf, issuer: I, notBefore: new Date(now - 2 * 86_400_000), notAfter: new Date(now - 86_400_000) });
  // The CA certificates must be valid now too.
  const r2 = root('Now Root', k.root, { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) });
  const i2 = intermediate('CLI Int', k.int, r2, { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) });
  writeFileSync(p('now-root.pem'), r2.pem);
  writeFileSync(p('now-chain.pem'), fresh.pem + i2.pem);
  writeFileSync(p('stale-chain.pem'), stale.pem + i2.pem);
  // fresh/stale were issued under I (same name and key as i2), so i2 verifies them.
  assert.equal(signet(['certificate', 'verify', p('now-chain.pem'), '--roots', p('now-root.pem')]).status, 0);
  const r = signet(['certificate', 'verify', p('stale-chain.pem'), '--roots', p('now-root.pem')]);
  assert.equal(r.status, 1);
  assert.equal(errorCode(r.stderr), 'ERR_VERIFY_EXPIRED');
});

test('--help documents flags, exit codes and examples', () => {
  const r = signet(['certificate', 'verify', '--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--roots', '--intermediates', '--host', '--ip', '--time', '--purpose', '--max-depth', '--json', 'Examples:', 'Exit codes']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('a parse error names the file it is about: --roots, --intermediates and the leaf', () => {
  writeFileSync(p('a.key'), '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n');
  const roots = signet(['certificate', 'verify', p('leaf.pem'), '--roots', p('root.pem'), '--roots', p('a.key'), '--time', T]);
  assert.equal(roots.status, 3, roots.stderr);
  assert.match(roots.stderr, new RegExp(`^error: roots file ${p('a.key')}: [^\\n]*\\(ERR_PEM_UNEXPECTED_TYPE\\)\\n`));
  const ints = signet(['certificate', 'verify', p('leaf.pem'), '--roots', p('root.pem'), '--intermediates', p('garbage.pem'), '--time', T]);
  assert.equal(ints.status, 3, ints.stderr);
  assert.match(ints.stderr, new RegExp(`^error: intermediates file ${p('garbage.pem')}: `));
  const leaf = signet(['certificate', 'verify', p('garbage.pem'), '--roots', p('root.pem')]);
  assert.match(leaf.stderr, new RegExp(`^error: certificate ${p('garbage.pem')}: `));
});

test('only one input can come from stdin: LEAF - with --roots - is ERR_USAGE', () => {
  const r = signet(['certificate', 'verify', '-', '--roots', '-', '--time', T], { input: L.pem + R.pem });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(errorCode(r.stderr), 'ERR_USAGE');
  // one of them from stdin is fine
  assert.equal(signet(['certificate', 'verify', '-', '--roots', p('root.pem'), '--intermediates', p('int.pem'), '--time', T], { input: L.pem }).status, 0);
});

test('a subject with ESC and a newline cannot break the one-line error or drive the terminal', () => {
  const evilParty = newParty();
  const evil = root('placeholder', evilParty, { subject: [[{ type: 'CN', value: 'evil\u001b[31m\nred' }]] });
  writeFileSync(p('evil.pem'), evil.pem);
  for (const args of [
    [p('evil.pem'), '--roots', p('root.pem'), '--time', T],
    [p('evil.pem'), '--roots', p('evil.pem'), '--time', T, '--host', 'other.example'],
  ]) {
    const r = signet(['certificate', 'verify', ...args]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: [^\n]*evil[^\n]*\(ERR_VERIFY_[A-Z_]+\)\n(hint: [^\n]*\n)?$/, r.stderr);
    assert.ok(!r.stderr.includes('\u001b'), 'no raw ESC');
  }
});

test('the ok lines print subjects inert: a bidi override is escaped in text, exact in --json', () => {
  const party = newParty();
  const bidi = root('placeholder', party, { subject: [[{ type: 'CN', value: 'evil\u202eroot' }]] });
  writeFileSync(p('bidi.pem'), bidi.pem);
  const r = signet(['certificate', 'verify', p('bidi.pem'), '--roots', p('bidi.pem'), '--time', T]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}0 {2}CN=evil\\u\{202e\}root {2}until /m);
  assert.ok(!r.stdout.includes('\u202e'), 'no raw bidi override');
  const j = signet(['certificate', 'verify', p('bidi.pem'), '--roots', p('bidi.pem'), '--time', T, '--json']);
  assert.equal(j.status, 0, j.stderr);
  assert.ok(!j.stdout.includes('\u202e'), 'the JSON text escapes it too');
  assert.equal((JSON.parse(j.stdout) as { chain: { subject: string }[] }).chain[0]?.subject, 'CN=evil\u202eroot');
});

test('--ip takes an IPv6 literal with or without brackets and prints it without', () => {
  const v6 = issue({ subject: 'CN=v6.example.com', party: newParty(), issuer: I, san: ['dns:v6.example.com', 'ip:2001:db8::7'] });
  writeFileSync(p('v6.pem'), v6.pem);
  const args = [p('v6.pem'), '--roots', p('root.pem'), '--intermediates', p('int.pem'), '--time', T];
  for (const ip of ['2001:db8::7', '[2001:db8::7]']) {
    const r = signet(['certificate', 'verify', ...args, '--ip', ip]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: chain of 3 certificates valid at \S+ \(IP 2001:db8::7\)$/m);
  }
  const wrong = signet(['certificate', 'verify', ...args, '--ip', '[2001:db8::8]']);
  assert.equal(wrong.status, 1, wrong.stderr);
  assert.equal(errorCode(wrong.stderr), 'ERR_VERIFY_IP');
  assert.match(wrong.stderr, /IP address 2001:db8::8 /);
  assert.ok(!wrong.stderr.includes('['), wrong.stderr);
  const bad = signet(['certificate', 'verify', ...args, '--ip', '[2001:db8::7']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.equal(errorCode(bad.stderr), 'ERR_BAD_OPTION');
});
