/** Shared helpers for the synth tests: temp folders, file trees, hashes, raster reads. */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { readRaster } from '../../src/io/read-raster.js';

const made: string[] = [];

export async function tempDir(prefix = 'cmid-synth-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Every file under `root`, relative, '/'-separated, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

/** sha256 of every file under `root`, by relative path. */
export async function hashTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await listFiles(root)) out.set(f, createHash('sha256').update(await readFile(join(root, f))).digest('hex'));
  return out;
}

/** Pixels as uint8 (the synthetic rasters are all 8-bit), with the raster's metadata. */
export async function readU8(path: string): Promise<{ data: Uint8Array; width: number; height: number; bands: number; dtype: string; geo?: { transform: readonly number[]; epsg?: number } }> {
  const r = await readRaster(path);
  const data = Uint8Array.from(r.data);
  return { data, width: r.width, height: r.height, bands: r.bands, dtype: r.dtype, ...(r.geo !== undefined ? { geo: r.geo } : {}) };
}

/** Distinct RGB triplets of an HWC uint8 image, as 'r,g,b' strings. */
export function colours(rgb: Uint8Array): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < rgb.length; i += 3) s.add(`${rgb[i]},${rgb[i + 1]},${rgb[i + 2]}`);
  return s;
}
