/**
 * Every lint rule against at least one certificate that passes it and one that fails it
 * (ISSUE "Done means"). A passing certificate must also be one the rule *applies* to, so a pass
 * is never just "not applicable". A final test checks that the table covers every rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ecdsaAlgorithm, rsaPssAlgorithm } from '../../src/crypto/signature.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { issueCertificate } from '../../src/x509/certificate-builder.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import { NULL, bitString, generalizedTime, implicitConstructed, implicitPrimitive, integer, octetString, sequence } from '../../src/x509/der.js';
import { encodeGeneralName, encodeGeneralNames, rawGeneralName, type GeneralName } from '../../src/x509/general-name.js';
import { encodeName } from '../../src/x509/name.js';
import { OID } from '../../src/x509/oids.js';
import { LINT_RULES, lintCertificate, type LintOptions } from '../../src/x509/lint/index.js';
import {
  CA_SIGNER,
  KEYS,
  NOW,
  RSA_SIGNER,
  algId,
  intermediateSpec,
  issued,
  leafSpec,
  patched,
  rawSpki,
  rootSpec,
  rsaSpki,
  selfSigned,
  signerWithIdentifier,
  svidSpec,
  textTlv,
} from './builders.js';

type Build = () => Certificate;

interface Case {
  readonly rule: string;
  readonly good: Build | readonly Build[];
  readonly bad: Build | readonly Build[];
  readonly goodOptions?: LintOptions;
  readonly badOptions?: LintOptions;
}

const DAY = 86_400_000;
const root: Build = () => selfSigned(rootSpec());
const leaf: Build = () => issued(leafSpec());
const svid: Build = () => issued(svidSpec());
const leafWith = (ext: Parameters<typeof leafSpec>[0], over: Parameters<typeof leafSpec>[1] = {}): Build => () => issued(leafSpec(ext, over));
const rootWith = (ext: Parameters<typeof rootSpec>[0], over: Parameters<typeof rootSpec>[1] = {}): Build => () => selfSigned(rootSpec(ext, over));
const intermediateWith = (ext: Parameters<typeof rootSpec>[0], over: Parameters<typeof rootSpec>[1] = {}): Build => () => issued(intermediateSpec(ext, over));
const sanLeaf = (...names: GeneralName[]): Build => leafWith({ subjectAltName: { names } });
const svidWith = (ext: Parameters<typeof svidSpec>[0], over: Parameters<typeof svidSpec>[1] = {}): Build => () => issued(svidSpec(ext, over));
const spiffeLeaf = (...uris: string[]): Build => svidWith({ subjectAltName: { names: uris.map((value) => ({ type: 'uri' as const, value })), critical: true } });
const spiffeCa = (uri: string, ext: Parameters<typeof rootSpec>[0] = {}, ...more: string[]): Build =>
  intermediateWith({ subjectAltName: { names: [uri, ...more].map((value) => ({ type: 'uri' as const, value })) }, ...ext });
const ncRoot = (permitted: GeneralName[], excluded: GeneralName[] = []): Build => rootWith({ nameConstraints: { permitted, excluded } });
const rawExt = (o: string, value: Uint8Array, critical = false) => ({ oid: o, value, critical });
/** A TBS-field patch: index of the first field after the version. */
const V = 1;

const CASES: readonly Case[] = [
  // -- TBS fields
  { rule: 'e_version_not_v3_with_extensions', good: leaf, bad: () => issued(leafSpec({}, { version: 1 })) },
  { rule: 'w_version_not_v3', good: () => issued({ ...leafSpec(), extensions: undefined }), bad: () => issued({ ...leafSpec(), extensions: undefined, version: 1 }) },
  { rule: 'e_serial_not_positive', good: leaf, bad: [() => issued(leafSpec({}, { serialNumber: -1234567890123n })), () => issued(leafSpec({}, { serialNumber: 0n }))] },
  {
    rule: 'e_serial_too_long',
    good: () => issued(leafSpec({}, { serialNumber: new Uint8Array(20).fill(0x7f) })),
    bad: () => issued(leafSpec({}, { serialNumber: new Uint8Array(20).fill(0x80) })),
  },
  {
    rule: 'e_serial_not_minimally_encoded',
    good: leaf,
    bad: [
      () => patched(leafSpec(), (f) => f.map((x, i) => (i === V ? Uint8Array.of(0x02, 0x09, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0) : x))),
      () => patched(leafSpec(), (f) => f.map((x, i) => (i === V ? Uint8Array.of(0x02, 0x03, 0xff, 0x80, 0x01) : x))),
    ],
  },
  { rule: 'w_serial_low_entropy', good: leaf, bad: () => issued(leafSpec({}, { serialNumber: Uint8Array.of(0x10, 0x01) })) },
  {
    rule: 'e_signature_algorithm_mismatch',
    good: leaf,
    // The TBS says ecdsa-with-SHA256, the outer AlgorithmIdentifier ecdsa-with-SHA384.
    bad: () => {
      const c = leaf();
      return parseCertificate(sequence([c.tbs, ecdsaAlgorithm('sha384').identifier, bitString(c.signatureValue)]));
    },
  },
  { rule: 'e_validity_negative', good: leaf, bad: leafWith({}, { notBefore: new Date(NOW.getTime() + DAY), notAfter: NOW }) },
  {
    rule: 'e_validity_time_wrong_type',
    good: rootWith({}, { notAfter: new Date('2051-06-01T00:00:00Z') }),
    bad: leafWith({}, { notAfter: generalizedTime(new Date(NOW.getTime() + 30 * DAY)) }),
  },
  {
    rule: 'e_validity_time_format',
    good: leaf,
    bad: [
      leafWith({}, { notAfter: textTlv(0x17, '3001010000Z') }),
      leafWith({}, { notAfter: textTlv(0x17, '300101000000+0100') }),
      rootWith({}, { notAfter: textTlv(0x18, '20600101000000.5Z') }),
    ],
  },
  { rule: 'w_leaf_validity_too_long', good: leafWith({}, { notAfter: new Date(NOW.getTime() - 3_600_000 + 398 * DAY - 1000) }), bad: leafWith({}, { notAfter: new Date(NOW.getTime() + 400 * DAY) }) },
  { rule: 'n_validity_expired', good: leaf, bad: leaf, badOptions: { now: new Date(NOW.getTime() + 365 * DAY) } },
  { rule: 'e_issuer_name_empty', good: leaf, bad: () => parseCertificate(issueCertificate(leafSpec(), CA_SIGNER, { name: encodeName([]), keyIdentifier: Uint8Array.of(1, 2, 3, 4) })) },
  { rule: 'e_ca_subject_empty', good: root, bad: intermediateWith({ subjectAltName: { names: [{ type: 'dns', value: 'ca.example.com' }], critical: true } }, { subject: [] }) },
  { rule: 'e_subject_empty_without_san', good: svid, bad: svidWith({ subjectAltName: undefined }) },
  { rule: 'e_subject_empty_san_not_critical', good: svid, bad: svidWith({ subjectAltName: { names: [{ type: 'uri', value: 'spiffe://example.org/web' }], critical: false } }) },
  { rule: 'w_san_critical_with_subject', good: leaf, bad: leafWith({ subjectAltName: { names: [{ type: 'dns', value: 'www.example.com' }], critical: true } }) },
  {
    rule: 'e_unique_identifier_present',
    good: leaf,
    bad: [
      () => patched(leafSpec(), (f) => [...f.slice(0, 7), Uint8Array.of(0x81, 0x02, 0x00, 0x42), ...f.slice(7)]),
      () => patched(leafSpec(), (f) => [...f.slice(0, 7), Uint8Array.of(0x82, 0x02, 0x00, 0x42), ...f.slice(7)]),
    ],
  },
  {
    rule: 'e_subject_country_invalid',
    good: rootWith({}, { subject: [[{ type: 'C', value: 'DE' }], [{ type: 'CN', value: 'Lint Root' }]] }),
    bad: [
      rootWith({}, { subject: [[{ type: 'C', value: 'Germany' }], [{ type: 'CN', value: 'Lint Root' }]] }),
      rootWith({}, { subject: [[{ type: 'C', value: 'DE', encoding: 'utf8' }], [{ type: 'CN', value: 'Lint Root' }]] }),
      rootWith({}, { subject: [[{ type: 'C', value: 'de' }], [{ type: 'CN', value: 'Lint Root' }]] }),
    ],
  },
  { rule: 'e_subject_common_name_too_long', good: leaf, bad: leafWith({}, { subject: [[{ type: 'CN', value: 'x'.repeat(65) }]] }) },

  // -- keys and signature algorithms
  {
    rule: 'e_public_key_algorithm_not_allowed',
    good: [leaf, leafWith({}, { publicKey: KEYS.ed25519.publicKey }), leafWith({ keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }, { publicKey: KEYS.rsa2048.publicKey })],
    bad: leafWith({ subjectKeyIdentifier: Uint8Array.of(1, 2, 3) }, { publicKey: rawSpki(algId(OID.dsa), integer(12345)) }),
  },
  { rule: 'e_public_key_invalid', good: leaf, bad: leafWith({ subjectKeyIdentifier: Uint8Array.of(1, 2, 3) }, { publicKey: rawSpki(algId(OID.rsaEncryption, NULL), Uint8Array.of(1, 2, 3)) }) },
  {
    rule: 'e_rsa_key_too_small',
    good: leafWith({ keyUsage: { usages: ['digitalSignature'] } }, { publicKey: KEYS.rsa2048.publicKey }),
    bad: leafWith({ keyUsage: { usages: ['digitalSignature'] } }, { publicKey: KEYS.rsa1024.publicKey }),
  },
  { rule: 'e_rsa_exponent_invalid', good: leafWith({}, { publicKey: rsaSpki(65537n) }), bad: [leafWith({}, { publicKey: rsaSpki(65536n) }), leafWith({}, { publicKey: rsaSpki(1n) })] },
  { rule: 'w_rsa_exponent_not_65537', good: leafWith({}, { publicKey: rsaSpki(65537n) }), bad: leafWith({}, { publicKey: rsaSpki(3n) }) },
  { rule: 'e_ec_curve_not_allowed', good: leaf, bad: [leafWith({}, { publicKey: KEYS.secp256k1.publicKey }), leafWith({ subjectKeyIdentifier: Uint8Array.of(1) }, { publicKey: rawSpki(algId(OID.idEcPublicKey, NULL), Uint8Array.of(4, 1, 2)) })] },
  {
    rule: 'e_signature_algorithm_weak',
    good: leaf,
    bad: [
      () => issued(leafSpec(), signerWithIdentifier(CA_SIGNER, { identifier: algId(OID.ecdsaWithSHA1), hash: 'sha1' })),
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), signerWithIdentifier(RSA_SIGNER, { identifier: algId(OID.sha1WithRSAEncryption, NULL), hash: 'sha1' })),
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), signerWithIdentifier(RSA_SIGNER, { identifier: algId(OID.md5WithRSAEncryption, NULL) })),
    ],
  },
  { rule: 'w_signature_algorithm_unknown', good: [leaf, () => selfSigned(rootSpec({}, { publicKey: KEYS.ed25519.publicKey }), createEdSigner())], bad: () => issued(leafSpec(), signerWithIdentifier(CA_SIGNER, { identifier: algId('1.2.3.4.5') })) },
  {
    rule: 'e_signature_algorithm_parameters',
    good: [leaf, () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), RSA_SIGNER)],
    bad: [
      () => issued(leafSpec(), signerWithIdentifier(CA_SIGNER, { identifier: algId(OID.ecdsaWithSHA256, NULL) })),
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), signerWithIdentifier(RSA_SIGNER, { identifier: algId(OID.sha256WithRSAEncryption) })),
    ],
  },
  {
    rule: 'e_rsa_pss_parameters',
    good: () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), pssSigner(rsaPssAlgorithm('sha256').identifier, 32)),
    bad: [
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), pssSigner(algId(OID.rsassaPss), 20)),
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), pssSigner(pssParams(OID.sha256, OID.sha256, 20), 20)),
      () => selfSigned(rootSpec({}, { publicKey: KEYS.rsa2048.publicKey }), pssSigner(pssParams(OID.sha256, OID.sha1, 32), 32)),
    ],
  },

  // -- extensions
  { rule: 'e_profile_mismatch', good: [leaf, svid], goodOptions: { profile: 'leaf' }, bad: [root, () => selfSigned({ ...leafSpec({ authorityKeyIdentifier: false }), publicKey: KEYS.ca.publicKey })], badOptions: { profile: 'leaf' } },
  { rule: 'e_extension_duplicate', good: leaf, bad: leafWith({ extra: [rawExt(OID.subjectAltName, encodeGeneralNames([{ type: 'dns', value: 'evil.example.com' }]))] }) },
  { rule: 'w_extension_unknown_critical', good: leafWith({ extra: [rawExt('1.3.6.1.4.1.99999.1', Uint8Array.of(5, 0))] }), bad: leafWith({ extra: [rawExt('1.3.6.1.4.1.99999.1', Uint8Array.of(5, 0), true)] }) },
  { rule: 'e_extension_undecodable', good: leaf, bad: leafWith({ extra: [rawExt(OID.basicConstraints, Uint8Array.of(0x30, 0x03, 0x02, 0x01), true)] }) },
  { rule: 'e_aki_missing', good: leaf, bad: leafWith({ authorityKeyIdentifier: false }) },
  {
    rule: 'e_aki_key_identifier_missing',
    good: leaf,
    bad: leafWith({ authorityKeyIdentifier: false, extra: [rawExt(OID.authorityKeyIdentifier, sequence([implicitConstructed(1, encodeGeneralName({ type: 'dns', value: 'ca.example.com' })), implicitPrimitive(2, Uint8Array.of(1))]))] }),
  },
  { rule: 'e_aki_critical', good: leaf, bad: leafWith({ authorityKeyIdentifier: false, extra: [rawExt(OID.authorityKeyIdentifier, sequence([implicitPrimitive(0, Uint8Array.of(1, 2, 3))]), true)] }) },
  { rule: 'e_ca_ski_missing', good: root, bad: rootWith({ subjectKeyIdentifier: false }) },
  { rule: 'w_leaf_ski_missing', good: leaf, bad: leafWith({ subjectKeyIdentifier: false }) },
  { rule: 'e_ski_critical', good: leaf, bad: leafWith({ subjectKeyIdentifier: false, extra: [rawExt(OID.subjectKeyIdentifier, octetString(Uint8Array.of(1, 2, 3, 4)), true)] }) },
  { rule: 'e_ca_basic_constraints_missing', good: root, bad: rootWith({ basicConstraints: undefined }) },
  { rule: 'e_ca_basic_constraints_not_critical', good: root, bad: rootWith({ basicConstraints: { ca: true, critical: false } }) },
  {
    rule: 'e_path_len_constraint_misplaced',
    good: rootWith({ basicConstraints: { ca: true, pathLen: 1 } }),
    bad: [leafWith({ basicConstraints: { ca: false, pathLen: 0 } }), rootWith({ basicConstraints: { ca: true, pathLen: 0 }, keyUsage: { usages: ['cRLSign'] } })],
  },
  { rule: 'e_ca_key_usage_missing', good: root, bad: rootWith({ keyUsage: undefined }) },
  { rule: 'e_ca_key_cert_sign_missing', good: root, bad: rootWith({ keyUsage: { usages: ['cRLSign', 'digitalSignature'] } }) },
  { rule: 'w_key_usage_not_critical', good: leaf, bad: leafWith({ keyUsage: { usages: ['digitalSignature'], critical: false } }) },
  { rule: 'e_key_usage_empty', good: leaf, bad: leafWith({ keyUsage: { usages: [] } }) },
  { rule: 'e_key_cert_sign_without_ca', good: root, bad: [leafWith({ keyUsage: { usages: ['digitalSignature', 'keyCertSign'] } }), leafWith({ basicConstraints: { ca: false }, keyUsage: { usages: ['keyCertSign'] } })] },
  {
    rule: 'e_key_usage_incompatible_with_key',
    good: [leaf, leafWith({ keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }, { publicKey: KEYS.rsa2048.publicKey }), leafWith({}, { publicKey: KEYS.ed25519.publicKey })],
    bad: [
      leafWith({ keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }),
      leafWith({ keyUsage: { usages: ['digitalSignature', 'dataEncipherment'] } }),
      leafWith({ keyUsage: { usages: ['digitalSignature', 'keyAgreement'] } }, { publicKey: KEYS.ed25519.publicKey }),
      leafWith({ keyUsage: { usages: ['digitalSignature', 'keyAgreement'] } }, { publicKey: KEYS.rsa2048.publicKey }),
    ],
  },
  {
    rule: 'w_rsa_leaf_key_usage',
    good: leafWith({ keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }, { publicKey: KEYS.rsa2048.publicKey }),
    bad: leafWith({ keyUsage: { usages: ['nonRepudiation'] }, extKeyUsage: undefined }, { publicKey: KEYS.rsa2048.publicKey }),
  },
  { rule: 'w_key_usage_encipher_decipher_only', good: leafWith({ keyUsage: { usages: ['keyAgreement', 'encipherOnly'] }, extKeyUsage: undefined }), bad: leafWith({ keyUsage: { usages: ['digitalSignature', 'decipherOnly'] } }) },
  {
    rule: 'e_eku_key_usage_inconsistent',
    good: [leaf, leafWith({ keyUsage: { usages: ['keyAgreement'] }, extKeyUsage: { usages: ['serverAuth', 'clientAuth'] } })],
    bad: [leafWith({ keyUsage: { usages: ['nonRepudiation'] }, extKeyUsage: { usages: ['serverAuth'] } }), leafWith({ keyUsage: { usages: ['keyAgreement'] }, extKeyUsage: { usages: ['codeSigning'] } })],
  },
  { rule: 'w_leaf_any_eku', good: leaf, bad: leafWith({ extKeyUsage: { usages: ['anyExtendedKeyUsage'] } }) },
  { rule: 'w_leaf_eku_critical', good: leaf, bad: leafWith({ extKeyUsage: { usages: ['serverAuth'], critical: true } }) },
  { rule: 'n_ca_eku_present', good: root, bad: rootWith({ extKeyUsage: { usages: ['serverAuth'] } }) },
  { rule: 'e_name_constraints_in_leaf', good: ncRoot([{ type: 'dns', value: 'example.com' }]), bad: leafWith({ nameConstraints: { permitted: [{ type: 'dns', value: 'example.com' }] } }) },
  {
    rule: 'e_name_constraints_not_critical',
    good: ncRoot([{ type: 'dns', value: 'example.com' }]),
    bad: rootWith({ nameConstraints: { permitted: [{ type: 'dns', value: 'example.com' }], critical: false } }),
  },
  { rule: 'e_name_constraints_empty', good: ncRoot([], [{ type: 'ip', value: '10.0.0.0/8' }]), bad: ncRoot([], []) },
  {
    rule: 'e_name_constraints_min_max',
    good: ncRoot([{ type: 'dns', value: 'example.com' }]),
    bad: [
      rootWith({ extra: [rawExt(OID.nameConstraints, sequence([implicitConstructed(0, sequence([encodeGeneralName({ type: 'dns', value: 'example.com' }), implicitPrimitive(1, Uint8Array.of(2))]))]), true)] }),
      rootWith({ extra: [rawExt(OID.nameConstraints, sequence([implicitConstructed(1, sequence([encodeGeneralName({ type: 'dns', value: 'example.com' }), implicitPrimitive(0, Uint8Array.of(1))]))]), true)] }),
    ],
  },
  {
    rule: 'e_name_constraints_ip_invalid',
    good: ncRoot([{ type: 'ip', value: '10.0.0.0/8' }, { type: 'ip', value: 'fd00::/8' }], [{ type: 'ip', value: '10.1.0.0/255.255.0.0' }]),
    bad: [ncRoot([{ type: 'ip', value: '10.0.0.0/255.0.255.0' }]), ncRoot([rawGeneralName(7, Uint8Array.of(10, 0, 0, 0, 255))])],
  },
  {
    rule: 'e_name_constraints_dns_invalid',
    good: ncRoot([{ type: 'dns', value: 'example.com' }, { type: 'dns', value: '.corp.example' }]),
    bad: [ncRoot([{ type: 'dns', value: '*.example.com' }]), ncRoot([{ type: 'dns', value: 'exa mple.com' }]), ncRoot([{ type: 'dns', value: '' }])],
  },
  {
    rule: 'e_name_constraints_email_invalid',
    good: ncRoot([{ type: 'email', value: 'ops@example.com' }, { type: 'email', value: 'example.com' }, { type: 'email', value: '.example.com' }]),
    bad: [ncRoot([{ type: 'email', value: 'ops@@example.com' }]), ncRoot([{ type: 'email', value: 'exa_mple..com' }])],
  },
  {
    rule: 'e_name_constraints_uri_invalid',
    good: ncRoot([{ type: 'uri', value: '.example.com' }, { type: 'uri', value: 'host.example.com' }]),
    bad: ncRoot([{ type: 'uri', value: 'https://example.com/' }]),
  },
  {
    rule: 'e_crl_distribution_point_invalid',
    good: leafWith({ crlDistributionPoints: ['http://crl.example.com/root.crl', 'ldap://ldap.example.com/cn=Root?certificateRevocationList'] }),
    bad: [leafWith({ crlDistributionPoints: ['ftp://crl.example.com/root.crl'] }), leafWith({ crlDistributionPoints: ['crl.example.com/root.crl'] }), leafWith({ crlDistributionPoints: ['http://exa mple.com/x.crl'] })],
  },
  {
    rule: 'e_aia_invalid',
    good: leafWith({ authorityInfoAccess: { ocsp: ['http://ocsp.example.com'], caIssuers: ['https://ca.example.com/root.crt'] } }),
    bad: [leafWith({ authorityInfoAccess: { ocsp: ['ldap://ocsp.example.com'] } }), leafWith({ authorityInfoAccess: { caIssuers: ['http://'] } })],
  },

  // -- names
  { rule: 'w_leaf_san_missing', good: leaf, bad: leafWith({ subjectAltName: undefined }) },
  { rule: 'e_san_empty', good: leaf, bad: leafWith({ subjectAltName: { names: [] } }) },
  {
    rule: 'e_san_dns_name_invalid',
    good: sanLeaf({ type: 'dns', value: 'www.example.com' }, { type: 'dns', value: '*.example.com' }, { type: 'dns', value: 'xn--bcher-kva.example' }, { type: 'dns', value: 'a-b.c' }),
    bad: [
      sanLeaf({ type: 'dns', value: 'www..example.com' }),
      sanLeaf({ type: 'dns', value: 'www.example.com.' }),
      sanLeaf({ type: 'dns', value: 'w*.example.com' }),
      sanLeaf({ type: 'dns', value: 'foo.*.example.com' }),
      sanLeaf({ type: 'dns', value: '*.*.example.com' }),
      sanLeaf({ type: 'dns', value: '-www.example.com' }),
      sanLeaf({ type: 'dns', value: `${'a'.repeat(64)}.example.com` }),
      sanLeaf({ type: 'dns', value: `${'abcdefghi.'.repeat(25)}example.com` }),
      sanLeaf({ type: 'dns', value: 'exa mple.com' }),
      sanLeaf({ type: 'dns', value: '*' }),
      sanLeaf(rawGeneralName(2, new Uint8Array(Buffer.from('bücher.example', 'latin1')))),
    ],
  },
  { rule: 'w_san_dns_wildcard_over_tld', good: sanLeaf({ type: 'dns', value: '*.example.com' }), bad: sanLeaf({ type: 'dns', value: '*.com' }) },
  { rule: 'w_san_dns_name_underscore', good: leaf, bad: sanLeaf({ type: 'dns', value: '_acme-challenge.example.com' }) },
  { rule: 'e_san_ip_length_invalid', good: sanLeaf({ type: 'ip', value: '192.0.2.1' }, { type: 'ip', value: '2001:db8::1' }), bad: [sanLeaf(rawGeneralName(7, Uint8Array.of(10, 0, 0, 0, 1))), sanLeaf(rawGeneralName(7, new Uint8Array(0)))] },
  {
    rule: 'e_san_email_invalid',
    good: sanLeaf({ type: 'email', value: 'ops@example.com' }, { type: 'email', value: 'first.last+tag@mail.example.com' }, { type: 'email', value: '"john doe"@example.com' }),
    bad: [
      sanLeaf({ type: 'email', value: 'ops' }),
      sanLeaf({ type: 'email', value: 'ops@' }),
      sanLeaf({ type: 'email', value: 'Ops <ops@example.com>' }),
      sanLeaf({ type: 'email', value: 'a@b@example.com' }),
      sanLeaf({ type: 'email', value: 'ops@exa mple.com' }),
      sanLeaf({ type: 'email', value: '.ops@example.com' }),
    ],
  },
  {
    rule: 'e_san_uri_invalid',
    good: sanLeaf({ type: 'uri', value: 'https://www.example.com/x?y=1#z' }, { type: 'uri', value: 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6' }, { type: 'uri', value: 'mailto:ops@example.com' }),
    bad: [
      sanLeaf({ type: 'uri', value: 'www.example.com/path' }),
      sanLeaf({ type: 'uri', value: 'http://exa mple.com/' }),
      sanLeaf({ type: 'uri', value: 'http:' }),
      sanLeaf({ type: 'uri', value: 'http://www.example.com/%zz' }),
      sanLeaf({ type: 'uri', value: 'https:///path' }),
    ],
  },
  {
    rule: 'w_subject_cn_not_in_san',
    good: [leaf, leafWith({ subjectAltName: { names: [{ type: 'ip', value: '2001:db8::1' }] } }, { subject: [[{ type: 'CN', value: '2001:0db8:0:0:0:0:0:1' }]] })],
    bad: leafWith({}, { subject: [[{ type: 'CN', value: 'other.example.com' }]] }),
  },

  // -- SPIFFE X509-SVID
  { rule: 'e_spiffe_uri_san_count', good: svid, bad: spiffeLeaf('spiffe://example.org/web', 'https://www.example.com/') },
  {
    rule: 'e_spiffe_id_invalid',
    good: [svid, spiffeLeaf('spiffe://staging.example-1.org/a_b/c.d/e-f')],
    bad: [
      spiffeLeaf('spiffe://Example.org/web'),
      spiffeLeaf('spiffe://example.org/a//b'),
      spiffeLeaf('spiffe://example.org:8443/web'),
      spiffeLeaf('spiffe://user@example.org/web'),
      spiffeLeaf('spiffe://example.org/web/'),
      spiffeLeaf('spiffe://example.org/web?x=1'),
      spiffeLeaf('spiffe://example.org/web#f'),
      spiffeLeaf('spiffe://example.org/a/../b'),
      spiffeLeaf('spiffe://example.org/a%20b'),
      spiffeLeaf('spiffe:///web'),
      spiffeLeaf('SPIFFE://example.org/web'),
      spiffeLeaf(`spiffe://example.org/${'a'.repeat(2040)}`),
    ],
  },
  { rule: 'e_spiffe_leaf_path_missing', good: svid, bad: spiffeLeaf('spiffe://example.org') },
  { rule: 'w_spiffe_ca_not_svid', good: spiffeCa('spiffe://example.org'), bad: [spiffeCa('spiffe://a.example.org', {}, 'spiffe://b.example.org'), spiffeCa('spiffe://example.org', {}, 'https://www.example.com/')] },
  { rule: 'e_spiffe_ca_id_has_path', good: [spiffeCa('spiffe://example.org'), spiffeCa('spiffe://a.example.org', {}, 'spiffe://b.example.org')], bad: [spiffeCa('spiffe://example.org/ca'), spiffeCa('spiffe://a.example.org', {}, 'spiffe://b.example.org/ca')] },
  { rule: 'e_spiffe_key_usage_not_critical', good: svid, bad: [svidWith({ keyUsage: { usages: ['digitalSignature'], critical: false } }), svidWith({ keyUsage: undefined })] },
  { rule: 'e_spiffe_leaf_key_usage', good: svid, bad: [svidWith({ keyUsage: { usages: ['keyAgreement'] } }), svidWith({ keyUsage: { usages: ['digitalSignature', 'cRLSign'] } })] },
  { rule: 'e_spiffe_ca_key_cert_sign_missing', good: spiffeCa('spiffe://example.org'), bad: spiffeCa('spiffe://example.org', { keyUsage: { usages: ['cRLSign', 'digitalSignature'] } }) },
  { rule: 'e_spiffe_leaf_eku', good: svid, bad: [svidWith({ extKeyUsage: { usages: ['clientAuth'] } }), svidWith({ extKeyUsage: { usages: ['serverAuth', 'codeSigning'] } })] },
  { rule: 'w_spiffe_leaf_eku_missing', good: svid, bad: svidWith({ extKeyUsage: undefined }) },
];

function createEdSigner() {
  return createSoftwareSigner(KEYS.ed25519.privateKey);
}

/** RSASSA-PSS-params with the given hash, MGF1 hash and salt length. */
function pssParams(hash: string, mgfHash: string, salt: number): Uint8Array {
  const h = algId(hash, NULL);
  const m = algId(OID.mgf1, algId(mgfHash, NULL));
  return algId(OID.rsassaPss, sequence([implicitConstructed(0, h), implicitConstructed(1, m), implicitConstructed(2, integer(salt))]));
}

function pssSigner(identifier: Uint8Array, saltLength: number) {
  return signerWithIdentifier(RSA_SIGNER, { identifier, hash: 'sha256', pssSaltLength: saltLength, name: 'rsassaPss', oid: OID.rsassaPss });
}

const asList = (b: Build | readonly Build[]): readonly Build[] => (typeof b === 'function' ? [b] : b);

for (const c of CASES) {
  test(`${c.rule}: passes good certificates, fails bad ones`, () => {
    asList(c.good).forEach((build, i) => {
      const report = lintCertificate(build(), { now: NOW, ...c.goodOptions });
      assert.ok(report.checked.includes(c.rule), `good #${i}: ${c.rule} did not apply (profile ${report.profile})`);
      const hits = report.findings.filter((f) => f.rule === c.rule);
      assert.deepEqual(hits, [], `good #${i} was flagged`);
    });
    asList(c.bad).forEach((build, i) => {
      const report = lintCertificate(build(), { now: NOW, ...c.badOptions });
      const hits = report.findings.filter((f) => f.rule === c.rule);
      assert.ok(hits.length > 0, `bad #${i} was not flagged by ${c.rule}; findings: ${JSON.stringify(report.findings.map((f) => f.rule))}`);
      const rule = LINT_RULES.find((r) => r.id === c.rule);
      for (const h of hits) {
        assert.equal(h.severity, rule?.severity);
        assert.equal(h.source, rule?.source);
        // Lower-case unless the first word is an acronym or proper noun (RSA, DNS, X509-SVID).
        assert.match(h.message, /^(?:[^A-Z\n]|[A-Z][A-Za-z]*[A-Z0-9])/, 'messages start lower-case');
      }
    });
  });
}

test('the table covers every rule', () => {
  const covered = new Set(CASES.map((c) => c.rule));
  const missing = LINT_RULES.map((r) => r.id).filter((id) => !covered.has(id));
  assert.deepEqual(missing, []);
  const unknown = [...covered].filter((id) => !LINT_RULES.some((r) => r.id === id));
  assert.deepEqual(unknown, []);
});

test('the clean fixtures have no findings at all', () => {
  for (const [name, build] of [
    ['root', root],
    ['intermediate', intermediateWith({})],
    ['leaf', leaf],
    ['svid', svid],
  ] as const) {
    const report = lintCertificate(build(), { now: NOW });
    assert.deepEqual(report.findings, [], `${name}: ${JSON.stringify(report.findings)}`);
  }
});
