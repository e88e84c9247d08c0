/**
 * Machinery behind test/readme/examples.test.ts: find the runnable ```sh blocks of a Markdown
 * document and run them one by one with bash, as a user pasting them into a terminal would.
 * The conventions README authors follow are in /work/notes/readme-examples.md and at the top of
 * examples.test.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced ```sh block of the README. */
export interface ShellBlock {
  /** 1-based position among the runnable blocks, in document order. */
  readonly index: number;
  /** The nearest heading above the block, without its `#` marks (`(no heading)` before the first). */
  readonly heading: string;
  /** 1-based README line of the first line inside the fence. */
  readonly line: number;
  /** The block's lines, with the fence's indentation removed. */
  readonly body: string;
  /** The first line that is not the `# exit N` directive (empty only for an empty block): names the block. */
  readonly firstLine: string;
  /** Exit status the block must end with: 0 unless the first line is `# exit N`. */
  readonly expectedExit: number;
}

/** What {@link extractShellBlocks} found: the blocks to run and how many were marked `# not run`. */
export interface Extracted {
  readonly blocks: readonly ShellBlock[];
  readonly notRun: number;
}

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const FENCE_CLOSE = /^(`{3,}|~{3,})$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const NOT_RUN = /^#\s*not run\b/i;
const EXIT = /^#\s*exit\s+(\d{1,3})\s*$/i;

/**
 * Every fenced code block whose info string is exactly `sh`, in document order, except those whose
 * first non-blank line is `# not run`. Fences follow CommonMark: ``` or ~~~, closed by the same
 * character at least as long; headings inside fences are not headings.
 */
export function extractShellBlocks(markdown: string): Extracted {
  const lines = markdown.split(/\r?\n/);
  const blocks: ShellBlock[] = [];
  let notRun = 0;
  let heading = '(no heading)';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    const open = FENCE_OPEN.exec(text);
    if (!open) {
      const h = HEADING.exec(text);
      if (h) heading = h[2] as string;
      continue;
    }
    const indent = (open[1] as string).length;
    const fence = open[2] as string;
    const lang = (open[3] as string).toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] as string;
      const close = FENCE_CLOSE.exec(l.trim())?.[1];
      if (close !== undefined && close[0] === fence[0] && close.length >= fence.length) break;
      // Strip the fence's indentation (a block inside a list item), never more.
      body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
    }
    if (lang === 'sh') {
      const meaningful = body.filter((l) => l.trim() !== '');
      const first = (meaningful[0] ?? '').trim();
      if (NOT_RUN.test(first)) {
        notRun++;
      } else {
        const exit = EXIT.exec(first);
        const firstLine = (exit ? meaningful[1] ?? '' : first).trim();
        blocks.push({
          index: blocks.length + 1,
          heading,
          line: i + 2,
          body: body.join('\n'),
          firstLine,
          expectedExit: exit ? Number(exit[1]) : 0,
        });
      }
    }
    i = j; // skip past the closing fence (or to the end when the fence is never closed)
  }
  return { blocks, notRun };
}

/** A short, single-line name for a block, for test titles and failure messages. */
export function blockTitle(block: ShellBlock): string {
  const first = block.firstLine.length > 72 ? `${block.firstLine.slice(0, 71)}…` : block.firstLine;
  return `#${block.index} ${block.heading} (README line ${block.line}): ${first}`;
}

/** Where the examples run: a shim bin dir, the shared working directory, a HOME, the scripts. */
export interface Sandbox {
  readonly root: string;
  readonly bin: string;
  readonly work: string;
  readonly home: string;
  readonly scripts: string;
}

/** POSIX single-quoting, for paths written into the shim. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Lays out `root`: `bin/signet` (a shim running `node cliPath "$@"` with this Node), `work/` (the
 * one directory all blocks share), `home/` and `scripts/`.
 */
export function createSandbox(root: string, cliPath: string): Sandbox {
  const box = { root, bin: join(root, 'bin'), work: join(root, 'work'), home: join(root, 'home'), scripts: join(root, 'scripts') };
  for (const d of [box.bin, box.work, box.home, box.scripts]) mkdirSync(d, { recursive: true });
  const shim = join(box.bin, 'signet');
  writeFileSync(shim, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(cliPath)} "$@"\n`);
  chmodSync(shim, 0o755);
  return box;
}

/** How a block ended. */
export interface BlockResult {
  /** Exit status, or undefined when the process was killed (timeout or signal). */
  readonly status: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Lines of bash run before each block; the ERR trap names the failing README line on stderr. */
function prologue(block: ShellBlock): string[] {
  const lines = ['set -euo pipefail', ''];
  // The block's first line is script line (prologue length + 1); map $LINENO back to README lines.
  const delta = block.line - (lines.length + 1);
  lines[1] = `trap 's=$?; echo "readme: README line $((LINENO + ${delta})) exited with status $s" >&2' ERR`;
  return lines;
}

/**
 * Runs one block with `bash` in `box.work`: `set -euo pipefail`, stdin from /dev/null, PATH led by
 * the shim dir, HOME in the sandbox. After `timeoutMs` the whole process group is killed, so a
 * stuck command (or one waiting for a terminal) cannot hang the suite.
 */
export function runBlock(box: Sandbox, block: ShellBlock, timeoutMs: number): Promise<BlockResult> {
  const script = join(box.scripts, `block-${block.index}.sh`);
  writeFileSync(script, [...prologue(block), block.body, ''].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${box.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: box.home, NO_COLOR: '1' };
  // Set by `node --test` for its own children; the CLI under test is not a test runner.
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', script], {
      cwd: box.work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, killed as a whole on timeout
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function tail(text: string, max: number): string {
  const t = text.trimEnd();
  return t.length <= max ? t : `…${t.slice(t.length - max)}`;
}

/**
 * Undefined when the block ended as its README says; otherwise a message naming the block (heading
 * and first line), what happened, and its stderr (plus the end of its stdout).
 */
export function describeFailure(block: ShellBlock, r: BlockResult, timeoutMs: number): string | undefined {
  if (!r.timedOut && r.signal === undefined && r.status === block.expectedExit) return undefined;
  const what = r.timedOut
    ? `did not finish within ${timeoutMs} ms (killed; is it waiting for a terminal or the network?)`
    : r.signal !== undefined
      ? `was killed by ${r.signal}`
      : `exited with status ${String(r.status)}, expected ${block.expectedExit}${block.expectedExit === 0 ? '' : ' (# exit directive)'}`;
  return [
    `README example ${blockTitle(block)}`,
    `  ${what}`,
    '--- stderr ---',
    tail(r.stderr, 4000) || '(empty)',
    '--- stdout (end) ---',
    tail(r.stdout, 1500) || '(empty)',
  ].join('\n');
}
