/**
 * How an inventory record is shown: its derived status, the JSON object of `--json` and the
 * export, the summary table and the CSV columns. One vocabulary for all of them: JSON keys and
 * CSV headers are the same names.
 */
import { encodePem } from '../../core/pem.js';
import { formatCertificateLine } from '../../ssh/certificate.js';
import { isSshProfile } from '../../ssh/issue.js';
import { formatTime } from '../../core/duration.js';
import type { CertificateName, CertificateRecord } from '../../store/store.js';
import type { InventoryStatus } from './flags.js';
import type { Column } from './output.js';

/**
 * The status the inventory commands show: `revoked` wins; a certificate that is not revoked is
 * `expired` once `notAfter` has passed (`notAfter < now`, the same test as `--status expired`),
 * else `valid`.
 */
export function inventoryStatus(record: CertificateRecord, now: Date): InventoryStatus {
  if (record.status === 'revoked') return 'revoked';
  return record.notAfter.getTime() < now.getTime() ? 'expired' : 'valid';
}

/** A record as `--json` and the export write it; `pem` only when asked for. */
export interface CertificateJson {
  readonly serial: string;
  readonly status: InventoryStatus;
  readonly subject: string;
  readonly names: readonly CertificateName[];
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  readonly provisioner: string;
  readonly requester: string;
  readonly profile: string;
  readonly keyType: string;
  readonly keyFingerprint: string;
  readonly issuerSerial?: string;
  readonly replaces?: string;
  readonly replacedBy?: string;
  readonly revokedAt?: string;
  readonly revocationReason?: string;
  readonly pem?: string;
}

/** The JSON object of a record: times in RFC 3339 (UTC, seconds), the DER only as `pem` when `withPem`. */
export function certificateJson(r: CertificateRecord, now: Date, withPem = false): CertificateJson {
  return {
    serial: r.serial,
    status: inventoryStatus(r, now),
    subject: r.subject,
    names: r.names.map((n) => ({ type: n.type, value: n.value })),
    notBefore: formatTime(r.notBefore),
    notAfter: formatTime(r.notAfter),
    issuedAt: formatTime(r.issuedAt),
    provisioner: r.provisioner,
    requester: r.requester,
    profile: r.profile,
    keyType: r.keyType,
    keyFingerprint: r.keyFingerprint,
    ...(r.issuerSerial !== undefined && { issuerSerial: r.issuerSerial }),
    ...(r.replaces !== undefined && { replaces: r.replaces }),
    ...(r.replacedBy !== undefined && { replacedBy: r.replacedBy }),
    ...(r.revokedAt !== undefined && { revokedAt: formatTime(r.revokedAt) }),
    ...(r.revocationReason !== undefined && { revocationReason: r.revocationReason }),
    ...(withPem && { pem: recordText(r) }),
  };
}

/**
 * A record's certificate as text: PEM for X.509, the `*-cert.pub` line (what sshd and ssh read)
 * for an SSH certificate.
 */
export function recordText(r: CertificateRecord): string {
  return isSshProfile(r.profile) ? `${formatCertificateLine(r.der, r.subject)}\n` : encodePem('CERTIFICATE', r.der);
}

/**
 * The name a table row shows: the common name, else the first SAN, else the subject; with
 * `(+N)` when the certificate is valid for N other names.
 */
export function primaryName(r: CertificateRecord): string {
  const first = r.names.find((n) => n.type === 'cn') ?? r.names[0];
  const shown = first?.value ?? (r.subject === '' ? '-' : r.subject);
  const others = new Set(r.names.map((n) => n.value.toLowerCase()));
  others.delete(shown.toLowerCase());
  return others.size > 0 ? `${shown} (+${others.size})` : shown;
}

/** `type:value` of every name, `; ` between them (the CSV `names` cell). */
export function namesText(names: readonly CertificateName[]): string {
  return names.map((n) => `${n.type}:${n.value}`).join('; ');
}

function optionalTime(d: Date | undefined): string {
  return d === undefined ? '' : formatTime(d);
}

/** The summary table of `inventory list` and `search`. */
export function tableColumns(now: Date): readonly Column<CertificateRecord>[] {
  return [
    { header: 'SERIAL', value: (r) => r.serial },
    { header: 'NAME', value: primaryName },
    { header: 'NOT AFTER', value: (r) => formatTime(r.notAfter) },
    { header: 'STATUS', value: (r) => inventoryStatus(r, now) },
    { header: 'PROVISIONER', value: (r) => r.provisioner },
    { header: 'REPLACED BY', value: (r) => r.replacedBy ?? '-' },
  ];
}

/** Every field of a record as CSV columns (no PEM: use JSON for certificates themselves). */
export function csvColumns(now: Date): readonly Column<CertificateRecord>[] {
  return [
    { header: 'serial', value: (r) => r.serial },
    { header: 'status', value: (r) => inventoryStatus(r, now) },
    { header: 'subject', value: (r) => r.subject },
    { header: 'names', value: (r) => namesText(r.names) },
    { header: 'notBefore', value: (r) => formatTime(r.notBefore) },
    { header: 'notAfter', value: (r) => formatTime(r.notAfter) },
    { header: 'issuedAt', value: (r) => formatTime(r.issuedAt) },
    { header: 'provisioner', value: (r) => r.provisioner },
    { header: 'requester', value: (r) => r.requester },
    { header: 'profile', value: (r) => r.profile },
    { header: 'keyType', value: (r) => r.keyType },
    { header: 'keyFingerprint', value: (r) => r.keyFingerprint },
    { header: 'issuerSerial', value: (r) => r.issuerSerial ?? '' },
    { header: 'replaces', value: (r) => r.replaces ?? '' },
    { header: 'replacedBy', value: (r) => r.replacedBy ?? '' },
    { header: 'revokedAt', value: (r) => optionalTime(r.revokedAt) },
    { header: 'revocationReason', value: (r) => r.revocationReason ?? '' },
  ];
}
