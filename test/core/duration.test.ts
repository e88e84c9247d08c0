import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration, parseTime } from '../../src/core/duration.js';
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
