/**
 * The kernels @cmid/core registers on the tfjs `wasm` backend: ones it lacks for training
 * (Conv2DBackpropFilter, depthwise gradients, UnsortedSegmentSum), ones it runs as scalar loops
 * (BatchMatMul with batch > 1 or transposes, Conv2DBackpropInput), ones it runs through a slow transpose (Sum and Mean
 * over leading axes), one it gets wrong (MaxPoolGrad), the float32 Conv2D and _FusedConv2D, which run on our
 * multi-threaded GEMM instead of XNNPACK (Conv2D.ts), and Identity, which shares its input's buffer instead of
 * copying it (Identity.ts), and the fused training-mode batch norm (+ ReLU) forward and backward that run in place
 * on the tfjs heap (BatchNormTrain.ts) with the residual join relu(a + b) (AddRelu.ts), under kernel names of our own. One file per kernel (Conv2D.ts holds both convolutions); this is the only list.
 *
 * Order matters and is handled here: tfjs-backend-wasm registers its own kernels when imported; we capture them
 * (our kernels delegate to the fast ones), then register ours over them, keeping the shipped setupFunc where ours
 * has none (the shipped kernelFunc we delegate to needs its wasm function bound by that setup).
 */
import * as tf from '@tensorflow/tfjs';
import { captureShippedKernels, hasShipped, shippedKernel } from './shipped.js';
import { batchMatMulConfig } from './BatchMatMul.js';
import { fusedMatMulConfig } from './_FusedMatMul.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput.js';
import { maxPoolGradConfig } from './MaxPoolGrad.js';
import { sumConfig } from './Sum.js';
import { meanConfig } from './Mean.js';
import { conv2DConfig, fusedConv2DConfig } from './Conv2D.js';
import { identityConfig } from './Identity.js';
import { batchNormTrainConfig, batchNormTrainGradConfig } from './BatchNormTrain.js';
import { addReluConfig, reluGradFromOutputConfig } from './AddRelu.js';

export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  // One entry per kernel file in this folder.
  batchMatMulConfig,
  fusedMatMulConfig,
  unsortedSegmentSumConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  maxPoolGradConfig,
  sumConfig,
  meanConfig,
  conv2DConfig,
  fusedConv2DConfig,
  identityConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  addReluConfig,
  reluGradFromOutputConfig,
];

/**
 * Registers every kernel in WASM_TRAINING_KERNELS for `wasm` and returns their names.
 * Must run after `import '@tensorflow/tfjs-backend-wasm'` and before `tf.setBackend('wasm')`.
 */
export function registerTrainingKernels(): string[] {
  captureShippedKernels();
  const names: string[] = [];
  for (const config of WASM_TRAINING_KERNELS) {
    const cfg: tf.KernelConfig = { ...config, backendName: 'wasm' };
    if (hasShipped(cfg.kernelName)) {
      const original = shippedKernel(cfg.kernelName);
      if (cfg.setupFunc === undefined && original.setupFunc !== undefined) cfg.setupFunc = original.setupFunc;
      if (tf.getKernel(cfg.kernelName, 'wasm') !== undefined) tf.unregisterKernel(cfg.kernelName, 'wasm');
    } else if (tf.getKernel(cfg.kernelName, 'wasm') !== undefined) {
      tf.unregisterKernel(cfg.kernelName, 'wasm');
    }
    tf.registerKernel(cfg);
    names.push(cfg.kernelName);
  }
  return names;
}
