/** `signet csr create` and `signet csr inspect` end to end, with OpenSSL as the peer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fails, ok, signet } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-cli-csr-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

interface CsrJson {
  subject: string;
  sans: { type: string; value: string }[];
  key: { algorithm: string };
  signatureAlgorithm: string;
  signatureValid: boolean;
  extensions: { name: string; critical: boolean }[];
}

test('csr create with a new key: every SAN type, openssl req -verify accepts it, csr inspect reads it', () => {
  for (const [name, kty] of [
    ['ec', ['--kty', 'ec', '--curve', 'P-384']],
    ['ed', ['--kty', 'ed25519']],
    ['rsa', ['--kty', 'rsa']],
  ] as const) {
    ok(
      signet([
        'csr', 'create', `CN=${name}.example.com,O=Example,C=DE`, p(`${name}.csr`), '--key-out', p(`${name}.key`), '--no-password', ...kty,
        '--san', `${name}.example.com`, '--san', '192.0.2.1', '--san', '2001:db8::1', '--san', 'me@example.com', '--san', 'spiffe://example.com/a',
      ]),
    );
    assert.equal(statSync(p(`${name}.key`)).mode & 0o777, 0o600);
    const text = opensslOk(['req', '-in', p(`${name}.csr`), '-verify', '-noout', '-text']);
    assert.match(text, /Subject: C = DE, O = Example, CN = \w+\.example\.com/);
    assert.match(text, /IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, email:me@example.com, URI:spiffe:\/\/example.com\/a/);
    const info = JSON.parse(ok(signet(['csr', 'inspect', p(`${name}.csr`), '--json'])).stdout) as CsrJson;
    // Subject and SANs in the same form as `certificate inspect` (C=DE first; SANs as {type, value}).
    assert.equal(info.subject, `C=DE, O=Example, CN=${name}.example.com`);
    assert.equal(info.signatureValid, true);
    assert.deepEqual(info.sans, [
      { type: 'dns', value: `${name}.example.com` },
      { type: 'ip', value: '192.0.2.1' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'email', value: 'me@example.com' },
      { type: 'uri', value: 'spiffe://example.com/a' },
    ]);
    assert.deepEqual(info.extensions, [{ name: 'subjectAltName', oid: '2.5.29.17', critical: false }]);
  }
});

test('csr create with an existing encrypted key and an empty subject (SAN becomes critical)', () => {
  writeFileSync(p('pw.txt'), 'secret password\n');
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes-256-cbc', '-pass', `file:${p('pw.txt')}`, '-out', p('enc.key')]);
  fails(signet(['csr', 'create', '', p('svc.csr'), '--key', p('enc.key'), '--san', 'uri:spiffe://example.org/svc']), 4, 'ERR_KEY_PASSWORD_REQUIRED');
  ok(signet(['csr', 'create', '', p('svc.csr'), '--key', p('enc.key'), '--password-file', p('pw.txt'), '--san', 'uri:spiffe://example.org/svc']));
  const text = opensslOk(['req', '-in', p('svc.csr'), '-verify', '-noout', '-text']);
  assert.match(text, /X509v3 Subject Alternative Name: critical/);
  const human = ok(signet(['csr', 'inspect', p('svc.csr')])).stdout;
  assert.match(human, /subject:\s+\(empty\)/);
  assert.match(human, /signature:\s+ecdsaWithSHA256, valid/);
});

test('csr inspect reads openssl CSRs (RSA-PSS, Ed25519) and DER input', () => {
  opensslOk(['req', '-new', '-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', '-nodes', '-keyout', p('pss.key'), '-subj', '/CN=pss', '-out', p('pss.csr')]);
  const pss = JSON.parse(ok(signet(['csr', 'inspect', p('pss.csr'), '--json'])).stdout) as CsrJson;
  assert.equal(pss.signatureAlgorithm, 'rsassaPss');
  assert.equal(pss.signatureValid, true);
  assert.match(pss.key.algorithm, /RSA-PSS 2048/);
  opensslOk(['req', '-in', p('ed.csr'), '-outform', 'DER', '-out', p('ed.der')]);
  assert.equal((JSON.parse(ok(signet(['csr', 'inspect', p('ed.der'), '--json'])).stdout) as CsrJson).key.algorithm, 'Ed25519');
});

test('csr inspect: a corrupted signature exits 4 with ERR_CSR_SIGNATURE_INVALID, garbage exits 3', () => {
  const der = readFileSync(p('ed.der'));
  der[der.length - 2] = (der[der.length - 2] as number) ^ 0x55;
  writeFileSync(p('bad.der'), der);
  const r = signet(['csr', 'inspect', p('bad.der')]);
  fails(r, 4, 'ERR_CSR_SIGNATURE_INVALID');
  assert.match(r.stdout, /INVALID/);
  writeFileSync(p('junk.csr'), 'hello, I am not a csr');
  fails(signet(['csr', 'inspect', p('junk.csr')]), 3, 'ERR_CSR_MALFORMED');
  fails(signet(['csr', 'inspect', p('ec.key')]), 3, 'ERR_PEM_UNEXPECTED_TYPE');
  fails(signet(['csr', 'inspect', p('missing.csr')]), 5, 'ERR_FILE_NOT_FOUND');
});

test('csr create refuses bad input and never leaves files behind', () => {
  fails(signet(['csr', 'create', 'x', p('x.csr'), '--key-out', p('x.key'), '--no-password', '--san', 'ip:300.1.1.1']), 2, 'ERR_BAD_NAME');
  fails(signet(['csr', 'create', '', p('x.csr'), '--key-out', p('x.key'), '--no-password']), 2, 'ERR_BAD_SUBJECT');
  fails(signet(['csr', 'create', 'x', p('x.csr')]), 2, 'ERR_USAGE');
  fails(signet(['csr', 'create', 'x', p('x.csr'), '--key-out', p('x.key'), '--no-password', '--kty', 'dsa']), 4, 'ERR_KEY_UNSUPPORTED');
  fails(signet(['csr', 'create', 'x', p('ec.csr'), '--key-out', p('x.key'), '--no-password']), 5, 'ERR_FILE_EXISTS');
  fails(signet(['csr', 'create', 'x', p('x.csr'), '--key-out', p('x.key')]), 4, 'ERR_KEY_PASSWORD_REQUIRED');
  assert.ok(!existsSync(p('x.csr')) && !existsSync(p('x.key')));
  assert.equal(openssl(['req', '-in', p('ec.csr'), '-verify', '-noout']).status, 0, 'existing csr untouched');
});

test('--help on csr commands has examples', () => {
  for (const cmd of [['csr', '--help'], ['csr', 'create', '--help'], ['csr', 'inspect', '--help']]) {
    assert.match(ok(signet(cmd)).stdout, /Examples:/);
  }
});
