/**
 * `signet ca provisioner list|add|remove`: the config is edited only through the strict config
 * pipeline (a change that would make it invalid writes nothing), a new JWK provisioner gets an
 * encrypted 0600 key its tokens are signed with, and a running CA serves the change after a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, httpsRequest, startTestCa, testCsr } from '../helpers/ca.js';
import { fails, ok, signet } from '../helpers/cli.js';
import { openssl, tempDir } from '../helpers/openssl.js';
import { loadCaConfig } from '../../src/ca/config.js';

test('provisioner list, add (ACME and JWK), remove; invalid changes write nothing; a reload serves the new ACME directory and the new JWK provisioner issues', async (t) => {
  const tmp = tempDir('signet-prov-');
  t.after(() => tmp.cleanup());
  const ca = await createTestCa({ parent: tmp.dir });
  const cfg = ['--config', ca.dir];
  const list = (): { name: string; type: string; challenges?: string[]; requireEAB?: boolean }[] => JSON.parse(ok(signet(['ca', 'provisioner', 'list', '--json', ...cfg])).stdout) as { name: string; type: string }[];
  assert.deepEqual(list().map((p) => [p.name, p.type]), [['admin', 'JWK']]);
  assert.match(ok(signet(['ca', 'provisioner', 'list', ...cfg])).stdout, /^admin\tJWK\tkid /);

  const before = readFileSync(ca.configPath);
  const mode = statSync(ca.configPath).mode & 0o777;
  // Refusals leave the file byte for byte as it was.
  fails(signet(['ca', 'provisioner', 'add', 'acme', '--type', 'acme', '--challenges', 'smtp-01', ...cfg]), 1, 'ERR_CONFIG_INVALID');
  fails(signet(['ca', 'provisioner', 'add', 'admin', '--type', 'acme', ...cfg]), 1, 'ERR_CONFIG_INVALID');
  fails(signet(['ca', 'provisioner', 'add', 'ADMIN', '--type', 'acme', ...cfg]), 1, 'ERR_CONFIG_INVALID');
  fails(signet(['ca', 'provisioner', 'add', '../evil', '--type', 'acme', ...cfg]), 2, 'ERR_BAD_NAME');
  fails(signet(['ca', 'provisioner', 'add', 'x', '--type', 'x5c', ...cfg]), 2, 'ERR_BAD_OPTION');
  fails(signet(['ca', 'provisioner', 'add', 'x', '--type', 'jwk', '--require-eab', ...cfg]), 2, 'ERR_USAGE');
  fails(signet(['ca', 'provisioner', 'add', 'x', '--type', 'acme', '--terms-of-service', 'tos.html', ...cfg]), 1, 'ERR_CONFIG_INVALID');
  fails(signet(['ca', 'provisioner', 'remove', 'nobody', ...cfg]), 1, 'ERR_TOKEN_UNKNOWN_PROVISIONER');
  assert.ok(readFileSync(ca.configPath).equals(before), 'nothing written');

  const running = await startTestCa(ca);
  t.after(() => running.close());
  assert.equal((await httpsRequest(ca, `${running.url}/acme/acme/directory`)).status, 404);

  const added = JSON.parse(ok(signet(['ca', 'provisioner', 'add', 'acme', '--type', 'acme', '--challenges', 'http-01,dns-01', '--require-eab', '--json', ...cfg])).stdout) as Record<string, unknown>;
  assert.deepEqual(added, { name: 'acme', type: 'ACME', directory: '/acme/acme/directory', challenges: ['http-01', 'dns-01'], requireEAB: true });
  assert.equal(statSync(ca.configPath).mode & 0o777, mode, 'the file keeps its mode');
  const pw = join(tmp.dir, 'deploy-pw.txt');
  writeFileSync(pw, 'deploy password\n', { mode: 0o600 });
  ok(signet(['ca', 'provisioner', 'add', 'deploy', '--type', 'jwk', '--password-file', pw, ...cfg]));
  const keyFile = join(ca.dir, 'secrets', 'provisioner-deploy.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(keyFile, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.equal(openssl(['pkey', '-in', keyFile, '-passin', `file:${pw}`, '-noout']).status, 0);
  assert.deepEqual(list().map((p) => p.name), ['admin', 'acme', 'deploy']);

  // A reload (what SIGHUP does) serves both.
  await running.reload(loadCaConfig(ca.configPath));
  const dir = await httpsRequest(ca, `${running.url}/acme/acme/directory`);
  assert.equal(dir.status, 200);
  assert.deepEqual(dir.json?.meta, { externalAccountRequired: true });
  const token = ok(signet(['ca', 'token', 'deploy.example.com', '--provisioner', 'deploy', '--password-file', pw, '--ca-url', running.url, ...cfg])).stdout.trim();
  const issued = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: testCsr('deploy.example.com', ['deploy.example.com']).pem, ott: token } });
  assert.equal(issued.status, 201, issued.text);
  fails(signet(['ca', 'token', 'x.example.com', '--provisioner', 'acme', '--password-file', pw, '--ca-url', running.url, ...cfg]), 2, 'ERR_USAGE');

  ok(signet(['ca', 'provisioner', 'remove', 'acme', ...cfg]));
  assert.deepEqual(list().map((p) => p.name), ['admin', 'deploy']);
  await running.reload(loadCaConfig(ca.configPath));
  assert.equal((await httpsRequest(ca, `${running.url}/acme/acme/directory`)).status, 404);
  const changes = await running.store.audit.list({ type: 'provisioners.change' });
  assert.equal(changes.length, 2, 'each reload that changed provisioners is audited');
});
