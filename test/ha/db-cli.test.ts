/**
 * The operator's commands for a CA on PostgreSQL, run as processes against a real server:
 * `signet ca init --db` (password by file or environment variable, never in the URL; refused
 * when the server cannot be reached, the login fails or the database already holds a CA),
 * `signet db status` / `signet db migrate` on PostgreSQL and SQLite, `ca start` when the
 * database is down, and the config checks of `$.db` and `$.urls`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { MIGRATIONS } from '../../src/store/index.js';
import { createTestCa, startTestCa, testCsr, testToken, httpsRequest } from '../helpers/ca.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
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
    await pg.query('drop table certificate_names, certificates, used_tokens, audit_events, schema_migrations', [], database);

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
