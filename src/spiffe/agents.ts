/**
 * Node attestation and what an attested agent may ask for (server side).
 *
 * - **Join tokens** (`signet token generate`): `<id>.<secret>`, single-use, with a TTL; only the
 *   SHA-256 of the secret is stored. An agent that presents one (and a CSR for its key) becomes
 *   `spiffe://<td>/signet/agent/join_token/<id>`, with the node selector `join_token:<id>`, and
 *   gets an agent SVID (`spiffe.agentSvidLifetime`). The token is used in the same transaction
 *   that records the agent: a banned agent does not use it up, and of two agents racing with one
 *   token exactly one attests.
 * - **x509pop** ({@link attestWithX509Pop}) and **TPM** ({@link requestTpmChallenge},
 *   {@link attestWithTpm}: EK certificate chain, AK attributes, credential activation).
 * - **Agent SVID renewal**: over mTLS with the agent's newest SVID, for a new key's CSR; an
 *   evicted agent (`signet agent evict`) must attest again, a banned one cannot do either.
 * - **Entries an agent may serve**: those whose parent is the agent, and those whose parent is a
 *   node entry (parent = the server) whose selectors the agent's node selectors all include.
 * - **Batch SVIDs**: X509-SVIDs (a CSR each) and JWT-SVIDs for such entries in one round trip,
 *   each through the authority's pipeline; an item the agent may not have is refused alone.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Authority, X509SvidOutcome } from '../ca/authority.js';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import type { AgentRecord, EntryRecord, JoinTokenUse, Store, StoreTx } from '../store/store.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifyChain } from '../x509/verify/verify-chain.js';
import { verifyRenewalToken } from '../ca/token.js';
import { checkSelector } from './entries.js';
import { agentSpiffeId } from './entries.js';
import { parseSpiffeId, type SpiffeId } from './id.js';
import { serverSpiffeId, type TrustDomainService } from './trust-domain.js';
import { checkAkPublic, checkEkPublic, makeCredential, parseTpm2bPublic } from './tpm.js';

/** Bounds of a join token's lifetime. */
export const MIN_JOIN_TOKEN_TTL_MS = 60_000;
export const MAX_JOIN_TOKEN_TTL_MS = 30 * 24 * 3_600_000;
/** JWT-SVIDs listed per audit event of a batch (well inside the store's 64 KiB of detail). */
const AUDIT_CHUNK = 200;

/** Most items in one batch request. */
export const MAX_BATCH = 500;

/** The placeholder of a batch item until its outcome is known (one shared error: creating one per item costs a stack trace each). */
const PENDING = new SignetError('ERR_INTERNAL', 'this item of the batch was not processed');

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A new join token for an agent of `trustDomain`, stored (hashed); the token text is shown once. */
export async function generateJoinToken(store: Store, trustDomain: string, ttlMs: number, now: Date): Promise<{ readonly token: string; readonly id: string; readonly expiresAt: Date }> {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < MIN_JOIN_TOKEN_TTL_MS || ttlMs > MAX_JOIN_TOKEN_TTL_MS) throw new SignetError('ERR_BAD_OPTION', 'a join token lives 1m to 30d');
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs);
  await store.transaction(async (tx) => {
    await tx.spiffe.addJoinToken({ id, secretHash: sha256(secret), createdAt: now, expiresAt, trustDomain });
    await tx.audit.append({ time: now, type: 'spiffe.join-token.create', outcome: 'success', actor: 'operator (signet token generate)', detail: { id, trustDomain, expiresAt: expiresAt.toISOString() } });
  });
  return { token: `${id}.${secret}`, id, expiresAt };
}

/** Why a join token was not accepted, as the attestation error says it. */
const JOIN_TOKEN_REFUSALS: Readonly<Record<Exclude<JoinTokenUse, 'used'>, string>> = {
  'already-used': 'the join token has been used',
  expired: 'the join token has expired',
  unknown: 'the join token is unknown',
  'wrong-trust-domain': 'the join token is for an agent of another trust domain (name it as trustDomain)',
};

function attestationFailed(message: string, reason: string): SignetError {
  return new SignetError('ERR_ATTESTATION_FAILED', `node attestation failed: ${message}`, { detail: { reason } });
}

/** What the agent endpoints need. */
export interface AgentContext {
  readonly store: Store;
  readonly authority: () => Authority;
  readonly clock: Clock;
  /** The trust domain the agents belong to, and its JWT signer. */
  readonly trustDomain: TrustDomainService;
  readonly agentSvidLifetimeMs: number;
  /** x509pop: the CA certificates node certificates must chain to (empty: x509pop is not configured). */
  readonly x509popRoots: readonly Certificate[];
  /** TPM: the manufacturer CA certificates EK certificates must chain to (empty: TPM attestation is not configured). */
  readonly tpmEkRoots: readonly Certificate[];
  /** The entries each agent may serve, as last computed (see {@link AuthorizedEntriesCache}). */
  readonly authorized?: AuthorizedEntriesCache;
}

/**
 * The entries agents may serve, remembered per agent with the entry revision and the agent record
 * they were computed from: a batch looks them up again only when an entry changed or the agent
 * attested again — instead of walking its entries on every batch. After a few entry changes the
 * remembered set is brought up to date from the changes alone (entries under the agent's own ID
 * or its node aliases come and go); a changed node entry, or many changes, recompute it.
 */
export class AuthorizedEntriesCache {
  readonly #max: number;
  readonly #cache = new Map<string, { readonly revision: bigint; readonly agentUpdatedAt: number; readonly parents: ReadonlySet<string>; readonly entries: Map<string, EntryRecord> }>();

  constructor(maxAgents = 10_000) {
    this.#max = maxAgents;
  }

  /** The entries `agent` may serve now (do not modify the map). */
  async get(store: Store, agent: AgentRecord): Promise<Map<string, EntryRecord>> {
    const revision = await store.spiffe.entryRevision();
    const hit = this.#cache.get(agent.spiffeId);
    if (hit !== undefined && hit.agentUpdatedAt === agent.updatedAt.getTime()) {
      if (hit.revision === revision) return hit.entries;
      const changed = await changesSince(store, hit.revision, parseSpiffeId(agent.spiffeId).trustDomain);
      if (changed !== undefined) {
        const entries = new Map(hit.entries);
        for (const e of changed) {
          if (e.deletedAt === undefined && hit.parents.has(e.parentId)) entries.set(e.id, e);
          else entries.delete(e.id);
        }
        this.#remember(agent, { revision, agentUpdatedAt: hit.agentUpdatedAt, parents: hit.parents, entries });
        return entries;
      }
    }
    const { parents, entries } = await authorizedEntriesWithParents(store, agent);
    // A change that landed while they were read is seen by the next batch (its revision is newer).
    this.#remember(agent, { revision, agentUpdatedAt: agent.updatedAt.getTime(), parents, entries });
    return entries;
  }

  #remember(agent: AgentRecord, v: { readonly revision: bigint; readonly agentUpdatedAt: number; readonly parents: ReadonlySet<string>; readonly entries: Map<string, EntryRecord> }): void {
    this.#cache.delete(agent.spiffeId);
    if (this.#cache.size >= this.#max) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(agent.spiffeId, v);
  }
}

/** An agent SVID (or a batch item) as the endpoints answer it. */
export interface IssuedSvid {
  readonly spiffeId: string;
  /** Leaf first, then the intermediate (DER). */
  readonly chain: readonly Uint8Array[];
  readonly serial: string;
  readonly expiresAt: Date;
}

function firstIssued(outcomes: readonly X509SvidOutcome[]): IssuedSvid {
  const o = outcomes[0];
  if (o === undefined) throw new SignetError('ERR_INTERNAL', 'no SVID was issued');
  if (!o.ok) throw o.error;
  return { spiffeId: o.spiffeId, chain: [o.certificate, ...o.chain], serial: o.record.serial, expiresAt: o.record.notAfter };
}

/**
 * Records an attested agent (its node selectors; `spend` uses up what it attested with, in the
 * same transaction) and issues its agent SVID for `csr`.
 */
async function admitAgent(ctx: AgentContext, a: { readonly agentId: string; readonly attestor: string; readonly selectors: readonly string[]; readonly detail: Record<string, string>; readonly csr: Uint8Array; readonly now: Date; readonly spend?: (tx: StoreTx) => Promise<void> }): Promise<IssuedSvid> {
  await ctx.store.transaction(async (tx) => {
    await a.spend?.(tx);
    await tx.spiffe.attestAgent({ spiffeId: a.agentId, attestor: a.attestor, selectors: a.selectors }, a.now);
    await tx.audit.append({ time: a.now, type: 'spiffe.agent.attest', outcome: 'success', actor: a.agentId, detail: { attestor: a.attestor, ...a.detail } });
  });
  const svid = firstIssued(await ctx.authority().issueX509Svids([{ spiffeId: a.agentId, dnsNames: [], csr: a.csr, ttlMs: ctx.agentSvidLifetimeMs }], a.agentId));
  await ctx.store.spiffe.renewAgent(a.agentId, svid.serial, svid.expiresAt, a.now);
  return svid;
}

/** Attests an agent with a join token and issues its agent SVID for `csr`. */
async function joinTokenAttestation(ctx: AgentContext, token: string, csr: Uint8Array): Promise<IssuedSvid> {
  const m = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!m) throw attestationFailed('the join token is malformed (expected ID.SECRET from signet token generate)', 'malformed');
  const [, id, secret] = m as unknown as [string, string, string];
  // The CSR (signature, key type) is checked before the token is used: a bad request does not burn the token.
  ctx.authority().checkSvidCsr(csr);
  const td = ctx.trustDomain.trustDomain;
  const agentId = agentSpiffeId(td, 'join_token', id);
  const now = ctx.clock.now();
  const spend = async (tx: StoreTx): Promise<void> => {
    const use = await tx.spiffe.useJoinToken(id, sha256(secret), now, agentId, td);
    if (use !== 'used') throw attestationFailed(JOIN_TOKEN_REFUSALS[use], use);
  };
  return admitAgent(ctx, { agentId, attestor: 'join_token', selectors: [`join_token:${id}`], detail: { token: id }, csr, now, spend });
}

/**
 * The selectors a node certificate's chain yields that are valid selectors: one that cannot be
 * (control characters, too long) is left out rather than refused. Sorted, without duplicates.
 */
function validSelectors(candidates: readonly string[]): string[] {
  return [...new Set(candidates.filter((c) => {
    try {
      checkSelector(c);
      return true;
    } catch {
      return false;
    }
  }))].sort();
}

/**
 * Attests an agent by X.509 proof of possession (x509pop): `token` is a possession token (the
 * renewal token format: a JWS signed with the node certificate's key, the certificate in `x5c`,
 * audience = the attest URL, at most 5 min, a `jti` used once) and `intermediates` complete the
 * node certificate's chain to a configured x509pop CA. The agent becomes
 * `spiffe://TD/signet/agent/x509pop/<SHA-256 of the node certificate>` with the node selectors
 * `x509pop:subject:cn:…`, `x509pop:serialnumber:…`, `x509pop:san:dns:…` and
 * `x509pop:ca:fingerprint:…` (each CA certificate of the chain).
 */
async function x509PopAttestation(ctx: AgentContext, token: string, intermediates: readonly Uint8Array[], csr: Uint8Array, audience: readonly string[]): Promise<IssuedSvid> {
  if (ctx.x509popRoots.length === 0) throw attestationFailed('this CA has no x509pop CA (spiffe.x509popCaFile)', 'not-configured');
  ctx.authority().checkSvidCsr(csr);
  const now = ctx.clock.now();
  let chain: readonly Certificate[] = [];
  const claims = verifyRenewalToken(token, {
    audience,
    now,
    certificateKey: (der) => {
      const leaf = parseCertificate(der);
      try {
        chain = verifyChain(leaf, { roots: ctx.x509popRoots, intermediates: intermediates.map((d) => parseCertificate(d)), time: now }).chain;
      } catch (e) {
        throw attestationFailed(`the node certificate does not verify with the x509pop CA: ${isSignetError(e) ? e.message : 'unreadable'}`, 'untrusted');
      }
      const ku = leaf.ext.keyUsage?.usages;
      if (ku !== undefined && !ku.includes('digitalSignature')) throw attestationFailed('the node certificate may not sign (no digitalSignature)', 'untrusted');
      if (leaf.publicKey === undefined) throw attestationFailed('the node certificate\'s key cannot be read', 'untrusted');
      return leaf.publicKey;
    },
  });
  const leaf = chain[0] ?? parseCertificate(claims.certificate);
  const td = ctx.trustDomain.trustDomain;
  const agentId = agentSpiffeId(td, 'x509pop', createHash('sha256').update(claims.certificate).digest('hex'));
  const cn = leaf.subject.rdns.flat().find((a) => a.shortName === 'CN')?.value;
  const candidates = [
    ...(cn !== undefined ? [`x509pop:subject:cn:${cn}`] : []),
    `x509pop:serialnumber:${leaf.serialHex}`,
    ...(leaf.ext.subjectAltName ?? []).flatMap((n) => (n.type === 'dns' ? [`x509pop:san:dns:${n.value}`] : [])),
    ...chain.slice(1).map((c) => `x509pop:ca:fingerprint:${createHash('sha256').update(c.der).digest('hex')}`),
  ];
  const selectors = validSelectors(candidates);
  const spend = async (tx: StoreTx): Promise<void> => {
    if (!(await tx.tokens.consume({ provisioner: 'x509pop', jti: claims.jti, expiresAt: claims.rememberUntil }))) throw new SignetError('ERR_TOKEN_REPLAYED', 'this proof of possession has already been used', { hint: 'sign a new one for each attestation' });
  };
  return admitAgent(ctx, { agentId, attestor: 'x509pop', selectors, detail: { serial: leaf.serialHex, subject: leaf.subject.text }, csr, now, spend });
}

/** What an agent presents for TPM attestation (both steps). */
export interface TpmEvidence {
  /** The EK certificate (DER), as the TPM's NV index holds it. */
  readonly ekCertificate: Uint8Array;
  /** Certificates (DER) between it and a configured manufacturer CA. */
  readonly ekIntermediates: readonly Uint8Array[];
  /** The EK's public area (TPM2B_PUBLIC). */
  readonly ekPublic: Uint8Array;
  /** The attestation key's public area (TPM2B_PUBLIC). */
  readonly akPublic: Uint8Array;
}

/** The credential-activation challenge of step 1: both parts go to TPM2_ActivateCredential. */
export interface TpmChallenge {
  readonly id: string;
  /** TPM2B_ID_OBJECT. */
  readonly credentialBlob: Uint8Array;
  /** TPM2B_ENCRYPTED_SECRET. */
  readonly encryptedSecret: Uint8Array;
  readonly expiresAt: Date;
}

/** How long a TPM challenge may be answered. */
export const TPM_CHALLENGE_TTL_MS = 5 * 60_000;

/** TPM manufacturer attributes of an EK certificate's subjectAltName directoryName (TCG EK Credential Profile §3.2.9). */
const TPM_NAME_ATTRIBUTES: Readonly<Record<string, string>> = { '2.23.133.2.1': 'manufacturer', '2.23.133.2.2': 'model', '2.23.133.2.3': 'version' };

/** Checks TPM evidence (see {@link requestTpmChallenge}); the EK and AK as parsed, the agent's ID and node selectors, and what binds a challenge to them. */
function checkTpmEvidence(ctx: AgentContext, ev: TpmEvidence, now: Date) {
  const roots = ctx.tpmEkRoots;
  if (roots.length === 0) throw attestationFailed('this CA has no TPM manufacturer CA (spiffe.tpmEkCaFile)', 'not-configured');
  let chain: readonly Certificate[];
  try {
    chain = verifyChain(parseCertificate(ev.ekCertificate), { roots, intermediates: ev.ekIntermediates.map((d) => parseCertificate(d)), time: now }).chain;
  } catch (e) {
    throw attestationFailed(`the EK certificate does not verify with the TPM manufacturer CA: ${isSignetError(e) ? e.message : 'unreadable'}`, 'untrusted');
  }
  const leaf = chain[0] as Certificate;
  if (leaf.publicKey === undefined) throw attestationFailed('the EK certificate\'s key cannot be read', 'untrusted');
  const ek = parseTpm2bPublic(ev.ekPublic, 'the EK public area');
  checkEkPublic(ek, leaf.publicKey);
  const ak = parseTpm2bPublic(ev.akPublic, 'the AK public area');
  checkAkPublic(ak);
  const spki = ek.key.export({ format: 'der', type: 'spki' });
  const pubHash = createHash('sha256').update(spki).digest('hex');
  const tpmNames = (leaf.ext.subjectAltName ?? []).flatMap((n) => (n.type === 'dirName' && n.name !== undefined ? n.name.rdns.flat() : []));
  const selectors = validSelectors([
    `tpm:pub_hash:${pubHash}`,
    ...chain.slice(1).map((c) => `tpm:ca:fingerprint:${createHash('sha256').update(c.der).digest('hex')}`),
    ...tpmNames.flatMap((a) => (TPM_NAME_ATTRIBUTES[a.type] !== undefined ? [`tpm:${TPM_NAME_ATTRIBUTES[a.type] as string}:${a.value}`] : [])),
  ]);
  const binding = createHash('sha256').update(spki).update(ak.name).digest();
  return { ek, ak, agentId: agentSpiffeId(ctx.trustDomain.trustDomain, 'tpm', pubHash), selectors, binding, leaf };
}

const challengeHash = (secret: Uint8Array, binding: Uint8Array): Buffer => createHash('sha256').update(secret).update(binding).digest();

/**
 * TPM attestation, step 1: checks that the EK certificate chains to a configured manufacturer CA,
 * that the EK public area holds its key, and that the AK is a restricted signing key that cannot
 * leave its TPM; then makes a credential (a random 32-byte secret) that only the TPM holding that
 * EK with that AK loaded can activate. The challenge is stored (hash only, bound to the EK and
 * AK) for {@link TPM_CHALLENGE_TTL_MS} and can be answered once.
 */
async function tpmChallenge(ctx: AgentContext, ev: TpmEvidence): Promise<TpmChallenge> {
  const now = ctx.clock.now();
  const { ek, ak, binding } = checkTpmEvidence(ctx, ev, now);
  const secret = randomBytes(32);
  const made = makeCredential(ek, ak.name, secret);
  const id = randomBytes(16).toString('hex');
  const expiresAt = new Date(now.getTime() + TPM_CHALLENGE_TTL_MS);
  await ctx.store.spiffe.addTpmChallenge({ id, secretHash: challengeHash(secret, binding).toString('hex'), createdAt: now, expiresAt });
  return { id, credentialBlob: made.credentialBlob, encryptedSecret: made.encryptedSecret, expiresAt };
}

/**
 * TPM attestation, step 2: the agent presents the same evidence, the challenge's ID and the
 * secret its TPM recovered (TPM2_ActivateCredential), and a CSR for its agent SVID. The challenge
 * is used up whatever the answer. The agent becomes `spiffe://TD/signet/agent/tpm/<SHA-256 of the
 * EK's public key (SPKI)>` with the node selectors `tpm:pub_hash:…`, `tpm:ca:fingerprint:…` (each
 * CA certificate of the EK's chain) and `tpm:manufacturer:…`, `tpm:model:…`, `tpm:version:…` (from
 * the EK certificate).
 */
async function tpmAttestation(ctx: AgentContext, ev: TpmEvidence, challengeId: string, secret: Uint8Array, csr: Uint8Array): Promise<IssuedSvid> {
  const now = ctx.clock.now();
  const { agentId, selectors, binding, leaf } = checkTpmEvidence(ctx, ev, now);
  ctx.authority().checkSvidCsr(csr);
  const taken = await ctx.store.spiffe.takeTpmChallenge(challengeId, now);
  if (taken === 'unknown') throw attestationFailed('the TPM challenge is unknown (answered already, or never made)', 'unknown');
  if (taken === 'expired') throw attestationFailed('the TPM challenge has expired', 'expired');
  const expected = Buffer.from(taken.secretHash, 'hex');
  if (!timingSafeEqual(challengeHash(secret, binding), expected)) throw attestationFailed('the answer to the TPM challenge is wrong (not this EK and AK, or not activated by their TPM)', 'wrong-answer');
  return admitAgent(ctx, { agentId, attestor: 'tpm', selectors, detail: { ekSerial: leaf.serialHex, ekIssuer: leaf.issuer.text }, csr, now });
}

/**
 * Runs an attestation step; a refusal is written to the audit log (`spiffe.agent.attest`,
 * outcome failure, the error code as reason, the attestor and the refusal's reason in the detail)
 * before it reaches the caller. An audit write that fails does not mask the refusal.
 */
async function audited<T>(ctx: AgentContext, attestor: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (isSignetError(e)) {
      const reason = e.detail?.reason;
      await ctx.store.audit
        .append({ time: ctx.clock.now(), type: 'spiffe.agent.attest', outcome: 'failure', actor: 'unauthenticated', reason: e.code, detail: { attestor, message: e.message, ...(typeof reason === 'string' ? { reason } : {}) } })
        .catch(() => undefined);
    }
    throw e;
  }
}

/** Join-token attestation (see {@link joinTokenAttestation}), refusals audited. */
export const attestWithJoinToken = (ctx: AgentContext, token: string, csr: Uint8Array): Promise<IssuedSvid> => audited(ctx, 'join_token', () => joinTokenAttestation(ctx, token, csr));

/** x509pop attestation (see {@link x509PopAttestation}), refusals audited. */
export const attestWithX509Pop = (ctx: AgentContext, token: string, intermediates: readonly Uint8Array[], csr: Uint8Array, audience: readonly string[]): Promise<IssuedSvid> =>
  audited(ctx, 'x509pop', () => x509PopAttestation(ctx, token, intermediates, csr, audience));

/** TPM attestation, step 1 (see {@link tpmChallenge}), refusals audited. */
export const requestTpmChallenge = (ctx: AgentContext, ev: TpmEvidence): Promise<TpmChallenge> => audited(ctx, 'tpm', () => tpmChallenge(ctx, ev));

/** TPM attestation, step 2 (see {@link tpmAttestation}), refusals audited. */
export const attestWithTpm = (ctx: AgentContext, ev: TpmEvidence, challengeId: string, secret: Uint8Array, csr: Uint8Array): Promise<IssuedSvid> =>
  audited(ctx, 'tpm', () => tpmAttestation(ctx, ev, challengeId, secret, csr));

/** The attested, not banned agent a client certificate (its newest agent SVID) belongs to. */
export async function authenticateAgent(ctx: AgentContext, der: Uint8Array | undefined): Promise<AgentRecord> {
  const { record, spiffeId } = await ctx.authority().authenticateSvid(der);
  const agent = await ctx.store.spiffe.getAgent(spiffeId);
  if (agent === undefined) throw new SignetError('ERR_AGENT_NOT_FOUND', `${spiffeId} is not an attested agent (evicted, or never attested)`, { hint: 'attest again' });
  if (agent.banned) throw new SignetError('ERR_AGENT_BANNED', `agent ${spiffeId} is banned`);
  if (agent.serial !== record.serial) throw new SignetError('ERR_AUTH_CERTIFICATE', 'only the agent\'s newest SVID authenticates it');
  return agent;
}

/** Renews an agent's SVID for a new key (`csr`). */
export async function renewAgentSvid(ctx: AgentContext, der: Uint8Array | undefined, csr: Uint8Array): Promise<IssuedSvid> {
  const agent = await authenticateAgent(ctx, der);
  const svid = firstIssued(await ctx.authority().issueX509Svids([{ spiffeId: agent.spiffeId, dnsNames: [], csr, ttlMs: ctx.agentSvidLifetimeMs }], agent.spiffeId));
  if (!(await ctx.store.spiffe.renewAgent(agent.spiffeId, svid.serial, svid.expiresAt, ctx.clock.now()))) throw new SignetError('ERR_AGENT_BANNED', `agent ${agent.spiffeId} was banned or evicted meanwhile`);
  return svid;
}

/** Every live entry with `parentId`, all pages. */
async function entriesUnder(store: Store, filter: { parentId: string; selector?: string }): Promise<EntryRecord[]> {
  const out: EntryRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.spiffe.listEntries(filter, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/** The entries `agent` may serve (see the module comment), by entry ID, and the parent IDs they may have (the agent's and its node aliases'). */
async function authorizedEntriesWithParents(store: Store, agent: AgentRecord): Promise<{ readonly parents: ReadonlySet<string>; readonly entries: Map<string, EntryRecord> }> {
  const td = parseSpiffeId(agent.spiffeId).trustDomain;
  const have = new Set(agent.selectors);
  const parents = new Set<string>([agent.spiffeId]);
  for (const s of agent.selectors) {
    for (const e of await entriesUnder(store, { parentId: serverSpiffeId(td), selector: s })) {
      if (e.selectors.every((x) => have.has(x))) parents.add(e.spiffeId);
    }
  }
  const entries = new Map<string, EntryRecord>();
  for (const parent of parents) for (const e of await entriesUnder(store, { parentId: parent })) entries.set(e.id, e);
  return { parents, entries };
}

/** The entries `agent` may serve (see the module comment), by entry ID. */
export async function authorizedEntries(store: Store, agent: AgentRecord): Promise<Map<string, EntryRecord>> {
  return (await authorizedEntriesWithParents(store, agent)).entries;
}

/** Most entry changes an agent is sent one by one (one store page, with one row to spare to see more); beyond that it gets its whole list again. */
export const MAX_ENTRY_DELTA = 999;

/**
 * The entries changed after revision `after` (tombstones too), when they alone tell what changed
 * for an agent of `trustDomain`; undefined when they do not — more than MAX_ENTRY_DELTA changes,
 * or a node entry changed (it decides which agents an entry's parent alias covers, so entries an
 * agent may serve can change without changing themselves). Deleted entries are tombstones for a
 * week, far longer than a connected agent's polls apart (an agent away longer asks for the whole
 * list).
 */
async function changesSince(store: Store, after: bigint, trustDomain: string): Promise<readonly EntryRecord[] | undefined> {
  const changed = await store.spiffe.entriesSince(after, MAX_ENTRY_DELTA + 1);
  if (changed.length > MAX_ENTRY_DELTA) return undefined;
  const nodes = serverSpiffeId(trustDomain);
  return changed.some((e) => e.parentId === nodes) ? undefined : changed;
}

/**
 * What changed for an agent since revision `after`, given the entries it may serve now: the
 * changed ones it may serve (to add or replace) and the IDs of the other changed ones (deleted,
 * moved away: to drop when held). Undefined when a delta would not be exact (see changesSince):
 * the caller then sends the whole list.
 */
export async function entryDelta(store: Store, authorized: ReadonlyMap<string, EntryRecord>, after: bigint, trustDomain: string): Promise<{ readonly entries: EntryRecord[]; readonly removed: string[] } | undefined> {
  const changed = await changesSince(store, after, trustDomain);
  if (changed === undefined) return undefined;
  const entries: EntryRecord[] = [];
  const removed: string[] = [];
  for (const e of changed) {
    const now = authorized.get(e.id);
    if (now !== undefined) entries.push(now);
    else removed.push(e.id);
  }
  return { entries, removed };
}

/** One batch request of an agent. */
export interface BatchRequest {
  readonly x509: readonly { readonly entryId: string; readonly csr: Uint8Array }[];
  readonly jwt: readonly { readonly entryId: string; readonly audience: readonly string[] }[];
}

/** One item's answer: an SVID, or the error that refused it. */
export type BatchItem<T> = ({ readonly entryId: string } & ({ readonly ok: true } & T)) | { readonly entryId: string; readonly ok: false; readonly error: SignetError };

/** A batch's answers, in request order. */
export interface BatchResult {
  readonly x509: readonly BatchItem<IssuedSvid>[];
  readonly jwt: readonly BatchItem<{ readonly spiffeId: string; readonly token: string; readonly expiresAt: Date }>[];
}

/**
 * Issues the SVIDs an agent asks for, for entries it may serve: X509-SVIDs with the entry's DNS
 * names and TTL (default 1h), JWT-SVIDs with the entry's JWT TTL (default: the authority's
 * `jwtSvidDefaultLifetime`). Every item is audited.
 */
export async function issueBatch(ctx: AgentContext, agent: AgentRecord, request: BatchRequest): Promise<BatchResult> {
  if (request.x509.length + request.jwt.length > MAX_BATCH) throw new SignetError('ERR_REQUEST_INVALID', `a batch holds at most ${MAX_BATCH} items`);
  const entries = ctx.authorized !== undefined ? await ctx.authorized.get(ctx.store, agent) : await authorizedEntries(ctx.store, agent);
  const refused = (entryId: string): SignetError => new SignetError('ERR_FORBIDDEN_NAMES', `entry ${entryId.slice(0, 128)} is not one this agent may serve`);
  const x509Items: ({ index: number; entry: EntryRecord; csr: Uint8Array })[] = [];
  const x509: BatchItem<IssuedSvid>[] = request.x509.map((r, index) => {
    const entry = entries.get(r.entryId);
    if (entry === undefined) return { entryId: r.entryId, ok: false, error: refused(r.entryId) };
    x509Items.push({ index, entry, csr: r.csr });
    return { entryId: r.entryId, ok: false, error: PENDING };
  });
  const outcomes = await ctx.authority().issueX509Svids(
    x509Items.map((i) => ({ spiffeId: i.entry.spiffeId, dnsNames: i.entry.dnsNames, csr: i.csr, entryId: i.entry.id, ...(i.entry.x509TtlMs !== undefined ? { ttlMs: i.entry.x509TtlMs } : {}) })),
    agent.spiffeId,
  );
  outcomes.forEach((o, k) => {
    const item = x509Items[k];
    if (item === undefined) return;
    x509[item.index] = o.ok ? { entryId: item.entry.id, ok: true, spiffeId: o.spiffeId, chain: [o.certificate, ...o.chain], serial: o.record.serial, expiresAt: o.record.notAfter } : { entryId: item.entry.id, ok: false, error: o.error };
  });
  const jwt: BatchResult['jwt'][number][] = [];
  const defaultJwtTtl = ctx.authority().config.claims.jwtSvidDefaultLifetimeMs;
  const now = ctx.clock.now();
  // Checked one by one, then minted together (one key, signed back to back).
  const toMint: { readonly index: number; readonly entry: EntryRecord; readonly id: SpiffeId; readonly audience: readonly string[]; readonly ttlMs: number }[] = [];
  for (const r of request.jwt) {
    const entry = entries.get(r.entryId);
    if (entry === undefined) {
      jwt.push({ entryId: r.entryId, ok: false, error: refused(r.entryId) });
      continue;
    }
    try {
      if (r.audience.length === 0 || r.audience.length > 16 || r.audience.some((a) => typeof a !== 'string' || a === '' || a.length > 512)) throw new SignetError('ERR_REQUEST_INVALID', 'a JWT-SVID names 1 to 16 audiences of 1 to 512 characters');
      ctx.authority().checkSvidPolicy(entry.spiffeId);
      toMint.push({ index: jwt.length, entry, id: parseSpiffeId(entry.spiffeId), audience: r.audience, ttlMs: entry.jwtTtlMs ?? defaultJwtTtl });
      jwt.push({ entryId: entry.id, ok: false, error: PENDING });
    } catch (e) {
      if (!isSignetError(e)) throw e;
      jwt.push({ entryId: entry.id, ok: false, error: e });
    }
  }
  if (toMint.length > 0) {
    const minted = await ctx.trustDomain.mintMany(toMint);
    toMint.forEach((m, k) => {
      const o = minted[k];
      jwt[m.index] = o === undefined || o instanceof SignetError ? { entryId: m.entry.id, ok: false, error: o ?? PENDING } : { entryId: m.entry.id, ok: true, spiffeId: m.entry.spiffeId, token: o.token, expiresAt: o.expiresAt };
    });
  }
  // One audit event per AUDIT_CHUNK JWT-SVIDs (a JWT has no serial to file it under), each listing its items.
  const minted = jwt.flatMap((j) => (j.ok ? [{ entry: j.entryId, spiffeId: j.spiffeId, expiresAt: j.expiresAt.toISOString() }] : []));
  if (minted.length > 0) {
    await ctx.store.transaction(async (tx) => {
      for (let k = 0; k < minted.length; k += AUDIT_CHUNK) {
        await tx.audit.append({ time: now, type: 'spiffe.jwt-svid', outcome: 'success', actor: agent.spiffeId, provisioner: 'spiffe', detail: { count: Math.min(AUDIT_CHUNK, minted.length - k), items: minted.slice(k, k + AUDIT_CHUNK) } });
      }
    });
  }
  return { x509, jwt };
}
