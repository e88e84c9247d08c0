/**
 * Software TPMs for tests: `swtpm` manufactured by `swtpm_setup` with EK certificates from its
 * own local CA (`swtpm_localca`, one per "manufacturer" directory), driven with `tpm2-tools`
 * over a Unix socket (`swtpm` TCTI) — the way an agent on a real node talks to its TPM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TPM_EK } from '../../src/agent/tpm.js';
import { runAsync } from './openssl.js';

/** Persistent handles and NV indexes `swtpm_setup` provisions (TCG EK Credential Profile; the ECC EK is P-384, SHA-384, AES-256). */
export const EK = TPM_EK;

/** A TPM manufacturer: a local CA that signs EK certificates (root + issuing CA, made on first use). */
export interface Manufacturer {
  readonly dir: string;
  /** The manufacturer's root CA certificate (PEM file): what a CA operator configures. */
  readonly rootPem: string;
  /** The issuing CA certificate (PEM file): the intermediate an agent sends with its EK certificate. */
  readonly issuerPem: string;
}

export function manufacturer(dir: string): Manufacturer {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'localca.conf'), [`statedir = ${dir}`, `signingkey = ${dir}/signkey.pem`, `issuercert = ${dir}/issuercert.pem`, `certserial = ${dir}/certserial`, ''].join('\n'));
  writeFileSync(join(dir, 'localca.options'), '--platform-manufacturer Signet\n--platform-version 2.1\n--platform-model test\n');
  return { dir, rootPem: join(dir, 'swtpm-localca-rootca-cert.pem'), issuerPem: join(dir, 'issuercert.pem') };
}

/** A running software TPM. */
export interface SoftTpm {
  readonly dir: string;
  /** Runs a tpm2-tools command against this TPM; rejects with its output when it fails. */
  tool(name: string, args: readonly string[]): Promise<string>;
  /** Like {@link tool}, resolving the exit code instead of rejecting. */
  tryTool(name: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** Manufactures a TPM in `dir` (EK certificates by `maker`) and starts it. */
export async function startSoftTpm(dir: string, maker: Manufacturer): Promise<SoftTpm> {
  mkdirSync(join(dir, 'state'), { recursive: true });
  const conf = join(dir, 'swtpm_setup.conf');
  writeFileSync(conf, [`create_certs_tool = /usr/bin/swtpm_localca`, `create_certs_tool_config = ${maker.dir}/localca.conf`, `create_certs_tool_options = ${maker.dir}/localca.options`, 'active_pcr_banks = sha256', ''].join('\n'));
  const setup = await runAsync('swtpm_setup', ['--tpm2', '--tpmstate', join(dir, 'state'), '--create-ek-cert', '--lock-nvram', '--config', conf, '--overwrite']);
  if (setup.code !== 0) throw new Error(`swtpm_setup failed: ${setup.stdout}${setup.stderr}`);
  const sock = join(dir, 'tpm.sock');
  const child: ChildProcess = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${join(dir, 'state')}`, '--server', `type=unixio,path=${sock}`, '--ctrl', `type=unixio,path=${sock}.ctrl`, '--flags', 'not-need-init,startup-clear'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(sock)) throw new Error('swtpm did not start');
  const env = { ...process.env, TPM2TOOLS_TCTI: `swtpm:path=${sock}` };
  const tryTool = (name: string, args: readonly string[]) => runAsync(name, args, '', { env });
  const tool = async (name: string, args: readonly string[]): Promise<string> => {
    const r = await tryTool(name, args);
    if (r.code !== 0) throw new Error(`${name} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    dir,
    tool,
    tryTool,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What an agent reads and makes in its TPM to attest: the EK certificate and public area, and a new AK. */
export interface TpmIdentity {
  readonly ekCertificateDer: Uint8Array;
  readonly ekPublic: Uint8Array;
  readonly akPublic: Uint8Array;
  /** The AK's name as the TPM computed it. */
  readonly akName: Uint8Array;
  /** The AK's saved context (to load it for activation). */
  readonly akContext: string;
  readonly ekHandle: string;
}

/** Reads the EK (`kind`) of `tpm` and creates an attestation key under it. */
export async function tpmIdentity(tpm: SoftTpm, kind: keyof typeof EK, label = 'ak'): Promise<TpmIdentity> {
  const f = (name: string) => join(tpm.dir, `${label}-${kind}-${name}`);
  const { handle, certIndex } = EK[kind];
  await tpm.tool('tpm2_nvread', [certIndex, '-o', f('ek.der')]);
  await tpm.tool('tpm2_readpublic', ['-c', handle, '-o', f('ek.pub')]);
  await tpm.tool('tpm2_createak', ['-C', handle, '-c', f('ak.ctx'), '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', f('ak.pub'), '-n', f('ak.name')]);
  // swtpm has no resource manager: transient objects and sessions are flushed after each step.
  await tpm.tool('tpm2_flushcontext', ['-t']);
  return { ekCertificateDer: readFileSync(f('ek.der')), ekPublic: readFileSync(f('ek.pub')), akPublic: readFileSync(f('ak.pub')), akName: readFileSync(f('ak.name')), akContext: f('ak.ctx'), ekHandle: handle };
}

/**
 * TPM2_ActivateCredential in `tpm` for a server's challenge (`tpm2_makecredential`'s file
 * format: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET). Resolves the recovered
 * secret, or undefined when the TPM refuses (not its EK, or not its AK).
 */
export async function activateCredential(tpm: SoftTpm, id: TpmIdentity, credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Uint8Array | undefined> {
  const f = (name: string) => join(tpm.dir, `activate-${name}`);
  writeFileSync(f('cred.bin'), Buffer.concat([Buffer.from('badcc0de00000001', 'hex'), credentialBlob, encryptedSecret]));
  // The RSA EK (default template) authorizes by policy (PolicySecret of the endorsement hierarchy).
  const policy = id.ekHandle === EK.rsa.handle;
  try {
    if (policy) {
      await tpm.tool('tpm2_startauthsession', ['--policy-session', '-S', f('session.ctx')]);
      await tpm.tool('tpm2_policysecret', ['-S', f('session.ctx'), '-c', 'e']);
    }
    const r = await tpm.tryTool('tpm2_activatecredential', ['-c', id.akContext, '-C', id.ekHandle, '-i', f('cred.bin'), '-o', f('secret.bin'), ...(policy ? ['-P', `session:${f('session.ctx')}`] : [])]);
    return r.code === 0 ? readFileSync(f('secret.bin')) : undefined;
  } finally {
    await tpm.tryTool('tpm2_flushcontext', ['-s']);
    await tpm.tryTool('tpm2_flushcontext', ['-t']);
  }
}
