/**
 * Registration entries: the checks (a table of every rule), `signet entry create|list|show|update|delete`
 * on the CA host, and the admin API over mTLS for callers whose X509-SVID an admin entry grants.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { isSignetError } from '../../src/core/errors.js';
import { checkEntry, checkSelector, type EntrySpec } from '../../src/spiffe/entries.js';
import { createTestCa, httpsRequest, issueLeaf, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-entries-');
let ca: TestCa;
let running: RunningCa;
let other: TestCa;
const AGENT = 'spiffe://example.org/signet/agent/join_token/4f2c';
const ctx = { trustDomains: ['example.org'], federated: (td: string) => td === 'partner.org' };
const base: EntrySpec = { spiffeId: 'spiffe://example.org/web', parentId: AGENT, selectors: ['unix:uid:1000'] };

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  ca = await createTestCa({ parent: tmp.path('a'), trustDomain: 'example.org' });
  other = await createTestCa({ parent: tmp.path('b'), trustDomain: 'example.org' });
  running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
});

after(async () => {
  await running?.close();
  tmp.cleanup();
});

test('entry checks: each rule, with the field it names', () => {
  const good = checkEntry({ ...base, selectors: ['unix:uid:1000', 'k8s:ns:prod', 'unix:sha256:' + 'a'.repeat(64)], dnsNames: ['Web.Example.org'], federatesWith: ['partner.org'], x509TtlMs: 3_600_000, hint: 'web' }, ctx);
  assert.deepEqual(good.selectors, ['k8s:ns:prod', 'unix:sha256:' + 'a'.repeat(64), 'unix:uid:1000'], 'sorted');
  assert.deepEqual(good.dnsNames, ['web.example.org']);
  assert.equal(checkEntry({ ...base, parentId: 'spiffe://example.org/signet/server', selectors: ['join_token:4f2c'] }, ctx).parentId, 'spiffe://example.org/signet/server', 'a node entry');
  assert.equal(checkEntry({ ...base, parentId: 'spiffe://example.org/nodes/web' }, ctx).parentId, 'spiffe://example.org/nodes/web', 'under a node entry');
  const rows: [string, Partial<EntrySpec>, string][] = [
    ['another trust domain', { spiffeId: 'spiffe://other.org/web' }, 'spiffeId'],
    ['no path', { spiffeId: 'spiffe://example.org' }, 'spiffeId'],
    ['the reserved agent path', { spiffeId: 'spiffe://example.org/signet/agent/x' }, 'spiffeId'],
    ['the reserved server ID', { spiffeId: 'spiffe://example.org/signet/server' }, 'spiffeId'],
    ['a parent of another trust domain', { parentId: 'spiffe://other.org/signet/server' }, 'parentId'],
    ['a reserved parent that is neither server nor agent', { parentId: 'spiffe://example.org/signet/other' }, 'parentId'],
    ['its own parent', { parentId: 'spiffe://example.org/web' }, 'parentId'],
    ['no selectors', { selectors: [] }, 'selectors'],
    ['a repeated selector', { selectors: ['unix:uid:1', 'unix:uid:1'] }, 'selectors'],
    ['65 selectors', { selectors: Array.from({ length: 65 }, (_, i) => `unix:uid:${i}`) }, 'selectors'],
    ['a selector without a value', { selectors: ['unix'] }, 'selector "unix"'],
    ['an upper-case type', { selectors: ['Unix:uid:1'] }, 'selector "Unix:uid:1"'],
    ['a non-numeric uid', { selectors: ['unix:uid:root'] }, 'selector "unix:uid:root"'],
    ['a uid with a leading zero', { selectors: ['unix:uid:01'] }, 'selector "unix:uid:01"'],
    ['a short sha256', { selectors: ['unix:sha256:abc'] }, 'selector "unix:sha256:abc"'],
    ['a relative path', { selectors: ['unix:path:bin/sh'] }, 'selector "unix:path:bin/sh"'],
    ['an unknown unix key', { selectors: ['unix:shell:/bin/sh'] }, 'selector "unix:shell:/bin/sh"'],
    ['a bad namespace', { selectors: ['k8s:ns:Prod'] }, 'selector "k8s:ns:Prod"'],
    ['a control character', { selectors: ['custom:a\u0007b'] }, 'selector "custom:a\\u0007b"'],
    ['a bad DNS name', { dnsNames: ['-web.example.org'] }, 'dnsNames'],
    ['a TTL under a minute', { x509TtlMs: 30_000 }, 'x509Ttl'],
    ['a JWT TTL over a day', { jwtTtlMs: 25 * 3_600_000 }, 'jwtTtl'],
    ['its own trust domain federated', { federatesWith: ['example.org'] }, 'federatesWith'],
    ['a malformed federated trust domain', { federatesWith: ['Partner.org'] }, 'federatesWith'],
    ['an empty hint', { hint: '' }, 'hint'],
  ];
  for (const [what, change, field] of rows) {
    assert.throws(() => checkEntry({ ...base, ...change }, ctx), (e) => isSignetError(e, 'ERR_ENTRY_INVALID') && (e.detail as { field: string }).field === field, what);
  }
  assert.throws(() => checkEntry({ ...base, federatesWith: ['stranger.org'] }, ctx), (e) => isSignetError(e, 'ERR_FEDERATION_NOT_FOUND'));
  assert.throws(() => checkEntry({ ...base, spiffeId: 'spiffe://example.org/a//b' }, ctx), (e) => isSignetError(e, 'ERR_SPIFFE_ID_INVALID'));
  assert.throws(() => checkEntry(base, { ...ctx, trustDomains: [] }), (e) => isSignetError(e, 'ERR_ENTRY_INVALID'));
  for (const s of ['unix:user:www-data', 'unix:group:staff', 'unix:gid:0', 'unix:path:/usr/bin/python3', 'k8s:sa:default', 'k8s:pod-label:app:web', 'x509pop:subject:cn:node-1', 'tpm:pub_hash:abc']) assert.equal(checkSelector(s), s);
});

test('signet entry: create, list by selector, show, update (conditionally), delete; each refusal with its code', async () => {
  const cfg = ['--config', ca.configPath];
  const made = JSON.parse(ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/billing', '--parent-id', AGENT, '--selector', 'unix:uid:1000', '--selector', 'unix:gid:1000', '--x509-ttl', '1h', '--dns', 'billing.example.org', '--json', ...cfg])).stdout) as { id: string; selectors: string[]; x509Ttl: string; revision: number };
  assert.deepEqual(made.selectors, ['unix:gid:1000', 'unix:uid:1000']);
  assert.equal(made.x509Ttl, '1h');
  const node = JSON.parse(ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/web', '--selector', 'join_token:4f2c', '--json', ...cfg])).stdout) as { parentId: string };
  assert.equal(node.parentId, 'spiffe://example.org/signet/server');
  const listed = JSON.parse(ok(await signetAsync(['entry', 'list', '--selector', 'unix:uid:1000', '--json', ...cfg])).stdout) as { id: string }[];
  assert.deepEqual(listed.map((e) => e.id), [made.id]);
  assert.match(ok(await signetAsync(['entry', 'list', ...cfg])).stdout, /ENTRY ID\s+SPIFFE ID\s+PARENT ID\s+SELECTORS/);
  assert.match(ok(await signetAsync(['entry', 'show', made.id, ...cfg])).stdout, /spiffe id:\s+spiffe:\/\/example\.org\/billing/);
  const updated = JSON.parse(ok(await signetAsync(['entry', 'update', made.id, '--selector', 'unix:uid:1001', '--revision', String(made.revision), '--json', ...cfg])).stdout) as { selectors: string[]; x509Ttl: string; revision: number; dnsNames: string[] };
  assert.deepEqual([updated.selectors, updated.x509Ttl, updated.dnsNames], [['unix:uid:1001'], '1h', ['billing.example.org']], 'other fields kept');
  fails(await signetAsync(['entry', 'update', made.id, '--hint', 'x', '--revision', String(made.revision), ...cfg]), 2, 'ERR_ENTRY_CONFLICT');
  const cleared = JSON.parse(ok(await signetAsync(['entry', 'update', made.id, '--clear-x509-ttl', '--hint', 'billing', '--json', ...cfg])).stdout) as { x509Ttl: string | null; hint: string | null };
  assert.deepEqual([cleared.x509Ttl, cleared.hint], [null, 'billing'], 'back to the provisioner\'s lifetime');
  fails(await signetAsync(['entry', 'update', made.id, '--clear-hint', '--hint', 'x', ...cfg]), 3, 'ERR_ENTRY_INVALID');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/billing', '--parent-id', AGENT, '--selector', 'unix:uid:1001', ...cfg]), 2, 'ERR_ENTRY_EXISTS');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/signet/agent/x', '--parent-id', AGENT, '--selector', 'unix:uid:1', ...cfg]), 3, 'ERR_ENTRY_INVALID');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/x', '--parent-id', AGENT, '--selector', 'unix:uid:x', ...cfg]), 3, 'ERR_ENTRY_INVALID');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/x', '--parent-id', AGENT, '--selector', 'unix:uid:1', '--federates-with', 'partner.org', ...cfg]), 2, 'ERR_FEDERATION_NOT_FOUND');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/x', '--selector', 'unix:uid:1', ...cfg]), 2, 'ERR_USAGE');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/x', '--parent-id', AGENT, '--node', '--selector', 'unix:uid:1', ...cfg]), 2, 'ERR_USAGE');
  fails(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/x', '--parent-id', AGENT, '--selector', 'unix:uid:1', '--x509-ttl', 'soon', ...cfg]), 2, 'ERR_BAD_DURATION');
  fails(await signetAsync(['entry', 'update', made.id, ...cfg]), 2, 'ERR_USAGE');
  ok(await signetAsync(['entry', 'delete', made.id, ...cfg]));
  fails(await signetAsync(['entry', 'delete', made.id, ...cfg]), 2, 'ERR_ENTRY_NOT_FOUND');
  fails(await signetAsync(['entry', 'show', made.id, ...cfg]), 2, 'ERR_ENTRY_NOT_FOUND');
  const events = await running.store.audit.list({ limit: 100 });
  for (const t of ['spiffe.entry.create', 'spiffe.entry.update', 'spiffe.entry.delete']) assert.ok(events.some((e) => e.type === t), t);
});

test('the admin API: an admin entry\'s X509-SVID manages entries over mTLS; others are refused', async () => {
  const cfg = ['--config', ca.configPath];
  ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/ops/admin', '--selector', 'x509pop:subject:cn:ops', '--admin', ...cfg]));
  const svid = async (id: string, target = ca, r: { url: string } = running) => {
    const csr = testCsr('ops', [id]);
    const res = await httpsRequest(target, `${r.url}/sign`, { body: { csr: csr.pem, ott: await testToken(target, r, { subject: 'ops', sans: [id] }) } });
    assert.equal(res.status, 201, res.text);
    return { cert: res.json?.crt as string, key: csr.key, serial: res.json?.serial as string };
  };
  const adm = await svid('spiffe://example.org/ops/admin');
  const call = (path: string, o: { body?: unknown; as?: { cert: string; key: KeyObject } } = {}) =>
    httpsRequest(ca, `${running.url}${path}`, { ...(o.body !== undefined ? { body: o.body as Record<string, unknown> } : {}), ...(o.as ? { cert: o.as.cert, key: o.as.key } : {}) });
  const created = await call('/spiffe/admin/entries', { as: adm, body: { spiffeId: 'spiffe://example.org/api', parentId: AGENT, selectors: ['unix:uid:2000'], jwtTtl: '10m', dnsNames: ['api.example.org'] } });
  assert.equal(created.status, 201, created.text);
  const id = created.json?.id as string;
  assert.equal(created.json?.jwtTtl, '10m');
  const listed = await call(`/spiffe/admin/entries?selector=${encodeURIComponent('unix:uid:2000')}`, { as: adm });
  assert.deepEqual((listed.json?.entries as { id: string }[]).map((e) => e.id), [id]);
  assert.equal((await call(`/spiffe/admin/entries/${id}`, { as: adm })).json?.spiffeId, 'spiffe://example.org/api');
  const upd = await call(`/spiffe/admin/entries/${id}`, { as: adm, body: { selectors: ['unix:uid:2001'], revision: created.json?.revision } });
  assert.equal(upd.status, 200, upd.text);
  const noTtl = await call(`/spiffe/admin/entries/${id}`, { as: adm, body: { jwtTtl: null } });
  assert.deepEqual([noTtl.status, noTtl.json?.jwtTtl], [200, null], 'null clears an optional field');
  const stale = await call(`/spiffe/admin/entries/${id}`, { as: adm, body: { hint: 'x', revision: created.json?.revision } });
  assert.deepEqual([stale.status, stale.json?.code], [409, 'ERR_ENTRY_CONFLICT']);
  const bad = await call('/spiffe/admin/entries', { as: adm, body: { spiffeId: 'spiffe://example.org/signet/agent/x', parentId: AGENT, selectors: ['unix:uid:1'] } });
  assert.deepEqual([bad.status, bad.json?.code], [400, 'ERR_ENTRY_INVALID']);
  const wrongType = await call('/spiffe/admin/entries', { as: adm, body: { spiffeId: 'spiffe://example.org/z', parentId: AGENT, selectors: 'unix:uid:1' } });
  assert.deepEqual([wrongType.status, wrongType.json?.code], [400, 'ERR_REQUEST_INVALID']);
  const del = await call(`/spiffe/admin/entries/${id}/delete`, { as: adm, body: {} });
  assert.equal(del.status, 200, del.text);
  assert.deepEqual([(await call(`/spiffe/admin/entries/${id}`, { as: adm })).status], [404]);
  // Refused callers.
  assert.deepEqual([(await call('/spiffe/admin/entries')).json?.code], ['ERR_AUTH_REQUIRED'], 'no client certificate');
  const plain = await svid('spiffe://example.org/web-not-admin');
  const notAdmin = await call('/spiffe/admin/entries', { as: plain });
  assert.deepEqual([notAdmin.status, notAdmin.json?.code], [403, 'ERR_FORBIDDEN_NOT_ADMIN']);
  const dnsOnly = await issueLeaf(ca, running, 'svc.example.org', tmp.path('dns-leaf.pem'));
  assert.equal((await call('/spiffe/admin/entries', { as: { cert: dnsOnly.pem, key: createPrivateKey(dnsOnly.key) } })).json?.code, 'ERR_FORBIDDEN_NOT_ADMIN', 'a certificate without a SPIFFE ID');
  const otherRunning = await startTestCa(other, { revocationIntervalMs: 3_600_000 });
  try {
    const foreign = await svid('spiffe://example.org/ops/admin', other, otherRunning);
    assert.equal((await call('/spiffe/admin/entries', { as: foreign })).json?.code, 'ERR_AUTH_CERTIFICATE', 'the same SPIFFE ID from another CA');
  } finally {
    await otherRunning.close();
  }
  const revoke = await httpsRequest(ca, `${running.url}/revoke`, { body: { serial: adm.serial, reason: 'keyCompromise' }, cert: adm.cert, key: adm.key });
  assert.equal(revoke.status, 200, revoke.text);
  assert.equal((await call('/spiffe/admin/entries', { as: adm })).json?.code, 'ERR_CERT_REVOKED');
});
