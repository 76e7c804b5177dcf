/**
 * DepthwiseConv2dNativeBackpropInput for `wasm`, which ships none (tf.grad of depthwiseConv2d fails without it).
 *
 * dx[b, i, j, c] = sum of dy[b, oh, ow, c*M + m] * w[kh, kw, c, m] over m and over oh*s + kh*d - padTop = i,
 * ow*s + kw*d - padLeft = j. That is a stride-1 depthwise conv, at the forward dilation, of dy (zero-inserted when
 * s > 1, padded) with the spatially flipped filter, run by XNNPACK through the shipped DepthwiseConv2dNative on the
 * C*M channels of dy with multiplier 1; a channel multiplier M > 1 then sums each group of M channels.
 * Why not the polyphase split used for Conv2DBackpropInput: XNNPACK's SIMD depthwise kernels exist only for 1, 4, 9
 * and 25 taps, and a stride-2 phase of a 3x3 filter has 2 taps. For the same reason the flipped filter is padded
 * with zero taps up to the next such tile (2x1 -> 2x2, 4x4 -> 5x5); filters beyond 5x5 (7x7) take the slower
 * generic path. With stride 1 and non-negative pads, dy is passed as is and XNNPACK pads it.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runShipped } from './shipped.js';
import { convInfoForDy, depthwiseTile, free, heapF32 } from './conv-util.js';

const OP = 'depthwiseConv2dNativeBackpropInput';

function depthwiseConv2dNativeBackpropInput(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  if (dy.shape.length !== 4 || filter.shape.length !== 4) {
    throw new Error(`${OP}: dy and filter must be rank 4 but have shapes [${dy.shape.join(', ')}] and [${filter.shape.join(', ')}].`);
  }
  const [kh, kw, c, mult] = filter.shape as [number, number, number, number];
  if (inputShape[3] !== c) throw new Error(`${OP}: inputShape[3] is ${inputShape[3]} but filter has ${c} input channels.`);
  if (dy.shape[3] !== c * mult) {
    throw new Error(`${OP}: dy has ${dy.shape[3]} channels but filter [${filter.shape.join(', ')}] gives ${c * mult}.`);
  }
  const info = convInfoForDy(OP, dy.shape, dimRoundingMode, pad, (r) =>
    tf.backend_util.computeConv2DInfo(inputShape, [kh, kw, c, mult], strides, dilations ?? 1, pad, r, true));
  const { batchSize: b, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const cm = c * mult;
  const [th, tw] = depthwiseTile(kh, kw);

  // Flipped filter on a th x tw tile, [th, tw, C*M, 1]: tap (a, e) holds w[kh-1-a, kw-1-e] (zero past the filter).
  const flipped = backend.makeOutput([th, tw, cm, 1], 'float32');
  {
    const src = heapF32(backend, filter);
    const dst = heapF32(backend, flipped);
    dst.fill(0);
    for (let a = 0; a < kh; a++) {
      for (let e = 0; e < kw; e++) {
        const s0 = ((kh - 1 - a) * kw + (kw - 1 - e)) * cm;
        dst.set(src.subarray(s0, s0 + cm), (a * tw + e) * cm);
      }
    }
  }
  // Padded (zero-inserted) dy: row o lands at padTop + o*s, and the conv reads rows i + a*d for output row i.
  const padTop = (kh - 1) * dh - info.padInfo.top;
  const padLeft = (kw - 1) * dw - info.padInfo.left;
  const hz = h + (th - 1) * dh;
  const wz = w + (tw - 1) * dw;
  const padBottom = hz - ((ho - 1) * sh + 1) - padTop;
  const padRight = wz - ((wo - 1) * sw + 1) - padLeft;

  let conv: tf.TensorInfo;
  const dwAttrs = { strides: 1, dilations: [dh, dw] };
  if (sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
    conv = runShipped('DepthwiseConv2dNative', backend, { x: dy, filter: flipped }, {
      ...dwAttrs, pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
    });
  } else {
    const z = backend.makeOutput([b, hz, wz, cm], 'float32');
    const zv = heapF32(backend, z);
    const dv = heapF32(backend, dy);
    zv.fill(0);
    for (let n = 0; n < b; n++) {
      for (let oh = 0; oh < ho; oh++) {
        const u = padTop + oh * sh;
        if (u < 0 || u >= hz) continue;
        for (let ow = 0; ow < wo; ow++) {
          const v = padLeft + ow * sw;
          if (v < 0 || v >= wz) continue;
          const s0 = ((n * ho + oh) * wo + ow) * cm;
          const d0 = ((n * hz + u) * wz + v) * cm;
          if (cm >= 16) zv.set(dv.subarray(s0, s0 + cm), d0);
          else for (let k = 0; k < cm; k++) zv[d0 + k] = dv[s0 + k]!;
        }
      }
    }
    conv = runShipped('DepthwiseConv2dNative', backend, { x: z, filter: flipped }, { ...dwAttrs, pad: 'valid' });
    free(backend, z);
  }
  free(backend, flipped);
  if (mult === 1) return conv;

  // Channel multiplier: dx[..., c] = sum over m of conv[..., c*M + m].
  const out = backend.makeOutput([b, h, w, c], 'float32');
  const src = heapF32(backend, conv);
  const dst = heapF32(backend, out);
  for (let p = 0, q = 0; p < dst.length; p++) {
    let s = 0;
    for (let m = 0; m < mult; m++) s += src[q++]!;
    dst[p] = s;
  }
  free(backend, conv);
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as tf.KernelFunc,
};
