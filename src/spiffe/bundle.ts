/**
 * SPIFFE trust bundles (SPIFFE Trust Domain and Bundle standard §4): a JWK Set whose keys are the
 * trust domain's X.509 authorities (`use: "x509-svid"`, the CA certificate as the one `x5c`
 * element, the JWK's key being the certificate's) and JWT authorities (`use: "jwt-svid"`, a `kid`
 * each), with `spiffe_sequence` (grows with every change) and `spiffe_refresh_hint` (seconds).
 * Reading is as strict as go-spiffe's: a key without `use`, with another `use`, an x509-svid key
 * with other than one certificate or a key that is not its certificate's, a jwt-svid key without
 * `kid` or with a repeated one are ERR_SPIFFE_BUNDLE_INVALID.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { parseCertificate } from '../x509/certificate.js';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../x509/template/json.js';

/** Largest bundle document read. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/** A trust domain's bundle. */
export interface TrustBundle {
  readonly trustDomain: string;
  /** CA certificates (DER) that anchor X509-SVIDs. */
  readonly x509Authorities: readonly Uint8Array[];
  /** Public keys that verify JWT-SVIDs, by key ID. */
  readonly jwtAuthorities: ReadonlyMap<string, KeyObject>;
  /** `spiffe_sequence`, when the bundle has one. */
  readonly sequence?: number;
  /** `spiffe_refresh_hint` in seconds, when given. */
  readonly refreshHintSeconds?: number;
}

function invalid(message: string): SignetError {
  return new SignetError('ERR_SPIFFE_BUNDLE_INVALID', `invalid SPIFFE bundle: ${message}`);
}

/** The public members of a key's JWK. */
function publicJwk(key: KeyObject): JsonObject {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' }) as Record<string, string>;
  const out: JsonObject = {};
  for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e']) if (jwk[m] !== undefined) out[m] = jwk[m];
  return out;
}

/** The bundle as its JSON document (X.509 authorities first, then JWT authorities by key ID). */
export function formatBundle(bundle: TrustBundle): string {
  const keys: JsonObject[] = [];
  for (const der of bundle.x509Authorities) {
    const cert = parseCertificate(der);
    if (cert.publicKey === undefined) throw new SignetError('ERR_KEY_UNSUPPORTED', 'an X.509 authority of the bundle has a key JWK cannot express');
    keys.push({ use: 'x509-svid', ...publicJwk(cert.publicKey), x5c: [Buffer.from(der).toString('base64')] });
  }
  for (const kid of [...bundle.jwtAuthorities.keys()].sort()) keys.push({ use: 'jwt-svid', kid, ...publicJwk(bundle.jwtAuthorities.get(kid) as KeyObject) });
  const doc: JsonObject = { keys };
  if (bundle.sequence !== undefined) doc.spiffe_sequence = bundle.sequence;
  if (bundle.refreshHintSeconds !== undefined) doc.spiffe_refresh_hint = bundle.refreshHintSeconds;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function nonNegativeInteger(v: JsonValue | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`${name} must be a non-negative integer`);
  return v;
}

/** Reads a bundle document of `trustDomain` (see the module comment for what is refused). */
export function parseBundle(input: string | Uint8Array, trustDomain: string): TrustBundle {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > MAX_BUNDLE_BYTES) throw new SignetError('ERR_INPUT_TOO_LARGE', `a SPIFFE bundle is at most ${MAX_BUNDLE_BYTES} bytes, this one ${size}`);
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  const { value } = parseJson(text, { what: 'SPIFFE bundle', maxDepth: 8 });
  if (!isJsonObject(value)) throw invalid('not a JSON object');
  const keys = Object.hasOwn(value, 'keys') ? value.keys : undefined;
  if (!Array.isArray(keys)) throw invalid('no "keys" list');
  const x509: Uint8Array[] = [];
  const jwt = new Map<string, KeyObject>();
  keys.forEach((k, i) => {
    if (!isJsonObject(k)) throw invalid(`key ${i} is not an object`);
    const use = Object.hasOwn(k, 'use') ? k.use : undefined;
    if (use === undefined || use === '') throw invalid(`key ${i} has no "use"`);
    let key: KeyObject;
    try {
      const members: Record<string, unknown> = {};
      for (const m of ['kty', 'crv', 'x', 'y', 'n', 'e']) if (Object.hasOwn(k, m)) members[m] = k[m];
      if (Object.hasOwn(k, 'd')) throw new Error('it holds a private key');
      key = createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
    } catch (e) {
      throw invalid(`key ${i} is not a public key (${e instanceof Error ? e.message : 'unreadable'})`);
    }
    if (use === 'x509-svid') {
      const x5c = Object.hasOwn(k, 'x5c') ? k.x5c : undefined;
      if (!Array.isArray(x5c) || x5c.length !== 1 || typeof x5c[0] !== 'string') throw invalid(`x509-svid key ${i} must carry exactly one certificate in "x5c"`);
      const der = new Uint8Array(Buffer.from(x5c[0], 'base64'));
      let cert;
      try {
        cert = parseCertificate(der);
      } catch {
        throw invalid(`the certificate of x509-svid key ${i} cannot be parsed`);
      }
      if (cert.publicKey === undefined || !cert.publicKey.equals(key)) throw invalid(`x509-svid key ${i} is not the key of its certificate`);
      x509.push(der);
    } else if (use === 'jwt-svid') {
      const kid = Object.hasOwn(k, 'kid') ? k.kid : undefined;
      if (typeof kid !== 'string' || kid === '') throw invalid(`jwt-svid key ${i} has no "kid"`);
      if (jwt.has(kid)) throw invalid(`jwt-svid key ${i} repeats key ID "${kid.slice(0, 64)}"`);
      jwt.set(kid, key);
    } else {
      throw invalid(`key ${i} has the unrecognized use ${JSON.stringify(typeof use === "string" ? use.slice(0, 40) : use)}`);
    }
  });
  const sequence = nonNegativeInteger(Object.hasOwn(value, 'spiffe_sequence') ? value.spiffe_sequence : undefined, 'spiffe_sequence');
  const refresh = nonNegativeInteger(Object.hasOwn(value, 'spiffe_refresh_hint') ? value.spiffe_refresh_hint : undefined, 'spiffe_refresh_hint');
  return { trustDomain, x509Authorities: x509, jwtAuthorities: jwt, ...(sequence !== undefined ? { sequence } : {}), ...(refresh !== undefined ? { refreshHintSeconds: refresh } : {}) };
}
