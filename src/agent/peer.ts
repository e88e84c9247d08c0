/**
 * Who is at the other end of a Workload API connection: the kernel's peer credentials of the Unix
 * socket (SO_PEERCRED, recorded when the caller called connect() — not something it says), and a
 * pidfd naming that very process, so that a PID the kernel has handed to another process since is
 * never mistaken for the caller (native/peercred.c; Node has no API for either).
 *
 * The pidfd comes from SO_PEERPIDFD where the kernel has it (Linux ≥ 6.5: taken at connect()
 * time, exact); on older kernels from pidfd_open(pid) right after accept — which still catches a
 * caller that exits while it is attested, the case that matters (a process that connected and
 * exited before the agent even accepted cannot read the answer: its socket is gone).
 */
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { SignetError } from '../core/errors.js';

interface Addon {
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  peerPidfd(fd: number): number;
  pidfdOpen(pid: number): number;
  pidfdAlive(pidfd: number): boolean;
}

let addon: Addon | undefined;

/** The compiled addon (build/Release/peercred.node, made by `npm ci` through node-gyp). */
function native(): Addon {
  if (addon !== undefined) return addon;
  if (process.platform !== 'linux') throw new SignetError('ERR_INTERNAL', 'workload attestation needs Linux (kernel peer credentials of Unix sockets)');
  const require = createRequire(import.meta.url);
  try {
    // dist/src/agent/peer.js → build/Release at the package root.
    addon = require('../../../build/Release/peercred.node') as Addon;
  } catch (e) {
    throw new SignetError('ERR_INTERNAL', 'the native peer-credentials addon is not built (build/Release/peercred.node)', { hint: 'run npm ci (or npx node-gyp rebuild) in the Signet package', cause: e });
  }
  return addon;
}

/** A caller of the Workload API, as the kernel knows it. */
export interface Peer {
  readonly pid: number;
  /** At connect() time; the attestor reads the process's current ones. */
  readonly uid: number;
  readonly gid: number;
  /** Open until {@link releasePeer}. */
  readonly pidfd: number;
}

/** The file descriptor of a connected Unix socket (libuv's pipe handle). */
function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new SignetError('ERR_INTERNAL', 'the connection has no file descriptor (not a Unix socket?)');
  return fd;
}

/** The peer of an accepted Unix socket connection; release it when the connection closes. */
export function peerOf(socket: Socket): Peer {
  const a = native();
  const fd = socketFd(socket);
  const cred = a.peerCredentials(fd);
  let pidfd = a.peerPidfd(fd);
  if (pidfd < 0) pidfd = a.pidfdOpen(cred.pid);
  return Object.freeze({ pid: cred.pid, uid: cred.uid, gid: cred.gid, pidfd });
}

/** A process named by its PID (`signet agent explain`), held by a pidfd like a caller; ERR_ATTESTATION_FAILED when there is none. */
export function peerOfPid(pid: number): Peer {
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(pid);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SignetError('ERR_ATTESTATION_FAILED', code === 'ESRCH' ? `there is no process ${pid}` : `process ${pid} cannot be opened (${code ?? 'error'})`, { cause: e });
  }
  return Object.freeze({ pid, uid: -1, gid: -1, pidfd });
}

/** Whether the peer's process still runs (so its PID still names it). */
export function peerAlive(peer: Peer): boolean {
  return native().pidfdAlive(peer.pidfd);
}

/** Closes the peer's pidfd. */
export function releasePeer(peer: Peer): void {
  try {
    closeSync(peer.pidfd);
  } catch {
    // already closed
  }
}
