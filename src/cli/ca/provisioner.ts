/**
 * `signet ca provisioner list|add|remove` — who may issue, without editing signet.json by hand.
 * Every change goes through the same strict config pipeline as `ca start` before anything is
 * written: the edited document is validated whole, then the config (and, for a new JWK
 * provisioner, its encrypted key) is replaced atomically. A running CA picks it up on SIGHUP;
 * the reload writes the change to the audit log.
 */
import { generateKeyPairSync } from '../../crypto/generate.js';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../../core/errors.js';
import { escapeControl } from '../../core/escape.js';
import { exportJwk } from '../../crypto/jwk.js';
import { encodePrivateKeyPem } from '../../crypto/keys.js';
import { ACME_CHALLENGE_TYPES, loadCaConfig, parseCaConfig, PROVISIONER_NAME_PATTERN, type CaConfig, type CaProvisioner } from '../../ca/config.js';
import { isJsonObject, parseJson, type JsonObject } from '../../x509/template/json.js';
import { commitOutputs, printJson, type OutputData } from '../io.js';
import { DEFAULT_CONFIG_PATH } from './config-validate.js';
import { newPassword } from './init.js';

interface ProvisionerFlags {
  readonly config?: string;
  readonly json?: boolean;
}

interface AddFlags extends ProvisionerFlags {
  readonly type: string;
  readonly issuer?: string;
  readonly clientId?: string;
  readonly domains?: string;
  readonly challenges?: string;
  readonly requireEab?: boolean;
  readonly termsOfService?: string;
  readonly passwordFile?: string;
}

/**
 * The config `--config` names (a file, or a CA directory — the config loader resolves it), its
 * document as written, and the file's mode: nothing is changed in a config that is broken already.
 */
function readDocument(configPath: string | undefined): { path: string; doc: JsonObject; config: CaConfig; mode: number } {
  const config = loadCaConfig(configPath ?? DEFAULT_CONFIG_PATH);
  const path = config.configPath as string;
  const doc = parseJson(readFileSync(path, 'utf8'), { what: path }).value;
  if (!isJsonObject(doc)) throw new SignetError('ERR_CONFIG_INVALID', `${path} is not a JSON object`);
  return { path, doc, config, mode: statSync(path).mode & 0o777 };
}

function describe(p: CaProvisioner): Record<string, unknown> {
  if (p.type === 'OIDC') return { name: p.name, type: p.type, issuer: p.issuer, clientId: p.clientId, domains: p.domains };
  return p.type === 'JWK'
    ? { name: p.name, type: p.type, kid: p.kid, algorithm: p.algorithm }
    : { name: p.name, type: p.type, directory: `/acme/${p.name}/directory`, challenges: p.challenges, requireEAB: p.requireEAB, ...(p.termsOfService !== undefined && { termsOfService: p.termsOfService }) };
}

/** Validates the edited document with the config pipeline, then writes it (and new files) atomically. */
function commit(path: string, doc: JsonObject, mode: number, extra: readonly OutputData[] = []): CaConfig {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const config = parseCaConfig(text, { baseDir: dirname(path), name: path, configPath: path });
  commitOutputs([...extra, { path, role: '--config', data: text, mode }], { force: true });
  return config;
}

const RELOAD_HINT = 'a running CA picks this up on SIGHUP (kill -HUP <pid>, systemctl reload signet) or at its next start';

/** Registers `signet ca provisioner …`. */
export function registerCaProvisioner(ca: Command): void {
  const cmd = ca.command('provisioner').description('list, add and remove the provisioners in signet.json (who may issue, and how)');

  cmd
    .command('list')
    .description('list the provisioners of a CA config')
    .option('--config <file>', `the config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`)
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExamples:\n  $ signet ca provisioner list\n  $ signet ca provisioner list --json --config /etc/signet')
    .action((opts: ProvisionerFlags) => {
      const config = loadCaConfig(opts.config ?? DEFAULT_CONFIG_PATH);
      const list = config.provisioners.map(describe);
      if (opts.json === true) {
        printJson(list);
        return;
      }
      for (const p of list) {
        const detail =
          p.type === 'JWK'
            ? `kid ${String(p.kid)}, ${String(p.algorithm)} tokens`
            : p.type === 'OIDC'
              ? `${String(p.issuer)}, client ${String(p.clientId)}`
              : `${String(p.directory)}, ${(p.challenges as string[]).join(' ')}${p.requireEAB === true ? ', EAB required' : ''}`;
        process.stdout.write([String(p.name), String(p.type), detail].map(escapeControl).join('\t') + '\n');
      }
      if (list.length === 0) process.stderr.write('no provisioners\n');
    });

  cmd
    .command('add')
    .description('add a provisioner: ACME (a directory for certbot, lego, cert-manager …), JWK (one-time tokens; makes its key) or OIDC (single sign-on at an OpenID provider)')
    .argument('<name>', 'the provisioner name: letters, digits and . _ @ + - (JWK: the tokens\' iss)')
    .requiredOption('--type <type>', 'acme, jwk or oidc')
    .option('--issuer <url>', 'OIDC: the OpenID provider\'s issuer URL (https)')
    .option('--client-id <id>', 'OIDC: the client ID registered at the provider for Signet (a public client: PKCE, redirect to http://127.0.0.1)')
    .option('--domains <list>', 'OIDC: only e-mail addresses in these domains, comma separated')
    .option('--challenges <list>', `ACME: the challenge types offered, comma separated (default ${ACME_CHALLENGE_TYPES.join(',')})`)
    .option('--require-eab', 'ACME: new accounts need an external account binding key (signet acme eab add)')
    .option('--terms-of-service <url>', 'ACME: a terms-of-service URL new accounts must agree to')
    .option('--password-file <file>', 'JWK: encrypts the new provisioner key (asked on a terminal otherwise)')
    .option('--config <file>', `the config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`)
    .option('--json', 'print the new provisioner as JSON')
    .addHelpText(
      'after',
      `
The whole edited config is validated before anything is written; ${RELOAD_HINT}.
A JWK provisioner's key goes to secrets/provisioner-<name>.key (encrypted, 0600) next to the config.

Examples:
  $ signet ca provisioner add acme --type acme
  $ signet ca provisioner add partners --type acme --challenges dns-01 --require-eab
  $ signet ca provisioner add deploy --type jwk --password-file deploy-pw.txt
  $ signet ca provisioner add sso --type oidc --issuer https://login.example.com --client-id signet --domains example.com`,
    )
    .action(async (name: string, opts: AddFlags) => {
      const type = opts.type.toLowerCase();
      if (type !== 'acme' && type !== 'jwk' && type !== 'oidc') throw new SignetError('ERR_BAD_OPTION', `--type must be acme, jwk or oidc, got "${escapeControl(opts.type.slice(0, 32))}"`);
      const oidcOnly = [opts.issuer !== undefined && '--issuer', opts.clientId !== undefined && '--client-id', opts.domains !== undefined && '--domains'].filter((f): f is string => f !== false);
      if (type !== 'oidc' && oidcOnly.length > 0) throw new SignetError('ERR_USAGE', `${oidcOnly.join(', ')} apply to OIDC provisioners only`);
      if (type === 'oidc' && (opts.issuer === undefined || opts.clientId === undefined)) throw new SignetError('ERR_USAGE', 'an OIDC provisioner needs --issuer and --client-id');
      if (!PROVISIONER_NAME_PATTERN.test(name)) throw new SignetError('ERR_BAD_NAME', `"${escapeControl(name.slice(0, 64))}" is not a provisioner name: letters, digits and . _ @ + - (at most 64, starting with a letter or digit)`);
      const acmeOnly = [opts.challenges !== undefined && '--challenges', opts.requireEab === true && '--require-eab', opts.termsOfService !== undefined && '--terms-of-service'].filter((f): f is string => f !== false);
      if (type !== 'acme' && acmeOnly.length > 0) throw new SignetError('ERR_USAGE', `${acmeOnly.join(', ')} apply to ACME provisioners only`);
      if (type !== 'jwk' && opts.passwordFile !== undefined) throw new SignetError('ERR_USAGE', `--password-file applies to JWK provisioners only (an ${type.toUpperCase()} provisioner has no key)`);
      const { path, doc, config, mode } = readDocument(opts.config);
      if (config.provisioners.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
        throw new SignetError('ERR_CONFIG_INVALID', `the config already has a provisioner "${escapeControl(name)}"`, { hint: 'choose another name, or remove it first' });
      }
      const list = Array.isArray(doc.provisioners) ? [...doc.provisioners] : [];
      const extra: OutputData[] = [];
      if (type === 'oidc') {
        list.push({
          type: 'OIDC',
          name,
          issuer: opts.issuer ?? '',
          clientId: opts.clientId ?? '',
          ...(opts.domains !== undefined && { domains: opts.domains.split(',').map((d) => d.trim()) }),
        });
      } else if (type === 'acme') {
        list.push({
          type: 'ACME',
          name,
          ...(opts.challenges !== undefined && { challenges: opts.challenges.split(',').map((c) => c.trim()) }),
          ...(opts.requireEab === true && { requireEAB: true }),
          ...(opts.termsOfService !== undefined && { termsOfService: opts.termsOfService }),
        });
      } else {
        const keyPath = join(dirname(path), 'secrets', `provisioner-${name}.key`);
        const password = await newPassword(opts.passwordFile, `password for the provisioner key (${name}): `, '--password-file');
        const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        list.push({ type: 'JWK', name, publicKey: exportJwk(pair.publicKey) as unknown as JsonObject });
        extra.push({ path: keyPath, role: 'provisioner key', data: encodePrivateKeyPem(pair.privateKey, password), mode: 0o600 });
      }
      doc.provisioners = list;
      const next = commit(path, doc, mode, extra);
      const added = next.provisioners.find((p) => p.name === name) as CaProvisioner;
      if (opts.json === true) printJson(describe(added));
      else {
        const detail = added.type === 'ACME' ? ` (directory /acme/${name}/directory)` : added.type === 'OIDC' ? ` (sign in at ${added.issuer}: signet ssh login --provisioner ${name})` : ` (key secrets/provisioner-${name}.key)`;
        process.stdout.write(escapeControl(`added ${added.type} provisioner ${name}${detail}`) + '\n');
      }
      process.stderr.write(`${RELOAD_HINT}\n`);
    });

  cmd
    .command('remove')
    .description('remove a provisioner from the config (its certificates stay valid and in the inventory; a JWK key file is left in place)')
    .argument('<name>', 'the provisioner to remove')
    .option('--config <file>', `the config file, or a CA directory (default ${DEFAULT_CONFIG_PATH})`)
    .addHelpText('after', '\nExamples:\n  $ signet ca provisioner remove partners')
    .action((name: string, opts: ProvisionerFlags) => {
      const { path, doc, config, mode } = readDocument(opts.config);
      if (!config.provisioners.some((p) => p.name === name)) {
        throw new SignetError('ERR_TOKEN_UNKNOWN_PROVISIONER', `the config has no provisioner "${escapeControl(name.slice(0, 64))}"`, { hint: `it has: ${config.provisioners.map((p) => p.name).join(', ') || 'none'}` });
      }
      doc.provisioners = (Array.isArray(doc.provisioners) ? doc.provisioners : []).filter((p) => !(isJsonObject(p) && p.name === name));
      commit(path, doc, mode);
      process.stdout.write(escapeControl(`removed provisioner ${name}`) + '\n');
      process.stderr.write(`${RELOAD_HINT}\n`);
    });
}
