/**
 * Checks at the store's boundary. The database has its own constraints (primary keys, CHECKs,
 * NOT NULL), but a record that breaks the conventions of store.ts — an upper-case serial, a
 * fingerprint of the wrong length, an invalid Date — would be stored happily and then never be
 * found again. Bad records are bugs in the caller (`ERR_STORE_INVALID_RECORD`); bad list queries
 * can come from an API user (`ERR_STORE_BAD_QUERY`).
 */
import { SignetError } from '../core/errors.js';
import type { AuditEventInput, CertificateName, CertificateNameType, CertificateRecord } from './store.js';

/** Largest page a list call returns. */
export const MAX_PAGE = 1000;
/** Page size when the caller gives none. */
export const DEFAULT_PAGE = 100;
/** Largest `serials` filter (keeps every query under SQLite's and PostgreSQL's parameter limits). */
export const MAX_SERIALS = 1000;
/** Most CRL partitions a CA may have (`revocation.crl.shards`); partition 0 is the CRL at `crlUrl` itself. */
export const MAX_CRL_SHARDS = 64;
/** Largest audit `detail`, as JSON text. */
export const MAX_DETAIL_CHARS = 64 * 1024;

// RFC 5280 §4.1.2.2: at most 20 octets; the magnitude carries no leading zero octet.
const SERIAL = /^(?:[0-9a-f]{2}){1,20}$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;
const NAME_TYPES: ReadonlySet<string> = new Set<CertificateNameType>(['dns', 'ip', 'email', 'uri', 'cn']);

function invalidRecord(message: string, field: string): SignetError {
  return new SignetError('ERR_STORE_INVALID_RECORD', message, { detail: { field } });
}

/** A bad list query. */
export function badQuery(message: string, field: string): SignetError {
  return new SignetError('ERR_STORE_BAD_QUERY', message, { detail: { field } });
}

/** True for a serial in the store's canonical form (store.ts). */
export function isCanonicalSerial(serial: unknown): serial is string {
  return typeof serial === 'string' && SERIAL.test(serial) && !(serial.length > 2 && serial.startsWith('00'));
}

/**
 * The store's form of a serial number: lower-case hex of its magnitude. Accepts the magnitude or
 * the DER INTEGER's content octets (leading 0x00 octets are dropped). ERR_STORE_INVALID_RECORD
 * for an empty serial or one longer than 20 octets (RFC 5280 §4.1.2.2).
 */
export function serialHex(serial: Uint8Array): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  const hex = Buffer.from(serial.buffer, serial.byteOffset + start, serial.length - start).toString('hex');
  return checkSerial(hex);
}

/** Throws ERR_STORE_INVALID_RECORD unless `serial` is canonical. */
export function checkSerial(serial: unknown, field = 'serial'): string {
  if (!isCanonicalSerial(serial)) {
    throw invalidRecord(`${field} must be the lower-case hex of a serial number (1–20 octets, no separators, no leading 00)`, field);
  }
  return serial;
}

/** Epoch milliseconds of a valid Date, else ERR_STORE_INVALID_RECORD. */
export function epochMs(value: unknown, field: string): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalidRecord(`${field} must be a valid date`, field);
  return value.getTime();
}

function checkText(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw invalidRecord(`${field} must be a${allowEmpty ? '' : ' non-empty'} string`, field);
  }
  return value;
}

function optionalText(value: unknown, field: string): string | null {
  return value === undefined ? null : checkText(value, field);
}

/**
 * The lookup key of a DNS name or CN: lower-cased labels in reverse order
 * (`WWW.Example.com.` → `com.example.www`), so that "every name under example.com" is the
 * indexed range of keys starting with `com.example.`. DNS names compare case-insensitively
 * (RFC 4343); other name types keep their case and have no key.
 */
export function reversedName(type: CertificateNameType, value: string): string | null {
  if (type !== 'dns' && type !== 'cn') return null;
  const lower = value.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/\.$/, '');
  return lower.split('.').reverse().join('.');
}

/** Validates a certificate record; returns its times in epoch milliseconds. */
export function checkCertificate(r: CertificateRecord): { notBefore: number; notAfter: number; issuedAt: number; revokedAt: number | null; crlShard: number } {
  if (typeof r !== 'object' || r === null) throw invalidRecord('certificate record must be an object', 'record');
  checkSerial(r.serial);
  for (const field of ['issuerSerial', 'replacedBy', 'replaces'] as const) {
    if (r[field] !== undefined) checkSerial(r[field], field);
  }
  checkText(r.subject, 'subject', true);
  if (!Array.isArray(r.names)) throw invalidRecord('names must be an array', 'names');
  r.names.forEach((n: CertificateName, i) => {
    if (typeof n !== 'object' || n === null || !NAME_TYPES.has(n.type)) {
      throw invalidRecord(`names[${i}].type must be one of dns, ip, email, uri, cn`, `names[${i}].type`);
    }
    checkText(n.value, `names[${i}].value`);
  });
  const notBefore = epochMs(r.notBefore, 'notBefore');
  const notAfter = epochMs(r.notAfter, 'notAfter');
  if (notAfter < notBefore) throw invalidRecord('notAfter is before notBefore', 'notAfter');
  if (typeof r.keyFingerprint !== 'string' || !FINGERPRINT.test(r.keyFingerprint)) {
    throw invalidRecord('keyFingerprint must be 64 lower-case hex digits (SHA-256 of the SubjectPublicKeyInfo)', 'keyFingerprint');
  }
  checkText(r.keyType, 'keyType');
  checkText(r.provisioner, 'provisioner');
  checkText(r.requester, 'requester', true);
  checkText(r.profile, 'profile');
  let revokedAt: number | null = null;
  if (r.status === 'revoked') {
    revokedAt = epochMs(r.revokedAt, 'revokedAt');
  } else if (r.status === 'valid') {
    if (r.revokedAt !== undefined || r.revocationReason !== undefined) {
      throw invalidRecord('a valid certificate has no revokedAt or revocationReason', 'revokedAt');
    }
  } else {
    throw invalidRecord("status must be 'valid' or 'revoked'", 'status');
  }
  optionalText(r.revocationReason, 'revocationReason');
  const issuedAt = epochMs(r.issuedAt, 'issuedAt');
  if (!(r.der instanceof Uint8Array) || r.der.length === 0) throw invalidRecord('der must be a non-empty Uint8Array', 'der');
  const crlShard = r.crlShard ?? 0;
  if (!Number.isSafeInteger(crlShard) || crlShard < 0 || crlShard > MAX_CRL_SHARDS) throw invalidRecord(`crlShard must be an integer from 0 to ${MAX_CRL_SHARDS}`, 'crlShard');
  return { notBefore, notAfter, issuedAt, revokedAt, crlShard };
}

/** Validates an audit event; returns its time and its detail as JSON text. */
export function checkAuditEvent(e: AuditEventInput): { time: number; detail: string | null } {
  if (typeof e !== 'object' || e === null) throw invalidRecord('audit event must be an object', 'event');
  const time = epochMs(e.time, 'time');
  checkText(e.type, 'type');
  if (e.outcome !== 'success' && e.outcome !== 'failure') throw invalidRecord("outcome must be 'success' or 'failure'", 'outcome');
  checkText(e.actor, 'actor', true);
  optionalText(e.provisioner, 'provisioner');
  if (e.serial !== undefined) checkSerial(e.serial);
  optionalText(e.reason, 'reason');
  let detail: string | null = null;
  if (e.detail !== undefined) {
    if (typeof e.detail !== 'object' || e.detail === null || Array.isArray(e.detail)) throw invalidRecord('detail must be an object', 'detail');
    try {
      detail = JSON.stringify(e.detail);
    } catch (cause) {
      throw new SignetError('ERR_STORE_INVALID_RECORD', 'detail cannot be written as JSON', { cause, detail: { field: 'detail' } });
    }
    if (detail.length > MAX_DETAIL_CHARS) throw invalidRecord(`detail is larger than ${MAX_DETAIL_CHARS} characters of JSON`, 'detail');
  }
  return { time, detail };
}

/** The page size asked for, or the default; ERR_STORE_BAD_QUERY outside 1…1000. */
export function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw badQuery(`limit must be an integer from 1 to ${MAX_PAGE}`, 'limit');
  }
  return limit;
}

/** Epoch milliseconds of a filter date; ERR_STORE_BAD_QUERY when it is not a valid Date. */
export function queryTime(value: unknown, field: string): number {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw badQuery(`${field} must be a valid date`, field);
  return value.getTime();
}

/** A string filter value; ERR_STORE_BAD_QUERY when it is not a non-empty string. */
export function queryText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw badQuery(`${field} must be a non-empty string`, field);
  return value;
}

/** A serial in a filter; ERR_STORE_BAD_QUERY unless canonical. */
export function querySerial(value: unknown, field: string): string {
  if (!isCanonicalSerial(value)) throw badQuery(`${field} must be the lower-case hex of a serial number`, field);
  return value;
}

/** A parsed name filter: an exact value, or a suffix (`*.example.com`) as a range of reversed names. */
export type NameQuery =
  | { readonly kind: 'exact'; readonly value: string; readonly reversed: string }
  | { readonly kind: 'under'; readonly from: string; readonly to: string };

/** Parses the `name` filter of store.ts; ERR_STORE_BAD_QUERY for `*` anywhere but a leading `*.`. */
export function parseNameQuery(name: unknown): NameQuery {
  const text = queryText(name, 'name');
  if (text.length > 1024) throw badQuery('name is longer than 1024 characters', 'name');
  if (text.startsWith('*.')) {
    const parent = text.slice(2);
    if (parent.length === 0 || parent.includes('*') || parent.startsWith('.')) {
      throw badQuery('a name pattern is "*." followed by a domain, e.g. *.example.com', 'name');
    }
    const prefix = `${reversedName('dns', parent) ?? ''}.`;
    // Every key starting with "com.example." sorts in [ "com.example.", "com.example/" ): '/' follows '.'.
    return { kind: 'under', from: prefix, to: `${prefix.slice(0, -1)}/` };
  }
  if (text.includes('*')) throw badQuery('"*" is allowed only as the first label of a name pattern (*.example.com)', 'name');
  return { kind: 'exact', value: text, reversed: reversedName('dns', text) ?? text };
}

/** The cursor after `(issuedAt, serial)`; opaque to callers. */
export function encodeCursor(issuedAt: number, serial: string): string {
  return Buffer.from(`1:${issuedAt}:${serial}`, 'utf8').toString('base64url');
}

/** Inverse of {@link encodeCursor}; ERR_STORE_BAD_QUERY for anything it did not produce. */
export function decodeCursor(cursor: unknown): { issuedAt: number; serial: string } {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw badQuery('malformed cursor', 'cursor');
  }
  const m = /^1:(-?\d{1,16}):([0-9a-f]+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const issuedAt = Number(m?.[1]);
  const serial = m?.[2];
  if (m === null || !Number.isSafeInteger(issuedAt) || !isCanonicalSerial(serial)) throw badQuery('malformed cursor', 'cursor');
  return { issuedAt, serial };
}
