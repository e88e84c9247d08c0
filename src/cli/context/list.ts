/** `signet context list` — the saved CA contexts, the current one marked. */
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { printJson } from '../io.js';
import { currentContextName, listContextNames, loadContext, signetHome } from './store.js';

/** Registers `signet context list`. */
export function registerContextList(group: Command): void {
  group
    .command('list')
    .description('list the saved CA contexts; * marks the current one')
    .option('--json', 'print {home, current, contexts: [{name, caUrl, fingerprint, root, createdAt, current}]}')
    .addHelpText(
      'after',
      `
Contexts live in $SIGNET_HOME (default ~/.signet); \`signet ca bootstrap\` creates them.

Examples:
  $ signet context list
  $ signet context list --json`,
    )
    .action((flags: { json?: boolean }) => {
      const home = signetHome();
      const current = currentContextName(home);
      const contexts = listContextNames(home).map((name) => {
        const c = loadContext(home, name);
        return { name, caUrl: c.caUrl, fingerprint: c.fingerprint, root: c.rootFile, createdAt: c.createdAt, current: name === current };
      });
      if (flags.json) {
        printJson({ home, current: current ?? null, contexts });
        return;
      }
      if (contexts.length === 0) {
        process.stdout.write(`no contexts in ${escapeControl(home)}; create one with: signet ca bootstrap --ca-url URL --fingerprint SHA256\n`);
        return;
      }
      const width = Math.max(...contexts.map((c) => c.name.length));
      for (const c of contexts) {
        process.stdout.write(escapeControl(`${c.current ? '*' : ' '} ${c.name.padEnd(width)}  ${c.caUrl}  sha256:${c.fingerprint.slice(0, 16)}…`) + '\n');
      }
    });
}
