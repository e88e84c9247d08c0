/** The store's pure helpers: serial form (against OpenSSL), reversed names, name patterns, cursors. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError } from '../../src/core/errors.js';
import { isCanonicalSerial, serialHex } from '../../src/store/index.js';
import { decodeCursor, encodeCursor, parseNameQuery, reversedName } from '../../src/store/validation.js';
import { parseCertificate } from '../../src/x509/index.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const scratch = tempDir('signet-store-serial-');
after(scratch.cleanup);

test('serialHex matches what OpenSSL prints for the serials it writes, and the parser’s serialHex', () => {
  const key = scratch.path('k.pem');
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  // 1 octet, high bit set (DER adds a 00 octet), 16 random-like octets, the 20-octet maximum.
  for (const serial of ['1', '127', '128', '0x4f3c2a1b00ff', '0x80' + '00'.repeat(15), '0x7f' + 'ee'.repeat(19)]) {
    const out = scratch.path('c.pem');
    opensslOk(['req', '-x509', '-new', '-key', key, '-subj', '/CN=serial', '-days', '1', '-set_serial', serial, '-out', out]);
    const printed = opensslOk(['x509', '-in', out, '-noout', '-serial']).trim().replace(/^serial=/, '').toLowerCase();
    const der = opensslOk(['x509', '-in', out, '-outform', 'DER']);
    const cert = parseCertificate(new Uint8Array(Buffer.from(der, 'latin1')));
    const expected = printed.length % 2 === 1 ? `0${printed}` : printed;
    assert.equal(serialHex(cert.serialNumber), expected, serial);
    assert.equal(cert.serialHex, expected, `parser agrees for ${serial}`);
    assert.ok(isCanonicalSerial(expected));
  }
});

test('serialHex drops leading zero octets and refuses empty or over-long serials', () => {
  assert.equal(serialHex(new Uint8Array([0, 0, 0x80, 1])), '8001');
  assert.equal(serialHex(new Uint8Array([0])), '00');
  for (const bad of [new Uint8Array(0), new Uint8Array(21).fill(1)]) {
    assert.throws(() => serialHex(bad), (e) => isSignetError(e, 'ERR_STORE_INVALID_RECORD'));
  }
});

test('isCanonicalSerial', () => {
  for (const good of ['00', '01', 'ff', '4a1f', 'ab'.repeat(20)]) assert.ok(isCanonicalSerial(good), good);
  for (const bad of ['', '1', '0001', '4A1F', '4a:1f', '0x4a', 'ab'.repeat(21), ' 4a', 42]) assert.ok(!isCanonicalSerial(bad), String(bad));
});

test('reversedName: DNS names and CNs only, case-folded, trailing dot dropped', () => {
  assert.equal(reversedName('dns', 'WWW.Example.com.'), 'com.example.www');
  assert.equal(reversedName('dns', '*.example.com'), 'com.example.*');
  assert.equal(reversedName('cn', 'Example CA'), 'example ca');
  assert.equal(reversedName('ip', '10.0.0.1'), null);
  assert.equal(reversedName('email', 'a@example.com'), null);
  assert.equal(reversedName('uri', 'https://example.com/'), null);
});

test('name patterns become byte ranges that contain exactly the names under the domain', () => {
  const q = parseNameQuery('*.Example.COM');
  assert.equal(q.kind, 'under');
  if (q.kind !== 'under') return;
  const inRange = (name: string) => {
    const key = reversedName('dns', name) ?? '';
    return key >= q.from && key < q.to;
  };
  for (const name of ['a.example.com', 'a.b.example.com', '*.example.com', 'A.EXAMPLE.COM', 'x.example.com.']) assert.ok(inRange(name), name);
  for (const name of ['example.com', 'xexample.com', 'www.example-evil.com', 'example.com.evil.org', 'example.co', 'a.example.org']) assert.ok(!inRange(name), name);
  assert.deepEqual(parseNameQuery('Host.Example.com'), { kind: 'exact', value: 'Host.Example.com', reversed: 'com.example.host' });
});

test('cursors round-trip and nothing else decodes', () => {
  const c = encodeCursor(1_893_456_000_000, '4a1f');
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(c), { issuedAt: 1_893_456_000_000, serial: '4a1f' });
  assert.deepEqual(decodeCursor(encodeCursor(-5, '00')), { issuedAt: -5, serial: '00' });
  for (const bad of ['', 'x', '!!!!', Buffer.from('1:12:4A1F').toString('base64url'), Buffer.from('2:12:4a1f').toString('base64url'), Buffer.from('1:99999999999999999:4a').toString('base64url'), 42]) {
    assert.throws(() => decodeCursor(bad), (e) => isSignetError(e, 'ERR_STORE_BAD_QUERY'), String(bad));
  }
});
