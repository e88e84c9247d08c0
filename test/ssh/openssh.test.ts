/**
 * Certificates Signet signs, used by real OpenSSH: a throwaway `sshd` on a loopback port trusts
 * a Signet user CA (TrustedUserCAKeys, no authorized_keys) and presents a Signet host
 * certificate; `ssh` logs in with a Signet user certificate and verifies the host through an
 * `@cert-authority` line with no prompt (StrictHostKeyChecking yes). Refused: a principal that is
 * not the user, an expired certificate, a certificate from another CA, a certificate revoked in
 * the Signet KRL sshd reads (RevokedKeys), and a host certificate from a CA the client does not
 * trust.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { formatCertificateLine, signSshCertificate, SSH_FOREVER, type SshCertificateInput } from '../../src/ssh/certificate.js';
import { formatOpenSshPrivateKey, formatPublicKeyLine } from '../../src/ssh/keys.js';
import { buildKrl } from '../../src/ssh/krl.js';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/openssl.js';

const SSHD = '/usr/sbin/sshd';
const tmp = tempDir('signet-openssh-');
const user = userInfo().username;
const now = BigInt(Math.floor(Date.now() / 1000));
let port = 0;
let sshd: ChildProcess | undefined;
let sshdLog = '';

const ed25519 = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const userCa = ed25519();
const hostCa = ed25519();
const otherCa = ed25519();
const hostKey = ed25519();

function certify(publicKey: KeyObject, ca: KeyObject, o: Partial<SshCertificateInput> = {}): string {
  const blob = signSshCertificate({ publicKey, type: 'user', serial: 1n, keyId: 'test', principals: [user], validAfter: now - 60n, validBefore: now + 3600n, extensions: { 'permit-pty': '' }, ...o }, ca);
  return `${formatCertificateLine(blob)}\n`;
}

/** A user key and its certificate on disk; returns the key file (the certificate is next to it as KEY-cert.pub). */
function userFiles(name: string, ca: KeyObject, o: Partial<SshCertificateInput> = {}): string {
  const key = ed25519();
  const file = tmp.path(name);
  writeFileSync(file, formatOpenSshPrivateKey(key), { mode: 0o600 });
  writeFileSync(`${file}-cert.pub`, certify(key, ca, o));
  return file;
}

function ssh(keyFile: string, knownHosts: string): { code: number; out: string } {
  const r = spawnSync(
    'ssh',
    [
      '-F', 'none',
      '-i', keyFile,
      '-o', `CertificateFile=${keyFile}-cert.pub`,
      '-o', 'IdentitiesOnly=yes',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=10',
      '-p', String(port),
      `${user}@127.0.0.1`,
      'echo signet-ok',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

before(async () => {
  assert.ok(existsSync(SSHD), 'openssh-server is installed by the test setup');
  if (user === 'root' && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 }); // sshd's privilege separation directory
  port = await freePort();
  writeFileSync(tmp.path('host_key'), formatOpenSshPrivateKey(hostKey), { mode: 0o600 });
  writeFileSync(tmp.path('host_key-cert.pub'), formatCertificateLine(signSshCertificate({ publicKey: hostKey, type: 'host', serial: 2n, keyId: 'host', principals: ['127.0.0.1', 'localhost'], validAfter: now - 60n, validBefore: SSH_FOREVER }, hostCa)) + '\n');
  writeFileSync(tmp.path('user_ca.pub'), `${formatPublicKeyLine(userCa)}\n`);
  // Serial 66 of the user CA is revoked.
  writeFileSync(tmp.path('revoked.krl'), buildKrl({ version: 1n, generatedAt: new Date(), certificates: [{ ca: userCa, serials: [66n] }] }));
  writeFileSync(tmp.path('known_hosts'), `@cert-authority [127.0.0.1]:${port} ${formatPublicKeyLine(hostCa)}\n`);
  writeFileSync(tmp.path('other_known_hosts'), `@cert-authority [127.0.0.1]:${port} ${formatPublicKeyLine(otherCa)}\n`);
  writeFileSync(
    tmp.path('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${tmp.path('host_key')}`,
      `HostCertificate ${tmp.path('host_key-cert.pub')}`,
      `TrustedUserCAKeys ${tmp.path('user_ca.pub')}`,
      `RevokedKeys ${tmp.path('revoked.krl')}`,
      'AuthorizedKeysFile none',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin yes',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${tmp.path('sshd.pid')}`,
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  );
  const check = spawnSync(SSHD, ['-t', '-f', tmp.path('sshd_config')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  sshd = spawn(SSHD, ['-D', '-e', '-f', tmp.path('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr?.on('data', (c: Buffer) => (sshdLog += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      if (/Server listening on 127\.0\.0\.1 port/.test(sshdLog)) resolve();
      else if (sshd?.exitCode !== null || Date.now() - started > 15_000) reject(new Error(`sshd did not start: ${sshdLog}`));
      else setTimeout(poll, 50);
    };
    poll();
  });
});

after(() => {
  sshd?.kill('SIGTERM');
  tmp.cleanup();
});

/** Waits (the event loop was blocked by the ssh client) for sshd's log to show `pattern`; fails after 10 s. */
async function logged(pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(sshdLog); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.match(sshdLog, pattern);
}

test('ssh logs in with a Signet user certificate (no authorized_keys) and trusts the Signet host certificate through @cert-authority, without a prompt', async () => {
  const r = ssh(userFiles('good', userCa), tmp.path('known_hosts'));
  assert.equal(r.code, 0, `${r.out}\n${sshdLog}`);
  assert.match(r.out, /signet-ok/);
  await logged(/Accepted publickey for \S+ from 127\.0\.0\.1 .* ED25519-CERT SHA256:\S+ ID test \(serial 1\) CA ED25519/);
});

test('refused: a principal that is not the user, an expired certificate, a certificate of another CA, a certificate revoked in the KRL', () => {
  for (const [name, ca, o] of [
    ['revoked', userCa, { serial: 66n }],
    ['wrong-principal', userCa, { principals: ['somebody-else'] }],
    ['expired', userCa, { validAfter: now - 7200n, validBefore: now - 3600n }],
    ['foreign', otherCa, {}],
  ] as const) {
    const r = ssh(userFiles(name, ca, o), tmp.path('known_hosts'));
    assert.equal(r.code, 255, `${name}: ${r.out}`);
    assert.match(r.out, /Permission denied \(publickey\)/, name);
  }
});

test('the host is refused when its certificate comes from a CA the client does not trust', () => {
  const r = ssh(userFiles('good2', userCa), tmp.path('other_known_hosts'));
  assert.equal(r.code, 255, r.out);
  assert.match(r.out, /Host key verification failed/);
});
