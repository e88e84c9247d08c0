/**
 * Runs the real OpenSSL CLI for interop tests. Secrets go through files or stdin, never argv
 * (DESIGN.md security baseline), and every call is synchronous and bounded.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `openssl ...args`; `input` is written to stdin. Never throws on non-zero exit. */
export function openssl(args: readonly string[], input?: string | Uint8Array): RunResult {
  const r = spawnSync('openssl', args, { input, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, stdout: r.stdout?.toString('latin1') ?? '', stderr: r.stderr?.toString('latin1') ?? '' };
}

/** Runs openssl and throws with its stderr when it fails. */
export function opensslOk(args: readonly string[], input?: string | Uint8Array): string {
  const r = openssl(args, input);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix = 'signet-test-'): { dir: string; path: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `cmd` without blocking the event loop (so an in-process server can answer it); resolves with its exit code and output. */
export function runAsync(cmd: string, args: readonly string[], input = '', options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 30_000, ...(options.env ? { env: options.env } : {}) }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    // A command that exits without reading its input (openssl verify) closes the pipe first: not an error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}
