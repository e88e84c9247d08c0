/**
 * JWT-SVIDs and the bundle endpoint of a running CA that serves a trust domain: `POST
 * /spiffe/jwt-svid` mints a JWT-SVID for the SPIFFE ID a one-time token authorizes, `GET
 * /spiffe/bundle` serves the trust domain's bundle; PyJWT (Debian, an independent
 * implementation) verifies the token with the key from the served bundle. Refusals each have
 * their code; a CA without a trust domain has neither endpoint; the CLI (`ca token --jwt-svid`,
 * `ca jwt-svid`, `ca bundle`) does the same from outside.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningCa } from '../../src/ca/runtime.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { validateJwtSvid } from '../../src/spiffe/jwt-svid.js';
import { createTestCa, httpsRequest, startTestCa, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-jwt-svid-endpoint-');
let ca: TestCa;
let running: RunningCa;
let plain: TestCa;
let plainRunning: RunningCa;
const PYTHON = '/usr/bin/python3';
const WEB = 'spiffe://example.org/ns/prod/web';

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  ca = await createTestCa({
    parent: tmp.path('a'),
    trustDomain: 'example.org',
    edit: (doc) => {
      doc.policy = { deny: { uri: ['spiffe://example.org/forbidden/*'] } };
    },
  });
  running = await startTestCa(ca);
  plain = await createTestCa({ parent: tmp.path('b') });
  plainRunning = await startTestCa(plain);
});

after(async () => {
  await running?.close();
  await plainRunning?.close();
  tmp.cleanup();
});

const mint = async (body: Record<string, unknown>, target = ca, r = running) => httpsRequest(target, `${r.url}/spiffe/jwt-svid`, { body });
const tokenFor = (id: string, o: { path?: string; sans?: string[] } = {}, target = ca, r = running) => testToken(target, r, { subject: id, sans: o.sans ?? [id], path: o.path ?? '/spiffe/jwt-svid' });

test('a JWT-SVID from POST /spiffe/jwt-svid verifies in PyJWT with the key of the bundle from GET /spiffe/bundle', async () => {
  const r = await mint({ ott: await tokenFor(WEB), audience: ['spiffe://example.org/db', 'https://api.example.com'], lifetime: '2m' });
  assert.equal(r.status, 201, r.text);
  const token = r.json?.token as string;
  assert.equal(r.json?.spiffeId, WEB);
  const b = await httpsRequest(ca, `${running.url}/spiffe/bundle`);
  assert.equal(b.status, 200);
  assert.match(String(b.headers['content-type']), /^application\/json/);
  const bundle = parseBundle(b.text, 'example.org');
  assert.equal(bundle.sequence, 1);
  assert.equal(bundle.refreshHintSeconds, 300);
  assert.deepEqual([...bundle.jwtAuthorities.keys()], [r.json?.kid]);
  assert.deepEqual(Buffer.from(bundle.x509Authorities[0] ?? []).toString('hex'), Buffer.from(ca.rootDer).toString('hex'), 'the root anchors the X509-SVIDs');
  const v = validateJwtSvid(token, { audience: 'https://api.example.com', bundle: (td) => (td === 'example.org' ? bundle : undefined), now: new Date() });
  assert.equal(v.id.toString(), WEB);
  assert.equal(v.expiresAt.getTime() - (v.issuedAt?.getTime() ?? 0), 120_000);
  const script = `
import json, sys, jwt
bundle = json.loads(sys.argv[1]); token = sys.argv[2]
header = jwt.get_unverified_header(token)
assert header["typ"] == "JWT" and header["alg"] == "ES256", header
key = next(k for k in bundle["keys"] if k.get("use") == "jwt-svid" and k["kid"] == header["kid"])
claims = jwt.decode(token, jwt.PyJWK(key, algorithm=header["alg"]).key, algorithms=["ES256"], audience="spiffe://example.org/db", options={"require": ["exp", "sub", "aud", "iat"]})
print(claims["sub"])
`;
  const py = spawnSync(PYTHON, ['-c', script, b.text, token], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout.trim(), WEB);
  const events = await running.store.audit.list({ limit: 5 });
  const e = events.find((x) => x.type === 'spiffe.jwt-svid' && x.outcome === 'success');
  assert.ok(e, 'audited');
  assert.equal((e.detail as { spiffeId?: string }).spiffeId, WEB);
});

test('refused, each with its code: replay, another trust domain, two IDs, a DNS name, policy, lifetime, audiences, a /sign token, malformed bodies', async () => {
  const once = await tokenFor(WEB);
  assert.equal((await mint({ ott: once, audience: 'db' })).status, 201, 'an audience may be a plain string');
  const cases: [string, Record<string, unknown>, number, string][] = [
    ['replayed token', { ott: once, audience: 'db' }, 401, 'ERR_TOKEN_REPLAYED'],
    ['another trust domain', { ott: await tokenFor('spiffe://other.org/web'), audience: 'db' }, 403, 'ERR_FORBIDDEN_NAMES'],
    ['two IDs', { ott: await tokenFor(WEB, { sans: [WEB, 'spiffe://example.org/b'] }), audience: 'db' }, 403, 'ERR_FORBIDDEN_NAMES'],
    ['a DNS name', { ott: await tokenFor('web.example.org'), audience: 'db' }, 403, 'ERR_FORBIDDEN_NAMES'],
    ['a malformed SPIFFE ID', { ott: await tokenFor('spiffe://example.org/a//b'), audience: 'db' }, 400, 'ERR_SPIFFE_ID_INVALID'],
    ['denied by policy', { ott: await tokenFor('spiffe://example.org/forbidden/x'), audience: 'db' }, 403, 'ERR_POLICY_DENIED'],
    ['too long', { ott: await tokenFor(WEB), audience: 'db', lifetime: '2h' }, 400, 'ERR_LIFETIME_OUT_OF_BOUNDS'],
    ['too short', { ott: await tokenFor(WEB), audience: 'db', lifetime: '10s' }, 400, 'ERR_LIFETIME_OUT_OF_BOUNDS'],
    ['not a duration', { ott: await tokenFor(WEB), audience: 'db', lifetime: 'soon' }, 400, 'ERR_REQUEST_INVALID'],
    ['no audience', { ott: await tokenFor(WEB) }, 400, 'ERR_REQUEST_INVALID'],
    ['empty audience list', { ott: await tokenFor(WEB), audience: [] }, 400, 'ERR_REQUEST_INVALID'],
    ['audience not strings', { ott: await tokenFor(WEB), audience: [1] }, 400, 'ERR_REQUEST_INVALID'],
    ['17 audiences', { ott: await tokenFor(WEB), audience: Array.from({ length: 17 }, (_, i) => `a${i}`) }, 400, 'ERR_REQUEST_INVALID'],
    ['a token for /sign', { ott: await tokenFor(WEB, { path: '/sign' }), audience: 'db' }, 401, 'ERR_TOKEN_AUDIENCE'],
    ['an unknown field', { ott: await tokenFor(WEB), audience: 'db', sub: WEB }, 400, 'ERR_REQUEST_INVALID'],
    ['no token', { audience: 'db' }, 400, 'ERR_REQUEST_INVALID'],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await mint(body);
    assert.deepEqual([r.status, r.json?.code], [status, code], `${what}: ${r.text}`);
    assert.ok(!r.text.includes('    at '), 'no stack trace');
  }
  const notJson = await httpsRequest(ca, `${running.url}/spiffe/jwt-svid`, { body: '{"ott": ', headers: { 'content-type': 'application/json' } });
  assert.deepEqual([notJson.status, notJson.json?.code], [400, 'ERR_JSON_MALFORMED']);
  const big = await httpsRequest(ca, `${running.url}/spiffe/jwt-svid`, { body: JSON.stringify({ ott: 'x'.repeat(40_000), audience: 'db' }), headers: { 'content-type': 'application/json' } });
  assert.deepEqual([big.status, big.json?.code], [413, 'ERR_INPUT_TOO_LARGE']);
  // Refusals are audited, with the code as the reason.
  const refused = (await running.store.audit.list({ limit: 100 })).filter((x) => x.type === 'spiffe.jwt-svid' && x.outcome === 'failure');
  assert.ok(refused.some((x) => x.reason === 'ERR_POLICY_DENIED'));
});

test('a CA that serves no trust domain has no bundle and mints no JWT-SVIDs', async () => {
  const b = await httpsRequest(plain, `${plainRunning.url}/spiffe/bundle`);
  assert.deepEqual([b.status, b.json?.code], [403, 'ERR_SPIFFE_NOT_ENABLED']);
  const r = await mint({ ott: await tokenFor(WEB, {}, plain, plainRunning), audience: 'db' }, plain, plainRunning);
  assert.deepEqual([r.status, r.json?.code], [403, 'ERR_FORBIDDEN_NAMES']);
});

test('CLI: ca token --jwt-svid, ca jwt-svid (minting the token itself with the provisioner key) and ca bundle', async () => {
  const conn = ['--ca-url', running.url, '--root', ca.rootFile];
  const minted = ok(await signetAsync(['ca', 'jwt-svid', WEB, '--audience', 'db', '--provisioner', 'admin', '--provisioner-key', join(ca.dir, 'secrets', 'provisioner-admin.key'), '--provisioner-password-file', ca.provisionerPasswordFile, ...conn, '--json']));
  const out = JSON.parse(minted.stdout) as { token: string; spiffeId: string; kid: string; expiresAt: string };
  assert.equal(out.spiffeId, WEB);
  const token = ok(await signetAsync(['ca', 'token', WEB, '--jwt-svid', '--config', ca.configPath, '--password-file', ca.provisionerPasswordFile, '--ca-url', running.url])).stdout.trim();
  const plainOut = ok(await signetAsync(['ca', 'jwt-svid', WEB, '--audience', 'db', '--audience', 'cache', '--lifetime', '90s', '--token', token, ...conn]));
  const jwt = plainOut.stdout.trim();
  assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const doc = ok(await signetAsync(['ca', 'bundle', ...conn])).stdout;
  const bundle = parseBundle(doc, 'example.org');
  const v = validateJwtSvid(jwt, { audience: 'cache', bundle: () => bundle, now: new Date() });
  assert.deepEqual(v.audience, ['db', 'cache']);
  const summary = JSON.parse(ok(await signetAsync(['ca', 'bundle', ...conn, '--json'])).stdout) as { jwtAuthorities: string[]; x509Authorities: number };
  assert.deepEqual(summary.jwtAuthorities, [out.kid]);
  assert.equal(summary.x509Authorities, 1);
  // Wrong inputs.
  fails(await signetAsync(['ca', 'jwt-svid', WEB, '--token', token, ...conn]), 2, 'ERR_USAGE');
  fails(await signetAsync(['ca', 'jwt-svid', 'spiffe://Example.org/web', '--audience', 'db', '--token', token, ...conn]), 3, 'ERR_SPIFFE_ID_INVALID');
  fails(await signetAsync(['ca', 'jwt-svid', WEB, '--audience', 'db', '--token', token, ...conn]), 1, 'ERR_TOKEN_REPLAYED');
  fails(await signetAsync(['ca', 'token', WEB, '--jwt-svid', '--ssh', '--config', ca.configPath, '--password-file', ca.provisionerPasswordFile]), 2, 'ERR_USAGE');
  fails(await signetAsync(['ca', 'token', 'web.example.org', '--jwt-svid', '--config', ca.configPath, '--password-file', ca.provisionerPasswordFile]), 3, 'ERR_SPIFFE_ID_INVALID');
  fails(await signetAsync(['ca', 'bundle', '--ca-url', plainRunning.url, '--root', plain.rootFile]), 1, 'ERR_SPIFFE_NOT_ENABLED');
});
