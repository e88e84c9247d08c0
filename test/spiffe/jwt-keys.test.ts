/**
 * JWT signing keys of a served trust domain (src/spiffe/trust-domain.ts), on a real SQLite store
 * with a clock the test moves: the first key signs at once; the next one is made half way through
 * the current key's life, published at once and signing from 5/6 of it; a key stays in the bundle
 * until it expires and is deleted after; JWT-SVIDs never outlive their key; the bundle's sequence
 * grows with every change and only then; two replicas on one store sign with the same key; keys
 * are stored encrypted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPIFFE_SETTINGS } from '../../src/ca/config.js';
import { isSignetError } from '../../src/core/errors.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { parseSpiffeId } from '../../src/spiffe/id.js';
import { validateJwtSvid } from '../../src/spiffe/jwt-svid.js';
import { TrustDomainService } from '../../src/spiffe/trust-domain.js';
import { openSqliteStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';
import { createTestCa, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-jwt-keys-');
const H = 3_600_000;
const L = 24 * H;
const T0 = Date.parse('2026-11-24T00:00:00Z');
let t = T0;
const clock = { now: () => new Date(t) };
let ca: TestCa;
let store: Store;
const web = parseSpiffeId('spiffe://example.org/web');

before(async () => {
  ca = await createTestCa({ parent: tmp.dir, trustDomain: 'example.org' });
  store = await openSqliteStore(tmp.path('spiffe.db'), { clock });
});

after(async () => {
  await store?.close();
  tmp.cleanup();
});

const service = (): TrustDomainService => new TrustDomainService({ trustDomain: 'example.org', store, clock, settings: DEFAULT_SPIFFE_SETTINGS, x509Authorities: [ca.rootDer], password: 'jwt key password' });

function bundleOf(s: TrustDomainService) {
  const doc = s.bundle?.document;
  assert.ok(doc !== undefined);
  return parseBundle(doc, 'example.org');
}

test('rotation over two key lifetimes: first key, next key published a third of a lifetime before it signs, old key kept until it expires, then deleted', async () => {
  const a = service();
  const b = service();
  // Start: the first key signs at once; sequence 1.
  const m0 = await a.maintain();
  assert.ok(m0.created);
  assert.equal(m0.created.activatesAt.getTime(), T0);
  assert.equal(m0.created.expiresAt.getTime(), T0 + L);
  assert.deepEqual([m0.sequence, m0.published], [1n, true]);
  const k1 = m0.created.kid;
  assert.deepEqual([...bundleOf(a).jwtAuthorities.keys()], [k1]);
  assert.equal(bundleOf(a).x509Authorities.length, 1);
  assert.equal(bundleOf(a).refreshHintSeconds, 300);
  // A second replica made after it finds the key, and publishes nothing new.
  const m0b = await b.maintain();
  assert.deepEqual([m0b.created, m0b.published, m0b.sequence], [undefined, false, 1n]);

  // Before half the lifetime: nothing to do.
  t = T0 + L / 2 - 1;
  const quiet = await a.maintain();
  assert.deepEqual([quiet.created, quiet.pruned, quiet.published], [undefined, 0, false]);

  // Half way: the next key is made, published (sequence 2), and signs only from 5/6 of the lifetime.
  t = T0 + L / 2;
  const m1 = await a.maintain();
  assert.ok(m1.created);
  const k2 = m1.created.kid;
  assert.equal(m1.created.activatesAt.getTime(), T0 + (5 * L) / 6);
  assert.deepEqual([m1.sequence, m1.published], [2n, true]);
  assert.deepEqual(new Set(bundleOf(a).jwtAuthorities.keys()), new Set([k1, k2]));
  assert.equal((await a.maintain()).created, undefined, 'one next key, not one per tick');
  await b.refresh(); // replica b's next tick: it reads k2 long before k2 signs
  const before56 = await b.mint(web, ['db'], 5 * 60_000);
  assert.equal(before56.kid, k1, 'the old key still signs (replica b read the new one but does not use it yet)');

  // Just before 5/6, k1 still signs.
  t = T0 + (5 * L) / 6 - 1000;
  const last = await b.mint(web, ['db'], 60 * 60_000);
  assert.equal(last.kid, k1);
  // Both replicas sign with k2 from 5/6 on; a token signed by k1 still validates with the bundle.
  t = T0 + (5 * L) / 6;
  assert.equal((await a.mint(web, ['db'], 60_000)).kid, k2);
  assert.equal((await b.mint(web, ['db'], 60_000)).kid, k2);
  assert.equal(validateJwtSvid(last.token, { audience: 'db', bundle: () => bundleOf(b), now: clock.now() }).kid, k1);

  // k1 expires: dropped from the store and the bundle (sequence 3); k2's successor was made at its half life.
  t = T0 + L;
  const m2 = await a.maintain();
  assert.equal(m2.pruned, 1);
  assert.equal(m2.created, undefined, 'k2 is not half way yet (it activated at 5/6 L)');
  assert.deepEqual([...bundleOf(a).jwtAuthorities.keys()], [k2]);
  assert.deepEqual([m2.sequence, m2.published], [3n, true]);
  t = T0 + (5 * L) / 6 + L / 2;
  const m3 = await a.maintain();
  assert.equal(m3.created?.activatesAt.getTime(), T0 + (5 * L) / 6 + (5 * L) / 6);
  assert.equal(m3.sequence, 4n);
});

test('after a long stop every key has expired: a new key signs at once, the old ones are deleted', async () => {
  t += 10 * L;
  const s = service();
  const m = await s.maintain();
  assert.ok(m.created);
  assert.equal(m.created.activatesAt.getTime(), t);
  assert.equal(m.pruned, 2);
  assert.deepEqual([...bundleOf(s).jwtAuthorities.keys()], [m.created.kid]);
});

test('keys are stored encrypted with the password; minting for another trust domain is refused; no password, no service', async () => {
  const keys = await store.spiffe.jwtKeys('example.org', clock.now());
  assert.ok(keys.length > 0);
  for (const k of keys) {
    assert.match(k.privateKey, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.ok(!('d' in (JSON.parse(k.publicJwk) as Record<string, unknown>)), 'no private member in the public JWK');
  }
  const s = service();
  await s.refresh();
  await assert.rejects(s.mint(parseSpiffeId('spiffe://other.org/web'), ['db'], 60_000), (e) => isSignetError(e, 'ERR_FORBIDDEN_NAMES'));
  const wrong = new TrustDomainService({ trustDomain: 'example.org', store, clock, settings: DEFAULT_SPIFFE_SETTINGS, x509Authorities: [ca.rootDer], password: 'another password' });
  await wrong.refresh();
  await assert.rejects(wrong.mint(web, ['db'], 60_000), (e) => isSignetError(e, 'ERR_KEY_WRONG_PASSWORD'));
  assert.throws(() => new TrustDomainService({ trustDomain: 'example.org', store, clock, settings: DEFAULT_SPIFFE_SETTINGS, x509Authorities: [ca.rootDer], password: '' }), (e) => isSignetError(e, 'ERR_KEY_PASSWORD_REQUIRED'));
});

test('no JWT-SVID outlives the key that signed it: with a 1h key lifetime a 1h token is cut at the key\'s expiry', async () => {
  const short = await openSqliteStore(tmp.path('short.db'), { clock });
  try {
    const s = new TrustDomainService({ trustDomain: 'example.org', store: short, clock, settings: { ...DEFAULT_SPIFFE_SETTINGS, jwtKeyLifetimeMs: H, refreshHintMs: 60_000 }, x509Authorities: [ca.rootDer], password: 'p' });
    const start = t;
    const made = await s.maintain();
    t = start + (5 * H) / 6 - 1000;
    const cut = await s.mint(web, ['db'], H);
    assert.equal(cut.kid, made.created?.kid);
    assert.equal(cut.expiresAt.getTime(), start + H, 'exp is the key\'s expiry');
    const exp = (JSON.parse(Buffer.from(cut.token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp;
    assert.equal(exp * 1000, start + H);
    t = start + H - 500;
    await assert.rejects(s.mint(web, ['db'], H), (e) => isSignetError(e, 'ERR_SPIFFE_NOT_READY'), 'under a second left and no successor yet');
  } finally {
    await short.close();
  }
});

test('a replica that has not read a key yet reads it when it mints; with no key at all it answers ERR_SPIFFE_NOT_READY', async () => {
  const empty = await openSqliteStore(tmp.path('empty.db'), { clock });
  try {
    const s = new TrustDomainService({ trustDomain: 'example.org', store: empty, clock, settings: DEFAULT_SPIFFE_SETTINGS, x509Authorities: [ca.rootDer], password: 'p' });
    await assert.rejects(s.mint(web, ['db'], 60_000), (e) => isSignetError(e, 'ERR_SPIFFE_NOT_READY'));
    const other = new TrustDomainService({ trustDomain: 'example.org', store: empty, clock, settings: DEFAULT_SPIFFE_SETTINGS, x509Authorities: [ca.rootDer], password: 'p' });
    const made = await other.maintain();
    assert.equal((await s.mint(web, ['db'], 60_000)).kid, made.created?.kid);
  } finally {
    await empty.close();
  }
});
