import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { applyGeometry, type GeometryOp } from '../../src/transforms/geometry.js';
import { sampleDotaFlip, transformPolygons } from '../../src/transforms/polygon-geometry.js';

/** Rasterises a convex quadrilateral (x, y pairs, 'index' convention: pixel centres at integers) into a mask. */
function rasterise(poly: ArrayLike<number>, H: number, W: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inside(poly, x, y)) m[y * W + x] = 1;
  return m;
}

function inside(p: ArrayLike<number>, x: number, y: number, eps = 1e-6): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const x1 = p[2 * i]!, y1 = p[2 * i + 1]!, x2 = p[(2 * i + 2) % 8]!, y2 = p[(2 * i + 3) % 8]!;
    const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
    if (Math.abs(cross) <= eps) continue;
    const s = Math.sign(cross);
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

function randomOps(rng: Rng, H: number, W: number, withResize: boolean): GeometryOp[] {
  const ops: GeometryOp[] = [];
  const resizeAt = withResize ? rng.int(0, 4) : -1;
  for (let i = 0; i < 4; i++) {
    const r = i === resizeAt ? 5 : rng.int(0, 5);
    if (r === 0) ops.push({ kind: 'hflip' });
    else if (r === 1) ops.push({ kind: 'vflip' });
    else if (r === 2) {
      const k = rng.int(1, 4);
      ops.push({ kind: 'rot90', k });
      if (k % 2 === 1) [H, W] = [W, H];
    } else if (r === 3) {
      const box = { top: rng.int(-4, 6), left: rng.int(-4, 6), height: H - 3, width: W + 2 };
      ops.push({ kind: 'crop', box });
      [H, W] = [box.height, box.width];
    } else if (r === 4) {
      ops.push({ kind: 'pad', height: H + 3, width: W });
      H += 3;
    } else {
      const h = H * 2, w = W * 2;
      ops.push({ kind: 'resize', height: h, width: w });
      [H, W] = [h, w];
    }
  }
  return ops;
}

describe('transformPolygons: boxes follow pixels', () => {
  it("hflip example in both conventions (mmrotate's x -> W - 1 - x for 'index')", () => {
    const poly = [10, 20, 30, 20, 30, 40, 10, 40];
    expect(Array.from(transformPolygons(poly, [{ kind: 'hflip' }], { height: 100, width: 100 }))).toEqual([89, 20, 69, 20, 69, 40, 89, 40]);
    expect(Array.from(transformPolygons(poly, [{ kind: 'hflip' }], { height: 100, width: 100 }, 'continuous'))).toEqual([90, 20, 70, 20, 70, 40, 90, 40]);
    expect(Array.from(transformPolygons(poly, [{ kind: 'rot90', k: 1 }], { height: 50, width: 100 }))).toEqual([20, 89, 20, 69, 40, 69, 40, 89]);
  });

  it('300 random sequences of flips, quarter turns, crops and pads: the rasterised transformed polygon equals the transformed raster, pixel for pixel', () => {
    const rng = new Rng(1);
    const H = 31, W = 40;
    let nonEmpty = 0;
    for (let t = 0; t < 300; t++) {
      // a rotated quadrilateral (a DOTA-like oriented box) inside the image
      const cx = rng.uniform(12, 28), cy = rng.uniform(10, 21), a = rng.uniform(0, Math.PI), hw = rng.uniform(3, 10), hh = rng.uniform(2, 7);
      const c = Math.cos(a), s = Math.sin(a);
      const poly = [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].flatMap(([u, v]) => [cx + u! * c - v! * s, cy + u! * s + v! * c]);
      const mask = { data: rasterise(poly, H, W), height: H, width: W, channels: 1 };
      const ops = randomOps(rng, H, W, false);
      const out = applyGeometry(mask, ops, { role: 'label', fill: 0 });
      // polygons are not clipped (like the DOTA splitter), so compare only pixels that came from the source image
      const valid = applyGeometry({ ...mask, data: new Uint8Array(H * W).fill(1) }, ops, { role: 'label', fill: 0 });
      const moved = transformPolygons(poly, ops, { height: H, width: W });
      const redrawn = rasterise(moved, out.height, out.width);
      let diff = 0;
      for (let i = 0; i < redrawn.length; i++) if (valid.data[i] === 1 && redrawn[i] !== out.data[i]) diff++;
      expect(diff, `ops ${JSON.stringify(ops)}`).toBe(0);
      if (out.data.some((v) => v === 1)) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(250);
  });

  it('with a 2x resize (nearest) in the sequence: every transformed foreground pixel lies within 0.5 px of the transformed polygon, and IoU > 0.8', () => {
    const rng = new Rng(2);
    const H = 24, W = 30;
    for (let t = 0; t < 100; t++) {
      const poly = [6 + rng.uniform(0, 3), 5, 22, 6 + rng.uniform(0, 3), 21, 18, 7, 17];
      const mask = { data: rasterise(poly, H, W), height: H, width: W, channels: 1 };
      const ops = randomOps(rng, H, W, true);
      const out = applyGeometry(mask, ops, { role: 'label', fill: 0 });
      const valid = applyGeometry({ ...mask, data: new Uint8Array(H * W).fill(1) }, ops, { role: 'label', fill: 0 });
      const moved = transformPolygons(poly, ops, { height: H, width: W });
      const redrawn = rasterise(moved, out.height, out.width);
      let inter = 0, union = 0, far = 0;
      for (let y = 0; y < out.height; y++) for (let x = 0; x < out.width; x++) {
        if (valid.data[y * out.width + x] !== 1) continue;
        const a = out.data[y * out.width + x] === 1, b = redrawn[y * out.width + x] === 1;
        inter += +(a && b);
        union += +(a || b);
        const near = [-0.5, 0, 0.5].some((dx) => [-0.5, 0, 0.5].some((dy) => inside(moved, x + dx, y + dy)));
        if (a && !b && !near) far++;
      }
      if (union > 0) expect(inter / union).toBeGreaterThan(0.8);
      expect(far).toBe(0);
    }
  });

  it('DOTA RRandomFlip: horizontal / vertical / diagonal / none at 0.25 each over 4000 draws; diagonal = hflip + vflip', () => {
    const rng = new Rng(3);
    const counts = { horizontal: 0, vertical: 0, diagonal: 0, none: 0 };
    for (let i = 0; i < 4000; i++) counts[sampleDotaFlip(rng).direction]++;
    for (const c of Object.values(counts)) expect(Math.abs(c / 4000 - 0.25)).toBeLessThan(0.03);
    const d = transformPolygons([1, 2], [{ kind: 'hflip' }, { kind: 'vflip' }], { height: 10, width: 20 });
    expect(Array.from(d)).toEqual([18, 7]);
  });
});
