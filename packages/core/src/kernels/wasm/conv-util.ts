/**
 * Small helpers shared by the convolution-gradient kernels in this folder: heap views, freeing temporaries,
 * the NHWC check, and the polyphase split of a strided transposed convolution.
 *
 * Heap views must be taken after the last allocation that precedes their use: any malloc on the wasm heap
 * (makeOutput, a shipped kernel) may grow the memory and detach earlier views.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** A Float32Array view of a tensor's data on the wasm heap (valid until the next allocation). */
export function heapF32(backend: BackendWasm, t: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** Frees temporaries made inside a kernel (never pass the kernel's inputs). */
export function free(backend: BackendWasm, ...ts: tf.TensorInfo[]): void {
  for (const t of ts) backend.disposeData(t.dataId);
}

export function assertNHWC(op: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${op}: dataFormat is '${dataFormat}' but the wasm backend supports only 'NHWC'.`);
  }
}

export function pair(v: number | [number, number] | undefined, op: string, name: string): [number, number] {
  if (v === undefined) return [1, 1];
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!(p[0] >= 1 && p[1] >= 1 && Number.isInteger(p[0]) && Number.isInteger(p[1]))) {
    throw new Error(`${op}: ${name} must be positive integers but is [${p.join(', ')}].`);
  }
  return p;
}

/**
 * computeConv2DInfo with the dy shape checked. tfjs's conv2d/depthwise gradients drop dimRoundingMode when they
 * call the backprop ops, so with a numeric pad and no rounding mode a dy that only fits 'ceil' or 'round' is taken
 * to mean that mode (the gradient of the forward conv that made dy) rather than rejected.
 */
export function convInfoForDy(
  op: string, dyShape: readonly number[], rounding: 'floor' | 'round' | 'ceil' | undefined, pad: unknown,
  compute: (rounding: 'floor' | 'round' | 'ceil' | undefined) => tf.backend_util.Conv2DInfo,
): tf.backend_util.Conv2DInfo {
  const info = compute(rounding);
  if (rounding === undefined && typeof pad === 'number' && !sameShape(dyShape, info.outShape)) {
    for (const r of ['ceil', 'round'] as const) {
      const alt = compute(r);
      if (sameShape(dyShape, alt.outShape)) return alt;
    }
  }
  assertShape(op, 'dy shape', dyShape, info.outShape);
  return info;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function assertShape(op: string, what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new Error(`${op}: ${what} is [${actual.join(', ')}] but the convolution implies [${expected.join(', ')}].`);
  }
}

/**
 * One output phase (along one axis) of a transposed convolution with stride s, pad p and filter size k, in the
 * polyphase form: input rows i with (i + p) mod s == r receive dy[q - m] * w[r + s*m] for m < taps, where
 * q = (i + p - r) / s. As a stride-1 convolution of dy with the flipped sub-filter, output row j (j < count)
 * is input row i = (qMin + j) * s + r - p and reads dy starting at row qMin + j - (taps - 1), so dy is padded by
 * padLo before and padHi after (either may be negative: then rows are skipped).
 */
export interface Phase {
  r: number;
  taps: number;
  qMin: number;
  count: number;
  padLo: number;
  padHi: number;
}

export function phases(k: number, s: number, p: number, inSize: number, outSize: number): Phase[] {
  const list: Phase[] = [];
  for (let r = 0; r < s; r++) {
    const taps = r < k ? Math.ceil((k - r) / s) : 0;
    const qMin = Math.ceil((p - r) / s);
    const qMax = Math.floor((inSize - 1 + p - r) / s);
    const count = Math.max(0, qMax - qMin + 1);
    const padLo = taps - 1 - qMin;
    const padHi = count + taps - 1 - outSize - padLo;
    list.push({ r, taps, qMin, count, padLo, padHi });
  }
  return list;
}

/**
 * XNNPACK (as built into tfjs-backend-wasm 4.22) runs depthwise convolutions with a SIMD kernel only when the
 * filter has exactly 1, 4, 9 or 25 taps; any other size falls back to a grouped GEMM about 5-10x slower
 * (measured: 3x3 10 GFLOP/s, 2x1 0.5, 4x4 1.8). Returns the smallest such tile that holds kh x kw, or the
 * filter itself when none does.
 */
export function depthwiseTile(kh: number, kw: number): [number, number] {
  const tiles: [number, number][] = [[1, 1], [2, 2], [1, 4], [4, 1], [3, 3], [1, 9], [9, 1], [5, 5], [1, 25], [25, 1]];
  for (const [th, tw] of tiles) if (th >= kh && tw >= kw) return [th, tw];
  return [kh, kw];
}
