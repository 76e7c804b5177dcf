/**
 * Mixup / CutMix as timm 0.6.12's `Mixup` in mode 'batch' (timm/data/mixup.py), on a batch of NHWC float32 images:
 * with probability `prob`, one lambda for the whole batch: CutMix with probability `switchProb` (lambda ~
 * Beta(cutmixAlpha), one box of side sqrt(1 - lambda) x the image, centre uniform, clipped, lambda corrected to
 * the clipped box area) else Mixup (lambda ~ Beta(mixupAlpha)); sample i is mixed with sample B - 1 - i; targets
 * are one-hot with label smoothing (off = s / C, on = 1 - s + s / C), mixed with the same lambda.
 * An even batch is required, as timm asserts. Draws come from our Rng.
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';

/** Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 through the boost u^(1/shape)). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(Math.max(rng.next(), 1e-300), 1 / shape);
  const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a), y = sampleGamma(rng, b);
  return x / (x + y);
}

export interface MixupOptions {
  /** Default 0.8. 0 disables mixup. */
  mixupAlpha?: number;
  /** Default 1. 0 disables cutmix. */
  cutmixAlpha?: number;
  /** Probability of mixing a batch at all. Default 1. */
  prob?: number;
  /** Probability of CutMix when both are on. Default 0.5. */
  switchProb?: number;
  /** Label smoothing of the targets. Default 0.1. */
  smoothing?: number;
}

export interface MixupResult {
  images: Float32Array;
  /** [B, C] soft targets. */
  targets: Float32Array;
  lambda: number;
  kind: 'mixup' | 'cutmix' | 'none';
  /** The CutMix box (pixels, end-exclusive). */
  box?: { yl: number; yh: number; xl: number; xh: number };
}

export function mixupCutmix(images: Float32Array, shape: readonly [number, number, number, number], labels: ArrayLike<number>, numClasses: number, rng: Rng, o: MixupOptions = {}): MixupResult {
  const { mixupAlpha = 0.8, cutmixAlpha = 1, prob = 1, switchProb = 0.5, smoothing = 0.1 } = o;
  const [B, H, W, C] = shape;
  if (B % 2 !== 0) throw new CmidError('config', `mixup/cutmix: the batch size must be even (sample i is mixed with sample B-1-i), got ${B}.`);
  if (labels.length !== B) throw new CmidError('input', `mixup/cutmix: ${labels.length} labels for a batch of ${B}.`);
  let lambda = 1;
  let kind: MixupResult['kind'] = 'none';
  if ((mixupAlpha > 0 || cutmixAlpha > 0) && rng.next() < prob) {
    let cut: boolean;
    if (mixupAlpha > 0 && cutmixAlpha > 0) cut = rng.next() < switchProb;
    else cut = cutmixAlpha > 0;
    lambda = cut ? sampleBeta(rng, cutmixAlpha, cutmixAlpha) : sampleBeta(rng, mixupAlpha, mixupAlpha);
    kind = cut ? 'cutmix' : 'mixup';
  }
  const out = Float32Array.from(images);
  const px = H * W * C;
  let box: MixupResult['box'];
  if (lambda !== 1 && kind === 'cutmix') {
    const ratio = Math.sqrt(1 - lambda);
    const ch = Math.trunc(H * ratio), cw = Math.trunc(W * ratio);
    const cy = rng.int(0, H), cx = rng.int(0, W);
    const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
    const yl = clip(cy - Math.floor(ch / 2), H), yh = clip(cy + Math.floor(ch / 2), H);
    const xl = clip(cx - Math.floor(cw / 2), W), xh = clip(cx + Math.floor(cw / 2), W);
    box = { yl, yh, xl, xh };
    lambda = 1 - ((yh - yl) * (xh - xl)) / (H * W);
    for (let b = 0; b < B; b++) {
      const src = (B - 1 - b) * px, dst = b * px;
      for (let y = yl; y < yh; y++) {
        const row = (y * W + xl) * C;
        out.set(images.subarray(src + row, src + row + (xh - xl) * C), dst + row);
      }
    }
  } else if (lambda !== 1) {
    for (let b = 0; b < B; b++) {
      const src = (B - 1 - b) * px, dst = b * px;
      for (let i = 0; i < px; i++) out[dst + i] = images[dst + i]! * lambda + images[src + i]! * (1 - lambda);
    }
  } else kind = 'none';
  const off = smoothing / numClasses, on = 1 - smoothing + off;
  const targets = new Float32Array(B * numClasses);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < numClasses; k++) {
      const t1 = labels[b] === k ? on : off, t2 = labels[B - 1 - b] === k ? on : off;
      targets[b * numClasses + k] = t1 * lambda + t2 * (1 - lambda);
    }
  }
  return { images: out, targets, lambda, kind, ...(box !== undefined ? { box } : {}) };
}
