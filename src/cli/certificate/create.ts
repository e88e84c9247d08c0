/**
 * `signet certificate create SUBJECT OUT_CRT` — issue a certificate from a profile: self-signed
 * (root CA or a self-signed leaf), or signed by a CA certificate + key; for a fresh key, an
 * existing key, or a CSR.
 *
 * Everything is computed and checked before anything is written: the outputs must not exist
 * (unless --force) and must not be one of the inputs or each other (even with --force), the CA
 * key must match the CA certificate, a CSR's signature must verify. Then the certificate and the
 * new private key (0600, encrypted unless --no-password) are committed together
 * ({@link commitOutputs}): both or neither, and an existing file is never lost. OUT `-` (or
 * `--key-out -`) writes to stdout.
 *
 * The flags become a {@link CertificateSpec} in exactly one place, {@link specFromFlags}, so
 * that templates can plug in before or after it.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatDuration, formatTime, parseTime } from '../../core/duration.js';
import { decodePem, encodePem, looksLikePem } from '../../core/pem.js';
import { toHex } from '../../core/bytes.js';
import { generateKeyAsync, type KeySpec } from '../../crypto/key-spec.js';
import { assertSigningKey, encodePrivateKeyPem, encodePublicKeyDer } from '../../crypto/keys.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { parseCertificate } from '../../x509/certificate.js';
import { issuerFromCertificate, readCertificateFields, type CertificateSpec, type IssuerInfo } from '../../x509/certificate-builder.js';
import { assertIssuerValid, issueLintedCertificate } from '../../x509/issue.js';
import type { LintFinding } from '../../x509/lint/index.js';
import { parseCsr, verifyCsrSignature } from '../../x509/csr.js';
import { KEY_USAGE_BIT_NUMBERS, type KeyUsageName } from '../../x509/extensions.js';
import { formatGeneralName, isValidUri, parseGeneralName, parseIpAddress, isValidDnsName, isValidEmail, type GeneralName } from '../../x509/general-name.js';
import { attributeTypeOid, parseSubject, type DistinguishedName } from '../../x509/name.js';
import { OID } from '../../x509/oids.js';
import { PROFILE_NAMES, getProfile, specFromProfile, type Profile } from '../../x509/profiles.js';
import { formatSerial } from '../../x509/serial.js';
import { loadPrivateKeyFile, loadPublicKeyFile } from '../key/load.js';
import { keySpecFromFlags } from '../key/key-flags.js';
import { collect, checkOutputs, commitOutputs, printJson, readInput, readPassword, withSource, type NamedInput, type PlannedOutput } from '../io.js';
import { addTemplateOptions, specFromTemplateFlags } from './template.js';
import { checkLifetimeEnd, parseLifetimeFlag } from './validity.js';

/** The flags of `certificate create`, as commander parses them. */
/** Flags for validity and extensions, shared by `certificate create` and `certificate template`. */
export interface ExtensionFlags {
  san?: string[] | undefined;
  notBefore?: string | undefined;
  notAfter?: string | undefined;
  lifetime?: string | undefined;
  keyUsage?: string | undefined;
  eku?: string | undefined;
  pathLen?: string | undefined;
  permittedDns?: string[] | undefined;
  excludedDns?: string[] | undefined;
  permittedIp?: string[] | undefined;
  excludedIp?: string[] | undefined;
  permittedEmail?: string[] | undefined;
  excludedEmail?: string[] | undefined;
  permittedUri?: string[] | undefined;
  excludedUri?: string[] | undefined;
  crlUrl?: string[] | undefined;
  ocspUrl?: string[] | undefined;
  issuerUrl?: string[] | undefined;
}

export interface CertificateCreateFlags extends ExtensionFlags {
  profile?: string | undefined;
  key?: string | undefined;
  keyOut?: string | undefined;
  csr?: string | undefined;
  ca?: string | undefined;
  caKey?: string | undefined;
  caPasswordFile?: string | undefined;
  passwordFile?: string | undefined;
  /** false with --no-password. */
  password?: boolean | undefined;
  kty?: string | undefined;
  type?: string | undefined;
  curve?: string | undefined;
  size?: string | undefined;
  template?: string | undefined;
  setFile?: string | undefined;
  set?: string[] | undefined;
  force?: boolean | undefined;
  json?: boolean | undefined;
}

/** What {@link specFromFlags} needs besides the flags: facts established by loading inputs. */
export interface SpecContext {
  readonly profile: Profile;
  readonly subject: DistinguishedName | Uint8Array;
  readonly publicKey: KeyObject | Uint8Array;
  /** Issuance time from the injected clock. */
  readonly now: Date;
  /** SANs requested in a CSR (added before the --san names). */
  readonly requestedSans?: readonly GeneralName[];
  /** The subject as attributes when `subject` is raw DER (from a CSR), to find its CN. */
  readonly subjectName?: DistinguishedName;
}

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

const KU_BY_LOWER = new Map(Object.keys(KEY_USAGE_BIT_NUMBERS).map((k) => [k.toLowerCase(), k as KeyUsageName]));

/** `digitalSignature`, `digital-signature`, `DigitalSignature` … → the RFC name. */
function keyUsageName(text: string): KeyUsageName {
  const k = KU_BY_LOWER.get(text.replace(/[-_]/g, '').toLowerCase());
  if (!k) throw new SignetError('ERR_BAD_OPTION', `unknown key usage "${text}"`, { hint: `use ${Object.keys(KEY_USAGE_BIT_NUMBERS).join(', ')}` });
  return k;
}

function constraintNames(type: 'dns' | 'ip' | 'email' | 'uri', values: readonly string[] | undefined): GeneralName[] {
  return (values ?? []).map((v) => parseGeneralName(`${type}:${v}`, { constraint: true }));
}

function urls(flag: string, values: readonly string[] | undefined): string[] {
  for (const u of values ?? []) {
    if (!isValidUri(u)) throw new SignetError('ERR_BAD_OPTION', `invalid URL for ${flag}: "${u}"`, { hint: 'use an absolute URL such as http://crl.example.com/ca.crl' });
  }
  return [...(values ?? [])];
}

/** The CN of a subject, for deriving a SAN when none is given. */
function commonName(subject: DistinguishedName | Uint8Array): string | undefined {
  if (subject instanceof Uint8Array) return undefined;
  for (let i = subject.length - 1; i >= 0; i--) {
    for (const a of subject[i] ?? []) if (attributeTypeOid(a.type) === OID.commonName) return a.value;
  }
  return undefined;
}

/**
 * A SAN derived from the subject CN when a leaf gets no names at all (RFC 6125 §6.4.4: clients
 * no longer read the CN, so a name only in the CN would be useless). Only a CN that is a valid
 * DNS name, IP address or e-mail address becomes a SAN.
 */
function sanFromCommonName(cn: string | undefined): GeneralName | undefined {
  if (cn === undefined) return undefined;
  if (parseIpAddress(cn)) return { type: 'ip', value: cn };
  if (isValidEmail(cn)) return { type: 'email', value: cn };
  if (isValidDnsName(cn, { wildcard: true }) && cn.includes('.')) return { type: 'dns', value: cn.toLowerCase() };
  return undefined;
}

/**
 * Maps the flags onto the profile: the single place where command-line options become a
 * certificate spec (templates plug in here). Pure apart from parsing: no I/O, time from `ctx`.
 */
export function specFromFlags(flags: CertificateCreateFlags, ctx: SpecContext): CertificateSpec {
  const now = ctx.now;
  const notBefore = flags.notBefore !== undefined ? parseTime(flags.notBefore, now) : undefined;
  if (flags.notAfter !== undefined && flags.lifetime !== undefined) throw new SignetError('ERR_USAGE', '--not-after and --lifetime cannot be combined');
  const notAfter = flags.notAfter !== undefined ? parseTime(flags.notAfter, now) : undefined;
  // The profile counts the lifetime from --not-before when given, otherwise from now.
  const lifetimeMs = flags.lifetime !== undefined ? parseLifetimeFlag(flags.lifetime, notBefore ?? now) : undefined;
  if (notAfter === undefined && lifetimeMs === undefined) {
    checkLifetimeEnd(notBefore ?? now, ctx.profile.defaultLifetimeMs, `the default lifetime of profile ${ctx.profile.name} (${formatDuration(ctx.profile.defaultLifetimeMs)})`);
  }

  const sans: GeneralName[] = [...(ctx.requestedSans ?? []), ...(flags.san ?? []).map((s) => parseGeneralName(s))];
  if (sans.length === 0 && !ctx.profile.ca) {
    const derived = sanFromCommonName(commonName(ctx.subjectName ?? ctx.subject));
    if (derived) sans.push(derived);
  }
  const seen = new Set<string>();
  const uniqueSans = sans.filter((n) => {
    const k = formatGeneralName(n);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const emptySubject = ctx.subject instanceof Uint8Array ? ctx.subject.length === 2 : ctx.subject.length === 0;
  if (emptySubject && uniqueSans.length === 0) {
    throw new SignetError('ERR_BAD_SUBJECT', 'a certificate with an empty subject needs at least one --san (RFC 5280 §4.2.1.6)');
  }

  let pathLen: number | null | undefined;
  if (flags.pathLen !== undefined) {
    if (flags.pathLen === 'none') pathLen = null;
    else if (/^\d{1,3}$/.test(flags.pathLen)) pathLen = Number(flags.pathLen);
    else throw new SignetError('ERR_BAD_OPTION', `invalid --path-len "${flags.pathLen}"`, { hint: 'use a non-negative integer, or none' });
  }
  const eku = flags.eku === undefined ? undefined : flags.eku === 'none' ? [] : list(flags.eku);

  return specFromProfile(ctx.profile, {
    subject: ctx.subject,
    publicKey: ctx.publicKey,
    now,
    sans: uniqueSans,
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
    ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
    ...(flags.keyUsage !== undefined ? { keyUsage: list(flags.keyUsage).map(keyUsageName) } : {}),
    ...(eku !== undefined ? { extKeyUsage: eku } : {}),
    ...(pathLen !== undefined ? { pathLen } : {}),
    permitted: [
      ...constraintNames('dns', flags.permittedDns),
      ...constraintNames('ip', flags.permittedIp),
      ...constraintNames('email', flags.permittedEmail),
      ...constraintNames('uri', flags.permittedUri),
    ],
    excluded: [
      ...constraintNames('dns', flags.excludedDns),
      ...constraintNames('ip', flags.excludedIp),
      ...constraintNames('email', flags.excludedEmail),
      ...constraintNames('uri', flags.excludedUri),
    ],
    crlUrls: urls('--crl-url', flags.crlUrl),
    ocspUrls: urls('--ocsp-url', flags.ocspUrl),
    issuerUrls: urls('--issuer-url', flags.issuerUrl),
  });
}

/** Reads a certificate file (PEM or DER; the first certificate of a PEM bundle). */
function readCertificateDer(path: string, source: string): Uint8Array {
  const data = readInput(path, 'certificate');
  return looksLikePem(data) ? withSource(source, () => decodePem(Buffer.from(data).toString('latin1'), ['CERTIFICATE']).der) : data;
}

interface LoadedCa {
  readonly der: Uint8Array;
  readonly key: KeyObject;
  readonly issuer: IssuerInfo;
}

/**
 * Loads the issuing CA: the certificate must be a CA (basicConstraints cA, and keyCertSign when
 * keyUsage is present — RFC 5280 §4.2.1.3/§4.2.1.9), valid now (checked here, before asking for
 * any password, and again by issuance) and the key must be its key.
 */
async function loadCa(certPath: string, keyPath: string, passwordFile: string | undefined, now: Date): Promise<LoadedCa> {
  const source = `--ca ${certPath}`;
  const der = readCertificateDer(certPath, source);
  const cert = withSource(source, () => parseCertificate(der));
  if (cert.ext.basicConstraints?.ca !== true) {
    throw new SignetError('ERR_NOT_A_CA', `${certPath} is not a CA certificate (basicConstraints cA is not set)`, { hint: 'pass the certificate of a root or intermediate CA' });
  }
  if (cert.ext.keyUsage && !cert.ext.keyUsage.usages.includes('keyCertSign')) {
    throw new SignetError('ERR_NOT_A_CA', `${certPath} may not sign certificates (keyUsage lacks keyCertSign)`);
  }
  const issuer = withSource(source, () => issuerFromCertificate(der));
  assertIssuerValid(issuer, now, certPath);
  const key = await loadPrivateKeyFile(keyPath, { passwordFile, passwordFlag: '--ca-password-file', source: `--ca-key ${keyPath}` });
  assertSigningKey(key);
  if (!Buffer.from(encodePublicKeyDer(key)).equals(Buffer.from(readCertificateFields(der).spki))) {
    throw new SignetError('ERR_KEY_MISMATCH', `${keyPath} is not the key of ${certPath}`, { hint: 'pass the private key that belongs to the CA certificate' });
  }
  return { der, key, issuer };
}

/** Asks for (or reads) the password of a new key; undefined with --no-password. */
async function newKeyPassword(flags: CertificateCreateFlags): Promise<string | undefined> {
  if (flags.password === false) {
    if (flags.passwordFile !== undefined) throw new SignetError('ERR_USAGE', '--password-file and --no-password cannot be combined');
    return undefined;
  }
  if (flags.passwordFile === undefined && !process.stdin.isTTY) {
    throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', 'the new key must be encrypted but there is no terminal to ask for a password', {
      hint: 'pass --password-file FILE, or --no-password to write the key unencrypted',
    });
  }
  return readPassword({ passwordFile: flags.passwordFile, prompt: 'password for the new key: ', confirm: true });
}

/** The result of `certificate create`, as `--json` prints it. */
export interface CertificateCreateResult {
  readonly certificate: string;
  readonly key?: string;
  readonly profile: string;
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sans: readonly string[];
  readonly sha256: string;
  /** Set when notAfter was clamped to the issuer's notAfter: what was asked for. */
  readonly requestedNotAfter?: string;
  /** The pre-signing lint (no errors, or nothing would have been issued). */
  readonly lint: {
    readonly profile: string;
    readonly warnings: number;
    readonly notices: number;
    readonly findings: readonly LintFinding[];
  };
}

/** Runs `certificate create`. */
export async function createCertificateCommand(subjectText: string, outPath: string, flags: CertificateCreateFlags): Promise<CertificateCreateResult> {
  const force = flags.force === true;
  const profile = getProfile(flags.profile ?? (flags.ca !== undefined ? 'leaf' : 'self-signed'));

  // -- usage checks, before any I/O
  if ((flags.ca === undefined) !== (flags.caKey === undefined)) throw new SignetError('ERR_USAGE', '--ca and --ca-key must be given together');
  if (profile.selfSigned && flags.ca !== undefined) {
    throw new SignetError('ERR_USAGE', `profile ${profile.name} is self-signed and cannot be signed by --ca`, { hint: 'use --profile intermediate-ca or leaf with --ca' });
  }
  if (!profile.selfSigned && flags.ca === undefined) {
    throw new SignetError('ERR_USAGE', `profile ${profile.name} needs an issuing CA`, { hint: 'pass --ca CA_CRT --ca-key CA_KEY (or use --profile root-ca / self-signed)' });
  }
  const sources = [flags.key, flags.csr, flags.keyOut].filter((s) => s !== undefined).length;
  if (sources !== 1) {
    throw new SignetError('ERR_USAGE', 'give exactly one of --key KEY, --csr CSR or --key-out FILE (to generate a new key)');
  }
  if (flags.csr !== undefined && profile.selfSigned) {
    throw new SignetError('ERR_USAGE', 'a self-signed certificate needs the private key, not a CSR', { hint: 'use --key KEY' });
  }
  if (subjectText === '-' && flags.csr === undefined) throw new SignetError('ERR_USAGE', 'subject "-" (take it from the CSR) needs --csr');
  if ((flags.kty ?? flags.type ?? flags.curve ?? flags.size) !== undefined && flags.keyOut === undefined) {
    throw new SignetError('ERR_USAGE', '--kty, --curve and --size apply to a new key (--key-out)');
  }
  const keySpec: KeySpec | undefined =
    flags.keyOut !== undefined ? keySpecFromFlags({ type: flags.kty ?? flags.type, curve: flags.curve, size: flags.size }, '--kty') : undefined;
  if (flags.json && (outPath === '-' || flags.keyOut === '-')) {
    throw new SignetError('ERR_USAGE', '--json cannot be combined with writing to stdout (-)', { hint: 'write the certificate and the key to files' });
  }
  const planned: PlannedOutput[] = [
    { path: outPath, role: 'OUT' },
    ...(flags.keyOut !== undefined ? [{ path: flags.keyOut, role: '--key-out', mode: 0o600 }] : []),
  ];
  const inputs: NamedInput[] = [
    { path: flags.key, role: '--key' },
    { path: flags.csr, role: '--csr' },
    { path: flags.ca, role: '--ca' },
    { path: flags.caKey, role: '--ca-key' },
    { path: flags.passwordFile, role: '--password-file' },
    { path: flags.caPasswordFile, role: '--ca-password-file' },
    { path: flags.template, role: '--template' },
    { path: flags.setFile, role: '--set-file' },
  ];
  checkOutputs(planned, inputs, { force });
  const now = systemClock.now();

  // -- inputs
  const ca = flags.ca !== undefined && flags.caKey !== undefined ? await loadCa(flags.ca, flags.caKey, flags.caPasswordFile, now) : undefined;

  let subject: DistinguishedName | Uint8Array = subjectText === '-' ? [] : parseSubject(subjectText);
  let publicKey: KeyObject | Uint8Array;
  let signingKey: KeyObject | undefined;
  let newKeyPem: string | undefined;
  let requestedSans: readonly GeneralName[] = [];
  let subjectName: DistinguishedName | undefined;
  if (flags.csr !== undefined) {
    const csrData = readInput(flags.csr, 'CSR');
    const csr = withSource(`--csr ${flags.csr}`, () => parseCsr(csrData));
    withSource(`--csr ${flags.csr}`, () => verifyCsrSignature(csr));
    publicKey = csr.spki;
    requestedSans = csr.subjectAltNames;
    if (subjectText === '-') {
      subject = csr.subjectDer;
      subjectName = csr.subject;
    }
  } else if (flags.key !== undefined) {
    if (profile.selfSigned) {
      signingKey = await loadPrivateKeyFile(flags.key, { passwordFile: flags.passwordFile, source: `--key ${flags.key}` });
      assertSigningKey(signingKey);
      publicKey = signingKey;
    } else {
      publicKey = await loadPublicKeyFile(flags.key, { passwordFile: flags.passwordFile, source: `--key ${flags.key}` });
    }
  } else {
    const password = await newKeyPassword(flags);
    const pair = await generateKeyAsync(keySpec);
    signingKey = pair.privateKey;
    publicKey = pair.publicKey;
    newKeyPem = encodePrivateKeyPem(pair.privateKey, password);
  }

  // -- build, lint, sign (one library call: the CA server issues through the same function)
  const specContext = { profile, subject, publicKey, now, requestedSans, ...(subjectName ? { subjectName } : {}) };
  const spec = specFromTemplateFlags(flags, specContext) ?? specFromFlags(flags, specContext);
  const key = ca ? ca.key : signingKey;
  if (!key) throw new SignetError('ERR_INTERNAL', 'no signing key for a self-signed certificate');
  const result = issueLintedCertificate(spec, createSoftwareSigner(key), ca?.issuer, { profile: profile.name, now });
  const der = result.der;
  const issued = parseCertificate(der);

  // -- write: the certificate and the new key together, both or neither
  const keyPem = newKeyPem;
  commitOutputs(
    planned.map((o) => ({ ...o, data: o.role === 'OUT' ? encodePem('CERTIFICATE', der) : (keyPem ?? '') })),
    { force },
  );

  return {
    certificate: outPath,
    ...(flags.keyOut !== undefined ? { key: flags.keyOut } : {}),
    profile: profile.name,
    // The same text as inspect, verify and lint print: RFC 4514 attributes in encoded order.
    subject: issued.subject.text,
    issuer: issued.issuer.text,
    serial: formatSerial(issued.serialNumber[0] === 0 && issued.serialNumber.length > 1 ? issued.serialNumber.subarray(1) : issued.serialNumber),
    notBefore: formatTime(issued.notBefore),
    notAfter: formatTime(issued.notAfter),
    sans: (result.spec.extensions?.subjectAltName?.names ?? []).map(formatGeneralName),
    sha256: toHex(new Uint8Array(createHash('sha256').update(der).digest())),
    ...(result.requestedNotAfter ? { requestedNotAfter: formatTime(result.requestedNotAfter) } : {}),
    lint: { profile: result.lint.profile, warnings: result.lint.warnings, notices: result.lint.notices, findings: result.lint.findings },
  };
}

/**
 * The warnings issuance produced, one line each: notAfter clamped to the issuer's, then the
 * warning-level lint findings as `<rule-id>: <message>` (notices only appear in --json).
 */
export function issuanceWarnings(result: CertificateCreateResult): string[] {
  const out: string[] = [];
  if (result.requestedNotAfter !== undefined) {
    out.push(`notAfter ${result.requestedNotAfter} is after the issuer's notAfter; clamped to ${result.notAfter}`);
  }
  for (const f of result.lint.findings) if (f.severity === 'warning') out.push(`${f.rule}: ${f.message}`);
  return out;
}


/** Registers `signet certificate create`. */
export function registerCertificateCreate(group: Command): void {
  addTemplateOptions(group.command('create'))
    .description('issue a certificate: a self-signed root or leaf, or one signed by a CA, for a new key, an existing key or a CSR')
    .argument('<subject>', 'subject: "CN=web,O=Example" (RFC 4514), "/O=Example/CN=web" (OpenSSL), a plain common name, "" for none, or - to copy it from --csr')
    .argument('<out>', 'where to write the certificate (PEM; - for stdout)')
    .addOption(new Option('--profile <name>', 'certificate profile').choices([...PROFILE_NAMES]))
    .option('--key <file>', 'use this existing key (private for self-signed profiles; a public key is enough with --ca)')
    .option('--key-out <file>', 'generate a new key and write it here (0600, encrypted unless --no-password; - for stdout)')
    .option('--csr <file>', 'certify the key (and SANs) of this CSR; its signature is checked first')
    .option('--ca <file>', 'issuing CA certificate')
    .option('--ca-key <file>', 'private key of the issuing CA')
    .option('--ca-password-file <file>', 'password for an encrypted --ca-key (first line)')
    .option('--password-file <file>', 'password for --key, or to encrypt --key-out (first line)')
    .option('--no-password', 'write the new key (--key-out) unencrypted')
    .option('--san <name>', 'subject alternative name (repeatable): DNS name, IP, e-mail or URI, auto-detected or prefixed dns:/ip:/email:/uri:', collect)
    .option('--not-before <time>', 'start of validity: RFC 3339 or relative (-5m, +1h); default now minus 1 minute')
    .option('--not-after <time>', 'end of validity: RFC 3339 or relative (+90d)')
    .option('--lifetime <duration>', 'validity length from now or --not-before (24h, 90d); default by profile: root 10y, intermediate 5y, leaf and self-signed 24h')
    .option('--key-usage <list>', 'key usages, comma separated (digitalSignature,keyEncipherment,keyCertSign,cRLSign,…); replaces the profile default')
    .option('--eku <list>', 'extended key usages, comma separated (serverAuth,clientAuth,codeSigning,emailProtection,timeStamping,OCSPSigning or OIDs), or none')
    .option('--path-len <n>', 'CA path length constraint (intermediate default 0; none to remove)')
    .option('--permitted-dns <name>', 'name constraint: permitted DNS subtree (repeatable)', collect)
    .option('--excluded-dns <name>', 'name constraint: excluded DNS subtree (repeatable)', collect)
    .option('--permitted-ip <cidr>', 'name constraint: permitted IP range, e.g. 10.0.0.0/8 (repeatable)', collect)
    .option('--excluded-ip <cidr>', 'name constraint: excluded IP range (repeatable)', collect)
    .option('--permitted-email <name>', 'name constraint: permitted mailbox, host or .domain (repeatable)', collect)
    .option('--excluded-email <name>', 'name constraint: excluded mailbox, host or .domain (repeatable)', collect)
    .option('--permitted-uri <host>', 'name constraint: permitted URI host or .domain (repeatable)', collect)
    .option('--excluded-uri <host>', 'name constraint: excluded URI host or .domain (repeatable)', collect)
    .option('--crl-url <url>', 'CRL distribution point (repeatable)', collect)
    .option('--ocsp-url <url>', 'OCSP responder, in authority information access (repeatable)', collect)
    .option('--issuer-url <url>', 'where the issuer certificate can be fetched, in authority information access (repeatable)', collect)
    .option('--kty <type>', 'type of a new key: ec (default), ed25519 or rsa')
    .addOption(new Option('--type <type>', 'alias of --kty').hideHelp())
    .option('--curve <curve>', 'curve of a new EC key: P-256 (default), P-384, P-521')
    .option('--size <bits>', 'size of a new RSA key: 2048 (default), 3072, 4096')
    .option('--force', 'overwrite existing output files (never an input file)')
    .option('--json', 'print what was issued as JSON')
    .addHelpText(
      'after',
      `
Profiles (default: self-signed without --ca, leaf with --ca):
  root-ca          self-signed CA, 10 years, no path length limit
  intermediate-ca  CA signed by --ca, 5 years, path length 0
  leaf             end entity signed by --ca, 24 hours, serverAuth + clientAuth
  self-signed      self-signed end entity, 24 hours
notBefore is backdated by one minute for clock skew. A leaf without --san gets its common name
as a SAN when it is a DNS name, IP or e-mail address. A certificate never outlives its issuer:
notAfter is clamped to the --ca certificate's notAfter (with a warning), and an expired or
not-yet-valid --ca is refused (ERR_CA_NOT_VALID).

The certificate and a new key are written together or not at all; an output that is also an
input, or both outputs in one file, is refused even with --force. OUT - prints the certificate
(and --key-out - the key) on stdout, one of them at a time.

Every certificate is linted against its profile before it is signed (the rules of
\`signet certificate lint\`): an error-level finding refuses issuance (ERR_LINT_FAILED, exit 1,
nothing written); warnings are printed to stderr as "warning: <rule-id>: <message>".

Exit codes: 0 issued, 1 refused by a check (lint, CA not valid, not a CA), 2 usage,
3 malformed input, 4 key/password/signature problem, 5 file problem.

Examples:
  $ signet certificate create "Example Root CA" root.crt --profile root-ca --key-out root.key --password-file pw.txt
  $ signet certificate create "Example Issuing CA" issuing.crt --profile intermediate-ca \\
      --ca root.crt --ca-key root.key --ca-password-file pw.txt --key-out issuing.key --no-password \\
      --permitted-dns example.com --permitted-ip 10.0.0.0/8 --crl-url http://pki.example.com/root.crl
  $ signet certificate create web.example.com web.crt --ca issuing.crt --ca-key issuing.key \\
      --key-out web.key --no-password --san web.example.com --san www.example.com --san 10.0.0.5 --lifetime 72h
  $ signet certificate create - svc.crt --csr svc.csr --ca issuing.crt --ca-key issuing.key --json
  $ signet certificate create localhost dev.crt --key dev.key --san localhost --san 127.0.0.1 --san ::1`,
    )
    .action(async (subject: string, out: string, flags: CertificateCreateFlags) => {
      const result = await createCertificateCommand(subject, out, flags);
      for (const w of issuanceWarnings(result)) process.stderr.write(`warning: ${escapeControl(w)}\n`);
      if (flags.json) {
        printJson(result);
      } else if (out !== '-' && flags.keyOut !== '-') {
        // (with a PEM on stdout the summary would corrupt it)
        const lines = [
          `certificate  ${result.certificate}`,
          ...(result.key !== undefined ? [`key          ${result.key}`] : []),
          `profile      ${result.profile}`,
          `subject      ${result.subject || '(empty)'}`,
          `issuer       ${result.issuer || '(empty)'}`,
          `serial       ${result.serial}`,
          `valid        ${result.notBefore} → ${result.notAfter}`,
          ...(result.sans.length > 0 ? [`sans         ${result.sans.join(', ')}`] : []),
          `sha256       ${result.sha256}`,
        ];
        process.stdout.write(lines.map(escapeControl).join('\n') + '\n');
      }
    });
}
