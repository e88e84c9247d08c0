/**
 * The authority (DESIGN.md "the one place that decides and signs"): every edge turns a protocol
 * request into a call here, and this runs the pipeline — authenticate the token, check the CSR
 * against what the token authorizes, authorize against policy, build from the provisioner's
 * template, lint, sign, and record the certificate, the token's use and the audit event in one
 * transaction. A refusal at any step writes nothing but its audit event.
 */
import { createHash, createPublicKey, randomInt, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { formatDuration, parseTime } from '../core/duration.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { hasTerminalControls } from '../core/escape.js';
import type { Signer } from '../crypto/signer.js';
import { issuerFromCertificate, type IssuerInfo } from '../x509/certificate-builder.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { crlPartitionUrl } from '../revocation/crl.js';
import { parseCsr, verifyCsrSignature, type ParsedCsr } from '../x509/csr.js';
import { children, readSingle } from '../x509/der-reader.js';
import { decodeOid } from '../x509/decode-names.js';
import { OID } from '../x509/oids.js';
import { parseGeneralName, type GeneralName } from '../x509/general-name.js';
import { prepareLintedCertificate, signPrepared, type IssuedCertificate, type PreparedCertificate } from '../x509/issue.js';
import { getDefaultTemplate, parseTemplate, renderTemplate, templateToSpec, type CertificateTemplate } from '../x509/template/index.js';
import { defaultLeafRenderer, type LeafRenderer } from '../x509/template/fast-leaf.js';
import type { AuthorityOutcome } from '../server/metrics.js';
import type { CaConfig, CaProvisioner } from './config.js';
import { keyTypeName, type KeyTypeName } from './config.js';
import { OidcVerifier } from './oidc.js';
import { checkAll, compilePolicy, compileSshPolicies, type Policy, type SshPolicies } from './policy.js';
import { specFromProfile } from '../x509/profiles.js';
import { parseSubject } from '../x509/name.js';
import { verifyRenewalToken, verifySshPopToken, verifyToken, type TokenClaims, type TokenProvisioner } from './token.js';
import type { CertificateName, CertificateRecord, Store, StoreTx, TokenUse } from '../store/store.js';
import { isCanonicalSerial, serialHex } from '../store/validation.js';
import { CRL_REASONS } from '../x509/crl.js';
import { parseSshCertificate, signSshCertificate, type SshCertificate, type SshCertificateType } from '../ssh/certificate.js';
import { parsePublicKeyBlob } from '../ssh/keys.js';
import { buildKrl } from '../ssh/krl.js';
import { parseSpiffeId } from '../spiffe/id.js';
import { servedTrustDomains, type TrustDomainService } from '../spiffe/trust-domain.js';
import { hostPolicyNames, randomSshSerial, SSH_PROFILES, sshLifetimeBounds, sshPrincipals, sshSerialHex, sshTokenCertType, sshValidity } from '../ssh/issue.js';

/** What the authority needs to run. */
export interface AuthorityOptions {
  readonly config: CaConfig;
  readonly store: Store;
  /** The issuing intermediate's certificate (DER) and its signer (the key seam). */
  readonly intermediate: Uint8Array;
  readonly signer: Signer;
  /** The root certificate (DER). */
  readonly root: Uint8Array;
  /** Further roots the CA publishes (a rollover's next or previous root, DER): tokens bound to one of them are accepted too. */
  readonly additionalRoots?: readonly Uint8Array[];
  readonly clock: Clock;
  /** Called after every decision, for metrics. */
  readonly observe?: (o: AuthorityOutcome) => void;
  /**
   * CRL partitions the CA publishes (`revocation.crl.shards` as the CA started; default 1): with
   * N > 1, each certificate names one of `crlUrl/1` … `crlUrl/N`, picked at random.
   */
  readonly crlShards?: number;
  /** The SSH CA keys (private), when the config has `ssh`. */
  readonly sshKeys?: { readonly user: KeyObject; readonly host: KeyObject };
  /** The served SPIFFE trust domains' JWT signers (the runtime makes them; see src/spiffe/trust-domain.ts). */
  readonly trustDomains?: ReadonlyMap<string, TrustDomainService>;
}

/** A JWT-SVID request authenticated by a one-time token (`POST /spiffe/jwt-svid`). */
export interface JwtSvidRequest {
  /** A one-time token whose only SAN is the SPIFFE ID. */
  readonly token: string;
  /** The URLs this endpoint is reached at: the token's `aud` must be one. */
  readonly audience: readonly string[];
  /** The JWT-SVID's own audiences (`aud`): who will accept it. */
  readonly svidAudience: readonly string[];
  /** Its lifetime (the provisioner's JWT-SVID default when absent). */
  readonly lifetimeMs?: number;
}

/** A minted JWT-SVID. */
export interface JwtSvidResult {
  readonly token: string;
  readonly spiffeId: string;
  readonly kid: string;
  readonly expiresAt: Date;
}

/** One X509-SVID of a batch ({@link Authority.issueX509Svids}). */
export interface X509SvidRequest {
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  /** A PKCS#10 request (DER) for the workload's key: its signature is checked, its names ignored. */
  readonly csr: Uint8Array;
  /** Default: {@link DEFAULT_X509_SVID_TTL_MS}. */
  readonly ttlMs?: number;
  /** The registration entry it is for (recorded in the audit event). */
  readonly entryId?: string;
}

/** An issued X509-SVID, or why this one of the batch was refused. */
export type X509SvidOutcome = { readonly ok: true; readonly spiffeId: string; readonly certificate: Uint8Array; readonly chain: readonly Uint8Array[]; readonly record: CertificateRecord } | { readonly ok: false; readonly error: SignetError };

/** A certificate linted and not yet signed, with its inventory row but for the DER. */
interface Prepared {
  readonly prepared: PreparedCertificate;
  readonly record: Omit<CertificateRecord, 'der'>;
}

/** A signed certificate and its inventory row, not yet recorded. */
interface Signed {
  readonly issued: IssuedCertificate;
  readonly record: CertificateRecord;
}

/** X509-SVID lifetime when the entry names none (SPIRE's default). */
export const DEFAULT_X509_SVID_TTL_MS = 3_600_000;

/** The inventory's provisioner name of SVIDs issued for registration entries. */
export const SPIFFE_ISSUER = 'spiffe';

/** Most audiences one JWT-SVID names, and the longest one. */
const MAX_SVID_AUDIENCES = 16;
const MAX_SVID_AUDIENCE_LENGTH = 512;

/** An SSH certificate request authenticated by a one-time token (`POST /ssh/sign`). */
export interface SshSignRequest {
  /** The key blob (RFC 4253 §6.6) to certify. */
  readonly publicKey: Uint8Array;
  readonly token: string;
  /** The URLs a token for this endpoint may name as `aud`. */
  readonly audience: readonly string[];
  /** `user` or `host`; default: what the token authorizes. */
  readonly certType?: SshCertificateType;
  /** A subset of the token's principals; default: all of them. */
  readonly principals?: readonly string[];
  /** Requested validity (a time, or text `parseTime` reads); the provisioner's SSH claims bound it. */
  readonly validAfter?: Date | string;
  readonly validBefore?: Date | string;
}

/** An issued SSH certificate and its inventory record. */
export interface SshSignResult {
  /** The certificate blob (`*-cert-v01@openssh.com`). */
  readonly certificate: Uint8Array;
  readonly record: CertificateRecord;
}

/** A certificate request authenticated by a one-time token (`POST /sign`). */
export interface SignRequest {
  /** DER of the PKCS#10 request. */
  readonly csr: Uint8Array;
  /** The one-time token (compact JWS). */
  readonly token: string;
  /** The URLs a token for this endpoint may name as `aud` (one per name the CA answers to). */
  readonly audience: readonly string[];
  /**
   * Requested validity, a time or text `parseTime` reads (RFC 3339, or relative like `+2h`,
   * resolved at the authority's time of the request); the provisioner's claims bound it.
   */
  readonly notBefore?: Date | string;
  readonly notAfter?: Date | string;
}

/** An issued certificate and its inventory record. */
export interface SignResult {
  readonly certificate: Uint8Array;
  /** Intermediates from the issuer up to (not including) the root. */
  readonly chain: readonly Uint8Array[];
  readonly record: CertificateRecord;
}

/** A renewal (`POST /renew`): the client proves possession of the current certificate's key. */
export interface RenewRequest {
  /** The client certificate of the TLS connection (DER), when it presented one. */
  readonly clientCertificate?: Uint8Array;
  /** A renewal token (`Authorization: Bearer`), for a certificate that mTLS cannot present. */
  readonly renewalToken?: string;
  /** The URLs a renewal token may name as `aud`. */
  readonly audience: readonly string[];
}

/** A rekey (`POST /rekey`): mTLS with the current certificate, and a CSR for the new key. */
export interface RekeyRequest {
  readonly clientCertificate?: Uint8Array;
  /** DER of the PKCS#10 request for the new key. */
  readonly csr: Uint8Array;
}

/** A revocation (`POST /revoke`): by the certificate's holder (mTLS) or with a one-time token whose `sub` is the serial. */
export interface RevokeRequest {
  /** The serial, hex (colons and upper case accepted). */
  readonly serial: string;
  /** An RFC 5280 §5.3.1 reason name (not `removeFromCRL`). */
  readonly reason?: string;
  readonly clientCertificate?: Uint8Array;
  readonly token?: string;
  /** The URLs a revocation token may name as `aud`. */
  readonly audience: readonly string[];
}

/** An ACME finalize (RFC 8555 §7.4): the order's identifiers are authorized, the CSR must ask for exactly them. */
export interface AcmeIssueRequest {
  /** The ACME provisioner. */
  readonly provisioner: string;
  /** Who asks, as the inventory and audit log record it (`acme:<account URL>`). */
  readonly requester: string;
  /** DER of the PKCS#10 request. */
  readonly csr: Uint8Array;
  /** The order's identifiers (DNS names, with `*.` for wildcards, and IP addresses). */
  readonly identifiers: readonly { readonly type: 'dns' | 'ip'; readonly value: string }[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** ARI (RFC 9773 §5): the serial of the certificate this one replaces; recorded as its replaced-by, once. */
  readonly replaces?: string;
  /** Runs in the issuance's transaction (the order becomes valid with the certificate, or neither happens). */
  readonly inTx: (tx: StoreTx, record: CertificateRecord) => Promise<void>;
}

/** The revocation reasons a request may give (RFC 5280 §5.3.1; removeFromCRL is for delta CRLs only). */
export const REVOCATION_REASONS: readonly string[] = Object.freeze(Object.values(CRL_REASONS).filter((r) => r !== 'removeFromCRL'));

/** What the template, policy and lifetime steps build a certificate from. */
interface BuildInput {
  /** The subject CN the template gets (the token subject). */
  readonly subject: string;
  readonly sans: readonly GeneralName[];
  readonly publicKey: KeyObject;
  /** The key's SubjectPublicKeyInfo DER when the request already holds it (spares exporting the key again). */
  readonly spki?: Uint8Array;
  /** The token's claims (for templates); a reissue passes the recorded subject and names. */
  readonly token: Readonly<Record<string, unknown>>;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

interface ProvisionerRuntime {
  readonly provisioner: CaProvisioner;
  readonly policy: Policy;
  readonly sshPolicy: SshPolicies;
  readonly template: CertificateTemplate;
  readonly templateName: string;
  /** The default leaf template without the template engine (same request), when the provisioner uses it. */
  /** The default leaf template, pre-compiled: one renderer per CRL partition (index = partition). */
  readonly leaf?: readonly LeafRenderer[];
}

/** Who signs, for {@link Authority} internals: a provisioner's runtime, or the SPIFFE issuer. */
type Signing = Pick<ProvisionerRuntime, 'policy' | 'templateName'> & { readonly provisioner: { readonly name: string } };

function sanKey(n: GeneralName): string {
  if (n.type === 'dns' || n.type === 'email') return `${n.type}:${n.value.toLowerCase()}`;
  if (n.type === 'dirName' || n.type === 'other') return `${n.type}:?`;
  return `${n.type}:${n.value}`;
}

function recordNames(commonName: string | undefined, sans: readonly GeneralName[]): CertificateName[] {
  const names: CertificateName[] = [];
  if (commonName !== undefined) names.push({ type: 'cn', value: commonName });
  for (const s of sans) {
    if (s.type === 'dns' || s.type === 'ip' || s.type === 'email' || s.type === 'uri') names.push({ type: s.type, value: s.value });
  }
  return names;
}

/** The pipeline behind every issuance edge. */
export class Authority {
  readonly #options: AuthorityOptions;
  readonly #issuer: IssuerInfo;
  readonly #authorityPolicy: Policy;
  readonly #authoritySshPolicy: SshPolicies;
  readonly #provisioners: ReadonlyMap<string, ProvisionerRuntime>;
  readonly #chain: readonly Uint8Array[];
  readonly #issuerSerial: string;
  /** The SPIFFE trust domains the intermediate serves: those of its `spiffe://<trust domain>` URI SANs (`ca init --trust-domain`). */
  readonly #trustDomains: readonly string[];
  readonly #crlShards: number;
  /** CRL partition by the URL a certificate names (partitions 1…N, or 0 when there are none). */
  readonly #shardByUrl: ReadonlyMap<string, number>;
  readonly #rootFingerprint: string;
  /** The fingerprints of every published root (the root and the additional ones): what a token's root fingerprint may name. */
  readonly #rootFingerprints: ReadonlySet<string>;
  /** The SSH CA's public keys, derived once. */
  #sshPublic: { readonly user: KeyObject; readonly host: KeyObject } | undefined;
  /** An ID token verifier per OIDC provisioner (each caches its provider's keys). */
  readonly #oidc = new Map<string, OidcVerifier>();
  /** The last KRL built, by the revocation sequence it reflects. */
  #krl: { readonly krl: Uint8Array; readonly version: bigint } | undefined;

  /** Compiles policies and loads templates once; a bad template or policy throws here, at start. */
  constructor(options: AuthorityOptions) {
    this.#options = options;
    this.#issuer = issuerFromCertificate(options.intermediate);
    const intermediateCert = parseCertificate(options.intermediate);
    this.#issuerSerial = intermediateCert.serialHex;
    this.#trustDomains = servedTrustDomains(intermediateCert);
    this.#chain = [options.intermediate];
    this.#rootFingerprint = createHash('sha256').update(options.root).digest('hex');
    this.#rootFingerprints = new Set([this.#rootFingerprint, ...(options.additionalRoots ?? []).map((r) => createHash('sha256').update(r).digest('hex'))]);
    this.#authorityPolicy = compilePolicy(options.config.policy, { name: 'authority' });
    this.#authoritySshPolicy = compileSshPolicies(options.config.policy, { name: 'authority' });
    const map = new Map<string, ProvisionerRuntime>();
    this.#crlShards = options.crlShards ?? 1;
    const shards = this.#crlShards > 1 ? Array.from({ length: this.#crlShards }, (_, i) => i + 1) : [0];
    this.#shardByUrl = new Map(shards.flatMap((k) => (this.#crlUrl(k) === undefined ? [] : [[this.#crlUrl(k) as string, k] as const])));
    const renderers: (LeafRenderer | undefined)[] = [];
    for (const k of shards) renderers[k] = defaultLeafRenderer(this.#templateData(k));
    const leaf = shards.every((k) => renderers[k] !== undefined) ? (renderers as LeafRenderer[]) : undefined;
    for (const p of options.config.provisioners) {
      if (p.type === 'OIDC') this.#oidc.set(p.name, new OidcVerifier(p));
      const template = p.template !== undefined ? parseTemplate(readFileSync(p.template), { name: p.template }) : getDefaultTemplate('leaf');
      map.set(p.name, {
        provisioner: p,
        policy: compilePolicy(p.policy, { name: `provisioner ${p.name}` }),
        sshPolicy: compileSshPolicies(p.policy, { name: `provisioner ${p.name}` }),
        template,
        templateName: p.template ?? 'leaf',
        ...(p.template === undefined && leaf !== undefined ? { leaf } : {}),
      });
    }
    this.#provisioners = map;
  }

  /** The authority's time (requests with relative times resolve against it). */
  now(): Date {
    return this.#options.clock.now();
  }

  /** The configuration this authority was built from. */
  get config(): CaConfig {
    return this.#options.config;
  }

  /** SHA-256 of the root certificate, lower-case hex (what tokens carry as `sha`). */
  get rootFingerprint(): string {
    return this.#rootFingerprint;
  }

  /**
   * Issues a certificate for a CSR authorized by a one-time token. Refusals (each a
   * SignetError with its code) are audited and leave no inventory row and no used token.
   */
  async sign(request: SignRequest): Promise<SignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let claims: TokenClaims | undefined;
    try {
      claims = verifyToken(request.token, {
        provisioners: (name) => this.#tokenProvisioner(name),
        audience: request.audience,
        now,
      });
      const rt = this.#provisioners.get(claims.provisioner);
      if (!rt) throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `unknown provisioner "${claims.provisioner}"`);
      this.#checkRoot(claims);
      return this.#succeeded('sign', started, await this.#issue(request, claims, rt, now));
    } catch (e) {
      await this.#auditFailure('sign', started, now, claims?.subject, claims?.provisioner, undefined, e);
      throw e;
    }
  }

  /**
   * Issues an SSH certificate for a public key authorized by a one-time token whose `ssh` claim
   * names the kind (user or host) and whose `sans` are the principals it may carry; `sub` becomes
   * the key ID. The pipeline of {@link sign}: token, provisioner (SSH enabled, key type), the
   * principals (a subset of the token's), SSH policy (authority, then provisioner), lifetime within
   * the kind's bounds, the provisioner's SSH template (extensions, critical options), sign with the
   * user or host CA key, and one transaction for the token's use, the inventory row (profile
   * `ssh-user`/`ssh-host`, serial in hex, principals as names) and the audit event.
   */
  async signSsh(request: SshSignRequest): Promise<SshSignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let actor: string | undefined;
    let provisionerName: string | undefined;
    try {
      // Who vouches: a JWK provisioner's one-time token, or an OIDC provisioner's ID token (single sign-on).
      let rt: ProvisionerRuntime;
      let authorized: SshCertificateType;
      let keyId: string;
      let allowed: readonly string[];
      let use: TokenUse;
      const oidc = this.#oidcProvisionerOf(request.token);
      if (oidc !== undefined) {
        rt = oidc.rt;
        provisionerName = rt.provisioner.name;
        const identity = await oidc.verifier.verify(request.token, now);
        actor = identity.email;
        authorized = 'user';
        keyId = identity.email;
        allowed = identity.principals;
        use = { provisioner: rt.provisioner.name, jti: identity.jti, expiresAt: identity.rememberUntil };
        if (request.certType === 'host') throw new SignetError('ERR_FORBIDDEN_CERT_TYPE', 'a sign-in at an OpenID provider authorizes user certificates, not host certificates');
      } else {
        const claims = verifyToken(request.token, { provisioners: (name) => this.#tokenProvisioner(name), audience: request.audience, now });
        actor = claims.subject;
        provisionerName = claims.provisioner;
        const found = this.#provisioners.get(claims.provisioner);
        if (!found) throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `unknown provisioner "${claims.provisioner}"`);
        this.#checkRoot(claims);
        rt = found;
        authorized = sshTokenCertType(claims.payload);
        keyId = claims.subject;
        allowed = claims.sans;
        use = { provisioner: claims.provisioner, jti: claims.jti, expiresAt: claims.rememberUntil };
      }
      const provisioner = rt.provisioner;
      this.sshCaPublicKeys();
      if (!provisioner.claims.sshEnabled) throw new SignetError('ERR_SSH_NOT_ENABLED', `provisioner ${provisioner.name} does not issue SSH certificates`, { hint: 'set "sshEnabled": true in its claims (or the authority\'s)' });
      const type = request.certType ?? authorized;
      if (type !== authorized) throw new SignetError('ERR_FORBIDDEN_CERT_TYPE', `the token authorizes a ${authorized} certificate, not a ${type} certificate`);
      const publicKey = parsePublicKeyBlob(request.publicKey);
      const keyType = keyTypeName(publicKey);
      if (keyType === undefined || !provisioner.claims.keyTypes.includes(keyType)) {
        throw new SignetError('ERR_FORBIDDEN_KEY_TYPE', `key type ${keyType ?? 'of the public key'} is not allowed by provisioner ${provisioner.name}`, { hint: `use one of: ${provisioner.claims.keyTypes.join(', ')}` });
      }
      const principals = sshPrincipals(type, allowed, request.principals);
      if (hasTerminalControls(keyId)) throw new SignetError('ERR_FORBIDDEN_NAMES', 'the token subject (the key ID) contains control or bidirectional-override characters');
      checkAll([this.#authoritySshPolicy[type], rt.sshPolicy[type]], type === 'user' ? { sans: [], principals } : { sans: hostPolicyNames(principals) });
      const at = (t: Date | string | undefined): Date | undefined => (typeof t === 'string' ? parseTime(t, now) : t);
      const validAfter = at(request.validAfter);
      const validBefore = at(request.validBefore);
      const window = sshValidity(provisioner.claims, type, now, { ...(validAfter ? { validAfter } : {}), ...(validBefore ? { validBefore } : {}) }, provisioner.name);
      const result = await this.#issueSsh(rt, type, publicKey, keyType, keyId, principals, window, now, 'ssh.sign', { token: use }, undefined, request.publicKey);
      this.#options.observe?.({ operation: 'ssh-sign', outcome: 'success', provisioner: provisioner.name, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (e) {
      await this.#auditFailure('ssh-sign', started, now, actor, provisionerName, undefined, e);
      throw e;
    }
  }

  /**
   * Mints a JWT-SVID for the SPIFFE ID a one-time token authorizes (its only SAN; the token's
   * audience is this endpoint, so a token for a certificate cannot be spent here). The ID must be
   * of a trust domain this CA serves and pass the URI policy (authority, then provisioner); the
   * lifetime is within the provisioner's JWT-SVID claims and capped by the signing key's expiry.
   * The token's use and the audit event (`spiffe.jwt-svid`: ID, audiences, key, expiry) are one
   * transaction, so a token mints one JWT-SVID.
   */
  async mintJwtSvid(request: JwtSvidRequest): Promise<JwtSvidResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let claims: TokenClaims | undefined;
    try {
      claims = verifyToken(request.token, { provisioners: (name) => this.#tokenProvisioner(name), audience: request.audience, now });
      const rt = this.#provisioners.get(claims.provisioner);
      if (!rt) throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `unknown provisioner "${claims.provisioner}"`);
      this.#checkRoot(claims);
      if (claims.sans.length !== 1) throw new SignetError('ERR_FORBIDDEN_NAMES', `a JWT-SVID token authorizes exactly one SPIFFE ID, this one ${claims.sans.length} names`, { hint: 'mint the token with the SPIFFE ID as its only SAN' });
      const san = parseGeneralName(claims.sans[0] as string);
      if (san.type !== 'uri' || !/^spiffe:/i.test(san.value)) throw new SignetError('ERR_FORBIDDEN_NAMES', 'a JWT-SVID token\'s SAN must be a SPIFFE ID (spiffe://…)');
      const id = parseSpiffeId(san.value);
      const service = this.#options.trustDomains?.get(id.trustDomain);
      if (service === undefined) this.#checkSpiffeIds([san]);
      if (service === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', `this CA signs no JWT-SVIDs for ${id.trustDomain}`);
      checkAll([this.#authorityPolicy, rt.policy], { sans: [san] });
      const audience = request.svidAudience;
      if (audience.length === 0 || audience.length > MAX_SVID_AUDIENCES || audience.some((a) => typeof a !== 'string' || a === '' || a.length > MAX_SVID_AUDIENCE_LENGTH || hasTerminalControls(a))) {
        throw new SignetError('ERR_REQUEST_INVALID', `a JWT-SVID names 1 to ${MAX_SVID_AUDIENCES} audiences, each a string of 1 to ${MAX_SVID_AUDIENCE_LENGTH} printable characters`);
      }
      const c = rt.provisioner.claims;
      const lifetimeMs = request.lifetimeMs ?? c.jwtSvidDefaultLifetimeMs;
      if (!Number.isFinite(lifetimeMs) || lifetimeMs < c.jwtSvidMinLifetimeMs || lifetimeMs > c.jwtSvidMaxLifetimeMs) {
        throw new SignetError('ERR_LIFETIME_OUT_OF_BOUNDS', `a JWT-SVID of provisioner ${rt.provisioner.name} lives ${formatDuration(c.jwtSvidMinLifetimeMs)} to ${formatDuration(c.jwtSvidMaxLifetimeMs)}, not ${formatDuration(Math.max(0, Math.round(lifetimeMs)))}`);
      }
      const minted = await service.mint(id, audience, lifetimeMs);
      const use: TokenUse = { provisioner: claims.provisioner, jti: claims.jti, expiresAt: claims.rememberUntil };
      const actor = claims.subject;
      const provisioner = claims.provisioner;
      await this.#options.store.transaction(async (tx) => {
        if (!(await tx.tokens.consume(use))) throw new SignetError('ERR_TOKEN_REPLAYED', 'this token has already been used', { hint: 'mint a new token for each request' });
        await tx.audit.append({ time: now, type: 'spiffe.jwt-svid', outcome: 'success', actor, provisioner, detail: { spiffeId: id.toString(), audience: [...audience], kid: minted.kid, expiresAt: minted.expiresAt.toISOString() } });
      });
      this.#options.observe?.({ operation: 'jwt-svid', outcome: 'success', provisioner, seconds: (performance.now() - started) / 1000 });
      return { token: minted.token, spiffeId: id.toString(), kid: minted.kid, expiresAt: minted.expiresAt };
    } catch (e) {
      await this.#auditFailure('jwt-svid', started, now, claims?.subject, claims?.provisioner, undefined, e);
      throw e;
    }
  }

  /**
   * Issues a batch of X509-SVIDs (what an agent asks for, for the entries it serves) through the
   * authority pipeline — the CSR's signature and key type, the authority's policy, the SPIFFE
   * checks, lint — and records every issued one with its audit event (`spiffe.x509-svid`, with the
   * entry and the requester) in one transaction. An item that is refused gets its error; the
   * others are issued. The caller has decided that `requester` may have these IDs.
   */
  async issueX509Svids(requests: readonly X509SvidRequest[], requester: string): Promise<X509SvidOutcome[]> {
    const now = this.#options.clock.now();
    const started = performance.now();
    const claims = this.#options.config.claims;
    // In phases over the whole batch — every CSR checked, then every certificate built and linted,
    // then every one signed — so that each phase's code and OpenSSL's tables stay in the
    // processor's caches (measured here: 441 against 497 µs an SVID interleaved, best of 12 batches).
    type Step = { readonly ok: true; readonly r: X509SvidRequest; readonly csr: ParsedCsr; readonly keyType: KeyTypeName } | { readonly ok: false; readonly error: SignetError };
    const attempt = <T>(f: () => T): T | { readonly ok: false; readonly error: SignetError } => {
      try {
        return f();
      } catch (e) {
        if (!isSignetError(e)) throw e;
        return { ok: false, error: e };
      }
    };
    const checked: Step[] = requests.map((r) => attempt(() => ({ ok: true as const, r, ...this.checkSvidCsr(r.csr) })));
    const prepared = checked.map((c) => {
      if (!c.ok) return c;
      return attempt(() => {
        const ttl = c.r.ttlMs ?? DEFAULT_X509_SVID_TTL_MS;
        const sans: GeneralName[] = [{ type: 'uri', value: c.r.spiffeId }, ...c.r.dnsNames.map((d): GeneralName => ({ type: 'dns', value: d }))];
        const spec = specFromProfile('leaf', { subject: parseSubject(''), publicKey: c.csr.spki, now, notBefore: new Date(now.getTime() - claims.backdateMs), notAfter: new Date(now.getTime() + ttl), sans, extKeyUsage: ['serverAuth', 'clientAuth'] });
        return { ok: true as const, r: c.r, p: this.#prepare(this.#svidSigning, spec, c.csr.publicKey, c.keyType, requester, now) };
      });
    });
    const out: X509SvidOutcome[] = [];
    const signed: { record: CertificateRecord; entryId?: string }[] = [];
    for (const p of prepared) {
      if (!p.ok) {
        out.push(p);
        continue;
      }
      const { issued, record } = this.#sign(p.p);
      signed.push({ record, ...(p.r.entryId !== undefined ? { entryId: p.r.entryId } : {}) });
      out.push({ ok: true, spiffeId: p.r.spiffeId, certificate: issued.der, chain: this.#chain, record });
    }
    if (signed.length > 0) {
      await this.#options.store.transaction(async (tx) => {
        for (const { record, entryId } of signed) {
          await tx.certificates.insert(record);
          await tx.audit.append({ time: now, type: 'spiffe.x509-svid', outcome: 'success', actor: requester, provisioner: record.provisioner, serial: record.serial, detail: { spiffeId: record.names.find((n) => n.type === 'uri')?.value ?? '', ...(entryId !== undefined ? { entry: entryId } : {}), notAfter: record.notAfter.toISOString() } });
        }
      });
    }
    const seconds = (performance.now() - started) / 1000 / Math.max(1, requests.length);
    for (const o of out) this.#options.observe?.({ operation: 'x509-svid', outcome: o.ok ? 'success' : 'failure', provisioner: SPIFFE_ISSUER, ...(o.ok ? {} : { code: o.error.code }), seconds });
    return out;
  }

  /** The authority's name policy on a SPIFFE ID (what a JWT-SVID for a registration entry passes; X509-SVIDs pass it when signed). */
  checkSvidPolicy(spiffeId: string): void {
    checkAll([this.#authorityPolicy], { sans: [{ type: 'uri', value: spiffeId }] });
  }

  /**
   * What {@link issueX509Svids} checks of a request before anything else: a parseable CSR whose
   * signature verifies, for a key type the authority's claims allow. Callers that spend something
   * first (a join token, a proof of possession) check it before.
   */
  checkSvidCsr(der: Uint8Array): { readonly csr: ParsedCsr; readonly keyType: KeyTypeName } {
    const csr = parseCsr(der);
    verifyCsrSignature(csr);
    const keyTypes = this.#options.config.claims.keyTypes;
    const keyType = csrKeyType(csr);
    if (keyType === undefined || !keyTypes.includes(keyType)) throw new SignetError('ERR_FORBIDDEN_KEY_TYPE', `key type ${keyType ?? 'of the CSR'} is not allowed (claims.keyTypes: ${keyTypes.join(', ')})`);
    return { csr, keyType };
  }

  /** The signer of SVIDs issued for registration entries: the authority's policy only, recorded as provisioner `spiffe`, profile `x509-svid`. */
  readonly #svidSigning: Signing = { provisioner: { name: SPIFFE_ISSUER }, policy: compilePolicy(undefined, { name: SPIFFE_ISSUER }), templateName: 'x509-svid' };

  /**
   * Authenticates a client by its X509-SVID: a certificate this CA issued, valid now, not revoked,
   * with a SPIFFE ID (`noId` is the code when it has none). Resolves its inventory row and ID.
   */
  async authenticateSvid(der: Uint8Array | undefined, noId: 'ERR_FORBIDDEN_NOT_ADMIN' | 'ERR_AUTH_CERTIFICATE' = 'ERR_AUTH_CERTIFICATE'): Promise<{ readonly record: CertificateRecord; readonly spiffeId: string }> {
    const record = await this.#authenticate(der, this.#options.clock.now());
    if (record.status === 'revoked') throw new SignetError('ERR_CERT_REVOKED', 'the client certificate is revoked');
    const spiffeId = record.names.find((n) => n.type === 'uri' && n.value.startsWith('spiffe://'))?.value;
    if (spiffeId === undefined) throw new SignetError(noId, 'this request needs an X509-SVID (a client certificate with a SPIFFE ID)');
    return { record, spiffeId };
  }

  /**
   * Authenticates a caller of the SPIFFE admin API: its client certificate must be one this CA
   * issued, valid now and not revoked, an X509-SVID whose SPIFFE ID is granted by a registration
   * entry with the admin flag (ERR_AUTH_* / ERR_CERT_REVOKED / ERR_FORBIDDEN_NOT_ADMIN). Resolves
   * the caller's SPIFFE ID.
   */
  async authenticateSpiffeAdmin(der: Uint8Array | undefined): Promise<string> {
    const { spiffeId: id } = await this.authenticateSvid(der, 'ERR_FORBIDDEN_NOT_ADMIN');
    const entries = await this.#options.store.spiffe.listEntries({ spiffeId: id }, { limit: 100 });
    if (!entries.items.some((e) => e.admin)) throw new SignetError('ERR_FORBIDDEN_NOT_ADMIN', `${id} is not an admin: no registration entry grants it with the admin flag`, { hint: 'signet entry update ID --admin' });
    return id;
  }

  /**
   * The OIDC provisioner an ID token is for, read from its (not yet verified) `iss` and `aud`: a
   * provisioner whose issuer is `iss` and whose client ID is an audience (else one whose issuer is
   * `iss`). Undefined for anything else (a JWK provisioner's token names the provisioner as `iss`).
   */
  #oidcProvisionerOf(token: string): { rt: ProvisionerRuntime; verifier: OidcVerifier } | undefined {
    if (this.#oidc.size === 0 || typeof token !== 'string' || token.length > 16_384) return undefined;
    const payload = token.split('.')[1];
    let claims: { iss?: unknown; aud?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { iss?: unknown; aud?: unknown };
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || claims === null) return undefined;
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    // The provisioner of this provider and client; else one of this provider, whose verification then names what is wrong.
    let sameIssuer: { rt: ProvisionerRuntime; verifier: OidcVerifier } | undefined;
    for (const [name, verifier] of this.#oidc) {
      const rt = this.#provisioners.get(name);
      const p = rt?.provisioner;
      if (rt === undefined || p?.type !== 'OIDC' || claims.iss !== p.issuer) continue;
      if (audiences.includes(p.clientId)) return { rt, verifier };
      sameIssuer ??= { rt, verifier };
    }
    return sameIssuer;
  }

  /**
   * Renews a host certificate on proof of possession of its key: an SSHPOP token signed by the
   * certified key, the certificate in its header. The certificate must be byte for byte one this
   * CA issued (a certificate of another CA, or a forged one with a known serial, is
   * ERR_AUTH_CERTIFICATE), a host certificate, not revoked or replaced, and renewable by its
   * provisioner's claims. The new certificate keeps the key, key ID, principals and lifetime (within
   * the host bounds) under the provisioner's current template and policy, and replaces the old one.
   */
  async renewSsh(request: { readonly token: string; readonly audience: readonly string[] }): Promise<SshSignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let old: CertificateRecord | undefined;
    try {
      const { user: userCa, host: hostCa } = this.sshCaPublicKeys();
      let presented: SshCertificate | undefined;
      const claims = verifySshPopToken(request.token, {
        audience: request.audience,
        now,
        certificateKey: (blob) => {
          try {
            presented = parseSshCertificate(blob);
          } catch {
            throw new SignetError('ERR_AUTH_CERTIFICATE', 'the SSH certificate in the token cannot be read, or its signature does not verify');
          }
          if (!presented.caKey.equals(hostCa) && !presented.caKey.equals(userCa)) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the SSH certificate was not issued by this CA');
          return presented.publicKey;
        },
      });
      const cert = presented as SshCertificate;
      const record = await this.#options.store.certificates.get(sshSerialHex(cert.serial));
      if (record === undefined || !Buffer.from(record.der).equals(Buffer.from(cert.blob))) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the SSH certificate was not issued by this CA');
      old = record;
      if (claims.subject.toLowerCase() !== record.serial) throw new SignetError('ERR_TOKEN_SUBJECT', 'the renewal token names another certificate than the one it carries');
      if (record.profile !== SSH_PROFILES.host) throw new SignetError('ERR_RENEWAL_NOT_ALLOWED', 'only host certificates renew by proof of possession; a user gets a new certificate with `signet ssh login`');
      if (now < record.notBefore) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the SSH certificate is not yet valid');
      const rt = this.#renewable(record, now);
      if (!rt.provisioner.claims.sshEnabled) throw new SignetError('ERR_SSH_NOT_ENABLED', `provisioner ${rt.provisioner.name} no longer issues SSH certificates`);
      checkAll([this.#authoritySshPolicy.host, rt.sshPolicy.host], { sans: hostPolicyNames(cert.principals) });
      const bounds = sshLifetimeBounds(rt.provisioner.claims, 'host');
      const lifetime = Math.min(bounds.max, Math.max(bounds.min, record.notAfter.getTime() - record.issuedAt.getTime()));
      const window = sshValidity(rt.provisioner.claims, 'host', now, { validBefore: new Date(now.getTime() + lifetime) }, rt.provisioner.name);
      const result = await this.#issueSsh(
        rt,
        'host',
        cert.publicKey,
        record.keyType,
        cert.keyId,
        cert.principals,
        window,
        now,
        'ssh.renew',
        async (tx) => {
          const current = await tx.certificates.get(record.serial);
          if (current?.status === 'revoked') throw new SignetError('ERR_CERT_REVOKED', `certificate ${record.serial} is revoked`);
          if (!(await tx.tokens.consume({ provisioner: record.provisioner, jti: claims.jti, expiresAt: claims.rememberUntil }))) {
            throw new SignetError('ERR_TOKEN_REPLAYED', 'this renewal token has already been used', { hint: 'mint a new renewal token for each request' });
          }
        },
        record.serial,
      );
      this.#options.observe?.({ operation: 'ssh-renew', outcome: 'success', provisioner: rt.provisioner.name, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (e) {
      await this.#auditFailure('ssh-renew', started, now, old?.requester, old?.provisioner, old?.serial, e);
      throw e;
    }
  }

  /** Signs an SSH certificate with the provisioner's template and records it (see {@link #commit}). */
  async #issueSsh(
    rt: ProvisionerRuntime,
    type: SshCertificateType,
    publicKey: KeyObject,
    keyType: string,
    keyId: string,
    principals: readonly string[],
    window: { readonly validAfter: Date; readonly validBefore: Date },
    now: Date,
    event: string,
    inTx: { readonly token: TokenUse } | ((tx: StoreTx, record: CertificateRecord) => Promise<void>),
    replaces?: string,
    publicKeyBlob?: Uint8Array,
  ): Promise<SshSignResult> {
    const keys = this.#sshKeys();
    const provisioner = rt.provisioner;
    const template = provisioner.type !== 'ACME' ? provisioner.sshTemplate[type] : { extensions: {}, criticalOptions: {} };
    const serial = randomSshSerial();
    const blob = signSshCertificate(
      {
        publicKey,
        ...(publicKeyBlob !== undefined ? { publicKeyBlob } : {}),
        type,
        serial,
        keyId,
        principals,
        validAfter: BigInt(window.validAfter.getTime() / 1000),
        validBefore: BigInt(window.validBefore.getTime() / 1000),
        criticalOptions: template.criticalOptions,
        extensions: template.extensions,
      },
      type === 'user' ? keys.user : keys.host,
    );
    const record: CertificateRecord = {
      serial: sshSerialHex(serial),
      subject: keyId,
      // Principals are recorded as names: a host's as DNS names and IP addresses, a user's as common names (exact text).
      names: type === 'host' ? hostPolicyNames(principals) : principals.map((p) => ({ type: 'cn' as const, value: p })),
      notBefore: window.validAfter,
      notAfter: window.validBefore,
      keyFingerprint: createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex'),
      keyType,
      provisioner: provisioner.name,
      requester: keyId,
      profile: SSH_PROFILES[type],
      status: 'valid',
      ...(replaces !== undefined ? { replaces } : {}),
      issuedAt: now,
      der: blob,
    };
    await this.#commit(record, event, inTx, replaces);
    return { certificate: blob, record };
  }

  /**
   * The KRL of the SSH CA: the serials of every revoked SSH certificate that has not expired, per
   * CA key (user, host). Its version is the store's revocation sequence (monotonic across
   * replicas); it is built again only when that moved.
   */
  async sshKrl(): Promise<{ readonly krl: Uint8Array; readonly version: bigint }> {
    const keys = this.sshCaPublicKeys();
    const store = this.#options.store;
    const version = await store.revocations.sequence();
    const cached = this.#krl;
    if (cached !== undefined && cached.version === version) return cached;
    const now = this.#options.clock.now();
    const revoked = async (profile: string): Promise<bigint[]> => {
      const out: bigint[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.certificates.listStates({ status: 'revoked', profile, expiresAfter: now }, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
        for (const r of page.items) out.push(BigInt(`0x${r.serial}`));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return out;
    };
    const krl = buildKrl({
      version,
      generatedAt: now,
      comment: `${this.#options.config.name} SSH KRL`,
      certificates: [
        { ca: keys.user, serials: await revoked(SSH_PROFILES.user) },
        { ca: keys.host, serials: await revoked(SSH_PROFILES.host) },
      ],
    });
    this.#krl = { krl, version };
    return this.#krl;
  }

  /** The SSH CA's private keys; ERR_SSH_NOT_ENABLED when the CA has none. */
  #sshKeys(): { readonly user: KeyObject; readonly host: KeyObject } {
    const keys = this.#options.sshKeys;
    if (keys === undefined) throw new SignetError('ERR_SSH_NOT_ENABLED', 'this CA has no SSH certificate authority', { hint: 'the operator adds one with `signet ca ssh enable`' });
    return keys;
  }

  /** The public keys of the SSH CA (user, host); ERR_SSH_NOT_ENABLED when it has none. */
  sshCaPublicKeys(): { readonly user: KeyObject; readonly host: KeyObject } {
    const keys = this.#sshKeys();
    this.#sshPublic ??= { user: createPublicKey(keys.user), host: createPublicKey(keys.host) };
    return this.#sshPublic;
  }

  /**
   * Refuses identifiers the authority's or the provisioner's policy denies (ERR_POLICY_DENIED),
   * before an ACME order is created for them; the same check runs again on the certificate.
   */
  checkAcmeIdentifiers(provisioner: string, identifiers: readonly { readonly type: 'dns' | 'ip'; readonly value: string }[]): void {
    const rt = this.#acmeRuntime(provisioner);
    checkAll([this.#authorityPolicy, rt.policy], { sans: identifiers.map((i) => ({ type: i.type, value: i.value })) });
  }

  /** The named ACME provisioner's runtime (ERR_ACME_NOT_FOUND for none, or one of another type). */
  #acmeRuntime(name: string): ProvisionerRuntime {
    const rt = this.#provisioners.get(name);
    if (rt?.provisioner.type !== 'ACME') throw new SignetError('ERR_ACME_NOT_FOUND', `no ACME provisioner "${name}"`);
    return rt;
  }

  /** Issues the certificate of an ACME order whose authorizations are all valid. */
  async issueAcme(request: AcmeIssueRequest): Promise<SignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    try {
      const rt = this.#acmeRuntime(request.provisioner);
      let csr: ParsedCsr;
      try {
        csr = parseCsr(request.csr);
        verifyCsrSignature(csr);
      } catch (e) {
        throw new SignetError('ERR_ACME_BAD_CSR', `the CSR cannot be used: ${isSignetError(e) ? e.message : 'malformed'}`, { cause: e });
      }
      // RFC 8555 §7.4: the CSR names exactly the order's identifiers, in SANs; a CN must be one of them.
      const want = new Map(request.identifiers.map((i) => [i.type === 'dns' ? `dns:${i.value.toLowerCase()}` : `ip:${i.value}`, i]));
      const got = csr.subjectAltNames.map((n) => ({ key: sanKey(n), name: n }));
      const other = got.filter((g) => g.name.type !== 'dns' && g.name.type !== 'ip');
      if (other.length > 0) throw new SignetError('ERR_ACME_BAD_CSR', `the CSR asks for names an ACME order cannot authorize: ${other.map((o) => o.key).join(', ')}`);
      const gotKeys = new Set(got.map((g) => g.key));
      const extra = [...gotKeys].filter((k) => !want.has(k));
      const missing = [...want.keys()].filter((k) => !gotKeys.has(k));
      if (extra.length > 0 || missing.length > 0) {
        throw new SignetError('ERR_ACME_BAD_CSR', `the CSR's names differ from the order's identifiers: ${[...extra.map((k) => `unauthorized ${k}`), ...missing.map((k) => `missing ${k}`)].join(', ')}`);
      }
      const cn = csr.subject.flat().find((a) => a.type === 'CN' || a.type === 'commonName' || a.type === '2.5.4.3')?.value;
      if (cn !== undefined && !want.has(`dns:${cn.toLowerCase()}`) && !want.has(`ip:${cn}`)) {
        throw new SignetError('ERR_ACME_BAD_CSR', `the CSR's common name "${hasTerminalControls(cn) ? '(control characters)' : cn}" is not one of the order's identifiers`);
      }
      const keyType = csrKeyType(csr);
      if (keyType === undefined || !rt.provisioner.claims.keyTypes.includes(keyType)) {
        throw new SignetError('ERR_ACME_BAD_CSR', `key type ${keyType ?? 'of the CSR'} is not allowed by provisioner ${rt.provisioner.name}; use one of: ${rt.provisioner.claims.keyTypes.join(', ')}`);
      }
      const sans = request.identifiers.map((i) => ({ type: i.type, value: i.type === 'dns' ? i.value.toLowerCase() : i.value }));
      const subject = cn ?? request.identifiers[0]?.value ?? '';
      const spec = this.#buildSpec(
        rt,
        {
          subject,
          sans,
          publicKey: csr.publicKey,
          spki: csr.spki,
          token: { sub: subject, sans: sans.map((n) => n.value), acme: { account: request.requester } },
          ...(request.notBefore !== undefined ? { notBefore: request.notBefore } : {}),
          ...(request.notAfter !== undefined ? { notAfter: request.notAfter } : {}),
        },
        now,
      );
      return this.#succeeded('sign', started, await this.#signAndRecord(rt, spec, csr.publicKey, keyType, request.requester, now, 'certificate.sign', request.inTx, request.replaces));
    } catch (e) {
      await this.#auditFailure('sign', started, now, request.requester, request.provisioner, undefined, e);
      throw e;
    }
  }

  /** The JWK provisioner whose tokens `iss: name` names (an ACME provisioner has no token key). */
  #tokenProvisioner(name: string): TokenProvisioner | undefined {
    const p = this.#provisioners.get(name)?.provisioner;
    return p?.type === 'JWK' ? { publicKey: p.publicKey, algorithms: [p.algorithm], kid: p.kid } : undefined;
  }

  /** `sha`, when the token carries it, must name this CA's root: a token minted for another CA is refused. */
  #checkRoot(claims: TokenClaims): void {
    if (claims.rootFingerprint !== undefined && !this.#rootFingerprints.has(claims.rootFingerprint)) {
      throw new SignetError('ERR_TOKEN_AUDIENCE', 'the token was minted for another CA (its root fingerprint differs)', { hint: 'mint the token with this CA\'s root' });
    }
  }

  async #issue(request: SignRequest, claims: TokenClaims, rt: ProvisionerRuntime, now: Date): Promise<SignResult> {
    const { provisioner } = rt;
    const csr = parseCsr(request.csr);
    verifyCsrSignature(csr);
    if (claims.csrFingerprint !== undefined) {
      const fp = createHash('sha256').update(csr.der).digest('hex');
      if (fp !== claims.csrFingerprint.toLowerCase()) throw new SignetError('ERR_FORBIDDEN_CSR', 'the token is bound to another certificate request (cnf)');
    }

    // The CSR must ask for exactly the names the token authorizes (RFC-style: nothing more, nothing less).
    const tokenSans = claims.sans.map((s) => parseGeneralName(s));
    const want = new Set(tokenSans.map(sanKey));
    const got = new Set(csr.subjectAltNames.map(sanKey));
    const extra = [...got].filter((k) => !want.has(k));
    const missing = [...want].filter((k) => !got.has(k));
    if (extra.length > 0 || missing.length > 0) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `the CSR's SANs differ from the token's: ${[...extra.map((k) => `unauthorized ${k}`), ...missing.map((k) => `missing ${k}`)].join(', ')}`, {
        hint: 'mint the token for exactly the SANs the CSR carries',
      });
    }
    // C0/C1 controls (ESC, NUL, CR …) and bidi overrides in a subject would end up in every log, table and terminal that shows it.
    if (hasTerminalControls(claims.subject)) throw new SignetError('ERR_FORBIDDEN_NAMES', 'the token subject contains control or bidirectional-override characters');
    const cn = csr.subject.flat().find((a) => a.type === 'CN' || a.type === 'commonName' || a.type === '2.5.4.3')?.value;
    if (cn !== undefined && hasTerminalControls(cn)) throw new SignetError('ERR_FORBIDDEN_NAMES', "the CSR's common name contains control or bidirectional-override characters");
    if (cn !== undefined && cn !== claims.subject && !claims.sans.includes(cn)) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `the CSR's common name "${cn}" is neither the token subject nor one of its SANs`);
    }

    const keyType = csrKeyType(csr);
    if (keyType === undefined || !provisioner.claims.keyTypes.includes(keyType)) {
      throw new SignetError('ERR_FORBIDDEN_KEY_TYPE', `key type ${keyType ?? 'of the CSR'} is not allowed by provisioner ${provisioner.name}`, {
        hint: `use one of: ${provisioner.claims.keyTypes.join(', ')}`,
      });
    }

    const at = (t: Date | string | undefined): Date | undefined => (typeof t === 'string' ? parseTime(t, now) : t);
    const notBefore = at(request.notBefore);
    const notAfter = at(request.notAfter);
    const spec = this.#buildSpec(
      rt,
      {
        subject: claims.subject,
        sans: tokenSans,
        publicKey: csr.publicKey,
        spki: csr.spki,
        token: claims.payload,
        ...(notBefore !== undefined ? { notBefore } : {}),
        ...(notAfter !== undefined ? { notAfter } : {}),
      },
      now,
    );
    const tokenClaims = claims;
    return this.#signAndRecord(rt, spec, csr.publicKey, keyType, claims.subject, now, 'certificate.sign', {
      token: { provisioner: provisioner.name, jti: tokenClaims.jti, expiresAt: tokenClaims.rememberUntil },
    });
  }

  /**
   * Policy on what will be signed (after the template, which could add names), lint, sign, and
   * one transaction: `inTx` (token use, replacement checks), the inventory row, the audit event.
   * A plain one-time token (`{ token }`) goes through the store's `recordIssuance`, which a
   * backend may do in one round trip.
   */
  async #signAndRecord(
    rt: Signing,
    spec: ReturnType<typeof templateToSpec>,
    publicKey: KeyObject,
    keyType: string,
    requester: string,
    now: Date,
    event: string,
    inTx: { readonly token: TokenUse } | ((tx: StoreTx, record: CertificateRecord) => Promise<void>),
    replaces?: string,
  ): Promise<SignResult> {
    const { issued, record } = this.#signOnly(rt, spec, publicKey, keyType, requester, now, replaces);
    await this.#commit(record, event, inTx, replaces);
    return { certificate: issued.der, chain: this.#chain, record };
  }

  /** Policy on what will be signed, lint, sign: the certificate and its inventory row, not yet recorded. */
  #signOnly(rt: Signing, spec: ReturnType<typeof templateToSpec>, publicKey: KeyObject, keyType: string, requester: string, now: Date, replaces?: string): Signed {
    return this.#sign(this.#prepare(rt, spec, publicKey, keyType, requester, now, replaces));
  }

  /** Policy on what will be signed and lint: the TBS and its inventory row but for the DER, nothing signed yet. */
  #prepare(rt: Signing, spec: ReturnType<typeof templateToSpec>, publicKey: KeyObject, keyType: string, requester: string, now: Date, replaces?: string): Prepared {
    const specCn = spec.subject instanceof Uint8Array ? undefined : spec.subject.flat().find((a) => a.type === 'CN' || a.type === 'commonName' || a.type === '2.5.4.3')?.value;
    const specSans = spec.extensions?.subjectAltName?.names ?? [];
    checkAll([this.#authorityPolicy, rt.policy], { ...(specCn !== undefined ? { commonName: specCn } : {}), sans: specSans });
    this.#checkSpiffeIds(specSans);

    // spec.publicKey may be the CSR's SPKI bytes; the linter gets the key already imported.
    const prepared = prepareLintedCertificate(spec, this.#options.signer, this.#issuer, { profile: 'leaf', now, lint: { publicKey } });
    // The TBS as lint parsed it: the same serial, subject, validity and key as the signed DER.
    const cert = prepared.certificate;
    const record: Omit<CertificateRecord, 'der'> = {
      serial: serialHex(cert.serialNumber),
      issuerSerial: this.#issuerSerial,
      subject: cert.subject.text,
      names: recordNames(specCn, specSans),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keyFingerprint: createHash('sha256').update(cert.spki).digest('hex'),
      keyType,
      provisioner: rt.provisioner.name,
      requester,
      profile: rt.templateName,
      status: 'valid',
      ...(replaces !== undefined ? { replaces } : {}),
      ...this.#crlShardOf(cert),
      issuedAt: now,
    };
    return { prepared, record };
  }

  /** Signs what {@link #prepare} built: exactly the linted bytes. */
  #sign({ prepared, record }: Prepared): Signed {
    const issued = signPrepared(prepared, this.#options.signer);
    return { issued, record: { ...record, der: issued.der } };
  }

  /**
   * A certificate with a SPIFFE ID is an X509-SVID: exactly one SPIFFE ID (X509-SVID §2), valid by
   * the SPIFFE-ID standard, of a trust domain this CA serves — a CA never vouches for another
   * trust domain's workloads (ERR_FORBIDDEN_NAMES; ERR_SPIFFE_ID_INVALID for a malformed ID).
   */
  #checkSpiffeIds(sans: readonly GeneralName[]): void {
    const ids = sans.filter((n) => n.type === 'uri' && /^spiffe:/i.test(n.value)).map((n) => (n.type === 'uri' ? n.value : ''));
    if (ids.length === 0) return;
    if (ids.length > 1) throw new SignetError('ERR_FORBIDDEN_NAMES', `an X509-SVID carries exactly one SPIFFE ID, not ${ids.length}`);
    const id = parseSpiffeId(ids[0] as string);
    if (!this.#trustDomains.includes(id.trustDomain)) {
      throw new SignetError(
        'ERR_FORBIDDEN_NAMES',
        this.#trustDomains.length === 0 ? `this CA serves no SPIFFE trust domain, so it issues no SVID for ${id.toString()}` : `${id.toString()} is not in a trust domain this CA serves (${this.#trustDomains.join(', ')})`,
        { hint: this.#trustDomains.length === 0 ? 'an intermediate made with `signet ca init --trust-domain` serves one' : 'request an ID of the CA\'s trust domain' },
      );
    }
  }

  /**
   * One transaction for an issued certificate: `inTx` (token use, replacement checks), the
   * inventory row, the replaced certificate's replaced-by, the audit event. A plain one-time token
   * (`{ token }`) goes through the store's `recordIssuance`, which a backend may do in one round trip.
   */
  async #commit(record: CertificateRecord, event: string, inTx: { readonly token: TokenUse } | ((tx: StoreTx, record: CertificateRecord) => Promise<void>), replaces?: string): Promise<void> {
    const now = record.issuedAt;
    const requester = record.requester;
    const detail = { names: record.names.map((n) => `${n.type}:${n.value}`), notAfter: record.notAfter.toISOString(), ...(replaces !== undefined ? { replaces } : {}) };
    if (typeof inTx !== 'function' && replaces === undefined) {
      const outcome = await this.#options.store.recordIssuance({
        token: inTx.token,
        certificate: record,
        event: { time: now, type: event, outcome: 'success', actor: requester, provisioner: record.provisioner, serial: record.serial, detail },
      });
      if (outcome === 'token-used') throw new SignetError('ERR_TOKEN_REPLAYED', 'this token has already been used', { hint: 'mint a new token for each request' });
      return;
    }
    await this.#options.store.transaction(async (tx) => {
      if (typeof inTx === 'function') await inTx(tx, record);
      else if (!(await tx.tokens.consume(inTx.token))) throw new SignetError('ERR_TOKEN_REPLAYED', 'this token has already been used', { hint: 'mint a new token for each request' });
      await tx.certificates.insert(record);
      if (replaces !== undefined && (await tx.certificates.markReplaced(replaces, record.serial)) !== 'replaced') {
        throw new SignetError('ERR_CERT_REPLACED', `certificate ${replaces} was already renewed or rekeyed`, { hint: 'renew the newest certificate' });
      }
      await tx.audit.append({ time: now, type: event, outcome: 'success', actor: requester, provisioner: record.provisioner, serial: record.serial, detail });
    });
  }

  // -------------------------------------------------------------------------------------------
  // certificate-authenticated requests: renew, rekey, revoke

  /**
   * The inventory record of a certificate the client presented. The TLS handshake proved the
   * client holds its key; the certificate must be byte for byte one this CA issued (so a foreign
   * certificate, even with the same serial, is refused), and valid at `now` unless `expired` is
   * allowed.
   */
  async #authenticate(der: Uint8Array | undefined, now: Date, options: { allowExpired?: boolean } = {}): Promise<CertificateRecord> {
    if (der === undefined || der.length === 0) {
      throw new SignetError('ERR_AUTH_REQUIRED', 'this request needs a client certificate (mTLS) issued by this CA', { hint: 'connect with the current certificate and its key' });
    }
    let serial: string;
    try {
      serial = serialHex(parseCertificate(der).serialNumber);
    } catch {
      throw new SignetError('ERR_AUTH_CERTIFICATE', 'the client certificate cannot be parsed');
    }
    const record = await this.#options.store.certificates.get(serial);
    if (record === undefined || !Buffer.from(record.der).equals(Buffer.from(der))) {
      throw new SignetError('ERR_AUTH_CERTIFICATE', 'the client certificate was not issued by this CA');
    }
    if (now < record.notBefore) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the client certificate is not yet valid');
    if (now > record.notAfter && options.allowExpired !== true) {
      throw new SignetError('ERR_AUTH_CERTIFICATE', `the client certificate expired at ${record.notAfter.toISOString()}`, {
        hint: 'an expired certificate renews only with a renewal token, when the provisioner allows renewal after expiry',
      });
    }
    return record;
  }

  /** Refuses a reissue of `old` that the record or the provisioner's claims forbid. */
  #renewable(old: CertificateRecord, now: Date): ProvisionerRuntime {
    if (old.status === 'revoked') throw new SignetError('ERR_CERT_REVOKED', `certificate ${old.serial} is revoked`);
    if (old.replacedBy !== undefined) throw new SignetError('ERR_CERT_REPLACED', `certificate ${old.serial} was already replaced by ${old.replacedBy}`, { hint: 'renew the newest certificate' });
    const rt = this.#provisioners.get(old.provisioner);
    if (!rt) throw new SignetError('ERR_RENEWAL_NOT_ALLOWED', `the provisioner "${old.provisioner}" that issued certificate ${old.serial} no longer exists`);
    const c = rt.provisioner.claims;
    if (!c.allowRenewal) throw new SignetError('ERR_RENEWAL_NOT_ALLOWED', `provisioner ${rt.provisioner.name} does not allow renewal`);
    if (now > old.notAfter) {
      if (!c.allowRenewalAfterExpiry) throw new SignetError('ERR_RENEWAL_NOT_ALLOWED', `certificate ${old.serial} has expired and provisioner ${rt.provisioner.name} does not allow renewal after expiry`);
      if (now.getTime() - old.notAfter.getTime() > c.renewalGracePeriodMs) {
        throw new SignetError('ERR_RENEWAL_NOT_ALLOWED', `certificate ${old.serial} expired more than ${formatDuration(c.renewalGracePeriodMs)} ago`);
      }
    }
    return rt;
  }

  /** The certificate that replaces `old`: same names and provisioner, the lifetime it had (within the claims), from now. */
  async #reissue(old: CertificateRecord, rt: ProvisionerRuntime, publicKey: KeyObject, keyType: string, now: Date, event: string, inTx?: (tx: StoreTx) => Promise<void>): Promise<SignResult> {
    const sans = recordedSans(old);
    const c = rt.provisioner.claims;
    const lifetime = Math.min(c.maxLifetimeMs, Math.max(c.minLifetimeMs, old.notAfter.getTime() - old.issuedAt.getTime()));
    const spec = this.#buildSpec(
      rt,
      { subject: old.requester, sans, publicKey, token: { sub: old.requester, sans: old.names.filter((n) => n.type !== 'cn').map((n) => n.value) }, notAfter: new Date(now.getTime() + lifetime) },
      now,
    );
    return this.#signAndRecord(
      rt,
      spec,
      publicKey,
      keyType,
      old.requester,
      now,
      event,
      async (tx) => {
        // Re-read inside the transaction: a revocation or another renewal may have committed since.
        const current = await tx.certificates.get(old.serial);
        if (current?.status === 'revoked') throw new SignetError('ERR_CERT_REVOKED', `certificate ${old.serial} is revoked`);
        await inTx?.(tx);
      },
      old.serial,
    );
  }

  /**
   * Renews the certificate the client presents over mTLS, or the one in a renewal token (which
   * works after expiry within the provisioner's grace period): a new serial for the same key and
   * names, recorded as replacing the old one.
   */
  async renew(request: RenewRequest): Promise<SignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let old: CertificateRecord | undefined;
    try {
      let inTx: ((tx: StoreTx) => Promise<void>) | undefined;
      if (request.clientCertificate !== undefined && request.clientCertificate.length > 0) {
        old = await this.#authenticate(request.clientCertificate, now);
      } else if (request.renewalToken !== undefined) {
        const claims = verifyRenewalToken(request.renewalToken, {
          audience: request.audience,
          now,
          certificateKey: (der) => {
            const cert = (() => {
              try {
                return parseCertificate(der);
              } catch {
                throw new SignetError('ERR_AUTH_CERTIFICATE', 'the certificate in the renewal token cannot be parsed');
              }
            })();
            if (cert.publicKey === undefined) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the certificate in the renewal token has an unusable key');
            return cert.publicKey;
          },
        });
        // The signature is the certificate key's; now the certificate must be this CA's, and the one named.
        const record = await this.#authenticate(claims.certificate, now, { allowExpired: true });
        if (claims.subject.toLowerCase() !== record.serial) throw new SignetError('ERR_TOKEN_SUBJECT', 'the renewal token names another certificate than the one it carries');
        old = record;
        inTx = async (tx) => {
          if (!(await tx.tokens.consume({ provisioner: record.provisioner, jti: claims.jti, expiresAt: claims.rememberUntil }))) {
            throw new SignetError('ERR_TOKEN_REPLAYED', 'this renewal token has already been used', { hint: 'mint a new renewal token for each request' });
          }
        };
      } else {
        throw new SignetError('ERR_AUTH_REQUIRED', 'renewal needs the current certificate: connect with it (mTLS), or send a renewal token as Authorization: Bearer');
      }
      const rt = this.#renewable(old, now);
      const cert = parseCertificate(old.der);
      if (cert.publicKey === undefined) throw new SignetError('ERR_AUTH_CERTIFICATE', 'the certificate has an unusable key');
      return this.#succeeded('renew', started, await this.#reissue(old, rt, cert.publicKey, old.keyType, now, 'certificate.renew', inTx));
    } catch (e) {
      await this.#auditFailure('renew', started, now, old?.requester, old?.provisioner, old?.serial, e);
      throw e;
    }
  }

  /** Replaces the certificate the client presents over mTLS with one for the key of `csr`. */
  async rekey(request: RekeyRequest): Promise<SignResult> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let old: CertificateRecord | undefined;
    try {
      old = await this.#authenticate(request.clientCertificate, now);
      const rt = this.#renewable(old, now);
      const csr = parseCsr(request.csr);
      verifyCsrSignature(csr);
      const want = new Set(recordedSans(old).map(sanKey));
      const got = new Set(csr.subjectAltNames.map(sanKey));
      if (want.size !== got.size || [...got].some((k) => !want.has(k))) {
        throw new SignetError('ERR_FORBIDDEN_NAMES', "the CSR's SANs differ from the current certificate's", { hint: 'a rekey keeps the names; for other names, get a new token' });
      }
      const keyFingerprint = createHash('sha256').update(csr.spki).digest('hex');
      if (keyFingerprint === old.keyFingerprint) throw new SignetError('ERR_REKEY_SAME_KEY', 'the CSR carries the current key', { hint: 'generate a new key for the rekey, or use /renew to keep the key' });
      const keyType = csrKeyType(csr);
      if (keyType === undefined || !rt.provisioner.claims.keyTypes.includes(keyType)) {
        throw new SignetError('ERR_FORBIDDEN_KEY_TYPE', `key type ${keyType ?? 'of the CSR'} is not allowed by provisioner ${rt.provisioner.name}`, { hint: `use one of: ${rt.provisioner.claims.keyTypes.join(', ')}` });
      }
      return this.#succeeded('rekey', started, await this.#reissue(old, rt, csr.publicKey, keyType, now, 'certificate.rekey'));
    } catch (e) {
      await this.#auditFailure('rekey', started, now, old?.requester, old?.provisioner, old?.serial, e);
      throw e;
    }
  }

  /**
   * Revokes a certificate for an edge that has already proven the requester may (ACME: the
   * issuing account, an account holding authorizations for every name, or the certificate's own
   * key). `already-revoked` changes nothing. Audited like every revocation.
   */
  async revokeAuthorized(request: { readonly serial: string; readonly reason?: string; readonly actor: string }): Promise<{ readonly record: CertificateRecord; readonly outcome: 'revoked' | 'already-revoked' }> {
    const now = this.#options.clock.now();
    const started = performance.now();
    const serial = normalizeSerial(request.serial);
    try {
      if (request.reason !== undefined && !REVOCATION_REASONS.includes(request.reason)) throw new SignetError('ERR_REQUEST_INVALID', `unknown revocation reason "${request.reason}"`);
      const result = await this.#options.store.transaction(async (tx) => {
        const outcome = await tx.certificates.revoke(serial, { at: now, ...(request.reason !== undefined ? { reason: request.reason } : {}) });
        const record = outcome === 'not-found' ? undefined : await tx.certificates.get(serial);
        if (record === undefined) throw new SignetError('ERR_CERT_NOT_FOUND', `no certificate with serial ${serial}`);
        if (outcome === 'revoked') {
          await tx.audit.append({ time: now, type: 'certificate.revoke', outcome: 'success', actor: request.actor, provisioner: record.provisioner, serial, ...(request.reason !== undefined ? { reason: request.reason } : {}) });
        }
        return { record, outcome: outcome as 'revoked' | 'already-revoked' };
      });
      this.#options.observe?.({ operation: 'revoke', outcome: 'success', provisioner: result.record.provisioner, seconds: (performance.now() - started) / 1000 });
      return result;
    } catch (e) {
      await this.#auditFailure('revoke', started, now, request.actor, undefined, serial, e);
      throw e;
    }
  }

  /**
   * Revokes a certificate (the inventory's status and reason; CRL and OCSP publication read them).
   * Idempotent: revoking again returns the first revocation. A token must be minted with `sub` =
   * the serial by the provisioner that issued the certificate; over mTLS the client certificate
   * must be the one revoked.
   */
  async revoke(request: RevokeRequest): Promise<CertificateRecord> {
    const now = this.#options.clock.now();
    const started = performance.now();
    let actor: string | undefined;
    let provisioner: string | undefined;
    let serial: string | undefined;
    try {
      serial = normalizeSerial(request.serial);
      if (request.reason !== undefined && !REVOCATION_REASONS.includes(request.reason)) {
        throw new SignetError('ERR_REQUEST_INVALID', `unknown revocation reason "${request.reason}"`, { hint: `use one of: ${REVOCATION_REASONS.join(', ')}` });
      }
      const target = serial;
      let inTx: ((tx: StoreTx) => Promise<void>) | undefined;
      if (request.token !== undefined) {
        const claims = verifyToken(request.token, {
          provisioners: (name) => this.#tokenProvisioner(name),
          audience: request.audience,
          now,
        });
        this.#checkRoot(claims);
        actor = claims.subject;
        provisioner = claims.provisioner;
        if (normalizeSerial(claims.subject, 'ERR_TOKEN_SUBJECT') !== target) throw new SignetError('ERR_TOKEN_SUBJECT', `the token authorizes revoking ${claims.subject}, not ${target}`);
        inTx = async (tx) => {
          const record = await tx.certificates.get(target);
          if (record !== undefined && record.provisioner !== claims.provisioner) {
            throw new SignetError('ERR_TOKEN_SUBJECT', `certificate ${target} was issued by provisioner ${record.provisioner}; only its tokens can revoke it`);
          }
          if (!(await tx.tokens.consume({ provisioner: claims.provisioner, jti: claims.jti, expiresAt: claims.rememberUntil }))) {
            throw new SignetError('ERR_TOKEN_REPLAYED', 'this token has already been used', { hint: 'mint a new token for each request' });
          }
        };
      } else if (request.clientCertificate !== undefined && request.clientCertificate.length > 0) {
        const presented = await this.#authenticate(request.clientCertificate, now);
        actor = presented.requester;
        provisioner = presented.provisioner;
        if (presented.serial !== target) throw new SignetError('ERR_AUTH_CERTIFICATE', `the client certificate is ${presented.serial}, not ${target}: over mTLS a certificate can revoke only itself`);
      } else {
        throw new SignetError('ERR_AUTH_REQUIRED', 'revocation needs a one-time token ("ott") or the certificate itself over mTLS');
      }
      const revoked = await this.#options.store.transaction(async (tx) => {
        await inTx?.(tx);
        const outcome = await tx.certificates.revoke(target, { at: now, ...(request.reason !== undefined ? { reason: request.reason } : {}) });
        if (outcome === 'not-found') throw new SignetError('ERR_CERT_NOT_FOUND', `no certificate with serial ${target}`);
        const record = await tx.certificates.get(target);
        if (record === undefined) throw new SignetError('ERR_CERT_NOT_FOUND', `no certificate with serial ${target}`);
        await tx.audit.append({
          time: now,
          type: 'certificate.revoke',
          outcome: 'success',
          actor: actor ?? 'unauthenticated',
          provisioner: record.provisioner,
          serial: target,
          ...(request.reason !== undefined ? { reason: request.reason } : {}),
          detail: { alreadyRevoked: outcome === 'already-revoked' },
        });
        return record;
      });
      this.#options.observe?.({ operation: 'revoke', outcome: 'success', provisioner: revoked.provisioner, seconds: (performance.now() - started) / 1000 });
      return revoked;
    } catch (e) {
      await this.#auditFailure('revoke', started, now, actor, provisioner, serial, e);
      throw e;
    }
  }

  #buildSpec(rt: ProvisionerRuntime, input: BuildInput, now: Date): ReturnType<typeof templateToSpec> {
    const c = rt.provisioner.claims;
    const request = input;
    const { publicKey } = input;
    const notBefore = request.notBefore ?? new Date(now.getTime() - c.backdateMs);
    const notAfter = request.notAfter ?? new Date((request.notBefore ?? now).getTime() + c.defaultLifetimeMs);
    const shard = this.#pickShard();
    const rendered =
      rt.leaf?.[shard]?.render({ commonName: input.subject, sans: input.sans, publicKey, token: input.token }) ??
      renderTemplate(rt.template, {
        subject: [[{ type: 'CN', value: input.subject }]],
        sans: input.sans,
        publicKey,
        token: input.token,
        data: this.#templateData(shard),
      });
    const requestedValidity = request.notBefore !== undefined || request.notAfter !== undefined;
    const { validity: _templateValidity, ...withoutValidity } = rendered;
    const spec = templateToSpec(requestedValidity ? withoutValidity : rendered, { publicKey: input.spki ?? publicKey, now, notBefore, notAfter, backdateMs: c.backdateMs });
    const start = spec.notBefore instanceof Date ? spec.notBefore.getTime() : notBefore.getTime();
    const end = spec.notAfter instanceof Date ? spec.notAfter.getTime() : notAfter.getTime();
    // The bounds apply to what was asked for: from the requested notBefore, else from now
    // (backdating is the CA's own allowance for clock skew, not part of the lifetime).
    const effective = end - (request.notBefore !== undefined ? start : now.getTime());
    if (effective < c.minLifetimeMs || effective > c.maxLifetimeMs) {
      throw new SignetError('ERR_LIFETIME_OUT_OF_BOUNDS', `the requested lifetime ${formatDuration(effective)} is outside ${formatDuration(c.minLifetimeMs)}…${formatDuration(c.maxLifetimeMs)} (provisioner ${rt.provisioner.name})`);
    }
    if (end > (this.#issuer.notAfter?.getTime() ?? Infinity)) {
      // issueLintedCertificate would clamp; a short-lived CA refuses instead of silently shortening.
      throw new SignetError('ERR_LIFETIME_OUT_OF_BOUNDS', 'the requested certificate would outlive the issuing CA certificate');
    }
    return spec;
  }

  /** The URL of CRL partition `shard`: `crlUrl` itself for 0, `crlUrl/k` for k. */
  #crlUrl(shard: number): string | undefined {
    const base = this.#options.config.crlUrl;
    return base === undefined ? undefined : crlPartitionUrl(base, shard);
  }

  /** The inventory's `crlShard` of an issued certificate: the partition its CRL distribution point names (none: 0, left out). */
  #crlShardOf(cert: Certificate): { crlShard?: number } {
    for (const url of cert.ext.crlDistributionPoints ?? []) {
      const k = this.#shardByUrl.get(url);
      if (k !== undefined && k > 0) return { crlShard: k };
    }
    return {};
  }

  /** The CRL partition of a new certificate: 0 without partitions, else one of 1…N at random. */
  #pickShard(): number {
    return this.#crlShards > 1 ? 1 + randomInt(this.#crlShards) : 0;
  }

  /** `.Data` of every provisioner's template: the configured CRL (of partition `shard`) and OCSP URLs. */
  #templateData(shard = 0): Record<string, unknown> {
    const data: Record<string, unknown> = {};
    const crlUrl = this.#crlUrl(shard);
    if (crlUrl !== undefined) data.crlDistributionPoints = [crlUrl];
    if (this.#options.config.ocspUrl !== undefined) data.ocspServer = [this.#options.config.ocspUrl];
    return data;
  }

  /** Reports a success to the metrics hook and passes the result on. */
  #succeeded(operation: AuthorityOutcome['operation'], started: number, result: SignResult): SignResult {
    this.#options.observe?.({ operation, outcome: 'success', provisioner: result.record.provisioner, seconds: (performance.now() - started) / 1000 });
    return result;
  }

  /** Records a refusal: its audit event (type `certificate.<operation>`, outcome failure, the code as reason) and its metric. */
  async #auditFailure(operation: AuthorityOutcome['operation'], started: number, now: Date, actor: string | undefined, provisioner: string | undefined, serial: string | undefined, e: unknown): Promise<void> {
    const code = isSignetError(e) ? e.code : 'ERR_INTERNAL';
    this.#options.observe?.({ operation, outcome: 'failure', ...(provisioner !== undefined ? { provisioner } : {}), code, seconds: (performance.now() - started) / 1000 });
    try {
      await this.#options.store.audit.append({
        time: now,
        type: operation === 'jwt-svid' ? 'spiffe.jwt-svid' : operation.startsWith('ssh-') ? `ssh.${operation.slice(4)}` : `certificate.${operation}`,
        outcome: 'failure',
        actor: actor ?? 'unauthenticated',
        ...(provisioner !== undefined ? { provisioner } : {}),
        ...(serial !== undefined ? { serial } : {}),
        reason: code,
        detail: { message: isSignetError(e) ? e.message : 'internal error' },
      });
    } catch {
      // The refusal itself is what the caller needs to see; an audit write failure must not mask it.
    }
  }
}

/** A serial as a request may write it (hex, colons, any case, leading zero octets) in the store's form. */
function normalizeSerial(text: string, code: 'ERR_REQUEST_INVALID' | 'ERR_TOKEN_SUBJECT' = 'ERR_REQUEST_INVALID'): string {
  let hex = text.replace(/:/g, '').toLowerCase();
  if (hex.length % 2 === 1) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  if (!isCanonicalSerial(hex)) throw new SignetError(code, `"${text.slice(0, 64)}" is not a certificate serial (hex, at most 20 octets)`);
  return hex;
}

/** The SANs of an inventory record, parsed back (the record keeps DNS, IP, e-mail and URI names as text). */
function recordedSans(record: CertificateRecord): GeneralName[] {
  return record.names.filter((n) => n.type !== 'cn').map((n) => parseGeneralName(`${n.type}:${n.value}`));
}

/** Claims' names of the named curves an EC SubjectPublicKeyInfo can carry (RFC 5480 §2.1.1.1). */
const CURVE_KEY_TYPES: ReadonlyMap<string, KeyTypeName> = new Map<string, KeyTypeName>([
  [OID.prime256v1, 'EC P-256'],
  [OID.secp384r1, 'EC P-384'],
  [OID.secp521r1, 'EC P-521'],
]);

/**
 * The claims' key type name of a CSR's key: what {@link keyTypeName} says, but for an EC key read
 * from the namedCurve OID of the SPKI that node:crypto loaded (RFC 5480 §2.1.1) instead of from
 * the key's details, which cost a fifth of the key's import on every issuance.
 */
export function csrKeyType(csr: ParsedCsr): KeyTypeName | undefined {
  if (csr.publicKey.asymmetricKeyType === 'ec') {
    try {
      const [algorithm] = children(readSingle(csr.spki));
      const params = algorithm === undefined ? undefined : children(algorithm)[1];
      // 0x06: OBJECT IDENTIFIER (namedCurve); explicit parameters go the long way.
      const name = params?.tag === 0x06 ? CURVE_KEY_TYPES.get(decodeOid(params.content)) : undefined;
      if (name !== undefined) return name;
    } catch {
      // node:crypto loaded the key, so the SPKI is well-formed; the long way decides anyway.
    }
  }
  return keyTypeName(csr.publicKey);
}
