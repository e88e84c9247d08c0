/**
 * The default leaf template without the template engine, for the CA's issuance path: what
 * {@link renderTemplate} makes of `getDefaultTemplate('leaf')` for one request, at a fraction of
 * the cost (the engine re-renders and re-validates the whole document, key usages and URLs
 * included, on every request).
 *
 * Of the default leaf template only `subject.commonName` (`.Subject.commonName | default null`)
 * and `sans` (`.SANs`) depend on the request, and `keyUsage` selects its list by the key type; the
 * rest depends on the template data alone. So the data-only fields are rendered and validated
 * once, by the engine itself, for an RSA and for a non-RSA key; per request only the two request
 * fields go through the same validation and normalization ({@link checkRenderedRequest}, which
 * checks the fields of a rendered document independently of each other). Problems carry the same
 * paths and become the same error. Whatever this module does not reproduce exactly — a token
 * nested too deep for template variables, output near the size limit — it leaves to the engine
 * (`render` returns undefined).
 */
import type { KeyObject } from 'node:crypto';
import type { CertificateRequest } from './request.js';
import { checkRenderedRequest } from './schema.js';
import { getDefaultTemplate } from './defaults.js';
import { emptyObject, setOwn, type JsonValue } from './json.js';
import { renderTemplateDocument, templateError, MAX_RENDERED_BYTES } from './template.js';
import type { SanInput } from './variables.js';

/** One request as the CA renders it: the authorized subject CN, its SANs, the key, the token's claims. */
export interface LeafRenderInput {
  /** The subject's common name (`.Subject.commonName`). */
  readonly commonName: string;
  /** `.SANs` (only dns, ip, email and uri names with a string value reach templates). */
  readonly sans: readonly SanInput[];
  readonly publicKey: KeyObject;
  /** `.Token`: not read by the default leaf template, but the engine refuses claims it cannot hold. */
  readonly token?: unknown;
}

/** Renders the default leaf template for one request; undefined means "use the template engine". */
export interface LeafRenderer {
  render(input: LeafRenderInput): CertificateRequest | undefined;
}

/** Fields of a rendered request that the default leaf template fills from the data alone, in the request's order. */
const DATA_FIELDS = ['keyUsage', 'extKeyUsage', 'basicConstraints', 'nameConstraints', 'crlDistributionPoints', 'ocspServer', 'issuingCertificateURL', 'policies', 'validity', 'extensions'] as const;

/** Nesting the template variables accept (toJsonValue's default depth limit). */
const MAX_DEPTH = 64;
/** Request fields longer than this (characters) go through the engine, which enforces the output limit. */
const FAST_INPUT_LIMIT = MAX_RENDERED_BYTES / 4;

/** True when `v` is nested less deep than toJsonValue allows (it refuses an object or list at depth ≥ 64). */
function shallow(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (depth >= MAX_DEPTH) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) if (!shallow(x, depth + 1)) return false;
  return true;
}

/**
 * A renderer of the default leaf template with `data` as its `.Data`, producing exactly what
 * `renderTemplate(getDefaultTemplate('leaf'), { subject: [[{type: 'CN', value: commonName}]], sans, publicKey, token, data })`
 * produces — or undefined when the data itself does not render (the engine then reports why, per request).
 */
export function defaultLeafRenderer(data: unknown): LeafRenderer | undefined {
  const template = getDefaultTemplate('leaf');
  const fixed = new Map<'RSA' | 'other', Record<string, unknown>>();
  try {
    // The request fields do not matter here: only the data-only fields of this render are kept.
    const doc = renderTemplateDocument(template, { subject: [[{ type: 'CN', value: 'fixed.invalid' }]], sans: [], data });
    for (const keyType of ['RSA', 'other'] as const) {
      const { request } = checkRenderedRequest(doc, { keyType: keyType === 'RSA' ? 'RSA' : 'EC' });
      if (request === undefined) return undefined;
      const fields: Record<string, unknown> = {};
      for (const k of DATA_FIELDS) if (request[k] !== undefined) fields[k] = request[k];
      fixed.set(keyType, fields);
    }
  } catch {
    return undefined;
  }
  return {
    render(input) {
      let size = input.commonName.length;
      const sans: JsonValue[] = [];
      for (const s of input.sans) {
        if (!['dns', 'ip', 'email', 'uri'].includes(s.type) || typeof s.value !== 'string') continue;
        size += s.value.length + 32;
        const o = emptyObject();
        setOwn(o, 'type', s.type);
        setOwn(o, 'value', s.value);
        sans.push(o);
      }
      if (size > FAST_INPUT_LIMIT || !shallow(input.token, 0)) return undefined;
      const subject = emptyObject();
      // `default null`: an empty common name renders as null.
      setOwn(subject, 'commonName', input.commonName === '' ? null : input.commonName);
      const doc = emptyObject();
      setOwn(doc, 'subject', subject);
      setOwn(doc, 'sans', sans);
      const { request, problems } = checkRenderedRequest(doc);
      if (request === undefined) throw templateError(template.name, problems);
      // `.PublicKey.type` is RSA exactly for node:crypto's 'rsa' keys (describePublicKey).
      const rest = fixed.get(input.publicKey.asymmetricKeyType === 'rsa' ? 'RSA' : 'other');
      return { subject: request.subject, ...(request.sans !== undefined ? { sans: request.sans } : {}), ...rest };
    },
  };
}

