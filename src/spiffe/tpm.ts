/**
 * TPM 2.0 structures for node attestation by credential activation (server side).
 *
 * An agent sends its endorsement key (EK) certificate, the EK's public area and an attestation
 * key's (AK) public area (`TPM2B_PUBLIC`, as `tpm2_readpublic -o` / `tpm2_createak -u` write
 * them). The server checks that the EK certificate chains to a TPM manufacturer's CA, that the EK
 * public area holds the certificate's key, and that the AK is a restricted signing key that never
 * leaves its TPM; then it runs TPM2_MakeCredential in software (TPM 2.0 Part 1 §24: a seed
 * encrypted to the EK, KDFa, AES-CFB, an outer HMAC over the AK's name). Only the TPM that holds
 * the EK's private key *and* has that AK loaded can recover the secret with
 * TPM2_ActivateCredential — so an AK resident in another TPM is refused.
 *
 * Pure functions: no I/O, no clock; randomness is injectable for tests.
 */
import { constants, createECDH, createHash, createHmac, createCipheriv, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';

/** TPM_ALG_ID values used here (TPM 2.0 Part 2 §6.3). */
export const TPM_ALG = { RSA: 0x0001, SHA1: 0x0004, AES: 0x0006, KEYEDHASH: 0x0008, SHA256: 0x000b, SHA384: 0x000c, SHA512: 0x000d, NULL: 0x0010, ECDAA: 0x001a, ECC: 0x0023, CFB: 0x0043 } as const;

/** TPMA_OBJECT bits (Part 2 §8.3). */
export const TPMA = { fixedTPM: 1 << 1, fixedParent: 1 << 4, sensitiveDataOrigin: 1 << 5, userWithAuth: 1 << 6, adminWithPolicy: 1 << 7, restricted: 1 << 16, decrypt: 1 << 17, sign: 1 << 18 } as const;

const HASHES: Readonly<Record<number, { readonly name: string; readonly size: number }>> = {
  [TPM_ALG.SHA256]: { name: 'sha256', size: 32 },
  [TPM_ALG.SHA384]: { name: 'sha384', size: 48 },
  [TPM_ALG.SHA512]: { name: 'sha512', size: 64 },
};

/** TPM_ECC_CURVE values this server handles, with their JOSE names and coordinate sizes. */
const CURVES: Readonly<Record<number, { readonly crv: string; readonly nodeName: string; readonly size: number }>> = {
  0x0003: { crv: 'P-256', nodeName: 'prime256v1', size: 32 },
  0x0004: { crv: 'P-384', nodeName: 'secp384r1', size: 48 },
  0x0005: { crv: 'P-521', nodeName: 'secp521r1', size: 66 },
};

/** A parsed TPMT_PUBLIC of an RSA or ECC key. */
export interface TpmPublic {
  readonly type: 'rsa' | 'ecc';
  /** TPM_ALG_ID of the name algorithm. */
  readonly nameAlg: number;
  readonly attributes: number;
  /** The object's symmetric algorithm for children / credential protection (NULL for signing keys). */
  readonly symmetric: { readonly alg: number; readonly keyBits: number; readonly mode: number };
  /** The public key. */
  readonly key: KeyObject;
  /** The TPMT_PUBLIC bytes (what the name is computed over). */
  readonly bytes: Uint8Array;
  /** The object's name: nameAlg (2 bytes) ‖ H_nameAlg(TPMT_PUBLIC). */
  readonly name: Uint8Array;
  /** For ECC keys: the curve's TPM_ECC_CURVE and the point's coordinates. */
  readonly ecc?: { readonly curve: number; readonly x: Uint8Array; readonly y: Uint8Array };
}

function malformed(what: string, why: string): SignetError {
  return new SignetError('ERR_ATTESTATION_FAILED', `node attestation failed: ${what} is not a TPM2B_PUBLIC (${why})`, { detail: { reason: 'malformed' } });
}

/** A bounds-checked big-endian reader. */
class Reader {
  #off = 0;
  constructor(readonly buf: Uint8Array, readonly what: string) {}
  get left(): number {
    return this.buf.length - this.#off;
  }
  u16(): number {
    if (this.left < 2) throw malformed(this.what, 'truncated');
    const v = ((this.buf[this.#off] as number) << 8) | (this.buf[this.#off + 1] as number);
    this.#off += 2;
    return v;
  }
  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }
  bytes(n: number): Uint8Array {
    if (this.left < n) throw malformed(this.what, 'truncated');
    const v = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return v;
  }
  tpm2b(): Uint8Array {
    return this.bytes(this.u16());
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const tpm2b = (b: Uint8Array): Buffer => Buffer.concat([u16(b.length), b]);

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * Parses a TPM2B_PUBLIC (2-byte size, then TPMT_PUBLIC) of an RSA or ECC key. Every byte must be
 * accounted for; keyed-hash and symmetric objects, SHA-1 names and unknown curves are refused.
 */
export function parseTpm2bPublic(data: Uint8Array, what: string): TpmPublic {
  if (data.length < 2 || data.length > 1024) throw malformed(what, 'wrong size');
  const outer = new Reader(data, what);
  const bytes = outer.tpm2b();
  if (outer.left !== 0) throw malformed(what, 'bytes after the structure');
  const r = new Reader(bytes, what);
  const type = r.u16();
  if (type !== TPM_ALG.RSA && type !== TPM_ALG.ECC) throw malformed(what, `object type 0x${type.toString(16)} is not RSA or ECC`);
  const nameAlg = r.u16();
  const hash = HASHES[nameAlg];
  if (hash === undefined) throw malformed(what, `name algorithm 0x${nameAlg.toString(16)} is not SHA-256, SHA-384 or SHA-512`);
  const attributes = r.u32();
  r.tpm2b(); // authPolicy
  const symAlg = r.u16();
  const symmetric = symAlg === TPM_ALG.NULL ? { alg: symAlg, keyBits: 0, mode: 0 } : { alg: symAlg, keyBits: r.u16(), mode: r.u16() };
  const scheme = r.u16();
  if (scheme !== TPM_ALG.NULL) {
    r.u16(); // the scheme's hash algorithm
    if (scheme === TPM_ALG.ECDAA) r.u16(); // ECDAA's count
  }
  let key: KeyObject;
  let ecc: TpmPublic['ecc'];
  try {
    if (type === TPM_ALG.RSA) {
      const keyBits = r.u16();
      const exponent = r.u32();
      const n = r.tpm2b();
      if (n.length * 8 !== keyBits || n.length < 256) throw malformed(what, `RSA modulus of ${n.length * 8} bits (keyBits ${keyBits})`);
      // Exponent 0 means the default, 2^16 + 1; JWK wants it big-endian without leading zeros.
      const e = u32(exponent === 0 ? 65537 : exponent);
      key = createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e.subarray(e.findIndex((b) => b !== 0))) }, format: 'jwk' });
    } else {
      const curve = r.u16();
      const c = CURVES[curve];
      if (c === undefined) throw malformed(what, `ECC curve 0x${curve.toString(16)} is not P-256, P-384 or P-521`);
      const kdf = r.u16();
      if (kdf !== TPM_ALG.NULL) r.u16();
      const x = r.tpm2b();
      const y = r.tpm2b();
      if (x.length !== c.size || y.length !== c.size) throw malformed(what, 'ECC point of the wrong size');
      key = createPublicKey({ key: { kty: 'EC', crv: c.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' });
      ecc = { curve, x, y };
    }
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw malformed(what, 'the public key is not valid');
  }
  if (r.left !== 0) throw malformed(what, 'bytes after the public key');
  const name = Buffer.concat([u16(nameAlg), createHash(hash.name).update(bytes).digest()]);
  return { type: type === TPM_ALG.RSA ? 'rsa' : 'ecc', nameAlg, attributes, symmetric, key, bytes, name, ...(ecc !== undefined ? { ecc } : {}) };
}

function refuse(message: string, reason: string): SignetError {
  return new SignetError('ERR_ATTESTATION_FAILED', `node attestation failed: ${message}`, { detail: { reason } });
}

const has = (attrs: number, bit: number): boolean => (attrs & bit) !== 0;

/** The attribute names of `attrs` that `want` sets and `attrs` lacks, or that `not` sets and `attrs` has. */
function attributeProblems(attrs: number, want: readonly (keyof typeof TPMA)[], not: readonly (keyof typeof TPMA)[]): string[] {
  return [...want.filter((k) => !has(attrs, TPMA[k])).map((k) => `not ${k}`), ...not.filter((k) => has(attrs, TPMA[k])).map((k) => k)];
}

/**
 * Checks an EK public area: a restricted decryption key created in the TPM (fixedTPM,
 * fixedParent, sensitiveDataOrigin), protecting with AES-CFB, whose key is `certificateKey`.
 */
export function checkEkPublic(ek: TpmPublic, certificateKey: KeyObject): void {
  const problems = attributeProblems(ek.attributes, ['fixedTPM', 'fixedParent', 'sensitiveDataOrigin', 'restricted', 'decrypt'], ['sign']);
  if (problems.length > 0) throw refuse(`the EK is not an endorsement key (${problems.join(', ')})`, 'ek-attributes');
  if (ek.symmetric.alg !== TPM_ALG.AES || ek.symmetric.mode !== TPM_ALG.CFB || (ek.symmetric.keyBits !== 128 && ek.symmetric.keyBits !== 256)) throw refuse('the EK does not protect with AES-128 or AES-256 in CFB mode', 'ek-attributes');
  if (!ek.key.equals(certificateKey)) throw refuse('the EK public area does not hold the EK certificate\'s key', 'ek-mismatch');
}

/** Checks an AK public area: a restricted signing key that was created in its TPM and cannot leave it. */
export function checkAkPublic(ak: TpmPublic): void {
  const problems = attributeProblems(ak.attributes, ['fixedTPM', 'fixedParent', 'sensitiveDataOrigin', 'restricted', 'sign'], ['decrypt']);
  if (problems.length > 0) throw refuse(`the AK is not an attestation key (${problems.join(', ')})`, 'ak-attributes');
}

/** KDFa (Part 1 §11.4.10.2): SP 800-108 counter mode with HMAC-`hash`. */
export function kdfa(hash: string, key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Buffer {
  const out: Buffer[] = [];
  const labelBytes = Buffer.from(`${label}\0`, 'latin1');
  let have = 0;
  for (let i = 1; have * 8 < bits; i++) {
    const block = createHmac(hash, key).update(u32(i)).update(labelBytes).update(contextU).update(contextV).update(u32(bits)).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, Math.ceil(bits / 8));
}

/** KDFe (Part 1 §11.4.10.3): the SP 800-56A concatenation KDF with `hash`. */
export function kdfe(hash: string, z: Uint8Array, label: string, partyU: Uint8Array, partyV: Uint8Array, bits: number): Buffer {
  const out: Buffer[] = [];
  const labelBytes = Buffer.from(`${label}\0`, 'latin1');
  let have = 0;
  for (let i = 1; have * 8 < bits; i++) {
    const block = createHash(hash).update(u32(i)).update(z).update(labelBytes).update(partyU).update(partyV).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, Math.ceil(bits / 8));
}

/** What TPM2_MakeCredential returns: both go to TPM2_ActivateCredential unchanged. */
export interface MadeCredential {
  /** TPM2B_ID_OBJECT. */
  readonly credentialBlob: Buffer;
  /** TPM2B_ENCRYPTED_SECRET (the seed, encrypted to the EK). */
  readonly encryptedSecret: Buffer;
}

/**
 * TPM2_MakeCredential in software: protects `credential` (≤ 64 bytes) for the object named
 * `objectName` under the EK `ek` (its name algorithm and symmetric definition are used).
 */
export function makeCredential(ek: TpmPublic, objectName: Uint8Array, credential: Uint8Array, random: (n: number) => Buffer = randomBytes): MadeCredential {
  const hash = HASHES[ek.nameAlg];
  if (hash === undefined) throw new SignetError('ERR_INTERNAL', 'unsupported EK name algorithm');
  if (credential.length === 0 || credential.length > 64) throw new SignetError('ERR_INTERNAL', 'a credential is 1 to 64 bytes');
  let seed: Buffer;
  let encryptedSecret: Buffer;
  if (ek.type === 'rsa') {
    seed = random(hash.size);
    encryptedSecret = tpm2b(publicEncrypt({ key: ek.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash.name, oaepLabel: Buffer.from('IDENTITY\0', 'latin1') }, seed));
  } else {
    const ecc = ek.ecc;
    const curve = ecc !== undefined ? CURVES[ecc.curve] : undefined;
    if (ecc === undefined || curve === undefined) throw new SignetError('ERR_INTERNAL', 'an ECC EK without its point');
    // An ephemeral ECDH key on the EK's curve (no KeyObject: nothing to export but its point).
    const eph = createECDH(curve.nodeName);
    const point = eph.generateKeys();
    const z = eph.computeSecret(Buffer.concat([Buffer.of(0x04), ecc.x, ecc.y]));
    const ephX = point.subarray(1, 1 + curve.size);
    const ephY = point.subarray(1 + curve.size);
    seed = kdfe(hash.name, z, 'IDENTITY', ephX, ecc.x, hash.size * 8);
    encryptedSecret = tpm2b(Buffer.concat([tpm2b(ephX), tpm2b(ephY)]));
  }
  const symKey = kdfa(hash.name, seed, 'STORAGE', objectName, new Uint8Array(0), ek.symmetric.keyBits);
  const cipher = createCipheriv(`aes-${ek.symmetric.keyBits}-cfb`, symKey, Buffer.alloc(16));
  const encIdentity = Buffer.concat([cipher.update(tpm2b(credential)), cipher.final()]);
  const hmacKey = kdfa(hash.name, seed, 'INTEGRITY', new Uint8Array(0), new Uint8Array(0), hash.size * 8);
  const outerHmac = createHmac(hash.name, hmacKey).update(encIdentity).update(objectName).digest();
  return { credentialBlob: tpm2b(Buffer.concat([tpm2b(outerHmac), encIdentity])), encryptedSecret };
}
