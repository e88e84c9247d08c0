/** Builders shared by the store tests: records that satisfy the store's conventions. */
import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { isSignetError, type ErrorCode } from '../../src/core/errors.js';
import type { AuditEventInput, CertificateRecord } from '../../src/store/index.js';

/** 2030-01-01T00:00:00Z: a base time far from the real clock, so nothing depends on "now". */
export const T0 = Date.UTC(2030, 0, 1);

/** A time `ms` after {@link T0}. */
export function at(ms: number): Date {
  return new Date(T0 + ms);
}

/** A fresh serial the way Signet makes them: 16 octets, top bit clear, next bit set. */
export function newSerial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] as number) & 0x7f) | 0x40;
  return b.toString('hex');
}

/** A SHA-256 fingerprint (lower-case hex) of `label`. */
export function fingerprint(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A valid certificate record; `over` replaces fields (set a field to `undefined` to drop it). */
export function certificate(over: Partial<Mutable<CertificateRecord>> = {}): CertificateRecord {
  const serial = over.serial ?? newSerial();
  const base: Mutable<CertificateRecord> = {
    serial,
    subject: 'CN=svc.example.com',
    names: [
      { type: 'dns', value: 'svc.example.com' },
      { type: 'cn', value: 'svc.example.com' },
    ],
    notBefore: at(0),
    notAfter: at(24 * 3600_000),
    keyFingerprint: fingerprint(serial),
    keyType: 'EC P-256',
    provisioner: 'admin',
    requester: 'alice@example.com',
    profile: 'leaf',
    status: 'valid',
    issuedAt: at(60_000),
    der: new Uint8Array(randomBytes(64 + (parseInt(serial.slice(-2), 16) % 64))),
  };
  const out: Record<string, unknown> = { ...base, ...over };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out as unknown as CertificateRecord;
}

/** A valid audit event. */
export function auditEvent(over: Partial<Mutable<AuditEventInput>> = {}): AuditEventInput {
  return { time: at(0), type: 'certificate.issue', outcome: 'success', actor: 'alice@example.com', ...over };
}

/** Asserts that `p` rejects with a SignetError carrying `code`. */
export async function rejectsWith(p: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode, message?: string): Promise<void> {
  await assert.rejects(typeof p === 'function' ? p() : p, (e: unknown) => {
    assert.ok(isSignetError(e), `expected a SignetError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, message);
    return true;
  });
}

/** A promise and the function that resolves it: a gate a test opens when it decides to. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
