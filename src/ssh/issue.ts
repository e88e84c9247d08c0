/**
 * What the authority decides for an SSH certificate before it signs one, as pure functions
 * (STYLE.md habit 4): which kind the token authorizes, which principals may go in, and the
 * validity window within the provisioner's bounds. The authority (src/ca/authority.ts) runs them
 * in its pipeline; nothing here touches the store or a key.
 */
import { randomBytes } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { escapeControl } from '../core/escape.js';
import type { Claims } from '../ca/config.js';
import { principalProblem } from '../ca/policy.js';
import { isValidDnsName, parseIpAddress } from '../x509/general-name.js';
import { isJsonObject, type JsonObject } from '../x509/template/json.js';
import type { SshCertificateType } from './certificate.js';

/** Most principals one certificate may carry. */
export const MAX_SSH_PRINCIPALS = 256;

/**
 * The kind of SSH certificate a one-time token authorizes: its `ssh` claim,
 * `{"certType": "user" | "host"}`. A token without it is an X.509 token (ERR_FORBIDDEN_CERT_TYPE).
 */
export function sshTokenCertType(payload: Readonly<JsonObject>): SshCertificateType {
  const ssh = Object.hasOwn(payload, 'ssh') ? payload.ssh : undefined;
  const type = ssh !== undefined && isJsonObject(ssh) && Object.hasOwn(ssh, 'certType') ? ssh.certType : undefined;
  if (type === 'user' || type === 'host') return type;
  throw new SignetError('ERR_FORBIDDEN_CERT_TYPE', 'the token does not authorize an SSH certificate (it has no "ssh": {"certType": "user" | "host"} claim)', {
    hint: 'mint the token with `signet ca token --ssh` (or --ssh --host)',
  });
}

/**
 * The principals of the certificate: those requested (default: all the token authorizes), each
 * one the token names (ERR_FORBIDDEN_NAMES otherwise), well-formed (no whitespace, commas or
 * control characters; a host's a DNS name or an IP address), none twice, at least one — an SSH
 * certificate without principals is valid for *every* user or host, which Signet never issues.
 */
export function sshPrincipals(type: SshCertificateType, authorized: readonly string[], requested: readonly string[] | undefined): string[] {
  const list = requested ?? authorized;
  const shown = (p: string): string => JSON.stringify(escapeControl(p.slice(0, 64)));
  if (list.length === 0) {
    throw new SignetError('ERR_FORBIDDEN_NAMES', 'an SSH certificate needs at least one principal (without any it would be valid for every ' + (type === 'user' ? 'user' : 'host') + ')', {
      hint: type === 'user' ? 'mint the token with --principal USER' : 'mint the token with --principal HOSTNAME',
    });
  }
  if (list.length > MAX_SSH_PRINCIPALS) throw new SignetError('ERR_FORBIDDEN_NAMES', `an SSH certificate may carry at most ${MAX_SSH_PRINCIPALS} principals, not ${list.length}`);
  const out: string[] = [];
  for (const p of list) {
    const problem = principalProblem(p);
    if (problem !== undefined) throw new SignetError('ERR_FORBIDDEN_NAMES', `principal ${shown(p)} ${problem}`);
    if (type === 'host' && parseIpAddress(p) === undefined && !isValidDnsName(p)) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `host principal ${shown(p)} is neither a DNS name nor an IP address`);
    }
    // Host names compare and are certified in lower case: ssh lower-cases the name it connects to before matching principals.
    const name = type === 'host' ? p.toLowerCase() : p;
    if (!authorized.some((a) => (type === 'host' ? a.toLowerCase() : a) === name)) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `principal ${shown(p)} is not authorized by the token`, { hint: `the token authorizes: ${authorized.map(shown).join(', ')}` });
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** A host certificate's principals as names for the policy engine (DNS names and IP addresses). */
export function hostPolicyNames(principals: readonly string[]): { type: 'dns' | 'ip'; value: string }[] {
  return principals.map((p) => (parseIpAddress(p) !== undefined ? { type: 'ip' as const, value: p } : { type: 'dns' as const, value: p }));
}

/** The lifetime bounds of one kind of SSH certificate in a provisioner's claims. */
export function sshLifetimeBounds(claims: Claims, type: SshCertificateType): { min: number; max: number; default: number } {
  return type === 'user'
    ? { min: claims.sshUserMinLifetimeMs, max: claims.sshUserMaxLifetimeMs, default: claims.sshUserDefaultLifetimeMs }
    : { min: claims.sshHostMinLifetimeMs, max: claims.sshHostMaxLifetimeMs, default: claims.sshHostDefaultLifetimeMs };
}

/**
 * The validity window in whole seconds: `validAfter` as requested, else `now − backdate`;
 * `validBefore` as requested, else the kind's default lifetime from the start. The lifetime counts
 * from the requested start, else from now (the backdate is the CA's allowance for clock skew) and
 * must lie within the provisioner's bounds (ERR_LIFETIME_OUT_OF_BOUNDS); a window that ends
 * before it starts is ERR_LIFETIME_OUT_OF_BOUNDS too.
 */
export function sshValidity(
  claims: Claims,
  type: SshCertificateType,
  now: Date,
  requested: { readonly validAfter?: Date; readonly validBefore?: Date },
  provisioner: string,
): { validAfter: Date; validBefore: Date } {
  const bounds = sshLifetimeBounds(claims, type);
  const floorSecond = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
  const start = requested.validAfter?.getTime() ?? now.getTime();
  const validAfter = floorSecond(requested.validAfter?.getTime() ?? now.getTime() - claims.backdateMs);
  const validBefore = floorSecond(requested.validBefore?.getTime() ?? start + bounds.default);
  const lifetime = validBefore.getTime() - start;
  if (validBefore.getTime() <= validAfter.getTime() || lifetime < bounds.min || lifetime > bounds.max) {
    throw new SignetError(
      'ERR_LIFETIME_OUT_OF_BOUNDS',
      `the requested ${type} certificate lifetime ${lifetime > 0 ? formatDuration(lifetime) : '(none)'} is outside ${formatDuration(bounds.min)}…${formatDuration(bounds.max)} (provisioner ${provisioner})`,
    );
  }
  return { validAfter, validBefore };
}

/** A random certificate serial: 64 bits from the CSPRNG, never 0 (OpenSSH's "no serial"). */
export function randomSshSerial(): bigint {
  for (;;) {
    const serial = randomBytes(8).readBigUInt64BE(0);
    if (serial !== 0n) return serial;
  }
}

/** The inventory's form of an SSH serial (lower-case hex of the uint64, no leading zeros). */
export function sshSerialHex(serial: bigint): string {
  const hex = serial.toString(16);
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

/** The inventory profiles of SSH certificates. */
export const SSH_PROFILES = Object.freeze({ user: 'ssh-user', host: 'ssh-host' } as const);

/** True when an inventory record's profile says it holds an SSH certificate (its `der` is the OpenSSH certificate blob). */
export function isSshProfile(profile: string): boolean {
  return profile === SSH_PROFILES.user || profile === SSH_PROFILES.host;
}
