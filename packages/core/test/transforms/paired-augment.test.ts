import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import type { GeometryOp } from '../../src/transforms/geometry.js';
import { applyChangePair, applyPaired, sampleChangeDetectionGeometry, sampleSegmentationGeometry } from '../../src/transforms/paired-augment.js';
import { applyGeometry } from '../../src/transforms/geometry.js';
import { synthImage } from './helpers.js';

/** A label of 6x6 blocks (ids 0..4) and an image whose three bands all equal 40 * id + 10: pixel and label agree. */
function pair(H: number, W: number) {
  const label = { data: new Uint8Array(H * W), height: H, width: W, channels: 1 };
  const image = { data: new Uint8Array(H * W * 3), height: H, width: W, channels: 3 };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const id = (Math.floor(y / 6) * 7 + Math.floor(x / 6)) % 5;
    label.data[y * W + x] = id;
    image.data.fill(40 * id + 10, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return { image, label };
}

/**
 * Pixels where image and label disagree. r = 0 checks every labelled pixel (nearest images); r = 2 only pixels whose
 * 5x5 label neighbourhood is one class (a bilinear image blends classes at their borders).
 */
function disagreements(image: { data: Uint8Array; width: number; height: number }, label: { data: Uint8Array }, r = 0): number {
  let bad = 0;
  const { width: W, height: H } = image;
  for (let y = r; y < H - r; y++) for (let x = r; x < W - r; x++) {
    const id = label.data[y * W + x]!;
    if (id === 255) continue;
    let uniform = true;
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (label.data[(y + dy) * W + x + dx] !== id) uniform = false;
    if (uniform && image.data[(y * W + x) * 3] !== 40 * id + 10) bad++;
  }
  return bad;
}

describe('paired geometry', () => {
  it('image and label stay aligned under 200 random geometries (flips, quarter turns, resize, padded crop): exact with a nearest image, away from class borders with a bilinear one', () => {
    const rng = new Rng(1);
    const { image, label } = pair(42, 42);
    let checked = 0;
    for (let t = 0; t < 200; t++) {
      const ops: GeometryOp[] = [...sampleChangeDetectionGeometry(rng), { kind: 'resize', height: 30 + rng.int(0, 40), width: 30 + rng.int(0, 40) }, { kind: 'crop', box: { top: rng.int(-5, 10), left: rng.int(-5, 10), height: 25, width: 25 } }];
      const near = applyPaired({ image, label }, ops, { interpolation: 'nearest' });
      expect(disagreements(near.image, near.label)).toBe(0);
      const bil = applyPaired({ image, label }, ops);
      expect(disagreements(bil.image, bil.label, 2)).toBe(0);
      checked += near.label.data.filter((v) => v !== 255).length;
    }
    expect(checked).toBeGreaterThan(200 * 300);
  });

  it('change pairs: A, B and the label get the same geometry (A = B in, A = B out; label ids follow A)', () => {
    const rng = new Rng(2);
    const { image, label } = pair(36, 30);
    for (let t = 0; t < 50; t++) {
      const ops = sampleChangeDetectionGeometry(rng);
      const out = applyChangePair({ a: image, b: { ...image, data: image.data.slice() }, label }, ops);
      expect(Buffer.compare(Buffer.from(out.a.data), Buffer.from(out.b.data))).toBe(0);
      expect(disagreements(out.a, out.label)).toBe(0);
    }
    expect(() => applyChangePair({ a: image, b: synthImage(10, 10), label }, [])).toThrow(/same size/);
  });

  it('CMID change-detection draws over 4000 samples: hflip 0.5, vflip 0.5, rotation 0.75 split evenly over 90/180/270', () => {
    const rng = new Rng(3);
    const n = 4000;
    let h = 0, v = 0;
    const rot = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const ops = sampleChangeDetectionGeometry(rng);
      h += +ops.some((o) => o.kind === 'hflip');
      v += +ops.some((o) => o.kind === 'vflip');
      const r = ops.find((o) => o.kind === 'rot90') as { k: number } | undefined;
      rot[r ? r.k : 0]!++;
    }
    expect(Math.abs(h / n - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(v / n - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(rot[0]! / n - 0.25)).toBeLessThan(0.03);
    for (const k of [1, 2, 3]) expect(Math.abs(rot[k]! / n - 0.25)).toBeLessThan(0.03);
  });

  it('mmseg geometry on a 64x80 label (scale 64, crop 48): resize keeps the ratio within 0.5-2x, accepted crops pass cat_max_ratio, pad reaches the crop size', () => {
    const rng = new Rng(4);
    const { label } = pair(64, 80);
    for (let t = 0; t < 60; t++) {
      const { ops, pad } = sampleSegmentationGeometry(rng, label, { scale: [64, 64], cropSize: [48, 48] });
      const rs = ops[0] as { kind: 'resize'; height: number; width: number };
      expect(rs.kind).toBe('resize');
      expect(Math.abs(rs.width / rs.height - 80 / 64)).toBeLessThan(0.05);
      expect(Math.max(rs.height, rs.width)).toBeGreaterThanOrEqual(Math.floor(32 * 0.99));
      expect(Math.max(rs.height, rs.width)).toBeLessThanOrEqual(128);
      const out = applyGeometry(label, [...ops, pad], { role: 'label' });
      expect([out.height, out.width]).toEqual([48, 48]);
      const counts = new Map<number, number>();
      let total = 0;
      for (const v of out.data) if (v !== 255) {
        counts.set(v, (counts.get(v) ?? 0) + 1);
        total++;
      }
      expect(counts.size).toBeGreaterThan(1);
      expect(Math.max(...counts.values()) / total).toBeLessThan(0.75);
    }
  });
});
