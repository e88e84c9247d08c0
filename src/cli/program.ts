/**
 * `signet` — one top-level error handler; commands live one folder each and stay thin over the
 * library (STYLE.md "cli/").
 */
import { Command, CommanderError } from 'commander';
import { SignetError, type ErrorCategory } from '../core/errors.js';
import { registerKeyCommands } from './key/index.js';
import { registerCsrCommands } from './csr/index.js';
import { registerCertificateCommands } from './certificate/index.js';
import { VERSION } from '../version.js';

/** Exit codes, documented in README "Exit codes". */
export const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = {
  invalid: 1,
  usage: 2,
  input: 3,
  crypto: 4,
  io: 5,
  network: 6,
  internal: 70,
};

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('signet')
    .description('Signet: a certificate authority and PKI toolbox for short-lived X.509, SSH and SPIFFE credentials.')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  registerKeyCommands(program);
  registerCsrCommands(program);
  registerCertificateCommands(program);
  program.addHelpText(
    'after',
    `
Examples:
  $ signet key create ca.key --password-file pw.txt
  $ signet certificate create "Example Root" root.crt --profile root-ca --key ca.key --password-file pw.txt
  $ signet certificate inspect root.crt
  $ signet certificate verify leaf.crt --roots root.crt`,
  );
  return program;
}

/** Renders an error as one lower-case line (plus an optional hint) on stderr; returns the exit code. */
export function reportError(e: unknown, json: boolean): number {
  if (e instanceof SignetError) {
    if (json) {
      process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, detail: e.detail } }) + '\n');
    } else {
      process.stderr.write(`error: ${e.message} (${e.code})\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    }
    return EXIT_CODES[e.category];
  }
  if (e instanceof CommanderError) {
    // commander already printed its message; help/version exit 0.
    return e.exitCode === 0 ? 0 : EXIT_CODES.usage;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`error: internal error: ${msg} (ERR_INTERNAL)\n`);
  if (process.env.SIGNET_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return EXIT_CODES.internal;
}

/** True when the command line asked for JSON output (`--json`, `--format json`, `--format=json`). */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && argv[i + 1] === 'json'));
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    return reportError(e, wantsJson(argv));
  }
}

