/**
 * A real CA for tests: made by `signet ca init` (the command's own code), optionally with its
 * config edited, started in-process on an ephemeral port, and driven over HTTPS with tokens the
 * provisioner key really signs and CSRs built by our writer. Nothing here is mocked.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parsePrivateKey } from '../../src/crypto/keys.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { loadCaConfig, type CaConfig, type CaProvisioner, type JwkProvisioner } from '../../src/ca/config.js';
import { startCa, type RunningCa, type StartCaOptions } from '../../src/ca/runtime.js';
import { mintToken } from '../../src/ca/token.js';
import { caInitCommand } from '../../src/cli/ca/init.js';
import { buildCsr } from '../../src/x509/csr.js';
import { parseGeneralName } from '../../src/x509/general-name.js';
import { parseSubject } from '../../src/x509/name.js';
import { freePort } from './net.js';

/** The files of a CA made by {@link createTestCa}. */
export interface TestCa {
  /** The CA directory (absolute). */
  readonly dir: string;
  readonly configPath: string;
  /** The config as loaded after any edit. */
  readonly config: CaConfig;
  readonly rootFile: string;
  readonly intermediateFile: string;
  readonly rootDer: Uint8Array;
  readonly rootPem: string;
  /** SHA-256 of the root certificate, lower-case hex. */
  readonly rootFingerprint: string;
  /** The `admin` provisioner's private key. */
  readonly provisionerKey: KeyObject;
  /** Files holding the passwords (first line) of the CA keys and of the provisioner key. */
  readonly passwordFile: string;
  readonly provisionerPasswordFile: string;
}

export interface CreateTestCaOptions {
  /** An empty or non-existent directory; the CA goes into `<parent>/ca`. */
  readonly parent: string;
  readonly name?: string;
  /** Keep the inventory in this PostgreSQL database (`ca init --db URL --db-password-file FILE`). */
  readonly db?: { readonly url: string; readonly passwordFile: string };
  /** Edits the JSON config document that init wrote (claims, policy, more provisioners, …). */
  readonly edit?: (doc: Record<string, unknown>) => void;
  /** Also an SSH certificate authority (`ca init --ssh`). */
  readonly ssh?: boolean;
  /** The SPIFFE trust domain the intermediate serves (`ca init --trust-domain`). */
  readonly trustDomain?: string | readonly string[];
}

/** Creates a CA with `signet ca init`'s code: root, intermediate, the `admin` JWK provisioner, config, SQLite store. */
export async function createTestCa(options: CreateTestCaOptions): Promise<TestCa> {
  const passwordFile = join(options.parent, 'ca-password.txt');
  const provisionerPasswordFile = join(options.parent, 'provisioner-password.txt');
  writeFileSync(passwordFile, 'test ca password\n', { mode: 0o600 });
  writeFileSync(provisionerPasswordFile, 'test provisioner password\n', { mode: 0o600 });
  const dir = join(options.parent, 'ca');
  await caInitCommand({
    name: options.name ?? 'Test CA',
    dir,
    passwordFile,
    provisionerPasswordFile,
    rootKeyOut: join(options.parent, 'root.key'),
    ...(options.db ? { db: options.db.url, dbPasswordFile: options.db.passwordFile } : {}),
    ...(options.ssh ? { ssh: true } : {}),
    ...(options.trustDomain !== undefined ? { trustDomain: options.trustDomain } : {}),
  });
  const configPath = join(dir, 'signet.json');
  if (options.edit) {
    const doc = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    options.edit(doc);
    writeFileSync(configPath, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const config = loadCaConfig(configPath);
  const rootPem = readFileSync(config.root, 'utf8');
  const rootDer = decodePem(rootPem, ['CERTIFICATE']).der;
  const provisionerKey = parsePrivateKey(new Uint8Array(readFileSync(join(dir, 'secrets', 'provisioner-admin.key'))), 'test provisioner password');
  return {
    dir,
    configPath,
    config,
    rootFile: config.root,
    intermediateFile: config.intermediate.certificate,
    rootDer,
    rootPem,
    rootFingerprint: createHash('sha256').update(rootDer).digest('hex'),
    provisionerKey,
    passwordFile,
    provisionerPasswordFile,
  };
}

/** Starts `ca` in-process on an ephemeral loopback port. */
export function startTestCa(ca: TestCa, options: Partial<StartCaOptions> = {}): Promise<RunningCa> {
  return startCa(loadCaConfig(ca.configPath), { clock: systemClock, port: 0, ...options });
}

export interface TestTokenOptions {
  readonly subject: string;
  /** Default: `[subject]`. */
  readonly sans?: readonly string[];
  /** Default: `/sign`. */
  readonly path?: string;
  /** Default: `running.url`. */
  readonly baseUrl?: string;
  readonly key?: KeyObject;
  readonly kid?: string;
  readonly issuer?: string;
  readonly ttlMs?: number;
  readonly now?: Date;
  readonly csrFingerprint?: string;
  readonly rootFingerprint?: string;
  /** An SSH token (`sans` are the principals; the path defaults to `/ssh/sign`). */
  readonly ssh?: 'user' | 'host';
}

/** A one-time token from the `admin` provisioner (or `key`/`issuer` when given) for `running`. */
export function testToken(ca: TestCa, running: { readonly url: string }, o: TestTokenOptions, clock: Clock = systemClock): Promise<string> {
  return mintToken({
    key: o.key ?? ca.provisionerKey,
    ...(o.kid !== undefined ? { kid: o.kid } : o.key === undefined ? { kid: jwkProvisioner(ca.config.provisioners[0]).kid } : {}),
    issuer: o.issuer ?? 'admin',
    audience: `${o.baseUrl ?? running.url}${o.path ?? (o.ssh !== undefined ? '/ssh/sign' : '/sign')}`,
    ...(o.ssh !== undefined ? { ssh: { certType: o.ssh } } : {}),
    subject: o.subject,
    sans: o.sans ?? [o.subject],
    ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}),
    rootFingerprint: o.rootFingerprint ?? ca.rootFingerprint,
    ...(o.csrFingerprint !== undefined ? { csrFingerprint: o.csrFingerprint } : {}),
    now: o.now ?? clock.now(),
  });
}

export type TestKeyType = 'P-256' | 'Ed25519' | 'RSA';

/** A fresh key pair of a type tests use (RSA: 2048 bits). */
export function testKeyPair(keyType: TestKeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  if (keyType === 'P-256') return generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return keyType === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** A fresh key and a CSR for it (subject CN and SANs as given). */
export function testCsr(commonName: string | undefined, sans: readonly string[], keyType: TestKeyType = 'P-256'): { key: KeyObject; der: Uint8Array; pem: string } {
  const pair = testKeyPair(keyType);
  const der = buildCsr(
    {
      subject: commonName === undefined ? [] : parseSubject(`CN=${commonName}`),
      ...(sans.length > 0 ? { extensions: { subjectAltName: { names: sans.map((s) => parseGeneralName(s)) } } } : {}),
    },
    createSoftwareSigner(pair.privateKey),
  );
  return { key: pair.privateKey, der, pem: encodePem('CERTIFICATE REQUEST', der) };
}

export interface HttpsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export interface HttpsRequestOptions {
  readonly method?: string;
  /** A JSON value (serialized) or raw text/bytes sent as is. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Client certificate chain (PEM) and key for mTLS. */
  readonly cert?: string;
  readonly key?: KeyObject | string;
  /** Trust anchor; default: the test CA's root. */
  readonly ca?: string;
}

/** One HTTPS request to the CA, trusting only its root; resolves with status, headers and body. */
export function httpsRequest(ca: TestCa, url: string, o: HttpsRequestOptions = {}): Promise<HttpsReply> {
  const raw = o.body === undefined ? undefined : typeof o.body === 'string' || o.body instanceof Uint8Array ? o.body : JSON.stringify(o.body);
  const key = o.key === undefined ? undefined : typeof o.key === 'string' ? o.key : (o.key.export({ type: 'pkcs8', format: 'pem' }) as string);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: o.method ?? (raw === undefined ? 'GET' : 'POST'),
        ca: o.ca ?? ca.rootPem,
        ...(o.cert !== undefined ? { cert: o.cert } : {}),
        ...(key !== undefined ? { key } : {}),
        headers: { ...(raw !== undefined && typeof o.body !== 'string' && !(o.body instanceof Uint8Array) ? { 'content-type': 'application/json' } : {}), ...o.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

/** The provisioner as a JWK provisioner (fails the test when it is another type). */
export function jwkProvisioner(p: CaProvisioner | undefined): JwkProvisioner {
  if (p?.type !== 'JWK') throw new Error(`expected a JWK provisioner, got ${p?.type ?? 'none'}`);
  return p;
}

/** A leaf issued over `POST /sign` (one-time token, CSR with a fresh P-256 key), written to `file`. */
export interface IssuedLeaf {
  readonly pem: string;
  /** The private key, PKCS#8 PEM (for mTLS revocation). */
  readonly key: string;
  readonly serial: string;
  readonly file: string;
}

/** Issues a leaf for DNS name `name` from the running `ca` and writes its PEM to `file`. */
export async function issueLeaf(ca: TestCa, running: { readonly url: string }, name: string, file: string): Promise<IssuedLeaf> {
  const csr = testCsr(name, [name]);
  const ott = await testToken(ca, running, { subject: name });
  const r = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: csr.pem, ott } });
  if (r.status !== 201) throw new Error(`issuing ${name}: ${r.status} ${r.text}`);
  const pem = (r.json as { crt: string }).crt;
  writeFileSync(file, pem);
  return { pem, key: csr.key.export({ format: 'pem', type: 'pkcs8' }).toString(), serial: r.json?.serial as string, file };
}

/** Writes the CA's root and intermediate as `root.pem` and `int.pem` in `dir` (what openssl and verify take); returns their paths. */
export function writeChainFiles(ca: TestCa, dir: string): { readonly rootFile: string; readonly intermediateFile: string } {
  const rootFile = join(dir, 'root.pem');
  const intermediateFile = join(dir, 'int.pem');
  writeFileSync(rootFile, ca.rootPem);
  writeFileSync(intermediateFile, readFileSync(ca.intermediateFile, 'latin1'));
  return { rootFile, intermediateFile };
}

/** A running CA with a plain-HTTP revocation listener, its root and intermediate written as files. */
export interface RevocationCa {
  readonly ca: TestCa;
  readonly running: RunningCa;
  /** `http://127.0.0.1:PORT` of the revocation listener (`/crl`, `/crl/{k}`, `/ocsp`). */
  readonly base: string;
  /** `root.pem` and `int.pem` in `dir`. */
  readonly rootFile: string;
  readonly intermediateFile: string;
}

/**
 * Creates and starts a CA in `dir` whose certificates name its CRL (and, with `ocsp`, its OCSP
 * responder) on a plain-HTTP listener of a free port; the watcher timer is moved out of the way
 * (tests tick it with publishRevocations). `crl` is merged into `revocation.crl`.
 */
export async function startRevocationCa(dir: string, options: { readonly ocsp?: boolean; readonly crl?: Record<string, unknown> } = {}): Promise<RevocationCa> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const parent = join(dir, 'ca-parent');
  mkdirSync(parent);
  const ca = await createTestCa({
    parent,
    edit: (doc) => {
      doc.crlUrl = `${base}/crl`;
      if (options.ocsp === true) doc.ocspUrl = `${base}/ocsp`;
      doc.revocation = {
        httpAddress: `127.0.0.1:${port}`,
        propagation: '1s',
        crl: { validity: '24h', refresh: '8h', ...options.crl },
        ...(options.ocsp === true && { ocsp: { validity: '1h', signerLifetime: '1d' } }),
      };
    },
  });
  const running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  return { ca, running, base, ...writeChainFiles(ca, dir) };
}
