/**
 * File and terminal I/O for commands: bounded reads, atomic writes that never leave partial
 * output, 0600 for secrets, and passwords from a file or a no-echo prompt (never argv).
 */
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fstatSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SignetError } from '../core/errors.js';

/** Largest input file a command reads (certificates, keys, CSRs, CRLs, bundles, templates). */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** Reads a file (or stdin for `-`) with a size limit and specific errors. */
export function readInput(path: string, what = 'input', maxBytes = MAX_INPUT_BYTES): Uint8Array {
  let data: Buffer;
  try {
    if (path === '-') {
      data = readFileSync(0);
    } else {
      const fd = openSync(path, 'r');
      try {
        const st = fstatSync(fd);
        if (st.isDirectory()) throw new SignetError('ERR_FILE_IO', `${what} ${path} is a directory`);
        if (st.size > maxBytes) throw tooLarge(what, path, maxBytes);
        data = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  } catch (e) {
    throw fsError(e, path, what);
  }
  if (data.length > maxBytes) throw tooLarge(what, path, maxBytes);
  if (data.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${what} ${path === '-' ? 'from stdin' : path} is empty`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tooLarge(what: string, path: string, max: number): SignetError {
  return new SignetError('ERR_INPUT_TOO_LARGE', `${what} ${path} is larger than ${max} bytes`);
}

/** Maps Node's fs errors to catalogue codes; passes SignetErrors through. */
export function fsError(e: unknown, path: string, what = 'file'): SignetError {
  if (e instanceof SignetError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new SignetError('ERR_FILE_NOT_FOUND', `${what} ${path} does not exist`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new SignetError('ERR_FILE_PERMISSION', `permission denied: ${path}`, { cause: e });
  if (code === 'EEXIST') return new SignetError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'use --force to overwrite', cause: e });
  if (code === 'EISDIR') return new SignetError('ERR_FILE_IO', `${what} ${path} is a directory`, { cause: e });
  return new SignetError('ERR_FILE_IO', `cannot access ${path}: ${code ?? 'i/o error'}`, { cause: e });
}

export interface WriteOptions {
  /** Overwrite an existing file. Without it an existing file is ERR_FILE_EXISTS. */
  force?: boolean;
  /** File mode; 0o600 for anything secret. Default 0o644. */
  mode?: number;
}

/**
 * Writes `data` atomically: a temp file in the same directory, fsync, then rename. Nothing is
 * left behind when it fails, and an existing file is only replaced with `force`.
 */
export function writeOutputFile(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  if (!options.force) {
    let exists = false;
    try {
      lstatSync(path);
      exists = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, path);
    }
    if (exists) throw new SignetError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'use --force to overwrite' });
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw fsError(e, path);
  }
}

/** Prints data to stdout or writes it to a file, according to `out` (`-` or undefined = stdout). */
export function emit(out: string | undefined, data: string | Uint8Array, options: WriteOptions = {}): void {
  if (out === undefined || out === '-') {
    process.stdout.write(data);
  } else {
    writeOutputFile(out, data, options);
  }
}

/**
 * Reads a password from a file (first line, trailing newline removed) or, when `passwordFile` is
 * undefined, prompts on the terminal without echo. `confirm` asks twice (for new secrets).
 */
export async function readPassword(options: { passwordFile?: string | undefined; prompt: string; confirm?: boolean }): Promise<string> {
  if (options.passwordFile !== undefined) {
    const raw = Buffer.from(readInput(options.passwordFile, 'password file', 64 * 1024)).toString('utf8');
    const pw = raw.split(/\r?\n/)[0] ?? '';
    if (pw.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', `password file ${options.passwordFile} has an empty first line`);
    return pw;
  }
  if (!process.stdin.isTTY) {
    throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'a password is needed but there is no terminal to prompt on', {
      hint: 'pass --password-file FILE',
    });
  }
  const first = await promptHidden(options.prompt);
  if (first.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', 'the password is empty');
  if (options.confirm) {
    const again = await promptHidden('confirm password: ');
    if (again !== first) throw new SignetError('ERR_USAGE', 'the passwords do not match');
  }
  return first;
}

/** Keystrokes typed ahead of the next prompt (pasted input can carry several lines at once). */
let typedAhead = '';

/** Reads one line from the TTY without echoing it. Input after the newline is kept for the next prompt. */
export function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    const finish = (err?: Error): void => {
      stdin.removeListener('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    /** Consumes `chunk`; returns true when a line (or an interrupt) ended the prompt. */
    const consume = (chunk: string): boolean => {
      for (let i = 0; i < chunk.length; i++) {
        const ch = chunk[i] as string;
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          // A CRLF pair ends one line, not two.
          const next = ch === '\r' && chunk[i + 1] === '\n' ? i + 2 : i + 1;
          typedAhead = chunk.slice(next);
          finish();
          return true;
        }
        if (ch === '\u0003') {
          typedAhead = '';
          finish(new SignetError('ERR_USAGE', 'interrupted'));
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
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const pending = typedAhead;
    typedAhead = '';
    stdin.on('data', onData);
    if (consume(pending)) return;
    stdin.resume();
  });
}

/** Pretty JSON for `--json` output, newline-terminated. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
}
