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
import { SshReader, SshWriter } from './wire.js';
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

/** A KRL as {@link parseKrl} reads it. */
export interface ParsedKrl {
  readonly version: bigint;
  readonly generatedAt: Date;
  readonly comment: string;
  /** Per CA key (its blob): the revoked serials and key ids. */
  readonly certificates: readonly { readonly ca: Uint8Array; readonly serials: readonly bigint[]; readonly keyIds: readonly string[] }[];
  /** How many keys are revoked outright. */
  readonly explicitKeys: number;
}

/**
 * Reads a KRL Signet writes (and the same sections from ssh-keygen): the header, certificate
 * sections with serial lists and key ids, explicit keys. Serial ranges, bitmaps, hash sections
 * and signatures — which Signet never writes — are ERR_SSH_MALFORMED, so a KRL it does not fully
 * understand is never reported as smaller than it is.
 */
export function parseKrl(bytes: Uint8Array): ParsedKrl {
  const r = new SshReader(bytes, 'KRL');
  if (r.uint64('magic') !== MAGIC) throw new SignetError('ERR_SSH_MALFORMED', 'not an OpenSSH KRL (no SSHKRL magic)');
  const format = r.uint32('format version');
  if (format !== FORMAT_VERSION) throw new SignetError('ERR_SSH_MALFORMED', `KRL format version ${format} is not 1`);
  const version = r.uint64('KRL version');
  const generated = r.uint64('generated date');
  r.uint64('flags');
  r.string('reserved');
  const comment = r.text('comment');
  const certificates: { ca: Uint8Array; serials: bigint[]; keyIds: string[] }[] = [];
  let explicitKeys = 0;
  while (r.offset < bytes.length) {
    const type = r.byte('section type');
    const data = r.string('section');
    if (type === SECTION_CERTIFICATES) {
      const s = new SshReader(data, 'KRL certificate section');
      const entry = { ca: s.string('CA key'), serials: [] as bigint[], keyIds: [] as string[] };
      s.string('reserved');
      while (s.offset < data.length) {
        const sub = s.byte('subsection type');
        const body = new SshReader(s.string('subsection'), 'KRL certificate subsection');
        const end = (b: SshReader): boolean => b.remaining === 0;
        if (sub === CERT_SERIAL_LIST) while (!end(body)) entry.serials.push(body.uint64('serial'));
        else if (sub === CERT_KEY_ID) while (!end(body)) entry.keyIds.push(body.text('key id'));
        else throw new SignetError('ERR_SSH_MALFORMED', `KRL certificate subsection ${sub} is not one Signet reads`);
      }
      certificates.push(entry);
    } else if (type === SECTION_EXPLICIT_KEY) {
      const s = new SshReader(data, 'KRL explicit keys');
      while (s.remaining > 0) {
        s.string('key');
        explicitKeys++;
      }
    } else {
      throw new SignetError('ERR_SSH_MALFORMED', `KRL section ${type} is not one Signet reads`);
    }
  }
  return { version, generatedAt: new Date(Number(generated) * 1000), comment, certificates, explicitKeys };
}
