/** Shared helpers for the dataset tests: the real-sample folder, temp folders, small fixture writers. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@cmid/core';
import { writeFileAtomic, writeGeoTiff } from '@cmid/core/io';
import { encodeImage } from '@cmid/core/synth';

/** Repository root (/work/main), from packages/classify/test/datasets. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
/** The shared real samples (read-only; see its SOURCES.md). */
export const REAL = resolve(REPO_ROOT, '../shared/data/real');
export const HAVE_REAL = existsSync(REAL);
if (!HAVE_REAL) console.warn(`dataset tests: ${REAL} is missing; the real-sample tests are skipped.`);

const made: string[] = [];

/** A fresh temp folder; removed by removeTempDirs() (each test file calls it in afterAll). */
export async function tempDir(prefix = 'cmid-classify-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Seeded uint8 pixels, HWC. */
export function pixels8(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: n }, () => rng.int(0, 256));
}

/** Writes an 8-bit RGB (or grey) image encoded by sharp, creating its folder. */
export async function writeImage8(path: string, size: number, seed: number, format: 'jpeg' | 'png' | 'tiff' = 'jpeg', channels: 1 | 3 = 3): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await encodeImage(pixels8(size * size * channels, seed), size, size, channels, format));
}

/** Writes a uint16 GeoTIFF with `bands` bands whose band b holds 1000 * (b + 1) + seed everywhere. */
export async function writeMs(path: string, size: number, bands: number, seed: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const data = new Uint16Array(size * size * bands);
  for (let i = 0; i < size * size; i++) for (let b = 0; b < bands; b++) data[i * bands + b] = 1000 * (b + 1) + seed;
  await writeGeoTiff(path, data, { width: size, height: size, bands, tileSize: 16 });
}

/** Per-label counts of a sample list. */
export function countByLabel(samples: ReadonlyArray<{ label: number }>, classes: number): number[] {
  const out = new Array<number>(classes).fill(0);
  for (const s of samples) out[s.label]!++;
  return out;
}
