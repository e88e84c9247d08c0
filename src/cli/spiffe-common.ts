/** What the SPIFFE operator commands (`signet federation`, `signet entry`) share. */
import { readFileSync } from 'node:fs';
import { loadCaConfig } from '../ca/config.js';
import { decodePem, looksLikePem } from '../core/pem.js';
import { servedTrustDomains } from '../spiffe/trust-domain.js';
import { parseCertificate } from '../x509/certificate.js';
import { DEFAULT_CONFIG_PATH } from './ca/config-validate.js';

/** The trust domains the CA configured at `configPath` serves (its intermediate's `spiffe://` URI SANs). */
export function caTrustDomains(configPath: string | undefined): string[] {
  const config = loadCaConfig(configPath ?? DEFAULT_CONFIG_PATH);
  const data = readFileSync(config.intermediate.certificate);
  const der = looksLikePem(data) ? decodePem(data.toString('latin1'), ['CERTIFICATE']).der : new Uint8Array(data);
  return servedTrustDomains(parseCertificate(der));
}
