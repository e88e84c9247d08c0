/**
 * The HTTP edge of the CA (DESIGN.md "Edges are thin"): a node:https server with one small
 * router, size-limited strict JSON bodies, and errors as `{"code", "message"}` with a status that
 * follows the error's code. node:https directly (not a framework) because renewal authenticates
 * with the client's TLS certificate, which the routes read from the socket.
 */
import { createServer, type Server } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { TLSSocket, SecureContextOptions } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { ERROR_CATALOGUE, SignetError, type ErrorCode } from '../core/errors.js';
import { parseJson, type JsonValue } from '../x509/template/json.js';

/** Largest request body any route accepts unless it says otherwise (a CSR plus a token fit well). */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

/** What a route handler gets. */
export interface RouteRequest {
  readonly method: string;
  /** Path without the query string, percent-decoding not applied. */
  readonly path: string;
  /** Named parameters from `:name` segments of the route pattern. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** A random id per request, also sent back as `X-Request-Id` and used in logs. */
  readonly id: string;
  /** The TLS socket, for the client certificate (mTLS routes); a plain socket on a {@link createPlainServer} listener. */
  readonly socket: TLSSocket;
  /** Reads and parses the JSON body (at most `limit` bytes, of media type `mediaType`, default `application/json`). */
  json(limit?: number, mediaType?: string): Promise<JsonValue>;
  /** Reads the raw body: at most `limit` bytes (ERR_INPUT_TOO_LARGE), of media type `mediaType` (ERR_HTTP_MEDIA_TYPE), not empty (ERR_INPUT_EMPTY). */
  bytes(limit: number, mediaType: string): Promise<Uint8Array>;
}

/**
 * What a route handler returns: JSON (the default) or raw bytes with their content type. `code`:
 * an error code for the access log and metrics when a protocol answers an error in its own
 * format with a success status (an OCSP `malformedRequest` is HTTP 200).
 */
export type RouteResponse =
  | { readonly status?: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>>; readonly code?: string }
  | { readonly status?: number; readonly body: string | Uint8Array; readonly contentType: string; readonly headers?: Readonly<Record<string, string>>; readonly code?: string };

export type RouteHandler = (req: RouteRequest) => RouteResponse | Promise<RouteResponse>;

/** One route: method, a path pattern with `:name` segments, and its handler. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'HEAD';
  readonly path: string;
  readonly handler: RouteHandler;
}

/** One finished request, for the access log and metrics. */
export interface RequestRecord {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  /** The matched route's pattern (`/root/:sha256`), or `unmatched`: a label of bounded cardinality for metrics. */
  readonly route: string;
  readonly status: number;
  readonly ms: number;
  readonly code?: string;
}

/** Options of {@link createApiServer}. */
export interface ApiServerOptions extends RouterOptions {
  /** The server's TLS key and certificate chain (PEM); replaced later with `setSecureContext`. */
  readonly tls: SecureContextOptions;
  /** Ask clients for a certificate (mTLS routes check it themselves; the handshake never fails on it). */
  readonly requestClientCertificate?: boolean;
}

/** How requests are routed and reported, on either kind of listener. */
export interface RouterOptions {
  readonly routes: readonly Route[];
  /** Called after each request (access log, metrics). */
  readonly onRequest?: (record: RequestRecord) => void;
  /** Called with unexpected errors (bugs); the client sees only ERR_INTERNAL. */
  readonly onInternalError?: (error: unknown, requestId: string) => void;
  /**
   * Renders an error of a request no route handled (no such path, wrong method) for a protocol
   * that has its own error format (ACME's problem documents under /acme/); undefined: the
   * default `{"code", "message"}`.
   */
  readonly renderUnrouted?: (error: SignetError, path: string, requestId: string) => RouteResponse | undefined;
}

/**
 * HTTP status for an error code: authentication failures 401, policy denials 403,
 * unknown things 404, conflicts 409, oversized bodies 413, wrong media type 415, other
 * input/usage problems 400, internal errors 500, upstream/network 502; a database that is down
 * or locked for too long 503 (with Retry-After).
 */
export function httpStatusFor(code: ErrorCode): number {
  const special: Partial<Record<string, number>> = {
    ERR_HTTP_NOT_FOUND: 404,
    ERR_HTTP_METHOD: 405,
    ERR_HTTP_MEDIA_TYPE: 415,
    ERR_INPUT_TOO_LARGE: 413,
    ERR_CERT_REVOKED: 403,
    ERR_CRL_NOT_READY: 503,
    ERR_RENEWAL_NOT_ALLOWED: 403,
    ERR_SSH_NOT_ENABLED: 403,
    ERR_SPIFFE_NOT_ENABLED: 403,
    ERR_SPIFFE_NOT_READY: 503,
    ERR_ATTESTATION_FAILED: 401,
    ERR_AGENT_BANNED: 403,
    ERR_CERT_REPLACED: 409,
    // The database is down, unreachable or locked for too long: the request did nothing, retry later.
    ERR_STORE_UNAVAILABLE: 503,
    ERR_STORE_BUSY: 503,
  };
  const s = special[code];
  if (s !== undefined) return s;
  if (code.startsWith('ERR_TOKEN_') || code.startsWith('ERR_AUTH_')) return 401;
  if (code.startsWith('ERR_POLICY_DENIED') || code.startsWith('ERR_FORBIDDEN')) return 403;
  if (code.endsWith('_NOT_FOUND') || code.startsWith('ERR_UNKNOWN_')) return 404;
  if (code.endsWith('_EXISTS') || code.endsWith('_CONFLICT')) return 409;
  switch (ERROR_CATALOGUE[code]) {
    case 'internal':
    case 'io':
      return 500;
    case 'network':
      return 502;
    default:
      return 400;
  }
}

/**
 * A matcher for `pattern`: literal segments, `:name` segments (non-empty), and a final `*` that
 * takes the rest of the path, slashes included, as parameter `*` (OCSP's GET form puts base64,
 * which has slashes, in the path).
 */
function compile(pattern: string): (path: string, segs: readonly string[]) => Record<string, string> | undefined {
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -1);
    return (path) => (path.startsWith(prefix) ? { '*': path.slice(prefix.length) } : undefined);
  }
  const parts = pattern.split('/');
  return (_path, segs) => {
    if (segs.length !== parts.length) return undefined;
    let params: Record<string, string> | undefined;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      const s = segs[i] as string;
      if (p.charCodeAt(0) === 58 /* : */) {
        if (s.length === 0) return undefined;
        (params ??= {})[p.slice(1)] = s;
      } else if (p !== s) {
        return undefined;
      }
    }
    return params ?? NO_PARAMS;
  };
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new SignetError('ERR_INPUT_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new SignetError('ERR_INPUT_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

/** Request ids drawn from one CSPRNG read per this many requests (a randomBytes call per request cost more than routing it). */
const IDS_PER_READ = 256;
let idPool = Buffer.alloc(0);
let idAt = 0;

/** A fresh random request id: 16 hex digits (64 bits from the CSPRNG), each pool octet used once. */
function requestId(): string {
  if (idAt + 8 > idPool.length) {
    idPool = randomBytes(8 * IDS_PER_READ);
    idAt = 0;
  }
  idAt += 8;
  return idPool.toString('hex', idAt - 8, idAt);
}

function send(res: ServerResponse, status: number, body: string | Uint8Array, contentType: string, headers: Readonly<Record<string, string>> = {}, head = false): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(buf.length), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : buf);
}

function errorBody(e: SignetError): string {
  // A machine-readable refinement of the code (why a SPIFFE ID or an SVID is invalid) goes along; the rest of `detail` stays in the logs.
  const reason = (e.detail as { reason?: unknown } | undefined)?.reason;
  return JSON.stringify({ code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(typeof reason === 'string' ? { reason } : {}) });
}

/**
 * Creates (does not start) the HTTPS server for `routes`. Each request gets an id; a handler's
 * SignetError becomes `{"code","message"}` with {@link httpStatusFor}; any other error is logged
 * through `onInternalError` and answered with ERR_INTERNAL and no detail.
 */
export function createApiServer(options: ApiServerOptions): Server {
  const server = createServer({
    ...options.tls,
    requestCert: options.requestClientCertificate === true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });
  server.on('request', router(options));
  return server;
}

/**
 * Creates (does not start) a plain-HTTP server for `routes`: public endpoints relying parties
 * fetch without TLS (CRLs and OCSP, RFC 5280 §4.2.1.13 and RFC 6960 Appendix A, are served over
 * http:// so that checking revocation never depends on a TLS connection to the CA).
 */
export function createPlainServer(options: RouterOptions): HttpServer {
  const server = createHttpServer();
  server.on('request', router(options));
  return server;
}

function router(options: RouterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = options.routes.map((r) => ({ ...r, match: compile(r.path) }));
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const id = requestId();
    const url = new URL(req.url ?? '/', 'https://signet.invalid');
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    // A server that is closing answers what it has and then closes the connection: a keep-alive
    // client (an agent's long poll) would otherwise keep it busy, and the close waiting, for ever.
    if ((req.socket as { server?: { listening?: boolean } }).server?.listening === false) res.shouldKeepAlive = false;
    let code: string | undefined;
    let pattern = 'unmatched';
    const finish = (status: number): void => {
      options.onRequest?.({ id, method, path: url.pathname, route: pattern, status, ms: performance.now() - started, ...(code ? { code } : {}) });
    };
    const fail = (e: SignetError): void => {
      code = e.code;
      const status = httpStatusFor(e.code);
      // RFC 9110 §10.2.3: a 503 says when to come back.
      send(res, status, errorBody(e), 'application/json', status === 503 ? { 'x-request-id': id, 'retry-after': '1' } : { 'x-request-id': id }, head);
      finish(status);
    };
    // The path is split once; each route's matcher compares segments.
    const segs = url.pathname.split('/');
    const candidates = routes.filter((r) => r.match(url.pathname, segs) !== undefined);
    const route = candidates.find((r) => r.method === method || (head && r.method === 'GET'));
    if (!route) {
      req.resume();
      const e =
        candidates.length > 0
          ? new SignetError('ERR_HTTP_METHOD', `${method} is not allowed on ${url.pathname}`, { hint: `use ${[...new Set(candidates.map((c) => c.method))].join(' or ')}` })
          : new SignetError('ERR_HTTP_NOT_FOUND', `no such endpoint: ${url.pathname}`);
      const rendered = options.renderUnrouted?.(e, url.pathname, id);
      if (rendered === undefined) {
        fail(e);
        return;
      }
      code = e.code;
      const status = rendered.status ?? 200;
      const headers = { 'x-request-id': id, ...rendered.headers };
      if ('json' in rendered) send(res, status, JSON.stringify(rendered.json), 'application/json', headers, head);
      else send(res, status, rendered.body, rendered.contentType, headers, head);
      finish(status);
      return;
    }
    pattern = route.path;
    const bodyOf = async (limit: number, mediaType: string): Promise<Buffer> => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== mediaType) {
        req.resume();
        throw new SignetError('ERR_HTTP_MEDIA_TYPE', `expected Content-Type ${mediaType}, got ${type ? `"${type.slice(0, 64)}"` : 'none'}`);
      }
      const body = await readBody(req, limit);
      if (body.length === 0) throw new SignetError('ERR_INPUT_EMPTY', 'the request body is empty');
      return body;
    };
    const request: RouteRequest = {
      method,
      path: url.pathname,
      params: route.match(url.pathname, segs) ?? NO_PARAMS,
      query: url.searchParams,
      headers: req.headers,
      id,
      socket: req.socket as TLSSocket,
      json: async (limit = DEFAULT_BODY_LIMIT, mediaType = 'application/json') => parseJson((await bodyOf(limit, mediaType)).toString('utf8'), { what: 'request body' }).value,
      bytes: async (limit, mediaType) => new Uint8Array(await bodyOf(limit, mediaType)),
    };
    const reply = (out: RouteResponse): void => {
      const status = out.status ?? 200;
      if (out.code !== undefined) code = out.code;
      const headers = { 'x-request-id': id, ...out.headers };
      if ('json' in out) send(res, status, JSON.stringify(out.json), 'application/json', headers, head);
      else send(res, status, out.body, out.contentType, headers, head);
      finish(status);
    };
    const failed = (e: unknown): void => {
      if (!req.complete) req.resume();
      if (e instanceof SignetError) {
        fail(e);
      } else {
        options.onInternalError?.(e, id);
        fail(new SignetError('ERR_INTERNAL', `internal error (request ${id})`));
      }
    };
    // A handler that answers at once (a kept OCSP response, say) is answered without a trip through the microtask queue.
    let out: RouteResponse | Promise<RouteResponse>;
    try {
      out = route.handler(request);
    } catch (e) {
      failed(e);
      return;
    }
    if (out instanceof Promise) {
      out.then(reply).catch(failed);
      return;
    }
    try {
      reply(out);
    } catch (e) {
      failed(e);
    }
  };
}
