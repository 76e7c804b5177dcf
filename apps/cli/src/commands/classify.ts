/**
 * `cmid classify` (train / eval / predict / probe / export): the commands of @cmid/classify, wired here unchanged
 * so `pnpm --filter classify train` and `cmid classify train` run the same code.
 */
import type { Command } from 'commander';
import { classifyCommand as pkgClassify } from '@cmid/classify';

export function classifyCommand(): Command {
  return pkgClassify('classify');
}
