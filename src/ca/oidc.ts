/**
 * Single sign-on: an OIDC provisioner accepts an ID token (OpenID Connect Core 1.0 §2) that its
 * OpenID provider issued to Signet's client, as the credential for one SSH user certificate.
 *
 * The provider's keys come from its discovery document (OpenID Connect Discovery 1.0 §4: the
 * `issuer` in it must equal the configured one exactly, §4.3) and its JWKS, fetched with a
 * timeout, a size limit and no redirects, cached, and fetched again for an unknown `kid` (key
 * rotation) at most every 30 s. An ID token is accepted when (Core §3.1.3.7): its algorithm is on
 * the allow-list, the signature verifies with a provider key, `iss` is the issuer, `aud` contains
 * the client ID (and `azp`, when there are several audiences, is it), `exp` has not passed and
 * `iat` is at most an hour old (60 s of skew), and it carries an `email` the provider has not
 * marked unverified, in an allowed domain. Replay is the authority's job: it consumes the token's
 * hash until `exp`.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { SignetError } from '../core/errors.js';
import { fetchableUrl, fetchBytes } from '../client/fetch.js';
import { principalProblem } from './policy.js';
import type { OidcProvisioner } from './config.js';

/** The algorithms an ID token may be signed with (RFC 7518; never `none` or HMAC). */
export const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Largest discovery document or JWKS read. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
/** Deadline of one fetch from the provider. */
const FETCH_TIMEOUT_MS = 5_000;
/** How long the discovery document is trusted before it is fetched again. */
const DISCOVERY_TTL_MS = 3_600_000;
/** Oldest ID token accepted (from `iat`). */
const MAX_ID_TOKEN_AGE_S = 3600;
/** Clock skew tolerated on `exp`, `iat`, `nbf`. */
const LEEWAY_S = 60;

/** What a verified ID token says. */
export interface OidcIdentity {
  /** The verified e-mail address (the certificate's key ID). */
  readonly email: string;
  /** `sub` at the provider. */
  readonly subject: string;
  /** The principals it may sign in as: the e-mail's local part (made a safe user name) and the address itself. */
  readonly principals: readonly string[];
  /** A one-time identifier of the token (its SHA-256), remembered until {@link rememberUntil}. */
  readonly jti: string;
  readonly rememberUntil: Date;
}

function unavailable(issuer: string, why: string, cause?: unknown): SignetError {
  return new SignetError('ERR_OIDC_UNAVAILABLE', `the OpenID provider ${issuer} cannot be used: ${why}`, { hint: 'check that the provider is reachable from the CA and its issuer URL in the config', ...(cause !== undefined ? { cause } : {}) });
}

/** GET a JSON document from the provider: a deadline, a size limit, no redirects (src/client/fetch.ts). */
async function getJson(url: string): Promise<{ status: number; body: Uint8Array }> {
  const r = await fetchBytes(fetchableUrl(url), { accept: 'application/json', timeoutMs: FETCH_TIMEOUT_MS, maxBytes: MAX_DOCUMENT_BYTES });
  return { status: r.status, body: r.body };
}

/** The principal an e-mail's local part gives: lower case, characters other than a-z 0-9 . _ - replaced by _. */
export function localPartPrincipal(email: string): string {
  const local = email.slice(0, email.lastIndexOf('@')).toLowerCase();
  return local.replace(/[^a-z0-9._-]/g, '_').slice(0, 64);
}

/** Verifies ID tokens of one provisioner's provider; keep one per provisioner (it caches). */
export class OidcVerifier {
  readonly #p: OidcProvisioner;
  #discovery: { readonly jwksUri: string; readonly at: number } | undefined;
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(provisioner: OidcProvisioner) {
    this.#p = provisioner;
  }

  /** The discovery document's `jwks_uri`, after checking its `issuer` (Discovery §4.3). */
  async #keys(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const now = Date.now();
    if (this.#jwks !== undefined && this.#discovery !== undefined && now - this.#discovery.at < DISCOVERY_TTL_MS) return this.#jwks;
    const issuer = this.#p.issuer;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from((await getJson(url)).body).toString('utf8'));
    } catch (e) {
      throw unavailable(issuer, `its discovery document could not be read (${e instanceof Error ? e.message : String(e)})`, e);
    }
    const d = doc as { issuer?: unknown; jwks_uri?: unknown };
    if (d.issuer !== issuer) throw unavailable(issuer, `its discovery document names issuer ${JSON.stringify(d.issuer)}, not the configured one`);
    if (typeof d.jwks_uri !== 'string' || !URL.canParse(d.jwks_uri)) throw unavailable(issuer, 'its discovery document has no jwks_uri');
    const jwksUri = d.jwks_uri;
    const jwksUrl = new URL(jwksUri);
    if (jwksUrl.protocol !== 'https:' && new URL(issuer).protocol === 'https:') throw unavailable(issuer, 'its jwks_uri is not https');
    if (this.#discovery?.jwksUri !== jwksUri || this.#jwks === undefined) {
      this.#jwks = createRemoteJWKSet(jwksUrl, { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: 600_000, [customFetch]: async (u: string) => {
          const r = await getJson(u);
          return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json' } });
        },
      });
    }
    this.#discovery = { jwksUri, at: now };
    return this.#jwks;
  }

  /** Verifies `idToken` at `now`; ERR_TOKEN_* for a token that is not acceptable, ERR_OIDC_UNAVAILABLE when the provider cannot be asked. */
  async verify(idToken: string, now: Date): Promise<OidcIdentity> {
    const p = this.#p;
    const keys = await this.#keys();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, keys, {
        issuer: p.issuer,
        audience: p.clientId,
        algorithms: [...ID_TOKEN_ALGORITHMS],
        clockTolerance: LEEWAY_S,
        maxTokenAge: MAX_ID_TOKEN_AGE_S,
        currentDate: now,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (e) {
      throw refusal(e, p.issuer);
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== p.clientId) {
      throw new SignetError('ERR_TOKEN_AUDIENCE', 'the ID token has several audiences and was not issued to Signet (azp)');
    }
    const email = payload.email;
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', 'the ID token carries no e-mail address', { hint: 'ask for the "email" scope at the provider' });
    }
    if (payload.email_verified === false) throw new SignetError('ERR_FORBIDDEN_NAMES', `the provider has not verified ${email}`);
    const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (p.domains.length > 0 && !p.domains.includes(domain)) {
      throw new SignetError('ERR_FORBIDDEN_NAMES', `e-mail domain ${domain} is not allowed by provisioner ${p.name}`, { hint: `allowed: ${p.domains.join(', ')}` });
    }
    const local = localPartPrincipal(email);
    const principals = [local, email].filter((x, i, all) => principalProblem(x) === undefined && all.indexOf(x) === i);
    return {
      email,
      subject: String(payload.sub),
      principals,
      jti: createHash('sha256').update(idToken).digest('base64url'),
      rememberUntil: new Date(((payload.exp as number) + LEEWAY_S) * 1000),
    };
  }
}

/** A jose verification failure as Signet's token refusal (one fixed message per code). */
function refusal(e: unknown, issuer: string): SignetError {
  if (e instanceof SignetError) return e;
  if (e instanceof joseErrors.JWTExpired) {
    // maxTokenAge refuses an old `iat` with JWTExpired too.
    if (e.claim === 'iat') return new SignetError('ERR_TOKEN_LIFETIME', `the ID token was issued more than ${MAX_ID_TOKEN_AGE_S / 60} minutes ago`, { hint: 'sign in again' });
    return new SignetError('ERR_TOKEN_EXPIRED', 'the ID token has expired', { hint: 'sign in again' });
  }
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new SignetError('ERR_TOKEN_AUDIENCE', 'the ID token was issued to another client');
    if (e.claim === 'iss') return new SignetError('ERR_TOKEN_AUDIENCE', 'the ID token was issued by another provider');
    if (e.claim === 'iat' || e.claim === 'nbf') return new SignetError(e.reason === 'check_failed' && e.claim === 'iat' ? 'ERR_TOKEN_LIFETIME' : 'ERR_TOKEN_NOT_YET_VALID', `the ID token's ${e.claim} is not acceptable: ${e.message}`);
    return new SignetError('ERR_TOKEN_MALFORMED', `the ID token's ${e.claim} claim is not acceptable`);
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return new SignetError('ERR_TOKEN_ALGORITHM', 'the ID token algorithm is not allowed');
  if (e instanceof joseErrors.JWSSignatureVerificationFailed || e instanceof joseErrors.JWKSNoMatchingKey) return new SignetError('ERR_TOKEN_SIGNATURE', 'the ID token signature does not verify with the provider\'s keys');
  if (e instanceof joseErrors.JWKSTimeout) return unavailable(issuer, 'its keys (jwks_uri) did not arrive in time', e);
  if (e instanceof joseErrors.JWTInvalid || e instanceof joseErrors.JWSInvalid) return new SignetError('ERR_TOKEN_MALFORMED', 'the ID token is malformed');
  if (e instanceof joseErrors.JOSEError) return unavailable(issuer, e.message, e);
  if (e instanceof Error) return unavailable(issuer, e.message, e);
  return new SignetError('ERR_TOKEN_MALFORMED', 'the ID token is malformed');
}
