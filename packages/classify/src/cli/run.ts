/** Runs a commander command as a script, from the folder pnpm was invoked in: a CmidError prints its message and exits 2; anything else is a bug and throws. */
import type { Command } from 'commander';
import { CmidError } from '@cmid/core';

export async function runCli(command: Command): Promise<void> {
  // `pnpm --filter pretrain train` runs in packages/pretrain; relative paths mean the folder the user typed it in
  if (process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD);
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
