/**
 * OCSP messages (RFC 6960 §4, profiled by RFC 5019): reading requests with the strict DER walker
 * and writing responses with the DER writer. Requests are small and arrive tens of thousands of
 * times a second, so reading stops at what a responder needs: each CertID (its exact bytes, which
 * the response repeats, and its parts) and the nonce extension (RFC 8954), which is echoed.
 *
 * Strictness: DER only (definite minimal lengths, no trailing bytes); version, when present, is
 * v1; an unknown *critical* request extension or a nonce outside 1–32 octets (RFC 8954 §2.1)
 * makes the request malformed; unknown non-critical extensions and a request signature are
 * ignored (the responder does not require signed requests, RFC 6960 §4.1.2).
 */
import { createHash } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';
import { reasonCodeOf } from './crl-builder.js';
import { childrenLazy, readSingleLazy, type LazyTlv } from './der-lazy.js';
import { bitString, cat, explicit, generalizedTime, NULL, octetString, oid, sequence, Tag, tlv, unsignedInteger } from './der.js';
import { OID } from './oids.js';
import { decodeAsn1Time } from './asn1-time.js';
import { CRL_REASONS } from './crl.js';
import { decodeOid } from './decode-names.js';
import { equalBytes } from '../core/bytes.js';
import type { AlgorithmReference } from '../crypto/signature.js';

/** OCSPResponseStatus (RFC 6960 §4.2.1). */
export const OcspResponseStatus = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspResponseStatusName = keyof typeof OcspResponseStatus;

/** The hash algorithms a CertID may use here. */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const CERT_ID_HASHES: readonly CertIdHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];

const HASH_OIDS: ReadonlyMap<string, CertIdHash> = new Map(CERT_ID_HASHES.map((h) => [Buffer.from(oid(OID[h])).toString('latin1'), h]));

/** id-pkix-ocsp-nonce (RFC 6960 §4.4.1). */
export const OCSP_NONCE_OID = '1.3.6.1.5.5.7.48.1.2';
/** id-pkix-ocsp-basic (RFC 6960 §4.2.1). */
export const OCSP_BASIC_OID = '1.3.6.1.5.5.7.48.1.1';
/** RFC 8954 §2.1: a nonce has 1–32 octets. */
export const MAX_NONCE_OCTETS = 32;
/** Most CertIDs one request may ask about (RFC 5019 clients send one). */
export const MAX_REQUESTS_PER_OCSP_REQUEST = 16;

const NONCE_OID_BYTES = Buffer.from(oid(OCSP_NONCE_OID)).toString('latin1');
const BASIC_OID = oid(OCSP_BASIC_OID);

/** One CertID of a request. */
export interface OcspCertId {
  /** The CertID exactly as sent (the response repeats it byte for byte, RFC 6960 §4.2.2.3). */
  readonly der: Uint8Array;
  /** The hash algorithm; undefined when it is not one of {@link CERT_ID_HASHES}. */
  readonly hash: CertIdHash | undefined;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Lower-case hex of the serial's magnitude (the store's form); undefined for a negative, zero or over-long serial (none was ever issued). */
  readonly serial: string | undefined;
}

/** What a responder needs of an OCSPRequest. */
export interface OcspRequest {
  readonly certIds: readonly OcspCertId[];
  /** The whole nonce Extension TLV, to be echoed in the response; undefined when none was sent. */
  readonly nonce: Uint8Array | undefined;
}

function malformed(message: string): SignetError {
  return new SignetError('ERR_OCSP_MALFORMED_REQUEST', `malformed OCSP request: ${message}`);
}

/** How a reader reports a structural problem: the request's or the response's error. */
type Fail = (message: string) => SignetError;

function expect(t: LazyTlv | undefined, tag: number, what: string, fail: Fail = malformed): LazyTlv {
  if (t === undefined) throw fail(`${what} is missing`);
  if (t.tag !== tag) throw fail(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

function kids(t: LazyTlv, fail: Fail = malformed): LazyTlv[] {
  try {
    return childrenLazy(t, 'ERR_OCSP_MALFORMED_REQUEST');
  } catch (e) {
    throw fail === malformed ? e : fail(e instanceof SignetError ? e.message.replace(/^malformed DER: /, '') : 'not DER');
  }
}

/** The store form of a serial INTEGER's content; undefined when it cannot be one of ours. */
function serialOf(content: Uint8Array, fail: Fail = malformed): string | undefined {
  if (content.length === 0) throw fail('empty serialNumber');
  if (content.length > 1 && ((content[0] === 0 && ((content[1] as number) & 0x80) === 0) || (content[0] === 0xff && ((content[1] as number) & 0x80) !== 0))) {
    throw fail('serialNumber is not minimally encoded');
  }
  if (((content[0] as number) & 0x80) !== 0) return undefined;
  const mag = content[0] === 0 ? content.subarray(1) : content;
  if (mag.length === 0 || mag.length > 20) return undefined;
  return Buffer.from(mag.buffer, mag.byteOffset, mag.byteLength).toString('hex');
}

function readCertId(t: LazyTlv, fail: Fail = malformed): OcspCertId {
  const [alg, nameHash, keyHash, serial, extra] = kids(expect(t, Tag.SEQUENCE, 'CertID', fail), fail);
  if (extra !== undefined) throw fail('CertID has extra fields');
  const algParts = kids(expect(alg, Tag.SEQUENCE, 'CertID hashAlgorithm', fail), fail);
  const algOid = expect(algParts[0], Tag.OID, 'hashAlgorithm algorithm', fail);
  // Parameters: absent or NULL (RFC 5754 §2: both are seen for the SHA-2 family; SHA-1 usually NULL).
  if (algParts.length > 2 || (algParts[1] !== undefined && (algParts[1].tag !== Tag.NULL || algParts[1].end !== algParts[1].contentStart))) {
    throw fail('hashAlgorithm parameters must be absent or NULL');
  }
  const b = algOid.bytes;
  const hash = HASH_OIDS.get(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1'));
  return {
    der: t.bytes,
    hash,
    issuerNameHash: expect(nameHash, Tag.OCTET_STRING, 'issuerNameHash', fail).content,
    issuerKeyHash: expect(keyHash, Tag.OCTET_STRING, 'issuerKeyHash', fail).content,
    serial: serialOf(expect(serial, Tag.INTEGER, 'serialNumber', fail).content, fail),
  };
}

/** The nonce Extension TLV among `extensions` ([2] EXPLICIT Extensions of TBSRequest), after checking them all. */
function readRequestExtensions(wrapper: LazyTlv): Uint8Array | undefined {
  const list = kids(wrapper);
  if (list.length !== 1) throw malformed('requestExtensions must hold one Extensions sequence');
  const exts = kids(expect(list[0], Tag.SEQUENCE, 'requestExtensions'));
  let nonce: Uint8Array | undefined;
  const seen = new Set<string>();
  for (const ext of exts) {
    const parts = kids(expect(ext, Tag.SEQUENCE, 'Extension'));
    const id = expect(parts[0], Tag.OID, 'extnID');
    const key = Buffer.from(id.bytes).toString('latin1');
    if (seen.has(key)) throw malformed('an extension appears twice');
    seen.add(key);
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === Tag.BOOLEAN) {
      const c = parts[i] as LazyTlv;
      if (c.end - c.contentStart !== 1 || (c.content[0] !== 0xff && c.content[0] !== 0)) throw malformed('critical must be a DER BOOLEAN');
      // DER: DEFAULT FALSE is left out, so an explicit FALSE is not DER.
      if (c.content[0] === 0) throw malformed('critical FALSE must be omitted (DER)');
      critical = true;
      i++;
    }
    const value = expect(parts[i], Tag.OCTET_STRING, 'extnValue');
    if (parts.length !== i + 1) throw malformed('Extension has extra fields');
    if (key === NONCE_OID_BYTES) {
      // RFC 8954 §2.1: Nonce ::= OCTET STRING (SIZE(1..32)).
      let inner: LazyTlv;
      try {
        inner = readSingleLazy(value.content, 'ERR_OCSP_MALFORMED_REQUEST');
      } catch {
        throw malformed('the nonce extension must hold an OCTET STRING (RFC 8954)');
      }
      if (inner.tag !== Tag.OCTET_STRING) throw malformed('the nonce extension must hold an OCTET STRING (RFC 8954)');
      const n = inner.end - inner.contentStart;
      if (n < 1 || n > MAX_NONCE_OCTETS) throw malformed(`the nonce has ${n} octets; RFC 8954 allows 1 to ${MAX_NONCE_OCTETS}`);
      nonce = ext.bytes;
    } else if (critical) {
      throw malformed('an unsupported request extension is marked critical');
    }
  }
  return nonce;
}

/** Reads an OCSPRequest (RFC 6960 §4.1.1). ERR_OCSP_MALFORMED_REQUEST for anything that is not one. */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  if (der.length === 0) throw malformed('the request is empty');
  let top: LazyTlv;
  try {
    top = readSingleLazy(der, 'ERR_OCSP_MALFORMED_REQUEST');
  } catch (e) {
    throw malformed(e instanceof SignetError ? e.message.replace(/^malformed DER: /, '') : 'not DER');
  }
  const outer = kids(expect(top, Tag.SEQUENCE, 'OCSPRequest'));
  const tbs = expect(outer[0], Tag.SEQUENCE, 'tbsRequest');
  // optionalSignature [0] EXPLICIT is allowed and not required (nothing else may follow).
  if (outer.length > 2 || (outer[1] !== undefined && outer[1].tag !== 0xa0)) throw malformed('unexpected fields after tbsRequest');
  const fields = kids(tbs);
  let i = 0;
  if (fields[i]?.tag === 0xa0) {
    const v = kids(fields[i] as LazyTlv);
    const ver = v[0];
    if (v.length !== 1 || ver === undefined || ver.tag !== Tag.INTEGER || ver.end - ver.contentStart !== 1 || ver.content[0] !== 0) throw malformed('only version v1 (0) is defined');
    i++;
  }
  if (fields[i]?.tag === 0xa1) i++; // requestorName: informational only.
  const list = kids(expect(fields[i], Tag.SEQUENCE, 'requestList'));
  i++;
  if (list.length === 0) throw malformed('requestList is empty');
  if (list.length > MAX_REQUESTS_PER_OCSP_REQUEST) throw malformed(`requestList has ${list.length} entries; at most ${MAX_REQUESTS_PER_OCSP_REQUEST} are answered per request`);
  const certIds = list.map((r) => {
    const parts = kids(expect(r, Tag.SEQUENCE, 'Request'));
    // singleRequestExtensions [0] EXPLICIT: none is defined that a responder must act on.
    if (parts.length > 2 || (parts[1] !== undefined && parts[1].tag !== 0xa0)) throw malformed('Request has unexpected fields');
    return readCertId(parts[0] as LazyTlv);
  });
  let nonce: Uint8Array | undefined;
  if (fields[i]?.tag === 0xa2) {
    nonce = readRequestExtensions(fields[i] as LazyTlv);
    i++;
  }
  if (i !== fields.length) throw malformed('unexpected fields in tbsRequest');
  return { certIds, nonce };
}

/** An OCSPResponse without responseBytes (every status but `successful`). */
export function ocspStatusResponse(status: Exclude<OcspResponseStatusName, 'successful'>): Uint8Array {
  return Uint8Array.of(Tag.SEQUENCE, 3, Tag.ENUMERATED, 1, OcspResponseStatus[status]);
}

/** The status of one certificate. */
export type CertStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revokedAt: Date; readonly reason?: string; readonly invalidAt?: Date }
  | { readonly status: 'unknown' };

/** One SingleResponse. */
export interface SingleResponseInput {
  /** The CertID as the request sent it. */
  readonly certId: Uint8Array;
  readonly cert: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
}

/** What a BasicOCSPResponse says. */
export interface OcspResponseInput {
  /** SHA-1 of the responder's subjectPublicKey (ResponderID byKey, RFC 6960 §4.2.2.3, as RFC 5019 asks). */
  readonly responderKeyHash: Uint8Array;
  readonly producedAt: Date;
  readonly responses: readonly SingleResponseInput[];
  /** The request's nonce Extension TLV, echoed as it came. */
  readonly nonce?: Uint8Array;
  /** Certificates that help verify the signature (the delegated responder's). */
  readonly certs: readonly Uint8Array[];
}

const GOOD = Uint8Array.of(0x80, 0);
const UNKNOWN = Uint8Array.of(0x82, 0);
const INVALIDITY_OID = oid(OID.invalidityDate);

function singleResponse(r: SingleResponseInput): Uint8Array {
  let status: Uint8Array;
  let exts: Uint8Array | undefined;
  if (r.cert.status === 'good') status = GOOD;
  else if (r.cert.status === 'unknown') status = UNKNOWN;
  else {
    // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
    const code = reasonCodeOf(r.cert.reason);
    const info = [generalizedTime(r.cert.revokedAt)];
    if (code !== undefined) info.push(explicit(0, Uint8Array.of(Tag.ENUMERATED, 1, code)));
    status = tlv(0xa1, cat(info));
    // RFC 6960 §4.4.7 lets singleExtensions carry CRL entry extensions: the invalidity date.
    if (r.cert.invalidAt !== undefined) exts = explicit(1, sequence([sequence([INVALIDITY_OID, octetString(generalizedTime(r.cert.invalidAt))])]));
  }
  const parts = [r.certId, status, generalizedTime(r.thisUpdate), explicit(0, generalizedTime(r.nextUpdate))];
  if (exts !== undefined) parts.push(exts);
  return sequence(parts);
}

/** The ResponseData of `input` (what the responder signs). */
export function buildResponseData(input: OcspResponseInput): Uint8Array {
  if (input.responses.length === 0) throw new SignetError('ERR_INTERNAL', 'an OCSP response answers at least one CertID');
  const parts = [explicit(2, octetString(input.responderKeyHash)), generalizedTime(input.producedAt), sequence(input.responses.map(singleResponse))];
  if (input.nonce !== undefined) parts.push(explicit(1, sequence([input.nonce])));
  return sequence(parts);
}

/** A signed, successful OCSPResponse (DER) carrying a BasicOCSPResponse. */
export function signOcspResponse(input: OcspResponseInput, signer: Signer): Uint8Array {
  const tbs = buildResponseData(input);
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
  const parts = [tbs, signer.algorithm.identifier, bitString(signer.sign(tbs))];
  if (input.certs.length > 0) parts.push(explicit(0, sequence(input.certs)));
  return sequence([Uint8Array.of(Tag.ENUMERATED, 1, 0), explicit(0, sequence([BASIC_OID, octetString(sequence(parts))]))]);
}

/** The CertID hashes of an issuer: its subject Name DER and its subjectPublicKey bits, under each supported hash. */
export interface IssuerHashes {
  readonly hash: CertIdHash;
  readonly nameHash: Uint8Array;
  readonly keyHash: Uint8Array;
}

/** {@link IssuerHashes} for every supported hash (RFC 6960 §4.1.1: issuerNameHash over the DER Name, issuerKeyHash over the BIT STRING's value, without tag, length and unused-bits octet). */
export function issuerHashes(subjectName: Uint8Array, subjectPublicKey: Uint8Array): IssuerHashes[] {
  return CERT_ID_HASHES.map((hash) => ({
    hash,
    nameHash: new Uint8Array(createHash(hash).update(subjectName).digest()),
    keyHash: new Uint8Array(createHash(hash).update(subjectPublicKey).digest()),
  }));
}

/** The subjectPublicKey bits of a SubjectPublicKeyInfo DER (what issuerKeyHash and ResponderID byKey hash). */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const [, bits] = childrenLazy(readSingleLazy(spki));
  if (bits === undefined || bits.tag !== Tag.BIT_STRING) throw new SignetError('ERR_KEY_MALFORMED', 'SubjectPublicKeyInfo without a subjectPublicKey BIT STRING');
  return bits.content.subarray(1);
}

/** The CertID (DER) of `serial` (store form) issued by the CA with these hashes: hashAlgorithm with NULL parameters, as OpenSSL writes it. */
export function encodeCertId(issuer: IssuerHashes, serial: string): Uint8Array {
  return sequence([sequence([oid(OID[issuer.hash]), NULL]), octetString(issuer.nameHash), octetString(issuer.keyHash), unsignedInteger(Buffer.from(serial, 'hex'))]);
}

/** An unsigned OCSPRequest for `certIds` (DER each), with a nonce extension of `nonce`'s octets when given. */
export function buildOcspRequest(certIds: readonly Uint8Array[], nonce?: Uint8Array): Uint8Array {
  const list = sequence(certIds.map((id) => sequence([id])));
  const parts = [list];
  if (nonce !== undefined) parts.push(explicit(2, sequence([sequence([oid(OCSP_NONCE_OID), octetString(octetString(nonce))])])));
  return sequence([sequence(parts)]);
}

// ---------------------------------------------------------------------------------------------
// Reading responses (the client side: `signet certificate verify --ocsp`)

/** One SingleResponse as read. */
export interface OcspSingleResponse {
  readonly certId: OcspCertId;
  readonly cert: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
}

/** A BasicOCSPResponse as read: what was signed, by whom, and what it says. */
export interface BasicOcspResponse {
  /** ResponseData DER exactly as signed. */
  readonly tbs: Uint8Array;
  /** ResponderID: the responder's subject Name DER, or the SHA-1 of its subjectPublicKey. */
  readonly responderId: { readonly byName: Uint8Array } | { readonly byKey: Uint8Array };
  readonly producedAt: Date;
  readonly responses: readonly OcspSingleResponse[];
  /** The nonce's octets, when the response carries one. */
  readonly nonce?: Uint8Array;
  readonly signatureAlgorithm: AlgorithmReference;
  readonly signature: Uint8Array;
  /** Certificates (DER) sent to help verify the signature. */
  readonly certs: readonly Uint8Array[];
}

/** An OCSPResponse: its status, and the basic response when successful. */
export interface OcspResponse {
  readonly status: OcspResponseStatusName;
  readonly basic?: BasicOcspResponse;
}

const responseMalformed: Fail = (message) => new SignetError('ERR_OCSP_MALFORMED_RESPONSE', `malformed OCSP response: ${message}`);
const STATUS_NAMES: ReadonlyMap<number, OcspResponseStatusName> = new Map(Object.entries(OcspResponseStatus).map(([k, v]) => [v, k as OcspResponseStatusName]));

function readTime(t: LazyTlv | undefined, what: string): Date {
  const g = expect(t, Tag.GENERALIZED_TIME, what, responseMalformed);
  const d = decodeAsn1Time(g.tag, Buffer.from(g.content).toString('latin1'));
  if (typeof d === 'string') throw responseMalformed(`${what}: ${d}`);
  return d;
}

function readCertStatus(t: LazyTlv | undefined): { cert: CertStatus; revokedInfo?: true } {
  if (t === undefined) throw responseMalformed('certStatus is missing');
  if (t.tag === 0x80 && t.end === t.contentStart) return { cert: { status: 'good' } };
  if (t.tag === 0x82 && t.end === t.contentStart) return { cert: { status: 'unknown' } };
  if (t.tag !== 0xa1) throw responseMalformed(`certStatus: unexpected tag 0x${t.tag.toString(16)}`);
  const [time, reason, extra] = kids(t, responseMalformed);
  if (extra !== undefined) throw responseMalformed('RevokedInfo has extra fields');
  const revokedAt = readTime(time, 'revocationTime');
  if (reason === undefined) return { cert: { status: 'revoked', revokedAt } };
  const inner = kids(expect(reason, 0xa0, 'revocationReason', responseMalformed), responseMalformed);
  const e = expect(inner[0], Tag.ENUMERATED, 'revocationReason', responseMalformed);
  if (inner.length !== 1 || e.end - e.contentStart !== 1) throw responseMalformed('revocationReason must be one ENUMERATED octet');
  const name = CRL_REASONS[e.content[0] as number] ?? `unknown(${e.content[0] as number})`;
  return { cert: { status: 'revoked', revokedAt, reason: name } };
}

function readSingleResponse(t: LazyTlv): OcspSingleResponse {
  const parts = kids(expect(t, Tag.SEQUENCE, 'SingleResponse', responseMalformed), responseMalformed);
  const certId = readCertId(parts[0] as LazyTlv, responseMalformed);
  const { cert } = readCertStatus(parts[1]);
  const thisUpdate = readTime(parts[2], 'thisUpdate');
  let i = 3;
  let nextUpdate: Date | undefined;
  if (parts[i]?.tag === 0xa0) {
    const inner = kids(parts[i] as LazyTlv, responseMalformed);
    if (inner.length !== 1) throw responseMalformed('nextUpdate must hold one time');
    nextUpdate = readTime(inner[0], 'nextUpdate');
    i++;
  }
  if (parts[i]?.tag === 0xa1) i++; // singleExtensions: informational (e.g. the invalidity date).
  if (i !== parts.length) throw responseMalformed('SingleResponse has unexpected fields');
  return { certId, cert, thisUpdate, ...(nextUpdate !== undefined && { nextUpdate }) };
}

function readResponseNonce(wrapper: LazyTlv): Uint8Array | undefined {
  const [list, extra] = kids(wrapper, responseMalformed);
  if (extra !== undefined) throw responseMalformed('responseExtensions must hold one Extensions sequence');
  for (const ext of kids(expect(list, Tag.SEQUENCE, 'responseExtensions', responseMalformed), responseMalformed)) {
    const parts = kids(expect(ext, Tag.SEQUENCE, 'Extension', responseMalformed), responseMalformed);
    const id = expect(parts[0], Tag.OID, 'extnID', responseMalformed);
    if (Buffer.from(id.bytes).toString('latin1') !== NONCE_OID_BYTES) continue;
    const value = expect(parts.at(-1), Tag.OCTET_STRING, 'extnValue', responseMalformed);
    let inner: LazyTlv;
    try {
      inner = readSingleLazy(value.content, 'ERR_OCSP_MALFORMED_RESPONSE');
    } catch {
      throw responseMalformed('the nonce extension must hold an OCTET STRING (RFC 8954)');
    }
    return expect(inner, Tag.OCTET_STRING, 'nonce', responseMalformed).content;
  }
  return undefined;
}

function readAlgorithm(t: LazyTlv | undefined): AlgorithmReference {
  const [o, params, extra] = kids(expect(t, Tag.SEQUENCE, 'signatureAlgorithm', responseMalformed), responseMalformed);
  if (extra !== undefined) throw responseMalformed('malformed signatureAlgorithm');
  return { oid: decodeOid(expect(o, Tag.OID, 'signatureAlgorithm', responseMalformed).content, 'ERR_OCSP_MALFORMED_RESPONSE'), parameters: params?.bytes };
}

/**
 * Reads an OCSPResponse (RFC 6960 §4.2.1): DER only, ERR_OCSP_MALFORMED_RESPONSE for anything
 * else. Only the basic response type is read (the one every responder sends); the signature is
 * not checked here (see verify/ocsp.ts).
 */
export function parseOcspResponse(der: Uint8Array): OcspResponse {
  let top: LazyTlv;
  try {
    top = readSingleLazy(der, 'ERR_OCSP_MALFORMED_RESPONSE');
  } catch (e) {
    throw responseMalformed(e instanceof SignetError ? e.message.replace(/^malformed DER: /, '') : 'not DER');
  }
  const [statusTlv, bytes, extra] = kids(expect(top, Tag.SEQUENCE, 'OCSPResponse', responseMalformed), responseMalformed);
  const st = expect(statusTlv, Tag.ENUMERATED, 'responseStatus', responseMalformed);
  const status = st.end - st.contentStart === 1 ? STATUS_NAMES.get(st.content[0] as number) : undefined;
  if (status === undefined) throw responseMalformed('unknown responseStatus');
  if (extra !== undefined) throw responseMalformed('unexpected fields after responseBytes');
  if (status !== 'successful') {
    if (bytes !== undefined) throw responseMalformed(`a ${status} response carries responseBytes`);
    return { status };
  }
  const [rb, rbExtra] = kids(expect(bytes, 0xa0, 'responseBytes', responseMalformed), responseMalformed);
  if (rbExtra !== undefined) throw responseMalformed('responseBytes must hold one ResponseBytes');
  const [type, octets] = kids(expect(rb, Tag.SEQUENCE, 'ResponseBytes', responseMalformed), responseMalformed);
  if (!equalBytes(expect(type, Tag.OID, 'responseType', responseMalformed).bytes, BASIC_OID)) throw responseMalformed('only id-pkix-ocsp-basic responses are understood');
  let basicTlv: LazyTlv;
  try {
    basicTlv = readSingleLazy(expect(octets, Tag.OCTET_STRING, 'response', responseMalformed).content, 'ERR_OCSP_MALFORMED_RESPONSE');
  } catch (e) {
    throw e instanceof SignetError && e.code === 'ERR_OCSP_MALFORMED_RESPONSE' && e.message.startsWith('malformed OCSP response') ? e : responseMalformed('the BasicOCSPResponse is not DER');
  }
  const [tbs, alg, sig, certsTlv, more] = kids(expect(basicTlv, Tag.SEQUENCE, 'BasicOCSPResponse', responseMalformed), responseMalformed);
  if (more !== undefined) throw responseMalformed('BasicOCSPResponse has extra fields');
  const fields = kids(expect(tbs, Tag.SEQUENCE, 'tbsResponseData', responseMalformed), responseMalformed);
  let i = 0;
  if (fields[i]?.tag === 0xa0) {
    const v = kids(fields[i] as LazyTlv, responseMalformed);
    const ver = v[0];
    if (v.length !== 1 || ver === undefined || ver.tag !== Tag.INTEGER || ver.end - ver.contentStart !== 1 || ver.content[0] !== 0) throw responseMalformed('only version v1 (0) is defined');
    i++;
  }
  const rid = fields[i];
  let responderId: BasicOcspResponse['responderId'];
  if (rid?.tag === 0xa1) {
    const [name] = kids(rid, responseMalformed);
    responderId = { byName: expect(name, Tag.SEQUENCE, 'responderID byName', responseMalformed).bytes };
  } else if (rid?.tag === 0xa2) {
    const [key] = kids(rid, responseMalformed);
    responderId = { byKey: expect(key, Tag.OCTET_STRING, 'responderID byKey', responseMalformed).content };
  } else throw responseMalformed('responderID is missing');
  i++;
  const producedAt = readTime(fields[i], 'producedAt');
  i++;
  const responses = kids(expect(fields[i], Tag.SEQUENCE, 'responses', responseMalformed), responseMalformed).map(readSingleResponse);
  i++;
  let nonce: Uint8Array | undefined;
  if (fields[i]?.tag === 0xa1) {
    nonce = readResponseNonce(fields[i] as LazyTlv);
    i++;
  }
  if (i !== fields.length) throw responseMalformed('unexpected fields in tbsResponseData');
  const bits = expect(sig, Tag.BIT_STRING, 'signature', responseMalformed).content;
  if (bits.length < 1 || bits[0] !== 0) throw responseMalformed('the signature BIT STRING has unused bits');
  let certs: Uint8Array[] = [];
  if (certsTlv !== undefined) {
    const [list] = kids(expect(certsTlv, 0xa0, 'certs', responseMalformed), responseMalformed);
    certs = kids(expect(list, Tag.SEQUENCE, 'certs', responseMalformed), responseMalformed).map((c) => c.bytes);
  }
  return {
    status,
    basic: { tbs: (tbs as LazyTlv).bytes, responderId, producedAt, responses, ...(nonce !== undefined && { nonce }), signatureAlgorithm: readAlgorithm(alg), signature: bits.subarray(1), certs },
  };
}
