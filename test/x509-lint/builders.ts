/**
 * Certificate builders for the lint tests: a lint-clean root, leaf and SPIFFE SVID, plus helpers
 * to derive defective variants — through the builder's spec where it can express the defect, and
 * by patching TBS fields or assembling DER by hand where it cannot. Keys are generated once.
 */
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { createSoftwareSigner, type Signer } from '../../src/crypto/signer.js';
import type { SignatureAlgorithm } from '../../src/crypto/signature.js';
import { assembleCertificate, buildTbsCertificate, issueCertificate, type CertificateSpec, type IssuerInfo } from '../../src/x509/certificate-builder.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import { children, readSingle } from '../../src/x509/der-reader.js';
import { NULL, bitString, integer, oid, sequence, tlv, unsignedInteger } from '../../src/x509/der.js';
import { keyIdentifier, type ExtensionsSpec } from '../../src/x509/extensions.js';
import { encodeName, type DistinguishedName } from '../../src/x509/name.js';
import { OID } from '../../src/x509/oids.js';

/** The lint time of every test; certificates are valid around it. */
export const NOW = new Date();
const DAY = 86_400_000;

function ec(curve: string): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

/** Keys, generated once per process. */
export const KEYS = {
  ca: ec('prime256v1'),
  leaf: ec('prime256v1'),
  ed25519: generateKeyPairSync('ed25519'),
  secp256k1: ec('secp256k1'),
  rsa2048: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }),
};

export const CA_SIGNER: Signer = createSoftwareSigner(KEYS.ca.privateKey);
export const RSA_SIGNER: Signer = createSoftwareSigner(KEYS.rsa2048.privateKey);

export const ROOT_NAME: DistinguishedName = [[{ type: 'O', value: 'Signet Lint Tests' }], [{ type: 'CN', value: 'Lint Root' }]];

/** The spec of a lint-clean root CA (self-signed by CA_SIGNER). */
export function rootSpec(ext: Partial<ExtensionsSpec> = {}, over: Partial<CertificateSpec> = {}): CertificateSpec {
  return {
    subject: ROOT_NAME,
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + 3650 * DAY),
    publicKey: KEYS.ca.publicKey,
    extensions: {
      basicConstraints: { ca: true },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
      subjectKeyIdentifier: 'auto',
      authorityKeyIdentifier: 'auto',
      ...ext,
    },
    ...over,
  };
}

/** The spec of a lint-clean TLS leaf issued by the root. */
export function leafSpec(ext: Partial<ExtensionsSpec> = {}, over: Partial<CertificateSpec> = {}): CertificateSpec {
  return {
    subject: [[{ type: 'CN', value: 'www.example.com' }]],
    notBefore: new Date(NOW.getTime() - 3_600_000),
    notAfter: new Date(NOW.getTime() + 90 * DAY),
    publicKey: KEYS.leaf.publicKey,
    extensions: {
      keyUsage: { usages: ['digitalSignature'] },
      extKeyUsage: { usages: ['serverAuth', 'clientAuth'] },
      subjectKeyIdentifier: 'auto',
      authorityKeyIdentifier: 'auto',
      subjectAltName: { names: [{ type: 'dns', value: 'www.example.com' }] },
      ...ext,
    },
    ...over,
  };
}

/** The spec of a lint-clean SPIFFE X509-SVID leaf (empty subject, critical URI SAN). */
export function svidSpec(ext: Partial<ExtensionsSpec> = {}, over: Partial<CertificateSpec> = {}): CertificateSpec {
  return leafSpec({ subjectAltName: { names: [{ type: 'uri', value: 'spiffe://example.org/ns/prod/sa/web' }], critical: true }, ...ext }, { subject: [], notAfter: new Date(NOW.getTime() + DAY), ...over });
}

/** The spec of a lint-clean intermediate CA issued by the root (its key is KEYS.leaf's, which is fine for linting). */
export function intermediateSpec(ext: Partial<ExtensionsSpec> = {}, over: Partial<CertificateSpec> = {}): CertificateSpec {
  return rootSpec(ext, { subject: [[{ type: 'CN', value: 'Lint Intermediate' }]], publicKey: KEYS.leaf.publicKey, notAfter: new Date(NOW.getTime() + 1000 * DAY), ...over });
}

export const ROOT_ISSUER: IssuerInfo = { name: encodeName(ROOT_NAME), keyIdentifier: keyIdentifier(CA_SIGNER.spki) };

/** Self-signed with CA_SIGNER (the spec's key should be KEYS.ca.publicKey). */
export function selfSigned(spec: CertificateSpec, signer: Signer = CA_SIGNER): Certificate {
  return parseCertificate(issueCertificate(spec, signer));
}

/** Issued by the root. */
export function issued(spec: CertificateSpec, signer: Signer = CA_SIGNER, issuer: IssuerInfo = ROOT_ISSUER): Certificate {
  return parseCertificate(issueCertificate(spec, signer, issuer));
}

/**
 * Builds the TBS of `spec` (issued by the root unless `self`), lets `patch` rewrite its fields
 * (each a complete TLV, in order), and signs the result.
 */
export function patched(spec: CertificateSpec, patch: (fields: Uint8Array[]) => Uint8Array[], self = false, signer: Signer = CA_SIGNER): Certificate {
  const tbs = buildTbsCertificate(spec, self ? undefined : ROOT_ISSUER, signer.algorithm);
  const fields = children(readSingle(tbs)).map((t) => t.bytes);
  const newTbs = sequence(patch(fields));
  return parseCertificate(assembleCertificate(newTbs, signer.algorithm.identifier, signer.sign(newTbs)));
}

/** A signer that writes `identifier` as its AlgorithmIdentifier but signs as `base` does. */
export function signerWithIdentifier(base: Signer, alg: Partial<SignatureAlgorithm> & { identifier: Uint8Array }): Signer {
  const algorithm: SignatureAlgorithm = { ...base.algorithm, ...alg };
  const key = base;
  return { publicKey: key.publicKey, spki: key.spki, algorithm, sign: (d) => key.sign(d) };
}

/** AlgorithmIdentifier DER. */
export function algId(o: string, params?: Uint8Array): Uint8Array {
  return params ? sequence([oid(o), params]) : sequence([oid(o)]);
}

/** An RSA SubjectPublicKeyInfo with the 2048-bit test modulus and the given exponent. */
export function rsaSpki(exponent: bigint): Uint8Array {
  const jwk = KEYS.rsa2048.publicKey.export({ format: 'jwk' });
  const n = new Uint8Array(Buffer.from(jwk.n ?? '', 'base64url'));
  return sequence([algId(OID.rsaEncryption, NULL), bitString(sequence([unsignedInteger(n), integer(exponent)]))]);
}

/** A SubjectPublicKeyInfo with an arbitrary algorithm and key bits. */
export function rawSpki(algorithm: Uint8Array, key: Uint8Array): Uint8Array {
  return sequence([algorithm, bitString(key)]);
}

/** A raw TLV with a text body (for hand-made times). */
export function textTlv(tag: number, text: string): Uint8Array {
  return tlv(tag, new Uint8Array(Buffer.from(text, 'latin1')));
}
