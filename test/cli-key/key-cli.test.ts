/**
 * `signet key create|inspect|public` end to end: files OpenSSL accepts, 0600 private keys, no
 * overwrite without --force, nothing partial left behind, exact exit codes, one-line errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { decodePem } from '../../src/core/pem.js';
import { signet, type CliResult } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const PASSWORD = 'cli test password';
const tmp = tempDir();
const p = tmp.path;
const pw = p('pw.txt');

/** Asserts the documented failure shape: exit code, the code on stderr, one error line + hint, no stack. */
function assertFails(r: CliResult, exit: number, code: string): void {
  assert.equal(r.status, exit, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, new RegExp(`^error: [^\\n]*\\(${code}\\)\\n(hint: [^\\n]*\\n)?$`), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** OpenSSL's DER SPKI for a key file (private or public). */
function opensslSpki(path: string, passin = true): Uint8Array {
  const args = ['pkey', '-in', path, '-pubout'];
  if (passin) args.push('-passin', `file:${pw}`);
  return decodePem(opensslOk(args)).der;
}

before(() => {
  writeFileSync(pw, PASSWORD + '\n');
  writeFileSync(p('empty-pw.txt'), '\n');
  writeFileSync(p('empty.key'), '');
  writeFileSync(p('garbage.key'), 'this is not a key\n');
  opensslOk(['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p('pss.pem')]);
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', p('k1.pem')]);
});
after(() => tmp.cleanup());

describe('signet key create', () => {
  const created: Array<{ args: string[]; file: string; algorithm: string; encrypted: boolean }> = [
    { args: [], file: 'p256.key', algorithm: 'EC P-256', encrypted: true },
    { args: ['--curve', 'P-384'], file: 'p384.key', algorithm: 'EC P-384', encrypted: true },
    { args: ['--type', 'EC', '--curve', 'p521', '--no-password'], file: 'p521.key', algorithm: 'EC P-521', encrypted: false },
    { args: ['--type', 'ed25519'], file: 'ed.key', algorithm: 'Ed25519', encrypted: true },
    { args: ['--type', 'rsa', '--no-password'], file: 'rsa2048.key', algorithm: 'RSA 2048', encrypted: false },
    { args: ['--type', 'RSA', '--size', '4096'], file: 'rsa4096.key', algorithm: 'RSA 4096', encrypted: true },
  ];
  for (const c of created) {
    test(`${c.algorithm}${c.encrypted ? ' (encrypted)' : ''}: openssl reads it, 0600, --json describes it`, () => {
      const file = p(c.file);
      const pub = p(`${c.file}.pub`);
      const pwArgs = c.encrypted ? ['--password-file', pw] : [];
      const r = signet(['key', 'create', file, ...c.args, ...pwArgs, '--public-out', pub, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { path: string; encrypted: boolean; publicPath: string; key: { algorithm: string; private: boolean; spkiSha256: { hex: string } } };
      assert.equal(out.path, file);
      assert.equal(out.publicPath, pub);
      assert.equal(out.encrypted, c.encrypted);
      assert.equal(out.key.algorithm, c.algorithm);
      assert.equal(mode(file), 0o600);
      assert.equal(mode(pub), 0o644);
      const text = readFileSync(file, 'utf8');
      assert.match(text, c.encrypted ? /^-----BEGIN ENCRYPTED PRIVATE KEY-----/ : /^-----BEGIN PRIVATE KEY-----/);
      const firstBodyLine = text.split('\n')[1] ?? '';
      assert.ok(firstBodyLine.length > 0 && !r.stdout.includes(firstBodyLine), 'no key material on stdout');
      const spki = opensslSpki(file, c.encrypted);
      assert.deepEqual(decodePem(readFileSync(pub, 'utf8')).der, spki);
      assert.equal(out.key.spkiSha256.hex, createHash('sha256').update(spki).digest('hex'));
      if (c.encrypted) {
        // Encrypted for real: OpenSSL needs the password.
        assert.notEqual(openssl(['pkey', '-in', file, '-passin', 'pass:wrong', '-noout']).status, 0);
      }
    });
  }

  test('human output names the file, encryption and fingerprints', () => {
    const r = signet(['key', 'create', p('human.key'), '--password-file', pw]);
    assert.equal(r.status, 0, r.stderr);
    // Aligned `label: value` rows like key inspect, one fact per row (no nested parentheses).
    assert.match(r.stdout, /^private key: +.*human\.key$/m);
    assert.match(r.stdout, /^key: +EC P-256$/m);
    assert.match(r.stdout, /^encryption: +PBES2 \(PBKDF2-hmacWithSHA256, 600000 iterations, aes-256-cbc\)$/m);
    assert.match(r.stdout, /^spki sha256: +[0-9a-f]{64}$/m);
    assert.match(r.stdout, /^jwk thumbprint: +[A-Za-z0-9_-]{43}$/m);
    const columns = new Set(r.stdout.trim().split('\n').map((l) => /^[^:]*: +/.exec(l)?.[0].length));
    assert.equal(columns.size, 1, `values start in one column, padded for the labels shown:\n${r.stdout}`);
    assert.equal([...columns][0], 'jwk thumbprint: '.length, r.stdout);
  });

  test('jwk format: private and public jwk with kid, readable by node, same key as openssl sees', () => {
    const r = signet(['key', 'create', p('k.jwk'), '--format', 'jwk', '--no-password', '--public-out', p('k.pub.jwk'), '--curve', 'P-384']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(mode(p('k.jwk')), 0o600);
    const priv = JSON.parse(readFileSync(p('k.jwk'), 'utf8')) as { kid: string; crv: string; d?: string };
    const pub = JSON.parse(readFileSync(p('k.pub.jwk'), 'utf8')) as { kid: string; d?: string };
    assert.equal(priv.crv, 'P-384');
    assert.equal(typeof priv.d, 'string');
    assert.equal(pub.d, undefined);
    assert.equal(pub.kid, priv.kid);
    const spki = createPublicKey(createPrivateKey({ key: priv, format: 'jwk' })).export({ format: 'der', type: 'spki' });
    // The public key signet derives as PEM is read by openssl and equals the jwk's.
    const pemOut = signet(['key', 'public', p('k.jwk')]);
    assert.equal(pemOut.status, 0, pemOut.stderr);
    writeFileSync(p('k.jwk.pub.pem'), pemOut.stdout);
    assert.deepEqual(decodePem(opensslOk(['pkey', '-pubin', '-in', p('k.jwk.pub.pem'), '-pubout'])).der, new Uint8Array(spki));
  });

  test('FILE - writes the private key to stdout, which openssl reads', () => {
    const r = signet(['key', 'create', '-', '--no-password', '--type', 'ed25519']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(opensslOk(['pkey', '-noout', '-text'], r.stdout), /ED25519 Private-Key/);
  });

  test('without a terminal, a password file or --no-password: ERR_KEY_PASSWORD_REQUIRED, nothing written', () => {
    const r = signet(['key', 'create', p('nopw.key')]);
    assertFails(r, 4, 'ERR_KEY_PASSWORD_REQUIRED');
    assert.match(r.stderr, /--no-password/);
    assert.equal(existsSync(p('nopw.key')), false);
  });

  test('refuses to overwrite (exit 5, original unchanged), replaces with --force', () => {
    const file = p('keep.key');
    writeFileSync(file, 'original contents\n', { mode: 0o600 });
    const r = signet(['key', 'create', file, '--no-password']);
    assertFails(r, 5, 'ERR_FILE_EXISTS');
    assert.equal(readFileSync(file, 'utf8'), 'original contents\n');
    // An existing --public-out is refused too, before the private key is written.
    writeFileSync(p('keep.pub'), 'public original\n');
    const r2 = signet(['key', 'create', p('fresh.key'), '--no-password', '--public-out', p('keep.pub')]);
    assertFails(r2, 5, 'ERR_FILE_EXISTS');
    assert.equal(existsSync(p('fresh.key')), false);
    assert.equal(readFileSync(p('keep.pub'), 'utf8'), 'public original\n');
    const forced = signet(['key', 'create', file, '--no-password', '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(mode(file), 0o600);
  });

  test('no partial files when a later step fails', () => {
    const dir = tempDir();
    try {
      // The public key cannot be written (missing directory): the private key is removed again.
      const r = signet(['key', 'create', dir.path('a.key'), '--no-password', '--public-out', dir.path('missing/a.pub')]);
      assertFails(r, 5, 'ERR_FILE_NOT_FOUND');
      // Password file problems are found before anything is generated.
      assertFails(signet(['key', 'create', dir.path('b.key'), '--password-file', dir.path('nope.txt')]), 5, 'ERR_FILE_NOT_FOUND');
      assertFails(signet(['key', 'create', dir.path('c.key'), '--password-file', p('empty-pw.txt')]), 4, 'ERR_PASSWORD_EMPTY');
      assert.deepEqual(readdirSync(dir.dir), [], 'no key and no temp file left behind');
    } finally {
      dir.cleanup();
    }
  });

  test('--force never loses the existing key when the public key cannot be written', () => {
    const dir = tempDir();
    try {
      writeFileSync(dir.path('precious.key'), 'the only copy\n', { mode: 0o600 });
      const r = signet(['key', 'create', dir.path('precious.key'), '--no-password', '--force', '--public-out', dir.path('missing/p.pub')]);
      assertFails(r, 5, 'ERR_FILE_NOT_FOUND');
      assert.equal(readFileSync(dir.path('precious.key'), 'utf8'), 'the only copy\n');
      assert.deepEqual(readdirSync(dir.dir), ['precious.key'], 'no temp file left behind');
    } finally {
      dir.cleanup();
    }
  });

  test('FILE and --public-out naming one file is ERR_USAGE, with or without --force, whatever the spelling', () => {
    const dir = tempDir();
    try {
      for (const force of [[], ['--force']]) {
        const r = signet(['key', 'create', 's.key', '--no-password', '--public-out', './s.key', ...force], { cwd: dir.dir });
        assertFails(r, 2, 'ERR_USAGE');
        assert.doesNotMatch(r.stderr, /already exists/);
        assert.deepEqual(readdirSync(dir.dir), [], 'nothing written');
      }
      // an existing key and its public key spelled through another path: the key is kept
      writeFileSync(dir.path('k.key'), 'private\n');
      assertFails(signet(['key', 'create', dir.path('k.key'), '--no-password', '--force', '--public-out', `${dir.dir}/../${dir.dir.split('/').pop() ?? ''}/k.key`]), 2, 'ERR_USAGE');
      assert.equal(readFileSync(dir.path('k.key'), 'utf8'), 'private\n');
      // key public --out onto the key it reads
      const made = signet(['key', 'create', dir.path('src.key'), '--no-password']);
      assert.equal(made.status, 0, made.stderr);
      const before = readFileSync(dir.path('src.key'), 'utf8');
      assertFails(signet(['key', 'public', dir.path('src.key'), '--out', `${dir.dir}/./src.key`, '--force']), 2, 'ERR_USAGE');
      assert.equal(readFileSync(dir.path('src.key'), 'utf8'), before);
    } finally {
      dir.cleanup();
    }
  });

  test('a 0-byte password file is ERR_PASSWORD_EMPTY (exit 4), like an empty first line', () => {
    writeFileSync(p('zero-pw.txt'), '');
    assertFails(signet(['key', 'create', p('zero.key'), '--password-file', p('zero-pw.txt')]), 4, 'ERR_PASSWORD_EMPTY');
    assertFails(signet(['key', 'inspect', p('p256.key'), '--password-file', p('zero-pw.txt')]), 4, 'ERR_PASSWORD_EMPTY');
    assert.equal(existsSync(p('zero.key')), false);
  });

  test('key type flags: a full --type with --size conflicts; a refused --curve is an unsupported curve', () => {
    const conflict = signet(['key', 'create', p('conflict.key'), '--type', 'rsa:3072', '--size', '3072', '--no-password']);
    assertFails(conflict, 2, 'ERR_BAD_OPTION');
    assert.match(conflict.stderr, /^error: [^\n]*--type rsa:3072[^\n]*--size 3072[^\n]*conflict/);
    const curve = signet(['key', 'create', p('k1.key'), '--curve', 'secp256k1', '--no-password']);
    assertFails(curve, 4, 'ERR_KEY_UNSUPPORTED');
    assert.match(curve.stderr, /^error: unsupported curve secp256k1/);
    assert.equal(existsSync(p('conflict.key')) || existsSync(p('k1.key')), false);
  });

  test('option errors have exact codes and exits', () => {
    const f = p('never.key');
    assertFails(signet(['key', 'create', f, '--type', 'rsa', '--size', '1024', '--no-password']), 4, 'ERR_KEY_WEAK');
    assertFails(signet(['key', 'create', f, '--type', 'dsa', '--no-password']), 4, 'ERR_KEY_UNSUPPORTED');
    assertFails(signet(['key', 'create', f, '--curve', 'secp256k1', '--no-password']), 4, 'ERR_KEY_UNSUPPORTED');
    assertFails(signet(['key', 'create', f, '--type', 'rsa', '--curve', 'P-256', '--no-password']), 2, 'ERR_BAD_OPTION');
    assertFails(signet(['key', 'create', f, '--type', 'potato', '--no-password']), 2, 'ERR_BAD_OPTION');
    assertFails(signet(['key', 'create', f, '--format', 'der', '--no-password']), 2, 'ERR_BAD_OPTION');
    assertFails(signet(['key', 'create', f, '--format', 'jwk', '--password-file', pw]), 2, 'ERR_USAGE');
    assertFails(signet(['key', 'create', f, '--no-password', '--password-file', pw]), 2, 'ERR_USAGE');
    const both = signet(['key', 'create', '-', '--no-password', '--public-out', '-']);
    assertFails(both, 2, 'ERR_USAGE');
    assert.equal(both.stdout, '');
    assert.equal(existsSync(f), false);
    // --json errors are json on stderr.
    const j = signet(['key', 'create', f, '--type', 'potato', '--json']);
    assert.equal(j.status, 2);
    assert.equal((JSON.parse(j.stderr) as { error: { code: string } }).error.code, 'ERR_BAD_OPTION');
    const stdoutClash = signet(['key', 'create', '-', '--no-password', '--json']);
    assert.equal(stdoutClash.status, 2);
    assert.equal((JSON.parse(stdoutClash.stderr) as { error: { code: string } }).error.code, 'ERR_USAGE');
    assert.equal(stdoutClash.stdout, '');
  });

  test('the password is never taken from argv', () => {
    const r = signet(['key', 'create', p('argv.key'), '--password', 'secret']);
    assert.equal(r.status, 2);
    assert.equal(existsSync(p('argv.key')), false);
  });
});

describe('signet key inspect', () => {
  before(() => {
    const r = signet(['key', 'create', p('inspect.key'), '--password-file', pw, '--public-out', p('inspect.pub')]);
    assert.equal(r.status, 0, r.stderr);
  });

  test('an encrypted key without password: container and pbes2 parameters, exit 0', () => {
    const r = signet(['key', 'inspect', p('inspect.key'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { container: string; encrypted: boolean; encryption: { kdf: string; iterations: number; cipher: string }; key?: unknown };
    assert.equal(out.container, 'encrypted-pkcs8');
    assert.equal(out.encrypted, true);
    assert.deepEqual([out.encryption.kdf, out.encryption.iterations, out.encryption.cipher], ['PBKDF2', 600000, 'aes-256-cbc']);
    assert.equal(out.key, undefined);
    const h = signet(['key', 'inspect', p('inspect.key')]);
    assert.match(h.stdout, /^encryption: +PBES2 \(PBKDF2-hmacWithSHA256, 600000 iterations, aes-256-cbc\)$/m);
    assert.match(h.stdout, /--password-file/);
  });

  test('with the password: type and fingerprints matching openssl; never private material', () => {
    const r = signet(['key', 'inspect', p('inspect.key'), '--password-file', pw, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { key: { algorithm: string; private: boolean; spkiSha256: { hex: string } } };
    assert.equal(out.key.algorithm, 'EC P-256');
    assert.equal(out.key.private, true);
    assert.equal(out.key.spkiSha256.hex, createHash('sha256').update(opensslSpki(p('inspect.key'))).digest('hex'));
    const pub = signet(['key', 'inspect', p('inspect.pub'), '--json']);
    assert.equal((JSON.parse(pub.stdout) as { key: { spkiSha256: { hex: string }; private: boolean } }).key.spkiSha256.hex, out.key.spkiSha256.hex);
  });

  test('plaintext private keys: the private scalar appears nowhere in the output', () => {
    const r = signet(['key', 'create', p('plain.jwk'), '--format', 'jwk', '--no-password']);
    assert.equal(r.status, 0, r.stderr);
    const d = (JSON.parse(readFileSync(p('plain.jwk'), 'utf8')) as { d: string }).d;
    for (const args of [['--json'], []]) {
      const out = signet(['key', 'inspect', p('plain.jwk'), ...args]);
      assert.equal(out.status, 0, out.stderr);
      assert.ok(!out.stdout.includes(d) && !out.stderr.includes(d));
      assert.match(out.stdout, /EC P-256/);
    }
    // a jwk is its own encoding and container: said once
    assert.match(signet(['key', 'inspect', p('plain.jwk')]).stdout, /^format: +JWK$/m);
  });

  test('openssl rsa-pss key from stdin', () => {
    const r = signet(['key', 'inspect', '-'], { input: readFileSync(p('pss.pem'), 'utf8') });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^key: +RSA-PSS 2048 private key$/m);
    assert.match(r.stdout, /^signature: +rsassaPss$/m);
  });

  test('errors: exact codes and exits', () => {
    assertFails(signet(['key', 'inspect', p('inspect.key'), '--password-file', p('garbage.key')]), 4, 'ERR_KEY_WRONG_PASSWORD');
    assertFails(signet(['key', 'inspect', p('garbage.key')]), 4, 'ERR_KEY_MALFORMED');
    assertFails(signet(['key', 'inspect', p('empty.key')]), 3, 'ERR_INPUT_EMPTY');
    assertFails(signet(['key', 'inspect', p('does-not-exist.key')]), 5, 'ERR_FILE_NOT_FOUND');
    assertFails(signet(['key', 'inspect', p('k1.pem')]), 4, 'ERR_KEY_UNSUPPORTED');
    const truncated = readFileSync(p('inspect.pub'), 'utf8').slice(0, 60);
    assertFails(signet(['key', 'inspect', '-'], { input: truncated }), 4, 'ERR_KEY_MALFORMED');
  });
});

describe('signet key public', () => {
  before(() => {
    const r = signet(['key', 'create', p('pub-src.key'), '--password-file', pw, '--type', 'ed25519']);
    assert.equal(r.status, 0, r.stderr);
  });

  test('prints the spki pem openssl derives', () => {
    const r = signet(['key', 'public', p('pub-src.key'), '--password-file', pw]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(decodePem(r.stdout).der, opensslSpki(p('pub-src.key')));
  });

  test('--out writes a 0644 file and refuses to overwrite it', () => {
    const out = p('pub-out.pem');
    assert.equal(signet(['key', 'public', p('pub-src.key'), '--password-file', pw, '--out', out]).status, 0);
    assert.equal(mode(out), 0o644);
    assert.deepEqual(decodePem(readFileSync(out, 'utf8')).der, opensslSpki(p('pub-src.key')));
    const before = readFileSync(out, 'utf8');
    assertFails(signet(['key', 'public', p('pub-src.key'), '--password-file', pw, '--out', out]), 5, 'ERR_FILE_EXISTS');
    assert.equal(readFileSync(out, 'utf8'), before);
  });

  test('--format jwk: a public jwk node reads as the same key', () => {
    const r = signet(['key', 'public', p('pub-src.key'), '--password-file', pw, '--format', 'jwk']);
    assert.equal(r.status, 0, r.stderr);
    const jwk = JSON.parse(r.stdout) as { kty: string; crv: string; d?: string; kid: string };
    assert.deepEqual([jwk.kty, jwk.crv, jwk.d], ['OKP', 'Ed25519', undefined]);
    const der = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
    assert.deepEqual(new Uint8Array(der), opensslSpki(p('pub-src.key')));
  });

  test('a public key passes through; an encrypted key without password fails', () => {
    writeFileSync(p('pss.pub'), opensslOk(['pkey', '-in', p('pss.pem'), '-pubout']));
    const r = signet(['key', 'public', p('pss.pub')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(p('pss.pub'), 'utf8'));
    assertFails(signet(['key', 'public', p('pub-src.key')]), 4, 'ERR_KEY_PASSWORD_REQUIRED');
    assertFails(signet(['key', 'public', p('pub-src.key'), '--password-file', p('garbage.key')]), 4, 'ERR_KEY_WRONG_PASSWORD');
    assertFails(signet(['key', 'public', p('pss.pem'), '--format', 'jwk']), 4, 'ERR_KEY_UNSUPPORTED');
  });
});

describe('stdin is read at most once', () => {
  test('key public and key inspect: FILE - with --password-file - is ERR_USAGE, with or without --out', () => {
    const key = readFileSync(p('pub-src.key'), 'utf8');
    for (const args of [
      ['key', 'public', '-', '--password-file', '-'],
      ['key', 'public', '-', '--password-file', '-', '--out', p('never.pub')],
      ['key', 'inspect', '-', '--password-file', '-'],
    ]) {
      const r = signet(args, { input: `${PASSWORD}\n${key}` });
      assertFails(r, 2, 'ERR_USAGE');
      assert.match(r.stderr, /only one input can come from stdin/);
      assert.equal(r.stdout, '');
    }
    assert.equal(existsSync(p('never.pub')), false);
    // One of them from stdin is fine.
    assert.equal(signet(['key', 'public', '-', '--password-file', pw], { input: key }).status, 0);
    assert.equal(signet(['key', 'inspect', p('pub-src.key'), '--password-file', '-'], { input: PASSWORD + '\n' }).status, 0);
  });
});

describe('help', () => {
  for (const cmd of [['key'], ['key', 'create'], ['key', 'inspect'], ['key', 'public']]) {
    test(`signet ${cmd.join(' ')} --help has examples`, () => {
      const r = signet([...cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Examples:\n\s+\$ signet key /);
    });
  }
});
