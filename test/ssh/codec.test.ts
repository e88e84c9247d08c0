/**
 * The OpenSSH certificate and key codec against OpenSSH's own `ssh-keygen`: certificates that
 * `ssh-keygen -s` signs parse with every field as asked, and signing the same fields with the
 * same nonce and CA key gives the same bytes (Ed25519 and RSA signatures are deterministic;
 * ECDSA's are not, so there everything before the signature is compared and the signature
 * verified); certificates Signet signs are read back by `ssh-keygen -L` as made; public key lines
 * equal `ssh-keygen -y`; private key files Signet writes are read by `ssh-keygen`. Malformed
 * certificates (every truncation, a trailing byte, a changed byte, options out of order, a SHA-1
 * signature, weak or unsupported keys) are refused with their codes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { SignetError } from '../../src/core/errors.js';
import { formatCertificateLine, parseSshCertificate, signSshCertificate, SSH_FOREVER, type SshCertificateInput } from '../../src/ssh/certificate.js';
import { formatOpenSshPrivateKey, formatPublicKeyLine, parsePublicKeyBlob, parsePublicKeyLine, publicKeyBlob, sshSign } from '../../src/ssh/keys.js';
import { SshWriter } from '../../src/ssh/wire.js';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../helpers/openssl.js';

function run(cmd: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const tmp = tempDir('signet-ssh-codec-');
type Kind = 'ed25519' | 'ecdsa' | 'rsa';
const KINDS: readonly Kind[] = ['ed25519', 'ecdsa', 'rsa'];
const keys = new Map<string, KeyObject>();

function generate(kind: Kind, curve = 'P-256'): KeyObject {
  if (kind === 'ed25519') return generateKeyPairSync('ed25519').privateKey;
  if (kind === 'ecdsa') return generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** Writes `name` (OpenSSH private key format, 0600) and `name.pub` as ssh-keygen derives it. */
function keyFile(name: string, key: KeyObject): string {
  keys.set(name, key);
  writeFileSync(tmp.path(name), formatOpenSshPrivateKey(key, name), { mode: 0o600 });
  const pub = run('ssh-keygen', ['-y', '-f', tmp.path(name)]);
  assert.equal(pub.code, 0, pub.stderr);
  writeFileSync(tmp.path(`${name}.pub`), pub.stdout);
  return tmp.path(name);
}

function ok(args: readonly string[]): string {
  const r = run('ssh-keygen', args);
  assert.equal(r.code, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

function certBlob(file: string): Uint8Array {
  return new Uint8Array(Buffer.from(readFileSync(file, 'utf8').trim().split(/\s+/)[1] as string, 'base64'));
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SignetError, `not a SignetError: ${String(e)}`);
    return e.code;
  }
  return undefined;
}

before(() => {
  for (const kind of KINDS) {
    keyFile(`ca-${kind}`, generate(kind));
    keyFile(`user-${kind}`, generate(kind, 'P-384'));
  }
});

after(() => tmp.cleanup());

test('public key lines and private key files: the line is what ssh-keygen -y derives; the blob parses back to the key', () => {
  for (const name of keys.keys()) {
    const key = keys.get(name) as KeyObject;
    const theirs = readFileSync(tmp.path(`${name}.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    assert.equal(formatPublicKeyLine(key), theirs, name);
    const parsed = parsePublicKeyLine(`${theirs} comment here`);
    assert.equal(parsed.comment, 'comment here');
    assert.deepEqual(parsePublicKeyBlob(parsed.blob).export({ format: 'jwk' }), (key.type === 'private' ? parsePublicKeyBlob(publicKeyBlob(key)) : key).export({ format: 'jwk' }));
  }
});

test('certificates ssh-keygen signs (user and host, each CA and key type) parse field by field; re-signed with the same nonce they are the same bytes', () => {
  for (const caKind of KINDS) {
    for (const userKind of KINDS) {
      for (const host of [false, true]) {
        const pub = tmp.path(`user-${userKind}.pub`);
        const args = ['-s', tmp.path(`ca-${caKind}`), '-I', `id-${caKind}-${userKind}`, '-n', host ? 'web.example.com,10.0.0.5' : 'alice,bob', '-V', '20260101000000Z:20270101000000Z', '-z', '4242'];
        if (host) args.push('-h');
        else args.push('-O', 'force-command=/usr/bin/true', '-O', 'source-address=10.0.0.0/8,192.0.2.1', '-O', 'no-pty', '-O', 'no-x11-forwarding');
        ok([...args, pub]);
        const blob = certBlob(tmp.path(`user-${userKind}-cert.pub`));
        const c = parseSshCertificate(blob);
        const what = `${caKind} CA, ${userKind} key, ${host ? 'host' : 'user'}`;
        assert.equal(c.type, host ? 'host' : 'user', what);
        assert.equal(c.serial, 4242n);
        assert.equal(c.keyId, `id-${caKind}-${userKind}`);
        assert.deepEqual(c.principals, host ? ['web.example.com', '10.0.0.5'] : ['alice', 'bob']);
        assert.equal(c.validAfter, BigInt(Date.UTC(2026, 0, 1) / 1000));
        assert.equal(c.validBefore, BigInt(Date.UTC(2027, 0, 1) / 1000));
        assert.deepEqual(c.criticalOptions, host ? {} : { 'force-command': '/usr/bin/true', 'source-address': '10.0.0.0/8,192.0.2.1' });
        assert.deepEqual(c.extensions, host ? {} : { 'permit-agent-forwarding': '', 'permit-port-forwarding': '', 'permit-user-rc': '' });
        assert.deepEqual(c.publicKey.export({ format: 'jwk' }), parsePublicKeyBlob(publicKeyBlob(keys.get(`user-${userKind}`) as KeyObject)).export({ format: 'jwk' }));
        assert.equal(c.signatureAlgorithm, caKind === 'rsa' ? 'rsa-sha2-512' : caKind === 'ecdsa' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519');
        const input: SshCertificateInput = { publicKey: c.publicKey, type: c.type, serial: c.serial, keyId: c.keyId, principals: c.principals, validAfter: c.validAfter, validBefore: c.validBefore, criticalOptions: c.criticalOptions, extensions: c.extensions, nonce: c.nonce };
        const ours = signSshCertificate(input, keys.get(`ca-${caKind}`) as KeyObject);
        if (caKind === 'ecdsa') {
          // ECDSA signatures differ every time: the signed part is the same bytes, and ours verifies.
          assert.deepEqual(Buffer.from(parseSshCertificate(ours).signed).toString('hex'), Buffer.from(c.signed).toString('hex'), what);
        } else {
          assert.deepEqual(Buffer.from(ours).toString('hex'), Buffer.from(blob).toString('hex'), `${what}: byte for byte`);
        }
      }
    }
  }
});

test('certificates Signet signs are read by ssh-keygen -L as made: type, key, CA, id, serial, validity, principals, options', () => {
  for (const caKind of KINDS) {
    for (const [userKind, type] of [['ed25519', 'user'], ['rsa', 'host'], ['ecdsa', 'user']] as const) {
      const input: SshCertificateInput = {
        publicKey: keys.get(`user-${userKind}`) as KeyObject,
        type,
        serial: 0x1234567890abcdefn,
        keyId: `signet:${caKind}:${userKind}`,
        principals: type === 'user' ? ['alice', 'deploy'] : ['db1.example.com'],
        validAfter: BigInt(Date.UTC(2026, 10, 24, 10) / 1000),
        validBefore: type === 'user' ? BigInt(Date.UTC(2026, 10, 24, 18) / 1000) : SSH_FOREVER,
        ...(type === 'user' && { criticalOptions: { 'source-address': '10.1.0.0/16', 'force-command': 'uptime' }, extensions: { 'permit-pty': '', 'permit-agent-forwarding': '' } }),
      };
      const blob = signSshCertificate(input, keys.get(`ca-${caKind}`) as KeyObject);
      const file = tmp.path(`signet-${caKind}-${userKind}-cert.pub`);
      writeFileSync(file, `${formatCertificateLine(blob, 'made by signet')}\n`);
      const out = ok(['-L', '-f', file]);
      assert.match(out, new RegExp(`Type: ${userKind === 'ecdsa' ? 'ecdsa-sha2-nistp384' : userKind === 'rsa' ? 'ssh-rsa' : 'ssh-ed25519'}-cert-v01@openssh.com ${type} certificate`));
      assert.match(out, new RegExp(`using ${caKind === 'rsa' ? 'rsa-sha2-512' : caKind === 'ecdsa' ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519'}\\)`));
      assert.match(out, new RegExp(`Key ID: "signet:${caKind}:${userKind}"`));
      assert.match(out, /Serial: 1311768467294899695/);
      assert.match(out, type === 'user' ? /Valid: from 2026-11-24T\d\d:00:00 to 2026-11-24T\d\d:00:00/ : /Valid: after 2026-11-24T\d\d:00:00\n/);
      if (type === 'user') {
        assert.match(out, /Principals: \n\s+alice\n\s+deploy\n/);
        assert.match(out, /Critical Options: \n\s+force-command uptime\n\s+source-address 10\.1\.0\.0\/16\n/);
        assert.match(out, /Extensions: \n\s+permit-agent-forwarding\n\s+permit-pty\n/);
      } else assert.match(out, /Principals: \n\s+db1\.example\.com\n/);
      // The CA ssh-keygen shows is ours.
      const caFp = ok(['-l', '-f', tmp.path(`ca-${caKind}.pub`)]).split(/\s+/)[1];
      assert.ok(caFp !== undefined && out.includes(caFp), `${out} names ${caFp}`);
    }
  }
});

test('malformed certificates: every truncation and a trailing byte are ERR_SSH_MALFORMED; a changed byte ERR_SSH_SIGNATURE_INVALID', () => {
  const blob = certBlob(tmp.path('signet-ed25519-ed25519-cert.pub'));
  for (let n = 0; n < blob.length; n++) {
    const c = code(() => parseSshCertificate(blob.subarray(0, n)));
    assert.ok(c === 'ERR_SSH_MALFORMED' || (n > 0 && c === 'ERR_SSH_KEY_UNSUPPORTED'), `truncated at ${n}: ${c}`);
  }
  assert.equal(code(() => parseSshCertificate(Uint8Array.from([...blob, 0]))), 'ERR_SSH_MALFORMED');
  // The key id's last byte (inside the signed part) and the signature's last byte.
  const c = parseSshCertificate(blob);
  const idAt = Buffer.from(blob).indexOf(Buffer.from(c.keyId)) + c.keyId.length - 1;
  for (const at of [idAt, blob.length - 1]) {
    const bad = Uint8Array.from(blob);
    bad[at] = (bad[at] as number) ^ 0x01;
    assert.equal(code(() => parseSshCertificate(bad)), 'ERR_SSH_SIGNATURE_INVALID', `byte ${at}`);
  }
});

test('refused: options out of order, a certificate type other than user/host, a SHA-1 (ssh-rsa) signature, RSA under 2048 bits, keys SSH has no type for', () => {
  const ca = keys.get('ca-ed25519') as KeyObject;
  const user = keys.get('user-ed25519') as KeyObject;
  // Hand-made certificates with the fields given, signed properly.
  const handMade = (typeCode: number, extensions: readonly string[]): Uint8Array => {
    const ext = new SshWriter();
    for (const e of extensions) ext.string(e).string(new Uint8Array(0));
    const w = new SshWriter().string('ssh-ed25519-cert-v01@openssh.com').string(new Uint8Array(32)).string(parsePublicKeyLine(formatPublicKeyLine(user)).blob.subarray(4 + 11 + 4));
    w.uint64(1n).uint32(typeCode).string('id').string(new SshWriter().string('alice').bytes()).uint64(0n).uint64(SSH_FOREVER).string(new Uint8Array(0)).string(ext.bytes()).string(new Uint8Array(0)).string(publicKeyBlob(ca));
    const signed = w.bytes();
    return new SshWriter().raw(signed).string(sshSign(ca, signed)).bytes();
  };
  assert.equal(parseSshCertificate(handMade(1, ['permit-pty', 'permit-user-rc'])).extensions['permit-pty'], '', 'the hand-made form is right');
  assert.equal(code(() => parseSshCertificate(handMade(1, ['permit-user-rc', 'permit-pty']))), 'ERR_SSH_MALFORMED');
  assert.equal(code(() => parseSshCertificate(handMade(1, ['permit-pty', 'permit-pty']))), 'ERR_SSH_MALFORMED');
  assert.equal(code(() => parseSshCertificate(handMade(3, []))), 'ERR_SSH_MALFORMED');
  // ssh-keygen can still sign with SHA-1 when told to; Signet does not accept it.
  ok(['-s', tmp.path('ca-rsa'), '-t', 'ssh-rsa', '-I', 'sha1', '-n', 'alice', tmp.path('user-ed25519.pub')]);
  assert.equal(code(() => parseSshCertificate(certBlob(tmp.path('user-ed25519-cert.pub')))), 'ERR_SSH_KEY_UNSUPPORTED');
  const input = (publicKey: KeyObject): SshCertificateInput => ({ publicKey, type: 'user', serial: 1n, keyId: 'x', principals: ['alice'], validAfter: 0n, validBefore: 60n });
  assert.equal(code(() => signSshCertificate(input(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), ca)), 'ERR_SSH_KEY_UNSUPPORTED');
  assert.equal(code(() => signSshCertificate(input(generateKeyPairSync('ed448').publicKey), ca)), 'ERR_SSH_KEY_UNSUPPORTED');
  assert.equal(code(() => signSshCertificate(input(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey), ca)), 'ERR_SSH_KEY_UNSUPPORTED');
  assert.equal(code(() => parsePublicKeyLine('ssh-ed25519 not-base64!')), 'ERR_SSH_MALFORMED');
  assert.equal(code(() => parsePublicKeyLine(`ssh-rsa ${formatPublicKeyLine(user).split(' ')[1]}`)), 'ERR_SSH_MALFORMED');
});
