/**
 * Mean for wasm: float32 reductions over leading axes (batch-norm statistics) as float64-accumulated SIMD column
 * sums without a transpose, divided in float64; everything else on the shipped kernel. See leading-reduce.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { leadingReduce } from './leading-reduce.js';

export const meanConfig: tf.KernelConfig = {
  kernelName: 'Mean',
  backendName: 'wasm',
  kernelFunc: ((args: Parameters<typeof leadingReduce>[1]) => leadingReduce('Mean', args)) as unknown as tf.KernelFunc,
};
