/**
 * Store benchmarks (ISSUE 4), SQLite and PostgreSQL side by side, in one run:
 *
 * 1. Issuance throughput with each store: the authority's whole pipeline (token, CSR, policy,
 *    template, lint, sign, and the inventory row + used token + audit event in one transaction),
 *    called in-process by 64 concurrent requests, against the same pipeline whose store keeps
 *    its rows in process memory ("no store": what issuance costs without a database). Slices of
 *    each configuration alternate, so the machine's noise hits all of them alike. Goal: each real
 *    store costs < 25% of the no-store rate (ratio ≥ 0.75).
 * 2. Inventory query latency at 1,000,000 certificates (two names each, 20 provisioners, 60%
 *    replaced, 70% one-day and 30% 90-day lifetimes issued over 90 days): p50/p99 of the first
 *    page (100 rows) of the `signet inventory list` questions — expiring within 7 days, by name,
 *    by provisioner, replaced / not replaced — through the store port. Goal: p99 < 50 ms.
 *
 * PostgreSQL runs with its defaults (fsync on) from the Debian package, in its own directory and
 * port (test/helpers/postgres.ts); SQLite with the CA's settings (WAL, synchronous = FULL). Without
 * a PostgreSQL server on the machine, its columns say so and the rest still runs.
 *
 * Env: SIGNET_BENCH_STORE_ROWS (default 1000000), SIGNET_BENCH_STORE_MS (per configuration,
 * default 2500), SIGNET_BENCH_STORE_QUERIES (per question, default 200).
 */
import { createHash } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Authority, type SignRequest } from '../src/ca/authority.js';
import { mintToken } from '../src/ca/token.js';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { migrate } from '../src/store/migrations.js';
import { openPostgresKysely, openPostgresStore } from '../src/store/postgres.js';
import type { StoreDatabase } from '../src/store/schema.js';
import { openSqliteKysely, openSqliteStore } from '../src/store/sqlite.js';
import type { AuditEventInput, CertificateFilter, CertificateRecord, Store, StoreTx, TokenUse } from '../src/store/store.js';
import { reversedName } from '../src/store/validation.js';
import { buildCsr } from '../src/x509/csr.js';
import { createBenchCa, type BenchCa } from './ca.js';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres.js';

const AUDIENCE = 'https://bench.invalid/sign';
const CONCURRENCY = 64;
const SLICE_MS = 250;
const MEASURE_MS = Number(process.env.SIGNET_BENCH_STORE_MS ?? 2500);
const ROWS = Number(process.env.SIGNET_BENCH_STORE_ROWS ?? 1_000_000);
const QUERIES = Number(process.env.SIGNET_BENCH_STORE_QUERIES ?? 200);

// ---------------------------------------------------------------------------------------------
// The CA and its requests

let sequence = 0;
async function prepare(ca: BenchCa, count: number): Promise<SignRequest[]> {
  const out: SignRequest[] = [];
  for (let i = 0; i < count; i++) {
    const name = `svc-${++sequence}.bench.example.com`;
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const csr = buildCsr({ subject: [[{ type: 'CN', value: name }]], extensions: { subjectAltName: { names: [{ type: 'dns', value: name }] } } }, createSoftwareSigner(pair.privateKey));
    const token = await mintToken({ key: ca.provisionerKey, kid: ca.kid, issuer: 'admin', audience: AUDIENCE, subject: name, sans: [name], rootFingerprint: ca.rootFingerprint, now: new Date(), ttlMs: 3600_000 });
    out.push({ csr, token, audience: [AUDIENCE] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// "No store": the port kept in process memory, for the baseline rate only

function memoryStore(): Store {
  const certificates = new Map<string, CertificateRecord>();
  const used = new Set<string>();
  const events: AuditEventInput[] = [];
  const unused = (): never => {
    throw new Error('not used by the issuance benchmark');
  };
  const tx: StoreTx = {
    certificates: {
      insert: (r: CertificateRecord) => {
        certificates.set(r.serial, r);
        return Promise.resolve();
      },
      get: (serial: string) => Promise.resolve(certificates.get(serial)),
      list: unused,
      listStates: unused,
      markReplaced: unused,
      revoke: unused,
      revokeMany: unused,
    },
    tokens: {
      consume: (t: TokenUse) => {
        const key = `${t.provisioner}\u0000${t.jti}`;
        const fresh = !used.has(key);
        used.add(key);
        return Promise.resolve(fresh);
      },
      purgeExpired: unused,
    },
    audit: {
      append: (e: AuditEventInput) => Promise.resolve(events.push(e)),
      list: unused,
    },
    coordination: { acquireLease: unused, releaseLease: unused, nextCounterValue: unused },
    // Every ACME method refuses: the issuance benchmark never reaches them.
    acme: new Proxy({} as StoreTx['acme'], { get: () => unused }),
    revocations: new Proxy({} as StoreTx['revocations'], { get: () => unused }),
    spiffe: new Proxy({} as StoreTx['spiffe'], { get: () => unused }),
  };
  return {
    ...tx,
    transaction: (fn) => fn(tx),
    recordIssuance: async (i) => {
      if (!(await tx.tokens.consume(i.token))) return 'token-used';
      await tx.certificates.insert(i.certificate);
      await tx.audit.append(i.event);
      return 'recorded';
    },
    close: () => Promise.resolve(),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. issuance throughput per store

interface Config {
  readonly name: string;
  readonly authority: Authority;
  ops: number;
  ms: number;
  /** CPU microseconds of this process, and of the database server (PostgreSQL), during the slices. */
  caCpu: number;
  dbCpu: number;
}

async function issuanceThroughput(
  ca: BenchCa,
  stores: readonly { name: string; store: Store }[],
  dbCpuSeconds: () => number,
): Promise<{ rates: Record<string, number>; cpu: Record<string, { ca: number; database: number }> }> {
  const configs: Config[] = stores.map((s) => ({
    name: s.name,
    authority: new Authority({ config: ca.config, store: s.store, intermediate: ca.intermediate, signer: createSoftwareSigner(ca.intermediateKey), root: ca.root, clock: systemClock }),
    ops: 0,
    ms: 0,
    caCpu: 0,
    dbCpu: 0,
  }));
  const runSlice = async (c: Config, requests: SignRequest[], ms: number): Promise<void> => {
    const cpu0 = process.cpuUsage();
    const db0 = dbCpuSeconds();
    const start = performance.now();
    let now = start;
    let ops = 0;
    while (now - start < ms) {
      const batch = requests.splice(0, CONCURRENCY);
      if (batch.length < CONCURRENCY) requests.push(...(await prepare(ca, CONCURRENCY * 8)), ...batch);
      else {
        await Promise.all(batch.map((r) => c.authority.sign(r)));
        ops += batch.length;
      }
      now = performance.now();
    }
    c.ops += ops;
    c.ms += now - start;
    const cpu = process.cpuUsage(cpu0);
    c.caCpu += cpu.user + cpu.system;
    c.dbCpu += (dbCpuSeconds() - db0) * 1e6;
  };
  const requests = await prepare(ca, Math.ceil((configs.length * (MEASURE_MS + 500) * 1500) / 1000));
  for (const c of configs) await runSlice(c, requests, 400); // warm-up
  for (const c of configs) {
    c.ops = 0;
    c.ms = 0;
    c.caCpu = 0;
    c.dbCpu = 0;
  }
  while (configs.some((c) => c.ms < MEASURE_MS)) for (const c of configs) await runSlice(c, requests, SLICE_MS);
  return {
    rates: Object.fromEntries(configs.map((c) => [c.name, Math.round((c.ops * 1000) / c.ms)])),
    cpu: Object.fromEntries(configs.map((c) => [c.name, { ca: Math.round(c.caCpu / c.ops), database: Math.round(c.dbCpu / c.ops) }])),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. inventory queries at ROWS certificates

const DAY = 86_400_000;

/** Seeds `rows` certificates (and their names) straight into the tables, in big transactions. */
async function seed(db: Kysely<StoreDatabase>, rows: number, now: number): Promise<number> {
  const started = performance.now();
  const der = new Uint8Array(700).fill(0x30);
  const batch = 500;
  for (let done = 0; done < rows; ) {
    await db.transaction().execute(async (trx) => {
      for (let inTx = 0; inTx < 40 && done < rows; inTx++) {
        const certs: Record<string, unknown>[] = [];
        const names: Record<string, unknown>[] = [];
        for (let k = 0; k < batch && done < rows; k++, done++) {
          const i = done;
          const serial = createHash('sha1').update(String(i)).digest('hex');
          const issued = now - 90 * DAY + Math.floor((i / rows) * 90 * DAY);
          const lifetime = i % 10 < 7 ? DAY : 90 * DAY;
          const host = `host-${i}.svc-${i % 1000}.example.com`;
          certs.push({
            serial,
            issuer_serial: 'abcdef',
            subject: `CN=${host}`,
            not_before: issued,
            not_after: issued + lifetime,
            key_fingerprint: createHash('sha256').update(serial).digest('hex'),
            key_type: 'EC P-256',
            provisioner: `provisioner-${i % 20}`,
            requester: host,
            profile: 'leaf',
            status: i % 97 === 0 ? 'revoked' : 'valid',
            revoked_at: i % 97 === 0 ? issued + 1000 : null,
            revocation_reason: null,
            // 60% were renewed: each points at a (synthetic) successor.
            replaced_by: i % 5 < 3 ? createHash('sha1').update(`next-${i}`).digest('hex') : null,
            replaces: null,
            issued_at: issued,
            der,
          });
          names.push({ serial, ordinal: 0, type: 'cn', value: host, reversed_name: reversedName('cn', host) });
          names.push({ serial, ordinal: 1, type: 'dns', value: host, reversed_name: reversedName('dns', host) });
        }
        await trx.insertInto('certificates').values(certs as never).execute();
        await trx.insertInto('certificate_names').values(names as never).execute();
      }
    });
  }
  await sql`analyze`.execute(db);
  return Math.round((performance.now() - started) / 100) / 10;
}

interface Latency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rowsPerPage: number;
}

async function latency(store: Store, filter: (i: number) => CertificateFilter): Promise<Latency> {
  const times: number[] = [];
  let rowsPerPage = 0;
  for (let i = 0; i < QUERIES + 10; i++) {
    const t0 = performance.now();
    const page = await store.certificates.list(filter(i), { limit: 100 });
    const dt = performance.now() - t0;
    if (i >= 10) times.push(dt);
    rowsPerPage = page.items.length;
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round((times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0) * 100) / 100;
  return { p50Ms: at(0.5), p99Ms: at(0.99), rowsPerPage };
}

async function inventoryQueries(store: Store, now: number): Promise<Record<string, Latency>> {
  const nowDate = new Date(now);
  return {
    expiringWithin7Days: await latency(store, () => ({ status: 'valid', expiresAfter: nowDate, expiresBefore: new Date(now + 7 * DAY) })),
    byName: await latency(store, (i) => ({ name: `host-${(i * 7919) % ROWS}.svc-${((i * 7919) % ROWS) % 1000}.example.com` })),
    byDomain: await latency(store, (i) => ({ name: `*.svc-${i % 1000}.example.com` })),
    byProvisioner: await latency(store, (i) => ({ provisioner: `provisioner-${i % 20}` })),
    replaced: await latency(store, () => ({ replaced: true })),
    notReplaced: await latency(store, () => ({ replaced: false })),
  };
}

// ---------------------------------------------------------------------------------------------

/** Runs the store benchmarks; the JSON figures `npm run bench` prints under `store`. */
export async function benchStore(): Promise<Record<string, unknown>> {
  const parent = mkdtempSync(join(tmpdir(), 'signet-bench-store-'));
  let pg: PostgresServer | undefined;
  let pgProblem: string | undefined;
  try {
    pg = await startPostgres({ durable: true, settings: { shared_buffers: '256MB' } });
  } catch (e) {
    pgProblem = `PostgreSQL not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
  const opened: Store[] = [];
  try {
    const ca = await createBenchCa(parent);
    const clock = systemClock;

    // 1. issuance
    const sqlite = await openSqliteStore(join(parent, 'issuance.db'), { clock });
    opened.push(sqlite);
    const stores: { name: string; store: Store }[] = [
      { name: 'noStore', store: memoryStore() },
      { name: 'sqlite', store: sqlite },
    ];
    if (pg) {
      const postgres = await openPostgresStore(pg.url(await pg.createDatabase('issuance')), { clock, password: pg.password, poolSize: 16 });
      opened.push(postgres);
      stores.push({ name: 'postgres', store: postgres });
    }
    const { rates, cpu } = await issuanceThroughput(ca, stores, () => pg?.cpuSeconds() ?? 0);
    const base = rates.noStore ?? 1;
    const issuance = {
      concurrency: CONCURRENCY,
      measureMsPerStore: MEASURE_MS,
      certificatesPerSecond: rates,
      // CPU per issuance: of the CA process (all its threads) and of the PostgreSQL server's
      // processes, which share this machine's cores with it (a real deployment gives it its own).
      cpuMicrosecondsPerIssuance: cpu,
      ratioToNoStore: Object.fromEntries(Object.entries(rates).filter(([k]) => k !== 'noStore').map(([k, v]) => [k, Math.round((v / base) * 1000) / 1000])),
    };

    // 2. inventory at ROWS
    const now = Date.now();
    const inventory: Record<string, unknown> = { rows: ROWS, queriesPerQuestion: QUERIES, pageSize: 100 };
    {
      const path = join(parent, 'inventory.db');
      const { db, raw } = openSqliteKysely(path);
      await migrate(db, clock);
      const seconds = await seed(db, ROWS, now);
      await db.destroy();
      if (raw.open) raw.close();
      const store = await openSqliteStore(path, { clock });
      opened.push(store);
      inventory.sqlite = { seedSeconds: seconds, ...(await inventoryQueries(store, now)) };
    }
    if (pg) {
      const url = pg.url(await pg.createDatabase('inventory'));
      const { db } = openPostgresKysely(url, { password: pg.password, statementTimeoutMs: 600_000 });
      await migrate(db, clock);
      const seconds = await seed(db, ROWS, now);
      await db.destroy();
      const store = await openPostgresStore(url, { clock, password: pg.password });
      opened.push(store);
      inventory.postgres = { seedSeconds: seconds, ...(await inventoryQueries(store, now)) };
    }
    const p99s = ['sqlite', 'postgres'].flatMap((k) => {
      const r = inventory[k] as Record<string, Latency | number> | undefined;
      return r ? Object.values(r).flatMap((v) => (typeof v === 'object' ? [v.p99Ms] : [])) : [];
    });
    const ratios = Object.values(issuance.ratioToNoStore);
    return {
      benchmark: 'stores: issuance throughput with SQLite and PostgreSQL vs no store (in-process, 64 concurrent), inventory query latency at 1M certificates',
      ...(pgProblem ? { note: pgProblem } : {}),
      issuance,
      inventory,
      goal: {
        description: 'each store ≥ 0.75 × the no-store issuance rate (costs < 25%); every inventory question p99 < 50 ms at 1M rows',
        worstStoreRatio: Math.min(...ratios),
        worstP99Ms: Math.max(...p99s),
        met: ratios.every((r) => r >= 0.75) && p99s.every((p) => p < 50) && pg !== undefined,
      },
    };
  } finally {
    await Promise.all(opened.map((s) => s.close()));
    await pg?.destroy();
    rmSync(parent, { recursive: true, force: true });
  }
}
