/**
 * ACME interop with the npm `acme-client` library (a third ACME implementation, used by Node
 * services): account creation, a certificate through its `auto` flow (http-01 answered by the
 * test's responder), contact update, account key rollover (RFC 8555 §7.3.5), authorization
 * deactivation, revocation with a reason, and account deactivation — after which the account can
 * do nothing more. (acme-client 5.4 has no ARI support; ARI is tested with the raw client.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import acme from 'acme-client';
import { startAcmeTestCa } from '../helpers/acme.js';

test('acme-client: account, auto (http-01), contact update, key rollover, authorization deactivation, revoke, account deactivation', { timeout: 120_000 }, async (t) => {
  const { ca, running, dns, answers } = await startAcmeTestCa(t, { validationTimeout: '5s' });
  dns.setSuffixAddress('node.test', '127.0.0.1');
  // acme-client speaks through its axios instance: trust the CA's root there.
  acme.axios.defaults.httpsAgent = new Agent({ ca: ca.rootPem });

  const directoryUrl = `${running.url}/acme/acme/directory`;
  const oldKey = await acme.crypto.createPrivateEcdsaKey();
  const client = new acme.Client({ directoryUrl, accountKey: oldKey });
  const account = await client.createAccount({ termsOfServiceAgreed: true, contact: ['mailto:ops@node.test'] });
  assert.equal(account.status, 'valid');
  const accountUrl = client.getAccountUrl();

  const [key, csr] = await acme.crypto.createCsr({ altNames: ['app.node.test', 'api.node.test'] });
  const cert = await client.auto({
    csr,
    challengePriority: ['http-01'],
    skipChallengeVerification: true,
    challengeCreateFn: (_authz, challenge, keyAuthorization) => {
      answers.set(challenge.token, keyAuthorization);
      return Promise.resolve();
    },
    challengeRemoveFn: (_authz, challenge) => {
      answers.delete(challenge.token);
      return Promise.resolve();
    },
  });
  assert.ok(key.length > 0);
  const info = acme.crypto.readCertificateInfo(cert);
  assert.deepEqual([...info.domains.altNames].sort(), ['api.node.test', 'app.node.test']);

  const updated = await client.updateAccount({ contact: ['mailto:security@node.test'] });
  assert.deepEqual(updated.contact, ['mailto:security@node.test']);

  // Key rollover: the client goes on with the new key; the old key no longer finds the account.
  const newKey = await acme.crypto.createPrivateRsaKey(2048);
  await client.updateAccountKey(newKey);
  assert.equal(client.getAccountUrl(), accountUrl);
  await client.updateAccount({ contact: ['mailto:ops@node.test'] });
  const stale = new acme.Client({ directoryUrl, accountKey: oldKey });
  await assert.rejects(stale.createAccount({ onlyReturnExisting: true }), /accountDoesNotExist|No account|does not exist/i);

  // An authorization of a new order can be deactivated.
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: 'spare.node.test' }] });
  const [authz] = await client.getAuthorizations(order);
  assert.ok(authz);
  const deactivated = await client.deactivateAuthorization(authz);
  assert.equal(deactivated.status, 'deactivated');

  await client.revokeCertificate(cert, { reason: 4 });
  const record = (await running.store.certificates.list({ provisioner: 'acme' })).items.find((c) => c.status === 'revoked');
  assert.ok(record, 'the certificate is revoked in the inventory');
  assert.equal(record.revocationReason, 'superseded');

  const gone = await client.updateAccount({ status: 'deactivated' });
  assert.equal(gone.status, 'deactivated');
  await assert.rejects(client.createOrder({ identifiers: [{ type: 'dns', value: 'late.node.test' }] }), /deactivated|unauthorized/i);
});
