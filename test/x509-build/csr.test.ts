/**
 * CSRs both ways with OpenSSL as the peer: Signet's requests pass `openssl req -verify`; requests
 * OpenSSL makes (EC, RSA, RSA-PSS keys and PSS signatures, Ed25519) parse and verify in Signet;
 * tampered and garbage input fail with specific codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { rsaPssAlgorithm } from '../../src/crypto/signature.js';
import { buildCsr, isCsrSignatureValid, parseCsr, verifyCsrSignature } from '../../src/x509/csr.js';
import { parseSubject } from '../../src/x509/name.js';
import { OID } from '../../src/x509/oids.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-csr-');
process.on('exit', () => tmp.cleanup());

const KEYS: Record<string, KeyObject> = {
  'P-256': generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
  'P-384': generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey,
  Ed25519: generateKeyPairSync('ed25519').privateKey,
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  'RSA-PSS': generateKeyPairSync('rsa-pss', { modulusLength: 2048, hashAlgorithm: 'sha256', mgf1HashAlgorithm: 'sha256' }).privateKey,
};

function keyFile(name: string): string {
  const path = tmp.path(`${name.replace(/\W/g, '')}.key`);
  writeFileSync(path, KEYS[name]?.export({ format: 'pem', type: 'pkcs8' }) as string);
  return path;
}

const CNF = tmp.path('req.cnf');
writeFileSync(CNF, '[req]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\n[dn]\n');

const code = (c: string) => (e: unknown): boolean => isSignetError(e, c as Parameters<typeof isSignetError>[1]);

test('Signet CSRs pass openssl req -verify for P-256, P-384, Ed25519, RSA, RSA-PSS', () => {
  for (const [name, key] of Object.entries(KEYS)) {
    const signer = name === 'RSA-PSS' ? createSoftwareSigner(key, rsaPssAlgorithm('sha256')) : createSoftwareSigner(key);
    const der = buildCsr(
      {
        subject: parseSubject(`/O=Example/CN=${name}.example.com`),
        extensions: {
          subjectAltName: {
            names: [
              { type: 'dns', value: `${name.toLowerCase()}.example.com` },
              { type: 'ip', value: '2001:db8::5' },
              { type: 'email', value: 'pki@example.com' },
              { type: 'uri', value: 'spiffe://example.com/x' },
            ],
          },
        },
      },
      signer,
    );
    const path = tmp.path(`signet-${name}.csr`);
    writeFileSync(path, encodePem('CERTIFICATE REQUEST', der));
    const r = opensslOk(['req', '-in', path, '-verify', '-noout', '-text']);
    assert.match(r, /DNS:.*example\.com, IP Address:2001:DB8:0:0:0:0:0:5, email:pki@example.com, URI:spiffe:\/\/example.com\/x/);
    const parsed = parseCsr(der);
    assert.ok(isCsrSignatureValid(parsed), name);
    assert.equal(parsed.subjectText, `CN=${name}.example.com,O=Example`);
  }
});

test('OpenSSL CSRs (EC, RSA, RSA-PSS key, PSS signature on an RSA key, Ed25519) parse and verify', () => {
  const cases: [string, string[], string][] = [
    ['P-256', [], 'ecdsaWithSHA256'],
    ['P-384', ['-sha384'], 'ecdsaWithSHA384'],
    ['RSA', [], 'sha256WithRSAEncryption'],
    ['RSA', ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], 'rsassaPss'],
    ['RSA-PSS', [], 'rsassaPss'],
    ['Ed25519', [], 'Ed25519'],
  ];
  for (const [name, extra, alg] of cases) {
    const out = tmp.path(`openssl-${name}-${extra.length}.csr`);
    opensslOk([
      'req', '-new', '-config', CNF, '-key', keyFile(name), ...extra,
      '-subj', '/C=DE/O=Example Org/CN=from openssl',
      '-addext', 'subjectAltName = DNS:a.example.com, IP:192.0.2.7, email:x@example.com, URI:https://example.com/',
      '-addext', 'keyUsage = critical, digitalSignature',
      '-out', out,
    ]);
    const csr = parseCsr(readFileSync(out));
    assert.equal(csr.signatureAlgorithm.name, alg, name);
    verifyCsrSignature(csr);
    assert.equal(csr.subjectText, 'CN=from openssl,O=Example Org,C=DE');
    assert.deepEqual(csr.subjectAltNames, [
      { type: 'dns', value: 'a.example.com' },
      { type: 'ip', value: '192.0.2.7' },
      { type: 'email', value: 'x@example.com' },
      { type: 'uri', value: 'https://example.com/' },
    ]);
    assert.deepEqual(
      csr.extensions.map((e) => [e.oid, e.critical]),
      [
        [OID.subjectAltName, false],
        [OID.keyUsage, true],
      ],
    );
    // DER input works as well as PEM.
    assert.equal(parseCsr(csr.der).subjectText, csr.subjectText);
  }
});

test('a corrupted signature or a changed subject is ERR_CSR_SIGNATURE_INVALID', () => {
  const signer = createSoftwareSigner(KEYS['P-256'] as KeyObject);
  const der = buildCsr({ subject: parseSubject('CN=victim.example.com') }, signer);
  const badSig = der.slice();
  badSig[badSig.length - 5] = (badSig[badSig.length - 5] as number) ^ 0x01;
  assert.throws(() => verifyCsrSignature(parseCsr(badSig)), code('ERR_CSR_SIGNATURE_INVALID'));
  const badSubject = der.slice();
  const i = Buffer.from(badSubject).indexOf('victim');
  badSubject[i] = 'V'.charCodeAt(0);
  assert.equal(isCsrSignatureValid(parseCsr(badSubject)), false);
  const ed = buildCsr({ subject: parseSubject('CN=ed') }, createSoftwareSigner(KEYS.Ed25519 as KeyObject));
  const edBad = ed.slice();
  edBad[edBad.length - 1] = (edBad[edBad.length - 1] as number) ^ 0x80;
  assert.throws(() => verifyCsrSignature(parseCsr(edBad)), code('ERR_CSR_SIGNATURE_INVALID'));
});

test('garbage is ERR_CSR_MALFORMED / ERR_PEM_MALFORMED / ERR_PEM_UNEXPECTED_TYPE', () => {
  const good = buildCsr({ subject: parseSubject('CN=x') }, createSoftwareSigner(KEYS['P-256'] as KeyObject));
  assert.throws(() => parseCsr(Uint8Array.of(1, 2, 3, 4)), code('ERR_CSR_MALFORMED'));
  assert.throws(() => parseCsr(good.subarray(0, good.length - 10)), code('ERR_CSR_MALFORMED'));
  assert.throws(() => parseCsr(Uint8Array.from([...good, 0])), code('ERR_CSR_MALFORMED'));
  assert.throws(() => parseCsr(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), code('ERR_CSR_MALFORMED'));
  assert.throws(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n'), code('ERR_PEM_MALFORMED'));
  assert.throws(() => parseCsr(encodePem('CERTIFICATE', good)), code('ERR_PEM_UNEXPECTED_TYPE'));
  assert.throws(() => parseCsr(encodePem('CERTIFICATE REQUEST', Uint8Array.of(0x30, 0x00))), code('ERR_CSR_MALFORMED'));
  // NEW CERTIFICATE REQUEST (old Netscape/Microsoft label) is accepted.
  assert.equal(parseCsr(encodePem('NEW CERTIFICATE REQUEST', good)).subjectText, 'CN=x');
});

test('attributes: extensionRequest is written only with extensions; extra attributes are kept', () => {
  const signer = createSoftwareSigner(KEYS.Ed25519 as KeyObject);
  const plain = parseCsr(buildCsr({ subject: parseSubject('CN=p') }, signer));
  assert.deepEqual(plain.attributes, []);
  const pw = Uint8Array.from(Buffer.from('0c06736563726574', 'hex'));
  const withAttr = parseCsr(buildCsr({ subject: parseSubject('CN=p'), extensions: {}, attributes: [{ oid: OID.challengePassword, values: [pw] }] }, signer));
  assert.deepEqual(
    withAttr.attributes.map((a) => a.oid),
    [OID.challengePassword],
  );
  verifyCsrSignature(withAttr);
});
