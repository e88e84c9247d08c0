/** X.509 time reading (RFC 5280 §4.1.2.5): one decoder for certificates, CRLs and the builder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAsn1Time, utcInstant } from '../../src/x509/asn1-time.js';

const UTC = 0x17;
const GEN = 0x18;

test('valid times decode to the instant they name', () => {
  const table: Array<[number, string, string]> = [
    [UTC, '491231235959Z', '2049-12-31T23:59:59.000Z'],
    [UTC, '500101000000Z', '1950-01-01T00:00:00.000Z'],
    [UTC, '000229000000Z', '2000-02-29T00:00:00.000Z'],
    [UTC, '2601020304Z', '2026-01-02T03:04:00.000Z'],
    [UTC, '260102030405+0200', '2026-01-02T01:04:05.000Z'],
    [GEN, '20500101000000Z', '2050-01-01T00:00:00.000Z'],
    [GEN, '00010101000000Z', '0001-01-01T00:00:00.000Z'],
    [GEN, '00991231235959Z', '0099-12-31T23:59:59.000Z'],
    [GEN, '99991231235959Z', '9999-12-31T23:59:59.000Z'],
    [GEN, '20240229120000.5Z', '2024-02-29T12:00:00.000Z'],
  ];
  for (const [tag, text, iso] of table) {
    const d = decodeAsn1Time(tag, text);
    assert.ok(d instanceof Date, `${text}: ${String(d)}`);
    assert.equal(d.toISOString(), iso, text);
  }
});

test('impossible or malformed times are refused with a reason', () => {
  const table: Array<[number, string]> = [
    [UTC, '270230000000Z'], // February 30
    [GEN, '21000229000000Z'], // 2100 is not a leap year
    [UTC, '260101240000Z'], // hour 24
    [UTC, '260101006000Z'], // minute 60
    [UTC, '260101000060Z'], // leap second: not representable
    [UTC, '261301000000Z'], // month 13
    [UTC, '260100000000Z'], // day 0
    [UTC, '260101000000+2400'], // offset of a whole day
    [UTC, '2601010000Z0'],
    [UTC, '26010100000Z'],
    [GEN, '260101000000Z'],
    [0x04, '260101000000Z'],
  ];
  for (const [tag, text] of table) assert.equal(typeof decodeAsn1Time(tag, text), 'string', text);
  assert.equal(utcInstant(2027, 2, 29, 0, 0, 0), undefined);
  assert.equal(utcInstant(2028, 2, 29, 0, 0, 0)?.toISOString(), '2028-02-29T00:00:00.000Z');
});
