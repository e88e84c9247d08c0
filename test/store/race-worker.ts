/**
 * Worker thread for the SQLite race tests: its own better-sqlite3 connection, truly in parallel
 * with the others. Every worker reports `ready`, then blocks on a shared flag until the test
 * releases all of them at once (Atomics.wait: a barrier, not a sleep). Does nothing when loaded
 * any other way (e.g. by a test runner that picks up every file in the folder).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../src/core/clock.js';
import { isSignetError } from '../../src/core/errors.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';

/** What a race worker is asked to do. */
export interface RaceJob {
  readonly kind: 'signet-store-race';
  /** `consume`: open, wait, consume jti-0 … jti-(count-1). `open`: wait, open (migrating a fresh file), insert one audit event. */
  readonly mode: 'consume' | 'open';
  readonly path: string;
  readonly count: number;
  /** Int32Array[0]: 0 = wait, 1 = go. */
  readonly flag: SharedArrayBuffer;
}

/** What a race worker answers. */
export type RaceReply = { readonly ready: true } | { readonly wins: readonly number[] } | { readonly error: string };

function isJob(x: unknown): x is RaceJob {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'signet-store-race';
}

async function run(job: RaceJob, port: NonNullable<typeof parentPort>): Promise<void> {
  const flag = new Int32Array(job.flag);
  const reply = (r: RaceReply) => port.postMessage(r);
  const open = () => openSqliteStore(job.path, { clock: systemClock, busyTimeoutMs: 60_000 });
  let store: Store | undefined;
  try {
    if (job.mode === 'consume') store = await open();
    reply({ ready: true });
    Atomics.wait(flag, 0, 0);
    const wins: number[] = [];
    if (job.mode === 'open') {
      store = await open();
      await store.audit.append({ time: new Date(0), type: 'worker.open', outcome: 'success', actor: 'worker' });
    } else {
      for (let i = 0; i < job.count; i++) {
        if (await store!.tokens.consume({ provisioner: 'race', jti: `jti-${i}`, expiresAt: new Date(Date.UTC(2100, 0, 1)) })) wins.push(i);
      }
    }
    await store!.close();
    reply({ wins });
  } catch (e) {
    await store?.close();
    reply({ error: isSignetError(e) ? `${e.code}: ${e.message}` : String(e) });
  }
}

if (!isMainThread && parentPort !== null && isJob(workerData)) void run(workerData, parentPort);
