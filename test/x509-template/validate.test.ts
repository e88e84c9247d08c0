/**
 * Template validation: unknown fields and wrong types named by JSON path (with line/column),
 * every problem at once, placeholder syntax and variables checked before any data exists,
 * rules between fields after rendering, size limits, and strict JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError, type SignetError } from '../../src/core/errors.js';
import {
  checkTemplate,
  MAX_TEMPLATE_BYTES,
  parseJson,
  parseTemplate,
  renderTemplate,
  templateFromDocument,
  type TemplateProblem,
} from '../../src/x509/template/index.js';
import { mergeTemplateData, parseSetFlag, parseTemplateData } from '../../src/x509/template/data.js';

function problemsOf(e: unknown): TemplateProblem[] {
  return ((e as SignetError).detail?.problems ?? []) as TemplateProblem[];
}

function expectProblems(text: string, code: string, expected: Array<[string, RegExp]>): void {
  try {
    parseTemplate(text, { name: 't.json' });
    assert.fail(`expected ${code} for ${text}`);
  } catch (e) {
    assert.ok(isSignetError(e), String(e));
    assert.equal(e.code, code, e.message);
    const got = problemsOf(e);
    assert.deepEqual(got.map((p) => p.path), expected.map(([p]) => p), e.message);
    expected.forEach(([, re], i) => assert.match(got[i]?.message ?? '', re, got[i]?.path));
  }
}

test('an unknown field is named by its JSON path, with a suggestion and its position', () => {
  const text = '{\n  "subject": {\n    "comonName": "web"\n  }\n}\n';
  try {
    parseTemplate(text, { name: 'web.json' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_TEMPLATE_UNKNOWN_FIELD'));
    assert.equal(e.message, 'web.json: $.subject.comonName: unknown field (did you mean "commonName"?) (line 3, column 5)');
    assert.ok(!e.message.includes('\n'));
    assert.deepEqual(problemsOf(e)[0], {
      path: '$.subject.comonName',
      kind: 'unknown-field',
      message: 'unknown field (did you mean "commonName"?)',
      line: 3,
      column: 5,
    });
  }
});

test('unknown fields at every level', () => {
  expectProblems('{"subjct": {}}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.subjct', /did you mean "subject"/]]);
  expectProblems('{"basicConstraints": {"isCA": true, "pathLen": 1}}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.basicConstraints.pathLen', /known fields: isCA, maxPathLen/]]);
  expectProblems('{"sans": [{"type": "dns", "value": "a.example", "critical": true}]}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.sans[0].critical', /unknown field/]]);
  expectProblems('{"extensions": [{"id": "1.2.3", "value": "BQA=", "oid": "1.2.3"}]}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.extensions[0].oid', /did you mean "id"/]]);
  expectProblems('{"keyUsage": {"RSA": ["digitalSignature"], "DSA": []}}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.keyUsage.DSA', /unknown field/]]);
  expectProblems('{"subject": {"weird key": 1}}', 'ERR_TEMPLATE_UNKNOWN_FIELD', [['$.subject["weird key"]', /unknown field/]]);
});

test('wrong types and bad values name the path and what was expected', () => {
  const table: Array<[string, string, RegExp]> = [
    ['{"subject": "CN=web"}', '$.subject', /expected an object, got the string "CN=web"/],
    ['{"subject": {"commonName": 7}}', '$.subject.commonName', /expected a string, got the number 7/],
    ['{"subject": {"country": ["Germany"]}}', '$.subject.country[0]', /two-letter country code/],
    ['{"subject": {"commonName": "' + 'x'.repeat(65) + '"}}', '$.subject.commonName', /at most 64/],
    ['{"sans": ["not a name!"]}', '$.sans[0]', /DNS name, IP address/],
    ['{"sans": [{"type": "dns", "value": "bad_name!"}]}', '$.sans[0].value', /expected a valid DNS name, got the string "bad_name!"/],
    ['{"sans": [{"type": "ip", "value": "300.1.1.1"}]}', '$.sans[0].value', /valid IP address/],
    ['{"sans": [{"type": "x400", "value": "a"}]}', '$.sans[0].type', /dns, ip, email or uri/],
    ['{"sans": 3}', '$.sans', /expected a list/],
    ['{"keyUsage": ["signEverything"]}', '$.keyUsage[0]', /expected a key usage/],
    ['{"keyUsage": 5}', '$.keyUsage', /a list of key usages/],
    ['{"extKeyUsage": ["serverauthx"]}', '$.extKeyUsage[0]', /extended key usage/],
    ['{"basicConstraints": {"isCA": "yes"}}', '$.basicConstraints.isCA', /expected true or false, got the string "yes"/],
    ['{"basicConstraints": {"isCA": true, "maxPathLen": 1.5}}', '$.basicConstraints.maxPathLen', /an integer from -1 to 255/],
    ['{"basicConstraints": {}}', '$.basicConstraints.isCA', /is required/],
    ['{"nameConstraints": {"permittedIPRanges": ["10.0.0.0/33"]}}', '$.nameConstraints.permittedIPRanges[0]', /IP range/],
    ['{"nameConstraints": {"critical": "yes"}}', '$.nameConstraints.critical', /true or false/],
    ['{"crlDistributionPoints": ["not a url"]}', '$.crlDistributionPoints[0]', /absolute URI/],
    ['{"ocspServer": [1]}', '$.ocspServer[0]', /absolute URI/],
    ['{"policies": ["1.2.840.x"]}', '$.policies[0]', /dotted object identifier/],
    ['{"policies": ["1.40.1"]}', '$.policies[0]', /second arc/],
    ['{"validity": {"lifetime": "forever"}}', '$.validity.lifetime', /positive duration/],
    ['{"validity": {"lifetime": "-1h"}}', '$.validity.lifetime', /positive duration/],
    ['{"validity": {"notBefore": "yesterday"}}', '$.validity.notBefore', /RFC 3339/],
    ['{"extensions": [{"id": "1.2.3", "value": "not base64!"}]}', '$.extensions[0].value', /base64 of one DER value/],
    ['{"extensions": [{"id": "1.2.3", "value": "BQAF"}]}', '$.extensions[0].value', /base64 of one DER value/], // 05 00 05: trailing byte
    ['{"extensions": [{"id": "1.2.3"}]}', '$.extensions[0].value', /is required/],
    ['{"extensions": {"id": "1.2.3", "value": "BQA="}}', '$.extensions', /expected a list/],
    ['[]', '$', /must be a JSON object, got a list/],
  ];
  for (const [text, path, re] of table) expectProblems(text, 'ERR_TEMPLATE_INVALID', [[path, re]]);
});

test('all problems are reported at once, in document order', () => {
  const text = JSON.stringify({
    subject: { commonName: 1, organisation: ['x'] },
    sans: ['ok.example', '!!'],
    keyUsage: ['nope'],
    basicConstraints: { isCA: 'true' },
    validity: { lifetime: 'soon' },
  });
  try {
    parseTemplate(text, { name: 't.json' });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_TEMPLATE_UNKNOWN_FIELD'));
    assert.match(e.message, /^t\.json: \$\.subject\.organisation: unknown field \(did you mean "organization"\?\) .*\(and 5 more problems\)$/);
    assert.ok(e.hint?.includes('template validate'));
    assert.deepEqual(
      problemsOf(e).map((p) => `${p.kind} ${p.path}`),
      [
        'invalid $.subject.commonName',
        'unknown-field $.subject.organisation',
        'invalid $.sans[1]',
        'invalid $.keyUsage[0]',
        'invalid $.basicConstraints.isCA',
        'invalid $.validity.lifetime',
      ],
    );
  }
  // checkTemplate returns the same list without throwing.
  const r = checkTemplate(text);
  assert.equal(r.template, undefined);
  assert.equal(r.problems.length, 6);
  assert.ok(r.problems.every((p) => p.line === 1 && typeof p.column === 'number'));
});

test('placeholders are checked before rendering: syntax, functions, arity, variables', () => {
  const table: Array<[string, RegExp]> = [
    ['{{ .Subject.commonName', /unclosed placeholder/],
    ['{{ }}', /empty placeholder/],
    ['{{ .Data.x | shell "rm -rf /" }}', /unknown function "shell"/],
    ['{{ .Data.x | exec }}', /unknown function "exec"/],
    ['{{ template "x" }}', /unknown function "template"/],
    ['{{ .Data.x | default }}', /default takes 2 arguments/],
    ['{{ lower "a" "b" }}', /lower takes 1 argument/],
    ['{{ .Data.x .Data.y }}', /a value cannot take arguments/],
    ['{{ .Data.x | .Data.y }}', /only a function can follow/],
    ['{{ .Data.x | }}', /empty command/],
    ['{{ .Data. }}', /expected a name after "\."/],
    ['{{ "unterminated }}', /unterminated string literal/],
    ['{{ .Data.x | default (lower "a") }}', /unexpected character "\("/],
    ['{{ .Env.HOME }}', /unknown variable \.Env\.HOME/],
    ['{{ .Subjet.commonName }}', /unknown variable \.Subjet\.commonName \(did you mean "Subject"\?\)/],
    ['{{ .Insecure.CR }}', /\.Insecure has only \.Insecure\.User/],
  ];
  for (const [expr, re] of table) {
    const text = JSON.stringify({ subject: { commonName: expr } });
    expectProblems(text, 'ERR_TEMPLATE_INVALID', [['$.subject.commonName', re]]);
  }
});

test('an interpolated string is still a string: it cannot stand for a number or a boolean', () => {
  expectProblems('{"basicConstraints": {"isCA": "{{ .Data.ca }}!"}}', 'ERR_TEMPLATE_INVALID', [['$.basicConstraints.isCA', /expected true or false, got a string/]]);
  // A whole placeholder may stand for any type; the rendered value is checked.
  const t = parseTemplate('{"basicConstraints": {"isCA": "{{ .Data.ca }}"}}');
  assert.deepEqual(renderTemplate(t, { data: { ca: true } }).basicConstraints, { isCA: true });
  assert.throws(
    () => renderTemplate(t, { data: { ca: 'true' } }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID') && e.message.includes('$.basicConstraints.isCA: expected true or false, got the string "true" (line 1, column 31)'),
  );
});

test('rules between fields are checked after rendering', () => {
  const cases: Array<[object, string, RegExp]> = [
    [{ basicConstraints: { isCA: false, maxPathLen: 1 } }, '$.basicConstraints.maxPathLen', /only allowed when isCA is true/],
    [{ basicConstraints: { isCA: false }, nameConstraints: { permittedDNSDomains: ['example.com'] } }, '$.nameConstraints', /only allowed on CA certificates/],
    [{ nameConstraints: { permittedDNSDomains: ['example.com'] } }, '$.nameConstraints', /only allowed on CA certificates/],
    [{ validity: { notAfter: '+1h', lifetime: '1h' } }, '$.validity', /both notAfter and lifetime/],
    [{ sans: ['a.example'], extensions: [{ id: '2.5.29.17', value: 'MAA=' }] }, '$.extensions[0].id', /duplicates the extension written from \$\.sans/],
    [{ extensions: [{ id: '2.5.29.14', value: 'BAA=' }] }, '$.extensions[0].id', /subjectKeyIdentifier/],
    [{ extensions: [{ id: '1.2.3.4', value: 'BQA=' }, { id: '1.2.3.4', value: 'BQA=' }] }, '$.extensions[1].id', /appears more than once/],
  ];
  for (const [doc, path, re] of cases) {
    const t = templateFromDocument(doc);
    try {
      renderTemplate(t, {});
      assert.fail(`expected an error for ${JSON.stringify(doc)}`);
    } catch (e) {
      assert.ok(isSignetError(e, 'ERR_TEMPLATE_INVALID'), String(e));
      assert.equal(problemsOf(e)[0]?.path, path);
      assert.match(problemsOf(e)[0]?.message ?? '', re);
    }
  }
  // maxPathLen -1 means "no limit" (as in step-ca) and is dropped.
  assert.deepEqual(renderTemplate(templateFromDocument({ basicConstraints: { isCA: true, maxPathLen: -1 } }), {}).basicConstraints, { isCA: true });
});

test('templates are size-limited', () => {
  const pad = ' '.repeat(MAX_TEMPLATE_BYTES);
  assert.throws(() => parseTemplate(`{}${pad}`), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
  assert.throws(() => parseTemplate(new Uint8Array(MAX_TEMPLATE_BYTES + 1).fill(0x20)), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
  assert.doesNotThrow(() => parseTemplate(`{}${' '.repeat(MAX_TEMPLATE_BYTES - 2)}`));
  assert.throws(() => parseTemplate('{}', { maxBytes: 1 }), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
  assert.throws(() => templateFromDocument({ subject: { commonName: 'x'.repeat(MAX_TEMPLATE_BYTES) } }), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
  // Lists are bounded too.
  expectProblems(JSON.stringify({ sans: new Array(1001).fill('a.example') }), 'ERR_TEMPLATE_INVALID', [['$.sans', /at most 1000/]]);
});

test('malformed JSON is ERR_JSON_MALFORMED with line and column', () => {
  const table: Array<[string, number, number, RegExp]> = [
    ['{"subject": {"commonName": "x",}}', 1, 32, /expected a property name/],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}'/],
    ['{"a": "unterminated}', 1, 7, /unterminated string/],
    ['{"a": 01}', 1, 8, /invalid number/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['{"a": 1} x', 1, 10, /after the end/],
    ['', 1, 1, /empty/],
    ['{"a": "\\x"}', 1, 8, /invalid escape/],
    ['{"a": "tab\there"}', 1, 11, /control character/],
    ['{"a": 1, "a": 2}', 1, 10, /duplicate key "a"/],
    ['[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]', 1, 65, /nesting deeper than 64/],
  ];
  for (const [text, line, column, re] of table) {
    try {
      parseTemplate(text, { name: 'bad.json' });
      assert.fail(`expected ERR_JSON_MALFORMED for ${text}`);
    } catch (e) {
      assert.ok(isSignetError(e, 'ERR_JSON_MALFORMED'), `${text}: ${String(e)}`);
      assert.deepEqual(e.detail, { line, column }, `${text}: ${e.message}`);
      assert.match(e.message, re);
      assert.match(e.message, new RegExp(`^bad\\.json is not valid JSON: .* at line ${line}, column ${column}$`));
    }
  }
  assert.throws(() => parseTemplate(Uint8Array.of(0x7b, 0xff, 0x7d)), (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED') && /UTF-8/.test(e.message));
});

test('the JSON reader builds null-prototype objects and records positions', () => {
  const { value, positions, keyPositions } = parseJson('{"__proto__": {"x": 1},\n "b": [true, null]}', { trackPositions: true });
  assert.equal(Object.getPrototypeOf(value), null);
  assert.ok(Object.hasOwn(value as object, '__proto__'));
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.deepEqual(positions.get('$.b[1]'), { line: 2, column: 14 });
  assert.deepEqual(positions.get('$.__proto__.x'), { line: 1, column: 21 });
  assert.deepEqual(keyPositions.get('$.__proto__.x'), { line: 1, column: 16 });
});

test('--set and --set-file data', () => {
  assert.deepEqual(parseSetFlag('team=web'), { path: ['team'], value: 'web' });
  assert.deepEqual(parseSetFlag('cn=a=b'), { path: ['cn'], value: 'a=b' });
  assert.deepEqual(parseSetFlag('n=007'), { path: ['n'], value: '007' }); // strings stay strings
  assert.deepEqual(parseSetFlag('maxPathLen:=1'), { path: ['maxPathLen'], value: 1 });
  assert.deepEqual(parseSetFlag('crl.urls:=["http://a/"]'), { path: ['crl', 'urls'], value: ['http://a/'] });
  for (const bad of ['novalue', '=x', 'a..b=1', 'a b=1']) assert.throws(() => parseSetFlag(bad), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'), bad);
  assert.throws(() => parseSetFlag('x:=[1,'), (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED'));

  const base = parseTemplateData('{"team": "ops", "crl": {"url": "http://old/"}}');
  const merged = mergeTemplateData(base, [parseSetFlag('team=web'), parseSetFlag('crl.url=http://new/'), parseSetFlag('extra.deep.key:=true')]);
  assert.deepEqual(JSON.parse(JSON.stringify(merged)), { team: 'web', crl: { url: 'http://new/' }, extra: { deep: { key: true } } });
  assert.equal(JSON.stringify(base), '{"team":"ops","crl":{"url":"http://old/"}}'); // base untouched
  assert.throws(() => mergeTemplateData(base, [parseSetFlag('team.x=1')]), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'));
  assert.throws(() => parseTemplateData('[1]'), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID'));
  assert.throws(() => parseTemplateData('{"a":'), (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED'));
  assert.throws(() => parseTemplateData(' '.repeat(300 * 1024)), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
});
