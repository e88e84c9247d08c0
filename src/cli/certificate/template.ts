/**
 * `signet certificate template show | render | validate` — look at a profile's default template,
 * preview what a template renders to for given request data, and check a template file. Also
 * the helpers `signet certificate create --template` uses.
 */
import { type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../crypto/generate.js';
import { Option, type Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { formatDuration, parseTime } from '../../core/duration.js';
import type { CertificateSpec } from '../../x509/certificate-builder.js';
import { verifyCsrSignature, parseCsr } from '../../x509/csr.js';
import { decodeName } from '../../x509/decode-names.js';
import { parseGeneralName, type GeneralName } from '../../x509/general-name.js';
import { parseSubject, type DistinguishedName } from '../../x509/name.js';
import { getProfile, PROFILE_NAMES, type Profile } from '../../x509/profiles.js';
import {
  checkTemplate,
  defaultTemplateText,
  formatTemplateProblem,
  getDefaultTemplate,
  MAX_TEMPLATE_BYTES,
  parseTemplate,
  renderTemplate,
  renderTemplateDocument,
  templateError,
  templateFunctions,
  templateToSpec,
  type CertificateTemplate,
  type JsonObject,
  type TemplateData,
} from '../../x509/template/index.js';
import { MAX_TEMPLATE_DATA_BYTES, mergeTemplateData, parseSetFlag, parseTemplateData } from '../../x509/template/data.js';
import { loadPublicKeyFile } from '../key/load.js';
import { checkInputs, printJson, readInput } from '../io.js';
import type { ExtensionFlags } from './create.js';
import { checkLifetimeEnd, parseLifetimeFlag } from './validity.js';

/** Reads and checks a template file (64 KiB limit); `-` reads stdin. */
export function readTemplateFile(path: string): CertificateTemplate {
  return parseTemplate(readInput(path, 'template', MAX_TEMPLATE_BYTES), { name: path === '-' ? 'template from stdin' : path });
}

/** `--set` collector for commander (repeatable). */
export function collectSet(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Template data from `--set-file FILE` and repeated `--set key=value` / `--set key:=JSON` (later wins). */
export function readTemplateData(options: { setFile?: string | undefined; set?: readonly string[] | undefined }): JsonObject {
  const base = options.setFile === undefined ? undefined : parseTemplateData(readInput(options.setFile, 'data file', MAX_TEMPLATE_DATA_BYTES), options.setFile);
  return mergeTemplateData(base, (options.set ?? []).map(parseSetFlag));
}

/**
 * Adds `--template FILE`, `--set key=value` (repeatable) and `--set-file FILE` to a command
 * (used by `signet certificate create`; see {@link specFromTemplateFlags}).
 */
export function addTemplateOptions(cmd: Command): Command {
  return cmd
    .option('--template <file>', 'render the certificate from a JSON template (see `signet certificate template --help`)')
    .option('--set <key=value>', 'template data .Data.KEY (a string; KEY:=JSON for other types); repeatable', collectSet)
    .option('--set-file <file>', 'template data from a JSON object file (--set wins)');
}

/**
 * The flags of `signet certificate create` that matter with `--template`: the template options
 * themselves, the names and validity that feed the template, and the extension flags that
 * cannot be combined with it (the template decides those).
 */
export interface TemplateCreateFlags extends ExtensionFlags {
  template?: string | undefined;
  set?: string[] | undefined;
  setFile?: string | undefined;
}

/** Extension flags a template replaces, with the template field to use instead. */
const REPLACED_BY_TEMPLATE: ReadonlyArray<[keyof TemplateCreateFlags, string, string]> = [
  ['keyUsage', '--key-usage', 'keyUsage'],
  ['eku', '--eku', 'extKeyUsage'],
  ['pathLen', '--path-len', 'basicConstraints.maxPathLen'],
  ['permittedDns', '--permitted-dns', 'nameConstraints'],
  ['excludedDns', '--excluded-dns', 'nameConstraints'],
  ['permittedIp', '--permitted-ip', 'nameConstraints'],
  ['excludedIp', '--excluded-ip', 'nameConstraints'],
  ['permittedEmail', '--permitted-email', 'nameConstraints'],
  ['excludedEmail', '--excluded-email', 'nameConstraints'],
  ['permittedUri', '--permitted-uri', 'nameConstraints'],
  ['excludedUri', '--excluded-uri', 'nameConstraints'],
  ['crlUrl', '--crl-url', 'crlDistributionPoints'],
  ['ocspUrl', '--ocsp-url', 'ocspServer'],
  ['issuerUrl', '--issuer-url', 'issuingCertificateURL'],
];

/** What `certificate create` has established when it applies a template (as for its flag path). */
export interface TemplateSpecContext {
  readonly profile: Profile;
  /** The subject from the command line, or the DER of a CSR's subject. */
  readonly subject: DistinguishedName | Uint8Array;
  /** The CSR's subject as attributes, when `subject` is its DER. */
  readonly subjectName?: DistinguishedName | undefined;
  readonly publicKey: KeyObject | Uint8Array;
  /** Issuance time. */
  readonly now: Date;
  /** SANs requested in a CSR (before the --san names). */
  readonly requestedSans?: readonly GeneralName[];
}

/**
 * The CertificateSpec for `certificate create --template FILE`, or undefined without
 * `--template`. The template is rendered with `.Subject`, `.SANs` (CSR names, then `--san`),
 * `.PublicKey`, and `.Data` = `.Insecure.User` = the `--set-file`/`--set` data. Validity:
 * explicit `--not-before`/`--not-after`/`--lifetime` flags win over the template's `validity`,
 * which wins over the profile's defaults (backdated notBefore, default lifetime); as without a
 * template, a lifetime (given or default) counts from `--not-before` when there is one.
 * Throws ERR_USAGE for extension flags the template replaces, and the template errors.
 */
export function specFromTemplateFlags(flags: TemplateCreateFlags, ctx: TemplateSpecContext): CertificateSpec | undefined {
  if (flags.template === undefined) {
    if ((flags.set?.length ?? 0) > 0 || flags.setFile !== undefined) {
      throw new SignetError('ERR_USAGE', '--set and --set-file need --template', { hint: 'add --template FILE' });
    }
    return undefined;
  }
  for (const [key, flag, field] of REPLACED_BY_TEMPLATE) {
    if (flags[key] !== undefined) throw new SignetError('ERR_USAGE', `${flag} cannot be combined with --template`, { hint: `set ${field} in the template` });
  }
  if (flags.notAfter !== undefined && flags.lifetime !== undefined) throw new SignetError('ERR_USAGE', '--not-after and --lifetime cannot be combined');
  const now = ctx.now;
  const notBefore = flags.notBefore !== undefined ? parseTime(flags.notBefore, now) : undefined;
  const notAfter = flags.notAfter !== undefined ? parseTime(flags.notAfter, now) : undefined;
  // As without a template, a lifetime counts from --not-before when one is given, else from now.
  const lifetimeMs = flags.lifetime !== undefined ? parseLifetimeFlag(flags.lifetime, notBefore ?? now) : undefined;
  // templateToSpec counts its default lifetime from now; with --not-before, hand it the end instead.
  let end = notAfter;
  if (end === undefined && notBefore !== undefined) {
    if (lifetimeMs === undefined) {
      checkLifetimeEnd(notBefore, ctx.profile.defaultLifetimeMs, `the default lifetime of profile ${ctx.profile.name} (${formatDuration(ctx.profile.defaultLifetimeMs)})`);
    }
    end = new Date(notBefore.getTime() + (lifetimeMs ?? ctx.profile.defaultLifetimeMs));
  }

  const template = readTemplateFile(flags.template);
  const data = readTemplateData(flags);
  const subject = ctx.subjectName ?? (ctx.subject instanceof Uint8Array ? decodeName(ctx.subject, 'ERR_CSR_MALFORMED').rdns : ctx.subject);
  const sans = [...(ctx.requestedSans ?? []), ...(flags.san ?? []).map((s) => parseGeneralName(s))];
  const request = renderTemplate(template, { subject, sans, publicKey: ctx.publicKey, data, userData: data });

  const flagsGiven = notBefore !== undefined || notAfter !== undefined || lifetimeMs !== undefined;
  const { validity: _templateValidity, ...withoutValidity } = request;
  return templateToSpec(flagsGiven ? withoutValidity : request, {
    publicKey: ctx.publicKey,
    now,
    backdateMs: ctx.profile.backdateMs,
    ...(notBefore ? { notBefore } : {}),
    ...(end ? { notAfter: end } : {}),
    lifetimeMs: lifetimeMs ?? ctx.profile.defaultLifetimeMs,
    selfSigned: ctx.profile.selfSigned,
  });
}

interface RenderCliOptions {
  profile?: string;
  data?: string;
  setFile?: string;
  set?: string[];
  subject?: string;
  san?: string[];
  csr?: string;
  key?: string;
  keyType?: string;
  passwordFile?: string;
  raw?: boolean;
}

const KEY_TYPE_CHOICES = ['ec', 'rsa', 'ed25519'];

function ephemeralKey(type: string): KeyObject {
  switch (type) {
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    case 'ed25519':
      return generateKeyPairSync('ed25519').publicKey;
    default:
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  }
}

async function renderData(opts: RenderCliOptions): Promise<TemplateData> {
  if (opts.data !== undefined && opts.setFile !== undefined) throw new SignetError('ERR_USAGE', '--data and --set-file are the same option; give one');
  const data = readTemplateData({ setFile: opts.data ?? opts.setFile, set: opts.set });
  let subject: DistinguishedName = [];
  let sans: GeneralName[] = [];
  let publicKey: KeyObject | undefined;
  if (opts.csr !== undefined) {
    const csr = parseCsr(readInput(opts.csr, 'certificate signing request'));
    verifyCsrSignature(csr);
    subject = [...csr.subject];
    sans = [...csr.subjectAltNames];
    publicKey = csr.publicKey;
  }
  if (opts.subject !== undefined) subject = parseSubject(opts.subject);
  if (opts.san !== undefined) sans = opts.san.map((s) => parseGeneralName(s));
  if (opts.key !== undefined && opts.keyType !== undefined) throw new SignetError('ERR_USAGE', '--key and --key-type cannot be combined');
  if (opts.key !== undefined) publicKey = await loadPublicKeyFile(opts.key, { passwordFile: opts.passwordFile });
  else if (opts.keyType !== undefined) publicKey = ephemeralKey(opts.keyType);
  return { subject, sans, data, userData: data, ...(publicKey ? { publicKey } : {}) };
}

function templateArgument(file: string | undefined, profile: string | undefined): CertificateTemplate {
  if (file !== undefined && profile !== undefined) throw new SignetError('ERR_USAGE', 'give a template file or --profile, not both');
  if (file !== undefined) return readTemplateFile(file);
  if (profile !== undefined) return getDefaultTemplate(profile);
  throw new SignetError('ERR_USAGE', 'no template given', { hint: 'pass a template file or --profile NAME' });
}

/** The syntax summary in `template --help` (built on demand: nothing runs at import time). */
function syntaxHelp(): string {
  return `
Templates are JSON shaped like the certificate request they produce:

  {
    "subject": {"commonName": "{{ .Subject.commonName }}", "organization": ["Example"]},
    "sans": "{{ .SANs }}",
    "keyUsage": {"RSA": ["digitalSignature", "keyEncipherment"], "default": ["digitalSignature"]},
    "extKeyUsage": ["serverAuth", "clientAuth"],
    "basicConstraints": {"isCA": false},
    "crlDistributionPoints": "{{ .Data.crl | default null }}",
    "validity": {"lifetime": "24h"}
  }

Other fields: nameConstraints {critical, permittedDNSDomains, excludedDNSDomains,
permittedIPRanges, excludedIPRanges, permittedEmailAddresses, excludedEmailAddresses,
permittedURIDomains, excludedURIDomains}, ocspServer, issuingCertificateURL, policies,
validity {notBefore, notAfter, lifetime}, extensions [{id, critical, value (base64 DER)}].
Subject fields: commonName, serialNumber, country, province, locality, streetAddress,
postalCode, organization, organizationalUnit, domainComponent, extraNames [{type, value}].

A string that is exactly one {{ … }} inserts the value with its JSON type; inside a longer string
it is interpolated as text. null means "leave the field out".
Variables: .Subject .SANs .DNSNames .IPAddresses .EmailAddresses .URIs .PublicKey .Token .Data
.Insecure.User. Functions (as {{ .X | lower }} or {{ lower .X }}; a piped value is the last
argument):
${templateFunctions()
  .map((f) => `  ${f.usage.padEnd(26)} ${f.doc}`)
  .join('\n')}`;
}

/** Registers `signet certificate template show | render | validate`. */
export function registerCertificateTemplate(group: Command): void {
  const tpl = group
    .command('template')
    .description('show, render and validate JSON certificate templates')
    .addHelpText(
      'after',
      `${syntaxHelp()}

Examples:
  $ signet certificate template show --profile leaf > leaf.json
  $ signet certificate template validate leaf.json
  $ signet certificate template render leaf.json --subject web.example --san web.example --key-type ec --set team=web
  $ signet certificate create web.example web.crt --template leaf.json --set team=web \\
      --ca ca.crt --ca-key ca.key --key-out web.key --no-password`,
    );

  tpl
    .command('show')
    .description("print a profile's default template")
    .addOption(new Option('--profile <profile>', 'profile whose default template to print').choices([...PROFILE_NAMES]).default('leaf'))
    .option('--json', 'same output (templates are JSON)')
    .addHelpText(
      'after',
      `
The default templates pick optional values from template data when present:
crlDistributionPoints, ocspServer, issuingCertificateURL, policies, and for CAs maxPathLen
(-1 = no limit) and nameConstraints.

Examples:
  $ signet certificate template show --profile intermediate-ca
  $ signet certificate template show --profile leaf > my-leaf.json`,
    )
    .action((opts: { profile: string }) => {
      process.stdout.write(defaultTemplateText(getProfile(opts.profile).name));
    });

  tpl
    .command('render')
    .description('render a template against request data and print the certificate request as JSON')
    .argument('[template]', 'template file (- for stdin); or use --profile for a default template')
    .addOption(new Option('--profile <profile>', 'render the default template of this profile').choices([...PROFILE_NAMES]))
    .option('--data <file>', 'template data (.Data) from a JSON object file')
    .option('--set-file <file>', 'same as --data')
    .option('--set <key=value>', '.Data.KEY as a string; KEY:=JSON for other types; repeatable', collectSet)
    .option('--subject <dn>', '.Subject: a common name or a DN (CN=web,O=Example)')
    .option('--san <name>', '.SANs: dns:, ip:, email:, uri: (type guessed without prefix); repeatable', collectSet)
    .option('--csr <file>', 'take .Subject, .SANs and .PublicKey from a CSR (flags override)')
    .option('--key <file>', '.PublicKey from a key file (public or private)')
    .addOption(new Option('--key-type <type>', '.PublicKey of a throwaway key of this type').choices(KEY_TYPE_CHOICES))
    .option('--password-file <file>', 'password for an encrypted --key')
    .option('--raw', 'print the rendered JSON before validation (for debugging)')
    .option('--json', 'same output (the result is JSON)')
    .addHelpText(
      'after',
      `
The output is the validated certificate request that \`signet certificate create --template\`
would issue. Keys in .Data are strings with --set key=value; use --set key:=JSON for numbers,
booleans, lists and objects (--set maxPathLen:=1, --set 'ocspServer:=["http://ocsp.example"]').

Examples:
  $ signet certificate template render leaf.json --subject web.example --san web.example --san 10.0.0.7 --key-type rsa
  $ signet certificate template render --profile intermediate-ca --subject "CN=Issuing CA" --set maxPathLen:=1 --key-type ec
  $ signet certificate template render leaf.json --csr web.csr --data data.json`,
    )
    .action(async (file: string | undefined, opts: RenderCliOptions) => {
      checkInputs([
        { path: file, role: 'TEMPLATE' },
        { path: opts.data, role: '--data' },
        { path: opts.setFile, role: '--set-file' },
        { path: opts.csr, role: '--csr' },
        { path: opts.key, role: '--key' },
        { path: opts.passwordFile, role: '--password-file' },
      ]);
      const template = templateArgument(file, opts.profile);
      const data = await renderData(opts);
      if (opts.raw) {
        printJson(renderTemplateDocument(template, data));
        return;
      }
      try {
        printJson(renderTemplate(template, data));
      } catch (e) {
        // The one problem a preview has that issuance never has: no key to select key usages by.
        if (data.publicKey === undefined && e instanceof SignetError && e.code === 'ERR_TEMPLATE_RENDER' && e.message.includes('$.keyUsage')) {
          throw new SignetError(e.code, e.message, { hint: 'pass --key FILE, --csr FILE or --key-type ec|rsa|ed25519', ...(e.detail ? { detail: { ...e.detail } } : {}) });
        }
        throw e;
      }
    });

  tpl
    .command('validate')
    .description('check a template: JSON syntax, fields, types, values, placeholders and variables')
    .argument('<template>', 'template file; - for stdin')
    .option('--json', 'print {"valid": true} on success (errors are JSON on stderr)')
    .addHelpText(
      'after',
      `
Every problem is listed with its JSON path and position; values that come from placeholders
are checked when the template is rendered (see \`template render\`).

Exit codes: 0 valid; 3 invalid (ERR_TEMPLATE_UNKNOWN_FIELD, ERR_TEMPLATE_INVALID,
ERR_JSON_MALFORMED, ERR_INPUT_TOO_LARGE).

Examples:
  $ signet certificate template validate leaf.json
  $ signet certificate template validate leaf.json --json`,
    )
    .action((file: string, opts: { json?: boolean }) => {
      const name = file === '-' ? 'template from stdin' : file;
      const r = checkTemplate(readInput(file, 'template', MAX_TEMPLATE_BYTES), { name });
      if (r.problems.length > 0) {
        if (!opts.json) for (const p of r.problems) process.stderr.write(`problem: ${escapeControl(formatTemplateProblem(p))}\n`);
        throw templateError(name, r.problems, { listed: !opts.json });
      }
      if (opts.json) printJson({ valid: true, template: name });
      else process.stdout.write(`ok: ${escapeControl(name)} is a valid template\n`);
    });
}
