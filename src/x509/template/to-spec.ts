/**
 * From a rendered {@link CertificateRequest} to the builder's {@link CertificateSpec}: the
 * subject Name in a fixed RDN order, GeneralNames, extensions with RFC 5280's criticality, and
 * the validity resolved against the issuance time.
 */
import type { KeyObject } from 'node:crypto';
import { SignetError } from '../../core/errors.js';
import { describeUnrepresentableTime, formatTime, isRepresentableTime, parseDuration, parseTime } from '../../core/duration.js';
import type { CertificateSpec } from '../certificate-builder.js';
import type { ExtensionsSpec, RawExtension } from '../extensions.js';
import type { GeneralName } from '../general-name.js';
import type { DistinguishedName, RelativeDistinguishedName } from '../name.js';
import type { CertificateRequest, RequestNameConstraints, RequestSubject } from './request.js';

/**
 * The subject as a DistinguishedName, in DER order (most significant first): DC, C, ST, L,
 * street, postalCode, O, OU, serialNumber, CN, then extraNames in order — one attribute per RDN.
 */
export function requestSubjectToName(s: RequestSubject): DistinguishedName {
  const rdns: RelativeDistinguishedName[] = [];
  const add = (type: string, values: readonly string[] | string | undefined): void => {
    if (values === undefined) return;
    for (const value of typeof values === 'string' ? [values] : values) rdns.push([{ type, value }]);
  };
  add('DC', s.domainComponent);
  add('C', s.country);
  add('ST', s.province);
  add('L', s.locality);
  add('street', s.streetAddress);
  add('postalCode', s.postalCode);
  add('O', s.organization);
  add('OU', s.organizationalUnit);
  add('serialNumber', s.serialNumber);
  add('CN', s.commonName);
  for (const e of s.extraNames ?? []) add(e.type, e.value);
  return rdns;
}

function constraintNames(nc: RequestNameConstraints, kind: 'permitted' | 'excluded'): GeneralName[] {
  return [
    ...(nc[`${kind}DNSDomains`] ?? []).map((value): GeneralName => ({ type: 'dns', value })),
    ...(nc[`${kind}IPRanges`] ?? []).map((value): GeneralName => ({ type: 'ip', value })),
    ...(nc[`${kind}EmailAddresses`] ?? []).map((value): GeneralName => ({ type: 'email', value })),
    ...(nc[`${kind}URIDomains`] ?? []).map((value): GeneralName => ({ type: 'uri', value })),
  ];
}

/** Options for {@link templateToSpec}. */
export interface TemplateToSpecOptions {
  /** The key being certified. */
  readonly publicKey: KeyObject | Uint8Array;
  /** Issuance time, from the injected clock; relative validity times are resolved against it. */
  readonly now: Date;
  /** notBefore when the request has none. Default `now` minus `backdateMs`. */
  readonly notBefore?: Date;
  /** Backdating of the default notBefore, for clock skew. Default 0. */
  readonly backdateMs?: number;
  /** notAfter when the request has neither notAfter nor lifetime (takes precedence over `lifetimeMs`). */
  readonly notAfter?: Date;
  /** Lifetime when the request has neither notAfter nor lifetime, counted from issuance (`now`). */
  readonly lifetimeMs?: number;
  /** True when the certificate is signed by its own key: no authorityKeyIdentifier is written. */
  readonly selfSigned?: boolean;
  /** A serial to use instead of a fresh random one. */
  readonly serialNumber?: Uint8Array;
}

/**
 * Maps a rendered request onto a CertificateSpec. Validity precedence: the request's own
 * `validity`, then `options.notBefore`/`notAfter`/`lifetimeMs`. The subjectKeyIdentifier is
 * always written (RFC 5280 §4.2.1.2) and the authorityKeyIdentifier unless self-signed
 * (§4.2.1.1); subjectAltName is critical when the subject is empty (§4.2.1.6).
 * Throws ERR_TEMPLATE_INVALID when the validity is missing or ends before it starts, or when
 * the subject is empty and there are no SANs.
 */
export function templateToSpec(request: CertificateRequest, options: TemplateToSpecOptions): CertificateSpec {
  const now = options.now;
  const v = request.validity ?? {};
  const invalid = (message: string): SignetError =>
    new SignetError('ERR_TEMPLATE_INVALID', `$.validity: ${message}`, { detail: { problems: [{ path: '$.validity', kind: 'invalid', message }] } });
  const notBefore = v.notBefore !== undefined ? parseTime(v.notBefore, now) : (options.notBefore ?? new Date(now.getTime() - (options.backdateMs ?? 0)));
  let notAfter: Date;
  if (v.notAfter !== undefined) notAfter = parseTime(v.notAfter, now);
  else if (v.lifetime !== undefined) notAfter = new Date((v.notBefore !== undefined ? notBefore : now).getTime() + parseDuration(v.lifetime));
  else if (options.notAfter) notAfter = options.notAfter;
  else if (options.lifetimeMs !== undefined) notAfter = new Date(now.getTime() + options.lifetimeMs);
  else throw invalid('no validity: the template sets none and no default lifetime was given');
  for (const [name, t] of [['notBefore', notBefore], ['notAfter', notAfter]] as const) {
    if (!isRepresentableTime(t)) throw invalid(`${name} is ${describeUnrepresentableTime(t)}: certificate times must fall within the years 0001–9999`);
  }
  if (notAfter.getTime() <= notBefore.getTime()) throw invalid(`ends (${formatTime(notAfter)}) before it starts (${formatTime(notBefore)})`);

  const subject = requestSubjectToName(request.subject);
  const sans: GeneralName[] = (request.sans ?? []).map((s) => ({ type: s.type, value: s.value }));
  if (subject.length === 0 && sans.length === 0) {
    // RFC 5280 §4.1.2.6: an empty subject needs a (critical) subjectAltName to name anything.
    const message = 'the subject is empty and there are no SANs: the certificate would name nothing (RFC 5280 §4.1.2.6)';
    throw new SignetError('ERR_TEMPLATE_INVALID', `$.subject: ${message}`, { detail: { problems: [{ path: '$.subject', kind: 'invalid', message }] } });
  }
  const bc = request.basicConstraints;
  const nc = request.nameConstraints;
  const permitted = nc ? constraintNames(nc, 'permitted') : [];
  const excluded = nc ? constraintNames(nc, 'excluded') : [];
  const extra: RawExtension[] = (request.extensions ?? []).map((e) => ({
    oid: e.id,
    critical: e.critical,
    value: new Uint8Array(Buffer.from(e.value, 'base64')),
  }));
  const ocsp = request.ocspServer ?? [];
  const caIssuers = request.issuingCertificateURL ?? [];

  const extensions: ExtensionsSpec = {
    ...(bc ? { basicConstraints: { ca: bc.isCA, ...(bc.maxPathLen !== undefined ? { pathLen: bc.maxPathLen } : {}), critical: true } } : {}),
    ...(request.keyUsage ? { keyUsage: { usages: request.keyUsage, critical: true } } : {}),
    ...(request.extKeyUsage ? { extKeyUsage: { usages: request.extKeyUsage } } : {}),
    subjectKeyIdentifier: 'auto',
    authorityKeyIdentifier: options.selfSigned ? false : 'auto',
    ...(sans.length > 0 ? { subjectAltName: { names: sans, critical: subject.length === 0 } } : {}),
    ...(nc && (permitted.length > 0 || excluded.length > 0) ? { nameConstraints: { permitted, excluded, critical: nc.critical } } : {}),
    ...(ocsp.length > 0 || caIssuers.length > 0 ? { authorityInfoAccess: { ocsp, caIssuers } } : {}),
    ...(request.crlDistributionPoints ? { crlDistributionPoints: request.crlDistributionPoints } : {}),
    ...(request.policies ? { certificatePolicies: request.policies } : {}),
    ...(extra.length > 0 ? { extra } : {}),
  };
  return {
    ...(options.serialNumber ? { serialNumber: options.serialNumber } : {}),
    subject,
    notBefore,
    notAfter,
    publicKey: options.publicKey,
    extensions,
  };
}
