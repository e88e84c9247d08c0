import type { Command } from 'commander';
import { registerAuditList } from './list.js';

export { auditJson, auditQuery } from './list.js';

/** Registers `signet audit …`: list. */
export function registerAuditCommands(program: Command): Command {
  const cmd = program.command('audit').description("read the CA's audit log: issuances, refusals and why");
  registerAuditList(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet audit list --since -24h
  $ signet audit list --type certificate.sign --json`,
  );
  return cmd;
}
