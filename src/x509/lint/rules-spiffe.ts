/**
 * SPIFFE X509-SVID rules (spiffe/spiffe standards/X509-SVID.md and SPIFFE-ID.md). They run when
 * the certificate carries a `spiffe://` URI SAN, or when the caller asks for them.
 */
import type { Certificate } from '../certificate.js';
import { OID } from '../oids.js';
import { defineRule, findExtension, hasKeyUsage, unless } from './rule-kit.js';
import { parseSpiffeId, type SpiffeIdParts } from './syntax.js';
import type { LintContext, LintRule } from './types.js';

function uris(ctx: LintContext): string[] {
  return (ctx.san ?? []).filter((n) => n.type === 'uri').map((n) => n.text);
}

/** The one SPIFFE ID of an SVID, parsed; undefined when there is not exactly one URI or it is invalid. */
function spiffeId(ctx: LintContext): SpiffeIdParts | undefined {
  const u = uris(ctx);
  if (u.length !== 1) return undefined;
  const id = parseSpiffeId(u[0] as string);
  return 'problem' in id ? undefined : id;
}

function svid(_cert: Certificate, ctx: LintContext): boolean {
  return ctx.spiffe;
}

export const SPIFFE_RULES: readonly LintRule[] = [
  defineRule({
    id: 'e_spiffe_uri_san_count',
    severity: 'error',
    source: 'SPIFFE X509-SVID §2, §5.2',
    description: 'a leaf X509-SVID has exactly one URI SAN',
    appliesTo: (_cert, ctx) => ctx.spiffe && !ctx.ca,
    check: (_cert, ctx) => {
      const n = uris(ctx).length;
      return unless(n === 1, () => `X509-SVID has ${n} URI SANs (exactly one)`);
    },
  }),
  defineRule({
    id: 'w_spiffe_ca_not_svid',
    severity: 'warning',
    source: 'SPIFFE X509-SVID §2, §3.2',
    description: 'a signing certificate should itself be an SVID: exactly one URI SAN (one serving several trust domains carries one SPIFFE ID each, and is not)',
    appliesTo: (_cert, ctx) => ctx.spiffe && ctx.ca,
    check: (_cert, ctx) => {
      const n = uris(ctx).length;
      return unless(n === 1, () => `signing certificate has ${n} URI SANs: it is not itself an SVID`);
    },
  }),
  defineRule({
    id: 'e_spiffe_id_invalid',
    severity: 'error',
    source: 'SPIFFE-ID §2, §2.1, §2.2, §2.3',
    description: 'the SPIFFE ID is spiffe://trust-domain[/path] with the characters the standard allows',
    appliesTo: (_cert, ctx) => ctx.spiffe && uris(ctx).length > 0,
    check: (_cert, ctx) =>
      uris(ctx).flatMap((u) => {
        const id = parseSpiffeId(u);
        return 'problem' in id ? [`SPIFFE ID "${u}" ${id.problem}`] : [];
      }),
  }),
  defineRule({
    id: 'e_spiffe_leaf_path_missing',
    severity: 'error',
    source: 'SPIFFE X509-SVID §3.1',
    description: 'a leaf SVID has a SPIFFE ID with a non-root path',
    appliesTo: (_cert, ctx) => ctx.spiffe && !ctx.ca && spiffeId(ctx) !== undefined,
    check: (_cert, ctx) => unless((spiffeId(ctx)?.path ?? '') !== '', 'SPIFFE ID of a leaf SVID has no path'),
  }),
  defineRule({
    id: 'e_spiffe_ca_id_has_path',
    severity: 'error',
    source: 'SPIFFE X509-SVID §3.2',
    description: 'the SPIFFE IDs of a signing certificate have no path',
    appliesTo: (_cert, ctx) => ctx.spiffe && ctx.ca && uris(ctx).length > 0,
    check: (_cert, ctx) =>
      uris(ctx).flatMap((u) => {
        const id = parseSpiffeId(u);
        return 'problem' in id || id.path === '' ? [] : [`SPIFFE ID "${u}" of a signing certificate has a path`];
      }),
  }),
  defineRule({
    id: 'e_spiffe_key_usage_not_critical',
    severity: 'error',
    source: 'SPIFFE X509-SVID §4.3',
    description: 'every SVID has a critical keyUsage',
    appliesTo: svid,
    check: (cert) => {
      const ku = findExtension(cert, OID.keyUsage);
      if (!ku) return ['X509-SVID has no keyUsage'];
      return unless(ku.critical, 'keyUsage of an X509-SVID is not critical');
    },
  }),
  defineRule({
    id: 'e_spiffe_leaf_key_usage',
    severity: 'error',
    source: 'SPIFFE X509-SVID §4.3',
    description: 'a leaf SVID asserts digitalSignature and neither keyCertSign nor cRLSign',
    appliesTo: (cert, ctx) => ctx.spiffe && !ctx.ca && cert.ext.keyUsage !== undefined,
    check: (cert) => [
      ...(hasKeyUsage(cert, 'digitalSignature') ? [] : ['leaf SVID keyUsage lacks digitalSignature']),
      ...(hasKeyUsage(cert, 'keyCertSign') ? ['leaf SVID keyUsage asserts keyCertSign'] : []),
      ...(hasKeyUsage(cert, 'cRLSign') ? ['leaf SVID keyUsage asserts cRLSign'] : []),
    ],
  }),
  defineRule({
    id: 'e_spiffe_ca_key_cert_sign_missing',
    severity: 'error',
    source: 'SPIFFE X509-SVID §4.3',
    description: 'a signing SVID asserts keyCertSign',
    appliesTo: (_cert, ctx) => ctx.spiffe && ctx.ca,
    check: (cert) => unless(hasKeyUsage(cert, 'keyCertSign'), 'signing SVID keyUsage lacks keyCertSign'),
  }),
  defineRule({
    id: 'e_spiffe_leaf_eku',
    severity: 'error',
    source: 'SPIFFE X509-SVID §4.4',
    description: 'when a leaf SVID has extKeyUsage, it includes serverAuth and clientAuth',
    appliesTo: (cert, ctx) => ctx.spiffe && !ctx.ca && cert.ext.extKeyUsage !== undefined,
    check: (cert) => {
      const eku = cert.ext.extKeyUsage ?? [];
      const missing = [eku.includes(OID.serverAuth) ? undefined : 'serverAuth', eku.includes(OID.clientAuth) ? undefined : 'clientAuth'].filter((x) => x !== undefined);
      return missing.length === 0 ? [] : [`leaf SVID extKeyUsage lacks ${missing.join(' and ')}`];
    },
  }),
  defineRule({
    id: 'w_spiffe_leaf_eku_missing',
    severity: 'warning',
    source: 'SPIFFE X509-SVID §4.4',
    description: 'a leaf SVID should have extKeyUsage',
    appliesTo: (_cert, ctx) => ctx.spiffe && !ctx.ca,
    check: (cert) => unless(findExtension(cert, OID.extKeyUsage) !== undefined, 'leaf SVID has no extKeyUsage'),
  }),
];
