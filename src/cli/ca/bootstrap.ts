/**
 * `signet ca bootstrap --ca-url URL --fingerprint SHA256` — pin a CA's root and save a context
 * for it (see ../context/store.ts), which becomes the current one. The root is accepted only when
 * its SHA-256 is the given fingerprint, and only after the CA's own TLS certificate verified
 * against it (src/client/bootstrap.ts); on any failure nothing is saved.
 */
import type { Command } from 'commander';
import { systemClock } from '../../core/clock.js';
import { escapeControl } from '../../core/escape.js';
import { formatTime } from '../../core/duration.js';
import { fetchPinnedRoot } from '../../client/bootstrap.js';
import { normalizeFingerprint, parseCaUrl } from '../../client/url.js';
import { checkContextName, defaultContextName, saveContext, signetHome, type CaContext } from '../context/store.js';
import { printJson } from '../io.js';

interface BootstrapFlags {
  caUrl: string;
  fingerprint: string;
  context?: string;
  force?: boolean;
  json?: boolean;
}

/** What `ca bootstrap --json` prints. */
export interface BootstrapResult {
  readonly context: string;
  readonly caUrl: string;
  readonly fingerprint: string;
  readonly root: string;
  readonly subject: string;
  readonly notAfter: string;
  readonly home: string;
  readonly current: true;
}

/** Runs `ca bootstrap`. */
export async function caBootstrapCommand(flags: BootstrapFlags): Promise<BootstrapResult> {
  // Every flag is checked before the network is touched.
  const { url } = parseCaUrl(flags.caUrl);
  const fingerprint = normalizeFingerprint(flags.fingerprint);
  const name = checkContextName(flags.context ?? defaultContextName(url));
  const home = signetHome();
  const root = await fetchPinnedRoot(url, fingerprint);
  const ctx: CaContext = saveContext(home, { name, caUrl: url, fingerprint, rootPem: root.pem, now: systemClock.now() }, { force: flags.force === true });
  return { context: ctx.name, caUrl: ctx.caUrl, fingerprint, root: ctx.rootFile, subject: root.subject, notAfter: formatTime(root.notAfter), home, current: true };
}

/** Registers `signet ca bootstrap`. */
export function registerCaBootstrap(ca: Command): void {
  ca.command('bootstrap')
    .description('pin a CA\'s root by its fingerprint and save a context for it (the new current context)')
    .requiredOption('--ca-url <url>', 'the CA, https://host[:port]')
    .requiredOption('--fingerprint <sha256>', 'SHA-256 of the CA\'s root certificate (hex, colons allowed)')
    .option('--context <name>', 'name of the new context (default: the CA\'s host name)')
    .option('--force', 'replace an existing context of that name')
    .option('--json', 'print the new context as JSON')
    .addHelpText(
      'after',
      `
The root is fetched from GET /root/{fingerprint} before it can be trusted, then accepted only if
its SHA-256 equals --fingerprint (ERR_FINGERPRINT_MISMATCH, nothing saved, otherwise), and only
after the CA's own TLS certificate verified against it for the URL's host name. Every later
command verifies the CA against this pinned root.

Contexts live in $SIGNET_HOME (default ~/.signet, mode 0700): contexts/<name>/root.crt and
context.json, and current-context. See signet context list / select.

Exit codes: 0 saved; 1 wrong fingerprint (ERR_FINGERPRINT_MISMATCH) or a TLS certificate that does
not verify (ERR_CA_UNTRUSTED); 2 bad flags; 5 the context exists (ERR_CONTEXT_EXISTS, use --force);
6 the CA cannot be reached (ERR_CA_UNREACHABLE).

Examples:
  $ signet ca bootstrap --ca-url https://ca.example.com:9443 --fingerprint 4a1f…e07c
  $ signet ca bootstrap --ca-url https://10.0.0.5:9443 --fingerprint 4A:1F:…:E0:7C --context lab --force`,
    )
    .action(async (flags: BootstrapFlags) => {
      const r = await caBootstrapCommand(flags);
      if (flags.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        [
          `bootstrapped context "${r.context}" (now current): ${r.caUrl}`,
          `  root         ${r.subject}, valid until ${r.notAfter}`,
          `  fingerprint  ${r.fingerprint}`,
          `  saved in     ${r.root}`,
        ]
          .map(escapeControl)
          .join('\n') + '\n',
      );
    });
}
