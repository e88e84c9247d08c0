/**
 * Fetching the chain a live TLS server presents: a real `openssl s_server` on a free loopback
 * port (started here, awaited on its ACCEPT line, killed afterwards), SNI selecting the served
 * certificate, limits, and the failures a user meets (refused, not TLS, silent server).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { fetchTlsChain, formatTlsTarget, parseTlsTarget } from '../../src/x509/tls-fetch.js';
import { isSignetError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/openssl.js';
import { buildPki, freePort, opensslDer, startTlsServer } from './pki.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);
const pki = buildPki(tmp.dir);

const server = await startTlsServer([
  '-cert', pki.path('leaf.crt'), '-key', pki.path('leaf.key'), '-cert_chain', pki.path('int.crt'),
  // A different certificate for clients that ask for p384.example.com (SNI).
  '-servername', 'p384.example.com', '-cert2', pki.path('p384.crt'), '-key2', pki.path('p384.key'),
  '-alpn', 'http/1.1',
]);
after(() => server.stop());

test('parseTlsTarget accepts host:port, [v6]:port and https URLs only', () => {
  const cases: Array<[string, { host: string; port: number } | undefined]> = [
    ['example.com:443', { host: 'example.com', port: 443 }],
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['https://example.com', { host: 'example.com', port: 443 }],
    ['https://example.com:9443/path?q', { host: 'example.com', port: 9443 }],
    ['leaf.crt', undefined],
    ['./certs/a:1', undefined],
    ['example.com:0', undefined],
    ['example.com:70000', undefined],
    ['[zz]:443', undefined],
    ['http://example.com', undefined],
    ['C:\\certs\\leaf.crt', undefined],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseTlsTarget(text), want, text);
});

test('strict parseTlsTarget reports an endpoint with a bad port or IPv6 literal as ERR_BAD_OPTION', () => {
  for (const text of ['localhost:99999', 'example.com:0', 'example.com:70000', '127.0.0.1:000443000', '[::1]:65536', 'https://example.com:0/', '[zz]:443']) {
    assert.equal(parseTlsTarget(text), undefined, text);
    assert.throws(() => parseTlsTarget(text, { strict: true }), (e) => isSignetError(e, 'ERR_BAD_OPTION'), text);
  }
  assert.throws(() => parseTlsTarget('localhost:99999', { strict: true }), /invalid port/);
  // What is not endpoint-shaped is still left to the caller (a missing file).
  for (const text of ['leaf.crt', './certs/a:1', 'C:\\certs\\leaf.crt', 'http://example.com']) assert.equal(parseTlsTarget(text, { strict: true }), undefined, text);
  assert.deepEqual(parseTlsTarget('[::1]:8443', { strict: true }), { host: '::1', port: 8443 });
});

test('formatTlsTarget brackets IPv6 literals (RFC 3986 §3.2.2)', () => {
  assert.equal(formatTlsTarget({ host: '::1', port: 18443 }), '[::1]:18443');
  assert.equal(formatTlsTarget({ host: '2001:db8::1', port: 443 }), '[2001:db8::1]:443');
  assert.equal(formatTlsTarget({ host: '127.0.0.1', port: 443 }), '127.0.0.1:443');
  assert.equal(formatTlsTarget({ host: 'example.com', port: 8443 }), 'example.com:8443');
});

test('returns the presented chain, leaf first, with protocol, cipher and alpn', async () => {
  const chain = await fetchTlsChain({ host: '127.0.0.1', port: server.port });
  assert.equal(chain.servername, undefined, 'no SNI for an IP literal');
  assert.equal(chain.certificates.length, 2);
  assert.deepEqual(Buffer.from(chain.certificates[0] ?? []), opensslDer('x509', pki.path('leaf.crt')));
  assert.deepEqual(Buffer.from(chain.certificates[1] ?? []), opensslDer('x509', pki.path('int.crt')));
  assert.equal(chain.protocol, 'TLSv1.3');
  assert.match(chain.cipher ?? '', /^TLS_/);
  assert.equal(chain.alpn, 'http/1.1');
});

test('sends the requested SNI, which selects the served certificate', async () => {
  const chain = await fetchTlsChain({ host: '127.0.0.1', port: server.port }, { servername: 'p384.example.com' });
  assert.equal(chain.servername, 'p384.example.com');
  assert.deepEqual(Buffer.from(chain.certificates[0] ?? []), opensslDer('x509', pki.path('p384.crt')));
  const byHost = await fetchTlsChain({ host: 'localhost', port: server.port });
  assert.equal(byHost.servername, 'localhost');
});

test('a chain over the depth limit is refused', async () => {
  await assert.rejects(fetchTlsChain({ host: '127.0.0.1', port: server.port }, { maxDepth: 1 }), (e) => isSignetError(e, 'ERR_INPUT_TOO_LARGE'));
});

test('a refused port is ERR_TLS_CONNECT', async () => {
  const port = await freePort();
  await assert.rejects(fetchTlsChain({ host: '127.0.0.1', port }), (e) => isSignetError(e, 'ERR_TLS_CONNECT') && e.detail?.reason === 'ECONNREFUSED');
});

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onConnection(s);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { server: srv, port, sockets };
}

async function close(l: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of l.sockets) s.destroy();
  await new Promise<void>((resolve) => l.server.close(() => resolve()));
}

test('a server that does not speak TLS is ERR_TLS_CONNECT', async () => {
  const l = await listen((s) => {
    s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  try {
    await assert.rejects(fetchTlsChain({ host: '127.0.0.1', port: l.port }), (e) => isSignetError(e, 'ERR_TLS_CONNECT'));
  } finally {
    await close(l);
  }
});

test('a server that never answers hits the timeout with ERR_TLS_CONNECT', async () => {
  const l = await listen(() => undefined);
  try {
    await assert.rejects(fetchTlsChain({ host: '127.0.0.1', port: l.port }, { timeoutMs: 200 }), (e) => isSignetError(e, 'ERR_TLS_CONNECT') && e.detail?.reason === 'timeout');
  } finally {
    await close(l);
  }
});
