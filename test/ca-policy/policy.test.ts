/** Name policy (src/ca/policy.ts): table tests per name type, then combination and validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError, type SignetError } from '../../src/core/errors.js';
import type { GeneralName } from '../../src/x509/general-name.js';
import { checkAll, compilePolicy, evaluatePolicies, validatePolicyConfig, type PolicyConfig, type PolicyRequest } from '../../src/ca/index.js';

/** `cn:Name` is the common name; `dns:`, `ip:`, `email:`, `uri:` are SANs taken verbatim; `dir:CN=x` a directory name. */
function request(...names: string[]): PolicyRequest {
  let commonName: string | undefined;
  const sans: GeneralName[] = [];
  for (const n of names) {
    const colon = n.indexOf(':');
    const type = n.slice(0, colon);
    const value = n.slice(colon + 1);
    if (type === 'cn') commonName = value;
    else if (type === 'dir') sans.push({ type: 'dirName', value: [[{ type: 'CN', value }]] });
    else if (type === 'other') sans.push({ type: 'other', der: Uint8Array.from([0x88, 0x03, 0x2a, 0x03, 0x04]) });
    else sans.push({ type: type as 'dns' | 'ip' | 'email' | 'uri', value });
  }
  return commonName === undefined ? { sans } : { commonName, sans };
}

/** `allow` / `deny` (with the deny rule) / `not-allowed`. */
type Expect = 'allow' | 'not-allowed' | { denied: string };

interface Row {
  readonly policy: PolicyConfig;
  readonly cases: readonly (readonly [name: string, expect: Expect])[];
}

function runTable(title: string, rows: readonly Row[]): void {
  test(title, () => {
    for (const { policy, cases } of rows) {
      const compiled = compilePolicy(policy);
      for (const [name, expect] of cases) {
        const d = compiled.evaluate(request(name));
        const what = `${JSON.stringify(policy)} / ${name}`;
        if (expect === 'allow') {
          assert.equal(d.allowed, true, `${what}: expected allowed, got ${d.allowed ? '' : d.message}`);
          assert.doesNotThrow(() => compiled.check(request(name)));
        } else {
          assert.equal(d.allowed, false, `${what}: expected refused`);
          if (d.allowed) continue;
          if (expect === 'not-allowed') {
            assert.equal(d.reason, 'not-allowed', `${what}: ${d.message}`);
          } else {
            assert.equal(d.reason, 'denied', `${what}: ${d.message}`);
            assert.equal(d.rule, expect.denied, what);
          }
          assert.throws(() => compiled.check(request(name)), (e: unknown) => isSignetError(e, 'ERR_POLICY_DENIED'));
        }
      }
    }
  });
}

runTable('DNS: exact names, *.domain covers every depth below but not the domain, case-insensitive', [
  {
    policy: { allow: { dns: ['*.example.com', 'example.net'] } },
    cases: [
      ['dns:a.example.com', 'allow'],
      ['dns:a.b.example.com', 'allow'],
      ['dns:A.B.Example.COM', 'allow'],
      ['dns:a.example.com.', 'allow'],
      ['dns:*.example.com', 'allow'],
      ['dns:*.a.example.com', 'allow'],
      ['dns:example.com', 'not-allowed'],
      ['dns:evilexample.com', 'not-allowed'],
      ['dns:a.example.com.evil.org', 'not-allowed'],
      ['dns:example.com.', 'not-allowed'],
      ['dns:example.net', 'allow'],
      ['dns:EXAMPLE.NET', 'allow'],
      ['dns:www.example.net', 'not-allowed'],
      ['dns:*.example.net', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { dns: ['*.example.com'] }, deny: { dns: ['*.internal.example.com', 'db.example.com'] } },
    cases: [
      ['dns:web.example.com', 'allow'],
      ['dns:internal.example.com', 'allow'],
      ['dns:db.internal.example.com', { denied: '*.internal.example.com' }],
      ['dns:A.B.Internal.Example.Com', { denied: '*.internal.example.com' }],
      ['dns:db.example.com', { denied: 'db.example.com' }],
      ['dns:DB.example.com.', { denied: 'db.example.com' }],
      ['dns:db.example.com.evil.org', 'not-allowed'],
      // a wildcard covers every single-label name in its place, db.example.com among them
      ['dns:*.example.com', { denied: 'db.example.com' }],
      ['dns:*.internal.example.com', { denied: '*.internal.example.com' }],
      // *.a.example.com covers x.a.example.com only: neither deny rule applies
      ['dns:*.a.example.com', 'allow'],
    ],
  },
  {
    policy: { deny: { dns: ['*.example.com'] } },
    cases: [
      ['dns:*.example.com', { denied: '*.example.com' }],
      ['dns:example.com', 'allow'],
      ['dns:other.org', 'allow'],
      ['ip:10.0.0.1', 'allow'],
    ],
  },
]);

runTable('IP: CIDR ranges and single addresses, IPv4 and IPv6, edges', [
  {
    policy: { allow: { ip: ['10.0.0.0/8', '192.0.2.7', '198.51.100.0/31', '203.0.113.0/25'] } },
    cases: [
      ['ip:10.0.0.0', 'allow'],
      ['ip:10.255.255.255', 'allow'],
      ['ip:9.255.255.255', 'not-allowed'],
      ['ip:11.0.0.0', 'not-allowed'],
      ['ip:192.0.2.7', 'allow'],
      ['ip:192.0.2.8', 'not-allowed'],
      ['ip:198.51.100.0', 'allow'],
      ['ip:198.51.100.1', 'allow'],
      ['ip:198.51.100.2', 'not-allowed'],
      ['ip:203.0.113.127', 'allow'],
      ['ip:203.0.113.128', 'not-allowed'],
      ['ip:::ffff:10.1.2.3', 'allow'],
      ['ip:::ffff:a01:203', 'allow'],
      ['ip:::10.1.2.3', 'not-allowed'],
      ['ip:2001:db8::1', 'not-allowed'],
      ['ip:not-an-ip', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { ip: ['2001:db8::/32', 'fd00::1/128', '2001:db8:ffff::/127'] } },
    cases: [
      ['ip:2001:db8::', 'allow'],
      ['ip:2001:DB8:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', 'allow'],
      ['ip:2001:db9::', 'not-allowed'],
      ['ip:2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', 'not-allowed'],
      ['ip:fd00::1', 'allow'],
      ['ip:fd00:0:0:0:0:0:0:1', 'allow'],
      ['ip:fd00::2', 'not-allowed'],
      ['ip:10.0.0.1', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { ip: ['0.0.0.0/0'] } },
    cases: [
      ['ip:0.0.0.0', 'allow'],
      ['ip:255.255.255.255', 'allow'],
      ['ip:::1', 'not-allowed'],
    ],
  },
  {
    // an IPv6 rule inside ::ffff:0:0/96 is an IPv4 rule
    policy: { allow: { ip: ['::ffff:10.0.0.0/104'] } },
    cases: [
      ['ip:10.9.8.7', 'allow'],
      ['ip:::ffff:10.9.8.7', 'allow'],
      ['ip:11.0.0.1', 'not-allowed'],
    ],
  },
  {
    // IPv4-mapped addresses cannot dodge IPv4 deny rules, and IPv6 deny rules see them too
    policy: { deny: { ip: ['10.0.0.0/8', '2001:db8::/32'] } },
    cases: [
      ['ip:10.1.2.3', { denied: '10.0.0.0/8' }],
      ['ip:::ffff:10.1.2.3', { denied: '10.0.0.0/8' }],
      ['ip:::FFFF:0A01:0203', { denied: '10.0.0.0/8' }],
      ['ip:2001:db8::5', { denied: '2001:db8::/32' }],
      ['ip:11.0.0.1', 'allow'],
    ],
  },
  {
    policy: { deny: { ip: ['::/0'] } },
    cases: [
      ['ip:::ffff:10.0.0.1', { denied: '::/0' }],
      ['ip:10.0.0.1', 'allow'],
    ],
  },
  {
    // allow rules see a mapped address as IPv4: an IPv6-wide allow does not admit it
    policy: { allow: { ip: ['::/0'] } },
    cases: [
      ['ip:2001:db8::1', 'allow'],
      ['ip:::ffff:10.0.0.1', 'not-allowed'],
      ['ip:10.0.0.1', 'not-allowed'],
    ],
  },
]);

runTable('e-mail: mailboxes and @domain, case-insensitive, no subdomains', [
  {
    policy: { allow: { email: ['@example.com', 'bob@example.org'] }, deny: { email: ['admin@example.com'] } },
    cases: [
      ['email:alice@example.com', 'allow'],
      ['email:Alice@EXAMPLE.com', 'allow'],
      ['email:alice@sub.example.com', 'not-allowed'],
      ['email:alice@example.com.evil.org', 'not-allowed'],
      ['email:bob@example.org', 'allow'],
      ['email:BOB@example.org', 'allow'],
      ['email:alice@example.org', 'not-allowed'],
      ['email:admin@example.com', { denied: 'admin@example.com' }],
      ['email:ADMIN@Example.Com', { denied: 'admin@example.com' }],
      ['email:no-at-sign', 'not-allowed'],
    ],
  },
]);

runTable('URI: exact, path prefixes, host patterns; normalization and dot segments', [
  {
    policy: { allow: { uri: ['spiffe://example.org/ns/prod/*'] } },
    cases: [
      ['uri:spiffe://example.org/ns/prod/sa/web', 'allow'],
      ['uri:spiffe://example.org/ns/prod/', 'allow'],
      ['uri:SPIFFE://EXAMPLE.ORG/ns/prod/sa/web', 'allow'],
      ['uri:spiffe://example.org/ns/prod/%73a/web', 'allow'],
      ['uri:spiffe://example.org/ns/prod', 'not-allowed'],
      ['uri:spiffe://example.org/ns/production/sa/web', 'not-allowed'],
      ['uri:spiffe://example.org/NS/prod/sa/web', 'not-allowed'],
      ['uri:spiffe://example.org/ns/prod/../admin/x', 'not-allowed'],
      ['uri:spiffe://example.org/ns/prod/%2e%2e/admin/x', 'not-allowed'],
      // both spellings are inside the prefix (whether such a URI is acceptable is the linter's call)
      ['uri:spiffe://example.org/ns/prod/./x', 'allow'],
      ['uri:spiffe://example.org/ns/prod/x/../../prod/y', 'allow'],
      ['uri:spiffe://example.org/ns/prod/x/../../../ns/prod/y', 'allow'],
      ['uri:spiffe://example.org/ns/prod/x/../../../ns/dev/y', 'not-allowed'],
      ['uri:spiffe://evil@example.org/ns/prod/x', 'not-allowed'],
      ['uri:spiffe://example.org.evil.com/ns/prod/x', 'not-allowed'],
      ['uri:spiffe://example.org@evil.com/ns/prod/x', 'not-allowed'],
      ['uri:https://example.org/ns/prod/x', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { uri: ['https://*.example.com/*'] } },
    cases: [
      ['uri:https://a.example.com/x', 'allow'],
      ['uri:https://a.b.example.com', 'allow'],
      ['uri:https://A.Example.COM:8443/x?y#z', 'allow'],
      ['uri:https://example.com/', 'not-allowed'],
      ['uri:http://a.example.com/', 'not-allowed'],
      ['uri:https://a.example.com@evil.com/', 'not-allowed'],
      ['uri:https://evil.com/a.example.com', 'not-allowed'],
      ['uri:https://evil.com?.example.com/', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { uri: ['spiffe://example.org/web', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'https://api.example.com:8443/*'] } },
    cases: [
      ['uri:spiffe://example.org/web', 'allow'],
      ['uri:spiffe://Example.Org/web', 'allow'],
      ['uri:spiffe://example.org/web/', 'not-allowed'],
      ['uri:spiffe://example.org/Web', 'not-allowed'],
      ['uri:spiffe://example.org:443/web', 'not-allowed'],
      ['uri:urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'allow'],
      ['uri:URN:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66', 'allow'],
      ['uri:urn:uuid:00000000-9c3a-11d9-9669-0800200c9a66', 'not-allowed'],
      ['uri:https://api.example.com:8443/v1', 'allow'],
      ['uri:https://api.example.com/v1', 'not-allowed'],
      ['uri:https://api.example.com:9443/v1', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { uri: ['spiffe://example.org/*'] }, deny: { uri: ['spiffe://example.org/ns/admin/*', 'spiffe://example.org/root'] } },
    cases: [
      ['uri:spiffe://example.org/ns/prod/x', 'allow'],
      ['uri:spiffe://example.org/ns/admin/x', { denied: 'spiffe://example.org/ns/admin/*' }],
      ['uri:spiffe://example.org/ns/prod/../admin/x', { denied: 'spiffe://example.org/ns/admin/*' }],
      ['uri:spiffe://example.org/ns/%61dmin/x', { denied: 'spiffe://example.org/ns/admin/*' }],
      ['uri:spiffe://user@example.org/ns/admin/x', { denied: 'spiffe://example.org/ns/admin/*' }],
      ['uri:spiffe://example.org/root', { denied: 'spiffe://example.org/root' }],
      ['uri:spiffe://example.org:1/root', { denied: 'spiffe://example.org/root' }],
    ],
  },
]);

runTable('common names: cn rules, and the DNS/IP/e-mail/URI rules a common name also falls under', [
  {
    policy: { allow: { cn: ['Build Agent', '*.corp.example.com'] } },
    cases: [
      ['cn:Build Agent', 'allow'],
      ['cn:build agent', 'allow'],
      ['cn:Build Agent 2', 'not-allowed'],
      ['cn:x.corp.example.com', 'allow'],
      ['cn:corp.example.com', 'not-allowed'],
      ['dns:x.corp.example.com', 'not-allowed'],
    ],
  },
  {
    policy: { allow: { dns: ['*.example.com'], ip: ['10.0.0.0/8'], email: ['@example.com'], uri: ['spiffe://example.org/*'] } },
    cases: [
      ['cn:api.example.com', 'allow'],
      ['cn:API.Example.com', 'allow'],
      ['cn:api.other.com', 'not-allowed'],
      ['cn:Build Agent', 'not-allowed'],
      ['cn:10.1.1.1', 'allow'],
      ['cn:11.1.1.1', 'not-allowed'],
      ['cn:alice@example.com', 'allow'],
      ['cn:spiffe://example.org/web', 'allow'],
    ],
  },
  {
    policy: { deny: { dns: ['*.internal.example.com'], ip: ['10.0.0.0/8'], cn: ['root'] } },
    cases: [
      ['cn:db.internal.example.com', { denied: '*.internal.example.com' }],
      ['cn:10.2.3.4', { denied: '10.0.0.0/8' }],
      ['cn:ROOT', { denied: 'root' }],
      ['cn:Anything Else', 'allow'],
    ],
  },
]);

runTable('types without allow rules: allowed only when nothing is allowed explicitly', [
  {
    policy: { allow: { dns: ['*.example.com'] } },
    cases: [
      ['ip:10.0.0.1', 'not-allowed'],
      ['email:a@example.com', 'not-allowed'],
      ['uri:https://a.example.com/', 'not-allowed'],
      ['dir:Someone', 'not-allowed'],
      ['other:x', 'not-allowed'],
    ],
  },
  {
    policy: { deny: { dns: ['*.example.com'] } },
    cases: [
      ['ip:10.0.0.1', 'allow'],
      ['dir:Someone', 'allow'],
      ['other:x', 'allow'],
      ['cn:Anyone', 'allow'],
    ],
  },
  {
    // an empty list is no rule: it neither allows nor forbids
    policy: { allow: { dns: [] }, deny: { ip: [] } },
    cases: [
      ['dns:anything.org', 'allow'],
      ['ip:10.0.0.1', 'allow'],
    ],
  },
  {
    policy: {},
    cases: [
      ['dns:anything.org', 'allow'],
      ['dir:Someone', 'allow'],
    ],
  },
]);

test('the empty policy allows everything and says so', () => {
  assert.equal(compilePolicy(undefined).empty, true);
  assert.equal(compilePolicy({}).empty, true);
  assert.equal(compilePolicy({ deny: { dns: ['x.org'] } }).empty, false);
  assert.deepEqual(compilePolicy(undefined).evaluate(request('dns:a.org', 'ip:1.2.3.4', 'cn:x')), { allowed: true });
});

test('the first refused name is reported, with a message naming it and why', () => {
  const policy = compilePolicy({ allow: { dns: ['*.example.com'] }, deny: { dns: ['*.internal.example.com'] } }, { name: 'authority' });
  const d = policy.evaluate(request('cn:web.example.com', 'dns:web.example.com', 'dns:db.internal.example.com', 'dns:other.org'));
  assert.deepEqual(d, {
    allowed: false,
    name: { type: 'dns', value: 'db.internal.example.com' },
    reason: 'denied',
    rule: '*.internal.example.com',
    policy: 'authority',
    message: 'DNS name "db.internal.example.com" is denied by rule "*.internal.example.com"',
  });
  let e: SignetError | undefined;
  try {
    policy.check(request('dns:web.example.com', 'dns:other.org'));
  } catch (err) {
    e = err as SignetError;
  }
  assert.ok(e && isSignetError(e, 'ERR_POLICY_DENIED'));
  assert.equal(e.message, 'DNS name "other.org" is not allowed');
  assert.equal(e.category, 'invalid');
  assert.deepEqual(e.detail, { type: 'dns', value: 'other.org', reason: 'not-allowed', policy: 'authority' });
  // labels per type, and untrusted text is escaped
  const all = compilePolicy({ allow: { cn: ['x'] } });
  const messages = ['ip:10.0.0.1', 'email:a@b.org', 'uri:https://a/', 'cn:evil\u001b[31m', 'dir:Someone', 'other:x'].map((n) => {
    const r = all.evaluate(request(n));
    return r.allowed ? '' : r.message;
  });
  assert.deepEqual(messages, [
    'IP address "10.0.0.1" is not allowed',
    'e-mail address "a@b.org" is not allowed',
    'URI "https://a/" is not allowed',
    'common name "evil\\x1b[31m" is not allowed',
    'directory name "CN=Someone" is not allowed',
    'subject alternative name "88032a0304" is not allowed',
  ]);
});

test('checkAll: authority and provisioner policies together, deny wins across levels', () => {
  const authority = compilePolicy({ allow: { dns: ['*.example.com'] }, deny: { dns: ['*.internal.example.com'] } }, { name: 'authority' });
  const narrow = compilePolicy({ allow: { dns: ['*.prod.example.com'] } }, { name: 'provisioner ci' });
  const wide = compilePolicy({ allow: { dns: ['*.internal.example.com', '*.other.org'] } }, { name: 'provisioner ops' });
  const denyWeb = compilePolicy({ deny: { dns: ['web.example.com'] } }, { name: 'provisioner ro' });

  assert.doesNotThrow(() => checkAll([authority, narrow], request('dns:a.prod.example.com')));
  const cases: [readonly ReturnType<typeof compilePolicy>[], string, string, 'denied' | 'not-allowed'][] = [
    [[authority, narrow], 'dns:a.dev.example.com', 'provisioner ci', 'not-allowed'],
    [[authority, narrow], 'dns:a.other.org', 'authority', 'not-allowed'],
    // the provisioner allows it, the authority denies it: denied
    [[authority, wide], 'dns:db.internal.example.com', 'authority', 'denied'],
    // the provisioner allows other.org, the authority does not
    [[authority, wide], 'dns:x.other.org', 'authority', 'not-allowed'],
    // the authority allows it, the provisioner denies it
    [[authority, denyWeb], 'dns:web.example.com', 'provisioner ro', 'denied'],
    // not allowed by the authority, denied by the provisioner: the denial is what is reported
    [[narrow, denyWeb], 'dns:web.example.com', 'provisioner ro', 'denied'],
  ];
  for (const [policies, name, policy, reason] of cases) {
    const d = evaluatePolicies(policies, request(name));
    assert.equal(d.allowed, false, name);
    if (d.allowed) continue;
    assert.equal(d.policy, policy, name);
    assert.equal(d.reason, reason, name);
    assert.throws(() => checkAll(policies, request(name)), (e: unknown) => isSignetError(e, 'ERR_POLICY_DENIED'));
  }
  assert.deepEqual(evaluatePolicies([], request('dns:anything')), { allowed: true });
});

test('malformed rules: every problem at once, each with its path', () => {
  const table: [unknown, string, RegExp][] = [
    [{ allow: { dns: ['*.*.example.com'] } }, 'allow.dns[0]', /\*\./],
    [{ allow: { dns: ['a*.example.com'] } }, 'allow.dns[0]', /wildcard/],
    [{ allow: { dns: ['.example.com'] } }, 'allow.dns[0]', /\*\.example\.com/],
    [{ allow: { dns: ['exa mple.com'] } }, 'allow.dns[0]', /not a valid DNS name/],
    [{ allow: { dns: ['*'] } }, 'allow.dns[0]', /wildcard/],
    [{ deny: { dns: ['ok.example.com', 'bad..com'] } }, 'deny.dns[1]', /not a valid DNS name/],
    [{ allow: { ip: ['10.0.0.0/33'] } }, 'allow.ip[0]', /longer than 32/],
    [{ allow: { ip: ['10.0.0.1/8'] } }, 'allow.ip[0]', /did you mean 10\.0\.0\.0\/8/],
    [{ allow: { ip: ['2001:db8::1/32'] } }, 'allow.ip[0]', /did you mean 2001:db8::\/32/],
    [{ allow: { ip: ['fe80::1%eth0'] } }, 'allow.ip[0]', /not an IP address/],
    [{ allow: { ip: ['10.0.0.0/255.0.0.0'] } }, 'allow.ip[0]', /not an IP address/],
    [{ allow: { ip: ['example.com'] } }, 'allow.ip[0]', /not an IP address/],
    [{ allow: { email: ['alice'] } }, 'allow.email[0]', /not an e-mail address/],
    [{ allow: { email: ['@'] } }, 'allow.email[0]', /@ followed by a valid domain/],
    [{ allow: { email: ['@-bad-.com'] } }, 'allow.email[0]', /@ followed by a valid domain/],
    [{ allow: { uri: ['not a uri'] } }, 'allow.uri[0]', /not an absolute URI/],
    [{ allow: { uri: ['spiffe://example.org/*/x'] } }, 'allow.uri[0]', /final "\/\*"/],
    [{ allow: { uri: ['spiffe://example.org/ns*'] } }, 'allow.uri[0]', /final "\/\*"/],
    [{ allow: { uri: ['https://a.*.example.com/'] } }, 'allow.uri[0]', /leading "\*\."/],
    [{ allow: { uri: ['https://*/x'] } }, 'allow.uri[0]', /leading "\*\."/],
    [{ allow: { uri: ['urn:*'] } }, 'allow.uri[0]', /only URIs with an authority/],
    [{ allow: { uri: ['spiffe://example.org/ns/../x'] } }, 'allow.uri[0]', /path segments/],
    [{ allow: { uri: ['https://user@example.com/*'] } }, 'allow.uri[0]', /user information/],
    [{ allow: { uri: ['https://example.com/*?x'] } }, 'allow.uri[0]', /final "\/\*"/],
    [{ allow: { cn: [''] } }, 'allow.cn[0]', /empty/],
    [{ allow: { cn: ['*.bad..com'] } }, 'allow.cn[0]', /\*\.domain/],
    [{ allow: { dnss: ['x.org'] } }, 'allow.dnss', /did you mean "dns"/],
    [{ alow: { dns: ['x.org'] } }, 'alow', /did you mean "allow"/],
    [{ allow: 'x.org' }, 'allow', /must be an object/],
    [{ allow: { dns: 'x.org' } }, 'allow.dns', /must be a list/],
    [{ allow: { dns: [1] } }, 'allow.dns[0]', /must be a string/],
    [['x'], '', /must be an object/],
  ];
  for (const [config, path, message] of table) {
    const problems = validatePolicyConfig(config);
    assert.equal(problems.length, 1, `${JSON.stringify(config)}: ${JSON.stringify(problems)}`);
    assert.equal(problems[0]?.path, path, JSON.stringify(config));
    assert.match(problems[0]?.message ?? '', message, JSON.stringify(config));
    assert.throws(
      () => compilePolicy(config as PolicyConfig),
      (e: unknown) => isSignetError(e, 'ERR_POLICY_INVALID') && e.category === 'input' && e.message.includes(path),
    );
  }

  const many = { allow: { dns: ['ok.org', 'bad..org'], ip: ['10.0.0.1/8'] }, deny: { uri: ['x'] }, extra: true };
  const problems = validatePolicyConfig(many);
  assert.deepEqual(
    problems.map((p) => p.path),
    ['extra', 'allow.dns[1]', 'allow.ip[0]', 'deny.uri[0]'],
  );
  assert.throws(
    () => compilePolicy(many, { name: 'provisioner ci' }),
    (e: unknown) => isSignetError(e, 'ERR_POLICY_INVALID') && /\(and 3 more\)/.test(e.message) && /provisioner ci/.test(e.message) && Array.isArray(e.detail?.problems) && e.detail.problems.length === 4,
  );

  for (const ok of [undefined, null, {}, { allow: {} }, { allow: { dns: ['example.com', '*.example.com'], ip: ['::1', '10.0.0.0/8'], email: ['a@b.org', '@b.org'], uri: ['spiffe://a.org/*', 'urn:x:y'], cn: ['Any * thing'] } }]) {
    assert.deepEqual(validatePolicyConfig(ok), [], JSON.stringify(ok));
  }
});
