import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { maeRandomMask } from '../../src/transforms/mae-mask.js';

describe('maeRandomMask (MAE random_masking)', () => {
  it('B=8, L=196, ratio 0.75: 49 kept per sample; idsRestore inverts the shuffle; mask marks exactly the dropped tokens', () => {
    const m = maeRandomMask(new Rng(1), 8, 196, 0.75);
    expect(m.lenKeep).toBe(49);
    const samples = new Set<string>();
    for (let b = 0; b < 8; b++) {
      const keep = Array.from(m.idsKeep.subarray(b * 49, (b + 1) * 49));
      const restore = m.idsRestore.subarray(b * 196, (b + 1) * 196);
      const mask = m.mask.subarray(b * 196, (b + 1) * 196);
      expect(new Set(keep).size).toBe(49);
      expect(mask.reduce((a, v) => a + v, 0)).toBe(147);
      for (const id of keep) expect(mask[id]).toBe(0);
      // restore is a permutation, and its first 49 positions are the kept ids, in order
      expect(new Set(restore).size).toBe(196);
      keep.forEach((id, k) => expect(restore[id]).toBe(k));
      for (let i = 0; i < 196; i++) expect(mask[i]).toBe(restore[i]! < 49 ? 0 : 1);
      samples.add(keep.join(','));
    }
    expect(samples.size).toBe(8); // masks are drawn per sample
  });

  it('each token is kept with probability 1/4 over 2000 samples; len_keep = trunc(L (1 - ratio)) as in Python int()', () => {
    const m = maeRandomMask(new Rng(2), 2000, 16, 0.75);
    const freq = new Float64Array(16);
    for (let i = 0; i < m.mask.length; i++) freq[i % 16] += 1 - m.mask[i]!;
    for (const f of freq) expect(Math.abs(f / 2000 - 0.25)).toBeLessThan(0.035);
    expect(maeRandomMask(new Rng(0), 1, 196, 0.6).lenKeep).toBe(78);
    expect(() => maeRandomMask(new Rng(0), 1, 10, 1)).toThrow(/\[0, 1\)/);
  });
});
