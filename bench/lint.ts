/**
 * Lint-before-sign cost: how many realistic leaf TBSCertificates Signet parses and lints per
 * second on one core (`lintTbsCertificate`, what the CA runs before every signature), next to
 * raw node:crypto P-256 signatures per second over a message of the same size, measured in the
 * same run. Goal: parse + lint costs well under one P-256 signature (ratio > 1).
 *
 * After a warm-up, the two sides alternate in short slices (25 ms) until each has run for the
 * measuring time (~1 s by default); rates are summed over all slices, so a noisy neighbour or a
 * CPU frequency change hits both sides alike. The TBSs differ (serial, names, key) and rotate, so
 * nothing is linted twice in a row. Variants show an RSA-2048 subject key, whose validity the
 * linter cannot judge from its encoding: without and with the KeyObject hint.
 */
import { cpus } from 'node:os';
import { randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../src/crypto/generate.js';
import { createSoftwareSigner } from '../src/crypto/signer.js';
import { buildTbsCertificate, issueCertificate, issuerFromCertificate, spkiOf, type IssuerInfo } from '../src/x509/certificate-builder.js';
import { parseTbsCertificate } from '../src/x509/certificate.js';
import { lintTbsCertificate } from '../src/x509/lint/index.js';
import type { LintOptions } from '../src/x509/lint/index.js';
import { parseSubject } from '../src/x509/name.js';
import { specFromProfile } from '../src/x509/profiles.js';
import type { Signer } from '../src/crypto/signer.js';
import { race, SLICE_MS } from './measure.js';

/** Measuring time per side (ms); SIGNET_BENCH_MS overrides it, as for `npm run bench`. */
const MEASURE_MS = Number(process.env.SIGNET_BENCH_MS ?? 1000);
/** Distinct TBSs linted in rotation. */
const SAMPLES = 64;

/** Leaf TBSs as the CA builds them from CSRs: the subject key arrives as SPKI bytes. */
function leafTbss(signer: Signer, issuer: IssuerInfo, subjectKeys: readonly KeyObject[], now: Date): Uint8Array[] {
  return Array.from({ length: SAMPLES }, (_, i) => {
    const spec = specFromProfile('leaf', {
      subject: [[{ type: 'CN', value: `host-${i}.svc.example.com` }]],
      publicKey: spkiOf(subjectKeys[i % subjectKeys.length] as KeyObject),
      now,
      lifetimeMs: 24 * 3_600_000,
      sans: [
        { type: 'dns', value: `host-${i}.svc.example.com` },
        { type: 'dns', value: `host-${i}.example.com` },
      ],
      ocspUrls: ['http://ocsp.example.com/'],
      issuerUrls: ['http://ca.example.com/issuing.crt'],
      crlUrls: ['http://crl.example.com/issuing.crl'],
    });
    return buildTbsCertificate(spec, issuer, signer.algorithm);
  });
}

/** Lets pending I/O run between measurements (timers, a caller's progress output). */
function breather(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A rate pair as figures: operations per second, microseconds per operation, and their ratio. */
function figures(lintRate: number, signRate: number): Record<string, number> {
  return {
    lintsPerSecond: round(lintRate),
    rawP256SignaturesPerSecond: round(signRate),
    lintMicroseconds: round(1e6 / lintRate, 2),
    signMicroseconds: round(1e6 / signRate, 2),
    ratio: round(lintRate / signRate, 3),
  };
}

/**
 * Measures parse + lint of leaf TBSs against raw P-256 signing (see the module comment) and
 * returns the figures as a JSON-ready object; `ratio` > 1 means linting a leaf costs less than
 * one P-256 signature.
 */
export async function benchLint(): Promise<object> {
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signer = createSoftwareSigner(ca.privateKey);
  const now = new Date();
  const caCert = issueCertificate(specFromProfile('root-ca', { subject: parseSubject('/C=DE/O=Example/CN=Bench Issuing CA'), publicKey: ca.publicKey, now }), signer);
  const issuer = issuerFromCertificate(caCert);
  const ecKeys = Array.from({ length: 8 }, () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey);
  const tbss = leafTbss(signer, issuer, ecKeys, now);
  const sample = tbss[0] as Uint8Array;
  const options: LintOptions = { profile: 'leaf', now };

  const first = lintTbsCertificate(sample, options);
  if (first.errors > 0 || first.warnings > 0) throw new Error(`the bench leaf does not lint clean: ${first.findings.map((f) => f.rule).join(', ')}`);

  // The raw signature covers a message of the same size as the TBS, with the CA's key.
  const message = randomBytes(sample.length);
  const hash = signer.algorithm.hash;
  let sink = 0;
  const raw = (): void => {
    sink ^= cryptoSign(hash, message, ca.privateKey).length;
  };
  const lint = (i: number): void => {
    sink ^= lintTbsCertificate(tbss[i % SAMPLES] as Uint8Array, options).checked.length;
  };
  const parse = (i: number): void => {
    sink ^= parseTbsCertificate(tbss[i % SAMPLES] as Uint8Array).version;
  };
  const [lintRate, signRate] = race(lint, raw, MEASURE_MS);
  await breather();
  const [parseRate, signRate2] = race(parse, raw, MEASURE_MS / 2);
  await breather();

  // Variants: an RSA-2048 subject key, without and with the KeyObject hint.
  const rsaKeys = Array.from({ length: 2 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
  const rsaTbss = leafTbss(signer, issuer, rsaKeys, now);
  const rsaLint = (i: number): void => {
    sink ^= lintTbsCertificate(rsaTbss[i % SAMPLES] as Uint8Array, options).checked.length;
  };
  const rsaLintHinted = (i: number): void => {
    sink ^= lintTbsCertificate(rsaTbss[i % SAMPLES] as Uint8Array, { ...options, publicKey: rsaKeys[i % 2] }).checked.length;
  };
  const [rsaRate, signRate3] = race(rsaLint, raw, MEASURE_MS / 2);
  await breather();
  const [rsaHintedRate, signRate4] = race(rsaLintHinted, raw, MEASURE_MS / 2);
  if (sink === -1) process.stderr.write('');

  const main = figures(lintRate, signRate);
  return {
    benchmark: 'lint before sign: lintTbsCertificate of a leaf TBS vs raw node:crypto P-256 sign, one core',
    node: process.versions.node,
    openssl: process.versions.openssl,
    cpu: cpus()[0]?.model ?? 'unknown',
    measureMsPerSide: MEASURE_MS,
    sliceMs: SLICE_MS,
    tbsBytes: sample.length,
    rulesChecked: first.checked.length,
    ...main,
    parseOnly: { parsesPerSecond: round(parseRate), parseMicroseconds: round(1e6 / parseRate, 2), ratio: round(parseRate / signRate2, 3) },
    variants: {
      rsa2048SubjectKey: figures(rsaRate, signRate3),
      rsa2048SubjectKeyWithKeyObjectHint: figures(rsaHintedRate, signRate4),
    },
    goal: { description: 'parse + lint of a P-256 leaf TBS costs less than one raw P-256 signature', minRatio: 1, ratio: main.ratio, met: (main.ratio ?? 0) > 1 },
  };
}
