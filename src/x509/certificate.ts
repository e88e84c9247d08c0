/**
 * Parsing of X.509 certificates (RFC 5280 §4.1) into one model shared by inspection, path
 * validation and linting. The structure comes from a strict DER walk (der-lazy.ts) that slices
 * exact bytes (the TBS a signature covers, Names, extension values), so nothing is re-encoded
 * before it is compared or verified. The extensions every leaf carries, Names and GeneralNames
 * are decoded by hand (certificate-decoders.ts); the rarer extensions by @peculiar/asn1-x509.
 *
 * The CA parses and lints every TBS before signing it, so parsing is kept cheaper than a P-256
 * signature (`bench/lint.ts`): no schema walk for common values, views instead of copies, and the
 * public key import (the costliest step, several signatures) and fingerprint only on first use.
 *
 * Parsing is tolerant of *profile* defects (negative serials, duplicate extensions, undecodable
 * extension values) so the linter can report them; it rejects only what is not a certificate.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { importSpki } from '../crypto/spki.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityInfoAccessSyntax, CRLDistributionPoints, CertificatePolicies, PolicyConstraints, InhibitAnyPolicy } from '@peculiar/asn1-x509';
import { SignetError } from '../core/errors.js';
import { decodePemAll, looksLikePem } from '../core/pem.js';
import { equalBytes, fromHex } from '../core/bytes.js';
import type { AlgorithmReference } from '../crypto/signature.js';
import { childrenLazy as children, readSingleLazy as readSingle, type LazyTlv } from './der-lazy.js';
import { decodeGeneralName, decodeGeneralNames, decodeName, type Name, type ParsedGeneralName } from './decode-names.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectKeyIdentifier,
  fastAuthorityInfoAccess,
  fastCertificatePolicies,
  fastCrlDistributionPoints,
  fastGeneralNames,
  fastName,
  oidOf,
} from './certificate-decoders.js';
import { NULL, bitString, oid, sequence, unsignedInteger } from './der.js';
import { OID } from './oids.js';
import { readTlv } from './der-reader.js';
import { decodeAsn1Time, utcInstant } from './asn1-time.js';

/** One extension as encoded: `value` is the content of extnValue (the DER of the extension). */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
export const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface NameConstraintsValue {
  readonly permitted: readonly ParsedGeneralName[];
  readonly excluded: readonly ParsedGeneralName[];
  /** True when a GeneralSubtree carried a non-zero minimum or a maximum (RFC 5280 forbids both). */
  readonly hasMinMax: boolean;
}

/** Typed views of the extensions this project understands; absent when the extension is absent. */
export interface DecodedExtensions {
  basicConstraints?: { ca: boolean; pathLenConstraint?: number };
  keyUsage?: { usages: KeyUsageName[]; unusedBitsSet: boolean };
  extKeyUsage?: string[];
  subjectAltName?: ParsedGeneralName[];
  issuerAltName?: ParsedGeneralName[];
  nameConstraints?: NameConstraintsValue;
  subjectKeyIdentifier?: Uint8Array;
  authorityKeyIdentifier?: { keyIdentifier?: Uint8Array; hasIssuerAndSerial: boolean };
  crlDistributionPoints?: string[];
  authorityInfoAccess?: { ocsp: string[]; caIssuers: string[]; other: string[] };
  certificatePolicies?: string[];
  policyConstraints?: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number };
  inhibitAnyPolicy?: number;
}

export interface Certificate {
  /** The complete certificate DER. */
  readonly der: Uint8Array;
  /** TBSCertificate DER exactly as signed. */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** Content octets of the serialNumber INTEGER (two's complement, as encoded). */
  readonly serialNumber: Uint8Array;
  /** Serial as lower-case hex of its content octets (leading 00 sign octet kept off). */
  readonly serialHex: string;
  readonly tbsSignatureAlgorithm: AlgorithmReference;
  readonly signatureAlgorithm: AlgorithmReference;
  readonly signatureValue: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Which ASN.1 type encoded each validity time (RFC 5280 §4.1.2.5). */
  readonly notBeforeTag: 'UTCTime' | 'GeneralizedTime';
  readonly notAfterTag: 'UTCTime' | 'GeneralizedTime';
  /** Raw validity time strings, for linting their format. */
  readonly notBeforeText: string;
  readonly notAfterText: string;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly publicKeyAlgorithm: AlgorithmReference;
  /** The subjectPublicKey BIT STRING content (without the unused-bits octet). */
  readonly subjectPublicKey: Uint8Array;
  /**
   * The key as node:crypto sees it; undefined when node cannot import it (unsupported type).
   * Imported on first use (a getter), or the caller's KeyObject when it is this key.
   */
  readonly publicKey: KeyObject | undefined;
  readonly hasIssuerUniqueId: boolean;
  readonly hasSubjectUniqueId: boolean;
  readonly extensions: readonly Extension[];
  /** OIDs that occur more than once in `extensions` (RFC 5280 §4.2: "MUST NOT include more than one instance"). */
  readonly duplicateExtensions: readonly string[];
  readonly ext: DecodedExtensions;
  /** Extensions whose value could not be decoded: oid → reason. */
  readonly extensionErrors: ReadonlyMap<string, string>;
  /** SHA-256 of the DER, lower-case hex (computed on first use). */
  readonly fingerprintSha256: string;
}

const CODE = 'ERR_CERT_MALFORMED';

function fail(message: string): never {
  throw new SignetError(CODE, message);
}

function algorithm(t: LazyTlv): AlgorithmReference {
  if (t.tag !== 0x30) fail('algorithm identifier is not a sequence');
  const parts = children(t, CODE);
  const o = parts[0];
  if (!o || o.tag !== 0x06) fail('algorithm identifier without OID');
  return { oid: oidOf(o), parameters: parts[1]?.bytes };
}

/** Two decimal digits at `i` of `c`, or -1. */
function digits2(c: Uint8Array, i: number): number {
  const a = (c[i] as number) - 0x30;
  const b = (c[i + 1] as number) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** A validity Time (RFC 5280 §4.1.2.5); `source` is a Buffer view of the TLV's source. */
function parseTime(t: LazyTlv, source: Buffer): { date: Date; tag: 'UTCTime' | 'GeneralizedTime'; text: string } {
  const c = t.content;
  const text = source.toString('latin1', t.contentStart, t.end);
  // The forms RFC 5280 §4.1.2.5.1/§4.1.2.5.2 require, without a regular expression.
  if (t.tag === 0x17 && c.length === 13 && c[12] === 0x5a) {
    const f = [0, 2, 4, 6, 8, 10].map((i) => digits2(c, i));
    if (f.every((x) => x >= 0)) {
      const yy = f[0] as number;
      return { date: dateOf(yy >= 50 ? 1900 + yy : 2000 + yy, f[1] as number, f[2] as number, f[3] as number, f[4] as number, f[5] as number, text), tag: 'UTCTime', text };
    }
  }
  if (t.tag === 0x18 && c.length === 15 && c[14] === 0x5a) {
    const f = [0, 2, 4, 6, 8, 10, 12].map((i) => digits2(c, i));
    if (f.every((x) => x >= 0)) {
      return { date: dateOf((f[0] as number) * 100 + (f[1] as number), f[2] as number, f[3] as number, f[4] as number, f[5] as number, f[6] as number, text), tag: 'GeneralizedTime', text };
    }
  }
  const decoded = decodeAsn1Time(t.tag, text);
  if (typeof decoded === 'string') fail(decoded);
  return { date: decoded, tag: t.tag === 0x17 ? 'UTCTime' : 'GeneralizedTime', text };
}

function dateOf(year: number, mo: number, d: number, h: number, mi: number, s: number, text: string): Date {
  return utcInstant(year, mo, d, h, mi, s) ?? fail(`invalid time "${text}"`);
}

/**
 * Decodes the extensions this project understands. The common ones go through the hand-written
 * decoders of decode-extensions.ts; the rarer ones (and CRL DP, AIA and policies that are not in
 * the plain shape CAs write) through @peculiar/asn1-x509.
 */
function decodeExtensions(extensions: readonly Extension[]): { ext: DecodedExtensions; errors: Map<string, string> } {
  const ext: DecodedExtensions = {};
  const errors = new Map<string, string>();
  for (const e of extensions) {
    try {
      switch (e.oid) {
        case OID.basicConstraints:
          ext.basicConstraints = decodeBasicConstraints(e.value);
          break;
        case OID.keyUsage:
          ext.keyUsage = decodeKeyUsage(e.value);
          break;
        case OID.extKeyUsage:
          ext.extKeyUsage = decodeExtKeyUsage(e.value);
          break;
        case OID.subjectAltName:
          ext.subjectAltName = fastGeneralNames(e.value) ?? decodeGeneralNames(e.value, CODE);
          break;
        case OID.issuerAltName:
          ext.issuerAltName = fastGeneralNames(e.value) ?? decodeGeneralNames(e.value, CODE);
          break;
        case OID.nameConstraints:
          ext.nameConstraints = decodeNameConstraints(e.value);
          break;
        case OID.subjectKeyIdentifier:
          ext.subjectKeyIdentifier = decodeSubjectKeyIdentifier(e.value);
          break;
        case OID.authorityKeyIdentifier:
          ext.authorityKeyIdentifier = decodeAuthorityKeyIdentifier(e.value);
          break;
        case OID.cRLDistributionPoints: {
          const fast = fastCrlDistributionPoints(e.value);
          if (fast) {
            ext.crlDistributionPoints = fast;
            break;
          }
          const dps = AsnConvert.parse(e.value, CRLDistributionPoints);
          ext.crlDistributionPoints = [...dps].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap((gn) => (gn.uniformResourceIdentifier ? [gn.uniformResourceIdentifier] : [])));
          break;
        }
        case OID.authorityInfoAccess: {
          const fast = fastAuthorityInfoAccess(e.value);
          if (fast) {
            ext.authorityInfoAccess = fast;
            break;
          }
          const aia = AsnConvert.parse(e.value, AuthorityInfoAccessSyntax);
          const v = { ocsp: [] as string[], caIssuers: [] as string[], other: [] as string[] };
          for (const ad of aia) {
            const uri = ad.accessLocation.uniformResourceIdentifier;
            if (ad.accessMethod === OID.ocsp && uri) v.ocsp.push(uri);
            else if (ad.accessMethod === OID.caIssuers && uri) v.caIssuers.push(uri);
            else v.other.push(ad.accessMethod);
          }
          ext.authorityInfoAccess = v;
          break;
        }
        case OID.certificatePolicies:
          ext.certificatePolicies = fastCertificatePolicies(e.value) ?? [...AsnConvert.parse(e.value, CertificatePolicies)].map((p) => p.policyIdentifier);
          break;
        case OID.policyConstraints: {
          const pc = AsnConvert.parse(e.value, PolicyConstraints);
          ext.policyConstraints = {
            ...(pc.requireExplicitPolicy !== undefined ? { requireExplicitPolicy: Number(pc.requireExplicitPolicy) } : {}),
            ...(pc.inhibitPolicyMapping !== undefined ? { inhibitPolicyMapping: Number(pc.inhibitPolicyMapping) } : {}),
          };
          break;
        }
        case OID.inhibitAnyPolicy:
          ext.inhibitAnyPolicy = Number(AsnConvert.parse(e.value, InhibitAnyPolicy).value);
          break;
        default:
          break;
      }
    } catch (err) {
      errors.set(e.oid, err instanceof SignetError ? err.message : `cannot decode extension ${e.oid}`);
    }
  }
  return { ext, errors };
}

function decodeNameConstraints(value: Uint8Array): NameConstraintsValue {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('name constraints is not a sequence');
  const permitted: ParsedGeneralName[] = [];
  const excluded: ParsedGeneralName[] = [];
  let hasMinMax = false;
  for (const part of children(seq, CODE)) {
    const target = part.tag === 0xa0 ? permitted : part.tag === 0xa1 ? excluded : fail('unexpected field in name constraints');
    for (const subtree of children(part, CODE)) {
      const [base, ...rest] = children(subtree, CODE);
      if (subtree.tag !== 0x30 || !base) fail('malformed general subtree');
      for (const r of rest) {
        // minimum [0] DEFAULT 0 is omitted in DER; maximum [1] must be absent (RFC 5280 §4.2.1.10).
        if (r.tag === 0x80 && !(r.content.length === 1 && r.content[0] === 0)) hasMinMax = true;
        else if (r.tag === 0x80) hasMinMax = true; // an explicit DEFAULT is also a DER error
        if (r.tag === 0x81) hasMinMax = true;
      }
      target.push(decodeGeneralName(base, true, CODE));
    }
  }
  return { permitted, excluded, hasMinMax };
}

/** Options of {@link parseCertificate} and {@link parseTbsCertificate}. */
export interface ParseCertificateOptions {
  /**
   * The subject public key as the caller already holds it (e.g. the CA, from the CSR it is
   * certifying). It becomes `publicKey` when its canonical SubjectPublicKeyInfo is byte-identical
   * to the certificate's — checked, never trusted — which saves importing the key again
   * (`createPublicKey` costs several P-256 signatures). A key that does not match is ignored.
   */
  readonly publicKey?: KeyObject;
}

/** Everything of a certificate that the TBSCertificate holds, decoded. */
type TbsFields = Omit<Certificate, 'der' | 'signatureAlgorithm' | 'signatureValue' | 'publicKey' | 'fingerprintSha256'>;

/** Decodes a TBSCertificate TLV (RFC 5280 §4.1.2); `algorithmDer` is its signature field as encoded. */
function parseTbsFields(tbsT: LazyTlv): { fields: TbsFields; algorithmDer: Uint8Array } {
  if (tbsT.tag !== 0x30) fail('tbsCertificate is not a sequence');
  const all = children(tbsT, CODE);
  // One Buffer view of the whole source, for text (Buffer.toString over a range is the fast path).
  const src = tbsT.source;
  const text = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  let version = 1;
  let i = 0;
  const first = all[0];
  if (first && first.tag === 0xa0) {
    const v = children(first, CODE)[0];
    if (!v || v.tag !== 0x02 || v.end - v.contentStart !== 1) fail('malformed version');
    version = (src[v.contentStart] as number) + 1;
    if (version < 1 || version > 3) fail(`unknown certificate version ${version}`);
    i = 1;
  }
  const serialT = all[i];
  const tbsAlgT = all[i + 1];
  const issuerT = all[i + 2];
  const validityT = all[i + 3];
  const subjectT = all[i + 4];
  const spkiT = all[i + 5];
  if (!serialT || !tbsAlgT || !issuerT || !validityT || !subjectT || !spkiT) fail('tbsCertificate is missing fields');
  if (serialT.tag !== 0x02 || serialT.end === serialT.contentStart) fail('serial number is not an integer');
  if (validityT.tag !== 0x30) fail('validity is not a sequence');
  const times = children(validityT, CODE);
  const nbT = times[0];
  const naT = times[1];
  if (!nbT || !naT || times.length > 2) fail('validity has two times');
  const nb = parseTime(nbT, text);
  const na = parseTime(naT, text);
  if (spkiT.tag !== 0x30) fail('subjectPublicKeyInfo is not a sequence');
  const spkiParts = children(spkiT, CODE);
  const spkiAlgT = spkiParts[0];
  const spkBitsT = spkiParts[1];
  if (!spkiAlgT || !spkBitsT || spkBitsT.tag !== 0x03 || spkBitsT.end === spkBitsT.contentStart) fail('malformed subjectPublicKeyInfo');

  let hasIssuerUniqueId = false;
  let hasSubjectUniqueId = false;
  const extensions: Extension[] = [];
  for (let k = i + 6; k < all.length; k++) {
    const o = all[k] as LazyTlv;
    if (o.tag === 0x81) hasIssuerUniqueId = true;
    else if (o.tag === 0x82) hasSubjectUniqueId = true;
    else if (o.tag === 0xa3) {
      const extsT = children(o, CODE)[0];
      if (!extsT || extsT.tag !== 0x30) fail('extensions is not a sequence');
      for (const e of children(extsT, CODE)) {
        const ef = children(e, CODE);
        const oidT = ef[0];
        if (e.tag !== 0x30 || !oidT || oidT.tag !== 0x06) fail('malformed extension');
        let critical = false;
        let valueT = ef[1];
        if (valueT && valueT.tag === 0x01) {
          if (valueT.end - valueT.contentStart !== 1) fail('malformed extension criticality');
          critical = src[valueT.contentStart] !== 0;
          valueT = ef[2];
        }
        if (!valueT || valueT.tag !== 0x04) fail('extension value is not an octet string');
        extensions.push({ oid: oidOf(oidT), critical, value: valueT.content });
      }
    } else fail(`unexpected field 0x${o.tag.toString(16)} in tbsCertificate`);
  }
  const { ext, errors } = decodeExtensions(extensions);

  const serialStart = serialT.end - serialT.contentStart > 1 && src[serialT.contentStart] === 0 ? serialT.contentStart + 1 : serialT.contentStart;
  const decoded: TbsFields = {
    tbs: tbsT.bytes,
    version,
    serialNumber: serialT.content,
    serialHex: text.toString('hex', serialStart, serialT.end),
    tbsSignatureAlgorithm: algorithm(tbsAlgT),
    issuer: issuerName(issuerT.bytes),
    subject: fastName(subjectT.bytes) ?? decodeName(subjectT.bytes, CODE),
    notBefore: nb.date,
    notAfter: na.date,
    notBeforeTag: nb.tag,
    notAfterTag: na.tag,
    notBeforeText: nb.text,
    notAfterText: na.text,
    spki: spkiT.bytes,
    publicKeyAlgorithm: algorithm(spkiAlgT),
    subjectPublicKey: src.subarray(spkBitsT.contentStart + 1, spkBitsT.end),
    hasIssuerUniqueId,
    hasSubjectUniqueId,
    extensions,
    duplicateExtensions: duplicates(extensions),
    ext,
    extensionErrors: errors,
  };
  return { fields: decoded, algorithmDer: tbsAlgT.bytes };
}

/** Recently decoded issuer Names, most recent first: a CA's certificates all carry the same few. */
const recentIssuers: Name[] = [];

/**
 * The issuer Name, from {@link recentIssuers} when its DER was decoded recently. Cached Names are
 * frozen and carry a copy of their DER (equal bytes, not a view into this certificate).
 */
function issuerName(der: Uint8Array): Name {
  for (const n of recentIssuers) if (equalBytes(n.der, der)) return n;
  const decoded = fastName(der) ?? decodeName(der, CODE);
  const name: Name = Object.freeze({ der: der.slice(), rdns: Object.freeze(decoded.rdns.map((rdn) => Object.freeze(rdn.map((a) => Object.freeze({ ...a }))))), text: decoded.text });
  recentIssuers.unshift(name);
  if (recentIssuers.length > 4) recentIssuers.pop();
  return name;
}

/** OIDs that occur more than once, in the order their second occurrence appears. */
function duplicates(extensions: readonly Extension[]): string[] {
  const dups: string[] = [];
  if (extensions.length <= 32) {
    // Quadratic but allocation-free for the usual handful of extensions.
    for (let j = 1; j < extensions.length; j++) {
      const oid = (extensions[j] as Extension).oid;
      if (dups.includes(oid)) continue;
      for (let k = 0; k < j; k++) {
        if ((extensions[k] as Extension).oid === oid) {
          dups.push(oid);
          break;
        }
      }
    }
    return dups;
  }
  const seen = new Set<string>();
  const dupSet = new Set<string>();
  for (const e of extensions) (seen.has(e.oid) ? dupSet : seen).add(e.oid);
  return [...dupSet];
}

const EC_SPKI_PREFIX: ReadonlyMap<string, Uint8Array> = new Map([
  ['P-256', fromHex('3059301306072a8648ce3d020106082a8648ce3d030107034200')],
  ['P-384', fromHex('3076301006072a8648ce3d020106052b81040022036200')],
  ['P-521', fromHex('30819b301006072a8648ce3d020106052b8104002303818600')],
]);

const OKP_SPKI_PREFIX: ReadonlyMap<string, Uint8Array> = new Map([
  ['ed25519', fromHex('302a300506032b6570032100')],
  ['x25519', fromHex('302a300506032b656e032100')],
  ['ed448', fromHex('3043300506032b6571033a00')],
  ['x448', fromHex('3042300506032b656f033900')],
]);

/** True when `spki` is `prefix` followed by the concatenation of `parts`. */
function spkiIs(spki: Uint8Array, prefix: Uint8Array, parts: readonly Uint8Array[]): boolean {
  let n = prefix.length;
  for (const p of parts) n += p.length;
  if (spki.length !== n || !equalBytes(spki.subarray(0, prefix.length), prefix)) return false;
  let o = prefix.length;
  for (const p of parts) {
    if (!equalBytes(spki.subarray(o, o + p.length), p)) return false;
    o += p.length;
  }
  return true;
}

function b64u(s: string | undefined): Uint8Array {
  return s === undefined ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'base64url'));
}

/**
 * True when `spki` is byte for byte the SubjectPublicKeyInfo node:crypto would export for `key`
 * (named-curve EC with an uncompressed point, the RFC 8410 keys, rsaEncryption). Rebuilt from
 * the key's JWK, which node exports in microseconds, unlike DER.
 */
function keyEncodesAs(key: KeyObject, spki: Uint8Array): boolean {
  if (key.type !== 'public') return false;
  try {
    const type = key.asymmetricKeyType;
    if (type === 'ec') {
      const jwk = key.export({ format: 'jwk' });
      const prefix = EC_SPKI_PREFIX.get(jwk.crv ?? '');
      return prefix !== undefined && spkiIs(spki, prefix, [Uint8Array.of(4), b64u(jwk.x), b64u(jwk.y)]);
    }
    const okp = type === undefined ? undefined : OKP_SPKI_PREFIX.get(type);
    if (okp) return spkiIs(spki, okp, [b64u(key.export({ format: 'jwk' }).x)]);
    if (type === 'rsa') {
      const jwk = key.export({ format: 'jwk' });
      const rsaKey = sequence([unsignedInteger(b64u(jwk.n)), unsignedInteger(b64u(jwk.e))]);
      return equalBytes(spki, sequence([sequence([oid(OID.rsaEncryption), NULL]), bitString(rsaKey)]));
    }
    return false;
  } catch {
    return false;
  }
}

/** The key node:crypto imports from `spki` (the hint when it is that key); undefined when node cannot. */
function importPublicKey(spki: Uint8Array, hint: KeyObject | undefined): KeyObject | undefined {
  if (hint && keyEncodesAs(hint, spki)) return hint;
  try {
    return importSpki(spki);
  } catch {
    return undefined;
  }
}

/**
 * The model as parsers return it. `der`, `publicKey` (a key import, which costs several P-256
 * signatures) and `fingerprintSha256` (a hash) are computed on first use and then kept; they are
 * getters on the prototype (own accessors make V8 create and collect every certificate slowly).
 */
class ParsedCertificate implements Certificate {
  readonly tbs: Uint8Array;
  readonly version: number;
  readonly serialNumber: Uint8Array;
  readonly serialHex: string;
  readonly tbsSignatureAlgorithm: AlgorithmReference;
  readonly signatureAlgorithm: AlgorithmReference;
  readonly signatureValue: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly notBeforeTag: 'UTCTime' | 'GeneralizedTime';
  readonly notAfterTag: 'UTCTime' | 'GeneralizedTime';
  readonly notBeforeText: string;
  readonly notAfterText: string;
  readonly spki: Uint8Array;
  readonly publicKeyAlgorithm: AlgorithmReference;
  readonly subjectPublicKey: Uint8Array;
  readonly hasIssuerUniqueId: boolean;
  readonly hasSubjectUniqueId: boolean;
  readonly extensions: readonly Extension[];
  readonly duplicateExtensions: readonly string[];
  readonly ext: DecodedExtensions;
  readonly extensionErrors: ReadonlyMap<string, string>;
  readonly #makeDer: () => Uint8Array;
  readonly #hint: KeyObject | undefined;
  #der: Uint8Array | undefined;
  #key: { value: KeyObject | undefined } | undefined;
  #fingerprint: string | undefined;

  constructor(f: TbsFields, der: () => Uint8Array, signatureAlgorithm: AlgorithmReference, signatureValue: Uint8Array, hint: KeyObject | undefined) {
    this.tbs = f.tbs;
    this.version = f.version;
    this.serialNumber = f.serialNumber;
    this.serialHex = f.serialHex;
    this.tbsSignatureAlgorithm = f.tbsSignatureAlgorithm;
    this.signatureAlgorithm = signatureAlgorithm;
    this.signatureValue = signatureValue;
    this.issuer = f.issuer;
    this.subject = f.subject;
    this.notBefore = f.notBefore;
    this.notAfter = f.notAfter;
    this.notBeforeTag = f.notBeforeTag;
    this.notAfterTag = f.notAfterTag;
    this.notBeforeText = f.notBeforeText;
    this.notAfterText = f.notAfterText;
    this.spki = f.spki;
    this.publicKeyAlgorithm = f.publicKeyAlgorithm;
    this.subjectPublicKey = f.subjectPublicKey;
    this.hasIssuerUniqueId = f.hasIssuerUniqueId;
    this.hasSubjectUniqueId = f.hasSubjectUniqueId;
    this.extensions = f.extensions;
    this.duplicateExtensions = f.duplicateExtensions;
    this.ext = f.ext;
    this.extensionErrors = f.extensionErrors;
    this.#makeDer = der;
    this.#hint = hint;
  }

  get der(): Uint8Array {
    return (this.#der ??= this.#makeDer());
  }

  get publicKey(): KeyObject | undefined {
    this.#key ??= { value: importPublicKey(this.spki, this.#hint) };
    return this.#key.value;
  }

  get fingerprintSha256(): string {
    return (this.#fingerprint ??= createHash('sha256').update(this.der).digest('hex'));
  }
}

/**
 * Parses one DER certificate. Throws ERR_CERT_MALFORMED for anything that is not a well-formed
 * X.509 certificate structure. Byte fields are views into `der` (not copies).
 */
export function parseCertificate(der: Uint8Array, options: ParseCertificateOptions = {}): Certificate {
  const outer = readSingle(der, CODE);
  if (outer.tag !== 0x30) fail('not a certificate (expected a sequence)');
  const parts = children(outer, CODE);
  const [tbsT, algT, sigT] = parts;
  if (parts.length !== 3 || !tbsT || !algT || !sigT) fail('a certificate has exactly three fields');
  if (tbsT.tag !== 0x30) fail('tbsCertificate is not a sequence');
  if (sigT.tag !== 0x03 || sigT.content.length < 1 || sigT.content[0] !== 0) fail('signature is not a bit string');
  const { fields } = parseTbsFields(tbsT);
  const bytes = outer.bytes;
  return new ParsedCertificate(fields, () => bytes, algorithm(algT), sigT.content.subarray(1), options.publicKey);
}

/**
 * Parses every certificate in PEM text (one or more CERTIFICATE blocks) or a single DER
 * certificate. Other PEM blocks are ignored only when at least one certificate is present.
 */
export function parseCertificates(data: Uint8Array | string): Certificate[] {
  if (typeof data === 'string' || looksLikePem(data)) {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    const blocks = decodePemAll(text).filter((b) => b.label === 'CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE' || b.label === 'X509 CERTIFICATE');
    if (blocks.length === 0) throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', 'no CERTIFICATE block found');
    // OpenSSL's TRUSTED CERTIFICATE is the certificate followed by its trust settings
    // (X509_CERT_AUX); the certificate is the first TLV.
    return blocks.map((b) => parseCertificate(b.label === 'TRUSTED CERTIFICATE' ? readTlv(b.der, 0, CODE).bytes : b.der));
  }
  return [parseCertificate(data)];
}

/** True when the certificate's issuer and subject Names are byte-identical (self-issued, RFC 5280 §3.2). */
export function isSelfIssued(cert: Certificate): boolean {
  const a = cert.issuer.der;
  const b = cert.subject.der;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Parses a to-be-signed certificate (TBSCertificate DER) into the same model, with an empty
 * signature and the TBS signature algorithm as `signatureAlgorithm`, so that a TBS can be linted
 * before it is signed (DESIGN.md pipeline step 4). `der` is the TBS wrapped as a certificate with
 * that empty signature (built on first use). Byte fields are views into `tbs` (not copies).
 */
export function parseTbsCertificate(tbs: Uint8Array, options: ParseCertificateOptions = {}): Certificate {
  const t = readSingle(tbs, CODE);
  if (t.tag !== 0x30) fail('tbsCertificate is not a sequence');
  const { fields, algorithmDer } = parseTbsFields(t);
  return new ParsedCertificate(fields, () => sequence([t.bytes, algorithmDer, EMPTY_SIGNATURE]), fields.tbsSignatureAlgorithm, new Uint8Array(0), options.publicKey);
}

/** An empty BIT STRING: the signature of a certificate that is not signed yet. */
const EMPTY_SIGNATURE = Uint8Array.of(0x03, 0x01, 0x00);
