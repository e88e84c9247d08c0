/**
 * Files written as one step: bounded checks before any work (distinct outputs, no output that is
 * an input, nothing overwritten without `force`), temp files fsynced and renamed into place, a
 * rollback that leaves every earlier file as it was, 0600 for secrets. Used by the CLI's commands
 * and by the agent's helper mode.
 */
import { closeSync, fsyncSync, linkSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { SignetError } from './errors.js';

/** Maps Node's fs errors to catalogue codes; passes SignetErrors through. */
export function fsError(e: unknown, path: string, what = 'file'): SignetError {
  if (e instanceof SignetError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new SignetError('ERR_FILE_NOT_FOUND', `${what} ${path} does not exist`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new SignetError('ERR_FILE_PERMISSION', `permission denied: ${path}`, { cause: e });
  if (code === 'EEXIST') return new SignetError('ERR_FILE_EXISTS', `${path} already exists`, { hint: 'use --force to overwrite', cause: e });
  if (code === 'EISDIR') return new SignetError('ERR_FILE_IO', `${what} ${path} is a directory`, { cause: e });
  return new SignetError('ERR_FILE_IO', `cannot access ${path}: ${code ?? 'I/O error'}`, { cause: e });
}

export interface WriteOptions {
  /** Overwrite an existing file. Without it an existing file is ERR_FILE_EXISTS. */
  force?: boolean;
  /** File mode; 0o600 for anything secret. Default 0o644. */
  mode?: number;
}

/** One file (or stdout) a command is going to write. */
export interface PlannedOutput {
  /** Where: a path, or `-` for stdout. */
  readonly path: string;
  /** How the user named it, for messages: `OUT`, `--key-out`, `--public-out`, … */
  readonly role: string;
  /** File mode; 0o600 for anything secret. Default 0o644. */
  readonly mode?: number;
}

/** An output with its content, ready for {@link commitOutputs}. */
export interface OutputData extends PlannedOutput {
  readonly data: string | Uint8Array;
}

/** A file a command reads, for the same-file checks of {@link checkOutputs}. Undefined paths are ignored. */
export interface NamedInput {
  readonly path: string | undefined;
  /** How the user named it: `--key`, `--ca-key`, `--password-file`, … */
  readonly role: string;
}

/**
 * What identifies a file on disk: device and inode when it exists (so `./a`, `a`, a symlink and a
 * hard link to it all compare equal), otherwise the absolute path with the real path of its
 * parent directory.
 */
function fileIdentity(path: string): string {
  const abs = resolve(path);
  try {
    const st = statSync(abs);
    return `inode:${st.dev}:${st.ino}`;
  } catch {
    // does not exist (or a dangling link): compare by where it would be created
  }
  try {
    return `path:${join(realpathSync(dirname(abs)), basename(abs))}`;
  } catch {
    return `path:${abs}`;
  }
}

function describe(role: string, path: string): string {
  return role.startsWith('-') ? `${role} ${path}` : `${role} (${path})`;
}

/**
 * Refuses more than one input from stdin (`-`): stdin can be read once, so the second reader
 * would see an empty input (ERR_INPUT_EMPTY) instead of the data the user meant. Every command
 * that reads several inputs calls this (directly, or through {@link checkDistinctFiles} /
 * {@link checkOutputs}) before reading any of them. Undefined paths are ignored.
 */
export function checkInputs(inputs: readonly NamedInput[]): void {
  const stdinInputs = inputs.filter((i) => i.path === '-');
  if (stdinInputs.length > 1) {
    const roles = stdinInputs.map((i) => i.role);
    const listed = `${roles.slice(0, -1).join(', ')} and ${roles[roles.length - 1] ?? ''}`;
    throw new SignetError('ERR_USAGE', `only one input can come from stdin, but ${listed} are ${roles.length === 2 ? 'both' : 'all'} -`, {
      hint: 'write all but one of them to files',
    });
  }
}

/**
 * Refuses impossible input/output combinations, regardless of `--force`: two outputs that are
 * the same file, an output that is also an input, more than one output on stdout, more than
 * one input from stdin.
 */
export function checkDistinctFiles(outputs: readonly PlannedOutput[], inputs: readonly NamedInput[] = []): void {
  const stdoutOutputs = outputs.filter((o) => o.path === '-');
  if (stdoutOutputs.length > 1) {
    throw new SignetError('ERR_USAGE', `only one output can go to stdout, but ${stdoutOutputs.map((o) => o.role).join(' and ')} are both -`);
  }
  checkInputs(inputs);
  const seen = new Map<string, PlannedOutput>();
  for (const o of outputs) {
    if (o.path === '-') continue;
    const id = fileIdentity(o.path);
    const other = seen.get(id);
    if (other) {
      throw new SignetError('ERR_USAGE', `${describe(other.role, other.path)} and ${describe(o.role, o.path)} are the same file`, {
        hint: 'write each output to its own file',
      });
    }
    seen.set(id, o);
  }
  for (const i of inputs) {
    if (i.path === undefined || i.path === '-') continue;
    const o = seen.get(fileIdentity(i.path));
    if (o) {
      throw new SignetError('ERR_USAGE', `${describe(o.role, o.path)} is the input ${describe(i.role, i.path)}; an output must not replace an input`, {
        hint: 'write the output to another file',
      });
    }
  }
}

/**
 * Checks, before any work is done, that the outputs can be written: distinct files (see
 * {@link checkDistinctFiles}), no directory, and without `force` nothing that already exists.
 */
export function checkOutputs(outputs: readonly PlannedOutput[], inputs: readonly NamedInput[] = [], options: { force?: boolean } = {}): void {
  checkDistinctFiles(outputs, inputs);
  for (const o of outputs) {
    if (o.path === '-') continue;
    let exists = false;
    try {
      lstatSync(o.path);
      exists = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, o.path);
    }
    if (!exists) continue;
    let isDirectory = false;
    try {
      isDirectory = statSync(o.path).isDirectory();
    } catch {
      // a dangling symlink: replaced like a file
    }
    if (isDirectory) throw new SignetError('ERR_FILE_IO', `${describe(o.role, o.path)} is a directory`, { hint: 'give a file name' });
    if (!options.force) throw new SignetError('ERR_FILE_EXISTS', `${o.path} already exists`, { hint: 'use --force to overwrite' });
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function tempName(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.${suffix}`);
}

/** Writes `data` to a new temp file next to `path` (fsynced); returns its name. */
function writeTemp(path: string, data: string | Uint8Array, mode: number): string {
  const tmp = tempName(path, 'tmp');
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    return tmp;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    tryUnlink(tmp);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SignetError('ERR_FILE_NOT_FOUND', `cannot write ${path}: directory ${dirname(path)} does not exist`, { cause: e });
    }
    throw fsError(e, path);
  }
}

/**
 * Writes several outputs as one step — the single place commands commit what they produced
 * (`key create`, `certificate create`, `csr create`, and every single-file write):
 *
 * 1. the same checks as {@link checkOutputs} (again, right before writing);
 * 2. every file is written to a temp file in its directory and fsynced — on failure the temps
 *    are removed and no existing file has been touched;
 * 3. the temps are renamed over their targets, secrets (mode 0600) last. An existing target is
 *    first hard-linked to a backup so that, should a later rename fail, every replaced file is
 *    restored and every file this call created is removed. Files that existed before are never
 *    deleted;
 * 4. an output `-` is written to stdout once all files are in place.
 */
export function commitOutputs(outputs: readonly OutputData[], options: { force?: boolean } = {}): void {
  checkOutputs(outputs, [], options);
  const files = outputs.filter((o) => o.path !== '-');
  // Secrets last: if the rollback itself failed, an old key would still be intact.
  const ordered = [...files.filter((o) => (o.mode ?? 0o644) !== 0o600), ...files.filter((o) => (o.mode ?? 0o644) === 0o600)];

  const temps: { out: OutputData; tmp: string }[] = [];
  try {
    for (const out of ordered) temps.push({ out, tmp: writeTemp(out.path, out.data, out.mode ?? 0o644) });
  } catch (e) {
    for (const t of temps) tryUnlink(t.tmp);
    throw e;
  }

  const done: { path: string; backup: string | undefined }[] = [];
  const backups: string[] = [];
  try {
    for (const { out, tmp } of temps) {
      let backup: string | undefined;
      if (existsAsFile(out.path)) {
        backup = tempName(out.path, 'bak');
        try {
          linkSync(out.path, backup);
          backups.push(backup);
        } catch {
          backup = undefined; // no hard links here: the file is replaced without a way back
        }
      }
      renameSync(tmp, out.path);
      done.push({ path: out.path, backup });
    }
  } catch (e) {
    for (const d of done.reverse()) {
      try {
        if (d.backup !== undefined) renameSync(d.backup, d.path);
        else unlinkSync(d.path);
      } catch {
        // best effort: the original error is what the user needs to see
      }
    }
    for (const t of temps) tryUnlink(t.tmp);
    for (const b of backups) tryUnlink(b);
    const failed = temps[done.length]?.out.path ?? '';
    throw fsError(e, failed);
  }
  for (const b of backups) tryUnlink(b);

  for (const o of outputs) if (o.path === '-') process.stdout.write(o.data);
}

function existsAsFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes `data` atomically: a temp file in the same directory, fsync, then rename. Nothing is
 * left behind when it fails, and an existing file is only replaced with `force`.
 */
export function writeOutputFile(path: string, data: string | Uint8Array, options: WriteOptions = {}): void {
  commitOutputs([{ path, role: 'output', data, ...(options.mode !== undefined ? { mode: options.mode } : {}) }], options);
}
