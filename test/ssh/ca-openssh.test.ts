/**
 * The SSH CA end to end with real OpenSSH, driven through the CLI as an operator and an engineer
 * would: `ca init --ssh`, a host certificate for sshd's own key (`ssh certificate --host
 * --public-key`), sshd configured from `ssh config --host --user-ca-out`, the client's known_hosts
 * from `ssh config --known-hosts`; then `ssh` logs in with a certificate from `ssh certificate`
 * and, through a real ssh-agent, with the one `ssh login` put there — until `ssh logout` removes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { formatCertificateLine, signSshCertificate } from '../../src/ssh/certificate.js';
import { formatOpenSshPrivateKey, formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine } from '../../src/ssh/keys.js';
import { sshSerialHex } from '../../src/ssh/issue.js';
import { createTestCa, startTestCa, type TestCa } from '../helpers/ca.js';
import { CLI_PATH, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { SSH_USER, sshLogin, startSshd, type RunningSshd } from '../helpers/sshd.js';

const tmp = tempDir('signet-ssh-ca-');
let ca: TestCa;
let running: RunningCa;
let sshd: RunningSshd;
let agent: ChildProcess | undefined;
let second: RunningSshd | undefined;
const agentSock = tmp.path('agent.sock');
let connection: string[] = [];
let mint: string[] = [];

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return signetAsync(args, { cwd: tmp.dir, env });
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await cli(args, env);
  assert.equal(r.status, 0, `signet ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(async () => {
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({ parent: tmp.path('ca-parent'), ssh: true });
  running = await startTestCa(ca);
  connection = ['--ca-url', running.url, '--root', ca.rootFile];
  mint = ['--provisioner', 'admin', '--provisioner-key', `${ca.dir}/secrets/provisioner-admin.key`, '--provisioner-password-file', ca.provisionerPasswordFile];

  // The host: its own key, certified by the CA's host key for the names clients use.
  const hostKey = generateKeyPairSync('ed25519').privateKey;
  writeFileSync(tmp.path('host_key'), formatOpenSshPrivateKey(hostKey), { mode: 0o600 });
  writeFileSync(tmp.path('host_key.pub'), `${formatPublicKeyLine(hostKey)}\n`);
  const host = JSON.parse(await ok(['ssh', 'certificate', '127.0.0.1', tmp.path('host_key'), '--host', '--public-key', tmp.path('host_key.pub'), '--principal', '127.0.0.1', '--principal', 'localhost', ...connection, ...mint, '--json'])) as Record<string, unknown>;
  assert.equal(host.type, 'host');
  assert.ok(existsSync(tmp.path('host_key-cert.pub')));
  const sshdConfig = await ok(['ssh', 'config', '--host', '--user-ca-out', tmp.path('user_ca.pub'), '--host-key', tmp.path('host_key'), ...connection]);
  assert.match(sshdConfig, new RegExp(`TrustedUserCAKeys ${tmp.path('user_ca.pub')}`));
  assert.match(sshdConfig, new RegExp(`HostCertificate ${tmp.path('host_key')}-cert.pub`));
  // With --user-ca-out, stdout is sshd configuration only: it can be appended to sshd_config.d/.
  assert.ok(sshdConfig.split('\n').every((l) => l === '' || l.startsWith('#') || /^[A-Z][A-Za-z]+ \S/.test(l)), sshdConfig);
  assert.deepEqual(parsePublicKeyLine(readFileSync(tmp.path('user_ca.pub'), 'utf8')).blob, parsePublicKeyLine(readFileSync(`${ca.dir}/certs/ssh_user_ca.pub`, 'utf8')).blob);
  assert.match(sshdConfig, /RevokedKeys \/etc\/ssh\/signet\.krl/);
  // The KRL first: sshd refuses every key while its RevokedKeys file is missing.
  const krl = JSON.parse(await ok(['ssh', 'krl', '--out', tmp.path('signet.krl'), ...connection, '--json'])) as Record<string, unknown>;
  assert.equal(krl.written, true);
  sshd = await startSshd({ dir: tmp.dir, hostKey: tmp.path('host_key'), hostCertificate: tmp.path('host_key-cert.pub'), userCaFile: tmp.path('user_ca.pub'), revokedKeys: tmp.path('signet.krl') });

  // The client trusts host certificates of the CA: one @cert-authority line, added once.
  await ok(['ssh', 'config', '--known-hosts', tmp.path('known_hosts'), ...connection]);
  await ok(['ssh', 'config', '--known-hosts', tmp.path('known_hosts'), ...connection]);
  const known = readFileSync(tmp.path('known_hosts'), 'utf8').trim().split('\n');
  assert.equal(known.length, 1);
  assert.match(known[0] as string, /^@cert-authority \* ssh-ed25519 AAAA/);
});

after(async () => {
  sshd?.stop();
  second?.stop();
  agent?.kill('SIGTERM');
  await running?.close();
  tmp.cleanup();
});

test('ssh certificate → ssh logs in with it, and verifies the host certificate with no prompt', async () => {
  const out = JSON.parse(await ok(['ssh', 'certificate', 'me@example.com', tmp.path('id_me'), '--principal', SSH_USER, ...connection, ...mint, '--json'])) as Record<string, unknown>;
  assert.equal((readFileSync(tmp.path('id_me'), 'utf8').match(/BEGIN OPENSSH PRIVATE KEY/) ?? []).length, 1);
  const r = sshLogin({ port: sshd.port, keyFile: tmp.path('id_me'), knownHosts: tmp.path('known_hosts') });
  assert.equal(r.code, 0, `${r.out}\n${sshd.log()}`);
  assert.match(r.out, /signet-ok/);
  await sshd.logged(new RegExp(`Accepted publickey for ${SSH_USER} from 127\\.0\\.0\\.1 .* ED25519-CERT SHA256:\\S+ ID me@example\\.com \\(serial ${String(out.serial)}\\) CA ED25519`));
  const record = await running.store.certificates.get(String(out.inventorySerial));
  assert.equal(record?.profile, 'ssh-user');
  assert.equal(BigInt(`0x${record?.serial ?? ''}`).toString(), out.serial);
  const users = JSON.parse(await ok(['inventory', 'list', '--profile', 'ssh-user', '--config', ca.configPath, '--json'])) as { serial: string; profile: string }[];
  assert.ok(users.length >= 1 && users.every((u) => u.profile === 'ssh-user'));
  assert.ok(users.some((u) => u.serial === out.inventorySerial));
  // The inventory gives the certificate back as the line OpenSSH reads.
  writeFileSync(tmp.path('from-inventory-cert.pub'), await ok(['inventory', 'show', String(out.inventorySerial), '--pem', '--config', ca.configPath]));
  const listed = spawnSync('ssh-keygen', ['-L', '-f', tmp.path('from-inventory-cert.pub')], { encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`Key ID: "me@example.com"[\\s\\S]*Serial: ${String(out.serial)}`));
});

test('a certificate for another principal is refused by sshd', async () => {
  await ok(['ssh', 'certificate', 'me@example.com', tmp.path('id_other'), '--principal', 'nobody-here', ...connection, ...mint]);
  const r = sshLogin({ port: sshd.port, keyFile: tmp.path('id_other'), knownHosts: tmp.path('known_hosts') });
  assert.equal(r.code, 255, r.out);
  assert.match(r.out, /Permission denied \(publickey\)/);
});

test('ssh login puts key and certificate into ssh-agent with the certificate\'s lifetime; ssh uses them; ssh logout removes them', async () => {
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(agentSock); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(existsSync(agentSock), 'ssh-agent listens');
  const env = { SSH_AUTH_SOCK: agentSock };

  const login = JSON.parse(await ok(['ssh', 'login', 'me@example.com', '--principal', SSH_USER, '--not-after', '2h', ...connection, ...mint, '--json'], env)) as Record<string, unknown>;
  assert.ok(Number(login.agentLifetime) > 2 * 3600 - 120 && Number(login.agentLifetime) <= 2 * 3600, `agent lifetime ${String(login.agentLifetime)}`);
  const listed = spawnSync('ssh-add', ['-l'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /ED25519-CERT/);
  assert.ok(!existsSync(tmp.path('id_ed25519')), 'nothing written');

  const r = sshLogin({ port: sshd.port, agent: agentSock, knownHosts: tmp.path('known_hosts') });
  assert.equal(r.code, 0, `${r.out}\n${sshd.log()}`);
  await sshd.logged(new RegExp(`ID me@example\\.com \\(serial ${String(login.serial)}\\)`));

  const out = JSON.parse(await ok(['ssh', 'logout', ...connection, '--json'], env)) as { removed: { keyId: string; serial: string }[] };
  assert.deepEqual(out.removed, [{ keyId: 'me@example.com', serial: String(login.serial) }]);
  const after = sshLogin({ port: sshd.port, agent: agentSock, knownHosts: tmp.path('known_hosts') });
  assert.notEqual(after.code, 0, after.out);
});

test('ssh login without an agent: ERR_SSH_AGENT (exit 5), before a token is spent', async () => {
  const before = (await running.store.audit.list({ limit: 1000 })).length;
  const r = await cli(['ssh', 'login', 'me@example.com', '--principal', SSH_USER, ...connection, ...mint], { SSH_AUTH_SOCK: '' });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /ERR_SSH_AGENT/);
  assert.equal((await running.store.audit.list({ limit: 1000 })).length, before);
  const dead = await cli(['ssh', 'login', 'me@example.com', ...connection, ...mint], { SSH_AUTH_SOCK: tmp.path('no-agent.sock') });
  assert.equal(dead.status, 5, dead.stderr);
});

test('ssh renew: a host certificate renews by proof of possession of the host key; sshd presents the renewed one; the old one, and one of another CA, are refused', async () => {
  copyFileSync(tmp.path('host_key-cert.pub'), tmp.path('old-host-cert.pub'));
  const notYet = await ok(['ssh', 'renew', tmp.path('host_key-cert.pub'), tmp.path('host_key'), ...connection]);
  assert.match(notYet, /^not yet: /);
  assert.deepEqual(readFileSync(tmp.path('host_key-cert.pub')), readFileSync(tmp.path('old-host-cert.pub')));

  const r = JSON.parse(await ok(['ssh', 'renew', tmp.path('host_key-cert.pub'), tmp.path('host_key'), '--force', ...connection, '--json'])) as Record<string, unknown>;
  assert.equal(r.renewed, true);
  assert.notEqual(r.serial, r.previousSerial);
  assert.deepEqual(r.principals, ['127.0.0.1', 'localhost']);
  const old = await running.store.certificates.get(sshSerialHex(BigInt(String(r.previousSerial))));
  assert.equal(old?.replacedBy, sshSerialHex(BigInt(String(r.serial))));
  const events = await running.store.audit.list({ limit: 20 });
  assert.ok(events.some((e) => e.type === 'ssh.renew' && e.outcome === 'success'));

  second = await startSshd({ dir: tmp.path('ca-parent'), hostKey: tmp.path('host_key'), hostCertificate: tmp.path('host_key-cert.pub'), userCaFile: tmp.path('user_ca.pub'), revokedKeys: tmp.path('signet.krl') });
  const login = sshLogin({ port: second.port, keyFile: tmp.path('id_me'), knownHosts: tmp.path('known_hosts') });
  assert.equal(login.code, 0, `${login.out}\n${second.log()}`);

  const replaced = await cli(['ssh', 'renew', tmp.path('old-host-cert.pub'), tmp.path('host_key'), '--force', ...connection]);
  assert.equal(replaced.status, 1, replaced.stderr);
  assert.match(replaced.stderr, /ERR_CERT_REPLACED/);

  // The same host key, certified by a CA this one does not know.
  const foreignCa = generateKeyPairSync('ed25519').privateKey;
  const hostKey = parsePublicKeyBlob(parsePublicKeyLine(readFileSync(tmp.path('host_key.pub'), 'utf8')).blob);
  const now = BigInt(Math.floor(Date.now() / 1000));
  writeFileSync(tmp.path('foreign-cert.pub'), `${formatCertificateLine(signSshCertificate({ publicKey: hostKey, type: 'host', serial: 7n, keyId: 'x', principals: ['127.0.0.1'], validAfter: now - 60n, validBefore: now + 3600n }, foreignCa))}\n`);
  const foreign = await cli(['ssh', 'renew', tmp.path('foreign-cert.pub'), tmp.path('host_key'), '--force', ...connection]);
  assert.equal(foreign.status, 1, foreign.stderr);
  assert.match(foreign.stderr, /not issued by this CA \(ERR_AUTH_CERTIFICATE\)/);
  const mismatch = await cli(['ssh', 'renew', tmp.path('host_key-cert.pub'), tmp.path('id_me'), '--force', ...connection]);
  assert.equal(mismatch.status, 4, mismatch.stderr);
  assert.match(mismatch.stderr, /ERR_KEY_MISMATCH/);
});

test('ssh revoke → the CA\'s KRL lists the certificate (ssh-keygen -Q agrees) → sshd refuses it', async () => {
  await ok(['ssh', 'certificate', 'lost-laptop@example.com', tmp.path('id_lost'), '--principal', SSH_USER, ...connection, ...mint]);
  assert.equal(sshLogin({ port: sshd.port, keyFile: tmp.path('id_lost'), knownHosts: tmp.path('known_hosts') }).code, 0);

  const revoked = JSON.parse(await ok(['ssh', 'revoke', tmp.path('id_lost-cert.pub'), '--reason', 'key-compromise', ...connection, ...mint, '--json'])) as Record<string, unknown>;
  assert.equal(revoked.status, 'revoked');
  assert.equal(revoked.reason, 'keyCompromise');
  const krl = JSON.parse(await ok(['ssh', 'krl', '--out', tmp.path('signet.krl'), ...connection, '--json'])) as { written: boolean; revoked: { serials: string[] }[]; version: string };
  assert.equal(krl.written, true);
  assert.ok(krl.revoked.some((c) => c.serials.includes(String(revoked.sshSerial))));
  const query = spawnSync('ssh-keygen', ['-Q', '-f', tmp.path('signet.krl'), tmp.path('id_lost-cert.pub')], { encoding: 'utf8' });
  assert.equal(query.status, 1, query.stdout + query.stderr);
  assert.match(query.stdout, /REVOKED/);
  const still = spawnSync('ssh-keygen', ['-Q', '-f', tmp.path('signet.krl'), tmp.path('id_me-cert.pub')], { encoding: 'utf8' });
  assert.equal(still.status, 0, still.stdout + still.stderr);

  const r = sshLogin({ port: sshd.port, keyFile: tmp.path('id_lost'), knownHosts: tmp.path('known_hosts') });
  assert.equal(r.code, 255, r.out);
  await sshd.logged(/revoked|REVOKED|is revoked/);
  assert.equal(sshLogin({ port: sshd.port, keyFile: tmp.path('id_me'), knownHosts: tmp.path('known_hosts') }).code, 0, 'other certificates still log in');

  const again = JSON.parse(await ok(['ssh', 'krl', '--out', tmp.path('signet.krl'), ...connection, '--json'])) as { written: boolean; version: string };
  assert.equal(again.written, false);
  assert.equal(again.version, krl.version);
  const bad = await cli(['ssh', 'revoke', '--serial', 'ff', ...connection, ...mint]);
  assert.equal(bad.status, 2, bad.stderr);
});

test('ssh renew --daemon renews the host certificate when due, logs it as JSON lines, and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const before = readFileSync(tmp.path('host_key-cert.pub'), 'utf8');
  // 60d of remaining time as the threshold: a 30-day host certificate is due at once, whatever the jitter (±30 min, clamped to notBefore).
  const child = spawn(process.execPath, [CLI_PATH, 'ssh', 'renew', tmp.path('host_key-cert.pub'), tmp.path('host_key'), '--daemon', '--expires-in', '60d', '--json', ...connection], { cwd: tmp.dir, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (/"msg":"renewed"/.test(out)) resolve();
    });
    child.on('exit', () => reject(new Error(`the daemon exited: ${out}${err}`)));
  });
  child.kill('SIGTERM');
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  assert.equal(code, 0, err);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
  assert.equal(lines[0]?.msg, 'waiting');
  assert.ok(lines.some((l) => l.msg === 'renewed'));
  assert.equal(lines[lines.length - 1]?.msg, 'stopped');
  assert.notEqual(readFileSync(tmp.path('host_key-cert.pub'), 'utf8'), before);
  const listed = spawnSync('ssh-keygen', ['-L', '-f', tmp.path('host_key-cert.pub')], { encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /host certificate/);
});
