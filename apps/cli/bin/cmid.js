#!/usr/bin/env node
// Runs the built CLI (pnpm build). In the repository, `pnpm cmid ...` runs it from source instead.
import('../dist/main.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('cmid: apps/cli is not built. Run `pnpm build` at the repository root, or use `pnpm cmid <command>` there.');
    process.exit(1);
  }
  throw e;
});
