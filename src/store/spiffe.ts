/**
 * The SPIFFE repository (store.ts `SpiffeRepository`) over Kysely, for every SQL backend: the
 * JWT-SVID signing keys every replica signs with, the bundles the CA publishes and fetches, and
 * the federation relationships. Every replica serves the stored bundle document, so they all
 * serve the same one with the same sequence number.
 */
import type { Selectable } from 'kysely';
import { SignetError } from '../core/errors.js';
import type { SpiffeBundlesTable, SpiffeFederationsTable, SpiffeJwtKeysTable } from './schema.js';
import type { BundleRecord, FederationRecord, JwtKeyRecord, SpiffeRepository } from './store.js';
import { atomic, toNumber, type Db, type Runner } from './sql.js';
import { epochMs, pageLimit } from './validation.js';

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

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
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
          const own = await trx.selectFrom('spiffe_bundles').select('kind').where('trust_domain', '=', td).executeTakeFirst();
          if (own?.kind === 'own') throw invalid(`${td} is a trust domain this CA serves`, 'trustDomain');
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

    removeFederation: (domain) =>
      run(() => {
        const td = trustDomain(domain);
        return atomic(db, async (trx) => {
          const r = await trx.deleteFrom('spiffe_federations').where('trust_domain', '=', td).executeTakeFirst();
          await trx.deleteFrom('spiffe_bundles').where('trust_domain', '=', td).where('kind', '=', 'federated').execute();
          return Number(r.numDeletedRows) > 0;
        });
      }),
  };
}
