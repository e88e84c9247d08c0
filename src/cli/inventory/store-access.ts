/**
 * Opening the CA's store for the operator's read commands (`inventory …`, `audit list`): the
 * config names the database, and the commands only read it. SQLite in WAL mode lets them read
 * while `signet ca start` writes the same file (readers never wait for the writer).
 */
import { existsSync } from 'node:fs';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { loadCaConfig } from '../../ca/config.js';
import type { Store } from '../../store/store.js';
import { DEFAULT_CONFIG_PATH } from '../ca/config-validate.js';

/** The `--config` help text every inventory and audit command shares. */
export const CONFIG_OPTION_HELP = `the CA config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`;

/** The files a read command uses, for the same-file checks of an output. */
export interface StoreFiles {
  readonly config: string;
  /** The SQLite database file; undefined for PostgreSQL. */
  readonly database: string | undefined;
}

/**
 * Runs `fn` with the store of the CA configured at `configPath` (a `signet.json` or a CA
 * directory; default {@link DEFAULT_CONFIG_PATH}) and closes it afterwards, also when `fn`
 * throws.
 *
 * The database must exist: a missing file is ERR_FILE_NOT_FOUND instead of a new, empty
 * database that would make every query answer "nothing" (opening through the store would create
 * it). The store is opened with the same code as `ca start` (migrations already applied are not
 * rerun, so nothing is written); the commands then only call its read methods.
 */
export async function withStore<T>(configPath: string | undefined, fn: (store: Store, files: StoreFiles) => Promise<T>): Promise<T> {
  const path = configPath ?? DEFAULT_CONFIG_PATH;
  const config = loadCaConfig(path);
  const configFile = config.configPath ?? path;
  const database = config.db.type === 'sqlite' ? config.db.path : undefined;
  if (database !== undefined && !existsSync(database)) {
    throw new SignetError('ERR_FILE_NOT_FOUND', `the CA database ${database} does not exist`, {
      hint: `create the CA with "signet ca init", or check $.db.path in ${configFile}`,
    });
  }
  // Loaded here, not at the top: the store's modules (Kysely, SQLite, PostgreSQL) cost every other command's start-up.
  const { openConfiguredStore } = await import('../../store/open.js');
  const store = await openConfiguredStore(config.db, { clock: systemClock });
  try {
    return await fn(store, { config: configFile, database });
  } finally {
    await store.close();
  }
}
