/**
 * The linter's shortcuts decide exactly what the slow way decides: whether node:crypto can import
 * a SubjectPublicKeyInfo (spki-check.ts, against createPublicKey itself), the one-match DNS name
 * check, remembered URL answers, the hand-decoded RSAPublicKey, and the KeyObject hint of
 * lintTbsCertificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { buildTbsCertificate } from '../../src/x509/certificate-builder.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RSAPublicKey } from '@peculiar/asn1-rsa';
import { parseTbsCertificate, type Certificate } from '../../src/x509/certificate.js';
import { rsaKeyInfo } from '../../src/x509/lint/rules-keys.js';
import { lintCertificate, lintTbsCertificate } from '../../src/x509/lint/index.js';
import { spkiImportable } from '../../src/x509/lint/spki-check.js';
import { dnsNameProblem, urlProblem } from '../../src/x509/lint/syntax.js';
import { OID } from '../../src/x509/oids.js';
import { CA_SIGNER, KEYS, NOW, leafSpec, rootSpec } from './builders.js';
import { issuerFromCertificate, issueCertificate } from '../../src/x509/certificate-builder.js';

function importable(spki: Uint8Array): boolean {
  try {
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

const CURVES: ReadonlyArray<{ name: string; size: number; p: bigint }> = [
  { name: 'prime256v1', size: 32, p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn },
  { name: 'secp384r1', size: 48, p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn },
  { name: 'secp521r1', size: 66, p: (1n << 521n) - 1n },
];

function bytesOf(v: bigint, size: number): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex'));
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
  }
  return r;
}

test('spkiImportable agrees with createPublicKey on EC points: valid, off the curve, coordinates ≥ p', () => {
  let decided = 0;
  for (const c of CURVES) {
    const spkis: Uint8Array[] = [];
    const prefixLen = new Uint8Array(generateKeyPairSync('ec', { namedCurve: c.name }).publicKey.export({ format: 'der', type: 'spki' })).length - 2 * c.size;
    let prefix = new Uint8Array(0);
    for (let k = 0; k < 8; k++) {
      const spki = new Uint8Array(generateKeyPairSync('ec', { namedCurve: c.name }).publicKey.export({ format: 'der', type: 'spki' }));
      prefix = spki.subarray(0, prefixLen);
      spkis.push(spki);
      // The same x with a wrong y, and a flipped bit anywhere in the point.
      const wrongY = Uint8Array.from(spki);
      wrongY[wrongY.length - 1] = (wrongY[wrongY.length - 1] as number) ^ 1;
      spkis.push(wrongY);
      const flipped = Uint8Array.from(spki);
      const at = prefixLen + Math.floor(Math.random() * 2 * c.size);
      flipped[at] = (flipped[at] as number) ^ (1 << Math.floor(Math.random() * 8));
      spkis.push(flipped);
    }
    // Random coordinates (almost never on the curve).
    for (let k = 0; k < 16; k++) spkis.push(Uint8Array.from([...prefix, ...randomBytes(2 * c.size)]));
    // A point with a small x (the curve has one among the first x values when p ≡ 3 mod 4 lets us take
    // square roots), written with x + p: the same point mod p, but not a field element.
    const b = (() => {
      const spki = spkis[0] as Uint8Array;
      const x = BigInt('0x' + Buffer.from(spki.subarray(prefixLen, prefixLen + c.size)).toString('hex'));
      const y = BigInt('0x' + Buffer.from(spki.subarray(prefixLen + c.size)).toString('hex'));
      return (((y * y - x * x * x + 3n * x) % c.p) + c.p) % c.p;
    })();
    for (let x = 1n; x < 200n; x++) {
      const rhs = (((x * x * x - 3n * x + b) % c.p) + c.p) % c.p;
      const y = modPow(rhs, (c.p + 1n) / 4n, c.p);
      if ((y * y) % c.p !== rhs) continue;
      spkis.push(Uint8Array.from([...prefix, ...bytesOf(x, c.size), ...bytesOf(y, c.size)]));
      if (x + c.p < 1n << BigInt(8 * c.size)) spkis.push(Uint8Array.from([...prefix, ...bytesOf(x + c.p, c.size), ...bytesOf(y, c.size)]));
      if (y + c.p < 1n << BigInt(8 * c.size)) spkis.push(Uint8Array.from([...prefix, ...bytesOf(x, c.size), ...bytesOf(y + c.p, c.size)]));
      spkis.push(Uint8Array.from([...prefix, ...bytesOf(x, c.size), ...bytesOf(c.p - y, c.size)]));
      break;
    }
    for (const spki of spkis) {
      const fast = spkiImportable(spki, OID.idEcPublicKey);
      assert.notEqual(fast, undefined, `${c.name}: canonical encodings are decided`);
      assert.equal(fast, importable(spki), `${c.name} ${Buffer.from(spki).toString('hex')}`);
      decided++;
    }
  }
  assert.ok(decided > 100);
});

test('spkiImportable: RFC 8410 keys always import; other encodings are left undecided', () => {
  for (const type of ['ed25519', 'ed448', 'x25519', 'x448'] as const) {
    const spki = new Uint8Array(generateKeyPairSync(type as 'ed25519').publicKey.export({ format: 'der', type: 'spki' }));
    const keyLen = spki.length - 12;
    for (const key of [randomBytes(keyLen), Buffer.alloc(keyLen, 0xff), Buffer.alloc(keyLen, 0)]) {
      const s = Uint8Array.from([...spki.subarray(0, 12), ...key]);
      assert.equal(spkiImportable(s, OID.idEd25519), true);
      assert.equal(importable(s), true, type);
    }
    assert.equal(spkiImportable(spki.subarray(0, spki.length - 1), OID.idEd25519), undefined);
  }
  const compressed = Uint8Array.from(Buffer.from(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' })));
  compressed[26] = 0x02; // not the uncompressed form any more
  assert.equal(spkiImportable(compressed, OID.idEcPublicKey), undefined);
  const k1 = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'der', type: 'spki' }));
  assert.equal(spkiImportable(k1, OID.idEcPublicKey), undefined);
  const rsa = new Uint8Array(KEYS.rsa2048.publicKey.export({ format: 'der', type: 'spki' }));
  assert.equal(spkiImportable(rsa, OID.rsaEncryption), undefined);
});

test('dnsNameProblem: the one-match shortcut never hides a problem', () => {
  const label63 = 'a'.repeat(63);
  const cases: Array<[string, { wildcard?: boolean; constraint?: boolean }, boolean]> = [
    ['www.example.com', {}, true],
    ['a', {}, true],
    [`${label63}.example`, {}, true],
    [`${'a'.repeat(64)}.example`, {}, false],
    [`${[label63, label63, label63, 'a'.repeat(61)].join('.')}`, {}, true], // 253 octets
    [`${[label63, label63, label63, 'a'.repeat(62)].join('.')}`, {}, false], // 254 octets
    ['*.example.com', { wildcard: true }, true],
    ['*.example.com', {}, false],
    ['*.example.com', { wildcard: true, constraint: true }, false],
    ['*', { wildcard: true }, false],
    ['a.*.example', { wildcard: true }, false],
    ['-a.example', {}, false],
    ['a-.example', {}, false],
    ['a--b.example', {}, true],
    ['under_score.example', {}, true],
    ['.example.com', { constraint: true }, true],
    ['.example.com', {}, false],
    ['example.com.', {}, false],
    ['a..b', {}, false],
    ['', {}, false],
    ['ex ample.com', {}, false],
    ['exämple.com', {}, false],
    ['xn--exmple-cua.com', {}, true],
    ['1.2.3.4', {}, true],
  ];
  for (const [name, options, ok] of cases) assert.equal(dnsNameProblem(name, options) === undefined, ok, `${name} ${JSON.stringify(options)}`);
});

test('urlProblem answers the same from memory, per scheme list', () => {
  const web = ['http', 'https'];
  const webLdap = ['http', 'https', 'ldap'];
  for (let round = 0; round < 2; round++) {
    assert.equal(urlProblem('http://ocsp.example.com/', web), undefined);
    assert.match(urlProblem('ldap://ldap.example/cn=x', web) ?? '', /scheme "ldap"/);
    assert.equal(urlProblem('ldap://ldap.example/cn=x', webLdap), undefined);
    assert.match(urlProblem('http:///path', webLdap) ?? '', /host/);
    assert.equal(urlProblem('http://x.example/', ['http', 'https']), undefined, 'a list built per call works too');
  }
});

test('an RSA leaf lints the same with and without its KeyObject hint; the hint is checked', () => {
  const root = issueCertificate(rootSpec(), CA_SIGNER);
  const issuer = issuerFromCertificate(root);
  const tbs = buildTbsCertificate(leafSpec({ keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] } }, { publicKey: KEYS.rsa2048.publicKey }), issuer, CA_SIGNER.algorithm);
  const plain = lintTbsCertificate(tbs, { now: NOW });
  assert.equal(plain.errors, 0, JSON.stringify(plain.findings));
  assert.deepEqual(lintTbsCertificate(tbs, { now: NOW, publicKey: KEYS.rsa2048.publicKey }), plain);
  assert.deepEqual(lintTbsCertificate(tbs, { now: NOW, publicKey: KEYS.leaf.publicKey }), plain, 'a key that is not the subject key changes nothing');
  const small = buildTbsCertificate(leafSpec({ keyUsage: { usages: ['digitalSignature'] } }, { publicKey: KEYS.rsa1024.publicKey }), issuer, CA_SIGNER.algorithm);
  assert.ok(lintCertificate(parseTbsCertificate(small), { now: NOW }).findings.some((f) => f.rule === 'e_rsa_key_too_small' && f.message.includes('1024 bits')));
});

test('the RSA public key is read as @peculiar read it: plain DER directly, anything else through @peculiar', () => {
  const rsaKey = (der: Uint8Array): { bits: number; exponent: bigint } | undefined => {
    try {
      const k = AsnConvert.parse(der, RSAPublicKey);
      const n = new Uint8Array(k.modulus);
      let i = 0;
      while (i < n.length && n[i] === 0) i++;
      const top = n[i];
      const e = Buffer.from(k.publicExponent).toString('hex');
      return { bits: top === undefined ? 0 : (n.length - i - 1) * 8 + (32 - Math.clz32(top)), exponent: e.length === 0 ? 0n : BigInt('0x' + e) };
    } catch {
      return undefined;
    }
  };
  const spki = new Uint8Array(KEYS.rsa2048.publicKey.export({ format: 'der', type: 'spki' }));
  const key = spki.subarray(spki.length - 270);
  assert.equal(key[0], 0x30);
  const values = [key, Uint8Array.from([0x30, 0x82, 0x01, 0x0b, ...key.subarray(4, key.length - 5), 0x02, 0x81, 0x03, 0x01, 0x00, 0x01])];
  for (let i = 0; i < 12; i++) values.push(key.subarray(0, i), Uint8Array.from([...key, 0]));
  for (const at of [0, 1, 4, 5, 6, 265, 266, 267]) {
    for (const b of [0x00, 0x02, 0x30, 0x80, 0x81, 0xff]) {
      const m = Uint8Array.from(key);
      m[at] = b;
      values.push(m);
    }
  }
  for (const v of values) {
    const fake = { publicKeyAlgorithm: { oid: OID.rsaEncryption }, subjectPublicKey: v } as unknown as Certificate;
    assert.deepEqual(rsaKeyInfo(fake), rsaKey(v), Buffer.from(v).toString('hex').slice(0, 40));
  }
});
