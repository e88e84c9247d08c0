/**
 * `signet` — one top-level error handler; commands live one folder each and stay thin over the
 * library (STYLE.md "cli/").
 */
import { Command, CommanderError } from 'commander';
import { SignetError, type ErrorCategory } from '../core/errors.js';
import { escapeControl, escapeJsonText } from '../core/escape.js';
import { registerKeyCommands } from './key/index.js';
import { registerCsrCommands } from './csr/index.js';
import { registerCertificateCommands } from './certificate/index.js';
import { registerCaCommands } from './ca/index.js';
import { registerContextCommands } from './context/index.js';
import { registerInventoryCommands } from './inventory/index.js';
import { registerAuditCommands } from './audit/index.js';
import { registerDbCommands } from './db/index.js';
import { registerAcmeCommands } from './acme/index.js';
import { registerFederationCommands } from './federation/index.js';
import { registerEntryCommands } from './entry/index.js';
import { registerAgentCommands } from './agent/index.js';
import { registerSvidCommands } from './svid/index.js';
import { registerRevokeCommand } from './revoke/index.js';
import { registerCrlCommands } from './crl/index.js';
import { registerSshCommands } from './ssh/index.js';
import { VERSION } from '../version.js';

/** Exit codes, documented in README "Exit codes". */
export const EXIT_CODES: Readonly<Record<ErrorCategory, number>> = {
  invalid: 1,
  usage: 2,
  input: 3,
  crypto: 4,
  io: 5,
  network: 6,
  // 128 + SIGINT, what shells report for a command stopped with Ctrl-C
  interrupted: 130,
  internal: 70,
};

/** Commander's ways of ending normally (help, version): not errors. */
const COMMANDER_EXITS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/** `signet certificate create`, for hints. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Turns a commander parse error (unknown option or command, invalid choice, missing or excess
 * argument) into the documented shape: a one-line lower-case message, and commander's "Did you
 * mean …?" suggestion (or a pointer to --help) as the hint. A flag value commander refused
 * (not among the option's `.choices()`, code `commander.invalidArgument`) is ERR_BAD_OPTION,
 * like the values Signet checks itself; everything else is ERR_USAGE. Both exit 2.
 */
export function usageErrorFromCommander(err: CommanderError, cmd: Command): SignetError {
  const [first = '', ...rest] = err.message.replace(/^error: /, '').split('\n');
  const suggestion = /^\((Did you mean .*\?)\)$/.exec(rest.join(' ').trim())?.[1];
  const message = first
    .replace(/\.\s+([A-Z])/g, (_m, c: string) => `; ${c.toLowerCase()}`)
    .replace(/\.$/, '')
    .replace(/^[A-Z]/, (c) => c.toLowerCase());
  const hint = suggestion !== undefined ? suggestion.replace(/^Did/, 'did') : `run "${commandPath(cmd)} --help" for usage`;
  const code = err.code === 'commander.invalidArgument' ? 'ERR_BAD_OPTION' : 'ERR_USAGE';
  return new SignetError(code, message, { hint, cause: err });
}

/**
 * Makes every command report parse errors through {@link reportError} instead of printing them
 * itself: no output from commander on errors, no help dump, and an exception instead of
 * process.exit. Help and version still print normally and end with exit 0.
 */
function routeCommanderErrors(cmd: Command): void {
  cmd
    .exitOverride((err) => {
      if (err.exitCode === 0 || COMMANDER_EXITS.has(err.code)) throw err;
      throw usageErrorFromCommander(err, cmd);
    })
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false);
  for (const sub of cmd.commands) routeCommanderErrors(sub);
}

/** The whole `signet` command tree, with parse errors routed to {@link reportError}. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('signet')
    .description('Signet: a certificate authority and PKI toolbox for short-lived X.509, SSH and SPIFFE credentials.')
    .version(VERSION, '-v, --version');
  registerKeyCommands(program);
  registerCsrCommands(program);
  registerCertificateCommands(program);
  registerCaCommands(program);
  registerContextCommands(program);
  registerInventoryCommands(program);
  registerAuditCommands(program);
  registerDbCommands(program);
  registerAcmeCommands(program);
  registerFederationCommands(program);
  registerEntryCommands(program);
  registerAgentCommands(program);
  registerSvidCommands(program);
  registerRevokeCommand(program);
  registerCrlCommands(program);
  registerSshCommands(program);
  program.addHelpText(
    'after',
    `
Examples:
  $ signet key create ca.key --password-file pw.txt
  $ signet certificate create "Example Root" root.crt --profile root-ca --key ca.key --password-file pw.txt
  $ signet certificate inspect root.crt
  $ signet certificate verify leaf.crt --roots root.crt`,
  );
  routeCommanderErrors(program);
  return program;
}

/** JSON text with the characters JSON.stringify leaves raw but terminals interpret (DEL, C1, …) escaped. */
function safeJson(value: unknown): string {
  return escapeJsonText(JSON.stringify(value));
}

/**
 * Renders an error as one lower-case line (plus an optional hint) on stderr; returns the exit
 * code. Control characters in the message and hint (a certificate subject can carry ESC or a
 * newline) are escaped, so the error stays one line and cannot drive the terminal.
 */
export function reportError(e: unknown, json: boolean): number {
  if (e instanceof SignetError) {
    if (json) {
      process.stderr.write(safeJson({ error: { code: e.code, message: e.message, hint: e.hint, detail: e.detail } }) + '\n');
    } else {
      process.stderr.write(`error: ${escapeControl(e.message)} (${e.code})\n`);
      if (e.hint) process.stderr.write(`hint: ${escapeControl(e.hint)}\n`);
    }
    return EXIT_CODES[e.category];
  }
  if (e instanceof CommanderError) {
    // commander already printed its message; help/version exit 0.
    return e.exitCode === 0 ? 0 : EXIT_CODES.usage;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`error: internal error: ${escapeControl(msg)} (ERR_INTERNAL)\n`);
  if (process.env.SIGNET_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return EXIT_CODES.internal;
}

/** True when the command line asked for JSON output (`--json`, `--format json`, `--format=json`). */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && argv[i + 1] === 'json'));
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    return reportError(e, wantsJson(argv));
  }
}

