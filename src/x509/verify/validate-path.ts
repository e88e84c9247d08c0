/**
 * Basic path validation (RFC 5280 §6.1) of one prospective path, from the trust anchor down to
 * the end-entity certificate, plus the service identity check (RFC 6125).
 *
 * The trust anchor is a certificate. Following RFC 5280 §6.1.1 (d) its subject name and public
 * key are trusted and its own signature is never checked. Like OpenSSL and Go, Signet still
 * honours what the anchor certificate says about itself: its validity period, basicConstraints
 * (a v3 anchor must be a CA; v1/v2 anchors and v3 anchors whose keyUsage allows keyCertSign but
 * carry no basicConstraints are tolerated, as OpenSSL does), keyUsage, pathLenConstraint,
 * nameConstraints, extendedKeyUsage, unknown critical and duplicate extensions. Its policy
 * extensions are not processed (see policy.ts).
 */
import type { Certificate } from '../certificate.js';
import { SignetError, type ErrorCode } from '../../core/errors.js';
import { equalBytes } from '../../core/bytes.js';
import { verifySignature } from '../../crypto/signature.js';
import { OID } from '../oids.js';
import { matchHostnamePattern } from './hostname.js';
import { namesMatch } from './name-match.js';
import { addNameConstraints, checkNameConstraints, initialNameConstraints } from './name-constraints.js';
import { initialPolicyState, policyExtensionError, processPolicies } from './policy.js';
import { formatTime } from '../../core/duration.js';

/** What the end-entity certificate will be used for; maps to an extended key usage. */
export type VerifyPurpose = 'server' | 'client' | 'any';

/** The checks a path is validated against (normalized by the caller). */
export interface PathChecks {
  readonly time: Date;
  readonly purpose: VerifyPurpose;
  /** Normalized reference host name (lower case, no trailing dot). */
  readonly host?: string | undefined;
  /** Reference IP address octets. */
  readonly ip?: Uint8Array | undefined;
  /** Text of the reference IP, for messages. */
  readonly ipText?: string | undefined;
}

/**
 * Extensions Signet processes during validation (RFC 5280 §4.2: a certificate with a critical
 * extension outside this set is rejected). subjectKeyIdentifier and authorityKeyIdentifier are
 * only hints for chain building, so a *critical* one is rejected, as OpenSSL does.
 */
export const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
  OID.policyConstraints,
  OID.policyMappings,
  OID.inhibitAnyPolicy,
]);

const POLICY_EXTENSIONS: ReadonlySet<string> = new Set([OID.policyConstraints, OID.policyMappings, OID.inhibitAnyPolicy]);

const PURPOSE_EKU: Record<Exclude<VerifyPurpose, 'any'>, string> = { server: OID.serverAuth, client: OID.clientAuth };

/** Builds a verification error that names the certificate at fault (OpenSSL-style depth: 0 = leaf). */
export function verifyError(
  code: ErrorCode,
  message: string,
  depth: number,
  cert: Certificate,
  extra: Record<string, unknown> = {},
  hint?: string,
): SignetError {
  return new SignetError(code, message, {
    ...(hint === undefined ? {} : { hint }),
    detail: { depth, subject: cert.subject.text, serial: cert.serialHex, fingerprint: cert.fingerprintSha256, ...extra },
  });
}

function describe(cert: Certificate, depth: number): string {
  return `"${cert.subject.text || '(empty subject)'}" (depth ${depth})`;
}

/** Self-issued: issuer and subject match under RFC 5280 §7.1 (§3.2, §6.1). */
export function isSelfIssuedCert(cert: Certificate): boolean {
  return namesMatch(cert.issuer, cert.subject);
}

/**
 * Checks that `issuer`'s key produced `cert`'s signature with matching inner and outer
 * algorithm identifiers (RFC 5280 §4.1.1.2). Returns undefined when it does, else the reason.
 */
export function checkSignature(cert: Certificate, issuer: Certificate): string | undefined {
  const a = cert.signatureAlgorithm;
  const b = cert.tbsSignatureAlgorithm;
  const sameParams = a.parameters === undefined || b.parameters === undefined ? a.parameters === b.parameters : equalBytes(a.parameters, b.parameters);
  if (a.oid !== b.oid || !sameParams) return 'the signature algorithm inside the certificate differs from the outer one';
  if (!issuer.publicKey) return `the issuer key (${issuer.publicKeyAlgorithm.oid}) is not supported`;
  try {
    return verifySignature(issuer.publicKey, a, cert.tbs, cert.signatureValue) ? undefined : 'the signature does not verify with the issuer key';
  } catch (e) {
    return e instanceof SignetError ? e.message : 'the signature cannot be verified';
  }
}

/** §4.2: each extension at most once; processed ones must decode; critical ones must be processed. */
function checkExtensions(cert: Certificate, depth: number): SignetError | undefined {
  const dup = cert.duplicateExtensions[0];
  if (dup !== undefined) {
    return verifyError('ERR_VERIFY_DUPLICATE_EXTENSION', `certificate ${describe(cert, depth)} contains extension ${dup} more than once`, depth, cert, { extension: dup });
  }
  for (const e of cert.extensions) {
    // The parser's generic decoding of the policy extensions is replaced by policy.ts's own.
    const err = POLICY_EXTENSIONS.has(e.oid) ? policyExtensionError(e) : cert.extensionErrors.get(e.oid);
    if (err !== undefined && (PROCESSED_EXTENSIONS.has(e.oid) || e.critical)) {
      return verifyError('ERR_VERIFY_MALFORMED_EXTENSION', `certificate ${describe(cert, depth)} has a malformed extension ${e.oid}: ${err}`, depth, cert, { extension: e.oid });
    }
    if (e.critical && !PROCESSED_EXTENSIONS.has(e.oid)) {
      return verifyError(
        'ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION',
        `certificate ${describe(cert, depth)} has an unsupported critical extension ${e.oid}`,
        depth,
        cert,
        { extension: e.oid },
      );
    }
  }
  return undefined;
}

/**
 * Validates `path` (index 0 = end entity, last = trust anchor) at `checks.time`. Returns the
 * first failure as a SignetError (not thrown), or undefined when the path is valid.
 * `signatureOk` lets the caller cache signature checks (child, issuer) → reason | undefined.
 */
export function validatePath(
  path: readonly Certificate[],
  checks: PathChecks,
  signatureOk: (cert: Certificate, issuer: Certificate) => string | undefined = checkSignature,
): SignetError | undefined {
  const anchorIndex = path.length - 1;
  const n = anchorIndex; // certificates below the anchor (RFC 5280 §6.1: the path is 1..n)
  const constraints = initialNameConstraints();
  const policy = initialPolicyState(n);
  let maxPathLength = Number.POSITIVE_INFINITY; // §6.1.2 (k); the depth limit is enforced by the builder
  const time = checks.time.getTime();
  const chainSubjects = path.map((c) => c.subject.text);

  for (let depth = anchorIndex; depth >= 0; depth--) {
    const cert = path[depth] as Certificate;
    const isAnchor = depth === anchorIndex;
    const isLeaf = depth === 0;
    const selfIssued = isSelfIssuedCert(cert);
    const extra = { chain: chainSubjects };

    if (!isAnchor) {
      const issuer = path[depth + 1] as Certificate;
      // §6.1.3 (a)(4): name chaining.
      if (!namesMatch(cert.issuer, issuer.subject)) {
        return verifyError('ERR_VERIFY_NO_ISSUER', `the issuer of ${describe(cert, depth)} is not "${issuer.subject.text}"`, depth, cert, extra);
      }
      // §6.1.3 (a)(1): signature.
      const sig = signatureOk(cert, issuer);
      if (sig !== undefined) {
        return verifyError('ERR_VERIFY_SIGNATURE', `bad signature on ${describe(cert, depth)}: ${sig}`, depth, cert, { ...extra, issuer: issuer.subject.text });
      }
    }
    // §6.1.3 (a)(2): validity, inclusive at both ends (§4.1.2.5).
    if (time < cert.notBefore.getTime()) {
      return verifyError('ERR_VERIFY_NOT_YET_VALID', `certificate ${describe(cert, depth)} is not valid before ${formatTime(cert.notBefore)}`, depth, cert, {
        ...extra,
        notBefore: formatTime(cert.notBefore),
      });
    }
    if (time > cert.notAfter.getTime()) {
      return verifyError('ERR_VERIFY_EXPIRED', `certificate ${describe(cert, depth)} expired at ${formatTime(cert.notAfter)}`, depth, cert, {
        ...extra,
        notAfter: formatTime(cert.notAfter),
      });
    }
    const extError = checkExtensions(cert, depth);
    if (extError) return extError;

    // §6.1.3 (b)–(c): name constraints, skipped for self-issued certificates except the leaf.
    if (!isAnchor && (isLeaf || !selfIssued)) {
      const v = checkNameConstraints(cert, constraints, isLeaf);
      if (v) {
        const what = { excluded: 'is excluded by', 'not-permitted': 'is not permitted by', 'unsupported-form': 'has a form that cannot be checked against', unparseable: 'cannot be parsed to check it against' }[v.reason];
        return verifyError(
          'ERR_VERIFY_NAME_CONSTRAINTS',
          `${v.source} name ${v.name} of ${describe(cert, depth)} ${what} the name constraints of "${v.constrainedBy}"`,
          depth,
          cert,
          { ...extra, name: v.name, source: v.source, reason: v.reason, constrainedBy: v.constrainedBy },
        );
      }
    }
    // §6.1.3 (d)–(f), §6.1.4 (a)–(b), (h)–(j), §6.1.5 (a)–(b): policies (not for the anchor).
    if (!isAnchor) {
      const reason = processPolicies(policy, cert, n - depth, n, selfIssued);
      if (reason !== undefined) return verifyError('ERR_VERIFY_POLICY', `certificate ${describe(cert, depth)}: ${reason}`, depth, cert, extra);
    }

    if (!isLeaf) {
      // §6.1.4 (k): a CA certificate. The anchor may be a v1/v2 certificate, or a v3 one
      // without basicConstraints whose keyUsage allows keyCertSign (OpenSSL's tolerance).
      const bc = cert.ext.basicConstraints;
      const tolerated = isAnchor && bc === undefined && (cert.version < 3 || cert.ext.keyUsage?.usages.includes('keyCertSign') === true);
      if (!(bc?.ca === true || tolerated)) {
        return verifyError(
          'ERR_VERIFY_NOT_CA',
          `certificate ${describe(cert, depth)} issued "${(path[depth - 1] as Certificate).subject.text}" but is not a CA (basicConstraints ${bc ? 'cA is false' : 'is missing'})`,
          depth,
          cert,
          extra,
        );
      }
      // §6.1.4 (l)–(m): path length; self-issued intermediates do not count.
      if (!isAnchor && !selfIssued) {
        if (maxPathLength <= 0) {
          return verifyError('ERR_VERIFY_PATH_LENGTH', `certificate ${describe(cert, depth)} exceeds the path length constraint of a CA above it`, depth, cert, extra);
        }
        maxPathLength--;
      }
      if (bc?.pathLenConstraint !== undefined && bc.pathLenConstraint < maxPathLength) maxPathLength = bc.pathLenConstraint;
      // §6.1.4 (n): keyUsage, when present, must allow keyCertSign.
      const ku = cert.ext.keyUsage;
      if (ku && !ku.usages.includes('keyCertSign')) {
        return verifyError('ERR_VERIFY_KEY_USAGE', `CA certificate ${describe(cert, depth)} has a key usage without keyCertSign`, depth, cert, { ...extra, keyUsage: ku.usages });
      }
      // §6.1.4 (g): fold in this CA's name constraints.
      const nc = cert.ext.nameConstraints;
      if (nc) {
        if (nc.hasMinMax) {
          return verifyError('ERR_VERIFY_NAME_CONSTRAINTS', `name constraints of ${describe(cert, depth)} use minimum/maximum, which RFC 5280 forbids`, depth, cert, extra);
        }
        addNameConstraints(constraints, nc, cert.subject.text);
      }
    }
    // Extended key usage for the purpose, on the leaf and on every CA that restricts it (as
    // OpenSSL and Go do); anyExtendedKeyUsage allows every purpose (RFC 5280 §4.2.1.12).
    if (checks.purpose !== 'any') {
      const eku = cert.ext.extKeyUsage;
      const want = PURPOSE_EKU[checks.purpose];
      if (eku && !eku.includes(want) && !eku.includes(OID.anyExtendedKeyUsage)) {
        return verifyError(
          'ERR_VERIFY_EKU',
          `${isLeaf ? 'certificate' : 'CA certificate'} ${describe(cert, depth)} is not allowed for ${checks.purpose === 'server' ? 'serverAuth' : 'clientAuth'} (extended key usage)`,
          depth,
          cert,
          { ...extra, extKeyUsage: eku, purpose: checks.purpose },
        );
      }
    }
  }

  // RFC 6125 §6: the reference identity.
  const leaf = path[0] as Certificate;
  const sans = leaf.ext.subjectAltName ?? [];
  if (checks.host !== undefined) {
    const host = checks.host;
    if (!sans.some((s) => s.type === 'dns' && matchHostnamePattern(s.value, host))) {
      const names = sans.filter((s) => s.type === 'dns').map((s) => s.value);
      return verifyError('ERR_VERIFY_HOSTNAME', `certificate ${describe(leaf, 0)} is not valid for host ${host}`, 0, leaf, { host, dnsNames: names, chain: chainSubjects }, names.length === 0 ? 'the certificate has no DNS subjectAltName; the common name is not used' : undefined);
    }
  }
  if (checks.ip !== undefined) {
    const ip = checks.ip;
    if (!sans.some((s) => s.type === 'ip' && s.octets !== undefined && equalBytes(s.octets, ip))) {
      return verifyError('ERR_VERIFY_IP', `certificate ${describe(leaf, 0)} is not valid for IP address ${checks.ipText ?? ''}`, 0, leaf, {
        ip: checks.ipText,
        ipAddresses: sans.filter((s) => s.type === 'ip').map((s) => s.value),
        chain: chainSubjects,
      });
    }
  }
  return undefined;
}
