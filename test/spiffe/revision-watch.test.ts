/** The replica's watcher of entry revisions: wakes waiters on notify or on its own read, gives up at the timeout, wakes all on close, reads only while somebody waits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RevisionWatcher } from '../../src/spiffe/revision-watch.js';

test('waiters wake when the revision passes theirs; a timeout answers the revision seen; close wakes everyone; no reads while nobody waits', async () => {
  let revision = 5n;
  let reads = 0;
  const w = new RevisionWatcher(() => {
    reads++;
    return Promise.resolve(revision);
  }, 3_600_000);
  assert.equal(await w.waitBeyond(4n, 60_000), 5n, 'already beyond: at once');
  const a = w.waitBeyond(5n, 60_000);
  const b = w.waitBeyond(6n, 60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(w.waiting, 2);
  revision = 6n;
  w.notify();
  assert.equal(await a, 6n, 'a change through this replica wakes at once');
  assert.equal(w.waiting, 1, 'b waits for more than 6');
  assert.equal(await w.waitBeyond(6n, 0), 6n, 'no wait: the revision now');
  w.close();
  assert.equal(await b, 6n, 'closing wakes the rest');
  assert.equal(w.waiting, 0);
  const before = reads;
  w.notify();
  assert.equal(reads, before, 'nobody waits: nothing is read');
  assert.equal(await new RevisionWatcher(() => Promise.resolve(1n)).waitBeyond(1n, 1), 1n, 'a timeout answers the revision seen');
});
