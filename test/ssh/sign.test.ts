/**
 * POST /ssh/sign through the authority pipeline, on a CA made by `ca init --ssh` and started
 * in-process: user and host certificates signed by the right CA key, with the token's principals,
 * the provisioner's template and lifetimes, recorded in the inventory and the audit log; and each
 * refusal with its code, leaving no inventory row and no used token.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { statSync, readFileSync } from 'node:fs';
import { parseSshCertificate } from '../../src/ssh/certificate.js';
import { parseKrl } from '../../src/ssh/krl.js';
import { mintSshPopToken } from '../../src/ca/token.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../../src/ssh/keys.js';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, httpsRequest, startTestCa, testToken, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ssh-sign-');
let ca: TestCa;
let running: RunningCa;

before(async () => {
  ca = await createTestCa({
    parent: tmp.dir,
    ssh: true,
    edit: (doc) => {
      const p = (doc.provisioners as Record<string, unknown>[])[0] as Record<string, unknown>;
      p.policy = { ssh: { user: { allow: { principal: ['alice', 'bob', 'deploy-*'] }, deny: { principal: ['deploy-prod'] } }, host: { allow: { dns: ['*.example.com'], ip: ['10.0.0.0/8'] } } } };
      p.sshTemplate = { user: { extensions: { 'permit-pty': '' }, criticalOptions: { 'source-address': '10.0.0.0/8,192.0.2.1' } } };
      p.claims = { sshUserMaxLifetime: '8h', sshUserDefaultLifetime: '4h' };
    },
  });
  running = await startTestCa(ca);
});

after(async () => {
  await running?.close();
  tmp.cleanup();
});

const ed25519 = (): KeyObject => generateKeyPairSync('ed25519').publicKey;

async function sign(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  return httpsRequest(ca, `${running.url}/ssh/sign`, { body });
}

test('ca init --ssh: two encrypted 0600 CA keys, their public keys, and GET /ssh/roots serves them', async () => {
  for (const f of ['secrets/ssh_user_ca.key', 'secrets/ssh_host_ca.key']) {
    const path = `${ca.dir}/${f}`;
    assert.equal(statSync(path).mode & 0o777, 0o600, f);
    assert.match(readFileSync(path, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/, f);
  }
  const roots = await httpsRequest(ca, `${running.url}/ssh/roots`);
  assert.equal(roots.status, 200);
  const user = (roots.json?.userKey as string[])[0] as string;
  const host = (roots.json?.hostKey as string[])[0] as string;
  assert.match(user, /^ssh-ed25519 AAAA/);
  assert.notEqual(parsePublicKeyLine(user).blob.toString(), parsePublicKeyLine(host).blob.toString());
  assert.equal(parsePublicKeyLine(readFileSync(`${ca.dir}/certs/ssh_user_ca.pub`, 'utf8')).blob.toString(), parsePublicKeyLine(user).blob.toString());
  const text = await httpsRequest(ca, `${running.url}/ssh/roots.txt`);
  assert.ok(text.text.includes(user) && text.text.includes(host));
});

test('a user certificate: signed by the user CA, the token principals, the template, the default lifetime; inventory and audit', async () => {
  const key = ed25519();
  const token = await testToken(ca, running, { subject: 'alice@example.com', sans: ['alice', 'bob'], ssh: 'user' });
  const r = await sign({ publicKey: formatPublicKeyLine(key, 'laptop'), ott: token });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const cert = parseSshCertificate(parsePublicKeyLine(r.json?.crt as string).blob);
  const roots = await httpsRequest(ca, `${running.url}/ssh/roots`);
  assert.deepEqual(cert.signatureKey, parsePublicKeyLine((roots.json?.userKey as string[])[0] as string).blob);
  assert.equal(cert.type, 'user');
  assert.equal(cert.keyId, 'alice@example.com');
  assert.deepEqual(cert.principals, ['alice', 'bob']);
  assert.deepEqual(cert.extensions, { 'permit-pty': '' });
  assert.deepEqual(cert.criticalOptions, { 'source-address': '10.0.0.0/8,192.0.2.1' });
  assert.ok(cert.publicKey.equals(key));
  const now = BigInt(Math.floor(Date.now() / 1000));
  assert.ok(cert.validAfter <= now && cert.validAfter >= now - 120n, 'backdated by one minute');
  const lifetime = Number(cert.validBefore) - Number(cert.validAfter);
  assert.ok(lifetime >= 4 * 3600 && lifetime <= 4 * 3600 + 120, `default 4h (+ backdate), got ${lifetime}s`);

  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.ok(record);
  assert.equal(BigInt(`0x${record.serial}`), cert.serial, 'the inventory serial is the certificate serial in hex');
  assert.equal(record.profile, 'ssh-user');
  assert.equal(record.subject, 'alice@example.com');
  assert.deepEqual(record.names, [{ type: 'cn', value: 'alice' }, { type: 'cn', value: 'bob' }]);
  assert.equal(record.keyType, 'Ed25519');
  assert.deepEqual(Buffer.from(record.der), Buffer.from(cert.blob));
  assert.equal(record.issuerSerial, undefined, 'no X.509 issuer: CRLs and OCSP never list it');
  const events = await running.store.audit.list({ limit: 5 });
  assert.ok(events.some((e) => e.type === 'ssh.sign' && e.outcome === 'success' && e.serial === record.serial));
});

test('a host certificate: signed by the host CA, host names lower-cased, a subset of principals, a requested lifetime', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const token = await testToken(ca, running, { subject: 'web01', sans: ['Web01.Example.com', '10.0.0.5', 'web02.example.com'], ssh: 'host' });
  const r = await sign({ publicKey: formatPublicKeyLine(key), ott: token, certType: 'host', principals: ['Web01.Example.com', '10.0.0.5'], validBefore: '+7d' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const cert = parseSshCertificate(parsePublicKeyLine(r.json?.crt as string).blob);
  const roots = await httpsRequest(ca, `${running.url}/ssh/roots`);
  assert.deepEqual(cert.signatureKey, parsePublicKeyLine((roots.json?.hostKey as string[])[0] as string).blob);
  assert.equal(cert.type, 'host');
  assert.deepEqual(cert.principals, ['web01.example.com', '10.0.0.5']);
  assert.deepEqual(cert.extensions, {});
  const record = await running.store.certificates.get(r.json?.serial as string);
  assert.equal(record?.profile, 'ssh-host');
  assert.deepEqual(record?.names, [{ type: 'dns', value: 'web01.example.com' }, { type: 'ip', value: '10.0.0.5' }]);
  assert.equal(record?.keyType, 'EC P-256');
});

test('refusals, each with its code and status, and nothing recorded', async () => {
  const before = (await running.store.certificates.list({}, { limit: 1000 })).items.length;
  const key = formatPublicKeyLine(ed25519());
  const user = (sans: string[], subject = 'alice@example.com'): Promise<string> => testToken(ca, running, { subject, sans, ssh: 'user' });
  const cases: [string, () => Promise<Record<string, unknown>>, number, string][] = [
    ['a principal the token does not name', async () => ({ publicKey: key, ott: await user(['alice']), principals: ['root'] }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['a principal the policy does not allow', async () => ({ publicKey: key, ott: await user(['root']) }), 403, 'ERR_POLICY_DENIED'],
    ['a principal the policy denies', async () => ({ publicKey: key, ott: await user(['deploy-prod']) }), 403, 'ERR_POLICY_DENIED'],
    ['a principal with a comma', async () => ({ publicKey: key, ott: await user(['alice,root']) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['no principals', async () => ({ publicKey: key, ott: await user([]) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['a lifetime over the maximum', async () => ({ publicKey: key, ott: await user(['alice']), validBefore: '+9h' }), 400, 'ERR_LIFETIME_OUT_OF_BOUNDS'],
    ['a lifetime under the minimum', async () => ({ publicKey: key, ott: await user(['alice']), validBefore: '+1m' }), 400, 'ERR_LIFETIME_OUT_OF_BOUNDS'],
    ['a host certificate with a user token', async () => ({ publicKey: key, ott: await user(['alice']), certType: 'host' }), 403, 'ERR_FORBIDDEN_CERT_TYPE'],
    ['an X.509 token', async () => ({ publicKey: key, ott: await testToken(ca, running, { subject: 'alice', path: '/ssh/sign' }) }), 403, 'ERR_FORBIDDEN_CERT_TYPE'],
    ['a token for /sign', async () => ({ publicKey: key, ott: await testToken(ca, running, { subject: 'alice', ssh: 'user', path: '/sign' }) }), 401, 'ERR_TOKEN_AUDIENCE'],
    ['a host name the policy does not allow', async () => ({ publicKey: key, ott: await testToken(ca, running, { subject: 'h', sans: ['db.internal'], ssh: 'host' }) }), 403, 'ERR_POLICY_DENIED'],
    ['a host principal that is no host name', async () => ({ publicKey: key, ott: await testToken(ca, running, { subject: 'h', sans: ['under_score!'], ssh: 'host' }) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['a malformed public key', async () => ({ publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA', ott: await user(['alice']) }), 400, 'ERR_SSH_MALFORMED'],
    ['a key line whose type differs from its blob', async () => ({ publicKey: key.replace('ssh-ed25519', 'ssh-rsa'), ott: await user(['alice']) }), 400, 'ERR_SSH_MALFORMED'],
    ['an RSA key under 2048 bits', async () => ({ publicKey: rsa1024Line(), ott: await user(['alice']) }), 400, 'ERR_SSH_KEY_UNSUPPORTED'],
    ['a key type the provisioner does not allow', async () => ({ publicKey: formatPublicKeyLine(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey), ott: await user(['alice']) }), 403, 'ERR_FORBIDDEN_KEY_TYPE'],
    ['an unknown field', async () => ({ publicKey: key, ott: await user(['alice']), keyId: 'root' }), 400, 'ERR_REQUEST_INVALID'],
    ['principals that are not strings', async () => ({ publicKey: key, ott: await user(['alice']), principals: [1] }), 400, 'ERR_REQUEST_INVALID'],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await sign(await body());
    assert.equal(r.json?.code, code, `${what}: ${JSON.stringify(r.json)}`);
    assert.equal(r.status, status, what);
    assert.ok(!JSON.stringify(r.json).includes('    at '), `${what}: no stack trace`);
  }
  assert.equal((await running.store.certificates.list({}, { limit: 1000 })).items.length, before, 'no refusal recorded a certificate');
  const failures = (await running.store.audit.list({ limit: 100 })).filter((e) => e.type === 'ssh.sign' && e.outcome === 'failure');
  assert.ok(failures.length >= cases.length - 3, 'refusals after the token check are audited');
});

test('a token is single-use: the same token twice → ERR_TOKEN_REPLAYED', async () => {
  const token = await testToken(ca, running, { subject: 'bob', sans: ['bob'], ssh: 'user' });
  const first = await sign({ publicKey: formatPublicKeyLine(ed25519()), ott: token });
  assert.equal(first.status, 201);
  const again = await sign({ publicKey: formatPublicKeyLine(ed25519()), ott: token });
  assert.equal(again.json?.code, 'ERR_TOKEN_REPLAYED');
  assert.equal(again.status, 401);
});

function rsa1024Line(): string {
  // node:crypto makes the weak key; the SSH line is built by hand since Signet refuses to write one.
  const jwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const mpint = (b64: string | undefined): Buffer => {
    let b = Buffer.from(b64 ?? '', 'base64url');
    if ((b[0] as number) & 0x80) b = Buffer.concat([Buffer.of(0), b]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const type = Buffer.from('ssh-rsa');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(type.length);
  return `ssh-rsa ${Buffer.concat([head, type, mpint(jwk.e), mpint(jwk.n)]).toString('base64')}`;
}

test('POST /ssh/renew: a host certificate renews on proof of possession; user certificates, other keys, replays and missing tokens are refused', async () => {
  const host = generateKeyPairSync('ed25519');
  const token = await testToken(ca, running, { subject: 'web02', sans: ['web02.example.com'], ssh: 'host' });
  const issued = await sign({ publicKey: formatPublicKeyLine(host.publicKey), ott: token });
  assert.equal(issued.status, 201);
  const blob = parsePublicKeyLine(issued.json?.crt as string).blob;
  const pop = (key: KeyObject, certificate = blob, serial = issued.json?.serial as string): Promise<string> =>
    mintSshPopToken({ certificate, key, serial, audience: `${running.url}/ssh/renew`, now: new Date() });
  const renew = (t?: string): ReturnType<typeof httpsRequest> => httpsRequest(ca, `${running.url}/ssh/renew`, { method: 'POST', ...(t !== undefined ? { headers: { authorization: `Bearer ${t}` } } : {}) });

  const wrongKey = await renew(await pop(generateKeyPairSync('ed25519').privateKey));
  assert.equal(wrongKey.json?.code, 'ERR_TOKEN_SIGNATURE');
  const otherSerial = await renew(await pop(host.privateKey, blob, '0102030405060708'));
  assert.equal(otherSerial.json?.code, 'ERR_TOKEN_SUBJECT');
  const none = await renew();
  assert.equal(none.json?.code, 'ERR_AUTH_REQUIRED');
  assert.equal(none.status, 401);

  const first = await pop(host.privateKey);
  const renewed = await renew(first);
  assert.equal(renewed.status, 201, JSON.stringify(renewed.json));
  const cert = parseSshCertificate(parsePublicKeyLine(renewed.json?.crt as string).blob);
  assert.deepEqual(cert.principals, ['web02.example.com']);
  assert.ok(cert.publicKey.equals(host.publicKey));
  const replayed = await renew(first);
  assert.equal(replayed.json?.code, 'ERR_CERT_REPLACED');

  const user = generateKeyPairSync('ed25519');
  const u = await sign({ publicKey: formatPublicKeyLine(user.publicKey), ott: await testToken(ca, running, { subject: 'alice', sans: ['alice'], ssh: 'user' }) });
  const userRenew = await renew(await mintSshPopToken({ certificate: parsePublicKeyLine(u.json?.crt as string).blob, key: user.privateKey, serial: u.json?.serial as string, audience: `${running.url}/ssh/renew`, now: new Date() }));
  assert.equal(userRenew.json?.code, 'ERR_RENEWAL_NOT_ALLOWED');
  assert.equal(userRenew.status, 403);
});

test('GET /ssh/krl: an OpenSSH KRL of the revoked, unexpired SSH certificates per CA key, its version the revocation sequence', async () => {
  const before = await httpsRequest(ca, `${running.url}/ssh/krl`);
  assert.equal(before.status, 200);
  const user = generateKeyPairSync('ed25519');
  const u = await sign({ publicKey: formatPublicKeyLine(user.publicKey), ott: await testToken(ca, running, { subject: 'bob', sans: ['bob'], ssh: 'user' }) });
  const serial = u.json?.serial as string;
  const revoke = await httpsRequest(ca, `${running.url}/revoke`, { body: { serial, reason: 'keyCompromise', ott: await testToken(ca, running, { subject: serial, sans: [], path: '/revoke' }) } });
  assert.equal(revoke.status, 200, JSON.stringify(revoke.json));
  const after = await fetchKrl();
  assert.ok(BigInt(after.version) > BigInt(String(before.headers['x-krl-version'])));
  const roots = await httpsRequest(ca, `${running.url}/ssh/roots`);
  const userCa = parsePublicKeyLine((roots.json?.userKey as string[])[0] as string).blob;
  const section = after.krl.certificates.find((c) => Buffer.from(c.ca).equals(Buffer.from(userCa)));
  assert.ok(section?.serials.includes(BigInt(`0x${serial}`)));
});

async function fetchKrl(): Promise<{ krl: ReturnType<typeof parseKrl>; version: string }> {
  const r = await new Promise<Buffer>((resolve, reject) => {
    import('node:https').then(({ get }) => {
      get(`${running.url}/ssh/krl`, { ca: ca.rootPem }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject);
    }, reject);
  });
  const krl = parseKrl(new Uint8Array(r));
  return { krl, version: krl.version.toString() };
}

test('a CA without SSH keys: ERR_SSH_NOT_ENABLED (403) on the SSH endpoints', async () => {
  const plainDir = tempDir('signet-ssh-none-');
  try {
    const plain = await createTestCa({ parent: plainDir.dir });
    const r = await startTestCa(plain);
    try {
      for (const [path, body] of [['/ssh/roots', undefined], ['/ssh/krl', undefined], ['/ssh/sign', { publicKey: formatPublicKeyLine(ed25519()), ott: await testToken(plain, r, { subject: 'a', ssh: 'user' }) }]] as const) {
        const reply = await httpsRequest(plain, `${r.url}${path}`, body === undefined ? {} : { body });
        assert.equal(reply.json?.code, 'ERR_SSH_NOT_ENABLED', path);
        assert.equal(reply.status, 403, path);
      }
    } finally {
      await r.close();
    }
  } finally {
    plainDir.cleanup();
  }
});
