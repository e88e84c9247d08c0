import type { Command } from 'commander';

/** Registers `signet key …`. */
export function registerKeyCommands(program: Command): Command {
  const cmd = program.command('key').description('create, inspect and convert private and public keys');
  return cmd;
}
