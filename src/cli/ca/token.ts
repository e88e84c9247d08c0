/**
 * `signet ca token SUBJECT` — mint a one-time token with a JWK provisioner's key (decrypted here,
 * with its password from a file or a prompt; the CA never serves the key). On the CA host the
 * config supplies everything; elsewhere `--ca-url`, `--root`, `--provisioner` and `--key` do.
 * `--revoke` mints a token for `POST /revoke` instead: SUBJECT is the serial, no SANs.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { SignetError } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { parseDuration } from '../../core/duration.js';
import { decodePem, looksLikePem } from '../../core/pem.js';
import { parsePrivateKey } from '../../crypto/keys.js';
import { jwkThumbprint } from '../../crypto/jwk.js';
import { loadCaConfig, type CaConfig } from '../../ca/config.js';
import { mintToken } from '../../ca/token.js';
import { parseGeneralName } from '../../x509/general-name.js';
import { principalProblem } from '../../ca/policy.js';
import { parseSpiffeId } from '../../spiffe/id.js';
import { parseSerial } from '../../x509/serial.js';
import { collect, readInput, readPassword } from '../io.js';
import { DEFAULT_CONFIG_PATH } from './config-validate.js';

export interface TokenFlags {
  config?: string;
  san?: string[];
  caUrl?: string;
  root?: string;
  provisioner?: string;
  key?: string;
  passwordFile?: string;
  ttl: string;
  /** A token for `POST /revoke`: the subject is the serial (lower-case hex, no colons), no SANs. */
  revoke?: boolean;
  /** A token for `POST /ssh/sign`: the subject is the key ID, `principal` the principals (default: the subject). */
  ssh?: boolean;
  /** With `ssh`: a host certificate (default: a user certificate). */
  host?: boolean;
  principal?: string[];
  /** A token for `POST /spiffe/jwt-svid`: the subject is the SPIFFE ID, its only SAN. */
  jwtSvid?: boolean;
}

/**
 * The CA's URL as the config describes it: the first of `urls`, else `https://<first
 * dnsName>:<port>` — the audience base of tokens minted on the CA host and where clients on it
 * connect.
 */
export function caUrlFromConfig(config: CaConfig): string {
  const configured = config.urls?.[0];
  if (configured !== undefined) return configured;
  const host = config.dnsNames[0] ?? 'localhost';
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${config.listen.port}`;
}

/**
 * A serial number as the CA's inventory and revocation tokens spell it: lower-case hex of the
 * positive INTEGER's magnitude (RFC 5280 §4.1.2.2), without colons or leading zero octets (the
 * DER sign octet included). Accepts colons, `0x` and any case (ERR_BAD_OPTION otherwise).
 */
export function normalizeSerial(text: string): string {
  const bytes = parseSerial(text);
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}


/** Mints the token `signet ca token` prints; exported for tests and `ca certificate`. */
export async function caTokenCommand(subject: string, flags: TokenFlags): Promise<string> {
  const configPath = flags.config ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  const config: CaConfig | undefined = configPath !== undefined ? loadCaConfig(configPath) : undefined;
  // Without --provisioner: the config's one JWK provisioner (ACME provisioners take no tokens).
  const tokenProvisioners = config?.provisioners.filter((p) => p.type === 'JWK') ?? [];
  const provisionerName = flags.provisioner ?? (tokenProvisioners.length === 1 ? tokenProvisioners[0]?.name : undefined);
  if (provisionerName === undefined) throw new SignetError('ERR_USAGE', 'which provisioner? pass --provisioner NAME', config ? { hint: `the config has: ${config.provisioners.map((p) => p.name).join(', ')}` } : {});
  const provisioner = config?.provisioners.find((p) => p.name === provisionerName);
  if (config && !provisioner) throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `the config has no provisioner "${provisionerName}"`);
  if (provisioner?.type === 'ACME') {
    throw new SignetError('ERR_USAGE', `provisioner "${provisionerName}" is an ACME provisioner: it takes no tokens`, { hint: `point an ACME client at /acme/${provisionerName}/directory, or pass --provisioner with a JWK provisioner` });
  }
  if (provisioner?.type === 'OIDC') {
    throw new SignetError('ERR_USAGE', `provisioner "${provisionerName}" is an OIDC provisioner: its tokens come from the OpenID provider`, { hint: `sign in with: signet ssh login --provisioner ${provisionerName}` });
  }
  const keyPath = flags.key ?? (config ? join(dirname(config.configPath ?? config.baseDir), 'secrets', `provisioner-${provisionerName}.key`) : undefined);
  if (keyPath === undefined) throw new SignetError('ERR_USAGE', 'pass --key FILE (the provisioner key) or --config');
  const rootPath = flags.root ?? config?.root;
  if (rootPath === undefined) throw new SignetError('ERR_USAGE', 'pass --root FILE (the CA root certificate) or --config');
  let caUrl = flags.caUrl;
  if (caUrl === undefined && config) caUrl = caUrlFromConfig(config);
  if (caUrl === undefined) throw new SignetError('ERR_USAGE', 'pass --ca-url URL or --config');
  if (!/^https:\/\/[^/?#]+\/?$/.test(caUrl)) throw new SignetError('ERR_BAD_OPTION', `--ca-url must be https://host[:port], got "${caUrl}"`);
  const ttlMs = parseDuration(flags.ttl);
  if (flags.revoke && flags.san !== undefined) throw new SignetError('ERR_USAGE', '--san does not apply to a revocation token (--revoke)');
  if (flags.ssh && (flags.revoke || flags.san !== undefined)) throw new SignetError('ERR_USAGE', `${flags.revoke ? '--revoke' : '--san'} does not apply to an SSH token (--ssh): name its principals with --principal`);
  if (!flags.ssh && (flags.host || flags.principal !== undefined)) throw new SignetError('ERR_USAGE', `${flags.host ? '--host' : '--principal'} goes with --ssh`);
  if (flags.jwtSvid && (flags.revoke || flags.ssh || flags.san !== undefined)) throw new SignetError('ERR_USAGE', `${flags.revoke ? '--revoke' : flags.ssh ? '--ssh' : '--san'} does not apply to a JWT-SVID token (--jwt-svid): SUBJECT is the SPIFFE ID`);
  if (flags.jwtSvid) parseSpiffeId(subject);
  const sans = flags.revoke ? [] : flags.ssh ? (flags.principal ?? [subject]) : (flags.san ?? [subject]);
  if (flags.ssh) {
    for (const p of sans) {
      const problem = principalProblem(p);
      if (problem !== undefined) throw new SignetError('ERR_BAD_NAME', `principal ${JSON.stringify(p.slice(0, 64))} ${problem}`);
    }
  } else {
    for (const s of sans) parseGeneralName(s);
  }
  const tokenSubject = flags.revoke ? normalizeSerial(subject) : subject;

  const rootData = readInput(rootPath, 'root certificate');
  const rootDer = looksLikePem(rootData) ? decodePem(Buffer.from(rootData).toString('latin1'), ['CERTIFICATE']).der : rootData;
  const keyData = readInput(keyPath, 'provisioner key');
  const password = await readPassword({ passwordFile: flags.passwordFile, prompt: `password for ${keyPath}: `, file: keyPath });
  const key = parsePrivateKey(keyData, password);
  return mintToken({
    key,
    kid: provisioner?.kid ?? jwkThumbprint(key),
    issuer: provisionerName,
    audience: `${caUrl.replace(/\/$/, '')}${flags.revoke ? '/revoke' : flags.ssh ? '/ssh/sign' : flags.jwtSvid ? '/spiffe/jwt-svid' : '/sign'}`,
    ...(flags.ssh ? { ssh: { certType: flags.host ? ('host' as const) : ('user' as const) } } : {}),
    subject: tokenSubject,
    sans,
    ttlMs,
    rootFingerprint: createHash('sha256').update(rootDer).digest('hex'),
    now: systemClock.now(),
  });
}

/** Registers `signet ca token`. */
export function registerCaToken(ca: Command): void {
  ca.command('token')
    .description('mint a one-time token for POST /sign (or /revoke, /ssh/sign, /spiffe/jwt-svid) with a provisioner key')
    .argument('<subject>', 'the subject (common name) the token authorizes; with --revoke, the serial number')
    .option('--san <name>', 'a SAN the certificate may carry (repeatable; default: the subject)', collect)
    .option('--config <file>', `the CA configuration (default ${DEFAULT_CONFIG_PATH} when it exists)`)
    .option('--ca-url <url>', 'the CA, https://host:port (default: from the config)')
    .option('--root <file>', 'the root certificate (default: from the config)')
    .option('--provisioner <name>', 'the JWK provisioner (default: the only one in the config)')
    .option('--key <file>', 'the provisioner key (default: secrets/provisioner-NAME.key next to the config)')
    .option('--password-file <file>', 'first line: the provisioner key password (else a prompt)')
    .option('--ttl <duration>', 'token lifetime, at most 1h', '5m')
    .option('--revoke', 'a token for POST /revoke: SUBJECT is the serial of the certificate to revoke (hex, colons allowed)')
    .option('--ssh', 'a token for POST /ssh/sign: an SSH user certificate whose key ID is SUBJECT')
    .option('--host', 'with --ssh: an SSH host certificate')
    .option('--principal <name>', 'with --ssh: a principal the certificate may carry, a user name or (--host) a host name (repeatable; default: the subject)', collect)
    .option('--jwt-svid', 'a token for POST /spiffe/jwt-svid: SUBJECT is the SPIFFE ID of the JWT-SVID')
    .addHelpText(
      'after',
      `
Examples:
  $ signet ca token web.example.com --san web.example.com --password-file prov-pw.txt
  $ signet ca token db --san db.internal --ca-url https://ca.example.com:9443 --root root.crt --provisioner admin --key admin.key
  $ signet ca token 4a:1f:03:9c --revoke --password-file prov-pw.txt
  $ signet ca token alice@example.com --ssh --principal alice --principal deploy --password-file prov-pw.txt
  $ signet ca token web01.example.com --ssh --host --principal web01.example.com --principal 10.0.0.5 --password-file prov-pw.txt
  $ signet ca token spiffe://example.org/billing/api --jwt-svid --password-file prov-pw.txt`,
    )
    .action(async (subject: string, flags: TokenFlags) => {
      process.stdout.write(`${await caTokenCommand(subject, flags)}\n`);
    });
}
