/**
 * Sum for wasm: float32 reductions over leading axes (batch-norm statistics, bias gradients of broadcast adds) as
 * float64-accumulated SIMD column sums without a transpose; everything else on the shipped kernel. See
 * leading-reduce.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { leadingReduce } from './leading-reduce.js';

export const sumConfig: tf.KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<typeof leadingReduce>[1]) => leadingReduce('Sum', args)) as unknown as tf.KernelFunc,
};
