/**
 * Byte-for-byte equivalence with OpenSSL (STYLE.md habit 7: vectors over hand-made expectations).
 *
 * Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic, so a certificate Signet builds from
 * the same key, serial, subject, validity and extensions as `openssl ca` must be the identical
 * byte string — signature included. `openssl ca` is used because it takes explicit
 * -startdate/-enddate and writes extensions in config order; SKI/AKI are listed explicitly (or
 * `none`) because OpenSSL 3 adds them on its own otherwise. ECDSA signatures are randomized, so
 * for P-256 the TBSCertificate is compared instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { decodePem } from '../../src/core/pem.js';
import { toHex } from '../../src/core/bytes.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { ecdsaAlgorithm } from '../../src/crypto/signature.js';
import { buildTbsCertificate, issueCertificate, issuerFromCertificate, type CertificateSpec } from '../../src/x509/certificate-builder.js';
import { buildCsr } from '../../src/x509/csr.js';
import { children, readSingle } from '../../src/x509/der-reader.js';
import type { ExtensionsSpec } from '../../src/x509/extensions.js';
import { parseSubject } from '../../src/x509/name.js';
import { fromHex } from '../../src/core/bytes.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-equiv-');
process.on('exit', () => tmp.cleanup());

function writeKey(name: string, key: KeyObject): string {
  const path = tmp.path(name);
  writeFileSync(path, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return path;
}

const rootKey = generateKeyPairSync('ed25519').privateKey;
const leafKey = generateKeyPairSync('ed25519').privateKey;
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const p256Key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const KEYS = { root: rootKey, leaf: leafKey, rsa: rsaKey, p256: p256Key } as const;
type KeyName = keyof typeof KEYS;
const KEY_FILES: Record<KeyName, string> = {
  root: writeKey('root.key', rootKey),
  leaf: writeKey('leaf.key', leafKey),
  rsa: writeKey('rsa.key', rsaKey),
  p256: writeKey('p256.key', p256Key),
};

const BASE_CONFIG = `
[ca]
default_ca = CA_default
[CA_default]
database = ${tmp.path('index.txt')}
new_certs_dir = ${tmp.dir}
serial = ${tmp.path('serial.txt')}
policy = policy_any
default_md = default
unique_subject = no
copy_extensions = none
string_mask = utf8only
email_in_dn = yes
[policy_any]
[req]
distinguished_name = req_dn
string_mask = utf8only
prompt = no
[req_dn]
[dir_sect]
C = DE
O = Example Dir
CN = Directory Name
`;

interface Case {
  readonly name: string;
  /** OpenSSL -subj (slash form); Signet parses the same text with parseSubject. */
  readonly subj: string;
  readonly serial: string;
  readonly start: string;
  readonly end: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly ext: string;
  readonly extensions: ExtensionsSpec;
  /** `self` = self-signed by `key`; otherwise the name of the case whose certificate signs it. */
  readonly issuer: string;
  readonly key: KeyName;
  /** Key of the issuing case (for CA-signed cases). */
  readonly issuerKey?: KeyName;
}

const NO_KID = 'subjectKeyIdentifier = none\nauthorityKeyIdentifier = none\n';

const CASES: readonly Case[] = [
  {
    name: 'root',
    subj: '/C=DE/O=Example Org/CN=Example Root CA',
    serial: '0123456789ABCDEF0123',
    start: '250101000000Z',
    end: '350101000000Z',
    notBefore: '2025-01-01T00:00:00Z',
    notAfter: '2035-01-01T00:00:00Z',
    ext: 'basicConstraints = critical,CA:TRUE\nkeyUsage = critical,digitalSignature,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n',
    extensions: {
      basicConstraints: { ca: true },
      keyUsage: { usages: ['digitalSignature', 'keyCertSign', 'cRLSign'] },
      subjectKeyIdentifier: 'auto',
      authorityKeyIdentifier: 'auto',
    },
    issuer: 'self',
    key: 'root',
  },
  {
    name: 'intermediate with name constraints, AIA, CRL DP, policies',
    subj: '/C=DE/O=Example Org/OU=Issuing/CN=Example Issuing CA 1',
    serial: '8A1B2C3D4E5F60718293A4B5C6D7E8F9',
    start: '250201000000Z',
    end: '300201000000Z',
    notBefore: '2025-02-01T00:00:00Z',
    notAfter: '2030-02-01T00:00:00Z',
    ext:
      'basicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' +
      'nameConstraints = critical,permitted;DNS:example.com,permitted;DNS:.internal.example,permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:2001:db8::/ffff:ffff::,' +
      'permitted;email:example.com,permitted;email:.example.com,permitted;URI:.example.com,excluded;DNS:bad.example.com,excluded;IP:10.99.0.0/255.255.0.0,' +
      'excluded;email:root@example.com,excluded;URI:evil.example.com\n' +
      'authorityInfoAccess = OCSP;URI:http://ocsp.example.com/,caIssuers;URI:http://ca.example.com/root.crt\n' +
      'crlDistributionPoints = URI:http://crl.example.com/root.crl,URI:http://crl2.example.com/root.crl\n' +
      'certificatePolicies = 2.23.140.1.2.1,1.3.6.1.4.1.99999.1\n',
    extensions: {
      basicConstraints: { ca: true, pathLen: 0 },
      keyUsage: { usages: ['keyCertSign', 'cRLSign'] },
      subjectKeyIdentifier: 'auto',
      authorityKeyIdentifier: 'auto',
      nameConstraints: {
        permitted: [
          { type: 'dns', value: 'example.com' },
          { type: 'dns', value: '.internal.example' },
          { type: 'ip', value: '10.0.0.0/8' },
          { type: 'ip', value: '2001:db8::/32' },
          { type: 'email', value: 'example.com' },
          { type: 'email', value: '.example.com' },
          { type: 'uri', value: '.example.com' },
        ],
        excluded: [
          { type: 'dns', value: 'bad.example.com' },
          { type: 'ip', value: '10.99.0.0/255.255.0.0' },
          { type: 'email', value: 'root@example.com' },
          { type: 'uri', value: 'evil.example.com' },
        ],
      },
      authorityInfoAccess: { ocsp: ['http://ocsp.example.com/'], caIssuers: ['http://ca.example.com/root.crt'] },
      crlDistributionPoints: ['http://crl.example.com/root.crl', 'http://crl2.example.com/root.crl'],
      certificatePolicies: ['2.23.140.1.2.1', '1.3.6.1.4.1.99999.1'],
    },
    issuer: 'root',
    issuerKey: 'root',
    key: 'leaf',
  },
  {
    name: 'leaf with every SAN type, EKU, KU, SKI/AKI',
    subj: '/CN=www.example.com',
    serial: '7F00000000000000000000000000000001',
    start: '250301120000Z',
    end: '250302120000Z',
    notBefore: '2025-03-01T12:00:00Z',
    notAfter: '2025-03-02T12:00:00Z',
    ext:
      'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = serverAuth,clientAuth,codeSigning,emailProtection,timeStamping,OCSPSigning,1.3.6.1.4.1.99999.7\n' +
      'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n' +
      'subjectAltName = DNS:www.example.com,DNS:*.example.com,IP:192.0.2.10,IP:2001:db8::1,IP:::ffff:10.0.0.1,email:ops@example.com,URI:spiffe://example.com/ns/default/sa/web,dirName:dir_sect\n' +
      'authorityInfoAccess = OCSP;URI:http://ocsp.example.com/\ncrlDistributionPoints = URI:http://crl.example.com/issuing.crl\n',
    extensions: {
      basicConstraints: { ca: false },
      keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] },
      extKeyUsage: { usages: ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping', 'OCSPSigning', '1.3.6.1.4.1.99999.7'] },
      subjectKeyIdentifier: 'auto',
      authorityKeyIdentifier: 'auto',
      subjectAltName: {
        names: [
          { type: 'dns', value: 'www.example.com' },
          { type: 'dns', value: '*.example.com' },
          { type: 'ip', value: '192.0.2.10' },
          { type: 'ip', value: '2001:db8::1' },
          { type: 'ip', value: '::ffff:10.0.0.1' },
          { type: 'email', value: 'ops@example.com' },
          { type: 'uri', value: 'spiffe://example.com/ns/default/sa/web' },
          { type: 'dirName', value: parseSubject('/C=DE/O=Example Dir/CN=Directory Name') },
        ],
      },
      authorityInfoAccess: { ocsp: ['http://ocsp.example.com/'] },
      crlDistributionPoints: ['http://crl.example.com/issuing.crl'],
    },
    issuer: 'root',
    issuerKey: 'root',
    key: 'leaf',
  },
  {
    name: 'subject string types: UTF-8, country, e-mail, DC, serialNumber, multi-valued RDN',
    subj: '/DC=com/DC=example/C=DE/ST=Baden-Württemberg/L=Stuttgart/O=Müller & Söhne, Ltd./OU=Eng+OU=Ops/CN=日本語 名前/serialNumber=A1234/emailAddress=pki@example.com/UID=jdoe',
    serial: '01',
    start: '250401000000Z',
    end: '250402000000Z',
    notBefore: '2025-04-01T00:00:00Z',
    notAfter: '2025-04-02T00:00:00Z',
    ext: NO_KID + 'basicConstraints = CA:FALSE\nkeyUsage = digitalSignature,nonRepudiation,dataEncipherment,keyAgreement,encipherOnly,decipherOnly\n',
    extensions: {
      basicConstraints: { ca: false, critical: false },
      keyUsage: { usages: ['digitalSignature', 'nonRepudiation', 'dataEncipherment', 'keyAgreement', 'encipherOnly', 'decipherOnly'], critical: false },
    },
    issuer: 'self',
    key: 'leaf',
  },
  {
    name: 'validity across 2050: UTCTime then GeneralizedTime',
    subj: '/CN=long lived',
    serial: '00FF',
    start: '491231235959Z',
    end: '20500101000000Z',
    notBefore: '2049-12-31T23:59:59Z',
    notAfter: '2050-01-01T00:00:00Z',
    ext: NO_KID + 'basicConstraints = critical,CA:TRUE,pathlen:7\nkeyUsage = critical,keyCertSign\n',
    extensions: { basicConstraints: { ca: true, pathLen: 7 }, keyUsage: { usages: ['keyCertSign'] } },
    issuer: 'self',
    key: 'root',
  },
  {
    name: 'empty subject with critical SAN, unknown and critical extra extensions',
    subj: '/',
    serial: '4000000000000000000000000000000000000001',
    start: '250501000000Z',
    end: '20991231235959Z',
    notBefore: '2025-05-01T00:00:00Z',
    notAfter: '2099-12-31T23:59:59Z',
    ext: NO_KID + 'subjectAltName = critical,DNS:only-san.example\n1.3.6.1.4.1.99999.42 = critical,DER:05:00\n1.3.6.1.4.1.99999.43 = DER:0C:02:68:69\n',
    extensions: {
      subjectAltName: { names: [{ type: 'dns', value: 'only-san.example' }], critical: true },
      extra: [
        { oid: '1.3.6.1.4.1.99999.42', critical: true, value: Uint8Array.of(0x05, 0x00) },
        { oid: '1.3.6.1.4.1.99999.43', value: Uint8Array.of(0x0c, 0x02, 0x68, 0x69) },
      ],
    },
    issuer: 'self',
    key: 'leaf',
  },
  {
    name: 'RSA-2048 self-signed (deterministic PKCS#1 v1.5)',
    subj: '/C=US/O=RSA Example/CN=rsa.example.com',
    serial: 'DEADBEEF',
    start: '250601000000Z',
    end: '260601000000Z',
    notBefore: '2025-06-01T00:00:00Z',
    notAfter: '2026-06-01T00:00:00Z',
    ext: 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = none\nsubjectAltName = DNS:rsa.example.com\n',
    extensions: {
      basicConstraints: { ca: false },
      keyUsage: { usages: ['digitalSignature', 'keyEncipherment'] },
      extKeyUsage: { usages: ['serverAuth'] },
      subjectKeyIdentifier: 'auto',
      subjectAltName: { names: [{ type: 'dns', value: 'rsa.example.com' }] },
    },
    issuer: 'self',
    key: 'rsa',
  },
];

let counter = 0;

/** Runs `openssl req` + `openssl ca` for one case and returns the certificate DER. */
function opensslCertificate(c: Case, issuerCertPath: string | undefined): Uint8Array {
  const n = counter++;
  const cnf = tmp.path(`case${n}.cnf`);
  writeFileSync(cnf, `${BASE_CONFIG}\n[ext]\n${c.ext}`);
  writeFileSync(tmp.path('index.txt'), '');
  writeFileSync(tmp.path('serial.txt'), c.serial + '\n');
  const csr = tmp.path(`case${n}.csr`);
  opensslOk(['req', '-new', '-utf8', '-key', KEY_FILES[c.key], '-subj', c.subj, '-config', cnf, '-out', csr]);
  const out = tmp.path(`case${n}.pem`);
  const signArgs = c.issuer === 'self' ? ['-selfsign', '-keyfile', KEY_FILES[c.key]] : ['-keyfile', KEY_FILES[c.issuerKey ?? 'root'], '-cert', issuerCertPath ?? ''];
  opensslOk(['ca', '-batch', '-config', cnf, ...signArgs, '-in', csr, '-startdate', c.start, '-enddate', c.end, '-extfile', cnf, '-extensions', 'ext', '-preserveDN', '-notext', '-out', out]);
  return decodePem(readFileSync(out, 'latin1'), ['CERTIFICATE']).der;
}

const issued = new Map<string, { der: Uint8Array; path: string }>();

for (const c of CASES) {
  test(`byte-identical to openssl ca: ${c.name}`, () => {
    const issuerEntry = c.issuer === 'self' ? undefined : issued.get(c.issuer);
    if (c.issuer !== 'self') assert.ok(issuerEntry, `issuer case ${c.issuer} must run first`);
    const theirs = opensslCertificate(c, issuerEntry?.path);
    const spec: CertificateSpec = {
      serialNumber: fromHex(c.serial),
      subject: parseSubject(c.subj),
      notBefore: new Date(c.notBefore),
      notAfter: new Date(c.notAfter),
      publicKey: KEYS[c.key],
      extensions: c.extensions,
    };
    const signer = createSoftwareSigner(KEYS[c.issuer === 'self' ? c.key : (c.issuerKey ?? 'root')]);
    const ours = issueCertificate(spec, signer, issuerEntry ? issuerFromCertificate(issuerEntry.der) : undefined);
    assert.equal(toHex(ours), toHex(theirs));
    issued.set(c.name, { der: ours, path: tmp.path(`case${counter - 1}.pem`) });
  });
}

test('byte-identical TBS for ECDSA P-256 (signatures are randomized, the TBS is not)', () => {
  const c: Case = {
    name: 'p256',
    subj: '/O=EC Example/CN=ec.example.com',
    serial: '1122334455667788',
    start: '250701000000Z',
    end: '250701060000Z',
    notBefore: '2025-07-01T00:00:00Z',
    notAfter: '2025-07-01T06:00:00Z',
    ext: 'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = none\nsubjectAltName = IP:127.0.0.1,IP:::1\n',
    extensions: {
      basicConstraints: { ca: false },
      keyUsage: { usages: ['digitalSignature'] },
      extKeyUsage: { usages: ['clientAuth'] },
      subjectKeyIdentifier: 'auto',
      subjectAltName: { names: [{ type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }] },
    },
    issuer: 'self',
    key: 'p256',
  };
  const theirs = opensslCertificate(c, undefined);
  const tbs = children(readSingle(theirs))[0];
  assert.ok(tbs);
  const ours = buildTbsCertificate(
    { serialNumber: fromHex(c.serial), subject: parseSubject(c.subj), notBefore: new Date(c.notBefore), notAfter: new Date(c.notAfter), publicKey: p256Key, extensions: c.extensions },
    undefined,
    ecdsaAlgorithm('sha256'),
  );
  assert.equal(toHex(ours), toHex(tbs.bytes));
});

test('byte-identical version 1 certificate (openssl x509 -req without extensions)', () => {
  const csr = tmp.path('v1.csr');
  const out = tmp.path('v1.pem');
  opensslOk(['req', '-new', '-key', KEY_FILES.leaf, '-subj', '/O=Old School/CN=v1.example', '-config', tmp.path('case0.cnf'), '-out', csr]);
  opensslOk(['x509', '-req', '-in', csr, '-signkey', KEY_FILES.leaf, '-set_serial', '0x2a', '-days', '30', '-out', out]);
  const theirs = decodePem(readFileSync(out, 'latin1')).der;
  // Take OpenSSL's validity (it is "now"), then encode everything ourselves.
  const [notBefore, notAfter] = opensslOk(['x509', '-in', out, '-noout', '-startdate', '-enddate'])
    .trim()
    .split('\n')
    .map((l) => new Date(l.slice(l.indexOf('=') + 1))) as [Date, Date];
  const ours = issueCertificate(
    { version: 1, serialNumber: Uint8Array.of(0x2a), subject: parseSubject('/O=Old School/CN=v1.example'), notBefore, notAfter, publicKey: leafKey },
    createSoftwareSigner(leafKey),
  );
  assert.equal(toHex(ours), toHex(theirs));
});

test('Ed25519 CSR byte-identical to openssl req -new, with and without requested extensions', () => {
  const cnf = tmp.path('csr.cnf');
  writeFileSync(
    cnf,
    `${BASE_CONFIG}\n[req]\ndistinguished_name = req_dn\nstring_mask = utf8only\nprompt = no\nreq_extensions = rext\n[rext]\n` +
      'basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nsubjectAltName = DNS:csr.example.com,IP:10.1.2.3,IP:fe80::1,email:a@example.com,URI:https://example.com/x\n',
  );
  const plainCnf = tmp.path('csr-plain.cnf');
  writeFileSync(plainCnf, BASE_CONFIG);
  const subj = '/C=DE/O=Example Org/CN=csr.example.com';
  const signer = createSoftwareSigner(leafKey);

  const withExt = tmp.path('with.csr');
  opensslOk(['req', '-new', '-utf8', '-key', KEY_FILES.leaf, '-subj', subj, '-config', cnf, '-outform', 'DER', '-out', withExt]);
  const ours = buildCsr(
    {
      subject: parseSubject(subj),
      extensions: {
        basicConstraints: { ca: false },
        keyUsage: { usages: ['digitalSignature'] },
        subjectAltName: {
          names: [
            { type: 'dns', value: 'csr.example.com' },
            { type: 'ip', value: '10.1.2.3' },
            { type: 'ip', value: 'fe80::1' },
            { type: 'email', value: 'a@example.com' },
            { type: 'uri', value: 'https://example.com/x' },
          ],
        },
      },
    },
    signer,
  );
  assert.equal(toHex(ours), toHex(new Uint8Array(readFileSync(withExt))));

  const plain = tmp.path('plain.csr');
  opensslOk(['req', '-new', '-key', KEY_FILES.leaf, '-subj', subj, '-config', plainCnf, '-outform', 'DER', '-out', plain]);
  assert.equal(toHex(buildCsr({ subject: parseSubject(subj) }, signer)), toHex(new Uint8Array(readFileSync(plain))));
});
