/**
 * A root rollover, as `additionalRoots` lets an operator run it: two CAs of one trust domain,
 * `old` (serving now) and `next` (its replacement, with its own root and intermediate).
 *  1. Before: next's SVIDs do not validate with old's bundle.
 *  2. Publish ahead: old lists next's root in `additionalRoots`; /roots, /roots.pem,
 *     /root/{sha256} and the SPIFFE bundle carry both roots (the bundle's sequence grows), and
 *     SVIDs that next issues validate at old and with OpenSSL given the bundle's roots.
 *  3. The switch, in place: old's config points at next's root and intermediate and lists its
 *     previous root; its store stays (inventory, entries, JWT keys — same intermediate
 *     password), SVIDs from before the switch keep validating, a certificate from before renews
 *     over mTLS and the new one chains to the next root; tokens bound to either root are accepted.
 * Refusals: a root that is not self-signed, the root itself, one listed twice, a missing file, a
 * wrong type, too many; an expired additional root is a warning. `ca start` refuses a bad list
 * before anything listens.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { loadCaConfig } from '../../src/ca/config.js';
import { startCa, type RunningCa } from '../../src/ca/runtime.js';
import { systemClock } from '../../src/core/clock.js';
import { decodePemAll, encodePem } from '../../src/core/pem.js';
import { isSignetError } from '../../src/core/errors.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseBundle } from '../../src/spiffe/bundle.js';
import { issueLintedCertificate } from '../../src/x509/issue.js';
import { parseSubject } from '../../src/x509/name.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signetAsync } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-rollover-');
const quiet = { spiffeIntervalMs: 3_600_000, revocationIntervalMs: 3_600_000, jobIntervalMs: 3_600_000 };
let old: TestCa;
let next: TestCa;
let rOld: RunningCa | undefined;
let rNext: RunningCa | undefined;

/** Sets (or removes, with undefined) `additionalRoots` in a CA's config file. */
function setAdditionalRoots(ca: TestCa, roots: unknown): void {
  const doc = JSON.parse(readFileSync(ca.configPath, 'utf8')) as Record<string, unknown>;
  if (roots === undefined) delete doc.additionalRoots;
  else doc.additionalRoots = roots;
  writeFileSync(ca.configPath, `${JSON.stringify(doc, null, 2)}\n`);
}

async function svid(ca: TestCa, running: RunningCa, id: string): Promise<string> {
  const csr = testCsr('workload', [id]);
  const r = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: csr.pem, ott: await testToken(ca, running, { subject: 'workload', sans: [id] }) } });
  assert.equal(r.status, 201, r.text);
  return (r.json?.certChain as string[]).join('');
}

const validate = (ca: TestCa, running: RunningCa, chain: string, trust: { ca?: string } = {}) => httpsRequest(ca, `${running.url}/spiffe/validate/x509-svid`, { ...trust, body: { chain } });

async function bundleOf(ca: TestCa, running: RunningCa, trust: { ca?: string } = {}): Promise<ReturnType<typeof parseBundle>> {
  const r = await httpsRequest(ca, `${running.url}/spiffe/bundle`, trust);
  assert.equal(r.status, 200, r.text);
  return parseBundle(r.text, 'example.org');
}

/** OpenSSL's verdict on an SVID chain (leaf first) against the X.509 authorities of a bundle. */
async function opensslVerifies(name: string, chain: string, bundle: ReturnType<typeof parseBundle>): Promise<boolean> {
  const blocks = decodePemAll(chain);
  writeFileSync(tmp.path(`${name}-leaf.pem`), encodePem('CERTIFICATE', blocks[0]?.der ?? new Uint8Array()));
  writeFileSync(tmp.path(`${name}-chain.pem`), blocks.slice(1).map((b) => encodePem('CERTIFICATE', b.der)).join(''));
  writeFileSync(tmp.path(`${name}-roots.pem`), bundle.x509Authorities.map((der) => encodePem('CERTIFICATE', der)).join(''));
  const r = await runAsync('openssl', ['verify', '-CAfile', tmp.path(`${name}-roots.pem`), '-untrusted', tmp.path(`${name}-chain.pem`), tmp.path(`${name}-leaf.pem`)]);
  return r.code === 0;
}

before(async () => {
  mkdirSync(tmp.path('old'));
  mkdirSync(tmp.path('next'));
  old = await createTestCa({ parent: tmp.path('old'), name: 'Old', trustDomain: 'example.org' });
  next = await createTestCa({ parent: tmp.path('next'), name: 'Next', trustDomain: 'example.org' });
});

after(async () => {
  await rOld?.close();
  await rNext?.close();
  tmp.cleanup();
});

let oldSvid = '';
let nextSvid = '';
let sequenceBefore = 0;

test('before the rollover: each CA publishes its own root only, and the other\'s SVIDs do not validate', async () => {
  rOld = await startTestCa(old, quiet);
  rNext = await startTestCa(next, quiet);
  oldSvid = await svid(old, rOld, 'spiffe://example.org/web');
  nextSvid = await svid(next, rNext, 'spiffe://example.org/web');
  const roots = await httpsRequest(old, `${rOld.url}/roots`);
  assert.deepEqual(roots.json?.crts, [old.rootPem]);
  const bundle = await bundleOf(old, rOld);
  assert.deepEqual(bundle.x509Authorities.map((d) => Buffer.from(d).toString('hex')), [Buffer.from(old.rootDer).toString('hex')]);
  sequenceBefore = bundle.sequence ?? 0;
  const r = await validate(old, rOld, nextSvid);
  assert.deepEqual([r.status, r.json?.code, r.json?.reason], [400, 'ERR_X509_SVID_INVALID', 'chain']);
  assert.equal(await opensslVerifies('before', nextSvid, bundle), false);
  assert.equal((await httpsRequest(old, `${rOld.url}/root/${next.rootFingerprint}`)).json?.code, 'ERR_ROOT_NOT_FOUND');
});

test('publish ahead: the serving CA lists the next root; /roots, /roots.pem, /root/{sha256} and the bundle carry both, and the next CA\'s SVIDs validate (Signet and OpenSSL)', async () => {
  await rOld?.close();
  setAdditionalRoots(old, [next.rootFile]);
  const validated = ok(await signetAsync(['ca', 'config', 'validate', '--config', old.configPath, '--json']));
  const result = JSON.parse(validated.stdout) as { additionalRoots: { fingerprint: string }[]; warnings: unknown[] };
  assert.deepEqual(result.additionalRoots.map((r) => r.fingerprint.replace(/:/g, '').toLowerCase()), [next.rootFingerprint]);
  assert.deepEqual(result.warnings, []);
  rOld = await startTestCa(old, quiet);

  const roots = await httpsRequest(old, `${rOld.url}/roots`);
  assert.deepEqual(roots.json?.crts, [old.rootPem, next.rootPem]);
  const pem = await httpsRequest(old, `${rOld.url}/roots.pem`);
  assert.deepEqual(decodePemAll(pem.text).map((b) => Buffer.from(b.der).toString('hex')), [old.rootDer, next.rootDer].map((d) => Buffer.from(d).toString('hex')));
  const one = await httpsRequest(old, `${rOld.url}/root/${next.rootFingerprint}`);
  assert.equal(one.json?.ca, next.rootPem);

  const bundle = await bundleOf(old, rOld);
  assert.deepEqual(bundle.x509Authorities.map((d) => Buffer.from(d).toString('hex')), [old.rootDer, next.rootDer].map((d) => Buffer.from(d).toString('hex')));
  assert.ok((bundle.sequence ?? 0) > sequenceBefore, `the bundle changed, its sequence must grow (${bundle.sequence} after ${sequenceBefore})`);

  const r = await validate(old, rOld, nextSvid);
  assert.deepEqual([r.status, r.json?.spiffeId], [200, 'spiffe://example.org/web']);
  assert.equal(await opensslVerifies('ahead-next', nextSvid, bundle), true);
  // The CA's own SVIDs, old and new, still validate.
  assert.equal((await validate(old, rOld, oldSvid)).status, 200);
  assert.equal((await validate(old, rOld, await svid(old, rOld, 'spiffe://example.org/db'))).status, 200);
});

test('the switch, in place: the serving CA signs under the next root and intermediate, lists the previous root, and keeps its store — SVIDs from before validate, a certificate from before renews over mTLS, JWT-SVIDs still mint', async () => {
  assert.ok(rOld !== undefined && rNext !== undefined);
  // Without the previous root, the next CA does not accept the serving CA's SVIDs.
  assert.equal((await validate(next, rNext, oldSvid)).json?.reason, 'chain');
  const csr = testCsr('renewer', ['spiffe://example.org/renewer']);
  const issued = await httpsRequest(old, `${rOld.url}/sign`, { body: { csr: csr.pem, ott: await testToken(old, rOld, { subject: 'renewer', sans: ['spiffe://example.org/renewer'] }) } });
  assert.equal(issued.status, 201, issued.text);
  const beforeSwitch = (issued.json?.certChain as string[]).join('');
  await rOld.close();

  const doc = JSON.parse(readFileSync(old.configPath, 'utf8')) as Record<string, unknown>;
  doc.root = next.rootFile;
  doc.intermediate = { certificate: next.config.intermediate.certificate, key: next.config.intermediate.key, passwordFile: next.config.intermediate.passwordFile };
  doc.additionalRoots = [old.rootFile];
  writeFileSync(old.configPath, `${JSON.stringify(doc, null, 2)}\n`);
  rOld = await startTestCa(old, quiet);
  const trust = { ca: next.rootPem };

  const roots = await httpsRequest(old, `${rOld.url}/roots`, trust);
  assert.deepEqual(roots.json?.crts, [next.rootPem, old.rootPem]);
  const r = await validate(old, rOld, oldSvid, trust);
  assert.deepEqual([r.status, r.json?.spiffeId], [200, 'spiffe://example.org/web']);
  const bundle = await bundleOf(old, rOld, trust);
  assert.equal(await opensslVerifies('after-old', oldSvid, bundle), true);

  const renewed = await httpsRequest(old, `${rOld.url}/renew`, { method: 'POST', cert: beforeSwitch, key: csr.key, ca: next.rootPem });
  assert.equal(renewed.status, 201, renewed.text);
  const renewedChain = (renewed.json?.certChain as string[]).join('');
  assert.equal(await opensslVerifies('renewed', renewedChain, { ...bundle, x509Authorities: [next.rootDer] }), true, 'the renewed certificate chains to the next root');
  assert.equal(await opensslVerifies('renewed-old', renewedChain, { ...bundle, x509Authorities: [old.rootDer] }), false);

  // Tokens bound to the previous root (what clients pinned before the switch) are accepted, as are the next root's; a foreign root's are not.
  const jwtSvid = async (rootFingerprint: string) =>
    httpsRequest(old, `${rOld?.url}/spiffe/jwt-svid`, { ...trust, body: { ott: await testToken(old, rOld as RunningCa, { subject: 'spiffe://example.org/web', path: '/spiffe/jwt-svid', rootFingerprint }), audience: 'spiffe://example.org/db' } });
  for (const fingerprint of [old.rootFingerprint, next.rootFingerprint]) {
    const jwt = await jwtSvid(fingerprint);
    assert.equal(jwt.status, 201, jwt.text);
  }
  const foreign = await jwtSvid('ab'.repeat(32));
  assert.deepEqual([foreign.status, foreign.json?.code], [401, 'ERR_TOKEN_AUDIENCE']);
});

test('refused, every problem at once: not self-signed, the root itself, listed twice, a missing file, a wrong type, too many; ca start refuses before it listens', async () => {
  const dir = tmp.path('refusals');
  mkdirSync(dir);
  const ca = await createTestCa({ parent: dir, name: 'Refusals' });
  setAdditionalRoots(ca, [next.intermediateFile, ca.rootFile, next.rootFile, next.rootFile, tmp.path('missing.pem')]);
  const r = await signetAsync(['ca', 'config', 'validate', '--config', ca.configPath]);
  fails(r, 1, 'ERR_CONFIG_INVALID');
  for (const expected of [
    /\$\.additionalRoots\[0\]: additional root certificate .* is not self-signed/,
    /\$\.additionalRoots\[1\]: additional root certificate .* is the same certificate as \$\.root/,
    /\$\.additionalRoots\[3\]: additional root certificate .* is the same certificate as \$\.additionalRoots\[2\]/,
    /\$\.additionalRoots\[4\]: .*missing\.pem/,
  ]) {
    assert.match(r.stderr, expected);
  }
  assert.doesNotMatch(r.stderr, /additionalRoots\[2\]:/);
  await assert.rejects(
    () => startCa(loadCaConfig(ca.configPath), { clock: systemClock, port: 0, ...quiet }),
    (e: unknown) => isSignetError(e, 'ERR_CONFIG_INVALID') && /additionalRoots\[0\]/.test(e.message),
  );

  const refusedWith = async (roots: unknown, expected: RegExp): Promise<void> => {
    setAdditionalRoots(ca, roots);
    const v = await signetAsync(['ca', 'config', 'validate', '--config', ca.configPath]);
    fails(v, 1, 'ERR_CONFIG_INVALID');
    assert.match(v.stderr, expected);
  };
  await refusedWith([''], /\$\.additionalRoots\[0\]: expected a file path/);
  await refusedWith(next.rootFile, /\$\.additionalRoots: expected a list/);
  await refusedWith(Array.from({ length: 9 }, () => next.rootFile), /\$\.additionalRoots: has 9 items; at most 8/);
});

test('an additional root that has expired is a warning: nothing it signed is valid any more', async () => {
  const dir = tmp.path('expired');
  mkdirSync(dir);
  const ca = await createTestCa({ parent: dir, name: 'Expired' });
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const then = new Date(Date.now() - 400 * 86_400_000);
  const spec = specFromProfile('root-ca', { subject: parseSubject('CN=Retired Root'), publicKey: keys.publicKey, now: then, lifetimeMs: 30 * 86_400_000 });
  const retired = issueLintedCertificate(spec, createSoftwareSigner(keys.privateKey), undefined, { profile: 'root-ca', now: then });
  writeFileSync(tmp.path('retired.pem'), encodePem('CERTIFICATE', retired.der));
  setAdditionalRoots(ca, [tmp.path('retired.pem')]);
  const r = ok(await signetAsync(['ca', 'config', 'validate', '--config', ca.configPath]));
  assert.match(r.stderr, /warning: \$\.additionalRoots\[0\]: additional root certificate .*retired\.pem expired at .*: nothing it signed is valid any more, remove it/);
  const running = await startTestCa(ca, quiet);
  try {
    assert.equal(((await httpsRequest(ca, `${running.url}/roots`)).json?.crts as string[]).length, 2);
  } finally {
    await running.close();
  }
});
