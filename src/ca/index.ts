/**
 * Public API of `ca/`: the online authority's building blocks — one-time tokens of JWK
 * provisioners and name policy.
 */
export {
  DEFAULT_TOKEN_LEEWAY_MS,
  DEFAULT_TOKEN_TTL_MS,
  MAX_TOKEN_LEEWAY_MS,
  MAX_TOKEN_LIFETIME_MS,
  MAX_TOKEN_SIZE,
  TOKEN_ALGORITHMS,
  mintToken,
  tokenAlgorithmForKey,
  verifyToken,
} from './token.js';
export type { MintTokenOptions, TokenAlgorithm, TokenClaims, TokenProvisioner, TokenProvisionerLookup, VerifyTokenOptions } from './token.js';
export { POLICY_NAME_TYPES, checkAll, compilePolicy, evaluatePolicies, validatePolicyConfig } from './policy.js';
export type { Policy, PolicyConfig, PolicyDecision, PolicyName, PolicyNameType, PolicyProblem, PolicyRequest, PolicyRules } from './policy.js';
