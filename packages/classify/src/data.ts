/**
 * The classification data pipeline: dataset samples -> decode (datasets/read-scene.ts) -> the train or eval
 * transform (transforms.ts), in loader worker threads; then, on the host, batches with mixup/cutmix and smoothed
 * soft targets (timm Mixup, mode 'batch': one lambda per batch, partner of sample i is sample B-1-i).
 *
 * The mixing draws come from an Rng derived from (seed, epoch, batch index), so a resumed run mixes its batches
 * exactly as the uninterrupted one would.
 */
import { deriveRngState, mixupCutmix, Rng, type SampleMapFactory } from '@cmid/core';
import type { ClassifyConfig } from './config.js';
import { readScene, type ReadSceneOptions } from './datasets/read-scene.js';
import type { SceneSample } from './datasets/types.js';
import { evalTransform, trainTransform, type ClassifyTransformOptions } from './transforms.js';

export interface ClassifyItem {
  image: Float32Array;
  label: number;
  size: number;
  channels: number;
}

export interface ClassifySampleOptions {
  transform: ClassifyTransformOptions;
  read: ReadSceneOptions;
  train: boolean;
}

export function transformOptions(c: ClassifyConfig): ClassifyTransformOptions {
  return { size: c.size, scale: c.scale, hflip: c.hflip, aa: c.aa, reprob: c.reprob, cropPct: c.cropPct, mean: c.mean, std: c.std, pixelMax: c.pixelMax };
}

/** The loader's per-sample map (decode + train or eval transform); usable from worker threads. */
export const classifySample = ((o: ClassifySampleOptions) =>
  async (sample: SceneSample, ctx) => {
    const img = await readScene(sample.path, o.read);
    const image = o.train ? trainTransform(img, ctx.rng, o.transform) : evalTransform(img, o.transform);
    return { image, label: sample.label, size: o.transform.size, channels: img.channels } satisfies ClassifyItem;
  }) satisfies SampleMapFactory<SceneSample, ClassifyItem, ClassifySampleOptions>;

export const CLASSIFY_SAMPLE_MAP = { module: import.meta.url, export: 'classifySample' } as const;

/** A constant that keeps the batch-mixing stream apart from the per-sample streams (which use (seed, epoch, index)). */
const MIX_STREAM = 0x6d697870;

/** One-hot rows with label smoothing: off = s / C, on = 1 - s + s / C (timm's mixup targets). */
export function smoothTargets(labels: ArrayLike<number>, numClasses: number, smoothing: number): Float32Array {
  const off = smoothing / numClasses, on = 1 - smoothing + off;
  const out = new Float32Array(labels.length * numClasses).fill(off);
  for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]!] = on;
  return out;
}

export interface ClassifyBatch {
  image: { data: Float32Array; shape: number[] };
  target: { data: Float32Array; shape: number[] };
  labels: Int32Array;
  /** The mixing of this batch: lambda and which of mixup/cutmix (none when mixing is off). */
  mix: { kind: 'mixup' | 'cutmix' | 'none'; lambda: number };
}

/** Stacks items into the step's inputs, mixing them as the config says (the Rng of (seed, epoch, batch)). */
export function collateClassify(items: readonly ClassifyItem[], numClasses: number, c: ClassifyConfig, at: { epoch: number; batch: number }): ClassifyBatch {
  const B = items.length;
  const { size, channels } = items[0]!;
  const px = size * size * channels;
  const images = new Float32Array(B * px);
  items.forEach((it, i) => images.set(it.image, i * px));
  const labels = Int32Array.from(items, (it) => it.label);
  const shape = [B, size, size, channels];
  if (c.mixup > 0 || c.cutmix > 0) {
    const rng = new Rng(deriveRngState(c.seed, MIX_STREAM, at.epoch, at.batch));
    const m = mixupCutmix(images, shape as [number, number, number, number], labels, numClasses, rng, {
      mixupAlpha: c.mixup,
      cutmixAlpha: c.cutmix,
      prob: c.mixupProb,
      switchProb: c.mixupSwitchProb,
      smoothing: c.smoothing,
    });
    return { image: { data: m.images, shape }, target: { data: m.targets, shape: [B, numClasses] }, labels, mix: { kind: m.kind, lambda: m.lambda } };
  }
  return { image: { data: images, shape }, target: { data: smoothTargets(labels, numClasses, c.smoothing), shape: [B, numClasses] }, labels, mix: { kind: 'none', lambda: 1 } };
}
