import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeControl, escapeJsonText } from '../../src/core/escape.js';

test('escapeControl makes C0, DEL, C1, line separators and bidi controls visible', () => {
  assert.equal(escapeControl('evil\x1b[31mRED\x1b[0m\nFAKE: line'), 'evil\\x1b[31mRED\\x1b[0m\\x0aFAKE: line');
  assert.equal(escapeControl('a\rb\tc\x00d\x7fe'), 'a\\x0db\\x09c\\x00d\\x7fe');
  assert.equal(escapeControl('\u009b31m\u0085'), '\\x9b31m\\x85');
  assert.equal(escapeControl('x\u2028y\u202ez\u2066'), 'x\\u{2028}y\\u{202e}z\\u{2066}');
});

test('escapeControl leaves printable text alone, non-ASCII letters included', () => {
  for (const s of ['', 'CN=web, O=Example', 'Müller – 東京 🙂', 'a\\b', '~!@#$%^&*()_+{}|:"<>?']) assert.equal(escapeControl(s), s);
});

test('escapeJsonText writes what JSON.stringify leaves raw (C1, DEL, separators, bidi) as \\u escapes; the value is unchanged', () => {
  const value = { subject: 'CN=a\u009b31m\u007f\u2028\u202eb', plain: 'Müller – 東京', esc: '\u001b[0m' };
  const json = escapeJsonText(JSON.stringify(value, null, 2));
  for (const raw of ['\u009b', '\u007f', '\u2028', '\u202e', '\u001b']) assert.ok(!json.includes(raw), json);
  assert.match(json, /CN=a\\u009b31m\\u007f\\u2028\\u202eb/);
  assert.deepEqual(JSON.parse(json), value);
  assert.equal(escapeJsonText(JSON.stringify(value.plain)), JSON.stringify(value.plain));
});
