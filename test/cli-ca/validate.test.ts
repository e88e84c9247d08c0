/**
 * `signet ca config validate`: ok for what `ca init` made; every problem listed at once with its
 * path and position (text on stderr, or in the JSON error); file problems (a wrong password);
 * warnings that do not fail; the documented exit codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { signet, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { caInitCommand } from '../../src/cli/ca/index.js';

const tmp = tempDir('signet-cli-ca-validate-');
process.on('exit', () => tmp.cleanup());
const p = tmp.path;

function run(args: string[]): CliResult {
  return signet(args, { cwd: tmp.dir });
}

writeFileSync(p('pw.txt'), 'correct horse battery staple\n', { mode: 0o600 });
writeFileSync(p('prov-pw.txt'), 'provisioner secret\n', { mode: 0o600 });
writeFileSync(p('wrong.txt'), 'not the password\n', { mode: 0o600 });
// One CA, made in this process (no CLI start-up), in the default place relative to the test directory.
await caInitCommand({ name: 'Validate Corp', dir: p('.signet/ca'), passwordFile: p('pw.txt'), provisionerPasswordFile: p('prov-pw.txt'), rootKeyOut: p('root.key') });
const CONFIG = '.signet/ca/signet.json';
const original = JSON.parse(readFileSync(p(CONFIG), 'utf8')) as Record<string, unknown>;

/** Writes a variant of the CA's config next to it (so its relative paths still resolve). */
function variant(name: string, edit: (doc: Record<string, unknown>) => void): string {
  const doc = structuredClone(original);
  edit(doc);
  writeFileSync(p(`.signet/ca/${name}`), JSON.stringify(doc, null, 2));
  return `.signet/ca/${name}`;
}

test('a config made by init is valid: one ok line; the default path, a file or a directory', () => {
  for (const args of [[], ['--config', CONFIG], ['--config', '.signet/ca']]) {
    const r = run(['ca', 'config', 'validate', ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok: .signet/ca/signet.json is valid (CA "Validate Corp", listens on 127.0.0.1:9443, 1 provisioner: admin)\n');
    assert.equal(r.stderr, '');
  }
});

test('--json describes the valid config', () => {
  const r = run(['ca', 'config', 'validate', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { valid: boolean; config: string; name: string; provisioners: string[]; root: { subject: string; fingerprint: string }; warnings: unknown[] };
  assert.equal(out.valid, true);
  assert.equal(out.config, CONFIG);
  assert.equal(out.name, 'Validate Corp');
  assert.deepEqual(out.provisioners, ['admin']);
  assert.equal(out.root.subject, 'O=Validate Corp, CN=Validate Corp Root CA');
  assert.match(out.root.fingerprint, /^[0-9a-f]{64}$/);
  assert.deepEqual(out.warnings, []);
});

test('every problem is listed at once, with its path and position; exit 1', () => {
  const file = variant('broken.json', (d) => {
    d.adress = d.address;
    (d.claims as Record<string, unknown>).maxLifetime = '1h';
    const provisioners = d.provisioners as Record<string, unknown>[];
    provisioners.push({ ...provisioners[0] });
  });
  const r = run(['ca', 'config', 'validate', '--config', file]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), [
    'problem: $.adress: unknown field (did you mean "address"?) (line 63, column 3)',
    'problem: $.claims.defaultLifetime: defaultLifetime 1d is longer than maxLifetime 1h (line 22, column 24)',
    'problem: $.provisioners[1].name: duplicate provisioner name "admin" (also $.provisioners[0].name) (line 51, column 15)',
  ]);
  assert.match(lines[3] ?? '', /^error: \.signet\/ca\/broken\.json: 3 problems, the first: \$\.adress: .* \(ERR_CONFIG_INVALID\)$/);
  assert.equal(lines.length, 4, 'no hint pointing at validate itself');
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('--json puts the problems in the JSON error on stderr', () => {
  const file = variant('json-broken.json', (d) => {
    d.logLevel = 'loud';
    d.crlUrl = 'ftp://x';
  });
  const r = run(['ca', 'config', 'validate', '--config', file, '--json']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const e = (JSON.parse(r.stderr) as { error: { code: string; detail: { problems: { path: string; line: number }[] } } }).error;
  assert.equal(e.code, 'ERR_CONFIG_INVALID');
  assert.deepEqual(e.detail.problems.map((x) => x.path), ['$.crlUrl', '$.logLevel']);
  assert.ok(e.detail.problems.every((x) => typeof x.line === 'number'));
});

test('the files are checked too: a password file that does not decrypt the intermediate key is a problem', () => {
  const file = variant('wrong-password.json', (d) => {
    (d.intermediate as Record<string, unknown>).passwordFile = p('wrong.txt');
    d.root = 'certs/intermediate.crt';
  });
  const r = run(['ca', 'config', 'validate', '--config', file]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^problem: \$\.root: root certificate .* is not self-signed/m);
  assert.match(r.stderr, /^problem: \$\.intermediate\.passwordFile: password file .*wrong\.txt does not decrypt intermediate key/m);
  assert.match(r.stderr, /\(ERR_CONFIG_INVALID\)\n$/);
});

test('risky but workable settings are warnings: exit 0', () => {
  cpSync(p('.signet/ca'), p('loose'), { recursive: true });
  chmodSync(p('loose/secrets/intermediate.key'), 0o644);
  const r = run(['ca', 'config', 'validate', '--config', 'loose/signet.json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^warning: \$\.intermediate\.key: intermediate key .* is readable by others \(mode 0644\); chmod 600 it$/m);
  assert.match(r.stdout, /^ok: loose\/signet\.json is valid/);
});

test('exit codes: 5 when there is no config, 3 when it is not JSON', () => {
  const missing = run(['ca', 'config', 'validate', '--config', 'nowhere/signet.json']);
  assert.equal(missing.status, 5);
  assert.match(missing.stderr, /^error: config file nowhere\/signet\.json does not exist \(ERR_CONFIG_NOT_FOUND\)\nhint: create a CA with `signet ca init`, or pass --config FILE\n$/);
  const noDefault = signet(['ca', 'config', 'validate'], { cwd: p('loose') });
  assert.equal(noDefault.status, 5);
  assert.match(noDefault.stderr, /\.signet\/ca\/signet\.json does not exist/);
  writeFileSync(p('not-json.json'), '{"version": 1,,}');
  const bad = run(['ca', 'config', 'validate', '--config', 'not-json.json']);
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /^error: not-json\.json is not valid JSON: .* at line 1, column 15 \(ERR_JSON_MALFORMED\)\n$/);
});
