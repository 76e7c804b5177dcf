/**
 * Conv2DBackpropInput for `wasm`, replacing the shipped one (a scalar C++ loop at about 3 GFLOP/s) with XNNPACK's
 * forward Conv2D at about 30.
 *
 * dx is the transposed convolution of dy: dx[b, i, j, ci] = sum of dy[b, oh, ow, co] * w[kh, kw, ci, co] over
 * oh*s + kh - padTop = i and ow*s + kw - padLeft = j. Stride 1 is one forward conv of dy with the spatially flipped
 * filter, in/out channels swapped, with the padding passed to XNNPACK (no padded copy). Stride s > 1 is split into
 * s*s phases instead of zero-inserting dy (which would waste s*s of the multiply-adds): output rows with
 * (i + padTop) mod s == r only meet the filter taps r, r+s, r+2s, ..., so each phase is a stride-1 conv of the
 * original dy with that sub-filter, and its output is scattered into dx with stride s (see conv-util `phases`).
 * Shapes, pads and rounding follow tf.backend_util.computeConv2DInfo exactly.
 *
 * For float32, most cases take a GEMM route instead (csrc/gemm.c conv2d_input_grad): the columns
 * dy [B*Ho*Wo, Co] @ W^T [Co, kh*kw*Ci] (the HWIO filter read as [kh*kw*Ci, Co], transposed by the GEMM's packing)
 * are formed at most `colLimitBytes` (16 MiB) at a time and added into dx by col2im; a 1x1 filter at stride 1
 * without padding is that GEMM written straight into dx. XNNPACK loses mostly because every call brings a new
 * filter tensor, whose weights it packs again (a 3x3 512->512 conv on 2x7x7 takes 18.9 ms
 * with a filter it has seen and 41.4 ms with a fresh one; 2x56x56 64->64: 17.0 vs 17.3 ms). Measured per ResNet-50
 * shape, batch 2, 'same' padding, median of 5, 2-core Xeon, Node 20, both single-threaded,
 * XNNPACK route -> GEMM route:
 *   1x1 s1 x=[2,56,56,256] co=64 .. x=[2,7,7,2048] co=512   8.8-27 -> 6.6-9.5 ms (7.6-23 -> 22-31 GFLOP/s)
 *   1x1 s2 x=[2,56,56,256] .. [2,14,14,1024]                 20-60 -> 14-15 ms (6.8-20 -> 27-29 GFLOP/s)
 *   3x3 s1 x=[2,56,56,64] .. [2,7,7,512]                     19-79 -> 15-18 ms (5.8-24 -> 26-30 GFLOP/s)
 *   3x3 s2 x=[2,56,56,128] .. [2,14,14,512]                  24-52 -> 15-19 ms (8.8-19 -> 25-30 GFLOP/s)
 *   7x7 s2 x=[2,224,224,3] co=64                             91 -> 26 ms
 * With few output channels (3x3, Co = 8-24) XNNPACK measured up to 1.3x faster, so those keep the XNNPACK route
 * (see useGemm); with Co = 32 the GEMM route was faster again.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runShipped } from './shipped.js';
import { conv2dInputGrad } from './gemm.js';
import { assertNHWC, convInfoForDy, free, heapF32, pair, phases, type Phase } from './conv-util.js';

const OP = 'conv2DBackpropInput';

/**
 * Knobs, exported for tests and benchmarks: the bound on the column buffer (bytes), and the route for float32
 * inputs ('auto' as measured, see useGemm; 'gemm' or 'conv' force one).
 */
export const conv2DBackpropInputOptions: { colLimitBytes: number; route: 'auto' | 'gemm' | 'conv' } = {
  colLimitBytes: 16 * 2 ** 20,
  route: 'auto',
};

/**
 * Whether the GEMM route is taken: always for 1x1 filters, and for larger ones once Co >= 32. The GEMM's depth is
 * Co while XNNPACK's is kh*kw*Co, so with few output channels (Co = 8-24, 3x3) XNNPACK measured up to 1.3x faster.
 */
function useGemm(kh: number, kw: number, co: number): boolean {
  const route = conv2DBackpropInputOptions.route;
  if (route !== 'auto') return route === 'gemm';
  return kh * kw === 1 || co >= 32;
}

function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  assertNHWC(OP, dataFormat);
  const [dh, dw] = pair(attrs.dilations, OP, 'dilations');
  if (dh !== 1 || dw !== 1) throw new Error(`${OP}: dilations must be 1 but are [${dh}, ${dw}] (tfjs has no dilated conv2d input gradient).`);
  if (dy.shape.length !== 4 || filter.shape.length !== 4) {
    throw new Error(`${OP}: dy and filter must be rank 4 but have shapes [${dy.shape.join(', ')}] and [${filter.shape.join(', ')}].`);
  }
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  if (inputShape[3] !== ci) throw new Error(`${OP}: inputShape[3] is ${inputShape[3]} but filter has ${ci} input channels.`);
  if (dy.shape[3] !== co) throw new Error(`${OP}: dy has ${dy.shape[3]} channels but filter has ${co} output channels.`);
  const info = convInfoForDy(OP, dy.shape, dimRoundingMode, pad, (r) =>
    tf.backend_util.computeConv2DInfo(inputShape, [kh, kw, ci, co], strides, 1, pad, r, false, 'channelsLast'));
  const { batchSize: b, inHeight: h, inWidth: w, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  if (dy.dtype === 'float32' && filter.dtype === 'float32' && useGemm(kh, kw, co)) {
    const out = backend.makeOutput([b, h, w, ci], 'float32');
    if (b * h * w * ci === 0) return out;
    const k = kh * kw * ci;
    const chunk = Math.max(1, Math.floor(conv2DBackpropInputOptions.colLimitBytes / (4 * Math.max(1, k))));
    // views taken after makeOutput (which may grow the heap); the GEMM module has its own memory
    conv2dInputGrad(
      heapF32(backend, dy), heapF32(backend, filter),
      { b, h, w, ci, ho, wo, co, kh, kw, sh, sw, dh: 1, dw: 1, padTop: info.padInfo.top, padLeft: info.padInfo.left },
      chunk, heapF32(backend, out),
    );
    return out;
  }

  const rows = phases(kh, sh, info.padInfo.top, h, ho);
  const cols = phases(kw, sw, info.padInfo.left, w, wo);

  // One phase whose conv output is dx itself: write straight into the result.
  const only = rows.length === 1 && cols.length === 1 ? [rows[0]!, cols[0]!] as const : undefined;
  if (only !== undefined && only[0].padLo >= 0 && only[0].padHi >= 0 && only[1].padLo >= 0 && only[1].padHi >= 0) {
    return phaseConv(backend, dy, filter, only[0], only[1], sh, sw);
  }

  const out = backend.makeOutput([b, h, w, ci], 'float32');
  if (rows.some((p) => p.taps === 0 && p.count > 0) || cols.some((p) => p.taps === 0 && p.count > 0)) {
    heapF32(backend, out).fill(0); // rows/columns that no filter tap reaches (filter smaller than the stride)
  }
  for (const pr of rows) {
    for (const pc of cols) {
      if (pr.taps === 0 || pc.taps === 0 || pr.count === 0 || pc.count === 0) continue;
      const y = phaseConv(backend, dy, filter, pr, pc, sh, sw);
      scatter(heapF32(backend, y), y.shape, heapF32(backend, out), [h, w, ci], pr, pc, sh, sw, info.padInfo.top, info.padInfo.left);
      free(backend, y);
    }
  }
  return out;
}

/**
 * Stride-1 conv of dy with the phase's flipped sub-filter [taps_h, taps_w, Co, Ci]. Negative pads are clamped to 0,
 * which only adds leading rows that scatter() skips.
 */
function phaseConv(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, pr: Phase, pc: Phase, sh: number, sw: number): tf.TensorInfo {
  const [, kw, ci, co] = filter.shape as [number, number, number, number];
  const th = pr.taps;
  const tw = pc.taps;
  const sub = backend.makeOutput([th, tw, co, ci], 'float32');
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, sub);
  for (let a = 0; a < th; a++) {
    const fh = pr.r + sh * (th - 1 - a);
    for (let c = 0; c < tw; c++) {
      const fw = pc.r + sw * (tw - 1 - c);
      const s0 = (fh * kw + fw) * ci * co;
      const d0 = (a * tw + c) * co * ci;
      for (let i = 0; i < ci; i++) {
        const s = s0 + i * co;
        for (let o = 0; o < co; o++) dst[d0 + o * ci + i] = src[s + o]!;
      }
    }
  }
  const y = runShipped(
    'Conv2D', backend, { x: dy, filter: sub },
    {
      strides: 1,
      pad: [[0, 0], [Math.max(pr.padLo, 0), Math.max(pr.padHi, 0)], [Math.max(pc.padLo, 0), Math.max(pc.padHi, 0)], [0, 0]],
      dilations: 1,
      dataFormat: 'NHWC',
    },
  );
  free(backend, sub);
  return y;
}

/** dx[b, (qMin + j) * s + r - pad, ...] = y[b, j + skip, ...] for the j < count of each axis. */
function scatter(
  y: Float32Array, yShape: number[], dx: Float32Array, [h, w, ci]: [number, number, number],
  pr: Phase, pc: Phase, sh: number, sw: number, padTop: number, padLeft: number,
): void {
  const [b, yh, yw] = yShape as [number, number, number, number];
  const skipH = Math.max(0, -pr.padLo);
  const skipW = Math.max(0, -pc.padLo);
  for (let n = 0; n < b; n++) {
    for (let j = 0; j < pr.count; j++) {
      const i = (pr.qMin + j) * sh + pr.r - padTop;
      const yRow = ((n * yh + j + skipH) * yw + skipW) * ci;
      const dRow = (n * h + i) * w;
      for (let k = 0; k < pc.count; k++) {
        const col = (pc.qMin + k) * sw + pc.r - padLeft;
        const ys = yRow + k * ci;
        const ds = (dRow + col) * ci;
        if (ci >= 16) dx.set(y.subarray(ys, ys + ci), ds);
        else for (let c = 0; c < ci; c++) dx[ds + c] = y[ys + c]!;
      }
    }
  }
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
