/**
 * Certificates OpenSSL generates at test time — a typical `openssl req -x509` root and
 * intermediate, and leaves for every key type Signet supports (EC, RSA, RSA-PSS, Ed25519) — lint
 * without errors. OpenSSL's stock `req -x509` root, which has no keyUsage, fails exactly the rule
 * RFC 5280 §4.2.1.3 makes a MUST.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseCertificates, type Certificate } from '../../src/x509/certificate.js';
import { lintCertificate } from '../../src/x509/lint/index.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-lint-openssl-');
process.on('exit', tmp.cleanup);
const p = tmp.path;

const CA_EXT = ['-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash'];

function load(name: string): Certificate {
  const [c] = parseCertificates(readFileSync(p(name), 'utf8'));
  assert.ok(c);
  return c;
}

function errorsOf(cert: Certificate): string[] {
  return lintCertificate(cert).findings.filter((f) => f.severity === 'error').map((f) => `${f.rule}: ${f.message}`);
}

// A root, an intermediate it signs, and leaves the intermediate signs.
opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', p('root.key'), '-out', p('root.crt'), '-days', '3650', '-subj', '/C=DE/O=Signet Tests/CN=OpenSSL Root', ...CA_EXT]);
opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('plain.key'), '-out', p('plain.crt'), '-days', '30', '-subj', '/CN=Plain OpenSSL Root']);
writeFileSync(
  p('int.ext'),
  'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nnameConstraints=critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0\ncrlDistributionPoints=URI:http://crl.example.com/root.crl\nauthorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/root.crt\n',
);
opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('int.key'), '-out', p('int.csr'), '-subj', '/O=Signet Tests/CN=OpenSSL Intermediate']);
opensslOk(['x509', '-req', '-in', p('int.csr'), '-CA', p('root.crt'), '-CAkey', p('root.key'), '-CAcreateserial', '-out', p('int.crt'), '-days', '1000', '-extfile', p('int.ext')]);
writeFileSync(
  p('leaf.ext'),
  'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:www.example.com,DNS:*.api.example.com,IP:10.1.2.3,email:ops@example.com\n',
);
writeFileSync(p('rsa-leaf.ext'), readFileSync(p('leaf.ext'), 'utf8').replace('digitalSignature', 'digitalSignature,keyEncipherment'));
writeFileSync(p('svid.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=URI:spiffe://example.com/ns/prod/sa/web\n');

const LEAVES: Array<[string, string[], string, string[]]> = [
  ['ec', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'leaf.ext', []],
  ['rsa', ['-newkey', 'rsa:2048'], 'rsa-leaf.ext', []],
  ['rsa-pss', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'], 'leaf.ext', []],
  ['ed25519', ['-newkey', 'ed25519'], 'leaf.ext', []],
  ['svid', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'svid.ext', []],
];
for (const [name, keyArgs, ext] of LEAVES) {
  opensslOk(['req', '-new', ...keyArgs, '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', name === 'svid' ? '/O=Signet Tests' : '/CN=www.example.com']);
  opensslOk(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('int.crt'), '-CAkey', p('int.key'), '-CAcreateserial', '-out', p(`${name}.crt`), '-days', '90', '-extfile', p(ext)]);
}
// An RSA-PSS root signs with explicit PSS parameters (SHA-256, MGF1-SHA-256, salt 32).
opensslOk([
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('pss-root.key'), '-out', p('pss-root.crt'), '-days', '365', '-subj', '/CN=OpenSSL PSS Root',
  '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sigopt', 'rsa_mgf1_md:sha256', ...CA_EXT,
]);

test('an openssl req -x509 root with keyUsage lints without errors, as root-ca', () => {
  const cert = load('root.crt');
  assert.deepEqual(errorsOf(cert), []);
  assert.equal(lintCertificate(cert).profile, 'root-ca');
  assert.deepEqual(lintCertificate(cert, { profile: 'root-ca' }).findings.filter((f) => f.severity === 'error'), []);
});

test('an openssl intermediate with name constraints, CRL DP and AIA lints without errors', () => {
  const cert = load('int.crt');
  const report = lintCertificate(cert);
  assert.equal(report.profile, 'intermediate-ca');
  assert.deepEqual(errorsOf(cert), []);
  for (const rule of ['e_name_constraints_ip_invalid', 'e_name_constraints_dns_invalid', 'e_crl_distribution_point_invalid', 'e_aia_invalid', 'e_aki_missing']) {
    assert.ok(report.checked.includes(rule), `${rule} did not run`);
  }
});

for (const [name] of LEAVES) {
  test(`an openssl ${name} leaf lints without errors or warnings`, () => {
    const report = lintCertificate(load(`${name}.crt`));
    assert.equal(report.profile, 'leaf');
    assert.deepEqual(
      report.findings.filter((f) => f.severity !== 'notice').map((f) => `${f.rule}: ${f.message}`),
      [],
    );
    assert.equal(report.spiffe, name === 'svid');
  });
}

test('an openssl rsa-pss signed root passes the pss parameter rule', () => {
  const report = lintCertificate(load('pss-root.crt'));
  assert.ok(report.checked.includes('e_rsa_pss_parameters'));
  assert.deepEqual(report.findings.filter((f) => f.severity === 'error'), []);
});

test('the stock openssl req -x509 root (no keyUsage) fails only e_ca_key_usage_missing', () => {
  const report = lintCertificate(load('plain.crt'));
  assert.equal(report.profile, 'root-ca');
  assert.deepEqual(
    report.findings.filter((f) => f.severity === 'error').map((f) => f.rule),
    ['e_ca_key_usage_missing'],
  );
});
