/**
 * The library's public surface (src/index.ts) used the way an integrator would: generate keys,
 * issue a root → intermediate → leaf chain through profiles, lint before signing, verify the
 * chain, and check the result with OpenSSL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as signet from '../../src/index.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

test('a chain built only through the public API is linted, verified by Signet and by OpenSSL', () => {
  const now = new Date();
  const rootSigner = signet.createSoftwareSigner(signet.generateKey('p256').privateKey);
  const rootSpec = signet.specFromProfile('root-ca', { subject: signet.parseDistinguishedName('CN=API Root,O=Example'), publicKey: rootSigner.publicKey, now });
  const rootTbs = signet.buildTbsCertificate(rootSpec, undefined, rootSigner.algorithm);
  signet.assertLintClean(signet.lintTbsCertificate(rootTbs, { profile: 'root-ca', now }));
  const rootDer = signet.signTbsCertificate(rootTbs, rootSigner);
  const root = signet.parseCertificate(rootDer);

  const intSigner = signet.createSoftwareSigner(signet.generateKey('ed25519').privateKey);
  const intDer = signet.issueCertificate(
    signet.specFromProfile('intermediate-ca', { subject: signet.parseDistinguishedName('CN=API Issuing'), publicKey: intSigner.publicKey, now, permitted: [{ type: 'dns', value: 'example.com' }] }),
    rootSigner,
    signet.issuerFromCertificate(rootDer),
  );
  const leafKey = signet.generateKey('p384');
  const leafDer = signet.issueCertificate(
    signet.specFromProfile('leaf', { subject: signet.parseDistinguishedName('CN=api.example.com'), publicKey: leafKey.publicKey, now, sans: [signet.parseGeneralName('api.example.com')] }),
    intSigner,
    signet.issuerFromCertificate(intDer),
  );
  const leaf = signet.parseCertificate(leafDer);
  const intermediate = signet.parseCertificate(intDer);
  assert.equal(signet.lintCertificate(leaf, { now }).errors, 0);
  const result = signet.verifyChain(leaf, { roots: [root], intermediates: [intermediate], time: now, host: 'api.example.com', purpose: 'server' });
  assert.deepEqual(result.chain.map((c) => c.subject.text), ['CN=api.example.com', 'CN=API Issuing', 'O=Example, CN=API Root']);
  assert.throws(() => signet.verifyChain(leaf, { roots: [root], intermediates: [intermediate], time: now, host: 'other.example.com' }), (e) => signet.isSignetError(e, 'ERR_VERIFY_HOSTNAME'));

  const tmp = tempDir();
  try {
    writeFileSync(tmp.path('root.pem'), signet.encodePem('CERTIFICATE', rootDer));
    writeFileSync(tmp.path('int.pem'), signet.encodePem('CERTIFICATE', intDer));
    writeFileSync(tmp.path('leaf.pem'), signet.encodePem('CERTIFICATE', leafDer));
    opensslOk(['verify', '-CAfile', tmp.path('root.pem'), '-untrusted', tmp.path('int.pem'), '-purpose', 'sslserver', '-verify_hostname', 'api.example.com', tmp.path('leaf.pem')]);
  } finally {
    tmp.cleanup();
  }
});

test('the public surface names its exports and runs nothing at import time', () => {
  for (const name of ['generateKey', 'issueCertificate', 'parseCertificate', 'verifyChain', 'lintCertificate', 'parseCsr', 'parseCrl', 'renderTemplate', 'SignetError', 'parseSpiffeId', 'parseBundle', 'validateJwtSvid']) {
    assert.equal(typeof (signet as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(typeof signet.VERSION, 'string');
});
