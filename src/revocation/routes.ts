/**
 * The public revocation endpoints: `GET /crl` (DER, `application/pkix-crl`) and `GET /crl.pem`
 * (or `/crl` with `Accept: application/x-pem-file`). Served on the HTTPS API and on the optional
 * plain-HTTP listener relying parties fetch from. Caching follows the CRL: ETag is its number,
 * Last-Modified its thisUpdate; caches may keep it for at most the propagation period (a newer
 * CRL can appear that soon after a revocation) and never past its nextUpdate.
 */
import type { Clock } from '../core/clock.js';
import { SignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
import type { Route, RouteRequest, RouteResponse } from '../server/http.js';
import type { ServedCrl } from './crl.js';

/** What the CRL routes read. */
export interface CrlRouteOptions {
  /** The CRL served now; undefined while none was signed yet. */
  readonly crl: () => ServedCrl | undefined;
  readonly clock: Clock;
  /** How long a cache may keep a CRL (the revocation propagation period). */
  readonly maxAgeMs: () => number;
}

function wantsPem(req: RouteRequest): boolean {
  const accept = req.headers.accept ?? '';
  return /(^|,)\s*application\/x-pem-file\s*(;|,|$)/i.test(accept);
}

/** True when the request's validators show the client already has this CRL (RFC 9110 §13.1). */
function notModified(req: RouteRequest, crl: ServedCrl, etag: string): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}` || t.trim() === '*');
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && crl.thisUpdate.getTime() <= since;
}

function respond(req: RouteRequest, options: CrlRouteOptions, pem: boolean): RouteResponse {
  const crl = options.crl();
  if (crl === undefined) throw new SignetError('ERR_CRL_NOT_READY', 'no CRL has been signed yet; it will be within seconds of the CA starting');
  const now = options.clock.now().getTime();
  const untilNext = Math.max(0, Math.floor((crl.nextUpdate.getTime() - now) / 1000));
  const maxAge = Math.min(untilNext, Math.floor(options.maxAgeMs() / 1000));
  const etag = `"${crl.number.toString(16)}${pem ? '-pem' : ''}"`;
  const headers = {
    'cache-control': `public, max-age=${maxAge}, no-transform`,
    expires: new Date(now + maxAge * 1000).toUTCString(),
    'last-modified': crl.thisUpdate.toUTCString(),
    etag,
    vary: 'Accept',
  };
  if (notModified(req, crl, etag)) return { status: 304, body: '', contentType: pem ? 'application/x-pem-file' : 'application/pkix-crl', headers };
  return pem ? { body: encodePem('X509 CRL', crl.der), contentType: 'application/x-pem-file', headers } : { body: crl.der, contentType: 'application/pkix-crl', headers };
}

/** `GET /crl` and `GET /crl.pem`. */
export function crlRoutes(options: CrlRouteOptions): Route[] {
  return [
    { method: 'GET', path: '/crl', handler: (req) => respond(req, options, wantsPem(req)) },
    { method: 'GET', path: '/crl.pem', handler: (req) => respond(req, options, true) },
  ];
}
