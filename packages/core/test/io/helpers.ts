/** Shared helpers for the io tests: the real-sample folder, seeded sample arrays, bitwise comparison. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
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

// --- a minimal PNG writer, for headers sharp cannot write (grey/RGB tRNS, 1/2/4-bit grey, 16-bit grey+alpha)

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
export function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export interface PngSpec {
  colorType: number;
  bitDepth: number;
  palette?: number; // entries
  trns?: Uint8Array;
  /** chunks written before IHDR's successors, e.g. a big text chunk */
  extra?: Buffer[];
  /**
   * The samples, row by row, pixel by pixel, in the file's channel order (grey+alpha: grey, alpha), 0..255 or
   * 0..65535 for 16-bit; 8- and 16-bit only. Default: seeded pseudo-random bytes.
   */
  samples?: ArrayLike<number>;
}

/** A valid W x H PNG with the given or seeded samples. */
export function makePng(w: number, h: number, s: PngSpec): Buffer {
  const samplesPerPixel = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[s.colorType]!;
  const rowBytes = Math.ceil((w * samplesPerPixel * s.bitDepth) / 8);
  const raw = Buffer.alloc(h * (1 + rowBytes));
  if (s.samples !== undefined) {
    const perRow = w * samplesPerPixel;
    if ((s.bitDepth !== 8 && s.bitDepth !== 16) || s.samples.length !== h * perRow) {
      throw new Error(`makePng: samples need bit depth 8 or 16 and ${h * perRow} values`);
    }
    for (let y = 0; y < h; y++) {
      for (let i = 0; i < perRow; i++) {
        const at = y * (1 + rowBytes) + 1;
        if (s.bitDepth === 8) raw[at + i] = s.samples[y * perRow + i]!;
        else raw.writeUInt16BE(s.samples[y * perRow + i]!, at + 2 * i);
      }
    }
  }
  let v = 12345;
  for (let y = 0; s.samples === undefined && y < h; y++) {
    for (let i = 0; i < rowBytes; i++) {
      v = (v * 1103515245 + 12345) >>> 0;
      raw[y * (1 + rowBytes) + 1 + i] = v >>> 24;
    }
  }
  if (s.colorType === 3) {
    // keep indices inside the palette
    const mask = (1 << s.bitDepth) - 1;
    const n = s.palette!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const bit = x * s.bitDepth;
        const at = y * (1 + rowBytes) + 1 + (bit >> 3);
        const shift = 8 - s.bitDepth - (bit & 7);
        const idx = ((raw[at]! >> shift) & mask) % n;
        raw[at] = (raw[at]! & ~(mask << shift)) | (idx << shift);
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = s.bitDepth;
  ihdr[9] = s.colorType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...(s.extra ?? [])];
  if (s.palette !== undefined) parts.push(chunk('PLTE', Uint8Array.from({ length: 3 * s.palette }, (_, i) => (i * 37) & 0xff)));
  if (s.trns !== undefined) parts.push(chunk('tRNS', s.trns));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
