/**
 * A small authoritative DNS server over UDP on 127.0.0.1 for ACME tests (what Pebble's
 * challtestsrv is to Pebble): the names a test orders resolve to loopback through it, and
 * dns-01 TXT records are set and cleared by the test (or by lego's exec provider). It answers A,
 * AAAA and TXT queries for the names it holds (RFC 1035 §4.1), NXDOMAIN for others.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseIpAddress } from '../../src/x509/general-name.js';

export interface TestDnsServer {
  readonly port: number;
  /** `127.0.0.1:port`, as `acme.dnsServers` takes it. */
  readonly address: string;
  /** Answers A/AAAA for `name` with `ip`. */
  setAddress(name: string, ip: string): void;
  /** Answers A/AAAA for every name under `suffix` (not the suffix itself) with `ip`. */
  setSuffixAddress(suffix: string, ip: string): void;
  /** Adds a TXT record to `name`. */
  addTxt(name: string, value: string): void;
  /** Removes every TXT record of `name`. */
  clearTxt(name: string): void;
  /** Queries answered so far, as `TYPE name` (the most recent 10,000). */
  readonly queries: readonly string[];
  close(): Promise<void>;
}

const TYPES: Readonly<Record<number, string>> = { 1: 'A', 28: 'AAAA', 16: 'TXT' };

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  for (;;) {
    const len = msg[i];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: i + 1 };
    if (len >= 0xc0) throw new Error('compressed question names are not expected');
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
}

function record(type: number, data: Buffer): Buffer {
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(0, 6); // TTL 0: tests change records between lookups
  rr.writeUInt16BE(data.length, 10);
  return Buffer.concat([rr, data]);
}

function txtData(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
    if (bytes.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** Starts the server on an ephemeral UDP port of 127.0.0.1. */
export async function startDnsServer(): Promise<TestDnsServer> {
  const addresses = new Map<string, string[]>();
  const suffixes = new Map<string, string>();
  const addressesOf = (name: string): string[] | undefined => {
    const exact = addresses.get(name);
    if (exact !== undefined) return exact;
    for (const [suffix, ip] of suffixes) if (name.endsWith(`.${suffix}`)) return [ip];
    return undefined;
  };
  const txt = new Map<string, string[]>();
  const queries: string[] = [];
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    try {
      if (msg.length < 12) return;
      const { name, end } = readName(msg, 12);
      const qtype = msg.readUInt16BE(end);
      queries.push(`${TYPES[qtype] ?? qtype} ${name}`);
      if (queries.length > 10_000) queries.splice(0, queries.length - 10_000);
      const known = addressesOf(name) !== undefined || txt.has(name);
      const answers: Buffer[] = [];
      if (qtype === 1 || qtype === 28) {
        for (const ip of addressesOf(name) ?? []) {
          const bytes = parseIpAddress(ip);
          if (bytes !== undefined && bytes.length === (qtype === 1 ? 4 : 16)) answers.push(record(qtype, Buffer.from(bytes)));
        }
      } else if (qtype === 16) {
        for (const v of txt.get(name) ?? []) answers.push(record(16, txtData(v)));
      }
      const header = Buffer.alloc(12);
      msg.copy(header, 0, 0, 2); // id
      header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (known ? 0 : 3), 2); // QR, AA, RD copied, RCODE
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(answers.length, 6);
      socket.send(Buffer.concat([header, msg.subarray(12, end + 4), ...answers]), peer.port, peer.address);
    } catch {
      // A malformed query gets no answer, as from a real server that drops it.
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = socket.address().port;
  const key = (n: string): string => n.toLowerCase().replace(/\.$/, '');
  return {
    port,
    address: `127.0.0.1:${port}`,
    setAddress: (name, ip) => addresses.set(key(name), [ip]),
    setSuffixAddress: (suffix, ip) => suffixes.set(key(suffix), ip),
    addTxt: (name, value) => txt.set(key(name), [...(txt.get(key(name)) ?? []), value]),
    clearTxt: (name) => txt.delete(key(name)),
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
