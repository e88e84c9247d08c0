/**
 * The HTTPS edge against real clients: node:https, OpenSSL s_client (chain and host name
 * verified against the CA root) and curl; error bodies and statuses for every refusal the edge
 * itself makes (unknown path, wrong method, media type, size limit, malformed JSON, a bug).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { fixedClock, systemClock } from '../../src/core/clock.js';
import { encodePem } from '../../src/core/pem.js';
import { SignetError } from '../../src/core/errors.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { issueCertificate, issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { parseSubject } from '../../src/x509/name.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { createApiServer, httpStatusFor, type RequestRecord } from '../../src/server/http.js';
import { publicRoutes } from '../../src/server/public-routes.js';
import { issueServerIdentity } from '../../src/server/tls-identity.js';
import { tempDir, runAsync } from '../helpers/openssl.js';

const now = new Date();
const rootKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rootSigner = createSoftwareSigner(rootKeys.privateKey);
const root = issueCertificate(specFromProfile('root-ca', { subject: parseSubject('CN=HTTP Test Root'), publicKey: rootKeys.publicKey, now }), rootSigner);
const intKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const intermediate = issueCertificate(
  specFromProfile('intermediate-ca', { subject: parseSubject('CN=HTTP Test Intermediate'), publicKey: intKeys.publicKey, now }),
  rootSigner,
  issuerFromCertificate(root),
);
const issuer = { certificate: intermediate, signer: createSoftwareSigner(intKeys.privateKey) };
const rootPem = encodePem('CERTIFICATE', root);
const rootSha = createHash('sha256').update(root).digest('hex');

const tmp = tempDir();
const rootFile = tmp.path('root.pem');
writeFileSync(rootFile, rootPem);

const records: RequestRecord[] = [];
const internal: unknown[] = [];
let server: Server;
let port = 0;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', method, path, ca: rootPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function errorOf(r: Reply): { code: string; message: string } {
  assert.equal(r.headers['content-type'], 'application/json');
  const parsed = JSON.parse(r.body) as { code: string; message: string };
  assert.doesNotMatch(r.body, /\bat \S+ \(|\.ts:\d+|\.js:\d+/, 'no stack trace in an error body');
  return parsed;
}

before(async () => {
  const identity = issueServerIdentity(issuer, ['localhost', '127.0.0.1'], systemClock);
  server = createApiServer({
    tls: identity.context,
    routes: [
      ...publicRoutes(() => ({ roots: [root], intermediates: [intermediate] })),
      { method: 'POST', path: '/echo', handler: async (req) => ({ json: { got: await req.json(64) } }) },
      {
        method: 'POST',
        path: '/bug',
        handler: () => {
          throw new Error('secret detail that must not reach the client');
        },
      },
      {
        method: 'GET',
        path: '/refuse/:what',
        handler: (req) => {
          throw new SignetError('ERR_BAD_OPTION', `refused ${req.params.what ?? ''}`);
        },
      },
    ],
    onRequest: (r) => records.push(r),
    onInternalError: (e) => internal.push(e),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  tmp.cleanup();
});

test('GET /health, /version and a request id on every answer', async () => {
  const r = await call('GET', '/health');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  assert.match(String(r.headers['x-request-id']), /^[0-9a-f]{16}$/);
  assert.equal(r.headers['cache-control'], 'no-store');
  const v = await call('GET', '/version');
  assert.match((JSON.parse(v.body) as { version: string }).version, /^\d+\.\d+\.\d+/);
  const h = await call('HEAD', '/health');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  const rec = records.find((x) => x.id === r.headers['x-request-id']);
  assert.ok(rec && rec.status === 200 && rec.path === '/health');
});

test('roots and intermediates: JSON, PEM, and a root by fingerprint in any spelling', async () => {
  const roots = JSON.parse((await call('GET', '/roots')).body) as { crts: string[] };
  assert.deepEqual(roots.crts, [rootPem]);
  const pem = await call('GET', '/roots.pem');
  assert.equal(pem.headers['content-type'], 'application/pem-certificate-chain');
  assert.equal(pem.body, rootPem);
  const inter = JSON.parse((await call('GET', '/intermediates')).body) as { crts: string[] };
  assert.deepEqual(inter.crts, [encodePem('CERTIFICATE', intermediate)]);
  const colons = rootSha.toUpperCase().match(/../g)?.join(':') ?? '';
  const one = await call('GET', `/root/${colons}`);
  assert.equal(one.status, 200);
  assert.equal((JSON.parse(one.body) as { ca: string }).ca, rootPem);
  const unknown = await call('GET', `/root/${'ab'.repeat(32)}`);
  assert.equal(unknown.status, 404);
  assert.equal(errorOf(unknown).code, 'ERR_ROOT_NOT_FOUND');
  const bad = await call('GET', '/root/xyz');
  assert.equal(bad.status, 400);
  assert.equal(errorOf(bad).code, 'ERR_BAD_OPTION');
});

test('unknown path is 404, wrong method 405 with the allowed one in the hint', async () => {
  const r = await call('GET', '/nope');
  assert.equal(r.status, 404);
  assert.equal(errorOf(r).code, 'ERR_HTTP_NOT_FOUND');
  const m = await call('POST', '/health', '{}', { 'content-type': 'application/json' });
  assert.equal(m.status, 405);
  const e = JSON.parse(m.body) as { code: string; hint: string };
  assert.equal(e.code, 'ERR_HTTP_METHOD');
  assert.match(e.hint, /GET/);
});

test('JSON bodies: media type, size limit (declared and streamed), empty, malformed, duplicate keys', async () => {
  const ok = await call('POST', '/echo', '{"a":[1,"x"]}', { 'content-type': 'application/json; charset=utf-8' });
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { got: { a: [1, 'x'] } });

  const media = await call('POST', '/echo', '{}', { 'content-type': 'text/plain' });
  assert.equal(media.status, 415);
  assert.equal(errorOf(media).code, 'ERR_HTTP_MEDIA_TYPE');

  const big = await call('POST', '/echo', JSON.stringify({ a: 'x'.repeat(100) }), { 'content-type': 'application/json' });
  assert.equal(big.status, 413);
  assert.equal(errorOf(big).code, 'ERR_INPUT_TOO_LARGE');

  // Chunked (no Content-Length): the limit applies while streaming.
  const chunked = await new Promise<Reply>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: 'localhost', method: 'POST', path: '/echo', ca: rootPem, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write('          ');
    req.end('{}');
  });
  assert.equal(chunked.status, 413);

  const empty = await call('POST', '/echo', '', { 'content-type': 'application/json' });
  assert.equal(empty.status, 400);
  assert.equal(errorOf(empty).code, 'ERR_INPUT_EMPTY');

  const malformed = await call('POST', '/echo', '{"a":', { 'content-type': 'application/json' });
  assert.equal(malformed.status, 400);
  assert.equal(errorOf(malformed).code, 'ERR_JSON_MALFORMED');

  const dup = await call('POST', '/echo', '{"a":1,"a":2}', { 'content-type': 'application/json' });
  assert.equal(dup.status, 400);
  assert.equal(errorOf(dup).code, 'ERR_JSON_MALFORMED');
});

test('a handler bug is ERR_INTERNAL 500 with no detail; a SignetError keeps its code', async () => {
  const r = await call('POST', '/bug');
  assert.equal(r.status, 500);
  const e = errorOf(r);
  assert.equal(e.code, 'ERR_INTERNAL');
  assert.doesNotMatch(r.body, /secret detail/);
  assert.equal(internal.length, 1);
  const refused = await call('GET', '/refuse/this');
  assert.equal(refused.status, 400);
  assert.deepEqual(errorOf(refused), { code: 'ERR_BAD_OPTION', message: 'refused this' });
});

test('OpenSSL s_client verifies the served chain and host name against the root', async () => {
  const r = await runAsync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', rootFile, '-verify_return_error', '-verify_hostname', 'localhost', '-showcerts'], 'Q\n');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
  // leaf + intermediate are served (the root is not).
  assert.equal(r.stdout.match(/BEGIN CERTIFICATE/g)?.length, 2);
  const wrongHost = await runAsync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-CAfile', rootFile, '-verify_return_error', '-verify_hostname', 'other.example'], 'Q\n');
  assert.notEqual(wrongHost.code, 0);
});

test('curl fetches /roots.pem over a verified connection (IP SAN)', async () => {
  const r = await runAsync('curl', ['-sS', '--fail', '--cacert', rootFile, `https://127.0.0.1:${port}/roots.pem`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, rootPem);
});

test('the server identity renews into a new certificate that new connections get', async () => {
  const first = issueServerIdentity(issuer, ['localhost'], fixedClock(now));
  assert.equal(first.renewAt.getTime() - first.notBefore.getTime(), Math.round(((first.notAfter.getTime() - first.notBefore.getTime()) * 2) / 3));
  const next = issueServerIdentity(issuer, ['localhost', '127.0.0.1'], systemClock);
  server.setSecureContext(next.context);
  const served = await new Promise<Buffer>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: rootPem }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(raw);
    });
    s.on('error', reject);
  });
  assert.deepEqual(new Uint8Array(served), next.certificate);
  const x = new X509Certificate(served);
  assert.ok(x.checkIssued(new X509Certificate(intermediate)));
});

test('status mapping follows the code families', () => {
  assert.equal(httpStatusFor('ERR_INPUT_TOO_LARGE'), 413);
  assert.equal(httpStatusFor('ERR_JSON_MALFORMED'), 400);
  assert.equal(httpStatusFor('ERR_FILE_NOT_FOUND'), 404);
  assert.equal(httpStatusFor('ERR_INTERNAL'), 500);
  assert.equal(httpStatusFor('ERR_TLS_CONNECT'), 502);
});
