/**
 * The default leaf template's fast path (src/x509/template/fast-leaf.ts) against the template
 * engine: for every input — good and bad names, each key type, each kind of template data — both
 * give the same request (and so the same TBSCertificate bytes), or the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { isSignetError } from '../../src/core/errors.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { buildTbsCertificate, type IssuerInfo } from '../../src/x509/certificate-builder.js';
import { parseGeneralName, type GeneralName } from '../../src/x509/general-name.js';
import { encodeName } from '../../src/x509/name.js';
import { defaultLeafRenderer } from '../../src/x509/template/fast-leaf.js';
import { getDefaultTemplate, renderTemplate, templateToSpec, type SanInput } from '../../src/x509/template/index.js';

const keys: Record<string, KeyObject> = {
  'P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  'P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  Ed25519: generateKeyPairSync('ed25519').publicKey,
  RSA: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
};
const issuerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const signer = createSoftwareSigner(issuerKey);
const issuer: IssuerInfo = { name: encodeName([[{ type: 'CN', value: 'Test Issuing CA' }]]), keyIdentifier: new Uint8Array(20).fill(7) };

const DATA: readonly unknown[] = [
  {},
  { crlDistributionPoints: ['http://crl.example.com/ca.crl'] },
  { ocspServer: ['http://ocsp.example.com'] },
  { crlDistributionPoints: ['http://crl.example.com/ca.crl'], ocspServer: ['http://ocsp.example.com'], issuingCertificateURL: ['http://ca.example.com/ca.crt'] },
  { policies: ['2.23.140.1.2.1'] },
  { crlDistributionPoints: 'http://crl.example.com/one.crl', ocspServer: ['http://ocsp.example.com', 'http://ocsp.example.com'] },
];

const COMMON_NAMES: readonly string[] = ['web.example.com', '', 'a'.repeat(64), 'a'.repeat(65), 'Ünïcødé Name', 'with\u0000nul', 'spiffe://example.org/w', ' spaced '];

const SANS: readonly (readonly SanInput[])[] = [
  [],
  [{ type: 'dns', value: 'web.example.com' }],
  [{ type: 'dns', value: 'WEB.Example.COM' }, { type: 'dns', value: 'web.example.com' }],
  [{ type: 'dns', value: '*.example.com' }, { type: 'dns', value: 'trailing.example.com.' }],
  [{ type: 'ip', value: '10.1.2.3' }, { type: 'ip', value: '2001:DB8::0:1' }],
  [{ type: 'email', value: 'ops@example.com' }, { type: 'uri', value: 'spiffe://example.org/ns/default/sa/web' }],
  [{ type: 'dns', value: 'bad_name!.example.com' }],
  [{ type: 'dns', value: '' }],
  [{ type: 'ip', value: '300.1.2.3' }],
  [{ type: 'uri', value: 'not a uri' }],
  [{ type: 'dirName', value: [[{ type: 'CN', value: 'x' }]] }, { type: 'dns', value: 'kept.example.com' }],
  [{ type: 'dns', value: 42 }],
  [{ type: 'dns', value: `${'l'.repeat(64)}.example.com` }],
  ['dns:a.example.com', 'ip:192.0.2.1', 'email:a@example.com', 'uri:https://example.com/x'].map((s): GeneralName => parseGeneralName(s)),
];

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message: string; detail: unknown };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!isSignetError(e)) throw e;
    return { ok: false, code: e.code, message: e.message, detail: e.detail };
  }
}

function engine(cn: string, sans: readonly SanInput[], publicKey: KeyObject, data: unknown, token: unknown) {
  return renderTemplate(getDefaultTemplate('leaf'), { subject: [[{ type: 'CN', value: cn }]], sans, publicKey, token, data });
}

/** The TBS both requests give, with everything else fixed. */
function tbsOf(request: ReturnType<typeof engine>, publicKey: KeyObject): Buffer {
  const now = new Date('2030-01-02T03:04:05Z');
  const spec = templateToSpec(request, { publicKey, now, notAfter: new Date('2030-01-03T03:04:05Z'), serialNumber: Uint8Array.of(0x01, 0x02) });
  return Buffer.from(buildTbsCertificate(spec, issuer, signer.algorithm));
}

test('the fast path renders exactly what the template engine renders, or fails with the same error', () => {
  const token = { sub: 'web.example.com', sans: ['web.example.com'], nested: { a: [1, { b: null }] } };
  let compared = 0;
  let failures = 0;
  for (const data of DATA) {
    const fast = defaultLeafRenderer(data);
    assert.ok(fast, `a renderer for ${JSON.stringify(data)}`);
    for (const [keyName, key] of Object.entries(keys)) {
      for (const cn of COMMON_NAMES) {
        for (const sans of SANS) {
          const label = `${JSON.stringify(data)} ${keyName} cn=${JSON.stringify(cn)} sans=${JSON.stringify(sans)}`;
          const viaEngine = outcome(() => engine(cn, sans, key, data, token));
          const viaFast = outcome(() => fast.render({ commonName: cn, sans, publicKey: key, token }));
          assert.deepStrictEqual(viaFast, viaEngine, label);
          if (viaEngine.ok && viaFast.ok) {
            const a = outcome(() => tbsOf(viaEngine.value as ReturnType<typeof engine>, key));
            const b = outcome(() => tbsOf(viaFast.value as ReturnType<typeof engine>, key));
            assert.deepStrictEqual(b, a, `TBS of ${label}`);
          } else {
            failures++;
          }
          compared++;
        }
      }
    }
  }
  // Both kinds of outcome were exercised.
  assert.ok(failures > 0 && failures < compared, `${failures} failures of ${compared}`);
});

test('key usage follows the key type: keyEncipherment for RSA only', () => {
  const fast = defaultLeafRenderer({});
  assert.ok(fast);
  const sans = [{ type: 'dns', value: 'a.example.com' }];
  assert.deepEqual(fast.render({ commonName: 'a', sans, publicKey: keys.RSA as KeyObject })?.keyUsage, ['digitalSignature', 'keyEncipherment']);
  assert.deepEqual(fast.render({ commonName: 'a', sans, publicKey: keys['P-256'] as KeyObject })?.keyUsage, ['digitalSignature']);
});

test('what the fast path does not reproduce goes to the engine', () => {
  const fast = defaultLeafRenderer({});
  assert.ok(fast);
  const key = keys['P-256'] as KeyObject;
  // Token claims nested deeper than template variables hold: the engine refuses them.
  let deep: unknown = 'x';
  for (let i = 0; i < 70; i++) deep = { d: deep };
  assert.equal(fast.render({ commonName: 'a', sans: [], publicKey: key, token: deep }), undefined);
  assert.throws(() => engine('a', [], key, {}, deep), (e) => isSignetError(e, 'ERR_TEMPLATE_INVALID'));
  // Names large enough to approach the output limit.
  const many = Array.from({ length: 2000 }, (_, i) => ({ type: 'dns', value: `host-${i}-${'x'.repeat(40)}.example.com` }));
  assert.equal(fast.render({ commonName: 'a', sans: many, publicKey: key }), undefined);
});

test('template data the engine cannot render gives no fast path', () => {
  assert.equal(defaultLeafRenderer({ crlDistributionPoints: ['not a url'] }), undefined);
  assert.equal(defaultLeafRenderer({ policies: ['not-an-oid'] }), undefined);
});
