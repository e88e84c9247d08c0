/**
 * The flags of the inventory commands, parsed from what users type into the store's query terms
 * (src/store/store.ts). Every bad value is a one-line usage error with a catalogue code:
 * ERR_BAD_OPTION (status, serial, fingerprint, limit), ERR_BAD_DURATION, ERR_BAD_TIME; flags that
 * contradict each other are ERR_USAGE.
 */
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { parseDuration, parseTime } from '../../core/duration.js';
import { parseSerial } from '../../x509/serial.js';
import type { CertificateFilter } from '../../store/store.js';
import { CONFIG_OPTION_HELP } from './store-access.js';

/** How the inventory commands name a certificate's state; "expired" is derived from `notAfter`. */
export const INVENTORY_STATUSES = ['valid', 'expired', 'revoked'] as const;

/** `valid`: not revoked and not expired; `expired`: not revoked, `notAfter` passed; `revoked`. */
export type InventoryStatus = (typeof INVENTORY_STATUSES)[number];

/** Largest `--limit`; `--all` lists everything. */
export const MAX_LIMIT = 1_000_000;

/** Rows a command prints without `--limit`. */
export const DEFAULT_LIMIT = 100;

/** RFC 5280 §4.1.2.2: a serial number is at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

/** The store takes at most this many serials in one filter. */
const MAX_SERIAL_FLAGS = 1000;

/** The filter flags `inventory list` and `inventory export` share, as commander parses them. */
export interface FilterFlags {
  readonly status?: InventoryStatus;
  readonly expiringWithin?: string;
  readonly provisioner?: string;
  readonly name?: string;
  readonly issuedAfter?: string;
  readonly issuedBefore?: string;
  readonly keyFingerprint?: string;
  readonly profile?: string;
  readonly serial?: readonly string[];
  readonly replaced?: boolean;
  readonly notReplaced?: boolean;
}

function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds `--config` to a command. */
export function addConfigOption(cmd: Command): Command {
  return cmd.option('--config <file>', CONFIG_OPTION_HELP);
}

/** Adds the filter flags of {@link FilterFlags} to a command. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--status <status>', 'valid (not revoked, not expired), expired (not revoked, past notAfter) or revoked').choices(INVENTORY_STATUSES))
    .option('--expiring-within <duration>', 'valid certificates whose notAfter falls within this duration from now, e.g. 7d')
    .option('--provisioner <name>', 'issued through this provisioner')
    .option('--name <name>', 'valid for this name (DNS name, IP, e-mail, URI or CN), or *.example.com for any name under a domain')
    .option('--issued-after <time>', 'issued at or after this time (RFC 3339, or relative such as -24h)')
    .option('--issued-before <time>', 'issued before this time (RFC 3339, or relative such as -1h)')
    .option('--key-fingerprint <sha256>', 'whose public key has this SHA-256 SPKI fingerprint (hex, colons allowed)')
    .option('--profile <profile>', 'built from this profile or template: leaf (the default template), ssh-user, ssh-host, or a template file')
    .option('--serial <hex>', 'this serial number (hex, colons and upper case allowed); repeatable', collect)
    .addOption(new Option('--replaced', 'only certificates that were renewed or rekeyed (have a replacement)').conflicts('notReplaced'))
    .addOption(new Option('--not-replaced', 'only certificates that have no replacement').conflicts('replaced'));
}

/**
 * A serial number as users copy it — `4A:1F:03`, `0x4a1f03`, `4a1f03`, from `openssl x509
 * -serial` or `signet certificate inspect` — in the store's form: lower-case hex of the
 * magnitude, no leading `00` octet. ERR_BAD_OPTION for anything else, or more than 20 octets.
 */
export function parseSerialText(text: string, flag = 'serial'): string {
  let bytes: Uint8Array;
  try {
    bytes = parseSerial(text);
  } catch {
    throw new SignetError('ERR_BAD_OPTION', `${flag}: "${text}" is not a serial number`, { hint: 'use hex, with or without colons: 4a:1f:03 or 4A1F03' });
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const magnitude = bytes.subarray(start);
  if (magnitude.length > MAX_SERIAL_OCTETS) {
    throw new SignetError('ERR_BAD_OPTION', `${flag}: "${text}" is longer than a serial number can be (${MAX_SERIAL_OCTETS} octets, RFC 5280 §4.1.2.2)`);
  }
  return Buffer.from(magnitude).toString('hex');
}

/**
 * True for a name the store can look up (store.ts `CertificateFilter.name`): at most 1024
 * characters, and `*` only as the whole first label of a pattern (`*.example.com`).
 */
export function isNameQuery(text: string): boolean {
  if (text.length === 0 || text.length > 1024) return false;
  if (!text.includes('*')) return true;
  const parent = text.slice(2);
  return text.startsWith('*.') && parent.length > 0 && !parent.includes('*') && !parent.startsWith('.');
}

/**
 * A SHA-256 key fingerprint as 64 lower-case hex digits; accepts upper case, colons and a
 * `sha256:` prefix. ERR_BAD_OPTION otherwise.
 */
export function parseFingerprintText(text: string, flag = '--key-fingerprint'): string {
  const hex = text.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new SignetError('ERR_BAD_OPTION', `${flag}: "${text}" is not a SHA-256 fingerprint`, {
      hint: 'give the 64 hex digits of the SubjectPublicKeyInfo SHA-256 (signet key inspect shows it as "spki sha256")',
    });
  }
  return hex;
}

/**
 * `--limit`/`--all`: how many records to print, or undefined for all. The limit is a whole
 * number from 1 to {@link MAX_LIMIT}; ERR_BAD_OPTION otherwise.
 */
export function parseLimit(text: string | undefined, all: boolean | undefined, max = MAX_LIMIT): number | undefined {
  if (all === true) return undefined;
  if (text === undefined) return DEFAULT_LIMIT;
  const t = text.trim();
  const n = /^\d{1,10}$/.test(t) ? Number(t) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new SignetError('ERR_BAD_OPTION', `--limit must be a whole number from 1 to ${max}, got "${text}"`, {
      hint: max === MAX_LIMIT ? 'use --all to list everything' : `at most ${max}`,
    });
  }
  return n;
}

/**
 * The store filter for the flags, at time `now`. `--status expired` and `--expiring-within` are
 * windows on `notAfter` of certificates that are not revoked: expired is `notAfter < now`,
 * expiring-within D is `now ≤ notAfter < now + D`, valid is `notAfter ≥ now`.
 */
export function buildFilter(flags: FilterFlags, now: Date): CertificateFilter {
  const filter: { -readonly [K in keyof CertificateFilter]: CertificateFilter[K] } = {};
  const nowMs = now.getTime();
  if (flags.status === 'revoked') filter.status = 'revoked';
  if (flags.status === 'valid') {
    filter.status = 'valid';
    filter.expiresAfter = now;
  }
  if (flags.status === 'expired') {
    filter.status = 'valid';
    filter.expiresBefore = now;
  }
  if (flags.expiringWithin !== undefined) {
    if (flags.status === 'expired' || flags.status === 'revoked') {
      throw new SignetError('ERR_USAGE', `--expiring-within selects valid certificates, but --status is ${flags.status}`, {
        hint: 'drop one of the two flags',
      });
    }
    const ms = parseDuration(flags.expiringWithin);
    if (ms <= 0) {
      throw new SignetError('ERR_BAD_DURATION', `--expiring-within must be a positive duration, got "${flags.expiringWithin}"`, {
        hint: 'e.g. 7d, 24h, 30m; for what has already expired use --status expired',
      });
    }
    filter.status = 'valid';
    filter.expiresAfter = now;
    filter.expiresBefore = new Date(Math.min(nowMs + ms, 253_402_300_799_999));
  }
  if (flags.provisioner !== undefined) filter.provisioner = flags.provisioner;
  if (flags.name !== undefined) {
    if (!isNameQuery(flags.name)) {
      throw new SignetError('ERR_BAD_OPTION', `--name: "${flags.name}" is neither a name nor a pattern like *.example.com`, {
        hint: '"*" can only be the whole first label: *.example.com matches every name under example.com',
      });
    }
    filter.name = flags.name;
  }
  if (flags.issuedAfter !== undefined) filter.issuedAfter = parseTime(flags.issuedAfter, now);
  if (flags.issuedBefore !== undefined) filter.issuedBefore = parseTime(flags.issuedBefore, now);
  if (flags.keyFingerprint !== undefined) filter.keyFingerprint = parseFingerprintText(flags.keyFingerprint);
  if (flags.profile !== undefined) filter.profile = flags.profile;
  if (flags.serial !== undefined) {
    const serials = [...new Set(flags.serial.map((s) => parseSerialText(s, '--serial')))];
    if (serials.length > MAX_SERIAL_FLAGS) {
      throw new SignetError('ERR_BAD_OPTION', `at most ${MAX_SERIAL_FLAGS} --serial flags can be given at once`, { hint: 'export the inventory and filter it instead' });
    }
    filter.serials = serials;
  }
  if (flags.replaced === true) filter.replaced = true;
  if (flags.notReplaced === true) filter.replaced = false;
  return filter;
}
