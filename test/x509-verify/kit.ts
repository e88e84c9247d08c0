/**
 * Chain-building kit for the path-validation tests: parties (keys + signers), one `issue()` that
 * exposes every knob a rule needs (validity, basic constraints, key usage, EKU, SANs, name
 * constraints, raw extra extensions, wrong signer, corrupted signature), and helpers that run
 * Signet's verifyChain and `openssl verify` on the same chain.
 */
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { writeFileSync } from 'node:fs';
import { encodePem } from '../../src/core/pem.js';
import { isSignetError } from '../../src/core/errors.js';
import { createSoftwareSigner, type Signer } from '../../src/crypto/signer.js';
import { assembleCertificate, buildTbsCertificate, type CertificateSpec } from '../../src/x509/certificate-builder.js';
import { parseCertificate, type Certificate } from '../../src/x509/certificate.js';
import type { ExtensionsSpec, KeyUsageName, RawExtension } from '../../src/x509/extensions.js';
import type { GeneralName } from '../../src/x509/general-name.js';
import { parseSubject, type DistinguishedName } from '../../src/x509/name.js';
import { verifyChain, type VerifyOptions } from '../../src/x509/verify/index.js';
import { openssl } from '../helpers/openssl.js';

/** The verification time of every test unless a case says otherwise. */
export const NOW = new Date('2026-06-01T00:00:00Z');
export const NOT_BEFORE = new Date('2026-01-01T00:00:00Z');
export const NOT_AFTER = new Date('2027-01-01T00:00:00Z');

export interface Party {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly signer: Signer;
}

/** A fresh P-256 party (the fastest key type; tests generate a handful per file). */
export function newParty(type: 'p256' | 'ed25519' = 'p256'): Party {
  const { privateKey, publicKey } = type === 'p256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  return { privateKey, publicKey, signer: createSoftwareSigner(privateKey) };
}

export interface Issued {
  readonly cert: Certificate;
  readonly der: Uint8Array;
  readonly pem: string;
  readonly party: Party;
}

export interface IssueOptions {
  /** RFC 4514 text (`CN=x,O=y`), a DistinguishedName, or raw Name DER. */
  readonly subject: string | DistinguishedName | Uint8Array;
  readonly party: Party;
  /** Issuing certificate; omitted = self-signed by `party`. */
  readonly issuer?: Issued;
  /** Overrides the issuer Name written in the certificate (raw DER). */
  readonly issuerName?: Uint8Array;
  /** `true`/number = CA (number = pathLen); `false` = basicConstraints cA:false; `'none'` = no extension. */
  readonly ca?: boolean | number | 'none';
  /** Default: CA → keyCertSign+cRLSign; leaf → digitalSignature. `false` = no extension. */
  readonly keyUsage?: readonly KeyUsageName[] | false;
  readonly eku?: readonly string[];
  /** GeneralNames or CLI text (`dns:x`, `ip:…`, `email:…`, `uri:…`). */
  readonly san?: readonly (GeneralName | string)[];
  readonly sanCritical?: boolean;
  readonly permitted?: readonly (GeneralName | string)[];
  readonly excluded?: readonly (GeneralName | string)[];
  readonly policies?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly extra?: readonly RawExtension[];
  readonly ski?: false | Uint8Array;
  readonly aki?: false | Uint8Array;
  readonly version?: 1 | 2 | 3;
  /** Sign with this party instead of the issuer's (a wrong key). */
  readonly signedBy?: Party;
  /** Flip a bit of the signature. */
  readonly corruptSignature?: boolean;
  /** Outer signatureAlgorithm DER, when it should differ from the one inside the TBS. */
  readonly outerAlgorithm?: Uint8Array;
}

/** `type:value` text to a GeneralName, written as given (no syntax check: tests build odd names). */
function gn(n: GeneralName | string): GeneralName {
  if (typeof n !== 'string') return n;
  const m = /^(dns|ip|email|uri):(.*)$/s.exec(n);
  if (!m) throw new Error(`kit: write names as dns:/ip:/email:/uri:, not ${n}`);
  return { type: m[1] as 'dns' | 'ip' | 'email' | 'uri', value: m[2] as string };
}

/** Issues one certificate as described. */
export function issue(o: IssueOptions): Issued {
  const isCa = o.ca !== undefined && o.ca !== false && o.ca !== 'none';
  const bc: ExtensionsSpec['basicConstraints'] =
    o.ca === undefined || o.ca === 'none' ? undefined : o.ca === false ? { ca: false } : typeof o.ca === 'number' ? { ca: true, pathLen: o.ca } : { ca: true };
  const ku = o.keyUsage === false ? undefined : { usages: o.keyUsage ?? (isCa ? (['keyCertSign', 'cRLSign'] as const) : (['digitalSignature'] as const)) };
  const nc =
    o.permitted || o.excluded
      ? { permitted: (o.permitted ?? []).map((n) => gn(n)), excluded: (o.excluded ?? []).map((n) => gn(n)) }
      : undefined;
  const extensions: ExtensionsSpec = {
    ...(bc ? { basicConstraints: bc } : {}),
    ...(ku ? { keyUsage: ku } : {}),
    ...(o.eku ? { extKeyUsage: { usages: o.eku } } : {}),
    subjectKeyIdentifier: o.ski === undefined ? 'auto' : o.ski,
    authorityKeyIdentifier: o.aki === undefined ? 'auto' : o.aki,
    ...(o.san ? { subjectAltName: { names: o.san.map((n) => gn(n)), critical: o.sanCritical ?? false } } : {}),
    ...(nc ? { nameConstraints: nc } : {}),
    ...(o.policies ? { certificatePolicies: o.policies } : {}),
    ...(o.extra ? { extra: o.extra } : {}),
  };
  const subject = typeof o.subject === 'string' ? parseSubject(o.subject) : o.subject;
  const spec: CertificateSpec = {
    ...(o.version ? { version: o.version } : {}),
    subject,
    notBefore: o.notBefore ?? NOT_BEFORE,
    notAfter: o.notAfter ?? NOT_AFTER,
    publicKey: o.party.publicKey,
    extensions,
  };
  const issuerInfo = o.issuer
    ? { name: o.issuerName ?? o.issuer.cert.subject.der, keyIdentifier: o.issuer.cert.ext.subjectKeyIdentifier }
    : o.issuerName
      ? { name: o.issuerName, keyIdentifier: undefined }
      : undefined;
  const signer = (o.signedBy ?? o.issuer?.party ?? o.party).signer;
  const tbs = buildTbsCertificate(spec, issuerInfo, signer.algorithm);
  const sig = signer.sign(tbs);
  if (o.corruptSignature) sig[sig.length - 5] = (sig[sig.length - 5] as number) ^ 0x01;
  const der = assembleCertificate(tbs, o.outerAlgorithm ?? signer.algorithm.identifier, sig);
  return { cert: parseCertificate(der), der, pem: encodePem('CERTIFICATE', der), party: o.party };
}

/** Shorthand: a self-signed root CA. */
export function root(name: string, party: Party, more: Partial<IssueOptions> = {}): Issued {
  return issue({ subject: `CN=${name}`, party, ca: true, ...more });
}

/** Shorthand: an intermediate CA issued by `issuer`. */
export function intermediate(name: string, party: Party, issuer: Issued, more: Partial<IssueOptions> = {}): Issued {
  return issue({ subject: `CN=${name}`, party, issuer, ca: true, ...more });
}

/** Shorthand: an end-entity certificate with a DNS SAN. */
export function leaf(name: string, party: Party, issuer: Issued, more: Partial<IssueOptions> = {}): Issued {
  return issue({ subject: `CN=${name}`, party, issuer, san: [`dns:${name}`], ...more });
}

/** One verification scenario. */
export interface Scenario {
  readonly leaf: Issued;
  readonly roots: readonly Issued[];
  readonly intermediates?: readonly Issued[];
  readonly options?: Partial<Omit<VerifyOptions, 'roots' | 'intermediates'>>;
}

/** Runs verifyChain; returns `ok` with the chain's subjects, or the error code and detail. */
export function run(s: Scenario): { result: string; chain?: string[]; depth?: unknown } {
  try {
    const r = verifyChain(s.leaf.cert, {
      roots: s.roots.map((c) => c.cert),
      intermediates: (s.intermediates ?? []).map((c) => c.cert),
      time: NOW,
      ...s.options,
    });
    return { result: 'ok', chain: r.chain.map((c) => c.subject.text) };
  } catch (e) {
    if (isSignetError(e)) return { result: e.code, depth: e.detail?.depth };
    throw e;
  }
}

/**
 * Runs `openssl verify` on the same scenario (files in `dir`); true when OpenSSL accepts it.
 * Returns the OpenSSL output for diagnostics.
 */
export function opensslVerify(s: Scenario, dir: string, name: string, extraArgs: readonly string[] = []): { ok: boolean; output: string } {
  const write = (suffix: string, certs: readonly Issued[]): string => {
    const p = `${dir}/${name}-${suffix}.pem`;
    writeFileSync(p, certs.map((c) => c.pem).join(''));
    return p;
  };
  const args = ['verify', '-CAfile', write('roots', s.roots)];
  if (s.intermediates && s.intermediates.length > 0) args.push('-untrusted', write('int', s.intermediates));
  const opts = s.options ?? {};
  args.push('-attime', String(Math.floor((opts.time ?? NOW).getTime() / 1000)));
  if (opts.purpose === 'server') args.push('-purpose', 'sslserver');
  if (opts.purpose === 'client') args.push('-purpose', 'sslclient');
  if (opts.host !== undefined) args.push('-verify_hostname', opts.host);
  if (opts.ip !== undefined) args.push('-verify_ip', opts.ip);
  if (opts.maxDepth !== undefined) args.push('-verify_depth', String(opts.maxDepth));
  args.push(...extraArgs, write('leaf', [s.leaf]));
  const r = openssl(args);
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}
