/**
 * CRL publication by a running CA, checked with OpenSSL: the CA signs a CRL before it serves its
 * first request; a revocation (native API over mTLS, the admin path) is in the CRL at the next
 * tick of the revocation watcher, which runs every `revocation.propagation`; the CRL is served
 * over plain HTTP at the URL the certificates name in their CRL distribution points, as DER and
 * PEM, with validators and cache headers; `openssl crl -verify` accepts it; `openssl verify
 * -crl_check` (with -crl_download, fetching it from the certificate's own CDP) rejects the
 * revoked leaf and accepts the good one; expired entries drop out; a disabled CRL is not served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import type { JobRun, RunningCa } from '../../src/ca/runtime.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { parseCrl, verifyCrlSignature } from '../../src/x509/crl.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { freePort } from '../helpers/net.js';
import { openssl, runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-crl-publish-');
let ca: TestCa;
let running: RunningCa;
let httpPort = 0;
let t = Date.now();
const clock: Clock = { now: () => new Date(t) };
const jobs: JobRun[] = [];

before(async () => {
  httpPort = await freePort();
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({
    parent: tmp.path('ca-parent'),
    edit: (doc) => {
      doc.crlUrl = `http://127.0.0.1:${httpPort}/crl`;
      doc.revocation = { httpAddress: `127.0.0.1:${httpPort}`, propagation: '1s', crl: { validity: '24h', refresh: '8h' } };
    },
  });
  // The tests tick the watcher themselves (a timer tick between two steps would race them); the
  // timer is tested on a second replica that keeps the configured period.
  running = await startTestCa(ca, { clock, onJob: (r) => jobs.push(r), revocationIntervalMs: 3_600_000 });
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

interface Issued {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly key: string;
  readonly serial: string;
}

async function issue(name: string, lifetime = '+1h'): Promise<Issued> {
  const csr = testCsr(name, [name]);
  const ott = await testToken(ca, running, { subject: name }, clock);
  const r = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: csr.pem, ott, notAfter: lifetime } });
  assert.equal(r.status, 201, r.text);
  const pem = (r.json as { crt: string }).crt;
  const der = parseCertificate(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).der;
  return { der, pem, key: csr.key.export({ format: 'pem', type: 'pkcs8' }).toString(), serial: parseCertificate(der).serialHex };
}

function intermediateDer(): Uint8Array {
  return decodePem(readFileSync(ca.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
}

async function fetchCrl(path = '/crl', headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Uint8Array }> {
  const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers });
  return { status: r.status, headers: r.headers, body: new Uint8Array(await r.arrayBuffer()) };
}

test('a CRL is served from the start: signed by the intermediate, v2 with number, AKI and an IDP naming the configured URL, no entries', async () => {
  const r = await fetchCrl();
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/pkix-crl');
  const crl = parseCrl(r.body);
  const intermediate = parseCertificate(intermediateDer());
  assert.ok(verifyCrlSignature(crl, intermediate));
  assert.equal(crl.version, 2);
  assert.equal(crl.revoked.length, 0);
  assert.ok((crl.ext.crlNumber ?? 0n) >= 1n);
  assert.deepEqual(crl.ext.issuingDistributionPoint?.fullName?.map((n) => n.value), [`http://127.0.0.1:${httpPort}/crl`]);
  assert.equal(crl.ext.issuingDistributionPoint?.onlyContainsUserCerts, true);
  assert.equal(crl.nextUpdate?.getTime(), (crl.thisUpdate.getTime() + 24 * 3_600_000));
});

test('revoked over the API → in the CRL at the next watcher tick; OpenSSL verifies the CRL and refuses the revoked leaf, accepts the good one (fetching the CRL from its CDP)', async () => {
  const good = await issue('good.crl.example.com');
  const bad = await issue('bad.crl.example.com');
  assert.match(openssl(['x509', '-noout', '-ext', 'crlDistributionPoints'], bad.pem).stdout, new RegExp(`URI:http://127.0.0.1:${httpPort}/crl`));
  const before = parseCrl((await fetchCrl()).body);

  const revoked = await httpsRequest(ca, `${running.url}/revoke`, { cert: bad.pem, key: bad.key, body: { serial: bad.serial, reason: 'keyCompromise' } });
  assert.equal(revoked.status, 200, revoked.text);
  // Nothing is served before the watcher ticks…
  assert.equal(parseCrl((await fetchCrl()).body).revoked.length, 0);
  // …and its tick signs a new CRL because something was revoked.
  const run = await running.publishRevocations();
  assert.equal(run.ran, true);
  assert.equal(run.crl?.decision, 'revocations');
  const after = parseCrl((await fetchCrl()).body);
  assert.ok((after.ext.crlNumber ?? 0n) > (before.ext.crlNumber ?? 0n));
  assert.deepEqual(after.revoked.map((e) => [e.serialHex, e.reason]), [[bad.serial, 'keyCompromise']]);
  // A tick with nothing new signs nothing.
  assert.equal((await running.publishRevocations()).crl?.decision, 'current');

  writeFileSync(tmp.path('crl.pem'), encodePem('X509 CRL', after.der));
  writeFileSync(tmp.path('root.pem'), ca.rootPem);
  writeFileSync(tmp.path('chain.pem'), encodePem('CERTIFICATE', intermediateDer()) + ca.rootPem);
  writeFileSync(tmp.path('int.pem'), encodePem('CERTIFICATE', intermediateDer()));
  writeFileSync(tmp.path('good.pem'), good.pem);
  writeFileSync(tmp.path('bad.pem'), bad.pem);
  const v = openssl(['crl', '-in', tmp.path('crl.pem'), '-CAfile', tmp.path('chain.pem'), '-verify', '-noout']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr + v.stdout, /verify OK/);

  const verify = (leaf: string, download: boolean) =>
    runAsync('openssl', ['verify', '-crl_check', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), ...(download ? ['-crl_download'] : ['-CRLfile', tmp.path('crl.pem')]), leaf]);
  const revokedLeaf = await verify(tmp.path('bad.pem'), false);
  assert.notEqual(revokedLeaf.code, 0);
  assert.match(revokedLeaf.stdout + revokedLeaf.stderr, /certificate revoked/);
  const goodLeaf = await verify(tmp.path('good.pem'), false);
  assert.equal(goodLeaf.code, 0, goodLeaf.stderr);
  // -crl_download: OpenSSL fetches the CRL from the certificate's distribution point itself.
  const downloaded = await verify(tmp.path('bad.pem'), true);
  assert.match(downloaded.stdout + downloaded.stderr, /certificate revoked/);
  assert.equal((await verify(tmp.path('good.pem'), true)).code, 0);
});

test('the watcher runs by itself every propagation period: a revocation reaches the CRL with no call from the test', async () => {
  const timed: JobRun[] = [];
  const ticking = await startTestCa(ca, { clock, httpPort: 0, onJob: (r) => timed.push(r) });
  const leaf = await issue('timer.crl.example.com');
  try {
    const r = await httpsRequest(ca, `${running.url}/revoke`, { cert: leaf.pem, key: leaf.key, body: { serial: leaf.serial } });
    assert.equal(r.status, 200, r.text);
    // Wait for the timer's own tick that signs for the revocation. The test clock stands still, so
    // it is moved on meanwhile: the other replica's CRL lease runs out as it would in real time.
    for (let waited = 0; !timed.some((j) => j.job === 'revocation' && j.crl?.decision === 'revocations'); waited++) {
      assert.ok(waited < 300, 'the timer signed a CRL within 30 s');
      t += 1000;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const served = ticking.crl?.served();
    assert.ok(served);
    const entry = parseCrl(served.der).revoked.find((e) => e.serialHex === leaf.serial);
    assert.ok(entry, 'the revoked serial is in the CRL');
    assert.equal(entry.reason, undefined, 'no reason given: no reasonCode');
  } finally {
    await ticking.close();
  }
  // The stopped replica's lease (three ticks) runs out; the other replica serves the CRL at its next tick.
  t += 5000;
  await running.publishRevocations();
  const crl = parseCrl((await fetchCrl()).body);
  const entry = crl.revoked.find((e) => e.serialHex === leaf.serial);
  assert.ok(entry, 'the revoked serial is in the CRL');
  assert.equal(entry.reason, undefined, 'no reason given: no reasonCode');
});

test('HTTP: PEM by path or Accept; ETag and Last-Modified answer 304; max-age never beyond propagation or nextUpdate; HEAD; wrong method and path refused', async () => {
  const der = await fetchCrl();
  const crl = parseCrl(der.body);
  const pem = await fetchCrl('/crl.pem');
  assert.equal(pem.status, 200);
  assert.equal(pem.headers.get('content-type'), 'application/x-pem-file');
  assert.match(Buffer.from(pem.body).toString(), /^-----BEGIN X509 CRL-----/);
  const accept = await fetchCrl('/crl', { accept: 'application/x-pem-file' });
  assert.equal(accept.headers.get('content-type'), 'application/x-pem-file');
  assert.equal(der.headers.get('cache-control'), 'public, max-age=1, no-transform');
  assert.equal(der.headers.get('last-modified'), crl.thisUpdate.toUTCString());
  const etag = der.headers.get('etag') ?? '';
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.equal((await fetchCrl('/crl', { 'if-none-match': etag })).status, 304);
  assert.equal((await fetchCrl('/crl', { 'if-modified-since': crl.thisUpdate.toUTCString() })).status, 304);
  assert.equal((await fetchCrl('/crl', { 'if-modified-since': new Date(crl.thisUpdate.getTime() - 1000).toUTCString() })).status, 200);
  const head = await fetch(`http://127.0.0.1:${httpPort}/crl`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(der.body.length));
  const post = await fetch(`http://127.0.0.1:${httpPort}/crl`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(((await post.json()) as { code: string }).code, 'ERR_HTTP_METHOD');
  // The plain listener serves the public revocation endpoints only.
  const sign = await fetch(`http://127.0.0.1:${httpPort}/sign`, { method: 'POST', body: '{}' });
  assert.equal(sign.status, 404);
  // Also on the HTTPS API.
  const https = await httpsRequest(ca, `${running.url}/crl`);
  assert.equal(https.status, 200);
});

test('the CRL is refreshed when due without revocations, and entries of expired certificates drop out', async () => {
  const short = await issue('short.crl.example.com', '+10m');
  await httpsRequest(ca, `${running.url}/revoke`, { cert: short.pem, key: short.key, body: { serial: short.serial, reason: 'superseded' } });
  await running.publishRevocations();
  assert.ok(parseCrl((await fetchCrl()).body).revoked.some((e) => e.serialHex === short.serial));
  t += 8 * 3_600_000 + 1000;
  const refreshed = await running.publishRevocations();
  assert.equal(refreshed.crl?.decision, 'refresh');
  const crl = parseCrl((await fetchCrl()).body);
  assert.ok(!crl.revoked.some((e) => e.serialHex === short.serial), 'an expired certificate is no longer listed');
  assert.equal(crl.thisUpdate.getTime(), Math.floor(t / 1000) * 1000);
});

test('replicas: two CAs on one database tick together; one signs, CRL numbers never repeat, both serve the newest', async () => {
  const second = await startTestCa(ca, { clock, httpPort: 0, revocationIntervalMs: 3_600_000 });
  try {
    const numbers: bigint[] = [];
    for (let round = 0; round < 5; round++) {
      const leaf = await issue(`replica-${round}.crl.example.com`);
      await httpsRequest(ca, `${running.url}/revoke`, { cert: leaf.pem, key: leaf.key, body: { serial: leaf.serial } });
      const runs = await Promise.all([running.publishRevocations(), second.publishRevocations()]);
      assert.equal(runs.filter((r) => r.ran).length, 1, 'one replica holds the lease');
      // Even when both sign at once (lease bypassed), the numbers differ.
      const both = await Promise.all([running.crl?.generate(), second.crl?.generate()]);
      numbers.push(...both.map((c) => c?.number ?? 0n));
      await Promise.all([running.publishRevocations(), second.publishRevocations()]);
      assert.equal(running.crl?.served()?.number, second.crl?.served()?.number);
    }
    assert.equal(new Set(numbers).size, numbers.length, `numbers ${numbers.join(',')} are unique`);
  } finally {
    await second.close();
  }
});

test('revocation.crl.enabled false: no CRL is signed and /crl is not found', async () => {
  mkdirSync(tmp.path('off-parent'));
  const off = await createTestCa({ parent: tmp.path('off-parent'), edit: (doc) => void (doc.revocation = { crl: { enabled: false } }) });
  const r = await startTestCa(off);
  try {
    assert.equal(r.crl, undefined);
    const reply = await httpsRequest(off, `${r.url}/crl`);
    assert.equal(reply.status, 404);
    assert.equal((await r.store.revocations.latestCrl(parseCertificate(decodePem(readFileSync(off.intermediateFile, 'latin1'), ['CERTIFICATE']).der).serialHex, 0, false)), undefined);
  } finally {
    await r.close();
  }
});

test('a CA that starts while another replica holds the CRL lease answers /crl with 503 ERR_CRL_NOT_READY and Retry-After until a CRL exists', async () => {
  mkdirSync(tmp.path('wait-parent'));
  const waiting = await createTestCa({ parent: tmp.path('wait-parent') });
  assert.equal(waiting.config.db.type, 'sqlite');
  const { openSqliteStore } = await import('../../src/store/sqlite.js');
  const store = await openSqliteStore((waiting.config.db as { path: string }).path, { clock: systemClock });
  assert.equal(await store.coordination.acquireLease('crl', 'another replica', new Date(), 3_600_000), true);
  await store.close();
  const r = await startTestCa(waiting);
  try {
    const reply = await httpsRequest(waiting, `${r.url}/crl`);
    assert.equal(reply.status, 503);
    assert.equal(reply.json?.code, 'ERR_CRL_NOT_READY');
    assert.equal(reply.headers['retry-after'], '1');
    assert.equal((await r.publishRevocations()).ran, false, 'the lease is not ours');
  } finally {
    await r.close();
  }
});

test('a revocation.httpAddress port in use: the CA does not start, ERR_ADDRESS_IN_USE names the field, nothing keeps listening', async () => {
  mkdirSync(tmp.path('busy-parent'));
  const busy = await createTestCa({ parent: tmp.path('busy-parent'), edit: (doc) => void (doc.revocation = { httpAddress: `127.0.0.1:${httpPort}` }) });
  await assert.rejects(startTestCa(busy), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'ERR_ADDRESS_IN_USE');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${httpPort}: the port is in use`));
    assert.match(e.hint ?? '', /revocation\.httpAddress/);
    return true;
  });
  // The running CA still answers on that port.
  assert.equal((await fetchCrl()).status, 200);
});
