/**
 * Signet's library API. Everything the `signet` CLI does is a call into these functions; the CA
 * server will call the same ones. Named exports only (STYLE.md habit 10).
 *
 * @example
 * ```ts
 * import { generateKey, createSoftwareSigner, specFromProfile, issueCertificate, parseCertificate, verifyChain } from 'signet';
 * const { privateKey } = generateKey('p256');
 * const signer = createSoftwareSigner(privateKey);
 * const now = new Date();
 * const root = parseCertificate(issueCertificate(specFromProfile('root-ca', { subject: [[{ type: 'CN', value: 'Root' }]], publicKey: signer.publicKey, now }), signer));
 * verifyChain(root, { roots: [root], time: now });
 * ```
 */
export { ERROR_CATALOGUE, SignetError, isSignetError, type ErrorCategory, type ErrorCode } from './core/errors.js';
export { decodePem, decodePemAll, encodePem, looksLikePem, type PemBlock } from './core/pem.js';
export { fixedClock, systemClock, type Clock } from './core/clock.js';
export { formatDuration, formatTime, isRepresentableTime, parseDuration, parseTime } from './core/duration.js';
export { escapeControl } from './core/escape.js';
export {
  createSoftwareSigner,
  defaultSignatureAlgorithm,
  describeKey,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  exportJwk,
  generateKey,
  jwkThumbprint,
  parseKeySpec,
  parsePrivateKey,
  parsePublicKey,
  verifySignature,
  type Jwk,
  type KeyDescription,
  type KeySpec,
  type SignatureAlgorithm,
  type Signer,
} from './crypto/index.js';
export {
  assertLintClean,
  buildCsr,
  buildTbsCertificate,
  checkRenewal,
  fetchTlsChain,
  issueCertificate,
  issueLintedCertificate,
  issuerFromCertificate,
  lintCertificate,
  lintTbsCertificate,
  parseCertificate,
  parseCertificates,
  parseCrl,
  parseCrls,
  parseCsr,
  parseDistinguishedName,
  parseGeneralName,
  parseTemplate,
  renderTemplate,
  signTbsCertificate,
  specFromProfile,
  templateToSpec,
  verifyChain,
  verifyCsrSignature,
  type Certificate,
  type CertificateSpec,
  type Crl,
  type DistinguishedName,
  type GeneralName,
  type IssuedCertificate,
  type LintReport,
  type ParsedCsr,
  type ProfileName,
  type VerifyOptions,
  type VerifyResult,
} from './x509/index.js';
export { VERSION } from './version.js';
export { MAX_SPIFFE_ID_LENGTH, MAX_TRUST_DOMAIN_LENGTH, parseSpiffeId, parseSpiffePath, parseTrustDomain, spiffeIdFrom, SpiffeId, type SpiffeIdReason } from './spiffe/id.js';
export { formatBundle, parseBundle, type TrustBundle } from './spiffe/bundle.js';
export { JWT_SVID_ALGORITHMS, mintJwtSvid, validateJwtSvid, type JwtSvid, type JwtSvidReason, type MintJwtSvidOptions, type ValidateJwtSvidOptions } from './spiffe/jwt-svid.js';
