/**
 * `certificate create` and `csr create` outputs: committed together so an existing key is never
 * lost; outputs that are inputs (or each other) refused even with --force; `-` for stdout;
 * errors that name the input and the flag; output in the same forms as inspect; help examples
 * that issue without warnings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { signet, type CliResult } from '../helpers/cli.js';
import { openssl, opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-cli-outputs-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

function ok(r: CliResult): CliResult {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The documented failure shape: exit status, one error line with the code, at most one hint. */
function fails(r: CliResult, status: number, code: string): string {
  assert.equal(r.status, status, `expected exit ${status}, got ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error: [^\\n]*\\(${code}\\)\\n(hint: [^\\n]*\\n)?$`), r.stderr);
  return r.stderr;
}

writeFileSync(p('pw.txt'), 'correct horse battery staple\n');
ok(signet(['certificate', 'create', 'Out Root', p('root.crt'), '--profile', 'root-ca', '--key-out', p('root.key'), '--password-file', p('pw.txt')]));
ok(signet(['certificate', 'create', 'Out Issuing', p('issuing.crt'), '--profile', 'intermediate-ca', '--ca', p('root.crt'), '--ca-key', p('root.key'), '--ca-password-file', p('pw.txt'), '--key-out', p('issuing.key'), '--no-password']));
const CA = ['--ca', p('issuing.crt'), '--ca-key', p('issuing.key')];

test('--force never loses an existing key when a later write fails (certificate create, csr create)', () => {
  for (const cmd of [['certificate', 'create', 'x.example'], ['csr', 'create', 'x.example']]) {
    const dir = tempDir();
    try {
      ok(signet(['key', 'create', dir.path('precious.key'), '--no-password']));
      const before = readFileSync(dir.path('precious.key'));
      // OUT is a directory: refused before anything is written
      mkdirSync(dir.path('outdir'));
      fails(signet([...cmd, dir.path('outdir'), '--key-out', dir.path('precious.key'), '--no-password', '--force']), 5, 'ERR_FILE_IO');
      assert.deepEqual(readFileSync(dir.path('precious.key')), before, `${cmd.join(' ')}: key kept (outdir)`);
      // OUT cannot be created (missing directory): the key is neither replaced nor deleted
      fails(signet([...cmd, dir.path('missing/out.pem'), '--key-out', dir.path('precious.key'), '--no-password', '--force']), 5, 'ERR_FILE_NOT_FOUND');
      assert.deepEqual(readFileSync(dir.path('precious.key')), before, `${cmd.join(' ')}: key kept (missing dir)`);
      assert.deepEqual(readdirSync(dir.dir).sort(), ['outdir', 'precious.key'], 'no temp files left behind');
    } finally {
      dir.cleanup();
    }
  }
});

test('an output that is an input, or both outputs in one file, is ERR_USAGE even with --force (resolved paths)', () => {
  const dir = tempDir();
  try {
    ok(signet(['certificate', 'create', 'web.example.com', dir.path('web.crt'), ...CA, '--key-out', dir.path('web.key'), '--no-password']));
    const key = readFileSync(dir.path('web.key'));
    const cases: string[][] = [
      // the certificate would replace its own input key
      ['certificate', 'create', 'x.example', dir.path('web.key'), '--key', dir.path('web.key'), '--force'],
      ['certificate', 'create', 'x.example', `${dir.dir}/./web.key`, ...CA, '--key', dir.path('web.key'), '--force'],
      // key and certificate in one file, spelled two ways
      ['certificate', 'create', 'x.example', `${dir.dir}/./c.pem`, '--key-out', dir.path('c.pem'), '--no-password', '--force'],
      ['certificate', 'create', 'x.example', dir.path('c.pem'), '--key-out', `${dir.dir}/./c.pem`, '--no-password'],
      // the CA files are inputs too
      ['certificate', 'create', 'x.example', p('issuing.crt'), ...CA, '--key-out', dir.path('n.key'), '--no-password', '--force'],
      ['certificate', 'create', 'x.example', dir.path('n.crt'), ...CA, '--key-out', p('issuing.key'), '--no-password', '--force'],
      ['csr', 'create', 'x.example', dir.path('web.key'), '--key', dir.path('web.key'), '--force'],
      ['csr', 'create', 'x.example', `${dir.dir}/./r.csr`, '--key-out', dir.path('r.csr'), '--no-password'],
    ];
    for (const args of cases) {
      const err = fails(signet(args), 2, 'ERR_USAGE');
      assert.doesNotMatch(err, /already exists/, 'not a misleading "already exists"');
    }
    assert.deepEqual(readFileSync(dir.path('web.key')), key, 'the input key is untouched');
    assert.ok(!existsSync(dir.path('c.pem')) && !existsSync(dir.path('r.csr')));
    assert.equal(openssl(['x509', '-in', p('issuing.crt'), '-noout']).status, 0, 'the CA certificate is untouched');
  } finally {
    dir.cleanup();
  }
});

test('certificate create and csr create read stdin at most once: two inputs - are ERR_USAGE', () => {
  const dir = tempDir();
  try {
    writeFileSync(dir.path('leaf.json'), signet(['certificate', 'template', 'show', '--profile', 'leaf']).stdout);
    const cases: string[][] = [
      ['certificate', 'create', '-', dir.path('a.crt'), '--csr', '-', '--ca', p('issuing.crt'), '--ca-key', '-'],
      ['certificate', 'create', 'x.example', dir.path('a.crt'), '--ca', '-', '--ca-key', p('issuing.key'), '--key', '-'],
      ['certificate', 'create', 'x.example', dir.path('a.crt'), '--key', '-', '--password-file', '-'],
      ['certificate', 'create', 'x.example', dir.path('a.crt'), ...CA, '--key-out', dir.path('a.key'), '--no-password', '--template', '-', '--set-file', '-'],
      ['certificate', 'create', 'x.example', dir.path('a.crt'), '--ca', p('issuing.crt'), '--ca-key', '-', '--ca-password-file', '-', '--key-out', dir.path('a.key'), '--no-password'],
      ['csr', 'create', 'x.example', dir.path('a.csr'), '--key', '-', '--password-file', '-'],
    ];
    for (const args of cases) assert.match(fails(signet(args), 2, 'ERR_USAGE'), /only one input can come from stdin/, args.join(' '));
    assert.deepEqual(readdirSync(dir.dir), ['leaf.json'], 'nothing written');
  } finally {
    dir.cleanup();
  }
});

test('a lifetime that ends after 9999 says so, without printing an expanded year', () => {
  const dir = tempDir();
  try {
    writeFileSync(dir.path('leaf.json'), signet(['certificate', 'template', 'show', '--profile', 'leaf']).stdout);
    const leaf = ['certificate', 'create', 'x.example', dir.path('a.crt'), ...CA, '--key-out', dir.path('a.key'), '--no-password'];
    for (const args of [
      [...leaf, '--lifetime', '9000y'],
      [...leaf, '--template', dir.path('leaf.json'), '--lifetime', '9000y'],
      [...leaf, '--not-before', '9999-12-01T00:00:00Z', '--lifetime', '31d'],
      ['certificate', 'create', 'x.example', dir.path('a.crt'), '--profile', 'root-ca', '--key-out', dir.path('a.key'), '--no-password', '--not-before', '9999-06-01T00:00:00Z'],
    ]) {
      const err = fails(signet(args), 2, 'ERR_BAD_TIME');
      assert.match(err, /lifetime[^\n]* ends after 9999-12-31T23:59:59Z/, args.join(' '));
      assert.doesNotMatch(err, /[+-]0\d{5}-/, 'no expanded year');
    }
    assert.deepEqual(readdirSync(dir.dir), ['leaf.json'], 'nothing written');
  } finally {
    dir.cleanup();
  }
});

test('OUT - writes the certificate or csr to stdout; --key-out - the key; not both, not with --json', () => {
  const cert = ok(signet(['certificate', 'create', 'stdout.example', '-', ...CA, '--key-out', p('stdout.key'), '--no-password']));
  assert.match(cert.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
  assert.match(opensslOk(['x509', '-noout', '-subject'], cert.stdout), /CN ?= ?stdout\.example/);
  assert.ok(!existsSync('-') && existsSync(p('stdout.key')), 'no file named -');
  const keyOut = ok(signet(['certificate', 'create', 'stdout2.example', p('stdout2.crt'), ...CA, '--key-out', '-', '--no-password']));
  assert.match(keyOut.stdout, /^-----BEGIN PRIVATE KEY-----\n[\s\S]*-----END PRIVATE KEY-----\n$/);
  opensslOk(['pkey', '-noout'], keyOut.stdout);
  const csr = ok(signet(['csr', 'create', 'stdout.example', '-', '--key', p('stdout.key')]));
  assert.match(csr.stdout, /^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]*-----END CERTIFICATE REQUEST-----\n$/);
  assert.equal(openssl(['req', '-verify', '-noout'], csr.stdout).status, 0);
  for (const args of [
    ['certificate', 'create', 'x.example', '-', ...CA, '--key-out', '-', '--no-password'],
    ['csr', 'create', 'x.example', '-', '--key-out', '-', '--no-password'],
  ]) {
    const r = signet(args);
    fails(r, 2, 'ERR_USAGE');
    assert.equal(r.stdout, '');
  }
  for (const args of [
    ['certificate', 'create', 'x.example', '-', ...CA, '--key', p('stdout.key'), '--json'],
    ['csr', 'create', 'x.example', p('j.csr'), '--key-out', '-', '--no-password', '--json'],
  ]) {
    const r = signet(args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal((JSON.parse(r.stderr) as { error: { code: string } }).error.code, 'ERR_USAGE');
    assert.equal(r.stdout, '');
  }
  assert.ok(!existsSync('-') && !existsSync(p('-')));
});

test('a missing CA key password names --ca-password-file and the key file', () => {
  const r = signet(['certificate', 'create', 'x.example', p('np.crt'), '--ca', p('root.crt'), '--ca-key', p('root.key'), '--key-out', p('np.key'), '--no-password']);
  const err = fails(r, 4, 'ERR_KEY_PASSWORD_REQUIRED');
  assert.match(err, /^error: [^\n]*root\.key/);
  assert.match(err, /^hint: pass --ca-password-file FILE$/m);
});

test('a 0-byte password file is ERR_PASSWORD_EMPTY (exit 4), like an empty first line', () => {
  writeFileSync(p('zero.txt'), '');
  fails(signet(['certificate', 'create', 'x.example', p('z.crt'), ...CA, '--key-out', p('z.key'), '--password-file', p('zero.txt')]), 4, 'ERR_PASSWORD_EMPTY');
  fails(signet(['csr', 'create', 'x.example', p('z.csr'), '--key-out', p('z.key'), '--password-file', p('zero.txt')]), 4, 'ERR_PASSWORD_EMPTY');
  fails(signet(['certificate', 'create', 'x.example', p('z.crt'), '--ca', p('root.crt'), '--ca-key', p('root.key'), '--ca-password-file', p('zero.txt'), '--key-out', p('z.key'), '--no-password']), 4, 'ERR_PASSWORD_EMPTY');
  assert.ok(!existsSync(p('z.crt')) && !existsSync(p('z.key')) && !existsSync(p('z.csr')));
});

test('errors name the input file they are about (--ca, --ca-key, --key, --csr)', () => {
  writeFileSync(p('junkfile'), 'this is junk\n');
  const asCa = fails(signet(['certificate', 'create', 'x.example', p('e.crt'), '--ca', p('issuing.key'), '--ca-key', p('issuing.key'), '--key-out', p('e.key'), '--no-password']), 3, 'ERR_PEM_UNEXPECTED_TYPE');
  assert.match(asCa, new RegExp(`^error: --ca ${p('issuing.key')}: `));
  const junkCa = fails(signet(['certificate', 'create', 'x.example', p('e.crt'), '--ca', p('junkfile'), '--ca-key', p('issuing.key'), '--key-out', p('e.key'), '--no-password']), 3, 'ERR_CERT_MALFORMED');
  assert.match(junkCa, new RegExp(`^error: --ca ${p('junkfile')}: `));
  const junkKey = fails(signet(['certificate', 'create', 'x.example', p('e.crt'), '--ca', p('issuing.crt'), '--ca-key', p('junkfile'), '--key-out', p('e.key'), '--no-password']), 4, 'ERR_KEY_MALFORMED');
  assert.match(junkKey, new RegExp(`^error: --ca-key ${p('junkfile')}: `));
  const junkCsr = fails(signet(['certificate', 'create', '-', p('e.crt'), ...CA, '--csr', p('junkfile')]), 3, 'ERR_CSR_MALFORMED');
  assert.match(junkCsr, new RegExp(`^error: --csr ${p('junkfile')}: `));
  const keyAsCsr = fails(signet(['csr', 'create', 'x.example', p('e.csr'), '--key', p('issuing.crt')]), 3, 'ERR_PEM_UNEXPECTED_TYPE');
  assert.match(keyAsCsr, new RegExp(`^error: --key ${p('issuing.crt')}: `));
  assert.ok(!existsSync(p('e.crt')) && !existsSync(p('e.key')) && !existsSync(p('e.csr')));
});

test('create and csr print subjects like inspect (C=…, O=…, CN=…) and times without milliseconds', () => {
  const r = ok(signet(['certificate', 'create', '/C=DE/O=Example/CN=fmt.example', p('fmt.crt'), ...CA, '--key-out', p('fmt.key'), '--no-password', '--json']));
  const info = JSON.parse(r.stdout) as { subject: string; issuer: string; notBefore: string; notAfter: string };
  const inspected = JSON.parse(ok(signet(['certificate', 'inspect', p('fmt.crt'), '--json'])).stdout) as { items: { subject: { text: string }; issuer: { text: string } }[] };
  assert.equal(info.subject, 'C=DE, O=Example, CN=fmt.example');
  assert.equal(info.subject, inspected.items[0]?.subject.text);
  assert.equal(info.issuer, inspected.items[0]?.issuer.text);
  assert.match(info.notBefore, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(info.notAfter, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const text = ok(signet(['certificate', 'create', '/C=DE/O=Example/CN=fmt2.example', p('fmt2.crt'), ...CA, '--key-out', p('fmt2.key'), '--no-password'])).stdout;
  assert.match(text, /^subject +C=DE, O=Example, CN=fmt2\.example$/m);
  assert.match(text, /^valid +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ → \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);

  const csr = ok(signet(['csr', 'create', 'CN=fmt.example,O=Example,C=DE', p('fmt.csr'), '--key', p('fmt.key'), '--san', 'fmt.example', '--json']));
  assert.equal((JSON.parse(csr.stdout) as { subject: string }).subject, 'C=DE, O=Example, CN=fmt.example');
  const shown = ok(signet(['csr', 'inspect', p('fmt.csr')])).stdout;
  assert.match(shown, /^subject: +C=DE, O=Example, CN=fmt\.example$/m);
  assert.match(shown, /^spki sha256: +[0-9a-f]{64}$/m);
  const columns = new Set(shown.trim().split('\n').map((l) => /^[^:]*: +/.exec(l)?.[0].length));
  assert.equal(columns.size, 1, `csr inspect values start in one column:\n${shown}`);
});

/** The `$ signet …` examples of a help text, as argv arrays (continuation lines joined, quotes removed). */
function helpExamples(help: string): string[][] {
  const joined = help.replace(/\\\n\s*/g, '');
  return joined
    .split('\n')
    .filter((l) => l.trim().startsWith('$ signet '))
    .map((l) => {
      const words: string[] = [];
      for (const m of l.trim().slice('$ signet '.length).matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
      return words;
    });
}

test('the examples of certificate create --help run as shown and issue without warnings', () => {
  const dir = tempDir();
  try {
    const run = (args: string[]): CliResult => signet(args, { cwd: dir.dir });
    writeFileSync(dir.path('pw.txt'), 'correct horse battery staple\n');
    const examples = helpExamples(ok(run(['certificate', 'create', '--help'])).stdout);
    assert.ok(examples.length >= 5, JSON.stringify(examples));
    for (const args of examples) {
      // what the examples expect to exist already
      if (args.includes('svc.csr') && !existsSync(dir.path('svc.csr'))) ok(run(['csr', 'create', 'svc.example.com', 'svc.csr', '--key-out', 'svc.key', '--no-password']));
      if (args.includes('dev.key') && !existsSync(dir.path('dev.key'))) ok(run(['key', 'create', 'dev.key', '--no-password']));
      const r = ok(run(args));
      assert.doesNotMatch(r.stderr, /warning:/, `signet ${args.join(' ')}`);
    }
  } finally {
    dir.cleanup();
  }
});

test('key type flags: hints name --kty (not --type), a full --kty with --curve or --size conflicts, refused curves are unsupported curves', () => {
  const mismatch = fails(signet(['certificate', 'create', 'x.example', p('k.crt'), ...CA, '--key-out', p('k.key'), '--no-password', '--kty', 'rsa', '--curve', 'P-256']), 2, 'ERR_BAD_OPTION');
  assert.match(mismatch, /--kty/);
  assert.doesNotMatch(mismatch, /--type/);
  const conflict = fails(signet(['csr', 'create', 'x.example', p('k.csr'), '--key-out', p('k.key'), '--no-password', '--kty', 'rsa:3072', '--size', '3072']), 2, 'ERR_BAD_OPTION');
  assert.match(conflict, /^error: [^\n]*conflict/);
  const curve = fails(signet(['certificate', 'create', 'x.example', p('k.crt'), ...CA, '--key-out', p('k.key'), '--no-password', '--curve', 'secp256k1']), 4, 'ERR_KEY_UNSUPPORTED');
  assert.match(curve, /^error: unsupported curve secp256k1/);
  assert.ok(!existsSync(p('k.crt')) && !existsSync(p('k.key')) && !existsSync(p('k.csr')));
  // a full spec in --kty alone is fine
  ok(signet(['csr', 'create', 'x.example', p('k.csr'), '--key-out', p('k.key'), '--no-password', '--kty', 'p384', '--json']));
});
