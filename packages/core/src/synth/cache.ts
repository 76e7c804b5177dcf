/**
 * The embedded default datasets: `ensureSynthetic('ucm', { size: 'small' })` returns the folder of a generated copy,
 * generating it on first use into a cache (CMID_CACHE, else ~/.cache/cmid) keyed by kind, size, seed and the
 * generator version. A `.complete` marker is written last, so an interrupted generation is redone, never used.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generate, type SynthKind } from './index.js';
import { SYNTH_VERSION } from './layouts/common.js';
import type { SynthSize } from './options.js';

export interface EnsureSyntheticOptions {
  size?: SynthSize;
  seed?: number;
  /** Cache root. Default: $CMID_CACHE or ~/.cache/cmid. */
  cacheDir?: string;
  onProgress?: (done: number, total: number) => void;
}

export function syntheticCacheDir(): string {
  return process.env.CMID_CACHE ?? join(homedir(), '.cache', 'cmid');
}

export async function ensureSynthetic(kind: SynthKind, options: EnsureSyntheticOptions = {}): Promise<string> {
  const size = options.size ?? 'small';
  const seed = options.seed ?? 0;
  const dir = join(options.cacheDir ?? syntheticCacheDir(), 'synth', `${kind}-${size}-seed${seed}-v${SYNTH_VERSION}`);
  const marker = join(dir, '.complete');
  try {
    await stat(marker);
    return dir;
  } catch {
    // not there yet
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await generate(kind, { out: dir, size, seed, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  await writeFile(marker, new Date().toISOString());
  return dir;
}
