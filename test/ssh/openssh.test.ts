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
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { formatCertificateLine, signSshCertificate, SSH_FOREVER, type SshCertificateInput } from '../../src/ssh/certificate.js';
import { formatOpenSshPrivateKey, formatPublicKeyLine } from '../../src/ssh/keys.js';
import { buildKrl } from '../../src/ssh/krl.js';
import { tempDir } from '../helpers/openssl.js';
import { SSH_USER as user, sshLogin, startSshd, type RunningSshd } from '../helpers/sshd.js';

const tmp = tempDir('signet-openssh-');
const now = BigInt(Math.floor(Date.now() / 1000));
let sshd: RunningSshd;

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
  return sshLogin({ port: sshd.port, keyFile, knownHosts });
}

before(async () => {
  writeFileSync(tmp.path('host_key'), formatOpenSshPrivateKey(hostKey), { mode: 0o600 });
  writeFileSync(tmp.path('host_key-cert.pub'), formatCertificateLine(signSshCertificate({ publicKey: hostKey, type: 'host', serial: 2n, keyId: 'host', principals: ['127.0.0.1', 'localhost'], validAfter: now - 60n, validBefore: SSH_FOREVER }, hostCa)) + '\n');
  writeFileSync(tmp.path('user_ca.pub'), `${formatPublicKeyLine(userCa)}\n`);
  // Serial 66 of the user CA is revoked.
  writeFileSync(tmp.path('revoked.krl'), buildKrl({ version: 1n, generatedAt: new Date(), certificates: [{ ca: userCa, serials: [66n] }] }));
  sshd = await startSshd({ dir: tmp.dir, hostKey: tmp.path('host_key'), hostCertificate: tmp.path('host_key-cert.pub'), userCaFile: tmp.path('user_ca.pub'), revokedKeys: tmp.path('revoked.krl') });
  writeFileSync(tmp.path('known_hosts'), `@cert-authority [127.0.0.1]:${sshd.port} ${formatPublicKeyLine(hostCa)}\n`);
  writeFileSync(tmp.path('other_known_hosts'), `@cert-authority [127.0.0.1]:${sshd.port} ${formatPublicKeyLine(otherCa)}\n`);
});

after(() => {
  sshd?.stop();
  tmp.cleanup();
});

test('ssh logs in with a Signet user certificate (no authorized_keys) and trusts the Signet host certificate through @cert-authority, without a prompt', async () => {
  const r = ssh(userFiles('good', userCa), tmp.path('known_hosts'));
  assert.equal(r.code, 0, `${r.out}\n${sshd.log()}`);
  assert.match(r.out, /signet-ok/);
  await sshd.logged(/Accepted publickey for \S+ from 127\.0\.0\.1 .* ED25519-CERT SHA256:\S+ ID test \(serial 1\) CA ED25519/);
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
