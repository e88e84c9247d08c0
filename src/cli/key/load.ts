/**
 * Loading key files for commands: read (bounded), find out whether a password is needed, get it
 * from `--password-file` or a no-echo prompt, then parse. Shared by every command that takes a
 * key (`key public`, `csr create --key`, `certificate create --ca-key`, …).
 */
import type { KeyObject } from 'node:crypto';
import { parsePrivateKey, parsePublicKey, peekKey } from '../../crypto/keys.js';
import { readInput, readPassword } from '../io.js';

/** Where the password for an encrypted key comes from. */
export interface KeyPasswordSource {
  /** `--password-file`: its first line is the password. Without it, a TTY prompt is used. */
  readonly passwordFile?: string | undefined;
}

async function passwordFor(path: string, data: Uint8Array, source: KeyPasswordSource): Promise<string | undefined> {
  const info = peekKey(data);
  if (!info.encrypted) return undefined;
  return readPassword({ passwordFile: source.passwordFile, prompt: `password for ${path === '-' ? 'the key' : path}: ` });
}

/**
 * Reads a private key file (PEM, DER or JWK; `-` = stdin). An encrypted key takes its password
 * from `passwordFile`, or prompts without echo on a terminal; without either it fails with
 * ERR_KEY_PASSWORD_REQUIRED. The password is never requested for an unencrypted key.
 */
export async function loadPrivateKeyFile(path: string, source: KeyPasswordSource = {}): Promise<KeyObject> {
  const data = readInput(path, 'key file');
  return parsePrivateKey(data, await passwordFor(path, data, source));
}

/**
 * Reads a public key file, or derives the public key from a private key file (asking for the
 * password of an encrypted one as {@link loadPrivateKeyFile} does).
 */
export async function loadPublicKeyFile(path: string, source: KeyPasswordSource = {}): Promise<KeyObject> {
  const data = readInput(path, 'key file');
  const info = peekKey(data);
  if (!info.private) return parsePublicKey(data);
  return parsePublicKey(data, await passwordFor(path, data, source));
}
