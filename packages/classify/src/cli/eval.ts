#!/usr/bin/env node
/** `pnpm --filter classify eval`: see commands.ts. */
import { evalCommand } from './commands.js';
import { runCli } from './run.js';

await runCli(evalCommand());
