/**
 * Chains that OpenSSL generates at test time — RSA-PSS, RSA PKCS#1 with SHA-384, Ed25519, P-384,
 * P-256; OpenSSL's own encodings of name constraints, path length, EKU and SANs — verified by
 * Signet and by `openssl verify`, which must agree on every verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { parseCertificates, type Certificate } from '../../src/x509/certificate.js';
import { verifyChain, type VerifyOptions } from '../../src/x509/verify/index.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-osslchain-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

writeFileSync(
  p('ext.cnf'),
  `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_int]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_int_nc]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:bad.example.com
[v3_sub]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:www.example.com,IP:10.0.0.1
[v3_leaf_bad]
basicConstraints = critical,CA:false
extendedKeyUsage = serverAuth
subjectAltName = DNS:www.bad.example.com
[v3_leaf_client]
basicConstraints = critical,CA:false
extendedKeyUsage = clientAuth
subjectAltName = DNS:www.example.com
`,
);

function genkey(name: string, ...args: string[]): string {
  opensslOk(['genpkey', ...args, '-out', p(`${name}.key`)]);
  return p(`${name}.key`);
}

let serial = 1000;
/** A self-signed root from `key`. */
function rootCert(name: string, key: string, subject: string, sigopts: string[] = []): string {
  opensslOk(['req', '-x509', '-new', '-key', key, '-subj', subject, '-days', '3650', '-config', p('ext.cnf'), '-extensions', 'v3_ca', ...sigopts, '-set_serial', String(serial++), '-out', p(`${name}.pem`)]);
  return p(`${name}.pem`);
}

/** A certificate for `key` issued by `ca` with extension section `ext`. */
function issued(name: string, key: string, subject: string, ca: string, caKey: string, ext: string, days: number, sigopts: string[] = []): string {
  opensslOk(['req', '-new', '-key', key, '-subj', subject, '-config', p('ext.cnf'), '-out', p(`${name}.csr`)]);
  opensslOk(['x509', '-req', '-in', p(`${name}.csr`), '-CA', ca, '-CAkey', caKey, '-set_serial', String(serial++), '-days', String(days), '-extfile', p('ext.cnf'), '-extensions', ext, ...sigopts, '-out', p(`${name}.pem`)]);
  return p(`${name}.pem`);
}

const pssKey = genkey('pss-root', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048');
const rsaKey = genkey('rsa-root', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
const edKey = genkey('ed-int', '-algorithm', 'ED25519');
const p384Key = genkey('p384-root', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384');
const p256Int = genkey('p256-int', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
const p256Leaf = genkey('p256-leaf', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
const edLeaf = genkey('ed-leaf', '-algorithm', 'ED25519');

const PSS = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'];

// Chain A: RSA-PSS root (rsassaPss key and signatures) → Ed25519 intermediate → P-256 leaf.
const pssRoot = rootCert('pss-root', pssKey, '/CN=OpenSSL PSS Root');
const edInt = issued('ed-int', edKey, '/CN=OpenSSL Ed25519 Int', pssRoot, pssKey, 'v3_int', 1825);
const leafA = issued('leaf-a', p256Leaf, '/CN=www.example.com', edInt, edKey, 'v3_leaf', 365);
// Chain B: RSA root signing with PSS padding (rsaEncryption key, rsassaPss signature), and with PKCS#1 SHA-384.
const rsaRoot = rootCert('rsa-root', rsaKey, '/CN=OpenSSL RSA Root', ['-sha384']);
const leafB = issued('leaf-b', edLeaf, '/CN=www.example.com', rsaRoot, rsaKey, 'v3_leaf', 365, PSS);
const leafB2 = issued('leaf-b2', p256Leaf, '/CN=www.example.com', rsaRoot, rsaKey, 'v3_leaf', 365, ['-sha384']);
// Chain C: P-384 root → P-256 intermediate with name constraints → leaves inside / outside.
const ecRoot = rootCert('ec-root', p384Key, '/O=Example/CN=OpenSSL EC Root');
const ncInt = issued('nc-int', p256Int, '/O=Example/CN=OpenSSL Constrained Int', ecRoot, p384Key, 'v3_int_nc', 1825);
const leafC = issued('leaf-c', p256Leaf, '/CN=www.example.com', ncInt, p256Int, 'v3_leaf', 365);
const leafCbad = issued('leaf-c-bad', p256Leaf, '/CN=www.bad.example.com', ncInt, p256Int, 'v3_leaf_bad', 365);
const leafCclient = issued('leaf-c-client', p256Leaf, '/CN=client', ncInt, p256Int, 'v3_leaf_client', 365);
// Chain D: pathlen:0 intermediate with another CA below it.
const subCa = issued('sub-ca', edKey, '/CN=OpenSSL Sub CA', ncInt, p256Int, 'v3_sub', 1825);
const leafD = issued('leaf-d', p256Leaf, '/CN=www.example.com', subCa, edKey, 'v3_leaf', 365);

const soon = new Date(Date.parse(readNotBefore(leafA)) + 3600_000);
const later = new Date(soon.getTime() + 2 * 365 * 86_400_000);

function readNotBefore(file: string): string {
  return new Date(opensslOk(['x509', '-in', file, '-noout', '-startdate']).trim().replace('notBefore=', '')).toISOString();
}

const certs = (file: string): Certificate[] => parseCertificates(readFileSync(file));

interface Row {
  readonly name: string;
  readonly leaf: string;
  readonly roots: string;
  readonly intermediates?: readonly string[];
  readonly time?: Date;
  readonly purpose?: 'server' | 'client';
  readonly host?: string;
  readonly ip?: string;
  readonly expect: string;
}

const ROWS: Row[] = [
  { name: 'rsa-pss root → ed25519 intermediate → p-256 leaf', leaf: leafA, roots: pssRoot, intermediates: [edInt], purpose: 'server', host: 'www.example.com', expect: 'ok' },
  { name: 'rsa root, leaf signed with pss padding', leaf: leafB, roots: rsaRoot, host: 'www.example.com', expect: 'ok' },
  { name: 'rsa root, leaf signed with pkcs#1 sha-384', leaf: leafB2, roots: rsaRoot, ip: '10.0.0.1', expect: 'ok' },
  { name: 'p-384 root → constrained intermediate → permitted leaf', leaf: leafC, roots: ecRoot, intermediates: [ncInt], purpose: 'server', expect: 'ok' },
  { name: 'constrained intermediate → excluded leaf', leaf: leafCbad, roots: ecRoot, intermediates: [ncInt], expect: 'ERR_VERIFY_NAME_CONSTRAINTS' },
  { name: 'clientAuth leaf for purpose server', leaf: leafCclient, roots: ecRoot, intermediates: [ncInt], purpose: 'server', expect: 'ERR_VERIFY_EKU' },
  { name: 'clientAuth leaf for purpose client', leaf: leafCclient, roots: ecRoot, intermediates: [ncInt], purpose: 'client', expect: 'ok' },
  { name: 'pathlen:0 intermediate with a CA below it', leaf: leafD, roots: ecRoot, intermediates: [ncInt, subCa], expect: 'ERR_VERIFY_PATH_LENGTH' },
  { name: 'leaf expired two years later', leaf: leafA, roots: pssRoot, intermediates: [edInt], time: later, expect: 'ERR_VERIFY_EXPIRED' },
  { name: 'wrong root', leaf: leafA, roots: rsaRoot, intermediates: [edInt], expect: 'ERR_VERIFY_NO_ISSUER' },
  { name: 'wrong host', leaf: leafA, roots: pssRoot, intermediates: [edInt], host: 'mail.example.com', expect: 'ERR_VERIFY_HOSTNAME' },
  { name: 'wrong ip', leaf: leafB2, roots: rsaRoot, ip: '10.0.0.2', expect: 'ERR_VERIFY_IP' },
];

for (const r of ROWS) {
  test(`openssl-generated chain: ${r.name} → ${r.expect}`, () => {
    const time = r.time ?? soon;
    const options: VerifyOptions = {
      roots: certs(r.roots),
      intermediates: (r.intermediates ?? []).flatMap(certs),
      time,
      ...(r.purpose ? { purpose: r.purpose } : {}),
      ...(r.host ? { host: r.host } : {}),
      ...(r.ip ? { ip: r.ip } : {}),
    };
    let got = 'ok';
    try {
      verifyChain(certs(r.leaf)[0] as Certificate, options);
    } catch (e) {
      if (!isSignetError(e)) throw e;
      got = e.code;
    }
    assert.equal(got, r.expect);

    const args = ['verify', '-CAfile', r.roots, '-attime', String(Math.floor(time.getTime() / 1000))];
    if (r.intermediates?.length) {
      writeFileSync(p('untrusted.pem'), r.intermediates.map((f) => readFileSync(f, 'latin1')).join(''));
      args.push('-untrusted', p('untrusted.pem'));
    }
    if (r.purpose) args.push('-purpose', r.purpose === 'server' ? 'sslserver' : 'sslclient');
    if (r.host) args.push('-verify_hostname', r.host);
    if (r.ip) args.push('-verify_ip', r.ip);
    const o = openssl([...args, r.leaf]);
    assert.equal(o.status === 0, r.expect === 'ok', `openssl disagrees: ${o.stdout}${o.stderr}`);
  });
}

test('the signature algorithms really are the ones under test', () => {
  const text = (f: string): string => opensslOk(['x509', '-in', f, '-noout', '-text']);
  assert.match(text(pssRoot), /Signature Algorithm: rsassaPss/);
  assert.match(text(edInt), /Signature Algorithm: rsassaPss/);
  assert.match(text(leafA), /Signature Algorithm: ED25519/);
  assert.match(text(leafB), /Signature Algorithm: rsassaPss/);
  assert.match(text(leafB2), /Signature Algorithm: sha384WithRSAEncryption/);
  assert.match(text(ncInt), /Signature Algorithm: ecdsa-with-SHA256|ecdsa-with-SHA384/);
});
