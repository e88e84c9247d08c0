/**
 * X509-SVIDs through the authority (POST /sign): a CA whose intermediate serves a trust domain
 * (`ca init --trust-domain`) issues a certificate with one SPIFFE ID of that domain, which an
 * independent check by the X509-SVID standard's rules — python3-cryptography: one URI SAN, the
 * spiffe scheme, not a CA, key usage digitalSignature without keyCertSign/cRLSign, serverAuth and
 * clientAuth, signed by the trust domain's CA — accepts. IDs of another trust domain, two IDs,
 * malformed IDs, and SVIDs from a CA that serves no trust domain are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-x509-svid-');
let ca: TestCa;
let running: RunningCa;
let plain: TestCa;
let plainRunning: RunningCa;

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  ca = await createTestCa({ parent: tmp.path('a'), trustDomain: 'example.org' });
  running = await startTestCa(ca);
  plain = await createTestCa({ parent: tmp.path('b') });
  plainRunning = await startTestCa(plain);
});

after(async () => {
  await running?.close();
  await plainRunning?.close();
  tmp.cleanup();
});

async function sign(target: TestCa, r: RunningCa, subject: string, sans: string[]): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const csr = testCsr(subject, sans);
  return httpsRequest(target, `${r.url}/sign`, { body: { csr: csr.pem, ott: await testToken(target, r, { subject, sans }) } });
}

/** The X509-SVID standard's rules for a leaf, checked by python3-cryptography (Debian). */
const CHECK = `
import sys
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.hazmat.primitives.asymmetric import ec
leaf = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
uris = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
assert len(uris) == 1, uris
assert uris[0].startswith("spiffe://example.org/"), uris
assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign and not ku.value.crl_sign
eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
ca_uris = ca.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.UniformResourceIdentifier)
assert ca_uris == ["spiffe://example.org"], ca_uris
ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(leaf.signature_hash_algorithm))
assert leaf.not_valid_after <= ca.not_valid_after
print(uris[0])
`;

test('an X509-SVID of the CA\'s trust domain is issued, and the X509-SVID rules hold by an independent check', async () => {
  const r = await sign(ca, running, 'web', ['spiffe://example.org/ns/prod/sa/web']);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  writeFileSync(tmp.path('svid.pem'), r.json?.crt as string);
  writeFileSync(tmp.path('int.pem'), r.json?.ca as string);
  const py = spawnSync('/usr/bin/python3', ['-c', CHECK, tmp.path('svid.pem'), tmp.path('int.pem')], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.equal(py.stdout.trim(), 'spiffe://example.org/ns/prod/sa/web');
  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.ok(record?.names.some((n) => n.type === 'uri' && n.value === 'spiffe://example.org/ns/prod/sa/web'), 'the inventory knows the SPIFFE ID');
});

test('refused: another trust domain, two SPIFFE IDs, a malformed ID, and any SVID from a CA that serves no trust domain', async () => {
  const cases: [TestCa, RunningCa, string[], number, string][] = [
    [ca, running, ['spiffe://other.org/ns/prod/sa/web'], 403, 'ERR_FORBIDDEN_NAMES'],
    [ca, running, ['spiffe://example.org/a', 'spiffe://example.org/b'], 403, 'ERR_FORBIDDEN_NAMES'],
    [ca, running, ['spiffe://example.org/a/../b'], 400, 'ERR_SPIFFE_ID_INVALID'],
    [plain, plainRunning, ['spiffe://example.org/ns/prod/sa/web'], 403, 'ERR_FORBIDDEN_NAMES'],
  ];
  for (const [target, r, sans, status, code] of cases) {
    const reply = await sign(target, r, 'web', sans);
    assert.equal(reply.json?.code, code, `${sans.join(' ')}: ${JSON.stringify(reply.json)}`);
    assert.equal(reply.status, status, sans.join(' '));
  }
});
