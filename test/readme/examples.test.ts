/**
 * Keeps the README's examples runnable: every ```sh block of README.md is run, in document order,
 * as a user pasting it into a terminal would.
 *
 * README conventions (details: /work/notes/readme-examples.md):
 *  - Only blocks fenced as ```sh run; use ```text / ```console / ``` for output and other shells.
 *  - A block whose first line is `# not run` is skipped (quick start, network, long-running servers).
 *  - A block whose first line is `# exit N` must end with exactly status N; every other block with 0.
 *  - Each block is `bash` with `set -euo pipefail`: the first failing command ends it, so write
 *    `signet certificate verify x.crt --roots r.crt || echo "exit $?"` to show a failure and go on.
 *  - All blocks share ONE fresh directory, in order: later blocks use files earlier ones made (keys,
 *    certificates); shell variables and `cd` do not carry over. Make what you need there
 *    (`printf 'correct horse battery staple\n' > pw.txt; chmod 600 pw.txt`); never pass secrets as
 *    arguments.
 *  - `signet` is the built CLI (dist/); there is no terminal (stdin is /dev/null), no network is
 *    assumed, and each block has a time limit.
 *
 * Environment: SIGNET_README=path runs another Markdown file (default: README.md at the repo root);
 * SIGNET_README_KEEP=1 keeps the working directory and prints where it is.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_PATH } from '../helpers/cli.js';
import { tempDir } from '../helpers/openssl.js';
import { blockTitle, createSandbox, describeFailure, extractShellBlocks, runBlock } from './examples.js';

/** Per block. Generous: a safety net for a block that hangs, not a performance check. */
const BLOCK_TIMEOUT_MS = 120_000;

/** dist/test/readme → repository root. */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const README = resolve(process.env.SIGNET_README ?? join(REPO_ROOT, 'README.md'));
const keep = process.env.SIGNET_README_KEEP === '1';

const tmp = tempDir('signet-readme-');
after(() => {
  if (keep) process.stderr.write(`readme examples ran in ${tmp.dir}/work\n`);
  else tmp.cleanup();
});

test(`README examples (${README})`, async (t) => {
  assert.ok(existsSync(README), `README not found at ${README}`);
  assert.ok(existsSync(CLI_PATH), `the CLI is not built (${CLI_PATH} is missing): run npm run build`);
  const { blocks, notRun } = extractShellBlocks(readFileSync(README, 'utf8'));
  assert.ok(
    blocks.length > 0,
    `README has no runnable examples: ${README} has no \`\`\`sh blocks${notRun > 0 ? ` except ${notRun} marked "# not run"` : ''}`,
  );

  const box = createSandbox(tmp.dir, CLI_PATH);
  let firstFailure: string | undefined;
  for (const block of blocks) {
    // Later blocks build on files earlier ones made; after a failure they would only fail in turn.
    const skip = firstFailure === undefined ? false : `an earlier example failed (${firstFailure})`;
    await t.test(blockTitle(block), { skip }, async () => {
      const r = await runBlock(box, block, BLOCK_TIMEOUT_MS);
      const failure = describeFailure(block, r, BLOCK_TIMEOUT_MS);
      if (failure !== undefined) {
        firstFailure = `#${block.index}`;
        assert.fail(failure);
      }
    });
  }
});
