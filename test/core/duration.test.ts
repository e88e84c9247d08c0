import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, isRepresentableTime, parseDuration, parseTime } from '../../src/core/duration.js';
import { isSignetError } from '../../src/core/errors.js';

test('parseDuration accepts units and compounds', () => {
  const table: Array<[string, number]> = [
    ['90s', 90_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['10y', 315_360_000_000],
    ['1h30m', 5_400_000],
    ['-5m', -300_000],
    ['+2h', 7_200_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

test('parseDuration rejects what is not a duration', () => {
  for (const text of ['', '10', 'h', '10x', '1h 30m', '--5m', '5m-', 'one hour']) {
    assert.throws(() => parseDuration(text), (e) => isSignetError(e, 'ERR_BAD_DURATION'), text);
  }
});

test('formatDuration is compact', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(93_784_000), '1d2h3m4s');
  assert.equal(formatDuration(-60_000), '-1m');
  assert.equal(formatDuration(5), '5ms');
});

test('parseTime accepts RFC 3339 and relative durations', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.equal(parseTime('2026-02-03T04:05:06Z', now).toISOString(), '2026-02-03T04:05:06.000Z');
  assert.equal(parseTime('2026-02-03T04:05:06+02:00', now).toISOString(), '2026-02-03T02:05:06.000Z');
  assert.equal(parseTime('+1h', now).toISOString(), '2026-01-01T01:00:00.000Z');
  assert.equal(parseTime('-30m', now).toISOString(), '2025-12-31T23:30:00.000Z');
  for (const bad of ['tomorrow', '2026-02-03', '2026-13-03T04:05:06Z', '']) {
    assert.throws(() => parseTime(bad, now), (e) => isSignetError(e, 'ERR_BAD_TIME'), bad);
  }
});

test('parseTime refuses impossible calendar dates instead of rolling them forward (RFC 3339 §5.7)', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  for (const bad of [
    '2027-02-30T00:00:00Z', // would be March 2nd
    '2027-02-29T00:00:00Z', // 2027 is not a leap year
    '2100-02-29T00:00:00Z', // divisible by 100, not by 400
    '2026-04-31T00:00:00+02:00', // offset form too
    '2026-06-31T12:00:00-05:00',
    '2026-00-10T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-32T00:00:00Z',
    '2026-01-01T24:00:00Z', // 24:00 is refused
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:61Z',
    '2016-12-31T23:59:60Z', // a real leap second, but a Date cannot hold it
    '2026-01-01T00:00:00+24:00',
    '2026-01-01T00:00:00+05:60',
  ]) {
    assert.throws(() => parseTime(bad, now), (e) => isSignetError(e, 'ERR_BAD_TIME'), bad);
  }
  assert.equal(parseTime('2028-02-29T00:00:00Z', now).toISOString(), '2028-02-29T00:00:00.000Z');
  assert.equal(parseTime('2000-02-29T23:59:59+01:00', now).toISOString(), '2000-02-29T22:59:59.000Z');
  assert.equal(parseTime('2026-12-31T23:30:00-01:00', now).toISOString(), '2027-01-01T00:30:00.000Z');
  assert.equal(parseTime('2026-02-03t04:05:06.1239z', now).toISOString(), '2026-02-03T04:05:06.123Z');
});

test('parseTime and parseDuration keep results within the years 0001–9999', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.equal(parseTime('0001-01-01T00:00:00Z', now).toISOString(), '0001-01-01T00:00:00.000Z');
  assert.equal(parseTime('0050-06-01T00:00:00Z', now).toISOString(), '0050-06-01T00:00:00.000Z');
  assert.equal(parseTime('9999-12-31T23:59:59Z', now).toISOString(), '9999-12-31T23:59:59.000Z');
  assert.equal(parseTime('+7000y', now).getUTCFullYear(), 9021);
  for (const bad of ['0000-06-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00', '+8000y', '+999999999y', '-2030y', `+${'9'.repeat(400)}y`]) {
    assert.throws(() => parseTime(bad, now), (e) => isSignetError(e, 'ERR_BAD_TIME'), bad);
  }
  assert.equal(parseDuration('8000y'), 8000 * 31_536_000_000);
  for (const bad of ['999999999y', '+20000y', `${'9'.repeat(400)}d`]) {
    assert.throws(() => parseDuration(bad), (e) => isSignetError(e, 'ERR_BAD_DURATION'), bad);
  }
});

test('isRepresentableTime is the 0001–9999 window of an X.509 Time', () => {
  assert.equal(isRepresentableTime(new Date('2026-01-01T00:00:00Z')), true);
  assert.equal(isRepresentableTime(new Date('0001-01-01T00:00:00Z')), true);
  assert.equal(isRepresentableTime(new Date('9999-12-31T23:59:59.999Z')), true);
  assert.equal(isRepresentableTime(new Date('+010000-01-01T00:00:00Z')), false);
  assert.equal(isRepresentableTime(new Date('0000-12-31T23:59:59.999Z')), false);
  assert.equal(isRepresentableTime(new Date(Number.NaN)), false);
});
