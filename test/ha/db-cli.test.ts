/**
 * The operator's commands for a CA on PostgreSQL, run as processes against a real server:
 * `signet ca init --db` (password by file or environment variable, never in the URL; refused
 * when the server cannot be reached, the login fails or the database already holds a CA),
 * `signet db status` / `signet db migrate` on PostgreSQL and SQLite, `ca start` when the
 * database is down, and the config checks of `$.db` and `$.urls`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { MIGRATIONS } from '../../src/store/index.js';
import { createTestCa, startTestCa, testCsr, testToken, httpsRequest } from '../helpers/ca.js';
import { CLI_PATH, fails, ok, signet } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';
import { postgresBinDir, startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { freePort } from '../helpers/net.js';

const tmp = tempDir('signet-db-cli-');
let pg: PostgresServer;
const latest = MIGRATIONS.at(-1)?.version ?? 0;

before(async () => {
  pg = await startPostgres();
  writeFileSync(tmp.path('pw.txt'), 'ca password\n', { mode: 0o600 });
  writeFileSync(tmp.path('wrong-db-pw.txt'), 'not the database password\n', { mode: 0o600 });
});

after(async () => {
  await pg.destroy();
  tmp.cleanup();
});

let sequence = 0;
/** `signet ca init` flags for a new CA directory under tmp, plus `extra`. */
function initArgs(extra: readonly string[]): { args: string[]; dir: string; rootKey: string } {
  const n = ++sequence;
  const dir = tmp.path(`ca-${n}`);
  const rootKey = tmp.path(`root-${n}.key`);
  return {
    args: ['ca', 'init', '--name', `Db Test ${n}`, '--dir', dir, '--password-file', tmp.path('pw.txt'), '--provisioner-password-file', tmp.path('pw.txt'), '--root-key-out', rootKey, ...extra],
    dir,
    rootKey,
  };
}


describe('ca init --db', () => {
  test('with the password in a file: the config names the URL and the file, the schema is migrated, db status agrees', async () => {
    const database = await pg.createDatabase();
    const { args, dir } = initArgs(['--db', pg.url(database), '--db-password-file', pg.passwordFile]);
    const r = ok(signet([...args, '--json']));
    const out = JSON.parse(r.stdout) as { database: string; files: string[] };
    assert.equal(out.database, pg.url(database));
    assert.ok(!out.files.some((f) => f.endsWith('.db')), 'no SQLite file');
    assert.ok(!existsSync(`${dir}/db`));
    const config = JSON.parse(readFileSync(`${dir}/signet.json`, 'utf8')) as { db: Record<string, unknown> };
    assert.deepEqual(config.db, { type: 'postgres', url: pg.url(database), passwordFile: pg.passwordFile });
    assert.doesNotMatch(readFileSync(`${dir}/signet.json`, 'utf8'), new RegExp(pg.password));
    const migrated = await pg.query<{ n: string }>('select count(*) as n from schema_migrations', [], database);
    assert.equal(Number(migrated[0]?.n), MIGRATIONS.length);

    const status = JSON.parse(ok(signet(['db', 'status', '--config', dir, '--json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(status, { database: pg.url(database), current: latest, latest, pending: [] });
    assert.match(ok(signet(['db', 'status', '--config', dir])).stdout, /schema version \d+ \(this signet: \d+\), up to date/);
    assert.match(ok(signet(['db', 'migrate', '--config', dir])).stdout, /nothing to migrate/);
    ok(signet(['ca', 'config', 'validate', '--config', dir]));
  });

  test('with the password in an environment variable: init and a CA that issues, the variable named in the config, its value nowhere', async () => {
    const database = await pg.createDatabase();
    const { args, dir } = initArgs(['--db', pg.url(database), '--db-password-env', 'SIGNET_TEST_DB_PASSWORD']);
    ok(signet(args, { env: { SIGNET_TEST_DB_PASSWORD: pg.password } }));
    const text = readFileSync(`${dir}/signet.json`, 'utf8');
    assert.match(text, /"passwordEnv": "SIGNET_TEST_DB_PASSWORD"/);
    assert.doesNotMatch(text, new RegExp(pg.password));
    // Without the variable, the CA says which one is missing.
    fails(signet(['db', 'status', '--config', dir], { env: { SIGNET_TEST_DB_PASSWORD: '' } }), 4, 'ERR_PASSWORD_EMPTY');
    assert.match(signet(['db', 'status', '--config', dir], { env: { SIGNET_TEST_DB_PASSWORD: '' } }).stderr, /SIGNET_TEST_DB_PASSWORD/);
    fails(signet(['db', 'status', '--config', dir], { env: { SIGNET_TEST_DB_PASSWORD: 'wrong' } }), 1, 'ERR_STORE_AUTH');
  });

  test('refused before anything is written: a password in the URL, a bad URL, password flags without --db, both password flags, --db with --pki-only', () => {
    const cases: [string[], number, string][] = [
      [['--db', `postgres://signet:hunter2@127.0.0.1:${pg.port}/x`], 2, 'ERR_BAD_OPTION'],
      [['--db', 'mysql://signet@127.0.0.1/x'], 2, 'ERR_BAD_OPTION'],
      [['--db-password-file', pg.passwordFile], 2, 'ERR_USAGE'],
      [['--db', pg.url('x'), '--db-password-file', pg.passwordFile, '--db-password-env', 'X'], 2, 'ERR_USAGE'],
      [['--db', pg.url('x'), '--db-password-env', 'NOT-A-NAME'], 2, 'ERR_BAD_OPTION'],
      [['--db', pg.url('x'), '--pki-only'], 2, 'ERR_USAGE'],
    ];
    for (const [extra, status, code] of cases) {
      const { args, dir, rootKey } = initArgs(extra);
      const r = signet(args);
      fails(r, status, code);
      assert.doesNotMatch(r.stderr, /hunter2/);
      assert.ok(!existsSync(dir) && !existsSync(rootKey), `nothing written for ${extra.join(' ')}`);
    }
  });

  test('refused, leaving no CA and no root key: the server unreachable (6), the login refused (1), the database already holding a CA (5)', async () => {
    const port = await freePort();
    const down = initArgs(['--db', `postgres://signet@127.0.0.1:${port}/ca`, '--db-password-file', pg.passwordFile]);
    fails(signet(down.args), 6, 'ERR_STORE_UNAVAILABLE');
    assert.ok(!existsSync(down.dir) && !existsSync(down.rootKey));

    const database = await pg.createDatabase();
    const wrong = initArgs(['--db', pg.url(database), '--db-password-file', tmp.path('wrong-db-pw.txt')]);
    const r = signet(wrong.args);
    fails(r, 1, 'ERR_STORE_AUTH');
    assert.doesNotMatch(r.stderr, /not the database password/);
    assert.ok(!existsSync(wrong.dir) && !existsSync(wrong.rootKey));

    // A CA on that database issues one certificate; a second CA may not share its inventory.
    mkdirSync(tmp.path('first-ca'));
    const first = await createTestCa({ parent: tmp.path('first-ca'), db: { url: pg.url(database), passwordFile: pg.passwordFile } });
    const running = await startTestCa(first);
    try {
      const csr = testCsr('one.example.com', ['one.example.com']);
      const issued = await httpsRequest(first, `${running.url}/sign`, { body: { csr: csr.pem, ott: await testToken(first, running, { subject: 'one.example.com' }) } });
      assert.equal(issued.status, 201, issued.text);
    } finally {
      await running.close();
    }
    const second = initArgs(['--db', pg.url(database), '--db-password-file', pg.passwordFile]);
    fails(signet(second.args), 5, 'ERR_CA_EXISTS');
    assert.ok(!existsSync(second.dir) && !existsSync(second.rootKey));
  });
});

describe('db status / db migrate', () => {
  test('an unmigrated PostgreSQL database: status lists the pending migrations and changes nothing; migrate applies them once', async () => {
    const database = await pg.createDatabase();
    const { args, dir } = initArgs(['--db', pg.url(database), '--db-password-file', pg.passwordFile]);
    ok(signet(args));
    // Back to an empty database, as a fresh replica target would be.
    const tables = await pg.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public'", [], database);
    assert.ok(tables.length > 0);
    await pg.query(`drop table ${tables.map((t) => `"${t.tablename}"`).join(', ')}`, [], database);

    const before = JSON.parse(ok(signet(['db', 'status', '--config', dir, '--json'])).stdout) as { current: number; pending: { version: number }[] };
    assert.equal(before.current, 0);
    assert.deepEqual(before.pending.map((m) => m.version), MIGRATIONS.map((m) => m.version));
    assert.equal((await pg.query("select 1 from pg_tables where tablename = 'schema_migrations'", [], database)).length, 0, 'status wrote nothing');
    assert.match(ok(signet(['db', 'status', '--config', dir])).stdout, /migration\(s\) pending:\n {2}1 {2}initial-schema/);

    const migrated = JSON.parse(ok(signet(['db', 'migrate', '--config', dir, '--json'])).stdout) as { applied: { version: number }[]; current: number };
    assert.deepEqual(migrated.applied.map((m) => m.version), MIGRATIONS.map((m) => m.version));
    assert.equal(migrated.current, latest);
    assert.deepEqual((JSON.parse(ok(signet(['db', 'migrate', '--config', dir, '--json'])).stdout) as { applied: unknown[] }).applied, []);

    // A newer signet migrated it since: both commands refuse, exit 1.
    await pg.query("insert into schema_migrations (version, name, applied_at) values (9999, 'from-the-future', 0)", [], database);
    fails(signet(['db', 'status', '--config', dir]), 1, 'ERR_STORE_SCHEMA_NEWER');
    fails(signet(['db', 'migrate', '--config', dir]), 1, 'ERR_STORE_SCHEMA_NEWER');
  });

  test('on SQLite: status and migrate of a CA made by ca init; a missing database file is ERR_FILE_NOT_FOUND, not a new empty one', () => {
    const { args, dir } = initArgs([]);
    ok(signet(args));
    const status = JSON.parse(ok(signet(['db', 'status', '--config', dir, '--json'])).stdout) as Record<string, unknown>;
    assert.equal(status.current, latest);
    assert.match(String(status.database), /db\/signet\.db$/);
    assert.match(ok(signet(['db', 'migrate', '--config', dir])).stdout, /nothing to migrate/);
    const doc = JSON.parse(readFileSync(`${dir}/signet.json`, 'utf8')) as Record<string, unknown>;
    doc.db = { type: 'sqlite', path: 'db/elsewhere.db' };
    writeFileSync(`${dir}/signet.json`, JSON.stringify(doc));
    fails(signet(['db', 'status', '--config', dir]), 5, 'ERR_FILE_NOT_FOUND');
    assert.ok(!existsSync(`${dir}/db/elsewhere.db`));
  });
});

describe('ca start on PostgreSQL', () => {
  test('the database down at start: one line with ERR_STORE_UNAVAILABLE naming the URL (no password), exit 6', async () => {
    const port = await freePort();
    const database = await pg.createDatabase();
    const { args, dir } = initArgs(['--db', pg.url(database), '--db-password-file', pg.passwordFile]);
    ok(signet(args));
    const doc = JSON.parse(readFileSync(`${dir}/signet.json`, 'utf8')) as { db: { url: string } };
    doc.db.url = `postgres://signet@127.0.0.1:${port}/${database}`;
    writeFileSync(`${dir}/signet.json`, JSON.stringify(doc));
    const r = signet(['ca', 'start', '--config', dir]);
    fails(r, 6, 'ERR_STORE_UNAVAILABLE');
    assert.match(r.stderr, new RegExp(`postgres://signet@127\\.0\\.0\\.1:${port}/${database}`));
    assert.doesNotMatch(r.stderr, new RegExp(pg.password));
  });
});

describe('config: $.db and $.urls', () => {
  test('every problem reported with its path: password in the URL, an inline password, both password sources, bad pool and timeouts, TLS CA without verify-full, urls off dnsNames', () => {
    const { args, dir } = initArgs([]);
    ok(signet(args));
    const doc = JSON.parse(readFileSync(`${dir}/signet.json`, 'utf8')) as Record<string, unknown>;
    doc.db = {
      type: 'postgres',
      url: 'postgres://signet:hunter2@db.example.com/ca',
      password: 'inline',
      passwordFile: 'db-pw.txt',
      passwordEnv: 'DB_PW',
      poolSize: 0,
      statementTimeout: '0s',
      connectTimeout: 'soon',
      tls: { mode: 'require', ca: 'db-ca.pem' },
    };
    doc.urls = ['https://lb.example.com', 'https://localhost/path'];
    writeFileSync(`${dir}/signet.json`, JSON.stringify(doc, null, 2));
    const r = signet(['ca', 'config', 'validate', '--config', dir, '--json']);
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /hunter2/);
    const problems = (JSON.parse(r.stderr) as { error: { detail: { problems: { path: string; message: string }[] } } }).error.detail.problems;
    const at = (path: string) => problems.find((p) => p.path === path)?.message ?? `(no problem at ${path}: ${JSON.stringify(problems)})`;
    assert.match(at('$.db.url'), /contains a password/);
    assert.match(at('$.db.password'), /did you mean "passwordFile"/);
    assert.match(at('$.db.passwordEnv'), /not both/);
    assert.match(at('$.db.poolSize'), /1 to 1000/);
    assert.match(at('$.db.statementTimeout'), /greater than zero/);
    assert.match(at('$.db.connectTimeout'), /duration/);
    assert.match(at('$.db.tls.ca'), /verify-full/);
    assert.match(at('$.urls[0]'), /not one of dnsNames/);
    assert.match(at('$.urls[1]'), /without a path/);
  });
});

/**
 * The public URL of the CAs below (`urls` in their config): tokens name it, so a token minted
 * before a restart or a move is judged by its use, not by the new port.
 */
const PUBLIC_URL = 'https://localhost';
const publicUrl = (doc: Record<string, unknown>) => void (doc.urls = [PUBLIC_URL]);

/** Issues one certificate for `name` on `running` (a token used up, an inventory row, an audit event). */
async function issueOn(ca: Awaited<ReturnType<typeof createTestCa>>, running: { url: string }, name: string): Promise<{ serial: string; ott: string; csr: string }> {
  const csr = testCsr(name, [name]).pem;
  const ott = await testToken(ca, { url: PUBLIC_URL }, { subject: name });
  const r = await httpsRequest(ca, `${running.url}/sign`, { body: { csr, ott } });
  assert.equal(r.status, 201, r.text);
  return { serial: r.json?.serial as string, ott, csr };
}

function exported(configDir: string): unknown[] {
  return ok(signet(['inventory', 'export', '--config', configDir]))
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

function editDb(configDir: string, db: Record<string, unknown>): void {
  const doc = JSON.parse(readFileSync(`${configDir}/signet.json`, 'utf8')) as Record<string, unknown>;
  doc.db = db;
  writeFileSync(`${configDir}/signet.json`, JSON.stringify(doc, null, 2));
}

describe('db backup (SQLite)', () => {
  test('a consistent copy while the CA issues; restoring it gives back every certificate and every used token', async () => {
    mkdirSync(tmp.path('backup-ca'));
    const ca = await createTestCa({ parent: tmp.path('backup-ca'), edit: publicUrl });
    let running = await startTestCa(ca);
    let stopped = false;
    try {
      const before = await Promise.all(Array.from({ length: 20 }, (_, i) => issueOn(ca, running, `before-${i}.example.com`)));
      // The backup runs (another process) while issuances keep arriving.
      const out = tmp.path('signet-backup.db');
      const backup = import('node:child_process').then(({ spawn }) => {
        const p = spawn(process.execPath, [CLI_PATH, 'db', 'backup', '--config', ca.dir, '--out', out, '--json']);
        let stdout = '';
        p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        return new Promise<{ code: number | null; stdout: string }>((resolve) => p.on('exit', (code) => resolve({ code, stdout })));
      });
      const during = await Promise.all(Array.from({ length: 20 }, (_, i) => issueOn(ca, running, `during-${i}.example.com`)));
      const b = await backup;
      assert.equal(b.code, 0);
      const report = JSON.parse(b.stdout) as { file: string; certificates: number; schemaVersion: number };
      // The 20 before, some of the 20 during, and the CA's own OCSP responder certificate.
      assert.ok(report.certificates >= 21 && report.certificates <= 41, String(report.certificates));
      assert.equal(report.schemaVersion, latest);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('signet-backup.db') && f !== 'signet-backup.db'), [], 'no temporary or -wal files left');

      // Refusals: an existing --out without --force, the database itself, a PostgreSQL CA.
      fails(signet(['db', 'backup', '--config', ca.dir, '--out', out]), 5, 'ERR_FILE_EXISTS');
      // --force replaces the copy: the file restored below is this second backup.
      const forced = JSON.parse(ok(signet(['db', 'backup', '--config', ca.dir, '--out', out, '--force', '--json'])).stdout) as { certificates: number };
      fails(signet(['db', 'backup', '--config', ca.dir, '--out', `${ca.dir}/db/signet.db`, '--force']), 2, 'ERR_USAGE');

      // Restore: stop the CA, put the copy in place, start it again.
      await running.close();
      stopped = true;
      const dbPath = `${ca.dir}/db/signet.db`;
      for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
      copyFileSync(out, dbPath);
      const restartedAt = Date.now();
      running = await startTestCa(ca);
      stopped = false;
        const restored = await running.store.certificates.list({}, { limit: 1000 });
        const serials = new Set(restored.items.map((c) => c.serial));
        for (const c of before) assert.ok(serials.has(c.serial), `restored ${c.serial}`);
        // The restored inventory is exactly what the backup that wrote the file counted, and the
        // responder certificate the restarted CA issued itself.
        assert.equal(restored.items.filter((c) => c.profile !== 'ocsp-responder' || c.issuedAt.getTime() < restartedAt).length, forced.certificates);
        assert.equal(restored.items.length, forced.certificates + 1);
        // A token used before the backup is still used after the restore.
        const replay = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: before[0]?.csr, ott: before[0]?.ott } });
        assert.equal(replay.status, 401, replay.text);
        assert.equal(replay.json?.code, 'ERR_TOKEN_REPLAYED');
        assert.ok(during.length === 20);
        await issueOn(ca, running, 'after-restore.example.com');
    } finally {
      if (!stopped) await running.close();
    }
  });

  test('a PostgreSQL CA is pointed to pg_dump (exit 2)', async () => {
    const database = await pg.createDatabase();
    const { args, dir } = initArgs(['--db', pg.url(database), '--db-password-file', pg.passwordFile]);
    ok(signet(args));
    const r = signet(['db', 'backup', '--config', dir, '--out', tmp.path('pg.db')]);
    fails(r, 2, 'ERR_USAGE');
    assert.match(r.stderr, /pg_dump --format=custom/);
  });
});

describe('db copy and PostgreSQL dump/restore', () => {
  test('SQLite → PostgreSQL moves a CA: every record, used token and audit event; the CA then runs on PostgreSQL; PostgreSQL → SQLite gives the same inventory back', async () => {
    mkdirSync(tmp.path('move-ca'));
    const ca = await createTestCa({ parent: tmp.path('move-ca'), edit: publicUrl });
    const running = await startTestCa(ca);
    const issued = await Promise.all(Array.from({ length: 30 }, (_, i) => issueOn(ca, running, `move-${i}.example.com`)));
    // One revocation and a CRL for it: the CRL number must keep growing after the move.
    await running.authority.revokeAuthorized({ serial: issued[1]?.serial ?? '', reason: 'superseded', actor: 'test' });
    await running.publishRevocations();
    const crlBefore = running.crl?.served()?.number ?? 0n;
    assert.ok(crlBefore >= 2n);
    await running.close();
    const sqlitePath = `${ca.dir}/db/signet.db`;
    const before = exported(ca.dir);
    const auditBefore = ok(signet(['audit', 'list', '--config', ca.dir, '--json', '--limit', '1000'])).stdout;

    const database = await pg.createDatabase();
    const copied = JSON.parse(ok(signet(['db', 'copy', '--from', `config:${ca.dir}`, '--to', pg.url(database), '--to-password-file', pg.passwordFile, '--json'])).stdout) as {
      copied: Record<string, number>;
    };
    assert.equal(copied.copied.certificates, 31, 'the 30 issued and the OCSP responder certificate');
    assert.equal(copied.copied.used_tokens, 30);
    assert.ok((copied.copied.crls ?? 0) >= 2, 'the signed CRLs');
    assert.ok((copied.copied.counters ?? 0) >= 2, 'the CRL number and revocation sequence counters');
    assert.equal(copied.copied.settings, 1, 'the ACME nonce key');
    // Into a database that is no longer empty: refused, nothing changed.
    fails(signet(['db', 'copy', '--from', `sqlite:${sqlitePath}`, '--to', pg.url(database), '--to-password-file', pg.passwordFile]), 1, 'ERR_STORE_NOT_EMPTY');

    editDb(ca.dir, { type: 'postgres', url: pg.url(database), passwordFile: pg.passwordFile });
    assert.deepEqual(exported(ca.dir), before);
    assert.equal(ok(signet(['audit', 'list', '--config', ca.dir, '--json', '--limit', '1000'])).stdout, auditBefore, 'audit ids and events unchanged');
    // The test ticks the revocation watcher itself (a timer tick after the revocation would race it).
    const moved = await startTestCa({ ...ca, config: (await import('../../src/ca/config.js')).loadCaConfig(ca.configPath) }, { revocationIntervalMs: 3_600_000 });
    try {
      assert.equal(moved.crl?.served()?.number, crlBefore, 'the moved CA serves the copied CRL');
      await moved.authority.revokeAuthorized({ serial: issued[2]?.serial ?? '', actor: 'test' });
      assert.equal((await moved.publishRevocations()).crl?.decision, 'revocations');
      assert.equal(moved.crl?.served()?.number, crlBefore + 1n, 'CRL numbers continue after the copied ones');
      assert.equal(moved.crl?.served()?.entries, 2);
      const replay = await httpsRequest(ca, `${moved.url}/sign`, { body: { csr: issued[0]?.csr, ott: issued[0]?.ott } });
      assert.equal(replay.json?.code, 'ERR_TOKEN_REPLAYED', 'a token used before the move stays used');
      await issueOn(ca, moved, 'moved.example.com');
      const newest = await moved.store.audit.list({ limit: 1 });
      const maxBefore = Math.max(...(JSON.parse(auditBefore) as { id: number }[]).map((e) => e.id));
      assert.ok((newest[0]?.id ?? 0) > maxBefore, 'new audit ids continue after the copied ones');
    } finally {
      await moved.close();
    }

    // And back: PostgreSQL → a new SQLite file, the same inventory (with the revocation made on PostgreSQL).
    const onPostgres = exported(ca.dir);
    const back = tmp.path('back/signet.db');
    ok(signet(['db', 'copy', '--from', `config:${ca.dir}`, '--to', `sqlite:${back}`]));
    editDb(ca.dir, { type: 'sqlite', path: back });
    const roundTrip = exported(ca.dir);
    // The 31 copied, moved.example.com, and the moved CA's own responder certificate.
    assert.equal(roundTrip.length, 33);
    assert.deepEqual(roundTrip, onPostgres);
  });

  test('pg_dump while serving, pg_restore into a new database: the CA runs on the restored one with its inventory and used tokens', async () => {
    mkdirSync(tmp.path('dump-ca'));
    const database = await pg.createDatabase();
    const ca = await createTestCa({ parent: tmp.path('dump-ca'), db: { url: pg.url(database), passwordFile: pg.passwordFile }, edit: publicUrl });
    const running = await startTestCa(ca);
    let issued: Awaited<ReturnType<typeof issueOn>>[] | undefined;
    try {
      issued = await Promise.all(Array.from({ length: 10 }, (_, i) => issueOn(ca, running, `dump-${i}.example.com`)));
      const bin = postgresBinDir();
      const env = { ...process.env, PGPASSWORD: pg.password };
      const dump = tmp.path('signet.dump');
      // pg_dump reads one snapshot while the CA keeps serving.
      const [dumped] = await Promise.all([
        runAsync(`${bin}/pg_dump`, ['--format=custom', '--file', dump, pg.url(database)], '', { env }),
        issueOn(ca, running, 'while-dumping.example.com'),
      ]);
      assert.equal(dumped.code, 0, dumped.stderr);
      const restoredDb = await pg.createDatabase('restored');
      const restored = await runAsync(`${bin}/pg_restore`, ['--no-owner', '--dbname', pg.url(restoredDb), dump], '', { env });
      assert.equal(restored.code, 0, restored.stderr);
      editDb(ca.dir, { type: 'postgres', url: pg.url(restoredDb), passwordFile: pg.passwordFile });
    } finally {
      await running.close();
    }
    const fromRestore = exported(ca.dir);
    assert.ok(fromRestore.length >= 10);
    const again = await startTestCa({ ...ca, config: (await import('../../src/ca/config.js')).loadCaConfig(ca.configPath) });
    try {
      const replay = await httpsRequest(ca, `${again.url}/sign`, { body: { csr: issued?.[0]?.csr, ott: issued?.[0]?.ott } });
      assert.equal(replay.json?.code, 'ERR_TOKEN_REPLAYED');
      await issueOn(ca, again, 'after-pg-restore.example.com');
      ok(signet(['db', 'status', '--config', ca.dir]));
    } finally {
      await again.close();
    }
  });

  test('refused: sqlite: without a path, an unknown scheme, a password flag with sqlite:, the same file twice, a source on an older schema', async () => {
    fails(signet(['db', 'copy', '--from', 'sqlite:', '--to', 'sqlite:x.db']), 2, 'ERR_BAD_OPTION');
    fails(signet(['db', 'copy', '--from', 'mysql://a@b/c', '--to', 'sqlite:x.db']), 2, 'ERR_BAD_OPTION');
    fails(signet(['db', 'copy', '--from', 'sqlite:a.db', '--from-password-file', pg.passwordFile, '--to', 'sqlite:x.db']), 2, 'ERR_USAGE');
    fails(signet(['db', 'copy', '--from', `sqlite:${tmp.path('same.db')}`, '--to', `sqlite:${tmp.path('same.db')}`]), 2, 'ERR_USAGE');
    fails(signet(['db', 'copy', '--from', `sqlite:${tmp.path('missing.db')}`, '--to', `sqlite:${tmp.path('t.db')}`]), 5, 'ERR_FILE_NOT_FOUND');
    // A source a release behind: migration 2 not applied yet.
    const { args, dir } = initArgs([]);
    ok(signet(args));
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(`${dir}/db/signet.db`);
    raw.exec("delete from schema_migrations where version = 2; create index certificate_names_type_value on certificate_names (type, value)");
    raw.close();
    fails(signet(['db', 'copy', '--from', `config:${dir}`, '--to', `sqlite:${tmp.path('older.db')}`]), 1, 'ERR_STORE_SCHEMA_OLDER');
    ok(signet(['db', 'migrate', '--config', dir]));
    ok(signet(['db', 'copy', '--from', `config:${dir}`, '--to', `sqlite:${tmp.path('older.db')}`]));
  });
});
