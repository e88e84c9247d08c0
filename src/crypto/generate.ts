/**
 * Key generation that cannot deadlock the process. The only module that may call node:crypto's
 * `generateKeyPair`/`generateKeyPairSync` (eslint's no-restricted-imports keeps it so).
 *
 * Node 20 (seen on 20.20.2) can hang for ever: exporting a key as JWK holds the key's mutex while
 * it builds the JavaScript object, and a garbage collection in the middle may finalize the
 * key-generation job that made the key — whose destructor takes the same mutex. A loop of
 * `generateKeyPairSync('ec', …)` and `.export({ format: 'jwk' })` hangs within seconds here
 * (the main thread parked in `~KeyGenJob` under `ExportJWKEcKey`; the CI run of 2026-11-24 hung
 * so in the SSH codec test). A key re-imported from its DER encoding has a mutex of its own, so
 * the keys handed out here are re-imported: the generation job's key is used for that one DER
 * export and then only dropped. It costs well under a millisecond for P-256, next to the
 * generation itself (RSA generation dwarfs it).
 */
import { promisify } from 'node:util';
import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, generateKeyPairSync as nodeGenerateKeyPairSync, KeyObject } from 'node:crypto';

/** A freshly generated key pair, detached from its generation job. */
function detach<T>(pair: T): T {
  const p = pair as { privateKey?: unknown; publicKey?: unknown };
  // With publicKeyEncoding/privateKeyEncoding the caller gets strings or buffers, no KeyObject.
  if (!(p.privateKey instanceof KeyObject) || !(p.publicKey instanceof KeyObject)) return pair;
  const privateKey = createPrivateKey({ key: p.privateKey.export({ format: 'der', type: 'pkcs8' }), format: 'der', type: 'pkcs8' });
  // Its own import too (not createPublicKey(privateKey), which would share the private key's mutex).
  const publicKey = createPublicKey({ key: p.publicKey.export({ format: 'der', type: 'spki' }), format: 'der', type: 'spki' });
  return { ...p, privateKey, publicKey } as T;
}

/** node:crypto's `generateKeyPairSync`, with the keys detached from the generation job (see the module comment). */
export const generateKeyPairSync: typeof nodeGenerateKeyPairSync = ((type: never, options: never) => detach(nodeGenerateKeyPairSync(type, options))) as typeof nodeGenerateKeyPairSync;

/** node:crypto's callback `generateKeyPair`, likewise. */
export const generateKeyPair: typeof nodeGenerateKeyPair = ((type: never, options: never, callback: (err: Error | null, publicKey: unknown, privateKey: unknown) => void) => {
  nodeGenerateKeyPair(type, options, (err: Error | null, publicKey: unknown, privateKey: unknown) => {
    if (err !== null) {
      callback(err, undefined, undefined);
      return;
    }
    let pair: { publicKey: unknown; privateKey: unknown };
    try {
      pair = detach({ publicKey, privateKey });
    } catch (e) {
      callback(e as Error, undefined, undefined);
      return;
    }
    callback(null, pair.publicKey, pair.privateKey);
  });
}) as typeof nodeGenerateKeyPair;

// util.promisify(generateKeyPair) resolves { publicKey, privateKey }, as node:crypto's own does.
Object.defineProperty(generateKeyPair, promisify.custom, {
  value: (type: never, options: never) =>
    new Promise((resolve, reject) => {
      generateKeyPair(type, options, (err: Error | null, publicKey: unknown, privateKey: unknown) => (err !== null ? reject(err) : resolve({ publicKey, privateKey })));
    }),
});
