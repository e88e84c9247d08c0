import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, SignetError, isSignetError } from '../../src/core/errors.js';

test('every catalogue code is ERR_ upper snake case and has a category', () => {
  for (const [code, category] of Object.entries(ERROR_CATALOGUE)) {
    assert.match(code, /^ERR_[A-Z0-9_]+$/);
    assert.ok(['usage', 'input', 'crypto', 'io', 'network', 'invalid', 'interrupted', 'internal'].includes(category));
  }
});

test('SignetError carries code, category, hint and detail', () => {
  const e = new SignetError('ERR_FILE_EXISTS', 'x exists', { hint: 'use --force', detail: { path: 'x' } });
  assert.equal(e.code, 'ERR_FILE_EXISTS');
  assert.equal(e.category, 'io');
  assert.equal(e.hint, 'use --force');
  assert.ok(isSignetError(e, 'ERR_FILE_EXISTS'));
  assert.ok(!isSignetError(e, 'ERR_USAGE'));
  assert.ok(!isSignetError(new Error('x')));
});

test('README documents every error code', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERROR_CATALOGUE).filter((code) => !readme.includes(code));
  assert.deepEqual(missing, [], `README "Error codes" is missing: ${missing.join(', ')}`);
});
