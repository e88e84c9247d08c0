/**
 * PEM (RFC 7468) encoding and strict decoding. Decoding accepts the "lax" textual encoding of
 * RFC 7468 §3 (whitespace anywhere in the base64 body, text before/after blocks) but rejects
 * anything that is not valid base64, mismatched labels, and unterminated blocks.
 */
import { SignetError } from './errors.js';

export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`. */
  readonly label: string;
  readonly der: Uint8Array;
}

const BEGIN = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/** Encodes DER as PEM with 64-character lines and a trailing newline. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** Certificates (DER) as one PEM text, in order: a chain file, a bundle file. */
export function encodeCertificatesPem(ders: readonly Uint8Array[]): string {
  return ders.map((d) => encodePem('CERTIFICATE', d)).join('');
}

/** True when the bytes look like PEM text rather than DER. */
export function looksLikePem(data: Uint8Array | string): boolean {
  const text = typeof data === 'string' ? data : Buffer.from(data.subarray(0, 4096)).toString('latin1');
  return text.includes('-----BEGIN ');
}

/** Decodes every PEM block in `text`, in order. Throws ERR_PEM_MALFORMED on any defect. */
export function decodePemAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BEGIN.exec(text)) !== null) {
    const label = m[1] ?? '';
    const endMarker = `-----END ${label}-----`;
    const bodyStart = m.index + m[0].length;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) {
      throw new SignetError('ERR_PEM_MALFORMED', `PEM block "${label}" has no matching END line`);
    }
    let body = text.slice(bodyStart, end);
    // Encapsulated headers (RFC 1421, e.g. legacy "Proc-Type") are not part of RFC 7468.
    if (body.includes(':')) {
      throw new SignetError('ERR_PEM_MALFORMED', `PEM block "${label}" has headers; legacy encrypted PEM is not supported`, {
        hint: 'convert the key to PKCS#8 (openssl pkcs8 -topk8)',
      });
    }
    body = body.replace(/[\s]+/g, '');
    if (body.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new SignetError('ERR_PEM_MALFORMED', `PEM block "${label}" does not contain valid base64`);
    }
    blocks.push({ label, der: new Uint8Array(Buffer.from(body, 'base64')) });
    BEGIN.lastIndex = end + endMarker.length;
  }
  if (blocks.length === 0) {
    throw new SignetError('ERR_PEM_MALFORMED', 'no PEM block found');
  }
  return blocks;
}

/** Decodes exactly one block, optionally requiring one of the given labels. */
export function decodePem(text: string, labels?: readonly string[]): PemBlock {
  const blocks = decodePemAll(text);
  const wanted = labels === undefined ? blocks : blocks.filter((b) => labels.includes(b.label));
  const first = wanted[0];
  if (first === undefined) {
    throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `expected PEM ${labels?.join(' or ') ?? ''}, found ${blocks.map((b) => b.label).join(', ')}`);
  }
  return first;
}
