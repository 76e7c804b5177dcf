#!/usr/bin/env node
/** `pnpm --filter pretrain eval`: see commands.ts. */
import { CmidError } from '@cmid/core';
import { evalCommand } from './commands.js';

try {
  await evalCommand().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
