import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePem, decodePemAll, encodePem, looksLikePem } from '../../src/core/pem.js';
import { isSignetError } from '../../src/core/errors.js';
import { opensslOk } from '../helpers/openssl.js';

const der = new Uint8Array(Array.from({ length: 200 }, (_, i) => i));

test('encodePem writes 64-column lines that OpenSSL decodes to the same bytes', () => {
  const pem = encodePem('CERTIFICATE', der);
  for (const line of pem.split('\n').slice(1, -2)) assert.ok(line.length <= 64);
  const out = opensslOk(['base64', '-d'], pem.split('\n').slice(1, -2).join('\n') + '\n');
  assert.deepEqual(new Uint8Array(Buffer.from(out, 'latin1')), der);
});

test('decodePemAll round-trips several blocks with surrounding text and CRLF', () => {
  const text = 'junk before\r\n' + encodePem('A', der).replace(/\n/g, '\r\n') + 'between\n' + encodePem('B', der.subarray(0, 3));
  const blocks = decodePemAll(text);
  assert.deepEqual(blocks.map((b) => b.label), ['A', 'B']);
  assert.deepEqual(blocks[0]?.der, der);
  assert.deepEqual(blocks[1]?.der, der.subarray(0, 3));
  assert.ok(looksLikePem(text));
  assert.ok(!looksLikePem(der));
});

const bad: Array<[string, string]> = [
  ['no block', 'hello'],
  ['no END line', '-----BEGIN A-----\nAAAA\n'],
  ['mismatched END label', '-----BEGIN A-----\nAAAA\n-----END B-----\n'],
  ['invalid base64', '-----BEGIN A-----\nAA*A\n-----END A-----\n'],
  ['truncated base64', '-----BEGIN A-----\nAAA\n-----END A-----\n'],
  ['empty body', '-----BEGIN A-----\n-----END A-----\n'],
  ['legacy headers', '-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END A-----\n'],
];
for (const [name, text] of bad) {
  test(`decodePemAll rejects ${name} with ERR_PEM_MALFORMED`, () => {
    assert.throws(() => decodePemAll(text), (e) => isSignetError(e, 'ERR_PEM_MALFORMED'));
  });
}

test('decodePem with labels reports the labels it found', () => {
  assert.throws(() => decodePem(encodePem('X509 CRL', der), ['CERTIFICATE']), (e) => isSignetError(e, 'ERR_PEM_UNEXPECTED_TYPE'));
  assert.equal(decodePem(encodePem('A', der) + encodePem('CERTIFICATE', der), ['CERTIFICATE']).label, 'CERTIFICATE');
});
