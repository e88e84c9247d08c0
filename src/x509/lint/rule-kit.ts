/** Small helpers shared by the rule files. */
import type { Certificate, Extension, KeyUsageName } from '../certificate.js';
import type { LintRule } from './types.js';

/** The first extension with `oid`, as encoded. */
export function findExtension(cert: Certificate, oid: string): Extension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** True when the certificate has an extension with `oid`. */
export function hasExtension(cert: Certificate, oid: string): boolean {
  return cert.extensions.some((e) => e.oid === oid);
}

/** True when keyUsage is present and asserts `usage`. */
export function hasKeyUsage(cert: Certificate, usage: KeyUsageName): boolean {
  return cert.ext.keyUsage?.usages.includes(usage) ?? false;
}

/** Identity function that type-checks a rule literal. */
export function defineRule(rule: LintRule): LintRule {
  return rule;
}

const PASS: readonly string[] = Object.freeze([]);

/**
 * `[]` when `ok`, else `[message]`. A message that interpolates values is passed as a function,
 * so that it is only built for a failing certificate (the CA lints every one before signing).
 */
export function unless(ok: boolean, message: string | (() => string)): readonly string[] {
  if (ok) return PASS;
  return [typeof message === 'string' ? message : message()];
}

/** Always true: for rules that apply to every certificate. */
export const always = (): boolean => true;

/** Caches a derived value per certificate object (several rules look at the same decoded data). */
export function perCertificate<T>(fn: (cert: Certificate) => T): (cert: Certificate) => T {
  const cache = new WeakMap<Certificate, { value: T }>();
  return (cert) => {
    let hit = cache.get(cert);
    if (!hit) {
      hit = { value: fn(cert) };
      cache.set(cert, hit);
    }
    return hit.value;
  };
}
