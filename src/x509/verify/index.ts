/**
 * Certification path validation (RFC 5280 §6) with chain building, and service identity
 * matching (RFC 6125). The same functions back `signet certificate verify`, the CA server and
 * the clients.
 */
export { verifyChain, DEFAULT_MAX_DEPTH, type VerifyOptions, type VerifyResult } from './verify-chain.js';
export { PROCESSED_EXTENSIONS, type VerifyPurpose } from './validate-path.js';
export { matchesHostname, matchesIpAddress, matchHostnamePattern, normalizeHostname, parseReferenceIp, isIpLiteral } from './hostname.js';
export { namesMatch, nameWithinSubtree, prepareString } from './name-match.js';
export { dnsWithin, emailWithin, uriWithin, ipWithin, uriHost, looksLikeHostname } from './name-constraints.js';
