/**
 * `signet ssh inspect`: a certificate ssh-keygen signed is shown with the fingerprints
 * `ssh-keygen -l` computes, its fields, and its validity at --time; a public key line with its
 * fingerprint; bad input gets its code and one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { formatOpenSshPrivateKey } from '../../src/ssh/keys.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ssh-inspect-');

function keygen(args: readonly string[]): string {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return (r.stdout ?? '') + (r.stderr ?? '');
}

const fingerprintOf = (file: string): string => keygen(['-l', '-f', file]).split(/\s+/)[1] as string;

before(() => {
  for (const [name, key] of [['ca', generateKeyPairSync('ed25519').privateKey], ['host', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey]] as const) {
    writeFileSync(tmp.path(name), formatOpenSshPrivateKey(key, name), { mode: 0o600 });
    writeFileSync(tmp.path(`${name}.pub`), keygen(['-y', '-f', tmp.path(name)]));
  }
  keygen(['-s', tmp.path('ca'), '-h', '-I', 'web-1', '-n', 'web.example.com,10.0.0.5', '-V', '20260101000000Z:20260201000000Z', '-z', '77', tmp.path('host.pub')]);
});

after(() => tmp.cleanup());

test('a host certificate: type, both fingerprints as ssh-keygen -l has them, id, serial, validity at --time, principals', () => {
  const cert = tmp.path('host-cert.pub');
  const out = ok(signet(['ssh', 'inspect', cert, '--time', '2026-01-15T00:00:00Z'])).stdout;
  assert.match(out, /Type: +ecdsa-sha2-nistp256-cert-v01@openssh\.com host certificate/);
  assert.ok(out.includes(`Public key:       ecdsa-sha2-nistp256 ${fingerprintOf(tmp.path('host.pub'))}`), out);
  assert.ok(out.includes(`Signing CA:       ssh-ed25519 ${fingerprintOf(tmp.path('ca.pub'))} (using ssh-ed25519)`), out);
  assert.match(out, /Key ID: +"web-1"\n {4}Serial: +77\n {4}Valid: +from 2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z\n {4}Principals: +web\.example\.com, 10\.0\.0\.5\n/);
  assert.match(ok(signet(['ssh', 'inspect', cert, '--time', '2026-03-01T00:00:00Z'])).stdout, /\(EXPIRED at 2026-03-01T00:00:00Z\)/);
  const json = JSON.parse(ok(signet(['ssh', 'inspect', cert, '--json', '--time', '2025-12-01T00:00:00Z'])).stdout) as Record<string, unknown>;
  assert.equal(json.certificateType, 'host');
  assert.equal(json.serial, '77');
  assert.equal(json.status, 'not-yet-valid');
  assert.deepEqual(json.principals, ['web.example.com', '10.0.0.5']);
  assert.equal(json.publicKey, fingerprintOf(tmp.path('host.pub')));
  // From stdin too.
  assert.match(ok(signet(['ssh', 'inspect', '-'], { input: readFileSync(cert, 'utf8') })).stdout, /Serial: +77/);
});

test('a public key line: its type, fingerprint and comment', () => {
  const out = ok(signet(['ssh', 'inspect', tmp.path('ca.pub')])).stdout;
  assert.ok(out.includes(`Fingerprint: ${fingerprintOf(tmp.path('ca.pub'))}`), out);
  assert.match(out, /Type: +ssh-ed25519 public key/);
});

test('bad input: not a key line (3), a tampered certificate (4), an empty file (3), a missing file (5)', () => {
  writeFileSync(tmp.path('garbage.pub'), 'hello world\n');
  fails(signet(['ssh', 'inspect', tmp.path('garbage.pub')]), 3, 'ERR_SSH_MALFORMED');
  const [type, b64] = readFileSync(tmp.path('host-cert.pub'), 'utf8').trim().split(/\s+/) as [string, string];
  const blob = Buffer.from(b64, 'base64');
  blob[blob.length - 1] = (blob[blob.length - 1] as number) ^ 1;
  writeFileSync(tmp.path('tampered-cert.pub'), `${type} ${blob.toString('base64')}\n`);
  fails(signet(['ssh', 'inspect', tmp.path('tampered-cert.pub')]), 4, 'ERR_SSH_SIGNATURE_INVALID');
  writeFileSync(tmp.path('empty.pub'), '\n# only a comment\n');
  fails(signet(['ssh', 'inspect', tmp.path('empty.pub')]), 3, 'ERR_INPUT_EMPTY');
  fails(signet(['ssh', 'inspect', tmp.path('nope.pub')]), 5, 'ERR_FILE_NOT_FOUND');
});
