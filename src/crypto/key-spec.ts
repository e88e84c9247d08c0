/**
 * Which keys Signet generates, and how users spell them. The set is deliberately small: the
 * NIST curves of RFC 5480 §2.1.1.1, Ed25519 (RFC 8410) and RSA of 2048 bits or more
 * (NIST SP 800-57 Part 1 Rev. 5 §5.6.1: 112-bit security minimum).
 */
import { type KeyObject } from 'node:crypto';
import { generateKeyPair, generateKeyPairSync } from './generate.js';
import { promisify } from 'node:util';
import { SignetError } from '../core/errors.js';

/** A key Signet can generate. */
export type KeySpec = 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsa2048' | 'rsa3072' | 'rsa4096';

/** Every {@link KeySpec}, in the order help texts list them. */
export const KEY_SPECS: readonly KeySpec[] = ['p256', 'p384', 'p521', 'ed25519', 'rsa2048', 'rsa3072', 'rsa4096'];

/** The default: ECDSA P-256 — small, fast, and accepted everywhere. */
export const DEFAULT_KEY_SPEC: KeySpec = 'p256';

/** A freshly generated private key and its public half. */
export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Spellings as a user writes them on the command line: `--type`, `--curve`, `--size`. */
export interface KeySpecInput {
  /** `ec`/`ecdsa`, `ed25519`/`okp`/`eddsa`, `rsa` (case-insensitive); default `ec`. */
  readonly type?: string | undefined;
  /** For EC: `P-256`, `p256`, `prime256v1`, `secp256r1`, … (case-insensitive). */
  readonly curve?: string | undefined;
  /** For RSA: modulus bits, 2048 (default), 3072 or 4096. */
  readonly size?: string | number | undefined;
}

const CURVES: Readonly<Record<string, KeySpec>> = {
  'p-256': 'p256',
  p256: 'p256',
  prime256v1: 'p256',
  secp256r1: 'p256',
  'p-384': 'p384',
  p384: 'p384',
  secp384r1: 'p384',
  'p-521': 'p521',
  p521: 'p521',
  secp521r1: 'p521',
};

/** Curves and key types people ask for that Signet knows about and refuses on purpose. */
const REFUSED: Readonly<Record<string, string>> = {
  secp256k1: 'secp256k1 is not a PKIX curve (RFC 5480) and X.509 clients rarely support it',
  'p-224': 'P-224 gives less than 128-bit security',
  p224: 'P-224 gives less than 128-bit security',
  secp224r1: 'P-224 gives less than 128-bit security',
  p192: 'P-192 gives less than 128-bit security',
  'p-192': 'P-192 gives less than 128-bit security',
  ed448: 'Ed448 is not supported by enough X.509 clients',
  x25519: 'X25519 is a key-agreement key and cannot sign',
  x448: 'X448 is a key-agreement key and cannot sign',
  dsa: 'DSA is withdrawn (FIPS 186-5)',
};

const SPEC_HINT = 'use --type ec (--curve P-256|P-384|P-521), --type ed25519 or --type rsa (--size 2048|3072|4096)';

function bad(message: string): SignetError {
  return new SignetError('ERR_BAD_OPTION', message, { hint: SPEC_HINT });
}

function refused(name: string): SignetError | undefined {
  const why = REFUSED[name.toLowerCase()];
  return why === undefined ? undefined : new SignetError('ERR_KEY_UNSUPPORTED', `unsupported key type ${name.toLowerCase()}: ${why}`, { hint: SPEC_HINT });
}

function rsaSpec(size: string | number | undefined): KeySpec {
  if (size === undefined) return 'rsa2048';
  const text = String(size).trim();
  const bits = /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(bits)) throw bad(`invalid RSA key size "${text}"`);
  if (bits < 2048) {
    throw new SignetError('ERR_KEY_WEAK', `RSA keys of ${bits} bits are too weak`, { hint: 'use --size 2048, 3072 or 4096' });
  }
  if (bits === 2048 || bits === 3072 || bits === 4096) return `rsa${bits}`;
  throw bad(`unsupported RSA key size ${bits}`);
}

/**
 * Turns user spellings into a {@link KeySpec}. A single string may be a spec (`p384`, `rsa3072`),
 * a type (`EC`, `RSA`, `Ed25519`), a curve (`P-256`) or OpenSSL's `rsa:4096`. Throws ERR_BAD_OPTION
 * for unknown or conflicting spellings, ERR_KEY_UNSUPPORTED for known but refused algorithms
 * (secp256k1, Ed448, DSA, …) and ERR_KEY_WEAK for RSA below 2048 bits.
 */
export function parseKeySpec(input: string | KeySpecInput = {}): KeySpec {
  if (typeof input === 'string') {
    const s = input.trim().toLowerCase();
    if ((KEY_SPECS as readonly string[]).includes(s)) return s as KeySpec;
    const rsa = /^rsa[-:_]?(\d+)$/.exec(s);
    if (rsa) return rsaSpec(rsa[1]);
    const curve = CURVES[s];
    if (curve) return curve;
    const ecCurve = /^(?:ec|ecdsa)[-:_]?(.+)$/.exec(s);
    if (ecCurve?.[1] !== undefined && CURVES[ecCurve[1]]) return CURVES[ecCurve[1]] as KeySpec;
    return parseKeySpec({ type: input });
  }
  const type = (input.type ?? 'ec').trim().toLowerCase();
  switch (type) {
    case 'ec':
    case 'ecdsa': {
      if (input.size !== undefined) throw bad('--size applies to RSA keys only; EC keys take --curve');
      if (input.curve === undefined) return DEFAULT_KEY_SPEC;
      const c = input.curve.trim().toLowerCase();
      const spec = CURVES[c];
      if (spec) return spec;
      throw refused(c) ?? bad(`unknown curve "${input.curve}"`);
    }
    case 'ed25519':
    case 'okp':
    case 'eddsa':
      if (input.size !== undefined || (input.curve !== undefined && input.curve.trim().toLowerCase() !== 'ed25519')) {
        throw bad('Ed25519 keys take neither --curve nor --size');
      }
      return 'ed25519';
    case 'rsa':
      if (input.curve !== undefined) throw bad('--curve applies to EC keys only; RSA keys take --size');
      return rsaSpec(input.size);
    default:
      throw refused(input.type ?? type) ?? bad(`unknown key type "${input.type ?? ''}"`);
  }
}

type GenArgs =
  | { type: 'ec'; options: { namedCurve: string } }
  | { type: 'ed25519'; options: Record<string, never> }
  | { type: 'rsa'; options: { modulusLength: number; publicExponent: number } };

function genArgs(spec: KeySpec): GenArgs {
  switch (spec) {
    case 'p256':
      return { type: 'ec', options: { namedCurve: 'prime256v1' } };
    case 'p384':
      return { type: 'ec', options: { namedCurve: 'secp384r1' } };
    case 'p521':
      return { type: 'ec', options: { namedCurve: 'secp521r1' } };
    case 'ed25519':
      return { type: 'ed25519', options: {} };
    case 'rsa2048':
    case 'rsa3072':
    case 'rsa4096':
      // e = 65537: CA/B Forum BR §6.1.6 and NIST SP 800-89 §5.3.3.
      return { type: 'rsa', options: { modulusLength: Number(spec.slice(3)), publicExponent: 65537 } };
  }
}

function resolve(spec: string | KeySpecInput | undefined): KeySpec {
  return spec === undefined ? DEFAULT_KEY_SPEC : parseKeySpec(spec);
}

/**
 * Generates a key pair for a {@link KeySpec} or any spelling {@link parseKeySpec} accepts
 * (synchronously; RSA 4096 takes around a second — use
 * {@link generateKeyAsync} where a spinner or other work should keep running).
 */
export function generateKey(spec: string | KeySpecInput = DEFAULT_KEY_SPEC): KeyPair {
  const a = genArgs(resolve(spec));
  switch (a.type) {
    case 'ec':
      return generateKeyPairSync('ec', a.options);
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'rsa':
      return generateKeyPairSync('rsa', a.options);
  }
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** Generates a key pair on the libuv thread pool. */
export async function generateKeyAsync(spec: string | KeySpecInput = DEFAULT_KEY_SPEC): Promise<KeyPair> {
  const a = genArgs(resolve(spec));
  switch (a.type) {
    case 'ec':
      return generateKeyPairAsync('ec', a.options);
    case 'ed25519':
      return generateKeyPairAsync('ed25519', {});
    case 'rsa':
      return generateKeyPairAsync('rsa', a.options);
  }
}
