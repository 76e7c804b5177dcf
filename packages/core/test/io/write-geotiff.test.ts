import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CmidError } from '../../src/runtime/errors.js';
import { RASTER_DTYPES, DTYPE_INFO } from '../../src/io/dtypes.js';
import { encodeGeoTiff, writeGeoTiff } from '../../src/io/write-geotiff.js';
import { openRaster, readRaster } from '../../src/io/read-raster.js';
import type { GeoRef } from '../../src/io/georef.js';
import { HAVE_GDAL, sameBits, sameSamples, sampleArray, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const W = 150; // not a multiple of the 64-px tile
const H = 97;

describe('writeGeoTiff round trip through readRaster (150x97, tile 64)', async () => {
  const dir = await tempDir();
  const cases: Array<[string, number, 'none' | 'deflate', boolean]> = [];
  for (const dtype of RASTER_DTYPES) for (const bands of [1, 3, 4, 13]) {
    cases.push([dtype, bands, 'none', false], [dtype, bands, 'deflate', false], [dtype, bands, 'deflate', true]);
  }
  it.each(cases)('dtype=%s bands=%i compression=%s predictor=%s', async (dtype, bands, compression, predictor) => {
    const d = dtype as (typeof RASTER_DTYPES)[number];
    const data = sampleArray(d, W * H * bands, bands * 100 + RASTER_DTYPES.indexOf(d));
    const path = join(dir, `${dtype}-${bands}-${compression}-${predictor}.tif`);
    await writeGeoTiff(path, data, { width: W, height: H, bands, tileSize: 64, compression, predictor });
    const r = await openRaster(path);
    try {
      expect([r.width, r.height, r.bands, r.dtype, r.tileWidth, r.tileHeight]).toEqual([W, H, bands, dtype, 64, 64]);
      expect(r.compression).toBe(compression);
      const native = await r.readNative();
      expect(native.data.constructor).toBe(DTYPE_INFO[d].ctor);
      expect(sameSamples(native.data, data)).toBe(true); // exact for ints, bitwise for floats (any NaN = any NaN)
      const f32 = await r.read();
      expect(f32.data).toBeInstanceOf(Float32Array);
      expect(sameSamples(f32.data, Float32Array.from(data))).toBe(true);
    } finally {
      await r.close();
    }
  });
});

describe('writeGeoTiff tags', () => {
  it('georef (EPSG:32618 north-up) and GDAL_NODATA round trip', async () => {
    const dir = await tempDir();
    const geo: GeoRef = { transform: [101985, 300.0379266750948, 0, 2826915, 0, -300.041782729805], epsg: 32618 };
    const data = sampleArray('uint16', 40 * 30 * 2, 1);
    await writeGeoTiff(join(dir, 'g.tif'), data, { width: 40, height: 30, bands: 2, geo, noData: 65535 });
    const r = await readRaster(join(dir, 'g.tif'));
    expect(r.geo?.transform).toEqual(geo.transform);
    expect(r.geo?.epsg).toBe(32618);
    expect(r.geo?.crsKind).toBe('projected');
    expect(r.noData).toBe(65535);
  });

  it('geographic EPSG:4326, NaN and -3.4e38 no-data', async () => {
    const dir = await tempDir();
    const geo: GeoRef = { transform: [-115.2474426, 2.7e-6, 0, 36.2002526999, 0, -2.7e-6], epsg: 4326 };
    const data = sampleArray('float32', 20 * 20, 2);
    await writeGeoTiff(join(dir, 'nan.tif'), data, { width: 20, height: 20, bands: 1, geo, noData: NaN });
    const a = await readRaster(join(dir, 'nan.tif'));
    expect(a.geo?.epsg).toBe(4326);
    expect(a.geo?.crsKind).toBe('geographic');
    expect(a.geo?.transform).toEqual(geo.transform);
    expect(a.noData).toBeNaN();
    await writeGeoTiff(join(dir, 'big.tif'), data, { width: 20, height: 20, bands: 1, noData: -3.4e38 });
    expect((await readRaster(join(dir, 'big.tif'))).noData).toBe(-3.4e38);
  });

  it('rotated transform is written as ModelTransformation and read back', async () => {
    const dir = await tempDir();
    const geo: GeoRef = { transform: [500000, 10, 2, 4000000, 1.5, -10], epsg: 32633 };
    await writeGeoTiff(join(dir, 'rot.tif'), new Uint8Array(32 * 32), { width: 32, height: 32, bands: 1, geo });
    const r = await readRaster(join(dir, 'rot.tif'));
    expect(r.geo?.transform).toEqual(geo.transform);
  });

  it('user-defined CRS GeoKeys survive read -> window -> write', async () => {
    const dir = await tempDir();
    const geo: GeoRef = {
      transform: [6301612.204093784, 500, 0, 3314112.2306177607, 0, -500],
      crsKind: 'projected',
      geoKeys: {
        GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, GTCitationGeoKey: 'unknown', ProjectedCSTypeGeoKey: 32767,
        ProjCoordTransGeoKey: 10, ProjFalseEastingGeoKey: 4321000, ProjFalseNorthingGeoKey: 3210000,
        ProjCenterLongGeoKey: 10, ProjCenterLatGeoKey: 52, GeogSemiMajorAxisGeoKey: 6378137,
        GeogCitationGeoKey: 'GCS Name = unknown|Datum = Unknown_based_on_GRS80_ellipsoid|Primem = Greenwich|',
      },
    };
    await writeGeoTiff(join(dir, 'u.tif'), new Float32Array(16 * 16), { width: 16, height: 16, bands: 1, geo });
    const r = await readRaster(join(dir, 'u.tif'), { window: { x: 4, y: 2, width: 8, height: 8 } });
    expect(r.geo?.epsg).toBeUndefined();
    expect(r.geo?.geoKeys).toEqual(geo.geoKeys);
    expect(r.geo?.transform).toEqual([6301612.204093784 + 4 * 500, 500, 0, 3314112.2306177607 - 2 * 500, 0, -500]);
  });

  it('4-band uint8 with alpha, palette mask, BigTIFF', async () => {
    const dir = await tempDir();
    const rgba = sampleArray('uint8', 33 * 17 * 4, 3);
    await writeGeoTiff(join(dir, 'rgba.tif'), rgba, { width: 33, height: 17, bands: 4, alpha: true });
    const a = await openRaster(join(dir, 'rgba.tif'));
    expect(a.photometric).toBe('rgb');
    expect(sameBits((await a.readNative()).data, rgba)).toBe(true);
    await a.close();

    const mask = Uint8Array.from({ length: 40 * 20 }, (_, i) => i % 6);
    const palette = [[255, 255, 255], [0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]] as const;
    await writeGeoTiff(join(dir, 'pal.tif'), mask, { width: 40, height: 20, bands: 1, palette });
    const p = await openRaster(join(dir, 'pal.tif'));
    expect(p.photometric).toBe('palette');
    expect(p.palette?.slice(0, 6)).toEqual(palette.map((c) => [...c]));
    expect(sameBits((await p.readNative()).data, mask)).toBe(true);
    await p.close();

    const data = sampleArray('int16', 70 * 50 * 3, 4);
    const bytes = await encodeGeoTiff(data, { width: 70, height: 50, bands: 3, bigTiff: true, tileSize: 32, predictor: true });
    expect([bytes[2], bytes[3]]).toEqual([43, 0]); // BigTIFF magic
    await writeGeoTiff(join(dir, 'bt.tif'), data, { width: 70, height: 50, bands: 3, bigTiff: true, tileSize: 32, predictor: true });
    expect(sameBits(await readFile(join(dir, 'bt.tif')), bytes)).toBe(true);
    const b = await openRaster(join(dir, 'bt.tif'));
    expect(sameBits((await b.readNative()).data, data)).toBe(true);
    await b.close();
  });

  it('refuses bad input with CmidError naming the file, and leaves no temp file', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.tif');
    const cases: Array<[() => Promise<void>, RegExp]> = [
      [() => writeGeoTiff(path, new Uint8Array(10), { width: 4, height: 4, bands: 1 }), /10 samples but width\*height\*bands/],
      [() => writeGeoTiff(path, new Uint8Array(16), { width: 4, height: 4, bands: 1, tileSize: 100 }), /multiples of 16/],
      [() => writeGeoTiff(path, new Uint8Array(16), { width: 4, height: 4, bands: 1, dtype: 'int16' }), /does not match the data/],
      [() => writeGeoTiff(path, new Uint8Array(32), { width: 4, height: 4, bands: 2, photometric: 'rgb' }), /at least 3 bands/],
    ];
    for (const [fn, re] of cases) {
      const err = await fn().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CmidError);
      expect((err as CmidError).kind).toBe('input');
      expect((err as CmidError).message).toContain(path);
      expect((err as CmidError).message).toMatch(re);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('large raster: 4096x4096 4-band uint16, 256-px deflate tiles', () => {
  it('writes, then reads windows with bounded memory and checks values', async () => {
    const dir = await tempDir();
    const N = 4096;
    const B = 4;
    const data = new Uint16Array(N * N * B);
    const value = (x: number, y: number, b: number): number => (x * 3 + y * 5 + b * 10007) & 0xffff;
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      const o = (y * N + x) * B;
      for (let b = 0; b < B; b++) data[o + b] = value(x, y, b);
    }
    const path = join(dir, 'large.tif');
    const t0 = performance.now();
    await writeGeoTiff(path, data, { width: N, height: N, bands: B, predictor: true,
      geo: { transform: [300000, 0.5, 0, 5000000, 0, -0.5], epsg: 32632 } });
    const writeMs = performance.now() - t0;
    const r = await openRaster(path);
    expect([r.width, r.height, r.bands, r.dtype, r.tileWidth]).toEqual([N, N, B, 'uint16', 256]);
    const windows = [
      { x: 0, y: 0, width: 300, height: 200 },
      { x: 1000, y: 2047, width: 513, height: 129 },
      { x: N - 77, y: N - 33, width: 77, height: 33 },
    ];
    for (const w of windows) {
      const out = await r.read({ window: w, bands: [3, 0] });
      expect([out.width, out.height, out.bands]).toEqual([w.width, w.height, 2]);
      let bad = 0;
      for (let y = 0; y < w.height; y++) for (let x = 0; x < w.width; x++) {
        const o = (y * w.width + x) * 2;
        if (out.data[o] !== value(w.x + x, w.y + y, 3) || out.data[o + 1] !== value(w.x + x, w.y + y, 0)) bad++;
      }
      expect(bad).toBe(0);
      expect(out.geo?.transform[0]).toBe(300000 + w.x * 0.5);
      expect(out.geo?.transform[3]).toBe(5000000 - w.y * 0.5);
    }
    await r.close();
    expect(writeMs).toBeLessThan(20_000); // ~3 s on an idle 2-core machine; loose for loaded CI
  }, 60_000);
});

describe.skipIf(!HAVE_GDAL)('GDAL reads what we write (gdalinfo / gdal_translate, Debian gdal-bin)', () => {
  const env = { ...process.env, GDAL_PAM_ENABLED: 'NO' };
  const gdal = (cmd: string, args: string[]): string => {
    const p = spawnSync(cmd, args, { encoding: 'utf8', env });
    if (p.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${p.stderr}`);
    expect(p.stderr).not.toMatch(/ERROR/);
    return p.stdout;
  };
  const GDAL_TYPES: Record<string, string> = {
    uint8: 'Byte', int8: 'Byte', uint16: 'UInt16', int16: 'Int16', uint32: 'UInt32', int32: 'Int32', float32: 'Float32', float64: 'Float64',
  };
  it.each([
    ['uint8', 3, false], ['int8', 1, false], ['uint16', 4, true], ['int16', 13, true], ['uint32', 1, true],
    ['int32', 3, false], ['float32', 1, true], ['float64', 4, true],
  ] as const)('dtype=%s bands=%i predictor=%s: header and every pixel (ENVI BIP dump) match', async (dtype, bands, predictor) => {
    const dir = await tempDir();
    const w = 131;
    const h = 70;
    const data = sampleArray(dtype, w * h * bands, 7);
    const geo: GeoRef = { transform: [440720, 60, 0, 3751320, 0, -60], epsg: 26711 };
    const path = join(dir, 'x.tif');
    await writeGeoTiff(path, data, { width: w, height: h, bands, tileSize: 64, predictor, geo, noData: 0 });
    const info = JSON.parse(gdal('gdalinfo', ['-json', path]));
    expect(info.size).toEqual([w, h]);
    expect(info.bands).toHaveLength(bands);
    expect(info.bands[0].type).toBe(GDAL_TYPES[dtype]);
    expect(info.bands[0].block).toEqual([64, 64]);
    expect(info.bands[0].noDataValue).toBe(0);
    expect(info.geoTransform).toEqual([440720, 60, 0, 3751320, 0, -60]);
    expect(info.coordinateSystem.wkt).toContain('NAD27 / UTM zone 11N');
    gdal('gdal_translate', ['-q', '-of', 'ENVI', '-co', 'INTERLEAVE=BIP', path, join(dir, 'x.raw')]);
    const raw = await readFile(join(dir, 'x.raw'));
    expect(sameBits(raw, data)).toBe(true);
  });

  it('palette, alpha, rotation, user-defined CRS and BigTIFF are understood by gdalinfo', async () => {
    const dir = await tempDir();
    const palette = [[0, 0, 0], [255, 0, 0], [0, 128, 255]] as const;
    await writeGeoTiff(join(dir, 'pal.tif'), new Uint8Array(32 * 32).fill(2), { width: 32, height: 32, bands: 1, palette });
    const pal = JSON.parse(gdal('gdalinfo', ['-json', join(dir, 'pal.tif')]));
    expect(pal.bands[0].colorInterpretation).toBe('Palette');
    expect(pal.bands[0].colorTable.entries.slice(0, 3)).toEqual([[0, 0, 0, 255], [255, 0, 0, 255], [0, 128, 255, 255]]);

    await writeGeoTiff(join(dir, 'rgba.tif'), new Uint8Array(20 * 20 * 4), { width: 20, height: 20, bands: 4, alpha: true });
    const rgba = JSON.parse(gdal('gdalinfo', ['-json', join(dir, 'rgba.tif')]));
    expect(rgba.bands.map((b: { colorInterpretation: string }) => b.colorInterpretation)).toEqual(['Red', 'Green', 'Blue', 'Alpha']);

    const rot: GeoRef = { transform: [500000, 10, 2, 4000000, 1.5, -10], epsg: 32633 };
    await writeGeoTiff(join(dir, 'rot.tif'), new Int16Array(20 * 20), { width: 20, height: 20, bands: 1, geo: rot, bigTiff: true });
    const r = JSON.parse(gdal('gdalinfo', ['-json', join(dir, 'rot.tif')]));
    expect(r.geoTransform).toEqual([500000, 10, 2, 4000000, 1.5, -10]);
    expect(r.coordinateSystem.wkt).toContain('UTM zone 33N');
    expect(gdal('gdalinfo', ['-mdd', 'IMAGE_STRUCTURE', join(dir, 'rot.tif')])).toMatch(/Driver: GTiff/);

    const user: GeoRef = {
      transform: [6301612.204093784, 500, 0, 3314112.2306177607, 0, -500], crsKind: 'projected',
      geoKeys: {
        GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, GTCitationGeoKey: 'unknown', GeographicTypeGeoKey: 32767,
        GeogGeodeticDatumGeoKey: 32767, GeogAngularUnitsGeoKey: 9102, GeogEllipsoidGeoKey: 7019,
        GeogSemiMajorAxisGeoKey: 6378137, GeogInvFlatteningGeoKey: 298.257222101004, GeogPrimeMeridianLongGeoKey: 0,
        ProjectedCSTypeGeoKey: 32767, ProjectionGeoKey: 32767, ProjCoordTransGeoKey: 10, ProjLinearUnitsGeoKey: 9001,
        ProjFalseEastingGeoKey: 4321000, ProjFalseNorthingGeoKey: 3210000, ProjCenterLongGeoKey: 10, ProjCenterLatGeoKey: 52,
      },
    };
    await writeGeoTiff(join(dir, 'laea.tif'), new Float32Array(13 * 12), { width: 13, height: 12, bands: 1, geo: user });
    const l = JSON.parse(gdal('gdalinfo', ['-json', join(dir, 'laea.tif')]));
    expect(l.coordinateSystem.wkt).toMatch(/Lambert_Azimuthal_Equal_Area|Lambert Azimuthal Equal Area/);
    expect(l.coordinateSystem.wkt).toContain('4321000');
  });
});
