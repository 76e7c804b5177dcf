/**
 * The raster the painters draw into. Every fill writes, for each pixel it covers, all of: material (look),
 * semantic class (label), object id (instance), height above ground (for shadows) and a shading factor (roof
 * facets, crowns, crop rows). Labels and instance masks therefore come out of the same pass as the image and
 * cannot disagree with it. Cast shadows and the season are applied later (shadows.ts, render.ts).
 */
import { rasterDisc, rasterPolygon, type Poly, type Vec } from './geometry.js';

/** What a fill writes. `shade` may depend on the pixel (col, row). */
export interface Brush {
  mat: number;
  cls: number;
  /** Object id (0 = background). */
  id: number;
  /** Height of the surface above ground, metres. Default 0. */
  elev?: number;
  /** Shading factor (1 = flat ground lit by the sun). Default 1. */
  shade?: number | ((x: number, y: number) => number);
}

/** Something that casts a shadow: convex parts (pixels) at a height (metres). */
export interface Caster {
  id: number;
  parts: Poly[];
  /** Discs [cx, cy, r] (tree crowns). */
  discs?: ReadonlyArray<readonly [number, number, number]>;
  height: number;
  /**
   * 'extrude': a solid standing on the ground (buildings, tanks): the shadow sweeps from the footprint.
   * 'float': a thin object held up at `height` (plane wings, tree crowns): the shadow is the shape moved.
   */
  mode: 'extrude' | 'float';
}

export class Canvas {
  readonly width: number;
  readonly height: number;
  /** Ground sampling distance, metres per pixel. */
  readonly gsd: number;
  readonly mat: Uint8Array;
  readonly cls: Uint8Array;
  readonly obj: Uint32Array;
  readonly elev: Float32Array;
  readonly shade: Float32Array;
  /** Fraction of direct sunlight reaching the pixel (0 in cast shadow), set by castShadows. */
  readonly lit: Float32Array;
  readonly casters: Caster[] = [];
  /**
   * Pixels of each object id later painted over by another object (a crown over a car, a bridge over a ship):
   * the object's unoccluded area is its final pixel count plus this.
   */
  readonly overwritten: Uint32Array;

  constructor(width: number, height: number, gsd: number, maxId = 0) {
    this.width = width;
    this.height = height;
    this.gsd = gsd;
    const n = width * height;
    this.mat = new Uint8Array(n);
    this.cls = new Uint8Array(n);
    this.obj = new Uint32Array(n);
    this.elev = new Float32Array(n);
    this.shade = new Float32Array(n).fill(1);
    this.lit = new Float32Array(n).fill(1);
    this.overwritten = new Uint32Array(maxId + 1);
  }

  /** Metres to pixels. */
  px(metres: number): number {
    return metres / this.gsd;
  }

  private writer(b: Brush): (x: number, y: number) => void {
    const { mat, cls, id } = b;
    const elev = b.elev ?? 0;
    const shade = b.shade ?? 1;
    const w = this.width;
    const ow = this.overwritten;
    const track = (i: number): void => {
      const prev = this.obj[i]!;
      if (prev !== 0 && prev !== id && prev < ow.length) ow[prev]!++;
    };
    if (typeof shade === 'number') {
      return (x, y) => {
        const i = y * w + x;
        track(i);
        this.mat[i] = mat;
        this.cls[i] = cls;
        this.obj[i] = id;
        this.elev[i] = elev;
        this.shade[i] = shade;
      };
    }
    return (x, y) => {
      const i = y * w + x;
      track(i);
      this.mat[i] = mat;
      this.cls[i] = cls;
      this.obj[i] = id;
      this.elev[i] = elev;
      this.shade[i] = shade(x + 0.5, y + 0.5);
    };
  }

  fillPoly(poly: Poly, brush: Brush): void {
    rasterPolygon(this.width, this.height, poly, this.writer(brush));
  }

  fillDisc(cx: number, cy: number, r: number, brush: Brush): void {
    rasterDisc(this.width, this.height, cx, cy, r, this.writer(brush));
  }

  /** A straight band of `width` pixels from a to b with round caps. */
  fillLine(a: Vec, b: Vec, width: number, brush: Brush, caps = true): void {
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len > 0) {
      const ang = Math.atan2(b[1] - a[1], b[0] - a[0]);
      const c = Math.cos(ang);
      const s = Math.sin(ang);
      const hw = width / 2;
      this.fillPoly([[a[0] + s * hw, a[1] - c * hw], [b[0] + s * hw, b[1] - c * hw], [b[0] - s * hw, b[1] + c * hw], [a[0] - s * hw, a[1] + c * hw]], brush);
    }
    if (caps) {
      this.fillDisc(a[0], a[1], width / 2, brush);
      this.fillDisc(b[0], b[1], width / 2, brush);
    }
  }

  /** Multiplies the shading of every pixel inside `poly` (parapets, stains); the class is untouched. */
  modulate(poly: Poly, factor: number): void {
    rasterPolygon(this.width, this.height, poly, (x, y) => {
      const i = y * this.width + x;
      this.shade[i] = this.shade[i]! * factor;
    });
  }

  /** Overwrites only the material of pixels inside `poly` that currently belong to object `id`. */
  recolour(poly: Poly, id: number, mat: number, shade?: number): void {
    rasterPolygon(this.width, this.height, poly, (x, y) => {
      const i = y * this.width + x;
      if (this.obj[i] !== id) return;
      this.mat[i] = mat;
      if (shade !== undefined) this.shade[i] = shade;
    });
  }
}
