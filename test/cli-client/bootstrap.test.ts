/**
 * `signet ca bootstrap`, `signet context list|select`, `signet ca health|roots` against a real CA
 * started in-process: the root is pinned only with the right fingerprint, contexts coexist, and
 * every later request verifies the CA against the pinned root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fails, ok } from '../helpers/cli.js';
import { opensslOk } from '../helpers/openssl.js';
import { clientKit, freePort, type ClientKit } from './kit.js';

let kit: ClientKit;
before(async () => {
  kit = await clientKit();
});
after(async () => {
  await kit.cleanup();
});

test('bootstrap pins the root under the CA host name, saves a 0700 home and makes the context current', async () => {
  // The fingerprint as OpenSSL prints it: upper case with colons.
  const colon = opensslOk(['x509', '-in', kit.ca.rootFile, '-noout', '-fingerprint', '-sha256']).trim().split('=')[1] ?? '';
  assert.match(colon, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const r = ok(await kit.run(['ca', 'bootstrap', '--ca-url', kit.running.url, '--fingerprint', colon, '--json']));
  const out = JSON.parse(r.stdout) as { context: string; fingerprint: string; root: string; current: boolean };
  assert.equal(out.context, 'localhost');
  assert.equal(out.fingerprint, kit.ca.rootFingerprint);
  assert.equal(out.current, true);
  assert.equal(statSync(kit.home).mode & 0o777, 0o700);
  const dir = join(kit.home, 'contexts', 'localhost');
  assert.equal(readFileSync(join(dir, 'root.crt'), 'utf8'), kit.ca.rootPem);
  const ctx = JSON.parse(readFileSync(join(dir, 'context.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(ctx.caUrl, kit.running.url);
  assert.equal(ctx.fingerprint, kit.ca.rootFingerprint);
  assert.equal(readFileSync(join(kit.home, 'current-context'), 'utf8').trim(), 'localhost');

  // The pinned context is used by default from now on.
  assert.match(ok(await kit.run(['ca', 'health'])).stdout, /^ok: the CA at https:\/\/localhost:\d+ is healthy\n$/);
  const roots = ok(await kit.run(['ca', 'roots'])).stdout;
  assert.equal(roots, kit.ca.rootPem);
  const rootsJson = JSON.parse(ok(await kit.run(['ca', 'roots', '--json'])).stdout) as { roots: { fingerprint: string; pinned: boolean }[] };
  assert.deepEqual(rootsJson.roots.map((x) => [x.fingerprint, x.pinned]), [[kit.ca.rootFingerprint, true]]);

  // Same name again: refused without --force, replaced with it.
  fails(await kit.run(['ca', 'bootstrap', '--ca-url', kit.running.url, '--fingerprint', kit.ca.rootFingerprint]), 5, 'ERR_CONTEXT_EXISTS');
  ok(await kit.run(['ca', 'bootstrap', '--ca-url', kit.running.url, '--fingerprint', kit.ca.rootFingerprint, '--force']));
});

test('a wrong fingerprint is refused with ERR_FINGERPRINT_MISMATCH and nothing is saved', async () => {
  const wrong = [...kit.ca.rootFingerprint].reverse().join('');
  const r = await kit.run(['ca', 'bootstrap', '--ca-url', kit.running.url, '--fingerprint', wrong, '--context', 'evil']);
  fails(r, 1, 'ERR_FINGERPRINT_MISMATCH');
  assert.ok(!existsSync(join(kit.home, 'contexts', 'evil')));
  fails(await kit.run(['ca', 'bootstrap', '--ca-url', kit.running.url, '--fingerprint', 'abc', '--context', 'evil']), 2, 'ERR_BAD_OPTION');
  fails(await kit.run(['ca', 'bootstrap', '--ca-url', `http://localhost:${kit.running.port}`, '--fingerprint', wrong]), 2, 'ERR_BAD_OPTION');
});

test('an unreachable CA is a network error (exit 6) for bootstrap and health', async () => {
  const port = await freePort();
  fails(await kit.run(['ca', 'bootstrap', '--ca-url', `https://127.0.0.1:${port}`, '--fingerprint', kit.ca.rootFingerprint, '--context', 'down']), 6, 'ERR_CA_UNREACHABLE');
  assert.ok(!existsSync(join(kit.home, 'contexts', 'down')));
  fails(await kit.run(['ca', 'health', '--ca-url', `https://127.0.0.1:${port}`, '--root', kit.ca.rootFile]), 6, 'ERR_CA_UNREACHABLE');
});

test('a CA whose TLS certificate does not chain to the given root is ERR_CA_UNTRUSTED', async () => {
  const other = kit.path('other-root.crt');
  const otherKey = kit.path('other-root.key');
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', otherKey, '-out', other, '-subj', '/CN=Other Root', '-days', '1']);
  fails(await kit.run(['ca', 'health', '--ca-url', kit.running.url, '--root', other]), 1, 'ERR_CA_UNTRUSTED');
  // --ca-url without --root would mean no verification: refused.
  fails(await kit.run(['ca', 'health', '--ca-url', kit.running.url]), 2, 'ERR_USAGE');
});

test('contexts coexist: list marks the current one, select switches, unknown names are ERR_CONTEXT_NOT_FOUND', async () => {
  // A second name for the same CA, by IP address.
  ok(await kit.run(['ca', 'bootstrap', '--ca-url', `https://127.0.0.1:${kit.running.port}`, '--fingerprint', kit.ca.rootFingerprint, '--context', 'by-ip']));
  let list = JSON.parse(ok(await kit.run(['context', 'list', '--json'])).stdout) as { current: string; contexts: { name: string; current: boolean; caUrl: string }[] };
  assert.equal(list.current, 'by-ip');
  assert.deepEqual(list.contexts.map((c) => [c.name, c.current]), [['by-ip', true], ['localhost', false]]);
  assert.match(ok(await kit.run(['context', 'list'])).stdout, /^\* by-ip +https:\/\/127\.0\.0\.1:\d+ {2}sha256:[0-9a-f]{16}…\n {2}localhost +https:\/\/localhost:/);

  ok(await kit.run(['context', 'select', 'localhost']));
  list = JSON.parse(ok(await kit.run(['context', 'list', '--json'])).stdout) as typeof list;
  assert.equal(list.current, 'localhost');
  assert.match(ok(await kit.run(['ca', 'health', '--context', 'by-ip', '--json'])).stdout, /"url": "https:\/\/127\.0\.0\.1:/);

  fails(await kit.run(['context', 'select', 'nope']), 2, 'ERR_CONTEXT_NOT_FOUND');
  fails(await kit.run(['ca', 'health', '--context', 'nope']), 2, 'ERR_CONTEXT_NOT_FOUND');
  // A fresh home knows no CA.
  fails(await kit.run(['ca', 'health'], { SIGNET_HOME: kit.path('empty-home') }), 2, 'ERR_CONTEXT_NOT_FOUND');
  assert.match(ok(await kit.run(['context', 'list'], { SIGNET_HOME: kit.path('empty-home') })).stdout, /^no contexts in /);
});
