/**
 * The CA's public, unauthenticated endpoints: health, version, and the trust material a client
 * needs to bootstrap (roots by fingerprint, intermediates). Public data only (DESIGN.md security
 * baseline): certificates, never keys.
 */
import { createHash } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { encodeCertificatesPem, encodePem } from '../core/pem.js';
import { VERSION } from '../version.js';
import type { Route } from './http.js';

/** The CA's public certificates. */
export interface PublicMaterial {
  /** Root certificates (DER), the trust anchors clients pin by fingerprint. */
  readonly roots: readonly Uint8Array[];
  /** Issuing intermediates (DER), leaf side first. */
  readonly intermediates: readonly Uint8Array[];
}

function sha256Hex(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Routes (JSON shapes as step-ca serves them, so its clients work): `GET /health` →
 * `{"status":"ok"}`; `GET /version` → `{"version"}`; `GET /roots` → `{"crts":[PEM]}`;
 * `GET /roots.pem`; `GET /root/{sha256}` (hex, colons allowed, any case) → `{"ca": PEM}` or 404
 * ERR_ROOT_NOT_FOUND; `GET /intermediates` → `{"crts":[PEM]}` and `/intermediates.pem`.
 * `health` is asked on every /health call (a store ping).
 */
export function publicRoutes(material: () => PublicMaterial, health: () => Promise<void> = () => Promise.resolve()): Route[] {
  const pems = (ders: readonly Uint8Array[]): string[] => ders.map((d) => encodePem('CERTIFICATE', d));
  return [
    {
      method: 'GET',
      path: '/health',
      handler: async () => {
        await health();
        return { json: { status: 'ok' } };
      },
    },
    { method: 'GET', path: '/version', handler: () => ({ json: { version: VERSION } }) },
    { method: 'GET', path: '/roots', handler: () => ({ json: { crts: pems(material().roots) } }) },
    { method: 'GET', path: '/roots.pem', handler: () => ({ body: encodeCertificatesPem(material().roots), contentType: 'application/pem-certificate-chain' }) },
    { method: 'GET', path: '/intermediates', handler: () => ({ json: { crts: pems(material().intermediates) } }) },
    { method: 'GET', path: '/intermediates.pem', handler: () => ({ body: encodeCertificatesPem(material().intermediates), contentType: 'application/pem-certificate-chain' }) },
    {
      method: 'GET',
      path: '/root/:sha256',
      handler: (req) => {
        const want = (req.params.sha256 ?? '').replace(/:/g, '').toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(want)) {
          throw new SignetError('ERR_BAD_OPTION', 'a root fingerprint is 64 hexadecimal digits (SHA-256), colons allowed');
        }
        const der = material().roots.find((r) => sha256Hex(r) === want);
        if (!der) throw new SignetError('ERR_ROOT_NOT_FOUND', `no root with SHA-256 fingerprint ${want}`);
        return { json: { ca: encodePem('CERTIFICATE', der) } };
      },
    },
  ];
}

/** What `GET /provisioners` shows of one provisioner: public data only. */
export interface PublicProvisioner {
  readonly type: string;
  readonly name: string;
  /** The public JWK that verifies its tokens (JWK provisioners). */
  readonly key?: Readonly<Record<string, unknown>>;
  /** The ACME directory URL path and the challenges offered (ACME provisioners). */
  readonly directory?: string;
  readonly challenges?: readonly string[];
  readonly requireEAB?: boolean;
  /** The OpenID provider users sign in at, and Signet's client ID there (OIDC provisioners). */
  readonly issuer?: string;
  readonly clientId?: string;
  readonly domains?: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * `GET /provisioners` → `{"provisioners": [{type, name, key, claims}]}`: names, public keys and
 * claims, so a client can see which provisioner to use and what it allows. Never an encrypted
 * key, a password or any other secret (DESIGN.md security baseline).
 */
export function provisionersRoute(list: () => readonly PublicProvisioner[]): Route {
  return { method: 'GET', path: '/provisioners', handler: () => ({ json: { provisioners: list() } }) };
}
