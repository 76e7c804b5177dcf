/**
 * Block-wise masking of CMID and SimMIM (CMID's BlockwiseMaskGenerator, cmid.md §6.3; SimMIM's MaskGenerator,
 * baselines-datasets.md §2.6). The image is tiled into maskPatchSize blocks (224 / 32 = 7 x 7 = 49); a uniformly random
 * permutation picks the first ceil(49 * 0.6) = 30 blocks (1 = masked, row-major); the block grid is upsampled to the
 * model's patch resolution (x 32 / 4 = 8: a 56 x 56 token mask, the `mask` the model receives).
 *
 * CMID additionally fills the masked pixels of the NORMALISED image with that image's own per-band mean (computed
 * over all pixels, masked ones included); SimMIM leaves the pixels alone and substitutes a mask token inside the
 * encoder (`fillMasked` is then not called).
 */
import { CmidError } from '../runtime/errors.js';
import type { Rng } from '../rng/rng.js';
import { checkImage, type Image } from './image.js';

export interface BlockMaskOptions {
  /** Image side in pixels (square) or [height, width]. Default 224 (SimMIM Swin: 192). */
  inputSize?: number | readonly [number, number];
  /** Default 32. */
  maskPatchSize?: number;
  /** Token size of the model (CMID mask_stage 0 -> 4; ViT 16). Default 4. */
  modelPatchSize?: number;
  /** Fraction of blocks masked; the count is ceil(blocks * ratio). Default 0.6. */
  maskRatio?: number;
}

export interface BlockMask {
  /** Token mask [tokenRows * tokenCols], 1 = masked (56 x 56 for CMID). */
  mask: Uint8Array;
  tokenRows: number;
  tokenCols: number;
  /** Block mask [blockRows * blockCols] (7 x 7). */
  blocks: Uint8Array;
  blockRows: number;
  blockCols: number;
  /** Pixels per block side (maskPatchSize) and per token side (modelPatchSize). */
  maskPatchSize: number;
  modelPatchSize: number;
  /** Number of masked blocks (30 for CMID). */
  count: number;
}

/** Draws a block mask. */
export function blockMask(rng: Rng, options: BlockMaskOptions = {}): BlockMask {
  const size = options.inputSize ?? 224;
  const [H, W] = typeof size === 'number' ? [size, size] : size;
  const mp = options.maskPatchSize ?? 32;
  const tp = options.modelPatchSize ?? 4;
  const ratio = options.maskRatio ?? 0.6;
  if (H % mp !== 0 || W % mp !== 0 || mp % tp !== 0) {
    throw new CmidError('config', `blockMask: input ${H}x${W} must be a multiple of maskPatchSize ${mp}, and ${mp} a multiple of modelPatchSize ${tp}.`);
  }
  if (!(ratio >= 0 && ratio <= 1)) throw new CmidError('config', `blockMask: maskRatio must lie in [0, 1], got ${ratio}.`);
  const blockRows = H / mp, blockCols = W / mp;
  const n = blockRows * blockCols;
  const count = Math.ceil(n * ratio);
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const blocks = new Uint8Array(n);
  for (let i = 0; i < count; i++) blocks[perm[i]!] = 1;
  const scale = mp / tp;
  const tokenRows = blockRows * scale, tokenCols = blockCols * scale;
  const mask = new Uint8Array(tokenRows * tokenCols);
  for (let r = 0; r < tokenRows; r++) {
    const br = Math.floor(r / scale) * blockCols;
    for (let c = 0; c < tokenCols; c++) mask[r * tokenCols + c] = blocks[br + Math.floor(c / scale)]!;
  }
  return { mask, tokenRows, tokenCols, blocks, blockRows, blockCols, maskPatchSize: mp, modelPatchSize: tp, count };
}

/**
 * Returns a copy of `img` (the normalised float32 view) whose masked blocks hold `fill`: 'mean' (default, the
 * per-band mean of this image, as CMID), or one value per band.
 */
export function fillMasked(img: Image<Float32Array>, mask: BlockMask, fill: 'mean' | readonly number[] = 'mean'): Image<Float32Array> {
  checkImage(img, 'fillMasked');
  const { height: H, width: W, channels: C } = img;
  if (H !== mask.blockRows * mask.maskPatchSize || W !== mask.blockCols * mask.maskPatchSize) {
    throw new CmidError(
      'input',
      `fillMasked: image is ${H}x${W} but the mask covers ${mask.blockRows * mask.maskPatchSize}x${mask.blockCols * mask.maskPatchSize} pixels; draw the mask with inputSize [${H}, ${W}].`,
    );
  }
  const src = img.data;
  const values = new Float32Array(C);
  if (fill === 'mean') {
    const sum = channelSums(src, C);
    for (let c = 0; c < C; c++) values[c] = sum[c]! / (H * W);
  } else {
    if (fill.length !== C) throw new CmidError('input', `fillMasked: fill has ${fill.length} values for ${C} bands.`);
    values.set(fill);
  }
  const out = src.slice();
  const mp = mask.maskPatchSize;
  // One block row of fill values, copied with set() into every masked block row.
  const pattern = new Float32Array(mp * C);
  for (let x = 0; x < mp; x++) pattern.set(values, x * C);
  for (let br = 0; br < mask.blockRows; br++) {
    for (let bc = 0; bc < mask.blockCols; bc++) {
      if (mask.blocks[br * mask.blockCols + bc] === 0) continue;
      for (let y = br * mp; y < (br + 1) * mp; y++) out.set(pattern, (y * W + bc * mp) * C);
    }
  }
  return { data: out, height: H, width: W, channels: C };
}

/** Per-band sums in float64. */
function channelSums(src: Float32Array, C: number): Float64Array {
  const sum = new Float64Array(C);
  if (C === 3) {
    let s0 = 0, s1 = 0, s2 = 0;
    for (let i = 0; i < src.length; i += 3) {
      s0 += src[i]!;
      s1 += src[i + 1]!;
      s2 += src[i + 2]!;
    }
    sum[0] = s0;
    sum[1] = s1;
    sum[2] = s2;
  } else {
    for (let i = 0; i < src.length; i += C) for (let c = 0; c < C; c++) sum[c] += src[i + c]!;
  }
  return sum;
}
