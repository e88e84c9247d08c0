#!/usr/bin/env node
/** The `signet` executable: everything lives in program.ts so tests can import it without running it. */
import { main } from './program.js';

// `signet … | head`: a reader that stops early is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
