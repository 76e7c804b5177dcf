/**
 * Conv2DBackpropFilter for `wasm`, which ships none (tf.grad of conv2d wrt its filter fails without it).
 *
 * dW[kh, kw, ci, co] = sum over (b, oh, ow) of x[b, oh*s + kh*d - padTop, ow*s + kw*d - padLeft, ci] * dy[b, oh, ow, co],
 * i.e. dW [kh*kw*Ci, Co] = im2col(x)^T [kh*kw*Ci, B*Ho*Wo] @ dy [B*Ho*Wo, Co]. Every float32 case runs that on our
 * SIMD GEMM (csrc/gemm.c conv2d_filter_grad): the im2col matrix is built in the GEMM module's memory in chunks of
 * about 1 MiB (at least 256 rows, at most `im2colLimitBytes`, 64 MiB; see im2colChunkRows) and the chunks' products
 * are accumulated; a 1x1 filter at stride 1 without padding uses x itself. Dilations are honoured (tfjs's conv2d
 * gradient never passes them here).
 *
 * The older route, kept as `route: 'conv'` for comparison and for non-float32 inputs, turns the contraction into a
 * forward convolution for XNNPACK once the batch becomes the channel axis (js-runtime.md §1.5): x^T [Ci, H, W, B]
 * convolved with dy^T [Ho, Wo, B, Co] as the filter, at dilation = the forward stride and stride = the forward
 * dilation, gives [Ci, kh, kw, Co]. With B = 2 channels that conv is a poor fit for XNNPACK.
 *
 * Measured per ResNet-50 shape, batch 2, 'same' padding, median of 5, 2-core Xeon, Node 20, both single-threaded,
 * conv route -> im2col + GEMM:
 *   7x7 s2 x=[2,224,224,3] co=64            41.6 -> 18 ms   (11 -> 26 GFLOP/s)
 *   3x3 s1 x=[2,56,56,64] .. [2,7,7,512]    30-34 -> 15-17 ms (13-15 -> 27-31 GFLOP/s)
 *   3x3 s2 x=[2,56,56,128] .. [2,14,14,512] 31-36 -> 15-16 ms (13-15 -> 28-31 GFLOP/s)
 *   1x1 s2 x=[2,56,56,256] .. [2,14,14,1024] 92-121 -> 13-14 ms (3.4-4.5 -> 29-31 GFLOP/s)
 *   1x1 s1 (already a GEMM before)          6.7-7.7 ms either way (27-31 GFLOP/s)
 * Small shapes (Co 2-64, Ci 3-64, 5x5) also measured faster or equal on im2col + GEMM (worst: Co=8, equal). At
 * batch 8 (x=[8,56,56,64] 3x3, [8,224,224,3] 7x7, [8,56,56,128] 3x3 s2): 65-75 ms (25-29 GFLOP/s) against the conv
 * route's 130-146 ms; chunks of 256 rows to 2 MiB were equally fast there, 16-64 MiB chunks up to 15% slower.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runShipped } from './shipped.js';
import { conv2dFilterGrad } from './gemm.js';
import { assertNHWC, convInfoForDy, free, heapF32, pair } from './conv-util.js';

const OP = 'conv2DBackpropFilter';

/**
 * Knobs, exported for tests and benchmarks: the im2col chunk size aimed at and the hard bound on it (bytes), and
 * the route for float32 inputs ('im2col', measured faster for every case class, see the header; 'conv' forces the
 * XNNPACK route).
 */
export const conv2DBackpropFilterOptions: { im2colTargetBytes: number; im2colLimitBytes: number; route: 'im2col' | 'conv' } = {
  im2colTargetBytes: 2 ** 20,
  im2colLimitBytes: 64 * 2 ** 20,
  route: 'im2col',
};

/**
 * Output pixels (im2col rows) per chunk for k = kh*kw*Ci columns: about `targetBytes` of columns (a cache-sized
 * block), in whole multiples of the GEMM's depth block (256 rows) so that chunking adds no passes over dW, but
 * never more than `limitBytes`.
 */
export function im2colChunkRows(k: number, targetBytes: number, limitBytes: number): number {
  const byTarget = Math.max(256, Math.floor(targetBytes / (4 * k) / 256) * 256);
  const byLimit = Math.max(1, Math.floor(limitBytes / (4 * k)));
  return Math.min(byTarget, byLimit);
}

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

  if (conv2DBackpropFilterOptions.route === 'im2col' && x.dtype === 'float32' && dy.dtype === 'float32') {
    const out = backend.makeOutput(filterShape, 'float32');
    const k = kh * kw * ci;
    if (k * co === 0) return out;
    // views taken after makeOutput (which may grow the heap); the GEMM module has its own memory
    conv2dFilterGrad(
      heapF32(backend, x), heapF32(backend, dy),
      { b, h, w, ci, ho, wo, co, kh, kw, sh, sw, dh, dw, padTop: top, padLeft: left },
      im2colChunkRows(k, conv2DBackpropFilterOptions.im2colTargetBytes, conv2DBackpropFilterOptions.im2colLimitBytes),
      heapF32(backend, out),
    );
    return out;
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

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
