/**
 * KRLs Signet writes, read by OpenSSH: `ssh-keygen -Q -l` lists exactly what was revoked (the
 * version, comment, CA, serials in order, key ids, explicit keys), and `ssh-keygen -Q` says
 * REVOKED for a certificate revoked by serial or by key id and for an explicitly revoked key, and
 * ok for a certificate with an unrevoked serial and for the same serial from another CA. (sshd
 * refusing a revoked certificate through RevokedKeys is in openssh.test.ts.)
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { formatCertificateLine, signSshCertificate } from '../../src/ssh/certificate.js';
import { formatPublicKeyLine } from '../../src/ssh/keys.js';
import { buildKrl } from '../../src/ssh/krl.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-krl-');
after(() => tmp.cleanup());

const key = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const ca = key();
const otherCa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

function keygen(args: readonly string[]): { code: number; out: string } {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

function certFile(name: string, signer: KeyObject, serial: bigint, keyId: string): string {
  const blob = signSshCertificate({ publicKey: key(), type: 'user', serial, keyId, principals: ['alice'], validAfter: 0n, validBefore: 0xffffffffffffffffn }, signer);
  const file = tmp.path(`${name}-cert.pub`);
  writeFileSync(file, `${formatCertificateLine(blob)}\n`);
  return file;
}

function fingerprint(k: KeyObject): string {
  writeFileSync(tmp.path('fp.pub'), `${formatPublicKeyLine(k)}\n`);
  return keygen(['-l', '-f', tmp.path('fp.pub')]).out.split(/\s+/)[1] as string;
}

test('ssh-keygen reads a Signet KRL as written and answers REVOKED / ok for each kind of entry', () => {
  const explicit = key();
  const krl = buildKrl({
    version: 17n,
    generatedAt: new Date(Date.UTC(2026, 10, 24, 10, 0, 0)),
    comment: 'signet ssh krl',
    certificates: [{ ca, serials: [900n, 5n, 77n, 5n], keyIds: ['stolen-laptop'] }],
    keys: [explicit],
  });
  writeFileSync(tmp.path('revoked.krl'), krl);
  const listing = keygen(['-Q', '-l', '-f', tmp.path('revoked.krl')]);
  assert.equal(listing.code, 0, listing.out);
  assert.match(listing.out, /# KRL version 17\n/);
  assert.match(listing.out, /# Comment: signet ssh krl\n/);
  assert.match(listing.out, new RegExp(`# CA key ssh-ed25519 ${fingerprint(ca).replace(/[+/]/g, '\\$&')}\\nserial: 5\\nserial: 77\\nserial: 900\\nid: stolen-laptop\\n`));
  const explicitFile = tmp.path('explicit.pub');
  writeFileSync(explicitFile, `${formatPublicKeyLine(explicit)}\n`);
  const query = (file: string) => keygen(['-Q', '-f', tmp.path('revoked.krl'), file]);
  for (const [what, file, revoked] of [
    ['revoked serial', certFile('s77', ca, 77n, 'svc'), true],
    ['revoked key id', certFile('id', ca, 1234n, 'stolen-laptop'), true],
    ['explicit key', explicitFile, true],
    ['other serial', certFile('s78', ca, 78n, 'svc'), false],
    ['same serial, another CA', certFile('other', otherCa, 77n, 'svc'), false],
  ] as const) {
    const r = query(file);
    assert.equal(r.code, revoked ? 1 : 0, `${what}: ${r.out}`);
    assert.match(r.out, revoked ? /REVOKED/ : /: ok/, what);
  }
});

test('an empty KRL (nothing revoked yet) is valid and revokes nothing', () => {
  writeFileSync(tmp.path('empty.krl'), buildKrl({ version: 1n, generatedAt: new Date() }));
  const r = keygen(['-Q', '-f', tmp.path('empty.krl'), certFile('any', ca, 1n, 'svc')]);
  assert.equal(r.code, 0, r.out);
});
