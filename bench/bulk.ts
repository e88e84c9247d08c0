/**
 * Bulk revocation benchmark (ISSUE 6): an incident that revokes every live certificate of a
 * 1,000,000-certificate inventory (SQLite, the CA's settings), timed step by step the way
 * `signet revoke` and the revocation watcher do it: the survey (dry run), the revocation in
 * batches of 1,000, the CRL the watcher then signs, and the OCSP responder dropping the kept
 * responses of everything revoked. Goal: all of it in under two minutes.
 *
 * The certificates are issued one per millisecond and each is valid for a day, as in a real
 * inventory: the CRL entry index (issuer, notAfter, serial) then grows in order as the incident
 * walks them in issue order. With one notAfter for all (no real inventory looks like that) the
 * index takes its entries at random places and the revocation step measured about 4× slower.
 *
 * Env: SIGNET_BENCH_BULK_ROWS (default 1000000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { revokeSelection, survey } from '../src/revocation/bulk.js';
import { CrlPublisher } from '../src/revocation/crl.js';
import { OcspResponder } from '../src/revocation/ocsp.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { issuerFromCertificate } from '../src/x509/certificate-builder.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { buildOcspRequest, encodeCertId, issuerHashes, subjectPublicKeyBits } from '../src/x509/ocsp.js';
import { createBenchCa, seedInventory } from './ca.js';

const ROWS = Number(process.env.SIGNET_BENCH_BULK_ROWS ?? 1_000_000);
/** Kept OCSP responses (hot certificates) the responder drops as the revocations come in. */
const KEPT = 10_000;
/** Every certificate is valid for a day from when it was issued (one per millisecond). */
const DAY = 86_400_000;

export interface BulkBench {
  readonly description: string;
  readonly certificates: number;
  readonly surveyMs: number;
  readonly revokeMs: number;
  readonly revokedPerSecond: number;
  readonly crlMs: number;
  readonly crlBytes: number;
  readonly ocspEvictMs: number;
  readonly totalMs: number;
  readonly goal: { readonly maxMs: number; readonly met: boolean };
}

export async function benchBulk(): Promise<BulkBench> {
  const dir = mkdtempSync(join(tmpdir(), 'signet-bench-bulk-'));
  try {
    const ca = await createBenchCa(dir);
    const issuer = parseCertificate(ca.intermediate);
    const path = join(dir, 'bulk.db');
    const now = Date.now();
    const serials = (await seedInventory(path, issuer.serialHex, ROWS, (i) => ({ provisioner: 'compromised', issuedAt: now - ROWS + i, notAfter: now - ROWS + i + DAY }))).slice(0, KEPT);

    const store = await openSqliteStore(path, { clock: systemClock });
    try {
      const signer = createSoftwareSigner(ca.intermediateKey);
      const responder = await OcspResponder.create({ store, issuer: ca.intermediate, issuerSigner: signer, clock: systemClock, validityMs: 4 * 3_600_000, signerLifetimeMs: 7 * 24 * 3_600_000, cacheSize: KEPT, replica: 'bench', tickMs: 5_000 });
      const sha1 = issuerHashes(issuerFromCertificate(ca.intermediate).name, subjectPublicKeyBits(issuer.spki)).find((h) => h.hash === 'sha1');
      if (sha1 === undefined) throw new Error('no SHA-1 issuer hashes');
      for (const s of serials) await responder.respond(buildOcspRequest([encodeCertId(sha1, s)]));
      const crl = new CrlPublisher({ store, issuer: ca.intermediate, signer, clock: systemClock, validityMs: 24 * 3_600_000, refreshMs: 8 * 3_600_000, url: () => 'http://bench.invalid/crl' });
      const filter = { provisioner: 'compromised' };

      const t0 = performance.now();
      const counts = await survey(store, filter, new Date());
      const t1 = performance.now();
      const done = await revokeSelection(store, filter, { at: new Date(), reason: 'keyCompromise', batchSize: 1000 });
      const t2 = performance.now();
      const signed = await crl.generate();
      const t3 = performance.now();
      const tick = await responder.maintain();
      const t4 = performance.now();
      if (counts.liveUnreplaced !== ROWS || done.revoked !== ROWS || signed.entries !== ROWS) throw new Error(`expected ${ROWS}: survey ${counts.liveUnreplaced}, revoked ${done.revoked}, CRL ${signed.entries}`);
      if (tick.evicted !== serials.length) throw new Error(`expected ${serials.length} kept OCSP responses dropped, got ${tick.evicted}`);
      const totalMs = Math.round(t4 - t0);
      return {
        description: `one incident over ${ROWS.toLocaleString('en-US')} live certificates (SQLite; issued one per millisecond, each valid 24 h): survey, revocation in batches of 1,000, the CRL, ${KEPT.toLocaleString('en-US')} kept OCSP responses dropped`,
        certificates: ROWS,
        surveyMs: Math.round(t1 - t0),
        revokeMs: Math.round(t2 - t1),
        revokedPerSecond: Math.round((ROWS * 1000) / (t2 - t1)),
        crlMs: Math.round(t3 - t2),
        crlBytes: signed.der.length,
        ocspEvictMs: Math.round(t4 - t3),
        totalMs,
        goal: { maxMs: 120_000, met: totalMs < 120_000 },
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
