/**
 * The CA's configuration file, `signet.json` (STYLE.md habit 2, "config is strict"):
 *
 *   strict JSON (RFC 8259: duplicate keys refused, line and column on errors)
 *   → schema walk that collects *every* problem with its JSON path (unknown fields get a
 *     "did you mean")
 *   → defaults, applied here and nowhere else
 *   → cross-field rules (claims ordering after merging, unique provisioner names)
 *   → a frozen {@link CaConfig}: absolute paths, durations in milliseconds, claims merged per
 *     provisioner, provisioner keys imported.
 *
 * `signet ca config validate` and `signet ca start` run the same pipeline: {@link loadCaConfig},
 * then {@link checkCaFiles}. Secrets are never inlined (DESIGN.md security baseline): the
 * intermediate key's password is referenced by file (`passwordFile`), and a provisioner's
 * `publicKey` must be public — a JWK with private members is refused.
 *
 * ```json
 * {
 *   "version": 1,
 *   "name": "Example CA",
 *   "address": "127.0.0.1:9443",
 *   "dnsNames": ["localhost", "127.0.0.1"],
 *   "root": "certs/root.crt",
 *   "intermediate": { "certificate": "certs/intermediate.crt", "key": "secrets/intermediate.key",
 *                     "passwordFile": "/etc/signet/password" },
 *   "db": { "type": "sqlite", "path": "db/signet.db" },
 *   "claims": { "minLifetime": "5m", "maxLifetime": "24h", "defaultLifetime": "24h" },
 *   "policy": { "allow": { "dns": ["*.example.com"] } },
 *   "provisioners": [{ "type": "JWK", "name": "admin", "publicKey": { "kty": "EC", … } }]
 * }
 * ```
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { SignetError } from '../core/errors.js';
import { escapeControl } from '../core/escape.js';
import { formatDuration, formatTime, parseDuration } from '../core/duration.js';
import { decodePem, looksLikePem } from '../core/pem.js';
import { encodePublicKeyDer, parsePrivateKey, peekKey } from '../crypto/keys.js';
import { jwkThumbprint, type Jwk } from '../crypto/jwk.js';
import { parseIpRange, POLICY_NAME_TYPES, SSH_HOST_POLICY_TYPES, SSH_USER_POLICY_TYPES, validatePolicyConfig, type PolicyConfig, type PolicyNameType, type PolicyRules } from './policy.js';
import { isSelfIssued, parseCertificate, type Certificate } from '../x509/certificate.js';
import { isValidDnsName, isValidUri, parseIpAddress } from '../x509/general-name.js';
import { checkTemplate, formatTemplateProblem, MAX_TEMPLATE_BYTES } from '../x509/template/template.js';
import { getOwn, isJsonObject, parseJson, pathIndex, pathKey, type JsonObject, type JsonValue, type SourcePosition } from '../x509/template/json.js';
import { suggestion } from '../x509/template/schema.js';
import { verifyChain } from '../x509/verify/verify-chain.js';
import { MAX_PASSWORD_FILE_BYTES } from '../core/password-file.js';
import { POSTGRES_DEFAULTS, parsePostgresUrl } from '../store/postgres-url.js';
import type { DbConfig } from '../store/open.js';
import { MAX_CRL_SHARDS } from '../store/validation.js';
import { publicKeyBlob } from '../ssh/keys.js';

// ---------------------------------------------------------------------------------------------
// Constants and defaults (the one place defaults live)

/** The config format this code reads. */
export const CA_CONFIG_VERSION = 1;

/** Largest config file {@link loadCaConfig} reads. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The config file's name inside a CA directory. */
export const CA_CONFIG_FILE = 'signet.json';

/** Where `signet ca init` creates a CA, and where the CA commands look for one, by default. */
export const DEFAULT_CA_DIR = '.signet/ca';

/** Default listen address of `signet ca start`. */
export const DEFAULT_ADDRESS = '127.0.0.1:9443';

/** Default SQLite database, relative to the config file's directory. */
export const DEFAULT_DB_PATH = 'db/signet.db';

/**
 * Key types a certificate request may use, as `describeKey(key).algorithm` spells them
 * ({@link keyTypeName}). RSA below 2048 bits is never accepted (NIST SP 800-57 Part 1 §5.6.1).
 */
export const KEY_TYPE_NAMES = ['EC P-256', 'EC P-384', 'EC P-521', 'Ed25519', 'RSA 2048', 'RSA 3072', 'RSA 4096'] as const;

/** One of {@link KEY_TYPE_NAMES}. */
export type KeyTypeName = (typeof KEY_TYPE_NAMES)[number];

/** Log levels of the server, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Provisioner types this version understands. */
export const PROVISIONER_TYPES = ['JWK', 'ACME', 'OIDC'] as const;

/** ACME challenge types a provisioner may offer (RFC 8555 §8.3, §8.4; RFC 8737). */
export const ACME_CHALLENGE_TYPES = ['http-01', 'dns-01', 'tls-alpn-01'] as const;
export type AcmeChallengeType = (typeof ACME_CHALLENGE_TYPES)[number];

/** JWS algorithms a JWK provisioner's tokens may use (the token verifier's allow-list). */
export type ProvisionerAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

/**
 * Certificate claims: lifetimes, renewal rules and key types. Authority-wide in `claims`; a
 * provisioner's `claims` override them field by field.
 */
export interface Claims {
  /** Shortest lifetime a request may ask for. */
  readonly minLifetimeMs: number;
  /** Longest lifetime a request may ask for. */
  readonly maxLifetimeMs: number;
  /** Lifetime when the request names none. */
  readonly defaultLifetimeMs: number;
  /** How far notBefore is set before the issuance time, for clock skew. */
  readonly backdateMs: number;
  /** Whether a valid certificate may be renewed (over mTLS). */
  readonly allowRenewal: boolean;
  /** Whether a certificate may still be renewed after it expired, within {@link renewalGracePeriodMs}. */
  readonly allowRenewalAfterExpiry: boolean;
  /** How long after expiry renewal stays possible when {@link allowRenewalAfterExpiry} is on. */
  readonly renewalGracePeriodMs: number;
  /** Key types a certificate request may carry (X.509 and SSH alike). */
  readonly keyTypes: readonly KeyTypeName[];
  /** Whether SSH certificates may be issued (the CA needs SSH CA keys too: `ssh` in the config). */
  readonly sshEnabled: boolean;
  /** Bounds and default of SSH user certificates' lifetimes. */
  readonly sshUserMinLifetimeMs: number;
  readonly sshUserMaxLifetimeMs: number;
  readonly sshUserDefaultLifetimeMs: number;
  /** Bounds and default of SSH host certificates' lifetimes. */
  readonly sshHostMinLifetimeMs: number;
  readonly sshHostMaxLifetimeMs: number;
  readonly sshHostDefaultLifetimeMs: number;
  /** Bounds and default of JWT-SVIDs' lifetimes (SPIFFE; the trust domain's JWT key caps them too). */
  readonly jwtSvidMinLifetimeMs: number;
  readonly jwtSvidMaxLifetimeMs: number;
  readonly jwtSvidDefaultLifetimeMs: number;
}

/** The claims in effect when the config says nothing (step-ca's defaults, minus P-521). */
export const DEFAULT_CLAIMS: Claims = Object.freeze({
  minLifetimeMs: 5 * 60_000,
  maxLifetimeMs: 24 * 3_600_000,
  defaultLifetimeMs: 24 * 3_600_000,
  backdateMs: 60_000,
  allowRenewal: true,
  allowRenewalAfterExpiry: false,
  renewalGracePeriodMs: 0,
  keyTypes: Object.freeze(['EC P-256', 'EC P-384', 'Ed25519', 'RSA 2048', 'RSA 3072', 'RSA 4096'] as KeyTypeName[]),
  // SSH (step-ca's defaults): users for a working day, hosts for a month.
  sshEnabled: false,
  sshUserMinLifetimeMs: 5 * 60_000,
  sshUserMaxLifetimeMs: 24 * 3_600_000,
  sshUserDefaultLifetimeMs: 16 * 3_600_000,
  sshHostMinLifetimeMs: 5 * 60_000,
  sshHostMaxLifetimeMs: 30 * 24 * 3_600_000,
  sshHostDefaultLifetimeMs: 30 * 24 * 3_600_000,
  // JWT-SVIDs (SPIRE's default TTL): bearer tokens, so minutes.
  jwtSvidMinLifetimeMs: 60_000,
  jwtSvidMaxLifetimeMs: 3_600_000,
  jwtSvidDefaultLifetimeMs: 5 * 60_000,
});

/** The SSH claims `signet ca init --ssh` writes (SSH enabled, the default lifetimes spelled out). */
export const SSH_CLAIMS_DOCUMENT: Readonly<ClaimsDocument> = Object.freeze({
  sshEnabled: true,
  sshUserMinLifetime: '5m',
  sshUserMaxLifetime: '24h',
  sshUserDefaultLifetime: '16h',
  sshHostMinLifetime: '5m',
  sshHostMaxLifetime: '30d',
  sshHostDefaultLifetime: '30d',
});

/** {@link DEFAULT_CLAIMS} as a config writes them (`signet ca init` puts these in `signet.json`). */
export const DEFAULT_CLAIMS_DOCUMENT: Readonly<ClaimsDocument> = Object.freeze({
  minLifetime: '5m',
  maxLifetime: '24h',
  defaultLifetime: '24h',
  backdate: '1m',
  allowRenewal: true,
  allowRenewalAfterExpiry: false,
  renewalGracePeriod: '0s',
  keyTypes: [...DEFAULT_CLAIMS.keyTypes],
});

/** Longest backdate accepted: it absorbs clock skew, and an hour of skew is a broken clock. */
const MAX_BACKDATE_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------
// What a user writes (the document) and what the code gets (the resolved config)

/** `claims` as written: durations are strings such as `5m`, `24h`. */
export interface ClaimsDocument {
  minLifetime?: string;
  maxLifetime?: string;
  defaultLifetime?: string;
  backdate?: string;
  allowRenewal?: boolean;
  allowRenewalAfterExpiry?: boolean;
  renewalGracePeriod?: string;
  keyTypes?: string[];
  sshEnabled?: boolean;
  sshUserMinLifetime?: string;
  sshUserMaxLifetime?: string;
  sshUserDefaultLifetime?: string;
  sshHostMinLifetime?: string;
  sshHostMaxLifetime?: string;
  sshHostDefaultLifetime?: string;
  jwtSvidMinLifetime?: string;
  jwtSvidMaxLifetime?: string;
  jwtSvidDefaultLifetime?: string;
}

/** What one kind of SSH certificate carries besides its principals: extensions and critical options (name → value, "" for a flag). */
export interface SshTemplateDocument {
  extensions?: Record<string, string>;
  criticalOptions?: Record<string, string>;
}

/** `sshTemplate` of a JWK provisioner: what its user and host certificates carry. */
export interface SshTemplateSettings {
  readonly user: { readonly extensions: Readonly<Record<string, string>>; readonly criticalOptions: Readonly<Record<string, string>> };
  readonly host: { readonly extensions: Readonly<Record<string, string>>; readonly criticalOptions: Readonly<Record<string, string>> };
}

/** Extensions of a user certificate when the provisioner's template names none: what `ssh-keygen -s` grants by default. */
export const DEFAULT_SSH_USER_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  'permit-X11-forwarding': '',
  'permit-agent-forwarding': '',
  'permit-port-forwarding': '',
  'permit-pty': '',
  'permit-user-rc': '',
});

export const DEFAULT_SSH_TEMPLATE: SshTemplateSettings = Object.freeze({
  user: Object.freeze({ extensions: DEFAULT_SSH_USER_EXTENSIONS, criticalOptions: Object.freeze({}) }),
  host: Object.freeze({ extensions: Object.freeze({}), criticalOptions: Object.freeze({}) }),
});

/** `ssh` as written: the SSH CA keys (encrypted PKCS#8, like the intermediate's). */
export interface SshDocument {
  /** Signs user certificates (sshd trusts it through TrustedUserCAKeys). */
  userKey: string;
  /** Signs host certificates (clients trust it through an @cert-authority line). */
  hostKey: string;
  /** First line: the keys' password; default: the intermediate's passwordFile (or its prompt). */
  passwordFile?: string;
}

/** A JWK provisioner as written. */
export interface JwkProvisionerDocument {
  type: 'JWK';
  name: string;
  /** The public JWK that verifies the provisioner's tokens. */
  publicKey: Jwk;
  claims?: ClaimsDocument;
  policy?: PolicyConfig;
  /** A certificate template file (src/x509/template) for this provisioner's certificates. */
  template?: string;
  /** What its SSH certificates carry. */
  sshTemplate?: { user?: SshTemplateDocument; host?: SshTemplateDocument };
}

/** An ACME provisioner as written. */
export interface AcmeProvisionerDocument {
  type: 'ACME';
  name: string;
  /** Challenge types offered (default: all three). */
  challenges?: AcmeChallengeType[];
  /** New accounts must be bound to an external account key (RFC 8555 §7.3.4). */
  requireEAB?: boolean;
  /** A terms-of-service URL clients must agree to. */
  termsOfService?: string;
  claims?: ClaimsDocument;
  policy?: PolicyConfig;
  template?: string;
}

/** An OIDC provisioner as written: single sign-on through an OpenID provider. */
export interface OidcProvisionerDocument {
  type: 'OIDC';
  name: string;
  /** The OpenID provider's issuer URL (https; http only on a loopback address, for development). */
  issuer: string;
  /** The client ID registered at the provider for Signet (a public client: PKCE, no secret). */
  clientId: string;
  /** Only e-mail addresses in these domains may sign in. */
  domains?: string[];
  claims?: ClaimsDocument;
  policy?: PolicyConfig;
  sshTemplate?: { user?: SshTemplateDocument; host?: SshTemplateDocument };
}

/** `acme` as written: how the server reaches the names it validates. */
export interface AcmeDocument {
  /** Port of http-01 validation requests (default 80). */
  httpPort?: number;
  /** Port of tls-alpn-01 validation connections (default 443). */
  tlsPort?: number;
  /** DNS servers (`host[:port]`) for validation lookups; default: the system's. */
  dnsServers?: string[];
  /** Whether validation may connect to loopback, private and link-local addresses (default false). */
  allowPrivateAddresses?: boolean;
  /** How long one validation attempt may take (default 10s). */
  validationTimeout?: string;
}

/** `signet.json` as written (what `signet ca init` writes; every optional field has a default). */
export interface CaConfigDocument {
  version: 1;
  name: string;
  address: string;
  dnsNames: string[];
  /** Where clients reach the CA when that is not `https://<dnsName>:<port of address>` (replicas behind a load balancer). */
  urls?: string[];
  root: string;
  /**
   * Further self-signed roots published next to `root` (`/roots`, `/roots.pem`, `/root/{sha256}`,
   * the SPIFFE bundle): a root rollover publishes the next root here ahead of the switch, and
   * keeps the previous one here after it until everything it signed has expired.
   */
  additionalRoots?: string[];
  intermediate: { certificate: string; key: string; passwordFile?: string };
  /** The SSH certificate authority's keys; absent: the CA issues no SSH certificates. */
  ssh?: SshDocument;
  db?: { type: 'sqlite'; path?: string } | PostgresDbDocument;
  claims?: ClaimsDocument;
  policy?: PolicyConfig;
  provisioners?: (JwkProvisionerDocument | AcmeProvisionerDocument | OidcProvisionerDocument)[];
  acme?: AcmeDocument;
  crlUrl?: string;
  ocspUrl?: string;
  revocation?: RevocationDocument;
  spiffe?: SpiffeDocument;
  logLevel?: LogLevel;
}

/** `spiffe` as written: how the trust domains the intermediate serves sign JWT-SVIDs and publish their bundle. */
export interface SpiffeDocument {
  /** Key type of the JWT signing keys (`EC P-256` default; EC or RSA, as the JWT-SVID standard allows). */
  jwtKeyType?: string;
  /** How long a JWT signing key lives (default 24h): it signs for 5/6 of it, published from its creation on. */
  jwtKeyLifetime?: string;
  /** `spiffe_refresh_hint` of the bundle (default 5m): how often federated peers and agents should fetch it. */
  refreshHint?: string;
  /** Lifetime of node agents' own SVIDs (default 1h); an agent renews at half of it. */
  agentSvidLifetime?: string;
  /** x509pop node attestation: the CA certificates (PEM) node certificates must chain to. */
  x509popCaFile?: string;
  /** TPM node attestation: the TPM manufacturers' CA certificates (PEM) EK certificates must chain to. */
  tpmEkCaFile?: string;
}

/** `revocation` as written: how CRLs (and OCSP) publish revocations. */
export interface RevocationDocument {
  /** A plain-HTTP listener (`HOST:PORT`) serving only the public revocation endpoints (/crl), as relying parties fetch them. */
  httpAddress?: string;
  /** How soon after a revocation the CRL reflects it (default "5s"): the period every replica checks for revocations at. */
  propagation?: string;
  crl?: {
    /** Publish CRLs (default true). */
    enabled?: boolean;
    /** nextUpdate − thisUpdate (default "24h"). */
    validity?: string;
    /** A new CRL at least this often even without revocations (default "8h"; less than validity). */
    refresh?: string;
    /** Partitions (default 1: one CRL): with N > 1, each new certificate names one of the CRLs crlUrl/1 … crlUrl/N. */
    shards?: number;
  };
  ocsp?: {
    /** Answer OCSP requests at /ocsp (default true). */
    enabled?: boolean;
    /** nextUpdate − thisUpdate of each response (default "4h"); responses are signed again at half of it. */
    validity?: string;
    /** Lifetime of each replica's delegated responder certificate (default "7d"; at least 3 × validity). */
    signerLifetime?: string;
    /** Most signed responses each replica keeps (default 100000). */
    cacheSize?: number;
  };
}

/** `db` for PostgreSQL as written in the config file. */
export interface PostgresDbDocument {
  type: 'postgres';
  /** `postgres://user@host:port/database`, never with a password. */
  url: string;
  /** File whose first line is the database password (0600, like the key password files). */
  passwordFile?: string;
  /** Or: the environment variable that holds it. */
  passwordEnv?: string;
  poolSize?: number;
  statementTimeout?: string;
  connectTimeout?: string;
  tls?: { mode?: 'disable' | 'require' | 'verify-full'; ca?: string };
}

/** A provisioner: JWK (one-time tokens), ACME (RFC 8555) or OIDC (single sign-on). */
export type CaProvisioner = JwkProvisioner | AcmeProvisioner | OidcProvisioner;

/** An OIDC provisioner, validated: users sign in at the provider; its ID token is the credential. */
export interface OidcProvisioner {
  readonly type: 'OIDC';
  readonly name: string;
  /** The issuer URL exactly as the provider's discovery document and ID tokens give it. */
  readonly issuer: string;
  readonly clientId: string;
  /** Allowed e-mail domains (lower case); empty: any verified address. */
  readonly domains: readonly string[];
  readonly claims: Claims;
  readonly policy?: PolicyConfig;
  readonly template?: string;
  readonly sshTemplate: SshTemplateSettings;
}

/** An ACME provisioner, validated. */
export interface AcmeProvisioner {
  readonly type: 'ACME';
  readonly name: string;
  readonly challenges: readonly AcmeChallengeType[];
  readonly requireEAB: boolean;
  readonly termsOfService: string | undefined;
  readonly claims: Claims;
  readonly policy?: PolicyConfig;
  readonly template?: string;
}

/** The validated `acme` section. */
export interface AcmeSettings {
  readonly httpPort: number;
  readonly tlsPort: number;
  /** `host:port` (IPv6 in brackets) or empty for the system resolver. */
  readonly dnsServers: readonly string[];
  readonly allowPrivateAddresses: boolean;
  readonly validationTimeoutMs: number;
}

export const DEFAULT_ACME_SETTINGS: AcmeSettings = Object.freeze({ httpPort: 80, tlsPort: 443, dnsServers: Object.freeze([]), allowPrivateAddresses: false, validationTimeoutMs: 10_000 });

/** A JWK provisioner, validated: its key imported, its claims merged with the authority's. */
export interface JwkProvisioner {
  readonly type: 'JWK';
  readonly name: string;
  /** The token header `kid` this provisioner's key answers to (default: the RFC 7638 thumbprint). */
  readonly kid: string;
  /** The one JWS algorithm its key can produce: ES256 (P-256), EdDSA (Ed25519) or RS256 (RSA ≥ 2048). */
  readonly algorithm: ProvisionerAlgorithm;
  /** The verification key. */
  readonly publicKey: KeyObject;
  /** The public JWK as configured (public members only, `kid` filled in). */
  readonly jwk: Readonly<Jwk>;
  /** Authority claims overridden by this provisioner's, field by field. */
  readonly claims: Claims;
  /** Provisioner-level policy, checked after the authority's. */
  readonly policy?: PolicyConfig;
  /** Absolute path of the provisioner's certificate template. */
  readonly template?: string;
  /** What its SSH certificates carry (defaults applied). */
  readonly sshTemplate: SshTemplateSettings;
}

/** The validated configuration: every path absolute, every duration in milliseconds, frozen. */
export interface CaConfig {
  readonly version: 1;
  /** Absolute path of the file it was loaded from (undefined for {@link parseCaConfig} on text). */
  readonly configPath: string | undefined;
  /** The directory relative paths were resolved against. */
  readonly baseDir: string;
  readonly name: string;
  /** `host:port` as written. */
  readonly address: string;
  /** {@link address} parsed: `host` is empty for all interfaces; IPv6 without brackets. */
  readonly listen: { readonly host: string; readonly port: number };
  /** Names of the server's own TLS certificate: DNS names (lower case) and IP addresses. */
  readonly dnsNames: readonly string[];
  /**
   * The base URLs clients reach the CA at (`https://host[:port]`, no trailing slash), which
   * tokens name as their audience; undefined: `https://<each dnsName>:<listen port>`. Set it when
   * replicas sit behind a load balancer whose port differs from theirs.
   */
  readonly urls: readonly string[] | undefined;
  /** The root certificate clients trust. */
  readonly root: string;
  /** Further roots published with it (see {@link CaConfigDocument.additionalRoots}); empty when none. */
  readonly additionalRoots: readonly string[];
  readonly intermediate: {
    readonly certificate: string;
    readonly key: string;
    /** File whose first line decrypts `key`; undefined: ask on the terminal at start. */
    readonly passwordFile: string | undefined;
  };
  /** The SSH CA keys (absolute paths); undefined: no SSH certificates. */
  readonly ssh: { readonly userKey: string; readonly hostKey: string; readonly passwordFile: string | undefined } | undefined;
  readonly db: DbConfig;
  /** Authority-wide claims (defaults applied). */
  readonly claims: Claims;
  /** Authority-wide policy; undefined: every name is allowed unless a provisioner restricts it. */
  readonly policy: PolicyConfig | undefined;
  readonly provisioners: readonly CaProvisioner[];
  /** How ACME validation reaches the names it checks. */
  readonly acme: AcmeSettings;
  readonly crlUrl: string | undefined;
  readonly ocspUrl: string | undefined;
  readonly revocation: RevocationSettings;
  /** SPIFFE settings; they apply when the intermediate serves a trust domain (`ca init --trust-domain`). */
  readonly spiffe: SpiffeSettings;
  readonly logLevel: LogLevel;
}

/** The validated `spiffe` section (defaults applied). */
export interface SpiffeSettings {
  readonly jwtKeyType: KeyTypeName;
  readonly jwtKeyLifetimeMs: number;
  readonly refreshHintMs: number;
  readonly agentSvidLifetimeMs: number;
  /** PEM certificates that node certificates must chain to for x509pop attestation (absolute path); undefined: no x509pop. */
  readonly x509popCaFile?: string;
  /** PEM certificates that TPM EK certificates must chain to for TPM attestation (absolute path); undefined: no TPM attestation. */
  readonly tpmEkCaFile?: string;
}

export const DEFAULT_SPIFFE_SETTINGS: SpiffeSettings = Object.freeze({ jwtKeyType: 'EC P-256', jwtKeyLifetimeMs: 24 * 3_600_000, refreshHintMs: 5 * 60_000, agentSvidLifetimeMs: 3_600_000 });

/** The validated `revocation` section. */
export interface RevocationSettings {
  /** The plain-HTTP listener of the revocation endpoints, as written and parsed; undefined: none. */
  readonly httpAddress: string | undefined;
  readonly httpListen: { readonly host: string; readonly port: number } | undefined;
  readonly propagationMs: number;
  readonly crl: { readonly enabled: boolean; readonly validityMs: number; readonly refreshMs: number; readonly shards: number };
  readonly ocsp: { readonly enabled: boolean; readonly validityMs: number; readonly signerLifetimeMs: number; readonly cacheSize: number };
}

export const DEFAULT_REVOCATION_SETTINGS: RevocationSettings = Object.freeze({
  httpAddress: undefined,
  httpListen: undefined,
  propagationMs: 5_000,
  crl: Object.freeze({ enabled: true, validityMs: 24 * 3_600_000, refreshMs: 8 * 3_600_000, shards: 1 }),
  ocsp: Object.freeze({ enabled: true, validityMs: 4 * 3_600_000, signerLifetimeMs: 7 * 24 * 3_600_000, cacheSize: 100_000 }),
});

/** One problem found in a config, with its JSON path (`$.claims.maxLifetime`) and position. */
export interface ConfigProblem {
  readonly path: string;
  /** One lower-case sentence without the path. */
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** Options of {@link parseCaConfig}. */
export interface ParseCaConfigOptions {
  /** Relative paths in the config resolve against this directory (the config file's). */
  readonly baseDir: string;
  /** How the config is named in messages (a file name). Default `config`. */
  readonly name?: string;
  /** The file the text came from, recorded as {@link CaConfig.configPath}. */
  readonly configPath?: string;
}

// ---------------------------------------------------------------------------------------------
// Problems and errors

/** Formats one problem as `$.path: message (line L, column C)`. */
export function formatConfigProblem(p: ConfigProblem): string {
  return `${p.path}: ${p.message}${p.line !== undefined ? ` (line ${p.line}, column ${p.column ?? 1})` : ''}`;
}

/**
 * ERR_CONFIG_INVALID for a list of problems: the message gives the count and the first problem,
 * `detail.problems` lists them all. `listed` says the caller already printed every problem (no
 * hint pointing at `validate` then).
 */
export function configError(name: string, problems: readonly ConfigProblem[], options: { listed?: boolean } = {}): SignetError {
  const first = problems[0];
  const n = problems.length;
  const head = n > 1 ? `${n} problems, the first: ` : '';
  return new SignetError('ERR_CONFIG_INVALID', `${name}: ${head}${first ? formatConfigProblem(first) : 'invalid'}`, {
    detail: { config: name, problems: problems.map((p) => ({ ...p })) },
    ...(n > 1 && !options.listed ? { hint: `run \`signet ca config validate --config ${name}\` to list every problem` } : {}),
  });
}

/** A short description of a JSON value for "expected X, got Y". */
function got(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isJsonObject(v)) return 'an object';
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
}

/** `$.a.b[0]` → `$.a.b`; `$` for a top-level path. */
function parentPath(path: string): string {
  const parent = path.replace(/(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])$/, '');
  return parent === '' ? '$' : parent;
}

/** Collects problems while the document is walked; each problem gets the position of its value (or key). */
class Walker {
  readonly problems: ConfigProblem[] = [];

  constructor(
    private readonly positions: ReadonlyMap<string, SourcePosition>,
    private readonly keyPositions: ReadonlyMap<string, SourcePosition>,
    readonly baseDir: string,
  ) {}

  /** Records a problem; `atKey` points at the member's name (unknown fields) instead of its value. */
  add(path: string, message: string, atKey = false): void {
    let pos = atKey ? this.keyPositions.get(path) : undefined;
    for (let p = path; pos === undefined; p = parentPath(p)) {
      pos = this.positions.get(p) ?? this.keyPositions.get(p);
      if (p === '$') break;
    }
    this.problems.push({ path, message, ...(pos ? { line: pos.line, column: pos.column } : {}) });
  }

  /** An object with only `fields` (unknown ones reported with a suggestion) and every `required` one present. */
  object(v: JsonValue | undefined, path: string, fields: readonly string[], required: readonly string[] = []): JsonObject | undefined {
    if (v === undefined) return undefined;
    if (!isJsonObject(v)) {
      this.add(path, `expected an object, got ${got(v)}`);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (fields.includes(key)) continue;
      // A secret inlined by mistake gets a pointer to the way secrets are referenced.
      const hint = /^pass(word|phrase)?$/i.test(key) && fields.includes('passwordFile') ? ' (secrets never go in the config: did you mean "passwordFile"?)' : suggestion(key, fields);
      this.add(pathKey(path, key), `unknown field${hint}`, true);
    }
    for (const r of required) {
      if (getOwn(v, r) === undefined) this.add(pathKey(path, r), 'is required');
    }
    return v;
  }

  string(v: JsonValue | undefined, path: string, options: { max?: number; expected?: string } = {}): string | undefined {
    if (v === undefined) return undefined;
    const expected = options.expected ?? 'a non-empty string';
    if (typeof v !== 'string' || v.trim() === '') {
      this.add(path, `expected ${expected}, got ${got(v)}`);
      return undefined;
    }
    // Control and bidi characters would end up in logs and terminals (and a NUL in a path is an fs error).
    if (escapeControl(v) !== v) {
      this.add(path, 'must not contain control or bidirectional formatting characters');
      return undefined;
    }
    const max = options.max ?? 4096;
    if (v.length > max) {
      this.add(path, `is ${v.length} characters long; at most ${max} are allowed`);
      return undefined;
    }
    return v;
  }

  boolean(v: JsonValue | undefined, path: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.add(path, `expected true or false, got ${got(v)}`);
      return undefined;
    }
    return v;
  }

  /** A duration string (`90s`, `24h`, `1h30m`) in milliseconds; never negative; `positive` refuses zero. */
  duration(v: JsonValue | undefined, path: string, options: { positive?: boolean; max?: number } = {}): number | undefined {
    if (v === undefined) return undefined;
    const expected = 'a duration such as "90s", "5m", "24h", "7d" or "1h30m"';
    if (typeof v !== 'string') {
      this.add(path, `expected ${expected}, got ${got(v)}`);
      return undefined;
    }
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch {
      this.add(path, `expected ${expected}, got ${got(v)}`);
      return undefined;
    }
    if (ms < 0 || (options.positive && ms === 0)) {
      this.add(path, `must be ${options.positive ? 'greater than zero' : 'zero or more'}, got ${got(v)}`);
      return undefined;
    }
    if (options.max !== undefined && ms > options.max) {
      this.add(path, `must be at most ${formatDuration(options.max)}, got ${got(v)}`);
      return undefined;
    }
    return ms;
  }

  /** A list whose items are read by `item`; problems in items are reported per item. */
  list<T>(v: JsonValue | undefined, path: string, item: (x: JsonValue, path: string) => T | undefined, options: { nonEmpty?: boolean; max?: number } = {}): T[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.add(path, `expected a list, got ${got(v)}`);
      return undefined;
    }
    if (options.nonEmpty && v.length === 0) {
      this.add(path, 'must not be empty');
      return undefined;
    }
    const max = options.max ?? 1000;
    if (v.length > max) {
      this.add(path, `has ${v.length} items; at most ${max} are allowed`);
      return undefined;
    }
    const before = this.problems.length;
    const out = v.map((x, i) => item(x, pathIndex(path, i)));
    return this.problems.length === before ? (out as T[]) : undefined;
  }

  /** One of `allowed` (exact spelling; a near miss gets a suggestion). */
  oneOf<T extends string>(v: JsonValue | undefined, path: string, allowed: readonly T[], what: string): T | undefined {
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    const hint = typeof v === 'string' ? suggestion(v, allowed).replace('known fields', 'known values') : '';
    this.add(path, `expected ${what} (${allowed.join(', ')}), got ${got(v)}${hint.startsWith(' (did') ? hint : ''}`);
    return undefined;
  }

  /** A file path, resolved against the config's directory. */
  file(v: JsonValue | undefined, path: string): string | undefined {
    const s = this.string(v, path, { expected: 'a file path' });
    return s === undefined ? undefined : resolve(this.baseDir, s);
  }
}

// ---------------------------------------------------------------------------------------------
// Field readers

const TOP_FIELDS = ['version', 'name', 'address', 'dnsNames', 'urls', 'root', 'additionalRoots', 'intermediate', 'ssh', 'db', 'claims', 'policy', 'provisioners', 'acme', 'crlUrl', 'ocspUrl', 'revocation', 'spiffe', 'logLevel'];
/** Most roots `additionalRoots` lists (a rollover needs two: the next one, then the previous one). */
const MAX_ADDITIONAL_ROOTS = 8;
const SPIFFE_FIELDS = ['jwtKeyType', 'jwtKeyLifetime', 'refreshHint', 'agentSvidLifetime', 'x509popCaFile', 'tpmEkCaFile'];
const MAX_AGENT_SVID_LIFETIME_MS = 7 * 24 * 3_600_000;
/** Bounds of `spiffe`. */
const MIN_JWT_KEY_LIFETIME_MS = 3_600_000;
const MAX_JWT_KEY_LIFETIME_MS = 90 * 24 * 3_600_000;
const MIN_REFRESH_HINT_MS = 1_000;
const REVOCATION_FIELDS = ['httpAddress', 'propagation', 'crl', 'ocsp'];
const CRL_FIELDS = ['enabled', 'validity', 'refresh', 'shards'];
const OCSP_FIELDS = ['enabled', 'validity', 'signerLifetime', 'cacheSize'];
/** Bounds of `revocation.ocsp`. */
const MAX_OCSP_VALIDITY_MS = 7 * 24 * 3_600_000;
const MAX_OCSP_SIGNER_LIFETIME_MS = 90 * 24 * 3_600_000;
const MAX_OCSP_CACHE = 10_000_000;
/** Bounds of `revocation.propagation`. */
const MIN_PROPAGATION_MS = 1_000;
const MAX_PROPAGATION_MS = 3_600_000;
/** Longest CRL validity (nextUpdate − thisUpdate). */
const MAX_CRL_VALIDITY_MS = 30 * 24 * 3_600_000;
const TOP_REQUIRED = ['version', 'name', 'address', 'dnsNames', 'root', 'intermediate'];
const CLAIM_FIELDS = [
  'minLifetime', 'maxLifetime', 'defaultLifetime', 'backdate', 'allowRenewal', 'allowRenewalAfterExpiry', 'renewalGracePeriod', 'keyTypes',
  'sshEnabled', 'sshUserMinLifetime', 'sshUserMaxLifetime', 'sshUserDefaultLifetime', 'sshHostMinLifetime', 'sshHostMaxLifetime', 'sshHostDefaultLifetime',
  'jwtSvidMinLifetime', 'jwtSvidMaxLifetime', 'jwtSvidDefaultLifetime',
];
const PROVISIONER_FIELDS = ['type', 'name', 'publicKey', 'claims', 'policy', 'template', 'sshTemplate'];
const ACME_PROVISIONER_FIELDS = ['type', 'name', 'challenges', 'requireEAB', 'termsOfService', 'claims', 'policy', 'template'];
const OIDC_PROVISIONER_FIELDS = ['type', 'name', 'issuer', 'clientId', 'domains', 'claims', 'policy', 'sshTemplate'];
const ACME_FIELDS = ['httpPort', 'tlsPort', 'dnsServers', 'allowPrivateAddresses', 'validationTimeout'];

/** Public JWK members (RFC 7517 §4, RFC 7518 §6.2.1/§6.3.1, RFC 8037 §2). */
const JWK_PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use', 'key_ops'];
/** Private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): never in a config. */
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * A provisioner name: it is the token issuer (`iss`) and part of a file name
 * (`secrets/provisioner-<name>.key`), so it is kept to a safe alphabet.
 */
export const PROVISIONER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

/**
 * Parses `host:port`: `127.0.0.1:9443`, `[::1]:9443`, `ca.example.com:443`, or `:9443` for every
 * interface. Returns undefined when it is none of these.
 */
export function parseListenAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) {
    const ip = parseIpAddress(m[1]);
    return ip && ip.length === 16 ? { host: m[1].toLowerCase(), port } : undefined;
  }
  const host = m[2] ?? '';
  if (host === '') return { host, port };
  if (parseIpAddress(host)) return { host, port };
  return isValidDnsName(host) || host.toLowerCase() === 'localhost' ? { host: host.toLowerCase(), port } : undefined;
}

function readAddress(w: Walker, v: JsonValue | undefined): { address: string; listen: { host: string; port: number } } | undefined {
  const s = w.string(v, '$.address', { expected: 'HOST:PORT' });
  if (s === undefined) return undefined;
  const listen = parseListenAddress(s);
  if (!listen) {
    w.add('$.address', `expected HOST:PORT such as "127.0.0.1:9443", "[::1]:9443", "ca.example.com:443" or ":9443" (every interface), got ${got(s)}`);
    return undefined;
  }
  return { address: s, listen };
}

/** A DNS name (no wildcard: the server's own certificate) or an IP address. */
function readServerName(w: Walker, v: JsonValue, path: string): string | undefined {
  const s = w.string(v, path, { expected: 'a DNS name or an IP address' });
  if (s === undefined) return undefined;
  if (parseIpAddress(s)) return s.toLowerCase();
  if (isValidDnsName(s)) return s.toLowerCase();
  w.add(path, `expected a DNS name or an IP address, got ${got(s)}`);
  return undefined;
}

function readDnsNames(w: Walker, v: JsonValue | undefined): string[] | undefined {
  const names = w.list(v, '$.dnsNames', (x, p) => readServerName(w, x, p), { nonEmpty: true, max: 100 });
  if (!names) return undefined;
  const seen = new Map<string, number>();
  let ok = true;
  names.forEach((n, i) => {
    const first = seen.get(n);
    if (first !== undefined) {
      w.add(pathIndex('$.dnsNames', i), `duplicate of $.dnsNames[${first}] (${JSON.stringify(n)})`);
      ok = false;
    } else {
      seen.set(n, i);
    }
  });
  return ok ? names : undefined;
}

/**
 * `urls`: the CA's public base URLs. Each must be `https://host[:port]` whose host is one of
 * `dnsNames`: the replicas' TLS certificate carries exactly those names, so a client could not
 * verify a CA it reaches under any other.
 */
function readUrls(w: Walker, v: JsonValue | undefined, dnsNames: readonly string[] | undefined): string[] | undefined {
  return w.list(
    v,
    '$.urls',
    (x, path) => {
      const s = w.string(x, path, { expected: 'an https://host[:port] URL', max: 2048 });
      if (s === undefined) return undefined;
      const m = /^https:\/\/(\[[0-9A-Fa-f:.]+\]|[^/:?#[\]]+)(?::(\d{1,5}))?\/?$/.exec(s);
      const port = m?.[2] === undefined ? 443 : Number(m[2]);
      if (!m || port < 1 || port > 65535) {
        w.add(path, `expected https://host[:port] without a path, got ${got(x)}`);
        return undefined;
      }
      const host = (m[1] as string).replace(/^\[|\]$/g, '').toLowerCase();
      if (dnsNames !== undefined && !dnsNames.includes(host)) {
        w.add(path, `host ${host} is not one of dnsNames: the CA's TLS certificate would not name it`);
        return undefined;
      }
      return s.replace(/\/$/, '').toLowerCase();
    },
    { nonEmpty: true, max: 16 },
  );
}

const DB_TYPES = ['sqlite', 'postgres'] as const;
const POSTGRES_FIELDS = ['type', 'url', 'passwordFile', 'passwordEnv', 'poolSize', 'statementTimeout', 'connectTimeout', 'tls'];
/** An environment variable name (POSIX portable: letters, digits, underscore). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Longest statement or connect timeout a config may set. */
const MAX_DB_TIMEOUT_MS = 10 * 60_000;

/** `db`: SQLite (the default: `db/signet.db` next to the config) or PostgreSQL. */
function readDb(w: Walker, v: JsonValue | undefined): DbConfig | undefined {
  const sqliteDefault: DbConfig = { type: 'sqlite', path: resolve(w.baseDir, DEFAULT_DB_PATH) };
  if (v === undefined) return sqliteDefault;
  if (!isJsonObject(v)) {
    w.add('$.db', `expected an object, got ${got(v)}`);
    return undefined;
  }
  const type = w.oneOf(getOwn(v, 'type'), '$.db.type', DB_TYPES, 'a database type');
  if (getOwn(v, 'type') === undefined) w.add('$.db.type', 'is required');
  if (type === undefined) return undefined;
  if (type === 'sqlite') {
    const o = w.object(v, '$.db', ['type', 'path'], ['type']);
    const path = w.file(getOwn(v, 'path'), '$.db.path');
    return o === undefined ? undefined : path !== undefined ? { type, path } : getOwn(v, 'path') === undefined ? sqliteDefault : undefined;
  }
  const before = w.problems.length;
  w.object(v, '$.db', POSTGRES_FIELDS, ['type', 'url']);
  const urlText = w.string(getOwn(v, 'url'), '$.db.url', { expected: 'a postgres:// URL', max: 2048 });
  if (urlText !== undefined) {
    try {
      parsePostgresUrl(urlText);
    } catch (e) {
      // The message never repeats the URL: it may hold a password.
      w.add('$.db.url', e instanceof Error ? e.message : String(e));
    }
  }
  const passwordFile = w.file(getOwn(v, 'passwordFile'), '$.db.passwordFile');
  const passwordEnvRaw = getOwn(v, 'passwordEnv');
  const passwordEnv = w.string(passwordEnvRaw, '$.db.passwordEnv', { expected: 'an environment variable name', max: 128 });
  if (passwordEnv !== undefined && !ENV_NAME.test(passwordEnv)) w.add('$.db.passwordEnv', `expected an environment variable name (letters, digits, _), got ${got(passwordEnvRaw as JsonValue)}`);
  if (passwordFile !== undefined && passwordEnv !== undefined) w.add('$.db.passwordEnv', 'give passwordFile or passwordEnv, not both');
  const poolRaw = getOwn(v, 'poolSize');
  let poolSize: number = POSTGRES_DEFAULTS.poolSize;
  if (poolRaw !== undefined) {
    if (typeof poolRaw !== 'number' || !Number.isInteger(poolRaw) || poolRaw < 1 || poolRaw > 1000) w.add('$.db.poolSize', `expected a whole number from 1 to 1000, got ${got(poolRaw)}`);
    else poolSize = poolRaw;
  }
  const statementTimeoutMs = w.duration(getOwn(v, 'statementTimeout'), '$.db.statementTimeout', { positive: true, max: MAX_DB_TIMEOUT_MS }) ?? POSTGRES_DEFAULTS.statementTimeoutMs;
  const connectTimeoutMs = w.duration(getOwn(v, 'connectTimeout'), '$.db.connectTimeout', { positive: true, max: MAX_DB_TIMEOUT_MS }) ?? POSTGRES_DEFAULTS.connectTimeoutMs;
  const tlsObject = w.object(getOwn(v, 'tls'), '$.db.tls', ['mode', 'ca']);
  const mode = (tlsObject && w.oneOf(getOwn(tlsObject, 'mode'), '$.db.tls.mode', ['disable', 'require', 'verify-full'] as const, 'a TLS mode')) ?? 'disable';
  const ca = tlsObject ? w.file(getOwn(tlsObject, 'ca'), '$.db.tls.ca') : undefined;
  if (ca !== undefined && mode !== 'verify-full') w.add('$.db.tls.ca', 'is used only with "mode": "verify-full"');
  if (w.problems.length > before || urlText === undefined) return undefined;
  return { type, url: urlText, passwordFile, passwordEnv, poolSize, statementTimeoutMs, connectTimeoutMs, tls: { mode, ca } };
}

/** Longest validation attempt a config may set. */
const MAX_VALIDATION_TIMEOUT_MS = 60_000;

function readPort(w: Walker, v: JsonValue | undefined, path: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    w.add(path, `expected a port number from 1 to 65535, got ${got(v)}`);
    return undefined;
  }
  return v;
}

/** A DNS server as node:dns `setServers` takes it: an IP address, or `IPv4:port` / `[IPv6]:port`. */
export function isDnsServer(s: string): boolean {
  if (isIP(s) !== 0) return true;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(s);
  if (m === null) return false;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 && (m[1] !== undefined ? isIP(m[1]) === 6 : isIP(m[2] ?? '') === 4);
}

/** `acme`: where validation connects and resolves. */
function readAcme(w: Walker, v: JsonValue | undefined): AcmeSettings | undefined {
  if (v === undefined) return DEFAULT_ACME_SETTINGS;
  const o = w.object(v, '$.acme', ACME_FIELDS);
  if (!o) return undefined;
  const before = w.problems.length;
  const httpPort = readPort(w, getOwn(o, 'httpPort'), '$.acme.httpPort');
  const tlsPort = readPort(w, getOwn(o, 'tlsPort'), '$.acme.tlsPort');
  const dnsServers = w.list(
    getOwn(o, 'dnsServers'),
    '$.acme.dnsServers',
    (x, p) => {
      const s = w.string(x, p, { expected: 'a DNS server as IP or IP:port ("127.0.0.1:53", "[::1]:53")', max: 64 });
      if (s === undefined) return undefined;
      if (!isDnsServer(s)) {
        w.add(p, `expected a DNS server as IP or IP:port ("127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353"), got ${got(s)}`);
        return undefined;
      }
      return s;
    },
    { max: 8 },
  );
  const allowPrivateAddresses = w.boolean(getOwn(o, 'allowPrivateAddresses'), '$.acme.allowPrivateAddresses');
  const validationTimeoutMs = w.duration(getOwn(o, 'validationTimeout'), '$.acme.validationTimeout', { positive: true, max: MAX_VALIDATION_TIMEOUT_MS });
  if (w.problems.length > before) return undefined;
  return {
    httpPort: httpPort ?? DEFAULT_ACME_SETTINGS.httpPort,
    tlsPort: tlsPort ?? DEFAULT_ACME_SETTINGS.tlsPort,
    dnsServers: dnsServers ?? [],
    allowPrivateAddresses: allowPrivateAddresses ?? false,
    validationTimeoutMs: validationTimeoutMs ?? DEFAULT_ACME_SETTINGS.validationTimeoutMs,
  };
}

/**
 * `spiffe`: the JWT signing keys and the bundle's refresh hint. A key is published for a third of
 * its life before it signs (so every peer that follows the refresh hint has it first), so the
 * refresh hint must be well inside that: at most a sixth of the key lifetime.
 */
function readSpiffe(w: Walker, v: JsonValue | undefined): SpiffeSettings | undefined {
  if (v === undefined) return DEFAULT_SPIFFE_SETTINGS;
  const o = w.object(v, '$.spiffe', SPIFFE_FIELDS);
  if (!o) return undefined;
  const before = w.problems.length;
  const JWT_KEY_TYPES = KEY_TYPE_NAMES.filter((k) => k !== 'Ed25519');
  const typeRaw = getOwn(o, 'jwtKeyType');
  const jwtKeyType = typeRaw === undefined ? DEFAULT_SPIFFE_SETTINGS.jwtKeyType : w.oneOf(typeRaw, '$.spiffe.jwtKeyType', JWT_KEY_TYPES, 'a JWT-SVID key type (the JWT-SVID standard allows EC and RSA keys)');
  const lifetime = w.duration(getOwn(o, 'jwtKeyLifetime'), '$.spiffe.jwtKeyLifetime', { positive: true, max: MAX_JWT_KEY_LIFETIME_MS });
  if (lifetime !== undefined && lifetime < MIN_JWT_KEY_LIFETIME_MS) w.add('$.spiffe.jwtKeyLifetime', `must be at least ${formatDuration(MIN_JWT_KEY_LIFETIME_MS)}`);
  const hint = w.duration(getOwn(o, 'refreshHint'), '$.spiffe.refreshHint', { positive: true });
  if (hint !== undefined && hint < MIN_REFRESH_HINT_MS) w.add('$.spiffe.refreshHint', `must be at least ${formatDuration(MIN_REFRESH_HINT_MS)}`);
  const agent = w.duration(getOwn(o, 'agentSvidLifetime'), '$.spiffe.agentSvidLifetime', { positive: true, max: MAX_AGENT_SVID_LIFETIME_MS });
  if (agent !== undefined && agent < 5 * 60_000) w.add('$.spiffe.agentSvidLifetime', 'must be at least 5m');
  const x509popCaFile = getOwn(o, 'x509popCaFile') === undefined ? undefined : w.file(getOwn(o, 'x509popCaFile'), '$.spiffe.x509popCaFile');
  const tpmEkCaFile = getOwn(o, 'tpmEkCaFile') === undefined ? undefined : w.file(getOwn(o, 'tpmEkCaFile'), '$.spiffe.tpmEkCaFile');
  const out = {
    jwtKeyType: jwtKeyType ?? DEFAULT_SPIFFE_SETTINGS.jwtKeyType,
    jwtKeyLifetimeMs: lifetime ?? DEFAULT_SPIFFE_SETTINGS.jwtKeyLifetimeMs,
    refreshHintMs: hint ?? DEFAULT_SPIFFE_SETTINGS.refreshHintMs,
    agentSvidLifetimeMs: agent ?? DEFAULT_SPIFFE_SETTINGS.agentSvidLifetimeMs,
    ...(x509popCaFile !== undefined ? { x509popCaFile } : {}),
    ...(tpmEkCaFile !== undefined ? { tpmEkCaFile } : {}),
  };
  if (w.problems.length === before && out.refreshHintMs * 6 > out.jwtKeyLifetimeMs) {
    w.add(hint !== undefined ? '$.spiffe.refreshHint' : '$.spiffe.jwtKeyLifetime', `refreshHint (${formatDuration(out.refreshHintMs)}) must be at most a sixth of jwtKeyLifetime (${formatDuration(out.jwtKeyLifetimeMs)}): a new key is published a third of its lifetime before it signs, and peers must fetch it in that time`);
  }
  return w.problems.length > before ? undefined : out;
}

/** `revocation`: CRL publication and the plain-HTTP listener of the revocation endpoints. */
function readRevocation(w: Walker, v: JsonValue | undefined): RevocationSettings | undefined {
  if (v === undefined) return DEFAULT_REVOCATION_SETTINGS;
  const o = w.object(v, '$.revocation', REVOCATION_FIELDS);
  if (!o) return undefined;
  const before = w.problems.length;
  let http: { address: string; listen: { host: string; port: number } } | undefined;
  const httpAddress = w.string(getOwn(o, 'httpAddress'), '$.revocation.httpAddress', { expected: 'HOST:PORT' });
  if (httpAddress !== undefined) {
    const listen = parseListenAddress(httpAddress);
    if (listen) http = { address: httpAddress, listen };
    else w.add('$.revocation.httpAddress', `expected HOST:PORT such as "127.0.0.1:8080", "[::1]:8080" or ":80" (every interface), got ${got(httpAddress)}`);
  }
  const propagationMs = w.duration(getOwn(o, 'propagation'), '$.revocation.propagation', { positive: true, max: MAX_PROPAGATION_MS });
  if (propagationMs !== undefined && propagationMs < MIN_PROPAGATION_MS) w.add('$.revocation.propagation', 'must be at least 1s');
  const defaults = DEFAULT_REVOCATION_SETTINGS.crl;
  let crl: RevocationSettings['crl'] = defaults;
  const crlDoc = getOwn(o, 'crl');
  if (crlDoc !== undefined) {
    const c = w.object(crlDoc, '$.revocation.crl', CRL_FIELDS);
    if (c) {
      const enabled = w.boolean(getOwn(c, 'enabled'), '$.revocation.crl.enabled');
      const validityMs = w.duration(getOwn(c, 'validity'), '$.revocation.crl.validity', { positive: true, max: MAX_CRL_VALIDITY_MS });
      const refreshMs = w.duration(getOwn(c, 'refresh'), '$.revocation.crl.refresh', { positive: true, max: MAX_CRL_VALIDITY_MS });
      const shardsRaw = getOwn(c, 'shards');
      let shards = defaults.shards;
      if (shardsRaw !== undefined) {
        if (typeof shardsRaw !== 'number' || !Number.isInteger(shardsRaw) || shardsRaw < 1 || shardsRaw > MAX_CRL_SHARDS) w.add('$.revocation.crl.shards', `expected a whole number from 1 to ${MAX_CRL_SHARDS}, got ${got(shardsRaw)}`);
        else shards = shardsRaw;
      }
      crl = { enabled: enabled ?? defaults.enabled, validityMs: validityMs ?? defaults.validityMs, refreshMs: refreshMs ?? Math.min(defaults.refreshMs, Math.floor((validityMs ?? defaults.validityMs) / 3)), shards };
      if (crl.refreshMs >= crl.validityMs) {
        w.add(getOwn(c, 'refresh') !== undefined ? '$.revocation.crl.refresh' : '$.revocation.crl.validity', `refresh (${formatDuration(crl.refreshMs)}) must be shorter than validity (${formatDuration(crl.validityMs)}): relying parties would hold an expired CRL`);
      }
      const propagation = propagationMs ?? DEFAULT_REVOCATION_SETTINGS.propagationMs;
      if (crl.refreshMs < propagation) w.add('$.revocation.crl.refresh', `must not be shorter than revocation.propagation (${formatDuration(propagation)})`);
    }
  }
  const ocsp = readOcsp(w, getOwn(o, 'ocsp'), propagationMs ?? DEFAULT_REVOCATION_SETTINGS.propagationMs);
  if (w.problems.length > before || ocsp === undefined) return undefined;
  return {
    httpAddress: http?.address,
    httpListen: http?.listen,
    propagationMs: propagationMs ?? DEFAULT_REVOCATION_SETTINGS.propagationMs,
    crl,
    ocsp,
  };
}

/** `revocation.ocsp`: the responder's response validity, responder certificate lifetime and cache. */
function readOcsp(w: Walker, v: JsonValue | undefined, propagationMs: number): RevocationSettings['ocsp'] | undefined {
  const defaults = DEFAULT_REVOCATION_SETTINGS.ocsp;
  if (v === undefined) return defaults;
  const o = w.object(v, '$.revocation.ocsp', OCSP_FIELDS);
  if (!o) return undefined;
  const before = w.problems.length;
  const enabled = w.boolean(getOwn(o, 'enabled'), '$.revocation.ocsp.enabled');
  const validityMs = w.duration(getOwn(o, 'validity'), '$.revocation.ocsp.validity', { positive: true, max: MAX_OCSP_VALIDITY_MS });
  const signerLifetimeMs = w.duration(getOwn(o, 'signerLifetime'), '$.revocation.ocsp.signerLifetime', { positive: true, max: MAX_OCSP_SIGNER_LIFETIME_MS });
  const cacheRaw = getOwn(o, 'cacheSize');
  let cacheSize = defaults.cacheSize;
  if (cacheRaw !== undefined) {
    if (typeof cacheRaw !== 'number' || !Number.isInteger(cacheRaw) || cacheRaw < 0 || cacheRaw > MAX_OCSP_CACHE) w.add('$.revocation.ocsp.cacheSize', `expected a whole number from 0 to ${MAX_OCSP_CACHE}, got ${got(cacheRaw)}`);
    else cacheSize = cacheRaw;
  }
  const out = { enabled: enabled ?? defaults.enabled, validityMs: validityMs ?? defaults.validityMs, signerLifetimeMs: signerLifetimeMs ?? defaults.signerLifetimeMs, cacheSize };
  // Responses are signed again at half their validity, and the watcher looks every propagation period.
  if (validityMs !== undefined && out.validityMs < 4 * propagationMs) w.add('$.revocation.ocsp.validity', `must be at least 4 × revocation.propagation (${formatDuration(4 * propagationMs)})`);
  if (validityMs !== undefined || signerLifetimeMs !== undefined) {
    if (out.signerLifetimeMs < 3 * out.validityMs) {
      w.add(signerLifetimeMs !== undefined ? '$.revocation.ocsp.signerLifetime' : '$.revocation.ocsp.validity', `signerLifetime (${formatDuration(out.signerLifetimeMs)}) must be at least 3 × validity (${formatDuration(out.validityMs)}): a response must not outlive the certificate that signed it`);
    }
  }
  return w.problems.length > before ? undefined : out;
}

function readHttpUrl(w: Walker, v: JsonValue | undefined, path: string): string | undefined {
  const s = w.string(v, path, { expected: 'an http:// or https:// URL' });
  if (s === undefined) return undefined;
  if (!isValidUri(s) || !/^https?:\/\/[^/]/i.test(s)) {
    w.add(path, `expected an absolute http:// or https:// URL, got ${got(s)}`);
    return undefined;
  }
  return s;
}

/**
 * An OpenID provider's issuer (OpenID Connect Discovery §4.3 compares it exactly): an https URL
 * without query or fragment — http only for a loopback address (a provider on this machine,
 * for development and tests).
 */
function readIssuerUrl(w: Walker, v: JsonValue | undefined, path: string): string | undefined {
  const s = w.string(v, path, { expected: 'the issuer URL of the OpenID provider' });
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    w.add(path, `expected an https:// URL, got ${got(s)}`);
    return undefined;
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    w.add(path, `must be an https:// URL (http:// only on a loopback address), got ${got(s)}`);
    return undefined;
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    w.add(path, `must not have a query, fragment or user information, got ${got(s)}`);
    return undefined;
  }
  return s;
}

/** Which claims fields a document set, with their paths (for messages after merging). */
type ClaimOrigins = Partial<Record<keyof Claims, string>>;

/** Claims read from one level: merged over the level below, with what this level set and got wrong. */
interface ClaimsRead {
  readonly claims: Claims;
  /** Fields this level set, with their paths. */
  readonly origins: ClaimOrigins;
  /** Fields this level got wrong (already reported; rules involving them are skipped). */
  readonly bad: ReadonlySet<keyof Claims>;
}

/** Reads a `claims` object and merges it over `base`; a wrong field keeps the base value and is listed in `bad`. */
function readClaims(w: Walker, v: JsonValue | undefined, path: string, base: Claims): ClaimsRead | undefined {
  if (v === undefined) return { claims: base, origins: {}, bad: new Set() };
  const o = w.object(v, path, CLAIM_FIELDS);
  if (!o) return undefined;
  const at = (k: string): string => pathKey(path, k);
  const out: { -readonly [K in keyof Claims]: Claims[K] } = { ...base };
  const origins: ClaimOrigins = {};
  const bad = new Set<keyof Claims>();
  const set = <K extends keyof Claims>(key: K, field: string, read: (x: JsonValue | undefined, p: string) => Claims[K] | undefined): void => {
    const raw = getOwn(o, field);
    if (raw === undefined) return;
    const before = w.problems.length;
    const value = read(raw, at(field));
    if (value === undefined || w.problems.length !== before) {
      bad.add(key);
      return;
    }
    out[key] = value;
    origins[key] = at(field);
  };
  set('minLifetimeMs', 'minLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('maxLifetimeMs', 'maxLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('defaultLifetimeMs', 'defaultLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('backdateMs', 'backdate', (x, p) => w.duration(x, p, { max: MAX_BACKDATE_MS }));
  set('allowRenewal', 'allowRenewal', (x, p) => w.boolean(x, p));
  set('allowRenewalAfterExpiry', 'allowRenewalAfterExpiry', (x, p) => w.boolean(x, p));
  set('renewalGracePeriodMs', 'renewalGracePeriod', (x, p) => w.duration(x, p));
  set('keyTypes', 'keyTypes', (x, p) => {
    const keyTypes = w.list(x, p, (k, kp) => w.oneOf(k, kp, KEY_TYPE_NAMES, 'a key type'), { nonEmpty: true, max: KEY_TYPE_NAMES.length * 2 });
    if (!keyTypes) return undefined;
    const dup = keyTypes.findIndex((k, i) => keyTypes.indexOf(k) !== i);
    if (dup < 0) return Object.freeze(keyTypes);
    w.add(pathIndex(p, dup), `duplicate key type ${JSON.stringify(keyTypes[dup])}`);
    return undefined;
  });
  set('sshEnabled', 'sshEnabled', (x, p) => w.boolean(x, p));
  set('sshUserMinLifetimeMs', 'sshUserMinLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('sshUserMaxLifetimeMs', 'sshUserMaxLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('sshUserDefaultLifetimeMs', 'sshUserDefaultLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('sshHostMinLifetimeMs', 'sshHostMinLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('sshHostMaxLifetimeMs', 'sshHostMaxLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('sshHostDefaultLifetimeMs', 'sshHostDefaultLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('jwtSvidMinLifetimeMs', 'jwtSvidMinLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('jwtSvidMaxLifetimeMs', 'jwtSvidMaxLifetime', (x, p) => w.duration(x, p, { positive: true }));
  set('jwtSvidDefaultLifetimeMs', 'jwtSvidDefaultLifetime', (x, p) => w.duration(x, p, { positive: true }));
  return { claims: out, origins, bad };
}

/**
 * The rules between claims, checked on the merged result: min ≤ default ≤ max, and renewal after
 * expiry needs a grace period. A rule is skipped when one of its fields was wrong (already
 * reported). `inherited` names the level below (`$.claims`) for a provisioner: there a rule is
 * only reported when the provisioner set one of its fields (the authority's own mistakes are
 * reported once, at `$.claims`), and the message says where the other value came from.
 */
function checkClaims(w: Walker, read: ClaimsRead, path: string, inherited: string | undefined): void {
  const { claims: c, origins, bad } = read;
  const label = (key: keyof Claims, field: string, ms: number): string =>
    `${field} ${formatDuration(ms)}${origins[key] === undefined && inherited !== undefined ? ` (from ${inherited})` : ''}`;
  const rule = (keys: (keyof Claims)[], broken: boolean, message: () => string): void => {
    if (!broken || keys.some((k) => bad.has(k))) return;
    const mine = keys.map((k) => origins[k]).filter((p): p is string => p !== undefined);
    if (inherited !== undefined && mine.length === 0) return;
    w.add(mine[0] ?? path, message());
  };
  // min ≤ default ≤ max, for X.509 certificates and for each kind of SSH certificate.
  const bounds = (min: keyof Claims, def: keyof Claims, max: keyof Claims, prefix: string, cap: (s: string) => string): void => {
    const [lo, mid, hi] = [c[min], c[def], c[max]] as number[];
    const ordered = (lo as number) <= (hi as number);
    const name = (s: string): string => (prefix === '' ? s : `${prefix}${cap(s)}`);
    rule([min, max], !ordered, () => `${label(min, name('minLifetime'), lo as number)} is longer than ${label(max, name('maxLifetime'), hi as number)}`);
    rule([def, min], ordered && (mid as number) < (lo as number), () => `${label(def, name('defaultLifetime'), mid as number)} is shorter than ${label(min, name('minLifetime'), lo as number)}`);
    rule([def, max], ordered && (mid as number) > (hi as number), () => `${label(def, name('defaultLifetime'), mid as number)} is longer than ${label(max, name('maxLifetime'), hi as number)}`);
  };
  const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  bounds('minLifetimeMs', 'defaultLifetimeMs', 'maxLifetimeMs', '', capital);
  bounds('sshUserMinLifetimeMs', 'sshUserDefaultLifetimeMs', 'sshUserMaxLifetimeMs', 'sshUser', capital);
  bounds('sshHostMinLifetimeMs', 'sshHostDefaultLifetimeMs', 'sshHostMaxLifetimeMs', 'sshHost', capital);
  bounds('jwtSvidMinLifetimeMs', 'jwtSvidDefaultLifetimeMs', 'jwtSvidMaxLifetimeMs', 'jwtSvid', capital);
  rule(['allowRenewalAfterExpiry', 'renewalGracePeriodMs'], c.allowRenewalAfterExpiry && c.renewalGracePeriodMs === 0, () =>
    `allowRenewalAfterExpiry is true but renewalGracePeriod is 0s${origins.renewalGracePeriodMs === undefined && inherited !== undefined ? ` (from ${inherited})` : ''}: set how long after expiry renewal stays possible`);
}

/** `allow.dns[0]` (a path inside a policy) appended to the policy's own path. */
function policyPath(path: string, inner: string): string {
  if (inner === '') return path;
  return inner.startsWith('[') ? `${path}${inner}` : `${path}.${inner}`;
}

/**
 * A policy (`allow`/`deny` rules per name type), checked by the policy module itself
 * ({@link validatePolicyConfig}, src/ca/policy.ts): malformed rules — a bad CIDR, a misplaced
 * wildcard — are reported with their path like every other problem.
 */
function readPolicy(w: Walker, v: JsonValue | undefined, path: string): PolicyConfig | undefined {
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) {
    w.add(path, `expected an object with "allow" and/or "deny", got ${got(v)}`);
    return undefined;
  }
  const problems = validatePolicyConfig(v);
  for (const p of problems) w.add(policyPath(path, p.path), p.message);
  if (problems.length > 0) return undefined;
  // Checked by the policy module itself; copied into plain objects of the known fields.
  const rules = (r: JsonValue | undefined, types: readonly PolicyNameType[]): PolicyRules | undefined => {
    if (r === undefined || r === null || !isJsonObject(r)) return undefined;
    const out: Record<string, readonly string[]> = {};
    for (const t of types) {
      const list = getOwn(r, t);
      if (Array.isArray(list)) out[t] = list.filter((x): x is string => typeof x === 'string');
    }
    return out;
  };
  const sets = (o: JsonValue | undefined, types: readonly PolicyNameType[]): PolicyConfig | undefined => {
    if (o === undefined || !isJsonObject(o)) return undefined;
    const allow = rules(getOwn(o, 'allow'), types);
    const deny = rules(getOwn(o, 'deny'), types);
    return { ...(allow ? { allow } : {}), ...(deny ? { deny } : {}) };
  };
  const ssh = getOwn(v, 'ssh');
  const user = isJsonObject(ssh) ? sets(getOwn(ssh, 'user'), SSH_USER_POLICY_TYPES) : undefined;
  const host = isJsonObject(ssh) ? sets(getOwn(ssh, 'host'), SSH_HOST_POLICY_TYPES) : undefined;
  return { ...sets(v, POLICY_NAME_TYPES), ...(user || host ? { ssh: { ...(user ? { user } : {}), ...(host ? { host } : {}) } } : {}) };
}

/** The JWS algorithm a provisioner key signs tokens with, or why it cannot (RFC 7518 §3.1, RFC 8037 §3.1). */
function tokenAlgorithm(key: KeyObject): { algorithm: ProvisionerAlgorithm } | { refused: string } {
  const t = key.asymmetricKeyType;
  if (t === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? { algorithm: 'ES256' } : { refused: 'only P-256 EC keys sign tokens (ES256)' };
  if (t === 'ed25519') return { algorithm: 'EdDSA' };
  if (t === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? { algorithm: 'RS256' } : { refused: 'RSA keys below 2048 bits are too weak' };
  return { refused: `${String(t)} keys cannot sign tokens` };
}

const TOKEN_KEYS_HINT = 'tokens are signed with ES256 (EC P-256), EdDSA (Ed25519) or RS256 (RSA of 2048 bits or more)';

interface ReadJwk {
  readonly jwk: Jwk;
  readonly key: KeyObject;
  readonly kid: string;
  readonly algorithm: ProvisionerAlgorithm;
}

/** A public JWK: public members only (a private member is refused outright), importable, a token-signing key type. */
function readPublicJwk(w: Walker, v: JsonValue | undefined, path: string): ReadJwk | undefined {
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) {
    w.add(path, `expected a public JWK object, got ${got(v)}`);
    return undefined;
  }
  const secret = JWK_PRIVATE_MEMBERS.filter((m) => Object.hasOwn(v, m));
  if (secret.length > 0) {
    w.add(path, `is a private key (it has ${secret.map((m) => `"${m}"`).join(', ')}): the config holds public keys only; keep the private key in its encrypted file`);
    return undefined;
  }
  const o = w.object(v, path, JWK_PUBLIC_MEMBERS, ['kty']);
  if (!o) return undefined;
  const before = w.problems.length;
  const kty = w.oneOf(getOwn(o, 'kty'), pathKey(path, 'kty'), ['EC', 'OKP', 'RSA'] as const, 'a key type');
  const members: Record<string, string> = {};
  const need = kty === 'EC' ? ['crv', 'x', 'y'] : kty === 'OKP' ? ['crv', 'x'] : kty === 'RSA' ? ['n', 'e'] : [];
  for (const m of need) {
    if (getOwn(o, m) === undefined) {
      w.add(pathKey(path, m), `is required for an ${kty ?? ''} key`);
      continue;
    }
    const s = w.string(getOwn(o, m), pathKey(path, m), { max: 2048, expected: 'a base64url string' });
    if (s !== undefined) members[m] = s;
  }
  for (const m of ['crv', 'x', 'y', 'n', 'e']) {
    if (kty !== undefined && !need.includes(m) && getOwn(o, m) !== undefined) w.add(pathKey(path, m), `is not a member of an ${kty} key`);
  }
  const kid = w.string(getOwn(o, 'kid'), pathKey(path, 'kid'), { max: 256 });
  const alg = w.string(getOwn(o, 'alg'), pathKey(path, 'alg'));
  const use = getOwn(o, 'use');
  if (use !== undefined && use !== 'sig') w.add(pathKey(path, 'use'), `expected "sig" (a provisioner key signs tokens), got ${got(use)}`);
  const ops = w.list(getOwn(o, 'key_ops'), pathKey(path, 'key_ops'), (x, p) => w.string(x, p), { max: 8 });
  if (ops && !ops.includes('verify')) w.add(pathKey(path, 'key_ops'), 'must include "verify"');
  if (w.problems.length !== before || kty === undefined) return undefined;

  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty, ...members } as JsonWebKey, format: 'jwk' });
  } catch (e) {
    w.add(path, `is not a valid ${kty} public key (${e instanceof Error ? e.message.replace(/\.$/, '').toLowerCase() : 'cannot import it'})`);
    return undefined;
  }
  const verdict = tokenAlgorithm(key);
  if ('refused' in verdict) {
    w.add(path, `cannot verify tokens: ${verdict.refused}; ${TOKEN_KEYS_HINT}`);
    return undefined;
  }
  const algorithm = verdict.algorithm;
  if (alg !== undefined && alg !== algorithm) {
    w.add(pathKey(path, 'alg'), `is "${alg}" but this key signs tokens with ${algorithm}`);
    return undefined;
  }
  const jwk: Jwk = { kty, ...members, kid: kid ?? jwkThumbprint(key), alg: algorithm };
  return { jwk, key, kid: jwk.kid as string, algorithm };
}

/** Extensions OpenSSH defines for user certificates (PROTOCOL.certkeys); others must be vendor names (`name@domain`). */
const SSH_USER_EXTENSIONS = ['no-touch-required', 'permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'];
/** Critical options OpenSSH defines for user certificates. */
const SSH_CRITICAL_OPTIONS = ['force-command', 'source-address', 'verify-required'];
const SSH_VENDOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}@[A-Za-z0-9.-]{1,128}$/;

/** One `sshTemplate` kind: extensions and critical options, names checked against what OpenSSH defines for that kind. */
function readSshOptions(w: Walker, v: JsonValue | undefined, path: string, kind: 'user' | 'host'): SshTemplateSettings['user'] | undefined {
  const o = w.object(v, path, ['extensions', 'criticalOptions']);
  if (!o) return undefined;
  const before = w.problems.length;
  const read = (field: 'extensions' | 'criticalOptions'): Record<string, string> | undefined => {
    const p = pathKey(path, field);
    const m = getOwn(o, field);
    if (m === undefined) return undefined;
    if (!isJsonObject(m)) {
      w.add(p, `expected an object of names and values ("" for a flag), got ${got(m)}`);
      return undefined;
    }
    const known = kind === 'host' ? [] : field === 'extensions' ? SSH_USER_EXTENSIONS : SSH_CRITICAL_OPTIONS;
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(m)) {
      const np = pathKey(p, name);
      if (!known.includes(name) && !SSH_VENDOR_NAME.test(name)) {
        w.add(np, kind === 'host' ? 'OpenSSH defines no host certificate options; only vendor names (name@domain) may be added' : `unknown ${field === 'extensions' ? 'extension' : 'critical option'}${suggestion(name, known)}; OpenSSH defines: ${known.join(', ')}, others must be vendor names (name@domain)`, true);
        continue;
      }
      const text = typeof value === 'string' ? value : undefined;
      if (text === undefined) {
        w.add(np, `expected a string ("" for a flag), got ${got(value)}`);
        continue;
      }
      const flag = field === 'extensions' || name === 'verify-required';
      if (flag && text !== '' && known.includes(name)) w.add(np, `${name} is a flag: its value must be ""`);
      else if (!flag && text.trim() === '') w.add(np, `${name} needs a value`);
      else if (escapeControl(text) !== text || text.length > 4096) w.add(np, 'must be at most 4096 characters without control characters');
      else if (name === 'source-address' && sourceAddressProblem(text) !== undefined) w.add(np, `expected a comma-separated list of IP addresses and CIDR ranges, got ${got(text)}: ${sourceAddressProblem(text) ?? ''}`);
      else out[name] = text;
    }
    return out;
  };
  const extensions = read('extensions');
  const criticalOptions = read('criticalOptions');
  if (w.problems.length !== before) return undefined;
  const base = DEFAULT_SSH_TEMPLATE[kind];
  return { extensions: extensions ?? base.extensions, criticalOptions: criticalOptions ?? base.criticalOptions };
}

/** Why a `source-address` value (comma-separated addresses and CIDR ranges, as sshd reads it) is not one, or undefined. */
function sourceAddressProblem(text: string): string | undefined {
  for (const entry of text.split(',')) {
    const range = parseIpRange(entry);
    if (typeof range === 'string') return `"${entry.slice(0, 64)}" ${range}`;
  }
  return undefined;
}

function readSshTemplate(w: Walker, v: JsonValue | undefined, path: string): SshTemplateSettings | undefined {
  if (v === undefined) return DEFAULT_SSH_TEMPLATE;
  const o = w.object(v, path, ['user', 'host']);
  if (!o) return undefined;
  const user = getOwn(o, 'user') === undefined ? DEFAULT_SSH_TEMPLATE.user : readSshOptions(w, getOwn(o, 'user'), pathKey(path, 'user'), 'user');
  const host = getOwn(o, 'host') === undefined ? DEFAULT_SSH_TEMPLATE.host : readSshOptions(w, getOwn(o, 'host'), pathKey(path, 'host'), 'host');
  return user && host ? { user, host } : undefined;
}

interface ProvisionerRead {
  readonly provisioner: CaProvisioner;
}

function readProvisioner(w: Walker, v: JsonValue, path: string, authority: Claims | undefined): ProvisionerRead | undefined {
  if (!isJsonObject(v)) {
    w.add(path, `expected a provisioner object, got ${got(v)}`);
    return undefined;
  }
  const typePath = pathKey(path, 'type');
  const type = getOwn(v, 'type');
  if (type === undefined) {
    w.add(typePath, `is required (${PROVISIONER_TYPES.join(', ')})`);
    return undefined;
  }
  // Other types have other fields: checking them against the JWK schema would only add noise.
  const kind = w.oneOf(type, typePath, PROVISIONER_TYPES, 'a provisioner type');
  if (kind === undefined) return undefined;
  const o =
    kind === 'ACME'
      ? w.object(v, path, ACME_PROVISIONER_FIELDS, ['name'])
      : kind === 'OIDC'
        ? w.object(v, path, OIDC_PROVISIONER_FIELDS, ['name', 'issuer', 'clientId'])
        : w.object(v, path, PROVISIONER_FIELDS, ['name', 'publicKey']);
  if (!o) return undefined;
  const before = w.problems.length;
  const namePath = pathKey(path, 'name');
  const name = w.string(getOwn(o, 'name'), namePath, { max: 64, expected: 'a provisioner name' });
  if (name !== undefined && !PROVISIONER_NAME_PATTERN.test(name)) {
    w.add(namePath, `expected a provisioner name: letters, digits and . _ @ + - (at most 64, starting with a letter or digit), got ${got(name)}`);
  }
  const jwk = kind === 'JWK' ? readPublicJwk(w, getOwn(o, 'publicKey'), pathKey(path, 'publicKey')) : undefined;
  const sshTemplate = kind !== 'ACME' ? readSshTemplate(w, getOwn(o, 'sshTemplate'), pathKey(path, 'sshTemplate')) : undefined;
  const claimsPath = pathKey(path, 'claims');
  const claims = authority ? readClaims(w, getOwn(o, 'claims'), claimsPath, authority) : undefined;
  if (claims && getOwn(o, 'claims') !== undefined) checkClaims(w, claims, claimsPath, '$.claims');
  const policy = readPolicy(w, getOwn(o, 'policy'), pathKey(path, 'policy'));
  const template = w.file(getOwn(o, 'template'), pathKey(path, 'template'));
  if (kind === 'ACME') {
    const challenges = w.list(getOwn(o, 'challenges'), pathKey(path, 'challenges'), (c, cp) => w.oneOf(c, cp, ACME_CHALLENGE_TYPES, 'a challenge type'), { nonEmpty: true, max: 8 });
    const requireEAB = w.boolean(getOwn(o, 'requireEAB'), pathKey(path, 'requireEAB'));
    const termsOfService = readHttpUrl(w, getOwn(o, 'termsOfService'), pathKey(path, 'termsOfService'));
    if (w.problems.length !== before || name === undefined || !claims) return undefined;
    return {
      provisioner: {
        type: 'ACME',
        name,
        challenges: challenges === undefined ? [...ACME_CHALLENGE_TYPES] : [...new Set(challenges)],
        requireEAB: requireEAB ?? false,
        termsOfService,
        claims: claims.claims,
        ...(policy ? { policy } : {}),
        ...(template !== undefined ? { template } : {}),
      },
    };
  }
  if (kind === 'OIDC') {
    const issuer = readIssuerUrl(w, getOwn(o, 'issuer'), pathKey(path, 'issuer'));
    const clientId = w.string(getOwn(o, 'clientId'), pathKey(path, 'clientId'), { max: 256, expected: 'the client ID registered at the provider' });
    const domains = w.list(
      getOwn(o, 'domains'),
      pathKey(path, 'domains'),
      (d, dp) => {
        const text = w.string(d, dp, { max: 253, expected: 'an e-mail domain' });
        if (text !== undefined && !isValidDnsName(text)) w.add(dp, `expected an e-mail domain such as example.com, got ${got(text)}`);
        return text?.toLowerCase();
      },
      { nonEmpty: true, max: 100 },
    );
    if (w.problems.length !== before || name === undefined || issuer === undefined || clientId === undefined || !claims || !sshTemplate) return undefined;
    return {
      provisioner: {
        type: 'OIDC',
        name,
        issuer,
        clientId,
        domains: domains ?? [],
        claims: claims.claims,
        sshTemplate,
        ...(policy ? { policy } : {}),
        ...(template !== undefined ? { template } : {}),
      },
    };
  }
  if (w.problems.length !== before || name === undefined || !jwk || !claims || !sshTemplate) return undefined;
  return {
    provisioner: {
      type: 'JWK',
      sshTemplate,
      name,
      kid: jwk.kid,
      algorithm: jwk.algorithm,
      publicKey: jwk.key,
      jwk: jwk.jwk,
      claims: claims.claims,
      ...(policy ? { policy } : {}),
      ...(template !== undefined ? { template } : {}),
    },
  };
}

function readProvisioners(w: Walker, v: JsonValue | undefined, authority: Claims | undefined): CaProvisioner[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    w.add('$.provisioners', `expected a list, got ${got(v)}`);
    return undefined;
  }
  const before = w.problems.length;
  const read = v.map((p, i) => readProvisioner(w, p, pathIndex('$.provisioners', i), authority));
  // Names are unique (case-insensitively: "Admin" and "admin" would be told apart by nobody).
  const seen = new Map<string, number>();
  v.forEach((p, i) => {
    const name = isJsonObject(p) ? getOwn(p, 'name') : undefined;
    if (typeof name !== 'string' || name === '') return;
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), i);
    else w.add(pathKey(pathIndex('$.provisioners', i), 'name'), `duplicate provisioner name ${JSON.stringify(name)} (also $.provisioners[${first}].name)`);
  });
  const ok = read.filter((r): r is ProvisionerRead => r !== undefined);
  if (w.problems.length !== before || ok.length !== read.length) return undefined;
  return ok.map((r) => r.provisioner);
}

/** Recursively freezes plain objects and arrays (KeyObjects are left alone). */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

/** An object of file paths (`intermediate`, `ssh`): only `fields`, the `required` ones present, each resolved against the config's directory. */
function readFiles<K extends string>(w: Walker, v: JsonValue | undefined, path: string, fields: readonly K[], required: readonly K[]): Partial<Record<K, string>> | undefined {
  const o = w.object(v, path, fields, required);
  if (!o) return undefined;
  const out: Partial<Record<K, string>> = {};
  for (const f of fields) {
    const file = w.file(getOwn(o, f), pathKey(path, f));
    if (file !== undefined) out[f] = file;
  }
  return out;
}

function readConfig(doc: JsonValue, w: Walker, options: ParseCaConfigOptions): CaConfig | undefined {
  if (!isJsonObject(doc)) {
    w.add('$', `a config must be a JSON object, got ${got(doc)}`);
    return undefined;
  }
  // A document of another version has other fields: report the version alone.
  const version = getOwn(doc, 'version');
  if (version !== undefined && version !== CA_CONFIG_VERSION) {
    w.add('$.version', typeof version === 'number' ? `unsupported config version ${version}; this Signet reads version ${CA_CONFIG_VERSION}` : `expected the number ${CA_CONFIG_VERSION}, got ${got(version)}`);
    return undefined;
  }
  const o = w.object(doc, '$', TOP_FIELDS, TOP_REQUIRED);
  if (!o) return undefined;

  const name = w.string(getOwn(o, 'name'), '$.name', { max: 128 });
  const address = readAddress(w, getOwn(o, 'address'));
  const dnsNames = readDnsNames(w, getOwn(o, 'dnsNames'));
  const urls = readUrls(w, getOwn(o, 'urls'), dnsNames);
  const root = w.file(getOwn(o, 'root'), '$.root');
  const additionalRoots = w.list(getOwn(o, 'additionalRoots'), '$.additionalRoots', (x, path) => w.file(x, path), { max: MAX_ADDITIONAL_ROOTS }) ?? [];

  const intermediate = readFiles(w, getOwn(o, 'intermediate'), '$.intermediate', ['certificate', 'key', 'passwordFile'], ['certificate', 'key']);
  const ssh = readFiles(w, getOwn(o, 'ssh'), '$.ssh', ['userKey', 'hostKey', 'passwordFile'], ['userKey', 'hostKey']);
  if (ssh?.userKey !== undefined && ssh.userKey === ssh.hostKey) w.add('$.ssh.hostKey', 'must differ from userKey: a user CA key that also signs hosts lets every user certificate holder pose as a host');

  const db = readDb(w, getOwn(o, 'db'));

  const claimsRead = readClaims(w, getOwn(o, 'claims'), '$.claims', DEFAULT_CLAIMS);
  if (claimsRead) checkClaims(w, claimsRead, '$.claims', undefined);
  const policy = readPolicy(w, getOwn(o, 'policy'), '$.policy');
  // Provisioner claims are merged over the authority's (its wrong fields keep their defaults).
  const provisioners = readProvisioners(w, getOwn(o, 'provisioners'), claimsRead?.claims);
  const acme = readAcme(w, getOwn(o, 'acme'));
  const crlUrl = readHttpUrl(w, getOwn(o, 'crlUrl'), '$.crlUrl');
  const ocspUrl = readHttpUrl(w, getOwn(o, 'ocspUrl'), '$.ocspUrl');
  const revocation = readRevocation(w, getOwn(o, 'revocation'));
  const spiffe = readSpiffe(w, getOwn(o, 'spiffe'));
  const logLevel = getOwn(o, 'logLevel') === undefined ? 'info' : w.oneOf(getOwn(o, 'logLevel'), '$.logLevel', LOG_LEVELS, 'a log level');

  if (w.problems.length > 0) return undefined;
  // Every required field was present and valid, or a problem was recorded above.
  if (name === undefined || !address || !dnsNames || root === undefined || !intermediate || intermediate.certificate === undefined || intermediate.key === undefined) return undefined;
  if (!db || !claimsRead || !provisioners || !acme || !revocation || !spiffe || logLevel === undefined) return undefined;
  return {
    version: CA_CONFIG_VERSION,
    configPath: options.configPath === undefined ? undefined : resolve(options.configPath),
    baseDir: w.baseDir,
    name,
    address: address.address,
    listen: address.listen,
    dnsNames,
    urls,
    root,
    additionalRoots,
    intermediate: { certificate: intermediate.certificate, key: intermediate.key, passwordFile: intermediate.passwordFile },
    ssh: ssh?.userKey !== undefined && ssh.hostKey !== undefined ? { userKey: ssh.userKey, hostKey: ssh.hostKey, passwordFile: ssh.passwordFile } : undefined,
    db,
    claims: claimsRead.claims,
    policy,
    provisioners,
    acme,
    crlUrl,
    ocspUrl,
    revocation,
    spiffe,
    logLevel,
  };
}

/**
 * Parses and validates a config document. Relative paths resolve against `options.baseDir`.
 * Throws ERR_JSON_MALFORMED (with line and column) for text that is not JSON, and
 * ERR_CONFIG_INVALID with every problem in `detail.problems` (`{ path, message, line, column }`)
 * otherwise; the message gives the count and the first problem. Files are not read here: see
 * {@link checkCaFiles}.
 */
export function parseCaConfig(text: string, options: ParseCaConfigOptions): CaConfig {
  const name = options.name ?? 'config';
  const { value, positions, keyPositions } = parseJson(text, { what: name, trackPositions: true, maxDepth: 16 });
  const w = new Walker(positions, keyPositions, resolve(options.baseDir));
  const config = readConfig(value, w, options);
  if (!config || w.problems.length > 0) throw configError(name, w.problems);
  return deepFreeze(config);
}

/** Reads at most `max` bytes of a file (refusing larger ones), following a directory to its signet.json. */
function readConfigBytes(path: string): { bytes: Uint8Array; file: string } {
  let file = path;
  let fd: number;
  const notFound = (e: unknown): SignetError =>
    new SignetError('ERR_CONFIG_NOT_FOUND', `config file ${file} does not exist`, {
      hint: `create a CA with \`signet ca init\`, or pass --config FILE`,
      cause: e,
    });
  try {
    if (statSync(path).isDirectory()) file = join(path, CA_CONFIG_FILE);
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(e);
    if (code === 'EACCES' || code === 'EPERM') throw new SignetError('ERR_FILE_PERMISSION', `permission denied: ${file}`, { cause: e });
    throw new SignetError('ERR_FILE_IO', `cannot read config file ${file}: ${code ?? 'I/O error'}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new SignetError('ERR_FILE_IO', `config file ${file} is a directory`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_CONFIG_BYTES) {
        throw new SignetError('ERR_INPUT_TOO_LARGE', `config file ${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
      }
    }
    return { bytes: Buffer.concat(chunks, total), file };
  } catch (e) {
    if (e instanceof SignetError) throw e;
    throw new SignetError('ERR_FILE_IO', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'I/O error'}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates a config file (at most {@link MAX_CONFIG_BYTES}, UTF-8 JSON); a directory
 * means its `signet.json`. Relative paths inside resolve against the file's directory. Throws
 * ERR_CONFIG_NOT_FOUND when there is no such file, ERR_INPUT_TOO_LARGE, ERR_JSON_MALFORMED, or
 * ERR_CONFIG_INVALID as {@link parseCaConfig} does.
 */
export function loadCaConfig(path: string): CaConfig {
  const { bytes, file } = readConfigBytes(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SignetError('ERR_JSON_MALFORMED', `config file ${file} is not valid UTF-8`);
  }
  return parseCaConfig(text, { baseDir: dirname(resolve(file)), name: file, configPath: file });
}

// ---------------------------------------------------------------------------------------------
// The files a config refers to

/** Options of {@link checkCaFiles}. */
export interface CheckCaFilesOptions {
  /**
   * Check that the root and intermediate certificates are valid at this time (from the caller's
   * clock). Without it, the chain is checked at the latest notBefore of the two.
   */
  readonly now?: Date;
  /**
   * Also decrypt the intermediate key with `passwordFile` and check it is the key of the
   * intermediate certificate. Costs one PBKDF2 run (about half a second).
   */
  readonly decryptKey?: boolean;
}

/** What {@link checkCaFiles} found: the CA certificates, and warnings that do not stop the CA. */
export interface CaFilesReport {
  readonly root: Certificate;
  /** The roots `additionalRoots` names, in its order. */
  readonly additionalRoots: readonly Certificate[];
  readonly intermediate: Certificate;
  /** Risky but workable: an unencrypted key, a secret readable by others, an unused password file. */
  readonly warnings: readonly ConfigProblem[];
}

/** Largest certificate or key file read by {@link checkCaFiles}. */
const MAX_CA_FILE_BYTES = 1024 * 1024;

/** Reads a file for checking; records a problem and returns undefined when it cannot be read. */
function readChecked(problems: ConfigProblem[], path: string, file: string, what: string, max = MAX_CA_FILE_BYTES): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      problems.push({ path, message: `${what} ${file} is a directory` });
      return undefined;
    }
    if (st.size > max) {
      problems.push({ path, message: `${what} ${file} is larger than ${max} bytes` });
      return undefined;
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, null);
      if (n === 0) break;
      off += n;
    }
    if (off === 0) {
      problems.push({ path, message: `${what} ${file} is empty` });
      return undefined;
    }
    return buf.subarray(0, off);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? 'I/O error'})`;
    problems.push({ path, message: `${what} ${file} ${why}` });
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A secret readable by group or others deserves a warning (DESIGN.md: key files are 0600). */
function checkSecretMode(warnings: ConfigProblem[], path: string, file: string, what: string): void {
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      warnings.push({ path, message: `${what} ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it` });
    }
  } catch {
    // unreadable files are reported as problems elsewhere
  }
}

function readCertificateChecked(problems: ConfigProblem[], path: string, file: string, what: string): Certificate | undefined {
  const data = readChecked(problems, path, file, what);
  if (!data) return undefined;
  try {
    const der = looksLikePem(data) ? decodePem(Buffer.from(data).toString('latin1'), ['CERTIFICATE']).der : data;
    const cert = parseCertificate(der);
    if (cert.ext.basicConstraints?.ca !== true) {
      problems.push({ path, message: `${what} ${file} is not a CA certificate (basicConstraints cA is not set)` });
      return undefined;
    }
    return cert;
  } catch (e) {
    problems.push({ path, message: `${what} ${file} is not a certificate: ${e instanceof Error ? e.message : String(e)}` });
    return undefined;
  }
}

/** The first line of a password file, or undefined (with a problem recorded). */
function readPasswordChecked(problems: ConfigProblem[], path: string, file: string): string | undefined {
  const data = readChecked(problems, path, file, 'password file', 64 * 1024);
  if (!data) return undefined;
  const first = Buffer.from(data).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (first === '') {
    problems.push({ path, message: `password file ${file} has an empty first line` });
    return undefined;
  }
  return first;
}

/**
 * Reads `additionalRoots`: each a readable self-signed CA certificate, none the root itself or
 * listed twice. One that has expired at `now` is a warning: nothing it signed is valid any more,
 * so it can go.
 */
function checkAdditionalRoots(problems: ConfigProblem[], warnings: ConfigProblem[], config: CaConfig, root: Certificate | undefined, now: Date): Certificate[] {
  const seen = new Map<string, string>(root ? [[root.fingerprintSha256, '$.root']] : []);
  const out: Certificate[] = [];
  config.additionalRoots.forEach((file, i) => {
    const path = pathIndex('$.additionalRoots', i);
    const cert = readCertificateChecked(problems, path, file, 'additional root certificate');
    if (!cert) return;
    if (!isSelfIssued(cert)) {
      problems.push({ path, message: `additional root certificate ${file} is not self-signed: give a root, not an intermediate` });
      return;
    }
    const first = seen.get(cert.fingerprintSha256);
    if (first !== undefined) {
      problems.push({ path, message: `additional root certificate ${file} is the same certificate as ${first}` });
      return;
    }
    seen.set(cert.fingerprintSha256, path);
    if (cert.notAfter.getTime() < now.getTime()) warnings.push({ path, message: `additional root certificate ${file} expired at ${cert.notAfter.toISOString()}: nothing it signed is valid any more, remove it` });
    out.push(cert);
  });
  return out;
}

/**
 * The roots a CA publishes besides `root` ({@link CaConfig.additionalRoots}), checked as
 * {@link checkCaFiles} checks them; ERR_CONFIG_INVALID naming each problem.
 */
export function loadAdditionalRoots(config: CaConfig, root: Certificate, now: Date): Certificate[] {
  const problems: ConfigProblem[] = [];
  const roots = checkAdditionalRoots(problems, [], config, root, now);
  if (problems.length > 0) throw configError(name(config), problems);
  return roots;
}

/**
 * Checks the files a config refers to, all problems at once: the root is a readable self-signed
 * CA certificate; the intermediate is a CA certificate that chains to it (RFC 5280 §6, at
 * `options.now` when given); the intermediate key is a private key (optionally decrypted and
 * matched against the certificate); the password file and the templates are readable, and the
 * templates valid; the database path is not a directory. Throws ERR_CONFIG_INVALID with
 * `detail.problems`; returns the certificates and the warnings otherwise.
 */
export function checkCaFiles(config: CaConfig, options: CheckCaFilesOptions = {}): CaFilesReport {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];

  const root = readCertificateChecked(problems, '$.root', config.root, 'root certificate');
  if (root && !isSelfIssued(root)) problems.push({ path: '$.root', message: `root certificate ${config.root} is not self-signed: give the root, not an intermediate` });
  const additionalRoots = checkAdditionalRoots(problems, warnings, config, root, options.now ?? new Date());
  const intermediate = readCertificateChecked(problems, '$.intermediate.certificate', config.intermediate.certificate, 'intermediate certificate');
  if (root && intermediate) {
    const time = options.now ?? new Date(Math.max(root.notBefore.getTime(), intermediate.notBefore.getTime()));
    try {
      verifyChain(intermediate, { roots: [root], time });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      problems.push({ path: '$.intermediate.certificate', message: `intermediate certificate ${config.intermediate.certificate} does not chain to the root at ${formatTime(time)}: ${why}` });
    }
  }

  const keyPath = config.intermediate.key;
  const keyData = readChecked(problems, '$.intermediate.key', keyPath, 'intermediate key');
  let encrypted = false;
  let keyOk = false;
  if (keyData) {
    try {
      const info = peekKey(keyData);
      if (!info.private) {
        problems.push({ path: '$.intermediate.key', message: `intermediate key ${keyPath} is a public key; the CA needs the private key` });
      } else {
        keyOk = true;
        encrypted = info.encrypted;
        checkSecretMode(warnings, '$.intermediate.key', keyPath, 'intermediate key');
        if (!encrypted) warnings.push({ path: '$.intermediate.key', message: `intermediate key ${keyPath} is not encrypted; keys should be encrypted at rest` });
      }
    } catch (e) {
      problems.push({ path: '$.intermediate.key', message: `intermediate key ${keyPath} is not a key: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  let password: string | undefined;
  const pwFile = config.intermediate.passwordFile;
  if (pwFile !== undefined) {
    password = readPasswordChecked(problems, '$.intermediate.passwordFile', pwFile);
    if (password !== undefined) checkSecretMode(warnings, '$.intermediate.passwordFile', pwFile, 'password file');
    if (keyOk && !encrypted) warnings.push({ path: '$.intermediate.passwordFile', message: `the intermediate key is not encrypted, so password file ${pwFile} is not used` });
  }

  if (options.decryptKey && keyData && keyOk && (!encrypted || password !== undefined)) {
    try {
      const key = parsePrivateKey(keyData, encrypted ? password : undefined);
      if (intermediate && !Buffer.from(encodePublicKeyDer(key)).equals(Buffer.from(intermediate.spki))) {
        problems.push({ path: '$.intermediate.key', message: `intermediate key ${keyPath} is not the key of intermediate certificate ${config.intermediate.certificate}` });
      }
    } catch (e) {
      const wrong = e instanceof SignetError && e.code === 'ERR_KEY_WRONG_PASSWORD';
      problems.push(
        wrong
          ? { path: '$.intermediate.passwordFile', message: `password file ${pwFile ?? ''} does not decrypt intermediate key ${keyPath}` }
          : { path: '$.intermediate.key', message: `intermediate key ${keyPath} cannot be read: ${e instanceof Error ? e.message : String(e)}` },
      );
    }
  }

  if (config.ssh !== undefined) checkSshKeys(config.ssh, password, options, problems, warnings);

  config.provisioners.forEach((p, i) => {
    if (p.template === undefined) return;
    const path = `$.provisioners[${i}].template`;
    const data = readChecked(problems, path, p.template, 'template', MAX_TEMPLATE_BYTES);
    if (!data) return;
    try {
      const r = checkTemplate(data, { name: p.template });
      for (const tp of r.problems) problems.push({ path, message: `template ${p.template}: ${formatTemplateProblem(tp)}` });
    } catch (e) {
      problems.push({ path, message: e instanceof Error ? e.message : String(e) });
    }
  });

  if (config.db.type === 'sqlite') {
    try {
      if (lstatSync(config.db.path).isDirectory()) problems.push({ path: '$.db.path', message: `database ${config.db.path} is a directory` });
    } catch {
      // not created yet: the store creates it (and its directory) on start
    }
  } else {
    if (config.db.passwordFile !== undefined) readChecked(problems, '$.db.passwordFile', config.db.passwordFile, 'database password file', MAX_PASSWORD_FILE_BYTES);
    if (config.db.tls.ca !== undefined) readChecked(problems, '$.db.tls.ca', config.db.tls.ca, 'database CA certificate file', MAX_CONFIG_BYTES);
  }

  const report = name(config);
  if (problems.length > 0 || !root || !intermediate) throw configError(report, problems);
  return { root, additionalRoots, intermediate, warnings };
}

/**
 * The SSH CA keys: private, 0600, encrypted (else a warning), and with `decryptKey`, decrypted
 * with their password (ssh.passwordFile, else the intermediate's), of a type OpenSSH accepts for a
 * CA (Ed25519, ECDSA, RSA ≥ 2048), and two different keys.
 */
function checkSshKeys(ssh: NonNullable<CaConfig['ssh']>, intermediatePassword: string | undefined, options: CheckCaFilesOptions, problems: ConfigProblem[], warnings: ConfigProblem[]): void {
  let password = intermediatePassword;
  let pwPath = '$.intermediate.passwordFile';
  if (ssh.passwordFile !== undefined) {
    password = readPasswordChecked(problems, '$.ssh.passwordFile', ssh.passwordFile);
    pwPath = '$.ssh.passwordFile';
    if (password !== undefined) checkSecretMode(warnings, '$.ssh.passwordFile', ssh.passwordFile, 'password file');
  }
  const keys: KeyObject[] = [];
  for (const [field, path] of [['userKey', ssh.userKey], ['hostKey', ssh.hostKey]] as const) {
    const at = `$.ssh.${field}`;
    const what = `SSH ${field === 'userKey' ? 'user' : 'host'} CA key`;
    const data = readChecked(problems, at, path, what);
    if (!data) continue;
    let encrypted: boolean;
    try {
      const info = peekKey(data);
      if (!info.private) {
        problems.push({ path: at, message: `${what} ${path} is a public key; the CA needs the private key` });
        continue;
      }
      encrypted = info.encrypted;
    } catch (e) {
      problems.push({ path: at, message: `${what} ${path} is not a key: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    checkSecretMode(warnings, at, path, what);
    if (!encrypted) warnings.push({ path: at, message: `${what} ${path} is not encrypted; keys should be encrypted at rest` });
    if (!options.decryptKey || (encrypted && password === undefined)) continue;
    try {
      const key = parsePrivateKey(data, encrypted ? password : undefined);
      publicKeyBlob(key); // a type OpenSSH takes, RSA of at least 2048 bits
      keys.push(key);
    } catch (e) {
      const wrong = e instanceof SignetError && e.code === 'ERR_KEY_WRONG_PASSWORD';
      problems.push(wrong ? { path: pwPath, message: `the password does not decrypt ${what} ${path}` } : { path: at, message: `${what} ${path} cannot sign SSH certificates: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const [user, host] = keys;
  if (user !== undefined && host !== undefined && createPublicKey(user).equals(createPublicKey(host))) {
    problems.push({ path: '$.ssh.hostKey', message: `${ssh.hostKey} is the same key as ${ssh.userKey}: user and host certificates need separate CA keys` });
  }
}

/** How a config is named in messages: its file, or `config`. */
function name(config: CaConfig): string {
  return config.configPath ?? 'config';
}

/**
 * The claims key-type name of a key (`EC P-256`, `Ed25519`, `RSA 2048`, …), for checking a
 * request's key against {@link Claims.keyTypes}; undefined for keys no claim can allow
 * (RSA-PSS, other RSA sizes).
 */
export function keyTypeName(key: KeyObject): KeyTypeName | undefined {
  // From the key's own details (no export, no hashing: this runs on every issuance).
  const d = key.asymmetricKeyDetails;
  let name: string | undefined;
  switch (key.asymmetricKeyType) {
    case 'ec':
      name = d?.namedCurve === undefined ? undefined : EC_CURVE_NAMES[d.namedCurve];
      break;
    case 'ed25519':
      name = 'Ed25519';
      break;
    case 'rsa':
      name = d?.modulusLength === undefined ? undefined : `RSA ${d.modulusLength}`;
      break;
    default:
      name = undefined;
  }
  return name !== undefined && (KEY_TYPE_NAMES as readonly string[]).includes(name) ? (name as KeyTypeName) : undefined;
}

/** node:crypto's curve names → the names claims use. */
const EC_CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'EC P-256', secp384r1: 'EC P-384', secp521r1: 'EC P-521' };
