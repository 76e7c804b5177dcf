/**
 * Trees: round crowns shaded like a sphere lit by the sun (bright on the sun side, dark on the far side), with
 * a floating crown shadow cast on the ground. Deciduous crowns follow the season (autumn colour, bare in
 * winter); conifers are smaller, darker and stay green. Stands of trees are many crowns with jittered spacing.
 */
import type { Rng } from '../../rng/rng.js';
import { pointInPolygon, type Poly } from './geometry.js';
import { MAT, SEM } from './materials.js';
import { LAYER, type Feature, type Occupancy, type Scene } from './scene.js';
import { sunVector } from './shadows.js';

export interface TreeOptions {
  x: number;
  y: number;
  /** Crown radius, pixels. */
  r: number;
  /** Height, metres. */
  height: number;
  mat?: number;
}

export function addTree(scene: Scene, o: TreeOptions): Feature {
  const mat = o.mat ?? MAT.deciduous;
  const conifer = mat === MAT.conifer;
  const s = o.r * 0.72;
  return scene.add({
    kind: 'tree',
    layer: LAYER.tree,
    footprint: [[[o.x - s, o.y - s], [o.x + s, o.y - s], [o.x + s, o.y + s], [o.x - s, o.y + s]]],
    paint: (c, cond, id) => {
      const [sx, sy, sz] = sunVector(cond);
      const inv = 1 / Math.max(0.15, sz);
      c.fillDisc(o.x, o.y, o.r, {
        mat,
        cls: SEM.tree,
        id,
        elev: o.height,
        shade: (x, y) => {
          const dx = (x - o.x) / o.r;
          const dy = (y - o.y) / o.r;
          const d2 = Math.min(1, dx * dx + dy * dy);
          const nz = Math.sqrt(1 - d2);
          const lam = Math.max(0, (dx * sx + dy * sy + nz * sz) * inv);
          const edge = conifer ? 0.75 + 0.25 * nz : 0.85 + 0.15 * nz;
          return (0.35 + 0.6 * Math.min(lam, 1.5)) * edge;
        },
      });
      c.casters.push({ id, parts: [], discs: [[o.x, o.y, o.r * 0.9]], height: o.height, mode: 'float' });
    },
  });
}

/** A random tree at (x, y), sized for the scene's GSD. */
export function randomTree(scene: Scene, rng: Rng, x: number, y: number, options: { conifer?: number; scale?: number } = {}): Feature {
  const conifer = rng.next() < (options.conifer ?? 0.2);
  const k = options.scale ?? 1;
  const rM = (conifer ? rng.uniform(1.2, 2.6) : rng.uniform(2, 5.5)) * k;
  return addTree(scene, {
    x,
    y,
    r: Math.max(0.8, scene.px(rM)),
    height: rM * rng.uniform(2.2, 3.5),
    mat: conifer ? MAT.conifer : MAT.deciduous,
  });
}

/**
 * Fills a polygon with crowns on a jittered grid. `density` 1 = crowns touching; `occ`, when given, is
 * respected and updated (each trunk claims a 4 m square), so trees stay off buildings and roads.
 */
export function addStand(scene: Scene, rng: Rng, area: Poly, density: number, options: { conifer?: number; scale?: number; occ?: Occupancy } = {}): number {
  let xs0 = Infinity, ys0 = Infinity, xs1 = -Infinity, ys1 = -Infinity;
  for (const [x, y] of area) { xs0 = Math.min(xs0, x); ys0 = Math.min(ys0, y); xs1 = Math.max(xs1, x); ys1 = Math.max(ys1, y); }
  const step = Math.max(1.5, scene.px(6 * (options.scale ?? 1)) / Math.sqrt(Math.max(0.05, density)));
  let n = 0;
  for (let y = ys0 + step / 2; y < ys1; y += step) {
    for (let x = xs0 + step / 2; x < xs1; x += step) {
      const tx = x + rng.uniform(-0.45, 0.45) * step;
      const ty = y + rng.uniform(-0.45, 0.45) * step;
      if (!pointInPolygon(tx, ty, area)) continue;
      if (rng.next() > Math.min(1, density)) continue;
      const r = scene.px(2);
      const probe: Poly = [[tx - r, ty - r], [tx + r, ty - r], [tx + r, ty + r], [tx - r, ty + r]];
      if (options.occ !== undefined && !options.occ.claim(probe)) continue;
      randomTree(scene, rng, tx, ty, options);
      n++;
    }
  }
  return n;
}
