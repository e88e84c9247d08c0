/**
 * `signet certificate inspect | fingerprint | format | bundle | needs-renewal` end to end, with
 * OpenSSL as the independent peer: certificates, CSRs and CRLs it generated, byte-identical
 * PEM ↔ DER conversion, bundles it verifies, a live `openssl s_server`, and the documented exit
 * codes for bad input.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CLI_PATH, signet, type CliResult } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';
import { buildPki, freePort, opensslDer, startTlsServer } from '../x509-inspect/pki.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);
const pki = buildPki(tmp.dir);
const p = pki.path;

/** Runs the CLI and returns stdout as bytes (for DER output). */
function signetRaw(args: readonly string[], input?: Uint8Array): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { input: input ?? Buffer.alloc(0), timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

function json<T>(r: CliResult): T {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

/** Asserts a failure: exit status, error code on stderr, one line plus an optional hint, no stack. */
function fails(r: CliResult | { status: number; stderr: string }, status: number, code: string): void {
  assert.equal(r.status, status, r.stderr);
  assert.match(r.stderr, new RegExp(`\\(${code}\\)`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(r.stderr.trim().split('\n').length <= 2, r.stderr);
}

function field(out: string, name: string | RegExp): string {
  const line = out.split('\n').find((l) => (typeof name === 'string' ? l.startsWith(name + '=') : name.test(l)));
  assert.ok(line, `openssl printed no ${String(name)}`);
  return line.slice(line.indexOf('=') + 1).trim();
}

function sha256Colon(file: string, kind: 'x509' | 'crl' = 'x509'): string {
  return field(opensslOk([kind, '-in', file, '-noout', '-fingerprint', '-sha256']), /Fingerprint=/);
}

interface Item {
  type: string;
  serialNumber?: { hex: string };
  subject?: { text: string };
  validity?: { status: string };
  fingerprints: { sha256: string };
  revoked?: unknown[];
  signatureValid?: boolean;
}
interface Report {
  source: { type: string; name: string };
  time: string;
  tls?: { protocol: string; alpn: string | null; servername: string | null; verified: boolean };
  items: Item[];
}

// ---------------------------------------------------------------------------------------------
// inspect

test('inspect: a certificate as text and as json', () => {
  const text = signet(['certificate', 'inspect', p('int.crt')]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^Certificate:\n {4}Version: +3 \(0x2\)/);
  assert.match(text.stdout, /Name Constraints \[critical\]:/);
  assert.ok(text.stdout.includes(sha256Colon(p('int.crt'))));
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000).toISOString();
  const r = json<Report>(signet(['cert', 'inspect', p('int.crt'), '--json', '--time', at]));
  assert.deepEqual(r.source, { type: 'file', name: p('int.crt') });
  assert.equal(r.time, at.replace('.000Z', 'Z'));
  assert.equal(r.items.length, 1);
  assert.equal(r.items[0]?.serialNumber?.hex.toUpperCase(), field(opensslOk(['x509', '-in', p('int.crt'), '-noout', '-serial']), 'serial'));
  assert.deepEqual(json<Report>(signet(['cert', 'inspect', p('int.crt'), '--format', 'json', '--time', at])).items, r.items);
});

test('inspect: a pem bundle shows every certificate in order; der and stdin work', () => {
  const bundle = p('bundle-in.pem');
  writeFileSync(bundle, Buffer.concat([pki.read('leaf.crt'), pki.read('int.crt'), pki.read('root.crt')]));
  const r = json<Report>(signet(['cert', 'inspect', bundle, '--json']));
  assert.deepEqual(r.items.map((i) => i.subject?.text), ['CN=leaf.example.com, O=Signet\\, Inc.', 'CN=Test Int, O=Signet', 'CN=Test Root, O=Signet']);
  const short = signet(['cert', 'inspect', bundle, '--short']);
  assert.equal(short.status, 0);
  assert.equal(short.stdout.match(/^Certificate \d of 3:$/gm)?.length, 3);
  const der = p('int.der');
  writeFileSync(der, opensslDer('x509', p('int.crt')));
  assert.equal(json<Report>(signet(['cert', 'inspect', der, '--json'])).items[0]?.fingerprints.sha256, r.items[1]?.fingerprints.sha256);
  const stdin = json<Report>(signet(['cert', 'inspect', '-', '--json'], { input: readFileSync(p('root.crt'), 'utf8') }));
  assert.equal(stdin.source.type, 'stdin');
  assert.equal(stdin.items[0]?.fingerprints.sha256, r.items[2]?.fingerprints.sha256);
});

test('inspect: csr and crl inputs are detected', () => {
  const csr = json<Report>(signet(['cert', 'inspect', p('req.csr'), '--json']));
  assert.equal(csr.items[0]?.type, 'csr');
  assert.equal(csr.items[0]?.signatureValid, true);
  const crl = json<Report>(signet(['cert', 'inspect', p('int.crl'), '--json']));
  assert.equal(crl.items[0]?.type, 'crl');
  assert.equal(crl.items[0]?.revoked?.length, 5);
  const crlText = signet(['cert', 'inspect', p('int.crl')]);
  assert.match(crlText.stdout, /^Certificate Revocation List:/);
  assert.match(crlText.stdout, /Reason: +certificateHold/);
  const derCrl = p('int.crl.der');
  writeFileSync(derCrl, opensslDer('crl', p('int.crl')));
  assert.equal(json<Report>(signet(['cert', 'inspect', derCrl, '--json'])).items[0]?.type, 'crl');
});

test('inspect --time judges validity at that time', () => {
  const r = json<Report>(signet(['cert', 'inspect', p('leaf.crt'), '--json', '--time', '+31d']));
  assert.equal(r.items[0]?.validity?.status, 'expired');
  assert.match(signet(['cert', 'inspect', p('leaf.crt'), '--time', '+31d']).stdout, /\(expired 1d/);
  fails(signet(['cert', 'inspect', p('leaf.crt'), '--time', 'tomorrow']), 2, 'ERR_BAD_TIME');
});

test('inspect: bad input gets catalogue codes and exit codes, no stack trace', () => {
  fails(signet(['cert', 'inspect', p('missing.crt')]), 5, 'ERR_FILE_NOT_FOUND');
  writeFileSync(p('garbage.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n');
  fails(signet(['cert', 'inspect', p('garbage.pem')]), 3, 'ERR_PEM_MALFORMED');
  writeFileSync(p('garbage.der'), Buffer.from([0x30, 0x82, 0x01, 0x00, 0x01, 0x02]));
  fails(signet(['cert', 'inspect', p('garbage.der')]), 3, 'ERR_CERT_MALFORMED');
  const leafDer = opensslDer('x509', p('leaf.crt'));
  writeFileSync(p('truncated.pem'), `-----BEGIN CERTIFICATE-----\n${leafDer.subarray(0, leafDer.length - 30).toString('base64')}\n-----END CERTIFICATE-----\n`);
  fails(signet(['cert', 'inspect', p('truncated.pem')]), 3, 'ERR_CERT_MALFORMED');
  writeFileSync(p('bad.crl'), `-----BEGIN X509 CRL-----\n${Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]).toString('base64')}\n-----END X509 CRL-----\n`);
  fails(signet(['cert', 'inspect', p('bad.crl')]), 3, 'ERR_CRL_MALFORMED');
  const key = signet(['cert', 'inspect', p('leaf.key')]);
  fails(key, 3, 'ERR_PEM_UNEXPECTED_TYPE');
  assert.match(key.stderr, /signet key inspect/);
  writeFileSync(p('empty.pem'), '');
  fails(signet(['cert', 'inspect', p('empty.pem')]), 3, 'ERR_INPUT_EMPTY');
  fails(signet(['cert', 'inspect', p('leaf.crt'), '--servername', 'x.example']), 2, 'ERR_BAD_OPTION');
  assert.equal(signet(['cert', 'inspect', p('leaf.crt'), '--format', 'yaml']).status, 2);
  const jsonErr = signet(['cert', 'inspect', p('missing.crt'), '--json']);
  assert.equal(jsonErr.status, 5);
  assert.equal((JSON.parse(jsonErr.stderr) as { error: { code: string } }).error.code, 'ERR_FILE_NOT_FOUND');
});

// ---------------------------------------------------------------------------------------------
// live TLS

const server = await startTlsServer(['-cert', p('leaf.crt'), '-key', p('leaf.key'), '-cert_chain', p('int.crt'), '-alpn', 'h2']);
after(() => server.stop());

test('inspect host:port shows the presented chain with the tls parameters', () => {
  const target = `127.0.0.1:${server.port}`;
  const r = json<Report>(signet(['cert', 'inspect', target, '--json']));
  assert.deepEqual(r.source, { type: 'tls', name: target });
  assert.equal(r.tls?.protocol, 'TLSv1.3');
  assert.equal(r.tls?.alpn, 'h2');
  assert.equal(r.tls?.servername, null);
  assert.equal(r.tls?.verified, false);
  assert.deepEqual(
    r.items.map((i) => i.fingerprints.sha256),
    [p('leaf.crt'), p('int.crt')].map((f) => sha256Colon(f).replace(/:/g, '').toLowerCase()),
  );
  const text = signet(['cert', 'inspect', target, '--servername', 'leaf.example.com', '--short']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^TLS server 127\.0\.0\.1:\d+\n {4}SNI: +leaf\.example\.com/);
  assert.match(text.stdout, /not verified: inspection only/);
  assert.match(text.stdout, /Certificate 2 of 2:/);
  const fp = signet(['cert', 'fingerprint', target, '--format', 'colon']);
  assert.equal(fp.stdout, `${sha256Colon(p('leaf.crt'))}\n${sha256Colon(p('int.crt'))}\n`);
});

test('inspect of a refused port is ERR_TLS_CONNECT (exit 6)', async () => {
  const port = await freePort();
  fails(signet(['cert', 'inspect', `127.0.0.1:${port}`]), 6, 'ERR_TLS_CONNECT');
  fails(signet(['cert', 'inspect', `127.0.0.1:${port}`, '--timeout', 'soon']), 2, 'ERR_BAD_DURATION');
});

// ---------------------------------------------------------------------------------------------
// fingerprint

test('fingerprint: one line per certificate, the same digests as openssl', () => {
  const bundle = p('bundle-fp.pem');
  writeFileSync(bundle, Buffer.concat([pki.read('leaf.crt'), pki.read('int.crt')]));
  const hex = signet(['cert', 'fingerprint', bundle]);
  assert.equal(hex.status, 0, hex.stderr);
  assert.deepEqual(hex.stdout.trim().split('\n'), [p('leaf.crt'), p('int.crt')].map((f) => sha256Colon(f).replace(/:/g, '').toLowerCase()));
  for (const alg of ['sha1', 'sha384', 'sha512']) {
    const colon = signet(['cert', 'fingerprint', p('root.crt'), '--algorithm', alg, '--format', 'colon']);
    assert.equal(colon.stdout.trim(), field(opensslOk(['x509', '-in', p('root.crt'), '-noout', '-fingerprint', `-${alg}`]), /Fingerprint=/));
  }
  const b64 = signet(['cert', 'fingerprint', p('root.crt'), '--format', 'base64']).stdout.trim();
  assert.equal(Buffer.from(b64, 'base64').toString('hex'), sha256Colon(p('root.crt')).replace(/:/g, '').toLowerCase());
  const crl = signet(['cert', 'fingerprint', p('int.crl'), '--format', 'colon']);
  assert.equal(crl.stdout.trim(), sha256Colon(p('int.crl'), 'crl'));
  const j = json<{ algorithm: string; items: { type: string; name: string; fingerprint: string }[] }>(signet(['cert', 'fingerprint', p('req.csr'), '--json']));
  assert.equal(j.algorithm, 'sha256');
  assert.deepEqual(j.items.map((i) => [i.type, i.name]), [['csr', 'CN=req.example.com, O=Signet']]);
  assert.equal(Buffer.from(j.items[0]?.fingerprint ?? '', 'hex').length, 32);
  assert.equal(signet(['cert', 'fingerprint', p('root.crt'), '--algorithm', 'md5']).status, 2);
  fails(signet(['cert', 'fingerprint', p('missing.crt')]), 5, 'ERR_FILE_NOT_FOUND');
});

// ---------------------------------------------------------------------------------------------
// format

test('format: pem → der and der → pem are byte-identical to openssl', () => {
  for (const [name, kind] of [['leaf.crt', 'x509'], ['req.csr', 'req'], ['int.crl', 'crl']] as const) {
    const der = p(`${name}.fmt.der`);
    const r = signet(['cert', 'format', p(name), '--out', der]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(der), opensslDer(kind, p(name)), `${name} der`);
    const back = p(`${name}.fmt.pem`);
    assert.equal(signet(['cert', 'format', der, '--out', back]).status, 0);
    const opensslPem = opensslOk([kind, '-in', der, '-inform', 'der', '-outform', 'pem']);
    assert.equal(readFileSync(back, 'utf8'), opensslPem, `${name} pem`);
    const stdout = signetRaw(['cert', 'format', p(name), '--format', 'der']);
    assert.equal(stdout.status, 0, stdout.stderr);
    assert.deepEqual(stdout.stdout, opensslDer(kind, p(name)));
  }
});

test('format: a bundle stays pem; der needs one object', () => {
  const bundle = p('bundle-fmt.pem');
  writeFileSync(bundle, Buffer.concat([pki.read('leaf.crt'), pki.read('int.crt')]));
  fails(signet(['cert', 'format', bundle, '--out', p('bundle-fmt.der')]), 2, 'ERR_USAGE');
  assert.equal(existsSync(p('bundle-fmt.der')), false, 'no partial output');
  const pem = signet(['cert', 'format', bundle, '--format', 'pem']);
  assert.equal(pem.status, 0);
  assert.equal(pem.stdout, readFileSync(p('leaf.crt'), 'utf8') + readFileSync(p('int.crt'), 'utf8'));
});

test('format: no overwrite without --force; keys and garbage are refused', () => {
  const out = p('exists.der');
  writeFileSync(out, 'keep me');
  fails(signet(['cert', 'format', p('root.crt'), '--out', out]), 5, 'ERR_FILE_EXISTS');
  assert.equal(readFileSync(out, 'utf8'), 'keep me');
  assert.equal(signet(['cert', 'format', p('root.crt'), '--out', out, '--force']).status, 0);
  assert.deepEqual(readFileSync(out), opensslDer('x509', p('root.crt')));
  const key = signet(['cert', 'format', p('leaf.key'), '--out', p('key.der')]);
  fails(key, 3, 'ERR_PEM_UNEXPECTED_TYPE');
  assert.match(key.stderr, /signet key/);
  // The hint's command works as given (key public has no DER output).
  const hint = /^hint: .*?(signet key public KEY(?: --format \w+)?)/m.exec(key.stderr)?.[1];
  assert.ok(hint, key.stderr);
  for (const [, format] of key.stderr.matchAll(/--format (\w+)/g)) assert.ok(format === 'jwk' || format === 'pem', `key public has no --format ${format}`);
  assert.equal(signet(hint.replace('signet ', '').replace('KEY', p('leaf.key')).split(' ')).status, 0, hint);
  fails(signet(['cert', 'format', p('garbage.der'), '--out', p('garbage.pem2')]), 3, 'ERR_CERT_MALFORMED');
  assert.equal(existsSync(p('garbage.pem2')), false);
  fails(signet(['cert', 'format', p('nothing.pem')]), 5, 'ERR_FILE_NOT_FOUND');
});

// ---------------------------------------------------------------------------------------------
// bundle

test('bundle: leaf → intermediate → root, accepted by openssl verify', () => {
  const out = p('chain.pem');
  const r = signet(['cert', 'bundle', p('leaf.crt'), p('int.crt'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(p('leaf.crt'), 'utf8') + readFileSync(p('int.crt'), 'utf8'));
  const v = openssl(['verify', '-CAfile', p('root.crt'), '-untrusted', out, p('leaf.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const j = json<{ out: string; checked: boolean; certificates: { file: string; subject: string }[] }>(
    signet(['cert', 'bundle', p('leaf.crt'), p('int.crt'), p('root.crt'), '--out', p('full.pem'), '--json']),
  );
  assert.equal(j.checked, true);
  assert.deepEqual(j.certificates.map((c) => c.file), [p('leaf.crt'), p('int.crt'), p('root.crt')]);
  const stdout = signet(['cert', 'bundle', p('p384.crt'), p('root.crt')]);
  assert.equal(stdout.status, 0);
  assert.equal(stdout.stdout.match(/BEGIN CERTIFICATE/g)?.length, 2);
});

test('bundle: wrong order is ERR_BUNDLE_ORDER with the right order as a hint, unless --no-check', () => {
  const out = p('wrong.pem');
  const r = signet(['cert', 'bundle', p('int.crt'), p('leaf.crt'), '--out', out]);
  fails(r, 1, 'ERR_BUNDLE_ORDER');
  assert.match(r.stderr, new RegExp(`hint: reorder as: ${p('leaf.crt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
  assert.equal(existsSync(out), false, 'nothing written');
  fails(signet(['cert', 'bundle', p('leaf.crt'), p('p384.crt')]), 1, 'ERR_BUNDLE_ORDER');
  fails(signet(['cert', 'bundle', p('leaf.crt'), p('leaf.crt')]), 1, 'ERR_BUNDLE_ORDER');
  assert.equal(signet(['cert', 'bundle', p('int.crt'), p('leaf.crt'), '--out', out, '--no-check']).status, 0);
  assert.equal(readFileSync(out, 'utf8'), readFileSync(p('int.crt'), 'utf8') + readFileSync(p('leaf.crt'), 'utf8'));
  fails(signet(['cert', 'bundle', p('leaf.crt'), p('garbage.der')]), 3, 'ERR_CERT_MALFORMED');
  fails(signet(['cert', 'bundle', p('leaf.crt'), p('nope.crt')]), 5, 'ERR_FILE_NOT_FOUND');
  fails(signet(['cert', 'bundle', p('leaf.crt'), p('int.crt'), '--out', out]), 5, 'ERR_FILE_EXISTS');
});

test('format and bundle never replace their own input, even with --force, however it is spelled', () => {
  const dir = tempDir('signet-same-file-');
  try {
    const original = pki.read('leaf.crt');
    const a = dir.path('a.crt');
    writeFileSync(a, original);
    linkSync(a, dir.path('hard.crt'));
    const sameFile = [a, `${dir.dir}/./a.crt`, `${dir.dir}/../${basename(dir.dir)}/a.crt`, dir.path('hard.crt')];
    for (const out of sameFile) {
      fails(signet(['cert', 'format', a, '--out', out, '--force']), 2, 'ERR_USAGE');
      fails(signet(['cert', 'bundle', a, p('int.crt'), '--out', out, '--force']), 2, 'ERR_USAGE');
      fails(signet(['cert', 'bundle', p('leaf.crt'), a, '--out', out, '--force', '--no-check']), 2, 'ERR_USAGE');
    }
    assert.deepEqual(readFileSync(a), original, 'the input is untouched');
    // Another file is still replaced with --force.
    writeFileSync(dir.path('other.pem'), 'old');
    assert.equal(signet(['cert', 'bundle', a, p('int.crt'), '--out', dir.path('other.pem'), '--force']).status, 0);
    assert.equal(signet(['cert', 'format', a, '--out', dir.path('other.pem'), '--force']).status, 0);
  } finally {
    dir.cleanup();
  }
});

test('bundle reads stdin at most once: - - is ERR_USAGE, not an empty second input', () => {
  const r = signet(['cert', 'bundle', '-', '-'], { input: readFileSync(p('leaf.crt'), 'utf8') });
  fails(r, 2, 'ERR_USAGE');
  assert.match(r.stderr, /only one input can come from stdin/);
  const one = signet(['cert', 'bundle', '-', p('int.crt')], { input: readFileSync(p('leaf.crt'), 'utf8') });
  assert.equal(one.status, 0, one.stderr);
});

test('bundle: the file name in the summary is printed inert', () => {
  const out = p('evil\u001b[31m.pem');
  const r = signet(['cert', 'bundle', p('leaf.crt'), p('int.crt'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^wrote \S*evil\\x1b\[31m\.pem \(2 certificates\)\n$/);
});

// ---------------------------------------------------------------------------------------------
// needs-renewal

test('needs-renewal: exit 0 when due, 1 when not, by share of lifetime or remaining time', () => {
  // p384.crt is valid for exactly 10 days.
  const nb = new Date(field(opensslOk(['x509', '-in', p('p384.crt'), '-noout', '-startdate']), 'notBefore')).getTime();
  const at = (hours: number): string => new Date(nb + hours * 3_600_000).toISOString();
  const cases: Array<[string[], number, RegExp]> = [
    [['--time', at(120)], 1, /^not due: 50% of the lifetime has passed/],
    [['--time', at(168)], 0, /^renewal needed: 70% of the lifetime has passed/],
    [['--time', at(264)], 0, /^renewal needed: expired 1d ago/],
    [['--time', at(-1)], 1, /^not due: not valid until/],
    [['--time', at(120), '--expires-in', '50%'], 0, /^renewal needed/],
    [['--time', at(228), '--expires-in', '8h'], 1, /^not due/],
    [['--time', at(233), '--expires-in', '8h'], 0, /^renewal needed: .*threshold 8h before expiry/],
  ];
  for (const [args, status, line] of cases) {
    const r = signet(['cert', 'needs-renewal', p('p384.crt'), ...args]);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, line);
  }
  const j = signet(['cert', 'needs-renewal', p('p384.crt'), '--time', at(168), '--json']);
  assert.equal(j.status, 0);
  const d = JSON.parse(j.stdout) as { needsRenewal: boolean; reason: string; elapsedPercent: number; lifetimeSeconds: number; renewAt: string };
  assert.deepEqual([d.needsRenewal, d.reason, d.elapsedPercent, d.lifetimeSeconds], [true, 'threshold', 70, 864_000]);
  assert.equal(d.renewAt, at(158.4).replace('.000', ''));
  const notDue = signet(['cert', 'needs-renewal', p('p384.crt'), '--time', at(1), '--json']);
  assert.equal(notDue.status, 1);
  assert.equal((JSON.parse(notDue.stdout) as { needsRenewal: boolean }).needsRenewal, false);
});

test('needs-renewal: a bundle is judged by its leaf; errors keep their exit codes', () => {
  const bundle = p('renew-bundle.pem');
  writeFileSync(bundle, Buffer.concat([pki.read('p384.crt'), pki.read('root.crt')]));
  const nb = new Date(field(opensslOk(['x509', '-in', p('p384.crt'), '-noout', '-startdate']), 'notBefore')).getTime();
  assert.equal(signet(['cert', 'needs-renewal', bundle, '--time', new Date(nb + 9 * 86_400_000).toISOString()]).status, 0, 'the 10-day leaf is due, the 10-year root is not');
  fails(signet(['cert', 'needs-renewal', p('p384.crt'), '--expires-in', '150%']), 2, 'ERR_BAD_OPTION');
  const zero = signet(['cert', 'needs-renewal', p('p384.crt'), '--expires-in', '0%']);
  fails(zero, 2, 'ERR_BAD_OPTION');
  // 0 is refused, so the message must not say "between 0 and 100".
  assert.match(zero.stderr, /more than 0% and at most 100%/);
  fails(signet(['cert', 'needs-renewal', p('p384.crt'), '--expires-in', 'soon']), 2, 'ERR_BAD_DURATION');
  fails(signet(['cert', 'needs-renewal', p('p384.crt'), '--time', 'yesterday']), 2, 'ERR_BAD_TIME');
  fails(signet(['cert', 'needs-renewal', p('garbage.der')]), 3, 'ERR_CERT_MALFORMED');
  fails(signet(['cert', 'needs-renewal', p('garbage.pem')]), 3, 'ERR_PEM_MALFORMED');
  fails(signet(['cert', 'needs-renewal', p('int.crl')]), 3, 'ERR_PEM_UNEXPECTED_TYPE');
  fails(signet(['cert', 'needs-renewal', p('absent.crt')]), 5, 'ERR_FILE_NOT_FOUND');
});

test('every command has --help with examples', () => {
  for (const cmd of ['inspect', 'fingerprint', 'format', 'bundle', 'needs-renewal']) {
    const r = signet(['certificate', cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, /Examples:\n {2}\$ signet certificate /, cmd);
  }
});
