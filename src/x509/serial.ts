/**
 * Certificate serial numbers (RFC 5280 §4.1.2.2): positive, at most 20 octets, unique per
 * issuer; CA/Browser Forum BR §7.1 asks for at least 64 bits of CSPRNG output. Signet's serials
 * are 16 octets with 126 random bits: the top bit is cleared (positive without a 0x00 pad) and
 * the next one set (always exactly 16 octets, so sizes are predictable).
 */
import { randomFillSync } from 'node:crypto';
import { SignetError } from '../core/errors.js';

/** Length of the serials {@link randomSerial} returns. */
export const SERIAL_LENGTH = 16;

/** A source of random bytes (injectable for tests; must be a CSPRNG in production). */
export type RandomSource = (length: number) => Uint8Array;

// Pooled CSPRNG output: one randomFillSync per 256 serials keeps the issuance hot path cheap.
const POOL_SIZE = SERIAL_LENGTH * 256;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/**
 * A fresh serial: 16 octets from the CSPRNG (or `random`), positive, 126 bits of entropy.
 * Returns the unsigned big-endian magnitude (what {@link CertificateSpec.serialNumber} takes).
 */
export function randomSerial(random?: RandomSource): Uint8Array {
  let out: Uint8Array;
  if (random) {
    out = random(SERIAL_LENGTH).slice(0, SERIAL_LENGTH);
    if (out.length !== SERIAL_LENGTH) throw new SignetError('ERR_INTERNAL', 'random source returned too few bytes');
  } else {
    if (poolOffset + SERIAL_LENGTH > POOL_SIZE) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    out = pool.slice(poolOffset, poolOffset + SERIAL_LENGTH);
    // Used bytes are wiped so that the pool never holds a value that was handed out.
    pool.fill(0, poolOffset, poolOffset + SERIAL_LENGTH);
    poolOffset += SERIAL_LENGTH;
  }
  out[0] = ((out[0] as number) & 0x7f) | 0x40;
  return out;
}

/**
 * A fresh serial as a complete DER INTEGER (02 10 …), written straight from the pool: the
 * issuance hot path needs the TLV, not the magnitude. Same properties as {@link randomSerial}.
 */
export function randomSerialInteger(): Uint8Array {
  if (poolOffset + SERIAL_LENGTH > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = new Uint8Array(SERIAL_LENGTH + 2);
  out[0] = 0x02;
  out[1] = SERIAL_LENGTH;
  out.set(pool.subarray(poolOffset, poolOffset + SERIAL_LENGTH), 2);
  pool.fill(0, poolOffset, poolOffset + SERIAL_LENGTH);
  poolOffset += SERIAL_LENGTH;
  out[2] = ((out[2] as number) & 0x7f) | 0x40;
  return out;
}

/** Formats a serial magnitude as lower-case hex with colons (`4a:1f:…`), as inspect shows it. */
export function formatSerial(serial: Uint8Array): string {
  return Array.from(serial, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parses hex (with or without colons, optional 0x) into a serial magnitude; ERR_BAD_OPTION when invalid. */
export function parseSerial(text: string): Uint8Array {
  let t = text.trim().replace(/:/g, '');
  if (t.startsWith('0x') || t.startsWith('0X')) t = t.slice(2);
  if (t.length === 0 || !/^[0-9a-fA-F]+$/.test(t)) throw new SignetError('ERR_BAD_OPTION', `invalid serial number "${text}"`, { hint: 'use hex, e.g. 4a:1f:03' });
  if (t.length % 2 === 1) t = '0' + t;
  return new Uint8Array(Buffer.from(t, 'hex'));
}
