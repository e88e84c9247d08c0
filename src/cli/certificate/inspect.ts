/**
 * `signet certificate inspect INPUT` — show a certificate, a PEM bundle, a CSR, a CRL, or the
 * chain a live TLS server presents (`host:port`), as aligned text or as JSON.
 *
 * Also exports the input loader shared with `fingerprint`: a file (or `-` for stdin) wins over
 * the `host:port` interpretation, so a file literally named `example.com:443` is still a file.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { formatTime, parseTime } from '../../core/duration.js';
import { parseCertificate } from '../../x509/certificate.js';
import { describeObject, parseInspectable, renderText, type InspectReport, type InspectedObject, type TlsReport } from '../../x509/inspect.js';
import { DEFAULT_TLS_TIMEOUT_MS, fetchTlsChain, formatTlsTarget, parseTlsTarget } from '../../x509/tls-fetch.js';
import { parseTimeoutOption, printJson, readInput } from '../io.js';

/** Where the objects came from, and the TLS parameters when it was a server. */
export interface LoadedInput {
  readonly source: InspectReport['source'];
  readonly objects: readonly InspectedObject[];
  readonly tls?: TlsReport;
}

export interface LoadInputOptions {
  readonly servername?: string | undefined;
  readonly timeout?: string | undefined;
}

/** The time validity is judged against: `--time` (RFC 3339 or relative) or the system clock. */
export function commandTime(time: string | undefined): Date {
  const now = systemClock.now();
  return time === undefined ? now : parseTime(time, now);
}

/**
 * Loads INPUT: `-` (stdin), an existing file, or a TLS endpoint (`host:port`, `[v6]:port`,
 * `https://host[:port]`). Anything else is reported as a missing file.
 */
export async function loadInspectInput(input: string, options: LoadInputOptions = {}): Promise<LoadedInput> {
  const target = input !== '-' && !existsSync(input) ? parseTlsTarget(input, { strict: true }) : undefined;
  if (!target) {
    if (options.servername !== undefined) {
      throw new SignetError('ERR_BAD_OPTION', '--servername only applies to a host:port input');
    }
    const data = readInput(input, 'input');
    return { source: { type: input === '-' ? 'stdin' : 'file', name: input }, objects: parseInspectable(data) };
  }
  const timeoutMs = options.timeout === undefined ? DEFAULT_TLS_TIMEOUT_MS : parseTimeoutOption(options.timeout);
  const chain = await fetchTlsChain(target, { servername: options.servername, timeoutMs });
  return {
    source: { type: 'tls', name: formatTlsTarget(target) },
    objects: chain.certificates.map((der) => ({ kind: 'certificate', certificate: parseCertificate(der) }) as const),
    tls: {
      host: chain.host,
      port: chain.port,
      servername: chain.servername ?? null,
      protocol: chain.protocol ?? null,
      cipher: chain.cipher ?? null,
      alpn: chain.alpn ?? null,
      verified: false,
    },
  };
}

interface InspectCommandOptions {
  format: 'text' | 'json';
  json?: boolean;
  short?: boolean;
  servername?: string;
  timeout?: string;
  time?: string;
}

/** Registers `signet certificate inspect`. */
export function registerCertificateInspect(group: Command): void {
  group
    .command('inspect')
    .description('show a certificate, bundle, CSR, CRL, or the chain a TLS server presents')
    .argument('<input>', 'PEM/DER certificate, PEM bundle, CSR or CRL file; - for stdin; or host:port of a TLS server')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--json', 'same as --format json')
    .option('--short', 'a few lines per object instead of every field')
    .option('--servername <name>', 'SNI to send to a TLS server (default: the host, unless it is an IP address)')
    .option('--timeout <duration>', 'TLS connect and handshake timeout', '10s')
    .option('--time <time>', 'judge validity at this time (RFC 3339 or relative, e.g. +24h) instead of now')
    .addHelpText(
      'after',
      `
The kind of input is detected from its PEM label or DER structure; a PEM file may mix
certificates, CSRs and CRLs (keys are skipped: see signet key inspect).

For host:port the TLS handshake is made WITHOUT verifying the server (this is inspection, not
trust): the chain is shown as presented, leaf first, with the negotiated protocol, cipher and
ALPN. Use signet certificate verify to decide whether to trust it.

--json prints {source, time, tls?, items: [...]}: one item per object, each with "type"
("certificate", "csr" or "crl"); the fields are listed in the README.

Examples:
  $ signet certificate inspect leaf.crt
  $ signet certificate inspect chain.pem --short
  $ signet certificate inspect request.csr
  $ signet certificate inspect ca.crl --format json
  $ signet certificate inspect example.com:443
  $ signet certificate inspect 10.0.0.5:8443 --servername api.internal --json`,
    )
    .action(async (input: string, opts: InspectCommandOptions) => {
      const now = commandTime(opts.time);
      const loaded = await loadInspectInput(input, { servername: opts.servername, timeout: opts.timeout });
      if (opts.json || opts.format === 'json') {
        const report: InspectReport = {
          source: loaded.source,
          time: formatTime(now),
          ...(loaded.tls ? { tls: loaded.tls } : {}),
          items: loaded.objects.map((o) => describeObject(o, { now })),
        };
        printJson(report);
        return;
      }
      process.stdout.write(renderText(loaded.objects, { now, short: opts.short === true, ...(loaded.tls ? { tls: loaded.tls } : {}) }));
    });
}
