/**
 * OpenSSH certificates (PROTOCOL.certkeys in OpenSSH's source): the `*-cert-v01@openssh.com`
 * key types, written and read field by field.
 *
 *   string  type ("ssh-ed25519-cert-v01@openssh.com", …)   string nonce
 *   …       the certified key's public fields              uint64 serial
 *   uint32  type (1 user, 2 host)   string key id   string valid principals (packed strings)
 *   uint64  valid after   uint64 valid before (seconds; 0xffff…ffff: forever)
 *   string  critical options   string extensions   string reserved
 *   string  signature key (the CA's key blob)   string signature (over everything before it)
 *
 * Critical options and extensions are (name, data) pairs in lexical order, each name once; a
 * flag's data is empty, a valued option's data is a `string` holding the value. Reading is strict
 * (ERR_SSH_MALFORMED: truncation, trailing bytes, an unknown type, options out of order) and
 * checks the CA's signature (ERR_SSH_SIGNATURE_INVALID).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { SshReader, SshWriter } from './wire.js';
import { publicKeyBlob, readPublicFields, sshKeyType, sshSign, sshVerify, writePublicFields, type SshKeyType } from './keys.js';

export type SshCertificateType = 'user' | 'host';

/** valid before = forever. */
export const SSH_FOREVER = 0xffffffffffffffffn;

/** The options (critical options or extensions) of a certificate: name → value ('' for a flag). */
export type SshOptions = Readonly<Record<string, string>>;

/** Critical options whose data is a value (the others are flags). */
const VALUED_CRITICAL = new Set(['force-command', 'source-address']);

/** What to certify. */
export interface SshCertificateInput {
  readonly publicKey: KeyObject;
  /** `publicKey`'s blob when the caller has it already (a request carried it): spares encoding the key again. */
  readonly publicKeyBlob?: Uint8Array;
  readonly type: SshCertificateType;
  readonly serial: bigint;
  readonly keyId: string;
  /** User names (user certificates) or host names (host certificates); empty: any (OpenSSH's meaning — Signet never issues that). */
  readonly principals: readonly string[];
  /** Seconds since the epoch. */
  readonly validAfter: bigint;
  /** Seconds since the epoch, or {@link SSH_FOREVER}. */
  readonly validBefore: bigint;
  readonly criticalOptions?: SshOptions;
  readonly extensions?: SshOptions;
  /** 32 random bytes unless given (tests repeat another signer's nonce). */
  readonly nonce?: Uint8Array;
}

/** A parsed certificate. */
export interface SshCertificate {
  /** The whole certificate blob. */
  readonly blob: Uint8Array;
  /** `ssh-ed25519-cert-v01@openssh.com`, … */
  readonly certKeyType: string;
  /** The certified key's type (`ssh-ed25519`, …). */
  readonly keyType: SshKeyType;
  readonly nonce: Uint8Array;
  readonly publicKey: KeyObject;
  readonly serial: bigint;
  readonly type: SshCertificateType;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: SshOptions;
  readonly extensions: SshOptions;
  /** The CA's key blob, its type and key. */
  readonly signatureKey: Uint8Array;
  readonly caKeyType: SshKeyType;
  readonly caKey: KeyObject;
  /** The signature's algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`, …). */
  readonly signatureAlgorithm: string;
  /** The bytes the signature covers: everything before it. */
  readonly signed: Uint8Array;
}

const CERT_SUFFIX = '-cert-v01@openssh.com';
const KEY_TYPES: readonly SshKeyType[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

function malformed(message: string): SignetError {
  return new SignetError('ERR_SSH_MALFORMED', `malformed SSH certificate: ${message}`);
}

function writeOptions(options: SshOptions | undefined, valued: (name: string) => boolean): Uint8Array {
  const w = new SshWriter();
  for (const name of Object.keys(options ?? {}).sort()) {
    const value = (options as SshOptions)[name] as string;
    w.string(name);
    if (valued(name)) w.string(new SshWriter().string(value).bytes());
    else {
      if (value !== '') throw new SignetError('ERR_INTERNAL', `SSH option ${name} is a flag and takes no value`);
      w.string(new Uint8Array(0));
    }
  }
  return w.bytes();
}

function readOptions(data: Uint8Array, what: string): Record<string, string> {
  const r = new SshReader(data, 'certificate');
  const out: Record<string, string> = {};
  let last: string | undefined;
  while (r.offset < data.length) {
    const name = r.text(`${what} name`);
    if (last !== undefined && name <= last) throw malformed(`${what} are not in order, or repeat "${name.slice(0, 64)}"`);
    last = name;
    const body = r.string(`${what} ${name.slice(0, 64)}`);
    if (body.length === 0) out[name] = '';
    else {
      const inner = new SshReader(body, 'certificate');
      out[name] = inner.text(`${what} ${name.slice(0, 64)} value`);
      inner.end();
    }
  }
  return out;
}

/** Random bytes for nonces, drawn from the CSPRNG 8 KiB at a time (one call per 256 certificates). */
let pool = new Uint8Array(0);
let poolAt = 0;

/** 32 fresh random bytes (each handed out once). */
function randomNonce(): Uint8Array {
  if (poolAt + 32 > pool.length) {
    pool = new Uint8Array(randomBytes(8192));
    poolAt = 0;
  }
  const nonce = pool.slice(poolAt, poolAt + 32);
  poolAt += 32;
  return nonce;
}

/** Signs a certificate for `input.publicKey` with the CA key `caKey` (private); returns the certificate blob. */
export function signSshCertificate(input: SshCertificateInput, caKey: KeyObject): Uint8Array {
  const keyType = sshKeyType(input.publicKey);
  const nonce = input.nonce ?? randomNonce();
  const principals = new SshWriter();
  for (const p of input.principals) principals.string(p);
  const w = new SshWriter().string(`${keyType}${CERT_SUFFIX}`).string(nonce);
  if (input.publicKeyBlob !== undefined) {
    // The blob is `string type` and the fields: the certificate carries the fields.
    const r = new SshReader(input.publicKeyBlob, 'public key');
    if (r.text('key type') !== keyType) throw new SignetError('ERR_INTERNAL', 'the public key blob is not the public key\'s');
    w.raw(input.publicKeyBlob.subarray(r.offset));
  } else {
    writePublicFields(w, input.publicKey);
  }
  w.uint64(input.serial)
    .uint32(input.type === 'user' ? 1 : 2)
    .string(input.keyId)
    .string(principals.bytes())
    .uint64(input.validAfter)
    .uint64(input.validBefore)
    .string(writeOptions(input.criticalOptions, (n) => VALUED_CRITICAL.has(n)))
    .string(writeOptions(input.extensions, () => false))
    .string(new Uint8Array(0))
    .string(publicKeyBlob(caKey));
  const signed = w.bytes();
  return new SshWriter().raw(signed).string(sshSign(caKey, signed)).bytes();
}

/** Parses a certificate blob and checks its signature. */
export function parseSshCertificate(blob: Uint8Array): SshCertificate {
  const r = new SshReader(blob, 'certificate');
  const certKeyType = r.text('key type');
  const keyType = certKeyType.endsWith(CERT_SUFFIX) ? (certKeyType.slice(0, -CERT_SUFFIX.length) as SshKeyType) : undefined;
  if (keyType === undefined || !KEY_TYPES.includes(keyType)) throw new SignetError('ERR_SSH_KEY_UNSUPPORTED', `not a supported SSH certificate type: "${certKeyType.slice(0, 64)}"`);
  const nonce = r.string('nonce');
  const publicKey = readPublicFields(r, keyType);
  const serial = r.uint64('serial');
  const typeCode = r.uint32('certificate type');
  if (typeCode !== 1 && typeCode !== 2) throw malformed(`certificate type ${typeCode} (1 is user, 2 is host)`);
  const keyId = r.text('key id');
  const principalData = r.string('valid principals');
  const pr = new SshReader(principalData, 'certificate');
  const principals: string[] = [];
  while (pr.offset < principalData.length) principals.push(pr.text('principal'));
  const validAfter = r.uint64('valid after');
  const validBefore = r.uint64('valid before');
  const criticalOptions = readOptions(r.string('critical options'), 'critical options');
  const extensions = readOptions(r.string('extensions'), 'extensions');
  r.string('reserved');
  const signatureKey = r.string('signature key');
  const signedLength = r.offset;
  const signature = r.string('signature');
  r.end();
  const kr = new SshReader(signatureKey, 'certificate');
  const caKeyType = kr.text('signature key type') as SshKeyType;
  if (!KEY_TYPES.includes(caKeyType)) throw new SignetError('ERR_SSH_KEY_UNSUPPORTED', `unsupported CA key type "${String(caKeyType).slice(0, 64)}"`);
  const caKey = readPublicFields(kr, caKeyType);
  kr.end();
  const sr = new SshReader(signature, 'certificate');
  const signatureAlgorithm = sr.text('signature algorithm');
  if (!sshVerify(caKey, caKeyType, signature, blob.subarray(0, signedLength))) throw new SignetError('ERR_SSH_SIGNATURE_INVALID', 'the SSH certificate\'s signature does not verify with the CA key it names');
  return {
    blob,
    certKeyType,
    keyType,
    nonce,
    publicKey,
    serial,
    type: typeCode === 1 ? 'user' : 'host',
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKey,
    caKeyType,
    caKey,
    signatureAlgorithm,
    signed: blob.subarray(0, signedLength),
  };
}

/** `TYPE-cert-v01@openssh.com BASE64 [comment]`: the `-cert.pub` file line. */
export function formatCertificateLine(blob: Uint8Array, comment?: string): string {
  const type = new SshReader(blob, 'certificate').text('key type');
  return `${type} ${Buffer.from(blob).toString('base64')}${comment !== undefined && comment !== '' ? ` ${comment}` : ''}`;
}
