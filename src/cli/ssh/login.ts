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
import { formatTime, parseDuration } from '../../core/duration.js';
import { generateKeyAsync } from '../../crypto/key-spec.js';
import { parseSshCertificate, SSH_FOREVER } from '../../ssh/certificate.js';
import { parsePublicKeyLine, publicKeyBlob, sshFingerprint } from '../../ssh/keys.js';
import { agentAddCertificate, agentList, agentRemove, agentSocket } from '../../ssh/agent.js';
import { collect, printJson } from '../io.js';
import { addTokenOptions, type TokenSourceFlags } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags, type ResolvedCa } from '../ca/connection.js';
import { sshKeySpec } from '../ca/ssh.js';
import { requestSshCertificate, sshCertificateCommand, sshValidBefore } from './certificate.js';
import { oidcLogin, type OidcProvider } from './oidc-login.js';

interface LoginFlags extends ConnectionFlags, TokenSourceFlags {
  browser?: boolean;
  listenPort?: string;
  timeout?: string;
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


/**
 * The OIDC provisioner to sign in with, when no token is given and none is to be minted here: the
 * one `--provisioner` names, or the CA's only OIDC provisioner (GET /provisioners).
 */
async function oidcProvisioner(target: ResolvedCa, flags: LoginFlags): Promise<OidcProvider | undefined> {
  if (flags.token !== undefined || flags.tokenFile !== undefined || flags.provisionerKey !== undefined) return undefined;
  if (flags.provisioner === undefined && flags.config !== undefined) return undefined;
  const r = await clientFor(target).request({ path: '/provisioners' });
  const list = (r.json as { provisioners?: unknown } | undefined)?.provisioners;
  const all = Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
  const oidc = all.filter((p) => p.type === 'OIDC' && typeof p.issuer === 'string' && typeof p.clientId === 'string' && (flags.provisioner === undefined || p.name === flags.provisioner));
  if (flags.provisioner !== undefined && oidc.length === 0) return undefined; // a JWK provisioner: mint here
  if (oidc.length !== 1) return undefined;
  const p = oidc[0] as { issuer: string; clientId: string };
  return { issuer: p.issuer, clientId: p.clientId };
}

/** Runs `ssh login`. */
export async function sshLoginCommand(keyIdArg: string | undefined, flags: LoginFlags, env: NodeJS.ProcessEnv = process.env): Promise<SshLoginResult> {
  if (keyIdArg !== undefined && keyIdArg.trim() === '') throw new SignetError('ERR_BAD_SUBJECT', 'the key ID is empty');
  const timeoutMs = flags.timeout === undefined ? 300_000 : parseDuration(flags.timeout);
  if (timeoutMs <= 0 || timeoutMs > 3_600_000) throw new SignetError('ERR_BAD_DURATION', `--timeout must be between 1s and 1h, got "${flags.timeout ?? ''}"`);
  const listenPort = flags.listenPort === undefined ? 0 : Number(flags.listenPort);
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) throw new SignetError('ERR_BAD_OPTION', `--listen-port must be a port number, got "${flags.listenPort ?? ''}"`);
  // Single sign-on: no token given or minted here, and the CA has an OIDC provisioner.
  const target = resolveCa(flags, { withConfig: true });
  const provider = await oidcProvisioner(target, flags);
  if (provider === undefined && keyIdArg === undefined) throw new SignetError('ERR_USAGE', 'which key ID? pass KEY-ID (e.g. alice@example.com), or sign in with an OIDC provisioner (--provisioner NAME)');
  const keyId = keyIdArg ?? '';
  if (provider !== undefined) {
    if (flags.identity !== undefined) throw new SignetError('ERR_USAGE', '--identity writes files; with single sign-on the key goes to the agent');
    const socket = agentSocket(env);
    await agentList(socket);
    const token = await oidcLogin(provider, { port: listenPort, browser: flags.browser !== false, timeoutMs, say: (line) => process.stderr.write(`${escapeControl(line)}\n`) });
    return addToAgent(socket, keyId, flags, { target, token });
  }
  if (flags.identity !== undefined) {
    const r = await sshCertificateCommand(keyId, flags.identity, { ...flags, principal: flags.principal ?? [keyId] });
    return { keyId: r.keyId, principals: r.principals, serial: r.serial, validBefore: r.validBefore, identity: flags.identity, fingerprint: r.fingerprint };
  }
  if (flags.force === true) throw new SignetError('ERR_USAGE', '--force goes with --identity');
  // The agent first: without one, no token is spent.
  const socket = agentSocket(env);
  await agentList(socket);
  return addToAgent(socket, keyId, flags, undefined);
}

/** A new key, its certificate (with `given` token, or one obtained from the flags), both into the agent until the certificate expires. */
async function addToAgent(socket: string, keyId: string, flags: LoginFlags, given: { readonly target: ResolvedCa; readonly token: string } | undefined): Promise<SshLoginResult> {
  const spec = sshKeySpec(flags.keyType, '--key-type');
  const now = systemClock.now();
  const validBefore = sshValidBefore(flags.notAfter, now);
  // With single sign-on the CA derives the principals from the identity; --principal picks among them.
  const principals = flags.principal ?? (given === undefined ? [keyId] : undefined);
  const { privateKey, publicKey } = await generateKeyAsync(spec);
  const { cert } = await requestSshCertificate(keyId, 'user', principals, publicKey, flags, validBefore, given);
  const end = cert.validBefore === SSH_FOREVER ? undefined : Number(cert.validBefore);
  const lifetime = end === undefined ? 24 * 3600 : end - Math.floor(systemClock.now().getTime() / 1000);
  if (lifetime <= 0) throw new SignetError('ERR_CA_BAD_RESPONSE', 'the CA issued a certificate that has already expired');
  await agentAddCertificate(socket, privateKey, cert.blob, cert.keyId, lifetime);
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
    .argument('[key-id]', 'who you are, e.g. alice@example.com: the certificate\'s key ID (sshd logs it); with single sign-on it is your e-mail address at the provider')
    .option('--principal <name>', 'a user name to log in as (repeatable; default: the key ID)', collect)
    .option('--key-type <type>', 'the new key: ed25519 (default), p256, p384, rsa3072, rsa4096')
    .option('--not-after <time>', 'ask for this validBefore: a duration from now (8h) or a time; the provisioner\'s SSH claims bound it')
    .option('--identity <file>', 'write the key to FILE (and FILE.pub, FILE-cert.pub) instead of adding it to the agent')
    .option('--no-browser', 'single sign-on: only print the sign-in URL, do not open a browser')
    .option('--listen-port <port>', 'single sign-on: the loopback port the provider redirects to (default: any free port)')
    .option('--timeout <duration>', 'single sign-on: how long to wait for the sign-in (default 5m)');
  addTokenOptions(login);
  addConnectionOptions(login, { withConfig: true })
    .option('--force', 'with --identity: overwrite existing files')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
With an OIDC provisioner (single sign-on) no token is needed: the sign-in URL of the OpenID provider
is opened in a browser (and printed), the provider redirects back to this command on 127.0.0.1, and
the ID token goes to the CA, which makes your e-mail address the key ID and its local part (and
the address) the principals. With --provisioner NAME naming a JWK provisioner, or a token, it works
as \`signet ssh certificate\` does.

The key is made in memory and handed to the agent (SSH_AUTH_SOCK) with the certificate, constrained
to the certificate's lifetime: when it expires the agent drops both, and \`signet ssh login\` again
gets a new one. ssh then offers the certificate to any server that trusts the CA (TrustedUserCAKeys).

Exit codes: 0 logged in; 1 the CA refused (ERR_FORBIDDEN_NAMES, ERR_POLICY_DENIED, …); 2 bad flags;
5 no SSH agent (ERR_SSH_AGENT) or a file exists; 6 the CA cannot be reached.

Examples:
  $ signet ssh login
  $ signet ssh login --provisioner sso --no-browser
  $ signet ssh login alice@example.com --principal alice --token-file alice.token
  $ signet ssh login alice@example.com --principal alice --principal deploy --not-after 4h \\
      --provisioner admin --provisioner-key admin.key --provisioner-password-file prov-pw.txt
  $ signet ssh login ci@example.com --principal deploy --identity ./id_ci --token-file ci.token`,
    )
    .action(async (keyId: string | undefined, flags: LoginFlags) => {
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
