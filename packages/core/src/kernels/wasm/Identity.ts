/**
 * Identity for wasm without a copy: the output shares the input's buffer (reference-counted), as tfjs's cpu
 * backend does. The shipped kernel copies, and tfjs's tape clones (Identity) every tensor it saves for the
 * backward pass: about 1,100 full-size copies per eager ResNet-50 training step (64 ms of a 2 s step at batch 2,
 * and as much memory as the saved activations). Sharing is safe because no tfjs kernel writes into its inputs.
 * Strings keep the shipped kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runShipped } from './shipped.js';

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend }): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return runShipped('Identity', args.backend, args.inputs);
  (args.backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
