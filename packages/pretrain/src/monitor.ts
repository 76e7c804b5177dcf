/**
 * Frozen-feature evaluation of a backbone on a labelled image folder (class sub-folders, e.g. UC Merced or the
 * synthetic UCM set): the kNN monitor of pretraining (k = 20, T = 0.07, cosine: the settings of the reference's
 * unused KnnEvaluate hook, cmid.md §9) and a linear probe. The backbone is exported to ONNX in eval mode and run
 * on onnxruntime (the eager tfjs forward would dominate a monitoring pass); images are resized to the pretraining
 * size (bilinear, antialiased) and normalised with the pretraining mean/std.
 *
 * The split is deterministic and stratified: within each class (files sorted), every fifth image is a test image.
 */
import * as tf from '@tensorflow/tfjs';
import {
  CMID_MEAN,
  CMID_STD,
  CmidError,
  exportModule,
  ImageFolder,
  knnClassify,
  linearProbe,
  normalizeImage,
  OnnxRunner,
  resizeImage,
  type Backbone,
} from '@cmid/core';
import { readUint8 } from './data.js';

export interface LabelledSplit {
  classes: readonly string[];
  train: { path: string; label: number }[];
  test: { path: string; label: number }[];
}

export async function labelledSplit(root: string, testEvery = 5): Promise<LabelledSplit> {
  const folder = await ImageFolder.open(root, { warn: () => {} });
  if (folder.classes.length < 2) throw new CmidError('input', `${root}: a labelled folder needs class sub-folders (root/<class>/<image>); found ${folder.classes.length} class(es).`, { file: root });
  const train: LabelledSplit['train'] = [];
  const test: LabelledSplit['test'] = [];
  const seen = new Map<number, number>();
  for (const s of folder.samples) {
    const i = seen.get(s.label) ?? 0;
    seen.set(s.label, i + 1);
    ((i % testEvery) === testEvery - 1 ? test : train).push({ path: s.path, label: s.label });
  }
  return { classes: folder.classes, train, test };
}

export interface EmbedOptions {
  size: number;
  mean?: readonly number[];
  std?: readonly number[];
  batchSize?: number;
  threads?: number;
}

/** An eval-mode ONNX export of `backbone` on onnxruntime, for embedding many images with one export. */
async function backboneRunner(backbone: Backbone, size: number, bands: number, threads?: number): Promise<OnnxRunner> {
  const example = tf.zeros([2, size, size, bands]) as tf.Tensor4D;
  const exported = exportModule(backbone, example);
  tf.dispose([example, ...exported.eagerOutputs]);
  return OnnxRunner.load(exported.model, threads === undefined ? {} : { threads });
}

async function embedWith(runner: OnnxRunner, embedDim: number, paths: readonly string[], options: EmbedOptions): Promise<Float32Array> {
  const { size, batchSize = 16 } = options;
  const mean = options.mean ?? CMID_MEAN;
  const std = options.std ?? CMID_STD;
  const px = size * size * mean.length;
  const out = new Float32Array(paths.length * embedDim);
  for (let start = 0; start < paths.length; start += batchSize) {
    const chunk = paths.slice(start, start + batchSize);
    const data = new Float32Array(chunk.length * px);
    for (let i = 0; i < chunk.length; i++) {
      const src = await readUint8(chunk[i]!);
      const resized = src.width === size && src.height === size ? src : resizeImage(src, size, size, { interpolation: 'bilinear', antialias: true });
      data.set(normalizeImage(resized, mean, std).data, i * px);
    }
    const r = await runner.run(data, [chunk.length, size, size, mean.length]);
    out.set(r.data, start * embedDim);
  }
  return out;
}

/** Pooled eval-mode features of `paths`, [n * embedDim], via an ONNX export of the backbone. */
export async function embedImages(backbone: Backbone, paths: readonly string[], options: EmbedOptions): Promise<Float32Array> {
  const runner = await backboneRunner(backbone, options.size, (options.mean ?? CMID_MEAN).length, options.threads);
  try {
    return await embedWith(runner, backbone.embedDim, paths, options);
  } finally {
    await runner.release();
  }
}

export interface MonitorResult {
  knnTop1: number;
  knnTop5: number;
  linearTop1?: number;
  trainImages: number;
  testImages: number;
  classes: number;
}

/** kNN (and optionally linear-probe) accuracy of `backbone`'s frozen features on a labelled split. */
export async function evaluateFeatures(
  backbone: Backbone,
  split: LabelledSplit,
  options: EmbedOptions & { k?: number; temperature?: number; linear?: boolean },
): Promise<MonitorResult> {
  const runner = await backboneRunner(backbone, options.size, (options.mean ?? CMID_MEAN).length, options.threads);
  let ftr: Float32Array, fte: Float32Array;
  try {
    ftr = await embedWith(runner, backbone.embedDim, split.train.map((s) => s.path), options);
    fte = await embedWith(runner, backbone.embedDim, split.test.map((s) => s.path), options);
  } finally {
    await runner.release();
  }
  const ytr = split.train.map((s) => s.label);
  const yte = split.test.map((s) => s.label);
  const knn = knnClassify(ftr, ytr, fte, yte, split.classes.length, { k: options.k ?? 20, temperature: options.temperature ?? 0.07 });
  const result: MonitorResult = { knnTop1: knn.top1, knnTop5: knn.top5, trainImages: ytr.length, testImages: yte.length, classes: split.classes.length };
  if (options.linear === true) result.linearTop1 = linearProbe(ftr, ytr, fte, yte, split.classes.length).top1;
  return result;
}
