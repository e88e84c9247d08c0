/**
 * The pure rules of the client: when to renew (2/3 of the lifetime ± bounded jitter), how long to
 * wait between retries (exponential, capped, jittered), and how user input is read (CA URLs,
 * fingerprints, serials, signals, revocation reasons). Table tests, no I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { SignetError } from '../../src/core/errors.js';
import { MAX_RENEWAL_JITTER_MS, RENEW_AT_TWO_THIRDS, renewalTime, retryDelay } from '../../src/client/schedule.js';
import { normalizeFingerprint, parseCaUrl } from '../../src/client/url.js';
import { daemonEventJson, formatDaemonEvent, isRetryable } from '../../src/cli/ca/renew-daemon.js';
import { parseSignalTarget } from '../../src/cli/ca/renew-hooks.js';
import { parseRevocationReason } from '../../src/cli/ca/revoke.js';
import { keySpecLike } from '../../src/cli/ca/rekey.js';
import { normalizeSerial } from '../../src/cli/ca/token.js';
import { defaultContextName } from '../../src/cli/context/store.js';

const H = 3_600_000;
const t0 = new Date('2030-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

test('renewalTime: two thirds of the lifetime, jitter ±5% of it (at most ±30 min), inside the validity', () => {
  const day = { notBefore: t0, notAfter: at(24 * H) };
  const cases: [string, { notBefore: Date; notAfter: Date }, number, number][] = [
    ['24h, no jitter', day, 0.5, 16 * H],
    ['24h, earliest: 5% of 24h is 72 min, capped at 30', day, 0, 16 * H - MAX_RENEWAL_JITTER_MS],
    ['24h, latest', day, 1, 16 * H + MAX_RENEWAL_JITTER_MS],
    ['6s, earliest: 5% = 300 ms', { notBefore: t0, notAfter: at(6000) }, 0, 4000 - 300],
    ['6s, latest', { notBefore: t0, notAfter: at(6000) }, 1, 4000 + 300],
    ['zero lifetime', { notBefore: t0, notAfter: t0 }, 1, 0],
  ];
  for (const [name, v, r, want] of cases) assert.equal(renewalTime(v, RENEW_AT_TWO_THIRDS, r).getTime() - t0.getTime(), want, name);
  // "8h left" and "90%" thresholds; never past 99% of the lifetime, never before notBefore.
  assert.equal(renewalTime(day, { remainingMs: 8 * H }, 0.5).getTime(), at(16 * H).getTime());
  assert.equal(renewalTime(day, { percent: 100 }, 1).getTime(), at(24 * H * 0.99).getTime());
  assert.equal(renewalTime({ notBefore: t0, notAfter: at(10_000) }, { remainingMs: H }, 0).getTime(), t0.getTime());
  // Out-of-range randomness is clamped, not trusted.
  assert.equal(renewalTime(day, RENEW_AT_TWO_THIRDS, Number.NaN).getTime(), at(16 * H).getTime());
});

test('retryDelay: doubles from 1s, capped at the maximum, in the upper half of each step', () => {
  const cases: [number, number, { maxMs?: number } | undefined, number][] = [
    [1, 0, undefined, 500],
    [1, 1, undefined, 1000],
    [2, 1, undefined, 2000],
    [3, 0.5, undefined, 3000],
    [7, 1, undefined, 60_000],
    [50, 1, undefined, 60_000],
    [50, 0, undefined, 30_000],
    [3, 1, { maxMs: 2000 }, 2000],
    [0, 1, undefined, 1000],
  ];
  for (const [attempt, r, o, want] of cases) assert.equal(retryDelay(attempt, r, o), want, `attempt ${attempt}, random ${r}`);
});

test('CA URLs are normalized with an explicit port; anything but https://host[:port] is ERR_BAD_OPTION', () => {
  assert.deepEqual(parseCaUrl('https://CA.Example.com'), { url: 'https://ca.example.com:443', host: 'ca.example.com', port: 443 });
  assert.deepEqual(parseCaUrl('https://localhost:9443/'), { url: 'https://localhost:9443', host: 'localhost', port: 9443 });
  assert.deepEqual(parseCaUrl('https://[::1]:9443'), { url: 'https://[::1]:9443', host: '::1', port: 9443 });
  for (const bad of ['http://ca:9443', 'https://ca:9443/sign', 'https://ca?x=1', 'https://u:p@ca', 'ca.example.com:9443', 'https://', '']) {
    assert.throws(() => parseCaUrl(bad), (e: unknown) => e instanceof SignetError && e.code === 'ERR_BAD_OPTION', bad);
  }
  assert.equal(defaultContextName('https://ca.example.com:9443'), 'ca.example.com');
  assert.equal(defaultContextName('https://[2001:db8::1]:9443'), '2001-db8--1');
});

test('fingerprints: hex with or without colons, any case, optional sha256: prefix', () => {
  const hex = 'ab'.repeat(32);
  for (const s of [hex, hex.toUpperCase(), hex.match(/../g)?.join(':') ?? '', `SHA256:${hex}`, ` ${hex} `]) assert.equal(normalizeFingerprint(s), hex, s);
  for (const s of ['ab'.repeat(31), `${hex}00`, 'zz'.repeat(32), '']) assert.throws(() => normalizeFingerprint(s), (e: unknown) => e instanceof SignetError && e.code === 'ERR_BAD_OPTION');
});

test('serials: as the CA spells them (lower-case hex, no colons, no leading zero octets)', () => {
  assert.equal(normalizeSerial('4A:1F:03'), '4a1f03');
  assert.equal(normalizeSerial('0x4a1f03'), '4a1f03');
  assert.equal(normalizeSerial('00:9f:01'), '9f01');
  assert.equal(normalizeSerial('00:1f:01'), '1f01');
  assert.equal(normalizeSerial('a1f'), '0a1f');
  assert.throws(() => normalizeSerial('xyz'), (e: unknown) => e instanceof SignetError && e.code === 'ERR_BAD_OPTION');
});

test('--signal PID:SIGNAME and --reason spellings', () => {
  assert.deepEqual(parseSignalTarget('1234:HUP'), { pid: 1234, signal: 'SIGHUP' });
  assert.deepEqual(parseSignalTarget('1234:sigusr1'), { pid: 1234, signal: 'SIGUSR1' });
  assert.deepEqual(parseSignalTarget('1234:15'), { pid: 1234, signal: 'SIGTERM' });
  for (const bad of ['HUP', '1234', '1:HUP', '0:HUP', '1234:NOPE', '-5:HUP']) assert.throws(() => parseSignalTarget(bad), (e: unknown) => e instanceof SignetError && e.code === 'ERR_BAD_OPTION', bad);
  assert.equal(parseRevocationReason('keyCompromise'), 'keyCompromise');
  assert.equal(parseRevocationReason('KEY_COMPROMISE'), 'keyCompromise');
  assert.equal(parseRevocationReason('cessation-of-operation'), 'cessationOfOperation');
  assert.throws(() => parseRevocationReason('bored'), (e: unknown) => e instanceof SignetError && e.code === 'ERR_BAD_OPTION');
});

test('the daemon retries network failures and server errors, not refusals', () => {
  assert.equal(isRetryable(new SignetError('ERR_CA_UNREACHABLE', 'x')), true);
  assert.equal(isRetryable(new SignetError('ERR_CA_BAD_RESPONSE', 'x')), true);
  assert.equal(isRetryable(new SignetError('ERR_INTERNAL', 'x', { detail: { status: 500 } })), true);
  assert.equal(isRetryable(new SignetError('ERR_STORE_BUSY', 'x', { detail: { status: 503 } })), true);
  assert.equal(isRetryable(new SignetError('ERR_CERT_REVOKED', 'x', { detail: { status: 403 } })), false);
  assert.equal(isRetryable(new SignetError('ERR_CA_UNTRUSTED', 'x')), false);
  assert.equal(isRetryable(new Error('bug')), false);
});

test('rekey keeps the kind of key unless told otherwise', () => {
  assert.equal(keySpecLike(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey), 'p384');
  assert.equal(keySpecLike(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), 'p256');
  assert.equal(keySpecLike(generateKeyPairSync('ed25519').privateKey), 'ed25519');
});

test('the daemon\'s text log: one timestamped line per event, saying what happens next', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  assert.equal(
    formatDaemonEvent({ msg: 'waiting', crt: 'web.crt', serial: 'ab01', notAfter: at(6000), renewAt: at(4000) }, now),
    '2030-01-01T00:00:00Z web.crt: serial ab01 valid until 2030-01-01T00:00:06Z; next renewal at 2030-01-01T00:00:04Z (in 4s)',
  );
  assert.equal(
    formatDaemonEvent({ msg: 'retry', crt: 'web.crt', attempt: 2, renewAt: at(1500), error: new SignetError('ERR_CA_UNREACHABLE', 'cannot reach the CA') }, now),
    '2030-01-01T00:00:00Z renewal of web.crt failed: cannot reach the CA (ERR_CA_UNREACHABLE); retry 2 (in 1.5s)',
  );
  assert.deepEqual(daemonEventJson({ msg: 'renewed', crt: 'web.crt', serial: 'ab02', notAfter: at(6000) }, now), {
    time: '2030-01-01T00:00:00Z',
    level: 'info',
    msg: 'renewed',
    crt: 'web.crt',
    serial: 'ab02',
    notAfter: '2030-01-01T00:00:06Z',
  });
});
