/**
 * Surface materials and semantic classes.
 *
 * A painter writes, per pixel, a material (how the surface looks) and a semantic class (what it is). The two are
 * kept apart because one material serves several classes (white paint is a road marking or a plane) and because
 * the look changes with the date (season, snow, sun) while the class does not.
 *
 * Each material carries a surface reflectance (0..1) at the 13 Sentinel-2 MSI bands, approximate values in the
 * spirit of the USGS/ASTER spectral libraries (vegetation red edge and NIR plateau, water absorbing in the NIR,
 * snow dark in the SWIR). RGB products use B4/B3/B2, IRRG uses B8/B4/B3, SeCo writes 12 bands (no B10).
 */

/** Sentinel-2 MSI bands: name, centre wavelength (nm), native resolution (m). */
export const S2_BANDS = [
  { name: 'B1', nm: 443, res: 60 },
  { name: 'B2', nm: 490, res: 10 },
  { name: 'B3', nm: 560, res: 10 },
  { name: 'B4', nm: 665, res: 10 },
  { name: 'B5', nm: 705, res: 20 },
  { name: 'B6', nm: 740, res: 20 },
  { name: 'B7', nm: 783, res: 20 },
  { name: 'B8', nm: 842, res: 10 },
  { name: 'B8A', nm: 865, res: 20 },
  { name: 'B9', nm: 945, res: 60 },
  { name: 'B10', nm: 1375, res: 60 },
  { name: 'B11', nm: 1610, res: 20 },
  { name: 'B12', nm: 2190, res: 20 },
] as const;
export type S2BandName = (typeof S2_BANDS)[number]['name'];
export const N_BANDS = S2_BANDS.length;
/** Band indices into a 13-band spectrum. */
export const BAND: Readonly<Record<S2BandName, number>> = Object.fromEntries(S2_BANDS.map((b, i) => [b.name, i])) as Record<S2BandName, number>;
/** Band order of an RGB product and of an IRRG (near-infrared, red, green) product. */
export const RGB_BANDS = [BAND.B4, BAND.B3, BAND.B2] as const;
export const IRRG_BANDS = [BAND.B8, BAND.B4, BAND.B3] as const;

/**
 * Generic semantic classes written by the painters; each layout maps them to its own ids
 * (ISPRS: impervious, building, low vegetation, tree, car, clutter).
 */
export const SEM = {
  bare: 0, // soil, sand, rock, gravel
  road: 1, // roads, pavement, parking, runways, sports hard courts: impervious
  building: 2,
  lowveg: 3, // grass, crops, shrubs
  tree: 4,
  car: 5, // small vehicles
  water: 6,
  vehicle: 7, // large vehicles
  plane: 8,
  ship: 9,
  tank: 10, // storage tanks
  structure: 11, // bridges, piers, other man-made clutter
} as const;
export type SemClass = (typeof SEM)[keyof typeof SEM];

/** How a vegetated material follows the seasons (render time). */
export type Phenology = 'grass' | 'crop' | 'deciduous' | 'conifer' | 'shrub';

export interface Material {
  readonly name: string;
  /** Reflectance at the 13 S2 bands. */
  readonly refl: readonly number[];
  /** Relative amplitude of the medium-scale texture (patches, canopy clumps, stains). */
  readonly texture: number;
  /** Relative amplitude of per-pixel grain. */
  readonly grain: number;
  readonly phenology?: Phenology;
  /** How readily snow covers it, 0..1 (roads are ploughed, water stays open). */
  readonly snow: number;
}

//            B1     B2     B3     B4     B5     B6     B7     B8     B8A    B9     B10    B11    B12
const S = (...v: number[]): readonly number[] => v;

const MATERIAL_LIST = [
  { name: 'soil', refl: S(0.07, 0.09, 0.13, 0.18, 0.21, 0.23, 0.25, 0.27, 0.28, 0.27, 0.01, 0.36, 0.30), texture: 0.18, grain: 0.05, snow: 1 },
  { name: 'sand', refl: S(0.22, 0.27, 0.34, 0.40, 0.42, 0.44, 0.45, 0.46, 0.47, 0.46, 0.02, 0.52, 0.44), texture: 0.08, grain: 0.04, snow: 1 },
  { name: 'gravel', refl: S(0.15, 0.17, 0.19, 0.21, 0.22, 0.23, 0.24, 0.25, 0.25, 0.25, 0.01, 0.30, 0.27), texture: 0.12, grain: 0.10, snow: 0.9 },
  { name: 'grass', refl: S(0.03, 0.04, 0.085, 0.045, 0.11, 0.29, 0.37, 0.41, 0.42, 0.39, 0.01, 0.22, 0.11), texture: 0.14, grain: 0.06, phenology: 'grass', snow: 1 },
  { name: 'lawn', refl: S(0.03, 0.045, 0.10, 0.05, 0.12, 0.31, 0.40, 0.44, 0.45, 0.42, 0.01, 0.23, 0.11), texture: 0.07, grain: 0.04, phenology: 'grass', snow: 1 },
  { name: 'crop', refl: S(0.03, 0.04, 0.09, 0.04, 0.12, 0.33, 0.43, 0.48, 0.49, 0.45, 0.01, 0.24, 0.11), texture: 0.06, grain: 0.04, phenology: 'crop', snow: 1 },
  { name: 'shrub', refl: S(0.03, 0.035, 0.06, 0.055, 0.09, 0.18, 0.22, 0.25, 0.26, 0.24, 0.01, 0.22, 0.13), texture: 0.25, grain: 0.08, phenology: 'shrub', snow: 0.8 },
  { name: 'deciduous', refl: S(0.02, 0.03, 0.065, 0.035, 0.09, 0.26, 0.34, 0.38, 0.39, 0.36, 0.01, 0.18, 0.08), texture: 0.30, grain: 0.08, phenology: 'deciduous', snow: 0.6 },
  { name: 'conifer', refl: S(0.02, 0.025, 0.045, 0.025, 0.06, 0.16, 0.21, 0.24, 0.25, 0.23, 0.01, 0.12, 0.05), texture: 0.30, grain: 0.08, phenology: 'conifer', snow: 0.45 },
  { name: 'asphalt', refl: S(0.075, 0.08, 0.085, 0.09, 0.095, 0.10, 0.105, 0.11, 0.11, 0.11, 0.01, 0.13, 0.12), texture: 0.06, grain: 0.05, snow: 0.25 },
  { name: 'concrete', refl: S(0.22, 0.25, 0.28, 0.30, 0.31, 0.32, 0.33, 0.33, 0.34, 0.33, 0.02, 0.36, 0.32), texture: 0.06, grain: 0.04, snow: 0.5 },
  { name: 'paving', refl: S(0.14, 0.16, 0.18, 0.20, 0.21, 0.22, 0.23, 0.23, 0.24, 0.23, 0.01, 0.27, 0.24), texture: 0.05, grain: 0.09, snow: 0.6 },
  { name: 'paint', refl: S(0.60, 0.62, 0.63, 0.63, 0.63, 0.63, 0.63, 0.63, 0.63, 0.62, 0.03, 0.55, 0.50), texture: 0.02, grain: 0.02, snow: 0.25 },
  { name: 'yellow_paint', refl: S(0.08, 0.10, 0.45, 0.55, 0.56, 0.57, 0.57, 0.57, 0.57, 0.56, 0.02, 0.50, 0.45), texture: 0.02, grain: 0.02, snow: 0.25 },
  { name: 'roof_red', refl: S(0.06, 0.07, 0.095, 0.26, 0.30, 0.32, 0.33, 0.34, 0.34, 0.33, 0.02, 0.38, 0.30), texture: 0.05, grain: 0.06, snow: 0.9 },
  { name: 'roof_grey', refl: S(0.10, 0.11, 0.12, 0.13, 0.13, 0.14, 0.14, 0.15, 0.15, 0.15, 0.01, 0.16, 0.15), texture: 0.05, grain: 0.05, snow: 0.9 },
  { name: 'roof_flat', refl: S(0.18, 0.20, 0.22, 0.23, 0.24, 0.24, 0.25, 0.25, 0.25, 0.25, 0.02, 0.27, 0.25), texture: 0.08, grain: 0.05, snow: 0.95 },
  { name: 'roof_metal', refl: S(0.40, 0.42, 0.44, 0.45, 0.45, 0.45, 0.46, 0.46, 0.46, 0.45, 0.02, 0.40, 0.35), texture: 0.04, grain: 0.03, snow: 0.8 },
  { name: 'roof_dark', refl: S(0.05, 0.055, 0.06, 0.065, 0.07, 0.07, 0.075, 0.08, 0.08, 0.08, 0.01, 0.09, 0.08), texture: 0.05, grain: 0.05, snow: 0.9 },
  { name: 'roof_brown', refl: S(0.05, 0.06, 0.08, 0.14, 0.16, 0.18, 0.19, 0.20, 0.20, 0.20, 0.01, 0.24, 0.20), texture: 0.05, grain: 0.06, snow: 0.9 },
  { name: 'water', refl: S(0.065, 0.06, 0.05, 0.028, 0.022, 0.014, 0.010, 0.008, 0.007, 0.005, 0.001, 0.003, 0.002), texture: 0.06, grain: 0.02, snow: 0 },
  { name: 'water_turbid', refl: S(0.06, 0.07, 0.085, 0.065, 0.055, 0.03, 0.02, 0.015, 0.014, 0.01, 0.001, 0.005, 0.003), texture: 0.08, grain: 0.02, snow: 0 },
  { name: 'pool', refl: S(0.26, 0.31, 0.29, 0.12, 0.08, 0.05, 0.04, 0.03, 0.03, 0.02, 0.001, 0.01, 0.005), texture: 0.03, grain: 0.02, snow: 0 },
  { name: 'car_red', refl: S(0.04, 0.04, 0.05, 0.36, 0.39, 0.39, 0.39, 0.39, 0.39, 0.38, 0.02, 0.30, 0.25), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'car_blue', refl: S(0.20, 0.22, 0.11, 0.05, 0.06, 0.08, 0.10, 0.12, 0.12, 0.12, 0.01, 0.15, 0.12), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'car_white', refl: S(0.62, 0.65, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.65, 0.03, 0.55, 0.50), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'car_black', refl: S(0.04, 0.04, 0.04, 0.045, 0.045, 0.05, 0.05, 0.05, 0.05, 0.05, 0.01, 0.06, 0.05), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'car_silver', refl: S(0.32, 0.34, 0.35, 0.36, 0.36, 0.36, 0.37, 0.37, 0.37, 0.36, 0.02, 0.33, 0.30), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'glass', refl: S(0.05, 0.05, 0.055, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.01, 0.05, 0.04), texture: 0.02, grain: 0.02, snow: 0 },
  { name: 'hull_white', refl: S(0.55, 0.58, 0.60, 0.60, 0.60, 0.60, 0.60, 0.60, 0.60, 0.59, 0.03, 0.50, 0.45), texture: 0.03, grain: 0.03, snow: 0 },
  { name: 'hull_grey', refl: S(0.16, 0.17, 0.18, 0.18, 0.18, 0.18, 0.19, 0.19, 0.19, 0.19, 0.01, 0.20, 0.18), texture: 0.04, grain: 0.03, snow: 0 },
  { name: 'deck_wood', refl: S(0.08, 0.10, 0.14, 0.22, 0.25, 0.27, 0.28, 0.29, 0.29, 0.29, 0.01, 0.35, 0.28), texture: 0.05, grain: 0.05, snow: 0.5 },
  { name: 'court_green', refl: S(0.05, 0.07, 0.16, 0.08, 0.10, 0.12, 0.13, 0.14, 0.14, 0.14, 0.01, 0.15, 0.12), texture: 0.02, grain: 0.02, snow: 0.9 },
  { name: 'court_blue', refl: S(0.16, 0.20, 0.13, 0.06, 0.06, 0.07, 0.08, 0.09, 0.09, 0.09, 0.01, 0.10, 0.08), texture: 0.02, grain: 0.02, snow: 0.9 },
  { name: 'clay', refl: S(0.06, 0.07, 0.10, 0.27, 0.31, 0.33, 0.34, 0.35, 0.35, 0.34, 0.02, 0.40, 0.33), texture: 0.04, grain: 0.04, snow: 0.9 },
  { name: 'tartan', refl: S(0.05, 0.055, 0.07, 0.19, 0.21, 0.22, 0.23, 0.24, 0.24, 0.24, 0.01, 0.27, 0.22), texture: 0.02, grain: 0.02, snow: 0.9 },
  { name: 'turf', refl: S(0.03, 0.045, 0.11, 0.05, 0.13, 0.33, 0.42, 0.46, 0.47, 0.44, 0.01, 0.24, 0.11), texture: 0.03, grain: 0.03, phenology: 'grass', snow: 1 },
  { name: 'tank_white', refl: S(0.60, 0.63, 0.65, 0.66, 0.66, 0.66, 0.66, 0.66, 0.66, 0.65, 0.03, 0.52, 0.46), texture: 0.02, grain: 0.02, snow: 0.7 },
  { name: 'rust', refl: S(0.05, 0.06, 0.08, 0.17, 0.20, 0.22, 0.23, 0.24, 0.24, 0.24, 0.01, 0.30, 0.26), texture: 0.10, grain: 0.05, snow: 0.7 },
  { name: 'urban', refl: S(0.12, 0.13, 0.15, 0.17, 0.18, 0.19, 0.20, 0.21, 0.21, 0.21, 0.01, 0.24, 0.21), texture: 0.25, grain: 0.15, snow: 0.6 },
  { name: 'container', refl: S(0.10, 0.14, 0.12, 0.20, 0.22, 0.23, 0.24, 0.25, 0.25, 0.25, 0.01, 0.28, 0.24), texture: 0.30, grain: 0.10, snow: 0.5 },
] as const satisfies readonly Material[];

export type MaterialName = (typeof MATERIAL_LIST)[number]['name'];
export const MATERIALS: readonly Material[] = MATERIAL_LIST;
/** Material ids by name. */
export const MAT: Readonly<Record<MaterialName, number>> = Object.fromEntries(MATERIAL_LIST.map((m, i) => [m.name, i])) as Record<MaterialName, number>;

/** Seasonal spectra that replace or blend into the materials above at render time. */
export const SEASONAL = {
  dryGrass: S(0.06, 0.08, 0.12, 0.15, 0.18, 0.22, 0.25, 0.27, 0.28, 0.27, 0.01, 0.38, 0.28),
  autumnLeaf: S(0.03, 0.04, 0.08, 0.12, 0.16, 0.24, 0.29, 0.32, 0.33, 0.31, 0.01, 0.26, 0.16),
  bareCanopy: S(0.05, 0.06, 0.075, 0.09, 0.11, 0.14, 0.16, 0.18, 0.18, 0.18, 0.01, 0.25, 0.20),
  ripeCrop: S(0.06, 0.08, 0.14, 0.17, 0.22, 0.28, 0.32, 0.34, 0.35, 0.34, 0.01, 0.40, 0.30),
  stubble: S(0.10, 0.12, 0.17, 0.21, 0.24, 0.27, 0.29, 0.31, 0.31, 0.31, 0.01, 0.42, 0.34),
  snow: S(0.88, 0.89, 0.88, 0.86, 0.85, 0.83, 0.81, 0.79, 0.78, 0.72, 0.03, 0.09, 0.06),
} as const;
