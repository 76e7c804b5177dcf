/**
 * DepthwiseConv2dNativeBackpropFilter for `wasm`, which ships none (tf.grad of depthwiseConv2d fails without it).
 *
 * dW[kh, kw, c, m] = sum over (b, oh, ow) of x[b, oh*s + kh*d - padTop, ow*s + kw*d - padLeft, c] * dy[b, oh, ow, c*M + m].
 * Each channel is its own contraction, so there is no GEMM to hand to XNNPACK: the batch-as-channels trick of
 * Conv2DBackpropFilter would compute all C x C channel pairs and keep the diagonal, and the shipped depthwise conv
 * with dy as a (huge) filter falls off XNNPACK's 1/4/9/25-tap SIMD kernels onto a grouped GEMM at ~1 GFLOP/s.
 * It is one pass in JS instead, over the wasm heap: for each (b, oh) row and filter tap, the sum over ow is kept
 * in registers for four channels at a time (about 3x faster than accumulating in memory), then added to a float64
 * accumulator (so long sums over b*Ho*Wo stay exact to float32).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfoForDy, heapF32 } from './conv-util.js';

const OP = 'depthwiseConv2dNativeBackpropFilter';

function depthwiseConv2dNativeBackpropFilter(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`${OP}: x and dy must be rank 4 (NHWC) but have shapes [${x.shape.join(', ')}] and [${dy.shape.join(', ')}].`);
  }
  const [kh, kw, c, mult] = filterShape;
  if (x.shape[3] !== c) throw new Error(`${OP}: x has ${x.shape[3]} channels but filterShape[2] is ${c}.`);
  if (dy.shape[3] !== c * mult) {
    throw new Error(`${OP}: dy has ${dy.shape[3]} channels but filterShape [${filterShape.join(', ')}] gives ${c * mult}.`);
  }
  const info = convInfoForDy(OP, dy.shape, dimRoundingMode, pad, (r) =>
    tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, dilations ?? 1, pad, r, true));
  const { batchSize: b, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const cm = c * mult;

  const acc = new Float64Array(kh * kw * cm);
  const out = backend.makeOutput([kh, kw, c, mult], 'float32');
  const xv = heapF32(backend, x);
  const dv = heapF32(backend, dy);
  // Output columns ow whose input column ow*sw + kw*dw - left lies inside [0, w), per filter column.
  const owLo = new Int32Array(kw);
  const owHi = new Int32Array(kw);
  for (let e = 0; e < kw; e++) {
    owLo[e] = Math.max(0, Math.ceil((left - e * dw) / sw));
    owHi[e] = Math.min(wo, Math.floor((w - 1 + left - e * dw) / sw) + 1);
  }
  for (let n = 0; n < b; n++) {
    for (let oh = 0; oh < ho; oh++) {
      const dyRow = (n * ho + oh) * wo;
      for (let a = 0; a < kh; a++) {
        const ih = oh * sh + a * dh - top;
        if (ih < 0 || ih >= h) continue;
        const xRow = (n * h + ih) * w;
        for (let e = 0; e < kw; e++) {
          const base = (a * kw + e) * cm;
          const hi = owHi[e]!;
          const lo = owLo[e]!;
          if (lo >= hi) continue;
          const x0 = (xRow + lo * sw + e * dw - left) * c;
          const y0 = (dyRow + lo) * cm;
          const xStep = sw * c;
          // Sum over ow in registers, four channels at a time (V8 does not vectorise; this halves memory traffic).
          let j = 0;
          if (mult === 1) {
            for (; j + 4 <= c; j += 4) {
              let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
              for (let ow = lo, xo = x0 + j, yo = y0 + j; ow < hi; ow++, xo += xStep, yo += cm) {
                s0 += xv[xo]! * dv[yo]!;
                s1 += xv[xo + 1]! * dv[yo + 1]!;
                s2 += xv[xo + 2]! * dv[yo + 2]!;
                s3 += xv[xo + 3]! * dv[yo + 3]!;
              }
              acc[base + j] += s0;
              acc[base + j + 1] += s1;
              acc[base + j + 2] += s2;
              acc[base + j + 3] += s3;
            }
          }
          for (; j < cm; j++) {
            let s0 = 0;
            const xj = x0 + Math.floor(j / mult);
            for (let ow = lo, xo = xj, yo = y0 + j; ow < hi; ow++, xo += xStep, yo += cm) s0 += xv[xo]! * dv[yo]!;
            acc[base + j] += s0;
          }
        }
      }
    }
  }
  heapF32(backend, out).set(acc);
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as tf.KernelFunc,
};
