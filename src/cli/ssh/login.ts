/**
 * `signet ssh login KEY-ID` — a user certificate for today: a new key in memory, a certificate for
 * it from the CA, both handed to the running ssh-agent with a lifetime that ends when the
 * certificate does (the agent forgets them then). Nothing touches the disk; `--identity FILE`
 * writes files instead, for machines without an agent. `signet ssh logout` removes this CA's
 * certificates (and their keys) from the agent.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { parseSshCertificate, SSH_FOREVER } from '../../ssh/certificate.js';
import { parsePublicKeyLine, publicKeyBlob, sshFingerprint } from '../../ssh/keys.js';
import { agentAddCertificate, agentList, agentRemove, agentSocket } from '../../ssh/agent.js';
import { printJson } from '../io.js';
import { addTokenOptions, type TokenSourceFlags } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from '../ca/connection.js';
import { sshKeySpec } from '../ca/ssh.js';
import { requestSshCertificate, sshCertificateCommand, sshValidBefore } from './certificate.js';

interface LoginFlags extends ConnectionFlags, TokenSourceFlags {
  principal?: string[];
  keyType?: string;
  notAfter?: string;
  identity?: string;
  force?: boolean;
  json?: boolean;
}

/** What `ssh login --json` prints. */
export interface SshLoginResult {
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly serial: string;
  readonly validBefore: string;
  /** Seconds the agent keeps the key and certificate. */
  readonly agentLifetime?: number;
  /** Where the files went (with --identity). */
  readonly identity?: string;
  readonly fingerprint: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Runs `ssh login`. */
export async function sshLoginCommand(keyId: string, flags: LoginFlags, env: NodeJS.ProcessEnv = process.env): Promise<SshLoginResult> {
  if (keyId.trim() === '') throw new SignetError('ERR_BAD_SUBJECT', 'the key ID is empty');
  if (flags.identity !== undefined) {
    const r = await sshCertificateCommand(keyId, flags.identity, { ...flags, principal: flags.principal ?? [keyId] });
    return { keyId: r.keyId, principals: r.principals, serial: r.serial, validBefore: r.validBefore, identity: flags.identity, fingerprint: r.fingerprint };
  }
  if (flags.force === true) throw new SignetError('ERR_USAGE', '--force goes with --identity');
  // The agent first: without one, no token is spent.
  const socket = agentSocket(env);
  await agentList(socket);
  const spec = sshKeySpec(flags.keyType, '--key-type');
  const now = systemClock.now();
  const validBefore = sshValidBefore(flags.notAfter, now);
  const principals = flags.principal ?? [keyId];
  const { privateKey, publicKey } = await generateKeyAsync(spec);
  const { cert } = await requestSshCertificate(keyId, 'user', principals, publicKey, flags, validBefore);
  const end = cert.validBefore === SSH_FOREVER ? undefined : Number(cert.validBefore);
  const lifetime = end === undefined ? 24 * 3600 : end - Math.floor(systemClock.now().getTime() / 1000);
  if (lifetime <= 0) throw new SignetError('ERR_CA_BAD_RESPONSE', 'the CA issued a certificate that has already expired');
  await agentAddCertificate(socket, privateKey, cert.blob, keyId, lifetime);
  return {
    keyId: cert.keyId,
    principals: cert.principals,
    serial: cert.serial.toString(),
    validBefore: end === undefined ? 'forever' : formatTime(new Date(end * 1000)),
    agentLifetime: lifetime,
    fingerprint: sshFingerprint(publicKeyBlob(publicKey)),
  };
}

/** Removes from the agent every certificate signed by the CA's user key (optionally only those with `keyId`); returns what went. */
export async function sshLogoutCommand(flags: ConnectionFlags & { keyId?: string }, env: NodeJS.ProcessEnv = process.env): Promise<{ removed: { keyId: string; serial: string }[] }> {
  const socket = agentSocket(env);
  const roots = await clientFor(resolveCa(flags, { withConfig: true })).sshRoots();
  const caKeys = roots.userKey.map((l) => Buffer.from(parsePublicKeyLine(l).blob).toString('base64'));
  const removed: { keyId: string; serial: string }[] = [];
  for (const id of await agentList(socket)) {
    let cert;
    try {
      cert = parseSshCertificate(id.blob);
    } catch {
      continue; // a plain key, or a certificate Signet cannot read: not ours
    }
    if (!caKeys.includes(Buffer.from(cert.signatureKey).toString('base64'))) continue;
    if (flags.keyId !== undefined && cert.keyId !== flags.keyId) continue;
    if (await agentRemove(socket, id.blob)) removed.push({ keyId: cert.keyId, serial: cert.serial.toString() });
  }
  return { removed };
}

/** Registers `signet ssh login` and `signet ssh logout`. */
export function registerSshLogin(ssh: Command): void {
  const login = ssh
    .command('login')
    .description('get an SSH user certificate and add it, with a new key, to the running ssh-agent until the certificate expires')
    .argument('<key-id>', 'who you are, e.g. alice@example.com: the certificate\'s key ID (sshd logs it)')
    .option('--principal <name>', 'a user name to log in as (repeatable; default: the key ID)', collect)
    .option('--key-type <type>', 'the new key: ed25519 (default), p256, p384, rsa3072, rsa4096')
    .option('--not-after <time>', 'ask for this validBefore: a duration from now (8h) or a time; the provisioner\'s SSH claims bound it')
    .option('--identity <file>', 'write the key to FILE (and FILE.pub, FILE-cert.pub) instead of adding it to the agent');
  addTokenOptions(login);
  addConnectionOptions(login, { withConfig: true })
    .option('--force', 'with --identity: overwrite existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The key is made in memory and handed to the agent (SSH_AUTH_SOCK) with the certificate, constrained
to the certificate's lifetime: when it expires the agent drops both, and \`signet ssh login\` again
gets a new one. ssh then offers the certificate to any server that trusts the CA (TrustedUserCAKeys).

Exit codes: 0 logged in; 1 the CA refused (ERR_FORBIDDEN_NAMES, ERR_POLICY_DENIED, …); 2 bad flags;
5 no SSH agent (ERR_SSH_AGENT) or a file exists; 6 the CA cannot be reached.

Examples:
  $ signet ssh login alice@example.com --principal alice --token-file alice.token
  $ signet ssh login alice@example.com --principal alice --principal deploy --not-after 4h \\
      --provisioner admin --provisioner-key admin.key --provisioner-password-file prov-pw.txt
  $ signet ssh login ci@example.com --principal deploy --identity ./id_ci --token-file ci.token`,
    )
    .action(async (keyId: string, flags: LoginFlags) => {
      const r = await sshLoginCommand(keyId, flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      const where = r.identity !== undefined ? `written to ${r.identity} (+ .pub, -cert.pub)` : `added to the SSH agent for ${r.agentLifetime ?? 0}s`;
      process.stdout.write(escapeControl(`certificate for ${r.principals.join(', ')} (key ID ${r.keyId}, serial ${r.serial}) ${where}, valid until ${r.validBefore}`) + '\n');
    });

  const logout = ssh
    .command('logout')
    .description('remove the certificates of this CA (and their keys) from the running ssh-agent')
    .option('--key-id <id>', 'only the certificates with this key ID');
  addConnectionOptions(logout, { withConfig: true })
    .option('--json', 'print what was removed as JSON')
    .addHelpText(
      'after',
      `
Certificates are recognized by the CA key that signed them (GET /ssh/roots); keys and certificates
from elsewhere stay.

Examples:
  $ signet ssh logout
  $ signet ssh logout --key-id alice@example.com --json`,
    )
    .action(async (flags: ConnectionFlags & { keyId?: string; json?: boolean }) => {
      const r = await sshLogoutCommand(flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      if (r.removed.length === 0) process.stderr.write('no certificate of this CA in the SSH agent\n');
      for (const c of r.removed) process.stdout.write(escapeControl(`removed ${c.keyId} (serial ${c.serial})`) + '\n');
    });
}
