/**
 * The linter's public API: profile detection, the SPIFFE switch, lint-before-sign on an unsigned
 * TBS, assertLintClean's error, ignore lists, a failing rule, and the rule catalogue itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSignetError } from '../../src/core/errors.js';
import { buildTbsCertificate } from '../../src/x509/certificate-builder.js';
import { parseTbsCertificate } from '../../src/x509/certificate.js';
import { LINT_RULES, assertLintClean, detectProfile, lintCertificate, lintTbsCertificate, parseSpiffeId, severityAtLeast, type LintRule } from '../../src/x509/lint/index.js';
import { CA_SIGNER, NOW, ROOT_ISSUER, intermediateSpec, issued, leafSpec, rootSpec, selfSigned, svidSpec } from './builders.js';

test('detectProfile tells roots, intermediates, leaves and self-signed end entities apart', () => {
  assert.equal(detectProfile(selfSigned(rootSpec())), 'root-ca');
  assert.equal(detectProfile(issued(intermediateSpec())), 'intermediate-ca');
  assert.equal(detectProfile(issued(leafSpec())), 'leaf');
  assert.equal(detectProfile(selfSigned(rootSpec({ basicConstraints: undefined, keyUsage: { usages: ['digitalSignature'] } }))), 'self-signed');
  // keyCertSign alone makes a CA for profile detection (so the CA rules can say what is missing).
  assert.equal(detectProfile(issued(leafSpec({ keyUsage: { usages: ['keyCertSign'] } }))), 'intermediate-ca');
  // Self-issued but signed by another key (a key rollover certificate) is not self-signed.
  assert.equal(detectProfile(issued(rootSpec({}, { publicKey: leafSpec().publicKey }), CA_SIGNER, { name: ROOT_ISSUER.name, keyIdentifier: ROOT_ISSUER.keyIdentifier })), 'intermediate-ca');
});

test('an explicit profile is reported and checked', () => {
  const leaf = issued(leafSpec());
  const asRoot = lintCertificate(leaf, { profile: 'root-ca', now: NOW });
  assert.equal(asRoot.profile, 'root-ca');
  assert.ok(asRoot.findings.some((f) => f.rule === 'e_profile_mismatch'));
  assert.ok(asRoot.findings.some((f) => f.rule === 'e_ca_basic_constraints_missing'));
  assert.equal(lintCertificate(leaf, { profile: 'leaf', now: NOW }).errors, 0);
});

test('SPIFFE rules run for spiffe URIs by default, and can be forced on or off', () => {
  const svid = issued(svidSpec({ extKeyUsage: undefined }));
  const auto = lintCertificate(svid, { now: NOW });
  assert.equal(auto.spiffe, true);
  assert.ok(auto.findings.some((f) => f.rule === 'w_spiffe_leaf_eku_missing'));
  const off = lintCertificate(svid, { now: NOW, spiffe: false });
  assert.equal(off.spiffe, false);
  assert.ok(!off.checked.some((id) => id.includes('spiffe')));
  const forced = lintCertificate(issued(leafSpec()), { now: NOW, spiffe: true });
  assert.deepEqual(
    forced.findings.filter((f) => f.severity === 'error').map((f) => f.rule),
    ['e_spiffe_uri_san_count'],
  );
});

test('lint before sign: an unsigned TBS from the builder lints like the certificate', () => {
  const tbs = buildTbsCertificate(leafSpec(), ROOT_ISSUER, CA_SIGNER.algorithm);
  const report = lintTbsCertificate(tbs, { now: NOW });
  assert.deepEqual(report.findings, []);
  assert.equal(report.profile, 'leaf');
  assert.equal(assertLintClean(report), report);
  const bad = lintCertificate(parseTbsCertificate(buildTbsCertificate(leafSpec({ authorityKeyIdentifier: false, keyUsage: { usages: [] }, extKeyUsage: undefined }), ROOT_ISSUER, CA_SIGNER.algorithm)), { now: NOW });
  assert.equal(bad.errors, 2);
  assert.throws(
    () => assertLintClean(bad),
    (e: unknown) => {
      assert.ok(isSignetError(e, 'ERR_LINT_FAILED'));
      assert.match(e.message, /e_aki_missing/);
      assert.match(e.message, /e_key_usage_empty/);
      assert.deepEqual(e.detail?.rules, ['e_aki_missing', 'e_key_usage_empty']);
      assert.equal(e.category, 'invalid');
      return true;
    },
  );
});

test('warnings and notices do not fail assertLintClean', () => {
  const report = lintCertificate(issued(leafSpec({ subjectKeyIdentifier: false })), { now: new Date(NOW.getTime() + 400 * 86_400_000) });
  assert.equal(report.errors, 0);
  assert.equal(report.warnings, 1);
  assert.equal(report.notices, 1);
  assert.doesNotThrow(() => assertLintClean(report));
});

test('ignore skips rules; a rule that throws becomes an error finding of that rule', () => {
  const cert = issued(leafSpec({ authorityKeyIdentifier: false }));
  assert.equal(lintCertificate(cert, { now: NOW, ignore: ['e_aki_missing'] }).errors, 0);
  const broken: LintRule = {
    id: 'e_test_broken',
    severity: 'warning',
    source: 'test',
    description: 'throws',
    appliesTo: () => true,
    check: () => {
      throw new Error('boom');
    },
  };
  const report = lintCertificate(cert, { now: NOW, rules: [broken] });
  assert.deepEqual(report.findings, [{ rule: 'e_test_broken', severity: 'error', source: 'test', message: 'rule could not run: boom' }]);
});

test('the rule catalogue is well-formed: unique ids, prefixes matching severity, cited sources', () => {
  const ids = new Set<string>();
  for (const r of LINT_RULES) {
    assert.ok(!ids.has(r.id), `duplicate ${r.id}`);
    ids.add(r.id);
    assert.match(r.id, /^[ewn]_[a-z0-9_]+$/);
    assert.equal(r.id[0], r.severity[0], `${r.id} has severity ${r.severity}`);
    assert.match(r.source, /^(RFC \d+|CA\/B BR|SPIFFE|X\.690)/, `${r.id} cites ${r.source}`);
    assert.ok(r.description.length > 10);
  }
  assert.ok(LINT_RULES.length >= 60);
});

test('severityAtLeast orders error > warning > notice', () => {
  assert.ok(severityAtLeast('error', 'warning'));
  assert.ok(severityAtLeast('warning', 'warning'));
  assert.ok(!severityAtLeast('notice', 'warning'));
  assert.ok(severityAtLeast('notice', 'notice'));
});

test('parseSpiffeId splits valid IDs and explains invalid ones', () => {
  assert.deepEqual(parseSpiffeId('spiffe://example.org/ns/web'), { trustDomain: 'example.org', path: '/ns/web' });
  assert.deepEqual(parseSpiffeId('spiffe://example.org'), { trustDomain: 'example.org', path: '' });
  for (const bad of ['https://example.org/x', 'spiffe://', 'spiffe://ex ample.org', 'spiffe://example.org/.', 'spiffe://example.org//x']) {
    assert.ok('problem' in parseSpiffeId(bad), bad);
  }
});
