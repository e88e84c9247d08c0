/**
 * OCSP benchmarks (ISSUE 6): responses per second and p99 latency of the responder, pre-signed
 * (a kept response, as for a hot certificate) and signed on demand (status read from SQLite,
 * response signed with the responder's P-256 key), over HTTP on one core: the server (the CA's
 * own router and OCSP routes on a plain-HTTP listener) runs on this thread, the load generator
 * in a worker thread on the other core, 32 keep-alive connections sending RFC 5019 GET requests
 * for 10,000 certificates. The raw P-256 signature rate of this thread is measured in the same
 * run as the floor of signing on demand. Goal: ≥ 20,000 pre-signed responses/s on one core.
 *
 * Env: SIGNET_BENCH_OCSP_MS (measuring time per mode, default 3000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { OcspResponder } from '../src/revocation/ocsp.js';
import { ocspRoutes } from '../src/revocation/routes.js';
import { createPlainServer } from '../src/server/http.js';
import { migrate } from '../src/store/migrations.js';
import { openSqliteKysely, openSqliteStore } from '../src/store/sqlite.js';
import { issuerFromCertificate } from '../src/x509/certificate-builder.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { buildOcspRequest, encodeCertId, issuerHashes, subjectPublicKeyBits } from '../src/x509/ocsp.js';
import { createBenchCa } from './ca.js';

const MEASURE_MS = Number(process.env.SIGNET_BENCH_OCSP_MS ?? 3000);
const CERTIFICATES = 10_000;
const CONNECTIONS = 32;

/** One mode's figures. */
export interface OcspBenchRow {
  readonly mode: 'pre-signed' | 'signed-on-demand';
  readonly responsesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** The load generator (run in a worker): keep-alive GETs over raw sockets, latency per request. */
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { port, paths, ms, connections } = workerData;
const reqs = paths.map((p) => Buffer.from('GET ' + p + ' HTTP/1.1\\r\\nhost: bench\\r\\n\\r\\n', 'latin1'));
const lat = [];
let done = 0, errors = 0, open = connections;
const started = performance.now();
const deadline = started + ms;
for (let c = 0; c < connections; c++) {
  const s = net.connect(port, '127.0.0.1');
  s.setNoDelay(true);
  let buf = Buffer.alloc(0), sentAt = 0, i = c;
  const send = () => { sentAt = performance.now(); s.write(reqs[i++ % reqs.length]); };
  s.on('connect', send);
  s.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const m = /content-length: (\\d+)/i.exec(head);
      const len = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + len) return;
      if (!head.startsWith('HTTP/1.1 200')) errors++;
      buf = buf.subarray(end + 4 + len);
      const now = performance.now();
      lat.push(now - sentAt);
      done++;
      if (now >= deadline) { s.end(); if (--open === 0) finish(); return; }
      send();
    }
  });
  s.on('error', () => { errors++; });
}
function finish() {
  const elapsed = performance.now() - started;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] || 0;
  parentPort.postMessage({ done, errors, elapsed, p50: q(0.5), p99: q(0.99) });
}
`;

function load(port: number, paths: readonly string[], ms: number): Promise<{ done: number; errors: number; elapsed: number; p50: number; p99: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOAD, { eval: true, workerData: { port, paths, ms, connections: CONNECTIONS } });
    w.once('message', (m: { done: number; errors: number; elapsed: number; p50: number; p99: number }) => {
      void w.terminate();
      resolve(m);
    });
    w.once('error', reject);
  });
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

export async function benchOcsp(): Promise<{ readonly description: string; readonly certificates: number; readonly connections: number; readonly rawP256SignaturesPerSecond: number; readonly rows: OcspBenchRow[]; readonly goal: { readonly preSignedPerSecond: number; readonly met: boolean } }> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-ocsp-'));
  try {
    const ca = await createBenchCa(dir);
    const issuer = parseCertificate(ca.intermediate);
    const path = join(dir, 'ocsp.db');
    const { db, raw } = openSqliteKysely(path);
    await migrate(db, systemClock);
    const now = Date.now();
    const insert = raw.prepare(
      `insert into certificates (serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, issued_at, der)
       values (?, ?, 'CN=bench', ?, ?, ?, 'EC P-256', 'bench', 'bench', 'leaf', 'valid', ?, x'30')`,
    );
    const serials: string[] = [];
    raw.transaction(() => {
      for (let i = 0; i < CERTIFICATES; i++) {
        const b = randomBytes(16);
        b[0] = ((b[0] as number) & 0x7f) | 0x40;
        const serial = b.toString('hex');
        serials.push(serial);
        insert.run(serial, issuer.serialHex, now - 60_000, now + 24 * 3_600_000, serial.padEnd(64, '0'), now);
      }
    })();
    await db.destroy();
    const sha1 = issuerHashes(issuerFromCertificate(ca.intermediate).name, subjectPublicKeyBits(issuer.spki)).find((h) => h.hash === 'sha1');
    if (sha1 === undefined) throw new Error('no SHA-1 issuer hashes');
    const paths = serials.map((s) => `/ocsp/${encodeURIComponent(Buffer.from(buildOcspRequest([encodeCertId(sha1, s)])).toString('base64'))}`);

    const store = await openSqliteStore(path, { clock: systemClock });
    const rows: OcspBenchRow[] = [];
    try {
      const make = (cacheSize: number) =>
        OcspResponder.create({ store, issuer: ca.intermediate, issuerSigner: createSoftwareSigner(ca.intermediateKey), clock: systemClock, validityMs: 4 * 3_600_000, signerLifetimeMs: 7 * 24 * 3_600_000, cacheSize, replica: 'bench', tickMs: 5_000 });
      for (const mode of ['pre-signed', 'signed-on-demand'] as const) {
        const responder = await make(mode === 'pre-signed' ? CERTIFICATES : 0);
        const server = createPlainServer({ routes: ocspRoutes({ responder: () => responder, clock: systemClock, maxAgeMs: () => 5_000 }) });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const port = (server.address() as AddressInfo).port;
        try {
          // Pre-signed: every certificate asked for once first, as hot certificates are.
          if (mode === 'pre-signed') await load(port, paths, Math.max(500, MEASURE_MS / 3));
          const r = await load(port, paths, MEASURE_MS);
          rows.push({ mode, responsesPerSecond: Math.round((r.done * 1000) / r.elapsed), p50Ms: Math.round(r.p50 * 100) / 100, p99Ms: Math.round(r.p99 * 100) / 100, errors: r.errors });
        } finally {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
        }
      }
    } finally {
      await store.close();
    }
    const rawRate = rawSignRate(1000);
    const pre = rows.find((r) => r.mode === 'pre-signed')?.responsesPerSecond ?? 0;
    return {
      description: `OCSP GET over HTTP/1.1, server on one thread, ${CONNECTIONS} keep-alive connections from a worker thread, ${CERTIFICATES} certificates in SQLite`,
      certificates: CERTIFICATES,
      connections: CONNECTIONS,
      rawP256SignaturesPerSecond: rawRate,
      rows,
      goal: { preSignedPerSecond: 20_000, met: pre >= 20_000 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
