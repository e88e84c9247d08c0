/**
 * The node agent's config file (`signet agent run --config agent.json`): strict JSON — unknown
 * keys and wrong types are errors, every problem is reported at once with its path
 * (ERR_CONFIG_INVALID), defaults are applied here and nowhere else. Secrets are referenced by
 * file (the join token, the x509pop key), never inlined.
 *
 * ```json
 * {
 *   "servers": ["https://ca1.example.org:9000", "https://ca2.example.org:9000"],
 *   "trustDomain": "example.org",
 *   "trust": { "rootFingerprint": "9f86d0…" },
 *   "attestor": { "joinToken": { "tokenFile": "/etc/signet/agent.token" } },
 *                  (or { "x509pop": { "certFile": "/etc/signet/node.pem", "keyFile": "/etc/signet/node.key" } },
 *                   or { "tpm": { "tcti": "device:/dev/tpmrm0", "ek": "rsa", "intermediatesFile": "ek-ca.pem" } })
 *   "socketPath": "/run/signet/agent.sock",
 *   "dataDir": "/var/lib/signet-agent"
 * }
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { SignetError } from '../core/errors.js';
import { parseCaUrl, normalizeFingerprint } from '../client/url.js';
import { parseTrustDomain } from '../spiffe/id.js';

/** Largest config file read. */
const MAX_CONFIG_BYTES = 256 * 1024;
/** At most this many servers to fail over between. */
export const MAX_SERVERS = 8;

/** How the agent proves which node it is. */
export type AgentAttestorConfig =
  | { readonly kind: 'join_token'; readonly tokenFile: string }
  /** A node certificate from the CA's x509pop device CA: PEM (node certificate first, then any intermediates), and its key (PEM, mode 0600). */
  | { readonly kind: 'x509pop'; readonly certFile: string; readonly keyFile: string }
  /** The node's TPM through tpm2-tools: its TCTI, which EK, and the EK certificate's issuing CA(s) to send along. */
  | { readonly kind: 'tpm'; readonly tcti: string; readonly ek: 'rsa' | 'ecc'; readonly intermediatesFile?: string };

/** How the agent trusts the CA's TLS certificate (and so everything it gets from it). */
export type AgentTrust = { readonly rootFingerprint: string } | { readonly rootFile: string };

/** The agent's config, checked and with defaults applied; paths are absolute. */
export interface AgentConfig {
  readonly servers: readonly string[];
  readonly trustDomain: string;
  readonly trust: AgentTrust;
  readonly attestor: AgentAttestorConfig;
  readonly socketPath: string;
  readonly dataDir: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Reads and checks `file`; relative paths inside it are relative to the file's directory. */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    const data = readFileSync(file);
    if (data.length > MAX_CONFIG_BYTES) throw new SignetError('ERR_INPUT_TOO_LARGE', `agent config ${file} is larger than ${MAX_CONFIG_BYTES / 1024} KiB`);
    text = data.toString('utf8');
  } catch (e) {
    if (e instanceof SignetError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SignetError('ERR_CONFIG_NOT_FOUND', `agent config ${file} does not exist`, { hint: 'see the README section "The node agent"' });
    throw new SignetError('ERR_FILE_IO', `agent config ${file} could not be read: ${(e as Error).message}`);
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    throw new SignetError('ERR_JSON_MALFORMED', `agent config ${file} is not JSON: ${(e as Error).message}`);
  }
  return checkAgentConfig(json, dirname(resolve(file)));
}

/** Checks a parsed config; all problems at once (ERR_CONFIG_INVALID, `detail.problems`). */
export function checkAgentConfig(json: unknown, baseDir: string): AgentConfig {
  const problems: string[] = [];
  const bad = (path: string, message: string): undefined => {
    problems.push(`${path}: ${message}`);
    return undefined;
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const known = (o: Record<string, unknown>, path: string, keys: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${path}.${k}`, `unknown key (known: ${keys.join(', ')})`);
  };
  const path = (v: unknown, at: string): string | undefined => {
    if (typeof v !== 'string' || v === '' || v.includes('\0')) return bad(at, 'must be a file path');
    return isAbsolute(v) ? v : resolve(baseDir, v);
  };
  if (!isObject(json)) throw new SignetError('ERR_CONFIG_INVALID', 'agent config: $ must be a JSON object');
  known(json, '$', ['servers', 'trustDomain', 'trust', 'attestor', 'socketPath', 'dataDir']);

  const servers: string[] = [];
  if (!Array.isArray(json.servers) || json.servers.length === 0 || json.servers.length > MAX_SERVERS) bad('$.servers', `must list 1 to ${MAX_SERVERS} CA URLs (https://host[:port])`);
  else
    json.servers.forEach((s, i) => {
      try {
        if (typeof s !== 'string') throw new Error('not a string');
        const url = parseCaUrl(s, `$.servers[${i}]`).url;
        if (servers.includes(url)) bad(`$.servers[${i}]`, `${url} is listed twice`);
        else servers.push(url);
      } catch (e) {
        bad(`$.servers[${i}]`, e instanceof SignetError ? e.message : 'must be a CA URL such as https://ca.example.org:9000');
      }
    });

  let trustDomain: string | undefined;
  try {
    trustDomain = parseTrustDomain(typeof json.trustDomain === 'string' ? json.trustDomain : '');
  } catch (e) {
    bad('$.trustDomain', `must be a trust domain name such as example.org${e instanceof SignetError ? ` (${e.message})` : ''}`);
  }

  let trust: AgentTrust | undefined;
  if (!isObject(json.trust)) bad('$.trust', 'must be {"rootFingerprint": SHA256} or {"rootFile": PATH}');
  else {
    known(json.trust, '$.trust', ['rootFingerprint', 'rootFile']);
    const { rootFingerprint, rootFile } = json.trust;
    if ((rootFingerprint === undefined) === (rootFile === undefined)) bad('$.trust', 'give exactly one of rootFingerprint and rootFile');
    else if (rootFingerprint !== undefined) {
      try {
        trust = { rootFingerprint: normalizeFingerprint(typeof rootFingerprint === 'string' ? rootFingerprint : '', '$.trust.rootFingerprint') };
      } catch (e) {
        bad('$.trust.rootFingerprint', e instanceof SignetError ? e.message : 'must be a SHA-256 fingerprint');
      }
    } else {
      const p = path(rootFile, '$.trust.rootFile');
      if (p !== undefined) trust = { rootFile: p };
    }
  }

  let attestor: AgentAttestorConfig | undefined;
  const ATTESTOR_SHAPE = 'must be {"joinToken": {"tokenFile": PATH}}, {"x509pop": {"certFile": PATH, "keyFile": PATH}} or {"tpm": {"tcti": TCTI, "ek"?: "rsa"|"ecc", "intermediatesFile"?: PATH}}';
  if (!isObject(json.attestor)) bad('$.attestor', ATTESTOR_SHAPE);
  else {
    known(json.attestor, '$.attestor', ['joinToken', 'x509pop', 'tpm']);
    const kinds = Object.keys(json.attestor).filter((k) => k === 'joinToken' || k === 'x509pop' || k === 'tpm');
    const jt = json.attestor.joinToken;
    const pop = json.attestor.x509pop;
    const tpm = json.attestor.tpm;
    if (kinds.length !== 1) bad('$.attestor', `${ATTESTOR_SHAPE}: exactly one`);
    else if (tpm !== undefined) {
      if (!isObject(tpm)) bad('$.attestor.tpm', 'must be {"tcti": TCTI, "ek"?: "rsa"|"ecc", "intermediatesFile"?: PATH}');
      else {
        known(tpm, '$.attestor.tpm', ['tcti', 'ek', 'intermediatesFile']);
        const tcti = tpm.tcti;
        if (typeof tcti !== 'string' || tcti === '' || tcti.length > 256 || /[\0\n]/.test(tcti)) bad('$.attestor.tpm.tcti', 'must be a TCTI such as "device:/dev/tpmrm0" or "swtpm:path=/run/swtpm.sock"');
        const ek = tpm.ek ?? 'rsa';
        if (ek !== 'rsa' && ek !== 'ecc') bad('$.attestor.tpm.ek', 'must be "rsa" or "ecc"');
        const intermediatesFile = tpm.intermediatesFile === undefined ? undefined : path(tpm.intermediatesFile, '$.attestor.tpm.intermediatesFile');
        if (typeof tcti === 'string' && (ek === 'rsa' || ek === 'ecc')) attestor = { kind: 'tpm', tcti, ek, ...(intermediatesFile !== undefined && { intermediatesFile }) };
      }
    } else if (jt !== undefined) {
      if (!isObject(jt)) bad('$.attestor.joinToken', 'must be {"tokenFile": PATH}');
      else {
        known(jt, '$.attestor.joinToken', ['tokenFile']);
        const p = path(jt.tokenFile, '$.attestor.joinToken.tokenFile');
        if (p !== undefined) attestor = { kind: 'join_token', tokenFile: p };
      }
    } else if (!isObject(pop)) bad('$.attestor.x509pop', 'must be {"certFile": PATH, "keyFile": PATH}');
    else {
      known(pop, '$.attestor.x509pop', ['certFile', 'keyFile']);
      const certFile = path(pop.certFile, '$.attestor.x509pop.certFile');
      const keyFile = path(pop.keyFile, '$.attestor.x509pop.keyFile');
      if (certFile !== undefined && keyFile !== undefined) attestor = { kind: 'x509pop', certFile, keyFile };
    }
  }

  const socketPath = path(json.socketPath, '$.socketPath');
  // A Unix socket path is at most 107 bytes on Linux (sun_path).
  if (socketPath !== undefined && Buffer.byteLength(socketPath) > 107) bad('$.socketPath', `is ${Buffer.byteLength(socketPath)} bytes long; a Unix socket path is at most 107`);
  const dataDir = path(json.dataDir, '$.dataDir');

  if (problems.length > 0 || trustDomain === undefined || trust === undefined || attestor === undefined || socketPath === undefined || dataDir === undefined) {
    throw new SignetError('ERR_CONFIG_INVALID', `agent config has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, { detail: { problems } });
  }
  return Object.freeze({ servers: Object.freeze(servers), trustDomain, trust: Object.freeze(trust), attestor: Object.freeze(attestor), socketPath, dataDir });
}
