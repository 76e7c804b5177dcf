/**
 * Conv2DBackpropFilter for `wasm`, which ships none (tf.grad of conv2d wrt its filter fails without it).
 *
 * dW[kh, kw, ci, co] = sum over (b, oh, ow) of x[b, oh*s + kh*d - padTop, ow*s + kw*d - padLeft, ci] * dy[b, oh, ow, co].
 * That contraction is itself a forward convolution once the batch becomes the channel axis (js-runtime.md §1.5):
 * x^T [Ci, H, W, B] convolved with dy^T [Ho, Wo, B, Co] as the filter, at dilation = the forward stride and stride =
 * the forward dilation, gives [Ci, kh, kw, Co]; so XNNPACK's Conv2D does the work and the padding is passed to it
 * (no padded copy). 1x1 filters at stride 1 without padding are a plain matmul x^T [Ci, N] @ dy [N, Co] on our GEMM
 * (transposeA read as strides, no transpose copy), faster than the conv form for them. It does not use the shipped
 * BatchMatMul: that caches packed operands by tensor id, and tfjs's Reshape shares ids across shapes.
 * tfjs's conv2d gradient never passes dilations here; an optional `dilations` attr is honoured anyway.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runShipped } from './shipped.js';
import { gemmMatMul } from './BatchMatMul.js';
import { assertNHWC, convInfoForDy, free, pair } from './conv-util.js';

const OP = 'conv2DBackpropFilter';

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  assertNHWC(OP, dataFormat);
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`${OP}: x and dy must be rank 4 (NHWC) but have shapes [${x.shape.join(', ')}] and [${dy.shape.join(', ')}].`);
  }
  const [kh, kw, ci, co] = filterShape;
  if (x.shape[3] !== ci) throw new Error(`${OP}: x has ${x.shape[3]} channels but filterShape[2] is ${ci}.`);
  if (dy.shape[3] !== co) throw new Error(`${OP}: dy has ${dy.shape[3]} channels but filterShape[3] is ${co}.`);
  const [dh, dw] = pair(attrs.dilations, OP, 'dilations');
  const info = convInfoForDy(OP, dy.shape, dimRoundingMode, pad, (r) =>
    tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, [dh, dw], pad, r, false, 'channelsLast'));
  const { batchSize: b, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;

  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && ho === h && wo === w) {
    return pointwise(backend, x, dy, b * h * w, ci, co, filterShape);
  }

  // x^T [Ci, H, W, B]; dy^T [Ho, Wo, B, Co]
  const xT = runShipped('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
  const dyT = runShipped('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  // Output row kh of the trick conv reads padded row kh*dh + oh*sh: its stride is dh, its dilation sh. Pad the
  // bottom only as far as row kh-1 needs (rows past it would be wasted work); negative means rows are left over.
  const bottom = Math.max(0, (kh - 1) * dh + (ho - 1) * sh + 1 - h - top);
  const right = Math.max(0, (kw - 1) * dw + (wo - 1) * sw + 1 - w - left);
  const conv = runShipped(
    'Conv2D', backend, { x: xT, filter: dyT },
    { strides: [dh, dw], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dilations: [sh, sw], dataFormat: 'NHWC' },
  );
  free(backend, xT, dyT);
  let kernel = conv; // [Ci, >=kh, >=kw, Co]
  if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
    kernel = runShipped('Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
    free(backend, conv);
  }
  const out = runShipped('Transpose', backend, { x: kernel }, { perm: [1, 2, 0, 3] });
  free(backend, kernel);
  return out;
}

/** dW [1, 1, Ci, Co] = x^T [Ci, N] @ dy [N, Co] on our GEMM, reading x [N, Ci] with transposeA. */
function pointwise(
  backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, n: number, ci: number, co: number, filterShape: number[],
): tf.TensorInfo {
  // row-major views of the same data: the GEMM reads by dataId and shape, so no reshape tensors are made
  const prod = gemmMatMul(backend, { dataId: x.dataId, shape: [n, ci], dtype: x.dtype }, { dataId: dy.dataId, shape: [n, co], dtype: dy.dtype }, true, false, 'Conv2DBackpropFilter');
  const out = runShipped('Reshape', backend, { x: prod }, { shape: filterShape });
  free(backend, prod);
  return out;
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
