/**
 * _FusedMatMul (tf.fused.matMul, used by tfjs-layers Dense) for wasm: our SIMD GEMM, then bias and activation.
 *
 * Why: the shipped kernel has the same dispatch as BatchMatMul (XNNPACK only for batch 1 without transposes,
 * a scalar loop otherwise) and accepts only a rank-1 bias. Here the product is gemmMatMul (see BatchMatMul.ts);
 * the bias is added with the shipped broadcasting Add and the activation is the shipped elementwise kernel,
 * matching the cpu backend's order: activation(a @ b + bias).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmMatMul } from './BatchMatMul.js';
import { runShipped } from './shipped.js';

export type Activation = 'linear' | 'relu' | 'relu6' | 'prelu' | 'leakyrelu' | 'sigmoid' | 'elu';

/** activation(x) with the shipped elementwise kernels (shared with _FusedConv2D); a new TensorInfo. */
export function activate(
  backend: BackendWasm,
  x: tf.TensorInfo,
  activation: Activation,
  prelu: tf.TensorInfo | undefined,
  leakyreluAlpha: number,
  kernel = '_FusedMatMul',
): tf.TensorInfo {
  switch (activation) {
    case 'relu':
      return runShipped('Relu', backend, { x });
    case 'relu6':
      return runShipped('Relu6', backend, { x });
    case 'sigmoid':
      return runShipped('Sigmoid', backend, { x });
    case 'elu':
      return runShipped('Elu', backend, { x });
    case 'leakyrelu':
      return runShipped('LeakyRelu', backend, { x }, { alpha: leakyreluAlpha });
    case 'prelu':
      if (prelu === undefined) throw new Error(`${kernel}: activation "prelu" needs preluActivationWeights.`);
      return runShipped('Prelu', backend, { x, alpha: prelu });
    default:
      throw new Error(
        `${kernel}: activation "${String(activation)}" is not supported; valid: linear, relu, relu6, prelu, leakyrelu, sigmoid, elu.`,
      );
  }
}

function fusedMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = (args.attrs ?? {}) as {
    transposeA?: boolean;
    transposeB?: boolean;
    activation?: Activation;
    leakyreluAlpha?: number;
  };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return runShipped('_FusedMatMul', args.backend, args.inputs, args.attrs);
  }
  const backend = args.backend as BackendWasm;
  const y = gemmMatMul(backend, a, b, attrs.transposeA === true, attrs.transposeB === true, '_FusedMatMul');
  return biasAndActivate(backend, y, bias ?? undefined, attrs, preluActivationWeights ?? undefined, '_FusedMatMul');
}

/**
 * The epilogue of the fused kernels, in the order of tfjs's reference: activation(y + bias), the bias with the
 * shipped broadcasting Add, the activation with the shipped elementwise kernels. Consumes (disposes) y.
 */
export function biasAndActivate(
  backend: BackendWasm,
  y: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  attrs: { activation?: Activation; leakyreluAlpha?: number },
  prelu: tf.TensorInfo | undefined,
  kernel: string,
): tf.TensorInfo {
  let out = y;
  if (bias !== undefined) {
    const withBias = runShipped('Add', backend, { a: out, b: bias });
    backend.disposeData(out.dataId);
    out = withBias;
  }
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'linear') {
    const activated = activate(backend, out, activation, prelu, attrs.leakyreluAlpha ?? 0.2, kernel);
    backend.disposeData(out.dataId);
    out = activated;
  }
  return out;
}

export const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: '_FusedMatMul',
  backendName: 'wasm',
  kernelFunc: fusedMatMul as unknown as tf.KernelFunc,
};
