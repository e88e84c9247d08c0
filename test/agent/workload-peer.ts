/**
 * A workload for library.test.ts, run in its own process under the uid whose identity it should
 * get (so the agent attests it): `server SOCKET ALLOWED_ID` serves HTTPS with its SVID and prints
 * `{"port", "id"}`, then a line per refused client; `client SOCKET PORT ALLOWED_ID` makes one
 * request and prints `{"reply", "server"}` or `{"error"}`. Without arguments (the test runner
 * loads every file) it does nothing.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { authorizeId, peerSpiffeId, spiffeTlsServer, tlsClientOptions, X509Source } from '../../src/workload.js';

const print = (o: unknown): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

async function server(socket: string, allowed: string): Promise<void> {
  const source = await X509Source.open({ address: socket });
  const srv = spiffeTlsServer((o) => https.createServer(o, (req, res) => res.end(`hello ${peerSpiffeId(req.socket as TLSSocket)?.toString() ?? '?'}`)), source, authorizeId(allowed));
  srv.on('tlsClientError', (e: Error & { code?: string }) => print({ refused: e.code ?? e.message }));
  srv.listen(0, '127.0.0.1', () => print({ port: (srv.address() as AddressInfo).port, id: source.svid().spiffeId }));
  process.once('SIGTERM', () => {
    srv.close();
    source.close();
  });
}

async function client(socket: string, port: number, allowed: string): Promise<void> {
  const source = await X509Source.open({ address: socket });
  try {
    const out = await new Promise<{ reply: string; server: string | undefined; id: string }>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port, path: '/', agent: false, ...tlsClientOptions(source, authorizeId(allowed)) }, (res) => {
        const server = peerSpiffeId(res.socket as TLSSocket)?.toString();
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ reply: body, server, id: source.svid().spiffeId }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    print(out);
  } catch (e) {
    const err = e as Error & { code?: string };
    print({ error: err.code ?? 'ERR', message: err.message });
  } finally {
    source.close();
  }
}

const [mode, socket, a, b] = process.argv.slice(2);
if (mode === 'server' && socket !== undefined && a !== undefined) await server(socket, a);
else if (mode === 'client' && socket !== undefined && a !== undefined && b !== undefined) await client(socket, Number(a), b);
