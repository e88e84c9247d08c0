/**
 * SPIFFE endpoints of the CA:
 *  - `GET /spiffe/bundle` — the bundle endpoint (SPIFFE Federation standard §4, profile
 *    `https_web`: the client authenticates this server by its TLS certificate): the trust
 *    domain's bundle document, the same on every replica, with its `spiffe_sequence` and
 *    `spiffe_refresh_hint`.
 *  - `GET /spiffe/bundles/{trust domain}` — the bundle of the CA's own trust domain or of a
 *    federated one, as this CA holds it (what agents hand to workloads).
 *  - `POST /spiffe/jwt-svid` — a JWT-SVID for the SPIFFE ID a one-time token authorizes:
 *    `{"ott", "audience": string | string[], "lifetime"?: "5m"}` → 201
 *    `{"token", "spiffeId", "kid", "expiresAt"}`.
 *  - `POST /spiffe/validate/jwt-svid` `{"token", "audience"}` and `POST /spiffe/validate/x509-svid`
 *    `{"chain": PEM}` — validation by the SPIFFE standards with the bundle of the SVID's own trust
 *    domain (own or federated), for programs without a SPIFFE library: 200 `{"spiffeId", …}` or
 *    ERR_JWT_SVID_INVALID / ERR_X509_SVID_INVALID with `detail.reason`.
 *  - The admin API for registration entries, for callers presenting an X509-SVID whose SPIFFE ID
 *    an admin entry grants (mTLS): `GET /spiffe/admin/entries` (`?spiffeId=&parentId=&selector=
 *    &limit=&cursor=`), `POST /spiffe/admin/entries` (create, 201), `GET /spiffe/admin/entries/{id}`,
 *    `POST /spiffe/admin/entries/{id}` (update: the fields given replace the entry's; `revision`
 *    makes it conditional), `POST /spiffe/admin/entries/{id}/delete`.
 *  - Node agents: `POST /spiffe/agent/attest` (`{"attestor": "join_token", "token", "csr"}` → 201
 *    the agent SVID; `x509pop` adds `intermediates`; `tpm` takes two rounds: `{"ekCertificate",
 *    "ekPublic", "akPublic", "intermediates"?}` → 200 a credential-activation challenge, then the
 *    same with `"challengeId", "secret", "csr"` → 201 the agent SVID), and over mTLS with the agent SVID: `POST /spiffe/agent/renew` (`{"csr"}`),
 *    `GET /spiffe/agent/entries` (the entries it may serve, with the entry revision; with
 *    `?after=N&wait=30s` it answers only once the revision passed N, or when the wait is over;
 *    `&delta=1` asks for the changes since N only: `"delta": true`, `entries` changed, `removed` IDs),
 *    `POST /spiffe/agent/svids` (a batch: `{"x509": [{"entryId", "csr"}], "jwt": [{"entryId",
 *    "audience"}]}` → each item an SVID or its error).
 */
import { SignetError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { Authority } from '../ca/authority.js';
import type { TrustDomainService } from '../spiffe/trust-domain.js';
import type { Clock } from '../core/clock.js';
import { decodePem, decodePemAll, encodePem } from '../core/pem.js';
import { fromBase64 } from '../core/bytes.js';
import type { Store } from '../store/store.js';
import type { TrustBundle } from '../spiffe/bundle.js';
import { knownBundle } from '../spiffe/federation.js';
import { parseSpiffeId, parseTrustDomain } from '../spiffe/id.js';
import type { Certificate } from '../x509/certificate.js';
import type { RevisionWatcher } from '../spiffe/revision-watch.js';
import { createEntry, deleteEntry, entryContext, entryJson, entryNotFound, updateEntry, type EntrySpec } from '../spiffe/entries.js';
import type { JsonValue } from '../x509/template/json.js';
import { clientCertificate } from './certificate-routes.js';
import { AuthorizedEntriesCache, attestWithJoinToken, entryDelta, attestWithTpm, attestWithX509Pop, authenticateAgent, requestTpmChallenge, issueBatch, MAX_BATCH, renewAgentSvid, type AgentContext, type IssuedSvid } from '../spiffe/agents.js';
import { jwtSvidTrustDomain, validateJwtSvid } from '../spiffe/jwt-svid.js';
import { MAX_X509_SVID_CHAIN, validateX509Svid, x509SvidTrustDomain } from '../spiffe/x509-svid.js';
import type { Route } from './http.js';
import { jsonObject, stringField } from './sign-route.js';

/** Largest `/spiffe/jwt-svid` body: a token of at most 8 KiB and a few audiences. */
export const JWT_SVID_BODY_LIMIT = 32 * 1024;

/** Largest validation body: a chain of {@link MAX_X509_SVID_CHAIN} certificates in PEM, or a token. */
export const VALIDATE_BODY_LIMIT = 64 * 1024;

/** What the SPIFFE routes need. */
export interface SpiffeRouteOptions {
  readonly authority: () => Authority;
  /**
   * The service of a served trust domain: `trustDomain`'s, or without it the first the CA serves
   * (undefined: the CA serves none, or not that one).
   */
  readonly service: (trustDomain?: string) => TrustDomainService | undefined;
  readonly audience: (path: string) => string[];
  readonly store: Store;
  readonly clock: Clock;
  /** The trust domains the CA serves. */
  readonly trustDomains: readonly string[];
  /** Lifetime of agent SVIDs. */
  readonly agentSvidLifetimeMs: number;
  /** The x509pop CA certificates (empty: no x509pop attestation). */
  readonly x509popRoots: readonly Certificate[];
  /** The TPM manufacturer CA certificates (empty: no TPM attestation). */
  readonly tpmEkRoots: readonly Certificate[];
  /** Wakes agents waiting for entry changes. */
  readonly entryChanges: RevisionWatcher;
}

/** Longest an agent's request for entry changes is held open. */
export const MAX_ENTRIES_WAIT_MS = 60_000;

function svidJson(s: IssuedSvid): Record<string, unknown> {
  return { spiffeId: s.spiffeId, svid: s.chain.map((d) => encodePem('CERTIFICATE', d)), serial: s.serial, expiresAt: s.expiresAt.toISOString() };
}

function errorJson(e: SignetError): Record<string, unknown> {
  const reason = (e.detail as { reason?: unknown } | undefined)?.reason;
  return { code: e.code, message: e.message, ...(typeof reason === 'string' ? { reason } : {}) };
}

const ENTRY_FIELDS = ['spiffeId', 'parentId', 'selectors', 'x509Ttl', 'jwtTtl', 'dnsNames', 'admin', 'downstream', 'federatesWith', 'hint'];

/** An entry (or the fields of a change) from a JSON body; ERR_REQUEST_INVALID for wrong types. */
function entryFields(body: Record<string, JsonValue>): Partial<EntrySpec> {
  const bad = (name: string, what: string): SignetError => new SignetError('ERR_REQUEST_INVALID', `field "${name}" must be ${what}`);
  const list = (name: string): string[] | undefined => {
    const v = body[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw bad(name, 'a list of strings');
    return v;
  };
  const flag = (name: string): boolean | undefined => {
    const v = body[name];
    if (v !== undefined && typeof v !== 'boolean') throw bad(name, 'true or false');
    return v;
  };
  const ttl = (name: string): number | undefined => {
    const v = stringField(body, name, false);
    if (v === undefined) return undefined;
    try {
      return parseDuration(v);
    } catch {
      throw bad(name, 'a duration such as "1h"');
    }
  };
  const spiffeId = stringField(body, 'spiffeId', false);
  const parentId = stringField(body, 'parentId', false);
  const hint = stringField(body, 'hint', false);
  const selectors = list('selectors');
  const dnsNames = list('dnsNames');
  const federatesWith = list('federatesWith');
  const admin = flag('admin');
  const downstream = flag('downstream');
  const x509TtlMs = ttl('x509Ttl');
  const jwtTtlMs = ttl('jwtTtl');
  return {
    ...(spiffeId !== undefined ? { spiffeId } : {}),
    ...(parentId !== undefined ? { parentId } : {}),
    ...(selectors !== undefined ? { selectors } : {}),
    ...(x509TtlMs !== undefined ? { x509TtlMs } : {}),
    ...(jwtTtlMs !== undefined ? { jwtTtlMs } : {}),
    ...(dnsNames !== undefined ? { dnsNames } : {}),
    ...(admin !== undefined ? { admin } : {}),
    ...(downstream !== undefined ? { downstream } : {}),
    ...(federatesWith !== undefined ? { federatesWith } : {}),
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** The SPIFFE routes. */
export function spiffeRoutes(o: SpiffeRouteOptions): Route[] {
  const { authority, service, audience } = o;
  /** Every bundle a validation may need, read once per request from the store (own and federated). */
  const bundles = async (trustDomain: string): Promise<TrustBundle | undefined> => knownBundle(o.store, trustDomain);
  const admin = (socket: Parameters<typeof clientCertificate>[0]): Promise<string> => authority().authenticateSpiffeAdmin(clientCertificate(socket));
  const authorized = new AuthorizedEntriesCache();
  /** What the agent functions need, for `trustDomain` (default: the first the CA serves). */
  const agents = (trustDomain?: string): AgentContext => {
    const s = service(trustDomain);
    if (s === undefined && trustDomain === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', 'this CA serves no SPIFFE trust domain: it attests no agents');
    if (s === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', `this CA does not serve trust domain ${trustDomain ?? ''}`, { hint: `it serves ${o.trustDomains.join(', ')}` });
    return { store: o.store, authority, clock: o.clock, trustDomain: s, agentSvidLifetimeMs: o.agentSvidLifetimeMs, x509popRoots: o.x509popRoots, tpmEkRoots: o.tpmEkRoots, authorized };
  };
  const csrOf = (pem: string): Uint8Array => decodePem(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']).der;
  const actor = (id: string): string => `admin ${id}`;
  return [
    {
      method: 'POST',
      path: '/spiffe/agent/attest',
      handler: async (req) => {
        const body = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['attestor', 'trustDomain', 'token', 'csr', 'intermediates', 'ekCertificate', 'ekPublic', 'akPublic', 'challengeId', 'secret']);
        // The trust domain the agent joins (a CA may serve several); default: the first.
        const joining = stringField(body, 'trustDomain', false);
        const ctx = agents(joining === undefined ? undefined : parseTrustDomain(joining));
        const attestor = stringField(body, 'attestor', true);
        const only = (fields: readonly string[]): void => {
          for (const k of Object.keys(body)) if (k !== 'attestor' && k !== 'trustDomain' && !fields.includes(k)) throw new SignetError('ERR_REQUEST_INVALID', `field "${k}" does not go with the ${String(attestor)} attestor`);
        };
        const intermediatesOf = (): Uint8Array[] => {
          const pem = stringField(body, 'intermediates', false) ?? '';
          const intermediates = pem === '' ? [] : decodePemAll(pem).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
          if (intermediates.length > 8) throw new SignetError('ERR_REQUEST_INVALID', 'at most 8 intermediate certificates');
          return intermediates;
        };
        let svid: IssuedSvid;
        if (attestor === 'join_token') {
          only(['token', 'csr']);
          svid = await attestWithJoinToken(ctx, stringField(body, 'token', true) ?? '', csrOf(stringField(body, 'csr', true) ?? ''));
        } else if (attestor === 'x509pop') {
          only(['token', 'csr', 'intermediates']);
          svid = await attestWithX509Pop(ctx, stringField(body, 'token', true) ?? '', intermediatesOf(), csrOf(stringField(body, 'csr', true) ?? ''), audience('/spiffe/agent/attest'));
        } else if (attestor === 'tpm') {
          const answering = body.challengeId !== undefined;
          only(['ekCertificate', 'ekPublic', 'akPublic', 'intermediates', ...(answering ? ['challengeId', 'secret', 'csr'] : [])]);
          const binary = (field: string, max: number): Uint8Array => {
            const v = fromBase64(stringField(body, field, true) ?? '');
            if (v === undefined || v.length === 0 || v.length > max) throw new SignetError('ERR_REQUEST_INVALID', `field "${field}" must be base64 of 1 to ${max} bytes`);
            return v;
          };
          const evidence = { ekCertificate: decodePem(stringField(body, 'ekCertificate', true) ?? '', ['CERTIFICATE']).der, ekIntermediates: intermediatesOf(), ekPublic: binary('ekPublic', 1024), akPublic: binary('akPublic', 1024) };
          if (!answering) {
            const c = await requestTpmChallenge(ctx, evidence);
            return { status: 200, json: { challenge: { id: c.id, credentialBlob: Buffer.from(c.credentialBlob).toString('base64'), encryptedSecret: Buffer.from(c.encryptedSecret).toString('base64'), expiresAt: c.expiresAt.toISOString() } } };
          }
          svid = await attestWithTpm(ctx, evidence, stringField(body, 'challengeId', true) ?? '', binary('secret', 64), csrOf(stringField(body, 'csr', true) ?? ''));
        } else {
          throw new SignetError('ERR_REQUEST_INVALID', `unknown attestor ${JSON.stringify(String(attestor).slice(0, 32))} (join_token, x509pop, tpm)`);
        }
        return { status: 201, json: { ...svidJson(svid), bundle: ctx.trustDomain.bundle?.document ?? null } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/agent/renew',
      handler: async (req) => {
        const ctx = agents();
        const body = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['csr']);
        const svid = await renewAgentSvid(ctx, clientCertificate(req.socket), csrOf(stringField(body, 'csr', true) ?? ''));
        return { status: 201, json: svidJson(svid) };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/agent/entries',
      handler: async (req) => {
        const ctx = agents();
        let agent = await authenticateAgent(ctx, clientCertificate(req.socket));
        for (const k of req.query.keys()) if (k !== 'after' && k !== 'wait' && k !== 'delta') throw new SignetError('ERR_REQUEST_INVALID', `unknown query parameter "${k.slice(0, 32)}"`);
        const after = req.query.get('after');
        const wait = req.query.get('wait');
        const delta = req.query.get('delta');
        if ((after === null) !== (wait === null)) throw new SignetError('ERR_REQUEST_INVALID', '"after" and "wait" go together');
        if (delta !== null && (delta !== '1' || after === null)) throw new SignetError('ERR_REQUEST_INVALID', '"delta" is 1, and goes with "after"');
        if (after !== null && wait !== null) {
          if (!/^\d{1,18}$/.test(after)) throw new SignetError('ERR_REQUEST_INVALID', '"after" must be an entry revision (a whole number)');
          let waitMs: number;
          try {
            waitMs = parseDuration(wait);
          } catch {
            throw new SignetError('ERR_REQUEST_INVALID', '"wait" must be a duration such as 30s');
          }
          if (waitMs > MAX_ENTRIES_WAIT_MS) throw new SignetError('ERR_REQUEST_INVALID', `"wait" is at most ${MAX_ENTRIES_WAIT_MS / 1000}s`);
          await o.entryChanges.waitBeyond(BigInt(after), waitMs);
          // The agent may have been banned or evicted while it waited.
          agent = await authenticateAgent(ctx, clientCertificate(req.socket));
        }
        // Read first: a change landing while the rest is read has a newer revision, so the agent's next poll returns it.
        const revision = await o.store.spiffe.entryRevision();
        const all = await authorized.get(o.store, agent);
        const own = parseSpiffeId(agent.spiffeId).trustDomain;
        const changes = delta === null ? undefined : await entryDelta(o.store, all, BigInt(after ?? '0'), own);
        const entries = changes?.entries ?? [...all.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
        // The bundles its workloads receive: its own trust domain's, and those its entries federate with.
        const bundles: Record<string, string> = {};
        const document = service(own)?.bundle?.document;
        if (document !== undefined) bundles[own] = document;
        for (const td of new Set([...all.values()].flatMap((e) => e.federatesWith))) {
          if (td === own) continue;
          const held = await o.store.spiffe.getBundle(td);
          if (held !== undefined) bundles[td] = held.document;
        }
        return { json: { agent: agent.spiffeId, revision: Number(revision), entries: entries.map(entryJson), ...(changes !== undefined && { delta: true, removed: changes.removed }), bundles } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/agent/svids',
      handler: async (req) => {
        const agent = await authenticateAgent(agents(), clientCertificate(req.socket));
        // The agent's own trust domain signs its workloads' JWT-SVIDs.
        const ctx = agents(parseSpiffeId(agent.spiffeId).trustDomain);
        const body = jsonObject(await req.json(MAX_BATCH * 4096), ['x509', 'jwt']);
        const items = (name: string): Record<string, JsonValue>[] => {
          const v = body[name] ?? [];
          if (!Array.isArray(v)) throw new SignetError('ERR_REQUEST_INVALID', `field "${name}" must be a list`);
          return v.map((x) => jsonObject(x, name === 'x509' ? ['entryId', 'csr'] : ['entryId', 'audience']));
        };
        const x509 = items('x509').map((x) => ({ entryId: stringField(x, 'entryId', true) ?? '', csr: csrOf(stringField(x, 'csr', true) ?? '') }));
        const jwt = items('jwt').map((x) => {
          const aud = x.audience;
          const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a): a is string => typeof a === 'string') ? aud : undefined;
          if (audience === undefined) throw new SignetError('ERR_REQUEST_INVALID', 'field "audience" must be a string or a list of strings');
          return { entryId: stringField(x, 'entryId', true) ?? '', audience };
        });
        const r = await issueBatch(ctx, agent, { x509, jwt });
        return {
          json: {
            x509: r.x509.map((i) => (i.ok ? { entryId: i.entryId, ...svidJson(i) } : { entryId: i.entryId, error: errorJson(i.error) })),
            jwt: r.jwt.map((i) => (i.ok ? { entryId: i.entryId, spiffeId: i.spiffeId, token: i.token, expiresAt: i.expiresAt.toISOString() } : { entryId: i.entryId, error: errorJson(i.error) })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/admin/entries',
      handler: async (req) => {
        await admin(req.socket);
        const q = req.query;
        for (const k of q.keys()) if (!['spiffeId', 'parentId', 'selector', 'limit', 'cursor'].includes(k)) throw new SignetError('ERR_REQUEST_INVALID', `unknown query parameter "${k.slice(0, 32)}"`);
        const limitText = q.get('limit');
        const limit = limitText === null ? 100 : /^\d{1,4}$/.test(limitText) ? Number(limitText) : NaN;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SignetError('ERR_REQUEST_INVALID', 'limit must be a whole number from 1 to 1000');
        const filter = { ...(q.get('spiffeId') !== null ? { spiffeId: q.get('spiffeId') as string } : {}), ...(q.get('parentId') !== null ? { parentId: q.get('parentId') as string } : {}), ...(q.get('selector') !== null ? { selector: q.get('selector') as string } : {}) };
        const cursor = q.get('cursor');
        let page;
        try {
          page = await o.store.spiffe.listEntries(filter, { limit, ...(cursor !== null ? { cursor } : {}) });
        } catch (e) {
          if (e instanceof SignetError && e.code === 'ERR_STORE_BAD_QUERY') throw new SignetError('ERR_REQUEST_INVALID', e.message);
          throw e;
        }
        return { json: { entries: page.items.map(entryJson), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/admin/entries',
      handler: async (req) => {
        const who = await admin(req.socket);
        const fields = entryFields(jsonObject(await req.json(VALIDATE_BODY_LIMIT), ENTRY_FIELDS));
        if (fields.spiffeId === undefined || fields.parentId === undefined || fields.selectors === undefined) throw new SignetError('ERR_REQUEST_INVALID', 'an entry needs "spiffeId", "parentId" and "selectors"');
        const spec: EntrySpec = { ...fields, spiffeId: fields.spiffeId, parentId: fields.parentId, selectors: fields.selectors };
        const made = await createEntry(o.store, spec, await entryContext(o.store, o.trustDomains), actor(who), o.clock.now());
        o.entryChanges.notify();
        return { status: 201, json: entryJson(made) };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/admin/entries/:id',
      handler: async (req) => {
        await admin(req.socket);
        const e = await o.store.spiffe.getEntry(req.params.id ?? '');
        if (e === undefined) throw entryNotFound(req.params.id ?? '');
        return { json: entryJson(e) };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/admin/entries/:id',
      handler: async (req) => {
        const who = await admin(req.socket);
        const body = jsonObject(await req.json(VALIDATE_BODY_LIMIT), [...ENTRY_FIELDS, 'revision']);
        const rev = body.revision;
        if (rev !== undefined && (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0)) throw new SignetError('ERR_REQUEST_INVALID', 'field "revision" must be a whole number');
        const { revision: _ignored, ...rest } = body;
        // null removes an optional field: x509Ttl, jwtTtl, hint.
        const clear = (['x509Ttl', 'jwtTtl', 'hint'] as const).filter((k) => rest[k] === null);
        for (const k of clear) delete rest[k];
        const change = { ...entryFields(rest), ...(clear.length > 0 ? { clear } : {}) };
        if (Object.keys(change).length === 0) throw new SignetError('ERR_REQUEST_INVALID', 'nothing to change');
        const updated = await updateEntry(o.store, req.params.id ?? '', change, await entryContext(o.store, o.trustDomains), actor(who), o.clock.now(), typeof rev === 'number' ? BigInt(rev) : undefined);
        o.entryChanges.notify();
        return { json: entryJson(updated) };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/admin/entries/:id/delete',
      handler: async (req) => {
        const who = await admin(req.socket);
        const gone = await deleteEntry(o.store, req.params.id ?? '', actor(who), o.clock.now());
        o.entryChanges.notify();
        return { json: { deleted: gone.id, spiffeId: gone.spiffeId, revision: Number(gone.revision) } };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/bundle',
      handler: () => {
        const s = service();
        if (s === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', 'this CA serves no SPIFFE trust domain', { hint: 'an intermediate made with `signet ca init --trust-domain` serves one' });
        const bundle = s.bundle;
        if (bundle === undefined) throw new SignetError('ERR_SPIFFE_NOT_READY', `the bundle of ${s.trustDomain} is not published yet`);
        return { body: bundle.document, contentType: 'application/json' };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/bundles/:trustDomain',
      handler: async (req) => {
        const td = parseTrustDomain(req.params.trustDomain ?? '');
        const record = await o.store.spiffe.getBundle(td);
        if (record === undefined) throw new SignetError('ERR_BUNDLE_NOT_FOUND', `this CA holds no bundle of trust domain ${td}`, { hint: 'federate with it: signet federation add' });
        return { body: record.document, contentType: 'application/json' };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/validate/jwt-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['token', 'audience']);
        const token = stringField(fields, 'token', true) ?? '';
        const aud = stringField(fields, 'audience', true) ?? '';
        // The subject's trust domain decides the bundle; read it before validating (validation is synchronous).
        const td = jwtSvidTrustDomain(token);
        const held = td === undefined ? undefined : await bundles(td);
        const v = validateJwtSvid(token, { audience: aud, bundle: (td) => (held?.trustDomain === td ? held : undefined), now: o.clock.now() });
        return { json: { spiffeId: v.id.toString(), audience: v.audience, expiresAt: v.expiresAt.toISOString(), claims: v.claims } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/validate/x509-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['chain']);
        const pem = stringField(fields, 'chain', true) ?? '';
        const ders = decodePemAll(pem).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
        if (ders.length === 0 || ders.length > MAX_X509_SVID_CHAIN) throw new SignetError('ERR_REQUEST_INVALID', `"chain" must hold 1 to ${MAX_X509_SVID_CHAIN} PEM certificates, leaf first`);
        // The leaf's trust domain decides the bundle; validateX509Svid names what is wrong with the chain.
        const td = x509SvidTrustDomain(ders[0] as Uint8Array);
        const held = td === undefined ? undefined : await bundles(td);
        const v = validateX509Svid(ders, (td) => (held?.trustDomain === td ? held : undefined), o.clock.now());
        return { json: { spiffeId: v.id.toString(), chain: v.chain.map((c) => c.subject.text) } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/jwt-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(JWT_SVID_BODY_LIMIT), ['ott', 'audience', 'lifetime']);
        const ott = stringField(fields, 'ott', true) ?? '';
        const raw = fields.audience;
        if (raw === undefined) throw new SignetError('ERR_REQUEST_INVALID', 'missing field "audience"');
        const list = typeof raw === 'string' ? [raw] : raw;
        if (!Array.isArray(list) || !list.every((a): a is string => typeof a === 'string')) throw new SignetError('ERR_REQUEST_INVALID', 'field "audience" must be a string or a list of strings');
        const lifetime = stringField(fields, 'lifetime', false);
        let lifetimeMs: number | undefined;
        if (lifetime !== undefined) {
          try {
            lifetimeMs = parseDuration(lifetime);
          } catch {
            throw new SignetError('ERR_REQUEST_INVALID', `field "lifetime" must be a duration such as "5m", got "${lifetime.slice(0, 32)}"`);
          }
        }
        const r = await authority().mintJwtSvid({ token: ott, audience: audience('/spiffe/jwt-svid'), svidAudience: list, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) });
        return { status: 201, json: { token: r.token, spiffeId: r.spiffeId, kid: r.kid, expiresAt: r.expiresAt.toISOString() } };
      },
    },
  ];
}
