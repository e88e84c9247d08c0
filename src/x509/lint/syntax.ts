/**
 * Name syntax checks used by the lint rules. Each returns the reason a value is wrong, or
 * undefined when it is fine, so that findings can say exactly what is wrong with a name.
 */
import { isSignetError } from '../../core/errors.js';
import { parseSpiffeId as parseSpiffeIdStrict, SPIFFE_ID_REASONS, type SpiffeIdReason } from '../../spiffe/id.js';

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;
// Letters, digits, hyphen (RFC 1034 §3.5 / RFC 1123 §2.1); underscore is reported by its own rule.
const LABEL_CHARS = /^[A-Za-z0-9_-]+$/;
/** Names that every check of {@link dnsNameProblem} passes (no underscore, no wildcard): a shortcut, not a rule. */
const PLAIN_DNS_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** The same with a leading `*.` label. */
const PLAIN_DNS_NAME_WILDCARD = /^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Why `name` is not a valid dNSName in preferred name syntax (RFC 5280 §4.2.1.6, RFC 1034 §3.5,
 * RFC 1123 §2.1): LDH labels of 1–63 octets, at most 253 octets, no empty labels, no trailing
 * dot; a wildcard only as the entire leftmost label (RFC 6125 §6.4.3, CA/B BR §7.1.2.7.12).
 * With `constraint`, the form of a name constraint (§4.2.1.10): an optional leading dot, no
 * wildcard. Underscores pass here.
 */
export function dnsNameProblem(name: string, options: { wildcard?: boolean; constraint?: boolean } = {}): string | undefined {
  // The common case in one match: LDH labels of 1-63 octets, at most 253 octets (and `*.` first when allowed).
  if (name.length <= 253 && (options.wildcard && !options.constraint ? PLAIN_DNS_NAME_WILDCARD : PLAIN_DNS_NAME).test(name)) return undefined;
  if (name.length === 0) return 'is empty';
  if (!ASCII.test(name)) return 'is not ASCII (internationalized names must be A-labels, xn--…)';
  let n = name;
  if (options.constraint && n.startsWith('.')) n = n.slice(1);
  if (n.endsWith('.')) return 'ends with a dot';
  if (n.length > 253) return `is ${n.length} octets long (at most 253)`;
  const labels = n.split('.');
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as string;
    if (label.length === 0) return 'has an empty label';
    if (label === '*') {
      if (options.constraint) return 'contains a wildcard';
      if (i !== 0) return 'has a wildcard that is not the leftmost label';
      if (!options.wildcard) return 'contains a wildcard';
      if (labels.length < 2) return 'is only a wildcard';
      continue;
    }
    if (label.includes('*')) return 'has a wildcard that is not the entire leftmost label';
    if (label.length > 63) return `has a label of ${label.length} octets (at most 63)`;
    if (!LABEL_CHARS.test(label)) return `has a label "${label}" with characters other than letters, digits and hyphens`;
    if (label.startsWith('-') || label.endsWith('-')) return `has a label "${label}" that starts or ends with a hyphen`;
  }
  return undefined;
}

const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
const QUOTED = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;

/**
 * Why `value` is not an rfc822Name: an RFC 5322 §3.4.1 addr-spec (local-part@domain, no display
 * name or angle brackets) whose domain is a DNS name (RFC 5280 §4.2.1.6).
 */
export function emailProblem(value: string): string | undefined {
  if (!ASCII.test(value)) return 'is not ASCII';
  const at = value.lastIndexOf('@');
  if (at < 0) return 'has no @';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length === 0) return 'has an empty local part';
  if (local.length > 64) return 'has a local part longer than 64 octets';
  if (!DOT_ATOM.test(local) && !QUOTED.test(local)) return `has an invalid local part "${local}"`;
  const d = dnsNameProblem(domain);
  return d === undefined ? undefined : `has a domain that ${d}`;
}

/** RFC 3986 characters: unreserved, reserved and '%' (for pct-encoded). */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

/**
 * Why `value` is not a URI as RFC 5280 §4.2.1.6 requires: absolute (RFC 3986 §4.3) with a scheme
 * and a non-empty scheme-specific part, only RFC 3986 characters, valid percent-encodings.
 */
export function uriProblem(value: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(value);
  if (!m) return 'is not an absolute URI with a scheme';
  const rest = m[2] as string;
  if (rest.length === 0) return 'has an empty scheme-specific part';
  if (!URI_CHARS.test(rest)) return 'contains characters that RFC 3986 does not allow';
  if (/%(?![0-9A-Fa-f]{2})/.test(rest)) return 'has a malformed percent-encoding';
  if (rest.startsWith('//')) {
    const authority = rest.slice(2).split(/[/?#]/, 1)[0] as string;
    const host = authority.replace(/^[^@]*@/, '').replace(/:\d*$/, '');
    if (host.length === 0 && m[1]?.toLowerCase() !== 'file') return 'has an empty host';
  }
  return undefined;
}

/** Answers of {@link urlProblem} per scheme list: a CA puts the same few URLs into every certificate. */
const urlProblems = new Map<readonly string[], Map<string, { problem: string | undefined }>>();
const URL_CACHE_SIZE = 256;

/**
 * Why `value` is not a usable URL for CRL distribution points or AIA (RFC 5280 §4.2.1.13,
 * §4.2.2.1): a URI with one of `schemes` and a host. Answers are remembered (a pure function of
 * its arguments; WHATWG URL parsing is the costly part).
 */
export function urlProblem(value: string, schemes: readonly string[]): string | undefined {
  let answers = urlProblems.get(schemes);
  if (!answers) {
    // Keyed by the array: callers pass constant lists; a caller building a list per call just misses.
    if (urlProblems.size >= 16) urlProblems.clear();
    answers = new Map();
    urlProblems.set(schemes, answers);
  }
  let hit = answers.get(value);
  if (!hit) {
    if (answers.size >= URL_CACHE_SIZE) answers.clear();
    hit = { problem: computeUrlProblem(value, schemes) };
    answers.set(value, hit);
  }
  return hit.problem;
}

function computeUrlProblem(value: string, schemes: readonly string[]): string | undefined {
  const u = uriProblem(value);
  if (u !== undefined) return u;
  const scheme = value.slice(0, value.indexOf(':')).toLowerCase();
  if (!schemes.includes(scheme)) return `uses scheme "${scheme}" (expected ${schemes.join(', ')})`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  if (url.hostname.length === 0 && scheme !== 'ldap') return 'has no host';
  return undefined;
}

/** A SPIFFE ID split into its parts. */
export interface SpiffeIdParts {
  readonly trustDomain: string;
  /** The path, `''` for the root ID (`spiffe://example.org`). */
  readonly path: string;
}

/**
 * A SPIFFE ID's parts, or the problem (src/spiffe/id.ts decides, by SPIFFE-ID §2: the scheme, the
 * trust domain's and the path's characters, empty and dot segments, the trailing slash, lengths).
 */
export function parseSpiffeId(value: string): SpiffeIdParts | { problem: string } {
  try {
    const id = parseSpiffeIdStrict(value);
    return { trustDomain: id.trustDomain, path: id.path };
  } catch (e) {
    const reason = isSignetError(e, 'ERR_SPIFFE_ID_INVALID') ? (e.detail?.reason as SpiffeIdReason | undefined) : undefined;
    return { problem: reason !== undefined ? SPIFFE_ID_REASONS[reason] : 'is not a SPIFFE ID' };
  }
}
