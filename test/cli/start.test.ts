/**
 * `npm start` (scripts/start.mjs after the build): creates the demo PKI once in ./.signet/demo,
 * reuses it afterwards, prints the root fingerprint and what to run next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const script = fileURLToPath(new URL('../../../scripts/start.mjs', import.meta.url));

function start(cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script], { cwd, timeout: 120_000, encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('npm start creates a demo PKI once and prints the root fingerprint and next commands', () => {
  const tmp = tempDir();
  try {
    const first = start(tmp.dir);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Created the demo PKI/);
    const demo = join(tmp.dir, '.signet', 'demo');
    const fp = /Root fingerprint \(SHA-256\): ([0-9a-f]{64})/.exec(first.stdout)?.[1];
    assert.ok(fp, first.stdout);
    const ossl = opensslOk(['x509', '-in', join(demo, 'root.crt'), '-noout', '-fingerprint', '-sha256']);
    assert.equal(ossl.split('=')[1]?.trim().replace(/:/g, '').toLowerCase(), fp);
    assert.match(first.stdout, /chain valid/);
    assert.match(first.stdout, /Next, try:/);
    for (const key of ['root.key', 'issuing.key', 'localhost.key', 'password']) {
      assert.equal(statSync(join(demo, key)).mode & 0o777, 0o600, key);
    }
    opensslOk(['verify', '-CAfile', join(demo, 'root.crt'), '-untrusted', join(demo, 'issuing.crt'), '-verify_hostname', 'localhost', join(demo, 'localhost.crt')]);

    const second = start(tmp.dir);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /Using the demo PKI/);
    assert.match(second.stdout, new RegExp(`Root fingerprint \\(SHA-256\\): ${fp}`));
  } finally {
    tmp.cleanup();
  }
});

test('an interrupted first run leaves no half demo, and a damaged demo gets a clear message', () => {
  const tmp = tempDir();
  try {
    // What an interrupted creation leaves: only its private temporary directory.
    mkdirSync(join(tmp.dir, '.signet', '.demo-interrupted'), { recursive: true });
    writeFileSync(join(tmp.dir, '.signet', '.demo-interrupted', 'password'), 'x\n');
    const ok = start(tmp.dir);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Created the demo PKI/);

    rmSync(join(tmp.dir, '.signet', 'demo', 'issuing.crt'));
    const damaged = start(tmp.dir);
    assert.equal(damaged.status, 1);
    assert.match(damaged.stderr, /^error: the demo PKI in \.signet\/demo\/ is incomplete \(missing issuing\.crt\); remove it/);
    assert.doesNotMatch(damaged.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    tmp.cleanup();
  }
});
