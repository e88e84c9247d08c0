/**
 * A strict DER TLV reader used to slice exact bytes out of parsed objects (the TBS that a
 * signature covers, Names for chain matching, GeneralNames with their raw IP octets). Typed
 * decoding of whole structures goes through @peculiar/asn1-schema; this only walks tag/length/
 * value with DER's rules (X.690 §10.1: definite, minimal lengths) and rejects anything else.
 */
import { SignetError, type ErrorCode } from '../core/errors.js';

export interface Tlv {
  /** The identifier octet (single-byte tags only; X.509 never needs more). */
  readonly tag: number;
  /** Offset of the identifier octet in the source. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset one past the last content octet. */
  readonly end: number;
  /** The complete TLV. */
  readonly bytes: Uint8Array;
  /** The content octets. */
  readonly content: Uint8Array;
}

/** Reads one TLV at `offset` in `buf`; throws `code` (default ERR_DER_MALFORMED) on any defect. */
export function readTlv(buf: Uint8Array, offset = 0, code: ErrorCode = 'ERR_DER_MALFORMED'): Tlv {
  const fail = (why: string): never => {
    throw new SignetError(code, `malformed der: ${why} at offset ${offset}`);
  };
  if (offset + 2 > buf.length) fail('truncated header');
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
    if (offset + 2 + n > buf.length) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[offset + 2 + i] as number);
    if (len < 0x80 || (buf[offset + 2] as number) === 0) fail('non-minimal length');
    contentStart = offset + 2 + n;
  }
  const end = contentStart + len;
  if (end > buf.length) fail('truncated content');
  return { tag, start: offset, contentStart, end, bytes: buf.subarray(offset, end), content: buf.subarray(contentStart, end) };
}

/** Reads exactly one TLV spanning the whole of `buf` (no trailing bytes). */
export function readSingle(buf: Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): Tlv {
  const t = readTlv(buf, 0, code);
  if (t.end !== buf.length) throw new SignetError(code, `malformed der: ${buf.length - t.end} trailing bytes`);
  return t;
}

/** The child TLVs of a constructed TLV's content. */
export function children(parent: Tlv | Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): Tlv[] {
  const content = parent instanceof Uint8Array ? parent : parent.content;
  const out: Tlv[] = [];
  let o = 0;
  while (o < content.length) {
    const t = readTlv(content, o, code);
    out.push(t);
    o = t.end;
  }
  return out;
}
