/**
 * Durations and times as users type them: `90s`, `15m`, `24h`, `7d`, `1h30m`, `-5m`, and RFC 3339
 * timestamps. Parsing is strict: anything else is ERR_BAD_DURATION / ERR_BAD_TIME.
 */
import { SignetError } from './errors.js';

/** `y` is 365 days: certificate lifetimes are counted in days, not calendar years. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** Parses `1h30m`-style durations into milliseconds (may be negative with a leading `-`). */
export function parseDuration(text: string): number {
  const t = text.trim();
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+)$/.exec(t);
  if (!m) {
    throw new SignetError('ERR_BAD_DURATION', `invalid duration "${text}"`, { hint: 'use a number with a unit: 90s, 15m, 24h, 7d, 1y, 1h30m' });
  }
  let total = 0;
  for (const part of (m[2] ?? '').matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
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
 * Parses a point in time: an RFC 3339 timestamp (`2026-01-02T03:04:05Z`), or a duration relative
 * to `now` (`+1h`, `-5m`, `24h`).
 */
export function parseTime(text: string, now: Date): Date {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(t)) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d;
  }
  if (/^[+-]?(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$/.test(t)) {
    return new Date(now.getTime() + parseDuration(t));
  }
  throw new SignetError('ERR_BAD_TIME', `invalid time "${text}"`, { hint: 'use RFC 3339 (2026-01-02T03:04:05Z) or a relative duration (+1h, -5m)' });
}
