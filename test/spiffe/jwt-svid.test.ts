/**
 * JWT-SVIDs and SPIFFE bundles: minting emits what the standard requires; validation refuses in
 * the standard's order (the algorithm before anything else, the bundle of the subject's own trust
 * domain, `kid` optional); bundles round-trip and refuse what go-spiffe refuses. An independent
 * implementation — PyJWT with python3-cryptography (Debian) — verifies Signet's JWT-SVIDs with the
 * key taken from Signet's bundle document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { isSignetError } from '../../src/core/errors.js';
import { formatBundle, parseBundle, type TrustBundle } from '../../src/spiffe/bundle.js';
import { spiffeIdFrom } from '../../src/spiffe/id.js';
import { mintJwtSvid, validateJwtSvid, type JwtSvidReason } from '../../src/spiffe/jwt-svid.js';
import { createTestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';
import { readFileSync } from 'node:fs';
import { decodePem } from '../../src/core/pem.js';

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const now = new Date();
const bundle: TrustBundle = { trustDomain: 'example.org', x509Authorities: [], jwtAuthorities: new Map([['k1', p256.publicKey], ['k2', rsa.publicKey]]), sequence: 3, refreshHintSeconds: 300 };
const bundles = (td: string): TrustBundle | undefined => (td === 'example.org' ? bundle : td === 'other.org' ? { ...bundle, trustDomain: 'other.org', jwtAuthorities: new Map([['k1', other.publicKey]]) } : undefined);
const web = spiffeIdFrom('example.org', 'ns', 'prod', 'web');

function reasonOf(token: string, audience = 'db'): JwtSvidReason | undefined {
  try {
    validateJwtSvid(token, { audience, bundle: bundles, now });
    return undefined;
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_JWT_SVID_INVALID'), String(e));
    return e.detail?.reason as JwtSvidReason;
  }
}

/** A token with any header and claims, signed with `key` as `alg` says (or with garbage for alg none). */
function forge(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject = p256.privateKey): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const c = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = Buffer.from(`${h}.${c}`);
  const alg = String(header.alg);
  const sig = alg.startsWith('ES') ? cryptoSign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) : alg.startsWith('RS') ? cryptoSign('sha256', input, key) : Buffer.from('x');
  return `${h}.${c}.${sig.toString('base64url')}`;
}

const exp = Math.floor(now.getTime() / 1000) + 300;
/** Debian's Python, where python3-jwt and python3-cryptography are installed (not a pyenv shim on PATH). */
const PYTHON = '/usr/bin/python3';

test('a minted JWT-SVID carries alg, kid, typ, sub, aud, exp, iat and validates; RSA and EC keys', () => {
  for (const [key, kid, alg] of [[p256.privateKey, 'k1', 'ES256'], [rsa.privateKey, 'k2', 'RS256']] as const) {
    const token = mintJwtSvid({ id: web, audience: ['db'], key, kid, now, ttlMs: 300_000 });
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(header, { alg, kid, typ: 'JWT' });
    const v = validateJwtSvid(token, { audience: 'db', bundle: bundles, now });
    assert.equal(v.id.toString(), 'spiffe://example.org/ns/prod/web');
    assert.deepEqual(v.audience, ['db']);
    assert.equal(v.kid, kid);
    assert.deepEqual(Object.keys(v.claims).sort(), ['aud', 'exp', 'iat', 'sub']);
  }
  assert.throws(() => mintJwtSvid({ id: web, audience: ['db'], key: generateKeyPairSync('ed25519').privateKey, kid: 'k', now, ttlMs: 300_000 }), (e) => isSignetError(e, 'ERR_KEY_UNSUPPORTED'));
  assert.throws(() => mintJwtSvid({ id: web, audience: [], key: p256.privateKey, kid: 'k1', now, ttlMs: 300_000 }), (e) => isSignetError(e, 'ERR_BAD_OPTION'));
});

test('validation refuses each wrong token with its reason, in the standard\'s order', () => {
  const good = { sub: web.toString(), aud: 'db', exp };
  const table: [string, string, JwtSvidReason | undefined][] = [
    ['valid, kid given', forge({ alg: 'ES256', kid: 'k1' }, good), undefined],
    ['valid without kid (every jwt-svid key is tried)', forge({ alg: 'ES256' }, good), undefined],
    ['valid with aud a list', forge({ alg: 'ES256', kid: 'k1', typ: 'JOSE' }, { ...good, aud: ['x', 'db'] }), undefined],
    ['not three segments', 'a.b', 'malformed'],
    ['a header that is not JSON', `bm90IGpzb24.${Buffer.from('{}').toString('base64url')}.AA`, 'malformed'],
    ['alg none (before a bad subject)', forge({ alg: 'none' }, { ...good, sub: 'nope' }), 'algorithm'],
    ['alg HS256', forge({ alg: 'HS256', kid: 'k1' }, good), 'algorithm'],
    ['alg EdDSA (not in the JWT-SVID list)', forge({ alg: 'EdDSA', kid: 'k1' }, good), 'algorithm'],
    ['typ other than JWT/JOSE', forge({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }, good), 'malformed'],
    ['crit', forge({ alg: 'ES256', kid: 'k1', crit: ['x'] }, good), 'malformed'],
    ['no sub', forge({ alg: 'ES256', kid: 'k1' }, { aud: 'db', exp }), 'subject'],
    ['sub not a SPIFFE ID', forge({ alg: 'ES256', kid: 'k1' }, { ...good, sub: 'spiffe://Example.org/x' }), 'subject'],
    ['a trust domain without a bundle (before the signature)', forge({ alg: 'ES256', kid: 'k1' }, { ...good, sub: 'spiffe://unknown.org/x' }, other.privateKey), 'no-bundle'],
    ['a kid the bundle does not have', forge({ alg: 'ES256', kid: 'k9' }, good), 'unknown-key'],
    ['signed by another trust domain\'s key (its own bundle only)', forge({ alg: 'ES256', kid: 'k1' }, good, other.privateKey), 'signature'],
    ['another domain\'s token checks against that domain\'s bundle', forge({ alg: 'ES256', kid: 'k1' }, { ...good, sub: 'spiffe://other.org/x' }, other.privateKey), undefined],
    ['alg that does not fit the key', forge({ alg: 'RS256', kid: 'k1' }, good, rsa.privateKey), 'signature'],
    ['expired and for another audience and badly signed: the signature first', forge({ alg: 'ES256', kid: 'k1' }, { ...good, exp: 1, aud: 'x' }, other.privateKey), 'signature'],
    ['no exp', forge({ alg: 'ES256', kid: 'k1' }, { sub: web.toString(), aud: 'db' }), 'expired'],
    ['expired (before the audience)', forge({ alg: 'ES256', kid: 'k1' }, { ...good, exp: 1, aud: 'x' }), 'expired'],
    ['no aud', forge({ alg: 'ES256', kid: 'k1' }, { sub: web.toString(), exp }), 'audience'],
    ['another audience', forge({ alg: 'ES256', kid: 'k1' }, { ...good, aud: 'cache' }), 'audience'],
  ];
  for (const [what, token, reason] of table) assert.equal(reasonOf(token), reason, what);
});

test('bundles: X.509 and JWT authorities with sequence and refresh hint round-trip; what go-spiffe refuses is refused', async () => {
  const tmp = tempDir('signet-spiffe-bundle-');
  try {
    const ca = await createTestCa({ parent: tmp.dir });
    const root = decodePem(readFileSync(ca.rootFile, 'utf8'), ['CERTIFICATE']).der;
    const b: TrustBundle = { trustDomain: 'example.org', x509Authorities: [root], jwtAuthorities: new Map([['k1', p256.publicKey]]), sequence: 7, refreshHintSeconds: 300 };
    const text = formatBundle(b);
    const doc = JSON.parse(text) as { keys: Record<string, unknown>[]; spiffe_sequence: number; spiffe_refresh_hint: number };
    assert.deepEqual(doc.keys.map((k) => k.use), ['x509-svid', 'jwt-svid']);
    assert.equal(doc.spiffe_sequence, 7);
    assert.equal(doc.spiffe_refresh_hint, 300);
    assert.ok(!text.includes('"d"'), 'no private members');
    const back = parseBundle(text, 'example.org');
    assert.deepEqual(back.x509Authorities.map((d) => Buffer.from(d).toString('hex')), [Buffer.from(root).toString('hex')]);
    assert.ok(back.jwtAuthorities.get('k1')?.equals(p256.publicKey));
    assert.equal(back.sequence, 7);
    assert.equal(back.refreshHintSeconds, 300);
    const jwk = { ...p256.publicKey.export({ format: 'jwk' }) };
    const bad: [string, unknown][] = [
      ['no keys', {}],
      ['a key without use', { keys: [{ ...jwk, kid: 'a' }] }],
      ['an unrecognized use', { keys: [{ ...jwk, kid: 'a', use: 'sig' }] }],
      ['a jwt-svid key without kid', { keys: [{ ...jwk, use: 'jwt-svid' }] }],
      ['a repeated kid', { keys: [{ ...jwk, use: 'jwt-svid', kid: 'a' }, { ...jwk, use: 'jwt-svid', kid: 'a' }] }],
      ['an x509-svid key without a certificate', { keys: [{ ...jwk, use: 'x509-svid' }] }],
      ['an x509-svid key that is not its certificate\'s', { keys: [{ ...jwk, use: 'x509-svid', x5c: [Buffer.from(root).toString('base64')] }] }],
      ['a private key', { keys: [{ ...p256.privateKey.export({ format: 'jwk' }), use: 'jwt-svid', kid: 'a' }] }],
      ['a negative sequence', { keys: [], spiffe_sequence: -1 }],
    ];
    for (const [what, d] of bad) assert.throws(() => parseBundle(JSON.stringify(d), 'example.org'), (e) => isSignetError(e, 'ERR_SPIFFE_BUNDLE_INVALID'), what);
    assert.throws(() => parseBundle('{"keys": [', 'example.org'), (e) => isSignetError(e, 'ERR_JSON_MALFORMED'));
  } finally {
    tmp.cleanup();
  }
});

test('PyJWT (an independent implementation) verifies Signet\'s JWT-SVIDs with the key from Signet\'s bundle document', () => {
  const script = `
import json, sys, jwt
bundle = json.loads(sys.argv[1]); token = sys.argv[2]
header = jwt.get_unverified_header(token)
key = next(k for k in bundle["keys"] if k.get("use") == "jwt-svid" and k["kid"] == header["kid"])
claims = jwt.decode(token, jwt.PyJWK(key, algorithm=header["alg"]).key, algorithms=[header["alg"]], audience="db", options={"require": ["exp", "sub", "aud"]})
print(json.dumps({"alg": header["alg"], "typ": header["typ"], "sub": claims["sub"]}))
`;
  const b: TrustBundle = { trustDomain: 'example.org', x509Authorities: [], jwtAuthorities: new Map([['k1', p256.publicKey], ['k2', rsa.publicKey]]) };
  for (const [key, kid, alg] of [[p256.privateKey, 'k1', 'ES256'], [rsa.privateKey, 'k2', 'RS256']] as const) {
    const token = mintJwtSvid({ id: web, audience: ['db'], key, kid, now, ttlMs: 300_000 });
    const r = spawnSync(PYTHON, ['-c', script, formatBundle(b), token], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { alg, typ: 'JWT', sub: 'spiffe://example.org/ns/prod/web' });
    // And PyJWT refuses it for another audience, as Signet does.
    const wrong = spawnSync(PYTHON, ['-c', script.replace('audience="db"', 'audience="cache"'), formatBundle(b), token], { encoding: 'utf8' });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /InvalidAudienceError/);
  }
});
