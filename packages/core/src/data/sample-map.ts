/**
 * The per-sample function of the data loader (decode + augment) and the randomness it gets.
 *
 * A sample map is named by module + export so that a worker thread can import it: functions do not cross a
 * thread boundary, module URLs and JSON options do. The export is a factory, called once per worker (and once
 * in-process) with the JSON options, that returns the per-sample function; per-worker state (open raster
 * handles, lookup tables) lives in the factory's closure.
 *
 * Each sample gets its own Rng derived from (seed, epoch, sample index), never from a shared stream, so the
 * items do not depend on which worker ran them or in what order they finished.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng, type RngState } from '../rng/rng.js';
import { CmidError } from '../runtime/errors.js';

/** What the per-sample function gets besides the sample. */
export interface SampleContext {
  /** Index of the sample in the loader's sample list (not its position in the shuffled epoch). */
  index: number;
  epoch: number;
  /** This sample's own generator: sampleRng(seed, epoch, index). Draw augmentation parameters from it. */
  rng: Rng;
}

/** Decode + augment one sample. Typed arrays in the result are transferred (not copied) out of a worker. */
export type SampleMap<S, T> = (sample: S, ctx: SampleContext) => T | Promise<T>;

/** The export a worker imports: called once per worker with the JSON options. */
export type SampleMapFactory<S, T, O = unknown> = (options: O) => SampleMap<S, T> | Promise<SampleMap<S, T>>;

/**
 * Where a sample map lives.
 *
 * @example
 * // my-map.ts
 * export const decodeAugment: SampleMapFactory<{ path: string }, Item, { size: number }> = ({ size }) =>
 *   async (s, { rng }) => randomCrop(await decode(s.path), size, rng);
 * // train.ts
 * const map = { module: new URL('./my-map.js', import.meta.url), export: 'decodeAugment', options: { size: 224 } };
 */
export interface SampleMapRef<O = unknown> {
  /** A file: URL, or a file path (absolute, or relative to the working directory). Tip: new URL('./x.js', import.meta.url). */
  module: string | URL;
  /** Name of the exported SampleMapFactory. */
  export: string;
  /** Passed to the factory; must survive structuredClone (plain JSON is safest). */
  options?: O;
}

/** The module of a SampleMapRef as a file: URL string. */
export function moduleUrl(ref: SampleMapRef): string {
  const m = ref.module;
  if (m instanceof URL) return m.href;
  if (m.startsWith('file:')) return m;
  if (isAbsolute(m) || m.startsWith('./') || m.startsWith('../')) return pathToFileURL(resolve(m)).href;
  throw new CmidError(
    'config',
    `data loader: sample map module "${m}" is neither a file: URL nor a path. Pass new URL('./your-map.js', import.meta.url) ` +
      'or an absolute path (bare package names cannot be resolved from the worker).',
  );
}

/** Imports the module of `ref` and returns its factory; errors name the module and export. */
export async function importFactory<S, T>(ref: SampleMapRef): Promise<SampleMapFactory<S, T>> {
  const url = moduleUrl(ref);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new CmidError('config', `data loader: cannot import sample map module ${url}: ${(e as Error).message}. Check the path.`, {
      file: url,
      cause: e,
    });
  }
  const factory = mod[ref.export];
  if (typeof factory !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new CmidError(
      'config',
      `data loader: ${url} has no exported function "${ref.export}" (exported functions: ${names.join(', ') || 'none'}). ` +
        'Export a SampleMapFactory under that name.',
      { file: url },
    );
  }
  return factory as SampleMapFactory<S, T>;
}

// --- seeds

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A full 128-bit Rng state hashed from integers (each word depends on every input and the word's position).
 * `seed` may use up to 53 bits; the other parts are taken as 32-bit unsigned.
 */
export function deriveRngState(seed: number, ...parts: number[]): RngState {
  const words = [seed >>> 0, Math.floor(seed / 4294967296) >>> 0, ...parts.map((p) => p >>> 0)];
  const state: RngState = [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    let h = mix32(0x9e3779b9 * (k + 1) + words.length);
    for (const w of words) h = mix32((h ^ mix32(w + 0x632be5ab)) + 0x9e3779b9);
    state[k] = h;
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

const SAMPLE_STREAM = 0x5a4d504c; // "SMPL"
const ORDER_STREAM = 0x4f524452; // "ORDR"

/** The generator of sample `index` in `epoch`: a pure function of its arguments. */
export function sampleRng(seed: number, epoch: number, index: number): Rng {
  return new Rng(deriveRngState(seed, SAMPLE_STREAM, epoch, index));
}

/**
 * The order of the samples in `epoch`: a seeded permutation of 0..n-1 (identity when shuffle is false).
 *
 * @example
 * epochOrder(5, { seed: 0, epoch: 0 }); // a permutation of [0, 1, 2, 3, 4], the same on every call
 */
export function epochOrder(n: number, { seed, epoch, shuffle = true }: { seed: number; epoch: number; shuffle?: boolean }): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const rng = new Rng(deriveRngState(seed, ORDER_STREAM, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
