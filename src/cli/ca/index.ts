import type { Command } from 'commander';
import { registerCaInit } from './init.js';
import { registerCaConfigValidate } from './config-validate.js';
import { registerCaStart } from './start.js';
import { registerCaToken } from './token.js';

export { caInitCommand, formatCaInit, type CaInitFlags, type CaInitResult } from './init.js';
export { caTokenCommand, type TokenFlags } from './token.js';
export { DEFAULT_CONFIG_PATH, validateCaConfigFile, type CaConfigValidateResult } from './config-validate.js';

/** Registers `signet ca …`: init, start, token, config validate. */
export function registerCaCommands(program: Command): Command {
  const cmd = program.command('ca').description('run a certificate authority: create it, serve it, mint tokens for it, check its configuration');
  registerCaInit(cmd);
  registerCaStart(cmd);
  registerCaToken(cmd);
  const config = cmd.command('config').description('work with the CA configuration file (signet.json)');
  registerCaConfigValidate(config);
  config.addHelpText(
    'after',
    `
Examples:
  $ signet ca config validate --config .signet/ca/signet.json`,
  );
  cmd.addHelpText(
    'after',
    `
Examples:
  $ signet ca init --name "Example Corp" --password-file pw.txt --provisioner-password-file prov-pw.txt --root-key-out root.key
  $ signet ca start
  $ signet ca token web.example.com --san web.example.com --password-file prov-pw.txt
  $ signet ca config validate --config .signet/ca/signet.json`,
  );
  return cmd;
}
