/**
 * Text from certificates, CSRs and TLS peers is written by strangers: `inspect` must never pass
 * a terminal escape sequence or a line break of theirs to the terminal. The subject with ESC and
 * a newline is made by OpenSSL (`req -subj` writes the bytes as given); SANs, AIA and policy
 * texts with control characters are built with the builder's raw GeneralNames and extensions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { readFileSync } from 'node:fs';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { issueCertificate } from '../../src/x509/certificate-builder.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { ia5String, oid, sequence, tlv, utf8String } from '../../src/x509/der.js';
import { rawGeneralName } from '../../src/x509/general-name.js';
import { parseInspectable, renderText, type InspectedObject, type TlsReport } from '../../src/x509/inspect.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

const tmp = tempDir();
process.on('exit', tmp.cleanup);

const EVIL_CN = 'evil\x1b[31mRED\x1b[0m\nFAKE: line';
const path = (n: string): string => `${tmp.dir}/${n}`;
opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('evil.key'), '-out', path('evil.crt'), '-days', '1', '-subj', `/CN=${EVIL_CN}`]);
opensslOk(['req', '-new', '-key', path('evil.key'), '-out', path('evil.csr'), '-subj', `/O=${EVIL_CN}`]);

const NOW = new Date();
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** A certificate whose SANs, AIA and policy texts carry control characters (C0, DEL, C1). */
function builtEvilCertificate(): Uint8Array {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const policies = sequence([
    sequence([
      oid('1.3.6.1.4.1.99999.1'),
      sequence([
        sequence([oid('1.3.6.1.5.5.7.2.1'), ia5String('https://cps.example\x1b]0;owned\x07/')]),
        sequence([oid('1.3.6.1.5.5.7.2.2'), sequence([utf8String('notice\r\nFAKE: policy\u009b2J')])]),
      ]),
    ]),
  ]);
  // uniformResourceIdentifier [6] IA5String, written raw (RFC 5280 §4.2.2.1 AccessDescription).
  const aia = sequence([sequence([oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, ascii('http://ocsp.example/\nFAKE: aia'))])]);
  return issueCertificate(
    {
      subject: [[{ type: 'CN', value: 'ok.example' }]],
      notBefore: new Date(NOW.getTime() - 3_600_000),
      notAfter: new Date(NOW.getTime() + 3_600_000),
      publicKey: key.publicKey,
      extensions: {
        subjectAltName: {
          names: [
            rawGeneralName(2, ascii('www.example\x1b[2J\x1b[H.com')),
            rawGeneralName(6, ascii('https://x.example/\nFAKE: uri\x7f')),
            rawGeneralName(1, ascii('a\rb@example.com')),
          ],
        },
        extra: [
          { oid: '1.3.6.1.5.5.7.1.1', value: aia },
          { oid: '2.5.29.32', value: policies },
        ],
      },
    },
    createSoftwareSigner(key.privateKey),
  );
}

/** No byte a terminal acts on, except the newlines that end lines; no line a stranger wrote. */
function assertInert(out: string, label: string): void {
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if (c === 0x0a) continue;
    assert.ok(c >= 0x20 && !(c >= 0x7f && c <= 0x9f), `${label}: control character 0x${c.toString(16)} at ${i}: ${JSON.stringify(out.slice(Math.max(0, i - 20), i + 20))}`);
  }
  for (const line of out.split('\n')) assert.doesNotMatch(line, /^\s*FAKE:/, `${label}: forged line ${JSON.stringify(line)}`);
}

test('a subject with ESC and a newline (made by OpenSSL) is shown escaped, in full and short text', () => {
  const objects = parseInspectable(readFileSync(path('evil.crt')));
  const cert = (objects[0] as Extract<InspectedObject, { kind: 'certificate' }>).certificate;
  assert.equal(cert.subject.rdns[0]?.[0]?.value, EVIL_CN, 'the parsed value keeps the raw bytes');
  assert.equal(cert.subject.text, 'CN=evil\\1B[31mRED\\1B[0m\\0AFAKE: line', 'RFC 4514 text uses hex pairs');
  const full = renderText(objects, { now: NOW });
  assertInert(full, 'full');
  assert.match(full, /^ {4}Subject: +CN=evil\\1B\[31mRED\\1B\[0m\\0AFAKE: line$/m);
  assertInert(renderText(objects, { now: NOW, short: true }), 'short');
});

test('a CSR subject with control characters is shown escaped', () => {
  const objects = parseInspectable(readFileSync(path('evil.csr')));
  const out = renderText(objects, { now: NOW });
  assertInert(out, 'csr');
  assert.match(out, /Subject: +O=evil\\1B\[31mRED/);
  assertInert(renderText(objects, { now: NOW, short: true }), 'csr short');
});

test('SANs, AIA URIs and policy texts with control characters are shown escaped', () => {
  const der = builtEvilCertificate();
  const cert = parseCertificate(der);
  const objects: InspectedObject[] = [{ kind: 'certificate', certificate: cert }];
  const full = renderText(objects, { now: NOW });
  assertInert(full, 'full');
  assert.match(full, /www\.example\\x1b\[2J\\x1b\[H\.com/);
  assert.match(full, /https:\/\/x\.example\/\\x0aFAKE: uri\\x7f/);
  assert.match(full, /a\\x0db@example\.com/);
  assert.match(full, /OCSP: +URI:http:\/\/ocsp\.example\/\\x0aFAKE: aia/);
  assert.match(full, /CPS: https:\/\/cps\.example\\x1b\]0;owned\\x07\//);
  assert.match(full, /User Notice: notice\\x0d\\x0aFAKE: policy\\x9b2J/);
  assertInert(renderText(objects, { now: NOW, short: true }), 'short');
});

test('TLS fields are escaped and an IPv6 peer is written [::1]:port', () => {
  const objects = parseInspectable(readFileSync(path('evil.crt')));
  const tls: TlsReport = { host: '::1', port: 18443, servername: 'sni\x1b[2J', protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256\nFAKE: cipher', alpn: 'h2\x07', verified: false };
  const out = renderText(objects, { now: NOW, tls });
  assert.equal(out.split('\n')[0], 'TLS server [::1]:18443');
  assertInert(out, 'tls');
  assert.match(out, /SNI: +sni\\x1b\[2J/);
  const v4 = renderText(objects, { now: NOW, tls: { ...tls, host: '127.0.0.1' } });
  assert.equal(v4.split('\n')[0], 'TLS server 127.0.0.1:18443');
});
