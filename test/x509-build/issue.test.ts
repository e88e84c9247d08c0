/**
 * issueLintedCertificate: the CA's "prepare → lint → sign" step. A certificate with an
 * error-level finding is never signed (the signer is not even called); what is signed is exactly
 * the TBS that was linted; the issuer must be valid; notAfter never exceeds the issuer's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner, type Signer } from '../../src/crypto/signer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { issueCertificate, issuerFromCertificate, readCertificateFields } from '../../src/x509/certificate-builder.js';
import { assertIssuerValid, clampToIssuer, issueLintedCertificate } from '../../src/x509/issue.js';
import { specFromProfile, type ProfileRequest } from '../../src/x509/profiles.js';
import type { CertificateSpec } from '../../src/x509/certificate-builder.js';
import { parseSubject } from '../../src/x509/name.js';
import { children, readSingle } from '../../src/x509/der-reader.js';
import { openssl, tempDir } from '../helpers/openssl.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A software signer that counts its signatures, to prove a refused certificate is never signed. */
function countingSigner(): Signer & { count: () => number } {
  const inner = createSoftwareSigner(rootKey.privateKey);
  let n = 0;
  return {
    publicKey: inner.publicKey,
    spki: inner.spki,
    algorithm: inner.algorithm,
    sign: (data: Uint8Array) => {
      n++;
      return inner.sign(data);
    },
    count: () => n,
  };
}

/** A root valid from `nb` to `na` (issued with the plain builder, which does not check validity). */
function root(nb: Date, na: Date): Uint8Array {
  return issueCertificate(
    specFromProfile('root-ca', { subject: parseSubject('CN=Issue Test Root'), publicKey: rootKey.publicKey, now: NOW, notBefore: nb, notAfter: na }),
    createSoftwareSigner(rootKey.privateKey),
  );
}

const ROOT = root(new Date(NOW.getTime() - DAY), new Date(NOW.getTime() + 3650 * DAY));
const leafSpec = (extra: Partial<ProfileRequest> = {}): CertificateSpec =>
  specFromProfile('leaf', { subject: parseSubject('CN=www.example.com'), publicKey: leafKey.publicKey, now: NOW, sans: [{ type: 'dns', value: 'www.example.com' }], ...extra });

test('issuerFromCertificate reads the issuer validity', () => {
  const f = readCertificateFields(ROOT);
  assert.equal(f.notBefore.toISOString(), '2026-02-28T12:00:00.000Z');
  assert.equal(f.notAfter.toISOString(), '2036-02-27T12:00:00.000Z');
  const info = issuerFromCertificate(ROOT);
  assert.equal(info.notAfter?.getTime(), f.notAfter.getTime());
});

test('a clean leaf is linted, then exactly the linted TBS is signed; openssl verifies it', () => {
  const signer = countingSigner();
  const r = issueLintedCertificate(leafSpec(), signer, issuerFromCertificate(ROOT), { profile: 'leaf', now: NOW });
  assert.equal(signer.count(), 1);
  assert.equal(r.lint.errors, 0);
  assert.equal(r.lint.profile, 'leaf');
  assert.deepEqual(r.lint.findings.filter((f) => f.severity === 'error'), []);
  const tbsInCert = children(readSingle(r.der))[0]?.bytes;
  assert.deepEqual(tbsInCert, r.tbs, 'the signed certificate carries the linted TBS byte for byte');
  assert.equal(r.requestedNotAfter, undefined);

  const tmp = tempDir('signet-issue-');
  try {
    writeFileSync(tmp.path('root.crt'), encodePem('CERTIFICATE', ROOT));
    writeFileSync(tmp.path('leaf.crt'), encodePem('CERTIFICATE', r.der));
    const v = openssl(['verify', '-attime', String(NOW.getTime() / 1000), '-CAfile', tmp.path('root.crt'), tmp.path('leaf.crt')]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    tmp.cleanup();
  }
});

test('an error-level finding refuses issuance with ERR_LINT_FAILED naming the rule, and nothing is signed', () => {
  const cases: [string, Partial<ProfileRequest>, string][] = [
    ['keyCertSign on a leaf', { keyUsage: ['digitalSignature', 'keyCertSign'] }, 'e_key_cert_sign_without_ca'],
    ['keyEncipherment with an EC key', { keyUsage: ['keyEncipherment'], extKeyUsage: [] }, 'e_key_usage_incompatible_with_key'],
    ['serverAuth without a fitting key usage', { keyUsage: ['cRLSign'] }, 'e_eku_key_usage_inconsistent'],
  ];
  for (const [label, extra, rule] of cases) {
    const signer = countingSigner();
    assert.throws(
      () => issueLintedCertificate(leafSpec(extra), signer, issuerFromCertificate(ROOT), { profile: 'leaf', now: NOW }),
      (e: unknown) => {
        assert.ok(isSignetError(e, 'ERR_LINT_FAILED'), `${label}: ${String(e)}`);
        assert.match(e.message, new RegExp(rule));
        assert.ok((e.detail?.rules as string[]).includes(rule));
        return true;
      },
    );
    assert.equal(signer.count(), 0, `${label}: the signer must not be called`);
  }
});

test('lint options pass through: an ignored rule no longer refuses', () => {
  const r = issueLintedCertificate(leafSpec({ keyUsage: ['cRLSign'] }), countingSigner(), issuerFromCertificate(ROOT), {
    profile: 'leaf',
    now: NOW,
    lint: { ignore: ['e_eku_key_usage_inconsistent'] },
  });
  assert.equal(r.lint.errors, 0);
});

test('warnings do not stop issuance and are reported', () => {
  const r = issueLintedCertificate(leafSpec({ lifetimeMs: 400 * DAY }), countingSigner(), issuerFromCertificate(ROOT), { profile: 'leaf', now: NOW });
  assert.ok(r.lint.findings.some((f) => f.rule === 'w_leaf_validity_too_long' && f.severity === 'warning'));
});

test('notAfter is clamped to the issuer notAfter, and reported', () => {
  const shortRoot = root(new Date(NOW.getTime() - HOUR), new Date(NOW.getTime() + 2 * HOUR));
  const r = issueLintedCertificate(leafSpec(), countingSigner(), issuerFromCertificate(shortRoot), { profile: 'leaf', now: NOW });
  const cert = parseCertificate(r.der);
  assert.equal(cert.notAfter.toISOString(), new Date(NOW.getTime() + 2 * HOUR).toISOString());
  assert.equal(r.requestedNotAfter?.toISOString(), new Date(NOW.getTime() + DAY).toISOString());

  // within the same second is not a clamp (Time has whole seconds)
  const exact = clampToIssuer({ ...leafSpec(), notAfter: new Date(NOW.getTime() + 2 * HOUR + 999) }, issuerFromCertificate(shortRoot));
  assert.equal(exact.requestedNotAfter, undefined);
  // a certificate starting after the issuer ends cannot be clamped
  assert.throws(
    () => clampToIssuer(leafSpec({ notBefore: new Date(NOW.getTime() + 3 * HOUR), lifetimeMs: HOUR }), issuerFromCertificate(shortRoot)),
    (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'),
  );
});

test('an expired or not-yet-valid issuer is refused with ERR_CA_NOT_VALID before anything is signed', () => {
  const expired = issuerFromCertificate(root(new Date('2020-01-01T00:00:00Z'), new Date('2021-01-01T00:00:00Z')));
  const future = issuerFromCertificate(root(new Date(NOW.getTime() + DAY), new Date(NOW.getTime() + 30 * DAY)));
  for (const issuer of [expired, future]) {
    const signer = countingSigner();
    assert.throws(() => issueLintedCertificate(leafSpec(), signer, issuer, { profile: 'leaf', now: NOW }), (e: unknown) => isSignetError(e, 'ERR_CA_NOT_VALID'));
    assert.equal(signer.count(), 0);
  }
  // the boundaries are inclusive (RFC 5280 §4.1.2.5: valid from notBefore through notAfter)
  assertIssuerValid(expired, new Date('2021-01-01T00:00:00Z'));
  assertIssuerValid(expired, new Date('2020-01-01T00:00:00Z'));
  assertIssuerValid({ name: new Uint8Array([0x30, 0]) }, NOW);
});
