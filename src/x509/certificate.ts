/**
 * Parsing of X.509 certificates (RFC 5280 §4.1) into one model shared by inspection, path
 * validation and linting. The structure is decoded by @peculiar/asn1-x509; exact byte slices
 * (the TBS a signature covers, Names, extension values) come from a strict DER walk so that
 * nothing is re-encoded before it is compared or verified.
 *
 * Parsing is tolerant of *profile* defects (negative serials, duplicate extensions, undecodable
 * extension values) so the linter can report them; it rejects only what is not a certificate.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  ExtendedKeyUsage,
  KeyUsage,
  PolicyConstraints,
  InhibitAnyPolicy,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { SignetError } from '../core/errors.js';
import { decodePemAll, looksLikePem } from '../core/pem.js';
import { toHex } from '../core/bytes.js';
import type { AlgorithmReference } from '../crypto/signature.js';
import { children, readSingle, type Tlv } from './der-reader.js';
import { decodeGeneralName, decodeGeneralNames, decodeName, decodeOid, type Name, type ParsedGeneralName } from './decode-names.js';
import { OID } from './oids.js';

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
  /** The key as node:crypto sees it; undefined when node cannot import it (unsupported type). */
  readonly publicKey: KeyObject | undefined;
  readonly hasIssuerUniqueId: boolean;
  readonly hasSubjectUniqueId: boolean;
  readonly extensions: readonly Extension[];
  /** OIDs that occur more than once in `extensions` (RFC 5280 §4.2: "MUST NOT include more than one instance"). */
  readonly duplicateExtensions: readonly string[];
  readonly ext: DecodedExtensions;
  /** Extensions whose value could not be decoded: oid → reason. */
  readonly extensionErrors: ReadonlyMap<string, string>;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprintSha256: string;
}

const CODE = 'ERR_CERT_MALFORMED';

function fail(message: string): never {
  throw new SignetError(CODE, message);
}

function algorithm(t: Tlv): AlgorithmReference {
  if (t.tag !== 0x30) fail('algorithm identifier is not a sequence');
  const [o, params] = children(t, CODE);
  if (!o || o.tag !== 0x06) fail('algorithm identifier without oid');
  return { oid: decodeOid(o.content, CODE), parameters: params?.bytes };
}

function parseTime(t: Tlv): { date: Date; tag: 'UTCTime' | 'GeneralizedTime'; text: string } {
  const text = Buffer.from(t.content).toString('latin1');
  if (t.tag === 0x17) {
    const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(text);
    if (!m) fail(`malformed UTCTime "${text}"`);
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 §4.1.2.5.1
    return { date: dateFrom(year, m, text), tag: 'UTCTime', text };
  }
  if (t.tag === 0x18) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?(Z|[+-]\d{4})$/.exec(text);
    if (!m) fail(`malformed GeneralizedTime "${text}"`);
    return { date: dateFrom(Number(m[1]), [m[0], '', m[2], m[3], m[4], m[5], m[6], m[7]], text), tag: 'GeneralizedTime', text };
  }
  return fail('validity time is neither UTCTime nor GeneralizedTime');
}

function dateFrom(year: number, m: ArrayLike<string | undefined>, text: string): Date {
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? '0')) as [number, number, number, number, number];
  const zone = m[7] ?? 'Z';
  let ms = Date.UTC(year, mo - 1, d, h, mi, s);
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  const date = new Date(ms);
  if (Number.isNaN(date.getTime()) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) fail(`invalid time "${text}"`);
  return date;
}

function decodeExtensions(extensions: readonly Extension[]): { ext: DecodedExtensions; errors: Map<string, string> } {
  const ext: DecodedExtensions = {};
  const errors = new Map<string, string>();
  for (const e of extensions) {
    try {
      switch (e.oid) {
        case OID.basicConstraints: {
          const bc = AsnConvert.parse(e.value, BasicConstraints);
          ext.basicConstraints = bc.pathLenConstraint === undefined ? { ca: bc.cA } : { ca: bc.cA, pathLenConstraint: bc.pathLenConstraint };
          break;
        }
        case OID.keyUsage: {
          const bs = readSingle(e.value, CODE);
          if (bs.tag !== 0x03 || bs.content.length === 0) fail('key usage is not a bit string');
          const unused = bs.content[0] as number;
          const bits = bs.content.subarray(1);
          const usages: KeyUsageName[] = [];
          KEY_USAGE_BITS.forEach((name, i) => {
            if ((i >> 3) < bits.length && ((bits[i >> 3] as number) & (0x80 >> (i & 7)))) usages.push(name);
          });
          const last = bits.length > 0 ? (bits[bits.length - 1] as number) : 0;
          ext.keyUsage = { usages, unusedBitsSet: unused > 0 && (last & ((1 << unused) - 1)) !== 0 };
          void AsnConvert.parse(e.value, KeyUsage);
          break;
        }
        case OID.extKeyUsage:
          ext.extKeyUsage = [...AsnConvert.parse(e.value, ExtendedKeyUsage)];
          break;
        case OID.subjectAltName:
          ext.subjectAltName = decodeGeneralNames(e.value, CODE);
          break;
        case OID.issuerAltName:
          ext.issuerAltName = decodeGeneralNames(e.value, CODE);
          break;
        case OID.nameConstraints:
          ext.nameConstraints = decodeNameConstraints(e.value);
          break;
        case OID.subjectKeyIdentifier:
          ext.subjectKeyIdentifier = new Uint8Array(AsnConvert.parse(e.value, SubjectKeyIdentifier).buffer);
          break;
        case OID.authorityKeyIdentifier: {
          const aki = AsnConvert.parse(e.value, AuthorityKeyIdentifier);
          ext.authorityKeyIdentifier = {
            ...(aki.keyIdentifier ? { keyIdentifier: new Uint8Array(aki.keyIdentifier.buffer) } : {}),
            hasIssuerAndSerial: aki.authorityCertIssuer !== undefined || aki.authorityCertSerialNumber !== undefined,
          };
          break;
        }
        case OID.cRLDistributionPoints: {
          const dps = AsnConvert.parse(e.value, CRLDistributionPoints);
          ext.crlDistributionPoints = [...dps].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap((gn) => (gn.uniformResourceIdentifier ? [gn.uniformResourceIdentifier] : [])));
          break;
        }
        case OID.authorityInfoAccess: {
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
          ext.certificatePolicies = [...AsnConvert.parse(e.value, CertificatePolicies)].map((p) => p.policyIdentifier);
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

/**
 * Parses one DER certificate. Throws ERR_CERT_MALFORMED for anything that is not a well-formed
 * X.509 certificate structure.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  const outer = readSingle(der, CODE);
  if (outer.tag !== 0x30) fail('not a certificate (expected a sequence)');
  const parts = children(outer, CODE);
  const [tbsT, algT, sigT] = parts;
  if (parts.length !== 3 || !tbsT || !algT || !sigT) fail('a certificate has exactly three fields');
  if (tbsT.tag !== 0x30) fail('tbsCertificate is not a sequence');
  if (sigT.tag !== 0x03 || sigT.content.length < 1 || sigT.content[0] !== 0) fail('signature is not a bit string');
  let fields = children(tbsT, CODE);
  let version = 1;
  const first = fields[0];
  if (first && first.tag === 0xa0) {
    const [v] = children(first, CODE);
    if (!v || v.tag !== 0x02 || v.content.length !== 1) fail('malformed version');
    version = (v.content[0] as number) + 1;
    if (version < 1 || version > 3) fail(`unknown certificate version ${version}`);
    fields = fields.slice(1);
  }
  const [serialT, tbsAlgT, issuerT, validityT, subjectT, spkiT, ...optional] = fields;
  if (!serialT || !tbsAlgT || !issuerT || !validityT || !subjectT || !spkiT) fail('tbsCertificate is missing fields');
  if (serialT.tag !== 0x02 || serialT.content.length === 0) fail('serial number is not an integer');
  if (validityT.tag !== 0x30) fail('validity is not a sequence');
  const [nbT, naT, extraT] = children(validityT, CODE);
  if (!nbT || !naT || extraT) fail('validity has two times');
  const nb = parseTime(nbT);
  const na = parseTime(naT);
  if (spkiT.tag !== 0x30) fail('subjectPublicKeyInfo is not a sequence');
  const [spkiAlgT, spkBitsT] = children(spkiT, CODE);
  if (!spkiAlgT || !spkBitsT || spkBitsT.tag !== 0x03 || spkBitsT.content.length < 1) fail('malformed subjectPublicKeyInfo');

  let hasIssuerUniqueId = false;
  let hasSubjectUniqueId = false;
  const extensions: Extension[] = [];
  for (const o of optional) {
    if (o.tag === 0x81) hasIssuerUniqueId = true;
    else if (o.tag === 0x82) hasSubjectUniqueId = true;
    else if (o.tag === 0xa3) {
      const [extsT] = children(o, CODE);
      if (!extsT || extsT.tag !== 0x30) fail('extensions is not a sequence');
      for (const e of children(extsT, CODE)) {
        const ef = children(e, CODE);
        const oidT = ef[0];
        if (e.tag !== 0x30 || !oidT || oidT.tag !== 0x06) fail('malformed extension');
        let critical = false;
        let valueT = ef[1];
        if (valueT && valueT.tag === 0x01) {
          if (valueT.content.length !== 1) fail('malformed extension criticality');
          critical = valueT.content[0] !== 0;
          valueT = ef[2];
        }
        if (!valueT || valueT.tag !== 0x04) fail('extension value is not an octet string');
        extensions.push({ oid: decodeOid(oidT.content, CODE), critical, value: valueT.content });
      }
    } else fail(`unexpected field 0x${o.tag.toString(16)} in tbsCertificate`);
  }
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const e of extensions) (seen.has(e.oid) ? dups : seen).add(e.oid);
  const { ext, errors } = decodeExtensions(extensions);

  let publicKey: KeyObject | undefined;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spkiT.bytes), format: 'der', type: 'spki' });
  } catch {
    publicKey = undefined;
  }
  let serialHex = toHex(serialT.content);
  if (serialHex.length > 2 && serialHex.startsWith('00')) serialHex = serialHex.slice(2);
  return {
    der: outer.bytes,
    tbs: tbsT.bytes,
    version,
    serialNumber: serialT.content,
    serialHex,
    tbsSignatureAlgorithm: algorithm(tbsAlgT),
    signatureAlgorithm: algorithm(algT),
    signatureValue: sigT.content.subarray(1),
    issuer: decodeName(issuerT.bytes, CODE),
    subject: decodeName(subjectT.bytes, CODE),
    notBefore: nb.date,
    notAfter: na.date,
    notBeforeTag: nb.tag,
    notAfterTag: na.tag,
    notBeforeText: nb.text,
    notAfterText: na.text,
    spki: spkiT.bytes,
    publicKeyAlgorithm: algorithm(spkiAlgT),
    subjectPublicKey: spkBitsT.content.subarray(1),
    publicKey,
    hasIssuerUniqueId,
    hasSubjectUniqueId,
    extensions,
    duplicateExtensions: [...dups],
    ext,
    extensionErrors: errors,
    fingerprintSha256: createHash('sha256').update(outer.bytes).digest('hex'),
  };
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
    return blocks.map((b) => parseCertificate(b.der));
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
 * signature, so that a TBS can be linted before it is signed (DESIGN.md pipeline step 4).
 */
export function parseTbsCertificate(tbs: Uint8Array): Certificate {
  const t = readSingle(tbs, CODE);
  if (t.tag !== 0x30) fail('tbsCertificate is not a sequence');
  let fields = children(t, CODE);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
  const alg = fields[1];
  if (!alg || alg.tag !== 0x30) fail('tbsCertificate has no signature algorithm');
  const body = new Uint8Array(tbs.length + alg.bytes.length + 3);
  body.set(tbs, 0);
  body.set(alg.bytes, tbs.length);
  body.set([0x03, 0x01, 0x00], tbs.length + alg.bytes.length);
  const len = body.length;
  const header = len < 0x80 ? [0x30, len] : len < 0x100 ? [0x30, 0x81, len] : len < 0x10000 ? [0x30, 0x82, len >> 8, len & 0xff] : [0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  const der = new Uint8Array(header.length + len);
  der.set(header, 0);
  der.set(body, header.length);
  return parseCertificate(der);
}
