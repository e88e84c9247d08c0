/**
 * One-time tokens of a JWK provisioner: a compact JWS (RFC 7515 §7.1) carrying a JWT claims set
 * (RFC 7519) that authorizes one request to the authority — "sign this CSR for these names".
 *
 * A token is minted on a client machine with the provisioner's private key
 * ({@link mintToken}) and verified by the authority with the provisioner's public key from its
 * configuration ({@link verifyToken}). Verification follows the JWT BCP (RFC 8725):
 *
 *  - the algorithm comes from an allow-list and is checked before anything else is looked at
 *    (RFC 8725 §2.1, §3.1): `none`, the HMAC family (keyed with a public key, the classic
 *    confusion attack) and everything else is refused;
 *  - the verification key comes only from the provisioner named by `iss`; header parameters that
 *    name another key (`jwk`, `jku`, `x5u`, `x5c`, RFC 7515 §4.1.2–4.1.6) and extensions the
 *    verifier would have to understand (`crit`, §4.1.11) are refused;
 *  - the audience is one exact URL (RFC 8725 §3.9), the lifetime is short and bounded, times are
 *    integer NumericDates (RFC 7519 §2) compared with an explicit, small leeway;
 *  - every refusal carries one fixed message per code: the caller learns which rule refused the
 *    token (the code) and nothing about keys or expected values.
 *
 * Replay protection is the authority's job: it records `(provisioner, jti)` in the store
 * (`store.tokens.consume`) until {@link TokenClaims.rememberUntil}; a second use is
 * ERR_TOKEN_REPLAYED.
 *
 * Minting goes through `jose`. Verification does the signature check with `node:crypto`
 * directly: every JOSE rule above is Signet's own code anyway, and on Node 20 `jose` verifies
 * through WebCrypto (no `KeyObject.toCryptoKey`), which costs 1.5× (ES256) to 3.5× (RS256) the
 * synchronous `node:crypto` call on the authority's hot path.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { SignetError, isSignetError, type ErrorCode } from '../core/errors.js';
import { assertSigningKey, keyWeakness } from '../crypto/keys.js';
import { jwkThumbprint } from '../crypto/jwk.js';
import { jwsSignatureVerifies } from '../crypto/jws.js';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../x509/template/json.js';

/** The JWS algorithms a one-time token may use (RFC 7518 §3.1, RFC 8037 §3.1). Nothing else is accepted. */
export type TokenAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/** The JWS algorithms Signet verifies at all: the token algorithms, and ES384 for renewal tokens signed by P-384 certificate keys. */
export type JwsAlgorithm = TokenAlgorithm | 'ES384';

/** The allow-list, in order of preference. */
export const TOKEN_ALGORITHMS: readonly TokenAlgorithm[] = Object.freeze(['ES256', 'EdDSA', 'RS256'] as const);

/** Largest token accepted, in characters (a compact JWS is ASCII): 8 KiB. */
export const MAX_TOKEN_SIZE = 8192;
/** Longest lifetime a token may have (`exp − nbf`, or `exp − iat` without `nbf`): one hour. */
export const MAX_TOKEN_LIFETIME_MS = 3_600_000;
/** Lifetime of a minted token unless told otherwise: five minutes. */
export const DEFAULT_TOKEN_TTL_MS = 300_000;
/** Clock skew tolerated by default when checking `nbf`, `iat` and `exp`: one minute. */
export const DEFAULT_TOKEN_LEEWAY_MS = 60_000;
/** Largest leeway a verifier may configure: five minutes. */
export const MAX_TOKEN_LEEWAY_MS = 300_000;

/** Smallest RSA modulus for RS256 (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;
/** Longest `jti`, `iss`, `kid`, `sub` accepted (they end up in the store and in logs). */
const MAX_ID_LENGTH = 256;

// ---------------------------------------------------------------------------------------------
// errors: one fixed message per code, so a refusal tells the caller the rule and nothing else

const MESSAGES: Readonly<Partial<Record<ErrorCode, { message: string; hint?: string }>>> = {
  ERR_TOKEN_MALFORMED: { message: 'the token is malformed', hint: 'pass a token minted by `signet ca token`' },
  ERR_TOKEN_ALGORITHM: { message: 'the token algorithm is not allowed', hint: 'tokens are signed with ES256, EdDSA or RS256 by the provisioner key' },
  ERR_TOKEN_UNKNOWN_PROVISIONER: { message: 'the token names an unknown provisioner or key', hint: 'check the provisioner name and key with the CA operator' },
  ERR_TOKEN_SIGNATURE: { message: 'the token signature is invalid', hint: 'mint the token with the provisioner key configured on the CA' },
  ERR_TOKEN_AUDIENCE: { message: 'the token was minted for another audience', hint: 'mint the token for this CA URL and endpoint' },
  ERR_TOKEN_EXPIRED: { message: 'the token has expired', hint: 'mint a new token; check that client and CA clocks agree' },
  ERR_TOKEN_NOT_YET_VALID: { message: 'the token is not yet valid', hint: 'check that client and CA clocks agree' },
  ERR_TOKEN_LIFETIME: { message: 'the token lifetime is longer than allowed', hint: 'mint tokens valid for at most one hour' },
};

function refuse(code: ErrorCode): SignetError {
  const m = MESSAGES[code] ?? { message: 'the token was refused' };
  return new SignetError(code, m.message, m.hint === undefined ? {} : { hint: m.hint });
}

function badOption(message: string): SignetError {
  return new SignetError('ERR_BAD_OPTION', message);
}

// ---------------------------------------------------------------------------------------------
// algorithms and keys

/**
 * The token algorithm for a provisioner key: ES256 for EC P-256, EdDSA for Ed25519, RS256 for RSA
 * of at least 2048 bits (RFC 7518 §3.3). Accepts the private or the public half. Throws
 * ERR_KEY_UNSUPPORTED for any other key (P-384, RSA-PSS, …) and ERR_KEY_WEAK for weak RSA keys.
 */
export function tokenAlgorithmForKey(key: KeyObject): TokenAlgorithm {
  const alg = algorithmOf(key);
  if (alg === undefined || alg === 'ES384') {
    throw new SignetError('ERR_KEY_UNSUPPORTED', `provisioner keys must be EC P-256, Ed25519 or RSA, not ${describe(key)}`, {
      hint: 'create a provisioner key with: signet key create --type ec --curve p256 FILE',
    });
  }
  const weakness = keyWeakness(key);
  if (weakness !== undefined) throw new SignetError('ERR_KEY_WEAK', `the provisioner key is weak: ${weakness}`);
  return alg;
}

function algorithmOf(key: KeyObject): JwsAlgorithm | undefined {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : undefined;
    }
    case 'ed25519':
      return 'EdDSA';
    case 'rsa':
      return 'RS256';
    default:
      return undefined;
  }
}

function describe(key: KeyObject): string {
  const t = key.asymmetricKeyType ?? key.type;
  return t === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim() : t;
}

/** True when `alg` may be used with `key`: the key type matches and RSA keys are strong enough. */
function keyFits(alg: JwsAlgorithm, key: KeyObject): boolean {
  if (algorithmOf(key) !== alg) return false;
  if (alg === 'RS256') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS && keyWeakness(key) === undefined;
  return true;
}

// ---------------------------------------------------------------------------------------------
// minting

/** What {@link mintToken} needs. */
export interface MintTokenOptions {
  /** The provisioner's private key (EC P-256, Ed25519 or RSA ≥ 2048). */
  readonly key: KeyObject;
  /** Header `kid`; default: the RFC 7638 thumbprint of the key, as `signet key create --format jwk` writes it. */
  readonly kid?: string;
  /** `iss`: the provisioner name. */
  readonly issuer: string;
  /** `aud`: the exact URL of the endpoint the token is for (e.g. `https://ca.example.com:9443/sign`). */
  readonly audience: string;
  /** `sub`: the subject the token authorizes (a common name, a serial for revocation, …). */
  readonly subject: string;
  /** `sans`: the names the certificate may carry, as the client will put them into the CSR. */
  readonly sans: readonly string[];
  /** Lifetime in milliseconds, 1 s to 1 h; default 5 min. Whole seconds are used (NumericDate). */
  readonly ttlMs?: number;
  /** `sha`: SHA-256 of the root certificate (64 hex digits), so a client can bootstrap trust from a token. */
  readonly rootFingerprint: string;
  /** `cnf.kid`: binds the token to one CSR (RFC 7800 §3.4); the authority compares it exactly. */
  readonly csrFingerprint?: string;
  /** `ssh`: the token authorizes an SSH certificate of this kind; `sans` are then its principals and `sub` its key ID. */
  readonly ssh?: { readonly certType: 'user' | 'host' };
  /** The time of minting: `iat` and `nbf`. */
  readonly now: Date;
}

function nonEmpty(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw badOption(`${what} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

/**
 * Mints a one-time token: a compact JWS with header `{ alg, kid, typ: "JWT" }` and the claims
 * `iss`, `sub`, `aud`, `sans`, `sha`, optional `cnf`, `iat`, `nbf`, `exp` and `jti` (128 random
 * bits, base64url). The algorithm follows the key ({@link tokenAlgorithmForKey}).
 *
 * Throws ERR_BAD_OPTION for an out-of-range lifetime or a malformed field, ERR_KEY_NOT_PRIVATE,
 * ERR_KEY_UNSUPPORTED or ERR_KEY_WEAK for an unusable key.
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const { key, now } = options;
  assertSigningKey(key);
  const alg = tokenAlgorithmForKey(key);
  const ttlMs = options.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 1000 || ttlMs > MAX_TOKEN_LIFETIME_MS) {
    throw badOption('the token lifetime must be between 1s and 1h');
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw badOption('the minting time is not a valid date');
  const issuer = nonEmpty(options.issuer, 'the provisioner name');
  const subject = nonEmpty(options.subject, 'the token subject');
  const audience = nonEmpty(options.audience, 'the token audience');
  if (!URL.canParse(audience)) throw badOption(`the token audience "${audience}" is not an absolute URL`);
  const sans = options.sans.map((s, i) => nonEmpty(s, `SAN ${i + 1}`));
  if (!/^[0-9a-fA-F]{64}$/.test(options.rootFingerprint)) throw badOption('the root fingerprint must be 64 hex digits (SHA-256)');
  const kid = nonEmpty(options.kid ?? jwkThumbprint(key), 'the key id');
  if (options.ssh !== undefined && options.ssh.certType !== 'user' && options.ssh.certType !== 'host') throw badOption('an SSH token is for a user or a host certificate');

  const iat = Math.floor(now.getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: issuer,
    sub: subject,
    aud: audience,
    sans,
    sha: options.rootFingerprint.toLowerCase(),
    ...(options.csrFingerprint === undefined ? {} : { cnf: { kid: nonEmpty(options.csrFingerprint, 'the CSR fingerprint') } }),
    ...(options.ssh === undefined ? {} : { ssh: { certType: options.ssh.certType } }),
    iat,
    nbf: iat,
    exp: iat + Math.floor(ttlMs / 1000),
    jti: randomBytes(16).toString('base64url'),
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
}

/** What {@link mintRenewalToken} needs. */
export interface MintRenewalTokenOptions {
  /** DER of the certificate to renew. */
  readonly certificate: Uint8Array;
  /** Its private key. */
  readonly key: KeyObject;
  /** `sub`: the certificate's serial, lower-case hex. */
  readonly serial: string;
  /** The renewal endpoint URL, e.g. `https://ca.example.com:9443/renew`. */
  readonly audience: string;
  readonly now: Date;
  /** Default and maximum 5 minutes. */
  readonly ttlMs?: number;
}

/**
 * Mints a renewal token (see {@link verifyRenewalToken}): header `{ alg, typ: "JWT", x5c: [cert] }`,
 * claims `sub` (the serial), `aud`, `iat`, `nbf`, `exp`, `jti`, signed with the certificate's key.
 */
export async function mintRenewalToken(options: MintRenewalTokenOptions): Promise<string> {
  return mintPossessionToken(options, { x5c: [Buffer.from(options.certificate).toString('base64')] });
}

/**
 * A token signed with a certificate's own key (renewal tokens, SSHPOP tokens): claims `sub` (the
 * serial), `aud`, `iat`, `nbf`, `exp`, `jti`; the header carries `alg`, `typ` and `header`.
 */
async function mintPossessionToken(options: Omit<MintRenewalTokenOptions, 'certificate'>, header: Record<string, unknown>): Promise<string> {
  const { key, now } = options;
  assertSigningKey(key);
  const alg = algorithmOf(key);
  if (alg === undefined) throw new SignetError('ERR_KEY_UNSUPPORTED', `renewal tokens are signed with EC P-256/P-384, Ed25519 or RSA keys, not ${describe(key)}`);
  const ttlMs = options.ttlMs ?? MAX_RENEWAL_TOKEN_LIFETIME_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 1000 || ttlMs > MAX_RENEWAL_TOKEN_LIFETIME_MS) throw badOption('the renewal token lifetime must be between 1s and 5m');
  const audience = nonEmpty(options.audience, 'the token audience');
  if (!URL.canParse(audience)) throw badOption(`the token audience "${audience}" is not an absolute URL`);
  const iat = Math.floor(now.getTime() / 1000);
  const claims = { sub: nonEmpty(options.serial, 'the serial'), aud: audience, iat, nbf: iat, exp: iat + Math.floor(ttlMs / 1000), jti: randomBytes(16).toString('base64url') };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ ...header, alg, typ: 'JWT' }).sign(key);
}

// ---------------------------------------------------------------------------------------------
// verification

/** What the authority knows about a provisioner that can mint tokens. */
export interface TokenProvisioner {
  /** The provisioner's public key (from the configuration, never from the token). */
  readonly publicKey: KeyObject;
  /** Algorithms this provisioner may use; default: the one that fits the key. */
  readonly algorithms?: readonly TokenAlgorithm[];
  /** The key id; when set, the token header must carry exactly this `kid`. */
  readonly kid?: string;
}

/** Looks a provisioner up by name (the token's `iss`); undefined when there is none. */
export type TokenProvisionerLookup = (name: string) => TokenProvisioner | undefined;

/** What {@link verifyToken} checks a token against. */
export interface VerifyTokenOptions {
  readonly provisioners: TokenProvisionerLookup;
  /** The exact URL(s) the token must be minted for (`aud`); several when the CA has several names. */
  readonly audience: string | readonly string[];
  /** The time of verification. */
  readonly now: Date;
  /** Clock skew tolerated for `nbf`, `iat` and `exp`; default 60 s, at most 5 min. */
  readonly leewayMs?: number;
  /** Longest accepted `exp − nbf` (or `exp − iat`); default and maximum 1 h. */
  readonly maxLifetimeMs?: number;
}

/** The verified content of a token. */
export interface TokenClaims {
  /** `iss`: the provisioner that minted the token. */
  readonly provisioner: string;
  /** The header `kid`, when present. */
  readonly kid?: string;
  readonly algorithm: JwsAlgorithm;
  /** `sub`. */
  readonly subject: string;
  /** `sans`: the names the token authorizes (the CSR must carry exactly these). */
  readonly sans: readonly string[];
  /** The `aud` value that matched. */
  readonly audience: string;
  /** `jti`: the one-time identifier the authority consumes. */
  readonly jti: string;
  /** `iat`, when present. */
  readonly issuedAt?: Date;
  /** `nbf`, or `iat` when there is no `nbf`. */
  readonly notBefore: Date;
  /** `exp`. */
  readonly expiresAt: Date;
  /**
   * `exp` plus the leeway: until then a verifier could still accept the token, so the
   * authority must remember its `jti` at least that long.
   */
  readonly rememberUntil: Date;
  /** `sha`: the root fingerprint the client was told to trust (lower-case hex), when present. */
  readonly rootFingerprint?: string;
  /** `cnf.kid`: the CSR the token is bound to, when present. */
  readonly csrFingerprint?: string;
  /** The whole claims set (null-prototype, frozen), for templates. */
  readonly payload: Readonly<JsonObject>;
}

/** Header parameters that would make the token choose or locate its own key, or extend JWS. */
const REFUSED_HEADERS: readonly string[] = [
  'crit', // RFC 7515 §4.1.11: no extension is understood, so every `crit` must be refused
  'jwk', // §4.1.3: an embedded key — the key must come from the provisioner
  'jku', // §4.1.2: a key URL — and an SSRF vector
  'x5u', // §4.1.5: a certificate URL
  'x5c', // §4.1.6: a certificate chain (that is the X5C provisioner's business, not a JWK one)
  'b64', // RFC 7797 §3: unencoded payloads
  'zip', // RFC 7516 §4.1.3: JWE only; deflated payloads are a decompression bomb
];

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one base64url segment strictly: no padding, canonical (RFC 7515 §2, RFC 4648 §3.5). */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

/** Decodes a segment that must hold a JSON object (strict JSON: no duplicate members). */
function decodeJsonSegment(segment: string): JsonObject {
  const bytes = decodeSegment(segment);
  if (bytes === undefined || bytes.length === 0) throw refuse('ERR_TOKEN_MALFORMED');
  let value: JsonValue;
  try {
    value = parseJson(UTF8.decode(bytes), { what: 'token', maxDepth: 8 }).value;
  } catch (e) {
    if (e instanceof TypeError || isSignetError(e)) throw refuse('ERR_TOKEN_MALFORMED');
    throw e;
  }
  if (!isJsonObject(value)) throw refuse('ERR_TOKEN_MALFORMED');
  return value;
}

function own(obj: JsonObject, name: string): JsonValue | undefined {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function isId(v: JsonValue | undefined): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
}

/** A NumericDate (RFC 7519 §2) as Signet accepts it: a non-negative integer number of seconds. */
function numericDate(v: JsonValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw refuse('ERR_TOKEN_MALFORMED');
  return v;
}

function checkOptions(options: Omit<VerifyTokenOptions, 'provisioners'>): { leewayMs: number; maxLifetimeMs: number; audiences: readonly string[] } {
  const leewayMs = options.leewayMs ?? DEFAULT_TOKEN_LEEWAY_MS;
  const maxLifetimeMs = options.maxLifetimeMs ?? MAX_TOKEN_LIFETIME_MS;
  if (!Number.isFinite(leewayMs) || leewayMs < 0 || leewayMs > MAX_TOKEN_LEEWAY_MS) throw badOption('the token leeway must be between 0 and 5m');
  if (!Number.isFinite(maxLifetimeMs) || maxLifetimeMs < 1000 || maxLifetimeMs > MAX_TOKEN_LIFETIME_MS) {
    throw badOption('the maximum token lifetime must be between 1s and 1h');
  }
  if (!(options.now instanceof Date) || Number.isNaN(options.now.getTime())) throw badOption('the verification time is not a valid date');
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a.length === 0)) throw badOption('the expected token audience is empty');
  return { leewayMs, maxLifetimeMs, audiences };
}

/**
 * Verifies a one-time token and returns its claims. The checks run in this order, and the first
 * failure is thrown:
 *
 *  1. size (≤ 8 KiB) and shape: three base64url segments, the header a canonical base64url
 *     JSON object → ERR_TOKEN_MALFORMED;
 *  2. header `alg` in the allow-list (ES256, EdDSA, RS256) → ERR_TOKEN_ALGORITHM — before any
 *     other header parameter, claim or key is looked at;
 *  3. no `crit`, `jwk`, `jku`, `x5u`, `x5c`, `b64`, `zip` header; `kid` a string when present;
 *     a JSON object payload with a string `iss` → ERR_TOKEN_MALFORMED;
 *  4. the provisioner named by `iss` exists, and its `kid` (when configured) equals the header's
 *     → ERR_TOKEN_UNKNOWN_PROVISIONER;
 *  5. `alg` is one the provisioner may use and fits its key → ERR_TOKEN_ALGORITHM;
 *  6. the signature (canonical base64url, the right length, valid) → ERR_TOKEN_SIGNATURE;
 *  7. `typ` is `JWT` when present (RFC 7519 §5.1; case-insensitive per RFC 7515 §4.1.9), and the
 *     claims have their types: `sub` string, `aud` string or one-element array, `exp` and at
 *     least one of `nbf`/`iat` integer NumericDates, `sans` an array of strings, `jti` a string,
 *     `sha` 64 hex digits, `cnf` `{ kid: string }` → ERR_TOKEN_MALFORMED;
 *  8. `aud` equals an expected audience exactly → ERR_TOKEN_AUDIENCE;
 *  9. `exp` not passed, `nbf` and `iat` not in the future, each with the leeway
 *     → ERR_TOKEN_EXPIRED / ERR_TOKEN_NOT_YET_VALID;
 * 10. `exp − nbf` (or `exp − iat`) positive and at most `maxLifetimeMs` → ERR_TOKEN_LIFETIME;
 * 11. `jti` present → ERR_TOKEN_MALFORMED.
 *
 * Replay is not checked here: the authority consumes `(provisioner, jti)` in its store.
 * Throws ERR_BAD_OPTION for out-of-range options (a programming or configuration error).
 */
export function verifyToken(token: string, options: VerifyTokenOptions): TokenClaims {
  return verifyCompact(token, options, {
    allowList: TOKEN_ALGORITHMS,
    refusedHeaders: REFUSED_HEADERS,
    key: (header, payload) => {
      const kid = own(header, 'kid');
      if (kid !== undefined && !isId(kid)) throw refuse('ERR_TOKEN_MALFORMED');
      const iss = own(payload, 'iss');
      if (!isId(iss)) throw refuse('ERR_TOKEN_MALFORMED');
      // 4. the provisioner and its key
      const provisioner = options.provisioners(iss);
      if (provisioner === undefined) throw refuse('ERR_TOKEN_UNKNOWN_PROVISIONER');
      if (provisioner.kid !== undefined && kid !== provisioner.kid) throw refuse('ERR_TOKEN_UNKNOWN_PROVISIONER');
      const key = provisioner.publicKey.type === 'private' ? createPublicKey(provisioner.publicKey) : provisioner.publicKey;
      const fit = algorithmOf(key);
      return { key, issuer: iss, ...(kid === undefined ? {} : { kid }), algorithms: provisioner.algorithms ?? (fit === undefined ? [] : [fit]) };
    },
  });
}

/** Where {@link verifyCompact} gets the verification key and which headers and algorithms it accepts. */
interface KeySource {
  /** Step 2's allow-list. */
  readonly allowList: readonly JwsAlgorithm[];
  /** Header parameters that refuse the token (step 3). */
  readonly refusedHeaders: readonly string[];
  /** Whether `sans` may be absent (a renewal token names a certificate, not names). */
  readonly sansOptional?: boolean;
  /** Steps 3–4: the key (from configuration or a certificate the caller vouches for), and what it may sign with. */
  key(header: JsonObject, payload: JsonObject): { key: KeyObject; issuer: string; kid?: string; algorithms: readonly JwsAlgorithm[] };
}

/** The checks of {@link verifyToken}, with the key found by `source`. */
function verifyCompact(token: string, options: Omit<VerifyTokenOptions, 'provisioners'>, source: KeySource): TokenClaims {
  const { leewayMs, maxLifetimeMs, audiences } = checkOptions(options);

  // 1. size and shape
  if (typeof token !== 'string' || token.length > MAX_TOKEN_SIZE) throw refuse('ERR_TOKEN_MALFORMED');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw refuse('ERR_TOKEN_MALFORMED');
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string];
  const header = decodeJsonSegment(headerSegment);

  // 2. the algorithm, before anything else (RFC 8725 §3.1)
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !(source.allowList as readonly string[]).includes(alg)) throw refuse('ERR_TOKEN_ALGORITHM');
  const algorithm = alg as JwsAlgorithm;

  // 3. header parameters that would bring their own key; 4. the key
  for (const name of source.refusedHeaders) if (Object.hasOwn(header, name)) throw refuse('ERR_TOKEN_MALFORMED');
  const payload = decodeJsonSegment(payloadSegment);
  const { key, issuer, kid, algorithms } = source.key(header, payload);

  // 5. the algorithm for this key
  if (!algorithms.includes(algorithm) || !keyFits(algorithm, key)) throw refuse('ERR_TOKEN_ALGORITHM');

  // 6. the signature over the exact segments received (RFC 7515 §5.2 step 8)
  const signature = decodeSegment(signatureSegment);
  if (signature === undefined || !jwsSignatureVerifies(algorithm, key, Buffer.from(`${headerSegment}.${payloadSegment}`, 'ascii'), signature)) {
    throw refuse('ERR_TOKEN_SIGNATURE');
  }

  // 7. explicit typing (RFC 8725 §3.11) and claim types
  const typ = own(header, 'typ');
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) throw refuse('ERR_TOKEN_MALFORMED');
  const sub = own(payload, 'sub');
  if (!isId(sub)) throw refuse('ERR_TOKEN_MALFORMED');
  const aud = audienceOf(own(payload, 'aud'));
  const exp = numericDate(own(payload, 'exp'));
  const nbf = numericDate(own(payload, 'nbf'));
  const iat = numericDate(own(payload, 'iat'));
  if (exp === undefined) throw refuse('ERR_TOKEN_MALFORMED');
  const start = nbf ?? iat;
  if (start === undefined) throw refuse('ERR_TOKEN_MALFORMED');
  const rawSans = own(payload, 'sans');
  const sans = rawSans === undefined && source.sansOptional === true ? [] : sansOf(rawSans);
  const jti = own(payload, 'jti');
  if (jti !== undefined && !isId(jti)) throw refuse('ERR_TOKEN_MALFORMED');
  const sha = own(payload, 'sha');
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha))) throw refuse('ERR_TOKEN_MALFORMED');
  const csrFingerprint = cnfOf(own(payload, 'cnf'));

  // 8. audience: exact string equality (RFC 7519 §4.1.3; no URL normalization)
  if (!audiences.includes(aud)) throw refuse('ERR_TOKEN_AUDIENCE');

  // 9. validity window (RFC 7519 §4.1.4–4.1.6) with the explicit leeway
  const now = options.now.getTime();
  if (now >= exp * 1000 + leewayMs) throw refuse('ERR_TOKEN_EXPIRED');
  if ((nbf !== undefined && now + leewayMs < nbf * 1000) || (iat !== undefined && now + leewayMs < iat * 1000)) {
    throw refuse('ERR_TOKEN_NOT_YET_VALID');
  }

  // 10. lifetime: short-lived tokens only
  const lifetimeMs = (exp - start) * 1000;
  if (lifetimeMs <= 0 || lifetimeMs > maxLifetimeMs) throw refuse('ERR_TOKEN_LIFETIME');

  // 11. a one-time token needs its one-time id
  if (jti === undefined) throw refuse('ERR_TOKEN_MALFORMED');

  return {
    provisioner: issuer,
    ...(kid === undefined ? {} : { kid }),
    algorithm,
    subject: sub,
    sans,
    audience: aud,
    jti,
    ...(iat === undefined ? {} : { issuedAt: new Date(iat * 1000) }),
    notBefore: new Date(start * 1000),
    expiresAt: new Date(exp * 1000),
    rememberUntil: new Date(exp * 1000 + leewayMs),
    ...(sha === undefined ? {} : { rootFingerprint: sha.toLowerCase() }),
    ...(csrFingerprint === undefined ? {} : { csrFingerprint }),
    payload: deepFreeze(payload),
  };
}

/** Longest lifetime of a renewal token: five minutes. */
export const MAX_RENEWAL_TOKEN_LIFETIME_MS = 300_000;

/** The algorithms a renewal token may use: those of one-time tokens, and ES384 for P-384 certificate keys. */
export const RENEWAL_TOKEN_ALGORITHMS: readonly JwsAlgorithm[] = Object.freeze(['ES256', 'ES384', 'EdDSA', 'RS256'] as const);

/** What {@link verifyRenewalToken} checks a token against. */
export interface VerifyRenewalTokenOptions {
  /** The exact URL(s) of the renewal endpoint. */
  readonly audience: string | readonly string[];
  readonly now: Date;
  readonly leewayMs?: number;
  /**
   * Vouches for the certificate in the `x5c` header (DER of its first element): returns its
   * public key when the authority issued it, throws the refusal otherwise. Called before the
   * signature is checked, so it must not trust anything but the certificate bytes.
   */
  readonly certificateKey: (der: Uint8Array) => KeyObject;
}

/** The verified content of a renewal token. */
export interface RenewalTokenClaims {
  /** `sub`: the serial the token asks to renew. */
  readonly subject: string;
  readonly jti: string;
  readonly rememberUntil: Date;
  /** DER of the certificate in `x5c`, whose key signed the token. */
  readonly certificate: Uint8Array;
}

/**
 * Verifies a renewal token: a compact JWS signed with a certificate's own private key, the
 * certificate in the `x5c` header (RFC 7515 §4.1.6: standard base64 DER), the same claim checks
 * as {@link verifyToken} (audience = the renewal URL, lifetime at most 5 min, `jti` required).
 * It proves possession of the key of a certificate that may have expired, which mTLS cannot.
 */
export function verifyRenewalToken(token: string, options: VerifyRenewalTokenOptions): RenewalTokenClaims {
  return verifyPossessionToken(token, options, REFUSED_HEADERS.filter((h) => h !== 'x5c'), (header) => {
    const x5c = own(header, 'x5c');
    return Array.isArray(x5c) ? x5c[0] : undefined;
  });
}

/**
 * The checks of {@link verifyToken} for a token signed by a certificate's own key, the certificate
 * (standard base64) in the header member `certificateOf` picks: lifetime at most 5 min, `jti`
 * required, and the key from `options.certificateKey` once it vouched for the certificate.
 */
function verifyPossessionToken(
  token: string,
  options: { readonly audience: string | readonly string[]; readonly now: Date; readonly leewayMs?: number; readonly certificateKey: (bytes: Uint8Array) => KeyObject },
  refusedHeaders: readonly string[],
  certificateOf: (header: JsonObject) => JsonValue | undefined,
): RenewalTokenClaims {
  let certificate: Uint8Array | undefined;
  const claims = verifyCompact(
    token,
    { audience: options.audience, now: options.now, maxLifetimeMs: MAX_RENEWAL_TOKEN_LIFETIME_MS, ...(options.leewayMs !== undefined ? { leewayMs: options.leewayMs } : {}) },
    {
      allowList: RENEWAL_TOKEN_ALGORITHMS,
      refusedHeaders,
      sansOptional: true,
      key: (header) => {
        const b64 = certificateOf(header);
        if (typeof b64 !== 'string' || b64.length > MAX_TOKEN_SIZE || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw refuse('ERR_TOKEN_MALFORMED');
        const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
        if (Buffer.from(bytes).toString('base64') !== b64) throw refuse('ERR_TOKEN_MALFORMED');
        certificate = bytes;
        const key = options.certificateKey(bytes);
        const fit = algorithmOf(key);
        return { key, issuer: '', algorithms: fit === undefined ? [] : [fit] };
      },
    },
  );
  return { subject: claims.subject, jti: claims.jti, rememberUntil: claims.rememberUntil, certificate: certificate ?? new Uint8Array() };
}

/** What {@link mintSshPopToken} needs. */
export interface MintSshPopTokenOptions {
  /** The SSH certificate blob to renew. */
  readonly certificate: Uint8Array;
  /** Its private key (the host key). */
  readonly key: KeyObject;
  /** `sub`: the certificate's serial as the inventory writes it (lower-case hex). */
  readonly serial: string;
  /** The endpoint, e.g. `https://ca.example.com:9443/ssh/renew`. */
  readonly audience: string;
  readonly now: Date;
}

/**
 * Mints an SSH proof-of-possession token (as step-ca's SSHPOP): header `{ alg, typ: "JWT",
 * sshpop: base64(certificate) }`, claims `sub` (the serial), `aud`, `iat`, `nbf`, `exp` (5 min),
 * `jti`, signed with the certified key. It renews a host certificate without a provisioner token.
 */
export async function mintSshPopToken(options: MintSshPopTokenOptions): Promise<string> {
  return mintPossessionToken(options, { sshpop: Buffer.from(options.certificate).toString('base64') });
}

/** What {@link verifySshPopToken} checks a token against. */
export interface VerifySshPopTokenOptions {
  readonly audience: string | readonly string[];
  readonly now: Date;
  /**
   * Vouches for the certificate in the `sshpop` header: returns its certified key when the
   * authority issued it, throws the refusal otherwise. Called before the signature is checked.
   */
  readonly certificateKey: (blob: Uint8Array) => KeyObject;
}

/**
 * Verifies an SSH proof-of-possession token: the checks of {@link verifyToken} (audience, lifetime
 * at most 5 min, `jti` required), with the key taken from the certificate in the `sshpop` header
 * (standard base64) once `certificateKey` accepted it.
 */
export function verifySshPopToken(token: string, options: VerifySshPopTokenOptions): RenewalTokenClaims {
  return verifyPossessionToken(token, options, REFUSED_HEADERS, (header) => own(header, 'sshpop'));
}

/** `aud` (RFC 7519 §4.1.3): one string, or an array holding exactly one string. */
function audienceOf(v: JsonValue | undefined): string {
  if (typeof v === 'string' && v.length > 0) return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' && v[0].length > 0) return v[0];
  throw refuse('ERR_TOKEN_MALFORMED');
}

function sansOf(v: JsonValue | undefined): readonly string[] {
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string' && s.length > 0)) throw refuse('ERR_TOKEN_MALFORMED');
  return Object.freeze([...v]);
}

/** `cnf` (RFC 7800 §3.1) with a `kid` member (§3.4) naming the CSR the token is bound to. */
function cnfOf(v: JsonValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) throw refuse('ERR_TOKEN_MALFORMED');
  const kid = own(v, 'kid');
  if (!isId(kid)) throw refuse('ERR_TOKEN_MALFORMED');
  return kid;
}

function deepFreeze<T extends JsonValue>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
