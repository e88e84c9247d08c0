/**
 * The HTTPS client of the CA's native API (issue 3 contract): every request verifies the CA's TLS
 * certificate against the pinned root — there is no switch to turn that off, only the separate,
 * fingerprint-checked bootstrap fetch in bootstrap.ts — and follows the security baseline for
 * outbound network (DESIGN.md): a deadline per request, a size limit on answers, no key material
 * other than an optional client certificate for mTLS.
 *
 * Errors: a refusal from the CA (`{"code", "message", "hint"?}`) becomes a SignetError with the
 * CA's code when this client knows it (so the CLI exits with that code's category), else
 * ERR_CA_REFUSED naming the code; connection failures are ERR_CA_UNREACHABLE (network), a TLS
 * certificate that does not chain to the pinned root or does not name the host is
 * ERR_CA_UNTRUSTED, an answer that is not the API's is ERR_CA_BAD_RESPONSE. Each carries
 * `detail.status` (HTTP status, when there was one) and `detail.requestId` when the CA sent one.
 */
import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { ERROR_CATALOGUE, SignetError, type ErrorCode } from '../core/errors.js';
import { CRL_REASONS } from '../x509/crl.js';
import { parseCaUrl } from './url.js';

/** Deadline of one request (connect, TLS, send, answer), unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Largest answer read: a certificate chain in JSON is a few KiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** A client certificate for mTLS: the certificate chain in PEM (leaf first) and its private key. */
export interface ClientIdentity {
  readonly certificateChain: string;
  readonly key: KeyObject | string;
}

/** Options of {@link createCaClient}. */
export interface CaClientOptions {
  /** The CA, `https://host[:port]`. */
  readonly url: string;
  /** The trusted roots (PEM): the CA's TLS certificate must chain to one of them. */
  readonly roots: string;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Keep connections open between requests (benchmarks, daemons); call {@link CaClient.close} at the end. */
  readonly keepAlive?: boolean;
}

/** One request to the API. */
export interface CaRequest {
  readonly method?: 'GET' | 'POST';
  /** Path with leading slash, e.g. `/sign`. */
  readonly path: string;
  /** A JSON body (sent as `application/json`). */
  readonly json?: unknown;
  /** `Authorization: Bearer …` (renewal tokens). */
  readonly bearer?: string;
  /** Client certificate for mTLS. */
  readonly identity?: ClientIdentity;
}

/** A successful (2xx) answer. */
export interface CaResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON when the CA said it is JSON; undefined otherwise. */
  readonly json: unknown;
}

/** A certificate the CA issued (`POST /sign`, `/renew`, `/rekey`): PEM strings as the API returns them. */
export interface IssuedCertificate {
  readonly crt: string;
  /** The issuing intermediate. */
  readonly ca: string;
  /** Leaf first, then the intermediates. */
  readonly certChain: readonly string[];
  /** Lower-case hex. */
  readonly serial: string;
}

/** `POST /sign` body. */
export interface SignRequestBody {
  readonly csr: string;
  readonly ott: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
}

/**
 * The revocation reasons `POST /revoke` takes: the CRLReason names of RFC 5280 §5.3.1 except
 * removeFromCRL (which only delta CRLs use).
 */
export const REVOCATION_REASONS: readonly string[] = Object.freeze(Object.values(CRL_REASONS).filter((r) => r !== 'removeFromCRL'));
/** One of {@link REVOCATION_REASONS}. */
export type RevocationReason = string;

/** `POST /revoke` body. */
export interface RevokeRequestBody {
  readonly serial: string;
  readonly reason?: RevocationReason;
  readonly ott?: string;
}

/** `POST /revoke` answer. */
export interface RevocationResult {
  readonly serial: string;
  readonly status: string;
  readonly revokedAt: string;
  readonly reason?: string;
}

/** TLS verification failures as Node reports them (OpenSSL verify codes and the host name check). */
export const TLS_TRUST_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name does not resolve',
  EAI_AGAIN: 'host name does not resolve',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
};

/** Maps a socket or TLS error to ERR_CA_UNTRUSTED or ERR_CA_UNREACHABLE. */
export function connectionError(url: string, e: unknown): SignetError {
  if (e instanceof SignetError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code ?? '';
  if (TLS_TRUST_CODES.has(code)) {
    return new SignetError('ERR_CA_UNTRUSTED', `the TLS certificate of ${url} does not verify against the pinned root (${code.toLowerCase().replace(/_/g, ' ')})`, {
      hint: 'check --ca-url; if the CA really has a new root, bootstrap again: signet ca bootstrap --ca-url URL --fingerprint SHA256 --force',
      detail: { reason: code },
      cause: e,
    });
  }
  const why = NETWORK_REASONS[code] ?? (/wrong version number|packet length too long|unknown protocol/i.test(err?.message ?? '') ? 'it does not speak TLS' : code ? `TLS or connection failure (${code})` : 'connection failed');
  return new SignetError('ERR_CA_UNREACHABLE', `cannot reach the CA at ${url}: ${why}`, {
    hint: 'check the URL and that the CA is running (signet ca health)',
    detail: { reason: code || 'connection' },
    cause: e,
  });
}

function isCatalogued(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The CA's error answer (`{"code","message","hint"?}`) as a SignetError. */
function refusal(url: string, status: number, headers: IncomingHttpHeaders, body: Buffer): SignetError {
  const requestId = typeof headers['x-request-id'] === 'string' ? headers['x-request-id'] : undefined;
  const detail = { status, ...(requestId !== undefined ? { requestId } : {}) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const obj = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const code = typeof obj?.code === 'string' ? obj.code : undefined;
  const message = typeof obj?.message === 'string' ? obj.message.replace(/[\r\n]+/g, ' ').slice(0, 500) : undefined;
  const hint = typeof obj?.hint === 'string' ? obj.hint.replace(/[\r\n]+/g, ' ').slice(0, 500) : undefined;
  if (code === undefined || message === undefined) {
    return new SignetError('ERR_CA_BAD_RESPONSE', `${url} answered HTTP ${status} without an API error body`, {
      hint: 'is the URL a Signet CA?',
      detail,
    });
  }
  if (isCatalogued(code)) return new SignetError(code, `the CA refused: ${message}`, { ...(hint !== undefined ? { hint } : {}), detail: { ...detail, caCode: code } });
  return new SignetError('ERR_CA_REFUSED', `the CA refused (${code}): ${message}`, { ...(hint !== undefined ? { hint } : {}), detail: { ...detail, caCode: code } });
}

/** Options of the low-level {@link httpsRequest}. */
export interface HttpsRequestOptions extends CaRequest {
  /** Trusted roots (PEM). Required unless `insecure`. */
  readonly roots?: string;
  /**
   * Skip TLS verification. Only for the bootstrap fetch, whose answer is checked against a
   * fingerprint the user supplied (bootstrap.ts); never offered by the CLI.
   */
  readonly insecure?: boolean;
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
  readonly agent?: Agent;
}

/**
 * The one-shot completion of a request promise: the first call settles it (after `cleanup`, told
 * whether it failed, which stops the deadline and drops the connection); later calls — the
 * deadline firing after the answer, an error after a refusal — do nothing.
 */
export function settleOnce<T>(resolve: (value: T) => void, reject: (e: SignetError) => void, cleanup: (failed: boolean) => void): (err: SignetError | undefined, value?: T) => void {
  let settled = false;
  return (err, value) => {
    if (settled) return;
    settled = true;
    cleanup(err !== undefined);
    if (err) reject(err);
    else resolve(value as T);
  };
}

/**
 * One HTTPS request to `baseUrl + path`. Resolves with 2xx answers; rejects with the SignetErrors
 * described in the module comment.
 */
export function httpsRequest(baseUrl: string, options: HttpsRequestOptions): Promise<CaResponse> {
  const { url } = parseCaUrl(baseUrl);
  const target = new URL(options.path, `${url}/`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const body = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  if (!options.insecure && options.roots === undefined) throw new SignetError('ERR_INTERNAL', 'a CA request without trusted roots');
  const key = options.identity === undefined ? undefined : typeof options.identity.key === 'string' ? options.identity.key : (options.identity.key.export({ type: 'pkcs8', format: 'pem' }) as string);
  return new Promise<CaResponse>((resolve, reject) => {
    const finish = settleOnce(resolve, reject, (failed) => {
      clearTimeout(timer);
      if (failed) req.destroy();
    });
    const req = request(target, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(body.length) } : { 'content-length': '0' }),
        ...(options.bearer !== undefined ? { authorization: `Bearer ${options.bearer}` } : {}),
      },
      ...(options.insecure ? { rejectUnauthorized: false } : { ca: options.roots, rejectUnauthorized: true }),
      ...(options.identity !== undefined ? { cert: options.identity.certificateChain, key } : {}),
      minVersion: 'TLSv1.2',
      agent: options.agent ?? false,
    });
    const timer = setTimeout(() => {
      finish(new SignetError('ERR_CA_UNREACHABLE', `the CA at ${url} did not answer within ${timeoutMs} ms`, { hint: 'check the URL and that the CA is running', detail: { reason: 'timeout' } }));
    }, timeoutMs);
    req.on('error', (e) => finish(connectionError(url, e)));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          finish(new SignetError('ERR_CA_BAD_RESPONSE', `the answer of ${url} is larger than ${maxBytes} bytes`, { detail: { status: res.statusCode ?? 0 } }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (e) => finish(connectionError(url, e)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const data = Buffer.concat(chunks);
        if (status < 200 || status > 299) {
          finish(refusal(url, status, res.headers, data));
          return;
        }
        let json: unknown;
        const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (type === 'application/json') {
          try {
            json = JSON.parse(data.toString('utf8'));
          } catch {
            finish(new SignetError('ERR_CA_BAD_RESPONSE', `${url}${target.pathname} answered malformed JSON`, { detail: { status } }));
            return;
          }
        }
        finish(undefined, { status, headers: res.headers, body: data, json });
      });
    });
    req.end(body);
  });
}

function badShape(url: string, path: string, what: string): SignetError {
  return new SignetError('ERR_CA_BAD_RESPONSE', `the answer of ${url}${path} is not what the API returns (${what})`, { hint: 'is the URL a Signet CA, and of a compatible version?' });
}

function field(obj: Record<string, unknown>, name: string, url: string, path: string): string {
  const v = obj[name];
  if (typeof v !== 'string') throw badShape(url, path, `no "${name}"`);
  return v;
}

function asObject(json: unknown, url: string, path: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badShape(url, path, 'not a JSON object');
  return json as Record<string, unknown>;
}

function issued(json: unknown, url: string, path: string): IssuedCertificate {
  const o = asObject(json, url, path);
  const chain = o.certChain;
  if (!Array.isArray(chain) || chain.length === 0 || !chain.every((c): c is string => typeof c === 'string')) throw badShape(url, path, 'no "certChain"');
  return { crt: field(o, 'crt', url, path), ca: field(o, 'ca', url, path), certChain: chain, serial: field(o, 'serial', url, path) };
}

function sshIssued(json: unknown, url: string, path: string): IssuedSshCertificate {
  const o = asObject(json, url, path);
  return { crt: field(o, 'crt', url, path), serial: field(o, 'serial', url, path), certType: field(o, 'certType', url, path) };
}

/** A client for one CA. */
export interface CaClient {
  /** `https://host:port`. */
  readonly url: string;
  /** Any request (2xx resolves). */
  request(req: CaRequest): Promise<CaResponse>;
  /** `GET /health`: resolves when the CA says `{"status":"ok"}`. */
  health(): Promise<{ status: string }>;
  /** `GET /roots`: the roots' PEMs. */
  roots(): Promise<string[]>;
  /** `POST /sign`. */
  sign(body: SignRequestBody): Promise<IssuedCertificate>;
  /** `POST /renew` over mTLS with the current certificate, or with a renewal token (expired certificates). */
  renew(auth: { readonly identity: ClientIdentity } | { readonly token: string }): Promise<IssuedCertificate>;
  /** `POST /rekey` over mTLS with the current certificate, for the new key's CSR. */
  rekey(csr: string, identity: ClientIdentity): Promise<IssuedCertificate>;
  /** `POST /revoke`, authorized by `body.ott` or by mTLS with the certificate being revoked. */
  revoke(body: RevokeRequestBody, identity?: ClientIdentity): Promise<RevocationResult>;
  /** `POST /ssh/sign`: an SSH certificate (its authorized_keys-style line) for a public key. */
  sshSign(body: SshSignRequestBody): Promise<IssuedSshCertificate>;
  /** `POST /ssh/renew` with a proof-of-possession token (`Authorization: Bearer`). */
  sshRenew(token: string): Promise<IssuedSshCertificate>;
  /** `GET /ssh/roots`: the SSH CA public keys (authorized_keys lines). */
  sshRoots(): Promise<{ userKey: string[]; hostKey: string[] }>;
  /** `POST /spiffe/jwt-svid`: a JWT-SVID for the SPIFFE ID the token authorizes. */
  jwtSvid(body: JwtSvidRequestBody): Promise<IssuedJwtSvid>;
  /** `GET /spiffe/bundle`: the trust domain's bundle document, as served. */
  spiffeBundle(): Promise<string>;
  /** Closes kept-alive connections. */
  close(): void;
}

/** `POST /spiffe/jwt-svid` body. */
export interface JwtSvidRequestBody {
  readonly ott: string;
  readonly audience: readonly string[];
  /** A duration such as `5m` (the provisioner's default when absent). */
  readonly lifetime?: string;
}

/** A JWT-SVID the CA minted. */
export interface IssuedJwtSvid {
  readonly token: string;
  readonly spiffeId: string;
  readonly kid: string;
  readonly expiresAt: string;
}

/** `POST /ssh/sign` body. */
export interface SshSignRequestBody {
  /** The public key: an authorized_keys line, or the base64 key blob. */
  readonly publicKey: string;
  readonly ott: string;
  readonly certType?: 'user' | 'host';
  readonly principals?: readonly string[];
  readonly validAfter?: string;
  readonly validBefore?: string;
}

/** An SSH certificate the CA issued. */
export interface IssuedSshCertificate {
  /** `ssh-ed25519-cert-v01@openssh.com AAAA…`: what a `*-cert.pub` file holds. */
  readonly crt: string;
  /** The inventory serial (lower-case hex). */
  readonly serial: string;
  readonly certType: string;
}

/** A client for the CA at `options.url`, trusting only `options.roots`. */
export function createCaClient(options: CaClientOptions): CaClient {
  const { url } = parseCaUrl(options.url);
  const agent = options.keepAlive ? new Agent({ keepAlive: true }) : undefined;
  const send = (req: CaRequest): Promise<CaResponse> =>
    httpsRequest(url, {
      ...req,
      roots: options.roots,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.maxResponseBytes !== undefined ? { maxResponseBytes: options.maxResponseBytes } : {}),
      ...(agent !== undefined ? { agent } : {}),
    });
  return {
    url,
    request: send,
    async health() {
      const r = await send({ path: '/health' });
      const o = asObject(r.json, url, '/health');
      return { status: field(o, 'status', url, '/health') };
    },
    async roots() {
      const r = await send({ path: '/roots' });
      const crts = asObject(r.json, url, '/roots').crts;
      if (!Array.isArray(crts) || !crts.every((c): c is string => typeof c === 'string')) throw badShape(url, '/roots', 'no "crts"');
      return crts;
    },
    async sign(body) {
      return issued((await send({ path: '/sign', json: body })).json, url, '/sign');
    },
    async renew(auth) {
      // The contract: mTLS with an empty body or `{}`; the renewal-token form with an empty body.
      const r = 'identity' in auth ? await send({ path: '/renew', json: {}, identity: auth.identity }) : await send({ method: 'POST', path: '/renew', bearer: auth.token });
      return issued(r.json, url, '/renew');
    },
    async rekey(csr, identity) {
      return issued((await send({ path: '/rekey', json: { csr }, identity })).json, url, '/rekey');
    },
    async revoke(body, identity) {
      const r = await send({ path: '/revoke', json: body, ...(identity !== undefined ? { identity } : {}) });
      const o = asObject(r.json, url, '/revoke');
      const reason = o.reason;
      return {
        serial: field(o, 'serial', url, '/revoke'),
        status: field(o, 'status', url, '/revoke'),
        revokedAt: field(o, 'revokedAt', url, '/revoke'),
        ...(typeof reason === 'string' ? { reason } : {}),
      };
    },
    async sshSign(body) {
      return sshIssued((await send({ path: '/ssh/sign', json: body })).json, url, '/ssh/sign');
    },
    async sshRenew(token) {
      return sshIssued((await send({ method: 'POST', path: '/ssh/renew', bearer: token })).json, url, '/ssh/renew');
    },
    async sshRoots() {
      const o = asObject((await send({ path: '/ssh/roots' })).json, url, '/ssh/roots');
      const list = (name: string): string[] => {
        const v = o[name];
        if (!Array.isArray(v) || !v.every((c): c is string => typeof c === 'string')) throw badShape(url, '/ssh/roots', `no "${name}"`);
        return v;
      };
      return { userKey: list('userKey'), hostKey: list('hostKey') };
    },
    async jwtSvid(body) {
      const o = asObject((await send({ path: '/spiffe/jwt-svid', json: body })).json, url, '/spiffe/jwt-svid');
      const get = (name: string): string => field(o, name, url, '/spiffe/jwt-svid');
      return { token: get('token'), spiffeId: get('spiffeId'), kid: get('kid'), expiresAt: get('expiresAt') };
    },
    async spiffeBundle() {
      const r = await send({ path: '/spiffe/bundle' });
      return r.body.toString('utf8');
    },
    close() {
      agent?.destroy();
    },
  };
}
