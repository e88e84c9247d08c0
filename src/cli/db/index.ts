/**
 * `signet db …`: the database a CA config names (SQLite or PostgreSQL).
 * - `status` / `migrate`: the schema. `ca start` migrates on its own; these let an operator see
 *   and apply migrations explicitly — before a rolling upgrade of replicas, say. `status` only reads.
 * - `backup`: a consistent online copy of a SQLite store (PostgreSQL: pg_dump).
 * - `copy`: every row of one store into another, empty one (SQLite → PostgreSQL to move a CA).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import type { DbConfig } from '../../store/open.js';
import { systemClock } from '../../core/clock.js';
import { escapeControl } from '../../core/escape.js';
import { loadCaConfig } from '../../ca/config.js';
import type { MigrationInfo, SchemaStatus } from '../../store/migrations.js';
import { addConfigOption } from '../inventory/flags.js';
import { printJson } from '../io.js';
import { DEFAULT_CONFIG_PATH } from '../ca/config-validate.js';

interface DbFlags {
  readonly config?: string;
  readonly json?: boolean;
}

/** The database a config names, for messages: its file or its URL (never with a password). */
async function target(flags: DbFlags) {
  const config = loadCaConfig(flags.config ?? DEFAULT_CONFIG_PATH);
  const open = await import('../../store/open.js');
  return { db: config.db, name: open.describeDb(config.db), open };
}

function formatStatus(name: string, s: SchemaStatus): string {
  const head = `database ${escapeControl(name)}: schema version ${s.current} (this signet: ${s.latest})`;
  if (s.pending.length === 0) return `${head}, up to date\n`;
  return `${head}, ${s.pending.length} migration(s) pending:\n${s.pending.map((m) => `  ${m.version}  ${m.name}`).join('\n')}\nrun "signet db migrate" (or start the CA, which migrates)\n`;
}

function formatMigrated(name: string, applied: readonly MigrationInfo[], s: SchemaStatus): string {
  if (applied.length === 0) return `database ${escapeControl(name)}: schema version ${s.current}, nothing to migrate\n`;
  return `database ${escapeControl(name)}: applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m.version}  ${m.name}`).join('\n')}\nschema version ${s.current}\n`;
}

/** Registers `signet db …`: status, migrate. */
export function registerDbCommands(program: Command): Command {
  const cmd = program.command('db').description("the CA's database: schema status, migrations, backups, and moving a CA to another database");

  addConfigOption(cmd.command('status').description('show the schema version of the CA database and the migrations this signet would apply (reads only)'))
    .option('--json', 'print {database, current, latest, pending} as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 shown (also when migrations are pending); 1 the schema is newer than this signet
(ERR_STORE_SCHEMA_NEWER); 5 the database file is missing or unreadable; 6 the database server is
not reachable (ERR_STORE_UNAVAILABLE).

Examples:
  $ signet db status --config /etc/signet/signet.json
  $ signet db status --json`,
    )
    .action(async (flags: DbFlags) => {
      const t = await target(flags);
      const { schemaStatus } = await import('../../store/migrations.js');
      const s = await t.open.withDatabase(t.db, {}, async (db) => {
        const status = await schemaStatus(db);
        if (status.current > status.latest) {
          throw new SignetError('ERR_STORE_SCHEMA_NEWER', `the database schema (version ${status.current}) is newer than this signet supports (version ${status.latest})`, {
            hint: 'run a signet release at least as new as the one that last migrated this database',
          });
        }
        return status;
      });
      if (flags.json === true) printJson({ database: t.name, current: s.current, latest: s.latest, pending: s.pending });
      else process.stdout.write(formatStatus(t.name, s));
    });

  addConfigOption(cmd.command('migrate').description('apply the pending migrations to the CA database (each in its own transaction; safe while replicas run)'))
    .option('--json', 'print {database, applied, current} as JSON')
    .addHelpText(
      'after',
      `
Migrations only add to the schema, so replicas running the previous release keep working while
a newer one migrates. Several processes may migrate at once: each migration is applied once.

Exit codes: 0 migrated or nothing to do; 1 the schema is newer than this signet; 5 file problem;
6 the database server is not reachable; 70 a migration failed (it was rolled back).

Examples:
  $ signet db migrate --config /etc/signet/signet.json`,
    )
    .action(async (flags: DbFlags) => {
      const t = await target(flags);
      const { migrate, schemaStatus } = await import('../../store/migrations.js');
      const { applied, status } = await t.open.withDatabase(t.db, {}, async (db) => {
        const applied = await migrate(db, systemClock);
        return { applied, status: await schemaStatus(db) };
      });
      if (flags.json === true) printJson({ database: t.name, applied, current: status.current });
      else process.stdout.write(formatMigrated(t.name, applied, status));
    });

  addConfigOption(cmd.command('backup').description('write a consistent copy of the CA\'s SQLite database while the CA runs, checked before it is put in place'))
    .requiredOption('--out <file>', 'where to write the copy (0600); refused if it exists, unless --force')
    .option('--force', 'replace an existing --out')
    .option('--json', 'print {file, bytes, schemaVersion, certificates, auditEvents} as JSON')
    .addHelpText(
      'after',
      `
SQLite's online backup reads one snapshot while the CA keeps writing; the copy passes SQLite's
integrity check before it replaces anything. To restore: stop the CA, put the copy at the path
the config names (db.path, removing any -wal/-shm files next to it), start the CA. PostgreSQL
databases are backed up with pg_dump (see the README, "Storage and replicas").

Exit codes: 0 written; 2 a PostgreSQL CA (use pg_dump); 5 the database or --out (exists) problem.

Examples:
  $ signet db backup --config /etc/signet/signet.json --out /var/backups/signet-$(date +%F).db`,
    )
    .action(async (flags: DbFlags & { out: string; force?: boolean }) => {
      const t = await target(flags);
      if (t.db.type !== 'sqlite') {
        throw new SignetError('ERR_USAGE', 'signet db backup copies SQLite databases; this CA keeps its inventory in PostgreSQL', {
          hint: `use pg_dump: pg_dump --format=custom --file signet.dump '${t.name}'`,
        });
      }
      const { checkOutputs } = await import('../io.js');
      checkOutputs([{ path: flags.out, role: '--out', mode: 0o600 }], [{ path: t.db.path, role: 'the CA database' }], { force: flags.force === true });
      const { backupSqlite } = await import('../../store/backup.js');
      const r = await backupSqlite(t.db.path, flags.out, { overwrite: flags.force === true });
      if (flags.json === true) printJson(r);
      else process.stdout.write(`backed up ${escapeControl(t.name)} to ${escapeControl(flags.out)}: ${r.bytes} bytes, schema version ${r.schemaVersion}, ${r.certificates} certificates, ${r.auditEvents} audit events (integrity checked)\n`);
    });

  cmd
    .command('copy')
    .description('copy a CA database (inventory, used tokens, audit log, ACME state, counters, CRLs) into another, empty one')
    .requiredOption('--from <db>', 'the source: sqlite:PATH, postgres://user@host:port/database, or config:PATH (the db of a CA config)')
    .requiredOption('--to <db>', 'the target, written the same ways; it is migrated first and must be empty')
    .option('--from-password-file <file>', 'password of a postgres:// --from')
    .option('--from-password-env <var>', 'or the environment variable holding it')
    .option('--to-password-file <file>', 'password of a postgres:// --to')
    .option('--to-password-env <var>', 'or the environment variable holding it')
    .option('--json', 'print the rows copied per table as JSON')
    .addHelpText(
      'after',
      `
The source is read in one snapshot (a CA may keep serving from it, but what it writes after the
snapshot is not copied: stop it for a move), the target written in one transaction and checked
row count by row count. Audit ids and used one-time tokens are kept: a token used before the
move stays used after it. Then point the CA config's db at the target (or use config: for it).
postgres:// endpoints connect without TLS; for a database that needs TLS, name a CA config whose
db section has the tls settings (config:PATH).

Exit codes: 0 copied; 1 the target is not empty (ERR_STORE_NOT_EMPTY), or a schema is older or
newer than this signet; 2 bad flags; 5 file problem; 6 a database server is not reachable.

Examples:
  $ signet db copy --from sqlite:/etc/signet/ca/db/signet.db \\
      --to postgres://signet@db.example.com/signet --to-password-file /etc/signet/db-password
  $ signet db copy --from config:/etc/signet/ca --to sqlite:/tmp/inventory-copy.db`,
    )
    .action(async (flags: CopyFlags) => {
      const from = await endpoint(flags.from, '--from', flags.fromPasswordFile, flags.fromPasswordEnv);
      const to = await endpoint(flags.to, '--to', flags.toPasswordFile, flags.toPasswordEnv);
      const open = await import('../../store/open.js');
      if (from.type === 'sqlite' && to.type === 'sqlite') {
        if (resolve(from.path) === resolve(to.path)) {
          throw new SignetError('ERR_USAGE', '--from and --to are the same database');
        }
      }
      const { copyStore } = await import('../../store/copy.js');
      const copied = await open.withDatabase(from, { readSnapshots: true }, (src) => open.withDatabase(to, { mustExist: false }, (dst) => copyStore(src, dst, systemClock)));
      if (flags.json === true) printJson({ from: open.describeDb(from), to: open.describeDb(to), copied });
      else {
        process.stdout.write(
          `copied ${escapeControl(open.describeDb(from))} to ${escapeControl(open.describeDb(to))}: ${copied.certificates} certificates, ${copied.certificate_names} names, ${copied.used_tokens} used tokens, ${copied.audit_events} audit events, ${copied.acme_accounts} ACME accounts, ${copied.acme_orders} ACME orders, ${copied.crls} CRLs\n`,
        );
      }
    });

  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet db status
  $ signet db migrate --config /etc/signet/signet.json
  $ signet db backup --out signet-backup.db
  $ signet db copy --from sqlite:.signet/ca/db/signet.db --to postgres://signet@db/signet --to-password-file db-pw.txt`,
  );
  return cmd;
}

interface CopyFlags {
  readonly from: string;
  readonly to: string;
  readonly fromPasswordFile?: string;
  readonly fromPasswordEnv?: string;
  readonly toPasswordFile?: string;
  readonly toPasswordEnv?: string;
  readonly json?: boolean;
}

/** A --from/--to value as the db section of a config: sqlite:PATH, postgres://…, or config:PATH. */
async function endpoint(text: string, flag: string, passwordFile: string | undefined, passwordEnv: string | undefined): Promise<DbConfig> {
  const noPassword = (what: string) => {
    if (passwordFile !== undefined || passwordEnv !== undefined) throw new SignetError('ERR_USAGE', `${flag}-password-file and ${flag}-password-env go with a postgres:// ${flag}, not ${what}`);
  };
  if (text.startsWith('sqlite:')) {
    noPassword('sqlite:');
    const path = text.slice('sqlite:'.length);
    if (path === '') throw new SignetError('ERR_BAD_OPTION', `${flag} sqlite: needs a path, e.g. sqlite:ca/db/signet.db`);
    return { type: 'sqlite', path: resolve(path) };
  }
  if (text.startsWith('config:')) {
    noPassword('config:');
    return loadCaConfig(text.slice('config:'.length) || DEFAULT_CONFIG_PATH).db;
  }
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) {
    const { parsePostgresUrl, POSTGRES_DEFAULTS } = await import('../../store/postgres-url.js');
    try {
      parsePostgresUrl(text);
    } catch (e) {
      throw new SignetError('ERR_BAD_OPTION', `invalid ${flag}: ${e instanceof Error ? e.message : String(e)}`, { hint: `give the password with ${flag}-password-file FILE or ${flag}-password-env VAR` });
    }
    if (passwordFile !== undefined && passwordEnv !== undefined) throw new SignetError('ERR_USAGE', `give ${flag}-password-file or ${flag}-password-env, not both`);
    return {
      type: 'postgres',
      url: text,
      passwordFile: passwordFile === undefined ? undefined : resolve(passwordFile),
      passwordEnv,
      poolSize: 2,
      // A copy runs long statements (pages of 500 rows); the CA's 5 s default is for requests.
      statementTimeoutMs: 10 * 60_000,
      connectTimeoutMs: POSTGRES_DEFAULTS.connectTimeoutMs,
      tls: { mode: 'disable', ca: undefined },
    };
  }
  throw new SignetError('ERR_BAD_OPTION', `invalid ${flag} "${text.replace(/:\/\/[^@/]*@/, '://…@')}"`, { hint: 'use sqlite:PATH, postgres://user@host:port/database or config:PATH' });
}
