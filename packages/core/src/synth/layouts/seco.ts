/**
 * SeCo (Seasonal Contrast) pretraining data, synthetic, in the layout of `seasonal_contrast_100k`:
 *
 *   {location:06d}/{sensing}_{granule}_T{MGRS}/B1.tif ... B12.tif   one uint8 GeoTIFF per band (no B10)
 *   {location:06d}/{sensing}_{granule}_T{MGRS}/metadata.json
 *   {location:06d}/{sensing}_{granule}_T{MGRS}.tif                  RGB preview (B4, B3, B2)
 *
 * Five dates per location, about 12 weeks apart (SeCo's 3-6-9-12 month sampling with one random offset), the
 * same place painted under each date's season and sun: phenology, crop stages, snow at high latitude in
 * winter. Bands are 264 x 264 (10 m: B2, B3, B4, B8), 132 x 132 (20 m: B5, B6, B7, B8A, B11, B12) and 44 x 44
 * (60 m: B1, B9), values reflectance x 255 as SeCo's rescale to uint8. Georeference as the real patches:
 * EPSG:4326 (`+proj=latlong`), pixel size the degrees of 10/20/60 m at the location.
 */
import type { GeoRef } from '../../io/georef.js';
import type { Rng } from '../../rng/rng.js';
import { conditionsForDate } from '../scene/conditions.js';
import { climateFor, landscape, type Climate } from '../scene/landscape.js';
import { ALL_BANDS, render, toReflectance8 } from '../scene/render.js';
import { BAND, S2_BANDS, type S2BandName } from '../scene/materials.js';
import { Scene } from '../scene/scene.js';
import type { SynthOptions, SynthResult, SynthSize } from '../options.js';
import { DatasetWriter, prepare, sampleRng } from './common.js';

/** The 12 bands SeCo keeps (all L2A bands but B10), in file-name order of the real patches. */
export const SECO_BANDS = ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7', 'B8', 'B8A', 'B9', 'B11', 'B12'] as const satisfies readonly S2BandName[];
/** Patch size per native resolution. */
export const SECO_SIZE: Readonly<Record<number, number>> = { 10: 264, 20: 132, 60: 44 };
export const SECO_DATES = 5;

export const SECO_LOCATIONS: Record<SynthSize, number> = { tiny: 2, small: 40, medium: 400 };

export interface SecoPatch {
  /** GEE system:index of the image, the patch folder name. */
  id: string;
  date: Date;
  /** Band name -> uint8 pixels (size x size, see SECO_SIZE). */
  bands: Map<S2BandName, Uint8Array>;
  /** RGB preview, 264 x 264 x 3. */
  rgb: Uint8Array;
  spacecraft: 'Sentinel-2A' | 'Sentinel-2B';
}

export interface SecoLocation {
  latitude: number;
  longitude: number;
  climate: Climate;
  mgrs: string;
  patches: SecoPatch[];
}

const LAT_BANDS = 'CDEFGHJKLMNPQRSTUVWX';
const SQUARE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

function mgrsTile(rng: Rng, lat: number, lon: number): string {
  const zone = Math.floor((lon + 180) / 6) + 1;
  const band = LAT_BANDS[Math.max(0, Math.min(LAT_BANDS.length - 1, Math.floor((lat + 80) / 8)))]!;
  return `${String(zone).padStart(2, '0')}${band}${SQUARE_LETTERS[rng.int(0, 24)]}${SQUARE_LETTERS[rng.int(0, 20)]}`;
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').slice(0, 15);

/** Geographic pixel size (degrees) for `metres` at `lat`, and the patch's GeoRef. */
export function secoGeo(lat: number, lon: number, metres: number): GeoRef {
  const size = SECO_SIZE[metres]!;
  const dLat = metres / 111320;
  const dLon = metres / (111320 * Math.cos((lat * Math.PI) / 180));
  return { transform: [lon - (dLon * size) / 2, dLon, 0, lat + (dLat * size) / 2, 0, -dLat], epsg: 4326, crsKind: 'geographic' };
}

function boxDown(values: Float32Array, size: number, bands: number, band: number, f: number): Float32Array {
  const n = size / f;
  const out = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let s = 0;
    for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += values[((y * f + dy) * size + x * f + dx) * bands + band]!;
    out[y * n + x] = s / (f * f);
  }
  return out;
}

/** Location `index` under `seed`: its place, its 5 dates and every band of every date. */
export function secoLocation(seed: number, index: number): SecoLocation {
  const rng = sampleRng(seed, 'seco', index);
  const latitude = Math.round(rng.uniform(-40, 62) * 1e4) / 1e4;
  const longitude = Math.round(rng.uniform(-124, 150) * 1e4) / 1e4;
  const climate = climateFor(latitude, rng);
  const mgrs = mgrsTile(rng, latitude, longitude);
  const size = SECO_SIZE[10]!;
  const scene = new Scene(size, size, 10, rng.nextU32());
  landscape(scene, rng, climate);
  // SeCo: (reference - 4 weeks) and 12, 24, 36, 48 weeks before, all shifted by one offset, within 15 days
  const ref = Date.UTC(2020, 8, 1) - rng.int(0, 365) * 86400000;
  const utcHour = (((10.5 - longitude / 15) % 24) + 24) % 24;
  const patches: SecoPatch[] = [];
  for (let k = SECO_DATES - 1; k >= 0; k--) {
    const day = ref - (4 + 12 * k) * 7 * 86400000 - rng.int(0, 15) * 86400000;
    const sensing = new Date(day + Math.round((utcHour + rng.uniform(-0.2, 0.2)) * 3600) * 1000);
    const granule = new Date(sensing.getTime() + rng.int(3, 20) * 1000);
    const id = `${stamp(sensing)}_${stamp(granule)}_T${mgrs}`;
    const doy = Math.floor((sensing.getTime() - Date.UTC(sensing.getUTCFullYear(), 0, 1)) / 86400000);
    const date = conditionsForDate(rng, doy, latitude, 10.5);
    const cond = { ...date, haze: date.haze * 0.3 }; // L2A surface reflectance: the atmosphere is mostly removed
    const canvas = scene.paint(cond);
    const values = render(canvas, cond, { bands: ALL_BANDS, textureSeed: scene.textureSeed, blur: 0.5, noise: 0.004 });
    const bands = new Map<S2BandName, Uint8Array>();
    for (const name of SECO_BANDS) {
      const b = BAND[name];
      const res = S2_BANDS[b]!.res;
      const f = res / 10;
      bands.set(name, toReflectance8(boxDown(values, size, ALL_BANDS.length, b, f)));
    }
    const rgb = new Uint8Array(size * size * 3);
    const [r, g, bl] = [bands.get('B4')!, bands.get('B3')!, bands.get('B2')!];
    for (let i = 0; i < size * size; i++) {
      rgb[3 * i] = r[i]!;
      rgb[3 * i + 1] = g[i]!;
      rgb[3 * i + 2] = bl[i]!;
    }
    patches.push({ id, date: sensing, bands, rgb, spacecraft: rng.next() < 0.5 ? 'Sentinel-2A' : 'Sentinel-2B' });
  }
  return { latitude, longitude, climate, mgrs, patches };
}

/** Writes the synthetic SeCo tree under `o.out`. */
export async function seco(o: SynthOptions): Promise<SynthResult> {
  const p = prepare('seco', o);
  const n = SECO_LOCATIONS[p.size];
  const w = new DatasetWriter('seco', p, n, 16);
  for (let i = 0; i < n; i++) {
    const loc = secoLocation(p.seed, i);
    const dir = String(i).padStart(6, '0');
    for (const patch of loc.patches) {
      for (const [name, data] of patch.bands) {
        const res = S2_BANDS[BAND[name]]!.res;
        const size = SECO_SIZE[res]!;
        await w.geotiff(`${dir}/${patch.id}/${name}.tif`, data, { width: size, height: size, bands: 1, geo: secoGeo(loc.latitude, loc.longitude, res), tileSize: 256 });
      }
      await w.geotiff(`${dir}/${patch.id}.tif`, patch.rgb, { width: 264, height: 264, bands: 3, geo: secoGeo(loc.latitude, loc.longitude, 10), tileSize: 256 });
      const meta = {
        'system:index': patch.id,
        MGRS_TILE: loc.mgrs,
        SENSING_TIME: patch.date.toISOString(),
        SPACECRAFT_NAME: patch.spacecraft,
        CLOUDY_PIXEL_PERCENTAGE: 0,
        latitude: loc.latitude,
        longitude: loc.longitude,
        synthetic: true,
      };
      await w.text(`${dir}/${patch.id}/metadata.json`, `${JSON.stringify(meta, null, 2)}\n`);
    }
    w.sampleDone();
  }
  return w.finish({ locations: n, datesPerLocation: SECO_DATES, bands: SECO_BANDS, crs: 'EPSG:4326' });
}
