/**
 * The SPIFFE Workload API over a Unix domain socket (the standard's gRPC service
 * `SpiffeWorkloadAPI`, proto/workload.proto), and gRPC's health service next to it.
 *
 * Every call must carry the metadata `workload.spiffe.io: true` (else INVALID_ARGUMENT: the
 * standard's guard against a browser or proxy being tricked into calling). The caller is who
 * the kernel says is at the other end of the socket (peer.ts), attested into selectors
 * (unix-attestor.ts); the entries whose selectors are all among them are its identities. None:
 * PERMISSION_DENIED — also mid-stream, when an entry that gave the identity is withdrawn.
 *
 * Streams (FetchX509SVID, FetchX509Bundles, FetchJWTBundles) send the whole current state at
 * once and again on every change (a rotation, an entry, a bundle), never the same state twice;
 * an SVID is dropped from them when it expires unrenewed (the CA away for longer than half its
 * lifetime). Fields as the standard says: DER certificates (leaf first, then intermediates),
 * unencrypted PKCS#8 keys, bundles keyed by `spiffe://<trust domain>`.
 *
 * grpc-js does not tell a handler which connection a call came in on, so the agent accepts the
 * connections itself (reading the peer credentials there), gives each socket a unique
 * `remoteAddress` (what grpc-js reports as the call's peer) and injects it into the gRPC server.
 */
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server as NetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { SignetError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../x509/template/json.js';
import { parseSpiffeId } from '../spiffe/id.js';
import { validateJwtSvid } from '../spiffe/jwt-svid.js';
import { bundleDer, jwtBundleDocument, type Agent, type AgentEntry, type AgentLog, type HeldBundle } from './agent.js';
import { peerOf, releasePeer, type Peer } from './peer.js';
import { selectorsMatch, UnixAttestor, type Attested } from './unix-attestor.js';
import { SECURITY_HEADER, workloadProto } from './workload-proto.js';
/** Largest request accepted (the requests are a few audiences or one token). */
const MAX_REQUEST_BYTES = 64 * 1024;
/** Most audiences in one FetchJWTSVID. */
const MAX_AUDIENCES = 32;

/** A gRPC status to end a call with. */
class CallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function toServiceError(e: unknown, log: AgentLog): Partial<grpc.ServiceError> {
  if (e instanceof CallError) return { code: e.code, details: e.message };
  if (e instanceof SignetError) {
    if (e.code === 'ERR_ATTESTATION_FAILED') return { code: grpc.status.PERMISSION_DENIED, details: e.message };
    if (e.code === 'ERR_CA_UNREACHABLE' || e.code === 'ERR_CA_BAD_RESPONSE') return { code: grpc.status.UNAVAILABLE, details: 'the CA cannot be reached and nothing usable is cached' };
    if (e.code === 'ERR_CA_REFUSED') return { code: grpc.status.PERMISSION_DENIED, details: e.message };
    if (e.code === 'ERR_JWT_SVID_INVALID') return { code: grpc.status.INVALID_ARGUMENT, details: e.message };
  }
  log.error({ code: e instanceof SignetError ? e.code : 'ERR_INTERNAL' }, `workload API: ${(e as Error).message}`);
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** google.protobuf.Value / Struct from JSON. */
function protoValue(v: JsonValue): Record<string, unknown> {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(protoValue) } };
  return { structValue: protoStruct(v) };
}

function protoStruct(o: Readonly<JsonObject>): Record<string, unknown> {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, protoValue(v)])) };
}

/** A running Workload API. */
export interface WorkloadApi {
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface WorkloadApiOptions {
  readonly agent: Agent;
  readonly socketPath: string;
  readonly log: AgentLog;
  readonly attestor?: UnixAttestor;
}

/** Whoever holds a socket file: a live agent (ERR_ADDRESS_IN_USE), else the stale file goes. */
async function clearStaleSocket(path: string): Promise<void> {
  let s;
  try {
    s = lstatSync(path);
  } catch {
    return;
  }
  if (!s.isSocket()) throw new SignetError('ERR_FILE_EXISTS', `${path} exists and is not a socket`, { hint: 'choose another socketPath or remove the file' });
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new SignetError('ERR_ADDRESS_IN_USE', `another agent is serving ${path}`, { hint: 'stop it first, or give this one another socketPath' });
  rmSync(path, { force: true });
}

/** Starts the Workload API on `socketPath` (mode 0777: any local process may ask; attestation decides). */
export async function startWorkloadApi(o: WorkloadApiOptions): Promise<WorkloadApi> {
  const { agent, log } = o;
  const attestor = o.attestor ?? new UnixAttestor();
  const pkg = workloadProto();
  const peers = new Map<string, Peer>();

  /** The caller's selectors and identities; refusals as gRPC statuses. */
  const identify = async (call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): Promise<{ attested: Attested; selectors: ReadonlySet<string> }> => {
    const header = call.metadata.get(SECURITY_HEADER);
    if (header.length !== 1 || header[0] !== 'true') throw new CallError(grpc.status.INVALID_ARGUMENT, 'security header missing from request');
    const peer = peers.get(call.getPeer());
    if (peer === undefined) throw new CallError(grpc.status.PERMISSION_DENIED, 'the caller could not be identified');
    const sha256 = agent.entries().some((e) => e.selectors.some((s) => s.startsWith('unix:sha256:')));
    const attested = await attestor.attest(peer, { sha256 });
    return { attested, selectors: new Set(attested.selectors) };
  };
  const identities = (selectors: ReadonlySet<string>): AgentEntry[] => agent.entries().filter((e) => selectorsMatch(e.selectors, selectors));
  const trustDomainOf = (spiffeId: string): string => parseSpiffeId(spiffeId).trustDomain;
  const noIdentity = (): CallError => new CallError(grpc.status.PERMISSION_DENIED, 'no identity issued');

  /**
   * Runs a stream: `state` computes what to send (undefined: nothing yet), or throws a CallError
   * to end the stream; sent again on every agent change, only when it differs; `expiresAt` is
   * when the state goes stale on its own (an SVID expiring).
   */
  const stream = (call: grpc.ServerWritableStream<unknown, unknown>, state: () => { message: unknown; key: string; expiresAt?: number } | undefined): void => {
    let last: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    const end = (e?: unknown): void => {
      if (ended) return;
      ended = true;
      agent.off('change', push);
      if (timer !== undefined) clearTimeout(timer);
      if (e !== undefined) call.emit('error', toServiceError(e, log));
    };
    function push(): void {
      if (ended) return;
      try {
        const s = state();
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        if (s === undefined) return;
        if (s.expiresAt !== undefined) timer = setTimeout(push, Math.max(0, Math.min(s.expiresAt - Date.now() + 10, 2_147_000_000)));
        if (s.key === last) return;
        last = s.key;
        call.write(s.message);
      } catch (e) {
        end(e);
      }
    }
    agent.on('change', push);
    call.on('cancelled', () => end());
    call.on('close', () => end());
    call.on('error', () => end());
    push();
  };

  const x509SvidState = (selectors: ReadonlySet<string>) => (): { message: unknown; key: string; expiresAt?: number } | undefined => {
    const mine = identities(selectors);
    if (mine.length === 0) throw noIdentity();
    const svids = [];
    const federated = new Map<string, Buffer>();
    const keyParts: string[] = [];
    let expiresAt = Infinity;
    for (const e of mine) {
      const s = agent.svid(e.id);
      if (s === undefined) continue;
      const td = trustDomainOf(s.spiffeId);
      const own = agent.bundle(td);
      svids.push({ spiffe_id: s.spiffeId, x509_svid: Buffer.concat(s.chain.map((d) => Buffer.from(d))), x509_svid_key: Buffer.from(s.key), bundle: own === undefined ? Buffer.alloc(0) : bundleDer(own), hint: e.hint ?? '' });
      keyParts.push(`${e.id}:${s.notAfter.getTime()}:${s.notBefore.getTime()}:${own?.document.length ?? 0}:${own?.bundle.sequence ?? ''}`);
      expiresAt = Math.min(expiresAt, s.notAfter.getTime());
      for (const f of e.federatesWith) {
        const b = agent.bundle(f);
        if (b !== undefined && f !== td) federated.set(`spiffe://${f}`, bundleDer(b));
      }
    }
    if (svids.length === 0) return undefined;
    for (const [k, v] of [...federated].sort()) keyParts.push(`${k}:${v.toString('base64')}`);
    return { message: { svids, crl: [], federated_bundles: Object.fromEntries(federated) }, key: keyParts.join('|'), ...(expiresAt !== Infinity ? { expiresAt } : {}) };
  };

  /** Trust domains whose bundles the caller receives: its identities' own, and those they federate with. */
  const bundleDomains = (selectors: ReadonlySet<string>): string[] => {
    const mine = identities(selectors);
    if (mine.length === 0) throw noIdentity();
    return [...new Set(mine.flatMap((e) => [trustDomainOf(e.spiffeId), ...e.federatesWith]))].sort();
  };

  /** A bundles stream: each of the caller's trust domains' bundle in `encode`'s form, keyed `spiffe://<td>`. */
  const bundleStream = (call: grpc.ServerWritableStream<unknown, unknown>, encode: (b: HeldBundle) => Buffer, message: (bundles: Record<string, Buffer>) => unknown): void => {
    identify(call).then(
      ({ selectors }) =>
        stream(call, () => {
          const bundles: Record<string, Buffer> = {};
          for (const td of bundleDomains(selectors)) {
            const b = agent.bundle(td);
            if (b !== undefined) bundles[`spiffe://${td}`] = encode(b);
          }
          if (Object.keys(bundles).length === 0) return undefined;
          return { message: message(bundles), key: Object.entries(bundles).map(([k, v]) => `${k}:${v.toString('base64')}`).join('|') };
        }),
      (e: unknown) => call.emit('error', toServiceError(e, log)),
    );
  };

  const handlers: grpc.UntypedServiceImplementation = {
    FetchX509SVID: (call: grpc.ServerWritableStream<unknown, unknown>) => {
      identify(call).then(
        ({ selectors }) => stream(call, x509SvidState(selectors)),
        (e: unknown) => call.emit('error', toServiceError(e, log)),
      );
    },
    FetchX509Bundles: (call: grpc.ServerWritableStream<unknown, unknown>) => bundleStream(call, bundleDer, (bundles) => ({ crl: [], bundles })),
    FetchJWTBundles: (call: grpc.ServerWritableStream<unknown, unknown>) => bundleStream(call, jwtBundleDocument, (bundles) => ({ bundles })),
    FetchJWTSVID: (call: grpc.ServerUnaryCall<{ audience: string[]; spiffe_id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      (async () => {
        const { selectors } = await identify(call);
        const { audience, spiffe_id: wanted } = call.request;
        if (audience.length === 0 || audience.every((a) => a === '')) throw new CallError(grpc.status.INVALID_ARGUMENT, 'audience must be specified');
        if (audience.length > MAX_AUDIENCES) throw new CallError(grpc.status.INVALID_ARGUMENT, `at most ${MAX_AUDIENCES} audiences`);
        let mine = identities(selectors);
        if (wanted !== '') mine = mine.filter((e) => e.spiffeId === wanted);
        if (mine.length === 0) throw noIdentity();
        const svids = [];
        for (const e of mine) {
          const j = await agent.jwtSvid(e, audience.filter((a) => a !== ''));
          svids.push({ spiffe_id: j.spiffeId, svid: j.token, hint: e.hint ?? '' });
        }
        return { svids };
      })().then(
        (r) => callback(null, r),
        (e: unknown) => callback(toServiceError(e, log) as grpc.ServiceError),
      );
    },
    ValidateJWTSVID: (call: grpc.ServerUnaryCall<{ audience: string; svid: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      (async () => {
        await identify(call);
        const { audience, svid } = call.request;
        if (audience === '') throw new CallError(grpc.status.INVALID_ARGUMENT, 'audience must be specified');
        if (svid === '') throw new CallError(grpc.status.INVALID_ARGUMENT, 'svid must be specified');
        const v = validateJwtSvid(svid, { audience, bundle: (td) => agent.bundle(td)?.bundle, now: new Date() });
        return { spiffe_id: v.id.toString(), claims: protoStruct(v.claims) };
      })().then(
        (r) => callback(null, r),
        (e: unknown) => callback(toServiceError(e, log) as grpc.ServiceError),
      );
    },
  };

  const SERVICES = new Set(['', 'SpiffeWorkloadAPI']);
  const healthStatus = (service: string): string => (SERVICES.has(service) ? (agent.ready() ? 'SERVING' : 'NOT_SERVING') : 'SERVICE_UNKNOWN');
  const health: grpc.UntypedServiceImplementation = {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!SERVICES.has(call.request.service)) return callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service.slice(0, 64))}` });
      callback(null, { status: healthStatus(call.request.service) });
    },
    Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
      stream(call, () => {
        const status = healthStatus(call.request.service);
        return { message: { status }, key: status };
      });
    },
  };

  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_REQUEST_BYTES });
  server.addService(pkg.SpiffeWorkloadAPI.service, handlers);
  server.addService(pkg.grpc.health.v1.Health.service, health);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());

  let next = 0;
  const net: NetServer = createServer((socket) => {
    let peer: Peer;
    try {
      peer = peerOf(socket);
    } catch (e) {
      log.warn({ code: e instanceof SignetError ? e.code : 'ERR_INTERNAL' }, `workload API: a connection without peer credentials was closed: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    const id = `signet-workload-${++next}`;
    Object.defineProperty(socket, 'remoteAddress', { value: id, configurable: true });
    peers.set(id, peer);
    socket.once('close', () => {
      peers.delete(id);
      releasePeer(peer);
    });
    injector.injectConnection(socket);
  });
  await clearStaleSocket(o.socketPath);
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(o.socketPath, () => {
      net.off('error', reject);
      resolve();
    });
  });
  chmodSync(o.socketPath, 0o777);
  return {
    socketPath: o.socketPath,
    async close() {
      await new Promise<void>((resolve) => {
        net.close(() => resolve());
        injector.destroy();
        server.forceShutdown();
      });
      rmSync(o.socketPath, { force: true });
    },
  };
}
