/**
 * Federation (SPIFFE Federation standard): the CA fetches the bundle of each federated trust
 * domain from that domain's bundle endpoint and keeps it in the store, fetching it again when
 * its `spiffe_refresh_hint` says (clamped to {@link MIN_REFRESH_MS}…{@link MAX_REFRESH_MS}; 5 min
 * without a hint; one minute after a failure).
 *
 * Endpoint profiles (§5): `https_web` — the endpoint's TLS certificate must chain to the
 * relationship's CA certificates (or the system's roots) and name its host, as any HTTPS site;
 * `https_spiffe` — the endpoint's certificate must be an X509-SVID that verifies with the
 * foreign trust domain's own bundle (bootstrapped by the operator, then the last one fetched) and
 * carry exactly the SPIFFE ID the relationship names.
 *
 * What a fetch returns is read as strictly as go-spiffe reads a bundle; a document that fails
 * leaves the stored bundle as it was.
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { SignetError, isSignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';
import { fetchableUrl, fetchBytes } from '../client/fetch.js';
import type { BundleRecord, FederationRecord, Store } from '../store/store.js';
import { parseCertificate } from '../x509/certificate.js';
import { MAX_BUNDLE_BYTES, parseBundle, type TrustBundle } from './bundle.js';

/** Bounds of the refresh interval taken from a bundle's hint. */
export const MIN_REFRESH_MS = 5_000;
export const MAX_REFRESH_MS = 24 * 3_600_000;
/** Refresh interval of a bundle without a hint (SPIRE's default). */
export const DEFAULT_REFRESH_MS = 5 * 60_000;
/** Retry after a failed fetch. */
export const RETRY_MS = 60_000;
/** Deadline of one fetch. */
export const FETCH_TIMEOUT_MS = 10_000;

/** When to fetch a bundle again, by its refresh hint. */
export function refreshIntervalMs(bundle: TrustBundle): number {
  const hint = bundle.refreshHintSeconds;
  if (hint === undefined) return DEFAULT_REFRESH_MS;
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, hint * 1000));
}

/** SHA-256 (hex) of a bundle document: equal digests, equal documents. */
export function bundleDigest(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/** A stored bundle record, parsed. */
export function parseBundleRecord(record: BundleRecord): TrustBundle {
  return parseBundle(record.document, record.trustDomain);
}

function fetchError(rel: FederationRecord, e: unknown): SignetError {
  const why = isSignetError(e) ? `${e.message} (${e.code})` : 'unexpected failure';
  return new SignetError('ERR_BUNDLE_FETCH', `cannot fetch the bundle of ${rel.trustDomain} from ${rel.url}: ${why}`, { cause: e });
}

/**
 * Fetches the bundle of `rel`'s trust domain from its endpoint. `current` is the bundle held now
 * (required for https_spiffe: it authenticates the endpoint). ERR_BUNDLE_FETCH for every failure.
 */
export async function fetchFederatedBundle(rel: FederationRecord, current: TrustBundle | undefined): Promise<{ readonly document: string; readonly bundle: TrustBundle }> {
  try {
    const url = fetchableUrl(rel.url);
    if (url.protocol !== 'https:') throw new SignetError('ERR_BAD_OPTION', 'a bundle endpoint URL must be https');
    let roots = rel.caCertificates;
    let checkServerIdentity: ((host: string, cert: PeerCertificate) => Error | undefined) | undefined;
    if (rel.profile === 'https_spiffe') {
      if (current === undefined || current.x509Authorities.length === 0) throw new SignetError('ERR_SPIFFE_BUNDLE_INVALID', `there is no bundle of ${rel.trustDomain} to authenticate its endpoint with`);
      roots = current.x509Authorities.map((d) => encodePem('CERTIFICATE', d)).join('');
      const want = rel.endpointSpiffeId;
      checkServerIdentity = (_host, cert) => {
        const uris = (parseCertificate(new Uint8Array(cert.raw)).ext.subjectAltName ?? []).filter((n) => n.type === 'uri').map((n) => (n.type === 'uri' ? n.value : ''));
        return uris.length === 1 && uris[0] === want ? undefined : new Error(`the endpoint presents ${uris.length === 1 ? uris[0] ?? '' : `${uris.length} URI SANs`}, not ${want ?? ''}`);
      };
    }
    const fetched = await fetchBytes(url, { timeoutMs: FETCH_TIMEOUT_MS, maxBytes: MAX_BUNDLE_BYTES, accept: 'application/json', ...(roots !== undefined ? { roots } : {}), ...(checkServerIdentity ? { checkServerIdentity } : {}) });
    const document = new TextDecoder('utf-8', { fatal: true }).decode(fetched.body);
    return { document, bundle: parseBundle(document, rel.trustDomain) };
  } catch (e) {
    throw fetchError(rel, e);
  }
}

/** What one refresh of a relationship did. */
export interface FederationRefresh {
  readonly trustDomain: string;
  readonly outcome: 'updated' | 'unchanged' | 'failed';
  readonly sequence?: number;
  /** `CODE: message` of a failure. */
  readonly error?: string;
  readonly nextRefreshAt: Date;
}

/** Fetches one relationship's bundle now and stores the outcome (the bundle, or the failure). */
export async function refreshFederation(store: Store, clock: Clock, rel: FederationRecord): Promise<FederationRefresh> {
  const stored = await store.spiffe.getBundle(rel.trustDomain);
  let current: TrustBundle | undefined;
  try {
    current = stored === undefined ? undefined : parseBundleRecord(stored);
  } catch {
    current = undefined;
  }
  try {
    const { document, bundle } = await fetchFederatedBundle(rel, current);
    const now = clock.now();
    const next = new Date(now.getTime() + refreshIntervalMs(bundle));
    const digest = bundleDigest(document);
    await store.spiffe.saveFederatedBundle({ trustDomain: rel.trustDomain, kind: 'federated', document, digest, sequence: BigInt(bundle.sequence ?? 0), updatedAt: now }, next);
    return { trustDomain: rel.trustDomain, outcome: stored?.digest === digest ? 'unchanged' : 'updated', ...(bundle.sequence !== undefined ? { sequence: bundle.sequence } : {}), nextRefreshAt: next };
  } catch (e) {
    if (!isSignetError(e)) throw e;
    const next = new Date(clock.now().getTime() + RETRY_MS);
    const error = `${e.code}: ${e.message}`.slice(0, 1000);
    await store.spiffe.recordFederationFailure(rel.trustDomain, error, next);
    return { trustDomain: rel.trustDomain, outcome: 'failed', error, nextRefreshAt: next };
  }
}

/** Refreshes every relationship that is due (at most `limit`, most overdue first). */
export async function refreshDueFederations(store: Store, clock: Clock, limit = 100): Promise<FederationRefresh[]> {
  const due = await store.spiffe.dueFederations(clock.now(), limit);
  const out: FederationRefresh[] = [];
  for (const rel of due) out.push(await refreshFederation(store, clock, rel));
  return out;
}

/**
 * The bundle of a trust domain as this CA knows it: its own (published) or a federated one
 * (fetched). Undefined for any other trust domain.
 */
export async function knownBundle(store: Store, trustDomain: string): Promise<TrustBundle | undefined> {
  const record = await store.spiffe.getBundle(trustDomain);
  return record === undefined ? undefined : parseBundleRecord(record);
}
