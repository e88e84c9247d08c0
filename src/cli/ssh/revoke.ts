/**
 * `signet ssh revoke CERT | --serial N` — revoke an SSH certificate: by its `-cert.pub` file, or by
 * the decimal serial ssh-keygen -L and sshd's log show (the inventory keeps serials in hex; this
 * command converts, so a decimal serial is never read as hex). `POST /revoke` with a one-time
 * token for the serial (given, or minted with the provisioner key). The revocation reaches the
 * CA's KRL at once (`signet ssh krl`).
 */
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { parseSshCertificate } from '../../ssh/certificate.js';
import { parsePublicKeyLine } from '../../ssh/keys.js';
import { sshSerialHex } from '../../ssh/issue.js';
import { printJson, readInput, withSource } from '../io.js';
import { addTokenOptions, obtainToken, type TokenSourceFlags } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from '../ca/connection.js';
import { parseRevocationReason } from '../ca/revoke.js';

interface SshRevokeFlags extends ConnectionFlags, TokenSourceFlags {
  serial?: string;
  reason?: string;
  json?: boolean;
}

/** A decimal uint64, as OpenSSH prints serials. */
function decimalSerial(text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > 0xffffffffffffffffn || BigInt(text) === 0n) {
    throw new SignetError('ERR_BAD_OPTION', `--serial "${escapeControl(text.slice(0, 32))}" is not an SSH certificate serial: a decimal number from 1 to 18446744073709551615, as ssh-keygen -L shows it`);
  }
  return BigInt(text);
}

/** Registers `signet ssh revoke`. */
export function registerSshRevoke(ssh: Command): void {
  const cmd = ssh
    .command('revoke')
    .description('revoke an SSH user or host certificate (by its file, or its decimal serial); it goes into the CA\'s KRL')
    .argument('[cert]', 'the certificate file (*-cert.pub); or use --serial')
    .option('--serial <decimal>', 'the serial as ssh-keygen -L and sshd\'s log show it (decimal)')
    .option('--reason <reason>', 'why, e.g. keyCompromise, superseded, cessationOfOperation');
  addTokenOptions(cmd);
  addConnectionOptions(cmd, { withConfig: true })
    .option('--json', 'print the revocation as JSON')
    .addHelpText(
      'after',
      `
The token's subject is the serial in hex (the inventory's form): \`signet ca token HEX --revoke\`,
or minted here with the provisioner key. A certificate another CA signed is refused before
anything is sent (its CA key is not among GET /ssh/roots).

Examples:
  $ signet ssh revoke ~/.ssh/id_signet-cert.pub --reason keyCompromise --token-file revoke.token
  $ signet ssh revoke --serial 10453368826912712315 --reason keyCompromise --config /etc/signet \\
      --provisioner-password-file prov-pw.txt`,
    )
    .action(async (certPath: string | undefined, flags: SshRevokeFlags) => {
      if ((certPath === undefined) === (flags.serial === undefined)) throw new SignetError('ERR_USAGE', 'which certificate? pass CERT or --serial N (not both)');
      const reason = flags.reason !== undefined ? parseRevocationReason(flags.reason) : undefined;
      const target = resolveCa(flags, { withConfig: true });
      const client = clientFor(target);
      let serial: bigint;
      if (certPath !== undefined) {
        const text = Buffer.from(readInput(certPath, 'SSH certificate', 256 * 1024)).toString('utf8');
        const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
        const cert = withSource(`CERT ${certPath}`, () => parseSshCertificate(parsePublicKeyLine(line).blob));
        const roots = await client.sshRoots();
        const ours = [...roots.userKey, ...roots.hostKey].some((l) => Buffer.from(parsePublicKeyLine(l).blob).equals(Buffer.from(cert.signatureKey)));
        if (!ours) throw new SignetError('ERR_AUTH_CERTIFICATE', `${certPath} was not issued by this CA (its CA key is not among the CA's SSH keys)`);
        serial = cert.serial;
      } else {
        serial = decimalSerial(flags.serial ?? '');
      }
      const hex = sshSerialHex(serial);
      const ott = await obtainToken(hex, flags, target, { revoke: true });
      const result = await client.revoke({ serial: hex, ...(reason !== undefined ? { reason } : {}), ott });
      if (flags.json) printJson({ ...result, sshSerial: serial.toString() });
      else process.stdout.write(escapeControl(`revoked SSH certificate ${serial} (inventory ${result.serial}) at ${formatTime(new Date(result.revokedAt))}${result.reason !== undefined ? ` (${result.reason})` : ''}`) + '\n');
    });
}
