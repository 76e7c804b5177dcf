/**
 * @cmid/core/io: imagery in and out. Decoding (GeoTIFF via geotiff.js, JPEG/PNG/WebP via sharp, both loaded
 * lazily) to float32 HWC with georeferencing, windowed reads, and a tiled, compressed GeoTIFF writer.
 */

// --- reading
export { openRaster, readRaster, type ReadRasterOptions, type RasterData, type RasterHandle } from './read-raster.js';
export { sniffFormat, type RasterFormat, type RasterInfo } from './decoders/index.js';

// --- writing
export { writeGeoTiff, encodeGeoTiff, type WriteGeoTiffOptions } from './write-geotiff.js';
export { writeFileAtomic } from '../checkpoint/atomic-write.js';

// --- georeferencing
export {
  pixelToMap,
  mapToPixel,
  windowGeoRef,
  geoRefFromTiffTags,
  encodeGeoKeys,
  guessCrsKind,
  isRotated,
  type GeoRef,
  type GeoTransform,
  type GeoKeyValue,
  type PixelWindow,
} from './georef.js';

// --- sample types
export { RASTER_DTYPES, DTYPE_INFO, dtypeFromTiff, dtypeOfArray, type RasterDtype, type RasterTypedArray } from './dtypes.js';
