#!/usr/bin/env node
/** `pnpm --filter pretrain train`: see commands.ts. */
import { CmidError } from '@cmid/core';
import { trainCommand } from './commands.js';

try {
  await trainCommand().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
