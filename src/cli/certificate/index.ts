import type { Command } from 'commander';

/** Registers `signet certificate …` (alias `cert`). */
export function registerCertificateCommands(program: Command): Command {
  const cmd = program.command('certificate').alias('cert').description('create, inspect, verify and lint X.509 certificates');
  return cmd;
}
