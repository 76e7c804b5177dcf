/**
 * Georeferencing: a GDAL-style affine geotransform plus the CRS, read from and written to GeoTIFF tags.
 *
 * transform = [originX, pixelW, rotX, originY, rotY, pixelH] (GDAL's GT0..GT5), with
 *   mapX = originX + col * pixelW + row * rotX
 *   mapY = originY + col * rotY   + row * pixelH
 * where (col, row) = (0, 0) is the top-left corner of the top-left pixel (pixel-is-area). For a north-up image
 * pixelH is negative. Files tagged PixelIsPoint are shifted by half a pixel on read, as GDAL does, so the
 * transform always means corners; the writer always writes PixelIsArea.
 */

/** GDAL-style geotransform [originX, pixelW, rotX, originY, rotY, pixelH]. */
export type GeoTransform = readonly [number, number, number, number, number, number];

/** One GeoKey value as stored in a GeoTIFF: a SHORT, a DOUBLE (or DOUBLE array), or an ASCII string. */
export type GeoKeyValue = number | string | readonly number[];

export interface GeoRef {
  /** GDAL-style geotransform; see the file header. */
  transform: GeoTransform;
  /** EPSG code of the CRS; absent for a user-defined CRS (GeoKey value 32767) or when unknown. */
  epsg?: number;
  /** WKT of the CRS when the file carries one (GDAL's "ESRI PE String" citation); GeoTIFF usually stores keys. */
  wkt?: string;
  /** Kind of CRS, from GTModelTypeGeoKey. The writer needs it to choose ProjectedCSType or GeographicType. */
  crsKind?: 'projected' | 'geographic' | 'geocentric';
  /**
   * Every GeoKey of the source file by its GeoTIFF name (e.g. ProjFalseEastingGeoKey). The writer copies them,
   * so a user-defined CRS survives read -> crop -> write. Leave out when building a GeoRef from an EPSG code.
   */
  geoKeys?: Readonly<Record<string, GeoKeyValue>>;
}

/** A box in pixels: column x, row y of the top-left corner, then its size. */
export interface PixelWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Map coordinates [x, y] of pixel position (col, row); (0, 0) is the top-left corner of the image. */
export function pixelToMap(geo: GeoRef, col: number, row: number): [number, number] {
  const [a, b, c, d, e, f] = geo.transform;
  return [a + col * b + row * c, d + col * e + row * f];
}

/** Pixel position [col, row] (fractional) of map coordinates (x, y): the inverse of pixelToMap. */
export function mapToPixel(geo: GeoRef, x: number, y: number): [number, number] {
  const [a, b, c, d, e, f] = geo.transform;
  const det = b * f - c * e;
  if (det === 0) throw new Error(`mapToPixel: geotransform [${geo.transform.join(', ')}] is not invertible.`);
  const dx = x - a;
  const dy = y - d;
  return [(f * dx - c * dy) / det, (-e * dx + b * dy) / det];
}

/**
 * The GeoRef of a window of an image: origin moved to the window's top-left corner, and pixel size scaled when
 * the window is resampled to outWidth x outHeight. The CRS is kept.
 */
export function windowGeoRef(geo: GeoRef, window: PixelWindow, outWidth = window.width, outHeight = window.height): GeoRef {
  const [, b, c, , e, f] = geo.transform;
  const [ox, oy] = pixelToMap(geo, window.x, window.y);
  const sx = window.width / outWidth;
  const sy = window.height / outHeight;
  return { ...geo, transform: [ox, b * sx, c * sy, oy, e * sx, f * sy] };
}

/** True when the transform has rotation/shear terms, which need ModelTransformation in a GeoTIFF. */
export function isRotated(t: GeoTransform): boolean {
  return t[2] !== 0 || t[4] !== 0;
}

// ---------------------------------------------------------------------------------------------------------------
// GeoKeys (GeoTIFF 1.0 names, as geotiff.js reports them) and how each is stored.

type GeoKeyStorage = 'short' | 'double' | 'ascii';

/** id, name, storage. Keys 3078-3096 are the projection parameters, all DOUBLE. */
export const GEO_KEYS: ReadonlyArray<readonly [number, string, GeoKeyStorage]> = [
  [1024, 'GTModelTypeGeoKey', 'short'],
  [1025, 'GTRasterTypeGeoKey', 'short'],
  [1026, 'GTCitationGeoKey', 'ascii'],
  [2048, 'GeographicTypeGeoKey', 'short'],
  [2049, 'GeogCitationGeoKey', 'ascii'],
  [2050, 'GeogGeodeticDatumGeoKey', 'short'],
  [2051, 'GeogPrimeMeridianGeoKey', 'short'],
  [2052, 'GeogLinearUnitsGeoKey', 'short'],
  [2053, 'GeogLinearUnitSizeGeoKey', 'double'],
  [2054, 'GeogAngularUnitsGeoKey', 'short'],
  [2055, 'GeogAngularUnitSizeGeoKey', 'double'],
  [2056, 'GeogEllipsoidGeoKey', 'short'],
  [2057, 'GeogSemiMajorAxisGeoKey', 'double'],
  [2058, 'GeogSemiMinorAxisGeoKey', 'double'],
  [2059, 'GeogInvFlatteningGeoKey', 'double'],
  [2060, 'GeogAzimuthUnitsGeoKey', 'short'],
  [2061, 'GeogPrimeMeridianLongGeoKey', 'double'],
  [2062, 'GeogTOWGS84GeoKey', 'double'],
  [3072, 'ProjectedCSTypeGeoKey', 'short'],
  [3073, 'PCSCitationGeoKey', 'ascii'],
  [3074, 'ProjectionGeoKey', 'short'],
  [3075, 'ProjCoordTransGeoKey', 'short'],
  [3076, 'ProjLinearUnitsGeoKey', 'short'],
  [3077, 'ProjLinearUnitSizeGeoKey', 'double'],
  [3078, 'ProjStdParallel1GeoKey', 'double'],
  [3079, 'ProjStdParallel2GeoKey', 'double'],
  [3080, 'ProjNatOriginLongGeoKey', 'double'],
  [3081, 'ProjNatOriginLatGeoKey', 'double'],
  [3082, 'ProjFalseEastingGeoKey', 'double'],
  [3083, 'ProjFalseNorthingGeoKey', 'double'],
  [3084, 'ProjFalseOriginLongGeoKey', 'double'],
  [3085, 'ProjFalseOriginLatGeoKey', 'double'],
  [3086, 'ProjFalseOriginEastingGeoKey', 'double'],
  [3087, 'ProjFalseOriginNorthingGeoKey', 'double'],
  [3088, 'ProjCenterLongGeoKey', 'double'],
  [3089, 'ProjCenterLatGeoKey', 'double'],
  [3090, 'ProjCenterEastingGeoKey', 'double'],
  [3091, 'ProjCenterNorthingGeoKey', 'double'],
  [3092, 'ProjScaleAtNatOriginGeoKey', 'double'],
  [3093, 'ProjScaleAtCenterGeoKey', 'double'],
  [3094, 'ProjAzimuthAngleGeoKey', 'double'],
  [3095, 'ProjStraightVertPoleLongGeoKey', 'double'],
  [3096, 'ProjRectifiedGridAngleGeoKey', 'double'],
  [4096, 'VerticalCSTypeGeoKey', 'short'],
  [4097, 'VerticalCitationGeoKey', 'ascii'],
  [4098, 'VerticalDatumGeoKey', 'short'],
  [4099, 'VerticalUnitsGeoKey', 'short'],
];

const KEY_BY_NAME = new Map(GEO_KEYS.map(([id, name, storage]) => [name, { id, storage }]));

/** GeoKey value meaning "user-defined" (no EPSG code). */
const USER_DEFINED = 32767;
const MODEL_TYPES = { projected: 1, geographic: 2, geocentric: 3 } as const;

/** The raw GeoTIFF tags a GeoRef is built from. */
export interface GeoTiffTags {
  pixelScale?: ArrayLike<number>;
  tiepoint?: ArrayLike<number>;
  transformation?: ArrayLike<number>;
  geoKeys?: Record<string, unknown> | null;
}

/**
 * The GeoRef of a GeoTIFF image, or undefined when it has neither ModelTransformation nor
 * ModelTiepoint + ModelPixelScale. A PixelIsPoint raster is shifted by half a pixel to corner convention.
 */
export function geoRefFromTiffTags(tags: GeoTiffTags): GeoRef | undefined {
  let t: [number, number, number, number, number, number];
  const m = tags.transformation;
  if (m !== undefined && m.length >= 16) {
    // Row-major 4x4: X = m0*i + m1*j + m3, Y = m4*i + m5*j + m7.
    t = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else if (tags.tiepoint !== undefined && tags.tiepoint.length >= 6 && tags.pixelScale !== undefined && tags.pixelScale.length >= 2) {
    const [i, j, , x, y] = Array.from(tags.tiepoint) as number[];
    const sx = tags.pixelScale[0]!;
    const sy = tags.pixelScale[1]!;
    t = [x! - i! * sx, sx, 0, y! + j! * sy, 0, -sy];
  } else {
    return undefined;
  }
  const keys = tags.geoKeys ?? {};
  if (keys['GTRasterTypeGeoKey'] === 2) {
    // PixelIsPoint: the tie point is the centre of pixel (i, j); move to the corner, as GDAL does by default.
    t = [t[0] - 0.5 * t[1] - 0.5 * t[2], t[1], t[2], t[3] - 0.5 * t[4] - 0.5 * t[5], t[4], t[5]];
  }
  const geo: GeoRef = { transform: t };
  const modelType = keys['GTModelTypeGeoKey'];
  if (modelType === 1) geo.crsKind = 'projected';
  else if (modelType === 2) geo.crsKind = 'geographic';
  else if (modelType === 3) geo.crsKind = 'geocentric';
  const pcs = keys['ProjectedCSTypeGeoKey'];
  const gcs = keys['GeographicTypeGeoKey'];
  if (typeof pcs === 'number' && pcs > 0 && pcs < USER_DEFINED) geo.epsg = pcs;
  else if (geo.crsKind !== 'projected' && typeof gcs === 'number' && gcs > 0 && gcs < USER_DEFINED) geo.epsg = gcs;
  const citation = keys['GTCitationGeoKey'] ?? keys['PCSCitationGeoKey'];
  if (typeof citation === 'string' && citation.startsWith('ESRI PE String = ')) geo.wkt = citation.slice(17);
  const copied: Record<string, GeoKeyValue> = {};
  for (const [name, value] of Object.entries(keys)) {
    if (!KEY_BY_NAME.has(name)) continue;
    if (typeof value === 'number' || typeof value === 'string') copied[name] = value;
    else if (value !== null && typeof value === 'object' && 'length' in value) copied[name] = Array.from(value as ArrayLike<number>);
  }
  if (Object.keys(copied).length > 0) geo.geoKeys = copied;
  return geo;
}

/** Guess the CRS kind of an EPSG code: 4000-4999 are geographic 2D CRSs (except a few), the rest projected. */
export function guessCrsKind(epsg: number): 'projected' | 'geographic' | 'geocentric' {
  if (epsg === 4978) return 'geocentric';
  if (epsg >= 4000 && epsg < 5000 && epsg !== 4087 && epsg !== 4088) return 'geographic';
  return 'projected';
}

/** The encoded GeoKeyDirectory (tag 34735), GeoDoubleParams (34736) and GeoAsciiParams (34737) for a GeoRef. */
export interface EncodedGeoKeys {
  directory: number[];
  doubles: number[];
  ascii: string;
}

/**
 * Encodes the GeoKeys of `geo`: its `geoKeys` when present, then GTRasterType = PixelIsArea (the transform is
 * corner-based), and GTModelType + ProjectedCSType/GeographicType from `epsg`/`crsKind` when set.
 */
export function encodeGeoKeys(geo: GeoRef): EncodedGeoKeys {
  const keys = new Map<string, GeoKeyValue>(Object.entries(geo.geoKeys ?? {}));
  keys.set('GTRasterTypeGeoKey', 1);
  const kind = geo.crsKind ?? (geo.epsg !== undefined ? guessCrsKind(geo.epsg) : undefined);
  if (kind !== undefined) keys.set('GTModelTypeGeoKey', MODEL_TYPES[kind]);
  if (geo.epsg !== undefined) {
    if (kind === 'projected') {
      keys.set('ProjectedCSTypeGeoKey', geo.epsg);
    } else {
      keys.set('GeographicTypeGeoKey', geo.epsg);
      keys.delete('ProjectedCSTypeGeoKey');
    }
  }
  if (geo.wkt !== undefined && !keys.has('GTCitationGeoKey')) keys.set('GTCitationGeoKey', `ESRI PE String = ${geo.wkt}`);
  const entries = [...keys.entries()]
    .map(([name, value]) => ({ name, value, def: KEY_BY_NAME.get(name) }))
    .filter((k) => k.def !== undefined)
    .sort((p, q) => p.def!.id - q.def!.id);
  const directory = [1, 1, 0, entries.length];
  const doubles: number[] = [];
  let ascii = '';
  for (const { name, value, def } of entries) {
    const { id, storage } = def!;
    if (storage === 'short') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
        throw new Error(`encodeGeoKeys: ${name} must be an integer in 0..65535, got ${JSON.stringify(value)}.`);
      }
      directory.push(id, 0, 1, value);
    } else if (storage === 'double') {
      const values = typeof value === 'number' ? [value] : typeof value === 'string' ? [Number(value)] : [...value];
      directory.push(id, 34736, values.length, doubles.length);
      doubles.push(...values);
    } else {
      const s = `${String(value)}|`; // '|' terminates each string in GeoAsciiParams
      directory.push(id, 34737, s.length, ascii.length);
      ascii += s;
    }
  }
  return { directory, doubles, ascii };
}
