#!/usr/bin/env node
/** `pnpm --filter classify predict`: see commands.ts. */
import { predictCommand } from './commands.js';
import { runCli } from './run.js';

await runCli(predictCommand());
