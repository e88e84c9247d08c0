/**
 * Passwords typed at a terminal: the CLI prompts without echo on a real pseudo-terminal
 * (util-linux `script`), asks twice for a new secret, and never takes one from argv.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { CLI_PATH } from '../helpers/cli.js';
import { openssl, tempDir } from '../helpers/openssl.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);

/** Runs the CLI on a pseudo-terminal, typing `typed` (all at once, as a paste would). */
function onTty(args: string[], typed: string): { status: number; out: string } {
  const cmd = [process.execPath, CLI_PATH, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: typed, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status ?? -1, out: r.stdout.toString() };
}

test('key create prompts twice on a terminal and encrypts with the typed password', () => {
  const key = tmp.path('typed.key');
  const r = onTty(['key', 'create', key], 'correct horse\ncorrect horse\n');
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /password for the new key/);
  assert.match(r.out, /confirm password/);
  const pw = tmp.path('pw');
  writeFileSync(pw, 'correct horse\n');
  assert.equal(openssl(['pkey', '-in', key, '-passin', `file:${pw}`, '-noout']).status, 0, 'openssl opens it with the typed password');
  writeFileSync(pw, 'wrong\n');
  assert.notEqual(openssl(['pkey', '-in', key, '-passin', `file:${pw}`, '-noout']).status, 0, 'and not with another');
});

test('a mismatched confirmation writes nothing', () => {
  const key = tmp.path('mismatch.key');
  const r = onTty(['key', 'create', key], 'one\ntwo\n');
  assert.equal(r.status, 2, r.out);
  assert.match(r.out, /do not match/);
  assert.equal(existsSync(key), false);
});
