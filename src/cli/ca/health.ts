/** `signet ca health` — is the CA up? GET /health over TLS verified against the pinned root. */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';
import { printJson } from '../io.js';

interface HealthFlags extends ConnectionFlags {
  json?: boolean;
}

/** Registers `signet ca health`. */
export function registerCaHealth(ca: Command): void {
  const cmd = ca.command('health').description('check that the CA answers (exit 0) or say why not');
  addConnectionOptions(cmd)
    .option('--json', 'print {url, status}')
    .addHelpText(
      'after',
      `
Exit codes: 0 the CA answered {"status":"ok"}; 6 it cannot be reached (ERR_CA_UNREACHABLE) or
answers something else (ERR_CA_BAD_RESPONSE); 1 its TLS certificate does not verify against the
pinned root (ERR_CA_UNTRUSTED) or it reports a problem; 2 no context (ERR_CONTEXT_NOT_FOUND).

Examples:
  $ signet ca health
  $ signet ca health --context lab --json
  $ until signet ca health 2>/dev/null; do sleep 1; done`,
    )
    .action(async (flags: HealthFlags) => {
      const target = resolveCa(flags);
      const client = clientFor(target);
      const h = await client.health();
      if (h.status !== 'ok') throw new SignetError('ERR_CA_BAD_RESPONSE', `the CA at ${client.url} reports status "${h.status.slice(0, 40)}"`);
      if (flags.json) printJson({ url: client.url, status: h.status });
      else process.stdout.write(`ok: the CA at ${client.url} is healthy\n`);
    });
}
