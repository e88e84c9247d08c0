/**
 * The client side of revocation against a running CA: `signet crl inspect` reading the CRL from
 * its URL (and files, stdin), checked against its issuer and searched for serials, its numbers
 * cross-checked with `openssl crl`; `signet certificate verify --ocsp` asking the CA's responder
 * (good, revoked — as `openssl ocsp` says too —, unknown), and refusing answers that must not
 * count: another responder's signature, a replayed answer with another nonce, an unreachable or
 * wrong endpoint. Every failure is a specific code and one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseCertificates } from '../../src/x509/certificate.js';
import { signOcspResponse, subjectPublicKeyBits } from '../../src/x509/ocsp.js';
import { ocspQuery } from '../../src/x509/verify/ocsp.js';
import { httpsRequest, issueLeaf, startRevocationCa, type IssuedLeaf, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { opensslOk, runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-client-checks-');
let ca: TestCa;
let running: RunningCa;
let base = '';
let good: IssuedLeaf;
let bad: IssuedLeaf;
/** A local HTTP server whose answer each test sets. */
let fake: Server;
let fakeUrl = '';
let fakeAnswer: (body: Buffer) => { status: number; headers?: Record<string, string>; body?: Uint8Array } = () => ({ status: 404 });

before(async () => {
  ({ ca, running, base } = await startRevocationCa(tmp.dir, { ocsp: true }));
  good = await issueLeaf(ca, running, 'good.checks.example.com', tmp.path('good.pem'));
  bad = await issueLeaf(ca, running, 'bad.checks.example.com', tmp.path('bad.pem'));
  const r = await httpsRequest(ca, `${running.url}/revoke`, { cert: bad.pem, key: bad.key, body: { serial: bad.serial, reason: 'keyCompromise' } });
  assert.equal(r.status, 200, r.text);
  await running.publishRevocations();
  fake = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const a = fakeAnswer(Buffer.concat(chunks));
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body === undefined ? undefined : Buffer.from(a.body));
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => fake.close(() => resolve()));
  await running.close();
  tmp.cleanup();
});

const run = (args: readonly string[], input?: string) => signetAsync(args, input === undefined ? {} : { input });

async function crlBytes(): Promise<Uint8Array> {
  const r = await fetch(`${base}/crl`);
  assert.equal(r.status, 200);
  return new Uint8Array(await r.arrayBuffer());
}

// --- signet crl inspect ------------------------------------------------------------------------

test('crl inspect URL --issuer --serial: checked against the intermediate, the revoked serial listed with its reason, the good one not; numbers as openssl crl reads them', async () => {
  const r = ok(await run(['crl', 'inspect', `${base}/crl`, '--issuer', tmp.path('int.pem'), '--serial', bad.serial, '--serial', good.serial.replace(/(..)(?=.)/g, '$1:'), '--json']));
  const report = JSON.parse(r.stdout) as { source: { type: string; name: string }; items: { crlNumber: string; revokedCount: number; check: Record<string, unknown>; lookups: { serial: string; listed: boolean; reason?: string }[]; revoked: { serialNumber: string }[] }[] };
  assert.deepEqual(report.source, { type: 'url', name: `${base}/crl` });
  const [item] = report.items;
  assert.ok(item);
  assert.deepEqual(item.check, { issuer: parseCertificates(readFileSync(tmp.path('int.pem')))[0]!.subject.text, issuerNameMatches: true, signatureValid: true, status: 'current' });
  assert.deepEqual(
    item.lookups.map((l) => [l.serial, l.listed, l.reason]),
    [
      [bad.serial, true, 'keyCompromise'],
      [good.serial, false, undefined],
    ],
  );
  // The same bytes through OpenSSL: number and entries agree.
  writeFileSync(tmp.path('now.crl'), await crlBytes());
  const number = opensslOk(['crl', '-inform', 'DER', '-in', tmp.path('now.crl'), '-noout', '-crlnumber']).trim();
  assert.equal(BigInt(number.replace(/^crlNumber=/, '')).toString(), item.crlNumber);
  const text = opensslOk(['crl', '-inform', 'DER', '-in', tmp.path('now.crl'), '-noout', '-text']);
  assert.equal((text.match(/Serial Number:/g) ?? []).length, item.revokedCount);
  assert.ok(item.revoked.some((e) => e.serialNumber === bad.serial));
});

test('crl inspect: a DER file, PEM on stdin, --short; text shows the checks', async () => {
  const der = await crlBytes();
  writeFileSync(tmp.path('file.crl'), der);
  const text = ok(await run(['crl', 'inspect', tmp.path('file.crl'), '--issuer', tmp.path('int.pem'), '--serial', bad.serial])).stdout;
  assert.match(text, /^Certificate Revocation List:/);
  assert.match(text, /Signature: {3}valid/);
  assert.match(text, /Issuer name: matches/);
  assert.match(text, new RegExp(`Serial ${bad.serial}: REVOKED \\S+ \\(keyCompromise\\)`));
  const pem = `-----BEGIN X509 CRL-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END X509 CRL-----\n`;
  const short = ok(await run(['crl', 'inspect', '-', '--short'], pem)).stdout;
  assert.match(short, /Revoked: +[1-9]\d* certificates?/);
  assert.doesNotMatch(short, /Serial Number/);
});

test('crl inspect refuses what does not check out, after printing the report: another issuer, a bad signature, a stale CRL', async () => {
  const der = await crlBytes();
  writeFileSync(tmp.path('check.crl'), der);
  const foreign = await run(['crl', 'inspect', tmp.path('check.crl'), '--issuer', tmp.path('root.pem')]);
  fails(foreign, 1, 'ERR_VERIFY_NO_ISSUER');
  assert.match(foreign.stdout, /Issuer name: DOES NOT MATCH/);
  const tampered = Uint8Array.from(der);
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 0x01;
  writeFileSync(tmp.path('tampered.crl'), tampered);
  fails(await run(['crl', 'inspect', tmp.path('tampered.crl'), '--issuer', tmp.path('int.pem')]), 1, 'ERR_VERIFY_SIGNATURE');
  fails(await run(['crl', 'inspect', tmp.path('check.crl'), '--issuer', tmp.path('int.pem'), '--time', '+30d']), 1, 'ERR_VERIFY_CRL_EXPIRED');
  ok(await run(['crl', 'inspect', tmp.path('check.crl'), '--time', '+30d']));
});

test('crl inspect: bad inputs each get their code — 404, nothing listening, too large, not a CRL, bad serial, credentials in the URL', async () => {
  fails(await run(['crl', 'inspect', `${base}/nothing-here`]), 6, 'ERR_FETCH_FAILED');
  fails(await run(['crl', 'inspect', `http://127.0.0.1:${await freePort()}/crl`]), 6, 'ERR_FETCH_FAILED');
  fakeAnswer = () => ({ status: 200, headers: { 'content-length': String(300 * 1024 * 1024) } });
  fails(await run(['crl', 'inspect', `${fakeUrl}/big.crl`]), 3, 'ERR_INPUT_TOO_LARGE');
  fakeAnswer = () => ({ status: 200, body: Buffer.from('this is not a CRL') });
  fails(await run(['crl', 'inspect', `${fakeUrl}/text.crl`]), 3, 'ERR_CRL_MALFORMED');
  fails(await run(['crl', 'inspect', tmp.path('good.pem')]), 3, 'ERR_PEM_UNEXPECTED_TYPE');
  fails(await run(['crl', 'inspect', `${base}/crl`, '--serial', 'xyz']), 2, 'ERR_BAD_OPTION');
  fails(await run(['crl', 'inspect', `http://user:secret@127.0.0.1:1/crl`]), 2, 'ERR_BAD_OPTION');
  fails(await run(['crl', 'inspect', tmp.path('file.crl'), '--roots', tmp.path('root.pem')]), 2, 'ERR_BAD_OPTION');
});

// --- signet certificate verify --ocsp ----------------------------------------------------------

const verify = (leaf: string, extra: readonly string[] = []) => run(['certificate', 'verify', leaf, '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), '--ocsp', ...extra]);

test('verify --ocsp: a good leaf is good through the delegated responder its AIA names; a revoked one is ERR_VERIFY_REVOKED, as openssl ocsp says', async () => {
  const r = ok(await verify(good.file, ['--json']));
  const out = JSON.parse(r.stdout) as { valid: boolean; chain: { ocsp?: { status: string; url: string; responder: { type: string }; nonceEchoed: boolean } }[] };
  assert.equal(out.valid, true);
  assert.equal(out.chain[0]?.ocsp?.status, 'good');
  assert.equal(out.chain[0]?.ocsp?.url, `${base}/ocsp`);
  assert.equal(out.chain[0]?.ocsp?.responder.type, 'delegated');
  assert.equal(out.chain[0]?.ocsp?.nonceEchoed, true);
  assert.equal(out.chain[1]?.ocsp?.status, 'not checked', 'the intermediate names no responder');
  assert.match(ok(await verify(good.file)).stdout, /OCSP good: 1 certificate/);

  const revoked = await verify(bad.file);
  fails(revoked, 1, 'ERR_VERIFY_REVOKED');
  assert.match(revoked.stderr, /keyCompromise/);
  const o = await runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-cert', bad.file, '-url', `${base}/ocsp`]);
  assert.match(o.stdout, /: revoked/);
});

test('verify --ocsp: a certificate the responder never heard of is ERR_VERIFY_OCSP_UNKNOWN', async () => {
  // Signed with the intermediate's key outside the CA: not in its inventory.
  const keyFile = ca.config.intermediate.key;
  ok(await run(['certificate', 'create', 'stray.checks.example.com', tmp.path('stray.pem'), '--profile', 'leaf', '--ca', tmp.path('int.pem'), '--ca-key', keyFile, '--ca-password-file', ca.passwordFile, '--key-out', tmp.path('stray.key'), '--no-password', '--san', 'stray.checks.example.com', '--not-after', '+1h']));
  fails(await verify(tmp.path('stray.pem'), ['--ocsp-url', `${base}/ocsp`]), 1, 'ERR_VERIFY_OCSP_UNKNOWN');
});

test('verify --ocsp refuses answers that must not count: signed by a stranger, a replayed answer with another nonce, a responder error', async () => {
  const leaf = parseCertificates(readFileSync(good.file))[0]!;
  const issuer = parseCertificates(readFileSync(tmp.path('int.pem')))[0]!;
  // A stranger's key signs a well-formed "good" for the certificate asked about.
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const strangerSpki = new Uint8Array(stranger.publicKey.export({ type: 'spki', format: 'der' }));
  fakeAnswer = () => {
    const query = ocspQuery(leaf, issuer);
    return {
      status: 200,
      headers: { 'content-type': 'application/ocsp-response' },
      body: signOcspResponse(
        { responderKeyHash: new Uint8Array(createHash('sha1').update(subjectPublicKeyBits(strangerSpki)).digest()), producedAt: new Date(), responses: [{ certId: query.certId, cert: { status: 'good' }, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3_600_000) }], certs: [] },
        createSoftwareSigner(stranger.privateKey),
      ),
    };
  };
  fails(await verify(good.file, ['--ocsp-url', `${fakeUrl}/ocsp`]), 1, 'ERR_VERIFY_OCSP_INVALID');

  // A genuine answer of the CA's responder to an earlier request, replayed: its nonce is not ours.
  const earlier = ocspQuery(leaf, issuer);
  const genuine = await fetch(`${base}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: earlier.der });
  const replay = new Uint8Array(await genuine.arrayBuffer());
  fakeAnswer = () => ({ status: 200, headers: { 'content-type': 'application/ocsp-response' }, body: replay });
  const replayed = await verify(good.file, ['--ocsp-url', `${fakeUrl}/ocsp`]);
  fails(replayed, 1, 'ERR_VERIFY_OCSP_INVALID');
  assert.match(replayed.stderr, /nonce/);

  fakeAnswer = () => ({ status: 200, body: Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x03) }); // tryLater
  fails(await verify(good.file, ['--ocsp-url', `${fakeUrl}/ocsp`]), 6, 'ERR_VERIFY_OCSP_UNAVAILABLE');
  fakeAnswer = () => ({ status: 200, body: Buffer.from('garbage') });
  fails(await verify(good.file, ['--ocsp-url', `${fakeUrl}/ocsp`]), 3, 'ERR_OCSP_MALFORMED_RESPONSE');
});

test('verify --ocsp: no responder to reach is ERR_VERIFY_OCSP_UNAVAILABLE (nothing listening, HTTP error, a leaf without AIA)', async () => {
  fails(await verify(good.file, ['--ocsp-url', `http://127.0.0.1:${await freePort()}/ocsp`]), 6, 'ERR_VERIFY_OCSP_UNAVAILABLE');
  fails(await verify(good.file, ['--ocsp-url', `${base}/not-ocsp`]), 6, 'ERR_VERIFY_OCSP_UNAVAILABLE');
  const json = await verify(good.file, ['--ocsp-url', `${base}/not-ocsp`, '--json']);
  assert.equal((JSON.parse(json.stdout) as { valid: boolean; error: { code: string } }).error.code, 'ERR_VERIFY_OCSP_UNAVAILABLE');
  // The intermediate as a "leaf" (verified against the root): it names no responder.
  const noAia = await run(['certificate', 'verify', tmp.path('int.pem'), '--roots', tmp.path('root.pem'), '--ocsp']);
  fails(noAia, 6, 'ERR_VERIFY_OCSP_UNAVAILABLE');
  assert.match(noAia.stderr, /--ocsp-url/);
  fails(await verify(good.file, ['--ocsp-url', 'ftp://127.0.0.1/ocsp']), 2, 'ERR_BAD_OPTION');
});
