/**
 * Signing in at an OpenID provider from the command line, as RFC 8252 (OAuth 2.0 for native apps)
 * says: the authorization code flow with PKCE (RFC 7636, S256) and a loopback redirect
 * (`http://127.0.0.1:PORT/callback`, §7.3) — the user signs in in a browser, the provider
 * redirects back to this process, which exchanges the code for an ID token. Signet is a public
 * client (no secret). `state` ties the redirect to this request, `nonce` the ID token to it, and
 * the redirect's `iss` (RFC 9207), when the provider sends it, must be the provider.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignetError, isSignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { fetchableUrl, fetchBytes } from '../../client/fetch.js';

/** What the CA publishes of an OIDC provisioner (GET /provisioners). */
export interface OidcProvider {
  readonly issuer: string;
  readonly clientId: string;
}

export interface OidcLoginOptions {
  /** The loopback port to listen on (0: any free one). */
  readonly port: number;
  /** Try to open a browser (else only the URL is printed). */
  readonly browser: boolean;
  readonly timeoutMs: number;
  /** Where the sign-in URL is shown. */
  readonly say: (line: string) => void;
}

const FETCH_TIMEOUT_MS = 10_000;
const MAX_BYTES = 256 * 1024;

function loginError(message: string, cause?: unknown): SignetError {
  return new SignetError('ERR_OIDC_LOGIN', message, cause === undefined ? {} : { cause });
}

async function json(url: URL, options: { method?: 'POST'; body?: string } = {}): Promise<Record<string, unknown>> {
  const r = await fetchBytes(url, {
    ...(options.method !== undefined ? { method: options.method } : {}),
    ...(options.body !== undefined ? { body: new TextEncoder().encode(options.body), contentType: 'application/x-www-form-urlencoded' } : {}),
    accept: 'application/json',
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes: MAX_BYTES,
  });
  const value = JSON.parse(Buffer.from(r.body).toString('utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${url.href} did not answer with a JSON object`);
  return value as Record<string, unknown>;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Opens `url` in the desktop's browser, if there is one; failures are ignored (the URL was printed). */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no browser here
  }
}

/** Runs the sign-in and returns the ID token. */
export async function oidcLogin(provider: OidcProvider, options: OidcLoginOptions): Promise<string> {
  let discovery: Record<string, unknown>;
  try {
    discovery = await json(fetchableUrl(`${provider.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`));
  } catch (e) {
    throw new SignetError('ERR_OIDC_UNAVAILABLE', `the OpenID provider ${provider.issuer} cannot be reached: ${isSignetError(e) || e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (discovery.issuer !== provider.issuer) throw new SignetError('ERR_OIDC_UNAVAILABLE', `the OpenID provider's discovery document names issuer ${JSON.stringify(discovery.issuer)}, not ${provider.issuer}`);
  const authorize = typeof discovery.authorization_endpoint === 'string' ? discovery.authorization_endpoint : undefined;
  const tokenEndpoint = typeof discovery.token_endpoint === 'string' ? discovery.token_endpoint : undefined;
  if (authorize === undefined || tokenEndpoint === undefined) throw new SignetError('ERR_OIDC_UNAVAILABLE', 'the OpenID provider publishes no authorization or token endpoint');

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  let settle: { resolve: (code: string) => void; reject: (e: SignetError) => void } | undefined;
  const callback = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    const page = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${text}\n`);
    };
    const q = url.searchParams;
    // A redirect with another state is not the answer to this sign-in (RFC 8252 §8.9): ignored, the wait goes on.
    if (!sameText(q.get('state') ?? '', state)) {
      page(400, 'This sign-in does not belong to the signet command that is waiting.');
      return;
    }
    const error = q.get('error');
    const iss = q.get('iss');
    const code = q.get('code');
    let refusal: SignetError | undefined;
    if (error !== null) refusal = loginError(`the provider refused the sign-in: ${escapeControl(error.slice(0, 100))}${q.get('error_description') ? ` (${escapeControl((q.get('error_description') ?? '').slice(0, 200))})` : ''}`);
    else if (iss !== null && iss !== provider.issuer) refusal = loginError('the redirect names another issuer (RFC 9207): refusing a possible mix-up');
    else if (code === null || code === '') refusal = loginError('the redirect from the provider carries no code');
    if (refusal !== undefined) {
      page(400, 'Sign-in failed; see the terminal.');
      settle?.reject(refusal);
      return;
    }
    page(200, 'Signed in. You can close this window and return to the terminal.');
    settle?.resolve(code as string);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => resolve());
    }).catch((e: unknown) => {
      throw loginError(`cannot listen on 127.0.0.1:${options.port} for the provider's redirect: ${e instanceof Error ? e.message : String(e)}`, e);
    });
    const port = server.address() as AddressInfo;
    const redirectUri = `http://127.0.0.1:${port.port}/callback`;
    const url = new URL(authorize);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: redirectUri,
      scope: 'openid email',
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    options.say(`sign in at ${provider.issuer}: ${url.href}`);
    if (options.browser) openBrowser(url.href);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      callback,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(loginError(`no sign-in within ${Math.round(options.timeoutMs / 1000)}s`)), options.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    let tokens: Record<string, unknown>;
    try {
      tokens = await json(fetchableUrl(tokenEndpoint), {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: provider.clientId, code_verifier: verifier }).toString(),
      });
    } catch (e) {
      throw loginError(`the provider's token endpoint refused the code: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    const idToken = tokens.id_token;
    if (typeof idToken !== 'string') throw loginError('the provider returned no ID token (is "openid" an allowed scope of the client?)');
    let payload: { nonce?: unknown };
    try {
      payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { nonce?: unknown };
    } catch (e) {
      throw loginError('the provider returned an ID token that is not a JWT', e);
    }
    if (typeof payload.nonce !== 'string' || !sameText(payload.nonce, nonce)) throw loginError('the ID token is not bound to this sign-in (nonce)');
    return idToken;
  } finally {
    server.close();
    server.closeAllConnections();
  }
}
