/**
 * `signet ca rekey CRT KEY` — a new key for a certificate the CA issued: generate the key and a
 * CSR for the same subject and SANs, `POST /rekey` over mTLS with the current certificate and
 * key, then replace CRT and KEY together, atomically (the new key 0600).
 */
import type { KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { encodePem } from '../../core/pem.js';
import { generateKeyAsync, type KeySpec } from '../../crypto/key-spec.js';
import { encodePrivateKeyPem } from '../../crypto/keys.js';
import { createSoftwareSigner } from '../../crypto/signer.js';
import { buildCsr, toGeneralName } from '../../x509/csr.js';
import { keySpecFromFlags } from '../key/key-flags.js';
import { commitOutputs, printJson, readPassword } from '../io.js';
import { checkIssued, existingMode, loadCertificateAndKey, replaceTarget } from './client-common.js';
import { addConnectionOptions, clientFor, resolveCa, type ConnectionFlags } from './connection.js';
import { hooksFromFlags } from './renew.js';
import { runRenewHooks } from './renew-hooks.js';

interface RekeyFlags extends ConnectionFlags {
  keyType?: string;
  passwordFile?: string;
  exec?: string;
  signal?: string;
  json?: boolean;
}

/** The spec that generates a key like `key` (same type, curve or size); P-256 when it is none of Signet's. */
export function keySpecLike(key: KeyObject): KeySpec {
  const d = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ec':
      return d?.namedCurve === 'secp384r1' ? 'p384' : d?.namedCurve === 'secp521r1' ? 'p521' : 'p256';
    case 'ed25519':
      return 'ed25519';
    case 'rsa': {
      const bits = d?.modulusLength ?? 2048;
      return bits >= 4096 ? 'rsa4096' : bits >= 3072 ? 'rsa3072' : 'rsa2048';
    }
    default:
      return 'p256';
  }
}

/** Registers `signet ca rekey`. */
export function registerCaRekey(ca: Command): void {
  const cmd = ca
    .command('rekey')
    .description('replace a certificate and its key: new key and CSR here, POST /rekey over mTLS with the current ones')
    .argument('<crt>', 'the certificate chain file (replaced)')
    .argument('<key>', 'its private key (replaced by the new key, 0600)')
    .option('--key-type <type>', 'the new key: p256, p384, ed25519, rsa2048, … (default: the type of the current key)')
    .option('--password-file <file>', 'first line: the password of an encrypted KEY; the new key is encrypted with it too')
    .option('--exec <command>', 'afterwards run this command through /bin/sh (as ca renew)')
    .option('--signal <pid:signame>', 'afterwards send this signal to this process, e.g. 1234:HUP');
  addConnectionOptions(cmd)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The CSR carries the current certificate's subject and SANs (the CA requires the same SANs); the
new key must differ from the current one (ERR_REKEY_SAME_KEY) and be a type the provisioner
allows (ERR_FORBIDDEN_KEY_TYPE). An unencrypted KEY stays unencrypted; with --password-file the
new key is encrypted with the same password. CRT and KEY are replaced together, atomically, only
after the CA answered.

Exit codes: 0 rekeyed; 1 the CA refused (ERR_CERT_REVOKED, ERR_FORBIDDEN_KEY_TYPE, …); 4 KEY is not
the key of CRT; 5 a file problem or a failed hook; 6 the CA cannot be reached.

Examples:
  $ signet ca rekey web.crt web.key
  $ signet ca rekey web.crt web.key --key-type ed25519 --exec 'systemctl reload nginx'`,
    )
    .action(async (crt: string, key: string, flags: RekeyFlags) => {
      const hooks = hooksFromFlags(flags);
      const spec = flags.keyType !== undefined ? keySpecFromFlags({ type: flags.keyType }, '--key-type') : undefined;
      const password = flags.passwordFile !== undefined ? await readPassword({ passwordFile: flags.passwordFile, prompt: `password for ${key}: `, file: key }) : undefined;
      const current = await loadCertificateAndKey(crt, key, { password });
      const target = resolveCa(flags);
      const { privateKey } = await generateKeyAsync(spec ?? keySpecLike(current.key));
      const sans = (current.leaf.ext.subjectAltName ?? []).map(toGeneralName);
      const csr = buildCsr(
        { subject: current.leaf.subject.der, ...(sans.length > 0 ? { extensions: { subjectAltName: { names: sans, critical: current.leaf.subject.rdns.length === 0 } } } : {}) },
        createSoftwareSigner(privateKey),
      );
      const client = clientFor(target);
      const issued = await client.rekey(encodePem('CERTIFICATE REQUEST', csr), { certificateChain: current.chainPem, key: current.key });
      const { leaf, chainPem } = checkIssued(issued, privateKey, client.url);
      commitOutputs(
        [
          { path: replaceTarget(crt), role: 'CRT', mode: existingMode(crt, 0o644), data: chainPem },
          { path: replaceTarget(key), role: 'KEY', mode: 0o600, data: encodePrivateKeyPem(privateKey, current.keyEncrypted ? password : undefined) },
        ],
        { force: true },
      );
      if (flags.json) {
        printJson({ rekeyed: true, crt, key, serial: leaf.serialHex, previousSerial: current.leaf.serialHex, keyType: spec ?? keySpecLike(current.key), notAfter: formatTime(leaf.notAfter) });
      } else {
        process.stdout.write(escapeControl(`rekeyed ${crt} and ${key}: serial ${leaf.serialHex} (was ${current.leaf.serialHex}), valid until ${formatTime(leaf.notAfter)}`) + '\n');
      }
      await runRenewHooks(hooks, { crt, key, serial: leaf.serialHex });
    });
}
