/**
 * Password-based encryption of PKCS#8 private keys (RFC 5958 §3, RFC 8018 PBES2).
 *
 * Writing: Signet encrypts with PBES2 = PBKDF2-HMAC-SHA256 (600 000 iterations, 16-byte salt) +
 * AES-256-CBC by default, the profile `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes with a higher
 * iteration count (OWASP 2023 guidance for PBKDF2-HMAC-SHA256). `scrypt` (RFC 7914 §7) is
 * available with N=2^14, r=8, p=1 — the largest cost OpenSSL 3 accepts under its default 32 MiB
 * scrypt memory limit, so larger values would make the file unreadable by `openssl pkey`.
 *
 * Reading: the PBES2 parameters are parsed here (to explain an encrypted key without its password
 * and to refuse unsupported or absurdly expensive parameters before any work is done); the
 * decryption itself is left to node:crypto (OpenSSL).
 */
import { createCipheriv, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { AsnConvert, AsnIntegerBigIntConverter, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { SignetError } from '../core/errors.js';
import { integer, NULL, octetString, oid, sequence } from '../x509/der.js';
import { OID, oidName } from '../x509/oids.js';

/** The KDF used when Signet encrypts a key. */
export type KeyEncryptionKdf = 'pbkdf2' | 'scrypt';

/** Options for {@link encryptPrivateKeyInfo}. The defaults are the recommended values. */
export interface KeyEncryptionOptions {
  /** `pbkdf2` (default, PBKDF2-HMAC-SHA256) or `scrypt`. */
  readonly kdf?: KeyEncryptionKdf;
  /** PBKDF2 iteration count; default {@link DEFAULT_PBKDF2_ITERATIONS}, at least 10 000. */
  readonly iterations?: number;
}

/** PBKDF2-HMAC-SHA256 iterations for newly encrypted keys (OWASP Password Storage Cheat Sheet, 2023). */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;
/** Smallest PBKDF2 iteration count Signet writes. */
export const MIN_PBKDF2_ITERATIONS = 10_000;
/**
 * Largest PBKDF2 iteration count Signet reads. A key file is a local input, but a hostile file
 * must not be able to keep a process busy for hours.
 */
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** OpenSSL's default scrypt memory limit (SCRYPT_MAX_MEM), which also bounds what Signet reads. */
const SCRYPT_MAX_MEMORY = 32 * 1024 * 1024;
/** scrypt cost for newly encrypted keys (RFC 7914 §2 "interactive" parameters; OpenSSL's limit). */
export const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1 } as const;

/** What an encrypted PKCS#8 key says about its protection, readable without the password. */
export interface KeyEncryptionInfo {
  /** Always `PBES2`: other schemes (PBES1, PKCS#12 PBE) are refused as unsupported. */
  readonly scheme: 'PBES2';
  readonly kdf: 'PBKDF2' | 'scrypt';
  /** PBKDF2 pseudo-random function, e.g. `hmacWithSHA256`. */
  readonly prf?: string;
  /** PBKDF2 iteration count. */
  readonly iterations?: number;
  /** scrypt cost parameters. */
  readonly scrypt?: { readonly N: number; readonly r: number; readonly p: number };
  /** Salt length in bytes. */
  readonly saltLength: number;
  /** The content cipher, e.g. `aes-256-cbc`. */
  readonly cipher: string;
  /** One line for humans, e.g. `PBES2 (PBKDF2-hmacWithSHA256, 600000 iterations, aes-256-cbc)`. */
  readonly label: string;
}

// ---- ASN.1 schemas (RFC 8018 Appendix A, RFC 7914 §7). Decorators are applied as functions
// because the project compiles without `experimentalDecorators`.

/**
 * ```asn1
 * PBES2-params ::= SEQUENCE {
 *   keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
 *   encryptionScheme  AlgorithmIdentifier {{PBES2-Encs}} }
 * ```
 */
class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
AsnType({ type: AsnTypeTypes.Sequence })(Pbes2Params);
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'keyDerivationFunc');
AsnProp({ type: AlgorithmIdentifier })(Pbes2Params.prototype, 'encryptionScheme');

/**
 * ```asn1
 * PBKDF2-params ::= SEQUENCE {
 *   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
 *   iterationCount INTEGER (1..MAX),
 *   keyLength INTEGER (1..MAX) OPTIONAL,
 *   prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
 * ```
 * Only the `specified` salt is supported (`otherSource` is reserved, RFC 8018 §A.2).
 */
class Pbkdf2Params {
  salt = new ArrayBuffer(0);
  iterationCount = 0n;
  keyLength?: bigint;
  prf?: AlgorithmIdentifier;
}
AsnType({ type: AsnTypeTypes.Sequence })(Pbkdf2Params);
AsnProp({ type: AsnPropTypes.OctetString })(Pbkdf2Params.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter })(Pbkdf2Params.prototype, 'iterationCount');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter, optional: true })(Pbkdf2Params.prototype, 'keyLength');
AsnProp({ type: AlgorithmIdentifier, optional: true })(Pbkdf2Params.prototype, 'prf');

/**
 * ```asn1
 * scrypt-params ::= SEQUENCE {
 *   salt OCTET STRING,
 *   costParameter INTEGER (1..MAX),
 *   blockSize INTEGER (1..MAX),
 *   parallelizationParameter INTEGER (1..MAX),
 *   keyLength INTEGER (1..MAX) OPTIONAL }
 * ```
 */
class ScryptParams {
  salt = new ArrayBuffer(0);
  costParameter = 0n;
  blockSize = 0n;
  parallelizationParameter = 0n;
  keyLength?: bigint;
}
AsnType({ type: AsnTypeTypes.Sequence })(ScryptParams);
AsnProp({ type: AsnPropTypes.OctetString })(ScryptParams.prototype, 'salt');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter })(ScryptParams.prototype, 'costParameter');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter })(ScryptParams.prototype, 'blockSize');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter })(ScryptParams.prototype, 'parallelizationParameter');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerBigIntConverter, optional: true })(ScryptParams.prototype, 'keyLength');

const PRF_NAMES: Readonly<Record<string, string>> = {
  [OID.hmacWithSHA1]: 'hmacWithSHA1',
  [OID.hmacWithSHA224]: 'hmacWithSHA224',
  [OID.hmacWithSHA256]: 'hmacWithSHA256',
  [OID.hmacWithSHA384]: 'hmacWithSHA384',
  [OID.hmacWithSHA512]: 'hmacWithSHA512',
};

/** Content ciphers accepted inside PBES2 (RFC 8018 §B.2.5 / NIST AES-CBC), with key sizes. */
const CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  [OID.aes128CBC]: { name: 'aes-128-cbc', keyLength: 16 },
  [OID.aes192CBC]: { name: 'aes-192-cbc', keyLength: 24 },
  [OID.aes256CBC]: { name: 'aes-256-cbc', keyLength: 32 },
};

function unsupported(what: string): SignetError {
  return new SignetError('ERR_KEY_UNSUPPORTED', `encrypted key uses ${what}, which is not supported`, {
    hint: 're-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -passin file:PW -passout file:PW',
  });
}

function malformed(what: string, cause?: unknown): SignetError {
  return new SignetError('ERR_KEY_MALFORMED', `malformed encrypted private key: ${what}`, { cause });
}

function small(v: bigint, max: bigint, what: string): number {
  if (v < 1n) throw malformed(`${what} must be positive`);
  if (v > max) throw unsupported(`${what} ${v.toString()} (limit ${max.toString()})`);
  return Number(v);
}

/**
 * Parses the EncryptionAlgorithmIdentifier of an EncryptedPrivateKeyInfo (RFC 5958 §3) and
 * describes it. Throws ERR_KEY_UNSUPPORTED for anything but PBES2 with PBKDF2 (HMAC-SHA-1/2) or
 * scrypt and AES-CBC, and for costs beyond what Signet is willing to compute.
 */
export function describeKeyEncryption(alg: AlgorithmIdentifier): KeyEncryptionInfo {
  if (alg.algorithm !== OID.pbes2) {
    throw unsupported(`${oidName(alg.algorithm)} (only PBES2 is accepted)`);
  }
  if (!alg.parameters) throw malformed('PBES2 without parameters');
  let params: Pbes2Params;
  try {
    params = AsnConvert.parse(alg.parameters, Pbes2Params);
  } catch (e) {
    throw malformed('bad PBES2 parameters', e);
  }
  const cipher = CIPHERS[params.encryptionScheme.algorithm];
  if (!cipher) throw unsupported(`cipher ${oidName(params.encryptionScheme.algorithm)}`);
  const kdf = params.keyDerivationFunc;
  if (!kdf.parameters) throw malformed('key derivation function without parameters');
  if (kdf.algorithm === OID.pbkdf2) {
    let p: Pbkdf2Params;
    try {
      p = AsnConvert.parse(kdf.parameters, Pbkdf2Params);
    } catch (e) {
      throw malformed('bad PBKDF2 parameters', e);
    }
    const prfOid = p.prf?.algorithm ?? OID.hmacWithSHA1;
    const prf = PRF_NAMES[prfOid];
    if (!prf) throw unsupported(`PBKDF2 PRF ${oidName(prfOid)}`);
    const iterations = small(p.iterationCount, BigInt(MAX_PBKDF2_ITERATIONS), 'PBKDF2 iteration count');
    return {
      scheme: 'PBES2',
      kdf: 'PBKDF2',
      prf,
      iterations,
      saltLength: p.salt.byteLength,
      cipher: cipher.name,
      label: `PBES2 (PBKDF2-${prf}, ${iterations} iterations, ${cipher.name})`,
    };
  }
  if (kdf.algorithm === OID.scrypt) {
    let p: ScryptParams;
    try {
      p = AsnConvert.parse(kdf.parameters, ScryptParams);
    } catch (e) {
      throw malformed('bad scrypt parameters', e);
    }
    const N = small(p.costParameter, 1n << 20n, 'scrypt cost N');
    const r = small(p.blockSize, 32n, 'scrypt block size r');
    const pp = small(p.parallelizationParameter, 16n, 'scrypt parallelization p');
    // RFC 7914 §2: N is a power of two greater than 1.
    if (N < 2 || (N & (N - 1)) !== 0) throw malformed('scrypt cost N is not a power of two');
    // OpenSSL refuses scrypt needing more than 32 MiB (B: 128·r·p bytes, V: 128·r·(N+2) bytes);
    // refusing here gives the precise reason instead of a misleading "wrong password".
    if (128 * r * pp + 128 * r * (N + 2) > SCRYPT_MAX_MEMORY) throw unsupported(`scrypt parameters N=${N} r=${r} p=${pp} (more than 32 MiB)`);
    return {
      scheme: 'PBES2',
      kdf: 'scrypt',
      scrypt: { N, r, p: pp },
      saltLength: p.salt.byteLength,
      cipher: cipher.name,
      label: `PBES2 (scrypt N=${N} r=${r} p=${pp}, ${cipher.name})`,
    };
  }
  throw unsupported(`key derivation function ${oidName(kdf.algorithm)}`);
}

/**
 * Parses DER as an EncryptedPrivateKeyInfo (RFC 5958 §3). Returns undefined when the bytes do not
 * have that shape (so callers can try other containers); throws for a PBES2 structure Signet
 * refuses.
 */
export function parseEncryptedPrivateKeyInfo(der: Uint8Array): { info: KeyEncryptionInfo; encryptedData: Uint8Array } | undefined {
  let epki: EncryptedPrivateKeyInfo;
  try {
    epki = AsnConvert.parse(der, EncryptedPrivateKeyInfo);
  } catch {
    return undefined;
  }
  const info = describeKeyEncryption(epki.encryptionAlgorithm);
  const encryptedData = new Uint8Array(epki.encryptedData.buffer);
  // CBC ciphertext is whole 16-byte blocks, at least one (PKCS#7 padding always adds a block).
  if (encryptedData.length === 0 || encryptedData.length % 16 !== 0) throw malformed('ciphertext is not a whole number of blocks');
  return { info, encryptedData };
}

/**
 * Encrypts a DER PrivateKeyInfo into a DER EncryptedPrivateKeyInfo with PBES2 (RFC 8018 §6.2)
 * and AES-256-CBC. The password is used as its UTF-8 bytes, as OpenSSL does.
 */
export function encryptPrivateKeyInfo(privateKeyInfo: Uint8Array, password: string, options: KeyEncryptionOptions = {}): Uint8Array {
  if (password.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', 'the password is empty');
  const kdfName = options.kdf ?? 'pbkdf2';
  // NIST SP 800-132 §5.1: a salt of at least 128 bits from an approved RBG.
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  let key: Buffer;
  let kdf: Uint8Array;
  if (kdfName === 'scrypt') {
    const { N, r, p } = SCRYPT_PARAMS;
    key = scryptSync(password, salt, 32, { N, r, p, maxmem: 64 * 1024 * 1024 });
    kdf = sequence([oid(OID.scrypt), sequence([octetString(salt), integer(N), integer(r), integer(p)])]);
  } else {
    const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
    if (!Number.isInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
      throw new SignetError('ERR_BAD_OPTION', `PBKDF2 iteration count must be an integer in ${MIN_PBKDF2_ITERATIONS}..${MAX_PBKDF2_ITERATIONS}`);
    }
    key = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
    // keyLength is omitted (RFC 8018 §A.2: optional, implied by the cipher); prf written
    // explicitly because the DEFAULT is HMAC-SHA-1.
    kdf = sequence([oid(OID.pbkdf2), sequence([octetString(salt), integer(iterations), sequence([oid(OID.hmacWithSHA256), NULL])])]);
  }
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(privateKeyInfo), cipher.final()]);
  key.fill(0);
  const algorithm = sequence([oid(OID.pbes2), sequence([kdf, sequence([oid(OID.aes256CBC), octetString(iv)])])]);
  return sequence([algorithm, octetString(encrypted)]);
}
