/**
 * An operator's device CA made with OpenSSL, and a node certificate from it (CN node-1, DNS
 * node-1.example.org): what x509pop node attestation is configured with and presented.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { decodePem } from '../../src/core/pem.js';
import { opensslOk } from './openssl.js';

export interface DeviceCa {
  readonly caPem: string;
  readonly nodeDer: Uint8Array;
  readonly nodeKey: KeyObject;
  /** The files, `${dir}/${name}-ca.pem`, `-node.pem`, `-node.key` (0600). */
  readonly caFile: string;
  readonly nodeFile: string;
  readonly nodeKeyFile: string;
}

/** Issues a node certificate (CN `cn`, DNS `cn`.example.org) from the device CA whose files are `p('ca.pem')`, `p('ca.key')`: `p(base + '.pem')` and its key `p(base + '.key')` (0600). */
function issueNode(p: (f: string) => string, base: string, cn: string): void {
  opensslOk(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p(`${base}.key`), '-out', p(`${base}.csr`), '-subj', `/CN=${cn}`]);
  writeFileSync(p(`${base}.cnf`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:${cn}.example.org\n`);
  opensslOk(['x509', '-req', '-in', p(`${base}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${base}.pem`), '-days', '10', '-extfile', p(`${base}.cnf`)]);
  chmodSync(p(`${base}.key`), 0o600);
}

/** Another node certificate from the device CA `name` made in `dir`, for common name `cn`: its files `${dir}/${name}-${cn}.pem` and `.key` (0600). */
export function deviceNode(dir: string, name: string, cn: string): { readonly certFile: string; readonly keyFile: string } {
  const p = (f: string) => `${dir}/${name}-${f}`;
  issueNode(p, cn, cn);
  return { certFile: p(`${cn}.pem`), keyFile: p(`${cn}.key`) };
}

export function deviceCa(dir: string, name: string): DeviceCa {
  const p = (f: string) => `${dir}/${name}-${f}`;
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-subj', `/CN=${name} Device CA`, '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  issueNode(p, 'node', 'node-1');
  return {
    caPem: readFileSync(p('ca.pem'), 'utf8'),
    nodeDer: decodePem(readFileSync(p('node.pem'), 'utf8'), ['CERTIFICATE']).der,
    nodeKey: createPrivateKey(readFileSync(p('node.key'))),
    caFile: p('ca.pem'),
    nodeFile: p('node.pem'),
    nodeKeyFile: p('node.key'),
  };
}
