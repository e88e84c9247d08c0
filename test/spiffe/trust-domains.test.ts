/**
 * One CA serving two trust domains (`ca init --trust-domain a.example --trust-domain b.example`):
 * each has its own bundle and JWT keys; X509- and JWT-SVIDs of both are issued and validate, each
 * with its own trust domain's bundle; an ID of a third is refused. An agent joins the second trust
 * domain by naming it in its attestation request, with a join token made for it (a token of
 * another trust domain is refused and stays usable): its ID, its workloads' entries and its batch
 * SVIDs are of that trust domain, the JWT-SVIDs signed by that trust domain's key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { RunningCa } from '../../src/ca/runtime.js';
import { decodePem } from '../../src/core/pem.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-trust-domains-');
const quiet = { spiffeIntervalMs: 3_600_000, revocationIntervalMs: 3_600_000, jobIntervalMs: 3_600_000 };
let ca: TestCa;
let running: RunningCa;
const cfg = () => ['--config', ca.configPath];

before(async () => {
  mkdirSync(tmp.path('ca'));
  ca = await createTestCa({ parent: tmp.path('ca'), trustDomain: ['a.example', 'b.example'] });
  running = await startTestCa(ca, quiet);
});

after(async () => {
  await running?.close();
  tmp.cleanup();
});

const get = (path: string) => httpsRequest(ca, `${running.url}${path}`);
const post = (path: string, body: unknown, mtls: { cert?: string; key?: KeyObject } = {}) => httpsRequest(ca, `${running.url}${path}`, { ...mtls, body: body as Record<string, unknown> });

async function bundleOf(td: string): Promise<ReturnType<typeof parseBundle>> {
  const r = await get(`/spiffe/bundles/${td}`);
  assert.equal(r.status, 200, r.text);
  return parseBundle(r.text, td);
}

test('both trust domains are served: the intermediate carries both IDs, each has its bundle and JWT keys, SVIDs of both validate, a third trust domain is refused', async () => {
  const intermediate = parseCertificate(decodePem((await get('/intermediates.pem')).text, ['CERTIFICATE']).der);
  assert.deepEqual((intermediate.ext.subjectAltName ?? []).map((n) => n.value), ['spiffe://a.example', 'spiffe://b.example']);
  const a = await bundleOf('a.example');
  const b = await bundleOf('b.example');
  for (const bundle of [a, b]) assert.deepEqual(bundle.x509Authorities.map((d) => Buffer.from(d).toString('hex')), [Buffer.from(ca.rootDer).toString('hex')]);
  const kids = (bundle: typeof a) => [...bundle.jwtAuthorities.keys()];
  assert.equal(kids(a).length, 1);
  assert.equal(kids(b).length, 1);
  assert.notEqual(kids(a)[0], kids(b)[0], 'each trust domain signs JWT-SVIDs with its own key');
  // The bundle endpoint without a trust domain serves the first.
  assert.deepEqual(kids(parseBundle((await get('/spiffe/bundle')).text, 'a.example')), kids(a));

  for (const td of ['a.example', 'b.example']) {
    const id = `spiffe://${td}/web`;
    const csr = testCsr('web', [id]);
    const signed = await post('/sign', { csr: csr.pem, ott: await testToken(ca, running, { subject: 'web', sans: [id] }) });
    assert.equal(signed.status, 201, signed.text);
    const x = await post('/spiffe/validate/x509-svid', { chain: (signed.json?.certChain as string[]).join('') });
    assert.deepEqual([x.status, x.json?.spiffeId], [200, id]);
    const jwt = await post('/spiffe/jwt-svid', { ott: await testToken(ca, running, { subject: id, path: '/spiffe/jwt-svid' }), audience: `spiffe://${td}/db` });
    assert.equal(jwt.status, 201, jwt.text);
    assert.equal(jwt.json?.kid, kids(td === 'a.example' ? a : b)[0], `a JWT-SVID of ${td} is signed by ${td}'s key`);
    const v = await post('/spiffe/validate/jwt-svid', { token: jwt.json?.token, audience: `spiffe://${td}/db` });
    assert.deepEqual([v.status, v.json?.spiffeId], [200, id]);
  }
  const third = await post('/sign', { csr: testCsr('web', ['spiffe://c.example/web']).pem, ott: await testToken(ca, running, { subject: 'web', sans: ['spiffe://c.example/web'] }) });
  assert.deepEqual([third.status, third.json?.code], [403, 'ERR_FORBIDDEN_NAMES']);
});

test('an agent joins the second trust domain with a token made for it, naming it: its ID, its entries and its batch SVIDs are of that trust domain; the token in another trust domain, an unserved or a malformed one is refused and burns nothing', async () => {
  const t = JSON.parse(ok(await signetAsync(['token', 'generate', '--ttl', '10m', '--trust-domain', 'b.example', '--json', ...cfg()])).stdout) as { token: string; id: string; agentId: string };
  assert.equal(t.agentId, `spiffe://b.example/signet/agent/join_token/${t.id}`);
  const foreign = await signetAsync(['token', 'generate', '--trust-domain', 'c.example', ...cfg()]);
  fails(foreign, 1, 'ERR_SPIFFE_NOT_ENABLED');
  const csr = testCsr('agent', []);
  // The token is bound to b.example: joining the default (first) trust domain with it is refused, and does not burn it.
  const wrong = await post('/spiffe/agent/attest', { attestor: 'join_token', token: t.token, csr: csr.pem });
  assert.deepEqual([wrong.status, wrong.json?.code, wrong.json?.reason], [401, 'ERR_ATTESTATION_FAILED', 'wrong-trust-domain']);
  const unserved = await post('/spiffe/agent/attest', { attestor: 'join_token', trustDomain: 'c.example', token: t.token, csr: csr.pem });
  assert.deepEqual([unserved.status, unserved.json?.code], [403, 'ERR_SPIFFE_NOT_ENABLED']);
  const malformed = await post('/spiffe/agent/attest', { attestor: 'join_token', trustDomain: 'B.example', token: t.token, csr: csr.pem });
  assert.equal(malformed.json?.code, 'ERR_SPIFFE_ID_INVALID');
  const r = await post('/spiffe/agent/attest', { attestor: 'join_token', trustDomain: 'b.example', token: t.token, csr: csr.pem });
  assert.equal(r.status, 201, r.text);
  const agentId = `spiffe://b.example/signet/agent/join_token/${t.id}`;
  assert.equal(r.json?.spiffeId, agentId);
  assert.equal(parseBundle(r.json?.bundle as string, 'b.example').trustDomain, 'b.example', 'the attestation answers with the joined trust domain\'s bundle');
  const agent = { cert: (r.json?.svid as string[]).join(''), key: csr.key };

  const entry = JSON.parse(ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://b.example/billing', '--parent-id', agentId, '--selector', 'unix:uid:1000', '--json', ...cfg()])).stdout) as { id: string };
  const workload = testCsr(undefined, []);
  const batch = await post('/spiffe/agent/svids', { x509: [{ entryId: entry.id, csr: workload.pem }], jwt: [{ entryId: entry.id, audience: 'spiffe://b.example/db' }] }, agent);
  assert.equal(batch.status, 200, batch.text);
  const x = (batch.json?.x509 as { spiffeId?: string; svid?: string[] }[])[0];
  const j = (batch.json?.jwt as { spiffeId?: string; token?: string }[])[0];
  assert.equal(x?.spiffeId, 'spiffe://b.example/billing');
  assert.deepEqual([(await post('/spiffe/validate/x509-svid', { chain: (x?.svid ?? []).join('') })).json?.spiffeId], ['spiffe://b.example/billing']);
  const header = JSON.parse(Buffer.from((j?.token ?? '').split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
  assert.deepEqual([header.kid], [...(await bundleOf('b.example')).jwtAuthorities.keys()], 'signed by b.example\'s JWT key');
  const v = await post('/spiffe/validate/jwt-svid', { token: j?.token, audience: 'spiffe://b.example/db' });
  assert.deepEqual([v.status, v.json?.spiffeId], [200, 'spiffe://b.example/billing']);
});
