/**
 * A fine-tuned classifier as files:
 * - `model.safetensors`: the classifier's state dict (`backbone.*`, `cls_head.*`, PyTorch layout) with metadata
 *   `format: cmid-classify-model/1` and `meta`: what prediction needs (classes, bands, config). Written atomically.
 * - `model.onnx`: the eval-mode classifier exported to ONNX (input `input` NHWC [batch, size, size, bands], output
 *   logits), with the same `meta` in its metadata_props, so a predictor needs only this one file.
 * A training checkpoint (checkpoints/last.safetensors, the full trainer state) also loads as a model: its model
 * tensors are under the same keys.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import {
  CmidError,
  exportModule,
  loadStateDict,
  readOnnxMetadata,
  readSafetensors,
  stateDict,
  writeFileAtomic,
  writeSafetensors,
  type StateDict,
} from '@cmid/core';
import type { ClassifyConfig } from './config.js';
import { ClassifyModel } from './model/classify-model.js';

export const MODEL_FORMAT = 'cmid-classify-model/1';
export const TRAIN_FORMAT = 'cmid-classify/1';

/** What a saved classifier carries besides its weights. */
export interface ClassifierMeta {
  classes: string[];
  bands: number;
  config: ClassifyConfig;
  /** Dataset it was trained on, for the record. */
  dataset?: string;
  /** Band indices read from each file (EuroSAT-MS), so prediction reads the same bands. */
  bandIndices?: number[];
}

export function buildClassifier(meta: ClassifierMeta): ClassifyModel {
  return new ClassifyModel({ backbone: meta.config.backbone, backboneOptions: meta.config.backboneOptions, numClasses: meta.classes.length, inChannels: meta.bands });
}

export async function saveClassifier(file: string, model: ClassifyModel, meta: ClassifierMeta): Promise<void> {
  await writeSafetensors(file, stateDict(model), { format: MODEL_FORMAT, meta: JSON.stringify(meta) });
}

/** Reads a classifier (model.safetensors or a training checkpoint) into a new eval-mode ClassifyModel. */
export async function loadClassifier(file: string): Promise<{ model: ClassifyModel; meta: ClassifierMeta }> {
  const st = await readSafetensors(file);
  const format = st.metadata.format;
  if ((format !== MODEL_FORMAT && format !== TRAIN_FORMAT) || st.metadata.meta === undefined) {
    throw new CmidError(
      'input',
      `${file}: not a classifier of this toolkit (format "${format ?? 'none'}"). Pass model.safetensors or model.onnx from a \`cmid classify train\` run folder, ` +
        'or a checkpoints/*.safetensors file of one; backbone weights go to `train --weights`.',
      { file },
    );
  }
  const raw = JSON.parse(st.metadata.meta) as ClassifierMeta & { meta?: ClassifierMeta };
  const meta: ClassifierMeta = format === TRAIN_FORMAT ? (raw as unknown as { classifier: ClassifierMeta }).classifier : raw;
  const model = buildClassifier(meta);
  const dict: StateDict = new Map([...st.tensors].filter(([k]) => !k.startsWith('optimizer.'))) as StateDict;
  loadStateDict(model, dict, { strict: true, source: file });
  model.eval();
  return { model, meta };
}

/** Exports the eval-mode classifier (dynamic batch) with `meta` in the ONNX metadata; returns the model bytes. */
export function exportClassifier(model: ClassifyModel, meta: ClassifierMeta): Uint8Array {
  const example = tf.zeros([2, meta.config.size, meta.config.size, meta.bands]) as tf.Tensor4D;
  try {
    const r = exportModule(model, example, { metadata: { format: MODEL_FORMAT, meta: JSON.stringify(meta) } });
    tf.dispose(r.eagerOutputs);
    return r.model;
  } finally {
    example.dispose();
  }
}

export async function writeClassifierOnnx(file: string, model: ClassifyModel, meta: ClassifierMeta): Promise<void> {
  await writeFileAtomic(file, exportClassifier(model, meta));
}

/** The meta of an exported model.onnx. */
export async function readOnnxClassifierMeta(file: string): Promise<{ bytes: Uint8Array; meta: ClassifierMeta }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new CmidError('input', `${file}: cannot read the model (${(e as Error).message}).`, { file });
  }
  const md = readOnnxMetadata(bytes, file);
  if (md.format !== MODEL_FORMAT || md.meta === undefined) {
    throw new CmidError('input', `${file}: an ONNX model without the classifier metadata of \`cmid classify\` (classes, input size, normalisation); export it with \`cmid classify export\`.`, { file });
  }
  return { bytes, meta: JSON.parse(md.meta) as ClassifierMeta };
}
