/**
 * The key seam (DESIGN.md "Seams"): everything that signs goes through `Signer`, so an issuing
 * key can live in this process, a separate signer process, or an HSM.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { assertSigningKey } from './keys.js';
import { defaultSignatureAlgorithm, signWith, type SignatureAlgorithm } from './signature.js';

export interface Signer {
  /** The public half of the signing key. */
  readonly publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo of `publicKey`, cached. */
  readonly spki: Uint8Array;
  /** The algorithm `sign` produces, with its AlgorithmIdentifier DER. */
  readonly algorithm: SignatureAlgorithm;
  /** Signs `data` (the exact bytes that will be covered, e.g. a TBSCertificate). */
  sign(data: Uint8Array): Uint8Array;
}

/**
 * A Signer over a private KeyObject held in this process. Throws ERR_KEY_NOT_PRIVATE,
 * ERR_KEY_UNSUPPORTED or ERR_KEY_WEAK (RSA below 2048 bits) for keys that must not sign.
 */
export function createSoftwareSigner(privateKey: KeyObject, algorithm?: SignatureAlgorithm): Signer {
  // One rule for every signing key: private, of a supported type, not weak (keys.ts).
  assertSigningKey(privateKey);
  const publicKey = createPublicKey(privateKey);
  const alg = algorithm ?? defaultSignatureAlgorithm(privateKey);
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    publicKey,
    spki,
    algorithm: alg,
    sign: (data) => signWith(privateKey, alg, data),
  };
}
