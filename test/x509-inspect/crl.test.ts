/**
 * CRL parsing (RFC 5280 §5) against CRLs written by `openssl ca -gencrl`: fields compared with
 * what `openssl crl` prints, revoked entries with their reasons and invalidity dates, decoded
 * CRL extensions, signature verification, and malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { parseCrl, parseCrls, verifyCrlSignature } from '../../src/x509/crl.js';
import { parseCertificates } from '../../src/x509/certificate.js';
import { isSignetError } from '../../src/core/errors.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { toHex } from '../../src/core/bytes.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';
import { buildPki, opensslDer, REVOCATIONS } from './pki.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);
const pki = buildPki(tmp.dir);
const NAMEOPT = ['-nameopt', 'esc_2253,sep_comma_plus_space,sname,utf8'];

function field(out: string, name: string | RegExp): string {
  const line = out.split('\n').find((l) => (typeof name === 'string' ? l.startsWith(name + '=') : name.test(l)));
  assert.ok(line, `openssl printed no ${name}`);
  return line.slice(line.indexOf('=') + 1).trim();
}

const crlPem = readFileSync(pki.path('int.crl'), 'utf8');
const crl = parseCrl(decodePem(crlPem, ['X509 CRL']).der);
const [intCert] = parseCertificates(pki.read('int.crt'));
const [rootCert] = parseCertificates(pki.read('root.crt'));
assert.ok(intCert && rootCert);

test('header fields match openssl crl', () => {
  const out = opensslOk(['crl', '-in', pki.path('int.crl'), '-noout', '-issuer', '-lastupdate', '-nextupdate', '-crlnumber', '-fingerprint', '-sha256', ...NAMEOPT]);
  assert.equal(crl.version, 2);
  assert.equal(crl.issuer.text, field(out, 'issuer'));
  assert.equal(crl.thisUpdate.getTime(), new Date(field(out, 'lastUpdate')).getTime());
  assert.equal(crl.nextUpdate?.getTime(), new Date(field(out, 'nextUpdate')).getTime());
  assert.equal(`0x${crl.ext.crlNumber?.toString(16).toUpperCase()}`, field(out, 'crlNumber').toUpperCase().replace('0X', '0x'));
  assert.equal(crl.fingerprintSha256, field(out, /^(sha256|SHA2-256) Fingerprint=/i).replace(/:/g, '').toLowerCase());
  assert.equal(crl.signatureAlgorithm.oid, '1.2.840.113549.1.1.11');
  assert.deepEqual(crl.der, new Uint8Array(opensslDer('crl', pki.path('int.crl'))));
});

test('revoked entries carry serials, reasons and invalidity dates as openssl wrote them', () => {
  assert.equal(crl.revoked.length, REVOCATIONS.length);
  const text = opensslOk(['crl', '-in', pki.path('int.crl'), '-noout', '-text']);
  const serials = [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => (m[1] ?? '').toLowerCase());
  assert.deepEqual(crl.revoked.map((r) => r.serialHex), serials);
  for (const r of REVOCATIONS) {
    const [cert] = parseCertificates(pki.read(`${r.name}.crt`));
    assert.ok(cert);
    const entry = crl.revoked.find((e) => e.serialHex === cert.serialHex);
    assert.ok(entry, `${r.name} is listed`);
    assert.equal(entry.reason, r.reason);
    assert.equal(entry.invalidityDate?.toISOString(), r.invalidity);
    assert.ok(entry.revocationDate.getTime() <= crl.thisUpdate.getTime());
  }
  const hold = crl.revoked.find((e) => e.reason === 'certificateHold');
  assert.ok(hold);
  assert.equal(hold.reasonCode, 6);
  // holdInstructionCode is not modelled, but it is kept as a raw entry extension.
  assert.ok(hold.extensions.some((e) => e.oid === '2.5.29.23'));
});

test('the leaf serial keeps its value without the DER sign octet', () => {
  const [leaf] = parseCertificates(pki.read('leaf.crt'));
  assert.ok(leaf);
  assert.equal(leaf.serialHex, 'ab54fd3a0a25dfe2531cd3');
  assert.ok(crl.revoked.some((e) => e.serialHex === 'ab54fd3a0a25dfe2531cd3' && e.serialNumber[0] === 0));
});

test('crl extensions: authority key identifier and issuing distribution point', () => {
  assert.equal(toHex(crl.ext.authorityKeyIdentifier?.keyIdentifier ?? new Uint8Array()), toHex(intCert.ext.subjectKeyIdentifier ?? new Uint8Array(1)));
  const idp = crl.ext.issuingDistributionPoint;
  assert.ok(idp);
  assert.deepEqual(idp.fullName?.map((n) => [n.type, n.value]), [['uri', 'http://crl.example.com/int.crl']]);
  assert.equal(idp.onlyContainsUserCerts, true);
  assert.equal(idp.onlyContainsCACerts, false);
  assert.equal(idp.indirectCRL, false);
  assert.equal(crl.extensions.find((e) => e.oid === '2.5.29.28')?.critical, true);
  assert.equal(crl.extensionErrors.size, 0);
});

test('a delta crl carries its base crl number', () => {
  const delta = parseCrls(pki.read('delta.crl'))[0];
  assert.ok(delta);
  assert.equal(delta.ext.deltaCrlIndicator, 4095n);
  assert.equal(delta.ext.crlNumber, (crl.ext.crlNumber ?? 0n) + 1n);
  assert.equal(delta.extensions.find((e) => e.oid === '2.5.29.27')?.critical, true);
});

test('a v1 crl without entries or extensions', () => {
  const [v1] = parseCrls(pki.read('root-v1.crl'));
  assert.ok(v1);
  assert.equal(v1.version, 1);
  assert.equal(v1.revoked.length, 0);
  assert.equal(v1.extensions.length, 0);
  assert.equal(v1.issuer.text, rootCert.subject.text);
  assert.equal(v1.signatureAlgorithm.oid, '1.2.840.10045.4.3.2');
  assert.equal(verifyCrlSignature(v1, rootCert), true);
});

test('signature verification: the issuer verifies, another key and a tampered crl do not', () => {
  assert.equal(verifyCrlSignature(crl, intCert), true);
  assert.equal(verifyCrlSignature(crl, createPublicKey(pki.read('int.key'))), true);
  assert.equal(verifyCrlSignature(crl, rootCert), false);
  const der = Uint8Array.from(crl.der);
  // Flip a byte inside the issuer name (part of the TBS) without changing the structure.
  const at = Buffer.from(der).indexOf(Buffer.from('Test Int'));
  assert.ok(at > 0);
  der[at] = 'X'.charCodeAt(0);
  const tampered = parseCrl(der);
  assert.equal(tampered.issuer.text.startsWith('CN=Xest Int'), true);
  assert.equal(verifyCrlSignature(tampered, intCert), false);
});

test('parseCrls reads every X509 CRL block, in order, and plain DER', () => {
  const both = crlPem + readFileSync(pki.path('delta.crl'), 'utf8');
  const all = parseCrls(both);
  assert.equal(all.length, 2);
  assert.equal(all[1]?.ext.deltaCrlIndicator, 4095n);
  assert.equal(parseCrls(crl.der)[0]?.fingerprintSha256, crl.fingerprintSha256);
  assert.throws(() => parseCrls(readFileSync(pki.path('root.crt'), 'utf8')), (e) => isSignetError(e, 'ERR_PEM_UNEXPECTED_TYPE'));
});

test('malformed input is ERR_CRL_MALFORMED', () => {
  const bad: Array<[string, Uint8Array]> = [
    ['garbage', Uint8Array.from([1, 2, 3, 4, 5])],
    ['truncated', crl.der.subarray(0, crl.der.length - 10)],
    ['trailing bytes', Uint8Array.from([...crl.der, 0])],
    ['a certificate', rootCert.der],
    ['empty sequence', Uint8Array.from([0x30, 0x00])],
  ];
  for (const [what, der] of bad) {
    assert.throws(() => parseCrl(der), (e) => isSignetError(e, 'ERR_CRL_MALFORMED'), what);
  }
  assert.throws(() => parseCrls(encodePem('X509 CRL', Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01]))), (e) => isSignetError(e, 'ERR_CRL_MALFORMED'));
  assert.throws(() => parseCrls('-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n'), (e) => isSignetError(e, 'ERR_PEM_MALFORMED'));
});
