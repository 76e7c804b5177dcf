/**
 * Frozen-backbone evaluation: the backbone (random init or loaded weights) is exported once to ONNX in eval mode,
 * every train and test image goes through the evaluation transform (resize + centre crop + normalise), and the
 * pooled features are classified by a weighted kNN (k 20, T 0.07, cosine; the common SSL monitor) and a linear
 * probe (multinomial logistic regression, @cmid/core metrics). No fine-tuning: this measures the features.
 */
import { backboneOnnxRunner, createBackbone, embedWithRunner, knnClassify, linearProbe } from '@cmid/core';
import { createClassifierBackbone, loadClassifierBackbone } from './model/classify-model.js';
import { normalizationFor, type ClassifyConfig } from './config.js';
import { readScene } from './datasets/read-scene.js';
import { sceneReadOptions, type SceneDataset } from './datasets/types.js';
import { evalTransform } from './transforms.js';
import { transformOptions } from './data.js';

export interface ProbeOptions {
  config: ClassifyConfig;
  dataset: SceneDataset;
  weights?: string;
  threads?: number;
  k?: number;
  temperature?: number;
  /** Also fit a linear probe. Default true. */
  linear?: boolean;
}

export interface ProbeResult {
  knnTop1: number;
  knnTop5: number;
  linearTop1?: number;
  trainImages: number;
  testImages: number;
  classes: number;
  weights: string | null;
}

export async function probeBackbone(o: ProbeOptions): Promise<ProbeResult> {
  const ds = o.dataset;
  const config = normalizationFor(o.config, ds).config;
  const opts = { ...config.backboneOptions, inChannels: ds.bands };
  const backbone = o.weights === undefined ? createClassifierBackbone(config.backbone, opts) : createBackbone(config.backbone, opts);
  try {
    if (o.weights !== undefined) await loadClassifierBackbone(backbone, o.weights);
    const runner = await backboneOnnxRunner(backbone, config.size, ds.bands, o.threads);
    const read = sceneReadOptions(ds);
    const topt = transformOptions(config);
    const load = async (s: { path: string }) => evalTransform(await readScene(s.path, read), topt);
    let ftr: Float32Array, fte: Float32Array;
    try {
      const eo = { size: config.size, bands: ds.bands };
      ftr = await embedWithRunner(runner, backbone.embedDim, ds.train, load, eo);
      fte = await embedWithRunner(runner, backbone.embedDim, ds.test, load, eo);
    } finally {
      await runner.release();
    }
    const ytr = ds.train.map((s) => s.label);
    const yte = ds.test.map((s) => s.label);
    const C = ds.classes.length;
    const knn = knnClassify(ftr, ytr, fte, yte, C, { k: o.k ?? 20, temperature: o.temperature ?? 0.07 });
    const r: ProbeResult = { knnTop1: knn.top1, knnTop5: knn.top5, trainImages: ytr.length, testImages: yte.length, classes: C, weights: o.weights ?? null };
    if (o.linear ?? true) r.linearTop1 = linearProbe(ftr, ytr, fte, yte, C).top1;
    return r;
  } finally {
    backbone.dispose();
  }
}
