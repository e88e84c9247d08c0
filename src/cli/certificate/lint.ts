/**
 * `signet certificate lint CERT` — runs the profile linter on every certificate in a PEM bundle
 * or DER file. Exit 0 when no error-level finding, 1 (ERR_LINT_FAILED) otherwise.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { parseCertificates } from '../../x509/certificate.js';
import { assertLintClean, lintCertificate, severityAtLeast } from '../../x509/lint/index.js';
import type { LintFinding, LintProfile, LintReport, Severity } from '../../x509/lint/index.js';
import { printJson, readInput } from '../io.js';

interface LintCliOptions {
  profile: string;
  json?: boolean;
  minSeverity: string;
}

const PROFILES: readonly (LintProfile | 'auto')[] = ['auto', 'root-ca', 'intermediate-ca', 'leaf', 'self-signed'];
const SEVERITIES: readonly Severity[] = ['error', 'warning', 'notice'];

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function summary(r: { errors: number; warnings: number; notices: number }): string {
  return `${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}, ${plural(r.notices, 'notice')}`;
}

/**
 * One line per finding. Messages quote certificate contents (a SAN, a policy text), so each
 * field goes through {@link escapeControl}: an ESC or a newline in a certificate must not drive
 * the terminal or forge a line. (JSON output keeps the data as it is.)
 */
function formatFindings(findings: readonly LintFinding[]): string[] {
  const rows = findings.map((f) => ({ severity: f.severity, rule: escapeControl(f.rule), text: `${escapeControl(f.source)}: ${escapeControl(f.message)}` }));
  const ruleWidth = Math.max(0, ...rows.map((r) => r.rule.length));
  return rows.map((r) => `${r.severity.padEnd(7)}  ${r.rule.padEnd(ruleWidth)}  ${r.text}`);
}

/** Registers `signet certificate lint`. */
export function registerCertificateLint(group: Command): void {
  group
    .command('lint')
    .description('check certificates against RFC 5280, CA/B Forum Baseline Requirements and SPIFFE X509-SVID rules')
    .argument('<cert>', 'certificate file: PEM (one or more certificates) or DER; - for stdin')
    .option('--profile <profile>', `role to lint against: ${PROFILES.join(', ')}`, 'auto')
    .option('--min-severity <severity>', 'show findings of at least this severity: error, warning or notice', 'notice')
    .option('--json', 'print the reports as JSON')
    .addHelpText(
      'after',
      `
Each finding is one line: severity, rule id, the rule's source (RFC 5280 section, CA/B BR section
or SPIFFE standard) and what is wrong. --profile auto derives the role from the certificate
(basicConstraints/keyUsage and whether it is self-signed); naming a profile also checks that the
certificate fits it. SPIFFE X509-SVID rules run when a URI SAN uses the spiffe scheme.

Exit codes: 0 no error-level finding (warnings and notices do not fail), 1 at least one error
(ERR_LINT_FAILED), 3 the input is not a certificate.

Examples:
  $ signet certificate lint leaf.crt
  $ signet certificate lint root.crt --profile root-ca
  $ signet certificate lint chain.pem --min-severity warning
  $ signet certificate lint svid.pem --json | jq '.certificates[0].findings'`,
    )
    .action((file: string, opts: LintCliOptions) => {
      if (!PROFILES.includes(opts.profile as LintProfile)) {
        throw new SignetError('ERR_BAD_OPTION', `unknown profile "${opts.profile}"`, { hint: `use ${PROFILES.join(', ')}` });
      }
      if (!SEVERITIES.includes(opts.minSeverity as Severity)) {
        throw new SignetError('ERR_BAD_OPTION', `unknown severity "${opts.minSeverity}"`, { hint: 'use error, warning or notice' });
      }
      const profile = opts.profile as LintProfile | 'auto';
      const min = opts.minSeverity as Severity;
      const certs = parseCertificates(readInput(file, 'certificate'));
      const now = systemClock.now();
      const reports = certs.map((cert) => ({ cert, report: lintCertificate(cert, { profile, now }) }));
      const total = {
        errors: reports.reduce((n, r) => n + r.report.errors, 0),
        warnings: reports.reduce((n, r) => n + r.report.warnings, 0),
        notices: reports.reduce((n, r) => n + r.report.notices, 0),
      };
      const shown = (r: LintReport): LintFinding[] => r.findings.filter((f) => severityAtLeast(f.severity, min));

      if (opts.json) {
        printJson({
          certificates: reports.map(({ cert, report }, i) => ({
            index: i,
            subject: cert.subject.text,
            issuer: cert.issuer.text,
            fingerprintSha256: cert.fingerprintSha256,
            profile: report.profile,
            spiffe: report.spiffe,
            errors: report.errors,
            warnings: report.warnings,
            notices: report.notices,
            findings: shown(report),
          })),
          ...total,
        });
      } else {
        const lines: string[] = [];
        reports.forEach(({ cert, report }, i) => {
          if (reports.length > 1) lines.push(`${i > 0 ? '\n' : ''}[${i + 1}/${reports.length}] ${escapeControl(cert.subject.text) || '(empty subject)'} (profile ${report.profile})`);
          lines.push(...formatFindings(shown(report)));
          lines.push(
            report.findings.length === 0
              ? `no findings (profile ${report.profile}${report.spiffe ? ', SPIFFE' : ''}, ${report.checked.length} rules applied)`
              : `${summary(report)} (profile ${report.profile}${report.spiffe ? ', SPIFFE' : ''})`,
          );
        });
        if (reports.length > 1) lines.push(`\ntotal: ${summary(total)} in ${plural(reports.length, 'certificate')}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (reports.length === 1 && reports[0]) assertLintClean(reports[0].report);
      if (total.errors > 0) {
        const failing = reports.flatMap(({ report }, i) => (report.errors > 0 ? [i + 1] : []));
        const rules = [...new Set(reports.flatMap(({ report }) => report.findings.filter((f) => f.severity === 'error').map((f) => f.rule)))];
        throw new SignetError('ERR_LINT_FAILED', `${failing.length} of ${reports.length} certificates fail lint (${failing.map((n) => `#${n}`).join(', ')}): ${rules.join(', ')}`, {
          detail: { certificates: failing, rules },
        });
      }
    });
}
