/**
 * Writing X.509 v2 CRLs (RFC 5280 §5) with the DER writer. A CRL can carry a million entries, so
 * entries are written straight into one buffer sized beforehand: no TLV object per entry.
 *
 * Profile: version 2; the issuer's Name exactly as in its certificate; thisUpdate/nextUpdate;
 * entries with reasonCode (absent for `unspecified`, RFC 5280 §5.3.1) and invalidityDate; CRL
 * extensions authorityKeyIdentifier, cRLNumber and — critical — issuingDistributionPoint with the
 * CRL's URL (the one certificates name in their CRL distribution points) and
 * onlyContainsUserCerts (the issuing CA issues end-entity certificates only).
 */
import { SignetError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';
import { assembleCertificate } from './certificate-builder.js';
import { boolean, explicit, generalizedTime, headerLength, ia5String, implicitConstructed, implicitPrimitive, integer, octetString, oid, sequence, Tag, time, writeHeader } from './der.js';
import { CRL_REASONS } from './crl.js';
import { OID } from './oids.js';

/** One revoked certificate in a CRL. */
export interface CrlEntryInput {
  /** Lower-case hex of the serial's magnitude (the store's form). */
  readonly serial: string;
  readonly revokedAt: Date;
  /** RFC 5280 §5.3.1 reason name; `unspecified` or none: no reasonCode. */
  readonly reason?: string;
  readonly invalidAt?: Date;
}

/** What a CRL says besides its entries. */
export interface CrlInput {
  /** The issuer's subject Name DER, exactly as in its certificate. */
  readonly issuerName: Uint8Array;
  /** The issuer's subject key identifier (the CRL's authorityKeyIdentifier). */
  readonly issuerKeyIdentifier: Uint8Array;
  readonly number: bigint;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** The URL the CRL is published at; present: an issuingDistributionPoint naming it. */
  readonly url?: string;
}

const REASON_CODES: ReadonlyMap<string, number> = new Map(Object.entries(CRL_REASONS).map(([code, name]) => [name, Number(code)]));

// Entry extension prefixes: SEQUENCE { OID, OCTET STRING { … } }.
const REASON_OID = oid(OID.cRLReason);
const INVALIDITY_OID = oid(OID.invalidityDate);

/** The reasonCode of a reason name; undefined for `unspecified` (left out). ERR_INTERNAL for a name a CRL entry cannot carry (the store holds only valid ones). */
export function reasonCodeOf(reason: string | undefined): number | undefined {
  if (reason === undefined || reason === 'unspecified') return undefined;
  const code = REASON_CODES.get(reason);
  if (code === undefined || code === 8) throw new SignetError('ERR_INTERNAL', `"${reason}" is not a revocation reason a CRL entry can carry (RFC 5280 §5.3.1)`);
  return code;
}

function serialBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2}){1,20}$/.test(hex)) throw new SignetError('ERR_INTERNAL', `serial "${hex.slice(0, 48)}" is not the lower-case hex of 1–20 octets`);
  return Buffer.from(hex, 'hex');
}

/** The encoded extensions of one entry (empty when it has none). */
function entryExtensions(entry: CrlEntryInput): Uint8Array | undefined {
  const exts: Uint8Array[] = [];
  const code = reasonCodeOf(entry.reason);
  if (code !== undefined) exts.push(sequence([REASON_OID, octetString(Uint8Array.of(Tag.ENUMERATED, 1, code))]));
  if (entry.invalidAt !== undefined) exts.push(sequence([INVALIDITY_OID, octetString(generalizedTime(entry.invalidAt))]));
  return exts.length === 0 ? undefined : sequence(exts);
}

// revocationDate encodings are cached per second: a bulk revocation gives thousands the same time.
let lastTimeKey = NaN;
let lastTime: Uint8Array = new Uint8Array(0);
function revocationTime(d: Date): Uint8Array {
  const key = Math.floor(d.getTime() / 1000);
  if (key !== lastTimeKey) {
    lastTime = time(d);
    lastTimeKey = key;
  }
  return lastTime;
}

/** revokedCertificates, written into one buffer; undefined when there are no entries (the field is then absent). */
function encodeEntries(entries: readonly CrlEntryInput[]): Uint8Array | undefined {
  if (entries.length === 0) return undefined;
  // Pass 1: the parts of each entry and the total size.
  const serials = new Array<Uint8Array>(entries.length);
  const times = new Array<Uint8Array>(entries.length);
  const exts = new Array<Uint8Array | undefined>(entries.length);
  const lengths = new Uint32Array(entries.length);
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as CrlEntryInput;
    const mag = serialBytes(e.serial);
    // INTEGER content: the magnitude, with a leading 00 when its top bit is set (stays positive).
    const intLen = mag.length + (((mag[0] as number) & 0x80) !== 0 ? 1 : 0);
    serials[i] = mag;
    const t = revocationTime(e.revokedAt);
    times[i] = t;
    const x = entryExtensions(e);
    exts[i] = x;
    const len = 2 + intLen + t.length + (x?.length ?? 0);
    lengths[i] = len;
    total += headerLength(len) + len;
  }
  const out = new Uint8Array(headerLength(total) + total);
  let o = writeHeader(out, 0, Tag.SEQUENCE, total);
  for (let i = 0; i < entries.length; i++) {
    o = writeHeader(out, o, Tag.SEQUENCE, lengths[i] as number);
    const mag = serials[i] as Uint8Array;
    const pad = ((mag[0] as number) & 0x80) !== 0;
    out[o++] = Tag.INTEGER;
    out[o++] = mag.length + (pad ? 1 : 0);
    if (pad) out[o++] = 0;
    out.set(mag, o);
    o += mag.length;
    const t = times[i] as Uint8Array;
    out.set(t, o);
    o += t.length;
    const x = exts[i];
    if (x !== undefined) {
      out.set(x, o);
      o += x.length;
    }
  }
  return out;
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(critical ? [oid(id), boolean(true), octetString(value)] : [oid(id), octetString(value)]);
}

/** The TBSCertList of `input` with `entries`, for `signer`'s algorithm. */
export function buildTbsCrl(input: CrlInput, entries: readonly CrlEntryInput[], signer: Pick<Signer, 'algorithm'>): Uint8Array {
  if (input.number < 0n || input.number >= 1n << 159n) throw new SignetError('ERR_INTERNAL', 'a CRL number is a non-negative integer of at most 20 octets (RFC 5280 §5.2.3)');
  if (input.nextUpdate.getTime() <= input.thisUpdate.getTime()) throw new SignetError('ERR_INTERNAL', 'nextUpdate must be after thisUpdate');
  // OpenSSL's order (`openssl ca -gencrl`): authorityKeyIdentifier, issuingDistributionPoint, cRLNumber.
  const crlExtensions: Uint8Array[] = [extension(OID.authorityKeyIdentifier, false, sequence([implicitPrimitive(0, input.issuerKeyIdentifier)]))];
  if (input.url !== undefined) {
    // distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] url } }, onlyContainsUserCerts [1] TRUE
    const uri = ia5String(input.url);
    uri[0] = 0x86;
    const idp = sequence([implicitConstructed(0, implicitConstructed(0, uri)), Uint8Array.of(0x81, 1, 0xff)]);
    crlExtensions.push(extension(OID.issuingDistributionPoint, true, idp));
  }
  crlExtensions.push(extension(OID.cRLNumber, false, integer(input.number)));
  const parts = [integer(1), signer.algorithm.identifier, input.issuerName, time(input.thisUpdate), time(input.nextUpdate)];
  const revoked = encodeEntries(entries);
  if (revoked !== undefined) parts.push(revoked);
  parts.push(explicit(0, sequence(crlExtensions)));
  return sequence(parts);
}

/** A signed CRL (DER). */
export function signCrl(input: CrlInput, entries: readonly CrlEntryInput[], signer: Signer): Uint8Array {
  const tbs = buildTbsCrl(input, entries, signer);
  // CertificateList has Certificate's shape: SEQUENCE { tbs, signatureAlgorithm, signatureValue }.
  return assembleCertificate(tbs, signer.algorithm.identifier, signer.sign(tbs));
}
