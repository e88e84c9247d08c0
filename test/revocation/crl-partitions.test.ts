/**
 * Partitioned CRLs (`revocation.crl.shards`): every certificate names one partition's CRL in its
 * CRL distribution point (`crlUrl/k`, recorded in the inventory); each partition's CRL lists its
 * own revocations only, has its own issuing distribution point and a number from the issuer's one
 * counter; a revocation re-signs only its partition. OpenSSL fetches the partition a certificate
 * names (`verify -crl_check -crl_download`) and refuses a sibling's CRL, as `signet certificate
 * verify --crl` does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { encodePem } from '../../src/core/pem.js';
import { parseCertificates } from '../../src/x509/certificate.js';
import { parseCrl, type Crl } from '../../src/x509/crl.js';
import { httpsRequest, issueLeaf, startRevocationCa, startTestCa, type IssuedLeaf, type TestCa } from '../helpers/ca.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';

const SHARDS = 4;
const tmp = tempDir('signet-crl-partitions-');
let ca: TestCa;
let running: RunningCa;
let base = '';
const leaves: (IssuedLeaf & { shard: number })[] = [];

before(async () => {
  ({ ca, running, base } = await startRevocationCa(tmp.dir, { crl: { shards: SHARDS } }));
  // Enough certificates that every partition gets some (random choice; 40 make a miss ~ 4 × 0.75^40).
  for (let i = 0; i < 40; i++) {
    const leaf = await issueLeaf(ca, running, `p${i}.partitions.example.com`, tmp.path(`p${i}.pem`));
    const cdp = parseCertificates(readFileSync(leaf.file))[0]?.ext.crlDistributionPoints ?? [];
    assert.equal(cdp.length, 1);
    const m = new RegExp(`^${base}/crl/(\\d+)$`).exec(cdp[0] as string);
    assert.ok(m, `a partition URL: ${cdp[0]}`);
    leaves.push({ ...leaf, shard: Number(m[1]) });
  }
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

async function fetchCrl(path: string): Promise<{ status: number; body: Uint8Array }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
}

async function partitionCrl(k: number): Promise<Crl> {
  const r = await fetchCrl(k === 0 ? '/crl' : `/crl/${k}`);
  assert.equal(r.status, 200);
  return parseCrl(r.body);
}

test('each certificate names one of crlUrl/1 … crlUrl/N, every partition is used, and the inventory records it', async () => {
  assert.deepEqual([...new Set(leaves.map((l) => l.shard))].sort(), [1, 2, 3, 4]);
  for (const l of leaves.slice(0, 8)) assert.equal((await running.store.certificates.get(l.serial))?.crlShard, l.shard);
  // Every partition (and the unpartitioned CRL at crlUrl) is signed from the start, each with its own distribution point.
  const numbers = new Set<bigint>();
  for (let k = 0; k <= SHARDS; k++) {
    const crl = await partitionCrl(k);
    assert.deepEqual(crl.ext.issuingDistributionPoint?.fullName?.map((g) => g.value), [k === 0 ? `${base}/crl` : `${base}/crl/${k}`]);
    assert.equal(crl.revoked.length, 0);
    numbers.add(crl.ext.crlNumber ?? -1n);
  }
  assert.equal(numbers.size, SHARDS + 1, 'CRL numbers are the issuer\'s: none repeats across partitions');
});

test('a revocation appears in its partition\'s CRL only, and only that partition is signed again; OpenSSL follows each certificate to its partition', async () => {
  const victim = leaves[0]!;
  const r = await httpsRequest(ca, `${running.url}/revoke`, { cert: victim.pem, key: victim.key, body: { serial: victim.serial, reason: 'keyCompromise' } });
  assert.equal(r.status, 200, r.text);
  const run = await running.publishRevocations();
  assert.equal(run.crl?.decision, 'current', 'the unpartitioned CRL has nothing new');
  assert.deepEqual(
    run.crlShards?.map((s) => [s.shard, s.decision]),
    Array.from({ length: SHARDS }, (_, i) => [i + 1, i + 1 === victim.shard ? 'revocations' : 'current']),
  );
  for (let k = 0; k <= SHARDS; k++) {
    const listed = (await partitionCrl(k)).revoked.map((e) => e.serialHex);
    assert.deepEqual(listed, k === victim.shard ? [victim.serial] : [], `partition ${k}`);
  }
  // OpenSSL downloads the CRL the certificate names.
  const openssl = (file: string) => runAsync('openssl', ['verify', '-crl_check', '-crl_download', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), file]);
  const revoked = await openssl(victim.file);
  assert.match(revoked.stdout + revoked.stderr, /certificate revoked/);
  const sibling = leaves.find((l) => l.shard !== victim.shard)!;
  const good = await openssl(sibling.file);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /: OK/);
  // Signet's own check: the victim's partition CRL revokes it; a sibling partition's CRL does not cover it.
  for (let k = 1; k <= SHARDS; k++) writeFileSync(tmp.path(`p-${k}.crl`), encodePem('X509 CRL', (await fetchCrl(`/crl/${k}`)).body));
  const verify = (file: string, crls: number[]) => signet(['certificate', 'verify', file, '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), ...crls.flatMap((k) => ['--crl', tmp.path(`p-${k}.crl`)])]);
  fails(verify(victim.file, [1, 2, 3, 4]), 1, 'ERR_VERIFY_REVOKED');
  ok(verify(sibling.file, [1, 2, 3, 4]));
  fails(verify(victim.file, [1, 2, 3, 4].filter((k) => k !== victim.shard)), 1, 'ERR_VERIFY_CRL_MISSING');
});

test('partition paths: /crl/k.pem is PEM; /crl/0, /crl/5, /crl/x and /crl/01 are 404', async () => {
  const pem = await fetch(`${base}/crl/2.pem`);
  assert.equal(pem.status, 200);
  assert.match(await pem.text(), /^-----BEGIN X509 CRL-----/);
  for (const path of ['/crl/0', `/crl/${SHARDS + 1}`, '/crl/x', '/crl/01', '/crl/1.der']) assert.equal((await fetchCrl(path)).status, 404, path);
});

test('fewer partitions after a restart: new certificates name only the remaining ones, and every partition published before is still served (its certificates still name it)', async () => {
  const victim = leaves[0]!;
  await running.close();
  const doc = JSON.parse(readFileSync(ca.configPath, 'utf8')) as { revocation: { crl: { shards: number } } };
  doc.revocation.crl.shards = 2;
  writeFileSync(ca.configPath, JSON.stringify(doc, null, 2));
  running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  for (let k = 1; k <= SHARDS; k++) assert.equal((await fetchCrl(`/crl/${k}`)).status, 200, `partition ${k} is still served`);
  assert.deepEqual((await partitionCrl(victim.shard)).revoked.map((e) => e.serialHex), [victim.serial]);
  for (let i = 0; i < 12; i++) {
    const leaf = await issueLeaf(ca, running, `after${i}.partitions.example.com`, tmp.path(`after${i}.pem`));
    const shard = (await running.store.certificates.get(leaf.serial))?.crlShard;
    assert.ok(shard === 1 || shard === 2, `partition ${shard}`);
  }
});
