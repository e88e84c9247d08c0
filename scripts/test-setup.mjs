// Installs what the test suite needs beyond npm (Debian packages) when it is missing.
// Runs before `npm test`; a no-op when everything is present.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
// Debian keeps the PostgreSQL server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
const hasPostgresServer = () => {
  const root = '/usr/lib/postgresql';
  return existsSync(root) && readdirSync(root).some((v) => existsSync(`${root}/${v}/bin/postgres`) && existsSync(`${root}/${v}/bin/initdb`));
};

const needed = [
  { present: () => onPath('openssl'), package: 'openssl' },
  // test/helpers/postgres.ts starts its own server (own data directory and port on 127.0.0.1).
  { present: hasPostgresServer, package: 'postgresql' },
  // ACME interop (test/acme): the clients operators run.
  { present: () => onPath('certbot'), package: 'certbot' },
  { present: () => onPath('lego'), package: 'lego' },
  // SSH certificates (test/ssh): OpenSSH's own ssh-keygen reads and makes them.
  { present: () => onPath('ssh-keygen'), package: 'openssh-client' },
  // …and a throwaway sshd (test/ssh/openssh.test.ts) logs users in with them.
  { present: () => existsSync('/usr/sbin/sshd'), package: 'openssh-server' },
  // SPIFFE (test/spiffe): an independent JWT implementation (PyJWT) checks Signet's JWT-SVIDs and bundles.
  { present: () => existsSync('/usr/lib/python3/dist-packages/jwt/__init__.py'), package: 'python3-jwt' },
  { present: () => existsSync('/usr/lib/python3/dist-packages/cryptography/__init__.py'), package: 'python3-cryptography' },
];

const missing = needed.filter((n) => !n.present());
if (missing.length > 0) {
  const pkgs = missing.map((m) => m.package);
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const run = (args) => {
    const [cmd, ...rest] = [...asRoot, ...args];
    execFileSync(cmd, rest, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  console.error(`test setup: installing ${pkgs.join(', ')}`);
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs]);
}
