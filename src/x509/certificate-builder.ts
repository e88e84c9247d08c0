/**
 * Certificate issuance (RFC 5280 §4.1): builds the TBSCertificate from a spec, signs it through
 * the key seam, and assembles the Certificate. This is the issuance hot path, so DER is written
 * directly (src/x509/der.ts) and the constant parts per issuer are cached; the output is proven
 * byte-identical to OpenSSL's in test/x509-build.
 *
 * ```asn1
 * Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm AlgorithmIdentifier,
 *                            signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE {
 *   version         [0] EXPLICIT Version DEFAULT v1,
 *   serialNumber         CertificateSerialNumber,
 *   signature            AlgorithmIdentifier,
 *   issuer               Name,
 *   validity             Validity,
 *   subject              Name,
 *   subjectPublicKeyInfo SubjectPublicKeyInfo,
 *   extensions      [3] EXPLICIT Extensions OPTIONAL }
 * ```
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { describeUnrepresentableTime, isRepresentableTime } from '../core/duration.js';
import { SignetError } from '../core/errors.js';
import type { SignatureAlgorithm } from '../crypto/signature.js';
import type { Signer } from '../crypto/signer.js';
import { headerLength, integer, Tag, unsignedInteger, writeHeader } from './der.js';
import { encodeExtensions, keyIdentifier, type ExtensionsSpec } from './extensions.js';
import { encodeName, type DistinguishedName } from './name.js';
import { randomSerialInteger } from './serial.js';
import { decodeAsn1Time } from './asn1-time.js';

/** What to certify. Everything the builder writes comes from here; nothing is implied. */
export interface CertificateSpec {
  /** X.509 version; default 3. Version 1 omits the version field (extensions are still written when given). */
  readonly version?: 1 | 2 | 3;
  /**
   * Unsigned big-endian magnitude (a 0x00 is prepended when the top bit is set), or a bigint
   * written as a signed INTEGER (to build negative or zero serials in tests). Default: a fresh
   * 16-octet CSPRNG serial ({@link randomSerial}).
   */
  readonly serialNumber?: Uint8Array | bigint;
  /** The subject: a name, or the raw DER of a Name (e.g. copied from a CSR). */
  readonly subject: DistinguishedName | Uint8Array;
  /** Validity bounds; Dates use RFC 5280 §4.1.2.5 encoding (UTCTime < 2050 ≤ GeneralizedTime), a Uint8Array is a raw Time TLV. */
  readonly notBefore: Date | Uint8Array;
  readonly notAfter: Date | Uint8Array;
  /** The certified key, as a KeyObject or DER SubjectPublicKeyInfo. */
  readonly publicKey: KeyObject | Uint8Array;
  readonly extensions?: ExtensionsSpec;
}

/** The issuer as a certificate needs it: its subject Name DER and (for AKI) key identifier. */
export interface IssuerInfo {
  /** DER of the issuer's subject Name, copied byte for byte from its certificate. */
  readonly name: Uint8Array;
  /** The issuer's subject key identifier, for `authorityKeyIdentifier: 'auto'`. */
  readonly keyIdentifier?: Uint8Array | undefined;
  /**
   * The issuer certificate's validity, when known. The builder ignores it; issuance
   * (`issueLintedCertificate`, src/x509/issue.ts) refuses an issuer that is not valid at issuance time and
   * keeps the new certificate within it.
   */
  readonly notBefore?: Date | undefined;
  readonly notAfter?: Date | undefined;
}

const spkiCache = new WeakMap<KeyObject, Uint8Array>();

/** DER SubjectPublicKeyInfo of a key (public, or the public half of a private key; cached per KeyObject) or the bytes as given. */
export function spkiOf(key: KeyObject | Uint8Array): Uint8Array {
  if (key instanceof Uint8Array) return key;
  let der = spkiCache.get(key);
  if (!der) {
    if (key.type === 'secret') throw new SignetError('ERR_KEY_MALFORMED', 'a certificate needs an asymmetric public key');
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    der = new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
    spkiCache.set(key, der);
  }
  return der;
}

/** DER of the subject Name of a spec. */
export function subjectNameDer(subject: DistinguishedName | Uint8Array): Uint8Array {
  return subject instanceof Uint8Array ? subject : encodeName(subject);
}

// -- A tiny length-precomputing writer: one allocation per TBS. ------------------------------

const VERSION_FIELD: Record<2 | 3, Uint8Array> = {
  2: Uint8Array.of(0xa0, 0x03, Tag.INTEGER, 0x01, 0x01),
  3: Uint8Array.of(0xa0, 0x03, Tag.INTEGER, 0x01, 0x02),
};

function serialField(serial: Uint8Array | bigint | undefined): Uint8Array {
  if (serial === undefined) return randomSerialInteger();
  if (typeof serial === 'bigint') return integer(serial);
  return unsignedInteger(serial);
}

function put2(out: Uint8Array, off: number, v: number): void {
  out[off] = 0x30 + ((v / 10) | 0);
  out[off + 1] = 0x30 + (v % 10);
}

/**
 * RFC 5280 §4.1.2.5 Time, written digit by digit (der.time() builds strings; this runs twice per
 * issuance): UTCTime YYMMDDHHMMSSZ for 1950–2049, GeneralizedTime YYYYMMDDHHMMSSZ otherwise.
 */
function timeField(t: Date | Uint8Array, field: 'notBefore' | 'notAfter'): Uint8Array {
  if (t instanceof Uint8Array) return t;
  // GeneralizedTime has a four-digit year (RFC 5280 §4.1.2.5.2); year 0000 is not a calendar year.
  if (!isRepresentableTime(t)) {
    throw new SignetError('ERR_BAD_TIME', `${field} is ${describeUnrepresentableTime(t)}: certificate times must fall within the years 0001–9999`, {
      hint: 'use a shorter lifetime or an earlier --not-after',
    });
  }
  const y = t.getUTCFullYear();
  const utc = y >= 1950 && y < 2050;
  const out = new Uint8Array(utc ? 15 : 17);
  out[0] = utc ? Tag.UTC_TIME : Tag.GENERALIZED_TIME;
  out[1] = utc ? 13 : 15;
  let o = 2;
  if (!utc) {
    put2(out, o, (y / 100) | 0);
    o += 2;
  }
  put2(out, o, y % 100);
  put2(out, o + 2, t.getUTCMonth() + 1);
  put2(out, o + 4, t.getUTCDate());
  put2(out, o + 6, t.getUTCHours());
  put2(out, o + 8, t.getUTCMinutes());
  put2(out, o + 10, t.getUTCSeconds());
  out[o + 12] = 0x5a; // 'Z'
  return out;
}

/**
 * Builds the DER TBSCertificate. `issuer` undefined means self-signed (issuer = subject, and AKI
 * `auto` = the SKI). `signatureAlgorithm` is the algorithm that will sign it (its identifier is
 * written into the TBS `signature` field, RFC 5280 §4.1.2.3).
 */
export function buildTbsCertificate(spec: CertificateSpec, issuer: IssuerInfo | undefined, signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  const subject = subjectNameDer(spec.subject);
  const spki = spkiOf(spec.publicKey);
  const issuerName = issuer ? issuer.name : subject;
  const version = spec.version ?? 3;
  const serial = serialField(spec.serialNumber);
  const notBefore = timeField(spec.notBefore, 'notBefore');
  const notAfter = timeField(spec.notAfter, 'notAfter');
  const exts = spec.extensions
    ? encodeExtensions(spec.extensions, { spki, issuerKeyIdentifier: issuer?.keyIdentifier, selfSigned: issuer === undefined })
    : [];
  const alg = signatureAlgorithm.identifier;

  let extsLen = 0;
  for (const e of exts) extsLen += e.length;
  const extsSeqLen = exts.length > 0 ? headerLength(extsLen) + extsLen : 0;
  const extsFieldLen = exts.length > 0 ? headerLength(extsSeqLen) + extsSeqLen : 0;
  const validityLen = notBefore.length + notAfter.length;
  const versionField = version === 1 ? undefined : VERSION_FIELD[version];
  const bodyLen =
    (versionField?.length ?? 0) +
    serial.length +
    alg.length +
    issuerName.length +
    headerLength(validityLen) +
    validityLen +
    subject.length +
    spki.length +
    extsFieldLen;

  const out = new Uint8Array(headerLength(bodyLen) + bodyLen);
  let o = writeHeader(out, 0, Tag.SEQUENCE, bodyLen);
  if (versionField) {
    out.set(versionField, o);
    o += versionField.length;
  }
  out.set(serial, o);
  o += serial.length;
  out.set(alg, o);
  o += alg.length;
  out.set(issuerName, o);
  o += issuerName.length;
  o = writeHeader(out, o, Tag.SEQUENCE, validityLen);
  out.set(notBefore, o);
  o += notBefore.length;
  out.set(notAfter, o);
  o += notAfter.length;
  out.set(subject, o);
  o += subject.length;
  out.set(spki, o);
  o += spki.length;
  if (exts.length > 0) {
    o = writeHeader(out, o, 0xa3, extsSeqLen);
    o = writeHeader(out, o, Tag.SEQUENCE, extsLen);
    for (const e of exts) {
      out.set(e, o);
      o += e.length;
    }
  }
  return out;
}

/**
 * Assembles a Certificate from a TBS, the outer AlgorithmIdentifier DER and a signature. Exposed
 * so tests can build certificates with mismatched algorithms or corrupted signatures.
 */
export function assembleCertificate(tbs: Uint8Array, algorithmIdentifier: Uint8Array, signature: Uint8Array): Uint8Array {
  const bitLen = signature.length + 1;
  const bodyLen = tbs.length + algorithmIdentifier.length + headerLength(bitLen) + bitLen;
  const out = new Uint8Array(headerLength(bodyLen) + bodyLen);
  let o = writeHeader(out, 0, Tag.SEQUENCE, bodyLen);
  out.set(tbs, o);
  o += tbs.length;
  out.set(algorithmIdentifier, o);
  o += algorithmIdentifier.length;
  o = writeHeader(out, o, Tag.BIT_STRING, bitLen);
  out[o++] = 0;
  out.set(signature, o);
  return out;
}

/**
 * Signs an already built TBS (DESIGN.md "prepare, then sign": build, lint, then sign exactly what
 * was linted) and returns the certificate DER. The TBS must have been built for `signer.algorithm`.
 */
export function signTbsCertificate(tbs: Uint8Array, signer: Signer): Uint8Array {
  return assembleCertificate(tbs, signer.algorithm.identifier, signer.sign(tbs));
}

/**
 * Builds and signs a certificate. `issuer` omitted = self-signed by `signer` (whose key should
 * then be `spec.publicKey`). Returns the certificate DER.
 */
export function issueCertificate(spec: CertificateSpec, signer: Signer, issuer?: IssuerInfo): Uint8Array {
  return signTbsCertificate(buildTbsCertificate(spec, issuer, signer.algorithm), signer);
}

// -- Reading the issuer out of a CA certificate ------------------------------------------------

function malformed(what: string): SignetError {
  return new SignetError('ERR_CERT_MALFORMED', `malformed certificate: ${what}`);
}

/** One TLV: tag, content bounds and end offset. */
interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

function readTlv(buf: Uint8Array, off: number, limit: number): Tlv {
  const tag = buf[off];
  const first = buf[off + 1];
  if (tag === undefined || first === undefined || off + 2 > limit) throw malformed('truncated');
  let contentStart = off + 2;
  let len = first;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw malformed('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[off + 2 + i] ?? 0);
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > limit) throw malformed('truncated');
  return { tag, start: off, contentStart, end };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = parent.contentStart; o < parent.end; ) {
    const t = readTlv(buf, o, parent.end);
    out.push(t);
    o = t.end;
  }
  return out;
}

/** The fields of a certificate an issuer needs, sliced out of the DER without re-encoding. */
export interface CertificateFields {
  /** DER of the subject Name, byte for byte. */
  readonly subject: Uint8Array;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  /** The subjectKeyIdentifier extension value, when present. */
  readonly subjectKeyIdentifier: Uint8Array | undefined;
  /** The validity period (RFC 5280 §4.1.2.5). */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Decodes a validity Time TLV: UTCTime (YY ≥ 50 is 19YY, RFC 5280 §4.1.2.5.1) or
 * GeneralizedTime, seconds present and 'Z' as RFC 5280 requires of conforming CAs.
 */
function readTime(der: Uint8Array, t: Tlv): Date {
  const text = Buffer.from(der.subarray(t.contentStart, t.end)).toString('latin1');
  // Strict forms only (seconds, 'Z'): a CA certificate that breaks them is not one to issue under.
  const strict = t.tag === Tag.UTC_TIME ? /^\d{12}Z$/.test(text) : t.tag === Tag.GENERALIZED_TIME && /^\d{14}Z$/.test(text);
  const date = strict ? decodeAsn1Time(t.tag, text) : undefined;
  if (!(date instanceof Date)) throw malformed(`bad validity time "${text}"`);
  return date;
}

/** Slices subject, SPKI, SKI and validity out of a certificate's DER. Throws ERR_CERT_MALFORMED. */
export function readCertificateFields(der: Uint8Array): CertificateFields {
  const cert = readTlv(der, 0, der.length);
  if (cert.tag !== Tag.SEQUENCE) throw malformed('not a SEQUENCE');
  const tbsTlv = children(der, cert)[0];
  if (!tbsTlv || tbsTlv.tag !== Tag.SEQUENCE) throw malformed('no TBSCertificate');
  const f = children(der, tbsTlv);
  const hasVersion = f[0]?.tag === 0xa0;
  const base = hasVersion ? 1 : 0;
  const validity = f[base + 3];
  const subject = f[base + 4];
  const spki = f[base + 5];
  if (!subject || !spki || subject.tag !== Tag.SEQUENCE || spki.tag !== Tag.SEQUENCE) throw malformed('missing subject or key');
  if (!validity || validity.tag !== Tag.SEQUENCE) throw malformed('missing validity');
  const [nb, na, extraTime] = children(der, validity);
  if (!nb || !na || extraTime) throw malformed('validity needs two times');
  let ski: Uint8Array | undefined;
  const extsField = f.slice(base + 6).find((t) => t.tag === 0xa3);
  if (extsField) {
    const seq = children(der, extsField)[0];
    if (seq) {
      for (const ext of children(der, seq)) {
        const parts = children(der, ext);
        const id = parts[0];
        if (!id || id.tag !== Tag.OID) continue;
        if (Buffer.compare(der.subarray(id.start, id.end), SKI_OID) !== 0) continue;
        const value = parts[parts.length - 1];
        if (!value || value.tag !== Tag.OCTET_STRING) throw malformed('bad subjectKeyIdentifier');
        const inner = readTlv(der, value.contentStart, value.end);
        if (inner.tag !== Tag.OCTET_STRING) throw malformed('bad subjectKeyIdentifier');
        ski = der.slice(inner.contentStart, inner.end);
      }
    }
  }
  return {
    subject: der.slice(subject.start, subject.end),
    spki: der.slice(spki.start, spki.end),
    subjectKeyIdentifier: ski,
    notBefore: readTime(der, nb),
    notAfter: readTime(der, na),
  };
}

/** DER of OID 2.5.29.14 (subjectKeyIdentifier). */
const SKI_OID = Uint8Array.of(Tag.OID, 3, 0x55, 0x1d, 0x0e);

/**
 * The issuer info for certificates signed by the holder of `caCertificate` (DER): its subject
 * Name as is, its SKI — or, when it has none, the RFC 5280 §4.2.1.2 (1) hash of its key (what
 * OpenSSL also falls back to) — and its validity.
 */
export function issuerFromCertificate(caCertificate: Uint8Array): IssuerInfo {
  const f = readCertificateFields(caCertificate);
  return { name: f.subject, keyIdentifier: f.subjectKeyIdentifier ?? keyIdentifier(f.spki), notBefore: f.notBefore, notAfter: f.notAfter };
}
