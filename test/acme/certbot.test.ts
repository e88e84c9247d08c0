/**
 * ACME interop with certbot (the Debian package the test setup installs): register, then
 * `certonly --standalone` with http-01 for two names, then a forced renewal, against a real CA
 * on loopback. Names resolve to 127.0.0.1 through a DNS server the test runs; certbot answers
 * the challenges on a port the CA is configured to validate on. Every issued chain verifies
 * with `openssl verify`, and the inventory records each certificate with its ACME account.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, startTestCa } from '../helpers/ca.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { freePort } from '../helpers/net.js';
import { openssl, runAsync, tempDir } from '../helpers/openssl.js';
import { fails, ok, signet } from '../helpers/cli.js';

test('certbot: register, certonly --standalone (http-01, two names), renew, revoke, unregister, EAB registration; chains verify with openssl', { timeout: 240_000 }, async (t) => {
  const tmp = tempDir('signet-certbot-');
  t.after(() => tmp.cleanup());
  const dns = await startDnsServer();
  t.after(() => dns.close());
  const httpPort = await freePort();
  const names = ['www.certbot.test', 'api.certbot.test'];
  for (const n of names) dns.setAddress(n, '127.0.0.1');
  const ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme', challenges: ['http-01', 'dns-01', 'tls-alpn-01'] }, { type: 'ACME', name: 'eab', requireEAB: true });
      doc.acme = { httpPort, dnsServers: [dns.address], allowPrivateAddresses: true, validationTimeout: '5s' };
    },
  });
  const running = await startTestCa(ca);
  t.after(() => running.close());
  const directory = `${running.url}/acme/acme/directory`;
  const dirs = ['--config-dir', join(tmp.dir, 'le', 'config'), '--work-dir', join(tmp.dir, 'le', 'work'), '--logs-dir', join(tmp.dir, 'le', 'logs')];
  // certbot trusts the CA's TLS certificate through the root (python-requests reads REQUESTS_CA_BUNDLE).
  const env = { ...process.env, REQUESTS_CA_BUNDLE: ca.rootFile };
  const certbot = async (args: string[], server = directory, expectFailure = false): Promise<string> => {
    const r = await runAsync('certbot', [...args, ...dirs, '--non-interactive', '--server', server], '', { env });
    if (expectFailure) {
      assert.notEqual(r.code, 0);
      return `${r.stdout}${r.stderr}`;
    }
    if (r.code !== 0) {
      let log = '';
      try {
        log = readFileSync(join(tmp.dir, 'le', 'logs', 'letsencrypt.log'), 'utf8').split('\n').slice(-40).join('\n');
      } catch {
        // no log written
      }
      assert.fail(`certbot ${args[0] ?? ''} failed (${r.code}):\n${r.stdout}\n${r.stderr}\n${log}`);
    }
    return `${r.stdout}${r.stderr}`;
  };

  await certbot(['register', '--agree-tos', '-m', 'ops@certbot.test']);
  await certbot(['certonly', '--standalone', '--http-01-port', String(httpPort), '--http-01-address', '127.0.0.1', '--key-type', 'ecdsa', '--cert-name', 'web', ...names.flatMap((n) => ['-d', n])]);

  const live = join(tmp.dir, 'le', 'config', 'live', 'web');
  const verify = (): string => {
    const v = openssl(['verify', '-CAfile', ca.rootFile, '-untrusted', join(live, 'chain.pem'), join(live, 'cert.pem')]);
    assert.equal(v.status, 0, v.stderr);
    const text = openssl(['x509', '-in', join(live, 'cert.pem'), '-noout', '-serial', '-ext', 'subjectAltName']).stdout;
    for (const n of names) assert.match(text, new RegExp(`DNS:${n.replace(/\./g, '\\.')}`));
    return /serial=([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase().replace(/^(00)+/, '') ?? '';
  };
  const first = verify();
  assert.ok(readFileSync(join(live, 'privkey.pem'), 'utf8').includes('PRIVATE KEY'));

  // The inventory knows the certificate and who asked for it.
  const record = await running.store.certificates.get(first);
  assert.ok(record, 'the certificate is in the inventory');
  assert.equal(record.provisioner, 'acme');
  assert.match(record.requester, /^acme:acme\/[A-Za-z0-9_-]+$/);
  assert.deepEqual(record.names.filter((n) => n.type === 'dns').map((n) => n.value).sort(), [...names].sort());

  // Renewal: a new order on the same account; the earlier authorizations are reused.
  await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew', '--cert-name', 'web']);
  const second = verify();
  assert.notEqual(second, first, 'renewal issued a new certificate');
  const renewed = await running.store.certificates.get(second);
  assert.equal(renewed?.requester, record.requester, 'the same ACME account renewed');

  // Revocation with the account key, with a reason; then the account is deactivated.
  await certbot(['revoke', '--cert-name', 'web', '--reason', 'keycompromise', '--no-delete-after-revoke']);
  const revoked = await running.store.certificates.get(second);
  assert.equal(revoked?.status, 'revoked');
  assert.equal(revoked?.revocationReason, 'keyCompromise');
  await certbot(['unregister']);
  const events = await running.store.audit.list({ type: 'acme.account.deactivate' });
  assert.equal(events.length, 1, 'certbot unregister deactivated the account');

  // External account binding: refused without, accepted with a key from signet acme eab add, once.
  const eabDirectory = `${running.url}/acme/eab/directory`;
  const refused = await certbot(['register', '--agree-tos', '-m', 'eab@certbot.test'], eabDirectory, true);
  assert.match(refused, /externalAccountRequired|external account/i);
  const added = JSON.parse(ok(signet(['acme', 'eab', 'add', '--provisioner', 'eab', '--reference', 'team-a', '--json', '--config', ca.configPath])).stdout) as { keyId: string; hmacKey: string };
  await certbot(['register', '--agree-tos', '-m', 'eab@certbot.test', '--eab-kid', added.keyId, '--eab-hmac-key', added.hmacKey], eabDirectory);
  const listed = JSON.parse(ok(signet(['acme', 'eab', 'list', '--json', '--config', ca.configPath])).stdout) as { keyId: string; account?: string; reference?: string }[];
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.reference, 'team-a');
  assert.match(listed[0]?.account ?? '', /^[A-Za-z0-9_-]+$/, 'the key is bound to the new account');
  assert.ok(!JSON.stringify(listed).includes(added.hmacKey), 'list never shows the HMAC key');
  // A second account cannot use the same key (another certbot config directory = another account key).
  const again = await runAsync('certbot', ['register', '--agree-tos', '-m', 'x@certbot.test', '--eab-kid', added.keyId, '--eab-hmac-key', added.hmacKey, '--config-dir', join(tmp.dir, 'le2', 'config'), '--work-dir', join(tmp.dir, 'le2', 'work'), '--logs-dir', join(tmp.dir, 'le2', 'logs'), '--non-interactive', '--server', eabDirectory], '', { env });
  assert.notEqual(again.code, 0, 'an EAB key admits one account');
  fails(signet(['acme', 'eab', 'add', '--provisioner', 'admin', '--config', ca.configPath]), 2, 'ERR_ACME_NOT_FOUND');
  ok(signet(['acme', 'eab', 'remove', added.keyId, '--config', ca.configPath]));
  fails(signet(['acme', 'eab', 'remove', added.keyId, '--config', ca.configPath]), 2, 'ERR_ACME_NOT_FOUND');
});
