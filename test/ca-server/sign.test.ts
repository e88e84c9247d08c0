/**
 * POST /sign on a real CA (made by `ca init`, started in-process, driven over HTTPS): an issued
 * certificate verifies with OpenSSL and is in the inventory with its audit event; every refusal
 * the issue names has its status and code, and none leaves an inventory row or uses up the token.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { decodePem } from '../../src/core/pem.js';
import type { RunningCa } from '../../src/ca/runtime.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { serialHex } from '../../src/store/validation.js';
import { createTestCa, httpsRequest, jwkProvisioner, startTestCa, testCsr, testToken, type HttpsReply, type TestCa } from '../helpers/ca.js';
import { openssl, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ca-sign-');
const edKeys = generateKeyPairSync('ed25519');
const lintKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
// A provisioner template that asks for keyCertSign in a leaf: the lint refuses what it would build.
writeFileSync(tmp.path('bad-leaf.json'), JSON.stringify({ subject: { commonName: '{{ .Subject.commonName }}' }, sans: '{{ .SANs }}', keyUsage: ['digitalSignature', 'keyCertSign'], basicConstraints: { isCA: false } }));
let ca: TestCa;
let running: RunningCa;

before(async () => {
  ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      doc.policy = { deny: { dns: ['*.forbidden.example'] } };
      const provisioners = doc.provisioners as Record<string, unknown>[];
      provisioners.push({
        type: 'JWK',
        name: 'ed-only',
        publicKey: edKeys.publicKey.export({ format: 'jwk' }),
        claims: { keyTypes: ['Ed25519'], maxLifetime: '1h', defaultLifetime: '1h' },
      });
      provisioners.push({ type: 'JWK', name: 'lint-bad', publicKey: lintKeys.publicKey.export({ format: 'jwk' }), template: tmp.path('bad-leaf.json') });
    },
  });
  running = await startTestCa(ca);
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

function sign(body: unknown, headers?: Record<string, string>): Promise<HttpsReply> {
  return httpsRequest(ca, `${running.url}/sign`, { body, ...(headers ? { headers } : {}) });
}

function refused(r: HttpsReply, status: number, code: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.code, code, r.text);
  assert.equal(typeof r.json?.message, 'string');
  assert.doesNotMatch(r.text, /\n\s+at |node_modules|\.js:\d+/, 'no stack trace or internals');
}

async function inventorySize(): Promise<number> {
  return (await running.store.certificates.list({}, { limit: 1000 })).items.length;
}

/** A compact JWS with any header, signed (or not) by `sign`. */
function handmade(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => Buffer): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${sign(`${h}.${p}`).toString('base64url')}`;
}

function claims(sub: string): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: 'admin', sub, aud: `${running.url}/sign`, sans: [sub], sha: ca.rootFingerprint, iat, nbf: iat, exp: iat + 300, jti: `hand-${Math.random()}` };
}

test('a CSR and a token give a certificate that OpenSSL verifies, recorded in the inventory with its audit event', async () => {
  const csr = testCsr('web.example.com', ['web.example.com', '10.1.2.3']);
  const ott = await testToken(ca, running, { subject: 'web.example.com', sans: ['web.example.com', '10.1.2.3'] });
  const r = await sign({ csr: csr.pem, ott });
  assert.equal(r.status, 201, r.text);
  const crt = r.json?.crt as string;
  const chain = r.json?.certChain as string[];
  assert.equal(chain.length, 2);
  assert.equal(chain[0], crt);
  assert.equal(r.json?.ca, chain[1]);
  writeFileSync(tmp.path('web.crt'), crt);
  writeFileSync(tmp.path('chain.pem'), chain[1] ?? '');
  const v = openssl(['verify', '-CAfile', ca.rootFile, '-untrusted', tmp.path('chain.pem'), '-purpose', 'sslserver', tmp.path('web.crt')]);
  assert.equal(v.status, 0, v.stderr + v.stdout);
  const text = openssl(['x509', '-in', tmp.path('web.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject']).stdout;
  assert.match(text, /DNS:web\.example\.com, IP Address:10\.1\.2\.3/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /subject=CN\s*=\s*web\.example\.com/);

  const cert = parseCertificate(decodePem(crt, ['CERTIFICATE']).der);
  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.ok(record, 'the certificate is in the inventory');
  assert.equal(record.provisioner, 'admin');
  assert.equal(record.requester, 'web.example.com');
  assert.equal(record.status, 'valid');
  assert.deepEqual(record.names, [
    { type: 'cn', value: 'web.example.com' },
    { type: 'dns', value: 'web.example.com' },
    { type: 'ip', value: '10.1.2.3' },
  ]);
  assert.equal(record.keyFingerprint, createHash('sha256').update(cert.spki).digest('hex'));
  assert.deepEqual(Buffer.from(record.der), Buffer.from(cert.der));
  // The record is made from the TBS as lint parsed it: exactly what the signed certificate says.
  assert.equal(record.serial, serialHex(cert.serialNumber));
  assert.equal(record.subject, cert.subject.text);
  assert.equal(record.notBefore.getTime(), cert.notBefore.getTime());
  assert.equal(record.notAfter.getTime(), cert.notAfter.getTime());
  assert.equal(record.notBefore.getTime() % 1000, 0, 'whole seconds, as in the DER');
  assert.equal(record.keyType, 'EC P-256');
  // The default lifetime (24 h), backdated by a minute.
  assert.equal(record.notAfter.getTime() - record.notBefore.getTime(), 24 * 3600_000 + 60_000);
  const events = await running.store.audit.list({ serial: record.serial });
  assert.equal(events.length, 1);
  assert.equal(events[0]?.type, 'certificate.sign');
  assert.equal(events[0]?.outcome, 'success');
  assert.doesNotMatch(JSON.stringify(events), /eyJ/, 'no token in the audit log');
});

test('Ed25519 and RSA keys; a chosen validity inside the bounds; the ed-only provisioner', async () => {
  for (const type of ['Ed25519', 'RSA'] as const) {
    const csr = testCsr(`${type.toLowerCase()}.example.com`, [`${type.toLowerCase()}.example.com`], type);
    const ott = await testToken(ca, running, { subject: `${type.toLowerCase()}.example.com` });
    const r = await sign({ csr: csr.pem, ott, notAfter: '+2h' });
    assert.equal(r.status, 201, r.text);
    const cert = parseCertificate(decodePem(r.json?.crt as string, ['CERTIFICATE']).der);
    assert.ok(Math.abs(cert.notAfter.getTime() - Date.now() - 2 * 3600_000) < 60_000);
  }
  const csr = testCsr(undefined, ['ed.example.com'], 'Ed25519');
  const ott = await testToken(ca, running, { subject: 'ed.example.com', key: edKeys.privateKey, issuer: 'ed-only' });
  const r = await sign({ csr: csr.pem, ott });
  assert.equal(r.status, 201, r.text);
  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.equal(record?.provisioner, 'ed-only');
  assert.equal(record.notAfter.getTime() - record.notBefore.getTime(), 3600_000 + 60_000);
});

test('a token is accepted once: a replay is refused, and of two concurrent uses exactly one succeeds', async () => {
  const ott = await testToken(ca, running, { subject: 'once.example.com' });
  const first = await sign({ csr: testCsr('once.example.com', ['once.example.com']).pem, ott });
  assert.equal(first.status, 201);
  refused(await sign({ csr: testCsr('once.example.com', ['once.example.com']).pem, ott }), 401, 'ERR_TOKEN_REPLAYED');

  const before = await inventorySize();
  for (let round = 0; round < 3; round++) {
    const shared = await testToken(ca, running, { subject: 'race.example.com' });
    const replies = await Promise.all(Array.from({ length: 4 }, () => sign({ csr: testCsr('race.example.com', ['race.example.com']).pem, ott: shared })));
    assert.deepEqual(replies.map((r) => r.status).sort(), [201, 401, 401, 401]);
    for (const r of replies.filter((x) => x.status !== 201)) assert.equal(r.json?.code, 'ERR_TOKEN_REPLAYED');
  }
  assert.equal(await inventorySize(), before + 3);
});

test('every refusal has its status and code, leaves no inventory row, and does not use up a valid token', async () => {
  const before = await inventorySize();
  const csrFor = (name: string): string => testCsr(name, [name]).pem;
  const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = jwkProvisioner(ca.config.provisioners[0]).kid;
  const adminPublic: KeyObject = jwkProvisioner(ca.config.provisioners[0]).publicKey;
  const hour = 3600_000;

  // token problems (401)
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', now: new Date(Date.now() - 2 * hour) }) }), 401, 'ERR_TOKEN_EXPIRED');
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', now: new Date(Date.now() + hour) }) }), 401, 'ERR_TOKEN_NOT_YET_VALID');
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', baseUrl: 'https://other.example:9443' }) }), 401, 'ERR_TOKEN_AUDIENCE');
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', path: '/revoke' }) }), 401, 'ERR_TOKEN_AUDIENCE');
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', rootFingerprint: 'ab'.repeat(32) }) }), 401, 'ERR_TOKEN_AUDIENCE');
  refused(await sign({ csr: csrFor('a.example.com'), ott: handmade({ alg: 'none', typ: 'JWT' }, claims('a.example.com'), () => Buffer.alloc(0)) }), 401, 'ERR_TOKEN_ALGORITHM');
  const hmacKey = adminPublic.export({ format: 'pem', type: 'spki' });
  refused(
    await sign({ csr: csrFor('a.example.com'), ott: handmade({ alg: 'HS256', kid, typ: 'JWT' }, claims('a.example.com'), (i) => createHmac('sha256', hmacKey).update(i).digest()) }),
    401,
    'ERR_TOKEN_ALGORITHM',
  );
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', key: foreign.privateKey, kid }) }), 401, 'ERR_TOKEN_SIGNATURE');
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', issuer: 'nobody' }) }), 401, 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  refused(await sign({ csr: csrFor('a.example.com'), ott: 'not.a.token' }), 401, 'ERR_TOKEN_MALFORMED');

  // the CSR against the token (403), the claims (400/403), policy (403), lint (400)
  refused(await sign({ csr: testCsr('a.example.com', ['a.example.com', 'b.example.com']).pem, ott: await testToken(ca, running, { subject: 'a.example.com' }) }), 403, 'ERR_FORBIDDEN_NAMES');
  refused(await sign({ csr: testCsr('a.example.com', []).pem, ott: await testToken(ca, running, { subject: 'a.example.com' }) }), 403, 'ERR_FORBIDDEN_NAMES');
  refused(await sign({ csr: testCsr('evil.example.com', ['a.example.com']).pem, ott: await testToken(ca, running, { subject: 'a.example.com' }) }), 403, 'ERR_FORBIDDEN_NAMES');
  const bound = testCsr('a.example.com', ['a.example.com']);
  refused(await sign({ csr: csrFor('a.example.com'), ott: await testToken(ca, running, { subject: 'a.example.com', csrFingerprint: createHash('sha256').update(bound.der).digest('hex') }) }), 403, 'ERR_FORBIDDEN_CSR');
  refused(await sign({ csr: csrFor('ed.example.com'), ott: await testToken(ca, running, { subject: 'ed.example.com', key: edKeys.privateKey, issuer: 'ed-only' }) }), 403, 'ERR_FORBIDDEN_KEY_TYPE');
  refused(await sign({ csr: csrFor('x.forbidden.example'), ott: await testToken(ca, running, { subject: 'x.forbidden.example' }) }), 403, 'ERR_POLICY_DENIED');
  const lintOtt = (): Promise<string> => testToken(ca, running, { subject: 'lint.example.com', key: lintKeys.privateKey, issuer: 'lint-bad' });
  const lint = await sign({ csr: csrFor('lint.example.com'), ott: await lintOtt() });
  refused(lint, 400, 'ERR_LINT_FAILED');
  assert.match(lint.json?.message as string, /e_key_cert_sign_without_ca/, 'the lint rule is named');
  // A template that cannot hold the request is refused before anything is built.
  refused(await sign({ csr: testCsr(undefined, ['long.example.com']).pem, ott: await testToken(ca, running, { subject: 'l'.repeat(70), sans: ['long.example.com'] }) }), 400, 'ERR_TEMPLATE_INVALID');

  refused(await sign({ csr: testCsr(undefined, ['esc.example.com']).pem, ott: await testToken(ca, running, { subject: '\u001b[31mred', sans: ['esc.example.com'] }) }), 403, 'ERR_FORBIDDEN_NAMES');
  refused(await sign({ csr: testCsr(undefined, ['bidi.example.com']).pem, ott: await testToken(ca, running, { subject: 'moc.elpmaxe\u202e', sans: ['bidi.example.com'] }) }), 403, 'ERR_FORBIDDEN_NAMES');

  // one valid token, refused for its body again and again, then accepted: refusals do not use it up
  const ott = await testToken(ca, running, { subject: 'kept.example.com' });
  const csr = csrFor('kept.example.com');
  refused(await sign({ csr, ott, notAfter: '+48h' }), 400, 'ERR_LIFETIME_OUT_OF_BOUNDS');
  refused(await sign({ csr, ott, notAfter: '+1m' }), 400, 'ERR_LIFETIME_OUT_OF_BOUNDS');
  refused(await sign({ csr, ott, notAfter: '+3650d' }), 400, 'ERR_LIFETIME_OUT_OF_BOUNDS');
  refused(await sign({ csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', ott }), 400, 'ERR_CSR_MALFORMED');
  refused(await sign({ csr: 'hello', ott }), 400, 'ERR_PEM_MALFORMED');
  const tampered = testCsr('kept.example.com', ['kept.example.com']);
  const bytes = Buffer.from(tampered.der);
  bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0x01;
  refused(await sign({ csr: `-----BEGIN CERTIFICATE REQUEST-----\n${bytes.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, ott }), 400, 'ERR_CSR_SIGNATURE_INVALID');
  refused(await sign('{"csr": "x", "ott": ', { 'content-type': 'application/json' }), 400, 'ERR_JSON_MALFORMED');
  refused(await sign(`{"csr": ${JSON.stringify(csr)}, "ott": ${JSON.stringify(ott)}, "ott": "x"}`, { 'content-type': 'application/json' }), 400, 'ERR_JSON_MALFORMED');
  refused(await sign('', { 'content-type': 'application/json' }), 400, 'ERR_INPUT_EMPTY');
  refused(await sign({ csr, ott, extra: 1 }), 400, 'ERR_REQUEST_INVALID');
  refused(await sign({ csr, ott: 42 }), 400, 'ERR_REQUEST_INVALID');
  refused(await sign({ csr }), 400, 'ERR_REQUEST_INVALID');
  refused(await sign([csr, ott]), 400, 'ERR_REQUEST_INVALID');
  refused(await sign({ csr, ott, notAfter: 'tomorrow-ish' }), 400, 'ERR_BAD_TIME');
  refused(await sign({ csr, ott: ott + 'x'.repeat(100 * 1024) }), 413, 'ERR_INPUT_TOO_LARGE');
  refused(await httpsRequest(ca, `${running.url}/sign`, { body: JSON.stringify({ csr, ott }), headers: { 'content-type': 'text/plain' } }), 415, 'ERR_HTTP_MEDIA_TYPE');
  refused(await httpsRequest(ca, `${running.url}/sign`, { method: 'GET' }), 405, 'ERR_HTTP_METHOD');

  assert.equal(await inventorySize(), before, 'no refusal left an inventory row');
  const ok = await sign({ csr, ott });
  assert.equal(ok.status, 201, ok.text);
  const failures = await running.store.audit.list({ type: 'certificate.sign', limit: 1000 });
  for (const code of ['ERR_TOKEN_EXPIRED', 'ERR_POLICY_DENIED', 'ERR_FORBIDDEN_NAMES', 'ERR_LIFETIME_OUT_OF_BOUNDS', 'ERR_LINT_FAILED']) {
    assert.ok(failures.some((e) => e.outcome === 'failure' && e.reason === code), `a refusal for ${code} is audited`);
  }
});

test('public endpoints: roots by fingerprint, intermediates, provisioners without any secret, health', async () => {
  const root = await httpsRequest(ca, `${running.url}/root/${ca.rootFingerprint.toUpperCase()}`);
  assert.equal(root.json?.ca, ca.rootPem);
  const roots = await httpsRequest(ca, `${running.url}/roots`);
  assert.deepEqual(roots.json?.crts, [ca.rootPem]);
  const provs = await httpsRequest(ca, `${running.url}/provisioners`);
  const list = provs.json?.provisioners as { name: string; type: string; key: Record<string, unknown>; claims: Record<string, unknown> }[];
  assert.deepEqual(
    list.map((p) => p.name),
    ['admin', 'ed-only', 'lint-bad'],
  );
  for (const p of list) {
    assert.equal(p.type, 'JWK');
    assert.equal(p.key.d, undefined, 'no private key member');
    assert.deepEqual(Object.keys(p.key).filter((k) => !['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg'].includes(k)), []);
  }
  assert.doesNotMatch(provs.text, /password|encrypted|BEGIN/i);
  assert.equal(list[1]?.claims.maxLifetime, '1h');
  const health = await httpsRequest(ca, `${running.url}/health`);
  assert.deepEqual(health.json, { status: 'ok' });
});

test('GET /metrics: outcomes by provisioner and code, request latency by route pattern, the expiry of the CA certificates', async () => {
  const r = await httpsRequest(ca, `${running.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const value = (line: RegExp): number => {
    const m = r.text.split('\n').find((l) => line.test(l));
    assert.ok(m, `metrics have ${line}`);
    return Number(m.split(' ').at(-1));
  };
  const signed = (await running.store.audit.list({ type: 'certificate.sign', limit: 1000 })).filter((e) => e.outcome === 'success' && e.provisioner === 'admin').length;
  assert.equal(value(/^signet_authority_requests_total\{operation="sign",provisioner="admin",outcome="success",code=""\}/), signed);
  assert.ok(value(/^signet_authority_requests_total\{operation="sign",provisioner="admin",outcome="failure",code="ERR_POLICY_DENIED"\}/) >= 1);
  assert.ok(value(/^signet_authority_requests_total\{operation="sign",provisioner="",outcome="failure",code="ERR_TOKEN_EXPIRED"\}/) >= 1, 'an unverified token names no provisioner');
  assert.ok(value(/^signet_http_request_duration_seconds_count\{route="\/sign",method="POST"\}/) > signed);
  assert.ok(value(/^signet_http_requests_total\{route="\/root\/:sha256",method="GET",status="200"\}/) >= 1, 'routes by pattern, not by path');
  const rootLeft = value(/^signet_ca_certificate_expires_in_seconds\{certificate="root"\}/);
  const intermediateLeft = value(/^signet_ca_certificate_expires_in_seconds\{certificate="intermediate"\}/);
  const serverLeft = value(/^signet_ca_certificate_expires_in_seconds\{certificate="server"\}/);
  assert.ok(rootLeft > intermediateLeft && intermediateLeft > serverLeft && serverLeft > 0);
  assert.ok(value(/^signet_process_resident_memory_bytes /) > 0);
  assert.doesNotMatch(r.text, /eyJ|BEGIN/);
});

test('every answer carries its own request id: 16 hex digits, never repeated', async () => {
  const ids = new Set<string>();
  // More requests than one read of the id pool serves, so that it is refilled in between.
  for (let i = 0; i < 300; i++) {
    const r = await httpsRequest(ca, `${running.url}/health`, { method: 'GET' });
    const id = r.headers['x-request-id'];
    assert.equal(typeof id, 'string');
    assert.match(id as string, /^[0-9a-f]{16}$/);
    ids.add(id as string);
  }
  assert.equal(ids.size, 300);
});
