/**
 * The SSH parts of the CA config: the `ssh` key section, the SSH claims (merged per provisioner,
 * min ≤ default ≤ max for users and hosts), a provisioner's `sshTemplate` (names OpenSSH defines,
 * flags without values, source-address CIDRs), `policy.ssh` (principal rules for users, dns/ip
 * rules for hosts) — every wrong field named by its path — and the key files checked by
 * checkCaFiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePrivateKeyPem } from '../../src/crypto/keys.js';
import { checkCaFiles, DEFAULT_SSH_USER_EXTENSIONS, loadCaConfig, parseCaConfig, type CaConfig, type ConfigProblem } from '../../src/ca/config.js';
import { compileSshPolicies, validatePolicyConfig } from '../../src/ca/policy.js';
import { createTestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

function base(): Record<string, unknown> {
  return {
    version: 1,
    name: 'Example CA',
    address: '127.0.0.1:9443',
    dnsNames: ['localhost'],
    root: 'certs/root.crt',
    intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key' },
    ssh: { userKey: 'secrets/ssh_user_ca.key', hostKey: 'secrets/ssh_host_ca.key' },
    provisioners: [{ type: 'JWK', name: 'admin', publicKey: { ...p256.publicKey.export({ format: 'jwk' }) } }],
  };
}

function parse(doc: unknown): CaConfig {
  return parseCaConfig(JSON.stringify(doc, null, 2), { baseDir: '/srv/signet', name: 'signet.json' });
}

function problems(doc: unknown): string[] {
  try {
    parse(doc);
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'), String(e));
    return ((e.detail?.problems ?? []) as ConfigProblem[]).map((p) => `${p.path}: ${p.message}`);
  }
  return assert.fail('expected ERR_CONFIG_INVALID');
}

test('ssh keys resolve against the config directory; SSH claims default off with step-ca\'s lifetimes; templates default to ssh-keygen\'s extensions', () => {
  const c = parse(base());
  assert.deepEqual(c.ssh, { userKey: '/srv/signet/secrets/ssh_user_ca.key', hostKey: '/srv/signet/secrets/ssh_host_ca.key', passwordFile: undefined });
  assert.equal(c.claims.sshEnabled, false);
  assert.equal(c.claims.sshUserDefaultLifetimeMs, 16 * 3_600_000);
  assert.equal(c.claims.sshHostMaxLifetimeMs, 30 * 24 * 3_600_000);
  const p = c.provisioners[0];
  assert.equal(p?.type, 'JWK');
  if (p?.type !== 'JWK') return;
  assert.deepEqual(p.sshTemplate.user.extensions, DEFAULT_SSH_USER_EXTENSIONS);
  assert.deepEqual(p.sshTemplate.host, { extensions: {}, criticalOptions: {} });
  const without = base();
  delete without.ssh;
  assert.equal(parse(without).ssh, undefined);
});

test('provisioner SSH claims override the authority\'s field by field', () => {
  const doc = base();
  doc.claims = { sshEnabled: true, sshUserMaxLifetime: '12h', sshUserDefaultLifetime: '8h' };
  (doc.provisioners as Record<string, unknown>[])[0]!.claims = { sshUserDefaultLifetime: '1h', sshHostMaxLifetime: '7d', sshHostDefaultLifetime: '7d' };
  const c = parse(doc);
  const p = c.provisioners[0]!;
  assert.equal(p.claims.sshEnabled, true);
  assert.equal(p.claims.sshUserMaxLifetimeMs, 12 * 3_600_000);
  assert.equal(p.claims.sshUserDefaultLifetimeMs, 3_600_000);
  assert.equal(p.claims.sshHostMaxLifetimeMs, 7 * 24 * 3_600_000);
});

test('a provisioner template: extensions and critical options', () => {
  const doc = base();
  (doc.provisioners as Record<string, unknown>[])[0]!.sshTemplate = {
    user: { extensions: { 'permit-pty': '', 'login@example.com': 'alice' }, criticalOptions: { 'force-command': '/usr/bin/backup', 'source-address': '10.0.0.0/8,2001:db8::/32,192.0.2.1' } },
    host: { extensions: { 'rack@example.com': 'b12' } },
  };
  const p = parse(doc).provisioners[0]!;
  assert.equal(p.type, 'JWK');
  if (p.type !== 'JWK') return;
  assert.deepEqual(p.sshTemplate.user.extensions, { 'permit-pty': '', 'login@example.com': 'alice' });
  assert.deepEqual(p.sshTemplate.user.criticalOptions, { 'force-command': '/usr/bin/backup', 'source-address': '10.0.0.0/8,2001:db8::/32,192.0.2.1' });
  assert.deepEqual(p.sshTemplate.host.extensions, { 'rack@example.com': 'b12' });
});

test('every wrong SSH field is named by its path', () => {
  const doc = base();
  doc.ssh = { userKey: 'secrets/same.key', hostKey: 'secrets/same.key', password: 'x' };
  doc.claims = { sshEnabled: 'yes', sshUserMinLifetime: '2h', sshUserMaxLifetime: '1h', sshHostDefaultLifetime: '60d' };
  (doc.provisioners as Record<string, unknown>[])[0]!.sshTemplate = {
    user: { extensions: { 'permit-ptty': '', 'permit-pty': 'yes' }, criticalOptions: { 'force-command': '', 'source-address': '10.0.0.0/33', 'verify-required': 'x' } },
    host: { extensions: { 'permit-pty': '' } },
    other: {},
  };
  (doc.provisioners as Record<string, unknown>[])[0]!.policy = { ssh: { user: { allow: { principal: ['ok', 'bad name'], dns: ['x.example.com'] } }, host: { deny: { principal: ['x'] } }, guest: {} } };
  const got = problems(doc);
  const expect = [
    /^\$\.ssh\.password: unknown field \(secrets never go in the config: did you mean "passwordFile"\?\)/,
    /^\$\.ssh\.hostKey: must differ from userKey/,
    /^\$\.claims\.sshEnabled: expected true or false/,
    /^\$\.claims\.sshUserMinLifetime: sshUserMinLifetime 2h is longer than sshUserMaxLifetime 1h/,
    /^\$\.claims\.sshHostDefaultLifetime: sshHostDefaultLifetime 60d is longer than sshHostMaxLifetime 30d/,
    /^\$\.provisioners\[0\]\.sshTemplate\.other: unknown field/,
    /^\$\.provisioners\[0\]\.sshTemplate\.user\.extensions\["?permit-ptty"?\]?: unknown extension \(did you mean "permit-pty"\?\)/,
    /permit-pty.*: permit-pty is a flag: its value must be ""/,
    /force-command.*: force-command needs a value/,
    /source-address.*: expected a comma-separated list of IP addresses and CIDR ranges/,
    /verify-required.*: verify-required is a flag/,
    /^\$\.provisioners\[0\]\.sshTemplate\.host\.extensions.*permit-pty.*: OpenSSH defines no host certificate options/,
    /^\$\.provisioners\[0\]\.policy\.ssh\.user\.allow\.principal\[1\]: "bad name" has whitespace, a comma or a control character/,
    /^\$\.provisioners\[0\]\.policy\.ssh\.user\.allow\.dns: unknown name type "dns"/,
    /^\$\.provisioners\[0\]\.policy\.ssh\.host\.deny\.principal: unknown name type "principal"/,
    /^\$\.provisioners\[0\]\.policy\.ssh\.guest: unknown field/,
  ];
  for (const re of expect) assert.ok(got.some((g) => re.test(g)), `missing ${re}\n${got.join('\n')}`);
  assert.equal(got.length, expect.length, got.join('\n'));
});

test('SSH policies: principals exact and by glob, deny wins, host names by DNS and IP rules; X.509 rules do not apply', () => {
  const config = { allow: { dns: ['*.example.com'] }, ssh: { user: { allow: { principal: ['alice', 'deploy-*'] }, deny: { principal: ['deploy-prod'] } }, host: { allow: { dns: ['*.example.com'], ip: ['10.0.0.0/8'] } } } };
  assert.deepEqual(validatePolicyConfig(config), []);
  const p = compileSshPolicies(config, { name: 'test' });
  assert.equal(p.user.evaluate({ sans: [], principals: ['alice', 'deploy-staging'] }).allowed, true);
  const denied = p.user.evaluate({ sans: [], principals: ['deploy-prod'] });
  assert.equal(denied.allowed, false);
  assert.equal(!denied.allowed && denied.reason, 'denied');
  assert.equal(p.user.evaluate({ sans: [], principals: ['Alice'] }).allowed, false, 'principals are case-sensitive, as sshd compares them');
  assert.equal(p.user.evaluate({ sans: [], principals: ['root'] }).allowed, false);
  assert.equal(p.host.evaluate({ sans: [{ type: 'dns', value: 'web.example.com' }, { type: 'ip', value: '10.1.2.3' }] }).allowed, true);
  assert.equal(p.host.evaluate({ sans: [{ type: 'dns', value: 'db.internal' }] }).allowed, false);
  const none = compileSshPolicies({ allow: { dns: ['*.example.com'] } });
  assert.equal(none.user.evaluate({ sans: [], principals: ['anyone'] }).allowed, true, 'no SSH rules: the token decides');
});

test('checkCaFiles: the SSH keys are read, decrypted with the intermediate password, of an OpenSSH type, and different', async () => {
  const tmp = tempDir('signet-ssh-config-');
  try {
    const ca = await createTestCa({ parent: tmp.dir, ssh: true });
    const config = loadCaConfig(ca.configPath);
    assert.ok(config.ssh);
    checkCaFiles(config, { decryptKey: true });
    // A P-521 key is one OpenSSH takes; a secp256k1 key is not.
    writeFileSync(config.ssh.hostKey, encodePrivateKeyPem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey, 'test ca password'), { mode: 0o600 });
    assert.throws(() => checkCaFiles(config, { decryptKey: true }), (e) => isSignetError(e, 'ERR_CONFIG_INVALID') && /\$\.ssh\.hostKey: SSH host CA key .* cannot sign SSH certificates/.test(e.message));
    writeFileSync(config.ssh.hostKey, encodePrivateKeyPem(generateKeyPairSync('ed25519').privateKey, 'another password'), { mode: 0o600 });
    assert.throws(() => checkCaFiles(config, { decryptKey: true }), (e) => isSignetError(e, 'ERR_CONFIG_INVALID') && /\$\.intermediate\.passwordFile: the password does not decrypt SSH host CA key/.test(e.message));
  } finally {
    tmp.cleanup();
  }
});

test('OIDC provisioners: issuer (https, or http on loopback), client ID, domains; every wrong field named', () => {
  const doc = base();
  (doc.provisioners as unknown[]).push({ type: 'OIDC', name: 'sso', issuer: 'https://login.example.com/tenant', clientId: 'signet', domains: ['Example.com'], sshTemplate: { user: { extensions: { 'permit-pty': '' } } } });
  const p = parse(doc).provisioners[1];
  assert.equal(p?.type, 'OIDC');
  if (p?.type !== 'OIDC') return;
  assert.equal(p.issuer, 'https://login.example.com/tenant');
  assert.equal(p.clientId, 'signet');
  assert.deepEqual(p.domains, ['example.com']);
  assert.deepEqual(p.sshTemplate.user.extensions, { 'permit-pty': '' });
  const loopback = base();
  (loopback.provisioners as unknown[]).push({ type: 'OIDC', name: 'dev', issuer: 'http://127.0.0.1:8080', clientId: 'signet' });
  assert.equal(parse(loopback).provisioners[1]?.type, 'OIDC');

  const bad = base();
  (bad.provisioners as unknown[]).push(
    { type: 'OIDC', name: 'a', issuer: 'http://login.example.com', clientId: 'signet' },
    { type: 'OIDC', name: 'b', issuer: 'https://login.example.com?x=1', clientId: '', domains: ['not a domain'] },
    { type: 'OIDC', name: 'c', issuer: 'https://login.example.com', publicKey: {} },
  );
  const got = problems(bad);
  for (const re of [
    /^\$\.provisioners\[1\]\.issuer: must be an https:\/\/ URL \(http:\/\/ only on a loopback address\)/,
    /^\$\.provisioners\[2\]\.issuer: must not have a query/,
    /^\$\.provisioners\[2\]\.clientId: expected the client ID/,
    /^\$\.provisioners\[2\]\.domains\[0\]: expected an e-mail domain/,
    /^\$\.provisioners\[3\]\.publicKey: unknown field/,
    /^\$\.provisioners\[3\]\.clientId: is required/,
  ]) {
    assert.ok(got.some((g) => re.test(g)), `missing ${re}\n${got.join('\n')}`);
  }
});
