/**
 * The CA's public, unauthenticated endpoints: health, version, and the trust material a client
 * needs to bootstrap (roots by fingerprint, intermediates). Public data only (DESIGN.md security
 * baseline): certificates, never keys.
 */
import { createHash } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
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

function pemAll(ders: readonly Uint8Array[]): string {
  return ders.map((d) => encodePem('CERTIFICATE', d)).join('');
}

/**
 * Routes: `GET /health` → `{"status":"ok"}`; `GET /version` → `{"version"}`; `GET /roots` →
 * `{"roots":[{"sha256","pem"}]}`; `GET /roots.pem`; `GET /root/{sha256}` (hex, colons allowed,
 * any case) → `{"sha256","pem"}` or 404 ERR_ROOT_NOT_FOUND; `GET /intermediates` and
 * `/intermediates.pem` likewise. `health` is asked on every /health call (a store ping).
 */
export function publicRoutes(material: () => PublicMaterial, health: () => Promise<void> = () => Promise.resolve()): Route[] {
  const entry = (der: Uint8Array): { sha256: string; pem: string } => ({ sha256: sha256Hex(der), pem: encodePem('CERTIFICATE', der) });
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
    { method: 'GET', path: '/roots', handler: () => ({ json: { roots: material().roots.map(entry) } }) },
    { method: 'GET', path: '/roots.pem', handler: () => ({ body: pemAll(material().roots), contentType: 'application/pem-certificate-chain' }) },
    { method: 'GET', path: '/intermediates', handler: () => ({ json: { intermediates: material().intermediates.map(entry) } }) },
    { method: 'GET', path: '/intermediates.pem', handler: () => ({ body: pemAll(material().intermediates), contentType: 'application/pem-certificate-chain' }) },
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
        return { json: entry(der) };
      },
    },
  ];
}
