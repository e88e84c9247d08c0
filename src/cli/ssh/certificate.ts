/**
 * `signet ssh certificate KEY-ID KEY` — get an SSH certificate from the CA: a new key here (or
 * `--public-key` for an existing one), a one-time token (given, or minted with the provisioner
 * key), `POST /ssh/sign`, and the files OpenSSH looks for, written together and atomically:
 *
 * ```
 * KEY            the private key, OpenSSH format, 0600 (not with --public-key)
 * KEY.pub        its public key (not with --public-key)
 * KEY-cert.pub   the certificate: ssh and sshd find it next to the key
 * ```
 *
 * What the CA returned is checked before anything is written: an OpenSSH certificate of the kind
 * asked for, for this key, with the principals asked for.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseTime } from '../../core/duration.js';
import { generateKeyAsync, type KeySpec } from '../../crypto/key-spec.js';
import { formatCertificateLine, parseSshCertificate, SSH_FOREVER, type SshCertificate } from '../../ssh/certificate.js';
import { formatOpenSshPrivateKey, formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine, publicKeyBlob, sshFingerprint } from '../../ssh/keys.js';
import { collect, checkOutputs, commitOutputs, printJson, readInput, type OutputData, type PlannedOutput } from '../io.js';
import { addTokenOptions, tokenInputs, obtainToken, type TokenSourceFlags } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags, type ResolvedCa } from '../ca/connection.js';
import { sshKeySpec } from '../ca/ssh.js';

export interface SshCertificateFlags extends ConnectionFlags, TokenSourceFlags {
  host?: boolean;
  principal?: string[];
  keyType?: string;
  publicKey?: string;
  notAfter?: string;
  force?: boolean;
  json?: boolean;
}

/** What `ssh certificate --json` prints. */
export interface SshCertificateResult {
  readonly certificate: string;
  readonly key?: string;
  readonly publicKey: string;
  readonly type: 'user' | 'host';
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Decimal, as ssh-keygen -L and sshd's log show it. */
  readonly serial: string;
  /** Hex, as the inventory keeps it. */
  readonly inventorySerial: string;
  readonly validAfter: string;
  readonly validBefore: string;
  readonly fingerprint: string;
  readonly caUrl: string;
}


/**
 * Checks what the CA answered: an OpenSSH certificate (a valid one, signed by the key it names) of
 * the kind asked for, for `key`, carrying the principals asked for.
 */
export function checkIssuedSsh(line: string, key: KeyObject, type: 'user' | 'host', principals: readonly string[] | undefined, url: string): SshCertificate {
  let cert: SshCertificate;
  try {
    cert = parseSshCertificate(parsePublicKeyLine(line).blob);
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the SSH certificate from ${url} is not readable`, { cause: e });
  }
  if (!cert.publicKey.equals(key.type === 'private' ? createPublicKey(key) : key)) throw new SignetError('ERR_CA_BAD_RESPONSE', `the SSH certificate from ${url} is not for this key`);
  if (cert.type !== type) throw new SignetError('ERR_CA_BAD_RESPONSE', `the CA answered with a ${cert.type} certificate, not a ${type} certificate`);
  if (cert.principals.length === 0) throw new SignetError('ERR_CA_BAD_RESPONSE', `the SSH certificate from ${url} has no principals (it would be valid for everyone)`);
  const want = principals === undefined ? cert.principals : type === 'host' ? principals.map((p) => p.toLowerCase()) : principals;
  if (want.some((p) => !cert.principals.includes(p)) || cert.principals.some((p) => !want.includes(p))) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the SSH certificate from ${url} carries other principals (${cert.principals.join(', ')}) than asked for`);
  }
  return cert;
}

/**
 * Gets a certificate for `publicKey`: the CA from the connection flags, a token (given, or minted
 * with the provisioner key), `POST /ssh/sign`, and the answer checked ({@link checkIssuedSsh}).
 */
export async function requestSshCertificate(
  keyId: string,
  type: 'user' | 'host',
  principals: readonly string[] | undefined,
  publicKey: KeyObject,
  flags: ConnectionFlags & TokenSourceFlags,
  validBefore: string | undefined,
  given?: { readonly target: ResolvedCa; readonly token: string },
): Promise<{ cert: SshCertificate; serial: string; caUrl: string }> {
  const target = given?.target ?? resolveCa(flags, { withConfig: true });
  const token = given?.token ?? (await obtainToken(keyId, flags, target, { ssh: { host: type === 'host', principals: principals ?? [keyId] } }));
  const client = clientFor(target);
  const issued = await client.sshSign({ publicKey: formatPublicKeyLine(publicKey), ott: token, certType: type, ...(principals !== undefined ? { principals } : {}), ...(validBefore !== undefined ? { validBefore } : {}) });
  return { cert: checkIssuedSsh(issued.crt, publicKey, type, principals, client.url), serial: issued.serial, caUrl: client.url };
}

/** `--not-after 8h` (a duration from now) or a time, as RFC 3339 for the API. */
export function sshValidBefore(text: string | undefined, now: Date): string | undefined {
  return text === undefined ? undefined : formatTime(parseTime(text, now));
}

/** Runs `ssh certificate`. */
export async function sshCertificateCommand(keyId: string, keyPath: string, flags: SshCertificateFlags): Promise<SshCertificateResult> {
  const force = flags.force === true;
  if (keyId.trim() === '') throw new SignetError('ERR_BAD_SUBJECT', 'the key ID is empty');
  if (keyPath === '-') throw new SignetError('ERR_USAGE', 'KEY must be a file');
  if (flags.publicKey !== undefined && flags.keyType !== undefined) throw new SignetError('ERR_USAGE', '--key-type makes a new key; with --public-key the key exists');
  const type = flags.host === true ? 'host' : 'user';
  const principals = flags.principal ?? [keyId];
  const spec: KeySpec | undefined = flags.publicKey === undefined ? sshKeySpec(flags.keyType, '--key-type') : undefined;
  const now = systemClock.now();
  const validBefore = sshValidBefore(flags.notAfter, now);
  const certPath = `${keyPath}-cert.pub`;
  const planned: PlannedOutput[] = [{ path: certPath, role: 'KEY-cert.pub', mode: 0o644 }];
  if (flags.publicKey === undefined) planned.push({ path: keyPath, role: 'KEY', mode: 0o600 }, { path: `${keyPath}.pub`, role: 'KEY.pub', mode: 0o644 });
  checkOutputs(
    planned,
    [{ path: flags.publicKey, role: '--public-key' }, ...tokenInputs(flags)],
    { force },
  );
  let publicKey: KeyObject;
  let privateKey: KeyObject | undefined;
  if (flags.publicKey !== undefined) {
    const text = Buffer.from(readInput(flags.publicKey, 'public key', 64 * 1024)).toString('utf8');
    const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (line === undefined) throw new SignetError('ERR_INPUT_EMPTY', `no public key in ${flags.publicKey}`);
    publicKey = parsePublicKeyBlob(parsePublicKeyLine(line).blob);
  } else {
    const pair = await generateKeyAsync(spec);
    privateKey = pair.privateKey;
    publicKey = pair.publicKey;
  }
  const { cert, serial, caUrl } = await requestSshCertificate(keyId, type, principals, publicKey, flags, validBefore);
  const outputs: OutputData[] = [{ path: certPath, role: 'KEY-cert.pub', mode: 0o644, data: `${formatCertificateLine(cert.blob, keyId)}\n` }];
  if (privateKey !== undefined) {
    outputs.push({ path: keyPath, role: 'KEY', mode: 0o600, data: formatOpenSshPrivateKey(privateKey, keyId) }, { path: `${keyPath}.pub`, role: 'KEY.pub', mode: 0o644, data: `${formatPublicKeyLine(publicKey, keyId)}\n` });
  }
  commitOutputs(outputs, { force });
  const time = (s: bigint): string => formatTime(new Date(Number(s) * 1000));
  return {
    certificate: certPath,
    ...(privateKey !== undefined ? { key: keyPath } : {}),
    publicKey: flags.publicKey ?? `${keyPath}.pub`,
    type,
    keyId: cert.keyId,
    principals: cert.principals,
    serial: cert.serial.toString(),
    inventorySerial: serial,
    validAfter: time(cert.validAfter),
    validBefore: cert.validBefore === SSH_FOREVER ? 'forever' : time(cert.validBefore),
    fingerprint: sshFingerprint(publicKeyBlob(publicKey)),
    caUrl,
  };
}

/** Registers `signet ssh certificate`. */
export function registerSshCertificate(ssh: Command): void {
  const cmd = ssh
    .command('certificate')
    .description('get an SSH user (or --host) certificate from the CA: new key here, one-time token, POST /ssh/sign; writes KEY, KEY.pub and KEY-cert.pub')
    .argument('<key-id>', 'the certificate\'s key ID: who or what it is for (sshd logs it), e.g. alice@example.com or web01.example.com')
    .argument('<key>', 'where to write the new private key (OpenSSH format, 0600); the certificate goes to KEY-cert.pub')
    .option('--host', 'a host certificate (default: a user certificate)')
    .option('--principal <name>', 'a principal: a user name to log in as, or (--host) a host name clients connect to (repeatable; default: the key ID)', collect)
    .option('--key-type <type>', 'the new key: ed25519 (default), p256, p384, rsa3072, rsa4096')
    .option('--public-key <file>', 'certify this existing public key (KEY.pub form) instead of making a new key; only KEY-cert.pub is written')
    .option('--not-after <time>', 'ask for this validBefore: a duration from now (8h) or a time; the provisioner\'s SSH claims bound it');
  addTokenOptions(cmd);
  addConnectionOptions(cmd, { withConfig: true })
    .option('--force', 'overwrite existing files')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
The token authorizes the kind (user or host) and the principals: mint it with
\`signet ca token KEY-ID --ssh [--host] --principal NAME…\`, or let this command mint it with the
provisioner key (--provisioner-key, or --config on the CA host). The key is written unencrypted
(0600), as ssh-keygen does without -N; add a passphrase with ssh-keygen -p -f KEY.

Exit codes: 0 written; 1 the CA refused (its code, e.g. ERR_FORBIDDEN_NAMES, ERR_POLICY_DENIED,
ERR_LIFETIME_OUT_OF_BOUNDS); 2 bad flags or no context; 3 a malformed --public-key; 4 an
unsupported key; 5 a file exists; 6 the CA cannot be reached.

Examples:
  $ signet ssh certificate alice@example.com ~/.ssh/id_signet --principal alice --token-file alice.token
  $ signet ssh certificate web01.example.com /etc/ssh/ssh_host_ed25519_key --host \\
      --public-key /etc/ssh/ssh_host_ed25519_key.pub --principal web01.example.com --token-file host.token
  $ signet ssh certificate deploy id_deploy --principal deploy --not-after 1h --config .signet/ca/signet.json \\
      --provisioner-password-file prov-pw.txt`,
    )
    .action(async (keyId: string, key: string, flags: SshCertificateFlags) => {
      const r = await sshCertificateCommand(keyId, key, flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        [
          `certificate  ${r.certificate} (${r.type})`,
          ...(r.key !== undefined ? [`key          ${r.key} (0600, unencrypted)`] : []),
          `key ID       ${r.keyId}`,
          `principals   ${r.principals.join(', ')}`,
          `serial       ${r.serial}`,
          `valid        ${r.validAfter} to ${r.validBefore}`,
          `fingerprint  ${r.fingerprint}`,
        ]
          .map(escapeControl)
          .join('\n') + '\n',
      );
    });
}
