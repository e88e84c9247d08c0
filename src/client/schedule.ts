/**
 * When a renewing client acts: pure functions of a certificate's validity, a threshold and a
 * random number, so that a fleet started at the same moment does not hit the CA at the same
 * moment (jitter), and a CA that is down is retried ever more slowly, up to a cap (exponential
 * backoff with jitter). No clock and no randomness inside: callers pass both.
 */
import type { RenewalThreshold } from '../x509/inspect.js';

/** Renew once two thirds of the lifetime have passed (DESIGN.md: "renewal is a daemon"). */
export const RENEW_AT_TWO_THIRDS: RenewalThreshold = Object.freeze({ percent: 200 / 3 });
/** The jitter around the renewal time: ±5% of the lifetime… */
export const RENEWAL_JITTER_SHARE = 0.05;
/** …but never more than ±30 minutes (a one-year certificate should not move by weeks). */
export const MAX_RENEWAL_JITTER_MS = 30 * 60_000;
/** First retry delay after a failure. */
export const DEFAULT_RETRY_MIN_MS = 1000;
/** Longest retry delay, unless configured. */
export const DEFAULT_RETRY_MAX_MS = 60_000;

/** A certificate's validity. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * When to renew: at the threshold (share of the lifetime passed, or time left before expiry),
 * moved by a jitter of ±{@link RENEWAL_JITTER_SHARE} of the lifetime (at most
 * ±{@link MAX_RENEWAL_JITTER_MS}), and kept inside the validity: not before notBefore, and no
 * later than 99% of the lifetime. `random` is a number in [0, 1); 0.5 means no jitter.
 */
export function renewalTime(validity: Validity, threshold: RenewalThreshold, random: number): Date {
  const nb = validity.notBefore.getTime();
  const na = validity.notAfter.getTime();
  const lifetime = Math.max(0, na - nb);
  const base = 'percent' in threshold ? nb + (lifetime * threshold.percent) / 100 : na - threshold.remainingMs;
  const bound = Math.min(lifetime * RENEWAL_JITTER_SHARE, MAX_RENEWAL_JITTER_MS);
  const jittered = base + (2 * clampUnit(random) - 1) * bound;
  return new Date(Math.round(Math.min(Math.max(jittered, nb), nb + lifetime * 0.99)));
}

/**
 * Delay before retry number `attempt` (1 for the first retry): `min * 2^(attempt-1)`, capped at
 * `max`, then "equal jitter" — a uniformly random point in the upper half — so that clients that
 * failed together do not retry together. `random` is a number in [0, 1).
 */
export function retryDelay(attempt: number, random: number, options: { minMs?: number; maxMs?: number } = {}): number {
  const min = options.minMs ?? DEFAULT_RETRY_MIN_MS;
  const max = Math.max(min, options.maxMs ?? DEFAULT_RETRY_MAX_MS);
  const exp = Math.min(max, min * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(exp / 2 + (exp / 2) * clampUnit(random));
}

function clampUnit(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0.5;
}
