/**
 * `signet ca certificate` against a real CA: the chain it writes verifies with OpenSSL, the key
 * is 0600 and belongs to the certificate, tokens work given or minted here, refusals leave
 * nothing behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fails, ok } from '../helpers/cli.js';
import { openssl, opensslOk } from '../helpers/openssl.js';
import { clientKit, opensslPublicKey, opensslSerial, type ClientKit } from './kit.js';

let kit: ClientKit;
before(async () => {
  kit = await clientKit({ configPort: true });
});
after(async () => {
  await kit.cleanup();
});

test('a token minted here: the chain verifies with openssl, is valid for an hour, and the key is 0600 and its own', async () => {
  const r = ok(await kit.run(['ca', 'certificate', 'web.example.com', 'web.crt', 'web.key', '--san', 'web.example.com', '--san', '10.0.0.5', ...kit.provisionerFlags, ...kit.connection(), '--json']));
  const out = JSON.parse(r.stdout) as { serial: string; sans: string[]; keyEncrypted: boolean; subject: string };
  assert.deepEqual(out.sans, ['DNS:web.example.com', 'IP:10.0.0.5']);
  assert.equal(out.keyEncrypted, false);
  assert.equal(out.subject, 'CN=web.example.com');
  kit.verify(kit.path('web.crt'));
  opensslOk(['verify', '-CAfile', kit.ca.rootFile, '-untrusted', kit.path('web.crt'), '-verify_hostname', 'web.example.com', kit.path('web.crt')]);
  // Two certificates: the leaf, then the intermediate.
  assert.equal(readFileSync(kit.path('web.crt'), 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 2);
  opensslOk(['x509', '-in', kit.path('web.crt'), '-noout', '-checkend', '3600']);
  assert.equal(BigInt(`0x${opensslSerial(kit.path('web.crt'))}`), BigInt(`0x${out.serial}`));
  assert.equal(statSync(kit.path('web.key')).mode & 0o777, 0o600);
  assert.equal(opensslPublicKey(kit.path('web.key'), 'key'), opensslPublicKey(kit.path('web.crt'), 'cert'));

  // Existing files are not replaced without --force, and the CA is not even asked.
  fails(await kit.run(['ca', 'certificate', 'web.example.com', 'web.crt', 'other.key', ...kit.provisionerFlags, ...kit.connection()]), 5, 'ERR_FILE_EXISTS');
  assert.ok(!existsSync(kit.path('other.key')));
});

test('a given token (from `signet ca token`), used once: the replay is refused and writes nothing', async () => {
  const token = ok(await kit.run(['ca', 'token', 'api.example.com', '--ca-url', kit.running.url, '--root', kit.ca.rootFile, '--provisioner', 'admin', '--key', kit.provisionerFlags[3] ?? '', '--password-file', kit.ca.provisionerPasswordFile])).stdout.trim();
  writeFileSync(kit.path('api.token'), `${token}\n`, { mode: 0o600 });
  ok(await kit.run(['ca', 'certificate', 'api.example.com', 'api.crt', 'api.key', '--token-file', 'api.token', '--key-type', 'ed25519', ...kit.connection()]));
  kit.verify(kit.path('api.crt'));
  assert.match(opensslOk(['x509', '-in', kit.path('api.crt'), '-noout', '-text']), /ED25519/);

  const replay = await kit.run(['ca', 'certificate', 'api.example.com', 'api2.crt', 'api2.key', '--token', token, ...kit.connection()]);
  fails(replay, 1, 'ERR_TOKEN_REPLAYED');
  assert.match(replay.stderr, /^error: the CA refused: /);
  assert.ok(!existsSync(kit.path('api2.crt')) && !existsSync(kit.path('api2.key')));

  // A token and the flags that mint one are two answers to one question.
  fails(await kit.run(['ca', 'certificate', 'x.example.com', 'x.crt', 'x.key', '--token', token, ...kit.provisionerFlags, ...kit.connection()]), 2, 'ERR_USAGE');
  // Neither: say how to get one.
  fails(await kit.run(['ca', 'certificate', 'x.example.com', 'x.crt', 'x.key', ...kit.connection()]), 2, 'ERR_USAGE');
});

test('on the CA host --config gives URL, root, provisioner and key; --password-file encrypts the key; --not-after asks for a lifetime', async () => {
  ok(await kit.run(['ca', 'certificate', 'localhost', 'local.crt', 'local.key', '--config', kit.ca.configPath, '--provisioner-password-file', kit.ca.provisionerPasswordFile, '--password-file', kit.ca.passwordFile, '--not-after', '30m']));
  kit.verify(kit.path('local.crt'));
  const enc = readFileSync(kit.path('local.key'), 'utf8');
  assert.match(enc, /BEGIN ENCRYPTED PRIVATE KEY/);
  opensslOk(['pkey', '-in', kit.path('local.key'), '-passin', `file:${kit.ca.passwordFile}`, '-noout']);
  assert.equal(openssl(['x509', '-in', kit.path('local.crt'), '-noout', '-checkend', '3600']).status, 1, 'expires within the hour');
  opensslOk(['x509', '-in', kit.path('local.crt'), '-noout', '-checkend', '1500']);
});

test('a refusal by the CA names its code: SANs outside the provisioner policy, lifetime out of bounds', async () => {
  const long = await kit.run(['ca', 'certificate', 'long.example.com', 'long.crt', 'long.key', '--not-after', '400d', ...kit.provisionerFlags, ...kit.connection()]);
  fails(long, 1, 'ERR_LIFETIME_OUT_OF_BOUNDS');
  assert.ok(!existsSync(kit.path('long.crt')) && !existsSync(kit.path('long.key')));
  fails(await kit.run(['ca', 'certificate', 'bad.example.com', 'bad.crt', 'bad.key', '--san', 'not a name!', ...kit.provisionerFlags, ...kit.connection()]), 2, 'ERR_BAD_NAME');
});
