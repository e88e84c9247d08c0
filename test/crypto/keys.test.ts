/**
 * Keys Signet generates and writes, checked against OpenSSL as the independent reader; JWK and
 * thumbprints against RFC 7638; the weak/unsupported rule; key spec spellings.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { isSignetError, type ErrorCode } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import {
  KEY_SPECS,
  assertKeyPair,
  assertSigningKey,
  createSoftwareSigner,
  describeKey,
  encodePrivateKeyDer,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  encryptPrivateKeyInfo,
  exportJwk,
  generateKey,
  generateKeyAsync,
  jwkThumbprint,
  keyWeakness,
  parseKeySpec,
  parsePrivateKey,
  parsePublicKey,
  peekKey,
  type Jwk,
  type KeySpec,
} from '../../src/crypto/index.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const PASSWORD = 'correct horse battery staple ✓';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return isSignetError(e) ? e.code : `non-signet error: ${String(e)}`;
  }
  return 'no error';
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const spkiDer = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ format: 'der', type: 'spki' });

const EXPECTED: Record<Exclude<KeySpec, 'rsa4096'>, { algorithm: string; type: string; bits: number; sig: string }> = {
  p256: { algorithm: 'EC P-256', type: 'EC', bits: 256, sig: 'ecdsaWithSHA256' },
  p384: { algorithm: 'EC P-384', type: 'EC', bits: 384, sig: 'ecdsaWithSHA384' },
  p521: { algorithm: 'EC P-521', type: 'EC', bits: 521, sig: 'ecdsaWithSHA512' },
  ed25519: { algorithm: 'Ed25519', type: 'OKP', bits: 256, sig: 'Ed25519' },
  rsa2048: { algorithm: 'RSA 2048', type: 'RSA', bits: 2048, sig: 'sha256WithRSAEncryption' },
  rsa3072: { algorithm: 'RSA 3072', type: 'RSA', bits: 3072, sig: 'sha256WithRSAEncryption' },
};
const SPECS = Object.keys(EXPECTED) as Array<keyof typeof EXPECTED>;

describe('keys signet generates are read by openssl', () => {
  const tmp = tempDir();
  const keys = new Map<string, KeyObject>();
  const pwFile = tmp.path('pw');
  before(() => {
    writeFileSync(pwFile, PASSWORD + '\n');
    for (const spec of SPECS) keys.set(spec, generateKey(spec).privateKey);
  });
  after(() => tmp.cleanup());

  for (const spec of SPECS) {
    test(`${spec}: plaintext and encrypted pkcs#8, openssl derives the same public key`, () => {
      const key = keys.get(spec) as KeyObject;
      const plain = tmp.path(`${spec}.pem`);
      const enc = tmp.path(`${spec}.enc.pem`);
      writeFileSync(plain, encodePrivateKeyPem(key));
      const encryptedPem = encodePrivateKeyPem(key, PASSWORD);
      assert.match(encryptedPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      writeFileSync(enc, encryptedPem);
      const ours = encodePublicKeyPem(key);
      assert.equal(opensslOk(['pkey', '-in', plain, '-pubout']), ours);
      assert.equal(opensslOk(['pkey', '-in', enc, '-passin', `file:${pwFile}`, '-pubout']), ours);
      // The encrypted form must really be encrypted: openssl without the password fails.
      assert.throws(() => opensslOk(['pkey', '-in', enc, '-passin', 'pass:', '-noout']));

      const d = describeKey(key);
      const want = EXPECTED[spec];
      assert.equal(d.algorithm, want.algorithm);
      assert.equal(d.type, want.type);
      assert.equal(d.bits, want.bits);
      assert.equal(d.signatureAlgorithm, want.sig);
      assert.equal(d.private, true);
      assert.equal(d.weakness, undefined);
      const fp = createHash('sha256').update(decodePem(opensslOk(['pkey', '-in', plain, '-pubout'])).der).digest();
      assert.equal(d.spkiSha256.hex, fp.toString('hex'));
      assert.equal(d.spkiSha256.base64url, fp.toString('base64url'));

      // Round trip through our own parser.
      const back = parsePrivateKey(bytes(encryptedPem), PASSWORD);
      assert.deepEqual(spkiDer(back), spkiDer(key));
      assert.equal(codeOf(() => parsePrivateKey(bytes(encryptedPem), 'not the password')), 'ERR_KEY_WRONG_PASSWORD');
      assert.equal(codeOf(() => parsePrivateKey(bytes(encryptedPem))), 'ERR_KEY_PASSWORD_REQUIRED');
    });

    test(`${spec}: jwk round-trips through node and matches openssl's public key`, () => {
      const key = keys.get(spec) as KeyObject;
      const plain = tmp.path(`${spec}.jwk-src.pem`);
      writeFileSync(plain, encodePrivateKeyPem(key));
      const opensslSpki = decodePem(opensslOk(['pkey', '-in', plain, '-pubout'])).der;

      const priv = exportJwk(key);
      const pub = exportJwk(createPublicKey(key));
      assert.equal(priv.kid, jwkThumbprint(key));
      assert.equal(pub.kid, priv.kid);
      assert.equal(pub.d, undefined);
      assert.equal(typeof priv.d, 'string');
      assert.equal(priv.alg, { p256: 'ES256', p384: 'ES384', p521: 'ES512', ed25519: 'EdDSA', rsa2048: 'RS256', rsa3072: 'RS256' }[spec]);
      assert.deepEqual(new Uint8Array(spkiDer(createPrivateKey({ key: priv, format: 'jwk' }))), opensslSpki);
      assert.deepEqual(new Uint8Array(spkiDer(createPublicKey({ key: pub, format: 'jwk' }))), opensslSpki);
      // And through Signet's own parser, as files.
      assert.deepEqual(new Uint8Array(spkiDer(parsePrivateKey(bytes(JSON.stringify(priv))))), opensslSpki);
      assert.deepEqual(new Uint8Array(spkiDer(parsePublicKey(bytes(JSON.stringify(pub))))), opensslSpki);
      assert.equal(describeKey(key).jwkThumbprint, priv.kid);
    });
  }

  test('scrypt-encrypted pkcs#8 is read by openssl', () => {
    const key = keys.get('p256') as KeyObject;
    const pem = encodePrivateKeyPem(key, PASSWORD, { kdf: 'scrypt' });
    const f = tmp.path('scrypt.pem');
    writeFileSync(f, pem);
    assert.equal(opensslOk(['pkey', '-in', f, '-passin', `file:${pwFile}`, '-pubout']), encodePublicKeyPem(key));
    const info = peekKey(bytes(pem));
    assert.equal(info.encryption?.kdf, 'scrypt');
    assert.deepEqual(info.encryption?.scrypt, { N: 16384, r: 8, p: 1 });
    assert.equal(info.encryption?.cipher, 'aes-256-cbc');
    assert.deepEqual(spkiDer(parsePrivateKey(bytes(pem), PASSWORD)), spkiDer(key));
  });

  test('the pbes2 parameters signet writes are what openssl reports', () => {
    const f = tmp.path('params.der');
    writeFileSync(f, encodePrivateKeyDer(keys.get('ed25519') as KeyObject, PASSWORD));
    const dump = opensslOk(['asn1parse', '-inform', 'DER', '-in', f]);
    assert.match(dump, /:PBES2/);
    assert.match(dump, /:PBKDF2/);
    assert.match(dump, /INTEGER\s+:0927C0/); // 600000 iterations
    assert.match(dump, /:hmacWithSHA256/);
    assert.match(dump, /:aes-256-cbc/);
    const info = peekKey(encodePrivateKeyDer(keys.get('ed25519') as KeyObject, PASSWORD, { iterations: 20_000 }));
    assert.equal(info.encoding, 'der');
    assert.equal(info.encryption?.iterations, 20_000);
    assert.equal(info.encryption?.saltLength, 16);
  });
});

describe('rsa 4096 and async generation', () => {
  test('generateKeyAsync makes a 4096-bit rsa key with e = 65537 (the only 4096 keygen in this file)', async () => {
    const { privateKey, publicKey } = await generateKeyAsync('rsa4096');
    const d = describeKey(publicKey);
    assert.equal(d.algorithm, 'RSA 4096');
    assert.equal(d.publicExponent, 65537);
    assert.equal(d.private, false);
    assertKeyPair(privateKey, publicKey);
  });
});

describe('rfc 7638 thumbprint', () => {
  test('matches the example of rfc 7638 §3.1', () => {
    const jwk: Jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    // The same key imported by node gives the same thumbprint.
    assert.equal(jwkThumbprint(createPublicKey({ key: jwk, format: 'jwk' })), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('key specs', () => {
  const table: Array<[string | Parameters<typeof parseKeySpec>[0], KeySpec]> = [
    ['p256', 'p256'],
    ['P-256', 'p256'],
    ['EC', 'p256'],
    ['ecdsa', 'p256'],
    ['prime256v1', 'p256'],
    ['secp384r1', 'p384'],
    ['P-521', 'p521'],
    ['Ed25519', 'ed25519'],
    ['OKP', 'ed25519'],
    ['RSA', 'rsa2048'],
    ['rsa:4096', 'rsa4096'],
    ['RSA-3072', 'rsa3072'],
    [{}, 'p256'],
    [{ type: 'ec', curve: 'P-384' }, 'p384'],
    [{ type: 'EC', curve: 'p521' }, 'p521'],
    [{ type: 'rsa', size: '3072' }, 'rsa3072'],
    [{ type: 'RSA', size: 4096 }, 'rsa4096'],
    [{ type: 'ed25519' }, 'ed25519'],
  ];
  for (const [input, want] of table) {
    test(`${JSON.stringify(input)} → ${want}`, () => assert.equal(parseKeySpec(input), want));
  }
  const errors: Array<[string | Parameters<typeof parseKeySpec>[0], ErrorCode]> = [
    ['dsa', 'ERR_KEY_UNSUPPORTED'],
    ['secp256k1', 'ERR_KEY_UNSUPPORTED'],
    ['ed448', 'ERR_KEY_UNSUPPORTED'],
    [{ type: 'ec', curve: 'secp256k1' }, 'ERR_KEY_UNSUPPORTED'],
    [{ type: 'ec', curve: 'brainpoolP256r1' }, 'ERR_BAD_OPTION'],
    [{ type: 'rsa', size: 1024 }, 'ERR_KEY_WEAK'],
    ['rsa1024', 'ERR_KEY_WEAK'],
    [{ type: 'rsa', size: 2500 }, 'ERR_BAD_OPTION'],
    [{ type: 'rsa', size: 'big' }, 'ERR_BAD_OPTION'],
    [{ type: 'rsa', curve: 'P-256' }, 'ERR_BAD_OPTION'],
    [{ type: 'ec', size: 2048 }, 'ERR_BAD_OPTION'],
    [{ type: 'ed25519', size: 256 }, 'ERR_BAD_OPTION'],
    ['nonsense', 'ERR_BAD_OPTION'],
  ];
  for (const [input, code] of errors) {
    test(`${JSON.stringify(input)} → ${code}`, () => assert.equal(codeOf(() => parseKeySpec(input)), code));
  }
  test('KEY_SPECS lists the seven specs', () => assert.deepEqual([...KEY_SPECS], ['p256', 'p384', 'p521', 'ed25519', 'rsa2048', 'rsa3072', 'rsa4096']));
});

describe('the weak-key rule: read and describe, refuse to sign', () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  test('a 1024-bit rsa key is parsed and described with its weakness', () => {
    const parsed = parsePrivateKey(bytes(encodePrivateKeyPem(weak)));
    const d = describeKey(parsed);
    assert.equal(d.algorithm, 'RSA 1024');
    assert.match(d.weakness ?? '', /1024/);
    assert.equal(keyWeakness(parsed), d.weakness);
  });
  test('signing with it is refused by assertSigningKey and createSoftwareSigner', () => {
    assert.equal(codeOf(() => assertSigningKey(weak)), 'ERR_KEY_WEAK');
    assert.equal(codeOf(() => createSoftwareSigner(weak)), 'ERR_KEY_WEAK');
  });
  test('a public key cannot sign', () => {
    assert.equal(codeOf(() => createSoftwareSigner(createPublicKey(weak))), 'ERR_KEY_NOT_PRIVATE');
  });
  test('strong keys pass', () => {
    const { privateKey } = generateKey('p256');
    assertSigningKey(privateKey);
    const signer = createSoftwareSigner(privateKey);
    assert.equal(signer.algorithm.name, 'ecdsaWithSHA256');
  });
  test('secp256k1 made by node is refused as a signing key', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    assert.equal(codeOf(() => assertSigningKey(k1)), 'ERR_KEY_UNSUPPORTED');
    assert.equal(codeOf(() => describeKey(k1)), 'ERR_KEY_UNSUPPORTED');
  });
});

describe('writing errors', () => {
  const { privateKey, publicKey } = generateKey('ed25519');
  test('empty password', () => assert.equal(codeOf(() => encodePrivateKeyPem(privateKey, '')), 'ERR_PASSWORD_EMPTY'));
  test('too few iterations', () => {
    assert.equal(codeOf(() => encryptPrivateKeyInfo(encodePrivateKeyDer(privateKey), PASSWORD, { iterations: 1000 })), 'ERR_BAD_OPTION');
  });
  test('a public key has no private encoding', () => assert.equal(codeOf(() => encodePrivateKeyPem(publicKey)), 'ERR_KEY_NOT_PRIVATE'));
  test('assertKeyPair notices a mismatch', () => {
    assert.equal(codeOf(() => assertKeyPair(privateKey, generateKey('ed25519').publicKey)), 'ERR_KEY_MISMATCH');
    assertKeyPair(privateKey, publicKey);
  });
});
