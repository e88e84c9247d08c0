/**
 * Native issuance, end to end (ISSUE 3 "Done means"): HTTPS keep-alive `POST /sign`, each
 * request with a fresh one-time token and a fresh CSR (a new P-256 key), against a CA made by
 * `signet ca init`'s own code with its SQLite store (WAL, synchronous=FULL) — at concurrency 1,
 * 16 and 64, on one core (one server process) and on two cores (two server processes).
 *
 * Two cores: node:cluster. The bench process is the primary and the load client; each worker is
 * a whole CA (bench/issuance-server.ts) listening on port 0, which in a cluster means one shared
 * port: the primary accepts each new connection and hands it to the workers in turn, and
 * keep-alive connections then stay with their worker, so 16 or 64 connections split evenly. Both
 * workers open the same SQLite file, as replicas on one host would; SQLite's write lock
 * serialises their transactions. (Two ports with a client that splits the load would measure
 * the same thing, but only node:cluster is how one host really runs two replicas on one port.)
 *
 * The cryptographic floor of one issuance is measured in the same run with node:crypto only:
 * verify the token's ES256 signature, import the CSR's key from its SPKI (src/crypto/spki.ts, the
 * fastest way node:crypto offers) and verify the CSR's
 * signature, sign a TBSCertificate of the size the server really issues with the intermediate's
 * P-256 key. `ratio` = server rate / floor rate (two cores: / twice the floor). `cpuRatio` =
 * floor time / server CPU time per issuance: how much of what the servers burn is the
 * cryptography itself — a figure that a busy machine disturbs less than the rates.
 *
 * Measuring (the "slices" of bench/measure.ts): every configuration warms up, then runs slices of
 * a fixed number of requests sized to take ~SLICE_MS at the rate seen so far, until it has been
 * measured for ~CONFIG_MS; a slice's time runs from its first request to its last answer, so no
 * request is cut off and every minted token is used — exactly as many as are sent. The tokens
 * and CSRs of a slice are made before it starts (making them is the client's cost, not the
 * server's), while the servers sit idle; after each slice the floor runs for a short slice in
 * this process, so a frequency change or a noisy neighbour hits floor and server figures alike.
 */
import cluster, { type Worker } from 'node:cluster';
import { sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { importSpki } from '../src/crypto/spki.js';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../src/ca/token.js';
import { decodePem, encodePem } from '../src/core/pem.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { buildCsr } from '../src/x509/csr.js';
import { children, readSingle } from '../src/x509/der-reader.js';
import { createBenchCa, type BenchCa } from './ca.js';
import { HttpConnection, postRequestBytes, type HttpReply } from './http-client.js';
import type { ServerCommand, ServerReport } from './issuance-server.js';
import { slice } from './measure.js';

/** Measured time per configuration (ms); SIGNET_BENCH_ISSUANCE_MS overrides it. */
const CONFIG_MS = Number(process.env.SIGNET_BENCH_ISSUANCE_MS ?? 2500);
/** Target length of one slice of requests (ms). */
const SLICE_MS = 500;
/** Floor measuring time after each slice of requests (ms). */
const FLOOR_SLICE_MS = 60;
/** Configurations as `cores:concurrency`; SIGNET_BENCH_ISSUANCE_CONFIGS overrides them (e.g. `1:64` for profiling). */
const CONFIGS = (process.env.SIGNET_BENCH_ISSUANCE_CONFIGS ?? '1:1,1:16,1:64,2:1,2:16,2:64').split(',').map((s) => {
  const [cores, concurrency] = s.split(':').map(Number);
  if (!Number.isSafeInteger(cores) || !Number.isSafeInteger(concurrency) || (cores ?? 0) < 1 || (concurrency ?? 0) < 1) {
    throw new Error(`SIGNET_BENCH_ISSUANCE_CONFIGS: bad entry "${s}" (want cores:concurrency)`);
  }
  return { cores: cores as number, concurrency: concurrency as number };
});
/** When set, the servers run with `--cpu-prof` and write their profiles into this directory. */
const PROFILE_DIR = process.env.SIGNET_BENCH_PROFILE;
/** The load client: `raw` (bench/http-client.ts, the default) or `https` (node:https with a keep-alive Agent). */
const CLIENT = process.env.SIGNET_BENCH_CLIENT === 'https' ? 'https' : 'raw';
/** Requests made per batch of token minting (jose signs asynchronously). */
const MINT_BATCH = 256;
const SERVER_ENTRY = fileURLToPath(new URL('./issuance-server.js', import.meta.url));
// ---------------------------------------------------------------------------------------------
// the requests

/** One prepared `/sign` request, and what the floor needs of it. */
interface PreparedRequest {
  readonly body: Buffer;
  /** The whole HTTP request (for the raw client). */
  readonly bytes: Buffer;
  readonly token: string;
  readonly csr: Uint8Array;
}

let sequence = 0;

/** `count` requests, each with a new P-256 key, its CSR and a token for exactly its names. */
async function prepareRequests(ca: BenchCa, port: number, count: number): Promise<PreparedRequest[]> {
  const audience = `https://127.0.0.1:${port}/sign`;
  const out: PreparedRequest[] = [];
  for (let done = 0; done < count; done += MINT_BATCH) {
    const batch = Array.from({ length: Math.min(MINT_BATCH, count - done) }, async () => {
      const name = `host-${++sequence}.bench.example.com`;
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const csr = buildCsr(
        { subject: [[{ type: 'CN', value: name }]], extensions: { subjectAltName: { names: [{ type: 'dns', value: name }] } } },
        createSoftwareSigner(pair.privateKey),
      );
      const token = await mintToken({ key: ca.provisionerKey, kid: ca.kid, issuer: 'admin', audience, subject: name, sans: [name], rootFingerprint: ca.rootFingerprint, now: new Date() });
      const body = Buffer.from(JSON.stringify({ csr: encodePem('CERTIFICATE REQUEST', csr), ott: token }));
      return { body, bytes: postRequestBytes(`127.0.0.1:${port}`, '/sign', body), token, csr };
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the cryptographic floor

interface FloorSample {
  readonly tokenInput: Buffer;
  readonly tokenSignature: Buffer;
  readonly csrInfo: Uint8Array;
  readonly csrSpki: Buffer;
  readonly csrSignature: Uint8Array;
}

/** Splits a prepared request into the bytes the floor's node:crypto calls take. */
function floorSample(r: PreparedRequest): FloorSample {
  const [h, p, s] = r.token.split('.') as [string, string, string];
  const [info, , sig] = children(readSingle(r.csr));
  const [, , spki] = children(info as ReturnType<typeof readSingle>);
  if (info === undefined || sig === undefined || spki === undefined) throw new Error('unexpected CSR shape');
  return {
    tokenInput: Buffer.from(`${h}.${p}`, 'ascii'),
    tokenSignature: Buffer.from(s, 'base64url'),
    csrInfo: info.bytes,
    csrSpki: Buffer.from(spki.bytes),
    csrSignature: sig.content.subarray(1),
  };
}

/** The three node:crypto steps of one issuance, as separate operations and as one. */
function floorOperations(ca: BenchCa, samples: readonly FloorSample[], tbs: Uint8Array): Record<'token' | 'csr' | 'sign' | 'issuance', (i: number) => void> {
  let sink = 0;
  const n = samples.length;
  const token = (i: number): void => {
    const s = samples[i % n] as FloorSample;
    if (!cryptoVerify('sha256', s.tokenInput, { key: ca.provisionerPublicKey, dsaEncoding: 'ieee-p1363' }, s.tokenSignature)) throw new Error('floor: token signature');
  };
  const csr = (i: number): void => {
    const s = samples[i % n] as FloorSample;
    // The fastest import there is (src/crypto/spki.ts), the one the server uses: the floor must not be slower than the product.
    const key = importSpki(s.csrSpki);
    if (!cryptoVerify('sha256', s.csrInfo, key, s.csrSignature)) throw new Error('floor: CSR signature');
  };
  const sign = (): void => {
    sink ^= cryptoSign('sha256', tbs, ca.intermediateKey).length;
  };
  const issuance = (i: number): void => {
    token(i);
    csr(i);
    sign();
  };
  if (sink === -1) process.stderr.write('');
  return { token, csr, sign, issuance };
}

/** Sums floor slices run between the server slices. */
class FloorClock {
  ops = 0;
  ms = 0;
  constructor(private readonly op: (i: number) => void) {}
  run(ms: number): void {
    const r = slice(ms, this.op, this.ops);
    this.ops += r.ops;
    this.ms += r.ms;
  }
  get rate(): number {
    return (this.ops * 1000) / this.ms;
  }
}

// ---------------------------------------------------------------------------------------------
// the servers

interface Servers {
  readonly workers: readonly Worker[];
  readonly port: number;
}

function waitFor<T extends ServerReport['type']>(worker: Worker, type: T): Promise<Extract<ServerReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ServerReport): void => {
      if (m.type === type) {
        cleanup();
        resolve(m as Extract<ServerReport, { type: T }>);
      } else if (m.type === 'failed') {
        cleanup();
        reject(new Error(`bench server failed: ${m.message}`));
      }
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`bench server exited with ${code}`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

function command(worker: Worker, c: ServerCommand): void {
  worker.send(c);
}

/** Forks `cores` CA servers, one after the other (the first applies any migration alone). */
async function startServers(configPath: string, cores: number): Promise<Servers> {
  cluster.setupPrimary({
    exec: SERVER_ENTRY,
    args: [configPath],
    execArgv: PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`],
    // A server's stdout must not mix into the JSON this process prints.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  const workers: Worker[] = [];
  let port = 0;
  for (let i = 0; i < cores; i++) {
    const worker = cluster.fork();
    workers.push(worker);
    const ready = await waitFor(worker, 'ready');
    if (port !== 0 && ready.port !== port) throw new Error('cluster workers listen on different ports');
    port = ready.port;
  }
  return { workers, port };
}

async function stopServers(servers: Servers): Promise<void> {
  await Promise.all(
    servers.workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          w.once('exit', () => resolve());
          command(w, { type: 'close' });
        }),
    ),
  );
}

/** CPU time (µs) the servers used so far, summed. */
async function serverCpu(servers: Servers): Promise<number> {
  const answers = await Promise.all(
    servers.workers.map((w) => {
      const p = waitFor(w, 'usage');
      command(w, { type: 'usage' });
      return p;
    }),
  );
  return answers.reduce((sum, a) => sum + a.cpuMicroseconds, 0);
}

// ---------------------------------------------------------------------------------------------
// the client

type Reply = HttpReply;

/** Sends requests on `concurrency` keep-alive connections; `stream` names the connection. */
interface Client {
  send(stream: number, request: PreparedRequest): Promise<Reply>;
  close(): void;
}

function rawClient(port: number, ca: string, concurrency: number): Client {
  const connections = Array.from({ length: concurrency }, () => new HttpConnection(port, ca));
  return {
    send: (stream, r) => (connections[stream] as HttpConnection).request(r.bytes),
    close: () => connections.forEach((c) => c.close()),
  };
}

function nodeHttpsClient(port: number, ca: string, concurrency: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const send = (_stream: number, r: PreparedRequest): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        { agent, host: '127.0.0.1', port, path: '/sign', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': r.body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(r.body);
    });
  return { send, close: () => agent.destroy() };
}

interface SliceResult {
  readonly ms: number;
  readonly latencies: Float64Array;
  readonly first: Reply;
}

/** Sends all `requests` over at most `concurrency` keep-alive connections; every answer must be 201. */
async function runRequests(client: Client, requests: readonly PreparedRequest[], concurrency: number): Promise<SliceResult> {
  const latencies = new Float64Array(requests.length);
  let next = 0;
  let first: Reply | undefined;
  let failure: Error | undefined;
  const start = performance.now();
  const loop = async (stream: number): Promise<void> => {
    while (next < requests.length && failure === undefined) {
      const i = next++;
      const t0 = performance.now();
      const reply = await client.send(stream, requests[i] as PreparedRequest);
      latencies[i] = performance.now() - t0;
      if (reply.status !== 201) failure ??= new Error(`POST /sign answered ${reply.status}: ${reply.body.toString('utf8').slice(0, 300)}`);
      if (i === 0) first = { status: reply.status, body: Buffer.from(reply.body) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, (_, stream) => loop(stream)));
  const ms = performance.now() - start;
  if (failure !== undefined) throw failure;
  if (first === undefined) throw new Error('no request was sent');
  return { ms, latencies, first };
}

// ---------------------------------------------------------------------------------------------
// one configuration

interface ConfigResult {
  cores: number;
  concurrency: number;
  certificatesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server rate / (cores × floor rate). */
  ratio: number;
  /** Floor time / server CPU time per issuance. */
  cpuRatio: number;
  requests: number;
  /** CPU time of the server process(es) per issuance. */
  serverCpuMicrosecondsPerIssuance: number;
  /** CPU time of this (client) process per request. */
  clientCpuMicrosecondsPerRequest: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

interface Context {
  readonly ca: BenchCa;
  readonly servers: Servers;
  /** Runs after each measured slice (a floor slice), while the servers are idle. */
  readonly afterSlice: () => void;
}

/** Warm-up, then slices until the configuration was measured for CONFIG_MS. */
async function runConfig(ctx: Context, cores: number, concurrency: number): Promise<{ result: Omit<ConfigResult, 'ratio' | 'cpuRatio'>; firstReply: Reply; firstRequests: PreparedRequest[] }> {
  const { ca, servers } = ctx;
  const client = (CLIENT === 'raw' ? rawClient : nodeHttpsClient)(servers.port, ca.rootPem, concurrency);
  try {
    const warm = await prepareRequests(ca, servers.port, 300 + 4 * concurrency);
    const w = await runRequests(client, warm, concurrency);
    let rate = warm.length / (w.ms / 1000);
    let ms = 0;
    let ops = 0;
    let serverUs = 0;
    let clientUs = 0;
    const latencies: Float64Array[] = [];
    while (ms < CONFIG_MS) {
      const count = Math.max(2 * concurrency, Math.round((rate * Math.min(SLICE_MS, CONFIG_MS - ms + 50)) / 1000));
      const requests = await prepareRequests(ca, servers.port, count);
      const s0 = await serverCpu(servers);
      const c0 = process.cpuUsage();
      const r = await runRequests(client, requests, concurrency);
      const c1 = process.cpuUsage(c0);
      serverUs += (await serverCpu(servers)) - s0;
      clientUs += c1.user + c1.system;
      ms += r.ms;
      ops += requests.length;
      rate = requests.length / (r.ms / 1000);
      latencies.push(r.latencies);
      ctx.afterSlice();
    }
    const all = new Float64Array(ops);
    let at = 0;
    for (const l of latencies) {
      all.set(l, at);
      at += l.length;
    }
    all.sort();
    return {
      result: {
        cores,
        concurrency,
        certificatesPerSecond: round((ops * 1000) / ms),
        p50Ms: round(percentile(all, 0.5), 2),
        p99Ms: round(percentile(all, 0.99), 2),
        requests: ops,
        serverCpuMicrosecondsPerIssuance: round(serverUs / ops, 1),
        clientCpuMicrosecondsPerRequest: round(clientUs / ops, 1),
      },
      firstReply: w.first,
      firstRequests: warm.slice(0, 64),
    };
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// the benchmark

/** The TBSCertificate of the certificate in a `/sign` answer. */
function tbsOfReply(reply: Reply): Uint8Array {
  const parsed = JSON.parse(reply.body.toString('utf8')) as { crt?: unknown };
  if (typeof parsed.crt !== 'string') throw new Error('the /sign answer has no crt');
  const tbs = children(readSingle(decodePem(parsed.crt, ['CERTIFICATE']).der))[0];
  if (tbs === undefined) throw new Error('the issued certificate has no TBSCertificate');
  return tbs.bytes;
}

/**
 * Runs the configurations (see the module comment) and returns the figures as a JSON-ready
 * object. Everything lives in a temporary directory that is removed afterwards.
 */
export async function benchIssuance(): Promise<object> {
  const parent = mkdtempSync(join(tmpdir(), 'signet-bench-'));
  const results: ConfigResult[] = [];
  let floorFigures: Record<string, number> | undefined;
  try {
    const ca = await createBenchCa(parent);
    let floor: FloorClock | undefined;
    const byCores = new Map<number, number[]>();
    for (const c of CONFIGS) byCores.set(c.cores, [...(byCores.get(c.cores) ?? []), c.concurrency]);
    for (const [cores, concurrencies] of byCores) {
      const servers = await startServers(ca.configPath, cores);
      try {
        for (const concurrency of concurrencies) {
          // The floor needs one real TBS to sign; it comes from the first answer of the first warm-up.
          const measuring = floor;
          const afterSlice = measuring === undefined ? () => undefined : () => measuring.run(FLOOR_SLICE_MS);
          const out = await runConfig({ ca, servers, afterSlice }, cores, concurrency);
          if (floor === undefined) {
            const tbs = tbsOfReply(out.firstReply);
            const ops = floorOperations(ca, out.firstRequests.map(floorSample), tbs);
            floor = new FloorClock(ops.issuance);
            // Warm-up, then the parts once (for the profile's arithmetic), then the first slice.
            slice(300, ops.issuance, 0);
            const part = (op: (i: number) => void): number => {
              const r = slice(200, op, 0);
              return round((r.ms * 1000) / r.ops, 1);
            };
            floorFigures = { tbsBytes: tbs.length, tokenVerifyMicroseconds: part(ops.token), csrImportAndVerifyMicroseconds: part(ops.csr), certificateSignMicroseconds: part(ops.sign) };
            // The first configuration ran without floor slices: give the floor its share now.
            for (let k = 0; k < Math.ceil(CONFIG_MS / SLICE_MS); k++) floor.run(FLOOR_SLICE_MS);
          }
          results.push({ ...out.result, ratio: 0, cpuRatio: 0 });
        }
      } finally {
        await stopServers(servers);
      }
    }
    const floorRate = floor?.rate ?? NaN;
    for (const r of results) {
      r.ratio = round(r.certificatesPerSecond / (r.cores * floorRate), 3);
      r.cpuRatio = round(1e6 / floorRate / r.serverCpuMicrosecondsPerIssuance, 3);
    }
    const best = (cores: number): number => Math.max(0, ...results.filter((r) => r.cores === cores).map((r) => r.certificatesPerSecond));
    const scaling: Record<string, number> = {};
    for (const r2 of results.filter((r) => r.cores === 2)) {
      const r1 = results.find((r) => r.cores === 1 && r.concurrency === r2.concurrency);
      if (r1) scaling[`concurrency${r2.concurrency}`] = round(r2.certificatesPerSecond / r1.certificatesPerSecond, 2);
    }
    const oneCoreRatio = round(best(1) / floorRate, 3);
    const twoCoreScaling = round(best(2) / best(1), 2);
    return {
      benchmark: 'native issuance: HTTPS keep-alive POST /sign, fresh token + CSR per request, SQLite store (WAL, synchronous=FULL)',
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      node: process.versions.node,
      twoCores: 'node:cluster: two CA processes sharing one port (connections handed out in turn) and one SQLite file',
      client: CLIENT === 'raw' ? 'prepared HTTP/1.1 requests on keep-alive TLS connections (bench/http-client.ts)' : 'node:https, keep-alive Agent',
      measureMsPerConfig: CONFIG_MS,
      sliceMs: SLICE_MS,
      floor: { issuancesPerSecond: round(floorRate), issuanceMicroseconds: round(1e6 / floorRate, 1), measuredMs: round(floor?.ms ?? 0), ...floorFigures },
      results,
      scaling,
      goal: {
        description: 'best one-core rate ≥ 0.60 × floor; best two-core rate ≥ 1.7 × best one-core rate',
        oneCoreRatio,
        twoCoreScaling,
        met: oneCoreRatio >= 0.6 && twoCoreScaling >= 1.7,
      },
    };
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}
