/**
 * A SPIFFE Workload API client for Node programs (and for `signet svid …`): fetch or watch this
 * process's X509-SVIDs and bundles, fetch and validate JWT-SVIDs. It speaks the standard gRPC
 * service, so it works with Signet's agent and with any other Workload API (SPIRE's agent).
 *
 * The endpoint is `unix:///path` (or `unix:/path`) or `tcp://ip:port`, by default from
 * SPIFFE_ENDPOINT_SOCKET. Refusals come back as SignetErrors: ERR_WORKLOAD_NO_IDENTITY when the
 * API has nothing for this process (PERMISSION_DENIED), ERR_WORKLOAD_API for everything else
 * (unreachable, timed out, a refused request), with the gRPC status in `detail.status`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { SignetError } from '../core/errors.js';
import { parseBundle, type TrustBundle } from '../spiffe/bundle.js';
import { parseSpiffeId, parseTrustDomain } from '../spiffe/id.js';
import { children } from '../x509/der-reader.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import type { JsonObject, JsonValue } from '../x509/template/json.js';
import { ENDPOINT_ENV, SECURITY_HEADER, workloadProto } from './workload-proto.js';

/** How long a one-shot call (or the first message of a stream) may take by default. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** Backoff between reconnections of a watch. */
const WATCH_RETRY_MS = [500, 1_000, 2_000, 5_000] as const;

/** One X509-SVID with its private key. */
export interface X509Svid {
  readonly spiffeId: string;
  /** DER certificates, leaf first, then intermediates. */
  readonly chain: readonly Uint8Array[];
  readonly privateKey: KeyObject;
  readonly hint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Everything FetchX509SVID says at one moment. */
export interface X509Context {
  /** The process's SVIDs; the first is its default identity. */
  readonly svids: readonly X509Svid[];
  /** X.509 authorities (DER) by trust domain: the SVIDs' own and the federated ones. */
  readonly bundles: ReadonlyMap<string, readonly Uint8Array[]>;
}

export interface JwtSvidResult {
  readonly spiffeId: string;
  readonly token: string;
  readonly hint: string;
}

export interface ValidatedJwtSvid {
  readonly spiffeId: string;
  readonly claims: JsonObject;
}

/** The SVID a context offers as `spiffeId` (default: the first); ERR_WORKLOAD_NO_IDENTITY when it has none such. */
export function pickSvid(ctx: X509Context, spiffeId: string | undefined): X509Svid {
  const s = spiffeId === undefined ? ctx.svids[0] : ctx.svids.find((v) => v.spiffeId === spiffeId);
  if (s === undefined) throw new SignetError('ERR_WORKLOAD_NO_IDENTITY', spiffeId === undefined ? 'the Workload API sent no X509-SVID' : `this process has no X509-SVID ${spiffeId}`, { detail: { status: 'OK' }, ...(spiffeId !== undefined && { hint: `it has ${ctx.svids.map((v) => v.spiffeId).join(', ') || 'none'}` }) });
  return s;
}

/** A running watch; `close` ends it. */
export interface Watch {
  close(): void;
}

/** The gRPC target for a Workload API address (ERR_BAD_OPTION when it is not one). */
export function workloadTarget(address: string | undefined): string {
  const bad = (why: string): SignetError =>
    new SignetError('ERR_BAD_OPTION', `invalid Workload API address ${JSON.stringify((address ?? '').slice(0, 200))}: ${why}`, {
      hint: `use unix:///path/to/socket or tcp://127.0.0.1:port (--socket, or ${ENDPOINT_ENV})`,
    });
  if (address === undefined || address === '') throw bad(`none given and ${ENDPOINT_ENV} is not set`);
  if (address.length > 1024) throw bad('too long');
  if (address.startsWith('unix:')) {
    const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address.slice('unix:'.length);
    if (!path.startsWith('/')) throw bad('a unix address names an absolute path (unix:///run/spire/sockets/agent.sock)');
    if (/[?#]/.test(path)) throw bad('a unix address has no query or fragment');
    return `unix://${path}`;
  }
  if (address.startsWith('tcp://')) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[0-9.]+):([0-9]{1,5})$/.exec(address);
    const host = m?.[1]?.replace(/^\[|\]$/g, '') ?? '';
    if (m === null || isIP(host) === 0 || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad('a tcp address is an IP address and a port (tcp://127.0.0.1:8081)');
    return `${m[1]}:${m[2]}`;
  }
  if (address.startsWith('/')) return `unix://${address}`;
  throw bad('the scheme must be unix or tcp');
}

function statusName(code: number): string {
  return (grpc.status as unknown as Record<number, string>)[code] ?? String(code);
}

/** A gRPC failure as a SignetError. */
function callError(e: unknown, what: string): SignetError {
  const err = e as Partial<grpc.ServiceError>;
  const status = statusName(err.code ?? grpc.status.UNKNOWN);
  const details = (err.details ?? (e as Error).message ?? '').slice(0, 500);
  if (err.code === grpc.status.PERMISSION_DENIED) return new SignetError('ERR_WORKLOAD_NO_IDENTITY', `the Workload API has no identity for this process: ${details}`, { detail: { status }, hint: 'signet agent explain --pid <pid> shows the selectors the agent sees and the entries they match' });
  if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED)
    return new SignetError('ERR_WORKLOAD_API', `${what}: the Workload API cannot be reached (${status}): ${details}`, { detail: { status }, hint: `is the agent running, and is this the socket it serves (${ENDPOINT_ENV} or --socket)?` });
  return new SignetError('ERR_WORKLOAD_API', `${what}: the Workload API refused the call (${status}): ${details}`, { detail: { status } });
}

/** Concatenated DER certificates, one by one (ERR_WORKLOAD_API when they are not). */
function splitDer(buf: Buffer, what: string): Uint8Array[] {
  try {
    return children(new Uint8Array(buf)).map((t) => t.bytes);
  } catch (e) {
    throw new SignetError('ERR_WORKLOAD_API', `the Workload API sent malformed ${what}`, { detail: { status: 'OK' }, cause: e });
  }
}

interface WireX509Svid {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}

/** An X509SVIDResponse as an X509Context. */
function x509Context(m: { svids: WireX509Svid[]; federated_bundles: Record<string, Buffer> }): X509Context {
  const bundles = new Map<string, readonly Uint8Array[]>();
  const svids = m.svids.map((s) => {
    const chain = splitDer(s.x509_svid, 'an X509-SVID');
    let leaf: Certificate;
    let privateKey: KeyObject;
    let td: string;
    try {
      if (chain[0] === undefined) throw new Error('no certificate');
      leaf = parseCertificate(chain[0]);
      privateKey = createPrivateKey({ key: s.x509_svid_key, format: 'der', type: 'pkcs8' });
      td = parseSpiffeId(s.spiffe_id).trustDomain;
    } catch (e) {
      throw new SignetError('ERR_WORKLOAD_API', `the Workload API sent a malformed X509-SVID (${JSON.stringify(String(s.spiffe_id).slice(0, 200))}): no usable certificate, key or SPIFFE ID`, { detail: { status: 'OK' }, cause: e });
    }
    if (s.bundle.length > 0 && !bundles.has(td)) bundles.set(td, splitDer(s.bundle, 'a bundle'));
    return { spiffeId: s.spiffe_id, chain, privateKey, hint: s.hint, notBefore: leaf.notBefore, notAfter: leaf.notAfter };
  });
  for (const [k, v] of Object.entries(m.federated_bundles)) bundles.set(parseTrustDomain(k), splitDer(v, 'a federated bundle'));
  return { svids, bundles };
}

/** google.protobuf.Struct (as proto-loader decodes it, oneofs on) to JSON. */
function fromProtoValue(v: Record<string, unknown>): JsonValue {
  switch (v.kind) {
    case 'stringValue':
      return v.stringValue as string;
    case 'numberValue':
      return v.numberValue as number;
    case 'boolValue':
      return v.boolValue as boolean;
    case 'listValue':
      return ((v.listValue as { values?: Record<string, unknown>[] }).values ?? []).map(fromProtoValue);
    case 'structValue':
      return fromProtoStruct(v.structValue as { fields?: Record<string, Record<string, unknown>> });
    default:
      return null;
  }
}

function fromProtoStruct(s: { fields?: Record<string, Record<string, unknown>> } | null | undefined): JsonObject {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, fromProtoValue(v)]));
}

export interface WorkloadClientOptions {
  /** `unix:///path`, `unix:/path`, an absolute path, or `tcp://ip:port`; default SPIFFE_ENDPOINT_SOCKET. */
  readonly address?: string;
  /** Deadline of one-shot calls and of a stream's first message (default 10 s). */
  readonly timeoutMs?: number;
}

/** A Workload API client (one gRPC channel; `close` it when done). */
export class WorkloadClient {
  readonly #client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  readonly #timeoutMs: number;

  constructor(options: WorkloadClientOptions = {}) {
    const target = workloadTarget(options.address ?? process.env[ENDPOINT_ENV]);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#client = new (workloadProto().SpiffeWorkloadAPI)(target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  #metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    m.set(SECURITY_HEADER, 'true');
    return m;
  }

  #unary<T>(method: string, request: unknown, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      this.#client[method]?.(request, this.#metadata(), { deadline: Date.now() + this.#timeoutMs }, (e: grpc.ServiceError | null, r: T) => (e !== null ? reject(callError(e, what)) : resolve(r)));
    });
  }

  /** The first message of a server stream, then the stream is cancelled. */
  #first<T, R>(method: string, what: string, convert: (m: T) => R): Promise<R> {
    return new Promise((resolve, reject) => {
      const call = this.#client[method]?.({}, this.#metadata()) as grpc.ClientReadableStream<T>;
      let done = false;
      const finish = (f: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.cancel();
        f();
      };
      const timer = setTimeout(() => finish(() => reject(callError({ code: grpc.status.DEADLINE_EXCEEDED, details: `no answer within ${this.#timeoutMs} ms` }, what))), this.#timeoutMs);
      call.on('data', (m: T) => {
        let r: R;
        try {
          r = convert(m);
        } catch (e) {
          finish(() => reject(e instanceof Error ? e : callError(e, what)));
          return;
        }
        finish(() => resolve(r));
      });
      call.on('error', (e) => finish(() => reject(callError(e, what))));
      call.on('end', () => finish(() => reject(callError({ code: grpc.status.UNAVAILABLE, details: 'the stream ended before its first message' }, what))));
    });
  }

  /** This process's X509-SVIDs and bundles, now. */
  fetchX509Context(): Promise<X509Context> {
    return this.#first('FetchX509SVID', 'FetchX509SVID', x509Context);
  }

  /** The X.509 bundles this process may use, by trust domain. */
  fetchX509Bundles(): Promise<Map<string, readonly Uint8Array[]>> {
    return this.#first('FetchX509Bundles', 'FetchX509Bundles', (m: { bundles: Record<string, Buffer> }) => new Map(Object.entries(m.bundles).map(([k, v]) => [parseTrustDomain(k), splitDer(v, 'a bundle')])));
  }

  /** The JWT bundles this process may use, by trust domain. */
  fetchJwtBundles(): Promise<Map<string, TrustBundle>> {
    return this.#first('FetchJWTBundles', 'FetchJWTBundles', (m: { bundles: Record<string, Buffer> }) =>
      new Map(
        Object.entries(m.bundles).map(([k, v]) => {
          const td = parseTrustDomain(k);
          return [td, parseBundle(v, td)];
        }),
      ),
    );
  }

  /** JWT-SVIDs for `audience` (all of the process's identities, or `spiffeId` only). */
  async fetchJwtSvids(audience: readonly string[], spiffeId?: string): Promise<JwtSvidResult[]> {
    const r = await this.#unary<{ svids: { spiffe_id: string; svid: string; hint: string }[] }>('FetchJWTSVID', { audience, spiffe_id: spiffeId ?? '' }, 'FetchJWTSVID');
    return r.svids.map((s) => ({ spiffeId: s.spiffe_id, token: s.svid, hint: s.hint }));
  }

  /** Has the Workload API validate `token` for `audience`; a token it finds invalid is ERR_JWT_SVID_INVALID with its reason. */
  async validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid> {
    try {
      const r = await this.#unary<{ spiffe_id: string; claims: { fields?: Record<string, Record<string, unknown>> } | null }>('ValidateJWTSVID', { svid: token, audience }, 'ValidateJWTSVID');
      return { spiffeId: r.spiffe_id, claims: fromProtoStruct(r.claims) };
    } catch (e) {
      const details = e instanceof SignetError && e.detail?.status === 'INVALID_ARGUMENT' ? /refused the call \(INVALID_ARGUMENT\): (invalid JWT-SVID: .*)$/s.exec(e.message)?.[1] : undefined;
      if (details !== undefined) throw new SignetError('ERR_JWT_SVID_INVALID', details, { detail: { status: 'INVALID_ARGUMENT' }, cause: e });
      throw e;
    }
  }

  /**
   * Watches FetchX509SVID: `onUpdate` with every new context; on a broken stream `onError` and a
   * reconnection after a backoff (0.5 s → 5 s), until `close`. A refused request
   * (INVALID_ARGUMENT) is not retried.
   */
  watchX509Context(onUpdate: (c: X509Context) => void, onError: (e: SignetError) => void): Watch {
    let closed = false;
    let attempt = 0;
    let call: grpc.ClientReadableStream<unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const open = (): void => {
      if (closed) return;
      const c = this.#client.FetchX509SVID?.({}, this.#metadata()) as grpc.ClientReadableStream<{ svids: WireX509Svid[]; federated_bundles: Record<string, Buffer> }>;
      call = c;
      let failed = false;
      const retry = (e: SignetError, again: boolean): void => {
        if (failed || closed) return;
        failed = true;
        c.cancel();
        onError(e);
        if (!again) return;
        timer = setTimeout(open, WATCH_RETRY_MS[Math.min(attempt++, WATCH_RETRY_MS.length - 1)]);
      };
      c.on('data', (m: { svids: WireX509Svid[]; federated_bundles: Record<string, Buffer> }) => {
        let ctx: X509Context;
        try {
          ctx = x509Context(m);
        } catch (e) {
          retry(e instanceof SignetError ? e : callError(e, 'FetchX509SVID'), true);
          return;
        }
        attempt = 0;
        onUpdate(ctx);
      });
      c.on('error', (e: grpc.ServiceError) => {
        if (e.code === grpc.status.CANCELLED && closed) return;
        retry(callError(e, 'FetchX509SVID'), e.code !== grpc.status.INVALID_ARGUMENT);
      });
      c.on('end', () => retry(callError({ code: grpc.status.UNAVAILABLE, details: 'the stream ended' }, 'FetchX509SVID'), true));
    };
    open();
    return {
      close: () => {
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        call?.cancel();
      },
    };
  }

  close(): void {
    this.#client.close();
  }
}
