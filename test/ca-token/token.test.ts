/**
 * One-time tokens (src/ca/token.ts). Hostile tokens are built by hand — base64url JSON and
 * signatures from node:crypto — so the refusals do not lean on jose's own checks; jose serves as
 * the independent peer the other way round (it verifies what Signet mints).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { jwtVerify } from 'jose';
import { isSignetError, type SignetError } from '../../src/core/errors.js';
import { jwkThumbprint } from '../../src/crypto/jwk.js';
import {
  DEFAULT_TOKEN_LEEWAY_MS,
  MAX_TOKEN_SIZE,
  mintToken,
  tokenAlgorithmForKey,
  verifyToken,
  type TokenAlgorithm,
  type TokenProvisioner,
  type VerifyTokenOptions,
} from '../../src/ca/index.js';

// Keys are generated once for the file.
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const AUD = 'https://ca.example.com:9443/sign';
const ROOT = 'ab'.repeat(32);
const NOW = new Date('2026-03-01T12:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

const PROVISIONERS: Record<string, TokenProvisioner> = {
  admin: { publicKey: ec.publicKey },
  edge: { publicKey: ed.publicKey },
  legacy: { publicKey: rsa.publicKey },
  pinned: { publicKey: ec.publicKey, kid: jwkThumbprint(ec.publicKey) },
  'ed-only': { publicKey: ec.publicKey, algorithms: ['EdDSA'] },
};

function options(extra: Partial<VerifyTokenOptions> = {}): VerifyTokenOptions {
  return { provisioners: (name) => (Object.hasOwn(PROVISIONERS, name) ? PROVISIONERS[name] : undefined), audience: AUD, now: NOW, ...extra };
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWS signature computed with node:crypto only. */
function rawSignature(alg: TokenAlgorithm | 'HS256' | 'ES256-DER', key: KeyObject | Buffer, input: string): string {
  const data = Buffer.from(input);
  switch (alg) {
    case 'ES256':
      return sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    case 'ES256-DER':
      return sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'der' }).toString('base64url');
    case 'EdDSA':
      return sign(null, data, key).toString('base64url');
    case 'RS256':
      return sign('sha256', data, key).toString('base64url');
    case 'HS256':
      return createHmac('sha256', key).update(data).digest('base64url');
  }
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'admin', sub: 'api.example.com', aud: AUD, sans: ['api.example.com', '10.0.0.1'], sha: ROOT, iat: T, nbf: T, exp: T + 300, jti: 'jti-0001', ...extra };
}

/** A token built by hand: `header` and `payload` are objects or raw JSON text. */
function handToken(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  signer: { alg: TokenAlgorithm | 'HS256' | 'ES256-DER'; key: KeyObject | Buffer } | undefined = { alg: 'ES256', key: ec.privateKey },
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer === undefined ? '' : rawSignature(signer.alg, signer.key, input)}`;
}

function refused(token: string, code: string, extra: Partial<VerifyTokenOptions> = {}): SignetError {
  let caught: unknown;
  assert.throws(
    () => verifyToken(token, options(extra)),
    (e: unknown) => {
      caught = e;
      return isSignetError(e) && e.code === code;
    },
    `expected ${code}`,
  );
  return caught as SignetError;
}

test('minted tokens verify: ES256 (P-256), EdDSA (Ed25519), RS256 (RSA 2048)', async () => {
  for (const [name, key, alg] of [
    ['admin', ec.privateKey, 'ES256'],
    ['edge', ed.privateKey, 'EdDSA'],
    ['legacy', rsa.privateKey, 'RS256'],
  ] as const) {
    const token = await mintToken({ key, issuer: name, audience: AUD, subject: 'api.example.com', sans: ['api.example.com'], rootFingerprint: ROOT.toUpperCase(), now: NOW });
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(header, { alg, kid: jwkThumbprint(key), typ: 'JWT' });
    const c = verifyToken(token, options());
    assert.equal(c.provisioner, name);
    assert.equal(c.algorithm, alg);
    assert.equal(c.subject, 'api.example.com');
    assert.deepEqual(c.sans, ['api.example.com']);
    assert.equal(c.audience, AUD);
    assert.match(c.jti, /^[A-Za-z0-9_-]{22}$/, '128 random bits, base64url');
    assert.equal(c.rootFingerprint, ROOT, 'sha is lower-case hex');
    assert.equal(c.notBefore.getTime(), T * 1000);
    assert.equal(c.expiresAt.getTime(), (T + 300) * 1000, 'default lifetime 5 min');
    assert.equal(c.rememberUntil.getTime(), (T + 300) * 1000 + DEFAULT_TOKEN_LEEWAY_MS, 'the jti must be kept until exp + leeway');
    assert.equal(c.kid, jwkThumbprint(key));
    assert.equal(c.csrFingerprint, undefined);
    assert.ok(Object.isFrozen(c.payload));
  }
});

test('each token has its own jti; cnf binds a CSR; ttl and kid can be chosen', async () => {
  const base = { key: ec.privateKey, issuer: 'admin', audience: AUD, subject: 's', sans: [], rootFingerprint: ROOT, now: NOW };
  const a = verifyToken(await mintToken(base), options());
  const b = verifyToken(await mintToken(base), options());
  assert.notEqual(a.jti, b.jti);
  const c = verifyToken(await mintToken({ ...base, csrFingerprint: 'csr-sha256-hex', ttlMs: 3_600_000, kid: 'my-key' }), options());
  assert.equal(c.csrFingerprint, 'csr-sha256-hex');
  assert.equal(c.expiresAt.getTime() - c.notBefore.getTime(), 3_600_000);
  assert.equal(c.kid, 'my-key');
  assert.deepEqual(c.sans, []);
});

test('jose, as an independent verifier, accepts what Signet mints', async () => {
  for (const [key, pub, alg] of [
    [ec.privateKey, ec.publicKey, 'ES256'],
    [ed.privateKey, ed.publicKey, 'EdDSA'],
    [rsa.privateKey, rsa.publicKey, 'RS256'],
  ] as const) {
    const token = await mintToken({ key, issuer: 'admin', audience: AUD, subject: 'svc', sans: ['svc.example.com'], rootFingerprint: ROOT, now: NOW });
    const { payload, protectedHeader } = await jwtVerify(token, pub, { algorithms: [alg], audience: AUD, issuer: 'admin', typ: 'JWT', currentDate: NOW, requiredClaims: ['jti', 'nbf', 'exp', 'iat', 'sub'] });
    assert.equal(protectedHeader.alg, alg);
    assert.deepEqual(payload.sans, ['svc.example.com']);
    assert.equal(payload.sha, ROOT);
  }
});

test('hand-built tokens (node:crypto only) verify for every allowed algorithm', () => {
  assert.equal(verifyToken(handToken({ alg: 'ES256', typ: 'JWT' }, claims()), options()).jti, 'jti-0001');
  assert.equal(verifyToken(handToken({ alg: 'EdDSA' }, claims({ iss: 'edge' }), { alg: 'EdDSA', key: ed.privateKey }), options()).algorithm, 'EdDSA');
  assert.equal(verifyToken(handToken({ alg: 'RS256' }, claims({ iss: 'legacy' }), { alg: 'RS256', key: rsa.privateKey }), options()).algorithm, 'RS256');
  // aud as a one-element array (RFC 7519 §4.1.3), typ in another case (RFC 7515 §4.1.9)
  assert.equal(verifyToken(handToken({ alg: 'ES256', typ: 'jwt' }, claims({ aud: [AUD] })), options()).audience, AUD);
  // no nbf: the lifetime counts from iat
  assert.equal(verifyToken(handToken({ alg: 'ES256' }, claims({ nbf: undefined })), options()).notBefore.getTime(), T * 1000);
});

test('alg none, HS256 keyed with the public key, and every algorithm off the allow-list: ERR_TOKEN_ALGORITHM', () => {
  const spkiPem = Buffer.from(ec.publicKey.export({ type: 'spki', format: 'pem' }));
  const spkiDer = ec.publicKey.export({ type: 'spki', format: 'der' });
  const jwkText = Buffer.from(JSON.stringify(ec.publicKey.export({ format: 'jwk' })));
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    refused(handToken({ alg, typ: 'JWT' }, claims(), undefined), 'ERR_TOKEN_ALGORITHM');
  }
  for (const secret of [spkiPem, spkiDer, jwkText]) {
    refused(handToken({ alg: 'HS256' }, claims(), { alg: 'HS256', key: secret }), 'ERR_TOKEN_ALGORITHM');
  }
  for (const alg of ['HS384', 'HS512', 'ES384', 'ES512', 'ES256K', 'PS256', 'RS384', 'RS512', 'Ed25519', 'es256', 'ES256 ', '']) {
    refused(handToken({ alg }, claims()), 'ERR_TOKEN_ALGORITHM');
  }
  for (const alg of [null, 256, ['ES256'], { alg: 'ES256' }, true]) {
    refused(handToken({ alg }, claims()), 'ERR_TOKEN_ALGORITHM');
  }
  refused(handToken({ typ: 'JWT' }, claims()), 'ERR_TOKEN_ALGORITHM');
});

test('the algorithm is checked before anything else: no claim is read, no provisioner looked up', () => {
  let lookups = 0;
  const counting = options({ provisioners: () => (lookups++, PROVISIONERS.admin) });
  for (const token of [
    handToken({ alg: 'HS256', crit: ['exp'], jwk: { kty: 'oct' } }, 'not json at all', { alg: 'HS256', key: Buffer.from('x') }),
    `${b64({ alg: 'none' })}.${b64('[')}.`,
    `${b64({ alg: 'none' })}.${b64('\u0000\uffff')}.`,
  ]) {
    assert.throws(() => verifyToken(token, counting), (e: unknown) => isSignetError(e, 'ERR_TOKEN_ALGORITHM'));
  }
  assert.equal(lookups, 0);
});

test('an algorithm that does not fit the provisioner key: ERR_TOKEN_ALGORITHM', () => {
  // RS256 header, signed with an RSA key, against an EC provisioner
  refused(handToken({ alg: 'RS256' }, claims(), { alg: 'RS256', key: attackerRsa.privateKey }), 'ERR_TOKEN_ALGORITHM');
  // ES256 against the Ed25519 and RSA provisioners, EdDSA against the EC one
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'edge' })), 'ERR_TOKEN_ALGORITHM');
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'legacy' })), 'ERR_TOKEN_ALGORITHM');
  refused(handToken({ alg: 'EdDSA' }, claims(), { alg: 'EdDSA', key: ed.privateKey }), 'ERR_TOKEN_ALGORITHM');
  // a provisioner restricted to other algorithms
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'ed-only' })), 'ERR_TOKEN_ALGORITHM');
  // a provisioner with a weak RSA key can never verify
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  refused(handToken({ alg: 'RS256' }, claims({ iss: 'weak' }), { alg: 'RS256', key: weak.privateKey }), 'ERR_TOKEN_ALGORITHM', {
    provisioners: () => ({ publicKey: weak.publicKey, algorithms: ['RS256'] }),
  });
});

test('header parameters that bring their own key or extensions are refused, even when correctly signed', () => {
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  // Signed by the attacker with the key it embeds: must be refused as malformed, never checked against that key.
  refused(handToken({ alg: 'ES256', jwk: attackerJwk }, claims(), { alg: 'ES256', key: attacker.privateKey }), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', jku: 'https://evil.example/jwks.json' }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', x5u: 'https://evil.example/cert.pem' }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', x5c: ['MIIB'] }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', crit: ['exp'] }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', crit: [] }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', b64: false, crit: ['b64'] }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', zip: 'DEF' }, claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256', kid: 42 }, claims()), 'ERR_TOKEN_MALFORMED');
});

test('typ must be JWT when present', () => {
  for (const typ of ['at+jwt', 'JOSE', 'dpop+jwt', '', 1, null]) refused(handToken({ alg: 'ES256', typ }, claims()), 'ERR_TOKEN_MALFORMED');
});

test('unknown issuer or kid: ERR_TOKEN_UNKNOWN_PROVISIONER', () => {
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'nobody' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  // prototype names are not provisioners
  refused(handToken({ alg: 'ES256' }, claims({ iss: '__proto__' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'constructor' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  // a provisioner with a pinned kid wants exactly that kid
  assert.equal(verifyToken(handToken({ alg: 'ES256', kid: jwkThumbprint(ec.publicKey) }, claims({ iss: 'pinned' })), options()).provisioner, 'pinned');
  refused(handToken({ alg: 'ES256', kid: jwkThumbprint(attacker.publicKey) }, claims({ iss: 'pinned' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  refused(handToken({ alg: 'ES256' }, claims({ iss: 'pinned' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  // iss must be a string to look anything up
  for (const iss of [undefined, 1, ['admin'], '']) refused(handToken({ alg: 'ES256' }, claims({ iss })), 'ERR_TOKEN_MALFORMED');
});

test('signatures: another key, payload or header swapped after signing, bit flips, wrong encodings → ERR_TOKEN_SIGNATURE', async () => {
  refused(handToken({ alg: 'ES256' }, claims(), { alg: 'ES256', key: attacker.privateKey }), 'ERR_TOKEN_SIGNATURE');
  refused(handToken({ alg: 'EdDSA' }, claims({ iss: 'edge' }), { alg: 'EdDSA', key: generateKeyPairSync('ed25519').privateKey }), 'ERR_TOKEN_SIGNATURE');
  refused(handToken({ alg: 'RS256' }, claims({ iss: 'legacy' }), { alg: 'RS256', key: attackerRsa.privateKey }), 'ERR_TOKEN_SIGNATURE');

  const good = await mintToken({ key: ec.privateKey, issuer: 'admin', audience: AUD, subject: 'api.example.com', sans: ['api.example.com'], rootFingerprint: ROOT, now: NOW });
  const [h, p, s] = good.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  // payload swapped: more names, another audience, a later expiry
  refused(`${h}.${b64({ ...payload, sans: ['api.example.com', 'admin.example.com'] })}.${s}`, 'ERR_TOKEN_SIGNATURE');
  refused(`${h}.${b64({ ...payload, exp: (payload.exp as number) + 60 })}.${s}`, 'ERR_TOKEN_SIGNATURE');
  // header swapped (another kid, no typ)
  refused(`${b64({ alg: 'ES256', kid: 'other' })}.${p}.${s}`, 'ERR_TOKEN_SIGNATURE');
  // a signature flipped in one bit, truncated, empty, or borrowed from another token
  const sig = Buffer.from(s, 'base64url');
  sig[10] = (sig[10] as number) ^ 1;
  refused(`${h}.${p}.${sig.toString('base64url')}`, 'ERR_TOKEN_SIGNATURE');
  refused(`${h}.${p}.${s.slice(0, 40)}`, 'ERR_TOKEN_SIGNATURE');
  refused(`${h}.${p}.`, 'ERR_TOKEN_SIGNATURE');
  const other = (await mintToken({ key: ec.privateKey, issuer: 'admin', audience: AUD, subject: 'x', sans: [], rootFingerprint: ROOT, now: NOW })).split('.')[2] as string;
  refused(`${h}.${p}.${other}`, 'ERR_TOKEN_SIGNATURE');
  // an ECDSA signature in DER instead of R‖S (RFC 7518 §3.4)
  refused(handToken({ alg: 'ES256' }, claims(), { alg: 'ES256-DER', key: ec.privateKey }), 'ERR_TOKEN_SIGNATURE');
  // a non-canonical base64url signature: the spare low bits of the last character set
  const sibling = `${s.slice(0, -1)}${BASE64URL_ALPHABET.charAt(BASE64URL_ALPHABET.indexOf(s.slice(-1)) ^ 1)}`;
  assert.deepEqual(Buffer.from(sibling, 'base64url'), Buffer.from(s, 'base64url'), 'same bytes, other text');
  refused(`${h}.${p}.${sibling}`, 'ERR_TOKEN_SIGNATURE');
  // the untouched token still verifies
  assert.equal(verifyToken(good, options()).subject, 'api.example.com');
});

test('expired and not-yet-valid tokens, with the leeway explicit', () => {
  const token = handToken({ alg: 'ES256' }, claims());
  const at = (s: number): Partial<VerifyTokenOptions> => ({ now: new Date((T + s) * 1000) });
  // exp = T + 300; leeway 60 s: accepted until T + 360 (exclusive)
  assert.ok(verifyToken(token, options(at(359))));
  refused(token, 'ERR_TOKEN_EXPIRED', at(360));
  refused(token, 'ERR_TOKEN_EXPIRED', at(86_400));
  // no leeway: exp itself is too late (RFC 7519 §4.1.4: "on or after")
  assert.ok(verifyToken(token, { ...options(at(299)), leewayMs: 0 }));
  refused(token, 'ERR_TOKEN_EXPIRED', { ...at(300), leewayMs: 0 });
  // nbf = T: accepted from T − 60 s
  assert.ok(verifyToken(token, options(at(-60))));
  refused(token, 'ERR_TOKEN_NOT_YET_VALID', at(-61));
  refused(token, 'ERR_TOKEN_NOT_YET_VALID', { ...at(-1), leewayMs: 0 });
  // an iat in the future is refused even without nbf
  refused(handToken({ alg: 'ES256' }, claims({ nbf: undefined, iat: T + 120, exp: T + 400 })), 'ERR_TOKEN_NOT_YET_VALID');
  refused(handToken({ alg: 'ES256' }, claims({ nbf: T + 120, iat: T + 120, exp: T + 400 })), 'ERR_TOKEN_NOT_YET_VALID');
});

test('audience: exact string equality, one value', () => {
  for (const aud of ['https://ca.example.com:9443/sign/', 'https://CA.example.com:9443/sign', 'https://ca.example.com/sign', 'https://ca.example.com:9443/renew', 'https://ca.example.com:9443/sign?x', 'https://evil.example/sign']) {
    const e = refused(handToken({ alg: 'ES256' }, claims({ aud })), 'ERR_TOKEN_AUDIENCE');
    assert.ok(!e.message.includes(AUD), 'the expected audience is not revealed');
  }
  refused(handToken({ alg: 'ES256' }, claims({ aud: [AUD, 'https://other/'] })), 'ERR_TOKEN_MALFORMED');
  for (const aud of [[], [1], 5, '', undefined]) refused(handToken({ alg: 'ES256' }, claims({ aud })), 'ERR_TOKEN_MALFORMED');
  // several acceptable audiences (a CA reachable under several names)
  assert.ok(verifyToken(handToken({ alg: 'ES256' }, claims({ aud: 'https://localhost:9443/sign' })), options({ audience: [AUD, 'https://localhost:9443/sign'] })));
});

test('lifetime: exp − nbf (or exp − iat) at most one hour, or the configured maximum', () => {
  assert.ok(verifyToken(handToken({ alg: 'ES256' }, claims({ exp: T + 3600 })), options()));
  refused(handToken({ alg: 'ES256' }, claims({ exp: T + 3601 })), 'ERR_TOKEN_LIFETIME');
  refused(handToken({ alg: 'ES256' }, claims({ nbf: undefined, iat: T - 10, exp: T - 10 + 3601 })), 'ERR_TOKEN_LIFETIME');
  refused(handToken({ alg: 'ES256' }, claims({ exp: T + 86_400 * 365 })), 'ERR_TOKEN_LIFETIME');
  refused(handToken({ alg: 'ES256' }, claims({ exp: T + 601 })), 'ERR_TOKEN_LIFETIME', { maxLifetimeMs: 600_000 });
  // exp before nbf, both inside the leeway
  refused(handToken({ alg: 'ES256' }, claims({ nbf: T + 30, exp: T + 20 })), 'ERR_TOKEN_LIFETIME');
  refused(handToken({ alg: 'ES256' }, claims({ nbf: T, exp: T })), 'ERR_TOKEN_LIFETIME', { leewayMs: 60_000 });
});

test('claim types: NumericDates are integers, jti/sub/sans/sha/cnf have their types', () => {
  for (const extra of [
    { jti: undefined },
    { jti: '' },
    { jti: 7 },
    { jti: 'x'.repeat(257) },
    { sub: undefined },
    { sub: 42 },
    { exp: undefined },
    { exp: T + 300.5 },
    { exp: String(T + 300) },
    { nbf: -1 },
    { nbf: 1.5 },
    { iat: true },
    { nbf: undefined, iat: undefined },
    { exp: 2 ** 60 },
    { sans: undefined },
    { sans: 'api.example.com' },
    { sans: ['api.example.com', 7] },
    { sans: [''] },
    { sha: 'abc' },
    { sha: 5 },
    { cnf: 'x' },
    { cnf: {} },
    { cnf: { kid: 3 } },
  ]) {
    refused(handToken({ alg: 'ES256' }, claims(extra)), 'ERR_TOKEN_MALFORMED');
  }
  // exponent notation for an integer is still an integer NumericDate
  assert.ok(verifyToken(handToken({ alg: 'ES256' }, `{"iss":"admin","sub":"s","aud":"${AUD}","sans":[],"nbf":${T},"exp":${T + 300}.0e0,"jti":"j"}`), options()));
  const c = verifyToken(handToken({ alg: 'ES256' }, claims({ cnf: { kid: 'csr-fp' }, extra: { nested: true } })), options());
  assert.equal(c.csrFingerprint, 'csr-fp');
  assert.deepEqual(JSON.parse(JSON.stringify(c.payload.extra)), { nested: true });
});

test('shape: segments, base64url, JSON objects, duplicate members', () => {
  const good = handToken({ alg: 'ES256' }, claims());
  const [h, p, s] = good.split('.') as [string, string, string];
  for (const token of [
    '',
    'a.b',
    `${h}.${p}`,
    `${h}.${p}.${s}.x`,
    `${h}..${s}`,
    `.${p}.${s}`,
    `${h}=.${p}.${s}`,
    `${h}.${p}=.${s}`,
    `${h.replace(/-/g, '+')}+.${p}.${s}`,
    ` ${good}`,
    `${good}\n`,
    `${b64('[1]')}.${p}.${s}`,
    `${b64('"ES256"')}.${p}.${s}`,
    `${Buffer.from([0xff, 0xfe]).toString('base64url')}.${p}.${s}`,
  ]) {
    refused(token, 'ERR_TOKEN_MALFORMED');
  }
  // payload that is not a JSON object (the header is fine, so the algorithm check passes first)
  for (const payload of ['[1]', '"x"', 'null', '{"iss":"admin",}', '{"iss":"admin"']) refused(handToken({ alg: 'ES256' }, payload), 'ERR_TOKEN_MALFORMED');
  // duplicate members (RFC 7515 §5.2 lets a verifier reject them; JSON.parse would keep the last)
  refused(handToken('{"alg":"HS256","alg":"ES256"}', claims()), 'ERR_TOKEN_MALFORMED');
  refused(handToken({ alg: 'ES256' }, `{"iss":"admin","iss":"edge","sub":"s","aud":"${AUD}","sans":[],"nbf":${T},"exp":${T + 60},"jti":"j"}`), 'ERR_TOKEN_MALFORMED');
  // deep nesting in the payload
  refused(handToken({ alg: 'ES256' }, claims({ deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown })), 'ERR_TOKEN_MALFORMED');
  // a token that is not a string at all (JavaScript callers)
  assert.throws(() => verifyToken(42 as unknown as string, options()), (e: unknown) => isSignetError(e, 'ERR_TOKEN_MALFORMED'));
});

/** A valid token of exactly `length` characters (a padding claim and the kid length are tuned). */
function tokenOfLength(length: number): string {
  for (let k = 1; k <= 4; k++) {
    const header = { alg: 'ES256', kid: 'k'.repeat(k) };
    const base = handToken(header, claims({ pad: '' })).length;
    const estimate = Math.floor(((length - base) * 3) / 4);
    for (let n = Math.max(0, estimate - 4); n <= estimate + 4; n++) {
      const token = handToken(header, claims({ pad: 'x'.repeat(n) }));
      if (token.length === length) return token;
    }
  }
  throw new Error(`no token of ${length} characters`);
}

test('size limit: 8 KiB accepted, one character more refused before any parsing', () => {
  const limit = tokenOfLength(MAX_TOKEN_SIZE);
  assert.equal(limit.length, 8192);
  assert.ok(verifyToken(limit, options()));
  refused(tokenOfLength(MAX_TOKEN_SIZE + 1), 'ERR_TOKEN_MALFORMED');
  // an oversize token with alg none is refused for its size, not its algorithm: nothing is parsed
  refused(`${b64({ alg: 'none' })}.${'A'.repeat(MAX_TOKEN_SIZE)}.`, 'ERR_TOKEN_MALFORMED');
});

test('refusals carry one fixed message per code and no detail', () => {
  const seen = new Map<string, string>();
  const cases: [string, string][] = [
    [handToken({ alg: 'ES256' }, claims({ iss: 'nobody' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER'],
    [handToken({ alg: 'ES256' }, claims({ iss: 'other-unknown' })), 'ERR_TOKEN_UNKNOWN_PROVISIONER'],
    [handToken({ alg: 'ES256' }, claims(), { alg: 'ES256', key: attacker.privateKey }), 'ERR_TOKEN_SIGNATURE'],
    [handToken({ alg: 'ES256' }, claims({ iss: 'edge' })), 'ERR_TOKEN_ALGORITHM'],
    [handToken({ alg: 'none' }, claims(), undefined), 'ERR_TOKEN_ALGORITHM'],
    [handToken({ alg: 'ES256', crit: ['x'] }, claims()), 'ERR_TOKEN_MALFORMED'],
    [handToken({ alg: 'ES256' }, claims({ jti: undefined })), 'ERR_TOKEN_MALFORMED'],
  ];
  for (const [token, code] of cases) {
    const e = refused(token, code);
    assert.equal(e.detail, undefined);
    assert.ok(!/nobody|other-unknown|BEGIN|"x"/.test(e.message), e.message);
    const before = seen.get(code);
    if (before !== undefined) assert.equal(e.message, before, `one message for ${code}`);
    seen.set(code, e.message);
  }
});

test('minting refuses unusable keys and out-of-range options', async () => {
  const base = { key: ec.privateKey, issuer: 'admin', audience: AUD, subject: 's', sans: [], rootFingerprint: ROOT, now: NOW };
  const rejects = (extra: Record<string, unknown>, code: string) =>
    assert.rejects(mintToken({ ...base, ...extra }), (e: unknown) => isSignetError(e) && e.code === code, JSON.stringify(Object.keys(extra)));
  await rejects({ ttlMs: 3_600_001 }, 'ERR_BAD_OPTION');
  await rejects({ ttlMs: 999 }, 'ERR_BAD_OPTION');
  await rejects({ ttlMs: Number.NaN }, 'ERR_BAD_OPTION');
  await rejects({ audience: '/sign' }, 'ERR_BAD_OPTION');
  await rejects({ issuer: '' }, 'ERR_BAD_OPTION');
  await rejects({ subject: '' }, 'ERR_BAD_OPTION');
  await rejects({ sans: [''] }, 'ERR_BAD_OPTION');
  await rejects({ rootFingerprint: 'ab:cd' }, 'ERR_BAD_OPTION');
  await rejects({ now: new Date(Number.NaN) }, 'ERR_BAD_OPTION');
  await rejects({ key: ec.publicKey }, 'ERR_KEY_NOT_PRIVATE');
  await rejects({ key: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }, 'ERR_KEY_UNSUPPORTED');
  await rejects({ key: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey }, 'ERR_KEY_UNSUPPORTED');
  await rejects({ key: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }, 'ERR_KEY_WEAK');
  assert.equal(tokenAlgorithmForKey(createPublicKey(ed.privateKey)), 'EdDSA');
});

test('verifier options are bounded', () => {
  const token = handToken({ alg: 'ES256' }, claims());
  for (const extra of [{ leewayMs: 300_001 }, { leewayMs: -1 }, { maxLifetimeMs: 3_600_001 }, { maxLifetimeMs: 0 }, { audience: [] }, { audience: '' }, { now: new Date('x') }]) {
    assert.throws(() => verifyToken(token, options(extra)), (e: unknown) => isSignetError(e, 'ERR_BAD_OPTION'), JSON.stringify(extra));
  }
});
