/**
 * `signet ssh …` — SSH certificates. `signet ssh inspect FILE` shows an OpenSSH certificate
 * (`*-cert.pub`) field by field as `ssh-keygen -L` does, with its validity judged at --time, or a
 * public key line with its fingerprint; `--json` for scripts.
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { parseSshCertificate, SSH_FOREVER, type SshCertificate } from '../../ssh/certificate.js';
import { parsePublicKeyBlob, parsePublicKeyLine, publicKeyBlob, sshFingerprint } from '../../ssh/keys.js';
import { registerSshCertificate } from './certificate.js';
import { registerSshConfig } from './config.js';
import { registerSshLogin } from './login.js';
import { registerSshRenew } from './renew.js';
import { registerSshKrl } from './krl.js';
import { registerSshRevoke } from './revoke.js';
import { commandTime } from '../certificate/inspect.js';
import { printJson, readInput } from '../io.js';

/** Largest SSH key or certificate file read (a certificate with many principals is a few KiB). */
const MAX_SSH_FILE_BYTES = 256 * 1024;


function when(seconds: bigint): string {
  return formatTime(new Date(Number(seconds) * 1000));
}

function validity(c: SshCertificate, now: Date): 'valid' | 'expired' | 'not-yet-valid' {
  const t = BigInt(Math.floor(now.getTime() / 1000));
  if (t < c.validAfter) return 'not-yet-valid';
  if (c.validBefore !== SSH_FOREVER && t >= c.validBefore) return 'expired';
  return 'valid';
}

function certificateJson(c: SshCertificate, now: Date): Record<string, unknown> {
  return {
    type: 'certificate',
    certificateType: c.type,
    keyType: c.keyType,
    publicKey: sshFingerprint(publicKeyBlob(c.publicKey)),
    signingCa: { keyType: c.caKeyType, fingerprint: sshFingerprint(c.signatureKey), signatureAlgorithm: c.signatureAlgorithm },
    keyId: c.keyId,
    serial: c.serial.toString(),
    validAfter: when(c.validAfter),
    validBefore: c.validBefore === SSH_FOREVER ? 'forever' : when(c.validBefore),
    status: validity(c, now),
    principals: c.principals,
    criticalOptions: c.criticalOptions,
    extensions: Object.keys(c.extensions),
  };
}

function certificateText(c: SshCertificate, now: Date, source: string): string {
  const status = validity(c, now);
  const lines = [
    `${escapeControl(source)}:`,
    `    Type:             ${c.certKeyType} ${c.type} certificate`,
    `    Public key:       ${c.keyType} ${sshFingerprint(publicKeyBlob(c.publicKey))}`,
    `    Signing CA:       ${c.caKeyType} ${sshFingerprint(c.signatureKey)} (using ${c.signatureAlgorithm})`,
    `    Key ID:           "${escapeControl(c.keyId)}"`,
    `    Serial:           ${c.serial}`,
    `    Valid:            from ${when(c.validAfter)} to ${c.validBefore === SSH_FOREVER ? 'forever' : when(c.validBefore)}${status === 'valid' ? '' : ` (${status === 'expired' ? 'EXPIRED' : 'NOT YET VALID'} at ${formatTime(now)})`}`,
    `    Principals:       ${c.principals.length === 0 ? '(none: any)' : c.principals.map(escapeControl).join(', ')}`,
    `    Critical options: ${Object.keys(c.criticalOptions).length === 0 ? '(none)' : Object.entries(c.criticalOptions).map(([k, v]) => (v === '' ? k : `${k} ${escapeControl(v)}`)).join(', ')}`,
    `    Extensions:       ${Object.keys(c.extensions).length === 0 ? '(none)' : Object.keys(c.extensions).join(', ')}`,
  ];
  return lines.join('\n') + '\n';
}

/** Registers `signet ssh`. */
export function registerSshCommands(program: Command): void {
  const ssh = program.command('ssh').description('SSH certificates: log in (ssh-agent), get user and host certificates, configure OpenSSH to trust the CA, inspect');
  registerSshLogin(ssh);
  registerSshCertificate(ssh);
  registerSshRenew(ssh);
  registerSshConfig(ssh);
  registerSshRevoke(ssh);
  registerSshKrl(ssh);
  ssh
    .command('inspect')
    .description('show an OpenSSH certificate (*-cert.pub) field by field, or a public key and its fingerprint')
    .argument('<file>', 'a certificate or public key file in OpenSSH\'s one-line form; - for stdin')
    .option('--time <time>', 'judge validity at this time (RFC 3339 or relative, e.g. +8h) instead of now')
    .option('--json', 'print the fields as JSON')
    .addHelpText(
      'after',
      `
Reads the TYPE BASE64 [COMMENT] line ssh-keygen writes. A certificate's signature is checked
against the CA key it names (ERR_SSH_SIGNATURE_INVALID if it does not verify); whether that CA
is one you trust is for sshd's TrustedUserCAKeys or an @cert-authority line to say. Fingerprints
are SHA256:… as ssh-keygen -l prints them.

Exit codes: 0 shown; 2 bad flags; 3 not an OpenSSH key or certificate (ERR_SSH_MALFORMED);
4 unsupported key or a bad signature; 5 file error.

Examples:
  $ signet ssh inspect ~/.ssh/id_ed25519-cert.pub
  $ signet ssh inspect /etc/ssh/ssh_host_ed25519_key-cert.pub --time +30d
  $ signet ssh inspect id_ecdsa.pub --json`,
    )
    .action((file: string, opts: { time?: string; json?: boolean }) => {
      const now = commandTime(opts.time);
      const text = Buffer.from(readInput(file, 'SSH key file', MAX_SSH_FILE_BYTES)).toString('utf8');
      const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
      if (line === undefined) throw new SignetError('ERR_INPUT_EMPTY', `no SSH key or certificate in ${file === '-' ? 'stdin' : file}`);
      const parsed = parsePublicKeyLine(line);
      const source = file === '-' ? '(stdin)' : file;
      if (parsed.type.endsWith('-cert-v01@openssh.com')) {
        const c = parseSshCertificate(parsed.blob);
        if (opts.json) printJson({ source, time: formatTime(now), ...certificateJson(c, now), comment: parsed.comment });
        else process.stdout.write(certificateText(c, now, source));
        return;
      }
      parsePublicKeyBlob(parsed.blob);
      const fp = sshFingerprint(parsed.blob);
      if (opts.json) printJson({ source, type: 'public-key', keyType: parsed.type, fingerprint: fp, comment: parsed.comment });
      else process.stdout.write(`${escapeControl(source)}:\n    Type:        ${parsed.type} public key\n    Fingerprint: ${fp}\n    Comment:     ${escapeControl(parsed.comment) || '(none)'}\n`);
    });
}
