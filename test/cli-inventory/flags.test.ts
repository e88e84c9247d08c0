/**
 * The inventory commands' pure parts, in-process: flag values to store filters (every refusal
 * with its code), search readings, CSV cells, the streaming writers and the merge of sorted
 * sources. The end-to-end runs are in inventory.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignetError, type ErrorCode } from '../../src/core/errors.js';
import type { CertificateRecord } from '../../src/store/store.js';
import { buildFilter, isNameQuery, parseFingerprintText, parseLimit, parseSerialText, type FilterFlags } from '../../src/cli/inventory/flags.js';
import { searchReadings } from '../../src/cli/inventory/search.js';
import { csvCell, csvWriter, jsonArrayWriter, tableWriter, TABLE_SIZING_ROWS, type TextSink } from '../../src/cli/inventory/output.js';
import { mergeInStoreOrder } from '../../src/cli/inventory/records.js';
import { inventoryStatus, primaryName } from '../../src/cli/inventory/view.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const FP = 'ab'.repeat(32);

function throwsCode(fn: () => unknown, code: ErrorCode, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SignetError && e.code === code, what);
}

function memorySink(): TextSink & { text: () => string } {
  const parts: string[] = [];
  return { write: (t) => Promise.resolve(void parts.push(t)), close: () => Promise.resolve(), abort: () => undefined, text: () => parts.join('') };
}

function record(serial: string, issuedAtMs: number, extra: Partial<CertificateRecord> = {}): CertificateRecord {
  return {
    serial,
    subject: `CN=${serial}.example.com`,
    names: [{ type: 'dns', value: `${serial}.example.com` }],
    notBefore: new Date(issuedAtMs),
    notAfter: new Date(issuedAtMs + 3_600_000),
    keyFingerprint: FP,
    keyType: 'EC P-256',
    provisioner: 'admin',
    requester: 'someone',
    profile: 'leaf',
    status: 'valid',
    issuedAt: new Date(issuedAtMs),
    der: new Uint8Array([0x30, 0]),
    ...extra,
  };
}

test('serials: any common notation becomes the store form; anything else is ERR_BAD_OPTION', () => {
  assert.equal(parseSerialText('4A:1F:03'), '4a1f03');
  assert.equal(parseSerialText('0x4a1f03'), '4a1f03');
  assert.equal(parseSerialText('00:8f:01'), '8f01', 'a DER sign octet is dropped');
  assert.equal(parseSerialText('abc'), '0abc', 'odd length: a leading zero nibble');
  assert.equal(parseSerialText('01'.repeat(20)), '01'.repeat(20));
  for (const bad of ['', 'xyz', '4a-1f', '01'.repeat(21), '12 34']) throwsCode(() => parseSerialText(bad), 'ERR_BAD_OPTION', JSON.stringify(bad));
});

test('fingerprints: 64 hex digits, colons, upper case and sha256: accepted', () => {
  assert.equal(parseFingerprintText(FP.toUpperCase()), FP);
  assert.equal(parseFingerprintText(`sha256:${(FP.match(/../g) ?? []).join(':')}`), FP);
  for (const bad of ['', 'abcd', `${FP}00`, FP.replace('a', 'g')]) throwsCode(() => parseFingerprintText(bad), 'ERR_BAD_OPTION', bad);
});

test('--limit: 1 to 1,000,000 (1000 for audit), default 100, --all for everything', () => {
  assert.equal(parseLimit(undefined, undefined), 100);
  assert.equal(parseLimit('1', undefined), 1);
  assert.equal(parseLimit('1000000', undefined), 1_000_000);
  assert.equal(parseLimit(undefined, true), undefined);
  assert.equal(parseLimit('1000', false, 1000), 1000);
  for (const bad of ['0', '-1', '1.5', 'ten', '1e3', '', '1000001', '99999999999']) throwsCode(() => parseLimit(bad, undefined), 'ERR_BAD_OPTION', bad);
  throwsCode(() => parseLimit('1001', false, 1000), 'ERR_BAD_OPTION', 'audit limit');
});

test('filters: statuses and expiry windows on notAfter, times, names, serials', () => {
  const f = (flags: FilterFlags) => buildFilter(flags, NOW);
  assert.deepEqual(f({}), {});
  assert.deepEqual(f({ status: 'valid' }), { status: 'valid', expiresAfter: NOW });
  assert.deepEqual(f({ status: 'expired' }), { status: 'valid', expiresBefore: NOW });
  assert.deepEqual(f({ status: 'revoked' }), { status: 'revoked' });
  assert.deepEqual(f({ expiringWithin: '7d' }), { status: 'valid', expiresAfter: NOW, expiresBefore: new Date(NOW.getTime() + 7 * 86_400_000) });
  assert.deepEqual(f({ expiringWithin: '1h', status: 'valid' }), { status: 'valid', expiresAfter: NOW, expiresBefore: new Date(NOW.getTime() + 3_600_000) });
  assert.deepEqual(f({ issuedAfter: '-24h', issuedBefore: '2026-06-01T11:00:00.5Z' }), {
    issuedAfter: new Date(NOW.getTime() - 86_400_000),
    issuedBefore: new Date('2026-06-01T11:00:00.500Z'),
  });
  assert.deepEqual(f({ serial: ['4A:1F', '0x4a1f', '05'], replaced: true }), { serials: ['4a1f', '05'], replaced: true });
  assert.deepEqual(f({ notReplaced: true, name: '*.example.com', provisioner: 'ops', keyFingerprint: FP.toUpperCase() }), {
    replaced: false,
    name: '*.example.com',
    provisioner: 'ops',
    keyFingerprint: FP,
  });
  // The far end of a window is clamped to what a time can be (year 9999).
  assert.equal(f({ expiringWithin: '9000y' }).expiresBefore?.toISOString(), '9999-12-31T23:59:59.999Z');
});

test('filters: every bad value or contradiction is refused with its code', () => {
  const cases: { flags: FilterFlags; code: ErrorCode }[] = [
    { flags: { expiringWithin: '7x' }, code: 'ERR_BAD_DURATION' },
    { flags: { expiringWithin: '-1d' }, code: 'ERR_BAD_DURATION' },
    { flags: { expiringWithin: '0s' }, code: 'ERR_BAD_DURATION' },
    { flags: { expiringWithin: '1d', status: 'expired' }, code: 'ERR_USAGE' },
    { flags: { expiringWithin: '1d', status: 'revoked' }, code: 'ERR_USAGE' },
    { flags: { issuedAfter: 'yesterday' }, code: 'ERR_BAD_TIME' },
    { flags: { issuedBefore: '2027-02-30T00:00:00Z' }, code: 'ERR_BAD_TIME' },
    { flags: { keyFingerprint: 'abcd' }, code: 'ERR_BAD_OPTION' },
    { flags: { serial: ['ok', 'fe'] }, code: 'ERR_BAD_OPTION' },
    { flags: { serial: Array.from({ length: 1001 }, (_v, i) => (i + 1).toString(16)) }, code: 'ERR_BAD_OPTION' },
    { flags: { name: 'a.*.example.com' }, code: 'ERR_BAD_OPTION' },
    { flags: { name: '*.' }, code: 'ERR_BAD_OPTION' },
    { flags: { name: '' }, code: 'ERR_BAD_OPTION' },
  ];
  for (const c of cases) throwsCode(() => buildFilter(c.flags, NOW), c.code, JSON.stringify(c.flags).slice(0, 80));
});

test('names the store can look up', () => {
  for (const good of ['web.example.com', '*.example.com', '*.a.b', '10.0.0.1', 'John Smith', 'spiffe://example.org/ns/x']) assert.ok(isNameQuery(good), good);
  for (const bad of ['', '*', '*.', '**.example.com', 'a*.example.com', '*.*.example.com', '*..example.com', 'x'.repeat(1025)]) assert.ok(!isNameQuery(bad), bad);
});

test('search reads TEXT as every kind it can be', () => {
  const kinds = (t: string) => searchReadings(t).map((r) => r.as);
  assert.deepEqual(kinds('web.example.com'), ['name']);
  assert.deepEqual(kinds('cafe'), ['serial', 'name'], 'a hex word is a serial and a host name');
  assert.deepEqual(kinds('4A:1F:03'), ['serial', 'name']);
  assert.deepEqual(kinds(FP), ['key-fingerprint', 'name'], '64 hex digits are too long for a serial');
  assert.deepEqual(kinds(`sha256:${FP}`), ['key-fingerprint', 'name']);
  assert.deepEqual(searchReadings('0x4a1f').find((r) => r.as === 'serial')?.filter, { serials: ['4a1f'] });
  assert.deepEqual(searchReadings(` ${FP.toUpperCase()} `).find((r) => r.as === 'key-fingerprint')?.filter, { keyFingerprint: FP });
  for (const bad of ['**', '*x', '', '   ']) throwsCode(() => searchReadings(bad), 'ERR_BAD_OPTION', JSON.stringify(bad));
});

test('CSV cells: RFC 4180 quoting, formula injection neutralised, controls escaped', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=1+2'), "'=1+2");
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell('-2'), "'-2");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell('\tcmd'), '\\x09cmd', 'a leading tab is escaped, so it starts no formula');
  assert.equal(csvCell('line\nbreak'), 'line\\x0abreak');
  assert.equal(csvCell('\u001b[31mred'), '\\x1b[31mred');
  assert.equal(csvCell('a=b'), 'a=b', 'only a leading sign counts');
  assert.equal(csvCell(''), '');
});

test('writers: CSV with CRLF, JSON arrays that parse (also empty), tables aligned and escaped', async () => {
  const cols = [
    { header: 'A', value: (x: { a: string; b: string }) => x.a },
    { header: 'LONG HEADER', value: (x: { a: string; b: string }) => x.b },
    { header: 'Z', value: () => 'z' },
  ];
  const items = [
    { a: 'x', b: '1' },
    { a: 'longer value', b: '\u001b]0;title\u0007' },
  ];
  const csv = memorySink();
  const cw = csvWriter(csv, cols);
  for (const i of items) await cw.write(i);
  await cw.end();
  assert.equal(csv.text(), 'A,LONG HEADER,Z\r\nx,1,z\r\nlonger value,\\x1b]0;title\\x07,z\r\n');
  const emptyCsv = memorySink();
  await csvWriter(emptyCsv, cols).end();
  assert.equal(emptyCsv.text(), 'A,LONG HEADER,Z\r\n', 'an empty CSV still has its header');

  const table = memorySink();
  const tw = tableWriter(table, cols);
  for (const i of items) await tw.write(i);
  await tw.end();
  assert.equal(table.text(), ['A             LONG HEADER       Z', 'x             1                 z', 'longer value  \\x1b]0;title\\x07  z', ''].join('\n'));
  const emptyTable = memorySink();
  await tableWriter(emptyTable, cols).end();
  assert.equal(emptyTable.text(), '');

  for (const n of [0, 1, 3]) {
    const json = memorySink();
    const jw = jsonArrayWriter(json, (x: { a: string; b: string }) => x);
    for (const i of [...items, ...items].slice(0, n)) await jw.write(i);
    await jw.end();
    assert.equal((JSON.parse(json.text()) as unknown[]).length, n);
    assert.ok(!json.text().includes('\u001b'));
    assert.ok(json.text().endsWith('\n'));
  }
});

test('a long table is sized by its first rows and then streamed', async () => {
  const sink = memorySink();
  const tw = tableWriter(sink, [
    { header: 'N', value: (n: number) => String(n) },
    { header: 'X', value: () => 'x' },
  ]);
  for (let n = 0; n < TABLE_SIZING_ROWS - 1; n++) await tw.write(n);
  assert.equal(sink.text(), '', 'nothing printed while the first rows size the columns');
  await tw.write(TABLE_SIZING_ROWS - 1);
  const printed = sink.text().length;
  assert.ok(printed > 0);
  await tw.write(5);
  assert.equal(sink.text().slice(printed), '5    x\n', 'later rows are written at once, in the same widths');
});

test('merging sources in store order: sorted by issue time then serial, duplicates once', async () => {
  async function* from(list: CertificateRecord[]): AsyncGenerator<CertificateRecord> {
    for (const r of list) yield await Promise.resolve(r);
  }
  const a = [record('0a', 1), record('0c', 2), record('0e', 5)];
  const b = [record('0b', 1), record('0c', 2), record('0d', 3)];
  const out: string[] = [];
  for await (const r of mergeInStoreOrder([from(a), from(b), from([])])) out.push(r.serial);
  assert.deepEqual(out, ['0a', '0b', '0c', '0d', '0e']);
  const none: string[] = [];
  for await (const r of mergeInStoreOrder([])) none.push(r.serial);
  assert.deepEqual(none, []);
});

test('status and the name a row shows', () => {
  const r = record('0a', NOW.getTime() - 7_200_000);
  assert.equal(inventoryStatus(r, NOW), 'expired');
  assert.equal(inventoryStatus({ ...r, notAfter: NOW }, NOW), 'valid', 'notAfter is the last valid instant');
  assert.equal(inventoryStatus({ ...r, status: 'revoked', revokedAt: NOW }, NOW), 'revoked');
  assert.equal(primaryName(r), '0a.example.com');
  assert.equal(
    primaryName({ ...r, names: [{ type: 'cn', value: 'Web' }, { type: 'dns', value: 'web' }, { type: 'dns', value: 'www.example.com' }, { type: 'ip', value: '10.0.0.1' }] }),
    'Web (+2)',
  );
  assert.equal(primaryName({ ...r, names: [], subject: 'O=Example' }), 'O=Example');
  assert.equal(primaryName({ ...r, names: [], subject: '' }), '-');
});
