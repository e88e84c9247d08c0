/**
 * A certificate's life on a real CA over HTTPS: renew over mTLS (node:https, curl --cert, openssl
 * s_client), rekey, revoke (mTLS and token), renewal after expiry with a renewal token within the
 * grace period, and every refusal on the way — no credential, a foreign or expired certificate, a
 * replaced or revoked one — each with its code and without an inventory row.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { decodePem, encodePem } from '../../src/core/pem.js';
import type { Clock } from '../../src/core/clock.js';
import type { RunningCa } from '../../src/ca/runtime.js';
import { mintRenewalToken } from '../../src/ca/token.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { issueCertificate } from '../../src/x509/certificate-builder.js';
import { parseSubject } from '../../src/x509/name.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type HttpsReply, type TestCa } from '../helpers/ca.js';
import { openssl, tempDir, runAsync } from '../helpers/openssl.js';

const tmp = tempDir('signet-ca-lifecycle-');
/** The CA's clock: real time plus an offset the tests move forward to expire certificates. */
let offsetMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
let ca: TestCa;
let running: RunningCa;

before(async () => {
  ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      const provisioners = doc.provisioners as Record<string, unknown>[];
      const admin = provisioners[0] ?? {};
      admin.claims = { allowRenewalAfterExpiry: true, renewalGracePeriod: '1h', minLifetime: '5m' };
    },
  });
  running = await startTestCa(ca, { clock });
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

interface Issued {
  readonly serial: string;
  readonly crt: string;
  readonly key: KeyObject;
  readonly keyPem: string;
}

async function issue(name: string, notAfter?: string): Promise<Issued> {
  const csr = testCsr(name, [name]);
  const ott = await testToken(ca, running, { subject: name }, clock);
  const r = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: csr.pem, ott, ...(notAfter ? { notAfter } : {}) } });
  assert.equal(r.status, 201, r.text);
  return { serial: r.json?.serial as string, crt: r.json?.crt as string, key: csr.key, keyPem: csr.key.export({ format: 'pem', type: 'pkcs8' }) as string };
}

function post(path: string, o: { cert?: Issued; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpsReply> {
  return httpsRequest(ca, `${running.url}${path}`, {
    method: 'POST',
    ...(o.body !== undefined ? { body: o.body } : {}),
    ...(o.cert ? { cert: o.cert.crt, key: o.cert.keyPem } : {}),
    ...(o.headers ? { headers: o.headers } : {}),
  });
}

function refused(r: HttpsReply, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.code, code, r.text);
}

function spki(pem: string): string {
  return createHash('sha256').update(parseCertificate(decodePem(pem, ['CERTIFICATE']).der).spki).digest('hex');
}

async function inventorySize(): Promise<number> {
  return (await running.store.certificates.list({}, { limit: 1000 })).items.length;
}

test('renew over mTLS: a new serial for the same key and names, chained in the inventory; the old one renews no more', async () => {
  const first = await issue('renew.example.com');
  const r = await post('/renew', { cert: first });
  assert.equal(r.status, 201, r.text);
  const renewed = r.json?.crt as string;
  assert.notEqual(r.json?.serial, first.serial);
  assert.equal(spki(renewed), spki(first.crt), 'the key is kept');
  writeFileSync(tmp.path('renewed.crt'), renewed);
  writeFileSync(tmp.path('inter.pem'), r.json?.ca as string);
  const v = openssl(['verify', '-CAfile', ca.rootFile, '-untrusted', tmp.path('inter.pem'), tmp.path('renewed.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(openssl(['x509', '-in', tmp.path('renewed.crt'), '-noout', '-ext', 'subjectAltName']).stdout, /DNS:renew\.example\.com/);

  const oldRecord = await running.store.certificates.get(first.serial);
  const newRecord = await running.store.certificates.get(r.json?.serial as string);
  assert.equal(oldRecord?.replacedBy, newRecord?.serial);
  assert.equal(newRecord?.replaces, first.serial);
  assert.equal(newRecord?.requester, 'renew.example.com');
  // The lifetime it had (certificate times are whole seconds).
  assert.ok(Math.abs((newRecord?.notAfter.getTime() ?? 0) - (newRecord?.issuedAt.getTime() ?? 0) - 24 * 3600_000) < 2000);
  const events = await running.store.audit.list({ serial: newRecord?.serial ?? '' });
  assert.equal(events[0]?.type, 'certificate.renew');

  refused(await post('/renew', { cert: first }), 409, 'ERR_CERT_REPLACED');

  // Concurrent renewals of one certificate cannot fork it: exactly one succeeds.
  const second = await issue('fork.example.com');
  const replies = await Promise.all(Array.from({ length: 4 }, () => post('/renew', { cert: second })));
  assert.deepEqual(replies.map((x) => x.status).sort(), [201, 409, 409, 409]);
  const successors = (await running.store.certificates.list({ name: 'fork.example.com' })).items.filter((c) => c.replaces === second.serial);
  assert.equal(successors.length, 1);
});

test('renew with curl --cert and with openssl s_client, as operators do by hand', async () => {
  const a = await issue('curl.example.com');
  writeFileSync(tmp.path('curl.crt'), a.crt);
  writeFileSync(tmp.path('curl.key'), a.keyPem, { mode: 0o600 });
  const c = await runAsync('curl', ['-sS', '--cacert', ca.rootFile, '--cert', tmp.path('curl.crt'), '--key', tmp.path('curl.key'), '-X', 'POST', `${running.url}/renew`]);
  assert.equal(c.code, 0, c.stderr);
  const body = JSON.parse(c.stdout) as { serial: string; crt: string };
  assert.equal(spki(body.crt), spki(a.crt));

  const b = await issue('sclient.example.com');
  writeFileSync(tmp.path('s.crt'), b.crt);
  writeFileSync(tmp.path('s.key'), b.keyPem, { mode: 0o600 });
  const host = new URL(running.url);
  const request = `POST /renew HTTP/1.1\r\nHost: ${host.host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
  const s = await runAsync(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${running.port}`, '-servername', 'localhost', '-CAfile', ca.rootFile, '-verify_return_error', '-cert', tmp.path('s.crt'), '-key', tmp.path('s.key'), '-quiet', '-ign_eof'],
    request,
  );
  assert.match(s.stdout, /^HTTP\/1\.1 201 /m, s.stdout + s.stderr);
  assert.match(s.stdout, /"serial":"[0-9a-f]+"/);
});

test('renew refusals: no credential, a foreign certificate, a tampered one, an expired one over mTLS', async () => {
  const before = await inventorySize();
  refused(await post('/renew'), 401, 'ERR_AUTH_REQUIRED');
  refused(await post('/renew', { headers: { authorization: 'Basic abc' } }), 401, 'ERR_AUTH_REQUIRED');

  // The same names and serial, but signed by another CA: the bytes are not this CA's.
  const mine = await issue('foreign.example.com');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const genuine = parseCertificate(decodePem(mine.crt, ['CERTIFICATE']).der);
  const forged = issueCertificate(
    {
      ...specFromProfile('leaf', { subject: parseSubject('CN=foreign.example.com'), publicKey: createPublicKey(mine.key), now: new Date(), sans: [{ type: 'dns', value: 'foreign.example.com' }] }),
      serialNumber: genuine.serialNumber,
    },
    createSoftwareSigner(other.privateKey),
    { name: genuine.issuer.der },
  );
  refused(await post('/renew', { cert: { ...mine, crt: encodePem('CERTIFICATE', forged) } }), 401, 'ERR_AUTH_CERTIFICATE');

  // Expired (by the CA's clock): mTLS no longer authenticates it.
  const short = await issue('expired.example.com', '+5m');
  offsetMs = 10 * 60_000;
  try {
    const r = await post('/renew', { cert: short });
    refused(r, 401, 'ERR_AUTH_CERTIFICATE');
    assert.match(r.json?.hint as string, /renewal token/);
  } finally {
    offsetMs = 0;
  }
  assert.equal(await inventorySize(), before + 2, 'only the two certificates issued here');
});

test('after expiry, a renewal token signed by the certificate key renews it within the grace period, once', async () => {
  const short = await issue('grace.example.com', '+5m');
  const der = decodePem(short.crt, ['CERTIFICATE']).der;
  offsetMs = 10 * 60_000;
  try {
    const token = await mintRenewalToken({ certificate: der, key: short.key, serial: short.serial, audience: `${running.url}/renew`, now: clock.now() });
    const r = await post('/renew', { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 201, r.text);
    assert.equal(spki(r.json?.crt as string), spki(short.crt));
    // Used again: the certificate it names has been replaced (and its jti is spent).
    refused(await post('/renew', { headers: { authorization: `Bearer ${token}` } }), 409, 'ERR_CERT_REPLACED');

    // A token for another serial, for another endpoint, signed by another key.
    const other = await issue('grace2.example.com', '+5m');
    const otherDer = decodePem(other.crt, ['CERTIFICATE']).der;
    refused(
      await post('/renew', { headers: { authorization: `Bearer ${await mintRenewalToken({ certificate: otherDer, key: other.key, serial: short.serial, audience: `${running.url}/renew`, now: clock.now() })}` } }),
      401,
      'ERR_TOKEN_SUBJECT',
    );
    refused(
      await post('/renew', { headers: { authorization: `Bearer ${await mintRenewalToken({ certificate: otherDer, key: other.key, serial: other.serial, audience: `${running.url}/sign`, now: clock.now() })}` } }),
      401,
      'ERR_TOKEN_AUDIENCE',
    );
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    refused(
      await post('/renew', { headers: { authorization: `Bearer ${await mintRenewalToken({ certificate: otherDer, key: stranger, serial: other.serial, audience: `${running.url}/renew`, now: clock.now() })}` } }),
      401,
      'ERR_TOKEN_SIGNATURE',
    );
    // Beyond the grace period (1 h after expiry).
    offsetMs = 2 * 3600_000;
    refused(
      await post('/renew', { headers: { authorization: `Bearer ${await mintRenewalToken({ certificate: otherDer, key: other.key, serial: other.serial, audience: `${running.url}/renew`, now: clock.now() })}` } }),
      403,
      'ERR_RENEWAL_NOT_ALLOWED',
    );
  } finally {
    offsetMs = 0;
  }
});

test('rekey over mTLS: a new key for the same names; the same key, other names or no certificate are refused', async () => {
  const first = await issue('rekey.example.com');
  const before = await inventorySize();
  refused(await post('/rekey', { body: { csr: testCsr('rekey.example.com', ['rekey.example.com']).pem } }), 401, 'ERR_AUTH_REQUIRED');
  refused(await post('/rekey', { cert: first, body: { csr: testCsr('rekey.example.com', ['other.example.com']).pem } }), 403, 'ERR_FORBIDDEN_NAMES');
  // A CSR for the current key.
  const { buildCsr } = await import('../../src/x509/csr.js');
  const sameKey = buildCsr({ subject: parseSubject('CN=rekey.example.com'), extensions: { subjectAltName: { names: [{ type: 'dns', value: 'rekey.example.com' }] } } }, createSoftwareSigner(first.key));
  refused(await post('/rekey', { cert: first, body: { csr: encodePem('CERTIFICATE REQUEST', sameKey) } }), 400, 'ERR_REKEY_SAME_KEY');
  refused(await post('/rekey', { cert: first, body: { csr: 'nope' } }), 400, 'ERR_PEM_MALFORMED');
  refused(await post('/rekey', { cert: first, body: { csr: testCsr('rekey.example.com', ['rekey.example.com']).pem, extra: true } }), 400, 'ERR_REQUEST_INVALID');
  assert.equal(await inventorySize(), before);

  const fresh = testCsr('rekey.example.com', ['rekey.example.com'], 'Ed25519');
  const r = await post('/rekey', { cert: first, body: { csr: fresh.pem } });
  assert.equal(r.status, 201, r.text);
  assert.equal(spki(r.json?.crt as string), createHash('sha256').update(createPublicKey(fresh.key).export({ format: 'der', type: 'spki' })).digest('hex'), 'the new key');
  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.equal(record?.keyType, 'Ed25519');
  assert.equal(record?.replaces, first.serial);
  assert.equal((await running.store.certificates.get(first.serial))?.replacedBy, record?.serial);
  refused(await post('/rekey', { cert: first, body: { csr: testCsr('rekey.example.com', ['rekey.example.com']).pem } }), 409, 'ERR_CERT_REPLACED');
});

test('revoke: by the holder over mTLS, by a token whose subject is the serial; idempotent; then no renew or rekey', async () => {
  const a = await issue('revoke-a.example.com');
  const r = await post('/revoke', { cert: a, body: { serial: a.serial, reason: 'keyCompromise' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json?.status, 'revoked');
  assert.equal(r.json?.reason, 'keyCompromise');
  const record = await running.store.certificates.get(a.serial);
  assert.equal(record?.status, 'revoked');
  assert.equal(record?.revocationReason, 'keyCompromise');
  refused(await post('/renew', { cert: a }), 403, 'ERR_CERT_REVOKED');
  refused(await post('/rekey', { cert: a, body: { csr: testCsr('revoke-a.example.com', ['revoke-a.example.com']).pem } }), 403, 'ERR_CERT_REVOKED');

  // Again, with a token and another reason: the first revocation stands.
  const colons = a.serial.toUpperCase().match(/../g)?.join(':') ?? '';
  const again = await post('/revoke', { body: { serial: colons, reason: 'superseded', ott: await testToken(ca, running, { subject: a.serial, sans: [], path: '/revoke' }, clock) } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.revokedAt, r.json?.revokedAt);
  assert.equal(again.json?.reason, 'keyCompromise');

  const b = await issue('revoke-b.example.com');
  refused(await post('/revoke', { cert: a, body: { serial: b.serial } }), 401, 'ERR_AUTH_CERTIFICATE');
  refused(await post('/revoke', { body: { serial: b.serial } }), 401, 'ERR_AUTH_REQUIRED');
  refused(await post('/revoke', { body: { serial: b.serial, ott: await testToken(ca, running, { subject: a.serial, sans: [], path: '/revoke' }, clock) } }), 401, 'ERR_TOKEN_SUBJECT');
  refused(await post('/revoke', { body: { serial: b.serial, ott: await testToken(ca, running, { subject: b.serial, sans: [], path: '/sign' }, clock) } }), 401, 'ERR_TOKEN_AUDIENCE');
  refused(await post('/revoke', { cert: b, body: { serial: b.serial, reason: 'becauseISaidSo' } }), 400, 'ERR_REQUEST_INVALID');
  refused(await post('/revoke', { cert: b, body: { serial: 'xyz' } }), 400, 'ERR_REQUEST_INVALID');
  refused(await post('/revoke', { body: { serial: 'ab'.repeat(16), ott: await testToken(ca, running, { subject: 'ab'.repeat(16), sans: [], path: '/revoke' }, clock) } }), 404, 'ERR_CERT_NOT_FOUND');
  assert.equal((await running.store.certificates.get(b.serial))?.status, 'valid', 'refusals revoke nothing');
  const ott = await testToken(ca, running, { subject: b.serial, sans: [], path: '/revoke' }, clock);
  const ok = await post('/revoke', { body: { serial: b.serial, ott } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json?.reason, undefined);
  refused(await post('/revoke', { body: { serial: b.serial, ott } }), 401, 'ERR_TOKEN_REPLAYED');
  const events = await running.store.audit.list({ serial: b.serial, type: 'certificate.revoke' });
  assert.ok(events.some((e) => e.outcome === 'success'));
});
