import type { Command } from 'commander';
import { registerContextList } from './list.js';
import { registerContextSelect } from './select.js';

export {
  CONTEXT_NAME_PATTERN,
  checkContextName,
  currentContextName,
  defaultContextName,
  listContextNames,
  loadContext,
  saveContext,
  selectContext,
  signetHome,
  type CaContext,
  type NewContext,
} from './store.js';

/** Registers `signet context …`: list, select. */
export function registerContextCommands(program: Command): Command {
  const cmd = program.command('context').description('the CAs this client knows (contexts made by `signet ca bootstrap`) and which one is current');
  registerContextList(cmd);
  registerContextSelect(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet context list
  $ signet context select lab`,
  );
  return cmd;
}
