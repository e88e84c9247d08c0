/**
 * CRL benchmarks (ISSUE 6): how long the CA takes to sign a new CRL, and how big it is, with
 * 10,000, 100,000 and 1,000,000 revoked (unexpired) certificates in the inventory — the whole
 * step the CRL job runs (read the revocation sequence, page through the revoked certificates in
 * the store, write and sign the DER, store it), and the writer and signature alone on the same
 * entries held in memory, so the store's share is visible. SQLite with the CA's settings.
 *
 * The largest size is then measured partitioned (`revocation.crl.shards`): the same revoked
 * certificates spread over N partitions, every partition's CRL signed in turn — what a
 * partitioned CA's CRL job does after an incident that touched all of them — with the largest
 * partition's size (what a relying party downloads).
 *
 * Env: SIGNET_BENCH_CRL_SIZES (comma-separated entry counts, default 10000,100000,1000000),
 * SIGNET_BENCH_CRL_SHARDS (partitions, default 16).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { CrlPublisher } from '../src/revocation/crl.js';
import { signCrl, type CrlEntryInput } from '../src/x509/crl-builder.js';
import { issuerFromCertificate } from '../src/x509/certificate-builder.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { createBenchCa, seedInventory } from './ca.js';

const SIZES = (process.env.SIGNET_BENCH_CRL_SIZES ?? '10000,100000,1000000').split(',').map((s) => Number(s.trim()));
const SHARDS = Number(process.env.SIGNET_BENCH_CRL_SHARDS ?? 16);
const REASONS = [null, 'keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'];

/** One CRL size's figures. */
export interface CrlBenchRow {
  readonly entries: number;
  /** The CRL job's whole step: read from the store, write, sign, store. */
  readonly generateMs: number;
  /** Writing and signing the same entries from memory. */
  readonly buildAndSignMs: number;
  readonly bytes: number;
}

/** The largest size, partitioned. */
export interface PartitionedCrlBench {
  readonly entries: number;
  readonly shards: number;
  /** Every partition's CRL signed in turn. */
  readonly allPartitionsMs: number;
  /** The slowest partition's CRL job. */
  readonly largestPartitionMs: number;
  /** The largest partition's CRL. */
  readonly largestPartitionBytes: number;
}

export async function benchCrl(): Promise<{ readonly description: string; readonly rows: CrlBenchRow[]; readonly partitioned?: PartitionedCrlBench }> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-crl-'));
  const rows: CrlBenchRow[] = [];
  let partitioned: PartitionedCrlBench | undefined;
  try {
    const ca = await createBenchCa(dir);
    const signer = createSoftwareSigner(ca.intermediateKey);
    const issuerSerial = parseCertificate(ca.intermediate).serialHex;
    for (const size of SIZES) {
      const path = join(dir, `crl-${size}.db`);
      const now = Date.now();
      const columns = (i: number): { revokedAt: number; reason?: string; notAfter: number } => {
        const reason = REASONS[i % REASONS.length] ?? null;
        return { revokedAt: now - (i % 86_400) * 1000, ...(reason !== null && { reason }), notAfter: now + 24 * 3_600_000 + (i % 1000) * 1000 };
      };
      const serials = await seedInventory(path, issuerSerial, size, columns);
      const entries: CrlEntryInput[] = serials.map((serial, i) => {
        const r = columns(i);
        return { serial, revokedAt: new Date(r.revokedAt), ...(r.reason !== undefined && { reason: r.reason }) };
      });

      const store = await openSqliteStore(path, { clock: systemClock });
      try {
        const publisher = new CrlPublisher({ store, issuer: ca.intermediate, signer, clock: systemClock, validityMs: 24 * 3_600_000, refreshMs: 8 * 3_600_000, url: () => 'http://bench.invalid/crl' });
        let started = performance.now();
        const crl = await publisher.generate();
        const generateMs = performance.now() - started;
        if (crl.entries !== size) throw new Error(`CRL has ${crl.entries} entries, expected ${size}`);
        const issuer = issuerFromCertificate(ca.intermediate);
        started = performance.now();
        signCrl({ issuerName: issuer.name, issuerKeyIdentifier: issuer.keyIdentifier as Uint8Array, number: 1n, thisUpdate: new Date(now), nextUpdate: new Date(now + 86_400_000) }, entries, signer);
        const buildAndSignMs = performance.now() - started;
        rows.push({ entries: size, generateMs: Math.round(generateMs), buildAndSignMs: Math.round(buildAndSignMs), bytes: crl.der.length });
      } finally {
        await store.close();
      }
      if (size === Math.max(...SIZES) && SHARDS > 1) {
        // The same certificates, each in partition 1…N (as the authority assigns them).
        const raw = new Database(path);
        raw.prepare(`update certificates set crl_shard = 1 + (rowid % ${SHARDS})`).run();
        raw.close();
        const again = await openSqliteStore(path, { clock: systemClock });
        try {
          let total = 0;
          let largestMs = 0;
          let largestBytes = 0;
          let entriesSeen = 0;
          for (let shard = 1; shard <= SHARDS; shard++) {
            const publisher = new CrlPublisher({ store: again, issuer: ca.intermediate, signer, clock: systemClock, validityMs: 24 * 3_600_000, refreshMs: 8 * 3_600_000, shard, url: () => `http://bench.invalid/crl/${shard}` });
            const started = performance.now();
            const crl = await publisher.generate();
            const ms = performance.now() - started;
            total += ms;
            largestMs = Math.max(largestMs, ms);
            largestBytes = Math.max(largestBytes, crl.der.length);
            entriesSeen += crl.entries;
          }
          if (entriesSeen !== size) throw new Error(`the partitions hold ${entriesSeen} entries, expected ${size}`);
          partitioned = { entries: size, shards: SHARDS, allPartitionsMs: Math.round(total), largestPartitionMs: Math.round(largestMs), largestPartitionBytes: largestBytes };
        } finally {
          await again.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { description: 'CRL generation (store read + DER write + sign + store) and size by revoked entries, SQLite; the largest also partitioned', rows, ...(partitioned !== undefined && { partitioned }) };
}
