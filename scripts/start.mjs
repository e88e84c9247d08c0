// `npm start`: until the CA server lands, builds (done by the npm script) and shows what the CLI
// can do on a real demo PKI in ./.signet/demo — created once, reused afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'src', 'cli', 'main.js');
const dir = join(process.cwd(), '.signet', 'demo');
const rel = (p) => relative(process.cwd(), p) || '.';
const at = (name) => join(dir, name);

function signet(args, { quiet = false } = {}) {
  return execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'] });
}

let created = false;
const pw = ['--password-file', at('password')];
const issueLeaf = (extra = []) =>
  signet(['certificate', 'create', 'localhost', at('localhost.crt'), '--profile', 'leaf', '--ca', at('issuing.crt'), '--ca-key', at('issuing.key'), '--ca-password-file', at('password'), '--key-out', at('localhost.key'), ...pw, '--san', 'localhost', '--san', '127.0.0.1', '--san', '::1', ...extra]);
if (!existsSync(at('root.crt'))) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // The demo password is random and lives in a 0600 file: secrets never go on a command line.
  writeFileSync(at('password'), randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  signet(['certificate', 'create', 'Signet Demo Root CA', at('root.crt'), '--profile', 'root-ca', '--key-out', at('root.key'), ...pw]);
  signet(['certificate', 'create', 'Signet Demo Issuing CA', at('issuing.crt'), '--profile', 'intermediate-ca', '--ca', at('root.crt'), '--ca-key', at('root.key'), '--ca-password-file', at('password'), '--key-out', at('issuing.key'), ...pw]);
  issueLeaf();
  created = true;
}

const fp = signet(['certificate', 'fingerprint', at('root.crt')], { quiet: true }).trim().split(/\s+/)[0];
const verify = () => {
  try {
    signet(['certificate', 'verify', at('localhost.crt'), '--roots', at('root.crt'), '--intermediates', at('issuing.crt'), '--host', 'localhost'], { quiet: true });
    return true;
  } catch {
    return false;
  }
};
let verified = verify() ? 'valid' : '';
if (!verified) {
  // The demo leaf lives 24 hours, like a real short-lived certificate: renew it (new key too).
  issueLeaf(['--force']);
  verified = verify() ? 'valid, renewed just now' : 'NOT valid: run `rm -r .signet/demo && npm start`';
}

const d = rel(dir);
process.stdout.write(`
Signet — PKI toolbox (the online CA server arrives with the next milestone)

${created ? 'Created' : 'Using'} the demo PKI in ${d}/ (private keys encrypted with the password in ${d}/password; key files 0600):
  root CA          ${d}/root.crt      (SHA-256 ${fp})
  issuing CA       ${d}/issuing.crt
  localhost leaf   ${d}/localhost.crt (chain ${verified})

Root fingerprint: ${fp}

Next, try:
  node dist/src/cli/main.js certificate inspect ${d}/localhost.crt
  node dist/src/cli/main.js certificate verify ${d}/localhost.crt --roots ${d}/root.crt --intermediates ${d}/issuing.crt --host localhost
  node dist/src/cli/main.js certificate lint ${d}/localhost.crt
  node dist/src/cli/main.js --help          (or \`npm link\` once, then just \`signet …\`)
`);
