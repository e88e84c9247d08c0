/**
 * ACME request authentication (RFC 8555 §6.2–§6.5): a flattened JWS JSON body, its protected
 * header checked before any key is touched — `alg` on the allow-list, exactly one of `jwk` and
 * `kid`, a `nonce`, a `url` equal to the request's URL — then the signature. The nonce is
 * consumed by the caller after the signature verifies, so a forged request burns nothing.
 */
import { createHmac, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { jwkThumbprint, type Jwk } from '../crypto/jwk.js';
import { jwsKeyFits, jwsSignatureVerifies, type JwsSignatureAlgorithm } from '../crypto/jws.js';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../x509/template/json.js';

/** The JWS algorithms an ACME request may use (the allow-list; `none` and MACs never). */
export const ACME_ALGORITHMS: readonly JwsSignatureAlgorithm[] = Object.freeze(['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256']);

/** Largest ACME request body: a CSR for an RSA-4096 key with a hundred names fits several times. */
export const MAX_ACME_BODY = 64 * 1024;

/** A parsed (not yet verified) ACME request. */
export interface AcmeJws {
  readonly alg: JwsSignatureAlgorithm;
  readonly nonce: string;
  readonly url: string;
  /** The embedded key (newAccount, revokeCert by certificate key). */
  readonly jwk?: JsonObject;
  /** The account URL (every other request). */
  readonly kid?: string;
  /** The payload; undefined for POST-as-GET (RFC 8555 §6.3: an empty payload). */
  readonly payload: JsonObject | undefined;
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function malformed(message: string): SignetError {
  return new SignetError('ERR_ACME_MALFORMED', message);
}

/** Strict base64url: no padding, canonical (RFC 7515 §2). */
function b64(segment: JsonValue | undefined, what: string): Buffer {
  if (typeof segment !== 'string' || !BASE64URL.test(segment) || segment.length % 4 === 1) throw malformed(`${what} is not base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw malformed(`${what} is not canonical base64url`);
  return bytes;
}

function jsonObject(bytes: Buffer, what: string): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(UTF8.decode(bytes), { what, maxDepth: 8 }).value;
  } catch {
    throw malformed(`${what} is not a JSON object`);
  }
  if (!isJsonObject(value)) throw malformed(`${what} is not a JSON object`);
  return value;
}

function own(o: JsonObject, k: string): JsonValue | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** Header parameters ACME requests never carry: keys by reference, extensions, unencoded or compressed payloads. */
const REFUSED_HEADERS = ['crit', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'b64', 'zip', 'enc'];

/**
 * Parses and checks a request body (already size-limited). `requestUrl` is the URL the request
 * was sent to, as the server names itself. Errors, in this order: not a flattened JWS
 * (malformed), `alg` (badSignatureAlgorithm, with the accepted list), `url` (unauthorized),
 * `nonce` missing (badNonce), `jwk`/`kid` (malformed).
 */
export function parseAcmeJws(body: JsonValue, requestUrl: string, options: { readonly inner?: boolean } = {}): AcmeJws {
  if (!isJsonObject(body)) throw malformed('the request body must be a JWS in flattened JSON serialization');
  if (own(body, 'signatures') !== undefined) throw malformed('the general JWS JSON serialization is not allowed: send one signature, flattened (RFC 8555 §6.2)');
  for (const k of Object.keys(body)) {
    if (k !== 'protected' && k !== 'payload' && k !== 'signature') throw malformed(`unexpected member "${k.slice(0, 32)}" in the JWS (an unprotected header is not allowed)`);
  }
  const protectedB64 = own(body, 'protected');
  const payloadB64 = own(body, 'payload');
  if (typeof protectedB64 !== 'string' || typeof payloadB64 !== 'string' || typeof own(body, 'signature') !== 'string') {
    throw malformed('the JWS needs "protected", "payload" and "signature" strings');
  }
  const header = jsonObject(b64(protectedB64, 'protected header'), 'protected header');
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !(ACME_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new SignetError('ERR_ACME_BAD_SIGNATURE_ALGORITHM', `JWS algorithm ${typeof alg === 'string' ? JSON.stringify(alg.slice(0, 32)) : '(none)'} is not accepted; use one of ${ACME_ALGORITHMS.join(', ')}`, {
      detail: { algorithms: ACME_ALGORITHMS },
    });
  }
  for (const h of REFUSED_HEADERS) if (own(header, h) !== undefined) throw malformed(`the protected header must not carry "${h}"`);
  const url = own(header, 'url');
  if (typeof url !== 'string') throw malformed('the protected header has no "url"');
  if (url !== requestUrl) throw new SignetError('ERR_ACME_UNAUTHORIZED', `the JWS "url" ${JSON.stringify(url.slice(0, 256))} is not the URL this request was sent to`);
  const nonce = own(header, 'nonce');
  const jwk = own(header, 'jwk');
  const kid = own(header, 'kid');
  // RFC 8555 §7.3.5: the inner JWS of a key change carries the new key and no nonce.
  if (options.inner === true) {
    if (nonce !== undefined) throw malformed('the inner JWS of a key change must not carry a "nonce"');
    if (jwk === undefined || kid !== undefined) throw malformed('the inner JWS of a key change must carry the new key in "jwk" (and no "kid")');
  } else if (typeof nonce !== 'string' || nonce.length === 0) {
    throw new SignetError('ERR_ACME_BAD_NONCE', 'the protected header has no "nonce"');
  }
  if ((jwk === undefined) === (kid === undefined)) throw malformed('the protected header must carry exactly one of "jwk" and "kid"');
  if (jwk !== undefined && !isJsonObject(jwk)) throw malformed('"jwk" must be a JSON object');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 1024)) throw malformed('"kid" must be an account URL');
  const payloadBytes = b64(payloadB64, 'payload');
  const payload = payloadB64 === '' ? undefined : jsonObject(payloadBytes, 'payload');
  const signature = b64(own(body, 'signature'), 'signature');
  return {
    alg: alg as JwsSignatureAlgorithm,
    nonce: typeof nonce === 'string' ? nonce : '',
    url,
    ...(jwk !== undefined && { jwk }),
    ...(typeof kid === 'string' && { kid }),
    payload,
    signingInput: Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'),
    signature,
  };
}

/** An imported account key. */
export interface AccountKey {
  readonly key: KeyObject;
  /** The public members only. */
  readonly jwk: Jwk;
  /** RFC 7638. */
  readonly thumbprint: string;
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['kty', 'crv', 'x', 'y'], OKP: ['kty', 'crv', 'x'], RSA: ['kty', 'n', 'e'] };

/**
 * Imports a public JWK (EC P-256/384/521, Ed25519, RSA ≥ 2048). A private member, another key
 * type or a weak key is badPublicKey; members the key type does not define are ignored.
 */
export function importAccountKey(v: JsonValue | undefined): AccountKey {
  if (!isJsonObject(v)) throw malformed('"jwk" must be a JSON object');
  const kty = own(v, 'kty');
  const members = typeof kty === 'string' ? PUBLIC_MEMBERS[kty] : undefined;
  if (members === undefined) throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', `unsupported JWK key type ${typeof kty === 'string' ? JSON.stringify(kty.slice(0, 16)) : '(none)'}; use EC, OKP (Ed25519) or RSA`);
  for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
    if (own(v, m) !== undefined) throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', 'the JWK holds private key material: send only the public key');
  }
  const jwk: Record<string, string> = {};
  for (const m of members) {
    const value = own(v, m);
    if (typeof value !== 'string' || value.length === 0 || value.length > 1400) throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', `the JWK member "${m}" is missing or malformed`);
    jwk[m] = value;
  }
  if (kty === 'OKP' && jwk.crv !== 'Ed25519') throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', `unsupported OKP curve ${JSON.stringify(jwk.crv)}; use Ed25519`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', 'the JWK is not a valid public key');
  }
  const fits = ACME_ALGORITHMS.some((alg) => jwsKeyFits(alg, key));
  if (!fits) throw new SignetError('ERR_ACME_BAD_PUBLIC_KEY', 'the account key is not acceptable: use EC P-256/P-384/P-521, Ed25519, or RSA of at least 2048 bits');
  return { key, jwk: jwk as Jwk, thumbprint: jwkThumbprint(jwk as Jwk) };
}

/** Checks that `key` made the request's signature with its `alg` (badSignatureAlgorithm when they do not fit, unauthorized when it does not verify). */
export function verifyAcmeSignature(jws: AcmeJws, key: KeyObject): void {
  if (!jwsKeyFits(jws.alg, key)) {
    throw new SignetError('ERR_ACME_BAD_SIGNATURE_ALGORITHM', `JWS algorithm ${jws.alg} does not fit the account key`, { detail: { algorithms: ACME_ALGORITHMS.filter((a) => jwsKeyFits(a, key)) } });
  }
  if (!jwsSignatureVerifies(jws.alg, key, jws.signingInput, jws.signature)) throw malformed('the JWS signature does not verify with the key that should have made it');
}

/** An external account binding (RFC 8555 §7.3.4), its structure checked; the MAC is checked with {@link eabMacVerifies}. */
export interface ExternalAccountBinding {
  /** The EAB key id (`kid` of its protected header). */
  readonly keyId: string;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly signingInput: Buffer;
  readonly mac: Buffer;
}

const EAB_HASHES: Readonly<Record<string, ExternalAccountBinding['hash']>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Checks an `externalAccountBinding` with the same strict decoding as every request: a flattened
 * JWS, `alg` HS256/384/512 (badSignatureAlgorithm), `url` equal to the newAccount request's
 * (unauthorized), no nonce, a `kid`, and a payload that is the account key itself (unauthorized
 * when it is another key).
 */
export function parseExternalAccountBinding(v: JsonValue, outerUrl: string, accountThumbprint: string): ExternalAccountBinding {
  if (!isJsonObject(v) || Object.keys(v).some((k) => k !== 'protected' && k !== 'payload' && k !== 'signature')) throw malformed('"externalAccountBinding" must be a flattened JWS');
  const protectedB64 = own(v, 'protected');
  const payloadB64 = own(v, 'payload');
  if (typeof protectedB64 !== 'string' || typeof payloadB64 !== 'string') throw malformed('"externalAccountBinding" must be a flattened JWS');
  const header = jsonObject(b64(protectedB64, 'external account binding header'), 'external account binding header');
  const alg = own(header, 'alg');
  const hash = typeof alg === 'string' ? EAB_HASHES[alg] : undefined;
  if (hash === undefined) throw new SignetError('ERR_ACME_BAD_SIGNATURE_ALGORITHM', 'the external account binding must use HS256, HS384 or HS512', { detail: { algorithms: Object.keys(EAB_HASHES) } });
  if (own(header, 'url') !== outerUrl) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'the external account binding names another URL');
  if (own(header, 'nonce') !== undefined) throw malformed('the external account binding must not carry a nonce');
  const keyId = own(header, 'kid');
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > 128) throw malformed('the external account binding has no "kid"');
  let bound: string | undefined;
  try {
    bound = importAccountKey(jsonObject(b64(payloadB64, 'external account binding payload'), 'external account binding payload')).thumbprint;
  } catch {
    bound = undefined;
  }
  if (bound !== accountThumbprint) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'the external account binding is for another account key');
  return { keyId, hash, signingInput: Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii'), mac: b64(own(v, 'signature'), 'external account binding signature') };
}

/** Whether the binding's MAC is the HMAC of its signing input under `hmacKey` (constant time). */
export function eabMacVerifies(eab: ExternalAccountBinding, hmacKey: Uint8Array): boolean {
  const expected = createHmac(eab.hash, hmacKey).update(eab.signingInput).digest();
  return eab.mac.length === expected.length && timingSafeEqual(eab.mac, expected);
}
