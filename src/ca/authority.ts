/**
 * The authority (DESIGN.md "the one place that decides and signs"): every edge turns a protocol
 * request into a call here, and this runs the pipeline — authenticate the token, check the CSR
 * against what the token authorizes, authorize against policy, build from the provisioner's
 * template, lint, sign, and record the certificate, the token's use and the audit event in one
 * transaction. A refusal at any step writes nothing but its audit event.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { SignetError, isSignetError } from '../core/errors.js';
import type { Signer } from '../crypto/signer.js';
import { issuerFromCertificate, type IssuerInfo } from '../x509/certificate-builder.js';
import { parseCertificate } from '../x509/certificate.js';
import { parseCsr, verifyCsrSignature } from '../x509/csr.js';
import { parseGeneralName, type GeneralName } from '../x509/general-name.js';
import { issueLintedCertificate } from '../x509/issue.js';
import { getDefaultTemplate, parseTemplate, renderTemplate, templateToSpec, type CertificateTemplate } from '../x509/template/index.js';
import type { CaConfig, CaProvisioner } from './config.js';
import { keyTypeName } from './config.js';
import { checkAll, compilePolicy, type Policy } from './policy.js';
import { verifyToken, type TokenClaims } from './token.js';
import type { CertificateName, CertificateRecord, Store } from '../store/store.js';

/** What the authority needs to run. */
export interface AuthorityOptions {
  readonly config: CaConfig;
  readonly store: Store;
  /** The issuing intermediate's certificate (DER) and its signer (the key seam). */
  readonly intermediate: Uint8Array;
  readonly signer: Signer;
  /** The root certificate (DER). */
  readonly root: Uint8Array;
  readonly clock: Clock;
}

/** A certificate request authenticated by a one-time token (`POST /sign`). */
export interface SignRequest {
  /** DER of the PKCS#10 request. */
  readonly csr: Uint8Array;
  /** The one-time token (compact JWS). */
  readonly token: string;
  /** The URLs a token for this endpoint may name as `aud` (one per name the CA answers to). */
  readonly audience: readonly string[];
  /** Requested validity; the provisioner's claims bound it. */
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** An issued certificate and its inventory record. */
export interface SignResult {
  readonly certificate: Uint8Array;
  /** Intermediates from the issuer up to (not including) the root. */
  readonly chain: readonly Uint8Array[];
  readonly record: CertificateRecord;
}

interface ProvisionerRuntime {
  readonly provisioner: CaProvisioner;
  readonly policy: Policy;
  readonly template: CertificateTemplate;
  readonly templateName: string;
}

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
  readonly #provisioners: ReadonlyMap<string, ProvisionerRuntime>;
  readonly #chain: readonly Uint8Array[];
  readonly #issuerSerial: string;
  readonly #rootFingerprint: string;

  /** Compiles policies and loads templates once; a bad template or policy throws here, at start. */
  constructor(options: AuthorityOptions) {
    this.#options = options;
    this.#issuer = issuerFromCertificate(options.intermediate);
    this.#issuerSerial = parseCertificate(options.intermediate).serialHex;
    this.#chain = [options.intermediate];
    this.#rootFingerprint = createHash('sha256').update(options.root).digest('hex');
    this.#authorityPolicy = compilePolicy(options.config.policy, { name: 'authority' });
    const map = new Map<string, ProvisionerRuntime>();
    for (const p of options.config.provisioners) {
      const template = p.template !== undefined ? parseTemplate(readFileSync(p.template), { name: p.template }) : getDefaultTemplate('leaf');
      map.set(p.name, { provisioner: p, policy: compilePolicy(p.policy, { name: `provisioner ${p.name}` }), template, templateName: p.template ?? 'leaf' });
    }
    this.#provisioners = map;
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
    let claims: TokenClaims | undefined;
    try {
      claims = verifyToken(request.token, {
        provisioners: (name) => {
          const rt = this.#provisioners.get(name);
          return rt ? { publicKey: rt.provisioner.publicKey, algorithms: [rt.provisioner.algorithm], kid: rt.provisioner.kid } : undefined;
        },
        audience: request.audience,
        now,
      });
      const rt = this.#provisioners.get(claims.provisioner);
      if (!rt) throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `unknown provisioner "${claims.provisioner}"`);
      return await this.#issue(request, claims, rt, now);
    } catch (e) {
      await this.#auditFailure(now, claims, e);
      throw e;
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
    const cn = csr.subject.flat().find((a) => a.type === 'CN' || a.type === 'commonName' || a.type === '2.5.4.3')?.value;
    if (cn !== undefined && cn !== claims.subject && !claims.sans.includes(cn)) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `the CSR's common name "${cn}" is neither the token subject nor one of its SANs`);
    }

    const keyType = keyTypeName(csr.publicKey);
    if (keyType === undefined || !provisioner.claims.keyTypes.includes(keyType)) {
      throw new SignetError('ERR_FORBIDDEN_KEY_TYPE', `key type ${keyType ?? 'of the CSR'} is not allowed by provisioner ${provisioner.name}`, {
        hint: `use one of: ${provisioner.claims.keyTypes.join(', ')}`,
      });
    }

    const spec = this.#buildSpec(request, claims, rt, csr.publicKey, tokenSans, now);
    const specCn = spec.subject instanceof Uint8Array ? undefined : spec.subject.flat().find((a) => a.type === 'CN' || a.type === 'commonName' || a.type === '2.5.4.3')?.value;
    const specSans = spec.extensions?.subjectAltName?.names ?? [];
    // Policy judges what will be signed — after the template, which could add names.
    checkAll([this.#authorityPolicy, rt.policy], { ...(specCn !== undefined ? { commonName: specCn } : {}), sans: specSans });

    const issued = issueLintedCertificate(spec, this.#options.signer, this.#issuer, { profile: 'leaf', now });
    const cert = parseCertificate(issued.der);
    const record: CertificateRecord = {
      serial: cert.serialHex,
      issuerSerial: this.#issuerSerial,
      subject: cert.subject.text,
      names: recordNames(specCn, specSans),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      keyFingerprint: createHash('sha256').update(cert.spki).digest('hex'),
      keyType,
      provisioner: provisioner.name,
      requester: claims.subject,
      profile: rt.templateName,
      status: 'valid',
      issuedAt: now,
      der: issued.der,
    };
    const tokenClaims = claims;
    await this.#options.store.transaction(async (tx) => {
      if (!(await tx.tokens.consume({ provisioner: provisioner.name, jti: tokenClaims.jti, expiresAt: tokenClaims.rememberUntil }))) {
        throw new SignetError('ERR_TOKEN_REPLAYED', 'this token has already been used', { hint: 'mint a new token for each request' });
      }
      await tx.certificates.insert(record);
      await tx.audit.append({ time: now, type: 'certificate.sign', outcome: 'success', actor: tokenClaims.subject, provisioner: provisioner.name, serial: record.serial, detail: { names: record.names.map((n) => `${n.type}:${n.value}`), notAfter: record.notAfter.toISOString() } });
    });
    return { certificate: issued.der, chain: this.#chain, record };
  }

  #buildSpec(request: SignRequest, claims: TokenClaims, rt: ProvisionerRuntime, publicKey: KeyObject, sans: readonly GeneralName[], now: Date): ReturnType<typeof templateToSpec> {
    const c = rt.provisioner.claims;
    const notBefore = request.notBefore ?? new Date(now.getTime() - c.backdateMs);
    const notAfter = request.notAfter ?? new Date((request.notBefore ?? now).getTime() + c.defaultLifetimeMs);
    const data: Record<string, unknown> = {};
    if (this.#options.config.crlUrl !== undefined) data.crlDistributionPoints = [this.#options.config.crlUrl];
    if (this.#options.config.ocspUrl !== undefined) data.ocspServer = [this.#options.config.ocspUrl];
    const rendered = renderTemplate(rt.template, {
      subject: [[{ type: 'CN', value: claims.subject }]],
      sans,
      publicKey,
      token: claims.payload,
      data,
    });
    const requestedValidity = request.notBefore !== undefined || request.notAfter !== undefined;
    const { validity: _templateValidity, ...withoutValidity } = rendered;
    const spec = templateToSpec(requestedValidity ? withoutValidity : rendered, { publicKey, now, notBefore, notAfter, backdateMs: c.backdateMs });
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

  async #auditFailure(now: Date, claims: TokenClaims | undefined, e: unknown): Promise<void> {
    const code = isSignetError(e) ? e.code : 'ERR_INTERNAL';
    try {
      await this.#options.store.audit.append({
        time: now,
        type: 'certificate.sign',
        outcome: 'failure',
        actor: claims?.subject ?? 'unauthenticated',
        ...(claims ? { provisioner: claims.provisioner } : {}),
        reason: code,
        detail: { message: isSignetError(e) ? e.message : 'internal error' },
      });
    } catch {
      // The refusal itself is what the caller needs to see; an audit write failure must not mask it.
    }
  }
}
