import { CmidError } from '@cmid/core';
import { buildProgram } from './index.js';

// `pnpm cmid ...` / `pnpm demo` run this in apps/cli; relative paths (--out, --data, -c) mean the folder the user
// typed the command in, which pnpm passes as INIT_CWD.
if (process.env.INIT_CWD !== undefined) process.chdir(process.env.INIT_CWD);

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CmidError) {
    console.error(`cmid: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
