/**
 * The store conformance suite (STYLE.md habit 6): every implementation of the port in
 * src/store/store.ts — SQLite now, PostgreSQL next — must pass exactly these tests.
 *
 * `open` must return a new, empty, migrated store on every call; the suite closes each store it
 * opened. Nothing here knows which database is underneath.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignetError, isSignetError } from '../../src/core/errors.js';
import type { CertificateFilter, CertificateRecord, Store, StoreTx } from '../../src/store/index.js';
import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeOrder } from '../../src/store/store.js';
import { at, auditEvent, certificate, fingerprint, gate, newSerial, rejectsWith } from './fixtures.js';

/** Registers the conformance tests for one store implementation. */
export function storeConformance(name: string, open: () => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    /**
     * Serials of every certificate matching `filter`, walking all pages of `limit` — with `list`,
     * and with `listStates`, which must select the same ones in the same order.
     */
    async function serialsOf(filter: CertificateFilter = {}, limit = 1000): Promise<string[]> {
      const walk = async (list: (page: { limit: number; cursor?: string }) => Promise<{ items: readonly { serial: string }[]; nextCursor?: string }>): Promise<string[]> => {
        const out: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10_000; pages++) {
          const page = await list(cursor === undefined ? { limit } : { limit, cursor });
          out.push(...page.items.map((c) => c.serial));
          if (page.nextCursor === undefined) return out;
          cursor = page.nextCursor;
        }
        throw new Error('pagination does not end');
      };
      const listed = await walk((p) => store.certificates.list(filter, p));
      assert.deepEqual(await walk((p) => store.certificates.listStates(filter, p)), listed, 'listStates selects what list selects');
      return listed;
    }

    describe('certificates', () => {
      test('insert then get returns the record exactly, optional fields absent when not given', async () => {
        const minimal = certificate({ names: [] });
        const full = certificate({
          issuerSerial: newSerial(),
          names: [
            { type: 'dns', value: 'API.Example.com' },
            { type: 'ip', value: '2001:db8::1' },
            { type: 'email', value: 'ops@example.com' },
            { type: 'uri', value: 'spiffe://example.org/ns/prod/sa/api' },
            { type: 'dns', value: 'api.example.com' },
            { type: 'cn', value: 'API' },
          ],
          status: 'revoked',
          revokedAt: at(5000),
          revocationReason: 'keyCompromise',
          replaces: minimal.serial,
          notBefore: new Date(-1), // before 1970 and odd milliseconds survive
          notAfter: new Date(253402300799999), // 9999-12-31T23:59:59.999Z
          issuedAt: at(1),
          subject: 'CN=API,O=Example \\, Inc.',
          requester: '',
        });
        await store.certificates.insert(minimal);
        await store.certificates.insert(full);
        assert.deepEqual(await store.certificates.get(minimal.serial), minimal);
        assert.deepEqual(await store.certificates.get(full.serial), full);
        const got = await store.certificates.get(full.serial);
        assert.ok(got);
        assert.ok(!('replacedBy' in got) && !('revocationReason' in minimal) && !('issuerSerial' in (await store.certificates.get(minimal.serial) ?? {})));
        assert.equal(Object.getPrototypeOf(got.der), Uint8Array.prototype, 'der is a plain Uint8Array');
      });

      test('the DER handed in is copied: later changes to the caller’s bytes do not reach the store', async () => {
        const c = certificate();
        const original = new Uint8Array(c.der);
        await store.certificates.insert(c);
        c.der.fill(0);
        assert.deepEqual((await store.certificates.get(c.serial))?.der, original);
      });

      test('get of an unknown serial is undefined', async () => {
        assert.equal(await store.certificates.get(newSerial()), undefined);
      });

      test('a duplicate serial is refused and the first record stays as it was', async () => {
        const first = certificate();
        await store.certificates.insert(first);
        await rejectsWith(store.certificates.insert(certificate({ serial: first.serial, provisioner: 'other', names: [{ type: 'dns', value: 'x.test' }] })), 'ERR_STORE_DUPLICATE_SERIAL');
        assert.deepEqual(await store.certificates.get(first.serial), first);
        assert.deepEqual(await serialsOf({ name: 'x.test' }), []);
      });

      test('records that break the conventions are refused and leave nothing behind', async () => {
        const bad: [string, Record<string, unknown>][] = [
          ['upper-case serial', { serial: '4A1F' }],
          ['serial with colons', { serial: '4a:1f' }],
          ['odd number of digits', { serial: '4a1' }],
          ['leading 00 octet', { serial: '0080ff' }],
          ['21 octets', { serial: '41'.repeat(21) }],
          ['empty serial', { serial: '' }],
          ['bad issuerSerial', { issuerSerial: 'X1' }],
          ['bad replaces', { replaces: '4A' }],
          ['upper-case fingerprint', { keyFingerprint: 'A'.repeat(64) }],
          ['short fingerprint', { keyFingerprint: 'a'.repeat(63) }],
          ['unknown name type', { names: [{ type: 'rfc822', value: 'a@b' }] }],
          ['empty name', { names: [{ type: 'dns', value: '' }] }],
          ['invalid date', { notBefore: new Date(Number.NaN) }],
          ['not a date', { issuedAt: 1_700_000_000_000 }],
          ['notAfter before notBefore', { notBefore: at(10), notAfter: at(9) }],
          ['unknown status', { status: 'expired' }],
          ['revoked without revokedAt', { status: 'revoked' }],
          ['valid with revokedAt', { revokedAt: at(1) }],
          ['valid with a reason', { revocationReason: 'superseded' }],
          ['empty der', { der: new Uint8Array(0) }],
          ['der not bytes', { der: [48, 0] }],
          ['empty provisioner', { provisioner: '' }],
          ['empty profile', { profile: '' }],
        ];
        for (const [what, over] of bad) {
          const record = { ...certificate(), ...over };
          await rejectsWith(store.certificates.insert(record), 'ERR_STORE_INVALID_RECORD', what);
        }
        assert.deepEqual(await serialsOf(), []);
      });

      test('serials: 1 to 20 octets, any leading digit but a 00 octet', async () => {
        for (const serial of ['01', '80ff', '7f' + 'ab'.repeat(19), '00']) {
          await store.certificates.insert(certificate({ serial }));
          assert.equal((await store.certificates.get(serial))?.serial, serial);
        }
      });

      test('list pages through everything once, ordered by issuedAt then serial, with ties and any page size', async () => {
        const records: CertificateRecord[] = [];
        for (let i = 0; i < 23; i++) records.push(certificate({ issuedAt: at((i * 7) % 5) })); // ties on issuedAt
        for (const r of [...records].reverse()) await store.certificates.insert(r);
        const expected = records
          .map((r) => [r.issuedAt.getTime(), r.serial] as const)
          .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
          .map((x) => x[1]);
        for (const limit of [1, 2, 5, 22, 23, 24, 1000]) {
          assert.deepEqual(await serialsOf({}, limit), expected, `limit ${limit}`);
        }
        const first = await store.certificates.list({}, { limit: 23 });
        assert.equal(first.nextCursor, undefined, 'no cursor when the page holds the rest');
        assert.equal((await store.certificates.list()).items.length, 23, 'default limit (100) covers them');
      });

      test('listStates returns what decides each one\'s state: status, notAfter, replaced', async () => {
        const live = certificate({ issuedAt: at(1), notAfter: at(500) });
        const old = certificate({ issuedAt: at(2) });
        const renewed = certificate({ issuedAt: at(3) });
        const gone = certificate({ issuedAt: at(4), notAfter: at(600) });
        for (const c of [live, old, renewed, gone]) await store.certificates.insert(c);
        await store.certificates.markReplaced(old.serial, renewed.serial);
        await store.certificates.revoke(gone.serial, { at: at(5) });
        assert.deepEqual((await store.certificates.listStates()).items, [
          { serial: live.serial, status: 'valid', notAfter: at(500), replaced: false },
          { serial: old.serial, status: 'valid', notAfter: old.notAfter, replaced: true },
          { serial: renewed.serial, status: 'valid', notAfter: renewed.notAfter, replaced: false },
          { serial: gone.serial, status: 'revoked', notAfter: at(600), replaced: false },
        ]);
        assert.deepEqual((await store.certificates.listStates({ serials: [] })).items, []);
      });

      test('list returns full records, names included, for every item of a page', async () => {
        const a = certificate({ issuedAt: at(1), names: [{ type: 'dns', value: 'a.test' }, { type: 'ip', value: '192.0.2.1' }] });
        const b = certificate({ issuedAt: at(2), names: [] });
        await store.certificates.insert(b);
        await store.certificates.insert(a);
        assert.deepEqual((await store.certificates.list()).items, [a, b]);
      });

      test('a cursor is a position: rows inserted before it are skipped, after it are returned', async () => {
        const early = certificate({ issuedAt: at(10) });
        const late = certificate({ issuedAt: at(30) });
        await store.certificates.insert(early);
        await store.certificates.insert(late);
        const page1 = await store.certificates.list({}, { limit: 1 });
        assert.deepEqual(page1.items.map((c) => c.serial), [early.serial]);
        assert.ok(page1.nextCursor);
        const before = certificate({ issuedAt: at(5) });
        const between = certificate({ issuedAt: at(20) });
        await store.certificates.insert(before);
        await store.certificates.insert(between);
        const page2 = await store.certificates.list({}, { limit: 10, cursor: page1.nextCursor });
        assert.deepEqual(page2.items.map((c) => c.serial), [between.serial, late.serial]);
      });

      describe('filters', () => {
        const F1 = fingerprint('shared key');
        let c: Record<string, CertificateRecord>;
        let all: string[];
        beforeEach(async () => {
          const mk = (i: number, over: Partial<CertificateRecord>) => certificate({ issuedAt: at(i), notAfter: at(i * 100), ...over });
          c = {
            A: mk(1, { names: [{ type: 'dns', value: 'www.example.com' }, { type: 'cn', value: 'www.example.com' }], keyFingerprint: F1 }),
            B: mk(2, { names: [{ type: 'dns', value: 'a.b.example.com' }, { type: 'ip', value: '10.0.0.1' }], provisioner: 'acme' }),
            C: mk(3, { names: [{ type: 'dns', value: 'example.com' }], keyFingerprint: F1 }),
            D: mk(4, { names: [{ type: 'dns', value: '*.example.com' }], provisioner: 'k8s' }),
            E: mk(5, {
              // Near misses of *.example.com: a longer label, the name inside another domain, and a
              // label that sorts just before "." ('-' is 0x2d) so a range off by one would catch it.
              names: [
                { type: 'dns', value: 'xexample.com' },
                { type: 'dns', value: 'example.com.evil.org' },
                { type: 'dns', value: 'www.example-evil.com' },
              ],
              provisioner: 'acme',
            }),
            F: mk(6, { names: [{ type: 'email', value: 'ops@example.com' }, { type: 'uri', value: 'spiffe://example.com/ns/a' }], provisioner: 'acme' }),
            G: mk(7, { names: [{ type: 'cn', value: 'Mixed.Example.COM' }], provisioner: 'acme' }),
            H: mk(8, { names: [{ type: 'dns', value: 'abc.example.org' }], provisioner: 'acme', issuerSerial: '0a0b0c', profile: 'ssh-host' }),
          };
          // One transaction (one commit) per fixture keeps the 35 tests below cheap on a real file.
          await store.transaction(async (tx) => {
            for (const r of Object.values(c)) await tx.certificates.insert(r);
            assert.equal(await tx.certificates.revoke(c.B!.serial, { at: at(50), reason: 'keyCompromise' }), 'revoked');
            assert.equal(await tx.certificates.markReplaced(c.A!.serial, c.C!.serial), 'replaced');
          });
          all = Object.values(c).map((r) => r.serial);
        });
        const labels = (serials: readonly string[]) => serials.map((s) => Object.entries(c).find(([, r]) => r.serial === s)?.[0] ?? `?${s}`).join('');

        const table: [string, () => CertificateFilter, string][] = [
          ['nothing', () => ({}), 'ABCDEFGH'],
          ['revoked', () => ({ status: 'revoked' }), 'B'],
          ['valid', () => ({ status: 'valid' }), 'ACDEFGH'],
          ['expiresBefore is strict', () => ({ expiresBefore: at(300) }), 'AB'],
          ['expiresAfter is inclusive', () => ({ expiresAfter: at(300) }), 'CDEFGH'],
          ['issuedBefore is strict', () => ({ issuedBefore: at(3) }), 'AB'],
          ['issuedAfter is inclusive', () => ({ issuedAfter: at(3) }), 'CDEFGH'],
          ['issued window', () => ({ issuedAfter: at(2), issuedBefore: at(5) }), 'BCD'],
          ['provisioner', () => ({ provisioner: 'admin' }), 'AC'],
          ['unknown provisioner', () => ({ provisioner: 'nobody' }), ''],
          ['issuer', () => ({ issuerSerial: '0a0b0c' }), 'H'],
          ['another issuer', () => ({ issuerSerial: '0f' }), ''],
          ['key fingerprint', () => ({ keyFingerprint: F1 }), 'AC'],
          ['profile', () => ({ profile: 'ssh-host' }), 'H'],
          ['unknown profile', () => ({ profile: 'ssh-user' }), ''],
          ['serials, in list order', () => ({ serials: [c.C!.serial, c.A!.serial, newSerial()] }), 'AC'],
          ['no serials', () => ({ serials: [] }), ''],
          ['replaced', () => ({ replaced: true }), 'A'],
          ['not replaced', () => ({ replaced: false }), 'BCDEFGH'],
          ['exact DNS name (dns and cn both match, listed once)', () => ({ name: 'www.example.com' }), 'A'],
          ['DNS names compare case-insensitively', () => ({ name: 'WWW.Example.COM' }), 'A'],
          ['a trailing dot names the same host', () => ({ name: 'www.example.com.' }), 'A'],
          ['exact IP', () => ({ name: '10.0.0.1' }), 'B'],
          ['exact e-mail', () => ({ name: 'ops@example.com' }), 'F'],
          ['exact URI', () => ({ name: 'spiffe://example.com/ns/a' }), 'F'],
          ['CN case-insensitively', () => ({ name: 'mixed.example.com' }), 'G'],
          ['exact apex only', () => ({ name: 'example.com' }), 'C'],
          ['*.example.com: names under it at any depth, wildcards and CNs too, not the apex', () => ({ name: '*.example.com' }), 'ABDG'],
          ['*.b.example.com', () => ({ name: '*.b.example.com' }), 'B'],
          ['pattern is case-insensitive', () => ({ name: '*.EXAMPLE.com' }), 'ABDG'],
          ['*.com', () => ({ name: '*.com' }), 'ABCDEG'],
          ['*.org', () => ({ name: '*.org' }), 'EH'],
          ['no LIKE wildcards: _', () => ({ name: 'a_c.example.org' }), ''],
          ['no LIKE wildcards: %', () => ({ name: '*.%.org' }), ''],
          ['exact wildcard name is the pattern', () => ({ name: '*.example.org' }), 'H'],
          ['name and provisioner', () => ({ name: '*.example.com', provisioner: 'admin' }), 'A'],
          ['valid, unexpired at 300, under .com', () => ({ status: 'valid', expiresAfter: at(300), name: '*.com' }), 'CDEG'],
          ['everything at once', () => ({ status: 'valid', replaced: false, provisioner: 'acme', issuedAfter: at(5), name: '*.example.com' }), 'G'],
        ];
        for (const [what, filter, expected] of table) {
          test(what, async () => {
            assert.equal(labels(await serialsOf(filter())), expected);
            assert.equal(labels(await serialsOf(filter(), 1)), expected, 'same result one row per page');
          });
        }

        test('…Before and …After partition the inventory', async () => {
          for (const t of [at(0), at(150), at(300), at(10_000)]) {
            const before = await serialsOf({ expiresBefore: t });
            const after = await serialsOf({ expiresAfter: t });
            assert.deepEqual([...before, ...after].sort(), [...all].sort());
          }
        });
      });

      test('bad queries are refused with ERR_STORE_BAD_QUERY', async () => {
        await store.certificates.insert(certificate());
        const bad: [string, CertificateFilter, { limit?: number; cursor?: string }][] = [
          ['limit 0', {}, { limit: 0 }],
          ['limit 1001', {}, { limit: 1001 }],
          ['fractional limit', {}, { limit: 1.5 }],
          ['limit as text', {}, { limit: '10' as unknown as number }],
          ['garbage cursor', {}, { cursor: 'not a cursor!' }],
          ['empty cursor', {}, { cursor: '' }],
          ['cursor of other text', {}, { cursor: Buffer.from('hello').toString('base64url') }],
          ['empty name', { name: '' }, {}],
          ['star in the middle', { name: 'www.*.com' }, {}],
          ['star alone', { name: '*.' }, {}],
          ['two stars', { name: '*.*.example.com' }, {}],
          ['unknown status', { status: 'expired' as 'valid' }, {}],
          ['invalid date', { expiresBefore: new Date(Number.NaN) }, {}],
          ['upper-case serial', { serials: ['4A'] }, {}],
          ['too many serials', { serials: Array.from({ length: 1001 }, () => newSerial()) }, {}],
          ['replaced as text', { replaced: 'yes' as unknown as boolean }, {}],
          ['empty provisioner', { provisioner: '' }, {}],
          ['issuer serial with a leading 00', { issuerSerial: '0080' }, {}],
        ];
        for (const [what, filter, page] of bad) {
          await rejectsWith(store.certificates.list(filter, page), 'ERR_STORE_BAD_QUERY', what);
          await rejectsWith(store.certificates.listStates(filter, page), 'ERR_STORE_BAD_QUERY', `listStates: ${what}`);
        }
        await rejectsWith(store.certificates.get('4A'), 'ERR_STORE_BAD_QUERY');
      });

      test('revoke: revoked, then already-revoked keeping the first time and reason; not-found', async () => {
        const c = certificate();
        await store.certificates.insert(c);
        assert.equal(await store.certificates.revoke(c.serial, { at: at(100), reason: 'keyCompromise' }), 'revoked');
        assert.equal(await store.certificates.revoke(c.serial, { at: at(200), reason: 'superseded' }), 'already-revoked');
        assert.deepEqual(await store.certificates.get(c.serial), { ...c, status: 'revoked', revokedAt: at(100), revocationReason: 'keyCompromise' });
        assert.equal(await store.certificates.revoke(newSerial(), { at: at(100) }), 'not-found');
        const d = certificate();
        await store.certificates.insert(d);
        assert.equal(await store.certificates.revoke(d.serial, { at: at(300) }), 'revoked');
        assert.deepEqual(await store.certificates.get(d.serial), { ...d, status: 'revoked', revokedAt: at(300) });
        await rejectsWith(store.certificates.revoke(d.serial, { at: new Date(Number.NaN) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.revoke('D0', { at: at(1) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.revoke(d.serial, { at: at(1), reason: '' }), 'ERR_STORE_INVALID_RECORD');
      });

      test('markReplaced: first replacement wins; not-found; the replacing certificate must exist', async () => {
        const old = certificate();
        const renewed = certificate({ replaces: old.serial });
        const fork = certificate({ replaces: old.serial });
        for (const r of [old, renewed, fork]) await store.certificates.insert(r);
        assert.equal(await store.certificates.markReplaced(old.serial, renewed.serial), 'replaced');
        assert.equal(await store.certificates.markReplaced(old.serial, fork.serial), 'already-replaced');
        assert.equal((await store.certificates.get(old.serial))?.replacedBy, renewed.serial);
        assert.equal(await store.certificates.markReplaced(newSerial(), renewed.serial), 'not-found');
        await rejectsWith(store.certificates.markReplaced(renewed.serial, newSerial()), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.markReplaced(renewed.serial, renewed.serial), 'ERR_STORE_INVALID_RECORD');
        assert.equal((await store.certificates.get(renewed.serial))?.replacedBy, undefined);
      });
    });

    describe('tokens', () => {
      test('consume is true the first time only, per provisioner', async () => {
        const t = { provisioner: 'admin', jti: 'c2lnbmV0LWp0aQ', expiresAt: at(300_000) };
        assert.equal(await store.tokens.consume(t), true);
        assert.equal(await store.tokens.consume(t), false);
        assert.equal(await store.tokens.consume({ ...t, expiresAt: at(999_999) }), false, 'a different expiry is still the same token');
        assert.equal(await store.tokens.consume({ ...t, provisioner: 'ops' }), true, 'jti is scoped to its provisioner');
        assert.equal(await store.tokens.consume({ ...t, jti: t.jti.toLowerCase() }), true, 'jti compares exactly');
      });

      test('of many concurrent consumers of one token, exactly one wins', async () => {
        const t = { provisioner: 'admin', jti: 'race', expiresAt: at(1) };
        const results = await Promise.all(Array.from({ length: 25 }, () => store.tokens.consume(t)));
        assert.equal(results.filter(Boolean).length, 1);
      });

      test('purgeExpired deletes tokens with expiresAt < now and counts them', async () => {
        for (let i = 0; i < 5; i++) assert.ok(await store.tokens.consume({ provisioner: 'p', jti: `j${i}`, expiresAt: at(i * 1000) }));
        assert.equal(await store.tokens.purgeExpired(at(2000)), 2, 'j0 and j1; j2 expires exactly at now and stays');
        assert.equal(await store.tokens.purgeExpired(at(2000)), 0);
        assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'j2', expiresAt: at(2000) }), false);
        assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'j0', expiresAt: at(0) }), true, 'a purged token is forgotten');
        assert.equal(await store.tokens.purgeExpired(at(10_000)), 4);
      });

      test('malformed token uses are refused', async () => {
        await rejectsWith(store.tokens.consume({ provisioner: '', jti: 'x', expiresAt: at(1) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.tokens.consume({ provisioner: 'p', jti: '', expiresAt: at(1) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.tokens.consume({ provisioner: 'p', jti: 'x', expiresAt: new Date(Number.NaN) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.tokens.purgeExpired(new Date(Number.NaN)), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'x', expiresAt: at(1) }), true, 'nothing was recorded');
      });
    });

    describe('audit', () => {
      test('append returns increasing ids; list is newest first with every field as given', async () => {
        const serial = newSerial();
        const e1 = auditEvent({ time: at(10) });
        const e2 = auditEvent({
          time: at(20),
          type: 'certificate.revoke',
          outcome: 'failure',
          actor: 'ops',
          provisioner: 'admin',
          serial,
          reason: 'not found',
          detail: { names: ['a', 'b'], nested: { n: 1, ok: true, none: null }, text: 'ünïcode "quoted"' },
        });
        const e3 = auditEvent({ time: at(10) }); // same time as e1: newer id first
        const ids = [await store.audit.append(e1), await store.audit.append(e2), await store.audit.append(e3)];
        assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, `ids increase: ${ids.join(',')}`);
        assert.deepEqual(await store.audit.list(), [
          { ...e2, id: ids[1] },
          { ...e3, id: ids[2] },
          { ...e1, id: ids[0] },
        ]);
      });

      test('list filters: since inclusive, until exclusive, type, serial, limit', async () => {
        const serial = newSerial();
        for (let i = 0; i < 10; i++) {
          await store.audit.append(auditEvent({ time: at(i), type: i % 2 === 0 ? 'even' : 'odd', ...(i >= 7 && { serial }) }));
        }
        const times = async (q: Parameters<Store['audit']['list']>[0]) => (await store.audit.list(q)).map((e) => e.time.getTime() - at(0).getTime());
        assert.deepEqual(await times({ since: at(3), until: at(6) }), [5, 4, 3]);
        assert.deepEqual(await times({ type: 'odd' }), [9, 7, 5, 3, 1]);
        assert.deepEqual(await times({ serial }), [9, 8, 7]);
        assert.deepEqual(await times({ type: 'even', serial }), [8]);
        assert.deepEqual(await times({ limit: 2 }), [9, 8]);
        assert.deepEqual(await times({ since: at(100) }), []);
        await rejectsWith(store.audit.list({ limit: 0 }), 'ERR_STORE_BAD_QUERY');
        await rejectsWith(store.audit.list({ limit: 1001 }), 'ERR_STORE_BAD_QUERY');
        await rejectsWith(store.audit.list({ serial: 'XY' }), 'ERR_STORE_BAD_QUERY');
        await rejectsWith(store.audit.list({ since: new Date('nope') }), 'ERR_STORE_BAD_QUERY');
      });

      test('malformed events are refused and not recorded', async () => {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const bad: [string, Record<string, unknown>][] = [
          ['unknown outcome', { outcome: 'maybe' }],
          ['empty type', { type: '' }],
          ['invalid time', { time: new Date(Number.NaN) }],
          ['bad serial', { serial: '4A' }],
          ['detail not an object', { detail: 'text' }],
          ['detail an array', { detail: [1] }],
          ['detail with a bigint', { detail: { n: 1n } }],
          ['cyclic detail', { detail: cyclic }],
          ['detail over 64 KiB', { detail: { blob: 'x'.repeat(65 * 1024) } }],
        ];
        for (const [what, over] of bad) {
          await rejectsWith(store.audit.append({ ...auditEvent(), ...over }), 'ERR_STORE_INVALID_RECORD', what);
        }
        assert.deepEqual(await store.audit.list(), []);
      });
    });

    describe('transactions', () => {
      test('commits every repository’s writes together and returns the callback’s value', async () => {
        const c = certificate();
        const value = await store.transaction(async (tx) => {
          await tx.certificates.insert(c);
          assert.deepEqual(await tx.certificates.get(c.serial), c, 'reads its own writes');
          assert.equal(await tx.tokens.consume({ provisioner: 'admin', jti: 'tx', expiresAt: at(1) }), true);
          await tx.audit.append(auditEvent({ serial: c.serial }));
          return 42;
        });
        assert.equal(value, 42);
        assert.deepEqual(await store.certificates.get(c.serial), c);
        assert.equal(await store.tokens.consume({ provisioner: 'admin', jti: 'tx', expiresAt: at(1) }), false);
        assert.equal((await store.audit.list({ serial: c.serial })).length, 1);
      });

      test('a callback that throws rolls everything back and its error comes out unchanged', async () => {
        const c = certificate();
        const other = certificate();
        await store.certificates.insert(other);
        const boom = new Error('boom');
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.certificates.insert(c);
            await tx.certificates.revoke(other.serial, { at: at(1) });
            await tx.certificates.markReplaced(other.serial, c.serial);
            await tx.tokens.consume({ provisioner: 'admin', jti: 'rolled-back', expiresAt: at(1) });
            await tx.audit.append(auditEvent());
            throw boom;
          }),
          (e) => e === boom,
        );
        assert.equal(await store.certificates.get(c.serial), undefined);
        assert.deepEqual(await store.certificates.get(other.serial), other, 'revoke and markReplaced undone');
        assert.deepEqual(await serialsOf({ name: 'svc.example.com' }), [other.serial], 'no names left behind');
        assert.equal(await store.tokens.consume({ provisioner: 'admin', jti: 'rolled-back', expiresAt: at(1) }), true);
        assert.deepEqual(await store.audit.list(), []);
      });

      test('a store error inside the transaction rolls back the writes before it', async () => {
        const taken = certificate();
        await store.certificates.insert(taken);
        const fresh = certificate();
        await rejectsWith(
          store.transaction(async (tx) => {
            await tx.certificates.insert(fresh);
            await tx.audit.append(auditEvent({ serial: fresh.serial }));
            await tx.certificates.insert(certificate({ serial: taken.serial }));
          }),
          'ERR_STORE_DUPLICATE_SERIAL',
        );
        assert.equal(await store.certificates.get(fresh.serial), undefined);
        assert.deepEqual(await store.audit.list(), []);
      });

      test('the transaction can go on after a refused insert when the callback catches it', async () => {
        const taken = certificate();
        await store.certificates.insert(taken);
        const fresh = certificate();
        await store.transaction(async (tx) => {
          await rejectsWith(tx.certificates.insert(certificate({ serial: taken.serial })), 'ERR_STORE_DUPLICATE_SERIAL');
          assert.equal(await tx.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }), true);
          assert.equal(await tx.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }), false);
          await tx.certificates.insert(fresh);
        });
        assert.deepEqual(await store.certificates.get(fresh.serial), fresh);
      });

      test('using the store itself inside a transaction is refused, not a deadlock', async () => {
        const c = certificate();
        await store.transaction(async (tx) => {
          await tx.certificates.insert(c);
          await rejectsWith(store.certificates.get(c.serial), 'ERR_INTERNAL');
          await rejectsWith(store.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }), 'ERR_INTERNAL');
          await rejectsWith(store.transaction(() => Promise.resolve(1)), 'ERR_INTERNAL');
        });
        assert.deepEqual(await store.certificates.get(c.serial), c);
      });

      test('the transaction’s repositories refuse to work after it ended', async () => {
        let kept: StoreTx | undefined;
        await store.transaction(async (tx) => {
          kept = tx;
          await tx.audit.append(auditEvent());
        });
        assert.ok(kept);
        await rejectsWith(kept.tokens.consume({ provisioner: 'p', jti: 'late', expiresAt: at(1) }), 'ERR_STORE_CLOSED');
        await rejectsWith(kept.certificates.insert(certificate()), 'ERR_STORE_CLOSED');
        assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'late', expiresAt: at(1) }), true);
      });

      test('concurrent transactions and single operations all complete, none lost', async () => {
        const records = Array.from({ length: 30 }, () => certificate());
        await Promise.all(
          records.map((r, i) =>
            i % 3 === 0
              ? store.certificates.insert(r)
              : store.transaction(async (tx) => {
                  await tx.certificates.insert(r);
                  await tx.audit.append(auditEvent({ serial: r.serial }));
                }),
          ),
        );
        assert.deepEqual((await serialsOf()).sort(), records.map((r) => r.serial).sort());
        assert.equal((await store.audit.list({ limit: 1000 })).length, 20);
      });

      test('concurrent transactions: one that throws leaves nothing, the others stay, and one token has one winner', async () => {
        // Started together, so a backend that commits waiting transactions as a group (SQLite)
        // runs them in one group: each must still commit or roll back on its own.
        const records = Array.from({ length: 6 }, () => certificate());
        const outcomes = await Promise.allSettled(
          records.map((r, i) =>
            store.transaction(async (tx) => {
              await tx.certificates.insert(r);
              await tx.audit.append(auditEvent({ serial: r.serial }));
              if (i === 2) throw new SignetError('ERR_FORBIDDEN_NAMES', 'refused by the callback');
              if (!(await tx.tokens.consume({ provisioner: 'p', jti: 'shared', expiresAt: at(1) }))) throw new SignetError('ERR_TOKEN_REPLAYED', 'replayed');
              return r.serial;
            }),
          ),
        );
        const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        const codes = outcomes.flatMap((o) => (o.status === 'rejected' && isSignetError(o.reason) ? [o.reason.code] : [])).sort();
        assert.equal(won.length, 1);
        assert.deepEqual(codes, ['ERR_FORBIDDEN_NAMES', 'ERR_TOKEN_REPLAYED', 'ERR_TOKEN_REPLAYED', 'ERR_TOKEN_REPLAYED', 'ERR_TOKEN_REPLAYED']);
        assert.deepEqual(await serialsOf(), won);
        assert.deepEqual(
          (await store.audit.list()).map((e) => e.serial),
          won,
        );
        assert.equal(await store.tokens.consume({ provisioner: 'p', jti: 'shared', expiresAt: at(1) }), false);
      });
    });

    describe('recordIssuance', () => {
      const tokenUse = (jti: string) => ({ provisioner: 'admin', jti, expiresAt: at(3600_000) });
      const issuance = (jti: string, c = certificate()) => ({ token: tokenUse(jti), certificate: c, event: auditEvent({ serial: c.serial, detail: { names: ['dns:svc.example.com'] } }) });

      test('records the token, the certificate with its names and the event together; a used token writes nothing', async () => {
        const first = issuance('jti-1');
        assert.equal(await store.recordIssuance(first), 'recorded');
        assert.deepEqual(await store.certificates.get(first.certificate.serial), first.certificate);
        const events = await store.audit.list();
        assert.equal(events.length, 1);
        assert.equal(events[0]?.serial, first.certificate.serial);
        assert.deepEqual(events[0]?.detail, { names: ['dns:svc.example.com'] });
        assert.equal(await store.tokens.consume(tokenUse('jti-1')), false, 'the token is used');

        const replay = issuance('jti-1');
        assert.equal(await store.recordIssuance(replay), 'token-used');
        assert.equal(await store.certificates.get(replay.certificate.serial), undefined);
        assert.equal((await store.audit.list()).length, 1);
      });

      test('a duplicate serial is ERR_STORE_DUPLICATE_SERIAL and writes nothing, not even the token; a bad record writes nothing either', async () => {
        const c = certificate();
        assert.equal(await store.recordIssuance(issuance('a', c)), 'recorded');
        await rejectsWith(store.recordIssuance(issuance('b', certificate({ serial: c.serial }))), 'ERR_STORE_DUPLICATE_SERIAL');
        assert.equal(await store.tokens.consume(tokenUse('b')), true, 'token b was not consumed by the failed issuance');
        await rejectsWith(store.recordIssuance(issuance('c', certificate({ serial: 'ABCD' }))), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.recordIssuance({ ...issuance('d'), event: auditEvent({ outcome: 'maybe' as 'success' }) }), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await store.tokens.consume(tokenUse('c')), true);
        assert.equal(await store.tokens.consume(tokenUse('d')), true);
        assert.equal((await store.certificates.list()).items.length, 1);
        assert.equal((await store.audit.list()).length, 1);
      });

      test('concurrent issuances, one of them with a serial already recorded: only that one fails, the others are recorded with their names and events', async () => {
        const taken = certificate();
        assert.equal(await store.recordIssuance(issuance('taken', taken)), 'recorded');
        const batch = Array.from({ length: 8 }, (_, i) => issuance(`batch-${i}`, i === 3 ? certificate({ serial: taken.serial }) : certificate()));
        const outcomes = await Promise.allSettled(batch.map((b) => store.recordIssuance(b)));
        outcomes.forEach((o, i) => {
          if (i === 3) assert.ok(o.status === 'rejected' && isSignetError(o.reason, 'ERR_STORE_DUPLICATE_SERIAL'), String(o.status === 'rejected' ? o.reason : o.value));
          else assert.deepEqual(o, { status: 'fulfilled', value: 'recorded' });
        });
        for (const [i, b] of batch.entries()) if (i !== 3) assert.deepEqual(await store.certificates.get(b.certificate.serial), b.certificate);
        assert.equal((await store.audit.list()).length, 8);
        assert.equal(await store.tokens.consume(tokenUse('batch-3')), true, 'the failed one did not use its token');
      });

      test('concurrent issuances of every shape are recorded exactly as given (no names, many names, quotes, backslashes, non-ASCII, every byte value, revoked, replaced)', async () => {
        const everyByte = new Uint8Array(Array.from({ length: 512 }, (_, i) => i % 256));
        const odd = 'O\'Brien "quoted" back\\slash, ünïcødé ☃ 𝔘';
        const many = Array.from({ length: 20 }, (_, i) => ({ type: 'dns' as const, value: `n${i}.svc.example.com` }));
        const shapes = [
          certificate({ names: [] }),
          certificate({ names: [...many, { type: 'email', value: 'ops@example.com' }, { type: 'ip', value: '2001:db8::1' }, { type: 'uri', value: 'spiffe://example.org/ns/a b' }] }),
          certificate({ subject: `CN=${odd}`, requester: odd, names: [{ type: 'cn', value: odd }], der: everyByte }),
          certificate({ status: 'revoked', revokedAt: at(120_000), revocationReason: 'keyCompromise', replacedBy: newSerial(), replaces: newSerial(), issuerSerial: 'abcdef01' }),
        ];
        const batch = shapes.map((c, i) => ({ token: tokenUse(`shape-${i}`), certificate: c, event: auditEvent({ serial: c.serial, reason: i === 3 ? odd : undefined, detail: { names: [odd], i } }) }));
        const outcomes = await Promise.all(batch.map((b) => store.recordIssuance(b)));
        assert.deepEqual(outcomes, batch.map(() => 'recorded'));
        for (const b of batch) assert.deepEqual(await store.certificates.get(b.certificate.serial), b.certificate);
        const events = await store.audit.list();
        for (const b of batch) {
          const e = events.find((x) => x.serial === b.certificate.serial);
          assert.deepEqual(e?.detail, b.event.detail);
          assert.equal(e?.reason, b.event.reason);
        }
        assert.deepEqual((await store.certificates.list({ name: odd })).items.map((c) => c.serial), [shapes[2]?.serial]);
      });

      test('one token, ten concurrent issuances: exactly one recorded', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, () => store.recordIssuance(issuance('shared'))));
        assert.equal(results.filter((r) => r === 'recorded').length, 1);
        assert.equal((await store.certificates.list()).items.length, 1);
        assert.equal((await store.audit.list()).length, 1);
      });
    });

    describe('acme', () => {
      let seq = 0;
      const id = (prefix: string): string => `${prefix}${++seq}_${Math.random().toString(36).slice(2, 10)}`;
      const account = (over: Partial<AcmeAccount> = {}): AcmeAccount => ({
        id: id('acct'),
        provisioner: 'acme',
        keyThumbprint: id('thumb'),
        jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
        status: 'valid',
        contact: ['mailto:ops@example.com'],
        termsAgreed: true,
        createdAt: at(1000),
        ...over,
      });
      const authorization = (accountId: string, value: string, over: Partial<AcmeAuthorization> = {}): AcmeAuthorization => {
        const authzId = id('authz');
        return {
          id: authzId,
          accountId,
          identifier: { type: 'dns', value },
          wildcard: false,
          status: 'pending',
          expiresAt: at(100_000),
          createdAt: at(1000),
          challenges: ['http-01', 'dns-01'].map((type) => ({ id: id('ch'), authorizationId: authzId, type, token: id('tok'), status: 'pending' as const, updatedAt: at(1000) })),
          ...over,
        };
      };
      const order = (accountId: string, authzs: readonly AcmeAuthorization[], over: Partial<AcmeOrder> = {}): AcmeOrder => ({
        id: id('order'),
        accountId,
        status: 'pending',
        identifiers: authzs.map((a) => a.identifier),
        authorizations: authzs.map((a) => a.id),
        expiresAt: at(100_000),
        createdAt: at(1000),
        ...over,
      });

      test('accounts: one per key and provisioner (concurrent registrations of one key get one account), found by id and key, updated while valid', async () => {
        const a = account({ eabKeyId: 'eab_1' });
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acme.createAccount(i === 0 ? a : { ...a, id: id('acct') })));
        assert.equal(results.filter((r) => r.created).length, 1);
        const winner = results.find((r) => r.created)?.account as AcmeAccount;
        for (const r of results) assert.equal(r.account.id, winner.id);
        assert.deepEqual(await store.acme.getAccount(winner.id), winner);
        assert.deepEqual(await store.acme.findAccountByKey('acme', a.keyThumbprint), winner);
        assert.equal(await store.acme.findAccountByKey('other', a.keyThumbprint), undefined, 'accounts are per provisioner');
        assert.equal((await store.acme.createAccount({ ...a, id: id('acct'), provisioner: 'other' })).created, true);
        assert.equal(await store.acme.getAccount('no such/id'), undefined, 'a malformed id matches nothing');
        const b = (await store.acme.createAccount(account())).account;
        assert.deepEqual(await store.acme.updateAccount(b.id, { jwk: a.jwk, keyThumbprint: a.keyThumbprint }), { result: 'key-in-use' });
        const moved = await store.acme.updateAccount(b.id, { contact: [], jwk: { kty: 'OKP', crv: 'Ed25519', x: 'z' }, keyThumbprint: 'new-thumb' });
        assert.equal(moved.result, 'updated');
        assert.deepEqual(await store.acme.findAccountByKey('acme', 'new-thumb'), { ...b, contact: [], jwk: { kty: 'OKP', crv: 'Ed25519', x: 'z' }, keyThumbprint: 'new-thumb' });
        assert.equal((await store.acme.updateAccount(b.id, { status: 'deactivated' })).result, 'updated');
        assert.deepEqual(await store.acme.updateAccount(b.id, { contact: ['mailto:x@example.com'] }), { result: 'not-valid' });
        assert.deepEqual(await store.acme.updateAccount('nobody', { status: 'deactivated' }), { result: 'not-found' });
      });

      test('orders and authorizations: created together, read back exactly, listed a page at a time; reuse finds only valid, unexpired, same-kind authorizations', async () => {
        const acct = (await store.acme.createAccount(account())).account;
        const a1 = authorization(acct.id, 'a.example.com');
        const a2 = authorization(acct.id, 'example.com', { wildcard: true });
        const o = order(acct.id, [a1, a2], { notBefore: at(2000), notAfter: at(90_000), replaces: 'ab12' });
        await store.acme.createOrder(o, [a1, a2]);
        assert.deepEqual(await store.acme.getOrder(o.id), o);
        assert.deepEqual(await store.acme.getAuthorizations([a2.id, 'missing', a1.id]), [a2, a1].map((a) => ({ ...a, challenges: [...a.challenges].sort((x, y) => x.type.localeCompare(y.type)) })));
        // A second order reuses a1: only the order row is new.
        const o2 = order(acct.id, [a1], { createdAt: at(1500) });
        await store.acme.createOrder(o2, []);
        const o3 = order(acct.id, [a1], { createdAt: at(1500) });
        await store.acme.createOrder(o3, []);
        const page1 = await store.acme.listOrders(acct.id, { limit: 2 });
        assert.equal(page1.items.length, 2);
        const page2 = await store.acme.listOrders(acct.id, { limit: 2, ...(page1.nextCursor !== undefined && { cursor: page1.nextCursor }) });
        assert.deepEqual([...page1.items, ...page2.items].map((x) => x.id), [o, ...[o2, o3].sort((x, y) => (x.id < y.id ? -1 : 1))].map((x) => x.id));
        assert.equal(page2.nextCursor, undefined);
        await rejectsWith(store.acme.listOrders(acct.id, { cursor: 'bogus!' }), 'ERR_STORE_BAD_QUERY');

        assert.equal(await store.acme.findValidAuthorization(acct.id, a1.identifier, false, at(5000)), undefined, 'pending is not reusable');
        assert.equal(await store.acme.updateAuthorization(a1.id, 'pending', 'valid'), true);
        assert.equal(await store.acme.updateAuthorization(a1.id, 'pending', 'invalid'), false, 'compare-and-set: no longer pending');
        assert.equal((await store.acme.findValidAuthorization(acct.id, a1.identifier, false, at(5000)))?.id, a1.id);
        assert.equal(await store.acme.findValidAuthorization(acct.id, a1.identifier, true, at(5000)), undefined, 'not for a wildcard');
        assert.equal(await store.acme.findValidAuthorization(acct.id, a1.identifier, false, at(100_000)), undefined, 'not once expired');
        assert.equal(await store.acme.findValidAuthorization('other', a1.identifier, false, at(5000)), undefined, 'not for another account');
      });

      test('state changes are compare-and-set: of concurrent movers exactly one wins', async () => {
        const acct = (await store.acme.createAccount(account())).account;
        const a = authorization(acct.id, 'race.example.com');
        const o = order(acct.id, [a]);
        await store.acme.createOrder(o, [a]);
        const finalizers = await Promise.all(Array.from({ length: 10 }, () => store.acme.updateOrder(o.id, 'pending', { status: 'processing' })));
        assert.equal(finalizers.filter(Boolean).length, 1);
        assert.equal(await store.acme.updateOrder(o.id, 'processing', { status: 'valid', certificateSerial: 'abcd' }), true);
        assert.deepEqual(await store.acme.getOrder(o.id), { ...o, status: 'valid', certificateSerial: 'abcd' });
        const ch = a.challenges[0] as AcmeChallenge;
        const movers = await Promise.all(Array.from({ length: 10 }, () => store.acme.updateChallenge(ch.id, 'pending', { status: 'processing', at: at(2000) })));
        assert.equal(movers.filter(Boolean).length, 1);
        assert.deepEqual(await store.acme.staleChallenges(at(3000), 10), [{ ...ch, status: 'processing', updatedAt: at(2000) }]);
        assert.deepEqual(await store.acme.staleChallenges(at(2000), 10), []);
        const problem = { type: 'urn:ietf:params:acme:error:connection', detail: 'refused', status: 400 };
        assert.equal(await store.acme.updateChallenge(ch.id, 'processing', { status: 'invalid', at: at(2500), error: problem }), true);
        assert.deepEqual(await store.acme.getChallenge(ch.id), { ...ch, status: 'invalid', updatedAt: at(2500), error: problem });
        // In a transaction, a failure rolls the moves back.
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.acme.updateAuthorization(a.id, 'pending', 'invalid');
            throw new SignetError('ERR_INTERNAL', 'roll back');
          }),
        );
        assert.equal((await store.acme.getAuthorization(a.id))?.status, 'pending');
      });

      test('EAB keys: added, listed, bound once (concurrent binders: one wins), removed; settings: the first writer wins', async () => {
        const key = { keyId: id('eab'), provisioner: 'acme', reference: 'team-a', hmacKey: new Uint8Array(32).fill(7), createdAt: at(1) };
        await store.acme.addEabKey(key);
        await store.acme.addEabKey({ keyId: id('eab'), provisioner: 'other', hmacKey: new Uint8Array(16).fill(1), createdAt: at(2) });
        assert.deepEqual(await store.acme.getEabKey(key.keyId), key);
        assert.deepEqual((await store.acme.listEabKeys('acme')).map((k) => k.keyId), [key.keyId]);
        assert.equal((await store.acme.listEabKeys()).length, 2);
        const binders = await Promise.all(Array.from({ length: 6 }, (_, i) => store.acme.bindEabKey(key.keyId, `acct_${i}`, at(5))));
        assert.equal(binders.filter(Boolean).length, 1);
        assert.equal((await store.acme.getEabKey(key.keyId))?.boundAt?.getTime(), at(5).getTime());
        assert.equal(await store.acme.removeEabKey(key.keyId), true);
        assert.equal(await store.acme.removeEabKey(key.keyId), false);
        await rejectsWith(store.acme.addEabKey({ ...key, keyId: id('eab'), hmacKey: new Uint8Array(4) }), 'ERR_STORE_INVALID_RECORD');
        const values = await Promise.all(['a', 'b', 'c', 'd'].map((v) => store.acme.setting('nonce-key', v)));
        assert.equal(new Set(values).size, 1);
        assert.equal(await store.acme.setting('nonce-key', 'z'), values[0]);
      });

      test('purgeExpired deletes orders and authorizations (with their challenges) that expired before the cutoff, a bounded batch at a time', async () => {
        const acct = (await store.acme.createAccount(account())).account;
        const old = [0, 1, 2].map((i) => authorization(acct.id, `old${i}.example.com`, { expiresAt: at(5000 + i) }));
        const keep = authorization(acct.id, 'keep.example.com', { expiresAt: at(50_000) });
        const oldOrders = old.map((a, i) => order(acct.id, [a], { expiresAt: at(5000 + i) }));
        for (const [i, o] of oldOrders.entries()) await store.acme.createOrder(o, [old[i] as AcmeAuthorization]);
        const kept = order(acct.id, [keep], { expiresAt: at(50_000) });
        await store.acme.createOrder(kept, [keep]);
        assert.equal(await store.acme.purgeExpired(at(6000), 2), 4, 'two orders and two authorizations: the batch limit');
        assert.equal(await store.acme.purgeExpired(at(6000), 100), 2);
        assert.equal(await store.acme.purgeExpired(at(6000), 100), 0);
        for (const o of oldOrders) assert.equal(await store.acme.getOrder(o.id), undefined);
        for (const a of old) {
          assert.equal(await store.acme.getAuthorization(a.id), undefined);
          for (const c of a.challenges) assert.equal(await store.acme.getChallenge(c.id), undefined);
        }
        assert.deepEqual(await store.acme.getOrder(kept.id), kept);
        assert.equal((await store.acme.getAuthorization(keep.id))?.challenges.length, 2);
      });

      test('bad arguments are ERR_STORE_INVALID_RECORD and write nothing', async () => {
        await rejectsWith(store.acme.createAccount(account({ id: 'bad id' })), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.acme.createAccount(account({ status: 'gone' as never })), 'ERR_STORE_INVALID_RECORD');
        const acct = (await store.acme.createAccount(account())).account;
        const a = authorization(acct.id, 'x.example.com');
        await rejectsWith(store.acme.createOrder(order(acct.id, [a], { identifiers: [{ type: 'email' as never, value: 'x' }] }), [a]), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await store.acme.getAuthorization(a.id), undefined, 'the authorization of a refused order was not written');
        await rejectsWith(store.acme.updateOrder('x', 'pending', { status: 'done' as never }), 'ERR_STORE_INVALID_RECORD');
      });
    });

    describe('coordination', () => {
      const T = at(0);
      const later = (ms: number) => new Date(T.getTime() + ms);

      test('a lease: taken when free, refused to others while it runs, renewed by its holder, taken over once expired, given up by its holder only', async () => {
        const c = store.coordination;
        assert.equal(await c.acquireLease('purge', 'a', T, 60_000), true);
        assert.equal(await c.acquireLease('purge', 'b', later(59_999), 60_000), false);
        assert.equal(await c.acquireLease('purge', 'a', later(30_000), 60_000), true, 'the holder renews it');
        assert.equal(await c.acquireLease('purge', 'b', later(60_000), 60_000), false, 'the renewal moved the expiry');
        assert.equal(await c.acquireLease('purge', 'b', later(90_000), 60_000), true, 'expired: taken over');
        assert.equal(await c.acquireLease('purge', 'a', later(90_001), 60_000), false);
        assert.equal(await c.acquireLease('other', 'a', later(90_001), 60_000), true, 'leases are independent');
        await c.releaseLease('purge', 'a');
        assert.equal(await c.acquireLease('purge', 'a', later(90_002), 60_000), false, 'only the holder can give it up');
        await c.releaseLease('purge', 'b');
        assert.equal(await c.acquireLease('purge', 'a', later(90_003), 60_000), true, 'given up: free again');
      });

      test('concurrent takers of a free lease: exactly one gets it', async () => {
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.coordination.acquireLease('race', `holder-${i}`, T, 60_000)));
        assert.equal(results.filter(Boolean).length, 1);
      });

      test('counters count from 1, per name, without gaps or repeats under concurrency; a counter value commits or rolls back with its transaction', async () => {
        const c = store.coordination;
        assert.deepEqual([await c.nextCounterValue('crl'), await c.nextCounterValue('crl'), await c.nextCounterValue('other')], [1n, 2n, 1n]);
        const many = await Promise.all(Array.from({ length: 40 }, () => c.nextCounterValue('crl')));
        assert.deepEqual(
          [...many].sort((x, y) => (x < y ? -1 : 1)),
          Array.from({ length: 40 }, (_, i) => BigInt(i + 3)),
        );
        await assert.rejects(
          store.transaction(async (tx) => {
            assert.equal(await tx.coordination.nextCounterValue('crl'), 43n);
            throw new Error('abandon');
          }),
          /abandon/,
        );
        assert.equal(await c.nextCounterValue('crl'), 43n, 'the rolled-back value is handed out again');
      });

      test('bad arguments are ERR_STORE_INVALID_RECORD', async () => {
        await rejectsWith(store.coordination.acquireLease('', 'a', T, 1000), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.coordination.acquireLease('x', 'a', T, 0), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.coordination.nextCounterValue('x'.repeat(300)), 'ERR_STORE_INVALID_RECORD');
      });
    });

    describe('spiffe', () => {
      const T = at(0);
      const later = (ms: number) => new Date(T.getTime() + ms);
      const key = (kid: string, activates: number, expires: number, td = 'example.org') => ({
        kid,
        trustDomain: td,
        publicJwk: `{"kty":"EC","kid":"${kid}"}`,
        privateKey: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n',
        createdAt: T,
        activatesAt: later(activates),
        expiresAt: later(expires),
      });
      const digest = (c: string) => c.repeat(64);

      test('JWT keys: listed while they live, by activation time, per trust domain; pruned once expired; a key ID is used once', async () => {
        const s = store.spiffe;
        await s.addJwtKey(key('k2', 50_000, 150_000));
        await s.addJwtKey(key('k1', 0, 100_000));
        await s.addJwtKey(key('other', 0, 100_000, 'other.org'));
        assert.deepEqual((await s.jwtKeys('example.org', T)).map((k) => k.kid), ['k1', 'k2']);
        const [k1] = await s.jwtKeys('example.org', T);
        assert.deepEqual(k1, key('k1', 0, 100_000));
        assert.deepEqual((await s.jwtKeys('example.org', later(100_000))).map((k) => k.kid), ['k2'], 'expired at its expiry');
        assert.equal(await s.pruneJwtKeys('example.org', later(99_999)), 0);
        assert.equal(await s.pruneJwtKeys('example.org', later(100_000)), 1);
        assert.deepEqual((await s.jwtKeys('other.org', T)).map((k) => k.kid), ['other'], 'another trust domain is untouched');
        await rejectsWith(s.addJwtKey(key('k2', 0, 1000)), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.addJwtKey(key('bad kid', 0, 1000)), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.addJwtKey(key('k3', 1000, 1000)), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.addJwtKey(key('k4', 0, 1000, 'Upper.org')), 'ERR_STORE_INVALID_RECORD');
      });

      test('own bundle: published with sequence 1, again only when its digest changes (sequence + 1), once under concurrency', async () => {
        const s = store.spiffe;
        const render = (seq: bigint) => `{"keys":[],"spiffe_sequence":${seq}}`;
        const first = await s.publishOwnBundle('example.org', digest('a'), render, T);
        assert.equal(first.changed, true);
        assert.equal(first.bundle.sequence, 1n);
        assert.equal(first.bundle.document, '{"keys":[],"spiffe_sequence":1}');
        const same = await s.publishOwnBundle('example.org', digest('a'), render, later(1));
        assert.deepEqual([same.changed, same.bundle.sequence], [false, 1n]);
        const racing = await Promise.all(Array.from({ length: 8 }, () => s.publishOwnBundle('example.org', digest('b'), render, later(2))));
        assert.equal(racing.filter((r) => r.changed).length, 1, 'one of the concurrent publications changes it');
        const stored = await s.getBundle('example.org');
        assert.deepEqual([stored?.kind, stored?.sequence, stored?.digest, stored?.document], ['own', 2n, digest('b'), render(2n)]);
        await rejectsWith(s.publishOwnBundle('example.org', 'nothex', render, T), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await s.getBundle('nowhere.org'), undefined);
      });

      test('federation: added once, due by next refresh, fetched bundle stored with the success, failures recorded, removal takes the bundle with it', async () => {
        const s = store.spiffe;
        const rel = { trustDomain: 'partner.org', url: 'https://partner.example/bundle', profile: 'https_web' as const, createdAt: T, nextRefreshAt: T };
        assert.equal(await s.addFederation(rel), 'added');
        assert.equal(await s.addFederation(rel), 'exists');
        await s.addFederation({ trustDomain: 'spiffe.org', url: 'https://spiffe.example/b', profile: 'https_spiffe', endpointSpiffeId: 'spiffe://spiffe.org/server', createdAt: T, nextRefreshAt: later(60_000) });
        await rejectsWith(s.addFederation({ trustDomain: 'x.org', url: 'https://x', profile: 'https_spiffe', createdAt: T, nextRefreshAt: T }), 'ERR_STORE_INVALID_RECORD');
        assert.deepEqual((await s.dueFederations(T, 10)).map((f) => f.trustDomain), ['partner.org']);
        assert.deepEqual((await s.dueFederations(later(60_000), 10)).map((f) => f.trustDomain), ['partner.org', 'spiffe.org']);
        await s.recordFederationFailure('partner.org', 'ERR_BUNDLE_FETCH: refused', later(30_000));
        assert.equal((await s.getFederation('partner.org'))?.lastError, 'ERR_BUNDLE_FETCH: refused');
        await s.saveFederatedBundle({ trustDomain: 'partner.org', kind: 'federated', document: '{"keys":[]}', digest: digest('c'), sequence: 7n, updatedAt: later(40_000) }, later(340_000));
        const f = await s.getFederation('partner.org');
        assert.deepEqual([f?.lastError, f?.lastSuccessAt, f?.nextRefreshAt], [undefined, later(40_000), later(340_000)]);
        assert.deepEqual((await s.listBundles('federated')).map((b) => [b.trustDomain, b.sequence]), [['partner.org', 7n]]);
        await rejectsWith(s.saveFederatedBundle({ trustDomain: 'stranger.org', kind: 'federated', document: '{}', digest: digest('d'), sequence: 1n, updatedAt: T }, T), 'ERR_FEDERATION_NOT_FOUND');
        await s.publishOwnBundle('mine.org', digest('e'), () => '{"keys":[]}', T);
        await s.addFederation({ ...rel, trustDomain: 'mine.org' });
        await rejectsWith(s.saveFederatedBundle({ trustDomain: 'mine.org', kind: 'federated', document: '{}', digest: digest('d'), sequence: 1n, updatedAt: T }, T), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await s.removeFederation('partner.org'), true);
        assert.equal(await s.removeFederation('partner.org'), false);
        assert.equal(await s.getBundle('partner.org'), undefined, 'the fetched bundle went with the relationship');
        assert.equal((await s.getBundle('mine.org'))?.kind, 'own');
        assert.deepEqual((await s.listFederations()).map((x) => x.trustDomain), ['mine.org', 'spiffe.org']);
      });

      test('bundle changes move the entry revision (agents waiting for changes wake), repeats do not; no entry carries those revisions', async () => {
        const s = store.spiffe;
        const moved = async (what: string, change: () => Promise<unknown>, expected: boolean): Promise<void> => {
          const before = await s.entryRevision();
          await change();
          assert.equal((await s.entryRevision()) > before, expected, what);
        };
        const bundle = (d: string, sequence: bigint) => ({ trustDomain: 'partner.org', kind: 'federated' as const, document: `{"keys":[],"spiffe_sequence":${sequence}}`, digest: digest(d), sequence, updatedAt: T });
        await s.addFederation({ trustDomain: 'partner.org', url: 'https://partner.example/bundle', profile: 'https_web', createdAt: T, nextRefreshAt: T });
        await moved('own bundle published', () => s.publishOwnBundle('example.org', digest('a'), () => '{"keys":[]}', T), true);
        await moved('own bundle unchanged', () => s.publishOwnBundle('example.org', digest('a'), () => '{"keys":[]}', later(1)), false);
        await moved('federated bundle fetched', () => s.saveFederatedBundle(bundle('b', 1n), later(60_000)), true);
        await moved('the same federated bundle again', () => s.saveFederatedBundle(bundle('b', 1n), later(120_000)), false);
        await moved('a new federated bundle', () => s.saveFederatedBundle(bundle('c', 2n), later(180_000)), true);
        await moved('federation removed with its bundle', () => s.removeFederation('partner.org'), true);
        await moved('nothing left to remove', () => s.removeFederation('partner.org'), false);
        assert.deepEqual(await s.entriesSince(0n, 10), [], 'no entry changed');
      });

      const entry = (id: string, o: Partial<Record<string, unknown>> = {}) => ({
        id,
        spiffeId: 'spiffe://example.org/web',
        parentId: 'spiffe://example.org/signet/agent/join_token/abc',
        selectors: ['unix:uid:1000'],
        dnsNames: [],
        admin: false,
        downstream: false,
        federatesWith: [],
        ...o,
      }) as Parameters<Store['spiffe']['createEntry']>[0];

      test('entries: created with a revision, unique by SPIFFE ID + parent + selectors, found by SPIFFE ID, parent and selector, paged by ID', async () => {
        const s = store.spiffe;
        const a = await s.createEntry(entry('a', { selectors: ['unix:gid:50', 'unix:uid:1000'], x509TtlMs: 3_600_000, hint: 'web', dnsNames: ['web.example.org'], federatesWith: ['partner.org'], admin: true }), T);
        assert.equal(a.revision, 1n);
        assert.deepEqual(await s.getEntry('a'), a);
        assert.deepEqual([a.x509TtlMs, a.jwtTtlMs, a.admin, a.downstream, a.hint, a.deletedAt], [3_600_000, undefined, true, false, 'web', undefined]);
        await rejectsWith(s.createEntry(entry('b', { selectors: ['unix:gid:50', 'unix:uid:1000'] }), T), 'ERR_ENTRY_EXISTS');
        await rejectsWith(s.createEntry(entry('a', { spiffeId: 'spiffe://example.org/other' }), T), 'ERR_ENTRY_EXISTS');
        const b = await s.createEntry(entry('b'), T);
        assert.equal(b.revision, 2n, 'a refused creation rolls its revision back');
        await s.createEntry(entry('c', { spiffeId: 'spiffe://example.org/db', parentId: 'spiffe://example.org/signet/server', selectors: ['join_token:abc'] }), T);
        assert.deepEqual((await s.listEntries({ spiffeId: 'spiffe://example.org/web' })).items.map((e) => e.id), ['a', 'b']);
        assert.deepEqual((await s.listEntries({ parentId: 'spiffe://example.org/signet/server' })).items.map((e) => e.id), ['c']);
        assert.deepEqual((await s.listEntries({ selector: 'unix:uid:1000' })).items.map((e) => e.id), ['a', 'b']);
        assert.deepEqual((await s.listEntries({ selector: 'unix:gid:50', spiffeId: 'spiffe://example.org/web' })).items.map((e) => e.id), ['a']);
        const p1 = await s.listEntries({}, { limit: 2 });
        assert.deepEqual(p1.items.map((e) => e.id), ['a', 'b']);
        const p2 = await s.listEntries({}, { limit: 2, ...(p1.nextCursor !== undefined ? { cursor: p1.nextCursor } : {}) });
        assert.deepEqual([p2.items.map((e) => e.id), p2.nextCursor], [['c'], undefined]);
        await rejectsWith(s.createEntry(entry('d', { selectors: [] }), T), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.createEntry(entry('d', { selectors: ['b:1', 'a:1'] }), T), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.createEntry(entry('bad id'), T), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.listEntries({}, { cursor: 'no such cursor!' }), 'ERR_STORE_BAD_QUERY');
      });

      test('entries: updated with a new revision (optimistically, by revision), deleted as tombstones, followed by revision, tombstones purged', async () => {
        const s = store.spiffe;
        const a = await s.createEntry(entry('a'), T);
        await s.createEntry(entry('b', { selectors: ['unix:uid:2000'] }), T);
        const updated = await s.updateEntry(entry('a', { selectors: ['unix:uid:1001'], jwtTtlMs: 300_000 }), later(1), a.revision);
        assert.ok(updated);
        assert.deepEqual([updated.revision, updated.selectors, updated.jwtTtlMs, updated.createdAt, updated.updatedAt], [3n, ['unix:uid:1001'], 300_000, T, later(1)]);
        assert.deepEqual((await s.listEntries({ selector: 'unix:uid:1000' })).items, [], 'the old selector no longer finds it');
        await rejectsWith(s.updateEntry(entry('a'), later(2), a.revision), 'ERR_ENTRY_CONFLICT');
        await rejectsWith(s.updateEntry(entry('a', { selectors: ['unix:uid:2000'] }), later(2)), 'ERR_ENTRY_EXISTS');
        assert.equal(await s.updateEntry(entry('zz'), later(2)), undefined);
        const gone = await s.deleteEntry('b', later(3));
        assert.deepEqual([gone?.revision, gone?.deletedAt], [4n, later(3)]);
        assert.equal(await s.deleteEntry('b', later(3)), undefined);
        assert.equal(await s.getEntry('b'), undefined);
        assert.deepEqual((await s.listEntries({})).items.map((e) => e.id), ['a']);
        await s.createEntry(entry('b2', { selectors: ['unix:uid:2000'] }), later(4));
        assert.deepEqual((await s.entriesSince(2n, 10)).map((e) => [e.id, e.revision, e.deletedAt !== undefined]), [['a', 3n, false], ['b', 4n, true], ['b2', 5n, false]]);
        assert.equal(await s.entryRevision(), 5n);
        assert.equal(await s.purgeDeletedEntries(later(3), 10), 0);
        assert.equal(await s.purgeDeletedEntries(later(4), 10), 1);
        assert.deepEqual((await s.entriesSince(0n, 10)).map((e) => e.id), ['a', 'b2']);
      });

      test('join tokens: used once, only with the right secret, before they expire, by an agent of their trust domain; concurrent uses: exactly one', async () => {
        const s = store.spiffe;
        const hash = (c: string) => c.repeat(64);
        await s.addJoinToken({ id: 't1', secretHash: hash('a'), createdAt: T, expiresAt: later(60_000), trustDomain: 'a.example' });
        await s.addJoinToken({ id: 't2', secretHash: hash('b'), createdAt: T, expiresAt: later(60_000), trustDomain: 'a.example' });
        // Made before migration 15: no trust domain, any one may use it.
        await s.addJoinToken({ id: 't3', secretHash: hash('c'), createdAt: T, expiresAt: later(60_000) });
        await rejectsWith(s.addJoinToken({ id: 't1', secretHash: hash('c'), createdAt: T, expiresAt: later(1) }), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await s.useJoinToken('t1', hash('b'), later(1), 'agent-x', 'a.example'), 'unknown', 'the wrong secret');
        assert.equal(await s.useJoinToken('nope', hash('a'), later(1), 'agent-x', 'a.example'), 'unknown');
        assert.equal(await s.useJoinToken('t1', hash('a'), later(1), 'agent-x', 'b.example'), 'wrong-trust-domain');
        assert.equal(await s.useJoinToken('t1', hash('a'), later(60_000), 'agent-x', 'a.example'), 'expired');
        assert.equal(await s.useJoinToken('t1', hash('a'), later(60_000), 'agent-x', 'b.example'), 'expired', 'expired first');
        const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => s.useJoinToken('t2', hash('b'), later(1), `agent-${i}`, 'a.example')));
        assert.equal(racing.filter((r) => r === 'used').length, 1);
        assert.ok(racing.every((r) => r === 'used' || r === 'already-used'));
        assert.equal(await s.useJoinToken('t2', hash('b'), later(1), 'agent-y', 'b.example'), 'already-used');
        assert.equal(await s.useJoinToken('t3', hash('c'), later(1), 'agent-z', 'b.example'), 'used');
        const listed = await s.listJoinTokens();
        const t2 = listed.find((t) => t.id === 't2');
        assert.ok(t2?.usedAt !== undefined && t2.usedBy?.startsWith('agent-'));
        assert.deepEqual(listed.map((t) => [t.id, t.trustDomain]), [['t1', 'a.example'], ['t2', 'a.example'], ['t3', undefined]]);
        assert.equal(await s.purgeJoinTokens(later(60_000), 10), 0, 'not before they expired');
        assert.equal(await s.purgeJoinTokens(later(60_001), 10), 3, 'used or not');
        assert.deepEqual(await s.listJoinTokens(), []);
      });

      test('TPM challenges: taken once (racing takers: exactly one), expired ones refused and purged', async () => {
        const s = store.spiffe;
        const hash = (c: string) => c.repeat(64);
        await s.addTpmChallenge({ id: 'c1', secretHash: hash('a'), createdAt: T, expiresAt: later(60_000) });
        await s.addTpmChallenge({ id: 'c2', secretHash: hash('b'), createdAt: T, expiresAt: later(60_000) });
        await s.addTpmChallenge({ id: 'c3', secretHash: hash('c'), createdAt: T, expiresAt: later(60_000) });
        await rejectsWith(s.addTpmChallenge({ id: 'c1', secretHash: hash('d'), createdAt: T, expiresAt: later(1) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(s.addTpmChallenge({ id: 'c9', secretHash: 'not-hex', createdAt: T, expiresAt: later(1) }), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await s.takeTpmChallenge('nope', later(1)), 'unknown');
        assert.equal(await s.takeTpmChallenge('bad id!', later(1)), 'unknown');
        const racing = await Promise.all(Array.from({ length: 6 }, () => s.takeTpmChallenge('c1', later(1))));
        assert.deepEqual(racing.filter((r) => r !== 'unknown'), [{ secretHash: hash('a') }]);
        assert.equal(await s.takeTpmChallenge('c2', later(60_000)), 'expired');
        assert.equal(await s.takeTpmChallenge('c2', later(1)), 'unknown', 'an expired challenge is gone too');
        assert.equal(await s.purgeTpmChallenges(later(60_000), 10), 0, 'not before it expired');
        assert.equal(await s.purgeTpmChallenges(later(60_001), 10), 1);
        assert.equal(await s.takeTpmChallenge('c3', later(1)), 'unknown');
      });

      test('agents: attested (again), renewed, banned (no renewal, no attestation), evicted', async () => {
        const s = store.spiffe;
        const a = await s.attestAgent({ spiffeId: 'spiffe://example.org/signet/agent/join_token/t1', attestor: 'join_token', selectors: ['join_token:t1'], serial: '0a', svidExpiresAt: later(3_600_000) }, T);
        assert.deepEqual([a.banned, a.serial, a.selectors], [false, '0a', ['join_token:t1']]);
        assert.equal(await s.renewAgent(a.spiffeId, '0b', later(7_200_000), later(1)), true);
        assert.equal((await s.getAgent(a.spiffeId))?.serial, '0b');
        assert.equal(await s.setAgentBanned(a.spiffeId, true, later(2)), true);
        assert.equal(await s.renewAgent(a.spiffeId, '0c', later(7_200_000), later(3)), false);
        await rejectsWith(s.attestAgent({ spiffeId: a.spiffeId, attestor: 'join_token', selectors: ['join_token:t1'], serial: '0d', svidExpiresAt: later(1) }, later(4)), 'ERR_AGENT_BANNED');
        assert.equal((await s.getAgent(a.spiffeId))?.serial, '0b', 'nothing changed');
        assert.equal(await s.setAgentBanned(a.spiffeId, false, later(5)), true);
        const again = await s.attestAgent({ spiffeId: a.spiffeId, attestor: 'join_token', selectors: ['join_token:t1'], serial: '0e', svidExpiresAt: later(1) }, later(6));
        assert.deepEqual([again.serial, again.createdAt], ['0e', T]);
        assert.deepEqual((await s.listAgents()).map((x) => x.spiffeId), [a.spiffeId]);
        assert.equal(await s.deleteAgent(a.spiffeId), true);
        assert.equal(await s.deleteAgent(a.spiffeId), false);
        assert.equal(await s.setAgentBanned(a.spiffeId, true, later(7)), false);
        assert.equal(await s.getAgent(a.spiffeId), undefined);
      });

      test('entries: concurrent creations get distinct revisions; of concurrent duplicates exactly one is created', async () => {
        const s = store.spiffe;
        const made = await Promise.all(Array.from({ length: 10 }, (_, i) => s.createEntry(entry(`e${i}`, { selectors: [`unix:uid:${i}`] }), T)));
        assert.equal(new Set(made.map((e) => e.revision)).size, 10);
        const dups = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => s.createEntry(entry(`d${i}`, { selectors: ['unix:uid:777'] }), T)));
        assert.equal(dups.filter((d) => d.status === 'fulfilled').length, 1);
        assert.ok(dups.every((d) => d.status === 'fulfilled' || isSignetError(d.reason, 'ERR_ENTRY_EXISTS')));
      });
    });

    describe('revocations', () => {
      const issuer = '0a0b0c';

      test('every revocation takes the next sequence number; revokedSince lists what came after a number; invalidAt is kept', async () => {
        const r = store.revocations;
        assert.equal(await r.sequence(), 0n);
        const certs = [certificate({ issuerSerial: issuer }), certificate({ issuerSerial: issuer }), certificate({ issuerSerial: issuer })];
        for (const c of certs) await store.certificates.insert(c);
        assert.equal(await store.certificates.revoke(certs[0]!.serial, { at: at(10_000), reason: 'keyCompromise', invalidAt: at(5_000) }), 'revoked');
        assert.equal(await r.sequence(), 1n);
        assert.equal(await store.certificates.revoke(certs[1]!.serial, { at: at(11_000) }), 'revoked');
        assert.equal(await r.sequence(), 2n);
        assert.equal((await store.certificates.get(certs[0]!.serial))?.invalidAt?.getTime(), at(5_000).getTime());
        assert.deepEqual(await r.revokedSince(0n, 10), [{ serial: certs[0]!.serial, seq: 1n }, { serial: certs[1]!.serial, seq: 2n }]);
        assert.deepEqual(await r.revokedSince(1n, 10), [{ serial: certs[1]!.serial, seq: 2n }]);
        assert.deepEqual(await r.revokedSince(2n, 10), []);
        // Revoking again changes nothing that readers see.
        assert.equal(await store.certificates.revoke(certs[0]!.serial, { at: at(12_000) }), 'already-revoked');
        assert.deepEqual(await r.revokedSince(2n, 10), []);
        assert.equal(await store.certificates.revoke('0abc', { at: at(12_000) }), 'not-found');
        assert.equal(await r.sequence(), 2n, 'a revocation that changed nothing takes no number (no CRL is due for it)');
        // A revocation rolled back takes its number back with it.
        const seq = await r.sequence();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.certificates.revoke(certs[2]!.serial, { at: at(13_000) });
            throw new Error('abandon');
          }),
          /abandon/,
        );
        assert.equal((await store.certificates.get(certs[2]!.serial))?.status, 'valid');
        assert.ok((await r.revokedSince(seq, 10)).length === 0);
        await rejectsWith(store.certificates.revoke(certs[2]!.serial, { at: at(13_000), invalidAt: at(14_000) }), 'ERR_STORE_INVALID_RECORD');
      });

      test('listRevoked: the issuer\'s unexpired revoked certificates in (notAfter, serial) order, page by page', async () => {
        const mine = Array.from({ length: 7 }, (_, i) => certificate({ issuerSerial: issuer, notAfter: at(100_000 + (i % 3) * 1000) }));
        const other = certificate({ issuerSerial: 'ff01', notAfter: at(100_000) });
        const expired = certificate({ issuerSerial: issuer, notAfter: at(50_000) });
        const valid = certificate({ issuerSerial: issuer, notAfter: at(100_000) });
        for (const c of [...mine, other, expired, valid]) await store.certificates.insert(c);
        for (const c of [...mine, other, expired]) await store.certificates.revoke(c.serial, { at: at(20_000), reason: 'superseded' });
        const expected = [...mine].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime() || (a.serial < b.serial ? -1 : 1)).map((c) => c.serial);
        const walked: string[] = [];
        let after: { notAfter: Date; serial: string } | undefined;
        for (;;) {
          const page = await store.revocations.listRevoked(issuer, 0, at(60_000), after, 3);
          walked.push(...page.map((e) => e.serial));
          if (page.length < 3) break;
          after = page[page.length - 1];
        }
        assert.deepEqual(walked, expected);
        const one = (await store.revocations.listRevoked(issuer, 0, at(60_000), undefined, 1))[0];
        assert.equal(one?.reason, 'superseded');
        assert.equal(one?.revokedAt.getTime(), at(20_000).getTime());
        await rejectsWith(store.revocations.listRevoked(issuer, 0, at(0), undefined, 0), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.revocations.listRevoked('XY', 0, at(0), undefined, 1), 'ERR_STORE_INVALID_RECORD');
      });

      test('CRLs: the latest by number, with or without its DER; only the newest `keep` stay; a number stored twice is refused', async () => {
        const crl = (n: bigint) => ({ issuerSerial: issuer, number: n, thisUpdate: at(Number(n) * 1000), nextUpdate: at(Number(n) * 1000 + 86_400_000), revocationSeq: n * 10n, entries: Number(n), der: Uint8Array.of(0x30, Number(n)), shard: 0 });
        assert.equal(await store.revocations.latestCrl(issuer, 0, true), undefined);
        for (const n of [1n, 2n, 3n, 4n]) await store.revocations.saveCrl(crl(n), 2);
        const latest = await store.revocations.latestCrl(issuer, 0, true);
        assert.deepEqual(latest, crl(4n));
        assert.deepEqual((await store.revocations.latestCrl(issuer, 0, false))?.der, new Uint8Array(0));
        await rejectsWith(store.revocations.saveCrl(crl(4n), 2), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.revocations.saveCrl({ ...crl(5n), der: new Uint8Array(0) }, 2), 'ERR_STORE_INVALID_RECORD');
        assert.equal(await store.revocations.latestCrl('0b', 0, true), undefined, 'per issuer');
      });

      test('CRL partitions: each certificate keeps its partition; listRevoked and revokedInShardSince see one partition; CRLs are kept and read per partition', async () => {
        const inShard = (k: number) => Array.from({ length: 3 }, () => certificate({ issuerSerial: issuer, notAfter: at(100_000), ...(k > 0 && { crlShard: k }) }));
        const [zero, one, two] = [inShard(0), inShard(1), inShard(2)];
        for (const c of [...zero, ...one, ...two]) await store.certificates.insert(c);
        assert.equal((await store.certificates.get(one[0]!.serial))?.crlShard, 1);
        assert.ok(!('crlShard' in ((await store.certificates.get(zero[0]!.serial)) ?? {})), 'partition 0 is left out of the record');
        const before = await store.revocations.sequence();
        await store.certificates.revoke(one[0]!.serial, { at: at(10_000) });
        await store.certificates.revokeMany([two[0]!.serial, two[1]!.serial], { at: at(11_000) });
        const listed = async (k: number) => (await store.revocations.listRevoked(issuer, k, at(0), undefined, 100)).map((e) => e.serial).sort();
        assert.deepEqual(await listed(0), []);
        assert.deepEqual(await listed(1), [one[0]!.serial]);
        assert.deepEqual(await listed(2), [two[0]!.serial, two[1]!.serial].sort());
        assert.equal(await store.revocations.revokedInShardSince(issuer, 0, before), false);
        assert.equal(await store.revocations.revokedInShardSince(issuer, 1, before), true);
        assert.equal(await store.revocations.revokedInShardSince(issuer, 1, before + 1n), false, 'partition 1 was revoked at the first number only');
        assert.equal(await store.revocations.revokedInShardSince(issuer, 2, before + 1n), true);
        const crl = (n: bigint, shard: number) => ({ issuerSerial: issuer, number: n, thisUpdate: at(1000), nextUpdate: at(86_400_000), revocationSeq: 1n, entries: 0, der: Uint8Array.of(0x30, Number(n)), shard });
        for (const [n, k] of [[11n, 0], [12n, 1], [13n, 2], [14n, 1], [15n, 1]] as const) await store.revocations.saveCrl(crl(n, k), 2);
        assert.equal((await store.revocations.latestCrl(issuer, 0, false))?.number, 11n);
        assert.deepEqual(await store.revocations.latestCrl(issuer, 1, true), crl(15n, 1));
        assert.equal((await store.revocations.latestCrl(issuer, 2, false))?.number, 13n);
        assert.equal(await store.revocations.latestCrl(issuer, 3, false), undefined);
        assert.equal(await store.revocations.highestCrlShard(issuer), 2, 'the highest partition with a stored CRL');
        assert.equal(await store.revocations.highestCrlShard('0b'), 0);
        await rejectsWith(store.revocations.highestCrlShard('XY'), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.revocations.saveCrl(crl(13n, 1), 2), 'ERR_STORE_INVALID_RECORD', 'numbers are the issuer\'s, across partitions');
        await rejectsWith(store.revocations.listRevoked(issuer, 65, at(0), undefined, 1), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.insert(certificate({ crlShard: -1 })), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.insert(certificate({ crlShard: 1.5 })), 'ERR_STORE_INVALID_RECORD');
      });

      test('revokeMany: the valid ones of a list, in one go with one sequence number; already revoked and unknown ones left out; bad input refused', async () => {
        const certs = Array.from({ length: 5 }, () => certificate({ issuerSerial: issuer }));
        for (const c of certs) await store.certificates.insert(c);
        await store.certificates.revoke(certs[0]!.serial, { at: at(1_000) });
        const before = await store.revocations.sequence();
        const done = await store.certificates.revokeMany([certs[0]!.serial, certs[1]!.serial, certs[2]!.serial, '0f0e0d'], { at: at(2_000), reason: 'keyCompromise', invalidAt: at(1_500) });
        assert.deepEqual([...done].sort(), [certs[1]!.serial, certs[2]!.serial].sort());
        assert.equal(await store.revocations.sequence(), before + 1n, 'one number for the batch');
        const since = await store.revocations.revokedSince(before, 10);
        assert.deepEqual(since.map((x) => x.serial).sort(), [...done].sort());
        assert.ok(since.every((x) => x.seq === before + 1n));
        const got = await store.certificates.get(certs[1]!.serial);
        assert.equal(got?.status, 'revoked');
        assert.equal(got?.revocationReason, 'keyCompromise');
        assert.equal(got?.invalidAt?.getTime(), at(1_500).getTime());
        assert.equal((await store.certificates.get(certs[0]!.serial))?.revokedAt?.getTime(), at(1_000).getTime(), 'the earlier revocation stands');
        assert.equal((await store.certificates.get(certs[3]!.serial))?.status, 'valid');
        assert.deepEqual(await store.certificates.revokeMany([certs[1]!.serial], { at: at(3_000) }), [], 'nothing left to revoke: no number taken');
        assert.equal(await store.revocations.sequence(), before + 1n);
        assert.deepEqual(await store.certificates.revokeMany([], { at: at(3_000) }), []);
        await rejectsWith(store.certificates.revokeMany(['XY'], { at: at(3_000) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.revokeMany(Array.from({ length: 1001 }, () => newSerial()), { at: at(3_000) }), 'ERR_STORE_INVALID_RECORD');
        await rejectsWith(store.certificates.revokeMany([certs[4]!.serial], { at: at(3_000), invalidAt: at(4_000) }), 'ERR_STORE_INVALID_RECORD');
        assert.equal((await store.certificates.get(certs[4]!.serial))?.status, 'valid');
      });

      test('revokeMany and revoke racing over the same certificates: each revoked once, one sequence number per revocation that happened, no deadlock', async () => {
        const certs = Array.from({ length: 60 }, () => certificate({ issuerSerial: issuer }));
        for (const c of certs) await store.certificates.insert(c);
        const serials = certs.map((c) => c.serial);
        const before = await store.revocations.sequence();
        const reversed = [...serials].reverse();
        const results = await Promise.all([
          store.certificates.revokeMany(serials.slice(0, 40), { at: at(1_000), reason: 'keyCompromise' }),
          store.certificates.revokeMany(reversed.slice(0, 40), { at: at(1_000), reason: 'superseded' }),
          ...serials.filter((_, i) => i % 7 === 0).map((s) => store.certificates.revoke(s, { at: at(1_000) })),
        ]);
        const bulk = [...(results[0]), ...(results[1])];
        const single = serials.filter((_, i) => i % 7 === 0).filter((_, i) => results[2 + i] === 'revoked');
        assert.deepEqual([...bulk, ...single].sort(), [...serials].sort(), 'every certificate revoked by exactly one of them');
        const batches = results.slice(0, 2).filter((r) => (r as string[]).length > 0).length;
        assert.equal(await store.revocations.sequence(), before + BigInt(batches + single.length));
        const since = await store.revocations.revokedSince(before, 100);
        assert.equal(since.length, 60);
      });

      test('status: valid, revoked with reason and invalidity date, issuer; unknown serial undefined; bad serial refused', async () => {
        const good = certificate({ issuerSerial: issuer, notAfter: at(90_000) });
        const bad = certificate({ issuerSerial: issuer });
        const orphan = certificate();
        for (const c of [good, bad, orphan]) await store.certificates.insert(c);
        await store.certificates.revoke(bad.serial, { at: at(20_000), reason: 'keyCompromise', invalidAt: at(15_000) });
        assert.deepEqual(await store.revocations.status(good.serial), { serial: good.serial, issuerSerial: issuer, status: 'valid', notAfter: at(90_000) });
        assert.deepEqual(await store.revocations.status(bad.serial), {
          serial: bad.serial,
          issuerSerial: issuer,
          status: 'revoked',
          notAfter: bad.notAfter,
          revokedAt: at(20_000),
          reason: 'keyCompromise',
          invalidAt: at(15_000),
        });
        assert.ok(!('issuerSerial' in ((await store.revocations.status(orphan.serial)) ?? { issuerSerial: 1 })));
        assert.equal(await store.revocations.status('0f0e0d'), undefined);
        await rejectsWith(store.revocations.status('XYZ'), 'ERR_STORE_INVALID_RECORD');
      });
    });

    describe('close', () => {
      test('waits for running operations, then refuses new ones; closing twice is fine', async () => {
        const inside = gate();
        const proceed = gate();
        const c = certificate();
        const running = store.transaction(async (tx) => {
          await tx.certificates.insert(c);
          inside.open();
          await proceed.opened;
          await tx.audit.append(auditEvent({ serial: c.serial }));
          return 'done';
        });
        await inside.opened;
        const closed = store.close();
        await rejectsWith(store.certificates.get(c.serial), 'ERR_STORE_CLOSED');
        await rejectsWith(store.transaction(() => Promise.resolve()), 'ERR_STORE_CLOSED');
        proceed.open();
        assert.equal(await running, 'done');
        await closed;
        await store.close();
        for (const call of [
          () => store.certificates.insert(certificate()),
          () => store.certificates.list(),
          () => store.certificates.revoke(c.serial, { at: at(1) }),
          () => store.certificates.markReplaced(c.serial, c.serial),
          () => store.tokens.consume({ provisioner: 'p', jti: 'j', expiresAt: at(1) }),
          () => store.tokens.purgeExpired(at(1)),
          () => store.audit.append(auditEvent()),
          () => store.audit.list(),
        ]) {
          await assert.rejects(call(), (e) => isSignetError(e, 'ERR_STORE_CLOSED'));
        }
      });
    });
  });
}
