/**
 * Certificate profiles: what a root CA, an intermediate CA, a leaf and a self-signed leaf
 * certificate contain by default. A profile turns a small request (subject, key, names, a few
 * overrides) into a complete {@link CertificateSpec}; everything stays overridable.
 *
 * | profile         | basicConstraints        | keyUsage (critical)                             | EKU                   | SKI | AKI | lifetime |
 * |-----------------|-------------------------|-------------------------------------------------|-----------------------|-----|-----|----------|
 * | root-ca         | critical, CA, no pathlen| keyCertSign, cRLSign, digitalSignature          | none                  | yes | no  | 10 years |
 * | intermediate-ca | critical, CA, pathlen 0 | keyCertSign, cRLSign, digitalSignature          | none                  | yes | yes | 5 years  |
 * | leaf            | critical, not CA        | digitalSignature (+ keyEncipherment for RSA¹)   | serverAuth, clientAuth| yes | yes | 24 hours |
 * | self-signed     | critical, not CA        | digitalSignature (+ keyEncipherment for RSA¹)   | serverAuth, clientAuth| yes | no  | 24 hours |
 *
 * ¹ rsaEncryption keys only: an RSASSA-PSS key may not encipher (RFC 4055 §1.2).
 *
 * Validity: notBefore is backdated by one minute (to absorb clock skew between the issuer and
 * relying parties, as Let's Encrypt and smallstep do) and notAfter = now + lifetime, so a 24h
 * certificate is usable for 24h from issuance. Explicit notBefore/notAfter are used as given.
 * A root omits the AKI: RFC 5280 §4.2.1.1 lets self-signed certificates omit it, and it can only
 * repeat the SKI. subjectAltName is marked critical when the subject is empty (§4.2.1.6).
 */
import type { KeyObject } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { spkiOf, type CertificateSpec } from './certificate-builder.js';
import type { ExtensionsSpec, KeyUsageName, RawExtension } from './extensions.js';
import type { GeneralName } from './general-name.js';
import type { DistinguishedName } from './name.js';

/** The profiles Signet ships. */
export type ProfileName = 'root-ca' | 'intermediate-ca' | 'leaf' | 'self-signed';

export const PROFILE_NAMES: readonly ProfileName[] = ['root-ca', 'intermediate-ca', 'leaf', 'self-signed'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The fixed facts of a profile. */
export interface Profile {
  readonly name: ProfileName;
  /** True for CA profiles (basicConstraints cA). */
  readonly ca: boolean;
  /** True when the certificate is signed by its own key (no issuer CA). */
  readonly selfSigned: boolean;
  /** Lifetime when neither notAfter nor a lifetime is given, in milliseconds. */
  readonly defaultLifetimeMs: number;
  /** How far notBefore is set before "now", in milliseconds. */
  readonly backdateMs: number;
  /** Default pathLenConstraint for CA profiles (undefined = unconstrained). */
  readonly defaultPathLen?: number;
}

/** The profile table (see the module comment for the reasoning). */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  'root-ca': { name: 'root-ca', ca: true, selfSigned: true, defaultLifetimeMs: 3650 * DAY, backdateMs: 60_000 },
  'intermediate-ca': { name: 'intermediate-ca', ca: true, selfSigned: false, defaultLifetimeMs: 1825 * DAY, backdateMs: 60_000, defaultPathLen: 0 },
  leaf: { name: 'leaf', ca: false, selfSigned: false, defaultLifetimeMs: 24 * HOUR, backdateMs: 60_000 },
  'self-signed': { name: 'self-signed', ca: false, selfSigned: true, defaultLifetimeMs: 24 * HOUR, backdateMs: 60_000 },
};

/** Resolves a profile name; ERR_BAD_OPTION for unknown names. */
export function getProfile(name: string): Profile {
  const p = (PROFILES as Record<string, Profile | undefined>)[name];
  if (!p) throw new SignetError('ERR_BAD_OPTION', `unknown profile "${name}"`, { hint: `use ${PROFILE_NAMES.join(', ')}` });
  return p;
}

/** A request against a profile: what varies per certificate. Unset fields take the profile's defaults. */
export interface ProfileRequest {
  readonly subject: DistinguishedName | Uint8Array;
  readonly publicKey: KeyObject | Uint8Array;
  /** The issuance time ("now"), from the injected clock. */
  readonly now: Date;
  readonly sans?: readonly GeneralName[];
  readonly serialNumber?: Uint8Array;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Lifetime in ms (ignored when notAfter is given). */
  readonly lifetimeMs?: number;
  /** Overrides the default key usages. */
  readonly keyUsage?: readonly KeyUsageName[];
  /** Overrides the default extended key usages (names or OIDs); empty = no EKU extension. */
  readonly extKeyUsage?: readonly string[];
  /** CA profiles: pathLenConstraint; `null` removes the profile's default. */
  readonly pathLen?: number | null;
  /** CA profiles: name constraints (`ip` values are CIDR ranges). */
  readonly permitted?: readonly GeneralName[];
  readonly excluded?: readonly GeneralName[];
  readonly crlUrls?: readonly string[];
  readonly ocspUrls?: readonly string[];
  readonly issuerUrls?: readonly string[];
  readonly policies?: readonly string[];
  /** Extra raw extensions appended after the profile's. */
  readonly extra?: readonly RawExtension[];
}

/**
 * True when the key is an rsaEncryption key, which may also encipher (RFC 3279 §2.3.1). An
 * RSASSA-PSS key (id-RSASSA-PSS, RFC 4055 §1.2) may only sign, so it gets no keyEncipherment.
 */
function isRsaEncryptionKey(key: KeyObject | Uint8Array): boolean {
  if (!(key instanceof Uint8Array)) return key.asymmetricKeyType === 'rsa';
  // The AlgorithmIdentifier OID starts after SEQUENCE{ SEQUENCE{ — look for 1.2.840.113549.1.1.1.
  const spki = spkiOf(key);
  const rsa = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
  return Buffer.from(spki.subarray(0, 24)).includes(Buffer.from(rsa));
}

function isEmptySubject(subject: DistinguishedName | Uint8Array): boolean {
  return subject instanceof Uint8Array ? subject.length === 2 : subject.length === 0;
}

/**
 * Builds the certificate spec for `profile` and `request`. Throws ERR_BAD_OPTION for requests the
 * profile cannot honour (name constraints or a path length on a leaf, a validity that ends
 * before it starts).
 */
export function specFromProfile(profile: ProfileName | Profile, request: ProfileRequest): CertificateSpec {
  const p = typeof profile === 'string' ? getProfile(profile) : profile;
  const notBefore = request.notBefore ?? new Date(request.now.getTime() - p.backdateMs);
  const notAfter = request.notAfter ?? new Date((request.notBefore ?? request.now).getTime() + (request.lifetimeMs ?? p.defaultLifetimeMs));
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new SignetError('ERR_BAD_OPTION', 'the validity period ends before it starts', { hint: 'check --not-before, --not-after and --lifetime' });
  }
  const hasConstraints = (request.permitted?.length ?? 0) > 0 || (request.excluded?.length ?? 0) > 0;
  if (!p.ca && hasConstraints) throw new SignetError('ERR_BAD_OPTION', 'name constraints are only allowed on CA certificates (RFC 5280 §4.2.1.10)');
  if (!p.ca && request.pathLen !== undefined && request.pathLen !== null) {
    throw new SignetError('ERR_BAD_OPTION', 'a path length is only allowed on CA certificates (RFC 5280 §4.2.1.9)');
  }
  if (request.pathLen !== undefined && request.pathLen !== null && (!Number.isInteger(request.pathLen) || request.pathLen < 0)) {
    throw new SignetError('ERR_BAD_OPTION', `invalid path length ${request.pathLen}`, { hint: 'use a non-negative integer' });
  }

  const pathLen = request.pathLen === null ? undefined : (request.pathLen ?? p.defaultPathLen);
  const rsa = isRsaEncryptionKey(request.publicKey);
  const keyUsage: readonly KeyUsageName[] =
    request.keyUsage ?? (p.ca ? ['digitalSignature', 'keyCertSign', 'cRLSign'] : rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  const eku = request.extKeyUsage ?? (p.ca ? [] : ['serverAuth', 'clientAuth']);
  const sans = request.sans ?? [];

  const extensions: ExtensionsSpec = {
    basicConstraints: pathLen === undefined ? { ca: p.ca, critical: true } : { ca: p.ca, pathLen, critical: true },
    ...(keyUsage.length > 0 ? { keyUsage: { usages: keyUsage, critical: true } } : {}),
    ...(eku.length > 0 ? { extKeyUsage: { usages: eku } } : {}),
    subjectKeyIdentifier: 'auto',
    authorityKeyIdentifier: p.selfSigned ? false : 'auto',
    ...(sans.length > 0 ? { subjectAltName: { names: sans, critical: isEmptySubject(request.subject) } } : {}),
    ...(hasConstraints ? { nameConstraints: { permitted: request.permitted ?? [], excluded: request.excluded ?? [], critical: true } } : {}),
    ...((request.ocspUrls?.length ?? 0) > 0 || (request.issuerUrls?.length ?? 0) > 0
      ? { authorityInfoAccess: { ocsp: request.ocspUrls ?? [], caIssuers: request.issuerUrls ?? [] } }
      : {}),
    ...((request.crlUrls?.length ?? 0) > 0 ? { crlDistributionPoints: request.crlUrls ?? [] } : {}),
    ...((request.policies?.length ?? 0) > 0 ? { certificatePolicies: request.policies ?? [] } : {}),
    ...(request.extra ? { extra: request.extra } : {}),
  };
  return {
    ...(request.serialNumber ? { serialNumber: request.serialNumber } : {}),
    subject: request.subject,
    notBefore,
    notAfter,
    publicKey: request.publicKey,
    extensions,
  };
}
