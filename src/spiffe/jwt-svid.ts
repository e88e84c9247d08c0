/**
 * JWT-SVIDs (SPIFFE JWT-SVID standard): a JWS compact token whose `sub` is a SPIFFE ID, with `aud`
 * and `exp` required. Minting always emits `alg` (from the standard's list), `kid` and
 * `typ: "JWT"` in the header and `sub`, `aud`, `exp`, `iat` in the claims.
 *
 * Validation follows the standard's order (§4, and go-spiffe's):
 *  1. the token's shape (three base64url segments of JSON objects) — `malformed`;
 *  2. the algorithm, before anything else is trusted: one of RS/ES/PS 256/384/512 — `algorithm`
 *     (`none`, HMAC and EdDSA are refused); `typ`, when present, JWT or JOSE; no `crit`;
 *  3. `sub`, a valid SPIFFE ID — `subject`;
 *  4. the bundle of the subject's own trust domain (never a pooled key set) — `no-bundle`;
 *  5. the key: the bundle's jwt-svid key named by `kid`, or, without `kid` (optional on input),
 *     each of its jwt-svid keys — `unknown-key`;
 *  6. the signature — `signature`;
 *  7. `exp` present and not passed (with `leewayMs`) — `expired`;
 *  8. `aud` present and naming the expected audience — `audience`.
 * Every refusal is ERR_JWT_SVID_INVALID with `detail.reason`.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { jwsKeyFits, jwsSignatureVerifies, type JwsSignatureAlgorithm } from '../crypto/jws.js';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../x509/template/json.js';
import type { TrustBundle } from './bundle.js';
import { parseSpiffeId, type SpiffeId } from './id.js';

/** The algorithms the JWT-SVID standard allows (§3.1). */
export const JWT_SVID_ALGORITHMS: readonly JwsSignatureAlgorithm[] = Object.freeze(['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']);

/** Largest token read. */
export const MAX_JWT_SVID_SIZE = 16 * 1024;

export type JwtSvidReason = 'malformed' | 'algorithm' | 'subject' | 'no-bundle' | 'unknown-key' | 'signature' | 'expired' | 'audience';

const MESSAGES: Readonly<Record<JwtSvidReason, string>> = {
  malformed: 'the token is not a JWS compact token of JSON objects',
  algorithm: `the algorithm is not one the JWT-SVID standard allows (${JWT_SVID_ALGORITHMS.join(', ')})`,
  subject: 'the subject (sub) is missing or not a SPIFFE ID',
  'no-bundle': 'there is no bundle for the subject\'s trust domain',
  'unknown-key': 'the bundle of the subject\'s trust domain has no JWT authority for the token\'s key ID',
  signature: 'the signature does not verify with the trust domain\'s JWT authorities',
  expired: 'the token has expired (or has no exp)',
  audience: 'the token is not for this audience (or has no aud)',
};

function refuse(reason: JwtSvidReason): SignetError {
  return new SignetError('ERR_JWT_SVID_INVALID', `invalid JWT-SVID: ${MESSAGES[reason]}`, { detail: { reason } });
}

const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Algorithms of keys already seen (reading a key's details costs more than a small signature's hashing). */
const ALGORITHM_OF = new WeakMap<KeyObject, JwsSignatureAlgorithm>();

/** The JWT-SVID algorithm for a signing key: ES256/384/512 by curve, RS256 for RSA; Ed25519 is not allowed by the standard. */
export function jwtSvidAlgorithm(key: KeyObject): JwsSignatureAlgorithm {
  const known = ALGORITHM_OF.get(key);
  if (known !== undefined) return known;
  const alg = detectAlgorithm(key);
  ALGORITHM_OF.set(key, alg);
  return alg;
}

function detectAlgorithm(key: KeyObject): JwsSignatureAlgorithm {
  if (key.asymmetricKeyType === 'ec') {
    const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as const)[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (alg !== undefined) return alg;
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'RS256';
  throw new SignetError('ERR_KEY_UNSUPPORTED', 'JWT-SVIDs are signed with EC P-256/P-384/P-521 or RSA (≥ 2048 bits) keys, as the JWT-SVID standard allows');
}

/** What {@link mintJwtSvid} needs. */
export interface MintJwtSvidOptions {
  readonly id: SpiffeId;
  readonly audience: readonly string[];
  /** The trust domain's JWT signing key (private) and its key ID in the bundle. */
  readonly key: KeyObject;
  readonly kid: string;
  readonly now: Date;
  readonly ttlMs: number;
}

/** Encoded headers by key ID: one per signing key, the same for every token it signs. */
const HEADERS = new Map<string, string>();
const MAX_HEADERS = 64;

function headerFor(alg: JwsSignatureAlgorithm, kid: string): string {
  const cacheKey = `${alg} ${kid}`;
  let header = HEADERS.get(cacheKey);
  if (header === undefined) {
    header = b64u({ alg, kid, typ: 'JWT' });
    if (HEADERS.size >= MAX_HEADERS) HEADERS.clear();
    HEADERS.set(cacheKey, header);
  }
  return header;
}

/** A JWT-SVID's signing input, checked and encoded, and what signs it ({@link mintJwtSvids}). */
interface Unsigned {
  readonly input: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly ec: boolean;
  readonly key: KeyObject;
}

function unsigned(o: MintJwtSvidOptions): Unsigned {
  if (o.audience.length === 0 || o.audience.some((a) => typeof a !== 'string' || a === '')) throw new SignetError('ERR_BAD_OPTION', 'a JWT-SVID needs at least one audience');
  if (!Number.isFinite(o.ttlMs) || o.ttlMs < 1000) throw new SignetError('ERR_BAD_OPTION', 'a JWT-SVID lives at least one second');
  const alg = jwtSvidAlgorithm(o.key);
  const iat = Math.floor(o.now.getTime() / 1000);
  const payload = b64u({ sub: o.id.toString(), aud: o.audience.length === 1 ? o.audience[0] : [...o.audience], exp: iat + Math.floor(o.ttlMs / 1000), iat });
  const hash = alg === 'RS256' || alg === 'ES256' ? 'sha256' : alg === 'ES384' ? 'sha384' : 'sha512';
  return { input: `${headerFor(alg, o.kid)}.${payload}`, hash, ec: alg.startsWith('ES'), key: o.key };
}

function signed(u: Unsigned): string {
  const data = Buffer.from(u.input);
  const signature = u.ec ? cryptoSign(u.hash, data, { key: u.key, dsaEncoding: 'ieee-p1363' }) : cryptoSign(u.hash, data, u.key);
  return `${u.input}.${signature.toString('base64url')}`;
}

/** Signs a JWT-SVID (see the module comment). */
export function mintJwtSvid(o: MintJwtSvidOptions): string {
  return signed(unsigned(o));
}

/**
 * Signs several JWT-SVIDs: each is checked and encoded first, then all are signed one after the
 * other, so that the signing code and its tables stay in the processor's caches. Each item is a
 * token, or the error {@link mintJwtSvid} would have thrown for it.
 */
export function mintJwtSvids(list: readonly MintJwtSvidOptions[]): (string | SignetError)[] {
  const prepared = list.map((o) => {
    try {
      return unsigned(o);
    } catch (e) {
      if (e instanceof SignetError) return e;
      throw e;
    }
  });
  return prepared.map((u) => (u instanceof SignetError ? u : signed(u)));
}

/** What a valid JWT-SVID says. */
export interface JwtSvid {
  readonly id: SpiffeId;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly issuedAt?: Date;
  readonly kid?: string;
  readonly algorithm: JwsSignatureAlgorithm;
  /** Every claim, as sent. */
  readonly claims: Readonly<JsonObject>;
}

/** What {@link validateJwtSvid} checks a token against. */
export interface ValidateJwtSvidOptions {
  /** The audience this validator is (the token's aud must name it). */
  readonly audience: string;
  /** The bundle of a trust domain, or undefined when it is not known. */
  readonly bundle: (trustDomain: string) => TrustBundle | undefined;
  readonly now: Date;
  /** Clock skew tolerated on `exp` (default 0). */
  readonly leewayMs?: number;
}

function segment(text: string | undefined): JsonObject {
  if (text === undefined || !/^[A-Za-z0-9_-]+$/.test(text)) throw refuse('malformed');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw refuse('malformed');
  let value: JsonValue;
  try {
    value = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes), { what: 'JWT-SVID', maxDepth: 8 }).value;
  } catch {
    throw refuse('malformed');
  }
  if (!isJsonObject(value)) throw refuse('malformed');
  return value;
}

/**
 * The trust domain a token's `sub` names, read without verifying anything (undefined when the
 * token or its subject is malformed): which bundle a caller must fetch before it validates.
 */
export function jwtSvidTrustDomain(token: string): string | undefined {
  if (typeof token !== 'string' || token.length > MAX_JWT_SVID_SIZE) return undefined;
  try {
    const sub = segment(token.split('.')[1]).sub;
    return typeof sub === 'string' ? parseSpiffeId(sub).trustDomain : undefined;
  } catch {
    return undefined;
  }
}

/** Validates a JWT-SVID in the standard's order (see the module comment). */
export function validateJwtSvid(token: string, options: ValidateJwtSvidOptions): JwtSvid {
  if (typeof token !== 'string' || token.length > MAX_JWT_SVID_SIZE) throw refuse('malformed');
  const parts = token.split('.');
  if (parts.length !== 3) throw refuse('malformed');
  const header = segment(parts[0]);
  // 2. the algorithm before anything else
  const alg = Object.hasOwn(header, 'alg') ? header.alg : undefined;
  if (typeof alg !== 'string' || !(JWT_SVID_ALGORITHMS as readonly string[]).includes(alg)) throw refuse('algorithm');
  const algorithm = alg as JwsSignatureAlgorithm;
  const typ = Object.hasOwn(header, 'typ') ? header.typ : undefined;
  if (typ !== undefined && typ !== 'JWT' && typ !== 'JOSE') throw refuse('malformed');
  if (Object.hasOwn(header, 'crit')) throw refuse('malformed');
  const kid = Object.hasOwn(header, 'kid') ? header.kid : undefined;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) throw refuse('malformed');
  const claims = segment(parts[1]);
  // 3. the subject
  const sub = Object.hasOwn(claims, 'sub') ? claims.sub : undefined;
  let id: SpiffeId;
  try {
    if (typeof sub !== 'string') throw new Error('no sub');
    id = parseSpiffeId(sub);
  } catch {
    throw refuse('subject');
  }
  // 4. the bundle of the subject's own trust domain
  const bundle = options.bundle(id.trustDomain);
  if (bundle === undefined || bundle.trustDomain !== id.trustDomain) throw refuse('no-bundle');
  // 5. the key(s)
  let keys: KeyObject[];
  if (kid !== undefined) {
    const key = bundle.jwtAuthorities.get(kid);
    if (key === undefined) throw refuse('unknown-key');
    keys = [key];
  } else {
    keys = [...bundle.jwtAuthorities.values()];
    if (keys.length === 0) throw refuse('unknown-key');
  }
  // 6. the signature
  let signature: Buffer;
  try {
    signature = Buffer.from(parts[2] ?? '', 'base64url');
  } catch {
    throw refuse('malformed');
  }
  if (signature.toString('base64url') !== parts[2]) throw refuse('malformed');
  const input = Buffer.from(`${parts[0] ?? ''}.${parts[1] ?? ''}`, 'ascii');
  if (!keys.some((k) => jwsKeyFits(algorithm, k) && jwsSignatureVerifies(algorithm, k, input, signature))) throw refuse('signature');
  // 7. expiry
  const exp = Object.hasOwn(claims, 'exp') ? claims.exp : undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || options.now.getTime() >= exp * 1000 + (options.leewayMs ?? 0)) throw refuse('expired');
  // 8. audience
  const aud = Object.hasOwn(claims, 'aud') ? claims.aud : undefined;
  const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a): a is string => typeof a === 'string') ? aud : undefined;
  if (audience === undefined || !audience.includes(options.audience)) throw refuse('audience');
  const iat = Object.hasOwn(claims, 'iat') ? claims.iat : undefined;
  return {
    id,
    audience,
    expiresAt: new Date(exp * 1000),
    ...(typeof iat === 'number' ? { issuedAt: new Date(iat * 1000) } : {}),
    ...(kid !== undefined ? { kid } : {}),
    algorithm,
    claims,
  };
}
