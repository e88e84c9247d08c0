/**
 * Periodic jobs across replicas: two CAs on one PostgreSQL database tick together, and the lease
 * in the database lets exactly one of them purge the used-token table; the holder keeps the
 * lease while it lives, the other takes over once it stops; a purge never forgets a token that
 * could still be replayed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Clock } from '../../src/core/clock.js';
import type { CrlPublisher } from '../../src/revocation/crl.js';
import { JOB_INTERVAL_MS, type JobRun, type RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';

const PUBLIC_URL = 'https://localhost';
const tmp = tempDir('signet-jobs-');
let pg: PostgresServer;
let ca: TestCa;
let database = '';
let t = Date.now();
const clock: Clock = { now: () => new Date(t) };

before(async () => {
  pg = await startPostgres();
  database = await pg.createDatabase('jobs');
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({ parent: tmp.path('ca-parent'), db: { url: pg.url(database), passwordFile: pg.passwordFile }, edit: (doc) => void (doc.urls = [PUBLIC_URL]) });
});

after(async () => {
  await pg.destroy();
  tmp.cleanup();
});

async function issue(on: RunningCa, name: string): Promise<{ csr: string; ott: string }> {
  const csr = testCsr(name, [name]).pem;
  const ott = await testToken(ca, { url: PUBLIC_URL }, { subject: name }, clock);
  const r = await httpsRequest(ca, `${on.url}/sign`, { body: { csr, ott } });
  assert.equal(r.status, 201, r.text);
  return { csr, ott };
}

async function usedTokens(): Promise<number> {
  return Number((await pg.query<{ n: string }>('select count(*) as n from used_tokens', [], database))[0]?.n);
}

test('one replica at a time purges expired used tokens; the holder keeps the lease; the other takes over when it stops', async () => {
  const replicas = [await startTestCa(ca, { clock }), await startTestCa(ca, { clock })] as const;
  let open = [true, true];
  try {
    const early = await Promise.all([0, 1, 2].map((i) => issue(replicas[i % 2] as RunningCa, `early-${i}.example.com`)));
    assert.equal(await usedTokens(), 3);

    // Both tick at once: exactly one runs the job (nothing has expired yet).
    const purgeRun = (runs: readonly JobRun[]): JobRun | undefined => runs.find((r) => r.job === 'purge-used-tokens');
    const first = (await Promise.all(replicas.map((r) => r.runJobs()))).map((runs) => [purgeRun(runs)]);
    const ran = first.map((runs) => runs[0]?.ran);
    assert.deepEqual([...ran].sort(), [false, true]);
    const holder = ran.indexOf(true);
    const other = 1 - holder;
    assert.equal(first[holder]?.[0]?.purged, 0);

    // Two hours pass, the holder ticking every interval as its timer would: the other replica's
    // ticks find the lease held each time; the early tokens are purged once past exp + leeway.
    let purged = 0;
    for (let tick = 0; tick < (2 * 3600_000) / JOB_INTERVAL_MS; tick++) {
      t += JOB_INTERVAL_MS;
      assert.deepEqual(purgeRun(await (replicas[other] as RunningCa).runJobs()), { job: 'purge-used-tokens', ran: false }, `tick ${tick}: the holder still holds the lease`);
      const runs = [purgeRun(await (replicas[holder] as RunningCa).runJobs())];
      assert.equal(runs[0]?.ran, true);
      purged += runs[0]?.purged ?? 0;
    }
    assert.equal(purged, 3);
    const fresh = await issue(replicas[other] as RunningCa, 'fresh.example.com');
    assert.deepEqual(purgeRun(await (replicas[holder] as RunningCa).runJobs()), { job: 'purge-used-tokens', ran: true, purged: 0 }, 'a token that could still be replayed is kept');
    assert.equal(await usedTokens(), 1);
    // The token that survived the purge is still refused when replayed; the purged ones had expired anyway.
    const replay = await httpsRequest(ca, `${(replicas[holder] as RunningCa).url}/sign`, { body: fresh });
    assert.equal(replay.json?.code, 'ERR_TOKEN_REPLAYED');
    const stale = await httpsRequest(ca, `${(replicas[holder] as RunningCa).url}/sign`, { body: early[0] });
    assert.equal(stale.json?.code, 'ERR_TOKEN_EXPIRED');

    // The holder stops; once its lease (two intervals) has run out, the other replica takes over.
    await (replicas[holder] as RunningCa).close();
    open[holder] = false;
    t += JOB_INTERVAL_MS;
    assert.equal(purgeRun(await (replicas[other] as RunningCa).runJobs())?.ran, false, 'not before the lease ran out');
    t += JOB_INTERVAL_MS + 1;
    assert.equal(purgeRun(await (replicas[other] as RunningCa).runJobs())?.ran, true);
  } finally {
    await Promise.all(replicas.filter((_, i) => open[i]).map((r) => r.close()));
    open = [false, false];
  }
});

test('CRLs on PostgreSQL: replicas ticking together sign one CRL per change; numbers never repeat even when both sign at once; both serve the newest', async () => {
  // A CA of its own on a database of its own, on the real clock (the test before moved its clock hours ahead).
  mkdirSync(tmp.path('crl-parent'));
  const crlDb = await pg.createDatabase('crl');
  const ca = await createTestCa({ parent: tmp.path('crl-parent'), db: { url: pg.url(crlDb), passwordFile: pg.passwordFile }, edit: (doc) => void (doc.urls = [PUBLIC_URL]) });
  // The test ticks the revocation watcher itself; a timer tick between a revocation and that call would race it.
  const quiet = { revocationIntervalMs: 3_600_000 };
  const replicas = [await startTestCa(ca, quiet), await startTestCa(ca, quiet)] as const;
  try {
    const numbers: bigint[] = [];
    for (let round = 0; round < 4; round++) {
      const name = `crl-${round}.example.com`;
      const csr = testCsr(name, [name]).pem;
      const ott = await testToken(ca, { url: PUBLIC_URL }, { subject: name });
      const on = replicas[round % 2] as RunningCa;
      assert.equal((await httpsRequest(ca, `${on.url}/sign`, { body: { csr, ott } })).status, 201);
      const record = (await replicas[0].store.certificates.list({ name }, { limit: 10 })).items[0];
      assert.ok(record, `${name} is in the inventory`);
      await on.authority.revokeAuthorized({ serial: record.serial, reason: 'superseded', actor: 'test' });
      const runs = await Promise.all(replicas.map((r) => r.publishRevocations()));
      assert.equal(runs.filter((r) => r.crl?.decision === 'revocations').length, 1, 'one replica signs for the revocation');
      const both = await Promise.all(replicas.map((r) => (r.crl as CrlPublisher).generate()));
      numbers.push(...both.map((c) => c.number));
      await Promise.all(replicas.map((r) => r.publishRevocations()));
      assert.equal(replicas[0].crl?.served()?.number, replicas[1].crl?.served()?.number);
      assert.equal(replicas[0].crl?.served()?.entries, round + 1);
    }
    assert.equal(new Set(numbers).size, numbers.length, `numbers ${numbers.join(',')} are unique`);
  } finally {
    await Promise.all(replicas.map((r) => r.close()));
  }
});
