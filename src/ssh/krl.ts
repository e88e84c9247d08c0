/**
 * OpenSSH key revocation lists (PROTOCOL.krl in OpenSSH's source), as `sshd` reads them through
 * `RevokedKeys` and `ssh-keygen -Q` queries them:
 *
 *   uint64 magic "SSHKRL\n\0"   uint32 format version (1)   uint64 KRL version
 *   uint64 generated date   uint64 flags   string reserved   string comment
 *   then sections (byte type, string data):
 *     1 certificates: string CA key blob, string reserved, then (byte type, string data):
 *         0x20 serial list (ascending uint64s), 0x23 key ids (strings)
 *     2 explicit keys: key blobs
 *
 * Serials go as one ascending list per CA (ssh-keygen -k may pick ranges or bitmaps when they
 * are shorter; every reader takes all three), key ids after them in lexical order.
 */
import type { KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { SshWriter } from './wire.js';
import { publicKeyBlob } from './keys.js';

const MAGIC = 0x5353484b524c0a00n;
const FORMAT_VERSION = 1;
const SECTION_CERTIFICATES = 1;
const SECTION_EXPLICIT_KEY = 2;
const CERT_SERIAL_LIST = 0x20;
const CERT_KEY_ID = 0x23;

/** What one CA's certificates have revoked. */
export interface KrlCertificates {
  /** The CA's public key. */
  readonly ca: KeyObject;
  readonly serials?: readonly bigint[];
  readonly keyIds?: readonly string[];
}

/** A KRL's contents. */
export interface KrlInput {
  /** Grows with every KRL the CA publishes (sshd does not compare it; operators do). */
  readonly version: bigint;
  readonly generatedAt: Date;
  readonly comment?: string;
  readonly certificates?: readonly KrlCertificates[];
  /** Plain keys revoked outright (and every certificate of them). */
  readonly keys?: readonly KeyObject[];
}

function section(w: SshWriter, type: number, data: Uint8Array): void {
  w.raw(Uint8Array.of(type)).string(data);
}

/** Builds a KRL (binary, as `RevokedKeys` files hold it). */
export function buildKrl(input: KrlInput): Uint8Array {
  const w = new SshWriter()
    .uint64(MAGIC)
    .uint32(FORMAT_VERSION)
    .uint64(input.version)
    .uint64(BigInt(Math.floor(input.generatedAt.getTime() / 1000)))
    .uint64(0n)
    .string(new Uint8Array(0))
    .string(input.comment ?? '');
  for (const c of input.certificates ?? []) {
    const body = new SshWriter().string(publicKeyBlob(c.ca)).string(new Uint8Array(0));
    const serials = [...new Set(c.serials ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (serials.some((s) => s < 0n || s > 0xffffffffffffffffn)) throw new SignetError('ERR_INTERNAL', 'an SSH certificate serial is a uint64');
    if (serials.length > 0) {
      const list = new SshWriter();
      for (const s of serials) list.uint64(s);
      section(body, CERT_SERIAL_LIST, list.bytes());
    }
    const ids = [...new Set(c.keyIds ?? [])].sort();
    if (ids.length > 0) {
      const list = new SshWriter();
      for (const id of ids) list.string(id);
      section(body, CERT_KEY_ID, list.bytes());
    }
    section(w, SECTION_CERTIFICATES, body.bytes());
  }
  if ((input.keys ?? []).length > 0) {
    const list = new SshWriter();
    for (const k of input.keys ?? []) list.string(publicKeyBlob(k));
    section(w, SECTION_EXPLICIT_KEY, list.bytes());
  }
  return w.bytes();
}
