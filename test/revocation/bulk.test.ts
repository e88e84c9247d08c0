/**
 * The incident rehearsal: 100,000 certificates issued through three provisioners, 30% of them
 * already renewed, some expired, some revoked before. `signet revoke --where provisioner=…
 * --dry-run` gives exact counts (computed here from the data, not by the code under test); the
 * real run revokes exactly the selection's valid, unexpired certificates in batches, as one
 * audited incident; nothing else changes; the CA's next CRL lists them all and its OCSP responder
 * says revoked. An interrupted run (killed mid-way) is finished by `--incident ID`. Bad
 * selectors, a missing --yes and an unknown incident are refused with their codes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { parseCrl } from '../../src/x509/crl.js';
import { buildOcspRequest, encodeCertId, issuerHashes, subjectPublicKeyBits } from '../../src/x509/ocsp.js';
import { createTestCa, startTestCa, type TestCa } from '../helpers/ca.js';
import { CLI_PATH, fails, ok, signet, signetAsync } from '../helpers/cli.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-bulk-');
const TOTAL = 100_000;
const PROVISIONERS = ['web', 'batch', 'mesh'];
const HOUR = 3_600_000;
let ca: TestCa;
let dbPath = '';
let issuerSerial = '';

interface Row {
  serial: string;
  provisioner: string;
  status: 'valid' | 'revoked';
  notAfter: number;
  replacedBy: string | null;
}
const rows: Row[] = [];

before(async () => {
  mkdirSync(tmp.path('ca-parent'));
  ca = await createTestCa({ parent: tmp.path('ca-parent') });
  dbPath = (ca.config.db as { path: string }).path;
  const intermediate = decodePem(readFileSync(ca.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
  issuerSerial = parseCertificate(intermediate).serialHex;
  writeFileSync(tmp.path('int.pem'), readFileSync(ca.intermediateFile, 'latin1'));
  // The inventory of a busy CA, written straight into its database: every 10th certificate
  // expired, every 50th revoked before, 30% renewed (replaced by a newer one of the same provisioner).
  const now = Date.now();
  const db = new Database(dbPath);
  const insert = db.prepare(
    `insert into certificates (serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, revoked_at, revocation_reason, replaced_by, issued_at, der)
     values (?, ?, 'CN=svc', ?, ?, ?, 'EC P-256', ?, 'rehearsal', 'leaf', ?, ?, ?, ?, ?, x'3000')`,
  );
  for (let i = 0; i < TOTAL; i++) {
    const b = randomBytes(16);
    b[0] = ((b[0] as number) & 0x7f) | 0x40;
    rows.push({ serial: b.toString('hex'), provisioner: PROVISIONERS[i % 3] as string, status: i % 50 === 7 ? 'revoked' : 'valid', notAfter: i % 10 === 3 ? now - HOUR : now + 24 * HOUR, replacedBy: null });
  }
  for (let i = 0; i + 3 < TOTAL; i++) if (i % 10 < 3) (rows[i] as Row).replacedBy = (rows[i + 3] as Row).serial;
  db.transaction(() => {
    rows.forEach((r, i) =>
      insert.run(r.serial, issuerSerial, now - 2 * HOUR, r.notAfter, createHash('sha256').update(r.serial).digest('hex'), r.provisioner, r.status, r.status === 'revoked' ? now - HOUR : null, r.status === 'revoked' ? 'superseded' : null, r.replacedBy, now - 2 * HOUR + i),
    );
  })();
  // The earlier revocations took sequence numbers; the counter says so.
  db.prepare(`insert into counters (name, value) values ('revocations', ?) on conflict(name) do update set value = excluded.value`).run(rows.filter((r) => r.status === 'revoked').length);
  db.close();
});

after(() => tmp.cleanup());

function expected(provisioner: string, now: number): { matched: number; alreadyRevoked: number; expired: number; replaced: number; liveUnreplaced: number } {
  const mine = rows.filter((r) => r.provisioner === provisioner);
  const open = mine.filter((r) => r.status === 'valid');
  return {
    matched: mine.length,
    alreadyRevoked: mine.length - open.length,
    expired: open.filter((r) => r.notAfter <= now).length,
    replaced: open.filter((r) => r.notAfter > now && r.replacedBy !== null).length,
    liveUnreplaced: open.filter((r) => r.notAfter > now && r.replacedBy === null).length,
  };
}

/** status|revoked_at|reason of every certificate, per provisioner: what "nothing else changed" compares. */
function fingerprintOf(provisioner: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    const all = db.prepare('select serial, status, revoked_at, revocation_reason from certificates where provisioner = ? order by serial').all(provisioner);
    return createHash('sha256').update(JSON.stringify(all)).digest('hex');
  } finally {
    db.close();
  }
}

test('rehearsal: 100,000 certificates, a dry run with exact counts, then the live ones of one provisioner revoked; nothing else changed; CRL and OCSP say revoked', async () => {
  const untouched = { batch: fingerprintOf('batch'), mesh: fingerprintOf('mesh') };
  const want = expected('web', Date.now());
  const dry = JSON.parse(ok(signet(['revoke', '--where', 'provisioner=web', '--dry-run', '--json', '--config', ca.dir])).stdout) as { survey: typeof want; toRevoke: number };
  assert.deepEqual(dry.survey, want);
  assert.equal(dry.toRevoke, want.replaced + want.liveUnreplaced);
  const text = ok(signet(['revoke', '--where', 'provisioner=web', '--dry-run', '--config', ca.dir])).stdout;
  assert.match(text, new RegExp(`${want.liveUnreplaced.toLocaleString('en-US')}  live with no replacement`));

  fails(signet(['revoke', '--where', 'provisioner=web', '--config', ca.dir]), 2, 'ERR_USAGE');
  const real = signet(['revoke', '--where', 'provisioner=web', '--reason', 'keyCompromise', '--yes', '--config', ca.dir]);
  ok(real);
  const incident = /^incident ([0-9a-f]{12}): revoked ([\d,]+) certificates in (\d+) batches$/m.exec(real.stdout);
  assert.ok(incident, real.stdout);
  assert.equal(Number(incident[2]?.replace(/,/g, '')), want.replaced + want.liveUnreplaced);
  assert.ok(Number(incident[3]) >= Math.ceil((want.replaced + want.liveUnreplaced) / 1000));
  assert.match(real.stderr, /revoked [\d,]+ of [\d,]+/);

  const db = new Database(dbPath, { readonly: true });
  const now = Date.now();
  const left = db.prepare("select count(*) as n from certificates where provisioner = 'web' and status = 'valid' and not_after > ?").get(now) as { n: number };
  const newly = db.prepare("select count(*) as n from certificates where provisioner = 'web' and revocation_reason = 'keyCompromise'").get() as { n: number };
  const expiredStill = db.prepare("select count(*) as n from certificates where provisioner = 'web' and status = 'valid' and not_after <= ?").get(now) as { n: number };
  db.close();
  assert.equal(left.n, 0, 'no live certificate of the provisioner is left');
  assert.equal(newly.n, want.replaced + want.liveUnreplaced);
  assert.equal(expiredStill.n, want.expired, 'expired ones are left alone');
  assert.deepEqual({ batch: fingerprintOf('batch'), mesh: fingerprintOf('mesh') }, untouched, 'the other provisioners are untouched');

  // One incident in the audit log, with its query.
  const audit = JSON.parse(ok(signet(['audit', 'list', '--config', ca.dir, '--json', '--limit', '10'])).stdout) as { type: string; detail?: { incident?: string; where?: string[] } }[];
  const start = audit.filter((e) => e.type === 'incident.revoke.start');
  assert.equal(start.length, 1);
  assert.equal(start[0]?.detail?.incident, incident[1]);
  assert.deepEqual(start[0]?.detail?.where, ['provisioner=web']);
  assert.equal(audit.filter((e) => e.type === 'incident.revoke.done').length, 1);

  // The CA starts on that database: its CRL lists every unexpired revoked certificate, OCSP says revoked.
  const running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  try {
    const crl = parseCrl(running.crl?.served()?.der ?? new Uint8Array(0));
    const revokedUnexpired = rows.filter((r) => r.notAfter > Date.now() && (r.status === 'revoked' || r.provisioner === 'web')).length;
    assert.equal(crl.revoked.length, revokedUnexpired);
    const listed = new Set(crl.revoked.map((e) => e.serialHex));
    const intermediate = decodePem(readFileSync(ca.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
    const sha1 = issuerHashes(issuerFromCertificate(intermediate).name, subjectPublicKeyBits(parseCertificate(intermediate).spki)).find((h) => h.hash === 'sha1');
    assert.ok(sha1);
    const sample = rows.filter((r) => r.provisioner === 'web' && r.notAfter > Date.now() && r.status === 'valid').slice(0, 20);
    for (const r of sample) {
      assert.ok(listed.has(r.serial), `${r.serial} is in the CRL`);
      const answer = await running.ocsp?.respond(buildOcspRequest([encodeCertId(sha1, r.serial)]));
      writeFileSync(tmp.path('resp.der'), answer?.der ?? new Uint8Array(0));
      assert.match(opensslOk(['ocsp', '-respin', tmp.path('resp.der'), '-resp_text', '-noverify']), /Cert Status: revoked[\s\S]*Revocation Reason: keyCompromise/);
    }
    const good = rows.find((r) => r.provisioner === 'mesh' && r.status === 'valid' && r.notAfter > Date.now());
    assert.ok(good && !listed.has(good.serial));
  } finally {
    await running.close();
  }
});

test('an interrupted incident is finished by --incident ID; resuming a finished one revokes nothing more', async () => {
  // Killed after its first batch of 100.
  const child = spawn(process.execPath, [CLI_PATH, 'revoke', '--where', 'provisioner=batch', '--reason', 'superseded', '--yes', '--batch-size', '100', '--config', ca.dir]);
  let stderr = '';
  const id = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (/revoked [\d,]+ of/.test(stderr)) {
        child.kill('SIGKILL');
        const m = /incident ([0-9a-f]{12})/.exec(stderr);
        if (m?.[1] !== undefined) resolve(m[1]);
        else reject(new Error(stderr));
      }
    });
    child.on('exit', () => reject(new Error(`exited before the first batch: ${stderr}`)));
  });
  await new Promise((resolve) => child.once('close', resolve));
  const want = expected('batch', Date.now());
  const resumed = JSON.parse(ok(signet(['revoke', '--incident', id, '--yes', '--json', '--config', ca.dir])).stdout) as { incident: string; revoked: number; reason?: string; where: string[] };
  assert.equal(resumed.incident, id);
  assert.equal(resumed.reason, 'superseded');
  assert.deepEqual(resumed.where, ['provisioner=batch']);
  assert.ok(resumed.revoked > 0 && resumed.revoked < want.replaced + want.liveUnreplaced, `the rest: ${resumed.revoked}`);
  const db = new Database(dbPath, { readonly: true });
  const left = db.prepare("select count(*) as n from certificates where provisioner = 'batch' and status = 'valid' and not_after > ?").get(Date.now()) as { n: number };
  const done = db.prepare("select count(*) as n from certificates where provisioner = 'batch' and revocation_reason = 'superseded' and status = 'revoked' and revoked_at > ?").get(Date.now() - HOUR / 2) as { n: number };
  db.close();
  assert.equal(left.n, 0);
  assert.equal(done.n, want.replaced + want.liveUnreplaced, 'first run and resumption together revoked each once');
  assert.equal((JSON.parse(ok(signet(['revoke', '--incident', id, '--yes', '--json', '--config', ca.dir])).stdout) as { revoked: number }).revoked, 0);
});

test('refused: no selector, an unknown selector, a bad value, all with others, --incident with --where, an unknown incident, a bad batch size', () => {
  const c = ['--config', ca.dir];
  fails(signet(['revoke', '--dry-run', ...c]), 2, 'ERR_USAGE');
  fails(signet(['revoke', '--where', 'colour=red', '--dry-run', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'issued-after=yesterday', '--dry-run', ...c]), 2, 'ERR_BAD_TIME');
  fails(signet(['revoke', '--where', 'serial=xyz', '--dry-run', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'name=www.*.com', '--dry-run', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'provisioner=', '--dry-run', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'provisioner=a', '--where', 'provisioner=b', '--dry-run', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'all', '--where', 'provisioner=web', '--dry-run', ...c]), 2, 'ERR_USAGE');
  fails(signet(['revoke', '--incident', '0123456789ab', '--where', 'all', '--yes', ...c]), 2, 'ERR_USAGE');
  fails(signet(['revoke', '--incident', '0123456789ab', '--yes', ...c]), 2, 'ERR_INCIDENT_NOT_FOUND');
  fails(signet(['revoke', '--incident', 'nope', '--yes', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'all', '--batch-size', '0', '--yes', ...c]), 2, 'ERR_BAD_OPTION');
  fails(signet(['revoke', '--where', 'all', '--reason', 'bored', '--yes', ...c]), 2, 'ERR_BAD_OPTION');
  // A serial list: the two given, one of them unknown.
  writeFileSync(tmp.path('serials.txt'), `# affected\n${rows[5]?.serial ?? ''}\n0badc0de\n`);
  const s = JSON.parse(ok(signet(['revoke', '--where', `serials-file=${tmp.path('serials.txt')}`, '--dry-run', '--json', ...c])).stdout) as { survey: { matched: number } };
  assert.equal(s.survey.matched, 1);
  fails(signet(['revoke', '--where', `serials-file=${tmp.path('missing.txt')}`, '--dry-run', ...c]), 5, 'ERR_FILE_NOT_FOUND');
  // Relative times are recorded resolved, so that a resumed incident selects what the first run did.
  const rel = JSON.parse(ok(signet(['revoke', '--where', 'issued-before=-1h', '--where', 'Provisioner=mesh', '--dry-run', '--json', ...c])).stdout) as { where: string[] };
  assert.match(rel.where[0] ?? '', /^issued-before=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(rel.where[1], 'provisioner=mesh');
  const bad = signet(['revoke', '--where', 'name=www.*.com', '--dry-run', ...c]);
  assert.match(bad.stderr, /--where name:/, 'the error names the selector as typed');
});

/** Writes certificates of `provisioner` straight into the CA's database: live, replaced, expired, revoked. */
function shop(provisioner: string): { live: string[]; replaced: string; expired: string; revoked: string } {
  const now = Date.now();
  const serial = (): string => {
    const b = randomBytes(16);
    b[0] = ((b[0] as number) & 0x7f) | 0x40;
    return b.toString('hex');
  };
  const s = { live: [serial(), serial()], replaced: serial(), expired: serial(), revoked: serial() };
  const db = new Database(dbPath);
  const insert = db.prepare(
    `insert into certificates (serial, issuer_serial, subject, not_before, not_after, key_fingerprint, key_type, provisioner, requester, profile, status, revoked_at, revocation_reason, revoked_seq, replaced_by, issued_at, der)
     values (?, ?, 'CN=shop', ?, ?, ?, 'EC P-256', ?, 'acme-account', 'leaf', ?, ?, ?, ?, ?, ?, x'3000')`,
  );
  const row = (sn: string, o: { notAfter?: number; revoked?: boolean; replacedBy?: string }): void => {
    insert.run(sn, issuerSerial, now - HOUR, o.notAfter ?? now + 24 * HOUR, createHash('sha256').update(sn).digest('hex'), provisioner, o.revoked ? 'revoked' : 'valid', o.revoked ? now - HOUR : null, null, o.revoked ? 0 : null, o.replacedBy ?? null, now - HOUR);
  };
  for (const sn of s.live) row(sn, {});
  row(s.replaced, { replacedBy: s.live[0] });
  row(s.expired, { notAfter: now - HOUR });
  row(s.revoked, { revoked: true });
  db.close();
  return s;
}

function windows(serials: readonly string[]): Map<string, { start: number; end: number }> {
  const db = new Database(dbPath, { readonly: true });
  const out = new Map<string, { start: number; end: number }>();
  for (const sn of serials) {
    const r = db.prepare('select window_start as start, window_end as end from renewal_windows where serial = ?').get(sn) as { start: number; end: number } | undefined;
    if (r !== undefined) out.set(sn, r);
  }
  db.close();
  return out;
}

function revokedAt(serials: readonly string[]): (number | null)[] {
  const db = new Database(dbPath, { readonly: true });
  const out = serials.map((sn) => (db.prepare('select revoked_at as t from certificates where serial = ?').get(sn) as { t: number | null }).t);
  db.close();
  return out;
}

test('--renew-first: the live, unreplaced ones are told to renew now (ARI window), the revocation waits out the grace period, then revokes the selection', async () => {
  const s = shop('shop');
  const all = [...s.live, s.replaced, s.expired, s.revoked];
  const r = JSON.parse(ok(await signetAsync(['revoke', '--where', 'provisioner=shop', '--renew-first', '--grace', '2s', '--reason', 'keyCompromise', '--yes', '--json', '--config', ca.dir])).stdout) as { incident: string; revoked: number };
  assert.equal(r.revoked, 3, 'the two live ones and the replaced one');
  const w = windows(all);
  assert.deepEqual([...w.keys()].sort(), [...s.live].sort(), 'only the live certificates without a replacement are told to renew');
  const window = w.get(s.live[0] as string);
  assert.ok(window);
  assert.ok(window.end - window.start >= 2000 && window.end - window.start < 3000 && window.end % 1000 === 0, 'the grace period, to the next whole second');
  for (const t of revokedAt([...s.live, s.replaced])) assert.ok(t !== null && t >= window.end, 'revoked once the window closed');
  assert.deepEqual(revokedAt([s.expired]), [null], 'expired: left alone');
  const audit = JSON.parse(ok(signet(['audit', 'list', '--config', ca.dir, '--json', '--limit', '5'])).stdout) as { type: string; detail?: { incident?: string; certificates?: number; renewFirst?: { until: string } } }[];
  const told = audit.find((e) => e.type === 'acme.renewal-window');
  assert.equal(told?.detail?.incident, r.incident);
  assert.equal(told?.detail?.certificates, 2);
  assert.equal(new Date(audit.find((e) => e.type === 'incident.revoke.start')?.detail?.renewFirst?.until ?? 0).getTime(), window.end);
});

test('--renew-first interrupted while it waits: --incident ID waits for the rest of the grace period, then revokes', async () => {
  const s = shop('shop2');
  const child = spawn(process.execPath, [CLI_PATH, 'revoke', '--where', 'provisioner=shop2', '--renew-first', '--grace', '3s', '--yes', '--config', ca.dir]);
  let stderr = '';
  const id = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /incident ([0-9a-f]{12}): revoking at/.exec(stderr);
      if (m?.[1] !== undefined) {
        child.kill('SIGKILL');
        resolve(m[1]);
      }
    });
    child.on('exit', () => reject(new Error(`exited before waiting: ${stderr}`)));
  });
  await new Promise((resolve) => child.once('close', resolve));
  assert.deepEqual(revokedAt(s.live), [null, null], 'nothing revoked during the grace period');
  const w = windows(s.live).get(s.live[0] as string);
  assert.ok(w);
  const resumed = JSON.parse(ok(await signetAsync(['revoke', '--incident', id, '--yes', '--json', '--config', ca.dir])).stdout) as { revoked: number };
  assert.equal(resumed.revoked, 3);
  for (const t of revokedAt([...s.live, s.replaced])) assert.ok(t !== null && t >= w.end);
  fails(signet(['revoke', '--incident', id, '--renew-first', '--yes', '--config', ca.dir]), 2, 'ERR_USAGE');
  fails(signet(['revoke', '--where', 'provisioner=shop2', '--renew-first', '--grace', '8d', '--yes', '--config', ca.dir]), 2, 'ERR_BAD_DURATION');
});
