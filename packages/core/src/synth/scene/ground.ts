/**
 * Ground cover painters: the base layer, areas (lawns, pavement, sand, forest stands at coarse resolution),
 * crop fields with rows, lakes and rivers with irregular banks.
 */
import type { Rng } from '../../rng/rng.js';
import { boxPoly, convexHull, orientedRect, polylineQuads, type Poly, type Vec } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { LAYER, type Feature, type Scene } from './scene.js';

/** Covers the whole canvas with one material. */
export function addGround(scene: Scene, mat: number = MAT.grass, cls: number = SEM.lowveg): Feature {
  const poly = boxPoly(0, 0, scene.width, scene.height);
  return scene.add({
    kind: 'ground',
    layer: LAYER.ground,
    footprint: [poly],
    paint: (c, _cond, id) => c.fillPoly(poly, { mat, cls, id }),
  });
}

export interface AreaOptions {
  kind?: string;
  layer?: number;
  /** Rows (crops, mown stripes): period in pixels, direction in radians, depth of the shading 0..1. */
  rows?: { period: number; angle: number; depth: number };
  /** Constant shading factor. Default 1. */
  shade?: number;
  elev?: number;
}

/** A flat area of one material and class (any simple polygon). */
export function addArea(scene: Scene, poly: Poly, mat: number, cls: number, o: AreaOptions = {}): Feature {
  const rows = o.rows;
  const base = o.shade ?? 1;
  const shade =
    rows === undefined
      ? base
      : (x: number, y: number): number => {
          const t = (x * Math.cos(rows.angle) + y * Math.sin(rows.angle)) / rows.period;
          return base * (1 - rows.depth * (0.5 + 0.5 * Math.sin(2 * Math.PI * t)));
        };
  return scene.add({
    kind: o.kind ?? 'area',
    layer: o.layer ?? LAYER.field,
    footprint: [convexHull(poly)],
    paint: (c, _cond, id) => c.fillPoly(poly, { mat, cls, id, shade, elev: o.elev ?? 0 }),
  });
}

/** A crop field: crop material (its stage follows the season, per field) with rows at a random direction. */
export function addField(scene: Scene, rng: Rng, poly: Poly, rowAngle?: number): Feature {
  const r = rng.next();
  const mat = r < 0.7 ? MAT.crop : r < 0.85 ? MAT.grass : MAT.soil;
  const angle = rowAngle ?? rng.uniform(0, Math.PI);
  const period = scene.px(rng.uniform(0.6, 1.5));
  return addArea(scene, poly, mat, mat === MAT.soil ? SEM.bare : SEM.lowveg, {
    kind: 'field',
    rows: period >= 2 ? { period, angle, depth: rng.uniform(0.12, 0.3) } : undefined,
    shade: rng.uniform(0.9, 1.1),
  });
}

/**
 * Splits the rectangle [x0, x1) x [y0, y1) into parcels: a rotated grid of strips, each strip cut into fields of
 * random length. Returns the parcels as quadrilaterals.
 */
export function parcels(rng: Rng, x0: number, y0: number, x1: number, y1: number, sizePx: [number, number], angle: number): Vec[][] {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const R = Math.hypot(x1 - x0, y1 - y0) / 2 + 2;
  const out: Vec[][] = [];
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const toWorld = (u: number, v: number): Vec => [cx + u * c - v * s, cy + u * s + v * c];
  let v = -R;
  while (v < R) {
    const h = rng.uniform(sizePx[0], sizePx[1]) * rng.uniform(0.5, 1);
    let u = -R;
    while (u < R) {
      const w = rng.uniform(sizePx[0], sizePx[1]);
      out.push([toWorld(u, v), toWorld(u + w, v), toWorld(u + w, v + h), toWorld(u, v + h)]);
      u += w;
    }
    v += h;
  }
  return out;
}

/** An irregular closed outline around (cx, cy) of mean radius r (lakes, ponds, shrub patches, bunkers). */
export function blob(rng: Rng, cx: number, cy: number, rx: number, ry: number, angle = 0, roughness = 0.25, n = 28): Vec[] {
  const k1 = rng.uniform(0, 2 * Math.PI);
  const k2 = rng.uniform(0, 2 * Math.PI);
  const a1 = rng.uniform(0, roughness);
  const a2 = rng.uniform(0, roughness * 0.6);
  const pts: Vec[] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const f = 1 + a1 * Math.sin(2 * t + k1) + a2 * Math.sin(3 * t + k2) + rng.uniform(-0.04, 0.04);
    const x = rx * f * Math.cos(t);
    const y = ry * f * Math.sin(t);
    pts.push([cx + x * Math.cos(angle) - y * Math.sin(angle), cy + x * Math.sin(angle) + y * Math.cos(angle)]);
  }
  return pts;
}

export function addWater(scene: Scene, poly: Poly, mat: number = MAT.water, kind = 'water'): Feature {
  return addArea(scene, poly, mat, SEM.water, { kind, layer: LAYER.water });
}

/**
 * A meandering band (river, canal) along `path`, width varying by up to `wiggle` of `width`. Returns the
 * feature and the centreline actually used (for bridges).
 */
export function addRiver(scene: Scene, rng: Rng, path: readonly Vec[], width: number, o: { wiggle?: number; mat?: number } = {}): Feature {
  const wiggle = o.wiggle ?? 0.2;
  const ph = rng.uniform(0, 6.28);
  const widths = path.map((_, i) => width * (1 + wiggle * Math.sin(i * 0.35 + ph) + rng.uniform(-wiggle, wiggle) * 0.15));
  const mat = o.mat ?? MAT.water_turbid;
  const quads = polylineQuads(path, width * (1 + wiggle));
  return scene.add({
    kind: 'river',
    layer: LAYER.water,
    footprint: quads,
    paint: (c, _cond, id) => {
      // a union of round-capped segments: no self-intersection where the bends are tighter than the width
      const brush = { mat, cls: SEM.water, id };
      for (let i = 0; i + 1 < path.length; i++) c.fillLine(path[i]!, path[i + 1]!, (widths[i]! + widths[i + 1]!) / 2, brush);
    },
  });
}

/** A smooth random path across the canvas from one side to the opposite one, sampled every `step` pixels. */
export function meander(rng: Rng, width: number, height: number, step: number, amplitude: number, horizontal?: boolean): Vec[] {
  const h = horizontal ?? rng.next() < 0.5;
  const len = h ? width : height;
  const across = h ? height : width;
  const base = rng.uniform(0.3, 0.7) * across;
  const slope = rng.uniform(-0.3, 0.3);
  const f1 = rng.uniform(1, 2.5) / len;
  const f2 = rng.uniform(2.5, 5) / len;
  const p1 = rng.uniform(0, 6.28);
  const p2 = rng.uniform(0, 6.28);
  const out: Vec[] = [];
  for (let t = -step * 2; t <= len + step * 2; t += step) {
    const off = base + slope * (t - len / 2) + amplitude * (Math.sin(2 * Math.PI * f1 * t + p1) + 0.4 * Math.sin(2 * Math.PI * f2 * t + p2));
    out.push(h ? [t, off] : [off, t]);
  }
  return out;
}

/** Rectangular area helper for recipes: an oriented rectangle of a material. */
export function addRect(scene: Scene, cx: number, cy: number, length: number, width: number, angle: number, mat: number, cls: number, o: AreaOptions = {}): Feature {
  return addArea(scene, orientedRect(cx, cy, length, width, angle), mat, cls, o);
}
