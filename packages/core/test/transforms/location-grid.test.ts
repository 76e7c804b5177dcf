import { describe, expect, it } from 'vitest';
import { locationGrid } from '../../src/transforms/location-grid.js';
import type { CropBox } from '../../src/transforms/random-resized-crop.js';

const box: CropBox = { top: 40, left: 10, height: 140, width: 112, hStart: 40 / (224 - 140 + 1e-10), wStart: 10 / (224 - 112 + 1e-10), fallback: false };

describe('locationGrid (cmid.md §5.2)', () => {
  it("'fraction' (faithful quirk 1): row = hStart + (k + 0.5) h / 7, col = wStart + (l + 0.5) w / 7, float32 [7,7,2]", () => {
    const g = locationGrid(box, false);
    expect(g).toBeInstanceOf(Float32Array);
    expect(g.length).toBe(98);
    for (let k = 0; k < 7; k++) for (let l = 0; l < 7; l++) {
      expect(g[(k * 7 + l) * 2]).toBe(Math.fround(box.hStart + ((k + 0.5) * 140) / 7));
      expect(g[(k * 7 + l) * 2 + 1]).toBe(Math.fround(box.wStart + ((l + 0.5) * 112) / 7));
    }
    // the fractions are < 1, so the grid ignores where the crop is: cell (0,0) is near 10 and 8, not 50 and 18
    expect(g[0]!).toBeLessThan(11);
    expect(g[1]!).toBeLessThan(9);
  });

  it("'pixel' (the fix): every cell centre is where the centre of its 32x32 output block came from in the source", () => {
    const g = locationGrid(box, false, { offsets: 'pixel' });
    for (let k = 0; k < 7; k++) for (let l = 0; l < 7; l++) {
      const outRow = (k + 0.5) * 32, outCol = (l + 0.5) * 32; // centre of the feature cell in the 224 output
      expect(g[(k * 7 + l) * 2]).toBeCloseTo(box.top + (outRow * box.height) / 224, 4);
      expect(g[(k * 7 + l) * 2 + 1]).toBeCloseTo(box.left + (outCol * box.width) / 224, 4);
    }
  });

  it('a flipped view reverses the columns and keeps the rows', () => {
    const g = locationGrid(box, false, { offsets: 'pixel' });
    const f = locationGrid(box, true, { offsets: 'pixel' });
    for (let k = 0; k < 7; k++) for (let l = 0; l < 7; l++) {
      expect(f[(k * 7 + l) * 2]).toBe(g[(k * 7 + l) * 2]);
      expect(f[(k * 7 + l) * 2 + 1]).toBe(g[(k * 7 + 6 - l) * 2 + 1]);
    }
    expect(() => locationGrid(box, false, { offsets: 'pixels' as never })).toThrow(/'fraction' or 'pixel'/);
  });
});
