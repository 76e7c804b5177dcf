import { describe, expect, it } from 'vitest';
import { hflip, vflip } from '../../src/transforms/flip.js';
import { applyGeometry, geometryOutputSize, type GeometryOp } from '../../src/transforms/geometry.js';
import { resizeImage } from '../../src/transforms/resize.js';
import { rot90 } from '../../src/transforms/rot90.js';
import { diffStats, synthImage } from './helpers.js';

describe('applyGeometry', () => {
  const img = synthImage(20, 30, 3, 1);
  it('equals the same primitives called by hand, and geometryOutputSize predicts the shape', () => {
    const ops: GeometryOp[] = [
      { kind: 'hflip' },
      { kind: 'rot90', k: 1 },
      { kind: 'crop', box: { top: 2, left: 3, height: 12, width: 16 } },
      { kind: 'resize', height: 24, width: 20 },
      { kind: 'vflip' },
      { kind: 'pad', height: 32, width: 20 },
    ];
    const out = applyGeometry(img, ops);
    let ref = rot90(hflip(img), 1);
    const c = { top: 2, left: 3, height: 12, width: 16 };
    const cropped = { data: new Uint8Array(12 * 16 * 3), height: 12, width: 16, channels: 3 };
    for (let y = 0; y < 12; y++) cropped.data.set(ref.data.subarray(((y + c.top) * ref.width + c.left) * 3, ((y + c.top) * ref.width + c.left + 16) * 3), y * 16 * 3);
    ref = vflip(resizeImage(cropped, 24, 20, { antialias: false }));
    expect([out.height, out.width]).toEqual([32, 20]);
    expect(geometryOutputSize(20, 30, ops)).toEqual({ height: 32, width: 20 });
    expect(diffStats(out.data.subarray(0, 24 * 20 * 3), ref.data).mismatches).toBe(0);
    expect(out.data.subarray(24 * 20 * 3).every((v) => v === 0)).toBe(true);
  });

  it("labels: nearest resampling never invents class ids; outside-the-image pixels become 255 (ignore)", () => {
    const label = { data: new Uint8Array(20 * 30), height: 20, width: 30, channels: 1 };
    for (let i = 0; i < label.data.length; i++) label.data[i] = ((i % 30) >> 3) + 3 * ((i / 30) >> 3); // ids 0..11 in 8x8 blocks
    const out = applyGeometry(label, [{ kind: 'resize', height: 37, width: 23 }, { kind: 'crop', box: { top: -3, left: 10, height: 40, width: 20 } }], { role: 'label' });
    const ids = new Set(out.data);
    expect([...ids].every((v) => v === 255 || (v >= 0 && v <= 11))).toBe(true);
    expect(out.data.subarray(0, 3 * 20).every((v) => v === 255)).toBe(true);
    expect(() => applyGeometry(label, [{ kind: 'shear' } as never])).toThrow(/unknown op/);
  });
});
