/**
 * A small PKI built by OpenSSL at test time, shared by the inspection tests (library and CLI):
 * an EC P-256 root, an RSA-2048 intermediate carrying every CA extension kind, an Ed25519 leaf
 * signed with RSA-PSS carrying every SAN type and an unknown extension, a self-signed RSA-PSS-key
 * certificate, a v1 certificate, a CSR with requested extensions, and CRLs written by
 * `openssl ca -gencrl` (v2 with revoked entries, reasons, invalidity date, hold instruction,
 * AKI and IDP; a delta CRL; an empty v1 CRL).
 *
 * Importing this module does nothing; call {@link buildPki}.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { opensslOk } from '../helpers/openssl.js';
import { freePort } from '../helpers/net.js';
export { freePort };

export interface Pki {
  readonly dir: string;
  readonly path: (name: string) => string;
  readonly read: (name: string) => Buffer;
}

const EXT_CNF = `
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash

[int]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
nameConstraints=critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:2001:db8::/ffff:ffff::,excluded;email:bad.example.com,permitted;URI:.example.com
crlDistributionPoints=URI:http://crl.example.com/root.crl
authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/root.crt
certificatePolicies=2.23.140.1.2.1,@pol
policyConstraints=requireExplicitPolicy:0
inhibitAnyPolicy=1

[pol]
policyIdentifier=1.3.6.1.4.1.99999.1
CPS.1=https://cps.example.com
userNotice.1=@notice

[notice]
explicitText="hello notice"

[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth,1.2.3.4.5
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=critical,DNS:a.example.com,DNS:b.example.com,IP:10.0.0.1,IP:2001:db8::1,email:me@example.com,URI:https://x.example.com/p,RID:1.2.3.4,dirName:dir_sect
1.2.3.4.5.6=ASN1:UTF8String:custom value

[dir_sect]
CN=Dir Name
O=Dir Org

[plain]
basicConstraints=critical,CA:FALSE
subjectAltName=DNS:plain.example.com
`;

const CA_CNF = (dir: string): string => `
[ca]
default_ca = CA_default
[CA_default]
dir = ${dir}
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/../int.crt
private_key = $dir/../int.key
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier=keyid:always
issuingDistributionPoint=critical,@idp
[idp]
fullname=URI:http://crl.example.com/int.crl
onlyuser=TRUE
[crl_delta]
authorityKeyIdentifier=keyid:always
2.5.29.27=critical,ASN1:INTEGER:4095
`;

const V1_CA_CNF = (dir: string): string => `
[ca]
default_ca = CA_default
[CA_default]
dir = ${dir}
database = $dir/index.txt
certificate = $dir/../root.crt
private_key = $dir/../root.key
default_md = sha256
default_crl_days = 1
`;

/** What each revoked leaf gets in the CRL (`openssl ca -revoke` flags). */
export const REVOCATIONS: readonly { readonly name: string; readonly args: readonly string[]; readonly reason?: string; readonly invalidity?: string }[] = [
  { name: 'leaf', args: ['-crl_reason', 'keyCompromise'], reason: 'keyCompromise' },
  { name: 'r2', args: ['-crl_compromise', '20240101120000Z'], reason: 'keyCompromise', invalidity: '2024-01-01T12:00:00.000Z' },
  { name: 'r3', args: ['-crl_reason', 'superseded'], reason: 'superseded' },
  { name: 'r4', args: ['-crl_hold', '1.2.840.10040.2.2'], reason: 'certificateHold' },
  { name: 'r5', args: [] },
];

/** Builds everything into `dir` (a fresh temp directory). Takes a few hundred milliseconds. */
export function buildPki(dir: string): Pki {
  const path = (name: string): string => join(dir, name);
  writeFileSync(path('ext.cnf'), EXT_CNF);
  const ext = path('ext.cnf');
  // Root: EC P-256, self-signed.
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('root.key'), '-out', path('root.crt'),
    '-subj', '/CN=Test Root/O=Signet', '-days', '3650', '-config', ext, '-extensions', 'root']);
  // Intermediate: RSA 2048, every CA extension kind.
  opensslOk(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('int.key'), '-out', path('int.csr'), '-subj', '/CN=Test Int/O=Signet']);
  opensslOk(['x509', '-req', '-in', path('int.csr'), '-CA', path('root.crt'), '-CAkey', path('root.key'), '-set_serial', '0x1001', '-out', path('int.crt'),
    '-days', '365', '-extfile', ext, '-extensions', 'int']);
  // Leaf: Ed25519 key, RSA-PSS signature by the intermediate, every SAN type, an unknown extension.
  opensslOk(['req', '-newkey', 'ed25519', '-nodes', '-keyout', path('leaf.key'), '-out', path('leaf.csr'), '-subj', '/CN=leaf.example.com/O=Signet, Inc.',
    '-addext', 'subjectAltName=DNS:a.example.com,IP:10.0.0.1', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth']);
  opensslOk(['x509', '-req', '-in', path('leaf.csr'), '-CA', path('int.crt'), '-CAkey', path('int.key'), '-set_serial', '0x00ab54fd3a0a25dfe2531cd3', '-out', path('leaf.crt'),
    '-days', '30', '-extfile', ext, '-extensions', 'leaf', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sha256']);
  // Leaf with a P-384 key signed with ECDSA by the root (for bundle/format tests).
  opensslOk(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', path('p384.key'), '-out', path('p384.csr'), '-subj', '/CN=p384.example.com']);
  opensslOk(['x509', '-req', '-in', path('p384.csr'), '-CA', path('root.crt'), '-CAkey', path('root.key'), '-set_serial', '7', '-out', path('p384.crt'),
    '-days', '10', '-extfile', ext, '-extensions', 'plain', '-sha384']);
  // Self-signed certificate for an RSA-PSS key.
  opensslOk(['req', '-x509', '-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', '-nodes', '-keyout', path('pss.key'), '-out', path('pss.crt'),
    '-subj', '/CN=PSS Key', '-days', '5', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-sha256']);
  // v1 certificate (no extensions).
  opensslOk(['x509', '-req', '-in', path('p384.csr'), '-CA', path('root.crt'), '-CAkey', path('root.key'), '-set_serial', '8', '-out', path('v1.crt'), '-days', '3']);

  // CRLs from `openssl ca`.
  const caDir = path('ca');
  mkdirSync(caDir);
  writeFileSync(join(caDir, 'index.txt'), '');
  writeFileSync(join(caDir, 'crlnumber'), '1000\n');
  writeFileSync(path('ca.cnf'), CA_CNF(caDir));
  for (const [i, r] of REVOCATIONS.entries()) {
    if (r.name !== 'leaf') {
      opensslOk(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path(`${r.name}.key`), '-out', path(`${r.name}.csr`), '-subj', `/CN=${r.name}`]);
      opensslOk(['x509', '-req', '-in', path(`${r.name}.csr`), '-CA', path('int.crt'), '-CAkey', path('int.key'), '-set_serial', String(0x2000 + i), '-out', path(`${r.name}.crt`), '-days', '5']);
    }
    opensslOk(['ca', '-config', path('ca.cnf'), '-revoke', path(`${r.name}.crt`), ...r.args]);
  }
  opensslOk(['ca', '-config', path('ca.cnf'), '-gencrl', '-out', path('int.crl')]);
  opensslOk(['ca', '-config', path('ca.cnf'), '-gencrl', '-crlexts', 'crl_delta', '-out', path('delta.crl')]);
  const v1Dir = path('ca-v1');
  mkdirSync(v1Dir);
  writeFileSync(join(v1Dir, 'index.txt'), '');
  writeFileSync(path('ca-v1.cnf'), V1_CA_CNF(v1Dir));
  opensslOk(['ca', '-config', path('ca-v1.cnf'), '-gencrl', '-out', path('root-v1.crl')]);

  // A CSR with requested extensions and a challenge password attribute.
  opensslOk(['req', '-new', '-key', path('p384.key'), '-out', path('req.csr'), '-subj', '/CN=req.example.com/O=Signet',
    '-addext', 'subjectAltName=DNS:req.example.com,IP:192.0.2.7,email:ops@example.com', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'basicConstraints=critical,CA:FALSE']);
  return { dir, path, read: (name) => readFileSync(path(name)) };
}

/** DER of a PEM file, converted by OpenSSL (`x509`, `crl` or `req`). */
export function opensslDer(kind: 'x509' | 'crl' | 'req', file: string): Buffer {
  return Buffer.from(opensslOk([kind, '-in', file, '-outform', 'der']), 'latin1');
}


/** A running `openssl s_server`; `stop()` kills exactly this process and waits for it. */
export interface TlsServer {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts `openssl s_server -www` on a free loopback port with the given certificate arguments
 * and resolves once it prints ACCEPT (no fixed sleeps). Retries on another port if the chosen
 * one was taken in between.
 */
export async function startTlsServer(args: readonly string[]): Promise<TlsServer> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-www', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString('latin1');
        if (out.includes('ACCEPT')) resolve(true);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        lastError += chunk.toString('latin1');
      });
      child.once('exit', () => resolve(false));
    });
    if (ready) {
      return {
        port,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill();
          await exited;
        },
      };
    }
    await exited;
  }
  throw new Error(`openssl s_server did not start: ${lastError}`);
}
