/**
 * The lint runner: derives the profile, runs every rule that applies and summarizes. The CA runs
 * it on every to-be-signed certificate and refuses to sign on any error (DESIGN.md pipeline step
 * 4, STYLE.md "prepare, then sign").
 */
import { systemClock } from '../../core/clock.js';
import { SignetError } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import { verifySignature } from '../../crypto/signature.js';
import { isSelfIssued, parseTbsCertificate, type Certificate } from '../certificate.js';
import { OID } from '../oids.js';
import { readRawGeneralNames } from './raw-names.js';
import { findExtension } from './rule-kit.js';
import { EXTENSION_RULES } from './rules-extensions.js';
import { KEY_RULES } from './rules-keys.js';
import { NAME_RULES } from './rules-names.js';
import { SPIFFE_RULES } from './rules-spiffe.js';
import { STRUCTURE_RULES } from './rules-structure.js';
import type { LintContext, LintFinding, LintOptions, LintProfile, LintReport, LintRule, Severity } from './types.js';

/** Every rule, in the order findings are reported. */
export const LINT_RULES: readonly LintRule[] = [...STRUCTURE_RULES, ...KEY_RULES, ...EXTENSION_RULES, ...NAME_RULES, ...SPIFFE_RULES];

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { error: 0, warning: 1, notice: 2 };

/** True when `severity` is at least as severe as `min`. */
export function severityAtLeast(severity: Severity, min: Severity): boolean {
  return SEVERITY_RANK[severity] <= SEVERITY_RANK[min];
}

/**
 * Self-signed as far as the certificate itself can tell: self-issued, no AKI pointing at another
 * key, and a signature that verifies with its own key (an unsigned TBS is given the benefit of the
 * doubt; so is an algorithm node:crypto cannot verify).
 */
function isSelfSigned(cert: Certificate, selfIssued: boolean): boolean {
  if (!selfIssued) return false;
  const aki = cert.ext.authorityKeyIdentifier?.keyIdentifier;
  const ski = cert.ext.subjectKeyIdentifier;
  if (aki && ski && !equalBytes(aki, ski)) return false;
  if (cert.signatureValue.length === 0 || !cert.publicKey) return true;
  try {
    return verifySignature(cert.publicKey, cert.signatureAlgorithm, cert.tbs, cert.signatureValue);
  } catch {
    return true;
  }
}

/** The profile `auto` picks for a certificate (see {@link LintProfile}). */
export function detectProfile(cert: Certificate): LintProfile {
  return profileOf(cert, isSelfSigned(cert, isSelfIssued(cert)));
}

function profileOf(cert: Certificate, selfSigned: boolean): LintProfile {
  const ca = cert.ext.basicConstraints?.ca === true || (cert.ext.keyUsage?.usages.includes('keyCertSign') ?? false);
  if (ca) return selfSigned ? 'root-ca' : 'intermediate-ca';
  return selfSigned ? 'self-signed' : 'leaf';
}

function buildContext(cert: Certificate, options: LintOptions): LintContext {
  const selfIssued = isSelfIssued(cert);
  const selfSigned = isSelfSigned(cert, selfIssued);
  const explicitProfile = options.profile !== undefined && options.profile !== 'auto';
  const profile = options.profile !== undefined && options.profile !== 'auto' ? options.profile : profileOf(cert, selfSigned);
  const sanExt = findExtension(cert, OID.subjectAltName);
  const san = sanExt ? readRawGeneralNames(sanExt.value) : undefined;
  const hasSpiffeUri = (san ?? []).some((n) => n.type === 'uri' && n.text.toLowerCase().startsWith('spiffe:'));
  const spiffeOption = options.spiffe ?? 'auto';
  return {
    profile,
    explicitProfile,
    ca: profile === 'root-ca' || profile === 'intermediate-ca',
    selfIssued,
    selfSigned,
    now: options.now ?? systemClock.now(),
    spiffe: spiffeOption === 'auto' ? hasSpiffeUri : spiffeOption,
    san,
    sanExtension: sanExt ? { critical: sanExt.critical } : undefined,
  };
}

/**
 * Lints one certificate (or a TBS parsed with `parseTbsCertificate`) against its profile.
 * Never throws for certificate defects — they are findings; a rule that fails unexpectedly is
 * reported as an error finding of that rule, so that a linter bug can never let a certificate
 * through unchecked.
 */
export function lintCertificate(cert: Certificate, options: LintOptions = {}): LintReport {
  const ctx = buildContext(cert, options);
  const ignore = options.ignore !== undefined && options.ignore.length > 0 ? new Set(options.ignore) : undefined;
  const rules = options.rules ?? LINT_RULES;
  const findings: LintFinding[] = [];
  const checked: string[] = [];
  let errors = 0;
  let warnings = 0;
  let notices = 0;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as LintRule;
    if (ignore !== undefined && ignore.has(rule.id)) continue;
    const messages = runRule(rule, cert, ctx);
    if (messages === undefined) continue;
    checked.push(rule.id);
    if (messages.length === 0) continue;
    const severity = messages === FAILED ? 'error' : rule.severity;
    for (let j = 0; j < messages.length; j++) findings.push({ rule: rule.id, severity, source: rule.source, message: messages[j] as string });
    if (severity === 'error') errors += messages.length;
    else if (severity === 'warning') warnings += messages.length;
    else notices += messages.length;
  }
  return { findings, errors, warnings, notices, profile: ctx.profile, spiffe: ctx.spiffe, checked };
}

/** Marks the messages of a rule that threw (reported as an error whatever the rule's severity). */
let FAILED: readonly string[] = [];

/** The findings of one rule; undefined when it does not apply. A rule that throws yields one error finding. */
function runRule(rule: LintRule, cert: Certificate, ctx: LintContext): readonly string[] | undefined {
  try {
    return rule.appliesTo(cert, ctx) ? rule.check(cert, ctx) : undefined;
  } catch (e) {
    FAILED = [`rule could not run: ${e instanceof Error ? e.message : String(e)}`];
    return FAILED;
  }
}

/**
 * Parses a DER TBSCertificate and lints it: the CA's pre-signing check. It costs less than one
 * P-256 signature for a typical leaf (`bench/lint.ts`); pass `options.publicKey` when the subject
 * key is at hand as a KeyObject to keep it so for RSA keys too.
 */
export function lintTbsCertificate(tbs: Uint8Array, options: LintOptions = {}): LintReport {
  return lintCertificate(parseTbsCertificate(tbs, { publicKey: options.publicKey }), options);
}

/**
 * Throws ERR_LINT_FAILED naming the failing rule ids when the report has an error-level finding;
 * returns the report otherwise (warnings and notices do not stop issuance).
 */
export function assertLintClean(report: LintReport): LintReport {
  if (report.errors === 0) return report;
  const errors = report.findings.filter((f) => f.severity === 'error');
  const ids = [...new Set(errors.map((f) => f.rule))];
  throw new SignetError('ERR_LINT_FAILED', `certificate fails lint: ${ids.join(', ')}`, {
    hint: errors[0] ? `${errors[0].rule}: ${errors[0].message} (${errors[0].source})` : undefined,
    detail: { rules: ids, findings: errors.map((f) => ({ rule: f.rule, source: f.source, message: f.message })) },
  });
}
