/** `signet context select NAME` — make a saved context the current one. */
import type { Command } from 'commander';
import { escapeControl } from '../../core/escape.js';
import { printJson } from '../io.js';
import { selectContext, signetHome } from './store.js';

/** Registers `signet context select`. */
export function registerContextSelect(group: Command): void {
  group
    .command('select')
    .description('make a saved context the current one (the CA client commands use it)')
    .argument('<name>', 'the context, as `signet context list` shows it')
    .option('--json', 'print the selected context as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 selected; 2 no such context (ERR_CONTEXT_NOT_FOUND).

Examples:
  $ signet context select ca.example.com
  $ signet context select lab`,
    )
    .action((name: string, flags: { json?: boolean }) => {
      const c = selectContext(signetHome(), name);
      if (flags.json) printJson({ name: c.name, caUrl: c.caUrl, fingerprint: c.fingerprint, root: c.rootFile, current: true });
      else process.stdout.write(escapeControl(`current context: ${c.name} (${c.caUrl})`) + '\n');
    });
}
