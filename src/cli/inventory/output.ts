/**
 * Streaming output for the inventory and audit commands: rows go out as they are read, page by
 * page, so that an export of millions of certificates needs no more memory than one page.
 *
 * Formats: an aligned table for people, CSV (RFC 4180) for spreadsheets, a JSON array, and JSON
 * Lines. Every value comes from the store, and the store's text comes from certificate requests
 * and tokens, i.e. from strangers:
 * - table and CSV cells have terminal-active characters written as visible escapes
 *   ({@link escapeControl}), so a subject cannot recolour the terminal or forge a row;
 * - CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
 *   CR) get a leading `'` (OWASP "CSV injection");
 * - JSON keeps exact values; the characters JSON.stringify leaves raw but a terminal acts on are
 *   written as `\uHHHH` ({@link escapeJsonText}), so it still parses to the same values.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SignetError } from '../../core/errors.js';
import { escapeControl, escapeJsonText } from '../../core/escape.js';
import { checkOutputs, fsError, type NamedInput } from '../io.js';

/** One column of a table or CSV: its header and how to get a cell from an item. */
export interface Column<T> {
  readonly header: string;
  value(item: T): string;
}

/** Where text goes: stdout, or a file that appears whole when {@link TextSink.close} succeeds. */
export interface TextSink {
  write(text: string): Promise<void>;
  /** Finishes the output (for a file: fsync and rename into place). */
  close(): Promise<void>;
  /** Gives up: a file output leaves nothing behind. */
  abort(): void;
}

/** Standard output, respecting back-pressure. */
export function stdoutSink(): TextSink {
  return {
    async write(text) {
      if (!process.stdout.write(text)) await once(process.stdout, 'drain');
    },
    close: () => Promise.resolve(),
    abort: () => undefined,
  };
}

/** Bytes collected before one write to the file. */
const FILE_CHUNK = 64 * 1024;

/**
 * A file written atomically as it is streamed: the checks of {@link checkOutputs} first (no
 * overwrite without `force`, not a directory, not one of `inputs`), then a temp file next to it
 * (mode `mode`), renamed over `path` only once everything is written and fsynced. Without
 * `force` the temp file is hard-linked into place, which fails rather than replacing a file that
 * appeared meanwhile. An interrupted or failed run removes the temp file.
 */
export function atomicFileSink(path: string, options: { force?: boolean; mode?: number; inputs?: readonly NamedInput[] } = {}): TextSink {
  checkOutputs([{ path, role: '--out' }], options.inputs ?? [], { force: options.force === true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', options.mode ?? 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SignetError('ERR_FILE_NOT_FOUND', `cannot write ${path}: directory ${dirname(path)} does not exist`, { cause: e });
    }
    throw fsError(e, path);
  }
  let pending: string[] = [];
  let pendingChars = 0;
  const cleanup = (): void => {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      fd = undefined;
    }
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  };
  // Ctrl-C during a long export: no half-written temp file stays behind.
  const onSignal = (signal: NodeJS.Signals): void => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const unhook = (): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  const flush = (): void => {
    if (fd === undefined || pendingChars === 0) return;
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingChars = 0;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  };
  const fail = (e: unknown): never => {
    cleanup();
    unhook();
    throw fsError(e, path);
  };
  return {
    write(text) {
      pending.push(text);
      pendingChars += text.length;
      if (pendingChars >= FILE_CHUNK) {
        try {
          flush();
        } catch (e) {
          fail(e);
        }
      }
      return Promise.resolve();
    },
    close() {
      try {
        flush();
        if (fd !== undefined) {
          fsyncSync(fd);
          closeSync(fd);
          fd = undefined;
        }
        if (options.force === true) {
          renameSync(tmp, path);
        } else {
          linkIntoPlace(tmp, path);
        }
        unhook();
      } catch (e) {
        fail(e);
      }
      return Promise.resolve();
    },
    abort() {
      cleanup();
      unhook();
    },
  };
}

/**
 * Moves `tmp` to `path` unless `path` exists (EEXIST then). A hard link is atomic about that;
 * on a file system without hard links, the check and the rename are two steps.
 */
function linkIntoPlace(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP')) throw e;
    if (existsSync(path)) throw Object.assign(new Error(`${path} exists`), { code: 'EEXIST' });
    renameSync(tmp, path);
    return;
  }
  unlinkSync(tmp);
}

/** Writes items one at a time in one format; `end` finishes the document. */
export interface ItemWriter<T> {
  write(item: T): Promise<void>;
  end(): Promise<void>;
}

/** Rows the table collects to size its columns before printing anything. */
export const TABLE_SIZING_ROWS = 1000;

/**
 * An aligned table: upper-case headers, columns two spaces apart, cells escaped. The column
 * widths come from the header and the first {@link TABLE_SIZING_ROWS} rows (all of them for any
 * `--limit` up to that); a longer cell further down widens its own row only. Prints nothing for
 * no rows.
 */
export function tableWriter<T>(sink: TextSink, columns: readonly Column<T>[]): ItemWriter<T> {
  const buffered: string[][] = [];
  let widths: number[] | undefined;
  const line = (cells: readonly string[], w: readonly number[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(w[i] ?? 0)))
      .join('  ')
      .trimEnd() + '\n';
  const start = async (): Promise<void> => {
    const headers = columns.map((c) => c.header);
    widths = headers.map((h, i) => Math.max(h.length, ...buffered.map((row) => (row[i] ?? '').length)));
    const w = widths;
    await sink.write([line(headers, w), ...buffered.map((row) => line(row, w))].join(''));
    buffered.length = 0;
  };
  return {
    async write(item) {
      const cells = columns.map((c) => escapeControl(c.value(item)));
      if (widths !== undefined) {
        await sink.write(line(cells, widths));
        return;
      }
      buffered.push(cells);
      if (buffered.length >= TABLE_SIZING_ROWS) await start();
    },
    async end() {
      if (widths === undefined && buffered.length > 0) await start();
    },
  };
}

/**
 * One CSV cell (RFC 4180 §2): terminal-active characters escaped, a formula-like start
 * neutralised with `'`, quoted when it holds a comma, a quote, CR or LF (quotes doubled).
 */
export function csvCell(value: string): string {
  let v = escapeControl(value);
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** CSV with a header record, CRLF line breaks (RFC 4180 §2). */
export function csvWriter<T>(sink: TextSink, columns: readonly Column<T>[]): ItemWriter<T> {
  let started = false;
  const record = (cells: readonly string[]): string => cells.map(csvCell).join(',') + '\r\n';
  const header = async (): Promise<void> => {
    if (started) return;
    started = true;
    await sink.write(record(columns.map((c) => c.header)));
  };
  return {
    async write(item) {
      await header();
      await sink.write(record(columns.map((c) => c.value(item))));
    },
    end: header,
  };
}

function jsonText(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, undefined, indent));
}

/** A JSON array, one element at a time (`[]` for none), elements indented like {@link printJson}. */
export function jsonArrayWriter<T>(sink: TextSink, toJson: (item: T) => unknown): ItemWriter<T> {
  let count = 0;
  return {
    async write(item) {
      // JSON strings hold no raw newline, so re-indenting every line is safe.
      const text = jsonText(toJson(item), 2).replace(/\n/g, '\n  ');
      await sink.write(`${count === 0 ? '[\n' : ',\n'}  ${text}`);
      count++;
    },
    async end() {
      await sink.write(count === 0 ? '[]\n' : '\n]\n');
    },
  };
}

/** JSON Lines: one compact JSON object a line. */
export function jsonLinesWriter<T>(sink: TextSink, toJson: (item: T) => unknown): ItemWriter<T> {
  return {
    write: (item) => sink.write(jsonText(toJson(item)) + '\n'),
    end: () => Promise.resolve(),
  };
}

/** The output formats of the list-style commands. */
export type ListFormat = 'table' | 'json' | 'csv';

/** `--json` / `--csv` (commander refuses both at once) to a format. */
export function listFormat(opts: { json?: boolean; csv?: boolean }): ListFormat {
  return opts.json === true ? 'json' : opts.csv === true ? 'csv' : 'table';
}
