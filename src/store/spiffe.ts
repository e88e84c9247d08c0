/**
 * The SPIFFE repository (store.ts `SpiffeRepository`) over Kysely, for every SQL backend: the
 * JWT-SVID signing keys every replica signs with, the bundles the CA publishes and fetches, and
 * the federation relationships. Every replica serves the stored bundle document, so they all
 * serve the same one with the same sequence number.
 */
import type { Selectable } from 'kysely';
import { SignetError } from '../core/errors.js';
import { createHash } from 'node:crypto';
import type { SpiffeAgentsTable, SpiffeBundlesTable, SpiffeEntriesTable, SpiffeFederationsTable, SpiffeJoinTokensTable, SpiffeJwtKeysTable } from './schema.js';
import type { AgentRecord, BundleRecord, EntryInput, EntryRecord, FederationRecord, JoinTokenRecord, JwtKeyRecord, SpiffeRepository } from './store.js';
import { atomic, isUniqueViolation, toNumber, type Db, type Runner } from './sql.js';
import { badQuery, epochMs, pageLimit } from './validation.js';

/** Largest document stored (a bundle endpoint answer is refused above this before it gets here). */
const MAX_DOCUMENT = 1024 * 1024;
const KID = /^[A-Za-z0-9_-]{1,128}$/;
const DIGEST = /^[0-9a-f]{64}$/;

function invalid(message: string, field: string): SignetError {
  return new SignetError('ERR_STORE_INVALID_RECORD', message, { detail: { field } });
}

function text(v: unknown, field: string, max = 2048): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(`${field} must be a non-empty string of at most ${max} characters`, field);
  return v;
}

/** A trust domain name as the SPIFFE ID standard spells it (the caller has parsed it; this is the store's own guard). */
function trustDomain(v: unknown, field = 'trustDomain'): string {
  if (typeof v !== 'string' || !/^[a-z0-9._-]{1,255}$/.test(v)) throw invalid(`${field} must be a trust domain name`, field);
  return v;
}

/** Deletes up to `limit` rows of `table` that expired before `before`, oldest first; resolves how many. */
async function purgeExpired(db: Db, table: 'spiffe_join_tokens' | 'spiffe_tpm_challenges', before: Date, limit: number): Promise<number> {
  const t = epochMs(before, 'before');
  const ids = (await db.selectFrom(table).select('id').where('expires_at', '<', t).orderBy('expires_at').limit(pageLimit(limit)).execute()).map((r) => r.id);
  if (ids.length === 0) return 0;
  await db.deleteFrom(table).where('id', 'in', ids).execute();
  return ids.length;
}

function toKey(r: Selectable<SpiffeJwtKeysTable>): JwtKeyRecord {
  return {
    kid: r.kid,
    trustDomain: r.trust_domain,
    publicJwk: r.public_jwk,
    privateKey: r.private_key,
    createdAt: new Date(toNumber(r.created_at)),
    activatesAt: new Date(toNumber(r.activates_at)),
    expiresAt: new Date(toNumber(r.expires_at)),
  };
}

function toBundle(r: Selectable<SpiffeBundlesTable>): BundleRecord {
  return { trustDomain: r.trust_domain, kind: r.kind === 'own' ? 'own' : 'federated', document: r.document, digest: r.digest, sequence: BigInt(r.sequence), updatedAt: new Date(toNumber(r.updated_at)) };
}

function toFederation(r: Selectable<SpiffeFederationsTable>): FederationRecord {
  return {
    trustDomain: r.trust_domain,
    url: r.url,
    profile: r.profile === 'https_spiffe' ? 'https_spiffe' : 'https_web',
    ...(r.endpoint_spiffe_id !== null && { endpointSpiffeId: r.endpoint_spiffe_id }),
    ...(r.ca_certificates !== null && { caCertificates: r.ca_certificates }),
    createdAt: new Date(toNumber(r.created_at)),
    nextRefreshAt: new Date(toNumber(r.next_refresh_at)),
    ...(r.last_success_at !== null && { lastSuccessAt: new Date(toNumber(r.last_success_at)) }),
    ...(r.last_error !== null && { lastError: r.last_error }),
  };
}

const ENTRY_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** The store's own guards on an entry (the caller validated the SPIFFE semantics). */
const MAX_SELECTORS = 64;
const MAX_SELECTOR = 1024;

function strings(v: unknown, field: string, max: number, maxLength: number): string[] {
  if (!Array.isArray(v) || v.length > max || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= maxLength)) throw invalid(`${field} must be a list of at most ${max} non-empty strings of at most ${maxLength} characters`, field);
  return [...(v as string[])];
}

function ttl(v: unknown, field: string): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw invalid(`${field} must be a positive whole number of milliseconds`, field);
  return v;
}

/** The row of an entry (without revision and times), checked. */
function entryRow(e: EntryInput) {
  if (typeof e !== 'object' || e === null) throw invalid('entry must be an object', 'entry');
  if (typeof e.id !== 'string' || !ENTRY_ID.test(e.id)) throw invalid('id must be 1–128 characters from A–Z a–z 0–9 _ -', 'id');
  const spiffeId = text(e.spiffeId, 'spiffeId');
  const parentId = text(e.parentId, 'parentId');
  const selectors = strings(e.selectors, 'selectors', MAX_SELECTORS, MAX_SELECTOR);
  if (selectors.length === 0) throw invalid('an entry has at least one selector', 'selectors');
  const sorted = [...new Set(selectors)].sort();
  if (sorted.length !== selectors.length || sorted.some((x, i) => x !== selectors[i])) throw invalid('selectors must be sorted and distinct', 'selectors');
  const selectorsJson = JSON.stringify(sorted);
  return {
    id: e.id,
    spiffe_id: spiffeId,
    parent_id: parentId,
    selectors: selectorsJson,
    match_key: createHash('sha256').update(`${spiffeId}\u0000${parentId}\u0000${selectorsJson}`).digest('hex'),
    x509_ttl_ms: ttl(e.x509TtlMs, 'x509TtlMs'),
    jwt_ttl_ms: ttl(e.jwtTtlMs, 'jwtTtlMs'),
    dns_names: JSON.stringify(strings(e.dnsNames, 'dnsNames', 64, 253)),
    admin: e.admin === true ? 1 : 0,
    downstream: e.downstream === true ? 1 : 0,
    federates_with: JSON.stringify(strings(e.federatesWith, 'federatesWith', 64, 255)),
    hint: e.hint === undefined ? null : text(e.hint, 'hint', 1024),
  };
}

function toEntry(r: Selectable<SpiffeEntriesTable>): EntryRecord {
  return {
    id: r.id,
    spiffeId: r.spiffe_id,
    parentId: r.parent_id,
    selectors: JSON.parse(r.selectors) as string[],
    ...(r.x509_ttl_ms !== null && { x509TtlMs: toNumber(r.x509_ttl_ms) }),
    ...(r.jwt_ttl_ms !== null && { jwtTtlMs: toNumber(r.jwt_ttl_ms) }),
    dnsNames: JSON.parse(r.dns_names) as string[],
    admin: Number(r.admin) === 1,
    downstream: Number(r.downstream) === 1,
    federatesWith: JSON.parse(r.federates_with) as string[],
    ...(r.hint !== null && { hint: r.hint }),
    createdAt: new Date(toNumber(r.created_at)),
    updatedAt: new Date(toNumber(r.updated_at)),
    revision: BigInt(r.revision),
    ...(r.deleted_at !== null && { deletedAt: new Date(toNumber(r.deleted_at)) }),
  };
}

/** The next entry revision, in the caller's transaction (the counters row serializes writers on every backend). */
async function nextRevision(trx: Db): Promise<number> {
  const row = await trx
    .insertInto('counters')
    .values({ name: 'spiffe-entries', value: 1 })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
    .returning('value')
    .executeTakeFirstOrThrow();
  return toNumber(row.value);
}

function duplicate(e: unknown): SignetError | undefined {
  return isUniqueViolation(e) ? new SignetError('ERR_ENTRY_EXISTS', 'an entry with this SPIFFE ID, parent ID and selectors (or this entry ID) exists') : undefined;
}

function toJoinToken(r: Selectable<SpiffeJoinTokensTable>): JoinTokenRecord {
  return {
    id: r.id,
    secretHash: r.secret_hash,
    createdAt: new Date(toNumber(r.created_at)),
    expiresAt: new Date(toNumber(r.expires_at)),
    ...(r.trust_domain !== null && { trustDomain: r.trust_domain }),
    ...(r.used_at !== null && { usedAt: new Date(toNumber(r.used_at)) }),
    ...(r.used_by !== null && { usedBy: r.used_by }),
  };
}

function toAgent(r: Selectable<SpiffeAgentsTable>): AgentRecord {
  return {
    spiffeId: r.spiffe_id,
    attestor: r.attestor,
    selectors: JSON.parse(r.selectors) as string[],
    ...(r.serial !== null && { serial: r.serial }),
    ...(r.svid_expires_at !== null && { svidExpiresAt: new Date(toNumber(r.svid_expires_at)) }),
    banned: Number(r.banned) === 1,
    createdAt: new Date(toNumber(r.created_at)),
    updatedAt: new Date(toNumber(r.updated_at)),
  };
}


/** The SPIFFE repository over `db`. */
export function spiffeRepository(db: Db, run: Runner): SpiffeRepository {
  return {
    addJwtKey: (key) =>
      run(async () => {
        if (typeof key !== 'object' || key === null) throw invalid('key must be an object', 'key');
        if (typeof key.kid !== 'string' || !KID.test(key.kid)) throw invalid('kid must be 1–128 characters from A–Z a–z 0–9 _ -', 'kid');
        const activates = epochMs(key.activatesAt, 'activatesAt');
        const expires = epochMs(key.expiresAt, 'expiresAt');
        if (expires <= activates) throw invalid('expiresAt must be after activatesAt', 'expiresAt');
        try {
          await db
            .insertInto('spiffe_jwt_keys')
            .values({
              kid: key.kid,
              trust_domain: trustDomain(key.trustDomain),
              public_jwk: text(key.publicJwk, 'publicJwk', 8192),
              private_key: text(key.privateKey, 'privateKey', 16384),
              created_at: epochMs(key.createdAt, 'createdAt'),
              activates_at: activates,
              expires_at: expires,
            })
            .execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw invalid(`key ID ${key.kid} is in use`, 'kid');
          throw e;
        }
      }),

    jwtKeys: (domain, at) =>
      run(async () => {
        const rows = await db
          .selectFrom('spiffe_jwt_keys')
          .selectAll()
          .where('trust_domain', '=', trustDomain(domain))
          .where('expires_at', '>', epochMs(at, 'at'))
          .orderBy('activates_at')
          .orderBy('kid')
          .execute();
        return rows.map(toKey);
      }),

    pruneJwtKeys: (domain, at) =>
      run(async () => {
        const r = await db.deleteFrom('spiffe_jwt_keys').where('trust_domain', '=', trustDomain(domain)).where('expires_at', '<=', epochMs(at, 'at')).executeTakeFirst();
        return Number(r.numDeletedRows);
      }),

    getBundle: (domain) =>
      run(async () => {
        if (typeof domain !== 'string') return undefined;
        const r = await db.selectFrom('spiffe_bundles').selectAll().where('trust_domain', '=', domain).executeTakeFirst();
        return r === undefined ? undefined : toBundle(r);
      }),

    listBundles: (kind) =>
      run(async () => {
        let q = db.selectFrom('spiffe_bundles').selectAll().orderBy('trust_domain');
        if (kind !== undefined) q = q.where('kind', '=', kind === 'own' ? 'own' : 'federated');
        return (await q.execute()).map(toBundle);
      }),

    publishOwnBundle: (domain, digest, render, at) =>
      run(() => {
        const td = trustDomain(domain);
        if (typeof digest !== 'string' || !DIGEST.test(digest)) throw invalid('digest must be 64 lower-case hex digits', 'digest');
        const time = epochMs(at, 'at');
        return atomic(db, async (trx) => {
          const current = await trx.selectFrom('spiffe_bundles').selectAll().where('trust_domain', '=', td).executeTakeFirst();
          if (current !== undefined && current.kind !== 'own') throw invalid(`${td} is a federated trust domain; this CA cannot also publish its bundle`, 'trustDomain');
          if (current?.digest === digest) return { bundle: toBundle(current), changed: false };
          const sequence = current === undefined ? 1n : BigInt(current.sequence) + 1n;
          const document = text(render(sequence), 'document', MAX_DOCUMENT);
          if (current === undefined) {
            const inserted = await trx
              .insertInto('spiffe_bundles')
              .values({ trust_domain: td, kind: 'own', document, digest, sequence: Number(sequence), updated_at: time })
              .onConflict((oc) => oc.column('trust_domain').doNothing())
              .executeTakeFirst();
            if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
              // Another replica published it first (PostgreSQL, concurrent transactions): take theirs.
              const theirs = await trx.selectFrom('spiffe_bundles').selectAll().where('trust_domain', '=', td).executeTakeFirstOrThrow();
              return { bundle: toBundle(theirs), changed: false };
            }
          } else {
            const updated = await trx
              .updateTable('spiffe_bundles')
              .set({ document, digest, sequence: Number(sequence), updated_at: time })
              .where('trust_domain', '=', td)
              .where('digest', '=', current.digest)
              .executeTakeFirst();
            if (Number(updated.numUpdatedRows) === 0) {
              const theirs = await trx.selectFrom('spiffe_bundles').selectAll().where('trust_domain', '=', td).executeTakeFirstOrThrow();
              return { bundle: toBundle(theirs), changed: false };
            }
          }
          await nextRevision(trx);
          return { bundle: { trustDomain: td, kind: 'own', document, digest, sequence, updatedAt: new Date(time) }, changed: true };
        });
      }),

    saveFederatedBundle: (bundle, nextRefreshAt) =>
      run(() => {
        const td = trustDomain(bundle.trustDomain);
        if (typeof bundle.digest !== 'string' || !DIGEST.test(bundle.digest)) throw invalid('digest must be 64 lower-case hex digits', 'digest');
        if (typeof bundle.sequence !== 'bigint' || bundle.sequence < 0n || bundle.sequence > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid('sequence must be a non-negative safe integer', 'sequence');
        const values = { kind: 'federated', document: text(bundle.document, 'document', MAX_DOCUMENT), digest: bundle.digest, sequence: Number(bundle.sequence), updated_at: epochMs(bundle.updatedAt, 'updatedAt') };
        const next = epochMs(nextRefreshAt, 'nextRefreshAt');
        return atomic(db, async (trx) => {
          const rel = await trx.selectFrom('spiffe_federations').select('trust_domain').where('trust_domain', '=', td).executeTakeFirst();
          if (rel === undefined) throw new SignetError('ERR_FEDERATION_NOT_FOUND', `no federation relationship with ${td}`);
          const held = await trx.selectFrom('spiffe_bundles').select(['kind', 'digest']).where('trust_domain', '=', td).executeTakeFirst();
          if (held?.kind === 'own') throw invalid(`${td} is a trust domain this CA serves`, 'trustDomain');
          // A new bundle moves the entry revision: agents waiting for changes take it at once.
          if (held?.digest !== values.digest) await nextRevision(trx);
          await trx
            .insertInto('spiffe_bundles')
            .values({ trust_domain: td, ...values })
            .onConflict((oc) => oc.column('trust_domain').doUpdateSet(values))
            .execute();
          await trx.updateTable('spiffe_federations').set({ next_refresh_at: next, last_success_at: values.updated_at, last_error: null }).where('trust_domain', '=', td).execute();
        });
      }),

    addFederation: (f) =>
      run(async () => {
        if (typeof f !== 'object' || f === null) throw invalid('federation must be an object', 'federation');
        if (f.profile !== 'https_web' && f.profile !== 'https_spiffe') throw invalid('profile must be https_web or https_spiffe', 'profile');
        if (f.profile === 'https_spiffe' && f.endpointSpiffeId === undefined) throw invalid('an https_spiffe relationship needs the endpoint SPIFFE ID', 'endpointSpiffeId');
        const row = {
          trust_domain: trustDomain(f.trustDomain),
          url: text(f.url, 'url'),
          profile: f.profile,
          endpoint_spiffe_id: f.endpointSpiffeId === undefined ? null : text(f.endpointSpiffeId, 'endpointSpiffeId'),
          ca_certificates: f.caCertificates === undefined ? null : text(f.caCertificates, 'caCertificates', MAX_DOCUMENT),
          created_at: epochMs(f.createdAt, 'createdAt'),
          next_refresh_at: epochMs(f.nextRefreshAt, 'nextRefreshAt'),
          last_success_at: null,
          last_error: null,
        };
        const r = await db.insertInto('spiffe_federations').values(row).onConflict((oc) => oc.column('trust_domain').doNothing()).executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'added' : 'exists';
      }),

    getFederation: (domain) =>
      run(async () => {
        if (typeof domain !== 'string') return undefined;
        const r = await db.selectFrom('spiffe_federations').selectAll().where('trust_domain', '=', domain).executeTakeFirst();
        return r === undefined ? undefined : toFederation(r);
      }),

    listFederations: () => run(async () => (await db.selectFrom('spiffe_federations').selectAll().orderBy('trust_domain').execute()).map(toFederation)),

    dueFederations: (at, limit) =>
      run(async () =>
        (await db.selectFrom('spiffe_federations').selectAll().where('next_refresh_at', '<=', epochMs(at, 'at')).orderBy('next_refresh_at').orderBy('trust_domain').limit(pageLimit(limit)).execute()).map(toFederation),
      ),

    recordFederationFailure: (domain, error, nextRefreshAt) =>
      run(async () => {
        await db
          .updateTable('spiffe_federations')
          .set({ last_error: text(error, 'error', 1024), next_refresh_at: epochMs(nextRefreshAt, 'nextRefreshAt') })
          .where('trust_domain', '=', trustDomain(domain))
          .execute();
      }),

    createEntry: (entry, at) =>
      run(() => {
        const row = entryRow(entry);
        const time = epochMs(at, 'at');
        return atomic(db, async (trx) => {
          const revision = await nextRevision(trx);
          try {
            await trx.insertInto('spiffe_entries').values({ ...row, created_at: time, updated_at: time, revision, deleted_at: null }).execute();
          } catch (e) {
            throw duplicate(e) ?? e;
          }
          await trx.insertInto('spiffe_entry_selectors').values((JSON.parse(row.selectors) as string[]).map((selector) => ({ entry_id: row.id, selector }))).execute();
          return toEntry({ ...row, created_at: time, updated_at: time, revision, deleted_at: null });
        });
      }),

    getEntry: (id) =>
      run(async () => {
        if (typeof id !== 'string' || !ENTRY_ID.test(id)) return undefined;
        const r = await db.selectFrom('spiffe_entries').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
        return r === undefined ? undefined : toEntry(r);
      }),

    listEntries: (filter, page = {}) =>
      run(async () => {
        const limit = pageLimit(page.limit);
        let q = db.selectFrom('spiffe_entries').selectAll('spiffe_entries').where('spiffe_entries.deleted_at', 'is', null);
        if (filter.spiffeId !== undefined) q = q.where('spiffe_entries.spiffe_id', '=', text(filter.spiffeId, 'spiffeId'));
        if (filter.parentId !== undefined) q = q.where('spiffe_entries.parent_id', '=', text(filter.parentId, 'parentId'));
        if (filter.selector !== undefined) {
          const selector = text(filter.selector, 'selector', MAX_SELECTOR);
          q = q.where('spiffe_entries.id', 'in', db.selectFrom('spiffe_entry_selectors').select('entry_id').where('selector', '=', selector));
        }
        if (page.cursor !== undefined) {
          if (typeof page.cursor !== 'string' || !ENTRY_ID.test(page.cursor)) throw badQuery('cursor is not one this store handed out', 'cursor');
          q = q.where('spiffe_entries.id', '>', page.cursor);
        }
        const rows = await q.orderBy('spiffe_entries.id').limit(limit + 1).execute();
        const items = rows.slice(0, limit).map(toEntry);
        return rows.length > limit ? { items, nextCursor: items[items.length - 1]?.id ?? '' } : { items };
      }),

    updateEntry: (entry, at, expectedRevision) =>
      run(() => {
        const row = entryRow(entry);
        const time = epochMs(at, 'at');
        return atomic(db, async (trx) => {
          const current = await trx.selectFrom('spiffe_entries').selectAll().where('id', '=', row.id).where('deleted_at', 'is', null).executeTakeFirst();
          if (current === undefined) return undefined;
          if (expectedRevision !== undefined && BigInt(current.revision) !== expectedRevision) throw new SignetError('ERR_ENTRY_CONFLICT', `entry ${row.id} changed since revision ${expectedRevision} (now ${BigInt(current.revision)})`, { hint: 'read it again and repeat the change' });
          const revision = await nextRevision(trx);
          try {
            await trx.updateTable('spiffe_entries').set({ ...row, updated_at: time, revision }).where('id', '=', row.id).execute();
          } catch (e) {
            throw duplicate(e) ?? e;
          }
          await trx.deleteFrom('spiffe_entry_selectors').where('entry_id', '=', row.id).execute();
          await trx.insertInto('spiffe_entry_selectors').values((JSON.parse(row.selectors) as string[]).map((selector) => ({ entry_id: row.id, selector }))).execute();
          return toEntry({ ...current, ...row, updated_at: time, revision });
        });
      }),

    deleteEntry: (id, at) =>
      run(() => {
        const time = epochMs(at, 'at');
        if (typeof id !== 'string' || !ENTRY_ID.test(id)) return Promise.resolve(undefined);
        return atomic(db, async (trx) => {
          const current = await trx.selectFrom('spiffe_entries').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
          if (current === undefined) return undefined;
          const revision = await nextRevision(trx);
          await trx.updateTable('spiffe_entries').set({ deleted_at: time, updated_at: time, revision }).where('id', '=', id).execute();
          await trx.deleteFrom('spiffe_entry_selectors').where('entry_id', '=', id).execute();
          return toEntry({ ...current, deleted_at: time, updated_at: time, revision });
        });
      }),

    entriesSince: (revision, limit) =>
      run(async () => {
        if (typeof revision !== 'bigint' || revision < 0n) throw badQuery('revision must be a non-negative bigint', 'revision');
        const rows = await db.selectFrom('spiffe_entries').selectAll().where('revision', '>', Number(revision)).orderBy('revision').limit(pageLimit(limit)).execute();
        return rows.map(toEntry);
      }),

    entryRevision: () =>
      run(async () => {
        const r = await db.selectFrom('counters').select('value').where('name', '=', 'spiffe-entries').executeTakeFirst();
        return r === undefined ? 0n : BigInt(r.value);
      }),

    purgeDeletedEntries: (before, limit) =>
      run(async () => {
        const t = epochMs(before, 'before');
        const ids = (await db.selectFrom('spiffe_entries').select('id').where('deleted_at', 'is not', null).where('deleted_at', '<', t).orderBy('deleted_at').limit(pageLimit(limit)).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        await db.deleteFrom('spiffe_entries').where('id', 'in', ids).execute();
        return ids.length;
      }),

    addJoinToken: (t) =>
      run(async () => {
        if (typeof t.id !== 'string' || !ENTRY_ID.test(t.id)) throw invalid('id must be 1–128 characters from A–Z a–z 0–9 _ -', 'id');
        if (typeof t.secretHash !== 'string' || !DIGEST.test(t.secretHash)) throw invalid('secretHash must be 64 lower-case hex digits', 'secretHash');
        try {
          const trustDomain = t.trustDomain === undefined ? null : text(t.trustDomain, 'trustDomain', 255);
          await db.insertInto('spiffe_join_tokens').values({ id: t.id, secret_hash: t.secretHash, created_at: epochMs(t.createdAt, 'createdAt'), expires_at: epochMs(t.expiresAt, 'expiresAt'), used_at: null, used_by: null, trust_domain: trustDomain }).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw invalid(`join token ${t.id} exists`, 'id');
          throw e;
        }
      }),

    useJoinToken: (id, secretHash, at, agentId, trustDomain) =>
      run(() => {
        const time = epochMs(at, 'at');
        if (typeof id !== 'string' || !ENTRY_ID.test(id) || typeof secretHash !== 'string') return Promise.resolve('unknown' as const);
        return atomic(db, async (trx) => {
          const r = await trx
            .updateTable('spiffe_join_tokens')
            .set({ used_at: time, used_by: text(agentId, 'agentId') })
            .where('id', '=', id)
            .where('secret_hash', '=', secretHash)
            .where('used_at', 'is', null)
            .where('expires_at', '>', time)
            .where((eb) => eb.or([eb('trust_domain', 'is', null), eb('trust_domain', '=', text(trustDomain, 'trustDomain', 255))]))
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) === 1) return 'used' as const;
          const t = await trx.selectFrom('spiffe_join_tokens').selectAll().where('id', '=', id).executeTakeFirst();
          if (t === undefined || t.secret_hash !== secretHash) return 'unknown' as const;
          if (t.used_at !== null) return 'already-used' as const;
          return toNumber(t.expires_at) <= time ? ('expired' as const) : ('wrong-trust-domain' as const);
        });
      }),

    purgeJoinTokens: (before, limit) => run(() => purgeExpired(db, 'spiffe_join_tokens', before, limit)),

    addTpmChallenge: (c) =>
      run(async () => {
        if (typeof c.id !== 'string' || !ENTRY_ID.test(c.id)) throw invalid('id must be 1–128 characters from A–Z a–z 0–9 _ -', 'id');
        if (typeof c.secretHash !== 'string' || !DIGEST.test(c.secretHash)) throw invalid('secretHash must be 64 lower-case hex digits', 'secretHash');
        try {
          await db.insertInto('spiffe_tpm_challenges').values({ id: c.id, secret_hash: c.secretHash, created_at: epochMs(c.createdAt, 'createdAt'), expires_at: epochMs(c.expiresAt, 'expiresAt') }).execute();
        } catch (e) {
          if (isUniqueViolation(e)) throw invalid(`TPM challenge ${c.id} exists`, 'id');
          throw e;
        }
      }),

    takeTpmChallenge: (id, at) =>
      run(async () => {
        const time = epochMs(at, 'at');
        if (typeof id !== 'string' || !ENTRY_ID.test(id)) return 'unknown' as const;
        // DELETE … RETURNING: of racing callers, the one whose delete removed the row gets it.
        const r = await db.deleteFrom('spiffe_tpm_challenges').where('id', '=', id).returning(['secret_hash', 'expires_at']).executeTakeFirst();
        if (r === undefined) return 'unknown' as const;
        return toNumber(r.expires_at) > time ? { secretHash: r.secret_hash } : ('expired' as const);
      }),

    purgeTpmChallenges: (before, limit) => run(() => purgeExpired(db, 'spiffe_tpm_challenges', before, limit)),

    listJoinTokens: () => run(async () => (await db.selectFrom('spiffe_join_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toJoinToken)),

    attestAgent: (a, at) =>
      run(() => {
        const time = epochMs(at, 'at');
        const id = text(a.spiffeId, 'spiffeId');
        const values = {
          attestor: text(a.attestor, 'attestor', 64),
          selectors: JSON.stringify(strings(a.selectors, 'selectors', MAX_SELECTORS, MAX_SELECTOR)),
          serial: a.serial === undefined ? null : text(a.serial, 'serial', 64),
          svid_expires_at: a.svidExpiresAt === undefined ? null : epochMs(a.svidExpiresAt, 'svidExpiresAt'),
          updated_at: time,
        };
        return atomic(db, async (trx) => {
          const current = await trx.selectFrom('spiffe_agents').selectAll().where('spiffe_id', '=', id).executeTakeFirst();
          if (current !== undefined && Number(current.banned) === 1) throw new SignetError('ERR_AGENT_BANNED', `agent ${id} is banned`, { hint: 'signet agent ban --undo, or evict it' });
          if (current === undefined) {
            const row = { spiffe_id: id, ...values, banned: 0, created_at: time };
            await trx.insertInto('spiffe_agents').values(row).execute();
            return toAgent(row);
          }
          await trx.updateTable('spiffe_agents').set(values).where('spiffe_id', '=', id).execute();
          return toAgent({ ...current, ...values });
        });
      }),

    getAgent: (id) =>
      run(async () => {
        if (typeof id !== 'string') return undefined;
        const r = await db.selectFrom('spiffe_agents').selectAll().where('spiffe_id', '=', id).executeTakeFirst();
        return r === undefined ? undefined : toAgent(r);
      }),

    listAgents: () => run(async () => (await db.selectFrom('spiffe_agents').selectAll().orderBy('spiffe_id').execute()).map(toAgent)),

    renewAgent: (id, serial, expiresAt, at) =>
      run(async () => {
        const r = await db
          .updateTable('spiffe_agents')
          .set({ serial: text(serial, 'serial', 64), svid_expires_at: epochMs(expiresAt, 'svidExpiresAt'), updated_at: epochMs(at, 'at') })
          .where('spiffe_id', '=', text(id, 'spiffeId'))
          .where('banned', '=', 0)
          .executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      }),

    setAgentBanned: (id, banned, at) =>
      run(async () => {
        const r = await db.updateTable('spiffe_agents').set({ banned: banned ? 1 : 0, updated_at: epochMs(at, 'at') }).where('spiffe_id', '=', text(id, 'spiffeId')).executeTakeFirst();
        return Number(r.numUpdatedRows) === 1;
      }),

    deleteAgent: (id) =>
      run(async () => {
        const r = await db.deleteFrom('spiffe_agents').where('spiffe_id', '=', text(id, 'spiffeId')).executeTakeFirst();
        return Number(r.numDeletedRows) === 1;
      }),

    removeFederation: (domain) =>
      run(() => {
        const td = trustDomain(domain);
        return atomic(db, async (trx) => {
          const r = await trx.deleteFrom('spiffe_federations').where('trust_domain', '=', td).executeTakeFirst();
          const b = await trx.deleteFrom('spiffe_bundles').where('trust_domain', '=', td).where('kind', '=', 'federated').executeTakeFirst();
          // The bundle withdrawn moves the entry revision: agents drop it at once, not at their next poll.
          if (Number(b.numDeletedRows) > 0) await nextRevision(trx);
          return Number(r.numDeletedRows) > 0;
        });
      }),
  };
}
