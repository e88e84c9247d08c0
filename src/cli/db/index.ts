/**
 * `signet db status` and `signet db migrate`: the schema of the database a CA config names
 * (SQLite or PostgreSQL). `ca start` migrates on its own; these commands let an operator see and
 * apply migrations explicitly — before a rolling upgrade of replicas, say — without starting a
 * server. `status` only reads.
 */
import type { Command } from 'commander';
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
  const cmd = program.command('db').description("the CA's database: schema status and migrations");

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
          const { SignetError } = await import('../../core/errors.js');
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

  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet db status
  $ signet db migrate --config /etc/signet/signet.json`,
  );
  return cmd;
}
