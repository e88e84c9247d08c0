/**
 * OCSP benchmarks (ISSUE 6): responses per second and p99 latency of the responder, pre-signed
 * (a kept response, as for a hot certificate) and signed on demand (status read from SQLite,
 * response signed with the responder's P-256 key), over HTTP on one core: the server (the CA's
 * own router and OCSP routes on a plain-HTTP listener) runs on this thread, the load generator
 * in a worker thread on the other core, 32 keep-alive connections sending RFC 5019 GET requests
 * for 10,000 certificates. The raw P-256 signature rate of this thread is measured in the same
 * run as the floor of signing on demand, and so is the floor of the HTTP layer: a bare node:http
 * server on this thread answering every request with the same bytes and headers (no routing,
 * no OCSP), driven by the same load. Goal: ≥ 20,000 pre-signed responses/s on one core.
 *
 * Env: SIGNET_BENCH_OCSP_MS (measuring time per mode, default 3000); SIGNET_BENCH_OCSP_MODES
 * (comma-separated, default pre-signed,signed-on-demand).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, sign as cryptoSign } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { OcspResponder } from '../src/revocation/ocsp.js';
import { ocspRoutes } from '../src/revocation/routes.js';
import { createPlainServer } from '../src/server/http.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { issuerFromCertificate } from '../src/x509/certificate-builder.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { buildOcspRequest, encodeCertId, issuerHashes, subjectPublicKeyBits } from '../src/x509/ocsp.js';
import { createBenchCa, seedInventory } from './ca.js';

const MEASURE_MS = Number(process.env.SIGNET_BENCH_OCSP_MS ?? 3000);
const CERTIFICATES = 10_000;
const CONNECTIONS = 32;
const MODES = (process.env.SIGNET_BENCH_OCSP_MODES ?? 'pre-signed,signed-on-demand').split(',').map((m) => m.trim());

/** One mode's figures. */
export interface OcspBenchRow {
  readonly mode: 'pre-signed' | 'signed-on-demand';
  readonly responsesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/**
 * The load generator (run in a worker): per port, CONNECTIONS keep-alive connections kept open
 * across slices; a slice sends GETs on every connection, one outstanding each, until its time is
 * up, and reports the count and each request's latency.
 */
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { paths, connections } = workerData;
const reqs = paths.map((p) => Buffer.from('GET ' + p + ' HTTP/1.1\\r\\nhost: bench\\r\\n\\r\\n', 'latin1'));
const pools = new Map();
let slice = null;
function pool(port) {
  let conns = pools.get(port);
  if (conns) return conns;
  conns = [];
  for (let c = 0; c < connections; c++) {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const conn = { s, buf: Buffer.alloc(0), sentAt: 0, i: c * 7919, ready: new Promise((r) => s.once('connect', r)) };
    s.on('data', (chunk) => {
      conn.buf = conn.buf.length === 0 ? chunk : Buffer.concat([conn.buf, chunk]);
      for (;;) {
        const end = conn.buf.indexOf('\\r\\n\\r\\n');
        if (end < 0) return;
        const head = conn.buf.toString('latin1', 0, end);
        const m = /content-length: (\\d+)/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        if (conn.buf.length < end + 4 + len) return;
        conn.buf = conn.buf.subarray(end + 4 + len);
        const now = performance.now();
        if (!head.startsWith('HTTP/1.1 200')) slice.errors++;
        slice.lat.push(now - conn.sentAt);
        slice.done++;
        if (now < slice.deadline) send(conn);
        else if (--slice.open === 0) finish();
      }
    });
    s.on('error', () => { if (slice) slice.errors++; });
    conns.push(conn);
  }
  pools.set(port, conns);
  return conns;
}
function send(conn) { conn.sentAt = performance.now(); conn.s.write(reqs[conn.i++ % reqs.length]); }
function finish() {
  const s = slice;
  slice = null;
  parentPort.postMessage({ done: s.done, errors: s.errors, elapsed: performance.now() - s.started, lat: Float64Array.from(s.lat) });
}
parentPort.on('message', async ({ port, ms }) => {
  const conns = pool(port);
  await Promise.all(conns.map((c) => c.ready));
  const started = performance.now();
  slice = { started, deadline: started + ms, done: 0, errors: 0, open: conns.length, lat: [] };
  for (const c of conns) send(c);
});
`;

interface Slice {
  readonly done: number;
  readonly errors: number;
  readonly elapsed: number;
  readonly lat: Float64Array;
}

/** The load generator: one worker thread (the other core), driven slice by slice. */
class Load {
  readonly #w: Worker;
  constructor(paths: readonly string[]) {
    this.#w = new Worker(LOAD, { eval: true, workerData: { paths, connections: CONNECTIONS } });
  }
  slice(port: number, ms: number): Promise<Slice> {
    return new Promise((resolve, reject) => {
      this.#w.once('message', resolve);
      this.#w.once('error', reject);
      this.#w.postMessage({ port, ms });
    });
  }
  close(): Promise<number> {
    return this.#w.terminate();
  }
}

/** Totals of one target over its slices. */
class Tally {
  done = 0;
  errors = 0;
  ms = 0;
  readonly lat: number[] = [];
  add(s: Slice): void {
    this.done += s.done;
    this.errors += s.errors;
    this.ms += s.elapsed;
    for (const l of s.lat) this.lat.push(l);
  }
  rate(): number {
    return Math.round((this.done * 1000) / this.ms);
  }
  quantile(q: number): number {
    const sorted = [...this.lat].sort((a, b) => a - b);
    return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0) * 100) / 100;
  }
}

/** Raw P-256 signatures per second on this thread over a message the size of a ResponseData. */
function rawSignRate(ms: number): number {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const msg = randomBytes(220);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let k = 0; k < 16; k++) cryptoSign('sha256', msg, { key: privateKey, dsaEncoding: 'der' });
    n += 16;
  }
  return Math.round((n * 1000) / (performance.now() - start));
}

/** A bare node:http server answering `body` to every request: what HTTP alone costs here. */
function bareServer(body: () => Uint8Array): Server {
  return createServer((_req, res) => {
    const b = body();
    res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': String(b.length), 'cache-control': 'public, max-age=5, no-transform, must-revalidate', etag: '"bench"' });
    res.end(b);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function stop(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Slice length: the targets take turns, so that the machine's mood hits them alike. */
const SLICE_MS = 250;

export async function benchOcsp(): Promise<{
  readonly description: string;
  readonly certificates: number;
  readonly connections: number;
  readonly rawP256SignaturesPerSecond: number;
  readonly bareHttpResponsesPerSecond: number;
  readonly rows: OcspBenchRow[];
  readonly goal: { readonly preSignedPerSecond: number; readonly met: boolean };
}> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-ocsp-'));
  try {
    const ca = await createBenchCa(dir);
    const issuer = parseCertificate(ca.intermediate);
    const path = join(dir, 'ocsp.db');
    const serials = await seedInventory(path, issuer.serialHex, CERTIFICATES);
    const sha1 = issuerHashes(issuerFromCertificate(ca.intermediate).name, subjectPublicKeyBits(issuer.spki)).find((h) => h.hash === 'sha1');
    if (sha1 === undefined) throw new Error('no SHA-1 issuer hashes');
    const paths = serials.map((s) => `/ocsp/${encodeURIComponent(Buffer.from(buildOcspRequest([encodeCertId(sha1, s)])).toString('base64'))}`);

    const store = await openSqliteStore(path, { clock: systemClock });
    const rows: OcspBenchRow[] = [];
    const bare = new Tally();
    const load = new Load(paths);
    const servers: Server[] = [];
    try {
      const make = (cacheSize: number) =>
        OcspResponder.create({ store, issuer: ca.intermediate, issuerSigner: createSoftwareSigner(ca.intermediateKey), clock: systemClock, validityMs: 4 * 3_600_000, signerLifetimeMs: 7 * 24 * 3_600_000, cacheSize, replica: 'bench', tickMs: 5_000 });
      const targets: { mode: OcspBenchRow['mode'] | 'bare'; port: number; tally: Tally }[] = [];
      let sample: Uint8Array = new Uint8Array(600);
      const bareSrv = bareServer(() => sample);
      servers.push(bareSrv);
      targets.push({ mode: 'bare', port: await listen(bareSrv), tally: bare });
      for (const mode of (['pre-signed', 'signed-on-demand'] as const).filter((m) => MODES.includes(m))) {
        const responder = await make(mode === 'pre-signed' ? CERTIFICATES : 0);
        const ders = paths.map((p) => Buffer.from(decodeURIComponent(p.slice('/ocsp/'.length)), 'base64'));
        sample = (await responder.respond(ders[0] as Buffer)).der;
        // Pre-signed: every certificate asked for once first, as hot certificates are.
        if (mode === 'pre-signed') for (const der of ders) await responder.respond(der);
        const server = createPlainServer({ routes: ocspRoutes({ responder, clock: systemClock, maxAgeMs: () => 5_000 }) });
        servers.push(server);
        targets.push({ mode, port: await listen(server), tally: new Tally() });
      }
      for (const t of targets) await load.slice(t.port, SLICE_MS); // connections open, code warm
      for (let ms = 0; ms < MEASURE_MS; ms += SLICE_MS) {
        for (const t of targets) t.tally.add(await load.slice(t.port, SLICE_MS));
      }
      for (const t of targets) {
        if (t.mode === 'bare') continue;
        rows.push({ mode: t.mode, responsesPerSecond: t.tally.rate(), p50Ms: t.tally.quantile(0.5), p99Ms: t.tally.quantile(0.99), errors: t.tally.errors });
      }
    } finally {
      await load.close();
      for (const s of servers) await stop(s);
      await store.close();
    }
    const rawRate = rawSignRate(1000);
    const pre = rows.find((r) => r.mode === 'pre-signed')?.responsesPerSecond ?? 0;
    return {
      description: `OCSP GET over HTTP/1.1, server on one thread, ${CONNECTIONS} keep-alive connections from a worker thread, ${CERTIFICATES} certificates in SQLite; targets take turns in ${SLICE_MS} ms slices`,
      certificates: CERTIFICATES,
      connections: CONNECTIONS,
      rawP256SignaturesPerSecond: rawRate,
      bareHttpResponsesPerSecond: bare.rate(),
      rows,
      goal: { preSignedPerSecond: 20_000, met: pre >= 20_000 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
