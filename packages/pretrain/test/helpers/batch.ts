/** Test batches: smooth random uint8 scenes through the real CMID transform and position matching. */
import { parallelTransform, Rng } from '@cmid/core';
import { CMID_TINY, mergeConfig, type CmidConfig } from '../../src/config.js';
import { collateCmid, type CmidItem } from '../../src/data.js';
import { positionMatch } from '../../src/position-match.js';

export function sceneImage(rng: Rng, size: number): { data: Uint8Array; height: number; width: number; channels: number } {
  const data = new Uint8Array(size * size * 3);
  const waves = Array.from({ length: 4 }, () => [rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2), rng.uniform(0, 6), rng.uniform(30, 80)] as const);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 110 + 25 * c;
        for (const [fx, fy, ph, a] of waves) v += a * Math.sin(fx * x + fy * y + ph + c);
        data[(y * size + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { data, height: size, width: size, channels: 3 };
}

export function cmidItems(c: CmidConfig, B: number, seed: number): CmidItem[] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, () => {
    const s = parallelTransform(sceneImage(rng, c.size + 16), rng, { size: c.size, maskPatchSize: c.maskPatchSize, maskRatio: c.maskRatio });
    const a = positionMatch(s.locations[0], s.locations[1], c.numMatches);
    const b = positionMatch(s.locations[1], s.locations[0], c.numMatches);
    return { img: s.img.data, mimImg: s.mimImg.data, view: s.view.data, viewMimImg: s.viewMimImg.data, mask: s.mask, viewMask: s.viewMask, orgInput: a.input, orgCand: a.candidate, viewInput: b.input, viewCand: b.candidate, size: c.size, channels: 3 };
  });
}

export function cmidBatch(c: CmidConfig, B: number, seed: number, teacherTemp = 0.04) {
  const cells = (c.size / 32) ** 2;
  return { ...collateCmid(cmidItems(c, B, seed), cells), teacher_temp: { data: Float32Array.of(teacherTemp), shape: [1] } };
}

/** A CMID small enough for step-level tests: ResNet-18 at width 8, 64 px (2 x 2 cells), tiny heads and queue. */
/** The sizes of the step-level test models: 64 px (2 x 2 cells), tiny heads and queue, batch 4. */
export const SMALL_SIZES = {
  size: 64,
  num_matches: 2,
  hidden_dim: 32,
  class_feat_size: 24,
  bottleneck_dim: 8,
  out_dim: 16,
  queue_size: 32,
  batch_size: 4,
  mask_patch_size: 16,
  lr: 0.01,
  optimizer: 'sgd',
} as const;

export const SMALL: CmidConfig = mergeConfig(CMID_TINY, { ...SMALL_SIZES, backbone_options: { baseWidth: 8 } });
