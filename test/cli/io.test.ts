/**
 * src/cli/io.ts: bounded reads of files, stdin and devices; outputs committed together (temp
 * files first, then renames) so an existing file is never lost; same-file detection on resolved
 * paths; parse errors that name their source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { SignetError, isSignetError } from '../../src/core/errors.js';
import { checkDistinctFiles, checkInputs, checkOutputs, commitOutputs, readInput, withSource } from '../../src/cli/io.js';
import { signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-cli-io-');
process.on('exit', tmp.cleanup);
const p = tmp.path;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isSignetError(e)) return e.code;
    throw e;
  }
  return undefined;
}

test('readInput stops at the limit on a device: /dev/zero is ERR_INPUT_TOO_LARGE, not an endless read', () => {
  assert.equal(code(() => readInput('/dev/zero', 'input', 1024)), 'ERR_INPUT_TOO_LARGE');
  // the CLI, with its 16 MiB limit, as a user would hit it (the same path reads password files)
  const r = signet(['certificate', 'inspect', '/dev/zero']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /^error: [^\n]*\(ERR_INPUT_TOO_LARGE\)\n$/);
  const pw = signet(['key', 'create', p('never.key'), '--password-file', '/dev/zero']);
  assert.equal(pw.status, 3, pw.stderr);
  assert.match(pw.stderr, /\(ERR_INPUT_TOO_LARGE\)/);
});

test('readInput bounds stdin too: an oversized pipe is ERR_INPUT_TOO_LARGE', () => {
  // 1 KiB limit on stdin, fed 4 KiB through a pipe: refused; 512 bytes: read whole.
  const script = `import('${new URL('../../src/cli/io.js', import.meta.url).href}').then((io) => {
    try { process.stdout.write(String(io.readInput('-', 'input', 1024).length)); } catch (e) { process.stdout.write(e.code); }
  });`;
  const big = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: 'x'.repeat(4096) });
  assert.equal(big.stdout.toString(), 'ERR_INPUT_TOO_LARGE', big.stderr.toString());
  const small = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: 'x'.repeat(512) });
  assert.equal(small.stdout.toString(), '512', small.stderr.toString());
});

test('readInput: empty and missing inputs keep their codes', () => {
  writeFileSync(p('empty'), '');
  assert.equal(code(() => readInput(p('empty'))), 'ERR_INPUT_EMPTY');
  assert.equal(code(() => readInput(p('missing'))), 'ERR_FILE_NOT_FOUND');
  mkdirSync(p('adir'));
  assert.equal(code(() => readInput(p('adir'))), 'ERR_FILE_IO');
});

test('checkDistinctFiles compares real files: ./a and a, a symlink, a hard link', () => {
  writeFileSync(p('key.pem'), 'secret\n');
  symlinkSync(p('key.pem'), p('link.pem'));
  linkSync(p('key.pem'), p('hard.pem'));
  const rel = `${p('')}/./key.pem`;
  for (const other of [rel, p('link.pem'), p('hard.pem')]) {
    assert.equal(code(() => checkDistinctFiles([{ path: p('key.pem'), role: 'OUT' }, { path: other, role: '--key-out' }])), 'ERR_USAGE', other);
    assert.equal(code(() => checkDistinctFiles([{ path: other, role: 'OUT' }], [{ path: p('key.pem'), role: '--key' }])), 'ERR_USAGE', other);
  }
  // two spellings of a file that does not exist yet
  assert.equal(code(() => checkDistinctFiles([{ path: p('new.pem'), role: 'OUT' }, { path: `${p('')}/./new.pem`, role: '--key-out' }])), 'ERR_USAGE');
  // stdout and stdin at most once
  assert.equal(code(() => checkDistinctFiles([{ path: '-', role: 'OUT' }, { path: '-', role: '--key-out' }])), 'ERR_USAGE');
  assert.equal(code(() => checkDistinctFiles([], [{ path: '-', role: 'LEAF' }, { path: '-', role: '--roots' }])), 'ERR_USAGE');
  // distinct files pass; --force does not matter for the same-file rule
  assert.equal(code(() => checkDistinctFiles([{ path: p('a.pem'), role: 'OUT' }, { path: p('b.pem'), role: '--key-out' }], [{ path: p('key.pem'), role: '--key' }])), undefined);
  assert.equal(code(() => checkOutputs([{ path: p('key.pem'), role: 'OUT' }], [{ path: p('hard.pem'), role: '--key' }], { force: true })), 'ERR_USAGE');
});

test('checkInputs: stdin at most once, naming every input that is -; undefined and files pass', () => {
  assert.equal(code(() => checkInputs([{ path: '-', role: 'certificate 1' }, { path: p('a.pem'), role: 'certificate 2' }, { path: undefined, role: '--key' }])), undefined);
  assert.equal(code(() => checkInputs([{ path: p('a.pem'), role: 'A' }, { path: p('a.pem'), role: 'B' }])), undefined, 'reading one file twice is fine');
  try {
    checkInputs([{ path: '-', role: 'TEMPLATE' }, { path: undefined, role: '--data' }, { path: '-', role: '--csr' }, { path: '-', role: '--key' }]);
    assert.fail('accepted three inputs from stdin');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_USAGE'));
    assert.equal(e.message, 'only one input can come from stdin, but TEMPLATE, --csr and --key are all -');
  }
});

test('checkOutputs: existing files need force, a directory is never an output', () => {
  writeFileSync(p('exists.pem'), 'x');
  assert.equal(code(() => checkOutputs([{ path: p('exists.pem'), role: 'OUT' }])), 'ERR_FILE_EXISTS');
  assert.equal(code(() => checkOutputs([{ path: p('exists.pem'), role: 'OUT' }], [], { force: true })), undefined);
  assert.equal(code(() => checkOutputs([{ path: p('adir'), role: 'OUT' }], [], { force: true })), 'ERR_FILE_IO');
});

test('commitOutputs writes all files with their modes, or none; an existing file survives a failed commit', () => {
  const dir = tempDir();
  try {
    writeFileSync(dir.path('old.key'), 'the old key\n', { mode: 0o600 });
    // second output cannot be written (missing directory): the existing key is untouched, no temp is left
    assert.equal(
      code(() =>
        commitOutputs(
          [
            { path: dir.path('old.key'), role: '--key-out', mode: 0o600, data: 'new key\n' },
            { path: dir.path('missing/cert.pem'), role: 'OUT', data: 'cert\n' },
          ],
          { force: true },
        ),
      ),
      'ERR_FILE_NOT_FOUND',
    );
    assert.equal(readFileSync(dir.path('old.key'), 'utf8'), 'the old key\n');
    assert.deepEqual(readdirSync(dir.dir), ['old.key']);

    commitOutputs(
      [
        { path: dir.path('old.key'), role: '--key-out', mode: 0o600, data: 'new key\n' },
        { path: dir.path('cert.pem'), role: 'OUT', data: 'cert\n' },
      ],
      { force: true },
    );
    assert.equal(readFileSync(dir.path('old.key'), 'utf8'), 'new key\n');
    assert.equal(statSync(dir.path('old.key')).mode & 0o777, 0o600);
    assert.equal(statSync(dir.path('cert.pem')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir.dir).sort(), ['cert.pem', 'old.key'], 'no temp or backup files left');
  } finally {
    dir.cleanup();
  }
});

test('withSource prefixes the message with the input and keeps code and hint', () => {
  try {
    withSource('roots file web.key', () => {
      throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', 'no CERTIFICATE block found', { hint: 'h' });
    });
    assert.fail('should throw');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_PEM_UNEXPECTED_TYPE'));
    assert.equal(e.message, 'roots file web.key: no CERTIFICATE block found');
    assert.equal(e.hint, 'h');
  }
  assert.equal(withSource('x', () => 42), 42);
});

test('withSource also prefixes a rejected promise', async () => {
  await assert.rejects(
    withSource('--ca-key ca.key', () => Promise.reject(new SignetError('ERR_KEY_WRONG_PASSWORD', 'wrong password'))),
    (e: unknown) => isSignetError(e, 'ERR_KEY_WRONG_PASSWORD') && e.message === '--ca-key ca.key: wrong password',
  );
});
