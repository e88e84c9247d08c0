/**
 * A client of the SSH agent protocol (draft-ietf-sshm-ssh-agent, RFC 9987) over the agent's Unix
 * socket (`SSH_AUTH_SOCK`): add a private key together with its certificate and a lifetime
 * constraint, list the identities, remove one. `signet ssh login` hands the key to the agent
 * directly, so it is never written to a file or passed to another program.
 *
 *   message  = uint32 length, byte type, contents
 *   add      = SSH_AGENTC_ADD_ID_CONSTRAINED (25): string key type, key contents, string comment,
 *              constraints (SSH_AGENT_CONSTRAIN_LIFETIME (1), uint32 seconds)
 *   key contents of a certificate: string certificate, then the private part —
 *     Ed25519: string ENC(A), string k || ENC(A);  ECDSA: mpint d;  RSA: mpint d, iqmp, p, q
 *   list     = SSH_AGENTC_REQUEST_IDENTITIES (11) → SSH_AGENT_IDENTITIES_ANSWER (12):
 *              uint32 n, n × (string key blob, string comment)
 *   remove   = SSH_AGENTC_REMOVE_IDENTITY (18): string key blob
 *   answers  = SSH_AGENT_SUCCESS (6), SSH_AGENT_FAILURE (5)
 */
import type { KeyObject } from 'node:crypto';
import { connect } from 'node:net';
import { SignetError } from '../core/errors.js';
import { SshReader, SshWriter } from './wire.js';
import { sshKeyType } from './keys.js';

const ADD_ID_CONSTRAINED = 25;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const REMOVE_IDENTITY = 18;
const SUCCESS = 6;
const FAILURE = 5;
const CONSTRAIN_LIFETIME = 1;

/** Largest answer read from an agent (an identity list of a few hundred keys). */
const MAX_AGENT_MESSAGE = 256 * 1024;
/** Deadline of one agent exchange. */
const AGENT_TIMEOUT_MS = 10_000;

/** One identity the agent holds. */
export interface AgentIdentity {
  /** The key blob (a certificate blob for a certificate). */
  readonly blob: Uint8Array;
  readonly comment: string;
}

function agentError(message: string, cause?: unknown): SignetError {
  return new SignetError('ERR_SSH_AGENT', message, { hint: 'start one with `eval "$(ssh-agent)"`, or check SSH_AUTH_SOCK', ...(cause !== undefined ? { cause } : {}) });
}

/** The agent socket from `SSH_AUTH_SOCK`; ERR_SSH_AGENT when there is none. */
export function agentSocket(env: NodeJS.ProcessEnv = process.env): string {
  const sock = env.SSH_AUTH_SOCK;
  if (sock === undefined || sock === '') throw agentError('no SSH agent: SSH_AUTH_SOCK is not set');
  return sock;
}

/** Sends one request and reads one answer (type byte and contents). */
function exchange(socket: string, request: Uint8Array): Promise<{ type: number; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => {
      conn.destroy();
      reject(agentError(`the SSH agent at ${socket} did not answer within ${AGENT_TIMEOUT_MS / 1000}s`));
    }, AGENT_TIMEOUT_MS);
    const done = (f: () => void): void => {
      clearTimeout(timer);
      conn.destroy();
      f();
    };
    conn.on('error', (e: NodeJS.ErrnoException) => done(() => reject(agentError(`cannot reach the SSH agent at ${socket}: ${e.code ?? e.message}`, e))));
    conn.on('connect', () => {
      const framed = new SshWriter().string(request).bytes();
      conn.write(framed);
    });
    conn.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      const all = Buffer.concat(chunks, total);
      if (all.length < 4) return;
      const length = all.readUInt32BE(0);
      if (length === 0 || length > MAX_AGENT_MESSAGE) return done(() => reject(agentError(`the SSH agent sent a ${length}-byte message`)));
      if (all.length < 4 + length) return;
      const msg = new Uint8Array(all.subarray(4, 4 + length));
      done(() => resolve({ type: msg[0] as number, body: msg.subarray(1) }));
    });
    conn.on('end', () => done(() => reject(agentError(`the SSH agent at ${socket} closed the connection without an answer`))));
  });
}

function b64u(s: string | undefined): Uint8Array {
  return new Uint8Array(Buffer.from(s ?? '', 'base64url'));
}

/** The private part of a key as the agent protocol carries it after a certificate. */
function privateFields(w: SshWriter, key: KeyObject): void {
  const type = sshKeyType(key);
  const jwk = key.export({ format: 'jwk' });
  if (type === 'ssh-ed25519') {
    const pub = b64u(jwk.x);
    w.string(pub).string(Uint8Array.from([...b64u(jwk.d), ...pub]));
  } else if (type === 'ssh-rsa') {
    w.mpint(b64u(jwk.d)).mpint(b64u(jwk.qi)).mpint(b64u(jwk.p)).mpint(b64u(jwk.q));
  } else {
    w.mpint(b64u(jwk.d));
  }
}

/**
 * Adds `key` with its certificate (blob) to the agent for `lifetimeSeconds` (the agent forgets
 * both then). ERR_SSH_AGENT when there is no agent or it refuses.
 */
export async function agentAddCertificate(socket: string, key: KeyObject, certificate: Uint8Array, comment: string, lifetimeSeconds: number): Promise<void> {
  if (key.type !== 'private') throw new SignetError('ERR_KEY_NOT_PRIVATE', 'the agent needs the private key');
  const certType = new SshReader(certificate, 'certificate').text('key type');
  const w = new SshWriter().byte(ADD_ID_CONSTRAINED).string(certType).string(certificate);
  privateFields(w, key);
  w.string(comment);
  w.byte(CONSTRAIN_LIFETIME).uint32(Math.max(1, Math.min(0xffffffff, Math.floor(lifetimeSeconds))));
  const answer = await exchange(socket, w.bytes());
  if (answer.type !== SUCCESS) throw agentError(answer.type === FAILURE ? 'the SSH agent refused the key and certificate' : `the SSH agent answered with message type ${answer.type}`);
}

/** The identities the agent holds. */
export async function agentList(socket: string): Promise<AgentIdentity[]> {
  const answer = await exchange(socket, Uint8Array.of(REQUEST_IDENTITIES));
  if (answer.type !== IDENTITIES_ANSWER) throw agentError(`the SSH agent answered a list request with message type ${answer.type}`);
  const r = new SshReader(answer.body, 'agent identities');
  const n = r.uint32('identity count');
  const out: AgentIdentity[] = [];
  for (let i = 0; i < n; i++) out.push({ blob: r.string('key blob'), comment: r.text('comment') });
  r.end();
  return out;
}

/** Removes one identity (by its blob); false when the agent did not hold it. */
export async function agentRemove(socket: string, blob: Uint8Array): Promise<boolean> {
  const answer = await exchange(socket, new SshWriter().byte(REMOVE_IDENTITY).string(blob).bytes());
  return answer.type === SUCCESS;
}
