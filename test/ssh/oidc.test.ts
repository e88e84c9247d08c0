/**
 * Single sign-on for SSH with a real OpenID provider (oidc-provider): `signet ssh login` opens the
 * provider's sign-in (the test plays the browser: login and consent pages), receives the redirect on
 * its loopback port, exchanges the code (PKCE) for an ID token, and the CA — an OIDC provisioner —
 * verifies the token against the provider's published keys and issues a user certificate whose key
 * ID is the e-mail and whose principals are its local part and the address; the key and
 * certificate land in a real ssh-agent. And every way an ID token can be wrong is refused with its
 * code at POST /ssh/sign, nothing recorded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { existsSync, mkdirSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { parseSshCertificate } from '../../src/ssh/certificate.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../../src/ssh/keys.js';
import { createTestCa, httpsRequest, startTestCa, type TestCa } from '../helpers/ca.js';
import { CLI_PATH } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { OIDC_CLIENT_ID, startOidcProvider, type TestOidcProvider } from '../helpers/oidc.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ssh-oidc-');
let op: TestOidcProvider;
let ca: TestCa;
let running: RunningCa;
let agent: ChildProcess | undefined;
let deadIssuer = '';

before(async () => {
  op = await startOidcProvider();
  deadIssuer = `http://127.0.0.1:${await freePort()}`;
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({
    parent: tmp.path('ca-parent'),
    ssh: true,
    edit: (doc) => {
      (doc.provisioners as unknown[]).push(
        { type: 'OIDC', name: 'sso', issuer: op.issuer, clientId: OIDC_CLIENT_ID, domains: ['example.com'] },
        { type: 'OIDC', name: 'down', issuer: deadIssuer, clientId: OIDC_CLIENT_ID },
      );
    },
  });
  running = await startTestCa(ca);
});

after(async () => {
  agent?.kill('SIGTERM');
  await running?.close();
  await op?.close();
  tmp.cleanup();
});

async function sign(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  return httpsRequest(ca, `${running.url}/ssh/sign`, { body });
}

const key = (): string => formatPublicKeyLine(generateKeyPairSync('ed25519').publicKey);

test('signet ssh login signs in at the OpenID provider (browser, PKCE, loopback redirect) and puts the certificate into ssh-agent', async () => {
  const sock = tmp.path('agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const child = spawn(process.execPath, [CLI_PATH, 'ssh', 'login', '--provisioner', 'sso', '--no-browser', '--ca-url', running.url, '--root', ca.rootFile, '--json'], {
    env: { ...process.env, SSH_AUTH_SOCK: sock, NO_COLOR: '1' },
    cwd: tmp.dir,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /sign in at \S+: (\S+)/.exec(stderr);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', () => reject(new Error(`signet exited before printing the sign-in URL: ${stderr}`)));
  });
  const authorize = new URL(url);
  assert.equal(authorize.origin, op.issuer);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorize.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const redirect = await op.browse(url, 'alice');
  // The browser lands on the command's loopback listener.
  const landing = await fetch(redirect);
  assert.equal(landing.status, 200);
  assert.match(await landing.text(), /Signed in/);
  const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  assert.equal(status, 0, stderr);
  const out = JSON.parse(stdout) as { keyId: string; principals: string[]; agentLifetime: number };
  assert.equal(out.keyId, 'alice@example.com');
  assert.deepEqual(out.principals, ['alice', 'alice@example.com']);
  const listed = spawnSync('ssh-add', ['-L'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  const cert = parseSshCertificate(parsePublicKeyLine(listed.stdout.trim().split('\n')[0] ?? '').blob);
  assert.equal(cert.keyId, 'alice@example.com');
  const roots = await httpsRequest(ca, `${running.url}/ssh/roots`);
  assert.deepEqual(cert.signatureKey, parsePublicKeyLine((roots.json?.userKey as string[])[0] as string).blob);
  const events = await running.store.audit.list({ limit: 5 });
  assert.ok(events.some((e) => e.type === 'ssh.sign' && e.outcome === 'success' && e.provisioner === 'sso' && e.actor === 'alice@example.com'));
});

test('an ID token is accepted once, for a user certificate; every wrong token is refused with its code and nothing is recorded', async () => {
  const good = await op.mint({});
  const first = await sign({ publicKey: key(), ott: good, principals: ['alice'] });
  assert.equal(first.status, 201, JSON.stringify(first.json));
  assert.deepEqual(parseSshCertificate(parsePublicKeyLine(first.json?.crt as string).blob).principals, ['alice']);

  const before = (await running.store.certificates.list({}, { limit: 1000 })).items.length;
  const now = Math.floor(Date.now() / 1000);
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const cases: [string, () => Promise<Record<string, unknown>>, number, string][] = [
    ['the same ID token again', () => Promise.resolve({ publicKey: key(), ott: good }), 401, 'ERR_TOKEN_REPLAYED'],
    ['issued to another client', async () => ({ publicKey: key(), ott: await op.mint({ aud: 'another-client' }) }), 401, 'ERR_TOKEN_AUDIENCE'],
    ['expired', async () => ({ publicKey: key(), ott: await op.mint({ iat: now - 1200, exp: now - 600 }) }), 401, 'ERR_TOKEN_EXPIRED'],
    ['issued two hours ago', async () => ({ publicKey: key(), ott: await op.mint({ iat: now - 7200, exp: now + 600 }) }), 401, 'ERR_TOKEN_LIFETIME'],
    ['signed by another key', async () => ({ publicKey: key(), ott: await op.mint({}, { key: other }) }), 401, 'ERR_TOKEN_SIGNATURE'],
    ['an e-mail domain the provisioner does not allow', async () => ({ publicKey: key(), ott: await op.mint({ email: 'mallory@evil.example' }) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['an address the provider has not verified', async () => ({ publicKey: key(), ott: await op.mint({ email_verified: false }) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['no e-mail address', async () => ({ publicKey: key(), ott: await op.mint({ email: undefined }) }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['a principal it does not give', async () => ({ publicKey: key(), ott: await op.mint({}), principals: ['root'] }), 403, 'ERR_FORBIDDEN_NAMES'],
    ['a host certificate', async () => ({ publicKey: key(), ott: await op.mint({}), certType: 'host' }), 403, 'ERR_FORBIDDEN_CERT_TYPE'],
    ['a provider that is down', async () => ({ publicKey: key(), ott: await op.mint({ iss: deadIssuer }) }), 502, 'ERR_OIDC_UNAVAILABLE'],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await sign(await body());
    assert.equal(r.json?.code, code, `${what}: ${JSON.stringify(r.json)}`);
    assert.equal(r.status, status, what);
  }
  assert.equal((await running.store.certificates.list({}, { limit: 1000 })).items.length, before, 'no refusal recorded a certificate');
  const refusals = (await running.store.audit.list({ limit: 100 })).filter((e) => e.type === 'ssh.sign' && e.outcome === 'failure' && e.provisioner === 'sso');
  assert.ok(refusals.length >= 5, 'refusals are audited under the provisioner');
});

test('GET /provisioners shows an OIDC provisioner\'s issuer and client ID (nothing secret)', async () => {
  const r = await httpsRequest(ca, `${running.url}/provisioners`);
  const sso = (r.json?.provisioners as Record<string, unknown>[]).find((p) => p.name === 'sso');
  assert.deepEqual({ type: sso?.type, issuer: sso?.issuer, clientId: sso?.clientId, domains: sso?.domains }, { type: 'OIDC', issuer: op.issuer, clientId: OIDC_CLIENT_ID, domains: ['example.com'] });
});
