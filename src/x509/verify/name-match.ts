/**
 * Distinguished name comparison for path validation (RFC 5280 §7.1).
 *
 * Two Names match when they have the same number of RDNs and each RDN holds the same set of
 * attributes (order inside a multi-valued RDN does not matter). Attribute values of a string
 * type are compared after a simplified RFC 4518 string preparation — Unicode NFKC, case folding,
 * leading/trailing space removal and internal whitespace folded to one space — which is what
 * RFC 5280 §7.1 asks for DirectoryString (caseIgnoreMatch) and what OpenSSL's canonical name
 * encoding does. Values of any other type (`#…` hex in the decoded model) compare as bytes.
 * Byte-identical DER is the fast path and always matches.
 */
import { equalBytes } from '../../core/bytes.js';
import type { Name, NameAttribute } from '../decode-names.js';

/** Universal tags of the character string types that get string preparation. */
const STRING_TAGS: ReadonlySet<number> = new Set([
  0x0c, // UTF8String
  0x12, // NumericString
  0x13, // PrintableString
  0x14, // TeletexString
  0x16, // IA5String (emailAddress, domainComponent: caseIgnoreIA5Match)
  0x1a, // VisibleString
  0x1c, // UniversalString
  0x1e, // BMPString
]);

/** RFC 4518 §2 (simplified): map, normalize (NFKC), fold case, insignificant space handling. */
export function prepareString(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

function attributeKey(a: NameAttribute): string {
  const v = STRING_TAGS.has(a.tag) ? `s:${prepareString(a.value)}` : `b:${a.value}`;
  return `${a.type}=${v}`;
}

function rdnKey(rdn: readonly NameAttribute[]): string {
  return JSON.stringify(rdn.map(attributeKey).sort());
}

const keyCache = new WeakMap<Name, string>();

/**
 * A canonical string for a Name: equal keys ⇔ the Names match under RFC 5280 §7.1. Used both
 * to compare and to index candidate issuers by subject.
 */
export function nameKey(name: Name): string {
  let k = keyCache.get(name);
  if (k === undefined) {
    k = JSON.stringify(name.rdns.map(rdnKey));
    keyCache.set(name, k);
  }
  return k;
}

/** True when two Names match (RFC 5280 §7.1). */
export function namesMatch(a: Name, b: Name): boolean {
  return equalBytes(a.der, b.der) || nameKey(a) === nameKey(b);
}

/**
 * True when `base`'s RDN sequence is a prefix of `name`'s — the directoryName subtree test of
 * RFC 5280 §4.2.1.10 ("the name is in the subtree rooted at base"). An empty base matches all.
 */
export function nameWithinSubtree(name: Name, base: Name): boolean {
  if (base.rdns.length > name.rdns.length) return false;
  return base.rdns.every((rdn, i) => {
    const other = name.rdns[i];
    return other !== undefined && rdnKey(rdn) === rdnKey(other);
  });
}
