/**
 * The SSH certificate authority of a CA: two keys — one signs user certificates (sshd trusts it
 * through TrustedUserCAKeys), one signs host certificates (clients trust it through an
 * `@cert-authority` line) — encrypted like the intermediate key, with their public halves next to
 * the certificates. `signet ca init --ssh` makes them with a new CA; `signet ca ssh enable` adds
 * them to an existing one (and turns on the `sshEnabled` claim).
 *
 * ```
 * DIR/secrets/ssh_user_ca.key   encrypted PKCS#8, 0600     DIR/certs/ssh_user_ca.pub   authorized_keys line
 * DIR/secrets/ssh_host_ca.key   encrypted PKCS#8, 0600     DIR/certs/ssh_host_ca.pub   authorized_keys line
 * ```
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { generateKeyAsync, parseKeySpec, type KeySpec } from '../../crypto/key-spec.js';
import { encodePrivateKeyPem, parsePrivateKey } from '../../crypto/keys.js';
import { loadCaConfig, parseCaConfig, SSH_CLAIMS_DOCUMENT, type CaConfig } from '../../ca/config.js';
import { formatPublicKeyLine, publicKeyBlob, sshFingerprint } from '../../ssh/keys.js';
import { isJsonObject, parseJson, type JsonObject } from '../../x509/template/json.js';
import { checkOutputs, commitOutputs, printJson, readPassword, type OutputData } from '../io.js';
import { DEFAULT_CONFIG_PATH } from './config-validate.js';

/** The SSH CA's files, relative to the CA directory. */
export const SSH_CA_FILES = Object.freeze({
  userKey: 'secrets/ssh_user_ca.key',
  hostKey: 'secrets/ssh_host_ca.key',
  userPub: 'certs/ssh_user_ca.pub',
  hostPub: 'certs/ssh_host_ca.pub',
});

/** The default SSH CA key type: Ed25519, what OpenSSH recommends and every supported release reads. */
export const DEFAULT_SSH_KEY_SPEC: KeySpec = 'ed25519';

/** One SSH CA key as `--json` prints it. */
export interface SshCaKeyInfo {
  readonly key: string;
  readonly publicKey: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** The authorized_keys line of the public key. */
  readonly line: string;
}

/** The SSH CA key type from `--ssh-key-type` (ed25519 default, p256, p384, rsa3072 …; P-521 and RSA under 2048 are refused by OpenSSH or by us). */
export function sshKeySpec(text: string | undefined, flag: string): KeySpec {
  const spec = text === undefined ? DEFAULT_SSH_KEY_SPEC : parseKeySpec(text);
  if (spec === 'p521') throw new SignetError('ERR_BAD_OPTION', `${flag} p521: use ed25519 (default), p256, p384 or rsa`, { hint: 'P-521 SSH CA keys work, but nothing needs them; Ed25519 is smaller and faster' });
  return spec;
}

/** Generates the user and host CA keys; returns the files to write (paths relative to the CA directory) and what to print. */
export async function makeSshCaKeys(spec: KeySpec, password: string, shown: (p: string) => string): Promise<{ files: OutputData[]; user: SshCaKeyInfo; host: SshCaKeyInfo }> {
  const [user, host] = await Promise.all([generateKeyAsync(spec), generateKeyAsync(spec)]);
  const files: OutputData[] = [];
  const info = (pair: typeof user, kind: 'user' | 'host'): SshCaKeyInfo => {
    const keyFile = kind === 'user' ? SSH_CA_FILES.userKey : SSH_CA_FILES.hostKey;
    const pubFile = kind === 'user' ? SSH_CA_FILES.userPub : SSH_CA_FILES.hostPub;
    const line = formatPublicKeyLine(pair.publicKey, `signet ${kind} CA`);
    files.push({ path: keyFile, role: `SSH ${kind} CA key`, data: encodePrivateKeyPem(pair.privateKey, password), mode: 0o600 });
    files.push({ path: pubFile, role: `SSH ${kind} CA public key`, data: `${line}\n`, mode: 0o644 });
    return { key: shown(keyFile), publicKey: shown(pubFile), fingerprint: sshFingerprint(publicKeyBlob(pair.publicKey)), line };
  };
  return { files, user: info(user, 'user'), host: info(host, 'host') };
}

interface EnableFlags {
  config?: string;
  keyType?: string;
  passwordFile?: string;
  json?: boolean;
}

/** What `ca ssh enable --json` prints. */
export interface SshEnableResult {
  readonly config: string;
  readonly userKey: SshCaKeyInfo;
  readonly hostKey: SshCaKeyInfo;
}

/**
 * Adds SSH CA keys to an existing CA: encrypted with the intermediate key's password (checked by
 * decrypting the intermediate key), `ssh` and the SSH claims added to signet.json, the whole edited
 * config validated before the keys and the config are written together.
 */
export async function caSshEnableCommand(flags: EnableFlags): Promise<SshEnableResult> {
  const config: CaConfig = loadCaConfig(flags.config ?? DEFAULT_CONFIG_PATH);
  const path = config.configPath as string;
  if (config.ssh !== undefined) {
    throw new SignetError('ERR_CA_EXISTS', `${path} already has an SSH certificate authority (${config.ssh.userKey}, ${config.ssh.hostKey})`, { hint: 'its public keys are at GET /ssh/roots' });
  }
  const spec = sshKeySpec(flags.keyType, '--key-type');
  const dir = dirname(path);
  const planned = [SSH_CA_FILES.userKey, SSH_CA_FILES.hostKey, SSH_CA_FILES.userPub, SSH_CA_FILES.hostPub].map((f) => ({ path: join(dir, f), role: 'SSH CA file' }));
  checkOutputs(planned, [{ path: flags.passwordFile, role: '--password-file' }]);
  // The keys share the intermediate's password, so `ca start` opens all with one: prove it is that password.
  const passwordFile = flags.passwordFile ?? config.intermediate.passwordFile;
  const password = await readPassword({ passwordFile, prompt: 'password of the intermediate key: ', flag: '--password-file' });
  try {
    parsePrivateKey(new Uint8Array(readFileSync(config.intermediate.key)), password);
  } catch (e) {
    if (e instanceof SignetError && e.code === 'ERR_KEY_WRONG_PASSWORD') {
      throw new SignetError('ERR_KEY_WRONG_PASSWORD', `the password does not decrypt the intermediate key ${config.intermediate.key}`, { hint: 'the SSH CA keys are encrypted with the intermediate key\'s password, so one password opens the CA' });
    }
    throw e;
  }
  const made = await makeSshCaKeys(spec, password, (p) => join(dir, p));
  const doc = parseJson(readFileSync(path, 'utf8'), { what: path }).value;
  if (!isJsonObject(doc)) throw new SignetError('ERR_CONFIG_INVALID', `${path} is not a JSON object`);
  doc.ssh = { userKey: SSH_CA_FILES.userKey, hostKey: SSH_CA_FILES.hostKey };
  const claims: JsonObject = isJsonObject(doc.claims) ? doc.claims : {};
  for (const [k, v] of Object.entries(SSH_CLAIMS_DOCUMENT)) if (!Object.hasOwn(claims, k) || k === 'sshEnabled') claims[k] = v;
  doc.claims = claims;
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  parseCaConfig(text, { baseDir: dir, name: path, configPath: path });
  const mode = statSync(path).mode & 0o777;
  commitOutputs([...made.files.map((f) => ({ ...f, path: join(dir, f.path) })), { path, role: '--config', data: text, mode }], { force: true });
  return { config: path, userKey: made.user, hostKey: made.host };
}

/** Registers `signet ca ssh enable`. */
export function registerCaSsh(ca: Command): void {
  const cmd = ca.command('ssh').description('the SSH certificate authority of a CA');
  cmd
    .command('enable')
    .description('add SSH user and host CA keys to an existing CA, and let its provisioners issue SSH certificates')
    .option('--config <file>', `the config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`)
    .option('--key-type <type>', 'type of the SSH CA keys: ed25519 (default), p256, p384 or rsa (rsa3072, rsa4096)')
    .option('--password-file <file>', 'first line: the intermediate key\'s password, which also encrypts the SSH CA keys (default: the config\'s passwordFile, else a prompt)')
    .option('--json', 'print the new keys as JSON')
    .addHelpText(
      'after',
      `
Writes secrets/ssh_user_ca.key and secrets/ssh_host_ca.key (encrypted, 0600), their public keys
certs/ssh_user_ca.pub and certs/ssh_host_ca.pub, and adds "ssh" and "sshEnabled": true to the
config. Restart the CA to serve them (GET /ssh/roots, POST /ssh/sign).

Examples:
  $ signet ca ssh enable
  $ signet ca ssh enable --config /etc/signet --key-type p256 --json`,
    )
    .action(async (flags: EnableFlags) => {
      const r = await caSshEnableCommand(flags);
      if (flags.json === true) {
        printJson(r);
        return;
      }
      process.stdout.write(
        escapeControl(
          [
            `SSH certificate authority added to ${r.config}`,
            `  user CA: ${r.userKey.fingerprint}  ${r.userKey.publicKey}  (sshd: TrustedUserCAKeys)`,
            `  host CA: ${r.hostKey.fingerprint}  ${r.hostKey.publicKey}  (ssh: @cert-authority line in known_hosts)`,
            'restart the CA (signet ca start) to serve them',
          ].join('\n'),
        ) + '\n',
      );
    });
}
