/**
 * The OCSP responder of a running CA, checked with OpenSSL's own client (`openssl ocsp -url`):
 * good / revoked (time, reason) / unknown, with and without a nonce, SHA-1 and SHA-256 CertIDs,
 * the response verified up to the root through the delegated responder certificate (OCSPSigning,
 * ocsp-nocheck) that the CA issued itself and recorded in its inventory; a revocation reaches
 * OCSP at the next tick of the revocation watcher; the GET form with its caching headers and
 * validators; an unknown issuer is `unauthorized`, a malformed request `malformedRequest`, an
 * oversized one HTTP 413, a wrong media type 415; the AIA of issued certificates names the
 * responder so that OpenSSL finds it by itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { encodePem } from '../../src/core/pem.js';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, issueLeaf, startTestCa, writeChainFiles, type IssuedLeaf, type TestCa } from '../helpers/ca.js';
import { freePort } from '../helpers/net.js';
import { openssl, opensslOk, runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ocsp-');
let ca: TestCa;
let running: RunningCa;
let httpPort = 0;
let ocspUrl = '';
/** The files of the CA directory before it started (the store's aside). */
let filesAtInit: string[] = [];
const caFiles = (): string[] => (readdirSync(ca.dir, { recursive: true }) as string[]).filter((f) => !/\.db(-wal|-shm)?$/.test(f)).sort();

before(async () => {
  httpPort = await freePort();
  ocspUrl = `http://127.0.0.1:${httpPort}/ocsp`;
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({
    parent: tmp.path('ca-parent'),
    edit: (doc) => {
      doc.ocspUrl = ocspUrl;
      doc.revocation = { httpAddress: `127.0.0.1:${httpPort}`, propagation: '1s', ocsp: { validity: '1h', signerLifetime: '1d' } };
    },
  });
  filesAtInit = caFiles();
  // The tests tick the watcher themselves (a timer tick between two steps would race them); the
  // timer is tested on a second replica that keeps the configured period.
  running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  writeChainFiles(ca, tmp.dir);
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

type Issued = IssuedLeaf;

const issue = (name: string): Promise<Issued> => issueLeaf(ca, running, name, tmp.path(`${name}.pem`));

async function revoke(leaf: Issued, reason?: string): Promise<void> {
  const r = await httpsRequest(ca, `${running.url}/revoke`, { cert: leaf.pem, key: leaf.key, body: { serial: leaf.serial, ...(reason !== undefined && { reason }) } });
  assert.equal(r.status, 200, r.text);
}

/** `openssl ocsp` against the responder: the verdict line per certificate and whether the response verified. */
async function ask(args: readonly string[]): Promise<{ code: number; out: string }> {
  const r = await runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-url', ocspUrl, ...args]);
  return { code: r.code, out: r.stdout + r.stderr };
}

async function post(body: Uint8Array | string, contentType = 'application/ocsp-request'): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
  const r = await fetch(ocspUrl, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
}

function request(args: readonly string[]): Uint8Array {
  const out = tmp.path(`req-${Math.random().toString(36).slice(2)}.der`);
  opensslOk(['ocsp', '-issuer', tmp.path('int.pem'), '-reqout', out, ...args]);
  return new Uint8Array(readFileSync(out));
}

/** The response as OpenSSL prints it (`-resp_text`), verified against the root. */
function describe(der: Uint8Array, extra: readonly string[] = []): string {
  const file = tmp.path(`resp-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(file, der);
  const r = openssl(['ocsp', '-respin', file, '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-resp_text', ...extra]);
  return r.stdout + r.stderr;
}

test('openssl ocsp: a good certificate is good, with and without a nonce, SHA-1 and SHA-256 CertIDs; the response verifies through the delegated responder', async () => {
  const leaf = await issue('good.ocsp.example.com');
  const withNonce = await ask(['-cert', leaf.file, '-resp_text']);
  assert.equal(withNonce.code, 0, withNonce.out);
  assert.match(withNonce.out, /Response verify OK/);
  assert.match(withNonce.out, new RegExp(`${leaf.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: good`));
  assert.match(withNonce.out, /OCSP Nonce:/, 'the nonce is echoed');
  assert.doesNotMatch(withNonce.out, /WARNING: no nonce in response/);
  const noNonce = await ask(['-cert', leaf.file, '-no_nonce']);
  assert.equal(noNonce.code, 0, noNonce.out);
  assert.match(noNonce.out, /: good/);
  const sha256 = await ask(['-sha256', '-cert', leaf.file, '-resp_text']);
  assert.match(sha256.out, /Hash Algorithm: sha256/);
  assert.match(sha256.out, /: good/);
  assert.match(sha256.out, /Response verify OK/);
  // The responder: byKey, its certificate in the response, issued by the intermediate for OCSP signing only.
  assert.match(withNonce.out, /Responder Id: [0-9A-F]{40}/);
  assert.match(withNonce.out, /OCSP Signing/);
  assert.match(withNonce.out, /OCSP No Check/);
});

test('the responder certificate is issued by the CA, in its inventory and audit log, with a key that never touches disk', async () => {
  const ocsp = running.ocsp;
  assert.ok(ocsp);
  const id = ocsp.identity;
  const record = await running.store.certificates.get(id.serial);
  assert.equal(record?.profile, 'ocsp-responder');
  assert.equal(record?.provisioner, 'signet');
  assert.deepEqual(record?.der, id.certificate);
  writeFileSync(tmp.path('responder.pem'), encodePem('CERTIFICATE', id.certificate));
  const text = opensslOk(['x509', '-in', tmp.path('responder.pem'), '-noout', '-text']);
  assert.match(text, /OCSP Signing/);
  assert.match(text, /Digital Signature/);
  assert.match(text, /OCSP No Check/);
  assert.match(text, /CA:FALSE/);
  const verified = openssl(['verify', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), '-purpose', 'ocsphelper', tmp.path('responder.pem')]);
  assert.equal(verified.status, 0, verified.stderr);
  // About a day of lifetime as configured.
  assert.ok(Math.abs(id.notAfter.getTime() - id.notBefore.getTime() - 24 * 3_600_000 - 60_000) < 5_000);
  const audit = await running.store.audit.list({ type: 'ocsp.responder.issue' });
  assert.ok(audit.some((e) => e.serial === id.serial));
  assert.deepEqual(caFiles(), filesAtInit, 'the responder wrote no file (its key lives in memory only)');
});

test('revoked over the API → OCSP says revoked, with time and reason, at the next watcher tick; the cached good response is dropped', async () => {
  const leaf = await issue('bad.ocsp.example.com');
  const before = await ask(['-cert', leaf.file, '-no_nonce']);
  assert.match(before.out, /: good/);
  const cachedBefore = running.ocsp?.kept ?? 0;
  assert.ok(cachedBefore >= 1, 'the nonce-less response is kept');
  await revoke(leaf, 'keyCompromise');
  const tick = await running.publishRevocations();
  assert.ok((tick.ocsp?.evicted ?? 0) >= 1, 'the kept good response is dropped');
  const after = await ask(['-cert', leaf.file, '-no_nonce', '-resp_text']);
  assert.equal(after.code, 0, after.out);
  assert.match(after.out, /: revoked/);
  assert.match(after.out, /Reason: keyCompromise/);
  assert.match(after.out, /Revocation Time: /);
  assert.match(after.out, /Response verify OK/);
  // With a nonce too (signed on demand, never kept).
  assert.match((await ask(['-cert', leaf.file])).out, /: revoked/);
});

test('the watcher runs by itself: a revocation reaches OCSP within the propagation period with no call from the test', async () => {
  const ticking = await startTestCa(ca, { httpPort: 0 });
  try {
    const leaf = await issue('timer.ocsp.example.com');
    const url = `${ticking.httpUrl ?? ''}/ocsp`;
    const askTicking = () => runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-url', url, '-cert', leaf.file, '-no_nonce']);
    assert.match((await askTicking()).stdout, /: good/);
    await revoke(leaf);
    for (let waited = 0; ; waited++) {
      assert.ok(waited < 150, 'the timer dropped the kept response within 30 s');
      const r = await askTicking();
      if (/: revoked/.test(r.stdout)) break;
      assert.match(r.stdout, /: good/);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await ticking.close();
  }
});

test('an unknown serial is unknown (signed); an unknown issuer is unauthorized (unsigned)', async () => {
  const unknown = await ask(['-serial', '0x7f0102030405060708', '-no_nonce']);
  assert.equal(unknown.code, 0, unknown.out);
  assert.match(unknown.out, /: unknown/);
  assert.match(unknown.out, /Response verify OK/);
  // Another CA's intermediate as the issuer.
  mkdirSync(tmp.path('other-parent'));
  const other = await createTestCa({ parent: tmp.path('other-parent'), name: 'Other CA' });
  writeFileSync(tmp.path('other-int.pem'), readFileSync(other.intermediateFile, 'latin1'));
  const foreign = await runAsync('openssl', ['ocsp', '-issuer', tmp.path('other-int.pem'), '-serial', '0x01', '-url', ocspUrl, '-no_nonce']);
  assert.match(foreign.stdout + foreign.stderr, /Responder Error: unauthorized \(6\)/);
  // The issuing CA's own certificate is the root's to answer for, not ours.
  const own = await runAsync('openssl', ['ocsp', '-issuer', tmp.path('root.pem'), '-cert', tmp.path('int.pem'), '-url', ocspUrl, '-no_nonce']);
  assert.match(own.stdout + own.stderr, /unauthorized \(6\)/);
});

test('malformed requests get malformedRequest (HTTP 200, unsigned); oversized 413; wrong media type 415; empty 400', async () => {
  for (const bad of [Uint8Array.of(0x30, 0x03, 0x02, 0x01), Uint8Array.of(0x30, 0x00), new TextEncoder().encode('hello, responder')]) {
    const r = await post(bad);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/ocsp-response');
    assert.deepEqual([...r.body], [0x30, 0x03, 0x0a, 0x01, 0x01]);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  }
  const nonce33 = request(['-serial', '0x01', '-no_nonce']);
  // A valid request with its trailing garbage is not DER either.
  assert.deepEqual([...(await post(new Uint8Array([...nonce33, 0]))).body], [0x30, 0x03, 0x0a, 0x01, 0x01]);
  const big = await post(new Uint8Array(9 * 1024).fill(0x30));
  assert.equal(big.status, 413);
  assert.equal((JSON.parse(Buffer.from(big.body).toString()) as { code: string }).code, 'ERR_INPUT_TOO_LARGE');
  const wrongType = await post(nonce33, 'application/octet-stream');
  assert.equal(wrongType.status, 415);
  assert.equal((JSON.parse(Buffer.from(wrongType.body).toString()) as { code: string }).code, 'ERR_HTTP_MEDIA_TYPE');
  const empty = await post(new Uint8Array(0));
  assert.equal(empty.status, 400);
  assert.equal((JSON.parse(Buffer.from(empty.body).toString()) as { code: string }).code, 'ERR_INPUT_EMPTY');
  // GET with a path that is not base64.
  const g = await fetch(`${ocspUrl}/not*base64`);
  assert.equal(g.status, 200);
  assert.deepEqual([...new Uint8Array(await g.arrayBuffer())], [0x30, 0x03, 0x0a, 0x01, 0x01]);
});

test('GET (RFC 5019): the URL-encoded base64 request in the path; cache headers never beyond propagation or nextUpdate; ETag and Last-Modified answer 304; a repeat is the same signed bytes', async () => {
  const leaf = await issue('get.ocsp.example.com');
  const serial = `0x${leaf.serial}`;
  const der = request(['-serial', serial, '-no_nonce']);
  const b64 = Buffer.from(der).toString('base64');
  const r1 = await fetch(`${ocspUrl}/${encodeURIComponent(b64)}`);
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.get('content-type'), 'application/ocsp-response');
  const body1 = new Uint8Array(await r1.arrayBuffer());
  const text = describe(body1);
  assert.match(text, /Response verify OK/);
  assert.match(text, /Cert Status: good/);
  const thisUpdate = Date.parse(/This Update: (.+)/.exec(text)?.[1] ?? '');
  const nextUpdate = Date.parse(/Next Update: (.+)/.exec(text)?.[1] ?? '');
  assert.equal(nextUpdate - thisUpdate, 3_600_000, 'validity as configured');
  assert.equal(r1.headers.get('cache-control'), 'public, max-age=1, no-transform, must-revalidate');
  assert.equal(r1.headers.get('last-modified'), new Date(thisUpdate).toUTCString());
  const expires = Date.parse(r1.headers.get('expires') ?? '');
  assert.ok(expires <= nextUpdate);
  const etag = r1.headers.get('etag') ?? '';
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
  // The same request unencoded (slashes and plus signs raw in the path), and as base64url.
  const raw = await fetch(`${ocspUrl}/${b64}`);
  assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), body1, 'a repeat is served from the kept response');
  const url = await fetch(`${ocspUrl}/${Buffer.from(der).toString('base64url')}`);
  assert.deepEqual(new Uint8Array(await url.arrayBuffer()), body1);
  assert.equal((await fetch(`${ocspUrl}/${encodeURIComponent(b64)}`, { headers: { 'if-none-match': etag } })).status, 304);
  // POST gets the same response for the same request.
  assert.deepEqual((await post(der)).body, body1);
  // On the HTTPS API as well.
  const https = await httpsRequest(ca, `${running.url}/ocsp/${encodeURIComponent(b64)}`);
  assert.equal(https.status, 200);
});

test('the certificates name the responder in their AIA: openssl finds it by itself (-url from the certificate)', async () => {
  const leaf = await issue('aia.ocsp.example.com');
  const aia = opensslOk(['x509', '-in', leaf.file, '-noout', '-ocsp_uri']).trim();
  assert.equal(aia, ocspUrl);
  const r = await runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-cert', leaf.file, '-url', aia]);
  assert.match(r.stdout, /: good/);
});

test('several CertIDs in one request each get their SingleResponse', async () => {
  const a = await issue('multi-a.ocsp.example.com');
  const b = await issue('multi-b.ocsp.example.com');
  await revoke(b, 'superseded');
  await running.publishRevocations();
  const r = await ask(['-cert', a.file, '-cert', b.file, '-serial', '0x0badc0de']);
  assert.match(r.out, /multi-a[^:]*: good/);
  assert.match(r.out, /multi-b[^:]*: revoked/);
  assert.match(r.out, /0x0badc0de: unknown/i);
  assert.match(r.out, /Response verify OK/);
});

test('revocation.ocsp.enabled false: no responder certificate, /ocsp not found', async () => {
  mkdirSync(tmp.path('off-parent'));
  const off = await createTestCa({ parent: tmp.path('off-parent'), edit: (doc) => void (doc.revocation = { ocsp: { enabled: false } }) });
  const r = await startTestCa(off);
  try {
    assert.equal(r.ocsp, undefined);
    const reply = await httpsRequest(off, `${r.url}/ocsp`, { body: {} });
    assert.equal(reply.status, 404);
    assert.equal((await r.store.certificates.list({})).items.length, 0, 'nothing was issued');
  } finally {
    await r.close();
  }
});

test('two replicas on one database: each signs with its own responder certificate; a revocation made through one reaches the other\'s OCSP at its next tick', async () => {
  const second = await startTestCa(ca, { httpPort: 0, revocationIntervalMs: 3_600_000 });
  try {
    assert.ok(second.ocsp && running.ocsp);
    assert.notEqual(second.ocsp.identity.serial, running.ocsp.identity.serial);
    const leaf = await issue('replica.ocsp.example.com');
    const secondUrl = `${second.httpUrl ?? ''}/ocsp`;
    const viaSecond = (args: readonly string[]) => runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-url', secondUrl, '-cert', leaf.file, ...args]);
    const before = await viaSecond(['-no_nonce', '-resp_text']);
    assert.match(before.stdout, /: good/);
    assert.match(before.stdout + before.stderr, /Response verify OK/);
    // The response names the second replica's responder certificate.
    const serialInResponse = /Serial Number:\s*\n?\s*([0-9a-f:]+)/i.exec(before.stdout.slice(before.stdout.indexOf('Certificate:')))?.[1]?.replace(/:/g, '').toLowerCase();
    assert.equal(serialInResponse, second.ocsp.identity.serial);
    await revoke(leaf, 'cessationOfOperation');
    await second.publishRevocations();
    const after = await viaSecond(['-no_nonce', '-resp_text']);
    assert.match(after.stdout, /: revoked/);
    assert.match(after.stdout, /Reason: cessationOfOperation/);
  } finally {
    await second.close();
  }
});
