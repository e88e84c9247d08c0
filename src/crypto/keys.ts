/**
 * Reading, writing and describing private and public keys.
 *
 * The one rule for weak and unsupported keys:
 *  - Signet *reads* only the key types it can sign with: EC on P-256/P-384/P-521 (RFC 5480),
 *    Ed25519 (RFC 8410), RSA and RSA-PSS (RFC 8017, RFC 4055). Anything else — secp256k1 and other
 *    curves, explicit curve parameters, Ed448, X25519/X448, DSA, RSA above 16384 bits — is
 *    ERR_KEY_UNSUPPORTED at parse time, with the algorithm named.
 *  - A *weak* key of a supported type (RSA below 2048 bits, or an even/too small public exponent;
 *    CA/B Forum BR §6.1.5–6.1.6, NIST SP 800-131A) is read and described (`weakness` says why),
 *    so that it can be inspected, converted and linted; it is refused with ERR_KEY_WEAK when it is
 *    used to sign ({@link assertSigningKey}, called by `createSoftwareSigner`) and Signet never
 *    generates one.
 */
import { constants, createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo, type AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { ECParameters, ECPrivateKey } from '@peculiar/asn1-ecc';
import { RSAPrivateKey, RSAPublicKey } from '@peculiar/asn1-rsa';
import { SignetError, isSignetError } from '../core/errors.js';
import { decodePemAll, encodePem, looksLikePem, type PemBlock } from '../core/pem.js';
import { base64url, toHex } from '../core/bytes.js';
import { OID, oidName } from '../x509/oids.js';
import { defaultSignatureAlgorithm } from './signature.js';
import { encryptPrivateKeyInfo, parseEncryptedPrivateKeyInfo, type KeyEncryptionInfo, type KeyEncryptionOptions } from './pkcs8.js';
import { jwkThumbprint, type Jwk } from './jwk.js';

/** How the key is stored. */
export type KeyContainer =
  | 'pkcs8' // RFC 5958 OneAsymmetricKey / PKCS#8 PrivateKeyInfo ("PRIVATE KEY")
  | 'encrypted-pkcs8' // RFC 5958 §3 EncryptedPrivateKeyInfo ("ENCRYPTED PRIVATE KEY")
  | 'sec1' // RFC 5915 ECPrivateKey ("EC PRIVATE KEY")
  | 'pkcs1' // RFC 8017 §A.1.2 RSAPrivateKey ("RSA PRIVATE KEY")
  | 'spki' // RFC 5280 §4.1.2.7 SubjectPublicKeyInfo ("PUBLIC KEY")
  | 'pkcs1-public' // RFC 8017 §A.1.1 RSAPublicKey ("RSA PUBLIC KEY")
  | 'jwk'; // RFC 7517

/** What a key file holds, found without decrypting anything ({@link peekKey}). */
export interface KeyFileInfo {
  readonly encoding: 'pem' | 'der' | 'jwk';
  readonly container: KeyContainer;
  /** The PEM label, when the encoding is PEM. */
  readonly pemLabel?: string;
  readonly private: boolean;
  readonly encrypted: boolean;
  /** The PBES2 parameters of an encrypted PKCS#8 key. */
  readonly encryption?: KeyEncryptionInfo;
}

/** The facts about a key that inspection, logs and inventories show. Never contains secrets. */
export interface KeyDescription {
  /** JOSE key type family: `EC`, `OKP` (Ed25519) or `RSA` (also RSA-PSS). */
  readonly type: 'EC' | 'OKP' | 'RSA';
  /** Display label: `EC P-256`, `Ed25519`, `RSA 2048`, `RSA-PSS 3072`. */
  readonly algorithm: string;
  /** `P-256`, `P-384`, `P-521` or `Ed25519`. */
  readonly curve?: string;
  /** Key size in bits: the modulus for RSA, the field size for EC, 256 for Ed25519. */
  readonly bits: number;
  /** RSA public exponent. */
  readonly publicExponent?: number;
  /** The restrictions an RSA-PSS key carries in its parameters (RFC 4055 §3.1), when any. */
  readonly pss?: { readonly hash?: string; readonly mgf1Hash?: string; readonly saltLength?: number };
  readonly private: boolean;
  /** The signature algorithm Signet uses with this key by default, e.g. `ecdsaWithSHA256`. */
  readonly signatureAlgorithm: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo (the RFC 7469 pin input). */
  readonly spkiSha256: { readonly hex: string; readonly base64url: string };
  /** RFC 7638 JWK thumbprint (SHA-256); absent for RSA-PSS keys, which have no JWK form. */
  readonly jwkThumbprint?: string;
  /** Why the key may not sign, when it is weak (see the rule at the top of this module). */
  readonly weakness?: string;
}

const CURVE_NAMES: Readonly<Record<string, { name: string; bits: number }>> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};
const SUPPORTED_CURVE_OIDS: ReadonlySet<string> = new Set([OID.prime256v1, OID.secp384r1, OID.secp521r1]);
const JWK_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521']);
/** RSA moduli above this are refused: nobody needs them and they make parsing a denial of service. */
export const MAX_RSA_BITS = 16384;
/** Smallest RSA modulus Signet signs with (NIST SP 800-131A Rev. 2 §3, CA/B BR §6.1.5). */
export const MIN_RSA_BITS = 2048;

const ALGORITHM_LABELS: Readonly<Record<string, string>> = {
  [OID.idEd448]: 'Ed448',
  [OID.idX25519]: 'X25519',
  [OID.idX448]: 'X448',
  [OID.dsa]: 'DSA',
};

const SUPPORTED_HINT = 'Signet supports EC P-256/P-384/P-521, Ed25519 and RSA/RSA-PSS keys';

// ---------------------------------------------------------------------------------------------
// errors

function malformed(message: string, cause?: unknown): SignetError {
  return new SignetError('ERR_KEY_MALFORMED', message, { cause, hint: 'expected a PEM, DER or JWK key' });
}

function unsupported(message: string): SignetError {
  return new SignetError('ERR_KEY_UNSUPPORTED', message, { hint: SUPPORTED_HINT });
}

function notPrivate(): SignetError {
  return new SignetError('ERR_KEY_NOT_PRIVATE', 'expected a private key but found a public key', {
    hint: 'pass the private key file',
  });
}

// ---------------------------------------------------------------------------------------------
// locating a key in bytes

interface Located extends KeyFileInfo {
  readonly der?: Uint8Array;
  readonly jwk?: Jwk;
}

const PEM_CONTAINERS: Readonly<Record<string, KeyContainer>> = {
  'PRIVATE KEY': 'pkcs8',
  'ENCRYPTED PRIVATE KEY': 'encrypted-pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
  'PUBLIC KEY': 'spki',
  'RSA PUBLIC KEY': 'pkcs1-public',
};

/** How each container is named in messages. */
const CONTAINER_NAMES: Readonly<Record<KeyContainer, string>> = {
  pkcs8: 'PKCS#8',
  'encrypted-pkcs8': 'encrypted PKCS#8',
  sec1: 'SEC1',
  pkcs1: 'PKCS#1',
  spki: 'SubjectPublicKeyInfo',
  'pkcs1-public': 'PKCS#1 public',
  jwk: 'JWK',
};

const PEM_REFUSED: Readonly<Record<string, { message: string; hint?: string }>> = {
  'DSA PRIVATE KEY': { message: 'DSA keys are not supported' },
  'OPENSSH PRIVATE KEY': { message: 'OpenSSH private key files are not supported', hint: 'convert it to PKCS#8: ssh-keygen -p -m PKCS8 -f KEY' },
  'SSH2 ENCRYPTED PRIVATE KEY': { message: 'ssh.com private key files are not supported' },
};

function isPrivateContainer(c: KeyContainer): boolean {
  return c !== 'spki' && c !== 'pkcs1-public';
}

/** True when a DER buffer is exactly one complete SEQUENCE (no truncation, nothing trailing). */
function isOneSequence(der: Uint8Array): boolean {
  if (der.length < 2 || der[0] !== 0x30) return false;
  const first = der[1] as number;
  let length = first;
  let header = 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || der.length < 2 + n) return false;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (der[2 + i] as number);
    header = 2 + n;
  }
  return header + length === der.length;
}

function tryParse<T>(der: Uint8Array, type: new () => T): T | undefined {
  try {
    return AsnConvert.parse(der, type);
  } catch {
    return undefined;
  }
}

/** Refuses key algorithms and curves Signet does not support (RFC 5480 §2.1.1: named curves only). */
function checkAlgorithm(alg: AlgorithmIdentifier): void {
  switch (alg.algorithm) {
    case OID.rsaEncryption:
    case OID.rsassaPss:
    case OID.idEd25519:
      return;
    case OID.idEcPublicKey: {
      if (!alg.parameters) throw malformed('EC key without curve parameters');
      let params: ECParameters;
      try {
        params = AsnConvert.parse(alg.parameters, ECParameters);
      } catch (e) {
        throw malformed('malformed EC curve parameters', e);
      }
      checkCurve(params);
      return;
    }
    default:
      throw unsupported(`unsupported key algorithm ${ALGORITHM_LABELS[alg.algorithm] ?? oidName(alg.algorithm)}`);
  }
}

function checkCurve(params: ECParameters): void {
  if (params.namedCurve === undefined) {
    throw unsupported('EC keys with explicit curve parameters are not supported (RFC 5480 §2.1.1 requires a named curve)');
  }
  if (!SUPPORTED_CURVE_OIDS.has(params.namedCurve)) throw unsupported(`unsupported curve ${oidName(params.namedCurve)}`);
}

/** Validates the DER of a container and returns the encryption info for encrypted PKCS#8. */
function checkDer(container: KeyContainer, der: Uint8Array): KeyEncryptionInfo | undefined {
  if (!isOneSequence(der)) throw malformed('the key is truncated or not DER');
  const what = `malformed ${CONTAINER_NAMES[container]} key`;
  switch (container) {
    case 'encrypted-pkcs8': {
      const parsed = parseEncryptedPrivateKeyInfo(der);
      if (!parsed) throw malformed(what);
      return parsed.info;
    }
    case 'pkcs8': {
      const pki = tryParse(der, PrivateKeyInfo);
      if (!pki) throw malformed(what);
      checkAlgorithm(pki.privateKeyAlgorithm);
      return undefined;
    }
    case 'spki': {
      const spki = tryParse(der, SubjectPublicKeyInfo);
      if (!spki) throw malformed(what);
      checkAlgorithm(spki.algorithm);
      return undefined;
    }
    case 'sec1': {
      const ec = tryParse(der, ECPrivateKey);
      // RFC 5915 §3: version is ecPrivkeyVer1 (1).
      if (!ec || ec.version !== 1) throw malformed(what);
      if (!ec.parameters) throw malformed('SEC1 EC key without a named curve');
      checkCurve(ec.parameters);
      return undefined;
    }
    case 'pkcs1':
      if (!tryParse(der, RSAPrivateKey)) throw malformed(what);
      return undefined;
    case 'pkcs1-public':
      if (!tryParse(der, RSAPublicKey)) throw malformed(what);
      return undefined;
    case 'jwk':
      throw new SignetError('ERR_INTERNAL', 'JWK is not DER');
  }
}

/** Finds the container of unlabelled DER by trying each shape; the shapes are mutually exclusive. */
function sniffDer(der: Uint8Array): KeyContainer {
  if (!isOneSequence(der)) throw malformed('not a PEM, DER or JWK key (or the file is truncated)');
  if (parseEncryptedPrivateKeyInfo(der)) return 'encrypted-pkcs8';
  if (tryParse(der, PrivateKeyInfo)) return 'pkcs8';
  if (tryParse(der, SubjectPublicKeyInfo)) return 'spki';
  const ec = tryParse(der, ECPrivateKey);
  if (ec && ec.version === 1) return 'sec1';
  if (tryParse(der, RSAPrivateKey)) return 'pkcs1';
  if (tryParse(der, RSAPublicKey)) return 'pkcs1-public';
  throw malformed('DER input is not a private or public key');
}

function parseJwkText(text: string): Jwk {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw malformed('the key looks like JSON but is not valid JSON', e);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('a JWK must be a JSON object');
  const obj = value as Record<string, unknown>;
  if ('ciphertext' in obj || 'protected' in obj) {
    throw new SignetError('ERR_KEY_UNSUPPORTED', 'encrypted JWK (JWE) key files are not supported', { hint: 'use an encrypted PKCS#8 PEM key' });
  }
  if (Array.isArray(obj.keys)) throw malformed('this is a JWK set; pass a single JWK');
  const kty = obj.kty;
  if (typeof kty !== 'string') throw malformed('JWK has no "kty" member');
  const crv = typeof obj.crv === 'string' ? obj.crv : undefined;
  if (kty === 'EC') {
    if (crv === undefined || !JWK_CURVES.has(crv)) throw unsupported(`unsupported curve ${crv ?? '(none)'}`);
  } else if (kty === 'OKP') {
    if (crv !== 'Ed25519') throw unsupported(`unsupported key algorithm ${crv ?? '(none)'}`);
  } else if (kty !== 'RSA') {
    throw unsupported(`unsupported JWK key type ${kty}`);
  }
  for (const [k, v] of Object.entries(obj)) {
    // RFC 7518 §6: key members are base64url without padding (RFC 7515 §2); node:crypto would
    // silently skip invalid characters.
    if (['x', 'y', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].includes(k) && (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v))) {
      throw malformed(`JWK member "${k}" is not a base64url string`);
    }
  }
  return obj as Jwk;
}

type Want = 'private' | 'public' | 'any';

function locatePem(text: string, want: Want): Located {
  // RFC 1421 encrypted PEM ("Proc-Type: 4,ENCRYPTED") derives its key with one MD5 pass.
  if (/Proc-Type:\s*4,ENCRYPTED/.test(text)) {
    throw new SignetError('ERR_KEY_UNSUPPORTED', 'legacy encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported', {
      hint: 'convert to encrypted PKCS#8: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -passin file:PW -passout file:PW -out NEW',
    });
  }
  let blocks: PemBlock[];
  try {
    blocks = decodePemAll(text);
  } catch (e) {
    if (isSignetError(e)) throw new SignetError('ERR_KEY_MALFORMED', `malformed key: ${e.message}`, { cause: e, hint: e.hint });
    throw e;
  }
  const privates = blocks.filter((b) => PEM_CONTAINERS[b.label] !== undefined && isPrivateContainer(PEM_CONTAINERS[b.label] as KeyContainer));
  const publics = blocks.filter((b) => PEM_CONTAINERS[b.label] !== undefined && !isPrivateContainer(PEM_CONTAINERS[b.label] as KeyContainer));
  if (want !== 'any' && privates.length > 1) throw malformed(`the input holds ${privates.length} private keys; pass one`);
  const chosen = want === 'public' ? (publics[0] ?? privates[0]) : want === 'private' ? privates[0] : (privates[0] ?? publics[0]);
  if (!chosen) {
    if (publics.length > 0) throw notPrivate();
    for (const b of blocks) {
      const r = PEM_REFUSED[b.label];
      if (r) throw new SignetError('ERR_KEY_UNSUPPORTED', r.message, { hint: r.hint ?? SUPPORTED_HINT });
    }
    throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `expected a key but found ${blocks.map((b) => b.label).join(', ')}`, {
      hint: 'pass a key file (certificates and CSRs are handled by the certificate and csr commands)',
    });
  }
  const container = PEM_CONTAINERS[chosen.label] as KeyContainer;
  const encryption = checkDer(container, chosen.der);
  return {
    encoding: 'pem',
    container,
    pemLabel: chosen.label,
    private: isPrivateContainer(container),
    encrypted: container === 'encrypted-pkcs8',
    ...(encryption ? { encryption } : {}),
    der: chosen.der,
  };
}

function locate(data: Uint8Array, want: Want): Located {
  if (data.length === 0) throw new SignetError('ERR_INPUT_EMPTY', 'the key input is empty');
  // Text forms first: JWK (JSON object) and PEM. A UTF-8 BOM is tolerated.
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1').replace(/^\u00ef\u00bb\u00bf/, '').trimStart();
  if (head.startsWith('{')) {
    const jwk = parseJwkText(Buffer.from(data).toString('utf8').replace(/^\uFEFF/, ''));
    return { encoding: 'jwk', container: 'jwk', private: typeof jwk.d === 'string', encrypted: false, jwk };
  }
  if (looksLikePem(data)) return locatePem(Buffer.from(data).toString('latin1'), want);
  const container = sniffDer(data);
  const encryption = checkDer(container, data);
  return {
    encoding: 'der',
    container,
    private: isPrivateContainer(container),
    encrypted: container === 'encrypted-pkcs8',
    ...(encryption ? { encryption } : {}),
    der: data,
  };
}

/**
 * Says what a key file holds — encoding, container, private or public, and for an encrypted
 * PKCS#8 key its PBES2 parameters — without decrypting it. Throws the same errors as
 * {@link parsePrivateKey} for malformed or unsupported input.
 */
export function peekKey(data: Uint8Array): KeyFileInfo {
  const { der: _der, jwk: _jwk, ...info } = locate(data, 'any');
  return info;
}

// ---------------------------------------------------------------------------------------------
// importing

function nodeType(container: KeyContainer): 'pkcs8' | 'sec1' | 'pkcs1' | 'spki' {
  switch (container) {
    case 'pkcs8':
    case 'encrypted-pkcs8':
      return 'pkcs8';
    case 'sec1':
      return 'sec1';
    case 'pkcs1':
    case 'pkcs1-public':
      return 'pkcs1';
    default:
      return 'spki';
  }
}

/** Refuses KeyObjects of types Signet does not support (defence in depth after parsing). */
function checkKeyObject(key: KeyObject): void {
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (t === 'ec') {
    if (d.namedCurve === undefined || CURVE_NAMES[d.namedCurve] === undefined) throw unsupported(`unsupported curve ${d.namedCurve ?? 'unknown'}`);
  } else if (t === 'rsa' || t === 'rsa-pss') {
    if ((d.modulusLength ?? 0) > MAX_RSA_BITS) throw unsupported(`RSA keys larger than ${MAX_RSA_BITS} bits are not supported`);
  } else if (t !== 'ed25519') {
    throw unsupported(`unsupported key algorithm ${t ?? 'unknown'}`);
  }
}

/**
 * Pairwise consistency test (FIPS 140-3 IG 10.3.A style): sign with the private key and verify
 * with the public key the container carries. OpenSSL does not check that an embedded EC public
 * point or RSA modulus belongs to the private key, and a mismatched file would otherwise yield
 * certificates whose signatures never verify.
 */
function checkPairwise(key: KeyObject): void {
  const d = key.asymmetricKeyDetails ?? {};
  const t = key.asymmetricKeyType;
  const hash = t === 'ed25519' ? null : t === 'rsa-pss' ? (d.hashAlgorithm ?? 'sha256') : 'sha256';
  const options =
    t === 'rsa-pss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: d.saltLength ?? 32 } : {};
  const message = Buffer.from('signet pairwise consistency test');
  let ok: boolean;
  try {
    const signature = sign(hash, message, { key, ...options });
    ok = verify(hash, message, { key: createPublicKey(key), ...options }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw malformed('the private key does not match the public key stored with it');
}

function importPrivate(loc: Located, password: string | undefined): KeyObject {
  let key: KeyObject;
  if (loc.container === 'jwk') {
    const jwk = loc.jwk as Jwk;
    try {
      key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch (e) {
      throw malformed('malformed JWK private key', e);
    }
    // node:crypto trusts the public members of a private JWK: checkPairwise below catches a
    // JWK whose x/y (or n/e) belong to another key.
  } else if (loc.container === 'encrypted-pkcs8') {
    if (password === undefined) {
      throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'the private key is encrypted and needs its password', {
        hint: 'pass --password-file FILE (or run on a terminal to be prompted)',
      });
    }
    if (password.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', 'the password is empty');
    try {
      key = createPrivateKey({ key: Buffer.from(loc.der as Uint8Array), format: 'der', type: 'pkcs8', passphrase: password });
    } catch (e) {
      // The structure and its parameters were checked above, so a failure here is the password
      // (bad CBC padding, or by chance valid padding over garbage).
      throw new SignetError('ERR_KEY_WRONG_PASSWORD', 'wrong password for the encrypted private key', {
        cause: e,
        hint: 'check the password file (only its first line is used); a corrupted file also fails this way',
      });
    }
  } else {
    try {
      key = createPrivateKey({ key: Buffer.from(loc.der as Uint8Array), format: 'der', type: nodeType(loc.container) as 'pkcs8' | 'sec1' | 'pkcs1' });
    } catch (e) {
      throw malformed(`malformed ${CONTAINER_NAMES[loc.container]} private key`, e);
    }
  }
  checkKeyObject(key);
  checkPairwise(key);
  return key;
}

function importPublic(loc: Located): KeyObject {
  let key: KeyObject;
  try {
    key =
      loc.container === 'jwk'
        ? createPublicKey({ key: loc.jwk as JsonWebKey, format: 'jwk' })
        : createPublicKey({ key: Buffer.from(loc.der as Uint8Array), format: 'der', type: nodeType(loc.container) as 'spki' | 'pkcs1' });
  } catch (e) {
    throw malformed(`malformed ${CONTAINER_NAMES[loc.container]} public key`, e);
  }
  checkKeyObject(key);
  return key;
}

/**
 * Parses a private key: PEM (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, and the unencrypted legacy
 * `EC PRIVATE KEY` / `RSA PRIVATE KEY`), the same containers as DER, or a private JWK.
 *
 * Errors: ERR_INPUT_EMPTY; ERR_KEY_MALFORMED (garbage, truncated, inconsistent);
 * ERR_KEY_PASSWORD_REQUIRED (encrypted, no password); ERR_PASSWORD_EMPTY; ERR_KEY_WRONG_PASSWORD;
 * ERR_KEY_UNSUPPORTED (algorithm, curve, encryption scheme, legacy encrypted PEM);
 * ERR_KEY_NOT_PRIVATE (a public key); ERR_PEM_UNEXPECTED_TYPE (e.g. a certificate). Weak keys are
 * returned (see the module comment); {@link assertSigningKey} refuses them.
 *
 * @param password used only when the key is encrypted.
 */
export function parsePrivateKey(data: Uint8Array, password?: string): KeyObject {
  const loc = locate(data, 'private');
  if (!loc.private) throw notPrivate();
  return importPrivate(loc, password);
}

/**
 * Parses a public key: SPKI (`PUBLIC KEY`, PEM or DER), PKCS#1 `RSA PUBLIC KEY`, a public JWK — or
 * derives it from a private key in any form {@link parsePrivateKey} reads (`password` is needed
 * only for an encrypted one). Certificates are not read here.
 */
export function parsePublicKey(data: Uint8Array, password?: string): KeyObject {
  const loc = locate(data, 'public');
  if (loc.private) return createPublicKey(importPrivate(loc, password));
  return importPublic(loc);
}

// ---------------------------------------------------------------------------------------------
// writing

function requirePrivate(key: KeyObject): void {
  if (key.type !== 'private') throw notPrivate();
}

/** DER PKCS#8, encrypted with PBES2 (see `pkcs8.ts` for the parameters) when `password` is given. */
export function encodePrivateKeyDer(key: KeyObject, password?: string, options?: KeyEncryptionOptions): Uint8Array {
  requirePrivate(key);
  const der = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
  if (password === undefined) return der;
  try {
    return encryptPrivateKeyInfo(der, password, options);
  } finally {
    der.fill(0);
  }
}

/**
 * PEM PKCS#8 (RFC 7468 §10 `PRIVATE KEY`), or `ENCRYPTED PRIVATE KEY` (RFC 7468 §11) when a
 * password is given: PBES2 with PBKDF2-HMAC-SHA256 (600 000 iterations) or scrypt, AES-256-CBC,
 * readable by `openssl pkey -passin file:…`.
 */
export function encodePrivateKeyPem(key: KeyObject, password?: string, options?: KeyEncryptionOptions): string {
  const der = encodePrivateKeyDer(key, password, options);
  return encodePem(password === undefined ? 'PRIVATE KEY' : 'ENCRYPTED PRIVATE KEY', der);
}

/** DER SubjectPublicKeyInfo of a public key, or of the public half of a private key. */
export function encodePublicKeyDer(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
}

/** PEM SubjectPublicKeyInfo (RFC 7468 §13 `PUBLIC KEY`). */
export function encodePublicKeyPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', encodePublicKeyDer(key));
}

// ---------------------------------------------------------------------------------------------
// describing and checking

/** SHA-256 of the DER SubjectPublicKeyInfo. */
export function spkiSha256(key: KeyObject): Uint8Array {
  return new Uint8Array(createHash('sha256').update(encodePublicKeyDer(key)).digest());
}

/**
 * Why a key must not be used to sign, or undefined. RSA: modulus below {@link MIN_RSA_BITS}, or a
 * public exponent that is even or below 3 (CA/B BR §6.1.6). EC on the supported curves and
 * Ed25519 are never weak.
 */
export function keyWeakness(key: KeyObject): string | undefined {
  const t = key.asymmetricKeyType;
  if (t !== 'rsa' && t !== 'rsa-pss') return undefined;
  const d = key.asymmetricKeyDetails ?? {};
  const bits = d.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return `RSA modulus of ${bits} bits is below ${MIN_RSA_BITS}`;
  const e = d.publicExponent ?? 0n;
  if (e < 3n || e % 2n === 0n) return `RSA public exponent ${e.toString()} is not an odd number of at least 3`;
  return undefined;
}

/** Describes a key of a supported type (private or public) without revealing private material. */
export function describeKey(key: KeyObject): KeyDescription {
  checkKeyObject(key);
  const t = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  const fp = spkiSha256(key);
  const common = {
    private: key.type === 'private',
    signatureAlgorithm: defaultSignatureAlgorithm(key).name,
    spkiSha256: { hex: toHex(fp), base64url: base64url(fp) },
  };
  const weakness = keyWeakness(key);
  if (t === 'ec') {
    const c = CURVE_NAMES[d.namedCurve ?? ''] as { name: string; bits: number };
    return { type: 'EC', algorithm: `EC ${c.name}`, curve: c.name, bits: c.bits, ...common, jwkThumbprint: jwkThumbprint(key) };
  }
  if (t === 'ed25519') {
    return { type: 'OKP', algorithm: 'Ed25519', curve: 'Ed25519', bits: 256, ...common, jwkThumbprint: jwkThumbprint(key) };
  }
  const bits = d.modulusLength ?? 0;
  const publicExponent = Number(d.publicExponent ?? 0n);
  if (t === 'rsa-pss') {
    const pss = {
      ...(d.hashAlgorithm !== undefined ? { hash: d.hashAlgorithm } : {}),
      ...(d.mgf1HashAlgorithm !== undefined ? { mgf1Hash: d.mgf1HashAlgorithm } : {}),
      ...(d.saltLength !== undefined ? { saltLength: d.saltLength } : {}),
    };
    return { type: 'RSA', algorithm: `RSA-PSS ${bits}`, bits, publicExponent, ...(Object.keys(pss).length > 0 ? { pss } : {}), ...common, ...(weakness ? { weakness } : {}) };
  }
  return { type: 'RSA', algorithm: `RSA ${bits}`, bits, publicExponent, ...common, jwkThumbprint: jwkThumbprint(key), ...(weakness ? { weakness } : {}) };
}

/**
 * Throws unless `key` may sign: a private key (ERR_KEY_NOT_PRIVATE) of a supported type
 * (ERR_KEY_UNSUPPORTED) that is not weak (ERR_KEY_WEAK). Every Signer creation runs this.
 */
export function assertSigningKey(key: KeyObject): void {
  if (key.type !== 'private') throw new SignetError('ERR_KEY_NOT_PRIVATE', 'signing needs a private key');
  checkKeyObject(key);
  const weakness = keyWeakness(key);
  if (weakness !== undefined) {
    throw new SignetError('ERR_KEY_WEAK', `refusing to sign with a weak key: ${weakness}`, {
      hint: 'generate a new key: signet key create FILE',
    });
  }
}

/** Throws ERR_KEY_MISMATCH unless `publicKey` is the public half of `privateKey` (compares SPKI). */
export function assertKeyPair(privateKey: KeyObject, publicKey: KeyObject): void {
  const a = encodePublicKeyDer(privateKey);
  const b = encodePublicKeyDer(publicKey);
  if (!Buffer.from(a).equals(Buffer.from(b))) {
    throw new SignetError('ERR_KEY_MISMATCH', 'the private key does not match the public key');
  }
}
