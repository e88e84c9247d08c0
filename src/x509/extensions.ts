/**
 * Certificate extensions for issuance (RFC 5280 §4.2): a declarative spec and DER encoders whose
 * output is byte-identical to what OpenSSL writes for the same `openssl.cnf` lines (proven in
 * test/x509-build).
 *
 * ```asn1
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension  ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE,
 *                           extnValue OCTET STRING }
 * ```
 */
import { hash } from 'node:crypto';
import { SignetError } from '../core/errors.js';
import { boolean, explicit, headerLength, implicitConstructed, implicitPrimitive, integer, namedBitString, octetString, oid, sequence, Tag, writeHeader } from './der.js';
import { encodeGeneralName, type GeneralName } from './general-name.js';
import { OID } from './oids.js';

/** KeyUsage bits (RFC 5280 §4.2.1.3), by RFC name. `contentCommitment` is the newer name of bit 1. */
export const KEY_USAGE_BIT_NUMBERS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE_BIT_NUMBERS;

/** Extended key usage names accepted in specs and on the command line, mapped to OIDs. */
export const EXTENDED_KEY_USAGES: Readonly<Record<string, string>> = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  codeSigning: OID.codeSigning,
  emailProtection: OID.emailProtection,
  timeStamping: OID.timeStamping,
  OCSPSigning: OID.OCSPSigning,
  anyExtendedKeyUsage: OID.anyExtendedKeyUsage,
};

/** A raw extension, written verbatim after the named ones (unknown, duplicate or malformed ones for tests). */
export interface RawExtension {
  readonly oid: string;
  readonly critical?: boolean;
  /** The extnValue content: DER of the extension's own ASN.1 value (wrapped in OCTET STRING here). */
  readonly value: Uint8Array;
}

/**
 * The extensions of a certificate. Each is optional; `critical` defaults to what RFC 5280 asks
 * for (basicConstraints critical on CAs, keyUsage critical, the rest non-critical) — pass it
 * explicitly to build anything else. They are written in this fixed order: basicConstraints,
 * keyUsage, extKeyUsage, subjectKeyIdentifier, authorityKeyIdentifier, subjectAltName,
 * nameConstraints, authorityInfoAccess, cRLDistributionPoints, certificatePolicies, then `extra`.
 */
export interface ExtensionsSpec {
  /** RFC 5280 §4.2.1.9. Default critical: true. `ca: false` encodes as the empty SEQUENCE. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number; readonly critical?: boolean };
  /** RFC 5280 §4.2.1.3. Default critical: true. */
  readonly keyUsage?: { readonly usages: readonly KeyUsageName[]; readonly critical?: boolean };
  /** RFC 5280 §4.2.1.12: names from {@link EXTENDED_KEY_USAGES} or dotted OIDs. Default non-critical. */
  readonly extKeyUsage?: { readonly usages: readonly string[]; readonly critical?: boolean };
  /** RFC 5280 §4.2.1.6. Default non-critical (set critical when the subject is empty). */
  readonly subjectAltName?: { readonly names: readonly GeneralName[]; readonly critical?: boolean };
  /** RFC 5280 §4.2.1.10; `ip` names are ranges (`10.0.0.0/8`). Default critical: true. */
  readonly nameConstraints?: { readonly permitted?: readonly GeneralName[]; readonly excluded?: readonly GeneralName[]; readonly critical?: boolean };
  /** RFC 5280 §4.2.1.13: one DistributionPoint with a fullName URI per URL. */
  readonly crlDistributionPoints?: readonly string[];
  /** RFC 5280 §4.2.2.1: OCSP responder and CA issuers URLs (OCSP entries first). */
  readonly authorityInfoAccess?: { readonly ocsp?: readonly string[]; readonly caIssuers?: readonly string[] };
  /** RFC 5280 §4.2.1.4: policy OIDs, without qualifiers. */
  readonly certificatePolicies?: readonly string[];
  /**
   * RFC 5280 §4.2.1.2. `'auto'` (the default when omitted is *no* SKI) uses the SHA-1 of the
   * subjectPublicKey BIT STRING contents — method (1), what OpenSSL writes for `hash`.
   */
  readonly subjectKeyIdentifier?: Uint8Array | 'auto' | false;
  /**
   * RFC 5280 §4.2.1.1, keyIdentifier form only. `'auto'` takes the issuer's key identifier (for a
   * self-signed certificate: its own SKI); it is omitted when the issuer has none.
   */
  readonly authorityKeyIdentifier?: Uint8Array | 'auto' | false;
  /** Appended verbatim, in order. */
  readonly extra?: readonly RawExtension[];
}

/** What extension encoding needs to know about the subject key and the issuer. */
export interface ExtensionContext {
  /** DER SubjectPublicKeyInfo of the certified key. */
  readonly spki: Uint8Array;
  /** The issuer's key identifier, for `authorityKeyIdentifier: 'auto'`. */
  readonly issuerKeyIdentifier?: Uint8Array | undefined;
  /** True when the certificate is self-signed (AKI `auto` then equals the SKI). */
  readonly selfSigned: boolean;
}

/** DER of one Extension. `value` is the extnValue content (the DER that goes inside the OCTET STRING). */
export function encodeExtension(extnId: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence([oid(extnId), boolean(true), octetString(value)]) : sequence([oid(extnId), octetString(value)]);
}

const CRITICAL_TRUE = Uint8Array.of(Tag.BOOLEAN, 1, 0xff);

/**
 * An Extension whose value is a SEQUENCE of already-encoded `items`, written with a single
 * allocation (Extension → OCTET STRING → SEQUENCE → items); used for per-certificate SANs.
 */
function sequenceExtension(extnId: string, critical: boolean, items: readonly Uint8Array[]): Uint8Array {
  const id = oid(extnId);
  let itemsLen = 0;
  for (const i of items) itemsLen += i.length;
  const seqLen = headerLength(itemsLen) + itemsLen;
  const octLen = headerLength(seqLen) + seqLen;
  const bodyLen = id.length + (critical ? 3 : 0) + octLen;
  const out = new Uint8Array(headerLength(bodyLen) + bodyLen);
  let o = writeHeader(out, 0, Tag.SEQUENCE, bodyLen);
  out.set(id, o);
  o += id.length;
  if (critical) {
    out.set(CRITICAL_TRUE, o);
    o += 3;
  }
  o = writeHeader(out, o, Tag.OCTET_STRING, seqLen);
  o = writeHeader(out, o, Tag.SEQUENCE, itemsLen);
  for (const i of items) {
    out.set(i, o);
    o += i.length;
  }
  return out;
}

/**
 * The bytes of the subjectPublicKey BIT STRING (without the unused-bits octet) inside a DER
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }.
 */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = readHeader(spki, 0);
  if (spki[0] !== Tag.SEQUENCE) throw malformedSpki();
  const alg = readHeader(spki, outer.contentStart);
  const bits = readHeader(spki, alg.end);
  if (spki[alg.end] !== Tag.BIT_STRING || bits.end > spki.length || bits.contentStart >= bits.end) throw malformedSpki();
  return spki.subarray(bits.contentStart + 1, bits.end);
}

function malformedSpki(): SignetError {
  return new SignetError('ERR_KEY_MALFORMED', 'malformed SubjectPublicKeyInfo');
}

/** Reads a TLV header at `off`; returns where content starts and where the TLV ends. */
function readHeader(buf: Uint8Array, off: number): { contentStart: number; end: number } {
  const first = buf[off + 1];
  if (first === undefined) throw malformedSpki();
  if (first < 0x80) return { contentStart: off + 2, end: off + 2 + first };
  const n = first & 0x7f;
  if (n === 0 || n > 4) throw malformedSpki();
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (buf[off + 2 + i] ?? 0);
  return { contentStart: off + 2 + n, end: off + 2 + n + len };
}

/**
 * The key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 over the subjectPublicKey bits. This
 * is what OpenSSL writes for `subjectKeyIdentifier = hash` and uses for `authorityKeyIdentifier`.
 */
export function keyIdentifier(spki: Uint8Array): Uint8Array {
  // One-shot crypto.hash (Node ≥ 20.12) costs about half of createHash().update().digest().
  return hash('sha1', subjectPublicKeyBits(spki), 'buffer');
}

function resolveKeyUsage(name: string): number {
  const bit = (KEY_USAGE_BIT_NUMBERS as Record<string, number>)[name];
  if (bit === undefined) {
    throw new SignetError('ERR_BAD_OPTION', `unknown key usage "${name}"`, { hint: `use ${Object.keys(KEY_USAGE_BIT_NUMBERS).join(', ')}` });
  }
  return bit;
}

/** Resolves an EKU name (case- and dash-insensitive: `serverAuth`, `server-auth`) or dotted OID. */
export function extendedKeyUsageOid(name: string): string {
  if (/^\d+(\.\d+)+$/.test(name)) return name;
  const norm = name.replace(/[-_]/g, '').toLowerCase();
  for (const [k, v] of Object.entries(EXTENDED_KEY_USAGES)) if (k.toLowerCase() === norm) return v;
  if (norm === 'any') return OID.anyExtendedKeyUsage;
  if (norm === 'ocsp') return OID.OCSPSigning;
  throw new SignetError('ERR_BAD_OPTION', `unknown extended key usage "${name}"`, { hint: `use ${Object.keys(EXTENDED_KEY_USAGES).join(', ')} or a dotted OID` });
}

/** KeyUsage ::= BIT STRING — named bits, trailing zeros removed (X.690 §11.2.2). */
export function encodeKeyUsage(usages: readonly string[]): Uint8Array {
  return namedBitString([...new Set(usages.map(resolveKeyUsage))]);
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
export function encodeBasicConstraints(ca: boolean, pathLen?: number): Uint8Array {
  const parts: Uint8Array[] = [];
  if (ca) parts.push(boolean(true));
  if (pathLen !== undefined) parts.push(integer(pathLen));
  return sequence(parts);
}

/** GeneralSubtrees ::= SEQUENCE OF GeneralSubtree; GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL } */
function encodeSubtrees(tag: number, names: readonly GeneralName[]): Uint8Array {
  const subtrees = names.map((n) => sequence([encodeGeneralName(n, true)]));
  let len = 0;
  for (const s of subtrees) len += s.length;
  const content = new Uint8Array(len);
  let o = 0;
  for (const s of subtrees) {
    content.set(s, o);
    o += s.length;
  }
  return implicitConstructed(tag, content);
}

/** NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL, excludedSubtrees [1] GeneralSubtrees OPTIONAL } */
export function encodeNameConstraints(permitted: readonly GeneralName[] = [], excluded: readonly GeneralName[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  if (permitted.length > 0) parts.push(encodeSubtrees(0, permitted));
  if (excluded.length > 0) parts.push(encodeSubtrees(1, excluded));
  return sequence(parts);
}

/** CRLDistributionPoints: one DistributionPoint { distributionPoint [0] { fullName [0] { URI } } } per URL, as OpenSSL writes `URI:` entries. */
export function encodeCrlDistributionPoints(urls: readonly string[]): Uint8Array {
  return sequence(
    urls.map((u) => {
      const gn = encodeGeneralName({ type: 'uri', value: u });
      return sequence([explicit(0, implicitConstructed(0, gn))]);
    }),
  );
}

/** AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName } */
export function encodeAuthorityInfoAccess(ocsp: readonly string[] = [], caIssuers: readonly string[] = []): Uint8Array {
  return sequence([
    ...ocsp.map((u) => sequence([oid(OID.ocsp), encodeGeneralName({ type: 'uri', value: u })])),
    ...caIssuers.map((u) => sequence([oid(OID.caIssuers), encodeGeneralName({ type: 'uri', value: u })])),
  ]);
}

/** certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier } (no qualifiers). */
export function encodeCertificatePolicies(policies: readonly string[]): Uint8Array {
  return sequence(policies.map((p) => sequence([oid(p)])));
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier OPTIONAL, … } — keyid only. */
export function encodeAuthorityKeyIdentifier(keyId: Uint8Array): Uint8Array {
  return sequence([implicitPrimitive(0, keyId)]);
}

// Extensions that depend only on the profile (basicConstraints, keyUsage, EKU, AIA, CRL DP,
// policies) are the same for thousands of certificates: their complete DER is cached by value.
const valueCache = new Map<string, Uint8Array>();
const VALUE_CACHE_LIMIT = 1024;

/** An unambiguous cache key for a list of strings (length-prefixed, so no separator can collide). */
function listKey(items: readonly string[]): string {
  let k = '';
  for (const i of items) k += `${i.length}:${i}`;
  return k;
}

function cachedExtension(key: string, make: () => Uint8Array): Uint8Array {
  let v = valueCache.get(key);
  if (v === undefined) {
    v = make();
    if (valueCache.size >= VALUE_CACHE_LIMIT) valueCache.clear();
    valueCache.set(key, v);
  }
  return v;
}

const EMPTY: readonly string[] = [];

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A one-entry memo in front of the value cache, compared element by element: a CA issuing one
 * profile hits it on every certificate without building a string key.
 */
class ListMemo {
  private a: readonly string[] = EMPTY;
  private b: readonly string[] = EMPTY;
  private flag = -1;
  private value: Uint8Array | undefined;

  hit(a: readonly string[], b: readonly string[], flag: number): Uint8Array | undefined {
    return this.value !== undefined && flag === this.flag && sameList(a, this.a) && sameList(b, this.b) ? this.value : undefined;
  }

  store(a: readonly string[], b: readonly string[], flag: number, value: Uint8Array): Uint8Array {
    this.a = [...a];
    this.b = [...b];
    this.flag = flag;
    this.value = value;
    return value;
  }
}

const ekuMemo = new ListMemo();
const aiaMemo = new ListMemo();
const crlMemo = new ListMemo();
const cpMemo = new ListMemo();

// keyUsage extensions by bit mask (bit 16 = critical): at most 2^10 distinct values.
const kuCache = new Map<number, Uint8Array>();

/** The usages as a bit mask (bit n = KeyUsage bit n), or -1 when a name is unknown. */
function keyUsageMask(usages: readonly string[]): number {
  let m = 0;
  for (const u of usages) {
    const bit = (KEY_USAGE_BIT_NUMBERS as Readonly<Record<string, number | undefined>>)[u];
    if (bit === undefined || !Object.prototype.hasOwnProperty.call(KEY_USAGE_BIT_NUMBERS, u)) return -1;
    m |= 1 << bit;
  }
  return m;
}

// AKI extensions for a given issuer key identifier (the same Uint8Array on every issuance).
const akiCache = new WeakMap<Uint8Array, Uint8Array>();

function akiExtension(id: Uint8Array): Uint8Array {
  let v = akiCache.get(id);
  if (v === undefined) {
    v = encodeExtension(OID.authorityKeyIdentifier, false, encodeAuthorityKeyIdentifier(id));
    akiCache.set(id, v);
  }
  return v;
}

/** Prefix of a non-critical subjectKeyIdentifier extension holding a 20-byte key id. */
const SKI_PREFIX = Uint8Array.of(Tag.SEQUENCE, 29, Tag.OID, 3, 0x55, 0x1d, 0x0e, Tag.OCTET_STRING, 22, Tag.OCTET_STRING, 20);

function skiExtension(id: Uint8Array): Uint8Array {
  if (id.length !== 20) return encodeExtension(OID.subjectKeyIdentifier, false, octetString(id));
  const out = new Uint8Array(SKI_PREFIX.length + 20);
  out.set(SKI_PREFIX);
  out.set(id, SKI_PREFIX.length);
  return out;
}

/**
 * Encodes every extension of `spec` in the fixed order documented on {@link ExtensionsSpec};
 * returns the list of Extension TLVs (empty when there are none). The returned arrays may be
 * shared with an internal cache: do not modify them.
 */
export function encodeExtensions(spec: ExtensionsSpec, ctx: ExtensionContext): Uint8Array[] {
  const out: Uint8Array[] = [];
  const bc = spec.basicConstraints;
  if (bc) {
    const critical = bc.critical ?? true;
    out.push(cachedExtension(bc.pathLen === undefined ? (bc.ca ? (critical ? 'bc|1|1' : 'bc|1|0') : critical ? 'bc|0|1' : 'bc|0|0') : `bc|${bc.ca}|${critical}|${bc.pathLen}`, () =>
      encodeExtension(OID.basicConstraints, critical, encodeBasicConstraints(bc.ca, bc.pathLen)),
    ));
  }
  const ku = spec.keyUsage;
  if (ku) {
    const critical = ku.critical ?? true;
    const bits = keyUsageMask(ku.usages);
    let ext = bits >= 0 ? kuCache.get(critical ? bits | 0x10000 : bits) : undefined;
    if (ext === undefined) {
      ext = encodeExtension(OID.keyUsage, critical, encodeKeyUsage(ku.usages));
      if (bits >= 0) kuCache.set(critical ? bits | 0x10000 : bits, ext);
    }
    out.push(ext);
  }
  const eku = spec.extKeyUsage;
  if (eku) {
    const critical = eku.critical ?? false;
    const flag = critical ? 1 : 0;
    out.push(
      ekuMemo.hit(eku.usages, EMPTY, flag) ??
        ekuMemo.store(
          eku.usages,
          EMPTY,
          flag,
          cachedExtension(`eku|${critical}|${listKey(eku.usages)}`, () =>
            encodeExtension(OID.extKeyUsage, critical, sequence(eku.usages.map((u) => oid(extendedKeyUsageOid(u))))),
          ),
        ),
    );
  }
  let ski: Uint8Array | undefined;
  if (spec.subjectKeyIdentifier !== undefined && spec.subjectKeyIdentifier !== false) {
    ski = spec.subjectKeyIdentifier === 'auto' ? keyIdentifier(ctx.spki) : spec.subjectKeyIdentifier;
    out.push(skiExtension(ski));
  }
  const aki = spec.authorityKeyIdentifier;
  if (aki !== undefined && aki !== false) {
    let id: Uint8Array | undefined;
    if (aki !== 'auto') id = aki;
    else if (ctx.selfSigned) id = ski ?? keyIdentifier(ctx.spki);
    else id = ctx.issuerKeyIdentifier;
    if (id) out.push(akiExtension(id));
  }
  const san = spec.subjectAltName;
  if (san) {
    const names: Uint8Array[] = [];
    for (const n of san.names) names.push(encodeGeneralName(n));
    out.push(sequenceExtension(OID.subjectAltName, san.critical ?? false, names));
  }
  const nc = spec.nameConstraints;
  if (nc) out.push(encodeExtension(OID.nameConstraints, nc.critical ?? true, encodeNameConstraints(nc.permitted, nc.excluded)));
  const aia = spec.authorityInfoAccess;
  if (aia && ((aia.ocsp?.length ?? 0) > 0 || (aia.caIssuers?.length ?? 0) > 0)) {
    const ocsp = aia.ocsp ?? EMPTY;
    const caIssuers = aia.caIssuers ?? EMPTY;
    out.push(
      aiaMemo.hit(ocsp, caIssuers, 0) ??
        aiaMemo.store(
          ocsp,
          caIssuers,
          0,
          cachedExtension(`aia|${listKey(ocsp)}|${listKey(caIssuers)}`, () =>
            encodeExtension(OID.authorityInfoAccess, false, encodeAuthorityInfoAccess(ocsp, caIssuers)),
          ),
        ),
    );
  }
  const crl = spec.crlDistributionPoints;
  if (crl && crl.length > 0) {
    out.push(
      crlMemo.hit(crl, EMPTY, 0) ??
        crlMemo.store(crl, EMPTY, 0, cachedExtension(`crl|${listKey(crl)}`, () => encodeExtension(OID.cRLDistributionPoints, false, encodeCrlDistributionPoints(crl)))),
    );
  }
  const cp = spec.certificatePolicies;
  if (cp && cp.length > 0) {
    out.push(
      cpMemo.hit(cp, EMPTY, 0) ??
        cpMemo.store(cp, EMPTY, 0, cachedExtension(`cp|${listKey(cp)}`, () => encodeExtension(OID.certificatePolicies, false, encodeCertificatePolicies(cp)))),
    );
  }
  for (const e of spec.extra ?? []) out.push(encodeExtension(e.oid, e.critical ?? false, e.value));
  return out;
}
