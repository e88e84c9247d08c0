import type { Command } from 'commander';
import { registerCsrCreate } from './create.js';
import { registerCsrInspect } from './inspect.js';

/** Registers `signet csr …`: create, inspect. */
export function registerCsrCommands(program: Command): Command {
  const cmd = program.command('csr').description('create and inspect certificate signing requests (PKCS#10)');
  registerCsrCreate(cmd);
  registerCsrInspect(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet csr create web.example.com web.csr --key-out web.key --no-password --san www.example.com
  $ signet csr inspect web.csr`,
  );
  return cmd;
}
