/**
 * The PostgreSQL store against a real PostgreSQL server (test/helpers/postgres.ts starts one on
 * loopback in its own directory and stops it afterwards): the same conformance suite as SQLite,
 * plus what only a server database has — URLs and passwords, login and reachability errors,
 * migrations from several processes at once, single-use tokens across many connections, and a
 * server that goes away under load and comes back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { fixedClock } from '../../src/core/clock.js';
import { isSignetError } from '../../src/core/errors.js';
import { MIGRATIONS, schemaStatus, type Store } from '../../src/store/index.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { parsePostgresUrl, formatPostgresTarget } from '../../src/store/postgres-url.js';
import type { StoreDatabase } from '../../src/store/schema.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { storeConformance } from './conformance.js';
import { at, auditEvent, certificate, rejectsWith } from './fixtures.js';

const clock = fixedClock('2030-01-01T00:00:00Z');
let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.destroy();
});

/** A new, empty, migrated store on a database of its own. */
async function freshStore(options: { poolSize?: number; statementTimeoutMs?: number; connectTimeoutMs?: number } = {}): Promise<{ store: Store; database: string }> {
  const database = await server.createDatabase();
  const store = await openPostgresStore(server.url(database), { clock, password: server.password, ...options });
  return { store, database };
}

storeConformance('postgresql', async () => (await freshStore()).store);

describe('postgresql URLs', () => {
  test('user, host, port and database are read; the default port is 5432; IPv6 hosts in brackets', () => {
    assert.deepEqual(parsePostgresUrl('postgres://signet@db.example.com:6432/ca'), { host: 'db.example.com', port: 6432, user: 'signet', database: 'ca' });
    assert.deepEqual(parsePostgresUrl('postgresql://ca%20user@10.0.0.5/signet'), { host: '10.0.0.5', port: 5432, user: 'ca user', database: 'signet' });
    assert.deepEqual(parsePostgresUrl('postgres://signet@[::1]:5433/ca'), { host: '::1', port: 5433, user: 'signet', database: 'ca' });
    assert.equal(formatPostgresTarget(parsePostgresUrl('postgres://signet@[::1]:5433/ca')), 'postgres://signet@[::1]:5433/ca');
  });

  test('a password in the URL, query parameters, a missing user/database or another scheme are refused, naming the problem', () => {
    for (const [url, why] of [
      ['postgres://signet:hunter2@db/ca', 'contains a password'],
      ['postgres://signet@db/ca?sslmode=require', 'query parameters'],
      ['postgres://db/ca', 'no user'],
      ['postgres://signet@db/', 'no database'],
      ['postgres://signet@db', 'no database'],
      ['mysql://signet@db/ca', 'scheme'],
      ['not a url', 'not a URL'],
    ] as const) {
      assert.throws(
        () => parsePostgresUrl(url),
        (e: unknown) => isSignetError(e, 'ERR_CONFIG_INVALID') && e.message.includes(why) && !e.message.includes('hunter2'),
        url,
      );
    }
  });
});

describe('postgresql connection errors', () => {
  test('a wrong password is ERR_STORE_AUTH, and the password appears in no message', async () => {
    const database = await server.createDatabase();
    await assert.rejects(openPostgresStore(server.url(database), { clock, password: 'not-the-password' }), (e: unknown) => {
      assert.ok(isSignetError(e, 'ERR_STORE_AUTH'), String(e));
      assert.doesNotMatch(`${e.message} ${e.hint ?? ''}`, /not-the-password/);
      return true;
    });
  });

  test('a database that does not exist, and a port nobody listens on, are ERR_STORE_UNAVAILABLE naming the target', async () => {
    await assert.rejects(openPostgresStore(server.url('no_such_database'), { clock, password: server.password }), (e: unknown) => {
      assert.ok(isSignetError(e, 'ERR_STORE_UNAVAILABLE'), String(e));
      assert.match(e.message, /no database "no_such_database"/);
      return true;
    });
    // A port that was free a moment ago: the listener below is closed before connecting.
    const { createServer } = await import('node:net');
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(openPostgresStore(`postgres://signet@127.0.0.1:${port}/ca`, { clock, password: server.password, connectTimeoutMs: 2000 }), (e: unknown) => {
      assert.ok(isSignetError(e, 'ERR_STORE_UNAVAILABLE'), String(e));
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}/ca.*ECONNREFUSED`));
      return true;
    });
  });

  test('TLS required by the client but not offered by the server is ERR_STORE_UNAVAILABLE', async () => {
    const database = await server.createDatabase();
    await rejectsWith(openPostgresStore(server.url(database), { clock, password: server.password, tls: { mode: 'require' } }), 'ERR_STORE_UNAVAILABLE');
  });

  test('a statement that outlives statement_timeout is ERR_STORE_BUSY and leaves nothing behind', async () => {
    const { store, database } = await freshStore({ statementTimeoutMs: 300 });
    // Another session holds a row lock on used_tokens' key; our insert waits for it until the timeout.
    const holder = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query("insert into used_tokens (provisioner, jti, expires_at) values ('p', 'held', 1)");
      await rejectsWith(store.tokens.consume({ provisioner: 'p', jti: 'held', expiresAt: at(1) }), 'ERR_STORE_BUSY');
      await holder.query('rollback');
      // Now free: the same token is consumed exactly once.
      assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'held', expiresAt: at(1) }), true);
      assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'held', expiresAt: at(1) }), false);
    } finally {
      await holder.end();
      await store.close();
    }
  });
});

describe('postgresql over TLS', () => {
  test('verify-full against the right CA connects; require connects; a foreign CA or a certificate for another host is ERR_STORE_UNAVAILABLE (TLS)', async () => {
    const t = tempDir('signet-pg-tls-');
    let tlsServer: PostgresServer | undefined;
    try {
      // A CA and a server certificate for 127.0.0.1, made by OpenSSL (the independent peer), and a foreign CA.
      const ossl = (args: string[]) => opensslOk(args);
      for (const name of ['ca', 'foreign']) {
        ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', t.path(`${name}.key`), '-out', t.path(`${name}.crt`), '-subj', `/CN=${name} test CA`, '-days', '2']);
      }
      ossl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', t.path('server.key'), '-out', t.path('server.csr'), '-subj', '/CN=127.0.0.1']);
      writeFileSync(t.path('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
      ossl(['x509', '-req', '-in', t.path('server.csr'), '-CA', t.path('ca.crt'), '-CAkey', t.path('ca.key'), '-CAcreateserial', '-out', t.path('server.crt'), '-days', '2', '-extfile', t.path('ext.cnf')]);
      tlsServer = await startPostgres({ tls: { certFile: t.path('server.crt'), keyFile: t.path('server.key') } });
      const s = tlsServer;
      const database = await s.createDatabase();
      const open = (tls: Parameters<typeof openPostgresStore>[1]['tls'], host = '127.0.0.1') =>
        openPostgresStore(`postgres://signet@${host}:${s.port}/${database}`, { clock, password: s.password, connectTimeoutMs: 3000, ...(tls ? { tls } : {}) });

      const verified = await open({ mode: 'verify-full', ca: readFileSync(t.path('ca.crt'), 'utf8') });
      assert.equal(await verified.tokens.consume({ provisioner: 'p', jti: 'tls-1', expiresAt: at(1) }), true);
      const encrypted = (await s.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid <> pg_backend_pid() and ssl')).length;
      assert.ok(encrypted >= 1, 'the store connection is encrypted');
      await verified.close();
      const required = await open({ mode: 'require' });
      assert.equal(await required.tokens.consume({ provisioner: 'p', jti: 'tls-1', expiresAt: at(1) }), false);
      await required.close();

      for (const [what, attempt] of [
        ['a foreign CA', () => open({ mode: 'verify-full', ca: readFileSync(t.path('foreign.crt'), 'utf8') })],
        ['another host name', () => open({ mode: 'verify-full', ca: readFileSync(t.path('ca.crt'), 'utf8') }, 'localhost')],
      ] as const) {
        await assert.rejects(attempt(), (e: unknown) => {
          assert.ok(isSignetError(e, 'ERR_STORE_UNAVAILABLE'), `${what}: ${String(e)}`);
          assert.match(e.message, /TLS/, what);
          return true;
        });
      }
    } finally {
      await tlsServer?.destroy();
      t.cleanup();
    }
  });
});

describe('postgresql migrations', () => {
  test('eight stores opening one empty database at once apply each migration exactly once', async () => {
    const database = await server.createDatabase();
    const stores = await Promise.all(Array.from({ length: 8 }, () => openPostgresStore(server.url(database), { clock, password: server.password, poolSize: 2 })));
    try {
      const rows = await server.query<{ version: string }>('select version from schema_migrations order by version', [], database);
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        MIGRATIONS.map((m) => m.version),
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a database migrated by a newer signet is refused with ERR_STORE_SCHEMA_NEWER, and left as it was', async () => {
    const { store, database } = await freshStore();
    await store.close();
    await server.query('insert into schema_migrations (version, name, applied_at) values (999, $1, 0)', ['from-the-future'], database);
    await rejectsWith(openPostgresStore(server.url(database), { clock, password: server.password }), 'ERR_STORE_SCHEMA_NEWER');
    const rows = await server.query<{ n: string }>('select count(*) as n from schema_migrations', [], database);
    assert.equal(Number(rows[0]?.n), MIGRATIONS.length + 1);
  });

  test('schemaStatus reads an unmigrated database without changing it, and a migrated one as current', async () => {
    const database = await server.createDatabase();
    const pool = new pg.Pool({ host: server.host, port: server.port, user: server.user, password: server.password, database });
    const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
    try {
      const before = await schemaStatus(db);
      assert.equal(before.current, 0);
      assert.equal(before.pending.length, MIGRATIONS.length);
      assert.equal((await server.query('select 1 from pg_tables where tablename = $1', ['schema_migrations'], database)).length, 0);
      await (await openPostgresStore(server.url(database), { clock, password: server.password })).close();
      const afterwards = await schemaStatus(db);
      assert.deepEqual(afterwards, { current: MIGRATIONS.at(-1)?.version, latest: MIGRATIONS.at(-1)?.version, pending: [] });
    } finally {
      await db.destroy();
    }
  });

  test('text keys compare byte-wise (collation "C"), so name ranges and cursors order as on SQLite', async () => {
    const { store, database } = await freshStore();
    await store.close();
    const rows = await server.query<{ table_name: string; column_name: string; collation_name: string | null }>(
      "select table_name, column_name, collation_name from information_schema.columns where table_schema = 'public' and column_name in ('serial', 'reversed_name', 'replaced_by') order by 1, 2",
      [],
      database,
    );
    assert.ok(rows.length >= 4);
    for (const r of rows) assert.equal(r.collation_name, 'C', `${r.table_name}.${r.column_name}`);
  });
});

describe('postgresql concurrency', () => {
  test('one token consumed by 40 concurrent calls over a pool of 20 connections (and a second store) succeeds exactly once', async () => {
    const { store, database } = await freshStore({ poolSize: 20 });
    const other = await openPostgresStore(server.url(database), { clock, password: server.password, poolSize: 20 });
    try {
      for (let round = 0; round < 5; round++) {
        const jti = `race-${round}`;
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).tokens.consume({ provisioner: 'p', jti, expiresAt: at(1) })));
        assert.equal(results.filter(Boolean).length, 1, `round ${round}`);
      }
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  });

  test('a counter advanced by two stores at once (CRL numbers across replicas): every value once, none skipped; one lease holder', async () => {
    const { store, database } = await freshStore({ poolSize: 10 });
    const other = await openPostgresStore(server.url(database), { clock, password: server.password, poolSize: 10 });
    try {
      const values = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? store : other).coordination.nextCounterValue('crl-number')));
      assert.deepEqual(
        values.map(Number).sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      const leases = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).coordination.acquireLease('purge', `replica-${i}`, at(0), 60_000)));
      assert.equal(leases.filter(Boolean).length, 1);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  });

  test('concurrent replacements of one certificate from two stores: exactly one wins', async () => {
    const { store, database } = await freshStore();
    const other = await openPostgresStore(server.url(database), { clock, password: server.password });
    try {
      const old = certificate();
      await store.certificates.insert(old);
      const successors = Array.from({ length: 10 }, () => certificate());
      for (const s of successors) await store.certificates.insert(s);
      const results = await Promise.all(successors.map((s, i) => (i % 2 === 0 ? store : other).certificates.markReplaced(old.serial, s.serial)));
      assert.equal(results.filter((r) => r === 'replaced').length, 1);
      assert.equal(results.filter((r) => r === 'already-replaced').length, 9);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  });
});

describe('postgresql outage', () => {
  test('the server stops under load: calls fail fast with ERR_STORE_UNAVAILABLE, nothing half-written; after it restarts the same store works again', async () => {
    // Its own server: stopping the shared one would disturb the other tests of this file.
    const own = await startPostgres();
    try {
      const database = await own.createDatabase();
      const store = await openPostgresStore(own.url(database), { clock, password: own.password, poolSize: 4, connectTimeoutMs: 2000 });
      try {
        // Writes running while the server goes down: each either committed whole or failed with a store code.
        const writes = Array.from({ length: 200 }, async (_, i) => {
          const record = certificate();
          try {
            await store.transaction(async (tx) => {
              await tx.certificates.insert(record);
              await tx.audit.append(auditEvent({ serial: record.serial, type: `load.${i}` }));
            });
            return record.serial;
          } catch (e) {
            assert.ok(isSignetError(e) && ['ERR_STORE_UNAVAILABLE', 'ERR_STORE_BUSY'].includes(e.code), `unexpected ${String(e)}`);
            return undefined;
          }
        });
        await own.stop();
        const results = await Promise.all(writes);
        // The outage hit writes in flight or waiting (else this test would prove nothing).
        assert.ok(results.some((r) => r === undefined), 'no write failed: the server stopped too late');
        await rejectsWith(store.audit.append(auditEvent()), 'ERR_STORE_UNAVAILABLE');
        await rejectsWith(store.certificates.get(certificate().serial), 'ERR_STORE_UNAVAILABLE');

        await own.start();
        const after = certificate();
        await store.certificates.insert(after);
        assert.equal((await store.certificates.get(after.serial))?.serial, after.serial);

        // Every certificate row has its names and its audit event, and every acknowledged write is there.
        const committed = results.filter((s): s is string => s !== undefined);
        const rows = await own.query<{ serial: string; names: string; events: string }>(
          `select c.serial,
                  (select count(*) from certificate_names n where n.serial = c.serial) as names,
                  (select count(*) from audit_events a where a.serial = c.serial) as events
             from certificates c where c.serial <> $1`,
          [after.serial],
          database,
        );
        for (const r of rows) {
          assert.ok(Number(r.names) > 0, `certificate ${r.serial} without names`);
          assert.equal(Number(r.events), 1, `certificate ${r.serial} without its audit event`);
        }
        const stored = new Set(rows.map((r) => r.serial));
        for (const s of committed) assert.ok(stored.has(s), `acknowledged ${s} is missing`);
      } finally {
        await store.close();
      }
    } finally {
      await own.destroy();
    }
  });
});
