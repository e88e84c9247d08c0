/**
 * The schema of templates and of the requests they render to, with one walker for both:
 *
 * - in *template* mode a string containing `{{` is a placeholder: its syntax and variables are
 *   checked, a whole-string placeholder stands for any type, and an interpolated string is a
 *   string whose final value is only checked after rendering;
 * - in *request* mode (after rendering) every value is data — a `{{` that arrived through a
 *   variable is just text — and is checked completely, then normalized into a
 *   {@link CertificateRequest}.
 *
 * Every problem is collected with its JSON path; nothing stops at the first one (STYLE.md
 * "config is strict": all problems at once). `null` anywhere means "absent", so
 * `"{{ .Data.ocsp | default null }}"` leaves a field out.
 */
import { isPrintable } from '../der.js';
import { extendedKeyUsageOid, EXTENDED_KEY_USAGES, KEY_USAGE_BIT_NUMBERS, type KeyUsageName } from '../extensions.js';
import { isValidUri, parseGeneralName } from '../general-name.js';
import { attributeTypeOid } from '../name.js';
import { OID } from '../oids.js';
import { readSingle } from '../der-reader.js';
import { parseDuration, parseTime } from '../../core/duration.js';
import { compileString, TemplateSyntaxError, variablesOf, hasPlaceholder } from './expression.js';
import { getOwn, isJsonObject, pathIndex, pathKey, type JsonValue } from './json.js';
import {
  KEY_TYPES,
  type CertificateRequest,
  type RequestAttribute,
  type RequestBasicConstraints,
  type RequestExtension,
  type RequestSan,
  type RequestSanType,
  type RequestSubject,
} from './request.js';

/** One problem with a template or a rendered request. */
export interface TemplateProblem {
  /** JSON path of the offending value, e.g. `$.subject.comonName`. */
  readonly path: string;
  /** `unknown-field` → ERR_TEMPLATE_UNKNOWN_FIELD; `invalid` → ERR_TEMPLATE_INVALID; `render` → ERR_TEMPLATE_RENDER. */
  readonly kind: 'unknown-field' | 'invalid' | 'render';
  /** One lower-case sentence without the path. */
  readonly message: string;
  /** Where the value starts in the template file, when known. */
  readonly line?: number;
  readonly column?: number;
}

/** The variables a template may use (the roots of `{{ .X… }}`). */
export const TEMPLATE_VARIABLES = ['Subject', 'SANs', 'DNSNames', 'IPAddresses', 'EmailAddresses', 'URIs', 'PublicKey', 'Token', 'Data', 'Insecure'] as const;

/** Roots whose members are Signet's own camelCase names, so Go-style `.Subject.CommonName` also works. */
export const LENIENT_ROOTS: ReadonlySet<string> = new Set(['Subject', 'SANs', 'PublicKey']);

// ---------------------------------------------------------------------------------------------
// Schema description

/** Returns the expectation ("a DNS name", …) when the value is unacceptable, undefined when fine. */
type Check = (s: string) => string | undefined;

type Schema =
  | { readonly t: 'string'; readonly expected: string; readonly check?: Check; readonly maxLength?: number }
  | { readonly t: 'boolean' }
  | { readonly t: 'integer'; readonly min: number; readonly max: number }
  | { readonly t: 'list'; readonly of: Schema; readonly single: boolean; readonly maxItems: number }
  | {
      readonly t: 'object';
      readonly fields: Readonly<Record<string, Schema>>;
      readonly required: readonly string[];
      /** A rule between fields, run when the fields themselves are fine and hold no placeholders: [field, expectation] when broken. */
      readonly rule?: (o: Readonly<Record<string, JsonValue>>) => [string, string] | undefined;
    }
  | { readonly t: 'union'; readonly expected: string; readonly string?: Schema; readonly object?: Schema; readonly list?: Schema };

const MAX_ITEMS = 1000;

const str = (expected: string, check?: Check, maxLength?: number): Schema => ({
  t: 'string',
  expected,
  ...(check ? { check } : {}),
  ...(maxLength !== undefined ? { maxLength } : {}),
});
const list = (of: Schema, single = true): Schema => ({ t: 'list', of, single, maxItems: MAX_ITEMS });
const obj = (fields: Record<string, Schema>, required: string[] = []): Schema => ({ t: 'object', fields, required });

const OID_RE = /^[0-2](\.(0|[1-9]\d{0,9}))+$/;

function checkOid(s: string): string | undefined {
  if (!OID_RE.test(s)) return 'a dotted object identifier such as 1.3.6.1.4.1.99999.1';
  const [a, b] = s.split('.').map(Number) as [number, number];
  return a < 2 && b > 39 ? 'a valid object identifier (the second arc is at most 39 under 0 and 1)' : undefined;
}

function canonicalKeyUsage(s: string): KeyUsageName | undefined {
  const norm = s.replace(/[-_ ]/g, '').toLowerCase();
  if (norm === 'certsign') return 'keyCertSign';
  if (norm === 'crlsign') return 'cRLSign';
  for (const k of Object.keys(KEY_USAGE_BIT_NUMBERS) as KeyUsageName[]) if (k.toLowerCase() === norm) return k;
  return undefined;
}

function canonicalExtKeyUsage(s: string): string | undefined {
  let o: string;
  try {
    o = extendedKeyUsageOid(s);
  } catch {
    return undefined;
  }
  if (checkOid(o) !== undefined) return undefined;
  for (const [name, v] of Object.entries(EXTENDED_KEY_USAGES)) if (v === o) return name;
  return o;
}

const SAN_TYPES: Readonly<Record<string, RequestSanType>> = { dns: 'dns', ip: 'ip', email: 'email', uri: 'uri', rfc822: 'email', url: 'uri' };

function checkName(type: RequestSanType, constraint: boolean): Check {
  return (s) => {
    try {
      parseGeneralName(`${type}:${s}`, { constraint });
      return undefined;
    } catch {
      const what = { dns: 'DNS name', ip: constraint ? 'IP range (CIDR)' : 'IP address', email: 'e-mail address', uri: 'URI' }[type];
      return `a valid ${constraint && type !== 'ip' ? `${what} constraint` : what}`;
    }
  };
}

function checkSanString(s: string): string | undefined {
  try {
    parseGeneralName(s);
    return undefined;
  } catch {
    return 'a DNS name, IP address, e-mail address or URI (optionally prefixed dns:, ip:, email:, uri:)';
  }
}

const urlSchema = str('an absolute URI (http://…)', (s) => (isValidUri(s) ? undefined : 'an absolute URI (http://…)'));
const oidSchema = str('a dotted object identifier', checkOid);
const keyUsageList = list(str(`a key usage (${Object.keys(KEY_USAGE_BIT_NUMBERS).join(', ')})`, (s) => (canonicalKeyUsage(s) ? undefined : `a key usage (${Object.keys(KEY_USAGE_BIT_NUMBERS).join(', ')})`)));

const subjectSchema = obj({
  commonName: str('a string', undefined, 64),
  serialNumber: str('a PrintableString', (s) => (isPrintable(s) ? undefined : "a PrintableString (A-Z a-z 0-9 ' ( ) + , - . / : = ? space)"), 64),
  country: list(str('a two-letter country code (ISO 3166)', (s) => (/^[A-Za-z]{2}$/.test(s) ? undefined : 'a two-letter country code (ISO 3166)'))),
  province: list(str('a string', undefined, 128)),
  locality: list(str('a string', undefined, 128)),
  streetAddress: list(str('a string', undefined, 128)),
  postalCode: list(str('a string', undefined, 40)),
  organization: list(str('a string', undefined, 64)),
  organizationalUnit: list(str('a string', undefined, 64)),
  domainComponent: list(str('a DNS label', (s) => (/^[A-Za-z0-9-]{1,63}$/.test(s) ? undefined : 'a DNS label (IA5String)'))),
  extraNames: list(
    obj(
      {
        type: str('an attribute type (CN, O, emailAddress, … or a dotted OID)', (s) => {
          try {
            attributeTypeOid(s);
            return undefined;
          } catch {
            return 'an attribute type (CN, O, emailAddress, … or a dotted OID)';
          }
        }),
        value: str('a non-empty string', (s) => (s === '' ? 'a non-empty string' : undefined), 1024),
      },
      ['type', 'value'],
    ),
  ),
});

const sanObject: Schema = {
  t: 'object',
  fields: {
    type: str('dns, ip, email or uri', (s) => (SAN_TYPES[s.toLowerCase()] ? undefined : 'dns, ip, email or uri')),
    value: str('a string'),
  },
  required: ['type', 'value'],
  rule: (o) => {
    const type = typeof o.type === 'string' ? SAN_TYPES[o.type.toLowerCase()] : undefined;
    if (type === undefined || typeof o.value !== 'string') return undefined;
    const bad = checkName(type, false)(o.value);
    return bad === undefined ? undefined : ['value', `${bad}, got ${jsonType(o.value)}`];
  },
};

const nameConstraintsSchema = obj({
  critical: { t: 'boolean' },
  permittedDNSDomains: list(str('a DNS name constraint', checkName('dns', true))),
  excludedDNSDomains: list(str('a DNS name constraint', checkName('dns', true))),
  permittedIPRanges: list(str('an IP range (CIDR)', checkName('ip', true))),
  excludedIPRanges: list(str('an IP range (CIDR)', checkName('ip', true))),
  permittedEmailAddresses: list(str('an e-mail constraint', checkName('email', true))),
  excludedEmailAddresses: list(str('an e-mail constraint', checkName('email', true))),
  permittedURIDomains: list(str('a URI domain constraint', checkName('uri', true))),
  excludedURIDomains: list(str('a URI domain constraint', checkName('uri', true))),
});

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkDerBase64(s: string): string | undefined {
  const expected = 'base64 of one DER value (the extnValue contents)';
  const compact = s.replace(/\s+/g, '');
  if (compact === '' || !BASE64_RE.test(compact)) return expected;
  try {
    readSingle(new Uint8Array(Buffer.from(compact, 'base64')));
    return undefined;
  } catch {
    return expected;
  }
}

const byKeyType: Record<string, Schema> = { default: keyUsageList };
for (const k of KEY_TYPES) byKeyType[k] = keyUsageList;

/** The template / request schema. Field names follow step-ca's x509util JSON where one exists. */
const REQUEST_SCHEMA: Schema = obj({
  subject: subjectSchema,
  sans: list({ t: 'union', expected: 'a name string or {"type", "value"}', string: str('a name', checkSanString), object: sanObject }),
  keyUsage: { t: 'union', expected: 'a list of key usages, or an object of lists by key type', list: keyUsageList, string: keyUsageList, object: obj(byKeyType) },
  extKeyUsage: list(str('an extended key usage name or dotted OID', (s) => (canonicalExtKeyUsage(s) ? undefined : `an extended key usage (${Object.keys(EXTENDED_KEY_USAGES).join(', ')}) or a dotted OID`))),
  basicConstraints: obj({ isCA: { t: 'boolean' }, maxPathLen: { t: 'integer', min: -1, max: 255 } }, ['isCA']),
  nameConstraints: nameConstraintsSchema,
  crlDistributionPoints: list(urlSchema),
  ocspServer: list(urlSchema),
  issuingCertificateURL: list(urlSchema),
  policies: list(oidSchema),
  validity: obj({
    notBefore: str('an RFC 3339 time or a relative duration (-5m)', (s) => checkTime(s)),
    notAfter: str('an RFC 3339 time or a relative duration (+24h)', (s) => checkTime(s)),
    lifetime: str('a positive duration (24h, 90d, 1h30m)', (s) => {
      try {
        return parseDuration(s) > 0 ? undefined : 'a positive duration (24h, 90d, 1h30m)';
      } catch {
        return 'a positive duration (24h, 90d, 1h30m)';
      }
    }),
  }),
  extensions: list(
    obj(
      {
        id: oidSchema,
        critical: { t: 'boolean' },
        value: str('base64 of one DER value', checkDerBase64),
      },
      ['id', 'value'],
    ),
    false,
  ),
});

function checkTime(s: string): string | undefined {
  try {
    parseTime(s, new Date(0));
    return undefined;
  } catch {
    return 'an RFC 3339 time (2026-01-02T03:04:05Z) or a relative duration (-5m, +24h)';
  }
}

// ---------------------------------------------------------------------------------------------
// Walking

function describe(s: Schema): string {
  switch (s.t) {
    case 'string':
      return s.expected;
    case 'boolean':
      return 'true or false';
    case 'integer':
      return `an integer from ${s.min} to ${s.max}`;
    case 'list':
      return `a list (each ${describe(s.of)})`;
    case 'object':
      return 'an object';
    case 'union':
      return s.expected;
  }
}

function jsonType(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isJsonObject(v)) return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
}

/** Whether a schema accepts the JSON type of `v` at all (values are checked later). */
function typeAccepted(v: JsonValue, s: Schema): boolean {
  if (s.t === 'union') return (typeof v === 'string' && !!s.string) || (isJsonObject(v) && !!s.object) || (Array.isArray(v) && !!s.list);
  if (s.t === 'string') return typeof v === 'string';
  if (s.t === 'object') return isJsonObject(v);
  if (s.t === 'integer') return typeof v === 'number';
  if (s.t === 'boolean') return typeof v === 'boolean';
  return Array.isArray(v);
}

function acceptsString(s: Schema): boolean {
  if (s.t === 'string') return true;
  if (s.t === 'list') return s.single && acceptsString(s.of);
  if (s.t === 'union') return s.string !== undefined;
  return false;
}

/** Damerau-free Levenshtein distance, for "did you mean" hints on unknown fields. */
function distance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[n] as number;
}

/**
 * The "did you mean" hint for an unknown name: ` (did you mean "x"?)` for the closest known name
 * within a small edit distance, otherwise ` (known fields: a, b, …)`. Shared with the CA
 * configuration validator (src/ca/config.ts).
 */
export function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 4))) return ` (did you mean "${best}"?)`;
  return ` (known fields: ${known.join(', ')})`;
}

interface WalkContext {
  readonly template: boolean;
  readonly problems: TemplateProblem[];
}

function problem(cx: WalkContext, path: string, kind: TemplateProblem['kind'], message: string): void {
  cx.problems.push({ path, kind, message });
}

/** Checks the variables of a placeholder string; returns the compiled form or undefined on a syntax error. */
function checkPlaceholder(v: string, path: string, cx: WalkContext): { whole: boolean } | undefined {
  let compiled;
  try {
    compiled = compileString(v);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) {
      problem(cx, path, 'invalid', `bad placeholder: ${e.message}`);
      return undefined;
    }
    throw e;
  }
  for (const p of variablesOf(compiled)) {
    const root = p.segments[0] ?? '';
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(root)) {
      problem(cx, path, 'invalid', `unknown variable ${p.text}${suggestion(root, TEMPLATE_VARIABLES).replace('fields', 'variables')}`);
    } else if (root === 'Insecure' && p.segments.length > 1 && p.segments[1] !== 'User') {
      problem(cx, path, 'invalid', `unknown variable ${p.text} (.Insecure has only .Insecure.User)`);
    }
  }
  return { whole: compiled.whole };
}

function walk(v: JsonValue, s: Schema, path: string, cx: WalkContext): void {
  if (v === null) return;
  if (cx.template && typeof v === 'string' && hasPlaceholder(v)) {
    const c = checkPlaceholder(v, path, cx);
    if (!c || c.whole) return;
    if (!acceptsString(s)) problem(cx, path, 'invalid', `expected ${describe(s)}, got a string`);
    return;
  }
  switch (s.t) {
    case 'string': {
      if (typeof v !== 'string') return problem(cx, path, 'invalid', `expected ${s.expected}, got ${jsonType(v)}`);
      if (s.maxLength !== undefined && v.length > s.maxLength) {
        return problem(cx, path, 'invalid', `is ${v.length} characters long; at most ${s.maxLength} are allowed (RFC 5280 Appendix A)`);
      }
      const bad = s.check?.(v);
      if (bad !== undefined) problem(cx, path, 'invalid', `expected ${bad}, got ${jsonType(v)}`);
      return;
    }
    case 'boolean':
      if (typeof v !== 'boolean') problem(cx, path, 'invalid', `expected true or false, got ${jsonType(v)}`);
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min || v > s.max) {
        problem(cx, path, 'invalid', `expected ${describe(s)}, got ${jsonType(v)}`);
      }
      return;
    case 'list':
      if (Array.isArray(v)) {
        if (v.length > s.maxItems) return problem(cx, path, 'invalid', `has ${v.length} items; at most ${s.maxItems} are allowed`);
        v.forEach((item, i) => walk(item, s.of, pathIndex(path, i), cx));
      } else if (s.single && typeAccepted(v, s.of)) {
        walk(v, s.of, path, cx);
      } else {
        problem(cx, path, 'invalid', `expected ${describe(s)}, got ${jsonType(v)}`);
      }
      return;
    case 'object': {
      if (!isJsonObject(v)) return problem(cx, path, 'invalid', `expected an object, got ${jsonType(v)}`);
      const known = Object.keys(s.fields);
      const before = cx.problems.length;
      for (const key of Object.keys(v)) {
        const fs = Object.hasOwn(s.fields, key) ? s.fields[key] : undefined;
        if (!fs) problem(cx, pathKey(path, key), 'unknown-field', `unknown field${suggestion(key, known)}`);
        else walk(v[key] as JsonValue, fs, pathKey(path, key), cx);
      }
      for (const r of s.required) {
        const x = getOwn(v, r);
        if (x === undefined || x === null) problem(cx, pathKey(path, r), 'invalid', `is required`);
      }
      const literal = Object.values(v).every((x) => !(typeof x === 'string' && cx.template && hasPlaceholder(x)));
      if (s.rule && cx.problems.length === before && literal) {
        const broken = s.rule(v);
        if (broken) problem(cx, pathKey(path, broken[0]), 'invalid', `expected ${broken[1]}`);
      }
      return;
    }
    case 'union': {
      const branch = Array.isArray(v) ? s.list : isJsonObject(v) ? s.object : typeof v === 'string' ? s.string : undefined;
      if (!branch) return problem(cx, path, 'invalid', `expected ${s.expected}, got ${jsonType(v)}`);
      walk(v, branch, path, cx);
      return;
    }
  }
}

/**
 * Checks a parsed template against the schema without data: unknown fields, wrong literal types
 * and values, placeholder syntax, unknown functions and variables. Returns every problem.
 */
export function checkTemplateDocument(doc: JsonValue): TemplateProblem[] {
  const cx: WalkContext = { template: true, problems: [] };
  if (!isJsonObject(doc)) {
    if (typeof doc === 'string' && hasPlaceholder(doc)) {
      problem(cx, '$', 'invalid', 'a template must be a JSON object, not a placeholder');
    } else {
      problem(cx, '$', 'invalid', `a template must be a JSON object, got ${jsonType(doc)}`);
    }
    return cx.problems;
  }
  walk(doc, REQUEST_SCHEMA, '$', cx);
  return cx.problems;
}

// ---------------------------------------------------------------------------------------------
// Request mode: validate rendered output and normalize it

/** Present, non-null items of a list field (a lone value counts as a one-item list). */
function items(v: JsonValue | undefined): JsonValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.filter((x) => x !== null) : [v];
}

function strings(v: JsonValue | undefined): string[] {
  return items(v).filter((x): x is string => typeof x === 'string');
}

function nonEmptyStrings(v: JsonValue | undefined): string[] {
  return strings(v).filter((x) => x !== '');
}

function optionalList<T>(values: T[]): T[] | undefined {
  return values.length > 0 ? values : undefined;
}

function normalizeSubject(v: JsonValue | undefined): RequestSubject {
  if (!isJsonObject(v)) return {};
  const one = (k: string): string | undefined => {
    const x = getOwn(v, k);
    return typeof x === 'string' && x !== '' ? x : undefined;
  };
  const many = (k: string): readonly string[] | undefined => optionalList(nonEmptyStrings(getOwn(v, k)));
  const extra: RequestAttribute[] = [];
  for (const e of items(getOwn(v, 'extraNames'))) {
    if (!isJsonObject(e)) continue;
    const type = getOwn(e, 'type');
    const value = getOwn(e, 'value');
    if (typeof type === 'string' && typeof value === 'string') extra.push({ type, value });
  }
  const out: Record<string, unknown> = {
    commonName: one('commonName'),
    serialNumber: one('serialNumber'),
    country: many('country'),
    province: many('province'),
    locality: many('locality'),
    streetAddress: many('streetAddress'),
    postalCode: many('postalCode'),
    organization: many('organization'),
    organizationalUnit: many('organizationalUnit'),
    domainComponent: many('domainComponent'),
    extraNames: optionalList(extra),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

function normalizeSans(v: JsonValue | undefined): RequestSan[] {
  const out: RequestSan[] = [];
  const seen = new Set<string>();
  for (const item of items(v)) {
    let gn;
    if (typeof item === 'string') {
      gn = parseGeneralName(item);
    } else if (isJsonObject(item)) {
      const t = getOwn(item, 'type');
      const value = getOwn(item, 'value');
      const type = typeof t === 'string' ? SAN_TYPES[t.toLowerCase()] : undefined;
      if (type === undefined || typeof value !== 'string') continue;
      gn = parseGeneralName(`${type}:${value}`);
    } else {
      continue;
    }
    if (gn.type !== 'dns' && gn.type !== 'ip' && gn.type !== 'email' && gn.type !== 'uri') continue;
    const key = `${gn.type}:${gn.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type: gn.type, value: gn.value });
  }
  return out;
}

/** Options for {@link checkRenderedRequest}. */
export interface CheckRequestOptions {
  /** The key type, for a `keyUsage` object keyed by key type (`.PublicKey.type`). */
  readonly keyType?: string | undefined;
}

/**
 * Validates a rendered request completely and normalizes it. Returns the request, or the list of
 * every problem found (schema problems first, then rules between fields).
 */
export function checkRenderedRequest(doc: JsonValue, options: CheckRequestOptions = {}): { request?: CertificateRequest; problems: TemplateProblem[] } {
  const cx: WalkContext = { template: false, problems: [] };
  if (!isJsonObject(doc)) {
    problem(cx, '$', 'invalid', `the rendered template must be a JSON object, got ${jsonType(doc)}`);
    return { problems: cx.problems };
  }
  walk(doc, REQUEST_SCHEMA, '$', cx);
  if (cx.problems.length > 0) return { problems: cx.problems };

  const request: Record<string, unknown> = { subject: normalizeSubject(getOwn(doc, 'subject')) };
  const sans = normalizeSans(getOwn(doc, 'sans'));
  if (sans.length > 0) request.sans = sans;

  // keyUsage: a list, or an object of lists keyed by key type (with "default").
  const kuRaw = getOwn(doc, 'keyUsage');
  let kuList: JsonValue | undefined = kuRaw;
  if (isJsonObject(kuRaw)) {
    if (options.keyType === undefined) {
      problem(cx, '$.keyUsage', 'render', 'depends on the key type, but no public key was given');
    } else {
      kuList = getOwn(kuRaw, options.keyType) ?? getOwn(kuRaw, 'default');
      if (kuList === undefined) problem(cx, '$.keyUsage', 'render', `has no entry for key type ${options.keyType} and no "default"`);
    }
  }
  const ku = [...new Set(strings(isJsonObject(kuList) ? undefined : kuList).map((s) => canonicalKeyUsage(s) as KeyUsageName))];
  if (ku.length > 0) request.keyUsage = ku;
  const eku = [...new Set(strings(getOwn(doc, 'extKeyUsage')).map((s) => canonicalExtKeyUsage(s) as string))];
  if (eku.length > 0) request.extKeyUsage = eku;

  const bcRaw = getOwn(doc, 'basicConstraints');
  let isCA = false;
  if (isJsonObject(bcRaw)) {
    isCA = getOwn(bcRaw, 'isCA') === true;
    const mpl = getOwn(bcRaw, 'maxPathLen');
    const bc: { isCA: boolean; maxPathLen?: number } = { isCA };
    if (typeof mpl === 'number' && mpl >= 0) {
      // RFC 5280 §4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless the cA boolean is asserted".
      if (!isCA) problem(cx, '$.basicConstraints.maxPathLen', 'invalid', 'is only allowed when isCA is true (RFC 5280 §4.2.1.9)');
      else bc.maxPathLen = mpl;
    }
    request.basicConstraints = bc satisfies RequestBasicConstraints;
  }

  const ncRaw = getOwn(doc, 'nameConstraints');
  if (isJsonObject(ncRaw)) {
    const nc: Record<string, unknown> = { critical: getOwn(ncRaw, 'critical') !== false };
    let any = false;
    for (const k of Object.keys(ncRaw)) {
      if (k === 'critical') continue;
      const vals = nonEmptyStrings(getOwn(ncRaw, k));
      if (vals.length > 0) {
        nc[k] = vals;
        any = true;
      }
    }
    if (any) {
      // RFC 5280 §4.2.1.10: "The name constraints extension … MUST be used only in a CA certificate."
      if (!isCA) problem(cx, '$.nameConstraints', 'invalid', 'is only allowed on CA certificates (basicConstraints.isCA true, RFC 5280 §4.2.1.10)');
      request.nameConstraints = nc;
    }
  }

  for (const k of ['crlDistributionPoints', 'ocspServer', 'issuingCertificateURL', 'policies'] as const) {
    const vals = [...new Set(nonEmptyStrings(getOwn(doc, k)))];
    if (vals.length > 0) request[k] = vals;
  }

  const vRaw = getOwn(doc, 'validity');
  if (isJsonObject(vRaw)) {
    const validity: Record<string, string> = {};
    for (const k of ['notBefore', 'notAfter', 'lifetime'] as const) {
      const x = getOwn(vRaw, k);
      if (typeof x === 'string' && x !== '') validity[k] = x;
    }
    if (validity.notAfter !== undefined && validity.lifetime !== undefined) {
      problem(cx, '$.validity', 'invalid', 'has both notAfter and lifetime; use one of them');
    }
    if (Object.keys(validity).length > 0) request.validity = validity;
  }

  const extensions: RequestExtension[] = [];
  const namedOids = new Map<string, string>([
    [OID.subjectKeyIdentifier, 'subjectKeyIdentifier (written by the issuer)'],
    [OID.authorityKeyIdentifier, 'authorityKeyIdentifier (written by the issuer)'],
  ]);
  if (request.basicConstraints) namedOids.set(OID.basicConstraints, '$.basicConstraints');
  if (request.keyUsage) namedOids.set(OID.keyUsage, '$.keyUsage');
  if (request.extKeyUsage) namedOids.set(OID.extKeyUsage, '$.extKeyUsage');
  if (request.sans) namedOids.set(OID.subjectAltName, '$.sans');
  if (request.nameConstraints) namedOids.set(OID.nameConstraints, '$.nameConstraints');
  if (request.crlDistributionPoints) namedOids.set(OID.cRLDistributionPoints, '$.crlDistributionPoints');
  if (request.ocspServer || request.issuingCertificateURL) namedOids.set(OID.authorityInfoAccess, '$.ocspServer / $.issuingCertificateURL');
  if (request.policies) namedOids.set(OID.certificatePolicies, '$.policies');
  const seenIds = new Set<string>();
  items(getOwn(doc, 'extensions')).forEach((e, i) => {
    if (!isJsonObject(e)) return;
    const id = getOwn(e, 'id') as string;
    const at = pathKey(pathIndex('$.extensions', i), 'id');
    // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
    const named = namedOids.get(id);
    if (named !== undefined) problem(cx, at, 'invalid', `duplicates the extension written from ${named}`);
    else if (seenIds.has(id)) problem(cx, at, 'invalid', `extension ${id} appears more than once (RFC 5280 §4.2)`);
    seenIds.add(id);
    extensions.push({ id, critical: getOwn(e, 'critical') === true, value: (getOwn(e, 'value') as string).replace(/\s+/g, '') });
  });
  if (extensions.length > 0) request.extensions = extensions;

  if (cx.problems.length > 0) return { problems: cx.problems };
  return { request: request as unknown as CertificateRequest, problems: [] };
}
