/**
 * Acquisition conditions: the season (vegetation vigour, autumn colour, snow, crop calendar) and the
 * illumination (sun azimuth and elevation, brightness, haze, white balance). A scene's geometry is fixed;
 * painting it under two Conditions gives two dates of the same place (SeCo time series, CDD pairs).
 *
 * Sun geometry: solar declination from the day of year (Cooper's formula) and the elevation/azimuth at a given
 * local solar time (Sentinel-2 passes at about 10:30). Azimuth is where the sun stands, clockwise from north
 * (image up); shadows point the opposite way.
 */
import type { Rng } from '../../rng/rng.js';

export interface Conditions {
  /** Vegetation vigour: 0 dormant (winter) .. 1 peak (summer). */
  greenness: number;
  /** Autumn colouring of deciduous canopies and drying of grass, 0..1. */
  autumn: number;
  /** Snow cover, 0 none .. 1 everything that holds snow. */
  snow: number;
  /** Position in the crop calendar, 0..1; each field adds its own offset. */
  cropPhase: number;
  /** Where the sun stands, degrees clockwise from north. */
  sunAzimuth: number;
  /** Sun elevation above the horizon, degrees (kept >= 12 so shadows stay finite). */
  sunElevation: number;
  /** Overall gain (exposure, atmosphere), about 0.8..1.2. */
  brightness: number;
  /** Path radiance added to every band, 0..0.15 (blue most). */
  haze: number;
  /** White balance gains for the visible bands [red, green, blue]. */
  whiteBalance: readonly [number, number, number];
}

export type Season = 'spring' | 'summer' | 'autumn' | 'winter';

/** Mid-season day of year in the northern hemisphere. */
const SEASON_DAY: Record<Season, number> = { winter: 20, spring: 110, summer: 195, autumn: 290 };

const deg = Math.PI / 180;

/** Solar elevation and azimuth (degrees) at `solarHour` local solar time. */
export function sunPosition(dayOfYear: number, latitudeDeg: number, solarHour = 10.5): { elevation: number; azimuth: number } {
  const decl = 23.44 * Math.sin((2 * Math.PI * (284 + dayOfYear)) / 365) * deg;
  const lat = latitudeDeg * deg;
  const h = (solarHour - 12) * 15 * deg;
  const sinEl = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(h);
  const el = Math.asin(Math.max(-1, Math.min(1, sinEl)));
  const az = Math.atan2(Math.sin(h), Math.cos(h) * Math.sin(lat) - Math.tan(decl) * Math.cos(lat)) + Math.PI;
  return { elevation: el / deg, azimuth: ((az / deg) % 360 + 360) % 360 };
}

const bump = (d: number, centre: number, width: number): number => {
  let x = Math.abs(d - centre) % 365;
  if (x > 182.5) x = 365 - x;
  return Math.exp(-0.5 * (x / width) ** 2);
};

/**
 * Conditions for a calendar day at a latitude: phenology from the day (hemisphere-aware), snow likelier at high
 * latitude in winter, sun from sunPosition at about 10:30, random brightness/haze/white balance.
 */
export function conditionsForDate(rng: Rng, dayOfYear: number, latitudeDeg: number, solarHour = 10.5): Conditions {
  const d = latitudeDeg >= 0 ? dayOfYear : (dayOfYear + 182) % 365;
  const absLat = Math.abs(latitudeDeg);
  const seasonality = Math.min(1, Math.max(0.15, (absLat - 10) / 35)); // tropics stay green
  const summer = bump(d, 200, 55);
  const greenness = Math.min(1, Math.max(0, 1 - seasonality * (1 - summer) * 1.1));
  const autumn = seasonality * bump(d, 295, 22);
  const winter = bump(d, 20, 40);
  const snowChance = Math.max(0, (absLat - 38) / 20) * winter;
  const snow = rng.next() < snowChance ? Math.min(1, 0.4 + 0.6 * rng.next()) : 0;
  const { elevation, azimuth } = sunPosition(dayOfYear, latitudeDeg, solarHour);
  return {
    greenness,
    autumn,
    snow,
    cropPhase: d / 365,
    sunAzimuth: azimuth,
    sunElevation: Math.max(12, elevation),
    brightness: rng.uniform(0.88, 1.12),
    haze: rng.uniform(0, 0.04),
    whiteBalance: [rng.uniform(0.94, 1.06), rng.uniform(0.96, 1.04), rng.uniform(0.93, 1.07)],
  };
}

/**
 * Random conditions for one aerial image: a season (random unless given), a mid-latitude northern site, a
 * random time between 9:00 and 15:00, and the usual brightness/haze/white-balance spread.
 */
export function randomConditions(rng: Rng, options: { season?: Season; latitude?: number; snow?: boolean } = {}): Conditions {
  const seasons: Season[] = ['spring', 'summer', 'autumn', 'winter'];
  const season = options.season ?? seasons[rng.int(0, 4)]!;
  const day = (SEASON_DAY[season] + rng.int(-25, 26) + 365) % 365;
  const lat = options.latitude ?? rng.uniform(35, 55);
  const c = conditionsForDate(rng, day, lat, rng.uniform(9, 15));
  if (options.snow === false) return { ...c, snow: 0 };
  if (options.snow === true) return { ...c, snow: Math.max(c.snow, rng.uniform(0.6, 1)) };
  return c;
}

/** Fixed mid-summer noon conditions, for tests and figures that must not vary. */
export const SUMMER_NOON: Conditions = {
  greenness: 1,
  autumn: 0,
  snow: 0,
  cropPhase: 0.5,
  sunAzimuth: 165,
  sunElevation: 55,
  brightness: 1,
  haze: 0.01,
  whiteBalance: [1, 1, 1],
};
