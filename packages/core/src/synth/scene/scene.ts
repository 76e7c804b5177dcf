/**
 * A scene is a list of features (vector objects with a paint function), planned once from an Rng and painted
 * any number of times under different Conditions. Keeping the plan apart from the paint is what makes time
 * series and change pairs exact: the second date is the same list, with features removed or added, painted
 * under another season and sun, and the change mask is the footprint of exactly those features.
 */
import { Canvas } from './canvas.js';
import { castShadows } from './shadows.js';
import type { Conditions } from './conditions.js';
import { bounds, convexOverlap, type Poly } from './geometry.js';

/** DOTA v1.0 categories, in mmrotate's DOTADataset order. */
export const DOTA_CLASSES = [
  'plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle', 'large-vehicle', 'ship', 'tennis-court',
  'basketball-court', 'storage-tank', 'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter',
] as const;
export type DotaClass = (typeof DOTA_CLASSES)[number];

/** Paint order (lower first). Trees come last: their crowns hang over roads, cars and roofs. */
export const LAYER = {
  ground: 0,
  field: 1,
  water: 2,
  pavement: 3,
  road: 4,
  marking: 5,
  facility: 6,
  building: 7,
  bridge: 7.5,
  vehicle: 8,
  object: 9,
  tree: 10,
} as const;

export interface Feature {
  readonly id: number;
  /** What it is: 'building', 'road', 'tree', 'plane', ... */
  readonly kind: string;
  readonly layer: number;
  /** Convex pieces covering the feature, in pixels: used for placement and change masks. */
  readonly footprint: readonly Poly[];
  /** Oriented bounding box for detection labels (clockwise on screen). */
  readonly obb?: Poly;
  readonly dotaClass?: DotaClass;
  readonly difficult?: boolean;
  paint(c: Canvas, cond: Conditions): void;
}

export interface FeatureSpec {
  kind: string;
  layer: number;
  footprint: readonly Poly[];
  obb?: Poly;
  dotaClass?: DotaClass;
  difficult?: boolean;
  paint(c: Canvas, cond: Conditions, id: number): void;
}

export class Scene {
  readonly width: number;
  readonly height: number;
  /** Metres per pixel. */
  readonly gsd: number;
  /** Seed of the textures (noise fields), fixed for the place so every date shares them. */
  readonly textureSeed: number;
  features: Feature[] = [];
  private nextId = 1;

  constructor(width: number, height: number, gsd: number, textureSeed: number) {
    this.width = width;
    this.height = height;
    this.gsd = gsd;
    this.textureSeed = textureSeed;
  }

  /** Metres to pixels. */
  px(metres: number): number {
    return metres / this.gsd;
  }

  add(spec: FeatureSpec): Feature {
    const id = this.nextId++;
    const { paint, ...rest } = spec;
    const f: Feature = { ...rest, id, paint: (c, cond) => paint(c, cond, id) };
    this.features.push(f);
    return f;
  }

  remove(id: number): void {
    this.features = this.features.filter((f) => f.id !== id);
  }

  /** Ids handed out so far are below this. */
  get idLimit(): number {
    return this.nextId;
  }

  /** A copy sharing the features (they are immutable); ids continue from this scene's. */
  clone(): Scene {
    const s = new Scene(this.width, this.height, this.gsd, this.textureSeed);
    s.features = [...this.features];
    s.nextId = this.nextId;
    return s;
  }

  /** Paints every feature in layer order (stable), then the cast shadows for `cond`'s sun. */
  paint(cond: Conditions): Canvas {
    const c = new Canvas(this.width, this.height, this.gsd, this.nextId);
    const order = this.features.map((f, i) => [f, i] as const).sort((a, b) => a[0].layer - b[0].layer || a[1] - b[1]);
    for (const [f] of order) f.paint(c, cond);
    castShadows(c, cond);
    return c;
  }
}

/**
 * Free-space bookkeeping for placing objects without overlap: convex polygons in buckets of a coarse grid,
 * tested with the separating-axis theorem.
 */
export class Occupancy {
  private readonly cell = 64;
  private readonly buckets = new Map<number, Poly[]>();

  private keys(poly: Poly, margin: number): number[] {
    const b = bounds(poly);
    const out: number[] = [];
    const c = this.cell;
    for (let gy = Math.floor((b.y0 - margin) / c); gy <= Math.floor((b.y1 + margin) / c); gy++) {
      for (let gx = Math.floor((b.x0 - margin) / c); gx <= Math.floor((b.x1 + margin) / c); gx++) out.push(gy * 100003 + gx);
    }
    return out;
  }

  /** True when `poly` (convex) keeps `margin` pixels from everything taken so far. */
  free(poly: Poly, margin = 0): boolean {
    for (const k of this.keys(poly, margin)) {
      for (const q of this.buckets.get(k) ?? []) if (convexOverlap(poly, q, margin)) return false;
    }
    return true;
  }

  take(poly: Poly): void {
    for (const k of this.keys(poly, 0)) {
      const list = this.buckets.get(k);
      if (list === undefined) this.buckets.set(k, [poly]);
      else list.push(poly);
    }
  }

  /** free() then take(); returns whether it was free. */
  claim(poly: Poly, margin = 0): boolean {
    if (!this.free(poly, margin)) return false;
    this.take(poly);
    return true;
  }
}

/** True when every vertex of `poly` lies at least `margin` pixels inside a width x height image. */
export function insideImage(poly: Poly, width: number, height: number, margin = 0): boolean {
  return poly.every(([x, y]) => x >= margin && y >= margin && x <= width - margin && y <= height - margin);
}
