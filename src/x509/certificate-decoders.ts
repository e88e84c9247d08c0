/**
 * Hand-written decoders for the certificate parser's hot path. The CA lints every certificate
 * before signing it, and decoding a leaf's extensions with @peculiar/asn1-schema's generic schema
 * walk cost several times a P-256 signature. Three kinds live here:
 *
 * - Strict decoders (basicConstraints, keyUsage, extKeyUsage, subjectKeyIdentifier,
 *   authorityKeyIdentifier) walk the DER and throw ERR_CERT_MALFORMED naming the defect. They
 *   reject everything @peculiar rejected and, in addition, the non-DER or out-of-syntax values it
 *   let through (trailing bytes, fields out of order or of the wrong type, a negative or
 *   non-minimal pathLenConstraint, an empty extKeyUsage, non-minimal OIDs).
 * - Fast paths for extensions (cRLDistributionPoints, authorityInfoAccess, certificatePolicies)
 *   recognise only the plain shape CAs write (URIs only, no qualifiers, printable ASCII) and
 *   return undefined for anything else; the caller then decodes with @peculiar as before.
 *   Whatever a fast path accepts, @peculiar accepts with the same result (tested).
 * - Fast paths for Names and GeneralNames that handle printable-ASCII values and otherwise return
 *   undefined, so that decode-names.ts decides (and reports) everything else, as before.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier } from '@peculiar/asn1-x509';
import { SignetError } from '../core/errors.js';
import { oid } from './der.js';
import { ATTRIBUTE_SHORT_NAMES, OID } from './oids.js';
import type { Tlv } from './der-reader.js';
import { childrenLazy as children, readSingleLazy as readSingle, type LazyTlv } from './der-lazy.js';
import { decodeGeneralName, decodeOid, type GeneralNameType, type Name, type NameAttribute, type ParsedGeneralName } from './decode-names.js';

const CODE = 'ERR_CERT_MALFORMED';

function fail(message: string): never {
  throw new SignetError(CODE, message);
}

/**
 * OBJECT IDENTIFIER content octets as dotted text when the encoding is well-formed and every arc
 * fits in 28 bits (four octets); undefined otherwise. No BigInt arithmetic.
 */
function smallOid(content: Uint8Array, start = 0, end = content.length): string | undefined {
  if (end <= start || (content[end - 1] as number) & 0x80) return undefined;
  let text = '';
  let v = 0;
  let octets = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    const b = content[i] as number;
    if (octets === 0 && b === 0x80) return undefined; // non-minimal arc (X.690 §8.19.2)
    if (++octets > 4) return undefined;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (first) {
        text = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`;
        first = false;
      } else text += `.${v}`;
      v = 0;
      octets = 0;
    }
  }
  return text;
}

/** An OID text remembered with its content octets. */
interface KnownOid {
  readonly octets: Uint8Array;
  readonly text: string;
}

/** OIDs by a hash of their content octets: the table's (constant, interned strings) and the ones seen since. */
let knownOids: Map<number, KnownOid[]> | undefined;
let knownOidCount = 0;
const KNOWN_OID_LIMIT = 2048;

function octetsHash(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

function rememberOid(octets: Uint8Array, text: string): void {
  const table = (knownOids ??= new Map<number, KnownOid[]>());
  const h = octetsHash(octets, 0, octets.length);
  const bucket = table.get(h);
  if (bucket) bucket.push({ octets, text });
  else table.set(h, [{ octets, text }]);
  knownOidCount++;
}

/**
 * {@link smallOid}, answered from a table for OIDs seen before: the same text, but as the one
 * string the OID table (or the first certificate carrying it) holds, so that parsing builds no
 * string and later lookups (`===`, Set and Map keys) compare an interned string.
 */
function knownOid(b: Uint8Array, start: number, end: number): string | undefined {
  if (!knownOids) for (const text of Object.values(OID)) rememberOid(oid(text).subarray(2), text);
  const h = octetsHash(b, start, end);
  const bucket = (knownOids as Map<number, KnownOid[]>).get(h);
  if (bucket) {
    for (const k of bucket) {
      if (k.octets.length !== end - start) continue;
      let same = true;
      for (let i = 0; i < k.octets.length && same; i++) same = k.octets[i] === b[start + i];
      if (same) return k.text;
    }
  }
  const text = smallOid(b, start, end);
  if (text !== undefined && knownOidCount < KNOWN_OID_LIMIT) rememberOid(b.slice(start, end), text);
  return text;
}

/**
 * OBJECT IDENTIFIER content octets as dotted text: the same result and errors as
 * {@link decodeOid} (ERR_CERT_MALFORMED), without BigInt arithmetic when every arc fits in 28 bits.
 */
export function oidText(content: Uint8Array): string {
  return knownOid(content, 0, content.length) ?? decodeOid(content, CODE);
}

/** {@link oidText} of an OBJECT IDENTIFIER TLV read by der-lazy.ts, without slicing its content. */
export function oidOf(t: LazyTlv): string {
  return knownOid(t.source, t.contentStart, t.end) ?? decodeOid(t.content, CODE);
}

/** A non-negative INTEGER (X.690 §8.3) as a number; `what` names it in errors. */
function nonNegativeInteger(t: Tlv, what: string): number {
  const c = t.content;
  if (c.length === 0) fail(`${what} is an empty integer`);
  if (c.length > 1 && ((c[0] === 0 && !((c[1] as number) & 0x80)) || (c[0] === 0xff && (c[1] as number) & 0x80))) fail(`${what} is not minimally encoded`);
  if ((c[0] as number) & 0x80) fail(`${what} is negative`);
  let v = 0;
  for (let i = 0; i < c.length; i++) v = v * 256 + (c[i] as number);
  if (!Number.isSafeInteger(v)) fail(`${what} is too large`);
  return v;
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
 * (RFC 5280 §4.2.1.9). Like the extension criticality, a BOOLEAN is true when its octet is non-zero.
 */
export function decodeBasicConstraints(value: Uint8Array): { ca: boolean; pathLenConstraint?: number } {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('basic constraints is not a sequence');
  const fields = children(seq, CODE);
  let i = 0;
  let ca = false;
  let f = fields[i];
  if (f && f.tag === 0x01) {
    if (f.content.length !== 1) fail('basic constraints cA is not a one-octet boolean');
    ca = f.content[0] !== 0;
    f = fields[++i];
  }
  let pathLenConstraint: number | undefined;
  if (f && f.tag === 0x02) {
    pathLenConstraint = nonNegativeInteger(f, 'pathLenConstraint');
    f = fields[i + 1];
  }
  if (f) fail(`unexpected field 0x${f.tag.toString(16)} in basic constraints`);
  return pathLenConstraint === undefined ? { ca } : { ca, pathLenConstraint };
}

/** KeyUsage bit names in bit order (RFC 5280 §4.2.1.3). */
const KU_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;

/** A KeyUsage bit name (RFC 5280 §4.2.1.3). */
export type KeyUsageBitName = (typeof KU_NAMES)[number];

/**
 * KeyUsage ::= BIT STRING (RFC 5280 §4.2.1.3): the asserted bits and whether bits past the end
 * (the "unused" bits of the last octet) are set. Accepts exactly what the parser accepted before:
 * a primitive BIT STRING with an initial octet of at most 7 (X.690 §8.6.2.2).
 */
export function decodeKeyUsage(value: Uint8Array): { usages: KeyUsageBitName[]; unusedBitsSet: boolean } {
  const bs = readSingle(value, CODE);
  if (bs.tag !== 0x03 || bs.content.length === 0) fail('key usage is not a bit string');
  const unused = bs.content[0] as number;
  if (unused > 7) fail(`key usage bit string has ${unused} unused bits (at most 7)`);
  const bits = bs.content.subarray(1);
  const usages: KeyUsageBitName[] = [];
  for (let i = 0; i < KU_NAMES.length; i++) {
    if (i >> 3 < bits.length && (bits[i >> 3] as number) & (0x80 >> (i & 7))) usages.push(KU_NAMES[i] as KeyUsageBitName);
  }
  const last = bits.length > 0 ? (bits[bits.length - 1] as number) : 0;
  return { usages, unusedBitsSet: unused > 0 && (last & ((1 << unused) - 1)) !== 0 };
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (RFC 5280 §4.2.1.12). */
export function decodeExtKeyUsage(value: Uint8Array): string[] {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('extended key usage is not a sequence');
  const out: string[] = [];
  for (const t of children(seq, CODE)) {
    if (t.tag !== 0x06) fail('extended key usage holds something other than an object identifier');
    out.push(oidText(t.content));
  }
  if (out.length === 0) fail('extended key usage is empty');
  return out;
}

/** SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING (RFC 5280 §4.2.1.2); a copy of its octets. */
export function decodeSubjectKeyIdentifier(value: Uint8Array): Uint8Array {
  const os = readSingle(value, CODE);
  if (os.tag !== 0x04) fail('subject key identifier is not an octet string');
  return os.content.slice();
}

/**
 * AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL,
 *   authorityCertIssuer [1] GeneralNames OPTIONAL, authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL }
 * (RFC 5280 §4.2.1.1), all IMPLICIT; fields in order, each at most once.
 */
export function decodeAuthorityKeyIdentifier(value: Uint8Array): { keyIdentifier?: Uint8Array; hasIssuerAndSerial: boolean } {
  const seq = readSingle(value, CODE);
  if (seq.tag !== 0x30) fail('authority key identifier is not a sequence');
  const fields = children(seq, CODE);
  let i = 0;
  let f = fields[i];
  let keyIdentifier: Uint8Array | undefined;
  let hasIssuerAndSerial = false;
  if (f && f.tag === 0x80) {
    keyIdentifier = f.content.slice();
    f = fields[++i];
  }
  if (f && f.tag === 0xa1) {
    const names = children(f, CODE);
    if (names.length === 0) fail('authority key identifier has an empty authorityCertIssuer');
    for (const n of names) decodeGeneralName(n, false, CODE);
    // Rare (OpenSSL's `issuer:always`): also hold the names to @peculiar's GeneralName syntax, as before.
    try {
      AsnConvert.parse(value, AuthorityKeyIdentifier);
    } catch {
      fail('authority key identifier has a malformed authorityCertIssuer');
    }
    hasIssuerAndSerial = true;
    f = fields[++i];
  }
  if (f && f.tag === 0x82) {
    if (f.content.length === 0) fail('authority key identifier has an empty serial number');
    hasIssuerAndSerial = true;
    f = fields[i + 1];
  }
  if (f) fail(`unexpected field 0x${f.tag.toString(16)} in authority key identifier`);
  return keyIdentifier ? { keyIdentifier, hasIssuerAndSerial } : { hasIssuerAndSerial };
}

// -- Fast paths (undefined = not the plain shape; the caller falls back to @peculiar) ----------

/**
 * Reads the TLV header at `o` (strict DER: single-octet tag, definite minimal length) and returns
 * [tag, contentStart, end], or undefined when it is not well-formed within `limit`.
 */
function head(b: Uint8Array, o: number, limit: number): [number, number, number] | undefined {
  if (o + 2 > limit) return undefined;
  const tag = b[o] as number;
  if ((tag & 0x1f) === 0x1f) return undefined;
  let len = b[o + 1] as number;
  let cs = o + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 2 || cs + n > limit || b[cs] === 0) return undefined;
    len = n === 1 ? (b[cs] as number) : (b[cs] as number) * 256 + (b[cs + 1] as number);
    if (len < 0x80) return undefined;
    cs += n;
  }
  const end = cs + len;
  return end > limit ? undefined : [tag, cs, end];
}

/** A non-empty [6] uniformResourceIdentifier of printable ASCII as text, or undefined. */
function plainUri(b: Uint8Array, cs: number, end: number): string | undefined {
  if (end === cs) return undefined;
  for (let i = cs; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  return Buffer.from(b.buffer, b.byteOffset + cs, end - cs).toString('latin1');
}

/** An OBJECT IDENTIFIER (tag already checked) with small arcs as text, or undefined. */
function plainOid(b: Uint8Array, cs: number, end: number): string | undefined {
  return knownOid(b, cs, end);
}

/**
 * CRLDistributionPoints whose every DistributionPoint is `{ distributionPoint [0] { fullName [0]
 * URIs } }` with no reasons or cRLIssuer: the URIs in order. Anything else: undefined.
 */
export function fastCrlDistributionPoints(value: Uint8Array): string[] | undefined {
  const n = value.length;
  const outer = head(value, 0, n);
  if (!outer || outer[0] !== 0x30 || outer[2] !== n || outer[1] === n) return undefined;
  const out: string[] = [];
  for (let o = outer[1]; o < n; ) {
    const dp = head(value, o, n);
    if (!dp || dp[0] !== 0x30) return undefined;
    const dpn = head(value, dp[1], dp[2]);
    if (!dpn || dpn[0] !== 0xa0 || dpn[2] !== dp[2]) return undefined;
    const full = head(value, dpn[1], dpn[2]);
    if (!full || full[0] !== 0xa0 || full[2] !== dpn[2] || full[1] === full[2]) return undefined;
    for (let g = full[1]; g < full[2]; ) {
      const gn = head(value, g, full[2]);
      if (!gn || gn[0] !== 0x86) return undefined;
      const uri = plainUri(value, gn[1], gn[2]);
      if (uri === undefined) return undefined;
      out.push(uri);
      g = gn[2];
    }
    o = dp[2];
  }
  return out;
}

/**
 * AuthorityInfoAccessSyntax whose every AccessDescription is `{ accessMethod OID, accessLocation
 * [6] URI }`: sorted into ocsp, caIssuers and other methods as the parser reports them.
 */
export function fastAuthorityInfoAccess(value: Uint8Array): { ocsp: string[]; caIssuers: string[]; other: string[] } | undefined {
  const n = value.length;
  const outer = head(value, 0, n);
  if (!outer || outer[0] !== 0x30 || outer[2] !== n || outer[1] === n) return undefined;
  const v = { ocsp: [] as string[], caIssuers: [] as string[], other: [] as string[] };
  for (let o = outer[1]; o < n; ) {
    const ad = head(value, o, n);
    if (!ad || ad[0] !== 0x30) return undefined;
    const m = head(value, ad[1], ad[2]);
    if (!m || m[0] !== 0x06) return undefined;
    const loc = head(value, m[2], ad[2]);
    if (!loc || loc[0] !== 0x86 || loc[2] !== ad[2]) return undefined;
    const method = plainOid(value, m[1], m[2]);
    const uri = plainUri(value, loc[1], loc[2]);
    if (method === undefined || uri === undefined) return undefined;
    if (method === OID.ocsp) v.ocsp.push(uri);
    else if (method === OID.caIssuers) v.caIssuers.push(uri);
    else v.other.push(method);
    o = ad[2];
  }
  return v;
}

/** CertificatePolicies whose PolicyInformation have no qualifiers: the policy OIDs. */
export function fastCertificatePolicies(value: Uint8Array): string[] | undefined {
  const n = value.length;
  const outer = head(value, 0, n);
  if (!outer || outer[0] !== 0x30 || outer[2] !== n || outer[1] === n) return undefined;
  const out: string[] = [];
  for (let o = outer[1]; o < n; ) {
    const pi = head(value, o, n);
    if (!pi || pi[0] !== 0x30) return undefined;
    const id = head(value, pi[1], pi[2]);
    if (!id || id[0] !== 0x06 || id[2] !== pi[2]) return undefined;
    const policy = plainOid(value, id[1], id[2]);
    if (policy === undefined) return undefined;
    out.push(policy);
    o = pi[2];
  }
  return out;
}

/** Value tags whose printable-ASCII content decodes to the same text however decode-names.ts reads it. */
const PLAIN_STRING_TAGS: ReadonlySet<number> = new Set([0x0c, 0x13, 0x16, 0x14, 0x1a, 0x12]);

/**
 * Content of printable ASCII (0x20–0x7e) that RFC 4514 §2.4 does not escape: none of
 * `\\ , + " < > ; =`, no leading space or `#`, no trailing space. Undefined otherwise.
 */
function plainValue(b: Uint8Array, cs: number, end: number): string | undefined {
  if (end === cs) return undefined;
  for (let i = cs; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e || c === 0x5c || c === 0x2c || c === 0x2b || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x3b || c === 0x3d) return undefined;
  }
  if (b[cs] === 0x20 || b[cs] === 0x23 || b[end - 1] === 0x20) return undefined;
  return Buffer.from(b.buffer, b.byteOffset + cs, end - cs).toString('latin1');
}

/**
 * A Name (RFC 5280 §4.1.2.4) whose attribute values are all plain printable ASCII strings:
 * the same model decode-names.ts `decodeName` builds. Undefined for anything else (including
 * every malformed encoding), which the caller hands to `decodeName`.
 */
export function fastName(der: Uint8Array): Name | undefined {
  const n = der.length;
  const seq = head(der, 0, n);
  if (!seq || seq[0] !== 0x30 || seq[2] !== n) return undefined;
  const rdns: NameAttribute[][] = [];
  let text = '';
  for (let o = seq[1]; o < n; ) {
    const set = head(der, o, n);
    if (!set || set[0] !== 0x31 || set[1] === set[2]) return undefined;
    const attrs: NameAttribute[] = [];
    for (let a = set[1]; a < set[2]; ) {
      const atv = head(der, a, set[2]);
      if (!atv || atv[0] !== 0x30) return undefined;
      const type = head(der, atv[1], atv[2]);
      if (!type || type[0] !== 0x06) return undefined;
      const value = head(der, type[2], atv[2]);
      if (!value || value[2] !== atv[2] || !PLAIN_STRING_TAGS.has(value[0])) return undefined;
      const typeOid = knownOid(der, type[1], type[2]);
      const v = plainValue(der, value[1], value[2]);
      if (typeOid === undefined || v === undefined) return undefined;
      const shortName = ATTRIBUTE_SHORT_NAMES[typeOid] ?? typeOid;
      text += (attrs.length > 0 ? ' + ' : rdns.length > 0 ? ', ' : '') + shortName + '=' + v;
      attrs.push({ type: typeOid, shortName, value: v, tag: value[0] });
      a = atv[2];
    }
    rdns.push(attrs);
    o = set[2];
  }
  return { der, rdns, text };
}

const IA5_NAME_TYPES: readonly (GeneralNameType | undefined)[] = [undefined, 'email', 'dns', undefined, undefined, undefined, 'uri'];

/**
 * GeneralNames (RFC 5280 §4.2.1.6) of rfc822Name, dNSName and uniformResourceIdentifier entries
 * with printable ASCII values: the same model as decode-names.ts `decodeGeneralNames`. Undefined
 * for anything else, which the caller hands to `decodeGeneralNames`.
 */
export function fastGeneralNames(value: Uint8Array): ParsedGeneralName[] | undefined {
  const n = value.length;
  const seq = head(value, 0, n);
  if (!seq || seq[0] !== 0x30 || seq[2] !== n) return undefined;
  const out: ParsedGeneralName[] = [];
  for (let o = seq[1]; o < n; ) {
    const gn = head(value, o, n);
    const type = gn ? IA5_NAME_TYPES[gn[0] - 0x80] : undefined;
    if (!gn || type === undefined) return undefined;
    const text = plainUri(value, gn[1], gn[2]);
    if (text === undefined) return undefined;
    out.push({ type, value: text, der: value.subarray(o, gn[2]) });
    o = gn[2];
  }
  return out;
}
