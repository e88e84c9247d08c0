/**
 * Name policy: which names the authority — and each provisioner — may put into a certificate.
 * Pure functions, no I/O (STYLE.md habit 4).
 *
 * A policy is `{ allow?: Rules, deny?: Rules }` with rules per name type:
 *
 * | type    | rule forms                                                                          |
 * | ------- | ----------------------------------------------------------------------------------- |
 * | `dns`   | `host.example.com` (exactly that name), `*.example.com` (any name *under* example.com, at any depth — not example.com itself) |
 * | `ip`    | `192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32` (CIDR; IPv4 and IPv6)                     |
 * | `email` | `alice@example.com` (that mailbox), `@example.com` (any mailbox at example.com)      |
 * | `uri`   | `spiffe://example.org/ns/prod/sa/web` (exact), `spiffe://example.org/ns/prod/*` (path prefix), `https://*.example.com/*` (host pattern) |
 * | `cn`    | `Build Agent` (exact, case-insensitive), `*.example.com` (any name under example.com) |
 *
 * Evaluation, for each name of a request (the common name first, then the SANs in order):
 *
 *  1. **deny wins**: a name that matches a deny rule is refused, whatever the allow rules say;
 *  2. a name whose type has allow rules must match one of them;
 *  3. a name whose type has no allow rules is allowed only when the policy has no allow rules at
 *     all — once anything is allowed explicitly, unlisted types (and SANs without a rule type:
 *     directory names, otherName, registeredID) are refused.
 *
 * The common name is a name like the others, with one addition: when it is also a DNS name, an
 * IP address, an e-mail address or a URI, it is checked against that type's rules too — a deny
 * rule of either kind refuses it, an allow rule of either kind admits it. So `allow.dns:
 * ["*.example.com"]` admits `CN=api.example.com`, and `deny.dns` cannot be dodged by moving a
 * name into the subject.
 *
 * Matching is defensive where an attacker chooses the name:
 *
 *  - DNS names compare case-insensitively (RFC 4343) without a trailing dot; a wildcard name
 *    `*.example.com` (RFC 6125 §6.4.3: one leftmost label) is allowed by `*.example.com` or a
 *    rule above it, and is denied by any deny rule that matches a name it covers (a deny
 *    `db.example.com` refuses `*.example.com`);
 *  - an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, RFC 4291 §2.5.5.2) is the IPv4 address for
 *    allow rules, and is denied by IPv4 and IPv6 deny rules alike; IPv6 rules inside
 *    `::ffff:0:0/96` are read as IPv4 rules;
 *  - e-mail addresses compare case-insensitively (the local part too: no mail system in use
 *    tells `Alice@` from `alice@`, and a case-sensitive deny rule would be dodged);
 *  - URIs compare after RFC 3986 §6.2.2 normalization (scheme and host case, percent-encoded
 *    unreserved characters) and, for paths, with and without dot segments (§5.2.4): a name is
 *    allowed only when both forms are, and denied when either is — `…/ns/prod/../admin` does not
 *    slip through `…/ns/prod/*`. A URI with user information (`https://user@host/`) is never
 *    allowed by a host or path pattern.
 */
import { SignetError } from '../core/errors.js';
import { escapeControl } from '../core/escape.js';
import { formatGeneralName, formatIpAddress, isValidDnsName, isValidEmail, isValidUri, parseIpAddress, type GeneralName } from '../x509/general-name.js';
import { suggestion } from '../x509/template/schema.js';

/** The name types a rule can name (`principal`: an SSH user certificate's principals, in `ssh.user` policies). */
export type PolicyNameType = 'dns' | 'ip' | 'email' | 'uri' | 'cn' | 'principal';

/** The rule types of an X.509 policy, in the order messages and documentation list them. */
export const POLICY_NAME_TYPES: readonly PolicyNameType[] = Object.freeze(['dns', 'ip', 'email', 'uri', 'cn'] as const);

/** The rule types of an SSH user-certificate policy (`policy.ssh.user`): principals, exact or with `*` globs. */
export const SSH_USER_POLICY_TYPES: readonly PolicyNameType[] = Object.freeze(['principal'] as const);

/** The rule types of an SSH host-certificate policy (`policy.ssh.host`): the host names (DNS names and IP addresses). */
export const SSH_HOST_POLICY_TYPES: readonly PolicyNameType[] = Object.freeze(['dns', 'ip'] as const);

/** Rules for each name type (see the module documentation for the forms). */
export interface PolicyRules {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  readonly email?: readonly string[];
  readonly uri?: readonly string[];
  readonly cn?: readonly string[];
  /** SSH user principals (`ssh.user` policies only). */
  readonly principal?: readonly string[];
}

/** An SSH policy: one rule set for user certificates (principals), one for host certificates (host names). */
export interface SshPolicyConfig {
  readonly user?: PolicyConfig;
  readonly host?: PolicyConfig;
}

/** A policy as a user writes it (in `signet.json`, at authority and provisioner level). */
export interface PolicyConfig {
  readonly allow?: PolicyRules;
  readonly deny?: PolicyRules;
  /** Rules for SSH certificates; X.509 rules never apply to them, nor these to X.509 certificates. */
  readonly ssh?: SshPolicyConfig;
}

/** One problem in a policy configuration; `path` is relative to the policy (`allow.dns[0]`). */
export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

/** The names of one issuance request. */
export interface PolicyRequest {
  /** The subject common name, when the certificate has one. */
  readonly commonName?: string;
  /** The subjectAltName entries (for an SSH host certificate: its host names). */
  readonly sans: readonly GeneralName[];
  /** An SSH user certificate's principals. */
  readonly principals?: readonly string[];
}

/** The name a decision is about: a rule type, or a SAN type no rule can name. */
export interface PolicyName {
  readonly type: PolicyNameType | 'dirName' | 'other';
  /** The name as text (a `dirName`/`other` SAN in its display form). */
  readonly value: string;
}

/** The outcome of evaluating a request against one or more policies. */
export type PolicyDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly name: PolicyName;
      /** `denied`: a deny rule matched; `not-allowed`: no allow rule admits the name. */
      readonly reason: 'denied' | 'not-allowed';
      /** The deny rule that matched, as written. */
      readonly rule?: string;
      /** The refusing policy's name, when it was compiled with one. */
      readonly policy?: string;
      /** One line for the requester, e.g. `DNS name "db.internal" is denied by rule "*.internal"`. */
      readonly message: string;
    };

/** A compiled, immutable policy. */
export interface Policy {
  /** A label for messages and audit records (`authority`, `provisioner admin`). */
  readonly name: string | undefined;
  /** True when the policy has no rules at all (everything is allowed). */
  readonly empty: boolean;
  /** Evaluates a request without throwing. */
  evaluate(request: PolicyRequest): PolicyDecision;
  /** Throws ERR_POLICY_DENIED naming the first refused name and why; returns when all are allowed. */
  check(request: PolicyRequest): void;
}

// ---------------------------------------------------------------------------------------------
// validation

const RULE_SETS = ['allow', 'deny'] as const;

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Every problem in a policy configuration, each with its path (`allow.dns[2]`), or an empty list
 * when the policy is well-formed. For validators that collect all problems of a larger document
 * (`signet ca config validate`); {@link compilePolicy} throws on the same problems.
 */
export function validatePolicyConfig(config: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  compileRules(config, problems);
  compileSshRules(config, problems);
  return problems;
}

/** The `ssh` member of a policy: `{ user?, host? }`, each a policy of its own rule types. */
function compileSshRules(config: unknown, problems: PolicyProblem[]): { user: CompiledRules; host: CompiledRules } {
  const empty = (): CompiledRules => ({ allow: {}, deny: {} });
  const ssh = isPlainObject(config) ? config.ssh : undefined;
  if (ssh === undefined) return { user: empty(), host: empty() };
  if (!isPlainObject(ssh)) {
    problems.push({ path: 'ssh', message: `must be an object with "user" and/or "host", not ${describeValue(ssh)}` });
    return { user: empty(), host: empty() };
  }
  for (const key of Object.keys(ssh)) {
    if (key !== 'user' && key !== 'host') problems.push({ path: `ssh.${key}`, message: `unknown field "${key}"${suggestion(key, ['user', 'host'])}` });
  }
  const sub = (kind: 'user' | 'host', types: readonly PolicyNameType[]): CompiledRules => {
    const own: PolicyProblem[] = [];
    const rules = compileRules(ssh[kind], own, types, false);
    for (const p of own) problems.push({ path: p.path === '' ? `ssh.${kind}` : `ssh.${kind}.${p.path}`, message: p.message });
    return rules;
  };
  return { user: sub('user', SSH_USER_POLICY_TYPES), host: sub('host', SSH_HOST_POLICY_TYPES) };
}

interface CompiledRules {
  readonly allow: Partial<Record<PolicyNameType, Matcher>>;
  readonly deny: Partial<Record<PolicyNameType, Matcher>>;
}

function compileRules(config: unknown, problems: PolicyProblem[], types: readonly PolicyNameType[] = POLICY_NAME_TYPES, topLevel = true): CompiledRules {
  const out: { allow: Partial<Record<PolicyNameType, Matcher>>; deny: Partial<Record<PolicyNameType, Matcher>> } = { allow: {}, deny: {} };
  if (config === undefined || config === null) return out;
  if (!isPlainObject(config)) {
    problems.push({ path: '', message: `a policy must be an object with "allow" and/or "deny", not ${describeValue(config)}` });
    return out;
  }
  const fields: readonly string[] = topLevel ? [...RULE_SETS, 'ssh'] : RULE_SETS;
  for (const key of Object.keys(config)) {
    if (!fields.includes(key)) problems.push({ path: key, message: `unknown field "${key}"${suggestion(key, fields)}` });
  }
  for (const set of RULE_SETS) {
    const rules = config[set];
    if (rules === undefined) continue;
    if (!isPlainObject(rules)) {
      problems.push({ path: set, message: `must be an object of rule lists (${types.join(', ')}), not ${describeValue(rules)}` });
      continue;
    }
    for (const key of Object.keys(rules)) {
      if (!(types as readonly string[]).includes(key)) problems.push({ path: `${set}.${key}`, message: `unknown name type "${key}"${suggestion(key, types)}` });
    }
    for (const type of types) {
      const list = rules[type];
      if (list === undefined) continue;
      const path = `${set}.${type}`;
      if (!Array.isArray(list)) {
        problems.push({ path, message: `must be a list of strings, not ${describeValue(list)}` });
        continue;
      }
      const texts: string[] = [];
      list.forEach((entry: unknown, i) => {
        if (typeof entry !== 'string') problems.push({ path: `${path}[${i}]`, message: `must be a string, not ${describeValue(entry)}` });
        else texts.push(entry);
      });
      // An empty list is no rule at all (it neither allows nor forbids anything).
      if (texts.length === 0) continue;
      const matcher = MATCHER_FACTORIES[type]();
      list.forEach((entry: unknown, i) => {
        if (typeof entry !== 'string') return;
        const problem = matcher.add(entry);
        if (problem !== undefined) problems.push({ path: `${path}[${i}]`, message: `"${escapeControl(entry)}" ${problem}` });
      });
      out[set][type] = matcher;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// matchers

/** Rules of one type. `add` returns why a rule is malformed; `match` returns the rule that matched. */
interface Matcher {
  add(rule: string): string | undefined;
  match(value: string, mode: 'allow' | 'deny'): string | undefined;
}

const MATCHER_FACTORIES: Readonly<Record<PolicyNameType, () => Matcher>> = {
  dns: () => new DnsMatcher(false),
  cn: () => new DnsMatcher(true),
  ip: () => new IpMatcher(),
  email: () => new EmailMatcher(),
  uri: () => new UriMatcher(),
  principal: () => new PrincipalMatcher(),
};

/** Longest SSH principal a rule or a certificate may hold. */
export const MAX_PRINCIPAL_LENGTH = 256;

/**
 * Why `text` cannot be an SSH principal, or undefined when it can: 1–256 characters without
 * whitespace, commas (ssh-keygen -n and AuthorizedPrincipalsFile separate with them) or control
 * characters.
 */
export function principalProblem(text: string): string | undefined {
  if (text.length === 0) return 'is empty';
  if (text.length > MAX_PRINCIPAL_LENGTH) return `is longer than ${MAX_PRINCIPAL_LENGTH} characters`;
  if (/[\s,]/u.test(text) || escapeControl(text) !== text) return 'has whitespace, a comma or a control character';
  return undefined;
}

/**
 * SSH principal rules: exact text (case-sensitive, as sshd compares principals), or a glob whose
 * `*` stands for any run of characters (`deploy-*`, `*`).
 */
class PrincipalMatcher implements Matcher {
  private readonly exact = new Map<string, string>();
  private readonly globs: { readonly rule: string; readonly re: RegExp }[] = [];

  add(rule: string): string | undefined {
    const problem = principalProblem(rule);
    if (problem !== undefined) return problem;
    if (!rule.includes('*')) {
      this.exact.set(rule, rule);
      return undefined;
    }
    const re = new RegExp(`^${rule.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'su');
    this.globs.push({ rule, re });
    return undefined;
  }

  match(value: string): string | undefined {
    return this.exact.get(value) ?? this.globs.find((g) => g.re.test(value))?.rule;
  }
}

/** A DNS name for comparison: lower case (RFC 4343), without one trailing dot (the same FQDN). */
function normalizeDns(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') && lower.length > 1 ? lower.slice(0, -1) : lower;
}

/**
 * DNS rules (`host`, `*.domain`) and, with `commonName`, CN rules (any exact text, or
 * `*.domain`). Exact rules sit in a set, `*.domain` rules in another, so a match costs one
 * lookup per label of the name, whatever the number of rules.
 */
class DnsMatcher implements Matcher {
  private readonly exact = new Map<string, string>();
  private readonly subtree = new Map<string, string>();

  constructor(private readonly commonName: boolean) {}

  add(rule: string): string | undefined {
    if (rule.startsWith('*.')) {
      const domain = rule.slice(2);
      if (!isValidDnsName(domain)) return 'is not a *.domain pattern with a valid DNS name after "*."';
      this.subtree.set(normalizeDns(domain), rule);
      return undefined;
    }
    if (this.commonName) {
      if (rule.trim().length === 0) return 'is empty';
      this.exact.set(rule.toLowerCase(), rule);
      return undefined;
    }
    if (rule.includes('*')) return 'has a wildcard that is not a leading "*." (use *.example.com for any name under example.com)';
    if (rule.startsWith('.')) return `is not a DNS name (use *${rule} for any name under ${rule.slice(1)})`;
    if (!isValidDnsName(rule)) return 'is not a valid DNS name';
    this.exact.set(normalizeDns(rule), rule);
    return undefined;
  }

  match(value: string, mode: 'allow' | 'deny'): string | undefined {
    const name = this.commonName ? value.toLowerCase() : normalizeDns(value);
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    // `*.domain` covers every name that ends in `.domain`; walk up the labels.
    const dnsName = this.commonName ? normalizeDns(value) : name;
    for (let dot = dnsName.indexOf('.'); dot >= 0; dot = dnsName.indexOf('.', dot + 1)) {
      const rule = this.subtree.get(dnsName.slice(dot + 1));
      if (rule !== undefined) return rule;
    }
    // A wildcard name covers every single-label name in its place (RFC 6125 §6.4.3): deny it
    // when one of those is denied exactly.
    if (mode === 'deny' && dnsName.startsWith('*.')) {
      const parent = dnsName.slice(1);
      for (const [normalized, rule] of this.exact) {
        if (normalized.endsWith(parent) && normalized.length > parent.length && !normalized.slice(0, -parent.length).includes('.')) return rule;
      }
    }
    return undefined;
  }
}

/** A parsed address range: `bytes` of 4 (IPv4) or 16 (IPv6) octets and a prefix length. */
interface IpRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly rule: string;
}

const MAPPED_PREFIX = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/** True for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2). */
function isMapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

function inRange(bytes: Uint8Array, range: IpRange): boolean {
  if (bytes.length !== range.bytes.length) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (((bytes[full] as number) ^ (range.bytes[full] as number)) & mask) === 0;
}

/**
 * An IP address or a CIDR range (RFC 4632, RFC 4291 §2.3) — `10.0.0.0/8`, `192.0.2.7`,
 * `2001:db8::/32` — as its address bytes and prefix length, or why it is not one (no host bits
 * may be set after the prefix).
 */
export function parseIpRange(rule: string): { readonly bytes: Uint8Array; readonly prefix: number } | string {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(rule);
  const bytes = m ? parseIpAddress(m[1] as string) : undefined;
  if (!m || !bytes) return 'is not an IP address or CIDR range (use 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32)';
  const bits = bytes.length * 8;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) return `has a prefix longer than ${bits} bits`;
  const network = Uint8Array.from(bytes, (b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  if (!network.every((b, i) => b === bytes[i])) return `has bits set after the /${prefix} prefix (did you mean ${formatIpAddress(network)}/${prefix}?)`;
  return { bytes, prefix };
}

/** IP rules: single addresses and CIDR ranges (RFC 4632, RFC 4291 §2.3). */
class IpMatcher implements Matcher {
  private readonly ranges: IpRange[] = [];

  add(rule: string): string | undefined {
    const range = parseIpRange(rule);
    if (typeof range === 'string') return range;
    const { bytes, prefix } = range;
    // An IPv6 rule inside ::ffff:0:0/96 is about IPv4 addresses.
    if (isMapped(bytes) && prefix >= 96) this.ranges.push({ bytes: bytes.slice(12), prefix: prefix - 96, rule });
    else this.ranges.push({ bytes, prefix, rule });
    return undefined;
  }

  match(value: string, mode: 'allow' | 'deny'): string | undefined {
    const bytes = parseIpAddress(value);
    if (!bytes) return undefined;
    // Allow rules see the address as clients use it (a mapped address is IPv4); deny rules see
    // both forms, so neither spelling escapes them.
    const candidates = isMapped(bytes) ? (mode === 'allow' ? [bytes.slice(12)] : [bytes.slice(12), bytes]) : [bytes];
    for (const range of this.ranges) if (candidates.some((c) => inRange(c, range))) return range.rule;
    return undefined;
  }
}

/** E-mail rules: `local@domain` (one mailbox) and `@domain` (every mailbox at that domain). */
class EmailMatcher implements Matcher {
  private readonly mailboxes = new Map<string, string>();
  private readonly domains = new Map<string, string>();

  add(rule: string): string | undefined {
    if (rule.startsWith('@')) {
      if (!isValidDnsName(rule.slice(1))) return 'is not @ followed by a valid domain name';
      this.domains.set(normalizeDns(rule.slice(1)), rule);
      return undefined;
    }
    if (!isValidEmail(rule)) return 'is not an e-mail address or @domain (use alice@example.com or @example.com)';
    const at = rule.lastIndexOf('@');
    this.mailboxes.set(`${rule.slice(0, at).toLowerCase()}@${normalizeDns(rule.slice(at + 1))}`, rule);
    return undefined;
  }

  match(value: string): string | undefined {
    const at = value.lastIndexOf('@');
    if (at < 0) return undefined;
    const domain = normalizeDns(value.slice(at + 1));
    return this.mailboxes.get(`${value.slice(0, at).toLowerCase()}@${domain}`) ?? this.domains.get(domain);
  }
}

/** A URI split as RFC 3986 §3 does, with scheme and host in lower case. */
interface ParsedUri {
  readonly scheme: string;
  /** Everything after `scheme:` when there is no authority (`urn:…`, `mailto:…`). */
  readonly opaque?: string;
  readonly userinfo?: string;
  readonly host?: string;
  readonly port?: string;
  /** Path, query and fragment. */
  readonly rest?: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** RFC 3986 §6.2.2.1–2: decode percent-encoded unreserved characters, upper-case the others. */
function normalizePercent(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}

/** RFC 3986 §5.2.4 remove_dot_segments. */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../') || input === '/..') {
      input = input === '/..' ? '/' : input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next < 0 ? input : input.slice(0, next);
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

function parseUri(text: string, normalize: boolean): ParsedUri | undefined {
  const s = normalize ? normalizePercent(text) : text;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(s);
  if (!m) return undefined;
  const scheme = (m[1] as string).toLowerCase();
  const after = m[2] as string;
  if (!after.startsWith('//')) return { scheme, opaque: after };
  const end = after.slice(2).search(/[/?#]/);
  const authority = end < 0 ? after.slice(2) : after.slice(2, 2 + end);
  let rest = end < 0 ? '' : after.slice(2 + end);
  const at = authority.lastIndexOf('@');
  const hostPort = authority.slice(at + 1);
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!hp) return undefined;
  if (normalize) {
    const q = rest.search(/[?#]/);
    rest = q < 0 ? removeDotSegments(rest) : removeDotSegments(rest.slice(0, q)) + rest.slice(q);
  }
  return {
    scheme,
    ...(at >= 0 ? { userinfo: authority.slice(0, at) } : {}),
    host: normalizeDns(hp[1] as string),
    ...(hp[2] === undefined || hp[2] === '' ? {} : { port: hp[2] }),
    rest,
  };
}

/** A compiled URI rule. */
type UriRule =
  | { readonly rule: string; readonly scheme: string; readonly opaque: string }
  | {
      readonly rule: string;
      readonly scheme: string;
      readonly host: { readonly exact: string } | { readonly under: string };
      readonly port?: string;
      readonly path: { readonly exact: string } | { readonly prefix: string };
      /** True when the rule has no `*`: the port must then match too, absent or not. */
      readonly exactRule: boolean;
    };

/**
 * URI rules: exact URIs, path prefixes (`scheme://host/path/*`) and host patterns
 * (`scheme://*.domain/*`). A pattern without a port matches any port.
 */
class UriMatcher implements Matcher {
  private readonly rules: UriRule[] = [];

  add(rule: string): string | undefined {
    if (!isValidUri(rule.replace(/\*/g, 'x'))) return 'is not an absolute URI (use spiffe://example.org/ns/prod/* or https://*.example.com/*)';
    const raw = parseUri(rule, false);
    const parsed = parseUri(rule, true);
    if (!raw || !parsed) return 'is not an absolute URI';
    if (raw.rest !== undefined && removeDotSegments(raw.rest.replace(/[?#].*$/s, '')) !== raw.rest.replace(/[?#].*$/s, '')) return 'has "." or ".." path segments';
    if (parsed.opaque !== undefined) {
      if (rule.includes('*')) return 'has a wildcard, but only URIs with an authority (scheme://host/…) can have patterns';
      this.rules.push({ rule, scheme: parsed.scheme, opaque: parsed.opaque });
      return undefined;
    }
    if (parsed.userinfo !== undefined) return 'has user information (user@), which a rule cannot have';
    const host = parsed.host ?? '';
    let hostRule: { exact: string } | { under: string };
    if (host.startsWith('*.')) {
      if (!isValidDnsName(host.slice(2))) return 'has a host pattern that is not *. followed by a valid DNS name';
      hostRule = { under: host.slice(2) };
    } else {
      if (host.includes('*')) return 'has a wildcard in the host that is not a leading "*."';
      if (host.length === 0) return 'has no host';
      hostRule = { exact: host };
    }
    const rest = parsed.rest ?? '';
    const star = rest.indexOf('*');
    let pathRule: { exact: string } | { prefix: string };
    if (star < 0) {
      pathRule = { exact: rest };
    } else {
      if (star !== rest.length - 1 || !rest.endsWith('/*') || /[?#]/.test(rest)) return 'has a wildcard in the path that is not a final "/*"';
      pathRule = { prefix: rest.slice(0, -1) };
    }
    this.rules.push({
      rule,
      scheme: parsed.scheme,
      host: hostRule,
      ...(parsed.port === undefined ? {} : { port: parsed.port }),
      path: pathRule,
      exactRule: !rule.includes('*'),
    });
    return undefined;
  }

  match(value: string, mode: 'allow' | 'deny'): string | undefined {
    const raw = parseUri(value, false);
    const normalized = parseUri(value, true);
    if (!raw || !normalized) return undefined;
    for (const r of this.rules) {
      const hits = [raw, normalized].map((u) => uriMatches(r, u, mode));
      if (mode === 'deny' ? hits.some(Boolean) : hits.every(Boolean)) return r.rule;
    }
    return undefined;
  }
}

function uriMatches(r: UriRule, u: ParsedUri, mode: 'allow' | 'deny'): boolean {
  if (r.scheme !== u.scheme) return false;
  if ('opaque' in r) return u.opaque === r.opaque;
  if (u.host === undefined || u.rest === undefined) return false;
  // User information never appears in rules; a pattern must not admit `https://x@host/`, while a
  // deny rule looks through it at the host.
  if (u.userinfo !== undefined && mode === 'allow') return false;
  if ('exact' in r.host ? u.host !== r.host.exact : !(u.host.endsWith(`.${r.host.under}`) && u.host.length > r.host.under.length + 1)) return false;
  // A rule without a port matches any port, except that an exact rule admits only the URI
  // exactly as written (a deny rule still refuses it on every port).
  if (r.port !== undefined ? u.port !== r.port : r.exactRule && mode === 'allow' && u.port !== undefined) return false;
  return 'exact' in r.path ? u.rest === r.path.exact : u.rest.startsWith(r.path.prefix) || (r.path.prefix === '/' && u.rest === '');
}

// ---------------------------------------------------------------------------------------------
// evaluation

/** Labels for messages, e.g. `DNS name "x" is not allowed`. */
const LABELS: Readonly<Record<PolicyName['type'], string>> = {
  dns: 'DNS name',
  ip: 'IP address',
  email: 'e-mail address',
  uri: 'URI',
  cn: 'common name',
  principal: 'principal',
  dirName: 'directory name',
  other: 'subject alternative name',
};

/** The other type a common name also is, when it is one (see the module documentation). */
function commonNameAlias(cn: string): { type: 'dns' | 'ip' | 'email' | 'uri'; value: string } | undefined {
  if (parseIpAddress(cn)) return { type: 'ip', value: cn };
  if (cn.includes('@')) return isValidEmail(cn) ? { type: 'email', value: cn } : undefined;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(cn)) return isValidUri(cn) ? { type: 'uri', value: cn } : undefined;
  if (isValidDnsName(cn, { wildcard: true })) return { type: 'dns', value: cn };
  return undefined;
}

function namesOf(request: PolicyRequest): PolicyName[] {
  const names: PolicyName[] = [];
  if (request.commonName !== undefined) names.push({ type: 'cn', value: request.commonName });
  for (const san of request.sans) {
    if (san.type === 'dirName' || san.type === 'other') names.push({ type: san.type, value: formatGeneralName(san).replace(/^[^:]*:/, '') });
    else names.push({ type: san.type, value: san.value });
  }
  for (const p of request.principals ?? []) names.push({ type: 'principal', value: p });
  return names;
}

class CompiledPolicy implements Policy {
  readonly empty: boolean;
  private readonly anyAllow: boolean;

  constructor(
    readonly name: string | undefined,
    private readonly rules: CompiledRules,
  ) {
    this.anyAllow = Object.keys(rules.allow).length > 0;
    this.empty = !this.anyAllow && Object.keys(rules.deny).length === 0;
  }

  /** The deny rule that refuses `name`, if any. */
  deniedBy(name: PolicyName): string | undefined {
    if (name.type === 'dirName' || name.type === 'other') return undefined;
    const direct = this.rules.deny[name.type]?.match(name.value, 'deny');
    if (direct !== undefined || name.type !== 'cn') return direct;
    const alias = commonNameAlias(name.value);
    return alias === undefined ? undefined : this.rules.deny[alias.type]?.match(alias.value, 'deny');
  }

  /** True when the allow rules admit `name` (rules 2 and 3 of the module documentation). */
  allows(name: PolicyName): boolean {
    if (!this.anyAllow) return true;
    if (name.type === 'dirName' || name.type === 'other') return false;
    if (this.rules.allow[name.type]?.match(name.value, 'allow') !== undefined) return true;
    if (name.type !== 'cn') return false;
    const alias = commonNameAlias(name.value);
    return alias !== undefined && this.rules.allow[alias.type]?.match(alias.value, 'allow') !== undefined;
  }

  evaluate(request: PolicyRequest): PolicyDecision {
    return evaluatePolicies([this], request);
  }

  check(request: PolicyRequest): void {
    throwIfDenied(this.evaluate(request));
  }
}

/**
 * Compiles a policy. `name` labels it in decisions and errors (`authority`, `provisioner admin`).
 * An undefined config is the empty policy, which allows everything. Throws ERR_POLICY_INVALID
 * listing every malformed entry with its path in `detail.problems` (see {@link validatePolicyConfig}).
 */
export function compilePolicy(config: PolicyConfig | undefined, options: { name?: string } = {}): Policy {
  const problems: PolicyProblem[] = [];
  const rules = compileRules(config, problems);
  compileSshRules(config, problems);
  if (problems.length > 0) throw invalidPolicy(problems, options.name);
  return new CompiledPolicy(options.name, rules);
}

/** The SSH policies of one policy config: user certificates' principals, host certificates' names. */
export interface SshPolicies {
  readonly user: Policy;
  readonly host: Policy;
}

/**
 * Compiles the `ssh` member of a policy (an undefined config or member allows everything). Throws
 * ERR_POLICY_INVALID like {@link compilePolicy}.
 */
export function compileSshPolicies(config: PolicyConfig | undefined, options: { name?: string } = {}): SshPolicies {
  const problems: PolicyProblem[] = [];
  const rules = compileSshRules(config, problems);
  if (problems.length > 0) throw invalidPolicy(problems, options.name);
  return { user: new CompiledPolicy(options.name, rules.user), host: new CompiledPolicy(options.name, rules.host) };
}

function invalidPolicy(problems: readonly PolicyProblem[], name: string | undefined): SignetError {
  const first = problems[0] as PolicyProblem;
  const where = first.path === '' ? '' : `${first.path}: `;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new SignetError('ERR_POLICY_INVALID', `invalid policy${name === undefined ? '' : ` (${name})`}: ${where}${first.message}${more}`, { detail: { problems } });
}

/**
 * Evaluates a request against several policies at once — the authority's, then the
 * provisioner's. Names are taken in order (common name, then SANs); for each, a deny rule of any
 * policy refuses it first, then every policy's allow rules must admit it.
 */
export function evaluatePolicies(policies: readonly Policy[], request: PolicyRequest): PolicyDecision {
  const compiled = policies.map((p) => {
    if (!(p instanceof CompiledPolicy)) throw new SignetError('ERR_INTERNAL', 'policies must come from compilePolicy');
    return p;
  });
  for (const name of namesOf(request)) {
    // Spelled out only for a refusal (every issuance passes here, nearly all of them allowed).
    const what = (): string => `${LABELS[name.type]} "${escapeControl(name.value)}"`;
    for (const p of compiled) {
      const rule = p.deniedBy(name);
      if (rule !== undefined) {
        return { allowed: false, name, reason: 'denied', rule, ...(p.name === undefined ? {} : { policy: p.name }), message: `${what()} is denied by rule "${escapeControl(rule)}"` };
      }
    }
    for (const p of compiled) {
      if (!p.allows(name)) return { allowed: false, name, reason: 'not-allowed', ...(p.name === undefined ? {} : { policy: p.name }), message: `${what()} is not allowed` };
    }
  }
  return { allowed: true };
}

function throwIfDenied(decision: PolicyDecision): void {
  if (decision.allowed) return;
  const { name, reason, rule, policy } = decision;
  throw new SignetError('ERR_POLICY_DENIED', decision.message, {
    hint: reason === 'denied' ? 'request another name: this one is refused by the CA policy' : 'request a name the CA policy allows, or ask the operator to allow this one',
    detail: { type: name.type, value: name.value, reason, ...(rule === undefined ? {} : { rule }), ...(policy === undefined ? {} : { policy }) },
  });
}

/**
 * Checks a request against the authority policy and the provisioner policy together (see
 * {@link evaluatePolicies}); throws ERR_POLICY_DENIED naming the first refused name and why.
 */
export function checkAll(policies: readonly Policy[], request: PolicyRequest): void {
  throwIfDenied(evaluatePolicies(policies, request));
}
