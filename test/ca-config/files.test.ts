/**
 * The config on disk: loadCaConfig (file or directory, size limit, not found, paths relative to
 * the file) and checkCaFiles (the files a config names: certificates that chain, a private key
 * the password decrypts and that belongs to the intermediate, valid templates), every problem at
 * once, and warnings for risky but workable setups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSignetError } from '../../src/core/errors.js';
import { encodePem } from '../../src/core/pem.js';
import { generateKey } from '../../src/crypto/key-spec.js';
import { encodePrivateKeyPem, encodePublicKeyPem } from '../../src/crypto/keys.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { issueLintedCertificate } from '../../src/x509/issue.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { defaultTemplateText } from '../../src/x509/template/index.js';
import { checkCaFiles, loadCaConfig, parseCaConfig, MAX_CONFIG_BYTES, type CaConfig, type ConfigProblem } from '../../src/ca/config.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ca-config-');
process.on('exit', () => tmp.cleanup());
const dir = tmp.dir;
const at = (p: string): string => join(dir, p);

// -- a small PKI, made once: root → intermediate, and a second root the intermediate is not under
const now = new Date();
const PASSWORD = 'correct horse battery staple';
const FAST = { iterations: 10_000 }; // test keys only: the minimum PBKDF2 count Signet accepts

function makeRoot(cn: string): { der: Uint8Array; key: ReturnType<typeof generateKey> } {
  const key = generateKey('p256');
  const der = issueLintedCertificate(specFromProfile('root-ca', { subject: [[{ type: 'CN', value: cn }]], publicKey: key.publicKey, now }), createSoftwareSigner(key.privateKey), undefined, {
    profile: 'root-ca',
    now,
  }).der;
  return { der, key };
}
const root = makeRoot('Config Test Root');
const otherRoot = makeRoot('Another Root');
const intKey = generateKey('p256');
const intDer = issueLintedCertificate(
  specFromProfile('intermediate-ca', { subject: [[{ type: 'CN', value: 'Config Test Intermediate' }]], publicKey: intKey.publicKey, now }),
  createSoftwareSigner(root.key.privateKey),
  issuerFromCertificate(root.der),
  { profile: 'intermediate-ca', now },
).der;

for (const d of ['certs', 'secrets', 'templates', 'db', 'conf']) mkdirSync(at(d));
writeFileSync(at('certs/root.crt'), encodePem('CERTIFICATE', root.der));
writeFileSync(at('certs/other-root.crt'), encodePem('CERTIFICATE', otherRoot.der));
writeFileSync(at('certs/intermediate.crt'), encodePem('CERTIFICATE', intDer));
writeFileSync(at('certs/intermediate.der'), intDer);
writeFileSync(at('certs/garbage.crt'), 'not a certificate\n');
writeFileSync(at('secrets/intermediate.key'), encodePrivateKeyPem(intKey.privateKey, PASSWORD, FAST), { mode: 0o600 });
writeFileSync(at('secrets/other.key'), encodePrivateKeyPem(generateKey('p256').privateKey, PASSWORD, FAST), { mode: 0o600 });
writeFileSync(at('secrets/plain.key'), encodePrivateKeyPem(intKey.privateKey), { mode: 0o600 });
writeFileSync(at('secrets/intermediate.pub'), encodePublicKeyPem(intKey.publicKey));
writeFileSync(at('secrets/password'), `${PASSWORD}\n`, { mode: 0o600 });
writeFileSync(at('secrets/wrong-password'), 'not the password\n', { mode: 0o600 });
writeFileSync(at('secrets/open-password'), `${PASSWORD}\n`, { mode: 0o644 });
chmodSync(at('secrets/open-password'), 0o644);
writeFileSync(at('templates/leaf.json'), defaultTemplateText('leaf'));
writeFileSync(at('templates/typo.json'), '{\n  "subject": {"comonName": "x"}\n}\n');

const provisionerJwk = generateKey('p256').publicKey.export({ format: 'jwk' });

/** A config document naming the files above; `over` replaces top-level fields. */
function doc(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    name: 'Config Test',
    address: '127.0.0.1:9443',
    dnsNames: ['localhost'],
    root: 'certs/root.crt',
    intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key', passwordFile: 'secrets/password' },
    provisioners: [{ type: 'JWK', name: 'admin', publicKey: provisionerJwk, template: 'templates/leaf.json' }],
    ...over,
  };
}

function config(over: Record<string, unknown> = {}): CaConfig {
  return parseCaConfig(JSON.stringify(doc(over)), { baseDir: dir, name: 'test config' });
}

function fileProblems(c: CaConfig, options: Parameters<typeof checkCaFiles>[1] = {}): ConfigProblem[] {
  try {
    checkCaFiles(c, options);
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_CONFIG_INVALID'), String(e));
    return e.detail?.problems as ConfigProblem[];
  }
  return [];
}

test('loadCaConfig resolves relative paths against the config file, not the working directory', () => {
  writeFileSync(at('conf/signet.json'), JSON.stringify(doc({ root: '../certs/root.crt' }), null, 2));
  const c = loadCaConfig(at('conf/signet.json'));
  assert.equal(c.configPath, at('conf/signet.json'));
  assert.equal(c.baseDir, at('conf'));
  assert.equal(c.root, at('certs/root.crt'));
  assert.equal(c.intermediate.key, at('conf/secrets/intermediate.key'));
  // A directory means its signet.json.
  assert.equal(loadCaConfig(at('conf')).configPath, at('conf/signet.json'));
});

test('loadCaConfig: a missing file is ERR_CONFIG_NOT_FOUND; a large one ERR_INPUT_TOO_LARGE; bad bytes ERR_JSON_MALFORMED', () => {
  for (const missing of [at('nope.json'), at('nope/signet.json'), at('certs/root.crt/signet.json'), at('templates')]) {
    assert.throws(() => loadCaConfig(missing), (e: unknown) => isSignetError(e, 'ERR_CONFIG_NOT_FOUND') && e.message.includes('does not exist'), missing);
  }
  writeFileSync(at('big.json'), `{"name": "${'x'.repeat(MAX_CONFIG_BYTES)}"}`);
  assert.throws(() => loadCaConfig(at('big.json')), (e: unknown) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
  writeFileSync(at('latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
  assert.throws(() => loadCaConfig(at('latin1.json')), (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED') && /UTF-8/.test(e.message));
  writeFileSync(at('empty.json'), '');
  assert.throws(() => loadCaConfig(at('empty.json')), (e: unknown) => isSignetError(e, 'ERR_JSON_MALFORMED'));
  writeFileSync(at('bad.json'), JSON.stringify(doc({ logLevel: 'loud' })));
  assert.throws(() => loadCaConfig(at('bad.json')), (e: unknown) => isSignetError(e, 'ERR_CONFIG_INVALID') && e.message.startsWith(`${at('bad.json')}: $.logLevel`));
});

test('checkCaFiles: a sound CA passes, with its certificates returned and no warnings', () => {
  const report = checkCaFiles(config(), { now, decryptKey: true });
  assert.equal(report.root.subject.text, 'CN=Config Test Root');
  assert.equal(report.intermediate.subject.text, 'CN=Config Test Intermediate');
  assert.deepEqual(report.warnings, []);
  // DER certificates are fine too; without `now` the chain is checked within its validity.
  assert.deepEqual(checkCaFiles(config({ intermediate: { certificate: 'certs/intermediate.der', key: 'secrets/intermediate.key', passwordFile: 'secrets/password' } })).warnings, []);
});

test('checkCaFiles reports every problem at once, each at the path of the field that names the file', () => {
  const c = config({
    root: 'certs/missing.crt',
    intermediate: { certificate: 'certs/garbage.crt', key: 'secrets/intermediate.pub', passwordFile: 'secrets/none' },
    db: { type: 'sqlite', path: 'db' },
    provisioners: [{ type: 'JWK', name: 'admin', publicKey: provisionerJwk, template: 'templates/typo.json' }],
  });
  const problems = fileProblems(c, { now, decryptKey: true });
  assert.deepEqual(
    problems.map((p) => p.path),
    ['$.root', '$.intermediate.certificate', '$.intermediate.key', '$.intermediate.passwordFile', '$.provisioners[0].template', '$.db.path'],
    JSON.stringify(problems, null, 1),
  );
  const [missingRoot, garbage, pub, noPassword, template, db] = problems.map((p) => p.message);
  assert.match(missingRoot ?? '', /root certificate .*missing\.crt does not exist/);
  assert.match(garbage ?? '', /is not a certificate/);
  assert.match(pub ?? '', /is a public key; the CA needs the private key/);
  assert.match(noPassword ?? '', /password file .*none does not exist/);
  assert.match(template ?? '', /typo\.json: \$\.subject\.comonName: unknown field \(did you mean "commonName"\?\) \(line 2, column 15\)/);
  assert.match(db ?? '', /is a directory/);
  assert.throws(() => checkCaFiles(c), (e: unknown) => isSignetError(e, 'ERR_CONFIG_INVALID') && e.message.startsWith('config: 6 problems, the first: $.root'));
});

test('checkCaFiles: the intermediate must chain to the root, which must be self-signed, valid at now', () => {
  assert.match(fileProblems(config({ root: 'certs/other-root.crt' }), { now }).find((p) => p.path === '$.intermediate.certificate')?.message ?? '', /does not chain to the root/);
  assert.match(fileProblems(config({ root: 'certs/intermediate.crt' }), { now }).find((p) => p.path === '$.root')?.message ?? '', /is not self-signed/);
  const later = new Date(now.getTime() + 6 * 365 * 86_400_000);
  const expired = fileProblems(config(), { now: later });
  assert.deepEqual(expired.map((p) => p.path), ['$.intermediate.certificate']);
  assert.match(expired[0]?.message ?? '', /expired/);
});

test('checkCaFiles with decryptKey: the password file must decrypt the key, and the key must be the intermediate\'s', () => {
  const wrong = config({ intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key', passwordFile: 'secrets/wrong-password' } });
  assert.deepEqual(fileProblems(wrong), [], 'not decrypted unless asked');
  const p = fileProblems(wrong, { decryptKey: true });
  assert.deepEqual(p.map((x) => x.path), ['$.intermediate.passwordFile']);
  assert.match(p[0]?.message ?? '', /does not decrypt intermediate key/);

  const other = config({ intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/other.key', passwordFile: 'secrets/password' } });
  const q = fileProblems(other, { decryptKey: true });
  assert.deepEqual(q.map((x) => x.path), ['$.intermediate.key']);
  assert.match(q[0]?.message ?? '', /is not the key of intermediate certificate/);

  // No password file: the server will ask at start; nothing to decrypt here.
  assert.deepEqual(fileProblems(config({ intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key' } }), { decryptKey: true }), []);
});

test('checkCaFiles warns about an unencrypted key, secrets readable by others, and an unused password file', () => {
  const plain = checkCaFiles(config({ intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/plain.key', passwordFile: 'secrets/open-password' } }), { decryptKey: true });
  assert.deepEqual(plain.warnings.map((w) => w.path), ['$.intermediate.key', '$.intermediate.passwordFile', '$.intermediate.passwordFile']);
  assert.match(plain.warnings[0]?.message ?? '', /is not encrypted/);
  assert.match(plain.warnings[1]?.message ?? '', /readable by others \(mode 0644\)/);
  assert.match(plain.warnings[2]?.message ?? '', /not used/);
});
