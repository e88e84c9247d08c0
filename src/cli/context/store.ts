/**
 * Client contexts: which CA a client talks to and the root it pinned for it. Several coexist in
 * the client home directory, one of them current:
 *
 * ```
 * $SIGNET_HOME (default ~/.signet, 0700)
 *   contexts/<name>/context.json    {"version":1,"name","caUrl","fingerprint","root":"root.crt","createdAt"}
 *   contexts/<name>/root.crt        the pinned root (PEM)
 *   current-context                 the current context's name
 * ```
 *
 * A context is written into a temporary directory and renamed into place, so it appears whole
 * or not at all; replacing one (`bootstrap --force`) swaps directories the same way.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SignetError } from '../../core/errors.js';
import { decodePem } from '../../core/pem.js';
import { parseCaUrl } from '../../client/url.js';
import { fsError, readInput, writeOutputFile } from '../io.js';

/** Names of contexts: what a host name looks like, so that the default (the CA's host) fits. */
export const CONTEXT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A saved context. */
export interface CaContext {
  readonly name: string;
  /** `https://host:port`. */
  readonly caUrl: string;
  /** SHA-256 of the root, lower-case hex. */
  readonly fingerprint: string;
  /** Absolute path of the pinned root (PEM). */
  readonly rootFile: string;
  /** RFC 3339, when it was bootstrapped. */
  readonly createdAt: string;
}

/** The client home: `$SIGNET_HOME`, else `~/.signet`. */
export function signetHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.SIGNET_HOME;
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.signet'));
}

/** Refuses names that are not {@link CONTEXT_NAME_PATTERN} (ERR_BAD_OPTION). */
export function checkContextName(name: string): string {
  if (!CONTEXT_NAME_PATTERN.test(name)) {
    throw new SignetError('ERR_BAD_OPTION', `invalid context name "${name}"`, { hint: 'use letters, digits, dots, dashes and underscores (at most 63), starting with a letter or digit' });
  }
  return name;
}

/** The default context name for a CA: its host name (an IPv6 address with `-` for `:`). */
export function defaultContextName(caUrl: string): string {
  return parseCaUrl(caUrl).host.replace(/:/g, '-').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63);
}

function contextsDir(home: string): string {
  return join(home, 'contexts');
}

function contextDir(home: string, name: string): string {
  return join(contextsDir(home), name);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function damaged(name: string, why: string): SignetError {
  return new SignetError('ERR_CONFIG_INVALID', `context "${name}" is damaged: ${why}`, { hint: `bootstrap it again: signet ca bootstrap --context ${name} --force …` });
}

/** Reads one context; ERR_CONTEXT_NOT_FOUND when there is none of that name. */
export function loadContext(home: string, name: string): CaContext {
  checkContextName(name);
  const dir = contextDir(home, name);
  if (!isDirectory(dir)) {
    const known = listContextNames(home);
    throw new SignetError('ERR_CONTEXT_NOT_FOUND', `no context "${name}"`, {
      hint: known.length > 0 ? `known contexts: ${known.join(', ')}` : 'create one with: signet ca bootstrap --ca-url URL --fingerprint SHA256',
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(readInput(join(dir, 'context.json'), 'context file')).toString('utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw damaged(name, 'context.json is not JSON');
    throw e;
  }
  const o = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string') throw damaged(name, `context.json has no "${k}"`);
    return v;
  };
  if (o.version !== 1) throw damaged(name, 'context.json is not version 1');
  const rootFile = join(dir, 'root.crt');
  const fingerprint = str('fingerprint');
  // The pinned root must still be the one that was pinned.
  const der = decodePem(Buffer.from(readInput(rootFile, 'pinned root')).toString('latin1'), ['CERTIFICATE']).der;
  if (createHash('sha256').update(der).digest('hex') !== fingerprint) throw damaged(name, 'root.crt does not match the pinned fingerprint');
  return { name, caUrl: parseCaUrl(str('caUrl'), 'caUrl').url, fingerprint, rootFile, createdAt: str('createdAt') };
}

/** Names of the saved contexts, sorted. */
export function listContextNames(home: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(contextsDir(home));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fsError(e, contextsDir(home));
  }
  return entries.filter((n) => CONTEXT_NAME_PATTERN.test(n) && isDirectory(contextDir(home, n))).sort();
}

/** The current context's name, when one is set (and still exists). */
export function currentContextName(home: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(home, 'current-context'), 'utf8');
  } catch {
    return undefined;
  }
  const name = text.trim();
  return CONTEXT_NAME_PATTERN.test(name) && isDirectory(contextDir(home, name)) ? name : undefined;
}

/** Makes `name` the current context; ERR_CONTEXT_NOT_FOUND when it does not exist. */
export function selectContext(home: string, name: string): CaContext {
  const ctx = loadContext(home, name);
  writeOutputFile(join(home, 'current-context'), `${name}\n`, { force: true, mode: 0o600 });
  return ctx;
}

function ensureHome(home: string): void {
  try {
    mkdirSync(contextsDir(home), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw fsError(e, home, 'client home');
  }
}

/** What {@link saveContext} writes. */
export interface NewContext {
  readonly name: string;
  readonly caUrl: string;
  readonly fingerprint: string;
  readonly rootPem: string;
  readonly now: Date;
}

/**
 * Saves a context (atomically) and makes it current. An existing context of that name is
 * replaced only with `force` (ERR_CONTEXT_EXISTS otherwise).
 */
export function saveContext(home: string, ctx: NewContext, options: { force?: boolean } = {}): CaContext {
  checkContextName(ctx.name);
  ensureHome(home);
  const target = contextDir(home, ctx.name);
  const exists = isDirectory(target);
  if (exists && !options.force) {
    throw new SignetError('ERR_CONTEXT_EXISTS', `a context "${ctx.name}" already exists`, { hint: 'pass --context NAME for another name, or --force to replace it' });
  }
  const tmp = mkdtempSync(join(contextsDir(home), `.${ctx.name}.new-`));
  let old: string | undefined;
  try {
    const doc = { version: 1, name: ctx.name, caUrl: ctx.caUrl, fingerprint: ctx.fingerprint, root: 'root.crt', createdAt: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    writeFileSync(join(tmp, 'root.crt'), ctx.rootPem, { mode: 0o644, flag: 'wx' });
    writeFileSync(join(tmp, 'context.json'), `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
    if (exists) {
      old = `${tmp.replace(/\.new-/, '.old-')}`;
      renameSync(target, old);
    }
    renameSync(tmp, target);
  } catch (e) {
    if (old !== undefined && !isDirectory(target)) {
      try {
        renameSync(old, target);
        old = undefined;
      } catch {
        // best effort: the original error is what the user needs to see
      }
    }
    throw fsError(e, target, 'context');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
  }
  return selectContext(home, ctx.name);
}
