/**
 * certbot against two replicas of one CA on one PostgreSQL, behind a round-robin TCP balancer
 * (each new connection goes to the other replica; TLS passes through): accounts, nonces, orders,
 * authorizations and challenges made on one replica are used on the other. Both replicas must
 * have served ACME requests, and the flow — register, certonly, renew, revoke — must pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createTestCa, startTestCa } from '../helpers/ca.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { freePort } from '../helpers/net.js';
import { openssl, runAsync, tempDir } from '../helpers/openssl.js';
import { startPostgres } from '../helpers/postgres.js';

test('certbot through a round-robin balancer over two replicas on one PostgreSQL: register, certonly, renew, revoke', { timeout: 300_000 }, async (t) => {
  const tmp = tempDir('signet-acme-ha-');
  t.after(() => tmp.cleanup());
  const pg = await startPostgres();
  t.after(() => pg.destroy());
  const database = await pg.createDatabase('acme');
  const dns = await startDnsServer();
  t.after(() => dns.close());
  const httpPort = await freePort();
  const lbPort = await freePort();
  const names = ['ha1.certbot.test', 'ha2.certbot.test'];
  for (const n of names) dns.setAddress(n, '127.0.0.1');
  const ca = await createTestCa({
    parent: tmp.dir,
    db: { url: pg.url(database), passwordFile: pg.passwordFile },
    edit: (doc) => {
      doc.urls = [`https://localhost:${lbPort}`];
      (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme' });
      doc.acme = { httpPort, dnsServers: [dns.address], allowPrivateAddresses: true, validationTimeout: '5s' };
    },
  });
  const served = [0, 0];
  const replicas = await Promise.all(
    [0, 1].map((i) =>
      startTestCa(ca, {
        onRequest: (r) => {
          if (r.path.startsWith('/acme/')) served[i] = (served[i] ?? 0) + 1;
        },
      }),
    ),
  );
  t.after(() => Promise.all(replicas.map((r) => r.close())));

  // The balancer: connection n goes to replica n mod 2.
  let next = 0;
  const sockets = new Set<Socket>();
  const lb = createServer((client) => {
    const target = replicas[next++ % 2]?.port as number;
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => lb.listen(lbPort, '127.0.0.1', () => resolve()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => lb.close(() => resolve()));
  });

  const dirs = ['--config-dir', join(tmp.dir, 'le', 'config'), '--work-dir', join(tmp.dir, 'le', 'work'), '--logs-dir', join(tmp.dir, 'le', 'logs')];
  const env = { ...process.env, REQUESTS_CA_BUNDLE: ca.rootFile };
  const certbot = async (args: string[]): Promise<void> => {
    const r = await runAsync('certbot', [...args, ...dirs, '--non-interactive', '--server', `https://localhost:${lbPort}/acme/acme/directory`], '', { env });
    assert.equal(r.code, 0, `certbot ${args[0] ?? ''} failed:\n${r.stdout}\n${r.stderr}`);
  };
  await certbot(['register', '--agree-tos', '-m', 'ops@certbot.test']);
  const standalone = ['--standalone', '--http-01-port', String(httpPort), '--http-01-address', '127.0.0.1'];
  await certbot(['certonly', ...standalone, '--cert-name', 'ha', ...names.flatMap((n) => ['-d', n])]);
  await certbot(['renew', '--force-renewal', '--no-random-sleep-on-renew', '--cert-name', 'ha']);
  const live = join(tmp.dir, 'le', 'config', 'live', 'ha');
  const v = openssl(['verify', '-CAfile', ca.rootFile, '-untrusted', join(live, 'chain.pem'), join(live, 'cert.pem')]);
  assert.equal(v.status, 0, v.stderr);
  await certbot(['revoke', '--cert-name', 'ha', '--no-delete-after-revoke']);

  assert.ok((served[0] ?? 0) > 0 && (served[1] ?? 0) > 0, `both replicas served ACME requests (${served.join(', ')})`);
  const all = await replicas[0]?.store.certificates.list({ provisioner: 'acme' });
  assert.equal(all?.items.length, 2, 'two certificates, one per issuance');
  assert.deepEqual(all?.items.map((c) => c.status).sort(), ['revoked', 'valid']);
});
