/**
 * SPIFFE IDs by the SPIFFE-ID standard (and go-spiffe's strict parser): a table of valid and
 * invalid IDs with the reason for each refusal, and a walk over every character code 0–255 in the
 * trust domain and in the path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError } from '../../src/core/errors.js';
import { MAX_SPIFFE_ID_LENGTH, MAX_TRUST_DOMAIN_LENGTH, parseSpiffeId, parseSpiffePath, parseTrustDomain, spiffeIdFrom, type SpiffeIdReason } from '../../src/spiffe/id.js';
import { parseSpiffeId as lintParse } from '../../src/x509/lint/syntax.js';

function reasonOf(f: () => unknown): SpiffeIdReason | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_SPIFFE_ID_INVALID'), String(e));
    return e.detail?.reason as SpiffeIdReason;
  }
}

test('valid SPIFFE IDs parse into trust domain and path, and print back unchanged', () => {
  for (const [id, td, path] of [
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://example.org/ns/prod/sa/web', 'example.org', '/ns/prod/sa/web'],
    ['spiffe://a.b-c_d/E/f.G-h_i', 'a.b-c_d', '/E/f.G-h_i'],
    ['spiffe://10.0.0.1/x', '10.0.0.1', '/x'],
    ['spiffe://td/.../..a/a..', 'td', '/.../..a/a..'],
    [`spiffe://${'a'.repeat(MAX_TRUST_DOMAIN_LENGTH)}/x`, 'a'.repeat(MAX_TRUST_DOMAIN_LENGTH), '/x'],
  ] as const) {
    const parsed = parseSpiffeId(id);
    assert.equal(parsed.trustDomain, td, id);
    assert.equal(parsed.path, path, id);
    assert.equal(parsed.toString(), id);
    assert.equal(parsed.trustDomainId, `spiffe://${td}`);
    assert.deepEqual(lintParse(id), { trustDomain: td, path }, 'the linter reads IDs the same way');
  }
  const longest = `spiffe://example.org/${'p'.repeat(MAX_SPIFFE_ID_LENGTH - 'spiffe://example.org/'.length)}`;
  assert.equal(parseSpiffeId(longest).toString().length, MAX_SPIFFE_ID_LENGTH);
});

test('invalid SPIFFE IDs are refused with go-spiffe\'s reason', () => {
  const table: [string, SpiffeIdReason][] = [
    ['', 'empty'],
    ['http://example.org/x', 'wrongScheme'],
    ['SPIFFE://example.org/x', 'wrongScheme'],
    ['Spiffe://example.org', 'wrongScheme'],
    ['spiffe:/example.org', 'wrongScheme'],
    ['spiffe:example.org', 'wrongScheme'],
    ['example.org/x', 'wrongScheme'],
    ['spiffe://', 'missingTrustDomain'],
    ['spiffe:///path', 'missingTrustDomain'],
    ['spiffe://Example.org', 'badTrustDomainChar'],
    ['spiffe://example.org:8443/x', 'badTrustDomainChar'],
    ['spiffe://user@example.org/x', 'badTrustDomainChar'],
    ['spiffe://user:pw@example.org/x', 'badTrustDomainChar'],
    ['spiffe://exa%6dple.org', 'badTrustDomainChar'],
    ['spiffe://example.org?q=1', 'badTrustDomainChar'],
    ['spiffe://example.org#f', 'badTrustDomainChar'],
    ['spiffe://[::1]/x', 'badTrustDomainChar'],
    [`spiffe://${'a'.repeat(MAX_TRUST_DOMAIN_LENGTH + 1)}`, 'trustDomainTooLong'],
    ['spiffe://example.org/', 'trailingSlash'],
    ['spiffe://example.org/a/', 'trailingSlash'],
    ['spiffe://example.org//a', 'emptySegment'],
    ['spiffe://example.org/a//b', 'emptySegment'],
    ['spiffe://example.org/.', 'dotSegment'],
    ['spiffe://example.org/a/./b', 'dotSegment'],
    ['spiffe://example.org/a/..', 'dotSegment'],
    ['spiffe://example.org/a%20b', 'badPathSegmentChar'],
    ['spiffe://example.org/a?b=c', 'badPathSegmentChar'],
    ['spiffe://example.org/a#b', 'badPathSegmentChar'],
    ['spiffe://example.org/pa:th', 'badPathSegmentChar'],
    ['spiffe://example.org/pa@th', 'badPathSegmentChar'],
    ['spiffe://example.org/caf\u00e9', 'badPathSegmentChar'],
    ['spiffe://example.org/\u{1f600}', 'badPathSegmentChar'],
    [`spiffe://example.org/${'p'.repeat(MAX_SPIFFE_ID_LENGTH)}`, 'tooLong'],
  ];
  for (const [id, reason] of table) {
    assert.equal(reasonOf(() => parseSpiffeId(id)), reason, JSON.stringify(id));
    assert.ok('problem' in lintParse(id), `the linter refuses ${JSON.stringify(id)} too`);
  }
});

test('every character code 0-255 in the trust domain and in the path: only the standard\'s characters are accepted', () => {
  const tdChar = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f;
  const pathChar = (c: number): boolean => tdChar(c) || (c >= 0x41 && c <= 0x5a);
  const accepted = { td: 0, path: 0 };
  for (let c = 0; c <= 255; c++) {
    const ch = String.fromCharCode(c);
    // In the trust domain a "/" ends it: the rest is the path.
    const inTd = `spiffe://tr${ch}ust/path`;
    const tdReason = reasonOf(() => parseSpiffeId(inTd));
    if (c === 0x2f) assert.equal(parseSpiffeId(inTd).trustDomain, 'tr');
    else if (tdChar(c)) {
      assert.equal(tdReason, undefined, `0x${c.toString(16)} in a trust domain`);
      accepted.td++;
    } else assert.equal(tdReason, 'badTrustDomainChar', `0x${c.toString(16)} in a trust domain`);
    const inPath = `spiffe://trust/pa${ch}th`;
    const pathReason = reasonOf(() => parseSpiffeId(inPath));
    if (c === 0x2f) assert.equal(parseSpiffeId(inPath).path, '/pa/th');
    else if (pathChar(c)) {
      assert.equal(pathReason, undefined, `0x${c.toString(16)} in a path`);
      accepted.path++;
    } else assert.equal(pathReason, 'badPathSegmentChar', `0x${c.toString(16)} in a path`);
    // The same walk through the trust-domain and segment constructors.
    assert.equal(reasonOf(() => parseTrustDomain(`tr${ch}ust`)) === undefined, tdChar(c), `parseTrustDomain 0x${c.toString(16)}`);
    assert.equal(reasonOf(() => spiffeIdFrom('trust', `pa${ch}th`)) === undefined, pathChar(c), `spiffeIdFrom 0x${c.toString(16)}`);
  }
  assert.deepEqual(accepted, { td: 26 + 10 + 3, path: 52 + 10 + 3 });
});

test('trust domains, paths and IDs built from segments', () => {
  assert.equal(parseTrustDomain('example.org'), 'example.org');
  assert.equal(parseTrustDomain('spiffe://example.org/ns/a'), 'example.org');
  assert.equal(reasonOf(() => parseTrustDomain('')), 'missingTrustDomain');
  assert.equal(reasonOf(() => parseTrustDomain('Example.org')), 'badTrustDomainChar');
  assert.equal(reasonOf(() => parseTrustDomain('https://example.org')), 'wrongScheme');
  assert.equal(parseSpiffePath(''), '');
  assert.equal(parseSpiffePath('/a/b'), '/a/b');
  assert.equal(reasonOf(() => parseSpiffePath('a/b')), 'noLeadingSlash');
  assert.equal(reasonOf(() => parseSpiffePath('/a/')), 'trailingSlash');
  assert.equal(spiffeIdFrom('example.org', 'ns', 'prod', 'sa', 'web').toString(), 'spiffe://example.org/ns/prod/sa/web');
  assert.equal(spiffeIdFrom('spiffe://example.org').toString(), 'spiffe://example.org');
  assert.equal(reasonOf(() => spiffeIdFrom('example.org', 'a/b')), 'badPathSegmentChar');
  assert.equal(reasonOf(() => spiffeIdFrom('example.org', '')), 'emptySegment');
  assert.equal(reasonOf(() => spiffeIdFrom('example.org', '..')), 'dotSegment');
  const id = parseSpiffeId('spiffe://example.org/a');
  assert.ok(id.memberOf('example.org'));
  assert.ok(!id.memberOf('example.com'));
  assert.ok(id.equals(spiffeIdFrom('example.org', 'a')));
  assert.throws(() => parseSpiffeId('spiffe://Example.org'), { message: 'invalid SPIFFE ID "spiffe://Example.org": trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores' });
});
