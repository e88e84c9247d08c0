/**
 * The ACME server against a client that does everything right, then against a hostile one
 * (RFC 8555 §6): each bad request gets its problem type and status, and none changes state.
 * Challenges are answered by an http-01 responder the test runs on the port the CA validates on;
 * names resolve to 127.0.0.1 through the test's DNS server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeKey, acmeKeyFrom, jws, RawAcme, startAcmeTestCa, type AcmeKey } from '../helpers/acme.js';
import { testCsr, type HttpsReply, type TestCa } from '../helpers/ca.js';
import type { TestDnsServer } from '../helpers/dns-server.js';
import { openssl } from '../helpers/openssl.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { RunningCa } from '../../src/ca/runtime.js';

const P = 'urn:ietf:params:acme:error:';

interface Fixture {
  ca: TestCa;
  running: RunningCa;
  dns: TestDnsServer;
  acme: RawAcme;
  /** token → key authorization, served by the http-01 responder. */
  answers: Map<string, string>;
  dir: string;
}

async function setup(t: { after: (fn: () => unknown) => void }, edit?: (doc: Record<string, unknown>) => void): Promise<Fixture> {
  const fixture = await startAcmeTestCa(t, {
    validationTimeout: '3s',
    edit: (doc) => {
      doc.policy = { deny: { dns: ['*.denied.test'] } };
      edit?.(doc);
    },
  });
  const acme = await new RawAcme(fixture.ca, `${fixture.running.url}/acme/acme/directory`).open();
  return { ...fixture, acme };
}

function problem(r: HttpsReply, status: number, type: string): void {
  assert.equal(r.status, status, `expected ${status} ${type}, got ${r.status}: ${r.text}`);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.type, `${P}${type}`, r.text);
  assert.equal(typeof r.json?.detail, 'string');
  assert.equal(typeof r.headers['replay-nonce'], 'string', 'every answer carries a fresh nonce');
}

/** Polls `url` (POST-as-GET) until its status leaves pending/processing. */
async function settle(f: Fixture, key: AcmeKey, kid: string, url: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const r = await f.acme.get(key, kid, url);
    assert.equal(r.status, 200, r.text);
    const status = r.json?.status;
    if (status !== 'pending' && status !== 'processing') return r.json as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not settle`);
}

/** Orders `names`, answers every http-01 challenge, and waits until the order is ready. */
async function readyOrder(f: Fixture, key: AcmeKey, kid: string, names: readonly string[]): Promise<{ url: string; body: Record<string, unknown> }> {
  for (const n of names) f.dns.setAddress(n, '127.0.0.1');
  const order = await f.acme.order(key, kid, names.map((n) => (/^[\d.]+$/.test(n) ? { type: 'ip', value: n } : { type: 'dns', value: n })));
  for (const authzUrl of order.body.authorizations as string[]) {
    const authz = await f.acme.get(key, kid, authzUrl);
    if (authz.json?.status === 'valid') continue;
    const http = (authz.json?.challenges as { type: string; url: string; token: string }[]).find((c) => c.type === 'http-01');
    assert.ok(http, 'an http-01 challenge is offered');
    f.answers.set(http.token, `${http.token}.${key.thumbprint}`);
    const r = await f.acme.post(key, { url: http.url, kid, payload: {} });
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers.link), /rel="up"/);
    const settled = await settle(f, key, kid, authzUrl);
    assert.equal(settled.status, 'valid', JSON.stringify(settled));
  }
  const body = await settle(f, key, kid, order.url);
  assert.equal(body.status, 'ready');
  return { url: order.url, body };
}

async function inventoryCount(running: RunningCa): Promise<number> {
  return (await running.store.certificates.list({}, { limit: 1000 })).items.length;
}

test('directory, nonces, and one order from account to verified certificate chain (two DNS names and an IP address)', async (t) => {
  const f = await setup(t);
  const d = f.acme.directory;
  for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange']) assert.match(d[k] ?? '', /^https:\/\/localhost:\d+\/acme\/acme\//, k);
  // Requests no route takes are problem documents under /acme/ too (with a nonce).
  problem(await f.acme.postRaw(d.newNonce as string, '', 'text/plain'), 405, 'malformed');
  problem(await f.acme.postRaw(`${f.running.url}/acme/acme/no-such-thing`, '{}'), 404, 'malformed');
  const { httpsRequest } = await import('../helpers/ca.js');
  const g = await httpsRequest(f.ca, d.newNonce as string);
  assert.equal(g.status, 204);
  assert.equal(g.headers['cache-control'], 'no-store');
  assert.match(String(g.headers['replay-nonce']), /^[A-Za-z0-9_-]{46}$/);
  assert.match(String(g.headers.link), /rel="index"/);

  const key = acmeKey();
  const kid = await f.acme.account(key, { termsOfServiceAgreed: true, contact: ['mailto:ops@example.test'] });
  assert.equal(await f.acme.account(key), kid, 'newAccount with a known key returns the same account');
  const onlyExisting = await f.acme.post(acmeKey(), { url: d.newAccount as string, payload: { onlyReturnExisting: true } });
  problem(onlyExisting, 400, 'accountDoesNotExist');

  const names = ['a.acme.test', 'b.acme.test', '127.0.0.1'];
  const order = await readyOrder(f, key, kid, names);
  const csr = testCsr('a.acme.test', names);
  const fin = await f.acme.post(key, { url: order.body.finalize as string, kid, payload: { csr: Buffer.from(csr.der).toString('base64url') } });
  assert.equal(fin.status, 200, fin.text);
  assert.equal(fin.json?.status, 'valid');
  const certUrl = fin.json?.certificate as string;
  const cert = await f.acme.get(key, kid, certUrl);
  assert.equal(cert.status, 200);
  assert.equal(cert.headers['content-type'], 'application/pem-certificate-chain');
  const blocks = cert.text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
  assert.equal(blocks.length, 2, 'leaf and intermediate');
  writeFileSync(join(f.dir, 'leaf.pem'), blocks[0]);
  writeFileSync(join(f.dir, 'chain.pem'), blocks[1] as string);
  const v = openssl(['verify', '-CAfile', f.ca.rootFile, '-untrusted', join(f.dir, 'chain.pem'), join(f.dir, 'leaf.pem')]);
  assert.equal(v.status, 0, v.stderr);
  const text = openssl(['x509', '-in', join(f.dir, 'leaf.pem'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage']).stdout;
  assert.match(text, /DNS:a\.acme\.test/);
  assert.match(text, /IP Address:127\.0\.0\.1/);
  assert.match(text, /TLS Web Server Authentication/);

  // The account's orders; another account cannot read them or the certificate.
  const list = await f.acme.get(key, kid, `${kid}/orders`);
  assert.deepEqual(list.json?.orders, [order.url]);
  const other = acmeKey('Ed25519');
  const otherKid = await f.acme.account(other);
  problem(await f.acme.get(other, otherKid, order.url), 403, 'unauthorized');
  problem(await f.acme.get(other, otherKid, certUrl), 403, 'unauthorized');
  problem(await f.acme.get(other, otherKid, `${kid}/orders`), 403, 'unauthorized');

  // A second order for the same names reuses the valid authorizations: it is ready at once.
  const again = await f.acme.order(key, kid, names.map((n) => (/^[\d.]+$/.test(n) ? { type: 'ip', value: n } : { type: 'dns', value: n })));
  assert.equal(again.body.status, 'ready');
  assert.deepEqual(again.body.authorizations, order.body.authorizations);
  // The audit log has the account and the issuance.
  const events = await f.running.store.audit.list({ limit: 20 });
  assert.ok(events.some((e) => e.type === 'acme.account.create'));
  assert.ok(events.some((e) => e.type === 'certificate.sign' && e.outcome === 'success' && e.provisioner === 'acme'));
});

test('a hostile client: each bad request gets its problem type and changes nothing', async (t) => {
  const f = await setup(t);
  const d = f.acme.directory;
  const key = acmeKey();
  const kid = await f.acme.account(key);
  const stranger = acmeKey();
  const noAccount = async (): Promise<void> => {
    const r = await f.acme.post(stranger, { url: d.newAccount as string, payload: { onlyReturnExisting: true } });
    assert.equal(r.json?.type, `${P}accountDoesNotExist`, 'no account was created');
  };

  // Nonces: reused, made up, missing.
  const nonce = await f.acme.nonce();
  assert.equal((await f.acme.post(key, { url: d.newOrder as string, kid, nonce, payload: { identifiers: [{ type: 'dns', value: 'n1.acme.test' }] } })).status, 201);
  const replay = await f.acme.post(key, { url: d.newOrder as string, kid, nonce, payload: { identifiers: [{ type: 'dns', value: 'n2.acme.test' }] } });
  problem(replay, 400, 'badNonce');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', payload: {} }), 400, 'badNonce');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, nonce: null, payload: {} }), 400, 'badNonce');
  // The fresh nonce of the badNonce answer works.
  const retry = await f.acme.post(key, { url: d.newOrder as string, kid, nonce: replay.headers['replay-nonce'] as string, payload: { identifiers: [{ type: 'dns', value: 'n2.acme.test' }] } });
  assert.equal(retry.status, 201);
  const orders = async (): Promise<number> => ((await f.acme.get(key, kid, `${kid}/orders`)).json?.orders as unknown[]).length;
  const before = await orders();

  // The header: url, jwk+kid, unknown kid, algorithms.
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] }, extraHeader: { url: d.newAccount } }), 403, 'unauthorized');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, both: true, payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } }), 400, 'malformed');
  problem(await f.acme.post(stranger, { url: d.newOrder as string, kid: `${kid.slice(0, kid.lastIndexOf('/'))}/nobody`, payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } }), 400, 'accountDoesNotExist');
  const none = await f.acme.post(key, { url: d.newOrder as string, kid, alg: 'none', payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } });
  problem(none, 400, 'badSignatureAlgorithm');
  assert.ok(Array.isArray(none.json?.algorithms) && (none.json.algorithms as string[]).includes('ES256'), 'the accepted algorithms are listed');
  problem(await f.acme.post(stranger, { url: d.newAccount as string, hmac: Buffer.alloc(32, 7), payload: { termsOfServiceAgreed: true } }), 400, 'badSignatureAlgorithm');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, alg: 'ES384', payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } }), 400, 'badSignatureAlgorithm');
  // A signature over another payload.
  const genuine = jws(key, { url: d.newOrder as string, kid, nonce: await f.acme.nonce(), payload: { identifiers: [{ type: 'dns', value: 'y.acme.test' }] } });
  const forged = jws(key, { url: d.newOrder as string, kid, nonce: await f.acme.nonce(), payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } });
  problem(await f.acme.postRaw(d.newOrder as string, { ...forged, signature: genuine.signature }), 400, 'malformed');
  // Another key's signature for a known account.
  problem(await f.acme.post(stranger, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } }), 400, 'malformed');
  // Bodies: not JSON, the general serialization, an unprotected header, wrong media type, too large.
  problem(await f.acme.postRaw(d.newOrder as string, 'not json'), 400, 'malformed');
  const signed = jws(key, { url: d.newOrder as string, kid, nonce: await f.acme.nonce(), payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } });
  problem(await f.acme.postRaw(d.newOrder as string, { payload: signed.payload, signatures: [{ protected: signed.protected, signature: signed.signature }] }), 400, 'malformed');
  problem(await f.acme.postRaw(d.newOrder as string, { ...signed, header: { kid } }), 400, 'malformed');
  problem(await f.acme.postRaw(d.newOrder as string, signed, 'application/json'), 415, 'malformed');
  problem(await f.acme.postRaw(d.newOrder as string, { ...signed, payload: 'A'.repeat(70_000) }), 413, 'malformed');
  assert.equal(await orders(), before, 'no refused request created an order');
  await noAccount();

  // Identifiers: policy, a wildcard's challenges, unsupported types, garbage.
  const denied = await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'ok.acme.test' }, { type: 'dns', value: 'x.denied.test' }] } });
  problem(denied, 400, 'rejectedIdentifier');
  const sub = denied.json?.subproblems as { identifier: { value: string }; type: string }[];
  assert.deepEqual(sub.map((s) => s.identifier.value), ['x.denied.test'], 'one subproblem, for the denied name');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'email', value: 'a@b.test' }] } }), 400, 'rejectedIdentifier');
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'bad..name' }] } }), 400, 'rejectedIdentifier');
  const overlong = await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: `${'a'.repeat(250)}.acme.test${'x'.repeat(40)}` }] } });
  problem(overlong, 400, 'rejectedIdentifier');
  const unsupported = await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'email', value: 'a@b.test' }] } });
  assert.deepEqual((unsupported.json?.subproblems as { type: string; identifier: unknown }[]).map((x) => [x.type, x.identifier]), [[`${P}unsupportedIdentifier`, { type: 'email', value: 'a@b.test' }]]);
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [] } }), 400, 'malformed');
  const wild = await f.acme.order(key, kid, [{ type: 'dns', value: '*.wild.acme.test' }]);
  const wildAuthz = await f.acme.get(key, kid, (wild.body.authorizations as string[])[0] as string);
  assert.deepEqual((wildAuthz.json?.challenges as { type: string }[]).map((c) => c.type), ['dns-01'], 'a wildcard is validated by dns-01 only');
  assert.equal(wildAuthz.json?.wildcard, true);
  assert.deepEqual(wildAuthz.json?.identifier, { type: 'dns', value: 'wild.acme.test' });

  // Finalize: before ready, with wrong CSRs, for another account, twice.
  const pending = await f.acme.order(key, kid, [{ type: 'dns', value: 'early.acme.test' }]);
  const early = await f.acme.post(key, { url: pending.body.finalize as string, kid, payload: { csr: Buffer.from(testCsr('early.acme.test', ['early.acme.test']).der).toString('base64url') } });
  problem(early, 403, 'orderNotReady');
  const countBefore = await inventoryCount(f.running);
  const ready = await readyOrder(f, key, kid, ['c.acme.test', 'd.acme.test']);
  for (const sans of [['c.acme.test', 'd.acme.test', 'extra.acme.test'], ['c.acme.test'], ['c.acme.test', 'd.acme.test', 'ops@example.test']]) {
    const r = await f.acme.post(key, { url: ready.body.finalize as string, kid, payload: { csr: Buffer.from(testCsr(undefined, sans).der).toString('base64url') } });
    problem(r, 400, 'badCSR');
  }
  problem(await f.acme.post(key, { url: ready.body.finalize as string, kid, payload: { csr: 'AAAA' } }), 400, 'badCSR');
  problem(await f.acme.post(key, { url: ready.body.finalize as string, kid, payload: { csr: Buffer.from(testCsr('other.acme.test', ['c.acme.test', 'd.acme.test']).der).toString('base64url') } }), 400, 'badCSR');
  const otherKey = acmeKey('RSA');
  const otherKid = await f.acme.account(otherKey);
  problem(await f.acme.post(otherKey, { url: ready.body.finalize as string, kid: otherKid, payload: { csr: Buffer.from(testCsr(undefined, ['c.acme.test', 'd.acme.test']).der).toString('base64url') } }), 403, 'unauthorized');
  assert.equal((await f.acme.get(key, kid, ready.url)).json?.status, 'ready', 'refused finalizations leave the order ready');
  assert.equal(await inventoryCount(f.running), countBefore, 'and issue nothing');
  // Two finalizations at once: one certificate.
  const csr = Buffer.from(testCsr(undefined, ['c.acme.test', 'd.acme.test']).der).toString('base64url');
  const both = await Promise.all([0, 1].map(() => f.acme.post(key, { url: ready.body.finalize as string, kid, payload: { csr } })));
  assert.deepEqual(both.map((r) => r.status).sort(), [200, 403], both.map((r) => r.text).join('\n'));
  assert.equal(await inventoryCount(f.running), countBefore + 1);

  // A deactivated account can do nothing more.
  const gone = await f.acme.post(otherKey, { url: otherKid, kid: otherKid, payload: { status: 'deactivated' } });
  assert.equal(gone.json?.status, 'deactivated');
  problem(await f.acme.post(otherKey, { url: d.newOrder as string, kid: otherKid, payload: { identifiers: [{ type: 'dns', value: 'z.acme.test' }] } }), 403, 'unauthorized');
  problem(await f.acme.post(otherKey, { url: d.newAccount as string, payload: {} }), 403, 'unauthorized');
});

test('many orders on one account in parallel, and many accounts at once: every certificate issued once', async (t) => {
  const f = await setup(t);
  const accounts = await Promise.all([0, 1, 2, 3].map(async () => {
    const key = acmeKey();
    return { key, kid: await f.acme.account(key) };
  }));
  const before = await inventoryCount(f.running);
  const work = accounts.flatMap((a, i) =>
    [0, 1, 2, 3, 4].map(async (j) => {
      const name = `p${i}-${j}.acme.test`;
      const order = await readyOrder(f, a.key, a.kid, [name]);
      const r = await f.acme.post(a.key, { url: order.body.finalize as string, kid: a.kid, payload: { csr: Buffer.from(testCsr(undefined, [name]).der).toString('base64url') } });
      assert.equal(r.status, 200, r.text);
      return r.json?.certificate as string;
    }),
  );
  const certs = await Promise.all(work);
  assert.equal(new Set(certs).size, 20);
  assert.equal(await inventoryCount(f.running), before + 20);
});

test('terms of service and a provisioner that offers only http-01', async (t) => {
  const f = await setup(t, (doc) => {
    (doc.provisioners as Record<string, unknown>[]).push({ type: 'ACME', name: 'strict', challenges: ['http-01'], termsOfService: 'https://example.test/tos' });
  });
  const strict = await new RawAcme(f.ca, `${f.running.url}/acme/strict/directory`).open();
  assert.deepEqual(strict.directory.meta, { termsOfService: 'https://example.test/tos', externalAccountRequired: false });
  const key = acmeKey();
  problem(await strict.post(key, { url: strict.directory.newAccount as string, payload: {} }), 403, 'userActionRequired');
  const kid = await strict.account(key, { termsOfServiceAgreed: true });
  problem(await strict.post(key, { url: strict.directory.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: '*.wild.acme.test' }] } }), 400, 'rejectedIdentifier');
  // An account belongs to its directory.
  problem(await f.acme.post(key, { url: f.acme.directory.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'x.acme.test' }] } }), 400, 'accountDoesNotExist');
  // A JWK provisioner has no ACME directory.
  const { httpsRequest } = await import('../helpers/ca.js');
  const jwkDir = await httpsRequest(f.ca, `${f.running.url}/acme/admin/directory`);
  assert.equal(jwkDir.status, 404);
  assert.equal(jwkDir.json?.type, `${P}malformed`);
});

/** Orders `names` for the account, validates, finalizes; returns the certificate DER, its key and URL. */
async function issue(f: Fixture, key: AcmeKey, kid: string, names: readonly string[]): Promise<{ der: Buffer; key: KeyObject; url: string; serial: string }> {
  const order = await readyOrder(f, key, kid, names);
  const csr = testCsr(undefined, names);
  const fin = await f.acme.post(key, { url: order.body.finalize as string, kid, payload: { csr: Buffer.from(csr.der).toString('base64url') } });
  assert.equal(fin.status, 200, fin.text);
  const url = fin.json?.certificate as string;
  const pem = (await f.acme.get(key, kid, url)).text;
  const der = Buffer.from(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1]?.replace(/\s+/g, '') ?? '', 'base64');
  return { der, key: csr.key, url, serial: url.slice(url.lastIndexOf('/') + 1) };
}

test('key change (RFC 8555 §7.3.5): the new key takes over, the old one stops working; a key in use is a 409 naming its account; bad inner requests change nothing', async (t) => {
  const f = await setup(t);
  const d = f.acme.directory;
  const oldKey = acmeKey();
  const kid = await f.acme.account(oldKey);
  const newKey = acmeKey('Ed25519');
  const inner = (o: { signer?: AcmeKey; payload?: unknown; url?: string; nonce?: string }) =>
    jws(o.signer ?? newKey, { url: o.url ?? (d.keyChange as string), nonce: o.nonce ?? null, payload: o.payload ?? { account: kid, oldKey: oldKey.jwk } });
  problem(await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: inner({ nonce: 'x' }) }), 400, 'malformed');
  problem(await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: inner({ url: d.newOrder }) }), 403, 'unauthorized');
  problem(await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: inner({ payload: { account: kid, oldKey: acmeKey().jwk } }) }), 403, 'unauthorized');
  problem(await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: inner({ payload: { account: `${kid}x`, oldKey: oldKey.jwk } }) }), 400, 'malformed');
  const forged = inner({});
  problem(await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: { ...forged, signature: inner({ payload: { account: kid, oldKey: oldKey.jwk, x: 1 } }).signature } }), 400, 'malformed');
  assert.equal((await f.acme.get(oldKey, kid, kid)).status, 200, 'the old key still works after refused changes');

  const changed = await f.acme.post(oldKey, { url: d.keyChange as string, kid, payload: inner({}) });
  assert.equal(changed.status, 200, changed.text);
  problem(await f.acme.get(oldKey, kid, kid), 400, 'badSignatureAlgorithm'); // the account key is Ed25519 now
  assert.equal((await f.acme.get(newKey, kid, kid)).status, 200);
  assert.equal(await f.acme.account(newKey), kid, 'newAccount with the new key finds the account');

  const otherKey = acmeKey();
  const otherKid = await f.acme.account(otherKey);
  const conflict = await f.acme.post(newKey, { url: d.keyChange as string, kid, payload: jws(otherKey, { url: d.keyChange as string, nonce: null, payload: { account: kid, oldKey: newKey.jwk } }) });
  problem(conflict, 409, 'malformed');
  assert.equal(conflict.headers.location, otherKid);
  const events = await f.running.store.audit.list({ type: 'acme.account.key-change' });
  assert.equal(events.length, 1);
});

test('revokeCert (RFC 8555 §7.6): by the issuing account, by an account holding authorizations for every name, by the certificate key; others refused; reasons checked; twice is alreadyRevoked', async (t) => {
  const f = await setup(t);
  const d = f.acme.directory;
  const key = acmeKey();
  const kid = await f.acme.account(key);
  const stranger = acmeKey();
  const strangerKid = await f.acme.account(stranger);
  const one = await issue(f, key, kid, ['r1.acme.test']);
  const two = await issue(f, key, kid, ['r2.acme.test', 'r3.acme.test']);
  const three = await issue(f, key, kid, ['r4.acme.test']);
  const cert = (c: { der: Buffer }): string => c.der.toString('base64url');

  problem(await f.acme.post(stranger, { url: d.revokeCert as string, kid: strangerKid, payload: { certificate: cert(one) } }), 403, 'unauthorized');
  problem(await f.acme.post(acmeKey(), { url: d.revokeCert as string, payload: { certificate: cert(one) } }), 403, 'unauthorized');
  problem(await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: cert(one), reason: 7 } }), 400, 'badRevocationReason');
  problem(await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: cert(one), reason: 2 } }), 400, 'badRevocationReason');
  problem(await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: 'AAAA' } }), 400, 'malformed');
  assert.equal((await f.running.store.certificates.get(one.serial))?.status, 'valid', 'refused revocations change nothing');

  const byAccount = await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: cert(one), reason: 4 } });
  assert.equal(byAccount.status, 200, byAccount.text);
  const revoked = await f.running.store.certificates.get(one.serial);
  assert.equal(revoked?.status, 'revoked');
  assert.equal(revoked?.revocationReason, 'superseded');
  problem(await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: cert(one) } }), 400, 'alreadyRevoked');

  // The certificate's own key, in "jwk".
  const byKey = await f.acme.post(acmeKeyFrom(two.key), { url: d.revokeCert as string, payload: { certificate: cert(two), reason: 1 } });
  assert.equal(byKey.status, 200, byKey.text);
  assert.equal((await f.running.store.certificates.get(two.serial))?.revocationReason, 'keyCompromise');

  // Another account, once it holds a valid authorization for the name.
  await readyOrder(f, stranger, strangerKid, ['r4.acme.test']);
  const byAuthz = await f.acme.post(stranger, { url: d.revokeCert as string, kid: strangerKid, payload: { certificate: cert(three) } });
  assert.equal(byAuthz.status, 200, byAuthz.text);
  const events = await f.running.store.audit.list({ type: 'certificate.revoke' });
  assert.equal(events.length, 3);
});

test('ARI (RFC 9773): renewalInfo answers the default window, an operator-set window, a revoked certificate at once; replaces records replaced-by once, for the same account only', async (t) => {
  const f = await setup(t);
  const d = f.acme.directory;
  assert.match(d.renewalInfo ?? '', /\/acme\/acme\/renewal-info$/);
  const key = acmeKey();
  const kid = await f.acme.account(key);
  const first = await issue(f, key, kid, ['ari.acme.test']);
  const parsed = parseCertificate(first.der);
  const certId = `${Buffer.from(parsed.ext.authorityKeyIdentifier?.keyIdentifier ?? new Uint8Array()).toString('base64url')}.${Buffer.from(parsed.serialNumber).toString('base64url')}`;
  const { httpsRequest } = await import('../helpers/ca.js');
  const info = async (id: string): Promise<HttpsReply> => httpsRequest(f.ca, `${d.renewalInfo as string}/${id}`);
  const r = await info(certId);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['retry-after'], '21600');
  const win = r.json?.suggestedWindow as { start: string; end: string };
  const life = parsed.notAfter.getTime() - parsed.notBefore.getTime();
  assert.equal(new Date(win.start).getTime(), parsed.notBefore.getTime() + Math.floor((2 * life) / 3), 'the last third of the lifetime');
  assert.equal(new Date(win.end).getTime(), parsed.notAfter.getTime());
  problem(await info(`AAAA.${certId.split('.')[1] ?? ''}`), 404, 'malformed');
  problem(await info('not-a-cert-id'), 404, 'malformed');

  // The operator pulls the window forward for this name (a dry run first changes nothing).
  const cli = (args: string[]) => signet(['acme', 'renewal-window', ...args, '--config', f.ca.configPath]);
  const dry = JSON.parse(ok(cli(['--name', 'ari.acme.test', '--now', '--dry-run', '--json'])).stdout) as { selected: number; set: number };
  assert.deepEqual([dry.selected, dry.set], [1, 0]);
  assert.equal(((await info(certId)).json?.suggestedWindow as { start: string }).start, win.start);
  fails(cli(['--name', 'ari.acme.test']), 2, 'ERR_USAGE');
  const done = JSON.parse(ok(cli(['--name', 'ari.acme.test', '--now', '--within', '2h', '--explanation', 'https://status.example.test/42', '--json'])).stdout) as { set: number; window: { start: string; end: string } };
  assert.equal(done.set, 1);
  const pulled = (await info(certId)).json as { suggestedWindow: { start: string; end: string }; explanationURL: string };
  assert.ok(new Date(pulled.suggestedWindow.start).getTime() <= Date.now());
  assert.equal(new Date(pulled.suggestedWindow.end).getTime() - new Date(pulled.suggestedWindow.start).getTime(), 2 * 3_600_000);
  assert.equal(pulled.explanationURL, 'https://status.example.test/42');

  // newOrder with replaces: another account may not; the owner may, once.
  const other = acmeKey();
  const otherKid = await f.acme.account(other);
  problem(await f.acme.post(other, { url: d.newOrder as string, kid: otherKid, payload: { identifiers: [{ type: 'dns', value: 'ari.acme.test' }], replaces: certId } }), 403, 'unauthorized');
  const order = await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'ari.acme.test' }], replaces: certId } });
  assert.equal(order.status, 201, order.text);
  assert.equal(order.json?.replaces, first.serial);
  assert.equal(order.json?.status, 'ready', 'the authorization is reused');
  const fin = await f.acme.post(key, { url: order.json?.finalize as string, kid, payload: { csr: Buffer.from(testCsr(undefined, ['ari.acme.test']).der).toString('base64url') } });
  assert.equal(fin.status, 200, fin.text);
  const newSerial = (fin.json?.certificate as string).split('/').pop() ?? '';
  assert.equal((await f.running.store.certificates.get(first.serial))?.replacedBy, newSerial);
  assert.equal((await f.running.store.certificates.get(newSerial))?.replaces, first.serial);
  problem(await f.acme.post(key, { url: d.newOrder as string, kid, payload: { identifiers: [{ type: 'dns', value: 'ari.acme.test' }], replaces: certId } }), 409, 'alreadyReplaced');

  // A revoked certificate: renew at once.
  const second = await issue(f, key, kid, ['ari2.acme.test']);
  assert.equal((await f.acme.post(key, { url: d.revokeCert as string, kid, payload: { certificate: second.der.toString('base64url') } })).status, 200);
  const p2 = parseCertificate(second.der);
  const revokedInfo = await info(`${Buffer.from(p2.ext.authorityKeyIdentifier?.keyIdentifier ?? new Uint8Array()).toString('base64url')}.${Buffer.from(p2.serialNumber).toString('base64url')}`);
  assert.ok(new Date((revokedInfo.json?.suggestedWindow as { start: string }).start).getTime() <= Date.now());
});

test('a validation abandoned by a stopped replica is resumed by the periodic job (one replica at a time), and the authorization becomes valid', async (t) => {
  const f = await setup(t);
  const key = acmeKey();
  const kid = await f.acme.account(key);
  f.dns.setAddress('resume.acme.test', '127.0.0.1');
  const order = await f.acme.order(key, kid, [{ type: 'dns', value: 'resume.acme.test' }]);
  const authzUrl = (order.body.authorizations as string[])[0] as string;
  const authz = await f.acme.get(key, kid, authzUrl);
  const http = (authz.json?.challenges as { type: string; url: string; token: string }[]).find((c) => c.type === 'http-01');
  assert.ok(http);
  f.answers.set(http.token, `${http.token}.${key.thumbprint}`);
  // What a replica leaves behind when it dies after accepting the challenge: `processing`, long untouched.
  const id = http.url.slice(http.url.lastIndexOf('/') + 1);
  assert.equal(await f.running.store.acme.updateChallenge(id, 'pending', { status: 'processing', at: new Date(Date.now() - 10 * 60_000) }), true);
  const runs = await f.running.runJobs();
  assert.deepEqual(runs.find((r) => r.job === 'acme-resume-validations'), { job: 'acme-resume-validations', ran: true, resumed: 1 });
  const settled = await settle(f, key, kid, authzUrl);
  assert.equal(settled.status, 'valid');
  // Nothing is left to resume; a fresh `processing` challenge is not taken over.
  assert.deepEqual(runs.map((r) => r.job), ['purge-used-tokens', 'acme-resume-validations', 'acme-purge-expired']);
  assert.equal((await f.running.runJobs()).find((r) => r.job === 'acme-resume-validations')?.resumed, 0);
});
