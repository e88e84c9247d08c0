/**
 * Rendering: every function, JSON-typed insertion of whole placeholders, string interpolation,
 * and proof that values cannot inject structure or placeholders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { isSignetError } from '../../src/core/errors.js';
import { compileString, evaluatePipeline, Missing, type EvalValue } from '../../src/x509/template/expression.js';
import { LENIENT_ROOTS } from '../../src/x509/template/schema.js';
import {
  renderTemplate,
  renderTemplateDocument,
  templateFromDocument,
  templateVariables,
  type CertificateRequest,
  type JsonValue,
  type TemplateData,
} from '../../src/x509/template/index.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const ed = generateKeyPairSync('ed25519').publicKey;

const DATA: TemplateData = {
  subject: [[{ type: 'C', value: 'DE' }], [{ type: 'O', value: 'Example' }], [{ type: 'OU', value: 'Ops' }], [{ type: 'CN', value: 'Web.Example' }]],
  sans: [
    { type: 'dns', value: 'web.example' },
    { type: 'dns', value: 'www.example' },
    { type: 'ip', value: '192.0.2.7' },
    { type: 'email', value: 'ops@example.org' },
    { type: 'uri', value: 'spiffe://example.org/web' },
  ],
  publicKey: ec,
  token: { sub: 'alice', email: 'alice@example.org', groups: ['admins', 'web'], 'https://example.org/team': 'blue' },
  data: { team: 'web', n: 3, text: '  padded  ', csv: 'a,b,c', empty: '', nothing: null, list: [], zero: 0, no: false },
  userData: { nick: 'al' },
};

/** Evaluates one placeholder expression against DATA's variables. */
function evalExpr(expr: string, data: TemplateData = DATA): EvalValue {
  const c = compileString(`{{ ${expr} }}`);
  const part = c.parts[0];
  assert.ok(part && part.kind === 'placeholder');
  return evaluatePipeline(part.pipeline, { root: templateVariables(data), lenientRoots: LENIENT_ROOTS, limits: { maxString: 10_000 } });
}

/** Renders a template object and returns the request. */
function render(doc: object, data: TemplateData = DATA): CertificateRequest {
  return renderTemplate(templateFromDocument(doc, 'test template'), data);
}

function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

test('variables: subject, SANs by type, public key, token, data, insecure user', () => {
  const table: Array<[string, JsonValue]> = [
    ['.Subject.commonName', 'Web.Example'],
    ['.Subject.CommonName', 'Web.Example'], // Go-style names for built-in variables
    ['.Subject.organization', ['Example']],
    ['.Subject.Country', ['DE']],
    ['.SANs', [
      { type: 'dns', value: 'web.example' },
      { type: 'dns', value: 'www.example' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'email', value: 'ops@example.org' },
      { type: 'uri', value: 'spiffe://example.org/web' },
    ]],
    ['.DNSNames', ['web.example', 'www.example']],
    ['.IPAddresses', ['192.0.2.7']],
    ['.EmailAddresses', ['ops@example.org']],
    ['.URIs', ['spiffe://example.org/web']],
    ['.PublicKey', { type: 'EC', curve: 'P-256' }],
    ['.PublicKey.Type', 'EC'],
    ['.Token.sub', 'alice'],
    ['.Token.groups', ['admins', 'web']],
    ['.Data.team', 'web'],
    ['.Data.n', 3],
    ['.Insecure.User.nick', 'al'],
  ];
  for (const [expr, want] of table) assert.deepEqual(plain(evalExpr(expr)), want, expr);
  assert.deepEqual(plain(evalExpr('.PublicKey', { publicKey: rsa })), { type: 'RSA', bits: 2048 });
  assert.deepEqual(plain(evalExpr('.PublicKey', { publicKey: ed })), { type: 'Ed25519' });
});

test('user data is looked up exactly (no case folding outside built-in variables)', () => {
  assert.ok(evalExpr('.Data.Team') instanceof Missing);
  assert.ok(evalExpr('.Token.Sub') instanceof Missing);
  assert.ok(evalExpr('.Data.team.deeper') instanceof Missing);
});

test('functions: a table of inputs and outputs', () => {
  const table: Array<[string, JsonValue]> = [
    ['.Subject.commonName | lower', 'web.example'],
    ['.Subject.commonName | upper', 'WEB.EXAMPLE'],
    ['lower "ABC"', 'abc'],
    ['.Data.text | trim', 'padded'],
    ['.Subject.commonName | trimSuffix ".Example"', 'Web'],
    ['.Subject.commonName | trimPrefix "Web."', 'Example'],
    ['.Subject.commonName | trimPrefix "nope"', 'Web.Example'],
    ['.Subject.commonName | replace "." "-"', 'Web-Example'],
    ['.Data.csv | split ","', ['a', 'b', 'c']],
    ['.Data.csv | split ""', ['a,b,c']],
    ['.DNSNames | join ","', 'web.example,www.example'],
    ['.Data.csv | split "," | join "+"', 'a+b+c'],
    ['.DNSNames | first', 'web.example'],
    ['.DNSNames | last', 'www.example'],
    ['.SANs | first', { type: 'dns', value: 'web.example' }],
    ['index .Token "https://example.org/team"', 'blue'],
    ['index .Token.groups 1', 'web'],
    ['index .Token.groups -1', 'web'],
    ['index .Token "groups" 0', 'admins'],
    ['"7" | int', 7],
    ['.Data.n | int', 3],
    ['.Data.missing | default "fallback"', 'fallback'],
    ['.Data.empty | default "fallback"', 'fallback'],
    ['.Data.nothing | default "fallback"', 'fallback'],
    ['.Data.list | default "fallback"', 'fallback'],
    ['.Data.zero | default 5', 0], // 0 and false are values, not "empty"
    ['.Data.no | default true', false],
    ['.Data.team | default "fallback"', 'web'],
    ['default "x" .Data.missing', 'x'], // Go's prefix form
    ['.Data.missing | default null', null],
    ['coalesce .Data.missing .Data.empty .Token.email', 'alice@example.org'],
    ['coalesce .Data.missing .Data.empty', null],
    ['.Data.team | required "team is needed"', 'web'],
    ['"literal"', 'literal'],
    ['`raw \\n string`', 'raw \\n string'],
    ['42', 42],
    ['true', true],
    ['null', null],
  ];
  for (const [expr, want] of table) assert.deepEqual(plain(evalExpr(expr)), want, expr);
});

test('functions fail with a clear message on wrong input', () => {
  const table: Array<[string, RegExp]> = [
    ['.Data.missing | required "the team is needed"', /the team is needed/],
    ['.Data.empty | required "empty is not enough"', /empty is not enough/],
    ['.DNSNames | lower', /lower: the argument must be a string, got an array/],
    ['.Data.team | first', /first: expected a list/],
    ['.Data.list | first', /first: the list is empty/],
    ['"x7" | int', /int: "x7" is not a whole number/],
    ['.Data.missing | lower', /variable \.Data\.missing is not set/],
    ['.Data.team | replace "" "x"', /must not be empty/],
    ['index .Data.team 0', /cannot index a string/],
  ];
  for (const [expr, re] of table) {
    assert.throws(
      () => {
        const v = evalExpr(expr);
        if (v instanceof Missing) throw new Error(v.reason ?? `variable ${v.variable} is not set`);
      },
      (e: unknown) => e instanceof Error && re.test(e.message),
      expr,
    );
  }
});

test('function output is bounded before it is built', () => {
  const data: TemplateData = { data: { big: 'a'.repeat(5000) } };
  assert.throws(() => evalExpr('.Data.big | replace "a" "aaaa"', data), /longer than 10000 characters/);
});

test('a whole-string placeholder inserts the value with its JSON type', () => {
  const r = render({
    subject: '{{ .Subject }}',
    sans: '{{ .SANs }}',
    keyUsage: '{{ .Data.ku }}',
    basicConstraints: { isCA: '{{ .Data.ca }}', maxPathLen: '{{ .Data.pathLen }}' },
    ocspServer: '{{ .Data.ocsp }}',
  }, { ...DATA, data: { ku: ['keyCertSign', 'cRLSign'], ca: true, pathLen: 2, ocsp: 'http://ocsp.example/' } });
  assert.deepEqual(plain(r.subject), { commonName: 'Web.Example', country: ['DE'], organization: ['Example'], organizationalUnit: ['Ops'] });
  assert.equal(r.sans?.length, 5);
  assert.deepEqual(r.keyUsage, ['keyCertSign', 'cRLSign']);
  assert.deepEqual(r.basicConstraints, { isCA: true, maxPathLen: 2 });
  assert.deepEqual(r.ocspServer, ['http://ocsp.example/']); // a lone string is a one-item list
});

test('placeholders inside a longer string interpolate strings, numbers and booleans only', () => {
  const r = render({ subject: { commonName: '{{ .Data.team }}-{{ .Data.n }}.{{ .Subject.commonName | lower }}', organization: 'Team {{ .Data.team | upper }}' } });
  assert.equal(r.subject.commonName, 'web-3.web.example');
  assert.deepEqual(r.subject.organization, ['Team WEB']);
  assert.throws(
    () => render({ subject: { commonName: 'names: {{ .DNSNames }}' } }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_RENDER') && /\$\.subject\.commonName/.test(e.message) && /cannot be inserted into a longer string/.test(e.message),
  );
});

test('a value containing quotes, braces or placeholders cannot inject structure', () => {
  const hostile = [
    '", "basicConstraints": {"isCA": true}, "x": "',
    '"}], "keyUsage": ["keyCertSign"], "sans": [{"type":"dns","value":"evil.example',
    '{{ .Data.secret }}',
    '{{ .Token }}',
    '}} {{',
    '\\"\n\u0000',
  ];
  for (const h of hostile) {
    const r = render({ subject: { province: '{{ .Data.cn }}', locality: 'org {{ .Data.cn }}' }, basicConstraints: { isCA: false } }, { data: { cn: h, secret: 'SECRET' } });
    // The hostile text lands verbatim in the one string it was inserted into…
    assert.deepEqual(r.subject.province, [h]);
    assert.deepEqual(r.subject.locality, [`org ${h}`]);
    assert.deepEqual(Object.keys(r).sort(), ['basicConstraints', 'subject']);
    assert.deepEqual(Object.keys(r.subject).sort(), ['locality', 'province']);
    // …and nothing else appears: no CA flag, no key usage, no extra SAN, no expanded secret.
    assert.deepEqual(r.basicConstraints, { isCA: false });
    assert.equal(r.keyUsage, undefined);
    assert.equal(r.sans, undefined);
    assert.ok(!JSON.stringify(r).includes('SECRET'));
  }
});

test('an inserted object is validated like the template itself (no smuggled fields)', () => {
  assert.throws(
    () => render({ subject: '{{ .Data.subject }}' }, { data: { subject: { commonName: 'x', isCA: true } } }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_UNKNOWN_FIELD') && e.message.includes('$.subject.isCA'),
  );
});

test('missing variables are render errors naming the variable and the path, all at once', () => {
  try {
    render({ subject: { commonName: '{{ .Data.cn }}', organization: ['{{ .Token.org }}'] }, sans: ['{{ .Data.host }}.example'] }, { data: {} });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_TEMPLATE_RENDER'));
    assert.match(e.message, /\$\.subject\.commonName: variable \.Data\.cn is not set/);
    assert.match(e.message, /and 2 more problems/);
    const problems = (e.detail?.problems ?? []) as Array<{ path: string; message: string }>;
    assert.deepEqual(problems.map((p) => p.path), ['$.subject.commonName', '$.subject.organization[0]', '$.sans[0]']);
    assert.match(problems[1]?.message ?? '', /\.Token\.org/);
  }
});

test('null means absent: fields and list items that render to null are left out', () => {
  const r = render({
    subject: { commonName: 'x', organization: '{{ .Data.org | default null }}' },
    crlDistributionPoints: '{{ .Data.crl | default null }}',
    ocspServer: ['{{ .Data.ocsp | default null }}', 'http://ocsp2.example/'],
    sans: ['{{ .Data.extra | default null }}', 'a.example'],
  }, { data: {} });
  assert.deepEqual(plain(r), { subject: { commonName: 'x' }, ocspServer: ['http://ocsp2.example/'], sans: [{ type: 'dns', value: 'a.example' }] });
});

test('keyUsage can depend on the key type', () => {
  const doc = { keyUsage: { RSA: ['digitalSignature', 'keyEncipherment'], default: ['digitalSignature'] } };
  assert.deepEqual(render(doc, { publicKey: rsa }).keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.deepEqual(render(doc, { publicKey: ec }).keyUsage, ['digitalSignature']);
  assert.deepEqual(render(doc, { publicKey: ed }).keyUsage, ['digitalSignature']);
  assert.throws(() => render(doc, {}), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_RENDER') && e.message.includes('$.keyUsage'));
  assert.throws(() => render({ keyUsage: { RSA: ['digitalSignature'] } }, { publicKey: ec }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_RENDER') && /no entry for key type EC/.test(e.message));
});

test('names are normalized: typed SANs, case, duplicates, key usage aliases, EKU names and OIDs', () => {
  const r = render({
    sans: ['WEB.example', 'dns:web.example', { type: 'IP', value: '2001:db8::1' }, 'mail@example.org', 'uri:https://example.org/x', '10.0.0.1'],
    keyUsage: ['certSign', 'crlSign', 'DigitalSignature'],
    extKeyUsage: ['server-auth', 'clientAuth', '1.3.6.1.5.5.7.3.1', '1.2.3.4'],
  });
  assert.deepEqual(plain(r.sans), [
    { type: 'dns', value: 'web.example' },
    { type: 'ip', value: '2001:db8::1' },
    { type: 'email', value: 'mail@example.org' },
    { type: 'uri', value: 'https://example.org/x' },
    { type: 'ip', value: '10.0.0.1' },
  ]);
  assert.deepEqual(r.keyUsage, ['keyCertSign', 'cRLSign', 'digitalSignature']);
  assert.deepEqual(r.extKeyUsage, ['serverAuth', 'clientAuth', '1.2.3.4']);
});

test('literal braces, trim markers and escapes', () => {
  const r = render({ subject: { commonName: 'a {{ "{{" }} b', organization: ['x   {{- " y " -}}   z'], locality: 'no placeholder }} here' } });
  assert.equal(r.subject.commonName, 'a {{ b');
  assert.deepEqual(r.subject.organization, ['x y z']);
  assert.deepEqual(r.subject.locality, ['no placeholder }} here']);
});

test('renderTemplateDocument returns the raw rendered JSON', () => {
  const t = templateFromDocument({ subject: { commonName: '{{ .Token.sub }}' }, sans: '{{ .DNSNames }}' });
  assert.deepEqual(plain(renderTemplateDocument(t, DATA)), { subject: { commonName: 'alice' }, sans: ['web.example', 'www.example'] });
});

test('the rendered output is size-limited', () => {
  const big = 'x'.repeat(60_000);
  const t = templateFromDocument({ subject: { organization: ['{{ .Data.v }}', '{{ .Data.v }}', '{{ .Data.v }}', '{{ .Data.v }}', '{{ .Data.v }}'] } });
  assert.throws(() => renderTemplate(t, { data: { v: big } }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_RENDER') && /larger than 262144 bytes/.test(e.message));
  assert.throws(() => renderTemplate(t, { data: { v: 'short' } }, { maxRenderedBytes: 40 }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_RENDER'));
  // Within limits the same template renders (and then fails validation on the 64-character bound).
  assert.throws(() => renderTemplate(t, { data: { v: 'y'.repeat(65) } }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID'));
});

test('template data must be plain JSON', () => {
  const t = templateFromDocument({ subject: { commonName: '{{ .Data.x }}' } });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [{ x: () => 1 }, { x: 1n }, { x: new Date() }, cyclic, { x: Number.NaN }]) {
    assert.throws(() => renderTemplate(t, { data: bad }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID'));
  }
  // __proto__ in data is an ordinary key, not a prototype.
  const r = renderTemplate(t, { data: JSON.parse('{"x": "ok", "__proto__": {"polluted": true}}') as unknown });
  assert.equal(r.subject.commonName, 'ok');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
