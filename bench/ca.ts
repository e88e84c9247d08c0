/**
 * The CA every benchmark issues from: made by `signet ca init`'s own code in a scratch
 * directory (root, intermediate, the `admin` JWK provisioner, SQLite store), with what the
 * benchmarks need of it loaded.
 */
import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaConfig, type CaConfig } from '../src/ca/config.js';
import { caInitCommand } from '../src/cli/ca/init.js';
import { decodePem } from '../src/core/pem.js';
import { parsePrivateKey } from '../src/crypto/keys.js';
import { systemClock } from '../src/core/clock.js';
import { migrate } from '../src/store/migrations.js';
import { openSqliteKysely } from '../src/store/sqlite.js';

const PASSWORD = 'bench password';

/** A benchmark CA. */
export interface BenchCa {
  readonly configPath: string;
  readonly config: CaConfig;
  readonly rootPem: string;
  /** DER of the root and the intermediate certificates. */
  readonly root: Uint8Array;
  readonly intermediate: Uint8Array;
  readonly rootFingerprint: string;
  readonly provisionerKey: KeyObject;
  readonly provisionerPublicKey: KeyObject;
  readonly kid: string;
  /** The intermediate's private key. */
  readonly intermediateKey: KeyObject;
}

/** Creates a CA in `parent` (an empty directory) with `signet ca init`'s code. */
export async function createBenchCa(parent: string, options: { readonly trustDomain?: string } = {}): Promise<BenchCa> {
  const passwordFile = join(parent, 'password.txt');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const dir = join(parent, 'ca');
  await caInitCommand({ name: 'Bench CA', dir, passwordFile, provisionerPasswordFile: passwordFile, rootKeyOut: join(parent, 'root.key'), ...(options.trustDomain !== undefined ? { trustDomain: options.trustDomain } : {}) });
  const configPath = join(dir, 'signet.json');
  const config = loadCaConfig(configPath);
  const provisioner = config.provisioners[0];
  if (provisioner?.type !== 'JWK') throw new Error('ca init made no JWK provisioner');
  const rootPem = readFileSync(config.root, 'utf8');
  const root = decodePem(rootPem, ['CERTIFICATE']).der;
  const provisionerKey = parsePrivateKey(new Uint8Array(readFileSync(join(dir, 'secrets', `provisioner-${provisioner.name}.key`))), PASSWORD);
  return {
    configPath,
    config,
    rootPem,
    root,
    intermediate: decodePem(readFileSync(config.intermediate.certificate, 'utf8'), ['CERTIFICATE']).der,
    rootFingerprint: createHash('sha256').update(root).digest('hex'),
    provisionerKey,
    provisionerPublicKey: createPublicKey(provisionerKey),
    kid: provisioner.kid,
    intermediateKey: parsePrivateKey(new Uint8Array(readFileSync(config.intermediate.key)), PASSWORD),
  };
}

/** What a seeded certificate row says besides its random serial (defaults: valid, issued now, 24h left, provisioner `bench`). */
export interface SeedRow {
  readonly revokedAt?: number;
  readonly reason?: string;
  readonly notAfter?: number;
  readonly issuedAt?: number;
  readonly provisioner?: string;
}

/**
 * Creates the SQLite store at `path` (migrated) holding `count` certificates of the issuing CA
 * `issuerSerial`, with random serials and the columns `row(i)` gives, in one transaction (a
 * revoked row takes revocation sequence number 1); returns the serials in order.
 */
export async function seedInventory(path: string, issuerSerial: string, count: number, row: (i: number) => SeedRow = () => ({})): Promise<string[]> {
  const { db, raw } = openSqliteKysely(path);
  try {
    await migrate(db, systemClock);
    const now = Date.now();
    const insert = raw.prepare(
      `insert into certificates (serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, revoked_at, revocation_reason, revoked_seq, issued_at, der)
       values (?, ?, 'CN=bench', ?, ?, ?, 'EC P-256', ?, 'bench', 'leaf', ?, ?, ?, ?, ?, x'3000')`,
    );
    const serials: string[] = [];
    let revoked = false;
    raw.transaction(() => {
      for (let i = 0; i < count; i++) {
        const b = randomBytes(16);
        b[0] = ((b[0] as number) & 0x7f) | 0x40;
        const serial = b.toString('hex');
        const r = row(i);
        if (r.revokedAt !== undefined) revoked = true;
        insert.run(
          serial,
          issuerSerial,
          now - 60_000,
          r.notAfter ?? now + 24 * 3_600_000,
          serial.padEnd(64, '0'),
          r.provisioner ?? 'bench',
          r.revokedAt === undefined ? 'valid' : 'revoked',
          r.revokedAt ?? null,
          r.reason ?? null,
          r.revokedAt === undefined ? null : 1,
          r.issuedAt ?? now,
        );
        serials.push(serial);
      }
    })();
    if (revoked) raw.prepare(`insert into counters (name, value) values ('revocations', 1)`).run();
    return serials;
  } finally {
    await db.destroy();
  }
}
