import { describe, expect, it } from 'vitest';
import { encodeGeoKeys, geoRefFromTiffTags, guessCrsKind, mapToPixel, pixelToMap, windowGeoRef, type GeoRef } from '../../src/io/georef.js';

describe('georef', () => {
  const geo: GeoRef = { transform: [101985, 300, 0, 2826915, 0, -300], epsg: 32618 };

  it('pixelToMap / mapToPixel are inverse, also with rotation', () => {
    expect(pixelToMap(geo, 0, 0)).toEqual([101985, 2826915]);
    expect(pixelToMap(geo, 10, 2)).toEqual([101985 + 3000, 2826915 - 600]);
    const rot: GeoRef = { transform: [1000, 2, 0.5, 5000, 0.25, -2] };
    const [x, y] = pixelToMap(rot, 7.5, 3.25);
    const [c, r] = mapToPixel(rot, x, y);
    expect(c).toBeCloseTo(7.5, 10);
    expect(r).toBeCloseTo(3.25, 10);
  });

  it('windowGeoRef shifts the origin and scales the pixel size when resampled', () => {
    expect(windowGeoRef(geo, { x: 100, y: 50, width: 64, height: 32 }).transform).toEqual([101985 + 30000, 300, 0, 2826915 - 15000, 0, -300]);
    expect(windowGeoRef(geo, { x: 0, y: 0, width: 64, height: 32 }, 16, 8).transform).toEqual([101985, 1200, 0, 2826915, 0, -1200]);
    expect(windowGeoRef(geo, { x: 0, y: 0, width: 1, height: 1 }).epsg).toBe(32618);
  });

  it('reads tiepoint+scale, ModelTransformation, and shifts PixelIsPoint by half a pixel (as GDAL)', () => {
    const tags = { pixelScale: [60, 60, 0], tiepoint: [0, 0, 0, 440720, 3751320, 0] };
    expect(geoRefFromTiffTags({ ...tags, geoKeys: { GTModelTypeGeoKey: 1, GTRasterTypeGeoKey: 1, ProjectedCSTypeGeoKey: 26711 } }))
      .toMatchObject({ transform: [440720, 60, 0, 3751320, 0, -60], epsg: 26711, crsKind: 'projected' });
    expect(geoRefFromTiffTags({ ...tags, geoKeys: { GTRasterTypeGeoKey: 2 } })?.transform).toEqual([440690, 60, 0, 3751350, 0, -60]);
    expect(geoRefFromTiffTags({ pixelScale: [2, 2, 0], tiepoint: [10, 20, 0, 1000, 2000, 0] })?.transform).toEqual([980, 2, 0, 2040, 0, -2]);
    const m = [10, 2, 0, 500000, 1.5, -10, 0, 4000000, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(geoRefFromTiffTags({ transformation: m })?.transform).toEqual([500000, 10, 2, 4000000, 1.5, -10]);
    expect(geoRefFromTiffTags({})).toBeUndefined();
  });

  it('encodes GeoKeys: header, sorted keys, SHORT inline, DOUBLE and ASCII out of line', () => {
    const k = encodeGeoKeys({ transform: [0, 1, 0, 0, 0, -1], epsg: 4326 });
    expect(k.directory).toEqual([1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326]);
    const u = encodeGeoKeys({ transform: [0, 1, 0, 0, 0, -1], crsKind: 'projected', geoKeys: { ProjFalseEastingGeoKey: 4321000, GTCitationGeoKey: 'unknown' } });
    expect(u.doubles).toEqual([4321000]);
    expect(u.ascii).toBe('unknown|');
    expect(u.directory.slice(0, 4)).toEqual([1, 1, 0, 4]);
    expect(guessCrsKind(4326)).toBe('geographic');
    expect(guessCrsKind(32618)).toBe('projected');
    expect(guessCrsKind(3857)).toBe('projected');
  });
});
