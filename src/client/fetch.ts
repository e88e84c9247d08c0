/**
 * Fetching revocation data over HTTP(S): a CRL from its distribution point, an OCSP answer from
 * a responder. Plain HTTP is the norm there (RFC 5280 §4.2.1.13, RFC 6960 Appendix A: the data is
 * signed, and fetching it over TLS could need the very revocation check it serves); HTTPS is
 * verified against the system's roots, or against `roots` when given. Security baseline for
 * outbound network (DESIGN.md): a deadline, a size limit, no redirects followed.
 *
 * Errors: ERR_FETCH_FAILED (network category) when there is no usable answer — connection,
 * deadline, TLS, a status other than 2xx; ERR_INPUT_TOO_LARGE when the answer passes the limit.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { SignetError } from '../core/errors.js';
import { escapeControl } from '../core/escape.js';
import { NETWORK_REASONS, settleOnce, TLS_TRUST_CODES } from './http.js';

/** One fetch. */
export interface FetchOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly accept?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Trusted roots (PEM) for an https URL instead of the system's. */
  readonly roots?: string;
  /**
   * Replaces the host name check of an https URL (the chain is still verified against `roots`):
   * return an Error to refuse the server's certificate. The SPIFFE bundle endpoint's
   * `https_spiffe` profile checks the server's SPIFFE ID here instead of a DNS name.
   */
  readonly checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** A 2xx answer. */
export interface Fetched {
  readonly status: number;
  /** The media type, lower case, without parameters ('' when absent). */
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** Parses an http(s) URL for fetching; ERR_BAD_OPTION for anything else. */
export function fetchableUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SignetError('ERR_BAD_OPTION', `"${escapeControl(text)}" is not a URL`, { hint: 'use http://host[:port]/path or https://…' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SignetError('ERR_BAD_OPTION', `only http and https URLs can be fetched, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new SignetError('ERR_BAD_OPTION', 'a URL with credentials is refused: they would travel in clear or end up in logs');
  return url;
}

function failed(url: URL, why: string, detail: Record<string, unknown>, cause?: unknown): SignetError {
  return new SignetError('ERR_FETCH_FAILED', `could not fetch ${escapeControl(url.href)}: ${why}`, { detail, ...(cause !== undefined && { cause }) });
}

/** GETs or POSTs `url`; resolves with a 2xx answer's bytes. */
export function fetchBytes(url: URL, options: FetchOptions): Promise<Fetched> {
  const https = url.protocol === 'https:';
  const body = options.body === undefined ? undefined : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength);
  return new Promise<Fetched>((resolve, reject) => {
    const finish = settleOnce<Fetched>(resolve, reject, (failed) => {
      clearTimeout(timer);
      if (failed) req.destroy();
    });
    const headers: Record<string, string> = { 'content-length': String(body?.length ?? 0) };
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    if (options.accept !== undefined) headers.accept = options.accept;
    const common = { method: options.method ?? 'GET', headers, agent: false as const };
    const req = https
      ? httpsRequest(url, { ...common, minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(options.roots !== undefined && { ca: options.roots }), ...(options.checkServerIdentity !== undefined && { checkServerIdentity: options.checkServerIdentity }) })
      : httpRequest(url, common);
    const timer = setTimeout(() => finish(failed(url, `no answer within ${options.timeoutMs} ms`, { reason: 'timeout' })), options.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      const why = TLS_TRUST_CODES.has(code) ? `its TLS certificate does not verify (${code.toLowerCase().replace(/_/g, ' ')})` : (NETWORK_REASONS[code] ?? (code ? `connection failure (${code})` : 'connection failed'));
      finish(failed(url, why, { reason: code || 'connection' }, e));
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        finish(failed(url, `the server answered HTTP ${status}`, { status }));
        return;
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      const tooLarge = (): SignetError => new SignetError('ERR_INPUT_TOO_LARGE', `the answer of ${escapeControl(url.href)} is larger than ${options.maxBytes} bytes`, { detail: { limit: options.maxBytes } });
      if (declared > options.maxBytes) {
        finish(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) finish(tooLarge());
        else chunks.push(chunk);
      });
      res.on('error', (e) => finish(failed(url, 'the connection broke during the answer', { reason: 'reset' }, e)));
      res.on('end', () => {
        const contentType = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        finish(undefined, { status, contentType, body: new Uint8Array(Buffer.concat(chunks)) });
      });
    });
    req.end(body);
  });
}
