/**
 * Federation between two Signet trust domains over the bundle endpoint: b.org federates with
 * a.org (`signet federation add`), the lease holder fetches a.org's bundle, and a.org's SVIDs
 * (JWT and X.509) then validate at b.org — through that bundle only: before the relationship,
 * after its removal, and for a certificate b.org's own CA signed with an a.org ID, they do not.
 * OpenSSL, an independent verifier, accepts a.org's X509-SVID with the roots of the federated
 * bundle b.org serves. A key rotation at a.org reaches b.org by the refresh hint, before the new
 * key signs. The https_spiffe profile authenticates a.org's endpoint by its SPIFFE ID with the
 * bootstrap bundle; a wrong endpoint ID fails the fetch and keeps the bundle held.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parsePrivateKey } from '../../src/crypto/keys.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { issueLintedCertificate } from '../../src/x509/issue.js';
import { parseSubject } from '../../src/x509/name.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-federation-');
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
let a: TestCa;
let b: TestCa;
let ra: RunningCa;
let rb: RunningCa;
const quiet = { clock, spiffeIntervalMs: 3_600_000, revocationIntervalMs: 3_600_000, jobIntervalMs: 3_600_000 };

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  // a.org rotates its JWT keys hourly and asks peers to refresh every 10 s.
  a = await createTestCa({ parent: tmp.path('a'), name: 'A', trustDomain: 'a.org', edit: (doc) => void (doc.spiffe = { jwtKeyLifetime: '1h', refreshHint: '10s' }) });
  b = await createTestCa({ parent: tmp.path('b'), name: 'B', trustDomain: 'b.org' });
  ra = await startTestCa(a, quiet);
  rb = await startTestCa(b, quiet);
});

after(async () => {
  await ra?.close();
  await rb?.close();
  tmp.cleanup();
});

async function jwtFromA(id = 'spiffe://a.org/web'): Promise<string> {
  const r = await httpsRequest(a, `${ra.url}/spiffe/jwt-svid`, { body: { ott: await testToken(a, ra, { subject: id, path: '/spiffe/jwt-svid' }, clock), audience: 'spiffe://b.org/api' } });
  assert.equal(r.status, 201, r.text);
  return r.json?.token as string;
}

const validateJwtAtB = (token: string) => httpsRequest(b, `${rb.url}/spiffe/validate/jwt-svid`, { body: { token, audience: 'spiffe://b.org/api' } });
const validateX509AtB = (chain: string) => httpsRequest(b, `${rb.url}/spiffe/validate/x509-svid`, { body: { chain } });
const cfgB = () => ['--config', b.configPath];

let svidChain = '';

test('before federating, a.org\'s SVIDs do not validate at b.org (no bundle of a.org); b.org\'s own do', async () => {
  const r = await validateJwtAtB(await jwtFromA());
  assert.deepEqual([r.status, r.json?.code, r.json?.reason], [400, 'ERR_JWT_SVID_INVALID', 'no-bundle']);
  const csr = testCsr('web', ['spiffe://a.org/web']);
  const signed = await httpsRequest(a, `${ra.url}/sign`, { body: { csr: csr.pem, ott: await testToken(a, ra, { subject: 'web', sans: ['spiffe://a.org/web'] }, clock) } });
  assert.equal(signed.status, 201, signed.text);
  svidChain = (signed.json?.certChain as string[]).join('');
  const x = await validateX509AtB(svidChain);
  assert.deepEqual([x.status, x.json?.reason], [400, 'no-bundle']);
  const own = await httpsRequest(b, `${rb.url}/spiffe/jwt-svid`, { body: { ott: await testToken(b, rb, { subject: 'spiffe://b.org/db', path: '/spiffe/jwt-svid' }, clock), audience: 'spiffe://b.org/api' } });
  assert.equal((await validateJwtAtB(own.json?.token as string)).json?.spiffeId, 'spiffe://b.org/db');
});

test('federation add (https_web) and one tick of the lease holder: a.org\'s JWT and X509 SVIDs validate at b.org; OpenSSL agrees with the federated roots', async () => {
  writeFileSync(tmp.path('a-root.pem'), a.rootPem);
  ok(await signetAsync(['federation', 'add', 'a.org', '--url', `${ra.url}/spiffe/bundle`, '--ca-file', tmp.path('a-root.pem'), ...cfgB()]));
  const run = await rb.maintainSpiffe();
  assert.equal(run.ran, true);
  assert.deepEqual(run.federation?.map((f) => [f.trustDomain, f.outcome, f.sequence]), [['a.org', 'updated', 1]]);
  const v = await validateJwtAtB(await jwtFromA());
  assert.equal(v.status, 200, v.text);
  assert.equal(v.json?.spiffeId, 'spiffe://a.org/web');
  const x = await validateX509AtB(svidChain);
  assert.equal(x.status, 200, x.text);
  assert.equal(x.json?.spiffeId, 'spiffe://a.org/web');
  // The federated bundle as b.org serves it; its X.509 authorities verify the SVID in OpenSSL.
  const held = await httpsRequest(b, `${rb.url}/spiffe/bundles/a.org`);
  assert.equal(held.status, 200);
  const bundle = parseBundle(held.text, 'a.org');
  writeFileSync(tmp.path('fed-roots.pem'), bundle.x509Authorities.map((d) => encodePem('CERTIFICATE', d)).join(''));
  const [leaf, ...rest] = svidChain.split(/(?<=-----END CERTIFICATE-----\n)/);
  writeFileSync(tmp.path('leaf.pem'), leaf ?? '');
  writeFileSync(tmp.path('int.pem'), rest.join(''));
  const verify = await runAsync('openssl', ['verify', '-CAfile', tmp.path('fed-roots.pem'), '-untrusted', tmp.path('int.pem'), tmp.path('leaf.pem')]);
  assert.equal(verify.code, 0, verify.stderr);
  writeFileSync(tmp.path('b-root.pem'), b.rootPem);
  assert.notEqual((await runAsync('openssl', ['verify', '-CAfile', tmp.path('b-root.pem'), '-untrusted', tmp.path('int.pem'), tmp.path('leaf.pem')])).code, 0, 'b.org\'s root does not vouch for a.org');
  const list = JSON.parse(ok(await signetAsync(['federation', 'list', '--json', ...cfgB()])).stdout) as { trustDomain: string; lastError: string | null; bundle: { sequence: number } }[];
  assert.deepEqual(list.map((f) => [f.trustDomain, f.lastError, f.bundle.sequence]), [['a.org', null, 1]]);
  assert.equal(ok(await signetAsync(['federation', 'show', 'a.org', '--bundle', ...cfgB()])).stdout.trim(), held.text.trim());
});

test('never a pooled root set: a certificate b.org\'s own CA signs for spiffe://a.org/… does not validate at b.org', async () => {
  const key = parsePrivateKey(new Uint8Array(readFileSync(b.config.intermediate.key)), 'test ca password');
  const intDer = decodePem(readFileSync(b.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
  const leafKey = testCsr('x', []).key;
  const spec = specFromProfile('leaf', { subject: parseSubject(''), publicKey: createPublicKey(leafKey), now: clock.now(), sans: [{ type: 'uri', value: 'spiffe://a.org/evil' }], lifetimeMs: 3_600_000, extKeyUsage: ['serverAuth', 'clientAuth'] });
  const forged = issueLintedCertificate(spec, createSoftwareSigner(key), issuerFromCertificate(intDer), { profile: 'leaf', now: clock.now() });
  const r = await validateX509AtB(encodePem('CERTIFICATE', forged.der) + encodePem('CERTIFICATE', intDer));
  assert.deepEqual([r.status, r.json?.code, r.json?.reason], [400, 'ERR_X509_SVID_INVALID', 'chain']);
});

test('a.org rotates its JWT key: b.org holds the new key (by the refresh hint) before it signs', async () => {
  offset += 30 * 60_000; // half of a.org's key lifetime
  const rotated = await ra.maintainSpiffe();
  const made = rotated.spiffe?.[0]?.created;
  assert.ok(made, 'the next key is made half way');
  assert.equal(rotated.spiffe?.[0]?.sequence, 2n);
  const fetched = await rb.maintainSpiffe();
  assert.deepEqual(fetched.federation?.map((f) => [f.outcome, f.sequence]), [['updated', 2]]);
  const held = parseBundle((await httpsRequest(b, `${rb.url}/spiffe/bundles/a.org`)).text, 'a.org');
  assert.ok(held.jwtAuthorities.has(made.kid), 'published at b.org before it signs');
  offset += 21 * 60_000; // past 5/6 of the old key's life: the new key signs
  const token = await jwtFromA();
  assert.equal((JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid?: string }).kid, made.kid);
  const v = await validateJwtAtB(token);
  assert.equal(v.status, 200, v.text);
  const quietTick = await rb.maintainSpiffe();
  assert.equal(quietTick.federation?.[0]?.outcome ?? 'not due', 'unchanged', 'due again after 10 s; the bundle did not change');
});

test('removing the relationship stops validation at once; https_spiffe re-establishes it by the endpoint\'s SPIFFE ID; a wrong ID fails the fetch and keeps the bundle', async () => {
  ok(await signetAsync(['federation', 'remove', 'a.org', ...cfgB()]));
  const gone = await validateJwtAtB(await jwtFromA());
  assert.deepEqual([gone.status, gone.json?.reason], [400, 'no-bundle']);
  assert.equal((await httpsRequest(b, `${rb.url}/spiffe/bundles/a.org`)).json?.code, 'ERR_BUNDLE_NOT_FOUND');
  // https_spiffe: bootstrap with a.org's bundle, authenticate its endpoint as spiffe://a.org/signet/server.
  writeFileSync(tmp.path('a.bundle.json'), ok(await signetAsync(['ca', 'bundle', '--ca-url', ra.url, '--root', a.rootFile])).stdout);
  ok(await signetAsync(['federation', 'add', 'a.org', '--url', `${ra.url}/spiffe/bundle`, '--profile', 'https_spiffe', '--endpoint-id', 'spiffe://a.org/signet/server', '--bundle-file', tmp.path('a.bundle.json'), ...cfgB()]));
  assert.equal((await validateJwtAtB(await jwtFromA())).status, 200, 'the bootstrap bundle is held at once');
  const refreshed = JSON.parse(ok(await signetAsync(['federation', 'refresh', 'a.org', '--json', ...cfgB()])).stdout) as { outcome: string };
  assert.equal(refreshed.outcome, 'unchanged');
  // The same endpoint with another expected ID: the fetch fails, is recorded, and the bundle held stays.
  ok(await signetAsync(['federation', 'remove', 'a.org', ...cfgB()]));
  ok(await signetAsync(['federation', 'add', 'a.org', '--url', `${ra.url}/spiffe/bundle`, '--profile', 'https_spiffe', '--endpoint-id', 'spiffe://a.org/not-the-server', '--bundle-file', tmp.path('a.bundle.json'), ...cfgB()]));
  fails(await signetAsync(['federation', 'refresh', 'a.org', ...cfgB()]), 6, 'ERR_BUNDLE_FETCH');
  const shown = JSON.parse(ok(await signetAsync(['federation', 'show', 'a.org', ...cfgB()])).stdout) as { lastError: string; bundle: { sequence: number } | null };
  assert.match(shown.lastError, /^ERR_BUNDLE_FETCH: /);
  assert.ok(shown.bundle !== null, 'the bootstrap bundle is still held');
  assert.equal((await validateJwtAtB(await jwtFromA())).status, 200);
});

test('federation CLI refusals: own trust domain, an existing relationship, http, a foreign endpoint ID, missing bootstrap, a bad CA file, unknown relationships', async () => {
  const url = `${ra.url}/spiffe/bundle`;
  fails(await signetAsync(['federation', 'add', 'b.org', '--url', url, ...cfgB()]), 2, 'ERR_BAD_OPTION');
  fails(await signetAsync(['federation', 'add', 'a.org', '--url', url, ...cfgB()]), 2, 'ERR_FEDERATION_EXISTS');
  fails(await signetAsync(['federation', 'add', 'c.org', '--url', 'http://c.example/bundle', ...cfgB()]), 2, 'ERR_BAD_OPTION');
  fails(await signetAsync(['federation', 'add', 'C.org', '--url', url, ...cfgB()]), 3, 'ERR_SPIFFE_ID_INVALID');
  fails(await signetAsync(['federation', 'add', 'c.org', '--url', url, '--profile', 'https_spiffe', '--endpoint-id', 'spiffe://a.org/signet/server', '--bundle-file', tmp.path('a.bundle.json'), ...cfgB()]), 2, 'ERR_BAD_OPTION');
  fails(await signetAsync(['federation', 'add', 'c.org', '--url', url, '--profile', 'https_spiffe', ...cfgB()]), 2, 'ERR_USAGE');
  fails(await signetAsync(['federation', 'add', 'c.org', '--url', url, '--endpoint-id', 'spiffe://c.org/x', ...cfgB()]), 2, 'ERR_USAGE');
  writeFileSync(tmp.path('not-pem.txt'), 'hello\n');
  fails(await signetAsync(['federation', 'add', 'c.org', '--url', url, '--ca-file', tmp.path('not-pem.txt'), ...cfgB()]), 3, 'ERR_PEM_MALFORMED');
  // https_web with the wrong CA: the fetch fails on the TLS certificate.
  ok(await signetAsync(['federation', 'add', 'c.org', '--url', url, '--ca-file', tmp.path('b-root.pem'), ...cfgB()]));
  fails(await signetAsync(['federation', 'refresh', 'c.org', ...cfgB()]), 6, 'ERR_BUNDLE_FETCH');
  fails(await signetAsync(['federation', 'remove', 'd.org', ...cfgB()]), 2, 'ERR_FEDERATION_NOT_FOUND');
  fails(await signetAsync(['federation', 'show', 'd.org', ...cfgB()]), 2, 'ERR_FEDERATION_NOT_FOUND');
  fails(await signetAsync(['federation', 'refresh', 'd.org', ...cfgB()]), 2, 'ERR_FEDERATION_NOT_FOUND');
  const events = await rb.store.audit.list({ limit: 50 });
  assert.ok(events.some((e) => e.type === 'spiffe.federation.add') && events.some((e) => e.type === 'spiffe.federation.remove'), 'relationship changes are audited');
});
