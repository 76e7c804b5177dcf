/** Shared helpers for the io tests: the real-sample folder, seeded sample arrays, bitwise comparison. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Rng } from '../../src/rng/rng.js';
import { DTYPE_INFO, type RasterDtype, type RasterTypedArray } from '../../src/io/dtypes.js';

/** Repository root (/work/main), from packages/core/test/io. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
/** The shared real samples (read-only). */
export const REAL = resolve(REPO_ROOT, '../shared/data/real');
export const HAVE_REAL = existsSync(REAL);
if (!HAVE_REAL) console.warn(`io tests: ${REAL} is missing; the real-sample tests are skipped.`);

export const HAVE_GDAL = spawnSync('gdalinfo', ['--version'], { encoding: 'utf8' }).status === 0;

const made: string[] = [];

/** A fresh temp folder; removed by removeTempDirs() (each test file calls it in afterAll). */
export async function tempDir(prefix = 'cmid-io-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Seeded samples covering the dtype's whole range (floats include NaN, +-Inf, -0 and subnormals). */
export function sampleArray(dtype: RasterDtype, n: number, seed: number): RasterTypedArray {
  const rng = new Rng(seed);
  const a = new DTYPE_INFO[dtype].ctor(n);
  if (dtype === 'float32' || dtype === 'float64') {
    const bytes = new Uint8Array(a.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextU32() & 0xff; // arbitrary bit patterns
    const special = [NaN, Infinity, -Infinity, -0, 0, 1e-40, -3.4e38];
    special.forEach((v, i) => { if (i < n) a[i] = v; });
    for (let i = special.length; i < n; i += 3) a[i] = rng.uniform(-1000, 1000); // plus ordinary values
  } else {
    const bytes = new Uint8Array(a.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.nextU32() & 0xff;
    // smooth runs too, so the predictor sees what it is made for
    for (let i = 0; i < n; i += 2) a[i] = (i >> 3) % 120;
  }
  return a;
}

/**
 * True when both arrays hold the same samples bit for bit, except that any NaN equals any NaN: geotiff.js
 * decodes float32 through JS numbers, which quiets signalling-NaN payloads (GDAL's dump of the same files
 * is byte-identical; see the gdal test).
 */
export function sameSamples(a: RasterTypedArray, b: RasterTypedArray): boolean {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  if (!(a instanceof Float32Array || a instanceof Float64Array)) return sameBits(a, b);
  const wide = a instanceof Float64Array;
  const x = wide ? new BigUint64Array(a.buffer, a.byteOffset, a.length) : new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = wide ? new BigUint64Array(b.buffer, b.byteOffset, b.length) : new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  }
  return true;
}

/** True when both arrays have the same bytes. */
export function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
