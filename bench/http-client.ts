/**
 * The load generator's HTTPS/1.1 client: one keep-alive TLS connection per concurrent stream,
 * each request written as prepared bytes, each answer read by its Content-Length.
 *
 * Why not node:https: on a two-core machine the client shares the cores with the servers it
 * measures, and node:https costs ~150–450 µs of CPU per request here (request object, header
 * formatting and parsing, agent bookkeeping) — more than the server's own cryptography. This
 * client costs a TLS record each way and a header scan. It speaks only what the CA answers:
 * HTTP/1.1 with Content-Length, no chunked bodies, no 1xx. `SIGNET_BENCH_CLIENT=https` in
 * bench/issuance.ts switches back to node:https for comparison.
 */
import { connect, type TLSSocket } from 'node:tls';

/** One answer: the status code and the body bytes. */
export interface HttpReply {
  readonly status: number;
  readonly body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Prepared bytes of a `POST path` with a JSON body. */
export function postRequestBytes(host: string, path: string, body: Buffer): Buffer {
  const head = `POST ${path} HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

function parseHead(head: string): { status: number; length: number; close: boolean } {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '');
  if (!status) throw new Error(`bad status line: ${lines[0] ?? ''}`);
  let length = -1;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
    else if (name === 'connection') close = line.slice(colon + 1).trim().toLowerCase() === 'close';
    else if (name === 'transfer-encoding') throw new Error('chunked answers are not supported');
  }
  if (!Number.isSafeInteger(length) || length < 0) throw new Error('the answer has no content-length');
  return { status: Number(status[1]), length, close };
}

/** A keep-alive HTTPS connection that carries one request at a time; reconnects when the server closed it. */
export class HttpConnection {
  readonly #port: number;
  readonly #ca: string;
  #socket: TLSSocket | undefined;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: HttpReply) => void; reject: (e: Error) => void } | undefined;

  constructor(port: number, ca: string) {
    this.#port = port;
    this.#ca = ca;
  }

  #open(): Promise<TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: this.#port, ca: this.#ca }, () => resolve(socket));
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      socket.on('error', (e: Error) => {
        reject(e);
        this.#fail(e);
      });
      socket.on('close', () => {
        if (this.#socket === socket) this.#socket = undefined;
        this.#fail(new Error('the server closed the connection'));
      });
      this.#socket = socket;
      this.#buffered = Buffer.alloc(0);
    });
  }

  #fail(e: Error): void {
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(e);
  }

  #onData(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const end = this.#buffered.indexOf(HEADER_END);
    if (end < 0 || this.#waiting === undefined) return;
    let head: ReturnType<typeof parseHead>;
    try {
      head = parseHead(this.#buffered.subarray(0, end).toString('latin1'));
    } catch (e) {
      this.#fail(e as Error);
      this.#socket?.destroy();
      return;
    }
    const total = end + HEADER_END.length + head.length;
    if (this.#buffered.length < total) return;
    const body = this.#buffered.subarray(end + HEADER_END.length, total);
    this.#buffered = this.#buffered.subarray(total);
    const w = this.#waiting;
    this.#waiting = undefined;
    if (head.close) this.#socket?.end();
    w.resolve({ status: head.status, body });
  }

  /** Sends prepared request bytes and resolves with the answer. */
  async request(bytes: Buffer): Promise<HttpReply> {
    const socket = this.#socket ?? (await this.#open());
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      socket.write(bytes);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}
