/**
 * The builder beyond byte equivalence: serial properties, caches that must never mix up two
 * different specs, deliberately defective certificates (for lint/verify tests), issuer reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { toHex } from '../../src/core/bytes.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { assembleCertificate, buildTbsCertificate, issueCertificate, issuerFromCertificate, readCertificateFields, signTbsCertificate, type CertificateSpec } from '../../src/x509/certificate-builder.js';
import { children, readSingle } from '../../src/x509/der-reader.js';
import { encodeExtensions, keyIdentifier } from '../../src/x509/extensions.js';
import { OID } from '../../src/x509/oids.js';
import { generalizedTime, time } from '../../src/x509/der.js';
import { SERIAL_LENGTH, formatSerial, parseSerial, randomSerial, randomSerialInteger, serialTime } from '../../src/x509/serial.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const leaf = generateKeyPairSync('ed25519');
const signer = createSoftwareSigner(ca.privateKey);
const T0 = new Date('2025-01-01T00:00:00Z');
const T1 = new Date('2025-01-02T00:00:00Z');

function base(extra: Partial<CertificateSpec> = {}): CertificateSpec {
  return { subject: [[{ type: 'CN', value: 'test' }]], notBefore: T0, notAfter: T1, publicKey: leaf.publicKey, ...extra };
}

test('serials: 16 octets, positive, top bits 01, the issuance time, then at least 64 random bits; later serials sort higher', () => {
  const seen = new Set<string>();
  const before = Date.now();
  const made: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = randomSerial();
    assert.equal(s.length, SERIAL_LENGTH);
    assert.equal((s[0] as number) & 0xc0, 0x40);
    seen.add(toHex(s));
    made.push(s);
  }
  const after = Date.now();
  assert.equal(seen.size, 2000);
  for (const s of made) {
    const t = serialTime(s);
    assert.ok(t !== undefined && t >= before && t <= after, `time prefix ${t} outside ${before}…${after}`);
  }
  // Every bit of the random part (after the six octets of the time prefix) takes both values
  // across the sample: 80 random bits, above the Baseline Requirements' 64.
  const ones = new Array<number>(80).fill(0);
  for (const s of made) for (let bit = 48; bit < SERIAL_LENGTH * 8; bit++) if ((s[bit >> 3] as number) & (0x80 >> (bit & 7))) ones[bit - 48]! += 1;
  assert.ok(ones.every((n) => n > 0 && n < 2000));
  // A serial of a later millisecond sorts after every serial of an earlier one (what keeps the store's serial indexes append-only).
  const early = toHex(randomSerial(undefined, 1_700_000_000_000));
  const late = toHex(randomSerial(undefined, 1_700_000_000_001));
  assert.ok(early < late && early.length === late.length);
  const tlv = randomSerialInteger();
  assert.equal(tlv[0], 0x02);
  assert.equal(tlv[1], SERIAL_LENGTH);
  assert.equal((tlv[2] as number) & 0xc0, 0x40);
  const tlvTime = serialTime(tlv.subarray(2));
  assert.ok(tlvTime !== undefined && tlvTime >= before && tlvTime <= Date.now());
  assert.equal(serialTime(Uint8Array.of(1, 2)), undefined);
});

test('an injected random source is used as is (deterministic tests)', () => {
  const s = randomSerial((n) => new Uint8Array(n).fill(0xff), 0x0123456789ab);
  assert.equal(toHex(s), '41' + '23456789ab' + 'ff'.repeat(10));
  assert.equal(serialTime(s), 0x0123456789ab);
  assert.throws(() => randomSerial((n) => new Uint8Array(n - 1)), (e: unknown) => isSignetError(e, 'ERR_INTERNAL'));
  assert.equal(formatSerial(Uint8Array.of(1, 0xab)), '01:ab');
  assert.equal(toHex(parseSerial('0x1:AB')), '01ab');
  assert.throws(() => parseSerial('xyz'), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'));
});

test('default serials in issued certificates are positive and ≤ 20 octets (RFC 5280 §4.1.2.2)', () => {
  for (let i = 0; i < 50; i++) {
    const cert = parseCertificate(issueCertificate(base(), signer));
    assert.equal(cert.serialNumber.length, SERIAL_LENGTH);
    assert.equal((cert.serialNumber[0] as number) & 0x80, 0);
  }
});

test('cached extension encodings never leak between different specs', () => {
  const variants = [
    { eku: ['serverAuth'], ku: ['digitalSignature'] as const, ocsp: ['http://a.example/'], crl: ['http://c.example/1.crl'] },
    { eku: ['clientAuth'], ku: ['keyEncipherment'] as const, ocsp: ['http://b.example/'], crl: ['http://c.example/2.crl'] },
    { eku: ['serverAuth', 'clientAuth'], ku: ['digitalSignature', 'keyAgreement'] as const, ocsp: [], crl: ['http://c.example/1.crl', 'http://c.example/2.crl'] },
  ];
  for (let round = 0; round < 3; round++) {
    for (const v of variants) {
      const eku = [...v.eku];
      const cert = parseCertificate(
        issueCertificate(
          base({
            extensions: {
              keyUsage: { usages: [...v.ku], critical: round === 1 },
              extKeyUsage: { usages: eku },
              authorityInfoAccess: { ocsp: v.ocsp, caIssuers: ['http://i.example/ca.crt'] },
              crlDistributionPoints: v.crl,
            },
          }),
          signer,
        ),
      );
      // Mutating the caller's array afterwards must not poison the memo.
      eku.push('codeSigning');
      assert.deepEqual(cert.ext.extKeyUsage, v.eku.map((n) => (n === 'serverAuth' ? OID.serverAuth : OID.clientAuth)));
      assert.deepEqual(cert.ext.keyUsage?.usages, [...v.ku]);
      assert.equal(cert.extensions.find((e) => e.oid === OID.keyUsage)?.critical, round === 1);
      assert.deepEqual(cert.ext.authorityInfoAccess?.ocsp, v.ocsp);
      assert.deepEqual(cert.ext.crlDistributionPoints, v.crl);
    }
  }
});

test('SKI is SHA-1 of the subjectPublicKey bits; AKI auto takes the issuer SKI', () => {
  const root = issueCertificate(base({ publicKey: ca.publicKey, extensions: { basicConstraints: { ca: true }, subjectKeyIdentifier: 'auto' } }), signer);
  const issuer = issuerFromCertificate(root);
  const child = parseCertificate(issueCertificate(base({ extensions: { subjectKeyIdentifier: 'auto', authorityKeyIdentifier: 'auto' } }), signer, issuer));
  const x = new X509Certificate(Buffer.from(encodePem('CERTIFICATE', issueCertificate(base({ extensions: { subjectKeyIdentifier: 'auto' } }), signer))));
  assert.ok(x.subject.includes('test'));
  assert.equal(toHex(child.ext.subjectKeyIdentifier ?? new Uint8Array()), toHex(keyIdentifier(child.spki)));
  assert.equal(toHex(child.ext.authorityKeyIdentifier?.keyIdentifier ?? new Uint8Array()), toHex(issuer.keyIdentifier ?? new Uint8Array(1)));
  // A CA certificate without SKI: the issuer key id falls back to the hash of its key.
  const noSki = issueCertificate(base({ publicKey: ca.publicKey, extensions: { basicConstraints: { ca: true } } }), signer);
  assert.equal(toHex(issuerFromCertificate(noSki).keyIdentifier ?? new Uint8Array()), toHex(keyIdentifier(readCertificateFields(noSki).spki)));
  // Explicit and disabled identifiers.
  const explicit = parseCertificate(issueCertificate(base({ extensions: { subjectKeyIdentifier: Uint8Array.of(1, 2, 3), authorityKeyIdentifier: Uint8Array.of(4, 5) } }), signer));
  assert.equal(toHex(explicit.ext.subjectKeyIdentifier ?? new Uint8Array()), '010203');
  assert.equal(toHex(explicit.ext.authorityKeyIdentifier?.keyIdentifier ?? new Uint8Array()), '0405');
});

test('defective certificates can be built on purpose (for lint and verify tests)', () => {
  // Negative serial, 21-octet serial, version 1 with extensions, duplicate extensions,
  // GeneralizedTime before 2050, unknown critical extension.
  const negative = parseCertificate(issueCertificate(base({ serialNumber: -5n }), signer));
  assert.equal(toHex(negative.serialNumber), 'fb');
  const long = parseCertificate(issueCertificate(base({ serialNumber: new Uint8Array(21).fill(0x11) }), signer));
  assert.equal(long.serialNumber.length, 21);
  const zero = parseCertificate(issueCertificate(base({ serialNumber: 0n }), signer));
  assert.equal(toHex(zero.serialNumber), '00');
  const v1 = parseCertificate(issueCertificate(base({ version: 1, extensions: { basicConstraints: { ca: false } } }), signer));
  assert.equal(v1.version, 1);
  assert.equal(v1.extensions.length, 1);
  const dup = parseCertificate(
    issueCertificate(
      base({ extensions: { basicConstraints: { ca: false }, extra: [{ oid: OID.basicConstraints, critical: true, value: Uint8Array.of(0x30, 0x03, 0x01, 0x01, 0xff) }] } }),
      signer,
    ),
  );
  assert.deepEqual(dup.duplicateExtensions, [OID.basicConstraints]);
  const gt = parseCertificate(issueCertificate(base({ notBefore: Uint8Array.from(Buffer.from('180f32303235303130313030303030305a', 'hex')) }), signer));
  assert.equal(gt.notBeforeTag, 'GeneralizedTime');
  const unknown = parseCertificate(issueCertificate(base({ extensions: { extra: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: Uint8Array.of(5, 0) }] } }), signer));
  assert.equal(unknown.extensions[0]?.critical, true);
});

test('prepare, then sign: a TBS built once is signed as is; a certificate with a bad signature can be assembled', () => {
  const tbs = buildTbsCertificate(base(), undefined, signer.algorithm);
  const cert = signTbsCertificate(tbs, signer);
  const parts = children(readSingle(cert));
  assert.equal(toHex(parts[0]?.bytes ?? new Uint8Array()), toHex(tbs));
  assert.ok(new X509Certificate(Buffer.from(cert)).verify(ca.publicKey));
  const corrupt = assembleCertificate(tbs, signer.algorithm.identifier, new Uint8Array(70));
  assert.equal(children(readSingle(corrupt)).length, 3);
  assert.equal(new X509Certificate(Buffer.from(corrupt)).verify(ca.publicKey), false);
});

test('issued certificates verify with node:crypto and OpenSSL, and encodeExtensions is empty without a spec', () => {
  const self = issueCertificate(base({ publicKey: ca.publicKey, extensions: { basicConstraints: { ca: true } } }), signer);
  const x = new X509Certificate(Buffer.from(self));
  assert.ok(x.verify(ca.publicKey));
  const dir = tempDir();
  try {
    writeFileSync(dir.path('c.pem'), encodePem('CERTIFICATE', self));
    const text = opensslOk(['x509', '-in', dir.path('c.pem'), '-noout', '-text']);
    assert.match(text, /CA:TRUE/);
  } finally {
    dir.cleanup();
  }
  assert.deepEqual(encodeExtensions({}, { spki: readCertificateFields(self).spki, selfSigned: true }), []);
});

test('errors: unsupported key material, invalid dates, malformed CA certificates', () => {
  assert.throws(() => issueCertificate(base({ notBefore: new Date('x') }), signer), (e: unknown) => isSignetError(e, 'ERR_BAD_TIME'));
  assert.throws(() => issuerFromCertificate(Uint8Array.of(0x30, 0x03, 0x02, 0x01)), (e: unknown) => isSignetError(e, 'ERR_CERT_MALFORMED'));
  assert.throws(() => keyIdentifier(Uint8Array.of(1, 2, 3)), (e: unknown) => isSignetError(e, 'ERR_KEY_MALFORMED'));
  assert.throws(
    () => issueCertificate(base({ extensions: { keyUsage: { usages: ['bogus' as 'digitalSignature'] } } }), signer),
    (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'),
  );
});

test('validity times outside the years 0001–9999, or invalid Dates, are ERR_BAD_TIME (RFC 5280 §4.1.2.5)', () => {
  const outside = [
    { notAfter: new Date('+010025-03-01T00:00:00Z') }, // now + 8000y
    { notAfter: new Date(8.64e15) }, // the largest Date
    { notBefore: new Date('0000-06-01T00:00:00Z') },
    { notBefore: new Date('-000001-01-01T00:00:00Z') },
    { notAfter: new Date(Number.NaN) },
  ];
  for (const extra of outside) {
    assert.throws(() => issueCertificate(base(extra), signer), (e: unknown) => isSignetError(e, 'ERR_BAD_TIME'), JSON.stringify(extra));
  }
  for (const d of [new Date('+010000-01-01T00:00:00Z'), new Date('0000-01-01T00:00:00Z'), new Date(Number.NaN)]) {
    assert.throws(() => time(d), (e: unknown) => isSignetError(e, 'ERR_BAD_TIME'), String(d.getTime()));
    assert.throws(() => generalizedTime(d), (e: unknown) => isSignetError(e, 'ERR_BAD_TIME'), String(d.getTime()));
  }
  // The edges themselves are fine, and OpenSSL reads them.
  const der = issueCertificate(base({ notBefore: new Date('0001-01-01T00:00:00Z'), notAfter: new Date('9999-12-31T23:59:59Z') }), signer);
  assert.ok(Buffer.from(der).includes(Buffer.from('\x18\x0f00010101000000Z', 'latin1')));
  assert.ok(Buffer.from(der).includes(Buffer.from('\x18\x0f99991231235959Z', 'latin1')));
  const dir = tempDir();
  try {
    writeFileSync(`${dir.dir}/edges.crt`, encodePem('CERTIFICATE', der));
    const out = opensslOk(['x509', '-in', `${dir.dir}/edges.crt`, '-noout', '-dates', '-dateopt', 'iso_8601']);
    assert.match(out, /notBefore= *1-01-01 00:00:00Z/); // OpenSSL pads the year with spaces
    assert.match(out, /notAfter=9999-12-31 23:59:59Z/);
  } finally {
    dir.cleanup();
  }
});
