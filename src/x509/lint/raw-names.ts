/**
 * Tolerant readers of GeneralNames (RFC 5280 §4.2.1.6) and NameConstraints (§4.2.1.10) for the
 * linter. The certificate parser rejects an extension whose names are malformed (an IP address of
 * 5 octets, a non-ASCII dNSName) and reports it as undecodable; the linter still wants to say
 * *which* name is wrong, so it walks the DER itself and keeps every name as encoded.
 */
import type { Tlv } from '../der-reader.js';
import { childrenLazy as children, readSingleLazy as readSingle } from '../der-lazy.js';

/** The GeneralName CHOICE alternatives, by context tag number. */
export type RawGeneralNameType = 'otherName' | 'email' | 'dns' | 'x400' | 'dirName' | 'ediParty' | 'uri' | 'ip' | 'registeredId';

const TYPES: readonly RawGeneralNameType[] = ['otherName', 'email', 'dns', 'x400', 'dirName', 'ediParty', 'uri', 'ip', 'registeredId'];

/** One GeneralName as encoded. */
export interface RawGeneralName {
  readonly type: RawGeneralNameType | 'unknown';
  /** Content octets as Latin-1 text (meaningful for the IA5String alternatives). */
  readonly text: string;
  /** Content octets. */
  readonly octets: Uint8Array;
}

/** Reads one GeneralName TLV without judging its content. */
export function rawGeneralName(t: Tlv): RawGeneralName {
  const type = (t.tag & 0xc0) === 0x80 ? (TYPES[t.tag & 0x1f] ?? 'unknown') : 'unknown';
  const c = t.content;
  return { type, text: Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1'), octets: c };
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName; undefined when the DER cannot be walked. */
export function readRawGeneralNames(value: Uint8Array): RawGeneralName[] | undefined {
  try {
    const seq = readSingle(value);
    if (seq.tag !== 0x30) return undefined;
    return children(seq).map(rawGeneralName);
  } catch {
    return undefined;
  }
}

/** NameConstraints read tolerantly. */
export interface RawNameConstraints {
  readonly permitted: readonly RawGeneralName[];
  readonly excluded: readonly RawGeneralName[];
  /** Neither permittedSubtrees nor excludedSubtrees is present (or both are empty). */
  readonly empty: boolean;
  /** Some GeneralSubtree carries a minimum or maximum field (any value). */
  readonly minMax: boolean;
}

/**
 * NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
 *                                excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
 * GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] BaseDistance DEFAULT 0,
 *                               maximum [1] BaseDistance OPTIONAL }
 */
export function readRawNameConstraints(value: Uint8Array): RawNameConstraints | undefined {
  try {
    const seq = readSingle(value);
    if (seq.tag !== 0x30) return undefined;
    const permitted: RawGeneralName[] = [];
    const excluded: RawGeneralName[] = [];
    let minMax = false;
    for (const part of children(seq)) {
      const target = part.tag === 0xa0 ? permitted : part.tag === 0xa1 ? excluded : undefined;
      if (!target) return undefined;
      for (const subtree of children(part)) {
        const [base, ...rest] = children(subtree);
        if (subtree.tag !== 0x30 || !base) return undefined;
        if (rest.length > 0) minMax = true;
        target.push(rawGeneralName(base));
      }
    }
    return { permitted, excluded, empty: permitted.length === 0 && excluded.length === 0, minMax };
  } catch {
    return undefined;
  }
}
