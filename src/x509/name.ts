/**
 * Distinguished names (RFC 5280 §4.1.2.4): the in-memory form, DER encoding for issuance, and
 * the two text forms users type — RFC 4514 (`CN=web,O=Example,C=DE`) and OpenSSL's slash form
 * (`/C=DE/O=Example/CN=web`).
 *
 * A `DistinguishedName` is kept in DER order: the first RDN is the most significant (usually C or
 * DC). RFC 4514 strings list RDNs in the *reverse* order (RFC 4514 §2.1), so
 * `parseDistinguishedName('CN=web,O=Example')` yields `[[O=Example], [CN=web]]`; the OpenSSL
 * slash form is already in DER order.
 */
import { SignetError } from '../core/errors.js';
import { headerLength, isPrintable, oid, sequence, setOf, Tag, tlv, utf8String, writeHeader } from './der.js';
import { ATTRIBUTE_SHORT_NAMES, OID } from './oids.js';

/** How an attribute value is written. Default per attribute: see {@link defaultEncoding}. */
export type StringEncoding = 'utf8' | 'printable' | 'ia5';

/** AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue } */
export interface AttributeTypeAndValue {
  /** Dotted OID or a short name (`CN`, `O`, `OU`, `C`, `ST`, `L`, `DC`, `emailAddress`, …). */
  readonly type: string;
  readonly value: string;
  /** Overrides the string type (useful to build deliberately unusual names in tests). */
  readonly encoding?: StringEncoding;
}

/** RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue */
export type RelativeDistinguishedName = ReadonlyArray<AttributeTypeAndValue>;

/** RDNSequence ::= SEQUENCE OF RelativeDistinguishedName — in DER order (most significant first). */
export type DistinguishedName = ReadonlyArray<RelativeDistinguishedName>;

/** Short names accepted in text form (case-insensitive), in addition to dotted OIDs. */
const NAME_TO_OID: ReadonlyMap<string, string> = new Map<string, string>([
  ...Object.entries(ATTRIBUTE_SHORT_NAMES).map(([o, n]) => [n.toLowerCase(), o] as [string, string]),
  ['commonname', OID.commonName],
  ['countryname', OID.countryName],
  ['s', OID.stateOrProvinceName],
  ['stateorprovincename', OID.stateOrProvinceName],
  ['localityname', OID.localityName],
  ['organizationname', OID.organizationName],
  ['organizationalunitname', OID.organizationalUnitName],
  ['domaincomponent', OID.domainComponent],
  ['e', OID.emailAddress],
  ['email', OID.emailAddress],
  ['surname', OID.surname],
  ['givenname', OID.givenName],
  ['g', OID.givenName],
  ['street', OID.streetAddress],
  ['streetaddress', OID.streetAddress],
  ['uid', OID.userId],
  ['userid', OID.userId],
]);

/** Resolves a short name (case-insensitive) or dotted OID to a dotted OID; throws ERR_BAD_SUBJECT. */
export function attributeTypeOid(type: string): string {
  const known = TYPE_CACHE.get(type);
  if (known !== undefined) return known;
  if (/^\d+(\.\d+)+$/.test(type)) return type;
  const o = NAME_TO_OID.get(type.toLowerCase());
  if (o === undefined) {
    throw new SignetError('ERR_BAD_SUBJECT', `unknown attribute type "${type}"`, { hint: 'use CN, O, OU, C, ST, L, DC, emailAddress, … or a dotted OID' });
  }
  if (TYPE_CACHE.size < 256) TYPE_CACHE.set(type, o);
  return o;
}

const TYPE_CACHE = new Map<string, string>([
  ['CN', OID.commonName],
  ['O', OID.organizationName],
  ['OU', OID.organizationalUnitName],
  ['C', OID.countryName],
]);

/**
 * The string type OpenSSL writes with its default `string_mask = utf8only`: PrintableString for
 * countryName, serialNumber and dnQualifier (X.520 declares them PrintableString), IA5String for
 * emailAddress (PKCS#9) and domainComponent (RFC 4519), UTF8String for everything else
 * (RFC 5280 §4.1.2.4: "CAs MUST use UTF8String" for DirectoryString after 2003).
 */
export function defaultEncoding(typeOid: string): StringEncoding {
  switch (typeOid) {
    case OID.countryName:
    case OID.serialNumber:
    case OID.dnQualifier:
      return 'printable';
    case OID.emailAddress:
    case OID.domainComponent:
      return 'ia5';
    default:
      return 'utf8';
  }
}

/**
 * A TLV whose content is the ASCII string `s`, written without TextEncoder (this runs several
 * times per issuance). Returns undefined when `s` is not ASCII. Internal to the issuance path.
 */
export function asciiTlv(tag: number, s: string): Uint8Array | undefined {
  const n = s.length;
  // eslint-disable-next-line no-control-regex
  if (n > 0xffff) return /^[\x00-\x7f]*$/.test(s) ? tlv(tag, Buffer.from(s, 'latin1')) : undefined;
  const h = n < 0x80 ? 2 : n < 0x100 ? 3 : 4;
  const out = new Uint8Array(h + n);
  out[0] = tag;
  if (n < 0x80) {
    out[1] = n;
  } else if (n < 0x100) {
    out[1] = 0x81;
    out[2] = n;
  } else {
    out[1] = 0x82;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return undefined;
    out[h + i] = c;
  }
  return out;
}

function encodeValue(value: string, enc: StringEncoding): Uint8Array {
  switch (enc) {
    case 'utf8':
      return asciiTlv(Tag.UTF8_STRING, value) ?? utf8String(value);
    case 'printable':
      if (!isPrintable(value)) {
        throw new SignetError('ERR_BAD_SUBJECT', `"${value}" is not a PrintableString`, { hint: 'use A-Z a-z 0-9 and \' ( ) + , - . / : = ? space' });
      }
      return asciiTlv(Tag.PRINTABLE_STRING, value) as Uint8Array;
    case 'ia5': {
      const t = asciiTlv(Tag.IA5_STRING, value);
      if (!t) throw new SignetError('ERR_BAD_SUBJECT', `"${value}" is not an IA5String (ASCII)`);
      return t;
    }
  }
}

/** DER of one AttributeTypeAndValue. */
export function encodeAttribute(atv: AttributeTypeAndValue): Uint8Array {
  const o = attributeTypeOid(atv.type);
  return sequence([oid(o), encodeValue(atv.value, atv.encoding ?? defaultEncoding(o))]);
}

/**
 * DER of a Name (RDNSequence). An empty array gives the empty Name `30 00`. Single-valued RDNs
 * (the usual case) are written in one pass with one allocation; multi-valued ones go through
 * setOf, which sorts their members as DER requires (X.690 §11.6).
 */
export function encodeName(dn: DistinguishedName): Uint8Array {
  // Per RDN: either [oid, value] of its single attribute or a complete SET TLV.
  const oids: (Uint8Array | undefined)[] = [];
  const values: Uint8Array[] = [];
  const rdnLens: number[] = [];
  let body = 0;
  for (const rdn of dn) {
    if (rdn.length === 1) {
      const atv = rdn[0] as AttributeTypeAndValue;
      const o = attributeTypeOid(atv.type);
      const od = oid(o);
      const v = encodeValue(atv.value, atv.encoding ?? defaultEncoding(o));
      const atvLen = od.length + v.length;
      const setLen = headerLength(atvLen) + atvLen;
      oids.push(od);
      values.push(v);
      rdnLens.push(atvLen);
      body += headerLength(setLen) + setLen;
    } else {
      const set = setOf(rdn.map(encodeAttribute));
      oids.push(undefined);
      values.push(set);
      rdnLens.push(0);
      body += set.length;
    }
  }
  const out = new Uint8Array(headerLength(body) + body);
  let o = writeHeader(out, 0, Tag.SEQUENCE, body);
  for (let i = 0; i < values.length; i++) {
    const od = oids[i];
    const v = values[i] as Uint8Array;
    if (od === undefined) {
      out.set(v, o);
      o += v.length;
      continue;
    }
    const atvLen = rdnLens[i] as number;
    o = writeHeader(out, o, Tag.SET, headerLength(atvLen) + atvLen);
    o = writeHeader(out, o, Tag.SEQUENCE, atvLen);
    out.set(od, o);
    o += od.length;
    out.set(v, o);
    o += v.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text forms

const RFC4514_SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ']);

function bad(text: string, why: string): SignetError {
  return new SignetError('ERR_BAD_SUBJECT', `invalid distinguished name "${text}": ${why}`, {
    hint: 'use RFC 4514 (CN=web,O=Example,C=DE) or OpenSSL form (/C=DE/O=Example/CN=web)',
  });
}

/**
 * Splits `text` at unescaped `sep` characters; `\x` escapes are kept for the value decoder.
 */
function splitUnescaped(text: string, seps: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + (text[i + 1] as string);
      i++;
    } else if (seps.includes(ch)) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

/** Decodes RFC 4514 §3 escapes: `\,` etc. and `\XX` hex pairs (UTF-8 bytes). */
function unescapeValue(raw: string, full: string): string {
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\\') {
      const next = raw[i + 1];
      if (next === undefined) throw bad(full, 'dangling backslash');
      const pair = raw.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 2;
      } else {
        bytes.push(...enc.encode(next));
        i += 1;
      }
    } else {
      bytes.push(...enc.encode(ch));
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw bad(full, 'escaped bytes are not valid UTF-8');
  }
}

/** Trims unescaped surrounding spaces (an escaped trailing space `\ ` is kept). */
function trimValue(raw: string): string {
  let s = raw.replace(/^\s+/, '');
  while (s.endsWith(' ') && !s.endsWith('\\ ')) s = s.slice(0, -1);
  return s;
}

function parseAttribute(part: string, full: string): AttributeTypeAndValue {
  const eq = part.indexOf('=');
  if (eq <= 0) throw bad(full, `"${part.trim()}" is not TYPE=value`);
  const type = part.slice(0, eq).trim();
  const rawValue = trimValue(part.slice(eq + 1));
  if (rawValue.startsWith('#')) throw bad(full, 'hex-encoded (#…) values are not supported');
  const value = unescapeValue(rawValue, full);
  if (value.length === 0) throw bad(full, `empty value for ${type}`);
  attributeTypeOid(type); // validate early for a precise error
  return { type, value };
}

/**
 * Parses a distinguished name in RFC 4514 form (`CN=web,O=Example,C=DE`, reversed into DER
 * order) or, when it starts with `/`, OpenSSL's form (`/C=DE/O=Example/CN=web`, already in DER
 * order). Multi-valued RDNs use `+`; `\` escapes special characters (RFC 4514 §3). The empty
 * string and `/` give the empty name. Throws ERR_BAD_SUBJECT.
 */
export function parseDistinguishedName(text: string): DistinguishedName {
  const t = trimValue(text);
  if (t === '' || t === '/') return [];
  const slash = t.startsWith('/');
  const rdnTexts = slash ? splitUnescaped(t.slice(1), '/') : splitUnescaped(t, ',');
  const rdns: RelativeDistinguishedName[] = rdnTexts.map((rdnText) => {
    if (rdnText.trim() === '') throw bad(text, 'empty relative distinguished name');
    return splitUnescaped(rdnText, '+').map((p) => parseAttribute(p, text));
  });
  return slash ? rdns : rdns.reverse();
}

/**
 * Parses a subject as the CLI takes it: a DN in either text form when it contains `=`, otherwise
 * the whole text is the common name (`"Example Root CA"` → `CN=Example Root CA`). Empty and `/`
 * give the empty name.
 */
export function parseSubject(text: string): DistinguishedName {
  const t = text.trim();
  if (t === '' || t === '/') return [];
  if (!t.includes('=')) return [[{ type: 'CN', value: text }]];
  return parseDistinguishedName(text);
}

/** `\XX` hex pairs of the UTF-8 bytes of `c` (RFC 4514 §2.4). */
function hexPairs(c: string): string {
  return Array.from(new TextEncoder().encode(c), (b) => '\\' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/**
 * RFC 4514 §2.4 escaping; C0, DEL and C1 controls become hex pairs so the text can be printed
 * and parsed back ({@link parseDistinguishedName} reads hex pairs as UTF-8).
 */
function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i] as string;
    const leading = i === 0 && (ch === ' ' || ch === '#');
    const trailing = i === v.length - 1 && ch === ' ';
    if (leading || trailing || (RFC4514_SPECIAL.has(ch) && ch !== ' ' && ch !== '#')) out += '\\' + ch;
    else if (ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) <= 0x9f)) out += hexPairs(ch);
    else out += ch;
  }
  return out;
}

/** Short name for display (`CN`, `O`, …) or the dotted OID. */
export function attributeShortName(typeOid: string): string {
  return ATTRIBUTE_SHORT_NAMES[typeOid] ?? typeOid;
}

/** Formats a name as an RFC 4514 string (most specific RDN first). */
export function formatDistinguishedName(dn: DistinguishedName): string {
  return [...dn]
    .reverse()
    .map((rdn) => rdn.map((a) => `${attributeShortName(attributeTypeOid(a.type))}=${escapeValue(a.value)}`).join('+'))
    .join(',');
}
