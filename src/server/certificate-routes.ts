/**
 * `POST /renew`, `POST /rekey`, `POST /revoke`: the requests a certificate's holder makes with
 * the certificate itself (mTLS), or — for renewal after expiry and for revocation by an operator —
 * with a token. The edge reads the client certificate and the body; the authority decides.
 */
import type { TLSSocket } from 'node:tls';
import { SignetError } from '../core/errors.js';
import { decodePem } from '../core/pem.js';
import type { Authority } from '../ca/authority.js';
import type { JsonValue } from '../x509/template/json.js';
import type { Route, RouteRequest } from './http.js';
import { issuedResponse, jsonObject, stringField } from './sign-route.js';

/** Largest body of these routes (a rekey CSR; a revocation is far smaller). */
const BODY_LIMIT = 64 * 1024;

/** DER of the certificate the client presented in the TLS handshake, if any. */
export function clientCertificate(socket: TLSSocket): Uint8Array | undefined {
  const peer = socket.getPeerCertificate(false) as { raw?: Buffer } | null;
  return peer?.raw && peer.raw.length > 0 ? new Uint8Array(peer.raw) : undefined;
}

/** The body as an object of known fields; an empty body (no Content-Type needed) is `{}`. */
async function optionalBody(req: RouteRequest, fields: readonly string[]): Promise<Record<string, JsonValue>> {
  const length = Number(req.headers['content-length'] ?? '0');
  if (req.headers['transfer-encoding'] === undefined && (!Number.isFinite(length) || length === 0)) return {};
  return jsonObject(await req.json(BODY_LIMIT), fields);
}

export function bearer(req: RouteRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(h);
  if (!m?.[1]) throw new SignetError('ERR_AUTH_REQUIRED', 'the Authorization header must be "Bearer" and a renewal token');
  return m[1];
}

/** The three routes; `authority()` is the one serving now; `audience(path)` lists the URLs a token for `path` may name. */
export function certificateRoutes(authority: () => Authority, audience: (path: string) => readonly string[]): Route[] {
  return [
    {
      method: 'POST',
      path: '/renew',
      handler: async (req) => {
        await optionalBody(req, []);
        const cert = clientCertificate(req.socket);
        const token = cert === undefined ? bearer(req) : undefined;
        const result = await authority().renew({
          ...(cert !== undefined ? { clientCertificate: cert } : {}),
          ...(token !== undefined ? { renewalToken: token } : {}),
          audience: audience('/renew'),
        });
        return issuedResponse(result);
      },
    },
    {
      method: 'POST',
      path: '/rekey',
      handler: async (req) => {
        const body = jsonObject(await req.json(BODY_LIMIT), ['csr']);
        const csr = decodePem(stringField(body, 'csr', true) ?? '', ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']).der;
        const cert = clientCertificate(req.socket);
        const result = await authority().rekey({ ...(cert !== undefined ? { clientCertificate: cert } : {}), csr });
        return issuedResponse(result);
      },
    },
    {
      method: 'POST',
      path: '/revoke',
      handler: async (req) => {
        const body = jsonObject(await req.json(BODY_LIMIT), ['serial', 'reason', 'ott']);
        const serial = stringField(body, 'serial', true) ?? '';
        const reason = stringField(body, 'reason', false);
        const ott = stringField(body, 'ott', false);
        const cert = clientCertificate(req.socket);
        const record = await authority().revoke({
          serial,
          ...(reason !== undefined ? { reason } : {}),
          ...(ott !== undefined ? { token: ott } : cert !== undefined ? { clientCertificate: cert } : {}),
          audience: audience('/revoke'),
        });
        return {
          json: {
            serial: record.serial,
            status: record.status,
            revokedAt: record.revokedAt?.toISOString(),
            ...(record.revocationReason !== undefined ? { reason: record.revocationReason } : {}),
          },
        };
      },
    },
  ];
}
