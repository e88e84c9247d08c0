/**
 * JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) for the keys Signet supports, with
 * `kid` = the RFC 7638 thumbprint.
 */
import { KeyObject, createHash, createPublicKey } from 'node:crypto';
import { SignetError } from '../core/errors.js';

/** A JWK as Signet writes and reads it (only the members of EC, OKP and RSA keys). */
export interface Jwk {
  kty: 'EC' | 'OKP' | 'RSA';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  kid?: string;
  alg?: string;
  [member: string]: unknown;
}

/** The JWS `alg` (RFC 7518 §3.1, RFC 8037 §3.1) matching Signet's default signature for a key. */
export function jwsAlgorithm(key: KeyObject): string {
  const t = key.asymmetricKeyType;
  if (t === 'ed25519') return 'EdDSA';
  if (t === 'rsa') return 'RS256';
  if (t === 'ec') {
    const c = key.asymmetricKeyDetails?.namedCurve;
    if (c === 'prime256v1') return 'ES256';
    if (c === 'secp384r1') return 'ES384';
    if (c === 'secp521r1') return 'ES512';
  }
  throw new SignetError('ERR_KEY_UNSUPPORTED', `no JWK form for ${describeType(key)} keys`, {
    hint: 'JWK output supports EC P-256/P-384/P-521, Ed25519 and RSA (not RSA-PSS) keys',
  });
}

/** node:crypto's key type names as messages spell them. */
const TYPE_NAMES: Readonly<Record<string, string>> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', ed25519: 'Ed25519', ed448: 'Ed448', x25519: 'X25519', x448: 'X448', dsa: 'DSA', dh: 'DH' };

function describeType(key: KeyObject): string {
  const t = key.asymmetricKeyType ?? 'unknown';
  if (t === 'ec') return `EC ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim();
  return TYPE_NAMES[t] ?? t;
}

function nodeJwk(key: KeyObject): Jwk {
  jwsAlgorithm(key); // refuses key types without a JWK form before node:crypto does, more vaguely
  return key.export({ format: 'jwk' }) as Jwk;
}

function isJwk(k: KeyObject | Jwk): k is Jwk {
  return !(k instanceof KeyObject);
}

/**
 * The RFC 7638 §3 thumbprint of a key: SHA-256 over the required public members in
 * lexicographic order, without whitespace, base64url-encoded.
 */
export function jwkThumbprint(key: KeyObject | Jwk): string {
  const jwk = isJwk(key) ? key : nodeJwk(key.type === 'private' ? createPublicKey(key) : key);
  let canonical: Record<string, unknown>;
  switch (jwk.kty) {
    case 'EC':
      canonical = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
      break;
    case 'OKP':
      canonical = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
      break;
    case 'RSA':
      canonical = { e: jwk.e, kty: jwk.kty, n: jwk.n };
      break;
    default:
      throw new SignetError('ERR_KEY_UNSUPPORTED', `no thumbprint for JWK key type ${String(jwk.kty)}`);
  }
  for (const [k, v] of Object.entries(canonical)) {
    if (typeof v !== 'string') throw new SignetError('ERR_KEY_MALFORMED', `JWK is missing the "${k}" member`);
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/**
 * Exports a key as a JWK: the public members only for a public key, all members for a private key,
 * plus `kid` (RFC 7638 thumbprint) and `alg`. RSA-PSS keys have no JWK form (ERR_KEY_UNSUPPORTED).
 */
export function exportJwk(key: KeyObject): Jwk {
  const alg = jwsAlgorithm(key);
  const raw = nodeJwk(key);
  const kid = jwkThumbprint(key);
  // A stable member order: kty, curve/modulus, public, private, then kid/alg.
  const order = ['kty', 'crv', 'n', 'e', 'x', 'y', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
  const out: Jwk = { kty: raw.kty };
  for (const m of order) {
    const v = raw[m];
    if (typeof v === 'string') out[m] = v;
  }
  out.kid = kid;
  out.alg = alg;
  return out;
}
