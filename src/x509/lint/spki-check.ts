/**
 * Whether node:crypto can import a SubjectPublicKeyInfo, decided without importing it for the
 * encodings CAs issue every day (importing costs several P-256 signatures, and the CA lints
 * every certificate before signing it):
 *
 * - a named-curve P-256/P-384/P-521 key with an uncompressed point: OpenSSL imports it exactly
 *   when both coordinates are below the field prime and the point is on the curve (SEC 1 §2.3.4;
 *   the cofactor is 1, so on the curve means in the group);
 * - an Ed25519, Ed448, X25519 or X448 key of the right length: OpenSSL does not validate the
 *   octets of these keys (RFC 8410 §3), so the import always succeeds.
 *
 * Anything else — other curves, compressed points, RSA, unusual encodings — is undecided and the
 * caller imports the key. The agreement with OpenSSL is tested differentially.
 */
import { OID } from '../oids.js';

interface Curve {
  /** The SPKI up to and including the 0x04 point-format octet. */
  readonly prefix: Uint8Array;
  /** Octets per coordinate. */
  readonly size: number;
  readonly p: bigint;
  /** The curve coefficient b (a = -3 for all three, FIPS 186-4 §D.1.2). */
  readonly b: bigint;
}

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// FIPS 186-4 §D.1.2.3–D.1.2.5 domain parameters.
const CURVES: readonly Curve[] = [
  {
    prefix: hex('3059301306072a8648ce3d020106082a8648ce3d03010703420004'),
    size: 32,
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  {
    prefix: hex('3076301006072a8648ce3d020106052b8104002203620004'),
    size: 48,
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  {
    prefix: hex('30819b301006072a8648ce3d020106052b810400230381860004'),
    size: 66,
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
];

/** SPKI prefixes of the RFC 8410 keys (algorithm without parameters, BIT STRING, 0 unused bits) and their key lengths. */
const OKP: readonly { readonly prefix: Uint8Array; readonly size: number }[] = [
  { prefix: hex('302a300506032b6570032100'), size: 32 }, // Ed25519
  { prefix: hex('302a300506032b656e032100'), size: 32 }, // X25519
  { prefix: hex('3043300506032b6571033a00'), size: 57 }, // Ed448
  { prefix: hex('3042300506032b656f033900'), size: 56 }, // X448
];

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

/** Big-endian unsigned integer of `b`, eight octets at a time. */
function bigintOf(b: Uint8Array): bigint {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let v = 0n;
  let i = 0;
  for (; i < b.length % 8; i++) v = (v << 8n) | BigInt(b[i] as number);
  for (; i < b.length; i += 8) v = (v << 64n) | view.getBigUint64(i);
  return v;
}

/**
 * True or false when it is certain whether node:crypto imports `spki` (see the module comment);
 * undefined when only importing it can tell. `algorithm` is the SPKI's algorithm OID.
 */
export function spkiImportable(spki: Uint8Array, algorithm: string): boolean | undefined {
  if (algorithm === OID.idEcPublicKey) {
    for (const c of CURVES) {
      if (spki.length !== c.prefix.length + 2 * c.size || !startsWith(spki, c.prefix)) continue;
      const x = bigintOf(spki.subarray(c.prefix.length, c.prefix.length + c.size));
      const y = bigintOf(spki.subarray(c.prefix.length + c.size));
      if (x >= c.p || y >= c.p) return false;
      // y² = x³ - 3x + b (mod p)
      return ((x * x - 3n) * x + c.b - y * y) % c.p === 0n;
    }
    return undefined;
  }
  for (const k of OKP) if (spki.length === k.prefix.length + k.size && startsWith(spki, k.prefix)) return true;
  return undefined;
}
