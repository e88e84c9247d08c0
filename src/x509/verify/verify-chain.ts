/**
 * Certification path building and validation: from an end-entity certificate, find a path
 * through untrusted intermediates to one of the trusted roots that passes RFC 5280 §6.1 and the
 * RFC 6125 identity check.
 *
 * Building (RFC 4158 in spirit): a depth-first search. The candidate issuers of a certificate are
 * the roots and intermediates whose subject matches its issuer (RFC 5280 §7.1). Candidates are
 * tried in order of preference — subjectKeyIdentifier equal to the child's
 * authorityKeyIdentifier first, unknown next, different last (AKI/SKI is a hint, never a
 * requirement); then valid at the verification time; then roots before intermediates — and on
 * failure the search backtracks, so a cross-signed or renewed intermediate with the same name but
 * another key, or an expired candidate, never hides a valid path. A certificate (same subject and
 * key) never appears twice in a path (loops), paths hold at most `maxDepth` intermediates, and the
 * whole search is bounded.
 *
 * When no path validates, the most relevant failure is reported: a complete path to a trusted
 * root that failed a check beats a depth-limit failure, which beats a path ending in an
 * untrusted self-signed certificate, which beats a signature that did not verify under a
 * same-named candidate, which beats "no issuer found"; within a kind the failure that got
 * furthest up the chain wins, and otherwise the first in preference order.
 */
import { SignetError } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import type { Certificate } from '../certificate.js';
import { isIpLiteral, normalizeHostname, parseReferenceIp } from './hostname.js';
import { nameKey } from './name-match.js';
import { checkSignature, isSelfIssuedCert, validatePath, verifyError, type PathChecks, type VerifyPurpose } from './validate-path.js';

/** Inputs of {@link verifyChain}. */
export interface VerifyOptions {
  /** Trust anchors. Their own signatures are not checked (RFC 5280 §6.1.1 (d)). */
  readonly roots: readonly Certificate[];
  /** Untrusted certificates that may be used to build the path (order does not matter). */
  readonly intermediates?: readonly Certificate[];
  /** The verification time (no ambient clock in the library: callers pass their Clock's now()). */
  readonly time: Date;
  /** Required extended key usage of the path: serverAuth, clientAuth, or none (`any`, the default). */
  readonly purpose?: VerifyPurpose;
  /** Reference DNS name (RFC 6125); an IP literal here is matched as an IP address. */
  readonly host?: string;
  /** Reference IP address, matched against iPAddress SANs only. */
  readonly ip?: string;
  /** Most intermediates allowed between leaf and root (OpenSSL's verify_depth). Default 10. */
  readonly maxDepth?: number;
}

/** A validated path. */
export interface VerifyResult {
  /** Leaf first, trust anchor last. A leaf that is itself a root yields a chain of one. */
  readonly chain: readonly Certificate[];
}

/** Default {@link VerifyOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 10;

/** Upper bound on candidate issuers examined in one search (cross-signing meshes can explode). */
const SEARCH_BUDGET = 2000;

interface Candidate {
  readonly cert: Certificate;
  readonly isRoot: boolean;
}

/** Failure kinds, most relevant last. */
const Rank = { NoIssuer: 0, Signature: 1, UntrustedRoot: 2, Depth: 3, Validation: 4 } as const;
type Rank = (typeof Rank)[keyof typeof Rank];

function normalizeChecks(options: VerifyOptions): PathChecks {
  const time = options.time;
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new SignetError('ERR_BAD_OPTION', 'the verification time is not a valid date');
  const purpose = options.purpose ?? 'any';
  if (purpose !== 'server' && purpose !== 'client' && purpose !== 'any') {
    throw new SignetError('ERR_BAD_OPTION', `unknown purpose "${String(purpose)}"`, { hint: 'use server, client or any' });
  }
  let host: string | undefined;
  let ipText = options.ip;
  if (options.host !== undefined) {
    if (isIpLiteral(options.host)) {
      if (ipText !== undefined && !equalBytes(parseReferenceIp(ipText), parseReferenceIp(options.host))) {
        throw new SignetError('ERR_BAD_OPTION', 'host and IP name different addresses');
      }
      ipText = options.host;
    } else {
      host = normalizeHostname(options.host);
    }
  }
  const ip = ipText === undefined ? undefined : parseReferenceIp(ipText);
  return { time, purpose, host, ip, ipText };
}

function sameKey(a: Certificate, b: Certificate): boolean {
  return a.fingerprintSha256 === b.fingerprintSha256 || (equalBytes(a.subject.der, b.subject.der) && equalBytes(a.spki, b.spki));
}

/**
 * Builds and validates a certification path for `leaf` (RFC 5280 §6, RFC 6125). Returns the
 * chain on success; throws a SignetError with an ERR_VERIFY_* code otherwise (detail: `depth` —
 * 0 is the leaf —, `subject`, `serial`, `fingerprint` of the certificate at fault, and the
 * `chain` of subjects that was tried). Invalid options throw ERR_BAD_OPTION.
 */
export function verifyChain(leaf: Certificate, options: VerifyOptions): VerifyResult {
  const checks = normalizeChecks(options);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new SignetError('ERR_BAD_OPTION', `max depth must be a non-negative integer, not ${maxDepth}`);
  const time = checks.time.getTime();

  // Candidate index by subject (RFC 5280 §7.1 match); roots win over identical intermediates.
  const index = new Map<string, Candidate[]>();
  const seen = new Set<string>();
  const add = (cert: Certificate, isRoot: boolean): void => {
    if (seen.has(cert.fingerprintSha256)) return;
    seen.add(cert.fingerprintSha256);
    const k = nameKey(cert.subject);
    const list = index.get(k) ?? [];
    list.push({ cert, isRoot });
    index.set(k, list);
  };
  for (const r of options.roots) add(r, true);
  for (const c of options.intermediates ?? []) add(c, false);
  const rootFingerprints = new Set(options.roots.map((r) => r.fingerprintSha256));

  const sigCache = new Map<string, string | undefined>();
  const signatureOk = (cert: Certificate, issuer: Certificate): string | undefined => {
    const k = `${cert.fingerprintSha256}/${issuer.fingerprintSha256}`;
    if (sigCache.has(k)) return sigCache.get(k);
    const r = checkSignature(cert, issuer);
    sigCache.set(k, r);
    return r;
  };

  let best: { error: SignetError; rank: Rank; progress: number } | undefined;
  const record = (error: SignetError, rank: Rank, progress: number): void => {
    if (!best || rank > best.rank || (rank === best.rank && progress > best.progress)) best = { error, rank, progress };
  };

  // A leaf that is itself a trust anchor.
  if (rootFingerprints.has(leaf.fingerprintSha256)) {
    const err = validatePath([leaf], checks, signatureOk);
    if (!err) return { chain: [leaf] };
    record(err, Rank.Validation, 0);
  }

  const preference = (child: Certificate, c: Candidate): number => {
    const aki = child.ext.authorityKeyIdentifier?.keyIdentifier;
    const ski = c.cert.ext.subjectKeyIdentifier;
    const keyRank = aki && ski ? (equalBytes(aki, ski) ? 0 : 2) : 1;
    const timeRank = time >= c.cert.notBefore.getTime() && time <= c.cert.notAfter.getTime() ? 0 : 1;
    return keyRank * 4 + timeRank * 2 + (c.isRoot ? 0 : 1);
  };

  let budget = SEARCH_BUDGET;
  const extend = (path: Certificate[]): Certificate[] | undefined => {
    const top = path[path.length - 1] as Certificate;
    const depth = path.length - 1;
    const named = index.get(nameKey(top.issuer)) ?? [];
    const candidates = named
      .filter((c) => !path.some((p) => sameKey(p, c.cert)))
      .map((c, i) => ({ c, order: preference(top, c) * 10_000 + i }))
      .sort((a, b) => a.order - b.order)
      .map((x) => x.c);
    for (const cand of candidates) {
      if (--budget < 0) return undefined;
      const sig = signatureOk(top, cand.cert);
      if (sig !== undefined) {
        record(
          verifyError('ERR_VERIFY_SIGNATURE', `bad signature on "${top.subject.text}" (depth ${depth}) for issuer "${cand.cert.subject.text}": ${sig}`, depth, top, {
            issuer: cand.cert.subject.text,
            issuerFingerprint: cand.cert.fingerprintSha256,
            chain: [...path, cand.cert].map((c) => c.subject.text),
          }),
          Rank.Signature,
          path.length,
        );
        continue;
      }
      const next = [...path, cand.cert];
      if (cand.isRoot) {
        const err = validatePath(next, checks, signatureOk);
        if (!err) return next;
        record(err, Rank.Validation, 0);
        continue;
      }
      if (next.length - 1 > maxDepth) {
        record(
          verifyError('ERR_VERIFY_DEPTH', `the chain is longer than ${maxDepth} intermediate certificates at "${cand.cert.subject.text}"`, next.length - 1, cand.cert, {
            maxDepth,
            chain: next.map((c) => c.subject.text),
          }, 'raise the maximum depth if the chain is legitimately this long'),
          Rank.Depth,
          next.length,
        );
        continue;
      }
      const found = extend(next);
      if (found) return found;
    }
    if (isSelfIssuedCert(top) && signatureOk(top, top) === undefined) {
      record(
        verifyError('ERR_VERIFY_UNTRUSTED_ROOT', `the chain ends in self-signed certificate "${top.subject.text}" (depth ${depth}), which is not a trusted root`, depth, top, {
          chain: path.map((c) => c.subject.text),
        }, 'add it to the trusted roots if you trust it'),
        Rank.UntrustedRoot,
        path.length,
      );
    } else if (candidates.length === 0) {
      const why = named.length > 0 ? 'every certificate with that subject is already in the chain (a loop)' : 'it is neither a trusted root nor a given intermediate';
      record(
        verifyError('ERR_VERIFY_NO_ISSUER', `no issuer found for "${top.subject.text}" (depth ${depth}): issuer "${top.issuer.text}": ${why}`, depth, top, {
          issuer: top.issuer.text,
          chain: path.map((c) => c.subject.text),
        }, 'supply the missing intermediate certificate, or trust its root'),
        Rank.NoIssuer,
        path.length,
      );
    }
    return undefined;
  };

  const chain = extend([leaf]);
  if (chain) return { chain };
  if (best) throw best.error;
  throw verifyError('ERR_VERIFY_NO_ISSUER', `no path to a trusted root found for "${leaf.subject.text}" within the search limit`, 0, leaf);
}
