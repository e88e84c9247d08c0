/**
 * `signet certificate template show | render | validate` and `signet certificate create
 * --template`, run as a user would, with OpenSSL reading the certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { opensslOk, tempDir } from '../helpers/openssl.js';
import { signet } from '../helpers/cli.js';

const tmp = tempDir('signet-template-cli-');
test.after(() => tmp.cleanup());

function write(name: string, content: string | object): string {
  writeFileSync(tmp.path(name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return tmp.path(name);
}

/** A failure the way users must see it: the exit code, one `error:` line with the code, no stack. */
function assertCleanFailure(r: { status: number; stdout: string; stderr: string }, status: number, code: string): string {
  assert.equal(r.status, status, r.stderr);
  const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  assert.equal(errorLines.length, 1, r.stderr);
  assert.ok(errorLines[0]?.endsWith(`(${code})`), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return errorLines[0] ?? '';
}

test('template show prints each profile default as JSON', () => {
  for (const profile of ['root-ca', 'intermediate-ca', 'leaf', 'self-signed']) {
    const r = signet(['certificate', 'template', 'show', '--profile', profile]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.ok('keyUsage' in doc && 'basicConstraints' in doc, profile);
  }
  const r = signet(['certificate', 'template', 'show', '--profile', 'server']);
  // Not among the choices: a bad flag value, as for every flag Signet checks itself.
  assertCleanFailure(r, 2, 'ERR_BAD_OPTION');
});

test('template render reads stdin at most once: TEMPLATE - with --csr, --data or --key - is ERR_USAGE', () => {
  const template = signet(['certificate', 'template', 'show', '--profile', 'leaf']).stdout;
  for (const extra of [['--csr', '-'], ['--data', '-'], ['--set-file', '-'], ['--key', '-']]) {
    const r = signet(['certificate', 'template', 'render', '-', ...extra], { input: template });
    assert.match(assertCleanFailure(r, 2, 'ERR_USAGE'), /only one input can come from stdin, but TEMPLATE and --/);
  }
  const one = signet(['certificate', 'template', 'render', '-', '--subject', 'web.example', '--san', 'web.example', '--key-type', 'ec'], { input: template });
  assert.equal(one.status, 0, one.stderr);
});

test('template validate: ok, and every problem with its path on failure', () => {
  const good = write('good.json', signet(['certificate', 'template', 'show', '--profile', 'leaf']).stdout);
  let r = signet(['certificate', 'template', 'validate', good]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: .*good\.json is a valid template\n$/);

  const bad = write('bad.json', '{\n  "subject": {"comonName": "x"},\n  "keyUsage": ["sign"],\n  "basicConstraints": {"isCA": "no"}\n}\n');
  r = signet(['certificate', 'template', 'validate', bad]);
  const line = assertCleanFailure(r, 3, 'ERR_TEMPLATE_UNKNOWN_FIELD');
  assert.match(line, /\$\.subject\.comonName: unknown field \(did you mean "commonName"\?\) \(line 2, column 15\) \(and 2 more problems\)/);
  const problems = r.stderr.split('\n').filter((l) => l.startsWith('problem: '));
  assert.deepEqual(
    problems.map((l) => l.split(':')[1]?.trim()),
    ['$.subject.comonName', '$.keyUsage[0]', '$.basicConstraints.isCA'],
  );

  r = signet(['certificate', 'template', 'validate', bad, '--json']);
  assert.equal(r.status, 3);
  const err = JSON.parse(r.stderr) as { error: { code: string; detail: { problems: Array<{ path: string; line: number }> } } };
  assert.equal(err.error.code, 'ERR_TEMPLATE_UNKNOWN_FIELD');
  assert.deepEqual(err.error.detail.problems.map((p) => [p.path, p.line]), [['$.subject.comonName', 2], ['$.keyUsage[0]', 3], ['$.basicConstraints.isCA', 4]]);

  r = signet(['certificate', 'template', 'validate', write('broken.json', '{"subject": {\n  "commonName": "x",\n}}')]);
  assert.match(assertCleanFailure(r, 3, 'ERR_JSON_MALFORMED'), /at line 3, column 1/);

  r = signet(['certificate', 'template', 'validate', write('huge.json', `{}${' '.repeat(70_000)}`)]);
  assertCleanFailure(r, 3, 'ERR_INPUT_TOO_LARGE');
});

test('template render prints the validated request; --raw the unvalidated JSON', () => {
  const t = write('render.json', {
    subject: { commonName: '{{ .Subject.commonName }}', organizationalUnit: '{{ .Data.team | upper }}' },
    sans: '{{ .SANs }}',
    keyUsage: { RSA: ['digitalSignature', 'keyEncipherment'], default: ['digitalSignature'] },
    basicConstraints: { isCA: false },
    crlDistributionPoints: '{{ .Data.crl | default null }}',
    validity: { lifetime: '{{ .Data.lifetime | default "24h" }}' },
  });
  const data = write('render-data.json', { crl: ['http://crl.example/a.crl'] });
  const r = signet(['certificate', 'template', 'render', t, '--subject', 'CN=web.example', '--san', 'web.example', '--san', 'ip:10.0.0.1', '--key-type', 'rsa', '--set', 'team=web', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    subject: { commonName: 'web.example', organizationalUnit: ['WEB'] },
    sans: [{ type: 'dns', value: 'web.example' }, { type: 'ip', value: '10.0.0.1' }],
    keyUsage: ['digitalSignature', 'keyEncipherment'],
    basicConstraints: { isCA: false },
    crlDistributionPoints: ['http://crl.example/a.crl'],
    validity: { lifetime: '24h' },
  });

  const raw = signet(['certificate', 'template', 'render', t, '--subject', 'web.example', '--set', 'team=ops', '--raw']);
  assert.equal(raw.status, 0, raw.stderr);
  assert.equal((JSON.parse(raw.stdout) as { crlDistributionPoints: unknown }).crlDistributionPoints, null);

  // Without a key, a key-type-dependent keyUsage cannot be resolved: a render error with a hint.
  const noKey = signet(['certificate', 'template', 'render', t, '--subject', 'web.example', '--set', 'team=ops']);
  assertCleanFailure(noKey, 3, 'ERR_TEMPLATE_RENDER');
  assert.match(noKey.stderr, /hint: pass --key FILE, --csr FILE or --key-type/);

  // A missing variable names the variable and its path.
  const missing = signet(['certificate', 'template', 'render', t, '--subject', 'web.example', '--key-type', 'ec']);
  assert.match(assertCleanFailure(missing, 3, 'ERR_TEMPLATE_RENDER'), /\$\.subject\.organizationalUnit: variable \.Data\.team is not set/);

  const profile = signet(['certificate', 'template', 'render', '--profile', 'intermediate-ca', '--subject', 'CN=Issuing', '--set', 'maxPathLen:=2', '--key-type', 'ed25519']);
  assert.equal(profile.status, 0, profile.stderr);
  assert.deepEqual((JSON.parse(profile.stdout) as { basicConstraints: unknown }).basicConstraints, { isCA: true, maxPathLen: 2 });

  assertCleanFailure(signet(['certificate', 'template', 'render', t, '--profile', 'leaf']), 2, 'ERR_USAGE');
  assertCleanFailure(signet(['certificate', 'template', 'render', t, '--set', 'bad key=1']), 2, 'ERR_BAD_OPTION');
});

test('certificate create --template: OpenSSL shows the fields the template sets', () => {
  let r = signet(['certificate', 'create', 'Template Test Root', tmp.path('root.crt'), '--profile', 'root-ca', '--key-out', tmp.path('root.key'), '--no-password']);
  assert.equal(r.status, 0, r.stderr);

  const template = write('web.json', {
    subject: {
      commonName: '{{ .Subject.commonName }}',
      organization: '{{ .Data.org }}',
      organizationalUnit: ['{{ .Data.team | upper }}'],
      country: 'DE',
    },
    sans: '{{ .SANs }}',
    keyUsage: { RSA: ['digitalSignature', 'keyEncipherment'], default: ['digitalSignature'] },
    extKeyUsage: ['serverAuth'],
    basicConstraints: { isCA: false },
    crlDistributionPoints: ['http://crl.example/{{ .Data.team }}.crl'],
    ocspServer: '{{ .Data.ocsp }}',
    issuingCertificateURL: ['http://ca.example/root.crt'],
    policies: ['1.3.6.1.4.1.55555.7'],
    validity: { lifetime: '2h' },
    extensions: [{ id: '1.3.6.1.4.1.55555.1', critical: false, value: 'DAh0ZW1wbGF0ZQ==' }],
  });
  const data = write('web-data.json', { org: 'Example Corp', team: 'ops', ocsp: ['http://ocsp.example/'] });
  r = signet([
    'certificate', 'create', 'web.example', tmp.path('web.crt'),
    '--ca', tmp.path('root.crt'), '--ca-key', tmp.path('root.key'), '--key-out', tmp.path('web.key'), '--no-password',
    '--template', template, '--set-file', data, '--set', 'team=web', '--san', 'web.example', '--san', '192.0.2.10', '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { notBefore: string; notAfter: string };
  assert.equal(Date.parse(result.notAfter) - Date.parse(result.notBefore), 2 * 3600_000 + 60_000); // 2h + 1 min backdating

  const text = opensslOk(['x509', '-noout', '-text', '-nameopt', 'RFC2253', '-in', tmp.path('web.crt')]);
  assert.match(text, /Subject: CN=web\.example,OU=WEB,O=Example Corp,C=DE\n/);
  assert.match(text, /X509v3 Subject Alternative Name: \n\s+DNS:web\.example, IP Address:192\.0\.2\.10\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.match(text, /X509v3 CRL Distribution Points: \n\s+Full Name:\n\s+URI:http:\/\/crl\.example\/web\.crl\n/);
  assert.match(text, /OCSP - URI:http:\/\/ocsp\.example\/\n\s+CA Issuers - URI:http:\/\/ca\.example\/root\.crt\n/);
  assert.match(text, /X509v3 Certificate Policies: \n\s+Policy: 1\.3\.6\.1\.4\.1\.55555\.7\n/);
  assert.match(text, /1\.3\.6\.1\.4\.1\.55555\.1: \n\s+\.\.template\n/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  assert.match(opensslOk(['verify', '-CAfile', tmp.path('root.crt'), tmp.path('web.crt')]), /OK/);

  // Explicit validity flags win over the template's validity.
  r = signet([
    'certificate', 'create', 'web.example', tmp.path('web-1h.crt'),
    '--ca', tmp.path('root.crt'), '--ca-key', tmp.path('root.key'), '--key-out', tmp.path('web-1h.key'), '--no-password',
    '--template', template, '--set-file', data, '--lifetime', '1h', '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const short = JSON.parse(r.stdout) as { notBefore: string; notAfter: string };
  assert.equal(Date.parse(short.notAfter) - Date.parse(short.notBefore), 3600_000 + 60_000);

  // --lifetime counts from --not-before, as without a template (not from now).
  const later = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const [name, extra, lifetimeMs] of [
    ['web-later', ['--lifetime', '1h'], 3600_000],
    ['web-later-default', [], 86_400_000],
  ] as const) {
    r = signet([
      'certificate', 'create', 'web.example', tmp.path(`${name}.crt`),
      '--ca', tmp.path('root.crt'), '--ca-key', tmp.path('root.key'), '--key-out', tmp.path(`${name}.key`), '--no-password',
      '--template', template, '--set-file', data, '--not-before', later, ...extra, '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const delayed = JSON.parse(r.stdout) as { notBefore: string; notAfter: string };
    assert.deepEqual([delayed.notBefore, Date.parse(delayed.notAfter) - Date.parse(delayed.notBefore)], [later, lifetimeMs], name);
  }
});

test('certificate create with a bad template: exit 3, one line naming the path, no stack, no files', () => {
  const before = readdirSync(tmp.dir).sort();
  const bad = write('unknown-field.json', { subject: { commonName: '{{ .Subject.commonName }}' }, sans: '{{ .SANs }}', keyUsages: ['digitalSignature'] });
  const r = signet([
    'certificate', 'create', 'bad.example', tmp.path('bad.crt'), '--profile', 'self-signed',
    '--key-out', tmp.path('bad.key'), '--no-password', '--template', bad,
  ]);
  const line = assertCleanFailure(r, 3, 'ERR_TEMPLATE_UNKNOWN_FIELD');
  assert.match(line, /\$\.keyUsages: unknown field \(did you mean "keyUsage"\?\)/);
  assert.equal(r.stdout, '');
  assert.ok(!existsSync(tmp.path('bad.crt')));
  assert.ok(!existsSync(tmp.path('bad.key')));
  assert.deepEqual(readdirSync(tmp.dir).sort(), [...before, 'unknown-field.json'].sort()); // no temp files either

  // A render error (missing data) also leaves nothing behind.
  const needsData = write('needs-data.json', { subject: { commonName: '{{ .Data.cn | required "set cn with --set cn=NAME" }}' } });
  const r2 = signet(['certificate', 'create', 'x', tmp.path('bad2.crt'), '--key-out', tmp.path('bad2.key'), '--no-password', '--template', needsData]);
  assert.match(assertCleanFailure(r2, 3, 'ERR_TEMPLATE_RENDER'), /\$\.subject\.commonName: set cn with --set cn=NAME/);
  assert.ok(!existsSync(tmp.path('bad2.crt')) && !existsSync(tmp.path('bad2.key')));
});

test('certificate create: template flags that conflict or lack --template are usage errors', () => {
  const t = write('plain.json', { subject: '{{ .Subject }}', sans: '{{ .SANs }}' });
  let r = signet(['certificate', 'create', 'x.example', tmp.path('u1.crt'), '--key-out', tmp.path('u1.key'), '--no-password', '--template', t, '--key-usage', 'digitalSignature']);
  assert.match(assertCleanFailure(r, 2, 'ERR_USAGE'), /--key-usage cannot be combined with --template/);
  r = signet(['certificate', 'create', 'x.example', tmp.path('u2.crt'), '--key-out', tmp.path('u2.key'), '--no-password', '--set', 'a=b']);
  assert.match(assertCleanFailure(r, 2, 'ERR_USAGE'), /--set and --set-file need --template/);
  assert.ok(!existsSync(tmp.path('u1.crt')) && !existsSync(tmp.path('u2.key')));
});
