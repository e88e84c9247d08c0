/**
 * GeneralName (RFC 5280 §4.2.1.6) — the names in subjectAltName, name constraints, CRL
 * distribution points and AIA — with encoders for issuance and the text syntax of the CLI.
 *
 * ```asn1
 * GeneralName ::= CHOICE {
 *   otherName                 [0] OtherName,
 *   rfc822Name                [1] IA5String,
 *   dNSName                   [2] IA5String,
 *   x400Address               [3] ORAddress,
 *   directoryName             [4] Name,
 *   ediPartyName              [5] EDIPartyName,
 *   uniformResourceIdentifier [6] IA5String,
 *   iPAddress                 [7] OCTET STRING,
 *   registeredID              [8] OBJECT IDENTIFIER }
 * ```
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { SignetError } from '../core/errors.js';
import { explicit, implicitPrimitive, sequence, tlv } from './der.js';
import { asciiTlv, encodeName, type DistinguishedName } from './name.js';

/**
 * A GeneralName. For `ip`, the value is an address (`10.0.0.1`, `::1`); inside name constraints
 * it is a CIDR range (`10.0.0.0/8`, `fd00::/8`) or address/mask (`10.0.0.0/255.0.0.0`).
 * `other` carries a complete raw GeneralName TLV, written verbatim (for otherName, registeredID
 * or deliberately malformed names in tests).
 */
export type GeneralName =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'ip'; readonly value: string }
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'uri'; readonly value: string }
  | { readonly type: 'dirName'; readonly value: DistinguishedName }
  | { readonly type: 'other'; readonly der: Uint8Array };

/** [tag] IMPLICIT IA5String, written directly (hot path); ERR_BAD_NAME for non-ASCII. */
function ia5Name(tagNumber: number, s: string, what: string): Uint8Array {
  const t = asciiTlv(0x80 | tagNumber, s);
  if (!t) {
    throw new SignetError('ERR_BAD_NAME', `${what} "${s}" is not ASCII (IA5String)`, { hint: 'internationalized names must be written as A-labels (xn--…)' });
  }
  return t;
}

/** Parses a dotted-quad IPv4 or an IPv6 address into 4 or 16 bytes; undefined when invalid. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text) || text.includes('%')) return undefined;
  let s = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = (v4[1] as string).split('.').map(Number) as [number, number, number, number];
    s = s.slice(0, -(v4[1] as string).length) + ((b[0] << 8) | b[1]).toString(16) + ':' + ((b[2] << 8) | b[3]).toString(16);
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Formats 4 or 16 address bytes as text (IPv6 in RFC 5952 canonical form). */
export function formatIpAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) return Buffer.from(bytes).toString('hex');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  // Longest run of ≥2 zero groups becomes "::" (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/**
 * Parses an address range for name constraints (RFC 5280 §4.2.1.10: address followed by mask):
 * `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `fd00::/8`, or a single address (host mask). Returns
 * address‖mask (8 or 32 bytes); undefined when invalid.
 */
export function parseIpRange(text: string): Uint8Array | undefined {
  const slash = text.indexOf('/');
  const addr = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const mask = new Uint8Array(addr.length);
  if (slash < 0) {
    mask.fill(0xff);
  } else {
    const m = text.slice(slash + 1);
    if (/^\d{1,3}$/.test(m)) {
      const bits = Number(m);
      if (bits > addr.length * 8) return undefined;
      for (let i = 0; i < bits; i++) mask[i >> 3] = (mask[i >> 3] as number) | (0x80 >> (i & 7));
    } else {
      const mb = parseIpAddress(m);
      if (!mb || mb.length !== addr.length) return undefined;
      mask.set(mb);
    }
  }
  const out = new Uint8Array(addr.length * 2);
  out.set(addr);
  out.set(mask, addr.length);
  return out;
}

/**
 * DER of one GeneralName. With `constraint`, an `ip` value is an address range (address‖mask,
 * RFC 5280 §4.2.1.10); otherwise it must be a single address. Names are written as given —
 * syntax checks live in {@link parseGeneralName} and the linter, so tests can build defective
 * certificates. Throws ERR_BAD_NAME for values that cannot be encoded at all.
 */
export function encodeGeneralName(name: GeneralName, constraint = false): Uint8Array {
  switch (name.type) {
    case 'email':
      return ia5Name(1, name.value, 'e-mail address');
    case 'dns':
      return ia5Name(2, name.value, 'DNS name');
    case 'dirName':
      // Name is a CHOICE, so the [4] tag is explicit (RFC 5280 Appendix A.2 uses IMPLICIT TAGS,
      // but X.680 §31.2.7 makes tags on CHOICE types explicit).
      return explicit(4, encodeName(name.value));
    case 'uri':
      return ia5Name(6, name.value, 'URI');
    case 'ip': {
      const bytes = constraint ? parseIpRange(name.value) : parseIpAddress(name.value);
      if (!bytes) {
        throw new SignetError('ERR_BAD_NAME', `invalid IP ${constraint ? 'range' : 'address'} "${name.value}"`, {
          hint: constraint ? 'use CIDR notation: 10.0.0.0/8, fd00::/8' : 'use 192.0.2.1 or 2001:db8::1',
        });
      }
      return implicitPrimitive(7, bytes);
    }
    case 'other':
      return name.der;
  }
}

/** DER of GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
export function encodeGeneralNames(names: readonly GeneralName[], constraint = false): Uint8Array {
  return sequence(names.map((n) => encodeGeneralName(n, constraint)));
}

// ---------------------------------------------------------------------------------------------
// Text syntax and validation

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** Why a text is not a usable dNSName: the message tail and an optional hint. */
interface NameProblem {
  readonly why: string;
  readonly hint?: string;
}

/**
 * An A-label (RFC 5890 §2.3.2.1, `xn--…`) must be valid Punycode that decodes to something and
 * encodes back to itself; `xn--zz` does not. Checked with the WHATWG URL host parser (UTS #46).
 */
function isValidALabel(label: string): boolean {
  const lower = label.toLowerCase();
  const unicode = domainToUnicode(lower);
  return unicode !== '' && unicode !== lower && domainToASCII(unicode) === lower;
}

/**
 * The first reason `name` is not a preferred-syntax DNS name (RFC 1034 §3.5, RFC 5280
 * §4.2.1.6), or undefined when it is one. The common mistakes get their own message: a port, an
 * IPv6 zone id, a trailing dot, a Unicode (U-label) name, a broken A-label, and all-numeric
 * names such as `999.1.1.1` (RFC 3696 §2: top-level domains are never all-numeric, so such a
 * name can only be a mistyped IP address).
 */
function dnsNameProblem(name: string, options: { wildcard?: boolean; constraint?: boolean } = {}): NameProblem | undefined {
  let n = name;
  if (options.constraint && n.startsWith('.')) n = n.slice(1);
  if (options.wildcard && n.startsWith('*.')) n = n.slice(2);
  if (n.length === 0) return { why: 'it is empty' };
  if (/^[^:]+:\d*$/.test(n)) return { why: 'ports are not allowed in a DNS SAN' };
  if (n.includes('%') && isIPv6(n)) return { why: 'IPv6 zone ids are not allowed', hint: `drop the zone: ip:${n.slice(0, n.indexOf('%'))}` };
  if (/[\u0080-\u{10ffff}]/u.test(n)) {
    const ascii = domainToASCII(name);
    return { why: 'internationalized names must be written as IDNA A-labels', hint: ascii ? `use ${ascii}` : 'convert each label to its A-label (xn--…)' };
  }
  if (n.endsWith('.') && n.length > 1) return { why: 'a trailing dot is not allowed (RFC 5280 §4.2.1.6)', hint: `drop the trailing dot: ${name.slice(0, -1)}` };
  if (n.length > 253) return { why: 'it is longer than 253 characters' };
  const labels = n.split('.');
  for (const l of labels) {
    if (!LABEL.test(l)) return { why: l.length > 63 ? 'a label is longer than 63 characters' : `"${l}" is not a valid label (letters, digits and inner hyphens)` };
    if (/^xn--/i.test(l) && !isValidALabel(l)) return { why: `"${l}" is not a valid punycode A-label (RFC 5891 §4.4)` };
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) {
    if (labels.every((l) => /^\d+$/.test(l))) return { why: 'it looks like an IP address but is not a valid one', hint: 'write an IPv4 address as four decimal numbers 0–255 without leading zeros, e.g. 192.0.2.1' };
    return { why: 'the last label is all digits, which no top-level domain is (RFC 3696 §2)' };
  }
  return undefined;
}

/**
 * True for a preferred-syntax DNS name (RFC 1034 §3.5 / RFC 5280 §4.2.1.6), optionally `*.`
 * wildcard: ASCII letter-digit-hyphen labels of at most 63 characters, no trailing dot, valid
 * A-labels, and a last label that is not all digits (RFC 3696 §2).
 */
export function isValidDnsName(name: string, options: { wildcard?: boolean; constraint?: boolean } = {}): boolean {
  return dnsNameProblem(name, options) === undefined;
}

/** True for an RFC 5322 addr-spec as RFC 5280 §4.2.1.6 uses it (local@domain, ASCII). */
export function isValidEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const local = value.slice(0, at);
  return /^[\x21-\x7e]+$/.test(local) && isValidDnsName(value.slice(at + 1));
}

/** True for an absolute URI with a scheme (RFC 3986 §3), as required in subjectAltName. */
export function isValidUri(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function badName(text: string, kind: string, hint?: string): SignetError {
  return new SignetError('ERR_BAD_NAME', `invalid ${kind} "${text}"`, hint === undefined ? {} : { hint });
}

function badDnsName(text: string, problem: NameProblem): SignetError {
  return new SignetError('ERR_BAD_NAME', `invalid DNS name "${text}": ${problem.why}`, problem.hint === undefined ? {} : { hint: problem.hint });
}

/**
 * `host:port` typed without a scheme (`www.example.com:443`, `localhost:8080`, `10.0.0.1:443`,
 * `[::1]:443`). Such text also matches the URI grammar (scheme `www.example.com`), but no one
 * means that: a URI SAN has a real scheme and, for the hierarchical schemes used in
 * certificates, `//` (RFC 3986 §3).
 */
function looksLikeHostPort(text: string): boolean {
  if (/^\[[^\]]*\]:\d*$/.test(text)) return true;
  const m = /^([^:/@\s]+):(.*)$/s.exec(text);
  if (!m || (m[2] ?? '').startsWith('//')) return false;
  return /^\d{1,5}(?:\/.*)?$/.test(m[2] ?? '') || (m[1] ?? '').includes('.');
}

/** An IPv6 address in brackets (`[::1]`, as in URLs, RFC 3986 §3.2.2), without them. */
function unbracket(text: string): string {
  const m = /^\[([^\]]+)\]$/.exec(text);
  return m && isIPv6(m[1] ?? '') ? (m[1] as string) : text;
}

/** The error for `host:port` text: a SAN names a host, never a port (RFC 5280 §4.2.1.6). */
function portError(value: string): SignetError {
  const bracket = /^\[([^\]]*)\]/.exec(value);
  const host = bracket ? (bracket[1] ?? '') : value.slice(0, value.indexOf(':'));
  if (bracket || parseIpAddress(host)) {
    return new SignetError('ERR_BAD_NAME', `invalid IP address "${value}": ports are not allowed in an IP address SAN`, { hint: `drop the port: ip:${host}` });
  }
  if (!/^\d{1,5}(?:\/.*)?$/s.test(value.slice(host.length + 1))) {
    return new SignetError('ERR_BAD_NAME', `invalid DNS name "${value}": a host name followed by ":" is neither a DNS name nor a URI`, {
      hint: `for a URI SAN, write it with the uri: prefix (uri:${value})`,
    });
  }
  return new SignetError('ERR_BAD_NAME', `invalid DNS name "${value}": ports are not allowed in a DNS SAN`, {
    hint: `drop the port (dns:${host}); for a URI SAN, write it with the uri: prefix and a scheme (uri:https://${value})`,
  });
}

function zoneError(value: string): SignetError {
  return new SignetError('ERR_BAD_NAME', `invalid IP address "${value}": IPv6 zone ids are not allowed`, {
    hint: `a zone id (%…) only means something on one host; use ip:${value.slice(0, value.indexOf('%'))}`,
  });
}

/**
 * Parses a name as users type it: `dns:`, `ip:`, `email:` and `uri:` prefixes force the type;
 * otherwise IP addresses (and, for constraints, CIDR ranges) are `ip`, values with `@` are
 * `email`, `scheme:…` is `uri`, anything else `dns`. Each value is syntax-checked.
 * With `constraint`, the forms of RFC 5280 §4.2.1.10 are accepted: `.example.com` (DNS),
 * `example.com`/`.example.com` (e-mail domain), host or `.domain` for URI, CIDR for IP.
 *
 * Refused with a specific message: `host:port` without a scheme, IPv6 zone ids (`fe80::1%eth0`:
 * a zone is local to one host, RFC 6874 §1), all-numeric names that are not valid IPv4
 * addresses (`999.1.1.1`, `01.02.03.04`), Unicode names (use the A-label), trailing dots and
 * broken A-labels. `[::1]` is the IP address ::1. Wildcards are accepted wherever a `*.` prefix
 * fits (even `*.com`: whether that is acceptable is the linter's call). Throws ERR_BAD_NAME.
 */
export function parseGeneralName(text: string, options: { constraint?: boolean } = {}): GeneralName {
  const constraint = options.constraint === true;
  const m = /^(dns|ip|email|uri):(.*)$/i.exec(text);
  let type: 'dns' | 'ip' | 'email' | 'uri';
  let value: string;
  if (m) {
    type = (m[1] as string).toLowerCase() as typeof type;
    value = m[2] as string;
    if (type === 'ip') value = unbracket(value);
  } else {
    value = unbracket(text);
    const ipPart = constraint ? value.split('/')[0] ?? '' : value;
    if (parseIpAddress(ipPart) || (isIPv6(value) && value.includes('%'))) type = 'ip';
    else if (!constraint && looksLikeHostPort(value)) throw portError(value);
    else if (value.includes('@')) type = 'email';
    else if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value) && !constraint) type = 'uri';
    else type = 'dns';
  }
  switch (type) {
    case 'ip':
      if (isIPv6(value) && value.includes('%')) throw zoneError(value);
      if (!constraint && looksLikeHostPort(value) && !parseIpAddress(value)) throw portError(value);
      if (constraint ? !parseIpRange(value) : !parseIpAddress(value)) {
        throw badName(value, constraint ? 'IP range' : 'IP address', constraint ? 'use CIDR notation: 10.0.0.0/8' : 'use 192.0.2.1 or 2001:db8::1');
      }
      return { type, value };
    case 'email':
      if (constraint) {
        if (!(value.includes('@') ? isValidEmail(value) : isValidDnsName(value, { constraint: true }))) throw badName(value, 'e-mail constraint');
      } else if (!isValidEmail(value)) {
        throw badName(value, 'e-mail address');
      }
      return { type, value };
    case 'uri':
      if (constraint ? !isValidDnsName(value, { constraint: true }) : !isValidUri(value)) {
        throw badName(value, constraint ? 'URI constraint (a host or .domain)' : 'URI', constraint ? undefined : 'use an absolute URI such as spiffe://example.org/web');
      }
      return { type, value };
    case 'dns': {
      if (!constraint && looksLikeHostPort(value)) throw portError(value);
      const problem = dnsNameProblem(value, { wildcard: !constraint, constraint });
      if (problem) throw badDnsName(value, problem);
      return { type, value: value.toLowerCase() };
    }
  }
}

/** Formats a GeneralName as `DNS:…`, `IP:…`, `email:…`, `URI:…` (OpenSSL's display prefixes). */
export function formatGeneralName(name: GeneralName): string {
  switch (name.type) {
    case 'dns':
      return `DNS:${name.value}`;
    case 'ip':
      return `IP:${name.value}`;
    case 'email':
      return `email:${name.value}`;
    case 'uri':
      return `URI:${name.value}`;
    case 'dirName':
      return `DirName:${name.value.map((r) => r.map((a) => `${a.type}=${a.value}`).join('+')).join('/')}`;
    case 'other':
      return `other:${Buffer.from(name.der).toString('hex')}`;
  }
}

/** A tagged TLV helper for callers building raw `other` names (e.g. registeredID [8]). */
export function rawGeneralName(tagNumber: number, content: Uint8Array, constructed = false): GeneralName {
  return { type: 'other', der: tlv((constructed ? 0xa0 : 0x80) | tagNumber, content) };
}
