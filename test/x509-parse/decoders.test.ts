/**
 * The parser's hand-written decoders (certificate-decoders.ts) against the @peculiar/asn1-schema
 * decoding they replace, on extension values OpenSSL writes and on thousands of mutations of them:
 *
 * - strict decoders (basicConstraints, extKeyUsage, SKI, AKI): whatever they accept, @peculiar
 *   accepts with the same result, so everything @peculiar rejected is still reported; the
 *   malformed values @peculiar let through (trailing bytes, negative pathLen, …) are now too;
 * - keyUsage: exactly the values the parser accepted before;
 * - fast paths (CRL DP, AIA, policies, Names, GeneralNames, OIDs): whatever they return equals
 *   what the general decoder returns, and the plain values CAs write do take the fast path.
 *
 * Also: the lazily imported public key and its KeyObject hint, and parseTbsCertificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, type KeyObject } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  CertificatePolicies,
  ExtendedKeyUsage,
  KeyUsage,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { isSignetError } from '../../src/core/errors.js';
import { decodePem } from '../../src/core/pem.js';
import { KEY_USAGE_BITS, parseCertificate, parseTbsCertificate, type Certificate, type KeyUsageName } from '../../src/x509/certificate.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectKeyIdentifier,
  fastAuthorityInfoAccess,
  fastCertificatePolicies,
  fastCrlDistributionPoints,
  fastGeneralNames,
  fastName,
  oidText,
} from '../../src/x509/certificate-decoders.js';
import { decodeGeneralNames, decodeName, decodeOid } from '../../src/x509/decode-names.js';
import { children, readSingle } from '../../src/x509/der-reader.js';
import { explicit, ia5String, integer, octetString, oid, printableString, sequence, setOf, tlv, utf8String } from '../../src/x509/der.js';
import { OID } from '../../src/x509/oids.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);

// ---- a corpus of extension values and Names written by OpenSSL ---------------------------------

const CONFIG = `
[req]
distinguished_name = dn
[dn]
[rich]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement,keyCertSign,cRLSign,encipherOnly,decipherOnly
extendedKeyUsage = serverAuth,clientAuth,codeSigning,emailProtection,timeStamping,OCSPSigning,1.2.3.4.5,2.999.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
subjectAltName = DNS:a.example,IP:10.0.0.1,email:ops@example.com,URI:https://x.example/p,dirName:dir_sect,RID:1.2.3.4,otherName:1.2.3.4;UTF8:hello
certificatePolicies = 1.2.3.4,@pol_sect
crlDistributionPoints = URI:http://crl.example/a.crl,URI:ldap://ldap.example/cn=x,dirName:dir_sect
authorityInfoAccess = OCSP;URI:http://ocsp.example,caIssuers;URI:http://ca.example/ca.crt,caIssuers;email:ca@example.com,1.2.3.4;URI:http://other.example
[plain]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.com,DNS:*.example.com,URI:spiffe://example.org/ns/a
certificatePolicies = 2.23.140.1.2.1
crlDistributionPoints = URI:http://crl.example.com/issuing.crl
authorityInfoAccess = OCSP;URI:http://ocsp.example.com/,caIssuers;URI:http://ca.example.com/issuing.crt
[pol_sect]
policyIdentifier = 1.3.6.1.4.1.99999.1
CPS.1 = "http://cps.example/"
userNotice.1 = @notice
[notice]
explicitText = "a notice"
[dir_sect]
C = DE
O = Dir Org
CN = dir name
`;

function opensslCert(section: string, subject: string, keyArgs: readonly string[]): Certificate {
  const cfg = tmp.path('ext.cnf');
  writeFileSync(cfg, CONFIG);
  const out = tmp.path(`${section}.pem`);
  opensslOk(['req', '-x509', ...keyArgs, '-nodes', '-keyout', tmp.path(`${section}.key`), '-out', out, '-days', '2', '-subj', subject, '-multivalue-rdn', '-utf8', '-config', cfg, '-extensions', section]);
  return parseCertificate(decodePem(readFileSync(out, 'utf8'), ['CERTIFICATE']).der);
}

const RICH = opensslCert('rich', '/C=US/O=Ex, Org+OU=Team/CN=\\#lead/emailAddress=a@b.example/CN=Grüße/L= x ', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
const PLAIN = opensslCert('plain', '/C=DE/O=Example/CN=www.example.com', ['-newkey', 'ed25519']);

function value(cert: Certificate, extOid: string): Uint8Array {
  const e = cert.extensions.find((x) => x.oid === extOid);
  assert.ok(e, `openssl wrote extension ${extOid}`);
  return e.value;
}

// ---- the decoding the parser did before, with @peculiar (the oracle) ----------------------------

type Decoded = unknown;

/** What parseCertificate decoded for `extOid` before the hand-written decoders (throws = reported). */
function oldDecode(extOid: string, v: Uint8Array): Decoded {
  switch (extOid) {
    case OID.basicConstraints: {
      const bc = AsnConvert.parse(v, BasicConstraints);
      return bc.pathLenConstraint === undefined ? { ca: bc.cA } : { ca: bc.cA, pathLenConstraint: bc.pathLenConstraint };
    }
    case OID.keyUsage: {
      const bs = readSingle(v, 'ERR_CERT_MALFORMED');
      if (bs.tag !== 0x03 || bs.content.length === 0) throw new Error('key usage is not a bit string');
      const unused = bs.content[0] as number;
      const bits = bs.content.subarray(1);
      const usages: KeyUsageName[] = [];
      KEY_USAGE_BITS.forEach((name, i) => {
        if (i >> 3 < bits.length && (bits[i >> 3] as number) & (0x80 >> (i & 7))) usages.push(name);
      });
      const last = bits.length > 0 ? (bits[bits.length - 1] as number) : 0;
      void AsnConvert.parse(v, KeyUsage);
      return { usages, unusedBitsSet: unused > 0 && (last & ((1 << unused) - 1)) !== 0 };
    }
    case OID.extKeyUsage:
      return [...AsnConvert.parse(v, ExtendedKeyUsage)];
    case OID.subjectKeyIdentifier:
      return new Uint8Array(AsnConvert.parse(v, SubjectKeyIdentifier).buffer);
    case OID.authorityKeyIdentifier: {
      const aki = AsnConvert.parse(v, AuthorityKeyIdentifier);
      return {
        ...(aki.keyIdentifier ? { keyIdentifier: new Uint8Array(aki.keyIdentifier.buffer) } : {}),
        hasIssuerAndSerial: aki.authorityCertIssuer !== undefined || aki.authorityCertSerialNumber !== undefined,
      };
    }
    case OID.cRLDistributionPoints:
      return [...AsnConvert.parse(v, CRLDistributionPoints)].flatMap((dp) => (dp.distributionPoint?.fullName ?? []).flatMap((gn) => (gn.uniformResourceIdentifier ? [gn.uniformResourceIdentifier] : [])));
    case OID.authorityInfoAccess: {
      const r = { ocsp: [] as string[], caIssuers: [] as string[], other: [] as string[] };
      for (const ad of AsnConvert.parse(v, AuthorityInfoAccessSyntax)) {
        const uri = ad.accessLocation.uniformResourceIdentifier;
        if (ad.accessMethod === OID.ocsp && uri) r.ocsp.push(uri);
        else if (ad.accessMethod === OID.caIssuers && uri) r.caIssuers.push(uri);
        else r.other.push(ad.accessMethod);
      }
      return r;
    }
    case OID.certificatePolicies:
      return [...AsnConvert.parse(v, CertificatePolicies)].map((p) => p.policyIdentifier);
    default:
      throw new Error(`no oracle for ${extOid}`);
  }
}

function attempt(f: () => Decoded): { ok: true; value: Decoded } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

const STRICT: ReadonlyArray<[string, (v: Uint8Array) => Decoded]> = [
  [OID.basicConstraints, decodeBasicConstraints],
  [OID.extKeyUsage, decodeExtKeyUsage],
  [OID.subjectKeyIdentifier, decodeSubjectKeyIdentifier],
  [OID.authorityKeyIdentifier, decodeAuthorityKeyIdentifier],
];

const FAST: ReadonlyArray<[string, (v: Uint8Array) => Decoded]> = [
  [OID.cRLDistributionPoints, fastCrlDistributionPoints],
  [OID.authorityInfoAccess, fastAuthorityInfoAccess],
  [OID.certificatePolicies, fastCertificatePolicies],
];

// ---- mutations -----------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so that a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0x86, 0xa0, 0xa1, 0xa2, 0xff];

/** Truncations, extensions, every byte replaced by interesting values, and random multi-byte edits. */
function mutations(v: Uint8Array, seed: number, random = 300): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < v.length; i++) out.push(v.subarray(0, i));
  for (const b of [0x00, 0x05, 0x30]) out.push(Uint8Array.from([...v, b]), Uint8Array.from([...v, b, 0x00]));
  for (let i = 0; i < v.length; i++) {
    for (const b of INTERESTING) {
      if (b === v[i]) continue;
      const m = Uint8Array.from(v);
      m[i] = b;
      out.push(m);
    }
  }
  const r = prng(seed);
  for (let k = 0; k < random; k++) {
    const m = [...v];
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (m.length + 1));
      const op = r();
      const byte = r() < 0.6 ? (INTERESTING[Math.floor(r() * INTERESTING.length)] as number) : Math.floor(r() * 256);
      if (op < 0.4) m[at] = byte;
      else if (op < 0.7) m.splice(at, 0, byte);
      else m.splice(at, 1);
    }
    out.push(Uint8Array.from(m));
  }
  return out;
}

// ---- strict decoders ------------------------------------------------------------------------------

for (const [extOid, decode] of STRICT) {
  test(`strict decoder ${extOid}: OpenSSL's values decode as before`, () => {
    for (const cert of [RICH, PLAIN]) {
      const v = value(cert, extOid);
      assert.deepEqual(decode(v), oldDecode(extOid, v));
    }
  });

  test(`strict decoder ${extOid}: accepts only what @peculiar accepted, with the same result`, () => {
    let accepted = 0;
    let rejected = 0;
    let newlyRejected = 0;
    for (const cert of [RICH, PLAIN]) {
      for (const m of mutations(value(cert, extOid), extOid.length * 7919)) {
        const mine = attempt(() => decode(m));
        const old = attempt(() => oldDecode(extOid, m));
        if (mine.ok) {
          accepted++;
          assert.ok(old.ok, `${Buffer.from(m).toString('hex')} is accepted now but @peculiar rejected it`);
          assert.deepEqual(mine.value, old.value, Buffer.from(m).toString('hex'));
        } else {
          rejected++;
          assert.ok(isSignetError(mine.error, 'ERR_CERT_MALFORMED'), 'a rejection is ERR_CERT_MALFORMED');
          if (old.ok) newlyRejected++;
        }
      }
    }
    assert.ok(accepted > 0 && rejected > 0, `the mutations exercise both outcomes (${accepted} accepted, ${rejected} rejected, ${newlyRejected} newly rejected)`);
  });
}

test('keyUsage: every short BIT STRING decodes exactly as before', () => {
  const values: Uint8Array[] = [Uint8Array.of(0x03, 0x00), Uint8Array.of(0x04, 0x02, 0x07, 0x80), Uint8Array.of(0x23, 0x04, 0x03, 0x02, 0x07, 0x80)];
  for (let u = 0; u < 256; u++) {
    values.push(Uint8Array.of(0x03, 0x01, u));
    for (let b = 0; b < 256; b++) values.push(Uint8Array.of(0x03, 0x02, u, b));
  }
  const r = prng(15);
  for (let k = 0; k < 3000; k++) values.push(Uint8Array.of(0x03, 0x03, Math.floor(r() * 9), Math.floor(r() * 256), Math.floor(r() * 256)));
  for (const cert of [RICH, PLAIN]) values.push(...mutations(value(cert, OID.keyUsage), 31));
  for (const v of values) {
    const mine = attempt(() => decodeKeyUsage(v));
    const old = attempt(() => oldDecode(OID.keyUsage, v));
    assert.equal(mine.ok, old.ok, Buffer.from(v).toString('hex'));
    if (mine.ok && old.ok) assert.deepEqual(mine.value, old.value, Buffer.from(v).toString('hex'));
  }
});

/** Malformed values, each reported by the parser; the comment says when @peculiar let it through. */
const MALFORMED: ReadonlyArray<[string, string, Uint8Array]> = [
  ['basicConstraints', 'truncated', Uint8Array.of(0x30, 0x03, 0x01, 0x01)],
  ['basicConstraints', 'wrong tag', Uint8Array.of(0x31, 0x03, 0x01, 0x01, 0xff)],
  ['basicConstraints', 'trailing bytes (@peculiar accepted)', Uint8Array.of(0x30, 0x00, 0x00)],
  ['basicConstraints', 'negative pathLenConstraint (@peculiar accepted -1)', Uint8Array.of(0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0xff)],
  ['basicConstraints', 'non-minimal pathLenConstraint (@peculiar accepted)', Uint8Array.of(0x30, 0x07, 0x01, 0x01, 0xff, 0x02, 0x02, 0x00, 0x01)],
  ['basicConstraints', 'fields out of order (@peculiar accepted)', Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x01, 0x01, 0x01, 0xff)],
  ['basicConstraints', 'a field too many (@peculiar accepted)', Uint8Array.of(0x30, 0x05, 0x01, 0x01, 0xff, 0x05, 0x00)],
  ['basicConstraints', 'two-octet BOOLEAN', Uint8Array.of(0x30, 0x04, 0x01, 0x02, 0xff, 0xff)],
  ['basicConstraints', 'empty pathLenConstraint', Uint8Array.of(0x30, 0x05, 0x01, 0x01, 0xff, 0x02, 0x00)],
  ['basicConstraints', 'indefinite length (@peculiar accepted)', Uint8Array.of(0x30, 0x80, 0x01, 0x01, 0xff, 0x00, 0x00)],
  ['keyUsage', 'more than 7 unused bits', Uint8Array.of(0x03, 0x02, 0x08, 0x80)],
  ['keyUsage', 'empty BIT STRING', Uint8Array.of(0x03, 0x00)],
  ['keyUsage', 'wrong tag', Uint8Array.of(0x04, 0x02, 0x07, 0x80)],
  ['extKeyUsage', 'empty (@peculiar accepted)', Uint8Array.of(0x30, 0x00)],
  ['extKeyUsage', 'an OCTET STRING as purpose (@peculiar accepted "[object Object]")', Uint8Array.of(0x30, 0x05, 0x04, 0x03, 0x2b, 0x06, 0x01)],
  ['extKeyUsage', 'non-minimal OID (@peculiar accepted)', Uint8Array.of(0x30, 0x06, 0x06, 0x04, 0x2b, 0x06, 0x80, 0x01)],
  ['extKeyUsage', 'truncated OID', Uint8Array.of(0x30, 0x05, 0x06, 0x03, 0x2b, 0x06, 0x81)],
  ['subjectKeyIdentifier', 'trailing bytes (@peculiar accepted)', Uint8Array.of(0x04, 0x01, 0xaa, 0x00)],
  ['subjectKeyIdentifier', 'constructed OCTET STRING (@peculiar accepted as empty)', Uint8Array.of(0x24, 0x03, 0x04, 0x01, 0xaa)],
  ['subjectKeyIdentifier', 'wrong tag', Uint8Array.of(0x03, 0x02, 0x00, 0xaa)],
  ['authorityKeyIdentifier', 'unknown field', Uint8Array.of(0x30, 0x03, 0x83, 0x01, 0xaa)],
  ['authorityKeyIdentifier', 'fields out of order (@peculiar accepted)', Uint8Array.of(0x30, 0x06, 0x82, 0x01, 0x01, 0x80, 0x01, 0xaa)],
  ['authorityKeyIdentifier', 'empty serial number (@peculiar accepted)', Uint8Array.of(0x30, 0x05, 0x80, 0x01, 0xaa, 0x82, 0x00)],
  ['authorityKeyIdentifier', 'trailing bytes (@peculiar accepted)', Uint8Array.of(0x30, 0x03, 0x80, 0x01, 0xaa, 0x00)],
];

const OID_OF: Readonly<Record<string, string>> = {
  basicConstraints: OID.basicConstraints,
  keyUsage: OID.keyUsage,
  extKeyUsage: OID.extKeyUsage,
  subjectKeyIdentifier: OID.subjectKeyIdentifier,
  authorityKeyIdentifier: OID.authorityKeyIdentifier,
};

/** The TBS of `cert` with its extensions replaced by `extensions` (complete Extension TLVs). */
function tbsWithExtensions(cert: Certificate, extensions: readonly Uint8Array[]): Uint8Array {
  const fields = children(readSingle(cert.tbs));
  const kept = fields.filter((f) => f.tag !== 0xa3).map((f) => f.bytes);
  return tlv(0x30, Buffer.concat([...kept, explicit(3, sequence([...extensions]))]));
}

test('malformed values of the hand-decoded extensions are reported by the parser and the linter', async () => {
  const { lintCertificate } = await import('../../src/x509/lint/index.js');
  for (const [name, why, v] of MALFORMED) {
    const extOid = OID_OF[name] as string;
    const decoder = extOid === OID.keyUsage ? decodeKeyUsage : (STRICT.find(([o]) => o === extOid)?.[1] as (v: Uint8Array) => Decoded);
    assert.throws(() => decoder(v), (e) => isSignetError(e, 'ERR_CERT_MALFORMED'), `${name}: ${why}`);
    const parsed = parseTbsCertificate(tbsWithExtensions(PLAIN, [sequence([oid(extOid), octetString(v)])]));
    assert.ok(parsed.extensionErrors.has(extOid), `${name}: ${why} is in extensionErrors`);
    const report = lintCertificate(parsed, { now: new Date() });
    assert.ok(report.findings.some((f) => f.rule === 'e_extension_undecodable' && f.message.includes(extOid)), `${name}: ${why} is a lint error`);
  }
});

// ---- fast paths with @peculiar fallback -----------------------------------------------------------

for (const [extOid, fast] of FAST) {
  test(`fast path ${extOid}: whatever it decodes, @peculiar decodes the same`, () => {
    const plain = value(PLAIN, extOid);
    assert.notEqual(fast(plain), undefined, 'the plain value CAs write takes the fast path');
    assert.deepEqual(fast(plain), oldDecode(extOid, plain));
    let taken = 0;
    for (const cert of [RICH, PLAIN]) {
      for (const m of [value(cert, extOid), ...mutations(value(cert, extOid), extOid.length * 104729)]) {
        const mine = fast(m);
        if (mine === undefined) continue;
        taken++;
        const old = attempt(() => oldDecode(extOid, m));
        assert.ok(old.ok, `${Buffer.from(m).toString('hex')} takes the fast path but @peculiar rejects it`);
        assert.deepEqual(mine, old.value, Buffer.from(m).toString('hex'));
      }
    }
    assert.ok(taken > 1, 'some mutations take the fast path');
  });

  test(`fast path ${extOid}: the parser's result is unchanged for values it leaves to @peculiar`, () => {
    const rich = value(RICH, extOid);
    assert.equal(fast(rich), undefined, 'qualifiers, directory names or e-mail locations are left to @peculiar');
    const parsed = parseTbsCertificate(tbsWithExtensions(PLAIN, [sequence([oid(extOid), octetString(rich)])]));
    const key = extOid === OID.cRLDistributionPoints ? 'crlDistributionPoints' : extOid === OID.authorityInfoAccess ? 'authorityInfoAccess' : 'certificatePolicies';
    assert.deepEqual(parsed.ext[key], oldDecode(extOid, rich));
  });
}

// ---- Names, GeneralNames, OIDs ---------------------------------------------------------------------

function bmpString(s: string): Uint8Array {
  return tlv(0x1e, Buffer.from(s, 'utf16le').swap16());
}

function nameOf(rdns: ReadonlyArray<ReadonlyArray<[string, Uint8Array]>>): Uint8Array {
  return sequence(rdns.map((rdn) => setOf(rdn.map(([t, v]) => sequence([oid(t), v])))));
}

const NAMES: Uint8Array[] = [
  RICH.subject.der,
  RICH.issuer.der,
  PLAIN.subject.der,
  sequence([]),
  nameOf([[[OID.commonName, utf8String('plain name')]]]),
  nameOf([[[OID.commonName, utf8String('a,b')]], [[OID.organizationName, printableString('x+y')]]]),
  nameOf([[[OID.commonName, utf8String(' lead')]], [[OID.commonName, utf8String('trail ')]], [[OID.commonName, utf8String('#hash')]]]),
  nameOf([[[OID.commonName, utf8String('quote"<>;=\\')]]]),
  nameOf([[[OID.commonName, utf8String('Grüße')]], [[OID.commonName, bmpString('bmp')]]]),
  nameOf([[[OID.emailAddress, ia5String('a@b.example')]], [[OID.countryName, printableString('DE')], [OID.organizationName, utf8String('multi')]]]),
  nameOf([[[OID.commonName, utf8String('')]]]),
  nameOf([[['2.999.123456789012', utf8String('big arc')]]]),
  nameOf([[[OID.commonName, integer(5)]]]),
  nameOf([[[OID.commonName, tlv(0x0c, Uint8Array.of(0xff, 0xfe))]]]),
  nameOf([[[OID.commonName, tlv(0x14, Uint8Array.of(0x41, 0xe9))]]]),
];

test('fast Names equal decode-names.ts Names, and plain ones take the fast path', () => {
  assert.notEqual(fastName(PLAIN.subject.der), undefined);
  assert.notEqual(fastName(nameOf([[[OID.commonName, utf8String('plain name')]]])), undefined);
  let taken = 0;
  NAMES.forEach((n, i) => {
    for (const m of [n, ...mutations(n, 1000 + i, 100)]) {
      const mine = fastName(m);
      if (mine === undefined) continue;
      taken++;
      const old = attempt(() => decodeName(m));
      assert.ok(old.ok, `${Buffer.from(m).toString('hex')} takes the fast path but decodeName rejects it`);
      assert.deepEqual(mine, old.value, Buffer.from(m).toString('hex'));
    }
  });
  assert.ok(taken > NAMES.length);
});

test('fast GeneralNames equal decode-names.ts GeneralNames, and plain ones take the fast path', () => {
  const sans = [value(RICH, OID.subjectAltName), value(PLAIN, OID.subjectAltName), sequence([]), sequence([tlv(0x82, Buffer.from('has space.example'))]), sequence([tlv(0x82, Uint8Array.of(0x61, 0xe9))])];
  assert.notEqual(fastGeneralNames(value(PLAIN, OID.subjectAltName)), undefined);
  sans.forEach((s, i) => {
    for (const m of [s, ...mutations(s, 2000 + i, 200)]) {
      const mine = fastGeneralNames(m);
      if (mine === undefined) continue;
      const old = attempt(() => decodeGeneralNames(m));
      assert.ok(old.ok, `${Buffer.from(m).toString('hex')} takes the fast path but decodeGeneralNames rejects it`);
      assert.deepEqual(mine, old.value, Buffer.from(m).toString('hex'));
    }
  });
});

test('oidText agrees with decodeOid, large arcs and malformed encodings included', () => {
  const oids = ['1.2.3', '0.9.2342.19200300.100.1.25', '2.5.4.3', '2.999', '2.999.1', '1.39.4', '2.47', `1.2.${2 ** 28 - 1}`, `1.2.${2 ** 28}`, `1.2.${2 ** 53 + 1}`, '1.2.340282366920938463463374607431768211457', '1.3.6.1.4.1.311.21.20'];
  const contents = oids.map((o) => oid(o).subarray(2));
  contents.push(new Uint8Array(0), Uint8Array.of(0x80, 0x01), Uint8Array.of(0x2a, 0x80, 0x01), Uint8Array.of(0x2a, 0x86), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x7f));
  const r = prng(7);
  for (let k = 0; k < 5000; k++) contents.push(Uint8Array.from({ length: 1 + Math.floor(r() * 10) }, () => (r() < 0.5 ? 0x80 | Math.floor(r() * 128) : Math.floor(r() * 128))));
  for (const c of contents) {
    const mine = attempt(() => oidText(c));
    const old = attempt(() => decodeOid(c, 'ERR_CERT_MALFORMED'));
    assert.equal(mine.ok, old.ok, Buffer.from(c).toString('hex'));
    if (mine.ok && old.ok) assert.equal(mine.value, old.value);
    else assert.ok(isSignetError(mine.ok ? undefined : mine.error, 'ERR_CERT_MALFORMED'));
  }
});

// ---- the public key, the fingerprint, parseTbsCertificate -----------------------------------------

const KEYS: ReadonlyArray<[string, () => { publicKey: KeyObject; privateKey: KeyObject }]> = [
  ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
  ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' })],
  ['P-521', () => generateKeyPairSync('ec', { namedCurve: 'secp521r1' })],
  ['Ed25519', () => generateKeyPairSync('ed25519')],
  ['Ed448', () => generateKeyPairSync('ed448')],
  ['X25519', () => generateKeyPairSync('x25519')],
  ['X448', () => generateKeyPairSync('x448')],
  ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
];

/** PLAIN's TBS with `spki` as its subjectPublicKeyInfo. */
function tbsWithSpki(spki: Uint8Array): Uint8Array {
  const fields = children(readSingle(PLAIN.tbs));
  const out = fields.map((f, i) => (i === 6 ? spki : f.bytes));
  return tlv(0x30, Buffer.concat(out));
}

test('the public key is imported on first use; a matching KeyObject hint is used instead, never a different key', () => {
  for (const [name, generate] of KEYS) {
    const { publicKey, privateKey } = generate();
    const other = generate().publicKey;
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const tbs = tbsWithSpki(spki);
    const plain = parseTbsCertificate(tbs);
    assert.ok(plain.publicKey?.equals(publicKey), `${name}: imported`);
    assert.equal(plain.publicKey, plain.publicKey, `${name}: imported once`);
    assert.equal(parseTbsCertificate(tbs, { publicKey }).publicKey, publicKey, `${name}: the hint is the key`);
    const wrong = parseTbsCertificate(tbs, { publicKey: other }).publicKey;
    assert.ok(wrong && wrong !== other && wrong.equals(publicKey), `${name}: another key is not taken`);
    const priv = parseTbsCertificate(tbs, { publicKey: privateKey }).publicKey;
    assert.ok(priv && priv !== privateKey && priv.equals(publicKey), `${name}: a private key is not taken`);
  }
  // A SPKI node cannot import stays undefined, hint or not.
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
  const bad = new Uint8Array(p256.export({ format: 'der', type: 'spki' }));
  bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
  assert.equal(parseTbsCertificate(tbsWithSpki(bad)).publicKey, undefined);
  assert.equal(parseTbsCertificate(tbsWithSpki(bad), { publicKey: p256 }).publicKey, undefined);
});

test('parseTbsCertificate gives the model of the signed certificate, with an empty signature', () => {
  for (const cert of [RICH, PLAIN]) {
    const t = parseTbsCertificate(cert.tbs);
    for (const k of ['version', 'serialHex', 'tbsSignatureAlgorithm', 'notBefore', 'notAfter', 'notBeforeText', 'hasIssuerUniqueId', 'duplicateExtensions', 'ext', 'extensionErrors', 'extensions'] as const) {
      assert.deepEqual(t[k], cert[k], k);
    }
    assert.deepEqual(t.issuer, cert.issuer);
    assert.deepEqual(t.subject, cert.subject);
    assert.deepEqual(t.tbs, cert.tbs);
    assert.deepEqual(t.spki, cert.spki);
    assert.deepEqual(t.signatureAlgorithm, cert.tbsSignatureAlgorithm);
    assert.equal(t.signatureValue.length, 0);
    // `der` is the TBS wrapped as an unsigned certificate; the fingerprint is of that.
    const wrapped = readSingle(t.der);
    const [tbsPart, algPart, sigPart] = children(wrapped);
    assert.deepEqual(tbsPart?.bytes, cert.tbs);
    assert.deepEqual(algPart?.bytes, children(readSingle(cert.der))[1]?.bytes);
    assert.deepEqual(sigPart?.bytes, Uint8Array.of(0x03, 0x01, 0x00));
    assert.equal(t.fingerprintSha256, createHash('sha256').update(t.der).digest('hex'));
    assert.equal(cert.fingerprintSha256, createHash('sha256').update(cert.der).digest('hex'));
    assert.ok(t.publicKey?.equals(cert.publicKey as KeyObject));
  }
});

test('the issuer Name of consecutive certificates is decoded once and cannot be changed', () => {
  const a = parseCertificate(RICH.der);
  const b = parseTbsCertificate(RICH.tbs);
  assert.equal(a.issuer, b.issuer);
  assert.deepEqual(a.issuer, decodeName(children(readSingle(RICH.tbs))[3]?.bytes as Uint8Array));
  assert.ok(Object.isFrozen(a.issuer) && Object.isFrozen(a.issuer.rdns) && Object.isFrozen(a.issuer.rdns[0]?.[0]));
});
