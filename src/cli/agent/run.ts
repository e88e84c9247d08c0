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
root's SHA-256 fingerprint, or the root file), how the node attests (a join token file, a node
certificate and key for x509pop, or the TPM's TCTI), the Workload API socket and the data
directory (agent key, SVIDs and bundles cached 0600 — a restarted agent serves at once, also
while the CA is down). Workloads set SPIFFE_ENDPOINT_SOCKET=unix://SOCKET. Logs are JSON
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

/** Registers `signet agent helper` under `signet agent`. */
export function registerAgentHelper(agent: Command): void {
  agent
    .command('helper')
    .description('keep this process\'s SVID, key and bundle as files, and tell a program when they rotate')
    .requiredOption('--out <dir>', 'existing directory for svid.pem, svid_key.pem (0600), svid_bundle.pem, federated_bundle.<td>.pem')
    .option('--socket <address>', 'the Workload API: unix:///path or tcp://ip:port (default: $SPIFFE_ENDPOINT_SOCKET)')
    .option('--spiffe-id <id>', 'which of the process\'s SVIDs to keep (default: the first)')
    .option('--signal <name>', 'send this signal (e.g. SIGHUP) to the process in --pid-file after each write')
    .option('--pid-file <file>', 'the pid file of the program to signal')
    .option('--exec <command>', 'run this shell command after each write (SVID_DIR is set to --out)')
    .option('--once', 'write the files once and exit (an init container, a cron job)')
    .addHelpText(
      'after',
      `
For programs that read certificates from files (nginx, PostgreSQL, HAProxy): the helper watches
the Workload API and, whenever the SVID rotates or a bundle changes, replaces all the files at
once (temp files, fsync, rename; a failure leaves the previous set whole), then signals or runs
the command. Run it as the user whose identity the files should hold — the agent attests the
helper process. Logs are JSON lines on stdout; SIGTERM or Ctrl-C stops it (exit 0).

Examples:
  $ signet agent helper --out /etc/nginx/svid --signal SIGHUP --pid-file /run/nginx.pid
  $ signet agent helper --out /var/lib/postgresql/svid --exec 'pg_ctl reload -D /var/lib/postgresql/data'
  $ signet agent helper --out ./svid --once --socket unix:///run/signet/agent.sock`,
    )
    .action(async (flags: { out: string; socket?: string; spiffeId?: string; signal?: string; pidFile?: string; exec?: string; once?: boolean }) => {
      const { SignetError } = await import('../../core/errors.js');
      const { constants } = await import('node:os');
      if ((flags.signal === undefined) !== (flags.pidFile === undefined)) throw new SignetError('ERR_USAGE', '--signal and --pid-file go together', { hint: 'e.g. --signal SIGHUP --pid-file /run/nginx.pid' });
      const signal = flags.signal === undefined ? undefined : (flags.signal.toUpperCase().startsWith('SIG') ? flags.signal.toUpperCase() : `SIG${flags.signal.toUpperCase()}`) as NodeJS.Signals;
      if (signal !== undefined && !(signal in constants.signals)) throw new SignetError('ERR_BAD_OPTION', `unknown signal ${JSON.stringify(flags.signal?.slice(0, 32))}`, { hint: 'e.g. SIGHUP, SIGUSR1' });
      const { parseSpiffeId } = await import('../../spiffe/id.js');
      const { startHelper } = await import('../../agent/helper.js');
      const log = await createLogger(process.env.SIGNET_LOG_LEVEL ?? 'info');
      const helper = startHelper({
        dir: flags.out,
        log,
        ...(flags.socket !== undefined && { address: flags.socket }),
        ...(flags.spiffeId !== undefined && { spiffeId: parseSpiffeId(flags.spiffeId).toString() }),
        ...(signal !== undefined && { signal }),
        ...(flags.pidFile !== undefined && { pidFile: flags.pidFile }),
        ...(flags.exec !== undefined && { exec: flags.exec }),
        failFast: flags.once === true,
      });
      const stopped = new Promise<string>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      try {
        await Promise.race([helper.ready, stopped]);
        if (flags.once !== true) log.info({ signal: await stopped }, 'helper stopping');
      } finally {
        helper.close();
      }
    });
}

/** Registers `signet agent explain` under `signet agent`. */
export function registerAgentExplain(agent: Command): void {
  agent
    .command('explain')
    .description('why a process gets (or does not get) an identity: its selectors against the entries the agent holds')
    .requiredOption('--pid <pid>', 'the process')
    .requiredOption('--config <file>', 'the agent config (JSON): its dataDir holds the entries')
    .option('--json', 'print {pid, uid, gid, path, selectors, agentId, entries: [{id, spiffeId, selectors, matches, missing, svidExpiresAt}]}')
    .addHelpText(
      'after',
      `
Run it on the node, as root or the agent's user: it attests the process exactly as the agent
does (uid, gid, user, group, supplementary groups, executable path, and its SHA-256 when an entry
asks for one) and compares the selectors with every entry the agent holds (its state file, so
it works while the agent is stopped). An entry matches when all its selectors are among the
process's; the process gets one identity per matching entry, none is PERMISSION_DENIED.

Examples:
  $ signet agent explain --pid 4242 --config /etc/signet/agent.json
  $ signet agent explain --pid "$(pgrep -o nginx)" --config /etc/signet/agent.json --json`,
    )
    .action(async (flags: { pid: string; config: string; json?: boolean }) => {
      const { SignetError } = await import('../../core/errors.js');
      const pid = /^[1-9][0-9]{0,9}$/.test(flags.pid) ? Number(flags.pid) : NaN;
      if (!Number.isSafeInteger(pid) || pid > 4_194_304) throw new SignetError('ERR_BAD_OPTION', `--pid must be a process ID, got ${JSON.stringify(flags.pid.slice(0, 32))}`);
      const { loadAgentConfig } = await import('../../agent/config.js');
      const { explainProcess } = await import('../../agent/explain.js');
      const { formatTime } = await import('../../core/duration.js');
      const config = loadAgentConfig(flags.config);
      const x = await explainProcess(pid, config.dataDir);
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ ...x, entries: x.entries.map((e) => ({ ...e, svidExpiresAt: e.svidExpiresAt === undefined ? null : formatTime(e.svidExpiresAt) })) }, null, 2)}\n`);
        return;
      }
      const out: string[] = [`process ${x.pid}: ${x.path ?? '(executable unknown)'}, uid ${x.uid}, gid ${x.gid}`, `selectors the agent sees (${x.selectors.length}):`, ...x.selectors.map((s) => `  ${s}`)];
      if (x.entries.length === 0) out.push(`the agent holds no entries${x.agentId === undefined ? '' : `: create them with signet entry create --parent-id ${x.agentId}`}`);
      else out.push(`entries the agent holds (${x.entries.length}):`);
      for (const e of x.entries) {
        if (e.matches) out.push(`  MATCH    ${e.spiffeId} (entry ${e.id}) — ${e.svidExpiresAt === undefined ? 'no SVID held yet' : `SVID held until ${formatTime(e.svidExpiresAt)}`}`);
        else out.push(`  no match ${e.spiffeId} (entry ${e.id}) — missing ${e.missing.join(', ')}`);
      }
      const got = x.entries.filter((e) => e.matches).map((e) => e.spiffeId);
      out.push(got.length === 0 ? 'result: no identity (the Workload API answers PERMISSION_DENIED)' : `result: ${got.length === 1 ? 'identity' : 'identities'} ${got.join(', ')}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
