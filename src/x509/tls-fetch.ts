/**
 * Fetches the certificate chain a live TLS server presents, for inspection. This is the one
 * outbound connection of the toolbox, so it follows the security baseline for outbound network
 * (DESIGN.md): a hard timeout, a size and depth limit on what is accepted, and no key material.
 *
 * Verification is OFF on purpose (`rejectUnauthorized: false`): the point is to *look* at what
 * the server sends, including expired, self-signed or mis-ordered chains. Nothing here says the
 * chain is trustworthy; `signet certificate verify` does that. The trust store is also left
 * empty (`ca: []`) so that Node does not append a root from the system store that the server
 * never sent.
 */
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { SignetError } from '../core/errors.js';

/** A TLS endpoint. */
export interface TlsTarget {
  readonly host: string;
  readonly port: number;
}

export interface FetchTlsChainOptions {
  /** SNI to send (RFC 6066 §3); default: the host, unless it is an IP literal (SNI forbids those). */
  readonly servername?: string | undefined;
  /** Connect + handshake timeout in milliseconds (default 10 000). */
  readonly timeoutMs?: number | undefined;
  /** ALPN protocols to offer (default `h2`, `http/1.1`). */
  readonly alpnProtocols?: readonly string[] | undefined;
  /** Largest accepted total chain size in bytes (default 1 MiB). */
  readonly maxChainBytes?: number | undefined;
  /** Most certificates accepted in a chain (default 16). */
  readonly maxDepth?: number | undefined;
}

/** What the server presented, plus the negotiated parameters. */
export interface TlsChain {
  readonly host: string;
  readonly port: number;
  /** The SNI that was sent, or undefined when none was (IP literal without --servername). */
  readonly servername: string | undefined;
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string | undefined;
  /** Negotiated cipher suite (IANA/RFC name, e.g. `TLS_AES_256_GCM_SHA384`). */
  readonly cipher: string | undefined;
  /** Negotiated ALPN protocol, or undefined when none was agreed. */
  readonly alpn: string | undefined;
  /** DER of each certificate, leaf first, then each issuer found in what the server sent. */
  readonly certificates: readonly Uint8Array[];
}

export const DEFAULT_TLS_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CHAIN_BYTES = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 16;

/** Options of {@link parseTlsTarget}. */
export interface ParseTlsTargetOptions {
  /**
   * Throw ERR_BAD_OPTION for text shaped like an endpoint that is not a valid one (`host:99999`,
   * `host:0`, `[zz]:443`) instead of returning undefined. For callers that already know the text
   * is not a file, so that `localhost:99999` is reported as a bad port rather than a missing file.
   */
  readonly strict?: boolean;
}

/**
 * Parses `host:port`, `[v6addr]:port` or an `https://host[:port]/…` URL (port 443 by default).
 * Returns undefined when `text` does not look like an endpoint (so callers can treat it as a
 * file name instead); with `strict`, an endpoint-shaped text with an invalid port or IPv6
 * literal is ERR_BAD_OPTION.
 */
export function parseTlsTarget(text: string, options: ParseTlsTargetOptions = {}): TlsTarget | undefined {
  const url = /^https:\/\/(\[[^\]/]*\]|[^/:?#[\]@\s]+)(?::(\d+))?(?:[/?#].*)?$/.exec(text);
  const hp = url ?? /^(\[[^\]/]*\]|[A-Za-z0-9._-]+):(\d+)$/.exec(text);
  if (!hp) return undefined;
  const invalid = (why: string, hint: string): undefined => {
    if (options.strict) throw new SignetError('ERR_BAD_OPTION', `invalid endpoint "${text}": ${why}`, { hint });
    return undefined;
  };
  let host = hp[1] ?? '';
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return invalid('not an IPv6 address in brackets', 'write an IPv6 endpoint as [2001:db8::1]:443');
  }
  const port = hp[2] === undefined ? 443 : Number(hp[2]);
  if (!/^\d{1,5}$/.test(hp[2] ?? '443') || port < 1 || port > 65535) return invalid(`invalid port ${hp[2] ?? ''}`, 'use a port between 1 and 65535');
  if (host.length === 0) return undefined;
  return { host, port };
}

/** `host:port`, with an IPv6 literal in brackets (`[::1]:443`, RFC 3986 §3.2.2). */
export function formatTlsTarget(target: TlsTarget): string {
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

function networkError(target: TlsTarget, e: unknown): SignetError {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err?.code ?? '';
  const where = formatTlsTarget(target);
  let why: string;
  let hint: string | undefined;
  switch (code) {
    case 'ECONNREFUSED':
      why = 'connection refused';
      hint = 'check the host and port, and that the server is running';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = 'host name does not resolve';
      break;
    case 'ECONNRESET':
    case 'EPIPE':
      why = 'the server closed the connection during the handshake';
      hint = 'is this a TLS port? try --servername if the server needs SNI';
      break;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      why = 'host unreachable';
      break;
    default:
      if (code.startsWith('ERR_SSL_') || /wrong version number|packet length too long|unknown protocol/i.test(err?.message ?? '')) {
        why = 'the server did not answer with TLS';
        hint = 'is this a TLS port? plain HTTP and other protocols cannot be inspected';
      } else {
        why = `TLS handshake failed${code ? ` (${code})` : ''}`;
      }
  }
  return new SignetError('ERR_TLS_CONNECT', `cannot fetch the certificate chain of ${where}: ${why}`, {
    ...(hint ? { hint } : {}),
    detail: { host: target.host, port: target.port, reason: code || 'handshake' },
    cause: e,
  });
}

/** Walks issuerCertificate links from the leaf, stopping at a self-link or any repeat. */
function walkChain(leaf: DetailedPeerCertificate, maxDepth: number, maxBytes: number, target: TlsTarget): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let total = 0;
  let cur: DetailedPeerCertificate | undefined = leaf;
  while (cur && cur.raw && cur.raw.length > 0) {
    const key = cur.raw.toString('base64');
    if (seen.has(key)) break;
    seen.add(key);
    total += cur.raw.length;
    if (out.length >= maxDepth || total > maxBytes) {
      throw new SignetError('ERR_INPUT_TOO_LARGE', `the chain presented by ${formatTlsTarget(target)} exceeds ${maxDepth} certificates or ${maxBytes} bytes`);
    }
    out.push(new Uint8Array(cur.raw));
    const next: DetailedPeerCertificate | undefined = cur.issuerCertificate;
    if (next === cur) break;
    cur = next;
  }
  return out;
}

/**
 * Connects to `target`, completes a TLS handshake without verifying the peer (inspection only),
 * and returns the certificates the server presented. Fails with ERR_TLS_CONNECT (refused,
 * unresolvable, timeout, not TLS, handshake failure) or ERR_INPUT_TOO_LARGE (chain over the
 * limits).
 *
 * Node exposes the presented chain as issuer links (leaf → issuer → …), so certificates are
 * returned in that order: a server that sends its chain out of order is shown in issuer order,
 * and a certificate that issues nothing in the chain is not visible.
 */
export function fetchTlsChain(target: TlsTarget, options: FetchTlsChainOptions = {}): Promise<TlsChain> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS;
  const servername = options.servername ?? (isIP(target.host) ? undefined : target.host);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxBytes = options.maxChainBytes ?? DEFAULT_MAX_CHAIN_BYTES;
  return new Promise<TlsChain>((resolve, reject) => {
    let settled = false;
    let socket: TLSSocket | undefined;
    const finish = (err: SignetError | undefined, value?: TlsChain): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.destroy();
      if (err) reject(err);
      else resolve(value as TlsChain);
    };
    const timer = setTimeout(() => {
      finish(
        new SignetError('ERR_TLS_CONNECT', `cannot fetch the certificate chain of ${formatTlsTarget(target)}: no TLS handshake within ${timeoutMs} ms`, {
          hint: 'check the host and port; a firewall may drop the connection, or the server does not speak TLS',
          detail: { host: target.host, port: target.port, reason: 'timeout' },
        }),
      );
    }, timeoutMs);
    try {
      socket = connect({
        host: target.host,
        port: target.port,
        ...(servername !== undefined ? { servername } : {}),
        // Inspection, not trust: see the module comment.
        rejectUnauthorized: false,
        ca: [],
        ALPNProtocols: [...(options.alpnProtocols ?? ['h2', 'http/1.1'])],
      });
    } catch (e) {
      finish(networkError(target, e));
      return;
    }
    const s = socket;
    s.once('secureConnect', () => {
      try {
        const leaf = s.getPeerCertificate(true);
        const certificates = walkChain(leaf, maxDepth, maxBytes, target);
        if (certificates.length === 0) {
          finish(new SignetError('ERR_TLS_CONNECT', `${formatTlsTarget(target)} presented no certificate`, { detail: { host: target.host, port: target.port, reason: 'no-certificate' } }));
          return;
        }
        const cipher = s.getCipher() as { standardName?: string; name?: string } | undefined;
        const alpn = s.alpnProtocol;
        finish(undefined, {
          host: target.host,
          port: target.port,
          servername,
          protocol: s.getProtocol() ?? undefined,
          cipher: cipher?.standardName ?? cipher?.name,
          alpn: typeof alpn === 'string' && alpn.length > 0 ? alpn : undefined,
          certificates,
        });
      } catch (e) {
        finish(e instanceof SignetError ? e : networkError(target, e));
      }
    });
    s.once('error', (e) => finish(networkError(target, e)));
    s.once('close', () => finish(networkError(target, Object.assign(new Error('closed'), { code: 'ECONNRESET' }))));
  });
}
