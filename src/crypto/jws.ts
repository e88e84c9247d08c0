/**
 * JWS signature checks (RFC 7515 §5.2 step 8) with node:crypto, for the algorithms Signet
 * accepts anywhere: ECDSA over P-256/P-384/P-521 (RFC 7518 §3.4: R‖S, each the curve's size),
 * Ed25519 (RFC 8037 §3.1), RSASSA-PKCS1-v1_5 and RSASSA-PSS with SHA-256 (RFC 7518 §3.3, §3.5;
 * the signature exactly the modulus length, RFC 8017 §8.1.2/§8.2.2 step 1). Which algorithms a
 * given edge allows is that edge's allow-list; this only checks.
 */
import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { keyWeakness } from './keys.js';

/** Every JWS algorithm this module verifies. */
export type JwsSignatureAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512';

/** Smallest RSA modulus accepted for a JWS key. */
export const MIN_JWS_RSA_BITS = 2048;

const EC_ALGORITHMS: Readonly<Record<string, JwsSignatureAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/**
 * Whether `key` can verify `alg`: an EC key of the algorithm's curve, an Ed25519 key for EdDSA,
 * an RSA key of at least 2048 bits without known weaknesses for RS256 and PS256.
 */
export function jwsKeyFits(alg: JwsSignatureAlgorithm, key: KeyObject): boolean {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''] === alg;
    case 'ed25519':
      return alg === 'EdDSA';
    case 'rsa':
      return RSA_HASHES[alg] !== undefined && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_JWS_RSA_BITS && keyWeakness(key) === undefined;
    default:
      return false;
  }
}

/** The hash (and its size) of each RSA algorithm (RFC 7518 §3.3, §3.5). */
const RSA_HASHES: Readonly<Partial<Record<JwsSignatureAlgorithm, { hash: string; bytes: number }>>> = {
  RS256: { hash: 'sha256', bytes: 32 },
  RS384: { hash: 'sha384', bytes: 48 },
  RS512: { hash: 'sha512', bytes: 64 },
  PS256: { hash: 'sha256', bytes: 32 },
  PS384: { hash: 'sha384', bytes: 48 },
  PS512: { hash: 'sha512', bytes: 64 },
};

/** True when `signature` is a valid `alg` signature over `signingInput` by `key`; never throws. */
export function jwsSignatureVerifies(alg: JwsSignatureAlgorithm, key: KeyObject, signingInput: Uint8Array, signature: Uint8Array): boolean {
  try {
    const rsaBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    switch (alg) {
      case 'ES256':
        return signature.length === 64 && cryptoVerify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ES384':
        return signature.length === 96 && cryptoVerify('sha384', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'ES512':
        return signature.length === 132 && cryptoVerify('sha512', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'EdDSA':
        return signature.length === 64 && cryptoVerify(null, signingInput, key, signature);
      case 'RS256':
      case 'RS384':
      case 'RS512':
        return signature.length === rsaBytes && cryptoVerify(RSA_HASHES[alg]?.hash ?? '', signingInput, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'PS256':
      case 'PS384':
      case 'PS512': {
        // RFC 7518 §3.5: MGF1 with the same hash and a salt as long as the hash.
        const h = RSA_HASHES[alg] as { hash: string; bytes: number };
        return signature.length === rsaBytes && cryptoVerify(h.hash, signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: h.bytes }, signature);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}
