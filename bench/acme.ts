/**
 * ACME end to end (ISSUE 5): certificates per second through the whole protocol — newOrder,
 * read the authorization, answer http-01 (a local responder both servers validate against),
 * poll until valid, finalize with a fresh P-256 CSR, poll the order, download the chain — with
 * one account per concurrent stream (accounts reused across orders), at concurrency 1, 8 and 32.
 * The same load runs against Debian's Pebble (Let's Encrypt's reference test server; its
 * validation sleeps and nonce rejection turned off) in the same run, and the ratio is printed.
 *
 * Both servers run as separate processes on this machine, one at a time, each with its own
 * names (so neither reuses an authorization); the load client shares the cores with them and
 * costs both alike. Signet runs `ca start` with its default SQLite store (synchronous = FULL).
 *
 * Env: SIGNET_BENCH_ACME_MS (measuring time per server and concurrency, default 8000),
 * SIGNET_BENCH_ACME_CONCURRENCY (default 1,8,32), SIGNET_BENCH_PROFILE=DIR (a CPU profile of the
 * CA process).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, sign, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { buildCsr } from '../src/x509/csr.js';
import { startDnsServer } from '../test/helpers/dns-server.js';
import { startHttp01Responder } from '../test/helpers/http01-responder.js';
import { freePort } from '../test/helpers/net.js';
import { createBenchCa } from './ca.js';

const MEASURE_MS = Number(process.env.SIGNET_BENCH_ACME_MS ?? 8000);
const CONCURRENCY: readonly number[] = (process.env.SIGNET_BENCH_ACME_CONCURRENCY ?? '1,8,32').split(',').map(Number);
const POLL_MS = 20;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One ACME server as the load client sees it. */
interface Target {
  readonly name: 'signet' | 'pebble';
  readonly directory: string;
  readonly ca: string;
}

function b64(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

/** One concurrent stream: its account, its connection pool share and its last nonce. */
class Stream {
  readonly #key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly #jwk: Record<string, string>;
  readonly thumbprint: string;
  #nonce: string | undefined;
  kid: string | undefined;

  constructor(
    readonly target: Target,
    readonly dir: Record<string, string>,
    readonly agent: Agent,
  ) {
    const full = this.#key.publicKey.export({ format: 'jwk' }) as Record<string, string>;
    this.#jwk = { crv: 'P-256', kty: 'EC', x: full.x as string, y: full.y as string };
    this.thumbprint = createHash('sha256').update(JSON.stringify(this.#jwk)).digest('base64url');
  }

  http(method: string, url: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, ca: this.target.ca, headers: body === undefined ? {} : { 'content-type': 'application/jose+json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${this.target.name}: no answer in 30 s from ${method} ${url}`)));
      req.end(body);
    });
  }

  async post(url: string, payload?: unknown): Promise<Reply> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#nonce === undefined) this.#nonce = (await this.http('HEAD', this.dir.newNonce as string)).headers['replay-nonce'] as string;
      const header: Record<string, unknown> = { alg: 'ES256', nonce: this.#nonce, url, ...(this.kid !== undefined ? { kid: this.kid } : { jwk: this.#jwk }) };
      const protectedB64 = b64(header);
      const payloadB64 = payload === undefined ? '' : b64(payload);
      const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: this.#key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      const r = await this.http('POST', url, JSON.stringify({ protected: protectedB64, payload: payloadB64, signature }));
      this.#nonce = r.headers['replay-nonce'] as string | undefined;
      if (r.status === 400 && r.body.includes('badNonce')) continue;
      return r;
    }
    throw new Error(`${this.target.name}: badNonce three times at ${url}`);
  }

  async register(): Promise<void> {
    const r = await this.post(this.dir.newAccount as string, { termsOfServiceAgreed: true });
    if (r.status !== 201 && r.status !== 200) throw new Error(`${this.target.name} newAccount: ${r.status} ${r.body}`);
    this.kid = r.headers.location as string;
  }
}

async function poll(s: Stream, url: string, done: (status: string) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 500; i++) {
    const r = await s.post(url);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    if (done(String(body.status))) return body;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${s.target.name}: ${url} did not settle`);
}

/** One certificate, start to finish. */
async function oneCertificate(s: Stream, name: string, answers: Map<string, string>, csrKey: KeyObject): Promise<void> {
  const o = await s.post(s.dir.newOrder as string, { identifiers: [{ type: 'dns', value: name }] });
  if (o.status !== 201) throw new Error(`${s.target.name} newOrder: ${o.status} ${o.body}`);
  const order = JSON.parse(o.body) as { authorizations: string[]; finalize: string };
  const orderUrl = o.headers.location as string;
  for (const authzUrl of order.authorizations) {
    const authz = JSON.parse((await s.post(authzUrl)).body) as { status: string; challenges: { type: string; url: string; token: string }[] };
    if (authz.status === 'valid') continue;
    const ch = authz.challenges.find((c) => c.type === 'http-01');
    if (ch === undefined) throw new Error(`${s.target.name}: no http-01`);
    answers.set(ch.token, `${ch.token}.${s.thumbprint}`);
    await s.post(ch.url, {});
    const settled = await poll(s, authzUrl, (st) => st !== 'pending');
    answers.delete(ch.token);
    if (settled.status !== 'valid') throw new Error(`${s.target.name}: authorization ${String(settled.status)}: ${JSON.stringify(settled)}`);
  }
  const csr = buildCsr({ subject: [], extensions: { subjectAltName: { names: [{ type: 'dns', value: name }] } } }, createSoftwareSigner(csrKey));
  const f = await s.post(order.finalize, { csr: Buffer.from(csr).toString('base64url') });
  if (f.status !== 200) throw new Error(`${s.target.name} finalize: ${f.status} ${f.body}`);
  let final = JSON.parse(f.body) as Record<string, unknown>;
  if (final.status !== 'valid') final = await poll(s, orderUrl, (st) => st === 'valid' || st === 'invalid');
  const cert = await s.post(final.certificate as string);
  if (cert.status !== 200 || !cert.body.includes('BEGIN CERTIFICATE')) throw new Error(`${s.target.name} download: ${cert.status}`);
}

export interface AcmeLoadResult {
  readonly certificatesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly certificates: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) * 10) / 10;
}

let sequence = 0;

async function load(target: Target, concurrency: number, answers: Map<string, string>): Promise<AcmeLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const directory = await new Stream(target, {}, agent).http('GET', target.directory);
  const dir = JSON.parse(directory.body) as Record<string, string>;
  const streams = Array.from({ length: concurrency }, () => new Stream(target, dir, agent));
  await Promise.all(streams.map((s) => s.register()));
  process.stderr.write(`acme: ${target.name}: ${concurrency} account(s)\n`);
  // Warm up: one certificate per stream.
  await Promise.all(streams.map((s) => oneCertificate(s, `warm-${++sequence}.${target.name}.bench.test`, answers, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)));
  const latencies: number[] = [];
  process.stderr.write(`acme: ${target.name}: warmed up\n`);
  const started = performance.now();
  const deadline = started + MEASURE_MS;
  await Promise.all(
    streams.map(async (s) => {
      while (performance.now() < deadline) {
        const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        const t0 = performance.now();
        await oneCertificate(s, `c${++sequence}.${target.name}.bench.test`, answers, key);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { certificatesPerSecond: Math.round((latencies.length / seconds) * 10) / 10, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), certificates: latencies.length };
}

function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`${what} exited with ${child.exitCode}`));
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() - t0 > 20_000) reject(new Error(`${what} did not listen on ${port}`));
        else setTimeout(tick, 100);
      });
    };
    tick();
  });
}

/** Runs the ACME benchmark; undefined (with a note on stderr) when Pebble is not installed. */
export async function benchAcme(): Promise<Record<string, unknown> | undefined> {
  if (spawnSync('sh', ['-c', 'command -v pebble']).status !== 0) {
    process.stderr.write('acme benchmark skipped: pebble is not installed (apt-get install pebble)\n');
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-acme-'));
  const children: ChildProcess[] = [];
  const dns = await startDnsServer();
  const responder = await startHttp01Responder();
  const { port: httpPort, answers } = responder;
  try {
    dns.setSuffixAddress('bench.test', '127.0.0.1');

    // Signet: `ca start` of a CA made by ca init, with an ACME provisioner.
    const ca = await createBenchCa(dir);
    const signetPort = await freePort();
    const doc = JSON.parse(readFileSync(ca.configPath, 'utf8')) as Record<string, unknown>;
    doc.address = `127.0.0.1:${signetPort}`;
    (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme' });
    doc.acme = { httpPort, dnsServers: [dns.address], allowPrivateAddresses: true };
    writeFileSync(ca.configPath, JSON.stringify(doc, null, 2));
    // SIGNET_BENCH_PROFILE=DIR: a CPU profile of the CA process (written when it exits on SIGTERM).
    const profile = process.env.SIGNET_BENCH_PROFILE;
    const signet = spawn(process.execPath, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), join(import.meta.dirname, '..', 'src', 'cli', 'main.js'), 'ca', 'start', '--config', ca.configPath], { stdio: 'ignore' });
    children.push(signet);
    await waitForPort(signetPort, signet, 'signet ca start');
    process.stderr.write(`acme: signet listening on ${signetPort}\n`);

    // Pebble: its own TLS certificate (self-signed), validating on the same responder and DNS
    // server; a fresh process per concurrency level (its in-memory store has deadlocked under
    // load here, and a stuck process must not spoil the next level).
    const pebbleCert = join(dir, 'pebble.crt');
    const pebbleKey = join(dir, 'pebble.key');
    spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1', '-keyout', pebbleKey, '-out', pebbleCert], { stdio: 'ignore' });
    const startPebble = async (): Promise<{ target: Target; child: ChildProcess }> => {
      const pebblePort = await freePort();
      const pebbleConfig = join(dir, 'pebble.json');
      writeFileSync(pebbleConfig, JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${pebblePort}`, managementListenAddress: `127.0.0.1:${await freePort()}`, certificate: pebbleCert, privateKey: pebbleKey, httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false } }));
      const child = spawn('pebble', ['-config', pebbleConfig, '-dnsserver', dns.address], { stdio: 'ignore', env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' } });
      children.push(child);
      await waitForPort(pebblePort, child, 'pebble');
      return { target: { name: 'pebble', directory: `https://localhost:${pebblePort}/dir`, ca: readFileSync(pebbleCert, 'utf8') }, child };
    };

    const signetTarget: Target = { name: 'signet', directory: `https://localhost:${signetPort}/acme/acme/directory`, ca: ca.rootPem };
    const rows: Record<string, unknown>[] = [];
    for (const c of CONCURRENCY) {
      process.stderr.write(`acme: concurrency ${c}\n`);
      // A server that stops answering (Pebble's in-memory store has deadlocked here under load)
      // is reported with its error instead of ending the whole benchmark.
      const attempt = (t: Target): Promise<AcmeLoadResult | { error: string }> => load(t, c, answers).catch((e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
      const signetResult = await attempt(signetTarget);
      const pebble = await startPebble();
      const pebbleResult = await attempt(pebble.target);
      pebble.child.kill('SIGKILL');
      const ratio = 'error' in signetResult || 'error' in pebbleResult ? undefined : Math.round((signetResult.certificatesPerSecond / pebbleResult.certificatesPerSecond) * 100) / 100;
      rows.push({ concurrency: c, signet: signetResult, pebble: pebbleResult, ...(ratio !== undefined && { ratio }) });
      process.stderr.write(`acme: ${JSON.stringify(rows.at(-1))}\n`);
    }
    const at32 = rows.find((r) => r.concurrency === 32)?.ratio as number | undefined;
    return {
      benchmark: 'ACME end to end (newOrder → http-01 → finalize → download), accounts reused, vs Pebble in the same run',
      measureMsPerRun: MEASURE_MS,
      pollMs: POLL_MS,
      pebble: spawnSync('sh', ['-c', 'dpkg-query -W -f "${Version}" pebble']).stdout.toString() || 'unknown',
      results: rows,
      goal: { ratioAtConcurrency32: at32 ?? null, target: 2, met: at32 !== undefined && at32 >= 2 },
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await responder.close();
    await dns.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

