/**
 * A strict DER TLV reader (implemented by der-lazy.ts, whose TLVs slice lazily) used to slice exact bytes out of parsed objects (the TBS that a
 * signature covers, Names for chain matching, GeneralNames with their raw IP octets). Typed
 * decoding of whole structures goes through @peculiar/asn1-schema; this only walks tag/length/
 * value with DER's rules (X.690 §10.1: definite, minimal lengths) and rejects anything else.
 */
import type { ErrorCode } from '../core/errors.js';
// One header parser for both walkers: der-lazy.ts creates the byte views on demand.
import { childrenLazy, readAt, readSingleLazy } from './der-lazy.js';

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
  return readAt(buf, offset, buf.length, 0, code);
}

/** Reads exactly one TLV spanning the whole of `buf` (no trailing bytes). */
export function readSingle(buf: Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): Tlv {
  return readSingleLazy(buf, code);
}

/** The child TLVs of a constructed TLV's content (or of a bare content buffer). */
export function children(parent: Tlv | Uint8Array, code: ErrorCode = 'ERR_DER_MALFORMED'): Tlv[] {
  if (!(parent instanceof Uint8Array)) return childrenLazy(parent, code);
  const out: Tlv[] = [];
  for (let o = 0; o < parent.length; ) {
    const t = readAt(parent, o, parent.length, 0, code);
    out.push(t);
    o = t.end;
  }
  return out;
}
