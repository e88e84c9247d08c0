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
