/**
 * `signet agent run` — the node agent: attests the node, keeps its workloads' SVIDs, serves the
 * SPIFFE Workload API on a Unix socket until SIGTERM.
 */
import type { Command } from 'commander';
import { createLogger } from '../ca/start.js';

/** Registers `signet agent run` under `signet agent`. */
export function registerAgentRun(agent: Command): void {
  agent
    .command('run')
    .description('run the node agent: attest, keep SVIDs, serve the SPIFFE Workload API')
    .requiredOption('--config <file>', 'the agent config (JSON)')
    .addHelpText(
      'after',
      `
The config names the CA servers (tried in turn), the trust domain, how to trust the CA (its
root's SHA-256 fingerprint, or the root file), the join token file, the Workload API socket and
the data directory (agent key, SVIDs and bundles cached 0600 — a restarted agent serves at once,
also while the CA is down). Workloads set SPIFFE_ENDPOINT_SOCKET=unix://SOCKET. Logs are JSON
lines on stdout; SIGTERM or Ctrl-C stops it (exit 0).

Examples:
  $ signet agent run --config /etc/signet/agent.json`,
    )
    .action(async (flags: { config: string }) => {
      const { loadAgentConfig } = await import('../../agent/config.js');
      const config = loadAgentConfig(flags.config);
      const { Agent } = await import('../../agent/agent.js');
      const { startWorkloadApi } = await import('../../agent/workload-api.js');
      const log = await createLogger(process.env.SIGNET_LOG_LEVEL ?? 'info');
      const agent = new Agent({ config, log });
      const api = await startWorkloadApi({ agent, socketPath: config.socketPath, log });
      agent.start();
      process.stderr.write(`Signet agent for ${config.trustDomain}: Workload API on unix://${config.socketPath}\n`);
      log.info({ socket: config.socketPath, servers: config.servers }, 'agent listening');
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          log.info({ signal }, 'agent stopping');
          void Promise.all([api.close(), agent.stop()]).then(() => resolve());
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      log.info({}, 'agent stopped');
    });
}
