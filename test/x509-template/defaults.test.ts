/**
 * Default templates and templateToSpec: each profile's default template renders to the same
 * extensions the profile builder writes, the builder accepts the specs, and OpenSSL reads and
 * verifies the certificates they produce.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { issueCertificate, issuerFromCertificate, spkiOf, type CertificateSpec } from '../../src/x509/certificate-builder.js';
import { encodeExtensions } from '../../src/x509/extensions.js';
import { formatDistinguishedName, parseSubject } from '../../src/x509/name.js';
import { PROFILES, specFromProfile, type ProfileName } from '../../src/x509/profiles.js';
import {
  defaultTemplateText,
  getDefaultTemplate,
  parseTemplate,
  renderTemplate,
  requestSubjectToName,
  templateFromDocument,
  templateToSpec,
} from '../../src/x509/template/index.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const NOW = new Date('2026-03-01T12:00:00Z');

const keys: Record<string, { privateKey: KeyObject; publicKey: KeyObject }> = {
  EC: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  Ed25519: generateKeyPairSync('ed25519'),
};

function hex(parts: Uint8Array[]): string[] {
  return parts.map((p) => Buffer.from(p).toString('hex'));
}

function extensionsOf(spec: CertificateSpec, selfSigned: boolean): string[] {
  const issuerKeyIdentifier = selfSigned ? undefined : Uint8Array.of(1, 2, 3, 4);
  return hex(encodeExtensions(spec.extensions ?? {}, { spki: spkiOf(spec.publicKey), issuerKeyIdentifier, selfSigned }));
}

test('each default template renders to the extensions its profile writes (every key type)', () => {
  const profiles: ProfileName[] = ['root-ca', 'intermediate-ca', 'leaf', 'self-signed'];
  for (const profile of profiles) {
    const p = PROFILES[profile];
    for (const [keyType, { publicKey }] of Object.entries(keys)) {
      const subject = parseSubject('CN=Example Thing');
      const sans = p.ca ? [] : [{ type: 'dns' as const, value: 'web.example' }, { type: 'ip' as const, value: '192.0.2.1' }];
      const request = renderTemplate(getDefaultTemplate(profile), { subject, sans, publicKey });
      const fromTemplate = templateToSpec(request, { publicKey, now: NOW, backdateMs: p.backdateMs, lifetimeMs: p.defaultLifetimeMs, selfSigned: p.selfSigned });
      const fromProfile = specFromProfile(profile, { subject, publicKey, now: NOW, sans });
      assert.deepEqual(extensionsOf(fromTemplate, p.selfSigned), extensionsOf(fromProfile, p.selfSigned), `${profile} ${keyType}`);
      assert.deepEqual(fromTemplate.subject, fromProfile.subject, `${profile} ${keyType}`);
      assert.equal((fromTemplate.notBefore as Date).getTime(), (fromProfile.notBefore as Date).getTime());
      assert.equal((fromTemplate.notAfter as Date).getTime(), (fromProfile.notAfter as Date).getTime());
    }
  }
});

test('getDefaultTemplate: unknown profile is ERR_BAD_OPTION; the text form parses back', () => {
  assert.throws(() => getDefaultTemplate('server'), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'));
  for (const profile of ['root-ca', 'intermediate-ca', 'leaf', 'self-signed']) {
    const text = defaultTemplateText(profile);
    assert.deepEqual(parseTemplate(text).document, getDefaultTemplate(profile).document, profile);
  }
});

test('a chain issued from the default templates verifies with OpenSSL and shows the template data', () => {
  const tmp = tempDir();
  try {
    const rootKey = keys.EC as { privateKey: KeyObject; publicKey: KeyObject };
    const interKey = keys.RSA as { privateKey: KeyObject; publicKey: KeyObject };
    const leafKey = keys.Ed25519 as { privateKey: KeyObject; publicKey: KeyObject };

    const rootReq = renderTemplate(getDefaultTemplate('root-ca'), { subject: parseSubject('CN=Template Root,O=Example'), publicKey: rootKey.publicKey });
    const rootDer = issueCertificate(
      templateToSpec(rootReq, { publicKey: rootKey.publicKey, now: NOW, backdateMs: 60_000, lifetimeMs: 3650 * 86_400_000, selfSigned: true }),
      createSoftwareSigner(rootKey.privateKey),
    );

    const interReq = renderTemplate(getDefaultTemplate('intermediate-ca'), {
      subject: parseSubject('CN=Template Issuing CA,O=Example'),
      publicKey: interKey.publicKey,
      data: {
        maxPathLen: 0,
        crlDistributionPoints: 'http://crl.example/root.crl',
        issuingCertificateURL: ['http://ca.example/root.crt'],
        nameConstraints: { permittedDNSDomains: ['example'], excludedIPRanges: ['10.0.0.0/8'] },
        policies: ['1.3.6.1.4.1.55555.1.2'],
      },
    });
    const interDer = issueCertificate(
      templateToSpec(interReq, { publicKey: interKey.publicKey, now: NOW, backdateMs: 60_000, lifetimeMs: 1825 * 86_400_000 }),
      createSoftwareSigner(rootKey.privateKey),
      issuerFromCertificate(rootDer),
    );

    const leafReq = renderTemplate(getDefaultTemplate('leaf'), {
      subject: parseSubject('CN=web.example,O=Ignored By The Leaf Template'),
      sans: [{ type: 'dns', value: 'web.example' }, { type: 'dns', value: 'api.web.example' }],
      publicKey: leafKey.publicKey,
      data: { ocspServer: 'http://ocsp.example/', crlDistributionPoints: ['http://crl.example/issuing.crl'] },
    });
    const leafDer = issueCertificate(
      templateToSpec(leafReq, { publicKey: leafKey.publicKey, now: NOW, backdateMs: 60_000, lifetimeMs: 86_400_000 }),
      createSoftwareSigner(interKey.privateKey),
      issuerFromCertificate(interDer),
    );

    const file = (name: string, der: Uint8Array): string => {
      writeFileSync(tmp.path(name), encodePem('CERTIFICATE', der));
      return tmp.path(name);
    };
    const root = file('root.pem', rootDer);
    const inter = file('inter.pem', interDer);
    const leaf = file('leaf.pem', leafDer);

    const verified = opensslOk(['verify', '-attime', String(NOW.getTime() / 1000 + 3600), '-CAfile', root, '-untrusted', inter, leaf]);
    assert.match(verified, /leaf\.pem: OK/);

    const interText = opensslOk(['x509', '-noout', '-text', '-in', inter]);
    assert.match(interText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(interText, /X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    assert.match(interText, /Permitted:\s+DNS:example\s+Excluded:\s+IP:10\.0\.0\.0\/255\.0\.0\.0/);
    assert.match(interText, /URI:http:\/\/crl\.example\/root\.crl/);
    assert.match(interText, /CA Issuers - URI:http:\/\/ca\.example\/root\.crt/);
    assert.match(interText, /Policy: 1\.3\.6\.1\.4\.1\.55555\.1\.2/);

    const leafText = opensslOk(['x509', '-noout', '-text', '-nameopt', 'RFC2253', '-in', leaf]);
    assert.match(leafText, /Subject: CN=web\.example\n/);
    assert.match(leafText, /X509v3 Subject Alternative Name: \n\s+DNS:web\.example, DNS:api\.web\.example/);
    assert.match(leafText, /X509v3 Key Usage: critical\s+Digital Signature\n/); // Ed25519: no keyEncipherment
    assert.match(leafText, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(leafText, /OCSP - URI:http:\/\/ocsp\.example\//);
    assert.match(leafText, /URI:http:\/\/crl\.example\/issuing\.crl/);
    assert.match(leafText, /CA:FALSE/);
  } finally {
    tmp.cleanup();
  }
});

test('templateToSpec: validity precedence and resolution', () => {
  const { publicKey } = keys.EC as { publicKey: KeyObject };
  const spec = (doc: object, opts: Partial<Parameters<typeof templateToSpec>[1]> = {}): CertificateSpec =>
    templateToSpec(renderTemplate(templateFromDocument({ subject: { commonName: 'v' }, ...doc }), {}), { publicKey, now: NOW, lifetimeMs: 3_600_000, ...opts });
  const iso = (d: Date | Uint8Array): string => (d as Date).toISOString();

  let s = spec({});
  assert.equal(iso(s.notBefore), '2026-03-01T12:00:00.000Z');
  assert.equal(iso(s.notAfter), '2026-03-01T13:00:00.000Z');
  s = spec({}, { backdateMs: 60_000 });
  assert.equal(iso(s.notBefore), '2026-03-01T11:59:00.000Z');
  s = spec({ validity: { lifetime: '90d' } });
  assert.equal(iso(s.notAfter), '2026-05-30T12:00:00.000Z');
  s = spec({ validity: { notBefore: '-5m', lifetime: '1h' } });
  assert.equal(iso(s.notBefore), '2026-03-01T11:55:00.000Z');
  assert.equal(iso(s.notAfter), '2026-03-01T12:55:00.000Z');
  s = spec({ validity: { notBefore: '2026-04-01T00:00:00Z', notAfter: '2026-05-01T00:00:00Z' } });
  assert.equal(iso(s.notBefore), '2026-04-01T00:00:00.000Z');
  assert.equal(iso(s.notAfter), '2026-05-01T00:00:00.000Z');
  s = spec({}, { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-02-01T00:00:00Z') });
  assert.equal(iso(s.notAfter), '2026-02-01T00:00:00.000Z');

  // A lifetime past the last time a certificate can carry is named in words, not as an expanded year.
  assert.throws(
    () => spec({ validity: { lifetime: '9000y' } }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID') && e.message === '$.validity: notAfter is after 9999-12-31T23:59:59Z: certificate times must fall within the years 0001–9999',
  );
  assert.throws(() => spec({ validity: { notAfter: '-1h' } }), (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID') && e.message.startsWith('$.validity: ends'));
  assert.throws(
    () => templateToSpec(renderTemplate(templateFromDocument({ sans: ['a.example'] }), {}), { publicKey, now: NOW }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID') && /no validity/.test(e.message),
  );
  assert.throws(
    () => templateToSpec(renderTemplate(templateFromDocument({ subject: '{{ .Subject }}' }), {}), { publicKey, now: NOW, lifetimeMs: 1000 }),
    (e: unknown) => isSignetError(e, 'ERR_TEMPLATE_INVALID') && e.message.startsWith('$.subject: the subject is empty and there are no SANs'),
  );
});

test('templateToSpec: subject order, SAN criticality, name constraints, raw extensions', () => {
  const { publicKey } = keys.EC as { publicKey: KeyObject };
  const request = renderTemplate(
    templateFromDocument({
      subject: {
        commonName: 'web',
        organization: ['Example', 'Example Holding'],
        country: 'DE',
        domainComponent: ['example', 'org'],
        serialNumber: 'A-1',
        extraNames: [{ type: 'emailAddress', value: 'ops@example.org' }, { type: '2.5.4.12', value: 'Server' }],
      },
    }),
    {},
  );
  assert.equal(
    formatDistinguishedName(requestSubjectToName(request.subject)),
    'title=Server,emailAddress=ops@example.org,CN=web,serialNumber=A-1,O=Example Holding,O=Example,C=DE,DC=org,DC=example',
  );

  const empty = templateToSpec(renderTemplate(templateFromDocument({ sans: ['a.example'] }), {}), { publicKey, now: NOW, lifetimeMs: 1000 });
  assert.equal(empty.extensions?.subjectAltName?.critical, true); // RFC 5280 §4.2.1.6: empty subject
  const named = templateToSpec(renderTemplate(templateFromDocument({ subject: { commonName: 'a' }, sans: ['a.example'] }), {}), { publicKey, now: NOW, lifetimeMs: 1000 });
  assert.equal(named.extensions?.subjectAltName?.critical, false);

  const ca = templateToSpec(
    renderTemplate(
      templateFromDocument({
        subject: { commonName: 'CA' },
        basicConstraints: { isCA: true, maxPathLen: 2 },
        nameConstraints: { critical: false, permittedDNSDomains: ['.example.com'], permittedEmailAddresses: ['example.com'], excludedURIDomains: ['.evil.example'] },
        extensions: [{ id: '1.3.6.1.4.1.55555.9', critical: true, value: 'DAJoaQ==' }],
      }),
      {},
    ),
    { publicKey, now: NOW, lifetimeMs: 1000, selfSigned: true },
  );
  assert.deepEqual(ca.extensions?.basicConstraints, { ca: true, pathLen: 2, critical: true });
  assert.deepEqual(ca.extensions?.nameConstraints, {
    permitted: [{ type: 'dns', value: '.example.com' }, { type: 'email', value: 'example.com' }],
    excluded: [{ type: 'uri', value: '.evil.example' }],
    critical: false,
  });
  assert.equal(ca.extensions?.authorityKeyIdentifier, false);
  assert.deepEqual(ca.extensions?.extra, [{ oid: '1.3.6.1.4.1.55555.9', critical: true, value: Uint8Array.of(0x0c, 0x02, 0x68, 0x69) }]);
});
