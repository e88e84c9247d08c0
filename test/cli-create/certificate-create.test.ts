/**
 * `signet certificate create` end to end, with OpenSSL as the judge: chains made with the CLI
 * verify for every key type, keys are 0600 and readable by `openssl pkey`, and every failure
 * gives its code, exit status, one line without a stack trace, and no output file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fails, ok, signet } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-cli-create-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

writeFileSync(p('pw.txt'), 'correct horse battery staple\n');
writeFileSync(p('wrong.txt'), 'not the password\n');

const KEY_TYPES: [string, string[]][] = [
  ['p256', ['--kty', 'ec']],
  ['p384', ['--kty', 'ec', '--curve', 'P-384']],
  ['ed25519', ['--kty', 'ed25519']],
  ['rsa', ['--kty', 'rsa', '--size', '2048']],
];

for (const [name, kty] of KEY_TYPES) {
  test(`root → intermediate → leaf made with the CLI verifies in openssl (${name})`, () => {
    const d = (f: string): string => p(`${name}-${f}`);
    ok(signet(['certificate', 'create', `/O=Signet/CN=${name} Root`, d('root.crt'), '--profile', 'root-ca', '--key-out', d('root.key'), '--no-password', ...kty]));
    ok(
      signet([
        'certificate', 'create', `CN=${name} Issuing,O=Signet`, d('int.crt'), '--profile', 'intermediate-ca',
        '--ca', d('root.crt'), '--ca-key', d('root.key'), '--key-out', d('int.key'), '--no-password', ...kty,
        '--permitted-dns', 'example.com', '--permitted-ip', '10.0.0.0/8', '--permitted-ip', 'fd00::/8', '--excluded-dns', 'secret.example.com',
        '--permitted-email', 'example.com', '--excluded-uri', '.evil.example.com',
        '--crl-url', 'http://pki.example.com/root.crl', '--issuer-url', 'http://pki.example.com/root.crt', '--ocsp-url', 'http://ocsp.example.com/',
      ]),
    );
    const leaf = ok(
      signet([
        'certificate', 'create', 'www.example.com', d('leaf.crt'), '--ca', d('int.crt'), '--ca-key', d('int.key'),
        '--key-out', d('leaf.key'), '--no-password', ...kty, '--san', 'www.example.com', '--san', '10.1.2.3', '--san', 'fd00::7',
        '--san', 'ops@example.com', '--san', 'uri:spiffe://example.com/web', '--lifetime', '2h', '--json',
      ]),
    );
    const info = JSON.parse(leaf.stdout) as { profile: string; sans: string[]; notBefore: string; notAfter: string; serial: string };
    assert.equal(info.profile, 'leaf');
    assert.deepEqual(info.sans, ['DNS:www.example.com', 'IP:10.1.2.3', 'IP:fd00::7', 'email:ops@example.com', 'URI:spiffe://example.com/web']);
    assert.equal(Date.parse(info.notAfter) - Date.parse(info.notBefore), 2 * 3_600_000 + 60_000);
    assert.equal(info.serial.split(':').length, 16);

    const v = openssl(['verify', '-CAfile', d('root.crt'), '-untrusted', d('int.crt'), '-purpose', 'sslserver', d('leaf.crt')]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    for (const f of ['root.crt', 'int.crt', 'leaf.crt']) opensslOk(['x509', '-in', d(f), '-noout', '-text']);
    const intText = opensslOk(['x509', '-in', d('int.crt'), '-noout', '-text']);
    assert.match(intText, /CA:TRUE, pathlen:0/);
    assert.match(intText, /X509v3 Name Constraints: critical/);
    assert.match(intText, /IP:FD00:0:0:0:0:0:0:0\/FF00:0:0:0:0:0:0:0/);
    assert.match(intText, /URI:http:\/\/pki.example.com\/root.crl/);
    assert.match(intText, /CA Issuers - URI:http:\/\/pki.example.com\/root.crt/);
    for (const k of ['root.key', 'int.key', 'leaf.key']) {
      assert.equal(statSync(d(k)).mode & 0o777, 0o600);
      opensslOk(['pkey', '-in', d(k), '-noout']);
    }
  });
}

test('a name-constrained intermediate makes openssl reject an out-of-tree leaf (the constraint is real)', () => {
  ok(signet(['certificate', 'create', 'outside.example.org', p('outside.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key-out', p('outside.key'), '--no-password']));
  const v = openssl(['verify', '-CAfile', p('p256-root.crt'), '-untrusted', p('p256-int.crt'), p('outside.crt')]);
  assert.notEqual(v.status, 0);
  assert.match(v.stdout + v.stderr, /permitted subtree violation/);
});

test('encrypted keys: --password-file encrypts the new key; openssl pkey reads it with the password; the CA key needs its password', () => {
  ok(signet(['certificate', 'create', 'Enc Root', p('enc-root.crt'), '--profile', 'root-ca', '--key-out', p('enc-root.key'), '--password-file', p('pw.txt')]));
  assert.match(readFileSync(p('enc-root.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal(statSync(p('enc-root.key')).mode & 0o777, 0o600);
  opensslOk(['pkey', '-in', p('enc-root.key'), '-passin', `file:${p('pw.txt')}`, '-noout']);
  assert.notEqual(openssl(['pkey', '-in', p('enc-root.key'), '-passin', `file:${p('wrong.txt')}`, '-noout']).status, 0);

  const wrong = signet(['certificate', 'create', 'x.example.com', p('enc-leaf.crt'), '--ca', p('enc-root.crt'), '--ca-key', p('enc-root.key'), '--ca-password-file', p('wrong.txt'), '--key-out', p('enc-leaf.key'), '--no-password']);
  fails(wrong, 4, 'ERR_KEY_WRONG_PASSWORD');
  assert.ok(!existsSync(p('enc-leaf.crt')) && !existsSync(p('enc-leaf.key')), 'nothing written');
  const noPw = signet(['certificate', 'create', 'x.example.com', p('enc-leaf.crt'), '--ca', p('enc-root.crt'), '--ca-key', p('enc-root.key'), '--key-out', p('enc-leaf.key'), '--no-password']);
  fails(noPw, 4, 'ERR_KEY_PASSWORD_REQUIRED');
  ok(signet(['certificate', 'create', 'x.example.com', p('enc-leaf.crt'), '--ca', p('enc-root.crt'), '--ca-key', p('enc-root.key'), '--ca-password-file', p('pw.txt'), '--key-out', p('enc-leaf.key'), '--no-password']));
  const text = opensslOk(['x509', '-in', p('enc-leaf.crt'), '-noout', '-text']);
  assert.match(text, /DNS:x.example.com/, 'the CN became the SAN');
});

test('self-signed with an existing key, explicit validity, key usage, EKU', () => {
  opensslOk(['genpkey', '-algorithm', 'ed25519', '-out', p('dev.key')]);
  ok(
    signet([
      'certificate', 'create', 'CN=dev', p('dev.crt'), '--key', p('dev.key'), '--san', 'localhost', '--san', '127.0.0.1', '--san', '::1',
      '--not-before', '2030-01-01T00:00:00Z', '--not-after', '2030-01-08T00:00:00Z', '--key-usage', 'digital-signature,nonRepudiation', '--eku', 'server-auth,1.3.6.1.4.1.99999.1',
    ]),
  );
  const text = opensslOk(['x509', '-in', p('dev.crt'), '-noout', '-text']);
  assert.match(text, /Not Before: Jan {2}1 00:00:00 2030 GMT/);
  assert.match(text, /Not After : Jan {2}8 00:00:00 2030 GMT/);
  assert.match(text, /X509v3 Subject Alternative Name: \n\s+DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(text, /Digital Signature, Non Repudiation/);
  assert.match(text, /TLS Web Server Authentication, 1.3.6.1.4.1.99999.1/);
  const v = openssl(['verify', '-attime', '1893542400', '-CAfile', p('dev.crt'), p('dev.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('an empty subject: a CA-issued leaf gets a critical SAN; a self-signed one is refused by lint (its issuer would be empty)', () => {
  const r = ok(signet(['certificate', 'create', '', p('nosubj.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key-out', p('nosubj.key'), '--no-password', '--san', 'nosubj.example.com']));
  assert.match(r.stdout, /subject +\(empty\)/);
  assert.match(opensslOk(['x509', '-in', p('nosubj.crt'), '-noout', '-text']), /X509v3 Subject Alternative Name: critical\n\s+DNS:nosubj.example.com/);
  const self = signet(['certificate', 'create', '', p('nosubj-self.crt'), '--key', p('dev.key'), '--san', 'localhost']);
  fails(self, 1, 'ERR_LINT_FAILED');
  assert.match(self.stderr, /e_issuer_name_empty/);
  assert.ok(!existsSync(p('nosubj-self.crt')));
  // Ed25519 cannot agree keys (RFC 8410 §5): the linter catches a key usage the key cannot have
  const ku = signet(['certificate', 'create', 'CN=dev', p('ku.crt'), '--key', p('dev.key'), '--san', 'localhost', '--key-usage', 'digitalSignature,keyAgreement']);
  fails(ku, 1, 'ERR_LINT_FAILED');
  assert.match(ku.stderr, /e_key_usage_incompatible_with_key/);
});

test('from a CSR made by openssl (RSA-PSS and Ed25519): subject "-" copies the CSR subject and SANs', () => {
  for (const [name, args] of [
    ['pss', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048']],
    ['ed', ['-newkey', 'ed25519']],
  ] as const) {
    opensslOk(['req', '-new', ...args, '-nodes', '-keyout', p(`${name}-req.key`), '-subj', `/O=Req/CN=${name}.example.com`, '-addext', `subjectAltName=DNS:${name}.example.com,IP:10.9.9.9`, '-out', p(`${name}.csr`)]);
    const r = ok(signet(['certificate', 'create', '-', p(`${name}-from-csr.crt`), '--csr', p(`${name}.csr`), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--san', 'extra.example.com', '--json']));
    const info = JSON.parse(r.stdout) as { subject: string; sans: string[] };
    // The subject as inspect, verify and lint print it: RFC 4514 attributes in encoded order.
    assert.equal(info.subject, `O=Req, CN=${name}.example.com`);
    assert.deepEqual(info.sans, [`DNS:${name}.example.com`, 'IP:10.9.9.9', 'DNS:extra.example.com']);
    const v = openssl(['verify', '-CAfile', p('p256-root.crt'), '-untrusted', p('p256-int.crt'), p(`${name}-from-csr.crt`)]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  }
});

test('a CSR with a corrupted signature is refused: exit 4, ERR_CSR_SIGNATURE_INVALID, nothing written', () => {
  opensslOk(['req', '-in', p('ed.csr'), '-outform', 'DER', '-out', p('ed.der')]);
  const bytes = readFileSync(p('ed.der'));
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
  writeFileSync(p('bad-sig.csr'), bytes);
  const r = signet(['certificate', 'create', '-', p('bad.crt'), '--csr', p('bad-sig.csr'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key')]);
  fails(r, 4, 'ERR_CSR_SIGNATURE_INVALID');
  assert.ok(!existsSync(p('bad.crt')));
});

test('garbage CSRs are exit 3 (ERR_CSR_MALFORMED / ERR_PEM_MALFORMED), nothing written', () => {
  writeFileSync(p('garbage.csr'), Buffer.from('30820102deadbeef', 'hex'));
  fails(signet(['certificate', 'create', '-', p('g.crt'), '--csr', p('garbage.csr'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key')]), 3, 'ERR_CSR_MALFORMED');
  writeFileSync(p('garbage.pem'), '-----BEGIN CERTIFICATE REQUEST-----\n%%%%\n-----END CERTIFICATE REQUEST-----\n');
  fails(signet(['certificate', 'create', '-', p('g.crt'), '--csr', p('garbage.pem'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key')]), 3, 'ERR_PEM_MALFORMED');
  assert.ok(!existsSync(p('g.crt')));
});

test('the CA key must match the CA certificate (ERR_KEY_MISMATCH) and the CA must be a CA (ERR_NOT_A_CA)', () => {
  fails(signet(['certificate', 'create', 'a.example.com', p('mm.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-root.key'), '--key-out', p('mm.key'), '--no-password']), 4, 'ERR_KEY_MISMATCH');
  fails(signet(['certificate', 'create', 'a.example.com', p('mm.crt'), '--ca', p('p256-leaf.crt'), '--ca-key', p('p256-leaf.key'), '--key-out', p('mm.key'), '--no-password']), 1, 'ERR_NOT_A_CA');
  assert.ok(!existsSync(p('mm.crt')) && !existsSync(p('mm.key')));
});

test('existing outputs are never overwritten without --force, and are left untouched', () => {
  const before = readFileSync(p('p256-leaf.crt'));
  const keyBefore = readFileSync(p('p256-leaf.key'));
  fails(signet(['certificate', 'create', 'www.example.com', p('p256-leaf.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key-out', p('fresh.key'), '--no-password']), 5, 'ERR_FILE_EXISTS');
  fails(signet(['certificate', 'create', 'www.example.com', p('fresh.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key-out', p('p256-leaf.key'), '--no-password']), 5, 'ERR_FILE_EXISTS');
  assert.deepEqual(readFileSync(p('p256-leaf.crt')), before);
  assert.deepEqual(readFileSync(p('p256-leaf.key')), keyBefore);
  assert.ok(!existsSync(p('fresh.key')) && !existsSync(p('fresh.crt')));
  ok(signet(['certificate', 'create', 'www.example.com', p('p256-leaf.crt'), '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key', p('p256-leaf.key'), '--force']));
  assert.notDeepEqual(readFileSync(p('p256-leaf.crt')), before);
});

test('usage errors exit 2 before touching anything', () => {
  const cases: [string[], string][] = [
    [['certificate', 'create', 'x', p('u.crt'), '--ca', p('p256-int.crt'), '--key-out', p('u.key'), '--no-password'], 'ERR_USAGE'],
    [['certificate', 'create', 'x', p('u.crt'), '--profile', 'leaf', '--key-out', p('u.key'), '--no-password'], 'ERR_USAGE'],
    [['certificate', 'create', 'x', p('u.crt'), '--profile', 'root-ca', '--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key'), '--key-out', p('u.key')], 'ERR_USAGE'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--key-out', p('u.key')], 'ERR_USAGE'],
    [['certificate', 'create', 'x', p('u.crt')], 'ERR_USAGE'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--lifetime', 'forever'], 'ERR_BAD_DURATION'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--not-before', 'yesterday'], 'ERR_BAD_TIME'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--san', 'bad..name'], 'ERR_BAD_NAME'],
    [['certificate', 'create', 'XX=1', p('u.crt'), '--key', p('dev.key')], 'ERR_BAD_SUBJECT'],
    [['certificate', 'create', '', p('u.crt'), '--key', p('dev.key')], 'ERR_BAD_SUBJECT'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--path-len', '1'], 'ERR_BAD_OPTION'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--key-usage', 'signEverything'], 'ERR_BAD_OPTION'],
    [['certificate', 'create', 'x', p('u.crt'), '--key', p('dev.key'), '--crl-url', 'not a url'], 'ERR_BAD_OPTION'],
  ];
  for (const [args, code] of cases) fails(signet(args), 2, code);
  assert.ok(!existsSync(p('u.crt')) && !existsSync(p('u.key')));
});

interface IssuedJson {
  notAfter: string;
  requestedNotAfter?: string;
  lint: { profile: string; warnings: number; findings: { rule: string; severity: string; message: string }[] };
}

test('lint before signing: error-level findings refuse issuance (exit 1, ERR_LINT_FAILED naming the rule), nothing is written', () => {
  opensslOk([
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('badsan-req.key'),
    '-subj', '/CN=badsan', '-addext', 'subjectAltName=DNS:bad..name', '-out', p('badsan.csr'),
  ]);
  const ca = ['--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key')];
  const cases: [string[], string][] = [
    // the --san parser refuses bad..name, but a CSR can carry it: the linter is the last line of defence
    [['certificate', 'create', '-', p('lf.crt'), '--csr', p('badsan.csr'), ...ca], 'e_san_dns_name_invalid'],
    [['certificate', 'create', 'lf.example.com', p('lf.crt'), ...ca, '--key-out', p('lf.key'), '--no-password', '--key-usage', 'digitalSignature,keyCertSign'], 'e_key_cert_sign_without_ca'],
    [['certificate', 'create', 'lf.example.com', p('lf.crt'), ...ca, '--key-out', p('lf.key'), '--no-password', '--key-usage', 'keyEncipherment', '--eku', 'none'], 'e_key_usage_incompatible_with_key'],
    [['certificate', 'create', 'lf.example.com', p('lf.crt'), ...ca, '--key-out', p('lf.key'), '--no-password', '--key-usage', 'cRLSign'], 'e_eku_key_usage_inconsistent'],
  ];
  for (const [args, rule] of cases) {
    const r = signet(args);
    fails(r, 1, 'ERR_LINT_FAILED');
    assert.match(r.stderr, new RegExp(`error: certificate fails lint: .*${rule}`));
    assert.ok(!existsSync(p('lf.crt')), `${rule}: no certificate written`);
    assert.ok(!existsSync(p('lf.key')), `${rule}: no generated key written`);
  }
});

test('a normal issuance carries no lint errors and prints no warnings; warnings print to stderr and land in --json', () => {
  const ca = ['--ca', p('p256-int.crt'), '--ca-key', p('p256-int.key')];
  const clean = ok(signet(['certificate', 'create', 'clean.example.com', p('clean.crt'), ...ca, '--key-out', p('clean.key'), '--no-password', '--json']));
  const info = JSON.parse(clean.stdout) as IssuedJson;
  assert.equal(info.lint.profile, 'leaf');
  assert.deepEqual(info.lint.findings.filter((f) => f.severity === 'error'), []);
  assert.doesNotMatch(clean.stderr, /warning:/);

  const long = ok(signet(['certificate', 'create', 'long.example.com', p('long.crt'), ...ca, '--key-out', p('long.key'), '--no-password', '--lifetime', '400d', '--json']));
  assert.match(long.stderr, /^warning: w_leaf_validity_too_long: /m);
  const longInfo = JSON.parse(long.stdout) as IssuedJson;
  assert.ok(longInfo.lint.findings.some((f) => f.rule === 'w_leaf_validity_too_long' && f.severity === 'warning'));
  assert.ok(existsSync(p('long.crt')));
});

test('a certificate never outlives its issuer: notAfter is clamped to the CA notAfter, with a warning', () => {
  ok(signet(['certificate', 'create', 'Short Root', p('short-root.crt'), '--profile', 'root-ca', '--key-out', p('short-root.key'), '--no-password', '--lifetime', '2h', '--json']));
  const rootText = opensslOk(['x509', '-in', p('short-root.crt'), '-noout', '-enddate']);
  const r = ok(signet(['certificate', 'create', 'short.example.com', p('short.crt'), '--ca', p('short-root.crt'), '--ca-key', p('short-root.key'), '--key-out', p('short.key'), '--no-password', '--lifetime', '24h', '--json']));
  const info = JSON.parse(r.stdout) as IssuedJson;
  assert.match(r.stderr, /^warning: notAfter .* is after the issuer's notAfter; clamped to /m);
  assert.ok(info.requestedNotAfter !== undefined && Date.parse(info.requestedNotAfter) > Date.parse(info.notAfter));
  assert.equal(opensslOk(['x509', '-in', p('short.crt'), '-noout', '-enddate']), rootText, 'same notAfter as the root');
  const v = openssl(['verify', '-CAfile', p('short-root.crt'), p('short.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);

  // within the CA's lifetime nothing is clamped and nothing is said
  const within = ok(signet(['certificate', 'create', 'within.example.com', p('within.crt'), '--ca', p('short-root.crt'), '--ca-key', p('short-root.key'), '--key-out', p('within.key'), '--no-password', '--lifetime', '1h', '--json']));
  assert.equal((JSON.parse(within.stdout) as IssuedJson).requestedNotAfter, undefined);
  assert.doesNotMatch(within.stderr, /warning:/);
});

test('an expired or not-yet-valid --ca is refused: exit 1, ERR_CA_NOT_VALID, nothing written', () => {
  ok(signet(['certificate', 'create', 'Old Root', p('old-root.crt'), '--profile', 'root-ca', '--key-out', p('old-root.key'), '--no-password', '--not-before', '2020-01-01T00:00:00Z', '--not-after', '2021-01-01T00:00:00Z']));
  ok(signet(['certificate', 'create', 'Future Root', p('future-root.crt'), '--profile', 'root-ca', '--key-out', p('future-root.key'), '--no-password', '--not-before', '+1d', '--lifetime', '30d']));
  for (const name of ['old-root', 'future-root']) {
    const r = signet(['certificate', 'create', 'nv.example.com', p('nv.crt'), '--ca', p(`${name}.crt`), '--ca-key', p(`${name}.key`), '--key-out', p('nv.key'), '--no-password']);
    fails(r, 1, 'ERR_CA_NOT_VALID');
    assert.ok(!existsSync(p('nv.crt')) && !existsSync(p('nv.key')), `${name}: nothing written`);
  }
});

test('--help explains the command with examples', () => {
  const r = ok(signet(['certificate', 'create', '--help']));
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /--profile <name>/);
  assert.match(r.stdout, /--permitted-dns/);
});
