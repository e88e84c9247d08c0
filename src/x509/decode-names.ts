/**
 * Decoding of Names (RFC 5280 §4.1.2.4) and GeneralNames (§4.2.1.6) from DER, keeping what
 * path validation and linting need: the exact bytes, the string tag of each attribute, and IP
 * addresses as octets.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SignetError, type ErrorCode } from '../core/errors.js';
import { toHex } from '../core/bytes.js';
import { children, readSingle, type Tlv } from './der-reader.js';
import { ATTRIBUTE_SHORT_NAMES } from './oids.js';

/** One AttributeTypeAndValue. */
export interface NameAttribute {
  /** Dotted OID of the attribute type. */
  readonly type: string;
  /** Short name (CN, O, …) or the dotted OID. */
  readonly shortName: string;
  /** The value as text (UTF-8 / Latin-1 / BMP decoded; hex `#…` for non-string values). */
  readonly value: string;
  /** Universal tag of the value (0x0c UTF8String, 0x13 PrintableString, 0x16 IA5String, …). */
  readonly tag: number;
}

export interface Name {
  /** The exact DER of the Name. */
  readonly der: Uint8Array;
  /** RDNs in encoded order, each a set of attributes. */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** RFC 4514-style text in encoded order, e.g. `CN=leaf, O=Example` (OpenSSL's -nameopt oneline order). */
  readonly text: string;
}

export type GeneralNameType = 'otherName' | 'email' | 'dns' | 'x400' | 'dirName' | 'ediParty' | 'uri' | 'ip' | 'registeredId';

export interface ParsedGeneralName {
  readonly type: GeneralNameType;
  /**
   * Text form: the string for email/dns/uri; dotted/colon IP (SANs) or `addr/prefix` (name
   * constraints; `addr/mask` when the mask is not a prefix); the Name text for dirName; the OID
   * for registeredId/otherName.
   */
  readonly value: string;
  /** Raw content octets (IP address, or address+mask in name constraints). */
  readonly octets?: Uint8Array;
  /** Decoded directory name, for dirName. */
  readonly name?: Name;
  /** The complete GeneralName TLV. */
  readonly der: Uint8Array;
}

const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

function decodeString(t: Tlv, code: ErrorCode): string {
  switch (t.tag) {
    case 0x0c: // UTF8String
      try {
        return TEXT_DECODER.decode(t.content);
      } catch {
        throw new SignetError(code, 'invalid UTF-8 in name attribute');
      }
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      let s = '';
      for (let i = 0; i + 1 < t.content.length; i += 2) s += String.fromCharCode(((t.content[i] as number) << 8) | (t.content[i + 1] as number));
      return s;
    }
    case 0x1c: {
      // UniversalString: UCS-4 big-endian
      let s = '';
      for (let i = 0; i + 3 < t.content.length; i += 4) {
        const cp = ((t.content[i] as number) << 24) | ((t.content[i + 1] as number) << 16) | ((t.content[i + 2] as number) << 8) | (t.content[i + 3] as number);
        s += String.fromCodePoint(cp >>> 0);
      }
      return s;
    }
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString (treated as Latin-1, as OpenSSL does)
    case 0x1a: // VisibleString
    case 0x12: // NumericString
      return Buffer.from(t.content).toString('latin1');
    default:
      return '#' + toHex(t.bytes);
  }
}

/**
 * C0 controls, DEL and C1 controls: written as `\XX` hex pairs of their UTF-8 bytes (RFC 4514
 * §2.4 allows any character to be escaped so), so that a Name can never carry a terminal escape
 * sequence or a line break into output.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function hexPairs(c: string): string {
  return Array.from(Buffer.from(c, 'utf8'), (b) => '\\' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** RFC 4514 §2.4 escaping of an attribute value for display (controls as hex pairs). */
function escapeValue(v: string): string {
  let s = v.replace(/([\\,+"<>;=])/g, '\\$1').replace(CONTROL, hexPairs);
  if (s.startsWith(' ') || s.startsWith('#')) s = '\\' + s;
  if (s.endsWith(' ') && s.length > 1) s = s.slice(0, -1) + '\\ ';
  return s;
}

/** Decodes the DER of a Name. */
export function decodeName(der: Uint8Array, code: ErrorCode = 'ERR_CERT_MALFORMED'): Name {
  const seq = readSingle(der, code);
  if (seq.tag !== 0x30) throw new SignetError(code, 'name is not a sequence');
  const rdns: NameAttribute[][] = [];
  for (const set of children(seq, code)) {
    if (set.tag !== 0x31) throw new SignetError(code, 'relative distinguished name is not a set');
    const attrs: NameAttribute[] = [];
    for (const atv of children(set, code)) {
      const [typeTlv, valueTlv, extra] = children(atv, code);
      if (atv.tag !== 0x30 || !typeTlv || typeTlv.tag !== 0x06 || !valueTlv || extra) {
        throw new SignetError(code, 'malformed attribute in name');
      }
      const type = decodeOid(typeTlv.content, code);
      attrs.push({ type, shortName: ATTRIBUTE_SHORT_NAMES[type] ?? type, value: decodeString(valueTlv, code), tag: valueTlv.tag });
    }
    if (attrs.length === 0) throw new SignetError(code, 'empty relative distinguished name');
    rdns.push(attrs);
  }
  const text = rdns.map((rdn) => rdn.map((a) => `${a.shortName}=${escapeValue(a.value)}`).join(' + ')).join(', ');
  return { der: seq.bytes, rdns, text };
}

/** Decodes OBJECT IDENTIFIER content octets into dotted text (X.690 §8.19). */
export function decodeOid(content: Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): string {
  if (content.length === 0) throw new SignetError(code, 'empty object identifier');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < content.length; i++) {
    const b = content[i] as number;
    if (v === 0n && b === 0x80) throw new SignetError(code, 'non-minimal object identifier');
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === content.length - 1) {
      throw new SignetError(code, 'truncated object identifier');
    }
  }
  const first = arcs[0] as bigint;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

function formatIp(octets: Uint8Array): string {
  if (octets.length === 4) return Array.from(octets).join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push((((octets[i] as number) << 8) | (octets[i + 1] as number)).toString(16));
  // RFC 5952 §4.2.3: compress the longest run (≥2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return parts.slice(0, best).join(':') + '::' + parts.slice(best + bestLen).join(':');
}

/** The prefix length of a contiguous mask, or -1 when the mask has holes. */
export function maskPrefixLength(mask: Uint8Array): number {
  let n = 0;
  let i = 0;
  for (; i < mask.length && mask[i] === 0xff; i++) n += 8;
  if (i < mask.length) {
    const b = mask[i] as number;
    let bits = 0;
    while (bits < 8 && b & (0x80 >> bits)) bits++;
    if ((b << bits) & 0xff) return -1;
    n += bits;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return -1;
  }
  return n;
}

const GN_TYPES: readonly GeneralNameType[] = ['otherName', 'email', 'dns', 'x400', 'dirName', 'ediParty', 'uri', 'ip', 'registeredId'];

/**
 * Decodes one GeneralName TLV. `inConstraint` selects the name-constraints form of iPAddress
 * (address followed by mask, RFC 5280 §4.2.1.10).
 */
export function decodeGeneralName(t: Tlv, inConstraint: boolean, code: ErrorCode = 'ERR_CERT_MALFORMED'): ParsedGeneralName {
  const n = t.tag & 0x1f;
  const cls = t.tag & 0xc0;
  const type = GN_TYPES[n];
  if (cls !== 0x80 || type === undefined) throw new SignetError(code, `unknown general name tag 0x${t.tag.toString(16)}`);
  switch (type) {
    case 'email':
    case 'dns':
    case 'uri': {
      // eslint-disable-next-line no-control-regex
      if (!/^[\x00-\x7f]*$/.test(Buffer.from(t.content).toString('latin1'))) {
        throw new SignetError(code, `${{ email: 'email', dns: 'DNS', uri: 'URI' }[type]} name is not IA5 (ASCII)`);
      }
      return { type, value: Buffer.from(t.content).toString('latin1'), der: t.bytes };
    }
    case 'ip': {
      const len = t.content.length;
      if (!inConstraint) {
        if (len !== 4 && len !== 16) throw new SignetError(code, `IP address of ${len} octets`);
        return { type, value: formatIp(t.content), octets: t.content, der: t.bytes };
      }
      if (len !== 8 && len !== 32) throw new SignetError(code, `IP constraint of ${len} octets`);
      const half = len / 2;
      const addr = t.content.subarray(0, half);
      const mask = t.content.subarray(half);
      const prefix = maskPrefixLength(mask);
      const value = prefix >= 0 ? `${formatIp(addr)}/${prefix}` : `${formatIp(addr)}/${formatIp(mask)}`;
      return { type, value, octets: t.content, der: t.bytes };
    }
    case 'dirName': {
      // [4] is EXPLICIT (Name is a CHOICE): the content is a complete Name.
      const name = decodeName(t.content, code);
      return { type, value: name.text, name, der: t.bytes };
    }
    case 'registeredId':
      return { type, value: decodeOid(t.content, code), der: t.bytes };
    case 'otherName': {
      const [id] = children(t, code);
      if (!id || id.tag !== 0x06) throw new SignetError(code, 'malformed otherName');
      return { type, value: decodeOid(id.content, code), der: t.bytes };
    }
    default:
      return { type, value: '#' + toHex(t.content), der: t.bytes };
  }
}

/** Decodes GeneralNames (a SEQUENCE OF GeneralName) from DER. */
export function decodeGeneralNames(der: Uint8Array, code: ErrorCode = 'ERR_CERT_MALFORMED'): ParsedGeneralName[] {
  const seq = readSingle(der, code);
  if (seq.tag !== 0x30) throw new SignetError(code, 'general names is not a sequence');
  return children(seq, code).map((t) => decodeGeneralName(t, false, code));
}

/** Validates IP text and returns its octets (4 or 16), or undefined when it is not an IP. */
export function ipToOctets(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text)) return undefined;
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  let tail: number[] = [];
  if (v4 && v4[1]) {
    tail = v4[1].split('.').map(Number);
    t = t.slice(0, -v4[1].length) + '0:0';
  }
  const [l, r] = t.includes('::') ? t.split('::') : [t, undefined];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const fill = r === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...fill, ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

