/**
 * Two `signet ca start` processes — replicas of one CA, as an operator runs them behind a load
 * balancer — on one real PostgreSQL server: 10,000 issuances split across both give 10,000
 * distinct serials and inventory rows; one token sent to both at once succeeds once; a
 * certificate issued on one renews and revokes on the other; and when PostgreSQL stops under
 * load, requests fail fast with 503 ERR_STORE_UNAVAILABLE and succeed again once it is back,
 * without restarting either replica and without half-written rows. A revocation through one
 * replica reaches both replicas' OCSP responders and CRLs (one CRL number) within seconds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { CaProcess, killCaProcesses } from '../helpers/ca-process.js';
import { createTestCa, httpsRequest, testCsr, testToken, type HttpsReply, type TestCa } from '../helpers/ca.js';
import { fails, signet, signetAsync, ok } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { freePort } from '../helpers/net.js';

/** The public URL both replicas answer to (the load balancer's); tokens name it as audience. */
const PUBLIC_URL = 'https://localhost';

const tmp = tempDir('signet-ha-');
let pg: PostgresServer;
let database = '';
let ca: TestCa;
let replicas: { process: CaProcess; url: string; configPath: string }[] = [];
/** The plain-HTTP revocation ports (CRL, OCSP) of replicas A and B. */
let revocationPorts: number[] = [];


before(async () => {
  pg = await startPostgres();
  database = await pg.createDatabase('ha');
  const [portA, portB] = [await freePort(), await freePort()];
  revocationPorts = [await freePort(), await freePort()];
  ca = await createTestCa({
    parent: tmp.dir,
    db: { url: pg.url(database), passwordFile: pg.passwordFile },
    edit: (doc) => {
      doc.address = `127.0.0.1:${portA}`;
      doc.urls = [PUBLIC_URL];
      // Each replica serves CRL and OCSP on its own plain-HTTP port; certificates name A's.
      doc.crlUrl = `http://127.0.0.1:${revocationPorts[0]}/crl`;
      doc.ocspUrl = `http://127.0.0.1:${revocationPorts[0]}/ocsp`;
      doc.revocation = { httpAddress: `127.0.0.1:${revocationPorts[0]}`, propagation: '1s' };
    },
  });
  writeFileSync(tmp.path('root.pem'), ca.rootPem);
  writeFileSync(tmp.path('int.pem'), readFileSync(ca.intermediateFile, 'latin1'));
  // Replica B: a copy of the CA directory (as a second host would get it) with its own address.
  const dirB = tmp.path('replica-b');
  cpSync(ca.dir, dirB, { recursive: true });
  const configB = join(dirB, 'signet.json');
  const doc = JSON.parse(readFileSync(configB, 'utf8')) as Record<string, unknown>;
  doc.address = `127.0.0.1:${portB}`;
  doc.revocation = { httpAddress: `127.0.0.1:${revocationPorts[1]}`, propagation: '1s' };
  writeFileSync(configB, JSON.stringify(doc, null, 2));
  replicas = [
    { process: new CaProcess(ca.configPath), url: `https://localhost:${portA}`, configPath: ca.configPath },
    { process: new CaProcess(configB), url: `https://localhost:${portB}`, configPath: configB },
  ];
  await Promise.all(replicas.map((r) => r.process.waitFor('listening')));
});

after(async () => {
  killCaProcesses();
  await pg.destroy();
  tmp.cleanup();
});

function replica(i: number): { process: CaProcess; url: string; configPath: string } {
  const r = replicas[i];
  if (r === undefined) throw new Error(`no replica ${i}`);
  return r;
}

/** A token for `name` from the admin provisioner, for the public URL both replicas accept. */
function token(name: string, path = '/sign', sans?: readonly string[]): Promise<string> {
  return testToken(ca, { url: PUBLIC_URL }, { subject: name, ...(sans !== undefined ? { sans } : {}), path });
}

/** POST over a keep-alive agent (the load test would spend most of its time in TLS handshakes otherwise). */
function post(agent: Agent, url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const raw = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, ca: ca.rootPem, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(raw);
  });
}

async function count(sql: string): Promise<number> {
  const rows = await pg.query<{ n: string }>(sql, [], database);
  return Number(rows[0]?.n);
}

test('10,000 issuances split across two replicas: 10,000 distinct serials, 10,000 inventory rows, 10,000 used tokens', async () => {
  const total = 10_000;
  const agents = replicas.map(() => new Agent({ keepAlive: true, maxSockets: 8 }));
  const serials: string[] = [];
  const perReplica = [0, 0];
  let next = 0;
  try {
    // 16 streams, each preparing its own requests (a fresh key, CSR and token each) and sending
    // them alternately to replica A and B.
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < total; i = next++) {
          const name = `svc-${i}.ha.example.com`;
          const target = i % 2;
          const r = await post(agents[target] as Agent, `${replica(target).url}/sign`, { csr: testCsr(name, [name]).pem, ott: await token(name) });
          assert.equal(r.status, 201, JSON.stringify(r.json));
          serials.push(r.json.serial as string);
          perReplica[target] = (perReplica[target] ?? 0) + 1;
        }
      }),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
  assert.deepEqual(perReplica, [total / 2, total / 2]);
  assert.equal(new Set(serials).size, total, 'every serial is distinct');
  // The issued certificates, and one OCSP responder certificate per replica (each signs with its own).
  assert.equal(await count("select count(*) as n from certificates where provisioner <> 'signet'"), total);
  assert.equal(await count("select count(*) as n from certificates where profile = 'ocsp-responder'"), 2);
  assert.equal(await count('select count(distinct serial) as n from certificates'), total + 2);
  assert.equal(await count("select count(*) as n from certificate_names where type = 'dns'"), total);
  assert.equal(await count('select count(*) as n from used_tokens'), total);
  assert.equal(await count("select count(*) as n from audit_events where type = 'certificate.sign' and outcome = 'success'"), total);
  // Both replicas wrote: the inventory holds what each of them answered.
  const sample = [serials[0], serials.at(-1)] as string[];
  for (const s of sample) assert.equal(await count(`select count(*) as n from certificates where serial = '${s}'`), 1);
});

test('one token sent to both replicas at the same moment is honoured exactly once', async () => {
  for (let round = 0; round < 10; round++) {
    const name = `race-${round}.ha.example.com`;
    const ott = await token(name);
    const csr = testCsr(name, [name]).pem;
    const replies = await Promise.all(replicas.map((r) => httpsRequest(ca, `${r.url}/sign`, { body: { csr, ott } })));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 401], replies.map((r) => r.text).join('\n'));
    assert.equal(replies.find((r) => r.status === 401)?.json?.code, 'ERR_TOKEN_REPLAYED');
  }
});

test('a certificate issued on replica A renews on B; B revokes the renewal; A then refuses to renew either', async () => {
  const name = 'roam.ha.example.com';
  const csr = testCsr(name, [name]);
  const keyPem = csr.key.export({ format: 'pem', type: 'pkcs8' }) as string;
  const issued = await httpsRequest(ca, `${replica(0).url}/sign`, { body: { csr: csr.pem, ott: await token(name) } });
  assert.equal(issued.status, 201, issued.text);
  const first = { crt: issued.json?.crt as string, serial: issued.json?.serial as string };

  const renewed = await httpsRequest(ca, `${replica(1).url}/renew`, { method: 'POST', cert: first.crt, key: keyPem });
  assert.equal(renewed.status, 201, renewed.text);
  const second = { crt: renewed.json?.crt as string, serial: renewed.json?.serial as string };
  assert.notEqual(second.serial, first.serial);

  const refusal = (r: HttpsReply, status: number, code: string) => {
    assert.equal(r.status, status, r.text);
    assert.equal(r.json?.code, code, r.text);
  };
  refusal(await httpsRequest(ca, `${replica(0).url}/renew`, { method: 'POST', cert: first.crt, key: keyPem }), 409, 'ERR_CERT_REPLACED');

  const revoked = await httpsRequest(ca, `${replica(1).url}/revoke`, { method: 'POST', cert: second.crt, key: keyPem, body: { serial: second.serial, reason: 'keyCompromise' } });
  assert.equal(revoked.status, 200, revoked.text);
  refusal(await httpsRequest(ca, `${replica(0).url}/renew`, { method: 'POST', cert: second.crt, key: keyPem }), 403, 'ERR_CERT_REVOKED');
  // Revoking again through the other replica is idempotent: the first reason and time stand.
  const again = await httpsRequest(ca, `${replica(0).url}/revoke`, { method: 'POST', body: { serial: second.serial, reason: 'superseded', ott: await token(second.serial, '/revoke', []) } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.reason, 'keyCompromise');
  assert.equal(again.json?.revokedAt, revoked.json?.revokedAt);

  // The operator's view, from either replica's config: one chain, the end of it revoked.
  const shown = JSON.parse(ok(signet(['inventory', 'show', first.serial, '--config', replica(1).configPath, '--json'])).stdout) as Record<string, unknown>;
  assert.equal(shown.replacedBy, second.serial);
  const last = JSON.parse(ok(signet(['inventory', 'show', second.serial, '--config', replica(0).configPath, '--json'])).stdout) as Record<string, unknown>;
  assert.equal(last.status, 'revoked');
  assert.equal(last.replaces, first.serial);
});

/** Polls `check` every 200 ms until it holds (the watchers tick every second); fails after 30 s. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${what}: not within 30 s`);
}

test('revoked through replica B: both replicas\' OCSP responders say revoked (openssl ocsp, verify --ocsp) and both CRLs list it, with one CRL number', async () => {
  const name = 'ocsp.ha.example.com';
  const csr = testCsr(name, [name]);
  const issued = await httpsRequest(ca, `${replica(0).url}/sign`, { body: { csr: csr.pem, ott: await token(name) } });
  assert.equal(issued.status, 201, issued.text);
  const leaf = { crt: issued.json?.crt as string, serial: issued.json?.serial as string };
  writeFileSync(tmp.path('ocsp-leaf.pem'), leaf.crt);
  const ask = (port: number) => runAsync('openssl', ['ocsp', '-issuer', tmp.path('int.pem'), '-CAfile', tmp.path('root.pem'), '-cert', tmp.path('ocsp-leaf.pem'), '-url', `http://127.0.0.1:${port}/ocsp`]);
  for (const port of revocationPorts) assert.match((await ask(port)).stdout, /: good/);
  ok(await signetAsync(['certificate', 'verify', tmp.path('ocsp-leaf.pem'), '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), '--ocsp']));

  const revoked = await httpsRequest(ca, `${replica(1).url}/revoke`, { method: 'POST', cert: leaf.crt, key: csr.key.export({ format: 'pem', type: 'pkcs8' }) as string, body: { serial: leaf.serial, reason: 'keyCompromise' } });
  assert.equal(revoked.status, 200, revoked.text);
  for (const port of revocationPorts) {
    await eventually(`replica on ${port} says revoked`, async () => /: revoked/.test((await ask(port)).stdout));
    const r = await ask(port);
    assert.match(r.stdout + r.stderr, /Response verify OK/);
    assert.match(r.stdout, /Reason: keyCompromise/);
  }
  fails(await signetAsync(['certificate', 'verify', tmp.path('ocsp-leaf.pem'), '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), '--ocsp']), 1, 'ERR_VERIFY_REVOKED');
  fails(await signetAsync(['certificate', 'verify', tmp.path('ocsp-leaf.pem'), '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), '--ocsp-url', `http://127.0.0.1:${revocationPorts[1]}/ocsp`]), 1, 'ERR_VERIFY_REVOKED');
  const numbers: string[] = [];
  for (const port of revocationPorts) {
    await eventually(`replica on ${port} lists it in its CRL`, async () => {
      const r = await signetAsync(['crl', 'inspect', `http://127.0.0.1:${port}/crl`, '--issuer', tmp.path('int.pem'), '--serial', leaf.serial, '--json']);
      const item = (JSON.parse(r.stdout) as { items: { crlNumber: string; lookups: { listed: boolean }[] }[] }).items[0];
      if (r.status !== 0 || item?.lookups[0]?.listed !== true) return false;
      numbers.push(item.crlNumber);
      return true;
    });
  }
  assert.equal(numbers[0], numbers[1], 'one CRL, signed once, served by both');
});

test('PostgreSQL stops under load: requests end at once with 503 ERR_STORE_UNAVAILABLE (Retry-After), nothing half-written; once it is back both replicas issue again without a restart', async () => {
  const agents = replicas.map(() => new Agent({ keepAlive: true, maxSockets: 8 }));
  const outcomes: { status: number; code?: string }[] = [];
  let stopped: Promise<void> | undefined;
  try {
    await Promise.all(
      Array.from({ length: 16 }, async (_, stream) => {
        for (let i = 0; i < 40; i++) {
          const name = `outage-${stream}-${i}.ha.example.com`;
          // A quarter of the way in, the database goes away (fast shutdown: connections cut).
          if (stream === 0 && i === 10) stopped = pg.stop();
          const r = await post(agents[i % 2] as Agent, `${replica(i % 2).url}/sign`, { csr: testCsr(name, [name]).pem, ott: await token(name) });
          outcomes.push({ status: r.status, ...(typeof r.json.code === 'string' ? { code: r.json.code } : {}) });
        }
      }),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
  await stopped;
  for (const o of outcomes) {
    if (o.status === 201) continue;
    assert.equal(o.status, 503, JSON.stringify(o));
    assert.ok(o.code === 'ERR_STORE_UNAVAILABLE' || o.code === 'ERR_STORE_BUSY', JSON.stringify(o));
  }
  assert.ok(outcomes.some((o) => o.status === 503), 'the outage reached requests');

  // While it is down: a clear 503 with Retry-After, from both replicas; health says so too.
  for (const r of replicas) {
    const name = 'down.ha.example.com';
    const reply = await httpsRequest(ca, `${r.url}/sign`, { body: { csr: testCsr(name, [name]).pem, ott: await token(name) } });
    assert.equal(reply.status, 503, reply.text);
    assert.equal(reply.json?.code, 'ERR_STORE_UNAVAILABLE');
    assert.equal(reply.headers['retry-after'], '1');
    assert.doesNotMatch(reply.text, /password|at \w+ \(|node:internal/);
    assert.equal((await httpsRequest(ca, `${r.url}/health`)).status, 503);
  }

  await pg.start();
  for (const r of replicas) {
    const name = `back-${r.url.slice(-5)}.ha.example.com`;
    const reply = await httpsRequest(ca, `${r.url}/sign`, { body: { csr: testCsr(name, [name]).pem, ott: await token(name) } });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(r.process.child.exitCode, null, 'the replica kept running');
  }

  // No half-written issuance: every certificate has its names and its audit event, and every
  // successful sign event has its certificate.
  // (The replicas' own OCSP responder certificates have no names; their audit event is ocsp.responder.issue.)
  assert.equal(await count("select count(*) as n from certificates c where provisioner <> 'signet' and not exists (select 1 from certificate_names n where n.serial = c.serial)"), 0);
  assert.equal(
    await count(
      "select count(*) as n from certificates c where not exists (select 1 from audit_events a where a.serial = c.serial and a.outcome = 'success' and a.type in ('certificate.sign', 'certificate.renew', 'ocsp.responder.issue'))",
    ),
    0,
  );
  assert.equal(await count("select count(*) as n from audit_events a where a.type = 'certificate.sign' and a.outcome = 'success' and not exists (select 1 from certificates c where c.serial = a.serial)"), 0);
});
