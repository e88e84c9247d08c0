/**
 * `signet ca config validate` — the strict config pipeline `signet ca start` runs (src/ca/config.ts):
 * parse, schema, defaults, cross-field rules, then the files the config refers to. Every problem
 * is listed at once with its JSON path and position.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { CA_CONFIG_FILE, DEFAULT_CA_DIR, checkCaFiles, configError, formatConfigProblem, loadCaConfig, type CaConfig, type ConfigProblem } from '../../ca/config.js';
import { printJson } from '../io.js';

/** The config `ca` commands use without `--config`. */
export const DEFAULT_CONFIG_PATH = `${DEFAULT_CA_DIR}/${CA_CONFIG_FILE}`;

/** What `ca config validate --json` prints for a valid config. */
export interface CaConfigValidateResult {
  readonly valid: true;
  readonly config: string;
  readonly name: string;
  readonly address: string;
  readonly provisioners: readonly string[];
  readonly root: { readonly subject: string; readonly notAfter: string; readonly fingerprint: string };
  readonly additionalRoots: readonly { readonly subject: string; readonly notAfter: string; readonly fingerprint: string }[];
  readonly intermediate: { readonly subject: string; readonly notAfter: string };
  readonly warnings: readonly ConfigProblem[];
}

function problemsOf(e: SignetError): ConfigProblem[] {
  const list = e.detail?.problems;
  return Array.isArray(list) ? (list as ConfigProblem[]) : [];
}

/**
 * Loads and checks a config, printing every problem on stderr (`problem: $.path: message (line,
 * column)`) before throwing ERR_CONFIG_INVALID, unless `json` (then the error's
 * `detail.problems` carries them). Returns the config and the file report.
 */
export function validateCaConfigFile(path: string, options: { json?: boolean }): { config: CaConfig; result: CaConfigValidateResult } {
  const listed = options.json !== true;
  const fail = (e: unknown): never => {
    if (e instanceof SignetError && e.code === 'ERR_CONFIG_INVALID') {
      const problems = problemsOf(e);
      if (listed) for (const p of problems) process.stderr.write(`problem: ${escapeControl(formatConfigProblem(p))}\n`);
      const name = e.detail?.config;
      throw configError(typeof name === 'string' ? name : path, problems, { listed });
    }
    throw e;
  };
  let config: CaConfig;
  try {
    config = loadCaConfig(path);
  } catch (e) {
    return fail(e);
  }
  let report: ReturnType<typeof checkCaFiles>;
  try {
    // Decrypting the intermediate key proves the password file is right before `ca start` needs it.
    report = checkCaFiles(config, { now: systemClock.now(), decryptKey: true });
  } catch (e) {
    return fail(e);
  }
  return {
    config,
    result: {
      valid: true,
      // As the user named it (a directory means its signet.json).
      config: config.configPath === undefined || resolve(path) === config.configPath ? path : join(path, CA_CONFIG_FILE),
      name: config.name,
      address: config.address,
      provisioners: config.provisioners.map((p) => p.name),
      root: { subject: report.root.subject.text, notAfter: formatTime(report.root.notAfter), fingerprint: report.root.fingerprintSha256 },
      additionalRoots: report.additionalRoots.map((r) => ({ subject: r.subject.text, notAfter: formatTime(r.notAfter), fingerprint: r.fingerprintSha256 })),
      intermediate: { subject: report.intermediate.subject.text, notAfter: formatTime(report.intermediate.notAfter) },
      warnings: report.warnings,
    },
  };
}

/** Registers `signet ca config validate` under `signet ca config`. */
export function registerCaConfigValidate(group: Command): void {
  group
    .command('validate')
    .description('check a CA config and the files it names: every problem at once, with its path')
    .option('--config <file>', `the config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`)
    .option('--json', 'print the result as JSON (problems are in the JSON error on stderr)')
    .addHelpText(
      'after',
      `
Runs the pipeline \`signet ca start\` runs: strict JSON, unknown fields (with a "did you mean"),
types and values, defaults, claims ordering after merging (min <= default <= max), unique
provisioner names, public provisioner keys only, policies — then the files: the root (and each
of additionalRoots, none twice) is a self-signed CA, the intermediate chains to it and is valid now, the intermediate key is a
private key that the password file decrypts and that belongs to the intermediate, templates
are valid. Risky but workable settings (an unencrypted key, a secret readable by others, an
expired additional root) are printed as warnings.

Exit codes: 0 valid; 1 invalid (ERR_CONFIG_INVALID, every problem listed); 3 not JSON or too
large (ERR_JSON_MALFORMED, ERR_INPUT_TOO_LARGE); 5 no such file (ERR_CONFIG_NOT_FOUND).

Examples:
  $ signet ca config validate
  $ signet ca config validate --config /etc/signet/signet.json --json`,
    )
    .action((opts: { config?: string; json?: boolean }) => {
      const path = opts.config ?? DEFAULT_CONFIG_PATH;
      const { result } = validateCaConfigFile(path, { json: opts.json === true });
      if (opts.json) {
        printJson(result);
        return;
      }
      for (const w of result.warnings) process.stderr.write(`warning: ${escapeControl(formatConfigProblem(w))}\n`);
      const n = result.provisioners.length;
      process.stdout.write(
        escapeControl(`ok: ${result.config} is valid (CA ${JSON.stringify(result.name)}, listens on ${result.address}, ${n} provisioner${n === 1 ? '' : 's'}${n > 0 ? `: ${result.provisioners.join(', ')}` : ''})`) + '\n',
      );
    });
}
