/**
 * Swin Transformer (Liu et al. 2021) in the mmcls / mmseg key layout that CMID's Swin-B checkpoints use
 * (spec cmid.md section 10.1): `patch_embed.projection`, `stages.{s}.blocks.{b}.attn.w_msa.{qkv,proj,
 * relative_position_bias_table,relative_position_index}`, `ffn.layers.0.0` / `ffn.layers.1`,
 * `stages.{s}.downsample.{norm,reduction}` (PatchMerging with mmcv's CHANNEL-MAJOR 2x2 unfold order) and the
 * output norms `norm{i}` for i in outIndices (CMID pretraining: norm3 only).
 *
 * Behaviour reproduced from the reference: "corner" zero padding of the input to a patch multiple and of odd
 * maps before PatchMerging; zero padding of every map to a window multiple (bottom/right) before attention;
 * the shift (window // 2 in odd blocks) forced to 0 when min(H, W) equals the window (the 7x7 last stage);
 * maps smaller than the window are an error unless `padSmallMap` (then they are padded and keep their shift).
 * The shifted-window attention mask ([nW, N, N], -100 across regions) is computed once per padded resolution.
 *
 * Initialisation follows CMID (cmid.md 3.6): PyTorch default Linear/Conv init, LayerNorm 1/0, relative position
 * bias tables ZERO (mmcls's init_weights is never called there).
 *
 * Tensors are NHWC [B, H, W, C] between blocks; windows are [B * nW, N, C] with N = window^2.
 *
 * `fromMicrosoftKeys()` converts a Microsoft / timm / torchvision-style Swin state dict (layers.*, attn.*,
 * mlp.fc1/fc2, position-major PatchMerging) to these names.
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module.js';
import { ModuleList } from '../nn/module-list.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Linear } from '../nn/layers/linear.js';
import { LayerNorm } from '../nn/layers/layer-norm.js';
import { gelu } from '../nn/layers/activations.js';
import { dropPath } from '../nn/layers/drop-path.js';
import { currentInitRng } from '../nn/init.js';
import type { CheckpointTensor as StateTensor, StateDict } from '../checkpoint/tensor.js';
import { Rng } from '../rng/rng.js';
import { CmidError } from '../runtime/errors.js';
import type { Backbone, FeatureHooks, FeatureInfo } from './feature-info.js';

export const SWIN_VARIANTS = {
  swin_t: { embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24] },
  swin_b: { embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32] },
} as const;
export type SwinVariant = keyof typeof SWIN_VARIANTS;

export interface SwinOptions {
  /** Input bands. Default 3. */
  inChannels?: number;
  /** Width of stage 0 (doubles per stage). Default: the variant's (96 for swin_t, 128 for swin_b). */
  embedDim?: number;
  /** Blocks per stage. Default: the variant's. */
  depths?: readonly number[];
  /** Attention heads per stage. Default: the variant's. */
  numHeads?: readonly number[];
  /** Window side in tokens. Default 7. */
  windowSize?: number;
  /** Patch side in pixels. Default 4. */
  patchSize?: number;
  /** FFN hidden width / C. Default 4. */
  mlpRatio?: number;
  /** Bias on the qkv projection. Default true. */
  qkvBias?: boolean;
  /** Stochastic depth, increasing linearly from 0 at the first block to this at the last. Default 0 (CMID). */
  dropPathRate?: number;
  /**
   * Stages whose output gets a LayerNorm `norm{i}` (mmseg's out_indices). Default [3], the CMID checkpoints;
   * dense heads use [0, 1, 2, 3] (the new norms are then missing from a CMID checkpoint: load with
   * allowMissing: [/^norm[012]\./]).
   */
  outIndices?: readonly number[];
  /** Pad maps smaller than the window instead of failing (mmcls pad_small_map). Default false (CMID). */
  padSmallMap?: boolean;
  /** Source of the drop-path masks. Default: a generator seeded from the current init Rng. */
  rng?: Rng;
}

/** Pads an NHWC map with zeros at the bottom and right. */
function padBottomRight(x: tf.Tensor4D, padB: number, padR: number): tf.Tensor4D {
  if (padB === 0 && padR === 0) return x;
  return tf.pad(x, [[0, 0], [0, padB], [0, padR], [0, 0]]);
}

/** torch.roll(x, (s, s), dims=(1, 2)) on NHWC, as slices and concats. */
function roll2d(x: tf.Tensor4D, s: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  let y = x;
  const sh = ((s % h) + h) % h;
  if (sh !== 0) y = tf.concat([tf.slice(y, [0, h - sh, 0, 0], [-1, sh, -1, -1]), tf.slice(y, [0, 0, 0, 0], [-1, h - sh, -1, -1])], 1);
  const sw = ((s % w) + w) % w;
  if (sw !== 0) y = tf.concat([tf.slice(y, [0, 0, w - sw, 0], [-1, -1, sw, -1]), tf.slice(y, [0, 0, 0, 0], [-1, -1, w - sw, -1])], 2);
  return y;
}

/** [B, Hp, Wp, C] -> [B * nW, ws * ws, C], windows batch-major then row-major, tokens row-major. */
function windowPartition(x: tf.Tensor4D, ws: number): tf.Tensor3D {
  const [b, h, w, c] = x.shape;
  const t = tf.transpose(tf.reshape(x, [b, h / ws, ws, w / ws, ws, c]), [0, 1, 3, 2, 4, 5]);
  return tf.reshape(t, [b * (h / ws) * (w / ws), ws * ws, c]);
}

/** Inverse of windowPartition. */
function windowReverse(x: tf.Tensor3D, b: number, h: number, w: number, ws: number): tf.Tensor4D {
  const c = x.shape[2];
  const t = tf.transpose(tf.reshape(x, [b, h / ws, w / ws, ws, ws, c]), [0, 1, 3, 2, 4, 5]);
  return tf.reshape(t, [b, h, w, c]);
}

/** The [N, N] relative position index of a window (mmcls's construction; equals Microsoft's). */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = Math.floor(i / ws);
    const ci = i % ws;
    for (let j = 0; j < n; j++) {
      const rj = Math.floor(j / ws);
      const cj = j % ws;
      out[i * n + j] = (ri - rj + ws - 1) * (2 * ws - 1) + (ci - cj + ws - 1);
    }
  }
  return out;
}

/** The shifted-window attention mask [nW, N, N] on a padded hp x wp grid: 0 within a region, -100 across. */
export function shiftWindowMask(hp: number, wp: number, ws: number, shift: number): Float32Array {
  const region = (p: number, size: number) => (p < size - ws ? 0 : p < size - shift ? 1 : 2);
  const nh = hp / ws;
  const nw = wp / ws;
  const n = ws * ws;
  const out = new Float32Array(nh * nw * n * n);
  const label = new Int32Array(n);
  for (let wi = 0; wi < nh; wi++) {
    for (let wj = 0; wj < nw; wj++) {
      for (let t = 0; t < n; t++) label[t] = region(wi * ws + Math.floor(t / ws), hp) * 3 + region(wj * ws + (t % ws), wp);
      const base = (wi * nw + wj) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[base + i * n + j] = label[i] === label[j] ? 0 : -100;
    }
  }
  return out;
}

/** Masks shared by all blocks of a model, one per (padded size, shift). */
class MaskCache {
  private readonly masks = new Map<string, tf.Tensor3D>();
  get(hp: number, wp: number, ws: number, shift: number): tf.Tensor3D {
    const key = `${hp}x${wp}/${ws}/${shift}`;
    let m = this.masks.get(key);
    if (m === undefined) {
      const n = ws * ws;
      m = tf.keep(tf.tensor3d(shiftWindowMask(hp, wp, ws, shift), [(hp / ws) * (wp / ws), n, n]));
      this.masks.set(key, m);
    }
    return m;
  }
  dispose(): void {
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}

/** Window multi-head self-attention with a relative position bias (keys `attn.w_msa.*`). */
export class WindowMSA extends Module {
  readonly relativePositionBiasTable: tf.Variable;
  readonly relativePositionIndex: tf.Variable;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly scale: number;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    readonly windowSize: number,
    qkvBias = true,
  ) {
    super();
    if (dim % numHeads !== 0) throw new CmidError('config', `WindowMSA: width ${dim} is not divisible by ${numHeads} heads.`);
    const ws = windowSize;
    this.relativePositionBiasTable = this.param('relative_position_bias_table', tf.zeros([(2 * ws - 1) ** 2, numHeads]), 'plain', false);
    this.relativePositionIndex = this.buffer('relative_position_index', tf.tensor2d(relativePositionIndex(ws), [ws * ws, ws * ws], 'int32'), {
      persistent: true,
      torchDtype: 'int64',
    });
    this.qkv = this.child('qkv', new Linear(dim, 3 * dim, qkvBias));
    this.proj = this.child('proj', new Linear(dim, dim));
    this.scale = (dim / numHeads) ** -0.5;
  }

  /** Bias [heads, N, N] gathered from the table. */
  relativeBias(): tf.Tensor3D {
    const n = this.windowSize ** 2;
    const g = tf.gather(this.relativePositionBiasTable, tf.reshape(this.relativePositionIndex, [-1]));
    return tf.transpose(tf.reshape(g, [n, n, this.numHeads]), [2, 0, 1]);
  }

  /** x: [B * nW, N, C] windows; mask: [nW, N, N] or none. Returns [B * nW, N, C]. */
  forward(x: tf.Tensor3D, mask?: tf.Tensor3D): tf.Tensor3D {
    const [bw, n, c] = x.shape;
    const heads = this.numHeads;
    const hd = c / heads;
    const toHeads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [bw, n, heads, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(this.qkv.forward(x), 3, 2).map(toHeads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    let attn: tf.Tensor4D = tf.matMul(tf.mul(q, this.scale), k, false, true);
    attn = tf.add(attn, this.relativeBias());
    if (mask !== undefined) {
      const nW = mask.shape[0];
      const masked = tf.add(tf.reshape(attn, [bw / nW, nW, heads, n, n]), tf.reshape(mask, [1, nW, 1, n, n]));
      attn = tf.reshape(masked, [bw, heads, n, n]);
    }
    const out = tf.matMul(tf.softmax(attn), v); // [bw, heads, n, hd]
    return this.proj.forward(tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [bw, n, c])) as tf.Tensor3D;
  }
}

/** Shifted-window attention on a map (keys `attn.w_msa.*`). */
export class ShiftWindowMSA extends Module {
  readonly wMsa: WindowMSA;

  constructor(
    dim: number,
    numHeads: number,
    readonly windowSize: number,
    readonly shiftSize: number,
    readonly padSmallMap: boolean,
    private readonly masks: MaskCache,
    qkvBias = true,
  ) {
    super();
    this.wMsa = this.child('w_msa', new WindowMSA(dim, numHeads, windowSize, qkvBias));
  }

  /** x: [B, H, W, C]. Returns [B, H, W, C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const ws = this.windowSize;
    let shift = this.shiftSize;
    if (Math.min(h, w) === ws) {
      if (!this.padSmallMap) shift = 0; // the reference's 7x7 rule: no shift when one window covers the map
    } else if (Math.min(h, w) < ws && !this.padSmallMap) {
      throw new CmidError(
        'input',
        `SwinTransformer: a ${h}x${w} feature map is smaller than the window (${ws}). Use an input whose last ` +
          `stage is at least ${ws}x${ws} (224 px for patch 4 and window 7), or set padSmallMap: true.`,
      );
    }
    const hp = h + ((ws - (h % ws)) % ws);
    const wp = w + ((ws - (w % ws)) % ws);
    let y = padBottomRight(x, hp - h, wp - w);
    if (shift > 0) y = roll2d(y, -shift);
    const mask = shift > 0 ? this.masks.get(hp, wp, ws, shift) : undefined;
    const windows = this.wMsa.forward(windowPartition(y, ws), mask);
    y = windowReverse(windows, b, hp, wp, ws);
    if (shift > 0) y = roll2d(y, shift);
    if (hp !== h || wp !== w) y = tf.slice(y, [0, 0, 0, 0], [b, h, w, c]);
    return y;
  }
}

/** mmcv FFN: layers.0.0 Linear(C, hC) -> GELU -> layers.1 Linear(hC, C). */
class FFN extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(dim: number, hidden: number) {
    super();
    const layers = this.child('layers', new ModuleList()); // mmcv FFN keys: layers.0.0 (Linear), layers.1
    this.fc1 = layers.add(new ModuleList()).add(new Linear(dim, hidden));
    this.fc2 = layers.add(new Linear(hidden, dim));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}

/** Pre-norm Swin block: x + attn(norm1(x)), then x + ffn(norm2(x)), each branch with drop path. */
export class SwinBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: ShiftWindowMSA;
  readonly norm2: LayerNorm;
  readonly ffn: FFN;

  constructor(
    dim: number,
    numHeads: number,
    windowSize: number,
    shift: boolean,
    mlpRatio: number,
    qkvBias: boolean,
    readonly dropPathProb: number,
    padSmallMap: boolean,
    masks: MaskCache,
    private readonly rng: Rng,
  ) {
    super();
    this.norm1 = this.child('norm1', new LayerNorm(dim));
    this.attn = this.child('attn', new ShiftWindowMSA(dim, numHeads, windowSize, shift ? Math.floor(windowSize / 2) : 0, padSmallMap, masks, qkvBias));
    this.norm2 = this.child('norm2', new LayerNorm(dim));
    this.ffn = this.child('ffn', new FFN(dim, Math.round(dim * mlpRatio)));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const a = this.attn.forward(this.norm1.forward(x) as tf.Tensor4D);
    const h = tf.add(x, dropPath(a, this.dropPathProb, this.training, this.rng)) as tf.Tensor4D;
    const f = this.ffn.forward(this.norm2.forward(h));
    return tf.add(h, dropPath(f, this.dropPathProb, this.training, this.rng)) as tf.Tensor4D;
  }
}

/**
 * mmcv PatchMerging: zero-pad odd maps (bottom/right), unfold 2x2 into a CHANNEL-MAJOR 4C vector
 * (index c * 4 + di * 2 + dj), LayerNorm(4C), Linear(4C -> 2C, no bias).
 */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;
  constructor(readonly inChannels: number, outChannels: number) {
    super();
    this.norm = this.child('norm', new LayerNorm(4 * inChannels));
    this.reduction = this.child('reduction', new Linear(4 * inChannels, outChannels, false));
  }
  /** x: [B, H, W, C]. Returns [B, ceil(H/2), ceil(W/2), 2C]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const y = padBottomRight(x, h % 2, w % 2);
    const h2 = (h + (h % 2)) / 2;
    const w2 = (w + (w % 2)) / 2;
    const unfolded = tf.reshape(tf.transpose(tf.reshape(y, [b, h2, 2, w2, 2, c]), [0, 1, 3, 5, 2, 4]), [b, h2, w2, 4 * c]);
    return this.reduction.forward(this.norm.forward(unfolded)) as tf.Tensor4D;
  }
}

/** mmcv PatchEmbed: corner zero padding to a patch multiple, Conv2d(k = s = patch), LayerNorm. */
class PatchEmbed extends Module {
  readonly projection: Conv2d;
  readonly norm: LayerNorm;
  constructor(inChannels: number, dim: number, readonly patchSize: number) {
    super();
    this.projection = this.child('projection', new Conv2d(inChannels, dim, patchSize, { stride: patchSize }));
    this.norm = this.child('norm', new LayerNorm(dim));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    const p = this.patchSize;
    const y = padBottomRight(x, (p - (h % p)) % p, (p - (w % p)) % p);
    return this.norm.forward(this.projection.forward(y)) as tf.Tensor4D;
  }
}

/** Blocks of one resolution, then (except the last stage) PatchMerging. */
class SwinStage extends Module {
  readonly blocks: ModuleList<SwinBlock>;
  readonly downsample: PatchMerging | undefined;
  constructor(blocks: SwinBlock[], downsample: PatchMerging | undefined) {
    super();
    this.blocks = this.child('blocks', new ModuleList<SwinBlock>());
    for (const b of blocks) this.blocks.add(b);
    this.downsample = downsample === undefined ? undefined : this.child('downsample', downsample);
  }
}

export class SwinTransformer extends Module implements Backbone {
  readonly patchEmbed: PatchEmbed;
  readonly stages: SwinStage[];
  /** norm{i} for i in outIndices, else undefined. */
  readonly norms: (LayerNorm | undefined)[];
  readonly featureInfo: FeatureInfo[];
  readonly embedDim: number;
  readonly windowSize: number;
  readonly outIndices: readonly number[];
  private readonly masks = new MaskCache();

  constructor(readonly variant: SwinVariant, options: SwinOptions = {}) {
    super();
    const spec = SWIN_VARIANTS[variant];
    const {
      inChannels = 3,
      embedDim = spec.embedDim,
      depths = spec.depths,
      numHeads = spec.numHeads,
      windowSize = 7,
      patchSize = 4,
      mlpRatio = 4,
      qkvBias = true,
      dropPathRate = 0,
      outIndices = [3],
      padSmallMap = false,
    } = options;
    if (depths.length !== numHeads.length) {
      throw new CmidError('config', `SwinTransformer: depths has ${depths.length} stages but numHeads has ${numHeads.length}.`);
    }
    const nStages = depths.length;
    for (const i of outIndices) {
      if (!Number.isInteger(i) || i < 0 || i >= nStages) throw new CmidError('config', `SwinTransformer: outIndices entry ${i} is not a stage (0..${nStages - 1}).`);
    }
    const rng = options.rng ?? new Rng(currentInitRng().nextU32());
    this.windowSize = windowSize;
    this.outIndices = [...outIndices];
    this.patchEmbed = this.child('patch_embed', new PatchEmbed(inChannels, embedDim, patchSize));
    const total = depths.reduce((a, b) => a + b, 0);
    // torch.linspace(0, rate, total)
    const dpr = Array.from({ length: total }, (_, i) => (total === 1 ? 0 : (dropPathRate * i) / (total - 1)));
    const stageList = this.child('stages', new ModuleList<SwinStage>());
    this.stages = [];
    this.featureInfo = [];
    let k = 0;
    for (let s = 0; s < nStages; s++) {
      const dim = embedDim * 2 ** s;
      const blocks: SwinBlock[] = [];
      for (let b = 0; b < depths[s]!; b++) {
        blocks.push(new SwinBlock(dim, numHeads[s]!, windowSize, b % 2 === 1, mlpRatio, qkvBias, dpr[k++]!, padSmallMap, this.masks, rng));
      }
      const down = s < nStages - 1 ? new PatchMerging(dim, 2 * dim) : undefined;
      this.stages.push(stageList.add(new SwinStage(blocks, down)));
      this.featureInfo.push({ name: `stages.${s}`, channels: dim, stride: patchSize * 2 ** s });
    }
    this.norms = [];
    for (let s = 0; s < nStages; s++) {
      this.norms.push(outIndices.includes(s) ? this.child(`norm${s}`, new LayerNorm(embedDim * 2 ** s)) : undefined);
    }
    this.embedDim = embedDim * 2 ** (nStages - 1);
  }

  /**
   * x: float32 NHWC [B, H, W, inChannels]. Returns one NHWC map per stage, [B, ceil(H / 4 / 2^s), ..., C_s],
   * each after its norm{s} when s is in outIndices (raw otherwise).
   */
  features(x: tf.Tensor4D, hooks: FeatureHooks = {}): tf.Tensor4D[] {
    let h = this.patchEmbed.forward(x);
    if (hooks.stem !== undefined) h = hooks.stem(h);
    const out: tf.Tensor4D[] = [];
    this.stages.forEach((stage, s) => {
      for (const block of stage.blocks.items) h = block.forward(h);
      const norm = this.norms[s];
      out.push(norm === undefined ? h : (norm.forward(h) as tf.Tensor4D));
      if (stage.downsample !== undefined) h = stage.downsample.forward(h);
    });
    return out;
  }

  /** x: float32 NHWC [B, H, W, inChannels]. Returns the global average of the last (normed) map, [B, embedDim]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const maps = this.features(x);
    return tf.mean(maps[maps.length - 1]!, [1, 2]) as tf.Tensor2D;
  }

  override dispose(): void {
    this.masks.dispose();
    super.dispose();
  }
}

export const swin_t = (o: SwinOptions = {}) => new SwinTransformer('swin_t', o);
export const swin_b = (o: SwinOptions = {}) => new SwinTransformer('swin_b', o);

/**
 * Microsoft / timm / torchvision-style Swin names -> ours: layers <-> stages, attn <-> attn.w_msa,
 * mlp.fc1/fc2 <-> ffn.layers.0.0 / ffn.layers.1, patch_embed.proj <-> patch_embed.projection, final `norm`
 * <-> `norm{last}`, and the PatchMerging 4C axis from position-major ((dj * 2 + di) * C + c) to channel-major
 * (c * 4 + di * 2 + dj) for downsample.norm and downsample.reduction. Dropped: head.*, attn_mask buffers.
 * absolute_pos_embed is kept under its name (our model has none, so a strict load reports it).
 * Also accepted: torchvision's `features.{2s+1}` (blocks) / `features.{2s+2}` (merging) layout with `mlp.0` /
 * `mlp.3` and a flattened index, and timm >= 0.9 (merging at the start of the next stage, no stored index).
 */
export function fromMicrosoftKeys(dict: StateDict, numStages = 4): StateDict {
  const out: StateDict = new Map();
  // timm >= 0.9 puts the merging at the START of the next stage (layers.{s+1}.downsample); Microsoft at the end.
  const mergeFirst = [...dict.keys()].some((k) => k.startsWith(`layers.${numStages - 1}.downsample.`));
  for (const [key, t] of dict) {
    if (key.startsWith('head.') || key.endsWith('attn_mask')) continue;
    let k = key;
    // torchvision: features.0.0 = patch conv, features.0.2 = patch norm, features.{2s+1}.{b} = blocks, features.{2s+2} = merging
    let m = /^features\.0\.0\.(.*)$/.exec(k);
    if (m) k = `patch_embed.proj.${m[1]}`;
    m = /^features\.0\.2\.(.*)$/.exec(k);
    if (m) k = `patch_embed.norm.${m[1]}`;
    m = /^features\.(\d+)\.(\d+)\.(.*)$/.exec(k);
    if (m && Number(m[1]) % 2 === 1) k = `layers.${(Number(m[1]) - 1) / 2}.blocks.${m[2]}.${m[3]}`;
    m = /^features\.(\d+)\.(.*)$/.exec(k);
    if (m && Number(m[1]) % 2 === 0) k = `layers.${Number(m[1]) / 2 - 1}.downsample.${m[2]}`;
    // torchvision names the block MLP mlp.0 / mlp.3
    k = k.replace(/\.mlp\.0\./, '.mlp.fc1.').replace(/\.mlp\.3\./, '.mlp.fc2.');

    if (mergeFirst) {
      const d = /^layers\.(\d+)\.downsample\.(.*)$/.exec(k);
      if (d) k = `layers.${Number(d[1]) - 1}.downsample.${d[2]}`;
    }
    k = k.replace(/^patch_embed\.proj\./, 'patch_embed.projection.');
    k = k.replace(/^layers\.(\d+)\./, 'stages.$1.');
    k = k.replace(/\.attn\.(qkv|proj|relative_position_bias_table|relative_position_index)/, '.attn.w_msa.$1');
    k = k.replace(/\.mlp\.fc1\./, '.ffn.layers.0.0.').replace(/\.mlp\.fc2\./, '.ffn.layers.1.');
    k = k.replace(/^norm\./, `norm${numStages - 1}.`);
    let value: StateTensor = t;
    if (/\.downsample\.(norm|reduction)\.(weight|bias)$/.test(k)) value = mergingToChannelMajor(t);
    if (k.endsWith('.relative_position_index') && t.shape.length === 1) {
      const n = Math.round(Math.sqrt(t.shape[0]!)); // torchvision stores it flattened
      value = { ...t, shape: [n, n] };
    }
    out.set(k, value);
  }
  // timm >= 0.9 keeps the index as a non-persistent buffer: rebuild it from the table size.
  for (const [k, t] of [...out]) {
    const m = /^(.*)\.relative_position_bias_table$/.exec(k);
    if (m === null || out.has(`${m[1]}.relative_position_index`)) continue;
    const ws = (Math.round(Math.sqrt(t.shape[0]!)) + 1) / 2;
    const idx = relativePositionIndex(ws);
    out.set(`${m[1]}.relative_position_index`, { dtype: 'int64', shape: [ws * ws, ws * ws], data: BigInt64Array.from(idx, (v) => BigInt(v)) });
  }
  return out;
}

/** Permutes the last (4C) axis of a PatchMerging tensor from position-major to channel-major. */
function mergingToChannelMajor(t: StateTensor): StateTensor {
  const four = t.shape[t.shape.length - 1]!;
  const c = four / 4;
  const rows = t.data.length / four;
  const src = t.data as Float32Array;
  const data = new Float32Array(src.length);
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < c; ch++) {
      for (let di = 0; di < 2; di++) {
        for (let dj = 0; dj < 2; dj++) {
          data[r * four + ch * 4 + di * 2 + dj] = Number(src[r * four + (dj * 2 + di) * c + ch]);
        }
      }
    }
  }
  return { dtype: 'float32', shape: [...t.shape], data };
}
