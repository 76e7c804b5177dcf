/**
 * The GeoTIFF window path that copies decoded tiles with typed arrays (readChunky in decoders/geotiff.ts) against
 * geotiff.js's own readRasters, on windows that cross tiles and clip edge tiles, band selections, every whole-byte
 * dtype, with and without a predictor; strips and LZW through GDAL where it is installed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromFile } from 'geotiff';
import { openRaster } from '../../../src/io/read-raster.js';
import { writeGeoTiff } from '../../../src/io/write-geotiff.js';
import type { RasterDtype } from '../../../src/io/dtypes.js';
import { HAVE_GDAL, removeTempDirs, tempDir } from '../helpers.js';

afterAll(removeTempDirs);

const W = 37, H = 29, B = 3;
const ARRAYS = { uint8: Uint8Array, uint16: Uint16Array, int16: Int16Array, float32: Float32Array } as const;

function pixels(dtype: keyof typeof ARRAYS) {
  const a = new ARRAYS[dtype](W * H * B);
  for (let i = 0; i < a.length; i++) a[i] = dtype === 'float32' ? Math.sin(i * 0.37) * 1000 : dtype === 'int16' ? ((i * 7919) % 60000) - 30000 : dtype === 'uint16' ? (i * 7919) % 65536 : (i * 31) % 256;
  return a;
}

const WINDOWS = [
  { x: 0, y: 0, width: W, height: H }, // whole image, partial right and bottom tiles
  { x: 5, y: 3, width: 20, height: 19 }, // crosses tile boundaries
  { x: 33, y: 25, width: 4, height: 4 }, // inside the last (clipped) tile
  { x: 16, y: 16, width: 1, height: 1 },
];
const BANDS = [undefined, [2], [2, 0], [1, 1, 0]];

async function compare(path: string): Promise<number> {
  const ours = await openRaster(path);
  const tiff = await fromFile(path);
  const image = await tiff.getImage();
  let checked = 0;
  try {
    for (const w of WINDOWS) {
      for (const bands of BANDS) {
        const got = await ours.readNative({ window: w, ...(bands ? { bands } : {}) });
        const want = await image.readRasters({ window: [w.x, w.y, w.x + w.width, w.y + w.height], samples: bands ?? [0, 1, 2], interleave: true });
        expect(got.data.constructor).toBe((want as unknown as object).constructor);
        expect(Array.from(got.data), `${path} window ${JSON.stringify(w)} bands ${JSON.stringify(bands)}`).toEqual(Array.from(want as unknown as ArrayLike<number>));
        checked++;
      }
    }
  } finally {
    await ours.close();
    await tiff.close();
  }
  return checked;
}

describe('GeoTIFF windows copied tile by tile', () => {
  for (const dtype of Object.keys(ARRAYS) as (keyof typeof ARRAYS)[]) {
    for (const predictor of [false, true]) {
      it(`${dtype}, 16 px tiles, deflate${predictor ? ' + predictor' : ''}: same samples as geotiff.js readRasters`, async () => {
        const dir = await tempDir('cmid-gtw-');
        const path = join(dir, 'x.tif');
        await writeGeoTiff(path, pixels(dtype), { width: W, height: H, bands: B, dtype: dtype as RasterDtype, tileSize: 16, predictor, photometric: 'minisblack' });
        expect(await compare(path)).toBe(WINDOWS.length * BANDS.length);
      });
    }
  }

  it.skipIf(!HAVE_GDAL)('strips (short last strip) and LZW / PackBits / uncompressed, rewritten by gdal_translate', async () => {
    const dir = await tempDir('cmid-gtw-');
    const src = join(dir, 'src.tif');
    await writeGeoTiff(src, pixels('uint16'), { width: W, height: H, bands: B, tileSize: 16, photometric: 'minisblack' });
    for (const co of [['TILED=NO', 'BLOCKYSIZE=8', 'COMPRESS=LZW'], ['TILED=NO', 'BLOCKYSIZE=5', 'COMPRESS=PACKBITS'], ['TILED=YES', 'BLOCKXSIZE=16', 'BLOCKYSIZE=16', 'COMPRESS=NONE'], ['TILED=NO', 'COMPRESS=DEFLATE', 'PREDICTOR=2']]) {
      const out = join(dir, `${co.join('_')}.tif`);
      const r = spawnSync('gdal_translate', ['-q', ...co.flatMap((c) => ['-co', c]), src, out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(await compare(out)).toBe(WINDOWS.length * BANDS.length);
    }
  });
});
