/**
 * A real OpenID provider for tests: panva's oidc-provider (the certified Node.js implementation),
 * on a loopback port, with one public client for Signet (PKCE, loopback redirects), accounts whose
 * e-mail is `<login>@example.com`, and signing keys the test knows (so it can also mint ID tokens
 * with any claims, signed by the provider's key). `browse` plays the browser: it follows the
 * sign-in URL through the provider's login and consent pages to the redirect.
 */
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './net.js';

export const OIDC_CLIENT_ID = 'signet-cli';
const KID = 'test-signing-key';

export interface TestOidcProvider {
  readonly issuer: string;
  /** Mints an ID token with these claims (iss, aud, iat, exp default to a valid token), signed with the provider's key unless `key` is given. */
  mint(claims: JWTPayload, options?: { key?: KeyObject; alg?: string }): Promise<string>;
  /** Follows a sign-in URL as a browser whose user signs in as `login` and consents; resolves with the final redirect (to the client). */
  browse(url: string, login: string): Promise<string>;
  close(): Promise<void>;
}

export async function startOidcProvider(): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'ES256' };
  const provider = new Provider(issuer, {
    clients: [{ client_id: OIDC_CLIENT_ID, token_endpoint_auth_method: 'none', application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'], grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'ES256' }],
    jwks: { keys: [jwk] },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, email: `${sub}@example.com`, email_verified: true }) }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    conformIdTokenClaims: false,
    ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  const server = provider.listen(port);
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  const actualPort = (server.address() as AddressInfo).port;
  if (actualPort !== port) throw new Error('the OpenID provider did not listen where asked');

  return {
    issuer,
    mint: (claims, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: OIDC_CLIENT_ID, iat: now, exp: now + 600, sub: 'alice', email: 'alice@example.com', email_verified: true, ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: KID, typ: 'JWT' })
        .sign(options.key ?? privateKey);
    },
    browse: async (start, login) => {
      const cookies = new Map<string, string>();
      const remember = (res: Response): void => {
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = (pair ?? '').indexOf('=');
          if (eq > 0) cookies.set((pair ?? '').slice(0, eq), (pair ?? '').slice(eq + 1));
        }
      };
      const cookie = (): string => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      let res = await fetch(start, { redirect: 'manual' });
      remember(res);
      for (let step = 0; step < 12; step++) {
        const location = res.headers.get('location');
        if (location !== null) {
          const next = new URL(location, issuer);
          if (next.origin !== issuer) return next.href; // the redirect to the client
          res = await fetch(next, { headers: { cookie: cookie() }, redirect: 'manual' });
          remember(res);
          continue;
        }
        // A login or consent page: fill in and submit its form.
        const html = await res.text();
        const form = /<form[^>]*action="([^"]+)"[\s\S]*?<\/form>/.exec(html);
        if (form === null) throw new Error(`the provider showed a page without a form (${res.status}): ${html.replace(/<style[\s\S]*?<\/style>/, '').replace(/\s+/g, ' ').slice(0, 1200)}`);
        const fields: Record<string, string> = {};
        for (const m of (form[0] ?? '').matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?/g)) fields[m[1] as string] = m[2] ?? '';
        if ('login' in fields) Object.assign(fields, { login, password: 'any' });
        res = await fetch(new URL(form[1] as string, issuer), { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
        remember(res);
      }
      throw new Error('the sign-in did not end in a redirect to the client');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
