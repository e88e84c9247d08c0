/**
 * `npm start` (scripts/start.mjs after the build) in a fresh directory: it creates the demo CA in
 * ./.signet, serves it in the foreground, and prints the one command that gets a certificate —
 * which, run exactly as printed, yields a chain OpenSSL verifies. SIGTERM stops it with exit 0;
 * a second start reuses the CA; a busy port is the CA's one-line error. Event-driven on the
 * script's output, no sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const script = fileURLToPath(new URL('../../../scripts/start.mjs', import.meta.url));

/** Listens on a free loopback port; the caller closes it (or closes it at once to get a free port). */
function listenAnywhere(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}

async function freePort(): Promise<number> {
  const { server, port } = await listenAnywhere();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Started {
  /** The announcement block (everything up to the `bootstrap` line). */
  readonly text: string;
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Runs the start script in `cwd` until it announced the next command (resolves) or exited
 * (rejects with its output).
 */
function start(cwd: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, [script], { cwd, env: { ...process.env, SIGNET_PORT: String(port) } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise<Started>((resolve, reject) => {
    let announced = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!announced && /From another machine or user, pin this CA first: .*\n/.test(stdout)) {
        announced = true;
        resolve({
          text: stdout,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((r) => {
      if (!announced) reject(Object.assign(new Error(`start.mjs exited ${r.code} before announcing:\n${r.stdout}\n${r.stderr}`), r));
    });
  });
}

test('npm start creates and serves a demo CA; the printed command yields a certificate OpenSSL verifies; SIGTERM exits 0; a second start reuses the CA', { timeout: 120_000 }, async () => {
  const tmp = tempDir('signet-start-');
  const port = await freePort();
  try {
    const first = await start(tmp.dir, port);
    let stopped;
    let fingerprint: string | undefined;
    try {
      assert.match(first.text, /Created the demo CA in \.signet\/ca\/ — running at https:\/\/localhost:\d+/);
      fingerprint = /Root fingerprint \(SHA-256\): ([0-9a-f]{64})/.exec(first.text)?.[1];
      const ossl = opensslOk(['x509', '-in', join(tmp.dir, '.signet', 'ca', 'certs', 'root.crt'), '-noout', '-fingerprint', '-sha256']);
      assert.equal(ossl.split('=')[1]?.trim().replace(/:/g, '').toLowerCase(), fingerprint);
      for (const f of ['ca-password.txt', 'provisioner-password.txt', 'root.key']) assert.equal(statSync(join(tmp.dir, '.signet', f)).mode & 0o777, 0o600, f);

      // The exact commands, as printed.
      const next = /get a certificate:\n {2}(.+)\n/.exec(first.text)?.[1];
      const verify = /check it with OpenSSL:\n {2}(.+)\n/.exec(first.text)?.[1];
      assert.ok(next !== undefined && verify !== undefined, first.text);
      assert.match(next, /^node \S+main\.js ca certificate localhost localhost\.crt localhost\.key --config \.signet\/ca\/signet\.json --provisioner-password-file \.signet\/provisioner-password\.txt$/);
      const issued = spawnSync('bash', ['-c', next], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(issued.status, 0, issued.stderr);
      const checked = spawnSync('bash', ['-c', verify], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(checked.status, 0, checked.stderr);
      assert.match(checked.stdout, /localhost\.crt: OK/);
      opensslOk(['verify', '-CAfile', join(tmp.dir, '.signet', 'ca', 'certs', 'root.crt'), '-untrusted', join(tmp.dir, 'localhost.crt'), '-verify_hostname', 'localhost', join(tmp.dir, 'localhost.crt')]);
    } finally {
      stopped = await first.stop();
    }
    assert.equal(stopped.code, 0, stopped.stderr);
    // The CA's own log passed through: the request for the certificate.
    assert.match(stopped.stdout, /"path":"\/sign","status":201/);

    const second = await start(tmp.dir, port);
    const again = await second.stop();
    assert.match(second.text, /Using the demo CA in \.signet\/ca\//);
    assert.match(second.text, new RegExp(`Root fingerprint \\(SHA-256\\): ${fingerprint ?? 'none'}`));
    assert.equal(again.code, 0, again.stderr);
  } finally {
    tmp.cleanup();
  }
});

test('a busy port ends npm start with the CA\'s one-line error', { timeout: 120_000 }, async () => {
  const tmp = tempDir('signet-start-busy-');
  const { server, port } = await listenAnywhere();
  try {
    const failed = await start(tmp.dir, port).then(
      async (s) => {
        await s.stop();
        assert.fail('the CA started on a busy port');
      },
      (e: { code: number | null; stderr: string }) => e,
    );
    assert.equal(failed.code, 5);
    assert.match(failed.stderr, /^error: cannot listen on 127\.0\.0\.1:\d+: the port is in use \(ERR_ADDRESS_IN_USE\)$/m);
    assert.equal(failed.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, failed.stderr);
    assert.doesNotMatch(failed.stderr, /\n\s+at /);
  } finally {
    server.close();
    tmp.cleanup();
  }
});
