#!/usr/bin/env node
/** `pnpm --filter pretrain extract`: see commands.ts. */
import { extractCommand } from './commands.js';
import { runCli } from './run.js';

await runCli(extractCommand());
