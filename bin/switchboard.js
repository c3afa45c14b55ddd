#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script).
import { main } from '../dist/cli/main.js';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Bad input never lands here (it is a one-line message and exit 2); this is a bug.
  const detail = process.env.SWITCHBOARD_DEBUG ? error?.stack : error?.message;
  process.stderr.write(
    `switchboard: internal error: ${detail}\n(set SWITCHBOARD_DEBUG=1 for the stack; please report it)\n`,
  );
  process.exitCode = 70;
}
