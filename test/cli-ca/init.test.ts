/**
 * `signet ca init` end to end, with OpenSSL as the judge: the chain verifies, keys are 0600 and
 * open with their passwords (and only with them), the config validates, a second init refuses,
 * `--root/--key` puts a new intermediate under an existing root, `--pki-only` makes only the PKI,
 * and every refusal has its code, its exit status and leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, interact, ok, signet, type CliResult } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';
import { caInitCommand, type CaInitFlags, type CaInitResult } from '../../src/cli/ca/index.js';
import { SignetError } from '../../src/core/errors.js';
import { loadCaConfig } from '../../src/ca/config.js';
import { jwkProvisioner } from '../helpers/ca.js';

const tmp = tempDir('signet-cli-ca-init-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

/** Runs the CLI in the test directory (relative paths as a user types them). */
function run(args: string[]): CliResult {
  return signet(args, { cwd: tmp.dir });
}

writeFileSync(p('pw.txt'), 'correct horse battery staple\n', { mode: 0o600 });
writeFileSync(p('prov-pw.txt'), 'provisioner secret\n', { mode: 0o600 });
writeFileSync(p('root-pw.txt'), 'root only secret\n', { mode: 0o600 });
writeFileSync(p('wrong.txt'), 'not the password\n', { mode: 0o600 });
const PW = ['--password-file', 'pw.txt', '--provisioner-password-file', 'prov-pw.txt'];

/** True when `file` (a key) decrypts with `passwordFile` in OpenSSL. */
function opens(file: string, passwordFile: string): boolean {
  return openssl(['pkey', '-in', p(file), '-passin', `file:${p(passwordFile)}`, '-noout']).status === 0;
}

/** The public key of a certificate and of a private key, as OpenSSL prints them. */
function samePublicKey(cert: string, key: string, passwordFile: string): boolean {
  const a = opensslOk(['x509', '-in', p(cert), '-noout', '-pubkey']);
  const b = opensslOk(['pkey', '-in', p(key), '-passin', `file:${p(passwordFile)}`, '-pubout']);
  return a === b;
}

function mode(file: string): number {
  return statSync(p(file)).mode & 0o777;
}

// The CA most tests look at, made once.
const first = ok(run(['ca', 'init', '--name', 'Example Corp', ...PW, '--root-key-out', 'root.key', '--json']));
const created = JSON.parse(first.stdout) as CaInitResult;
const CA = '.signet/ca';

test('init creates the documented layout: certificates, 0600 encrypted keys, config, database; the root key only where asked', () => {
  assert.equal(created.dir, CA);
  assert.deepEqual(readdirSync(p(CA)).sort(), ['certs', 'db', 'secrets', 'signet.json']);
  assert.deepEqual(readdirSync(p(`${CA}/certs`)).sort(), ['intermediate.crt', 'root.crt']);
  assert.deepEqual(readdirSync(p(`${CA}/secrets`)).sort(), ['intermediate.key', 'provisioner-admin.key']);
  assert.ok(readdirSync(p(`${CA}/db`)).includes('signet.db'));
  assert.equal(readFileSync(p(`${CA}/db/signet.db`)).subarray(0, 16).toString('latin1'), 'SQLite format 3\u0000');
  for (const f of [`${CA}/secrets/intermediate.key`, `${CA}/secrets/provisioner-admin.key`, 'root.key', `${CA}/db/signet.db`]) assert.equal(mode(f), 0o600, f);
  assert.equal(mode(`${CA}/secrets`), 0o700);
  assert.equal(mode(CA) & 0o077, 0, 'the CA directory is private');
  // No temporary directory is left next to the CA.
  assert.deepEqual(readdirSync(p('.signet')), ['ca']);
  assert.deepEqual(created.files, [
    `${CA}/signet.json`, `${CA}/certs/root.crt`, `${CA}/certs/intermediate.crt`, `${CA}/secrets/intermediate.key`,
    `${CA}/secrets/provisioner-admin.key`, `${CA}/db/signet.db`, 'root.key',
  ]);
  assert.equal(created.next, `signet ca start --config ${CA}/signet.json`);
  assert.match(first.stderr, /^warning: root\.key is the root CA's private key: move it to offline storage/m);
});

test('openssl verifies the chain and reads the profiles: root 10 years, intermediate 5 years with pathlen 0', () => {
  const v = openssl(['verify', '-CAfile', p(`${CA}/certs/root.crt`), p(`${CA}/certs/intermediate.crt`)]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  const rootText = opensslOk(['x509', '-in', p(`${CA}/certs/root.crt`), '-noout', '-text', '-nameopt', 'RFC2253']);
  assert.match(rootText, /Subject: CN=Example Corp Root CA,O=Example Corp/);
  assert.match(rootText, /CA:TRUE\s*\n/);
  const intText = opensslOk(['x509', '-in', p(`${CA}/certs/intermediate.crt`), '-noout', '-text', '-nameopt', 'RFC2253']);
  assert.match(intText, /Subject: CN=Example Corp Intermediate CA,O=Example Corp/);
  assert.match(intText, /Issuer: CN=Example Corp Root CA,O=Example Corp/);
  assert.match(intText, /CA:TRUE, pathlen:0/);
  assert.match(intText, /Certificate Sign, CRL Sign/);
  const years = (c: { notBefore: string; notAfter: string }): number => (Date.parse(c.notAfter) - Date.parse(c.notBefore)) / (365 * 86_400_000);
  assert.ok(Math.abs(years(created.root) - 10) < 0.01, String(years(created.root)));
  assert.ok(Math.abs(years(created.intermediate) - 5) < 0.01, String(years(created.intermediate)));
  // The printed fingerprint is OpenSSL's SHA-256 fingerprint.
  const fp = opensslOk(['x509', '-in', p(`${CA}/certs/root.crt`), '-noout', '-fingerprint', '-sha256']).trim().split('=')[1]?.replace(/:/g, '').toLowerCase();
  assert.equal(created.root.fingerprint, fp);
});

test('each key opens with its own password only, and belongs to its certificate', () => {
  // samePublicKey decrypts the key with the password: it opens, and it is the certificate's key.
  assert.ok(samePublicKey(`${CA}/certs/root.crt`, 'root.key', 'pw.txt'), 'the root key takes --password-file without --root-password-file');
  assert.ok(samePublicKey(`${CA}/certs/intermediate.crt`, `${CA}/secrets/intermediate.key`, 'pw.txt'));
  assert.ok(!opens(`${CA}/secrets/intermediate.key`, 'wrong.txt'));
  assert.ok(!opens(`${CA}/secrets/provisioner-admin.key`, 'pw.txt'), 'the provisioner key has its own password (opened with it below)');
});

test('the config names the files, references the password file, holds only the provisioner\'s public key, and validates', () => {
  const text = readFileSync(p(`${CA}/signet.json`), 'utf8');
  assert.doesNotMatch(text, /correct horse|provisioner secret|"d"\s*:/, 'no secret in the config');
  const c = loadCaConfig(p(`${CA}/signet.json`));
  assert.equal(c.name, 'Example Corp');
  assert.equal(c.address, '127.0.0.1:9443');
  assert.deepEqual(c.dnsNames, ['localhost', '127.0.0.1']);
  assert.equal(c.root, p(`${CA}/certs/root.crt`));
  assert.equal(c.intermediate.passwordFile, p('pw.txt'));
  assert.deepEqual(c.db, { type: 'sqlite', path: p(`${CA}/db/signet.db`) });
  assert.equal(c.provisioners.length, 1);
  assert.equal(c.provisioners[0]?.name, 'admin');
  assert.equal(jwkProvisioner(c.provisioners[0]).algorithm, 'ES256');
  assert.equal(jwkProvisioner(c.provisioners[0]).kid, created.provisioner?.kid);
  // The provisioner's configured public key is the public half of its key file.
  const pub = opensslOk(['pkey', '-in', p(`${CA}/secrets/provisioner-admin.key`), '-passin', `file:${p('prov-pw.txt')}`, '-pubout']);
  assert.equal(jwkProvisioner(c.provisioners[0]).publicKey.export({ type: 'spki', format: 'pem' }), pub);
  const v = ok(run(['ca', 'config', 'validate', '--config', `${CA}/signet.json`]));
  assert.match(v.stdout, /^ok: \.signet\/ca\/signet\.json is valid/);
});

test('a second init refuses the existing CA (exit 5) and writes nothing, not even the root key', () => {
  const r = run(['ca', 'init', '--name', 'Again', ...PW, '--root-key-out', 'again-root.key']);
  fails(r, 5, 'ERR_CA_EXISTS');
  assert.match(r.stderr, /a CA already exists in \.signet\/ca/);
  assert.equal(existsSync(p('again-root.key')), false);
  // A directory with other files is refused too; an empty one is used.
  mkdirSync(p('busy'));
  writeFileSync(p('busy/notes.txt'), 'x');
  fails(run(['ca', 'init', '--name', 'Busy', '--dir', 'busy', ...PW, '--root-key-out', 'busy-root.key']), 5, 'ERR_CA_EXISTS');
  writeFileSync(p('plainfile'), 'x');
  fails(run(['ca', 'init', '--name', 'File', '--dir', 'plainfile', ...PW, '--root-key-out', 'file-root.key']), 5, 'ERR_CA_EXISTS');
  mkdirSync(p('empty'));
  ok(run(['ca', 'init', '--name', 'Empty', '--dir', 'empty', '--password-file', 'pw.txt', '--root-key-out', 'empty-root.key', '--pki-only']));
  assert.ok(existsSync(p('empty/certs/root.crt')));
});

test('--root/--key put a new intermediate under an existing root; the root key is not copied', () => {
  const r = ok(run(['ca', 'init', '--name', 'Region West', '--dir', 'west', ...PW, '--root', `${CA}/certs/root.crt`, '--key', 'root.key', '--key-password-file', 'pw.txt', '--json']));
  const west = JSON.parse(r.stdout) as CaInitResult;
  assert.equal(west.root.existing, true);
  assert.equal(west.root.fingerprint, created.root.fingerprint);
  assert.doesNotMatch(r.stderr, /move it to offline storage/);
  assert.deepEqual(readFileSync(p('west/certs/root.crt')), readFileSync(p(`${CA}/certs/root.crt`)), 'the same root');
  const v = openssl(['verify', '-CAfile', p(`${CA}/certs/root.crt`), p('west/certs/intermediate.crt')]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(opensslOk(['x509', '-in', p('west/certs/intermediate.crt'), '-noout', '-subject', '-nameopt', 'RFC2253']), /CN=Region West Intermediate CA,O=Region West/);
  assert.ok(!west.files.some((f) => f.endsWith('root.key')));
  ok(run(['ca', 'config', 'validate', '--config', 'west']));
});

test('--root must be a usable root, and --key its key', () => {
  const base = ['ca', 'init', '--name', 'Bad Root', ...PW];
  fails(run([...base, '--dir', 'bad1', '--root', `${CA}/certs/intermediate.crt`, '--key', `${CA}/secrets/intermediate.key`, '--key-password-file', 'pw.txt']), 1, 'ERR_CA_NOT_ROOT');
  fails(run([...base, '--dir', 'bad2', '--root', `${CA}/certs/root.crt`, '--key', `${CA}/secrets/intermediate.key`, '--key-password-file', 'pw.txt']), 4, 'ERR_KEY_MISMATCH');
  fails(run([...base, '--dir', 'bad3', '--root', `${CA}/certs/root.crt`, '--key', 'root.key', '--key-password-file', 'wrong.txt']), 4, 'ERR_KEY_WRONG_PASSWORD');
  fails(run([...base, '--dir', 'bad4', '--root', 'pw.txt', '--key', 'root.key', '--key-password-file', 'pw.txt']), 3, 'ERR_CERT_MALFORMED');
  for (const d of ['bad1', 'bad2', 'bad3', 'bad4']) assert.equal(existsSync(p(d)), false, d);
});

test('--pki-only creates only certificates and keys', () => {
  const r = ok(run(['ca', 'init', '--name', 'Lab', '--dir', 'lab', '--pki-only', '--password-file', 'pw.txt', '--root-password-file', 'root-pw.txt', '--root-key-out', 'lab-root.key', '--key-type', 'ed25519', '--json']));
  const lab = JSON.parse(r.stdout) as CaInitResult;
  assert.equal(lab.config, undefined);
  assert.equal(lab.provisioner, undefined);
  assert.equal(lab.database, undefined);
  assert.deepEqual(readdirSync(p('lab')).sort(), ['certs', 'secrets']);
  assert.deepEqual(readdirSync(p('lab/secrets')), ['intermediate.key']);
  assert.equal(openssl(['verify', '-CAfile', p('lab/certs/root.crt'), p('lab/certs/intermediate.crt')]).status, 0);
  assert.match(opensslOk(['x509', '-in', p('lab/certs/intermediate.crt'), '-noout', '-text']), /ED25519/);
  // --root-password-file encrypts the root key alone.
  assert.ok(opens('lab-root.key', 'root-pw.txt'));
  assert.ok(!opens('lab-root.key', 'pw.txt'));
  assert.ok(opens('lab/secrets/intermediate.key', 'pw.txt'));
  assert.match(lab.next, /signet certificate create .*--ca lab\/certs\/intermediate\.crt/);
});

test('RSA: --key-type rsa makes RSA root and intermediate keys; the provisioner key stays P-256 (ES256 tokens)', () => {
  ok(run(['ca', 'init', '--name', 'RSA Corp', '--dir', 'rsa', ...PW, '--root-key-out', 'rsa-root.key', '--key-type', 'rsa']));
  assert.equal(openssl(['verify', '-CAfile', p('rsa/certs/root.crt'), p('rsa/certs/intermediate.crt')]).status, 0);
  assert.match(opensslOk(['x509', '-in', p('rsa/certs/intermediate.crt'), '-noout', '-text']), /Public-Key: \(2048 bit\)/);
  assert.match(opensslOk(['pkey', '-in', p('rsa/secrets/provisioner-admin.key'), '-passin', `file:${p('prov-pw.txt')}`, '-noout', '-text']), /P-256/);
});

test('--dns, --address and --provisioner go into the config; the address host is a default server name', () => {
  ok(run(['ca', 'init', '--name', 'Named', '--dir', 'named', ...PW, '--root-key-out', 'named-root.key', '--address', 'ca.example.com:8443', '--provisioner', 'ops@example.com']));
  const c = loadCaConfig(p('named/signet.json'));
  assert.deepEqual(c.listen, { host: 'ca.example.com', port: 8443 });
  assert.deepEqual(c.dnsNames, ['localhost', '127.0.0.1', 'ca.example.com']);
  assert.equal(c.provisioners[0]?.name, 'ops@example.com');
  assert.ok(existsSync(p('named/secrets/provisioner-ops@example.com.key')));

  ok(run(['ca', 'init', '--name', 'Dns', '--dir', 'dns', ...PW, '--root-key-out', 'dns-root.key', '--dns', 'ca.internal', '--dns', '10.0.0.5,::1', '--address', ':443']));
  const d = loadCaConfig(p('dns/signet.json'));
  assert.deepEqual(d.dnsNames, ['ca.internal', '10.0.0.5', '::1']);
  assert.deepEqual(d.listen, { host: '', port: 443 });
});

test('--revocation-url: certificates name URL/crl and URL/ocsp; the CA listens at its port (on loopback for localhost, every interface for a DNS name)', () => {
  ok(run(['ca', 'init', '--name', 'Rev', '--dir', 'rev', ...PW, '--root-key-out', 'rev-root.key', '--revocation-url', 'http://localhost:9080']));
  const r = loadCaConfig(p('rev/signet.json'));
  assert.equal(r.crlUrl, 'http://localhost:9080/crl');
  assert.equal(r.ocspUrl, 'http://localhost:9080/ocsp');
  assert.deepEqual(r.revocation.httpListen, { host: '127.0.0.1', port: 9080 });
  ok(run(['ca', 'init', '--name', 'Rev2', '--dir', 'rev2', ...PW, '--root-key-out', 'rev2-root.key', '--revocation-url', 'http://ca.example.com:8080/']));
  const r2 = loadCaConfig(p('rev2/signet.json'));
  assert.equal(r2.crlUrl, 'http://ca.example.com:8080/crl');
  assert.deepEqual(r2.revocation.httpListen, { host: '', port: 8080 });
  for (const bad of ['https://ca.example.com:8443', 'http://ca.example.com', 'http://ca.example.com:8080/revocation', 'http://user:pw@ca.example.com:8080', 'not a url']) {
    fails(run(['ca', 'init', '--name', 'Bad', '--dir', 'rev-bad', ...PW, '--root-key-out', 'rev-bad.key', '--revocation-url', bad]), 2, 'ERR_BAD_OPTION');
  }
  fails(run(['ca', 'init', '--name', 'Bad', '--dir', 'rev-bad', '--password-file', 'pw.txt', '--root-key-out', 'rev-bad.key', '--pki-only', '--revocation-url', 'http://localhost:9080']), 2, 'ERR_USAGE');
  assert.equal(existsSync(p('rev-bad')), false);
});

/** Runs `ca init` in this process (no CLI start-up per case); the SignetError it throws, if any. */
async function initError(flags: CaInitFlags): Promise<SignetError | undefined> {
  try {
    await caInitCommand(flags);
  } catch (e) {
    assert.ok(e instanceof SignetError, String(e));
    return e;
  }
  return undefined;
}

test('usage errors are found before any key is generated, and leave nothing behind', async () => {
  assert.ok(!process.stdin.isTTY, 'no terminal in tests: nothing may prompt');
  const dir = p('u-dir');
  const key = p('u.key');
  const files = { passwordFile: p('pw.txt'), provisionerPasswordFile: p('prov-pw.txt') };
  const ok = { name: 'U', dir, ...files, rootKeyOut: key };
  const cases: [CaInitFlags, string, RegExp][] = [
    [{ ...ok, name: undefined }, 'ERR_USAGE', /--name is required/],
    [{ ...ok, rootKeyOut: undefined }, 'ERR_USAGE', /--root-key-out FILE is required/],
    [{ ...ok, rootKeyOut: undefined, root: p(`${CA}/certs/root.crt`) }, 'ERR_USAGE', /--root and --key must be given together/],
    [{ ...ok, root: p(`${CA}/certs/root.crt`), key: p('root.key') }, 'ERR_USAGE', /--root-key-out writes a new root key/],
    [{ ...ok, rootKeyOut: undefined, root: p(`${CA}/certs/root.crt`), key: p('root.key'), rootPasswordFile: p('pw.txt') }, 'ERR_USAGE', /--root-password-file encrypts a new root key/],
    [{ ...ok, keyPasswordFile: p('pw.txt') }, 'ERR_USAGE', /--key-password-file/],
    [{ ...ok, pkiOnly: true }, 'ERR_USAGE', /--provisioner-password-file configures the CA server/],
    [{ ...ok, provisionerPasswordFile: undefined, pkiOnly: true, dns: ['x.example'] }, 'ERR_USAGE', /--dns configures/],
    [{ ...ok, rootKeyOut: join(dir, 'u.key') }, 'ERR_USAGE', /is inside the CA directory/],
    [{ ...ok, rootKeyOut: '-' }, 'ERR_USAGE', /must name a file/],
    [{ ...ok, rootKeyOut: p('pw.txt') }, 'ERR_USAGE', /is the input --password-file/],
    [{ ...ok, address: 'nowhere' }, 'ERR_BAD_OPTION', /invalid --address "nowhere"/],
    [{ ...ok, dns: ['*.example.com'] }, 'ERR_BAD_NAME', /invalid --dns/],
    [{ ...ok, provisioner: 'a b' }, 'ERR_BAD_OPTION', /invalid --provisioner/],
    [{ ...ok, name: 'U'.repeat(49) }, 'ERR_BAD_OPTION', /at most 48/],
    [{ ...ok, name: ' ' }, 'ERR_BAD_OPTION', /empty/],
    [{ ...ok, name: 'Evil\u202e CA' }, 'ERR_BAD_OPTION', /control or bidirectional/],
    [{ ...ok, keyType: 'dsa' }, 'ERR_KEY_UNSUPPORTED', /dsa/],
    [{ ...ok, keyType: 'rsa', curve: 'P-256' }, 'ERR_BAD_OPTION', /--curve/],
    // passwords: from files, or a terminal; without either, nothing is written
    [{ ...ok, provisionerPasswordFile: undefined }, 'ERR_KEY_PASSWORD_REQUIRED', /no terminal/],
    [{ ...ok, passwordFile: undefined }, 'ERR_KEY_PASSWORD_REQUIRED', /no terminal/],
    [{ ...ok, passwordFile: p('empty-pw.txt') }, 'ERR_PASSWORD_EMPTY', /empty/],
    [{ ...ok, passwordFile: p('missing.txt') }, 'ERR_FILE_NOT_FOUND', /missing\.txt/],
  ];
  writeFileSync(p('empty-pw.txt'), '\n');
  for (const [flags, code, message] of cases) {
    const e = await initError(flags);
    assert.equal(e?.code, code, `${JSON.stringify(flags)}: ${e?.message ?? 'no error'}`);
    assert.match(e?.message ?? '', message);
    assert.equal(existsSync(dir), false, JSON.stringify(flags));
    assert.equal(existsSync(key), false, JSON.stringify(flags));
  }
  assert.match((await initError({ ...ok, provisionerPasswordFile: undefined }))?.hint ?? '', /pass --provisioner-password-file FILE/);
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.startsWith('.u-dir')), [], 'no temporary directory left');
});

test('on the command line, usage errors exit 2 and missing passwords exit 4, one error line each', () => {
  fails(run(['ca', 'init', '--root-key-out', 'u.key', ...PW]), 2, 'ERR_USAGE');
  fails(run(['ca', 'init', '--name', 'U', '--dir', 'u-dir', '--password-file', 'pw.txt', '--root-key-out', 'u.key']), 4, 'ERR_KEY_PASSWORD_REQUIRED');
  fails(run(['ca', 'init', '--name', 'U', '--dir', 'u-dir', ...PW, '--root-key-out', 'u.key', '--curve', 'P-999']), 2, 'ERR_BAD_OPTION');
  assert.equal(existsSync(p('u-dir')), false);
  assert.equal(existsSync(p('u.key')), false);
});

test('an existing --root-key-out is never replaced (exit 5), and no CA is created', () => {
  writeFileSync(p('precious.key'), 'do not overwrite');
  fails(run(['ca', 'init', '--name', 'Overwrite', '--dir', 'overwrite', ...PW, '--root-key-out', 'precious.key']), 5, 'ERR_FILE_EXISTS');
  assert.equal(readFileSync(p('precious.key'), 'utf8'), 'do not overwrite');
  assert.equal(existsSync(p('overwrite')), false);
});

test('the text summary lists the files, the root fingerprint and the next command', () => {
  const r = ok(run(['ca', 'init', '--name', 'Text Corp', '--dir', 'text', ...PW, '--root-key-out', 'text-root.key']));
  assert.match(r.stdout, /^created CA "Text Corp" in text\n/);
  assert.match(r.stdout, /\n {2}config {20}text\/signet\.json\n/);
  assert.match(r.stdout, /\n {2}root key {18}text-root\.key \(encrypted; move it offline\)\n/);
  assert.match(r.stdout, /\nroot fingerprint \(sha256\): [0-9a-f]{64}\n/);
  assert.match(r.stdout, /the CA reads the intermediate key's password from \/.*pw\.txt\n/);
  assert.match(r.stdout, /\nnext: signet ca start --config text\/signet\.json\n$/);
});

test('on a terminal, init asks for what is missing: the name, where the root key goes, and the passwords (without echo)', async () => {
  const r = await interact(
    ['ca', 'init', '--dir', 'tty'],
    [
    { waitFor: /name of the new CA/, send: 'Typed Corp\r' },
    { waitFor: /where to write the root key/, send: 'tty-root.key\r' },
    { waitFor: /password for the CA keys \(root and intermediate\): $/, send: 'typed ca secret\r' },
    { waitFor: /confirm password: $/, send: 'typed ca secret\r' },
    { waitFor: /password for the provisioner key \(admin\): $/, send: 'typed prov secret\r' },
    { waitFor: /password for the provisioner key \(admin\): \r?\nconfirm password: $/, send: 'typed prov secret\r' },
    ],
    { cwd: tmp.dir },
  );
  assert.equal(r.status, 0, r.out);
  assert.doesNotMatch(r.out, /typed ca secret|typed prov secret/, 'passwords are not echoed');
  assert.match(r.out, /created CA "Typed Corp" in tty/);
  assert.match(r.out, /`signet ca start` asks for it/, 'a typed password is not stored');
  writeFileSync(p('typed-ca.txt'), 'typed ca secret\n');
  writeFileSync(p('typed-prov.txt'), 'typed prov secret\n');
  assert.ok(opens('tty/secrets/intermediate.key', 'typed-ca.txt'));
  assert.ok(opens('tty-root.key', 'typed-ca.txt'));
  assert.ok(opens('tty/secrets/provisioner-admin.key', 'typed-prov.txt'));
  assert.equal(loadCaConfig(p('tty/signet.json')).intermediate.passwordFile, undefined);
});
