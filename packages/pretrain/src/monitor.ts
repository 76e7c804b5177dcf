/**
 * Frozen-feature evaluation of a backbone on a labelled image folder (class sub-folders, e.g. UC Merced or the
 * synthetic UCM set): the kNN monitor of pretraining (k = 20, T = 0.07, cosine: the settings of the reference's
 * unused KnnEvaluate hook, cmid.md §9) and a linear probe. The backbone is exported to ONNX in eval mode and run
 * on onnxruntime (the eager tfjs forward would dominate a monitoring pass); images are resized to the pretraining
 * size (bilinear, antialiased) and normalised with the pretraining mean/std.
 *
 * The split is deterministic and stratified: within each class (files sorted), every fifth image is a test image.
 */
import {
  CMID_MEAN,
  CMID_STD,
  backboneOnnxRunner,
  CmidError,
  embedWithRunner,
  ImageFolder,
  knnClassify,
  linearProbe,
  normalizeImage,
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

/** Decode, resize to the pretraining size (bilinear, antialiased) and normalise one image. */
function loader(options: EmbedOptions): (path: string) => Promise<Float32Array> {
  const { size } = options;
  const mean = options.mean ?? CMID_MEAN;
  const std = options.std ?? CMID_STD;
  return async (path) => {
    const src = await readUint8(path);
    const resized = src.width === size && src.height === size ? src : resizeImage(src, size, size, { interpolation: 'bilinear', antialias: true });
    return normalizeImage(resized, mean, std).data as Float32Array;
  };
}

const embedOptions = (o: EmbedOptions) => ({ size: o.size, bands: (o.mean ?? CMID_MEAN).length, ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}) });

/** Pooled eval-mode features of `paths`, [n * embedDim], via an ONNX export of the backbone. */
export async function embedImages(backbone: Backbone, paths: readonly string[], options: EmbedOptions): Promise<Float32Array> {
  const runner = await backboneOnnxRunner(backbone, options.size, (options.mean ?? CMID_MEAN).length, options.threads);
  try {
    return await embedWithRunner(runner, backbone.embedDim, paths, loader(options), embedOptions(options));
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
  const runner = await backboneOnnxRunner(backbone, options.size, (options.mean ?? CMID_MEAN).length, options.threads);
  let ftr: Float32Array, fte: Float32Array;
  try {
    const load = loader(options);
    ftr = await embedWithRunner(runner, backbone.embedDim, split.train.map((s) => s.path), load, embedOptions(options));
    fte = await embedWithRunner(runner, backbone.embedDim, split.test.map((s) => s.path), load, embedOptions(options));
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
