/**
 * Passwords typed at a terminal: the CLI prompts without echo on a real pseudo-terminal
 * (util-linux `script`), asks twice for a new secret, and never takes one from argv. Ctrl-C at
 * a prompt ends the command with exit 130; Ctrl-D on an empty prompt means "no password".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { CLI_PATH, interact } from '../helpers/cli.js';
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

test('Ctrl-C at a password prompt: exit 130, ERR_INTERRUPTED, no stack trace, nothing written', async () => {
  const key = tmp.path('interrupted.key');
  const r = await interact(['key', 'create', key], [{ waitFor: /password for the new key: /, send: '\u0003' }]);
  assert.equal(r.status, 130, r.out);
  assert.match(r.out, /error: interrupted \(ERR_INTERRUPTED\)/);
  assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(key), false);
});

test('Ctrl-D at an empty password prompt is no password (ERR_KEY_PASSWORD_REQUIRED), not an empty one', async () => {
  const key = tmp.path('eof.key');
  const r = await interact(['key', 'create', key], [{ waitFor: /password for the new key: /, send: '\u0004' }]);
  assert.equal(r.status, 4, r.out);
  assert.match(r.out, /\(ERR_KEY_PASSWORD_REQUIRED\)/);
  assert.equal(existsSync(key), false);
  // The same when the password of an existing encrypted key is asked for.
  const pw = tmp.path('pw-eof');
  writeFileSync(pw, 'secret\n');
  openssl(['genpkey', '-algorithm', 'ed25519', '-aes-256-cbc', '-pass', `file:${pw}`, '-out', tmp.path('enc-eof.key')]);
  const load = await interact(['key', 'public', tmp.path('enc-eof.key')], [{ waitFor: /password for .*enc-eof\.key: /, send: '\u0004' }]);
  assert.equal(load.status, 4, load.out);
  assert.match(load.out, /\(ERR_KEY_PASSWORD_REQUIRED\)/);
  assert.match(load.out, /hint: pass --password-file FILE/);
});
