/**
 * One CA server process of the issuance benchmark (bench/issuance.ts forks it as a node:cluster
 * worker): starts the CA of the config file named by argv[2] on port 0 — in a cluster worker
 * every worker's `listen(0)` shares one port, and the primary hands each new connection to the
 * next worker — and then answers the primary over IPC:
 *
 *  - `{ type: 'ready', port }` once listening;
 *  - `{ type: 'usage', cpuMicroseconds }` for `{ type: 'usage' }` (CPU time of this process so far);
 *  - closes the CA and exits for `{ type: 'close' }` (so that `--cpu-prof` writes its profile).
 */
import { systemClock } from '../src/core/clock.js';
import { loadCaConfig } from '../src/ca/config.js';
import { startCa } from '../src/ca/runtime.js';

/** Messages the primary sends. */
export type ServerCommand = { readonly type: 'usage' } | { readonly type: 'close' };

/** Messages this process sends. */
export type ServerReport =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'usage'; readonly cpuMicroseconds: number }
  | { readonly type: 'failed'; readonly message: string };

function report(message: ServerReport): void {
  process.send?.(message);
}

const configPath = process.argv[2];
if (configPath === undefined || process.send === undefined) {
  process.stderr.write('usage: a node:cluster worker of bench/issuance.ts, with the CA config path as argument\n');
  process.exit(2);
}

try {
  const running = await startCa(loadCaConfig(configPath), {
    clock: systemClock,
    port: 0,
    onInternalError: (e, id) => process.stderr.write(`bench server: internal error in ${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
  });
  process.on('message', (m: ServerCommand) => {
    if (m.type === 'usage') {
      const u = process.cpuUsage();
      report({ type: 'usage', cpuMicroseconds: u.user + u.system });
    } else if (m.type === 'close') {
      void running.close().finally(() => process.exit(0));
    }
  });
  report({ type: 'ready', port: running.port });
} catch (e) {
  report({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
}
