/** Distinguished-name and GeneralName text syntax: RFC 4514, OpenSSL's slash form, CLI SAN syntax. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError } from '../../src/core/errors.js';
import { toHex } from '../../src/core/bytes.js';
import { encodeName, formatDistinguishedName, parseDistinguishedName, parseSubject } from '../../src/x509/name.js';
import { encodeGeneralName, formatIpAddress, parseGeneralName, parseIpAddress, parseIpRange } from '../../src/x509/general-name.js';

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isSignetError(e) && e.code === code);
}

test('RFC 4514 strings are reversed into DER order (RFC 4514 §2.1)', () => {
  assert.deepEqual(parseDistinguishedName('CN=web,O=Example,C=DE'), [[{ type: 'C', value: 'DE' }], [{ type: 'O', value: 'Example' }], [{ type: 'CN', value: 'web' }]]);
});

test('OpenSSL slash form keeps its order', () => {
  assert.deepEqual(parseDistinguishedName('/C=DE/O=Example/CN=web'), [[{ type: 'C', value: 'DE' }], [{ type: 'O', value: 'Example' }], [{ type: 'CN', value: 'web' }]]);
});

test('both forms encode to the same DER', () => {
  assert.equal(toHex(encodeName(parseDistinguishedName('CN=web,O=Example,C=DE'))), toHex(encodeName(parseDistinguishedName('/C=DE/O=Example/CN=web'))));
});

test('escapes: special characters, hex pairs (UTF-8), escaped trailing space', () => {
  const dn = parseDistinguishedName('CN=a\\,b\\+c\\=d,O=M\\C3\\BCller,OU=x\\ ');
  assert.deepEqual(dn, [[{ type: 'OU', value: 'x ' }], [{ type: 'O', value: 'Müller' }], [{ type: 'CN', value: 'a,b+c=d' }]]);
  assert.equal(formatDistinguishedName(dn), 'CN=a\\,b\\+c\\=d,O=Müller,OU=x\\ ');
  assert.deepEqual(parseDistinguishedName(formatDistinguishedName(dn)), dn);
});

test('multi-valued RDNs with +, spaces around separators are tolerated', () => {
  assert.deepEqual(parseDistinguishedName('CN=jdoe + UID=1001, O=Example'), [
    [{ type: 'O', value: 'Example' }],
    [
      { type: 'CN', value: 'jdoe' },
      { type: 'UID', value: '1001' },
    ],
  ]);
});

test('attribute types: short names case-insensitively, long names, dotted OIDs', () => {
  const dn = parseDistinguishedName('cn=a,organizationName=b,2.5.4.11=c,E=x@example.com,dc=example');
  assert.equal(toHex(encodeName(dn)), toHex(encodeName(parseDistinguishedName('/DC=example/emailAddress=x@example.com/OU=c/O=b/CN=a'))));
});

test('subject text: plain common name, empty, slash-only', () => {
  assert.deepEqual(parseSubject('Example Root CA'), [[{ type: 'CN', value: 'Example Root CA' }]]);
  assert.deepEqual(parseSubject(''), []);
  assert.deepEqual(parseSubject('/'), []);
  assert.equal(toHex(encodeName([])), '3000');
});

test('bad distinguished names are ERR_BAD_SUBJECT', () => {
  for (const bad of ['CN=a,,O=b', 'CN', 'XX=1', 'CN=', 'CN=#0403', 'CN=a\\']) throwsCode(() => parseDistinguishedName(bad), 'ERR_BAD_SUBJECT');
  throwsCode(() => encodeName([[{ type: 'C', value: 'D_' }]]), 'ERR_BAD_SUBJECT');
  throwsCode(() => encodeName([[{ type: 'emailAddress', value: 'jörg@example.com' }]]), 'ERR_BAD_SUBJECT');
});

test('SAN auto-detection and prefixes', () => {
  assert.deepEqual(parseGeneralName('www.Example.com'), { type: 'dns', value: 'www.example.com' });
  assert.deepEqual(parseGeneralName('*.example.com'), { type: 'dns', value: '*.example.com' });
  assert.deepEqual(parseGeneralName('10.0.0.1'), { type: 'ip', value: '10.0.0.1' });
  assert.deepEqual(parseGeneralName('2001:db8::1'), { type: 'ip', value: '2001:db8::1' });
  assert.deepEqual(parseGeneralName('ops@example.com'), { type: 'email', value: 'ops@example.com' });
  assert.deepEqual(parseGeneralName('spiffe://example.org/ns/prod/sa/web'), { type: 'uri', value: 'spiffe://example.org/ns/prod/sa/web' });
  assert.deepEqual(parseGeneralName('dns:localhost'), { type: 'dns', value: 'localhost' });
  assert.deepEqual(parseGeneralName('URI:https://example.com/a'), { type: 'uri', value: 'https://example.com/a' });
  assert.deepEqual(parseGeneralName('email:a@b.example'), { type: 'email', value: 'a@b.example' });
  assert.deepEqual(parseGeneralName('ip:::1'), { type: 'ip', value: '::1' });
});

test('invalid SANs are ERR_BAD_NAME', () => {
  for (const bad of ['-bad.example.com', 'a..b', 'ip:10.0.0.256', 'ip:10.0.0.0/8', 'email:nobody', 'uri:not a uri', 'foo.*.example.com', 'bücher.example', `${'a'.repeat(64)}.example`]) {
    throwsCode(() => parseGeneralName(bad), 'ERR_BAD_NAME');
  }
});

test('name-constraint forms (RFC 5280 §4.2.1.10)', () => {
  assert.deepEqual(parseGeneralName('dns:.example.com', { constraint: true }), { type: 'dns', value: '.example.com' });
  assert.deepEqual(parseGeneralName('email:example.com', { constraint: true }), { type: 'email', value: 'example.com' });
  assert.deepEqual(parseGeneralName('uri:.example.com', { constraint: true }), { type: 'uri', value: '.example.com' });
  assert.deepEqual(parseGeneralName('10.0.0.0/8', { constraint: true }), { type: 'ip', value: '10.0.0.0/8' });
  throwsCode(() => parseGeneralName('ip:10.0.0.0/33', { constraint: true }), 'ERR_BAD_NAME');
  throwsCode(() => parseGeneralName('uri:https://x.example', { constraint: true }), 'ERR_BAD_NAME');
});

test('IP encodings: v4, v6, embedded v4, ranges as address‖mask', () => {
  assert.equal(toHex(parseIpAddress('192.0.2.1') ?? new Uint8Array()), 'c0000201');
  assert.equal(toHex(parseIpAddress('2001:db8::1') ?? new Uint8Array()), '20010db8000000000000000000000001');
  assert.equal(toHex(parseIpAddress('::ffff:10.0.0.1') ?? new Uint8Array()), '00000000000000000000ffff0a000001');
  assert.equal(parseIpAddress('1.2.3'), undefined);
  assert.equal(parseIpAddress('fe80::1%eth0'), undefined);
  assert.equal(toHex(parseIpRange('10.0.0.0/8') ?? new Uint8Array()), '0a000000ff000000');
  assert.equal(toHex(parseIpRange('10.0.0.0/255.255.0.0') ?? new Uint8Array()), '0a000000ffff0000');
  assert.equal(toHex(parseIpRange('fd00::/8') ?? new Uint8Array()), 'fd000000000000000000000000000000ff000000000000000000000000000000');
  assert.equal(formatIpAddress(Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])), '2001:db8::1');
  assert.equal(formatIpAddress(new Uint8Array(16)), '::');
  assert.equal(toHex(encodeGeneralName({ type: 'ip', value: '10.0.0.0/8' }, true)), '87080a000000ff000000');
  throwsCode(() => encodeGeneralName({ type: 'ip', value: '10.0.0.0/8' }), 'ERR_BAD_NAME');
});

function badName(text: string, why: RegExp, hint?: RegExp): void {
  assert.throws(
    () => parseGeneralName(text),
    (e: unknown) => isSignetError(e, 'ERR_BAD_NAME') && why.test(e.message) && (hint === undefined || hint.test(e.hint ?? '')),
    text,
  );
}

test('host:port is not a SAN of any type (and never silently a URI)', () => {
  badName('www.example.com:443', /ports are not allowed in a DNS SAN/, /uri:https:\/\/www\.example\.com:443/);
  badName('localhost:8080', /ports are not allowed in a DNS SAN/);
  badName('dns:www.example.com:443', /ports are not allowed in a DNS SAN/);
  badName('*.example.com:443', /ports are not allowed in a DNS SAN/);
  badName('10.0.0.1:443', /ports are not allowed/, /ip:10\.0\.0\.1/);
  badName('[::1]:443', /ports are not allowed/);
  badName('ip:10.0.0.1:443', /ports are not allowed/);
  badName('com.example.app:/callback', /neither a DNS name nor a URI/, /uri:com\.example\.app:\/callback/);
  // Real URIs are still URIs, with or without a port.
  assert.deepEqual(parseGeneralName('https://www.example.com:443/x'), { type: 'uri', value: 'https://www.example.com:443/x' });
  assert.deepEqual(parseGeneralName('urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'), { type: 'uri', value: 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66' });
  assert.deepEqual(parseGeneralName('uri:tel:911'), { type: 'uri', value: 'tel:911' });
});

test('IPv6: zone ids are refused, brackets are accepted', () => {
  badName('fe80::1%eth0', /IPv6 zone ids are not allowed/, /ip:fe80::1/);
  badName('ip:fe80::1%eth0', /IPv6 zone ids are not allowed/);
  badName('ip:fe80::1%25eth0', /IPv6 zone ids are not allowed/);
  assert.deepEqual(parseGeneralName('[::1]'), { type: 'ip', value: '::1' });
  assert.deepEqual(parseGeneralName('ip:[2001:db8::1]'), { type: 'ip', value: '2001:db8::1' });
  badName('[10.0.0.1]', /invalid DNS name/);
});

test('all-numeric names that are not IPv4 addresses are not DNS names (RFC 3696 §2)', () => {
  for (const text of ['999.1.1.1', '1.2.3', '01.02.03.04', '1.2.3.4.5', 'dns:10.0.0.1', '256.0.0.1']) {
    badName(text, /looks like an IP address but is not a valid one/);
  }
  badName('example.123', /last label is all digits/);
  assert.deepEqual(parseGeneralName('1.example.com'), { type: 'dns', value: '1.example.com' });
  assert.deepEqual(parseGeneralName('123.example'), { type: 'dns', value: '123.example' });
  assert.deepEqual(parseGeneralName('a1.b2.c3'), { type: 'dns', value: 'a1.b2.c3' });
});

test('IDNA: U-labels get the A-label as a hint; broken A-labels are refused', () => {
  badName('bücher.example', /IDNA A-labels/, /xn--bcher-kva\.example/);
  badName('*.bücher.example', /IDNA A-labels/, /\*\.xn--bcher-kva\.example/);
  for (const text of ['xn--zz.example', 'www.xn--abc.example', 'xn--abc-1.example', 'a.xn--ls8h-']) badName(text, /not a valid (punycode A-)?label/);
  for (const text of ['xn--zz.example', 'www.xn--abc.example']) badName(text, /not a valid punycode A-label/);
  assert.deepEqual(parseGeneralName('xn--bcher-kva.example'), { type: 'dns', value: 'xn--bcher-kva.example' });
  assert.deepEqual(parseGeneralName('XN--BCHER-KVA.example'), { type: 'dns', value: 'xn--bcher-kva.example' });
  assert.deepEqual(parseGeneralName('*.xn--55qx5d.example'), { type: 'dns', value: '*.xn--55qx5d.example' });
});

test('a trailing dot is refused with a hint; wildcards stay permissive (the linter judges *.com)', () => {
  badName('www.example.com.', /trailing dot/, /drop the trailing dot: www\.example\.com$/);
  badName('dns:example.com.', /trailing dot/);
  assert.deepEqual(parseGeneralName('*.com'), { type: 'dns', value: '*.com' });
  assert.deepEqual(parseGeneralName('*.example.com'), { type: 'dns', value: '*.example.com' });
  badName('foo.*.example.com', /not a valid label/);
  // Name-constraint forms keep working.
  assert.deepEqual(parseGeneralName('dns:.xn--bcher-kva.example', { constraint: true }), { type: 'dns', value: '.xn--bcher-kva.example' });
  throwsCode(() => parseGeneralName('dns:.1.2', { constraint: true }), 'ERR_BAD_NAME');
});

test('control characters in a DN are written as RFC 4514 hex pairs and read back', () => {
  const dn = [[{ type: 'CN', value: 'evil\x1b[31mRED\x1b[0m\nFAKE: line\u009b\x7f' }]];
  const text = formatDistinguishedName(dn);
  assert.equal(text, 'CN=evil\\1B[31mRED\\1B[0m\\0AFAKE: line\\C2\\9B\\7F');
  assert.deepEqual(parseDistinguishedName(text), dn);
});
