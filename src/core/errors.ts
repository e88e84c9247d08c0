/**
 * One error hierarchy for the whole project (STYLE.md habit 1): every failure a user can cause
 * carries a stable `code`. Tests assert on codes, never on wording. Each edge (CLI, HTTP, gRPC)
 * maps the code's category to its own representation through one table.
 */

/** Categories decide how an edge renders an error (CLI exit code, HTTP status, …). */
export type ErrorCategory =
  | 'usage' // the caller asked for something impossible: bad flag, conflicting options
  | 'input' // malformed bytes or documents: PEM, DER, JSON, templates
  | 'crypto' // keys, passwords, signatures, unsupported algorithms
  | 'io' // files: missing, exists, permissions
  | 'network' // outbound connections
  | 'invalid' // a well-formed object that fails a check: path validation, lint, policy
  | 'interrupted' // the user stopped the command (Ctrl-C at a prompt); the CLI exits 130
  | 'internal';

/**
 * The catalogue. Adding a code here is the only way to create a new kind of error.
 * Keep it sorted by area; README's "Error codes" section lists the same codes.
 */
export const ERROR_CATALOGUE = {
  // usage
  ERR_USAGE: 'usage',
  ERR_BAD_DURATION: 'usage',
  ERR_BAD_TIME: 'usage',
  ERR_BAD_NAME: 'usage',
  ERR_BAD_SUBJECT: 'usage',
  ERR_BAD_OPTION: 'usage',
  // input documents
  ERR_PEM_MALFORMED: 'input',
  ERR_PEM_UNEXPECTED_TYPE: 'input',
  ERR_DER_MALFORMED: 'input',
  ERR_INPUT_TOO_LARGE: 'input',
  ERR_INPUT_EMPTY: 'input',
  ERR_JSON_MALFORMED: 'input',
  ERR_CERT_MALFORMED: 'input',
  ERR_CSR_MALFORMED: 'input',
  ERR_CRL_MALFORMED: 'input',
  ERR_CRL_NOT_READY: 'io',
  ERR_OCSP_MALFORMED_REQUEST: 'input',
  ERR_OCSP_UNAUTHORIZED: 'invalid',
  ERR_OCSP_MALFORMED_RESPONSE: 'input',
  ERR_SSH_MALFORMED: 'input',
  ERR_SPIFFE_ID_INVALID: 'input',
  ERR_SPIFFE_BUNDLE_INVALID: 'input',
  ERR_JWT_SVID_INVALID: 'invalid',
  ERR_X509_SVID_INVALID: 'invalid',
  ERR_TEMPLATE_INVALID: 'input',
  ERR_TEMPLATE_UNKNOWN_FIELD: 'input',
  ERR_TEMPLATE_RENDER: 'input',
  // keys and signatures
  ERR_KEY_MALFORMED: 'crypto',
  ERR_KEY_UNSUPPORTED: 'crypto',
  ERR_KEY_PASSWORD_REQUIRED: 'crypto',
  ERR_KEY_WRONG_PASSWORD: 'crypto',
  ERR_KEY_MISMATCH: 'crypto',
  ERR_KEY_WEAK: 'crypto',
  ERR_KEY_NOT_PRIVATE: 'crypto',
  ERR_PASSWORD_EMPTY: 'crypto',
  ERR_SIGNATURE_ALGORITHM_UNSUPPORTED: 'crypto',
  ERR_CSR_SIGNATURE_INVALID: 'crypto',
  ERR_SSH_KEY_UNSUPPORTED: 'crypto',
  ERR_SSH_SIGNATURE_INVALID: 'crypto',
  // `signet ssh login|logout`: no SSH agent (SSH_AUTH_SOCK), or it cannot be reached or refused
  ERR_SSH_AGENT: 'io',
  // files
  ERR_FILE_NOT_FOUND: 'io',
  ERR_FILE_EXISTS: 'io',
  ERR_FILE_PERMISSION: 'io',
  ERR_FILE_IO: 'io',
  // network
  ERR_TLS_CONNECT: 'network',
  ERR_FETCH_FAILED: 'network',
  // checks that found a problem
  ERR_LINT_FAILED: 'invalid',
  // path validation (src/x509/verify): one code per RFC 5280 §6 / RFC 6125 rule
  ERR_VERIFY_NO_ISSUER: 'invalid',
  ERR_VERIFY_UNTRUSTED_ROOT: 'invalid',
  ERR_VERIFY_SIGNATURE: 'invalid',
  ERR_VERIFY_EXPIRED: 'invalid',
  ERR_VERIFY_NOT_YET_VALID: 'invalid',
  ERR_VERIFY_NOT_CA: 'invalid',
  ERR_VERIFY_PATH_LENGTH: 'invalid',
  ERR_VERIFY_KEY_USAGE: 'invalid',
  ERR_VERIFY_EKU: 'invalid',
  ERR_VERIFY_NAME_CONSTRAINTS: 'invalid',
  ERR_VERIFY_POLICY: 'invalid',
  ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION: 'invalid',
  ERR_VERIFY_DUPLICATE_EXTENSION: 'invalid',
  ERR_VERIFY_MALFORMED_EXTENSION: 'invalid',
  ERR_VERIFY_HOSTNAME: 'invalid',
  ERR_VERIFY_IP: 'invalid',
  ERR_VERIFY_DEPTH: 'invalid',
  ERR_VERIFY_REVOKED: 'invalid',
  ERR_VERIFY_CRL_MISSING: 'invalid',
  ERR_VERIFY_CRL_EXPIRED: 'invalid',
  ERR_VERIFY_OCSP_INVALID: 'invalid',
  ERR_VERIFY_OCSP_UNKNOWN: 'invalid',
  ERR_VERIFY_OCSP_UNAVAILABLE: 'network',
  // `certificate create --ca`: the given CA certificate cannot issue (not a CA, no keyCertSign)
  ERR_NOT_A_CA: 'invalid',
  // issuance: the issuing CA certificate is expired or not yet valid at issuance time
  ERR_CA_NOT_VALID: 'invalid',
  // `certificate bundle`: an input is not issued by the next one (leaf → intermediates order)
  ERR_BUNDLE_ORDER: 'invalid',
  // tokens and policy (src/ca): one-time tokens of JWK provisioners (RFC 7515/7519) and
  // authority/provisioner name policy. Refusals are `invalid`; a malformed policy is `input`.
  ERR_TOKEN_MALFORMED: 'invalid',
  ERR_TOKEN_ALGORITHM: 'invalid',
  ERR_TOKEN_UNKNOWN_PROVISIONER: 'invalid',
  ERR_TOKEN_SIGNATURE: 'invalid',
  ERR_TOKEN_AUDIENCE: 'invalid',
  ERR_TOKEN_EXPIRED: 'invalid',
  ERR_TOKEN_NOT_YET_VALID: 'invalid',
  ERR_TOKEN_LIFETIME: 'invalid',
  ERR_TOKEN_REPLAYED: 'invalid',
  ERR_TOKEN_SUBJECT: 'invalid',
  ERR_POLICY_INVALID: 'input',
  ERR_POLICY_DENIED: 'invalid',
  // CA configuration (src/ca/config.ts, `signet ca init`, `signet ca config validate`)
  ERR_CONFIG_INVALID: 'invalid',
  ERR_CONFIG_NOT_FOUND: 'io',
  ERR_CA_EXISTS: 'io',
  ERR_CA_NOT_ROOT: 'invalid',
  // store (src/store): certificate inventory, used tokens and audit log over SQLite or
  // PostgreSQL. A bad record handed to the store is a bug in the caller (`internal`); a bad list
  // query can come from an API user (`usage`). A database server that cannot be reached is
  // `network` (HTTP 503, like a busy database: retry later).
  ERR_STORE_IO: 'io',
  ERR_STORE_BUSY: 'io',
  ERR_STORE_UNAVAILABLE: 'network',
  ERR_STORE_AUTH: 'invalid',
  ERR_STORE_SCHEMA_NEWER: 'invalid',
  ERR_STORE_SCHEMA_OLDER: 'invalid',
  ERR_STORE_NOT_EMPTY: 'invalid',
  ERR_STORE_MIGRATION_FAILED: 'internal',
  ERR_STORE_DUPLICATE_SERIAL: 'invalid',
  ERR_STORE_INVALID_RECORD: 'internal',
  ERR_STORE_BAD_QUERY: 'usage',
  ERR_STORE_CLOSED: 'internal',
  // the user interrupted the command (Ctrl-C at a password prompt)
  ERR_INTERRUPTED: 'interrupted',
  // HTTP API: no such endpoint (404), method not allowed on it (405), body not application/json (415)
  // ACME (RFC 8555 §6.7): each is one problem type (src/acme/problem.ts)
  ERR_ACME_MALFORMED: 'input',
  ERR_ACME_BAD_NONCE: 'invalid',
  ERR_ACME_BAD_SIGNATURE_ALGORITHM: 'invalid',
  ERR_ACME_BAD_PUBLIC_KEY: 'invalid',
  ERR_ACME_UNAUTHORIZED: 'invalid',
  ERR_ACME_ACCOUNT_DOES_NOT_EXIST: 'invalid',
  ERR_ACME_USER_ACTION_REQUIRED: 'invalid',
  ERR_ACME_EXTERNAL_ACCOUNT_REQUIRED: 'invalid',
  ERR_ACME_INVALID_CONTACT: 'input',
  ERR_ACME_UNSUPPORTED_CONTACT: 'input',
  ERR_ACME_UNSUPPORTED_IDENTIFIER: 'input',
  ERR_ACME_REJECTED_IDENTIFIER: 'invalid',
  ERR_ACME_ORDER_NOT_READY: 'invalid',
  ERR_ACME_BAD_CSR: 'input',
  ERR_ACME_NOT_FOUND: 'usage',
  ERR_ACME_CONFLICT: 'invalid',
  ERR_ACME_ALREADY_REVOKED: 'invalid',
  ERR_ACME_BAD_REVOCATION_REASON: 'input',
  ERR_ACME_CONNECTION: 'network',
  ERR_ACME_INCORRECT_RESPONSE: 'invalid',
  ERR_ACME_DNS: 'network',
  ERR_ACME_TLS: 'network',
  ERR_HTTP_NOT_FOUND: 'usage',
  ERR_HTTP_METHOD: 'usage',
  ERR_HTTP_MEDIA_TYPE: 'input',
  // HTTP API: a JSON body of the wrong shape (missing or unknown field, wrong type)
  ERR_REQUEST_INVALID: 'input',
  // HTTP API: GET /root/{sha256} names no root of this CA
  ERR_ROOT_NOT_FOUND: 'usage',
  // `ca start`: the configured address cannot be bound (in use, or a privileged port)
  ERR_ADDRESS_IN_USE: 'io',
  // authority: the CSR's names differ from the token's, the CSR is not the one the token is bound to,
  // its key type is not allowed, or the requested lifetime is outside the provisioner's bounds
  ERR_FORBIDDEN_NAMES: 'invalid',
  ERR_FORBIDDEN_CSR: 'invalid',
  ERR_FORBIDDEN_KEY_TYPE: 'invalid',
  ERR_LIFETIME_OUT_OF_BOUNDS: 'invalid',
  // authority, SSH: a token for another kind of certificate (an X.509 token, a user token for a
  // host certificate), or a CA or provisioner that issues no SSH certificates
  ERR_FORBIDDEN_CERT_TYPE: 'invalid',
  ERR_SSH_NOT_ENABLED: 'invalid',
  // SPIFFE (authority and `signet federation`): a CA that serves no trust domain, a trust domain's
  // JWT signing key not published yet, an unknown federation relationship, a bundle endpoint that
  // cannot be fetched or authenticated
  ERR_SPIFFE_NOT_ENABLED: 'invalid',
  ERR_SPIFFE_NOT_READY: 'io',
  ERR_FEDERATION_NOT_FOUND: 'usage',
  ERR_FEDERATION_EXISTS: 'usage',
  ERR_BUNDLE_NOT_FOUND: 'usage',
  ERR_ENTRY_NOT_FOUND: 'usage',
  ERR_ENTRY_EXISTS: 'usage',
  ERR_ENTRY_CONFLICT: 'usage',
  ERR_ENTRY_INVALID: 'input',
  ERR_FORBIDDEN_NOT_ADMIN: 'invalid',
  ERR_AGENT_BANNED: 'invalid',
  ERR_AGENT_NOT_FOUND: 'usage',
  ERR_ATTESTATION_FAILED: 'invalid',
  ERR_BUNDLE_FETCH: 'network',
  // SPIFFE Workload API clients (the library, `signet svid`, `signet agent helper`): the API cannot
  // be reached or refused the call; it has no identity for this process; a TLS peer's verified
  // SPIFFE ID is not one the authorizer accepts
  ERR_WORKLOAD_API: 'network',
  ERR_WORKLOAD_NO_IDENTITY: 'invalid',
  ERR_PEER_UNAUTHORIZED: 'invalid',
  // `signet agent helper`: the command run after a rotation failed
  ERR_HELPER_COMMAND: 'io',
  // `signet agent run` with TPM attestation: tpm2-tools missing, the TPM unreachable, a tool failed
  ERR_TPM_UNAVAILABLE: 'io',
  // authority, OIDC provisioner: the OpenID provider's discovery document or keys cannot be fetched
  // (down, too slow, too large, an issuer that does not match); `signet ssh login`: the sign-in
  // at the provider failed or was abandoned
  ERR_OIDC_UNAVAILABLE: 'network',
  ERR_OIDC_LOGIN: 'invalid',
  // authority, certificate-authenticated requests (renew, rekey, revoke): no credential, a client
  // certificate this CA did not issue (or expired), a revoked or already replaced certificate,
  // renewal forbidden by the provisioner's claims, a rekey to the same key, an unknown serial
  ERR_AUTH_REQUIRED: 'invalid',
  ERR_AUTH_CERTIFICATE: 'invalid',
  ERR_CERT_REVOKED: 'invalid',
  ERR_CERT_REPLACED: 'invalid',
  ERR_RENEWAL_NOT_ALLOWED: 'invalid',
  ERR_REKEY_SAME_KEY: 'invalid',
  ERR_CERT_NOT_FOUND: 'invalid',
  // CA client (src/client, `signet ca bootstrap|certificate|renew|…`, `signet context`): the CA
  // cannot be reached (network, exit 6), its TLS certificate does not chain to the pinned root, its
  // answer is not the API's, it refused with a code this client does not know; bootstrap got a root
  // of another fingerprint; no such context or one already exists; a renewal hook failed
  ERR_CA_UNREACHABLE: 'network',
  ERR_CA_UNTRUSTED: 'invalid',
  ERR_CA_BAD_RESPONSE: 'network',
  ERR_CA_REFUSED: 'invalid',
  ERR_FINGERPRINT_MISMATCH: 'invalid',
  ERR_CONTEXT_NOT_FOUND: 'usage',
  ERR_INCIDENT_NOT_FOUND: 'usage',
  ERR_CONTEXT_EXISTS: 'io',
  ERR_HOOK_FAILED: 'io',
  // bugs
  ERR_INTERNAL: 'internal',
} as const satisfies Record<string, ErrorCategory>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The base of every error Signet raises on purpose. `message` is one lower-case line. */
export class SignetError extends Error {
  readonly code: ErrorCode;
  /** A short suggestion for the fix, shown by the CLI after the message. */
  readonly hint: string | undefined;
  /** Structured, non-secret detail (for `--json` output and logs). */
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { hint?: string; detail?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SignetError';
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  get category(): ErrorCategory {
    return ERROR_CATALOGUE[this.code];
  }
}

/** True when `e` is a SignetError, optionally with the given code. */
export function isSignetError(e: unknown, code?: ErrorCode): e is SignetError {
  return e instanceof SignetError && (code === undefined || e.code === code);
}
