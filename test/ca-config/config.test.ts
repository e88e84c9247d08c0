/**
 * The CA config pipeline (src/ca/config.ts) on text: defaults, path resolution, claims merged per
 * provisioner and checked after merging, every wrong field named by its JSON path (all at once,
 * with line and column), unknown fields with a suggestion, private JWKs refused, provisioner
 * names unique, strict JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { isSignetError, type SignetError } from '../../src/core/errors.js';
import { jwkThumbprint, type Jwk } from '../../src/crypto/jwk.js';
import { jwkProvisioner } from '../helpers/ca.js';
import {
  DEFAULT_CLAIMS,
  DEFAULT_CLAIMS_DOCUMENT,
  keyTypeName,
  parseCaConfig,
  parseListenAddress,
  type CaConfig,
  type ConfigProblem,
} from '../../src/ca/config.js';

const BASE_DIR = '/srv/signet';

// One key per type for the whole file (RSA is slow to generate).
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const ed25519 = generateKeyPairSync('ed25519');
const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });

function publicJwk(key: KeyObject): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }) };
}

/** A valid config document; tests mutate a fresh copy. */
function base(): Record<string, unknown> {
  return {
    version: 1,
    name: 'Example CA',
    address: '127.0.0.1:9443',
    dnsNames: ['localhost', '127.0.0.1'],
    root: 'certs/root.crt',
    intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key', passwordFile: '/run/secrets/ca-password' },
    provisioners: [{ type: 'JWK', name: 'admin', publicKey: publicJwk(p256.publicKey) }],
  };
}

function parse(doc: unknown): CaConfig {
  return parseCaConfig(JSON.stringify(doc, null, 2), { baseDir: BASE_DIR, name: 'signet.json' });
}

function problemsOf(doc: unknown): ConfigProblem[] {
  try {
    parse(doc);
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'), String(e));
    return (e.detail?.problems ?? []) as ConfigProblem[];
  }
  return assert.fail('expected ERR_CONFIG_INVALID');
}

/** `set(doc, '$.a.b[0]', v)`: replaces (or with undefined deletes) one value by its JSON path. */
function set(doc: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = [...path.slice(1).matchAll(/\.([A-Za-z_$][\w$]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
  let cur = doc as Record<string | number, unknown>;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === undefined) cur[p] = {};
    cur = cur[p] as Record<string | number, unknown>;
  }
  const last = parts[parts.length - 1] as string | number;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return doc;
}

test('a minimal config gets its defaults, in one place, and relative paths resolve against the base directory', () => {
  const doc = base();
  delete doc.provisioners;
  const c = parse(doc);
  assert.equal(c.version, 1);
  assert.equal(c.configPath, undefined);
  assert.equal(c.baseDir, BASE_DIR);
  assert.equal(c.name, 'Example CA');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9443 });
  assert.deepEqual(c.dnsNames, ['localhost', '127.0.0.1']);
  assert.equal(c.root, '/srv/signet/certs/root.crt');
  assert.deepEqual(c.intermediate, { certificate: '/srv/signet/certs/intermediate.crt', key: '/srv/signet/secrets/intermediate.key', passwordFile: '/run/secrets/ca-password' });
  assert.deepEqual(c.db, { type: 'sqlite', path: '/srv/signet/db/signet.db' });
  assert.deepEqual(c.claims, DEFAULT_CLAIMS);
  assert.equal(c.policy, undefined);
  assert.deepEqual(c.provisioners, []);
  assert.equal(c.crlUrl, undefined);
  assert.equal(c.ocspUrl, undefined);
  assert.equal(c.logLevel, 'info');
});

test('the resolved config is frozen all the way down', () => {
  const c = parse(base());
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.claims));
  assert.ok(Object.isFrozen(c.claims.keyTypes));
  assert.ok(Object.isFrozen(c.provisioners));
  assert.ok(Object.isFrozen(c.provisioners[0]));
  assert.ok(Object.isFrozen(jwkProvisioner(c.provisioners[0]).jwk));
  assert.throws(() => {
    (c.claims as { maxLifetimeMs: number }).maxLifetimeMs = 1;
  }, TypeError);
});

test('every field of the documented example is read', () => {
  const doc = {
    ...base(),
    db: { type: 'sqlite', path: '/var/lib/signet/signet.db' },
    claims: {
      minLifetime: '1m', maxLifetime: '72h', defaultLifetime: '12h', backdate: '30s', allowRenewal: false,
      allowRenewalAfterExpiry: true, renewalGracePeriod: '1h30m', keyTypes: ['EC P-256', 'Ed25519'],
    },
    policy: { allow: { dns: ['*.example.com'] }, deny: { dns: ['*.internal.example.com'] } },
    provisioners: [
      { type: 'JWK', name: 'admin', publicKey: publicJwk(p256.publicKey), claims: { maxLifetime: '1h', defaultLifetime: '30m' }, policy: {}, template: 'templates/leaf.json' },
      { type: 'JWK', name: 'ops@example.com', publicKey: { ...publicJwk(ed25519.publicKey), kid: 'ops-2026', alg: 'EdDSA', use: 'sig', key_ops: ['verify'] } },
      { type: 'JWK', name: 'legacy', publicKey: publicJwk(rsa2048.publicKey) },
    ],
    crlUrl: 'http://pki.example.com/crl',
    ocspUrl: 'https://ocsp.example.com/',
    logLevel: 'debug',
  };
  const c = parse(doc);
  assert.deepEqual(c.db, { type: 'sqlite', path: '/var/lib/signet/signet.db' });
  assert.deepEqual(c.claims, {
    ...DEFAULT_CLAIMS,
    minLifetimeMs: 60_000, maxLifetimeMs: 72 * 3_600_000, defaultLifetimeMs: 12 * 3_600_000, backdateMs: 30_000,
    allowRenewal: false, allowRenewalAfterExpiry: true, renewalGracePeriodMs: 90 * 60_000, keyTypes: ['EC P-256', 'Ed25519'],
  });
  assert.deepEqual(c.policy, { allow: { dns: ['*.example.com'] }, deny: { dns: ['*.internal.example.com'] } });
  assert.equal(c.crlUrl, 'http://pki.example.com/crl');
  assert.equal(c.ocspUrl, 'https://ocsp.example.com/');
  assert.equal(c.logLevel, 'debug');

  const [admin, ops, legacy] = c.provisioners.map(jwkProvisioner);
  assert.ok(admin && ops && legacy);
  // Provisioner claims override the authority's field by field.
  assert.deepEqual(admin.claims, { ...c.claims, maxLifetimeMs: 3_600_000, defaultLifetimeMs: 30 * 60_000 });
  assert.deepEqual(admin.policy, {});
  assert.equal(admin.template, '/srv/signet/templates/leaf.json');
  assert.equal(admin.algorithm, 'ES256');
  assert.equal(admin.kid, jwkThumbprint(publicJwk(p256.publicKey) as Jwk), 'kid defaults to the RFC 7638 thumbprint');
  assert.equal(admin.jwk.kid, admin.kid);
  assert.ok(admin.publicKey.equals(p256.publicKey), 'the imported key is the configured key');
  assert.deepEqual(Object.keys(admin.jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'x', 'y']);
  assert.equal(ops.algorithm, 'EdDSA');
  assert.equal(ops.kid, 'ops-2026');
  assert.deepEqual(ops.claims, c.claims, 'no overrides: the authority claims');
  assert.equal(ops.policy, undefined);
  assert.equal(legacy.algorithm, 'RS256');
});

test('absolute paths stay as written; ./ and ../ resolve against the base directory', () => {
  const c = parse(set(set(base(), '$.root', '/etc/pki/root.pem'), '$.intermediate.key', '../keys/int.key'));
  assert.equal(c.root, '/etc/pki/root.pem');
  assert.equal(c.intermediate.key, '/srv/keys/int.key');
});

test('listen addresses: host:port, [v6]:port, :port', () => {
  const table: [string, { host: string; port: number } | undefined][] = [
    ['127.0.0.1:9443', { host: '127.0.0.1', port: 9443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['CA.Example.com:8443', { host: 'ca.example.com', port: 8443 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    [':9443', { host: '', port: 9443 }],
    ['0.0.0.0:65535', { host: '0.0.0.0', port: 65535 }],
    ['127.0.0.1', undefined],
    ['127.0.0.1:0', undefined],
    ['127.0.0.1:65536', undefined],
    ['::1:443', undefined],
    ['[10.0.0.1]:443', undefined],
    ['ca.example.com:https', undefined],
    ['bad_host:443', undefined],
    ['ca.example.com:443/path', undefined],
  ];
  for (const [text, expected] of table) assert.deepEqual(parseListenAddress(text), expected, text);
});

test('every wrong field is named by its JSON path', () => {
  const p384Jwk = publicJwk(p384.publicKey);
  const table: [path: string, value: unknown, problemPath: string, message: RegExp][] = [
    ['$.name', 5, '$.name', /expected a non-empty string, got the number 5/],
    ['$.name', '', '$.name', /non-empty string/],
    ['$.name', 'Evil\u001b[31m CA', '$.name', /control/],
    ['$.address', 9443, '$.address', /expected HOST:PORT, got the number 9443/],
    ['$.address', 'localhost', '$.address', /expected HOST:PORT such as/],
    ['$.address', '127.0.0.1:0', '$.address', /HOST:PORT/],
    ['$.dnsNames', 'localhost', '$.dnsNames', /expected a list, got the string "localhost"/],
    ['$.dnsNames', [], '$.dnsNames', /must not be empty/],
    ['$.dnsNames', ['localhost', 3], '$.dnsNames[1]', /DNS name or an IP address, got the number 3/],
    ['$.dnsNames', ['*.example.com'], '$.dnsNames[0]', /DNS name or an IP address/],
    ['$.dnsNames', ['ca.example.com', 'CA.example.com'], '$.dnsNames[1]', /duplicate of \$\.dnsNames\[0\]/],
    ['$.root', 3, '$.root', /expected a file path, got the number 3/],
    ['$.root', '', '$.root', /file path/],
    ['$.intermediate', 'certs/intermediate.crt', '$.intermediate', /expected an object, got the string/],
    ['$.intermediate.certificate', true, '$.intermediate.certificate', /file path, got true/],
    ['$.intermediate.key', undefined, '$.intermediate.key', /is required/],
    ['$.intermediate.passwordFile', ['a'], '$.intermediate.passwordFile', /file path, got a list/],
    ['$.intermediate.password', 'hunter2', '$.intermediate.password', /secrets never go in the config: did you mean "passwordFile"/],
    ['$.db', { type: 'mysql' }, '$.db.type', /expected a database type \(sqlite, postgres\), got the string "mysql"/],
    ['$.db', { type: 'postgres' }, '$.db.url', /is required/],
    ['$.db', { type: 'sqlite', url: 'postgres://a@b/c' }, '$.db.url', /unknown field/],
    ['$.db', { path: 'x.db' }, '$.db.type', /is required/],
    ['$.db', { type: 'sqlite', path: 5 }, '$.db.path', /file path/],
    ['$.db', 'sqlite', '$.db', /expected an object/],
    ['$.claims', [], '$.claims', /expected an object, got a list/],
    ['$.claims.minLifetime', 5, '$.claims.minLifetime', /expected a duration .*, got the number 5/],
    ['$.claims.maxLifetime', '5 minutes', '$.claims.maxLifetime', /expected a duration/],
    ['$.claims.defaultLifetime', '-5m', '$.claims.defaultLifetime', /greater than zero/],
    ['$.claims.minLifetime', '0s', '$.claims.minLifetime', /greater than zero/],
    ['$.claims.backdate', '2h', '$.claims.backdate', /at most 1h/],
    ['$.claims.renewalGracePeriod', '-1s', '$.claims.renewalGracePeriod', /zero or more/],
    ['$.claims.allowRenewal', 'yes', '$.claims.allowRenewal', /expected true or false, got the string "yes"/],
    ['$.claims.allowRenewalAfterExpiry', 1, '$.claims.allowRenewalAfterExpiry', /true or false/],
    ['$.claims.keyTypes', 'EC P-256', '$.claims.keyTypes', /expected a list/],
    ['$.claims.keyTypes', [], '$.claims.keyTypes', /must not be empty/],
    ['$.claims.keyTypes', ['EC P256'], '$.claims.keyTypes[0]', /did you mean "EC P-256"/],
    ['$.claims.keyTypes', ['RSA 1024'], '$.claims.keyTypes[0]', /expected a key type/],
    ['$.claims.keyTypes', ['Ed25519', 'Ed25519'], '$.claims.keyTypes[1]', /duplicate key type/],
    ['$.claims.maxLifeTime', '1h', '$.claims.maxLifeTime', /did you mean "maxLifetime"/],
    ['$.policy', [], '$.policy', /expected an object with "allow" and\/or "deny"/],
    ['$.policy', { allow: { dns: 'example.com' } }, '$.policy.allow.dns', /list/],
    ['$.policy', { allow: { ip: ['10.0.0.0/33'] } }, '$.policy.allow.ip[0]', /prefix/],
    ['$.policy', { alow: {} }, '$.policy.alow', /unknown field/],
    ['$.provisioners', {}, '$.provisioners', /expected a list, got an object/],
    ['$.provisioners', [3], '$.provisioners[0]', /expected a provisioner object/],
    ['$.provisioners[0].type', 'X5C', '$.provisioners[0].type', /expected a provisioner type \(JWK, ACME, OIDC\)/],
    ['$.provisioners[0].type', 'jwk', '$.provisioners[0].type', /did you mean "JWK"/],
    ['$.provisioners[0].type', undefined, '$.provisioners[0].type', /is required/],
    ['$.provisioners[0].name', 'admin team', '$.provisioners[0].name', /letters, digits/],
    ['$.provisioners[0].name', '../etc/passwd', '$.provisioners[0].name', /letters, digits/],
    ['$.provisioners[0].publicKey', undefined, '$.provisioners[0].publicKey', /is required/],
    ['$.provisioners[0].publicKey', 'MFkwEwYHKoZIzj0CAQ', '$.provisioners[0].publicKey', /expected a public JWK object/],
    ['$.provisioners[0].publicKey', { ...p384Jwk }, '$.provisioners[0].publicKey', /cannot verify tokens: only P-256 EC keys/],
    ['$.provisioners[0].publicKey.alg', 'RS256', '$.provisioners[0].publicKey.alg', /this key signs tokens with ES256/],
    ['$.provisioners[0].publicKey.use', 'enc', '$.provisioners[0].publicKey.use', /expected "sig"/],
    ['$.provisioners[0].publicKey.key_ops', ['sign'], '$.provisioners[0].publicKey.key_ops', /must include "verify"/],
    ['$.provisioners[0].publicKey.x5u', 'https://x', '$.provisioners[0].publicKey.x5u', /unknown field/],
    ['$.provisioners[0].publicKey.n', 'AQAB', '$.provisioners[0].publicKey.n', /not a member of an EC key/],
    ['$.provisioners[0].publicKey.y', undefined, '$.provisioners[0].publicKey.y', /is required for an EC key/],
    ['$.provisioners[0].publicKey.x', 'AAAA', '$.provisioners[0].publicKey', /is not a valid EC public key/],
    ['$.provisioners[0].publicKey.kty', 'oct', '$.provisioners[0].publicKey.kty', /expected a key type \(EC, OKP, RSA\)/],
    ['$.provisioners[0].template', 5, '$.provisioners[0].template', /file path/],
    ['$.provisioners[0].claims', { maxLifetime: 'forever' }, '$.provisioners[0].claims.maxLifetime', /duration/],
    ['$.provisioners[0].policy', { deny: { email: ['not an address'] } }, '$.provisioners[0].policy.deny.email[0]', /.+/],
    ['$.provisioners[0].secret', 'x', '$.provisioners[0].secret', /unknown field/],
    ['$.provisioners[0]', { type: 'ACME', name: 'acme', challenges: ['smtp-01'] }, '$.provisioners[0].challenges[0]', /expected a challenge type \(http-01, dns-01, tls-alpn-01\)/],
    ['$.provisioners[0]', { type: 'ACME', name: 'acme', challenges: [] }, '$.provisioners[0].challenges', /must not be empty/],
    ['$.provisioners[0]', { type: 'ACME', name: 'acme', requireEAB: 'yes' }, '$.provisioners[0].requireEAB', /true or false/],
    ['$.provisioners[0]', { type: 'ACME', name: 'acme', termsOfService: 'tos.html' }, '$.provisioners[0].termsOfService', /http:\/\/ or https:\/\//],
    ['$.provisioners[0]', { type: 'ACME', name: 'acme', publicKey: {} }, '$.provisioners[0].publicKey', /unknown field/],
    ['$.acme', { httpPort: 0 }, '$.acme.httpPort', /port number from 1 to 65535/],
    ['$.acme', { tlsPort: '443' }, '$.acme.tlsPort', /port number/],
    ['$.acme', { dnsServers: ['dns.example.com'] }, '$.acme.dnsServers[0]', /DNS server as IP or IP:port/],
    ['$.acme', { dnsServers: ['[::1]:99999'] }, '$.acme.dnsServers[0]', /DNS server/],
    ['$.acme', { validationTimeout: '5m' }, '$.acme.validationTimeout', /at most 1m/],
    ['$.acme', { allowPrivate: true }, '$.acme.allowPrivate', /unknown field/],
    ['$.crlUrl', 'ftp://pki.example.com/crl', '$.crlUrl', /http:\/\/ or https:\/\//],
    ['$.crlUrl', 'pki.example.com/crl', '$.crlUrl', /http:\/\/ or https:\/\//],
    ['$.ocspUrl', 3, '$.ocspUrl', /URL/],
    ['$.revocation', true, '$.revocation', /object/],
    ['$.revocation', { httpAddress: 'localhost' }, '$.revocation.httpAddress', /HOST:PORT/],
    ['$.revocation', { httpAddress: ':0' }, '$.revocation.httpAddress', /HOST:PORT/],
    ['$.revocation', { propagation: '500ms' }, '$.revocation.propagation', /.+/],
    ['$.revocation', { propagation: '2h' }, '$.revocation.propagation', /at most 1h/],
    ['$.revocation', { crl: { validity: '1h', refresh: '2h' } }, '$.revocation.crl.refresh', /must be shorter than validity/],
    ['$.revocation', { crl: { validity: '60d' } }, '$.revocation.crl.validity', /at most 30d/],
    ['$.revocation', { crl: { refresh: '2s' } }, '$.revocation.crl.refresh', /must not be shorter than revocation.propagation \(5s\)/],
    ['$.revocation', { crl: { enabled: 'no' } }, '$.revocation.crl.enabled', /true or false/],
    ['$.revocation', { crl: { shards: 0 } }, '$.revocation.crl.shards', /whole number from 1 to 64/],
    ['$.revocation', { crl: { shards: 65 } }, '$.revocation.crl.shards', /whole number from 1 to 64/],
    ['$.revocation', { crl: { shards: '4' } }, '$.revocation.crl.shards', /whole number from 1 to 64/],
    ['$.revocation', { crl: { nextUpdate: '1h' } }, '$.revocation.crl.nextUpdate', /unknown field/],
    ['$.revocation', { ocsp: { enabled: 1 } }, '$.revocation.ocsp.enabled', /true or false/],
    ['$.revocation', { ocsp: { validity: '10s' } }, '$.revocation.ocsp.validity', /at least 4 × revocation.propagation \(20s\)/],
    ['$.revocation', { ocsp: { validity: '8d' } }, '$.revocation.ocsp.validity', /at most 7d/],
    ['$.revocation', { ocsp: { validity: '4d' } }, '$.revocation.ocsp.validity', /signerLifetime \(7d\) must be at least 3 × validity \(4d\)/],
    ['$.revocation', { ocsp: { signerLifetime: '1h' } }, '$.revocation.ocsp.signerLifetime', /at least 3 × validity \(4h\)/],
    ['$.revocation', { ocsp: { signerLifetime: '100d' } }, '$.revocation.ocsp.signerLifetime', /at most 90d/],
    ['$.revocation', { ocsp: { cacheSize: -1 } }, '$.revocation.ocsp.cacheSize', /whole number from 0 to 10000000/],
    ['$.revocation', { ocsp: { cacheSize: 1.5 } }, '$.revocation.ocsp.cacheSize', /whole number/],
    ['$.revocation', { ocsp: { responderKey: 'x' } }, '$.revocation.ocsp.responderKey', /unknown field/],
    ['$.revocation', { oscp: {} }, '$.revocation.oscp', /unknown field.*did you mean "ocsp"/],
    ['$.spiffe', { jwtKeyType: 'Ed25519' }, '$.spiffe.jwtKeyType', /JWT-SVID key type/],
    ['$.spiffe', { jwtKeyType: 'EC P-224' }, '$.spiffe.jwtKeyType', /JWT-SVID key type/],
    ['$.spiffe', { jwtKeyLifetime: '30m' }, '$.spiffe.jwtKeyLifetime', /at least 1h/],
    ['$.spiffe', { jwtKeyLifetime: '91d' }, '$.spiffe.jwtKeyLifetime', /at most 90d/],
    ['$.spiffe', { refreshHint: '500ms' }, '$.spiffe.refreshHint', /at least 1s/],
    ['$.spiffe', { refreshHint: '5h' }, '$.spiffe.refreshHint', /refreshHint \(5h\) must be at most a sixth of jwtKeyLifetime \(1d\)/],
    ['$.spiffe', { bundleEndpoint: {} }, '$.spiffe.bundleEndpoint', /unknown field/],
    ['$.spiffe', 'on', '$.spiffe', /object/],
    ['$.spiffe', { agentSvidLifetime: '1m' }, '$.spiffe.agentSvidLifetime', /at least 5m/],
    ['$.spiffe', { agentSvidLifetime: '8d' }, '$.spiffe.agentSvidLifetime', /at most 7d/],
    ['$.spiffe', { tpmEkCaFile: 7 }, '$.spiffe.tpmEkCaFile', /./],
    ['$.spiffe', { tpmEkCaFile: '' }, '$.spiffe.tpmEkCaFile', /./],
    ['$.logLevel', 'verbose', '$.logLevel', /expected a log level \(debug, info, warn, error\)/],
    ['$.logLevel', 'inf', '$.logLevel', /did you mean "info"/],
  ];
  for (const [path, value, problemPath, message] of table) {
    const problems = problemsOf(set(base(), path, value));
    assert.deepEqual(problems.map((p) => p.path), [problemPath], `${path} = ${JSON.stringify(value)}: ${JSON.stringify(problems)}`);
    assert.match(problems[0]?.message ?? '', message, `${path} = ${JSON.stringify(value)}`);
  }
});

test('ACME provisioners and the acme section: defaults and values', () => {
  const doc = base();
  (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme' }, { type: 'ACME', name: 'acme-eab', challenges: ['dns-01', 'dns-01'], requireEAB: true, termsOfService: 'https://example.com/tos', claims: { maxLifetime: '2h', defaultLifetime: '1h' } });
  doc.acme = { httpPort: 8080, tlsPort: 8443, dnsServers: ['127.0.0.1:5353', '::1', '[::1]:53'], allowPrivateAddresses: true, validationTimeout: '3s' };
  const c = parseCaConfig(JSON.stringify(doc), { baseDir: '/srv/signet' });
  const [plain, eab] = c.provisioners.filter((p) => p.type === 'ACME');
  assert.deepEqual(plain && { ...plain, claims: undefined }, { type: 'ACME', name: 'acme', challenges: ['http-01', 'dns-01', 'tls-alpn-01'], requireEAB: false, termsOfService: undefined, claims: undefined });
  assert.deepEqual(eab?.challenges, ['dns-01'], 'duplicates collapse');
  assert.equal(eab?.requireEAB, true);
  assert.equal(eab?.termsOfService, 'https://example.com/tos');
  assert.equal(eab?.claims.maxLifetimeMs, 2 * 3_600_000);
  assert.deepEqual(c.acme, { httpPort: 8080, tlsPort: 8443, dnsServers: ['127.0.0.1:5353', '::1', '[::1]:53'], allowPrivateAddresses: true, validationTimeoutMs: 3000 });
  assert.deepEqual(parseCaConfig(JSON.stringify(base()), { baseDir: '/srv/signet' }).acme, { httpPort: 80, tlsPort: 443, dnsServers: [], allowPrivateAddresses: false, validationTimeoutMs: 10_000 });
});

test('the revocation section: defaults, values, and a refresh derived from a shorter validity', () => {
  const defaults = parseCaConfig(JSON.stringify(base()), { baseDir: '/srv/signet' }).revocation;
  const ocsp = { enabled: true, validityMs: 4 * 3_600_000, signerLifetimeMs: 7 * 24 * 3_600_000, cacheSize: 100_000 };
  assert.deepEqual(defaults, { httpAddress: undefined, httpListen: undefined, propagationMs: 5000, crl: { enabled: true, validityMs: 24 * 3_600_000, refreshMs: 8 * 3_600_000, shards: 1 }, ocsp });
  const doc = base();
  doc.revocation = { httpAddress: '[::1]:8080', propagation: '2s', crl: { validity: '6h', shards: 16 }, ocsp: { validity: '1h', signerLifetime: '3h', cacheSize: 0 } };
  const c = parseCaConfig(JSON.stringify(doc), { baseDir: '/srv/signet' }).revocation;
  assert.deepEqual(c, {
    httpAddress: '[::1]:8080',
    httpListen: { host: '::1', port: 8080 },
    propagationMs: 2000,
    crl: { enabled: true, validityMs: 6 * 3_600_000, refreshMs: 2 * 3_600_000, shards: 16 },
    ocsp: { enabled: true, validityMs: 3_600_000, signerLifetimeMs: 3 * 3_600_000, cacheSize: 0 },
  });
});

test('the spiffe section: defaults, values', () => {
  assert.deepEqual(parseCaConfig(JSON.stringify(base()), { baseDir: '/srv/signet' }).spiffe, { jwtKeyType: 'EC P-256', jwtKeyLifetimeMs: 24 * 3_600_000, refreshHintMs: 300_000, agentSvidLifetimeMs: 3_600_000 });
  const doc = base();
  doc.spiffe = { jwtKeyType: 'RSA 3072', jwtKeyLifetime: '7d', refreshHint: '1h', agentSvidLifetime: '30m', x509popCaFile: 'devices.pem', tpmEkCaFile: '/etc/tpm/manufacturers.pem' };
  assert.deepEqual(parseCaConfig(JSON.stringify(doc), { baseDir: '/srv/signet' }).spiffe, { jwtKeyType: 'RSA 3072', jwtKeyLifetimeMs: 7 * 24 * 3_600_000, refreshHintMs: 3_600_000, agentSvidLifetimeMs: 1_800_000, x509popCaFile: '/srv/signet/devices.pem', tpmEkCaFile: '/etc/tpm/manufacturers.pem' });
  const claims = parseCaConfig(JSON.stringify(set(base(), '$.claims', { jwtSvidMinLifetime: '30s', jwtSvidDefaultLifetime: '10m', jwtSvidMaxLifetime: '2h' })), { baseDir: '/srv/signet' }).claims;
  assert.deepEqual([claims.jwtSvidMinLifetimeMs, claims.jwtSvidDefaultLifetimeMs, claims.jwtSvidMaxLifetimeMs], [30_000, 600_000, 7_200_000]);
});

test('a required top-level field that is missing is named', () => {
  for (const field of ['version', 'name', 'address', 'dnsNames', 'root', 'intermediate']) {
    const doc = base();
    delete doc[field];
    assert.deepEqual(problemsOf(doc).map((p) => [p.path, p.message]), [[`$.${field}`, 'is required']], field);
  }
});

test('another config version is reported alone (its other fields would only be noise)', () => {
  const p = problemsOf({ ...base(), version: 2, somethingNew: true });
  assert.deepEqual(p.map((x) => [x.path, x.message]), [['$.version', 'unsupported config version 2; this Signet reads version 1']]);
  assert.match(problemsOf({ ...base(), version: '1' })[0]?.message ?? '', /expected the number 1, got the string "1"/);
});

test('an unknown field gets the closest known name, and its position points at the key', () => {
  const text = '{\n  "version": 1,\n  "name": "Example CA",\n  "adress": "127.0.0.1:9443"\n}\n';
  try {
    parseCaConfig(text, { baseDir: BASE_DIR, name: 'signet.json' });
    assert.fail('expected ERR_CONFIG_INVALID');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'));
    const problems = e.detail?.problems as ConfigProblem[];
    assert.deepEqual(problems[0], { path: '$.adress', message: 'unknown field (did you mean "address"?)', line: 4, column: 3 });
    assert.ok(problems.some((p) => p.path === '$.address' && p.message === 'is required'));
    assert.match(problemsOf({ ...base(), frobnicate: 1 })[0]?.message ?? '', /^unknown field \(known fields: version, name, address, /);
  }
});

test('all problems at once: the message counts them and names the first, detail lists each with its position', () => {
  const doc = set(set(set(base(), '$.address', 'nowhere'), '$.claims.backdate', 'soon'), '$.logLevel', 'loud');
  try {
    parse(doc);
    assert.fail('expected ERR_CONFIG_INVALID');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'));
    assert.match(e.message, /^signet\.json: 3 problems, the first: \$\.address: expected HOST:PORT .* \(line \d+, column \d+\)$/);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.hint ?? '', /signet ca config validate/);
    const problems = e.detail?.problems as ConfigProblem[];
    assert.deepEqual(problems.map((p) => p.path), ['$.address', '$.claims.backdate', '$.logLevel']);
    for (const p of problems) assert.ok(typeof p.line === 'number' && typeof p.column === 'number', p.path);
  }
  // One problem: no count, no hint.
  try {
    parse(set(base(), '$.logLevel', 'loud'));
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'));
    assert.match(e.message, /^signet\.json: \$\.logLevel: /);
    assert.equal(e.hint, undefined);
  }
});

test('claims: min <= default <= max after merging, and renewal after expiry needs a grace period', () => {
  const cases: [doc: Record<string, unknown>, expected: [string, RegExp][]][] = [
    [set(base(), '$.claims', { minLifetime: '2h', maxLifetime: '1h' }), [['$.claims.minLifetime', /^minLifetime 2h is longer than maxLifetime 1h$/]]],
    [set(base(), '$.claims', { minLifetime: '1h', defaultLifetime: '30m' }), [['$.claims.defaultLifetime', /^defaultLifetime 30m is shorter than minLifetime 1h$/]]],
    [set(base(), '$.claims', { maxLifetime: '12h' }), [['$.claims.maxLifetime', /^defaultLifetime 1d is longer than maxLifetime 12h$/]]],
    [set(base(), '$.claims', { allowRenewalAfterExpiry: true }), [['$.claims.allowRenewalAfterExpiry', /renewalGracePeriod is 0s/]]],
    [set(base(), '$.claims', { jwtSvidMaxLifetime: '2m' }), [['$.claims.jwtSvidMaxLifetime', /^jwtSvidDefaultLifetime 5m is longer than jwtSvidMaxLifetime 2m$/]]],
    [set(base(), '$.provisioners[0].claims', { jwtSvidMinLifetime: '2h' }), [['$.provisioners[0].claims.jwtSvidMinLifetime', /^jwtSvidMinLifetime 2h is longer than jwtSvidMaxLifetime 1h \(from \$\.claims\)$/]]],
    // A provisioner override that conflicts with an inherited value: the message says where that came from.
    [set(base(), '$.provisioners[0].claims', { defaultLifetime: '48h' }), [['$.provisioners[0].claims.defaultLifetime', /^defaultLifetime 2d is longer than maxLifetime 1d \(from \$\.claims\)$/]]],
    [set(set(base(), '$.claims', { maxLifetime: '72h' }), '$.provisioners[0].claims', { maxLifetime: '1h' }), [['$.provisioners[0].claims.maxLifetime', /^defaultLifetime 1d \(from \$\.claims\) is longer than maxLifetime 1h$/]]],
    [set(base(), '$.provisioners[0].claims', { allowRenewalAfterExpiry: true }), [['$.provisioners[0].claims.allowRenewalAfterExpiry', /0s \(from \$\.claims\)/]]],
    // The authority's own mistake is reported once, not again for every provisioner.
    [set(set(base(), '$.claims', { minLifetime: '2d' }), '$.provisioners[0].claims', { backdate: '0s' }), [['$.claims.minLifetime', /longer than maxLifetime/]]],
  ];
  for (const [doc, expected] of cases) {
    const p = problemsOf(doc);
    assert.deepEqual(p.map((x) => x.path), expected.map(([path]) => path), JSON.stringify(p));
    expected.forEach(([, re], i) => assert.match(p[i]?.message ?? '', re));
  }
  // Merged claims that are fine: a provisioner may lower the max below the authority default if it lowers the default too.
  const ok = parse(set(base(), '$.provisioners[0].claims', { maxLifetime: '1h', defaultLifetime: '1h', allowRenewalAfterExpiry: true, renewalGracePeriod: '12h' }));
  assert.equal(ok.provisioners[0]?.claims.maxLifetimeMs, 3_600_000);
  assert.equal(ok.provisioners[0]?.claims.renewalGracePeriodMs, 12 * 3_600_000);
  assert.equal(ok.claims.maxLifetimeMs, DEFAULT_CLAIMS.maxLifetimeMs, 'the authority claims are unchanged');
});

test('a wrong claim is reported without a misleading ordering problem built on its default', () => {
  const p = problemsOf(set(base(), '$.claims', { minLifetime: 'soon', maxLifetime: '1m' }));
  assert.deepEqual(p.map((x) => x.path), ['$.claims.minLifetime']);
});

test('a private JWK is refused: secrets never go in the config', () => {
  for (const key of [p256.privateKey, ed25519.privateKey, rsa2048.privateKey]) {
    const p = problemsOf(set(base(), '$.provisioners[0].publicKey', key.export({ format: 'jwk' })));
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.equal(p[0]?.path, '$.provisioners[0].publicKey');
    assert.match(p[0]?.message ?? '', /is a private key \(it has "d"/);
  }
  const sym = problemsOf(set(base(), '$.provisioners[0].publicKey', { kty: 'oct', k: 'c2VjcmV0' }));
  assert.match(sym[0]?.message ?? '', /is a private key \(it has "k"\)/);
});

test('an RSA provisioner key below 2048 bits cannot verify tokens', () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const p = problemsOf(set(base(), '$.provisioners[0].publicKey', publicJwk(weak.publicKey)));
  assert.match(p[0]?.message ?? '', /cannot verify tokens: RSA keys below 2048 bits/);
});

test('provisioner names are unique, case-insensitively', () => {
  const doc = base();
  const second = { type: 'JWK', name: 'Admin', publicKey: publicJwk(ed25519.publicKey) };
  const third = { type: 'JWK', name: 'admin', publicKey: publicJwk(rsa2048.publicKey) };
  doc.provisioners = [...(doc.provisioners as unknown[]), second, third];
  const p = problemsOf(doc);
  assert.deepEqual(p.map((x) => [x.path, x.message]), [
    ['$.provisioners[1].name', 'duplicate provisioner name "Admin" (also $.provisioners[0].name)'],
    ['$.provisioners[2].name', 'duplicate provisioner name "admin" (also $.provisioners[0].name)'],
  ]);
});

test('strict JSON: syntax errors and duplicate keys are ERR_JSON_MALFORMED with line and column', () => {
  const cases: [string, RegExp][] = [
    ['{\n  "version": 1,\n}', /line 3, column 1/],
    ['{"version": 1, "version": 1}', /duplicate key "version" at line 1, column 16/],
    ['', /the document is empty/],
    ['{"name": "x"} trailing', /after the end of the document/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseCaConfig(text, { baseDir: BASE_DIR, name: 'signet.json' }),
      (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED') && re.test(e.message) && e.message.startsWith('signet.json is not valid JSON'),
      text,
    );
  }
  for (const doc of ['[]', '"signet"', 'null']) {
    const e = (() => {
      try {
        parseCaConfig(doc, { baseDir: BASE_DIR });
      } catch (err) {
        return err as SignetError;
      }
      return undefined;
    })();
    assert.ok(e && isSignetError(e, 'ERR_CONFIG_INVALID'), doc);
    assert.match(e.message, /^config: \$: a config must be a JSON object/);
  }
});

test('the default claims document is the default claims', () => {
  const c = parse({ ...base(), claims: DEFAULT_CLAIMS_DOCUMENT });
  assert.deepEqual(c.claims, DEFAULT_CLAIMS);
});

test('keyTypeName names keys as claims.keyTypes spells them', () => {
  assert.equal(keyTypeName(p256.publicKey), 'EC P-256');
  assert.equal(keyTypeName(p384.privateKey), 'EC P-384');
  assert.equal(keyTypeName(ed25519.publicKey), 'Ed25519');
  assert.equal(keyTypeName(rsa2048.publicKey), 'RSA 2048');
  assert.equal(keyTypeName(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey), undefined, 'RSA-PSS is no claimable key type');
  assert.equal(keyTypeName(generateKeyPairSync('x25519').publicKey), undefined);
});
