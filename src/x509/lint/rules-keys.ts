/**
 * Rules on the subject public key (RFC 5280 §4.1.2.7) and the signature algorithm
 * (§4.1.1.2, §4.1.2.3): weak keys, curves outside P-256/P-384/P-521, weak hashes, and
 * AlgorithmIdentifier parameters as the algorithm RFCs and CA/B BR §7.1.3 fix them.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey, RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import type { AlgorithmReference } from '../../crypto/signature.js';
import type { Certificate } from '../certificate.js';
import { oidText } from '../certificate-decoders.js';
import { childrenLazy, readSingleLazy } from '../der-lazy.js';
import { OID } from '../oids.js';
import { always, defineRule, perCertificate, unless } from './rule-kit.js';
import { spkiImportable } from './spki-check.js';
import type { LintRule } from './types.js';

/** Public key algorithms the linter accepts (CA/B BR §6.1.5: RSA and ECDSA; RFC 8410: EdDSA and X25519/X448). */
const ALLOWED_KEY_ALGORITHMS: ReadonlySet<string> = new Set([OID.rsaEncryption, OID.rsassaPss, OID.idEcPublicKey, OID.idEd25519, OID.idEd448, OID.idX25519, OID.idX448]);

const ALLOWED_CURVES: ReadonlyMap<string, string> = new Map([
  [OID.prime256v1, 'P-256'],
  [OID.secp384r1, 'P-384'],
  [OID.secp521r1, 'P-521'],
]);

const MD2_RSA = '1.2.840.113549.1.1.2';
const MD4_RSA = '1.2.840.113549.1.1.3';
const DSA_SHA1 = '1.2.840.10040.4.3';
const MD5 = '1.2.840.113549.2.5';

/** Signature algorithms that rest on a broken hash (MD2, MD4, MD5, SHA-1). */
const WEAK_SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  [MD2_RSA, 'md2WithRSAEncryption'],
  [MD4_RSA, 'md4WithRSAEncryption'],
  [OID.md5WithRSAEncryption, 'md5WithRSAEncryption'],
  [OID.sha1WithRSAEncryption, 'sha1WithRSAEncryption'],
  [OID.ecdsaWithSHA1, 'ecdsaWithSHA1'],
  [DSA_SHA1, 'dsaWithSHA1'],
]);

const RSA_PKCS1 = new Set<string>([OID.sha256WithRSAEncryption, OID.sha384WithRSAEncryption, OID.sha512WithRSAEncryption]);
const ECDSA = new Set<string>([OID.ecdsaWithSHA256, OID.ecdsaWithSHA384, OID.ecdsaWithSHA512]);
const EDDSA = new Set<string>([OID.idEd25519, OID.idEd448]);

const NULL_DER = '0500';
const PSS_HASH_LENGTHS: ReadonlyMap<string, number> = new Map([
  [OID.sha256, 32],
  [OID.sha384, 48],
  [OID.sha512, 64],
]);

/** The RSA modulus length in bits and public exponent, read from the SPKI; undefined when not RSA or malformed. */
export function rsaKeyInfo(cert: Certificate): { bits: number; exponent: bigint } | undefined {
  return cert.publicKeyAlgorithm.oid === OID.rsaEncryption || cert.publicKeyAlgorithm.oid === OID.rsassaPss ? decodedRsaKey(cert) : undefined;
}

/** {@link rsaKeyInfo} of an RSA certificate, cached per certificate (several rules ask). */
const decodedRsaKey = perCertificate((cert: Certificate): { bits: number; exponent: bigint } | undefined => {
  let modulus: Uint8Array;
  let exponent: Uint8Array;
  try {
    [modulus, exponent] = plainRsaPublicKey(cert.subjectPublicKey) ?? rsaPublicKeyOf(cert.subjectPublicKey);
  } catch {
    return undefined;
  }
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++;
  const top = modulus[i];
  const bits = top === undefined ? 0 : (modulus.length - i - 1) * 8 + (32 - Math.clz32(top));
  const e = Buffer.from(exponent).toString('hex');
  return { bits, exponent: e.length === 0 ? 0n : BigInt('0x' + e) };
});

/** RSAPublicKey (RFC 8017 §A.1.1) as @peculiar decodes it: the INTEGER contents of modulus and exponent. */
function rsaPublicKeyOf(der: Uint8Array): [Uint8Array, Uint8Array] {
  const k = AsnConvert.parse(der, RSAPublicKey);
  return [new Uint8Array(k.modulus), new Uint8Array(k.publicExponent)];
}

/**
 * The same for the plain DER encoding (`SEQUENCE { INTEGER, INTEGER }`, nothing else), without
 * the schema walk; undefined for anything else, which {@link rsaPublicKeyOf} then decides.
 */
function plainRsaPublicKey(der: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  try {
    const seq = readSingleLazy(der);
    const [n, e, extra] = childrenLazy(seq);
    if (seq.tag !== 0x30 || !n || !e || extra || n.tag !== 0x02 || e.tag !== 0x02 || n.content.length === 0 || e.content.length === 0) return undefined;
    return [n.content, e.content];
  } catch {
    return undefined;
  }
}

function hex(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : Buffer.from(b).toString('hex');
}

/** Why an RSASSA-PSS parameter set is not one of the sane ones (RFC 4055 §3.1, CA/B BR §7.1.3.2). */
function pssProblem(params: Uint8Array | undefined): string | undefined {
  if (params === undefined) return 'RSASSA-PSS parameters are absent (the defaults mean SHA-1)';
  let p: RsaSaPssParams;
  try {
    p = AsnConvert.parse(params, RsaSaPssParams);
  } catch {
    return 'RSASSA-PSS parameters cannot be decoded';
  }
  const hash = p.hashAlgorithm.algorithm;
  const hashLen = PSS_HASH_LENGTHS.get(hash);
  if (hashLen === undefined) return `RSASSA-PSS hash ${hash} is not SHA-256, SHA-384 or SHA-512`;
  if (p.maskGenAlgorithm.algorithm !== OID.mgf1) return `RSASSA-PSS mask generation ${p.maskGenAlgorithm.algorithm} is not MGF1`;
  let mgfHash: string | undefined;
  try {
    mgfHash = p.maskGenAlgorithm.parameters ? AsnConvert.parse(p.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm : undefined;
  } catch {
    mgfHash = undefined;
  }
  if (mgfHash !== hash) return `RSASSA-PSS MGF1 hash ${mgfHash ?? 'SHA-1 (default)'} differs from the message hash ${hash}`;
  if (p.saltLength !== hashLen) return `RSASSA-PSS salt length ${p.saltLength} is not the hash length ${hashLen}`;
  if (p.trailerField !== 1) return `RSASSA-PSS trailer field ${p.trailerField} is not 1`;
  return undefined;
}

function algorithmName(ref: AlgorithmReference): string {
  return WEAK_SIGNATURE_ALGORITHMS.get(ref.oid) ?? ref.oid;
}

export const KEY_RULES: readonly LintRule[] = [
  defineRule({
    id: 'e_public_key_algorithm_not_allowed',
    severity: 'error',
    source: 'CA/B BR §6.1.5, RFC 8410 §3',
    description: 'the subject key is RSA, EC, EdDSA or X25519/X448',
    appliesTo: always,
    check: (cert) => unless(ALLOWED_KEY_ALGORITHMS.has(cert.publicKeyAlgorithm.oid), () => `public key algorithm ${cert.publicKeyAlgorithm.oid} is not allowed`),
  }),
  defineRule({
    id: 'e_public_key_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.1.2.7',
    description: 'the subject public key can be decoded',
    appliesTo: (cert) => ALLOWED_KEY_ALGORITHMS.has(cert.publicKeyAlgorithm.oid),
    check: (cert) => {
      // Decided from the encoding when it can be (importing the key costs several signatures).
      const importable = spkiImportable(cert.spki, cert.publicKeyAlgorithm.oid) ?? cert.publicKey !== undefined;
      if (!importable && !(cert.publicKeyAlgorithm.oid === OID.idEcPublicKey && cert.publicKeyAlgorithm.parameters?.[0] !== 0x06)) {
        return ['the subject public key cannot be decoded'];
      }
      if (cert.publicKeyAlgorithm.oid === OID.rsaEncryption || cert.publicKeyAlgorithm.oid === OID.rsassaPss) {
        return unless(rsaKeyInfo(cert) !== undefined, 'the RSA public key cannot be decoded');
      }
      return [];
    },
  }),
  defineRule({
    id: 'e_rsa_key_too_small',
    severity: 'error',
    source: 'CA/B BR §6.1.5',
    description: 'RSA moduli are at least 2048 bits',
    appliesTo: (cert) => rsaKeyInfo(cert) !== undefined,
    check: (cert) => {
      const bits = rsaKeyInfo(cert)?.bits ?? 0;
      return unless(bits >= 2048, () => `RSA modulus is ${bits} bits (at least 2048)`);
    },
  }),
  defineRule({
    id: 'e_rsa_exponent_invalid',
    severity: 'error',
    source: 'CA/B BR §6.1.6',
    description: 'the RSA public exponent is odd and at least 3',
    appliesTo: (cert) => rsaKeyInfo(cert) !== undefined,
    check: (cert) => {
      const e = rsaKeyInfo(cert)?.exponent ?? 0n;
      return unless(e >= 3n && e % 2n === 1n, () => `RSA public exponent ${e} is not an odd number of at least 3`);
    },
  }),
  defineRule({
    id: 'w_rsa_exponent_not_65537',
    severity: 'warning',
    source: 'CA/B BR §6.1.6, NIST SP 800-89 §5.3.3',
    description: 'the RSA public exponent should be 65537',
    appliesTo: (cert) => {
      const e = rsaKeyInfo(cert)?.exponent;
      return e !== undefined && e >= 3n && e % 2n === 1n;
    },
    check: (cert) => {
      const e = rsaKeyInfo(cert)?.exponent ?? 0n;
      return unless(e === 65537n, () => `RSA public exponent is ${e}, not 65537`);
    },
  }),
  defineRule({
    id: 'e_ec_curve_not_allowed',
    severity: 'error',
    source: 'CA/B BR §6.1.5, RFC 5480 §2.1.1',
    description: 'EC keys use a named curve: P-256, P-384 or P-521',
    appliesTo: (cert) => cert.publicKeyAlgorithm.oid === OID.idEcPublicKey,
    check: (cert) => {
      const p = cert.publicKeyAlgorithm.parameters;
      if (!p || p[0] !== 0x06 || p.length < 3) return ['EC key does not name its curve (explicit or implicit parameters)'];
      let curve: string;
      try {
        curve = oidText(p.subarray(2));
      } catch {
        return ['EC curve identifier cannot be decoded'];
      }
      return unless(ALLOWED_CURVES.has(curve), () => `EC curve ${curve} is not P-256, P-384 or P-521`);
    },
  }),
  defineRule({
    id: 'e_signature_algorithm_weak',
    severity: 'error',
    source: 'CA/B BR §7.1.3.2',
    description: 'no signatures over MD2, MD4, MD5 or SHA-1',
    appliesTo: always,
    check: (cert) => {
      const a = cert.tbsSignatureAlgorithm;
      if (WEAK_SIGNATURE_ALGORITHMS.has(a.oid)) return [`signature algorithm ${algorithmName(a)} uses a broken hash`];
      if (a.oid === OID.rsassaPss && a.parameters !== undefined) {
        try {
          const h = AsnConvert.parse(a.parameters, RsaSaPssParams).hashAlgorithm.algorithm;
          if (h === OID.sha1 || h === MD5) return ['RSASSA-PSS signature uses a broken hash'];
        } catch {
          return [];
        }
      }
      return [];
    },
  }),
  defineRule({
    id: 'w_signature_algorithm_unknown',
    severity: 'warning',
    source: 'CA/B BR §7.1.3.2',
    description: 'the signature algorithm is ECDSA, RSA PKCS#1 v1.5 or PSS with SHA-2, or EdDSA',
    appliesTo: (cert) => !WEAK_SIGNATURE_ALGORITHMS.has(cert.tbsSignatureAlgorithm.oid),
    check: (cert) => {
      const o = cert.tbsSignatureAlgorithm.oid;
      return unless(RSA_PKCS1.has(o) || ECDSA.has(o) || EDDSA.has(o) || o === OID.rsassaPss, () => `signature algorithm ${o} is not one this linter knows`);
    },
  }),
  defineRule({
    id: 'e_signature_algorithm_parameters',
    severity: 'error',
    source: 'RFC 4055 §5, RFC 5758 §3.2, RFC 8410 §3',
    description: 'RSA PKCS#1 v1.5 parameters are NULL; ECDSA and EdDSA parameters are absent',
    appliesTo: (cert) => {
      const o = cert.tbsSignatureAlgorithm.oid;
      return RSA_PKCS1.has(o) || ECDSA.has(o) || EDDSA.has(o);
    },
    check: (cert) => {
      const a = cert.tbsSignatureAlgorithm;
      if (RSA_PKCS1.has(a.oid)) return unless(hex(a.parameters) === NULL_DER, 'RSA PKCS#1 v1.5 signature algorithm parameters are not NULL');
      return unless(a.parameters === undefined, () => `${ECDSA.has(a.oid) ? 'ECDSA' : 'EdDSA'} signature algorithm has parameters`);
    },
  }),
  defineRule({
    id: 'e_rsa_pss_parameters',
    severity: 'error',
    source: 'RFC 4055 §3.1, CA/B BR §7.1.3.2',
    description: 'RSASSA-PSS uses SHA-2, MGF1 with the same hash, salt = hash length, trailer 1',
    appliesTo: (cert) => cert.tbsSignatureAlgorithm.oid === OID.rsassaPss,
    check: (cert) => {
      const p = pssProblem(cert.tbsSignatureAlgorithm.parameters);
      return p === undefined ? [] : [p];
    },
  }),
];
