/**
 * File and terminal I/O for commands: bounded reads, atomic writes that never leave partial
 * output, 0600 for secrets, and passwords from a file or a no-echo prompt (never argv).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SignetError } from '../core/errors.js';
import { fsError, writeOutputFile, type WriteOptions } from '../core/files.js';
import { parseDuration } from '../core/duration.js';
import { escapeJsonText } from '../core/escape.js';
import { MAX_PASSWORD_FILE_BYTES, passwordFromFile } from '../core/password-file.js';

// Atomic outputs live in core (the agent's helper mode writes files too); commands import them from here.
export { checkDistinctFiles, checkInputs, checkOutputs, commitOutputs, fsError, writeOutputFile, type NamedInput, type OutputData, type PlannedOutput, type WriteOptions } from '../core/files.js';

/** Largest input file a command reads (certificates, keys, CSRs, bundles, templates). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** A `--timeout` for network reads: a duration from 1ms to 5m. */
export function parseTimeoutOption(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0 || ms > 300_000) throw new SignetError('ERR_BAD_DURATION', `invalid timeout "${text}": use a duration between 1ms and 5m`);
  return ms;
}

/** Largest CRL a command reads, from a file or a URL: a million entries is about 49 MB. */
export const MAX_CRL_BYTES = 256 * 1024 * 1024;

/** Largest password file (only its first line is used). */

/** Read size for streams (stdin, FIFOs, devices) and files alike. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a file (or stdin for `-`) with a size limit and specific errors. Stdin, FIFOs and
 * devices are read in chunks and abandoned at `maxBytes + 1` bytes (ERR_INPUT_TOO_LARGE), so
 * `/dev/zero` or an endless pipe fails fast instead of filling memory.
 */
export function readInput(path: string, what = 'input', maxBytes = MAX_INPUT_BYTES): Uint8Array {
  const data = readBoundedInput(path, what, maxBytes);
  if (data.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${what} ${displayName(path)} is empty`);
  return data;
}

/** `-` is stdin in messages. */
function displayName(path: string): string {
  return path === '-' ? 'from stdin' : path;
}

/** Like {@link readInput}, but an empty input is returned rather than refused. */
function readBoundedInput(path: string, what: string, maxBytes: number): Uint8Array {
  try {
    if (path === '-') return readAllBounded(0, path, what, maxBytes);
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw new SignetError('ERR_FILE_IO', `${what} ${path} is a directory`);
      // A regular file announces its size; anything else (FIFO, device, socket) is read until the limit.
      if (st.isFile() && st.size > maxBytes) throw tooLarge(what, path, maxBytes);
      return readAllBounded(fd, path, what, maxBytes);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw fsError(e, path, what);
  }
}

/** Blocks the thread briefly (used only when a non-blocking stdin has no data yet). */
function waitBriefly(): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
}

/** Reads `fd` to its end, never holding more than `maxBytes + 1` bytes. */
function readAllBounded(fd: number, path: string, what: string, maxBytes: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const want = Math.min(CHUNK_BYTES, maxBytes + 1 - total);
    const buf = Buffer.alloc(want);
    let n: number;
    try {
      n = readSync(fd, buf, 0, want, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        // stdin inherited in non-blocking mode: wait for the writer instead of failing.
        waitBriefly();
        continue;
      }
      if (code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(n === want ? buf : buf.subarray(0, n));
    total += n;
    if (total > maxBytes) throw tooLarge(what, path, maxBytes);
  }
  const data = Buffer.concat(chunks, total);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tooLarge(what: string, path: string, max: number): SignetError {
  return new SignetError('ERR_INPUT_TOO_LARGE', `${what} ${displayName(path)} is larger than ${max} bytes`);
}


/**
 * Runs `fn` (which parses one input) and prefixes the message of a SignetError it throws with
 * `source` — e.g. `roots file web.key: no CERTIFICATE block found` — keeping code and hint, so
 * that a command reading several inputs says which one is wrong.
 */
export function withSource<T>(source: string, fn: () => T): T {
  try {
    const result = fn();
    if (result instanceof Promise) {
      return result.then(undefined, (e: unknown) => {
        throw prefixError(source, e);
      }) as T;
    }
    return result;
  } catch (e) {
    throw prefixError(source, e);
  }
}

function prefixError(source: string, e: unknown): unknown {
  if (!(e instanceof SignetError)) return e;
  return new SignetError(e.code, `${source}: ${e.message}`, {
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.detail !== undefined ? { detail: { ...e.detail } } : {}),
    cause: e,
  });
}


/** Prints data to stdout or writes it to a file, according to `out` (`-` or undefined = stdout). */
export function emit(out: string | undefined, data: string | Uint8Array, options: WriteOptions = {}): void {
  if (out === undefined || out === '-') {
    process.stdout.write(data);
  } else {
    writeOutputFile(out, data, options);
  }
}

/** Who asks for a password, and how the user can provide one without a prompt. */
export interface PasswordRequest {
  /** `--password-file` (or the flag named by `flag`): its first line is the password. */
  passwordFile?: string | undefined;
  /** The prompt shown on a terminal. */
  prompt: string;
  /** Ask twice (for new secrets). */
  confirm?: boolean;
  /** The flag that names a password file for this secret, for hints. Default `--password-file`. */
  flag?: string;
  /** What needs the password (a key file name), for messages. */
  file?: string;
}

/**
 * Reads a password from a file (first line, trailing newline removed) or, when `passwordFile` is
 * undefined, prompts on the terminal without echo. `confirm` asks twice (for new secrets).
 * An empty password file or first line is ERR_PASSWORD_EMPTY; Ctrl-C at the prompt is
 * ERR_INTERRUPTED; Ctrl-D on an empty prompt is ERR_KEY_PASSWORD_REQUIRED (no password given).
 */
export async function readPassword(options: PasswordRequest): Promise<string> {
  const flag = options.flag ?? '--password-file';
  const forWhat = options.file === undefined ? '' : ` for ${options.file === '-' ? 'the key from stdin' : options.file}`;
  if (options.passwordFile !== undefined) {
    return passwordFromFile(readBoundedInput(options.passwordFile, 'password file', MAX_PASSWORD_FILE_BYTES), displayName(options.passwordFile));
  }
  if (!process.stdin.isTTY) {
    throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', `a password is needed${forWhat} but there is no terminal to prompt on`, {
      hint: `pass ${flag} FILE`,
    });
  }
  const first = await promptHidden(options.prompt, { hint: `pass ${flag} FILE` });
  if (first.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', 'the password is empty');
  if (options.confirm) {
    const again = await promptHidden('confirm password: ', { hint: `pass ${flag} FILE` });
    if (again !== first) throw new SignetError('ERR_USAGE', 'the passwords do not match');
  }
  return first;
}

/** Keystrokes typed ahead of the next prompt (pasted input can carry several lines at once). */
let typedAhead = '';

/**
 * Reads one line from the TTY without echoing it. Input after the newline is kept for the next
 * prompt. Ctrl-C rejects with ERR_INTERRUPTED; Ctrl-D on an empty line (end of input) or a
 * closed terminal rejects with ERR_KEY_PASSWORD_REQUIRED (`options.hint` says what to do
 * instead); Ctrl-D after some characters ends the line like Enter.
 */
export function promptHidden(prompt: string, options: { hint?: string } = {}): Promise<string> {
  return new Promise((resolvePrompt, reject) => {
    const stdin = process.stdin;
    // Raw mode before the prompt shows: keys typed as soon as it appears are never echoed, and
    // Ctrl-C arrives as a byte (ERR_INTERRUPTED) rather than as a signal.
    if (stdin.isTTY) stdin.setRawMode(true);
    process.stderr.write(prompt);
    let value = '';
    let finished = false;
    const noPassword = (): SignetError =>
      new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'no password was entered (end of input at the prompt)', options.hint === undefined ? {} : { hint: options.hint });
    const finish = (err?: Error): void => {
      if (finished) return;
      finished = true;
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onEnd);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolvePrompt(value);
    };
    /** Consumes `chunk`; returns true when a line (or an interrupt) ended the prompt. */
    const consume = (chunk: string): boolean => {
      for (let i = 0; i < chunk.length; i++) {
        const ch = chunk[i] as string;
        if (ch === '\u0004' && value.length === 0) {
          typedAhead = '';
          finish(noPassword());
          return true;
        }
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          // A CRLF pair ends one line, not two.
          const next = ch === '\r' && chunk[i + 1] === '\n' ? i + 2 : i + 1;
          typedAhead = chunk.slice(next);
          finish();
          return true;
        }
        if (ch === '\u0003') {
          typedAhead = '';
          finish(new SignetError('ERR_INTERRUPTED', 'interrupted'));
          return true;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
      return false;
    };
    const onData = (chunk: string): void => {
      consume(chunk);
    };
    const onEnd = (): void => {
      finish(noPassword());
    };
    stdin.setEncoding('utf8');
    const pending = typedAhead;
    typedAhead = '';
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
    if (consume(pending)) return;
    stdin.resume();
  });
}

/**
 * Pretty JSON for `--json` output, newline-terminated. Strings keep their exact value; the
 * characters JSON.stringify would leave raw but a terminal acts on (C1 controls, bidi
 * overrides) are written as `\uHHHH` escapes ({@link escapeJsonText}).
 */
export function printJson(value: unknown): void {
  process.stdout.write(escapeJsonText(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)) + '\n');
}

/** Commander's accumulator for a repeatable option (`--san a --san b` → `['a', 'b']`). */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
