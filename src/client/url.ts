/**
 * CA URLs and root fingerprints as users type them, in the one form the client works with.
 */
import { isIP } from 'node:net';
import { SignetError } from '../core/errors.js';

/** A CA's base URL, normalized. */
export interface CaUrl {
  /**
   * `https://host:port`, always with the port (also 443): a one-time token's audience is this plus
   * the endpoint path, and the CA compares audiences exactly (RFC 8725 §3.9).
   */
  readonly url: string;
  /** Host name (lower case) or IP address (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `https://host[:port][/]` (port 443 by default). Anything else — another scheme, a path,
 * a query, credentials — is ERR_BAD_OPTION: the client appends the API paths itself.
 */
export function parseCaUrl(text: string, flag = '--ca-url'): CaUrl {
  const bad = (why: string): SignetError =>
    new SignetError('ERR_BAD_OPTION', `${flag} must be https://host[:port], got "${text}": ${why}`, { hint: 'e.g. https://ca.example.com:9443' });
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'https:') throw bad('the CA API is served over https only');
  if (u.username !== '' || u.password !== '') throw bad('credentials do not belong in the URL');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '') throw bad('no path, query or fragment');
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') throw bad('no host');
  const port = u.port === '' ? 443 : Number(u.port);
  return { url: `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`, host, port };
}

/**
 * A SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` or `signet certificate fingerprint`
 * print it — hex with or without colons, any case — as 64 lower-case hex digits.
 * ERR_BAD_OPTION otherwise.
 */
export function normalizeFingerprint(text: string, flag = '--fingerprint'): string {
  const hex = text.trim().replace(/^sha256[:=]/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new SignetError('ERR_BAD_OPTION', `${flag} must be a SHA-256 fingerprint (64 hex digits, colons allowed), got "${text}"`, {
      hint: 'the CA prints it at start ("Root fingerprint (SHA-256)"); or run: signet certificate fingerprint root.crt',
    });
  }
  return hex;
}
