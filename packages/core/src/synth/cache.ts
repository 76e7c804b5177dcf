/**
 * The embedded default datasets: `ensureSynthetic('ucm', { size: 'small' })` returns the folder of a generated copy,
 * generating it on first use into a cache (CMID_CACHE, else ~/.cache/cmid) keyed by kind, size, seed and the
 * generator version. Generation happens in a temporary folder that is renamed into place with its `.complete`
 * marker, so an interrupted generation is redone, never used, and concurrent callers never see a partial copy.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
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

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export function syntheticCacheDir(): string {
  return process.env.CMID_CACHE ?? join(homedir(), '.cache', 'cmid');
}

export async function ensureSynthetic(kind: SynthKind, options: EnsureSyntheticOptions = {}): Promise<string> {
  const size = options.size ?? 'small';
  const seed = options.seed ?? 0;
  const dir = join(options.cacheDir ?? syntheticCacheDir(), 'synth', `${kind}-${size}-seed${seed}-v${SYNTH_VERSION}`);
  const marker = join(dir, '.complete');
  if (await exists(marker)) return dir;
  // generate beside it and rename into place, so concurrent callers (test workers) never see a half-written copy
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(tmp, { recursive: true });
  try {
    await generate(kind, { out: tmp, size, seed, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    await writeFile(join(tmp, '.complete'), new Date().toISOString());
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // another process renamed its complete copy first: use that one
      if (!(await exists(marker))) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
