/**
 * TPM node attestation against real software TPMs (`swtpm`, manufactured with EK certificates by
 * `swtpm_setup`/`swtpm_localca`) driven by `tpm2-tools`, as an agent on a node would: the server
 * checks the EK certificate chain to the configured manufacturer CA and the AK's attributes, makes
 * a credential (its own TPM2_MakeCredential) that the TPM activates (TPM2_ActivateCredential),
 * and the node becomes spiffe://TD/signet/agent/tpm/<EK key hash> with node selectors from its
 * TPM. Both EK kinds swtpm provisions (RSA 2048 / SHA-256 / AES-128, and ECC P-384 / SHA-384 /
 * AES-256). Refused: an AK resident in another TPM, an EK of a foreign manufacturer, an EK public
 * area that is not the certificate's key, an AK that is not a restricted signing key, evidence
 * swapped between the two steps, a replayed or expired challenge, malformed input, and a CA
 * without a manufacturer CA.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { decodePem, encodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { TPMA, parseTpm2bPublic } from '../../src/spiffe/tpm.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, type TestCa } from '../helpers/ca.js';
import { ok, signetAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { activateCredential, manufacturer, startSoftTpm, tpmIdentity, type Manufacturer, type SoftTpm, type TpmIdentity } from '../helpers/tpm.js';

const tmp = tempDir('signet-tpm-');
let maker: Manufacturer;
let foreignMaker: Manufacturer;
let tpmA: SoftTpm;
let tpmB: SoftTpm;
let tpmForeign: SoftTpm;
let ca: TestCa;
let running: RunningCa;
let plain: TestCa;
let plainRunning: RunningCa;
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };

before(async () => {
  maker = manufacturer(tmp.path('maker'));
  foreignMaker = manufacturer(tmp.path('foreign-maker'));
  // One after the other: swtpm_localca makes its CA on first use.
  tpmA = await startSoftTpm(tmp.path('tpm-a'), maker);
  tpmB = await startSoftTpm(tmp.path('tpm-b'), maker);
  tpmForeign = await startSoftTpm(tmp.path('tpm-foreign'), foreignMaker);
  mkdirSync(tmp.path('ca'));
  mkdirSync(tmp.path('plain'));
  ca = await createTestCa({ parent: tmp.path('ca'), trustDomain: 'example.org', edit: (doc) => void (doc.spiffe = { tpmEkCaFile: maker.rootPem }) });
  running = await startTestCa(ca, { clock, revocationIntervalMs: 3_600_000, spiffeIntervalMs: 3_600_000 });
  plain = await createTestCa({ parent: tmp.path('plain'), trustDomain: 'example.org' });
  plainRunning = await startTestCa(plain, { revocationIntervalMs: 3_600_000 });
});

after(async () => {
  await running?.close();
  await plainRunning?.close();
  for (const t of [tpmA, tpmB, tpmForeign]) await t?.stop();
  tmp.cleanup();
});

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const issuerPem = (): string => readFileSync(maker.issuerPem, 'utf8');

/** Step 1's body for `id` (EK certificate PEM, EK and AK public areas, the manufacturer's issuing CA). */
function evidence(id: TpmIdentity, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { attestor: 'tpm', ekCertificate: encodePem('CERTIFICATE', id.ekCertificateDer), ekPublic: b64(id.ekPublic), akPublic: b64(id.akPublic), intermediates: issuerPem(), ...over };
}

const attest = (body: Record<string, unknown>, target = ca, r = running) => httpsRequest(target, `${r.url}/spiffe/agent/attest`, { body });

async function challenge(body: Record<string, unknown>): Promise<{ id: string; credentialBlob: Buffer; encryptedSecret: Buffer }> {
  const r = await attest(body);
  assert.equal(r.status, 200, r.text);
  const c = r.json?.challenge as { id: string; credentialBlob: string; encryptedSecret: string; expiresAt: string };
  assert.match(c.id, /^[0-9a-f]{32}$/);
  assert.ok(new Date(c.expiresAt).getTime() - clock.now().getTime() <= 5 * 60_000 + 1000);
  return { id: c.id, credentialBlob: Buffer.from(c.credentialBlob, 'base64'), encryptedSecret: Buffer.from(c.encryptedSecret, 'base64') };
}

function reasonOf(r: Awaited<ReturnType<typeof attest>>): unknown {
  return r.json?.reason;
}

const ekHash = (id: TpmIdentity): string => createHash('sha256').update(parseCertificate(id.ekCertificateDer).publicKey?.export({ format: 'der', type: 'spki' }) ?? new Uint8Array()).digest('hex');

for (const kind of ['rsa', 'ecc'] as const) {
  test(`a node attests with its TPM (${kind === 'rsa' ? 'RSA 2048' : 'ECC P-384'} EK): the TPM activates the server's credential, the agent gets its SVID and selectors from its TPM`, async () => {
    const id = await tpmIdentity(tpmA, kind);
    const c = await challenge(evidence(id));
    const secret = await activateCredential(tpmA, id, c.credentialBlob, c.encryptedSecret);
    assert.ok(secret !== undefined, 'the TPM holding the EK and the AK activates the credential');
    assert.equal(secret.length, 32);
    const csr = testCsr('agent', []);
    const r = await attest(evidence(id, { challengeId: c.id, secret: b64(secret), csr: csr.pem }));
    assert.equal(r.status, 201, r.text);
    const agentId = `spiffe://example.org/signet/agent/tpm/${ekHash(id)}`;
    assert.equal(r.json?.spiffeId, agentId);
    const leaf = parseCertificate(decodePem((r.json?.svid as string[])[0] ?? '', ['CERTIFICATE']).der);
    assert.deepEqual(leaf.ext.subjectAltName?.map((n) => n.value), [agentId]);
    const agent = JSON.parse(ok(await signetAsync(['agent', 'show', agentId, '--config', ca.configPath])).stdout) as { attestor: string; selectors: string[] };
    assert.equal(agent.attestor, 'tpm');
    const issuerFingerprint = createHash('sha256').update(decodePem(issuerPem(), ['CERTIFICATE']).der).digest('hex');
    const rootFingerprint = createHash('sha256').update(decodePem(readFileSync(maker.rootPem, 'utf8'), ['CERTIFICATE']).der).digest('hex');
    // swtpm_setup writes the TCG attributes into the EK certificate's subjectAltName: manufacturer, model, firmware version.
    assert.deepEqual(agent.selectors, [`tpm:ca:fingerprint:${issuerFingerprint}`, `tpm:ca:fingerprint:${rootFingerprint}`, 'tpm:manufacturer:id:00001014', 'tpm:model:swtpm', `tpm:pub_hash:${ekHash(id)}`, 'tpm:version:id:20191023'].sort());
    // The answered challenge cannot be answered again.
    const again = await attest(evidence(id, { challengeId: c.id, secret: b64(secret), csr: testCsr('agent', []).pem }));
    assert.equal(again.status, 401, again.text);
    assert.deepEqual([again.json?.code, reasonOf(again)], ['ERR_ATTESTATION_FAILED', 'unknown']);
  });
}

test('a node entry selecting a TPM model gives every such node its workloads', async () => {
  const id = await tpmIdentity(tpmA, 'rsa', 'entries');
  const c = await challenge(evidence(id));
  const secret = await activateCredential(tpmA, id, c.credentialBlob, c.encryptedSecret);
  assert.ok(secret);
  ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/swtpm', '--selector', 'tpm:model:swtpm', '--config', ca.configPath]));
  ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/meter', '--parent-id', 'spiffe://example.org/nodes/swtpm', '--selector', 'unix:uid:100', '--config', ca.configPath]));
  const csr = testCsr('agent', []);
  const r = await attest(evidence(id, { challengeId: c.id, secret: b64(secret), csr: csr.pem }));
  assert.equal(r.status, 201, r.text);
  const entries = await httpsRequest(ca, `${running.url}/spiffe/agent/entries`, { cert: (r.json?.svid as string[]).join(''), key: csr.key });
  assert.equal(entries.status, 200, entries.text);
  assert.deepEqual((entries.json?.entries as { spiffeId: string }[]).map((e) => e.spiffeId), ['spiffe://example.org/meter']);
});

test('an AK resident in another TPM is refused: that TPM cannot activate a credential made for this EK, and a guessed answer fails', async () => {
  const a = await tpmIdentity(tpmA, 'rsa', 'victim');
  const b = await tpmIdentity(tpmB, 'rsa', 'thief');
  // TPM B's AK presented with TPM A's EK (both EKs of one manufacturer: the chain verifies).
  const c = await challenge(evidence(a, { akPublic: b64(b.akPublic) }));
  assert.equal(await activateCredential(tpmB, b, c.credentialBlob, c.encryptedSecret), undefined, 'TPM B does not hold the EK the credential is sealed to');
  const r = await attest(evidence(a, { akPublic: b64(b.akPublic), challengeId: c.id, secret: b64(randomBytes(32)), csr: testCsr('agent', []).pem }));
  assert.equal(r.status, 401, r.text);
  assert.deepEqual([r.json?.code, reasonOf(r)], ['ERR_ATTESTATION_FAILED', 'wrong-answer']);
  // The refusal is in the audit log, with the attestor and why.
  const events = JSON.parse(ok(await signetAsync(['audit', 'list', '--type', 'spiffe.agent.attest', '--json', '--config', ca.configPath])).stdout) as { outcome: string; reason?: string; detail?: { attestor?: string; reason?: string } }[];
  assert.ok(events.some((e) => e.outcome === 'failure' && e.reason === 'ERR_ATTESTATION_FAILED' && e.detail?.attestor === 'tpm' && e.detail.reason === 'wrong-answer'), JSON.stringify(events).slice(0, 500));
  // TPM B's own EK with the server's challenge for it works — the refusal was about residence, not the TPM.
  const own = await challenge(evidence(b));
  assert.ok(await activateCredential(tpmB, b, own.credentialBlob, own.encryptedSecret));
});

test('an answer is bound to the EK and AK it was made for: the right secret with another AK is refused, and the challenge is used up', async () => {
  const a1 = await tpmIdentity(tpmA, 'rsa', 'first');
  const a2 = await tpmIdentity(tpmA, 'rsa', 'second');
  const c = await challenge(evidence(a1));
  const secret = await activateCredential(tpmA, a1, c.credentialBlob, c.encryptedSecret);
  assert.ok(secret);
  const swapped = await attest(evidence(a2, { challengeId: c.id, secret: b64(secret), csr: testCsr('agent', []).pem }));
  assert.deepEqual([swapped.status, swapped.json?.code, reasonOf(swapped)], [401, 'ERR_ATTESTATION_FAILED', 'wrong-answer']);
  const late = await attest(evidence(a1, { challengeId: c.id, secret: b64(secret), csr: testCsr('agent', []).pem }));
  assert.deepEqual([late.status, reasonOf(late)], [401, 'unknown'], 'one answer per challenge');
});

test('a bad CSR is refused before the challenge is used; an expired challenge is refused', async () => {
  const id = await tpmIdentity(tpmA, 'rsa', 'late');
  const c = await challenge(evidence(id));
  const secret = await activateCredential(tpmA, id, c.credentialBlob, c.encryptedSecret);
  assert.ok(secret);
  const garbage = '-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n';
  const badCsr = await attest(evidence(id, { challengeId: c.id, secret: b64(secret), csr: garbage }));
  assert.equal(badCsr.status, 400, badCsr.text);
  // Still there after the bad CSR: it is refused as expired, not as unknown.
  offset += 5 * 60_000 + 1000;
  try {
    const r = await attest(evidence(id, { challengeId: c.id, secret: b64(secret), csr: testCsr('agent', []).pem }));
    assert.deepEqual([r.status, r.json?.code, reasonOf(r)], [401, 'ERR_ATTESTATION_FAILED', 'expired'], r.text);
  } finally {
    offset = 0;
  }
});

test('an EK certificate of a foreign manufacturer, or without the intermediate, is refused before any challenge', async () => {
  const f = await tpmIdentity(tpmForeign, 'rsa');
  const r = await attest(evidence(f, { intermediates: readFileSync(foreignMaker.issuerPem, 'utf8') }));
  assert.deepEqual([r.status, r.json?.code, reasonOf(r)], [401, 'ERR_ATTESTATION_FAILED', 'untrusted'], r.text);
  const a = await tpmIdentity(tpmA, 'rsa', 'nochain');
  const { intermediates: _, ...bare } = evidence(a);
  const n = await attest(bare);
  assert.deepEqual([n.status, reasonOf(n)], [401, 'untrusted'], n.text);
});

test('an EK public area that is not the certificate\'s key, and an AK that is not a restricted signing key, are refused', async () => {
  const a = await tpmIdentity(tpmA, 'rsa', 'mismatch');
  const b = await tpmIdentity(tpmB, 'rsa', 'mismatch');
  const mismatch = await attest(evidence(a, { ekPublic: b64(b.ekPublic) }));
  assert.deepEqual([mismatch.status, reasonOf(mismatch)], [401, 'ek-mismatch'], mismatch.text);
  // The AK as the EK (a decryption key), and the AK with its restricted bit cleared (its name changes with it).
  const asEk = await attest(evidence(a, { akPublic: b64(a.ekPublic) }));
  assert.deepEqual([asEk.status, reasonOf(asEk)], [401, 'ak-attributes'], asEk.text);
  const unrestricted = Buffer.from(a.akPublic);
  const attrs = unrestricted.readUInt32BE(6);
  unrestricted.writeUInt32BE((attrs & ~TPMA.restricted) >>> 0, 6);
  const r = await attest(evidence(a, { akPublic: b64(unrestricted) }));
  assert.deepEqual([r.status, reasonOf(r)], [401, 'ak-attributes'], r.text);
  // The AK's public area as the EK's: a signing key is no endorsement key.
  const akAsEk = await attest(evidence(a, { ekPublic: b64(a.akPublic) }));
  assert.deepEqual([akAsEk.status, reasonOf(akAsEk)], [401, 'ek-attributes'], akAsEk.text);
});

test('malformed TPM input gets a clear error: bad base64, truncated or padded structures, unknown fields', async () => {
  const a = await tpmIdentity(tpmA, 'rsa', 'malformed');
  const cases: [Record<string, unknown>, number, string, string?][] = [
    [evidence(a, { akPublic: 'not base64!' }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { akPublic: '' }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { akPublic: b64(randomBytes(2000)) }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { akPublic: b64(a.akPublic.subarray(0, a.akPublic.length - 1)) }), 401, 'ERR_ATTESTATION_FAILED', 'malformed'],
    [evidence(a, { akPublic: b64(Buffer.concat([a.akPublic, Buffer.from([0])])) }), 401, 'ERR_ATTESTATION_FAILED', 'malformed'],
    [evidence(a, { ekPublic: b64(Buffer.from([0x00, 0x04, 0x00, 0x08, 0x00, 0x0b])) }), 401, 'ERR_ATTESTATION_FAILED', 'malformed'],
    [evidence(a, { ekCertificate: 'not a certificate' }), 400, 'ERR_PEM_MALFORMED'],
    [evidence(a, { token: 'x' }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { csr: testCsr('agent', []).pem }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { challengeId: 'abc' }), 400, 'ERR_REQUEST_INVALID'],
    [evidence(a, { akPublic: 42 }), 400, 'ERR_REQUEST_INVALID'],
  ];
  for (const [body, status, code, reason] of cases) {
    const r = await attest(body);
    assert.deepEqual([r.status, r.json?.code], [status, code], `${JSON.stringify(body).slice(0, 300)} → ${r.text}`);
    if (reason !== undefined) assert.equal(reasonOf(r), reason);
    assert.doesNotMatch(r.text, /\bat \w+ \(/, 'no stack trace');
  }
});

test('the AK name the server computes is the TPM\'s; a CA without a manufacturer CA refuses TPM attestation', async () => {
  const a = await tpmIdentity(tpmA, 'ecc', 'name');
  assert.deepEqual(Buffer.from(parseTpm2bPublic(a.akPublic, 'ak').name), Buffer.from(a.akName));
  const r = await attest(evidence(a), plain, plainRunning);
  assert.deepEqual([r.status, r.json?.code, reasonOf(r)], [401, 'ERR_ATTESTATION_FAILED', 'not-configured'], r.text);
});
