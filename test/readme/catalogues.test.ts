/** README keeps step with the catalogues the code defines: lint rules (error codes: test/core). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LINT_RULES } from '../../src/x509/lint/index.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('README lists every lint rule with its severity and source', () => {
  const missing = LINT_RULES.filter((r) => !readme.includes(`| \`${r.id}\` | ${r.severity} | ${r.source} |`)).map((r) => r.id);
  assert.deepEqual(missing, []);
  const count = new RegExp(`\\b${LINT_RULES.length} rules\\b`);
  assert.match(readme, count, `README states the rule count (${LINT_RULES.length})`);
});
