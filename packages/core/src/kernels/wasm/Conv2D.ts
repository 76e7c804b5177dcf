/**
 * Conv2D and _FusedConv2D for wasm: 1x1 filters at stride 1 without padding run as one GEMM on our module
 * (x [B*H*W, Ci] @ W [Ci, Co], multi-threaded with it, see gemm.ts); every other case goes to the shipped
 * XNNPACK kernel unchanged.
 *
 * Why: XNNPACK packs the weights of every filter tensor it has not seen, and in training every step brings new
 * filters (decisions.md, Runtime), so a forward 1x1 convolution pays a repack each step, and it runs on one
 * thread. The fused variant is the same GEMM, then the bias with the shipped broadcasting Add and the activation
 * with the shipped elementwise kernels, in the order of tfjs's reference: activation(conv(x, W) + bias).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmBatched } from './gemm.js';
import { runShipped } from './shipped.js';
import { activate, type Activation } from './_FusedMatMul.js';
import { heapF32, pair } from './conv-util.js';

/** Knobs, exported for tests and benchmarks: 'auto' takes the GEMM route for 1x1 stride-1 unpadded filters. */
export const conv2DOptions: { route: 'auto' | 'xnnpack' } = { route: 'auto' };

/** The [B, H, W, Co] output shape when x * filter is a pointwise GEMM (1x1, stride 1, no padding, NHWC, float32). */
function pointwiseShape(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): [number, number, number, number] | undefined {
  if (conv2DOptions.route !== 'auto' || x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[0] !== 1 || filter.shape[1] !== 1) return undefined;
  const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return undefined;
  const [sh, sw] = pair(strides as number | [number, number], 'Conv2D', 'strides');
  if (sh !== 1 || sw !== 1) return undefined;
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  if (filter.shape[2] !== ci) return undefined; // let the shipped kernel report it
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], 1, 1, pad, dimRoundingMode, false, 'channelsLast');
  const p = info.padInfo;
  if (p.top !== 0 || p.left !== 0 || p.bottom !== 0 || p.right !== 0 || info.outHeight !== h || info.outWidth !== w) return undefined;
  return [b, h, w, filter.shape[3]!];
}

function pointwise(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, shape: [number, number, number, number]): tf.TensorInfo {
  const [b, h, w, co] = shape;
  const ci = x.shape[3]!;
  const out = backend.makeOutput(shape, 'float32');
  const m = b * h * w;
  if (m * co === 0) return out;
  const zero = new Int32Array(1);
  // views taken after makeOutput (which may grow the heap)
  gemmBatched(1, m, co, ci, { data: heapF32(backend, x), rs: ci, cs: 1, offsets: zero }, { data: heapF32(backend, filter), rs: co, cs: 1, offsets: zero }, heapF32(backend, out));
  return out;
}

function conv2D(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const shape = pointwiseShape(x, filter, args.attrs ?? {});
  if (shape === undefined) return runShipped('Conv2D', args.backend, args.inputs, args.attrs);
  return pointwise(args.backend as BackendWasm, x, filter, shape);
}

function fusedConv2D(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = (args.attrs ?? {}) as { activation?: Activation; leakyreluAlpha?: number };
  const shape = pointwiseShape(x, filter, args.attrs ?? {});
  if (shape === undefined) return runShipped('FusedConv2D', args.backend, args.inputs, args.attrs);
  const backend = args.backend as BackendWasm;
  let y = pointwise(backend, x, filter, shape);
  if (bias != null) {
    const withBias = runShipped('Add', backend, { a: y, b: bias });
    backend.disposeData(y.dataId);
    y = withBias;
  }
  const activation = attrs.activation ?? 'linear';
  if (activation !== 'linear') {
    const activated = activate(backend, y, activation, preluActivationWeights ?? undefined, attrs.leakyreluAlpha ?? 0.2, 'FusedConv2D');
    backend.disposeData(y.dataId);
    y = activated;
  }
  return y;
}

export const conv2DConfig: tf.KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: conv2D as unknown as tf.KernelFunc,
};

export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
};
