/**
 * Which CA a client command talks to, and the root it trusts for it. In order:
 *
 * 1. `--ca-url URL --root FILE` (both; the root is never optional — verification is not),
 * 2. `--context NAME`,
 * 3. `--config FILE` (on the CA host: its URL and root, for commands that offer it),
 * 4. the current context (`signet context select`),
 * 5. the default CA config `.signet/ca/signet.json` when it exists (commands that offer --config).
 *
 * Nothing else; without any of them the command fails with ERR_CONTEXT_NOT_FOUND and a hint to
 * bootstrap.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { decodePemAll, looksLikePem, encodePem } from '../../core/pem.js';
import { loadCaConfig } from '../../ca/config.js';
import { createCaClient, type CaClient } from '../../client/http.js';
import { parseCaUrl } from '../../client/url.js';
import { currentContextName, loadContext, signetHome } from '../context/store.js';
import { readInput } from '../io.js';
import { DEFAULT_CONFIG_PATH } from './config-validate.js';
import { caUrlFromConfig } from './token.js';

/** The connection flags every client command has (`config` only where offered). */
export interface ConnectionFlags {
  context?: string;
  caUrl?: string;
  root?: string;
  config?: string;
}

/** A CA to talk to. */
export interface ResolvedCa {
  /** `https://host:port`. */
  readonly url: string;
  /** The trusted root(s), PEM. */
  readonly rootsPem: string;
  /** The file they were read from. */
  readonly rootFile: string;
  /** Where the choice came from, for messages and --json. */
  readonly source: 'flags' | 'context' | 'config';
  /** The context's name (source `context`). */
  readonly context?: string;
  /** The config file (source `config`). */
  readonly config?: string;
}

/** Adds --context, --ca-url, --root and (unless `withConfig` is false) --config. */
export function addConnectionOptions(cmd: Command, options: { withConfig?: boolean } = {}): Command {
  cmd
    .option('--context <name>', 'the context to use (default: the current one; see signet context list)')
    .option('--ca-url <url>', 'the CA, https://host[:port] (with --root, instead of a context)')
    .option('--root <file>', 'the root certificate to trust for --ca-url');
  if (options.withConfig ?? true) cmd.option('--config <file>', `on the CA host: take the URL and root from this CA config (default ${DEFAULT_CONFIG_PATH} when there is no context)`);
  return cmd;
}

/** Reads a root file (PEM, one or more certificates, or DER) as PEM. */
function readRoots(path: string, what: string): string {
  const data = readInput(path, what);
  if (!looksLikePem(data)) return encodePem('CERTIFICATE', data);
  const blocks = decodePemAll(Buffer.from(data).toString('latin1')).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `${what} ${path} holds no CERTIFICATE`);
  return blocks.map((b) => encodePem('CERTIFICATE', b.der)).join('');
}

function fromConfig(path: string): ResolvedCa {
  const config = loadCaConfig(path);
  return { url: caUrlFromConfig(config), rootsPem: readRoots(config.root, 'root certificate'), rootFile: config.root, source: 'config', config: path };
}

function fromContext(home: string, name: string): ResolvedCa {
  const ctx = loadContext(home, name);
  return { url: ctx.caUrl, rootsPem: readRoots(ctx.rootFile, 'pinned root'), rootFile: ctx.rootFile, source: 'context', context: name };
}

/** Resolves the CA for a client command (see the module comment). */
export function resolveCa(flags: ConnectionFlags, given: { withConfig?: boolean; env?: NodeJS.ProcessEnv } = {}): ResolvedCa {
  const options = { ...given, withConfig: given.withConfig ?? true };
  if ((flags.caUrl === undefined) !== (flags.root === undefined)) {
    throw new SignetError('ERR_USAGE', flags.caUrl !== undefined ? '--ca-url needs --root: the CA\'s TLS certificate is always verified' : '--root needs --ca-url', {
      hint: 'or bootstrap a context once: signet ca bootstrap --ca-url URL --fingerprint SHA256',
    });
  }
  const explicit = [flags.caUrl !== undefined ? '--ca-url' : undefined, flags.context !== undefined ? '--context' : undefined, options.withConfig && flags.config !== undefined ? '--config' : undefined].filter((f) => f !== undefined);
  if (explicit.length > 1) throw new SignetError('ERR_USAGE', `${explicit.join(' and ')} cannot be combined: each names the CA`);
  if (flags.caUrl !== undefined && flags.root !== undefined) {
    return { url: parseCaUrl(flags.caUrl).url, rootsPem: readRoots(flags.root, '--root'), rootFile: flags.root, source: 'flags' };
  }
  const home = signetHome(options.env);
  if (flags.context !== undefined) return fromContext(home, flags.context);
  if (options.withConfig && flags.config !== undefined) return fromConfig(flags.config);
  const current = currentContextName(home);
  if (current !== undefined) return fromContext(home, current);
  if (options.withConfig && existsSync(DEFAULT_CONFIG_PATH)) return fromConfig(DEFAULT_CONFIG_PATH);
  throw new SignetError('ERR_CONTEXT_NOT_FOUND', 'no CA to talk to: there is no current context', {
    hint: `bootstrap one: signet ca bootstrap --ca-url URL --fingerprint SHA256 (contexts live in ${home}); or pass --ca-url and --root`,
  });
}

/** A client for the resolved CA. */
export function clientFor(ca: ResolvedCa): CaClient {
  return createCaClient({ url: ca.url, roots: ca.rootsPem });
}
