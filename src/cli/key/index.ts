import type { Command } from 'commander';
import { registerKeyCreate } from './create.js';
import { registerKeyInspect } from './inspect.js';
import { registerKeyPublic } from './public.js';

export { loadPrivateKeyFile, loadPublicKeyFile } from './load.js';
export type { KeyPasswordSource } from './load.js';

/** Registers `signet key …`: create, inspect, public. */
export function registerKeyCommands(program: Command): Command {
  const cmd = program.command('key').description('create, inspect and convert private and public keys');
  registerKeyCreate(cmd);
  registerKeyInspect(cmd);
  registerKeyPublic(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet key create ca.key --password-file pw.txt --public-out ca.pub
  $ signet key inspect ca.key
  $ signet key public ca.key --password-file pw.txt --format jwk`,
  );
  return cmd;
}
