/**
 * `signet ca start` as a process, as an operator runs it: JSON log lines, SIGHUP reloads the
 * config (a bad one is logged and the running one kept), SIGTERM drains and exits 0, a restart
 * keeps every certificate and every used token, and each reason it cannot start is one line
 * with its code and exit status.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { fails, signet } from '../helpers/cli.js';
import { CaProcess, killCaProcesses } from '../helpers/ca-process.js';
import { createTestCa, httpsRequest, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';
import { freePort } from '../helpers/net.js';

const tmp = tempDir('signet-ca-process-');
let ca: TestCa;
let port = 0;
let url = '';


before(async () => {
  port = await freePort();
  url = `https://localhost:${port}`;
  ca = await createTestCa({ parent: tmp.dir, edit: (doc) => void (doc.address = `127.0.0.1:${port}`) });
});

after(() => tmp.cleanup());

async function sign(name: string, extra: Record<string, unknown> = {}, ott?: string): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const token = ott ?? (await testToken(ca, { url }, { subject: name }));
  return httpsRequest(ca, `${url}/sign`, { body: { csr: testCsr(name, [name]).pem, ott: token, ...extra } });
}

after(() => killCaProcesses());

let firstToken = '';
let firstCert: { crt: string; key: string } | undefined;

test('start, serve, reload on SIGHUP (a bad config is logged and the running one kept), drain and exit 0 on SIGTERM', async () => {
  const p = new CaProcess(ca.configPath);
  const listening = await p.waitFor('listening');
  assert.equal(listening.url, url);
  assert.equal(listening.root, ca.rootFingerprint);
  assert.match(p.stderr, new RegExp(`listening on ${url}\\nRoot fingerprint \\(SHA-256\\): ${ca.rootFingerprint}`));

  firstToken = await testToken(ca, { url }, { subject: 'first.example.com' });
  const csr = testCsr('first.example.com', ['first.example.com']);
  const first = await httpsRequest(ca, `${url}/sign`, { body: { csr: csr.pem, ott: firstToken } });
  assert.equal(first.status, 201);
  firstCert = { crt: first.json?.crt as string, key: csr.key.export({ format: 'pem', type: 'pkcs8' }) as string };
  const requestLine = await p.waitFor('request', (l) => l.path === '/sign');
  assert.equal(requestLine.status, 201);
  assert.match(String(requestLine.id), /^[0-9a-f]{16}$/);
  assert.doesNotMatch(JSON.stringify(p.lines), /eyJ/, 'no token in the logs');

  // Two days are beyond maxLifetime (1d) …
  assert.equal((await sign('long.example.com', { notAfter: '+48h' })).json?.code, 'ERR_LIFETIME_OUT_OF_BOUNDS');
  // … until the operator raises it and sends SIGHUP.
  const good = readFileSync(ca.configPath, 'utf8');
  writeFileSync(ca.configPath, good.replace('"maxLifetime": "24h"', '"maxLifetime": "72h"'));
  p.child.kill('SIGHUP');
  await p.waitFor('configuration reloaded');
  assert.equal((await sign('long.example.com', { notAfter: '+48h' })).status, 201);
  // A second provisioner appears with the next reload: the audit log records the change.
  const doc = JSON.parse(readFileSync(ca.configPath, 'utf8')) as { provisioners: Record<string, unknown>[] };
  doc.provisioners.push({ ...doc.provisioners[0], name: 'second' });
  writeFileSync(ca.configPath, JSON.stringify(doc));
  p.child.kill('SIGHUP');
  await p.waitFor('configuration reloaded', (l) => JSON.stringify(l.provisioners) === '["admin","second"]');
  const provisioners = await httpsRequest(ca, `${url}/provisioners`);
  assert.deepEqual((provisioners.json?.provisioners as { name: string }[]).map((x) => x.name), ['admin', 'second']);

  // A broken config: logged with its problems, the running config stays.
  writeFileSync(ca.configPath, good.replace('"maxLifetime": "24h"', '"maxLifetime": "72h"').replace('"logLevel"', '"logLevl"'));
  p.child.kill('SIGHUP');
  const refusedReload = await p.waitFor('configuration not reloaded; still serving the previous one');
  assert.equal(refusedReload.code, 'ERR_CONFIG_INVALID');
  assert.match(JSON.stringify(refusedReload.problems), /\$\.logLevl: unknown field/);
  assert.equal((await sign('still.example.com', { notAfter: '+48h' })).status, 201, 'still the reloaded config');
  writeFileSync(ca.configPath, good);

  // A request in flight when SIGTERM arrives is finished, then the process exits 0. `Expect:
  // 100-continue` makes the server say when it has read the headers; the body follows the signal.
  const body = JSON.stringify({ csr: testCsr('drain.example.com', ['drain.example.com']).pem, ott: await testToken(ca, { url }, { subject: 'drain.example.com' }) });
  const inFlight = request(`${url}/sign`, { method: 'POST', ca: ca.rootPem, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' } });
  const drained = new Promise<number>((resolve, reject) => {
    inFlight.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    inFlight.on('error', reject);
  });
  await new Promise<void>((resolve) => inFlight.once('continue', resolve));
  p.child.kill('SIGTERM');
  await p.waitFor('stopping');
  inFlight.end(body);
  assert.equal(await drained, 201, 'the request in flight was answered');
  assert.equal(await p.exited, 0, p.stderr);
  assert.equal(p.lines.at(-1)?.msg, 'stopped');
  // Newest first: "second" added; before it, admin's claims changed (maxLifetime); the refused reload changed nothing.
  const audit = JSON.parse(signet(['audit', 'list', '--config', ca.configPath, '--type', 'provisioners.change', '--json']).stdout) as { detail?: { added: string[]; changed: string[] } }[];
  assert.deepEqual(
    audit.map((e) => e.detail),
    [
      { added: ['second'], removed: [], changed: [] },
      { added: [], removed: [], changed: ['admin'] },
    ],
  );
});

test('a restart keeps the inventory and the used tokens', async () => {
  assert.ok(firstCert, 'the first test issued a certificate');
  const p = new CaProcess(ca.configPath);
  await p.waitFor('listening');
  assert.equal((await sign('first.example.com', {}, firstToken)).json?.code, 'ERR_TOKEN_REPLAYED');
  const renewed = await httpsRequest(ca, `${url}/renew`, { method: 'POST', cert: firstCert.crt, key: firstCert.key });
  assert.equal(renewed.status, 201, 'the certificate issued before the restart is known');
  p.child.kill('SIGINT');
  assert.equal(await p.exited, 0);
});

test('cannot start: port in use, wrong password, bad config, missing file — one line each, with its code and status', async () => {
  const blocker = createServer().listen(port, '127.0.0.1');
  await new Promise((resolve) => blocker.once('listening', resolve));
  try {
    fails(signet(['ca', 'start', '--config', ca.configPath]), 5, 'ERR_ADDRESS_IN_USE');
  } finally {
    blocker.close();
  }

  writeFileSync(ca.passwordFile, 'not the password\n');
  try {
    // The config names the password file, so the problem is reported at that field.
    const r = signet(['ca', 'start', '--config', ca.configPath]);
    fails(r, 1, 'ERR_CONFIG_INVALID');
    assert.match(r.stderr, /\$\.intermediate\.passwordFile: password file .* does not decrypt intermediate key/);
  } finally {
    writeFileSync(ca.passwordFile, 'test ca password\n');
  }

  const good = readFileSync(ca.configPath, 'utf8');
  writeFileSync(ca.configPath, good.replace('"version": 1', '"version": 1, "listen": "x"'));
  try {
    const r = signet(['ca', 'start', '--config', ca.configPath]);
    fails(r, 1, 'ERR_CONFIG_INVALID');
    assert.match(r.stderr, /\$\.listen: unknown field/);
  } finally {
    writeFileSync(ca.configPath, good);
  }

  renameSync(ca.intermediateFile, `${ca.intermediateFile}.moved`);
  try {
    const r = signet(['ca', 'start', '--config', ca.configPath]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /intermediate/);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, r.stderr);
  } finally {
    renameSync(`${ca.intermediateFile}.moved`, ca.intermediateFile);
  }
  fails(signet(['ca', 'start', '--config', tmp.path('nope.json')]), 5, 'ERR_CONFIG_NOT_FOUND');
});
