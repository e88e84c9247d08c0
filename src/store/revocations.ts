/**
 * The revocation repository (store.ts `RevocationRepository`) over Kysely, for every SQL backend:
 * the revocation sequence, the entries of a CRL, what was revoked since a sequence number, and
 * the stored CRLs.
 */
import { sql } from 'kysely';
import { SignetError } from '../core/errors.js';
import type { CertificateStatusRecord, CrlRecord, RevocationRepository, RevokedEntry } from './store.js';
import { checkSerial, epochMs, MAX_CRL_SHARDS } from './validation.js';
import { type Db, type Runner } from './sql.js';


/** The counter whose values number revocations. */
const SEQUENCE = 'revocations';
/** Largest page of CRL entries or revoked serials one call returns. */
export const MAX_REVOKED_PAGE = 10_000;

function invalid(message: string, field: string): SignetError {
  return new SignetError('ERR_STORE_INVALID_RECORD', message, { detail: { field } });
}

function toBig(v: number | string | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

function toNumber(v: number | string | bigint): number {
  return typeof v === 'number' ? v : Number(v);
}

function shardOf(shard: unknown): number {
  if (!Number.isSafeInteger(shard) || (shard as number) < 0 || (shard as number) > MAX_CRL_SHARDS) throw invalid(`shard must be an integer from 0 to ${MAX_CRL_SHARDS}`, 'shard');
  return shard as number;
}

function limitOf(limit: unknown): number {
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_REVOKED_PAGE) throw invalid(`limit must be an integer from 1 to ${MAX_REVOKED_PAGE}`, 'limit');
  return limit as number;
}

/**
 * Takes the next revocation sequence number on `db` (a transaction: the number commits, and the
 * counter's row stays locked, with the revocation that takes it).
 */
export async function nextRevocationSeq(db: Db): Promise<bigint> {
  const row = await db
    .insertInto('counters')
    .values({ name: SEQUENCE, value: 1 })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
    .returning('value')
    .executeTakeFirstOrThrow();
  return toBig(row.value);
}

export function revocationRepository(db: Db, run: Runner): RevocationRepository {
  return {
    sequence: () =>
      run(async () => {
        const row = await db.selectFrom('counters').select('value').where('name', '=', SEQUENCE).executeTakeFirst();
        return row === undefined ? 0n : toBig(row.value);
      }),

    listRevoked: (issuerSerial, shard, at, after, limit) =>
      run(async () => {
        checkSerial(issuerSerial, 'issuerSerial');
        const part = shardOf(shard);
        const t = epochMs(at, 'at');
        const max = limitOf(limit);
        let q = db
          .selectFrom('certificates')
          .select(['serial', 'revoked_at', 'revocation_reason', 'invalid_at', 'not_after'])
          .where('status', '=', 'revoked')
          .where('issuer_serial', '=', issuerSerial)
          .where('crl_shard', '=', part)
          .where('not_after', '>', t);
        if (after !== undefined) {
          const afterMs = epochMs(after.notAfter, 'after.notAfter');
          const afterSerial = checkSerial(after.serial, 'after.serial');
          // Row-value comparison: both backends walk the (issuer_serial, crl_shard, not_after, serial) index from here.
          q = q.where(sql<boolean>`(not_after, serial) > (${afterMs}, ${afterSerial})`);
        }
        const rows = await q.orderBy('not_after').orderBy('serial').limit(max).execute();
        return rows.map(
          (r): RevokedEntry => ({
            serial: r.serial,
            revokedAt: new Date(toNumber(r.revoked_at ?? 0)),
            ...(r.revocation_reason !== null && { reason: r.revocation_reason }),
            ...(r.invalid_at !== null && { invalidAt: new Date(toNumber(r.invalid_at)) }),
            notAfter: new Date(toNumber(r.not_after)),
          }),
        );
      }),

    revokedInShardSince: (issuerSerial, shard, since) =>
      run(async () => {
        checkSerial(issuerSerial, 'issuerSerial');
        const part = shardOf(shard);
        if (typeof since !== 'bigint' || since < 0n) throw invalid('since must be a non-negative bigint', 'since');
        const row = await db
          .selectFrom('certificates')
          .select('serial')
          .where('revoked_seq', '>', Number(since))
          .where('issuer_serial', '=', issuerSerial)
          .where('crl_shard', '=', part)
          .limit(1)
          .executeTakeFirst();
        return row !== undefined;
      }),

    revokedSince: (since, limit) =>
      run(async () => {
        if (typeof since !== 'bigint' || since < 0n) throw invalid('since must be a non-negative bigint', 'since');
        const rows = await db
          .selectFrom('certificates')
          .select(['serial', 'revoked_seq'])
          .where('revoked_seq', '>', Number(since))
          .orderBy('revoked_seq')
          .limit(limitOf(limit))
          .execute();
        return rows.map((r) => ({ serial: r.serial, seq: toBig(r.revoked_seq ?? 0) }));
      }),

    saveCrl: (crl, keep) =>
      run(async () => {
        if (typeof crl !== 'object' || crl === null) throw invalid('crl must be an object', 'crl');
        const issuer = checkSerial(crl.issuerSerial, 'issuerSerial');
        const part = shardOf(crl.shard);
        if (typeof crl.number !== 'bigint' || crl.number < 1n) throw invalid('number must be a positive bigint', 'number');
        if (typeof crl.revocationSeq !== 'bigint' || crl.revocationSeq < 0n) throw invalid('revocationSeq must be a non-negative bigint', 'revocationSeq');
        if (!Number.isSafeInteger(crl.entries) || crl.entries < 0) throw invalid('entries must be a non-negative integer', 'entries');
        if (!(crl.der instanceof Uint8Array) || crl.der.length === 0) throw invalid('der must be a non-empty Uint8Array', 'der');
        if (!Number.isSafeInteger(keep) || keep < 1) throw invalid('keep must be a positive integer', 'keep');
        const thisUpdate = epochMs(crl.thisUpdate, 'thisUpdate');
        const nextUpdate = epochMs(crl.nextUpdate, 'nextUpdate');
        const row = {
          issuer_serial: issuer,
          number: Number(crl.number),
          this_update: thisUpdate,
          next_update: nextUpdate,
          revocation_seq: Number(crl.revocationSeq),
          entries: crl.entries,
          der: crl.der,
          shard: part,
        };
        const save = async (trx: Db): Promise<void> => {
          const inserted = await trx.insertInto('crls').values(row).onConflict((oc) => oc.columns(['issuer_serial', 'number']).doNothing()).executeTakeFirst();
          if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) {
            // Numbers come from a counter: a repeat is a caller's bug, never a race.
            throw invalid(`CRL number ${crl.number} of issuer ${issuer} is already stored`, 'number');
          }
          const kept = await trx.selectFrom('crls').select('number').where('issuer_serial', '=', issuer).where('shard', '=', part).orderBy('number', 'desc').offset(keep - 1).limit(1).executeTakeFirst();
          if (kept !== undefined) await trx.deleteFrom('crls').where('issuer_serial', '=', issuer).where('shard', '=', part).where('number', '<', kept.number as number).execute();
        };
        await (db.isTransaction ? save(db) : db.transaction().execute(save));
      }),

    latestCrl: (issuerSerial, shard, withDer) =>
      run(async () => {
        checkSerial(issuerSerial, 'issuerSerial');
        const part = shardOf(shard);
        const base = db
          .selectFrom('crls')
          .select(['issuer_serial', 'number', 'this_update', 'next_update', 'revocation_seq', 'entries', 'shard'])
          .where('issuer_serial', '=', issuerSerial)
          .where('shard', '=', part)
          .orderBy('number', 'desc')
          .limit(1);
        const row = withDer ? await base.select('der').executeTakeFirst() : await base.executeTakeFirst();
        if (row === undefined) return undefined;
        const der = 'der' in row ? new Uint8Array(row.der as Uint8Array) : new Uint8Array(0);
        return {
          issuerSerial: row.issuer_serial,
          number: toBig(row.number),
          thisUpdate: new Date(toNumber(row.this_update)),
          nextUpdate: new Date(toNumber(row.next_update)),
          revocationSeq: toBig(row.revocation_seq),
          entries: toNumber(row.entries),
          der,
          shard: toNumber(row.shard),
        } satisfies CrlRecord;
      }),

    highestCrlShard: (issuerSerial) =>
      run(async () => {
        checkSerial(issuerSerial, 'issuerSerial');
        const row = await db.selectFrom('crls').select((eb) => eb.fn.max('shard').as('shard')).where('issuer_serial', '=', issuerSerial).executeTakeFirst();
        return row?.shard === null || row?.shard === undefined ? 0 : toNumber(row.shard);
      }),

    status: (serial) =>
      run(async () => {
        const row = await db
          .selectFrom('certificates')
          .select(['serial', 'issuer_serial', 'status', 'not_after', 'revoked_at', 'revocation_reason', 'invalid_at'])
          .where('serial', '=', checkSerial(serial, 'serial'))
          .executeTakeFirst();
        if (row === undefined) return undefined;
        return {
          serial: row.serial,
          ...(row.issuer_serial !== null && { issuerSerial: row.issuer_serial }),
          status: row.status === 'revoked' ? 'revoked' : 'valid',
          notAfter: new Date(toNumber(row.not_after)),
          ...(row.revoked_at !== null && { revokedAt: new Date(toNumber(row.revoked_at)) }),
          ...(row.revocation_reason !== null && { reason: row.revocation_reason }),
          ...(row.invalid_at !== null && { invalidAt: new Date(toNumber(row.invalid_at)) }),
        } satisfies CertificateStatusRecord;
      }),
  };
}
