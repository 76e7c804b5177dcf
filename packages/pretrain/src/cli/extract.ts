#!/usr/bin/env node
/** `pnpm --filter pretrain extract`: see commands.ts. */
import { CmidError } from '@cmid/core';
import { extractCommand } from './commands.js';

try {
  await extractCommand().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
