/**
 * The certificate request a template renders to: a plain, JSON-compatible object whose shape
 * mirrors the template (and step-ca's `x509util.Certificate` JSON), validated field by field.
 * {@link templateToSpec} turns it into the builder's CertificateSpec.
 */
import type { KeyUsageName } from '../extensions.js';

/** SAN types a template can write (RFC 5280 §4.2.1.6 dNSName, iPAddress, rfc822Name, uniformResourceIdentifier). */
export type RequestSanType = 'dns' | 'ip' | 'email' | 'uri';

/** One subject alternative name. */
export interface RequestSan {
  readonly type: RequestSanType;
  readonly value: string;
}

/** An additional subject attribute, by short name (`emailAddress`, `title`) or dotted OID. */
export interface RequestAttribute {
  readonly type: string;
  readonly value: string;
}

/**
 * The subject, attribute by attribute (RFC 5280 §4.1.2.4). Multi-valued attributes are lists;
 * each value becomes its own RDN. The Name is written in this order (most significant first):
 * domainComponent, country, province, locality, streetAddress, postalCode, organization,
 * organizationalUnit, serialNumber, commonName, then extraNames in the order given.
 */
export interface RequestSubject {
  readonly commonName?: string;
  readonly serialNumber?: string;
  readonly country?: readonly string[];
  readonly province?: readonly string[];
  readonly locality?: readonly string[];
  readonly streetAddress?: readonly string[];
  readonly postalCode?: readonly string[];
  readonly organization?: readonly string[];
  readonly organizationalUnit?: readonly string[];
  readonly domainComponent?: readonly string[];
  readonly extraNames?: readonly RequestAttribute[];
}

/** nameConstraints (RFC 5280 §4.2.1.10) in step-ca's field names. */
export interface RequestNameConstraints {
  /** Default true (RFC 5280 §4.2.1.10: "Conforming CAs MUST mark this extension as critical"). */
  readonly critical: boolean;
  readonly permittedDNSDomains?: readonly string[];
  readonly excludedDNSDomains?: readonly string[];
  /** CIDR ranges: `10.0.0.0/8`, `fd00::/8`. */
  readonly permittedIPRanges?: readonly string[];
  readonly excludedIPRanges?: readonly string[];
  /** A mailbox, a host (`example.com`) or a domain (`.example.com`). */
  readonly permittedEmailAddresses?: readonly string[];
  readonly excludedEmailAddresses?: readonly string[];
  /** A host or `.domain`. */
  readonly permittedURIDomains?: readonly string[];
  readonly excludedURIDomains?: readonly string[];
}

/** Validity as written: RFC 3339 times or durations relative to issuance (`-5m`, `+1h`), and a lifetime (`24h`). */
export interface RequestValidity {
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly lifetime?: string;
}

/** A raw extension: dotted OID, criticality, and the extnValue content as base64 DER. */
export interface RequestExtension {
  readonly id: string;
  readonly critical: boolean;
  readonly value: string;
}

/** basicConstraints (RFC 5280 §4.2.1.9); `maxPathLen` only with `isCA`. */
export interface RequestBasicConstraints {
  readonly isCA: boolean;
  readonly maxPathLen?: number;
}

/** A rendered and validated certificate request. Absent fields mean "no such extension". */
export interface CertificateRequest {
  readonly subject: RequestSubject;
  readonly sans?: readonly RequestSan[];
  readonly keyUsage?: readonly KeyUsageName[];
  /** Canonical EKU names (`serverAuth`) or dotted OIDs. */
  readonly extKeyUsage?: readonly string[];
  readonly basicConstraints?: RequestBasicConstraints;
  readonly nameConstraints?: RequestNameConstraints;
  readonly crlDistributionPoints?: readonly string[];
  /** AIA id-ad-ocsp URLs (RFC 5280 §4.2.2.1). */
  readonly ocspServer?: readonly string[];
  /** AIA id-ad-caIssuers URLs (RFC 5280 §4.2.2.1). */
  readonly issuingCertificateURL?: readonly string[];
  /** certificatePolicies policy OIDs (RFC 5280 §4.2.1.4). */
  readonly policies?: readonly string[];
  readonly validity?: RequestValidity;
  readonly extensions?: readonly RequestExtension[];
}

/** Key types a `keyUsage` object can select on (the value of `.PublicKey.type`). */
export const KEY_TYPES = ['RSA', 'RSA-PSS', 'EC', 'Ed25519', 'Ed448', 'X25519', 'X448'] as const;

/** One of {@link KEY_TYPES}. */
export type TemplateKeyType = (typeof KEY_TYPES)[number];
