import type { Command } from 'commander';
import { registerCertificateCreate } from './create.js';
import { registerCertificateLint } from './lint.js';
import { registerCertificateInspect } from './inspect.js';
import { registerCertificateFingerprint } from './fingerprint.js';
import { registerCertificateFormat } from './format.js';
import { registerCertificateBundle } from './bundle.js';
import { registerCertificateNeedsRenewal } from './needs-renewal.js';
import { registerCertificateVerify } from './verify.js';
import { registerCertificateTemplate } from './template.js';

/** Registers `signet certificate …` (alias `cert`). */
export function registerCertificateCommands(program: Command): Command {
  const cmd = program.command('certificate').alias('cert').description('create, inspect, verify and lint X.509 certificates');
  registerCertificateCreate(cmd);
  registerCertificateLint(cmd);
  registerCertificateInspect(cmd);
  registerCertificateFingerprint(cmd);
  registerCertificateFormat(cmd);
  registerCertificateBundle(cmd);
  registerCertificateNeedsRenewal(cmd);
  registerCertificateVerify(cmd);
  registerCertificateTemplate(cmd);
  return cmd;
}
