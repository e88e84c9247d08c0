/**
 * Issuance as the CA does it (DESIGN.md pipeline steps 3–5, STYLE.md habit 5 "prepare, then
 * sign"): check the issuer is valid, keep the new certificate within the issuer's validity, build
 * the TBSCertificate, lint exactly those bytes against the profile, and sign exactly those bytes.
 * `signet certificate create` and the CA server both issue through {@link issueLintedCertificate},
 * so no certificate leaves Signet without having been linted.
 */
import { SignetError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';
import { buildTbsCertificate, signTbsCertificate, type CertificateSpec, type IssuerInfo } from './certificate-builder.js';
import { assertLintClean, lintCertificate } from './lint/index.js';
import { parseTbsCertificate, type Certificate } from './certificate.js';
import { KeyObject } from 'node:crypto';

function isKeyObject(k: unknown): k is KeyObject {
  return k instanceof KeyObject;
}
import type { LintOptions, LintProfile, LintReport } from './lint/index.js';
import { formatTime } from '../core/duration.js';

/** Options of {@link issueLintedCertificate}. */
export interface IssueOptions {
  /** The profile the certificate is linted against (`auto` derives it from the certificate). */
  readonly profile: LintProfile | 'auto';
  /** Issuance time, from the injected clock: the issuer must be valid now, and lint runs at now. */
  readonly now: Date;
  /** Further lint options (rule ids to ignore for a documented exception, SPIFFE mode, rule set). */
  readonly lint?: Omit<LintOptions, 'profile' | 'now'>;
}

/** A certificate that passed lint, with what was linted and signed. */
export interface IssuedCertificate {
  /** DER of the signed certificate. */
  readonly der: Uint8Array;
  /** DER of the TBSCertificate: the bytes that were linted and signed. */
  readonly tbs: Uint8Array;
  /**
   * `tbs` as parsed for lint: serial, names, validity and key exactly as `der` holds them, so a
   * caller recording the certificate need not parse `der` again. Its signature fields are unset.
   */
  readonly certificate: Certificate;
  /** The lint report of `tbs` (no errors; warnings and notices may be present). */
  readonly lint: LintReport;
  /** The spec as issued (notAfter possibly clamped to the issuer's notAfter). */
  readonly spec: CertificateSpec;
  /** Set when notAfter was shortened to the issuer's notAfter: the notAfter that was asked for. */
  readonly requestedNotAfter?: Date;
}

/**
 * Throws ERR_CA_NOT_VALID when the issuer's certificate is expired or not yet valid at `now`
 * (RFC 5280 §6.1.3 (a)(2): a relying party would reject every certificate it signs). Does
 * nothing when the issuer's validity is unknown.
 */
export function assertIssuerValid(issuer: IssuerInfo, now: Date, label = 'the issuing CA certificate'): void {
  const t = now.getTime();
  if (issuer.notAfter !== undefined && t > issuer.notAfter.getTime()) {
    throw new SignetError('ERR_CA_NOT_VALID', `${label} expired at ${formatTime(issuer.notAfter)}`, {
      hint: 'renew the CA certificate, or issue from a CA that is currently valid',
      detail: { notAfter: formatTime(issuer.notAfter), now: formatTime(now) },
    });
  }
  if (issuer.notBefore !== undefined && t < issuer.notBefore.getTime()) {
    throw new SignetError('ERR_CA_NOT_VALID', `${label} is not valid before ${formatTime(issuer.notBefore)}`, {
      hint: 'check the clock, or the CA certificate\'s notBefore',
      detail: { notBefore: formatTime(issuer.notBefore), now: formatTime(now) },
    });
  }
}

/**
 * Keeps `spec` within the issuer's validity: a notAfter later than the issuer's becomes the
 * issuer's. RFC 5280 does not forbid a longer certificate, but path validation (§6.1.3) rejects it
 * once the issuer expires, so the extra time would be a promise nobody can keep; OpenSSL's `ca`,
 * step-ca and Boulder all clamp or refuse. A notBefore after the issuer's notAfter cannot be
 * clamped and is refused with ERR_BAD_OPTION. Raw (pre-encoded) times are left as given.
 */
export function clampToIssuer(spec: CertificateSpec, issuer: IssuerInfo | undefined): { spec: CertificateSpec; requestedNotAfter?: Date } {
  const limit = issuer?.notAfter;
  if (limit === undefined || !(spec.notAfter instanceof Date)) return { spec };
  // Compare what will be encoded: Time has whole seconds (RFC 5280 §4.1.2.5.1/§4.1.2.5.2).
  const requested = new Date(Math.floor(spec.notAfter.getTime() / 1000) * 1000);
  if (requested.getTime() <= limit.getTime()) return { spec };
  if (spec.notBefore instanceof Date && spec.notBefore.getTime() >= limit.getTime()) {
    throw new SignetError('ERR_BAD_OPTION', `the certificate would start after its issuer expires (${formatTime(limit)})`, {
      hint: 'choose an earlier --not-before, or a CA that is valid longer',
    });
  }
  return { spec: { ...spec, notAfter: limit }, requestedNotAfter: requested };
}

/** A certificate built and linted, not yet signed ({@link prepareLintedCertificate}). */
export type PreparedCertificate = Omit<IssuedCertificate, 'der'>;

/**
 * Everything {@link issueLintedCertificate} does before it signs: refuses an issuer that is not
 * valid at `options.now` (ERR_CA_NOT_VALID), clamps notAfter to the issuer's
 * ({@link clampToIssuer}), builds the TBS and lints it against `options.profile`, throwing
 * ERR_LINT_FAILED (naming the rule ids) on any error-level finding. A batch prepares all of its
 * certificates, then signs them one after the other ({@link signPrepared}): the signing code and
 * its tables stay in the processor's caches.
 */
export function prepareLintedCertificate(spec: CertificateSpec, signer: Signer, issuer: IssuerInfo | undefined, options: IssueOptions): PreparedCertificate {
  if (issuer) assertIssuerValid(issuer, options.now);
  const clamped = clampToIssuer(spec, issuer);
  const tbs = buildTbsCertificate(clamped.spec, issuer, signer.algorithm);
  // The subject key is already a KeyObject when the caller generated or loaded it: the linter
  // can skip re-importing it (the import dominates lint time for RSA keys).
  const publicKey = isKeyObject(spec.publicKey) ? spec.publicKey : options.lint?.publicKey;
  const certificate = parseTbsCertificate(tbs, { publicKey });
  const lint = assertLintClean(lintCertificate(certificate, { ...options.lint, profile: options.profile, now: options.now, ...(publicKey ? { publicKey } : {}) }));
  return { tbs, certificate, lint, spec: clamped.spec, ...(clamped.requestedNotAfter ? { requestedNotAfter: clamped.requestedNotAfter } : {}) };
}

/** Signs exactly the bytes {@link prepareLintedCertificate} linted, with the signer it built them for. */
export function signPrepared(prepared: PreparedCertificate, signer: Signer): IssuedCertificate {
  return { ...prepared, der: signTbsCertificate(prepared.tbs, signer) };
}

/**
 * Issues a certificate the way the CA does: {@link prepareLintedCertificate} (issuer valid now,
 * notAfter clamped, TBS built and linted; ERR_CA_NOT_VALID, ERR_LINT_FAILED) — then signs exactly
 * the linted bytes. `issuer` omitted means self-signed by `signer`. Nothing is signed when
 * anything fails.
 */
export function issueLintedCertificate(spec: CertificateSpec, signer: Signer, issuer: IssuerInfo | undefined, options: IssueOptions): IssuedCertificate {
  return signPrepared(prepareLintedCertificate(spec, signer, issuer, options), signer);
}
