/**
 * The ACME edge (RFC 8555): one directory per ACME provisioner under `/acme/{provisioner}/`.
 * Thin like every edge: it authenticates the JWS, keeps the protocol's objects in the store, and
 * hands finalization to the authority, which runs the same pipeline as the native API (policy,
 * template, lint, sign, inventory and audit in one transaction). Every object lives in the store,
 * so any replica can serve any request; every state change is a compare-and-set there.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
import type { Authority } from '../ca/authority.js';
import type { AcmeChallengeType, AcmeProvisioner, CaConfig } from '../ca/config.js';
import type { Route, RouteRequest, RouteResponse } from '../server/http.js';
import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeIdentifier, AcmeOrder, AcmeProblemRecord, Store } from '../store/store.js';
import { serialHex } from '../store/validation.js';
import { parseCertificate } from '../x509/certificate.js';
import { CRL_REASONS } from '../x509/crl.js';
import { formatIpAddress, isValidDnsName, parseIpAddress } from '../x509/general-name.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../x509/template/json.js';
import { eabMacVerifies, importAccountKey, MAX_ACME_BODY, parseAcmeJws, parseExternalAccountBinding, verifyAcmeSignature, type AccountKey, type AcmeJws } from './jws.js';
import { NonceService } from './nonce.js';
import { subproblem, toProblem } from './problem.js';
import type { ChallengeValidator } from './validate.js';

/** Revocation reasons an ACME client may give (RFC 8555 §7.6, RFC 5280 §5.3.1): not cACompromise, certificateHold, removeFromCRL or aACompromise. */
export const REVOCATION_REASON_CODES: ReadonlySet<number> = new Set([0, 1, 3, 4, 5, 9]);

/** How often a client should ask again for renewal information (RFC 9773 §4.3: Retry-After), in seconds. */
export const RENEWAL_INFO_RETRY_SECONDS = 6 * 3600;

/** How long an order, and a pending authorization, may wait for the client. */
export const ORDER_LIFETIME_MS = 7 * 24 * 3_600_000;
/** Most imported account keys kept in memory. */
const MAX_CACHED_ACCOUNT_KEYS = 10_000;

/** Most identifiers one order may name. */
export const MAX_IDENTIFIERS = 100;
/** Most contact URLs of an account. */
export const MAX_CONTACTS = 10;
/** When validation attempts run, after the client's request (bounded: then the challenge is invalid). */
export const VALIDATION_SCHEDULE_MS: readonly number[] = [0, 1000, 3000];

/** What the ACME edge needs from the running CA. */
export interface AcmeServerOptions {
  readonly authority: () => Authority;
  readonly config: () => CaConfig;
  readonly store: Store;
  readonly clock: Clock;
  /** The base URLs the CA answers at (`https://host:port`), first the default. */
  readonly baseUrls: () => readonly string[];
  readonly validator: ChallengeValidator;
  readonly nonces: NonceService;
  /** The issuing chain after the leaf (DER), for certificate downloads. */
  readonly chain: readonly Uint8Array[];
  /** The issuer's subject key identifier: the first half of an ARI certificate id (RFC 9773 §4.1). */
  readonly issuerKeyIdentifier: Uint8Array | undefined;
  readonly onInternalError?: (error: unknown, requestId: string) => void;
  /** Called when a validation finished (tests, logs). */
  readonly onValidation?: (challengeId: string, outcome: 'valid' | 'invalid', error?: AcmeProblemRecord) => void;
}

/** A verified request: the JWS, and the account (kid) or the embedded key (jwk). */
interface Authenticated {
  readonly jws: AcmeJws;
  readonly account?: AcmeAccount;
  readonly key?: AccountKey;
}

function newId(): string {
  return randomBytes(16).toString('base64url');
}

function malformed(message: string): SignetError {
  return new SignetError('ERR_ACME_MALFORMED', message);
}

function own(o: JsonObject, k: string): JsonValue | undefined {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

/** The ACME edge of a running CA. */
export interface AcmeEdge {
  readonly routes: Route[];
  /** A problem document (with a fresh nonce) for a request under /acme/ that no route took: unknown path or method. */
  renderUnrouted(error: SignetError, path: string, requestId: string): RouteResponse | undefined;
  /**
   * Resumes validations that a replica started and never finished (it stopped or crashed): the
   * challenges left `processing` and not touched for {@link staleAfterMs}. Run by one replica at
   * a time (a periodic job under a lease); returns how many it resumed.
   */
  resumeStale(now: Date): Promise<number>;
}

/** When a `processing` challenge counts as abandoned: well after every attempt could have timed out. */
export function staleAfterMs(validationTimeoutMs: number): number {
  return 2 * (VALIDATION_SCHEDULE_MS.length * validationTimeoutMs + (VALIDATION_SCHEDULE_MS.at(-1) ?? 0));
}

/** Builds the routes of every ACME provisioner; see the module comment. */
export function acmeRoutes(options: AcmeServerOptions): AcmeEdge {
  const { store, clock } = options;
  const running = new Set<string>();
  // Imported account keys by account and key thumbprint: importing a JWK costs about as much as
  // verifying the signature it checks. A key change changes the thumbprint, so a stale entry is
  // never used; the map is bounded (oldest entries go first).
  const accountKeys = new Map<string, KeyObject>();
  const accountKey = (account: AcmeAccount): KeyObject => {
    const cacheKey = `${account.id}/${account.keyThumbprint}`;
    let key = accountKeys.get(cacheKey);
    if (key === undefined) {
      key = createPublicKey({ key: account.jwk as never, format: 'jwk' });
      if (accountKeys.size >= MAX_CACHED_ACCOUNT_KEYS) accountKeys.delete(accountKeys.keys().next().value as string);
      accountKeys.set(cacheKey, key);
    }
    return key;
  };

  const provisionerOf = (req: RouteRequest): AcmeProvisioner => {
    const name = req.params.p ?? '';
    const p = options.config().provisioners.find((x) => x.name === name);
    if (p?.type !== 'ACME') throw new SignetError('ERR_ACME_NOT_FOUND', `no ACME provisioner "${name.slice(0, 64)}"`);
    return p;
  };

  /** The base URL this request was sent to: the one whose host the client named, else the default. */
  const baseOf = (req: RouteRequest): string => {
    const bases = options.baseUrls();
    const host = req.headers.host;
    if (bases.length === 0) throw new SignetError('ERR_INTERNAL', 'the CA has no base URL');
    return bases.find((b) => new URL(b).host === host) ?? (bases[0] as string);
  };

  const urls = (req: RouteRequest, p: AcmeProvisioner) => {
    const root = `${baseOf(req)}/acme/${p.name}`;
    return {
      root,
      directory: `${root}/directory`,
      account: (id: string) => `${root}/account/${id}`,
      orders: (id: string) => `${root}/account/${id}/orders`,
      order: (id: string) => `${root}/order/${id}`,
      finalize: (id: string) => `${root}/order/${id}/finalize`,
      authz: (id: string) => `${root}/authz/${id}`,
      challenge: (id: string) => `${root}/chall/${id}`,
      certificate: (serial: string) => `${root}/cert/${serial}`,
    };
  };
  type Urls = ReturnType<typeof urls>;

  /** Wraps a handler: fresh nonce and index link on every answer, problem documents for errors. */
  const handle =
    (fn: (req: RouteRequest, p: AcmeProvisioner, u: Urls) => RouteResponse | Promise<RouteResponse>) =>
    async (req: RouteRequest): Promise<RouteResponse> => {
      let headers: Record<string, string> = {};
      try {
        const p = provisionerOf(req);
        const u = urls(req, p);
        headers = { 'replay-nonce': options.nonces.issue(), link: `<${u.directory}>;rel="index"` };
        const out = await fn(req, p, u);
        return { ...out, headers: { ...headers, ...out.headers } };
      } catch (e) {
        if (!isSignetError(e) || e.code === 'ERR_INTERNAL') options.onInternalError?.(e, req.id);
        const problem = toProblem(e, req.id);
        // A badNonce answer carries a fresh nonce for the retry (RFC 8555 §6.5); so does every other one.
        const extra: Record<string, string> = headers['replay-nonce'] === undefined ? { 'replay-nonce': options.nonces.issue() } : {};
        if (problem.status === 503) extra['retry-after'] = '1';
        // A key change to a key in use names the account that has it (RFC 8555 §7.3.5).
        const location = isSignetError(e) ? (e.detail as { location?: unknown } | undefined)?.location : undefined;
        if (typeof location === 'string') extra.location = location;
        return { status: problem.status, body: JSON.stringify(problem), contentType: 'application/problem+json', headers: { ...headers, ...extra } };
      }
    };

  /** Reads, parses and verifies the JWS of a POST; `kid` requests get their (valid) account. */
  const authenticate = async (req: RouteRequest, p: AcmeProvisioner, u: Urls, mode: 'kid' | 'jwk' | 'either'): Promise<Authenticated> => {
    const body = await req.json(MAX_ACME_BODY, 'application/jose+json');
    const jws = parseAcmeJws(body, `${baseOf(req)}${req.path}`);
    if (mode === 'kid' && jws.kid === undefined) throw malformed('this request must be signed with the account key and name the account in "kid"');
    if (mode === 'jwk' && jws.jwk === undefined) throw malformed('this request must carry the account key in "jwk"');
    let account: AcmeAccount | undefined;
    let key: AccountKey | undefined;
    let verifyKey: KeyObject;
    if (jws.kid !== undefined) {
      const prefix = u.account('');
      const id = jws.kid.startsWith(prefix) ? jws.kid.slice(prefix.length) : '';
      account = id === '' ? undefined : await store.acme.getAccount(id);
      if (account === undefined || account.provisioner !== p.name) throw new SignetError('ERR_ACME_ACCOUNT_DOES_NOT_EXIST', `no account ${jws.kid.slice(0, 256)} on this directory`);
      verifyKey = accountKey(account);
    } else {
      key = importAccountKey(jws.jwk);
      verifyKey = key.key;
    }
    verifyAcmeSignature(jws, verifyKey);
    if (!(await options.nonces.consume(jws.nonce))) throw new SignetError('ERR_ACME_BAD_NONCE', 'the nonce is unknown, used or expired; retry with the nonce of this answer');
    if (account !== undefined && account.status !== 'valid') throw new SignetError('ERR_ACME_UNAUTHORIZED', `account ${jws.kid ?? ''} is ${account.status}`);
    return { jws, ...(account !== undefined && { account }), ...(key !== undefined && { key }) };
  };

  const requireAccount = (a: Authenticated): AcmeAccount => {
    if (a.account === undefined) throw malformed('this request must be signed with the account key and name the account in "kid"');
    return a.account;
  };

  const accountJson = (a: AcmeAccount, u: Urls) => ({
    status: a.status,
    contact: a.contact,
    termsOfServiceAgreed: a.termsAgreed,
    orders: u.orders(a.id),
    createdAt: a.createdAt.toISOString(),
  });

  const now = (): Date => clock.now();

  // -- orders and authorizations: their client-visible status is derived (RFC 8555 §7.1.6)

  const authzStatus = (a: AcmeAuthorization, at: Date): string => (a.status === 'pending' && a.expiresAt <= at ? 'expired' : a.status === 'valid' && a.expiresAt <= at ? 'expired' : a.status);

  const orderStatus = (o: AcmeOrder, authzs: readonly AcmeAuthorization[], at: Date): string => {
    if (o.status !== 'pending') return o.status;
    if (o.expiresAt <= at) return 'invalid';
    const states = authzs.map((a) => authzStatus(a, at));
    if (states.length !== o.authorizations.length || states.some((s) => s !== 'valid' && s !== 'pending')) return 'invalid';
    return states.every((s) => s === 'valid') ? 'ready' : 'pending';
  };

  const orderJson = (o: AcmeOrder, authzs: readonly AcmeAuthorization[], u: Urls) => ({
    status: orderStatus(o, authzs, now()),
    expires: o.expiresAt.toISOString(),
    identifiers: o.identifiers,
    ...(o.notBefore !== undefined && { notBefore: o.notBefore.toISOString() }),
    ...(o.notAfter !== undefined && { notAfter: o.notAfter.toISOString() }),
    authorizations: o.authorizations.map(u.authz),
    finalize: u.finalize(o.id),
    ...(o.certificateSerial !== undefined && { certificate: u.certificate(o.certificateSerial) }),
    ...(o.error !== undefined && { error: o.error }),
    ...(o.replaces !== undefined && { replaces: o.replaces }),
  });

  const challengeJson = (c: AcmeChallenge, u: Urls) => ({
    type: c.type,
    url: u.challenge(c.id),
    status: c.status,
    token: c.token,
    ...(c.validatedAt !== undefined && { validated: c.validatedAt.toISOString() }),
    ...(c.error !== undefined && { error: c.error }),
  });

  const authzJson = (a: AcmeAuthorization, u: Urls) => ({
    identifier: a.identifier,
    status: authzStatus(a, now()),
    expires: a.expiresAt.toISOString(),
    challenges: a.challenges.map((c) => challengeJson(c, u)),
    ...(a.wildcard && { wildcard: true }),
  });

  const ownOrder = async (req: RouteRequest, account: AcmeAccount): Promise<AcmeOrder> => {
    const order = await store.acme.getOrder(req.params.id ?? '');
    if (order === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', 'no such order');
    if (order.accountId !== account.id) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this order belongs to another account');
    return order;
  };

  /** Validates one challenge in the background, with the bounded retry schedule. */
  const runValidation = (challenge: AcmeChallenge, authz: AcmeAuthorization, account: AcmeAccount): void => {
    if (running.has(challenge.id)) return;
    running.add(challenge.id);
    const keyAuthorization = `${challenge.token}.${account.keyThumbprint}`;
    const attempt = async (i: number): Promise<void> => {
      let problem: AcmeProblemRecord | undefined;
      try {
        await options.validator.validate({ type: challenge.type, identifier: authz.identifier, token: challenge.token, keyAuthorization });
      } catch (e) {
        const p = toProblem(e, challenge.id);
        problem = { type: p.type, detail: p.detail, status: p.status };
        if (!isSignetError(e)) options.onInternalError?.(e, `validation ${challenge.id}`);
      }
      const at = now();
      if (problem !== undefined && i + 1 < VALIDATION_SCHEDULE_MS.length) {
        // Not yet: record the last error (clients may show it) and try again.
        await store.acme.updateChallenge(challenge.id, 'processing', { status: 'processing', at, error: problem });
        setTimeout(() => void attempt(i + 1).catch((e: unknown) => finish(e)), (VALIDATION_SCHEDULE_MS[i + 1] ?? 0) - (VALIDATION_SCHEDULE_MS[i] ?? 0)).unref();
        return;
      }
      await store.transaction(async (tx) => {
        if (problem === undefined) {
          if (await tx.acme.updateChallenge(challenge.id, 'processing', { status: 'valid', at, validatedAt: at })) await tx.acme.updateAuthorization(authz.id, 'pending', 'valid');
        } else if (await tx.acme.updateChallenge(challenge.id, 'processing', { status: 'invalid', at, error: problem })) {
          await tx.acme.updateAuthorization(authz.id, 'pending', 'invalid');
        }
      });
      running.delete(challenge.id);
      options.onValidation?.(challenge.id, problem === undefined ? 'valid' : 'invalid', problem);
    };
    const finish = (e: unknown): void => {
      running.delete(challenge.id);
      options.onInternalError?.(e, `validation ${challenge.id}`);
    };
    setImmediate(() => void attempt(0).catch(finish));
  };

  // -- ARI (RFC 9773)

  /** The inventory serial an ARI certificate id names (`base64url(AKI).base64url(serial)`), when its AKI is our issuer's. */
  const certIdSerial = (certId: string): string | undefined => {
    const m = /^([A-Za-z0-9_-]{1,128})\.([A-Za-z0-9_-]{1,40})$/.exec(certId);
    if (m === null || options.issuerKeyIdentifier === undefined) return undefined;
    if (!Buffer.from(m[1] as string, 'base64url').equals(Buffer.from(options.issuerKeyIdentifier))) return undefined;
    const serial = Buffer.from(m[2] as string, 'base64url');
    if (serial.length === 0 || serial.length > 21) return undefined;
    try {
      return serialHex(serial);
    } catch {
      return undefined;
    }
  };

  /** `replaces` of a newOrder: a certificate of this CA, issued to this account, not yet replaced. */
  const replacedCertificate = async (v: JsonValue | undefined, account: AcmeAccount, p: AcmeProvisioner): Promise<string | undefined> => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw malformed('"replaces" must be an ARI certificate id');
    const serial = certIdSerial(v);
    const record = serial === undefined ? undefined : await store.certificates.get(serial);
    if (record === undefined) throw malformed('"replaces" names no certificate of this CA');
    if (record.requester !== `acme:${p.name}/${account.id}`) throw new SignetError('ERR_ACME_UNAUTHORIZED', '"replaces" names a certificate issued to another account');
    if (record.replacedBy !== undefined) throw new SignetError('ERR_CERT_REPLACED', `certificate ${record.serial} was already replaced by ${record.replacedBy}`);
    return record.serial;
  };

  // -- identifiers (RFC 8555 §7.1.3, RFC 8738)

  const readIdentifiers = (v: JsonValue | undefined): AcmeIdentifier[] => {
    if (!Array.isArray(v) || v.length === 0) throw malformed('"identifiers" must be a non-empty list');
    if (v.length > MAX_IDENTIFIERS) throw new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `an order names at most ${MAX_IDENTIFIERS} identifiers`);
    const out = new Map<string, AcmeIdentifier>();
    const bad: NonNullable<AcmeProblemRecord['subproblems']>[number][] = [];
    for (const item of v) {
      if (!isJsonObject(item) || typeof own(item, 'type') !== 'string' || typeof own(item, 'value') !== 'string') throw malformed('each identifier is {"type", "value"}');
      const type = own(item, 'type') as string;
      const value = own(item, 'value') as string;
      if (value.length > 255) {
        // Longer than any DNS name or IP address: refused as sent, never shortened into another name.
        bad.push(subproblem(new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `an identifier of ${value.length} characters is longer than any name this CA issues for`), { type: type.slice(0, 32), value: `${value.slice(0, 64)}…` }));
        continue;
      }
      if (type === 'dns') {
        const name = value.toLowerCase();
        const bare = name.startsWith('*.') ? name.slice(2) : name;
        if (!isValidDnsName(bare) || bare.includes('*') || (!bare.includes('.') && bare !== 'localhost')) {
          bad.push(subproblem(new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `${JSON.stringify(value)} is not a DNS name this CA issues for`), { type, value }));
          continue;
        }
        out.set(`dns:${name}`, { type: 'dns', value: name });
      } else if (type === 'ip') {
        const bytes = isIP(value) !== 0 ? parseIpAddress(value) : undefined;
        if (bytes === undefined) {
          bad.push(subproblem(malformed(`${JSON.stringify(value)} is not an IP address`), { type, value }));
          continue;
        }
        const canonical = formatIpAddress(bytes);
        out.set(`ip:${canonical}`, { type: 'ip', value: canonical });
      } else {
        bad.push(subproblem(new SignetError('ERR_ACME_UNSUPPORTED_IDENTIFIER', `identifier type ${JSON.stringify(type.slice(0, 32))} is not supported (dns, ip)`), { type: type.slice(0, 32), value }));
      }
    }
    if (bad.length > 0) throw new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `${bad.length} identifier${bad.length === 1 ? '' : 's'} cannot be ordered`, { detail: { subproblems: bad } });
    return [...out.values()];
  };

  /** The challenge types offered for an identifier: wildcards only dns-01 (RFC 8555 §7.1.3), IPs no dns-01 (RFC 8738 §7). */
  const challengeTypes = (p: AcmeProvisioner, i: AcmeIdentifier, wildcard: boolean): AcmeChallengeType[] =>
    p.challenges.filter((t) => (wildcard ? t === 'dns-01' : i.type === 'ip' ? t !== 'dns-01' : true));

  const optionalTime = (v: JsonValue | undefined, field: string): Date | undefined => {
    if (v === undefined) return undefined;
    const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) ? new Date(v) : undefined;
    if (d === undefined || Number.isNaN(d.getTime())) throw malformed(`"${field}" must be an RFC 3339 time`);
    return d;
  };

  // -- EAB (RFC 8555 §7.3.4)

  const checkEab = async (p: AcmeProvisioner, v: JsonValue | undefined, outerUrl: string, key: AccountKey): Promise<string | undefined> => {
    if (v === undefined) {
      if (p.requireEAB) throw new SignetError('ERR_ACME_EXTERNAL_ACCOUNT_REQUIRED', `provisioner ${p.name} requires an external account binding`);
      return undefined;
    }
    const binding = parseExternalAccountBinding(v, outerUrl, key.thumbprint);
    const eab = await store.acme.getEabKey(binding.keyId);
    if (eab === undefined || eab.provisioner !== p.name) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'unknown external account key');
    if (eab.accountId !== undefined) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this external account key is already bound to an account');
    if (!eabMacVerifies(binding, eab.hmacKey)) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'the external account binding signature does not verify');
    return eab.keyId;
  };

  const readContact = (v: JsonValue | undefined): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length > MAX_CONTACTS) throw malformed(`"contact" must be a list of at most ${MAX_CONTACTS} URLs`);
    return v.map((c) => {
      if (typeof c !== 'string') throw malformed('each contact is a string');
      if (!c.startsWith('mailto:')) throw new SignetError('ERR_ACME_UNSUPPORTED_CONTACT', `contact ${JSON.stringify(c.slice(0, 64))}: only mailto: URLs are supported`);
      const address = c.slice('mailto:'.length);
      if (address.length > 254 || !/^[^\s@,?<>()[\]\\;:"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(address)) throw new SignetError('ERR_ACME_INVALID_CONTACT', `contact ${JSON.stringify(c.slice(0, 64))} is not one e-mail address`);
      return c;
    });
  };

  const base = '/acme/:p';
  const post = (path: string, fn: (req: RouteRequest, p: AcmeProvisioner, u: Urls) => Promise<RouteResponse>): Route => ({ method: 'POST', path: `${base}${path}`, handler: handle(fn) });

  const routes: Route[] = [
    {
      method: 'GET',
      path: `${base}/directory`,
      handler: handle((_req, p, u) => ({
        json: {
          newNonce: `${u.root}/new-nonce`,
          newAccount: `${u.root}/new-account`,
          newOrder: `${u.root}/new-order`,
          revokeCert: `${u.root}/revoke-cert`,
          keyChange: `${u.root}/key-change`,
          renewalInfo: `${u.root}/renewal-info`,
          meta: {
            ...(p.termsOfService !== undefined && { termsOfService: p.termsOfService }),
            externalAccountRequired: p.requireEAB,
          },
        },
      })),
    },
    {
      method: 'GET',
      path: `${base}/new-nonce`,
      // RFC 8555 §7.2: HEAD answers 200, GET 204; the nonce rides in Replay-Nonce.
      handler: handle((req) => ({ status: req.method === 'HEAD' ? 200 : 204, body: '', contentType: 'text/plain' })),
    },
    post('/new-account', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'jwk');
      const key = auth.key as AccountKey;
      const payload = auth.jws.payload ?? {};
      const existing = await store.acme.findAccountByKey(p.name, key.thumbprint);
      if (existing !== undefined) {
        if (existing.status !== 'valid') throw new SignetError('ERR_ACME_UNAUTHORIZED', `the account of this key is ${existing.status}`);
        return { status: 200, json: accountJson(existing, u), headers: { location: u.account(existing.id) } };
      }
      if (own(payload, 'onlyReturnExisting') === true) throw new SignetError('ERR_ACME_ACCOUNT_DOES_NOT_EXIST', 'no account exists for this key');
      const contact = readContact(own(payload, 'contact')) ?? [];
      const agreed = own(payload, 'termsOfServiceAgreed') === true;
      if (p.termsOfService !== undefined && !agreed) throw new SignetError('ERR_ACME_USER_ACTION_REQUIRED', `agree to the terms of service at ${p.termsOfService} (termsOfServiceAgreed)`);
      const eabKeyId = await checkEab(p, own(payload, 'externalAccountBinding'), auth.jws.url, key);
      const account: AcmeAccount = {
        id: newId(),
        provisioner: p.name,
        keyThumbprint: key.thumbprint,
        jwk: key.jwk,
        status: 'valid',
        contact,
        termsAgreed: agreed,
        ...(eabKeyId !== undefined && { eabKeyId }),
        createdAt: now(),
      };
      const created = await store.transaction(async (tx) => {
        const r = await tx.acme.createAccount(account);
        if (r.created && eabKeyId !== undefined && !(await tx.acme.bindEabKey(eabKeyId, account.id, account.createdAt))) {
          throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this external account key is already bound to an account');
        }
        if (r.created) {
          await tx.audit.append({ time: account.createdAt, type: 'acme.account.create', outcome: 'success', actor: `acme:${p.name}/${account.id}`, provisioner: p.name, detail: { contact, ...(eabKeyId !== undefined && { eabKeyId }) } });
        }
        return r;
      });
      return { status: created.created ? 201 : 200, json: accountJson(created.account, u), headers: { location: u.account(created.account.id) } };
    }),
    post('/account/:id', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      if (account.id !== req.params.id) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'an account can read and change only itself');
      const payload = auth.jws.payload;
      if (payload === undefined || Object.keys(payload).length === 0) return { json: accountJson(account, u), headers: { location: u.account(account.id) } };
      const status = own(payload, 'status');
      if (status !== undefined && status !== 'deactivated' && status !== 'valid') throw malformed('an account may only set its status to "deactivated"');
      const contact = readContact(own(payload, 'contact'));
      // The change and its audit event commit together.
      const result = await store.transaction(async (tx) => {
        const r = await tx.acme.updateAccount(account.id, { ...(contact !== undefined && { contact }), ...(status === 'deactivated' && { status: 'deactivated' as const }) });
        if (r.result === 'updated' && status === 'deactivated') {
          await tx.audit.append({ time: now(), type: 'acme.account.deactivate', outcome: 'success', actor: `acme:${p.name}/${account.id}`, provisioner: p.name });
        }
        return r;
      });
      if (result.result !== 'updated') throw new SignetError('ERR_ACME_UNAUTHORIZED', `the account is ${result.result}`);
      return { json: accountJson(result.account, u), headers: { location: u.account(account.id) } };
    }),
    post('/account/:id/orders', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      if (account.id !== req.params.id) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'an account can list only its own orders');
      const cursor = req.query.get('cursor') ?? undefined;
      const page = await store.acme.listOrders(account.id, { limit: 100, ...(cursor !== undefined && { cursor }) });
      const headers: Record<string, string> = page.nextCursor !== undefined ? { link: `<${u.orders(account.id)}?cursor=${page.nextCursor}>;rel="next"` } : {};
      return { json: { orders: page.items.map((o) => u.order(o.id)) }, headers };
    }),
    post('/new-order', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      const payload = auth.jws.payload;
      if (payload === undefined) throw malformed('newOrder needs a payload with "identifiers"');
      const identifiers = readIdentifiers(own(payload, 'identifiers'));
      const notBefore = optionalTime(own(payload, 'notBefore'), 'notBefore');
      const notAfter = optionalTime(own(payload, 'notAfter'), 'notAfter');
      if (notBefore !== undefined && notAfter !== undefined && notAfter <= notBefore) throw malformed('"notAfter" must be after "notBefore"');
      const replaces = await replacedCertificate(own(payload, 'replaces'), account, p);
      // Policy first, one subproblem per refused identifier (RFC 8555 §6.7.1).
      const refused = identifiers.flatMap((i) => {
        try {
          options.authority().checkAcmeIdentifiers(p.name, [i]);
          return [];
        } catch (e) {
          if (!isSignetError(e) || e.code !== 'ERR_POLICY_DENIED') throw e;
          return [subproblem(e, i)];
        }
      });
      if (refused.length > 0) throw new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `the CA's policy does not allow ${refused.map((r) => r.identifier?.value).join(', ')}`, { detail: { subproblems: refused } });
      const at = now();
      const expiresAt = new Date(at.getTime() + ORDER_LIFETIME_MS);
      const authzIds: string[] = [];
      const fresh: AcmeAuthorization[] = [];
      for (const ident of identifiers) {
        const wildcard = ident.type === 'dns' && ident.value.startsWith('*.');
        const bare: AcmeIdentifier = wildcard ? { type: 'dns', value: ident.value.slice(2) } : ident;
        const reuse = await store.acme.findValidAuthorization(account.id, bare, wildcard, at);
        if (reuse !== undefined) {
          authzIds.push(reuse.id);
          continue;
        }
        const types = challengeTypes(p, bare, wildcard);
        if (types.length === 0) {
          const refusal = new SignetError('ERR_ACME_REJECTED_IDENTIFIER', `no challenge this provisioner offers can validate ${ident.value}${wildcard ? ' (wildcards need dns-01)' : ''}`);
          throw new SignetError(refusal.code, refusal.message, { detail: { subproblems: [subproblem(refusal, ident)] } });
        }
        const id = newId();
        authzIds.push(id);
        fresh.push({
          id,
          accountId: account.id,
          identifier: bare,
          wildcard,
          status: 'pending',
          expiresAt,
          createdAt: at,
          challenges: types.map((type) => ({ id: newId(), authorizationId: id, type, token: randomBytes(32).toString('base64url'), status: 'pending', updatedAt: at })),
        });
      }
      const order: AcmeOrder = {
        id: newId(),
        accountId: account.id,
        status: 'pending',
        identifiers,
        authorizations: authzIds,
        ...(notBefore !== undefined && { notBefore }),
        ...(notAfter !== undefined && { notAfter }),
        expiresAt,
        ...(replaces !== undefined && { replaces }),
        createdAt: at,
      };
      await store.acme.createOrder(order, fresh);
      const authzs = await store.acme.getAuthorizations(authzIds);
      return { status: 201, json: orderJson(order, authzs, u), headers: { location: u.order(order.id) } };
    }),
    post('/order/:id', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const order = await ownOrder(req, requireAccount(auth));
      return { json: orderJson(order, await store.acme.getAuthorizations(order.authorizations), u) };
    }),
    post('/order/:id/finalize', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      const order = await ownOrder(req, account);
      const payload = auth.jws.payload;
      const csrText = payload === undefined ? undefined : own(payload, 'csr');
      if (typeof csrText !== 'string' || !/^[A-Za-z0-9_-]+$/.test(csrText)) throw malformed('finalize needs "csr": the base64url DER of a PKCS#10 request');
      const authzs = await store.acme.getAuthorizations(order.authorizations);
      const status = orderStatus(order, authzs, now());
      if (status !== 'ready') throw new SignetError('ERR_ACME_ORDER_NOT_READY', `the order is ${status}, not ready${status === 'pending' ? ': complete its authorizations first' : ''}`);
      // One finalization per order, across replicas: pending → processing is a compare-and-set.
      if (!(await store.acme.updateOrder(order.id, 'pending', { status: 'processing' }))) throw new SignetError('ERR_ACME_ORDER_NOT_READY', 'the order is being finalized already');
      try {
        await options.authority().issueAcme({
          provisioner: p.name,
          requester: `acme:${p.name}/${account.id}`,
          csr: Buffer.from(csrText, 'base64url'),
          identifiers: order.identifiers,
          ...(order.notBefore !== undefined && { notBefore: order.notBefore }),
          ...(order.notAfter !== undefined && { notAfter: order.notAfter }),
          ...(order.replaces !== undefined && { replaces: order.replaces }),
          inTx: async (tx, record) => {
            if (!(await tx.acme.updateOrder(order.id, 'processing', { status: 'valid', certificateSerial: record.serial }))) {
              throw new SignetError('ERR_ACME_ORDER_NOT_READY', 'the order changed while it was finalized');
            }
          },
        });
      } catch (e) {
        // A refused CSR leaves the order ready for another one.
        await store.acme.updateOrder(order.id, 'processing', { status: 'pending' }).catch(() => false);
        throw e;
      }
      const done = (await store.acme.getOrder(order.id)) as AcmeOrder;
      return { json: orderJson(done, authzs, u), headers: { location: u.order(order.id) } };
    }),
    post('/authz/:id', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      const authz = await store.acme.getAuthorization(req.params.id ?? '');
      if (authz === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', 'no such authorization');
      if (authz.accountId !== account.id) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this authorization belongs to another account');
      const payload = auth.jws.payload;
      if (payload !== undefined && Object.keys(payload).length > 0) {
        if (own(payload, 'status') !== 'deactivated') throw malformed('an authorization may only be updated to {"status": "deactivated"}');
        const moved = (await store.acme.updateAuthorization(authz.id, 'pending', 'deactivated')) || (await store.acme.updateAuthorization(authz.id, 'valid', 'deactivated'));
        if (!moved) throw malformed(`the authorization is ${authz.status} and cannot be deactivated`);
        return { json: authzJson((await store.acme.getAuthorization(authz.id)) as AcmeAuthorization, u) };
      }
      return { json: authzJson(authz, u) };
    }),
    post('/chall/:id', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      const challenge = await store.acme.getChallenge(req.params.id ?? '');
      const authz = challenge === undefined ? undefined : await store.acme.getAuthorization(challenge.authorizationId);
      if (challenge === undefined || authz === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', 'no such challenge');
      if (authz.accountId !== account.id) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this challenge belongs to another account');
      const headers = { link: `<${u.authz(authz.id)}>;rel="up"` };
      // POST-as-GET reads; any JSON object (RFC 8555 §7.5.1: "{}") asks for validation.
      if (auth.jws.payload === undefined) return { json: challengeJson(challenge, u), headers };
      if (challenge.status !== 'pending') return { json: challengeJson(challenge, u), headers };
      if (authzStatus(authz, now()) !== 'pending') throw malformed(`the authorization is ${authzStatus(authz, now())}`);
      if (await store.acme.updateChallenge(challenge.id, 'pending', { status: 'processing', at: now() })) runValidation(challenge, authz, account);
      const current = (await store.acme.getChallenge(challenge.id)) as AcmeChallenge;
      return { json: challengeJson(current, u), headers };
    }),
    {
      method: 'GET',
      path: `${base}/renewal-info/:certid`,
      handler: handle(async (req) => {
        const serial = certIdSerial(req.params.certid ?? '');
        const record = serial === undefined ? undefined : await store.certificates.get(serial);
        if (record === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', 'no certificate of this CA has that ARI certificate id');
        const at = now();
        const set = await store.acme.getRenewalWindow(record.serial);
        let window: { start: Date; end: Date };
        if (record.status === 'revoked') {
          // RFC 9773 §4.2: a revoked certificate should be replaced at once — a window already open.
          const start = record.revokedAt ?? at;
          window = { start, end: new Date(Math.max(start.getTime(), at.getTime()) + 60_000) };
        } else if (set !== undefined) {
          window = set;
        } else {
          // The default: the last third of the lifetime.
          const life = record.notAfter.getTime() - record.notBefore.getTime();
          window = { start: new Date(record.notBefore.getTime() + Math.floor((2 * life) / 3)), end: record.notAfter };
        }
        return {
          json: { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() }, ...(set?.explanationUrl !== undefined && { explanationURL: set.explanationUrl }) },
          headers: { 'retry-after': String(RENEWAL_INFO_RETRY_SECONDS) },
        };
      }),
    },
    post('/key-change', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      if (auth.jws.payload === undefined) throw malformed('keyChange needs the inner JWS as its payload');
      const inner = parseAcmeJws(auth.jws.payload, auth.jws.url, { inner: true });
      const newKey = importAccountKey(inner.jwk);
      verifyAcmeSignature(inner, newKey.key);
      const payload = inner.payload;
      if (payload === undefined || own(payload, 'account') !== auth.jws.kid) throw malformed('the inner payload must name this account in "account"');
      let oldThumbprint: string | undefined;
      try {
        oldThumbprint = importAccountKey(own(payload, 'oldKey')).thumbprint;
      } catch {
        oldThumbprint = undefined;
      }
      if (oldThumbprint !== account.keyThumbprint) throw new SignetError('ERR_ACME_UNAUTHORIZED', '"oldKey" is not the account\'s current key');
      if (newKey.thumbprint === account.keyThumbprint) throw malformed('the new key is the current key');
      const result = await store.transaction(async (tx) => {
        const r = await tx.acme.updateAccount(account.id, { jwk: newKey.jwk, keyThumbprint: newKey.thumbprint });
        if (r.result === 'updated') {
          await tx.audit.append({ time: now(), type: 'acme.account.key-change', outcome: 'success', actor: `acme:${p.name}/${account.id}`, provisioner: p.name, detail: { from: account.keyThumbprint, to: newKey.thumbprint } });
        }
        return r;
      });
      if (result.result === 'key-in-use') {
        const holder = await store.acme.findAccountByKey(p.name, newKey.thumbprint);
        throw new SignetError('ERR_ACME_CONFLICT', 'another account uses the new key', { detail: { location: holder === undefined ? undefined : u.account(holder.id) } });
      }
      if (result.result !== 'updated') throw new SignetError('ERR_ACME_UNAUTHORIZED', `the account is ${result.result}`);
      return { json: accountJson(result.account, u), headers: { location: u.account(account.id) } };
    }),
    post('/revoke-cert', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'either');
      const payload = auth.jws.payload;
      const text = payload === undefined ? undefined : own(payload, 'certificate');
      if (typeof text !== 'string' || !/^[A-Za-z0-9_-]+$/.test(text)) throw malformed('revokeCert needs "certificate": the base64url DER of the certificate');
      const der = Buffer.from(text, 'base64url');
      let cert;
      try {
        cert = parseCertificate(der);
      } catch {
        throw malformed('"certificate" is not a DER certificate');
      }
      const reasonCode = payload === undefined ? undefined : own(payload, 'reason');
      if (reasonCode !== undefined && (typeof reasonCode !== 'number' || !REVOCATION_REASON_CODES.has(reasonCode))) {
        throw new SignetError('ERR_ACME_BAD_REVOCATION_REASON', `revocation reason ${JSON.stringify(reasonCode)} is not allowed; use one of ${[...REVOCATION_REASON_CODES].join(', ')}`);
      }
      const record = await store.certificates.get(serialHex(cert.serialNumber));
      if (record === undefined || !Buffer.from(record.der).equals(der)) throw new SignetError('ERR_ACME_NOT_FOUND', 'this CA did not issue that certificate');
      let actor: string;
      if (auth.account !== undefined) {
        const account = auth.account;
        actor = `acme:${p.name}/${account.id}`;
        if (record.requester !== actor) {
          // RFC 8555 §7.6: an account holding valid authorizations for every name may revoke too.
          const names = record.names.filter((n) => n.type === 'dns' || n.type === 'ip');
          const at = now();
          const held = await Promise.all(
            names.map(async (n) => {
              const wildcard = n.type === 'dns' && n.value.startsWith('*.');
              const ident: AcmeIdentifier = { type: n.type as 'dns' | 'ip', value: wildcard ? n.value.slice(2) : n.value.toLowerCase() };
              return (await store.acme.findValidAuthorization(account.id, ident, wildcard, at)) !== undefined;
            }),
          );
          if (names.length === 0 || held.includes(false)) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this account neither requested the certificate nor holds authorizations for all its names');
        }
      } else {
        // Signed with a key in "jwk": it must be the certificate's own key.
        const key = auth.key as AccountKey;
        const certKey = cert.publicKey;
        if (certKey === undefined || !certKey.equals(key.key)) throw new SignetError('ERR_ACME_UNAUTHORIZED', 'the request is signed neither by an account nor by the certificate\'s key');
        actor = `acme:${p.name} (certificate key)`;
      }
      const reason = reasonCode === undefined ? undefined : CRL_REASONS[reasonCode];
      const result = await options.authority().revokeAuthorized({ serial: record.serial, actor, ...(reason !== undefined && { reason }) });
      if (result.outcome === 'already-revoked') throw new SignetError('ERR_ACME_ALREADY_REVOKED', `certificate ${record.serial} is revoked already`);
      return { status: 200, body: '', contentType: 'text/plain' };
    }),
    post('/cert/:serial', async (req, p, u) => {
      const auth = await authenticate(req, p, u, 'kid');
      const account = requireAccount(auth);
      const serial = req.params.serial ?? '';
      const record = /^[0-9a-f]{2,40}$/.test(serial) ? await store.certificates.get(serial) : undefined;
      if (record === undefined) throw new SignetError('ERR_ACME_NOT_FOUND', 'no such certificate');
      if (record.requester !== `acme:${p.name}/${account.id}`) {
        throw new SignetError('ERR_ACME_UNAUTHORIZED', 'this certificate was issued to another account');
      }
      const pem = [record.der, ...options.chain].map((d) => encodePem('CERTIFICATE', d)).join('');
      return { body: pem, contentType: 'application/pem-certificate-chain' };
    }),
  ];

  const resumeStale = async (at: Date): Promise<number> => {
    const stale = await store.acme.staleChallenges(new Date(at.getTime() - staleAfterMs(options.config().acme.validationTimeoutMs)), 100);
    let resumed = 0;
    for (const challenge of stale) {
      const authz = await store.acme.getAuthorization(challenge.authorizationId);
      const account = authz === undefined ? undefined : await store.acme.getAccount(authz.accountId);
      if (authz === undefined || account === undefined || running.has(challenge.id)) continue;
      // Claim it (the timestamp moves, so no other tick takes it meanwhile), then validate afresh.
      if (!(await store.acme.updateChallenge(challenge.id, 'processing', { status: 'processing', at }))) continue;
      runValidation(challenge, authz, account);
      resumed++;
    }
    return resumed;
  };
  const renderUnrouted = (error: SignetError, path: string, requestId: string): RouteResponse | undefined => {
    if (!path.startsWith('/acme/')) return undefined;
    const problem = toProblem(error, requestId);
    return { status: problem.status, body: JSON.stringify(problem), contentType: 'application/problem+json', headers: { 'replay-nonce': options.nonces.issue() } };
  };
  return { routes, resumeStale, renderUnrouted };
}

export { NonceService };
export type { Authenticated };
