/**
 * Certificate policy processing (RFC 5280 §6.1.2 (a), (d)–(f); §6.1.3 (d)–(f); §6.1.4 (a)–(b),
 * (h)–(j); §6.1.5 (a)–(b), (g)) with the default inputs every common verifier uses:
 * user-initial-policy-set = {anyPolicy}, initial-explicit-policy, initial-policy-mapping-inhibit
 * and initial-any-policy-inhibit all false.
 *
 * With those inputs the only question policy processing answers is whether the valid policy tree
 * is non-empty where a certificate demanded an explicit policy (policyConstraints
 * requireExplicitPolicy). The tree is therefore reduced to the set of policies at its current
 * depth (with `anyPolicy` standing for the anyPolicy node); mappings replace an issuer-domain
 * policy by its subject-domain policies. Policy qualifiers are not tracked. The trust anchor is
 * not part of the path here (RFC 5280 §6.1), so its policy extensions are not processed.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { PolicyMappings } from '@peculiar/asn1-x509';
import type { Certificate, Extension } from '../certificate.js';
import { children, readSingle } from '../der-reader.js';
import { OID } from '../oids.js';

/** The policy state variables of §6.1.2. `tree` undefined = valid_policy_tree is NULL. */
export interface PolicyState {
  tree: Set<string> | undefined;
  explicitPolicy: number;
  policyMapping: number;
  inhibitAnyPolicy: number;
}

/** §6.1.2 with n certificates in the path (trust anchor excluded). */
export function initialPolicyState(n: number): PolicyState {
  return { tree: new Set([OID.anyPolicy]), explicitPolicy: n + 1, policyMapping: n + 1, inhibitAnyPolicy: n + 1 };
}

/** Decodes policyMappings (RFC 5280 §4.2.1.5) into issuer → subject-domain policy pairs. */
export function decodePolicyMappings(value: Uint8Array): Array<[string, string]> {
  return AsnConvert.parse(value, PolicyMappings).map((m) => [m.issuerDomainPolicy, m.subjectDomainPolicy]);
}

/** SkipCerts ::= INTEGER (0..MAX): content octets → number (huge values clamp; they never bind). */
function skipCerts(content: Uint8Array): number {
  if (content.length === 0 || ((content[0] as number) & 0x80) !== 0) throw new Error('negative or empty skipCerts');
  let v = 0;
  for (const b of content) v = Math.min(v * 256 + b, 0x7fffffff);
  return v;
}

/**
 * PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL,
 *                                  inhibitPolicyMapping  [1] SkipCerts OPTIONAL } (RFC 5280 §4.2.1.11)
 */
export function decodePolicyConstraints(value: Uint8Array): { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } {
  const seq = readSingle(value);
  if (seq.tag !== 0x30) throw new Error('policy constraints is not a sequence');
  const out: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } = {};
  for (const f of children(seq)) {
    if (f.tag === 0x80) out.requireExplicitPolicy = skipCerts(f.content);
    else if (f.tag === 0x81) out.inhibitPolicyMapping = skipCerts(f.content);
    else throw new Error('unexpected field in policy constraints');
  }
  return out;
}

/** InhibitAnyPolicy ::= SkipCerts (RFC 5280 §4.2.1.14). */
export function decodeInhibitAnyPolicy(value: Uint8Array): number {
  const t = readSingle(value);
  if (t.tag !== 0x02) throw new Error('inhibit any policy is not an integer');
  return skipCerts(t.content);
}

/** Why a policy extension cannot be decoded, or undefined (for the malformed-extension check). */
export function policyExtensionError(e: Extension): string | undefined {
  try {
    if (e.oid === OID.policyMappings) decodePolicyMappings(e.value);
    else if (e.oid === OID.policyConstraints) decodePolicyConstraints(e.value);
    else if (e.oid === OID.inhibitAnyPolicy) decodeInhibitAnyPolicy(e.value);
    return undefined;
  } catch {
    return 'cannot decode the extension value';
  }
}

function extensionValue(cert: Certificate, oid: string): Uint8Array | undefined {
  return cert.extensions.find((e) => e.oid === oid)?.value;
}

/**
 * Processes certificate `i` (1-based, the leaf is `n`). Returns a reason string when the path
 * fails policy processing at this certificate, undefined otherwise. Throws when policyMappings
 * cannot be decoded (the caller checks {@link policyExtensionError} first).
 *
 * policyConstraints and inhibitAnyPolicy are decoded here from the raw extension values.
 */
export function processPolicies(state: PolicyState, cert: Certificate, i: number, n: number, selfIssued: boolean): string | undefined {
  const policies = cert.ext.certificatePolicies;
  // §6.1.3 (d)–(e)
  if (state.tree !== undefined) {
    if (policies === undefined) {
      state.tree = undefined;
    } else {
      const prev = state.tree;
      const next = new Set<string>();
      for (const p of policies) {
        if (p !== OID.anyPolicy && (prev.has(p) || prev.has(OID.anyPolicy))) next.add(p);
      }
      if (policies.includes(OID.anyPolicy) && (state.inhibitAnyPolicy > 0 || (i < n && selfIssued))) {
        for (const p of prev) next.add(p);
      }
      state.tree = next.size > 0 ? next : undefined;
    }
  }
  // §6.1.3 (f)
  if (state.explicitPolicy === 0 && state.tree === undefined) {
    return 'an explicit certificate policy is required but the path has no valid policy';
  }
  const pcValue = extensionValue(cert, OID.policyConstraints);
  const pc = pcValue === undefined ? undefined : decodePolicyConstraints(pcValue);
  if (i === n) {
    // §6.1.5 (a)–(b)
    if (state.explicitPolicy > 0) state.explicitPolicy--;
    if (pc?.requireExplicitPolicy === 0) state.explicitPolicy = 0;
    // §6.1.5 (g) with user-initial-policy-set = {anyPolicy}: the tree is kept as it is.
    if (state.explicitPolicy === 0 && state.tree === undefined) {
      return 'an explicit certificate policy is required but the path has no valid policy';
    }
    return undefined;
  }
  // §6.1.4 (a)–(b): policy mappings
  const mappingValue = extensionValue(cert, OID.policyMappings);
  if (mappingValue) {
    const mappings = decodePolicyMappings(mappingValue);
    if (mappings.some(([a, b]) => a === OID.anyPolicy || b === OID.anyPolicy)) return 'policy mappings must not map anyPolicy';
    if (state.tree !== undefined) {
      const tree = state.tree;
      const issuerPolicies = new Set(mappings.map(([a]) => a));
      for (const issuerPolicy of issuerPolicies) {
        const subjects = mappings.filter(([a]) => a === issuerPolicy).map(([, b]) => b);
        if (state.policyMapping > 0) {
          if (tree.has(issuerPolicy) || tree.has(OID.anyPolicy)) {
            tree.delete(issuerPolicy);
            for (const s of subjects) tree.add(s);
          }
        } else {
          tree.delete(issuerPolicy);
        }
      }
      if (tree.size === 0) state.tree = undefined;
    }
  }
  // §6.1.4 (h)–(j)
  if (!selfIssued) {
    if (state.explicitPolicy > 0) state.explicitPolicy--;
    if (state.policyMapping > 0) state.policyMapping--;
    if (state.inhibitAnyPolicy > 0) state.inhibitAnyPolicy--;
  }
  if (pc?.requireExplicitPolicy !== undefined && pc.requireExplicitPolicy < state.explicitPolicy) state.explicitPolicy = pc.requireExplicitPolicy;
  if (pc?.inhibitPolicyMapping !== undefined && pc.inhibitPolicyMapping < state.policyMapping) state.policyMapping = pc.inhibitPolicyMapping;
  const iapValue = extensionValue(cert, OID.inhibitAnyPolicy);
  const iap = iapValue === undefined ? undefined : decodeInhibitAnyPolicy(iapValue);
  if (iap !== undefined && iap < state.inhibitAnyPolicy) state.inhibitAnyPolicy = iap;
  return undefined;
}
