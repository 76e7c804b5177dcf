/**
 * OnnxRunner: inference on an exported model with onnxruntime-node, taking and returning plain NHWC float32
 * arrays, with the same normalisation as the tfjs path (`normalizeNhwc`), so a prediction does not depend on which
 * engine ran it. Threads and execution provider as in session.ts.
 */
import type * as Ort from 'onnxruntime-node';
import { CmidError } from '../runtime/errors.js';
import { createSession, loadOrt, type SessionOptions } from './session.js';

export interface Normalization {
  /** Per-band mean and std, in the units of the input values (e.g. 0-1 after dividing 8-bit data by 255). */
  mean: readonly number[];
  std: readonly number[];
}

/** (x - mean[c]) / std[c] over the last (band) axis of an NHWC array; returns a new array. */
export function normalizeNhwc(data: Float32Array, bands: number, norm: Normalization): Float32Array {
  if (norm.mean.length !== bands || norm.std.length !== bands) {
    throw new CmidError('input', `normalize: the image has ${bands} bands but mean/std have ${norm.mean.length}/${norm.std.length} values.`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = i % bands;
    out[i] = (data[i]! - norm.mean[c]!) / norm.std[c]!;
  }
  return out;
}

export class OnnxRunner {
  private constructor(
    private readonly session: Ort.InferenceSession,
    private readonly ort: typeof Ort,
    readonly normalization: Normalization | undefined,
    readonly source: string,
  ) {}

  static async load(model: Uint8Array | string, options: SessionOptions & { normalization?: Normalization } = {}): Promise<OnnxRunner> {
    const session = await createSession(model, options);
    return new OnnxRunner(session, await loadOrt(), options.normalization, typeof model === 'string' ? model : 'in-memory model');
  }

  /** Runs the model on NHWC float32 data of `shape` [B, H, W, C]; returns the first output (or `outputName`). */
  async run(data: Float32Array, shape: readonly [number, number, number, number], outputName?: string): Promise<{ data: Float32Array; shape: number[] }> {
    if (data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new CmidError('input', `OnnxRunner(${this.source}): ${data.length} values do not fill shape [${shape}].`);
    }
    const x = this.normalization === undefined ? data : normalizeNhwc(data, shape[3], this.normalization);
    const name = this.session.inputNames[0]!;
    const out = await this.session.run({ [name]: new this.ort.Tensor('float32', x, [...shape]) });
    const t = out[outputName ?? this.session.outputNames[0]!];
    if (t === undefined) throw new CmidError('input', `OnnxRunner(${this.source}): no output "${outputName}" (has ${this.session.outputNames.join(', ')}).`);
    return { data: t.data as Float32Array, shape: [...t.dims] };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
