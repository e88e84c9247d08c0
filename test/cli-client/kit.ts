/**
 * A real CA (made by `signet ca init`'s code, started in-process on an ephemeral port) and the
 * built CLI run against it as a child process, with its own client home (SIGNET_HOME).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningCa } from '../../src/ca/runtime.js';
import { createTestCa, startTestCa, type CreateTestCaOptions, type TestCa } from '../helpers/ca.js';
import { signetAsync, type CliResult } from '../helpers/cli.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';
import { freePort } from '../helpers/net.js';
export { freePort };

/** A CA, a working directory and a client home. */
export interface ClientKit {
  readonly dir: string;
  readonly ca: TestCa;
  running: RunningCa;
  /** SIGNET_HOME of the client. */
  readonly home: string;
  /** `signet …` in `dir` with SIGNET_HOME = `home`. */
  run(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  /** A path in `dir`. */
  path(name: string): string;
  /** `--ca-url URL --root ROOT`. */
  connection(): string[];
  /** `--provisioner admin --provisioner-key … --provisioner-password-file …`: mint tokens here. */
  readonly provisionerFlags: readonly string[];
  /** `openssl verify` of a chain file (leaf + intermediate) against the root; throws on failure. */
  verify(chainFile: string): void;
  cleanup(): Promise<void>;
}


/**
 * Creates and starts a CA for a test file. With `configPort`, the CA listens on the port its
 * config names (a free one, written into the config), so that `--config` finds it.
 */
export async function clientKit(options: Omit<CreateTestCaOptions, 'parent'> & { configPort?: boolean } = {}): Promise<ClientKit> {
  const tmp = tempDir('signet-client-');
  const { configPort, edit, ...rest } = options;
  const port = configPort ? await freePort() : 0;
  mkdirSync(join(tmp.dir, 'ca-parent'));
  const ca = await createTestCa({
    parent: join(tmp.dir, 'ca-parent'),
    ...rest,
    edit: (doc) => {
      if (configPort) doc.address = `127.0.0.1:${port}`;
      edit?.(doc);
    },
  });
  const running = await startTestCa(ca, { port });
  const home = join(tmp.dir, 'home');
  const kit: ClientKit = {
    dir: tmp.dir,
    ca,
    running,
    home,
    run: (args, env = {}) => signetAsync(args, { cwd: tmp.dir, env: { SIGNET_HOME: home, ...env } }),
    path: (name) => join(tmp.dir, name),
    connection: () => ['--ca-url', kit.running.url, '--root', ca.rootFile],
    provisionerFlags: ['--provisioner', 'admin', '--provisioner-key', join(ca.dir, 'secrets', 'provisioner-admin.key'), '--provisioner-password-file', ca.provisionerPasswordFile],
    verify: (chainFile) => {
      opensslOk(['verify', '-CAfile', ca.rootFile, '-untrusted', chainFile, chainFile]);
    },
    cleanup: async () => {
      await kit.running.close();
      tmp.cleanup();
    },
  };
  return kit;
}

/** The serial of a certificate file, lower-case hex, as OpenSSL reads it. */
export function opensslSerial(file: string): string {
  return opensslOk(['x509', '-in', file, '-noout', '-serial']).trim().replace(/^serial=/, '').toLowerCase();
}

/** The public key of a certificate or key file, PEM, as OpenSSL reads it. */
export function opensslPublicKey(file: string, kind: 'cert' | 'key'): string {
  return kind === 'cert' ? opensslOk(['x509', '-in', file, '-noout', '-pubkey']) : opensslOk(['pkey', '-in', file, '-pubout']);
}
