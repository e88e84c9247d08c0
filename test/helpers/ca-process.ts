/**
 * `signet ca start` as a child process whose JSON log lines a test can await (test/ca-server,
 * test/ha). Every process started here is killed by {@link killCaProcesses} (call it in `after`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI_PATH } from './cli.js';

const children: CaProcess[] = [];

/** SIGKILLs every CaProcess still running. */
export function killCaProcesses(): void {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
}

/** A running `signet ca start` whose JSON log lines can be awaited. */
export class CaProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  #waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(configPath: string, env: Readonly<Record<string, string>> = {}) {
    this.child = spawn(process.execPath, [CLI_PATH, 'ca', 'start', '--config', configPath], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let buffer = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, i)) as Record<string, unknown>;
        buffer = buffer.slice(i + 1);
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
      }
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    children.push(this);
  }

  /** The first log line (already seen or still to come) with this `msg` (and matching `match`). */
  waitFor(msg: string, match: (l: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const wanted = (l: Record<string, unknown>): boolean => l.msg === msg && match(l);
    const seen = this.lines.find(wanted);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<Record<string, unknown>>((resolve) => this.#waiters.push({ match: wanted, resolve })),
      this.exited.then((code) => {
        throw new Error(`signet ca start exited with ${code} before "${msg}": ${this.stderr}`);
      }),
    ]);
  }
}
