/**
 * SPIFFE endpoints of the CA:
 *  - `GET /spiffe/bundle` — the bundle endpoint (SPIFFE Federation standard §4, profile
 *    `https_web`: the client authenticates this server by its TLS certificate): the trust
 *    domain's bundle document, the same on every replica, with its `spiffe_sequence` and
 *    `spiffe_refresh_hint`.
 *  - `GET /spiffe/bundles/{trust domain}` — the bundle of the CA's own trust domain or of a
 *    federated one, as this CA holds it (what agents hand to workloads).
 *  - `POST /spiffe/jwt-svid` — a JWT-SVID for the SPIFFE ID a one-time token authorizes:
 *    `{"ott", "audience": string | string[], "lifetime"?: "5m"}` → 201
 *    `{"token", "spiffeId", "kid", "expiresAt"}`.
 *  - `POST /spiffe/validate/jwt-svid` `{"token", "audience"}` and `POST /spiffe/validate/x509-svid`
 *    `{"chain": PEM}` — validation by the SPIFFE standards with the bundle of the SVID's own trust
 *    domain (own or federated), for programs without a SPIFFE library: 200 `{"spiffeId", …}` or
 *    ERR_JWT_SVID_INVALID / ERR_X509_SVID_INVALID with `detail.reason`.
 */
import { SignetError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { Authority } from '../ca/authority.js';
import type { TrustDomainService } from '../spiffe/trust-domain.js';
import type { Clock } from '../core/clock.js';
import { decodePemAll } from '../core/pem.js';
import type { Store } from '../store/store.js';
import type { TrustBundle } from '../spiffe/bundle.js';
import { knownBundle } from '../spiffe/federation.js';
import { parseTrustDomain } from '../spiffe/id.js';
import { parseCertificate } from '../x509/certificate.js';
import { validateJwtSvid } from '../spiffe/jwt-svid.js';
import { MAX_X509_SVID_CHAIN, validateX509Svid } from '../spiffe/x509-svid.js';
import type { Route } from './http.js';
import { jsonObject, stringField } from './sign-route.js';

/** Largest `/spiffe/jwt-svid` body: a token of at most 8 KiB and a few audiences. */
export const JWT_SVID_BODY_LIMIT = 32 * 1024;

/** Largest validation body: a chain of {@link MAX_X509_SVID_CHAIN} certificates in PEM, or a token. */
export const VALIDATE_BODY_LIMIT = 64 * 1024;

/** What the SPIFFE routes need. */
export interface SpiffeRouteOptions {
  readonly authority: () => Authority;
  /** The served trust domain's service (undefined: the CA serves none). */
  readonly service: () => TrustDomainService | undefined;
  readonly audience: (path: string) => string[];
  readonly store: Store;
  readonly clock: Clock;
}

/** The SPIFFE routes. */
export function spiffeRoutes(o: SpiffeRouteOptions): Route[] {
  const { authority, service, audience } = o;
  /** Every bundle a validation may need, read once per request from the store (own and federated). */
  const bundles = async (trustDomain: string): Promise<TrustBundle | undefined> => knownBundle(o.store, trustDomain);
  return [
    {
      method: 'GET',
      path: '/spiffe/bundle',
      handler: () => {
        const s = service();
        if (s === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', 'this CA serves no SPIFFE trust domain', { hint: 'an intermediate made with `signet ca init --trust-domain` serves one' });
        const bundle = s.bundle;
        if (bundle === undefined) throw new SignetError('ERR_SPIFFE_NOT_READY', `the bundle of ${s.trustDomain} is not published yet`);
        return { body: bundle.document, contentType: 'application/json' };
      },
    },
    {
      method: 'GET',
      path: '/spiffe/bundles/:trustDomain',
      handler: async (req) => {
        const td = parseTrustDomain(req.params.trustDomain ?? '');
        const record = await o.store.spiffe.getBundle(td);
        if (record === undefined) throw new SignetError('ERR_BUNDLE_NOT_FOUND', `this CA holds no bundle of trust domain ${td}`, { hint: 'federate with it: signet federation add' });
        return { body: record.document, contentType: 'application/json' };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/validate/jwt-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['token', 'audience']);
        const token = stringField(fields, 'token', true) ?? '';
        const aud = stringField(fields, 'audience', true) ?? '';
        // The subject's trust domain decides the bundle; read it before validating (validation is synchronous).
        let held: TrustBundle | undefined;
        const claimed = /^[^.]+\.([A-Za-z0-9_-]+)\./.exec(token)?.[1];
        if (claimed !== undefined) {
          try {
            const sub = (JSON.parse(Buffer.from(claimed, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
            const td = typeof sub === 'string' ? /^spiffe:\/\/([^/]+)/.exec(sub)?.[1] : undefined;
            if (td !== undefined && /^[a-z0-9._-]{1,255}$/.test(td)) held = await bundles(td);
          } catch {
            held = undefined; // validateJwtSvid names what is wrong with the token
          }
        }
        const v = validateJwtSvid(token, { audience: aud, bundle: (td) => (held?.trustDomain === td ? held : undefined), now: o.clock.now() });
        return { json: { spiffeId: v.id.toString(), audience: v.audience, expiresAt: v.expiresAt.toISOString(), claims: v.claims } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/validate/x509-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(VALIDATE_BODY_LIMIT), ['chain']);
        const pem = stringField(fields, 'chain', true) ?? '';
        const ders = decodePemAll(pem).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der);
        if (ders.length === 0 || ders.length > MAX_X509_SVID_CHAIN) throw new SignetError('ERR_REQUEST_INVALID', `"chain" must hold 1 to ${MAX_X509_SVID_CHAIN} PEM certificates, leaf first`);
        // The leaf's trust domain decides the bundle.
        let held: TrustBundle | undefined;
        try {
          const uri = (parseCertificate(ders[0] as Uint8Array).ext.subjectAltName ?? []).find((n) => n.type === 'uri');
          const td = uri?.type === 'uri' ? /^spiffe:\/\/([a-z0-9._-]{1,255})(\/|$)/.exec(uri.value)?.[1] : undefined;
          if (td !== undefined) held = await bundles(td);
        } catch {
          held = undefined; // validateX509Svid names what is wrong with the chain
        }
        const v = validateX509Svid(ders, (td) => (held?.trustDomain === td ? held : undefined), o.clock.now());
        return { json: { spiffeId: v.id.toString(), chain: v.chain.map((c) => c.subject.text) } };
      },
    },
    {
      method: 'POST',
      path: '/spiffe/jwt-svid',
      handler: async (req) => {
        const fields = jsonObject(await req.json(JWT_SVID_BODY_LIMIT), ['ott', 'audience', 'lifetime']);
        const ott = stringField(fields, 'ott', true) ?? '';
        const raw = fields.audience;
        if (raw === undefined) throw new SignetError('ERR_REQUEST_INVALID', 'missing field "audience"');
        const list = typeof raw === 'string' ? [raw] : raw;
        if (!Array.isArray(list) || !list.every((a): a is string => typeof a === 'string')) throw new SignetError('ERR_REQUEST_INVALID', 'field "audience" must be a string or a list of strings');
        const lifetime = stringField(fields, 'lifetime', false);
        let lifetimeMs: number | undefined;
        if (lifetime !== undefined) {
          try {
            lifetimeMs = parseDuration(lifetime);
          } catch {
            throw new SignetError('ERR_REQUEST_INVALID', `field "lifetime" must be a duration such as "5m", got "${lifetime.slice(0, 32)}"`);
          }
        }
        const r = await authority().mintJwtSvid({ token: ott, audience: audience('/spiffe/jwt-svid'), svidAudience: list, ...(lifetimeMs !== undefined ? { lifetimeMs } : {}) });
        return { status: 201, json: { token: r.token, spiffeId: r.spiffeId, kid: r.kid, expiresAt: r.expiresAt.toISOString() } };
      },
    },
  ];
}
