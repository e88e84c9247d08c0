// `npm start`: until the CA server lands, builds (done by the npm script) and shows what the CLI
// can do on a real demo PKI in ./.signet/demo — created once (atomically: built in a temporary
// directory, then renamed into place), reused afterwards.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'dist', 'src', 'cli', 'main.js');
const home = join(process.cwd(), '.signet');
const dir = join(home, 'demo');
const d = relative(process.cwd(), dir);
const FILES = ['password', 'root.crt', 'root.key', 'issuing.crt', 'issuing.key', 'localhost.crt', 'localhost.key'];

class StartError extends Error {}

/** Runs the CLI; its own one-line error goes to stderr, we add which step failed. */
function signet(args, { quiet = false, step } = {}) {
  try {
    return execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'] });
  } catch (e) {
    if (quiet) throw e;
    throw new StartError(`could not ${step ?? 'run signet ' + args.slice(0, 2).join(' ')}`);
  }
}

function issueLeaf(at, extra = []) {
  const pw = at('password');
  signet(['certificate', 'create', 'localhost', at('localhost.crt'), '--profile', 'leaf', '--ca', at('issuing.crt'), '--ca-key', at('issuing.key'), '--ca-password-file', pw, '--key-out', at('localhost.key'), '--password-file', pw, '--san', 'localhost', '--san', '127.0.0.1', '--san', '::1', ...extra], { step: 'issue the localhost certificate' });
}

function createDemo() {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(home, '.demo-'));
  const at = (name) => join(tmp, name);
  try {
    // The demo password is random and lives in a 0600 file: secrets never go on a command line.
    writeFileSync(at('password'), randomBytes(24).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    const pw = at('password');
    signet(['certificate', 'create', 'Signet Demo Root CA', at('root.crt'), '--profile', 'root-ca', '--key-out', at('root.key'), '--password-file', pw], { step: 'create the root CA' });
    signet(['certificate', 'create', 'Signet Demo Issuing CA', at('issuing.crt'), '--profile', 'intermediate-ca', '--ca', at('root.crt'), '--ca-key', at('root.key'), '--ca-password-file', pw, '--key-out', at('issuing.key'), '--password-file', pw], { step: 'create the issuing CA' });
    issueLeaf(at);
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main() {
  let created = false;
  if (!existsSync(dir)) {
    createDemo();
    created = true;
  }
  const missing = FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new StartError(`the demo PKI in ${d}/ is incomplete (missing ${missing.join(', ')}); remove it with \`rm -r ${d}\` and run npm start again`);
  }
  const at = (name) => join(dir, name);
  const fp = signet(['certificate', 'fingerprint', at('root.crt')], { step: 'read the root certificate' }).trim().split(/\s+/)[0];
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
    issueLeaf(at, ['--force']);
    verified = verify() ? 'valid, renewed just now' : `NOT valid: remove ${d} and run npm start again`;
  }
  process.stdout.write(`
Signet — PKI toolbox (the online CA server arrives with the next milestone)

${created ? 'Created' : 'Using'} the demo PKI in ${d}/ (private keys encrypted with the password in ${d}/password; key files 0600):
  root CA          ${d}/root.crt
  issuing CA       ${d}/issuing.crt
  localhost leaf   ${d}/localhost.crt (chain ${verified})

Root fingerprint (SHA-256): ${fp}

Next, try:
  node dist/src/cli/main.js certificate inspect ${d}/localhost.crt
  node dist/src/cli/main.js certificate verify ${d}/localhost.crt --roots ${d}/root.crt --intermediates ${d}/issuing.crt --host localhost
  node dist/src/cli/main.js certificate lint ${d}/localhost.crt
  node dist/src/cli/main.js --help          (or \`npm link\` once, then just \`signet …\`)
`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`error: ${e instanceof StartError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
