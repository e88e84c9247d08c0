/**
 * An http-01 responder (RFC 8555 §8.3) for ACME tests and the ACME benchmark: it serves the key
 * authorization set for a token at /.well-known/acme-challenge/<token>, 404 for anything else,
 * on 127.0.0.1 at the port the ACME server is configured to validate on.
 */
import { createServer } from 'node:http';
import { freePort } from './net.js';

export interface Http01Responder {
  readonly port: number;
  /** token → key authorization. */
  readonly answers: Map<string, string>;
  close(): Promise<void>;
}

/** Starts a responder on a free port of 127.0.0.1. */
export async function startHttp01Responder(): Promise<Http01Responder> {
  const port = await freePort();
  const answers = new Map<string, string>();
  const server = createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    const answer = token === undefined ? undefined : answers.get(token);
    res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(answer ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { port, answers, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
