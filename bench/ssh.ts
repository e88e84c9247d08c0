/**
 * `ssh`: SSH user certificates built and signed per second on one core (signSshCertificate: the
 * certificate's wire encoding and the CA signature), next to the raw signature of a message of the
 * same size with the same CA key, in alternating slices of the same run (bench/measure.ts). One
 * figure per CA key type Signet offers (Ed25519 default, ECDSA P-256/P-384, RSA 3072 with
 * rsa-sha2-512).
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { signSshCertificate } from '../src/ssh/certificate.js';
import { publicKeyBlob, sshSign } from '../src/ssh/keys.js';
import { race } from './measure.js';

const MEASURE_MS = Number(process.env.SIGNET_BENCH_MS ?? 1500);

interface SshBenchResult {
  readonly caKey: string;
  readonly certificatesPerSecond: number;
  readonly rawSignaturesPerSecond: number;
  /** certificates ÷ raw signatures: 1 means the encoding costs nothing next to the signature. */
  readonly ratio: number;
  readonly certificateBytes: number;
}

export function benchSsh(): { measureMsPerSide: number; results: SshBenchResult[] } {
  const subject = generateKeyPairSync('ed25519').publicKey;
  // As the authority does: the request's key blob goes into the certificate as it came.
  const subjectBlob = publicKeyBlob(subject);
  const cases: [string, KeyObject][] = [
    ['Ed25519', generateKeyPairSync('ed25519').privateKey],
    ['ECDSA P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey],
    ['ECDSA P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['RSA 3072 (rsa-sha2-512)', generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey],
  ];
  const now = BigInt(Math.floor(Date.now() / 1000));
  const results = cases.map(([caKey, key]) => {
    const make = (i: number): Uint8Array =>
      signSshCertificate(
        {
          publicKey: subject,
          publicKeyBlob: subjectBlob,
          type: 'user',
          serial: BigInt(i + 1),
          keyId: `user${i}@example.com`,
          principals: [`user${i}`],
          validAfter: now - 60n,
          validBefore: now + 16n * 3600n,
          extensions: { 'permit-agent-forwarding': '', 'permit-port-forwarding': '', 'permit-pty': '', 'permit-user-rc': '', 'permit-X11-forwarding': '' },
        },
        key,
      );
    const sample = make(0);
    const message = new Uint8Array(randomBytes(sample.length));
    const [certificatesPerSecond, rawSignaturesPerSecond] = race((i) => void make(i), () => void sshSign(key, message), MEASURE_MS);
    return { caKey, certificatesPerSecond: Math.round(certificatesPerSecond), rawSignaturesPerSecond: Math.round(rawSignaturesPerSecond), ratio: Math.round((certificatesPerSecond / rawSignaturesPerSecond) * 1000) / 1000, certificateBytes: sample.length };
  });
  return { measureMsPerSide: MEASURE_MS, results };
}
