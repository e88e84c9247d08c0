/**
 * A throwaway OpenSSH server on a loopback port for interop tests (openssh-server is installed by
 * the test setup): no authorized_keys, no passwords — only certificates from the CA in
 * `userCaFile`, and the host certificate it presents. And the `ssh` client run against it in batch
 * mode, verifying the host strictly against a known_hosts file.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort } from './net.js';

export const SSHD = '/usr/sbin/sshd';

/** The user the tests log in as: the one running them (root in CI). */
export const SSH_USER = userInfo().username;

export interface SshdOptions {
  /** A directory for sshd's config, pid file and log. */
  readonly dir: string;
  /** The host key file (OpenSSH format, 0600) and its certificate. */
  readonly hostKey: string;
  readonly hostCertificate: string;
  /** TrustedUserCAKeys. */
  readonly userCaFile: string;
  /** RevokedKeys (a KRL), when given. */
  readonly revokedKeys?: string;
}

export interface RunningSshd {
  readonly port: number;
  /** Everything sshd logged so far. */
  log(): string;
  /** Waits (up to 10 s) for the log to show `pattern`, then asserts it. */
  logged(pattern: RegExp): Promise<void>;
  stop(): void;
}

/** Starts sshd (checked with `sshd -t` first) and waits until it listens. */
export async function startSshd(o: SshdOptions): Promise<RunningSshd> {
  assert.ok(existsSync(SSHD), 'openssh-server is installed by the test setup');
  if (SSH_USER === 'root' && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 }); // sshd's privilege separation directory
  const port = await freePort();
  const config = join(o.dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${o.hostKey}`,
      `HostCertificate ${o.hostCertificate}`,
      `TrustedUserCAKeys ${o.userCaFile}`,
      ...(o.revokedKeys !== undefined ? [`RevokedKeys ${o.revokedKeys}`] : []),
      'AuthorizedKeysFile none',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin yes',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${join(o.dir, 'sshd.pid')}`,
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  );
  const check = spawnSync(SSHD, ['-t', '-f', config], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) resolve();
      else if (child.exitCode !== null || Date.now() - started > 15_000) reject(new Error(`sshd did not start: ${log}`));
      else setTimeout(poll, 50);
    };
    poll();
  });
  return {
    port,
    log: () => log,
    logged: async (pattern) => {
      for (let i = 0; i < 200 && !pattern.test(log); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.match(log, pattern);
    },
    stop: () => void child.kill('SIGTERM'),
  };
}

export interface SshLoginOptions {
  readonly port: number;
  readonly knownHosts: string;
  /** A key file (its certificate next to it as KEY-cert.pub); without it, only the agent's identities. */
  readonly keyFile?: string;
  /** The agent socket (IdentityAgent); default none. */
  readonly agent?: string;
}

/** Runs `ssh user@127.0.0.1 echo signet-ok` in batch mode, verifying the host strictly. Blocks the event loop: no in-process server may need to answer meanwhile. */
export function sshLogin(o: SshLoginOptions): { code: number; out: string } {
  const r = spawnSync(
    'ssh',
    [
      '-F', 'none',
      ...(o.keyFile !== undefined ? ['-i', o.keyFile, '-o', `CertificateFile=${o.keyFile}-cert.pub`, '-o', 'IdentitiesOnly=yes'] : []),
      '-o', `IdentityAgent=${o.agent ?? 'none'}`,
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${o.knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10',
      '-p', String(o.port),
      `${SSH_USER}@127.0.0.1`,
      'echo signet-ok',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}
