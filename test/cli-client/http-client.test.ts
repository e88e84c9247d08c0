/**
 * The HTTPS client (src/client) against servers that are not a well-behaved CA: an answer that is
 * not the API's, an answer larger than the limit, an error code this client does not know, a
 * server that never answers. Each has its code; none hangs. The server's certificate is made by
 * OpenSSL and pinned as the root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignetError } from '../../src/core/errors.js';
import { createCaClient, httpsRequest } from '../../src/client/http.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-http-client-');
let server: Server;
let url: string;
let roots: string;

before(async () => {
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmp.path('k.pem'), '-out', tmp.path('c.pem'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1']);
  roots = readFileSync(tmp.path('c.pem'), 'utf8');
  server = createServer({ key: readFileSync(tmp.path('k.pem')), cert: roots }, (req, res) => {
    const send = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'x-request-id': 'r-1' });
      res.end(body);
    };
    switch (req.url) {
      case '/health':
        return send(200, 'text/html', '<html>hello</html>');
      case '/roots':
        return send(200, 'application/json', Buffer.alloc(2 * 1024 * 1024, 0x20));
      case '/sign':
        return send(403, 'application/json', JSON.stringify({ code: 'ERR_FROM_THE_FUTURE', message: 'no', hint: 'later' }));
      case '/revoke':
        return send(403, 'application/json', JSON.stringify({ code: 'ERR_POLICY_DENIED', message: 'DNS name "x" is not allowed' }));
      case '/renew':
        return send(502, 'text/plain', 'bad gateway');
      default:
        // never answers: the client's deadline ends it
        return undefined;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  tmp.cleanup();
});

async function code(p: Promise<unknown>): Promise<{ code: string; detail: Record<string, unknown> | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SignetError) return { code: e.code, detail: e.detail, message: e.message };
    throw e;
  }
  assert.fail('expected a refusal');
}

test('answers that are not the API, or too large, are ERR_CA_BAD_RESPONSE', async () => {
  const client = createCaClient({ url, roots });
  assert.equal((await code(client.health())).code, 'ERR_CA_BAD_RESPONSE');
  assert.equal((await code(client.roots())).code, 'ERR_CA_BAD_RESPONSE');
  const gateway = await code(client.renew({ token: 't' }));
  assert.equal(gateway.code, 'ERR_CA_BAD_RESPONSE');
  assert.equal(gateway.detail?.status, 502);
});

test('a refusal keeps the CA\'s code when it is known, else ERR_CA_REFUSED naming it; the request id is kept', async () => {
  const client = createCaClient({ url, roots });
  const known = await code(client.revoke({ serial: '01' }));
  assert.equal(known.code, 'ERR_POLICY_DENIED');
  assert.equal(known.message, 'the CA refused: DNS name "x" is not allowed');
  assert.deepEqual(known.detail, { status: 403, requestId: 'r-1', caCode: 'ERR_POLICY_DENIED' });
  const unknown = await code(client.sign({ csr: 'x', ott: 'y' }));
  assert.equal(unknown.code, 'ERR_CA_REFUSED');
  assert.match(unknown.message, /ERR_FROM_THE_FUTURE/);
});

test('a server that never answers is ERR_CA_UNREACHABLE after the deadline; a wrong root is ERR_CA_UNTRUSTED', async () => {
  assert.equal((await code(httpsRequest(url, { path: '/hang', roots, timeoutMs: 200 }))).code, 'ERR_CA_UNREACHABLE');
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', tmp.path('k2.pem'), '-out', tmp.path('c2.pem'), '-subj', '/CN=localhost', '-days', '1']);
  const client = createCaClient({ url, roots: readFileSync(tmp.path('c2.pem'), 'utf8') });
  assert.equal((await code(client.health())).code, 'ERR_CA_UNTRUSTED');
  // The host name is checked too: the certificate names localhost, not 127.0.0.1.
  const byIp = createCaClient({ url: url.replace('localhost', '127.0.0.1'), roots });
  assert.equal((await code(byIp.health())).code, 'ERR_CA_UNTRUSTED');
});
