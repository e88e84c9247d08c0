/**
 * The agent's pieces on their own: kernel peer credentials of a real Unix socket connection
 * (the native addon), Unix workload attestation of a process running as another user, the PID
 * reuse guard (a pidfd that outlives its process), selector matching, and the strict agent
 * config (all problems at once, with their paths; the CLI's refusals).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { checkAgentConfig } from '../../src/agent/config.js';
import { peerAlive, peerOf, releasePeer } from '../../src/agent/peer.js';
import { selectorsMatch, UnixAttestor } from '../../src/agent/unix-attestor.js';
import { SignetError } from '../../src/core/errors.js';
import { fails, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-attest-');

/** A child process (as `uid`) connected to a fresh Unix socket; the server side's socket. */
async function connectedChild(uid?: number): Promise<{ socket: Socket; pid: number; exit: () => Promise<void>; close: () => void }> {
  const path = tmp.path(`s${Math.random().toString(16).slice(2, 10)}.sock`);
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const { chmodSync } = await import('node:fs');
  chmodSync(path, 0o777);
  chmodSync(tmp.dir, 0o755);
  const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}); setInterval(() => {}, 1000)`], { ...(uid !== undefined ? { uid, gid: uid } : {}), stdio: 'ignore' });
  const socket = await accepted;
  return {
    socket,
    pid: child.pid as number,
    exit: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
    close: () => {
      socket.destroy();
      server.close();
      child.kill('SIGKILL');
    },
  };
}

test('peer credentials come from the kernel: pid, uid and gid of the process at the other end', async () => {
  const c = await connectedChild(65534);
  try {
    const peer = peerOf(c.socket);
    assert.equal(peer.pid, c.pid);
    assert.equal(peer.uid, 65534);
    assert.equal(peer.gid, 65534);
    assert.ok(peer.pidfd >= 0);
    assert.equal(peerAlive(peer), true);
    releasePeer(peer);
  } finally {
    c.close();
  }
});

test('unix attestation: uid, gid, user, group, path and (when asked) the SHA-256 of the executable', async () => {
  const c = await connectedChild(65534);
  try {
    const peer = peerOf(c.socket);
    const a = await new UnixAttestor().attest(peer, { sha256: true });
    const exe = realpathSync(process.execPath);
    const sha = createHash('sha256').update(readFileSync(exe)).digest('hex');
    for (const s of ['unix:uid:65534', 'unix:gid:65534', 'unix:user:nobody', `unix:path:${exe}`, `unix:sha256:${sha}`]) assert.ok(a.selectors.includes(s), `${s} in ${a.selectors.join(' ')}`);
    assert.ok(a.selectors.includes('unix:group:nogroup') || a.selectors.includes('unix:group:nobody'));
    const cheap = await new UnixAttestor().attest(peer);
    assert.ok(!cheap.selectors.some((s) => s.startsWith('unix:sha256:')), 'no hash unless an entry asks for one');
    releasePeer(peer);
  } finally {
    c.close();
  }
});

test('PID reuse guard: once the caller has exited its pidfd says so, and attestation refuses (ERR_ATTESTATION_FAILED)', async () => {
  const c = await connectedChild();
  try {
    const peer = peerOf(c.socket);
    await c.exit();
    assert.equal(peerAlive(peer), false);
    await assert.rejects(new UnixAttestor().attest(peer), (e: unknown) => e instanceof SignetError && e.code === 'ERR_ATTESTATION_FAILED');
    releasePeer(peer);
  } finally {
    c.close();
  }
});

test('selector matching: every selector of the entry must be among the workload\'s', () => {
  const w = new Set(['unix:uid:0', 'unix:gid:0', 'unix:path:/usr/bin/app']);
  assert.equal(selectorsMatch(['unix:uid:0'], w), true);
  assert.equal(selectorsMatch(['unix:uid:0', 'unix:path:/usr/bin/app'], w), true);
  assert.equal(selectorsMatch(['unix:uid:0', 'unix:path:/usr/bin/other'], w), false);
  assert.equal(selectorsMatch([], w), false);
});

test('agent config: strict, every problem at once with its path; relative paths are the config file\'s', () => {
  const good = checkAgentConfig(
    { servers: ['https://ca.example.org:9000'], trustDomain: 'example.org', trust: { rootFingerprint: 'a'.repeat(64) }, attestor: { joinToken: { tokenFile: 'agent.token' } }, socketPath: '/run/signet/agent.sock', dataDir: 'data' },
    '/etc/signet',
  );
  assert.deepEqual(good.attestor, { kind: 'join_token', tokenFile: '/etc/signet/agent.token' });
  const pop = checkAgentConfig(
    { servers: ['https://ca.example.org:9000'], trustDomain: 'example.org', trust: { rootFingerprint: 'a'.repeat(64) }, attestor: { x509pop: { certFile: 'node.pem', keyFile: '/keys/node.key' } }, socketPath: '/run/signet/agent.sock', dataDir: 'data' },
    '/etc/signet',
  );
  assert.deepEqual(pop.attestor, { kind: 'x509pop', certFile: '/etc/signet/node.pem', keyFile: '/keys/node.key' });
  const tpm = checkAgentConfig(
    { servers: ['https://ca.example.org:9000'], trustDomain: 'example.org', trust: { rootFingerprint: 'a'.repeat(64) }, attestor: { tpm: { tcti: 'device:/dev/tpmrm0', intermediatesFile: 'ek-ca.pem' } }, socketPath: '/run/signet/agent.sock', dataDir: 'data' },
    '/etc/signet',
  );
  assert.deepEqual(tpm.attestor, { kind: 'tpm', tcti: 'device:/dev/tpmrm0', ek: 'rsa', intermediatesFile: '/etc/signet/ek-ca.pem' });
  for (const [attestor, at] of [
    [{ joinToken: { tokenFile: 't' }, x509pop: { certFile: 'c', keyFile: 'k' } }, '$.attestor:'],
    [{ x509pop: { certFile: 'c' } }, '$.attestor.x509pop.keyFile:'],
    [{ x509pop: 'node.pem' }, '$.attestor.x509pop:'],
    [{ x509pop: { certFile: 'c', keyFile: 'k', password: 'x' } }, '$.attestor.x509pop.password:'],
    [{ tpm: {} }, '$.attestor.tpm.tcti:'],
    [{ tpm: { tcti: 'device:/dev/tpmrm0', ek: 'sha1' } }, '$.attestor.tpm.ek:'],
  ] as const) {
    assert.throws(
      () => checkAgentConfig({ servers: ['https://ca.example.org'], trustDomain: 'example.org', trust: { rootFingerprint: 'a'.repeat(64) }, attestor, socketPath: '/run/a.sock', dataDir: '/d' }, '/'),
      (e: unknown) => e instanceof SignetError && (e.detail as { problems: string[] }).problems.some((p) => p.startsWith(at)),
      at,
    );
  }
  assert.equal(good.dataDir, '/etc/signet/data');
  assert.throws(
    () => checkAgentConfig({ servers: ['http://ca', 'https://ca.example.org', 'https://ca.example.org'], trustDomain: 'Bad_TD', trust: { rootFingerprint: 'zz', rootFile: 'x' }, attestor: { aws_iid: {} }, socketPath: `/${'s'.repeat(120)}`, extra: 1 }, '/'),
    (e: unknown) => {
      assert.ok(e instanceof SignetError && e.code === 'ERR_CONFIG_INVALID');
      const problems = (e.detail as { problems: string[] }).problems.join('\n');
      for (const p of ['$.extra', '$.servers[0]', '$.servers[2]', '$.trustDomain', '$.trust', '$.attestor.aws_iid', '$.attestor', '$.socketPath', '$.dataDir']) assert.ok(problems.includes(`${p}:`), `${p} in\n${problems}`);
      return true;
    },
  );
});

test('signet agent run: a missing or broken config is one clear error, and nothing starts', async () => {
  fails(await signetAsync(['agent', 'run', '--config', tmp.path('none.json')]), 5, 'ERR_CONFIG_NOT_FOUND');
  writeFileSync(tmp.path('bad.json'), '{"servers": [], "trustDomain": "example.org"');
  fails(await signetAsync(['agent', 'run', '--config', tmp.path('bad.json')]), 3, 'ERR_JSON_MALFORMED');
  writeFileSync(tmp.path('bad.json'), '{"servers": []}');
  fails(await signetAsync(['agent', 'run', '--config', tmp.path('bad.json')]), 1, 'ERR_CONFIG_INVALID');
});
