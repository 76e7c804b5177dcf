/**
 * Vision Transformer (Dosovitskiy et al. 2021), ViT-B/16 in the MAE / timm key layout: `cls_token` [1, 1, D],
 * `pos_embed` [1, 1 + N, D], `patch_embed.proj` (Conv2d k = s = 16), `blocks.{i}.{norm1, attn.qkv, attn.proj,
 * norm2, mlp.fc1, mlp.fc2}`, and `norm` (cls-token pooling) or `fc_norm` (MAE fine-tuning's global_pool).
 * LayerNorm eps 1e-6 as in MAE / timm. Pre-norm blocks, exact GELU, qkv bias.
 *
 * Inputs of another size than `imgSize` resample the grid part of pos_embed with bicubic interpolation
 * (a = -0.75, align_corners = False: torch.nn.functional.interpolate(mode='bicubic'), as MAE's
 * interpolate_pos_embed), written as two interpolation matrices so that gradients reach pos_embed.
 * `resamplePosEmbed()` does the same on a checkpoint tensor (host arrays) before loading.
 *
 * Initialisation follows MAE: xavier-uniform Linear and patch-projection weights, zero Linear biases, cls_token
 * N(0, 0.02), pos_embed trunc-normal 0.02 (learned) or the fixed 2-D sin-cos table (posEmbed: 'sincos').
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module.js';
import { ModuleList } from '../nn/module-list.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Linear } from '../nn/layers/linear.js';
import { LayerNorm } from '../nn/layers/layer-norm.js';
import { gelu } from '../nn/layers/activations.js';
import { dropPath } from '../nn/layers/drop-path.js';
import { currentInitRng, normal, truncNormal, uniform } from '../nn/init.js';
import type { CheckpointTensor as StateTensor } from '../checkpoint/tensor.js';
import { Rng } from '../rng/rng.js';
import { CmidError } from '../runtime/errors.js';
import type { Backbone, FeatureHooks, FeatureInfo } from './feature-info.js';

export const VIT_VARIANTS = {
  vit_b16: { embedDim: 768, depth: 12, numHeads: 12, patchSize: 16 },
} as const;
export type VitVariant = keyof typeof VIT_VARIANTS;

export interface VitOptions {
  /** Input bands. Default 3. */
  inChannels?: number;
  /** Side of the input the position table is made for. Default 224 (a 14 x 14 grid). */
  imgSize?: number;
  /** Patch side in pixels. Default: the variant's (16). */
  patchSize?: number;
  /** Token width. Default: the variant's (768). */
  embedDim?: number;
  /** Number of blocks. Default: the variant's (12). */
  depth?: number;
  /** Attention heads. Default: the variant's (12). */
  numHeads?: number;
  /** MLP hidden width / D. Default 4. */
  mlpRatio?: number;
  /** Bias on the qkv projection. Default true. */
  qkvBias?: boolean;
  /** Stochastic depth, linear from 0 to this over the blocks. Default 0. */
  dropPathRate?: number;
  /**
   * 'token': forward() returns norm(x)[:, 0] (key `norm`). 'avg': fc_norm(mean of the patch tokens) (key
   * `fc_norm`, no `norm`), MAE fine-tuning's global_pool. Default 'token'.
   */
  globalPool?: 'token' | 'avg';
  /** 'learned' (timm) or 'sincos' (MAE pretraining: fixed, not trainable, still in the state dict). Default 'learned'. */
  posEmbed?: 'learned' | 'sincos';
  /** LayerNorm epsilon. Default 1e-6. */
  eps?: number;
  /** Source of the drop-path masks. Default: a generator seeded from the current init Rng. */
  rng?: Rng;
}

/** PyTorch's cubic convolution weights for offset t in [0, 1), a = -0.75. */
function cubicWeights(t: number, a = -0.75): [number, number, number, number] {
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * The [outSize, inSize] matrix of 1-D bicubic interpolation as torch.nn.functional.interpolate(mode='bicubic',
 * align_corners=False) with an output size (scale = in / out, source = (dst + 0.5) * scale - 0.5, taps clamped
 * to the border).
 */
export function bicubicMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float64Array(outSize * inSize);
  if (inSize === outSize) {
    for (let i = 0; i < inSize; i++) m[i * inSize + i] = 1;
    return Float32Array.from(m);
  }
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const i0 = Math.floor(src);
    const w = cubicWeights(src - i0);
    for (let k = 0; k < 4; k++) {
      const i = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[o * inSize + i]! += w[k]!;
    }
  }
  return Float32Array.from(m);
}

/** Bicubic resampling of a row-major [inH, inW, D] grid to [outH, outW, D] on host arrays. */
export function bicubicResize(grid: Float32Array, inH: number, inW: number, d: number, outH: number, outW: number): Float32Array {
  const mh = bicubicMatrix(inH, outH);
  const mw = bicubicMatrix(inW, outW);
  const rows = new Float64Array(outH * inW * d); // along H first
  for (let o = 0; o < outH; o++) {
    for (let i = 0; i < inH; i++) {
      const w = mh[o * inH + i]!;
      if (w === 0) continue;
      for (let j = 0; j < inW * d; j++) rows[o * inW * d + j]! += w * grid[i * inW * d + j]!;
    }
  }
  const out = new Float32Array(outH * outW * d);
  for (let o = 0; o < outH; o++) {
    for (let p = 0; p < outW; p++) {
      for (let j = 0; j < inW; j++) {
        const w = mw[p * inW + j]!;
        if (w === 0) continue;
        for (let c = 0; c < d; c++) out[(o * outW + p) * d + c]! += w * rows[(o * inW + j) * d + c]!;
      }
    }
  }
  return out;
}

/**
 * Resamples a checkpoint's pos_embed [1, prefix + g*g, D] to a grid of `newGrid` (MAE's interpolate_pos_embed):
 * the prefix (cls) tokens are kept, the square grid is resized bicubically.
 */
export function resamplePosEmbed(pos: StateTensor, newGrid: readonly [number, number], numPrefixTokens = 1): StateTensor {
  const n = pos.shape[1]!;
  const d = pos.shape[2]!;
  const g = Math.round(Math.sqrt(n - numPrefixTokens));
  if (g * g !== n - numPrefixTokens) {
    throw new CmidError('checkpoint', `resamplePosEmbed: pos_embed has ${n - numPrefixTokens} grid tokens, not a square grid.`);
  }
  const src = Float32Array.from(pos.data as ArrayLike<number>);
  const grid = bicubicResize(src.subarray(numPrefixTokens * d), g, g, d, newGrid[0], newGrid[1]);
  const data = new Float32Array((numPrefixTokens + newGrid[0] * newGrid[1]) * d);
  data.set(src.subarray(0, numPrefixTokens * d));
  data.set(grid, numPrefixTokens * d);
  return { dtype: 'float32', shape: [1, numPrefixTokens + newGrid[0] * newGrid[1], d], data };
}

/**
 * MAE's fixed 2-D sin-cos table [g*g, D] (without the cls row). As in MAE's get_2d_sincos_pos_embed, the first
 * D/2 channels encode the COLUMN index and the last D/2 the row index (meshgrid puts w first), each half being
 * [sin(p * omega), cos(p * omega)] with omega_k = 10000^(-k / (D/4)).
 */
export function sincosPosEmbed(dim: number, grid: number): Float32Array {
  if (dim % 4 !== 0) throw new CmidError('config', `sincosPosEmbed: width ${dim} is not a multiple of 4.`);
  const quarter = dim / 4;
  const out = new Float32Array(grid * grid * dim);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const base = (r * grid + c) * dim;
      for (let k = 0; k < quarter; k++) {
        const omega = 1 / 10000 ** (k / quarter);
        out[base + k] = Math.sin(c * omega);
        out[base + quarter + k] = Math.cos(c * omega);
        out[base + 2 * quarter + k] = Math.sin(r * omega);
        out[base + 3 * quarter + k] = Math.cos(r * omega);
      }
    }
  }
  return out;
}

function xavier(linear: Linear): void {
  const w = uniform(linear.weight.shape, Math.sqrt(6 / (linear.inFeatures + linear.outFeatures)));
  linear.weight.assign(w);
  w.dispose();
  if (linear.bias !== undefined) linear.bias.assign(tf.zerosLike(linear.bias));
}

class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly scale: number;
  constructor(readonly dim: number, readonly numHeads: number, qkvBias: boolean) {
    super();
    if (dim % numHeads !== 0) throw new CmidError('config', `VisionTransformer: width ${dim} is not divisible by ${numHeads} heads.`);
    this.qkv = this.child('qkv', new Linear(dim, 3 * dim, qkvBias));
    this.proj = this.child('proj', new Linear(dim, dim));
    this.scale = (dim / numHeads) ** -0.5;
  }
  /** x: [B, N, D]. */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const [b, n, d] = x.shape;
    const h = this.numHeads;
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [b, n, h, d / h]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(this.qkv.forward(x), 3, 2).map(toHeads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const attn = tf.softmax(tf.matMul(tf.mul(q, this.scale), k, false, true));
    const out = tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]);
    return this.proj.forward(tf.reshape(out, [b, n, d])) as tf.Tensor3D;
  }
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.child('fc1', new Linear(dim, hidden));
    this.fc2 = this.child('fc2', new Linear(hidden, dim));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}

export class VitBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  constructor(dim: number, numHeads: number, mlpRatio: number, qkvBias: boolean, eps: number, readonly dropPathProb: number, private readonly rng: Rng) {
    super();
    this.norm1 = this.child('norm1', new LayerNorm(dim, eps));
    this.attn = this.child('attn', new Attention(dim, numHeads, qkvBias));
    this.norm2 = this.child('norm2', new LayerNorm(dim, eps));
    this.mlp = this.child('mlp', new Mlp(dim, Math.round(dim * mlpRatio)));
  }
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const h = tf.add(x, dropPath(this.attn.forward(this.norm1.forward(x) as tf.Tensor3D), this.dropPathProb, this.training, this.rng));
    return tf.add(h, dropPath(this.mlp.forward(this.norm2.forward(h)), this.dropPathProb, this.training, this.rng)) as tf.Tensor3D;
  }
}

class PatchEmbed extends Module {
  readonly proj: Conv2d;
  constructor(inChannels: number, dim: number, readonly patchSize: number) {
    super();
    this.proj = this.child('proj', new Conv2d(inChannels, dim, patchSize, { stride: patchSize }));
  }
}

export class VisionTransformer extends Module implements Backbone {
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly patchEmbed: PatchEmbed;
  readonly blocks: ModuleList<VitBlock>;
  /** `norm` in 'token' pooling, undefined in 'avg'. */
  readonly norm: LayerNorm | undefined;
  /** `fc_norm` in 'avg' pooling. */
  readonly fcNorm: LayerNorm | undefined;
  readonly featureInfo: FeatureInfo[];
  readonly embedDim: number;
  readonly patchSize: number;
  /** Side of the position grid (imgSize / patchSize). */
  readonly gridSize: number;
  readonly globalPool: 'token' | 'avg';
  private readonly interp = new Map<string, { h: tf.Tensor2D; w: tf.Tensor3D }>();

  constructor(readonly variant: VitVariant, options: VitOptions = {}) {
    super();
    const spec = VIT_VARIANTS[variant];
    const {
      inChannels = 3,
      imgSize = 224,
      patchSize = spec.patchSize,
      embedDim = spec.embedDim,
      depth = spec.depth,
      numHeads = spec.numHeads,
      mlpRatio = 4,
      qkvBias = true,
      dropPathRate = 0,
      globalPool = 'token',
      posEmbed = 'learned',
      eps = 1e-6,
    } = options;
    if (imgSize % patchSize !== 0) throw new CmidError('config', `VisionTransformer: imgSize ${imgSize} is not a multiple of patchSize ${patchSize}.`);
    const rng = options.rng ?? new Rng(currentInitRng().nextU32());
    this.patchSize = patchSize;
    this.gridSize = imgSize / patchSize;
    this.globalPool = globalPool;
    this.embedDim = embedDim;
    const n = this.gridSize ** 2;
    this.clsToken = this.param('cls_token', normal([1, 1, embedDim], 0.02), 'plain', false);
    if (posEmbed === 'sincos') {
      const table = new Float32Array((1 + n) * embedDim);
      table.set(sincosPosEmbed(embedDim, this.gridSize), embedDim);
      this.posEmbed = this.param('pos_embed', tf.tensor3d(table, [1, 1 + n, embedDim]), 'plain', false);
      this.posEmbed.trainable = false;
    } else {
      this.posEmbed = this.param('pos_embed', truncNormal([1, 1 + n, embedDim], 0.02), 'plain', false);
    }
    this.patchEmbed = this.child('patch_embed', new PatchEmbed(inChannels, embedDim, patchSize));
    const fanIn = inChannels * patchSize * patchSize;
    const pw = uniform(this.patchEmbed.proj.weight.shape, Math.sqrt(6 / (fanIn + embedDim)));
    this.patchEmbed.proj.weight.assign(pw);
    pw.dispose();
    this.blocks = this.child('blocks', new ModuleList<VitBlock>());
    for (let i = 0; i < depth; i++) {
      const p = depth === 1 ? 0 : (dropPathRate * i) / (depth - 1);
      const block = this.blocks.add(new VitBlock(embedDim, numHeads, mlpRatio, qkvBias, eps, p, rng));
      for (const l of [block.attn.qkv, block.attn.proj, block.mlp.fc1, block.mlp.fc2]) xavier(l);
    }
    this.norm = globalPool === 'token' ? this.child('norm', new LayerNorm(embedDim, eps)) : undefined;
    this.fcNorm = globalPool === 'avg' ? this.child('fc_norm', new LayerNorm(embedDim, eps)) : undefined;
    this.featureInfo = [{ name: 'blocks', channels: embedDim, stride: patchSize }];
  }

  /** pos_embed for a gh x gw grid: the stored table, or its bicubic resampling (cls row kept). [1, 1 + gh*gw, D]. */
  positionEmbedding(gh: number, gw: number): tf.Tensor3D {
    const g = this.gridSize;
    if (gh === g && gw === g) return this.posEmbed as tf.Tensor3D;
    const d = this.embedDim;
    const key = `${gh}x${gw}`;
    let m = this.interp.get(key);
    if (m === undefined) {
      const mw = bicubicMatrix(g, gw);
      const tiled = new Float32Array(gh * gw * g);
      for (let i = 0; i < gh; i++) tiled.set(mw, i * gw * g);
      m = { h: tf.keep(tf.tensor2d(bicubicMatrix(g, gh), [gh, g])), w: tf.keep(tf.tensor3d(tiled, [gh, gw, g])) };
      this.interp.set(key, m);
    }
    const cls = tf.slice(this.posEmbed, [0, 0, 0], [1, 1, d]);
    const grid = tf.reshape(tf.slice(this.posEmbed, [0, 1, 0], [1, g * g, d]), [g, g * d]);
    const alongH = tf.reshape(tf.matMul(m.h, grid), [gh, g, d]); // [gh, g(w), d]
    const both = tf.matMul(m.w, alongH); // [gh, gw, d]
    return tf.concat([cls, tf.reshape(both, [1, gh * gw, d])], 1) as tf.Tensor3D;
  }

  /** x: NHWC [B, H, W, C] with H, W multiples of the patch. Returns all tokens after the blocks (no norm), [B, 1 + N, D]. */
  tokens(x: tf.Tensor4D, hooks: FeatureHooks = {}): tf.Tensor3D {
    const [b, h, w] = x.shape;
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0) {
      throw new CmidError('input', `VisionTransformer: input ${h}x${w} is not a multiple of the patch size ${p}; resize or crop it first.`);
    }
    const gh = h / p;
    const gw = w / p;
    const d = this.embedDim;
    let grid = this.patchEmbed.proj.forward(x) as tf.Tensor4D;
    if (hooks.stem !== undefined) grid = hooks.stem(grid);
    const patches = tf.reshape(grid, [b, gh * gw, d]);
    const cls = tf.tile(this.clsToken, [b, 1, 1]);
    let t = tf.add(tf.concat([cls, patches], 1), this.positionEmbedding(gh, gw)) as tf.Tensor3D;
    for (const blk of this.blocks.items) t = blk.forward(t);
    return t;
  }

  /**
   * x: NHWC [B, H, W, C]. Returns one map [B, H/16, W/16, D] of the patch tokens after the last block, through
   * `norm` in 'token' pooling (raw in 'avg' pooling, whose fc_norm belongs to the pooled vector).
   */
  features(x: tf.Tensor4D, hooks: FeatureHooks = {}): tf.Tensor4D[] {
    const [b, h, w] = x.shape;
    let t: tf.Tensor = this.tokens(x, hooks);
    if (this.norm !== undefined) t = this.norm.forward(t);
    const d = this.embedDim;
    const patches = tf.slice(t, [0, 1, 0], [-1, -1, -1]);
    return [tf.reshape(patches, [b, h / this.patchSize, w / this.patchSize, d])];
  }

  /** x: NHWC [B, H, W, C]. Returns [B, D]: norm(x)[:, 0] ('token') or fc_norm(mean of patch tokens) ('avg'). */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const t = this.tokens(x);
    if (this.fcNorm !== undefined) {
      const mean = tf.mean(tf.slice(t, [0, 1, 0], [-1, -1, -1]), 1);
      return this.fcNorm.forward(mean) as tf.Tensor2D;
    }
    const normed = this.norm!.forward(t);
    return tf.reshape(tf.slice(normed, [0, 0, 0], [-1, 1, -1]), [x.shape[0], this.embedDim]);
  }

  override dispose(): void {
    for (const m of this.interp.values()) {
      m.h.dispose();
      m.w.dispose();
    }
    this.interp.clear();
    super.dispose();
  }
}

export const vit_b16 = (o: VitOptions = {}) => new VisionTransformer('vit_b16', o);
