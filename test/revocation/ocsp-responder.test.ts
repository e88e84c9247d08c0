/**
 * The OCSP responder's time-dependent behaviour, driven with a clock the test moves: kept
 * responses are served until half their validity, hot ones are signed again by the watcher
 * before that, cold ones on their next request; the responder certificate is replaced two thirds
 * into its lifetime (the new one recorded in the inventory); while the database cannot be read a
 * kept response is served until its nextUpdate, then `tryLater`; the cache stays within its
 * bound; a response read before a revocation tick is not kept. The store is the real SQLite
 * store of a CA made by `ca init`; only its availability is switched off, by a wrapper.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Clock } from '../../src/core/clock.js';
import { SignetError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { parsePrivateKey } from '../../src/crypto/keys.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { OcspResponder, type OcspResponderOptions } from '../../src/revocation/ocsp.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { CertificateRecord, Store } from '../../src/store/store.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { buildOcspRequest, encodeCertId, issuerHashes, subjectPublicKeyBits } from '../../src/x509/ocsp.js';
import { createTestCa, type TestCa } from '../helpers/ca.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ocsp-responder-');
const HOUR = 3_600_000;
let ca: TestCa;
let store: Store;
let base: Omit<OcspResponderOptions, 'store'>;
let t = Date.now();
const clock: Clock = { now: () => new Date(t) };
let issuerSerial = '';

before(async () => {
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({ parent: tmp.path('ca-parent') });
  store = await openSqliteStore((ca.config.db as { path: string }).path, { clock });
  const intermediate = decodePem(readFileSync(ca.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
  issuerSerial = parseCertificate(intermediate).serialHex;
  const key = parsePrivateKey(new Uint8Array(readFileSync(ca.config.intermediate.key)), 'test ca password');
  base = { issuer: intermediate, issuerSigner: createSoftwareSigner(key), clock, validityMs: 4 * HOUR, signerLifetimeMs: 24 * HOUR, cacheSize: 1000, replica: 'test', tickMs: 5_000 };
  writeFileSync(tmp.path('int.pem'), readFileSync(ca.intermediateFile, 'latin1'));
});

after(async () => {
  await store.close();
  tmp.cleanup();
});

/** A certificate of the issuing CA, as the inventory records it (the responder reads only the status columns). */
function record(serial = `41${randomBytes(15).toString('hex')}`): CertificateRecord {
  return {
    serial,
    issuerSerial,
    subject: 'CN=ocsp.example.com',
    names: [{ type: 'dns', value: 'ocsp.example.com' }],
    notBefore: new Date(t - 60_000),
    notAfter: new Date(t + 30 * 24 * HOUR),
    keyFingerprint: createHash('sha256').update(serial).digest('hex'),
    keyType: 'EC P-256',
    provisioner: 'admin',
    requester: 'test',
    profile: 'leaf',
    status: 'valid',
    issuedAt: new Date(t),
    der: Uint8Array.of(0x30, 0x00),
  };
}

async function recorded(): Promise<string> {
  const r = record();
  await store.certificates.insert(r);
  return r.serial;
}

function request(serial: string, nonce = false): Uint8Array {
  const out = tmp.path(`req-${randomBytes(6).toString('hex')}.der`);
  opensslOk(['ocsp', '-issuer', tmp.path('int.pem'), '-serial', `0x${serial}`, '-reqout', out, ...(nonce ? [] : ['-no_nonce'])]);
  return new Uint8Array(readFileSync(out));
}

/** OpenSSL's reading of a response (signature not checked: the test clock is not the wall clock). */
function text(der: Uint8Array): string {
  const file = tmp.path(`resp-${randomBytes(6).toString('hex')}.der`);
  writeFileSync(file, der);
  return opensslOk(['ocsp', '-respin', file, '-resp_text', '-noverify']);
}

/** A store whose status reads fail while `down` is set, or wait for `gate` when one is set. */
function switchable(inner: Store): { store: Store; down: boolean; gate: Promise<void> | undefined } {
  const state = { down: false, gate: undefined as Promise<void> | undefined, store: inner };
  state.store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'revocations') return Reflect.get(target, prop, receiver) as unknown;
      return {
        ...target.revocations,
        status: async (serial: string) => {
          if (state.down) throw new SignetError('ERR_STORE_UNAVAILABLE', 'the database is unreachable');
          if (state.gate !== undefined) await state.gate;
          return target.revocations.status(serial);
        },
      };
    },
  });
  return state;
}

test('a kept response is served until half its validity, then signed again on request', async () => {
  const responder = await OcspResponder.create({ ...base, store });
  const req = request(await recorded());
  const first = await responder.respond(req);
  assert.equal(first.outcome, 'signed');
  const second = await responder.respond(req);
  assert.equal(second.outcome, 'cached');
  assert.deepEqual(second.der, first.der);
  assert.equal(responder.respondKnown('x'.repeat(600)), undefined);
  await responder.respond(req, 'x'.repeat(600));
  assert.equal(responder.respondKnown('x'.repeat(600)), undefined, 'an overlong GET path is not remembered');
  await responder.respond(req, 'spelling-1');
  await responder.respond(req, 'spelling-2');
  await responder.respond(req, 'spelling-3');
  assert.deepEqual(['spelling-1', 'spelling-2', 'spelling-3'].map((a) => responder.respondKnown(a)?.outcome), ['cached', 'cached', undefined], 'two spellings per response at most');
  t += 2 * HOUR - 1000;
  assert.equal((await responder.respond(req)).outcome, 'cached');
  assert.equal(responder.respondKnown('spelling-1')?.outcome, 'cached');
  t += 1000;
  assert.equal(responder.respondKnown('spelling-1'), undefined, 'due for signing: the path is answered the long way');
  const third = await responder.respond(req);
  assert.equal(third.outcome, 'signed');
  assert.ok((third.caching?.thisUpdate.getTime() ?? 0) > (first.caching?.thisUpdate.getTime() ?? 0));
  // A nonce makes a response for that request alone: signed each time, never kept.
  const kept = responder.kept;
  const withNonce = await responder.respond(request(await recorded(), true));
  assert.equal(withNonce.outcome, 'signed');
  assert.equal(withNonce.caching, undefined);
  assert.equal(responder.kept, kept);
});

test('the watcher signs hot responses again before they fall due; cold ones are left to their next request', async () => {
  const responder = await OcspResponder.create({ ...base, store });
  const hot = request(await recorded());
  const cold = request(await recorded());
  const hotFirst = await responder.respond(hot);
  await responder.respond(cold);
  await responder.respond(hot); // asked for again: hot
  t += 2 * HOUR - 5_000;
  const tick = await responder.maintain();
  assert.equal(tick.refreshed, 1);
  const hotNow = await responder.respond(hot);
  assert.equal(hotNow.outcome, 'cached');
  assert.ok((hotNow.caching?.thisUpdate.getTime() ?? 0) > (hotFirst.caching?.thisUpdate.getTime() ?? 0), 'signed anew in the background');
  t += 5_000;
  assert.equal((await responder.respond(cold)).outcome, 'signed');
});

test('revoked: the status carries time, reason and invalidity date; a revocation drops the kept response at the next tick', async () => {
  const responder = await OcspResponder.create({ ...base, store });
  const serial = await recorded();
  const req = request(serial);
  const path = Buffer.from(req).toString('base64');
  assert.equal(responder.respondKnown(path), undefined, 'a GET path not seen yet');
  assert.match(text((await responder.respond(req, path)).der), /Cert Status: good/);
  assert.equal(responder.respondKnown(path)?.outcome, 'cached', 'the GET path now names the kept response');
  await store.certificates.revoke(serial, { at: new Date(t), reason: 'keyCompromise', invalidAt: new Date(t - HOUR) });
  assert.equal((await responder.respond(req)).outcome, 'cached', 'until the watcher ticks');
  assert.equal((await responder.maintain()).evicted, 1);
  assert.equal(responder.respondKnown(path), undefined, 'the GET path is forgotten with the response');
  const out = text((await responder.respond(req)).der);
  assert.match(out, /Cert Status: revoked/);
  assert.match(out, /Revocation Reason: keyCompromise \(0x1\)/);
  assert.match(out, /Invalidity Date:/);
});

test('the responder certificate is replaced two thirds into its lifetime; the new one is in the inventory and signs from then on', async () => {
  const responder = await OcspResponder.create({ ...base, store });
  const first = responder.identity;
  assert.equal((await responder.maintain()).rotated, undefined);
  t = first.renewAt.getTime();
  const tick = await responder.maintain();
  assert.ok(tick.rotated);
  assert.notEqual(tick.rotated.serial, first.serial);
  assert.equal((await store.certificates.get(tick.rotated.serial))?.profile, 'ocsp-responder');
  const out = text((await responder.respond(request(await recorded()))).der);
  const inResponse = /Serial Number:\s*\n?\s*([0-9a-f:]+)/i.exec(out.slice(out.indexOf('Certificate:')))?.[1]?.replace(/:/g, '').toLowerCase();
  assert.equal(inResponse, tick.rotated.serial);
  // Responses never outlive the certificate that signed them.
  const next = Date.parse(/Next Update: (.+)/.exec(out)?.[1] ?? '');
  assert.ok(next <= tick.rotated.notAfter.getTime());
});

test('database down: a kept response is served until its nextUpdate, then tryLater; nothing kept: tryLater', async () => {
  const s = switchable(store);
  const responder = await OcspResponder.create({ ...base, store: s.store });
  const req = request(await recorded());
  const signed = await responder.respond(req);
  s.down = true;
  t += 3 * HOUR;
  const stale = await responder.respond(req);
  assert.equal(stale.outcome, 'stale');
  assert.deepEqual(stale.der, signed.der);
  assert.equal(stale.code, 'ERR_STORE_UNAVAILABLE');
  t += HOUR;
  const later = await responder.respond(req);
  assert.equal(later.outcome, 'tryLater');
  assert.deepEqual([...later.der], [0x30, 0x03, 0x0a, 0x01, 0x03]);
  s.down = false;
  const back = await responder.respond(req);
  assert.equal(back.outcome, 'signed');
  assert.match(text(back.der), /Cert Status: good/);
});

test('the cache stays within cacheSize, oldest signed out first', async () => {
  const responder = await OcspResponder.create({ ...base, store, cacheSize: 2 });
  const reqs = [request(await recorded()), request(await recorded()), request(await recorded())];
  for (const r of reqs) await responder.respond(r);
  assert.equal(responder.kept, 2);
  assert.equal((await responder.respond(reqs[0] as Uint8Array)).outcome, 'signed', 'the oldest went');
  assert.equal((await responder.respond(reqs[2] as Uint8Array)).outcome, 'cached');
  const none = await OcspResponder.create({ ...base, store, cacheSize: 0 });
  await none.respond(reqs[0] as Uint8Array);
  assert.equal(none.kept, 0);
});

test('a response whose status was read before a revocation tick is not kept (it could say good about a revoked certificate)', async () => {
  const s = switchable(store);
  const responder = await OcspResponder.create({ ...base, store: s.store });
  const serial = await recorded();
  let release!: () => void;
  s.gate = new Promise<void>((resolve) => (release = resolve));
  const pending = responder.respond(request(serial));
  await new Promise((resolve) => setTimeout(resolve, 20));
  s.gate = undefined;
  // The status read is under way; the certificate is revoked and the watcher ticks meanwhile.
  await store.certificates.revoke(serial, { at: new Date(t) });
  await responder.maintain();
  release();
  const answer = await pending;
  assert.equal(answer.outcome, 'signed');
  assert.equal(responder.kept, 0, 'not kept');
  assert.match(text((await responder.respond(request(serial))).der), /Cert Status: revoked/);
});

test('OpenSSL reads every response status we send', () => {
  for (const [der, name] of [
    [[0x30, 0x03, 0x0a, 0x01, 0x01], 'malformedrequest'],
    [[0x30, 0x03, 0x0a, 0x01, 0x03], 'trylater'],
    [[0x30, 0x03, 0x0a, 0x01, 0x06], 'unauthorized'],
  ] as const) {
    const file = tmp.path(`status-${name}.der`);
    writeFileSync(file, Uint8Array.from(der));
    const r = openssl(['ocsp', '-respin', file, '-resp_text', '-noverify']);
    assert.match((r.stdout + r.stderr).toLowerCase().replace(/ /g, ''), new RegExp(name));
  }
});

test('a bulk revocation whose batch straddles a page of the watcher\'s read is dropped whole (one number per batch)', async () => {
  const responder = await OcspResponder.create({ ...base, store, cacheSize: 20_000 });
  // 1 single revocation, then ten batches of 1,000: 10,001 rows, the read of 10,000 ends inside the last batch.
  const serials: string[] = [];
  await store.transaction(async (tx) => {
    for (let i = 0; i < 10_001; i++) {
      const r = record();
      serials.push(r.serial);
      await tx.certificates.insert(r);
    }
  });
  const last = serials.slice(9_001);
  const sha1 = issuerHashes(issuerFromCertificate(base.issuer).name, subjectPublicKeyBits(parseCertificate(base.issuer).spki)).find((h) => h.hash === 'sha1');
  assert.ok(sha1);
  for (const s of last) await responder.respond(buildOcspRequest([encodeCertId(sha1, s)]));
  const keptBefore = responder.kept;
  await store.certificates.revoke(serials[0] as string, { at: new Date(t) });
  for (let b = 0; b < 10; b++) await store.certificates.revokeMany(serials.slice(1 + b * 1000, 1 + (b + 1) * 1000), { at: new Date(t) });
  const tick = await responder.maintain();
  assert.equal(tick.evicted, last.length, 'every kept response of the last batch is dropped');
  assert.equal(responder.kept, keptBefore - last.length);
  for (const s of last.slice(-5)) assert.equal((await responder.respond(buildOcspRequest([encodeCertId(sha1, s)]))).outcome, 'signed');
});
