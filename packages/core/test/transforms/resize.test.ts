import { describe, expect, it } from 'vitest';
import { runTorch } from '../../src/testing/torch-oracle.js';
import { cropImage } from '../../src/transforms/crop.js';
import { hflip } from '../../src/transforms/flip.js';
import type { Image } from '../../src/transforms/image.js';
import { resizeImage } from '../../src/transforms/resize.js';
import { diffStats, f32, itOracle, synthImage } from './helpers.js';

const img = synthImage(37, 53, 3, 1);
const big = synthImage(256, 256, 3, 9); // CMID's global resize: 256 -> 224 PIL bicubic
const SIZES: Array<[number, number]> = [[20, 31], [70, 90], [37, 80], [224, 224]];

describe('resizeImage vs PIL and torchvision (oracle)', () => {
  itOracle('uint8 x=[37,53,3] -> 4 sizes and x=[256,256,3] -> 224: PIL BILINEAR/BICUBIC bit-exact; torchvision float within 2e-3 and uint8 within 1 level; nearest exact', () => {
    const fimg = { data: f32(img.data), height: 37, width: 53, channels: 3 };
    const out = runTorch(
      `
from PIL import Image
import numpy as np
import torch.nn.functional as Fn
import torchvision.transforms.functional as F
x = inputs['x'].to(torch.uint8)
pil = Image.fromarray(x.numpy())
sizes = ${JSON.stringify(SIZES)}
for i, (h, w) in enumerate(sizes):
    outputs[f'pil_bil{i}'] = torch.from_numpy(np.asarray(pil.resize((w, h), Image.BILINEAR)).astype(np.float32))
    outputs[f'pil_bic{i}'] = torch.from_numpy(np.asarray(pil.resize((w, h), Image.BICUBIC)).astype(np.float32))
    t = inputs['x'].permute(2, 0, 1)[None]
    outputs[f'tv_bil{i}'] = Fn.interpolate(t, size=(h, w), mode='bilinear', align_corners=False)[0].permute(1, 2, 0)
    outputs[f'tv_bic{i}'] = Fn.interpolate(t, size=(h, w), mode='bicubic', align_corners=False)[0].permute(1, 2, 0)
    outputs[f'tv_aa{i}'] = F.resize(t[0], [h, w], interpolation=F.InterpolationMode.BILINEAR, antialias=True).permute(1, 2, 0)
    outputs[f'u8_bil{i}'] = F.resize(x.permute(2, 0, 1), [h, w], interpolation=F.InterpolationMode.BILINEAR).permute(1, 2, 0)
    outputs[f'near{i}'] = Fn.interpolate(t, size=(h, w), mode='nearest')[0].permute(1, 2, 0)
    outputs[f'nearx{i}'] = Fn.interpolate(t, size=(h, w), mode='nearest-exact')[0].permute(1, 2, 0)
outputs['cmid224'] = torch.from_numpy(np.asarray(Image.fromarray(inputs['big'].to(torch.uint8).numpy()).resize((224, 224), Image.BICUBIC)).astype(np.float32))
`,
      { x: { data: f32(img.data), shape: [37, 53, 3] }, big: { data: f32(big.data), shape: [256, 256, 3] } },
    );
    expect(diffStats(resizeImage(big, 224, 224, { interpolation: 'bicubic' }).data, out['cmid224']!.data), 'PIL bicubic 256 -> 224').toEqual({ mismatches: 0, maxDiff: 0 });
    SIZES.forEach(([h, w], i) => {
      const tag = `37x53 -> ${h}x${w}`;
      expect(diffStats(resizeImage(img, h, w, { interpolation: 'bilinear' }).data, out[`pil_bil${i}`]!.data), `PIL bilinear ${tag}`).toEqual({ mismatches: 0, maxDiff: 0 });
      expect(diffStats(resizeImage(img, h, w, { interpolation: 'bicubic' }).data, out[`pil_bic${i}`]!.data), `PIL bicubic ${tag}`).toEqual({ mismatches: 0, maxDiff: 0 });
      // float paths: torch computes weights and sums in float32, we in float64
      expect(diffStats(resizeImage(fimg, h, w, { interpolation: 'bilinear', antialias: false }).data, out[`tv_bil${i}`]!.data).maxDiff, `tv bilinear ${tag}`).toBeLessThan(2e-3);
      expect(diffStats(resizeImage(fimg, h, w, { interpolation: 'bicubic', antialias: false }).data, out[`tv_bic${i}`]!.data).maxDiff, `tv bicubic ${tag}`).toBeLessThan(2e-3);
      expect(diffStats(resizeImage(fimg, h, w, { interpolation: 'bilinear', antialias: true }).data, out[`tv_aa${i}`]!.data).maxDiff, `tv antialias ${tag}`).toBeLessThan(2e-3);
      // Deliberate difference: torch interpolates uint8 in float32 (direct 2-D formula, float32 weights) and rounds
      // half to even; we use float64 weights and a float32 intermediate. Exact .5 ties are common for bilinear
      // (e.g. an unscaled axis), so rounding may flip by 1 level at a few pixels.
      const u8 = diffStats(resizeImage(img, h, w, { interpolation: 'bilinear', antialias: false }).data, out[`u8_bil${i}`]!.data);
      expect(u8.maxDiff, `tv uint8 bilinear ${tag}`).toBeLessThanOrEqual(1);
      expect(u8.mismatches, `tv uint8 bilinear ${tag}`).toBeLessThanOrEqual(Math.ceil(0.01 * h * w * 3));
      expect(diffStats(resizeImage(img, h, w, { interpolation: 'nearest' }).data, out[`near${i}`]!.data), `nearest ${tag}`).toEqual({ mismatches: 0, maxDiff: 0 });
      expect(diffStats(resizeImage(img, h, w, { interpolation: 'nearest-exact' }).data, out[`nearx${i}`]!.data), `nearest-exact ${tag}`).toEqual({ mismatches: 0, maxDiff: 0 });
    });
  });
});

describe('resizeImage semantics', () => {
  it('box = crop then resize, bit for bit (PIL and OpenCV modes, x=[37,53,3] box 20x30 at (5,11) -> 44x41)', () => {
    const box = { top: 5, left: 11, height: 20, width: 30 };
    const crop = cropImage(img, box);
    for (const interpolation of ['bilinear', 'bicubic', 'nearest'] as const) {
      for (const antialias of [true, false]) {
        const a = resizeImage(img, 44, 41, { interpolation, antialias, box });
        const b = resizeImage(crop, 44, 41, { interpolation, antialias });
        expect(diffStats(a.data, b.data), `${interpolation} aa=${antialias}`).toEqual({ mismatches: 0, maxDiff: 0 });
      }
    }
  });

  it('flipHorizontal equals hflip after the resize', () => {
    for (const antialias of [true, false]) {
      const a = resizeImage(img, 30, 70, { interpolation: 'bicubic', antialias, flipHorizontal: true });
      const b = hflip(resizeImage(img, 30, 70, { interpolation: 'bicubic', antialias }));
      expect(diffStats(a.data, b.data)).toEqual({ mismatches: 0, maxDiff: 0 });
    }
  });

  it('13-band uint8 and float32: each band resizes as if alone; a constant image stays constant', () => {
    const ms = synthImage(19, 23, 13, 4);
    const fms = { ...ms, data: f32(ms.data) };
    for (const [src, antialias] of [[ms, true], [ms, false], [fms, true], [fms, false]] as Array<[Image, boolean]>) {
      const all = resizeImage(src, 31, 12, { interpolation: 'bicubic', antialias });
      expect(all.channels).toBe(13);
      for (const c of [0, 6, 12]) {
        const band: Image = { data: (src.data as Uint8Array).filter((_, i) => i % 13 === c), height: 19, width: 23, channels: 1 };
        if (src.data instanceof Float32Array) band.data = src.data.filter((_, i) => i % 13 === c);
        const alone = resizeImage(band, 31, 12, { interpolation: 'bicubic', antialias });
        expect(diffStats(Array.from(all.data).filter((_, i) => i % 13 === c), alone.data).maxDiff).toBeLessThan(1e-5);
      }
    }
    const flat = { data: new Uint8Array(10 * 10 * 2).fill(77), height: 10, width: 10, channels: 2 };
    for (const interpolation of ['bilinear', 'bicubic'] as const) {
      for (const antialias of [true, false]) expect(new Set(resizeImage(flat, 7, 23, { interpolation, antialias }).data)).toEqual(new Set([77]));
    }
  });

  it('identity size returns equal pixels; bad sizes and boxes throw CmidError', () => {
    expect(diffStats(resizeImage(img, 37, 53, { interpolation: 'bicubic' }).data, img.data).maxDiff).toBe(0);
    expect(diffStats(resizeImage(img, 37, 53, { interpolation: 'bilinear', antialias: false }).data, img.data).maxDiff).toBe(0);
    expect(() => resizeImage(img, 0, 5)).toThrow(/output size/);
    expect(() => resizeImage(img, 5, 5, { box: { top: 30, left: 0, height: 10, width: 5 } })).toThrow(/inside the 37x53 image/);
  });
});
