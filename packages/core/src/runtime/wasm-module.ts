/**
 * Compiles one of the wasm modules committed with the package (the GEMM kernels, the augmentation kernels, the
 * JPEG decoder), checking that it exports what its TypeScript caller needs. A missing or stale file is a
 * CmidError('backend') that names the file and the script that rebuilds it.
 */
import { readFileSync } from 'node:fs';
import { CmidError } from './errors.js';

export function compileCommittedWasm(
  path: string,
  exports: readonly string[],
  what: string,
  buildScript: string,
  options: { noDataSegments?: boolean } = {},
): WebAssembly.Module {
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
  if (options.noDataSegments === true && sectionIds(bytes).includes(DATA_SECTION)) {
    throw new CmidError('backend', `@cmid/core ${what}: ${path} has data segments, which would overwrite memory it does not own; rebuild it with ${buildScript}.`);
  }
  const mod = new WebAssembly.Module(new Uint8Array(bytes));
  const names = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  for (const name of exports) {
    if (!names.has(name)) throw new CmidError('backend', `@cmid/core ${what}: ${path} does not export '${name}'; rebuild it with ${buildScript}.`);
  }
  return mod;
}

const DATA_SECTION = 11;

/** The ids of a wasm binary's sections, in order (a module that fails to parse here fails to compile anyway). */
export function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let i = 8; // magic and version
  while (i < bytes.length) {
    const id = bytes[i++]!;
    let size = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[i++] ?? 0;
      size += (b & 127) * 2 ** shift;
      shift += 7;
    } while (b & 128 && shift < 35);
    ids.push(id);
    i += size;
  }
  return ids;
}
