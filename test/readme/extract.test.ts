/**
 * The README example runner itself: which blocks it finds, and that a failing, hanging or
 * wrongly-exiting block is reported with its heading, first line and stderr.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/openssl.js';
import { CLI_PATH } from '../helpers/cli.js';
import { createSandbox, describeFailure, extractShellBlocks, runBlock, type ShellBlock } from './examples.js';

const SAMPLE = [
  '# Signet', //                                   1
  '', //                                           2
  '```sh', //                                      3
  '# not run', //                                  4
  'npm ci && npm start', //                        5
  '```', //                                        6
  '', //                                           7
  '### `signet key create`', //                    8
  '', //                                           9
  '```sh', //                                     10
  "printf 'pw\\n' > pw.txt", //                   11
  'signet key create a.key --password-file pw.txt', // 12
  '```', //                                       13
  '', //                                          14
  '````markdown', //                              15
  '```sh', //                                     16
  'echo inside another fence: not a block', //    17
  '```', //                                       18
  '## not a heading', //                          19
  '````', //                                      20
  '', //                                          21
  '```text', //                                   22
  'output, not run', //                           23
  '```', //                                       24
  '', //                                          25
  '## Errors ##', //                              26
  '- a list item:', //                            27
  '  ```sh', //                                   28
  '  # exit 3', //                                29
  '  signet key inspect missing.key', //          30
  '  ```', //                                     31
  '~~~sh', //                                     32
  'echo tilde', //                                33
  '~~~', //                                       34
].join('\r\n');

describe('extractShellBlocks', () => {
  const { blocks, notRun } = extractShellBlocks(SAMPLE);

  test('finds only sh blocks outside other fences, in order, skipping "# not run"', () => {
    assert.equal(notRun, 1);
    assert.deepEqual(
      blocks.map((b) => [b.index, b.heading, b.line, b.firstLine, b.expectedExit]),
      [
        [1, '`signet key create`', 11, "printf 'pw\\n' > pw.txt", 0],
        [2, 'Errors', 29, 'signet key inspect missing.key', 3],
        [3, 'Errors', 33, 'echo tilde', 0],
      ],
    );
  });

  test('keeps the body whole and strips a list indentation', () => {
    assert.equal(blocks[0]?.body, "printf 'pw\\n' > pw.txt\nsignet key create a.key --password-file pw.txt");
    assert.equal(blocks[1]?.body, '# exit 3\nsignet key inspect missing.key');
  });

  test('a document without sh blocks has nothing to run', () => {
    assert.deepEqual(extractShellBlocks('# Signet\n\n```\nnpm ci && npm start\n```\n'), { blocks: [], notRun: 0 });
    assert.equal(extractShellBlocks('```sh\n# not run\nnpm start\n```\n').blocks.length, 0);
  });

  test('an unclosed fence runs to the end of the document', () => {
    const r = extractShellBlocks('```sh\necho a\necho b\n');
    assert.equal(r.blocks[0]?.body, 'echo a\necho b\n');
  });
});

describe('runBlock', () => {
  const tmp = tempDir('signet-readme-self-');
  after(() => tmp.cleanup());
  const box = createSandbox(tmp.dir, CLI_PATH);
  const TIMEOUT = 60_000;
  let n = 0;
  function block(body: string, expectedExit = 0, heading = 'Heading'): ShellBlock {
    n++;
    return { index: n, heading, line: 100, body, firstLine: body.split('\n')[0] ?? '', expectedExit };
  }

  test('blocks share one directory and run the built signet from PATH without a terminal', async () => {
    const a = block("printf 'pw\\n' > pw.txt\nsignet --version\ntest ! -t 0\ncat");
    const r1 = await runBlock(box, a, TIMEOUT);
    assert.equal(describeFailure(a, r1, TIMEOUT), undefined, r1.stderr);
    assert.match(r1.stdout, /^\d+\.\d+\.\d+/);
    const b = block('test "$(cat pw.txt)" = pw\ntest "$(command -v signet)" -ef "$HOME/../bin/signet"');
    const r2 = await runBlock(box, b, TIMEOUT);
    assert.equal(describeFailure(b, r2, TIMEOUT), undefined, r2.stderr);
    assert.equal(readFileSync(join(box.work, 'pw.txt'), 'utf8'), 'pw\n');
  });

  test('a failing command ends the block; the report names heading, first line, README line and stderr', async () => {
    const b = block('echo one\nsignet key inspect nothing-here.key\necho never', 0, '`signet key inspect`');
    const r = await runBlock(box, b, TIMEOUT);
    assert.equal(r.status, 5);
    assert.doesNotMatch(r.stdout, /never/);
    const msg = describeFailure(b, r, TIMEOUT) ?? '';
    assert.match(msg, /`signet key inspect` \(README line 100\): echo one/);
    assert.match(msg, /exited with status 5, expected 0/);
    assert.match(msg, /ERR_FILE_NOT_FOUND/);
    assert.match(msg, /README line 101 exited with status 5/);
  });

  test('set -u and pipefail are on', async () => {
    for (const body of ['echo "$UNDEFINED_IN_README"', 'false | true']) {
      const b = block(body);
      const r = await runBlock(box, b, TIMEOUT);
      assert.notEqual(describeFailure(b, r, TIMEOUT), undefined, body);
    }
  });

  test('"# exit N" asserts that exact status', async () => {
    const ok = block('# exit 3\nsignet key inspect - </dev/null', 3);
    assert.equal(describeFailure(ok, await runBlock(box, ok, TIMEOUT), TIMEOUT), undefined);
    const wrong = block('# exit 1\nsignet key inspect - </dev/null', 1);
    assert.match(describeFailure(wrong, await runBlock(box, wrong, TIMEOUT), TIMEOUT) ?? '', /exited with status 3, expected 1/);
    const passes = block('# exit 1\ntrue', 1);
    assert.match(describeFailure(passes, await runBlock(box, passes, TIMEOUT), TIMEOUT) ?? '', /exited with status 0, expected 1/);
  });

  test('a block that hangs is killed with its children and reported', async () => {
    // Blocks forever without sleeping: nobody ever opens the fifo for writing.
    const b = block('mkfifo never.fifo\n(cat never.fifo; echo child) &\ncat never.fifo');
    const r = await runBlock(box, b, 500);
    assert.equal(r.timedOut, true);
    assert.match(describeFailure(b, r, 500) ?? '', /did not finish within 500 ms/);
  });
});
