import type { Command } from 'commander';

/** Registers `signet csr …`. */
export function registerCsrCommands(program: Command): Command {
  const cmd = program.command('csr').description('create and inspect certificate signing requests (PKCS#10)');
  return cmd;
}
