/**
 * `signet/workload` — SPIFFE workload identity for Node programs: a Workload API client (Signet's
 * agent, or any other such as SPIRE's), an X509Source kept current by a watch, mTLS that verifies
 * peers by SPIFFE ID with the bundle of their own trust domain, and helper-mode files. A separate
 * entry point so that `import 'signet'` does not load gRPC.
 *
 * @example
 * ```ts
 * import https from 'node:https';
 * import { X509Source, authorizeId, spiffeTlsServer, tlsClientOptions, peerSpiffeId } from 'signet/workload';
 * const source = await X509Source.open({ address: 'unix:///run/signet/agent.sock' });
 * const server = spiffeTlsServer((o) => https.createServer(o, (req, res) => res.end(`hello ${peerSpiffeId(req.socket as import('node:tls').TLSSocket)}`)), source, authorizeId('spiffe://example.org/frontend'));
 * server.listen(8443);
 * https.get({ host: 'backend', port: 8443, agent: false, ...tlsClientOptions(source, authorizeId('spiffe://example.org/backend')) });
 * ```
 */
export { DEFAULT_CALL_TIMEOUT_MS, pickSvid, WorkloadClient, workloadTarget, type JwtSvidResult, type ValidatedJwtSvid, type Watch, type WorkloadClientOptions, type X509Context, type X509Svid } from './agent/workload-client.js';
export { authorizeAny, authorizeId, authorizeMemberOf, peerSpiffeId, spiffeTlsServer, tlsClientOptions, X509Source, type Authorizer, type TlsMaterial, type X509SourceOptions } from './agent/spiffe-tls.js';
export { BUNDLE_FILE, KEY_FILE, SVID_FILE, startHelper, svidFiles, type Helper, type HelperOptions } from './agent/helper.js';
export { ENDPOINT_ENV, SECURITY_HEADER } from './agent/workload-proto.js';
