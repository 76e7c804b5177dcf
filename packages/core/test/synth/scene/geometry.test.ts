import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/rng/rng.js';
import {
  convexHull, convexOverlap, orientedRect, pointInPolygon, rasterDisc, rasterPolygon, signedArea, type Vec,
} from '../../../src/synth/scene/geometry.js';

function brute(w: number, h: number, inside: (x: number, y: number) => boolean): Set<number> {
  const s = new Set<number>();
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (inside(x + 0.5, y + 0.5)) s.add(y * w + x);
  return s;
}

function visited(w: number, h: number, run: (visit: (x: number, y: number) => void) => void): Set<number> {
  const s = new Set<number>();
  run((x, y) => {
    expect(s.has(y * w + x)).toBe(false); // every pixel at most once
    s.add(y * w + x);
  });
  return s;
}

describe('rasterisation rule: a pixel belongs to a shape when its centre is inside', () => {
  const W = 48;
  const H = 40;
  const rng = new Rng(3);
  const polys: Vec[][] = [];
  for (let k = 0; k < 30; k++) polys.push(orientedRect(rng.uniform(-5, W + 5), rng.uniform(-5, H + 5), rng.uniform(1, 40), rng.uniform(0.5, 20), rng.uniform(-4, 4)));
  // concave and pixel-aligned cases, where the half-open rule matters
  polys.push([[4, 4], [30, 4], [30, 30], [17, 12], [4, 30]]);
  polys.push([[2.5, 2.5], [10.5, 2.5], [10.5, 9.5], [2.5, 9.5]]);
  polys.push([[0, 0], [W, 0], [W, H], [0, H]]);
  it.each(polys.map((p, i) => [i, p] as const))('polygon %i: rasterPolygon == centres inside by pointInPolygon', (_i, poly) => {
    const got = visited(W, H, (v) => rasterPolygon(W, H, poly, v));
    expect(got).toEqual(brute(W, H, (x, y) => pointInPolygon(x, y, poly)));
  });

  it('rasterDisc == centres within the radius (r 0.4..9, off-grid centres)', () => {
    for (let k = 0; k < 40; k++) {
      const [cx, cy, r] = [rng.uniform(-3, W + 3), rng.uniform(-3, H + 3), rng.uniform(0.4, 9)];
      const got = visited(W, H, (v) => rasterDisc(W, H, cx, cy, r, v));
      expect(got).toEqual(brute(W, H, (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r));
    }
  });
});

describe('polygon helpers', () => {
  it('orientedRect is clockwise on screen (positive signed area) and has the asked size', () => {
    const r = orientedRect(10, 10, 8, 4, 0.7);
    expect(signedArea(r)).toBeCloseTo(32, 9);
  });

  it('convexHull contains every input point and is convex', () => {
    const rng = new Rng(5);
    const pts: Vec[] = Array.from({ length: 60 }, () => [rng.uniform(0, 50), rng.uniform(0, 50)] as const);
    const hull = convexHull(pts);
    expect(signedArea(hull)).toBeGreaterThan(0);
    for (const [x, y] of pts) {
      // inside or on the boundary: every edge keeps the point on its inner side
      for (let i = 0; i < hull.length; i++) {
        const [x0, y0] = hull[i]!;
        const [x1, y1] = hull[(i + 1) % hull.length]!;
        expect((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)).toBeGreaterThanOrEqual(-1e-9);
      }
    }
  });

  it('convexOverlap: separated, touching-within-margin and crossing rectangles', () => {
    const a = orientedRect(0, 0, 10, 2, 0);
    expect(convexOverlap(a, orientedRect(20, 0, 10, 2, 0))).toBe(false);
    expect(convexOverlap(a, orientedRect(11, 0, 10, 2, 0), 2)).toBe(true);
    expect(convexOverlap(a, orientedRect(0, 0, 10, 2, Math.PI / 2))).toBe(true);
    expect(convexOverlap(orientedRect(0, 0, 10, 1, Math.PI / 4), orientedRect(6, -6, 10, 1, Math.PI / 4))).toBe(false);
  });
});
