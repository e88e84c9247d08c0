/**
 * Inspection: turns parsed certificates, CSRs and CRLs into (a) a stable JSON report and (b)
 * readable, aligned text in the spirit of `openssl x509 -text` and `step certificate inspect`.
 *
 * The inspector decodes each extension *instance* itself (rather than reading the validation
 * model's merged `ext` view) so that it can show everything a human wants to see — policy
 * qualifiers, distribution point details, duplicates — and falls back to hex for what it does
 * not know. Nothing here judges validity: the linter and path validation do that.
 *
 * Also here: input auto-detection (PEM label or DER shape), fingerprints, and the renewal
 * decision used by `signet certificate needs-renewal` (and later the renewal daemon).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificatePolicies, UserNotice } from '@peculiar/asn1-x509';
import { SignetError } from '../core/errors.js';
import { escapeControl } from '../core/escape.js';
import { decodePemAll, looksLikePem } from '../core/pem.js';
import { equalBytes, toHex } from '../core/bytes.js';
import { formatTime, parseDuration } from '../core/duration.js';
import { resolveSignatureAlgorithm, verifySignature, type AlgorithmReference } from '../crypto/signature.js';
import { describeKey } from '../crypto/keys.js';
import { parseCertificate, type Certificate, type Extension } from './certificate.js';
import { parseCrl, decodeIssuingDistributionPoint, type Crl, type RevokedCertificate } from './crl.js';
import { parseCsr, isCsrSignatureValid, type ParsedCsr } from './csr.js';
import { children, readSingle, readTlv, type Tlv } from './der-reader.js';
import { decodeGeneralName, decodeGeneralNames, decodeName, decodeOid, type Name, type ParsedGeneralName } from './decode-names.js';
import { OID, oidName } from './oids.js';
import { formatTlsTarget } from './tls-fetch.js';

// ---------------------------------------------------------------------------------------------
// input detection

/** What an inspectable object is. */
export type InspectKind = 'certificate' | 'csr' | 'crl';

/** One parsed object, tagged with its kind. */
export type InspectedObject =
  | { readonly kind: 'certificate'; readonly certificate: Certificate }
  | { readonly kind: 'csr'; readonly csr: ParsedCsr }
  | { readonly kind: 'crl'; readonly crl: Crl };

/** The complete DER encoding of an inspected object (what fingerprints hash and `format` writes). */
export function derOfObject(o: InspectedObject): Uint8Array {
  switch (o.kind) {
    case 'certificate':
      return o.certificate.der;
    case 'csr':
      return o.csr.der;
    case 'crl':
      return o.crl.der;
  }
}

/** PEM labels per kind (RFC 7468 §5, §6, §7, plus the legacy labels OpenSSL still writes). */
export const INSPECT_PEM_LABELS: Readonly<Record<InspectKind, readonly string[]>> = {
  certificate: ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE'],
  csr: ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'],
  crl: ['X509 CRL'],
};

const KEY_LABELS = new Set(['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PUBLIC KEY', 'RSA PUBLIC KEY', 'OPENSSH PRIVATE KEY']);

function kindOfLabel(label: string): InspectKind | undefined {
  for (const [kind, labels] of Object.entries(INSPECT_PEM_LABELS) as [InspectKind, readonly string[]][]) {
    if (labels.includes(label)) return kind;
  }
  return undefined;
}

function isTimeTag(t: Tlv | undefined): boolean {
  return t !== undefined && (t.tag === 0x17 || t.tag === 0x18);
}

/**
 * Tells a DER certificate, CSR (PKCS#10) and CRL apart by the shape of their to-be-signed part;
 * undefined when the bytes are none of them. All three are SEQUENCE { tbs, algorithm, BIT
 * STRING }; the TBS differs:
 * - certificate: [0] version, or INTEGER serial, AlgorithmIdentifier, Name, Validity (SEQUENCE)…
 * - CSR: INTEGER 0, Name, SubjectPublicKeyInfo, [0] attributes
 * - CRL: [INTEGER 1,] AlgorithmIdentifier, Name, Time…
 */
export function detectDerKind(der: Uint8Array): InspectKind | undefined {
  try {
    const outer = readSingle(der);
    if (outer.tag !== 0x30) return undefined;
    const parts = children(outer);
    const tbs = parts[0];
    if (parts.length !== 3 || !tbs || tbs.tag !== 0x30 || parts[1]?.tag !== 0x30 || parts[2]?.tag !== 0x03) return undefined;
    const f = children(tbs);
    const [a, b, c, d] = f;
    if (a?.tag === 0xa0) return 'certificate';
    if (a?.tag === 0x02) {
      if (b?.tag === 0x30 && c?.tag === 0x30 && d?.tag === 0xa0) return 'csr';
      if (isTimeTag(d)) return 'crl';
      if (d?.tag === 0x30) return 'certificate';
      return undefined;
    }
    if (a?.tag === 0x30 && b?.tag === 0x30 && isTimeTag(c)) return 'crl';
    return undefined;
  } catch {
    return undefined;
  }
}

function parseAs(kind: InspectKind, der: Uint8Array): InspectedObject {
  switch (kind) {
    case 'certificate':
      return { kind, certificate: parseCertificate(der) };
    case 'csr':
      return { kind, csr: parseCsr(der) };
    case 'crl':
      return { kind, crl: parseCrl(der) };
  }
}

/**
 * Parses every certificate, CSR and CRL in `data`: PEM (any mix of blocks, in order; key blocks
 * are skipped) or one DER object recognised by {@link detectDerKind}. Errors: ERR_PEM_MALFORMED,
 * ERR_PEM_UNEXPECTED_TYPE (PEM with nothing inspectable, e.g. only a key), ERR_CERT_MALFORMED /
 * ERR_CSR_MALFORMED / ERR_CRL_MALFORMED (a recognised object that does not parse; unrecognised
 * DER is reported as ERR_CERT_MALFORMED).
 */
export function parseInspectable(data: Uint8Array | string): InspectedObject[] {
  if (typeof data === 'string' || looksLikePem(data)) {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    const blocks = decodePemAll(text);
    const out: InspectedObject[] = [];
    for (const b of blocks) {
      const kind = kindOfLabel(b.label);
      if (!kind) continue;
      // TRUSTED CERTIFICATE (OpenSSL) appends trust settings after the certificate.
      const der = b.label === 'TRUSTED CERTIFICATE' ? readTlv(b.der, 0, 'ERR_CERT_MALFORMED').bytes : b.der;
      out.push(parseAs(kind, der));
    }
    if (out.length === 0) {
      const labels = [...new Set(blocks.map((b) => b.label))].join(', ');
      const isKey = blocks.some((b) => KEY_LABELS.has(b.label));
      throw new SignetError('ERR_PEM_UNEXPECTED_TYPE', `no certificate, certificate request or CRL found (PEM blocks: ${labels})`, {
        ...(isKey ? { hint: 'keys are inspected with: signet key inspect FILE' } : {}),
      });
    }
    return out;
  }
  const bytes = data;
  const kind = detectDerKind(bytes);
  if (!kind) {
    throw new SignetError('ERR_CERT_MALFORMED', 'input is neither PEM nor a DER certificate, certificate request or CRL', {
      hint: 'pass a PEM or DER certificate, CSR, CRL or a PEM bundle',
    });
  }
  return [parseAs(kind, bytes)];
}

// ---------------------------------------------------------------------------------------------
// fingerprints

/** Hashes a fingerprint can use. */
export type FingerprintAlgorithm = 'sha256' | 'sha1' | 'sha384' | 'sha512';
/** How a fingerprint is written: `hex` (lower case), `colon` (upper-case pairs, OpenSSL's form), `base64`, `base64url`. */
export type FingerprintFormat = 'hex' | 'colon' | 'base64' | 'base64url';

/** The digest of `der` (the whole DER object, as OpenSSL's `-fingerprint`). */
export function fingerprint(der: Uint8Array, algorithm: FingerprintAlgorithm = 'sha256'): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(der).digest());
}

/** Writes a digest in the given format. */
export function formatFingerprint(digest: Uint8Array, format: FingerprintFormat = 'hex'): string {
  switch (format) {
    case 'hex':
      return toHex(digest);
    case 'colon':
      return toHex(digest, ':').toUpperCase();
    case 'base64':
      return Buffer.from(digest).toString('base64');
    case 'base64url':
      return Buffer.from(digest).toString('base64url');
  }
}

// ---------------------------------------------------------------------------------------------
// JSON report types

/** A JSON value (what the reports are made of). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/** A distinguished name: RFC 4514-style text in encoded order, and each attribute. */
export interface NameReport {
  readonly text: string;
  readonly attributes: readonly { readonly type: string; readonly oid: string; readonly value: string }[];
}

export interface AlgorithmReport {
  /** Display name, e.g. `ecdsaWithSHA256`, `sha256WithRSAEncryption`, `rsassaPss`, `Ed25519`, or the dotted OID. */
  readonly name: string;
  readonly oid: string;
  /** Decoded parameters for RSASSA-PSS: hash and salt length. */
  readonly hash?: string;
  readonly saltLength?: number;
}

export interface PublicKeyReport {
  /** `EC`, `RSA`, `RSA-PSS`, `Ed25519`, `Ed448`, … or the algorithm OID's name. */
  readonly type: string;
  /** Display label: `EC P-256`, `RSA 2048`, `Ed25519`. */
  readonly algorithm: string;
  readonly oid: string;
  readonly bits?: number;
  readonly curve?: string;
  readonly publicExponent?: number;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex (RFC 7469 pin input). */
  readonly spkiSha256: string;
}

export interface ExtensionReport {
  readonly oid: string;
  /** RFC name (`subjectAltName`) or the dotted OID. */
  readonly name: string;
  readonly critical: boolean;
  /** The decoded value (shape per extension, see README), or null when unknown/undecodable. */
  readonly value: JsonValue;
  /** Lower-case hex of extnValue, for unknown or undecodable extensions. */
  readonly valueHex?: string;
  /** Why the value could not be decoded. */
  readonly error?: string;
  /** True when the same OID appears more than once (RFC 5280 §4.2 forbids it). */
  readonly duplicate?: boolean;
}

export interface ValidityReport {
  /** RFC 3339, UTC. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly lifetimeSeconds: number;
  /** Against the inspection time. */
  readonly status: 'valid' | 'expired' | 'not-yet-valid';
  /** notAfter − now in seconds (negative once expired). */
  readonly remainingSeconds: number;
}

export interface Fingerprints {
  readonly sha256: string;
  readonly sha1: string;
}

export interface CertificateReport {
  readonly type: 'certificate';
  readonly version: number;
  readonly serialNumber: { readonly hex: string; readonly decimal: string };
  readonly signatureAlgorithm: AlgorithmReport;
  readonly issuer: NameReport;
  readonly subject: NameReport;
  readonly validity: ValidityReport;
  readonly publicKey: PublicKeyReport;
  readonly isCa: boolean;
  /** Issuer and subject are the same Name. */
  readonly selfIssued: boolean;
  /** Self-issued and the signature verifies with its own key (null: not checked or unsupported algorithm). */
  readonly selfSigned: boolean | null;
  readonly extensions: readonly ExtensionReport[];
  readonly fingerprints: Fingerprints;
}

export interface CsrReport {
  readonly type: 'csr';
  readonly version: number;
  readonly subject: NameReport;
  readonly publicKey: PublicKeyReport;
  readonly signatureAlgorithm: AlgorithmReport;
  /** Proof of possession (RFC 2986 §3); null when the algorithm is not supported. */
  readonly signatureValid: boolean | null;
  /** Requested extensions (PKCS#9 extensionRequest). */
  readonly extensions: readonly ExtensionReport[];
  /** Other attributes, by OID. */
  readonly attributes: readonly { readonly oid: string; readonly name: string }[];
  readonly fingerprints: Fingerprints;
}

export interface RevokedReport {
  /** Lower-case hex. */
  readonly serialNumber: string;
  readonly revocationDate: string;
  readonly reason?: string;
  readonly invalidityDate?: string;
  readonly certificateIssuer?: readonly { readonly type: string; readonly value: string }[];
  /** Entry extensions other than reason, invalidity date and certificate issuer. */
  readonly extensions?: readonly ExtensionReport[];
}

export interface CrlReport {
  readonly type: 'crl';
  readonly version: number;
  readonly signatureAlgorithm: AlgorithmReport;
  readonly issuer: NameReport;
  readonly thisUpdate: string;
  /** null when the CRL has no nextUpdate. */
  readonly nextUpdate: string | null;
  /** `current` until nextUpdate, then `stale`. */
  readonly status: 'current' | 'stale' | 'not-yet-valid';
  /** Decimal cRLNumber, when present. */
  readonly crlNumber?: string;
  /** Decimal base CRL number of a delta CRL. */
  readonly deltaCrlIndicator?: string;
  readonly extensions: readonly ExtensionReport[];
  readonly revoked: readonly RevokedReport[];
  readonly fingerprints: Fingerprints;
}

export type ObjectReport = CertificateReport | CsrReport | CrlReport;

/** The negotiated TLS parameters when the input was a live server. */
export interface TlsReport {
  readonly host: string;
  readonly port: number;
  readonly servername: string | null;
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly alpn: string | null;
  /** Always false: inspection does not verify the chain. */
  readonly verified: false;
}

/** The top-level `--json` object of `signet certificate inspect`. */
export interface InspectReport {
  readonly source: { readonly type: 'file' | 'stdin' | 'tls'; readonly name: string };
  /** RFC 3339 time the validity statuses were computed against. */
  readonly time: string;
  readonly tls?: TlsReport;
  readonly items: readonly ObjectReport[];
}

// ---------------------------------------------------------------------------------------------
// helpers for both renderings

function bigFromTwos(content: Uint8Array): bigint {
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (content.length > 0 && ((content[0] as number) & 0x80) !== 0) v -= 1n << BigInt(content.length * 8);
  return v;
}

function nameReport(n: Name): NameReport {
  return { text: n.text, attributes: n.rdns.flat().map((a) => ({ type: a.shortName, oid: a.type, value: a.value })) };
}

const DISPLAY_ALGORITHMS: Readonly<Record<string, string>> = { [OID.idEd25519]: 'Ed25519', [OID.idEd448]: 'Ed448' };

/** Describes a signature AlgorithmIdentifier for display. */
export function describeAlgorithm(ref: AlgorithmReference): AlgorithmReport {
  const name = DISPLAY_ALGORITHMS[ref.oid] ?? oidName(ref.oid);
  if (ref.oid === OID.rsassaPss) {
    try {
      const r = resolveSignatureAlgorithm(ref);
      return { name, oid: ref.oid, ...(r.hash ? { hash: r.hash } : {}), ...(r.pss ? { saltLength: r.pss.saltLength } : {}) };
    } catch {
      return { name, oid: ref.oid };
    }
  }
  return { name, oid: ref.oid };
}

function algorithmText(a: AlgorithmReport): string {
  return a.hash ? `${a.name} (${a.hash}, salt ${a.saltLength ?? '?'})` : a.name;
}

/** Describes a SubjectPublicKeyInfo for display (type, size or curve, SPKI SHA-256). */
export function describePublicKey(spki: Uint8Array, algorithmOid: string, key: KeyObject | undefined): PublicKeyReport {
  const spkiSha256 = createHash('sha256').update(spki).digest('hex');
  const oid = algorithmOid;
  if (key) {
    try {
      const d = describeKey(key);
      const type = d.type === 'OKP' ? d.algorithm : d.algorithm.split(' ')[0] ?? d.type;
      return {
        type,
        algorithm: d.algorithm,
        oid,
        bits: d.bits,
        ...(d.curve !== undefined && d.type === 'EC' ? { curve: d.curve } : {}),
        ...(d.publicExponent !== undefined ? { publicExponent: d.publicExponent } : {}),
        spkiSha256,
      };
    } catch {
      // An unusual but importable key (secp256k1, Ed448, small RSA): describe it from node's details.
    }
    const t = key.asymmetricKeyType ?? 'unknown';
    const det = key.asymmetricKeyDetails ?? {};
    if (t === 'rsa' || t === 'rsa-pss') {
      const label = t === 'rsa' ? 'RSA' : 'RSA-PSS';
      const bits = det.modulusLength ?? 0;
      return { type: label, algorithm: `${label} ${bits}`, oid, bits, ...(det.publicExponent !== undefined ? { publicExponent: Number(det.publicExponent) } : {}), spkiSha256 };
    }
    if (t === 'ec') return { type: 'EC', algorithm: `EC ${det.namedCurve ?? 'unknown curve'}`, oid, ...(det.namedCurve ? { curve: det.namedCurve } : {}), spkiSha256 };
    const label = t === 'ed448' ? 'Ed448' : t === 'x25519' ? 'X25519' : t === 'x448' ? 'X448' : t.toUpperCase();
    return { type: label, algorithm: label, oid, spkiSha256 };
  }
  const label = oidName(oid);
  return { type: label, algorithm: label, oid, spkiSha256 };
}

function fingerprints(der: Uint8Array): Fingerprints {
  return { sha256: toHex(fingerprint(der, 'sha256')), sha1: toHex(fingerprint(der, 'sha1')) };
}

// ---------------------------------------------------------------------------------------------
// extensions

/** Display labels for extensions (openssl's wording without the "X509v3" prefix). */
const EXTENSION_LABELS: Readonly<Record<string, string>> = {
  [OID.basicConstraints]: 'Basic Constraints',
  [OID.keyUsage]: 'Key Usage',
  [OID.extKeyUsage]: 'Extended Key Usage',
  [OID.subjectAltName]: 'Subject Alternative Name',
  [OID.issuerAltName]: 'Issuer Alternative Name',
  [OID.nameConstraints]: 'Name Constraints',
  [OID.subjectKeyIdentifier]: 'Subject Key Identifier',
  [OID.authorityKeyIdentifier]: 'Authority Key Identifier',
  [OID.cRLDistributionPoints]: 'CRL Distribution Points',
  [OID.freshestCRL]: 'Freshest CRL',
  [OID.authorityInfoAccess]: 'Authority Information Access',
  [OID.subjectInfoAccess]: 'Subject Information Access',
  [OID.certificatePolicies]: 'Certificate Policies',
  [OID.policyMappings]: 'Policy Mappings',
  [OID.policyConstraints]: 'Policy Constraints',
  [OID.inhibitAnyPolicy]: 'Inhibit anyPolicy',
  [OID.cRLNumber]: 'CRL Number',
  [OID.deltaCRLIndicator]: 'Delta CRL Indicator',
  [OID.issuingDistributionPoint]: 'Issuing Distribution Point',
  [OID.cRLReason]: 'Reason Code',
  [OID.invalidityDate]: 'Invalidity Date',
  [OID.certificateIssuer]: 'Certificate Issuer',
  [OID.ocspNoCheck]: 'OCSP No Check',
  [OID.ctPrecertificatePoison]: 'CT Precertificate Poison',
  [OID.ctSignedCertificateTimestampList]: 'CT Precertificate SCTs',
};

const GN_LABELS: Readonly<Record<string, string>> = {
  dns: 'DNS',
  ip: 'IP',
  email: 'Email',
  uri: 'URI',
  dirName: 'DirName',
  registeredId: 'Registered ID',
  otherName: 'Other Name',
  x400: 'X400',
  ediParty: 'EDI Party',
};

const KEY_USAGE_NAMES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
const REASON_FLAG_NAMES = ['unused', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'];

/** One line of text output: a label and a value, or a label with nested rows. */
interface Row {
  readonly label: string;
  readonly value?: string | readonly string[];
  readonly rows?: readonly Row[];
  /** Print the label of a row with nested rows as a heading, without a colon. */
  readonly heading?: boolean;
}

interface DecodedExtension {
  readonly value: JsonValue;
  readonly text: string | readonly string[] | readonly Row[];
}

const EXT_CODE = 'ERR_CERT_MALFORMED';

function gnText(n: ParsedGeneralName): string {
  return `${GN_LABELS[n.type] ?? n.type}:${n.value}`;
}

function gnJson(n: ParsedGeneralName): { type: string; value: string } {
  return { type: n.type, value: n.value };
}

/** Groups general names by type into aligned rows (`DNS: a, b`). */
function gnRows(names: readonly ParsedGeneralName[]): Row[] {
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const label = GN_LABELS[n.type] ?? n.type;
    const list = groups.get(label) ?? [];
    list.push(n.value);
    groups.set(label, list);
  }
  return [...groups].map(([label, value]) => ({ label, value }));
}

function colonHex(b: Uint8Array): string {
  return toHex(b, ':').toUpperCase();
}

function bits(t: Tlv, names: readonly string[]): string[] {
  if (t.tag !== 0x03 || t.content.length === 0) throw new SignetError(EXT_CODE, 'not a bit string');
  const b = t.content.subarray(1);
  return names.filter((_n, i) => (i >> 3) < b.length && ((b[i >> 3] as number) & (0x80 >> (i & 7))) !== 0);
}

function integerOf(t: Tlv): bigint {
  if (t.content.length === 0) throw new SignetError(EXT_CODE, 'empty integer');
  return bigFromTwos(t.content);
}

/** DistributionPoint ::= SEQUENCE { distributionPoint [0], reasons [1], cRLIssuer [2] } (RFC 5280 §4.2.1.13). */
function distributionPoints(value: Uint8Array): DecodedExtension {
  const seq = readSingle(value, EXT_CODE);
  const json: JsonValue[] = [];
  const lines: string[] = [];
  for (const dp of children(seq, EXT_CODE)) {
    let names: ParsedGeneralName[] = [];
    let relative = false;
    let reasons: string[] | undefined;
    let crlIssuer: ParsedGeneralName[] | undefined;
    for (const f of children(dp, EXT_CODE)) {
      if (f.tag === 0xa0) {
        const [choice] = children(f, EXT_CODE);
        if (choice?.tag === 0xa0) names = children(choice, EXT_CODE).map((g) => decodeGeneralName(g, false, EXT_CODE));
        else relative = true;
      } else if (f.tag === 0x81) reasons = bits(f, REASON_FLAG_NAMES);
      else if (f.tag === 0xa2) crlIssuer = children(f, EXT_CODE).map((g) => decodeGeneralName(g, false, EXT_CODE));
      else throw new SignetError(EXT_CODE, 'unexpected field in distribution point');
    }
    json.push({
      fullName: names.map(gnJson),
      ...(relative ? { nameRelativeToCrlIssuer: true } : {}),
      ...(reasons ? { reasons } : {}),
      ...(crlIssuer ? { crlIssuer: crlIssuer.map(gnJson) } : {}),
    });
    let line = names.map(gnText).join(', ') || (relative ? '(name relative to CRL issuer)' : '(no name)');
    if (reasons) line += ` reasons: ${reasons.join(', ')}`;
    if (crlIssuer) line += ` CRL issuer: ${crlIssuer.map(gnText).join(', ')}`;
    lines.push(line);
  }
  return { value: json, text: lines };
}

/** AccessDescription ::= SEQUENCE { accessMethod, accessLocation GeneralName } (RFC 5280 §4.2.2). */
function accessDescriptions(value: Uint8Array): { method: string; location: ParsedGeneralName }[] {
  const seq = readSingle(value, EXT_CODE);
  return children(seq, EXT_CODE).map((ad) => {
    const [m, loc] = children(ad, EXT_CODE);
    if (!m || m.tag !== 0x06 || !loc) throw new SignetError(EXT_CODE, 'malformed access description');
    return { method: decodeOid(m.content, EXT_CODE), location: decodeGeneralName(loc, false, EXT_CODE) };
  });
}

const ACCESS_LABELS: Readonly<Record<string, string>> = { [OID.ocsp]: 'OCSP', [OID.caIssuers]: 'CA Issuers', '1.3.6.1.5.5.7.48.5': 'CA Repository', '1.3.6.1.5.5.7.48.3': 'Time Stamping' };

function policies(value: Uint8Array): DecodedExtension {
  const parsed = AsnConvert.parse(value, CertificatePolicies);
  const json: JsonValue[] = [];
  const rows: Row[] = [];
  for (const p of parsed) {
    const cps: string[] = [];
    const notices: string[] = [];
    for (const q of p.policyQualifiers ?? []) {
      const raw = new Uint8Array(q.qualifier);
      if (q.policyQualifierId === '1.3.6.1.5.5.7.2.1') {
        const t = readSingle(raw, EXT_CODE);
        cps.push(Buffer.from(t.content).toString('latin1'));
      } else if (q.policyQualifierId === '1.3.6.1.5.5.7.2.2') {
        const un = AsnConvert.parse(raw, UserNotice);
        notices.push(un.explicitText ? un.explicitText.toString() : '(notice reference)');
      }
    }
    const name = oidName(p.policyIdentifier);
    json.push({ oid: p.policyIdentifier, name, ...(cps.length ? { cps } : {}), ...(notices.length ? { userNotice: notices } : {}) });
    const detail = [...cps.map((c) => `CPS: ${c}`), ...notices.map((n) => `User Notice: ${n}`)];
    rows.push({ label: 'Policy', value: [name === p.policyIdentifier ? name : `${name} (${p.policyIdentifier})`, ...detail] });
  }
  return { value: json, text: rows };
}

/**
 * Decodes one extension for display. Throws (SignetError) when a known extension's value is
 * malformed; returns undefined for an unknown OID.
 */
function decodeExtension(e: Extension): DecodedExtension | undefined {
  switch (e.oid) {
    case OID.basicConstraints: {
      const seq = readSingle(e.value, EXT_CODE);
      let ca = false;
      let pathLen: number | undefined;
      for (const f of children(seq, EXT_CODE)) {
        if (f.tag === 0x01) ca = f.content[0] !== 0;
        else if (f.tag === 0x02) pathLen = Number(integerOf(f));
        else throw new SignetError(EXT_CODE, 'unexpected field in basic constraints');
      }
      return {
        value: pathLen === undefined ? { ca } : { ca, pathLenConstraint: pathLen },
        text: `CA:${ca ? 'TRUE' : 'FALSE'}${pathLen === undefined ? '' : `, pathlen:${pathLen}`}`,
      };
    }
    case OID.keyUsage: {
      const usages = bits(readSingle(e.value, EXT_CODE), KEY_USAGE_NAMES);
      return { value: usages, text: usages.join(', ') || '(none)' };
    }
    case OID.extKeyUsage: {
      const seq = readSingle(e.value, EXT_CODE);
      const names = children(seq, EXT_CODE).map((o) => {
        if (o.tag !== 0x06) throw new SignetError(EXT_CODE, 'extended key usage is not an OID');
        return oidName(decodeOid(o.content, EXT_CODE));
      });
      return { value: names, text: names.join(', ') };
    }
    case OID.subjectAltName:
    case OID.issuerAltName:
    case OID.certificateIssuer: {
      const names = decodeGeneralNames(e.value, EXT_CODE);
      return { value: names.map(gnJson), text: gnRows(names) };
    }
    case OID.nameConstraints: {
      const seq = readSingle(e.value, EXT_CODE);
      const permitted: ParsedGeneralName[] = [];
      const excluded: ParsedGeneralName[] = [];
      for (const part of children(seq, EXT_CODE)) {
        const target = part.tag === 0xa0 ? permitted : part.tag === 0xa1 ? excluded : undefined;
        if (!target) throw new SignetError(EXT_CODE, 'unexpected field in name constraints');
        for (const subtree of children(part, EXT_CODE)) {
          const [base] = children(subtree, EXT_CODE);
          if (!base) throw new SignetError(EXT_CODE, 'empty general subtree');
          target.push(decodeGeneralName(base, true, EXT_CODE));
        }
      }
      const rows: Row[] = [];
      if (permitted.length) rows.push({ label: 'Permitted', rows: gnRows(permitted) });
      if (excluded.length) rows.push({ label: 'Excluded', rows: gnRows(excluded) });
      return { value: { permitted: permitted.map(gnJson), excluded: excluded.map(gnJson) }, text: rows };
    }
    case OID.subjectKeyIdentifier: {
      const t = readSingle(e.value, EXT_CODE);
      if (t.tag !== 0x04) throw new SignetError(EXT_CODE, 'subject key identifier is not an octet string');
      return { value: toHex(t.content), text: colonHex(t.content) };
    }
    case OID.authorityKeyIdentifier: {
      const seq = readSingle(e.value, EXT_CODE);
      let keyId: Uint8Array | undefined;
      let issuer: ParsedGeneralName[] | undefined;
      let serial: Uint8Array | undefined;
      for (const f of children(seq, EXT_CODE)) {
        if (f.tag === 0x80) keyId = f.content;
        else if (f.tag === 0xa1) issuer = children(f, EXT_CODE).map((g) => decodeGeneralName(g, false, EXT_CODE));
        else if (f.tag === 0x82) serial = f.content;
        else throw new SignetError(EXT_CODE, 'unexpected field in authority key identifier');
      }
      const rows: Row[] = [];
      if (keyId) rows.push({ label: 'Key ID', value: colonHex(keyId) });
      if (issuer) rows.push({ label: 'Issuer', value: issuer.map(gnText) });
      if (serial) rows.push({ label: 'Serial', value: toHex(serial, ':') });
      return {
        value: {
          ...(keyId ? { keyIdentifier: toHex(keyId) } : {}),
          ...(issuer ? { authorityCertIssuer: issuer.map(gnJson) } : {}),
          ...(serial ? { authorityCertSerialNumber: toHex(serial) } : {}),
        },
        text: rows.length === 1 && keyId ? colonHex(keyId) : rows,
      };
    }
    case OID.cRLDistributionPoints:
    case OID.freshestCRL:
      return distributionPoints(e.value);
    case OID.authorityInfoAccess:
    case OID.subjectInfoAccess: {
      const ads = accessDescriptions(e.value);
      const groups = new Map<string, string[]>();
      for (const ad of ads) {
        const label = ACCESS_LABELS[ad.method] ?? oidName(ad.method);
        groups.set(label, [...(groups.get(label) ?? []), gnText(ad.location)]);
      }
      const value: JsonValue =
        e.oid === OID.authorityInfoAccess
          ? {
              ocsp: ads.filter((a) => a.method === OID.ocsp).map((a) => a.location.value),
              caIssuers: ads.filter((a) => a.method === OID.caIssuers).map((a) => a.location.value),
              other: ads.filter((a) => a.method !== OID.ocsp && a.method !== OID.caIssuers).map((a) => ({ method: a.method, location: gnJson(a.location) })),
            }
          : ads.map((a) => ({ method: a.method, location: gnJson(a.location) }));
      return { value, text: [...groups].map(([label, v]) => ({ label, value: v })) };
    }
    case OID.certificatePolicies:
      return policies(e.value);
    case OID.policyMappings: {
      const seq = readSingle(e.value, EXT_CODE);
      const maps = children(seq, EXT_CODE).map((m) => {
        const [a, b] = children(m, EXT_CODE);
        if (!a || !b || a.tag !== 0x06 || b.tag !== 0x06) throw new SignetError(EXT_CODE, 'malformed policy mapping');
        return { issuerDomainPolicy: decodeOid(a.content, EXT_CODE), subjectDomainPolicy: decodeOid(b.content, EXT_CODE) };
      });
      return { value: maps, text: maps.map((m) => `${m.issuerDomainPolicy} → ${m.subjectDomainPolicy}`) };
    }
    case OID.policyConstraints: {
      const seq = readSingle(e.value, EXT_CODE);
      const v: Record<string, number> = {};
      for (const f of children(seq, EXT_CODE)) {
        if (f.tag === 0x80) v.requireExplicitPolicy = Number(integerOf(f));
        else if (f.tag === 0x81) v.inhibitPolicyMapping = Number(integerOf(f));
        else throw new SignetError(EXT_CODE, 'unexpected field in policy constraints');
      }
      return { value: v, text: Object.entries(v).map(([k, n]) => `${k}:${n}`).join(', ') || '(empty)' };
    }
    case OID.inhibitAnyPolicy: {
      const t = readSingle(e.value, EXT_CODE);
      if (t.tag !== 0x02) throw new SignetError(EXT_CODE, 'inhibit anyPolicy is not an integer');
      const n = Number(integerOf(t));
      return { value: n, text: `skipCerts:${n}` };
    }
    case OID.ocspNoCheck:
    case OID.ctPrecertificatePoison: {
      const t = readSingle(e.value, EXT_CODE);
      if (t.tag !== 0x05 || t.content.length !== 0) throw new SignetError(EXT_CODE, 'expected NULL');
      return { value: true, text: 'present' };
    }
    case OID.cRLNumber:
    case OID.deltaCRLIndicator: {
      const t = readSingle(e.value, EXT_CODE);
      if (t.tag !== 0x02) throw new SignetError(EXT_CODE, 'not an integer');
      const n = integerOf(t);
      return { value: n.toString(), text: `${n.toString()} (0x${n.toString(16)})` };
    }
    case OID.issuingDistributionPoint: {
      const idp = decodeIssuingDistributionPoint(e.value);
      const rows: Row[] = [];
      if (idp.fullName) rows.push({ label: 'Full Name', value: idp.fullName.map(gnText) });
      if (idp.nameRelativeToCrlIssuer) rows.push({ label: 'Name', value: 'relative to CRL issuer' });
      const flags = (['onlyContainsUserCerts', 'onlyContainsCACerts', 'indirectCRL', 'onlyContainsAttributeCerts'] as const).filter((k) => idp[k]);
      if (flags.length) rows.push({ label: 'Flags', value: flags.join(', ') });
      if (idp.onlySomeReasons) rows.push({ label: 'Only Reasons', value: idp.onlySomeReasons.join(', ') });
      return {
        value: {
          ...(idp.fullName ? { fullName: idp.fullName.map(gnJson) } : {}),
          nameRelativeToCrlIssuer: idp.nameRelativeToCrlIssuer,
          onlyContainsUserCerts: idp.onlyContainsUserCerts,
          onlyContainsCACerts: idp.onlyContainsCACerts,
          ...(idp.onlySomeReasons ? { onlySomeReasons: [...idp.onlySomeReasons] } : {}),
          indirectCRL: idp.indirectCRL,
          onlyContainsAttributeCerts: idp.onlyContainsAttributeCerts,
        },
        text: rows.length ? rows : '(empty)',
      };
    }
    default:
      return undefined;
  }
}

function hexPreview(b: Uint8Array): string {
  const max = 32;
  const shown = toHex(b.subarray(0, max), ':');
  return b.length > max ? `${shown}… (${b.length} bytes)` : shown;
}

/** Decodes every extension, in order, into a JSON report and text rows. */
function viewExtensions(exts: readonly Extension[]): { reports: ExtensionReport[]; rows: Row[] } {
  const counts = new Map<string, number>();
  for (const e of exts) counts.set(e.oid, (counts.get(e.oid) ?? 0) + 1);
  const reports: ExtensionReport[] = [];
  const rows: Row[] = [];
  for (const e of exts) {
    const name = oidName(e.oid);
    const duplicate = (counts.get(e.oid) ?? 0) > 1;
    let label = EXTENSION_LABELS[e.oid] ?? (name === e.oid ? e.oid : name);
    if (e.critical) label += ' [critical]';
    if (duplicate) label += ' [duplicate]';
    let decoded: DecodedExtension | undefined;
    let error: string | undefined;
    try {
      decoded = decodeExtension(e);
    } catch (err) {
      error = err instanceof SignetError ? err.message : 'cannot decode the extension value';
    }
    const base = { oid: e.oid, name, critical: e.critical, ...(duplicate ? { duplicate } : {}) };
    if (decoded) {
      reports.push({ ...base, value: decoded.value });
      const t = decoded.text;
      if (typeof t === 'string') rows.push({ label, value: t });
      else if (t.length > 0 && typeof t[0] === 'string') rows.push({ label, value: t as readonly string[] });
      else rows.push({ label, rows: t as readonly Row[] });
    } else {
      reports.push({ ...base, value: null, valueHex: toHex(e.value), ...(error ? { error } : {}) });
      rows.push({ label, value: error ? [`undecodable: ${error}`, hexPreview(e.value)] : hexPreview(e.value) });
    }
  }
  return { reports, rows };
}

// ---------------------------------------------------------------------------------------------
// reports

/** Options shared by the describe/render functions. */
export interface InspectOptions {
  /** The time validity is judged against (inject a clock's `now()`). */
  readonly now: Date;
}

function validityStatus(notBefore: Date, notAfter: Date, now: Date): ValidityReport['status'] {
  if (now.getTime() < notBefore.getTime()) return 'not-yet-valid';
  if (now.getTime() > notAfter.getTime()) return 'expired';
  return 'valid';
}

/** Builds the JSON report of a certificate. */
export function describeCertificate(cert: Certificate, options: InspectOptions): CertificateReport {
  const selfIssued = equalBytes(cert.issuer.der, cert.subject.der);
  let selfSigned: boolean | null = selfIssued ? null : false;
  if (selfIssued && cert.publicKey) {
    try {
      selfSigned = verifySignature(cert.publicKey, cert.signatureAlgorithm, cert.tbs, cert.signatureValue);
    } catch {
      selfSigned = null;
    }
  }
  const { reports } = viewExtensions(cert.extensions);
  return {
    type: 'certificate',
    version: cert.version,
    serialNumber: { hex: cert.serialHex, decimal: bigFromTwos(cert.serialNumber).toString() },
    signatureAlgorithm: describeAlgorithm(cert.signatureAlgorithm),
    issuer: nameReport(cert.issuer),
    subject: nameReport(cert.subject),
    validity: {
      notBefore: formatTime(cert.notBefore),
      notAfter: formatTime(cert.notAfter),
      lifetimeSeconds: Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 1000),
      status: validityStatus(cert.notBefore, cert.notAfter, options.now),
      remainingSeconds: Math.round((cert.notAfter.getTime() - options.now.getTime()) / 1000),
    },
    publicKey: describePublicKey(cert.spki, cert.publicKeyAlgorithm.oid, cert.publicKey),
    isCa: cert.ext.basicConstraints?.ca === true,
    selfIssued,
    selfSigned,
    extensions: reports,
    fingerprints: fingerprints(cert.der),
  };
}

function csrSubject(csr: ParsedCsr): Name {
  return decodeName(csr.subjectDer, 'ERR_CSR_MALFORMED');
}

function csrPublicKeyOid(csr: ParsedCsr): string {
  const [alg] = children(readSingle(csr.spki, 'ERR_CSR_MALFORMED'), 'ERR_CSR_MALFORMED');
  const [o] = alg ? children(alg, 'ERR_CSR_MALFORMED') : [];
  return o && o.tag === 0x06 ? decodeOid(o.content, 'ERR_CSR_MALFORMED') : 'unknown';
}

function csrSignatureValid(csr: ParsedCsr): boolean | null {
  try {
    return isCsrSignatureValid(csr);
  } catch {
    return null;
  }
}

/** Builds the JSON report of a CSR. */
export function describeCsr(csr: ParsedCsr): CsrReport {
  const { reports } = viewExtensions(csr.extensions);
  return {
    type: 'csr',
    version: csr.version + 1,
    subject: nameReport(csrSubject(csr)),
    publicKey: describePublicKey(csr.spki, csrPublicKeyOid(csr), csr.publicKey),
    signatureAlgorithm: describeAlgorithm(csr.signatureAlgorithm),
    signatureValid: csrSignatureValid(csr),
    extensions: reports,
    attributes: csr.attributes.filter((a) => a.oid !== OID.extensionRequest).map((a) => ({ oid: a.oid, name: oidName(a.oid) })),
    fingerprints: fingerprints(csr.der),
  };
}

const ENTRY_MODELLED = new Set<string>([OID.cRLReason, OID.invalidityDate, OID.certificateIssuer]);

function revokedReport(r: RevokedCertificate): RevokedReport {
  const other = r.extensions.filter((e) => !ENTRY_MODELLED.has(e.oid));
  return {
    serialNumber: r.serialHex,
    revocationDate: formatTime(r.revocationDate),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.invalidityDate ? { invalidityDate: formatTime(r.invalidityDate) } : {}),
    ...(r.certificateIssuer ? { certificateIssuer: r.certificateIssuer.map(gnJson) } : {}),
    ...(other.length ? { extensions: viewExtensions(other).reports } : {}),
  };
}

/** Whether a CRL is current at `now`, stale (past nextUpdate) or not valid yet. */
export function crlStatus(crl: Crl, now: Date): CrlReport['status'] {
  if (now.getTime() < crl.thisUpdate.getTime()) return 'not-yet-valid';
  if (crl.nextUpdate && now.getTime() > crl.nextUpdate.getTime()) return 'stale';
  return 'current';
}

/** Builds the JSON report of a CRL. */
export function describeCrl(crl: Crl, options: InspectOptions): CrlReport {
  const { reports } = viewExtensions(crl.extensions);
  return {
    type: 'crl',
    version: crl.version,
    signatureAlgorithm: describeAlgorithm(crl.signatureAlgorithm),
    issuer: nameReport(crl.issuer),
    thisUpdate: formatTime(crl.thisUpdate),
    nextUpdate: crl.nextUpdate ? formatTime(crl.nextUpdate) : null,
    status: crlStatus(crl, options.now),
    ...(crl.ext.crlNumber !== undefined ? { crlNumber: crl.ext.crlNumber.toString() } : {}),
    ...(crl.ext.deltaCrlIndicator !== undefined ? { deltaCrlIndicator: crl.ext.deltaCrlIndicator.toString() } : {}),
    extensions: reports,
    revoked: crl.revoked.map(revokedReport),
    fingerprints: fingerprints(crl.der),
  };
}

/** Builds the JSON report of any inspected object. */
export function describeObject(o: InspectedObject, options: InspectOptions): ObjectReport {
  switch (o.kind) {
    case 'certificate':
      return describeCertificate(o.certificate, options);
    case 'csr':
      return describeCsr(o.csr);
    case 'crl':
      return describeCrl(o.crl, options);
  }
}

// ---------------------------------------------------------------------------------------------
// text

const UNITS: readonly (readonly [string, number])[] = [
  ['y', 365 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A duration in its two largest units: `1y30d`, `23h59m`, `45s`. */
export function humanDuration(ms: number): string {
  let rest = Math.abs(ms);
  const i = UNITS.findIndex(([, size]) => rest >= size);
  const first = UNITS[i];
  if (!first) return '0s';
  const n1 = Math.floor(rest / first[1]);
  rest -= n1 * first[1];
  let out = `${n1}${first[0]}`;
  const next = UNITS[i + 1];
  if (next) {
    const n2 = Math.floor(rest / next[1]);
    if (n2 > 0) out += `${n2}${next[0]}`;
  }
  return out;
}

function notAfterNote(notAfter: Date, now: Date): string {
  const d = notAfter.getTime() - now.getTime();
  return d >= 0 ? `expires in ${humanDuration(d)}` : `expired ${humanDuration(d)} ago`;
}

function notBeforeNote(notBefore: Date, now: Date): string {
  const d = notBefore.getTime() - now.getTime();
  return d > 0 ? `not valid for another ${humanDuration(d)}` : `${humanDuration(d)} ago`;
}

function whenNote(t: Date, now: Date): string {
  const d = t.getTime() - now.getTime();
  return d >= 0 ? `in ${humanDuration(d)}` : `${humanDuration(d)} ago`;
}

const MAX_LABEL = 32;

/**
 * Renders rows with values aligned per group of siblings. This is the one place text output is
 * assembled, so every label and value passes through {@link escapeControl} here: names, SANs,
 * URIs, policy texts and TLS fields all come from a stranger and must not reach the terminal
 * with escape sequences or line breaks of their own.
 */
function renderRows(rows: readonly Row[], indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  const width = Math.min(MAX_LABEL, Math.max(0, ...rows.filter((r) => r.value !== undefined).map((r) => escapeControl(r.label).length + 1)));
  for (const r of rows) {
    const label = escapeControl(r.label);
    if (r.value !== undefined) {
      const values = (typeof r.value === 'string' ? [r.value] : r.value).map(escapeControl);
      const head = `${label}:`.padEnd(width);
      const cont = ' '.repeat(Math.max(width, head.length) + 1);
      values.forEach((v, i) => out.push(i === 0 ? `${pad}${head} ${v}`.trimEnd() : `${pad}${cont}${v}`));
      if (values.length === 0) out.push(`${pad}${label}:`);
    } else {
      out.push(`${pad}${label}${r.heading ? '' : ':'}`);
      renderRows(r.rows ?? [], indent + 4, out);
    }
  }
}

function keyText(k: PublicKeyReport): Row[] {
  const rows: Row[] = [{ label: 'Algorithm', value: k.algorithm }];
  if (k.publicExponent !== undefined) rows.push({ label: 'Exponent', value: `${k.publicExponent} (0x${k.publicExponent.toString(16)})` });
  rows.push({ label: 'SPKI SHA-256', value: k.spkiSha256 });
  return rows;
}

function fingerprintRows(f: Fingerprints): Row[] {
  return [
    { label: 'SHA-256', value: colonHex(Buffer.from(f.sha256, 'hex')) },
    { label: 'SHA-1', value: colonHex(Buffer.from(f.sha1, 'hex')) },
  ];
}

function serialText(hex: string): string {
  return hex.replace(/(..)(?=.)/g, '$1:');
}

function certificateRows(cert: Certificate, now: Date): Row[] {
  const r = describeCertificate(cert, { now });
  const { rows: extRows } = viewExtensions(cert.extensions);
  const rows: Row[] = [
    { label: 'Version', value: `${r.version} (0x${(r.version - 1).toString(16)})` },
    { label: 'Serial Number', value: serialText(r.serialNumber.hex) },
    { label: 'Signature Algorithm', value: algorithmText(r.signatureAlgorithm) },
    { label: 'Issuer', value: r.issuer.text || '(empty)' },
    {
      label: 'Validity',
      rows: [
        { label: 'Not Before', value: `${r.validity.notBefore} (${notBeforeNote(cert.notBefore, now)})` },
        { label: 'Not After', value: `${r.validity.notAfter} (${notAfterNote(cert.notAfter, now)})` },
        { label: 'Lifetime', value: humanDuration(r.validity.lifetimeSeconds * 1000) },
      ],
    },
    { label: 'Subject', value: r.subject.text || '(empty)' },
    { label: 'Subject Public Key Info', rows: keyText(r.publicKey) },
  ];
  if (extRows.length) rows.push({ label: 'Extensions', rows: extRows });
  rows.push({ label: 'Fingerprints', rows: fingerprintRows(r.fingerprints) });
  return rows;
}

function csrRows(csr: ParsedCsr): Row[] {
  const r = describeCsr(csr);
  const { rows: extRows } = viewExtensions(csr.extensions);
  const rows: Row[] = [
    { label: 'Version', value: `${r.version} (0x${(r.version - 1).toString(16)})` },
    { label: 'Subject', value: r.subject.text || '(empty)' },
    { label: 'Subject Public Key Info', rows: keyText(r.publicKey) },
    { label: 'Signature Algorithm', value: algorithmText(r.signatureAlgorithm) },
    { label: 'Signature', value: r.signatureValid === null ? 'not checked (unsupported algorithm)' : r.signatureValid ? 'valid (proof of possession)' : 'INVALID' },
  ];
  if (extRows.length) rows.push({ label: 'Requested Extensions', rows: extRows });
  if (r.attributes.length) rows.push({ label: 'Attributes', value: r.attributes.map((a) => (a.name === a.oid ? a.oid : `${a.name} (${a.oid})`)) });
  rows.push({ label: 'Fingerprints', rows: fingerprintRows(r.fingerprints) });
  return rows;
}

function crlRows(crl: Crl, now: Date, short: boolean): Row[] {
  const r = describeCrl(crl, { now });
  const { rows: extRows } = viewExtensions(crl.extensions);
  const rows: Row[] = [
    { label: 'Version', value: `${r.version} (0x${(r.version - 1).toString(16)})` },
    { label: 'Signature Algorithm', value: algorithmText(r.signatureAlgorithm) },
    { label: 'Issuer', value: r.issuer.text || '(empty)' },
    { label: 'This Update', value: `${r.thisUpdate} (${whenNote(crl.thisUpdate, now)})` },
    { label: 'Next Update', value: crl.nextUpdate ? `${r.nextUpdate ?? ''} (${whenNote(crl.nextUpdate, now)}${r.status === 'stale' ? ', stale' : ''})` : '(none)' },
  ];
  if (extRows.length && !short) rows.push({ label: 'Extensions', rows: extRows });
  if (short) {
    if (r.crlNumber !== undefined) rows.push({ label: 'CRL Number', value: r.crlNumber });
    rows.push({ label: 'Revoked', value: `${r.revoked.length} certificate${r.revoked.length === 1 ? '' : 's'}` });
    return rows;
  }
  const entries: Row[] = r.revoked.map((e, i) => {
    const sub: Row[] = [{ label: 'Revocation Date', value: e.revocationDate }];
    if (e.reason) sub.push({ label: 'Reason', value: e.reason });
    if (e.invalidityDate) sub.push({ label: 'Invalidity Date', value: e.invalidityDate });
    if (e.certificateIssuer) sub.push({ label: 'Certificate Issuer', value: e.certificateIssuer.map((g) => `${GN_LABELS[g.type] ?? g.type}:${g.value}`) });
    const other = (crl.revoked[i]?.extensions ?? []).filter((x) => !ENTRY_MODELLED.has(x.oid));
    if (other.length) sub.push({ label: 'Extensions', rows: viewExtensions(other).rows });
    return { label: `Serial Number ${serialText(e.serialNumber)}`, rows: sub, heading: true };
  });
  rows.push(entries.length ? { label: `Revoked Certificates (${entries.length})`, rows: entries } : { label: 'Revoked Certificates', value: '(none)' });
  rows.push({ label: 'Fingerprints', rows: fingerprintRows(r.fingerprints) });
  return rows;
}

function shortCertificateRows(cert: Certificate, now: Date): Row[] {
  const r = describeCertificate(cert, { now });
  const sans = cert.ext.subjectAltName;
  const role = r.isCa ? (r.selfSigned ? 'root CA' : 'CA') : r.selfSigned ? 'self-signed' : 'end-entity';
  const rows: Row[] = [
    { label: 'Subject', value: r.subject.text || '(empty)' },
    ...(sans && sans.length ? [{ label: 'SANs', value: sans.map(gnText).join(', ') }] : []),
    { label: 'Issuer', value: r.issuer.text || '(empty)' },
    { label: 'Key', value: `${r.publicKey.algorithm}, signed with ${algorithmText(r.signatureAlgorithm)}` },
    { label: 'Serial', value: serialText(r.serialNumber.hex) },
    { label: 'Valid', value: [`${r.validity.notBefore} to ${r.validity.notAfter}`, `(${notAfterNote(cert.notAfter, now)})`] },
    { label: 'Type', value: role },
    { label: 'SHA-256', value: r.fingerprints.sha256 },
  ];
  return rows;
}

function shortCsrRows(csr: ParsedCsr): Row[] {
  const r = describeCsr(csr);
  const san = r.extensions.find((e) => e.oid === OID.subjectAltName)?.value;
  const sans = Array.isArray(san) ? (san as readonly { type: string; value: string }[]).map((g) => `${GN_LABELS[g.type] ?? g.type}:${g.value}`) : [];
  return [
    { label: 'Subject', value: r.subject.text || '(empty)' },
    ...(sans.length ? [{ label: 'SANs', value: sans.join(', ') }] : []),
    { label: 'Key', value: r.publicKey.algorithm },
    { label: 'Signature', value: r.signatureValid === null ? 'not checked' : r.signatureValid ? 'valid' : 'INVALID' },
  ];
}

const TITLES: Readonly<Record<InspectKind, string>> = { certificate: 'Certificate', csr: 'Certificate Request', crl: 'Certificate Revocation List' };

/** Options of {@link renderText}. */
export interface RenderTextOptions extends InspectOptions {
  /** A few lines per object instead of the full dump. */
  readonly short?: boolean;
  /** The TLS connection the objects came from, shown first. */
  readonly tls?: TlsReport;
}

/**
 * Renders objects as aligned, human-readable text (newline-terminated). Several objects are
 * numbered in input order.
 */
export function renderText(objects: readonly InspectedObject[], options: RenderTextOptions): string {
  const out: string[] = [];
  const { now } = options;
  if (options.tls) {
    const t = options.tls;
    out.push(`TLS server ${escapeControl(formatTlsTarget(t))}`);
    renderRows(
      [
        { label: 'SNI', value: t.servername ?? '(none)' },
        { label: 'Protocol', value: t.protocol ?? 'unknown' },
        { label: 'Cipher', value: t.cipher ?? 'unknown' },
        { label: 'ALPN', value: t.alpn ?? '(none)' },
        { label: 'Chain', value: `${objects.length} certificate${objects.length === 1 ? '' : 's'} presented (not verified: inspection only)` },
      ],
      4,
      out,
    );
    out.push('');
  }
  objects.forEach((o, i) => {
    if (i > 0) out.push('');
    const n = objects.length > 1 ? ` ${i + 1} of ${objects.length}` : '';
    out.push(`${TITLES[o.kind]}${n}:`);
    let rows: Row[];
    switch (o.kind) {
      case 'certificate':
        rows = options.short ? shortCertificateRows(o.certificate, now) : certificateRows(o.certificate, now);
        break;
      case 'csr':
        rows = options.short ? shortCsrRows(o.csr) : csrRows(o.csr);
        break;
      case 'crl':
        rows = crlRows(o.crl, now, options.short === true);
        break;
    }
    renderRows(rows, 4, out);
  });
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// renewal

/** When a certificate is due: after a share of its lifetime, or when less than a duration remains. */
export type RenewalThreshold = { readonly percent: number } | { readonly remainingMs: number };

/** The default threshold: renew once 66% of the lifetime has passed (as `step certificate needs-renewal`). */
export const DEFAULT_RENEWAL_THRESHOLD: RenewalThreshold = { percent: 66 };

/**
 * Parses `66%` (share of the lifetime that has passed, 0 < p ≤ 100) or a duration such as `8h`
 * (remaining time). Throws ERR_BAD_OPTION / ERR_BAD_DURATION.
 */
export function parseRenewalThreshold(text: string): RenewalThreshold {
  const t = text.trim();
  const pct = /^([+-]?\d+(?:\.\d+)?)%$/.exec(t);
  if (pct) {
    const percent = Number(pct[1]);
    if (!(percent > 0 && percent <= 100)) {
      throw new SignetError('ERR_BAD_OPTION', `invalid threshold "${text}": the percentage must be more than 0% and at most 100%`, {
        hint: 'use the share of the lifetime that may pass before renewal, above 0% and up to 100%, e.g. 66%',
      });
    }
    return { percent };
  }
  if (t.endsWith('%')) throw new SignetError('ERR_BAD_OPTION', `invalid threshold "${text}": not a percentage`, { hint: 'use a number followed by %, e.g. 66%' });
  if (t.startsWith('-')) throw new SignetError('ERR_BAD_DURATION', `invalid duration "${text}": must not be negative`);
  return { remainingMs: parseDuration(t) };
}

/** The outcome of {@link checkRenewal}. */
export interface RenewalDecision {
  readonly needsRenewal: boolean;
  /** `expired`, `threshold` (renewal window reached), `not-due`, or `not-yet-valid`. */
  readonly reason: 'expired' | 'threshold' | 'not-due' | 'not-yet-valid';
  readonly now: Date;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly lifetimeMs: number;
  readonly remainingMs: number;
  /** Share of the lifetime that has passed, in percent (may be < 0 or > 100). */
  readonly elapsedPercent: number;
  /** When the renewal window opens under the threshold. */
  readonly renewAt: Date;
}

/**
 * Decides whether a certificate is due for renewal at `now`: expired certificates always are; a
 * percentage threshold is due once that share of notBefore→notAfter has passed; a duration
 * threshold once no more than that remains. A not-yet-valid certificate is not due.
 */
export function checkRenewal(cert: { readonly notBefore: Date; readonly notAfter: Date }, threshold: RenewalThreshold, now: Date): RenewalDecision {
  const nb = cert.notBefore.getTime();
  const na = cert.notAfter.getTime();
  const t = now.getTime();
  const lifetimeMs = na - nb;
  const remainingMs = na - t;
  const elapsedPercent = lifetimeMs > 0 ? ((t - nb) / lifetimeMs) * 100 : 100;
  const renewAtMs = 'percent' in threshold ? nb + (lifetimeMs * threshold.percent) / 100 : na - threshold.remainingMs;
  let reason: RenewalDecision['reason'];
  if (t > na) reason = 'expired';
  else if (t < nb) reason = 'not-yet-valid';
  else if (t >= renewAtMs) reason = 'threshold';
  else reason = 'not-due';
  return {
    needsRenewal: reason === 'expired' || reason === 'threshold',
    reason,
    now,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    lifetimeMs,
    remainingMs,
    elapsedPercent,
    renewAt: new Date(renewAtMs),
  };
}
