// Installs what the test suite needs beyond npm (Debian packages) when it is missing.
// Runs before `npm test`; a no-op when everything is present.
import { execFileSync, spawnSync } from 'node:child_process';

const needed = [
  { command: 'openssl', package: 'openssl' },
];

const missing = needed.filter((n) => spawnSync('sh', ['-c', `command -v ${n.command}`]).status !== 0);
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
