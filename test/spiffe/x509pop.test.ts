/**
 * x509pop node attestation: a node holding a key certified by the configured x509pop CA (made
 * here with OpenSSL, as an operator's device CA would be) proves possession with a signed,
 * single-use, audience-bound token and becomes spiffe://TD/signet/agent/x509pop/<fingerprint>
 * with node selectors from its certificate; a node entry selecting `x509pop:subject:cn:…` gives
 * it workloads. A certificate of a foreign CA, a token signed by another key, a replayed proof
 * and a CA without x509pop are refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { RunningCa } from '../../src/ca/runtime.js';
import { mintRenewalToken } from '../../src/ca/token.js';
import { decodePem } from '../../src/core/pem.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createTestCa, httpsRequest, startTestCa, testCsr, type TestCa } from '../helpers/ca.js';
import { ok, signetAsync } from '../helpers/cli.js';
import { deviceCa, type DeviceCa } from '../helpers/device-ca.js';
import { tempDir } from '../helpers/openssl.js';

const tmp = tempDir('signet-x509pop-');
let ca: TestCa;
let running: RunningCa;
let plain: TestCa;
let plainRunning: RunningCa;

let device: DeviceCa;
let foreign: DeviceCa;

before(async () => {
  mkdirSync(tmp.path('a'));
  mkdirSync(tmp.path('b'));
  mkdirSync(tmp.path('pki'));
  device = deviceCa(tmp.path('pki'), 'device');
  foreign = deviceCa(tmp.path('pki'), 'foreign');
  writeFileSync(tmp.path('device-ca.pem'), device.caPem);
  ca = await createTestCa({ parent: tmp.path('a'), trustDomain: 'example.org', edit: (doc) => void (doc.spiffe = { x509popCaFile: tmp.path('device-ca.pem') }) });
  running = await startTestCa(ca, { revocationIntervalMs: 3_600_000 });
  plain = await createTestCa({ parent: tmp.path('b'), trustDomain: 'example.org' });
  plainRunning = await startTestCa(plain, { revocationIntervalMs: 3_600_000 });
});

after(async () => {
  await running?.close();
  await plainRunning?.close();
  tmp.cleanup();
});

const proof = (cert: Uint8Array, key: KeyObject, url = running.url) => mintRenewalToken({ certificate: cert, key, serial: parseCertificate(cert).serialHex, audience: `${url}/spiffe/agent/attest`, now: new Date() });
const attest = (token: string, target = ca, r = running) => httpsRequest(target, `${r.url}/spiffe/agent/attest`, { body: { attestor: 'x509pop', token, csr: testCsr('agent', []).pem } });

test('a node with a device certificate attests by proof of possession; its selectors come from the certificate; a node entry gives it workloads', async () => {
  const r = await attest(await proof(device.nodeDer, device.nodeKey));
  assert.equal(r.status, 201, r.text);
  const fingerprint = createHash('sha256').update(device.nodeDer).digest('hex');
  assert.equal(r.json?.spiffeId, `spiffe://example.org/signet/agent/x509pop/${fingerprint}`);
  const agent = JSON.parse(ok(await signetAsync(['agent', 'show', r.json?.spiffeId, '--config', ca.configPath])).stdout) as { attestor: string; selectors: string[] };
  const caFingerprint = createHash('sha256').update(decodePem(device.caPem, ['CERTIFICATE']).der).digest('hex');
  assert.equal(agent.attestor, 'x509pop');
  assert.deepEqual(agent.selectors, [`x509pop:ca:fingerprint:${caFingerprint}`, 'x509pop:san:dns:node-1.example.org', `x509pop:serialnumber:${parseCertificate(device.nodeDer).serialHex}`, 'x509pop:subject:cn:node-1'].sort());
  ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/node-1', '--selector', 'x509pop:subject:cn:node-1', '--config', ca.configPath]));
  ok(await signetAsync(['entry', 'create', '--spiffe-id', 'spiffe://example.org/sensor', '--parent-id', 'spiffe://example.org/nodes/node-1', '--selector', 'unix:uid:100', '--config', ca.configPath]));
});

test('the same node attests again (same agent ID); its entries: those under the node entry its selectors match', async () => {
  const csr = testCsr('agent', []);
  const r = await httpsRequest(ca, `${running.url}/spiffe/agent/attest`, { body: { attestor: 'x509pop', token: await proof(device.nodeDer, device.nodeKey), csr: csr.pem } });
  assert.equal(r.status, 201, r.text);
  const entries = await httpsRequest(ca, `${running.url}/spiffe/agent/entries`, { cert: (r.json?.svid as string[]).join(''), key: csr.key });
  assert.equal(entries.status, 200, entries.text);
  assert.deepEqual((entries.json?.entries as { spiffeId: string }[]).map((e) => e.spiffeId), ['spiffe://example.org/sensor']);
});

test('refused: a foreign CA\'s node certificate, a proof signed by another key, a replayed proof, a proof for another CA, a CA without x509pop', async () => {
  const foreignProof = await attest(await proof(foreign.nodeDer, foreign.nodeKey));
  assert.deepEqual([foreignProof.status, foreignProof.json?.code, foreignProof.json?.reason], [401, 'ERR_ATTESTATION_FAILED', 'untrusted']);
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const wrongKey = await attest(await proof(device.nodeDer, otherKey));
  assert.deepEqual([wrongKey.status, wrongKey.json?.code], [401, 'ERR_TOKEN_SIGNATURE']);
  const once = await proof(device.nodeDer, device.nodeKey);
  assert.equal((await attest(once)).status, 201);
  const replay = await attest(once);
  assert.deepEqual([replay.status, replay.json?.code], [401, 'ERR_TOKEN_REPLAYED']);
  const elsewhere = await attest(await proof(device.nodeDer, device.nodeKey, 'https://other.example:9443'));
  assert.deepEqual([elsewhere.status, elsewhere.json?.code], [401, 'ERR_TOKEN_AUDIENCE']);
  const notConfigured = await attest(await proof(device.nodeDer, device.nodeKey, plainRunning.url), plain, plainRunning);
  assert.deepEqual([notConfigured.json?.code, notConfigured.json?.reason], ['ERR_ATTESTATION_FAILED', 'not-configured']);
  const joinFields = await httpsRequest(ca, `${running.url}/spiffe/agent/attest`, { body: { attestor: 'join_token', token: 'x', csr: testCsr('a', []).pem, intermediates: '' } });
  assert.equal(joinFields.json?.code, 'ERR_REQUEST_INVALID');
});
