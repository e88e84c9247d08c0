/**
 * `signet ca init` — create a certificate authority in one directory: a root (or, with
 * `--root`/`--key`, an existing one), the issuing intermediate, a JWK provisioner, the strict
 * config `signet.json` and the SQLite store.
 *
 * ```
 * DIR/signet.json                        the config (no secrets in it)
 * DIR/certs/root.crt                     root certificate
 * DIR/certs/intermediate.crt             issuing intermediate (pathLen 0)
 * DIR/secrets/intermediate.key           encrypted PKCS#8, 0600
 * DIR/secrets/provisioner-<name>.key     the provisioner's key, encrypted PKCS#8, 0600 (for `signet ca token`)
 * DIR/db/signet.db                       SQLite store
 * --root-key-out FILE                    the new root's key, encrypted, 0600: outside DIR, to be moved offline
 * ```
 *
 * Everything is checked before anything is generated (the directory is new or empty, the root
 * key file does not exist, flags are consistent, an existing root is a valid self-signed CA and
 * the key is its key), then the CA is built in a temporary directory next to DIR, the config it
 * wrote is validated by the same pipeline `signet ca config validate` runs, the root key is
 * written, and the directory is renamed into place: a CA appears whole or not at all. An
 * existing CA is never touched (ERR_CA_EXISTS).
 */
import { isIP } from 'node:net';
import { createHash, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { systemClock } from '../../core/clock.js';
import { formatTime } from '../../core/duration.js';
import { decodePem, encodePem, looksLikePem } from '../../core/pem.js';
import { toHex } from '../../core/bytes.js';
import { generateKeyAsync, type KeySpec } from '../../crypto/key-spec.js';
import { assertSigningKey, encodePrivateKeyPem, encodePublicKeyDer } from '../../crypto/keys.js';
import { exportJwk } from '../../crypto/jwk.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { isSelfIssued, parseCertificate, type Certificate } from '../../x509/certificate.js';
import { issuerFromCertificate, type IssuerInfo } from '../../x509/certificate-builder.js';
import { isValidDnsName, parseIpAddress } from '../../x509/general-name.js';
import { assertIssuerValid, issueLintedCertificate } from '../../x509/issue.js';
import type { DistinguishedName } from '../../x509/name.js';
import { specFromProfile } from '../../x509/profiles.js';
import { formatSerial } from '../../x509/serial.js';
import {
  CA_CONFIG_FILE,
  DEFAULT_ADDRESS,
  DEFAULT_CA_DIR,
  DEFAULT_CLAIMS_DOCUMENT,
  DEFAULT_DB_PATH,
  PROVISIONER_NAME_PATTERN,
  SSH_CLAIMS_DOCUMENT,
  checkCaFiles,
  formatConfigProblem,
  loadCaConfig,
  parseListenAddress,
  type CaConfigDocument,
  type PostgresDbDocument,
} from '../../ca/config.js';
import { loadPrivateKeyFile } from '../key/load.js';
import { keySpecFromFlags } from '../key/key-flags.js';
import { collect, checkOutputs, commitOutputs, fsError, printJson, readInput, readPassword, withSource, type NamedInput } from '../io.js';
import { promptLine } from './prompt.js';
import { makeSshCaKeys, SSH_CA_FILES, sshKeySpec, type SshCaKeyInfo } from './ssh.js';
import { parseTrustDomain } from '../../spiffe/id.js';
import { parsePostgresUrl } from '../../store/postgres-url.js';
import type { Store } from '../../store/store.js';

/** The flags of `ca init`, as commander parses them. */
export interface CaInitFlags {
  name?: string;
  dir?: string;
  dns?: string[];
  address?: string;
  keyType?: string;
  curve?: string;
  size?: string;
  passwordFile?: string;
  rootPasswordFile?: string;
  provisioner?: string;
  provisionerPasswordFile?: string;
  rootKeyOut?: string;
  root?: string;
  key?: string;
  keyPasswordFile?: string;
  pkiOnly?: boolean;
  db?: string;
  dbPasswordFile?: string;
  dbPasswordEnv?: string;
  revocationUrl?: string;
  ssh?: boolean;
  sshKeyType?: string;
  /** One trust domain, or several (the flag is repeatable). */
  trustDomain?: string | readonly string[];
  json?: boolean;
}

/** A certificate `ca init` made or took, as `--json` prints it. */
export interface CaInitCertificate {
  readonly certificate: string;
  /** The private key's file (for a root: `--root-key-out`, or `--key` for an existing root). */
  readonly key: string;
  readonly subject: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 of the certificate DER, lower-case hex: what `signet ca bootstrap --fingerprint` pins. */
  readonly fingerprint: string;
}

/** What `ca init` created, as `--json` prints it. Paths are as the user named them (relative to the working directory). */
export interface CaInitResult {
  readonly dir: string;
  readonly name: string;
  /** `signet.json`; absent with --pki-only. */
  readonly config?: string;
  readonly root: CaInitCertificate & { readonly existing: boolean };
  readonly intermediate: CaInitCertificate;
  readonly provisioner?: { readonly type: 'JWK'; readonly name: string; readonly kid: string; readonly key: string };
  readonly database?: string;
  /** The SPIFFE trust domains the intermediate issues for (with --trust-domain): it carries `spiffe://<trust domain>` for each. */
  readonly trustDomains?: readonly string[];
  /** The SSH CA keys (with --ssh). */
  readonly ssh?: { readonly userKey: SshCaKeyInfo; readonly hostKey: SshCaKeyInfo };
  /** The file the config reads the intermediate key's password from; absent when it was typed. */
  readonly passwordFile?: string;
  /** Every file created, in DIR and outside it. */
  readonly files: readonly string[];
  /** The command to run next. */
  readonly next: string;
}

/** Ub-common-name (RFC 5280 Appendix A) minus the longest suffix, " Intermediate CA". */
const MAX_CA_NAME = 64 - ' Intermediate CA'.length;

/** Most trust domains one CA serves (URI SANs of its intermediate). */
const MAX_TRUST_DOMAINS = 16;

const DEFAULT_PROVISIONER = 'admin';

/** `O=<name>, CN=<name> <role>`. Built structurally: the name may hold commas and quotes. */
function caSubject(name: string, role: 'Root CA' | 'Intermediate CA'): DistinguishedName {
  return [[{ type: 'O', value: name }], [{ type: 'CN', value: `${name} ${role}` }]];
}

function checkCaName(name: string): string {
  const n = name.trim();
  if (n === '') throw new SignetError('ERR_BAD_OPTION', 'the CA name is empty', { hint: 'pass --name "Example Corp"' });
  if (escapeControl(n) !== n) throw new SignetError('ERR_BAD_OPTION', 'the CA name must not contain control or bidirectional formatting characters');
  if (n.length > MAX_CA_NAME) {
    throw new SignetError('ERR_BAD_OPTION', `the CA name is ${n.length} characters long; at most ${MAX_CA_NAME} fit in "<name> Intermediate CA" (RFC 5280 ub-common-name)`);
  }
  return n;
}

/** `--dns` values (repeatable, or comma separated): DNS names or IP addresses of the CA server. */
function serverNames(values: readonly string[] | undefined, address: { host: string }): string[] {
  const given = (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  const names = given.length > 0 ? given : ['localhost', '127.0.0.1'];
  // The host the server listens on is a name clients use, unless it means "every interface".
  if (given.length === 0 && address.host !== '' && !['0.0.0.0', '::'].includes(address.host)) names.push(address.host);
  const out: string[] = [];
  for (const n of names) {
    if (!parseIpAddress(n) && !isValidDnsName(n)) {
      throw new SignetError('ERR_BAD_NAME', `invalid --dns "${n}": not a DNS name or an IP address`, { hint: 'use names such as ca.example.com, localhost, 10.0.0.5 (no wildcards)' });
    }
    const v = n.toLowerCase();
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** True when `path` is `dir` or inside it. */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Refuses a DIR that exists and is not an empty directory. */
function checkCaDir(dir: string, shown: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError(e, shown);
  }
  if (!isDir) throw new SignetError('ERR_CA_EXISTS', `${shown} exists and is not a directory`, { hint: 'choose another --dir' });
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const isCa = entries.includes(CA_CONFIG_FILE) || entries.includes('certs') || entries.includes('secrets');
  throw new SignetError('ERR_CA_EXISTS', isCa ? `a CA already exists in ${shown}` : `${shown} exists and is not empty`, {
    hint: isCa ? `use it (signet ca start --config ${join(shown, CA_CONFIG_FILE)}), or choose another --dir` : 'choose a new or empty --dir',
  });
}

/** A root CA given with --root/--key: its certificate and the key that signs with it. */
interface LoadedRoot {
  readonly der: Uint8Array;
  readonly cert: Certificate;
  readonly key: KeyObject;
  readonly issuer: IssuerInfo;
}

/**
 * Loads `--root` and `--key`: the certificate must be a self-signed CA that may sign certificates
 * (basicConstraints cA, keyCertSign — RFC 5280 §4.2.1.3/§4.2.1.9), valid now, and the key its key.
 */
async function loadRoot(certPath: string, keyPath: string, passwordFile: string | undefined, now: Date): Promise<LoadedRoot> {
  const source = `--root ${certPath}`;
  const data = readInput(certPath, 'certificate');
  const der = looksLikePem(data) ? withSource(source, () => decodePem(Buffer.from(data).toString('latin1'), ['CERTIFICATE']).der) : data;
  const cert = withSource(source, () => parseCertificate(der));
  if (cert.ext.basicConstraints?.ca !== true) {
    throw new SignetError('ERR_NOT_A_CA', `${certPath} is not a CA certificate (basicConstraints cA is not set)`, { hint: 'pass the root CA certificate' });
  }
  if (cert.ext.keyUsage && !cert.ext.keyUsage.usages.includes('keyCertSign')) {
    throw new SignetError('ERR_NOT_A_CA', `${certPath} may not sign certificates (keyUsage lacks keyCertSign)`);
  }
  if (!isSelfIssued(cert)) {
    throw new SignetError('ERR_CA_NOT_ROOT', `${certPath} is not a root: it is issued by ${cert.issuer.text || '(empty)'}`, {
      hint: 'pass the self-signed root certificate; the new intermediate is issued directly under it',
    });
  }
  const issuer = withSource(source, () => issuerFromCertificate(der));
  assertIssuerValid(issuer, now, certPath);
  const key = await loadPrivateKeyFile(keyPath, { passwordFile, passwordFlag: '--key-password-file', source: `--key ${keyPath}` });
  assertSigningKey(key);
  if (!Buffer.from(encodePublicKeyDer(key)).equals(Buffer.from(cert.spki))) {
    throw new SignetError('ERR_KEY_MISMATCH', `${keyPath} is not the key of ${certPath}`, { hint: 'pass the private key of the root certificate' });
  }
  return { der, cert, key, issuer };
}

/** A password for new keys: from a file, or typed twice on a terminal. */
export async function newPassword(file: string | undefined, prompt: string, flag: string): Promise<string> {
  if (file === undefined && !process.stdin.isTTY) {
    throw new SignetError('ERR_KEY_PASSWORD_REQUIRED', `the new keys must be encrypted but there is no terminal to ask for a password`, { hint: `pass ${flag} FILE` });
  }
  return readPassword({ passwordFile: file, prompt, confirm: true, flag });
}

/** Writes a new file (never replacing one), fsynced. */
function writeNew(path: string, data: string | Uint8Array, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory so a rename in it survives a crash (best effort: not every file system allows it). */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported here
  }
}

function describeCertificate(cert: Certificate, certificate: string, key: string): CaInitCertificate {
  return {
    certificate,
    key,
    subject: cert.subject.text,
    serial: formatSerial(cert.serialNumber[0] === 0 && cert.serialNumber.length > 1 ? cert.serialNumber.subarray(1) : cert.serialNumber),
    notBefore: formatTime(cert.notBefore),
    notAfter: formatTime(cert.notAfter),
    fingerprint: toHex(new Uint8Array(createHash('sha256').update(cert.der).digest())),
  };
}

/** Runs `ca init`; returns what it created. Warnings (clamped lifetimes, the root key's place) are printed on stderr. */
export async function caInitCommand(flags: CaInitFlags): Promise<CaInitResult> {
  const pkiOnly = flags.pkiOnly === true;
  const existingRoot = flags.root !== undefined || flags.key !== undefined;
  const tty = process.stdin.isTTY === true;

  // -- flags that cannot go together, before any I/O
  if ((flags.root === undefined) !== (flags.key === undefined)) throw new SignetError('ERR_USAGE', '--root and --key must be given together');
  if (existingRoot) {
    if (flags.rootKeyOut !== undefined) throw new SignetError('ERR_USAGE', '--root-key-out writes a new root key; with --root and --key the existing root is used');
    if (flags.rootPasswordFile !== undefined) throw new SignetError('ERR_USAGE', '--root-password-file encrypts a new root key; for the key of --root use --key-password-file');
  } else if (flags.keyPasswordFile !== undefined) {
    throw new SignetError('ERR_USAGE', '--key-password-file decrypts the key of an existing root (--root, --key)');
  }
  if (pkiOnly) {
    for (const [flag, v] of [
      ['--provisioner', flags.provisioner],
      ['--provisioner-password-file', flags.provisionerPasswordFile],
      ['--dns', flags.dns],
      ['--address', flags.address],
      ['--db', flags.db],
      ['--revocation-url', flags.revocationUrl],
      ['--ssh', flags.ssh],
      ['--ssh-key-type', flags.sshKeyType],
    ] as const) {
      if (v !== undefined) throw new SignetError('ERR_USAGE', `${flag} configures the CA server, which --pki-only does not set up`);
    }
  }
  const db = dbFromFlags(flags);
  const revocation = revocationFromFlags(flags.revocationUrl);
  if (flags.rootKeyOut === '-') throw new SignetError('ERR_USAGE', '--root-key-out must name a file', { hint: 'write the root key to a file on removable media, then move it offline' });
  const keySpec: KeySpec = keySpecFromFlags({ type: flags.keyType, curve: flags.curve, size: flags.size }, '--key-type');
  if (flags.sshKeyType !== undefined && flags.ssh !== true) throw new SignetError('ERR_USAGE', '--ssh-key-type goes with --ssh');
  const sshSpec = flags.ssh === true ? sshKeySpec(flags.sshKeyType, '--ssh-key-type') : undefined;
  const trustDomains = (flags.trustDomain === undefined ? [] : typeof flags.trustDomain === 'string' ? [flags.trustDomain] : flags.trustDomain).map((t) => parseTrustDomain(t));
  if (trustDomains.length > MAX_TRUST_DOMAINS) throw new SignetError('ERR_USAGE', `at most ${MAX_TRUST_DOMAINS} --trust-domain`);
  const twice = trustDomains.find((t, i) => trustDomains.indexOf(t) !== i);
  if (twice !== undefined) throw new SignetError('ERR_USAGE', `--trust-domain ${twice} is given twice`);
  const addressText = flags.address ?? DEFAULT_ADDRESS;
  const listen = parseListenAddress(addressText);
  if (!listen) {
    throw new SignetError('ERR_BAD_OPTION', `invalid --address "${addressText}"`, { hint: 'use HOST:PORT, e.g. 127.0.0.1:9443, [::1]:9443, ca.example.com:443 or :9443 (every interface)' });
  }
  const dnsNames = pkiOnly ? [] : serverNames(flags.dns, listen);
  const provisionerName = flags.provisioner ?? DEFAULT_PROVISIONER;
  if (!PROVISIONER_NAME_PATTERN.test(provisionerName)) {
    throw new SignetError('ERR_BAD_OPTION', `invalid --provisioner "${provisionerName}"`, { hint: 'use letters, digits and . _ @ + - (at most 64, starting with a letter or digit)' });
  }
  if (flags.name !== undefined) checkCaName(flags.name);
  else if (!tty) throw new SignetError('ERR_USAGE', '--name is required', { hint: 'pass --name "Example Corp"' });
  if (!existingRoot && flags.rootKeyOut === undefined && !tty) {
    throw new SignetError('ERR_USAGE', '--root-key-out FILE is required: the new root key is written only where you say', {
      hint: 'pass --root-key-out FILE (then move it offline), or --root CRT --key KEY to use an existing root',
    });
  }

  // -- the directory and the files, before any prompt or key generation
  const dirShown = flags.dir ?? DEFAULT_CA_DIR;
  const dir = resolve(dirShown);
  checkCaDir(dir, dirShown);
  const inputs: NamedInput[] = [
    { path: flags.passwordFile, role: '--password-file' },
    { path: flags.rootPasswordFile, role: '--root-password-file' },
    { path: flags.provisionerPasswordFile, role: '--provisioner-password-file' },
    { path: flags.root, role: '--root' },
    { path: flags.key, role: '--key' },
    { path: flags.keyPasswordFile, role: '--key-password-file' },
    { path: flags.dbPasswordFile, role: '--db-password-file' },
  ];
  const checkRootKeyOut = (path: string): void => {
    if (isInside(dir, resolve(path))) {
      throw new SignetError('ERR_USAGE', `--root-key-out ${path} is inside the CA directory ${dirShown}`, {
        hint: 'the root key does not belong on the CA server: write it elsewhere and move it offline',
      });
    }
    checkOutputs([{ path, role: '--root-key-out', mode: 0o600 }], inputs);
  };
  if (flags.rootKeyOut !== undefined) checkRootKeyOut(flags.rootKeyOut);
  else checkOutputs([], inputs);

  // -- interactive answers (only on a terminal: without one, missing answers were refused above)
  const name = checkCaName(flags.name ?? (await promptLine('name of the new CA (e.g. Example Corp): ', { flag: '--name NAME' })));
  let rootKeyOut = flags.rootKeyOut;
  if (!existingRoot && rootKeyOut === undefined) {
    rootKeyOut = await promptLine('where to write the root key (then move it offline): ', { flag: '--root-key-out FILE' });
    if (rootKeyOut === '' || rootKeyOut === '-') throw new SignetError('ERR_USAGE', 'no file was given for the root key', { hint: 'pass --root-key-out FILE' });
    checkRootKeyOut(rootKeyOut);
  }

  const now = systemClock.now();
  const root = existingRoot && flags.root !== undefined && flags.key !== undefined ? await loadRoot(flags.root, flags.key, flags.keyPasswordFile, now) : undefined;

  const caPassword = await newPassword(flags.passwordFile, existingRoot || flags.rootPasswordFile !== undefined ? 'password for the intermediate key: ' : 'password for the CA keys (root and intermediate): ', '--password-file');
  const rootPassword = root ? undefined : flags.rootPasswordFile !== undefined ? await newPassword(flags.rootPasswordFile, 'password for the root key: ', '--root-password-file') : caPassword;
  const provisionerPassword = pkiOnly ? undefined : await newPassword(flags.provisionerPasswordFile, `password for the provisioner key (${provisionerName}): `, '--provisioner-password-file');

  // -- keys and certificates
  const slow = keySpec.startsWith('rsa') && process.stderr.isTTY;
  if (slow) process.stderr.write(`generating ${keySpec.replace('rsa', 'RSA ')} keys… `);
  const [rootPair, intPair, provPair] = await Promise.all([
    root ? undefined : generateKeyAsync(keySpec),
    generateKeyAsync(keySpec),
    pkiOnly ? undefined : generateKeyAsync('p256'), // tokens are ES256: the verifier's allow-list
  ]);
  if (slow) process.stderr.write('done\n');

  const warnings: string[] = [];
  let rootDer: Uint8Array;
  let rootIssuer: IssuerInfo;
  let rootSignerKey: KeyObject;
  if (root) {
    rootDer = root.der;
    rootIssuer = root.issuer;
    rootSignerKey = root.key;
  } else {
    if (!rootPair) throw new SignetError('ERR_INTERNAL', 'no root key was generated');
    const spec = specFromProfile('root-ca', { subject: caSubject(name, 'Root CA'), publicKey: rootPair.publicKey, now });
    rootDer = issueLintedCertificate(spec, createSoftwareSigner(rootPair.privateKey), undefined, { profile: 'root-ca', now }).der;
    rootIssuer = issuerFromCertificate(rootDer);
    rootSignerKey = rootPair.privateKey;
  }
  // An X509-SVID signing certificate carries its trust domain's SPIFFE ID (X509-SVID §4.1).
  const intSpec = specFromProfile('intermediate-ca', {
    subject: caSubject(name, 'Intermediate CA'),
    publicKey: intPair.publicKey,
    now,
    ...(trustDomains.length > 0 ? { sans: trustDomains.map((td) => ({ type: 'uri' as const, value: `spiffe://${td}` })) } : {}),
  });
  const intIssued = issueLintedCertificate(intSpec, createSoftwareSigner(rootSignerKey), rootIssuer, { profile: 'intermediate-ca', now });
  if (intIssued.requestedNotAfter) warnings.push(`the intermediate's notAfter was clamped to the root's (${formatTime(intIssued.spec.notAfter as Date)})`);
  for (const f of intIssued.lint.findings) if (f.severity === 'warning') warnings.push(`${f.rule}: ${f.message}`);

  const rootPem = encodePem('CERTIFICATE', rootDer);
  const intPem = encodePem('CERTIFICATE', intIssued.der);
  const intKeyPem = encodePrivateKeyPem(intPair.privateKey, caPassword);
  const rootKeyPem = rootPair ? encodePrivateKeyPem(rootPair.privateKey, rootPassword) : undefined;
  const provisionerJwk = provPair ? exportJwk(provPair.publicKey) : undefined;
  const provisionerKeyPem = provPair ? encodePrivateKeyPem(provPair.privateKey, provisionerPassword) : undefined;
  const provisionerKeyFile = `secrets/provisioner-${provisionerName}.key`;
  const sshMade = sshSpec !== undefined ? await makeSshCaKeys(sshSpec, caPassword, (p) => join(dirShown, p)) : undefined;
  // The config refers to the password file by absolute path (it may live anywhere, e.g. a tmpfs);
  // a typed password (or one from stdin) is not stored: `signet ca start` asks for it.
  const passwordFile = flags.passwordFile !== undefined && flags.passwordFile !== '-' ? resolve(flags.passwordFile) : undefined;

  const config: CaConfigDocument | undefined = pkiOnly
    ? undefined
    : {
        version: 1,
        name,
        address: addressText,
        dnsNames,
        root: 'certs/root.crt',
        intermediate: { certificate: 'certs/intermediate.crt', key: 'secrets/intermediate.key', ...(passwordFile !== undefined ? { passwordFile } : {}) },
        ...(sshMade ? { ssh: { userKey: SSH_CA_FILES.userKey, hostKey: SSH_CA_FILES.hostKey } } : {}),
        db: db ?? { type: 'sqlite', path: DEFAULT_DB_PATH },
        claims: { ...DEFAULT_CLAIMS_DOCUMENT, keyTypes: [...(DEFAULT_CLAIMS_DOCUMENT.keyTypes ?? [])], ...(sshMade ? SSH_CLAIMS_DOCUMENT : {}) },
        provisioners: provisionerJwk ? [{ type: 'JWK', name: provisionerName, publicKey: provisionerJwk }] : [],
        ...revocation,
        logLevel: 'info',
      };

  // -- build the CA next to DIR, check it, then put it in place
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(dirname(dir), `.${basename(dir)}.init-`));
  let rootKeyWritten = false;
  try {
    const at = (p: string): string => join(tmp, p);
    mkdirSync(at('certs'), { mode: 0o755 });
    mkdirSync(at('secrets'), { mode: 0o700 });
    writeNew(at('certs/root.crt'), rootPem, 0o644);
    writeNew(at('certs/intermediate.crt'), intPem, 0o644);
    writeNew(at('secrets/intermediate.key'), intKeyPem, 0o600);
    if (provisionerKeyPem !== undefined) writeNew(at(provisionerKeyFile), provisionerKeyPem, 0o600);
    for (const f of sshMade?.files ?? []) writeNew(at(f.path), f.data, f.mode ?? 0o644);
    if (config) {
      writeNew(at(CA_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n', 0o644);
      // SQLite: the store creates db/ (0700) and the file (0600) and runs its migrations.
      // PostgreSQL: the database must exist; connecting now proves the URL and the password,
      // and migrating creates the schema. Loaded here, not at startup: every other command
      // would pay for the database drivers.
      const { openConfiguredStore } = await import('../../store/open.js');
      const store = await openConfiguredStore(db !== undefined ? loadCaConfig(at(CA_CONFIG_FILE)).db : { type: 'sqlite', path: at(DEFAULT_DB_PATH) }, { clock: systemClock });
      try {
        if (db !== undefined) await refuseUsedDatabase(store, db.url);
      } finally {
        await store.close();
      }
      // What init wrote must pass what validate and start run (a bug here is ours, not the user's).
      try {
        checkCaFiles(loadCaConfig(at(CA_CONFIG_FILE)), { now });
      } catch (e) {
        const problems = (e instanceof SignetError ? (e.detail?.problems as { path: string; message: string }[] | undefined) : undefined) ?? [];
        throw new SignetError('ERR_INTERNAL', `the new CA does not pass its own validation: ${problems.map(formatConfigProblem).join('; ') || String(e)}`, { cause: e });
      }
    }
    fsyncDir(tmp);

    // The root key first: if it cannot be written, no CA appears. If the CA cannot be put in
    // place, the new root key is removed again (it certifies nothing then).
    if (rootKeyOut !== undefined && rootKeyPem !== undefined) {
      commitOutputs([{ path: rootKeyOut, role: '--root-key-out', mode: 0o600, data: rootKeyPem }]);
      rootKeyWritten = true;
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
        throw new SignetError('ERR_CA_EXISTS', `${dirShown} was created by someone else while the CA was being built`, { cause: e });
      }
      throw fsError(e, dirShown);
    }
    fsyncDir(dirname(dir));
  } catch (e) {
    if (rootKeyWritten && rootKeyOut !== undefined) {
      try {
        unlinkSync(rootKeyOut);
      } catch {
        // best effort
      }
    }
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  for (const w of warnings) process.stderr.write(`warning: ${escapeControl(w)}\n`);
  const shown = (p: string): string => join(dirShown, p);
  const rootCert = parseCertificate(rootDer);
  const intCert = parseCertificate(intIssued.der);
  const files = [
    ...(config ? [shown(CA_CONFIG_FILE)] : []),
    shown('certs/root.crt'),
    shown('certs/intermediate.crt'),
    shown('secrets/intermediate.key'),
    ...(provisionerKeyPem !== undefined ? [shown(provisionerKeyFile)] : []),
    ...(sshMade?.files.map((f) => shown(f.path)) ?? []),
    ...(config && db === undefined ? [shown(DEFAULT_DB_PATH)] : []),
    ...(rootKeyOut !== undefined && !root ? [rootKeyOut] : []),
  ];
  const next = config
    ? `signet ca start --config ${shown(CA_CONFIG_FILE)}`
    : `signet certificate create web.example.com web.crt --ca ${shown('certs/intermediate.crt')} --ca-key ${shown('secrets/intermediate.key')} --ca-password-file FILE --key-out web.key`;
  return {
    dir: dirShown,
    name,
    ...(config ? { config: shown(CA_CONFIG_FILE) } : {}),
    root: { ...describeCertificate(rootCert, shown('certs/root.crt'), root ? (flags.key ?? '') : (rootKeyOut ?? '')), existing: root !== undefined },
    intermediate: describeCertificate(intCert, shown('certs/intermediate.crt'), shown('secrets/intermediate.key')),
    ...(provisionerJwk ? { provisioner: { type: 'JWK' as const, name: provisionerName, kid: provisionerJwk.kid ?? '', key: shown(provisionerKeyFile) } } : {}),
    ...(sshMade ? { ssh: { userKey: sshMade.user, hostKey: sshMade.host } } : {}),
    ...(trustDomains.length > 0 ? { trustDomains } : {}),
    ...(config ? { database: db?.url ?? shown(DEFAULT_DB_PATH) } : {}),
    ...(config && passwordFile !== undefined ? { passwordFile } : {}),
    files,
    next,
  };
}

/**
 * `--revocation-url http://HOST:PORT`: certificates name the CRL at URL/crl and the OCSP responder
 * at URL/ocsp, and the CA serves both on a plain-HTTP listener at that port — on the URL's address
 * when it is a loopback name or an IP address, on every interface otherwise (behind a DNS name).
 */
function revocationFromFlags(text: string | undefined): Pick<CaConfigDocument, 'crlUrl' | 'ocspUrl' | 'revocation'> {
  if (text === undefined) return {};
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SignetError('ERR_BAD_OPTION', `invalid --revocation-url "${text}"`, { hint: 'give http://HOST:PORT, e.g. http://ca.example.com:8080' });
  }
  if (url.protocol !== 'http:' || url.port === '' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new SignetError('ERR_BAD_OPTION', `--revocation-url must be http://HOST:PORT with nothing after the port, not "${text}"`, {
      hint: 'CRLs and OCSP are served over plain HTTP (they are signed): http://ca.example.com:8080',
    });
  }
  const base = `http://${url.host}`;
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
  const listenHost = isIP(host.replace(/^\[|\]$/g, '')) !== 0 ? host : '';
  return { crlUrl: `${base}/crl`, ocspUrl: `${base}/ocsp`, revocation: { httpAddress: `${listenHost}:${url.port}` } };
}

/** `db` of the new config from --db, --db-password-file and --db-password-env; undefined: SQLite in DIR. */
function dbFromFlags(flags: CaInitFlags): PostgresDbDocument | undefined {
  if (flags.db === undefined) {
    if (flags.dbPasswordFile !== undefined || flags.dbPasswordEnv !== undefined) {
      throw new SignetError('ERR_USAGE', '--db-password-file and --db-password-env go with --db postgres://…');
    }
    return undefined;
  }
  try {
    parsePostgresUrl(flags.db);
  } catch (e) {
    // The message never repeats the URL: it may hold a password.
    throw new SignetError('ERR_BAD_OPTION', `invalid --db: ${e instanceof Error ? e.message : String(e)}`, {
      hint: 'give postgres://user@host:port/database, and the password with --db-password-file FILE or --db-password-env VAR',
    });
  }
  if (flags.dbPasswordFile !== undefined && flags.dbPasswordEnv !== undefined) throw new SignetError('ERR_USAGE', 'give --db-password-file or --db-password-env, not both');
  if (flags.dbPasswordFile === '-') throw new SignetError('ERR_USAGE', '--db-password-file must name a file: the CA reads it again at every start');
  if (flags.dbPasswordEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(flags.dbPasswordEnv)) {
    throw new SignetError('ERR_BAD_OPTION', `invalid --db-password-env "${flags.dbPasswordEnv}"`, { hint: 'name an environment variable: letters, digits and _' });
  }
  return {
    type: 'postgres',
    url: flags.db,
    ...(flags.dbPasswordFile !== undefined ? { passwordFile: resolve(flags.dbPasswordFile) } : {}),
    ...(flags.dbPasswordEnv !== undefined ? { passwordEnv: flags.dbPasswordEnv } : {}),
  };
}

/**
 * A new CA gets a database of its own: one that already holds certificates or audit events
 * belongs to another CA (or to this one: replicas share the CA directory, they are not
 * initialised again), and mixing two inventories would make both wrong.
 */
async function refuseUsedDatabase(store: Store, url: string): Promise<void> {
  const certificates = await store.certificates.list({}, { limit: 1 });
  const events = await store.audit.list({ limit: 1 });
  if (certificates.items.length > 0 || events.length > 0) {
    throw new SignetError('ERR_CA_EXISTS', `the database ${url} already holds a CA's inventory`, {
      hint: 'create an empty database for the new CA; to run another replica of an existing CA, copy its directory instead of running ca init',
    });
  }
}

/** Aligned `label  value` rows. */
function rows(entries: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  return entries.map(([k, v]) => `  ${k.padEnd(width)}${escapeControl(v)}`).join('\n') + '\n';
}

/** The human summary of {@link caInitCommand}'s result. */
export function formatCaInit(r: CaInitResult): string {
  const entries: [string, string][] = [];
  if (r.config !== undefined) entries.push(['config', r.config]);
  entries.push(['root certificate', r.root.certificate]);
  entries.push(['intermediate certificate', r.intermediate.certificate]);
  entries.push(['intermediate key', `${r.intermediate.key} (encrypted)`]);
  if (r.provisioner) entries.push([`provisioner key (${r.provisioner.name})`, `${r.provisioner.key} (encrypted)`]);
  if (r.ssh) {
    entries.push(['SSH user CA key', `${r.ssh.userKey.key} (encrypted; public: ${r.ssh.userKey.publicKey})`]);
    entries.push(['SSH host CA key', `${r.ssh.hostKey.key} (encrypted; public: ${r.ssh.hostKey.publicKey})`]);
  }
  if (r.database !== undefined) entries.push(['database', r.database]);
  if (!r.root.existing) entries.push(['root key', `${r.root.key} (encrypted; move it offline)`]);
  const e = escapeControl;
  const lines = [
    `created CA ${e(JSON.stringify(r.name))} in ${e(r.dir)}`,
    rows(entries).trimEnd(),
    '',
    `root          ${e(r.root.subject)}, valid until ${r.root.notAfter}`,
    `intermediate  ${e(r.intermediate.subject)}, valid until ${r.intermediate.notAfter}`,
    `root fingerprint (sha256): ${r.root.fingerprint}`,
    ...(r.ssh ? [`SSH user CA ${r.ssh.userKey.fingerprint}, SSH host CA ${r.ssh.hostKey.fingerprint}`] : []),
    ...(r.trustDomains ?? []).map((td) => `SPIFFE trust domain ${e(td)}: the intermediate carries spiffe://${e(td)}`),
  ];
  if (r.config !== undefined) {
    lines.push(
      r.passwordFile !== undefined
        ? `the CA reads the intermediate key's password from ${e(r.passwordFile)}`
        : "the intermediate key's password is not stored: `signet ca start` asks for it",
    );
  }
  lines.push('', `next: ${e(r.next)}`);
  return lines.join('\n') + '\n';
}


/** Registers `signet ca init`. */
export function registerCaInit(group: Command): void {
  group
    .command('init')
    .description('create a CA: root (or an existing one), issuing intermediate, JWK provisioner, config and database')
    .option('--name <name>', 'the CA\'s name: subjects become "O=<name>, CN=<name> Root CA" and "… Intermediate CA" (prompted on a terminal)')
    .option('--dir <dir>', `directory of the new CA; must be new or empty (default ${DEFAULT_CA_DIR})`)
    .option('--dns <name>', 'DNS name or IP address of the CA server, for its TLS certificate (repeatable or comma separated; default localhost, 127.0.0.1)', collect)
    .option('--address <host:port>', `where \`signet ca start\` listens (default ${DEFAULT_ADDRESS})`)
    .option('--key-type <type>', 'type of the root and intermediate keys: ec (default), ed25519 or rsa')
    .option('--curve <curve>', 'EC curve: P-256 (default), P-384 or P-521')
    .option('--size <bits>', 'RSA modulus size: 2048 (default), 3072 or 4096')
    .option('--password-file <file>', 'password for the intermediate key (and a new root key, unless --root-password-file); the config refers to this file')
    .option('--root-password-file <file>', 'a separate password for the new root key')
    .option('--root-key-out <file>', 'where to write the new root key (encrypted, 0600, outside --dir); required without --root')
    .option('--root <file>', 'use this existing root certificate instead of creating one (with --key)')
    .option('--key <file>', 'the private key of --root')
    .option('--key-password-file <file>', 'password of an encrypted --key')
    .option('--provisioner <name>', `name of the JWK provisioner (default ${DEFAULT_PROVISIONER})`)
    .option('--provisioner-password-file <file>', 'password for the provisioner key')
    .option('--pki-only', 'create only the certificates and keys: no config, provisioner or database')
    .option('--db <url>', 'keep the inventory in PostgreSQL (postgres://user@host:port/database, no password in it) instead of SQLite in DIR/db')
    .option('--db-password-file <file>', 'file holding the --db password; the config refers to it')
    .option('--db-password-env <var>', 'or: the environment variable that holds the --db password (at init and at every start)')
    .option('--revocation-url <url>', 'http://HOST:PORT where relying parties fetch CRLs and ask OCSP: certificates name URL/crl and URL/ocsp, and the CA serves them there over plain HTTP')
    .option('--ssh', 'also create an SSH certificate authority: user and host CA keys (secrets/ssh_*_ca.key, encrypted with the intermediate\'s password), and let the provisioner issue SSH certificates')
    .option('--ssh-key-type <type>', 'type of the SSH CA keys: ed25519 (default), p256, p384 or rsa (rsa3072, rsa4096)')
    .option('--trust-domain <name>', 'a SPIFFE trust domain the intermediate issues for: it carries the URI SAN spiffe://<name> (X509-SVID signing certificate); repeatable, one CA serving several', collect)
    .option('--json', 'print what was created as JSON')
    .addHelpText(
      'after',
      `
Creates, in --dir: signet.json (the config; no secrets in it), certs/root.crt,
certs/intermediate.crt (path length 0), secrets/intermediate.key and
secrets/provisioner-<name>.key (encrypted PKCS#8, 0600), and db/signet.db (SQLite). The root
lives 10 years and the intermediate 5; both are linted before they are signed. The root key is
written only to --root-key-out, outside the CA directory: move it offline.

Everything is checked before keys are generated, and the CA is built in a temporary directory
and renamed into place, so it appears whole or not at all. A directory that already holds
anything is refused (ERR_CA_EXISTS, exit 5).

Passwords come from files or, on a terminal, from prompts without echo — never from arguments.
The provisioner key has its own password (it is used on client machines by \`signet ca token\`).
On a terminal, a missing --name or --root-key-out is asked for.

Exit codes: 0 created; 1 --root is not a usable root (ERR_NOT_A_CA, ERR_CA_NOT_ROOT,
ERR_CA_NOT_VALID); 2 bad or conflicting flags; 4 password or key problem; 5 the CA or
--root-key-out exists, or a file problem.

Examples:
  $ signet ca init --name "Example Corp" --password-file pw.txt \\
      --provisioner-password-file prov-pw.txt --root-key-out /media/offline/root.key
  $ signet ca init --name "Example Corp" --dir /etc/signet --dns ca.example.com --address :443 \\
      --password-file pw.txt --provisioner ops@example.com --provisioner-password-file prov-pw.txt \\
      --root root.crt --key root.key --key-password-file root-pw.txt
  $ signet ca init --name "Example Corp" --dir /etc/signet --password-file pw.txt \\
      --provisioner-password-file prov-pw.txt --root-key-out /media/offline/root.key \\
      --db postgres://signet@db.example.com:5432/signet --db-password-file /etc/signet/db-password
  $ signet ca init --name "Example Corp" --dir /etc/signet --dns ca.example.com --password-file pw.txt \\
      --provisioner-password-file prov-pw.txt --root-key-out /media/offline/root.key \\
      --revocation-url http://ca.example.com:8080
  $ signet ca init --name "Example Corp" --ssh --password-file pw.txt \\
      --provisioner-password-file prov-pw.txt --root-key-out /media/offline/root.key
  $ signet ca init --name "Workloads" --dir /etc/signet --trust-domain prod.example.org \\
      --trust-domain staging.example.org --password-file pw.txt \\
      --provisioner-password-file prov-pw.txt --root-key-out /media/offline/root.key
  $ signet ca init --name "Lab" --dir lab-pki --pki-only --key-type rsa --size 3072 \\
      --password-file pw.txt --root-key-out lab-root.key --json`,
    )
    .action(async (flags: CaInitFlags) => {
      const result = await caInitCommand(flags);
      if (!result.root.existing) {
        process.stderr.write(
          `warning: ${escapeControl(result.root.key)} is the root CA's private key: move it to offline storage and delete it from this machine; the CA server never needs it\n`,
        );
      }
      if (flags.json) printJson(result);
      else process.stdout.write(formatCaInit(result));
    });
}
