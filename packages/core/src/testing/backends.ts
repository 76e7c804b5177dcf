/**
 * Run the same computation on two tfjs backends and compare, the pattern of every kernel test:
 * the `cpu` backend (pure JS, tfjs's own reference implementations) against `wasm` with our kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../runtime/init-backend.js';

/** Runs `f` on `backend` and returns its outputs as Float32Arrays (inputs are plain arrays, so nothing crosses backends). */
export async function onBackend(
  backend: 'cpu' | 'wasm',
  f: () => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await initBackend({ backend });
  const outs = tf.tidy(() => {
    const r = f();
    return Array.isArray(r) ? r : [r];
  });
  const arrays = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return arrays;
}
