/**
 * Public API of `crypto/`: generating, reading, writing and describing keys, signature
 * algorithms, and the Signer seam.
 */
export { DEFAULT_KEY_SPEC, KEY_SPECS, generateKey, generateKeyAsync, parseKeySpec } from './key-spec.js';
export type { KeyPair, KeySpec, KeySpecInput } from './key-spec.js';
export {
  MAX_RSA_BITS,
  MIN_RSA_BITS,
  assertKeyPair,
  assertSigningKey,
  describeKey,
  encodePrivateKeyDer,
  encodePrivateKeyPem,
  encodePublicKeyDer,
  encodePublicKeyPem,
  keyWeakness,
  parsePrivateKey,
  parsePublicKey,
  peekKey,
  spkiSha256,
} from './keys.js';
export type { KeyContainer, KeyDescription, KeyFileInfo } from './keys.js';
export { exportJwk, jwkThumbprint, jwsAlgorithm } from './jwk.js';
export type { Jwk } from './jwk.js';
export {
  DEFAULT_PBKDF2_ITERATIONS,
  MAX_PBKDF2_ITERATIONS,
  MIN_PBKDF2_ITERATIONS,
  SCRYPT_PARAMS,
  encryptPrivateKeyInfo,
} from './pkcs8.js';
export type { KeyEncryptionInfo, KeyEncryptionKdf, KeyEncryptionOptions } from './pkcs8.js';
export {
  ED25519_ALGORITHM,
  defaultSignatureAlgorithm,
  digest,
  ecdsaAlgorithm,
  resolveSignatureAlgorithm,
  rsaPkcs1Algorithm,
  rsaPssAlgorithm,
  signWith,
  verifySignature,
} from './signature.js';
export type { AlgorithmReference, HashName, SignatureAlgorithm } from './signature.js';
export { createSoftwareSigner } from './signer.js';
export type { Signer } from './signer.js';
