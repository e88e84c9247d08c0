/**
 * `signet inventory list|show|search|export` and `signet audit list` against a real CA: made by
 * `ca init`, started in-process, certificates issued over HTTPS `POST /sign` with tokens from two
 * provisioners and several lifetimes (one already expired), one revoked and one replaced through
 * the store (the /revoke and /renew endpoints are not there yet). Then the CA stops and the CLI
 * runs as an operator would. OpenSSL reads the exported certificates; Python's csv module reads
 * the CSV.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteConnection, openSqliteStore } from '../../src/store/sqlite.js';
import type { CertificateRecord } from '../../src/store/store.js';
import { systemClock } from '../../src/core/clock.js';
import { certificatesMatching } from '../../src/cli/inventory/records.js';
import { buildFilter, type FilterFlags } from '../../src/cli/inventory/flags.js';
import { createTestCa, httpsRequest, jwkProvisioner, startTestCa, testCsr, testToken, type TestCa } from '../helpers/ca.js';
import { fails, ok, signet, type CliResult } from '../helpers/cli.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-inventory-');
after(() => tmp.cleanup());

/** One certificate the test issued, with what the test knows about it independently of the store. */
interface Issued {
  readonly label: string;
  readonly serial: string;
  readonly pem: string;
  readonly provisioner: string;
  readonly subject: string;
  readonly sans: readonly string[];
  /** SHA-256 of the SPKI of the key the test generated. */
  readonly keyFingerprint: string;
}

const ESC_CN = '\u001b[31mred';
const FORMULA_CN = '=cmd|calc';

let ca: TestCa;
let cfg: string;
let dbFile: string;
const issued = new Map<string, Issued>();
/** Every record as the store holds it after the setup, in the store's order. */
const records: CertificateRecord[] = [];
let dbHashBefore: string;
let listedWhileServing: CliResult;

function by(label: string): Issued {
  const i = issued.get(label);
  assert.ok(i, label);
  return i;
}

function spkiSha256(key: KeyObject): string {
  return createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('hex');
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Serials of the records in `--json` output, in output order. */
function jsonSerials(r: CliResult): string[] {
  return (JSON.parse(ok(r).stdout) as { serial: string }[]).map((x) => x.serial);
}

/** The serials of the records (as the store orders them) that satisfy `pred`. */
function expected(pred: (r: CertificateRecord) => boolean): string[] {
  return records.filter(pred).map((r) => r.serial);
}

/** `AB:CD:…`: how OpenSSL prints serials and fingerprints. */
function colons(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

function inv(args: readonly string[]): CliResult {
  return signet(['inventory', ...args, '--config', cfg]);
}

/** A small strict RFC 4180 parser: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        assert.ok(i < text.length, 'unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += text[i];
        i++;
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        assert.notEqual(text[i], '"', 'quote inside an unquoted field');
        assert.notEqual(text[i], '\n', 'bare LF');
        cell += text[i];
        i++;
      }
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
      continue;
    }
    assert.equal(text.slice(i, i + 2), '\r\n', `record ends with CRLF at ${i}`);
    i += 2;
    rows.push(row);
    row = [];
  }
  return rows;
}

/** CSV as Python's csv module reads it: an independent reader. */
function pythonCsv(text: string): string[][] {
  const r = spawnSync('python3', ['-c', 'import csv,sys,json; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

before(async () => {
  const ops = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const opsJwk = { ...ops.publicKey.export({ format: 'jwk' }), alg: 'ES256' };
  ca = await createTestCa({
    parent: tmp.dir,
    edit: (doc) => {
      (doc.claims as Record<string, unknown>).maxLifetime = '2160h';
      (doc.provisioners as unknown[]).push({ type: 'JWK', name: 'ops', publicKey: opsJwk });
      // Exactly the certificates this test issues: no OCSP responder certificate (test/revocation/ocsp.test.ts covers that one).
      doc.revocation = { ocsp: { enabled: false } };
    },
  });
  cfg = ca.dir;
  dbFile = ca.config.db.type === 'sqlite' ? ca.config.db.path : '';
  const opsKid = jwkProvisioner(ca.config.provisioners.find((p) => p.name === 'ops')).kid;
  const running = await startTestCa(ca);
  try {
    const sign = async (label: string, subject: string, sans: readonly string[], o: { ops?: boolean; notBefore?: string; notAfter?: string; token?: string } = {}): Promise<Issued> => {
      const token = o.token ?? (await testToken(ca, running, { subject, sans, ...(o.ops === true ? { key: ops.privateKey, kid: opsKid, issuer: 'ops' } : {}) }));
      const csr = testCsr(subject, sans);
      const reply = await httpsRequest(ca, `${running.url}/sign`, {
        body: { csr: csr.pem, ott: token, ...(o.notBefore !== undefined && { notBefore: o.notBefore }), ...(o.notAfter !== undefined && { notAfter: o.notAfter }) },
      });
      assert.equal(reply.status, 201, `${label}: ${reply.text}`);
      const serial = String(reply.json?.serial);
      const entry = { label, serial, pem: String(reply.json?.crt), provisioner: o.ops === true ? 'ops' : 'admin', subject, sans, keyFingerprint: spkiSha256(csr.key) };
      issued.set(label, entry);
      return entry;
    };
    await sign('web1', 'web1.example.com', ['web1.example.com']);
    await sign('web2', 'web2.example.com', ['web2.example.com', 'alt.example.com'], { notAfter: '+3d' });
    await sign('api', 'api.internal.test', ['api.internal.test'], { ops: true, notAfter: '+30d' });
    await sign('db', 'db.example.com', ['db.example.com'], { ops: true, notAfter: '+60d' });
    await sign('old', 'old.example.com', ['old.example.com'], { notBefore: '-3h', notAfter: '-1h' });
    const revoked = await sign('revoked', 'revoked.example.com', ['revoked.example.com']);
    const renewOld = await sign('renew-old', 'renew.example.com', ['renew.example.com']);
    const renewNew = await sign('renew-new', 'renew.example.com', ['renew.example.com'], { notAfter: '+2d' });
    await sign('formula', FORMULA_CN, ['formula.example.com']);
    // The authority refuses control characters in names; a record holding them (an older
    // version's, or one written by hand) must still be shown safely.
    const refusedEsc = await httpsRequest(ca, `${running.url}/sign`, {
      body: { csr: testCsr(undefined, ['esc.example.com']).pem, ott: await testToken(ca, running, { subject: ESC_CN, sans: ['esc.example.com'] }) },
    });
    assert.equal(refusedEsc.json?.code, 'ERR_FORBIDDEN_NAMES');
    const template = await sign('escape-source', 'esc.example.com', ['esc.example.com']);
    const source = await running.store.certificates.get(template.serial);
    assert.ok(source);
    // Another serial than the template's (1 in 64 of them start with 7e themselves).
    const escSerial = `${template.serial.startsWith('7e') ? '7d' : '7e'}${template.serial.slice(2)}`;
    await running.store.certificates.insert({ ...source, serial: escSerial, subject: `CN=${ESC_CN}`, requester: ESC_CN, names: [{ type: 'cn', value: ESC_CN }, { type: 'dns', value: 'esc.example.com' }] });
    issued.set('escape', { ...template, label: 'escape', serial: escSerial, subject: ESC_CN });
    await sign('ip', 'ipsvc', ['10.1.2.3']);
    // A refusal for the audit log: the same token twice.
    const token = await testToken(ca, running, { subject: 'replay.example.com' });
    await sign('replay', 'replay.example.com', ['replay.example.com'], { token });
    const replayed = await httpsRequest(ca, `${running.url}/sign`, { body: { csr: testCsr('replay.example.com', ['replay.example.com']).pem, ott: token } });
    assert.equal(replayed.json?.code, 'ERR_TOKEN_REPLAYED');

    assert.equal(await running.store.certificates.revoke(revoked.serial, { at: new Date(), reason: 'keyCompromise' }), 'revoked');
    assert.equal(await running.store.certificates.markReplaced(renewOld.serial, renewNew.serial), 'replaced');
    // The inventory can be read while the CA serves the same database (WAL).
    listedWhileServing = signet(['inventory', 'list', '--config', cfg, '--json']);
  } finally {
    await running.close();
  }
  const store = await openSqliteStore(dbFile, { clock: systemClock });
  try {
    for await (const r of certificatesMatching(store.certificates, {})) records.push(r);
  } finally {
    await store.close();
  }
  dbHashBefore = sha256File(dbFile);
});

test('the setup: every certificate issued is in the store, and the CLI read it while the CA was serving', () => {
  assert.equal(records.length, issued.size);
  assert.deepEqual(new Set(jsonSerials(listedWhileServing)), new Set([...issued.values()].map((i) => i.serial)));
});

test('list: an aligned table of every certificate, hostile names escaped', () => {
  const r = ok(inv(['list']));
  assert.ok(!r.stdout.includes('\u001b'), 'no raw ESC reaches the terminal');
  assert.ok(r.stdout.includes('\\x1b[31mred'), 'the ESC is shown as \\x1b');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1 + records.length);
  const header = lines[0] ?? '';
  assert.match(header, /^SERIAL +NAME +NOT AFTER +STATUS +PROVISIONER +REPLACED BY$/);
  const starts = ['SERIAL', 'NAME', 'NOT AFTER', 'STATUS', 'PROVISIONER', 'REPLACED BY'].map((h) => header.indexOf(h));
  for (const line of lines.slice(1)) {
    for (const s of starts.slice(1)) {
      assert.equal(line.slice(s - 2, s), '  ', `two spaces before column at ${s}: ${line}`);
      assert.notEqual(line[s], ' ', `a cell starts at ${s}: ${line}`);
    }
  }
  // Rows in issuance order; the replaced one names its replacement; statuses derived.
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), records.map((x) => x.serial));
  const row = (label: string): string => lines.find((l) => l.startsWith(by(label).serial)) ?? '';
  assert.match(row('renew-old'), new RegExp(`\\s${by('renew-new').serial}$`));
  assert.match(row('old'), /\sexpired\s/);
  assert.match(row('revoked'), /\srevoked\s/);
  assert.match(row('web1'), /\svalid\s/);
  assert.match(row('web2'), /web2\.example\.com \(\+1\)/);
  assert.match(row('api'), /\sops\s/);
});

/** The filter cases: flags as a user types them, and the serials they must select (in store order). */
function filterCases(): { args: string[]; want: string[]; cli?: true }[] {
  const now = Date.now();
  const notRevoked = (r: CertificateRecord): boolean => r.status === 'valid';
  const sixth = records[5];
  assert.ok(sixth);
  const at = sixth.issuedAt.toISOString();
  return [
    { args: ['--status', 'valid'], want: expected((r) => notRevoked(r) && r.notAfter.getTime() >= now) },
    { args: ['--status', 'expired'], want: [by('old').serial] , cli: true },
    { args: ['--status', 'revoked'], want: [by('revoked').serial] },
    { args: ['--expiring-within', '7d'], want: expected((r) => notRevoked(r) && r.notAfter.getTime() >= now && r.notAfter.getTime() < now + 7 * 86_400_000) , cli: true },
    { args: ['--expiring-within', '2d', '--provisioner', 'admin'], cli: true, want: expected((r) => notRevoked(r) && r.provisioner === 'admin' && r.notAfter.getTime() >= now && r.notAfter.getTime() < now + 2 * 86_400_000) },
    { args: ['--provisioner', 'ops'], want: [by('api').serial, by('db').serial] },
    { args: ['--name', 'ALT.example.COM'], want: [by('web2').serial] },
    { args: ['--name', '*.internal.test'], want: [by('api').serial] , cli: true },
    { args: ['--name', '10.1.2.3'], want: [by('ip').serial] },
    { args: ['--name', '*.example.com', '--provisioner', 'ops'], want: [by('db').serial] },
    { args: ['--key-fingerprint', colons(by('web1').keyFingerprint)], want: [by('web1').serial] , cli: true },
    { args: ['--serial', by('db').serial, '--serial', colons(by('web1').serial)], want: [by('web1').serial, by('db').serial] , cli: true },
    { args: ['--replaced'], want: [by('renew-old').serial] , cli: true },
    { args: ['--not-replaced', '--provisioner', 'admin'], want: expected((r) => r.provisioner === 'admin' && r.replacedBy === undefined) , cli: true },
    { args: ['--name', 'nobody.example.com'], want: [] },
    // Issuance-time windows, on the store's own millisecond times.
    { args: ['--issued-after', at], want: expected((r) => r.issuedAt >= sixth.issuedAt) , cli: true },
    { args: ['--issued-before', at], want: expected((r) => r.issuedAt < sixth.issuedAt) },
    { args: ['--issued-after', '-1h', '--issued-before', '+1m', '--status', 'expired'], want: [by('old').serial] , cli: true },
  ];
}

/** `--a-b value` flags to the FilterFlags commander would build. */
function flagsOf(args: readonly string[]): FilterFlags {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const key = (args[i] ?? '').slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else if (key === 'serial') out[key] = [...((out[key] as string[] | undefined) ?? []), next];
    else out[key] = next;
    if (out[key] !== true) i++;
  }
  return out;
}

test('every filter selects exactly the right certificates (the filter logic, in-process, on the real store)', async () => {
  const store = await openSqliteStore(dbFile, { clock: systemClock });
  try {
    for (const c of filterCases()) {
      const got: string[] = [];
      for await (const r of certificatesMatching(store.certificates, buildFilter(flagsOf(c.args), new Date()))) got.push(r.serial);
      assert.deepEqual(got, c.want, c.args.join(' '));
    }
  } finally {
    await store.close();
  }
});

test('list: the filter flags, typed on the command line, select the right certificates', () => {
  // Every flag at least once; the in-process matrix above covers the rest.
  for (const c of filterCases().filter((x) => x.cli === true)) {
    assert.deepEqual(jsonSerials(inv(['list', ...c.args, '--json'])), c.want, c.args.join(' '));
  }
});

test('list --json: every field, RFC 3339 times, no DER unless --pem', () => {
  const all = JSON.parse(ok(inv(['list', '--json'])).stdout) as Record<string, unknown>[];
  const web1 = all.find((x) => x.serial === by('web1').serial);
  assert.ok(web1);
  assert.deepEqual(Object.keys(web1).sort(), ['issuedAt', 'issuerSerial', 'keyFingerprint', 'keyType', 'names', 'notAfter', 'notBefore', 'profile', 'provisioner', 'requester', 'serial', 'status', 'subject'].sort());
  assert.match(String(web1.notAfter), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(web1.names, [
    { type: 'cn', value: 'web1.example.com' },
    { type: 'dns', value: 'web1.example.com' },
  ]);
  assert.equal(web1.keyFingerprint, by('web1').keyFingerprint);
  const revoked = all.find((x) => x.serial === by('revoked').serial);
  assert.equal(revoked?.status, 'revoked');
  assert.equal(revoked?.revocationReason, 'keyCompromise');
  // JSON keeps the exact value of a hostile name (escaped as JSON, never raw).
  const esc = all.find((x) => x.serial === by('escape').serial);
  assert.equal(esc?.requester, ESC_CN);
  const withPem = JSON.parse(ok(inv(['list', '--json', '--pem', '--serial', by('api').serial])).stdout) as { pem: string }[];
  assert.equal(withPem[0]?.pem, by('api').pem);
});

test('list --limit pages and says so; --all lists everything', () => {
  const r = ok(inv(['list', '--limit', '3', '--json']));
  assert.deepEqual(jsonSerials(r), records.slice(0, 3).map((x) => x.serial));
  assert.match(r.stderr, /showing the first 3 certificates; more match/);
  const exact = ok(inv(['list', '--limit', String(records.length), '--json']));
  assert.equal(exact.stderr, '', 'no note when nothing more matched');
  assert.equal(jsonSerials(inv(['list', '--all', '--json'])).length, records.length);
  const none = ok(inv(['list', '--name', 'nobody.example.com']));
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /no certificates match/);
});

test('the cursor walks the whole inventory page by page, in the store order', async () => {
  const store = await openSqliteStore(dbFile, { clock: systemClock });
  try {
    const seen: string[] = [];
    for await (const r of certificatesMatching(store.certificates, {}, undefined, 2)) seen.push(r.serial);
    assert.deepEqual(seen, records.map((r) => r.serial));
    const capped: string[] = [];
    for await (const r of certificatesMatching(store.certificates, { provisioner: 'admin' }, 5, 2)) capped.push(r.serial);
    assert.deepEqual(capped, expected((r) => r.provisioner === 'admin').slice(0, 5));
  } finally {
    await store.close();
  }
});

test('list --csv: RFC 4180 that Python reads, formulas neutralised, controls escaped', () => {
  const r = ok(inv(['list', '--csv']));
  assert.ok(!r.stdout.includes('\u001b'));
  const rows = parseCsv(r.stdout);
  assert.deepEqual(pythonCsv(r.stdout), rows, 'the same cells for Python');
  const [header, ...body] = rows;
  assert.deepEqual(header?.slice(0, 4), ['serial', 'status', 'subject', 'names']);
  assert.equal(body.length, records.length);
  const col = (name: string): number => header?.indexOf(name) ?? -1;
  const rowOf = (label: string): string[] => body.find((x) => x[0] === by(label).serial) ?? [];
  assert.equal(rowOf('formula')[col('requester')], `'${FORMULA_CN}`, 'a cell starting with = gets a leading quote');
  assert.equal(rowOf('escape')[col('requester')], '\\x1b[31mred');
  assert.equal(rowOf('web2')[col('names')], 'cn:web2.example.com; dns:web2.example.com; dns:alt.example.com');
  assert.equal(rowOf('revoked')[col('revocationReason')], 'keyCompromise');
  assert.equal(rowOf('renew-old')[col('replacedBy')], by('renew-new').serial);
  assert.equal(rowOf('renew-new')[col('replaces')], '', 'the store records replaces only when the renewal sets it');
  for (const row of body) {
    for (const cell of row) assert.doesNotMatch(cell, /^[=+\-@]/, `no cell starts a formula: ${cell}`);
  }
});

test('show: every field of one record; --json; --pem is the issued certificate, as OpenSSL reads it', () => {
  const web2 = by('web2');
  const text = ok(inv(['show', colons(web2.serial)])).stdout;
  for (const field of ['serial', 'status', 'subject', 'names', 'not before', 'not after', 'issued at', 'provisioner', 'requester', 'profile', 'key type', 'key sha256', 'issuer serial', 'replaces', 'replaced by', 'revoked at', 'revocation reason']) {
    assert.match(text, new RegExp(`^${field}: +\\S`, 'm'), field);
  }
  assert.match(text, new RegExp(`^serial: +${web2.serial}$`, 'm'));
  assert.match(text, /^status: +valid \(expires in (2d2[0-3]h|3d)/m);
  assert.match(text, /^names: +cn:web2\.example\.com\n +dns:web2\.example\.com\n +dns:alt\.example\.com$/m);
  assert.match(text, new RegExp(`^key sha256: +${web2.keyFingerprint}$`, 'm'));

  const json = JSON.parse(ok(inv(['show', web2.serial, '--json'])).stdout) as Record<string, unknown>;
  const fromList = (JSON.parse(listedWhileServing.stdout) as { serial: string }[]).find((x) => x.serial === web2.serial);
  assert.deepEqual(json, fromList, 'show --json is the record of list --json');

  const pem = ok(inv(['show', web2.serial, '--pem'])).stdout;
  assert.equal(pem, web2.pem);
  const serialLine = opensslOk(['x509', '-noout', '-serial'], pem).trim();
  assert.equal(serialLine.replace(/^serial=/, '').toLowerCase(), web2.serial);

  const revoked = ok(inv(['show', by('revoked').serial])).stdout;
  assert.match(revoked, /^status: +revoked$/m);
  assert.match(revoked, /^revocation reason: +keyCompromise$/m);
  assert.match(ok(inv(['show', by('old').serial])).stdout, /^status: +expired \(1h\d*m?\d*s? ago\)$/m);
  const esc = ok(inv(['show', by('escape').serial])).stdout;
  assert.ok(!esc.includes('\u001b'));
  assert.match(esc, /^requester: +\\x1b\[31mred$/m);
});

test('show: an unknown serial is ERR_CERT_NOT_FOUND (exit 1); a malformed one ERR_BAD_OPTION (exit 2)', () => {
  fails(inv(['show', '0123456789abcdef']), 1, 'ERR_CERT_NOT_FOUND');
  fails(inv(['show', 'not-hex']), 2, 'ERR_BAD_OPTION');
  const j = inv(['show', '0123456789abcdef', '--json']);
  assert.equal(j.status, 1);
  assert.equal((JSON.parse(j.stderr) as { error: { code: string } }).error.code, 'ERR_CERT_NOT_FOUND');
});

test('search: by name (exact, any case, or *.domain), serial (any notation) or key fingerprint', () => {
  const cases: { text: string; want: string[] }[] = [
    { text: 'WEB1.Example.com', want: [by('web1').serial] },
    { text: 'renew.example.com', want: [by('renew-old').serial, by('renew-new').serial] },
    { text: '*.example.com', want: expected((r) => r.names.some((n) => n.value.endsWith('.example.com'))) },
    { text: colons(by('db').serial), want: [by('db').serial] },
    { text: `sha256:${by('web2').keyFingerprint.toUpperCase()}`, want: [by('web2').serial] },
    { text: 'cafe', want: [] },
  ];
  for (const c of cases) assert.deepEqual(jsonSerials(inv(['search', c.text, '--json'])), c.want, c.text);
  const table = ok(inv(['search', 'web1.example.com'])).stdout;
  assert.match(table, /^SERIAL +NAME/);
  assert.equal(table.trimEnd().split('\n').length, 2);
});

test('export: JSON Lines with every certificate, written atomically, round-trips through OpenSSL', () => {
  const out = tmp.path('inventory.jsonl');
  const r = ok(inv(['export', '--out', out]));
  assert.match(r.stderr, new RegExp(`exported ${records.length} certificates to `));
  assert.equal(r.stdout, '');
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, records.length);
  const exported = lines.map((l) => JSON.parse(l) as { serial: string; pem: string; provisioner: string });
  assert.deepEqual(exported.map((e) => e.serial), records.map((x) => x.serial));
  for (const e of exported) {
    const i = [...issued.values()].find((x) => x.serial === e.serial);
    assert.equal(e.pem, i?.pem, `the exported PEM is the issued certificate (${i?.label ?? e.serial})`);
    assert.equal(e.provisioner, i?.provisioner);
  }
  const first = exported[0];
  assert.ok(first);
  assert.equal(opensslOk(['x509', '-noout', '-serial'], first.pem).trim().replace(/^serial=/, '').toLowerCase(), first.serial);

  // Never overwritten without --force; nothing left behind.
  const before = readFileSync(out);
  fails(inv(['export', '--out', out, '--provisioner', 'ops']), 5, 'ERR_FILE_EXISTS');
  assert.deepEqual(readFileSync(out), before);
  ok(inv(['export', '--out', out, '--provisioner', 'ops', '--force']));
  assert.deepEqual(readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { serial: string }).serial), [by('api').serial, by('db').serial]);
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp')), []);
});

test('export: JSON to stdout, CSV to a file, filters of list; refusals', () => {
  const json = JSON.parse(ok(inv(['export', '--format', 'json', '--status', 'valid'])).stdout) as { serial: string; pem: string }[];
  const now = Date.now();
  assert.deepEqual(json.map((j) => j.serial), expected((r) => r.status === 'valid' && r.notAfter.getTime() >= now));
  assert.ok(json.every((j) => j.pem.startsWith('-----BEGIN CERTIFICATE-----\n')));

  const csvFile = tmp.path('inventory.csv');
  ok(inv(['export', '--format', 'csv', '--out', csvFile]));
  const text = readFileSync(csvFile, 'utf8');
  const rows = parseCsv(text);
  assert.deepEqual(pythonCsv(text), rows);
  assert.equal(rows.length, 1 + records.length);
  assert.ok(!rows[0]?.includes('pem'), 'CSV carries no certificates');

  mkdirSync(tmp.path('sub'));
  fails(inv(['export', '--out', tmp.path('sub/missing/x.jsonl')]), 5, 'ERR_FILE_NOT_FOUND');
  fails(inv(['export', '--out', dbFile, '--force']), 2, 'ERR_USAGE');
  assert.deepEqual(readdirSync(tmp.path('sub')), []);
});

test('audit list: newest first, filters, table/JSON/CSV, text escaped', () => {
  const events = JSON.parse(ok(signet(['audit', 'list', '--config', cfg, '--json'])).stdout) as { id: number; time: string; type: string; outcome: string; actor: string; serial?: string; reason?: string }[];
  // Every issuance has its event; the hand-written record has none.
  assert.equal(events.filter((e) => e.outcome === 'success').length, records.length - 1);
  assert.ok(events.some((e) => e.outcome === 'failure' && e.reason === 'ERR_FORBIDDEN_NAMES' && e.actor === ESC_CN), 'the refused hostile subject is audited');
  const failure = events.find((e) => e.outcome === 'failure');
  assert.equal(failure?.reason, 'ERR_TOKEN_REPLAYED');
  assert.equal(failure?.actor, 'replay.example.com');
  const ids = events.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  assert.ok(events.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(e.time)));

  const one = JSON.parse(ok(signet(['audit', 'list', '--config', cfg, '--json', '--serial', colons(by('db').serial)])).stdout) as { serial: string }[];
  assert.deepEqual(one.map((e) => e.serial), [by('db').serial]);
  const limited = ok(signet(['audit', 'list', '--config', cfg, '--limit', '2', '--json']));
  assert.deepEqual((JSON.parse(limited.stdout) as { id: number }[]).map((e) => e.id), ids.slice(0, 2));
  assert.match(limited.stderr, /showing the newest 2 events/);
  assert.equal((JSON.parse(ok(signet(['audit', 'list', '--config', cfg, '--type', 'certificate.sign', '--since', '-1h', '--until', '+1m', '--json'])).stdout) as unknown[]).length, events.length);
  const future = ok(signet(['audit', 'list', '--config', cfg, '--since', '+1h']));
  assert.equal(future.stdout, '');
  assert.match(future.stderr, /no audit events match/);

  const table = ok(signet(['audit', 'list', '--config', cfg])).stdout;
  assert.ok(!table.includes('\u001b'));
  assert.match(table, /^TIME +TYPE +OUTCOME +ACTOR +PROVISIONER +SERIAL +REASON$/m);
  assert.match(table, /certificate\.sign +failure +replay\.example\.com +admin +- +ERR_TOKEN_REPLAYED/);
  assert.equal(table.trimEnd().split('\n').length, 1 + events.length);

  const csvText = ok(signet(['audit', 'list', '--config', cfg, '--csv'])).stdout;
  const rows = parseCsv(csvText);
  assert.deepEqual(pythonCsv(csvText), rows);
  assert.deepEqual(rows[0], ['id', 'time', 'type', 'outcome', 'actor', 'provisioner', 'serial', 'reason', 'detail']);
  const formula = rows.find((row) => row[6] === by('formula').serial);
  assert.equal(formula?.[4], `'${FORMULA_CN}`);
  const formulaRecord = records.find((r) => r.serial === by('formula').serial);
  assert.deepEqual(JSON.parse(formula?.[8] ?? '{}'), { names: ['cn:=cmd|calc', 'dns:formula.example.com'], notAfter: formulaRecord?.notAfter.toISOString() });
});

test('bad flags: one line, a catalogue code, the exit status of its category', () => {
  // One per code and command; test/cli-inventory/flags.test.ts checks every value in-process.
  const cases: { args: string[]; status: number; code: string }[] = [
    { args: ['inventory', 'list', '--status', 'bogus'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['inventory', 'list', '--expiring-within', '7x'], status: 2, code: 'ERR_BAD_DURATION' },
    { args: ['inventory', 'list', '--issued-after', 'yesterday'], status: 2, code: 'ERR_BAD_TIME' },
    { args: ['inventory', 'list', '--limit', '0'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['inventory', 'list', '--serial', 'xyz'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['inventory', 'list', '--replaced', '--not-replaced'], status: 2, code: 'ERR_USAGE' },
    { args: ['inventory', 'list', '--pem'], status: 2, code: 'ERR_USAGE' },
    { args: ['inventory', 'search', '**'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['inventory', 'export', '--format', 'xml'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['audit', 'list', '--limit', '1001'], status: 2, code: 'ERR_BAD_OPTION' },
    { args: ['audit', 'list', '--since', 'last week'], status: 2, code: 'ERR_BAD_TIME' },
  ];
  for (const c of cases) {
    const r = signet([...c.args, '--config', cfg]);
    fails(r, c.status, c.code);
    assert.equal(r.stdout, '', `nothing on stdout: ${c.args.join(' ')}`);
  }
});

test('a missing config or database is a file error (exit 5); a CA directory or its signet.json both work', () => {
  fails(signet(['audit', 'list'], { cwd: tmp.dir }), 5, 'ERR_CONFIG_NOT_FOUND');
  const other = tmp.path('no-db');
  mkdirSync(other);
  writeFileSync(join(other, 'signet.json'), readFileSync(join(ca.dir, 'signet.json')));
  fails(signet(['inventory', 'list', '--config', other]), 5, 'ERR_FILE_NOT_FOUND');
  assert.deepEqual(readdirSync(other), ['signet.json'], 'no database was created');
  assert.deepEqual(jsonSerials(signet(['inventory', 'list', '--json', '--config', join(ca.dir, 'signet.json')])), records.map((r) => r.serial));
});

test('the inventory reads while another process holds the write lock (WAL)', () => {
  const writer = openSqliteConnection(dbFile);
  try {
    writer.exec('BEGIN IMMEDIATE');
    writer.exec("UPDATE certificates SET requester = requester WHERE serial = 'ff'");
    assert.equal(jsonSerials(inv(['list', '--json', '--limit', '2'])).length, 2);
    writer.exec('ROLLBACK');
  } finally {
    writer.close();
  }
});

test('the read commands never wrote to the database', () => {
  assert.equal(sha256File(dbFile), dbHashBefore);
});
