/**
 * The strict DER walk of der-reader.ts (same rules, same errors) with TLVs that slice their
 * `bytes` and `content` views only when asked for. Creating two typed-array views per TLV was
 * the main cost (and garbage) of parsing a certificate, whose hundred-odd TLVs are mostly only
 * looked at by tag; the certificate parser, which the CA runs before every signature, uses this.
 */
import { SignetError, type ErrorCode } from '../core/errors.js';
import type { Tlv } from './der-reader.js';

/** A {@link Tlv} whose views are created on first use; offsets refer to `source`. */
export class LazyTlv implements Tlv {
  #bytes: Uint8Array | undefined;
  #content: Uint8Array | undefined;

  constructor(
    /** The buffer the offsets refer to. */
    readonly source: Uint8Array,
    readonly tag: number,
    readonly start: number,
    readonly contentStart: number,
    readonly end: number,
  ) {}

  get bytes(): Uint8Array {
    return (this.#bytes ??= this.source.subarray(this.start, this.end));
  }

  get content(): Uint8Array {
    return (this.#content ??= this.source.subarray(this.contentStart, this.end));
  }
}

/**
 * Reads one TLV at `offset` of `buf`, not past `limit`; offsets of the result are relative to
 * `buf`, errors name the offset relative to `base` (as der-reader does for a parent's content).
 */
export function readAt(buf: Uint8Array, offset: number, limit: number, base: number, code: ErrorCode): LazyTlv {
  const fail = (why: string): never => {
    throw new SignetError(code, `malformed DER: ${why} at offset ${offset - base}`);
  };
  if (offset + 2 > limit) fail('truncated header');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tag');
  const first = buf[offset + 1] as number;
  let len: number;
  let contentStart: number;
  if (first < 0x80) {
    len = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) fail('indefinite length');
    if (n > 4) fail('length too large');
    if (offset + 2 + n > limit) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    if (len < 0x80 || (buf[offset + 2] as number) === 0) fail('non-minimal length');
    contentStart = offset + 2 + n;
  }
  const end = contentStart + len;
  if (end > limit) fail('truncated content');
  return new LazyTlv(buf, tag, offset, contentStart, end);
}

/** Reads exactly one TLV spanning the whole of `buf` (as der-reader's `readSingle`). */
export function readSingleLazy(buf: Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): LazyTlv {
  const t = readAt(buf, 0, buf.length, 0, code);
  if (t.end !== buf.length) throw new SignetError(code, `malformed DER: ${buf.length - t.end} trailing bytes`);
  return t;
}

/** The child TLVs of a TLV (as der-reader's `children`). */
export function childrenLazy(parent: Tlv, code: ErrorCode = 'ERR_DER_MALFORMED'): LazyTlv[] {
  const out: LazyTlv[] = [];
  if (!(parent instanceof LazyTlv)) {
    // A TLV from der-reader: walk its content view.
    const content = parent.content;
    for (let o = 0; o < content.length; ) {
      const t = readAt(content, o, content.length, 0, code);
      out.push(t);
      o = t.end;
    }
    return out;
  }
  for (let o = parent.contentStart; o < parent.end; ) {
    const t = readAt(parent.source, o, parent.end, parent.contentStart, code);
    out.push(t);
    o = t.end;
  }
  return out;
}
