/** Runs the built `signet` CLI as a user would, for end-to-end tests. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/src/cli/main.js, next to dist/test/helpers. */
export const CLI_PATH = join(here, '..', '..', 'src', 'cli', 'main.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function signet(args: readonly string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], {
    input: options.input ?? '',
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '' };
}

/** Asserts exit 0, showing both streams when it is not. */
export function ok(r: CliResult): CliResult {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** Asserts a clean failure: the exit status, the code on stderr, exactly one error line, no stack trace. */
export function fails(r: CliResult, status: number, code: string): void {
  assert.equal(r.status, status, `expected exit ${status}, got ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`\\(${code}\\)`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, r.stderr);
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`) and answers prompts as they appear:
 * each step waits until the terminal output matches `waitFor`, then types `send`. Event-driven,
 * no timers.
 */
export function interact(args: readonly string[], steps: readonly { waitFor: RegExp; send: string }[], options: { cwd?: string } = {}): Promise<{ status: number; out: string }> {
  const cmd = [process.execPath, CLI_PATH, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  let out = '';
  let step = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const next = steps[step];
    if (next && next.waitFor.test(out)) {
      step++;
      child.stdin.write(next.send);
    }
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ status: code ?? -1, out });
    });
  });
}

/**
 * Like {@link signet}, without blocking the event loop: for tests whose peer (a CA started
 * in-process) must keep answering while the CLI runs.
 */
export function signetAsync(args: readonly string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
