/**
 * The life of a certificate through the CLI against a real CA: renew (same key, new serial; not
 * before it is due unless --force; a renewed certificate cannot be renewed again), rekey (new
 * key), revoke (by the certificate over mTLS, by a token for its serial), and after that every
 * renewal refused with ERR_CERT_REVOKED. An expired certificate renews with the renewal token
 * where the provisioner allows it, within the grace period only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, lstatSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { fails, ok } from '../helpers/cli.js';
import { openssl, opensslOk } from '../helpers/openssl.js';
import { clientKit, opensslPublicKey, opensslSerial, type ClientKit } from './kit.js';

let kit: ClientKit;
before(async () => {
  kit = await clientKit({
    edit: (doc) => {
      doc.claims = { ...(doc.claims as Record<string, unknown>), allowRenewalAfterExpiry: true, renewalGracePeriod: '1h' };
    },
  });
});
after(async () => {
  await kit.cleanup();
});

async function issue(name: string, extra: readonly string[] = []): Promise<void> {
  ok(await kit.run(['ca', 'certificate', name, `${name}.crt`, `${name}.key`, ...kit.provisionerFlags, ...kit.connection(), ...extra]));
}

test('renew: not before it is due without --force; then a new serial for the same key, the hook runs, a replaced certificate cannot be renewed again', async () => {
  await issue('web');
  chmodSync(kit.path('web.crt'), 0o640);
  const before1 = readFileSync(kit.path('web.crt'), 'utf8');
  const notYet = ok(await kit.run(['ca', 'renew', 'web.crt', 'web.key', ...kit.connection()]));
  assert.match(notYet.stdout, /^not yet: web\.crt need not be renewed: 0% of its lifetime has passed; due at /);
  assert.equal(readFileSync(kit.path('web.crt'), 'utf8'), before1, 'untouched');
  const notYetJson = JSON.parse(ok(await kit.run(['ca', 'renew', 'web.crt', 'web.key', '--json', ...kit.connection()])).stdout) as { renewed: boolean };
  assert.equal(notYetJson.renewed, false);

  const oldSerial = opensslSerial(kit.path('web.crt'));
  copyFileSync(kit.path('web.crt'), kit.path('web-old.crt'));
  const r = ok(await kit.run(['ca', 'renew', 'web.crt', 'web.key', '--force', '--json', '--exec', 'printf "%s" "$SIGNET_SERIAL" > hooked', ...kit.connection()]));
  const out = JSON.parse(r.stdout) as { renewed: boolean; serial: string; previousSerial: string };
  assert.equal(out.renewed, true);
  const newSerial = opensslSerial(kit.path('web.crt'));
  assert.notEqual(newSerial, oldSerial);
  assert.equal(BigInt(`0x${out.previousSerial}`), BigInt(`0x${oldSerial}`));
  assert.equal(BigInt(`0x${readFileSync(kit.path('hooked'), 'utf8')}`), BigInt(`0x${newSerial}`), 'the hook ran with the new serial');
  kit.verify(kit.path('web.crt'));
  assert.equal(opensslPublicKey(kit.path('web.crt'), 'cert'), opensslPublicKey(kit.path('web.key'), 'key'), 'same key');
  assert.equal(statSync(kit.path('web.crt')).mode & 0o777, 0o640, 'the file keeps its mode');

  fails(await kit.run(['ca', 'renew', 'web-old.crt', 'web.key', '--force', ...kit.connection()]), 1, 'ERR_CERT_REPLACED');
  // Renewing through a symbolic link replaces the file it points to; the link stays a link.
  symlinkSync(kit.path('web.crt'), kit.path('live.crt'));
  const beforeLink = opensslSerial(kit.path('web.crt'));
  ok(await kit.run(['ca', 'renew', 'live.crt', 'web.key', '--force', ...kit.connection()]));
  assert.ok(lstatSync(kit.path('live.crt')).isSymbolicLink(), 'still a link');
  assert.notEqual(opensslSerial(kit.path('web.crt')), beforeLink, 'the target was renewed');
  kit.verify(kit.path('web.crt'));

  // On the CA host the config names the CA, as for ca certificate and ca revoke (this test CA
  // listens on another port than its config's address, so the configured one is unreachable).
  const viaConfig = await kit.run(['ca', 'renew', 'web.crt', 'web.key', '--force', '--config', kit.ca.configPath]);
  fails(viaConfig, 6, 'ERR_CA_UNREACHABLE');
  assert.match(viaConfig.stderr, new RegExp(`https://localhost:${kit.ca.config.listen.port}`));
  // A key that is not the certificate's: refused before the CA is asked.
  await issue('other');
  fails(await kit.run(['ca', 'renew', 'web.crt', 'other.key', '--force', ...kit.connection()]), 4, 'ERR_KEY_MISMATCH');
  // A failing hook: the certificate is renewed, the command says the hook failed.
  const hook = await kit.run(['ca', 'renew', 'web.crt', 'web.key', '--force', '--exec', 'exit 3', ...kit.connection()]);
  fails(hook, 5, 'ERR_HOOK_FAILED');
  assert.match(hook.stdout, /^renewed web\.crt: /);
  kit.verify(kit.path('web.crt'));
});

test('an encrypted key: renew and rekey read its password from --password-file, and the new key stays encrypted', async () => {
  await issue('enc', ['--password-file', kit.ca.passwordFile]);
  fails(await kit.run(['ca', 'renew', 'enc.crt', 'enc.key', '--force', ...kit.connection()]), 4, 'ERR_KEY_PASSWORD_REQUIRED');
  ok(await kit.run(['ca', 'renew', 'enc.crt', 'enc.key', '--force', '--password-file', kit.ca.passwordFile, ...kit.connection()]));
  ok(await kit.run(['ca', 'rekey', 'enc.crt', 'enc.key', '--password-file', kit.ca.passwordFile, ...kit.connection()]));
  assert.match(readFileSync(kit.path('enc.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal(opensslPublicKey(kit.path('enc.crt'), 'cert'), opensslOk(['pkey', '-in', kit.path('enc.key'), '-passin', `file:${kit.ca.passwordFile}`, '-pubout']));
  kit.verify(kit.path('enc.crt'));
});

test('rekey: a new key (of another type on request) and certificate, written together, same names', async () => {
  await issue('db', ['--san', 'db.example.com', '--san', '10.1.2.3']);
  const oldKey = readFileSync(kit.path('db.key'), 'utf8');
  ok(await kit.run(['ca', 'rekey', 'db.crt', 'db.key', ...kit.connection()]));
  assert.notEqual(readFileSync(kit.path('db.key'), 'utf8'), oldKey);
  assert.equal(statSync(kit.path('db.key')).mode & 0o777, 0o600);
  kit.verify(kit.path('db.crt'));
  assert.equal(opensslPublicKey(kit.path('db.crt'), 'cert'), opensslPublicKey(kit.path('db.key'), 'key'));
  assert.match(opensslOk(['x509', '-in', kit.path('db.crt'), '-noout', '-ext', 'subjectAltName']), /DNS:db\.example\.com, IP Address:10\.1\.2\.3/);
  assert.match(opensslOk(['x509', '-in', kit.path('db.crt'), '-noout', '-text']), /prime256v1|P-256/);

  const j = JSON.parse(ok(await kit.run(['ca', 'rekey', 'db.crt', 'db.key', '--key-type', 'ed25519', '--json', ...kit.connection()])).stdout) as { keyType: string };
  assert.equal(j.keyType, 'ed25519');
  assert.match(opensslOk(['x509', '-in', kit.path('db.crt'), '-noout', '-text']), /ED25519/);
  kit.verify(kit.path('db.crt'));
});

test('revoke over mTLS with the certificate itself; then renew and rekey are refused with ERR_CERT_REVOKED', async () => {
  await issue('gone');
  const r = JSON.parse(ok(await kit.run(['ca', 'revoke', '--cert', 'gone.crt', '--key', 'gone.key', '--reason', 'key-compromise', '--json', ...kit.connection()])).stdout) as { status: string; reason: string; serial: string };
  assert.equal(r.status, 'revoked');
  assert.equal(r.reason, 'keyCompromise');
  assert.equal(BigInt(`0x${r.serial}`), BigInt(`0x${opensslSerial(kit.path('gone.crt'))}`));
  fails(await kit.run(['ca', 'renew', 'gone.crt', 'gone.key', '--force', ...kit.connection()]), 1, 'ERR_CERT_REVOKED');
  fails(await kit.run(['ca', 'rekey', 'gone.crt', 'gone.key', ...kit.connection()]), 1, 'ERR_CERT_REVOKED');
});

test('revoke by serial with a token: minted here, or given from `signet ca token SERIAL --revoke`; revoking again is fine', async () => {
  await issue('lost');
  // OpenSSL's spelling: upper case; with colons too.
  const serial = opensslSerial(kit.path('lost.crt')).toUpperCase();
  const colons = serial.match(/../g)?.join(':') ?? serial;
  assert.match(ok(await kit.run(['ca', 'revoke', colons, '--reason', 'superseded', ...kit.provisionerFlags, ...kit.connection()])).stdout, /^revoked [0-9a-f]+ at .* \(superseded\)\n$/);
  fails(await kit.run(['ca', 'renew', 'lost.crt', 'lost.key', '--force', ...kit.connection()]), 1, 'ERR_CERT_REVOKED');
  ok(await kit.run(['ca', 'revoke', serial, ...kit.provisionerFlags, ...kit.connection()]));

  await issue('stolen');
  const s2 = opensslSerial(kit.path('stolen.crt'));
  const token = ok(await kit.run(['ca', 'token', s2, '--revoke', '--ca-url', kit.running.url, '--root', kit.ca.rootFile, '--provisioner', 'admin', '--key', kit.provisionerFlags[3] ?? '', '--password-file', kit.ca.provisionerPasswordFile])).stdout.trim();
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string; aud: string; sans: string[] };
  assert.equal(claims.aud, `${kit.running.url}/revoke`);
  assert.deepEqual(claims.sans, []);
  assert.equal(BigInt(`0x${claims.sub}`), BigInt(`0x${s2}`));
  ok(await kit.run(['ca', 'revoke', s2, '--token', token, ...kit.connection()]));
  fails(await kit.run(['ca', 'renew', 'stolen.crt', 'stolen.key', '--force', ...kit.connection()]), 1, 'ERR_CERT_REVOKED');
  fails(await kit.run(['ca', 'revoke', 'ab:cd', '--reason', 'bored', ...kit.provisionerFlags, ...kit.connection()]), 2, 'ERR_BAD_OPTION');
  fails(await kit.run(['ca', 'revoke', 'abcdef0123', ...kit.provisionerFlags, ...kit.connection()]), 1, 'ERR_CERT_NOT_FOUND');
});

test('an expired certificate renews with the renewal token within the grace period, and is refused after it', async () => {
  await issue('late', ['--not-before', '-20m', '--not-after', '-5m']);
  assert.equal(openssl(['x509', '-in', kit.path('late.crt'), '-noout', '-checkend', '0']).status, 1, 'expired');
  ok(await kit.run(['ca', 'renew', 'late.crt', 'late.key', ...kit.connection()]));
  kit.verify(kit.path('late.crt'));
  opensslOk(['x509', '-in', kit.path('late.crt'), '-noout', '-checkend', '60']);

  await issue('too-late', ['--not-before', '-3h', '--not-after', '-2h']);
  fails(await kit.run(['ca', 'renew', 'too-late.crt', 'too-late.key', ...kit.connection()]), 1, 'ERR_RENEWAL_NOT_ALLOWED');
});
