/**
 * The default template of each profile. They produce what src/x509/profiles.ts produces for the
 * same request (same key usages, EKUs, basic constraints and path lengths), and pick optional
 * URLs, path length, name constraints and policies from `.Data` when present — so the CA can
 * configure them per provisioner as template data without writing a template.
 *
 * Kept as TypeScript constants (not JSON files) so that they ship inside the compiled package
 * and are checked by the compiler; `signet certificate template show --profile NAME` prints them.
 */
import { getProfile, type ProfileName } from '../profiles.js';
import { templateFromDocument, type CertificateTemplate } from './template.js';

const optionalData = (key: string): string => `{{ .Data.${key} | default null }}`;

/** URLs a CA hands out, from template data: `crlDistributionPoints`, `ocspServer`, `issuingCertificateURL`. */
const ISSUER_URLS = {
  crlDistributionPoints: optionalData('crlDistributionPoints'),
  ocspServer: optionalData('ocspServer'),
  issuingCertificateURL: optionalData('issuingCertificateURL'),
};

/** digitalSignature for every key; keyEncipherment too for RSA (RSA key transport, RFC 5246 §7.4.7.1). */
const LEAF_KEY_USAGE = { RSA: ['digitalSignature', 'keyEncipherment'], default: ['digitalSignature'] };

const DEFAULT_TEMPLATES: Readonly<Record<ProfileName, object>> = {
  'root-ca': {
    subject: '{{ .Subject }}',
    keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
    basicConstraints: { isCA: true, maxPathLen: optionalData('maxPathLen') },
    nameConstraints: optionalData('nameConstraints'),
    policies: optionalData('policies'),
  },
  'intermediate-ca': {
    subject: '{{ .Subject }}',
    keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
    basicConstraints: { isCA: true, maxPathLen: '{{ .Data.maxPathLen | default 0 }}' },
    nameConstraints: optionalData('nameConstraints'),
    policies: optionalData('policies'),
    ...ISSUER_URLS,
  },
  leaf: {
    subject: { commonName: '{{ .Subject.commonName | default null }}' },
    sans: '{{ .SANs }}',
    keyUsage: LEAF_KEY_USAGE,
    extKeyUsage: ['serverAuth', 'clientAuth'],
    basicConstraints: { isCA: false },
    policies: optionalData('policies'),
    ...ISSUER_URLS,
  },
  'self-signed': {
    subject: '{{ .Subject }}',
    sans: '{{ .SANs }}',
    keyUsage: LEAF_KEY_USAGE,
    extKeyUsage: ['serverAuth', 'clientAuth'],
    basicConstraints: { isCA: false },
  },
};

const compiled = new Map<ProfileName, CertificateTemplate>();

/**
 * The default template of a profile (`root-ca`, `intermediate-ca`, `leaf`, `self-signed`),
 * compiled once. Throws ERR_BAD_OPTION for an unknown profile.
 */
export function getDefaultTemplate(profile: string): CertificateTemplate {
  const name = getProfile(profile).name;
  let t = compiled.get(name);
  if (!t) {
    t = templateFromDocument(DEFAULT_TEMPLATES[name], `default ${name} template`);
    compiled.set(name, t);
  }
  return t;
}

/** The default template of a profile as pretty-printed JSON text (what `template show` prints). */
export function defaultTemplateText(profile: string): string {
  return JSON.stringify(getDefaultTemplate(profile).document, null, 2) + '\n';
}
