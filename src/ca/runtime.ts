/**
 * A running CA: the configuration loaded, the issuing key decrypted, the store opened, the
 * authority built, the HTTPS server listening with its own certificate that renews in-process.
 * `signet ca start` is this plus signal handling; tests start it in-process the same way.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Server } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.js';
import { decodePem, decodePemAll, looksLikePem } from '../core/pem.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { passwordFromFile } from '../core/password-file.js';
import { parsePrivateKey } from '../crypto/keys.js';
import { createSoftwareSigner } from '../crypto/signer.js';
import { openConfiguredStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { createApiServer, createPlainServer, type RequestRecord, type Route } from '../server/http.js';
import { CrlPublisher, crlPartitionUrl, type CrlDecision } from '../revocation/crl.js';
import { crlRoutes, ocspRoutes } from '../revocation/routes.js';
import { OcspResponder, type OcspMaintenance } from '../revocation/ocsp.js';
import { provisionersRoute, publicRoutes, type PublicProvisioner } from '../server/public-routes.js';
import { formatDuration } from '../core/duration.js';
import { signRoute } from '../server/sign-route.js';
import { sshRoutes } from '../server/ssh-routes.js';
import { publicKeyBlob } from '../ssh/keys.js';
import { certificateRoutes } from '../server/certificate-routes.js';
import { createCaMetrics, metricsRoute, type AuthorityOutcome, type CaMetrics } from '../server/metrics.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { issueServerIdentity, type TlsIdentity } from '../server/tls-identity.js';
import { Authority } from './authority.js';
import { acmeRoutes, NonceService } from '../acme/server.js';
import { ChallengeValidator } from '../acme/validate.js';
import { loadAdditionalRoots, type CaConfig, type CaProvisioner } from './config.js';
import { servedTrustDomains, serverSpiffeId, TrustDomainService, type TrustDomainMaintenance } from '../spiffe/trust-domain.js';
import { spiffeRoutes } from '../server/spiffe-routes.js';
import { refreshDueFederations, type FederationRefresh } from '../spiffe/federation.js';
import { RevisionWatcher } from '../spiffe/revision-watch.js';

/** Options of {@link startCa}. */
export interface StartCaOptions {
  readonly clock: Clock;
  /** The intermediate key's password when the config names no password file (a prompt's answer). */
  readonly password?: string;
  /** Listen on this port instead of the configured one (tests use 0). */
  readonly port?: number;
  /** The plain-HTTP revocation listener on this port instead of the configured one (tests use 0). */
  readonly httpPort?: number;
  readonly onRequest?: (record: RequestRecord) => void;
  readonly onInternalError?: (error: unknown, requestId: string) => void;
  /** Called when the server's own certificate was renewed. */
  readonly onIdentityRenewed?: (identity: TlsIdentity) => void;
  /** Called after each periodic job tick (ran, or skipped because another replica holds its lease). */
  readonly onJob?: (run: JobRun) => void;
  /** How often the periodic jobs tick; default {@link JOB_INTERVAL_MS}. */
  readonly jobIntervalMs?: number;
  /** How often the revocation watcher ticks; default `revocation.propagation` (tests that tick it themselves set it out of the way). */
  readonly revocationIntervalMs?: number;
  /** How often the SPIFFE job ticks (JWT key rotation, bundle publication); default {@link spiffeInterval}. */
  readonly spiffeIntervalMs?: number;
}

/** The SPIFFE job's default tick: half the refresh hint, at most 30 s (a replica reads a new key or bundle within it). */
export function spiffeInterval(refreshHintMs: number): number {
  return Math.max(1000, Math.min(30_000, Math.floor(refreshHintMs / 2)));
}

/** How long expired ACME orders and authorizations are kept before the periodic purge deletes them. */
export const ACME_RETENTION_MS = 30 * 24 * 3_600_000;

/** How long deleted registration entries stay as tombstones (what `entriesSince` followers see) before the SPIFFE job forgets them. */
export const ENTRY_TOMBSTONE_RETENTION_MS = 7 * 24 * 3_600_000;

/** How often the periodic jobs of {@link startCa} tick by default. */
export const JOB_INTERVAL_MS = 10 * 60_000;

/** One tick of a periodic job. */
export interface JobRun {
  readonly job: 'purge-used-tokens' | 'acme-resume-validations' | 'acme-purge-expired' | 'revocation' | 'spiffe';
  /** False when another replica holds the job's lease (it runs there). */
  readonly ran: boolean;
  /** Used tokens (and ACME nonces), long-expired ACME orders and authorizations, or old entry tombstones (the SPIFFE job), that were deleted. */
  readonly purged?: number;
  /** ACME validations abandoned by a stopped replica that were started again. */
  readonly resumed?: number;
  /** The revocation watcher, CRL part: whether a CRL was due and why, and the one signed (`ran`: this replica held the CRL lease). */
  readonly crl?: { readonly decision: CrlDecision; readonly number?: bigint; readonly entries?: number };
  /** What each CRL partition 1…N did (a partitioned CA). */
  readonly crlShards?: readonly { readonly shard: number; readonly decision: CrlDecision; readonly number?: bigint; readonly entries?: number }[];
  /** The revocation watcher, OCSP part (every replica): kept responses dropped, signed again, responder certificate replaced. */
  readonly ocsp?: OcspMaintenance;
  /** The SPIFFE job: what each served trust domain's rotation and publication did (`ran`: this replica held the lease; otherwise it only read what the holder wrote). */
  readonly spiffe?: readonly TrustDomainMaintenance[];
  /** The SPIFFE job, federation part: the foreign bundles that were due and what their fetch did. */
  readonly federation?: readonly FederationRefresh[];
  /** Why the tick failed (the database unreachable, say): `CODE: message`. The next tick tries again. */
  readonly error?: string;
}

/** A CA that is serving. */
export interface RunningCa {
  /** The authority serving requests now (replaced by {@link reload}). */
  readonly authority: Authority;
  readonly store: Store;
  /** The Prometheus registry behind `GET /metrics`. */
  readonly metrics: CaMetrics;
  /** `https://host:port` of the first configured name. */
  readonly url: string;
  readonly port: number;
  /** `http://host:port` of the plain-HTTP revocation listener, when `revocation.httpAddress` is set. */
  readonly httpUrl: string | undefined;
  /** The CRL publisher of partition 0, the CRL at `crlUrl` (undefined when `revocation.crl.enabled` is false). */
  readonly crl: CrlPublisher | undefined;
  /** Every CRL publisher, by partition: [0] is {@link crl}, [k] signs `crlUrl/k`. */
  readonly crls: readonly CrlPublisher[];
  /** This replica's OCSP responder (undefined when `revocation.ocsp.enabled` is false). */
  readonly ocsp: OcspResponder | undefined;
  /** The server's current TLS identity. */
  identity(): TlsIdentity;
  /**
   * Applies a new configuration without dropping a connection: provisioners, claims, policies,
   * templates, CRL/OCSP URLs. The new authority is built completely before it replaces the old
   * one, so a config that does not work (a bad template, say) throws and changes nothing. Settings
   * that need a restart (address, names, keys, root, database) are returned, not applied.
   */
  reload(config: CaConfig): Promise<string[]>;
  /**
   * Runs the periodic jobs once, now — each only if this replica gets the job's lease in the
   * database (one replica at a time runs it; the lease lasts two intervals and its holder renews
   * it at every tick, so another replica takes over only when the holder stops).
   */
  runJobs(): Promise<JobRun[]>;
  /**
   * One tick of the revocation watcher, which runs every `revocation.propagation`: signs a new CRL
   * when one is due (one replica at a time, by lease), then serves the newest stored CRL; drops
   * the OCSP responses of certificates revoked since the last tick, signs hot ones again, and
   * replaces the OCSP responder certificate when due.
   */
  publishRevocations(): Promise<JobRun>;
  /** The SPIFFE trust domains this CA serves, by name (empty: none). */
  readonly trustDomains: ReadonlyMap<string, TrustDomainService>;
  /**
   * One tick of the SPIFFE job: with the lease, rotate each served trust domain's JWT keys and
   * publish its bundle; without it, read what the holder wrote.
   */
  maintainSpiffe(): Promise<JobRun>;
  /** Stops accepting connections, lets in-flight requests finish, closes the store. */
  close(): Promise<void>;
}

function readCertificate(path: string, what: string): Uint8Array {
  const data = readFileSync(path);
  if (looksLikePem(data)) return decodePem(data.toString('latin1'), ['CERTIFICATE']).der;
  if (data.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${what} ${path} is empty`);
  return new Uint8Array(data);
}

/**
 * The SSH CA keys, decrypted with `ssh.passwordFile` or else the intermediate's password; each
 * must be a key OpenSSH accepts for a CA (ERR_SSH_KEY_UNSUPPORTED otherwise).
 */
function loadSshKeys(config: CaConfig, intermediatePassword: string | undefined): { user: KeyObject; host: KeyObject } | undefined {
  const ssh = config.ssh;
  if (ssh === undefined) return undefined;
  const password = ssh.passwordFile !== undefined ? passwordFromFile(readFileSync(ssh.passwordFile), ssh.passwordFile) : intermediatePassword;
  const load = (path: string): KeyObject => {
    const key = parsePrivateKey(new Uint8Array(readFileSync(path)), password);
    publicKeyBlob(key);
    return key;
  };
  return { user: load(ssh.userKey), host: load(ssh.hostKey) };
}

/** Settings a running CA cannot change: a reload reports them as needing a restart. */
const RESTART_FIELDS: readonly { readonly name: string; readonly get: (c: CaConfig) => unknown }[] = [
  { name: 'address', get: (c) => c.address },
  { name: 'dnsNames', get: (c) => c.dnsNames },
  { name: 'root', get: (c) => c.root },
  { name: 'additionalRoots', get: (c) => c.additionalRoots },
  { name: 'intermediate', get: (c) => c.intermediate },
  { name: 'ssh', get: (c) => c.ssh },
  { name: 'db', get: (c) => c.db },
  { name: 'acme', get: (c) => c.acme },
  { name: 'revocation', get: (c) => c.revocation },
  { name: 'spiffe', get: (c) => c.spiffe },
];

/** Provisioners added, removed or changed (key, claims, policy or template) between two configs, by name. */
function provisionerChanges(before: CaConfig, after: CaConfig): { added: string[]; removed: string[]; changed: string[] } {
  // KeyObjects stringify as {}: the JWK stands for the key.
  const face = (p: CaProvisioner): string => JSON.stringify({ ...p, publicKey: undefined });
  const old = new Map(before.provisioners.map((p) => [p.name, face(p)]));
  const now = new Map(after.provisioners.map((p) => [p.name, face(p)]));
  return {
    added: [...now.keys()].filter((n) => !old.has(n)),
    removed: [...old.keys()].filter((n) => !now.has(n)),
    changed: [...now.keys()].filter((n) => old.has(n) && old.get(n) !== now.get(n)),
  };
}

/** The public face of the configured provisioners (no secrets exist in the config, and none would be shown). */
function publicProvisioners(config: CaConfig): PublicProvisioner[] {
  return config.provisioners.map((p) => {
    const c = p.claims;
    let face: Pick<PublicProvisioner, 'key' | 'directory' | 'challenges' | 'requireEAB' | 'issuer' | 'clientId' | 'domains'>;
    if (p.type === 'JWK') {
      const { kid, kty, crv, x, y, n, e, alg } = p.jwk as Record<string, unknown>;
      face = { key: Object.fromEntries(Object.entries({ kty, crv, x, y, n, e, kid, alg }).filter(([, v]) => v !== undefined)) };
    } else if (p.type === 'OIDC') {
      face = { issuer: p.issuer, clientId: p.clientId, domains: p.domains };
    } else {
      face = { directory: `/acme/${p.name}/directory`, challenges: p.challenges, requireEAB: p.requireEAB };
    }
    return {
      type: p.type,
      name: p.name,
      ...face,
      claims: {
        minLifetime: formatDuration(c.minLifetimeMs),
        maxLifetime: formatDuration(c.maxLifetimeMs),
        defaultLifetime: formatDuration(c.defaultLifetimeMs),
        allowRenewal: c.allowRenewal,
        allowRenewalAfterExpiry: c.allowRenewalAfterExpiry,
        keyTypes: c.keyTypes,
        ...(config.ssh !== undefined && c.sshEnabled
          ? {
              ssh: {
                user: { minLifetime: formatDuration(c.sshUserMinLifetimeMs), maxLifetime: formatDuration(c.sshUserMaxLifetimeMs), defaultLifetime: formatDuration(c.sshUserDefaultLifetimeMs) },
                host: { minLifetime: formatDuration(c.sshHostMinLifetimeMs), maxLifetime: formatDuration(c.sshHostMaxLifetimeMs), defaultLifetime: formatDuration(c.sshHostDefaultLifetimeMs) },
              },
            }
          : {}),
      },
    };
  });
}

/** Starts `server` on `host:port`; a port in use or not allowed is ERR_ADDRESS_IN_USE naming the config field. */
function listenOn(server: Server | HttpServer, port: number, host: string, field: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new SignetError('ERR_ADDRESS_IN_USE', `cannot listen on ${host || '*'}:${port}: the port is in use`, { hint: `stop the other process or change "${field}" in the config` }));
      else if (e.code === 'EACCES') reject(new SignetError('ERR_ADDRESS_IN_USE', `cannot listen on port ${port}: permission denied`, { hint: 'use a port above 1023' }));
      else reject(e);
    });
    server.listen(port, host || undefined, () => resolve());
  });
}

function hostForUrl(name: string): string {
  return isIP(name) === 6 ? `[${name}]` : name;
}

/**
 * Starts the CA described by `config`. Fails with the specific error of the first thing that
 * cannot work (missing file, wrong password, port in use) before anything listens.
 */
export async function startCa(config: CaConfig, options: StartCaOptions): Promise<RunningCa> {
  const root = readCertificate(config.root, 'root certificate');
  // Published next to the root (a rollover's next or previous root): /roots and the SPIFFE bundles.
  const additionalRoots = loadAdditionalRoots(config, parseCertificate(root), options.clock.now()).map((c) => c.der);
  const publishedRoots = [root, ...additionalRoots];
  const intermediate = readCertificate(config.intermediate.certificate, 'intermediate certificate');
  let password = options.password;
  if (config.intermediate.passwordFile !== undefined) {
    password = passwordFromFile(readFileSync(config.intermediate.passwordFile), config.intermediate.passwordFile);
  }
  const key = parsePrivateKey(new Uint8Array(readFileSync(config.intermediate.key)), password);
  const signer = createSoftwareSigner(key);
  const sshKeys = loadSshKeys(config, password);
  const store = await openConfiguredStore(config.db, { clock: options.clock });
  let server: Server | undefined;
  let plain: HttpServer | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const metrics = createCaMetrics(options.clock);
    metrics.certificate('root', parseCertificate(root).notAfter);
    metrics.certificate('intermediate', parseCertificate(intermediate).notAfter);
    const observe = (o: AuthorityOutcome): void => metrics.outcome(o);
    // CRL partitions as the CA started (revocation settings need a restart): the authority names them, the publishers sign them.
    const crlShards = config.revocation.crl.enabled ? config.revocation.crl.shards : 1;
    // Agents holding a request open for entry changes wake through one watcher per replica.
    const entryChanges = new RevisionWatcher(() => store.spiffe.entryRevision());
    // Node attestation: the CA certificates x509pop node certificates and TPM EK certificates must chain to.
    const caFile = (file: string | undefined, field: string): Certificate[] => {
      if (file === undefined) return [];
      const roots = decodePemAll(readFileSync(file, 'latin1')).filter((b) => b.label === 'CERTIFICATE').map((b) => parseCertificate(b.der));
      if (roots.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `spiffe.${field} ${file} holds no PEM certificate`);
      return roots;
    };
    const x509popRoots = caFile(config.spiffe.x509popCaFile, 'x509popCaFile');
    const tpmEkRoots = caFile(config.spiffe.tpmEkCaFile, 'tpmEkCaFile');
    // The SPIFFE trust domains the intermediate serves: their JWT keys and bundles, ready before anything listens.
    const trustDomains = new Map<string, TrustDomainService>();
    for (const td of servedTrustDomains(parseCertificate(intermediate))) {
      if (password === undefined || password === '') throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', `the CA serves SPIFFE trust domain ${td}: its JWT signing keys are stored encrypted with the intermediate key's password, and the intermediate key has none`);
      const service = new TrustDomainService({ trustDomain: td, store, clock: options.clock, settings: config.spiffe, x509Authorities: publishedRoots, password });
      await service.maintain();
      trustDomains.set(td, service);
    }
    let authority = new Authority({ config, store, intermediate, signer, root, additionalRoots, clock: options.clock, observe, crlShards, trustDomains, ...(sshKeys ? { sshKeys } : {}) });
    let current = config;
    const live = (): Authority => authority;
    const names = config.dnsNames.length > 0 ? config.dnsNames : ['localhost'];
    // The server's SPIFFE ID (of the first served trust domain): what https_spiffe peers of its bundle endpoint expect.
    const serverId = trustDomains.size > 0 ? serverSpiffeId([...trustDomains.keys()][0] as string) : undefined;
    const issueIdentity = (): TlsIdentity => issueServerIdentity({ certificate: intermediate, signer }, names, options.clock, undefined, serverId);
    let identity = issueIdentity();
    metrics.certificate('server', identity.notAfter);
    let port = options.port ?? config.listen.port;
    // The URLs a token may name: the configured public ones (a load balancer's), else each name at our port.
    const audience = (path: string): string[] => (current.urls ?? names.map((n) => `https://${hostForUrl(n)}:${port}`)).map((base) => `${base}${path}`);
    const acme = acmeRoutes({
      authority: live,
      config: () => current,
      store,
      clock: options.clock,
      baseUrls: () => audience(''),
      validator: new ChallengeValidator(config.acme),
      nonces: await NonceService.open(store, options.clock),
      chain: [intermediate],
      issuerKeyIdentifier: parseCertificate(intermediate).ext.subjectKeyIdentifier,
      ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}),
    });
    const holder = `${hostname()}/${process.pid}/${randomBytes(6).toString('hex')}`;
    const settings = config.revocation;
    // Partition 0 (the CRL at crlUrl) always; with shards N > 1 also 1…N at crlUrl/k — and every
    // partition published before (fewer shards now): certificates issued then still name it.
    const partitions = settings.crl.enabled ? Math.max(crlShards > 1 ? crlShards : 0, await store.revocations.highestCrlShard(parseCertificate(intermediate).serialHex)) : 0;
    const crls = settings.crl.enabled
      ? Array.from({ length: partitions + 1 }, (_, shard) =>
          new CrlPublisher({
            store,
            issuer: intermediate,
            signer,
            clock: options.clock,
            validityMs: settings.crl.validityMs,
            refreshMs: settings.crl.refreshMs,
            shard,
            url: () => (current.crlUrl === undefined ? undefined : crlPartitionUrl(current.crlUrl, shard)),
          }),
        )
      : [];
    const crl = crls[0];
    const ocsp = settings.ocsp.enabled
      ? await OcspResponder.create({
          store,
          issuer: intermediate,
          issuerSigner: signer,
          clock: options.clock,
          validityMs: settings.ocsp.validityMs,
          signerLifetimeMs: settings.ocsp.signerLifetimeMs,
          cacheSize: settings.ocsp.cacheSize,
          replica: holder,
          tickMs: settings.propagationMs,
        })
      : undefined;
    // The revocation watcher: the CRL job (one replica at a time), what this replica serves, and its OCSP responses.
    const publishRevocations = async (): Promise<JobRun> => {
      let run: JobRun = { job: 'revocation', ran: false };
      if (crl !== undefined) {
        if (await store.coordination.acquireLease('crl', holder, options.clock.now(), 3 * settings.propagationMs)) {
          // One read of the revocation sequence for every partition's check.
          const sequence = await store.revocations.sequence();
          const { decision, crl: signed } = await crl.publishIfDue(sequence);
          run = { job: 'revocation', ran: true, crl: { decision, ...(signed && { number: signed.number, entries: signed.entries }) } };
          const partitions: NonNullable<JobRun['crlShards']>[number][] = [];
          for (const p of crls.slice(1)) {
            const r = await p.publishIfDue(sequence);
            partitions.push({ shard: p.shard, decision: r.decision, ...(r.crl && { number: r.crl.number, entries: r.crl.entries }) });
          }
          if (partitions.length > 0) run = { ...run, crlShards: partitions };
        }
        for (const p of crls) await p.refresh();
      }
      if (ocsp !== undefined) run = { ...run, ocsp: await ocsp.maintain() };
      return run;
    };
    // A CA serves a CRL from its first request on: sign one now unless one is stored (or another replica is signing it).
    if (crl !== undefined) await publishRevocations();
    const maxAgeMs = (): number => settings.propagationMs;
    const revocationRoutes: Route[] = [
      ...(crl === undefined ? [] : crlRoutes({ crl: (shard) => crls[shard]?.served(), shards: crls.length - 1, clock: options.clock, maxAgeMs })),
      ...(ocsp === undefined ? [] : ocspRoutes({ responder: ocsp, clock: options.clock, maxAgeMs })),
    ];
    const reporting = {
      onRequest: (r: RequestRecord) => {
        metrics.request(r);
        options.onRequest?.(r);
      },
      ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}),
    };
    const srv = createApiServer({
      tls: identity.context,
      routes: [
        ...revocationRoutes,
        ...publicRoutes(() => ({ roots: publishedRoots, intermediates: [intermediate] }), async () => void (await store.audit.list({ limit: 1 }))),
        provisionersRoute(() => publicProvisioners(current)),
        metricsRoute(metrics),
        signRoute(live, () => audience('/sign')),
        ...sshRoutes(live, audience),
        ...certificateRoutes(live, audience),
        ...spiffeRoutes({ authority: live, service: (td?: string) => (td === undefined ? trustDomains.values().next().value : trustDomains.get(td)), audience, store, clock: options.clock, trustDomains: [...trustDomains.keys()], agentSvidLifetimeMs: config.spiffe.agentSvidLifetimeMs, x509popRoots, tpmEkRoots, entryChanges }),
        ...acme.routes,
      ],
      requestClientCertificate: true,
      renderUnrouted: (e, path, id) => acme.renderUnrouted(e, path, id),
      ...reporting,
    });
    server = srv;
    await listenOn(srv, port, config.listen.host, 'address');
    port = (srv.address() as AddressInfo).port;
    let httpUrl: string | undefined;
    if (settings.httpListen !== undefined) {
      const listen = settings.httpListen;
      const p = createPlainServer({ routes: revocationRoutes, ...reporting });
      plain = p;
      await listenOn(p, options.httpPort ?? listen.port, listen.host, 'revocation.httpAddress');
      httpUrl = `http://${hostForUrl(listen.host || names[0] || 'localhost')}:${(p.address() as AddressInfo).port}`;
    }
    const scheduleRenewal = (): void => {
      const delay = Math.max(1000, identity.renewAt.getTime() - options.clock.now().getTime());
      timer = setTimeout(
        () => {
          try {
            identity = issueIdentity();
            srv.setSecureContext(identity.context);
            metrics.certificate('server', identity.notAfter);
            options.onIdentityRenewed?.(identity);
          } catch (e) {
            options.onInternalError?.(e, 'tls-renewal');
          }
          scheduleRenewal();
        },
        Math.min(delay, 2 ** 31 - 1),
      );
      timer.unref();
    };
    scheduleRenewal();

    // -- periodic jobs, one replica at a time (a lease in the database decides which)
    const jobInterval = options.jobIntervalMs ?? JOB_INTERVAL_MS;
    const runJobs = async (): Promise<JobRun[]> => {
      const now = options.clock.now();
      const runs: JobRun[] = [];
      if (await store.coordination.acquireLease('purge-used-tokens', holder, now, 2 * jobInterval)) {
        // A used token is remembered until it could no longer be accepted (its exp plus the leeway); then it can go.
        runs.push({ job: 'purge-used-tokens', ran: true, purged: await store.tokens.purgeExpired(now) });
      } else {
        runs.push({ job: 'purge-used-tokens', ran: false });
      }
      if (await store.coordination.acquireLease('acme-resume-validations', holder, now, 2 * jobInterval)) {
        runs.push({ job: 'acme-resume-validations', ran: true, resumed: await acme.resumeStale(now) });
      } else {
        runs.push({ job: 'acme-resume-validations', ran: false });
      }
      if (await store.coordination.acquireLease('acme-purge-expired', holder, now, 2 * jobInterval)) {
        // Protocol objects are kept a while after they expire (clients and operators may still look
        // them up), then go, a bounded batch per tick; the certificates stay in the inventory.
        runs.push({ job: 'acme-purge-expired', ran: true, purged: await store.acme.purgeExpired(new Date(now.getTime() - ACME_RETENTION_MS), 1000) });
      } else {
        runs.push({ job: 'acme-purge-expired', ran: false });
      }
      return runs;
    };
    /** Runs `tick` every `ms`: its runs go to onJob; a refusal (the database away, say) is reported as a failed run of `job`, a bug as an internal error. */
    const every = (ms: number, job: JobRun['job'], tick: () => Promise<JobRun | JobRun[]>): NodeJS.Timeout => {
      const timer = setInterval(() => {
        tick().then(
          (runs) => (Array.isArray(runs) ? runs : [runs]).forEach((r) => options.onJob?.(r)),
          (e: unknown) => {
            if (isSignetError(e) && e.code !== 'ERR_INTERNAL') options.onJob?.({ job, ran: false, error: `${e.code}: ${e.message}` });
            else options.onInternalError?.(e, job === 'purge-used-tokens' ? 'jobs' : job);
          },
        );
      }, ms);
      timer.unref();
      return timer;
    };
    const jobTimer = every(jobInterval, 'purge-used-tokens', runJobs);
    const revocationTimer = every(options.revocationIntervalMs ?? settings.propagationMs, 'revocation', publishRevocations);
    const maintainSpiffe = async (): Promise<JobRun> => {
      const spiffeTick = options.spiffeIntervalMs ?? spiffeInterval(config.spiffe.refreshHintMs);
      if (await store.coordination.acquireLease('spiffe', holder, options.clock.now(), 3 * spiffeTick)) {
        const done: TrustDomainMaintenance[] = [];
        for (const s of trustDomains.values()) done.push(await s.maintain());
        // Foreign bundles whose refresh hint has passed, fetched by the lease holder for every replica.
        const federation = await refreshDueFederations(store, options.clock);
        // Deleted entries are kept as tombstones for followers a while, then forgotten (a bounded batch per tick).
        const horizon = new Date(options.clock.now().getTime() - ENTRY_TOMBSTONE_RETENTION_MS);
        // …and so are join tokens a week after they expired (used ones are in the audit log).
        // TPM challenges nobody answered are forgotten once they expire (nothing refers to them).
        const purgedEntries = (await store.spiffe.purgeDeletedEntries(horizon, 1000)) + (await store.spiffe.purgeJoinTokens(horizon, 1000)) + (await store.spiffe.purgeTpmChallenges(options.clock.now(), 1000));
        return { job: 'spiffe', ran: true, ...(done.length > 0 ? { spiffe: done } : {}), ...(federation.length > 0 ? { federation } : {}), ...(purgedEntries > 0 ? { purged: purgedEntries } : {}) };
      }
      for (const s of trustDomains.values()) await s.refresh();
      return { job: 'spiffe', ran: false };
    };
    const spiffeTimer = every(options.spiffeIntervalMs ?? spiffeInterval(config.spiffe.refreshHintMs), 'spiffe', maintainSpiffe);
    const url = `https://${hostForUrl(names[0] ?? 'localhost')}:${port}`;
    return {
      get authority() {
        return authority;
      },
      store,
      metrics,
      url,
      port,
      httpUrl,
      crl,
      crls,
      ocsp,
      identity: () => identity,
      reload: async (next) => {
        const restart = RESTART_FIELDS.filter((f) => JSON.stringify(f.get(next)) !== JSON.stringify(f.get(current))).map((f) => f.name);
        const fresh = new Authority({ config: next, store, intermediate, signer, root, additionalRoots, clock: options.clock, observe, crlShards, trustDomains, ...(sshKeys ? { sshKeys } : {}) });
        const change = provisionerChanges(current, next);
        if (change.added.length + change.removed.length + change.changed.length > 0) {
          // Who may issue what changed: the audit log records it (DESIGN.md: every provisioner change).
          await store.audit.append({ time: options.clock.now(), type: 'provisioners.change', outcome: 'success', actor: 'operator (configuration reload)', detail: { ...change } });
        }
        authority = fresh;
        current = next;
        return restart;
      },
      runJobs,
      publishRevocations,
      trustDomains,
      maintainSpiffe,
      close: async () => {
        entryChanges.close();
        clearInterval(jobTimer);
        clearInterval(spiffeTimer);
        clearInterval(revocationTimer);
        if (plain !== undefined) {
          const p = plain;
          await new Promise<void>((resolve) => {
            p.close(() => resolve());
            p.closeIdleConnections();
          });
        }
        if (timer) clearTimeout(timer);
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeIdleConnections();
        });
        await store.close();
      },
    };
  } catch (e) {
    if (timer) clearTimeout(timer);
    server?.close();
    plain?.close();
    await store.close();
    throw e;
  }
}
