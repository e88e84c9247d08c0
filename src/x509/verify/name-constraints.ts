/**
 * Name constraints (RFC 5280 §4.2.1.10) as path validation applies them (§6.1.3 (b)–(c),
 * §6.1.4 (g)).
 *
 * State: `permitted_subtrees` is kept as one list of subtrees per constraining certificate and
 * name form — a name is permitted when, for every certificate that constrained its form, it lies
 * in at least one of that certificate's subtrees. That is exactly the intersection of §6.1.4
 * (g)(i) without computing subtree intersections; a certificate that does not constrain a form
 * leaves that form's state unchanged. `excluded_subtrees` is the union of every excluded list.
 *
 * Matching rules, per name form:
 * - dNSName: `example.com` matches the host and every name made by adding labels on the left;
 *   `.example.com` matches only proper subdomains (the Go/OpenSSL reading); `""` matches all.
 *   Case-insensitive. A wildcard SAN (`*.example.com`) is treated as a name with a literal `*`
 *   label for permitted subtrees (it must lie inside entirely), and is *excluded* as soon as any
 *   name it can stand for is excluded (`excluded: www.example.com` rejects `*.example.com`).
 * - rfc822Name: a constraint with `@` is one mailbox (local part case-sensitive, RFC 5280 §7.5);
 *   without `@` it is all mailboxes at that host; `.example.com` is every mailbox at a
 *   subdomain. Subject `emailAddress` attributes are checked as rfc822Names (§4.2.1.10).
 * - uniformResourceIdentifier: the constraint applies to the host part; `host.example.com`
 *   matches that host only, `.example.com` any subdomain (RFC 5280 wording; OpenSSL agrees, Go
 *   uses the dNSName rule). A URI without an authority or with an IP literal host cannot be
 *   checked and is rejected when URI constraints exist.
 * - iPAddress: address/mask over octets; IPv4 constraints (8 octets) apply to IPv4 names only and
 *   IPv6 ones (32 octets) to IPv6 only.
 * - directoryName: the constraint's RDNs must be a prefix of the name's (§7.1 comparison). The
 *   subject is checked as a directoryName when it is not empty.
 * - The subject commonName of the end-entity certificate is checked as a dNSName when the
 *   certificate has no dNSName SAN and the CN looks like a host name (OpenSSL's rule, which
 *   closes the "constrained CA issues a CN-only certificate" bypass).
 * - Any other form (otherName, x400Address, ediPartyName, registeredID) cannot be evaluated; a
 *   name of such a form is rejected when a constraint of the same form exists (§4.2.1.10: "MUST
 *   either process the constraint or reject the certificate").
 */
import type { Certificate, NameConstraintsValue } from '../certificate.js';
import type { GeneralNameType, Name, ParsedGeneralName } from '../decode-names.js';
import { OID } from '../oids.js';
import { nameWithinSubtree } from './name-match.js';

/** A constraint with the subject of the CA certificate that imposed it (for error messages). */
interface SourcedSubtree {
  readonly from: string;
  readonly base: ParsedGeneralName;
}

/** The name-constraints state of §6.1.2 (b)–(c). */
export interface NameConstraintsState {
  /** Per name form: one list of subtrees per constraining certificate. */
  readonly permitted: Map<GeneralNameType, SourcedSubtree[][]>;
  readonly excluded: SourcedSubtree[];
}

/** A name of the certificate being checked. */
interface CheckedName {
  readonly type: GeneralNameType;
  readonly value: string;
  readonly octets?: Uint8Array | undefined;
  readonly name?: Name | undefined;
  /** Where it came from: `subjectAltName`, `subject`, `subject emailAddress`, `subject CN`. */
  readonly source: string;
}

/** Why a name failed. */
export interface NameConstraintViolation {
  readonly name: string;
  readonly source: string;
  readonly reason: 'excluded' | 'not-permitted' | 'unsupported-form' | 'unparseable';
  /** Subject of the CA whose constraint the name violates. */
  readonly constrainedBy: string;
}

/** The initial state: everything permitted, nothing excluded (§6.1.2 (b)–(c)). */
export function initialNameConstraints(): NameConstraintsState {
  return { permitted: new Map(), excluded: [] };
}

/** §6.1.4 (g): folds a CA certificate's nameConstraints into the state (in place). */
export function addNameConstraints(state: NameConstraintsState, nc: NameConstraintsValue, from: string): void {
  const byType = new Map<GeneralNameType, SourcedSubtree[]>();
  for (const base of nc.permitted) {
    const list = byType.get(base.type) ?? [];
    list.push({ from, base });
    byType.set(base.type, list);
  }
  for (const [type, list] of byType) {
    const sets = state.permitted.get(type) ?? [];
    sets.push(list);
    state.permitted.set(type, sets);
  }
  for (const base of nc.excluded) state.excluded.push({ from, base });
}

/** True when the state constrains nothing (fast path). */
export function isUnconstrained(state: NameConstraintsState): boolean {
  return state.permitted.size === 0 && state.excluded.length === 0;
}

function stripDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** dNSName within subtree `constraint` (RFC 5280 §4.2.1.10). */
export function dnsWithin(name: string, constraint: string): boolean {
  const n = stripDot(name.toLowerCase());
  const c = constraint.toLowerCase();
  if (c.length === 0) return true;
  if (c.startsWith('.')) return n.length > c.length && n.endsWith(c);
  return n === c || n.endsWith('.' + c);
}

/** True when some name a wildcard dNSName stands for lies in the (excluded) subtree. */
function dnsOverlaps(name: string, constraint: string): boolean {
  if (dnsWithin(name, constraint)) return true;
  const n = stripDot(name.toLowerCase());
  const c = constraint.toLowerCase();
  if (!n.startsWith('*.') || c.startsWith('.')) return false;
  // `*.example.com` can be `www.example.com`: one label in front of the wildcard's parent.
  const parent = n.slice(2);
  const dot = c.indexOf('.');
  return dot > 0 && c.slice(dot + 1) === parent;
}

/** rfc822Name within subtree (RFC 5280 §4.2.1.10); undefined when the address has no `@`. */
export function emailWithin(email: string, constraint: string): boolean | undefined {
  const at = email.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = email.slice(0, at);
  const domain = stripDot(email.slice(at + 1).toLowerCase());
  const cat = constraint.lastIndexOf('@');
  if (cat >= 0) return local === constraint.slice(0, cat) && domain === constraint.slice(cat + 1).toLowerCase();
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return domain.length > c.length && domain.endsWith(c);
  return domain === c;
}

/**
 * The host part of a URI (RFC 3986 §3.2.2), lower-cased; undefined when the URI has no
 * authority, an empty host, or an IP-literal host (which domain constraints cannot judge).
 */
export function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri);
  if (!m) return undefined;
  let authority = m[1] ?? '';
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) return undefined;
  const host = stripDot(authority.replace(/:\d*$/, '').toLowerCase());
  if (host.length === 0 || /^\d+(\.\d+){3}$/.test(host)) return undefined;
  return host;
}

/** URI within subtree: the constraint names a host, or with a leading dot a domain (§4.2.1.10). */
export function uriWithin(uri: string, constraint: string): boolean | undefined {
  const host = uriHost(uri);
  if (host === undefined) return undefined;
  const c = constraint.toLowerCase();
  if (c.startsWith('.')) return host.length > c.length && host.endsWith(c);
  return host === c;
}

/** iPAddress within address/mask (§4.2.1.10); families never cross. */
export function ipWithin(ip: Uint8Array, constraint: Uint8Array): boolean {
  if (constraint.length !== ip.length * 2) return false;
  for (let i = 0; i < ip.length; i++) {
    const mask = constraint[ip.length + i] as number;
    if (((ip[i] as number) & mask) !== ((constraint[i] as number) & mask)) return false;
  }
  return true;
}

/** A host name as OpenSSL's cn2dnsid sees it: LDH(+_) labels and at least one dot. */
export function looksLikeHostname(cn: string): boolean {
  if (!/^[A-Za-z0-9_.-]+$/.test(cn) || !cn.includes('.')) return false;
  if (/^[.-]|[.-]$/.test(cn) || /\.\.|-\.|\.-/.test(cn)) return false;
  return true;
}

const SUPPORTED: ReadonlySet<GeneralNameType> = new Set(['dns', 'email', 'uri', 'ip', 'dirName']);

/** undefined when the name cannot be parsed for its form. */
function within(n: CheckedName, base: ParsedGeneralName, excluded: boolean): boolean | undefined {
  switch (n.type) {
    case 'dns':
      return excluded ? dnsOverlaps(n.value, base.value) : dnsWithin(n.value, base.value);
    case 'email':
      return emailWithin(n.value, base.value);
    case 'uri':
      return uriWithin(n.value, base.value);
    case 'ip':
      return n.octets !== undefined && base.octets !== undefined ? ipWithin(n.octets, base.octets) : undefined;
    case 'dirName':
      return n.name !== undefined && base.name !== undefined ? nameWithinSubtree(n.name, base.name) : undefined;
    default:
      return undefined;
  }
}

/** The names of `cert` that name constraints apply to (§6.1.3 (b)–(c), §4.2.1.10). */
function namesOf(cert: Certificate, isEndEntity: boolean): CheckedName[] {
  const out: CheckedName[] = [];
  if (cert.subject.rdns.length > 0) out.push({ type: 'dirName', value: cert.subject.text, name: cert.subject, source: 'subject' });
  const attrs = cert.subject.rdns.flat();
  for (const a of attrs) if (a.type === OID.emailAddress) out.push({ type: 'email', value: a.value, source: 'subject emailAddress' });
  const san = cert.ext.subjectAltName ?? [];
  for (const n of san) out.push({ type: n.type, value: n.value, octets: n.octets, name: n.name, source: 'subjectAltName' });
  if (isEndEntity && !san.some((n) => n.type === 'dns')) {
    for (const a of attrs) {
      if (a.type === OID.commonName && looksLikeHostname(a.value)) out.push({ type: 'dns', value: a.value, source: 'subject CN' });
    }
  }
  return out;
}

/**
 * Checks every name of `cert` against the state; returns the first violation or undefined.
 * `isEndEntity` enables the subject-CN-as-dNSName rule.
 */
export function checkNameConstraints(cert: Certificate, state: NameConstraintsState, isEndEntity: boolean): NameConstraintViolation | undefined {
  if (isUnconstrained(state)) return undefined;
  for (const n of namesOf(cert, isEndEntity)) {
    const label = n.type === 'dirName' ? `dirName:${n.value}` : `${n.type}:${n.value}`;
    const sets = state.permitted.get(n.type) ?? [];
    const excluded = state.excluded.filter((e) => e.base.type === n.type);
    if (sets.length === 0 && excluded.length === 0) continue;
    if (!SUPPORTED.has(n.type)) {
      const from = sets[0]?.[0]?.from ?? excluded[0]?.from ?? '';
      return { name: label, source: n.source, reason: 'unsupported-form', constrainedBy: from };
    }
    for (const e of excluded) {
      const r = within(n, e.base, true);
      if (r === undefined) return { name: label, source: n.source, reason: 'unparseable', constrainedBy: e.from };
      if (r) return { name: label, source: n.source, reason: 'excluded', constrainedBy: e.from };
    }
    for (const set of sets) {
      let ok = false;
      for (const p of set) {
        const r = within(n, p.base, false);
        if (r === undefined) return { name: label, source: n.source, reason: 'unparseable', constrainedBy: p.from };
        if (r) {
          ok = true;
          break;
        }
      }
      if (!ok) return { name: label, source: n.source, reason: 'not-permitted', constrainedBy: set[0]?.from ?? '' };
    }
  }
  return undefined;
}
