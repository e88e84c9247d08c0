/**
 * ACME problem documents (RFC 8555 §6.7, RFC 7807): every refusal of the ACME edge is a
 * SignetError whose code maps to one URN type and HTTP status here, so the native API and ACME
 * share one error catalogue and tests assert on codes.
 */
import { isSignetError, type ErrorCode } from '../core/errors.js';
import type { AcmeProblemRecord } from '../store/store.js';

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** A problem document as sent. */
export interface AcmeProblem extends AcmeProblemRecord {
  readonly status: number;
  /** badSignatureAlgorithm (RFC 8555 §6.2): the algorithms the server accepts. */
  readonly algorithms?: readonly string[];
}

const TYPES: Partial<Record<ErrorCode, readonly [type: string, status: number]>> = {
  ERR_ACME_MALFORMED: ['malformed', 400],
  ERR_ACME_BAD_NONCE: ['badNonce', 400],
  ERR_ACME_BAD_SIGNATURE_ALGORITHM: ['badSignatureAlgorithm', 400],
  ERR_ACME_BAD_PUBLIC_KEY: ['badPublicKey', 400],
  ERR_ACME_UNAUTHORIZED: ['unauthorized', 403],
  ERR_ACME_ACCOUNT_DOES_NOT_EXIST: ['accountDoesNotExist', 400],
  ERR_ACME_USER_ACTION_REQUIRED: ['userActionRequired', 403],
  ERR_ACME_EXTERNAL_ACCOUNT_REQUIRED: ['externalAccountRequired', 400],
  ERR_ACME_INVALID_CONTACT: ['invalidContact', 400],
  ERR_ACME_UNSUPPORTED_CONTACT: ['unsupportedContact', 400],
  ERR_ACME_UNSUPPORTED_IDENTIFIER: ['unsupportedIdentifier', 400],
  ERR_ACME_REJECTED_IDENTIFIER: ['rejectedIdentifier', 400],
  ERR_ACME_ORDER_NOT_READY: ['orderNotReady', 403],
  ERR_ACME_BAD_CSR: ['badCSR', 400],
  ERR_ACME_NOT_FOUND: ['malformed', 404],
  ERR_ACME_CONFLICT: ['malformed', 409],
  ERR_ACME_ALREADY_REVOKED: ['alreadyRevoked', 400],
  ERR_ACME_BAD_REVOCATION_REASON: ['badRevocationReason', 400],
  ERR_ACME_CONNECTION: ['connection', 400],
  ERR_ACME_INCORRECT_RESPONSE: ['incorrectResponse', 400],
  ERR_ACME_DNS: ['dns', 400],
  ERR_ACME_TLS: ['tls', 400],
  // Codes of the shared pipeline, as an ACME client needs to read them.
  ERR_CERT_REPLACED: ['alreadyReplaced', 409],
  ERR_POLICY_DENIED: ['rejectedIdentifier', 400],
  ERR_FORBIDDEN_NAMES: ['rejectedIdentifier', 400],
  ERR_LINT_FAILED: ['badCSR', 400],
  ERR_LIFETIME_OUT_OF_BOUNDS: ['malformed', 400],
  ERR_INPUT_TOO_LARGE: ['malformed', 413],
  ERR_INPUT_EMPTY: ['malformed', 400],
  ERR_JSON_MALFORMED: ['malformed', 400],
  ERR_HTTP_MEDIA_TYPE: ['malformed', 415],
  ERR_HTTP_NOT_FOUND: ['malformed', 404],
  ERR_HTTP_METHOD: ['malformed', 405],
  ERR_STORE_UNAVAILABLE: ['serverInternal', 503],
  ERR_STORE_BUSY: ['serverInternal', 503],
};

/** The problem document for an error; anything that is not a SignetError is serverInternal without detail. */
export function toProblem(e: unknown, requestId: string): AcmeProblem {
  if (!isSignetError(e) || e.code === 'ERR_INTERNAL') return { type: `${ACME_ERROR_PREFIX}serverInternal`, detail: `internal error (request ${requestId})`, status: 500 };
  const [type, status] = TYPES[e.code] ?? ['malformed', 400];
  const detail = e.detail as { subproblems?: AcmeProblemRecord['subproblems']; algorithms?: readonly string[] } | undefined;
  return {
    type: `${ACME_ERROR_PREFIX}${type}`,
    detail: e.message,
    status,
    ...(detail?.subproblems !== undefined && { subproblems: detail.subproblems }),
    ...(detail?.algorithms !== undefined && { algorithms: detail.algorithms }),
  };
}

/** A problem record for an identifier (subproblems, RFC 8555 §6.7.1), from an error. */
export function subproblem(e: unknown, identifier: { readonly type: string; readonly value: string }): NonNullable<AcmeProblemRecord['subproblems']>[number] {
  const p = toProblem(e, '-');
  return { type: p.type, detail: p.detail, identifier };
}
