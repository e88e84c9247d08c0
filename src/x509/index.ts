/**
 * The X.509 area's public API (STYLE.md habit 10: named exports only, nothing at import time).
 * Other parts of the area add their exports here.
 */

// Names
export {
  attributeShortName,
  attributeTypeOid,
  defaultEncoding,
  encodeAttribute,
  encodeName,
  formatDistinguishedName,
  parseDistinguishedName,
  parseSubject,
  type AttributeTypeAndValue,
  type DistinguishedName,
  type RelativeDistinguishedName,
  type StringEncoding,
} from './name.js';
export {
  encodeGeneralName,
  encodeGeneralNames,
  formatGeneralName,
  formatIpAddress,
  isValidDnsName,
  isValidEmail,
  isValidUri,
  parseGeneralName,
  parseIpAddress,
  parseIpRange,
  rawGeneralName,
  type GeneralName,
} from './general-name.js';

// Issuance
export {
  EXTENDED_KEY_USAGES,
  KEY_USAGE_BIT_NUMBERS,
  encodeAuthorityInfoAccess,
  encodeAuthorityKeyIdentifier,
  encodeBasicConstraints,
  encodeCertificatePolicies,
  encodeCrlDistributionPoints,
  encodeExtension,
  encodeExtensions,
  encodeKeyUsage,
  encodeNameConstraints,
  extendedKeyUsageOid,
  keyIdentifier,
  subjectPublicKeyBits,
  type ExtensionContext,
  type ExtensionsSpec,
  type RawExtension,
} from './extensions.js';
export { SERIAL_LENGTH, formatSerial, parseSerial, randomSerial, randomSerialInteger, type RandomSource } from './serial.js';
export {
  assembleCertificate,
  buildTbsCertificate,
  issueCertificate,
  issuerFromCertificate,
  readCertificateFields,
  signTbsCertificate,
  spkiOf,
  subjectNameDer,
  type CertificateFields,
  type CertificateSpec,
  type IssuerInfo,
} from './certificate-builder.js';
export {
  buildCsr,
  isCsrSignatureValid,
  parseCsr,
  toGeneralName,
  verifyCsrSignature,
  type CsrAttribute,
  type CsrSpec,
  type ParsedCsr,
  type RequestedExtension,
} from './csr.js';
export { PROFILES, PROFILE_NAMES, getProfile, specFromProfile, type Profile, type ProfileName, type ProfileRequest } from './profiles.js';
export { assertIssuerValid, clampToIssuer, issueLintedCertificate, type IssueOptions, type IssuedCertificate } from './issue.js';

// Parsing (certificates, CRLs) and the shared model
export {
  KEY_USAGE_BITS,
  isSelfIssued,
  parseCertificate,
  parseCertificates,
  parseTbsCertificate,
  type Certificate,
  type DecodedExtensions,
  type Extension,
  type KeyUsageName,
  type NameConstraintsValue,
  type ParseCertificateOptions,
} from './certificate.js';
export { decodeGeneralName, decodeGeneralNames, decodeName, decodeOid, ipToOctets, type GeneralNameType, type Name, type NameAttribute, type ParsedGeneralName } from './decode-names.js';
export {
  CRL_PEM_LABEL,
  CRL_REASONS,
  decodeIssuingDistributionPoint,
  parseCrl,
  parseCrls,
  verifyCrlSignature,
  type Crl,
  type DecodedCrlExtensions,
  type IssuingDistributionPointValue,
  type RevokedCertificate,
} from './crl.js';
export { OID, oidName, type OidName } from './oids.js';

// Inspection
export {
  DEFAULT_RENEWAL_THRESHOLD,
  checkRenewal,
  describeCertificate,
  describeCrl,
  describeCsr,
  describeObject,
  detectDerKind,
  fingerprint,
  formatFingerprint,
  parseInspectable,
  parseRenewalThreshold,
  renderText,
  type CertificateReport,
  type CrlReport,
  type CsrReport,
  type InspectReport,
  type RenewalDecision,
  type RenewalThreshold,
} from './inspect.js';
export { DEFAULT_TLS_TIMEOUT_MS, fetchTlsChain, formatTlsTarget, parseTlsTarget, type FetchTlsChainOptions, type ParseTlsTargetOptions, type TlsChain, type TlsTarget } from './tls-fetch.js';

// Path validation (RFC 5280 §6) and host matching (RFC 6125)
export {
  DEFAULT_MAX_DEPTH,
  PROCESSED_EXTENSIONS,
  matchesHostname,
  matchesIpAddress,
  verifyChain,
  type VerifyOptions,
  type VerifyPurpose,
  type VerifyResult,
} from './verify/index.js';

// Linting
export {
  LINT_RULES,
  assertLintClean,
  detectProfile,
  lintCertificate,
  lintTbsCertificate,
  type LintFinding,
  type LintOptions,
  type LintProfile,
  type LintReport,
  type LintRule,
  type Severity,
} from './lint/index.js';

// Templates
export {
  CertificateTemplate,
  checkTemplate,
  getDefaultTemplate,
  parseTemplate,
  renderTemplate,
  templateToSpec,
  templateVariables,
  type TemplateData,
  type TemplateProblem,
} from './template/index.js';
