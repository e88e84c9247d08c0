/**
 * The TPM structures the server reads and the KDFs of its TPM2_MakeCredential: KDFa and KDFe
 * checked against an independent implementation (python3-cryptography's SP 800-108 KBKDF and
 * SP 800-56A concatenation KDF), TPM2B_PUBLIC parsing refusals as a table, and the AK attribute
 * rules. (That the credential itself is right is proven by real TPMs in tpm.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { TPMA, TPM_ALG, checkAkPublic, kdfa, kdfe, parseTpm2bPublic } from '../../src/spiffe/tpm.js';
import { isSignetError } from '../../src/core/errors.js';

const PY = `
import sys, json
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, Mode, CounterLocation
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
cases = json.loads(sys.stdin.read())
out = []
H = {'sha256': hashes.SHA256(), 'sha384': hashes.SHA384(), 'sha512': hashes.SHA512()}
for c in cases:
    key, u, v = bytes.fromhex(c['key']), bytes.fromhex(c['u']), bytes.fromhex(c['v'])
    n = c['bits'] // 8
    if c['kind'] == 'a':
        k = KBKDFHMAC(algorithm=H[c['hash']], mode=Mode.CounterMode, length=n, rlen=4, llen=4, location=CounterLocation.BeforeFixed, label=c['label'].encode(), context=u + v, fixed=None)
    else:
        k = ConcatKDFHash(algorithm=H[c['hash']], length=n, otherinfo=c['label'].encode() + b'\\0' + u + v)
    out.append(k.derive(key).hex())
print(json.dumps(out))
`;

test('KDFa and KDFe agree with python3-cryptography (SP 800-108 counter mode with HMAC; SP 800-56A concatenation KDF)', () => {
  const cases = [
    { kind: 'a', hash: 'sha256', key: '11'.repeat(32), label: 'STORAGE', u: '000b' + 'ab'.repeat(32), v: '', bits: 128 },
    { kind: 'a', hash: 'sha256', key: '22'.repeat(32), label: 'INTEGRITY', u: '', v: '', bits: 256 },
    { kind: 'a', hash: 'sha384', key: '33'.repeat(48), label: 'STORAGE', u: '000c' + 'cd'.repeat(48), v: '', bits: 256 },
    { kind: 'a', hash: 'sha256', key: '44'.repeat(20), label: 'X', u: '01', v: '02', bits: 520 },
    { kind: 'e', hash: 'sha256', key: '55'.repeat(32), label: 'IDENTITY', u: '66'.repeat(32), v: '77'.repeat(32), bits: 256 },
    { kind: 'e', hash: 'sha384', key: '88'.repeat(48), label: 'IDENTITY', u: '99'.repeat(48), v: 'aa'.repeat(48), bits: 384 },
    { kind: 'e', hash: 'sha256', key: 'bb'.repeat(32), label: 'IDENTITY', u: '', v: '', bits: 600 },
  ];
  const theirs = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify(cases) }).toString()) as string[];
  const ours = cases.map((c) => (c.kind === 'a' ? kdfa : kdfe)(c.hash, Buffer.from(c.key, 'hex'), c.label, Buffer.from(c.u, 'hex'), Buffer.from(c.v, 'hex'), c.bits).toString('hex'));
  assert.deepEqual(ours, theirs);
});

/** A TPM2B_PUBLIC of an ECC P-256 signing key, field by field, so the table below can change one field at a time. */
function eccPublic(over: { type?: number; nameAlg?: number; attributes?: number; curve?: number; scheme?: number[]; extra?: number[]; coordinate?: number } = {}): Buffer {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x as string, 'base64url');
  const y = Buffer.from(jwk.y as string, 'base64url');
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const attrs = over.attributes ?? TPMA.fixedTPM | TPMA.fixedParent | TPMA.sensitiveDataOrigin | TPMA.userWithAuth | TPMA.restricted | TPMA.sign;
  const coord = (b: Buffer) => [...u16(over.coordinate ?? b.length), ...b.subarray(0, over.coordinate ?? b.length)];
  const body = Buffer.from([
    ...u16(over.type ?? TPM_ALG.ECC),
    ...u16(over.nameAlg ?? TPM_ALG.SHA256),
    (attrs >>> 24) & 0xff, (attrs >>> 16) & 0xff, (attrs >>> 8) & 0xff, attrs & 0xff,
    ...u16(0), // authPolicy
    ...u16(TPM_ALG.NULL), // symmetric
    ...(over.scheme ?? [...u16(0x0018), ...u16(TPM_ALG.SHA256)]), // ECDSA with SHA-256
    ...u16(over.curve ?? 0x0003),
    ...u16(TPM_ALG.NULL), // kdf
    ...coord(x),
    ...coord(y),
    ...(over.extra ?? []),
  ]);
  return Buffer.concat([Buffer.from(u16(body.length)), body]);
}

function reason(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(isSignetError(e), String(e));
    assert.equal(e.code, 'ERR_ATTESTATION_FAILED');
    return (e.detail as { reason?: string } | undefined)?.reason;
  }
}

test('TPM2B_PUBLIC parsing: a well-formed key parses with its name; every malformation is refused as malformed', () => {
  const good = parseTpm2bPublic(eccPublic(), 'ak');
  assert.equal(good.type, 'ecc');
  assert.equal(good.name.length, 34);
  assert.deepEqual([...good.name.subarray(0, 2)], [0x00, 0x0b]);
  assert.equal(good.key.asymmetricKeyType, 'ec');
  const table: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['size only', Buffer.from([0x00, 0x00])],
    ['size larger than the data', Buffer.concat([Buffer.from([0x01, 0x00]), eccPublic().subarray(2)])],
    ['trailing bytes after the structure', Buffer.concat([eccPublic(), Buffer.from([0])])],
    ['trailing bytes inside the structure', eccPublic({ extra: [0, 0] })],
    ['keyed-hash object', eccPublic({ type: TPM_ALG.KEYEDHASH })],
    ['SHA-1 name algorithm', eccPublic({ nameAlg: TPM_ALG.SHA1 })],
    ['unknown name algorithm', eccPublic({ nameAlg: 0x7777 })],
    ['unknown curve', eccPublic({ curve: 0x0010 })],
    ['short coordinates', eccPublic({ coordinate: 31 })],
    ['truncated scheme', eccPublic({ scheme: [0x00] })],
    ['oversized', Buffer.alloc(2048)],
  ];
  for (const [what, bytes] of table) assert.equal(reason(() => parseTpm2bPublic(bytes, 'ak')), 'malformed', what);
});

test('an AK must be a restricted signing key created in its TPM that cannot leave it', () => {
  const all = TPMA.fixedTPM | TPMA.fixedParent | TPMA.sensitiveDataOrigin | TPMA.restricted | TPMA.sign;
  assert.equal(reason(() => checkAkPublic(parseTpm2bPublic(eccPublic({ attributes: all }), 'ak'))), undefined);
  for (const bit of ['fixedTPM', 'fixedParent', 'sensitiveDataOrigin', 'restricted', 'sign'] as const) {
    assert.equal(reason(() => checkAkPublic(parseTpm2bPublic(eccPublic({ attributes: all & ~TPMA[bit] }), 'ak'))), 'ak-attributes', `without ${bit}`);
  }
  assert.equal(reason(() => checkAkPublic(parseTpm2bPublic(eccPublic({ attributes: all | TPMA.decrypt }), 'ak'))), 'ak-attributes', 'with decrypt');
});
