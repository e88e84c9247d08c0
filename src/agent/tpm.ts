/**
 * TPM node attestation from the agent's side, through tpm2-tools (the TPM's own command-line
 * tools, as packaged on any Linux node; `TPM2TOOLS_TCTI` names the TPM): read the endorsement
 * key's certificate (TCG EK Credential Profile NV index) and public area, create an attestation
 * key under the EK, and — for the CA's challenge — TPM2_ActivateCredential, which succeeds only
 * in the TPM holding both the EK the certificate names and the AK the CA was shown.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignetError } from '../core/errors.js';
import { encodePem } from '../core/pem.js';

/** Persistent EK handles and EK certificate NV indexes (TCG EK Credential Profile; swtpm and most vendors provision these). */
export const TPM_EK = {
  rsa: { handle: '0x81010001', certIndex: '0x1c00002' },
  /** ECC NIST P-384 (the high-range template). */
  ecc: { handle: '0x81010016', certIndex: '0x1c00016' },
} as const;

export type TpmEkKind = keyof typeof TPM_EK;

/** How long one tpm2-tools command may take. */
const TOOL_TIMEOUT_MS = 30_000;

export interface TpmOptions {
  /** The TCTI, e.g. `device:/dev/tpmrm0` or `swtpm:path=/run/swtpm.sock`. */
  readonly tcti: string;
  readonly ek: TpmEkKind;
  /** Where the AK's context and the exchanged files live (0700). */
  readonly workDir: string;
}

/** What the CA is shown first. */
export interface TpmEvidence {
  readonly ekCertificate: string;
  readonly ekPublic: string;
  readonly akPublic: string;
}

function tpmError(message: string, cause?: unknown): SignetError {
  return new SignetError('ERR_TPM_UNAVAILABLE', message, { hint: 'is tpm2-tools installed, and does the config\'s tcti name this node\'s TPM?', ...(cause !== undefined && { cause }) });
}

/** A node's TPM, driven by tpm2-tools. */
export class NodeTpm {
  readonly #o: TpmOptions;

  constructor(o: TpmOptions) {
    this.#o = o;
  }

  #file(name: string): string {
    return join(this.#o.workDir, name);
  }

  /** Runs one tool; resolves its exit status and output (ERR_TPM_UNAVAILABLE when it cannot run). */
  #run(tool: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(tool, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TPM2TOOLS_TCTI: this.#o.tcti }, timeout: TOOL_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (e, _stdout, stderr) => {
        const code = (e as (NodeJS.ErrnoException & { code?: unknown }) | null)?.code;
        if (code === 'ENOENT') return reject(tpmError(`${tool} was not found: TPM attestation needs tpm2-tools`));
        if (e !== null && typeof code !== 'number') return reject(tpmError(`${tool} did not finish: ${e.message.slice(0, 200)}`, e));
        resolve({ code: typeof code === 'number' ? code : 0, stderr: String(stderr).slice(0, 2000) });
      });
    });
  }

  async #tool(tool: string, args: readonly string[]): Promise<void> {
    const r = await this.#run(tool, args);
    if (r.code !== 0) throw tpmError(`${tool} failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }

  /** Reads the EK certificate and public area and creates a new AK (ECDSA P-256, restricted signing). */
  async evidence(): Promise<TpmEvidence> {
    mkdirSync(this.#o.workDir, { recursive: true, mode: 0o700 });
    const { handle, certIndex } = TPM_EK[this.#o.ek];
    await this.#tool('tpm2_nvread', [certIndex, '-o', this.#file('ek.der')]);
    await this.#tool('tpm2_readpublic', ['-c', handle, '-o', this.#file('ek.pub')]);
    await this.#tool('tpm2_createak', ['-C', handle, '-c', this.#file('ak.ctx'), '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', this.#file('ak.pub'), '-n', this.#file('ak.name')]);
    // Without a resource manager (a bare TPM device, swtpm) transient objects stay loaded: flush them.
    await this.#run('tpm2_flushcontext', ['-t']);
    const ekDer = readFileSync(this.#file('ek.der'));
    return { ekCertificate: encodePem('CERTIFICATE', ekDer), ekPublic: readFileSync(this.#file('ek.pub')).toString('base64'), akPublic: readFileSync(this.#file('ak.pub')).toString('base64') };
  }

  /** TPM2_ActivateCredential for the CA's challenge (TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET): the secret it holds. */
  async activate(credentialBlob: Uint8Array, encryptedSecret: Uint8Array): Promise<Buffer> {
    const cred = this.#file('challenge.cred');
    const secret = this.#file('challenge.secret');
    const session = this.#file('session.ctx');
    // tpm2_makecredential's file format: magic, version, then the two TPM2B structures.
    writeFileSync(cred, Buffer.concat([Buffer.from('badcc0de00000001', 'hex'), credentialBlob, encryptedSecret]), { mode: 0o600 });
    const { handle } = TPM_EK[this.#o.ek];
    // The RSA EK's default template authorizes by policy: PolicySecret of the endorsement hierarchy.
    const policy = this.#o.ek === 'rsa';
    try {
      if (policy) {
        await this.#tool('tpm2_startauthsession', ['--policy-session', '-S', session]);
        await this.#tool('tpm2_policysecret', ['-S', session, '-c', 'e']);
      }
      await this.#tool('tpm2_activatecredential', ['-c', this.#file('ak.ctx'), '-C', handle, '-i', cred, '-o', secret, ...(policy ? ['-P', `session:${session}`] : [])]);
      return readFileSync(secret);
    } finally {
      await this.#run('tpm2_flushcontext', ['-s']).catch(() => undefined);
      await this.#run('tpm2_flushcontext', ['-t']).catch(() => undefined);
      rmSync(secret, { force: true });
    }
  }
}
