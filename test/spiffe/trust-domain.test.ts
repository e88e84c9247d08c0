/**
 * `signet ca init --trust-domain`: the issuing intermediate is an X509-SVID signing certificate of
 * the trust domain — it carries the URI SAN `spiffe://<trust domain>` — which Signet's linter (with
 * the SPIFFE rules), OpenSSL and python3-cryptography all read as such; a malformed trust domain
 * is refused before anything is created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fails, ok, signet } from '../helpers/cli.js';
import { opensslOk, tempDir } from '../helpers/openssl.js';

function init(dir: string, td: string | readonly string[], json = true): ReturnType<typeof signet> {
  writeFileSync(join(dir, 'pw.txt'), 'ca password\n', { mode: 0o600 });
  const tds = (typeof td === 'string' ? [td] : td).flatMap((t) => ['--trust-domain', t]);
  return signet(['ca', 'init', '--name', 'Workloads', '--dir', join(dir, 'ca'), '--pki-only', ...tds, '--password-file', join(dir, 'pw.txt'), '--root-key-out', join(dir, 'root.key'), ...(json ? ['--json'] : [])]);
}

test('ca init --trust-domain: the intermediate carries spiffe://<trust domain>, lints clean with the SPIFFE rules, and OpenSSL and python3-cryptography read it', () => {
  const tmp = tempDir('signet-spiffe-td-');
  try {
    const r = JSON.parse(ok(init(tmp.dir, 'spiffe://prod.example.org')).stdout) as { trustDomains: string[]; intermediate: { certificate: string } };
    assert.deepEqual(r.trustDomains, ['prod.example.org']);
    const int = join(tmp.dir, 'ca', 'certs', 'intermediate.crt');
    const shown = JSON.parse(ok(signet(['certificate', 'inspect', int, '--json'])).stdout) as { extensions?: unknown };
    assert.match(JSON.stringify(shown), /spiffe:\/\/prod\.example\.org/);
    ok(signet(['certificate', 'lint', int]));
    opensslOk(['verify', '-CAfile', join(tmp.dir, 'ca', 'certs', 'root.crt'), int]);
    const text = opensslOk(['x509', '-in', int, '-noout', '-ext', 'subjectAltName']);
    assert.match(text, /URI:spiffe:\/\/prod\.example\.org/);
    const py = spawnSync(
      '/usr/bin/python3',
      ['-c', 'import sys\nfrom cryptography import x509\nc = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())\nsan = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value\nprint(",".join(san.get_values_for_type(x509.UniformResourceIdentifier)), c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)', int],
      { encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), 'spiffe://prod.example.org True');
  } finally {
    tmp.cleanup();
  }
});

test('ca init refuses a trust domain that is not one (ERR_SPIFFE_ID_INVALID, exit 3), one given twice or more than 16 (ERR_USAGE), and creates nothing', () => {
  const tmp = tempDir('signet-spiffe-td-bad-');
  try {
    for (const td of ['Prod.example.org', 'example.org:443', 'spiffe://example.org/path/x/../..', 'https://example.org']) {
      fails(init(tmp.dir, td, false), 3, 'ERR_SPIFFE_ID_INVALID');
    }
    fails(init(tmp.dir, ['a.example.org', 'spiffe://a.example.org'], false), 2, 'ERR_USAGE');
    fails(init(tmp.dir, Array.from({ length: 17 }, (_, i) => `td${i}.example.org`), false), 2, 'ERR_USAGE');
    assert.ok(!existsSync(join(tmp.dir, 'ca')));
    assert.ok(!existsSync(join(tmp.dir, 'root.key')));
  } finally {
    tmp.cleanup();
  }
});
