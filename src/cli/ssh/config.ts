/**
 * `signet ssh config` — what OpenSSH needs to trust the CA, from its public keys (GET /ssh/roots):
 * for a client the `@cert-authority` known_hosts line (no more host-key prompts), optionally added
 * to a known_hosts file; with `--host` the sshd configuration (TrustedUserCAKeys, HostCertificate,
 * AuthorizedPrincipalsFile guidance), optionally with the user CA file written.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { parsePublicKeyBlob, parsePublicKeyLine } from '../../ssh/keys.js';
import { commitOutputs, printJson } from '../io.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from '../ca/connection.js';

interface ConfigFlags extends ConnectionFlags {
  host?: boolean;
  hosts?: string;
  knownHosts?: string;
  userCaOut?: string;
  hostKey?: string;
  krl?: string;
  force?: boolean;
  json?: boolean;
}

/** What `ssh config --json` prints. */
export interface SshConfigResult {
  readonly userCaKeys: readonly string[];
  readonly hostCaKeys: readonly string[];
  /** The known_hosts lines (client side). */
  readonly knownHosts: readonly string[];
  /** The sshd_config lines (host side). */
  readonly sshdConfig: readonly string[];
  /** The known_hosts file the lines were added to, and how many were new. */
  readonly knownHostsFile?: { readonly path: string; readonly added: number };
  readonly userCaFile?: string;
}

/** A known_hosts host pattern list: comma-separated patterns of host name characters, `*`, `?`, `[`, `]`, `:`, `!`. */
const HOST_PATTERNS = /^[A-Za-z0-9*?.:[\]!_-]+(,[A-Za-z0-9*?.:[\]!_-]+)*$/;

/** A key line as the CA served it, checked: an SSH public key (not a certificate, not junk). */
function checkedKey(line: string, url: string): string {
  try {
    const parsed = parsePublicKeyLine(line);
    parsePublicKeyBlob(parsed.blob);
    return line.trim();
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `GET ${url}/ssh/roots returned something that is not an SSH public key`, { cause: e });
  }
}

/** Runs `ssh config`. */
export async function sshConfigCommand(flags: ConfigFlags): Promise<SshConfigResult> {
  const hosts = flags.hosts ?? '*';
  if (!HOST_PATTERNS.test(hosts)) throw new SignetError('ERR_BAD_OPTION', `--hosts "${escapeControl(hosts.slice(0, 64))}" is not a known_hosts pattern list (e.g. *.example.com,10.0.0.*)`);
  if (flags.host !== true && flags.userCaOut !== undefined) throw new SignetError('ERR_USAGE', '--user-ca-out goes with --host (it is the file sshd reads)');
  if (flags.host === true && flags.knownHosts !== undefined) throw new SignetError('ERR_USAGE', '--known-hosts is the client side; drop --host');
  // sshd wants absolute paths.
  const hostKey = resolve(flags.hostKey ?? '/etc/ssh/ssh_host_ed25519_key');
  const userCaFile = resolve(flags.userCaOut ?? '/etc/ssh/signet_user_ca.pub');
  const krlFile = resolve(flags.krl ?? '/etc/ssh/signet.krl');
  const client = clientFor(resolveCa(flags, { withConfig: true }));
  const roots = await client.sshRoots();
  const userCaKeys = roots.userKey.map((l) => checkedKey(l, client.url));
  const hostCaKeys = roots.hostKey.map((l) => checkedKey(l, client.url));
  const knownHosts = hostCaKeys.map((k) => `@cert-authority ${hosts} ${k}`);
  const sshdConfig = [
    `TrustedUserCAKeys ${userCaFile}`,
    `HostKey ${hostKey}`,
    `HostCertificate ${hostKey}-cert.pub`,
    `RevokedKeys ${krlFile}`,
    `# sshd refuses every key while ${krlFile} is missing: fetch it before reloading sshd, and keep it`,
    `# current (cron or a timer, every minute): signet ssh krl --out ${krlFile}`,
    `# renew the host certificate: signet ssh renew ${hostKey}-cert.pub ${hostKey} --daemon --exec 'systemctl reload ssh'`,
    '# Without AuthorizedPrincipalsFile a certificate logs in as each user it names as a principal.',
    '# To decide per account which principals may log in as it, list them one per line in:',
    '# AuthorizedPrincipalsFile /etc/ssh/principals/%u',
  ];
  let knownHostsFile: SshConfigResult['knownHostsFile'];
  if (flags.knownHosts !== undefined) {
    const existing = existsSync(flags.knownHosts) ? readFileSync(flags.knownHosts, 'utf8').split(/\r?\n/).map((l) => l.trim()) : [];
    const fresh = knownHosts.filter((l) => !existing.includes(l));
    if (fresh.length > 0) appendFileSync(flags.knownHosts, `${existing.length > 0 && existing[existing.length - 1] !== '' ? '\n' : ''}${fresh.join('\n')}\n`, { mode: 0o644 });
    knownHostsFile = { path: flags.knownHosts, added: fresh.length };
  }
  if (flags.userCaOut !== undefined) commitOutputs([{ path: flags.userCaOut, role: '--user-ca-out', mode: 0o644, data: `${userCaKeys.join('\n')}\n` }], { force: flags.force === true });
  return { userCaKeys, hostCaKeys, knownHosts, sshdConfig, ...(knownHostsFile ? { knownHostsFile } : {}), ...(flags.userCaOut !== undefined ? { userCaFile: flags.userCaOut } : {}) };
}

/** Registers `signet ssh config`. */
export function registerSshConfig(ssh: Command): void {
  const cmd = ssh
    .command('config')
    .description('print what OpenSSH needs to trust the CA: the @cert-authority known_hosts line, or (--host) the sshd configuration')
    .option('--host', 'the server side: sshd_config lines and the user CA key sshd trusts')
    .option('--hosts <patterns>', 'client side: the hosts whose certificates the CA vouches for, as known_hosts patterns (default *)')
    .option('--known-hosts <file>', 'client side: add the @cert-authority line to this known_hosts file (once)')
    .option('--user-ca-out <file>', 'with --host: write the user CA key here (sshd\'s TrustedUserCAKeys; default shown: /etc/ssh/signet_user_ca.pub)')
    .option('--host-key <file>', 'with --host: the host key the certificate is for (default /etc/ssh/ssh_host_ed25519_key)')
    .option('--krl <file>', 'with --host: where sshd reads the KRL (default /etc/ssh/signet.krl; keep it current with signet ssh krl --out)')
    .option('--force', 'overwrite --user-ca-out');
  addConnectionOptions(cmd, { withConfig: true })
    .option('--json', 'print the lines as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ signet ssh config --known-hosts ~/.ssh/known_hosts
  $ signet ssh config --hosts '*.example.com'
  $ signet ssh config --host --user-ca-out /etc/ssh/signet_user_ca.pub`,
    )
    .action(async (flags: ConfigFlags) => {
      const r = await sshConfigCommand(flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      // With --user-ca-out the key is in its file and stdout is sshd configuration only (it can be appended to sshd_config).
      const keyPart = r.userCaFile === undefined ? ['# /etc/ssh/signet_user_ca.pub: the user CA sshd trusts (or write it with --user-ca-out)', ...r.userCaKeys, ''] : [];
      const out = flags.host === true ? [...keyPart, '# sshd_config: trust user certificates of this CA, present the host certificate', ...r.sshdConfig] : ['# ~/.ssh/known_hosts (or /etc/ssh/ssh_known_hosts): trust host certificates of this CA', ...r.knownHosts];
      process.stdout.write(out.map(escapeControl).join('\n') + '\n');
      if (r.knownHostsFile) process.stderr.write(escapeControl(`${r.knownHostsFile.added === 0 ? 'already in' : 'added to'} ${r.knownHostsFile.path}`) + '\n');
      if (r.userCaFile !== undefined) process.stderr.write(escapeControl(`wrote ${r.userCaFile}`) + '\n');
    });
}
