/**
 * What the client commands (`ca certificate`, `renew`, `rekey`, `revoke`) share: reading a
 * certificate chain and its key, checking what the CA returned before anything is written, and
 * getting a one-time token — given, or minted here with a provisioner key.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { decodePemAll, encodePem } from '../../core/pem.js';
import { parsePrivateKey, peekKey } from '../../crypto/keys.js';
import type { IssuedCertificate } from '../../client/http.js';
import { parseCertificate, parseCertificates, type Certificate } from '../../x509/certificate.js';
import { loadPrivateKeyFile } from '../key/load.js';
import { readInput, withSource, type NamedInput } from '../io.js';
import { DEFAULT_CONFIG_PATH } from './config-validate.js';
import type { ResolvedCa } from './connection.js';
import { caTokenCommand } from './token.js';

/** A certificate file (leaf first, then its intermediates) and its private key, loaded and matched. */
export interface CertificateAndKey {
  readonly leaf: Certificate;
  /** The whole file's certificates as PEM, leaf first: what mTLS presents. */
  readonly chainPem: string;
  readonly key: KeyObject;
  /** Whether the key file is encrypted (a rekeyed key is then encrypted too). */
  readonly keyEncrypted: boolean;
}

/** True when `key` is the private half of `cert`'s public key. */
export function keyMatches(cert: Certificate, key: KeyObject): boolean {
  const pub = cert.publicKey;
  return pub !== undefined && createPublicKey(key).equals(pub);
}

/** Where the password of an encrypted KEY comes from: a file (else a prompt), or already known. */
export interface KeyPassword {
  readonly passwordFile?: string | undefined;
  /** A password read before (the renew daemon reads it once, then reloads the key every cycle). */
  readonly password?: string | undefined;
}

/**
 * Reads CRT (PEM chain, leaf first) and KEY (a password from `passwordFile` or a prompt when
 * encrypted) and checks that they belong together (ERR_KEY_MISMATCH).
 */
export async function loadCertificateAndKey(crtPath: string, keyPath: string, pw: KeyPassword = {}): Promise<CertificateAndKey> {
  const data = readInput(crtPath, 'certificate');
  const certs = withSource(`CRT ${crtPath}`, () => parseCertificates(data));
  const leaf = certs[0];
  if (leaf === undefined) throw new SignetError('ERR_CERT_MALFORMED', `${crtPath} holds no certificate`);
  const keyData = readInput(keyPath, 'key file');
  const keyEncrypted = withSource(`KEY ${keyPath}`, () => peekKey(keyData)).encrypted;
  const key =
    pw.password !== undefined && keyEncrypted
      ? withSource(`KEY ${keyPath}`, () => parsePrivateKey(keyData, pw.password))
      : await loadPrivateKeyFile(keyPath, { passwordFile: pw.passwordFile, source: `KEY ${keyPath}` });
  if (!keyMatches(leaf, key)) throw new SignetError('ERR_KEY_MISMATCH', `${keyPath} is not the key of ${crtPath}`, { hint: 'pass the certificate and the key it was issued for' });
  return { leaf, chainPem: certs.map((c) => encodePem('CERTIFICATE', c.der)).join(''), key, keyEncrypted };
}

/**
 * Checks what the CA returned before it is written: every element of the chain is a
 * certificate, and the leaf certifies `key` (a CA answering with another key's certificate would
 * leave a service with a certificate it cannot use). Returns the leaf and the chain as PEM.
 */
export function checkIssued(issued: IssuedCertificate, key: KeyObject, url: string): { leaf: Certificate; chainPem: string } {
  const ders: Uint8Array[] = [];
  try {
    for (const pem of issued.certChain) for (const b of decodePemAll(pem)) if (b.label === 'CERTIFICATE') ders.push(b.der);
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the certificate chain from ${url} is not PEM`, { cause: e });
  }
  const first = ders[0];
  if (first === undefined) throw new SignetError('ERR_CA_BAD_RESPONSE', `the answer of ${url} holds no certificate`);
  let leaf: Certificate;
  try {
    leaf = parseCertificate(first);
  } catch (e) {
    throw new SignetError('ERR_CA_BAD_RESPONSE', `the certificate from ${url} is not readable`, { cause: e });
  }
  if (!keyMatches(leaf, key)) throw new SignetError('ERR_CA_BAD_RESPONSE', `the certificate from ${url} is not for this key`);
  return { leaf, chainPem: ders.map((d) => encodePem('CERTIFICATE', d)).join('') };
}

/** The permission bits of an existing file, or `fallback` when it does not exist. */
export function existingMode(path: string, fallback: number): number {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return fallback;
  }
}

/**
 * The file to replace when renewing `path` in place: the target of a symbolic link (as in
 * /etc/ssl or a Kubernetes secret mount), so the link keeps pointing at the renewed file instead
 * of being replaced by a regular one; `path` itself otherwise.
 */
export function replaceTarget(path: string): string {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  } catch {
    return path;
  }
}

/** How a command gets its one-time token. */
export interface TokenSourceFlags {
  token?: string;
  tokenFile?: string;
  config?: string;
  provisioner?: string;
  provisionerKey?: string;
  provisionerPasswordFile?: string;
}

/** The files the token flags and --root name, for the same-file checks of `checkOutputs`. */
export function tokenInputs(flags: TokenSourceFlags & { root?: string }): NamedInput[] {
  return [
    { path: flags.tokenFile, role: '--token-file' },
    { path: flags.provisionerKey, role: '--provisioner-key' },
    { path: flags.provisionerPasswordFile, role: '--provisioner-password-file' },
    { path: flags.root, role: '--root' },
  ];
}

/** Adds --token, --token-file, --provisioner, --provisioner-key, --provisioner-password-file. */
export function addTokenOptions(cmd: Command): Command {
  return cmd
    .option('--token <token>', 'a one-time token from `signet ca token` (or use --token-file, or mint one here with --provisioner-key / --config)')
    .option('--token-file <file>', 'read the token from this file (first line; - for stdin): keeps it out of the process list')
    .option('--provisioner <name>', 'mint the token with this JWK provisioner (default: the only one in --config)')
    .option('--provisioner-key <file>', 'the provisioner\'s private key, to mint the token here (default with --config: secrets/provisioner-NAME.key)')
    .option('--provisioner-password-file <file>', 'first line: the provisioner key\'s password (else a prompt)');
}

/** The token: `--token`, `--token-file`, or minted with the provisioner key for `target` (`/sign`, or `/revoke` with `revoke`). */
export async function obtainToken(
  subject: string,
  flags: TokenSourceFlags,
  target: ResolvedCa,
  options: { sans?: readonly string[]; revoke?: boolean; ssh?: { readonly host: boolean; readonly principals: readonly string[] }; jwtSvid?: boolean } = {},
): Promise<string> {
  const minting = [flags.provisioner, flags.provisionerKey, flags.provisionerPasswordFile].some((f) => f !== undefined);
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new SignetError('ERR_USAGE', '--token and --token-file cannot be combined');
  const given = flags.token ?? (flags.tokenFile !== undefined ? (Buffer.from(readInput(flags.tokenFile, 'token file', 64 * 1024)).toString('utf8').split(/\r?\n/)[0] ?? '').trim() : undefined);
  if (given !== undefined) {
    if (minting) throw new SignetError('ERR_USAGE', 'a given token (--token, --token-file) and the flags that mint one (--provisioner…) cannot be combined');
    if (given === '') throw new SignetError('ERR_INPUT_EMPTY', 'the token is empty');
    return given;
  }
  const config = flags.config ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  if (flags.provisionerKey === undefined && config === undefined) {
    throw new SignetError('ERR_USAGE', 'no token: pass --token (or --token-file), or mint one here with --provisioner NAME --provisioner-key FILE', {
      hint: 'on the CA host, --config CONFIG finds the provisioner and its key',
    });
  }
  return caTokenCommand(subject, {
    ...(config !== undefined ? { config } : {}),
    caUrl: target.url,
    root: target.rootFile,
    ...(flags.provisioner !== undefined ? { provisioner: flags.provisioner } : {}),
    ...(flags.provisionerKey !== undefined ? { key: flags.provisionerKey } : {}),
    ...(flags.provisionerPasswordFile !== undefined ? { passwordFile: flags.provisionerPasswordFile } : {}),
    ...(options.sans !== undefined ? { san: [...options.sans] } : {}),
    ...(options.revoke ? { revoke: true } : {}),
    ...(options.jwtSvid ? { jwtSvid: true } : {}),
    ...(options.ssh ? { ssh: true, host: options.ssh.host, principal: [...options.ssh.principals] } : {}),
    ttl: '5m',
  });
}
