/**
 * Conv2D and _FusedConv2D for wasm on our GEMM module: every float32 NHWC convolution runs as im2col + GEMM
 * (csrc/gemm.c conv2d_forward: out [B*Ho*Wo, Co] = im2col(x) @ W [kh*kw*Ci, Co], built a chunk of output pixels at a
 * time; 1x1 filters at stride 1 without padding read x itself), multi-threaded with the module (gemm.ts); other
 * dtypes and layouts go to the shipped XNNPACK kernel unchanged.
 *
 * Why: XNNPACK packs the weights of every filter tensor it has not seen, and in training every step brings new
 * filters (decisions.md, Runtime), so each forward convolution paid a repack (a 3x3 512->512 convolution at 2x7x7:
 * 18.9 ms with a known filter, 41.4 ms with a new one), on one thread. The fused variant is the same GEMM, then the
 * bias with the shipped broadcasting Add and the activation with the shipped elementwise kernels, in the order of
 * tfjs's reference: activation(conv(x, W) + bias).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2dForward, type ConvGeometry } from './gemm.js';
import { runShipped } from './shipped.js';
import { biasAndActivate, type Activation } from './_FusedMatMul.js';
import { heapF32 } from './conv-util.js';

/**
 * Knobs, exported for tests and benchmarks: route 'auto' takes the GEMM route for every float32 NHWC convolution,
 * 'pointwise' only for 1x1 stride-1 unpadded filters, 'xnnpack' never; chunkFloats bounds the im2col block.
 */
export const conv2DOptions: { route: 'auto' | 'pointwise' | 'xnnpack'; chunkFloats: number } = { route: 'auto', chunkFloats: 1 << 22 };

/** The geometry of x * filter when it takes the GEMM route, else undefined. */
function gemmGeometry(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.NamedAttrMap): ConvGeometry | undefined {
  if (conv2DOptions.route === 'xnnpack' || x.dtype !== 'float32' || filter.dtype !== 'float32') return undefined;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return undefined;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') return undefined;
  if (filter.shape[2] !== x.shape[3]) return undefined; // let the shipped kernel report it
  let info: tf.backend_util.Conv2DInfo;
  try {
    info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
  } catch {
    return undefined; // invalid attributes: the shipped kernel raises tfjs's own error
  }
  const g: ConvGeometry = {
    b: info.batchSize, h: info.inHeight, w: info.inWidth, ci: info.inChannels, ho: info.outHeight, wo: info.outWidth, co: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
  if (conv2DOptions.route === 'pointwise') {
    const identity = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0 && g.ho === g.h && g.wo === g.w;
    if (!identity) return undefined;
  }
  return g;
}

function viaGemm(backend: BackendWasm, x: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const out = backend.makeOutput([g.b, g.ho, g.wo, g.co], 'float32');
  if (g.b * g.ho * g.wo * g.co === 0) return out;
  const k = g.kh * g.kw * g.ci;
  // views taken after makeOutput (which may grow the heap)
  conv2dForward(heapF32(backend, x), heapF32(backend, filter), g, Math.max(16, Math.floor(conv2DOptions.chunkFloats / k)), heapF32(backend, out));
  return out;
}

function conv2D(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const g = gemmGeometry(x, filter, args.attrs ?? {});
  if (g === undefined) return runShipped('Conv2D', args.backend, args.inputs, args.attrs);
  return viaGemm(args.backend as BackendWasm, x, filter, g);
}

function fusedConv2D(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = (args.attrs ?? {}) as { activation?: Activation; leakyreluAlpha?: number };
  const g = gemmGeometry(x, filter, args.attrs ?? {});
  if (g === undefined) return runShipped('FusedConv2D', args.backend, args.inputs, args.attrs);
  const backend = args.backend as BackendWasm;
  return biasAndActivate(backend, viaGemm(backend, x, filter, g), bias ?? undefined, attrs, preluActivationWeights ?? undefined, 'FusedConv2D');
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
