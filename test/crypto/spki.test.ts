/**
 * importSpki: the JWK shortcuts (P-256, Ed25519, canonical rsaEncryption) load exactly the key
 * OpenSSL's DER decoder loads — same SPKI on export, same verification — and every other form
 * (other curves, compressed points, non-canonical encodings, trailing bytes, points off the curve)
 * gets OpenSSL's own answer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { importSpki } from '../../src/crypto/spki.js';

const viaDer = (spki: Buffer): KeyObject => createPublicKey({ key: spki, format: 'der', type: 'spki' });

/** importSpki and the DER decoder agree: both load the same key, or both refuse. */
function agree(spki: Buffer, what: string): void {
  let ours: KeyObject | Error;
  let theirs: KeyObject | Error;
  try {
    ours = importSpki(spki);
  } catch (e) {
    ours = e as Error;
  }
  try {
    theirs = viaDer(spki);
  } catch (e) {
    theirs = e as Error;
  }
  const describe = (r: KeyObject | Error): string => (r instanceof Error ? r.message : `a ${r.asymmetricKeyType ?? ''} key`);
  assert.equal(ours instanceof Error, theirs instanceof Error, `${what}: ${describe(ours)} / ${describe(theirs)}`);
  if (ours instanceof Error || theirs instanceof Error) return;
  assert.ok(ours.equals(theirs), what);
  assert.deepEqual(ours.export({ format: 'der', type: 'spki' }), theirs.export({ format: 'der', type: 'spki' }), what);
  assert.deepEqual(ours.asymmetricKeyDetails, theirs.asymmetricKeyDetails, what);
}

const KINDS = [
  ['P-256', 'ec', { namedCurve: 'P-256' }],
  ['P-384', 'ec', { namedCurve: 'P-384' }],
  ['P-521', 'ec', { namedCurve: 'P-521' }],
  ['Ed25519', 'ed25519', {}],
  ['Ed448', 'ed448', {}],
  ['RSA 2048', 'rsa', { modulusLength: 2048 }],
  ['RSA 2048 e=3', 'rsa', { modulusLength: 2048, publicExponent: 3 }],
  ['RSA 3072', 'rsa', { modulusLength: 3072 }],
  ['RSA 1024 e=65539', 'rsa', { modulusLength: 1024, publicExponent: 65539 }],
] as const;

test('every key type loads as the DER decoder loads it, and verifies what its private key signed', () => {
  for (const [name, type, options] of KINDS) {
    for (let i = 0; i < 4; i++) {
      const pair = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
      agree(spki, name);
      const data = Buffer.from(`message ${i}`);
      const hash = type === 'ec' || type === 'rsa' ? 'sha256' : null;
      assert.ok(verify(hash, data, importSpki(spki), sign(hash, data, pair.privateKey)), name);
    }
  }
});

test('other forms get the DER decoder\'s answer: compressed points, tampered points, non-canonical RSA, trailing bytes, garbage', () => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const spki = p256.export({ format: 'der', type: 'spki' });
  // Off the curve: a changed y.
  const offCurve = Buffer.from(spki);
  offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] ?? 0) ^ 0x01;
  agree(offCurve, 'P-256 point off the curve');
  assert.throws(() => importSpki(offCurve));
  // Compressed point (SEC 1 §2.3.3): 0x02/0x03 ‖ x.
  const x = spki.subarray(27, 59);
  const yOdd = (spki[spki.length - 1] ?? 0) & 1;
  const compressed = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), Buffer.of(yOdd ? 3 : 2), x]);
  agree(compressed, 'P-256 compressed');
  agree(Buffer.concat([spki, Buffer.of(0)]), 'trailing byte');
  agree(spki.subarray(0, spki.length - 1), 'truncated');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' });
  // Long-form length where short form fits would be non-minimal DER: rewrite the exponent's length 0x03 as 0x81 0x03.
  const e = rsa.subarray(rsa.length - 5);
  assert.deepEqual([...e], [0x02, 0x03, 0x01, 0x00, 0x01]);
  const nonMinimal = Buffer.concat([rsa.subarray(0, rsa.length - 5), Buffer.from([0x02, 0x81, 0x03, 0x01, 0x00, 0x01])]);
  agree(nonMinimal, 'RSA with a non-minimal length (outer lengths not adjusted)');
  const negative = Buffer.from(rsa);
  negative[rsa.length - 3] = 0x81; // exponent 0x810001: top bit set, a negative INTEGER
  agree(negative, 'RSA with a negative exponent');
  for (const junk of [Buffer.alloc(0), Buffer.of(0x30, 0x00), Buffer.from('not a key')]) agree(junk, `junk ${junk.toString('hex')}`);
});
