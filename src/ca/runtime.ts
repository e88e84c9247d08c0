/**
 * A running CA: the configuration loaded, the issuing key decrypted, the store opened, the
 * authority built, the HTTPS server listening with its own certificate that renews in-process.
 * `signet ca start` is this plus signal handling; tests start it in-process the same way.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.js';
import { decodePem, looksLikePem } from '../core/pem.js';
import { SignetError } from '../core/errors.js';
import { parsePrivateKey } from '../crypto/keys.js';
import { createSoftwareSigner } from '../crypto/signer.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { createApiServer, type RequestRecord } from '../server/http.js';
import { publicRoutes } from '../server/public-routes.js';
import { signRoute } from '../server/sign-route.js';
import { issueServerIdentity, type TlsIdentity } from '../server/tls-identity.js';
import { Authority } from './authority.js';
import type { CaConfig } from './config.js';

/** Options of {@link startCa}. */
export interface StartCaOptions {
  readonly clock: Clock;
  /** The intermediate key's password when the config names no password file (a prompt's answer). */
  readonly password?: string;
  /** Listen on this port instead of the configured one (tests use 0). */
  readonly port?: number;
  readonly onRequest?: (record: RequestRecord) => void;
  readonly onInternalError?: (error: unknown, requestId: string) => void;
  /** Called when the server's own certificate was renewed. */
  readonly onIdentityRenewed?: (identity: TlsIdentity) => void;
}

/** A CA that is serving. */
export interface RunningCa {
  readonly authority: Authority;
  readonly store: Store;
  /** `https://host:port` of the first configured name. */
  readonly url: string;
  readonly port: number;
  /** The server's current TLS identity. */
  identity(): TlsIdentity;
  /** Stops accepting connections, lets in-flight requests finish, closes the store. */
  close(): Promise<void>;
}

function readCertificate(path: string, what: string): Uint8Array {
  const data = readFileSync(path);
  if (looksLikePem(data)) return decodePem(data.toString('latin1'), ['CERTIFICATE']).der;
  if (data.length === 0) throw new SignetError('ERR_INPUT_EMPTY', `${what} ${path} is empty`);
  return new Uint8Array(data);
}

function hostForUrl(name: string): string {
  return isIP(name) === 6 ? `[${name}]` : name;
}

/**
 * Starts the CA described by `config`. Fails with the specific error of the first thing that
 * cannot work (missing file, wrong password, port in use) before anything listens.
 */
export async function startCa(config: CaConfig, options: StartCaOptions): Promise<RunningCa> {
  const root = readCertificate(config.root, 'root certificate');
  const intermediate = readCertificate(config.intermediate.certificate, 'intermediate certificate');
  let password = options.password;
  if (config.intermediate.passwordFile !== undefined) {
    const raw = readFileSync(config.intermediate.passwordFile, 'utf8');
    password = raw.split(/\r?\n/)[0] ?? '';
    if (password.length === 0) throw new SignetError('ERR_PASSWORD_EMPTY', `password file ${config.intermediate.passwordFile} is empty`);
  }
  const key = parsePrivateKey(new Uint8Array(readFileSync(config.intermediate.key)), password);
  const signer = createSoftwareSigner(key);
  const store = await openSqliteStore(config.db.path, { clock: options.clock });
  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const authority = new Authority({ config, store, intermediate, signer, root, clock: options.clock });
    const names = config.dnsNames.length > 0 ? config.dnsNames : ['localhost'];
    let identity = issueServerIdentity({ certificate: intermediate, signer }, names, options.clock);
    let port = options.port ?? config.listen.port;
    const audience = (): string[] => names.map((n) => `https://${hostForUrl(n)}:${port}/sign`);
    const srv = createApiServer({
      tls: identity.context,
      routes: [...publicRoutes(() => ({ roots: [root], intermediates: [intermediate] }), async () => void (await store.audit.list({ limit: 1 }))), signRoute(authority, audience)],
      requestClientCertificate: true,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.onInternalError ? { onInternalError: options.onInternalError } : {}),
    });
    server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') reject(new SignetError('ERR_ADDRESS_IN_USE', `cannot listen on ${config.listen.host || '*'}:${port}: the port is in use`, { hint: 'stop the other process or change "address" in the config' }));
        else if (e.code === 'EACCES') reject(new SignetError('ERR_ADDRESS_IN_USE', `cannot listen on port ${port}: permission denied`, { hint: 'use a port above 1023' }));
        else reject(e);
      });
      srv.listen(port, config.listen.host || undefined, () => resolve());
    });
    port = (srv.address() as AddressInfo).port;
    const scheduleRenewal = (): void => {
      const delay = Math.max(1000, identity.renewAt.getTime() - options.clock.now().getTime());
      timer = setTimeout(
        () => {
          try {
            identity = issueServerIdentity({ certificate: intermediate, signer }, names, options.clock);
            srv.setSecureContext(identity.context);
            options.onIdentityRenewed?.(identity);
          } catch (e) {
            options.onInternalError?.(e, 'tls-renewal');
          }
          scheduleRenewal();
        },
        Math.min(delay, 2 ** 31 - 1),
      );
      timer.unref();
    };
    scheduleRenewal();
    const url = `https://${hostForUrl(names[0] ?? 'localhost')}:${port}`;
    return {
      authority,
      store,
      url,
      port,
      identity: () => identity,
      close: async () => {
        if (timer) clearTimeout(timer);
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeIdleConnections();
        });
        await store.close();
      },
    };
  } catch (e) {
    if (timer) clearTimeout(timer);
    server?.close();
    await store.close();
    throw e;
  }
}
