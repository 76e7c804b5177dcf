/**
 * Compiles one of the wasm modules committed with the package (the GEMM kernels, the augmentation kernels, the
 * JPEG decoder), checking that it exports what its TypeScript caller needs. A missing or stale file is a
 * CmidError('backend') that names the file and the script that rebuilds it.
 */
import { readFileSync } from 'node:fs';
import { CmidError } from './errors.js';

export function compileCommittedWasm(path: string, exports: readonly string[], what: string, buildScript: string): WebAssembly.Module {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CmidError(
      'backend',
      `@cmid/core ${what}: cannot read ${path} (${(e as Error).message}). It is committed with the package; rebuild it with ` +
        `${buildScript} if it was deleted.`,
    );
  }
  const mod = new WebAssembly.Module(new Uint8Array(bytes));
  const names = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  for (const name of exports) {
    if (!names.has(name)) throw new CmidError('backend', `@cmid/core ${what}: ${path} does not export '${name}'; rebuild it with ${buildScript}.`);
  }
  return mod;
}
