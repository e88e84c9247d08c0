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
