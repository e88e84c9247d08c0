/**
 * The CLI as a whole: every command has --help with examples and a README section, unknown
 * commands and flags are usage errors (exit 2) without a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { signet } from '../helpers/cli.js';

function leaves(cmd: Command, prefix: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [prefix];
  return subs.flatMap((c) => leaves(c, [...prefix, c.name()]));
}

const commands = leaves(buildProgram());
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the program has the commands the README promises', () => {
  for (const expected of [
    ['key', 'create'],
    ['key', 'inspect'],
    ['key', 'public'],
    ['csr', 'create'],
    ['csr', 'inspect'],
    ['certificate', 'create'],
    ['certificate', 'inspect'],
    ['certificate', 'verify'],
    ['certificate', 'lint'],
    ['certificate', 'fingerprint'],
    ['certificate', 'format'],
    ['certificate', 'bundle'],
    ['certificate', 'needs-renewal'],
  ]) {
    assert.ok(commands.some((c) => c.join(' ') === expected.join(' ')), `missing command signet ${expected.join(' ')}`);
  }
});

test('every command has a README reference section', () => {
  const missing = commands.filter((c) => !readme.includes('### `signet ' + c.join(' ')));
  assert.deepEqual(missing.map((c) => c.join(' ')), []);
});

test('every command has --help with examples', () => {
  for (const c of commands) {
    const r = signet([...c, '--help']);
    assert.equal(r.status, 0, `signet ${c.join(' ')} --help exits 0`);
    assert.match(r.stdout, /Examples?:/, `signet ${c.join(' ')} --help shows examples`);
  }
});

test('unknown commands and flags are usage errors (exit 2), without a stack trace', () => {
  for (const args of [['frobnicate'], ['key', 'create', '--no-such-flag'], ['certificate', 'inspect']]) {
    const r = signet(args);
    assert.equal(r.status, 2, `signet ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(signet(['--version']).stdout.trim(), pkg.version);
});

test('commander errors have the documented shape: one error line with ERR_USAGE, an optional hint, exit 2', () => {
  const cases: { args: string[]; message: RegExp; hint: RegExp }[] = [
    { args: ['key', 'create', 'k.key', '--jsn'], message: /^unknown option '--jsn'$/, hint: /^did you mean --json\?$/ },
    { args: ['certificate', 'inspect'], message: /^missing required argument 'input'$/, hint: /signet certificate inspect --help/ },
    { args: ['certificate', 'inspect', 'a', 'b'], message: /^too many arguments for 'inspect'; expected 1 argument but got 2$/, hint: /--help/ },
    { args: ['frobnicate'], message: /^unknown command 'frobnicate'$/, hint: /signet --help/ },
    { args: ['certificate', 'verfy'], message: /^unknown command 'verfy'$/, hint: /^did you mean verify\?$/ },
    { args: ['key', 'create', 'k.key', '--type'], message: /^option '--type <type>' argument missing$/, hint: /--help/ },
  ];
  for (const c of cases) {
    const r = signet(c.args);
    assert.equal(r.status, 2, `signet ${c.args.join(' ')}: ${r.stderr}`);
    const m = /^error: (.*) \(ERR_USAGE\)\nhint: (.*)\n$/.exec(r.stderr);
    assert.ok(m, `signet ${c.args.join(' ')}: documented shape, got:\n${r.stderr}`);
    assert.match(m[1] ?? '', c.message);
    assert.match(m[2] ?? '', c.hint);
    assert.equal(r.stdout, '');
  }
});

test('a flag value outside commander choices is ERR_BAD_OPTION (exit 2), like the values Signet checks itself', () => {
  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['certificate', 'create', 'x', 'y.crt', '--profile', 'nope'], message: /^option '--profile <name>' argument 'nope' is invalid; allowed choices are root-ca, / },
    { args: ['certificate', 'template', 'show', '--profile', 'server'], message: /allowed choices are root-ca, / },
    { args: ['certificate', 'inspect', 'x.crt', '--format', 'yaml'], message: /allowed choices are text, json/ },
    { args: ['certificate', 'fingerprint', 'x.crt', '--format', 'hex2'], message: /allowed choices are hex, / },
    { args: ['certificate', 'fingerprint', 'x.crt', '--algorithm', 'md5'], message: /allowed choices are sha256, / },
    { args: ['certificate', 'format', 'x.crt', '--format', 'jwk'], message: /allowed choices are pem, der/ },
  ];
  for (const c of cases) {
    const r = signet(c.args);
    assert.equal(r.status, 2, `signet ${c.args.join(' ')}: ${r.stderr}`);
    const m = /^error: (.*) \(ERR_BAD_OPTION\)\nhint: (.*)\n$/.exec(r.stderr);
    assert.ok(m, `signet ${c.args.join(' ')}: documented shape, got:\n${r.stderr}`);
    assert.match(m[1] ?? '', c.message);
    assert.equal(r.stdout, '');
  }
  // The same code as a value Signet rejects itself.
  assert.match(signet(['certificate', 'lint', 'x.crt', '--profile', 'nope']).stderr, /\(ERR_BAD_OPTION\)/);
  const j = signet(['certificate', 'inspect', 'x.crt', '--format', 'yaml', '--json']);
  assert.equal(j.status, 2);
  assert.equal((JSON.parse(j.stderr) as { error: { code: string } }).error.code, 'ERR_BAD_OPTION');
});

test('commander errors are JSON on stderr with --json or --format json', () => {
  for (const args of [
    ['certificate', 'inspect', 'x.crt', '--format', 'json', '--bogus'],
    ['key', 'create', '--json'],
    ['certificate', 'inspect', 'x.crt', '--format=json', '--servernme', 'a'],
  ]) {
    const r = signet(args);
    assert.equal(r.status, 2, r.stderr);
    const out = JSON.parse(r.stderr) as { error: { code: string; message: string; hint?: string } };
    assert.equal(out.error.code, 'ERR_USAGE');
    assert.ok(out.error.message.length > 0);
  }
});

test('--help and --version still print on stdout and exit 0', () => {
  for (const args of [['--help'], ['certificate', '--help'], ['key', 'create', '-h'], ['help', 'key']]) {
    const r = signet(args);
    assert.equal(r.status, 0, `signet ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: signet/);
    assert.equal(r.stderr, '');
  }
  const v = signet(['-v']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});

test('error messages are one line without terminal control characters (escaped as \\xNN)', () => {
  // A file name is as much user-controlled input as a certificate subject.
  const r = signet(['certificate', 'inspect', 'evil\u001b[31m\nname\u009b.pem']);
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /^error: [^\n]*evil\\x1b\[31m\\x0aname\\x9b\.pem[^\n]* \(ERR_FILE_NOT_FOUND\)\n$/);
  assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('\u009b'), 'no raw ESC or CSI');
  const j = signet(['certificate', 'inspect', 'evil\u001b[31m\nname\u009b.pem', '--json']);
  assert.ok(!j.stderr.includes('\u001b') && !j.stderr.includes('\u009b'), 'JSON escapes them too');
  const message = (JSON.parse(j.stderr) as { error: { message: string } }).error.message;
  assert.ok(message.includes('evil\u001b[31m\nname\u009b.pem'), 'and keeps the text once parsed');
});
