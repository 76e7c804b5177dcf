import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { blockMask, fillMasked } from '../../src/transforms/block-mask.js';

describe('blockMask (cmid.md §6.3 / SimMIM)', () => {
  it('CMID defaults: exactly ceil(49 * 0.6) = 30 of 49 blocks, token mask 56x56 = blocks repeated 8x8', () => {
    const rng = new Rng(1);
    for (let t = 0; t < 50; t++) {
      const m = blockMask(rng);
      expect([m.blockRows, m.blockCols, m.tokenRows, m.tokenCols, m.count]).toEqual([7, 7, 56, 56, 30]);
      expect(m.blocks.reduce((a, b) => a + b, 0)).toBe(30);
      expect(m.mask.reduce((a, b) => a + b, 0)).toBe(30 * 64);
      let bad = 0;
      for (let r = 0; r < 56; r++) for (let c = 0; c < 56; c++) if (m.mask[r * 56 + c] !== m.blocks[Math.floor(r / 8) * 7 + Math.floor(c / 8)]) bad++;
      expect(bad).toBe(0);
    }
  });

  it('every block is masked with probability 30/49 over 3000 masks (uniform permutation)', () => {
    const rng = new Rng(2);
    const freq = new Float64Array(49);
    for (let t = 0; t < 3000; t++) blockMask(rng).blocks.forEach((v, i) => (freq[i] += v));
    for (const f of freq) expect(Math.abs(f / 3000 - 30 / 49)).toBeLessThan(0.04); // sd 0.009
  });

  it('SimMIM Swin settings (192 px, ratio 0.6): ceil(36 * 0.6) = 22 blocks, 48x48 tokens; ViT patch 16: 12x12 tokens', () => {
    const m = blockMask(new Rng(3), { inputSize: 192 });
    expect([m.count, m.tokenRows, m.blocks.reduce((a, b) => a + b, 0)]).toEqual([22, 48, 22]);
    const v = blockMask(new Rng(3), { inputSize: 192, modelPatchSize: 16 });
    expect([v.tokenRows, v.mask.reduce((a, b) => a + b, 0)]).toEqual([12, 22 * 4]);
    expect(() => blockMask(new Rng(0), { inputSize: 200 })).toThrow(/multiple of maskPatchSize/);
  });

  it("fillMasked: masked 32x32 blocks hold the image's own per-band mean, everything else is untouched (3 and 13 bands)", () => {
    for (const C of [3, 13]) {
      const rng = new Rng(C);
      const data = new Float32Array(224 * 224 * C);
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() + (i % C);
      const img = { data, height: 224, width: 224, channels: C };
      const m = blockMask(rng);
      const out = fillMasked(img, m);
      const mean = new Float64Array(C);
      for (let i = 0; i < data.length; i++) mean[i % C] += data[i]! / (224 * 224);
      let worstFill = 0, changed = 0, filled = 0;
      for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) {
        const masked = m.blocks[Math.floor(y / 32) * 7 + Math.floor(x / 32)] === 1;
        for (let c = 0; c < C; c++) {
          const i = (y * 224 + x) * C + c;
          if (masked) {
            filled++;
            worstFill = Math.max(worstFill, Math.abs(out.data[i]! - mean[c]!));
          } else if (out.data[i] !== data[i]) changed++;
        }
      }
      expect(filled).toBe(30 * 32 * 32 * C);
      expect(worstFill).toBeLessThan(1e-5);
      expect(changed).toBe(0);
      const fixed = fillMasked(img, m, Array.from({ length: C }, () => 0));
      expect(fixed.data.filter((v) => v === 0).length).toBeGreaterThanOrEqual(30 * 1024 * C);
    }
  });
});
