/**
 * A small DER writer (ITU-T X.690 §10) for the issuance hot path. Parsing goes through
 * @peculiar/asn1-schema; writing certificates through a schema library costs ~100× a raw
 * signature, so the builder assembles DER directly from these primitives. Every function returns
 * a complete TLV; callers compose them. Output is proven byte-for-byte against OpenSSL in tests.
 */
import { describeUnrepresentableTime, isRepresentableTime } from '../core/duration.js';
import { SignetError } from '../core/errors.js';
import { concatBytes } from '../core/bytes.js';

/** Universal tag numbers used by X.509. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
} as const;

/** Bytes of a DER tag (single byte) plus definite length for `len` content octets. */
export function headerLength(len: number): number {
  return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
}

/**
 * Writes a tag and the minimal definite length of `len` content octets at `out[off]` and returns
 * the offset after them. For writers that size a whole structure first and fill one buffer.
 */
export function writeHeader(out: Uint8Array, off: number, tag: number, len: number): number {
  out[off++] = tag;
  if (len < 0x80) {
    out[off++] = len;
  } else if (len < 0x100) {
    out[off++] = 0x81;
    out[off++] = len;
  } else if (len < 0x10000) {
    out[off++] = 0x82;
    out[off++] = len >> 8;
    out[off++] = len & 0xff;
  } else {
    const n = headerLength(len) - 2;
    out[off++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) out[off++] = Math.floor(len / 2 ** (8 * i)) & 0xff;
  }
  return off;
}

/** A TLV with the given (single-byte) tag and content. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const out = new Uint8Array(headerLength(content.length) + content.length);
  out.set(content, writeHeader(out, 0, tag, content.length));
  return out;
}

/** Concatenates already-encoded TLVs. */
export const cat: (parts: readonly Uint8Array[]) => Uint8Array = concatBytes;

export function sequence(parts: readonly Uint8Array[]): Uint8Array {
  return tlv(Tag.SEQUENCE, cat(parts));
}

/** SET OF, with elements sorted by their encodings as DER requires (X.690 §11.6). */
export function setOf(parts: readonly Uint8Array[]): Uint8Array {
  const sorted = [...parts].sort(compareBytes);
  return tlv(Tag.SET, cat(sorted));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** INTEGER from a bigint or number (two's complement, minimal length; X.690 §8.3). */
export function integer(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  let n = 1;
  // Smallest n with -2^(8n-1) <= v < 2^(8n-1).
  while (v >= 1n << BigInt(8 * n - 1) || v < -(1n << BigInt(8 * n - 1))) n++;
  let u = v < 0n ? v + (1n << BigInt(8 * n)) : v;
  const bytes = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return tlv(Tag.INTEGER, bytes);
}

/**
 * INTEGER from unsigned big-endian magnitude bytes (serial numbers): strips redundant leading
 * zeros and adds one when the top bit is set, so the value stays positive.
 */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  if (m.length === 0) return tlv(Tag.INTEGER, Uint8Array.of(0));
  if ((m[0] as number) & 0x80) {
    const c = new Uint8Array(m.length + 1);
    c.set(m, 1);
    return tlv(Tag.INTEGER, c);
  }
  return tlv(Tag.INTEGER, m);
}

export function boolean(value: boolean): Uint8Array {
  return Uint8Array.of(Tag.BOOLEAN, 1, value ? 0xff : 0x00);
}

export const NULL: Uint8Array = Uint8Array.of(Tag.NULL, 0);

export function octetString(content: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, content);
}

/** BIT STRING with the given number of unused bits in the last octet. */
export function bitString(content: Uint8Array, unusedBits = 0): Uint8Array {
  const c = new Uint8Array(content.length + 1);
  c[0] = unusedBits;
  c.set(content, 1);
  return tlv(Tag.BIT_STRING, c);
}

/**
 * A named-bit BIT STRING (X.690 §11.2.2): trailing zero bits are removed, so `bits` [0, 5] gives
 * 03 02 02 84 — exactly what OpenSSL writes for keyUsage digitalSignature|keyCertSign.
 */
export function namedBitString(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return Uint8Array.of(Tag.BIT_STRING, 1, 0);
  const max = Math.max(...bits);
  const nbytes = (max >> 3) + 1;
  const content = new Uint8Array(nbytes);
  for (const b of bits) content[b >> 3] = (content[b >> 3] as number) | (0x80 >> (b & 7));
  const unused = 7 - (max & 7);
  return bitString(content, unused);
}

const oidCache = new Map<string, Uint8Array>();

/** OBJECT IDENTIFIER from dotted text; encodings are cached (OIDs repeat on every issuance). */
export function oid(dotted: string): Uint8Array {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`invalid OID ${dotted}`);
    return BigInt(s);
  });
  if (arcs.length < 2) throw new RangeError(`invalid OID ${dotted}`);
  const first = (arcs[0] as bigint) * 40n + (arcs[1] as bigint);
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    let v = arc >> 7n;
    while (v > 0n) {
      chunk.unshift(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...chunk);
  }
  const enc = tlv(Tag.OID, Uint8Array.from(out));
  oidCache.set(dotted, enc);
  return enc;
}

const utf8 = new TextEncoder();

export function utf8String(s: string): Uint8Array {
  return tlv(Tag.UTF8_STRING, utf8.encode(s));
}

/** PrintableString (X.680 §41.4): A–Z a–z 0–9 space ' ( ) + , - . / : = ? */
export function isPrintable(s: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
}

export function printableString(s: string): Uint8Array {
  if (!isPrintable(s)) throw new RangeError('not a PrintableString');
  return tlv(Tag.PRINTABLE_STRING, utf8.encode(s));
}

export function ia5String(s: string): Uint8Array {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) throw new RangeError('not an IA5String');
  return tlv(Tag.IA5_STRING, utf8.encode(s));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * X.509 Time (RFC 5280 §4.1.2.5): UTCTime for years 1950–2049, GeneralizedTime otherwise, both
 * in Zulu with seconds and no fractions. Milliseconds are truncated.
 */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest = pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) + pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, utf8.encode(pad2(y % 100) + rest));
  return generalizedTime(d);
}

/**
 * GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.2). Throws ERR_BAD_TIME for an invalid Date
 * or one outside the years 0001–9999, which a four-digit year cannot carry.
 */
export function generalizedTime(d: Date): Uint8Array {
  if (!isRepresentableTime(d)) throw new SignetError('ERR_BAD_TIME', `time is ${describeUnrepresentableTime(d)}: DER times must fall within the years 0001–9999`);
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  const s = y + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) + pad2(d.getUTCHours()) + pad2(d.getUTCMinutes()) + pad2(d.getUTCSeconds()) + 'Z';
  return tlv(Tag.GENERALIZED_TIME, utf8.encode(s));
}

/** [n] EXPLICIT — a constructed context-specific wrapper around one TLV. */
export function explicit(n: number, inner: Uint8Array): Uint8Array {
  return tlv(0xa0 | n, inner);
}

/** [n] IMPLICIT primitive — replaces the tag of a primitive TLV's content. */
export function implicitPrimitive(n: number, content: Uint8Array): Uint8Array {
  return tlv(0x80 | n, content);
}

/** [n] IMPLICIT constructed — for implicitly tagged SEQUENCEs (e.g. GeneralSubtree lists). */
export function implicitConstructed(n: number, content: Uint8Array): Uint8Array {
  return tlv(0xa0 | n, content);
}

/** The content octets of a TLV produced by this module (header stripped). */
export function contentOf(encoded: Uint8Array): Uint8Array {
  const first = encoded[1] as number;
  const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return encoded.subarray(header);
}
