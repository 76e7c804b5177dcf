/** Runs a commander command as a script: a CmidError prints its message and exits 2; anything else is a bug and throws. */
import type { Command } from 'commander';
import { CmidError } from '@cmid/core';

export async function runCli(command: Command): Promise<void> {
  try {
    await command.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CmidError) {
      console.error(`cmid: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
}
