/**
 * MaxPoolGrad for wasm, replacing the shipped one, which drops the gradient of every window whose maximum is
 * negative (it starts its running maximum at 0: on a 4x4 map of normal noise, pooled 2x2, two of the four windows
 * got no gradient). Networks that pool after a ReLU never see negative maxima, which is how it went unnoticed;
 * pooling raw features (heads, the MIM branch) does.
 *
 * dx[n, y, x, c] = sum of dy over the output cells whose window takes its maximum at (y, x); the maximum is the
 * first one in row-major window order (as tfjs's cpu kernel, PyTorch and onnxruntime's MaxPool indices), padding
 * never wins. A JS loop on the wasm heap: one pass over the windows, channels innermost.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const a = (args.attrs ?? {}) as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const backend = args.backend as BackendWasm;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const out = backend.makeOutput([...input.shape], 'float32');
  // views after makeOutput, which may grow the heap; its memory is not zeroed
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  dx.fill(0);
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  // channels innermost, so every read is contiguous: per window, a running maximum and its index per channel,
  // updated tap by tap in row-major window order (the same first maximum as the per-channel scan)
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = oy * sh - top;
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = ox * sw - left;
        const gBase = ((n * Ho + oy) * Wo + ox) * C;
        at.fill(-1);
        for (let fy = 0; fy < kh; fy++) {
          const yy = y0 + fy;
          if (yy < 0 || yy >= H) continue;
          for (let fx = 0; fx < kw; fx++) {
            const xx = x0 + fx;
            if (xx < 0 || xx >= W) continue;
            const base = ((n * H + yy) * W + xx) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c]!;
              if (v > best[c]! || at[c]! < 0) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) if (at[c]! >= 0) dx[at[c]!]! += g[gBase + c]!;
      }
    }
  }
  return out;
}

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
