/**
 * Registration entries (what SPIRE calls them): an entry says that workloads — or nodes — under
 * a parent ID whose attested selectors include all of the entry's selectors get the entry's
 * SPIFFE ID. This module checks an entry before it is stored, the same way for the CLI and the
 * admin API:
 *
 *  - the SPIFFE ID is valid, has a path, is of a trust domain this CA serves, and is not under the
 *    reserved `/signet/` path (Signet's own identities: the server, node agents);
 *  - the parent is of the same trust domain: the server's ID (a node entry: it selects agents by
 *    node attestation selectors), an agent's ID (`/signet/agent/…`), or another entry's ID;
 *  - 1 to 64 selectors `type:value`, distinct, kept sorted; the known types are checked strictly
 *    (`unix:uid:1000`, `unix:sha256:<64 hex>`, `k8s:ns:prod`, …), others by the generic syntax;
 *  - TTLs within bounds, DNS names valid, federated trust domains known (a relationship exists),
 *    a hint of printable text.
 * Every refusal is ERR_ENTRY_INVALID with `detail.field`, or the SPIFFE ID's own
 * ERR_SPIFFE_ID_INVALID, or ERR_FEDERATION_NOT_FOUND for an unknown federated trust domain.
 */
import { SignetError, isSignetError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { randomUUID } from 'node:crypto';
import type { EntryInput, EntryRecord, Store } from '../store/store.js';
import { isValidDnsName } from '../x509/general-name.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from './id.js';
import { serverSpiffeId } from './trust-domain.js';

/** Paths under this prefix are Signet's own identities; no entry may name one. */
export const RESERVED_PATH_PREFIX = '/signet/';
export const MAX_SELECTORS = 64;
export const MAX_DNS_NAMES = 32;
export const MAX_FEDERATES_WITH = 32;
/** Bounds of an entry's TTLs. */
export const MIN_SVID_TTL_MS = 60_000;
export const MAX_X509_SVID_TTL_MS = 30 * 24 * 3_600_000;
export const MAX_JWT_SVID_TTL_MS = 24 * 3_600_000;

/** The SPIFFE ID of a node agent attested by `attestor` as `id` (a path segment each). */
export function agentSpiffeId(trustDomain: string, attestor: string, id: string): string {
  return `spiffe://${trustDomain}/signet/agent/${attestor}/${id}`;
}

/** An entry as an operator writes it (durations in milliseconds). */
export interface EntrySpec {
  readonly spiffeId: string;
  readonly parentId: string;
  readonly selectors: readonly string[];
  readonly x509TtlMs?: number;
  readonly jwtTtlMs?: number;
  readonly dnsNames?: readonly string[];
  readonly admin?: boolean;
  readonly downstream?: boolean;
  readonly federatesWith?: readonly string[];
  readonly hint?: string;
}

/** What the checks need to know about the CA. */
export interface EntryContext {
  /** The trust domains this CA serves. */
  readonly trustDomains: readonly string[];
  /** Whether the CA has a federation relationship with a trust domain. */
  readonly federated: (trustDomain: string) => boolean;
}

function invalid(field: string, message: string): SignetError {
  return new SignetError('ERR_ENTRY_INVALID', `invalid entry: ${field} ${message}`, { detail: { field } });
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Strict value checks of the selector types Signet's attestors produce. */
const KNOWN: Readonly<Record<string, Readonly<Record<string, RegExp>>>> = {
  unix: {
    uid: /^(0|[1-9]\d{0,9})$/,
    gid: /^(0|[1-9]\d{0,9})$/,
    user: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/,
    group: /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/,
    path: /^\/.{0,4095}$/s,
    sha256: /^[0-9a-f]{64}$/,
  },
  k8s: {
    ns: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    sa: /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/,
    'pod-name': /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/,
    'pod-uid': /^[0-9a-f-]{36}$/,
    'node-name': /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/,
    'container-name': /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'pod-label': /^[^:\s]{1,317}:[^\s]{0,63}$/,
  },
};

/**
 * Checks one selector `type:value` (for known types, `type:key:value` as those attestors write
 * it); ERR_ENTRY_INVALID naming the selector otherwise.
 */
export function checkSelector(selector: unknown): string {
  if (typeof selector !== 'string' || selector.length === 0 || selector.length > 1024) throw invalid('selector', 'must be a string of 1 to 1024 characters');
  const field = `selector ${JSON.stringify(selector.slice(0, 80))}`;
  if (CONTROL.test(selector)) throw invalid(field, 'contains control or bidirectional-override characters');
  const m = /^([a-z0-9_-]{1,64}):(.+)$/.exec(selector);
  if (!m) throw invalid(field, 'is not type:value (the type in a–z 0–9 _ -)');
  const [, type, value] = m as unknown as [string, string, string];
  const known = KNOWN[type];
  if (known !== undefined) {
    const km = /^([a-z0-9-]+):(.*)$/s.exec(value);
    const rule = km !== null ? known[km[1] as string] : undefined;
    if (km === null || rule === undefined) throw invalid(field, `is not a ${type} selector (${Object.keys(known).map((k) => `${type}:${k}:…`).join(', ')})`);
    if (!rule.test(km[2] as string)) throw invalid(field, `has a malformed ${type}:${km[1] ?? ''} value`);
  }
  return selector;
}

function ttl(v: number | undefined, field: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < MIN_SVID_TTL_MS || v > max) throw invalid(field, `must be from ${formatDuration(MIN_SVID_TTL_MS)} to ${formatDuration(max)}`);
  return v;
}

/** An ID of this CA's trust domains, with a path, outside the reserved paths. */
function servedId(text: string, field: string, ctx: EntryContext): SpiffeId {
  const id = parseSpiffeId(text);
  if (!ctx.trustDomains.includes(id.trustDomain)) throw invalid(field, ctx.trustDomains.length === 0 ? 'cannot be issued: this CA serves no trust domain' : `is not in a trust domain this CA serves (${ctx.trustDomains.join(', ')})`);
  return id;
}

/** Checks an entry (see the module comment) and returns it as the store writes it (without its ID). */
export function checkEntry(spec: EntrySpec, ctx: EntryContext): Omit<EntryInput, 'id'> {
  const id = servedId(spec.spiffeId, 'spiffeId', ctx);
  if (id.path === '') throw invalid('spiffeId', 'must have a path: the trust domain itself is no workload');
  if (`${id.path}/`.startsWith(RESERVED_PATH_PREFIX)) throw invalid('spiffeId', `is under the reserved path ${RESERVED_PATH_PREFIX} (Signet's server and node agents)`);
  const parent = servedId(spec.parentId, 'parentId', ctx);
  if (parent.trustDomain !== id.trustDomain) throw invalid('parentId', `is in ${parent.trustDomain}, the entry in ${id.trustDomain}`);
  const p = parent.toString();
  if (`${parent.path}/`.startsWith(RESERVED_PATH_PREFIX) && p !== serverSpiffeId(parent.trustDomain) && !parent.path.startsWith('/signet/agent/')) {
    throw invalid('parentId', `is under the reserved path ${RESERVED_PATH_PREFIX} but is neither the server (${serverSpiffeId(parent.trustDomain)}) nor an agent (/signet/agent/…)`);
  }
  if (parent.path === '') throw invalid('parentId', 'must have a path');
  if (p === id.toString()) throw invalid('parentId', 'is the entry\'s own SPIFFE ID');
  if (!Array.isArray(spec.selectors) || spec.selectors.length === 0 || spec.selectors.length > MAX_SELECTORS) throw invalid('selectors', `must be 1 to ${MAX_SELECTORS} selectors`);
  const selectors = (spec.selectors as readonly unknown[]).map((s) => checkSelector(s));
  const sorted = [...new Set(selectors)].sort();
  if (sorted.length !== selectors.length) throw invalid('selectors', 'repeat a selector');
  const dnsNames = (spec.dnsNames ?? []).map((n) => n.toLowerCase());
  if (dnsNames.length > MAX_DNS_NAMES) throw invalid('dnsNames', `are at most ${MAX_DNS_NAMES}`);
  for (const n of dnsNames) if (!isValidDnsName(n)) throw invalid('dnsNames', `${JSON.stringify(n.slice(0, 80))} is not a DNS name`);
  if (new Set(dnsNames).size !== dnsNames.length) throw invalid('dnsNames', 'repeat a name');
  const federatesWith = (spec.federatesWith ?? []).map((t) => {
    let td: string;
    try {
      td = parseTrustDomain(t);
    } catch (e) {
      throw isSignetError(e) ? invalid('federatesWith', `${JSON.stringify(t.slice(0, 80))} is not a trust domain`) : e;
    }
    if (td === id.trustDomain) throw invalid('federatesWith', `names the entry's own trust domain ${td}`);
    if (!ctx.federated(td)) throw new SignetError('ERR_FEDERATION_NOT_FOUND', `invalid entry: federatesWith names ${td}, which this CA does not federate with`, { hint: `signet federation add ${td} --url …` });
    return td;
  });
  if (federatesWith.length > MAX_FEDERATES_WITH) throw invalid('federatesWith', `names at most ${MAX_FEDERATES_WITH} trust domains`);
  if (new Set(federatesWith).size !== federatesWith.length) throw invalid('federatesWith', 'repeats a trust domain');
  if (spec.hint !== undefined && (spec.hint.length === 0 || spec.hint.length > 1024 || CONTROL.test(spec.hint))) throw invalid('hint', 'must be 1 to 1024 printable characters');
  const x509TtlMs = ttl(spec.x509TtlMs, 'x509Ttl', MAX_X509_SVID_TTL_MS);
  const jwtTtlMs = ttl(spec.jwtTtlMs, 'jwtTtl', MAX_JWT_SVID_TTL_MS);
  return {
    spiffeId: id.toString(),
    parentId: p,
    selectors: sorted,
    ...(x509TtlMs !== undefined ? { x509TtlMs } : {}),
    ...(jwtTtlMs !== undefined ? { jwtTtlMs } : {}),
    dnsNames,
    admin: spec.admin === true,
    downstream: spec.downstream === true,
    federatesWith: [...federatesWith].sort(),
    ...(spec.hint !== undefined ? { hint: spec.hint } : {}),
  };
}

/** The checks' context for a CA serving `trustDomains`, with the federation relationships read from `store` now. */
export async function entryContext(store: Store, trustDomains: readonly string[]): Promise<EntryContext> {
  const federated = new Set((await store.spiffe.listFederations()).map((f) => f.trustDomain));
  return { trustDomains, federated: (td) => federated.has(td) };
}

/** Creates an entry (checked, a new random ID) and audits it, in one transaction. */
export async function createEntry(store: Store, spec: EntrySpec, ctx: EntryContext, actor: string, now: Date): Promise<EntryRecord> {
  const checked = checkEntry(spec, ctx);
  return store.transaction(async (tx) => {
    const entry = await tx.spiffe.createEntry({ id: randomUUID(), ...checked }, now);
    await tx.audit.append({ time: now, type: 'spiffe.entry.create', outcome: 'success', actor, detail: { entry: entry.id, spiffeId: entry.spiffeId, parentId: entry.parentId, selectors: [...entry.selectors], revision: entry.revision.toString() } });
    return entry;
  });
}

/**
 * Changes an entry: the fields of `change` replace the entry's (the merged entry is checked
 * whole), with `expectedRevision` only if nobody changed it since. ERR_ENTRY_NOT_FOUND when there
 * is no such live entry.
 */
/** The optional fields of an entry an update can remove (back to the provisioner's defaults, no hint). */
export type ClearableEntryField = 'x509Ttl' | 'jwtTtl' | 'hint';

/** A change of an entry: the fields given replace the entry's; `clear` removes optional ones. */
export type EntryChange = Partial<EntrySpec> & { readonly clear?: readonly ClearableEntryField[] };

export async function updateEntry(store: Store, id: string, change: EntryChange, ctx: EntryContext, actor: string, now: Date, expectedRevision?: bigint): Promise<EntryRecord> {
  const clear = new Set(change.clear ?? []);
  for (const [field, value] of [['x509Ttl', change.x509TtlMs], ['jwtTtl', change.jwtTtlMs], ['hint', change.hint]] as const) {
    if (clear.has(field) && value !== undefined) throw invalid(field, 'cannot be both set and cleared');
  }
  return store.transaction(async (tx) => {
    const current = await tx.spiffe.getEntry(id);
    if (current === undefined) throw entryNotFound(id);
    const merged: EntrySpec = {
      spiffeId: change.spiffeId ?? current.spiffeId,
      parentId: change.parentId ?? current.parentId,
      selectors: change.selectors ?? current.selectors,
      ...(!clear.has('x509Ttl') && (change.x509TtlMs ?? current.x509TtlMs) !== undefined ? { x509TtlMs: change.x509TtlMs ?? current.x509TtlMs } : {}),
      ...(!clear.has('jwtTtl') && (change.jwtTtlMs ?? current.jwtTtlMs) !== undefined ? { jwtTtlMs: change.jwtTtlMs ?? current.jwtTtlMs } : {}),
      dnsNames: change.dnsNames ?? current.dnsNames,
      admin: change.admin ?? current.admin,
      downstream: change.downstream ?? current.downstream,
      federatesWith: change.federatesWith ?? current.federatesWith,
      ...(!clear.has('hint') && (change.hint ?? current.hint) !== undefined ? { hint: change.hint ?? current.hint } : {}),
    };
    const updated = await tx.spiffe.updateEntry({ id, ...checkEntry(merged, ctx) }, now, expectedRevision);
    if (updated === undefined) throw entryNotFound(id);
    await tx.audit.append({ time: now, type: 'spiffe.entry.update', outcome: 'success', actor, detail: { entry: id, spiffeId: updated.spiffeId, changed: Object.keys(change).sort(), revision: updated.revision.toString() } });
    return updated;
  });
}

/** Deletes an entry and audits it; ERR_ENTRY_NOT_FOUND when there is no such live entry. */
export async function deleteEntry(store: Store, id: string, actor: string, now: Date): Promise<EntryRecord> {
  return store.transaction(async (tx) => {
    const gone = await tx.spiffe.deleteEntry(id, now);
    if (gone === undefined) throw entryNotFound(id);
    await tx.audit.append({ time: now, type: 'spiffe.entry.delete', outcome: 'success', actor, detail: { entry: id, spiffeId: gone.spiffeId, revision: gone.revision.toString() } });
    return gone;
  });
}

/** ERR_ENTRY_NOT_FOUND for `id`. */
export function entryNotFound(id: string): SignetError {
  return new SignetError('ERR_ENTRY_NOT_FOUND', `no entry ${JSON.stringify(String(id).slice(0, 128))}`, { hint: 'see signet entry list' });
}

/** An entry as the CLI and the admin API show it. */
export function entryJson(e: EntryRecord): Record<string, unknown> {
  return {
    id: e.id,
    spiffeId: e.spiffeId,
    parentId: e.parentId,
    selectors: [...e.selectors],
    x509Ttl: e.x509TtlMs === undefined ? null : formatDuration(e.x509TtlMs),
    jwtTtl: e.jwtTtlMs === undefined ? null : formatDuration(e.jwtTtlMs),
    dnsNames: [...e.dnsNames],
    admin: e.admin,
    downstream: e.downstream,
    federatesWith: [...e.federatesWith],
    hint: e.hint ?? null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    revision: Number(e.revision),
  };
}
