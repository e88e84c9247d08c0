#!/usr/bin/env node
/** The `signet` executable: everything lives in program.ts so tests can import it without running it. */
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
