/**
 * Durations and times as users type them: `90s`, `15m`, `24h`, `7d`, `1h30m`, `-5m`, and RFC 3339
 * timestamps. Parsing is strict: anything else is ERR_BAD_DURATION / ERR_BAD_TIME.
 *
 * Every time this module returns lies in the years 0001–9999: that is what an X.509 Time can
 * carry (RFC 5280 §4.1.2.5: UTCTime or a four-digit GeneralizedTime year), and what RFC 3339
 * §5.6 can write. Checking here turns `+999999999y` into a usage error instead of a Date that
 * fails much later (or silently prints nonsense).
 */
import { SignetError } from './errors.js';

/** `y` is 365 days: certificate lifetimes are counted in days, not calendar years. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z, the range of a four-digit year. */
const EARLIEST_MS = new Date(0).setUTCFullYear(1, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** No duration longer than this can lead from one representable time to another. */
const MAX_DURATION_MS = LATEST_MS - EARLIEST_MS;

const DURATION_HINT = 'use a number with a unit: 90s, 15m, 24h, 7d, 1y, 1h30m';
const TIME_HINT = 'use RFC 3339 (2026-01-02T03:04:05Z) or a relative duration (+1h, -5m)';

/** Parses `1h30m`-style durations into milliseconds (may be negative with a leading `-`). */
export function parseDuration(text: string): number {
  const t = text.trim();
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+)$/.exec(t);
  if (!m) {
    throw new SignetError('ERR_BAD_DURATION', `invalid duration "${text}"`, { hint: DURATION_HINT });
  }
  let total = 0;
  for (const part of (m[2] ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
  }
  if (!Number.isFinite(total) || total > MAX_DURATION_MS) {
    throw new SignetError('ERR_BAD_DURATION', `duration "${text}" is too long: times must stay within the years 0001–9999`, { hint: DURATION_HINT });
  }
  return m[1] === '-' ? -total : total;
}

/** Formats milliseconds as a compact duration, e.g. `1d2h`, `15m`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  let out = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return sign + (out || `${rest}ms`);
}

/**
 * RFC 3339 in UTC to the second (`2026-01-02T03:04:05Z`): how Signet prints every time, on the
 * CLI and in JSON. Certificate times have no fractions, so nothing is lost for them.
 */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * True when `d` is a valid Date in the years 0001–9999 (UTC): the range an X.509 Time
 * (RFC 5280 §4.1.2.5) and an RFC 3339 timestamp can express.
 */
export function isRepresentableTime(d: Date): boolean {
  const ms = d.getTime();
  return Number.isFinite(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
}

/**
 * Says where a time that {@link isRepresentableTime} refuses lies, in words a user typed nothing
 * like an expanded year (`+011020-12-02T…`) for: "an invalid date", "after 9999-12-31T23:59:59Z"
 * or "before 0001-01-01T00:00:00Z".
 */
export function describeUnrepresentableTime(d: Date): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) return 'an invalid date';
  return ms > LATEST_MS ? 'after 9999-12-31T23:59:59Z' : 'before 0001-01-01T00:00:00Z';
}

function daysInMonth(year: number, month: number): number {
  // RFC 3339 Appendix C: Gregorian leap years.
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function badTime(text: string, why?: string, hint = TIME_HINT): SignetError {
  return new SignetError('ERR_BAD_TIME', `invalid time "${text}"${why ? `: ${why}` : ''}`, { hint });
}

/**
 * An RFC 3339 §5.6 date-time with every field range-checked (§5.7): no February 30th, no 24:00.
 * `new Date()` alone would roll such values forward (2027-02-30 → March 2nd).
 */
function parseRfc3339(text: string, t: string): Date | undefined {
  // §5.6 NOTE: "T" and "Z" may be lower case.
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(t);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) throw badTime(text, `month ${m[2] ?? ''} does not exist`);
  if (day < 1 || day > daysInMonth(year, month)) throw badTime(text, `day ${m[3] ?? ''} does not exist in ${year}-${m[2] ?? ''}`);
  if (hour > 23) throw badTime(text, 'hour must be 00–23 (24:00 is not allowed; use 00:00 of the next day)');
  if (minute > 59) throw badTime(text, 'minute must be 00–59');
  if (second === 60) {
    throw badTime(text, 'leap seconds (:60) cannot be represented', 'use :59 of the same minute or :00 of the next');
  }
  if (second > 59) throw badTime(text, 'second must be 00–59');
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) throw badTime(text, 'the UTC offset must be between -23:59 and +23:59');
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(1, 4).padEnd(3, '0')); // sub-millisecond digits are truncated
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  d.setTime(d.getTime() - offsetMin * 60_000);
  if (!isRepresentableTime(d)) throw badTime(text, 'times must fall within the years 0001–9999 (UTC)');
  return d;
}

/**
 * Parses a point in time: an RFC 3339 timestamp (`2026-01-02T03:04:05Z`), or a duration relative
 * to `now` (`+1h`, `-5m`, `24h`). Impossible dates (`2027-02-30`), `24:00`, leap seconds and
 * results outside the years 0001–9999 are ERR_BAD_TIME.
 */
export function parseTime(text: string, now: Date): Date {
  const t = text.trim();
  const exact = parseRfc3339(text, t);
  if (exact) return exact;
  if (/^[+-]?(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$/.test(t)) {
    let ms: number;
    try {
      ms = parseDuration(t);
    } catch {
      throw badTime(text, 'the time must fall within the years 0001–9999');
    }
    const d = new Date(now.getTime() + ms);
    if (!isRepresentableTime(d)) throw badTime(text, 'the time must fall within the years 0001–9999');
    return d;
  }
  throw badTime(text);
}
