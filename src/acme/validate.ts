/**
 * Challenge validation (RFC 8555 §8.3 http-01, §8.4 dns-01; RFC 8737 tls-alpn-01; RFC 8738 IP
 * identifiers). Outbound connections follow the security baseline: every attempt has a timeout,
 * every response a size limit, names resolve through the configured DNS servers, and addresses
 * in loopback, private, link-local, shared and multicast ranges are refused unless the operator
 * allowed them (`acme.allowPrivateAddresses`). Each failure is a SignetError whose code is the
 * ACME problem type (connection, incorrectResponse, dns, tls, unauthorized).
 */
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SignetError } from '../core/errors.js';
import type { AcmeSettings } from '../ca/config.js';
import type { AcmeIdentifier } from '../store/store.js';
import { parseCertificate } from '../x509/certificate.js';
import { parseIpAddress } from '../x509/general-name.js';

/** Most bytes read of an http-01 response body (RFC 8555 §8.3 asks for a key authorization, ~ 90 bytes). */
export const MAX_HTTP01_BODY = 8 * 1024;
/** Most redirects an http-01 validation follows. */
export const MAX_REDIRECTS = 10;
/** id-pe-acmeIdentifier (RFC 8737 §6.1). */
const ACME_IDENTIFIER_OID = '1.3.6.1.5.5.7.1.31';

/** What one validation needs. */
export interface ChallengeToValidate {
  readonly type: string;
  readonly identifier: AcmeIdentifier;
  readonly token: string;
  /** `token || '.' || base64url(JWK thumbprint)` (RFC 8555 §8.1). */
  readonly keyAuthorization: string;
}

function fail(code: 'ERR_ACME_CONNECTION' | 'ERR_ACME_INCORRECT_RESPONSE' | 'ERR_ACME_DNS' | 'ERR_ACME_TLS' | 'ERR_ACME_UNAUTHORIZED' | 'ERR_ACME_MALFORMED', message: string): SignetError {
  return new SignetError(code, message);
}

/** [first, last] of address ranges validation must not reach unless allowed; IPv4-mapped IPv6 is checked as IPv4. */
const PRIVATE_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3], // multicast and reserved, up to 255.255.255.255
];
const PRIVATE_V6: readonly (readonly [string, number])[] = [
  ['::', 127], // :: and ::1
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b:1::', 48],
];

function inRange(addr: Uint8Array, base: string, prefix: number): boolean {
  const b = parseIpAddress(base);
  if (b === undefined || b.length !== addr.length) return false;
  for (let i = 0; i < prefix; i++) {
    const byte = i >> 3;
    const bit = 0x80 >> (i & 7);
    if (((addr[byte] as number) & bit) !== ((b[byte] as number) & bit)) return false;
  }
  return true;
}

/** Whether an address is loopback, private, link-local, shared, reserved or multicast. */
export function isNonPublicAddress(ip: string): boolean {
  let addr = parseIpAddress(ip);
  if (addr === undefined) return true;
  if (addr.length === 16 && addr.subarray(0, 10).every((x) => x === 0) && addr[10] === 0xff && addr[11] === 0xff) addr = addr.subarray(12);
  const ranges = addr.length === 4 ? PRIVATE_V4 : PRIVATE_V6;
  return ranges.some(([base, prefix]) => inRange(addr, base, prefix));
}

/** Validates challenges as configured; one per CA, shared by every ACME provisioner. */
export class ChallengeValidator {
  readonly #settings: AcmeSettings;
  readonly #resolver: Resolver;

  constructor(settings: AcmeSettings) {
    this.#settings = settings;
    this.#resolver = new Resolver({ timeout: Math.max(500, Math.floor(settings.validationTimeoutMs / 3)), tries: 2 });
    if (settings.dnsServers.length > 0) this.#resolver.setServers([...settings.dnsServers]);
  }

  /** Throws the ACME problem of the first thing that is wrong; resolves when the challenge is met. */
  async validate(c: ChallengeToValidate): Promise<void> {
    const deadline = AbortSignal.timeout(this.#settings.validationTimeoutMs);
    switch (c.type) {
      case 'http-01':
        return this.#http01(c, deadline);
      case 'dns-01':
        return this.#dns01(c);
      case 'tls-alpn-01':
        return this.#tlsAlpn01(c, deadline);
      default:
        throw fail('ERR_ACME_MALFORMED', `unsupported challenge type ${c.type}`);
    }
  }

  /** The addresses validation may connect to for `host` (a DNS name or an IP address). */
  async #addresses(host: string): Promise<string[]> {
    let found: string[];
    if (isIP(host) !== 0) {
      found = [host];
    } else {
      const [v4, v6] = await Promise.allSettled([this.#resolver.resolve4(host), this.#resolver.resolve6(host)]);
      found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (found.length === 0) {
        const reason = v4.status === 'rejected' ? (v4.reason as NodeJS.ErrnoException).code ?? 'no answer' : 'no A or AAAA records';
        throw fail('ERR_ACME_DNS', `cannot resolve ${host}: ${reason}`);
      }
    }
    const usable = this.#settings.allowPrivateAddresses ? found : found.filter((a) => !isNonPublicAddress(a));
    if (usable.length === 0) {
      throw fail('ERR_ACME_CONNECTION', `${host} resolves only to non-public addresses (${found.slice(0, 4).join(', ')}), which validation does not connect to`);
    }
    return usable;
  }

  async #http01(c: ChallengeToValidate, signal: AbortSignal): Promise<void> {
    const host = c.identifier.value;
    let url = new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}:${this.#settings.httpPort}/.well-known/acme-challenge/${c.token}`);
    for (let hop = 0; ; hop++) {
      const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const [address] = await this.#addresses(hostname);
      const res = await get(url, address as string, signal);
      if (res.status >= 300 && res.status < 400 && res.location !== undefined) {
        if (hop >= MAX_REDIRECTS) throw fail('ERR_ACME_CONNECTION', `more than ${MAX_REDIRECTS} redirects fetching ${c.token}`);
        let next: URL;
        try {
          next = new URL(res.location, url);
        } catch {
          throw fail('ERR_ACME_CONNECTION', 'a redirect to an invalid URL');
        }
        // RFC 8555 §10.2: redirects stay on http/https and on the validation ports.
        const port = next.port === '' ? (next.protocol === 'https:' ? 443 : 80) : Number(next.port);
        const allowed = (next.protocol === 'http:' && (port === 80 || port === this.#settings.httpPort)) || (next.protocol === 'https:' && (port === 443 || port === this.#settings.tlsPort));
        if (!allowed) throw fail('ERR_ACME_CONNECTION', `a redirect to ${next.protocol}//…:${port}, which validation does not follow (http on port 80, https on 443)`);
        url = next;
        continue;
      }
      if (res.status !== 200) throw fail('ERR_ACME_UNAUTHORIZED', `http-01: ${url.origin} answered ${res.status} for the challenge token`);
      const body = res.body.toString('utf8').replace(/[\s]+$/, '');
      if (body !== c.keyAuthorization) throw fail('ERR_ACME_INCORRECT_RESPONSE', `http-01: the response is not the key authorization (got ${JSON.stringify(body.slice(0, 100))})`);
      return;
    }
  }

  async #dns01(c: ChallengeToValidate): Promise<void> {
    if (c.identifier.type !== 'dns') throw fail('ERR_ACME_MALFORMED', 'dns-01 validates DNS names only');
    const name = `_acme-challenge.${c.identifier.value}`;
    const expected = createHash('sha256').update(c.keyAuthorization).digest('base64url');
    let records: string[][];
    try {
      records = await this.#resolver.resolveTxt(name);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'ENODATA' || code === 'ENOTFOUND') throw fail('ERR_ACME_UNAUTHORIZED', `dns-01: no TXT record at ${name}`);
      throw fail('ERR_ACME_DNS', `dns-01: cannot look up TXT ${name}: ${code}`);
    }
    const values = records.map((r) => r.join(''));
    if (!values.includes(expected)) throw fail('ERR_ACME_INCORRECT_RESPONSE', `dns-01: no TXT record at ${name} holds the expected digest (found ${values.length})`);
  }

  async #tlsAlpn01(c: ChallengeToValidate, signal: AbortSignal): Promise<void> {
    const [address] = await this.#addresses(c.identifier.value);
    // RFC 8738 §6: for an IP identifier the SNI is its reverse-DNS name.
    const servername = c.identifier.type === 'dns' ? c.identifier.value : reverseName(c.identifier.value);
    const der = await new Promise<Buffer>((resolve, reject) => {
      const socket = tlsConnect({ host: address, port: this.#settings.tlsPort, servername, ALPNProtocols: ['acme-tls/1'], rejectUnauthorized: false });
      const abort = (): void => {
        socket.destroy();
        reject(fail('ERR_ACME_CONNECTION', 'tls-alpn-01: timed out'));
      };
      if (signal.aborted) abort();
      signal.addEventListener('abort', abort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', abort));
      socket.once('secureConnect', () => {
        const alpn = socket.alpnProtocol;
        const cert = socket.getPeerCertificate();
        socket.destroy();
        if (alpn !== 'acme-tls/1') reject(fail('ERR_ACME_TLS', `tls-alpn-01: the server did not negotiate acme-tls/1 (got ${alpn === false ? 'none' : String(alpn)})`));
        else if (cert.raw === undefined) reject(fail('ERR_ACME_TLS', 'tls-alpn-01: the server sent no certificate'));
        else resolve(cert.raw);
      });
      socket.once('error', (e: NodeJS.ErrnoException) => reject(fail(e.code === 'ECONNREFUSED' ? 'ERR_ACME_CONNECTION' : 'ERR_ACME_TLS', `tls-alpn-01: ${e.code ?? e.message}`)));
    });
    let cert;
    try {
      cert = parseCertificate(der);
    } catch {
      throw fail('ERR_ACME_TLS', 'tls-alpn-01: the certificate cannot be parsed');
    }
    const sans = cert.ext.subjectAltName ?? [];
    const want = c.identifier.type === 'dns' ? c.identifier.value.toLowerCase() : c.identifier.value;
    if (sans.length !== 1 || sans[0]?.type !== (c.identifier.type === 'dns' ? 'dns' : 'ip') || (c.identifier.type === 'dns' ? sans[0].value.toLowerCase() : sans[0].value) !== want) {
      throw fail('ERR_ACME_UNAUTHORIZED', `tls-alpn-01: the certificate must name exactly ${want} in its subjectAltName`);
    }
    const ext = cert.extensions.find((e) => e.oid === ACME_IDENTIFIER_OID);
    const digest = createHash('sha256').update(c.keyAuthorization).digest();
    // The extension value is an OCTET STRING (04 20) holding the SHA-256 digest; it must be critical.
    const expected = Buffer.concat([Buffer.from([0x04, 0x20]), digest]);
    if (ext === undefined || !ext.critical) throw fail('ERR_ACME_UNAUTHORIZED', 'tls-alpn-01: the certificate has no critical acmeIdentifier extension');
    if (!Buffer.from(ext.value).equals(expected)) throw fail('ERR_ACME_INCORRECT_RESPONSE', 'tls-alpn-01: the acmeIdentifier extension does not hold the key authorization digest');
  }
}

/** `1.2.3.4` → `4.3.2.1.in-addr.arpa`; IPv6 → nibbles under `ip6.arpa` (RFC 8738 §6). */
function reverseName(ip: string): string {
  const bytes = parseIpAddress(ip) ?? new Uint8Array();
  if (bytes.length === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  const nibbles = [...bytes].flatMap((b) => [(b >> 4).toString(16), (b & 15).toString(16)]);
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

interface Fetched {
  readonly status: number;
  readonly location?: string;
  readonly body: Buffer;
}

/** One GET of `url` at `address` (the name already resolved and checked), at most MAX_HTTP01_BODY bytes. */
function get(url: URL, address: string, signal: AbortSignal): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const options = {
      method: 'GET',
      host: address,
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: { host: url.host, 'user-agent': 'signet-acme-validator', accept: '*/*' },
      signal,
      // RFC 8555 §8.3: an https redirect target is fetched without checking its certificate.
      ...(https ? { servername: isIP(url.hostname) === 0 ? url.hostname : undefined, rejectUnauthorized: false } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_HTTP01_BODY) {
          res.destroy();
          reject(fail('ERR_ACME_UNAUTHORIZED', `http-01: the response is larger than ${MAX_HTTP01_BODY} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(typeof res.headers.location === 'string' && { location: res.headers.location }), body: Buffer.concat(chunks) }));
      res.on('error', (e) => reject(fail('ERR_ACME_CONNECTION', `http-01: ${e.message}`)));
    };
    const req = https ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(fail('ERR_ACME_CONNECTION', e.name === 'AbortError' ? `http-01: ${url.host} did not answer in time` : `http-01: cannot fetch from ${url.host}: ${e.code ?? e.message}`));
    });
    req.end();
  });
}
