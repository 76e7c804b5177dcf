import { describe, expect, it } from 'vitest';
import { hflip, vflip } from '../../src/transforms/flip.js';
import { rot90 } from '../../src/transforms/rot90.js';
import { diffStats, synthImage } from './helpers.js';

describe('rot90 (counter-clockwise, numpy.rot90 / PIL ROTATE_90)', () => {
  const img = synthImage(5, 8, 3, 4);
  it('k=1 on a 2x3 single-band image matches numpy.rot90 ([[1,2,3],[4,5,6]] -> [[3,6],[2,5],[1,4]])', () => {
    const r = rot90({ data: new Uint8Array([1, 2, 3, 4, 5, 6]), height: 2, width: 3, channels: 1 });
    expect([r.height, r.width]).toEqual([3, 2]);
    expect(Array.from(r.data)).toEqual([3, 6, 2, 5, 1, 4]);
  });

  it('four quarter turns are the identity; k=2 equals hflip+vflip; k=-1 equals k=3; shapes swap for odd k (13 bands too)', () => {
    for (const src of [img, synthImage(4, 7, 13, 1)]) {
      let r = src;
      for (let i = 0; i < 4; i++) r = rot90(r, 1);
      expect(diffStats(r.data, src.data).mismatches).toBe(0);
      expect(diffStats(rot90(src, 2).data, vflip(hflip(src)).data).mismatches).toBe(0);
      expect(diffStats(rot90(src, -1).data, rot90(src, 3).data).mismatches).toBe(0);
      expect(diffStats(rot90(rot90(src, 1), 3).data, src.data).mismatches).toBe(0);
      expect([rot90(src, 1).height, rot90(src, 1).width]).toEqual([src.width, src.height]);
      expect(diffStats(rot90(src, 4).data, src.data).mismatches).toBe(0);
    }
  });
});
