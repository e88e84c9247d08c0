/**
 * `signet token generate` — join tokens for node attestation; `signet agent list|show|ban|unban|evict`
 * — the attested node agents. On the CA host (the config names the store).
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { formatDuration, formatTime, parseDuration } from '../../core/duration.js';
import { SignetError } from '../../core/errors.js';
import { generateJoinToken } from '../../spiffe/agents.js';
import { parseSpiffeId, parseTrustDomain } from '../../spiffe/id.js';
import type { AgentRecord, StoreTx } from '../../store/store.js';
import { addConfigOption } from '../inventory/flags.js';
import { jsonArrayWriter, stdoutSink, tableWriter, type Column } from '../inventory/output.js';
import { withStore } from '../inventory/store-access.js';
import { caTrustDomains } from '../spiffe-common.js';
import { registerAgentExplain, registerAgentHelper, registerAgentRun } from './run.js';

function agentJson(a: AgentRecord): Record<string, unknown> {
  return {
    spiffeId: a.spiffeId,
    attestor: a.attestor,
    selectors: [...a.selectors],
    serial: a.serial ?? null,
    svidExpiresAt: a.svidExpiresAt === undefined ? null : formatTime(a.svidExpiresAt),
    banned: a.banned,
    createdAt: formatTime(a.createdAt),
    updatedAt: formatTime(a.updatedAt),
  };
}

const TABLE: readonly Column<AgentRecord>[] = [
  { header: 'SPIFFE ID', value: (a) => a.spiffeId },
  { header: 'ATTESTOR', value: (a) => a.attestor },
  { header: 'SVID EXPIRES', value: (a) => (a.svidExpiresAt === undefined ? '-' : formatTime(a.svidExpiresAt)) },
  { header: 'STATUS', value: (a) => (a.banned ? 'banned' : 'attested') },
];

function agentNotFound(id: string): SignetError {
  return new SignetError('ERR_AGENT_NOT_FOUND', `no attested agent ${JSON.stringify(id.slice(0, 256))}`, { hint: 'see signet agent list' });
}

/** Registers `signet token generate` and `signet agent …`. */
export function registerAgentCommands(program: Command): void {
  const token = program.command('token').description('join tokens: single-use secrets that let a node agent attest');
  addConfigOption(token.command('generate').description('make a join token; it is shown once'))
    .option('--ttl <duration>', 'how long it may be used (1m–30d)', '1h')
    .option('--trust-domain <name>', 'the trust domain its agent joins (a CA serving several); default: the first')
    .option('--json', 'print {token, id, agentId, expiresAt}')
    .addHelpText(
      'after',
      `
Hand the token to the node (a file, a secret store — never a command line that others can read).
The agent that uses it becomes spiffe://TD/signet/agent/join_token/ID, with the node selector
join_token:ID: make a node entry with that selector (signet entry create --node … --selector
join_token:ID) to give it an identity and workloads. A token is used once, by an agent of its
trust domain (on a CA serving several, the agent names it when it attests); a used, expired or
other trust domain's token is refused (ERR_ATTESTATION_FAILED).

Examples:
  $ signet token generate --ttl 10m > node1.token
  $ signet token generate --json --config /etc/signet/signet.json
  $ signet token generate --trust-domain staging.example.org --json`,
    )
    .action(async (flags: { config?: string; ttl: string; trustDomain?: string; json?: boolean }) => {
      let ttlMs: number;
      try {
        ttlMs = parseDuration(flags.ttl);
      } catch {
        throw new SignetError('ERR_BAD_DURATION', `--ttl must be a duration such as 10m or 1h, got ${JSON.stringify(flags.ttl.slice(0, 32))}`);
      }
      const served = caTrustDomains(flags.config);
      const td = flags.trustDomain === undefined ? served[0] : parseTrustDomain(flags.trustDomain);
      if (served.length === 0 || td === undefined) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', 'this CA serves no SPIFFE trust domain: it attests no agents', { hint: 'a CA made with `signet ca init --trust-domain` does' });
      if (!served.includes(td)) throw new SignetError('ERR_SPIFFE_NOT_ENABLED', `this CA does not serve trust domain ${td}`, { hint: `it serves ${served.join(', ')}` });
      const t = await withStore(flags.config, (store) => generateJoinToken(store, td, ttlMs, systemClock.now()));
      const agentId = `spiffe://${td}/signet/agent/join_token/${t.id}`;
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ token: t.token, id: t.id, agentId, expiresAt: formatTime(t.expiresAt) })}\n`);
      else {
        process.stdout.write(`${t.token}\n`);
        process.stderr.write(`join token ${t.id}: usable once until ${formatTime(t.expiresAt)} (${formatDuration(ttlMs)}); the agent becomes ${agentId}, node selector join_token:${t.id}\n`);
      }
    });
  token.addHelpText('after', '\nExamples:\n  $ signet token generate --ttl 10m');

  const agent = program.command('agent').description('the node agent (run) and, on the CA host, the attested agents: list, show, ban, unban, evict');
  registerAgentRun(agent);
  registerAgentHelper(agent);
  registerAgentExplain(agent);
  addConfigOption(agent.command('list').description('list the attested agents'))
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExamples:\n  $ signet agent list\n  $ signet agent list --json')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const list = await withStore(flags.config, (store) => store.spiffe.listAgents());
      const sink = stdoutSink();
      const writer = flags.json === true ? jsonArrayWriter(sink, agentJson) : tableWriter(sink, TABLE);
      for (const a of list) await writer.write(a);
      await writer.end();
      if (list.length === 0 && flags.json !== true) process.stderr.write('no attested agents\n');
    });
  addConfigOption(agent.command('show').description('show one agent (JSON)'))
    .argument('<spiffe-id>', 'the agent\'s SPIFFE ID')
    .addHelpText('after', '\nExamples:\n  $ signet agent show spiffe://example.org/signet/agent/join_token/4f2c9a1e0b7d3c55')
    .action(async (id: string, flags: { config?: string }) => {
      parseSpiffeId(id);
      const a = await withStore(flags.config, (store) => store.spiffe.getAgent(id));
      if (a === undefined) throw agentNotFound(id);
      process.stdout.write(`${JSON.stringify(agentJson(a), null, 2)}\n`);
    });
  const change = (name: string, description: string, help: string, apply: (tx: StoreTx, id: string) => Promise<boolean>, done: string): void => {
    addConfigOption(agent.command(name).description(description))
      .argument('<spiffe-id>', 'the agent\'s SPIFFE ID')
      .addHelpText('after', help)
      .action(async (id: string, flags: { config?: string }) => {
        parseSpiffeId(id);
        const ok = await withStore(flags.config, (store) =>
          store.transaction(async (tx) => {
            if (!(await apply(tx, id))) return false;
            await tx.audit.append({ time: systemClock.now(), type: `spiffe.agent.${name}`, outcome: 'success', actor: `operator (signet agent ${name})`, detail: { agent: id } });
            return true;
          }),
        );
        if (!ok) throw agentNotFound(id);
        process.stdout.write(`${done} ${id}\n`);
      });
  };
  change('ban', 'ban an agent: it can no longer renew its SVID, get SVIDs, or attest again', '\nA banned agent keeps its record (so that it stays banned); its current SVID expires on its own —\nrevoke it for an immediate stop (signet revoke).\n\nExamples:\n  $ signet agent ban spiffe://example.org/signet/agent/join_token/4f2c9a1e0b7d3c55', (s, id) => s.spiffe.setAgentBanned(id, true, systemClock.now()), 'banned');
  change('unban', 'lift a ban', '\nExamples:\n  $ signet agent unban spiffe://example.org/signet/agent/join_token/4f2c9a1e0b7d3c55', (s, id) => s.spiffe.setAgentBanned(id, false, systemClock.now()), 'unbanned');
  change('evict', 'forget an agent: it must attest again (a join token is used up, so it needs a new one)', '\nExamples:\n  $ signet agent evict spiffe://example.org/signet/agent/join_token/4f2c9a1e0b7d3c55', (s, id) => s.spiffe.deleteAgent(id), 'evicted');
  agent.addHelpText('after', '\nExamples:\n  $ signet agent run --config /etc/signet/agent.json\n  $ signet agent list\n  $ signet agent ban spiffe://example.org/signet/agent/join_token/4f2c9a1e0b7d3c55');
}
