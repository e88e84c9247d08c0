/**
 * SPIFFE IDs (SPIFFE-ID standard §2): `spiffe://<trust domain><path>`, parsed byte for byte by
 * the standard's rules, which go-spiffe enforces too — so Signet never emits or accepts an ID a
 * SPIFFE implementation would reject:
 *
 *  - the scheme is exactly `spiffe://` (lower case; §2);
 *  - the trust domain (§2.1) is 1–255 characters of lower-case letters, digits, `.`, `-`, `_` —
 *    no upper case, no userinfo (`@`), no port (`:`), no percent-encoding;
 *  - the path (§2.2) is empty or `/`-separated segments of letters, digits, `.`, `-`, `_`: no
 *    empty segment (`//`), no `.` or `..` segment, no trailing slash, no percent-encoding, no query
 *    or fragment (neither `?` nor `#` is a path character);
 *  - the whole ID is at most 2048 characters (§2.3).
 *
 * Each refusal is ERR_SPIFFE_ID_INVALID with the reason in go-spiffe's words and `detail.reason`.
 */
import { SignetError } from '../core/errors.js';
import { escapeControl } from '../core/escape.js';

/** Longest SPIFFE ID (SPIFFE-ID §2.3). */
export const MAX_SPIFFE_ID_LENGTH = 2048;
/** Longest trust domain name (SPIFFE-ID §2.1: it must fit a DNS name). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const SCHEME = 'spiffe://';

/** Why an ID, trust domain or path is refused (go-spiffe's reasons, and the length limits). */
export const SPIFFE_ID_REASONS = Object.freeze({
  empty: 'cannot be empty',
  wrongScheme: 'scheme is missing or invalid',
  missingTrustDomain: 'trust domain is missing',
  badTrustDomainChar: 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  trustDomainTooLong: `trust domain is longer than ${MAX_TRUST_DOMAIN_LENGTH} characters`,
  badPathSegmentChar: 'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  emptySegment: 'path cannot contain empty segments',
  dotSegment: 'path cannot contain dot segments',
  trailingSlash: 'path cannot have a trailing slash',
  noLeadingSlash: 'path must have a leading slash',
  tooLong: `is longer than ${MAX_SPIFFE_ID_LENGTH} characters`,
} as const);

export type SpiffeIdReason = keyof typeof SPIFFE_ID_REASONS;

function invalid(what: 'SPIFFE ID' | 'trust domain' | 'path' | 'path segment', text: string, reason: SpiffeIdReason): SignetError {
  return new SignetError('ERR_SPIFFE_ID_INVALID', `invalid ${what} ${JSON.stringify(escapeControl(text.slice(0, 300)))}: ${SPIFFE_ID_REASONS[reason]}`, { detail: { reason } });
}

/** True for a trust domain character: a-z 0-9 . - _ */
function isTrustDomainChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f;
}

/** True for a path segment character: A-Z a-z 0-9 . - _ */
function isPathChar(c: number): boolean {
  return isTrustDomainChar(c) || (c >= 0x41 && c <= 0x5a);
}

/** The reason `td` is not a trust domain name, or undefined. */
function trustDomainProblem(td: string): SpiffeIdReason | undefined {
  if (td.length === 0) return 'missingTrustDomain';
  for (let i = 0; i < td.length; i++) if (!isTrustDomainChar(td.charCodeAt(i))) return 'badTrustDomainChar';
  if (td.length > MAX_TRUST_DOMAIN_LENGTH) return 'trustDomainTooLong';
  return undefined;
}

/** The reason `path` is not a SPIFFE ID path (empty, or `/segment…`), or undefined. */
function pathProblem(path: string): SpiffeIdReason | undefined {
  if (path.length === 0) return undefined;
  if (path.charCodeAt(0) !== 0x2f) return 'noLeadingSlash';
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== 0x2f) {
      if (!isPathChar(path.charCodeAt(i))) return 'badPathSegmentChar';
      continue;
    }
    const segment = path.slice(start, i);
    if (segment.length === 0) return i === path.length ? 'trailingSlash' : 'emptySegment';
    if (segment === '.' || segment === '..') return 'dotSegment';
    start = i + 1;
  }
  return undefined;
}

/** A valid SPIFFE ID. Create with {@link parseSpiffeId} or {@link spiffeIdFrom}. */
export class SpiffeId {
  /** @internal use parseSpiffeId or spiffeIdFrom */
  constructor(
    /** The trust domain name, e.g. `example.org`. */
    readonly trustDomain: string,
    /** The path, `''` for the trust domain's own ID, else `/segment/…`. */
    readonly path: string,
  ) {}

  /** `spiffe://<trust domain><path>`. */
  toString(): string {
    return `${SCHEME}${this.trustDomain}${this.path}`;
  }

  /** The ID of the trust domain itself, `spiffe://<trust domain>` (what a CA certificate of it carries). */
  get trustDomainId(): string {
    return `${SCHEME}${this.trustDomain}`;
  }

  /** Whether the ID belongs to `trustDomain`. */
  memberOf(trustDomain: string): boolean {
    return this.trustDomain === trustDomain;
  }

  equals(other: SpiffeId): boolean {
    return this.trustDomain === other.trustDomain && this.path === other.path;
  }
}

/** Parses a SPIFFE ID by the rules in the module comment; ERR_SPIFFE_ID_INVALID otherwise. */
export function parseSpiffeId(text: string): SpiffeId {
  if (typeof text !== 'string' || text.length === 0) throw invalid('SPIFFE ID', String(text ?? ''), 'empty');
  if (!text.startsWith(SCHEME)) throw invalid('SPIFFE ID', text, 'wrongScheme');
  if (text.length > MAX_SPIFFE_ID_LENGTH) throw invalid('SPIFFE ID', text, 'tooLong');
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  const tdProblem = trustDomainProblem(trustDomain);
  if (tdProblem !== undefined) throw invalid('SPIFFE ID', text, tdProblem);
  const p = pathProblem(path);
  if (p !== undefined) throw invalid('SPIFFE ID', text, p);
  return new SpiffeId(trustDomain, path);
}

/** Parses a trust domain name, or the trust domain of a SPIFFE ID (`spiffe://example.org/…`). */
export function parseTrustDomain(text: string): string {
  if (typeof text !== 'string' || text.length === 0) throw invalid('trust domain', String(text ?? ''), 'missingTrustDomain');
  if (text.includes(':/')) return parseSpiffeId(text).trustDomain;
  const problem = trustDomainProblem(text);
  if (problem !== undefined) throw invalid('trust domain', text, problem);
  return text;
}

/** Parses a path (`''` or `/segment/…`) on its own. */
export function parseSpiffePath(path: string): string {
  const problem = pathProblem(path);
  if (problem !== undefined) throw invalid('path', path, problem);
  return path;
}

/** The ID of `trustDomain` with these path segments (each one segment: no `/`), checked. */
export function spiffeIdFrom(trustDomain: string, ...segments: readonly string[]): SpiffeId {
  const td = parseTrustDomain(trustDomain);
  for (const s of segments) {
    if (s.length === 0) throw invalid('path segment', s, 'emptySegment');
    if (s === '.' || s === '..') throw invalid('path segment', s, 'dotSegment');
    for (let i = 0; i < s.length; i++) if (!isPathChar(s.charCodeAt(i))) throw invalid('path segment', s, 'badPathSegmentChar');
  }
  const id = new SpiffeId(td, segments.map((s) => `/${s}`).join(''));
  if (id.toString().length > MAX_SPIFFE_ID_LENGTH) throw invalid('SPIFFE ID', id.toString(), 'tooLong');
  return id;
}
