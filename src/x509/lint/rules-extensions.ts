/**
 * Rules on extensions (RFC 5280 §4.2): presence and criticality of the ones a profile needs, the
 * consistency of basicConstraints, keyUsage and extKeyUsage with each other, with the key and
 * with the certificate's role, name constraints, and the URLs of CRL distribution points and AIA.
 */
import { maskPrefixLength } from '../decode-names.js';
import type { Certificate, KeyUsageName } from '../certificate.js';
import { OID } from '../oids.js';
import { readRawNameConstraints, type RawGeneralName, type RawNameConstraints } from './raw-names.js';
import { defineRule, findExtension, hasExtension, hasKeyUsage, perCertificate, unless } from './rule-kit.js';
import { dnsNameProblem, emailProblem, urlProblem } from './syntax.js';
import type { LintContext, LintRule } from './types.js';

/** Extensions this linter (and Signet's path validation) understands; others must not be critical. */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.issuerAltName,
  OID.basicConstraints,
  OID.nameConstraints,
  OID.cRLDistributionPoints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.authorityKeyIdentifier,
  OID.policyConstraints,
  OID.extKeyUsage,
  OID.freshestCRL,
  OID.inhibitAnyPolicy,
  OID.authorityInfoAccess,
  OID.subjectInfoAccess,
  OID.ctPrecertificatePoison,
  OID.ctSignedCertificateTimestampList,
  OID.ocspNoCheck,
]);

/**
 * Key usage bits that are consistent with each extended key usage (RFC 5280 §4.2.1.12); a leaf
 * must assert at least one of them for every listed purpose it also has in extKeyUsage.
 */
const EKU_CONSISTENT_KU: ReadonlyMap<string, readonly KeyUsageName[]> = new Map([
  [OID.serverAuth, ['digitalSignature', 'keyEncipherment', 'keyAgreement']],
  [OID.clientAuth, ['digitalSignature', 'keyAgreement']],
  [OID.codeSigning, ['digitalSignature']],
  [OID.emailProtection, ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'keyAgreement']],
  [OID.timeStamping, ['digitalSignature', 'nonRepudiation']],
  [OID.OCSPSigning, ['digitalSignature', 'nonRepudiation']],
] as [string, readonly KeyUsageName[]][]);

const EKU_NAMES: ReadonlyMap<string, string> = new Map([
  [OID.serverAuth, 'serverAuth'],
  [OID.clientAuth, 'clientAuth'],
  [OID.codeSigning, 'codeSigning'],
  [OID.emailProtection, 'emailProtection'],
  [OID.timeStamping, 'timeStamping'],
  [OID.OCSPSigning, 'OCSPSigning'],
]);

/**
 * Key usages each key type may carry: RFC 3279 §2.3.1 (RSA), RFC 4055 §1.2 (RSASSA-PSS keys:
 * signatures only), RFC 5480 §3 (EC: never keyEncipherment or dataEncipherment), RFC 8410 §5
 * (Ed25519/Ed448: signature bits only; X25519/X448: keyAgreement and its modifiers only).
 */
const ALLOWED_KU: ReadonlyMap<string, { readonly name: string; readonly usages: ReadonlySet<KeyUsageName>; readonly source: string }> = new Map([
  [OID.rsaEncryption, { name: 'RSA', usages: new Set<KeyUsageName>(['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyCertSign', 'cRLSign']), source: 'RFC 3279 §2.3.1' }],
  [OID.rsassaPss, { name: 'RSASSA-PSS', usages: new Set<KeyUsageName>(['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign']), source: 'RFC 4055 §1.2' }],
  [OID.idEcPublicKey, { name: 'EC', usages: new Set<KeyUsageName>(['digitalSignature', 'nonRepudiation', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']), source: 'RFC 5480 §3' }],
  [OID.idEd25519, { name: 'Ed25519', usages: new Set<KeyUsageName>(['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign']), source: 'RFC 8410 §5' }],
  [OID.idEd448, { name: 'Ed448', usages: new Set<KeyUsageName>(['digitalSignature', 'nonRepudiation', 'keyCertSign', 'cRLSign']), source: 'RFC 8410 §5' }],
  [OID.idX25519, { name: 'X25519', usages: new Set<KeyUsageName>(['keyAgreement', 'encipherOnly', 'decipherOnly']), source: 'RFC 8410 §5' }],
  [OID.idX448, { name: 'X448', usages: new Set<KeyUsageName>(['keyAgreement', 'encipherOnly', 'decipherOnly']), source: 'RFC 8410 §5' }],
]);

/** URL schemes allowed for CRL distribution points and caIssuers (RFC 5280 §4.2.1.13, §4.2.2.1)… */
const HTTP_OR_LDAP: readonly string[] = ['http', 'https', 'ldap'];
/** …and for OCSP responders (RFC 5280 §4.2.2.1). */
const HTTP_ONLY: readonly string[] = ['http', 'https'];

function isRsa(cert: Certificate): boolean {
  return cert.publicKeyAlgorithm.oid === OID.rsaEncryption || cert.publicKeyAlgorithm.oid === OID.rsassaPss;
}

function isLeaf(_cert: Certificate, ctx: LintContext): boolean {
  return !ctx.ca;
}

const decodedNameConstraints = perCertificate((cert: Certificate): RawNameConstraints | undefined => {
  const e = findExtension(cert, OID.nameConstraints);
  return e ? readRawNameConstraints(e.value) : undefined;
});

/** The first nameConstraints extension read tolerantly (cached per certificate; most have none). */
function nameConstraints(cert: Certificate): RawNameConstraints | undefined {
  return hasExtension(cert, OID.nameConstraints) ? decodedNameConstraints(cert) : undefined;
}

function constraintNames(cert: Certificate, type: RawGeneralName['type']): RawGeneralName[] {
  const nc = nameConstraints(cert);
  return nc ? [...nc.permitted, ...nc.excluded].filter((n) => n.type === type) : [];
}

export const EXTENSION_RULES: readonly LintRule[] = [
  defineRule({
    id: 'e_profile_mismatch',
    severity: 'error',
    source: 'RFC 5280 §3.2, §4.2.1.9',
    description: 'the certificate has the role of the profile it is linted against',
    appliesTo: (_cert, ctx) => ctx.explicitProfile,
    check: (cert, ctx) => {
      const out: string[] = [];
      const ca = cert.ext.basicConstraints?.ca === true;
      if (ctx.ca && !ca) out.push(`profile ${ctx.profile} needs basicConstraints with cA true`);
      if (!ctx.ca && ca) out.push(`profile ${ctx.profile} is not a CA but basicConstraints asserts cA`);
      if ((ctx.profile === 'root-ca' || ctx.profile === 'self-signed') && !ctx.selfIssued) out.push(`profile ${ctx.profile} needs issuer and subject to be the same name`);
      if (ctx.profile === 'leaf' && ctx.selfIssued) out.push('profile leaf but issuer and subject are the same name (use self-signed)');
      return out;
    },
  }),
  defineRule({
    id: 'e_extension_duplicate',
    severity: 'error',
    source: 'RFC 5280 §4.2',
    description: 'an extension appears at most once',
    appliesTo: (cert) => cert.extensions.length > 0,
    check: (cert) => cert.duplicateExtensions.map((o) => `extension ${o} appears more than once`),
  }),
  defineRule({
    id: 'w_extension_unknown_critical',
    severity: 'warning',
    source: 'RFC 5280 §4.2',
    description: 'a critical extension that relying parties may not recognize makes them reject the certificate',
    appliesTo: (cert) => cert.extensions.length > 0,
    check: (cert) => cert.extensions.filter((e) => e.critical && !KNOWN_EXTENSIONS.has(e.oid)).map((e) => `unrecognized extension ${e.oid} is critical`),
  }),
  defineRule({
    id: 'e_extension_undecodable',
    severity: 'error',
    source: 'RFC 5280 §4.2',
    description: 'every known extension value decodes with the syntax its section defines',
    appliesTo: (cert) => cert.extensions.length > 0,
    check: (cert) => [...cert.extensionErrors].map(([oid, why]) => `extension ${oid} cannot be decoded: ${why}`),
  }),
  // -- authorityKeyIdentifier (§4.2.1.1)
  defineRule({
    id: 'e_aki_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.1',
    description: 'authorityKeyIdentifier is present in all but self-signed certificates',
    appliesTo: (_cert, ctx) => !ctx.selfSigned,
    check: (cert) => unless(hasExtension(cert, OID.authorityKeyIdentifier), 'authorityKeyIdentifier is missing'),
  }),
  defineRule({
    id: 'e_aki_key_identifier_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.1',
    description: 'authorityKeyIdentifier includes the keyIdentifier field',
    appliesTo: (cert) => cert.ext.authorityKeyIdentifier !== undefined,
    check: (cert) => unless(cert.ext.authorityKeyIdentifier?.keyIdentifier !== undefined, 'authorityKeyIdentifier has no keyIdentifier'),
  }),
  defineRule({
    id: 'e_aki_critical',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.1',
    description: 'authorityKeyIdentifier is non-critical',
    appliesTo: (cert) => hasExtension(cert, OID.authorityKeyIdentifier),
    check: (cert) => unless(findExtension(cert, OID.authorityKeyIdentifier)?.critical !== true, 'authorityKeyIdentifier is critical'),
  }),
  // -- subjectKeyIdentifier (§4.2.1.2)
  defineRule({
    id: 'e_ca_ski_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.2',
    description: 'CA certificates carry subjectKeyIdentifier',
    appliesTo: (_cert, ctx) => ctx.ca,
    check: (cert) => unless(hasExtension(cert, OID.subjectKeyIdentifier), 'subjectKeyIdentifier is missing from a CA certificate'),
  }),
  defineRule({
    id: 'w_leaf_ski_missing',
    severity: 'warning',
    source: 'RFC 5280 §4.2.1.2',
    description: 'end-entity certificates should carry subjectKeyIdentifier',
    appliesTo: isLeaf,
    check: (cert) => unless(hasExtension(cert, OID.subjectKeyIdentifier), 'subjectKeyIdentifier is missing'),
  }),
  defineRule({
    id: 'e_ski_critical',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.2',
    description: 'subjectKeyIdentifier is non-critical',
    appliesTo: (cert) => hasExtension(cert, OID.subjectKeyIdentifier),
    check: (cert) => unless(findExtension(cert, OID.subjectKeyIdentifier)?.critical !== true, 'subjectKeyIdentifier is critical'),
  }),
  // -- basicConstraints (§4.2.1.9)
  defineRule({
    id: 'e_ca_basic_constraints_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.9',
    description: 'CA certificates carry basicConstraints',
    appliesTo: (_cert, ctx) => ctx.ca,
    check: (cert) => unless(hasExtension(cert, OID.basicConstraints), 'basicConstraints is missing from a CA certificate'),
  }),
  defineRule({
    id: 'e_ca_basic_constraints_not_critical',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.9',
    description: 'basicConstraints is critical in CA certificates',
    appliesTo: (cert, ctx) => ctx.ca && hasExtension(cert, OID.basicConstraints),
    check: (cert) => unless(findExtension(cert, OID.basicConstraints)?.critical === true, 'basicConstraints of a CA certificate is not critical'),
  }),
  defineRule({
    id: 'e_path_len_constraint_misplaced',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.9',
    description: 'pathLenConstraint only with cA asserted and, when keyUsage is present, keyCertSign',
    appliesTo: (cert) => cert.ext.basicConstraints?.pathLenConstraint !== undefined,
    check: (cert) => {
      const out: string[] = [];
      if (cert.ext.basicConstraints?.ca !== true) out.push('pathLenConstraint is set but cA is not asserted');
      if (cert.ext.keyUsage && !hasKeyUsage(cert, 'keyCertSign')) out.push('pathLenConstraint is set but keyUsage lacks keyCertSign');
      return out;
    },
  }),
  // -- keyUsage (§4.2.1.3)
  defineRule({
    id: 'e_ca_key_usage_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.3',
    description: 'CA certificates carry keyUsage',
    appliesTo: (_cert, ctx) => ctx.ca,
    check: (cert) => unless(hasExtension(cert, OID.keyUsage), 'keyUsage is missing from a CA certificate'),
  }),
  defineRule({
    id: 'e_ca_key_cert_sign_missing',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.3',
    description: 'the keyUsage of a CA certificate asserts keyCertSign',
    appliesTo: (cert, ctx) => ctx.ca && cert.ext.keyUsage !== undefined,
    check: (cert) => unless(hasKeyUsage(cert, 'keyCertSign'), 'keyUsage of a CA certificate lacks keyCertSign'),
  }),
  defineRule({
    id: 'w_key_usage_not_critical',
    severity: 'warning',
    source: 'RFC 5280 §4.2.1.3',
    description: 'keyUsage should be critical',
    appliesTo: (cert) => hasExtension(cert, OID.keyUsage),
    check: (cert) => unless(findExtension(cert, OID.keyUsage)?.critical === true, 'keyUsage is not critical'),
  }),
  defineRule({
    id: 'e_key_usage_empty',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.3',
    description: 'keyUsage asserts at least one bit',
    appliesTo: (cert) => cert.ext.keyUsage !== undefined,
    check: (cert) => unless((cert.ext.keyUsage?.usages.length ?? 0) > 0, 'keyUsage asserts no bit'),
  }),
  defineRule({
    id: 'e_key_cert_sign_without_ca',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.3, §4.2.1.9',
    description: 'keyCertSign only when basicConstraints asserts cA',
    appliesTo: (cert) => hasKeyUsage(cert, 'keyCertSign'),
    check: (cert) => unless(cert.ext.basicConstraints?.ca === true, 'keyUsage asserts keyCertSign but basicConstraints does not assert cA'),
  }),
  defineRule({
    id: 'e_key_usage_incompatible_with_key',
    severity: 'error',
    source: 'RFC 3279 §2.3.1, RFC 4055 §1.2, RFC 5480 §3, RFC 8410 §5',
    description: 'keyUsage only asserts what the key type can do',
    appliesTo: (cert) => cert.ext.keyUsage !== undefined && ALLOWED_KU.has(cert.publicKeyAlgorithm.oid),
    check: (cert) => {
      const allowed = ALLOWED_KU.get(cert.publicKeyAlgorithm.oid);
      if (!allowed) return [];
      const bad = (cert.ext.keyUsage?.usages ?? []).filter((u) => !allowed.usages.has(u));
      return bad.length === 0 ? [] : [`${bad.join(', ')} cannot be used with an ${allowed.name} key (${allowed.source})`];
    },
  }),
  defineRule({
    id: 'w_rsa_leaf_key_usage',
    severity: 'warning',
    source: 'CA/B BR §7.1.2.7.11',
    description: 'an RSA end-entity certificate asserts digitalSignature and/or keyEncipherment',
    appliesTo: (cert, ctx) => !ctx.ca && isRsa(cert) && cert.ext.keyUsage !== undefined,
    check: (cert) => unless(hasKeyUsage(cert, 'digitalSignature') || hasKeyUsage(cert, 'keyEncipherment'), 'RSA end-entity keyUsage has neither digitalSignature nor keyEncipherment'),
  }),
  defineRule({
    id: 'w_key_usage_encipher_decipher_only',
    severity: 'warning',
    source: 'RFC 5280 §4.2.1.3',
    description: 'encipherOnly and decipherOnly are undefined without keyAgreement',
    appliesTo: (cert) => hasKeyUsage(cert, 'encipherOnly') || hasKeyUsage(cert, 'decipherOnly'),
    check: (cert) => unless(hasKeyUsage(cert, 'keyAgreement'), 'encipherOnly/decipherOnly is asserted without keyAgreement'),
  }),
  // -- extKeyUsage (§4.2.1.12)
  defineRule({
    id: 'e_eku_key_usage_inconsistent',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.12',
    description: 'every extended key usage of a leaf has a consistent keyUsage bit',
    appliesTo: (cert, ctx) => !ctx.ca && cert.ext.extKeyUsage !== undefined && cert.ext.keyUsage !== undefined,
    check: (cert) =>
      (cert.ext.extKeyUsage ?? []).flatMap((eku) => {
        const bits = EKU_CONSISTENT_KU.get(eku);
        if (!bits || bits.some((b) => hasKeyUsage(cert, b))) return [];
        return [`${EKU_NAMES.get(eku) ?? eku} needs one of ${bits.join(', ')} in keyUsage`];
      }),
  }),
  defineRule({
    id: 'w_leaf_any_eku',
    severity: 'warning',
    source: 'CA/B BR §7.1.2.7.10',
    description: 'end-entity certificates should not assert anyExtendedKeyUsage',
    appliesTo: (cert, ctx) => !ctx.ca && cert.ext.extKeyUsage !== undefined,
    check: (cert) => unless(!(cert.ext.extKeyUsage ?? []).includes(OID.anyExtendedKeyUsage), 'extKeyUsage asserts anyExtendedKeyUsage'),
  }),
  defineRule({
    id: 'w_leaf_eku_critical',
    severity: 'warning',
    source: 'CA/B BR §7.1.2.7.6',
    description: 'extKeyUsage of an end-entity certificate should be non-critical (SPIFFE SVIDs may mark it critical)',
    appliesTo: (cert, ctx) => !ctx.ca && !ctx.spiffe && hasExtension(cert, OID.extKeyUsage),
    check: (cert) => unless(findExtension(cert, OID.extKeyUsage)?.critical !== true, 'extKeyUsage is critical'),
  }),
  defineRule({
    id: 'n_ca_eku_present',
    severity: 'notice',
    source: 'RFC 5280 §4.2.1.12',
    description: 'extKeyUsage normally appears only in end-entity certificates; in a CA, validators differ on whether it constrains the path',
    appliesTo: (_cert, ctx) => ctx.ca,
    check: (cert) => unless(!hasExtension(cert, OID.extKeyUsage), 'extKeyUsage is present in a CA certificate'),
  }),
  // -- nameConstraints (§4.2.1.10)
  defineRule({
    id: 'e_name_constraints_in_leaf',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'nameConstraints only in CA certificates',
    appliesTo: (cert) => hasExtension(cert, OID.nameConstraints),
    check: (_cert, ctx) => unless(ctx.ca, 'nameConstraints in a certificate that is not a CA'),
  }),
  defineRule({
    id: 'e_name_constraints_not_critical',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'nameConstraints is critical',
    appliesTo: (cert) => hasExtension(cert, OID.nameConstraints),
    check: (cert) => unless(findExtension(cert, OID.nameConstraints)?.critical === true, 'nameConstraints is not critical'),
  }),
  defineRule({
    id: 'e_name_constraints_empty',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'nameConstraints has permittedSubtrees or excludedSubtrees',
    appliesTo: (cert) => nameConstraints(cert) !== undefined,
    check: (cert) => unless(nameConstraints(cert)?.empty !== true, 'nameConstraints is an empty sequence'),
  }),
  defineRule({
    id: 'e_name_constraints_min_max',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'GeneralSubtree minimum is zero (omitted) and maximum is absent',
    appliesTo: (cert) => nameConstraints(cert) !== undefined,
    check: (cert) => unless(nameConstraints(cert)?.minMax !== true, 'a general subtree has a minimum or maximum'),
  }),
  defineRule({
    id: 'e_name_constraints_ip_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'iPAddress constraints are address and contiguous mask: 8 octets (IPv4) or 32 (IPv6)',
    appliesTo: (cert) => constraintNames(cert, 'ip').length > 0,
    check: (cert) =>
      constraintNames(cert, 'ip').flatMap((n) => {
        const len = n.octets.length;
        if (len !== 8 && len !== 32) return [`IP constraint has ${len} octets (8 or 32)`];
        const mask = n.octets.subarray(len / 2);
        return maskPrefixLength(mask) < 0 ? [`IP constraint mask ${Buffer.from(mask).toString('hex')} is not contiguous`] : [];
      }),
  }),
  defineRule({
    id: 'e_name_constraints_dns_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'dNSName constraints are DNS names (optionally with a leading dot), without wildcards',
    appliesTo: (cert) => constraintNames(cert, 'dns').length > 0,
    check: (cert) =>
      constraintNames(cert, 'dns').flatMap((n) => {
        const p = dnsNameProblem(n.text, { constraint: true });
        return p === undefined ? [] : [`DNS constraint "${n.text}" ${p}`];
      }),
  }),
  defineRule({
    id: 'e_name_constraints_email_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'rfc822Name constraints are a mailbox, a host or a .domain',
    appliesTo: (cert) => constraintNames(cert, 'email').length > 0,
    check: (cert) =>
      constraintNames(cert, 'email').flatMap((n) => {
        const p = n.text.includes('@') ? emailProblem(n.text) : dnsNameProblem(n.text, { constraint: true });
        return p === undefined ? [] : [`e-mail constraint "${n.text}" ${p}`];
      }),
  }),
  defineRule({
    id: 'e_name_constraints_uri_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.10',
    description: 'uniformResourceIdentifier constraints are a fully qualified host or a .domain',
    appliesTo: (cert) => constraintNames(cert, 'uri').length > 0,
    check: (cert) =>
      constraintNames(cert, 'uri').flatMap((n) => {
        const p = dnsNameProblem(n.text, { constraint: true });
        return p === undefined ? [] : [`URI constraint "${n.text}" ${p}`];
      }),
  }),
  // -- CRL distribution points (§4.2.1.13) and authority information access (§4.2.2.1)
  defineRule({
    id: 'e_crl_distribution_point_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.13',
    description: 'CRL distribution point URLs are http, https or ldap URLs',
    appliesTo: (cert) => (cert.ext.crlDistributionPoints?.length ?? 0) > 0,
    check: (cert) =>
      (cert.ext.crlDistributionPoints ?? []).flatMap((u) => {
        const p = urlProblem(u, HTTP_OR_LDAP);
        return p === undefined ? [] : [`CRL distribution point "${u}" ${p}`];
      }),
  }),
  defineRule({
    id: 'e_aia_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.2.1',
    description: 'OCSP URLs are http(s); caIssuers URLs are http(s) or ldap',
    appliesTo: (cert) => cert.ext.authorityInfoAccess !== undefined,
    check: (cert) => {
      const aia = cert.ext.authorityInfoAccess;
      if (!aia) return [];
      const out: string[] = [];
      for (const u of aia.ocsp) {
        const p = urlProblem(u, HTTP_ONLY);
        if (p !== undefined) out.push(`OCSP URL "${u}" ${p}`);
      }
      for (const u of aia.caIssuers) {
        const p = urlProblem(u, HTTP_OR_LDAP);
        if (p !== undefined) out.push(`caIssuers URL "${u}" ${p}`);
      }
      return out;
    },
  }),
];
