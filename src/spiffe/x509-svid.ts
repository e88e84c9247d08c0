/**
 * X509-SVID validation (X509-SVID standard §5, and go-spiffe's `x509svid.Verify`): the leaf has
 * exactly one URI SAN, a valid SPIFFE ID; it is not a CA and its key usage does not include
 * keyCertSign or cRLSign; its chain verifies up to an X.509 authority of the bundle of the ID's
 * own trust domain — never a pooled set of roots, so a CA of one trust domain cannot vouch for
 * another's workloads. Every refusal is ERR_X509_SVID_INVALID with `detail.reason`.
 */
import { SignetError, isSignetError } from '../core/errors.js';
import { parseCertificate, type Certificate } from '../x509/certificate.js';
import { verifyChain } from '../x509/verify/verify-chain.js';
import type { TrustBundle } from './bundle.js';
import { parseSpiffeId, type SpiffeId } from './id.js';

export type X509SvidReason = 'malformed' | 'no-spiffe-id' | 'not-leaf' | 'no-bundle' | 'chain';

/** Most certificates one presented chain may hold. */
export const MAX_X509_SVID_CHAIN = 8;

function refuse(reason: X509SvidReason, message: string, cause?: unknown): SignetError {
  return new SignetError('ERR_X509_SVID_INVALID', `invalid X509-SVID: ${message}`, { detail: { reason }, ...(cause !== undefined && { cause }) });
}

/** A verified X509-SVID. */
export interface VerifiedX509Svid {
  readonly id: SpiffeId;
  /** Leaf first, the trust domain's authority last. */
  readonly chain: readonly Certificate[];
}

/** The leaf's SPIFFE ID: its one URI SAN, parsed (ERR_X509_SVID_INVALID `no-spiffe-id` otherwise). */
function spiffeIdOf(leaf: Certificate): SpiffeId {
  const uris = (leaf.ext.subjectAltName ?? []).filter((n) => n.type === 'uri');
  if (uris.length !== 1) throw refuse('no-spiffe-id', `the leaf must carry exactly one URI SAN, it has ${uris.length}`);
  try {
    return parseSpiffeId(uris[0]?.type === 'uri' ? uris[0].value : '');
  } catch (e) {
    throw refuse('no-spiffe-id', 'the leaf\'s URI SAN is not a valid SPIFFE ID', e);
  }
}

/** A leaf's SPIFFE ID, read without verifying anything (undefined when there is none). */
export function x509SvidId(leaf: Uint8Array): SpiffeId | undefined {
  try {
    return spiffeIdOf(parseCertificate(leaf));
  } catch {
    return undefined;
  }
}

/** The trust domain of a leaf's SPIFFE ID, read without verifying anything (undefined when there is none): which bundle to fetch first. */
export const x509SvidTrustDomain = (leaf: Uint8Array): string | undefined => x509SvidId(leaf)?.trustDomain;

/** Verifies `chain` (DER, leaf first, then the intermediates it presented) at `now` with the bundle of its own trust domain. */
export function validateX509Svid(chain: readonly Uint8Array[], bundle: (trustDomain: string) => TrustBundle | undefined, now: Date): VerifiedX509Svid {
  if (chain.length === 0 || chain.length > MAX_X509_SVID_CHAIN) throw refuse('malformed', `a chain holds 1 to ${MAX_X509_SVID_CHAIN} certificates`);
  let certs: Certificate[];
  try {
    certs = chain.map((d) => parseCertificate(d));
  } catch (e) {
    throw refuse('malformed', 'a certificate of the chain cannot be parsed', e);
  }
  const leaf = certs[0] as Certificate;
  const id = spiffeIdOf(leaf);
  if (leaf.ext.basicConstraints?.ca === true) throw refuse('not-leaf', 'the leaf is a CA certificate');
  const ku = leaf.ext.keyUsage?.usages;
  if (ku !== undefined && (ku.includes('keyCertSign') || ku.includes('cRLSign'))) throw refuse('not-leaf', 'the leaf may sign certificates or CRLs (keyCertSign/cRLSign)');
  const b = bundle(id.trustDomain);
  if (b === undefined || b.trustDomain !== id.trustDomain || b.x509Authorities.length === 0) throw refuse('no-bundle', `there is no X.509 bundle for trust domain ${id.trustDomain}`);
  try {
    const verified = verifyChain(leaf, { roots: b.x509Authorities.map((d) => parseCertificate(d)), intermediates: certs.slice(1), time: now });
    return { id, chain: verified.chain };
  } catch (e) {
    if (!isSignetError(e)) throw e;
    throw refuse('chain', `the chain does not verify with the bundle of ${id.trustDomain}: ${e.message} (${e.code})`, e);
  }
}
