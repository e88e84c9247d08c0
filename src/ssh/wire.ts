/**
 * The SSH wire encoding (RFC 4251 §5) that OpenSSH keys and certificates are made of: `uint32`,
 * `uint64`, `string` (length-prefixed bytes), `mpint` (two's complement, minimal) and `bool`.
 * The writer collects parts and joins them once; the reader is strict — every read checks the
 * bytes left, `end()` refuses trailing bytes, and an mpint must be minimally encoded — and
 * reports problems as ERR_SSH_MALFORMED naming what was being read.
 */
import { SignetError } from '../core/errors.js';

/** Builds an SSH wire encoding. */
export class SshWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  #push(b: Uint8Array): this {
    this.#parts.push(b);
    this.#length += b.length;
    return this;
  }

  byte(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new SignetError('ERR_INTERNAL', `byte out of range: ${n}`);
    return this.#push(Uint8Array.of(n));
  }

  uint32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new SignetError('ERR_INTERNAL', `uint32 out of range: ${n}`);
    return this.#push(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
  }

  uint64(n: bigint): this {
    if (n < 0n || n > 0xffffffffffffffffn) throw new SignetError('ERR_INTERNAL', `uint64 out of range: ${n}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n);
    return this.#push(b);
  }

  /** A `string`: uint32 length, then the bytes (text is UTF-8). */
  string(v: Uint8Array | string): this {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
    this.uint32(b.length);
    return this.#push(b);
  }

  /** An `mpint` of a non-negative integer given as big-endian magnitude bytes (leading zeros dropped, a 00 added when the top bit is set). */
  mpint(magnitude: Uint8Array): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    const m = magnitude.subarray(i);
    return this.string(m.length > 0 && ((m[0] as number) & 0x80) !== 0 ? Uint8Array.from([0, ...m]) : m);
  }

  /** Raw bytes, as they are. */
  raw(b: Uint8Array): this {
    return this.#push(b);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function malformed(what: string, message: string): SignetError {
  return new SignetError('ERR_SSH_MALFORMED', `malformed SSH ${what}: ${message}`);
}

/** Reads an SSH wire encoding; `what` names the object in errors ("certificate", "public key"). */
export class SshReader {
  readonly #b: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #at = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#b = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** Where the next read starts (an offset into the bytes given). */
  get offset(): number {
    return this.#at;
  }

  #need(n: number, field: string): void {
    if (this.#b.length - this.#at < n) throw malformed(this.#what, `${field} is truncated`);
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#b.length - this.#at;
  }

  byte(field: string): number {
    this.#need(1, field);
    return this.#b[this.#at++] as number;
  }

  uint32(field: string): number {
    this.#need(4, field);
    const v = this.#view.getUint32(this.#at);
    this.#at += 4;
    return v;
  }

  uint64(field: string): bigint {
    this.#need(8, field);
    const v = this.#view.getBigUint64(this.#at);
    this.#at += 8;
    return v;
  }

  string(field: string): Uint8Array {
    const n = this.uint32(`${field} length`);
    this.#need(n, field);
    const v = this.#b.subarray(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  /** A `string` holding UTF-8 text without NUL. */
  text(field: string): string {
    const b = this.string(field);
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw malformed(this.#what, `${field} is not UTF-8`);
    }
    if (s.includes('\0')) throw malformed(this.#what, `${field} contains NUL`);
    return s;
  }

  /** A non-negative `mpint`, as its magnitude (big-endian, no leading zeros). */
  mpint(field: string): Uint8Array {
    const b = this.string(field);
    if (b.length === 0) return b;
    if (((b[0] as number) & 0x80) !== 0) throw malformed(this.#what, `${field} is negative`);
    if (b[0] === 0 && (b.length === 1 || ((b[1] as number) & 0x80) === 0)) throw malformed(this.#what, `${field} is not minimally encoded`);
    return b[0] === 0 ? b.subarray(1) : b;
  }

  /** Fails unless every byte was read. */
  end(): void {
    if (this.#at !== this.#b.length) throw malformed(this.#what, `${this.#b.length - this.#at} trailing bytes`);
  }
}
