/**
 * `signet ca start` — serve the CA: validate the config (the same pipeline as `ca config
 * validate`), decrypt the issuing key, open the store, listen. One JSON log line per request on
 * stdout; SIGTERM/SIGINT stop accepting connections, let in-flight requests finish, and exit 0.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { systemClock } from '../../core/clock.js';
import { decodePem, looksLikePem } from '../../core/pem.js';
import { formatTime } from '../../core/duration.js';
import { startCa } from '../../ca/runtime.js';
import { readPassword } from '../io.js';
import { DEFAULT_CONFIG_PATH, validateCaConfigFile } from './config-validate.js';

interface StartFlags {
  config: string;
}

function log(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: formatTime(new Date()), ...line })}\n`);
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
terminal. Logs are JSON lines on stdout. SIGTERM or Ctrl-C drains in-flight requests and exits 0.

Examples:
  $ signet ca start
  $ signet ca start --config /etc/signet/signet.json`,
    )
    .action(async (flags: StartFlags) => {
      const { config } = validateCaConfigFile(flags.config, {});
      const password =
        config.intermediate.passwordFile === undefined ? await readPassword({ prompt: `password for ${config.intermediate.key}: `, file: config.intermediate.key }) : undefined;
      const ca = await startCa(config, {
        clock: systemClock,
        ...(password !== undefined ? { password } : {}),
        onRequest: (r) => log({ level: 'info', msg: 'request', id: r.id, method: r.method, path: r.path, status: r.status, ms: Math.round(r.ms * 10) / 10, ...(r.code ? { code: r.code } : {}) }),
        onInternalError: (e, id) => log({ level: 'error', msg: 'internal error', id, error: e instanceof Error ? e.message : String(e) }),
        onIdentityRenewed: (i) => log({ level: 'info', msg: 'server certificate renewed', notAfter: formatTime(i.notAfter) }),
      });
      const rootData = readFileSync(config.root);
      const rootDer = looksLikePem(rootData) ? decodePem(rootData.toString('latin1'), ['CERTIFICATE']).der : rootData;
      const fingerprint = createHash('sha256').update(rootDer).digest('hex');
      log({ level: 'info', msg: 'listening', url: ca.url, root: fingerprint, provisioners: config.provisioners.map((p) => p.name) });
      process.stderr.write(`Signet CA "${config.name}" listening on ${ca.url}\nRoot fingerprint (SHA-256): ${fingerprint}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          log({ level: 'info', msg: 'stopping', signal });
          void ca.close().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      log({ level: 'info', msg: 'stopped' });
    });
}
