/**
 * The SSH edges of the native API. `GET /ssh/roots` (public): the CA keys relying parties trust —
 * sshd's TrustedUserCAKeys (`userKey`) and clients' @cert-authority lines (`hostKey`), as
 * authorized_keys lines; `/ssh/roots.txt` the same as text. `POST /ssh/sign` (a one-time token):
 * a public key in, an OpenSSH certificate out. The decision is the authority's.
 */
import { SignetError } from '../core/errors.js';
import type { Authority, SshSignResult } from '../ca/authority.js';
import { bearer } from './certificate-routes.js';
import { formatCertificateLine } from '../ssh/certificate.js';
import { formatPublicKeyLine, parsePublicKeyLine } from '../ssh/keys.js';
import type { JsonValue } from '../x509/template/json.js';
import type { Route } from './http.js';
import { jsonObject, stringField } from './sign-route.js';

/** Largest `/ssh/sign` body: a 16384-bit RSA key line is 3 KiB, a token at most 8 KiB, 256 principals of 256 characters 64 KiB. */
export const SSH_SIGN_BODY_LIMIT = 128 * 1024;

function invalid(message: string): SignetError {
  return new SignetError('ERR_REQUEST_INVALID', message);
}

/** `publicKey`: an authorized_keys line (`ssh-ed25519 AAAA… comment`) or the bare base64 key blob. */
function requestKeyBlob(text: string): Uint8Array {
  const t = text.trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(t)) return new Uint8Array(Buffer.from(t, 'base64'));
  return parsePublicKeyLine(t).blob;
}

function principalsField(body: Record<string, JsonValue>): string[] | undefined {
  const v = body.principals;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((p): p is string => typeof p === 'string')) throw invalid('field "principals" must be a list of strings');
  return v;
}

/** 201 `{"crt", "serial", "certType"}`: the certificate as its `-cert.pub` line. */
function sshIssued(result: SshSignResult): { status: number; json: unknown } {
  return { status: 201, json: { crt: formatCertificateLine(result.certificate), serial: result.record.serial, certType: result.record.profile === 'ssh-host' ? 'host' : 'user' } };
}

export function sshRoutes(authority: () => Authority, audience: (path: string) => readonly string[]): Route[] {
  const roots = (): { userKey: string; hostKey: string } => {
    const keys = authority().sshCaPublicKeys();
    return { userKey: formatPublicKeyLine(keys.user), hostKey: formatPublicKeyLine(keys.host) };
  };
  return [
    {
      method: 'GET',
      path: '/ssh/roots',
      handler: () => {
        const r = roots();
        return { json: { userKey: [r.userKey], hostKey: [r.hostKey] } };
      },
    },
    {
      method: 'GET',
      path: '/ssh/roots.txt',
      handler: () => {
        const r = roots();
        return { body: `# user CA (sshd: TrustedUserCAKeys)\n${r.userKey}\n# host CA (ssh: @cert-authority * …)\n${r.hostKey}\n`, contentType: 'text/plain; charset=utf-8' };
      },
    },
    {
      method: 'GET',
      path: '/ssh/krl',
      handler: async () => {
        const { krl, version } = await authority().sshKrl();
        return { body: krl, contentType: 'application/octet-stream', headers: { 'x-krl-version': version.toString(), 'cache-control': 'no-cache' } };
      },
    },
    {
      method: 'POST',
      path: '/ssh/sign',
      handler: async (req) => {
        const body = jsonObject(await req.json(SSH_SIGN_BODY_LIMIT), ['publicKey', 'ott', 'certType', 'principals', 'validAfter', 'validBefore']);
        const key = stringField(body, 'publicKey', true) ?? '';
        const token = stringField(body, 'ott', true) ?? '';
        const certType = stringField(body, 'certType', false);
        if (certType !== undefined && certType !== 'user' && certType !== 'host') throw invalid('field "certType" must be "user" or "host"');
        const principals = principalsField(body);
        const validAfter = stringField(body, 'validAfter', false);
        const validBefore = stringField(body, 'validBefore', false);
        const result = await authority().signSsh({
          publicKey: requestKeyBlob(key),
          token,
          audience: audience('/ssh/sign'),
          ...(certType !== undefined ? { certType } : {}),
          ...(principals !== undefined ? { principals } : {}),
          ...(validAfter !== undefined ? { validAfter } : {}),
          ...(validBefore !== undefined ? { validBefore } : {}),
        });
        return sshIssued(result);
      },
    },
    {
      method: 'POST',
      path: '/ssh/renew',
      handler: async (req) => {
        const token = bearer(req);
        if (token === undefined) throw new SignetError('ERR_AUTH_REQUIRED', 'an SSH host certificate renews with a proof-of-possession token: Authorization: Bearer TOKEN', { hint: 'signet ssh renew CERT KEY makes one' });
        return sshIssued(await authority().renewSsh({ token, audience: audience('/ssh/renew') }));
      },
    },
  ];
}
