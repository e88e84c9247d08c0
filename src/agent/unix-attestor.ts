/**
 * Workload attestation on Linux: the selectors of a caller of the Workload API, read from /proc
 * for the process its pidfd names —
 *
 *   unix:uid:N  unix:gid:N                 its real user and group IDs now (not at connect time:
 *                                           a process that dropped privileges is its new self)
 *   unix:user:NAME  unix:group:NAME        their names in /etc/passwd and /etc/group
 *   unix:supplementary_gid:N  unix:supplementary_group:NAME
 *   unix:path:/usr/bin/app                 the executable
 *   unix:sha256:HEX                        SHA-256 of the executable's bytes (only when an entry
 *                                           asks for one: hashing a large binary is not free;
 *                                           remembered per file identity and mtime)
 *
 * After reading, the pidfd must still name a running process: if the caller exited meanwhile,
 * its PID may already be another process's and what was read may be that one's
 * (ERR_ATTESTATION_FAILED, never selectors of the wrong process). Other attestors (Kubernetes,
 * containers) plug in beside this one with the same shape: peer in, selectors out.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readlink, stat } from 'node:fs/promises';
import { SignetError } from '../core/errors.js';
import { peerAlive, type Peer } from './peer.js';

/** Largest /etc/passwd or /etc/group read. */
const MAX_DB_BYTES = 16 * 1024 * 1024;
/** Largest executable hashed (a statically linked runtime can be a few hundred MiB). */
const MAX_HASHED_BYTES = 2 * 1024 * 1024 * 1024;

/** What an attestation needs to compute beyond the cheap selectors. */
export interface AttestOptions {
  /** Hash the executable (some entry has a unix:sha256 selector). */
  readonly sha256?: boolean;
  /** Root of the process file system (tests). */
  readonly procRoot?: string;
  /** Where passwd and group live (tests). */
  readonly etcRoot?: string;
}

/** A process as attested: the selectors, and the facts they came from (for `agent explain`). */
export interface Attested {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly path?: string;
  readonly selectors: readonly string[];
}

/** `name:x:id:…` lines → id → name (the first name for an id wins, as getpwuid does). */
function parseIdDb(text: string): Map<number, { name: string; members: string[] }> {
  const out = new Map<number, { name: string; members: string[] }>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const id = Number(f[2]);
    if (f[0] === undefined || f[0] === '' || !Number.isSafeInteger(id) || out.has(id)) continue;
    out.set(id, { name: f[0], members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

/** /etc/passwd and /etc/group, reread when they change (by mtime and size). */
class IdNames {
  readonly #cache = new Map<string, { key: string; db: Map<number, { name: string; members: string[] }> }>();

  async name(file: string, id: number): Promise<string | undefined> {
    let s;
    try {
      s = await stat(file);
    } catch {
      return undefined;
    }
    if (s.size > MAX_DB_BYTES) return undefined;
    const key = `${s.mtimeMs}:${s.size}:${s.ino}`;
    let hit = this.#cache.get(file);
    if (hit?.key !== key) {
      hit = { key, db: parseIdDb(await readFile(file, 'utf8')) };
      this.#cache.set(file, hit);
    }
    return hit.db.get(id)?.name;
  }
}

/** SHA-256 of executables, remembered by file identity (device, inode, size, mtime). */
class ExecutableHashes {
  readonly #cache = new Map<string, string>();

  async of(file: string): Promise<string | undefined> {
    const s = await stat(file);
    if (s.size > MAX_HASHED_BYTES) return undefined;
    const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    const hex = h.digest('hex');
    if (this.#cache.size >= 1024) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, hex);
    return hex;
  }
}

/** `Uid:`/`Gid:`/`Groups:` of /proc/PID/status: real IDs and supplementary groups. */
function parseStatus(text: string): { uid: number; gid: number; groups: number[] } {
  const field = (name: string): string[] => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
    return line === undefined ? [] : line.slice(name.length + 1).trim().split(/\s+/).filter((x) => x !== '');
  };
  const uid = Number(field('Uid')[0]);
  const gid = Number(field('Gid')[0]);
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new SignetError('ERR_ATTESTATION_FAILED', 'the caller\'s process status has no user or group ID');
  return { uid, gid, groups: field('Groups').map(Number).filter((g) => Number.isSafeInteger(g)) };
}

/** The Unix workload attestor (one per agent: it caches name databases and executable hashes). */
export class UnixAttestor {
  readonly #names = new IdNames();
  readonly #hashes = new ExecutableHashes();
  readonly #proc: string;
  readonly #etc: string;

  constructor(o: { procRoot?: string; etcRoot?: string } = {}) {
    this.#proc = o.procRoot ?? '/proc';
    this.#etc = o.etcRoot ?? '/etc';
  }

  /** The caller's selectors; ERR_ATTESTATION_FAILED when its process is gone or unreadable. */
  async attest(peer: Peer, o: AttestOptions = {}): Promise<Attested> {
    const dir = `${this.#proc}/${peer.pid}`;
    let status;
    let path: string | undefined;
    let sha256: string | undefined;
    try {
      status = parseStatus(await readFile(`${dir}/status`, 'utf8'));
      try {
        path = await readlink(`${dir}/exe`);
      } catch {
        // kernel threads and processes of other namespaces may show none
      }
      if (o.sha256 === true && path !== undefined) sha256 = await this.#hashes.of(`${dir}/exe`);
    } catch (e) {
      if (e instanceof SignetError) throw e;
      throw new SignetError('ERR_ATTESTATION_FAILED', `the caller's process ${peer.pid} could not be read`, { cause: e });
    }
    if (!peerAlive(peer)) throw new SignetError('ERR_ATTESTATION_FAILED', `the caller's process ${peer.pid} exited while it was attested`);
    const selectors = new Set<string>([`unix:uid:${status.uid}`, `unix:gid:${status.gid}`]);
    const user = await this.#names.name(`${this.#etc}/passwd`, status.uid);
    if (user !== undefined) selectors.add(`unix:user:${user}`);
    const group = await this.#names.name(`${this.#etc}/group`, status.gid);
    if (group !== undefined) selectors.add(`unix:group:${group}`);
    for (const g of status.groups) {
      selectors.add(`unix:supplementary_gid:${g}`);
      const name = await this.#names.name(`${this.#etc}/group`, g);
      if (name !== undefined) selectors.add(`unix:supplementary_group:${name}`);
    }
    if (path !== undefined) selectors.add(`unix:path:${path}`);
    if (sha256 !== undefined) selectors.add(`unix:sha256:${sha256}`);
    return Object.freeze({ pid: peer.pid, uid: status.uid, gid: status.gid, ...(path !== undefined ? { path } : {}), selectors: Object.freeze([...selectors].sort()) });
  }
}

/** Whether an entry's selectors are all among the workload's (SPIRE's rule: a subset matches). */
export function selectorsMatch(entrySelectors: readonly string[], workload: ReadonlySet<string>): boolean {
  return entrySelectors.length > 0 && entrySelectors.every((s) => workload.has(s));
}
