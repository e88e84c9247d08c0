/**
 * `POST /sign`: a CSR plus a one-time token in, a certificate chain out. The edge only parses
 * and shapes; the decision is the authority's.
 */
import { SignetError } from '../core/errors.js';
import { decodePem, encodePem } from '../core/pem.js';
import type { Authority, SignResult } from '../ca/authority.js';
import { isJsonObject, type JsonValue } from '../x509/template/json.js';
import type { Route } from './http.js';

/** Largest `/sign` body: a 16 KiB CSR in PEM, a token of at most 8 KiB, and some room. */
export const SIGN_BODY_LIMIT = 64 * 1024;


function invalid(message: string): SignetError {
  return new SignetError('ERR_REQUEST_INVALID', message);
}

/** The body as an object whose members are all in `fields` (ERR_REQUEST_INVALID otherwise). */
export function jsonObject(body: JsonValue, fields: readonly string[]): Record<string, JsonValue> {
  if (!isJsonObject(body)) throw invalid('the request body must be a JSON object');
  const out = body as Record<string, JsonValue>;
  for (const key of Object.keys(out)) {
    if (!fields.includes(key)) throw invalid(`unknown field "${key}"`);
  }
  return out;
}

/** A string member; ERR_REQUEST_INVALID when it is required and missing, or not a string. */
export function stringField(body: Record<string, JsonValue>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined) {
    if (required) throw invalid(`missing field "${name}"`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`field "${name}" must be a string`);
  return v;
}

/**
 * The body is `{"csr": PEM, "ott": token, "notBefore"?: RFC 3339, "notAfter"?: RFC 3339}`;
 * unknown fields are refused. The answer (201) is `{"crt": PEM, "ca": PEM, "certChain": [PEM…]}`
 * — the field names step-ca clients already read — plus `"serial"`.
 */
export function signRoute(authority: () => Authority, audience: () => readonly string[]): Route {
  return {
    method: 'POST',
    path: '/sign',
    handler: async (req) => {
      const fields = jsonObject(await req.json(SIGN_BODY_LIMIT), ['csr', 'ott', 'notBefore', 'notAfter']);
      const csrPem = stringField(fields, 'csr', true) ?? '';
      const token = stringField(fields, 'ott', true) ?? '';
      const nb = stringField(fields, 'notBefore', false);
      const na = stringField(fields, 'notAfter', false);
      const csr = decodePem(csrPem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']).der;
      const result = await authority().sign({
        csr,
        token,
        audience: audience(),
        ...(nb !== undefined ? { notBefore: nb } : {}),
        ...(na !== undefined ? { notAfter: na } : {}),
      });
      return issuedResponse(result);
    },
  };
}

/** 201 `{"crt", "ca", "certChain", "serial"}` for an issued certificate (the field names step-ca clients read). */
export function issuedResponse(result: SignResult): { status: number; json: unknown } {
  const crt = encodePem('CERTIFICATE', result.certificate);
  const chain = result.chain.map((d) => encodePem('CERTIFICATE', d));
  return { status: 201, json: { crt, ca: chain[0] ?? '', certChain: [crt, ...chain], serial: result.record.serial } };
}
