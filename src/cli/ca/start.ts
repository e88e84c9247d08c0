/**
 * `signet ca start` — serve the CA: validate the config (the same pipeline as `ca config
 * validate`), decrypt the issuing key, open the store, listen. One JSON log line per request on
 * stdout; SIGHUP reloads the config (a bad one is logged and the running one kept); SIGTERM/SIGINT
 * stop accepting connections, let in-flight requests finish, and exit 0.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import type { Logger } from 'pino';
import { formatConfigProblem, type ConfigProblem } from '../../ca/config.js';
import { isSignetError } from '../../core/errors.js';
import { readPassword } from '../io.js';
import { DEFAULT_CONFIG_PATH, validateCaConfigFile } from './config-validate.js';

interface StartFlags {
  config: string;
}

/**
 * The server's logger: pino, JSON lines on stdout, written synchronously (nothing is lost when
 * the process exits), `level` as a word and `time` in RFC 3339, no pid or host noise.
 */
export async function createLogger(level: string): Promise<Logger> {
  const { pino } = await import('pino');
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

/** Registers `signet ca start`. */
export function registerCaStart(ca: Command): void {
  ca.command('start')
    .description('serve the CA over HTTPS (native API) until SIGTERM')
    .option('--config <file>', 'the CA configuration', DEFAULT_CONFIG_PATH)
    .addHelpText(
      'after',
      `
The issuing key's password comes from the config's intermediate.passwordFile, or a prompt on a
terminal. Logs are JSON lines on stdout. SIGHUP reloads the config (provisioners, claims, policy,
templates); a bad config is logged and the running one kept. SIGTERM or Ctrl-C drains in-flight
requests and exits 0.

Examples:
  $ signet ca start
  $ signet ca start --config /etc/signet/signet.json`,
    )
    .action(async (flags: StartFlags) => {
      const { config } = validateCaConfigFile(flags.config, {});
      const logger = await createLogger(config.logLevel);
      const log = ({ level, msg, ...rest }: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string } & Record<string, unknown>): void => logger[level](rest, msg);
      const password =
        config.intermediate.passwordFile === undefined ? await readPassword({ prompt: `password for ${config.intermediate.key}: `, file: config.intermediate.key }) : undefined;
      // The server's modules (HTTP, store, metrics) load only for this command: the CLI's other commands start faster.
      const { startCa } = await import('../../ca/runtime.js');
      const ca = await startCa(config, {
        clock: systemClock,
        ...(password !== undefined ? { password } : {}),
        onRequest: (r) => log({ level: r.status >= 500 ? 'error' : 'info', msg: 'request', id: r.id, method: r.method, path: r.path, status: r.status, ms: Math.round(r.ms * 10) / 10, ...(r.code ? { code: r.code } : {}) }),
        onInternalError: (e, id) => log({ level: 'error', msg: 'internal error', id, error: e instanceof Error ? e.message : String(e) }),
        onIdentityRenewed: (i) => log({ level: 'info', msg: 'server certificate renewed', notAfter: formatTime(i.notAfter) }),
        onJob: (j) => {
          if (j.error !== undefined) log({ level: 'warn', msg: 'periodic job failed; it runs again at the next tick', job: j.job, error: j.error });
          else if (j.job === 'revocation') {
            // The revocation watcher ticks every revocation.propagation: only a CRL signed or a responder certificate replaced is news.
            if (j.crl?.number !== undefined) log({ level: 'info', msg: 'CRL signed', reason: j.crl.decision, number: j.crl.number.toString(), entries: j.crl.entries });
            const r = j.ocsp?.rotated;
            if (r !== undefined) log({ level: 'info', msg: 'OCSP responder certificate replaced', serial: r.serial, notAfter: formatTime(r.notAfter) });
          } else if (j.ran) log({ level: 'info', msg: 'periodic job ran', job: j.job, ...(j.purged !== undefined && { purged: j.purged }), ...(j.resumed !== undefined && { resumed: j.resumed }) });
        },
      });
      // The authority computed it from the root it loaded; reading the file again could disagree.
      const fingerprint = ca.authority.rootFingerprint;
      process.stderr.write(`Signet CA "${config.name}" listening on ${ca.url}\nRoot fingerprint (SHA-256): ${fingerprint}\n`);
      log({ level: 'info', msg: 'listening', url: ca.url, root: fingerprint, provisioners: config.provisioners.map((p) => p.name) });
      const reload = async (): Promise<void> => {
        try {
          const { config: next } = validateCaConfigFile(flags.config, { json: true });
          const restart = await ca.reload(next);
          logger.level = next.logLevel;
          log({ level: 'info', msg: 'configuration reloaded', provisioners: next.provisioners.map((p) => p.name) });
          if (restart.length > 0) log({ level: 'warn', msg: 'changed settings take effect only after a restart', fields: restart });
        } catch (e) {
          const problems = isSignetError(e) && Array.isArray(e.detail?.problems) ? (e.detail.problems as ConfigProblem[]).map((p) => formatConfigProblem(p)) : undefined;
          log({
            level: 'error',
            msg: 'configuration not reloaded; still serving the previous one',
            code: isSignetError(e) ? e.code : 'ERR_INTERNAL',
            error: e instanceof Error ? e.message : String(e),
            ...(problems ? { problems } : {}),
          });
        }
      };
      const onHup = (): void => void reload();
      process.on('SIGHUP', onHup);
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          log({ level: 'info', msg: 'stopping', signal });
          process.off('SIGHUP', onHup);
          void ca.close().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      log({ level: 'info', msg: 'stopped' });
    });
}
