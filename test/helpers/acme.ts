/**
 * A raw ACME client for protocol tests: it signs whatever it is told to — the right request,
 * or a hostile one (wrong url, jwk and kid together, alg none, HS256, a reused nonce, another
 * payload's signature) — so the tests can check the server's answer to each. Signatures are
 * made with node:crypto; nothing of the server's code is used to build requests.
 */
import { createHash, createHmac, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, startTestCa, testKeyPair, type HttpsReply, type TestCa, type TestKeyType } from './ca.js';
import { startDnsServer, type TestDnsServer } from './dns-server.js';
import { startHttp01Responder } from './http01-responder.js';
import { tempDir } from './openssl.js';

export interface AcmeKey {
  readonly privateKey: KeyObject;
  readonly jwk: Record<string, string>;
  readonly alg: string;
  readonly thumbprint: string;
}

/** A fresh account key: P-256 (ES256) by default. */
export function acmeKey(type: TestKeyType = 'P-256'): AcmeKey {
  return acmeKeyFrom(testKeyPair(type).privateKey);
}

/** An existing private key (P-256, Ed25519 or RSA) as a JWS signing key: a certificate's own key, for revocation. */
export function acmeKeyFrom(privateKey: KeyObject): AcmeKey {
  const type = privateKey.asymmetricKeyType === 'ec' ? 'P-256' : privateKey.asymmetricKeyType === 'ed25519' ? 'Ed25519' : 'RSA';
  const pair = { privateKey, publicKey: createPublicKey(privateKey) };
  const full = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const jwk: Record<string, string> = type === 'P-256' ? { crv: full.crv as string, kty: 'EC', x: full.x as string, y: full.y as string } : type === 'Ed25519' ? { crv: 'Ed25519', kty: 'OKP', x: full.x as string } : { e: full.e as string, kty: 'RSA', n: full.n as string };
  const thumbprint = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
  return { privateKey: pair.privateKey, jwk, alg: type === 'P-256' ? 'ES256' : type === 'Ed25519' ? 'EdDSA' : 'RS256', thumbprint };
}

export interface JwsOptions {
  readonly url: string;
  /** undefined: POST-as-GET (empty payload). */
  readonly payload?: unknown;
  readonly nonce?: string | null;
  /** Sign with `kid` (the account URL); otherwise with `jwk`. */
  readonly kid?: string;
  /** Put both `jwk` and `kid` in the header. */
  readonly both?: boolean;
  /** Override the header's alg (the signature is still made with the key's own algorithm unless `hmac` is set). */
  readonly alg?: string;
  /** Sign with HMAC-SHA256 under this key instead (HS256). */
  readonly hmac?: Buffer;
  /** Replace the signature with this one (base64url). */
  readonly signature?: string;
  readonly extraHeader?: Record<string, unknown>;
}

function b64(v: unknown): string {
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
}

/** Signs a flattened JWS. */
export function jws(key: AcmeKey, o: JwsOptions): { protected: string; payload: string; signature: string } {
  const header: Record<string, unknown> = { alg: o.alg ?? (o.hmac ? 'HS256' : key.alg), url: o.url, ...o.extraHeader };
  if (o.nonce !== null && o.nonce !== undefined) header.nonce = o.nonce;
  if (o.kid !== undefined) header.kid = o.kid;
  if (o.kid === undefined || o.both === true) header.jwk = key.jwk;
  const protectedB64 = b64(header);
  const payloadB64 = o.payload === undefined ? '' : b64(o.payload);
  const input = Buffer.from(`${protectedB64}.${payloadB64}`);
  let signature: string;
  if (o.signature !== undefined) signature = o.signature;
  else if (o.hmac) signature = createHmac('sha256', o.hmac).update(input).digest('base64url');
  else if (o.alg === 'none') signature = '';
  else if (key.alg === 'ES256') signature = sign('sha256', input, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  else if (key.alg === 'EdDSA') signature = sign(null, input, key.privateKey).toString('base64url');
  else signature = sign('sha256', input, key.privateKey).toString('base64url');
  return { protected: protectedB64, payload: payloadB64, signature };
}

/** A session against one ACME directory of a test CA. */
export class RawAcme {
  directory: Record<string, string> = {};

  constructor(
    readonly ca: TestCa,
    readonly directoryUrl: string,
  ) {}

  async open(): Promise<this> {
    const r = await httpsRequest(this.ca, this.directoryUrl);
    if (r.status !== 200 || r.json === undefined) throw new Error(`directory: ${r.status} ${r.text}`);
    this.directory = r.json as Record<string, string>;
    return this;
  }

  async nonce(): Promise<string> {
    const r = await httpsRequest(this.ca, this.directory.newNonce as string, { method: 'HEAD' });
    const n = r.headers['replay-nonce'];
    if (typeof n !== 'string') throw new Error(`no nonce: ${r.status}`);
    return n;
  }

  /** POSTs a body as application/jose+json (or `contentType`). */
  async postRaw(url: string, body: unknown, contentType = 'application/jose+json'): Promise<HttpsReply> {
    return httpsRequest(this.ca, url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': contentType } });
  }

  /** Signs with a fresh nonce (unless given) and POSTs. */
  async post(key: AcmeKey, o: Omit<JwsOptions, 'nonce'> & { nonce?: string | null }): Promise<HttpsReply> {
    const nonce = o.nonce === undefined ? await this.nonce() : o.nonce;
    return this.postRaw(o.url, jws(key, { ...o, nonce }));
  }

  /** Creates (or finds) the account of `key`; returns its URL. */
  async account(key: AcmeKey, payload: Record<string, unknown> = { termsOfServiceAgreed: true }): Promise<string> {
    const r = await this.post(key, { url: this.directory.newAccount as string, payload });
    const location = r.headers.location;
    if ((r.status !== 201 && r.status !== 200) || typeof location !== 'string') throw new Error(`newAccount: ${r.status} ${r.text}`);
    return location;
  }

  /** Creates an order; returns its URL and body. */
  async order(key: AcmeKey, kid: string, identifiers: readonly { type: string; value: string }[]): Promise<{ url: string; body: Record<string, unknown> }> {
    const r = await this.post(key, { url: this.directory.newOrder as string, kid, payload: { identifiers } });
    if (r.status !== 201 || typeof r.headers.location !== 'string' || r.json === undefined) throw new Error(`newOrder: ${r.status} ${r.text}`);
    return { url: r.headers.location, body: r.json };
  }

  /** POST-as-GET. */
  async get(key: AcmeKey, kid: string, url: string): Promise<HttpsReply> {
    return this.post(key, { url, kid });
  }
}

/** A running CA with an `acme` provisioner, the test DNS server it resolves through, and an http-01 responder. */
export interface AcmeTestCa {
  readonly ca: TestCa;
  readonly running: RunningCa;
  readonly dns: TestDnsServer;
  /** token → key authorization, served by the http-01 responder. */
  readonly answers: Map<string, string>;
  /** The test's temporary directory (removed after the test). */
  readonly dir: string;
}

/**
 * Starts, for one test, a CA with an ACME provisioner named `acme` that validates http-01 on the
 * responder's port and resolves names through the test DNS server (loopback allowed); everything
 * is stopped and removed after the test. `edit` changes the config further.
 */
export async function startAcmeTestCa(t: { after: (fn: () => unknown) => void }, o: { readonly validationTimeout: string; readonly edit?: (doc: Record<string, unknown>) => void }): Promise<AcmeTestCa> {
  const tmp = tempDir('signet-acme-');
  t.after(() => tmp.cleanup());
  const dns = await startDnsServer();
  t.after(() => dns.close());
  const responder = await startHttp01Responder();
  t.after(() => responder.close());
  const ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme' });
      doc.acme = { httpPort: responder.port, dnsServers: [dns.address], allowPrivateAddresses: true, validationTimeout: o.validationTimeout };
      o.edit?.(doc);
    },
  });
  const running = await startTestCa(ca);
  t.after(() => running.close());
  return { ca, running, dns, answers: responder.answers, dir: tmp.dir };
}
