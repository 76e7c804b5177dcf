/**
 * Evaluation of a classifier on a labelled split: every test image through the eval transform (loader workers),
 * the eval-mode classifier on onnxruntime (one export, batched), softmax on the host, then the scores of
 * @cmid/core's classification metrics: OA, per-class accuracy, AA, kappa, top-5, confusion matrix.
 *
 * Unlike the reference's evaluation hook (cmid.md §12: shuffled loader with drop_last, batch-averaged accuracy),
 * every test image counts once; the reference's "max over epochs" is kept by the training loop as `best`.
 */
import { classificationScores, CmidError, DataLoader, OnnxRunner, type ClassificationScores } from '@cmid/core';
import { CLASSIFY_SAMPLE_MAP, transformOptions, type ClassifyItem, type ClassifySampleOptions } from './data.js';
import type { SceneSample } from './datasets/types.js';
import type { ReadSceneOptions } from './datasets/read-scene.js';
import type { ClassifierMeta } from './model-io.js';

export interface EvaluateOptions {
  workers?: number;
  batchSize?: number;
  read?: ReadSceneOptions;
}

export interface EvalResult extends ClassificationScores {
  /** Softmax probabilities, [n, classes] row-major, in sample order. */
  probabilities: Float32Array;
  predictions: Int32Array;
  labels: Int32Array;
  images: number;
}

/** Row-wise softmax of logits [n, C] (float64 accumulation). */
export function softmaxRows(logits: Float32Array, C: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i += C) {
    let m = -Infinity;
    for (let k = 0; k < C; k++) m = Math.max(m, logits[i + k]!);
    let s = 0;
    for (let k = 0; k < C; k++) s += Math.exp(logits[i + k]! - m);
    for (let k = 0; k < C; k++) out[i + k] = Math.exp(logits[i + k]! - m) / s;
  }
  return out;
}

export function argmaxRows(scores: Float32Array, C: number): Int32Array {
  const out = new Int32Array(scores.length / C);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let k = 1; k < C; k++) if (scores[i * C + k]! > scores[i * C + best]!) best = k;
    out[i] = best;
  }
  return out;
}

/** Logits of n normalised images (NHWC float32 [n, size, size, bands]) -> [n, classes]. */
export type LogitsFn = (data: Float32Array, n: number) => Promise<Float32Array>;

/** The logits function of an OnnxRunner holding an exported classifier. */
export function onnxLogitsFn(runner: OnnxRunner, meta: ClassifierMeta): LogitsFn {
  const { size } = meta.config;
  return async (data, n) => (await runner.run(data, [n, size, size, meta.bands])).data.subarray(0, n * meta.classes.length);
}

/** Logits on `samples` with the eval transform (decoded in loader workers), in sample order. */
export async function sampleLogits(logitsOf: LogitsFn, samples: readonly SceneSample[], meta: ClassifierMeta, o: EvaluateOptions = {}): Promise<Float32Array> {
  const C = meta.classes.length;
  const loader = new DataLoader<SceneSample, ClassifyItem>({
    samples,
    map: { ...CLASSIFY_SAMPLE_MAP, options: { transform: transformOptions(meta.config), read: o.read ?? {}, train: false } satisfies ClassifySampleOptions },
    batchSize: o.batchSize ?? 32,
    seed: 0,
    shuffle: false,
    dropLast: false,
    workers: o.workers ?? 1,
  });
  const logits = new Float32Array(samples.length * C);
  let at = 0;
  try {
    for await (const batch of loader.batches({ epochs: 1 })) {
      const { size, channels } = batch.items[0]!;
      if (channels !== meta.bands) throw new CmidError('input', `${batch.items[0] === undefined ? '' : samples[batch.indices[0]!]?.path}: ${channels} band(s), but the model takes ${meta.bands}.`);
      const px = size * size * channels;
      const x = new Float32Array(batch.items.length * px);
      batch.items.forEach((it, i) => x.set(it.image, i * px));
      logits.set(await logitsOf(x, batch.items.length), at * C);
      at += batch.items.length;
    }
  } finally {
    await loader.close();
  }
  return logits;
}

/** Scores of an exported classifier on labelled `samples`. */
export async function evaluateOnnx(runner: OnnxRunner, samples: readonly SceneSample[], meta: ClassifierMeta, o: EvaluateOptions = {}): Promise<EvalResult> {
  return evaluateWith(onnxLogitsFn(runner, meta), samples, meta, o);
}

/** Scores of any logits function (ONNX runner, tfjs model, a ScenePredictor) on labelled `samples`. */
export async function evaluateWith(logitsOf: LogitsFn, samples: readonly SceneSample[], meta: ClassifierMeta, o: EvaluateOptions = {}): Promise<EvalResult> {
  const C = meta.classes.length;
  const probabilities = softmaxRows(await sampleLogits(logitsOf, samples, meta, o), C);
  const predictions = argmaxRows(probabilities, C);
  const labels = Int32Array.from(samples, (s) => s.label);
  const scores = classificationScores(labels, probabilities, C);
  return { ...scores, probabilities, predictions, labels, images: samples.length };
}
