/**
 * The client side of the CA's native API, for the CLI, benchmarks and tests: an HTTPS client
 * that trusts only a pinned root, the fingerprint-checked bootstrap of that root, renewal (mTLS
 * or renewal token), and the pure scheduling rules of a renewing client.
 */
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  REVOCATION_REASONS,
  connectionError,
  createCaClient,
  httpsRequest,
  type CaClient,
  type CaClientOptions,
  type CaRequest,
  type CaResponse,
  type ClientIdentity,
  type HttpsRequestOptions,
  type IssuedCertificate,
  type RevocationReason,
  type RevocationResult,
  type RevokeRequestBody,
  type SignRequestBody,
} from './http.js';
export { fetchPinnedRoot, type PinnedRoot } from './bootstrap.js';
export { renewCertificate, type RenewInput } from './renew.js';
export {
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_RETRY_MIN_MS,
  MAX_RENEWAL_JITTER_MS,
  RENEWAL_JITTER_SHARE,
  RENEW_AT_TWO_THIRDS,
  renewalTime,
  retryDelay,
  type Validity,
} from './schedule.js';
export { normalizeFingerprint, parseCaUrl, type CaUrl } from './url.js';
