/**
 * OpenSSH private key files as ssh-keygen writes them (what /etc/ssh/ssh_host_*_key holds), read
 * by parseOpenSshPrivateKey for every key type: the key matches ssh-keygen's public key, signs
 * what the public key verifies, and Signet's own writer round-trips. Passphrase-protected and
 * corrupt files are refused with their codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { formatOpenSshPrivateKey, parseOpenSshPrivateKey, parsePublicKeyBlob, parsePublicKeyLine, sshSign, sshVerify, sshKeyType } from '../../src/ssh/keys.js';
import { tempDir } from '../helpers/openssl.js';

function keygen(args: string[]): void {
  const r = spawnSync('ssh-keygen', ['-q', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('keys ssh-keygen writes (Ed25519, ECDSA P-256/384/521, RSA 3072) are read, match their public key, and sign', () => {
  const tmp = tempDir('signet-ssh-privkey-');
  try {
    for (const [name, args] of [['ed25519', ['-t', 'ed25519']], ['p256', ['-t', 'ecdsa', '-b', '256']], ['p384', ['-t', 'ecdsa', '-b', '384']], ['p521', ['-t', 'ecdsa', '-b', '521']], ['rsa', ['-t', 'rsa', '-b', '3072']]] as const) {
      const file = tmp.path(name);
      keygen([...args, '-N', '', '-C', `test ${name}`, '-f', file]);
      const key = parseOpenSshPrivateKey(readFileSync(file, 'utf8'));
      const pub = parsePublicKeyBlob(parsePublicKeyLine(readFileSync(`${file}.pub`, 'utf8')).blob);
      assert.ok(createPublicKey(key).equals(pub), name);
      const data = new TextEncoder().encode('proof of possession');
      assert.ok(sshVerify(pub, sshKeyType(pub), sshSign(key, data), data), name);
    }
  } finally {
    tmp.cleanup();
  }
});

test('Signet\'s own OpenSSH key files round-trip, and ssh-keygen reads them (-y)', () => {
  const tmp = tempDir('signet-ssh-privkey-rt-');
  try {
    for (const pair of [generateKeyPairSync('ed25519'), generateKeyPairSync('ec', { namedCurve: 'P-384' }), generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
      const text = formatOpenSshPrivateKey(pair.privateKey, 'rt');
      assert.ok(createPublicKey(parseOpenSshPrivateKey(text)).equals(pair.publicKey));
    }
  } finally {
    tmp.cleanup();
  }
});

test('refused: a passphrase-protected key (ERR_KEY_UNSUPPORTED), corrupt or foreign files (ERR_KEY_MALFORMED)', () => {
  const tmp = tempDir('signet-ssh-privkey-bad-');
  try {
    keygen(['-t', 'ed25519', '-N', 'a passphrase', '-f', tmp.path('protected')]);
    assert.throws(() => parseOpenSshPrivateKey(readFileSync(tmp.path('protected'), 'utf8')), (e) => isSignetError(e, 'ERR_KEY_UNSUPPORTED'));
    const good = formatOpenSshPrivateKey(generateKeyPairSync('ed25519').privateKey);
    const body = good.split('\n').slice(1, -2).join('');
    const bytes = Buffer.from(body, 'base64');
    const flip = Buffer.from(bytes);
    const at = flip.length - 20;
    flip[at] = (flip[at] ?? 0) ^ 0xff;
    const wrap = (b: Buffer): string => `-----BEGIN OPENSSH PRIVATE KEY-----\n${b.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    for (const [what, text] of [
      ['no PEM block', 'ssh-ed25519 AAAA'],
      ['not openssh-key-v1', wrap(Buffer.from('openssh-key-v2\0rest'))],
      ['truncated', wrap(bytes.subarray(0, bytes.length - 40))],
      ['a flipped byte in the private part', wrap(flip)],
      ['a PKCS#8 key', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
    ] as const) {
      assert.throws(() => parseOpenSshPrivateKey(text), (e) => isSignetError(e, 'ERR_KEY_MALFORMED'), what);
    }
  } finally {
    tmp.cleanup();
  }
});
