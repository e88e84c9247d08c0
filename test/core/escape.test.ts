import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControl } from '../../src/core/escape.js';

test('escapeControl makes C0, DEL, C1, line separators and bidi controls visible', () => {
  assert.equal(escapeControl('evil\x1b[31mRED\x1b[0m\nFAKE: line'), 'evil\\x1b[31mRED\\x1b[0m\\x0aFAKE: line');
  assert.equal(escapeControl('a\rb\tc\x00d\x7fe'), 'a\\x0db\\x09c\\x00d\\x7fe');
  assert.equal(escapeControl('\u009b31m\u0085'), '\\x9b31m\\x85');
  assert.equal(escapeControl('x\u2028y\u202ez\u2066'), 'x\\u{2028}y\\u{202e}z\\u{2066}');
});

test('escapeControl leaves printable text alone, non-ASCII letters included', () => {
  for (const s of ['', 'CN=web, O=Example', 'Müller – 東京 🙂', 'a\\b', '~!@#$%^&*()_+{}|:"<>?']) assert.equal(escapeControl(s), s);
});
