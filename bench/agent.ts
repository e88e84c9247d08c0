/**
 * `agent` (ISSUE 9): the node agent as users run it — `signet agent run` in its own process,
 * attested with a join token to a CA (made by `ca init --trust-domain`, SQLite store) in this
 * process — measured from the outside:
 *
 * - FetchX509SVID first-response latency with the SVID cached, as a starting workload sees it: a
 *   gRPC client (grpc-js) connects to the Unix socket, opens the stream and waits for its first
 *   message (connection setup included), one call at a time (p50/p99),
 *   then CONCURRENCY at a time for calls/second. Each call is attested by the agent (peer
 *   credentials, /proc reads) like any other.
 * - Entry creation → SVID at the agent: an entry is written to the store (as `signet entry
 *   create` on the CA host does) while a FetchX509SVID stream is open; the time until the stream
 *   carries the new SPIFFE ID (the CA's revision watcher, the long poll answering, the batch, the
 *   push). Target: under one second.
 * - The agent's resident memory (VmRSS) with MEMORY_SVIDS cached SVIDs (10,000 by default), next to
 *   its memory with one, and how long the agent took to hold them all once the entries were in
 *   the store (entry changes arrive as deltas; the state file is written at most every second).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadCaConfig } from '../src/ca/config.js';
import { startCa } from '../src/ca/runtime.js';
import { systemClock } from '../src/core/clock.js';
import { SECURITY_HEADER, workloadProto } from '../src/agent/workload-proto.js';
import { generateJoinToken } from '../src/spiffe/agents.js';
import { createBenchCa } from './ca.js';

const TD = 'agent.bench.example';
const CALLS = Number(process.env.SIGNET_BENCH_AGENT_CALLS ?? 500);
const CONCURRENCY = 16;
const ENTRY_TRIALS = 20;
// The figure; SIGNET_BENCH_AGENT_SVIDS changes it.
const MEMORY_SVIDS = Number(process.env.SIGNET_BENCH_AGENT_SVIDS ?? 10_000);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (x: number): number => Math.round(x * 100) / 100;

function rssKib(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:')) ?? '';
  return Number(/(\d+)/.exec(line)?.[1] ?? NaN);
}

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`bench agent: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function benchAgent(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-agent-'));
  const ca = await createBenchCa(dir, { trustDomain: TD });
  const running = await startCa(loadCaConfig(ca.configPath), { clock: systemClock, port: 0, revocationIntervalMs: 3_600_000, spiffeIntervalMs: 3_600_000, jobIntervalMs: 3_600_000 });
  const store = running.store;
  const token = await generateJoinToken(store, TD, 600_000, systemClock.now());
  const agentId = `spiffe://${TD}/signet/agent/join_token/${token.id}`;
  writeFileSync(join(dir, 'agent.token'), `${token.token}\n`, { mode: 0o600 });
  const socket = join(dir, 'api.sock');
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({ servers: [running.url], trustDomain: TD, trust: { rootFingerprint: ca.rootFingerprint }, attestor: { joinToken: { tokenFile: 'agent.token' } }, socketPath: socket, dataDir: 'data' }));
  let n = 0;
  const entry = (selector: string): Promise<unknown> => store.spiffe.createEntry({ id: `bench-${++n}`, spiffeId: `spiffe://${TD}/w/${n}`, parentId: agentId, selectors: [selector], dnsNames: [], admin: false, downstream: false, federatesWith: [] }, systemClock.now());
  const me = `unix:uid:${process.getuid?.() ?? 0}`;
  await entry(me);
  const agent = spawn(process.execPath, [CLI, 'agent', 'run', '--config', join(dir, 'agent.json')], { stdio: ['ignore', 'ignore', process.env.SIGNET_BENCH_AGENT_LOG === undefined ? 'ignore' : 'inherit'], env: { ...process.env, SIGNET_LOG_LEVEL: 'warn' } });
  const Api = workloadProto().SpiffeWorkloadAPI;
  const md = new grpc.Metadata();
  md.set(SECURITY_HEADER, 'true');
  const client = new Api(`unix://${socket}`, grpc.credentials.createInsecure());
  type Svids = { svids: { spiffe_id: string }[] };
  // Each call is a workload starting: its own connection (a channel of its own, no shared
  // subchannel), attested on its first call, closed after the first message.
  const first = (): Promise<Svids> =>
    new Promise((resolve, reject) => {
      const own = new Api(`unix://${socket}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      const s = (own as unknown as { FetchX509SVID: (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<Svids> }).FetchX509SVID({}, md);
      s.once('data', (d: Svids) => {
        s.cancel();
        own.close();
        resolve(d);
      });
      s.once('error', (e: grpc.ServiceError) => {
        own.close();
        if (e.code !== grpc.status.CANCELLED) reject(e);
      });
    });
  try {
    // Ready: the agent holds the first SVID.
    const readyBy = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await first()).svids.length > 0) break;
      } catch (e) {
        if (Date.now() > readyBy) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const idleRss = rssKib(agent.pid as number);
    // Sequential first-response latency.
    for (let i = 0; i < 50; i++) await first();
    const lat: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await first();
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    // Calls per second, CONCURRENCY in flight.
    let done = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (done < CALLS * 2) {
          done++;
          await first();
        }
      }),
    );
    const callsPerSecond = (done * 1000) / (performance.now() - t0);
    // Entry creation → SVID on an open stream.
    const toSvid: number[] = [];
    const stream = (client as unknown as { FetchX509SVID: (req: object, md: grpc.Metadata) => grpc.ClientReadableStream<Svids> }).FetchX509SVID({}, md);
    let latest: Svids = { svids: [] };
    stream.on('data', (d: Svids) => (latest = d));
    stream.on('error', () => undefined);
    for (let i = 0; i < ENTRY_TRIALS; i++) {
      const t = performance.now();
      await entry(me);
      const id = `spiffe://${TD}/w/${n}`;
      await until('a new entry\'s SVID', () => latest.svids.some((s) => s.spiffe_id === id), 30_000);
      toSvid.push(performance.now() - t);
    }
    stream.cancel();
    toSvid.sort((a, b) => a - b);
    // Memory with MEMORY_SVIDS cached SVIDs (selectors no caller here has: nothing streams them).
    for (let i = 0; i < MEMORY_SVIDS; i++) await entry(`unix:uid:${200_000 + i}`);
    const want = MEMORY_SVIDS + ENTRY_TRIALS + 1;
    const stateFile = join(dir, 'data', 'agent-state.json');
    const held = (): number => {
      try {
        return (JSON.parse(readFileSync(stateFile, 'utf8')) as { svids: unknown[] }).svids.length;
      } catch {
        return 0;
      }
    };
    const m0 = performance.now();
    await until(`${want} SVIDs at the agent`, () => held() >= want, 600_000);
    const fillSeconds = (performance.now() - m0) / 1000;
    const stateBytes = readFileSync(stateFile).length;
    return {
      benchmark: 'node agent (signet agent run, own process) and its Workload API on a Unix socket; CA in-process, SQLite',
      fetchX509SvidCached: { calls: CALLS, p50Ms: round(percentile(lat, 50)), p99Ms: round(percentile(lat, 99)), callsPerSecond: Math.round(callsPerSecond), concurrency: CONCURRENCY },
      entryToSvidAtAgent: { trials: ENTRY_TRIALS, p50Ms: Math.round(percentile(toSvid, 50)), p99Ms: Math.round(percentile(toSvid, 99)), goal: { maxMs: 1000, met: percentile(toSvid, 99) < 1000 } },
      memory: { idleRssMiB: round(idleRss / 1024), svids: want, rssMiB: round(rssKib(agent.pid as number) / 1024), stateFileMiB: round(stateBytes / 1048576), secondsToFill: round(fillSeconds) },
    };
  } finally {
    client.close();
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
