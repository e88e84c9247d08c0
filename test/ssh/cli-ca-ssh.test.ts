/**
 * The operator's SSH commands through the built CLI: `ca init --ssh` (files, modes, config, and
 * the flags it refuses), `ca ssh enable` on an existing CA (password checked against the
 * intermediate key, a second enable refused, nothing written on failure), and the SSH flags of
 * `ca token` (a token that names the kind and principals; flags that do not go together).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaConfig } from '../../src/ca/config.js';
import { parsePublicKeyLine, sshFingerprint } from '../../src/ssh/keys.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

function passwords(dir: string): void {
  writeFileSync(join(dir, 'pw.txt'), 'ca password\n', { mode: 0o600 });
  writeFileSync(join(dir, 'prov-pw.txt'), 'provisioner password\n', { mode: 0o600 });
}

function init(dir: string, extra: string[] = []): ReturnType<typeof signet> {
  return signet(['ca', 'init', '--name', 'SSH Test', '--dir', join(dir, 'ca'), '--password-file', join(dir, 'pw.txt'), '--provisioner-password-file', join(dir, 'prov-pw.txt'), '--root-key-out', join(dir, 'root.key'), ...extra]);
}

test('ca init --ssh: user and host CA keys (encrypted, 0600), public keys, ssh in the config, SSH claims on; --json describes them', () => {
  const tmp = tempDir('signet-ssh-init-');
  try {
    passwords(tmp.dir);
    const r = JSON.parse(ok(init(tmp.dir, ['--ssh', '--ssh-key-type', 'p256', '--json'])).stdout) as { ssh: { userKey: { key: string; publicKey: string; fingerprint: string }; hostKey: { fingerprint: string } }; files: string[] };
    const ca = join(tmp.dir, 'ca');
    for (const f of ['secrets/ssh_user_ca.key', 'secrets/ssh_host_ca.key']) assert.equal(statSync(join(ca, f)).mode & 0o777, 0o600, f);
    const userLine = readFileSync(join(ca, 'certs/ssh_user_ca.pub'), 'utf8');
    assert.match(userLine, /^ecdsa-sha2-nistp256 AAAA\S+ signet user CA\n$/);
    assert.equal(r.ssh.userKey.fingerprint, sshFingerprint(parsePublicKeyLine(userLine).blob));
    assert.notEqual(r.ssh.userKey.fingerprint, r.ssh.hostKey.fingerprint);
    assert.ok(r.files.includes(join(ca, 'secrets/ssh_host_ca.key')));
    const config = loadCaConfig(join(ca, 'signet.json'));
    assert.equal(config.ssh?.userKey, join(ca, 'secrets/ssh_user_ca.key'));
    assert.equal(config.claims.sshEnabled, true);
    ok(signet(['ca', 'config', 'validate', '--config', ca]));
  } finally {
    tmp.cleanup();
  }
});

test('ca init refuses --ssh with --pki-only, --ssh-key-type without --ssh, and a P-521 SSH key', () => {
  const tmp = tempDir('signet-ssh-init-bad-');
  try {
    passwords(tmp.dir);
    fails(init(tmp.dir, ['--ssh', '--pki-only']), 2, 'ERR_USAGE');
    fails(init(tmp.dir, ['--ssh-key-type', 'ed25519']), 2, 'ERR_USAGE');
    fails(init(tmp.dir, ['--ssh', '--ssh-key-type', 'p521']), 2, 'ERR_BAD_OPTION');
    fails(init(tmp.dir, ['--ssh', '--ssh-key-type', 'dsa']), 4, 'ERR_KEY_UNSUPPORTED');
    assert.ok(!existsSync(join(tmp.dir, 'ca')), 'nothing created');
  } finally {
    tmp.cleanup();
  }
});

test('ca ssh enable adds SSH keys to an existing CA; the wrong password and a second enable are refused and write nothing', () => {
  const tmp = tempDir('signet-ssh-enable-');
  try {
    passwords(tmp.dir);
    ok(init(tmp.dir));
    const ca = join(tmp.dir, 'ca');
    const before = readFileSync(join(ca, 'signet.json'), 'utf8');
    writeFileSync(join(tmp.dir, 'wrong.txt'), 'not the password\n', { mode: 0o600 });
    fails(signet(['ca', 'ssh', 'enable', '--config', ca, '--password-file', join(tmp.dir, 'wrong.txt')]), 4, 'ERR_KEY_WRONG_PASSWORD');
    assert.equal(readFileSync(join(ca, 'signet.json'), 'utf8'), before);
    assert.ok(!existsSync(join(ca, 'secrets/ssh_user_ca.key')));

    const r = JSON.parse(ok(signet(['ca', 'ssh', 'enable', '--config', ca, '--json'])).stdout) as { userKey: { line: string }; hostKey: { line: string } };
    assert.match(r.userKey.line, /^ssh-ed25519 /);
    const config = loadCaConfig(join(ca, 'signet.json'));
    assert.equal(config.claims.sshEnabled, true);
    assert.equal(config.ssh?.hostKey, join(ca, 'secrets/ssh_host_ca.key'));
    ok(signet(['ca', 'config', 'validate', '--config', ca]));
    fails(signet(['ca', 'ssh', 'enable', '--config', ca]), 5, 'ERR_CA_EXISTS');
  } finally {
    tmp.cleanup();
  }
});

test('ca token --ssh: the kind and the principals go into the token; SAN, revoke and SSH flags do not mix', () => {
  const tmp = tempDir('signet-ssh-token-');
  try {
    passwords(tmp.dir);
    ok(init(tmp.dir, ['--ssh']));
    const ca = join(tmp.dir, 'ca');
    const common = ['--config', ca, '--password-file', join(tmp.dir, 'prov-pw.txt')];
    const token = ok(signet(['ca', 'token', 'web01', '--ssh', '--host', '--principal', 'web01.example.com', '--principal', '10.0.0.5', ...common])).stdout.trim();
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(payload.ssh, { certType: 'host' });
    assert.deepEqual(payload.sans, ['web01.example.com', '10.0.0.5']);
    assert.equal(payload.sub, 'web01');
    assert.match(String(payload.aud), /\/ssh\/sign$/);
    const user = JSON.parse(Buffer.from(ok(signet(['ca', 'token', 'alice', '--ssh', ...common])).stdout.trim().split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(user.ssh, { certType: 'user' });
    assert.deepEqual(user.sans, ['alice']);
    fails(signet(['ca', 'token', 'alice', '--ssh', '--san', 'alice', ...common]), 2, 'ERR_USAGE');
    fails(signet(['ca', 'token', 'alice', '--principal', 'alice', ...common]), 2, 'ERR_USAGE');
    fails(signet(['ca', 'token', 'alice', '--host', ...common]), 2, 'ERR_USAGE');
    fails(signet(['ca', 'token', 'alice', '--ssh', '--principal', 'a,b', ...common]), 2, 'ERR_BAD_NAME');
  } finally {
    tmp.cleanup();
  }
});

test('ca provisioner add --type oidc: an OIDC provisioner in the config (validated), and its flags checked', () => {
  const tmp = tempDir('signet-oidc-add-');
  try {
    passwords(tmp.dir);
    ok(init(tmp.dir, ['--ssh']));
    const ca = join(tmp.dir, 'ca');
    const out = ok(signet(['ca', 'provisioner', 'add', 'sso', '--type', 'oidc', '--issuer', 'https://login.example.com', '--client-id', 'signet', '--domains', 'example.com,example.org', '--config', ca])).stdout;
    assert.match(out, /added OIDC provisioner sso \(sign in at https:\/\/login\.example\.com: signet ssh login --provisioner sso\)/);
    const p = loadCaConfig(join(ca, 'signet.json')).provisioners.find((x) => x.name === 'sso');
    assert.deepEqual(p?.type === 'OIDC' ? { issuer: p.issuer, clientId: p.clientId, domains: p.domains } : undefined, { issuer: 'https://login.example.com', clientId: 'signet', domains: ['example.com', 'example.org'] });
    fails(signet(['ca', 'provisioner', 'add', 'sso2', '--type', 'oidc', '--issuer', 'https://login.example.com', '--config', ca]), 2, 'ERR_USAGE');
    fails(signet(['ca', 'provisioner', 'add', 'sso3', '--type', 'oidc', '--issuer', 'http://login.example.com', '--client-id', 'x', '--config', ca]), 1, 'ERR_CONFIG_INVALID');
    fails(signet(['ca', 'provisioner', 'add', 'j', '--type', 'jwk', '--issuer', 'https://login.example.com', '--config', ca]), 2, 'ERR_USAGE');
    fails(signet(['ca', 'token', 'x', '--provisioner', 'sso', '--config', ca, '--password-file', join(tmp.dir, 'prov-pw.txt')]), 2, 'ERR_USAGE');
  } finally {
    tmp.cleanup();
  }
});
