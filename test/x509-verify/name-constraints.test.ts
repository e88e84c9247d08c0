/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c), §6.1.4 (g)): tables of constraint ×
 * name for every supported form, permitted and excluded, applied through real chains (Root → CA
 * with the constraints → leaf), with OpenSSL cross-checking the verdict where both follow the
 * same reading. Unit tables pin the matching functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { implicitConstructed, implicitPrimitive, oid, sequence } from '../../src/x509/der.js';
import { rawGeneralName, type GeneralName } from '../../src/x509/general-name.js';
import { OID } from '../../src/x509/oids.js';
import { parseIpRange } from '../../src/x509/general-name.js';
import { ipToOctets } from '../../src/x509/decode-names.js';
import { dnsWithin, emailWithin, ipWithin, looksLikeHostname, uriHost, uriWithin } from '../../src/x509/verify/index.js';
import { tempDir } from '../helpers/openssl.js';
import { intermediate, issue, newParty, opensslVerify, root, run, type IssueOptions, type Scenario } from './kit.js';

const tmp = tempDir('signet-nc-');
process.on('exit', () => tmp.cleanup());

const k = { root: newParty(), ca: newParty(), ca2: newParty(), leaf: newParty() };
const R = root('Root', k.root);

interface Constraints {
  readonly permitted?: readonly (GeneralName | string)[];
  readonly excluded?: readonly (GeneralName | string)[];
}

/** Root → CA (constraints) → leaf. */
function chain(c: Constraints, leafOpts: Partial<IssueOptions>, caSubject = 'CN=Constrained CA'): Scenario {
  const ca = issue({ subject: caSubject, party: k.ca, issuer: R, ca: true, ...c });
  const l = issue({ subject: 'CN=leaf', party: k.leaf, issuer: ca, ...leafOpts });
  return { leaf: l, roots: [R], intermediates: [ca] };
}

const dir = (text: string): GeneralName => ({ type: 'dirName', value: parseDn(text) });
function parseDn(text: string): Array<Array<{ type: string; value: string }>> {
  // OpenSSL slash order (most significant first) keeps the tables readable.
  return text
    .split('/')
    .filter(Boolean)
    .map((p) => {
      const [t, v] = p.split('=');
      return [{ type: t as string, value: v as string }];
    });
}

interface NcCase {
  readonly name: string;
  readonly scenario: () => Scenario;
  readonly expect: 'ok' | 'ERR_VERIFY_NAME_CONSTRAINTS';
  readonly depth?: number;
  /** false when OpenSSL reads the rule differently (documented in name-constraints.ts). */
  readonly openssl?: boolean;
}

const san = (...names: string[]): Partial<IssueOptions> => ({ san: names });
const NC = 'ERR_VERIFY_NAME_CONSTRAINTS' as const;

const CASES: NcCase[] = [
  // ---- dNSName ----------------------------------------------------------------------------
  { name: 'dns permitted example.com: the host itself', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:example.com')), expect: 'ok' },
  { name: 'dns permitted example.com: a subdomain', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns permitted example.com: a deep subdomain', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:a.b.example.com')), expect: 'ok' },
  { name: 'dns permitted example.com: a suffix that is not a label boundary', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:badexample.com')), expect: NC, depth: 0 },
  { name: 'dns permitted example.com: another domain', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:example.org')), expect: NC, depth: 0 },
  { name: 'dns permitted example.com: one of two SANs outside', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:www.example.com', 'dns:www.example.net')), expect: NC },
  { name: 'dns permitted .example.com: a subdomain', scenario: () => chain({ permitted: ['dns:.example.com'] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns permitted .example.com: not the domain itself', scenario: () => chain({ permitted: ['dns:.example.com'] }, san('dns:example.com')), expect: NC },
  { name: 'dns permitted: comparison ignores case', scenario: () => chain({ permitted: [{ type: 'dns', value: 'Example.COM' }] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns permitted: two entries, the second matches', scenario: () => chain({ permitted: ['dns:example.org', 'dns:example.com'] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns excluded bad.example.com: a sibling is fine', scenario: () => chain({ excluded: ['dns:bad.example.com'] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns excluded bad.example.com: the host', scenario: () => chain({ excluded: ['dns:bad.example.com'] }, san('dns:bad.example.com')), expect: NC },
  { name: 'dns excluded bad.example.com: below it', scenario: () => chain({ excluded: ['dns:bad.example.com'] }, san('dns:x.bad.example.com')), expect: NC },
  { name: 'dns permitted example.com, excluded secret.example.com: allowed part', scenario: () => chain({ permitted: ['dns:example.com'], excluded: ['dns:secret.example.com'] }, san('dns:www.example.com')), expect: 'ok' },
  { name: 'dns permitted example.com, excluded secret.example.com: excluded part', scenario: () => chain({ permitted: ['dns:example.com'], excluded: ['dns:secret.example.com'] }, san('dns:db.secret.example.com')), expect: NC },
  { name: 'dns permitted example.com: wildcard inside', scenario: () => chain({ permitted: ['dns:example.com'] }, san('dns:*.example.com')), expect: 'ok' },
  { name: 'dns permitted www.example.com: wildcard one level up is outside', scenario: () => chain({ permitted: ['dns:www.example.com'] }, san('dns:*.example.com')), expect: NC },
  {
    name: 'dns excluded www.example.com: a wildcard that can stand for it is excluded (stricter than OpenSSL/Go)',
    scenario: () => chain({ excluded: ['dns:www.example.com'] }, san('dns:*.example.com')),
    expect: NC,
    openssl: false,
  },
  { name: 'dns constraint only: an IP SAN is unconstrained', scenario: () => chain({ permitted: ['dns:example.com'] }, san('ip:192.0.2.1')), expect: 'ok' },

  // ---- iPAddress --------------------------------------------------------------------------
  { name: 'ip permitted 10.0.0.0/8: inside', scenario: () => chain({ permitted: ['ip:10.0.0.0/8'] }, san('ip:10.1.2.3')), expect: 'ok' },
  { name: 'ip permitted 10.0.0.0/8: outside', scenario: () => chain({ permitted: ['ip:10.0.0.0/8'] }, san('ip:11.0.0.1')), expect: NC },
  { name: 'ip permitted 10.0.0.0/8: an IPv6 address is not in an IPv4 subtree', scenario: () => chain({ permitted: ['ip:10.0.0.0/8'] }, san('ip:2001:db8::1')), expect: NC },
  { name: 'ip permitted 10.0.0.0/8: IPv4-mapped IPv6 is a different family', scenario: () => chain({ permitted: ['ip:10.0.0.0/8'] }, san('ip:::ffff:10.0.0.1')), expect: NC },
  { name: 'ip permitted 10.1.2.3/32: the exact host', scenario: () => chain({ permitted: ['ip:10.1.2.3/32'] }, san('ip:10.1.2.3')), expect: 'ok' },
  { name: 'ip permitted fd00::/8: inside', scenario: () => chain({ permitted: ['ip:fd00::/8'] }, san('ip:fd12:3456::1')), expect: 'ok' },
  { name: 'ip permitted fd00::/8: outside', scenario: () => chain({ permitted: ['ip:fd00::/8'] }, san('ip:fe80::1')), expect: NC },
  { name: 'ip permitted v4 and v6: both families inside', scenario: () => chain({ permitted: ['ip:10.0.0.0/8', 'ip:fd00::/8'] }, san('ip:10.9.9.9', 'ip:fd00::9')), expect: 'ok' },
  { name: 'ip excluded 192.168.0.0/16: inside', scenario: () => chain({ excluded: ['ip:192.168.0.0/16'] }, san('ip:192.168.1.1')), expect: NC },
  { name: 'ip excluded 192.168.0.0/16: outside', scenario: () => chain({ excluded: ['ip:192.168.0.0/16'] }, san('ip:10.0.0.1')), expect: 'ok' },
  { name: 'ip excluded 2001:db8::/32: inside', scenario: () => chain({ excluded: ['ip:2001:db8::/32'] }, san('ip:2001:db8:1::1')), expect: NC },
  { name: 'ip constraint only: a dns SAN is unconstrained', scenario: () => chain({ permitted: ['ip:10.0.0.0/8'] }, san('dns:anything.example')), expect: 'ok' },

  // ---- rfc822Name -------------------------------------------------------------------------
  { name: 'email permitted host example.com: mailbox at the host', scenario: () => chain({ permitted: ['email:example.com'] }, san('email:alice@example.com')), expect: 'ok' },
  { name: 'email permitted host example.com: mailbox at a subdomain', scenario: () => chain({ permitted: ['email:example.com'] }, san('email:alice@mail.example.com')), expect: NC },
  { name: 'email permitted .example.com: mailbox at a subdomain', scenario: () => chain({ permitted: ['email:.example.com'] }, san('email:alice@mail.example.com')), expect: 'ok' },
  { name: 'email permitted .example.com: not at the domain itself', scenario: () => chain({ permitted: ['email:.example.com'] }, san('email:alice@example.com')), expect: NC },
  { name: 'email permitted mailbox: that mailbox', scenario: () => chain({ permitted: ['email:alice@example.com'] }, san('email:alice@example.com')), expect: 'ok' },
  { name: 'email permitted mailbox: domain case-insensitive', scenario: () => chain({ permitted: ['email:alice@example.com'] }, san('email:alice@EXAMPLE.com')), expect: 'ok' },
  { name: 'email permitted mailbox: local part is case-sensitive', scenario: () => chain({ permitted: ['email:alice@example.com'] }, san('email:Alice@example.com')), expect: NC },
  { name: 'email permitted mailbox: another mailbox', scenario: () => chain({ permitted: ['email:alice@example.com'] }, san('email:bob@example.com')), expect: NC },
  { name: 'email excluded example.com: subject emailAddress is checked', scenario: () => chain({ excluded: ['email:example.com'] }, { subject: '/CN=bob/emailAddress=bob@example.com' }), expect: NC },
  { name: 'email permitted example.com: subject emailAddress outside', scenario: () => chain({ permitted: ['email:example.com'] }, { subject: '/CN=bob/emailAddress=bob@example.org' }), expect: NC },
  { name: 'email permitted example.com: subject emailAddress inside', scenario: () => chain({ permitted: ['email:example.com'] }, { subject: '/CN=bob/emailAddress=bob@example.com' }), expect: 'ok' },

  // ---- uniformResourceIdentifier ----------------------------------------------------------
  { name: 'uri permitted host.example.com: that host', scenario: () => chain({ permitted: ['uri:host.example.com'] }, san('uri:https://host.example.com/path')), expect: 'ok' },
  {
    name: 'uri permitted host.example.com: with userinfo and port (RFC 3986 host; OpenSSL keeps the userinfo)',
    scenario: () => chain({ permitted: ['uri:host.example.com'] }, san('uri:https://user@host.example.com:8443/x')),
    expect: 'ok',
    openssl: false,
  },
  { name: 'uri permitted host.example.com: with a port', scenario: () => chain({ permitted: ['uri:host.example.com'] }, san('uri:https://host.example.com:8443/x')), expect: 'ok' },
  { name: 'uri permitted host.example.com: another host', scenario: () => chain({ permitted: ['uri:host.example.com'] }, san('uri:https://other.example.com/')), expect: NC },
  { name: 'uri permitted host.example.com: a subdomain is another host (RFC 5280 wording)', scenario: () => chain({ permitted: ['uri:host.example.com'] }, san('uri:https://sub.host.example.com/')), expect: NC },
  { name: 'uri permitted .example.com: a host in the domain', scenario: () => chain({ permitted: ['uri:.example.com'] }, san('uri:spiffe://a.example.com/ns/web')), expect: 'ok' },
  { name: 'uri permitted .example.com: not the domain itself', scenario: () => chain({ permitted: ['uri:.example.com'] }, san('uri:https://example.com/')), expect: NC },
  { name: 'uri excluded .evil.com: inside', scenario: () => chain({ excluded: ['uri:.evil.com'] }, san('uri:spiffe://x.evil.com/ns')), expect: NC },
  { name: 'uri excluded .evil.com: outside', scenario: () => chain({ excluded: ['uri:.evil.com'] }, san('uri:spiffe://good.com/ns')), expect: 'ok' },
  { name: 'uri permitted: a URN has no host and cannot be checked', scenario: () => chain({ permitted: ['uri:.example.com'] }, san('uri:urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66')), expect: NC },

  // ---- directoryName ----------------------------------------------------------------------
  { name: 'dirName permitted C=US/O=Example: subject below it', scenario: () => chain({ permitted: [dir('/C=US/O=Example')] }, { subject: '/C=US/O=Example/CN=leaf' }), expect: 'ok' },
  { name: 'dirName permitted C=US/O=Example: subject elsewhere', scenario: () => chain({ permitted: [dir('/C=US/O=Example')] }, { subject: '/C=US/O=Other/CN=leaf' }), expect: NC },
  { name: 'dirName permitted: comparison folds case (RFC 5280 §7.1)', scenario: () => chain({ permitted: [dir('/C=US/O=Example')] }, { subject: '/C=US/O=EXAMPLE/CN=leaf' }), expect: 'ok' },
  { name: 'dirName excluded C=US/O=Evil: subject below it', scenario: () => chain({ excluded: [dir('/C=US/O=Evil')] }, { subject: '/C=US/O=Evil/CN=leaf' }), expect: NC },
  { name: 'dirName excluded: a directoryName SAN below it', scenario: () => chain({ excluded: [dir('/C=US/O=Evil')] }, { san: [dir('/C=US/O=Evil/CN=alt')] }), expect: NC },
  {
    name: 'dirName constraints also bind intermediates',
    scenario: () => {
      const ca = issue({ subject: '/C=US/O=Example/CN=CA', party: k.ca, issuer: R, ca: true, permitted: [dir('/C=US/O=Example')] });
      const sub = issue({ subject: '/C=US/O=Other/CN=Sub', party: k.ca2, issuer: ca, ca: true });
      return { leaf: issue({ subject: '/C=US/O=Example/CN=leaf', party: k.leaf, issuer: sub }), roots: [R], intermediates: [ca, sub] };
    },
    expect: NC,
    depth: 1,
  },
  {
    name: 'self-issued intermediate is exempt (RFC 5280 §6.1.3 (b)); the leaf below is checked',
    scenario: () => {
      const ca = issue({ subject: '/O=Other/CN=CA', party: k.ca, issuer: R, ca: true, permitted: [dir('/O=Example')] });
      const rollover = issue({ subject: '/O=Other/CN=CA', party: k.ca2, issuer: ca, ca: true });
      return { leaf: issue({ subject: '/O=Example/CN=leaf', party: k.leaf, issuer: rollover }), roots: [R], intermediates: [ca, rollover] };
    },
    expect: 'ok',
  },

  // ---- subject commonName as a host name (end entity without DNS SANs) --------------------
  { name: 'CN that looks like a host, no SAN, outside the permitted DNS subtree', scenario: () => chain({ permitted: ['dns:example.com'] }, { subject: 'CN=www.example.org' }), expect: NC },
  { name: 'CN that looks like a host, no SAN, inside', scenario: () => chain({ permitted: ['dns:example.com'] }, { subject: 'CN=www.example.com' }), expect: 'ok' },
  { name: 'CN that looks like a host, no SAN, excluded', scenario: () => chain({ excluded: ['dns:example.org'] }, { subject: 'CN=www.example.org' }), expect: NC },
  { name: 'CN that is not a host name is not checked', scenario: () => chain({ permitted: ['dns:example.com'] }, { subject: 'CN=Alice Smith' }), expect: 'ok' },
  { name: 'CN is not checked when DNS SANs exist', scenario: () => chain({ permitted: ['dns:example.com'] }, { subject: 'CN=www.example.org', san: ['dns:www.example.com'] }), expect: 'ok' },
  {
    name: 'CN of an intermediate is not checked as a host name',
    scenario: () => {
      const ca = issue({ subject: 'CN=Constrained', party: k.ca, issuer: R, ca: true, permitted: ['dns:example.com'] });
      const sub = issue({ subject: 'CN=sub.example.org', party: k.ca2, issuer: ca, ca: true });
      return { leaf: issue({ subject: 'CN=leaf', party: k.leaf, issuer: sub, san: ['dns:www.example.com'] }), roots: [R], intermediates: [ca, sub] };
    },
    expect: 'ok',
  },

  // ---- accumulation down the chain (§6.1.4 (g)): permitted ∩, excluded ∪ -------------------
  ...accumulationCases(),

  // ---- forms that cannot be evaluated, malformed subtrees ---------------------------------
  {
    name: 'registeredID constraint with a registeredID SAN is rejected (cannot be processed)',
    scenario: () => chain({ permitted: [rawGeneralName(8, oid('1.2.3.4').subarray(2))] }, { san: ['dns:x.example.com', rawGeneralName(8, oid('1.2.3.4').subarray(2))] }),
    expect: NC,
  },
  { name: 'registeredID constraint, leaf without such a name', scenario: () => chain({ permitted: [rawGeneralName(8, oid('1.2.3.4').subarray(2))] }, san('dns:x.example.com')), expect: 'ok' },
  {
    name: 'a GeneralSubtree with minimum 1 is rejected',
    scenario: () => {
      const subtree = sequence([implicitPrimitive(2, new TextEncoder().encode('example.com')), implicitPrimitive(0, Uint8Array.of(1))]);
      const ca = issue({ subject: 'CN=MinMax', party: k.ca, issuer: R, ca: true, extra: [{ oid: OID.nameConstraints, critical: true, value: sequence([implicitConstructed(0, subtree)]) }] });
      return { leaf: issue({ subject: 'CN=leaf', party: k.leaf, issuer: ca, san: ['dns:www.example.com'] }), roots: [R], intermediates: [ca] };
    },
    expect: NC,
    depth: 1,
  },
];

function accumulationCases(): NcCase[] {
  const two = (c1: Constraints, c2: Constraints, leafSan: string): Scenario => {
    const ca1 = issue({ subject: 'CN=CA1', party: k.ca, issuer: R, ca: true, ...c1 });
    const ca2 = issue({ subject: 'CN=CA2', party: k.ca2, issuer: ca1, ca: true, ...c2 });
    return { leaf: issue({ subject: 'CN=leaf', party: k.leaf, issuer: ca2, san: [leafSan] }), roots: [R], intermediates: [ca1, ca2] };
  };
  const p1 = { permitted: ['dns:example.com', 'dns:example.org'] };
  const p2 = { permitted: ['dns:example.org', 'dns:example.net'] };
  return [
    { name: 'permitted ∩: in both CAs’ subtrees', scenario: () => two(p1, p2, 'dns:www.example.org'), expect: 'ok' },
    { name: 'permitted ∩: only in the upper CA’s subtree', scenario: () => two(p1, p2, 'dns:www.example.com'), expect: NC },
    { name: 'permitted ∩: only in the lower CA’s subtree (cannot widen)', scenario: () => two(p1, p2, 'dns:www.example.net'), expect: NC },
    { name: 'permitted: a CA without DNS constraints keeps the upper ones', scenario: () => two(p1, { permitted: ['ip:10.0.0.0/8'] }, 'dns:www.example.net'), expect: NC },
    { name: 'excluded ∪: excluded by the upper CA', scenario: () => two({ excluded: ['dns:a.example.com'] }, { excluded: ['dns:b.example.com'] }, 'dns:a.example.com'), expect: NC },
    { name: 'excluded ∪: excluded by the lower CA', scenario: () => two({ excluded: ['dns:a.example.com'] }, { excluded: ['dns:b.example.com'] }, 'dns:b.example.com'), expect: NC },
    { name: 'excluded ∪: neither', scenario: () => two({ excluded: ['dns:a.example.com'] }, { excluded: ['dns:b.example.com'] }, 'dns:c.example.com'), expect: 'ok' },
    {
      name: 'constraints on the trust anchor apply',
      scenario: () => {
        const r = root('Constrained Root', k.ca2, { permitted: ['dns:example.com'] });
        const ca = intermediate('Int', k.ca, r);
        return { leaf: issue({ subject: 'CN=leaf', party: k.leaf, issuer: ca, san: ['dns:www.example.org'] }), roots: [r], intermediates: [ca] };
      },
      expect: NC,
    },
  ];
}

for (const c of CASES) {
  test(`name constraints: ${c.name} → ${c.expect}`, () => {
    const s = c.scenario();
    const r = run(s);
    assert.equal(r.result, c.expect);
    if (c.depth !== undefined) assert.equal(r.depth, c.depth);
    if (c.openssl !== false) {
      const o = opensslVerify(s, tmp.dir, c.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60));
      assert.equal(o.ok, c.expect === 'ok', `openssl disagrees: ${o.output}`);
    }
  });
}

test('dnsWithin table', () => {
  const rows: Array<[string, string, boolean]> = [
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', true],
    ['www.example.com.', 'example.com', true],
    ['WWW.EXAMPLE.COM', 'example.com', true],
    ['badexample.com', 'example.com', false],
    ['example.com', '.example.com', false],
    ['a.example.com', '.example.com', true],
    ['anything', '', true],
    ['com', 'example.com', false],
  ];
  for (const [name, c, want] of rows) assert.equal(dnsWithin(name, c), want, `${name} within ${c}`);
});

test('emailWithin table', () => {
  const rows: Array<[string, string, boolean | undefined]> = [
    ['a@example.com', 'example.com', true],
    ['a@EXAMPLE.com', 'example.com', true],
    ['a@x.example.com', 'example.com', false],
    ['a@x.example.com', '.example.com', true],
    ['a@example.com', '.example.com', false],
    ['a@example.com', 'a@example.com', true],
    ['A@example.com', 'a@example.com', false],
    ['"a@b"@example.com', 'example.com', true],
    ['no-at-sign', 'example.com', undefined],
  ];
  for (const [name, c, want] of rows) assert.equal(emailWithin(name, c), want, `${name} within ${c}`);
});

test('uriHost and uriWithin tables', () => {
  const hosts: Array<[string, string | undefined]> = [
    ['https://Host.Example.com/x', 'host.example.com'],
    ['https://u:p@host.example.com:8443/x?y#z', 'host.example.com'],
    ['spiffe://td.example/ns/a', 'td.example'],
    ['https://[2001:db8::1]/', undefined],
    ['https://192.0.2.1/', undefined],
    ['urn:uuid:1234', undefined],
    ['mailto:a@example.com', undefined],
    ['https:///path', undefined],
  ];
  for (const [uri, want] of hosts) assert.equal(uriHost(uri), want, uri);
  assert.equal(uriWithin('https://host.example.com', 'host.example.com'), true);
  assert.equal(uriWithin('https://sub.host.example.com', 'host.example.com'), false);
  assert.equal(uriWithin('https://sub.host.example.com', '.example.com'), true);
  assert.equal(uriWithin('urn:x', '.example.com'), undefined);
});

test('ipWithin table', () => {
  const rows: Array<[string, string, boolean]> = [
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['10.1.2.3', '10.1.2.3/32', true],
    ['10.1.2.4', '10.1.2.3/32', false],
    ['0.0.0.0', '0.0.0.0/0', true],
    ['::1', '0.0.0.0/0', false],
    ['fd00::1', 'fd00::/8', true],
    ['::ffff:10.0.0.1', '10.0.0.0/8', false],
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
  ];
  for (const [ip, range, want] of rows) assert.equal(ipWithin(ipToOctets(ip) as Uint8Array, parseIpRange(range) as Uint8Array), want, `${ip} in ${range}`);
});

test('looksLikeHostname table (OpenSSL cn2dnsid rules)', () => {
  const rows: Array<[string, boolean]> = [
    ['www.example.com', true],
    ['a_b.example', true],
    ['localhost', false],
    ['Alice Smith', false],
    ['.example.com', false],
    ['example.com.', false],
    ['a..b', false],
    ['a-.b', false],
    ['-a.b', false],
    ['*.example.com', false],
  ];
  for (const [cn, want] of rows) assert.equal(looksLikeHostname(cn), want, cn);
});
