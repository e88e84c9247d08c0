/**
 * mTLS between workloads by SPIFFE ID, for node:tls, node:https and node:http2 (what go-spiffe's
 * x509svid source and tlsconfig do for Go).
 *
 * An X509Source keeps the process's current X509-SVID and bundles from the Workload API (a watch:
 * rotations arrive without a reconnect). Connections built from it present that SVID and accept a
 * peer only when its chain verifies with the bundle of the peer's *own* trust domain — never with
 * a pooled set of roots — and the authorizer accepts the peer's SPIFFE ID.
 *
 * How it sits on OpenSSL: the handshake verifies the peer against the union of the bundles (a
 * precondition only: it proves the chain reaches some authority the workload knows); then the
 * peer's presented chain is verified again with validateX509Svid against its own trust domain's
 * bundle, and authorized. On a client that second step is `checkServerIdentity` (a failure fails
 * the connect); on a server it runs before any other `secureConnection` listener, and a refused
 * peer is destroyed and reported as `tlsClientError` — the application never sees it.
 */
import { EventEmitter } from 'node:events';
import { createSecureContext, type ConnectionOptions, type DetailedPeerCertificate, type SecureContext, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { encodeCertificatesPem, encodePem } from '../core/pem.js';
import { SignetError } from '../core/errors.js';
import type { TrustBundle } from '../spiffe/bundle.js';
import { parseSpiffeId, parseTrustDomain, type SpiffeId } from '../spiffe/id.js';
import { validateX509Svid, x509SvidId } from '../spiffe/x509-svid.js';
import { DEFAULT_CALL_TIMEOUT_MS, pickSvid, WorkloadClient, type Watch, type WorkloadClientOptions, type X509Context, type X509Svid } from './workload-client.js';

/** Decides whether a verified peer may talk to us. */
export type Authorizer = (id: SpiffeId) => boolean;

/** Any peer whose SVID verifies. */
export const authorizeAny = (): Authorizer => () => true;

/** Exactly these SPIFFE IDs (checked now: ERR_SPIFFE_ID_INVALID for a malformed one). */
export function authorizeId(...ids: readonly string[]): Authorizer {
  const allowed = new Set(ids.map((i) => parseSpiffeId(i).toString()));
  return (id) => allowed.has(id.toString());
}

/** Any member of `trustDomain`. */
export function authorizeMemberOf(trustDomain: string): Authorizer {
  const td = parseTrustDomain(trustDomain);
  return (id) => id.memberOf(td);
}

/** The PEM material of an SVID and bundles, for node:tls options. */
export interface TlsMaterial {
  readonly key: string;
  /** Leaf first, then intermediates. */
  readonly cert: string;
  /** Every authority of every bundle (OpenSSL's precondition; the per-trust-domain check follows). */
  readonly ca: string[];
}

export interface X509SourceOptions extends WorkloadClientOptions {
  /** Which of the process's SPIFFE IDs to present (default: the first the API sends). */
  readonly spiffeId?: string;
}

/**
 * The process's X509-SVID and bundles, kept current by a FetchX509SVID watch. Events: `update`
 * (a new context), `error` (a SignetError from the watch; it reconnects by itself — only emitted
 * when someone listens). After a stream error the last context stays in use until it expires.
 */
export class X509Source extends EventEmitter {
  readonly #client: WorkloadClient;
  readonly #spiffeId: string | undefined;
  #watch: Watch | undefined;
  #context: X509Context | undefined;
  #material: { readonly tls: TlsMaterial; readonly secure: SecureContext } | undefined;

  private constructor(options: X509SourceOptions) {
    super();
    this.#client = new WorkloadClient(options);
    this.#spiffeId = options.spiffeId === undefined ? undefined : parseSpiffeId(options.spiffeId).toString();
  }

  /** Opens a source: resolves with the first context, or rejects with the last error after `timeoutMs` (default 10 s). */
  static open(options: X509SourceOptions = {}): Promise<X509Source> {
    const source = new X509Source(options);
    return new Promise((resolve, reject) => {
      let last: SignetError | undefined;
      let opened = false;
      const timer = setTimeout(() => {
        source.close();
        reject(last ?? new SignetError('ERR_WORKLOAD_API', 'FetchX509SVID: no X509-SVID within the deadline', { detail: { status: 'DEADLINE_EXCEEDED' } }));
      }, options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
      source.#watch = source.#client.watchX509Context(
        (c) => {
          source.#context = c;
          source.#material = undefined;
          if (!opened) {
            opened = true;
            clearTimeout(timer);
            resolve(source);
          }
          source.emit('update', c);
        },
        (e) => {
          last = e;
          if (source.listenerCount('error') > 0) source.emit('error', e);
        },
      );
    });
  }

  /** The current context. */
  context(): X509Context {
    return this.#context as X509Context;
  }

  /** The SVID this source presents (ERR_WORKLOAD_NO_IDENTITY when the chosen ID is not among the process's). */
  svid(): X509Svid {
    return pickSvid(this.context(), this.#spiffeId);
  }

  /** The X.509 bundle of `trustDomain`, when this process may use it. */
  bundle(trustDomain: string): TrustBundle | undefined {
    const authorities = this.context().bundles.get(trustDomain);
    return authorities === undefined ? undefined : { trustDomain, x509Authorities: authorities, jwtAuthorities: new Map() };
  }

  #current(): { readonly tls: TlsMaterial; readonly secure: SecureContext } {
    if (this.#material !== undefined) return this.#material;
    const s = this.svid();
    const tls: TlsMaterial = {
      key: s.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      cert: encodeCertificatesPem(s.chain),
      ca: [...this.context().bundles.values()].flat().map((d) => encodePem('CERTIFICATE', d)),
    };
    this.#material = { tls, secure: createSecureContext(tls) };
    return this.#material;
  }

  /** Key, chain and authorities as PEM (for options that take them; a new object after each update). */
  tlsMaterial(): TlsMaterial {
    return this.#current().tls;
  }

  /** A SecureContext holding them (one per update). */
  secureContext(): SecureContext {
    return this.#current().secure;
  }

  close(): void {
    this.#watch?.close();
    this.#client.close();
    this.removeAllListeners('update');
  }
}

/** The certificates a TLS peer presented, as DER, leaf first (node walks them as issuerCertificate links). */
function presentedChain(cert: DetailedPeerCertificate): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let c: DetailedPeerCertificate | undefined = cert; c !== undefined && c.raw !== undefined && out.length < 8; c = c.issuerCertificate === c ? undefined : c.issuerCertificate) out.push(new Uint8Array(c.raw));
  return out;
}

/** Verifies a peer's chain with its own trust domain's bundle and authorizes its ID. */
function checkPeer(source: X509Source, authorize: Authorizer, chain: readonly Uint8Array[]): SpiffeId {
  const { id } = validateX509Svid(chain, (td) => source.bundle(td), new Date());
  if (!authorize(id)) throw new SignetError('ERR_PEER_UNAUTHORIZED', `peer ${id.toString()} is not authorized`);
  return id;
}

const verifiedPeers = new WeakMap<TLSSocket, SpiffeId>();

/**
 * Options for tls.connect / https.request / http2.connect: present the source's SVID, accept a
 * server only when it is a valid SVID of its trust domain that `authorize` accepts (the connect
 * fails with ERR_X509_SVID_INVALID or ERR_PEER_UNAUTHORIZED otherwise). Build them per
 * connection, so a rotated SVID is used from the next one on.
 */
export function tlsClientOptions(source: X509Source, authorize: Authorizer): ConnectionOptions {
  return {
    secureContext: source.secureContext(),
    rejectUnauthorized: true,
    checkServerIdentity: (_host, cert) => {
      try {
        checkPeer(source, authorize, presentedChain(cert as DetailedPeerCertificate));
        return undefined;
      } catch (e) {
        return e as Error;
      }
    },
  };
}

/**
 * Creates a server with `create` (tls.createServer, https.createServer, http2.createSecureServer
 * — called with the TLS options) that presents the source's SVID, follows its rotations, requires
 * a client SVID, and lets through only clients whose SVID verifies with their own trust domain's
 * bundle and whom `authorize` accepts. `peerSpiffeId(socket)` names the client.
 */
export function spiffeTlsServer<S extends TlsServer>(create: (options: TlsOptions) => S, source: X509Source, authorize: Authorizer): S {
  const server = create({ ...source.tlsMaterial(), requestCert: true, rejectUnauthorized: true });
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    try {
      verifiedPeers.set(socket, checkPeer(source, authorize, presentedChain(socket.getPeerCertificate(true))));
    } catch (e) {
      socket.destroy();
      server.emit('tlsClientError', e, socket);
    }
  });
  const follow = (): void => {
    try {
      server.setSecureContext(source.tlsMaterial());
    } catch (e) {
      server.emit('tlsClientError', e);
    }
  };
  source.on('update', follow);
  server.once('close', () => source.off('update', follow));
  return server;
}

/** The SPIFFE ID of a connection's peer: on a spiffeTlsServer the verified client, on a client socket made with tlsClientOptions the verified server. */
export function peerSpiffeId(socket: TLSSocket): SpiffeId | undefined {
  const known = verifiedPeers.get(socket);
  if (known !== undefined) return known;
  if (!socket.authorized) return undefined;
  const raw = socket.getPeerCertificate().raw as Buffer | undefined;
  return raw === undefined ? undefined : x509SvidId(new Uint8Array(raw));
}
