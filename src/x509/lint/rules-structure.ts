/**
 * Rules on the TBSCertificate fields themselves (RFC 5280 §4.1): version, serial number,
 * signature algorithm agreement, validity, issuer and subject names, unique identifiers.
 */
import { equalBytes } from '../../core/bytes.js';
import type { Certificate } from '../certificate.js';
import { OID } from '../oids.js';
import { always, defineRule, findExtension, unless } from './rule-kit.js';
import type { LintRule } from './types.js';
import { formatTime } from '../../core/duration.js';

const DAY_MS = 86_400_000;

/** The serial's magnitude without sign-padding zeros (empty for zero). */
function serialMagnitude(cert: Certificate): Uint8Array {
  let i = 0;
  const s = cert.serialNumber;
  while (i < s.length && s[i] === 0) i++;
  return s.subarray(i);
}

function isNegative(cert: Certificate): boolean {
  return ((cert.serialNumber[0] ?? 0) & 0x80) !== 0;
}

function subjectIsEmpty(cert: Certificate): boolean {
  return cert.subject.rdns.length === 0;
}

export const STRUCTURE_RULES: readonly LintRule[] = [
  defineRule({
    id: 'e_version_not_v3_with_extensions',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.1',
    description: 'a certificate with extensions must be version 3',
    appliesTo: (cert) => cert.extensions.length > 0,
    check: (cert) => unless(cert.version === 3, () => `version is v${cert.version} but the certificate has extensions`),
  }),
  defineRule({
    id: 'w_version_not_v3',
    severity: 'warning',
    source: 'RFC 5280 §4.1.2.1',
    description: 'certificates of this profile are version 3',
    appliesTo: (cert) => cert.extensions.length === 0,
    check: (cert) => unless(cert.version === 3, () => `version is v${cert.version}; this profile expects v3 (with extensions)`),
  }),
  defineRule({
    id: 'e_serial_not_positive',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.2',
    description: 'the serial number must be a positive integer',
    appliesTo: always,
    check: (cert) => {
      if (isNegative(cert)) return ['serial number is negative'];
      return unless(serialMagnitude(cert).length > 0, 'serial number is zero');
    },
  }),
  defineRule({
    id: 'e_serial_too_long',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.2',
    description: 'the serial number must not be longer than 20 octets',
    appliesTo: always,
    check: (cert) => unless(cert.serialNumber.length <= 20, () => `serial number is ${cert.serialNumber.length} octets long (at most 20)`),
  }),
  defineRule({
    id: 'e_serial_not_minimally_encoded',
    severity: 'error',
    source: 'X.690 §8.3.2 (DER, required by RFC 5280 §4.1)',
    description: 'the serial number INTEGER must be encoded in the fewest octets',
    appliesTo: (cert) => cert.serialNumber.length > 1,
    check: (cert) => {
      const [a, b] = [cert.serialNumber[0] as number, cert.serialNumber[1] as number];
      const redundant = (a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0);
      return unless(!redundant, 'serial number has a redundant leading octet');
    },
  }),
  defineRule({
    id: 'w_serial_low_entropy',
    severity: 'warning',
    source: 'CA/B BR §7.1',
    description: 'serial numbers should hold at least 64 bits of CSPRNG output (8 octets or more)',
    appliesTo: (cert) => !isNegative(cert),
    check: (cert) => {
      const n = serialMagnitude(cert).length;
      return unless(n >= 8, () => `serial number has ${n} significant octets; at least 8 (64 random bits) expected`);
    },
  }),
  defineRule({
    id: 'e_signature_algorithm_mismatch',
    severity: 'error',
    source: 'RFC 5280 §4.1.1.2',
    description: 'signatureAlgorithm must be identical to the TBS signature field',
    appliesTo: always,
    check: (cert) => {
      const a = cert.tbsSignatureAlgorithm;
      const b = cert.signatureAlgorithm;
      const same = a.oid === b.oid && (a.parameters === undefined ? b.parameters === undefined : b.parameters !== undefined && equalBytes(a.parameters, b.parameters));
      return unless(same, () => `TBS signature algorithm ${a.oid} differs from the outer signatureAlgorithm ${b.oid}${a.oid === b.oid ? ' (parameters differ)' : ''}`);
    },
  }),
  defineRule({
    id: 'e_validity_negative',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.5',
    description: 'notBefore must not be after notAfter',
    appliesTo: always,
    check: (cert) => unless(cert.notBefore.getTime() <= cert.notAfter.getTime(), () => `notBefore ${formatTime(cert.notBefore)} is after notAfter ${formatTime(cert.notAfter)}`),
  }),
  defineRule({
    id: 'e_validity_time_wrong_type',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.5',
    description: 'dates through 2049 are UTCTime, dates from 2050 on are GeneralizedTime',
    appliesTo: always,
    check: (cert) => {
      const out: string[] = [];
      for (const [field, date, tag] of [
        ['notBefore', cert.notBefore, cert.notBeforeTag],
        ['notAfter', cert.notAfter, cert.notAfterTag],
      ] as const) {
        const y = date.getUTCFullYear();
        const want = y >= 1950 && y <= 2049 ? 'UTCTime' : 'GeneralizedTime';
        if (tag !== want) out.push(`${field} in ${y} is encoded as ${tag}; it must be ${want}`);
      }
      return out;
    },
  }),
  defineRule({
    id: 'e_validity_time_format',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.5.1, §4.1.2.5.2',
    description: 'validity times are in Zulu, include seconds and have no fractional seconds',
    appliesTo: always,
    check: (cert) => {
      const out: string[] = [];
      for (const [field, text, tag] of [
        ['notBefore', cert.notBeforeText, cert.notBeforeTag],
        ['notAfter', cert.notAfterText, cert.notAfterTag],
      ] as const) {
        const ok = tag === 'UTCTime' ? /^\d{12}Z$/.test(text) : /^\d{14}Z$/.test(text);
        if (!ok) out.push(`${field} "${text}" is not ${tag === 'UTCTime' ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'}`);
      }
      return out;
    },
  }),
  defineRule({
    id: 'w_leaf_validity_too_long',
    severity: 'warning',
    source: 'CA/B BR §6.3.2',
    description: 'end-entity certificates should be valid for at most 398 days',
    appliesTo: (_cert, ctx) => ctx.profile === 'leaf',
    check: (cert) => {
      // BR §6.3.2: the validity period includes both notBefore and notAfter (+1 second).
      const ms = cert.notAfter.getTime() - cert.notBefore.getTime() + 1000;
      return unless(ms <= 398 * DAY_MS, () => `validity period is ${Math.floor(ms / DAY_MS)} days (at most 398)`);
    },
  }),
  defineRule({
    id: 'n_validity_expired',
    severity: 'notice',
    source: 'RFC 5280 §4.1.2.5',
    description: 'the certificate has expired at the lint time',
    appliesTo: always,
    check: (cert, ctx) => unless(cert.notAfter.getTime() >= ctx.now.getTime(), () => `certificate expired at ${formatTime(cert.notAfter)}`),
  }),
  defineRule({
    id: 'e_issuer_name_empty',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.4',
    description: 'the issuer must be a non-empty distinguished name',
    appliesTo: always,
    check: (cert) => unless(cert.issuer.rdns.length > 0, 'issuer name is empty'),
  }),
  defineRule({
    id: 'e_ca_subject_empty',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.6',
    description: 'a CA certificate must have a non-empty subject',
    appliesTo: (_cert, ctx) => ctx.ca,
    check: (cert) => unless(!subjectIsEmpty(cert), 'subject of a CA certificate is empty'),
  }),
  defineRule({
    id: 'e_subject_empty_without_san',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.6, §4.2.1.6',
    description: 'a certificate with an empty subject must carry subjectAltName',
    appliesTo: (cert) => subjectIsEmpty(cert),
    check: (cert) => unless(findExtension(cert, OID.subjectAltName) !== undefined, 'subject is empty and there is no subjectAltName extension'),
  }),
  defineRule({
    id: 'e_subject_empty_san_not_critical',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6',
    description: 'with an empty subject, subjectAltName must be critical',
    appliesTo: (cert) => subjectIsEmpty(cert) && findExtension(cert, OID.subjectAltName) !== undefined,
    check: (cert) => unless(findExtension(cert, OID.subjectAltName)?.critical === true, 'subject is empty but subjectAltName is not critical'),
  }),
  defineRule({
    id: 'w_san_critical_with_subject',
    severity: 'warning',
    source: 'RFC 5280 §4.2.1.6',
    description: 'with a non-empty subject, subjectAltName should be non-critical',
    appliesTo: (cert) => !subjectIsEmpty(cert) && findExtension(cert, OID.subjectAltName) !== undefined,
    check: (cert) => unless(findExtension(cert, OID.subjectAltName)?.critical !== true, 'subjectAltName is critical although the subject is not empty'),
  }),
  defineRule({
    id: 'e_unique_identifier_present',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.8',
    description: 'conforming CAs must not generate issuerUniqueID or subjectUniqueID',
    appliesTo: always,
    check: (cert) => [
      ...(cert.hasIssuerUniqueId ? ['issuerUniqueID is present'] : []),
      ...(cert.hasSubjectUniqueId ? ['subjectUniqueID is present'] : []),
    ],
  }),
  defineRule({
    id: 'e_subject_country_invalid',
    severity: 'error',
    source: 'RFC 5280 Appendix A.1 (X520countryName)',
    description: 'countryName is a two-letter ISO 3166 code in a PrintableString',
    appliesTo: (cert) => cert.subject.rdns.some((rdn) => rdn.some((a) => a.type === OID.countryName)),
    check: (cert) =>
      cert.subject.rdns.flatMap((rdn) =>
        rdn
          .filter((a) => a.type === OID.countryName)
          .flatMap((a) => {
            if (a.tag !== 0x13) return [`countryName "${a.value}" is not a PrintableString`];
            return /^[A-Z]{2}$/.test(a.value) ? [] : [`countryName "${a.value}" is not a two-letter upper-case code`];
          }),
      ),
  }),
  defineRule({
    id: 'e_subject_common_name_too_long',
    severity: 'error',
    source: 'RFC 5280 Appendix A.1 (ub-common-name)',
    description: 'commonName is at most 64 characters',
    appliesTo: (cert) => cert.subject.rdns.some((rdn) => rdn.some((a) => a.type === OID.commonName)),
    check: (cert) =>
      cert.subject.rdns.flatMap((rdn) =>
        rdn.filter((a) => a.type === OID.commonName && a.value.length > 64 && [...a.value].length > 64).map((a) => `commonName is ${[...a.value].length} characters long (at most 64)`),
      ),
  }),
];
