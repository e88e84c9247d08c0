/**
 * The key type the authority checks against a provisioner's allowed key types: read from the
 * CSR's SPKI for EC keys (csrKeyType), it must name every key exactly as keyTypeName does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type KeyPairKeyObjectResult } from 'node:crypto';
import { generateKeyPairSync } from '../../src/crypto/generate.js';
import { csrKeyType } from '../../src/ca/authority.js';
import { keyTypeName } from '../../src/ca/config.js';
import { createSoftwareSigner } from '../../src/crypto/signer.js';
import { buildCsr, parseCsr } from '../../src/x509/csr.js';

const pairs: Record<string, KeyPairKeyObjectResult> = {
  'P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  'P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  'P-521': generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  secp256k1: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
  Ed25519: generateKeyPairSync('ed25519'),
  'RSA 2048': generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

test('csrKeyType names each key as keyTypeName does', () => {
  const expected: Record<string, string | undefined> = { 'P-256': 'EC P-256', 'P-384': 'EC P-384', 'P-521': 'EC P-521', secp256k1: undefined, Ed25519: 'Ed25519', 'RSA 2048': 'RSA 2048' };
  for (const [name, pair] of Object.entries(pairs)) {
    let csr;
    try {
      csr = parseCsr(buildCsr({ subject: [[{ type: 'CN', value: 'k.example.com' }]] }, createSoftwareSigner(pair.privateKey)));
    } catch {
      continue; // a key the CSR builder cannot sign with (secp256k1) has nothing to compare
    }
    assert.equal(csrKeyType(csr), keyTypeName(csr.publicKey), name);
    assert.equal(csrKeyType(csr), expected[name], name);
  }
});
