/**
 * The public revocation endpoints: `GET /crl` (DER, `application/pkix-crl`) and `GET /crl.pem`
 * (or `/crl` with `Accept: application/x-pem-file`), and a partitioned CA's `GET /crl/{k}` and
 * `/crl/{k}.pem`; OCSP at `POST /ocsp` and `GET /ocsp/{base64}`
 * (RFC 6960 Appendix A, RFC 5019 §5). Served on the HTTPS API and on the optional plain-HTTP
 * listener relying parties fetch from.
 *
 * Caching follows the signed object: Last-Modified is its thisUpdate, the ETag names it; caches
 * may keep it for at most the propagation period (a newer CRL or response can appear that soon
 * after a revocation) and never past its nextUpdate (RFC 5019 §6.2).
 */
import type { Clock } from '../core/clock.js';
import { SignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
import type { Route, RouteRequest, RouteResponse } from '../server/http.js';
import type { ServedCrl } from './crl.js';
import type { OcspAnswer, OcspResponder } from './ocsp.js';

/** Largest OCSP request accepted (RFC 5019 requests are under 300 octets; 16 CertIDs and a signature fit). */
export const OCSP_REQUEST_LIMIT = 8 * 1024;

/** What the CRL routes read. */
export interface CrlRouteOptions {
  /** The CRL of partition `shard` served now; undefined while none was signed yet. */
  readonly crl: (shard: number) => ServedCrl | undefined;
  /** Partitions besides 0 (`revocation.crl.shards` when above 1, else 0): /crl/1 … /crl/N. */
  readonly shards: number;
  readonly clock: Clock;
  /** How long a cache may keep a CRL (the revocation propagation period). */
  readonly maxAgeMs: () => number;
}

function wantsPem(req: RouteRequest): boolean {
  const accept = req.headers.accept ?? '';
  return /(^|,)\s*application\/x-pem-file\s*(;|,|$)/i.test(accept);
}

/** A signed object's validity and validator, for HTTP caching. */
interface Cacheable {
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly etag: string;
}

/** True when the request's validators show the client already has this object (RFC 9110 §13.1). */
function notModified(req: RouteRequest, obj: Cacheable): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => t.trim() === obj.etag || t.trim() === `W/${obj.etag}` || t.trim() === '*');
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && obj.thisUpdate.getTime() <= since;
}

/** Caching headers: fresh for the propagation period, never past nextUpdate. */
function cachingHeaders(obj: Cacheable, nowMs: number, maxAgeMs: number, extra: string): Record<string, string> {
  const untilNext = Math.max(0, Math.floor((obj.nextUpdate.getTime() - nowMs) / 1000));
  const maxAge = Math.min(untilNext, Math.floor(maxAgeMs / 1000));
  return {
    'cache-control': `public, max-age=${maxAge}, no-transform${extra}`,
    expires: new Date(nowMs + maxAge * 1000).toUTCString(),
    'last-modified': obj.thisUpdate.toUTCString(),
    etag: obj.etag,
  };
}

function respond(req: RouteRequest, options: CrlRouteOptions, pem: boolean, shard = 0): RouteResponse {
  const crl = options.crl(shard);
  if (crl === undefined) throw new SignetError('ERR_CRL_NOT_READY', 'no CRL has been signed yet; it will be within seconds of the CA starting');
  const now = options.clock.now().getTime();
  const obj = { thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, etag: `"${crl.number.toString(16)}${pem ? '-pem' : ''}"` };
  const headers = { ...cachingHeaders(obj, now, options.maxAgeMs(), ''), vary: 'Accept' };
  if (notModified(req, obj)) return { status: 304, body: '', contentType: pem ? 'application/x-pem-file' : 'application/pkix-crl', headers };
  return pem ? { body: encodePem('X509 CRL', crl.der), contentType: 'application/x-pem-file', headers } : { body: crl.der, contentType: 'application/pkix-crl', headers };
}

/** The partition `/crl/{k}` or `/crl/{k}.pem` names, 1…shards; ERR_HTTP_NOT_FOUND for anything else. */
function partition(text: string, shards: number): { shard: number; pem: boolean } {
  const m = /^([1-9]\d{0,2})(\.pem)?$/.exec(text);
  const shard = m?.[1] === undefined ? 0 : Number(m[1]);
  if (m === null || shard < 1 || shard > shards) throw new SignetError('ERR_HTTP_NOT_FOUND', shards > 0 ? `no CRL partition "${text.slice(0, 16)}": this CA publishes /crl/1 … /crl/${shards}` : 'this CA publishes one CRL, at /crl');
  return { shard, pem: m[2] !== undefined };
}

/** `GET /crl` and `GET /crl.pem`; `GET /crl/{k}` and `/crl/{k}.pem` for partitions. */
export function crlRoutes(options: CrlRouteOptions): Route[] {
  return [
    { method: 'GET', path: '/crl', handler: (req) => respond(req, options, wantsPem(req)) },
    { method: 'GET', path: '/crl.pem', handler: (req) => respond(req, options, true) },
    {
      method: 'GET',
      path: '/crl/:shard',
      handler: (req) => {
        const p = partition(req.params.shard ?? '', options.shards);
        return respond(req, options, p.pem || wantsPem(req), p.shard);
      },
    },
  ];
}

/** What the OCSP routes read. */
export interface OcspRouteOptions {
  readonly responder: OcspResponder;
  readonly clock: Clock;
  /** How long a cache may keep a response (the revocation propagation period). */
  readonly maxAgeMs: () => number;
}

const OCSP_RESPONSE = 'application/ocsp-response';

/** The caching headers of a kept response, made once per second (a hot response is asked for thousands of times a second). */
const headerMemo = new WeakMap<Cacheable, { readonly second: number; readonly headers: Record<string, string> }>();

function ocspCachingHeaders(obj: Cacheable, nowMs: number, maxAgeMs: number): Record<string, string> {
  const second = Math.floor(nowMs / 1000);
  const memo = headerMemo.get(obj);
  if (memo !== undefined && memo.second === second) return memo.headers;
  const headers = cachingHeaders(obj, second * 1000, maxAgeMs, ', must-revalidate');
  headerMemo.set(obj, { second, headers });
  return headers;
}

function ocspResponse(req: RouteRequest, options: OcspRouteOptions, answer: OcspAnswer): RouteResponse {
  const code = answer.code !== undefined ? { code: answer.code } : {};
  // Error responses and nonce-bearing ones are for this request only (the router's default: no-store).
  if (answer.caching === undefined) return { body: answer.der, contentType: OCSP_RESPONSE, ...code };
  const headers = ocspCachingHeaders(answer.caching, options.clock.now().getTime(), options.maxAgeMs());
  if (req.method !== 'POST' && notModified(req, answer.caching)) return { status: 304, body: '', contentType: OCSP_RESPONSE, headers, ...code };
  return { body: answer.der, contentType: OCSP_RESPONSE, headers, ...code };
}

/**
 * The DER of an OCSP GET request: the path after `/ocsp/` is the URL-encoded base64 of the
 * request (RFC 6960 Appendix A.1); base64url is accepted too. Undefined when it is not base64.
 */
function getRequestBytes(rest: string): Uint8Array | undefined {
  let text: string;
  try {
    text = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  if (text.length > Math.ceil(OCSP_REQUEST_LIMIT / 3) * 4) throw new SignetError('ERR_INPUT_TOO_LARGE', `OCSP request exceeds the limit of ${OCSP_REQUEST_LIMIT} bytes`);
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std) || std.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(std, 'base64'));
}

/** `POST /ocsp` (body: DER, `application/ocsp-request`) and `GET /ocsp/{base64}`. */
export function ocspRoutes(options: OcspRouteOptions): Route[] {
  const { responder } = options;
  return [
    {
      method: 'POST',
      path: '/ocsp',
      handler: async (req) => ocspResponse(req, options, await responder.respond(await req.bytes(OCSP_REQUEST_LIMIT, 'application/ocsp-request'))),
    },
    {
      method: 'GET',
      path: '/ocsp/*',
      handler: (req) => {
        const rest = req.params['*'] ?? '';
        // A GET seen before for a response still kept: answered at once.
        const known = responder.respondKnown(rest);
        if (known !== undefined) return ocspResponse(req, options, known);
        // A path that is not base64 is read as an empty request: malformedRequest.
        return responder.respond(getRequestBytes(rest) ?? new Uint8Array(0), rest).then((a) => ocspResponse(req, options, a));
      },
    },
  ];
}
