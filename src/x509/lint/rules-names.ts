/**
 * Rules on subject alternative names (RFC 5280 §4.2.1.6) and on how the subject relates to them:
 * DNS names in preferred name syntax, IP addresses of 4 or 16 octets, RFC 5322 mailboxes,
 * absolute URIs, and a common name that repeats one of the SANs (CA/B BR §7.1.4.3).
 */
import { isIP } from 'node:net';
import type { Certificate } from '../certificate.js';
import { formatIpAddress, parseIpAddress } from '../general-name.js';
import { OID } from '../oids.js';
import type { RawGeneralName } from './raw-names.js';
import { defineRule, unless } from './rule-kit.js';
import { dnsNameProblem, emailProblem, uriProblem } from './syntax.js';
import type { LintContext, LintRule } from './types.js';

function names(ctx: LintContext, type: RawGeneralName['type']): RawGeneralName[] {
  return (ctx.san ?? []).filter((n) => n.type === type);
}

function hasNames(type: RawGeneralName['type']): (cert: Certificate, ctx: LintContext) => boolean {
  return (_cert, ctx) => names(ctx, type).length > 0;
}

function commonNames(cert: Certificate): string[] {
  const out: string[] = [];
  for (const rdn of cert.subject.rdns) for (const a of rdn) if (a.type === OID.commonName) out.push(a.value);
  return out;
}

/** True when `cn` equals one of the SAN values (DNS case-insensitively, IPs by address). */
function cnInSan(cn: string, san: readonly RawGeneralName[]): boolean {
  const ip = isIP(cn) ? parseIpAddress(cn) : undefined;
  return san.some((n) => {
    switch (n.type) {
      case 'dns':
        return n.text.toLowerCase() === cn.toLowerCase();
      case 'ip':
        return ip !== undefined && (n.octets.length === 4 || n.octets.length === 16) && formatIpAddress(n.octets) === formatIpAddress(ip);
      case 'email':
      case 'uri':
        return n.text === cn;
      default:
        return false;
    }
  });
}

export const NAME_RULES: readonly LintRule[] = [
  defineRule({
    id: 'w_leaf_san_missing',
    severity: 'warning',
    source: 'CA/B BR §7.1.2.7.12, RFC 6125 §6.4.4',
    description: 'end-entity certificates name their subject in subjectAltName',
    appliesTo: (_cert, ctx) => !ctx.ca,
    check: (_cert, ctx) => unless(ctx.sanExtension !== undefined, 'subjectAltName is missing'),
  }),
  defineRule({
    id: 'e_san_empty',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6',
    description: 'subjectAltName holds at least one name',
    appliesTo: (_cert, ctx) => ctx.san !== undefined,
    check: (_cert, ctx) => unless((ctx.san?.length ?? 0) > 0, 'subjectAltName is an empty sequence'),
  }),
  defineRule({
    id: 'e_san_dns_name_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6, RFC 1034 §3.5',
    description: 'dNSNames are in preferred name syntax; a wildcard is only the entire leftmost label',
    appliesTo: hasNames('dns'),
    check: (_cert, ctx) =>
      names(ctx, 'dns').flatMap((n) => {
        const p = dnsNameProblem(n.text, { wildcard: true });
        return p === undefined ? [] : [`DNS name "${n.text}" ${p}`];
      }),
  }),
  defineRule({
    id: 'w_san_dns_name_underscore',
    severity: 'warning',
    source: 'CA/B BR §7.1.4.2 (Ballot SC12), RFC 1034 §3.5',
    description: 'dNSNames should not contain underscores',
    appliesTo: hasNames('dns'),
    check: (_cert, ctx) => names(ctx, 'dns').filter((n) => n.text.includes('_')).map((n) => `DNS name "${n.text}" contains an underscore`),
  }),
  defineRule({
    id: 'w_san_dns_wildcard_over_tld',
    severity: 'warning',
    source: 'CA/B BR §3.2.2.6, RFC 6125 §7.2',
    description: 'a wildcard dNSName should not stand directly over a single label (a top-level domain)',
    appliesTo: hasNames('dns'),
    check: (_cert, ctx) =>
      names(ctx, 'dns')
        .filter((n) => n.text.startsWith('*.') && !n.text.slice(2).replace(/\.$/, '').includes('.'))
        .map((n) => `wildcard "${n.text}" covers every name under a top-level domain`),
  }),
  defineRule({
    id: 'e_san_ip_length_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6',
    description: 'iPAddress names are 4 (IPv4) or 16 (IPv6) octets',
    appliesTo: hasNames('ip'),
    check: (_cert, ctx) => names(ctx, 'ip').filter((n) => n.octets.length !== 4 && n.octets.length !== 16).map((n) => `IP address has ${n.octets.length} octets (4 or 16)`),
  }),
  defineRule({
    id: 'e_san_email_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6, RFC 5322 §3.4.1',
    description: 'rfc822Names are addr-specs: local-part@domain',
    appliesTo: hasNames('email'),
    check: (_cert, ctx) =>
      names(ctx, 'email').flatMap((n) => {
        const p = emailProblem(n.text);
        return p === undefined ? [] : [`e-mail address "${n.text}" ${p}`];
      }),
  }),
  defineRule({
    id: 'e_san_uri_invalid',
    severity: 'error',
    source: 'RFC 5280 §4.2.1.6, RFC 3986 §4.3',
    description: 'URIs are absolute, with a scheme and a scheme-specific part',
    appliesTo: hasNames('uri'),
    check: (_cert, ctx) =>
      names(ctx, 'uri').flatMap((n) => {
        const p = uriProblem(n.text);
        return p === undefined ? [] : [`URI "${n.text}" ${p}`];
      }),
  }),
  defineRule({
    id: 'w_subject_cn_not_in_san',
    severity: 'warning',
    source: 'CA/B BR §7.1.4.3',
    description: 'a common name in an end-entity certificate repeats one of its subjectAltNames',
    appliesTo: (cert, ctx) => !ctx.ca && ctx.san !== undefined && commonNames(cert).length > 0,
    check: (cert, ctx) => commonNames(cert).filter((cn) => !cnInSan(cn, ctx.san ?? [])).map((cn) => `common name "${cn}" is not one of the subjectAltNames`),
  }),
];
