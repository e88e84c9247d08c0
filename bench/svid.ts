/**
 * `svid`: SVIDs issued through the batch path an agent uses (src/spiffe/agents.ts `issueBatch`:
 * the entries the agent may serve, then each item through the authority — CSR signature, key
 * type, policy, SPIFFE checks, lint, sign — and one store transaction for the batch's inventory
 * rows and audit events), in-process against a CA made by `ca init --trust-domain` with its SQLite
 * store, batches of BATCH items for BATCH entries under one agent.
 *
 * X.509: each item has a CSR for a fresh P-256 key (made before the batch is timed: key
 * generation is the workload's cost, on its own node). The floor of one X509-SVID is what the
 * cryptography cannot avoid: import the CSR's key from its SPKI (the fastest way, src/crypto/spki.ts) and verify its P-256 signature, sign a TBSCertificate of the size
 * issued with the intermediate's P-256 key. JWT: the floor of one JWT-SVID is one ES256 signature
 * of a token's signing input. Floors run in this process in slices between the batches, so a
 * noisy machine hits both alike. The batches' requests (and the workload keys behind them) are all
 * made before the measurement starts: making them is the workloads' work, on their own nodes. `ratio` = SVIDs/s ÷ floor/s; p50/p99 are batch latencies.
 *
 * Env: SIGNET_BENCH_SVID_BATCH (items per batch, default 100), SIGNET_BENCH_SVID_MS (time per kind,
 * default 4000), SIGNET_BENCH_SVID_KINDS (default `x509,jwt`).
 */
import { importSpki } from '../src/crypto/spki.js';
import { createPrivateKey, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCaConfig } from '../src/ca/config.js';
import { startCa } from '../src/ca/runtime.js';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { AuthorizedEntriesCache, issueBatch, type AgentContext } from '../src/spiffe/agents.js';
import { buildCsr, parseCsr } from '../src/x509/csr.js';
import { createBenchCa } from './ca.js';

const BATCH = Number(process.env.SIGNET_BENCH_SVID_BATCH ?? 100);
const MEASURE_MS = Number(process.env.SIGNET_BENCH_SVID_MS ?? 4000);
const FLOOR_SLICE_MS = 40;
const KINDS = (process.env.SIGNET_BENCH_SVID_KINDS ?? 'x509,jwt').split(',');
const TD = 'bench.example';

interface SvidFigures {
  readonly kind: 'x509 (P-256)' | 'jwt (ES256)';
  readonly batch: number;
  readonly svidsPerSecond: number;
  readonly floorPerSecond: number;
  readonly ratio: number;
  readonly batchP50Ms: number;
  readonly batchP99Ms: number;
  readonly goal: { readonly minRatio: number; readonly met: boolean };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * Runs `floor` for about `ms`, then lets the event loop turn once; returns operations and
 * milliseconds, the turn included. V8 runs most young-generation collections as tasks on the
 * event loop, i.e. at the next turn after the heap filled: without the turn here, the floor's
 * garbage (a new buffer per signature, freed in those collections) was collected at the first
 * turn of the next batch — the group commit's — and counted as the batch's time.
 */
async function floorSlice(ms: number, floor: () => void): Promise<{ ops: number; ms: number }> {
  const start = performance.now();
  let n = 0;
  let now = start;
  while (now - start < ms) {
    floor();
    n++;
    now = performance.now();
  }
  await new Promise((resolve) => setImmediate(resolve));
  now = performance.now();
  return { ops: n, ms: now - start };
}

export async function benchSvid(): Promise<{ batch: number; measureMs: number; results: SvidFigures[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-svid-'));
  const ca = await createBenchCa(dir, { trustDomain: TD });
  const running = await startCa(loadCaConfig(ca.configPath), { clock: systemClock, port: 0, revocationIntervalMs: 3_600_000, spiffeIntervalMs: 3_600_000, jobIntervalMs: 3_600_000 });
  try {
    const store = running.store;
    const agentId = `spiffe://${TD}/signet/agent/join_token/0123456789abcdef`;
    const now = systemClock.now();
    await store.spiffe.attestAgent({ spiffeId: agentId, attestor: 'join_token', selectors: ['join_token:0123456789abcdef'], serial: '01' }, now);
    const entryIds: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const e = await store.spiffe.createEntry({ id: `bench-${i}`, spiffeId: `spiffe://${TD}/workload/${i}`, parentId: agentId, selectors: [`unix:uid:${1000 + i}`], dnsNames: [], admin: false, downstream: false, federatesWith: [] }, now);
      entryIds.push(e.id);
    }
    const agent = await store.spiffe.getAgent(agentId);
    const trustDomain = running.trustDomains.get(TD);
    if (agent === undefined || trustDomain === undefined) throw new Error('bench setup failed');
    const ctx: AgentContext = { store, authority: () => running.authority, clock: systemClock, trustDomain, agentSvidLifetimeMs: 3_600_000, x509popRoots: [], tpmEkRoots: [], authorized: new AuthorizedEntriesCache() };

    // Floors, with the CA's own key and sizes from a real SVID.
    const intermediateKey = ca.intermediateKey;
    const workload = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sampleCsr = parseCsr(buildCsr({ subject: [], extensions: { subjectAltName: { names: [{ type: 'uri', value: `spiffe://${TD}/workload/0` }] } } }, createSoftwareSigner(workload.privateKey)));
    const first = await issueBatch(ctx, agent, { x509: [{ entryId: entryIds[0] ?? '', csr: sampleCsr.der }], jwt: [{ entryId: entryIds[0] ?? '', audience: ['spiffe://bench.example/db'] }] });
    const x0 = first.x509[0];
    const j0 = first.jwt[0];
    if (x0 === undefined || !x0.ok || j0 === undefined || !j0.ok) throw new Error('bench: the first SVIDs were refused');
    const tbs = randomBytes((x0.chain[0]?.length ?? 500) - 80);
    const spki = Buffer.from(sampleCsr.spki);
    const csrSigned = sampleCsr.info;
    const csrSignature = sampleCsr.signature;
    const x509Floor = (): void => {
      cryptoVerify('sha256', csrSigned, importSpki(spki), csrSignature);
      cryptoSign('sha256', tbs, intermediateKey);
    };
    const [h, p] = j0.token.split('.');
    const jwtInput = Buffer.from(`${h ?? ''}.${p ?? ''}`);
    const jwtKey = createPrivateKey({ key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' });
    const jwtFloor = (): void => void cryptoSign('sha256', jwtInput, { key: jwtKey, dsaEncoding: 'ieee-p1363' });

    const run = async (kind: SvidFigures['kind'], makeBatch: () => Parameters<typeof issueBatch>[2], floor: () => void): Promise<SvidFigures> => {
      // Warm-up, which also tells how many batches the measurement needs.
      const w0 = performance.now();
      await issueBatch(ctx, agent, makeBatch());
      const warmMs = performance.now() - w0;
      await floorSlice(200, floor);
      // Every request is made before the clock runs: the workloads' keys and CSRs are made on
      // their own nodes, and their garbage must not be collected inside a timed batch.
      const requests = Array.from({ length: Math.min(2000, Math.ceil((1.5 * MEASURE_MS) / Math.max(1, warmMs)) + 2) }, makeBatch);
      const latencies: number[] = [];
      let svids = 0;
      let svidMs = 0;
      const f = { ops: 0, ms: 0 };
      while (svidMs < MEASURE_MS) {
        // Made here only if the warm-up misjudged the rate.
        const request = requests.pop() ?? makeBatch();
        const t0 = performance.now();
        const r = await issueBatch(ctx, agent, request);
        const dt = performance.now() - t0;
        const okCount = [...r.x509, ...r.jwt].filter((i) => i.ok).length;
        if (okCount !== BATCH) throw new Error(`bench: ${BATCH - okCount} of a batch refused`);
        latencies.push(dt);
        svids += okCount;
        svidMs += dt;
        const s = await floorSlice(FLOOR_SLICE_MS, floor);
        f.ops += s.ops;
        f.ms += s.ms;
      }
      latencies.sort((a, b) => a - b);
      const svidsPerSecond = (svids * 1000) / svidMs;
      const floorPerSecond = (f.ops * 1000) / f.ms;
      const ratio = Math.round((svidsPerSecond / floorPerSecond) * 1000) / 1000;
      return { kind, batch: BATCH, svidsPerSecond: Math.round(svidsPerSecond), floorPerSecond: Math.round(floorPerSecond), ratio, batchP50Ms: Math.round(percentile(latencies, 50) * 10) / 10, batchP99Ms: Math.round(percentile(latencies, 99) * 10) / 10, goal: { minRatio: 0.6, met: ratio >= 0.6 } };
    };
    const results: SvidFigures[] = [];
    if (KINDS.includes('x509')) results.push(await run(
      'x509 (P-256)',
      () => ({
        x509: entryIds.map((entryId) => ({ entryId, csr: buildCsr({ subject: [], extensions: {} }, createSoftwareSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)) })),
        jwt: [],
      }),
      x509Floor,
    ));
    if (KINDS.includes('jwt')) results.push(await run('jwt (ES256)', () => ({ x509: [], jwt: entryIds.map((entryId) => ({ entryId, audience: ['spiffe://bench.example/db'] })) }), jwtFloor));
    return { batch: BATCH, measureMs: MEASURE_MS, results };
  } finally {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
