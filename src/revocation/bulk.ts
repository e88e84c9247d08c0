/**
 * Incident response: revoking every certificate a query selects, in bulk.
 *
 * `survey` counts what a query selects, the way an incident needs it told: how many certificates
 * match, how many are already revoked, already expired, already replaced (renewed or rekeyed,
 * still valid), and how many are live with no replacement. `revokeSelection` revokes the ones
 * that are still valid and unexpired, a page at a time: each page (at most 1,000) is one short
 * transaction (one UPDATE), so no lock is held for long, and takes one revocation sequence number
 * (the CRL and OCSP watchers pick the page up at their next tick). Pages
 * follow the inventory's stable order (issuedAt, serial) by keyset, so the walk is linear however
 * large the selection, and revoking is idempotent: an interrupted run started again (`signet
 * revoke --incident ID`) only revokes what is left.
 *
 * The incident is one pair of audit events, `incident.revoke.start` (its id, query, reason and
 * survey) and `incident.revoke.done` (how many were revoked), not an event per certificate.
 */
import { randomBytes } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { formatTime } from '../core/duration.js';
import type { CertificateFilter, RenewalWindow, Store } from '../store/store.js';
import { pagesOf } from '../store/pages.js';
import { MAX_SERIALS } from '../store/validation.js';

/** Largest batch: what one store page and one revokeMany take. */
export const MAX_BATCH = MAX_SERIALS;

/** What a query selects, counted at one moment. Every matching certificate is in exactly one of the last four counts. */
export interface Survey {
  readonly matched: number;
  readonly alreadyRevoked: number;
  /** Not revoked, past notAfter: nothing to revoke, nothing relies on them. */
  readonly expired: number;
  /** Not revoked, unexpired, renewed or rekeyed: the owner has a replacement (the old one is still valid and is revoked). */
  readonly replaced: number;
  /** Not revoked, unexpired, no replacement: revoking these breaks whoever uses them until they get a new one. */
  readonly liveUnreplaced: number;
}

/** Counts what `filter` selects at `now`. */
export async function survey(store: Store, filter: CertificateFilter, now: Date): Promise<Survey> {
  let matched = 0;
  let alreadyRevoked = 0;
  let expired = 0;
  let replaced = 0;
  let liveUnreplaced = 0;
  for await (const page of pagesOf((p) => store.certificates.listStates(filter, p), MAX_BATCH)) {
    for (const c of page) {
      matched++;
      if (c.status === 'revoked') alreadyRevoked++;
      else if (c.notAfter.getTime() <= now.getTime()) expired++;
      else if (c.replaced) replaced++;
      else liveUnreplaced++;
    }
  }
  return { matched, alreadyRevoked, expired, replaced, liveUnreplaced };
}

/** Progress of a bulk revocation, after each page. */
export interface BulkProgress {
  /** Certificates revoked so far by this run. */
  readonly revoked: number;
  /** Pages (transactions) done. */
  readonly batches: number;
}

/** How to revoke. */
export interface BulkRevocation {
  readonly reason?: string;
  readonly at: Date;
  /** Certificates per transaction, 1…{@link MAX_BATCH}. */
  readonly batchSize: number;
  readonly onProgress?: (p: BulkProgress) => void;
}

/**
 * Revokes the certificates `filter` selects that are not revoked and not expired at `how.at`;
 * returns how many this run revoked. A certificate revoked meanwhile by someone else is skipped.
 */
export async function revokeSelection(store: Store, filter: CertificateFilter, how: BulkRevocation): Promise<BulkProgress> {
  if (!Number.isSafeInteger(how.batchSize) || how.batchSize < 1 || how.batchSize > MAX_BATCH) {
    throw new SignetError('ERR_BAD_OPTION', `the batch size must be a whole number from 1 to ${MAX_BATCH}`);
  }
  let revoked = 0;
  let batches = 0;
  // The walk follows the query as given (the survey's walk): adding status and expiry to it
  // would let the database pick an index that sorts the whole selection again for every page.
  // What is still worth revoking — valid, unexpired — is picked from each page here.
  for await (const page of pagesOf((p) => store.certificates.listStates(filter, p), how.batchSize)) {
    const live = page.filter((c) => c.status === 'valid' && c.notAfter.getTime() > how.at.getTime()).map((c) => c.serial);
    // One statement and one revocation sequence number per page.
    if (live.length > 0) revoked += (await store.certificates.revokeMany(live, { at: how.at, ...(how.reason !== undefined && { reason: how.reason }) })).length;
    batches++;
    how.onProgress?.({ revoked, batches });
  }
  return { revoked, batches };
}

/** A new incident id: 12 hex digits from the CSPRNG, printed and audited so a run can be resumed. */
export function newIncidentId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * The certificates `filters` select that are valid, unexpired at `now` and not replaced — the
 * ones whose owners must get a new certificate (`signet acme renewal-window`, `revoke --renew-first`).
 */
export async function liveUnreplaced(store: Store, filters: readonly CertificateFilter[], now: Date): Promise<string[]> {
  const serials: string[] = [];
  for (const f of filters) {
    for await (const page of pagesOf((p) => store.certificates.listStates(f, p), MAX_BATCH)) {
      for (const c of page) if (c.status === 'valid' && !c.replaced && c.notAfter.getTime() > now.getTime()) serials.push(c.serial);
    }
  }
  return serials;
}

/**
 * Sets the ARI renewal window (RFC 9773) of `serials` to `window`, with its `acme.renewal-window`
 * audit event (`detail` added to it), in one transaction: all of them or none. Returns how many were set.
 */
export async function setRenewalWindow(store: Store, serials: readonly string[], window: RenewalWindow, actor: string, detail: Record<string, unknown> = {}): Promise<number> {
  return store.transaction(async (tx) => {
    let n = 0;
    for (let i = 0; i < serials.length; i += MAX_BATCH) n += await tx.acme.setRenewalWindows(serials.slice(i, i + MAX_BATCH), window);
    await tx.audit.append({ time: window.setAt, type: 'acme.renewal-window', outcome: 'success', actor, detail: { ...detail, certificates: n, start: formatTime(window.start), end: formatTime(window.end), ...(window.explanationUrl !== undefined && { explanation: window.explanationUrl }) } });
    return n;
  });
}
