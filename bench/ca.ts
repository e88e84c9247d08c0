/**
 * The CA every benchmark issues from: made by `signet ca init`'s own code in a scratch
 * directory (root, intermediate, the `admin` JWK provisioner, SQLite store), with what the
 * benchmarks need of it loaded.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaConfig, type CaConfig } from '../src/ca/config.js';
import { caInitCommand } from '../src/cli/ca/init.js';
import { decodePem } from '../src/core/pem.js';
import { parsePrivateKey } from '../src/crypto/keys.js';

const PASSWORD = 'bench password';

/** A benchmark CA. */
export interface BenchCa {
  readonly configPath: string;
  readonly config: CaConfig;
  readonly rootPem: string;
  /** DER of the root and the intermediate certificates. */
  readonly root: Uint8Array;
  readonly intermediate: Uint8Array;
  readonly rootFingerprint: string;
  readonly provisionerKey: KeyObject;
  readonly provisionerPublicKey: KeyObject;
  readonly kid: string;
  /** The intermediate's private key. */
  readonly intermediateKey: KeyObject;
}

/** Creates a CA in `parent` (an empty directory) with `signet ca init`'s code. */
export async function createBenchCa(parent: string): Promise<BenchCa> {
  const passwordFile = join(parent, 'password.txt');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const dir = join(parent, 'ca');
  await caInitCommand({ name: 'Bench CA', dir, passwordFile, provisionerPasswordFile: passwordFile, rootKeyOut: join(parent, 'root.key') });
  const configPath = join(dir, 'signet.json');
  const config = loadCaConfig(configPath);
  const provisioner = config.provisioners[0];
  if (provisioner?.type !== 'JWK') throw new Error('ca init made no JWK provisioner');
  const rootPem = readFileSync(config.root, 'utf8');
  const root = decodePem(rootPem, ['CERTIFICATE']).der;
  const provisionerKey = parsePrivateKey(new Uint8Array(readFileSync(join(dir, 'secrets', `provisioner-${provisioner.name}.key`))), PASSWORD);
  return {
    configPath,
    config,
    rootPem,
    root,
    intermediate: decodePem(readFileSync(config.intermediate.certificate, 'utf8'), ['CERTIFICATE']).der,
    rootFingerprint: createHash('sha256').update(root).digest('hex'),
    provisionerKey,
    provisionerPublicKey: createPublicKey(provisionerKey),
    kid: provisioner.kid,
    intermediateKey: parsePrivateKey(new Uint8Array(readFileSync(config.intermediate.key)), PASSWORD),
  };
}
