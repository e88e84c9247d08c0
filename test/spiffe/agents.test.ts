/**
 * Node attestation with join tokens and what an attested agent may ask for: `signet token
 * generate`, `POST /spiffe/agent/attest` (single-use, expiring, a bad request does not burn the
 * token), agent SVID renewal over mTLS (the newest SVID only), the entries an agent may serve (its
 * own and those under node entries its selectors match), batch X509- and JWT-SVIDs (checked by
 * OpenSSL and the SPIFFE validators, recorded in the inventory and the audit log), and
 * `signet agent list|show|ban|unban|evict`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { decodePem } from '../../src/core/pem.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { validateJwtSvid } from '../../src/spiffe/jwt-svid.js';
import { validateX509Svid } from '../../src/spiffe/x509-svid.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-agents-');
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
let ca: TestCa;
let running: RunningCa;
let plain: TestCa;
const cfg = () => ['--config', ca.configPath];

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  ca = await createTestCa({ parent: tmp.path('a'), trustDomain: 'example.org', edit: (doc) => void (doc.spiffe = { agentSvidLifetime: '30m' }) });
  plain = await createTestCa({ parent: tmp.path('b') });
  running = await startTestCa(ca, { clock, revocationIntervalMs: 3_600_000, spiffeIntervalMs: 3_600_000 });
});

after(async () => {
  await running?.close();
  tmp.cleanup();
});

async function newToken(ttl = '10m'): Promise<{ token: string; id: string; agentId: string }> {
  return JSON.parse(ok(await signetAsync(['token', 'generate', '--ttl', ttl, '--json', ...cfg()])).stdout) as { token: string; id: string; agentId: string };
}

const attest = (token: string, csr: string) => httpsRequest(ca, `${running.url}/spiffe/agent/attest`, { body: { attestor: 'join_token', token, csr } });
const asAgent = (path: string, who: { cert: string; key: KeyObject }, body?: unknown) => httpsRequest(ca, `${running.url}${path}`, { cert: who.cert, key: who.key, ...(body !== undefined ? { body: body as Record<string, unknown> } : {}) });

let agent: { id: string; agentId: string; cert: string; key: KeyObject };

test('join token attestation: an agent SVID for spiffe://TD/signet/agent/join_token/ID; the token is single-use, expires, and survives a bad request', async () => {
  const t = await newToken();
  assert.match(t.token, /^[0-9a-f]{16}\.[A-Za-z0-9_-]{32}$/);
  assert.equal(t.agentId, `spiffe://example.org/signet/agent/join_token/${t.id}`);
  const badCsr = await attest(t.token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n');
  assert.equal(badCsr.status, 400, badCsr.text);
  const csr = testCsr('agent', []);
  const r = await attest(t.token, csr.pem);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json?.spiffeId, t.agentId);
  const chain = r.json?.svid as string[];
  const leaf = parseCertificate(decodePem(chain[0] ?? '', ['CERTIFICATE']).der);
  assert.equal(leaf.notAfter.getTime() - leaf.notBefore.getTime() - 60_000, 30 * 60_000, 'spiffe.agentSvidLifetime (and the backdate)');
  const bundle = parseBundle(r.json?.bundle as string, 'example.org');
  assert.equal(validateX509Svid(chain.map((p) => decodePem(p, ['CERTIFICATE']).der), () => bundle, clock.now()).id.toString(), t.agentId);
  writeFileSync(tmp.path('agent.pem'), chain[0] ?? '');
  writeFileSync(tmp.path('int.pem'), chain.slice(1).join(''));
  const v = await runAsync('openssl', ['verify', '-CAfile', ca.rootFile, '-untrusted', tmp.path('int.pem'), '-purpose', 'sslclient', tmp.path('agent.pem')]);
  assert.equal(v.code, 0, v.stderr);
  agent = { id: t.id, agentId: t.agentId, cert: chain.join(''), key: csr.key };
  const again = await attest(t.token, testCsr('agent', []).pem);
  assert.deepEqual([again.status, again.json?.code, again.json?.reason], [401, 'ERR_ATTESTATION_FAILED', 'already-used']);
  assert.deepEqual([(await attest('nope', csr.pem)).json?.reason], ['malformed']);
  assert.deepEqual([(await attest(`${'0'.repeat(16)}.${'A'.repeat(32)}`, csr.pem)).json?.reason], ['unknown']);
  const short = await newToken('1m');
  offset += 61_000;
  assert.deepEqual([(await attest(short.token, csr.pem)).json?.reason], ['expired']);
  const wrongAttestor = await httpsRequest(ca, `${running.url}/spiffe/agent/attest`, { body: { attestor: 'aws_iid', token: t.token, csr: csr.pem } });
  assert.deepEqual([wrongAttestor.status, wrongAttestor.json?.code], [400, 'ERR_REQUEST_INVALID']);
  const listed = JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...cfg()])).stdout) as { spiffeId: string; selectors: string[]; banned: boolean }[];
  assert.deepEqual(listed.map((a) => [a.spiffeId, a.selectors, a.banned]), [[t.agentId, [`join_token:${t.id}`], false]]);
});

test('agent SVID renewal over mTLS: a new SVID for a new key; only the newest SVID renews', async () => {
  const csr = testCsr('agent', []);
  const r = await asAgent('/spiffe/agent/renew', agent, { csr: csr.pem });
  assert.equal(r.status, 201, r.text);
  const stale = await asAgent('/spiffe/agent/renew', agent, { csr: testCsr('agent', []).pem });
  assert.deepEqual([stale.status, stale.json?.code], [401, 'ERR_AUTH_CERTIFICATE']);
  agent = { ...agent, cert: (r.json?.svid as string[]).join(''), key: csr.key };
});

test('the entries an agent serves, and a batch of X509- and JWT-SVIDs for them; other entries refused item by item', async () => {
  const mk = async (args: string[]) => (JSON.parse(ok(await signetAsync(['entry', 'create', ...args, '--json', ...cfg()])).stdout) as { id: string }).id;
  await mk(['--node', '--spiffe-id', 'spiffe://example.org/nodes/n1', '--selector', `join_token:${agent.id}`]);
  await mk(['--node', '--spiffe-id', 'spiffe://example.org/nodes/other', '--selector', 'join_token:ffffffffffffffff']);
  const w1 = await mk(['--spiffe-id', 'spiffe://example.org/billing', '--parent-id', 'spiffe://example.org/nodes/n1', '--selector', 'unix:uid:1000', '--dns', 'billing.example.org', '--x509-ttl', '10m', '--jwt-ttl', '2m']);
  const w2 = await mk(['--spiffe-id', 'spiffe://example.org/cache', '--parent-id', agent.agentId, '--selector', 'unix:uid:1001']);
  const w3 = await mk(['--spiffe-id', 'spiffe://example.org/elsewhere', '--parent-id', 'spiffe://example.org/nodes/other', '--selector', 'unix:uid:1002']);
  const entries = await asAgent('/spiffe/agent/entries', agent);
  assert.equal(entries.status, 200, entries.text);
  assert.deepEqual((entries.json?.entries as { id: string }[]).map((e) => e.id).sort(), [w1, w2].sort());
  assert.equal(typeof entries.json?.revision, 'number');
  const c1 = testCsr('x', []);
  const c2 = testCsr('x', [], 'RSA');
  const batch = await asAgent('/spiffe/agent/svids', agent, {
    x509: [{ entryId: w1, csr: c1.pem }, { entryId: w2, csr: c2.pem }, { entryId: w3, csr: c1.pem }, { entryId: 'no-such-entry', csr: c1.pem }],
    jwt: [{ entryId: w1, audience: ['spiffe://example.org/db'] }, { entryId: w3, audience: 'x' }],
  });
  assert.equal(batch.status, 200, batch.text);
  const x = batch.json?.x509 as { entryId: string; spiffeId?: string; svid?: string[]; serial?: string; error?: { code: string } }[];
  assert.deepEqual(x.map((i) => i.spiffeId ?? i.error?.code), ['spiffe://example.org/billing', 'spiffe://example.org/cache', 'ERR_FORBIDDEN_NAMES', 'ERR_FORBIDDEN_NAMES']);
  const bundle = parseBundle((await httpsRequest(ca, `${running.url}/spiffe/bundle`)).text, 'example.org');
  const b1 = (x[0]?.svid ?? []).map((p) => decodePem(p, ['CERTIFICATE']).der);
  assert.equal(validateX509Svid(b1, () => bundle, clock.now()).id.toString(), 'spiffe://example.org/billing');
  const l1 = parseCertificate(b1[0] ?? new Uint8Array());
  assert.deepEqual((l1.ext.subjectAltName ?? []).map((n) => (n.type === 'uri' || n.type === 'dns' ? `${n.type}:${n.value}` : n.type)), ['uri:spiffe://example.org/billing', 'dns:billing.example.org']);
  assert.equal(l1.notAfter.getTime() - clock.now().getTime() <= 10 * 60_000 + 1000, true, 'the entry\'s x509 TTL');
  writeFileSync(tmp.path('w1.pem'), x[0]?.svid?.[0] ?? '');
  const v = await runAsync('openssl', ['verify', '-attime', String(Math.floor(clock.now().getTime() / 1000)), '-CAfile', ca.rootFile, '-untrusted', tmp.path('int.pem'), '-purpose', 'sslserver', tmp.path('w1.pem')]);
  assert.equal(v.code, 0, v.stderr);
  const j = batch.json?.jwt as { entryId: string; token?: string; error?: { code: string } }[];
  assert.equal(j[1]?.error?.code, 'ERR_FORBIDDEN_NAMES');
  const jv = validateJwtSvid(j[0]?.token ?? '', { audience: 'spiffe://example.org/db', bundle: () => bundle, now: clock.now() });
  assert.equal(jv.id.toString(), 'spiffe://example.org/billing');
  assert.equal(jv.expiresAt.getTime() - (jv.issuedAt?.getTime() ?? 0), 120_000, 'the entry\'s JWT TTL');
  const record = await running.store.certificates.get(x[0]?.serial ?? '');
  assert.deepEqual([record?.provisioner, record?.profile, record?.requester], ['spiffe', 'x509-svid', agent.agentId], 'in the inventory, by the agent');
  const events = await running.store.audit.list({ limit: 200 });
  assert.ok(events.some((e) => e.type === 'spiffe.x509-svid' && (e.detail as { entry?: string }).entry === w1));
  assert.ok(events.some((e) => e.type === 'spiffe.jwt-svid' && e.actor === agent.agentId && (e.detail as { items?: { entry: string }[] }).items?.[0]?.entry === w1));
  // Malformed batches.
  assert.equal((await asAgent('/spiffe/agent/svids', agent, { x509: 'x' })).json?.code, 'ERR_REQUEST_INVALID');
  assert.equal((await asAgent('/spiffe/agent/svids', agent, { x509: [{ entryId: w1 }] })).json?.code, 'ERR_REQUEST_INVALID');
  assert.equal((await asAgent('/spiffe/agent/svids', agent, { x509: Array.from({ length: 501 }, () => ({ entryId: w1, csr: c1.pem })) })).json?.code, 'ERR_REQUEST_INVALID');
  assert.equal((await httpsRequest(ca, `${running.url}/spiffe/agent/entries`)).json?.code, 'ERR_AUTH_REQUIRED');
});

test('an agent holding GET /spiffe/agent/entries?after=N&wait=… open gets the change as soon as the replica sees it, or its entries unchanged when the wait is over', async () => {
  const first = await asAgent('/spiffe/agent/entries', agent);
  const rev = first.json?.revision as number;
  const idle = await asAgent(`/spiffe/agent/entries?after=${rev}&wait=1s`, agent);
  assert.equal(idle.status, 200, idle.text);
  assert.equal(idle.json?.revision, rev, 'nothing changed: the same revision when the wait is over');
  const waiting = asAgent(`/spiffe/agent/entries?after=${rev}&wait=60s`, agent);
  // A change made in another process (signet entry on the CA host) reaches the waiting agent.
  ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/late', '--parent-id', agent.agentId, '--selector', 'unix:uid:1500', ...cfg()]));
  const woke = await waiting;
  assert.equal(woke.status, 200, woke.text);
  assert.ok((woke.json?.revision as number) > rev);
  assert.ok((woke.json?.entries as { spiffeId: string }[]).some((e) => e.spiffeId === 'spiffe://example.org/late'));
  for (const q of [`after=${rev}`, 'wait=5s', 'after=x&wait=5s', `after=${rev}&wait=2m`, `after=${rev}&wait=soon`, 'since=1']) {
    assert.equal((await asAgent(`/spiffe/agent/entries?${q}`, agent)).json?.code, 'ERR_REQUEST_INVALID', q);
  }
});

test('?delta=1: only what changed since N — changed entries the agent serves, IDs of the others to drop; the whole list when a node entry changed', async () => {
  const ids = async (path: string) => {
    const r = await asAgent(path, agent);
    assert.equal(r.status, 200, r.text);
    return { revision: r.json?.revision as number, delta: r.json?.delta, entries: (r.json?.entries as { spiffeId: string }[]).map((e) => e.spiffeId).sort(), removed: r.json?.removed as string[] | undefined };
  };
  const full = await ids('/spiffe/agent/entries');
  assert.ok(full.entries.length >= 3);
  assert.equal(full.delta, undefined);
  const mk = async (id: string, parent: string) => (JSON.parse(ok(await signetAsync(['entry', 'create', '--spiffe-id', id, '--parent-id', parent, '--selector', 'unix:uid:1600', '--json', ...cfg()])).stdout) as { id: string }).id;
  const mine = await mk('spiffe://example.org/delta/mine', agent.agentId);
  const underAlias = await mk('spiffe://example.org/delta/alias', 'spiffe://example.org/nodes/n1');
  const theirs = await mk('spiffe://example.org/delta/theirs', 'spiffe://example.org/nodes/other');
  const d1 = await ids(`/spiffe/agent/entries?after=${full.revision}&wait=5s&delta=1`);
  assert.deepEqual([d1.delta, d1.entries, d1.removed], [true, ['spiffe://example.org/delta/alias', 'spiffe://example.org/delta/mine'], [theirs]]);
  ok(await signetAsync(['entry', 'delete', mine, ...cfg()]));
  ok(await signetAsync(['entry', 'update', underAlias, '--dns', 'alias.example.org', ...cfg()]));
  const d2 = await ids(`/spiffe/agent/entries?after=${d1.revision}&wait=5s&delta=1`);
  assert.deepEqual([d2.delta, d2.entries, d2.removed], [true, ['spiffe://example.org/delta/alias'], [mine]]);
  // Applied to the full list, the deltas give what a full answer gives.
  const now = await ids('/spiffe/agent/entries');
  assert.deepEqual(now.entries, [...full.entries, 'spiffe://example.org/delta/alias'].sort());
  // The agent's node alias stops matching it: which entries it serves changes without them changing.
  const n1 = (JSON.parse(ok(await signetAsync(['entry', 'list', '--spiffe-id', 'spiffe://example.org/nodes/n1', '--json', ...cfg()])).stdout) as { id: string }[])[0]?.id ?? '';
  ok(await signetAsync(['entry', 'update', n1, '--selector', 'join_token:eeeeeeeeeeeeeeee', ...cfg()]));
  const d3 = await ids(`/spiffe/agent/entries?after=${d2.revision}&wait=5s&delta=1`);
  assert.equal(d3.delta, undefined, 'the whole list');
  assert.ok(!d3.entries.includes('spiffe://example.org/delta/alias') && !d3.entries.includes('spiffe://example.org/billing'), d3.entries.join(' '));
  ok(await signetAsync(['entry', 'update', n1, '--selector', `join_token:${agent.id}`, ...cfg()]));
  assert.ok((await ids('/spiffe/agent/entries')).entries.includes('spiffe://example.org/billing'));
  for (const q of [`after=${d2.revision}&wait=1s&delta=2`, 'delta=1']) assert.equal((await asAgent(`/spiffe/agent/entries?${q}`, agent)).json?.code, 'ERR_REQUEST_INVALID', q);
});

test('signet agent ban, unban and evict: a banned agent gets nothing, an evicted one must attest again', async () => {
  ok(await signetAsync(['agent', 'ban', agent.agentId, ...cfg()]));
  assert.deepEqual([(await asAgent('/spiffe/agent/entries', agent)).json?.code], ['ERR_AGENT_BANNED']);
  assert.deepEqual([(await asAgent('/spiffe/agent/renew', agent, { csr: testCsr('a', []).pem })).status], [403]);
  assert.equal((JSON.parse(ok(await signetAsync(['agent', 'show', agent.agentId, ...cfg()])).stdout) as { banned: boolean }).banned, true);
  ok(await signetAsync(['agent', 'unban', agent.agentId, ...cfg()]));
  assert.equal((await asAgent('/spiffe/agent/entries', agent)).status, 200);
  ok(await signetAsync(['agent', 'evict', agent.agentId, ...cfg()]));
  assert.deepEqual([(await asAgent('/spiffe/agent/entries', agent)).json?.code], ['ERR_AGENT_NOT_FOUND']);
  fails(await signetAsync(['agent', 'evict', agent.agentId, ...cfg()]), 2, 'ERR_AGENT_NOT_FOUND');
  fails(await signetAsync(['agent', 'show', 'spiffe://Example.org/x', ...cfg()]), 3, 'ERR_SPIFFE_ID_INVALID');
  fails(await signetAsync(['token', 'generate', '--ttl', '10s', ...cfg()]), 2, 'ERR_BAD_OPTION');
  fails(await signetAsync(['token', 'generate', '--config', plain.configPath]), 1, 'ERR_SPIFFE_NOT_ENABLED');
  const events = await running.store.audit.list({ limit: 300 });
  for (const t of ['spiffe.join-token.create', 'spiffe.agent.attest', 'spiffe.agent.ban', 'spiffe.agent.unban', 'spiffe.agent.evict']) assert.ok(events.some((e) => e.type === t), t);
});

test('the SPIFFE job forgets entry tombstones and expired join tokens after a week', async () => {
  const e = JSON.parse(ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/brief', '--parent-id', 'spiffe://example.org/nodes/n1', '--selector', 'unix:uid:4000', '--json', ...cfg()])).stdout) as { id: string };
  ok(await signetAsync(['entry', 'delete', e.id, ...cfg()]));
  const rev = await running.store.spiffe.entryRevision();
  assert.ok((await running.store.spiffe.entriesSince(rev - 1n, 10)).some((x) => x.id === e.id && x.deletedAt !== undefined), 'a tombstone for followers');
  assert.equal((await running.maintainSpiffe()).purged, undefined, 'kept for now');
  offset += 8 * 24 * 3_600_000;
  const run = await running.maintainSpiffe();
  assert.ok((run.purged ?? 0) >= 1);
  assert.ok(!(await running.store.spiffe.entriesSince(0n, 1000)).some((x) => x.id === e.id));
  assert.deepEqual(await running.store.spiffe.listJoinTokens(), [], 'join tokens expired a week ago are gone too');
});
