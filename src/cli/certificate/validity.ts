/**
 * `--lifetime` for `certificate create` (with or without `--template`): a positive duration whose
 * end is a time a certificate can carry.
 */
import { SignetError } from '../../core/errors.js';
import { isRepresentableTime, parseDuration } from '../../core/duration.js';

/** The last second an X.509 Time can express (RFC 5280 §4.1.2.5.2: a four-digit year). */
const LAST_CERTIFICATE_TIME = '9999-12-31T23:59:59Z';

/**
 * Parses `--lifetime TEXT` counted from `start` (notBefore, or the issuance time) into
 * milliseconds. Refuses a lifetime that is not positive (ERR_BAD_DURATION) and one that ends
 * after 9999-12-31T23:59:59Z (ERR_BAD_TIME) — said in those words rather than by printing an
 * expanded year such as `+011020-12-02`, which is not a time anyone typed.
 */
export function parseLifetimeFlag(text: string, start: Date): number {
  const lifetimeMs = parseDuration(text);
  if (lifetimeMs <= 0) throw new SignetError('ERR_BAD_DURATION', `lifetime must be positive, got "${text}"`);
  checkLifetimeEnd(start, lifetimeMs, `the lifetime "${text}"`);
  return lifetimeMs;
}

/**
 * Throws ERR_BAD_TIME when `lifetimeMs` counted from `start` ends after 9999-12-31T23:59:59Z;
 * `what` names the lifetime in the message (`the lifetime "9000y"`).
 */
export function checkLifetimeEnd(start: Date, lifetimeMs: number, what: string): void {
  if (isRepresentableTime(new Date(start.getTime() + lifetimeMs))) return;
  throw new SignetError('ERR_BAD_TIME', `${what} ends after ${LAST_CERTIFICATE_TIME}, the last time a certificate can express`, {
    hint: 'use a shorter --lifetime, or --not-after with a date up to 9999-12-31',
  });
}
