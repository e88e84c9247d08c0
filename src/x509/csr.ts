/**
 * PKCS#10 certificate signing requests (RFC 2986): building (byte-identical to `openssl req -new`
 * for deterministic signatures, proven in test/x509-build), parsing, and signature verification.
 *
 * ```asn1
 * CertificationRequest ::= SEQUENCE {
 *   certificationRequestInfo CertificationRequestInfo,
 *   signatureAlgorithm       AlgorithmIdentifier,
 *   signature                BIT STRING }
 * CertificationRequestInfo ::= SEQUENCE {
 *   version       INTEGER { v1(0) },
 *   subject       Name,
 *   subjectPKInfo SubjectPublicKeyInfo,
 *   attributes    [0] Attributes }
 * Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET SIZE(1..MAX) OF ANY }
 * ```
 * Requested extensions travel in the PKCS#9 extensionRequest attribute (RFC 2985 §5.4.2).
 */
import { type KeyObject } from 'node:crypto';
import { importSpki } from '../crypto/spki.js';
import { SignetError } from '../core/errors.js';
import { decodePem, looksLikePem } from '../core/pem.js';
import { resolveSignatureAlgorithm, verifySignature, type AlgorithmReference } from '../crypto/signature.js';
import type { Signer } from '../crypto/signer.js';
import { Tag, contentOf, oid, sequence, setOf, tlv } from './der.js';
import { children, readSingle, type Tlv } from './der-reader.js';
import { decodeGeneralNames, decodeName, decodeOid, type ParsedGeneralName } from './decode-names.js';
import { encodeExtensions, type ExtensionsSpec } from './extensions.js';
import { formatIpAddress, type GeneralName } from './general-name.js';
import { subjectNameDer } from './certificate-builder.js';
import type { DistinguishedName, StringEncoding } from './name.js';
import { OID } from './oids.js';

/** A raw PKCS#10 attribute: type OID and the DER of each value. */
export interface CsrAttribute {
  readonly oid: string;
  readonly values: readonly Uint8Array[];
}

/** What to put in a CSR. */
export interface CsrSpec {
  readonly subject: DistinguishedName | Uint8Array;
  /**
   * Requested extensions (sent as extensionRequest). Encoded exactly as in certificates; the
   * `'auto'` key identifiers refer to the CSR's own key.
   */
  readonly extensions?: ExtensionsSpec;
  /** Further attributes, written after extensionRequest (e.g. challengePassword). */
  readonly attributes?: readonly CsrAttribute[];
}

/** The version-0 INTEGER every CSR starts with. */
const VERSION_0 = Uint8Array.of(Tag.INTEGER, 1, 0);

/**
 * Builds and signs a CSR with `signer`, whose public key is the one requested for. Returns DER.
 * Without extensions or attributes the attributes field is the empty `[0]` (A0 00), as OpenSSL
 * writes it.
 */
export function buildCsr(spec: CsrSpec, signer: Signer): Uint8Array {
  const attrs: Uint8Array[] = [];
  if (spec.extensions) {
    const exts = encodeExtensions(spec.extensions, { spki: signer.spki, selfSigned: true });
    if (exts.length > 0) attrs.push(sequence([oid(OID.extensionRequest), setOf([sequence(exts)])]));
  }
  for (const a of spec.attributes ?? []) attrs.push(sequence([oid(a.oid), setOf(a.values)]));
  // Attributes is a SET OF: DER orders its elements (X.690 §11.6).
  const attributes = attrs.length > 0 ? tlv(0xa0, contentOf(setOf(attrs))) : Uint8Array.of(0xa0, 0);
  const info = sequence([VERSION_0, subjectNameDer(spec.subject), signer.spki, attributes]);
  const sig = signer.sign(info);
  const bits = new Uint8Array(sig.length + 1);
  bits.set(sig, 1);
  return sequence([info, signer.algorithm.identifier, tlv(Tag.BIT_STRING, bits)]);
}

/** One extension from an extensionRequest. */
export interface RequestedExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue content (DER of the extension value). */
  readonly value: Uint8Array;
}

/** A parsed CSR. The signature is *not* checked by parsing: call {@link verifyCsrSignature}. */
export interface ParsedCsr {
  readonly der: Uint8Array;
  /** The exact CertificationRequestInfo bytes the signature covers. */
  readonly info: Uint8Array;
  readonly version: number;
  /** The subject as typed attributes (DER order) and its exact DER. */
  readonly subject: DistinguishedName;
  readonly subjectDer: Uint8Array;
  /** RFC 4514 text of the subject (most specific first). */
  readonly subjectText: string;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
  readonly publicKey: KeyObject;
  readonly signatureAlgorithm: AlgorithmReference & { readonly name: string };
  readonly signature: Uint8Array;
  readonly attributes: readonly CsrAttribute[];
  /** Extensions requested through extensionRequest, in order. */
  readonly extensions: readonly RequestedExtension[];
  /** The subjectAltName names requested (empty when none). */
  readonly subjectAltNames: readonly GeneralName[];
}

function malformed(why: string, cause?: unknown): SignetError {
  return new SignetError('ERR_CSR_MALFORMED', `malformed certificate signing request: ${why}`, cause === undefined ? {} : { cause });
}

const ENCODING_BY_TAG: Readonly<Record<number, StringEncoding>> = { 0x0c: 'utf8', 0x13: 'printable', 0x16: 'ia5' };

/** Converts a decoded Name into a {@link DistinguishedName} (string types kept where representable). */
function toDistinguishedName(rdns: ReturnType<typeof decodeName>['rdns']): DistinguishedName {
  return rdns.map((rdn) =>
    rdn.map((a) => {
      const encoding = ENCODING_BY_TAG[a.tag];
      return encoding === undefined ? { type: a.type, value: a.value } : { type: a.type, value: a.value, encoding };
    }),
  );
}

/** Maps a decoded GeneralName to the builder's {@link GeneralName} (unknown forms stay raw). */
export function toGeneralName(n: ParsedGeneralName): GeneralName {
  switch (n.type) {
    case 'dns':
    case 'email':
    case 'uri':
      return { type: n.type, value: n.value };
    case 'ip':
      return n.octets && (n.octets.length === 4 || n.octets.length === 16) ? { type: 'ip', value: formatIpAddress(n.octets) } : { type: 'other', der: n.der };
    case 'dirName':
      return n.name ? { type: 'dirName', value: toDistinguishedName(n.name.rdns) } : { type: 'other', der: n.der };
    default:
      return { type: 'other', der: n.der };
  }
}

function rfc4514(rdns: ReturnType<typeof decodeName>['rdns']): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${a.shortName}=${a.value.replace(/([,+"\\<>;=])/g, '\\$1')}`).join('+'))
    .join(',');
}

/**
 * Parses a CSR from PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or DER. Throws
 * ERR_PEM_MALFORMED / ERR_PEM_UNEXPECTED_TYPE for bad PEM, ERR_CSR_MALFORMED for anything that
 * is not a well-formed CSR, ERR_KEY_UNSUPPORTED for a key node:crypto cannot load.
 */
export function parseCsr(data: Uint8Array | string): ParsedCsr {
  let der: Uint8Array;
  if (typeof data === 'string' || looksLikePem(data)) {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    der = decodePem(text, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']).der;
  } else {
    der = data;
  }
  const code = 'ERR_CSR_MALFORMED';
  const top = readSingle(der, code);
  const parts = children(top, code);
  const [infoTlv, algTlv, sigTlv] = parts;
  if (top.tag !== Tag.SEQUENCE || parts.length !== 3 || !infoTlv || !algTlv || !sigTlv) throw malformed('expected SEQUENCE { info, algorithm, signature }');
  if (infoTlv.tag !== Tag.SEQUENCE || algTlv.tag !== Tag.SEQUENCE || sigTlv.tag !== Tag.BIT_STRING) throw malformed('unexpected field types');
  if (sigTlv.content.length < 1 || sigTlv.content[0] !== 0) throw malformed('signature BIT STRING has unused bits');

  // The structure is checked field by field below with the DER reader (RFC 2986 §4.1; every TLV
  // well-formed, nothing trailing): a second, typed decode of the whole request cost the CA's
  // issuance path almost as much as importing and verifying the key.
  const fields = children(infoTlv, code);
  const [versionTlv, subjectTlv, spkiTlv, attrsTlv] = fields;
  if (!versionTlv || !subjectTlv || !spkiTlv || versionTlv.tag !== Tag.INTEGER || subjectTlv.tag !== Tag.SEQUENCE || spkiTlv.tag !== Tag.SEQUENCE || fields.length > 4) {
    throw malformed('bad CertificationRequestInfo');
  }
  // version INTEGER { v1(0) }: one content octet (DER's minimal encoding of a small INTEGER).
  if (versionTlv.content.length !== 1 || (versionTlv.content[0] ?? 0) > 0x7f) throw malformed('bad version');
  const version = versionTlv.content[0] as number;
  const name = decodeName(subjectTlv.bytes, code);

  const spki = spkiTlv.bytes.slice();
  let publicKey: KeyObject;
  try {
    publicKey = importSpki(spki);
  } catch (e) {
    throw new SignetError('ERR_KEY_UNSUPPORTED', 'the CSR carries a public key that cannot be loaded', { cause: e });
  }

  const algParts = children(algTlv, code);
  const algOid = algParts[0];
  if (!algOid || algOid.tag !== Tag.OID) throw malformed('bad signature algorithm');
  const sigOid = decodeOid(algOid.content, code);
  const params = algParts[1]?.bytes.slice();
  let algName = sigOid;
  try {
    algName = resolveSignatureAlgorithm({ oid: sigOid, parameters: params }).name;
  } catch {
    // Unsupported algorithms are reported by verifyCsrSignature; parsing still succeeds.
  }

  const attributes: CsrAttribute[] = [];
  const extensions: RequestedExtension[] = [];
  let sans: GeneralName[] = [];
  if (attrsTlv) {
    if (attrsTlv.tag !== 0xa0) throw malformed('bad attributes field');
    for (const a of children(attrsTlv, code)) {
      const [typeTlv, valuesTlv] = children(a, code);
      if (!typeTlv || !valuesTlv || typeTlv.tag !== Tag.OID || valuesTlv.tag !== Tag.SET) throw malformed('bad attribute');
      const type = decodeOid(typeTlv.content, code);
      const values = children(valuesTlv, code).map((v) => v.bytes.slice());
      attributes.push({ oid: type, values });
      if (type !== OID.extensionRequest) continue;
      if (values.length !== 1) throw malformed('extensionRequest must have exactly one value');
      for (const ext of children(readSingle(values[0] as Uint8Array, code), code)) {
        const e = decodeExtension(ext);
        extensions.push(e);
        if (e.oid === OID.subjectAltName) sans = decodeGeneralNames(e.value, code).map(toGeneralName);
      }
    }
  }
  return {
    der,
    info: infoTlv.bytes.slice(),
    version,
    subject: toDistinguishedName(name.rdns),
    subjectDer: subjectTlv.bytes.slice(),
    subjectText: rfc4514(name.rdns),
    spki,
    publicKey,
    signatureAlgorithm: { oid: sigOid, parameters: params, name: algName },
    signature: sigTlv.content.slice(1),
    attributes,
    extensions,
    subjectAltNames: sans,
  };
}

function decodeExtension(ext: Tlv): RequestedExtension {
  const code = 'ERR_CSR_MALFORMED';
  const parts = children(ext, code);
  const id = parts[0];
  const last = parts[parts.length - 1];
  if (ext.tag !== Tag.SEQUENCE || !id || !last || id.tag !== Tag.OID || last.tag !== Tag.OCTET_STRING || parts.length > 3) throw malformed('bad requested extension');
  let critical = false;
  if (parts.length === 3) {
    const c = parts[1];
    if (!c || c.tag !== Tag.BOOLEAN || c.content.length !== 1) throw malformed('bad extension critical flag');
    critical = c.content[0] !== 0;
  }
  return { oid: decodeOid(id.content, code), critical, value: last.content.slice() };
}

/** True when the CSR's self-signature verifies (RFC 2986 §3: proof of possession). */
export function isCsrSignatureValid(csr: ParsedCsr): boolean {
  return verifySignature(csr.publicKey, csr.signatureAlgorithm, csr.info, csr.signature);
}

/**
 * Throws ERR_CSR_SIGNATURE_INVALID unless the CSR is signed by the key it carries;
 * ERR_SIGNATURE_ALGORITHM_UNSUPPORTED for algorithms Signet does not verify.
 */
export function verifyCsrSignature(csr: ParsedCsr): void {
  if (!isCsrSignatureValid(csr)) {
    throw new SignetError('ERR_CSR_SIGNATURE_INVALID', 'the CSR signature does not verify with its own public key', {
      hint: 'the request was altered or not signed by the private key of its public key',
    });
  }
}

