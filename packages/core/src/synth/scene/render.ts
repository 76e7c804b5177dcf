/**
 * Turns a painted Canvas into band values for one date.
 *
 * Per pixel: the material's reflectance, changed by the season (vegetation vigour, autumn colour, crop stage per
 * field, snow), times a texture (medium-scale patches + grain, seeded by the scene so every date shares it),
 * times the painted shading, times the light (diffuse sky + direct sun where not in cast shadow), plus haze.
 * The result is surface reflectance-like floats; toDisplay8 makes the 8-bit look of aerial orthophotos and
 * Google Earth chips, toReflectance8 the SeCo uint8 encoding (reflectance * 255).
 */
import type { Canvas } from './canvas.js';
import type { Conditions } from './conditions.js';
import { MAT, MATERIALS, N_BANDS, S2_BANDS, SEASONAL } from './materials.js';
import { hash1, hash2, noiseField } from './noise.js';

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

function mix(a: readonly number[], b: readonly number[], t: number): number[] {
  return a.map((v, i) => lerp(v, b[i]!, t));
}

/** Crop spectrum at a stage 0..1 of its year: bare, emerging, green, ripe, stubble. */
function cropSpectrum(green: readonly number[], soil: readonly number[], stage: number): number[] {
  if (stage < 0.15) return [...soil];
  if (stage < 0.35) return mix(soil, green, (stage - 0.15) / 0.2);
  if (stage < 0.6) return [...green];
  if (stage < 0.8) return mix(green, SEASONAL.ripeCrop, (stage - 0.6) / 0.2);
  return mix(SEASONAL.ripeCrop, SEASONAL.stubble, Math.min(1, (stage - 0.8) / 0.1));
}

/** The seasonal spectrum of material `m` (13 bands); `objKey` varies crops per field. */
export function seasonalSpectrum(m: number, cond: Conditions, objKey: number): number[] {
  const mat = MATERIALS[m]!;
  const base = mat.refl;
  switch (mat.phenology) {
    case 'grass': {
      const dry = mix(base, SEASONAL.dryGrass, Math.min(1, (1 - cond.greenness) * 0.9 + cond.autumn * 0.3));
      return dry;
    }
    case 'shrub':
      return mix(base, SEASONAL.dryGrass, (1 - cond.greenness) * 0.5);
    case 'deciduous': {
      const autumn = mix(base, SEASONAL.autumnLeaf, Math.min(1, cond.autumn * 1.2));
      return mix(autumn, SEASONAL.bareCanopy, Math.max(0, 1 - cond.greenness * 1.4));
    }
    case 'conifer':
      return base.map((v, i) => v * (i >= 4 && i <= 9 ? 0.8 + 0.2 * cond.greenness : 1));
    case 'crop': {
      const offset = hash1(objKey, 0x00c0ffee) * 0.45 - 0.2;
      const stage = (((cond.cropPhase + offset) % 1) + 1) % 1;
      return cropSpectrum(base, MATERIALS[MAT.soil]!.refl, stage);
    }
    default:
      return [...base];
  }
}

export interface RenderOptions {
  /** Band indices into S2_BANDS, in output order. */
  bands: readonly number[];
  /** Seed for textures; use the scene's textureSeed so dates stay in register. */
  textureSeed: number;
  /** Gaussian blur of the optics, sigma in pixels. Default 0.6 (0 = none). */
  blur?: number;
  /** Sensor noise, standard deviation in reflectance units (uniform noise of that std). Default 0.006. */
  noise?: number;
}

/** Band values (reflectance-like floats), HWC interleaved with options.bands.length bands. */
export function render(c: Canvas, cond: Conditions, options: RenderOptions): Float32Array {
  const { width, height, gsd, mat, obj, shade, lit } = c;
  const bands = options.bands;
  const nb = bands.length;
  const n = width * height;
  const seed = options.textureSeed | 0;
  const noise = options.noise ?? 0.006;
  const cellPx = (m: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, m / gsd));
  const patches = noiseField(width, height, cellPx(6, 2, 64), 3, seed + 11);
  const clumps = noiseField(width, height, cellPx(0.9, 1, 16), 2, seed + 23);
  const snowField = cond.snow > 0 ? noiseField(width, height, cellPx(15, 3, 96), 3, seed + 37) : undefined;

  // per-band light: diffuse sky share (bluer, larger under a low sun) and direct sun
  const sinEl = Math.sin((Math.max(5, cond.sunElevation) * Math.PI) / 180);
  const gain = cond.brightness * Math.pow(sinEl / Math.sin(Math.PI / 4), 0.35);
  const amb = new Float32Array(nb);
  const hazeAdd = new Float32Array(nb);
  const wb = new Float32Array(nb);
  for (let k = 0; k < nb; k++) {
    const nm = S2_BANDS[bands[k]!]!.nm;
    amb[k] = Math.min(0.7, (0.17 + 0.27 * (490 / nm) ** 2) * (1 + 0.6 * (1 - sinEl)));
    hazeAdd[k] = cond.haze * (490 / nm) ** 2;
    const b = bands[k]!;
    wb[k] = b === 3 ? cond.whiteBalance[0] : b === 2 ? cond.whiteBalance[1] : b === 1 ? cond.whiteBalance[2] : 1;
  }

  // seasonal spectra per material, and per object for crops
  const perMat: Array<number[] | undefined> = [];
  const perCrop = new Map<number, number[]>();
  const snowSpec = bands.map((b) => SEASONAL.snow[b]!);
  const spectrum = (m: number, id: number): number[] => {
    const material = MATERIALS[m]!;
    if (material.phenology === 'crop') {
      let s = perCrop.get(id);
      if (s === undefined) {
        const full = seasonalSpectrum(m, cond, id);
        s = bands.map((b) => full[b]!);
        perCrop.set(id, s);
      }
      return s;
    }
    let s = perMat[m];
    if (s === undefined) {
      const full = seasonalSpectrum(m, cond, 0);
      s = bands.map((b) => full[b]!);
      perMat[m] = s;
    }
    return s;
  };

  const out = new Float32Array(n * nb);
  for (let i = 0; i < n; i++) {
    const m = mat[i]!;
    const material = MATERIALS[m]!;
    const spec = spectrum(m, obj[i]!);
    const x = i % width;
    const y = (i - x) / width;
    const h = hash2(x, y, seed);
    const grain = 2 * h - 1;
    const h2 = (h * 65536) % 1; // the hash's low bits: independent enough of `grain` for sensor noise
    let tex = 1 + 1.6 * material.texture * (0.55 * patches[i]! + 0.45 * clumps[i]!) + 1.5 * material.grain * grain;
    let snow = 0;
    if (snowField !== undefined && material.snow > 0) {
      const s = cond.snow * material.snow;
      snow = Math.max(0, Math.min(1, (s * 1.2 - 0.6 + 0.4 * snowField[i]!) * 5 + 0.5));
      if (snow > 0) tex = lerp(tex, 1 + 0.04 * grain + 0.05 * patches[i]!, snow);
    }
    const sh = shade[i]!;
    const direct = lit[i]!;
    const o = i * nb;
    for (let k = 0; k < nb; k++) {
      const r = snow > 0 ? lerp(spec[k]!, snowSpec[k]!, snow) : spec[k]!;
      const light = amb[k]! + (1 - amb[k]!) * direct;
      const sensor = noise * 3.4641 * (((h2 * (k + 1) * 7.31) % 1) - 0.5);
      out[o + k] = Math.max(0, r * tex * sh * light * gain * wb[k]! + hazeAdd[k]! + sensor);
    }
  }
  const sigma = options.blur ?? 0.6;
  return sigma > 0 ? gaussianBlur(out, width, height, nb, sigma) : out;
}

/** Separable Gaussian blur of an HWC image (edges clamped), one band plane at a time, rows contiguous. */
export function gaussianBlur(img: Float32Array, width: number, height: number, bands: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.round(2 * sigma)); // weights beyond 2 sigma are below 2 %: dropped
  const taps = 2 * r + 1;
  const k = new Float32Array(taps);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < taps; i++) k[i] = k[i]! / sum;
  const n = width * height;
  const plane = new Float32Array(n);
  const tmp = new Float32Array(n);
  const out = new Float32Array(img.length);
  const line = new Float32Array(width + 2 * r);
  const acc = new Float32Array(width);
  for (let b = 0; b < bands; b++) {
    for (let i = 0; i < n; i++) plane[i] = img[i * bands + b]!;
    // horizontal: a padded copy of each row, so the inner loop has no edge tests
    for (let y = 0; y < height; y++) {
      const base = y * width;
      line.set(plane.subarray(base, base + width), r);
      for (let j = 0; j < r; j++) {
        line[j] = plane[base]!;
        line[width + r + j] = plane[base + width - 1]!;
      }
      for (let x = 0; x < width; x++) {
        let a = 0;
        for (let t = 0; t < taps; t++) a += k[t]! * line[x + t]!;
        tmp[base + x] = a;
      }
    }
    // vertical: whole rows at a time (sequential memory), clamping the row index
    for (let y = 0; y < height; y++) {
      acc.fill(0);
      for (let t = 0; t < taps; t++) {
        const yy = Math.min(height - 1, Math.max(0, y + t - r));
        const w = k[t]!;
        const src = yy * width;
        for (let x = 0; x < width; x++) acc[x] = acc[x]! + w * tmp[src + x]!;
      }
      const o = y * width;
      for (let x = 0; x < width; x++) out[(o + x) * bands + b] = acc[x]!;
    }
  }
  return out;
}

const LUT_SIZE = 1 << 16;
let displayLut: Uint8Array | undefined;
/** round(255 * x^(1/1.8)) at LUT_SIZE steps of x over [0, 1]. */
function lut(): Uint8Array {
  if (displayLut === undefined) {
    displayLut = new Uint8Array(LUT_SIZE + 1);
    for (let j = 0; j <= LUT_SIZE; j++) displayLut[j] = Math.round(Math.pow(j / LUT_SIZE, 1 / 1.8) * 255);
  }
  return displayLut;
}

/**
 * 8-bit display encoding of aerial RGB/IRRG products: exposure then a gamma of 1/1.8, clipped (table-driven).
 * `exposure` 2.4 maps grass to about (70, 100, 55) and concrete to about 200.
 */
export function toDisplay8(values: Float32Array, exposure = 2.2): Uint8Array {
  const t = lut();
  const out = new Uint8Array(values.length);
  const k = exposure * LUT_SIZE;
  for (let i = 0; i < values.length; i++) {
    const j = values[i]! * k + 0.5;
    out[i] = t[j >= LUT_SIZE ? LUT_SIZE : j <= 0 ? 0 : j | 0]!;
  }
  return out;
}

/** SeCo's uint8 encoding: reflectance in [0, 1] times 255, clipped. */
export function toReflectance8(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
  return out;
}

/** Band count of a full spectrum (13). */
export const ALL_BANDS: readonly number[] = Array.from({ length: N_BANDS }, (_, i) => i);

/**
 * Display encoding with a per-band exposure chosen so each band's 8-bit mean equals `targetMeans[k]` (an
 * auto-exposure plus white balance). The exposure is found by bisection on a histogram of the values; the
 * mean is monotone in it.
 */
export function toDisplay8Matched(values: Float32Array, bands: number, targetMeans: readonly number[]): Uint8Array {
  const t = lut();
  const n = values.length / bands;
  const out = new Uint8Array(values.length);
  const BINS = 1024;
  const hist = new Float64Array(BINS);
  for (let k = 0; k < bands; k++) {
    let vmax = 1e-6;
    for (let i = 0; i < n; i++) vmax = Math.max(vmax, values[i * bands + k]!);
    hist.fill(0);
    const scale = (BINS - 1) / vmax;
    for (let i = 0; i < n; i++) hist[Math.round(Math.max(0, values[i * bands + k]!) * scale)]! += 1;
    const at = (v: number, e: number): number => {
      const j = v * e * LUT_SIZE + 0.5;
      return t[j >= LUT_SIZE ? LUT_SIZE : j <= 0 ? 0 : j | 0]!;
    };
    const meanAt = (e: number): number => {
      let sum = 0;
      const step = e / scale;
      for (let b = 0; b < BINS; b++) {
        const c = hist[b]!;
        if (c > 0) sum += c * at(b, step);
      }
      return sum / n;
    };
    const target = Math.max(1, Math.min(254, targetMeans[k]!));
    let lo = 0.05;
    let hi = 500;
    for (let it = 0; it < 26; it++) {
      const e = Math.sqrt(lo * hi);
      if (meanAt(e) < target) lo = e;
      else hi = e;
    }
    const e = Math.sqrt(lo * hi);
    for (let i = 0; i < n; i++) out[i * bands + k] = at(values[i * bands + k]!, e);
  }
  return out;
}

/**
 * A camera's auto-exposure: the default 2.2 unless the scene is bright (snow, sand, concrete), where the
 * exposure drops so the mean stays near mid-grey instead of clipping. Never below 0.9.
 */
export function autoExposure(values: Float32Array, base = 2.2): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / Math.max(1, values.length);
  return Math.max(0.9, Math.min(base, 0.5 / Math.max(1e-3, mean)));
}
