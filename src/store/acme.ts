/**
 * The ACME repository (store.ts `AcmeRepository`) over Kysely, for every SQL backend. Each state
 * change is one UPDATE … WHERE status = <expected>: the row count says whether this caller won,
 * so concurrent requests on any replica never both move one object (RFC 8555 §7.1.6).
 */
import type { Selectable } from 'kysely';
import { SignetError } from '../core/errors.js';
import type { AcmeAccountsTable, AcmeAuthorizationsTable, AcmeChallengesTable, AcmeEabKeysTable, AcmeOrdersTable } from './schema.js';
import type {
  AcmeAccount,
  AcmeAccountStatus,
  AcmeAuthorization,
  AcmeAuthorizationStatus,
  AcmeChallenge,
  AcmeChallengeStatus,
  AcmeEabKey,
  AcmeIdentifier,
  AcmeOrder,
  AcmeOrderStatus,
  AcmeProblemRecord,
  AcmeRepository,
  Page,
  PageRequest,
} from './store.js';
import { badQuery, checkSerial, epochMs, pageLimit } from './validation.js';
import { atomic, isUniqueViolation, toNumber as n, type Db, type Runner } from './sql.js';


const ACCOUNT_STATUS: ReadonlySet<string> = new Set<AcmeAccountStatus>(['valid', 'deactivated', 'revoked']);
const ORDER_STATUS: ReadonlySet<string> = new Set<AcmeOrderStatus>(['pending', 'processing', 'valid', 'invalid']);
const AUTHZ_STATUS: ReadonlySet<string> = new Set<AcmeAuthorizationStatus>(['pending', 'valid', 'invalid', 'deactivated', 'revoked']);
const CHALLENGE_STATUS: ReadonlySet<string> = new Set<AcmeChallengeStatus>(['pending', 'processing', 'valid', 'invalid']);
/** Ids the ACME layer draws: URL-safe, bounded. */
const ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Most ids one lookup takes (an order has at most this many authorizations). */
const MAX_IDS = 1000;

function invalid(message: string, field: string): SignetError {
  return new SignetError('ERR_STORE_INVALID_RECORD', message, { detail: { field } });
}

function id(v: unknown, field: string): string {
  if (typeof v !== 'string' || !ID.test(v)) throw invalid(`${field} must be an id of 1–128 characters from A–Z a–z 0–9 _ -`, field);
  return v;
}

/** An id in a read: a malformed one matches nothing (ids come from URLs). */
function lookupId(v: unknown): string | undefined {
  return typeof v === 'string' && ID.test(v) ? v : undefined;
}

function text(v: unknown, field: string, max = 1024): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(`${field} must be a non-empty string of at most ${max} characters`, field);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: ReadonlySet<string>, field: string): T {
  if (typeof v !== 'string' || !allowed.has(v)) throw invalid(`${field} must be one of ${[...allowed].join(', ')}`, field);
  return v as T;
}

function json(v: unknown, field: string): string {
  try {
    const s = JSON.stringify(v);
    if (s === undefined || s.length > 64 * 1024) throw new Error('too large');
    return s;
  } catch {
    throw invalid(`${field} must be JSON of at most 64 KiB`, field);
  }
}

function identifier(v: unknown, field: string): AcmeIdentifier {
  const i = v as AcmeIdentifier | undefined;
  if (typeof i !== 'object' || i === null || (i.type !== 'dns' && i.type !== 'ip')) throw invalid(`${field} must be a dns or ip identifier`, field);
  text(i.value, `${field}.value`, 255);
  return { type: i.type, value: i.value };
}

function date(v: number | string | bigint | null): Date | undefined {
  return v === null ? undefined : new Date(n(v));
}

function problem(v: string | null): AcmeProblemRecord | undefined {
  return v === null ? undefined : (JSON.parse(v) as AcmeProblemRecord);
}

function toAccount(r: Selectable<AcmeAccountsTable>): AcmeAccount {
  return {
    id: r.id,
    provisioner: r.provisioner,
    keyThumbprint: r.key_thumbprint,
    jwk: JSON.parse(r.jwk) as Record<string, unknown>,
    status: r.status as AcmeAccountStatus,
    contact: JSON.parse(r.contact) as string[],
    termsAgreed: n(r.terms_agreed) === 1,
    ...(r.eab_key_id !== null && { eabKeyId: r.eab_key_id }),
    createdAt: new Date(n(r.created_at)),
  };
}

function toOrder(r: Selectable<AcmeOrdersTable>): AcmeOrder {
  const error = problem(r.error);
  const notBefore = date(r.not_before);
  const notAfter = date(r.not_after);
  return {
    id: r.id,
    accountId: r.account_id,
    status: r.status as AcmeOrderStatus,
    identifiers: JSON.parse(r.identifiers) as AcmeIdentifier[],
    authorizations: JSON.parse(r.authorizations) as string[],
    ...(notBefore !== undefined && { notBefore }),
    ...(notAfter !== undefined && { notAfter }),
    expiresAt: new Date(n(r.expires_at)),
    ...(error !== undefined && { error }),
    ...(r.certificate_serial !== null && { certificateSerial: r.certificate_serial }),
    ...(r.replaces !== null && { replaces: r.replaces }),
    createdAt: new Date(n(r.created_at)),
  };
}

function toChallenge(r: Selectable<AcmeChallengesTable>): AcmeChallenge {
  const error = problem(r.error);
  const validatedAt = date(r.validated_at);
  return {
    id: r.id,
    authorizationId: r.authorization_id,
    type: r.type,
    token: r.token,
    status: r.status as AcmeChallengeStatus,
    ...(validatedAt !== undefined && { validatedAt }),
    ...(error !== undefined && { error }),
    updatedAt: new Date(n(r.updated_at)),
  };
}

function toAuthorization(r: Selectable<AcmeAuthorizationsTable>, challenges: readonly AcmeChallenge[]): AcmeAuthorization {
  return {
    id: r.id,
    accountId: r.account_id,
    identifier: { type: r.identifier_type as AcmeIdentifier['type'], value: r.identifier_value },
    wildcard: n(r.wildcard) === 1,
    status: r.status as AcmeAuthorizationStatus,
    expiresAt: new Date(n(r.expires_at)),
    createdAt: new Date(n(r.created_at)),
    challenges,
  };
}

function toEabKey(r: Selectable<AcmeEabKeysTable>): AcmeEabKey {
  const boundAt = date(r.bound_at);
  return {
    keyId: r.key_id,
    provisioner: r.provisioner,
    ...(r.reference !== null && { reference: r.reference }),
    hmacKey: new Uint8Array(r.hmac_key),
    ...(r.account_id !== null && { accountId: r.account_id }),
    createdAt: new Date(n(r.created_at)),
    ...(boundAt !== undefined && { boundAt }),
  };
}

function encodeOrderCursor(createdAt: number, orderId: string): string {
  return Buffer.from(`o:${createdAt}:${orderId}`, 'utf8').toString('base64url');
}

function decodeOrderCursor(cursor: unknown): { createdAt: number; id: string } {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 300 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badQuery('malformed cursor', 'cursor');
  const m = /^o:(\d{1,16}):([A-Za-z0-9_-]{1,128})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const createdAt = Number(m?.[1]);
  if (m === null || !Number.isSafeInteger(createdAt)) throw badQuery('malformed cursor', 'cursor');
  return { createdAt, id: m[2] as string };
}

async function challengesOf(db: Db, authorizationIds: readonly string[]): Promise<Map<string, AcmeChallenge[]>> {
  const out = new Map<string, AcmeChallenge[]>();
  if (authorizationIds.length === 0) return out;
  const rows = await db.selectFrom('acme_challenges').selectAll().where('authorization_id', 'in', authorizationIds).orderBy('authorization_id').orderBy('type').execute();
  for (const r of rows) {
    const list = out.get(r.authorization_id) ?? [];
    list.push(toChallenge(r));
    out.set(r.authorization_id, list);
  }
  return out;
}

/** The ACME repository on `db` (the store or one transaction). */
export function acmeRepository(db: Db, run: Runner): AcmeRepository {
  const authorizations = async (ids: readonly string[]): Promise<AcmeAuthorization[]> => {
    const wanted = ids.map(lookupId).filter((i): i is string => i !== undefined);
    if (wanted.length === 0) return [];
    if (wanted.length > MAX_IDS) throw badQuery(`at most ${MAX_IDS} ids`, 'ids');
    const rows = await db.selectFrom('acme_authorizations').selectAll().where('id', 'in', wanted).execute();
    const challenges = await challengesOf(db, rows.map((r) => r.id));
    const byId = new Map(rows.map((r) => [r.id, toAuthorization(r, challenges.get(r.id) ?? [])]));
    return wanted.map((i) => byId.get(i)).filter((a): a is AcmeAuthorization => a !== undefined);
  };

  return {
    createAccount: (account) =>
      run(() => {
        const values = {
          id: id(account.id, 'id'),
          provisioner: text(account.provisioner, 'provisioner', 64),
          key_thumbprint: text(account.keyThumbprint, 'keyThumbprint', 128),
          jwk: json(account.jwk, 'jwk'),
          status: oneOf<AcmeAccountStatus>(account.status, ACCOUNT_STATUS, 'status'),
          contact: json(account.contact, 'contact'),
          terms_agreed: account.termsAgreed ? 1 : 0,
          eab_key_id: account.eabKeyId === undefined ? null : id(account.eabKeyId, 'eabKeyId'),
          created_at: epochMs(account.createdAt, 'createdAt'),
        };
        return atomic(db, async (trx) => {
          // The unique (provisioner, key) index decides between concurrent registrations of one key.
          const inserted = await trx.insertInto('acme_accounts').values(values).onConflict((oc) => oc.doNothing()).executeTakeFirst();
          if (inserted.numInsertedOrUpdatedRows === 1n) return { account: toAccount(values), created: true };
          const existing = await trx.selectFrom('acme_accounts').selectAll().where('provisioner', '=', values.provisioner).where('key_thumbprint', '=', values.key_thumbprint).executeTakeFirst();
          if (existing === undefined) throw new SignetError('ERR_INTERNAL', `account id ${values.id} exists already`);
          return { account: toAccount(existing), created: false };
        });
      }),

    getAccount: (accountId) =>
      run(async () => {
        const key = lookupId(accountId);
        if (key === undefined) return undefined;
        const r = await db.selectFrom('acme_accounts').selectAll().where('id', '=', key).executeTakeFirst();
        return r === undefined ? undefined : toAccount(r);
      }),

    findAccountByKey: (provisioner, keyThumbprint) =>
      run(async () => {
        const r = await db
          .selectFrom('acme_accounts')
          .selectAll()
          .where('provisioner', '=', text(provisioner, 'provisioner', 64))
          .where('key_thumbprint', '=', text(keyThumbprint, 'keyThumbprint', 128))
          .executeTakeFirst();
        return r === undefined ? undefined : toAccount(r);
      }),

    updateAccount: (accountId, change) =>
      run(() => {
        const key = id(accountId, 'id');
        const set: Partial<{ contact: string; status: string; jwk: string; key_thumbprint: string }> = {};
        if (change.contact !== undefined) set.contact = json(change.contact, 'contact');
        if (change.status !== undefined) set.status = oneOf<AcmeAccountStatus>(change.status, ACCOUNT_STATUS, 'status');
        if ((change.jwk === undefined) !== (change.keyThumbprint === undefined)) throw invalid('jwk and keyThumbprint change together', 'jwk');
        if (change.jwk !== undefined) {
          set.jwk = json(change.jwk, 'jwk');
          set.key_thumbprint = text(change.keyThumbprint, 'keyThumbprint', 128);
        }
        return atomic(db, async (trx) => {
          const current = await trx.selectFrom('acme_accounts').selectAll().where('id', '=', key).executeTakeFirst();
          if (current === undefined) return { result: 'not-found' as const };
          if (set.key_thumbprint !== undefined) {
            const other = await trx
              .selectFrom('acme_accounts')
              .select('id')
              .where('provisioner', '=', current.provisioner)
              .where('key_thumbprint', '=', set.key_thumbprint)
              .executeTakeFirst();
            if (other !== undefined) return { result: 'key-in-use' as const };
          }
          if (Object.keys(set).length === 0) return current.status === 'valid' ? { result: 'updated' as const, account: toAccount(current) } : { result: 'not-valid' as const };
          const rows = await trx.updateTable('acme_accounts').set(set).where('id', '=', key).where('status', '=', 'valid').returningAll().execute().catch((e: unknown) => {
            // A concurrent key change to the same key lost the unique index race.
            if (set.key_thumbprint !== undefined && isUniqueViolation(e)) return 'key-in-use' as const;
            throw e;
          });
          if (rows === 'key-in-use') return { result: 'key-in-use' as const };
          const row = rows[0];
          return row === undefined ? { result: 'not-valid' as const } : { result: 'updated' as const, account: toAccount(row) };
        });
      }),

    createOrder: (order, newAuthorizations) =>
      run(() => {
        const values = {
          id: id(order.id, 'id'),
          account_id: id(order.accountId, 'accountId'),
          status: oneOf<AcmeOrderStatus>(order.status, ORDER_STATUS, 'status'),
          identifiers: json(order.identifiers.map((i, k) => identifier(i, `identifiers[${k}]`)), 'identifiers'),
          authorizations: json(order.authorizations.map((a, k) => id(a, `authorizations[${k}]`)), 'authorizations'),
          not_before: order.notBefore === undefined ? null : epochMs(order.notBefore, 'notBefore'),
          not_after: order.notAfter === undefined ? null : epochMs(order.notAfter, 'notAfter'),
          expires_at: epochMs(order.expiresAt, 'expiresAt'),
          error: order.error === undefined ? null : json(order.error, 'error'),
          certificate_serial: order.certificateSerial ?? null,
          replaces: order.replaces ?? null,
          created_at: epochMs(order.createdAt, 'createdAt'),
        };
        const authzRows = newAuthorizations.map((a, k) => ({
          id: id(a.id, `authorizations[${k}].id`),
          account_id: id(a.accountId, `authorizations[${k}].accountId`),
          identifier_type: identifier(a.identifier, `authorizations[${k}].identifier`).type,
          identifier_value: a.identifier.value,
          wildcard: a.wildcard ? 1 : 0,
          status: oneOf<AcmeAuthorizationStatus>(a.status, AUTHZ_STATUS, `authorizations[${k}].status`),
          expires_at: epochMs(a.expiresAt, `authorizations[${k}].expiresAt`),
          created_at: epochMs(a.createdAt, `authorizations[${k}].createdAt`),
        }));
        const challengeRows = newAuthorizations.flatMap((a, k) =>
          a.challenges.map((c, j) => ({
            id: id(c.id, `authorizations[${k}].challenges[${j}].id`),
            authorization_id: a.id,
            type: text(c.type, 'type', 32),
            token: text(c.token, 'token', 128),
            status: oneOf<AcmeChallengeStatus>(c.status, CHALLENGE_STATUS, 'status'),
            validated_at: c.validatedAt === undefined ? null : epochMs(c.validatedAt, 'validatedAt'),
            error: c.error === undefined ? null : json(c.error, 'error'),
            updated_at: epochMs(c.updatedAt, 'updatedAt'),
          })),
        );
        return atomic(db, async (trx) => {
          if (authzRows.length > 0) await trx.insertInto('acme_authorizations').values(authzRows).execute();
          if (challengeRows.length > 0) await trx.insertInto('acme_challenges').values(challengeRows).execute();
          await trx.insertInto('acme_orders').values(values).execute();
        });
      }),

    getOrder: (orderId) =>
      run(async () => {
        const key = lookupId(orderId);
        if (key === undefined) return undefined;
        const r = await db.selectFrom('acme_orders').selectAll().where('id', '=', key).executeTakeFirst();
        return r === undefined ? undefined : toOrder(r);
      }),

    listOrders: (accountId, page: PageRequest = {}) =>
      run(async (): Promise<Page<AcmeOrder>> => {
        const limit = pageLimit(page.limit);
        const key = lookupId(accountId);
        if (key === undefined) return { items: [] };
        let q = db.selectFrom('acme_orders').selectAll().where('account_id', '=', key);
        if (page.cursor !== undefined) {
          const c = decodeOrderCursor(page.cursor);
          q = q.where((eb) => eb.or([eb('created_at', '>', c.createdAt), eb.and([eb('created_at', '=', c.createdAt), eb('id', '>', c.id)])]));
        }
        const rows = await q.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
        const items = rows.slice(0, limit).map(toOrder);
        const last = items.at(-1);
        return rows.length > limit && last !== undefined ? { items, nextCursor: encodeOrderCursor(last.createdAt.getTime(), last.id) } : { items };
      }),

    updateOrder: (orderId, from, change) =>
      run(async () => {
        const key = id(orderId, 'id');
        oneOf(from, ORDER_STATUS, 'from');
        const set = {
          status: oneOf<AcmeOrderStatus>(change.status, ORDER_STATUS, 'status'),
          ...(change.error !== undefined && { error: json(change.error, 'error') }),
          ...(change.certificateSerial !== undefined && { certificate_serial: text(change.certificateSerial, 'certificateSerial', 40) }),
        };
        const r = await db.updateTable('acme_orders').set(set).where('id', '=', key).where('status', '=', from).executeTakeFirst();
        return r.numUpdatedRows === 1n;
      }),

    getAuthorization: (authzId) => run(async () => (await authorizations([authzId]))[0]),

    getAuthorizations: (ids) => run(() => authorizations(ids)),

    findValidAuthorization: (accountId, ident, wildcard, validAt) =>
      run(async () => {
        const key = lookupId(accountId);
        if (key === undefined) return undefined;
        const i = identifier(ident, 'identifier');
        const r = await db
          .selectFrom('acme_authorizations')
          .selectAll()
          .where('account_id', '=', key)
          .where('identifier_type', '=', i.type)
          .where('identifier_value', '=', i.value)
          .where('status', '=', 'valid')
          .where('expires_at', '>', epochMs(validAt, 'validAt'))
          .where('wildcard', '=', wildcard ? 1 : 0)
          .orderBy('expires_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (r === undefined) return undefined;
        const challenges = await challengesOf(db, [r.id]);
        return toAuthorization(r, challenges.get(r.id) ?? []);
      }),

    updateAuthorization: (authzId, from, to) =>
      run(async () => {
        const r = await db
          .updateTable('acme_authorizations')
          .set({ status: oneOf<AcmeAuthorizationStatus>(to, AUTHZ_STATUS, 'to') })
          .where('id', '=', id(authzId, 'id'))
          .where('status', '=', oneOf<AcmeAuthorizationStatus>(from, AUTHZ_STATUS, 'from'))
          .executeTakeFirst();
        return r.numUpdatedRows === 1n;
      }),

    getChallenge: (challengeId) =>
      run(async () => {
        const key = lookupId(challengeId);
        if (key === undefined) return undefined;
        const r = await db.selectFrom('acme_challenges').selectAll().where('id', '=', key).executeTakeFirst();
        return r === undefined ? undefined : toChallenge(r);
      }),

    updateChallenge: (challengeId, from, change) =>
      run(async () => {
        const r = await db
          .updateTable('acme_challenges')
          .set({
            status: oneOf<AcmeChallengeStatus>(change.status, CHALLENGE_STATUS, 'status'),
            updated_at: epochMs(change.at, 'at'),
            error: change.error === undefined ? null : json(change.error, 'error'),
            ...(change.validatedAt !== undefined && { validated_at: epochMs(change.validatedAt, 'validatedAt') }),
          })
          .where('id', '=', id(challengeId, 'id'))
          .where('status', '=', oneOf<AcmeChallengeStatus>(from, CHALLENGE_STATUS, 'from'))
          .executeTakeFirst();
        return r.numUpdatedRows === 1n;
      }),

    staleChallenges: (before, limit) =>
      run(async () => {
        const rows = await db
          .selectFrom('acme_challenges')
          .selectAll()
          .where('status', '=', 'processing')
          .where('updated_at', '<', epochMs(before, 'before'))
          .orderBy('updated_at')
          .limit(pageLimit(limit))
          .execute();
        return rows.map(toChallenge);
      }),

    addEabKey: (key) =>
      run(async () => {
        if (!(key.hmacKey instanceof Uint8Array) || key.hmacKey.length < 16 || key.hmacKey.length > 128) throw invalid('hmacKey must be 16–128 bytes', 'hmacKey');
        await db
          .insertInto('acme_eab_keys')
          .values({
            key_id: id(key.keyId, 'keyId'),
            provisioner: text(key.provisioner, 'provisioner', 64),
            reference: key.reference === undefined ? null : text(key.reference, 'reference', 256),
            hmac_key: Buffer.from(key.hmacKey),
            account_id: null,
            created_at: epochMs(key.createdAt, 'createdAt'),
            bound_at: null,
          })
          .execute();
      }),

    getEabKey: (keyId) =>
      run(async () => {
        const key = lookupId(keyId);
        if (key === undefined) return undefined;
        const r = await db.selectFrom('acme_eab_keys').selectAll().where('key_id', '=', key).executeTakeFirst();
        return r === undefined ? undefined : toEabKey(r);
      }),

    listEabKeys: (provisioner) =>
      run(async () => {
        let q = db.selectFrom('acme_eab_keys').selectAll();
        if (provisioner !== undefined) q = q.where('provisioner', '=', text(provisioner, 'provisioner', 64));
        const rows = await q.orderBy('created_at').orderBy('key_id').execute();
        return rows.map(toEabKey);
      }),

    bindEabKey: (keyId, accountId, at) =>
      run(async () => {
        const r = await db
          .updateTable('acme_eab_keys')
          .set({ account_id: id(accountId, 'accountId'), bound_at: epochMs(at, 'at') })
          .where('key_id', '=', id(keyId, 'keyId'))
          .where('account_id', 'is', null)
          .executeTakeFirst();
        return r.numUpdatedRows === 1n;
      }),

    removeEabKey: (keyId) =>
      run(async () => {
        const key = lookupId(keyId);
        if (key === undefined) return false;
        const r = await db.deleteFrom('acme_eab_keys').where('key_id', '=', key).executeTakeFirst();
        return r.numDeletedRows === 1n;
      }),

    setRenewalWindows: (serials, window) =>
      run(async () => {
        if (!Array.isArray(serials) || serials.length > MAX_IDS) throw invalid(`serials must be a list of at most ${MAX_IDS}`, 'serials');
        const start = epochMs(window.start, 'start');
        const end = epochMs(window.end, 'end');
        if (end <= start) throw invalid('end must be after start', 'end');
        const values = serials.map((s) => ({
          serial: checkSerial(s),
          window_start: start,
          window_end: end,
          explanation_url: window.explanationUrl === undefined ? null : text(window.explanationUrl, 'explanationUrl', 2048),
          set_at: epochMs(window.setAt, 'setAt'),
        }));
        if (values.length === 0) return 0;
        await db
          .insertInto('renewal_windows')
          .values(values)
          .onConflict((oc) => oc.column('serial').doUpdateSet((eb) => ({ window_start: eb.ref('excluded.window_start'), window_end: eb.ref('excluded.window_end'), explanation_url: eb.ref('excluded.explanation_url'), set_at: eb.ref('excluded.set_at') })))
          .execute();
        return values.length;
      }),

    getRenewalWindow: (serial) =>
      run(async () => {
        const r = await db.selectFrom('renewal_windows').selectAll().where('serial', '=', checkSerial(serial)).executeTakeFirst();
        if (r === undefined) return undefined;
        return { start: new Date(n(r.window_start)), end: new Date(n(r.window_end)), ...(r.explanation_url !== null && { explanationUrl: r.explanation_url }), setAt: new Date(n(r.set_at)) };
      }),

    purgeExpired: (before, limit) =>
      run(() => {
        const t = epochMs(before, 'before');
        const max = pageLimit(limit);
        return atomic(db, async (trx) => {
          const orders = await trx.selectFrom('acme_orders').select('id').where('expires_at', '<', t).orderBy('expires_at').limit(max).execute();
          const authzs = await trx.selectFrom('acme_authorizations').select('id').where('expires_at', '<', t).orderBy('expires_at').limit(max).execute();
          const orderIds = orders.map((o) => o.id);
          const authzIds = authzs.map((a) => a.id);
          if (orderIds.length > 0) await trx.deleteFrom('acme_orders').where('id', 'in', orderIds).execute();
          if (authzIds.length > 0) {
            await trx.deleteFrom('acme_challenges').where('authorization_id', 'in', authzIds).execute();
            await trx.deleteFrom('acme_authorizations').where('id', 'in', authzIds).execute();
          }
          return orderIds.length + authzIds.length;
        });
      }),

    setting: (name, value) =>
      run(async () => {
        const key = text(name, 'name', 128);
        await db.insertInto('settings').values({ name: key, value: text(value, 'value', 4096) }).onConflict((oc) => oc.column('name').doNothing()).execute();
        const r = await db.selectFrom('settings').select('value').where('name', '=', key).executeTakeFirstOrThrow();
        return r.value;
      }),
  };
}

