import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import sharp from 'sharp';
import { openSource } from '../../../src/io/decoders/sharp.js';
import { openSource as openGeoTiff } from '../../../src/io/decoders/geotiff.js';
import { readRaster } from '../../../src/io/read-raster.js';
import { HAVE_REAL, REAL, sameBits, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

const full = (w: number, h: number, bands: number) => ({
  window: { x: 0, y: 0, width: w, height: h }, bands: Array.from({ length: bands }, (_, i) => i),
  outWidth: w, outHeight: h, overview: 0, resample: 'nearest' as const,
});

describe('sharp decoder keeps sample depth', () => {
  it('16-bit RGB PNG: values > 255 survive (rgb16/ushort, not the 8-bit default)', async () => {
    const dir = await tempDir();
    const w = 37;
    const h = 21;
    const px = Uint16Array.from({ length: w * h * 3 }, (_, i) => (i * 977) % 65536);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).toColourspace('rgb16').png().toFile(join(dir, 'x16.png'));
    const r = await readRaster(join(dir, 'x16.png'));
    expect([r.width, r.height, r.bands, r.dtype]).toEqual([w, h, 3, 'uint16']);
    expect(Array.from(r.data)).toEqual(Array.from(px));
    expect(Math.max(...r.data)).toBeGreaterThan(255);
  });

  it('8-bit grey PNG stays 1 band (b-w), not 3-channel sRGB', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 16 * 8 }, (_, i) => i);
    await sharp(px, { raw: { width: 16, height: 8, channels: 1 } }).toColourspace('b-w').png().toFile(join(dir, 'g.png'));
    const r = await readRaster(join(dir, 'g.png'), { window: { x: 4, y: 2, width: 5, height: 3 } });
    expect([r.width, r.height, r.bands]).toEqual([5, 3, 1]);
    expect(Array.from(r.data)).toEqual([36, 37, 38, 39, 40, 52, 53, 54, 55, 56, 68, 69, 70, 71, 72]);
  });
});

describe('sharp decoder: grey+alpha and CMYK', () => {
  it('8-bit grey+alpha TIFF (the fallback for TIFFs geotiff.js cannot decode): 2 bands, as geotiff.js reads them', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 20 * 10 * 2 }, (_, i) => (i * 37) % 256);
    const path = join(dir, 'ga.tif');
    await sharp(px, { raw: { width: 20, height: 10, channels: 2 } }).toColourspace('b-w').tiff({ compression: 'deflate' }).toFile(path);
    const a = await openSource(path, 'tiff');
    const b = await openGeoTiff(path, 'tiff', Number.MAX_SAFE_INTEGER);
    expect([a.info.bands, a.info.dtype, a.info.photometric]).toEqual([2, 'uint8', 'minisblack']);
    expect(Array.from(await a.read(full(20, 10, 2)))).toEqual(Array.from(px));
    expect(sameBits(await a.read(full(20, 10, 2)), await b.read(full(20, 10, 2)))).toBe(true);
    await a.close();
    await b.close();
  });

  it('CMYK TIFF through sharp: the 4 CMYK samples (photometric cmyk), as geotiff.js returns them, not 3-band RGB', async () => {
    const dir = await tempDir();
    const px = Uint8Array.from({ length: 20 * 10 * 3 }, (_, i) => (i * 37) % 256);
    const path = join(dir, 'cmyk.tif');
    await sharp(px, { raw: { width: 20, height: 10, channels: 3 } }).toColourspace('cmyk').tiff({ compression: 'deflate' }).toFile(path);
    const a = await openSource(path, 'tiff');
    const b = await openGeoTiff(path, 'tiff', Number.MAX_SAFE_INTEGER);
    expect([a.info.bands, a.info.dtype, a.info.photometric]).toEqual([4, 'uint8', 'cmyk']);
    expect([b.info.bands, b.info.photometric]).toEqual([4, 'cmyk']);
    expect(sameBits(await a.read(full(20, 10, 4)), await b.read(full(20, 10, 4)))).toBe(true);
    await a.close();
    await b.close();
  });
});

describe.skipIf(!HAVE_REAL)('sharp (libtiff) and geotiff.js agree on the real TIFFs', () => {
  it.each([
    ['geotiff/tiff_1channel_uint16.tif', 'uint16'],
    ['geotiff/tiff_1channel_float.tif', 'float32'],
    ['geotiff/RGB.byte.tif', 'uint8'],
  ])('%s decodes identically through both (%s)', async (file, dtype) => {
    const a = await openSource(join(REAL, file), 'tiff');
    const b = await openGeoTiff(join(REAL, file), 'tiff', 0 + Number.MAX_SAFE_INTEGER);
    expect(a.info.dtype).toBe(dtype);
    expect([a.info.width, a.info.height, a.info.bands]).toEqual([b.info.width, b.info.height, b.info.bands]);
    const req = full(a.info.width, a.info.height, a.info.bands);
    const x = await a.read(req);
    const y = await b.read(req);
    expect(x.constructor).toBe(y.constructor);
    expect(sameBits(x, y)).toBe(true);
    await a.close();
    await b.close();
  });
});
