/**
 * The certificate profile linter's public API: lint a certificate (or an unsigned TBS) against
 * RFC 5280, the CA/Browser Forum Baseline Requirements as they apply to private PKI, and the
 * SPIFFE X509-SVID standard; refuse to sign when an error-level rule fails.
 */
export { LINT_RULES, assertLintClean, detectProfile, lintCertificate, lintTbsCertificate, severityAtLeast } from './lint.js';
export { parseSpiffeId, type SpiffeIdParts } from './syntax.js';
export type { LintContext, LintFinding, LintOptions, LintProfile, LintReport, LintRule, Severity } from './types.js';
