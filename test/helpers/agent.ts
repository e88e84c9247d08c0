/**
 * A CA with a SPIFFE trust domain and a real `signet agent run` process attested to it with a
 * join token, in one temp directory readable by other users (tests run workloads as other uids).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, startTestCa, type TestCa } from './ca.js';
import { CLI_PATH, ok, signetAsync } from './cli.js';
import { freePort } from './net.js';
import { tempDir } from './openssl.js';

/** nobody, and a uid and gid no account has. */
export const NOBODY = 65534;
export const STRANGER = 23456;

export interface AgentEnv {
  readonly tmp: ReturnType<typeof tempDir>;
  readonly ca: TestCa;
  /** The agent's own SPIFFE ID (the parent of every entry). */
  readonly agentId: string;
  /** `--config` of the CA, for `signet entry …`. */
  readonly cfg: () => string[];
  /** The Workload API socket path. */
  readonly socket: string;
  running(): RunningCa | undefined;
  startCa(): Promise<void>;
  stopCa(): Promise<void>;
  /** Creates an entry under the agent; its ID. */
  entry(spiffeId: string, selectors: readonly string[], extra?: readonly string[]): Promise<string>;
  startAgent(): void;
  /** SIGTERM; the exit code. */
  stopAgent(): Promise<number | null>;
  /** Everything the agent logged since its last start. */
  log(): string;
  /** The agent's cached state file. */
  state(): { svids: { spiffeId: string; notAfter: string }[]; entries: { id: string }[] };
  until(what: string, check: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates the CA (trust domain example.org), a join token, the entries `setup` makes, and the
 * agent's config; starts the CA and the agent and waits until it holds `svids` SVIDs.
 */
export interface AgentEnvOptions {
  /** Before the CA is made: files it will need (`dir` is the environment's temp directory). */
  readonly prepare?: (dir: ReturnType<typeof tempDir>) => void | Promise<void>;
  /** Changes to the CA's config document. */
  readonly caEdit?: (doc: Record<string, unknown>) => void;
  /** The agent config's `attestor` (default: the join token made here), given the temp directory. */
  readonly attestor?: (dir: ReturnType<typeof tempDir>) => Record<string, unknown>;
}

export async function startAgentEnv(prefix: string, setup: (env: AgentEnv) => Promise<void>, svids: number, options: AgentEnvOptions = {}): Promise<AgentEnv> {
  const tmp = tempDir(prefix);
  chmodSync(tmp.dir, 0o755);
  for (const d of ['ca', 'run', 'data']) mkdirSync(tmp.path(d), { mode: 0o755 });
  await options.prepare?.(tmp);
  const ca = await createTestCa({ parent: tmp.path('ca'), trustDomain: 'example.org', ...(options.caEdit !== undefined && { edit: options.caEdit }) });
  const port = await freePort();
  let running: RunningCa | undefined;
  let agent: ChildProcess | undefined;
  let agentLog = '';
  const cfg = (): string[] => ['--config', ca.configPath];
  const startCa = async (): Promise<void> => {
    running = await startTestCa(ca, { port, revocationIntervalMs: 3_600_000 });
  };
  await startCa();
  const t = JSON.parse(ok(await signetAsync(['token', 'generate', '--ttl', '10m', '--json', ...cfg()])).stdout) as { token: string; agentId: string };
  writeFileSync(tmp.path('agent.token'), `${t.token}\n`, { mode: 0o600 });
  const env: AgentEnv = {
    tmp,
    ca,
    agentId: t.agentId,
    cfg,
    socket: tmp.path('run/api.sock'),
    running: () => running,
    startCa,
    async stopCa() {
      await running?.close();
      running = undefined;
    },
    async entry(spiffeId, selectors, extra = []) {
      const r = ok(await signetAsync(['entry', 'create', '--spiffe-id', spiffeId, '--parent-id', t.agentId, ...selectors.flatMap((s) => ['--selector', s]), ...extra, '--json', ...cfg()]));
      return (JSON.parse(r.stdout) as { id: string }).id;
    },
    startAgent() {
      agentLog = '';
      agent = spawn(process.execPath, [CLI_PATH, 'agent', 'run', '--config', tmp.path('agent.json')], { env: { ...process.env, NO_COLOR: '1' } });
      agent.stdout?.on('data', (d: Buffer) => (agentLog += d.toString()));
      agent.stderr?.on('data', (d: Buffer) => (agentLog += d.toString()));
    },
    stopAgent() {
      const p = agent;
      agent = undefined;
      if (p === undefined || p.exitCode !== null) return Promise.resolve(p?.exitCode ?? null);
      return new Promise((resolve) => {
        p.once('exit', (code) => resolve(code));
        p.kill('SIGTERM');
      });
    },
    log: () => agentLog,
    state() {
      try {
        return JSON.parse(readFileSync(tmp.path('data/agent-state.json'), 'utf8')) as ReturnType<AgentEnv['state']>;
      } catch {
        return { svids: [], entries: [] };
      }
    },
    async until(what, check, ms = 20_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`timed out waiting for ${what}\nagent log:\n${agentLog}`);
    },
    async close() {
      await env.stopAgent();
      await running?.close();
      tmp.cleanup();
    },
  };
  await setup(env);
  const r = running as RunningCa;
  writeFileSync(
    tmp.path('agent.json'),
    JSON.stringify({
      servers: [r.url],
      trustDomain: 'example.org',
      trust: { rootFingerprint: r.authority.rootFingerprint },
      attestor: options.attestor?.(tmp) ?? { joinToken: { tokenFile: 'agent.token' } },
      socketPath: 'run/api.sock',
      dataDir: 'data',
    }),
  );
  env.startAgent();
  await env.until(`the SVIDs of ${svids} entries`, () => env.state().svids.length === svids);
  return env;
}
