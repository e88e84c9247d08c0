/**
 * The agent attesting with x509pop: a node certificate from the operator's device CA (made with
 * OpenSSL) and a proof of possession signed with its key. Unlike a join token it can be used
 * again, so an agent that lost its state attests again by itself; a key file others may read is
 * refused until it is fixed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { startAgentEnv, type AgentEnv } from '../helpers/agent.js';
import { ok, signetAsync } from '../helpers/cli.js';
import { deviceCa, deviceNode, type DeviceCa } from '../helpers/device-ca.js';

let env: AgentEnv;
let device: DeviceCa;
const SENSOR = 'spiffe://example.org/sensor';
const GATEWAY = 'spiffe://example.org/gateway';
let sensorId = '';

before(async () => {
  env = await startAgentEnv(
    'signet-agent-pop-',
    async (e) => {
      ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/node-1', '--selector', 'x509pop:subject:cn:node-1', ...e.cfg()]));
      sensorId = (JSON.parse(ok(await signetAsync(['entry', 'create', '--spiffe-id', SENSOR, '--parent-id', 'spiffe://example.org/nodes/node-1', '--selector', 'unix:uid:0', '--json', ...e.cfg()])).stdout) as { id: string }).id;
      // Another node's workload: served only by an agent whose certificate names node-2.
      ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/node-2', '--selector', 'x509pop:subject:cn:node-2', ...e.cfg()]));
      ok(await signetAsync(['entry', 'create', '--spiffe-id', GATEWAY, '--parent-id', 'spiffe://example.org/nodes/node-2', '--selector', 'unix:uid:0', ...e.cfg()]));
    },
    1,
    {
      prepare: (tmp) => {
        mkdirSync(tmp.path('pki'));
        device = deviceCa(tmp.path('pki'), 'device');
        chmodSync(device.nodeKeyFile, 0o600);
      },
      caEdit: (doc) => void (doc.spiffe = { x509popCaFile: device.caFile }),
      attestor: () => ({ x509pop: { certFile: 'pki/device-node.pem', keyFile: 'pki/device-node.key' } }),
    },
  );
});

after(async () => {
  await env.close();
});

const fetched = async (): Promise<string[]> => {
  const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', `unix://${env.socket}`, '--json']);
  return r.status === 0 ? (JSON.parse(r.stdout) as { svids: { spiffeId: string }[] }).svids.map((s) => s.spiffeId) : [];
};

test('the agent attests with its node certificate: it becomes the node its certificate names, and serves the workloads under that node entry', async () => {
  assert.match(env.log(), /"attestor":"x509pop","msg":"agent: attested"/);
  const fingerprint = createHash('sha256').update(device.nodeDer).digest('hex');
  const agents = JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...env.cfg()])).stdout) as { spiffeId: string; attestor: string }[];
  assert.ok(agents.some((a) => a.spiffeId === `spiffe://example.org/signet/agent/x509pop/${fingerprint}` && a.attestor === 'x509pop'), JSON.stringify(agents));
  assert.deepEqual(await fetched(), [SENSOR]);
});

test('its state lost, the agent attests again with the same certificate (a join token could not); a key file others may read is refused until fixed', async () => {
  assert.equal(await env.stopAgent(), 0);
  rmSync(env.tmp.path('data/agent-state.json'));
  chmodSync(device.nodeKeyFile, 0o644);
  env.startAgent();
  await env.until('the refusal of the key file', () => /ERR_FILE_PERMISSION/.test(env.log()));
  assert.match(env.log(), /may be read by others/);
  assert.deepEqual(await fetched(), []);
  chmodSync(device.nodeKeyFile, 0o600);
  await env.until('the agent attested again and serving', async () => (await fetched()).includes(SENSOR), 30_000);
  assert.match(env.log(), /"attestor":"x509pop","msg":"agent: attested"/);
});

test('a one-minute X509-SVID (backdated like every certificate) is rotated at about half of what is left of it — not at once, over and over', async () => {
  const serial = async (): Promise<{ serial: string; notAfter: string } | undefined> => {
    const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', `unix://${env.socket}`, '--json']);
    return r.status === 0 ? (JSON.parse(r.stdout) as { svids: { serial: string; notAfter: string }[] }).svids[0] : undefined;
  };
  const before = await serial();
  ok(await signetAsync(['entry', 'update', sensorId, '--x509-ttl', '1m', ...env.cfg()]));
  let short: { serial: string; notAfter: string } | undefined;
  await env.until('the one-minute SVID', async () => {
    short = await serial();
    return short !== undefined && short.serial !== before?.serial;
  });
  assert.ok(Date.parse(short?.notAfter ?? '') - Date.now() <= 60_000);
  // notBefore is a minute back (the CA's backdate): half of notBefore..notAfter is about now. The
  // agent plans the rotation at 40–60 % of what was left when the SVID arrived: 24–36 s on.
  await env.until('the state file with the one-minute SVID', () => env.state().svids.some((v) => v.spiffeId === SENSOR && Date.parse(v.notAfter) === Date.parse(short?.notAfter ?? '')));
  const held = env.state().svids.find((v) => v.spiffeId === SENSOR) as unknown as { notBefore: string; notAfter: string; rotateAt: string };
  const arrived = Date.parse(held.notBefore) + 60_000;
  const planned = Date.parse(held.rotateAt) - arrived;
  assert.ok(planned >= 23_000 && planned <= 37_000, `rotation planned ${planned} ms after the SVID arrived`);
  await new Promise((r) => setTimeout(r, 3_000));
  assert.equal((await serial())?.serial, short?.serial, 'still the same SVID a few seconds later');
});

test('evicted (signet agent evict), the agent notices at its next call to the CA and attests again by itself', async () => {
  const agents = JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...env.cfg()])).stdout) as { spiffeId: string }[];
  const id = agents.find((a) => a.spiffeId.includes('/x509pop/'))?.spiffeId ?? '';
  const attestedBefore = env.log().match(/"msg":"agent: attested"/g)?.length ?? 0;
  ok(await signetAsync(['agent', 'evict', id, ...env.cfg()]));
  // An entry change wakes its long poll: the CA answers ERR_AGENT_NOT_FOUND.
  ok(await signetAsync(['entry', 'update', sensorId, '--dns', 'sensor.example.org', ...env.cfg()]));
  await env.until('attested again', () => (env.log().match(/"msg":"agent: attested"/g)?.length ?? 0) > attestedBefore, 30_000);
  assert.match(env.log(), /the CA no longer knows this agent; attesting again/);
  await env.until('the re-issued SVID served', async () => {
    const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', `unix://${env.socket}`, '--json']);
    return r.status === 0;
  });
  assert.ok((JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...env.cfg()])).stdout) as { spiffeId: string }[]).some((a) => a.spiffeId === id));
});

test('attested again as another node (a new certificate: another agent ID, other node selectors), the agent takes its whole entry list at once: the new node\'s workload, not the old one\'s', async () => {
  const node2 = deviceNode(env.tmp.path('pki'), 'device', 'node-2');
  assert.equal(await env.stopAgent(), 0);
  const agents = JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...env.cfg()])).stdout) as { spiffeId: string }[];
  for (const a of agents.filter((x) => x.spiffeId.includes('/x509pop/'))) ok(await signetAsync(['agent', 'evict', a.spiffeId, ...env.cfg()]));
  copyFileSync(node2.certFile, env.tmp.path('pki/device-node.pem'));
  copyFileSync(node2.keyFile, env.tmp.path('pki/device-node.key'));
  // Restarted with its state file (entries up to a revision, the evicted node-1 SVID): the CA
  // refuses that SVID, the agent attests as node-2. No entry changes from here on, so an agent
  // that asked only for changes, or long-polled for them, would keep node-1's list for 30 s.
  env.startAgent();
  await env.until('attested as node-2', () => /"msg":"agent: attested"/.test(env.log()), 60_000);
  await env.until('the gateway served', async () => (await fetched()).includes(GATEWAY), 20_000);
  await env.until('the sensor no longer served', async () => !(await fetched()).includes(SENSOR), 20_000);
  assert.deepEqual(await fetched(), [GATEWAY]);
});
