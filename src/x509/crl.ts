/**
 * Parsing of X.509 certificate revocation lists (RFC 5280 §5) into a model for inspection and
 * revocation checking. Like certificate parsing, the structure is walked with the strict DER
 * reader so that the signed bytes (`tbs`) are exact slices, never re-encodings.
 *
 * ```asn1
 * CertificateList  ::=  SEQUENCE  {
 *      tbsCertList          TBSCertList,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signatureValue       BIT STRING  }
 *
 * TBSCertList  ::=  SEQUENCE  {
 *      version                 Version OPTIONAL, -- if present, MUST be v2
 *      signature               AlgorithmIdentifier,
 *      issuer                  Name,
 *      thisUpdate              Time,
 *      nextUpdate              Time OPTIONAL,
 *      revokedCertificates     SEQUENCE OF SEQUENCE  {
 *           userCertificate         CertificateSerialNumber,
 *           revocationDate          Time,
 *           crlEntryExtensions      Extensions OPTIONAL -- if present, version MUST be v2
 *                                }  OPTIONAL,
 *      crlExtensions           [0]  EXPLICIT Extensions OPTIONAL -- if present, version MUST be v2
 *                                }
 * ```
 *
 * Parsing rejects only what is not a CRL (ERR_CRL_MALFORMED); profile defects such as an unknown
 * critical extension are kept in the model for the caller to judge.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { decodePemAll, looksLikePem } from '../core/pem.js';
import { equalBytes, toHex } from '../core/bytes.js';
import { verifySignature, type AlgorithmReference } from '../crypto/signature.js';
import type { Certificate, Extension } from './certificate.js';
import { children, readSingle, type Tlv } from './der-reader.js';
import { decodeGeneralName, decodeGeneralNames, decodeName, decodeOid, type Name, type ParsedGeneralName } from './decode-names.js';
import { OID } from './oids.js';
import { decodeAsn1Time } from './asn1-time.js';

/** CRLReason names by code (RFC 5280 §5.3.1); 7 is unused. */
export const CRL_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** ReasonFlags bit names (RFC 5280 §4.2.1.13), bit 0 first. */
const REASON_FLAGS = [
  'unused',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

/** One entry of revokedCertificates. */
export interface RevokedCertificate {
  /** Content octets of the userCertificate INTEGER. */
  readonly serialNumber: Uint8Array;
  /** Serial as lower-case hex (leading 00 sign octet kept off), comparable with Certificate.serialHex. */
  readonly serialHex: string;
  readonly revocationDate: Date;
  /** reasonCode entry extension (RFC 5280 §5.3.1), numeric. */
  readonly reasonCode?: number;
  /** RFC name of the reason code, or `unknown(N)`. */
  readonly reason?: string;
  /** invalidityDate entry extension (RFC 5280 §5.3.2). */
  readonly invalidityDate?: Date;
  /** certificateIssuer entry extension of indirect CRLs (RFC 5280 §5.3.3). */
  readonly certificateIssuer?: readonly ParsedGeneralName[];
  /** All entry extensions as encoded. */
  readonly extensions: readonly Extension[];
}

/** issuingDistributionPoint (RFC 5280 §5.2.5). */
export interface IssuingDistributionPointValue {
  /** fullName GeneralNames of the distribution point, when given that way. */
  readonly fullName?: readonly ParsedGeneralName[];
  /** True when the distribution point is a nameRelativeToCRLIssuer. */
  readonly nameRelativeToCrlIssuer: boolean;
  readonly onlyContainsUserCerts: boolean;
  readonly onlyContainsCACerts: boolean;
  readonly onlySomeReasons?: readonly string[];
  readonly indirectCRL: boolean;
  readonly onlyContainsAttributeCerts: boolean;
}

/** Typed views of the CRL extensions this project understands. */
export interface DecodedCrlExtensions {
  /** cRLNumber (RFC 5280 §5.2.3): a non-negative integer of up to 20 octets. */
  crlNumber?: bigint;
  /** authorityKeyIdentifier (RFC 5280 §5.2.1). */
  authorityKeyIdentifier?: { keyIdentifier?: Uint8Array; hasIssuerAndSerial: boolean };
  /** issuerAltName (RFC 5280 §5.2.2). */
  issuerAltName?: ParsedGeneralName[];
  /** deltaCRLIndicator (RFC 5280 §5.2.4): the cRLNumber of the base CRL. */
  deltaCrlIndicator?: bigint;
  issuingDistributionPoint?: IssuingDistributionPointValue;
  /** freshestCRL (RFC 5280 §5.2.6): fullName URIs. */
  freshestCrl?: string[];
  /** authorityInfoAccess (RFC 5280 §5.2.7): caIssuers URIs. */
  authorityInfoAccess?: { caIssuers: string[]; other: string[] };
}

/** A parsed CRL. */
export interface Crl {
  /** The complete CertificateList DER. */
  readonly der: Uint8Array;
  /** TBSCertList DER exactly as signed. */
  readonly tbs: Uint8Array;
  /** 1 (version field absent) or 2. */
  readonly version: number;
  readonly tbsSignatureAlgorithm: AlgorithmReference;
  readonly signatureAlgorithm: AlgorithmReference;
  readonly signatureValue: Uint8Array;
  readonly issuer: Name;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revoked: readonly RevokedCertificate[];
  readonly extensions: readonly Extension[];
  readonly ext: DecodedCrlExtensions;
  /** Extensions whose value could not be decoded: oid → reason. */
  readonly extensionErrors: ReadonlyMap<string, string>;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprintSha256: string;
}

const CODE = 'ERR_CRL_MALFORMED';

function fail(message: string): never {
  throw new SignetError(CODE, message);
}

function algorithm(t: Tlv): AlgorithmReference {
  if (t.tag !== 0x30) fail('algorithm identifier is not a sequence');
  const [o, params, extra] = children(t, CODE);
  if (!o || o.tag !== 0x06 || extra) fail('malformed algorithm identifier');
  return { oid: decodeOid(o.content, CODE), parameters: params?.bytes };
}

function isTime(t: Tlv | undefined): t is Tlv {
  return t !== undefined && (t.tag === 0x17 || t.tag === 0x18);
}

/** Decodes UTCTime / GeneralizedTime (RFC 5280 §5.1.2.4, §4.1.2.5). */
function parseTime(t: Tlv): Date {
  const decoded = decodeAsn1Time(t.tag, Buffer.from(t.content).toString('latin1'));
  return typeof decoded === 'string' ? fail(decoded) : decoded;
}

/** INTEGER content octets → bigint (two's complement). */
function integerValue(content: Uint8Array): bigint {
  if (content.length === 0) fail('empty integer');
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (((content[0] as number) & 0x80) !== 0) v -= 1n << BigInt(content.length * 8);
  return v;
}

function serialHexOf(content: Uint8Array): string {
  const hex = toHex(content);
  return hex.length > 2 && hex.startsWith('00') ? hex.slice(2) : hex;
}

/** Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1). */
function parseExtensionList(seq: Tlv): Extension[] {
  if (seq.tag !== 0x30) fail('extensions is not a sequence');
  const out: Extension[] = [];
  for (const e of children(seq, CODE)) {
    const ef = children(e, CODE);
    const oidT = ef[0];
    if (e.tag !== 0x30 || !oidT || oidT.tag !== 0x06) fail('malformed extension');
    let critical = false;
    const hasCritical = ef[1]?.tag === 0x01;
    if (hasCritical) {
      if (ef[1]?.content.length !== 1) fail('malformed extension criticality');
      critical = ef[1].content[0] !== 0;
    }
    const valueT = ef[hasCritical ? 2 : 1];
    if (!valueT || valueT.tag !== 0x04 || ef.length !== (hasCritical ? 3 : 2)) fail('malformed extension value');
    out.push({ oid: decodeOid(oidT.content, CODE), critical, value: valueT.content });
  }
  return out;
}

function uriNames(names: readonly ParsedGeneralName[]): string[] {
  return names.filter((n) => n.type === 'uri').map((n) => n.value);
}

/** DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }. */
function distributionPointName(t: Tlv): { fullName?: ParsedGeneralName[]; relative: boolean } {
  const [choice] = children(t, CODE);
  if (!choice) fail('empty distribution point name');
  if (choice.tag === 0xa0) return { fullName: children(choice, CODE).map((g) => decodeGeneralName(g, false, CODE)), relative: false };
  if (choice.tag === 0xa1) return { relative: true };
  return fail('malformed distribution point name');
}

function booleanField(t: Tlv): boolean {
  if (t.content.length !== 1) fail('malformed boolean');
  return t.content[0] !== 0;
}

function reasonFlags(t: Tlv): string[] {
  if (t.content.length < 1) fail('malformed reason flags');
  const bits = t.content.subarray(1);
  return REASON_FLAGS.filter((_n, i) => (i >> 3) < bits.length && ((bits[i >> 3] as number) & (0x80 >> (i & 7))) !== 0);
}

/**
 * Decodes the value of an issuingDistributionPoint extension (RFC 5280 §5.2.5; the module uses
 * IMPLICIT tags). Throws ERR_CRL_MALFORMED.
 */
export function decodeIssuingDistributionPoint(value: Uint8Array): IssuingDistributionPointValue {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('issuing distribution point is not a sequence');
  let fullName: ParsedGeneralName[] | undefined;
  let relative = false;
  const flags = { onlyContainsUserCerts: false, onlyContainsCACerts: false, indirectCRL: false, onlyContainsAttributeCerts: false };
  let onlySomeReasons: string[] | undefined;
  for (const f of children(seq, CODE)) {
    switch (f.tag) {
      case 0xa0: {
        const dp = distributionPointName(f);
        fullName = dp.fullName;
        relative = dp.relative;
        break;
      }
      case 0x81:
        flags.onlyContainsUserCerts = booleanField(f);
        break;
      case 0x82:
        flags.onlyContainsCACerts = booleanField(f);
        break;
      case 0x83:
        onlySomeReasons = reasonFlags(f);
        break;
      case 0x84:
        flags.indirectCRL = booleanField(f);
        break;
      case 0x85:
        flags.onlyContainsAttributeCerts = booleanField(f);
        break;
      default:
        fail(`unexpected field 0x${f.tag.toString(16)} in issuing distribution point`);
    }
  }
  return {
    ...(fullName ? { fullName } : {}),
    nameRelativeToCrlIssuer: relative,
    ...flags,
    ...(onlySomeReasons ? { onlySomeReasons } : {}),
  };
}

function decodeInteger(value: Uint8Array, what: string): bigint {
  const t = readSingle(value, CODE);
  if (t.tag !== 0x02) fail(`${what} is not an integer`);
  const v = integerValue(t.content);
  if (v < 0n) fail(`${what} is negative`);
  return v;
}

function decodeAki(value: Uint8Array): { keyIdentifier?: Uint8Array; hasIssuerAndSerial: boolean } {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('authority key identifier is not a sequence');
  let keyIdentifier: Uint8Array | undefined;
  let hasIssuerAndSerial = false;
  for (const f of children(seq, CODE)) {
    if (f.tag === 0x80) keyIdentifier = f.content;
    else if (f.tag === 0xa1 || f.tag === 0x82) hasIssuerAndSerial = true;
    else fail('unexpected field in authority key identifier');
  }
  return keyIdentifier ? { keyIdentifier, hasIssuerAndSerial } : { hasIssuerAndSerial };
}

function decodeCrlExtensions(extensions: readonly Extension[]): { ext: DecodedCrlExtensions; errors: Map<string, string> } {
  const ext: DecodedCrlExtensions = {};
  const errors = new Map<string, string>();
  for (const e of extensions) {
    try {
      switch (e.oid) {
        case OID.cRLNumber:
          ext.crlNumber = decodeInteger(e.value, 'CRL number');
          break;
        case OID.deltaCRLIndicator:
          ext.deltaCrlIndicator = decodeInteger(e.value, 'delta CRL indicator');
          break;
        case OID.authorityKeyIdentifier:
          ext.authorityKeyIdentifier = decodeAki(e.value);
          break;
        case OID.issuerAltName:
          ext.issuerAltName = decodeGeneralNames(e.value, CODE);
          break;
        case OID.issuingDistributionPoint:
          ext.issuingDistributionPoint = decodeIssuingDistributionPoint(e.value);
          break;
        case OID.freshestCRL: {
          // FreshestCRL ::= CRLDistributionPoints: SEQUENCE OF DistributionPoint
          const seq = readSingle(e.value, CODE);
          const urls: string[] = [];
          for (const dp of children(seq, CODE)) {
            const name = children(dp, CODE).find((f) => f.tag === 0xa0);
            if (name) urls.push(...uriNames(distributionPointName(name).fullName ?? []));
          }
          ext.freshestCrl = urls;
          break;
        }
        case OID.authorityInfoAccess: {
          const seq = readSingle(e.value, CODE);
          const v = { caIssuers: [] as string[], other: [] as string[] };
          for (const ad of children(seq, CODE)) {
            const [m, loc] = children(ad, CODE);
            if (!m || m.tag !== 0x06 || !loc) fail('malformed access description');
            const method = decodeOid(m.content, CODE);
            const gn = decodeGeneralName(loc, false, CODE);
            if (method === OID.caIssuers && gn.type === 'uri') v.caIssuers.push(gn.value);
            else v.other.push(method);
          }
          ext.authorityInfoAccess = v;
          break;
        }
        default:
          break;
      }
    } catch (err) {
      errors.set(e.oid, err instanceof SignetError ? err.message : `cannot decode extension ${e.oid}`);
    }
  }
  return { ext, errors };
}

function parseEntry(t: Tlv, version: number): RevokedCertificate {
  if (t.tag !== 0x30) fail('revoked certificate entry is not a sequence');
  const [serialT, dateT, extsT, extra] = children(t, CODE);
  if (!serialT || serialT.tag !== 0x02 || serialT.content.length === 0) fail('revoked certificate serial is not an integer');
  if (!isTime(dateT)) fail('revoked certificate has no revocation date');
  if (extra) fail('revoked certificate entry has extra fields');
  const extensions = extsT ? parseExtensionList(extsT) : [];
  if (extensions.length > 0 && version < 2) fail('CRL entry extensions need a v2 CRL');
  let reasonCode: number | undefined;
  let invalidityDate: Date | undefined;
  let certificateIssuer: ParsedGeneralName[] | undefined;
  for (const e of extensions) {
    if (e.oid === OID.cRLReason) {
      const r = readSingle(e.value, CODE);
      if (r.tag !== 0x0a || r.content.length !== 1) fail('malformed CRL reason');
      reasonCode = r.content[0];
    } else if (e.oid === OID.invalidityDate) {
      const d = readSingle(e.value, CODE);
      if (d.tag !== 0x18) fail('invalidity date is not a GeneralizedTime');
      invalidityDate = parseTime(d);
    } else if (e.oid === OID.certificateIssuer) {
      certificateIssuer = decodeGeneralNames(e.value, CODE);
    }
  }
  return {
    serialNumber: serialT.content,
    serialHex: serialHexOf(serialT.content),
    revocationDate: parseTime(dateT),
    ...(reasonCode !== undefined ? { reasonCode, reason: CRL_REASONS[reasonCode] ?? `unknown(${reasonCode})` } : {}),
    ...(invalidityDate ? { invalidityDate } : {}),
    ...(certificateIssuer ? { certificateIssuer } : {}),
    extensions,
  };
}

/**
 * Parses one DER CRL (RFC 5280 §5.1). Throws ERR_CRL_MALFORMED for anything that is not a
 * well-formed CertificateList.
 */
export function parseCrl(der: Uint8Array): Crl {
  const outer = readSingle(der, CODE);
  if (outer.tag !== 0x30) fail('not a CRL (expected a sequence)');
  const parts = children(outer, CODE);
  const [tbsT, algT, sigT] = parts;
  if (parts.length !== 3 || !tbsT || !algT || !sigT) fail('a CRL has exactly three fields');
  if (tbsT.tag !== 0x30) fail('tbsCertList is not a sequence');
  if (sigT.tag !== 0x03 || sigT.content.length < 1 || sigT.content[0] !== 0) fail('signature is not a bit string');
  let fields = children(tbsT, CODE);
  let version = 1;
  const first = fields[0];
  if (first && first.tag === 0x02) {
    // RFC 5280 §5.1.2.1: when present, version MUST be v2 (encoded as 1).
    if (first.content.length !== 1 || first.content[0] !== 1) fail('CRL version is not v2');
    version = 2;
    fields = fields.slice(1);
  }
  const [tbsAlgT, issuerT, thisT, ...rest] = fields;
  if (!tbsAlgT || !issuerT || !thisT) fail('tbsCertList is missing fields');
  if (!isTime(thisT)) fail('thisUpdate is not a time');
  let i = 0;
  let nextUpdate: Date | undefined;
  if (isTime(rest[i])) nextUpdate = parseTime(rest[i++] as Tlv);
  const revoked: RevokedCertificate[] = [];
  if (rest[i]?.tag === 0x30) {
    for (const entry of children(rest[i++] as Tlv, CODE)) revoked.push(parseEntry(entry, version));
  }
  let extensions: Extension[] = [];
  if (rest[i]?.tag === 0xa0) {
    const [extsT, extra] = children(rest[i++] as Tlv, CODE);
    if (!extsT || extra) fail('malformed CRL extensions');
    extensions = parseExtensionList(extsT);
    if (version < 2) fail('CRL extensions need a v2 CRL');
  }
  if (i < rest.length) fail('unexpected field in tbsCertList');
  const { ext, errors } = decodeCrlExtensions(extensions);
  return {
    der: outer.bytes,
    tbs: tbsT.bytes,
    version,
    tbsSignatureAlgorithm: algorithm(tbsAlgT),
    signatureAlgorithm: algorithm(algT),
    signatureValue: sigT.content.subarray(1),
    issuer: decodeName(issuerT.bytes, CODE),
    thisUpdate: parseTime(thisT),
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
    extensions,
    ext,
    extensionErrors: errors,
    fingerprintSha256: createHash('sha256').update(outer.bytes).digest('hex'),
  };
}

/** The PEM label of a CRL (RFC 7468 §6). */
export const CRL_PEM_LABEL = 'X509 CRL';

/**
 * Parses every CRL in PEM text (`X509 CRL` blocks) or a single DER CRL. Other PEM blocks are
 * ignored when at least one CRL is present.
 */
export function parseCrls(data: Uint8Array | string): Crl[] {
  if (typeof data === 'string' || looksLikePem(data)) {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    const blocks = decodePemAll(text).filter((b) => b.label === CRL_PEM_LABEL);
    if (blocks.length === 0) throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `no ${CRL_PEM_LABEL} block found`);
    return blocks.map((b) => parseCrl(b.der));
  }
  return [parseCrl(data)];
}

function sameAlgorithm(a: AlgorithmReference, b: AlgorithmReference): boolean {
  if (a.oid !== b.oid) return false;
  if (a.parameters === undefined || b.parameters === undefined) return a.parameters === b.parameters;
  return equalBytes(a.parameters, b.parameters);
}

/**
 * Verifies the CRL's signature with the issuer's public key (a certificate or a key). Returns
 * false when the signature does not verify or when the inner and outer signature algorithms
 * differ (RFC 5280 §5.1.1.2 requires them to be identical). Matching the issuer *name* and the
 * cRLSign key usage is left to revocation checking (RFC 5280 §6.3.3), which knows the path.
 * Throws ERR_SIGNATURE_ALGORITHM_UNSUPPORTED for algorithms Signet does not verify and
 * ERR_KEY_UNSUPPORTED when the issuer's key cannot be used.
 */
export function verifyCrlSignature(crl: Crl, issuer: Certificate | KeyObject): boolean {
  const key = 'der' in issuer ? issuer.publicKey : issuer;
  if (!key) throw new SignetError('ERR_KEY_UNSUPPORTED', 'the issuer certificate has a public key node:crypto cannot use');
  if (!sameAlgorithm(crl.tbsSignatureAlgorithm, crl.signatureAlgorithm)) return false;
  return verifySignature(key, crl.signatureAlgorithm, crl.tbs, crl.signatureValue);
}
