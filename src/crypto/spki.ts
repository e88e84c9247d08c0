/**
 * Importing a public key from its SubjectPublicKeyInfo, fast. OpenSSL 3's DER decoders cost
 * 125–200 µs per key here (they try decoder after decoder), while node:crypto's JWK import of the
 * same key takes 5–105 µs. Every issuance imports the key of its CSR, so the common canonical
 * forms go the JWK way: a P-256 key with an uncompressed point (the JWK import checks the point
 * is on the curve, as the DER import does), an Ed25519 key, and an rsaEncryption key whose
 * SPKI is exactly the DER that its modulus and exponent encode to. Anything else — other curves
 * (P-384's JWK import is slower than its DER import), compressed points, explicit parameters,
 * non-minimal encodings, trailing bytes — goes through OpenSSL's DER decoder, which decides.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

const P256_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** AlgorithmIdentifier { rsaEncryption, NULL }. */
const RSA_ALGORITHM = Buffer.from('300d06092a864886f70d0101010500', 'hex');

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, content: Buffer): Buffer => Buffer.concat([Buffer.of(tag), derLength(content.length), content]);

/** A DER INTEGER of a positive big-endian magnitude (minimal: one leading zero only when the top bit is set). */
function positiveInteger(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return tlv(0x02, (m[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), m]) : m);
}

/** Reads one TLV at `at` (short or long definite length); undefined when it does not fit. */
function readTlv(b: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at] as number;
  let len = b[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    if (k === 0 || k > 4 || start + k > b.length) return undefined;
    len = 0;
    for (let j = 0; j < k; j++) len = len * 256 + (b[start + j] as number);
    start += k;
  }
  return start + len <= b.length ? { tag, start, end: start + len } : undefined;
}

/** The key of an rsaEncryption SPKI as JWK members, when the SPKI is exactly their canonical DER. */
function rsaJwk(spki: Buffer): { n: string; e: string } | undefined {
  const outer = readTlv(spki, 0);
  if (outer?.tag !== 0x30 || outer.end !== spki.length) return undefined;
  if (!spki.subarray(outer.start, outer.start + RSA_ALGORITHM.length).equals(RSA_ALGORITHM)) return undefined;
  const bits = readTlv(spki, outer.start + RSA_ALGORITHM.length);
  if (bits?.tag !== 0x03 || spki[bits.start] !== 0) return undefined;
  const seq = readTlv(spki, bits.start + 1);
  if (seq?.tag !== 0x30) return undefined;
  const n = readTlv(spki, seq.start);
  const e = n === undefined ? undefined : readTlv(spki, n.end);
  if (n?.tag !== 0x02 || e?.tag !== 0x02 || e.end !== seq.end) return undefined;
  const modulus = spki.subarray(n.start, n.end);
  const exponent = spki.subarray(e.start, e.end);
  // Canonical only: the SPKI these two numbers encode to must be the input, byte for byte.
  const canonical = tlv(0x30, Buffer.concat([RSA_ALGORITHM, tlv(0x03, Buffer.concat([Buffer.of(0), tlv(0x30, Buffer.concat([positiveInteger(modulus), positiveInteger(exponent)]))]))]));
  // (A negative INTEGER fails this too: its canonical form as a magnitude has a leading zero.)
  if (!canonical.equals(spki)) return undefined;
  const strip = (b: Buffer): Buffer => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);
  return { n: strip(modulus).toString('base64url'), e: strip(exponent).toString('base64url') };
}

/** The public key of a SubjectPublicKeyInfo (DER); throws node:crypto's error when it cannot be loaded. */
export function importSpki(spki: Uint8Array): KeyObject {
  const b = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  if (b.length === P256_PREFIX.length + 65 && b[P256_PREFIX.length] === 0x04 && b.subarray(0, P256_PREFIX.length).equals(P256_PREFIX)) {
    const at = P256_PREFIX.length + 1;
    return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b.subarray(at, at + 32).toString('base64url'), y: b.subarray(at + 32).toString('base64url') }, format: 'jwk' });
  }
  if (b.length === ED25519_PREFIX.length + 32 && b.subarray(0, ED25519_PREFIX.length).equals(ED25519_PREFIX)) {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b.subarray(ED25519_PREFIX.length).toString('base64url') }, format: 'jwk' });
  }
  const rsa = b[0] === 0x30 ? rsaJwk(b) : undefined;
  if (rsa !== undefined) return createPublicKey({ key: { kty: 'RSA', ...rsa }, format: 'jwk' });
  return createPublicKey({ key: b, format: 'der', type: 'spki' });
}
