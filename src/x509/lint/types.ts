/**
 * The rule model of the certificate profile linter. A rule is data plus two pure functions: when
 * it applies and what it finds. Every rule cites the text it enforces, so a finding can always be
 * traced back to a MUST/SHOULD in RFC 5280, the CA/Browser Forum Baseline Requirements (applied
 * to private PKI, usually softened to warnings) or the SPIFFE X509-SVID standard.
 */
import type { KeyObject } from 'node:crypto';
import type { Certificate } from '../certificate.js';
import type { RawGeneralName } from './raw-names.js';

/** How bad a finding is. Only `error` stops the CA from signing. */
export type Severity = 'error' | 'warning' | 'notice';

/**
 * The role the certificate is linted for. `auto` derives it from the certificate: a CA when
 * basicConstraints asserts cA (or keyUsage asserts keyCertSign), a root when it is also
 * self-signed; otherwise a leaf, or `self-signed` for a self-signed end-entity certificate.
 */
export type LintProfile = 'root-ca' | 'intermediate-ca' | 'leaf' | 'self-signed';

/** What every rule may look at besides the certificate itself. */
export interface LintContext {
  /** The role in force (explicit, or derived when `auto`). */
  readonly profile: LintProfile;
  /** True when the caller named the profile (so a certificate that contradicts it is an error). */
  readonly explicitProfile: boolean;
  /** True for `root-ca` and `intermediate-ca`. */
  readonly ca: boolean;
  /** Issuer and subject Names are byte-identical (RFC 5280 §3.2 "self-issued"). */
  readonly selfIssued: boolean;
  /** Self-issued and signed by its own key, as far as can be told (always assumed for an unsigned TBS). */
  readonly selfSigned: boolean;
  /** The time the lint runs at (injected; never read from the ambient clock in rules). */
  readonly now: Date;
  /** True when the SPIFFE X509-SVID rules apply. */
  readonly spiffe: boolean;
  /** The names of the first subjectAltName extension, read tolerantly; undefined when absent or not even DER. */
  readonly san: readonly RawGeneralName[] | undefined;
  /** The subjectAltName extension as encoded (first instance). */
  readonly sanExtension: { readonly critical: boolean } | undefined;
}

/** One lint rule. `id` follows zlint's convention: `e_` error, `w_` warning, `n_` notice. */
export interface LintRule {
  readonly id: string;
  readonly severity: Severity;
  /** Where the requirement comes from, e.g. `RFC 5280 §4.1.2.2`. */
  readonly source: string;
  /** One line saying what the rule requires. */
  readonly description: string;
  /** False when the rule says nothing about this certificate (e.g. a CA-only rule on a leaf). */
  appliesTo(cert: Certificate, ctx: LintContext): boolean;
  /** The problems found, as one lower-case message each; empty when the certificate passes. */
  check(cert: Certificate, ctx: LintContext): readonly string[];
}

/** One problem found by one rule. */
export interface LintFinding {
  readonly rule: string;
  readonly severity: Severity;
  readonly source: string;
  readonly message: string;
}

/** The result of linting one certificate. */
export interface LintReport {
  /** Findings in rule order. */
  readonly findings: readonly LintFinding[];
  readonly errors: number;
  readonly warnings: number;
  readonly notices: number;
  /** The profile the certificate was linted against. */
  readonly profile: LintProfile;
  /** Whether the SPIFFE X509-SVID rules ran. */
  readonly spiffe: boolean;
  /** Ids of the rules that applied to this certificate (passed or not). */
  readonly checked: readonly string[];
}

/** Options of {@link lintCertificate}. */
export interface LintOptions {
  /** Default `auto`. */
  readonly profile?: LintProfile | 'auto';
  /** The lint time; default the system clock. The CA passes its injected clock's time. */
  readonly now?: Date;
  /** `auto` (default): SPIFFE rules run when a subjectAltName URI uses the `spiffe` scheme. */
  readonly spiffe?: boolean | 'auto';
  /** Rule ids to skip (for deliberate, documented exceptions). */
  readonly ignore?: readonly string[];
  /** The rule set; default `LINT_RULES` (every rule). */
  readonly rules?: readonly LintRule[];
  /**
   * For `lintTbsCertificate`: the subject public key when the caller already holds it as a
   * KeyObject (see `ParseCertificateOptions.publicKey`); spares a key import for key types the
   * linter cannot judge from the encoding alone (RSA). Checked against the TBS, never trusted.
   */
  readonly publicKey?: KeyObject;
}
