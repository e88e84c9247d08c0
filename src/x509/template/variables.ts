/**
 * The variables a template sees, built from the request: the subject and SANs (from a CSR or
 * command-line flags — for the CA: what was authorized), the public key's type, token claims,
 * and user data. Everything is copied into plain JSON values so that a template can only read
 * data, never reach an object with behaviour.
 */
import { type KeyObject } from 'node:crypto';
import { importSpki } from '../../crypto/spki.js';
import { attributeTypeOid } from '../name.js';
import { ATTRIBUTE_SHORT_NAMES, OID } from '../oids.js';
import { emptyObject, setOwn, toJsonValue, type JsonObject, type JsonValue } from './json.js';

/** A subject as the builder (DistinguishedName) or the parser (decoded Name `rdns`) holds it: RDNs in DER order. */
export type SubjectInput = ReadonlyArray<ReadonlyArray<{ readonly type: string; readonly value: string }>>;

/** A SAN as the builder (GeneralName) or the parser (ParsedGeneralName) holds it; only dns/ip/email/uri reach templates. */
export interface SanInput {
  readonly type: string;
  readonly value?: unknown;
}

/** What a template is rendered against. Every field is optional; absent ones are empty. */
export interface TemplateData {
  /** `.Subject`: the requested (and, in the CA, authorized) subject. */
  readonly subject?: SubjectInput;
  /** `.SANs` and the per-type lists `.DNSNames`, `.IPAddresses`, `.EmailAddresses`, `.URIs`. */
  readonly sans?: readonly SanInput[];
  /** `.PublicKey`: `{type, bits?, curve?}` of the key being certified. */
  readonly publicKey?: KeyObject | Uint8Array;
  /** `.Token`: the verified token's claims (the CA fills this). */
  readonly token?: unknown;
  /** `.Data`: trusted data — provisioner template data in the CA, `--set`/`--set-file` in the CLI. */
  readonly data?: unknown;
  /** `.Insecure.User`: data the requester supplied and nobody vouched for. */
  readonly userData?: unknown;
}

/** Subject attribute OIDs with a named field in templates, and whether the field is a list. */
const SUBJECT_FIELDS: ReadonlyMap<string, { field: string; list: boolean }> = new Map([
  [OID.commonName, { field: 'commonName', list: false }],
  [OID.serialNumber, { field: 'serialNumber', list: false }],
  [OID.countryName, { field: 'country', list: true }],
  [OID.stateOrProvinceName, { field: 'province', list: true }],
  [OID.localityName, { field: 'locality', list: true }],
  [OID.streetAddress, { field: 'streetAddress', list: true }],
  [OID.postalCode, { field: 'postalCode', list: true }],
  [OID.organizationName, { field: 'organization', list: true }],
  [OID.organizationalUnitName, { field: 'organizationalUnit', list: true }],
  [OID.domainComponent, { field: 'domainComponent', list: true }],
]);

/**
 * The template form of a subject (`{commonName, organization: […], …, extraNames: […]}`), the
 * same shape a template's `subject` field takes, so `"subject": "{{ .Subject }}"` copies it.
 * A second commonName or serialNumber, and attributes without a named field, go to extraNames.
 */
export function subjectToTemplate(subject: SubjectInput): JsonObject {
  const out = emptyObject();
  const extra: JsonValue[] = [];
  for (const rdn of subject) {
    for (const atv of rdn) {
      let oid: string;
      try {
        oid = attributeTypeOid(atv.type);
      } catch {
        oid = atv.type;
      }
      const f = SUBJECT_FIELDS.get(oid);
      if (f && f.list) {
        const cur = out[f.field];
        if (Array.isArray(cur)) cur.push(atv.value);
        else setOwn(out, f.field, [atv.value]);
      } else if (f && !Object.hasOwn(out, f.field)) {
        setOwn(out, f.field, atv.value);
      } else {
        const e = emptyObject();
        setOwn(e, 'type', ATTRIBUTE_SHORT_NAMES[oid] ?? oid);
        setOwn(e, 'value', atv.value);
        extra.push(e);
      }
    }
  }
  if (extra.length > 0) setOwn(out, 'extraNames', extra);
  return out;
}

/** `.PublicKey`: the key type name templates select on (one of KEY_TYPES for keys Signet supports), with RSA bits or the EC curve. */
export function describePublicKey(key: KeyObject | Uint8Array): { type: string; bits?: number; curve?: string } {
  let k: KeyObject;
  try {
    k = key instanceof Uint8Array ? importSpki(key) : key;
  } catch {
    return { type: 'unknown' }; // a key node:crypto cannot load: templates see an unknown type
  }
  const details = k.asymmetricKeyDetails ?? {};
  switch (k.asymmetricKeyType) {
    case 'rsa':
      return { type: 'RSA', ...(details.modulusLength !== undefined ? { bits: details.modulusLength } : {}) };
    case 'rsa-pss':
      return { type: 'RSA-PSS', ...(details.modulusLength !== undefined ? { bits: details.modulusLength } : {}) };
    case 'ec': {
      const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[details.namedCurve ?? ''] ?? details.namedCurve;
      return { type: 'EC', ...(curve !== undefined ? { curve } : {}) };
    }
    case 'ed25519':
      return { type: 'Ed25519' };
    case 'ed448':
      return { type: 'Ed448' };
    case 'x25519':
      return { type: 'X25519' };
    case 'x448':
      return { type: 'X448' };
    default:
      return { type: k.asymmetricKeyType ?? 'unknown' };
  }
}

/**
 * Builds the variables object templates are rendered against:
 *
 * | variable | value |
 * |---|---|
 * | `.Subject` | the subject in template form (`.Subject.commonName`, `.Subject.organization`, …) |
 * | `.SANs` | `[{"type": "dns", "value": "…"}, …]` (dns, ip, email, uri) |
 * | `.DNSNames` `.IPAddresses` `.EmailAddresses` `.URIs` | the SAN values of each type, as string lists |
 * | `.PublicKey` | `{"type": "EC", "curve": "P-256"}`, `{"type": "RSA", "bits": 3072}`, `{"type": "Ed25519"}` |
 * | `.Token` | the token's claims (only when a token was used) |
 * | `.Data` | trusted data (provisioner template data; `--set` / `--set-file` in the CLI) |
 * | `.Insecure.User` | data supplied by the requester, unvetted |
 */
export function templateVariables(data: TemplateData): JsonObject {
  const vars = emptyObject();
  setOwn(vars, 'Subject', subjectToTemplate(data.subject ?? []));
  const sans: JsonValue[] = [];
  const byType: Record<string, string[]> = { dns: [], ip: [], email: [], uri: [] };
  for (const s of data.sans ?? []) {
    const list = byType[s.type];
    if (!list || typeof s.value !== 'string') continue;
    list.push(s.value);
    const o = emptyObject();
    setOwn(o, 'type', s.type);
    setOwn(o, 'value', s.value);
    sans.push(o);
  }
  setOwn(vars, 'SANs', sans);
  setOwn(vars, 'DNSNames', byType.dns ?? []);
  setOwn(vars, 'IPAddresses', byType.ip ?? []);
  setOwn(vars, 'EmailAddresses', byType.email ?? []);
  setOwn(vars, 'URIs', byType.uri ?? []);
  if (data.publicKey !== undefined) setOwn(vars, 'PublicKey', toJsonValue(describePublicKey(data.publicKey), '.PublicKey'));
  if (data.token !== undefined) setOwn(vars, 'Token', toJsonValue(data.token, 'token claims'));
  setOwn(vars, 'Data', data.data === undefined ? emptyObject() : toJsonValue(data.data, 'template data'));
  const insecure = emptyObject();
  setOwn(insecure, 'User', data.userData === undefined ? emptyObject() : toJsonValue(data.userData, 'user data'));
  setOwn(vars, 'Insecure', insecure);
  return vars;
}
