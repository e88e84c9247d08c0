/**
 * RFC 5280 §6 path validation, table-driven: every rule has valid and invalid chains built by
 * the test, asserts on the error code and the depth of the certificate at fault, and a sample of
 * the table is cross-checked with `openssl verify` (same files, same time, same purpose).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { integer, oid, sequence, implicitPrimitive, octetString, NULL } from '../../src/x509/der.js';
import { OID } from '../../src/x509/oids.js';
import { ecdsaAlgorithm } from '../../src/crypto/signature.js';
import { verifyChain } from '../../src/x509/verify/index.js';
import { isSignetError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/openssl.js';
import { NOW, NOT_AFTER, NOT_BEFORE, intermediate, issue, leaf, newParty, opensslVerify, root, run, type Issued, type Scenario } from './kit.js';

const tmp = tempDir('signet-verify-');
process.on('exit', () => tmp.cleanup());

const k = {
  root: newParty(),
  root2: newParty(),
  int: newParty(),
  int2: newParty(),
  int3: newParty(),
  leaf: newParty(),
  other: newParty(),
};

const DAY = 86_400_000;
const PAST = new Date(NOW.getTime() - 30 * DAY);
const FUTURE = new Date(NOW.getTime() + 30 * DAY);

// The base chain most cases vary: Root → Int → www.example.com.
const R = root('Root', k.root);
const I = intermediate('Int', k.int, R);
const L = leaf('www.example.com', k.leaf, I, { eku: ['serverAuth'] });
const base = (more: Partial<Scenario> = {}): Scenario => ({ leaf: L, roots: [R], intermediates: [I], ...more });

/** Raw extension helpers (RFC 5280 §4.2.1.5, §4.2.1.11, §4.2.1.14). */
const policyConstraints = (requireExplicitPolicy?: number, inhibitPolicyMapping?: number): Uint8Array =>
  sequence([
    ...(requireExplicitPolicy === undefined ? [] : [implicitPrimitive(0, Uint8Array.of(requireExplicitPolicy))]),
    ...(inhibitPolicyMapping === undefined ? [] : [implicitPrimitive(1, Uint8Array.of(inhibitPolicyMapping))]),
  ]);
const policyMappings = (pairs: Array<[string, string]>): Uint8Array => sequence(pairs.map(([a, b]) => sequence([oid(a), oid(b)])));
const P1 = '1.3.6.1.4.1.55555.1.1';
const P2 = '1.3.6.1.4.1.55555.1.2';

/** OpenSSL checks policies only when asked (-policy_check); -policy anyPolicy gives it Signet's user-initial-policy-set. */
const POLICY_OPENSSL = { openssl: true, opensslArgs: ['-policy_check', '-policy', OID.anyPolicy] } as const;

interface Case {
  readonly name: string;
  readonly scenario: () => Scenario;
  /** `ok` or the expected ERR_VERIFY_* code. */
  readonly expect: string;
  /** Depth (0 = leaf) of the certificate the error names. */
  readonly depth?: number;
  /** Cross-check the verdict (valid/invalid) with `openssl verify`. */
  readonly openssl?: boolean;
  /** Extra `openssl verify` flags for the cross-check. */
  readonly opensslArgs?: readonly string[];
  /** Subjects of the returned chain, leaf first. */
  readonly chain?: readonly string[];
}

const CASES: Case[] = [
  // ---- signatures (§6.1.3 (a)(1)) -------------------------------------------------------------
  { name: 'valid three-certificate chain', scenario: () => base(), expect: 'ok', openssl: true, chain: ['CN=www.example.com', 'CN=Int', 'CN=Root'] },
  { name: 'leaf signature corrupted', scenario: () => base({ leaf: leaf('a.example.com', k.leaf, I, { corruptSignature: true }) }), expect: 'ERR_VERIFY_SIGNATURE', depth: 0, openssl: true },
  { name: 'leaf signed by a key that is not the issuer key', scenario: () => base({ leaf: leaf('a.example.com', k.leaf, I, { signedBy: k.other }) }), expect: 'ERR_VERIFY_SIGNATURE', depth: 0, openssl: true },
  {
    name: 'intermediate signed by a wrong key',
    scenario: () => {
      const bad = intermediate('Int', k.int, R, { signedBy: k.other });
      return base({ intermediates: [bad] });
    },
    expect: 'ERR_VERIFY_SIGNATURE',
    depth: 1,
    openssl: true,
  },
  {
    name: 'intermediate signature corrupted',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { corruptSignature: true })] }),
    expect: 'ERR_VERIFY_SIGNATURE',
    depth: 1,
    openssl: true,
  },
  {
    name: 'outer signature algorithm differs from the one in the TBS (RFC 5280 §4.1.1.2)',
    scenario: () => base({ leaf: leaf('alg.example.com', k.leaf, I, { outerAlgorithm: ecdsaAlgorithm('sha384').identifier }) }),
    expect: 'ERR_VERIFY_SIGNATURE',
    depth: 0,
    openssl: true,
  },
  {
    name: 'root self-signature corrupted: a trust anchor is not checked (RFC 5280 §6.1.1 (d))',
    scenario: () => {
      const r = root('Root', k.root, { corruptSignature: true });
      return base({ roots: [r] });
    },
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'ed25519 intermediate below a p-256 root, ed25519 leaf',
    scenario: () => {
      const ed = newParty('ed25519');
      const i = intermediate('Ed Int', ed, R);
      return { leaf: leaf('ed.example.com', newParty('ed25519'), i), roots: [R], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },

  // ---- validity (§6.1.3 (a)(2), §4.1.2.5: inclusive) -------------------------------------------
  { name: 'leaf expired', scenario: () => base({ leaf: leaf('a.example.com', k.leaf, I, { notAfter: PAST }) }), expect: 'ERR_VERIFY_EXPIRED', depth: 0, openssl: true },
  { name: 'leaf not yet valid', scenario: () => base({ leaf: leaf('a.example.com', k.leaf, I, { notBefore: FUTURE }) }), expect: 'ERR_VERIFY_NOT_YET_VALID', depth: 0, openssl: true },
  {
    name: 'intermediate expired',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { notAfter: PAST })] }),
    expect: 'ERR_VERIFY_EXPIRED',
    depth: 1,
    openssl: true,
  },
  { name: 'root expired (checked, as OpenSSL and Go do)', scenario: () => base({ roots: [root('Root', k.root, { notAfter: PAST })] }), expect: 'ERR_VERIFY_EXPIRED', depth: 2, openssl: true },
  { name: 'root not yet valid', scenario: () => base({ roots: [root('Root', k.root, { notBefore: FUTURE })] }), expect: 'ERR_VERIFY_NOT_YET_VALID', depth: 2, openssl: true },
  { name: 'exactly at notAfter is valid', scenario: () => base({ options: { time: NOT_AFTER } }), expect: 'ok' },
  { name: 'one second after notAfter is expired', scenario: () => base({ options: { time: new Date(NOT_AFTER.getTime() + 1000) } }), expect: 'ERR_VERIFY_EXPIRED', openssl: true },
  { name: 'exactly at notBefore is valid', scenario: () => base({ options: { time: NOT_BEFORE } }), expect: 'ok', openssl: true },
  { name: 'one second before notBefore is not yet valid', scenario: () => base({ options: { time: new Date(NOT_BEFORE.getTime() - 1000) } }), expect: 'ERR_VERIFY_NOT_YET_VALID', openssl: true },

  // ---- name chaining (§6.1.3 (a)(4), §7.1) ----------------------------------------------------
  {
    name: 'leaf issuer name differs from every candidate',
    scenario: () => base({ leaf: issue({ subject: 'CN=x.example.com', party: k.leaf, issuer: I, issuerName: issue({ subject: 'CN=Other', party: k.other }).cert.subject.der }) }),
    expect: 'ERR_VERIFY_NO_ISSUER',
    depth: 0,
    openssl: true,
  },
  {
    name: 'issuer name matches after case folding and whitespace folding (§7.1)',
    scenario: () => {
      const i = issue({ subject: [[{ type: 'O', value: 'Example  Corp' }], [{ type: 'CN', value: 'Issuing CA' }]], party: k.int2, issuer: R, ca: true });
      const l = issue({ subject: 'CN=fold.example.com', party: k.leaf, issuer: i, issuerName: issue({ subject: [[{ type: 'O', value: ' example corp ' }], [{ type: 'CN', value: 'ISSUING   ca' }]], party: k.other }).cert.subject.der });
      return { leaf: l, roots: [R], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'issuer name matches across string types (PrintableString vs UTF8String)',
    scenario: () => {
      const i = issue({ subject: [[{ type: 'CN', value: 'Typed CA', encoding: 'printable' }]], party: k.int2, issuer: R, ca: true });
      const l = issue({ subject: 'CN=typed.example.com', party: k.leaf, issuer: i, issuerName: issue({ subject: [[{ type: 'CN', value: 'Typed CA', encoding: 'utf8' }]], party: k.other }).cert.subject.der });
      return { leaf: l, roots: [R], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'different attribute order is a different name',
    scenario: () => {
      const i = issue({ subject: 'CN=CA,O=Example', party: k.int2, issuer: R, ca: true });
      const l = issue({ subject: 'CN=order.example.com', party: k.leaf, issuer: i, issuerName: issue({ subject: '/CN=CA/O=Example', party: k.other }).cert.subject.der });
      return { leaf: l, roots: [R], intermediates: [i] };
    },
    expect: 'ERR_VERIFY_NO_ISSUER',
    depth: 0,
    openssl: true,
  },
  { name: 'intermediate missing', scenario: () => base({ intermediates: [] }), expect: 'ERR_VERIFY_NO_ISSUER', depth: 0, openssl: true },
  { name: 'root missing (another root given)', scenario: () => base({ roots: [root('Elsewhere', k.root2)] }), expect: 'ERR_VERIFY_NO_ISSUER', depth: 1, openssl: true },
  { name: 'chain ends in a self-signed root that is not trusted', scenario: () => base({ roots: [root('Elsewhere', k.root2)], intermediates: [I, R] }), expect: 'ERR_VERIFY_UNTRUSTED_ROOT', depth: 2, openssl: true },
  {
    name: 'self-signed leaf that is not trusted',
    scenario: () => ({ leaf: issue({ subject: 'CN=self.example.com', party: k.leaf, san: ['dns:self.example.com'] }), roots: [R] }),
    expect: 'ERR_VERIFY_UNTRUSTED_ROOT',
    depth: 0,
    openssl: true,
  },
  {
    name: 'self-signed leaf that is itself a trusted root',
    scenario: () => {
      const s = issue({ subject: 'CN=self.example.com', party: k.leaf, san: ['dns:self.example.com'] });
      return { leaf: s, roots: [s] };
    },
    expect: 'ok',
    openssl: true,
    chain: ['CN=self.example.com'],
  },
  { name: 'leaf directly under the root', scenario: () => ({ leaf: leaf('direct.example.com', k.leaf, R), roots: [R] }), expect: 'ok', openssl: true },

  // ---- several candidate issuers: backtracking, AKI/SKI preference -----------------------------
  {
    name: 'two same-name intermediates, the preferred one (AKI matches its SKI) has the wrong key',
    scenario: () => {
      // The impostor advertises the leaf's AKI as its SKI, so it is tried first.
      const impostor = intermediate('Int', k.other, R, { ski: I.cert.ext.subjectKeyIdentifier as Uint8Array });
      return base({ intermediates: [impostor, I] });
    },
    expect: 'ok',
    // OpenSSL takes the first same-name untrusted candidate and does not backtrack.
    openssl: false,
    chain: ['CN=www.example.com', 'CN=Int', 'CN=Root'],
  },
  {
    name: 'an expired candidate does not hide a valid one (same name and key, renewed)',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { notAfter: PAST }), I] }),
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'one wrong key, one expired, one valid candidate',
    scenario: () => base({ intermediates: [intermediate('Int', k.other, R), intermediate('Int', k.int, R, { notAfter: PAST }), I] }),
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'wrong key and expired candidates only: the expired (real) issuer is reported',
    scenario: () => base({ intermediates: [intermediate('Int', k.other, R), intermediate('Int', k.int, R, { notAfter: PAST })] }),
    expect: 'ERR_VERIFY_EXPIRED',
    depth: 1,
    openssl: true,
  },
  { name: 'wrong-key candidate only', scenario: () => base({ intermediates: [intermediate('Int', k.other, R)] }), expect: 'ERR_VERIFY_SIGNATURE', depth: 0, openssl: true },
  {
    name: 'cross-signed intermediate: the untrusted root path fails, the cross-signed one succeeds',
    scenario: () => {
      const oldRoot = root('Old Root', k.root2);
      const viaOld = intermediate('Int', k.int, oldRoot);
      return base({ intermediates: [viaOld, oldRoot, I] });
    },
    expect: 'ok',
    // OpenSSL takes the first same-name untrusted candidate and does not backtrack.
    openssl: false,
    chain: ['CN=www.example.com', 'CN=Int', 'CN=Root'],
  },
  {
    name: 'renewed root: two trusted roots with the same name and different keys',
    scenario: () => {
      const newRoot = root('Root', k.root2);
      const i = intermediate('Int', k.int, newRoot);
      return { leaf: leaf('renewed.example.com', k.leaf, i), roots: [R, newRoot], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'AKI that matches no SKI is only a hint',
    scenario: () => base({ leaf: leaf('aki.example.com', k.leaf, I, { aki: randomBytes(20) }) }),
    expect: 'ok',
  },
  {
    name: 'no SKI/AKI at all',
    scenario: () => {
      const r = root('Plain Root', k.root2, { ski: false, aki: false });
      const i = intermediate('Plain Int', k.int2, r, { ski: false, aki: false });
      return { leaf: leaf('plain.example.com', k.leaf, i, { aki: false }), roots: [r], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },

  // ---- loops and depth ------------------------------------------------------------------------
  {
    name: 'two CAs certifying each other, neither trusted: terminates with no issuer',
    scenario: () => {
      const aSelf = root('A', k.int2);
      const bByA = intermediate('B', k.int3, aSelf);
      const aByB = intermediate('A', k.int2, bByA);
      return { leaf: leaf('loop.example.com', k.leaf, aByB), roots: [R], intermediates: [aByB, bByA] };
    },
    expect: 'ERR_VERIFY_NO_ISSUER',
    openssl: true,
  },
  {
    name: 'loop with an exit: A↔B cross-certified, B also certified by the trusted root',
    scenario: () => {
      const aSelf = root('A', k.int2);
      const bByA = intermediate('B', k.int3, aSelf);
      const aByB = intermediate('A', k.int2, bByA);
      const bByR = intermediate('B', k.int3, R);
      return { leaf: leaf('exit.example.com', k.leaf, aByB), roots: [R], intermediates: [aByB, bByA, bByR] };
    },
    expect: 'ok',
    // OpenSSL takes the first same-name untrusted candidate and does not backtrack.
    openssl: false,
    chain: ['CN=exit.example.com', 'CN=A', 'CN=B', 'CN=Root'],
  },
  ...depthCases(),

  // ---- basic constraints (§6.1.4 (k)) ---------------------------------------------------------
  {
    name: 'end-entity certificate (cA false) used as an issuer',
    scenario: () => {
      const ee = leaf('ee.example.com', k.int2, I, { ca: false });
      return { leaf: leaf('below.example.com', k.leaf, ee), roots: [R], intermediates: [I, ee] };
    },
    expect: 'ERR_VERIFY_NOT_CA',
    depth: 1,
    openssl: true,
  },
  { name: 'intermediate with cA false', scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { ca: false })] }), expect: 'ERR_VERIFY_NOT_CA', depth: 1, openssl: true },
  { name: 'v3 intermediate without basicConstraints', scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { ca: 'none' })] }), expect: 'ERR_VERIFY_NOT_CA', depth: 1, openssl: true },
  { name: 'root with cA false', scenario: () => base({ roots: [root('Root', k.root, { ca: false })] }), expect: 'ERR_VERIFY_NOT_CA', depth: 2, openssl: true },
  {
    name: 'v3 root without basicConstraints but keyCertSign (tolerated anchor)',
    scenario: () => base({ roots: [root('Root', k.root, { ca: 'none', keyUsage: ['keyCertSign', 'cRLSign'] })] }),
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'v3 root without basicConstraints and without key usage',
    scenario: () => base({ roots: [root('Root', k.root, { ca: 'none', keyUsage: false })] }),
    expect: 'ERR_VERIFY_NOT_CA',
    depth: 2,
    openssl: true,
  },
  {
    name: 'v1 root (no extensions)',
    scenario: () => {
      const r = issue({ subject: 'CN=V1 Root', party: k.root2, version: 1, ca: 'none', keyUsage: false, ski: false, aki: false });
      const i = intermediate('V1 Int', k.int2, r);
      return { leaf: leaf('v1.example.com', k.leaf, i), roots: [r], intermediates: [i] };
    },
    expect: 'ok',
    openssl: true,
  },
  {
    name: 'v1 intermediate is not a ca',
    scenario: () => {
      const i = issue({ subject: 'CN=Int', party: k.int, issuer: R, version: 1, ca: 'none', keyUsage: false, ski: false, aki: false });
      return base({ intermediates: [i] });
    },
    expect: 'ERR_VERIFY_NOT_CA',
    depth: 1,
    openssl: true,
  },

  // ---- path length (§6.1.4 (l)–(m)) -----------------------------------------------------------
  { name: 'root pathLen 0 with one intermediate', scenario: () => base({ roots: [root('Root', k.root, { ca: 0 })] }), expect: 'ERR_VERIFY_PATH_LENGTH', depth: 1, openssl: true },
  { name: 'root pathLen 0, leaf directly under it', scenario: () => ({ leaf: leaf('pl.example.com', k.leaf, root('Root', k.root, { ca: 0 })), roots: [root('Root', k.root, { ca: 0 })] }), expect: 'ok', openssl: true },
  { name: 'intermediate pathLen 0 issuing the leaf', scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { ca: 0 })] }), expect: 'ok', openssl: true },
  {
    name: 'intermediate pathLen 0 with one more intermediate below',
    scenario: () => {
      const i1 = intermediate('Int', k.int, R, { ca: 0 });
      const i2 = intermediate('Int 2', k.int2, i1);
      return { leaf: leaf('pl0.example.com', k.leaf, i2), roots: [R], intermediates: [i1, i2] };
    },
    expect: 'ERR_VERIFY_PATH_LENGTH',
    depth: 1,
    openssl: true,
  },
  {
    name: 'intermediate pathLen 1 with two more intermediates below',
    scenario: () => {
      const i1 = intermediate('Int', k.int, R, { ca: 1 });
      const i2 = intermediate('Int 2', k.int2, i1);
      const i3 = intermediate('Int 3', k.int3, i2);
      return { leaf: leaf('pl1.example.com', k.leaf, i3), roots: [R], intermediates: [i1, i2, i3] };
    },
    expect: 'ERR_VERIFY_PATH_LENGTH',
    depth: 1,
    openssl: true,
  },
  {
    name: 'a larger pathLen below a smaller one does not widen it',
    scenario: () => {
      const i1 = intermediate('Int', k.int, R, { ca: 0 });
      const i2 = intermediate('Int 2', k.int2, i1, { ca: 5 });
      return { leaf: leaf('widen.example.com', k.leaf, i2), roots: [R], intermediates: [i1, i2] };
    },
    expect: 'ERR_VERIFY_PATH_LENGTH',
    depth: 1,
    openssl: true,
  },
  {
    name: 'self-issued intermediate (key rollover) does not count against pathLen 0',
    scenario: () => {
      const i1 = intermediate('Int', k.int, R, { ca: 0 });
      // Same name, new key, signed by the old key: self-issued (RFC 5280 §6.1.4 (l)).
      const rollover = intermediate('Int', k.int2, i1);
      return { leaf: leaf('roll.example.com', k.leaf, rollover), roots: [R], intermediates: [i1, rollover] };
    },
    expect: 'ok',
    openssl: true,
    chain: ['CN=roll.example.com', 'CN=Int', 'CN=Int', 'CN=Root'],
  },

  // ---- CA key usage (§6.1.4 (n)) --------------------------------------------------------------
  {
    name: 'intermediate key usage without keyCertSign',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { keyUsage: ['digitalSignature', 'cRLSign'] })] }),
    expect: 'ERR_VERIFY_KEY_USAGE',
    depth: 1,
    openssl: true,
  },
  { name: 'intermediate without key usage extension', scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { keyUsage: false })] }), expect: 'ok', openssl: true },
  { name: 'root key usage without keyCertSign', scenario: () => base({ roots: [root('Root', k.root, { keyUsage: ['cRLSign'] })] }), expect: 'ERR_VERIFY_KEY_USAGE', depth: 2, openssl: true },

  // ---- extended key usage for the purpose -----------------------------------------------------
  { name: 'serverAuth leaf for purpose server', scenario: () => base({ options: { purpose: 'server' } }), expect: 'ok', openssl: true },
  {
    name: 'clientAuth leaf for purpose server',
    scenario: () => base({ leaf: leaf('c.example.com', k.leaf, I, { eku: ['clientAuth'] }), options: { purpose: 'server' } }),
    expect: 'ERR_VERIFY_EKU',
    depth: 0,
    openssl: true,
  },
  { name: 'clientAuth leaf for purpose client', scenario: () => base({ leaf: leaf('c.example.com', k.leaf, I, { eku: ['clientAuth'] }), options: { purpose: 'client' } }), expect: 'ok', openssl: true },
  { name: 'serverAuth leaf for purpose client', scenario: () => base({ options: { purpose: 'client' } }), expect: 'ERR_VERIFY_EKU', depth: 0, openssl: true },
  { name: 'leaf without EKU for purpose server', scenario: () => base({ leaf: leaf('n.example.com', k.leaf, I), options: { purpose: 'server' } }), expect: 'ok', openssl: true },
  { name: 'anyExtendedKeyUsage leaf for purpose server (RFC 5280 §4.2.1.12)', scenario: () => base({ leaf: leaf('n.example.com', k.leaf, I, { eku: ['anyExtendedKeyUsage'] }), options: { purpose: 'server' } }), expect: 'ok' },
  { name: 'codeSigning leaf for purpose any', scenario: () => base({ leaf: leaf('n.example.com', k.leaf, I, { eku: ['codeSigning'] }) }), expect: 'ok', openssl: true },
  {
    name: 'intermediate restricted to clientAuth, purpose server',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { eku: ['clientAuth'] })], options: { purpose: 'server' } }),
    expect: 'ERR_VERIFY_EKU',
    depth: 1,
    openssl: true,
  },
  { name: 'intermediate restricted to serverAuth, purpose server', scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { eku: ['serverAuth', 'clientAuth'] })], options: { purpose: 'server' } }), expect: 'ok', openssl: true },
  { name: 'root restricted to clientAuth, purpose server', scenario: () => base({ roots: [root('Root', k.root, { eku: ['clientAuth'] })], options: { purpose: 'server' } }), expect: 'ERR_VERIFY_EKU', depth: 2, openssl: true },

  // ---- extensions: unknown critical, duplicates, malformed (§4.2, §6.1.4 (o)) ------------------
  {
    name: 'leaf with an unknown critical extension',
    scenario: () => base({ leaf: leaf('u.example.com', k.leaf, I, { extra: [{ oid: '1.3.6.1.4.1.55555.9', critical: true, value: NULL }] }) }),
    expect: 'ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION',
    depth: 0,
    openssl: true,
  },
  { name: 'leaf with an unknown non-critical extension', scenario: () => base({ leaf: leaf('u.example.com', k.leaf, I, { extra: [{ oid: '1.3.6.1.4.1.55555.9', value: NULL }] }) }), expect: 'ok', openssl: true },
  {
    name: 'intermediate with an unknown critical extension',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { extra: [{ oid: '1.3.6.1.4.1.55555.9', critical: true, value: NULL }] })] }),
    expect: 'ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION',
    depth: 1,
    openssl: true,
  },
  {
    name: 'root with an unknown critical extension',
    scenario: () => base({ roots: [root('Root', k.root, { extra: [{ oid: '1.3.6.1.4.1.55555.9', critical: true, value: NULL }] })] }),
    expect: 'ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION',
    depth: 2,
    openssl: true,
  },
  {
    name: 'critical certificatePolicies is processed',
    scenario: () => base({ leaf: leaf('p.example.com', k.leaf, I, { extra: [{ oid: OID.certificatePolicies, critical: true, value: sequence([sequence([oid(P1)])]) }] }) }),
    expect: 'ok',
    openssl: true,
  },
  { name: 'critical subjectAltName is processed', scenario: () => base({ leaf: leaf('s.example.com', k.leaf, I, { sanCritical: true }) }), expect: 'ok', openssl: true },
  {
    name: 'critical authorityInfoAccess is not processed',
    scenario: () => base({ leaf: leaf('a.example.com', k.leaf, I, { extra: [{ oid: OID.authorityInfoAccess, critical: true, value: sequence([sequence([oid(OID.ocsp), implicitPrimitive(6, new TextEncoder().encode('http://ocsp.example.com'))])]) }] }) }),
    expect: 'ERR_VERIFY_UNKNOWN_CRITICAL_EXTENSION',
    depth: 0,
    openssl: true,
  },
  {
    name: 'leaf with two subjectAltName extensions',
    scenario: () => base({ leaf: leaf('d.example.com', k.leaf, I, { extra: [{ oid: OID.subjectAltName, value: sequence([implicitPrimitive(2, new TextEncoder().encode('d.example.com'))]) }] }) }),
    expect: 'ERR_VERIFY_DUPLICATE_EXTENSION',
    depth: 0,
    openssl: true,
  },
  {
    name: 'intermediate with two basicConstraints extensions',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { extra: [{ oid: OID.basicConstraints, critical: true, value: sequence([Uint8Array.of(1, 1, 0xff)]) }] })] }),
    expect: 'ERR_VERIFY_DUPLICATE_EXTENSION',
    depth: 1,
    openssl: true,
  },
  {
    name: 'intermediate with an undecodable basicConstraints',
    scenario: () => base({ intermediates: [intermediate('Int', k.int, R, { ca: 'none', extra: [{ oid: OID.basicConstraints, critical: true, value: octetString(Uint8Array.of(1)) }] })] }),
    expect: 'ERR_VERIFY_MALFORMED_EXTENSION',
    depth: 1,
    openssl: true,
  },
  {
    name: 'leaf with an undecodable non-critical subjectAltName',
    scenario: () => base({ leaf: issue({ subject: 'CN=m.example.com', party: k.leaf, issuer: I, extra: [{ oid: OID.subjectAltName, value: integer(5) }] }) }),
    expect: 'ERR_VERIFY_MALFORMED_EXTENSION',
    depth: 0,
    openssl: true,
  },

  // ---- certificate policies (§6.1.3 (d)–(f), §6.1.4 (a)–(b), (h)–(j)) ---------------------------
  ...policyCases(),
];

function depthCases(): Case[] {
  const i1 = intermediate('D1', k.int, R);
  const i2 = intermediate('D2', k.int2, i1);
  const i3 = intermediate('D3', k.int3, i2);
  const l = leaf('deep.example.com', k.leaf, i3);
  const deep = (maxDepth?: number): Scenario => ({ leaf: l, roots: [R], intermediates: [i3, i1, i2], options: maxDepth === undefined ? {} : { maxDepth } });
  return [
    { name: 'three intermediates, default depth', scenario: () => deep(), expect: 'ok', openssl: true, chain: ['CN=deep.example.com', 'CN=D3', 'CN=D2', 'CN=D1', 'CN=Root'] },
    { name: 'three intermediates, max depth 3', scenario: () => deep(3), expect: 'ok', openssl: true },
    { name: 'three intermediates, max depth 2', scenario: () => deep(2), expect: 'ERR_VERIFY_DEPTH', depth: 3, openssl: true },
    { name: 'one intermediate, max depth 0', scenario: () => base({ options: { maxDepth: 0 } }), expect: 'ERR_VERIFY_DEPTH', depth: 1, openssl: true },
    { name: 'no intermediate, max depth 0', scenario: () => ({ leaf: leaf('d0.example.com', k.leaf, R), roots: [R], options: { maxDepth: 0 } }), expect: 'ok', openssl: true },
  ];
}

function policyCases(): Case[] {
  const requireAt = (n: number): { oid: string; critical: boolean; value: Uint8Array } => ({ oid: OID.policyConstraints, critical: true, value: policyConstraints(n) });
  const chain = (intMore: Parameters<typeof intermediate>[3], leafPolicies: string[] | undefined): Scenario => {
    const i = intermediate('Policy CA', k.int2, R, intMore);
    return { leaf: leaf('pol.example.com', k.leaf, i, leafPolicies ? { policies: leafPolicies } : {}), roots: [R], intermediates: [i] };
  };
  return [
    { name: 'explicit policy required, leaf asserts the CA policy', scenario: () => chain({ policies: [P1], extra: [requireAt(0)] }, [P1]), expect: 'ok', ...POLICY_OPENSSL },
    { name: 'explicit policy required, leaf has no policies', scenario: () => chain({ policies: [P1], extra: [requireAt(0)] }, undefined), expect: 'ERR_VERIFY_POLICY', depth: 0, ...POLICY_OPENSSL },
    { name: 'explicit policy required, leaf asserts another policy', scenario: () => chain({ policies: [P1], extra: [requireAt(0)] }, [P2]), expect: 'ERR_VERIFY_POLICY', depth: 0, ...POLICY_OPENSSL },
    { name: 'requireExplicitPolicy 1 on the last CA: the leaf is the one skipped certificate, then a policy is required', scenario: () => chain({ policies: [P1], extra: [requireAt(1)] }, undefined), expect: 'ERR_VERIFY_POLICY', depth: 0, ...POLICY_OPENSSL },
    { name: 'requireExplicitPolicy 2 on the last CA: not yet required at the leaf', scenario: () => chain({ policies: [P1], extra: [requireAt(2)] }, undefined), expect: 'ok', ...POLICY_OPENSSL },
    { name: 'no explicit policy required: missing policies are fine', scenario: () => chain({ policies: [P1] }, undefined), expect: 'ok', ...POLICY_OPENSSL },
    { name: 'CA anyPolicy lets the leaf assert any policy', scenario: () => chain({ policies: [OID.anyPolicy], extra: [requireAt(0)] }, [P2]), expect: 'ok', ...POLICY_OPENSSL },
    { name: 'leaf anyPolicy satisfies the CA policy', scenario: () => chain({ policies: [P1], extra: [requireAt(0)] }, [OID.anyPolicy]), expect: 'ok', ...POLICY_OPENSSL },
    {
      name: 'inhibitAnyPolicy 0 on the CA: the leaf anyPolicy no longer counts',
      scenario: () => chain({ policies: [P1], extra: [requireAt(0), { oid: OID.inhibitAnyPolicy, critical: true, value: integer(0) }] }, [OID.anyPolicy]),
      expect: 'ERR_VERIFY_POLICY',
      depth: 0,
      ...POLICY_OPENSSL,
    },
    {
      name: 'policy mapping P1 → P2: the leaf asserts the subject-domain policy',
      scenario: () => chain({ policies: [P1], extra: [requireAt(0), { oid: OID.policyMappings, critical: true, value: policyMappings([[P1, P2]]) }] }, [P2]),
      expect: 'ok',
      ...POLICY_OPENSSL,
    },
    {
      name: 'policy mapping P1 → P2: the issuer-domain policy no longer matches',
      scenario: () => chain({ policies: [P1], extra: [requireAt(0), { oid: OID.policyMappings, critical: true, value: policyMappings([[P1, P2]]) }] }, [P1]),
      expect: 'ERR_VERIFY_POLICY',
      depth: 0,
      ...POLICY_OPENSSL,
    },
    {
      name: 'inhibitPolicyMapping 0 applies to the next CA: its mapped policy is deleted',
      scenario: () => {
        const i1 = intermediate('Policy CA', k.int2, R, { policies: [P1], extra: [{ oid: OID.policyConstraints, critical: true, value: policyConstraints(0, 0) }] });
        const i2 = intermediate('Mapping CA', k.int3, i1, { policies: [P1], extra: [{ oid: OID.policyMappings, critical: true, value: policyMappings([[P1, P2]]) }] });
        return { leaf: leaf('pol.example.com', k.leaf, i2, { policies: [P2] }), roots: [R], intermediates: [i1, i2] };
      },
      expect: 'ERR_VERIFY_POLICY',
      depth: 0,
      ...POLICY_OPENSSL,
    },
    {
      name: 'policy mapping is honoured in the CA that also inhibits later mappings',
      scenario: () =>
        chain(
          { policies: [P1], extra: [{ oid: OID.policyConstraints, critical: true, value: policyConstraints(0, 0) }, { oid: OID.policyMappings, critical: true, value: policyMappings([[P1, P2]]) }] },
          [P2],
        ),
      expect: 'ok',
      ...POLICY_OPENSSL,
    },
    {
      name: 'mapping anyPolicy is forbidden',
      scenario: () => chain({ policies: [P1], extra: [{ oid: OID.policyMappings, critical: true, value: policyMappings([[OID.anyPolicy, P2]]) }] }, [P2]),
      expect: 'ERR_VERIFY_POLICY',
      depth: 1,
      ...POLICY_OPENSSL,
    },
  ];
}

for (const c of CASES) {
  test(`path validation: ${c.name} → ${c.expect}`, () => {
    const s = c.scenario();
    const r = run(s);
    assert.equal(r.result, c.expect);
    if (c.depth !== undefined) assert.equal(r.depth, c.depth, 'depth of the certificate at fault');
    if (c.chain) assert.deepEqual(r.chain, c.chain);
    if (c.openssl) {
      const o = opensslVerify(s, tmp.dir, c.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60), c.opensslArgs);
      assert.equal(o.ok, c.expect === 'ok', `openssl disagrees: ${o.output}`);
    }
  });
}

test('errors name the certificate at fault: depth, subject, chain', () => {
  try {
    verifyChain(L.cert, { roots: [R.cert], intermediates: [intermediate('Int', k.int, R, { notAfter: PAST }).cert], time: NOW });
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(isSignetError(e, 'ERR_VERIFY_EXPIRED'));
    assert.equal(e.category, 'invalid');
    assert.equal(e.detail?.depth, 1);
    assert.equal(e.detail?.subject, 'CN=Int');
    assert.deepEqual(e.detail?.chain, ['CN=www.example.com', 'CN=Int', 'CN=Root']);
    assert.match(e.message, /^certificate "CN=Int" \(depth 1\) expired/);
  }
});

test('the expired candidate is skipped and the valid one is returned (by fingerprint)', () => {
  const expired = intermediate('Int', k.int, R, { notAfter: PAST });
  const r = verifyChain(L.cert, { roots: [R.cert], intermediates: [expired.cert, I.cert], time: NOW });
  assert.equal(r.chain[1]?.fingerprintSha256, I.cert.fingerprintSha256);
});

test('a mesh of cross-signed CAs stays bounded and finds the path', () => {
  // Six CAs, each certified by every other one (30 cross-certificates) and by itself.
  const parties = Array.from({ length: 6 }, () => newParty());
  const selfs = parties.map((p, i) => root(`Mesh ${i}`, p));
  const all: Issued[] = [];
  for (let i = 0; i < parties.length; i++) {
    for (let j = 0; j < parties.length; j++) if (i !== j) all.push(intermediate(`Mesh ${i}`, parties[i] as (typeof parties)[number], selfs[j] as Issued));
  }
  const l = leaf('mesh.example.com', k.leaf, selfs[0] as Issued);
  assert.equal(run({ leaf: l, roots: [R], intermediates: all }).result, 'ERR_VERIFY_NO_ISSUER');
  const r = run({ leaf: l, roots: [selfs[5] as Issued], intermediates: all });
  assert.equal(r.result, 'ok');
});

test('bad options are usage errors', () => {
  const bad = (o: Partial<Parameters<typeof verifyChain>[1]>): string => {
    try {
      verifyChain(L.cert, { roots: [R.cert], intermediates: [I.cert], time: NOW, ...o });
      return 'ok';
    } catch (e) {
      return isSignetError(e) ? e.code : 'other';
    }
  };
  assert.equal(bad({ time: new Date(Number.NaN) }), 'ERR_BAD_OPTION');
  assert.equal(bad({ maxDepth: -1 }), 'ERR_BAD_OPTION');
  assert.equal(bad({ host: 'bad host' }), 'ERR_BAD_OPTION');
  assert.equal(bad({ ip: '10.0.0.256' }), 'ERR_BAD_OPTION');
  assert.equal(bad({ purpose: 'email' as 'any' }), 'ERR_BAD_OPTION');
});
