#!/usr/bin/env node
/** `pnpm --filter classify train`: see commands.ts. */
import { trainCommand } from './commands.js';
import { runCli } from './run.js';

await runCli(trainCommand());
