/**
 * The CRL writer against OpenSSL: `openssl ca -gencrl` signs a CRL from an index of revoked
 * certificates; Signet's writer, given the same issuer, times, number, URL and entries, must
 * produce the same TBSCertList byte for byte (ECDSA signatures differ run to run, so the signed
 * part is what is compared), and OpenSSL must verify the CRL Signet signs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { buildTbsCrl, signCrl, type CrlEntryInput } from '../../src/x509/crl-builder.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { parseCrl, verifyCrlSignature } from '../../src/x509/crl.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { opensslOk, openssl, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-crl-builder-');
const URL_ = 'http://crl.example.com/ca/crl';
let caDer: Uint8Array;
let keyPem: string;

before(() => {
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmp.path('ca.key'), '-out', tmp.path('ca.crt'), '-subj', '/C=DE/O=Signet Test/CN=CRL Issuer', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash']);
  caDer = decodePem(readFileSync(tmp.path('ca.crt'), 'latin1'), ['CERTIFICATE']).der;
  keyPem = readFileSync(tmp.path('ca.key'), 'latin1');
});

after(() => tmp.cleanup());

/** YYMMDDHHMMSSZ (index.txt) or YYYYMMDDHHMMSSZ. */
function stamp(d: Date, digits: 2 | 4): string {
  const iso = d.toISOString();
  const s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  return digits === 2 ? s.slice(2) : s;
}

function caConfig(dir: string, withIdp: boolean): string {
  return `[ca]
default_ca = CA_default
[CA_default]
database = ${join(dir, 'index.txt')}
crlnumber = ${join(dir, 'crlnumber')}
default_md = sha256
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
${withIdp ? 'issuingDistributionPoint = critical, @idp' : ''}
[idp]
fullname = URI:${URL_}
onlyuser = TRUE
`;
}

/** The CRL `openssl ca -gencrl` signs for `entries` (index.txt lines), DER. */
function opensslCrl(name: string, entries: readonly CrlEntryInput[], number: bigint, thisUpdate: Date, nextUpdate: Date, withIdp: boolean): Uint8Array {
  const dir = tmp.path(name);
  mkdirSync(dir);
  const expiry = stamp(new Date(Date.UTC(2030, 0, 1)), 2);
  const reasonPart = (e: CrlEntryInput): string => {
    if (e.reason === undefined) return '';
    // index.txt writes a key compromise with its time as "keyTime" (OpenSSL's unpack_revinfo).
    if (e.invalidAt !== undefined) return `,${e.reason === 'keyCompromise' ? 'keyTime' : 'CAkeyTime'},${stamp(e.invalidAt, 4)}`;
    return `,${e.reason}`;
  };
  const lines = entries.map((e) => `R\t${expiry}\t${stamp(e.revokedAt, 2)}${reasonPart(e)}\t${e.serial.toUpperCase()}\tunknown\t/CN=${e.serial}\n`);
  writeFileSync(join(dir, 'index.txt'), lines.join(''));
  writeFileSync(join(dir, 'crlnumber'), `${number.toString(16).toUpperCase().padStart(2, '0')}\n`);
  writeFileSync(join(dir, 'ca.cnf'), caConfig(dir, withIdp));
  opensslOk(['ca', '-config', join(dir, 'ca.cnf'), '-gencrl', '-keyfile', tmp.path('ca.key'), '-cert', tmp.path('ca.crt'), '-out', join(dir, 'crl.pem'),
    '-crl_lastupdate', stamp(thisUpdate, 4), '-crl_nextupdate', stamp(nextUpdate, 4)]);
  return decodePem(readFileSync(join(dir, 'crl.pem'), 'latin1'), ['X509 CRL']).der;
}

const thisUpdate = new Date(Date.UTC(2026, 10, 24, 8, 0, 0));
const nextUpdate = new Date(Date.UTC(2026, 10, 25, 8, 0, 0));
const signer = () => createSoftwareSigner(createPrivateKey(keyPem));

test('the TBSCertList equals OpenSSL\'s byte for byte: entries with and without reasons, an invalidity date, a serial with its top bit set, IDP and AKI and number', () => {
  const issuer = issuerFromCertificate(caDer);
  // OpenSSL sorts entries by serial (shorter INTEGERs first); so does this list.
  const entries: CrlEntryInput[] = [
    { serial: '01', revokedAt: new Date(Date.UTC(2026, 10, 20, 1, 2, 3)) },
    { serial: '1f3a', revokedAt: new Date(Date.UTC(2026, 10, 21, 4, 5, 6)), reason: 'superseded' },
    { serial: 'c0ffee0000000000000001', revokedAt: new Date(Date.UTC(2026, 10, 23, 10, 11, 12)), reason: 'cessationOfOperation' },
    { serial: '7fffffffffffffffffffffffffffffffffffffff', revokedAt: new Date(Date.UTC(2026, 10, 22, 7, 8, 9)), reason: 'keyCompromise', invalidAt: new Date(Date.UTC(2026, 10, 19, 0, 0, 0)) },
  ];
  for (const [label, withIdp, number] of [['with IDP', true, 0x1234n], ['without IDP', false, 1n]] as const) {
    const theirs = parseCrl(opensslCrl(`crl-${number}`, entries, number, thisUpdate, nextUpdate, withIdp));
    const ours = buildTbsCrl({ issuerName: issuer.name, issuerKeyIdentifier: issuer.keyIdentifier as Uint8Array, number, thisUpdate, nextUpdate, ...(withIdp && { url: URL_ }) }, entries, signer());
    assert.equal(Buffer.from(ours).toString('hex'), Buffer.from(theirs.tbs).toString('hex'), label);
  }
});

test('a CRL without entries leaves revokedCertificates out, like OpenSSL', () => {
  const issuer = issuerFromCertificate(caDer);
  const theirs = parseCrl(opensslCrl('crl-empty', [], 7n, thisUpdate, nextUpdate, true));
  const ours = buildTbsCrl({ issuerName: issuer.name, issuerKeyIdentifier: issuer.keyIdentifier as Uint8Array, number: 7n, thisUpdate, nextUpdate, url: URL_ }, [], signer());
  assert.equal(Buffer.from(ours).toString('hex'), Buffer.from(theirs.tbs).toString('hex'));
});

test('OpenSSL verifies the CRL Signet signs and reads its entries, reasons and extensions', () => {
  const issuer = issuerFromCertificate(caDer);
  const entries: CrlEntryInput[] = [
    { serial: '0a', revokedAt: new Date(Date.UTC(2026, 10, 20)), reason: 'keyCompromise', invalidAt: new Date(Date.UTC(2026, 10, 19)) },
    { serial: '0b', revokedAt: new Date(Date.UTC(2026, 10, 21)), reason: 'unspecified' },
  ];
  const der = signCrl({ issuerName: issuer.name, issuerKeyIdentifier: issuer.keyIdentifier as Uint8Array, number: 42n, thisUpdate, nextUpdate, url: URL_ }, entries, signer());
  writeFileSync(tmp.path('ours.crl'), encodePem('X509 CRL', der));
  const r = openssl(['crl', '-in', tmp.path('ours.crl'), '-CAfile', tmp.path('ca.crt'), '-verify', '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /verify OK/);
  assert.match(r.stdout, /X509v3 CRL Number:\s+42/);
  assert.match(r.stdout, /X509v3 Issuing Distribution Point: critical\s+Full Name:\s+URI:http:\/\/crl\.example\.com\/ca\/crl\s+Only User Certificates/);
  assert.match(r.stdout, /Serial Number: 0A[\s\S]*Key Compromise[\s\S]*Invalidity Date/);
  // unspecified is left out (RFC 5280 §5.3.1), so entry 0B has no extensions at all.
  assert.doesNotMatch(r.stdout, /Serial Number: 0B\s+Revocation Date: [^\n]+\n\s+CRL entry extensions/);
  const parsed = parseCrl(der);
  assert.equal(parsed.ext.crlNumber, 42n);
  assert.ok(verifyCrlSignature(parsed, parseCertificate(caDer)));
});

test('a big CRL is written in one pass: 100,000 entries parse back in order with their reasons', () => {
  const issuer = issuerFromCertificate(caDer);
  const entries: CrlEntryInput[] = Array.from({ length: 100_000 }, (_, i) => ({
    serial: (0x8000000000000000n + BigInt(i)).toString(16),
    revokedAt: new Date(thisUpdate.getTime() - (i % 7) * 1000),
    ...(i % 3 === 0 ? { reason: 'keyCompromise' } : {}),
  }));
  const der = signCrl({ issuerName: issuer.name, issuerKeyIdentifier: issuer.keyIdentifier as Uint8Array, number: 2n, thisUpdate, nextUpdate }, entries, signer());
  const parsed = parseCrl(der);
  assert.equal(parsed.revoked.length, 100_000);
  assert.equal(parsed.revoked[99_999]?.serialHex, entries[99_999]?.serial);
  assert.equal(parsed.revoked[3]?.reason, 'keyCompromise');
  assert.equal(parsed.revoked[4]?.reason, undefined);
  assert.equal(parsed.revoked[5]?.revocationDate.getTime(), thisUpdate.getTime() - 5000);
  assert.ok(verifyCrlSignature(parsed, parseCertificate(caDer)));
});
