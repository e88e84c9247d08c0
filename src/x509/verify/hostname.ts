/**
 * Service identity checks (RFC 6125 §6, as tightened by RFC 9525): does a certificate name the
 * host or IP address a client meant to reach?
 *
 * Choices, documented here because clients differ:
 * - Only dNSName subjectAltNames are consulted for a host name. The subject commonName is never
 *   used, even when the certificate has no DNS SAN (RFC 9525 §6.3, Go since 1.15; OpenSSL still
 *   falls back to the CN when there is no DNS SAN).
 * - Comparison is ASCII case-insensitive; one trailing dot on either side is ignored. Host names
 *   must be ASCII (internationalized names are compared as A-labels, `xn--…`).
 * - A wildcard is honoured only as the entire leftmost label (`*.example.com`), matches exactly one
 *   non-empty label, and needs at least two labels after it (`*.com` matches nothing, as in
 *   OpenSSL). Partial wildcards (`f*.example.com`, `*oo.example.com`) and wildcards in any other
 *   position never match (RFC 9525 §6.3).
 * - An IP address is matched only against iPAddress SANs, by octets: IPv6 text forms are
 *   normalized, and IPv4 never matches an IPv4-mapped IPv6 SAN (the families are distinct).
 *   Wildcards never apply to IP addresses.
 */
import { isIP } from 'node:net';
import { SignetError } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import type { Certificate } from '../certificate.js';
import { ipToOctets } from '../decode-names.js';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * Normalizes a reference host name: lower case, one trailing dot removed. Throws ERR_BAD_OPTION
 * for anything that is not an ASCII DNS name (empty labels, `*`, spaces, non-ASCII, > 253 octets).
 */
export function normalizeHostname(host: string): string {
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  const ok = h.length > 0 && h.length <= 253 && h.split('.').every((l) => LABEL.test(l));
  if (!ok) {
    throw new SignetError('ERR_BAD_OPTION', `"${host}" is not a valid host name`, {
      hint: 'pass an ASCII DNS name (internationalized names as xn-- A-labels), or --ip for an address',
    });
  }
  return h;
}

/**
 * Parses a reference IP address (IPv4 dotted quad or IPv6, optionally in brackets) into 4 or 16
 * octets. Throws ERR_BAD_OPTION for anything else, including IPv6 zone identifiers.
 */
export function parseReferenceIp(ip: string): Uint8Array {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const octets = isIP(text) !== 0 && !text.includes('%') ? ipToOctets(text) : undefined;
  if (!octets) throw new SignetError('ERR_BAD_OPTION', `"${ip}" is not an IP address`, { hint: 'pass an IPv4 (192.0.2.1) or IPv6 (2001:db8::1) address' });
  return octets;
}

/** True when `text` (optionally bracketed) is an IPv4 or IPv6 literal. */
export function isIpLiteral(text: string): boolean {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  return isIP(t) !== 0;
}

/**
 * Matches one presented dNSName against a reference host (already normalized by
 * {@link normalizeHostname}) under the wildcard rules above (RFC 6125 §6.4.3).
 */
export function matchHostnamePattern(pattern: string, host: string): boolean {
  let p = pattern.toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  const pl = p.split('.');
  const hl = host.split('.');
  if (p.length === 0 || pl.some((l) => l.length === 0) || pl.length !== hl.length) return false;
  const [first, ...rest] = pl;
  if (first === '*') {
    // RFC 6125 §6.4.3 rule 2: the wildcard is the complete leftmost label and stands for one label.
    if (rest.length < 2 || rest.some((l) => l.includes('*'))) return false;
    return rest.every((l, i) => l === hl[i + 1]);
  }
  if (p.includes('*')) return false;
  return p === host;
}

/**
 * True when the certificate's dNSName SANs name `host` (RFC 6125 §6.4). An IP literal given as
 * `host` is matched as an IP address (as Go's VerifyHostname does). Throws ERR_BAD_OPTION when
 * `host` is not a host name.
 */
export function matchesHostname(cert: Certificate, host: string): boolean {
  if (isIpLiteral(host)) return matchesIpAddress(cert, host);
  const h = normalizeHostname(host);
  return (cert.ext.subjectAltName ?? []).some((n) => n.type === 'dns' && matchHostnamePattern(n.value, h));
}

/**
 * True when one of the certificate's iPAddress SANs equals `ip` (RFC 6125 §6.2.1 as profiled by
 * RFC 5280 §4.2.1.6: 4 octets for IPv4, 16 for IPv6). Throws ERR_BAD_OPTION for a bad address.
 */
export function matchesIpAddress(cert: Certificate, ip: string): boolean {
  const want = parseReferenceIp(ip);
  return (cert.ext.subjectAltName ?? []).some((n) => n.type === 'ip' && n.octets !== undefined && equalBytes(n.octets, want));
}
