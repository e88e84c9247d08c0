/**
 * Renewing a certificate the CA issued: over mTLS with the current certificate while it is
 * valid, or — once it has expired, when TLS can no longer present it — with a renewal token (a
 * JWT signed by the certificate's own key, the certificate in its `x5c` header; issue 3 API
 * contract). Whether an expired certificate may be renewed is the CA's decision (its
 * provisioner's `allowRenewalAfterExpiry` and grace period); a refusal is ERR_RENEWAL_NOT_ALLOWED.
 */
import type { KeyObject } from 'node:crypto';
import { mintRenewalToken } from '../ca/token.js';
import { SignetError, isSignetError } from '../core/errors.js';
import type { Certificate } from '../x509/certificate.js';
import type { CaClient, IssuedCertificate } from './http.js';

/** What {@link renewCertificate} needs: the current certificate, its chain as PEM, and its key. */
export interface RenewInput {
  readonly leaf: Certificate;
  /** Leaf first, then intermediates: presented as the TLS client certificate chain. */
  readonly chainPem: string;
  readonly key: KeyObject;
  readonly now: Date;
}

/**
 * `POST /renew`: mTLS while `leaf` is valid at `now`, the renewal-token form after it expired.
 * A refusal of an expired certificate gets a hint about the provisioner's renewal-after-expiry
 * claim.
 */
export async function renewCertificate(client: CaClient, input: RenewInput): Promise<IssuedCertificate> {
  if (input.now.getTime() <= input.leaf.notAfter.getTime()) {
    return client.renew({ identity: { certificateChain: input.chainPem, key: input.key } });
  }
  const token = await mintRenewalToken({ certificate: input.leaf.der, key: input.key, serial: input.leaf.serialHex, audience: `${client.url}/renew`, now: input.now });
  try {
    return await client.renew({ token });
  } catch (e) {
    if (isSignetError(e, 'ERR_RENEWAL_NOT_ALLOWED') || isSignetError(e, 'ERR_AUTH_CERTIFICATE')) {
      throw new SignetError(e.code, `${e.message} (the certificate expired ${input.leaf.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')})`, {
        hint: 'an expired certificate can be renewed only where its provisioner allows renewal after expiry, within the grace period; otherwise get a new one with signet ca certificate',
        ...(e.detail !== undefined ? { detail: { ...e.detail } } : {}),
        cause: e,
      });
    }
    throw e;
  }
}
