/**
 * Trust on first use, made safe by a fingerprint: before a client trusts a CA it has nothing to
 * verify the CA's TLS certificate with, so the root is fetched over an unverified connection and
 * accepted only when its SHA-256 equals the fingerprint the operator gave out of band (printed by
 * `signet ca init` / `ca start`, or carried by a one-time token as `sha`). Then a second,
 * verified request proves that the server's own TLS chain leads to that root and names the host.
 */
import { createHash } from 'node:crypto';
import { SignetError, isSignetError } from '../core/errors.js';
import { decodePem, encodePem } from '../core/pem.js';
import { parseCertificate } from '../x509/certificate.js';
import { createCaClient, httpsRequest } from './http.js';
import { normalizeFingerprint, parseCaUrl } from './url.js';

/** The root a CA served, checked. */
export interface PinnedRoot {
  /** `https://host:port`. */
  readonly url: string;
  /** The root certificate, PEM. */
  readonly pem: string;
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lower-case hex (equal to the requested fingerprint). */
  readonly fingerprint: string;
  /** The root's subject, RFC 4514 text. */
  readonly subject: string;
  readonly notAfter: Date;
}

/**
 * Fetches `GET /root/{fingerprint}` from `caUrl` without TLS verification, accepts the root only
 * when its SHA-256 is `fingerprint` (ERR_FINGERPRINT_MISMATCH otherwise, also when the CA has no
 * such root), then checks with a verified request that the CA's TLS certificate chains to it
 * (ERR_CA_UNTRUSTED). Nothing is written.
 */
export async function fetchPinnedRoot(caUrl: string, fingerprint: string, options: { timeoutMs?: number } = {}): Promise<PinnedRoot> {
  const { url } = parseCaUrl(caUrl);
  const want = normalizeFingerprint(fingerprint);
  const timeout = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  let answer: unknown;
  try {
    answer = (await httpsRequest(url, { path: `/root/${want}`, insecure: true, ...timeout })).json;
  } catch (e) {
    if (isSignetError(e, 'ERR_ROOT_NOT_FOUND')) {
      throw new SignetError('ERR_FINGERPRINT_MISMATCH', `the CA at ${url} has no root with fingerprint ${want}`, {
        hint: 'check the fingerprint with the CA operator; nothing was saved',
        cause: e,
      });
    }
    throw e;
  }
  const pem = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>).ca : undefined;
  if (typeof pem !== 'string') throw new SignetError('ERR_CA_BAD_RESPONSE', `the answer of ${url}/root/… holds no root certificate`, { hint: 'is the URL a Signet CA?' });
  let der: Uint8Array;
  try {
    der = decodePem(pem, ['CERTIFICATE']).der;
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the root served by ${url} is not a PEM certificate`, { cause: e });
  }
  const got = createHash('sha256').update(der).digest('hex');
  if (got !== want) {
    throw new SignetError('ERR_FINGERPRINT_MISMATCH', `the root served by ${url} has fingerprint ${got}, not ${want}`, {
      hint: 'someone may be intercepting the connection, or the fingerprint is wrong; nothing was saved',
      detail: { expected: want, actual: got },
    });
  }
  let cert;
  try {
    cert = parseCertificate(der);
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the root served by ${url} is not a readable certificate`, { cause: e });
  }
  if (cert.ext.basicConstraints?.ca !== true) throw new SignetError('ERR_NOT_A_CA', `the certificate with fingerprint ${want} is not a CA certificate`);
  const rootPem = encodePem('CERTIFICATE', der);
  // Now with verification: the server's TLS certificate must chain to this root and name the host.
  const client = createCaClient({ url, roots: rootPem, ...timeout });
  await client.health();
  return { url, pem: rootPem, der, fingerprint: got, subject: cert.subject.text, notAfter: cert.notAfter };
}
