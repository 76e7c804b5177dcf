/**
 * Values that change every step without being computed from tensors (drop-path keep masks, dropout masks,
 * random indices): eagerly they are a tensor made from `produce()`; under a symbolic trace they become a graph
 * input named `feed:<k>:<label>` whose producer the compiled engine calls before every run, in trace order. The
 * producer draws from the caller's seeded Rng, so the eager and compiled paths see the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { activeSymbolicTrace } from './symbolic-trace.js';
import type { DType } from './shapes.js';

export function feed(shape: number[], produce: () => Float32Array | Int32Array | Uint8Array, options: { dtype?: DType; label?: string } = {}): tf.Tensor {
  const dtype = options.dtype ?? 'float32';
  const rec = activeSymbolicTrace();
  if (rec !== null) return rec.feed(shape, dtype, options.label ?? 'random', produce);
  return tf.tensor(produce(), shape, dtype);
}
