/**
 * Keys made by OpenSSL at test time are read and described as OpenSSL sees them; bad, truncated,
 * unsupported and wrongly-encrypted input gives the specific error code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { createSoftwareSigner, describeKey, exportJwk, parsePrivateKey, parsePublicKey, peekKey, type KeyFileInfo } from '../../src/crypto/index.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const PASSWORD = 'openssl-made password';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isSignetError(e) ? e.code : `non-signet error: ${String(e)}`;
  }
  return 'no error';
}

const tmp = tempDir();
const pw = tmp.path('pw');
const file = (name: string): string => tmp.path(name);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(file(name)));
const spki = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ format: 'der', type: 'spki' });
/** OpenSSL's own view of a key's public half, as DER SPKI. */
function opensslSpki(name: string, extra: string[] = []): Uint8Array {
  return decodePem(opensslOk(['pkey', '-in', file(name), ...extra, '-pubout'])).der;
}

before(() => {
  writeFileSync(pw, PASSWORD + '\n');
  const gen = (out: string, args: string[]): void => void opensslOk([...args, '-out', file(out)]);
  gen('p256.pem', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  gen('p384.pem', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']);
  gen('p521.pem', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']);
  gen('ed25519.pem', ['genpkey', '-algorithm', 'ed25519']);
  gen('rsa.pem', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']);
  gen('rsa-pss.pem', ['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048']);
  gen('rsa-pss-restricted.pem', [
    'genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048',
    '-pkeyopt', 'rsa_pss_keygen_md:sha384', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha384', '-pkeyopt', 'rsa_pss_keygen_saltlen:48',
  ]);
  gen('rsa1024.pem', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
  // Encrypted PKCS#8 as users make it.
  gen('p256.enc.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('p256.pem'), '-passout', `file:${pw}`]);
  gen('ed25519.enc.pem', ['pkcs8', '-topk8', '-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA512', '-in', file('ed25519.pem'), '-passout', `file:${pw}`]);
  gen('rsa.scrypt.pem', ['pkcs8', '-topk8', '-scrypt', '-in', file('rsa.pem'), '-passout', `file:${pw}`]);
  gen('p384.enc.der', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('p384.pem'), '-passout', `file:${pw}`, '-outform', 'DER']);
  gen('rsa-pss.enc.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('rsa-pss.pem'), '-passout', `file:${pw}`]);
  // Legacy unencrypted containers.
  gen('p256.sec1.pem', ['ec', '-in', file('p256.pem')]);
  gen('rsa.pkcs1.pem', ['rsa', '-in', file('rsa.pem'), '-traditional']);
  writeFileSync(file('p384.ecparam.pem'), opensslOk(['ecparam', '-name', 'secp384r1', '-genkey']));
  // DER forms.
  gen('p521.der', ['pkcs8', '-topk8', '-nocrypt', '-in', file('p521.pem'), '-outform', 'DER']);
  gen('p256.sec1.der', ['ec', '-in', file('p256.pem'), '-outform', 'DER']);
  gen('p256b.sec1.der', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-outform', 'DER']);
  gen('rsa.pkcs1.der', ['rsa', '-in', file('rsa.pem'), '-traditional', '-outform', 'DER']);
  // Public keys.
  gen('p256.pub.pem', ['pkey', '-in', file('p256.pem'), '-pubout']);
  gen('ed25519.pub.der', ['pkey', '-in', file('ed25519.pem'), '-pubout', '-outform', 'DER']);
  gen('rsa.pkcs1pub.pem', ['rsa', '-in', file('rsa.pem'), '-RSAPublicKey_out']);
  gen('rsa-pss.pub.pem', ['pkey', '-in', file('rsa-pss.pem'), '-pubout']);
  // Unsupported.
  gen('k1.pem', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1']);
  gen('k1.pub.pem', ['pkey', '-in', file('k1.pem'), '-pubout']);
  gen('k1.sec1.pem', ['ec', '-in', file('k1.pem')]);
  gen('k1.enc.pem', ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('k1.pem'), '-passout', `file:${pw}`]);
  gen('ed448.pem', ['genpkey', '-algorithm', 'ed448']);
  gen('x25519.pem', ['genpkey', '-algorithm', 'x25519']);
  gen('dsa-params.pem', ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024']);
  gen('dsa.pem', ['genpkey', '-paramfile', file('dsa-params.pem')]);
  gen('dsa.legacy.pem', ['dsa', '-in', file('dsa.pem')]);
  gen('explicit.pem', ['ec', '-in', file('p256.pem'), '-param_enc', 'explicit']);
  gen('legacy-enc.pem', ['ec', '-in', file('p256.pem'), '-aes256', '-passout', `file:${pw}`]);
  gen('pbes1.pem', ['pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-in', file('p256.pem'), '-passout', `file:${pw}`]);
  gen('cert.pem', ['req', '-x509', '-key', file('p256.pem'), '-subj', '/CN=not a key', '-days', '1']);
});
after(() => tmp.cleanup());

describe('private keys generated by openssl are read and described', () => {
  const cases: Array<{ name: string; source: string; algorithm: string; bits: number; password?: boolean; info: Partial<KeyFileInfo> }> = [
    { name: 'p256.pem', source: 'p256.pem', algorithm: 'EC P-256', bits: 256, info: { encoding: 'pem', container: 'pkcs8' } },
    { name: 'p384.pem', source: 'p384.pem', algorithm: 'EC P-384', bits: 384, info: { container: 'pkcs8' } },
    { name: 'p521.pem', source: 'p521.pem', algorithm: 'EC P-521', bits: 521, info: { container: 'pkcs8' } },
    { name: 'ed25519.pem', source: 'ed25519.pem', algorithm: 'Ed25519', bits: 256, info: { container: 'pkcs8' } },
    { name: 'rsa.pem', source: 'rsa.pem', algorithm: 'RSA 2048', bits: 2048, info: { container: 'pkcs8' } },
    { name: 'rsa-pss.pem', source: 'rsa-pss.pem', algorithm: 'RSA-PSS 2048', bits: 2048, info: { container: 'pkcs8' } },
    { name: 'rsa-pss-restricted.pem', source: 'rsa-pss-restricted.pem', algorithm: 'RSA-PSS 2048', bits: 2048, info: { container: 'pkcs8' } },
    { name: 'p256.enc.pem', source: 'p256.pem', algorithm: 'EC P-256', bits: 256, password: true, info: { container: 'encrypted-pkcs8', encrypted: true } },
    { name: 'ed25519.enc.pem', source: 'ed25519.pem', algorithm: 'Ed25519', bits: 256, password: true, info: { container: 'encrypted-pkcs8' } },
    { name: 'rsa.scrypt.pem', source: 'rsa.pem', algorithm: 'RSA 2048', bits: 2048, password: true, info: { container: 'encrypted-pkcs8' } },
    { name: 'p384.enc.der', source: 'p384.pem', algorithm: 'EC P-384', bits: 384, password: true, info: { encoding: 'der', container: 'encrypted-pkcs8' } },
    { name: 'rsa-pss.enc.pem', source: 'rsa-pss.pem', algorithm: 'RSA-PSS 2048', bits: 2048, password: true, info: { container: 'encrypted-pkcs8' } },
    { name: 'p256.sec1.pem', source: 'p256.pem', algorithm: 'EC P-256', bits: 256, info: { container: 'sec1', pemLabel: 'EC PRIVATE KEY' } },
    { name: 'p384.ecparam.pem', source: 'p384.ecparam.pem', algorithm: 'EC P-384', bits: 384, info: { container: 'sec1' } },
    { name: 'rsa.pkcs1.pem', source: 'rsa.pem', algorithm: 'RSA 2048', bits: 2048, info: { container: 'pkcs1', pemLabel: 'RSA PRIVATE KEY' } },
    { name: 'p521.der', source: 'p521.pem', algorithm: 'EC P-521', bits: 521, info: { encoding: 'der', container: 'pkcs8' } },
    { name: 'p256.sec1.der', source: 'p256.pem', algorithm: 'EC P-256', bits: 256, info: { encoding: 'der', container: 'sec1' } },
    { name: 'rsa.pkcs1.der', source: 'rsa.pem', algorithm: 'RSA 2048', bits: 2048, info: { encoding: 'der', container: 'pkcs1' } },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.algorithm}`, () => {
      const data = read(c.name);
      const info = peekKey(data);
      for (const [k, v] of Object.entries(c.info)) assert.deepEqual(info[k as keyof KeyFileInfo], v, k);
      assert.equal(info.private, true);
      const key = parsePrivateKey(data, c.password ? PASSWORD : undefined);
      const d = describeKey(key);
      assert.equal(d.algorithm, c.algorithm);
      assert.equal(d.bits, c.bits);
      assert.equal(d.private, true);
      const expected = opensslSpki(c.source);
      assert.deepEqual(new Uint8Array(spki(key)), expected);
      assert.equal(d.spkiSha256.hex, createHash('sha256').update(expected).digest('hex'));
      // The public key derived from the same file.
      assert.deepEqual(new Uint8Array(spki(parsePublicKey(data, c.password ? PASSWORD : undefined))), expected);
    });
  }

  test('encrypted pkcs#8 parameters are described without the password', () => {
    assert.equal(peekKey(read('p256.enc.pem')).encryption?.label, 'PBES2 (PBKDF2-hmacWithSHA256, 2048 iterations, aes-256-cbc)');
    const ed = peekKey(read('ed25519.enc.pem')).encryption;
    assert.equal(ed?.prf, 'hmacWithSHA512');
    assert.equal(ed?.cipher, 'aes-128-cbc');
    const sc = peekKey(read('rsa.scrypt.pem')).encryption;
    assert.equal(sc?.kdf, 'scrypt');
    assert.deepEqual(sc?.scrypt, { N: 16384, r: 8, p: 1 });
  });

  test('rsa-pss restrictions are reported, and a signer verifies with openssl', () => {
    const key = parsePrivateKey(read('rsa-pss-restricted.pem'));
    const d = describeKey(key);
    assert.deepEqual(d.pss, { hash: 'sha384', mgf1Hash: 'sha384', saltLength: 48 });
    assert.equal(d.signatureAlgorithm, 'rsassaPss');
    assert.equal(d.jwkThumbprint, undefined);
    assert.equal(codeOf(() => exportJwk(key)), 'ERR_KEY_UNSUPPORTED');
    const signer = createSoftwareSigner(key);
    const data = new TextEncoder().encode('signed by signet, verified by openssl');
    writeFileSync(file('pss.data'), data);
    writeFileSync(file('pss.sig'), signer.sign(data));
    const pub = file('rsa-pss-restricted.pub.pem');
    writeFileSync(pub, opensslOk(['pkey', '-in', file('rsa-pss-restricted.pem'), '-pubout']));
    const out = opensslOk([
      'dgst', '-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48',
      '-verify', pub, '-signature', file('pss.sig'), file('pss.data'),
    ]);
    assert.match(out, /Verified OK/);
  });

  test('a 1024-bit rsa key is read and described as weak, and cannot sign', () => {
    const key = parsePrivateKey(read('rsa1024.pem'));
    assert.match(describeKey(key).weakness ?? '', /1024 bits/);
    assert.equal(codeOf(() => createSoftwareSigner(key)), 'ERR_KEY_WEAK');
  });
});

describe('public keys generated by openssl', () => {
  const cases: Array<[string, string, string, string]> = [
    ['p256.pub.pem', 'p256.pem', 'EC P-256', 'spki'],
    ['ed25519.pub.der', 'ed25519.pem', 'Ed25519', 'spki'],
    ['rsa.pkcs1pub.pem', 'rsa.pem', 'RSA 2048', 'pkcs1-public'],
    ['rsa-pss.pub.pem', 'rsa-pss.pem', 'RSA-PSS 2048', 'spki'],
  ];
  for (const [name, source, algorithm, container] of cases) {
    test(`${name} → ${algorithm}`, () => {
      const data = read(name);
      assert.equal(peekKey(data).container, container);
      assert.equal(peekKey(data).private, false);
      const key = parsePublicKey(data);
      assert.equal(describeKey(key).algorithm, algorithm);
      assert.equal(describeKey(key).private, false);
      assert.deepEqual(new Uint8Array(spki(key)), opensslSpki(source));
      assert.equal(codeOf(() => parsePrivateKey(data)), 'ERR_KEY_NOT_PRIVATE');
    });
  }
});

describe('unsupported keys', () => {
  const cases: Array<[string, string]> = [
    ['k1.pem', 'secp256k1'],
    ['k1.pub.pem', 'secp256k1'],
    ['k1.sec1.pem', 'secp256k1'],
    ['ed448.pem', 'ed448'],
    ['x25519.pem', 'x25519'],
    ['dsa.pem', 'dsa'],
    ['dsa.legacy.pem', 'dsa'],
    ['explicit.pem', 'explicit curve'],
    ['legacy-enc.pem', 'legacy encrypted pem'],
    ['pbes1.pem', 'pbeWithSHAAnd3-KeyTripleDES-CBC'],
  ];
  for (const [name, what] of cases) {
    test(`${name} → ERR_KEY_UNSUPPORTED naming ${what}`, () => {
      const data = read(name);
      let err: unknown;
      try {
        if (name.includes('pub')) parsePublicKey(data);
        else parsePrivateKey(data, PASSWORD);
      } catch (e) {
        err = e;
      }
      assert.ok(isSignetError(err, 'ERR_KEY_UNSUPPORTED'), `got ${String(err)}`);
      const lower = err.message.toLowerCase();
      assert.ok(lower.includes(what) || err.message.includes('1.2.840.113549.1.12.1.3'), err.message);
      // One line, starting lower-case (proper nouns such as RFC, PEM, EC keep their case: a
      // leading capital must be followed by another capital or a digit, as in DSA or Ed25519).
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, /^(?:[a-z0-9]|[A-Z][A-Za-z]*[A-Z0-9])/);
    });
  }
  test('an encrypted secp256k1 key is refused after decryption', () => {
    assert.equal(codeOf(() => parsePrivateKey(read('k1.enc.pem'), PASSWORD)), 'ERR_KEY_UNSUPPORTED');
  });
});

describe('bad input', () => {
  const pemText = (name: string): string => readFileSync(file(name), 'latin1');
  const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

  test('empty input', () => assert.equal(codeOf(() => parsePrivateKey(new Uint8Array(0))), 'ERR_INPUT_EMPTY'));
  test('pem truncated in the middle (no END line)', () => {
    const t = pemText('p256.pem');
    assert.equal(codeOf(() => parsePrivateKey(bytes(t.slice(0, t.length / 2)))), 'ERR_KEY_MALFORMED');
  });
  test('pem with a body line missing', () => {
    const lines = pemText('rsa.pem').split('\n');
    lines.splice(3, 1);
    assert.equal(codeOf(() => parsePrivateKey(bytes(lines.join('\n')))), 'ERR_KEY_MALFORMED');
  });
  test('pem with invalid base64', () => {
    assert.equal(codeOf(() => parsePrivateKey(bytes('-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n'))), 'ERR_KEY_MALFORMED');
  });
  test('pem whose der is not a key', () => {
    const junk = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]).toString('base64');
    assert.equal(codeOf(() => parsePrivateKey(bytes(`-----BEGIN PRIVATE KEY-----\n${junk}\n-----END PRIVATE KEY-----\n`))), 'ERR_KEY_MALFORMED');
  });
  test('truncated der', () => {
    const der = read('p521.der');
    assert.equal(codeOf(() => parsePrivateKey(der.subarray(0, der.length - 10))), 'ERR_KEY_MALFORMED');
  });
  test('der with trailing garbage', () => {
    const der = read('p521.der');
    assert.equal(codeOf(() => parsePrivateKey(Buffer.concat([der, Buffer.from([0, 0])]))), 'ERR_KEY_MALFORMED');
  });
  test('random bytes', () => {
    assert.equal(codeOf(() => parsePrivateKey(randomBytes(200))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePrivateKey(Buffer.concat([Buffer.from([0x30, 0x81, 0xc8]), randomBytes(200)]))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePublicKey(randomBytes(64))), 'ERR_KEY_MALFORMED');
  });
  test('a key whose embedded public point is damaged', () => {
    const der = Buffer.from(read('p521.der'));
    const i = der.length - 40; // inside the public point: no longer on the curve
    der.writeUInt8(der.readUInt8(i) ^ 0xff, i);
    assert.equal(codeOf(() => parsePrivateKey(der)), 'ERR_KEY_MALFORMED');
  });
  test('a key carrying another key\'s public point fails the pairwise consistency test', () => {
    // SEC1 P-256 DER ends with the 65-byte uncompressed public point (RFC 5915 §3).
    const a = read('p256.sec1.der');
    const b = read('p256b.sec1.der');
    const mixed = Buffer.concat([a.subarray(0, a.length - 65), b.subarray(b.length - 65)]);
    assert.equal(codeOf(() => parsePrivateKey(mixed)), 'ERR_KEY_MALFORMED');
    // OpenSSL itself accepts the file, which is why Signet checks.
    writeFileSync(file('mixed.der'), mixed);
    assert.equal(openssl(['pkey', '-inform', 'DER', '-in', file('mixed.der'), '-noout']).status, 0);
  });
  test('wrong password', () => {
    for (const name of ['p256.enc.pem', 'ed25519.enc.pem', 'rsa.scrypt.pem', 'p384.enc.der']) {
      assert.equal(codeOf(() => parsePrivateKey(read(name), 'wrong password')), 'ERR_KEY_WRONG_PASSWORD', name);
    }
  });
  test('missing or empty password', () => {
    assert.equal(codeOf(() => parsePrivateKey(read('p256.enc.pem'))), 'ERR_KEY_PASSWORD_REQUIRED');
    assert.equal(codeOf(() => parsePrivateKey(read('p256.enc.pem'), '')), 'ERR_PASSWORD_EMPTY');
    assert.equal(codeOf(() => parsePublicKey(read('p256.enc.pem'))), 'ERR_KEY_PASSWORD_REQUIRED');
  });
  test('a certificate is not a key', () => {
    assert.equal(codeOf(() => parsePrivateKey(read('cert.pem'))), 'ERR_PEM_UNEXPECTED_TYPE');
    assert.equal(codeOf(() => parsePublicKey(read('cert.pem'))), 'ERR_PEM_UNEXPECTED_TYPE');
  });
  test('two private keys in one file are ambiguous', () => {
    const two = pemText('p256.pem') + pemText('p384.pem');
    assert.equal(codeOf(() => parsePrivateKey(bytes(two))), 'ERR_KEY_MALFORMED');
  });
  test('jwk errors', () => {
    const jwk = exportJwk(parsePrivateKey(read('p256.pem')));
    const other = exportJwk(parsePrivateKey(read('p256b.sec1.der')));
    const j = (v: unknown): Uint8Array => bytes(JSON.stringify(v));
    assert.equal(codeOf(() => parsePrivateKey(bytes('{"kty": "EC", '))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePrivateKey(j({ ...jwk, crv: 'secp256k1' }))), 'ERR_KEY_UNSUPPORTED');
    assert.equal(codeOf(() => parsePrivateKey(j({ kty: 'OKP', crv: 'Ed448', x: 'AA', d: 'AA' }))), 'ERR_KEY_UNSUPPORTED');
    assert.equal(codeOf(() => parsePrivateKey(j({ kty: 'oct', k: 'AAAA' }))), 'ERR_KEY_UNSUPPORTED');
    assert.equal(codeOf(() => parsePrivateKey(j({ keys: [jwk] }))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePrivateKey(j({ ...jwk, x: other.x, y: other.y }))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePrivateKey(j({ ...jwk, d: 'not base64url!' }))), 'ERR_KEY_MALFORMED');
    assert.equal(codeOf(() => parsePrivateKey(j({ ...jwk, d: undefined }))), 'ERR_KEY_NOT_PRIVATE');
    assert.equal(codeOf(() => parsePrivateKey(j({ protected: 'x', ciphertext: 'y' }))), 'ERR_KEY_UNSUPPORTED');
  });
  test('corrupted ciphertext with the right password reads as a wrong password', () => {
    const der = Buffer.from(read('p384.enc.der'));
    // The last byte of the second-to-last block flips the last plaintext byte (CBC), which is the
    // PKCS#7 padding length: the padding can no longer be valid.
    const i = der.length - 17;
    der.writeUInt8(der.readUInt8(i) ^ 0x01, i);
    assert.equal(codeOf(() => parsePrivateKey(der, PASSWORD)), 'ERR_KEY_WRONG_PASSWORD');
  });
  test('openssl agrees the damaged inputs are not keys', () => {
    writeFileSync(file('trunc.pem'), pemText('p256.pem').slice(0, 100));
    assert.notEqual(openssl(['pkey', '-in', file('trunc.pem'), '-noout']).status, 0);
  });
});
