/**
 * Reading X.509 times (RFC 5280 §4.1.2.5, §5.1.2.4): one place for certificates, CRLs and the
 * builder, so every reader rejects the same impossible values.
 */

/**
 * The instant for the given UTC fields, or undefined when the fields do not name a real instant
 * (February 30, hour 24, second 60 — JavaScript cannot represent leap seconds). Unlike
 * `Date.UTC`, years 0–99 are taken literally.
 */
export function utcInstant(year: number, month: number, day: number, hour: number, minute: number, second: number): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // A day past the end of the month rolls over into the next one: refuse it.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return d;
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?(Z|[+-]\d{4})$/;

/**
 * Decodes the text of a UTCTime (tag 0x17; two-digit years 50–99 are 19xx, 00–49 are 20xx, RFC
 * 5280 §4.1.2.5.1) or GeneralizedTime (0x18). Accepts the lax forms older CAs wrote (no seconds,
 * offsets, fractions) so they can be read and linted; returns a reason string when the text is
 * not a time at all.
 */
export function decodeAsn1Time(tag: number, text: string): Date | string {
  const m = tag === 0x17 ? UTC_TIME.exec(text) : tag === 0x18 ? GENERALIZED_TIME.exec(text) : null;
  if (!m) return tag === 0x17 ? `malformed UTCTime "${text}"` : tag === 0x18 ? `malformed GeneralizedTime "${text}"` : 'time is neither UTCTime nor GeneralizedTime';
  let year = Number(m[1]);
  if (tag === 0x17) year += year >= 50 ? 1900 : 2000;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? '0')) as [number, number, number, number, number];
  const date = utcInstant(year, mo, d, h, mi, s);
  if (!date) return `invalid time "${text}"`;
  const zone = m[7] ?? 'Z';
  if (zone === 'Z') return date;
  const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
  if (Number(zone.slice(3, 5)) > 59 || offsetMinutes >= 24 * 60) return `invalid time zone in "${text}"`;
  return new Date(date.getTime() - (zone.startsWith('-') ? -1 : 1) * offsetMinutes * 60_000);
}
