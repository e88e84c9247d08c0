/**
 * The agent attesting with the node's TPM: a software TPM (swtpm, manufactured with an EK
 * certificate by swtpm_localca) reached through its TCTI, driven by the agent with tpm2-tools —
 * EK certificate and public area, a new AK, the CA's credential activated — and both EK kinds. A
 * TCTI that reaches no TPM is ERR_TPM_UNAVAILABLE, retried until it does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { startAgentEnv, type AgentEnv } from '../helpers/agent.js';
import { ok, signetAsync } from '../helpers/cli.js';
import { manufacturer, startSoftTpm, type Manufacturer, type SoftTpm } from '../helpers/tpm.js';

let env: AgentEnv;
let tpm: SoftTpm;
let maker: Manufacturer;
const METER = 'spiffe://example.org/meter';

before(async () => {
  env = await startAgentEnv(
    'signet-agent-tpm-',
    async (e) => {
      ok(await signetAsync(['entry', 'create', '--node', '--spiffe-id', 'spiffe://example.org/nodes/swtpm', '--selector', 'tpm:model:swtpm', ...e.cfg()]));
      ok(await signetAsync(['entry', 'create', '--spiffe-id', METER, '--parent-id', 'spiffe://example.org/nodes/swtpm', '--selector', 'unix:uid:0', ...e.cfg()]));
    },
    1,
    {
      prepare: async (tmp) => {
        maker = manufacturer(tmp.path('maker'));
        tpm = await startSoftTpm(tmp.path('tpm'), maker);
      },
      caEdit: (doc) => void (doc.spiffe = { tpmEkCaFile: maker.rootPem }),
      attestor: (tmp) => ({ tpm: { tcti: `swtpm:path=${tmp.path('tpm/tpm.sock')}`, ek: 'rsa', intermediatesFile: 'maker/issuercert.pem' } }),
    },
  );
});

after(async () => {
  await env?.close();
  await tpm?.stop();
});

const fetched = async (): Promise<string[]> => {
  const r = await signetAsync(['svid', 'fetch', 'x509', '--socket', `unix://${env.socket}`, '--json']);
  return r.status === 0 ? (JSON.parse(r.stdout) as { svids: { spiffeId: string }[] }).svids.map((s) => s.spiffeId) : [];
};

test('the agent attests with its TPM (RSA EK): its node entry matches the TPM\'s selectors and its workloads are served', async () => {
  assert.match(env.log(), /"attestor":"tpm","msg":"agent: attested"/);
  const agents = JSON.parse(ok(await signetAsync(['agent', 'list', '--json', ...env.cfg()])).stdout) as { spiffeId: string; attestor: string }[];
  assert.ok(agents.some((a) => a.attestor === 'tpm' && a.spiffeId.startsWith('spiffe://example.org/signet/agent/tpm/')), JSON.stringify(agents));
  assert.deepEqual(await fetched(), [METER]);
});

test('with the ECC EK, and after a TCTI that reaches no TPM (ERR_TPM_UNAVAILABLE) is corrected, the agent attests again by itself', async () => {
  assert.equal(await env.stopAgent(), 0);
  rmSync(env.tmp.path('data/agent-state.json'));
  const config = JSON.parse(readFileSync(env.tmp.path('agent.json'), 'utf8')) as { attestor: { tpm: Record<string, string> } };
  writeFileSync(env.tmp.path('agent.json'), JSON.stringify({ ...config, attestor: { tpm: { ...config.attestor.tpm, ek: 'ecc', tcti: `swtpm:path=${env.tmp.path('tpm/none.sock')}` } } }));
  env.startAgent();
  await env.until('the unreachable TPM reported', () => /ERR_TPM_UNAVAILABLE/.test(env.log()), 30_000);
  assert.deepEqual(await fetched(), []);
  assert.equal(await env.stopAgent(), 0);
  writeFileSync(env.tmp.path('agent.json'), JSON.stringify({ ...config, attestor: { tpm: { ...config.attestor.tpm, ek: 'ecc' } } }));
  env.startAgent();
  await env.until('attested with the ECC EK and serving', async () => (await fetched()).includes(METER), 30_000);
});
