/**
 * X509-SVID validation (src/spiffe/x509-svid.ts) by the standard's rules, one row per rule, with
 * certificates built unlinted (so that the wrong ones exist): exactly one URI SAN that is a valid
 * SPIFFE ID, not a CA, no keyCertSign/cRLSign, a chain to the bundle of the ID's own trust domain
 * — another domain's bundle does not help even when it holds the right root.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { isSignetError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { parsePrivateKey } from '../../src/crypto/keys.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import type { TrustBundle } from '../../src/spiffe/bundle.js';
import { validateX509Svid, type X509SvidReason } from '../../src/spiffe/x509-svid.js';
import { issueCertificate, issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import type { GeneralName } from '../../src/x509/general-name.js';
import { parseSubject } from '../../src/x509/name.js';
import { specFromProfile } from '../../src/x509/profiles.js';
import { createTestCa, type TestCa } from '../helpers/ca.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-x509-svid-validate-');
let ca: TestCa;
let other: TestCa;
let intDer: Uint8Array;
let leafOf: (sans: GeneralName[], o?: { ca?: boolean; keyUsage?: string[]; lifetimeMs?: number; now?: Date }) => Uint8Array;
const now = new Date();

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  ca = await createTestCa({ parent: tmp.path('a'), trustDomain: 'example.org' });
  other = await createTestCa({ parent: tmp.path('b') });
  intDer = decodePem(readFileSync(ca.intermediateFile, 'latin1'), ['CERTIFICATE']).der;
  const signer = createSoftwareSigner(parsePrivateKey(new Uint8Array(readFileSync(ca.config.intermediate.key)), 'test ca password'));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  leafOf = (sans, o = {}) => {
    const spec = specFromProfile(o.ca ? 'intermediate-ca' : 'leaf', { subject: parseSubject('CN=x'), publicKey, now: o.now ?? now, sans, lifetimeMs: o.lifetimeMs ?? 3_600_000, ...(o.ca ? {} : { extKeyUsage: ['serverAuth', 'clientAuth'] }) });
    const withKu = o.keyUsage ? { ...spec, extensions: { ...spec.extensions, keyUsage: { critical: true, usages: o.keyUsage } } } : spec;
    return issueCertificate(withKu as typeof spec, signer, issuerFromCertificate(intDer));
  };
});

after(() => tmp.cleanup());

test('each X509-SVID rule, with its reason', () => {
  const bundle = (td: string): TrustBundle | undefined =>
    td === 'example.org' ? { trustDomain: 'example.org', x509Authorities: [ca.rootDer], jwtAuthorities: new Map() } : td === 'other.org' ? { trustDomain: 'other.org', x509Authorities: [ca.rootDer, other.rootDer], jwtAuthorities: new Map() } : undefined;
  const uri = (value: string): GeneralName => ({ type: 'uri', value });
  const rows: [string, Uint8Array[], X509SvidReason | undefined][] = [
    ['valid', [leafOf([uri('spiffe://example.org/web')]), intDer], undefined],
    ['valid with DNS names too', [leafOf([uri('spiffe://example.org/web'), { type: 'dns', value: 'web.example.org' }]), intDer], undefined],
    ['no chain', [], 'malformed'],
    ['not DER', [new Uint8Array([0x30, 0x03, 1, 2, 3])], 'malformed'],
    ['no URI SAN', [leafOf([{ type: 'dns', value: 'web.example.org' }]), intDer], 'no-spiffe-id'],
    ['two URI SANs', [leafOf([uri('spiffe://example.org/a'), uri('spiffe://example.org/b')]), intDer], 'no-spiffe-id'],
    ['a URI that is not a SPIFFE ID', [leafOf([uri('https://example.org/web')]), intDer], 'no-spiffe-id'],
    ['a malformed SPIFFE ID', [leafOf([uri('spiffe://example.org/a/../b')]), intDer], 'no-spiffe-id'],
    ['a CA certificate', [leafOf([uri('spiffe://example.org/web')], { ca: true }), intDer], 'not-leaf'],
    ['keyCertSign', [leafOf([uri('spiffe://example.org/web')], { keyUsage: ['digitalSignature', 'keyCertSign'] }), intDer], 'not-leaf'],
    ['a trust domain without a bundle', [leafOf([uri('spiffe://nowhere.org/web')]), intDer], 'no-bundle'],
    ['no intermediate', [leafOf([uri('spiffe://example.org/web')])], 'chain'],
    ['expired', [leafOf([uri('spiffe://example.org/web')], { now: new Date(now.getTime() - 7_200_000) }), intDer], 'chain'],
    // other.org's bundle holds example.org's root too — but an other.org ID from example.org's CA still needs other.org's bundle; it is that one that counts.
    ['validated with its own domain\'s bundle only', [leafOf([uri('spiffe://other.org/web')]), intDer], undefined],
  ];
  for (const [what, chain, reason] of rows) {
    let got: string | undefined;
    try {
      const v = validateX509Svid(chain, bundle, now);
      assert.ok(v.chain.length >= 2, what);
    } catch (e) {
      assert.ok(isSignetError(e, 'ERR_X509_SVID_INVALID'), `${what}: ${String(e)}`);
      got = (e.detail as { reason: string }).reason;
    }
    assert.equal(got, reason, what);
  }
  // The pooled-root mistake: example.org's ID does not validate with a bundle map that only knows other.org.
  assert.throws(() => validateX509Svid([leafOf([uri('spiffe://example.org/web')]), intDer], (td) => (td === 'other.org' ? bundle('other.org') : undefined), now), (e) => isSignetError(e, 'ERR_X509_SVID_INVALID') && (e.detail as { reason: string }).reason === 'no-bundle');
});
