/**
 * Prediction on image files with a trained classifier: onnxruntime-node on the exported model by default, the
 * eager tfjs model as the fallback (and the reference the ONNX path is tested against). Inputs are files or
 * folders (searched recursively for JPEG/PNG/TIFF/GeoTIFF); each image goes through the evaluation transform of
 * the model's config (resize + centre crop + normalise) and the bands the model was trained on.
 *
 * A corrupt or unreadable image is reported with its path and either skipped (`onCorrupt: 'skip'`) or stops the
 * run ('error', the default); nothing is dropped silently: skipped files are listed in the result.
 */
import * as tf from '@tensorflow/tfjs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { CmidError, IMAGE_EXTENSIONS, OnnxRunner } from '@cmid/core';
import { readSceneOrSkip, type CorruptPolicy } from './datasets/read-scene.js';
import { argmaxRows, softmaxRows } from './evaluate.js';
import { exportClassifier, loadClassifier, readOnnxClassifierMeta, type ClassifierMeta } from './model-io.js';
import type { ClassifyModel } from './model/classify-model.js';
import { evalTransform } from './transforms.js';
import { transformOptions } from './data.js';

export type PredictEngine = 'onnx' | 'tfjs';

export interface Prediction {
  path: string;
  /** Predicted class name and index. */
  label: string;
  index: number;
  /** Softmax probabilities, one per class (meta.classes order). */
  probabilities: Float32Array;
}

export interface PredictResult {
  predictions: Prediction[];
  skipped: { path: string; message: string }[];
}

export interface PredictOptions {
  batchSize?: number;
  onCorrupt?: CorruptPolicy;
  warn?: (message: string) => void;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Resolves a model argument: a run folder (model.onnx / model.safetensors inside), an .onnx or a .safetensors file. */
export async function resolveModelFile(model: string, engine: PredictEngine): Promise<string> {
  let s;
  try {
    s = await stat(model);
  } catch {
    throw new CmidError('input', `${model}: no such model file or run folder. Pass the run folder of \`cmid classify train\`, its model.onnx, or model.safetensors.`, { file: model });
  }
  if (!s.isDirectory()) return model;
  const onnx = join(model, 'model.onnx'), st = join(model, 'model.safetensors');
  if (engine === 'onnx' && (await exists(onnx))) return onnx;
  if (await exists(st)) return st;
  if (await exists(onnx)) return onnx;
  throw new CmidError('input', `${model}: a folder without model.onnx or model.safetensors; is it a finished \`cmid classify train\` run?`, { file: model });
}

export class ScenePredictor {
  private constructor(
    readonly meta: ClassifierMeta,
    readonly engine: PredictEngine,
    private readonly runner: OnnxRunner | undefined,
    private readonly model: ClassifyModel | undefined,
    readonly source: string,
  ) {}

  /** Opens a model for prediction (see resolveModelFile). An .onnx file runs on onnxruntime only. */
  static async open(model: string, options: { engine?: PredictEngine; threads?: number } = {}): Promise<ScenePredictor> {
    const engine = options.engine ?? 'onnx';
    const file = await resolveModelFile(model, engine);
    const ortOptions = options.threads !== undefined ? { threads: options.threads } : {};
    if (file.endsWith('.onnx')) {
      if (engine === 'tfjs') throw new CmidError('config', `${file}: an ONNX model runs on onnxruntime only; for the tfjs engine pass model.safetensors.`, { file });
      const { bytes, meta } = await readOnnxClassifierMeta(file);
      return new ScenePredictor(meta, 'onnx', await OnnxRunner.load(bytes, ortOptions), undefined, file);
    }
    const { model: m, meta } = await loadClassifier(file);
    if (engine === 'tfjs') return new ScenePredictor(meta, 'tfjs', undefined, m, file);
    const runner = await OnnxRunner.load(exportClassifier(m, meta), ortOptions);
    m.dispose();
    return new ScenePredictor(meta, 'onnx', runner, undefined, file);
  }

  get classes(): string[] {
    return this.meta.classes;
  }

  /** Logits of normalised images, NHWC [n, size, size, bands]. */
  async logits(data: Float32Array, n: number): Promise<Float32Array> {
    const { size } = this.meta.config;
    const shape = [n, size, size, this.meta.bands] as const;
    if (this.runner !== undefined) return (await this.runner.run(data, shape)).data.slice(0, n * this.classes.length);
    const x = tf.tensor4d(data, [...shape]);
    const y = tf.tidy(() => this.model!.forward(x));
    const out = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    return out;
  }

  /** Predicts the files in `paths` in batches. */
  async predictFiles(paths: readonly string[], o: PredictOptions = {}): Promise<PredictResult> {
    const batchSize = o.batchSize ?? 16;
    const C = this.classes.length;
    const { size } = this.meta.config;
    const px = size * size * this.meta.bands;
    const topt = transformOptions(this.meta.config);
    const read = this.meta.bandIndices !== undefined ? { bands: this.meta.bandIndices } : { expectBands: this.meta.bands };
    const predictions: Prediction[] = [];
    const skipped: PredictResult['skipped'] = [];
    for (let start = 0; start < paths.length; start += batchSize) {
      const chunk = paths.slice(start, start + batchSize);
      const ok: string[] = [];
      const data = new Float32Array(chunk.length * px);
      for (const p of chunk) {
        let message = '';
        const img = await readSceneOrSkip(p, { ...read, onCorrupt: o.onCorrupt ?? 'error', warn: (m) => { message = m; (o.warn ?? console.warn)(m); } });
        if (img === undefined) {
          skipped.push({ path: p, message });
          continue;
        }
        if (img.channels !== this.meta.bands) {
          const e = new CmidError('input', `${p}: ${img.channels} band(s), but the model was trained on ${this.meta.bands}; pass images with the training bands.`, { file: p });
          if ((o.onCorrupt ?? 'error') === 'error') throw e;
          skipped.push({ path: p, message: e.message });
          (o.warn ?? console.warn)(e.message);
          continue;
        }
        data.set(evalTransform(img, topt), ok.length * px);
        ok.push(p);
      }
      if (ok.length === 0) continue;
      const probs = softmaxRows(await this.logits(data.subarray(0, ok.length * px), ok.length), C);
      const top = argmaxRows(probs, C);
      ok.forEach((p, i) => predictions.push({ path: p, index: top[i]!, label: this.classes[top[i]!]!, probabilities: probs.slice(i * C, (i + 1) * C) }));
    }
    return { predictions, skipped };
  }

  async close(): Promise<void> {
    await this.runner?.release();
    this.model?.dispose();
  }
}

/** Expands files and folders (recursively, sorted) into image paths; a folder with no image is an error. */
export async function listImages(inputs: readonly string[]): Promise<string[]> {
  const exts = new Set<string>(IMAGE_EXTENSIONS);
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (exts.has(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  for (const input of inputs) {
    let s;
    try {
      s = await stat(input);
    } catch {
      throw new CmidError('input', `${input}: no such file or folder.`, { file: input });
    }
    if (s.isDirectory()) {
      const before = out.length;
      await walk(input);
      if (out.length === before) throw new CmidError('input', `${input}: no images (${[...exts].join(' ')}) in this folder.`, { file: input });
    } else out.push(input);
  }
  return out;
}

/** CSV: path, label, then one probability column per class. */
export function predictionsCsv(r: PredictResult, classes: readonly string[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['path', 'label', ...classes].map(q).join(',')];
  for (const p of r.predictions) lines.push([q(p.path), q(p.label), ...Array.from(p.probabilities, (v) => v.toPrecision(6))].join(','));
  return `${lines.join('\n')}\n`;
}

export function predictionsJson(r: PredictResult, classes: readonly string[]): string {
  return JSON.stringify(
    {
      classes,
      predictions: r.predictions.map((p) => ({ path: p.path, label: p.label, index: p.index, probabilities: Array.from(p.probabilities) })),
      skipped: r.skipped,
    },
    null,
    2,
  );
}
