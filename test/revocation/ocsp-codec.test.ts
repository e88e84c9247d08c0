/**
 * OCSP messages against OpenSSL: requests made by `openssl ocsp -reqout` parse to the CertIDs
 * and nonce OpenSSL put in them (SHA-1 and SHA-256, one or several, with and without a nonce);
 * defective requests are ERR_OCSP_MALFORMED_REQUEST; and the ResponseData we write is byte for
 * byte the one OpenSSL's own responder (`openssl ocsp -index … -resp_key_id`) writes for the
 * same request, statuses and times — good, revoked with a reason, unknown, nonce echoed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { SignetError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { issuerFromCertificate } from '../../src/x509/certificate-builder.js';
import { childrenLazy, readSingleLazy } from '../../src/x509/der-lazy.js';
import { buildOcspRequest, buildResponseData, encodeCertId, issuerHashes, ocspStatusResponse, parseOcspRequest, parseOcspResponse, signOcspResponse, subjectPublicKeyBits, type CertStatus } from '../../src/x509/ocsp.js';
import { verifySignature } from '../../src/crypto/signature.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-ocsp-codec-');
let caDer: Uint8Array;

before(() => {
  opensslOk(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', tmp.path('ca.key')]);
  opensslOk(['req', '-x509', '-new', '-key', tmp.path('ca.key'), '-subj', '/O=Codec/CN=Codec CA', '-days', '30', '-out', tmp.path('ca.pem'), '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  caDer = decodePem(readFileSync(tmp.path('ca.pem'), 'latin1'), ['CERTIFICATE']).der;
});

after(() => tmp.cleanup());

let n = 0;
function request(args: readonly string[]): Uint8Array {
  const out = tmp.path(`req-${n++}.der`);
  opensslOk(['ocsp', '-issuer', tmp.path('ca.pem'), '-reqout', out, ...args]);
  return new Uint8Array(readFileSync(out));
}

function rejects(der: Uint8Array, why: RegExp): void {
  assert.throws(
    () => parseOcspRequest(der),
    (e: unknown) => e instanceof SignetError && e.code === 'ERR_OCSP_MALFORMED_REQUEST' && why.test(e.message),
  );
}

test('OpenSSL requests: CertID parts match the issuer hashes (SHA-1, SHA-256), serials in store form, nonce present or not', () => {
  const ca = parseCertificate(caDer);
  const hashes = new Map(issuerHashes(issuerFromCertificate(caDer).name, subjectPublicKeyBits(ca.spki)).map((h) => [h.hash, h]));
  const sha1 = parseOcspRequest(request(['-serial', '0x0102ab', '-no_nonce']));
  assert.equal(sha1.nonce, undefined);
  assert.equal(sha1.certIds.length, 1);
  const id = sha1.certIds[0];
  assert.equal(id?.hash, 'sha1');
  assert.equal(id?.serial, '0102ab');
  assert.deepEqual(id?.issuerNameHash, hashes.get('sha1')?.nameHash);
  assert.deepEqual(id?.issuerKeyHash, hashes.get('sha1')?.keyHash);
  const sha256 = parseOcspRequest(request(['-sha256', '-serial', '0x80', '-serial', '0x7f']));
  assert.deepEqual(sha256.certIds.map((c) => [c.hash, c.serial]), [['sha256', '80'], ['sha256', '7f']]);
  assert.deepEqual(sha256.certIds[0]?.issuerKeyHash, hashes.get('sha256')?.keyHash);
  assert.ok(sha256.nonce, 'OpenSSL sends a nonce by default');
  // Serial 0 and negative serials are never ours: no store form, answered `unknown`.
  assert.equal(parseOcspRequest(request(['-serial', '0', '-no_nonce'])).certIds[0]?.serial, undefined);
});

test('defective requests are ERR_OCSP_MALFORMED_REQUEST with what is wrong', () => {
  const good = request(['-serial', '0x01', '-no_nonce']);
  rejects(new Uint8Array(0), /empty/);
  rejects(Uint8Array.of(0x30, 0x05, 0x30), /truncated/);
  rejects(new Uint8Array([...good, 0x00]), /trailing/);
  rejects(Uint8Array.of(0x31, 0x00), /OCSPRequest/);
  rejects(Uint8Array.of(0x30, 0x02, 0x30, 0x00), /requestList is missing/);
  rejects(Uint8Array.of(0x30, 0x04, 0x30, 0x02, 0x30, 0x00), /requestList is empty/);
  // Indefinite length (BER) is not DER.
  rejects(Uint8Array.of(0x30, 0x80, 0x00, 0x00), /indefinite/);
  // 17 CertIDs: more than a request may ask.
  const many = parseOcspRequest(request(Array.from({ length: 16 }, (_, i) => ['-serial', String(i + 1)]).flat().concat('-no_nonce')));
  assert.equal(many.certIds.length, 16);
  rejects(request(Array.from({ length: 17 }, (_, i) => ['-serial', String(i + 1)]).flat().concat('-no_nonce')), /at most 16/);
  // A nonce longer than RFC 8954 allows.
  rejects(withNonce(good, 33), /nonce has 33 octets/);
  rejects(withNonce(good, 0), /nonce has 0 octets/);
  assert.ok(parseOcspRequest(withNonce(good, 32)).nonce, 'a nonce of 32 octets is fine');
  // An unknown critical extension; a version other than v1.
  rejects(withExtension(good, [0x30, 0x0a, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x01, 0x01, 0xff, 0x04, 0x00]), /critical/);
  assert.doesNotThrow(() => parseOcspRequest(withExtension(good, [0x30, 0x07, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x00])), 'an unknown non-critical extension is ignored');
  rejects(withVersion(good, 1), /version v1/);
  assert.doesNotThrow(() => parseOcspRequest(withVersion(good, 0)));
});

/** `der` (a request without extensions) with a nonce extension of `len` octets. */
function withNonce(der: Uint8Array, len: number): Uint8Array {
  const nonce = [0x04, len, ...new Array<number>(len).fill(0xab)];
  const value = [0x04, nonce.length, ...nonce];
  const oid = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];
  return withExtension(der, [0x30, oid.length + value.length, ...oid, ...value]);
}

/** `der` (a request without extensions) with one request extension. */
function withExtension(der: Uint8Array, ext: readonly number[]): Uint8Array {
  const top = readSingleLazy(der);
  const tbs = childrenLazy(top)[0];
  assert.ok(tbs);
  const exts = [0xa2, ext.length + 2, 0x30, ext.length, ...ext];
  return rewrap(rewrap([...tbs.content, ...exts]));
}

function withVersion(der: Uint8Array, v: number): Uint8Array {
  const tbs = childrenLazy(readSingleLazy(der))[0];
  assert.ok(tbs);
  return rewrap(rewrap([0xa0, 0x03, 0x02, 0x01, v, ...tbs.content]));
}

function rewrap(content: readonly number[] | Uint8Array): Uint8Array {
  assert.ok(content.length < 0x10000);
  const header = content.length < 0x80 ? [0x30, content.length] : content.length < 0x100 ? [0x30, 0x81, content.length] : [0x30, 0x82, content.length >> 8, content.length & 0xff];
  return Uint8Array.from([...header, ...content]);
}

/** Our ResponseData for the same request, statuses and times as OpenSSL's responder used. */
test('ResponseData byte for byte as OpenSSL\'s responder writes it: good, revoked with reason, unknown, nonce echoed', () => {
  // OpenSSL's responder reads statuses from an `openssl ca` index; the CA key signs (its own responder).
  const revokedAt = '260101120000Z';
  writeFileSync(
    tmp.path('index.txt'),
    ['V\t291231235959Z\t\t0A\tunknown\t/CN=good', `R\t291231235959Z\t${revokedAt},keyCompromise\t0B\tunknown\t/CN=revoked`, `R\t291231235959Z\t${revokedAt}\t0C\tunknown\t/CN=unspecified`].join('\n') + '\n',
  );
  const req = request(['-serial', '0x0a', '-serial', '0x0b', '-serial', '0x0c', '-serial', '0x0d']);
  writeFileSync(tmp.path('req.der'), req);
  opensslOk(['ocsp', '-index', tmp.path('index.txt'), '-rsigner', tmp.path('ca.pem'), '-rkey', tmp.path('ca.key'), '-CA', tmp.path('ca.pem'), '-reqin', tmp.path('req.der'), '-respout', tmp.path('resp.der'), '-resp_key_id', '-nmin', '60']);
  const theirs = new Uint8Array(readFileSync(tmp.path('resp.der')));
  // OCSPResponse → responseBytes → response OCTET STRING → BasicOCSPResponse → tbsResponseData.
  const [, responseBytes] = childrenLazy(readSingleLazy(theirs));
  const basicOctets = childrenLazy(childrenLazy(responseBytes!)[0]!)[1]!;
  const [tbs] = childrenLazy(readSingleLazy(basicOctets.content));
  const text = opensslOk(['ocsp', '-respin', tmp.path('resp.der'), '-resp_text', '-noverify']);
  const produced = new Date(/Produced At: (.+)/.exec(text)?.[1] ?? '');
  const thisUpdate = new Date(/This Update: (.+)/.exec(text)?.[1] ?? '');
  const nextUpdate = new Date(/Next Update: (.+)/.exec(text)?.[1] ?? '');
  const parsed = parseOcspRequest(req);
  const revokedDate = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  const statuses: CertStatus[] = [
    { status: 'good' },
    { status: 'revoked', revokedAt: revokedDate, reason: 'keyCompromise' },
    { status: 'revoked', revokedAt: revokedDate },
    { status: 'unknown' },
  ];
  const ca = parseCertificate(caDer);
  const ours = buildResponseData({
    responderKeyHash: new Uint8Array(createHash('sha1').update(subjectPublicKeyBits(ca.spki)).digest()),
    producedAt: produced,
    responses: parsed.certIds.map((id, i) => ({ certId: id.der, cert: statuses[i] as CertStatus, thisUpdate, nextUpdate })),
    ...(parsed.nonce !== undefined && { nonce: parsed.nonce }),
    certs: [],
  });
  assert.equal(Buffer.from(ours).toString('hex'), Buffer.from(tbs!.bytes).toString('hex'));

  // The reader (the client side of verify --ocsp) on OpenSSL's response: what OpenSSL printed.
  const read = parseOcspResponse(theirs);
  assert.equal(read.status, 'successful');
  const basic = read.basic!;
  assert.deepEqual(basic.tbs, tbs!.bytes);
  assert.deepEqual(basic.responderId, { byKey: new Uint8Array(createHash('sha1').update(subjectPublicKeyBits(ca.spki)).digest()) });
  assert.equal(basic.producedAt.getTime(), produced.getTime());
  assert.deepEqual(basic.nonce, parsed.nonce === undefined ? undefined : readSingleLazy(childrenLazy(readSingleLazy(parsed.nonce))[1]!.content).content);
  assert.deepEqual(basic.responses.map((r) => r.cert), statuses);
  assert.deepEqual(basic.responses.map((r) => [r.certId.serial, r.thisUpdate.getTime(), r.nextUpdate?.getTime()]), parsed.certIds.map((id) => [id.serial, thisUpdate.getTime(), nextUpdate.getTime()]));
  assert.ok(verifySignature(ca.publicKey!, basic.signatureAlgorithm, basic.tbs, basic.signature), 'the signature verifies over the tbs read');
  for (const status of ['malformedRequest', 'internalError', 'tryLater', 'sigRequired', 'unauthorized'] as const) assert.deepEqual(parseOcspResponse(ocspStatusResponse(status)), { status });
  for (const bad of [new Uint8Array(0), Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x04), Uint8Array.of(0x30, 0x03, 0x0a, 0x01, 0x00), theirs.subarray(0, theirs.length - 1), Uint8Array.from([...theirs, 0])]) {
    assert.throws(() => parseOcspResponse(bad), (e: unknown) => e instanceof SignetError && e.code === 'ERR_OCSP_MALFORMED_RESPONSE');
  }
});

test('a signed response verifies with OpenSSL against its responder certificate', () => {
  // The CA as its own responder (RFC 6960 §4.2.2.2 allows it), its certificate in `certs`.
  const signer = createSoftwareSigner(createPrivateKey(readFileSync(tmp.path('ca.key'))));
  const reqDer = request(['-serial', '0x0a']);
  writeFileSync(tmp.path('ours-req.der'), reqDer);
  const req = parseOcspRequest(reqDer);
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const der = signOcspResponse(
    {
      responderKeyHash: new Uint8Array(createHash('sha1').update(subjectPublicKeyBits(parseCertificate(caDer).spki)).digest()),
      producedAt: now,
      responses: req.certIds.map((id) => ({ certId: id.der, cert: { status: 'good' }, thisUpdate: now, nextUpdate: new Date(now.getTime() + 3_600_000) })),
      ...(req.nonce !== undefined && { nonce: req.nonce }),
      certs: [caDer],
    },
    signer,
  );
  writeFileSync(tmp.path('ours.der'), der);
  const out = opensslOk(['ocsp', '-respin', tmp.path('ours.der'), '-CAfile', tmp.path('ca.pem'), '-reqin', tmp.path('ours-req.der'), '-resp_text']);
  assert.match(out, /Cert Status: good/);
  assert.match(out, /OCSP Nonce:/);
});

test('requests we write are byte for byte the ones OpenSSL writes (SHA-1 and SHA-256, several serials, top-bit serial)', () => {
  const ca = parseCertificate(caDer);
  const hashes = issuerHashes(issuerFromCertificate(caDer).name, subjectPublicKeyBits(ca.spki));
  const sha1 = hashes.find((h) => h.hash === 'sha1');
  const sha256 = hashes.find((h) => h.hash === 'sha256');
  assert.ok(sha1 && sha256);
  const theirs1 = request(['-serial', '0x0a', '-serial', '0xff01', '-no_nonce']);
  assert.deepEqual(buildOcspRequest([encodeCertId(sha1, '0a'), encodeCertId(sha1, 'ff01')]), theirs1);
  const theirs256 = request(['-sha256', '-serial', '0x7fabcdef', '-no_nonce']);
  assert.deepEqual(buildOcspRequest([encodeCertId(sha256, '7fabcdef')]), theirs256);
  // With a nonce: the same bytes as OpenSSL's but for the random nonce itself.
  const withN = request(['-serial', '0x0a']);
  const nonce = parseOcspRequest(withN).nonce;
  assert.ok(nonce);
  const value = nonce.subarray(nonce.length - 16);
  assert.deepEqual(buildOcspRequest([encodeCertId(sha1, '0a')], value), withN);
});
