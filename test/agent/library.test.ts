/**
 * The workload side of the agent, as programs use it: the `signet/workload` library (Workload API
 * client, X509Source, mTLS by SPIFFE ID), `signet svid fetch|validate`, and `signet agent helper`
 * — against a real `signet agent run`, with workloads in their own processes under their own uids
 * so that the agent's attestation gives each its identity. OpenSSL (s_client, verify) checks what
 * the helper writes and talks to a library server with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { isSignetError } from '../../src/core/errors.js';
import { validateJwtSvid } from '../../src/spiffe/jwt-svid.js';
import { validateX509Svid } from '../../src/spiffe/x509-svid.js';
import { authorizeId, peerSpiffeId, spiffeTlsServer, tlsClientOptions, WorkloadClient, workloadTarget, X509Source } from '../../src/workload.js';
import { NOBODY, STRANGER, startAgentEnv, type AgentEnv } from '../helpers/agent.js';
import { CLI_PATH, ok, signetAsync } from '../helpers/cli.js';
import { opensslOk, runAsync } from '../helpers/openssl.js';

const PEER = fileURLToPath(new URL('./workload-peer.js', import.meta.url));
/** A uid no entry names. */
const NO_ONE = 34567;
const BACKEND = 'spiffe://example.org/backend';
const FRONTEND = 'spiffe://example.org/frontend';

let env: AgentEnv;
const ids: Record<string, string> = {};
const address = (): string => `unix://${env.socket}`;
const servers: ChildProcess[] = [];

before(async () => {
  env = await startAgentEnv(
    'signet-workload-',
    async (e) => {
      ids.backend = await e.entry(BACKEND, ['unix:uid:0']);
      ids.frontend = await e.entry(FRONTEND, [`unix:uid:${NOBODY}`]);
      ids.intruder = await e.entry('spiffe://example.org/intruder', [`unix:uid:${STRANGER}`]);
    },
    3,
  );
});

after(async () => {
  for (const s of servers) s.kill('SIGTERM');
  await env.close();
});

/** Runs the Signet CLI as `uid`. */
function signetAs(uid: number, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { uid, gid: uid, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp', NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts workload-peer.js; resolves lines as they come. */
function peer(args: readonly string[], uid?: number): { proc: ChildProcess; line: (pred: (o: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>; done: Promise<Record<string, unknown>> } {
  const proc = spawn(process.execPath, [PEER, ...args], { ...(uid !== undefined && { uid, gid: uid }), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/tmp' } });
  const lines: Record<string, unknown>[] = [];
  const waiters: { pred: (o: Record<string, unknown>) => boolean; resolve: (o: Record<string, unknown>) => void }[] = [];
  let err = '';
  let buf = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const o = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      lines.push(o);
      for (const w of [...waiters]) {
        if (!w.pred(o)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(o);
      }
    }
  });
  const line = (pred: (o: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const seen = lines.find(pred);
      if (seen !== undefined) return resolve(seen);
      waiters.push({ pred, resolve });
      setTimeout(() => reject(new Error(`no such line from ${args[0]} within 20 s: ${JSON.stringify(lines)} ${err}`)), 20_000).unref();
    });
  const done = new Promise<Record<string, unknown>>((resolve, reject) =>
    proc.once('exit', (code) => (code === 0 && lines.length > 0 ? resolve(lines[lines.length - 1] as Record<string, unknown>) : reject(new Error(`${args[0]} exited ${code}: ${err} ${JSON.stringify(lines)}`)))),
  );
  return { proc, line, done };
}

test('library: WorkloadClient fetches this process\'s X509-SVID (verifiable with the bundle it came with), JWT-SVIDs, both kinds of bundles, and has tokens validated', async () => {
  const client = new WorkloadClient({ address: address() });
  try {
    const ctx = await client.fetchX509Context();
    assert.deepEqual(ctx.svids.map((s) => s.spiffeId), [BACKEND]);
    const svid = ctx.svids[0];
    assert.ok(svid !== undefined);
    const verified = validateX509Svid(svid.chain, (td) => ({ trustDomain: td, x509Authorities: ctx.bundles.get(td) ?? [], jwtAuthorities: new Map() }), new Date());
    assert.equal(verified.id.toString(), BACKEND);
    assert.ok(new X509Certificate(Buffer.from(svid.chain[0] as Uint8Array)).checkPrivateKey(svid.privateKey), 'the key is the leaf\'s');
    assert.ok(svid.notAfter > new Date());
    assert.deepEqual([...(await client.fetchX509Bundles()).keys()], ['example.org']);

    const [jwt] = await client.fetchJwtSvids(['https://api.example.org']);
    assert.equal(jwt?.spiffeId, BACKEND);
    const jwtBundles = await client.fetchJwtBundles();
    const local = validateJwtSvid(jwt?.token ?? '', { audience: 'https://api.example.org', bundle: (td) => jwtBundles.get(td), now: new Date() });
    assert.equal(local.id.toString(), BACKEND);
    const remote = await client.validateJwtSvid(jwt?.token ?? '', 'https://api.example.org');
    assert.equal(remote.spiffeId, BACKEND);
    assert.equal(remote.claims.sub, BACKEND);
    assert.equal(typeof remote.claims.exp, 'number');
    await assert.rejects(client.validateJwtSvid(jwt?.token ?? '', 'https://elsewhere.example.org'), (e) => isSignetError(e, 'ERR_JWT_SVID_INVALID') && /audience/.test(e.message));
    await assert.rejects(client.validateJwtSvid('not.a.jwt', 'https://api.example.org'), (e) => isSignetError(e, 'ERR_JWT_SVID_INVALID'));
    await assert.rejects(client.fetchJwtSvids([]), (e) => isSignetError(e, 'ERR_WORKLOAD_API') && e.detail?.status === 'INVALID_ARGUMENT');
    await assert.rejects(client.fetchJwtSvids(['a'], 'spiffe://example.org/not-mine'), (e) => isSignetError(e, 'ERR_WORKLOAD_NO_IDENTITY'));
  } finally {
    client.close();
  }
});

test('library: addresses are checked (unix:///path, unix:/path, tcp://ip:port); an absent agent is ERR_WORKLOAD_API UNAVAILABLE, not a hang', async () => {
  assert.equal(workloadTarget('unix:///run/a.sock'), 'unix:///run/a.sock');
  assert.equal(workloadTarget('unix:/run/a.sock'), 'unix:///run/a.sock');
  assert.equal(workloadTarget('tcp://127.0.0.1:8081'), '127.0.0.1:8081');
  assert.equal(workloadTarget('tcp://[::1]:8081'), '[::1]:8081');
  for (const bad of [undefined, '', 'http://127.0.0.1:1', 'unix:relative.sock', 'unix:///a?b', 'tcp://localhost:8081', 'tcp://127.0.0.1', 'tcp://127.0.0.1:99999']) {
    assert.throws(() => workloadTarget(bad), (e) => isSignetError(e, 'ERR_BAD_OPTION'), String(bad));
  }
  const gone = new WorkloadClient({ address: `unix://${env.tmp.path('run/none.sock')}`, timeoutMs: 5_000 });
  try {
    await assert.rejects(gone.fetchX509Context(), (e) => isSignetError(e, 'ERR_WORKLOAD_API') && e.detail?.status === 'UNAVAILABLE');
    await assert.rejects(gone.fetchJwtSvids(['a']), (e) => isSignetError(e, 'ERR_WORKLOAD_API') && e.detail?.status === 'UNAVAILABLE');
  } finally {
    gone.close();
  }
  await assert.rejects(X509Source.open({ address: `unix://${env.tmp.path('run/none.sock')}`, timeoutMs: 2_000 }), (e) => isSignetError(e, 'ERR_WORKLOAD_API'));
});

test('mTLS by SPIFFE ID: two workloads (uids 0 and nobody) complete the handshake with their SVIDs and each authorizes the other; a third identity and a wrong expectation are refused', async () => {
  const server = peer(['server', address(), FRONTEND]);
  servers.push(server.proc);
  const listening = await server.line((o) => o.port !== undefined);
  assert.equal(listening.id, BACKEND);
  const port = String(listening.port);

  const frontend = await peer(['client', address(), port, BACKEND], NOBODY).done;
  assert.deepEqual(frontend, { reply: `hello ${FRONTEND}`, server: BACKEND, id: FRONTEND });

  // A valid SVID of the same trust domain that the server does not authorize: the server drops it.
  const intruder = await peer(['client', address(), port, BACKEND], STRANGER).done;
  assert.ok(typeof intruder.error === 'string', JSON.stringify(intruder));
  assert.equal((await server.line((o) => o.refused !== undefined)).refused, 'ERR_PEER_UNAUTHORIZED');

  // The client expects someone else behind that port: it refuses the server.
  const misdirected = await peer(['client', address(), port, 'spiffe://example.org/db'], NOBODY).done;
  assert.equal(misdirected.error, 'ERR_PEER_UNAUTHORIZED');

  // OpenSSL as the frontend, with the files `signet agent helper --once` wrote for nobody.
  const dir = env.tmp.path('frontend-files');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, NOBODY, NOBODY);
  const once = signetAs(NOBODY, ['agent', 'helper', '--once', '--out', dir, '--socket', address()]);
  assert.equal(once.status, 0, once.stderr + once.stdout);
  assert.equal(statSync(`${dir}/svid_key.pem`).mode & 0o777, 0o600);
  const s = await runAsync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', `${dir}/svid.pem`, '-cert_chain', `${dir}/svid.pem`, '-key', `${dir}/svid_key.pem`, '-CAfile', `${dir}/svid_bundle.pem`, '-verify_return_error', '-quiet', '-ign_eof'], 'GET / HTTP/1.0\r\n\r\n');
  assert.match(s.stdout, new RegExp(`hello ${FRONTEND}`), s.stderr);
  assert.match(s.stderr, /verify return:1/);
  // Without a client certificate OpenSSL gets no further than the handshake.
  const anonymous = await runAsync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', `${dir}/svid_bundle.pem`, '-quiet', '-ign_eof'], 'GET / HTTP/1.0\r\n\r\n');
  assert.doesNotMatch(anonymous.stdout, /hello/);
});

test('library: an X509Source follows rotation — a server built on it presents the new SVID from the next handshake on, without a restart', async () => {
  const source = await X509Source.open({ address: address() });
  const server = spiffeTlsServer((o) => createServer(o, (s) => s.end(peerSpiffeId(s)?.toString() ?? '?')), source, authorizeId(BACKEND));
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const handshake = (): Promise<{ serial: string; said: string; dns?: string }> =>
      new Promise((resolve, reject) => {
        const sock: TLSSocket = connect({ host: '127.0.0.1', port, ...tlsClientOptions(source, authorizeId(BACKEND)) }, () => {
          const cert = sock.getPeerCertificate();
          let said = '';
          sock.on('data', (d: Buffer) => (said += d.toString()));
          sock.on('end', () => resolve({ serial: cert.serialNumber, said, ...(cert.subjectaltname !== undefined && { dns: cert.subjectaltname }) }));
        });
        sock.on('error', reject);
      });
    const first = await handshake();
    assert.equal(first.said, BACKEND);
    let updated = false;
    source.once('update', () => (updated = true));
    ok(await signetAsync(['entry', 'update', ids.backend as string, '--dns', 'backend.example.org', ...env.cfg()]));
    await env.until('the rotated SVID at the source', () => updated);
    const second = await handshake();
    assert.notEqual(second.serial, first.serial);
    assert.match(second.dns ?? '', /DNS:backend\.example\.org/);
  } finally {
    server.close();
    source.close();
  }
});

test('signet svid fetch x509|jwt and signet svid validate: the identity of the calling process; files OpenSSL verifies; specific errors', async () => {
  const x = JSON.parse(ok(await signetAsync(['svid', 'fetch', 'x509', '--socket', address(), '--json'])).stdout) as { svids: { spiffeId: string; serial: string; chainLength: number }[]; bundles: string[] };
  assert.deepEqual(x.svids.map((s) => s.spiffeId), [BACKEND]);
  assert.equal(x.svids[0]?.chainLength, 2);
  assert.deepEqual(x.bundles, ['example.org']);
  const text = ok(await signetAsync(['svid', 'fetch', 'x509'], { env: { SPIFFE_ENDPOINT_SOCKET: address() } })).stdout;
  assert.match(text, new RegExp(`^${BACKEND}\\n  serial [0-9a-f]+, valid `));
  assert.doesNotMatch(text, /PRIVATE KEY/);

  const dir = env.tmp.path('backend-files');
  mkdirSync(dir);
  ok(await signetAsync(['svid', 'fetch', 'x509', '--socket', address(), '--out', dir]));
  assert.equal(statSync(`${dir}/svid_key.pem`).mode & 0o777, 0o600);
  const verify = await runAsync('openssl', ['verify', '-CAfile', `${dir}/svid_bundle.pem`, '-untrusted', `${dir}/svid.pem`, '-purpose', 'sslclient', `${dir}/svid.pem`]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  const certKey = await runAsync('openssl', ['x509', '-in', `${dir}/svid.pem`, '-noout', '-pubkey']);
  const fileKey = await runAsync('openssl', ['pkey', '-in', `${dir}/svid_key.pem`, '-pubout']);
  assert.equal(certKey.stdout, fileKey.stdout);

  const token = ok(await signetAsync(['svid', 'fetch', 'jwt', '--audience', 'db', '--socket', address()])).stdout;
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const valid = JSON.parse(ok(await signetAsync(['svid', 'validate', '--audience', 'db', '--socket', address(), '--json'], { input: token })).stdout) as { spiffeId: string; claims: { aud: unknown } };
  assert.equal(valid.spiffeId, BACKEND);
  const wrong = await signetAsync(['svid', 'validate', '--audience', 'other', '--socket', address()], { input: token });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /invalid JWT-SVID: .*audience.*\(ERR_JWT_SVID_INVALID\)/);
  assert.doesNotMatch(wrong.stderr, /\n\s+at /);
  const empty = await signetAsync(['svid', 'validate', '--audience', 'db', '--socket', address()], { input: '' });
  assert.match(empty.stderr, /ERR_INPUT_EMPTY/);

  // Who is asking decides the answer.
  const nobody = signetAs(NOBODY, ['svid', 'fetch', 'x509', '--socket', address(), '--json']);
  assert.deepEqual((JSON.parse(nobody.stdout) as { svids: { spiffeId: string }[] }).svids.map((s) => s.spiffeId), [FRONTEND]);
  const noOne = signetAs(NO_ONE, ['svid', 'fetch', 'x509', '--socket', address()]);
  assert.equal(noOne.status, 1);
  assert.match(noOne.stderr, /ERR_WORKLOAD_NO_IDENTITY/);

  for (const [args, status, code] of [
    [['svid', 'fetch', 'x509', '--socket', 'http://127.0.0.1:1'], 2, 'ERR_BAD_OPTION'],
    [['svid', 'fetch', 'x509', '--socket', `unix://${env.tmp.path('run/none.sock')}`], 6, 'ERR_WORKLOAD_API'],
    [['svid', 'fetch', 'x509', '--socket', address(), '--spiffe-id', BACKEND], 2, 'ERR_USAGE'],
    [['svid', 'fetch', 'x509', '--socket', address(), '--out', dir, '--spiffe-id', FRONTEND], 1, 'ERR_WORKLOAD_NO_IDENTITY'],
    [['svid', 'fetch', 'jwt', '--socket', address()], 2, 'ERR_USAGE'],
    [['svid', 'fetch', 'jwt', '--socket', address(), '--audience', 'a', '--spiffe-id', 'not-an-id'], 3, 'ERR_SPIFFE_ID_INVALID'],
  ] as const) {
    const r = await signetAsync(args);
    assert.match(r.stderr, new RegExp(code), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  }
  // A refused --out leaves the files that were there as they were.
  assert.equal(certKey.stdout, (await runAsync('openssl', ['x509', '-in', `${dir}/svid.pem`, '-noout', '-pubkey'])).stdout);
});

test('signet agent helper: files replaced atomically on rotation, then the program signalled (pid file) and the command run; SIGTERM exits 0', async () => {
  const dir = env.tmp.path('helper');
  mkdirSync(dir);
  chmodSync(dir, 0o700);
  const hups = env.tmp.path('hups');
  const execs = env.tmp.path('execs');
  const program = spawn('/bin/sh', ['-c', `echo $$ > ${env.tmp.path('program.pid')}; trap 'echo hup >> ${hups}' HUP; while :; do sleep 0.1; done`]);
  await env.until('the program\'s pid file', () => existsSync(env.tmp.path('program.pid')));
  let helperLog = '';
  const helper = spawn(process.execPath, [CLI_PATH, 'agent', 'helper', '--out', dir, '--socket', address(), '--signal', 'HUP', '--pid-file', env.tmp.path('program.pid'), '--exec', `echo "$SVID_DIR" >> ${execs}`]);
  helper.stdout.on('data', (d: Buffer) => (helperLog += d.toString()));
  helper.stderr.on('data', (d: Buffer) => (helperLog += d.toString()));
  const count = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').length : 0);
  const serial = (): string => new X509Certificate(readFileSync(`${dir}/svid.pem`)).serialNumber;
  try {
    await env.until('the first files, signal and command', () => existsSync(`${dir}/svid_key.pem`) && count(hups) === 1 && count(execs) === 1);
    assert.equal(readFileSync(execs, 'utf8').trim(), dir);
    assert.equal(statSync(`${dir}/svid_key.pem`).mode & 0o777, 0o600);
    const before = serial();
    ok(await signetAsync(['entry', 'update', ids.backend as string, '--dns', 'helper.example.org', ...env.cfg()]));
    await env.until('the rotated files', () => serial() !== before && count(hups) === 2 && count(execs) === 2);
    const certKey = await runAsync('openssl', ['x509', '-in', `${dir}/svid.pem`, '-noout', '-pubkey']);
    const fileKey = await runAsync('openssl', ['pkey', '-in', `${dir}/svid_key.pem`, '-pubout']);
    assert.equal(certKey.stdout, fileKey.stdout, 'the key file matches the certificate file after rotation');
    assert.match(helperLog, /"msg":"helper: SVID written"/);
    assert.doesNotMatch(helperLog, /PRIVATE KEY/);
  } finally {
    const code = await new Promise<number | null>((resolve) => {
      helper.once('exit', (c) => resolve(c));
      helper.kill('SIGTERM');
    });
    program.kill('SIGKILL');
    assert.equal(code, 0, helperLog);
  }
  for (const [args, status, code] of [
    [['agent', 'helper', '--out', dir, '--socket', address(), '--signal', 'HUP'], 2, 'ERR_USAGE'],
    [['agent', 'helper', '--out', dir, '--socket', address(), '--signal', 'NOPE', '--pid-file', 'x'], 2, 'ERR_BAD_OPTION'],
    [['agent', 'helper', '--out', dir, '--once', '--socket', `unix://${env.tmp.path('run/none.sock')}`], 6, 'ERR_WORKLOAD_API'],
    [['agent', 'helper', '--out', env.tmp.path('no/such/dir'), '--once', '--socket', address()], 5, 'ERR_FILE_NOT_FOUND'],
    [['agent', 'helper', '--out', dir, '--once', '--socket', address(), '--exec', 'exit 3'], 5, 'ERR_HELPER_COMMAND'],
  ] as const) {
    const r = await signetAsync(args);
    assert.match(r.stderr, new RegExp(code), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('signet agent explain --pid: the selectors the agent sees for a process and which entries match, also while the agent is stopped', async () => {
  const cfg = ['--config', env.tmp.path('agent.json')];
  const asNobody = spawn('/bin/sleep', ['60'], { uid: NOBODY, gid: NOBODY });
  const asNoOne = spawn('/bin/sleep', ['60'], { uid: NO_ONE, gid: NO_ONE });
  try {
    const text = ok(await signetAsync(['agent', 'explain', '--pid', String(asNobody.pid), ...cfg])).stdout;
    assert.match(text, new RegExp(`^process ${asNobody.pid}: /usr/bin/sleep, uid ${NOBODY}, gid ${NOBODY}\\n`));
    assert.match(text, /^ {2}unix:user:nobody$/m);
    assert.match(text, new RegExp(`^ {2}MATCH {4}${FRONTEND} \\(entry ${ids.frontend}\\) — SVID held until `, 'm'));
    assert.match(text, new RegExp(`^ {2}no match ${BACKEND} \\(entry ${ids.backend}\\) — missing unix:uid:0$`, 'm'));
    assert.match(text, new RegExp(`^result: identity ${FRONTEND}$`, 'm'));

    const x = JSON.parse(ok(await signetAsync(['agent', 'explain', '--pid', String(asNoOne.pid), '--json', ...cfg])).stdout) as { uid: number; selectors: string[]; entries: { spiffeId: string; matches: boolean; missing: string[] }[] };
    assert.equal(x.uid, NO_ONE);
    assert.ok(x.selectors.includes(`unix:uid:${NO_ONE}`));
    assert.ok(!x.selectors.some((s) => s.startsWith('unix:user:')), 'no account, no user selector');
    assert.equal(x.entries.length, 3);
    assert.ok(x.entries.every((e) => !e.matches && e.missing.length === 1));
    const none = ok(await signetAsync(['agent', 'explain', '--pid', String(asNoOne.pid), ...cfg])).stdout;
    assert.match(none, /^result: no identity \(the Workload API answers PERMISSION_DENIED\)$/m);

    // The agent stopped: its state file still answers.
    assert.equal(await env.stopAgent(), 0);
    assert.match(ok(await signetAsync(['agent', 'explain', '--pid', String(process.pid), ...cfg])).stdout, new RegExp(`^result: identity ${BACKEND}$`, 'm'));
  } finally {
    asNobody.kill();
    asNoOne.kill();
    env.startAgent();
  }
  for (const [args, status, code] of [
    [['--pid', 'abc'], 2, 'ERR_BAD_OPTION'],
    [['--pid', '0'], 2, 'ERR_BAD_OPTION'],
    [['--pid', '4194303'], 1, 'ERR_ATTESTATION_FAILED'],
  ] as const) {
    const r = await signetAsync(['agent', 'explain', ...args, ...cfg]);
    assert.match(r.stderr, new RegExp(code), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.status, status, r.stderr);
  }
  assert.match((await signetAsync(['agent', 'explain', '--pid', String(process.pid), '--config', env.tmp.path('nope.json')])).stderr, /ERR_CONFIG_NOT_FOUND/);
  // An agent that has never run: nothing to compare with, and the hint says why.
  const fresh = JSON.parse(readFileSync(env.tmp.path('agent.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(env.tmp.path('fresh-data'));
  writeFileSync(env.tmp.path('fresh.json'), JSON.stringify({ ...fresh, dataDir: 'fresh-data' }));
  const never = await signetAsync(['agent', 'explain', '--pid', String(process.pid), '--config', env.tmp.path('fresh.json')]);
  assert.match(never.stderr, /ERR_FILE_NOT_FOUND/);
  assert.match(never.stderr, /has the agent run with this dataDir yet/);
});

test('mTLS across trust domains: a federated partner\'s SVID is accepted through its own trust domain\'s bundle; a certificate from that partner\'s CA that claims one of ours is refused, though OpenSSL verifies its chain', async () => {
  // A partner trust domain, other.org, made with OpenSSL: its CA and two client certificates, one
  // in its own name and one that claims this trust domain's frontend.
  const dir = env.tmp.path('other-org');
  mkdirSync(dir);
  const f = (name: string): string => `${dir}/${name}`;
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/O=Other Org/CN=Other Org CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectAltName=URI:spiffe://other.org']);
  const leaf = (name: string, id: string): void => {
    opensslOk(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', '/O=Other Org']);
    writeFileSync(f(`${name}.cnf`), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth,serverAuth\nsubjectAltName=critical,URI:${id}\n`);
    opensslOk(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '1', '-extfile', f(`${name}.cnf`)]);
  };
  const PARTNER = 'spiffe://other.org/partner';
  leaf('partner', PARTNER);
  leaf('forged', FRONTEND);
  const caCert = new X509Certificate(readFileSync(f('ca.pem')));
  const jwk = caCert.publicKey.export({ format: 'jwk' });
  writeFileSync(f('bundle.json'), JSON.stringify({ keys: [{ use: 'x509-svid', kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, x5c: [caCert.raw.toString('base64')] }], spiffe_sequence: 1 }));
  // Federated by its bundle (its endpoint never answers here: the bootstrap bundle is what is held),
  // and the backend's entry may use it.
  ok(await signetAsync(['federation', 'add', 'other.org', '--profile', 'https_spiffe', '--url', 'https://127.0.0.1:9/bundle', '--endpoint-id', 'spiffe://other.org/signet/server', '--bundle-file', f('bundle.json'), ...env.cfg()]));
  ok(await signetAsync(['entry', 'update', ids.backend ?? '', '--federates-with', 'other.org', ...env.cfg()]));
  await env.until('the backend holding the other.org bundle', async () => {
    const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', address(), '--json']);
    return r.status === 0 && (JSON.parse(r.stdout) as { bundles: string[] }).bundles.includes('other.org');
  }, 60_000);

  const serve = async (allowed: string): Promise<{ port: string; refused: () => Promise<Record<string, unknown>> }> => {
    const server = peer(['server', address(), allowed]);
    servers.push(server.proc);
    const listening = await server.line((o) => o.port !== undefined);
    assert.equal(listening.id, BACKEND);
    return { port: String(listening.port), refused: () => server.line((o) => o.refused !== undefined) };
  };
  const sClient = (port: string, name: string) => runAsync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-cert', f(`${name}.pem`), '-key', f(`${name}.key`), '-quiet', '-ign_eof'], 'GET / HTTP/1.0\r\n\r\n');

  // The partner, authorized by its ID: the server validated it with other.org's bundle.
  const partnerServer = await serve(PARTNER);
  assert.match((await sClient(partnerServer.port, 'partner')).stdout, new RegExp(`hello ${PARTNER}`));

  // The forgery: OpenSSL accepts its chain (the server trusts other.org's CA for other.org's
  // SVIDs), but an example.org ID is checked against example.org's bundle only.
  const frontendServer = await serve(FRONTEND);
  const forged = await sClient(frontendServer.port, 'forged');
  assert.doesNotMatch(forged.stdout, /hello/);
  assert.equal((await frontendServer.refused()).refused, 'ERR_X509_SVID_INVALID');
  // The real frontend still gets through.
  assert.deepEqual(await peer(['client', address(), frontendServer.port, BACKEND], NOBODY).done, { reply: `hello ${FRONTEND}`, server: BACKEND, id: FRONTEND });

  // The files for programs that read them: the partner's bundle among them, from a running helper
  // and from svid fetch --out.
  const helperDir = env.tmp.path('helper-fed');
  const fetchDir = env.tmp.path('fetch-fed');
  mkdirSync(helperDir, { mode: 0o700 });
  mkdirSync(fetchDir, { mode: 0o700 });
  const helper = spawn(process.execPath, [CLI_PATH, 'agent', 'helper', '--out', helperDir, '--socket', address()], { stdio: 'ignore' });
  servers.push(helper);
  await env.until('the helper\'s files', () => existsSync(`${helperDir}/federated_bundle.other.org.pem`));
  ok(await signetAsync(['svid', 'fetch', 'x509', '--out', fetchDir, '--socket', address()]));
  assert.equal(readFileSync(`${fetchDir}/federated_bundle.other.org.pem`, 'utf8'), readFileSync(f('ca.pem'), 'utf8').replace(/\r/g, ''));

  // The relationship removed, the partner is refused too, and its bundle file is gone.
  ok(await signetAsync(['federation', 'remove', 'other.org', ...env.cfg()]));
  await env.until('the other.org bundle withdrawn', async () => {
    const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', address(), '--json']);
    return r.status === 0 && !(JSON.parse(r.stdout) as { bundles: string[] }).bundles.includes('other.org');
  }, 60_000);
  const after = await serve(PARTNER);
  assert.doesNotMatch((await sClient(after.port, 'partner')).stdout, /hello/);
  await env.until('the helper removing the withdrawn bundle\'s file', () => !existsSync(`${helperDir}/federated_bundle.other.org.pem`));
  assert.ok(existsSync(`${helperDir}/svid.pem`));
  ok(await signetAsync(['svid', 'fetch', 'x509', '--out', fetchDir, '--socket', address()]));
  assert.ok(!existsSync(`${fetchDir}/federated_bundle.other.org.pem`));
  assert.ok(existsSync(`${fetchDir}/svid_bundle.pem`));
});
