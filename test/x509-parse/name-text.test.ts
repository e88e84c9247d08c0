/** RFC 4514 text of decoded Names: control characters become hex pairs (RFC 4514 §2.4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeName } from '../../src/x509/decode-names.js';
import { encodeName, parseDistinguishedName } from '../../src/x509/name.js';
import { sequence, setOf, oid, tlv } from '../../src/x509/der.js';

test('C0, DEL and C1 controls in attribute values are written as \\XX hex pairs of their UTF-8 bytes', () => {
  const dn = [[{ type: 'O', value: 'tab\there' }], [{ type: 'CN', value: 'evil\x1b[31mRED\x1b[0m\nFAKE: line\x7f\u009b\x00' }]];
  const name = decodeName(encodeName(dn));
  assert.equal(name.text, 'O=tab\\09here, CN=evil\\1B[31mRED\\1B[0m\\0AFAKE: line\\7F\\C2\\9B\\00');
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(name.text, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(name.rdns[1]?.[0]?.value, dn[1]?.[0]?.value, 'the decoded value itself is unchanged');
  // The text parses back to the same value (hex pairs are UTF-8, RFC 4514 §3).
  assert.deepEqual(parseDistinguishedName(name.text.split(', ').reverse().join(',')), dn);
});

test('a Latin-1 (TeletexString) value with a C1 byte is escaped too', () => {
  // CN as T61String holding 0x9B (CSI in C1) — decoded as Latin-1, so it is U+009B.
  const der = sequence([setOf([sequence([oid('2.5.4.3'), tlv(0x14, Uint8Array.of(0x61, 0x9b, 0x32, 0x4a))])])]);
  assert.equal(decodeName(der).text, 'CN=a\\C2\\9B2J');
});

test('ordinary values are unchanged, specials still use RFC 4514 escapes', () => {
  assert.equal(decodeName(encodeName([[{ type: 'O', value: 'Signet, Inc.' }], [{ type: 'CN', value: 'Müller #1' }]])).text, 'O=Signet\\, Inc., CN=Müller #1');
});
