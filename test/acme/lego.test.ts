/**
 * ACME interop with lego (the Debian package the test setup installs), against a real CA on
 * loopback: http-01 and tls-alpn-01 (lego's own challenge servers on the ports the CA validates
 * on), dns-01 for a wildcard (lego's httpreq provider posts the TXT record to this test, which
 * serves it from its DNS server), renew and revoke. Every chain verifies with `openssl verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestCa, startTestCa } from '../helpers/ca.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { freePort } from '../helpers/net.js';
import { openssl, runAsync, tempDir } from '../helpers/openssl.js';

test('lego: http-01, tls-alpn-01, dns-01 for a wildcard, renew, revoke; chains verify with openssl', { timeout: 300_000 }, async (t) => {
  const tmp = tempDir('signet-lego-');
  t.after(() => tmp.cleanup());
  const dns = await startDnsServer();
  t.after(() => dns.close());
  // lego's httpreq DNS provider: POST /present and /cleanup with {"fqdn", "value"}.
  const control = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { fqdn?: string; value?: string };
      if (req.url === '/present' && body.fqdn && body.value) dns.addTxt(body.fqdn, body.value);
      else if (req.url === '/cleanup' && body.fqdn) dns.clearTxt(body.fqdn);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => control.close(() => resolve())));
  const controlPort = (control.address() as { port: number }).port;

  const httpPort = await freePort();
  const tlsPort = await freePort();
  for (const n of ['web.lego.test', 'tls.lego.test']) dns.setAddress(n, '127.0.0.1');
  const ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      (doc.provisioners as unknown[]).push({ type: 'ACME', name: 'acme' });
      doc.acme = { httpPort, tlsPort, dnsServers: [dns.address], allowPrivateAddresses: true, validationTimeout: '5s' };
    },
  });
  const running = await startTestCa(ca);
  t.after(() => running.close());
  const path = join(tmp.dir, 'lego');
  const env = { ...process.env, LEGO_CA_CERTIFICATES: ca.rootFile, HTTPREQ_ENDPOINT: `http://127.0.0.1:${controlPort}`, HOME: tmp.dir };
  const lego = async (args: string[]): Promise<void> => {
    const r = await runAsync('lego', ['--server', `${running.url}/acme/acme/directory`, '--email', 'ops@lego.test', '--accept-tos', '--path', path, ...args], '', { env });
    assert.equal(r.code, 0, `lego ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  };
  const verify = (name: string, names: readonly string[]): string => {
    const crt = join(path, 'certificates', `${name}.crt`);
    assert.ok(existsSync(crt), `${crt} written`);
    // lego writes the bundle (leaf + intermediate) to <name>.crt and the issuer to <name>.issuer.crt.
    const leaf = join(tmp.dir, `${name.replace('*', '_')}-leaf.pem`);
    writeFileSync(leaf, /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(readFileSync(crt, 'utf8'))?.[0] ?? '');
    const v = openssl(['verify', '-CAfile', ca.rootFile, '-untrusted', join(path, 'certificates', `${name}.issuer.crt`), leaf]);
    assert.equal(v.status, 0, v.stderr);
    const text = openssl(['x509', '-in', leaf, '-noout', '-serial', '-ext', 'subjectAltName']).stdout;
    for (const n of names) assert.ok(text.includes(`DNS:${n}`), `${n} in ${text}`);
    return /serial=([0-9A-F]+)/.exec(text)?.[1]?.toLowerCase().replace(/^(00)+/, '') ?? '';
  };

  await lego(['--domains', 'web.lego.test', '--http', '--http.port', `127.0.0.1:${httpPort}`, 'run']);
  const web = verify('web.lego.test', ['web.lego.test']);

  await lego(['--domains', 'tls.lego.test', '--tls', '--tls.port', `127.0.0.1:${tlsPort}`, 'run']);
  verify('tls.lego.test', ['tls.lego.test']);

  await lego(['--domains', '*.wild.lego.test', '--domains', 'wild.lego.test', '--dns', 'httpreq', '--dns.disable-cp', '--dns.resolvers', dns.address, 'run']);
  const wild = verify('_.wild.lego.test', ['*.wild.lego.test', 'wild.lego.test']);
  assert.ok(dns.queries.some((q) => q === 'TXT _acme-challenge.wild.lego.test'), 'the CA looked the TXT record up');
  assert.equal((await running.store.certificates.get(wild))?.provisioner, 'acme');

  // Renew (the certificate lives 24 h, well inside --days 30), then revoke the renewed one.
  await lego(['--domains', 'web.lego.test', '--http', '--http.port', `127.0.0.1:${httpPort}`, 'renew', '--days', '30', '--no-random-sleep']);
  const renewed = verify('web.lego.test', ['web.lego.test']);
  assert.notEqual(renewed, web);
  await lego(['--domains', 'web.lego.test', 'revoke']);
  assert.equal((await running.store.certificates.get(renewed))?.status, 'revoked');
});
