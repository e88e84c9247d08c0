/**
 * Revocation checking with CRLs (RFC 5280 §6.3, simplified to complete CRLs signed by the
 * certificate's issuer): after the path is validated, every certificate but the root is looked
 * up in the CRLs its issuer signed. A CRL counts when its issuer name is the certificate's issuer
 * name, its signature verifies with the issuer's key, it is current at the verification time
 * (thisUpdate ≤ time < nextUpdate), and its issuing distribution point does not leave the
 * certificate out of its scope (onlyContainsUserCerts / onlyContainsCACerts; a distribution
 * point name none of the certificate's CRL distribution points matches). Delta CRLs and
 * indirect CRLs are not used.
 *
 * The leaf must be covered (as `openssl verify -crl_check` requires): no current CRL from its
 * issuer is ERR_VERIFY_CRL_MISSING (or ERR_VERIFY_CRL_EXPIRED when the only ones are stale).
 * A CA certificate is checked when a CRL from its issuer is given (as `-crl_check_all` does).
 */
import { SignetError } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import { formatTime } from '../../core/duration.js';
import type { Certificate } from '../certificate.js';
import { verifyCrlSignature, type Crl, type RevokedCertificate } from '../crl.js';

function inScope(crl: Crl, cert: Certificate): boolean {
  const idp = crl.ext.issuingDistributionPoint;
  if (idp === undefined) return true;
  const ca = cert.ext.basicConstraints?.ca === true;
  if (idp.onlyContainsUserCerts && ca) return false;
  if (idp.onlyContainsCACerts && !ca) return false;
  // RFC 5280 §6.3.3 (b)(2)(i): a CRL scoped to a distribution point covers the certificates that
  // name that point (a partitioned CRL covers its partition only, not its siblings').
  const idpUris = (idp.fullName ?? []).filter((g) => g.type === 'uri').map((g) => g.value);
  const cdp = cert.ext.crlDistributionPoints ?? [];
  if (idpUris.length > 0 && cdp.length > 0 && !idpUris.some((u) => cdp.includes(u))) return false;
  return !idp.indirectCRL && !idp.onlyContainsAttributeCerts && idp.onlySomeReasons === undefined;
}

/** What was checked: per certificate (leaf first), the CRL number used, or none. */
export interface CrlCheck {
  readonly subject: string;
  readonly crlNumber?: bigint;
  readonly checked: boolean;
}

/**
 * Checks `chain` (leaf first, root last, as path validation returned it) against `crls` at
 * `time`. Throws ERR_VERIFY_REVOKED (with serial, date and reason), ERR_VERIFY_CRL_MISSING or
 * ERR_VERIFY_CRL_EXPIRED; returns what it checked.
 */
export function checkCrls(chain: readonly Certificate[], crls: readonly Crl[], time: Date): CrlCheck[] {
  const out: CrlCheck[] = [];
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as Certificate;
    const issuer = chain[i + 1] as Certificate;
    const candidates = crls.filter((c) => equalBytes(c.issuer.der, cert.issuer.der) && inScope(c, cert) && verifyCrlSignature(c, issuer));
    const current = candidates.filter((c) => c.thisUpdate.getTime() <= time.getTime() && (c.nextUpdate === undefined || time.getTime() < c.nextUpdate.getTime()));
    if (current.length === 0) {
      if (i > 0) {
        out.push({ subject: cert.subject.text, checked: false });
        continue;
      }
      if (candidates.length > 0) {
        const newest = candidates.reduce((a, b) => (a.thisUpdate.getTime() >= b.thisUpdate.getTime() ? a : b));
        throw new SignetError('ERR_VERIFY_CRL_EXPIRED', `the CRL of ${issuer.subject.text || 'the issuer'} is not current at ${formatTime(time)} (thisUpdate ${formatTime(newest.thisUpdate)}, nextUpdate ${newest.nextUpdate ? formatTime(newest.nextUpdate) : 'none'})`, {
          hint: 'fetch a fresh CRL (curl -s CRL-URL > issuer.crl)',
        });
      }
      throw new SignetError('ERR_VERIFY_CRL_MISSING', `no CRL signed by the leaf's issuer (${issuer.subject.text || 'empty subject'}) among --crl`, { hint: 'pass the CRL from the URL in the leaf\'s CRL distribution points' });
    }
    // The newest current CRL decides (by cRLNumber, else thisUpdate).
    const crl = current.reduce((a, b) => ((b.ext.crlNumber ?? -1n) > (a.ext.crlNumber ?? -1n) || (b.ext.crlNumber === a.ext.crlNumber && b.thisUpdate > a.thisUpdate) ? b : a));
    const entry: RevokedCertificate | undefined = crl.revoked.find((e) => e.serialHex === cert.serialHex);
    if (entry !== undefined && entry.revocationDate.getTime() <= time.getTime()) {
      throw new SignetError('ERR_VERIFY_REVOKED', `certificate ${cert.serialHex} (${cert.subject.text || 'empty subject'}) was revoked at ${formatTime(entry.revocationDate)}${entry.reason ? ` (${entry.reason})` : ''}`, {
        detail: { depth: i, serial: cert.serialHex, revokedAt: entry.revocationDate.toISOString(), ...(entry.reason !== undefined && { reason: entry.reason }), ...(crl.ext.crlNumber !== undefined && { crlNumber: crl.ext.crlNumber.toString() }) },
      });
    }
    out.push({ subject: cert.subject.text, checked: true, ...(crl.ext.crlNumber !== undefined && { crlNumber: crl.ext.crlNumber }) });
  }
  return out;
}
