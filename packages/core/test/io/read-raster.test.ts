/**
 * readRaster/openRaster on the shared real samples (shared/data/real, see its SOURCES.md).
 *
 * The expected facts were obtained independently of our code with GDAL 3.6.2 (Debian gdal-bin, libtiff/libpng/
 * libjpeg), run with GDAL_PAM_ENABLED=NO:
 *   gdalinfo -json -stats <file>                 -> size, band types, block size, overviews, nodata, geotransform, EPSG, min/max
 *   gdallocationinfo -valonly <file> <col> <row> -> the pixel values in VALUES below
 * JPEG-compressed pixels are compared within +-3 (chroma upsampling differs between GDAL's libjpeg and
 * geotiff.js/mozjpeg); everything else exactly.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { CmidError } from '../../src/runtime/errors.js';
import { openRaster, readRaster, type RasterData } from '../../src/io/read-raster.js';
import { HEAD_BYTES, sniffFormat } from '../../src/io/decoders/index.js';
import { openSource as openSharpGeneral } from '../../src/io/decoders/sharp.js';
import { ensureSynthetic } from '../../src/synth/cache.js';
import { HAVE_REAL, REAL, makePng, removeTempDirs, sameSamples, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** A python3 with Pillow, for the CMYK cross-check (skipped without one). */
const PIL_PYTHON = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import PIL.Image'], { stdio: 'ignore' }).status === 0);
const HAVE_PIL = PIL_PYTHON !== undefined;
const PIL_RGB_SCRIPT = 'import sys; from PIL import Image; sys.stdout.buffer.write(Image.open(sys.argv[1]).convert("RGB").tobytes())';

interface Facts {
  file: string;
  size: [number, number, number];
  dtype: string;
  block?: [number, number];
  overviews?: number;
  noData?: number;
  transform?: number[];
  epsg?: number;
  /** [col, row] -> band values, from gdallocationinfo */
  values: Array<[number, number, number[]]>;
  tolerance?: number;
  max?: number;
}

const GEOTIFFS: Facts[] = [
  { file: 'geotiff/RGB.byte.tif', size: [791, 718, 3], dtype: 'uint8', block: [791, 3], overviews: 0, noData: 0,
    transform: [101985, 300.0379266750948, 0, 2826915, 0, -300.041782729805], epsg: 32618,
    values: [[0, 0, [0, 0, 0]], [399, 511, [6, 8, 8]], [255, 255, [39, 47, 21]], [499, 649, [23, 51, 49]], [223, 223, [24, 113, 146]], [300, 123, [14, 37, 31]]] },
  { file: 'geotiff/byte.tif', size: [20, 20, 1], dtype: 'uint8', block: [20, 20], overviews: 0,
    transform: [440720, 60, 0, 3751320, 0, -60], epsg: 26711, max: 255,
    values: [[0, 0, [107]], [5, 7, [123]], [12, 11, [107]], [19, 19, [107]]] },
  { file: 'geotiff/cogeo.tif', size: [1024, 1024, 3], dtype: 'uint8', block: [512, 512], overviews: 6,
    transform: [14321853.115736904, 0.5971640348434448, 0, 4533021.525424092, 0, -0.5971640348434448], epsg: 3857, tolerance: 3,
    values: [[0, 0, [228, 226, 231]], [5, 7, [125, 132, 138]], [100, 200, [79, 107, 128]], [399, 511, [237, 237, 237]], [1023, 1023, [88, 97, 104]], [300, 123, [47, 65, 77]]] },
  { file: 'geotiff/float_raster_with_nodata.tif', size: [13, 12, 1], dtype: 'float32', block: [13, 12], overviews: 0, noData: -3.4e38,
    transform: [6301612.204093784, 500, 0, 3314112.2306177607, 0, -500], epsg: undefined,
    values: [[0, 0, [0]], [5, 7, [Math.fround(-3.4e38)]], [12, 11, [Math.fround(-3.4e38)]]] },
  { file: 'geotiff/tiff_1channel_uint16.tif', size: [500, 650, 1], dtype: 'uint16', block: [256, 256], overviews: 0,
    transform: [-115.2474426, 2.7000000000043656e-6, 0, 36.2002526999, 0, -2.699999999993434e-6], epsg: 4326, max: 2047,
    values: [[0, 0, [290]], [100, 200, [369]], [399, 511, [239]], [255, 255, [604]], [499, 649, [529]], [19, 19, [171]]] },
  { file: 'geotiff/tiff_1channel_float.tif', size: [500, 650, 1], dtype: 'float32', block: [256, 256], overviews: 0,
    transform: [-115.2474426, 2.7000000000043656e-6, 0, 36.2002526999, 0, -2.699999999993434e-6], epsg: 4326,
    values: [[0, 0, [0.25390625]], [100, 200, [0.32421875]], [255, 255, [0.53125]], [499, 649, [0.46484375]]] },
  { file: 'multispectral/oscd/images/bercy/imgs_2/T31UDQ_20170829T105019_B08.tif', size: [360, 395, 1], dtype: 'uint16',
    block: [360, 11], overviews: 0, transform: [2.35931396484, 0.0001163482666111, 0, 48.8666344599, 0, -0.0001164052037975], epsg: 4326,
    max: 22425, values: [] },
  { file: 'multispectral/oscd/labels/bercy/cm/bercy-cm.tif', size: [360, 395, 1], dtype: 'uint8', block: [360, 22], overviews: 0,
    transform: undefined, max: 2, values: [] },
];

const IMAGES: Facts[] = [
  { file: 'scenes/airport.jpg', size: [224, 224, 3], dtype: 'uint8', tolerance: 2,
    values: [[0, 0, [215, 211, 208]], [5, 7, [199, 192, 186]], [100, 200, [178, 171, 178]], [223, 223, [188, 183, 189]]] },
  { file: 'scenes/jpeg_3channel_uint8.jpeg', size: [500, 650, 3], dtype: 'uint8', tolerance: 2,
    values: [[0, 0, [71, 101, 111]], [399, 511, [55, 48, 40]], [255, 255, [140, 183, 192]], [499, 649, [121, 141, 132]]] },
  { file: 'cd/levir-cd/A/test_2_0000_0000.png', size: [256, 256, 3], dtype: 'uint8',
    values: [[0, 0, [0, 21, 22]], [5, 7, [43, 70, 51]], [255, 255, [39, 53, 38]], [223, 223, [117, 101, 78]]] },
  { file: 'cd/levir-cd/label/test_2_0000_0000.png', size: [256, 256, 1], dtype: 'uint8', max: 255,
    values: [[0, 0, [255]], [5, 7, [0]], [223, 223, [255]]] },
  { file: 'potsdam-vaihingen/potsdam/ann_dir/2_10_0_0_512_512.png', size: [512, 512, 1], dtype: 'uint8', max: 5,
    values: [[0, 0, [3]], [399, 511, [2]], [255, 255, [1]], [12, 11, [4]]] },
  { file: 'multispectral/oscd/labels/bercy/cm/cm.png', size: [360, 395, 4], dtype: 'uint8',
    values: [[0, 0, [0, 0, 0, 255]], [300, 123, [0, 0, 0, 255]]] },
  { file: 'dota/images/P2805__1024__0___0.png', size: [1024, 1024, 3], dtype: 'uint8',
    values: [[0, 0, [0, 0, 0]], [100, 200, [110, 104, 92]], [790, 717, [153, 155, 142]], [1023, 1023, [165, 168, 160]]] },
];

function pixel(r: RasterData, col: number, row: number): number[] {
  const o = (row * r.width + col) * r.bands;
  return Array.from(r.data.subarray(o, o + r.bands));
}

function checkFacts(f: Facts, r: RasterData): void {
  for (const [col, row, expected] of f.values) {
    const got = pixel(r, col, row);
    if (f.tolerance === undefined) expect(got, `${f.file} [${col},${row}]`).toEqual(expected);
    else got.forEach((v, i) => expect(Math.abs(v - expected[i]!), `${f.file} [${col},${row}] band ${i}: ${v} vs ${expected[i]}`).toBeLessThanOrEqual(f.tolerance!));
  }
  if (f.max !== undefined) {
    let max = -Infinity;
    for (const v of r.data) if (v > max) max = v;
    expect(max).toBe(f.max);
  }
}

describe.skipIf(!HAVE_REAL)('real GeoTIFFs open with the size/bands/dtype/georef gdalinfo reports', () => {
  it.each(GEOTIFFS.map((f) => [f.file, f] as const))('%s', async (_name, f) => {
    const r = await openRaster(join(REAL, f.file));
    try {
      expect([r.width, r.height, r.bands]).toEqual(f.size);
      expect(r.dtype).toBe(f.dtype);
      expect([r.tileWidth, r.tileHeight]).toEqual(f.block);
      expect(r.overviews.length).toBe(f.overviews);
      expect(r.noData).toBe(f.noData);
      if (f.transform === undefined) expect(r.geo).toBeUndefined();
      // gdalinfo -json prints ~15 significant digits
      else r.geo!.transform.forEach((v, i) => expect(Math.abs(v - f.transform![i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
      expect(r.geo?.epsg).toBe(f.epsg);
      const full = await r.read();
      expect(full.data.length).toBe(f.size[0] * f.size[1] * f.size[2]);
      checkFacts(f, full);
    } finally {
      await r.close();
    }
  });

  it('cogeo.tif: overviews 512..16, overview read, outputSize picks an overview', async () => {
    const r = await openRaster(join(REAL, 'geotiff/cogeo.tif'));
    expect(r.overviews).toEqual([512, 256, 128, 64, 32, 16].map((s) => ({ width: s, height: s })));
    const o1 = await r.read({ overview: 1 });
    expect([o1.width, o1.height, o1.bands]).toEqual([512, 512, 3]);
    expect(o1.geo?.transform[1]).toBeCloseTo(0.5971640348434448 * 2, 12);
    const w = await r.read({ overview: 2, window: { x: 512, y: 256, width: 256, height: 512 } });
    expect([w.width, w.height]).toEqual([64, 128]);
    const auto = await r.read({ outputSize: { width: 100, height: 100 } });
    expect([auto.width, auto.height]).toEqual([100, 100]);
    // the mean colour survives downsampling (full-res mean ~119.3 over the three bands)
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(o1.data) - mean((await r.read()).data))).toBeLessThan(2);
    await r.close();
  });
});

describe.skipIf(!HAVE_REAL)('real PNG/JPEG scenes decode with the right size, channels and pixels', () => {
  it.each(IMAGES.map((f) => [f.file, f] as const))('%s', async (_name, f) => {
    const r = await readRaster(join(REAL, f.file));
    expect([r.width, r.height, r.bands]).toEqual(f.size);
    expect(r.dtype).toBe(f.dtype);
    expect(r.geo).toBeUndefined();
    checkFacts(f, r);
  });
});

describe.skipIf(!HAVE_REAL)('windows, bands and fill on real files', () => {
  const region = (full: RasterData, x: number, y: number, w: number, h: number, bands: number[]): number[] => {
    const out: number[] = [];
    for (let r = y; r < y + h; r++) for (let c = x; c < x + w; c++) for (const b of bands) out.push(full.data[(r * full.width + c) * full.bands + b]!);
    return out;
  };
  it.each([
    ['geotiff/RGB.byte.tif', { x: 200, y: 100, width: 301, height: 257 }, [2, 0]],
    ['geotiff/tiff_1channel_uint16.tif', { x: 250, y: 240, width: 250, height: 410 }, [0]], // crosses tile edges, reaches the corner
    ['geotiff/cogeo.tif', { x: 500, y: 300, width: 100, height: 400 }, [0, 1, 2]],
    ['dota/images/P2805__1024__0___0.png', { x: 17, y: 900, width: 333, height: 124 }, [1]],
    ['scenes/airport.jpg', { x: 0, y: 100, width: 224, height: 24 }, [2, 1, 0]],
  ] as const)('%s window %o bands %o equals the same region of a full read', async (file, window, bands) => {
    const full = await readRaster(join(REAL, file));
    const win = await readRaster(join(REAL, file), { window, bands });
    expect([win.width, win.height, win.bands]).toEqual([window.width, window.height, bands.length]);
    expect(Array.from(win.data)).toEqual(region(full, window.x, window.y, window.width, window.height, [...bands]));
    if (full.geo !== undefined) {
      const [a, b, , d, , f] = full.geo.transform;
      expect(win.geo?.transform[0]).toBeCloseTo(a + window.x * b, 6);
      expect(win.geo?.transform[3]).toBeCloseTo(d + window.y * f, 6);
    }
  });

  it('a window past the edge is an error without fillValue and padded with it', async () => {
    const file = join(REAL, 'geotiff/byte.tif');
    const window = { x: 15, y: -2, width: 10, height: 6 };
    const err = await readRaster(file, { window }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as CmidError).file).toBe(file);
    expect((err as CmidError).message).toMatch(/extends past the image \(20x20\).*fillValue/);
    const full = await readRaster(file);
    const r = await readRaster(file, { window, fillValue: -1 });
    expect([r.width, r.height]).toEqual([10, 6]);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) {
      const sx = 15 + x;
      const sy = -2 + y;
      const expected = sx < 20 && sy >= 0 ? full.data[sy * 20 + sx] : -1;
      expect(r.data[y * 10 + x]).toBe(expected);
    }
    expect(r.geo?.transform).toEqual([440720 + 15 * 60, 60, 0, 3751320 + 2 * 60, 0, -60]);
    const outside = await readRaster(file, { window: { x: 100, y: 100, width: 3, height: 3 }, fillValue: 7 });
    expect(Array.from(outside.data)).toEqual(new Array(9).fill(7));
  });

  it('readNative keeps the file dtype', async () => {
    const r = await openRaster(join(REAL, 'geotiff/tiff_1channel_uint16.tif'));
    const n = await r.readNative({ window: { x: 255, y: 255, width: 2, height: 2 } });
    expect(n.data).toBeInstanceOf(Uint16Array);
    expect(n.data[0]).toBe(604);
    await expect(r.readNative({ window: { x: -1, y: 0, width: 2, height: 2 }, fillValue: -1 })).rejects.toThrow(/does not fit the file's uint16/);
    await r.close();
  });
});

describe.skipIf(!HAVE_REAL)('errors name the file and the fix', () => {
  it.each([
    ['geotiff/broken-zero-byte.tif', /empty \(0 bytes\)/],
    ['cd/broken-zero-byte.png', /empty \(0 bytes\)/],
    ['geotiff/broken-truncated-RGB.byte.tif', /truncated or corrupt/],
    ['geotiff/broken-truncated-tiff_1channel_uint16.tif', /3 of 6 tiles .* past the end of the file/],
    ['cd/broken-truncated-levir-B-test_2_0000_0000.png', /truncated or corrupt/],
    ['scenes/broken-truncated-airport.jpg', /truncated or corrupt/],
    ['dota/labelTxt/P2805__1024__0___0.txt', /unsupported image format/],
    ['geotiff/no-such-file.tif', /no such file/],
  ])('%s', async (file, re) => {
    const path = join(REAL, file);
    const err = await readRaster(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CmidError);
    expect((err as CmidError).kind).toBe('input');
    expect((err as CmidError).file).toBe(path);
    expect((err as CmidError).message).toContain(path);
    expect((err as CmidError).message).toMatch(re);
  });

  it('band index beyond the band count, bad overview, empty window', async () => {
    const path = join(REAL, 'geotiff/RGB.byte.tif');
    await expect(readRaster(path, { bands: [0, 3] })).rejects.toThrow(/band index 3 is out of range: the file has 3 band\(s\), valid indices are 0\.\.2/);
    await expect(readRaster(path, { overview: 1 })).rejects.toThrow(/no overviews/);
    await expect(readRaster(path, { window: { x: 0, y: 0, width: 0, height: 5 } })).rejects.toThrow(/is empty/);
    const err = await readRaster(path, { bands: [5] }).catch((e: unknown) => e);
    expect((err as CmidError).file).toBe(path);
  });
});

/**
 * The JPEG/PNG fast path (header parsed from the bytes read at open, no sharp metadata() call, whole-image read
 * as one sharp call from memory) against the general path, which is the sharp decoder opened without those bytes:
 * sharp metadata() from the path, then decoding from the path. Same info, same samples bit for bit, same errors.
 */
describe('JPEG/PNG fast path equals the general path', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Opens `path` both ways and compares info and a whole-image readNative(); returns the fast path's pixels. */
  async function compareWithGeneral(path: string): Promise<RasterData<Uint8Array | Uint16Array>> {
    const fast = await openRaster(path);
    try {
      const format = sniffFormat(await readFile(path))!;
      const general = await openSharpGeneral(path, format);
      const { info } = general;
      expect(fast.info, path).toEqual(info);
      const want = await general.read({
        window: { x: 0, y: 0, width: info.width, height: info.height }, bands: Array.from({ length: info.bands }, (_, i) => i),
        outWidth: info.width, outHeight: info.height, overview: 0, resample: 'nearest',
      });
      const got = await fast.readNative();
      expect([got.width, got.height, got.bands, got.dtype], path).toEqual([info.width, info.height, info.bands, info.dtype]);
      expect(sameSamples(got.data, want), `${path}: fast path pixels differ from the general path`).toBe(true);
      const f32 = await fast.read();
      expect(sameSamples(f32.data, Float32Array.from(want)), path).toBe(true);
      return got as RasterData<Uint8Array | Uint16Array>;
    } finally {
      await fast.close();
    }
  }

  it('synthetic MillionAID JPEGs (ensureSynthetic tiny): identical, with no sharp metadata() call', async () => {
    const root = await ensureSynthetic('millionaid', { size: 'tiny', seed: 0, cacheDir: await tempDir() });
    const files = (await readdir(join(root, 'test'))).filter((f) => f.endsWith('.jpg')).map((f) => join(root, 'test', f));
    expect(files.length).toBe(12);
    for (const f of files) await compareWithGeneral(f);
    const metadata = vi.spyOn(sharp.prototype, 'metadata');
    for (const f of files) {
      const r = await openRaster(f);
      await r.readNative();
      await r.close();
    }
    expect(metadata).not.toHaveBeenCalled();
  });

  it.skipIf(!HAVE_REAL)('real JPEG/PNG samples under shared/data/real: identical (the DOTA PNG, over HEAD_BYTES, decodes from its path)', async () => {
    const files = (await readdir(REAL, { recursive: true }))
      .filter((f) => /\.(jpe?g|png)$/i.test(f) && !f.split('/').pop()!.startsWith('broken-'))
      .map((f) => join(REAL, f));
    expect(files.length).toBeGreaterThanOrEqual(20);
    const big = join(REAL, 'dota/images/P2805__1024__0___0.png');
    expect((await readFile(big)).length).toBeGreaterThan(HEAD_BYTES);
    const metadata = vi.spyOn(sharp.prototype, 'metadata');
    for (const f of files) await compareWithGeneral(f);
    // the general side calls metadata() once per file; the fast side never
    expect(metadata).toHaveBeenCalledTimes(files.length);
  });

  it('grey PNG (1 band), RGBA PNG (4), palette PNG with and without tRNS (4 / 3), 1-bit grey, grey JPEG', async () => {
    const dir = await tempDir();
    const rgb = Uint8Array.from({ length: 41 * 23 * 3 }, (_, i) => (i * 7919) % 251);
    const rgba = Uint8Array.from({ length: 41 * 23 * 4 }, (_, i) => (i * 7919) % 253);
    const files: Array<[string, number]> = [];
    const add = async (name: string, bands: number, write: (p: string) => Promise<unknown>) => {
      await write(join(dir, name));
      files.push([join(dir, name), bands]);
    };
    await add('grey.png', 1, (p) => sharp(rgb, { raw: { width: 41, height: 23, channels: 3 } }).toColourspace('b-w').png().toFile(p));
    await add('rgba.png', 4, (p) => sharp(rgba, { raw: { width: 41, height: 23, channels: 4 } }).png().toFile(p));
    await add('palette.png', 3, (p) => writeFile(p, makePng(41, 23, { colorType: 3, bitDepth: 8, palette: 100 })));
    await add('palette-trns.png', 4, (p) => writeFile(p, makePng(41, 23, { colorType: 3, bitDepth: 4, palette: 16, trns: Uint8Array.of(0, 64, 255, 9) })));
    await add('bilevel.png', 1, (p) => writeFile(p, makePng(41, 23, { colorType: 0, bitDepth: 1 })));
    await add('rgb-trns.png', 4, (p) => writeFile(p, makePng(41, 23, { colorType: 2, bitDepth: 8, trns: Uint8Array.of(0, 1, 0, 2, 0, 3) })));
    await add('grey.jpg', 1, (p) => sharp(rgb, { raw: { width: 41, height: 23, channels: 3 } }).toColourspace('b-w').jpeg().toFile(p));
    for (const [f, bands] of files) {
      const got = await compareWithGeneral(f);
      expect([got.bands, got.dtype], f).toEqual([bands, 'uint8']);
    }
  });

  it('16-bit PNGs stay 16-bit (grey, RGB, RGBA): Uint16Array with values > 255', async () => {
    const dir = await tempDir();
    const px = (c: number) => Uint16Array.from({ length: 37 * 21 * c }, (_, i) => (i * 977) % 65536);
    await sharp(px(3), { raw: { width: 37, height: 21, channels: 3 } }).toColourspace('rgb16').png().toFile(join(dir, 'rgb16.png'));
    await sharp(px(4), { raw: { width: 37, height: 21, channels: 4 } }).toColourspace('rgb16').png().toFile(join(dir, 'rgba16.png'));
    await writeFile(join(dir, 'grey16.png'), makePng(37, 21, { colorType: 0, bitDepth: 16 }));
    for (const [name, bands] of [['rgb16.png', 3], ['rgba16.png', 4], ['grey16.png', 1]] as const) {
      const got = await compareWithGeneral(join(dir, name));
      expect([got.bands, got.dtype], name).toEqual([bands, 'uint16']);
      expect(got.data).toBeInstanceOf(Uint16Array);
      expect(Math.max(...got.data), name).toBeGreaterThan(255);
    }
    const r = await readRaster(join(dir, 'rgb16.png'));
    expect(Array.from(r.data)).toEqual(Array.from(px(3)));
  });

  it('EXIF orientation is not applied (pixels in file order, width/height unswapped), as on the general path', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 40 * 16 * 3 }, (_, i) => (i * 31) % 256);
    const p = join(dir, 'orient6.jpg');
    await sharp(px, { raw: { width: 40, height: 16, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(p);
    expect((await sharp(p).metadata()).orientation).toBe(6);
    const got = await compareWithGeneral(p);
    expect([got.width, got.height]).toEqual([40, 16]);
  });

  it('an embedded ICC profile (Display P3) is converted to sRGB exactly as on the general path', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => (i * 53) % 256);
    const p = join(dir, 'p3.jpg');
    await sharp(px, { raw: { width: 30, height: 20, channels: 3 } }).withIccProfile('p3').jpeg({ quality: 95 }).toFile(p);
    const got = await compareWithGeneral(p);
    const ignoringIcc = await sharp(p, { ignoreIcc: true }).raw().toBuffer();
    expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(ignoringIcc)).toBe(false); // the profile did apply
  });

  it('truncated JPEG/PNG data (header intact) and a truncated JPEG header give errors naming the file', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 7919) % 251);
    const jpg = await sharp(px, { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toBuffer();
    const png = await sharp(px, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
    const cases: Array<[string, Buffer, RegExp]> = [
      ['cut-data.jpg', jpg.subarray(0, jpg.length - 200), /decoding failed .*truncated or corrupt/s],
      ['cut-data.png', png.subarray(0, png.length - 200), /decoding failed .*truncated or corrupt/s],
      ['cut-header.jpg', jpg.subarray(0, 40), /not a readable JPEG .*truncated or corrupt/s],
    ];
    for (const [name, bytes, re] of cases) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      for (const read of [() => readRaster(path), async () => (await openRaster(path)).readNative()]) {
        const err = await read().catch((e: unknown) => e);
        expect(err, name).toBeInstanceOf(CmidError);
        expect((err as CmidError).kind).toBe('input');
        expect((err as CmidError).file).toBe(path);
        expect((err as CmidError).message).toContain(path);
        expect((err as CmidError).message).toMatch(re);
      }
    }
  });

  it('grey+alpha PNGs (colour type 4, and grey with a tRNS chunk; 8- and 16-bit) read as 2 bands, grey then alpha, with the file\'s samples', async () => {
    const dir = await tempDir();
    const w = 19;
    const h = 7;
    const idx = Array.from({ length: w * h }, (_, i) => i);
    const interleave = (grey: number[], alpha: number[]): number[] => grey.flatMap((g, i) => [g, alpha[i]!]);
    // every alpha from 0 to 255 appears at least once in the 8-bit grey+alpha image (133 pixels, 2 per step)
    const grey8 = idx.map((i) => (i * 37 + 5) % 256);
    const alpha8 = idx.map((i) => (i === 0 ? 0 : i === 1 ? 255 : (i * 97) % 256));
    const grey16 = idx.map((i) => (i * 2957 + 1) % 65536);
    const alpha16 = idx.map((i) => (i === 0 ? 0 : i === 1 ? 65535 : (i * 40503) % 65536));
    // grey + tRNS: the pixels equal to the tRNS grey are transparent (alpha 0), all others opaque
    const key8 = 7;
    const greyKeyed8 = idx.map((i) => (i % 5 === 0 ? key8 : (i * 37) % 256 === key8 ? 8 : (i * 37) % 256));
    const key16 = 0x1234;
    const greyKeyed16 = idx.map((i) => (i % 4 === 1 ? key16 : (i * 2957) % 65536 === key16 ? 1 : (i * 2957) % 65536));
    const cases: Array<[string, Buffer, number[], 'uint8' | 'uint16']> = [
      ['la8.png', makePng(w, h, { colorType: 4, bitDepth: 8, samples: interleave(grey8, alpha8) }), interleave(grey8, alpha8), 'uint8'],
      ['la16.png', makePng(w, h, { colorType: 4, bitDepth: 16, samples: interleave(grey16, alpha16) }), interleave(grey16, alpha16), 'uint16'],
      ['trns8.png', makePng(w, h, { colorType: 0, bitDepth: 8, samples: greyKeyed8, trns: Uint8Array.of(0, key8) }),
        interleave(greyKeyed8, greyKeyed8.map((g) => (g === key8 ? 0 : 255))), 'uint8'],
      ['trns16.png', makePng(w, h, { colorType: 0, bitDepth: 16, samples: greyKeyed16, trns: Uint8Array.of(key16 >> 8, key16 & 255) }),
        interleave(greyKeyed16, greyKeyed16.map((g) => (g === key16 ? 0 : 65535))), 'uint16'],
    ];
    for (const [name, png, want, dtype] of cases) {
      const path = join(dir, name);
      await writeFile(path, png);
      const got = await compareWithGeneral(path);
      expect([got.width, got.height, got.bands, got.dtype], name).toEqual([w, h, 2, dtype]);
      expect(got.data).toBeInstanceOf(dtype === 'uint8' ? Uint8Array : Uint16Array);
      expect(Array.from(got.data), name).toEqual(want);
      // a window with the bands swapped is the same region of the full read
      const r = await openRaster(path);
      expect([r.bands, r.photometric]).toEqual([2, 'minisblack']);
      const win = await r.readNative({ window: { x: 3, y: 2, width: 5, height: 4 }, bands: [1, 0] });
      const region: number[] = [];
      for (let y = 2; y < 6; y++) for (let x = 3; x < 8; x++) region.push(want[(y * w + x) * 2 + 1]!, want[(y * w + x) * 2]!);
      expect(Array.from(win.data), name).toEqual(region);
      // resampled reads keep both bands
      const small = await r.readNative({ outputSize: { width: 9, height: 4 }, resample: 'bilinear' });
      expect([small.width, small.height, small.bands, small.data.length], name).toEqual([9, 4, 2, 9 * 4 * 2]);
      await r.close();
    }
    // these headers are parsed here (fast path): no sharp metadata() call
    const metadata = vi.spyOn(sharp.prototype, 'metadata');
    for (const [name] of cases) await (await openRaster(join(dir, name))).readNative();
    expect(metadata).not.toHaveBeenCalled();
  });

  describe('CMYK JPEG: 3 RGB bands, as PIL\'s Image.convert(\'RGB\') (and torchvision, GDAL) give them', () => {
    // flat 16 x 16 patches of these sRGB colours, written as CMYK by sharp (its CMYK profile), read back as RGB
    const COLOURS = [[200, 30, 40], [20, 180, 60], [30, 60, 200], [128, 128, 128], [240, 235, 220], [20, 25, 30]];
    // Pillow 9.4 Image.open(f).convert('RGB') of that file, at each patch's centre (sharp 0.35 / libvips 8.18)
    const PIL_RGB = [[215, 1, 13], [84, 255, 2], [17, 68, 255], [102, 104, 103], [235, 232, 217], [4, 6, 4]];
    const W = 16 * COLOURS.length;
    const H = 16;

    async function cmykJpegs(): Promise<string[]> {
      const dir = await tempDir();
      const patches = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) patches.set(COLOURS[x >> 4]!, (y * W + x) * 3);
      const grad = new Uint8Array(48 * 32 * 3);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 48; x++) grad.set([Math.round((x * 255) / 47), Math.round((y * 255) / 31), (x * y) % 256], (y * 48 + x) * 3);
      }
      const raw = (px: Uint8Array, width: number, height: number) => sharp(px, { raw: { width, height, channels: 3 } });
      const files: Array<[string, () => Promise<unknown>]> = [
        ['patches.jpg', () => raw(patches, W, H).toColourspace('cmyk').jpeg().toFile(join(dir, 'patches.jpg'))],
        ['gradient.jpg', () => raw(grad, 48, 32).toColourspace('cmyk').jpeg({ quality: 90 }).toFile(join(dir, 'gradient.jpg'))],
        // an embedded CMYK profile is ignored, as by PIL (sharp's is ~1 MB: the frame header lies past HEAD_BYTES, so
        // openRaster takes the general path for this one)
        ['icc-progressive.jpg', () => raw(grad, 48, 32).withIccProfile('cmyk').toColourspace('cmyk').jpeg({ progressive: true }).toFile(join(dir, 'icc-progressive.jpg'))],
      ];
      for (const [, write] of files) await write();
      return files.map(([name]) => join(dir, name));
    }

    it('3 bands (fast path equals general path, no metadata() call), PIL\'s formula on libvips\' CMYK samples, PIL\'s colours', async () => {
      const files = await cmykJpegs();
      for (const path of files) {
        expect((await sharp(path).metadata()).space, path).toBe('cmyk');
        const got = await compareWithGeneral(path);
        expect([got.bands, got.dtype], path).toEqual([3, 'uint8']);
        // PIL's cmyk2rgb: R = (255 - K) - C * (255 - K) / 255, rounded; likewise G from M, B from Y
        const cmyk = await sharp(path).pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer();
        const want = new Uint8Array(got.width * got.height * 3);
        for (let i = 0; i < got.width * got.height; i++) {
          const nk = 255 - cmyk[i * 4 + 3]!;
          for (let c = 0; c < 3; c++) want[i * 3 + c] = nk - Math.round((cmyk[i * 4 + c]! * nk) / 255);
        }
        expect(sameSamples(got.data, want), path).toBe(true);
        const r = await openRaster(path);
        expect([r.bands, r.photometric]).toEqual([3, 'rgb']);
        const win = await r.readNative({ window: { x: 5, y: 3, width: 20, height: 9 }, bands: [2, 0] });
        const region: number[] = [];
        for (let y = 3; y < 12; y++) for (let x = 5; x < 25; x++) region.push(want[(y * got.width + x) * 3 + 2]!, want[(y * got.width + x) * 3]!);
        expect(Array.from(win.data), path).toEqual(region);
        await r.close();
      }
      const patches = await readRaster(files[0]!);
      const centres = COLOURS.map((_, i) => Array.from(patches.data.subarray((8 * W + 16 * i + 8) * 3, (8 * W + 16 * i + 8) * 3 + 3)));
      centres.forEach((rgb, i) => rgb.forEach((v, c) => expect(Math.abs(v - PIL_RGB[i]![c]!), `patch ${i} band ${c}: ${v} vs PIL ${PIL_RGB[i]![c]}`).toBeLessThanOrEqual(3)));
      expect((await readFile(files[2]!)).length).toBeGreaterThan(HEAD_BYTES);
      const metadata = vi.spyOn(sharp.prototype, 'metadata');
      for (const path of files.slice(0, 2)) await readRaster(path);
      expect(metadata).not.toHaveBeenCalled();
    });

    it.skipIf(!HAVE_PIL)('mean |ours - PIL convert(\'RGB\')| < 3 on every file (python3 with Pillow)', async () => {
      for (const path of await cmykJpegs()) {
        const pil = spawnSync(PIL_PYTHON!, ['-c', PIL_RGB_SCRIPT, path], { maxBuffer: 1 << 26 });
        expect(pil.status, String(pil.stderr)).toBe(0);
        const r = await readRaster(path);
        expect(pil.stdout.length, path).toBe(r.data.length);
        let sum = 0;
        for (let i = 0; i < r.data.length; i++) sum += Math.abs(r.data[i]! - pil.stdout[i]!);
        expect(sum / r.data.length, path).toBeLessThan(3);
      }
    });
  });
});
