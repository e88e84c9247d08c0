/**
 * `signet ssh renew CERT KEY` — renew a host certificate with proof of possession of its key: a
 * token signed by the host key with the certificate in it (`POST /ssh/renew`; no provisioner
 * token needed), the new certificate written over CERT atomically (through a symbolic link to its
 * target, keeping the mode), then --exec / --signal (e.g. reload sshd). Without --force only when
 * due (two thirds of the lifetime, or --expires-in); `--daemon` keeps doing that.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { parsePrivateKey } from '../../crypto/keys.js';
import { mintSshPopToken } from '../../ca/token.js';
import { RENEW_AT_TWO_THIRDS } from '../../client/schedule.js';
import { formatCertificateLine, parseSshCertificate, type SshCertificate } from '../../ssh/certificate.js';
import { parseOpenSshPrivateKey, parsePublicKeyLine } from '../../ssh/keys.js';
import { sshSerialHex } from '../../ssh/issue.js';
import { checkRenewal, humanDuration, parseRenewalThreshold } from '../../x509/inspect.js';
import { commitOutputs, printJson, readInput, withSource } from '../io.js';
import { existingMode, replaceTarget } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags, type ResolvedCa } from '../ca/connection.js';
import type { CredentialState, RenewableCredential } from '../ca/renew-daemon.js';
import { hooksFromFlags, runDaemonCommand, type RenewLoopFlags } from '../ca/renew.js';
import { runRenewHooks } from '../ca/renew-hooks.js';
import { checkIssuedSsh } from './certificate.js';

type SshRenewFlags = ConnectionFlags & RenewLoopFlags;

/** A host certificate file and its key, read and matched. */
interface HostFiles {
  readonly cert: SshCertificate;
  readonly key: KeyObject;
}

function state(c: SshCertificate): CredentialState {
  return { serial: sshSerialHex(c.serial), notBefore: new Date(Number(c.validAfter) * 1000), notAfter: new Date(Number(c.validBefore) * 1000) };
}

/** Reads CERT (a `-cert.pub` line) and KEY (OpenSSH or PEM private key) and checks that they belong together. */
export function loadHostFiles(certPath: string, keyPath: string): HostFiles {
  const text = Buffer.from(readInput(certPath, 'SSH certificate', 256 * 1024)).toString('utf8');
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  if (line === undefined) throw new SignetError('ERR_INPUT_EMPTY', `no SSH certificate in ${certPath}`);
  const cert = withSource(`CERT ${certPath}`, () => parseSshCertificate(parsePublicKeyLine(line).blob));
  if (cert.type !== 'host') throw new SignetError('ERR_BAD_OPTION', `${certPath} is a user certificate: users renew by logging in again (signet ssh login)`);
  const keyText = Buffer.from(readInput(keyPath, 'key file')).toString('utf8');
  const key = withSource(`KEY ${keyPath}`, () => (keyText.includes('BEGIN OPENSSH PRIVATE KEY') ? parseOpenSshPrivateKey(keyText) : parsePrivateKey(new TextEncoder().encode(keyText))));
  if (!cert.publicKey.equals(createPublicKey(key))) throw new SignetError('ERR_KEY_MISMATCH', `${keyPath} is not the key of ${certPath}`, { hint: 'pass the host key the certificate was issued for' });
  return { cert, key };
}

/** Renews CERT once and writes it over the file (its symlink target), keeping its mode. */
export async function renewHostCertificate(target: ResolvedCa, certPath: string, keyPath: string): Promise<{ previous: SshCertificate; cert: SshCertificate }> {
  const { cert: current, key } = loadHostFiles(certPath, keyPath);
  const client = clientFor(target);
  const token = await mintSshPopToken({ certificate: current.blob, key, serial: sshSerialHex(current.serial), audience: `${client.url}/ssh/renew`, now: systemClock.now() });
  const issued = await client.sshRenew(token);
  const cert = checkIssuedSsh(issued.crt, current.publicKey, 'host', current.principals, client.url);
  const file = replaceTarget(certPath);
  commitOutputs([{ path: file, role: 'CERT', mode: existingMode(file, 0o644), data: `${formatCertificateLine(cert.blob, cert.keyId)}\n` }], { force: true });
  return { previous: current, cert };
}

/** Registers `signet ssh renew`. */
export function registerSshRenew(ssh: Command): void {
  const cmd = ssh
    .command('renew')
    .description('renew a host certificate by proof of possession of the host key (no token); --daemon keeps it renewed')
    .argument('<cert>', 'the host certificate, e.g. /etc/ssh/ssh_host_ed25519_key-cert.pub (replaced atomically)')
    .argument('<key>', 'the host key it certifies, e.g. /etc/ssh/ssh_host_ed25519_key (OpenSSH or PEM format; unchanged)')
    .option('--force', 'renew even if it is not due yet')
    .option('--expires-in <threshold>', 'due once this share of the lifetime has passed (75%) or this little time is left (8h); default 2/3 of the lifetime')
    .option('--daemon', 'keep running: renew at 2/3 of each lifetime (± jitter), retry while the CA is down; SIGTERM stops it')
    .option('--exec <command>', 'after each renewal run this command through /bin/sh, e.g. "systemctl reload ssh" (gets SIGNET_CERT_FILE, SIGNET_KEY_FILE, SIGNET_SERIAL)')
    .option('--signal <pid:signame>', 'after each renewal send this signal to this process, e.g. "$(cat /run/sshd.pid):HUP"')
    .option('--retry-max <duration>', 'longest wait between retries while the CA is down (daemon)', '1m');
  addConnectionOptions(cmd)
    .option('--json', 'print the result as JSON (daemon: one JSON object per line)')
    .addHelpText(
      'after',
      `
The CA checks that the certificate is one it issued, byte for byte (a certificate of another CA is
ERR_AUTH_CERTIFICATE), that it is a host certificate not revoked or already replaced, and that its
provisioner allows renewal; the new certificate keeps the key, key ID and principals, and lives as
long as the old one did (within the provisioner's host lifetimes). sshd reads the certificate
when it starts and on SIGHUP: reload it after a renewal.

Exit codes: 0 renewed, not due yet, or the daemon stopped; 1 the CA refused (ERR_AUTH_CERTIFICATE,
ERR_CERT_REVOKED, ERR_CERT_REPLACED, ERR_RENEWAL_NOT_ALLOWED, …); 3 CERT is not an SSH certificate;
4 KEY is not the key of CERT (ERR_KEY_MISMATCH); 5 a file problem; 6 the CA cannot be reached.

Examples:
  $ signet ssh renew /etc/ssh/ssh_host_ed25519_key-cert.pub /etc/ssh/ssh_host_ed25519_key --exec 'systemctl reload ssh'
  $ signet ssh renew /etc/ssh/ssh_host_ed25519_key-cert.pub /etc/ssh/ssh_host_ed25519_key --daemon \\
      --exec 'systemctl reload ssh' --json`,
    )
    .action(async (certPath: string, keyPath: string, flags: SshRenewFlags) => {
      const threshold = flags.expiresIn === undefined ? RENEW_AT_TWO_THIRDS : parseRenewalThreshold(flags.expiresIn);
      const hooks = hooksFromFlags(flags);
      // The files first: a missing or mismatched file is the problem to report, whatever the CA.
      const first = loadHostFiles(certPath, keyPath);
      const target = resolveCa(flags);
      if (flags.daemon) {
        if (flags.force) throw new SignetError('ERR_USAGE', '--force and --daemon cannot be combined');
        const credential: RenewableCredential = {
          read: () => Promise.resolve(state(loadHostFiles(certPath, keyPath).cert)),
          renew: async () => state((await renewHostCertificate(target, certPath, keyPath)).cert),
        };
        await runDaemonCommand(certPath, keyPath, credential, flags, threshold, hooks);
        return;
      }
      const now = systemClock.now();
      const d = checkRenewal(state(first.cert), threshold, now);
      if (!d.needsRenewal && flags.force !== true) {
        if (flags.json) printJson({ renewed: false, cert: certPath, serial: first.cert.serial.toString(), validBefore: formatTime(d.notAfter), renewAt: formatTime(d.renewAt) });
        else process.stdout.write(escapeControl(`not yet: ${certPath} is due at ${formatTime(d.renewAt)} (in ${humanDuration(d.renewAt.getTime() - now.getTime())}); --force renews now`) + '\n');
        return;
      }
      const { previous, cert } = await renewHostCertificate(target, certPath, keyPath);
      const validBefore = formatTime(new Date(Number(cert.validBefore) * 1000));
      if (flags.json) printJson({ renewed: true, cert: certPath, serial: cert.serial.toString(), previousSerial: previous.serial.toString(), principals: cert.principals, validBefore });
      else process.stdout.write(escapeControl(`renewed ${certPath}: serial ${cert.serial} (was ${previous.serial}), valid until ${validBefore}`) + '\n');
      await runRenewHooks(hooks, { crt: certPath, key: keyPath, serial: sshSerialHex(cert.serial) });
    });
}
