/**
 * The node agent (`signet agent run`): attests its node to the CA, keeps the SVIDs of the
 * workloads the CA lets it serve, and hands them out through the Workload API
 * (workload-api.ts) — also while the CA is away.
 *
 * - Trust: the CA's root, pinned by fingerprint (fetched once, then kept in the data directory)
 *   or given as a file; every request verifies the CA's TLS certificate against it.
 * - Node attestation: a join token (single use), a node certificate (x509pop: a proof of
 *   possession) or the node's TPM (tpm.ts) gives the agent SVID; the agent renews it over mTLS at
 *   half of what was left of it on arrival, with a new key, and attests again when it has none
 *   that is still valid or the CA has evicted it (a used join token cannot: the operator gives a
 *   new one).
 * - Entries: a long poll (`GET /spiffe/agent/entries?after=REV&wait=…`) that the CA answers as
 *   soon as an entry changes — push, not a polling interval — with the entries the agent may
 *   serve (once synced in this run, only the changes: `&delta=1`) and the bundles its workloads
 *   receive.
 * - SVIDs: workload keys are made here (P-256) and never leave the node; CSRs go to the CA in
 *   batches; each SVID is rotated at about half of its lifetime with ±10 % jitter, so a fleet
 *   that started together does not come back together.
 * - Cache: everything above (agent key, SVIDs with their keys, entries, bundles, JWT-SVIDs) is
 *   kept in `DATA_DIR/agent-state.json`, mode 0600, written atomically at most once a second: a
 *   restarted agent serves at once, before it has reached the CA. Expired SVIDs are never served.
 * - Failover: the servers of the config are tried in turn; errors back off from 1 s to 5 s (±10 %).
 */
import { EventEmitter } from 'node:events';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mintRenewalToken } from '../ca/token.js';
import { fetchPinnedRoot } from '../client/bootstrap.js';
import { createCaClient, type CaClient, type ClientIdentity } from '../client/http.js';
import { systemClock, type Clock } from '../core/clock.js';
import { fsError, writeOutputFile } from '../core/files.js';
import { SignetError } from '../core/errors.js';
import { decodePem, decodePemAll, encodeCertificatesPem, encodePem } from '../core/pem.js';
import { generateKeyPairSync } from '../crypto/generate.js';
import { createSoftwareSigner } from '../crypto/signer.js';
import { parseBundle, type TrustBundle } from '../spiffe/bundle.js';
import { parseCertificate } from '../x509/certificate.js';
import { buildCsr } from '../x509/csr.js';
import type { AgentConfig } from './config.js';
import { NodeTpm } from './tpm.js';

/** How long one entries long poll waits at the CA (the CA allows up to 60 s). */
const ENTRIES_WAIT_S = 30;
/** Largest batch of SVIDs asked for at once (the CA takes up to 500). */
const BATCH = 500;
/** Backoff between failed rounds. */
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;
/** The longest a rotation timer is set for (timers drift; the round re-checks). */
const MAX_TIMER_MS = 3_600_000;
/** JWT-SVIDs remembered (per entry and audience set). */
const MAX_JWT_CACHE = 10_000;
const STATE_FILE = 'agent-state.json';
/**
 * Largest answer taken from the CA: a node's whole entry list (about 250 bytes an entry: 100,000
 * entries fit) or a batch of 500 SVIDs with their chains — the client's 1 MiB default held only
 * about 4,000 entries.
 */
const MAX_CA_ANSWER_BYTES = 64 * 1024 * 1024;
/** An agent whose last sync is older than this asks for its whole entry list, not the changes. */
const DELTA_MAX_AGE_MS = 24 * 3_600_000;
/** Least time between two writes of the state file. */
const SAVE_INTERVAL_MS = 1_000;
const ROOT_FILE = 'root.pem';

/** An entry as the agent holds it (from the CA's JSON). */
export interface AgentEntry {
  readonly id: string;
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly federatesWith: readonly string[];
  readonly hint?: string;
  readonly revision: number;
}

/** An X509-SVID the agent holds for an entry. */
export interface HeldSvid {
  readonly entryId: string;
  readonly entryRevision: number;
  readonly spiffeId: string;
  /** DER, leaf first. */
  readonly chain: readonly Uint8Array[];
  /** Unencrypted PKCS#8 DER (served to the workload; on disk only in the 0600 state file). */
  readonly key: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly rotateAt: Date;
}

/** A JWT-SVID the agent holds. */
interface HeldJwt {
  readonly token: string;
  readonly spiffeId: string;
  readonly expiresAt: Date;
  readonly rotateAt: Date;
}

/** A trust domain's bundle as the agent holds it: parsed, and its document. */
export interface HeldBundle {
  readonly bundle: TrustBundle;
  readonly document: string;
}

/** The agent SVID. */
interface AgentSvid {
  readonly spiffeId: string;
  readonly chain: readonly string[];
  readonly key: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Half of what was left of its validity when it arrived (certificates are backdated: half of notBefore..notAfter can be past already). */
  readonly renewAt: Date;
}

/** What `agent-state.json` holds. */
interface StateFile {
  version: 1;
  agent: { spiffeId: string; chain: string[]; key: string; notBefore: string; notAfter: string; renewAt?: string } | null;
  revision: number | null;
  entries: AgentEntry[];
  bundles: Record<string, string>;
  svids: { entryId: string; entryRevision: number; spiffeId: string; chain: string[]; key: string; notBefore: string; notAfter: string; rotateAt: string }[];
  jwts: { key: string; token: string; spiffeId: string; expiresAt: string; rotateAt: string }[];
}

/** Logging the agent does (pino's shape). */
export interface AgentLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly log: AgentLog;
  readonly clock?: Clock;
  /** Randomness for jitter, in [0, 1) (tests). */
  readonly random?: () => number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** The errors after which another server may do better (the CA is away or broken, not refusing). */
function unreachable(e: unknown): boolean {
  return e instanceof SignetError && (e.code === 'ERR_CA_UNREACHABLE' || e.code === 'ERR_CA_BAD_RESPONSE' || (e.code === 'ERR_CA_REFUSED' && Number((e.detail as { status?: unknown } | undefined)?.status) >= 500));
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SignetError('ERR_CA_BAD_RESPONSE', `the CA's answer to ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function str(o: Record<string, unknown>, name: string, what: string): string {
  const v = o[name];
  if (typeof v !== 'string') throw new SignetError('ERR_CA_BAD_RESPONSE', `the CA's answer to ${what} has no "${name}"`);
  return v;
}

function strings(o: Record<string, unknown>, name: string, what: string): string[] {
  const v = o[name];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new SignetError('ERR_CA_BAD_RESPONSE', `the CA's answer to ${what} has no "${name}" list`);
  return v;
}

/** A new P-256 key and a CSR for it (the CA names the SVID from the entry, not from the CSR). */
function keyAndCsr(): { key: KeyObject; csr: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: privateKey, csr: encodePem('CERTIFICATE REQUEST', buildCsr({ subject: [] }, createSoftwareSigner(privateKey))) };
}

/** Writes `data` to `path` with mode 0600: temp file, fsync, rename. */
const writePrivateFile = (path: string, data: string): void => writeOutputFile(path, data, { mode: 0o600, force: true });

/** The node agent. Event: `change` (SVIDs, entries or bundles changed). */
export class Agent extends EventEmitter {
  readonly #c: AgentConfig;
  readonly #log: AgentLog;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #abort = new AbortController();
  #root: string | undefined;
  #clients: CaClient[] = [];
  #server = 0;
  #agent: AgentSvid | undefined;
  #revision: number | undefined;
  #entries = new Map<string, AgentEntry>();
  #bundles = new Map<string, HeldBundle>();
  #svids = new Map<string, HeldSvid>();
  #jwts = new Map<string, HeldJwt>();
  #rotation: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #reconciling: Promise<void> | undefined;
  #again = false;
  /** Set once entries were received from the CA (or from the cache). */
  #synced = false;
  /** When entries last came from the CA in this run (0: not yet; a cache loaded from disk does not count). */
  #syncedAt = 0;
  /** State-file writes: when the last one started, how long it took, the one pending. */
  #savedAt = 0;
  #saveMs = 0;
  #saveTimer: NodeJS.Timeout | undefined;

  constructor(o: AgentOptions) {
    super();
    this.setMaxListeners(0);
    this.#c = o.config;
    this.#log = o.log;
    this.#clock = o.clock ?? systemClock;
    this.#random = o.random ?? Math.random;
  }

  get config(): AgentConfig {
    return this.#c;
  }

  /** The agent's SPIFFE ID, once attested. */
  get spiffeId(): string | undefined {
    return this.#agent?.spiffeId;
  }

  /** Loads the cache and starts the work with the CA in the background; resolves at once. */
  start(): void {
    mkdirSync(this.#c.dataDir, { recursive: true, mode: 0o700 });
    this.#loadState();
    if (this.#synced) this.emit('change');
    this.#loop = this.#run();
  }

  /** Stops talking to the CA (what is cached stays). */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#rotation !== undefined) clearTimeout(this.#rotation);
    for (const c of this.#clients) c.close();
    await this.#loop;
    await this.#reconciling;
    if (this.#saveTimer !== undefined) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      this.#writeState();
    }
  }

  /** Whether the agent can serve: it has a bundle of its own trust domain. */
  ready(): boolean {
    return this.#bundles.has(this.#c.trustDomain);
  }

  /** The entries the agent may serve. */
  entries(): readonly AgentEntry[] {
    return [...this.#entries.values()];
  }

  /** The SVID held for an entry, when one is valid now. */
  svid(entryId: string): HeldSvid | undefined {
    const s = this.#svids.get(entryId);
    return s !== undefined && s.notAfter.getTime() > this.#clock.now().getTime() ? s : undefined;
  }

  /** The bundle of a trust domain, when held. */
  bundle(trustDomain: string): HeldBundle | undefined {
    return this.#bundles.get(trustDomain);
  }

  /**
   * A JWT-SVID for `entry` and `audience`: the held one while it is before its rotation time,
   * else a new one from the CA; while the CA cannot be reached, the held one until it expires.
   */
  async jwtSvid(entry: AgentEntry, audience: readonly string[]): Promise<{ token: string; spiffeId: string; expiresAt: Date }> {
    const key = `${entry.id}\n${[...new Set(audience)].sort().join('\n')}`;
    const now = this.#clock.now().getTime();
    const held = this.#jwts.get(key);
    if (held !== undefined && held.rotateAt.getTime() > now) return held;
    try {
      const r = asObject((await this.#call({ path: '/spiffe/agent/svids', json: { jwt: [{ entryId: entry.id, audience: [...audience] }] } })).json, '/spiffe/agent/svids');
      const item = asObject(Array.isArray(r.jwt) ? r.jwt[0] : undefined, '/spiffe/agent/svids');
      if (item.error !== undefined) {
        const err = asObject(item.error, '/spiffe/agent/svids');
        throw new SignetError('ERR_CA_REFUSED', `the CA refused a JWT-SVID for ${entry.spiffeId}: ${String(err.message)}`, { detail: { caCode: err.code } });
      }
      const expiresAt = new Date(str(item, 'expiresAt', '/spiffe/agent/svids'));
      const issuedAt = this.#clock.now().getTime();
      const jwt: HeldJwt = { token: str(item, 'token', '/spiffe/agent/svids'), spiffeId: str(item, 'spiffeId', '/spiffe/agent/svids'), expiresAt, rotateAt: new Date(issuedAt + (expiresAt.getTime() - issuedAt) / 2) };
      this.#jwts.delete(key);
      if (this.#jwts.size >= MAX_JWT_CACHE) this.#jwts.delete(this.#jwts.keys().next().value as string);
      this.#jwts.set(key, jwt);
      this.#saveState();
      return jwt;
    } catch (e) {
      if (held !== undefined && held.expiresAt.getTime() > this.#clock.now().getTime() && unreachable(e)) return held;
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // the work with the CA

  async #run(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        await this.#ensureRoot();
        await this.#ensureAgentSvid();
        // What the cache holds may be due (a restart after a while): rotate before waiting on entries.
        if (this.#synced) await this.#reconcile();
        await this.#syncEntries();
        backoff = MIN_BACKOFF_MS;
      } catch (e) {
        if (signal.aborted) break;
        const err = e instanceof SignetError ? e : new SignetError('ERR_INTERNAL', (e as Error).message);
        this.#log.warn({ code: err.code, server: this.#clients[this.#server]?.url ?? this.#c.servers[this.#server] }, `agent: ${err.message}`);
        if (err.code === 'ERR_AGENT_NOT_FOUND' && this.#agent !== undefined) {
          // Evicted (signet agent evict): its SVID is worth nothing now, attest again.
          this.#log.warn({ agent: this.#agent.spiffeId }, 'agent: the CA no longer knows this agent; attesting again');
          this.#agent = undefined;
        }
        if (unreachable(e)) this.#server = (this.#server + 1) % this.#c.servers.length;
        await sleep(backoff * (0.9 + 0.2 * this.#random()), signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async #ensureRoot(): Promise<void> {
    if (this.#root !== undefined) return;
    const trust = this.#c.trust;
    let pem: string;
    if ('rootFile' in trust) pem = readFileSync(trust.rootFile, 'utf8');
    else {
      const saved = join(this.#c.dataDir, ROOT_FILE);
      let held: string | undefined;
      try {
        held = readFileSync(saved, 'utf8');
        if (parseCertificate(decodePem(held, ['CERTIFICATE']).der).fingerprintSha256 !== trust.rootFingerprint) held = undefined;
      } catch {
        held = undefined;
      }
      if (held === undefined) {
        const url = this.#c.servers[this.#server] as string;
        held = (await fetchPinnedRoot(url, trust.rootFingerprint)).pem;
        writePrivateFile(saved, held);
        this.#log.info({ server: url, fingerprint: trust.rootFingerprint }, 'agent: root pinned');
      }
      pem = held;
    }
    this.#root = pem;
    this.#clients = this.#c.servers.map((url) => createCaClient({ url, roots: pem, keepAlive: true, timeoutMs: (ENTRIES_WAIT_S + 15) * 1000, maxResponseBytes: MAX_CA_ANSWER_BYTES }));
  }

  #identity(): ClientIdentity | undefined {
    return this.#agent === undefined ? undefined : { certificateChain: this.#agent.chain.join(''), key: this.#agent.key };
  }

  /** One request to the current server (with the agent SVID once there is one). */
  #call(req: { method?: 'GET' | 'POST'; path: string; json?: unknown }, anonymous = false): ReturnType<CaClient['request']> {
    const client = this.#clients[this.#server];
    if (client === undefined) return Promise.reject(new SignetError('ERR_CA_UNREACHABLE', 'the agent has not reached its CA yet'));
    const identity = anonymous ? undefined : this.#identity();
    return client.request({ ...req, ...(identity !== undefined ? { identity } : {}) });
  }

  #takeAgentSvid(json: unknown, key: KeyObject, what: string): void {
    const o = asObject(json, what);
    const chain = strings(o, 'svid', what);
    const leaf = parseCertificate(decodePem(chain[0] ?? '', ['CERTIFICATE']).der);
    const now = this.#clock.now().getTime();
    this.#agent = { spiffeId: str(o, 'spiffeId', what), chain, key, notBefore: leaf.notBefore, notAfter: leaf.notAfter, renewAt: new Date(now + Math.max(0, leaf.notAfter.getTime() - now) / 2) };
    if (typeof o.bundle === 'string') this.#takeBundles({ [this.#c.trustDomain]: o.bundle });
    this.#saveState();
  }

  async #ensureAgentSvid(): Promise<void> {
    const now = this.#clock.now().getTime();
    const a = this.#agent;
    if (a !== undefined && a.notAfter.getTime() > now) {
      if (now < a.renewAt.getTime()) return;
      const { key, csr } = keyAndCsr();
      try {
        this.#takeAgentSvid((await this.#call({ path: '/spiffe/agent/renew', json: { csr } })).json, key, '/spiffe/agent/renew');
        this.#log.info({ agent: this.#agent?.spiffeId, notAfter: this.#agent?.notAfter.toISOString() }, 'agent: agent SVID renewed');
        return;
      } catch (e) {
        // Still valid: try again next round; the workloads are served meanwhile.
        if (unreachable(e) || a.notAfter.getTime() > this.#clock.now().getTime()) throw e;
      }
    }
    // None, or expired: attest (again).
    const { key, csr } = keyAndCsr();
    const body = { ...(await this.#attestation()), trustDomain: this.#c.trustDomain, csr };
    this.#takeAgentSvid((await this.#call({ path: '/spiffe/agent/attest', json: body }, true)).json, key, '/spiffe/agent/attest');
    // A new attestation may bring other node selectors (another node certificate, another agent
    // ID), so other node aliases: which entries the agent serves can change without any entry
    // changing. The next sync asks for the whole list at once — neither the changes since its
    // revision, nor a long poll that would wait for an entry change before answering.
    this.#synced = false;
    this.#log.info({ agent: this.#agent?.spiffeId, attestor: body.attestor }, 'agent: attested');
  }

  /**
   * The attestor's part of an attestation request: the join token; an x509pop proof of
   * possession for the current server; or TPM evidence with the answer to the CA's challenge
   * (a first round trip).
   */
  async #attestation(): Promise<{ readonly attestor: string } & Record<string, string>> {
    const a = this.#c.attestor;
    if (a.kind === 'tpm') {
      const tpm = new NodeTpm({ tcti: a.tcti, ek: a.ek, workDir: join(this.#c.dataDir, 'tpm') });
      let intermediates: string | undefined;
      if (a.intermediatesFile !== undefined) {
        try {
          intermediates = readFileSync(a.intermediatesFile, 'utf8');
        } catch (e) {
          throw fsError(e, a.intermediatesFile, 'EK intermediates file');
        }
      }
      const evidence = { attestor: 'tpm', trustDomain: this.#c.trustDomain, ...(await tpm.evidence()), ...(intermediates !== undefined && { intermediates }) };
      const answer = asObject((await this.#call({ path: '/spiffe/agent/attest', json: evidence }, true)).json, '/spiffe/agent/attest');
      const challenge = asObject(answer.challenge, '/spiffe/agent/attest');
      const secret = await tpm.activate(Buffer.from(str(challenge, 'credentialBlob', 'the challenge'), 'base64'), Buffer.from(str(challenge, 'encryptedSecret', 'the challenge'), 'base64'));
      return { ...evidence, challengeId: str(challenge, 'id', 'the challenge'), secret: secret.toString('base64') };
    }
    const read = (file: string, what: string, secret: boolean): string => {
      try {
        const mode = secret ? statSync(file).mode & 0o777 : 0;
        if ((mode & 0o077) !== 0) throw new SignetError('ERR_FILE_PERMISSION', `the ${what} ${file} may be read by others (mode ${mode.toString(8)})`, { hint: `chmod 600 ${file}` });
        return readFileSync(file, 'utf8');
      } catch (e) {
        throw fsError(e, file, what);
      }
    };
    if (a.kind === 'join_token') return { attestor: 'join_token', token: read(a.tokenFile, 'join token file', false).trim() };
    const certs = decodePemAll(read(a.certFile, 'x509pop certificate file', false)).filter((b) => b.label === 'CERTIFICATE');
    const node = certs[0];
    if (node === undefined) throw new SignetError('ERR_PEM_MALFORMED', `${a.certFile} holds no certificate`);
    let key: KeyObject;
    try {
      key = createPrivateKey(read(a.keyFile, 'x509pop key file', true));
    } catch (e) {
      if (e instanceof SignetError) throw e;
      throw new SignetError('ERR_KEY_MALFORMED', `${a.keyFile} is not an unencrypted PEM private key`, { cause: e });
    }
    const audience = `${this.#c.servers[this.#server] ?? ''}/spiffe/agent/attest`;
    const token = await mintRenewalToken({ certificate: node.der, key, serial: parseCertificate(node.der).serialHex, audience, now: this.#clock.now() });
    return { attestor: 'x509pop', token, ...(certs.length > 1 && { intermediates: encodeCertificatesPem(certs.slice(1).map((c) => c.der)) }) };
  }

  async #syncEntries(): Promise<void> {
    const asked = Date.now();
    const polling = this.#synced && this.#revision !== undefined;
    // Only the changes, when the agent's list is known to be current up to its revision (synced
    // with the CA in this run, recently: the CA keeps deleted entries' tombstones for a week).
    const delta = polling && asked - this.#syncedAt < DELTA_MAX_AGE_MS;
    const path = !polling ? '/spiffe/agent/entries' : `/spiffe/agent/entries?after=${this.#revision ?? 0}&wait=${ENTRIES_WAIT_S}s${delta ? '&delta=1' : ''}`;
    const r = asObject((await this.#call({ method: 'GET', path })).json, '/spiffe/agent/entries');
    const list = r.entries;
    if (!Array.isArray(list)) throw new SignetError('ERR_CA_BAD_RESPONSE', 'the CA\'s answer to /spiffe/agent/entries has no "entries" list');
    const received = list.map((x): AgentEntry => {
      const e = asObject(x, '/spiffe/agent/entries');
      const hint = typeof e.hint === 'string' ? e.hint : undefined;
      return { id: str(e, 'id', 'an entry'), spiffeId: str(e, 'spiffeId', 'an entry'), selectors: strings(e, 'selectors', 'an entry'), federatesWith: strings(e, 'federatesWith', 'an entry'), ...(hint !== undefined ? { hint } : {}), revision: Number(e.revision) };
    });
    const revision = Number(r.revision);
    let changed: boolean;
    if (delta && r.delta === true) {
      const removed = strings(r, 'removed', '/spiffe/agent/entries');
      changed = received.length > 0 || removed.some((id) => this.#entries.has(id));
      for (const id of removed) this.#entries.delete(id);
      for (const e of received) this.#entries.set(e.id, e);
    } else {
      changed = !this.#synced || revision !== this.#revision || received.length !== this.#entries.size;
      this.#entries = new Map(received.map((e) => [e.id, e]));
    }
    this.#revision = revision;
    this.#synced = true;
    this.#syncedAt = Date.now();
    const documents = typeof r.bundles === 'object' && r.bundles !== null && !Array.isArray(r.bundles) ? (r.bundles as Record<string, unknown>) : undefined;
    const bundlesChanged = this.#takeBundles(documents ?? {}, documents !== undefined);
    if (changed || bundlesChanged) {
      this.#saveState();
      this.emit('change');
    }
    await this.#reconcile();
    // A long poll that came back at once with nothing new (a CA shutting down, a proxy cutting
    // it short) must not turn into a busy loop.
    if (polling && !changed && !bundlesChanged && Date.now() - asked < MIN_BACKOFF_MS) await sleep(MIN_BACKOFF_MS, this.#abort.signal);
  }

  /** Takes the bundles of `documents` (and, when `complete`, drops the foreign ones missing from it); true when one changed. A bundle that does not parse is kept out (and logged). */
  #takeBundles(documents: Record<string, unknown>, complete = false): boolean {
    let changed = false;
    // `complete`: the CA's answer to an entries sync, which carries every bundle the agent's
    // workloads may use. A foreign trust domain's bundle it no longer sends (the federation
    // relationship removed, no entry federating with it any more) is withdrawn from the
    // workloads. The agent's own trust domain's bundle is only ever replaced.
    for (const td of complete ? [...this.#bundles.keys()] : []) {
      if (td === this.#c.trustDomain || td in documents) continue;
      this.#bundles.delete(td);
      this.#log.info({ trustDomain: td }, `agent: the bundle of ${td} is withdrawn`);
      changed = true;
    }
    for (const [td, doc] of Object.entries(documents)) {
      if (typeof doc !== 'string' || this.#bundles.get(td)?.document === doc) continue;
      try {
        this.#bundles.set(td, { bundle: parseBundle(doc, td), document: doc });
        changed = true;
      } catch (e) {
        this.#log.warn({ trustDomain: td, code: (e as SignetError).code }, `agent: the bundle of ${td} is not usable: ${(e as Error).message}`);
      }
    }
    return changed;
  }

  /** Issues what is missing or due, drops what no entry needs; one round at a time. */
  #reconcile(): Promise<void> {
    if (this.#reconciling !== undefined) {
      this.#again = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      try {
        do {
          this.#again = false;
          await this.#reconcileOnce();
        } while (this.#again && !this.#abort.signal.aborted);
      } finally {
        this.#reconciling = undefined;
      }
    })();
    return this.#reconciling;
  }

  async #reconcileOnce(): Promise<void> {
    let changed = false;
    for (const id of [...this.#svids.keys()]) {
      if (!this.#entries.has(id)) {
        this.#svids.delete(id);
        changed = true;
      }
    }
    for (const key of [...this.#jwts.keys()]) if (!this.#entries.has(key.slice(0, key.indexOf('\n')))) this.#jwts.delete(key);
    const now = this.#clock.now().getTime();
    const due = [...this.#entries.values()].filter((e) => {
      const s = this.#svids.get(e.id);
      return s === undefined || s.entryRevision !== e.revision || s.rotateAt.getTime() <= now;
    });
    try {
      for (let i = 0; i < due.length; i += BATCH) {
        const part = due.slice(i, i + BATCH).map((e) => ({ entry: e, ...keyAndCsr() }));
        const r = asObject((await this.#call({ path: '/spiffe/agent/svids', json: { x509: part.map((p) => ({ entryId: p.entry.id, csr: p.csr })) } })).json, '/spiffe/agent/svids');
        const items = Array.isArray(r.x509) ? r.x509 : [];
        part.forEach((p, j) => {
          const item = asObject(items[j], '/spiffe/agent/svids');
          if (item.error !== undefined) {
            const err = asObject(item.error, '/spiffe/agent/svids');
            this.#log.warn({ entry: p.entry.id, spiffeId: p.entry.spiffeId, code: err.code }, `agent: no SVID for ${p.entry.spiffeId}: ${String(err.message)}`);
            return;
          }
          const chain = strings(item, 'svid', '/spiffe/agent/svids').map((pem) => decodePem(pem, ['CERTIFICATE']).der);
          const leaf = parseCertificate(chain[0] as Uint8Array);
          // About half of what is left of its validity (it is backdated), ±10 % of that.
          const left = Math.max(0, leaf.notAfter.getTime() - now);
          const rotateAt = new Date(now + left * (0.4 + 0.2 * this.#random()));
          this.#svids.set(p.entry.id, { entryId: p.entry.id, entryRevision: p.entry.revision, spiffeId: p.entry.spiffeId, chain, key: new Uint8Array(p.key.export({ format: 'der', type: 'pkcs8' })), notBefore: leaf.notBefore, notAfter: leaf.notAfter, rotateAt });
          changed = true;
        });
      }
    } finally {
      if (changed) {
        this.#saveState();
        this.emit('change');
      }
      this.#scheduleRotation();
    }
  }

  #scheduleRotation(): void {
    if (this.#rotation !== undefined) clearTimeout(this.#rotation);
    if (this.#abort.signal.aborted) return;
    let next = Infinity;
    for (const s of this.#svids.values()) next = Math.min(next, s.rotateAt.getTime());
    if (this.#agent !== undefined) next = Math.min(next, this.#agent.renewAt.getTime());
    if (next === Infinity) return;
    const ms = Math.min(Math.max(next - this.#clock.now().getTime(), 1_000), MAX_TIMER_MS);
    this.#rotation = setTimeout(() => {
      this.#ensureAgentSvid()
        .then(() => this.#reconcile())
        .catch((e: unknown) => {
          this.#log.warn({ code: (e as SignetError).code }, `agent: rotation: ${(e as Error).message}`);
          this.#scheduleRotation();
        });
    }, ms);
    this.#rotation.unref();
  }

  // -------------------------------------------------------------------------------------------
  // the state file

  /**
   * Writes the state file soon: at once when the last write is at least SAVE_INTERVAL_MS (or ten
   * times its own duration: a large cache) ago, else once when that time has passed — a burst of
   * changes (a fleet's worth of entries arriving) costs one write, not one per change. Pending
   * writes are flushed by stop().
   */
  #saveState(): void {
    if (this.#saveTimer !== undefined) return;
    const wait = this.#savedAt + Math.max(SAVE_INTERVAL_MS, 10 * this.#saveMs) - Date.now();
    if (wait <= 0) return this.#writeState();
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#writeState();
    }, wait);
    this.#saveTimer.unref();
  }

  #writeState(): void {
    this.#savedAt = Date.now();
    const a = this.#agent;
    const state: StateFile = {
      version: 1,
      agent: a === undefined ? null : { spiffeId: a.spiffeId, chain: [...a.chain], key: a.key.export({ format: 'der', type: 'pkcs8' }).toString('base64'), notBefore: a.notBefore.toISOString(), notAfter: a.notAfter.toISOString(), renewAt: a.renewAt.toISOString() },
      revision: this.#synced ? (this.#revision ?? null) : null,
      entries: [...this.#entries.values()],
      bundles: Object.fromEntries([...this.#bundles].map(([td, b]) => [td, b.document])),
      svids: [...this.#svids.values()].map((s) => ({ entryId: s.entryId, entryRevision: s.entryRevision, spiffeId: s.spiffeId, chain: s.chain.map((d) => Buffer.from(d).toString('base64')), key: Buffer.from(s.key).toString('base64'), notBefore: s.notBefore.toISOString(), notAfter: s.notAfter.toISOString(), rotateAt: s.rotateAt.toISOString() })),
      jwts: [...this.#jwts].map(([key, j]) => ({ key, token: j.token, spiffeId: j.spiffeId, expiresAt: j.expiresAt.toISOString(), rotateAt: j.rotateAt.toISOString() })),
    };
    try {
      writePrivateFile(join(this.#c.dataDir, STATE_FILE), JSON.stringify(state));
    } catch (e) {
      this.#log.error({ code: 'ERR_FILE_IO' }, `agent: the state file could not be written: ${(e as Error).message}`);
    }
    this.#saveMs = Date.now() - this.#savedAt;
  }

  #loadState(): void {
    const file = join(this.#c.dataDir, STATE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    try {
      const s = JSON.parse(text) as StateFile;
      if (s.version !== 1) throw new Error(`unknown version ${String(s.version)}`);
      if (s.agent !== null) {
        const key = createPrivateKey({ key: Buffer.from(s.agent.key, 'base64'), format: 'der', type: 'pkcs8' });
        const notBefore = new Date(s.agent.notBefore);
        const notAfter = new Date(s.agent.notAfter);
        const renewAt = s.agent.renewAt === undefined ? new Date((notBefore.getTime() + notAfter.getTime()) / 2) : new Date(s.agent.renewAt);
        this.#agent = { spiffeId: s.agent.spiffeId, chain: s.agent.chain, key, notBefore, notAfter, renewAt };
      }
      this.#entries = new Map(s.entries.map((e) => [e.id, e]));
      this.#takeBundles(s.bundles);
      for (const v of s.svids) {
        this.#svids.set(v.entryId, { entryId: v.entryId, entryRevision: v.entryRevision, spiffeId: v.spiffeId, chain: v.chain.map((d) => new Uint8Array(Buffer.from(d, 'base64'))), key: new Uint8Array(Buffer.from(v.key, 'base64')), notBefore: new Date(v.notBefore), notAfter: new Date(v.notAfter), rotateAt: new Date(v.rotateAt) });
      }
      for (const j of s.jwts) this.#jwts.set(j.key, { token: j.token, spiffeId: j.spiffeId, expiresAt: new Date(j.expiresAt), rotateAt: new Date(j.rotateAt) });
      if (s.revision !== null) {
        this.#revision = s.revision;
        this.#synced = true;
      }
      this.#log.info({ svids: this.#svids.size, entries: this.#entries.size }, 'agent: cache loaded');
    } catch (e) {
      // A damaged cache costs a round trip to the CA, nothing else.
      this.#log.warn({ file }, `agent: the state file is not usable, starting afresh: ${(e as Error).message}`);
      this.#agent = undefined;
      this.#entries.clear();
      this.#bundles.clear();
      this.#svids.clear();
      this.#jwts.clear();
    }
  }
}

/** What an agent's state file says it holds (for `signet agent explain`; read-only, the agent may be running). */
export interface HeldState {
  readonly entries: readonly AgentEntry[];
  /** Expiry of the SVID held per entry ID. */
  readonly svids: ReadonlyMap<string, Date>;
  readonly agentId?: string;
}

/** Reads dataDir's state file (ERR_FILE_NOT_FOUND before the agent's first run, ERR_FILE_PERMISSION unless run as the agent's user or root). */
export function readHeldState(dataDir: string): HeldState {
  const file = join(dataDir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = fsError(e, file, 'agent state file');
    throw new SignetError(err.code, err.message, { hint: err.code === 'ERR_FILE_NOT_FOUND' ? 'has the agent run with this dataDir yet?' : 'run this as the agent\'s user (or root)', cause: e });
  }
  let s: StateFile;
  try {
    s = JSON.parse(text) as StateFile;
    if (s.version !== 1 || !Array.isArray(s.entries) || !Array.isArray(s.svids)) throw new Error('unknown layout');
  } catch (e) {
    throw new SignetError('ERR_JSON_MALFORMED', `${file} is not an agent state file Signet can read`, { cause: e });
  }
  return { entries: s.entries, svids: new Map(s.svids.map((v) => [v.entryId, new Date(v.notAfter)])), ...(s.agent !== null && { agentId: s.agent.spiffeId }) };
}

/** The DER certificates of a held bundle, concatenated (the Workload API's form). */
export function bundleDer(b: HeldBundle): Buffer {
  return Buffer.concat(b.bundle.x509Authorities.map((d) => Buffer.from(d)));
}

/** A held bundle's JWT authorities as a JWK Set document. */
export function jwtBundleDocument(b: HeldBundle): Buffer {
  const doc = JSON.parse(b.document) as { keys?: { use?: string }[] };
  return Buffer.from(JSON.stringify({ keys: (doc.keys ?? []).filter((k) => k.use === 'jwt-svid') }));
}

