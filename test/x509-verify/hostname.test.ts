/**
 * Service identity (RFC 6125 §6 / RFC 9525): host-name and IP tables for the matching functions,
 * then the same rules through verifyChain, cross-checked with `openssl verify -verify_hostname`
 * / `-verify_ip` where OpenSSL follows the same rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError } from '../../src/core/errors.js';
import { matchHostnamePattern, matchesHostname, matchesIpAddress, normalizeHostname, parseReferenceIp } from '../../src/x509/verify/index.js';
import { tempDir } from '../helpers/openssl.js';
import { intermediate, issue, newParty, opensslVerify, root, run, type Scenario } from './kit.js';

const tmp = tempDir('signet-host-');
process.on('exit', () => tmp.cleanup());

test('matchHostnamePattern table (RFC 6125 §6.4.3)', () => {
  const rows: Array<[pattern: string, host: string, match: boolean]> = [
    ['www.example.com', 'www.example.com', true],
    ['WWW.Example.COM', 'www.example.com', true],
    ['www.example.com.', 'www.example.com', true],
    ['www.example.com', 'ww.example.com', false],
    ['www.example.com', 'www.example.com.evil', false],
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'xn--bcher-kva.example.com', true],
    ['*.example.com.', 'a.example.com', true],
    ['*.Example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.example.org', false],
    ['f*.example.com', 'foo.example.com', false],
    ['*oo.example.com', 'foo.example.com', false],
    ['f*o.example.com', 'foo.example.com', false],
    ['xn--*.example.com', 'xn--a.example.com', false],
    ['www.*.com', 'www.example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['a.*', 'a.com', false],
    ['*.com', 'example.com', false],
    ['*', 'com', false],
    ['*.co.uk', 'example.co.uk', true],
    ['', 'a', false],
    ['.example.com', 'a.example.com', false],
    ['a..example.com', 'a..example.com', false],
  ];
  for (const [pattern, host, want] of rows) assert.equal(matchHostnamePattern(pattern, host), want, `${pattern} vs ${host}`);
});

test('normalizeHostname: case, trailing dot, and what is not a host name', () => {
  assert.equal(normalizeHostname('WWW.Example.COM.'), 'www.example.com');
  assert.equal(normalizeHostname('a_b.example'), 'a_b.example');
  assert.equal(normalizeHostname('localhost'), 'localhost');
  for (const bad of ['', '.', 'a..b', '*.example.com', 'bad host', 'ünï.example', `${'a'.repeat(64)}.com`, '-a.example', 'a.example..']) {
    assert.throws(() => normalizeHostname(bad), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'), JSON.stringify(bad));
  }
});

test('parseReferenceIp: IPv4, IPv6 forms, brackets; zone ids and junk refused', () => {
  assert.deepEqual([...parseReferenceIp('192.0.2.1')], [192, 0, 2, 1]);
  assert.deepEqual(parseReferenceIp('2001:DB8:0:0:0:0:0:1'), parseReferenceIp('2001:db8::1'));
  assert.deepEqual(parseReferenceIp('[2001:db8::1]'), parseReferenceIp('2001:db8::1'));
  assert.equal(parseReferenceIp('::ffff:10.0.0.1').length, 16);
  for (const bad of ['', '192.0.2.01', '192.0.2.256', '1.2.3', 'fe80::1%eth0', 'example.com', '::g']) {
    assert.throws(() => parseReferenceIp(bad), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'), bad);
  }
});

const k = { root: newParty(), int: newParty(), leaf: newParty() };
const R = root('Root', k.root);
const I = intermediate('Int', k.int, R);
const mk = (san: string[] | undefined, subject = 'CN=leaf'): Scenario => ({
  leaf: issue({ subject, party: k.leaf, issuer: I, ...(san ? { san } : {}) }),
  roots: [R],
  intermediates: [I],
});
const named = mk(['dns:www.example.com', 'dns:api.example.com']);
const wild = mk(['dns:*.example.com']);
const ips = mk(['ip:192.0.2.1', 'ip:2001:db8::1', 'ip:::ffff:10.0.0.1', 'dns:192.0.2.9']);
const cnOnly = mk(undefined, 'CN=www.example.com');

test('matchesHostname / matchesIpAddress on certificates', () => {
  assert.equal(matchesHostname(named.leaf.cert, 'API.example.com.'), true);
  assert.equal(matchesHostname(named.leaf.cert, 'example.com'), false);
  assert.equal(matchesHostname(wild.leaf.cert, 'x.example.com'), true);
  assert.equal(matchesHostname(cnOnly.leaf.cert, 'www.example.com'), false, 'the common name is never used');
  assert.equal(matchesIpAddress(ips.leaf.cert, '192.0.2.1'), true);
  assert.equal(matchesIpAddress(ips.leaf.cert, '2001:0db8:0000::0001'), true);
  assert.equal(matchesIpAddress(ips.leaf.cert, '10.0.0.1'), false, 'IPv4 does not match an IPv4-mapped IPv6 SAN');
  assert.equal(matchesIpAddress(ips.leaf.cert, '::ffff:10.0.0.1'), true);
  assert.equal(matchesIpAddress(ips.leaf.cert, '192.0.2.9'), false, 'an IP written as a dNSName is not an iPAddress SAN');
  assert.equal(matchesHostname(ips.leaf.cert, '192.0.2.1'), true, 'an IP literal as host is matched as an IP');
  assert.equal(matchesIpAddress(named.leaf.cert, '192.0.2.1'), false);
});

interface HostCase {
  readonly name: string;
  readonly scenario: Scenario;
  readonly host?: string;
  readonly ip?: string;
  readonly expect: 'ok' | 'ERR_VERIFY_HOSTNAME' | 'ERR_VERIFY_IP';
  readonly openssl?: boolean;
}

const CASES: HostCase[] = [
  { name: 'exact name', scenario: named, host: 'www.example.com', expect: 'ok' },
  { name: 'second SAN', scenario: named, host: 'api.example.com', expect: 'ok' },
  { name: 'upper case reference', scenario: named, host: 'WWW.EXAMPLE.COM', expect: 'ok' },
  { name: 'trailing dot on the reference (OpenSSL 3.0 rejects it)', scenario: named, host: 'www.example.com.', expect: 'ok', openssl: false },
  { name: 'trailing dot on the SAN', scenario: mk(['dns:www.example.com.']), host: 'www.example.com', expect: 'ok', openssl: false },
  { name: 'another name', scenario: named, host: 'mail.example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'parent domain', scenario: named, host: 'example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'wildcard: one label', scenario: wild, host: 'a.example.com', expect: 'ok' },
  { name: 'wildcard: two labels', scenario: wild, host: 'a.b.example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'wildcard: the bare domain', scenario: wild, host: 'example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'partial wildcard never matches (OpenSSL allows it by default)', scenario: mk(['dns:f*.example.com']), host: 'foo.example.com', expect: 'ERR_VERIFY_HOSTNAME', openssl: false },
  { name: 'wildcard over a public-suffix-like domain never matches', scenario: mk(['dns:*.com']), host: 'example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'common name is not used without DNS SANs (OpenSSL falls back to it)', scenario: cnOnly, host: 'www.example.com', expect: 'ERR_VERIFY_HOSTNAME', openssl: false },
  { name: 'common name is not used with DNS SANs', scenario: mk(['dns:api.example.com'], 'CN=www.example.com'), host: 'www.example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'ipv4 SAN', scenario: ips, ip: '192.0.2.1', expect: 'ok' },
  { name: 'ipv4 not in SANs', scenario: ips, ip: '192.0.2.2', expect: 'ERR_VERIFY_IP' },
  { name: 'ipv4 written as a dNSName does not count', scenario: ips, ip: '192.0.2.9', expect: 'ERR_VERIFY_IP' },
  { name: 'ipv6 SAN, uncompressed reference', scenario: ips, ip: '2001:DB8:0:0:0:0:0:1', expect: 'ok' },
  { name: 'ipv6 not in SANs', scenario: ips, ip: '2001:db8::2', expect: 'ERR_VERIFY_IP' },
  { name: 'ipv4 vs IPv4-mapped IPv6 SAN', scenario: ips, ip: '10.0.0.1', expect: 'ERR_VERIFY_IP' },
  { name: 'ip literal passed as host is matched as an ip', scenario: ips, host: '192.0.2.1', expect: 'ok', openssl: false },
  { name: 'ip literal passed as host, not in SANs', scenario: ips, host: '192.0.2.3', expect: 'ERR_VERIFY_IP', openssl: false },
  { name: 'no SAN at all, ip', scenario: cnOnly, ip: '192.0.2.1', expect: 'ERR_VERIFY_IP' },
];

for (const c of CASES) {
  test(`identity: ${c.name} → ${c.expect}`, () => {
    const options = { ...(c.host === undefined ? {} : { host: c.host }), ...(c.ip === undefined ? {} : { ip: c.ip }) };
    const s: Scenario = { ...c.scenario, options };
    const r = run(s);
    assert.equal(r.result, c.expect);
    if (c.expect !== 'ok') assert.equal(r.depth, 0);
    if (c.openssl !== false) {
      const o = opensslVerify(s, tmp.dir, c.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60));
      assert.equal(o.ok, c.expect === 'ok', `openssl disagrees: ${o.output}`);
    }
  });
}
