/**
 * OpenSSH public keys and signatures (RFC 4253 §6.6, RFC 5656 §3, RFC 8709, RFC 8332): the key
 * blob of a node:crypto key and back, the `authorized_keys` line form, and signing / verifying
 * with the SSH signature encoding. Ed25519, ECDSA P-256/384/521 and RSA; RSA signs with
 * rsa-sha2-512 (or -256), never with SHA-1 `ssh-rsa`, and SHA-1 signatures are refused.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign as cryptoSign, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { SshReader, SshWriter } from './wire.js';

/** The public key algorithms (key blob types) Signet reads and writes. */
export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

/** The ECDSA curves, by node:crypto's curve name. */
const CURVES: Readonly<Record<string, { type: SshKeyType; curve: string; jwk: string; hash: string; size: number }>> = {
  prime256v1: { type: 'ecdsa-sha2-nistp256', curve: 'nistp256', jwk: 'P-256', hash: 'sha256', size: 32 },
  secp384r1: { type: 'ecdsa-sha2-nistp384', curve: 'nistp384', jwk: 'P-384', hash: 'sha384', size: 48 },
  secp521r1: { type: 'ecdsa-sha2-nistp521', curve: 'nistp521', jwk: 'P-521', hash: 'sha512', size: 66 },
};
const BY_TYPE = new Map(Object.values(CURVES).map((c) => [c.type, c]));

/** Smallest RSA modulus accepted, in bits. */
export const MIN_RSA_BITS = 2048;

function unsupported(message: string): SignetError {
  return new SignetError('ERR_SSH_KEY_UNSUPPORTED', message);
}

function b64u(s: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(s ?? '', 'base64url'));
}

function bitLength(magnitude: Uint8Array): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i] as number));
}

/** The key blob type of a node:crypto key (public or private); ERR_SSH_KEY_UNSUPPORTED for others. */
export function sshKeyType(key: KeyObject): SshKeyType {
  const known = KEY_TYPES.get(key);
  if (known !== undefined) return known;
  const found = keyTypeOf(key);
  KEY_TYPES.set(key, found);
  return found;
}

/** What {@link sshKeyType} found per KeyObject (a CA key signs many certificates; its details cost a call each). */
const KEY_TYPES = new WeakMap<KeyObject, SshKeyType>();
/** What {@link publicKeyBlob} made per KeyObject. */
const BLOBS = new WeakMap<KeyObject, Uint8Array>();

function keyTypeOf(key: KeyObject): SshKeyType {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ssh-ed25519';
  if (type === 'rsa') return 'ssh-rsa';
  if (type === 'ec') {
    const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve !== undefined) return curve.type;
  }
  throw unsupported(`SSH keys are Ed25519, ECDSA P-256/384/521 or RSA, not ${type ?? 'this key'}${type === 'ec' ? ` on ${key.asymmetricKeyDetails?.namedCurve ?? 'this curve'}` : ''}`);
}

/** Writes the public key fields of `key` (without the type string) — what a certificate carries after its nonce. */
export function writePublicFields(w: SshWriter, key: KeyObject): void {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const type = sshKeyType(pub);
  const jwk = pub.export({ format: 'jwk' });
  if (type === 'ssh-ed25519') w.string(b64u(jwk.x));
  else if (type === 'ssh-rsa') {
    const n = b64u(jwk.n);
    if (bitLength(n) < MIN_RSA_BITS) throw unsupported(`RSA keys for SSH need at least ${MIN_RSA_BITS} bits, this one has ${bitLength(n)}`);
    w.mpint(b64u(jwk.e)).mpint(n);
  } else {
    const c = BY_TYPE.get(type);
    if (c === undefined) throw unsupported(`unsupported key type ${type}`);
    w.string(c.curve).string(Uint8Array.from([0x04, ...b64u(jwk.x), ...b64u(jwk.y)]));
  }
}

/** The key blob (RFC 4253 §6.6) of `key`: what `authorized_keys` base64-encodes and a certificate's signature key is. */
export function publicKeyBlob(key: KeyObject): Uint8Array {
  const known = BLOBS.get(key);
  if (known !== undefined) return known;
  const w = new SshWriter();
  w.string(sshKeyType(key.type === 'private' ? createPublicKey(key) : key));
  writePublicFields(w, key);
  const blob = w.bytes();
  BLOBS.set(key, blob);
  return blob;
}

/** Reads the public key fields of a key of `type` from `r` (a key blob after its type, or a certificate after its nonce). */
export function readPublicFields(r: SshReader, type: string): KeyObject {
  if (type === 'ssh-ed25519') {
    const pk = r.string('ed25519 public key');
    if (pk.length !== 32) throw new SignetError('ERR_SSH_MALFORMED', `malformed SSH public key: an Ed25519 key has 32 bytes, not ${pk.length}`);
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pk).toString('base64url') }, format: 'jwk' });
  }
  if (type === 'ssh-rsa') {
    const e = r.mpint('RSA exponent');
    const n = r.mpint('RSA modulus');
    if (bitLength(n) < MIN_RSA_BITS) throw unsupported(`RSA keys for SSH need at least ${MIN_RSA_BITS} bits, this one has ${bitLength(n)}`);
    return createPublicKey({ key: { kty: 'RSA', n: Buffer.from(n).toString('base64url'), e: Buffer.from(e).toString('base64url') }, format: 'jwk' });
  }
  const c = BY_TYPE.get(type as SshKeyType);
  if (c === undefined) throw unsupported(`unsupported SSH key type "${type.slice(0, 64)}"`);
  const curve = new TextDecoder().decode(r.string('ECDSA curve name'));
  if (curve !== c.curve) throw new SignetError('ERR_SSH_MALFORMED', `malformed SSH public key: ${type} names curve "${curve.slice(0, 32)}"`);
  const q = r.string('ECDSA point');
  if (q.length !== 1 + 2 * c.size || q[0] !== 0x04) throw new SignetError('ERR_SSH_MALFORMED', `malformed SSH public key: not an uncompressed ${c.curve} point`);
  try {
    return createPublicKey({ key: { kty: 'EC', crv: c.jwk, x: Buffer.from(q.subarray(1, 1 + c.size)).toString('base64url'), y: Buffer.from(q.subarray(1 + c.size)).toString('base64url') }, format: 'jwk' });
  } catch {
    throw new SignetError('ERR_SSH_MALFORMED', `malformed SSH public key: the point is not on ${c.curve}`);
  }
}

/** `SHA256:…` as OpenSSH prints fingerprints: base64 of the SHA-256 of the key blob, no padding. */
export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Parses a key blob. */
export function parsePublicKeyBlob(blob: Uint8Array): KeyObject {
  const r = new SshReader(blob, 'public key');
  const type = r.text('key type');
  const key = readPublicFields(r, type);
  r.end();
  return key;
}

/** `type base64 [comment]` — one line of `authorized_keys` / a `.pub` file. */
export function formatPublicKeyLine(key: KeyObject, comment?: string): string {
  const blob = publicKeyBlob(key);
  const type = new SshReader(blob, 'public key').text('key type');
  return `${type} ${Buffer.from(blob).toString('base64')}${comment !== undefined && comment !== '' ? ` ${comment}` : ''}`;
}

/** Parses a `.pub` / `authorized_keys` line (`type base64 [comment]`; no options); returns the key blob's type, the blob and the comment. */
export function parsePublicKeyLine(line: string): { readonly type: string; readonly blob: Uint8Array; readonly comment: string } {
  const m = /^\s*([A-Za-z0-9@._+-]{1,128})\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*?))?\s*$/.exec(line);
  if (m === null) throw new SignetError('ERR_SSH_MALFORMED', 'malformed SSH public key line: expected "TYPE BASE64 [COMMENT]"');
  const blob = new Uint8Array(Buffer.from(m[2] as string, 'base64'));
  const inner = new SshReader(blob, 'public key').text('key type');
  if (inner !== m[1]) throw new SignetError('ERR_SSH_MALFORMED', `malformed SSH public key line: the line says ${(m[1] as string).slice(0, 64)}, the key is ${inner.slice(0, 64)}`);
  return { type: inner, blob, comment: m[3] ?? '' };
}

/** The signature algorithm Signet signs with for a key of this type. */
export function signatureAlgorithmFor(type: SshKeyType): string {
  return type === 'ssh-rsa' ? 'rsa-sha2-512' : type;
}

/** Signs `data` with `key` as SSH does: the signature blob (`string algorithm, string signature`). */
export function sshSign(key: KeyObject, data: Uint8Array): Uint8Array {
  const type = sshKeyType(key);
  const alg = signatureAlgorithmFor(type);
  const w = new SshWriter().string(alg);
  if (type === 'ssh-ed25519') return w.string(new Uint8Array(cryptoSign(null, data, key))).bytes();
  if (type === 'ssh-rsa') return w.string(new Uint8Array(cryptoSign('sha512', data, key))).bytes();
  const c = BY_TYPE.get(type);
  if (c === undefined) throw unsupported(`unsupported key type ${type}`);
  const rs = new Uint8Array(cryptoSign(c.hash, data, { key, dsaEncoding: 'ieee-p1363' }));
  const inner = new SshWriter().mpint(rs.subarray(0, c.size)).mpint(rs.subarray(c.size)).bytes();
  return w.string(inner).bytes();
}

/**
 * Verifies an SSH signature blob over `data` with `key` (whose blob type is `keyType`). The
 * algorithm must fit the key (an RSA key: rsa-sha2-256 or -512; SHA-1 `ssh-rsa` is refused).
 */
export function sshVerify(key: KeyObject, keyType: string, signature: Uint8Array, data: Uint8Array): boolean {
  const r = new SshReader(signature, 'signature');
  const alg = r.text('signature algorithm');
  const sig = r.string('signature');
  r.end();
  if (keyType === 'ssh-ed25519') return alg === 'ssh-ed25519' && sig.length === 64 && cryptoVerify(null, data, key, sig);
  if (keyType === 'ssh-rsa') {
    if (alg === 'ssh-rsa') throw unsupported('the signature uses ssh-rsa (SHA-1), which Signet does not accept; re-sign with rsa-sha2-256 or rsa-sha2-512');
    const hash = alg === 'rsa-sha2-256' ? 'sha256' : alg === 'rsa-sha2-512' ? 'sha512' : undefined;
    return hash !== undefined && cryptoVerify(hash, data, key, sig);
  }
  const c = BY_TYPE.get(keyType as SshKeyType);
  if (c === undefined || alg !== keyType) return false;
  const inner = new SshReader(sig, 'signature');
  const rr = inner.mpint('ECDSA r');
  const ss = inner.mpint('ECDSA s');
  inner.end();
  if (rr.length > c.size || ss.length > c.size) return false;
  const p1363 = new Uint8Array(2 * c.size);
  p1363.set(rr, c.size - rr.length);
  p1363.set(ss, 2 * c.size - ss.length);
  return cryptoVerify(c.hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
}

/**
 * An unencrypted private key in OpenSSH's own format (`-----BEGIN OPENSSH PRIVATE KEY-----`,
 * PROTOCOL.key): what `ssh`, `ssh-add` and `ssh-keygen` read for every key type, Ed25519
 * included. The file holding it must be 0600 (OpenSSH refuses others); the check integers are
 * random, as OpenSSH writes them.
 */
export function formatOpenSshPrivateKey(key: KeyObject, comment = ''): string {
  if (key.type !== 'private') throw new SignetError('ERR_KEY_NOT_PRIVATE', 'an OpenSSH private key file needs the private key');
  const type = sshKeyType(key);
  const jwk = key.export({ format: 'jwk' });
  const check = randomBytes(4).readUInt32BE(0);
  const priv = new SshWriter().uint32(check).uint32(check).string(type);
  if (type === 'ssh-ed25519') {
    const pub = b64u(jwk.x);
    priv.string(pub).string(Uint8Array.from([...b64u(jwk.d), ...pub]));
  } else if (type === 'ssh-rsa') {
    priv.mpint(b64u(jwk.n)).mpint(b64u(jwk.e)).mpint(b64u(jwk.d)).mpint(b64u(jwk.qi)).mpint(b64u(jwk.p)).mpint(b64u(jwk.q));
  } else {
    writePublicFields(priv, key);
    priv.mpint(b64u(jwk.d));
  }
  priv.string(comment);
  const body = priv.bytes();
  const padded = new SshWriter().raw(body);
  for (let i = 1; (body.length + i - 1) % 8 !== 0; i++) padded.raw(Uint8Array.of(i));
  const blob = new SshWriter()
    .raw(new TextEncoder().encode('openssh-key-v1\0'))
    .string('none')
    .string('none')
    .string(new Uint8Array(0))
    .uint32(1)
    .string(publicKeyBlob(key))
    .string(padded.bytes())
    .bytes();
  const b64 = Buffer.from(blob).toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** `d mod (m − 1)` of big-endian magnitudes, for the CRT exponents a JWK needs and OpenSSH does not store. */
function modMinusOne(d: Uint8Array, m: Uint8Array): Uint8Array {
  const big = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`));
  let hex = (big(d) % (big(m) - 1n)).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * Reads a private key in OpenSSH's own format (`-----BEGIN OPENSSH PRIVATE KEY-----`,
 * PROTOCOL.key) — what `ssh-keygen` writes and `/etc/ssh/ssh_host_*_key` holds — when it is not
 * passphrase-protected (host keys never are): Ed25519, ECDSA P-256/384/521, RSA. The check
 * integers must match and the private key must be the public key's. ERR_KEY_MALFORMED for other
 * bytes, ERR_KEY_UNSUPPORTED for a protected key or another type.
 */
export function parseOpenSshPrivateKey(text: string): KeyObject {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  const bad = (why: string): SignetError => new SignetError('ERR_KEY_MALFORMED', `malformed OpenSSH private key: ${why}`);
  if (m === null) throw bad('no -----BEGIN OPENSSH PRIVATE KEY----- block');
  const bytes = new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64'));
  const magic = new TextEncoder().encode('openssh-key-v1\0');
  if (bytes.length < magic.length || !magic.every((b, i) => bytes[i] === b)) throw bad('not openssh-key-v1');
  try {
    const r = new SshReader(bytes.subarray(magic.length), 'OpenSSH private key');
    const cipher = r.text('cipher name');
    const kdf = r.text('kdf name');
    r.string('kdf options');
    if (cipher !== 'none' || kdf !== 'none') {
      throw new SignetError('ERR_KEY_UNSUPPORTED', 'the OpenSSH private key is passphrase-protected; Signet reads unprotected ones (host keys are)', { hint: 'remove the passphrase with ssh-keygen -p, or keep the key in an agent' });
    }
    if (r.uint32('number of keys') !== 1) throw bad('it holds more than one key');
    const publicKey = parsePublicKeyBlob(r.string('public key'));
    const privBytes = r.string('private keys');
    const priv = new SshReader(privBytes, 'OpenSSH private key');
    r.end();
    if (priv.uint32('check') !== priv.uint32('check')) throw bad('the check integers differ (a wrong passphrase, or corrupt)');
    const type = priv.text('key type');
    let jwk: JsonWebKey;
    if (type === 'ssh-ed25519') {
      const pub = priv.string('ed25519 public key');
      const secret = priv.string('ed25519 private key');
      if (pub.length !== 32 || secret.length !== 64) throw bad('an Ed25519 key has 32 + 64 bytes');
      if (!Buffer.from(secret.subarray(32)).equals(Buffer.from(pub))) throw bad('the Ed25519 private key does not end with its public key');
      jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(pub), d: b64url(secret.subarray(0, 32)) };
    } else if (type === 'ssh-rsa') {
      const [n, e, d, qi, p, q] = ['n', 'e', 'd', 'iqmp', 'p', 'q'].map((f) => priv.mpint(`RSA ${f}`)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      jwk = { kty: 'RSA', n: b64url(n), e: b64url(e), d: b64url(d), p: b64url(p), q: b64url(q), dp: b64url(modMinusOne(d, p)), dq: b64url(modMinusOne(d, q)), qi: b64url(qi) };
    } else {
      const c = BY_TYPE.get(type as SshKeyType);
      if (c === undefined) throw unsupported(`unsupported SSH key type "${type.slice(0, 64)}"`);
      if (new TextDecoder().decode(priv.string('ECDSA curve name')) !== c.curve) throw bad(`${type} names another curve`);
      const point = priv.string('ECDSA point');
      const d = priv.mpint('ECDSA private key');
      if (point.length !== 1 + 2 * c.size || d.length > c.size) throw bad(`not a ${c.curve} key`);
      const padded = new Uint8Array(c.size);
      padded.set(d, c.size - d.length);
      jwk = { kty: 'EC', crv: c.jwk, x: b64url(point.subarray(1, 1 + c.size)), y: b64url(point.subarray(1 + c.size)), d: b64url(padded) };
    }
    priv.text('comment');
    // The rest is padding 1, 2, 3, … up to the block size (8 without a cipher).
    const padding = privBytes.subarray(priv.offset);
    if (padding.length >= 8 || !padding.every((b, i) => b === i + 1)) throw bad('the padding is wrong');
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    // Not every key import checks that the private part belongs to the public one: a signature does.
    const probe = randomBytes(32);
    if (!createPublicKey(key).equals(publicKey) || !sshVerify(publicKey, sshKeyType(publicKey), sshSign(key, probe), probe)) throw bad('the private key is not the public key\'s');
    return key;
  } catch (e) {
    if (e instanceof SignetError && e.code !== 'ERR_SSH_MALFORMED') throw e;
    throw bad(e instanceof Error ? e.message.replace(/^malformed OpenSSH private key: /, '') : 'unreadable');
  }
}
