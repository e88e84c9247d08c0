/**
 * "Why has this workload no identity?" — the selectors the agent's attestor derives for a process
 * (the same attestor, the same rule for hashing the executable) against the entries the agent
 * holds (its state file), with what each entry is missing.
 */
import { readHeldState } from './agent.js';
import { peerOfPid, releasePeer } from './peer.js';
import { selectorsMatch, UnixAttestor } from './unix-attestor.js';

export interface EntryVerdict {
  readonly id: string;
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly matches: boolean;
  /** The entry's selectors the process does not have. */
  readonly missing: readonly string[];
  /** When the SVID the agent holds for the entry expires (none yet: undefined). */
  readonly svidExpiresAt?: Date;
}

export interface Explanation {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  readonly path?: string;
  readonly selectors: readonly string[];
  readonly agentId?: string;
  /** Matching entries first, then by SPIFFE ID. */
  readonly entries: readonly EntryVerdict[];
}

/** Explains what the agent whose data directory is `dataDir` would give process `pid`. */
export async function explainProcess(pid: number, dataDir: string, attestor: UnixAttestor = new UnixAttestor()): Promise<Explanation> {
  const held = readHeldState(dataDir);
  const peer = peerOfPid(pid);
  try {
    const sha256 = held.entries.some((e) => e.selectors.some((s) => s.startsWith('unix:sha256:')));
    const a = await attestor.attest(peer, { sha256 });
    const have = new Set(a.selectors);
    const entries = held.entries
      .map((e): EntryVerdict => {
        const expires = held.svids.get(e.id);
        return { id: e.id, spiffeId: e.spiffeId, selectors: e.selectors, matches: selectorsMatch(e.selectors, have), missing: e.selectors.filter((s) => !have.has(s)), ...(expires !== undefined && { svidExpiresAt: expires }) };
      })
      .sort((x, y) => Number(y.matches) - Number(x.matches) || x.spiffeId.localeCompare(y.spiffeId) || x.id.localeCompare(y.id));
    return { pid, uid: a.uid, gid: a.gid, ...(a.path !== undefined && { path: a.path }), selectors: a.selectors, ...(held.agentId !== undefined && { agentId: held.agentId }), entries };
  } finally {
    releasePeer(peer);
  }
}
