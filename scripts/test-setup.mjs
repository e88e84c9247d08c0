// Installs what the test suite needs beyond npm (Debian packages) when it is missing.
// Runs before `npm test`; a no-op when everything is present.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
// A library package (nothing on PATH to look for).
const debInstalled = (pkg) => spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout?.toString().includes('install ok installed') === true;
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
  // TPM node attestation (test/spiffe/tpm.test.ts): software TPMs with EK certificates, and the TCG tools an agent drives them with.
  { present: () => onPath('swtpm'), package: 'swtpm' },
  { present: () => onPath('swtpm_setup'), package: 'swtpm-tools' },
  { present: () => onPath('tpm2_activatecredential'), package: 'tpm2-tools' },
  { present: () => debInstalled('libtss2-tcti-swtpm0'), package: 'libtss2-tcti-swtpm0' },
  // The node agent's Workload API (test/agent): a gRPC client Signet did not write — Debian's grpcio,
  // with message classes that Debian's protoc generates (libprotobuf-dev holds google/protobuf/*.proto).
  { present: () => existsSync('/usr/lib/python3/dist-packages/grpc/__init__.py'), package: 'python3-grpcio' },
  { present: () => existsSync('/usr/lib/python3/dist-packages/google/protobuf/__init__.py'), package: 'python3-protobuf' },
  { present: () => onPath('protoc'), package: 'protobuf-compiler' },
  { present: () => existsSync('/usr/include/google/protobuf/struct.proto'), package: 'libprotobuf-dev' },
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
