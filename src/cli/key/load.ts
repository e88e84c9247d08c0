/**
 * Loading key files for commands: read (bounded), find out whether a password is needed, get it
 * from `--password-file` or a no-echo prompt, then parse. Shared by every command that takes a
 * key (`key public`, `csr create --key`, `certificate create --ca-key`, …).
 */
import type { KeyObject } from 'node:crypto';
import { parsePrivateKey, parsePublicKey, peekKey } from '../../crypto/keys.js';
import { readInput, readPassword, withSource } from '../io.js';

/** Where the password for an encrypted key comes from, and how to name things in messages. */
export interface KeyPasswordSource {
  /** `--password-file`: its first line is the password. Without it, a TTY prompt is used. */
  readonly passwordFile?: string | undefined;
  /** The flag that gives this key's password file, for hints (default `--password-file`). */
  readonly passwordFlag?: string | undefined;
  /** How the key is named in parse errors (default `key file PATH`), e.g. `--ca-key root.key`. */
  readonly source?: string | undefined;
}

async function passwordFor(path: string, encrypted: boolean, source: KeyPasswordSource): Promise<string | undefined> {
  if (!encrypted) return undefined;
  return readPassword({
    passwordFile: source.passwordFile,
    prompt: `password for ${path === '-' ? 'the key' : path}: `,
    ...(source.passwordFlag !== undefined ? { flag: source.passwordFlag } : {}),
    file: path,
  });
}

function sourceName(path: string, source: KeyPasswordSource): string {
  return source.source ?? `key file ${path === '-' ? '(stdin)' : path}`;
}

/**
 * Reads a private key file (PEM, DER or JWK; `-` = stdin). An encrypted key takes its password
 * from `passwordFile`, or prompts without echo on a terminal; without either it fails with
 * ERR_KEY_PASSWORD_REQUIRED naming the file and, in the hint, `passwordFlag`. The password is
 * never requested for an unencrypted key. Parse errors name the file.
 */
export async function loadPrivateKeyFile(path: string, source: KeyPasswordSource = {}): Promise<KeyObject> {
  const data = readInput(path, 'key file');
  const info = withSource(sourceName(path, source), () => peekKey(data));
  const password = await passwordFor(path, info.encrypted, source);
  return withSource(sourceName(path, source), () => parsePrivateKey(data, password));
}

/**
 * Reads a public key file, or derives the public key from a private key file (asking for the
 * password of an encrypted one as {@link loadPrivateKeyFile} does).
 */
export async function loadPublicKeyFile(path: string, source: KeyPasswordSource = {}): Promise<KeyObject> {
  const data = readInput(path, 'key file');
  const info = withSource(sourceName(path, source), () => peekKey(data));
  if (!info.private) return withSource(sourceName(path, source), () => parsePublicKey(data));
  const password = await passwordFor(path, info.encrypted, source);
  return withSource(sourceName(path, source), () => parsePublicKey(data, password));
}
