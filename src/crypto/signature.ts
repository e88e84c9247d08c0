/**
 * Signature algorithms: which AlgorithmIdentifier a key signs with, and verification of a
 * signature given the AlgorithmIdentifier found in a certificate, CSR or CRL.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { SignetError } from '../core/errors.js';
import { NULL, oid, sequence } from '../x509/der.js';
import { OID } from '../x509/oids.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** A signature algorithm as written in AlgorithmIdentifier, with how node:crypto runs it. */
export interface SignatureAlgorithm {
  /** RFC name, e.g. `ecdsaWithSHA256`, `sha256WithRSAEncryption`, `rsassaPss`, `Ed25519`. */
  readonly name: string;
  readonly oid: string;
  /** Hash passed to node:crypto (null for Ed25519, which hashes internally). */
  readonly hash: HashName | null;
  /** PSS salt length when the algorithm is RSASSA-PSS. */
  readonly pssSaltLength?: number;
  /** DER of the complete AlgorithmIdentifier, ready to embed in a TBS. */
  readonly identifier: Uint8Array;
}

const HASH_OID: Record<HashName, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const HASH_LEN: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

function algId(o: string, params?: Uint8Array): Uint8Array {
  return params ? sequence([oid(o), params]) : sequence([oid(o)]);
}

/** ECDSA with the given hash (RFC 5758 §3.2: parameters absent). */
export function ecdsaAlgorithm(hash: Exclude<HashName, 'sha1'>): SignatureAlgorithm {
  const o = { sha256: OID.ecdsaWithSHA256, sha384: OID.ecdsaWithSHA384, sha512: OID.ecdsaWithSHA512 }[hash];
  return { name: `ecdsaWith${hash.toUpperCase()}`, oid: o, hash, identifier: algId(o) };
}

/** PKCS#1 v1.5 RSA (RFC 4055 §5: parameters NULL). */
export function rsaPkcs1Algorithm(hash: Exclude<HashName, 'sha1'>): SignatureAlgorithm {
  const o = { sha256: OID.sha256WithRSAEncryption, sha384: OID.sha384WithRSAEncryption, sha512: OID.sha512WithRSAEncryption }[hash];
  return { name: `${hash}WithRSAEncryption`, oid: o, hash, identifier: algId(o, NULL) };
}

/**
 * RSASSA-PSS (RFC 4055 §3.1) with MGF1 over the same hash and salt = hash length, the profile
 * OpenSSL and the CA/B Forum use. Parameters are written explicitly (never the SHA-1 defaults).
 */
export function rsaPssAlgorithm(hash: Exclude<HashName, 'sha1'>): SignatureAlgorithm {
  const hashAlg = algId(HASH_OID[hash], NULL);
  const params = sequence([
    Uint8Array.of(0xa0, hashAlg.length, ...hashAlg),
    (() => {
      const mgf = sequence([oid(OID.mgf1), hashAlg]);
      return Uint8Array.of(0xa1, mgf.length, ...mgf);
    })(),
    Uint8Array.of(0xa2, 3, 0x02, 1, HASH_LEN[hash]),
  ]);
  return { name: 'rsassaPss', oid: OID.rsassaPss, hash, pssSaltLength: HASH_LEN[hash], identifier: algId(OID.rsassaPss, params) };
}

export const ED25519_ALGORITHM: SignatureAlgorithm = { name: 'Ed25519', oid: OID.idEd25519, hash: null, identifier: algId(OID.idEd25519) };

/**
 * The default signature algorithm for a key: ECDSA with the curve's matching hash (P-256→SHA-256,
 * P-384→SHA-384, P-521→SHA-512), RSA PKCS#1 v1.5 with SHA-256 (or PSS for RSA-PSS keys), Ed25519.
 */
export function defaultSignatureAlgorithm(key: KeyObject): SignatureAlgorithm {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'ec':
      switch (details.namedCurve) {
        case 'prime256v1':
          return ecdsaAlgorithm('sha256');
        case 'secp384r1':
          return ecdsaAlgorithm('sha384');
        case 'secp521r1':
          return ecdsaAlgorithm('sha512');
        default:
          throw new SignetError('ERR_KEY_UNSUPPORTED', `unsupported curve ${details.namedCurve ?? 'unknown'}`, { hint: 'use P-256, P-384 or P-521' });
      }
    case 'rsa':
      return rsaPkcs1Algorithm('sha256');
    case 'rsa-pss': {
      const h = details.hashAlgorithm;
      const hash = h === 'sha384' || h === 'sha512' ? h : 'sha256';
      return rsaPssAlgorithm(hash);
    }
    case 'ed25519':
      return ED25519_ALGORITHM;
    default:
      throw new SignetError('ERR_KEY_UNSUPPORTED', `unsupported key type ${type ?? 'unknown'}`, { hint: 'use EC (P-256/384/521), Ed25519 or RSA' });
  }
}

/** Signs `data` with `key` as `alg` describes. ECDSA signatures are DER (X9.62) encoded. */
export function signWith(key: KeyObject, alg: SignatureAlgorithm, data: Uint8Array): Uint8Array {
  if (alg.pssSaltLength !== undefined) {
    return new Uint8Array(cryptoSign(alg.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pssSaltLength }));
  }
  return new Uint8Array(cryptoSign(alg.hash, data, key));
}

/** An AlgorithmIdentifier as found in a parsed object: dotted OID and raw parameters DER. */
export interface AlgorithmReference {
  readonly oid: string;
  /** DER of the parameters field, when present. */
  readonly parameters?: Uint8Array | undefined;
}

/** Resolves a parsed AlgorithmIdentifier into hash and padding; throws for unsupported or weak ones. */
export function resolveSignatureAlgorithm(ref: AlgorithmReference): { hash: HashName | null; pss?: { saltLength: number } ; name: string } {
  switch (ref.oid) {
    case OID.ecdsaWithSHA256:
      return { hash: 'sha256', name: 'ecdsaWithSHA256' };
    case OID.ecdsaWithSHA384:
      return { hash: 'sha384', name: 'ecdsaWithSHA384' };
    case OID.ecdsaWithSHA512:
      return { hash: 'sha512', name: 'ecdsaWithSHA512' };
    case OID.ecdsaWithSHA1:
      return { hash: 'sha1', name: 'ecdsaWithSHA1' };
    case OID.sha256WithRSAEncryption:
      return { hash: 'sha256', name: 'sha256WithRSAEncryption' };
    case OID.sha384WithRSAEncryption:
      return { hash: 'sha384', name: 'sha384WithRSAEncryption' };
    case OID.sha512WithRSAEncryption:
      return { hash: 'sha512', name: 'sha512WithRSAEncryption' };
    case OID.sha1WithRSAEncryption:
      return { hash: 'sha1', name: 'sha1WithRSAEncryption' };
    case OID.idEd25519:
      return { hash: null, name: 'Ed25519' };
    case OID.rsassaPss: {
      if (!ref.parameters) {
        throw new SignetError('ERR_SIGNATURE_ALGORITHM_UNSUPPORTED', 'RSASSA-PSS without parameters is not supported');
      }
      let params: RsaSaPssParams;
      try {
        params = AsnConvert.parse(ref.parameters, RsaSaPssParams);
      } catch (e) {
        throw new SignetError('ERR_DER_MALFORMED', 'malformed RSASSA-PSS parameters', { cause: e });
      }
      const hash = (Object.entries(HASH_OID).find(([, v]) => v === params.hashAlgorithm.algorithm)?.[0] ?? null) as HashName | null;
      if (!hash) throw new SignetError('ERR_SIGNATURE_ALGORITHM_UNSUPPORTED', `unsupported PSS hash ${params.hashAlgorithm.algorithm}`);
      if (params.maskGenAlgorithm.algorithm !== OID.mgf1) {
        throw new SignetError('ERR_SIGNATURE_ALGORITHM_UNSUPPORTED', 'unsupported PSS mask generation function');
      }
      return { hash, pss: { saltLength: params.saltLength }, name: 'rsassaPss' };
    }
    default:
      throw new SignetError('ERR_SIGNATURE_ALGORITHM_UNSUPPORTED', `unsupported signature algorithm ${ref.oid}`);
  }
}

/**
 * Verifies `signature` over `data` with `publicKey` as the AlgorithmIdentifier says. Returns false
 * for a wrong signature; throws SignetError for unsupported algorithms or a key that does not
 * match the algorithm family.
 */
export function verifySignature(publicKey: KeyObject, alg: AlgorithmReference, data: Uint8Array, signature: Uint8Array): boolean {
  const r = resolveSignatureAlgorithm(alg);
  const kt = publicKey.asymmetricKeyType;
  const family = r.name.startsWith('ecdsa') ? 'ec' : r.name === 'Ed25519' ? 'ed25519' : 'rsa';
  const ok = family === 'rsa' ? kt === 'rsa' || kt === 'rsa-pss' : kt === family;
  if (!ok) return false;
  try {
    if (r.pss) {
      return cryptoVerify(r.hash, data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: r.pss.saltLength }, signature);
    }
    return cryptoVerify(r.hash, data, publicKey, signature);
  } catch {
    // node:crypto throws on structurally invalid signatures (e.g. bad ECDSA DER): that is "invalid".
    return false;
  }
}

/** SHA-x digest helper. */
export function digest(hash: HashName, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(data).digest());
}
