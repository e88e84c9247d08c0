/**
 * The SQLite store: the conformance suite on a real file and in memory, plus what only SQLite
 * has — file modes, WAL and the other pragmas, migrations on a real file, locks between
 * connections, and races between connections in parallel threads.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import { fixedClock } from '../../src/core/clock.js';
import { isSignetError } from '../../src/core/errors.js';
import { MIGRATIONS, migrate, openSqliteStore, schemaStatus, type Migration, type Store } from '../../src/store/index.js';
import { createKyselyStore } from '../../src/store/kysely-store.js';
import type { StoreDatabase } from '../../src/store/schema.js';
import { openSqliteConnection, translateSqliteError } from '../../src/store/sqlite.js';
import { tempDir } from '../helpers/openssl.js';
import { storeConformance } from './conformance.js';
import { at, auditEvent, certificate, gate, newSerial, rejectsWith } from './fixtures.js';
import type { RaceJob, RaceReply } from './race-worker.js';

const clock = fixedClock('2030-01-01T00:00:00Z');
const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

/** A fresh temp directory, removed after the file's tests. */
function scratch(): ReturnType<typeof tempDir> {
  const t = tempDir('signet-store-');
  cleanups.push(t.cleanup);
  return t;
}

storeConformance('sqlite file', () => openSqliteStore(scratch().path('db/signet.db'), { clock }));
storeConformance('sqlite :memory:', () => openSqliteStore(':memory:', { clock }));

/** Row counts of every store table, read through a separate connection. */
function counts(path: string): Record<string, number> {
  const raw = new Database(path, { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const table of ['certificates', 'certificate_names', 'used_tokens', 'audit_events']) {
      out[table] = (raw.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    }
    return out;
  } finally {
    raw.close();
  }
}

/** A Kysely over its own better-sqlite3 connection, for driving migrations directly. */
function kyselyOn(path: string): { db: Kysely<StoreDatabase>; raw: Database.Database } {
  const raw = new Database(path);
  return { db: new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: raw }) }), raw };
}

describe('sqlite file', () => {
  test('database file 0600 (also its -wal and -shm), created directories 0700, whatever the umask', async () => {
    const t = scratch();
    const path = t.path('a/b/signet.db');
    const previous = process.umask(0);
    let store: Store | undefined;
    try {
      store = await openSqliteStore(path, { clock });
      await store.audit.append(auditEvent());
      for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        assert.ok(existsSync(f), `${f} exists while the store is open`);
        assert.equal(statSync(f).mode & 0o777, 0o600, f);
      }
      assert.equal(statSync(t.path('a')).mode & 0o777, 0o700);
      assert.equal(statSync(t.path('a/b')).mode & 0o777, 0o700);
    } finally {
      process.umask(previous);
      await store?.close();
    }
  });

  test('an existing database file keeps the mode its owner gave it', async () => {
    const path = scratch().path('signet.db');
    await (await openSqliteStore(path, { clock })).close();
    chmodSync(path, 0o640);
    await (await openSqliteStore(path, { clock })).close();
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test('the connection: WAL, foreign keys on, synchronous FULL, busy timeout as asked', () => {
    const t = scratch();
    const raw = openSqliteConnection(t.path('x.db'), { busyTimeoutMs: 1234 });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(raw.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(raw.pragma('synchronous', { simple: true }), 2);
      assert.equal(raw.pragma('busy_timeout', { simple: true }), 1234);
    } finally {
      raw.close();
    }
    const memory = openSqliteConnection(':memory:');
    try {
      assert.equal(memory.pragma('journal_mode', { simple: true }), 'memory');
      assert.equal(memory.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(memory.pragma('busy_timeout', { simple: true }), 5000);
    } finally {
      memory.close();
    }
  });

  test('foreign keys hold: a certificate with names cannot be deleted from under them', async () => {
    const t = scratch();
    const path = t.path('fk.db');
    const store = await openSqliteStore(path, { clock });
    const c = certificate();
    await store.certificates.insert(c);
    await store.close();
    const raw = openSqliteConnection(path);
    try {
      assert.throws(() => raw.prepare('insert into certificate_names (serial, ordinal, type, value) values (?, 0, ?, ?)').run(newSerial(), 'dns', 'x'), /FOREIGN KEY/);
      raw.prepare('delete from certificates where serial = ?').run(c.serial);
      assert.equal((raw.prepare('select count(*) as n from certificate_names').get() as { n: number }).n, 0, 'names cascade');
    } finally {
      raw.close();
    }
  });

  test('files that are not a usable database are ERR_STORE_IO; nothing is created', async () => {
    const t = scratch();
    writeFileSync(t.path('junk.db'), 'this is not a sqlite database, just text that is long enough '.repeat(20));
    await rejectsWith(openSqliteStore(t.path('junk.db'), { clock }), 'ERR_STORE_IO');
    assert.match(readFileSync(t.path('junk.db'), 'utf8'), /^this is not/);
    mkdirSync(t.path('dir.db'));
    await rejectsWith(openSqliteStore(t.path('dir.db'), { clock }), 'ERR_STORE_IO');
    writeFileSync(t.path('file'), 'x');
    await rejectsWith(openSqliteStore(t.path('file/signet.db'), { clock }), 'ERR_STORE_IO');
  });

  test('a directory the process may not write is ERR_STORE_IO', async () => {
    const t = scratch();
    mkdirSync(t.path('ro'), { mode: 0o555 });
    if (process.getuid?.() !== 0) {
      await rejectsWith(openSqliteStore(t.path('ro/signet.db'), { clock }), 'ERR_STORE_IO');
    } else {
      // Root ignores permissions: open the store as the unprivileged user `nobody` in a child process.
      chmodSync(t.dir, 0o755);
      const sqliteModule = new URL('../../src/store/sqlite.js', import.meta.url).href;
      const script = `const { openSqliteStore } = await import(${JSON.stringify(sqliteModule)});
try { await openSqliteStore(${JSON.stringify(t.path('ro/signet.db'))}, { clock: { now: () => new Date() } }); console.log('opened'); }
catch (e) { console.log(e.code); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.equal(r.stdout.trim(), 'ERR_STORE_IO', r.stderr);
    }
    assert.equal(existsSync(t.path('ro/signet.db')), false, 'nothing created');
  });

  test('driver errors map to store codes; other errors pass through', () => {
    const busy = new Database.SqliteError('database is locked', 'SQLITE_BUSY');
    const full = new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
    const check = new Database.SqliteError('CHECK constraint failed', 'SQLITE_CONSTRAINT_CHECK');
    assert.equal((translateSqliteError(busy, 'x') as { code: string }).code, 'ERR_STORE_BUSY');
    assert.equal((translateSqliteError(full, 'x') as { code: string }).code, 'ERR_STORE_IO');
    assert.equal((translateSqliteError(check, 'x') as { code: string }).code, 'ERR_INTERNAL');
    const plain = new Error('mine');
    assert.equal(translateSqliteError(plain, 'x'), plain);
  });

  test('an insert that fails half-way leaves no certificate row (the insert is its own transaction)', async () => {
    const t = scratch();
    const path = t.path('atomic.db');
    const store = await openSqliteStore(path, { clock });
    try {
      // A trigger makes the second statement of insert() — the names — fail after the
      // certificate row went in; the row must be rolled back with it.
      const raw = new Database(path);
      raw.exec(`create trigger refuse_boom before insert on certificate_names when new.value = 'boom.test' begin select raise(abort, 'boom'); end`);
      raw.close();
      const c = certificate({ names: [{ type: 'dns', value: 'fine.test' }, { type: 'dns', value: 'boom.test' }] });
      await rejectsWith(store.certificates.insert(c), 'ERR_INTERNAL');
      assert.equal(await store.certificates.get(c.serial), undefined);
      assert.deepEqual(counts(path), { certificates: 0, certificate_names: 0, used_tokens: 0, audit_events: 0 });
      const ok = certificate({ names: [{ type: 'dns', value: 'fine.test' }] });
      await store.certificates.insert(ok);
      assert.deepEqual(await store.certificates.get(ok.serial), ok, 'the store works on after the failure');
    } finally {
      await store.close();
    }
  });

  test('a full disk: the write that does not fit is ERR_STORE_IO and leaves nothing, the database stays intact, and everything acknowledged is there after a reopen', async () => {
    const t = scratch();
    const path = t.path('full.db');
    // SQLite's page cap fails a write exactly as a full disk does (SQLITE_FULL); the schema alone takes about 85 pages.
    const store = await openSqliteStore(path, { clock, maxPageCount: 120 });
    const acknowledged: string[] = [];
    let failure: unknown;
    try {
      for (let i = 0; i < 500 && failure === undefined; i++) {
        const c = certificate({ der: new Uint8Array(3000).fill(i % 256) });
        try {
          const outcome = await store.recordIssuance({ token: { provisioner: 'p', jti: `full-${i}`, expiresAt: at(3600_000) }, certificate: c, event: auditEvent({ serial: c.serial }) });
          assert.equal(outcome, 'recorded');
          acknowledged.push(c.serial);
        } catch (e) {
          failure = e;
          // The token of the failed issuance was not consumed with it (nothing was written).
          assert.equal(counts(path).used_tokens, acknowledged.length);
        }
      }
      assert.ok(isSignetError(failure, 'ERR_STORE_IO'), `expected ERR_STORE_IO, got ${String(failure)}`);
      assert.match((failure as Error).message, /full/);
      assert.ok(acknowledged.length > 0, 'some issuances fit before the disk filled');
      // Reads still work, and so do writes that need no new page after the failure.
      assert.equal((await store.certificates.list({}, { limit: 1000 })).items.length, acknowledged.length);
    } finally {
      await store.close();
    }
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    raw.close();
    assert.deepEqual(counts(path), { certificates: acknowledged.length, certificate_names: 2 * acknowledged.length, used_tokens: acknowledged.length, audit_events: acknowledged.length });
    const reopened = await openSqliteStore(path, { clock });
    try {
      for (const s of acknowledged) assert.ok((await reopened.certificates.get(s)) !== undefined, s);
    } finally {
      await reopened.close();
    }
  });

  test('a failed transaction leaves no partial rows in any table', async () => {
    const t = scratch();
    const path = t.path('tx.db');
    const store = await openSqliteStore(path, { clock });
    try {
      await assert.rejects(
        store.transaction(async (tx) => {
          for (let i = 0; i < 10; i++) await tx.certificates.insert(certificate());
          await tx.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) });
          await tx.audit.append(auditEvent());
          throw new Error('policy said no');
        }),
        /policy said no/,
      );
      assert.deepEqual(counts(path), { certificates: 0, certificate_names: 0, used_tokens: 0, audit_events: 0 });
    } finally {
      await store.close();
    }
  });
});

describe('migrations', () => {
  test('an empty database reports every migration pending; migrate applies them once', async () => {
    const t = scratch();
    const { db } = kyselyOn(t.path('m.db'));
    try {
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      assert.deepEqual(await schemaStatus(db), { current: 0, latest, pending: MIGRATIONS.map((m) => ({ version: m.version, name: m.name })) });
      const all = MIGRATIONS.map((m) => ({ version: m.version, name: m.name }));
      assert.deepEqual(await migrate(db, clock), all);
      assert.deepEqual(await migrate(db, clock), []);
      assert.deepEqual(await schemaStatus(db), { current: latest, latest, pending: [] });
      const rows = await db.selectFrom('schema_migrations').selectAll().execute();
      assert.deepEqual(rows, all.map((m) => ({ ...m, applied_at: clock.now().getTime() })));
    } finally {
      await db.destroy();
    }
  });

  test('opening a store again applies nothing and keeps the data', async () => {
    const t = scratch();
    const path = t.path('again.db');
    const c = certificate();
    const first = await openSqliteStore(path, { clock });
    await first.certificates.insert(c);
    await first.close();
    const second = await openSqliteStore(path, { clock: fixedClock('2031-01-01T00:00:00Z') });
    assert.deepEqual(await second.certificates.get(c.serial), c);
    await second.close();
    const { db } = kyselyOn(path);
    try {
      const rows = await db.selectFrom('schema_migrations').select(['version', 'applied_at']).execute();
      assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, applied_at: clock.now().getTime() })));
    } finally {
      await db.destroy();
    }
  });

  test('the schema has the indexes inventory questions need, and no index no query uses', async () => {
    const t = scratch();
    const { db, raw } = kyselyOn(t.path('ix.db'));
    try {
      await migrate(db, clock);
      const indexed = (raw.prepare(`select tbl_name as t, sql from sqlite_master where type = 'index' and sql is not null`).all() as { t: string; sql: string }[]).map(
        (r) => `${r.t}: ${/\(([^)]*)\)/.exec(r.sql)?.[1]?.replace(/"/g, '') ?? ''}${/ where (.*)$/i.exec(r.sql)?.[1] !== undefined ? ` where ${(/ where (.*)$/i.exec(r.sql)?.[1] ?? '').replace(/"/g, '')}` : ''}`,
      );
      const wanted = [
        'certificates: issued_at, serial',
        'certificates: issued_at, serial where replaced_by is null',
        'certificates: provisioner, issued_at, serial',
        'certificates: not_after',
        'certificates: status, not_after, issued_at, serial',
        'certificates: key_fingerprint',
        'certificate_names: value',
        'certificate_names: reversed_name',
        'used_tokens: expires_at',
        'audit_events: time, id',
        'audit_events: type, time',
        'audit_events: serial, time',
        // ACME (migration 5): an account by key, an account's orders in order, reusable
        // authorizations, an authorization's challenges, validations left behind, EAB keys.
        'acme_accounts: provisioner, key_thumbprint',
        'acme_orders: account_id, created_at, id',
        'acme_authorizations: account_id, identifier_type, identifier_value, status, expires_at',
        'acme_challenges: authorization_id',
        'acme_challenges: status, updated_at',
        'acme_eab_keys: provisioner, created_at',
        // Migration 7: the purge of long-expired orders and authorizations.
        'acme_orders: expires_at',
        'acme_authorizations: expires_at',
        // Migration 8: CRL entries and "revoked since sequence N" — partial, so an issuance
        // (never revoked when inserted) adds nothing to them; migration 9 leads the first with the
        // CRL partition, and reads a partition's newest CRL.
        "certificates: issuer_serial, crl_shard, not_after, serial where status = 'revoked'",
        'certificates: revoked_seq where revoked_seq is not null',
        'crls: issuer_serial, shard, number',
        // Migration 10, SPIFFE: a trust domain's live JWT keys, due federation refreshes.
        'spiffe_jwt_keys: trust_domain, expires_at',
        'spiffe_federations: next_refresh_at',
        // Migration 11: entries unique among the live ones, by parent (an agent's), by SPIFFE ID, by revision (followers), by selector.
        'spiffe_entries: match_key where deleted_at is null',
        'spiffe_entries: parent_id, id',
        'spiffe_entries: spiffe_id, id',
        'spiffe_entries: revision',
        'spiffe_entry_selectors: selector, entry_id',
        // Migration 13: the purge of long-expired join tokens.
        'spiffe_join_tokens: expires_at',
        // Migration 14: the purge of expired TPM challenges.
        'spiffe_tpm_challenges: expires_at',
      ];
      // Exactly these: each index costs every issuance a B-tree insert and a page at COMMIT.
      assert.deepEqual([...indexed].sort(), [...wanted].sort());
    } finally {
      await db.destroy();
    }
  });

  test('the store’s list queries are index searches, not table scans', async () => {
    const t = scratch();
    const raw = new Database(t.path('plan.db'));
    const queries: CompiledQuery[] = [];
    const db = new Kysely<StoreDatabase>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query') queries.push(event.query);
      },
    });
    await migrate(db, clock);
    const store = createKyselyStore(db, { translateError: (e) => e, destroy: () => db.destroy() });
    try {
      const filters = [
        { provisioner: 'admin', issuedBefore: at(1) },
        { name: '*.example.com' },
        { name: 'www.example.com' },
        { keyFingerprint: 'a'.repeat(64) },
        { serials: [newSerial(), newSerial()] },
        { status: 'revoked' as const, expiresAfter: at(0) },
        { expiresBefore: at(1) },
        { replaced: true },
      ];
      for (const filter of filters) {
        queries.length = 0;
        await store.certificates.list(filter, { limit: 10 });
        const select = queries.find((q) => q.sql.includes('from "certificates"'));
        assert.ok(select, 'the list query was seen');
        const plan = (raw.prepare(`explain query plan ${select.sql}`).all(...select.parameters) as { detail: string }[]).map((r) => r.detail);
        const scans = plan.filter((d) => /^SCAN (certificates|certificate_names)$/.test(d));
        assert.deepEqual(scans, [], `${JSON.stringify(filter)}: ${plan.join(' | ')}`);
      }
      // The revocation queries (CRL entries page by page, what was revoked since a sequence number).
      const revocationReads: [string, () => Promise<unknown>][] = [
        ['listRevoked', () => store.revocations.listRevoked('0a', 0, at(0), undefined, 10)],
        ['listRevoked after', () => store.revocations.listRevoked('0a', 0, at(0), { notAfter: at(5), serial: '0b' }, 10)],
        ['revokedSince', () => store.revocations.revokedSince(5n, 10)],
        ['revokedInShardSince', () => store.revocations.revokedInShardSince('0a', 1, 5n)],
      ];
      for (const [label, read] of revocationReads) {
        queries.length = 0;
        await read();
        const select = queries.find((q) => q.sql.includes('from "certificates"'));
        assert.ok(select, 'the query was seen');
        const plan = (raw.prepare(`explain query plan ${select.sql}`).all(...select.parameters) as { detail: string }[]).map((r) => r.detail);
        assert.deepEqual(plan.filter((d) => /^SCAN certificates/.test(d)), [], `${label}: ${plan.join(' | ')}`);
        assert.ok(plan.some((d) => /certificates_crl_entries|certificates_revoked_seq/.test(d)), `${label}: ${plan.join(' | ')}`);
      }
    } finally {
      await store.close();
    }
  });

  test('a failing migration is rolled back alone and reported; earlier ones stay applied', async () => {
    const t = scratch();
    const { db, raw } = kyselyOn(t.path('fail.db'));
    const next = (MIGRATIONS.at(-1)?.version ?? 0) + 1;
    const second: Migration = {
      version: next,
      name: 'add-things',
      async up(m) {
        await m.schema.createTable('things').addColumn('id', 'integer').execute();
        await sql`insert into no_such_table values (1)`.execute(m);
      },
    };
    try {
      await rejectsWith(migrate(db, clock, [...MIGRATIONS, second]), 'ERR_STORE_MIGRATION_FAILED');
      assert.deepEqual(await schemaStatus(db, [...MIGRATIONS, second]), { current: next - 1, latest: next, pending: [{ version: next, name: 'add-things' }] });
      assert.equal(raw.prepare(`select count(*) as n from sqlite_master where name = 'things'`).pluck().get(), 0, 'its table was rolled back');
      const fixed: Migration = { ...second, up: (m) => m.schema.createTable('things').addColumn('id', 'integer').execute() };
      assert.deepEqual(await migrate(db, clock, [...MIGRATIONS, fixed]), [{ version: next, name: 'add-things' }]);
    } finally {
      await db.destroy();
    }
  });

  test('a migration list out of order is a bug', async () => {
    const t = scratch();
    const { db } = kyselyOn(t.path('order.db'));
    const noop = (version: number): Migration => ({ version, name: `v${version}`, up: () => Promise.resolve() });
    try {
      await rejectsWith(migrate(db, clock, [noop(2), noop(1)]), 'ERR_INTERNAL');
      await rejectsWith(migrate(db, clock, [noop(1), noop(1)]), 'ERR_INTERNAL');
      await rejectsWith(schemaStatus(db, [noop(0)]), 'ERR_INTERNAL');
    } finally {
      await db.destroy();
    }
  });

  test('a database migrated by a newer signet is refused and left untouched', async () => {
    const t = scratch();
    const path = t.path('newer.db');
    const store = await openSqliteStore(path, { clock });
    await store.certificates.insert(certificate());
    await store.close();
    const raw = new Database(path);
    raw.prepare('insert into schema_migrations (version, name, applied_at) values (?, ?, ?)').run(99, 'from-the-future', 0);
    raw.close();
    const before = counts(path);
    await rejectsWith(openSqliteStore(path, { clock }), 'ERR_STORE_SCHEMA_NEWER');
    assert.deepEqual(counts(path), before);
    const { db } = kyselyOn(path);
    try {
      assert.deepEqual(await schemaStatus(db), { current: 99, latest: MIGRATIONS.at(-1)?.version ?? 0, pending: [] });
      await rejectsWith(migrate(db, clock), 'ERR_STORE_SCHEMA_NEWER');
    } finally {
      await db.destroy();
    }
  });
});

describe('two connections on one file', () => {
  test('a write waits for the other connection’s transaction; with no busy timeout it is ERR_STORE_BUSY', async () => {
    const t = scratch();
    const path = t.path('busy.db');
    const a = await openSqliteStore(path, { clock });
    const b = await openSqliteStore(path, { clock, busyTimeoutMs: 0 });
    try {
      const committed = certificate();
      await a.certificates.insert(committed);
      const inside = gate();
      const finish = gate();
      const pending = certificate();
      const holding = a.transaction(async (tx) => {
        await tx.certificates.insert(pending);
        inside.open();
        await finish.opened;
      });
      await inside.opened;
      // WAL: the reader is not blocked and sees only committed data.
      assert.deepEqual(await b.certificates.get(committed.serial), committed);
      assert.equal(await b.certificates.get(pending.serial), undefined);
      await rejectsWith(b.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }), 'ERR_STORE_BUSY');
      await rejectsWith(b.transaction((tx) => tx.audit.append(auditEvent())), 'ERR_STORE_BUSY');
      finish.open();
      await holding;
      assert.equal(await b.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }), true, 'works once the lock is gone');
      assert.deepEqual(await b.certificates.get(pending.serial), pending);
      assert.ok(await b.transaction(async (tx) => (await tx.audit.append(auditEvent())) > 0));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a write waiting for another connection’s lock waits on the event loop, not in a sleeping busy handler', async () => {
    const t = scratch();
    const path = t.path('wait.db');
    const a = await openSqliteStore(path, { clock });
    const b = await openSqliteStore(path, { clock });
    try {
      const inside = gate();
      const finish = gate();
      const holding = a.transaction(async (tx) => {
        await tx.audit.append(auditEvent());
        inside.open();
        await finish.opened;
      });
      await inside.opened;
      let settled = false;
      const waiting = b.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }).finally(() => {
        settled = true;
      });
      // SQLite's busy handler would sleep with this whole thread (and keep `a` from finishing);
      // instead the event loop keeps turning while b waits for the lock.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false);
      finish.open();
      await holding;
      assert.equal(await waiting, true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a transaction holds the write lock from its start (BEGIN IMMEDIATE), so its later writes cannot fail on a stale snapshot', async () => {
    const t = scratch();
    const path = t.path('immediate.db');
    const a = await openSqliteStore(path, { clock, busyTimeoutMs: 0 });
    const b = await openSqliteStore(path, { clock });
    try {
      const c = certificate();
      const readDone = gate();
      const proceed = gate();
      // b reads first and writes later. With a deferred BEGIN, a's commit in between would make
      // b's write fail (SQLITE_BUSY_SNAPSHOT); with BEGIN IMMEDIATE, a is the one kept waiting.
      const reader = b.transaction(async (tx) => {
        assert.equal(await tx.certificates.get(c.serial), undefined);
        readDone.open();
        await proceed.opened;
        await tx.audit.append(auditEvent({ serial: c.serial, reason: 'not yet recorded' }));
        return 'committed';
      });
      await readDone.opened;
      await rejectsWith(a.certificates.insert(c), 'ERR_STORE_BUSY');
      proceed.open();
      assert.equal(await reader, 'committed');
      await a.certificates.insert(c);
      assert.equal((await a.audit.list({ serial: c.serial })).length, 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('Promise.all: two stores consume the same tokens; each token has exactly one winner', async () => {
    const t = scratch();
    const path = t.path('race.db');
    const a = await openSqliteStore(path, { clock });
    const b = await openSqliteStore(path, { clock });
    try {
      const token = { provisioner: 'admin', jti: 'the-one', expiresAt: at(1) };
      const [ra, rb] = await Promise.all([a.tokens.consume(token), b.tokens.consume(token)]);
      assert.equal(Number(ra) + Number(rb), 1, `a: ${ra}, b: ${rb}`);
      const jtis = Array.from({ length: 50 }, (_, i) => `jti-${i}`);
      const results = await Promise.all(jtis.flatMap((jti) => [a, b, a].map((s) => s.tokens.consume({ ...token, jti }).then((won) => ({ jti, won })))));
      for (const jti of jtis) assert.equal(results.filter((r) => r.jti === jti && r.won).length, 1, jti);
      assert.equal(counts(path).used_tokens, 51);
    } finally {
      await a.close();
      await b.close();
    }
  });

  /** Starts `n` race workers, releases them together, returns each one's wins. */
  async function race(n: number, job: Omit<RaceJob, 'kind' | 'flag'>): Promise<(readonly number[])[]> {
    const flag = new SharedArrayBuffer(4);
    const started: Promise<void>[] = [];
    const finished: Promise<readonly number[]>[] = [];
    for (let i = 0; i < n; i++) {
      const worker = new Worker(new URL('./race-worker.js', import.meta.url), { workerData: { ...job, kind: 'signet-store-race', flag } satisfies RaceJob });
      let ready!: () => void;
      started.push(new Promise<void>((resolve) => (ready = resolve)));
      const done = new Promise<readonly number[]>((resolve, reject) => {
        worker.on('message', (m: RaceReply) => {
          if ('ready' in m) ready();
          else if ('wins' in m) resolve(m.wins);
          else reject(new Error(`worker ${i}: ${m.error}`));
        });
        worker.on('error', reject);
        worker.on('exit', (code) => reject(new Error(`worker ${i} exited with ${code} before answering`)));
      });
      finished.push(done);
      // A worker that fails before it is ready must not leave the barrier waiting forever.
      started[i] = Promise.race([started[i]!, done.then(() => undefined)]);
    }
    await Promise.all(started);
    const go = new Int32Array(flag);
    Atomics.store(go, 0, 1);
    Atomics.notify(go, 0);
    return Promise.all(finished);
  }

  test('worker threads: four connections race on 150 tokens in parallel; each token has exactly one winner', async () => {
    const t = scratch();
    const path = t.path('threads.db');
    await (await openSqliteStore(path, { clock })).close();
    const count = 150;
    const wins = await race(4, { mode: 'consume', path, count });
    const winners = new Map<number, number>();
    for (const w of wins) for (const i of w) winners.set(i, (winners.get(i) ?? 0) + 1);
    assert.equal(winners.size, count, 'every token was won');
    assert.deepEqual([...winners.values()].filter((n) => n !== 1), [], 'by exactly one worker');
    assert.equal(counts(path).used_tokens, count);
  });

  test('worker threads: four processes-worth of connections open a fresh file at once; it is migrated exactly once', async () => {
    const t = scratch();
    const path = t.path('fresh/signet.db');
    await race(4, { mode: 'open', path, count: 0 });
    const raw = new Database(path, { readonly: true });
    try {
      assert.deepEqual(raw.prepare('select version from schema_migrations').pluck().all(), MIGRATIONS.map((m) => m.version));
      assert.equal(raw.prepare(`select count(*) from audit_events where type = 'worker.open'`).pluck().get(), 4);
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});
