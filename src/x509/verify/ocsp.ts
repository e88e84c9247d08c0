/**
 * Revocation checking with OCSP (RFC 6960 §3.2, RFC 5019): a request for one certificate, and
 * the checks its answer must pass before its status counts.
 *
 * The response must be `successful` and a basic response; it must answer for the CertID asked
 * (hash algorithm, issuer name and key hashes, serial); it must be signed either by the issuer
 * itself or by a delegated responder whose certificate is in the response, was issued by that
 * issuer (its signature verifies with the issuer's key), carries id-kp-OCSPSigning and is valid
 * at the time; the ResponderID must name the signer; thisUpdate must not be in the future and
 * nextUpdate, when present, not in the past (both with a small clock skew); a nonce, when the
 * response echoes one, must be the one sent. Then `good` passes, `revoked` is
 * ERR_VERIFY_REVOKED and `unknown` ERR_VERIFY_OCSP_UNKNOWN.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignetError } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import { formatTime } from '../../core/duration.js';
import { verifySignature } from '../../crypto/signature.js';
import { parseCertificate, type Certificate } from '../certificate.js';
import { OID } from '../oids.js';
import { buildOcspRequest, encodeCertId, issuerHashes, parseOcspResponse, type BasicOcspResponse, type OcspSingleResponse } from '../ocsp.js';

/** Clock skew allowed on thisUpdate and nextUpdate. */
export const OCSP_SKEW_MS = 5 * 60_000;

/** A request for `cert` (issued by `issuer`): SHA-1 CertID (RFC 5019 §2.1.1) and a 16-octet nonce. */
export interface OcspQuery {
  readonly der: Uint8Array;
  readonly certId: Uint8Array;
  readonly nonce: Uint8Array;
}

export function ocspQuery(cert: Certificate, issuer: Certificate): OcspQuery {
  const sha1 = issuerHashes(issuer.subject.der, issuer.subjectPublicKey).find((h) => h.hash === 'sha1');
  if (sha1 === undefined) throw new SignetError('ERR_INTERNAL', 'no SHA-1 issuer hashes');
  const certId = encodeCertId(sha1, cert.serialHex);
  const nonce = new Uint8Array(randomBytes(16));
  return { der: buildOcspRequest([certId], nonce), certId, nonce };
}

/** What a good answer said. */
export interface OcspGood {
  readonly producedAt: Date;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Who signed it: the issuer itself, or a delegated responder (its subject). */
  readonly responder: { readonly type: 'issuer' } | { readonly type: 'delegated'; readonly subject: string; readonly serial: string };
  readonly nonceEchoed: boolean;
}

function invalid(message: string, detail: Record<string, unknown> = {}): SignetError {
  return new SignetError('ERR_VERIFY_OCSP_INVALID', message, { detail });
}

function matchesResponder(id: BasicOcspResponse['responderId'], cert: Certificate): boolean {
  if ('byName' in id) return equalBytes(id.byName, cert.subject.der);
  return equalBytes(id.byKey, new Uint8Array(createHash('sha1').update(cert.subjectPublicKey).digest()));
}

/** The certificate that signed the response: the issuer, or a responder it authorized. */
function signerOf(basic: BasicOcspResponse, issuer: Certificate, time: Date): { cert: Certificate; delegated: boolean } {
  if (matchesResponder(basic.responderId, issuer)) return { cert: issuer, delegated: false };
  for (const der of basic.certs) {
    let cert: Certificate;
    try {
      cert = parseCertificate(der);
    } catch {
      continue;
    }
    if (!matchesResponder(basic.responderId, cert)) continue;
    const key = issuer.publicKey;
    if (!equalBytes(cert.issuer.der, issuer.subject.der) || key === undefined || !verifySignature(key, cert.signatureAlgorithm, cert.tbs, cert.signatureValue)) {
      throw invalid(`the OCSP responder "${cert.subject.text}" was not issued by "${issuer.subject.text}"`);
    }
    if (!(cert.ext.extKeyUsage ?? []).includes(OID.OCSPSigning)) throw invalid(`the OCSP responder "${cert.subject.text}" is not authorized to sign OCSP responses (no id-kp-OCSPSigning)`);
    if (time.getTime() < cert.notBefore.getTime() || time.getTime() > cert.notAfter.getTime()) {
      throw invalid(`the OCSP responder certificate "${cert.subject.text}" is not valid at ${formatTime(time)} (${formatTime(cert.notBefore)} to ${formatTime(cert.notAfter)})`);
    }
    return { cert, delegated: true };
  }
  throw invalid(`the OCSP response is signed neither by "${issuer.subject.text}" nor by a responder certificate it carries`);
}

function answerFor(basic: BasicOcspResponse, query: OcspQuery): OcspSingleResponse {
  const single = basic.responses.find((r) => equalBytes(r.certId.der, query.certId));
  if (single !== undefined) return single;
  throw invalid('the OCSP response does not answer for the certificate asked about');
}

/**
 * Checks `der` (the responder's answer to `query` about `cert`, issued by `issuer`) at `time`;
 * returns what a good answer said, or throws (see the module comment).
 */
export function checkOcspResponse(der: Uint8Array, query: OcspQuery, cert: Certificate, issuer: Certificate, time: Date): OcspGood {
  const response = parseOcspResponse(der);
  if (response.status !== 'successful' || response.basic === undefined) {
    const busy = response.status === 'tryLater' || response.status === 'internalError';
    throw new SignetError(busy ? 'ERR_VERIFY_OCSP_UNAVAILABLE' : 'ERR_VERIFY_OCSP_INVALID', `the OCSP responder answered ${response.status}`, { detail: { responseStatus: response.status } });
  }
  const basic = response.basic;
  const single = answerFor(basic, query);
  const signer = signerOf(basic, issuer, time);
  const key = signer.cert.publicKey;
  if (key === undefined || !verifySignature(key, basic.signatureAlgorithm, basic.tbs, basic.signature)) throw invalid(`the OCSP response's signature does not verify with the key of "${signer.cert.subject.text}"`);
  if (basic.nonce !== undefined && !equalBytes(basic.nonce, query.nonce)) throw invalid('the OCSP response carries another nonce than the one sent (a replayed answer)');
  const t = time.getTime();
  if (single.thisUpdate.getTime() > t + OCSP_SKEW_MS) throw invalid(`the OCSP response is not valid yet (thisUpdate ${formatTime(single.thisUpdate)})`);
  if (single.nextUpdate !== undefined && single.nextUpdate.getTime() < t - OCSP_SKEW_MS) throw invalid(`the OCSP response is stale (nextUpdate ${formatTime(single.nextUpdate)})`);
  const status = single.cert;
  if (status.status === 'revoked') {
    throw new SignetError('ERR_VERIFY_REVOKED', `certificate ${cert.serialHex} ("${cert.subject.text}") was revoked at ${formatTime(status.revokedAt)}${status.reason !== undefined ? ` (${status.reason})` : ''}, says its OCSP responder`, {
      detail: { serial: cert.serialHex, revokedAt: formatTime(status.revokedAt), ...(status.reason !== undefined && { reason: status.reason }), source: 'ocsp' },
    });
  }
  if (status.status === 'unknown') throw new SignetError('ERR_VERIFY_OCSP_UNKNOWN', `the OCSP responder does not know certificate ${cert.serialHex} ("${cert.subject.text}")`, { detail: { serial: cert.serialHex } });
  return {
    producedAt: basic.producedAt,
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate !== undefined && { nextUpdate: single.nextUpdate }),
    responder: signer.delegated ? { type: 'delegated', subject: signer.cert.subject.text, serial: signer.cert.serialHex } : { type: 'issuer' },
    nonceEchoed: basic.nonce !== undefined,
  };
}
