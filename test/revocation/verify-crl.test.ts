/**
 * `signet certificate verify --crl`: revocation checked during path validation with the CRLs a
 * running CA publishes. A good leaf passes and says how many certificates were checked; a revoked
 * one is ERR_VERIFY_REVOKED with its date and reason (as `openssl verify -crl_check` refuses it);
 * another CA's CRL, a CRL whose signature does not verify, or none at all is
 * ERR_VERIFY_CRL_MISSING; a CRL past its nextUpdate at --time is ERR_VERIFY_CRL_EXPIRED; a file
 * that is not a CRL is ERR_CRL_MALFORMED (exit 3).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { loadPrivateKeyFile } from '../../src/cli/key/load.js';
import { parseCertificates } from '../../src/x509/certificate.js';
import { signCrl } from '../../src/x509/crl-builder.js';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, issueLeaf, startTestCa, writeChainFiles, type IssuedLeaf, type TestCa } from '../helpers/ca.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { runAsync, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-verify-crl-');
let ca: TestCa;
let running: RunningCa;

before(async () => {
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({
    parent: tmp.path('ca-parent'),
    edit: (doc) => {
      doc.crlUrl = 'http://127.0.0.1:1/crl';
      // CRLs valid for an hour: a leaf (24h) outlives them, so a stale CRL can be shown with --time.
      doc.revocation = { crl: { validity: '1h', refresh: '30m' } };
    },
  });
  running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  writeChainFiles(ca, tmp.dir);
});

after(async () => {
  await running.close();
  tmp.cleanup();
});

const issue = (name: string): Promise<IssuedLeaf> => issueLeaf(ca, running, name, tmp.path(`${name}.pem`));

function crlFile(name: string): string {
  const served = running.crl?.served();
  assert.ok(served);
  const file = tmp.path(name);
  writeFileSync(file, encodePem('X509 CRL', served.der));
  return file;
}

const verify = (leaf: string, ...extra: string[]) => signet(['certificate', 'verify', leaf, '--roots', tmp.path('root.pem'), '--intermediates', tmp.path('int.pem'), ...extra]);

test('good leaf: valid, checked against the CRL; revoked leaf: ERR_VERIFY_REVOKED with date and reason, as OpenSSL says', async () => {
  const good = await issue('good.verify-crl.example.com');
  const bad = await issue('bad.verify-crl.example.com');
  const revoked = await httpsRequest(ca, `${running.url}/revoke`, { cert: bad.pem, key: bad.key, body: { serial: bad.serial, reason: 'keyCompromise' } });
  assert.equal(revoked.status, 200, revoked.text);
  await running.publishRevocations();
  const crl = crlFile('ca.crl');

  const okRun = ok(verify(good.file, '--crl', crl));
  assert.match(okRun.stdout, /^ok: chain of 3 certificates valid at .* \(not revoked: 1 certificate checked against CRLs\)/);
  const json = JSON.parse(ok(verify(good.file, '--crl', crl, '--json')).stdout) as { chain: { revocation?: { status: string; crlNumber?: string } }[] };
  assert.equal(json.chain[0]?.revocation?.status, 'good');
  assert.ok(Number(json.chain[0]?.revocation?.crlNumber) >= 2);
  assert.equal(json.chain[1]?.revocation?.status, 'not checked', 'no CRL of the root was given');

  const r = verify(bad.file, '--crl', crl);
  fails(r, 1, 'ERR_VERIFY_REVOKED');
  assert.match(r.stderr, new RegExp(`certificate ${bad.serial} \\(CN=bad.verify-crl.example.com\\) was revoked at \\S+ \\(keyCompromise\\)`));
  const o = await runAsync('openssl', ['verify', '-crl_check', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), '-CRLfile', crl, bad.file]);
  assert.match(o.stdout + o.stderr, /certificate revoked/);
  // Without --crl, revocation is not checked (as openssl verify without -crl_check).
  ok(verify(bad.file));
});

test('no usable CRL: none of the issuer, another CA\'s, a forged one → ERR_VERIFY_CRL_MISSING; stale at --time → ERR_VERIFY_CRL_EXPIRED; not a CRL → ERR_CRL_MALFORMED', async () => {
  const leaf = await issue('missing.verify-crl.example.com');
  mkdirSync(tmp.path('other-parent'));
  const other = await createTestCa({ parent: tmp.path('other-parent'), name: 'Other CA' });
  const otherRunning = await startTestCa(other, { revocationIntervalMs: 3_600_000 });
  let otherCrl: Uint8Array;
  try {
    otherCrl = otherRunning.crl?.served()?.der ?? new Uint8Array(0);
  } finally {
    await otherRunning.close();
  }
  writeFileSync(tmp.path('other.crl'), otherCrl);
  fails(verify(leaf.file, '--crl', tmp.path('other.crl')), 1, 'ERR_VERIFY_CRL_MISSING');

  const mine = readFileSync(crlFile('mine.crl'), 'latin1');
  const der = Buffer.from(mine.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01; // the signature no longer verifies
  writeFileSync(tmp.path('forged.crl'), der);
  fails(verify(leaf.file, '--crl', tmp.path('forged.crl')), 1, 'ERR_VERIFY_CRL_MISSING');

  // The CRL is valid for an hour; the leaf for a day.
  ok(verify(leaf.file, '--crl', tmp.path('mine.crl'), '--time', '+50m'));
  const stale = verify(leaf.file, '--crl', tmp.path('mine.crl'), '--time', '+2h');
  fails(stale, 1, 'ERR_VERIFY_CRL_EXPIRED');
  assert.match(stale.stderr, /is not current at/);

  writeFileSync(tmp.path('junk.crl'), 'not a crl');
  fails(verify(leaf.file, '--crl', tmp.path('junk.crl')), 3, 'ERR_CRL_MALFORMED');
});

test('a CRL scoped to another distribution point (a sibling partition) does not cover the leaf: ERR_VERIFY_CRL_MISSING, as OpenSSL says; the one naming its point does', async () => {
  const leaf = await issue('scope.verify-crl.example.com');
  const issuer = parseCertificates(readFileSync(tmp.path('int.pem')))[0]!;
  const key = await loadPrivateKeyFile(ca.config.intermediate.key, { passwordFile: ca.passwordFile });
  const now = new Date();
  // The CA's intermediate key signs a CRL listing the leaf, scoped to another URL than the leaf's CDP.
  const sibling = signCrl(
    { issuerName: issuer.subject.der, issuerKeyIdentifier: issuer.ext.subjectKeyIdentifier!, number: 1000n, thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: new Date(now.getTime() + 600_000), url: 'http://127.0.0.1:1/crl/2' },
    [{ serial: leaf.serial, revokedAt: new Date(now.getTime() - 30_000), reason: 'keyCompromise' }],
    createSoftwareSigner(key),
  );
  writeFileSync(tmp.path('sibling.crl'), encodePem('X509 CRL', sibling));
  fails(verify(leaf.file, '--crl', tmp.path('sibling.crl')), 1, 'ERR_VERIFY_CRL_MISSING');
  const o = await runAsync('openssl', ['verify', '-crl_check', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), '-CRLfile', tmp.path('sibling.crl'), leaf.file]);
  assert.match(o.stdout + o.stderr, /different CRL scope/, 'OpenSSL refuses it for the same reason');
  // The same entry in a CRL naming the leaf's own distribution point counts.
  const own = signCrl(
    { issuerName: issuer.subject.der, issuerKeyIdentifier: issuer.ext.subjectKeyIdentifier!, number: 1001n, thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: new Date(now.getTime() + 600_000), url: 'http://127.0.0.1:1/crl' },
    [{ serial: leaf.serial, revokedAt: new Date(now.getTime() - 30_000), reason: 'keyCompromise' }],
    createSoftwareSigner(key),
  );
  writeFileSync(tmp.path('own.crl'), encodePem('X509 CRL', own));
  fails(verify(leaf.file, '--crl', tmp.path('sibling.crl'), '--crl', tmp.path('own.crl')), 1, 'ERR_VERIFY_REVOKED');
});
