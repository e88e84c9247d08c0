/**
 * `signet ssh krl` — the CA's SSH key revocation list (`GET /ssh/krl`), checked (an OpenSSH KRL
 * whose CA keys are this CA's), summarized, and with `--out FILE` written atomically where sshd's
 * `RevokedKeys` reads it (sshd reads the file at every login: no reload needed). Run it from cron
 * or a timer; a file that is already current is left alone.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { parseKrl, type ParsedKrl } from '../../ssh/krl.js';
import { parsePublicKeyLine, sshFingerprint } from '../../ssh/keys.js';
import { commitOutputs, printJson } from '../io.js';
import { existingMode, replaceTarget } from '../ca/client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from '../ca/connection.js';

interface KrlFlags extends ConnectionFlags {
  out?: string;
  json?: boolean;
}

/** What `ssh krl --json` prints. */
export interface SshKrlResult {
  readonly version: string;
  readonly generatedAt: string;
  readonly revoked: { readonly ca: string; readonly serials: readonly string[] }[];
  readonly out?: string;
  /** False when --out already held this KRL. */
  readonly written?: boolean;
}

/** Runs `ssh krl`. */
export async function sshKrlCommand(flags: KrlFlags): Promise<SshKrlResult> {
  const client = clientFor(resolveCa(flags, { withConfig: true }));
  const [answer, roots] = await Promise.all([client.request({ path: '/ssh/krl' }), client.sshRoots()]);
  const bytes = new Uint8Array(answer.body);
  let krl: ParsedKrl;
  try {
    krl = parseKrl(bytes);
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `GET ${client.url}/ssh/krl did not return an OpenSSH KRL`, { cause: e });
  }
  const ours = [...roots.userKey, ...roots.hostKey].map((l) => Buffer.from(parsePublicKeyLine(l).blob).toString('base64'));
  if (krl.certificates.some((c) => !ours.includes(Buffer.from(c.ca).toString('base64')))) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the KRL from ${client.url} names a CA key that is not one of this CA's`);
  }
  let written: boolean | undefined;
  if (flags.out !== undefined) {
    const file = replaceTarget(flags.out);
    let current: Buffer | undefined;
    try {
      current = readFileSync(file);
    } catch {
      current = undefined;
    }
    written = current === undefined || !current.equals(Buffer.from(bytes));
    if (written) commitOutputs([{ path: file, role: '--out', mode: existingMode(file, 0o644), data: bytes }], { force: true });
  }
  return {
    version: krl.version.toString(),
    generatedAt: formatTime(krl.generatedAt),
    revoked: krl.certificates.map((c) => ({ ca: sshFingerprint(c.ca), serials: c.serials.map(String) })),
    ...(flags.out !== undefined ? { out: flags.out, written } : {}),
  };
}

/** Registers `signet ssh krl`. */
export function registerSshKrl(ssh: Command): void {
  const cmd = ssh
    .command('krl')
    .description('fetch the CA\'s SSH key revocation list (KRL) for sshd\'s RevokedKeys: revoked user and host certificates')
    .option('--out <file>', 'write the KRL here atomically (e.g. /etc/ssh/signet.krl); left alone when already current');
  addConnectionOptions(cmd, { withConfig: true })
    .option('--json', 'print { version, generatedAt, revoked: [{ ca, serials }], out?, written? }')
    .addHelpText(
      'after',
      `
The KRL lists the serials of every revoked SSH certificate of the CA that has not expired, per CA
key; its version is the CA's revocation sequence, so a newer KRL has a higher version. sshd reads
RevokedKeys at every login: after the file is replaced the next login sees it. Refresh it often
(a systemd timer or cron every minute); a revocation is in the CA's KRL as soon as it commits.

Examples:
  $ signet ssh krl --out /etc/ssh/signet.krl
  $ signet ssh krl --json`,
    )
    .action(async (flags: KrlFlags) => {
      const r = await sshKrlCommand(flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      const count = r.revoked.reduce((n, c) => n + c.serials.length, 0);
      const where = r.out === undefined ? '' : r.written === true ? `; written to ${r.out}` : `; ${r.out} is already current`;
      process.stdout.write(escapeControl(`KRL version ${r.version} (${formatTime(new Date(r.generatedAt))}): ${count} revoked certificate${count === 1 ? '' : 's'}${where}`) + '\n');
    });
}
