/**
 * The DER writer against OpenSSL's own encoder (`openssl asn1parse -genstr`), value by value, and
 * the strict reader against malformed encodings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  NULL,
  bitString,
  boolean,
  generalizedTime,
  headerLength,
  ia5String,
  integer,
  namedBitString,
  octetString,
  oid,
  printableString,
  sequence,
  setOf,
  time,
  unsignedInteger,
  utf8String,
  writeHeader,
} from '../../src/x509/der.js';
import { children, readSingle, readTlv } from '../../src/x509/der-reader.js';
import { decodeOid } from '../../src/x509/decode-names.js';
import { isSignetError } from '../../src/core/errors.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);

/** DER that OpenSSL produces for an ASN1_generate_nconf string. */
function opensslDer(genstr: string): Uint8Array {
  const out = tmp.path('g.der');
  opensslOk(['asn1parse', '-genstr', genstr, '-out', out, '-noout']);
  return new Uint8Array(readFileSync(out));
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const vectors: Array<[string, Uint8Array]> = [
  ['INTEGER:0', integer(0)],
  ['INTEGER:1', integer(1)],
  ['INTEGER:127', integer(127)],
  ['INTEGER:128', integer(128)],
  ['INTEGER:255', integer(255)],
  ['INTEGER:256', integer(256)],
  ['INTEGER:-1', integer(-1)],
  ['INTEGER:-128', integer(-128)],
  ['INTEGER:-129', integer(-129)],
  ['INTEGER:-256', integer(-256)],
  ['INTEGER:-32769', integer(-32769)],
  ['INTEGER:0x7fffffffffffffff', integer(0x7fffffffffffffffn)],
  ['INTEGER:0x8000000000000000', integer(0x8000000000000000n)],
  ['INTEGER:0x00ff01', unsignedInteger(Uint8Array.of(0, 0, 0xff, 1))],
  ['INTEGER:0x80', unsignedInteger(Uint8Array.of(0x80))],
  ['INTEGER:0x7f', unsignedInteger(Uint8Array.of(0x7f))],
  ['BOOLEAN:TRUE', boolean(true)],
  ['BOOLEAN:FALSE', boolean(false)],
  ['NULL', NULL],
  ['OID:1.2.840.10045.4.3.2', oid('1.2.840.10045.4.3.2')],
  ['OID:2.5.29.19', oid('2.5.29.19')],
  ['OID:2.999.3', oid('2.999.3')],
  ['OID:1.3.6.1.4.1.311.60.2.1.3', oid('1.3.6.1.4.1.311.60.2.1.3')],
  ['OID:1.2.3.4294967296', oid('1.2.3.4294967296')],
  ['FORMAT:UTF8,UTF8String:h\u00e9llo', utf8String('h\u00e9llo')],
  ['PRINTABLESTRING:Example Ltd.', printableString('Example Ltd.')],
  ['IA5STRING:a@example.com', ia5String('a@example.com')],
  ['UTCTIME:260102030405Z', time(new Date('2026-01-02T03:04:05.678Z'))],
  ['UTCTIME:491231235959Z', time(new Date('2049-12-31T23:59:59Z'))],
  ['GENERALIZEDTIME:20500101000000Z', time(new Date('2050-01-01T00:00:00Z'))],
  ['GENERALIZEDTIME:19491231235959Z', time(new Date('1949-12-31T23:59:59Z'))],
  ['GENERALIZEDTIME:20260102030405Z', generalizedTime(new Date('2026-01-02T03:04:05Z'))],
  ['FORMAT:HEX,OCTETSTRING:00ff10', octetString(Uint8Array.of(0, 0xff, 0x10))],
  ['FORMAT:HEX,BITSTRING:00ff10', bitString(Uint8Array.of(0, 0xff, 0x10))],
  // Named bit lists drop trailing zero bits (X.690 §11.2.2): keyCertSign|cRLSign = bits 5,6.
  ['FORMAT:BITLIST,BITSTRING:5,6', namedBitString([5, 6])],
  ['FORMAT:BITLIST,BITSTRING:0', namedBitString([0])],
  ['FORMAT:BITLIST,BITSTRING:0,8', namedBitString([0, 8])],
];

test('DER primitives are byte-identical to OpenSSL', () => {
  for (const [genstr, ours] of vectors) {
    assert.equal(hex(ours), hex(opensslDer(genstr)), genstr);
  }
});

test('long contents use the minimal long-form length', () => {
  for (const n of [127, 128, 255, 256, 65535, 65536]) {
    const enc = octetString(new Uint8Array(n));
    const t = readSingle(enc);
    assert.equal(t.content.length, n);
  }
  assert.equal(hex(octetString(new Uint8Array(128)).subarray(0, 3)), '048180');
  assert.equal(hex(octetString(new Uint8Array(256)).subarray(0, 4)), '04820100');
  assert.equal(hex(octetString(new Uint8Array(65536)).subarray(0, 5)), '0483010000');
});

test('headerLength and writeHeader agree at every length-form boundary', () => {
  const cases: Array<[number, string]> = [
    [0, '3000'],
    [127, '307f'],
    [128, '308180'],
    [255, '3081ff'],
    [256, '30820100'],
    [65535, '3082ffff'],
    [65536, '3083010000'],
    [0xffffff, '3083ffffff'],
    [0x1000000, '308401000000'],
    [0x7fffffff, '30847fffffff'],
  ];
  for (const [len, want] of cases) {
    const out = new Uint8Array(headerLength(len));
    assert.equal(writeHeader(out, 0, 0x30, len), out.length, `length ${len}`);
    assert.equal(hex(out), want, `length ${len}`);
  }
  // A 16 MiB content round-trips through the reader with its 4-octet length.
  const big = octetString(new Uint8Array(0x1000000));
  assert.equal(hex(big.subarray(0, 6)), '048401000000');
  assert.equal(readSingle(big).content.length, 0x1000000);
});

test('SET OF sorts its elements (X.690 §11.6) and SEQUENCE keeps order', () => {
  const a = integer(2);
  const b = integer(1);
  assert.equal(hex(setOf([a, b])), '3106020101020102');
  assert.equal(hex(sequence([a, b])), '3006020102020101');
});

test('OIDs decode back to their dotted form', () => {
  for (const o of ['1.2.840.10045.4.3.2', '2.5.29.19', '2.999.3', '0.9.2342.19200300.100.1.25', '1.2.3.4294967296']) {
    assert.equal(decodeOid(readSingle(oid(o)).content), o);
  }
});

test('the reader rejects non-DER encodings', () => {
  const bad: Array<[string, number[]]> = [
    ['truncated header', [0x30]],
    ['indefinite length', [0x30, 0x80, 0x00, 0x00]],
    ['non-minimal long form', [0x04, 0x81, 0x01, 0x00]],
    ['leading zero length', [0x04, 0x82, 0x00, 0x81, ...new Array<number>(0x81).fill(0)]],
    ['truncated content', [0x04, 0x05, 0x00]],
    ['multi-byte tag', [0x1f, 0x81, 0x01, 0x00]],
    ['length too large', [0x04, 0x85, 1, 1, 1, 1, 1]],
  ];
  for (const [name, bytes] of bad) {
    assert.throws(() => readTlv(Uint8Array.from(bytes)), (e) => isSignetError(e, 'ERR_DER_MALFORMED'), name);
  }
  assert.throws(() => readSingle(Uint8Array.of(0x05, 0x00, 0x00)), (e) => isSignetError(e, 'ERR_DER_MALFORMED'));
  assert.deepEqual(children(readSingle(sequence([NULL, NULL]))).length, 2);
});
