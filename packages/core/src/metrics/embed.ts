/**
 * Frozen-feature embedding on onnxruntime: a backbone is exported once to ONNX in eval mode and run over many
 * images in batches (the eager tfjs forward would dominate an evaluation pass). Used by the pretraining kNN
 * monitor and by the linear-probe / kNN protocols of the task packages; the image pipeline (decode, resize,
 * normalise) is the caller's `load`, so each protocol keeps its own evaluation transform.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbones/feature-info.js';
import { exportModule } from '../onnx/export.js';
import { OnnxRunner } from '../onnx/runner.js';

/** An eval-mode ONNX export of `backbone` (input [n, size, size, bands] NHWC) on onnxruntime-node. */
export async function backboneOnnxRunner(backbone: Backbone, size: number, bands: number, threads?: number): Promise<OnnxRunner> {
  const example = tf.zeros([2, size, size, bands]) as tf.Tensor4D;
  const exported = exportModule(backbone, example);
  tf.dispose([example, ...exported.eagerOutputs]);
  return OnnxRunner.load(exported.model, threads === undefined ? {} : { threads });
}

export interface EmbedBatchesOptions {
  size: number;
  bands: number;
  /** Images per onnxruntime call. Default 16. */
  batchSize?: number;
}

/**
 * Runs `runner` (a pooled-embedding model, output [n, dim]) over `items`; `load(item)` gives one normalised
 * image, float32 HWC of [size, size, bands]. Returns the embeddings row-major, [items.length * dim].
 */
export async function embedWithRunner<T>(runner: OnnxRunner, dim: number, items: readonly T[], load: (item: T) => Promise<Float32Array>, o: EmbedBatchesOptions): Promise<Float32Array> {
  const batchSize = o.batchSize ?? 16;
  const px = o.size * o.size * o.bands;
  const out = new Float32Array(items.length * dim);
  for (let start = 0; start < items.length; start += batchSize) {
    const chunk = items.slice(start, start + batchSize);
    const data = new Float32Array(chunk.length * px);
    const images = await Promise.all(chunk.map((it) => load(it)));
    images.forEach((img, i) => data.set(img, i * px));
    const r = await runner.run(data, [chunk.length, o.size, o.size, o.bands]);
    out.set(r.data.subarray(0, chunk.length * dim), start * dim);
  }
  return out;
}
