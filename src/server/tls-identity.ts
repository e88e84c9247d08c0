/**
 * The CA server's own TLS certificate (DESIGN.md security baseline: "issued by its own CA and
 * renewed in-process"). A fresh P-256 key in memory only, a leaf from the issuing intermediate
 * for the server's DNS names and addresses, linted like every other certificate, renewed when
 * two thirds of its lifetime have passed.
 */
import { generateKeyPairSync } from '../crypto/generate.js';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { encodePem } from '../core/pem.js';
import type { Signer } from '../crypto/signer.js';
import { issuerFromCertificate } from '../x509/certificate-builder.js';
import type { GeneralName } from '../x509/general-name.js';
import { issueLintedCertificate } from '../x509/issue.js';
import { parseSubject } from '../x509/name.js';
import { specFromProfile } from '../x509/profiles.js';

/** Default lifetime of the server's own certificate. */
export const SERVER_CERTIFICATE_LIFETIME_MS = 24 * 3600 * 1000;

/** The issuing CA that signs the server's certificate. */
export interface ServerIssuer {
  /** DER of the issuing intermediate. */
  readonly certificate: Uint8Array;
  /** DERs of further certificates up to (not including) the root, to complete the served chain. */
  readonly chain?: readonly Uint8Array[];
  readonly signer: Signer;
}

/** A key and certificate chain for node:tls, with the certificate's validity. */
export interface TlsIdentity {
  readonly context: SecureContextOptions;
  readonly certificate: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** When this identity should be replaced: two thirds into its lifetime. */
  readonly renewAt: Date;
}

/**
 * Issues the server certificate for `names` (host names become DNS SANs, addresses IP SANs; the
 * first name is the subject CN) through the same lint-before-sign path as every certificate;
 * with `spiffeId`, also that URI SAN (the server's SPIFFE ID).
 */
export function issueServerIdentity(issuer: ServerIssuer, names: readonly string[], clock: Clock, lifetimeMs = SERVER_CERTIFICATE_LIFETIME_MS, spiffeId?: string): TlsIdentity {
  const now = clock.now();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sans: GeneralName[] = names.map((n) => (isIP(n) ? { type: 'ip', value: n } : { type: 'dns', value: n.toLowerCase() }));
  // A CA that serves a trust domain is also that domain's server: its certificate is an X509-SVID
  // too, so peers can authenticate its bundle endpoint by SPIFFE ID (https_spiffe).
  if (spiffeId !== undefined) sans.push({ type: 'uri', value: spiffeId });
  const first = names[0] ?? 'localhost';
  const spec = specFromProfile('leaf', {
    subject: parseSubject(isIP(first) ? '' : `CN=${first}`),
    publicKey,
    now,
    sans,
    lifetimeMs,
    extKeyUsage: spiffeId !== undefined ? ['serverAuth', 'clientAuth'] : ['serverAuth'],
  });
  const issued = issueLintedCertificate(spec, issuer.signer, issuerFromCertificate(issuer.certificate), { profile: 'leaf', now });
  const notBefore = issued.spec.notBefore instanceof Date ? issued.spec.notBefore : now;
  const notAfter = issued.spec.notAfter instanceof Date ? issued.spec.notAfter : new Date(now.getTime() + lifetimeMs);
  const chain = [issued.der, issuer.certificate, ...(issuer.chain ?? [])].map((d) => encodePem('CERTIFICATE', d)).join('');
  return {
    context: { key: privateKey.export({ format: 'pem', type: 'pkcs8' }), cert: chain },
    certificate: issued.der,
    notBefore,
    notAfter,
    renewAt: new Date(notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3),
  };
}
