import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng/rng.js';
import { runTorch } from '../../src/testing/torch-oracle.js';
import { opencvGray, pilGray, randomGrayscale, toGrayscale, torchvisionGray } from '../../src/transforms/grayscale.js';
import { diffStats, f32, itOracle, synthImage } from './helpers.js';

const img = synthImage(33, 47, 3, 3);

describe('toGrayscale', () => {
  itOracle('torchvision rgb_to_grayscale (uint8) and PIL convert("L"), x=[33,47,3]: bit-exact', () => {
    const out = runTorch(
      `
from PIL import Image
import numpy as np
import torchvision.transforms.functional as F
x = inputs['x'].to(torch.uint8)
outputs['tv'] = F.rgb_to_grayscale(x.permute(2, 0, 1), num_output_channels=3).permute(1, 2, 0)
outputs['pil'] = torch.from_numpy(np.asarray(Image.fromarray(x.numpy()).convert('L')).astype(np.float32))
`,
      { x: { data: f32(img.data), shape: [33, 47, 3] } },
    );
    expect(diffStats(toGrayscale(img, { mode: 'torchvision' }).data, out['tv']!.data)).toEqual({ mismatches: 0, maxDiff: 0 });
    expect(diffStats(toGrayscale(img, { mode: 'pil', outputChannels: 1 }).data, out['pil']!.data)).toEqual({ mismatches: 0, maxDiff: 0 });
  });

  it("'opencv' (CMID's ToGray) is 0.299 R + 0.587 G + 0.114 B rounded, in 14-bit fixed point: within 0.51 of the exact value", () => {
    let off = 0, total = 0;
    for (let r = 0; r < 256; r += 5) {
      for (let g = 0; g < 256; g += 7) {
        for (let b = 0; b < 256; b += 11) {
          const exact = 0.299 * r + 0.587 * g + 0.114 * b;
          const v = opencvGray(r, g, b);
          expect(Math.abs(v - exact)).toBeLessThanOrEqual(0.51); // 14-bit coefficients differ from 0.299/0.587/0.114 by < 2e-5
          if (v !== Math.round(exact)) off++;
          total++;
        }
      }
    }
    expect(off).toBeLessThan(0.005 * total); // only values within ~0.005 of a .5 tie round differently
    expect([opencvGray(255, 0, 0), opencvGray(0, 255, 0), opencvGray(0, 0, 255), opencvGray(255, 255, 255)]).toEqual([76, 150, 29, 255]);
    const g3 = toGrayscale(img);
    expect(g3.channels).toBe(3);
    for (let p = 0; p < g3.data.length; p += 3) {
      expect(g3.data[p + 1]).toBe(g3.data[p]);
      expect(g3.data[p + 2]).toBe(g3.data[p]);
    }
  });

  it('uint8 (OpenCV and torchvision in wasm, PIL in JS) equal the per-pixel formulas for every colour on a grid, 1 and 3 bands out, in place', () => {
    const colours: number[] = [];
    for (let r = 0; r < 256; r += 3) for (let g = 0; g < 256; g += 5) for (let b = 0; b < 256; b += 4) colours.push(r, g, b);
    colours.push(255, 255, 255, 0, 0, 0);
    const all = Uint8Array.from(colours);
    for (const npix of [1, 2, 15, 16, 17, 33, all.length / 3]) {
      const data = all.subarray(0, npix * 3);
      const im = { data, height: 1, width: npix, channels: 3 };
      for (const [mode, f] of [['opencv', opencvGray], ['torchvision', torchvisionGray], ['pil', pilGray]] as const) {
        const ref = new Uint8Array(npix);
        for (let i = 0; i < npix; i++) ref[i] = f(data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!);
        expect(diffStats(toGrayscale(im, { mode, outputChannels: 1 }).data, ref), `${mode} npix=${npix}`).toEqual({ mismatches: 0, maxDiff: 0 });
        const ref3 = new Uint8Array(npix * 3).map((_, j) => ref[Math.floor(j / 3)]!);
        const copy = { ...im, data: data.slice() };
        toGrayscale(copy, { mode, out: copy });
        expect(diffStats(copy.data, ref3), `${mode} in place npix=${npix}`).toEqual({ mismatches: 0, maxDiff: 0 });
      }
    }
  });

  it('randomGrayscale(p=0.2) applies in 20% of 3000 draws; 13 bands throw', () => {
    const rng = new Rng(3);
    const tiny = synthImage(2, 2, 3, 1);
    let k = 0;
    for (let i = 0; i < 3000; i++) if (randomGrayscale(tiny, rng, 0.2).applied) k++;
    expect(Math.abs(k / 3000 - 0.2)).toBeLessThan(0.025);
    expect(() => toGrayscale(synthImage(2, 2, 13))).toThrow(/3-band RGB/);
  });
});
