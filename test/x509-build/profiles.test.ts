/** Profiles: what each one puts in a certificate, its defaults, and OpenSSL's acceptance of it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import { issueCertificate, issuerFromCertificate, spkiOf } from '../../src/x509/certificate-builder.js';
import { OID } from '../../src/x509/oids.js';
import { PROFILES, getProfile, specFromProfile } from '../../src/x509/profiles.js';
import { parseSubject } from '../../src/x509/name.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const tmp = tempDir('signet-profiles-');
process.on('exit', () => tmp.cleanup());

function pem(name: string, der: Uint8Array): string {
  const path = tmp.path(name);
  writeFileSync(path, encodePem('CERTIFICATE', der));
  return path;
}

interface Chain {
  root: Certificate;
  intermediate: Certificate;
  leaf: Certificate;
  paths: { root: string; intermediate: string; leaf: string };
}

function chain(label: string, gen: () => { privateKey: KeyObject; publicKey: KeyObject }): Chain {
  const rootKey = gen();
  const intKey = gen();
  const leafKey = gen();
  const rootDer = issueCertificate(
    specFromProfile('root-ca', { subject: parseSubject(`/O=Signet Test/CN=${label} Root`), publicKey: rootKey.publicKey, now: NOW }),
    createSoftwareSigner(rootKey.privateKey),
  );
  const intDer = issueCertificate(
    specFromProfile('intermediate-ca', {
      subject: parseSubject(`/O=Signet Test/CN=${label} Issuing`),
      publicKey: intKey.publicKey,
      now: NOW,
      permitted: [{ type: 'dns', value: 'example.com' }, { type: 'ip', value: '10.0.0.0/8' }],
      excluded: [{ type: 'dns', value: 'secret.example.com' }],
      crlUrls: ['http://pki.example.com/root.crl'],
      issuerUrls: ['http://pki.example.com/root.crt'],
    }),
    createSoftwareSigner(rootKey.privateKey),
    issuerFromCertificate(rootDer),
  );
  const leafDer = issueCertificate(
    specFromProfile('leaf', {
      subject: parseSubject('CN=www.example.com'),
      publicKey: spkiOf(leafKey.publicKey),
      now: NOW,
      sans: [
        { type: 'dns', value: 'www.example.com' },
        { type: 'ip', value: '10.1.2.3' },
      ],
      ocspUrls: ['http://ocsp.example.com/'],
    }),
    createSoftwareSigner(intKey.privateKey),
    issuerFromCertificate(intDer),
  );
  const key = label.replace(/\W/g, '');
  return {
    root: parseCertificate(rootDer),
    intermediate: parseCertificate(intDer),
    leaf: parseCertificate(leafDer),
    paths: { root: pem(`${key}-root.pem`, rootDer), intermediate: pem(`${key}-int.pem`, intDer), leaf: pem(`${key}-leaf.pem`, leafDer) },
  };
}

const p256 = chain('P-256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }));
const rsa = chain('RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }));

test('root-ca: CA critical without path length, KU critical, SKI, no AKI, 10 years, backdated 1 minute', () => {
  const c = p256.root;
  assert.deepEqual(c.ext.basicConstraints, { ca: true });
  assert.equal(c.extensions.find((e) => e.oid === OID.basicConstraints)?.critical, true);
  assert.deepEqual(c.ext.keyUsage?.usages, ['digitalSignature', 'keyCertSign', 'cRLSign']);
  assert.equal(c.extensions.find((e) => e.oid === OID.keyUsage)?.critical, true);
  assert.ok(c.ext.subjectKeyIdentifier);
  assert.equal(c.ext.authorityKeyIdentifier, undefined);
  assert.equal(c.ext.extKeyUsage, undefined);
  assert.equal(c.notBefore.getTime(), NOW.getTime() - MINUTE);
  assert.equal(c.notAfter.getTime(), NOW.getTime() + 3650 * DAY);
});

test('intermediate-ca: path length 0, name constraints critical, AKI = root SKI, CRL DP and AIA, 5 years', () => {
  const c = p256.intermediate;
  assert.deepEqual(c.ext.basicConstraints, { ca: true, pathLenConstraint: 0 });
  assert.equal(c.extensions.find((e) => e.oid === OID.nameConstraints)?.critical, true);
  assert.deepEqual(
    c.ext.nameConstraints?.permitted.map((n) => n.value),
    ['example.com', '10.0.0.0/8'],
  );
  assert.deepEqual(Buffer.from(c.ext.authorityKeyIdentifier?.keyIdentifier ?? []), Buffer.from(p256.root.ext.subjectKeyIdentifier ?? [1]));
  assert.deepEqual(c.ext.crlDistributionPoints, ['http://pki.example.com/root.crl']);
  assert.deepEqual(c.ext.authorityInfoAccess?.caIssuers, ['http://pki.example.com/root.crt']);
  assert.equal(c.notAfter.getTime(), NOW.getTime() + 1825 * DAY);
});

test('leaf: not a CA, KU digitalSignature (+keyEncipherment for RSA), EKU server+client, SAN, 24 hours', () => {
  const c = p256.leaf;
  assert.deepEqual(c.ext.basicConstraints, { ca: false });
  assert.deepEqual(c.ext.keyUsage?.usages, ['digitalSignature']);
  assert.deepEqual(rsa.leaf.ext.keyUsage?.usages, ['digitalSignature', 'keyEncipherment']);
  assert.deepEqual(c.ext.extKeyUsage, [OID.serverAuth, OID.clientAuth]);
  assert.deepEqual(
    c.ext.subjectAltName?.map((n) => n.value),
    ['www.example.com', '10.1.2.3'],
  );
  assert.equal(c.extensions.find((e) => e.oid === OID.subjectAltName)?.critical, false);
  assert.ok(c.ext.authorityKeyIdentifier?.keyIdentifier);
  assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 24 * HOUR + MINUTE);
});

test('openssl verify accepts root → intermediate → leaf (P-256 and RSA), openssl x509 -text reads every profile', () => {
  for (const ch of [p256, rsa]) {
    const r = openssl(['verify', '-attime', String(NOW.getTime() / 1000 + 3600), '-CAfile', ch.paths.root, '-untrusted', ch.paths.intermediate, ch.paths.leaf]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    for (const p of Object.values(ch.paths)) opensslOk(['x509', '-in', p, '-noout', '-text']);
  }
});

test('self-signed: leaf-like, self-issued, SAN critical when the subject is empty', () => {
  const k = generateKeyPairSync('ed25519');
  const der = issueCertificate(
    specFromProfile('self-signed', { subject: [], publicKey: k.publicKey, now: NOW, sans: [{ type: 'uri', value: 'spiffe://example.org/w' }] }),
    createSoftwareSigner(k.privateKey),
  );
  const c = parseCertificate(der);
  assert.equal(c.extensions.find((e) => e.oid === OID.subjectAltName)?.critical, true);
  assert.deepEqual(c.ext.basicConstraints, { ca: false });
  assert.equal(c.ext.authorityKeyIdentifier, undefined);
  assert.equal(c.subject.rdns.length, 0);
  const text = opensslOk(['x509', '-in', pem('self.pem', der), '-noout', '-text']);
  assert.match(text, /X509v3 Subject Alternative Name: critical/);
  assert.match(text, /URI:spiffe:\/\/example.org\/w/);
});

test('explicit validity, lifetime and overrides', () => {
  const k = generateKeyPairSync('ed25519').publicKey;
  const nb = new Date('2030-01-01T00:00:00Z');
  const s = specFromProfile('leaf', { subject: [], publicKey: k, now: NOW, notBefore: nb, lifetimeMs: HOUR, keyUsage: ['keyAgreement'], extKeyUsage: [] });
  assert.deepEqual([s.notBefore, s.notAfter], [nb, new Date(nb.getTime() + HOUR)]);
  assert.deepEqual(s.extensions?.keyUsage?.usages, ['keyAgreement']);
  assert.equal(s.extensions?.extKeyUsage, undefined);
  const na = new Date('2026-03-02T00:00:00Z');
  assert.deepEqual(specFromProfile('leaf', { subject: [], publicKey: k, now: NOW, notAfter: na }).notAfter, na);
  assert.equal(specFromProfile('intermediate-ca', { subject: [], publicKey: k, now: NOW, pathLen: null }).extensions?.basicConstraints?.pathLen, undefined);
  assert.equal(specFromProfile('root-ca', { subject: [], publicKey: k, now: NOW, pathLen: 2 }).extensions?.basicConstraints?.pathLen, 2);
  assert.equal(PROFILES.leaf.defaultLifetimeMs, DAY);
});

test('profile misuse is refused with ERR_BAD_OPTION', () => {
  const k = generateKeyPairSync('ed25519').publicKey;
  const code = (e: unknown): boolean => isSignetError(e, 'ERR_BAD_OPTION');
  assert.throws(() => getProfile('server'), code);
  assert.throws(() => specFromProfile('leaf', { subject: [], publicKey: k, now: NOW, permitted: [{ type: 'dns', value: 'x.example' }] }), code);
  assert.throws(() => specFromProfile('leaf', { subject: [], publicKey: k, now: NOW, pathLen: 1 }), code);
  assert.throws(() => specFromProfile('root-ca', { subject: [], publicKey: k, now: NOW, pathLen: -1 }), code);
  assert.throws(() => specFromProfile('leaf', { subject: [], publicKey: k, now: NOW, notAfter: new Date(NOW.getTime() - DAY) }), code);
});
