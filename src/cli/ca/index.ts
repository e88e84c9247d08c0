import type { Command } from 'commander';
import { registerCaInit } from './init.js';
import { registerCaConfigValidate } from './config-validate.js';
import { registerCaStart } from './start.js';
import { registerCaToken } from './token.js';
import { registerCaBootstrap } from './bootstrap.js';
import { registerCaCertificate } from './certificate.js';
import { registerCaRenew } from './renew.js';
import { registerCaRekey } from './rekey.js';
import { registerCaRevoke } from './revoke.js';
import { registerCaRoots } from './roots.js';
import { registerCaHealth } from './health.js';
import { registerCaProvisioner } from './provisioner.js';
import { registerCaSsh } from './ssh.js';
import { registerCaSpiffe } from './spiffe.js';

export { caInitCommand, formatCaInit, type CaInitFlags, type CaInitResult } from './init.js';
export { caTokenCommand, caUrlFromConfig, normalizeSerial, type TokenFlags } from './token.js';
export { caBootstrapCommand, type BootstrapResult } from './bootstrap.js';
export { caCertificateCommand, type CaCertificateResult } from './certificate.js';
export { DEFAULT_CONFIG_PATH, validateCaConfigFile, type CaConfigValidateResult } from './config-validate.js';

/** Registers `signet ca …`: init, start, token, config validate. */
export function registerCaCommands(program: Command): Command {
  const cmd = program.command('ca').description('run a certificate authority (init, start, token, config) and talk to one (bootstrap, certificate, renew, rekey, revoke, roots, health)');
  registerCaInit(cmd);
  registerCaStart(cmd);
  registerCaToken(cmd);
  // client side: talk to a running CA
  registerCaBootstrap(cmd);
  registerCaCertificate(cmd);
  registerCaRenew(cmd);
  registerCaRekey(cmd);
  registerCaRevoke(cmd);
  registerCaRoots(cmd);
  registerCaHealth(cmd);
  registerCaProvisioner(cmd);
  registerCaSsh(cmd);
  registerCaSpiffe(cmd);
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
  $ signet ca config validate --config .signet/ca/signet.json
  $ signet ca bootstrap --ca-url https://ca.example.com:9443 --fingerprint 4a1f…e07c
  $ signet ca certificate web.example.com web.crt web.key --token-file web.token
  $ signet ca renew web.crt web.key --daemon --exec 'systemctl reload nginx'`,
  );
  return cmd;
}
