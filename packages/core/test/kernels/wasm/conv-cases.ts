/**
 * Shared plumbing for the convolution-gradient kernel tests: run the same computation on `cpu` (tfjs's JS
 * reference kernels) and on `wasm` (our kernels, through initBackend) and compare; plus an independent reference
 * for what the cpu kernels ignore (dilations in gradients): the adjoint of the forward conv, built one basis
 * vector at a time from cpu forward convolutions.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
export type Rounding = 'floor' | 'round' | 'ceil';

export function padName(pad: Pad): string {
  if (typeof pad === 'string') return pad;
  if (typeof pad === 'number') return String(pad);
  return `[${pad.map((p) => p.join(',')).join(' ')}]`;
}

export function shapeName(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

export const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Runs `f` on cpu then wasm and expects every output close at 1e-4 relative to its scale. */
export async function expectSameOnBackends(f: () => tf.Tensor | tf.Tensor[], rtol = 1e-4): Promise<void> {
  const expected = await onBackend('cpu', f);
  const actual = await onBackend('wasm', f);
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expectClose(actual[i]!, e, rtol, 1e-6, `output ${i}`));
}

/** Seeded tensor with values in [-1, 1). */
export function rand(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomArray(size(shape), seed), shape);
}

/**
 * Reference gradients of sum(forward(x, w) * dy) by linearity, on cpu: entry j of the input gradient is
 * <forward(e_j, w), dy> (all basis images at once, as a batch), entry j of the filter gradient <forward(x, e_j), dy>.
 */
export async function adjointReference(
  forward: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  xv: Float32Array, xShape: [number, number, number, number],
  wv: Float32Array, wShape: [number, number, number, number],
  dyv: Float32Array,
): Promise<{ dx: Float32Array; dw: Float32Array }> {
  await initBackend({ backend: 'cpu' });
  const [n, h, wd, c] = xShape;
  const per = h * wd * c;
  const dx = new Float32Array(size(xShape));
  const dw = new Float32Array(size(wShape));
  tf.tidy(() => {
    const w = tf.tensor4d(wv, wShape);
    const basis = tf.reshape(tf.eye(per), [per, h, wd, c]) as tf.Tensor4D;
    const y = forward(basis, w); // [per, ho, wo, co]
    const dyT = tf.tensor(dyv, [n, ...y.shape.slice(1)]);
    for (let b = 0; b < n; b++) {
      const dyb = tf.slice(dyT, [b, 0, 0, 0], [1, -1, -1, -1]);
      const g = tf.sum(tf.mul(y, dyb), [1, 2, 3]).dataSync();
      dx.set(g, b * per);
    }
    const x = tf.tensor4d(xv, xShape);
    for (let j = 0; j < dw.length; j++) {
      const e = new Float32Array(dw.length);
      e[j] = 1;
      dw[j] = tf.sum(tf.mul(forward(x, tf.tensor4d(e, wShape)), dyT)).dataSync()[0]!;
    }
  });
  return { dx, dw };
}

/** tf.memory().numTensors and the wasm backend's data ids, to check that a kernel frees what it makes. */
export function wasmCounts(): { tensors: number; dataIds: number } {
  return { tensors: tf.memory().numTensors, dataIds: tf.backend().numDataIds() };
}

export type S4 = [number, number, number, number];

/** A depthwise case: x NHWC, f [kh, kw, C, multiplier], d = dilations (cpu's backprops ignore them: adjoint reference). */
export interface DwCase { x: S4; f: S4; s: number | [number, number]; pad: Pad; d?: number | [number, number]; round?: Rounding }

export const DEPTHWISE_CASES: DwCase[] = [
  { x: [1, 5, 5, 1], f: [1, 1, 1, 1], s: 1, pad: 'valid' },
  { x: [2, 6, 6, 4], f: [1, 1, 4, 1], s: 2, pad: 'same' },
  { x: [2, 9, 9, 4], f: [3, 3, 4, 1], s: 1, pad: 'same' },
  { x: [2, 9, 9, 4], f: [3, 3, 4, 1], s: 2, pad: 'same' },
  { x: [2, 10, 10, 3], f: [3, 3, 3, 2], s: 2, pad: 'valid' },
  { x: [1, 8, 8, 3], f: [2, 1, 3, 1], s: 1, pad: 'same' },
  { x: [1, 6, 10, 2], f: [1, 6, 2, 1], s: 1, pad: 'same' },
  { x: [1, 11, 11, 2], f: [5, 5, 2, 1], s: 3, pad: 'same' },
  { x: [2, 8, 8, 3], f: [4, 4, 3, 2], s: 1, pad: 'valid' },
  { x: [1, 13, 13, 2], f: [7, 7, 2, 1], s: 2, pad: 'same' },
  { x: [1, 9, 9, 2], f: [7, 7, 2, 3], s: 1, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 1], s: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 7, 7, 2], f: [3, 3, 2, 2], s: 1, pad: [[0, 0], [4, 0], [0, 3], [0, 0]] },
  { x: [2, 8, 7, 3], f: [3, 2, 3, 1], s: [2, 1], pad: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 1], s: 2, pad: 1, round: 'ceil' },
  { x: [3, 10, 10, 16], f: [3, 3, 16, 1], s: 1, pad: 'same' },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 1], s: 1, pad: 'same', d: 2 },
  { x: [1, 11, 10, 2], f: [3, 2, 2, 2], s: 1, pad: 'valid', d: [2, 3] },
];

export function dwName(c: DwCase): string {
  const s = Array.isArray(c.s) ? c.s.join('x') : c.s;
  const d = c.d === undefined ? '' : ` d=${Array.isArray(c.d) ? c.d.join('x') : c.d}`;
  return `x=${shapeName(c.x)} f=${shapeName(c.f)} s=${s}${d} pad=${padName(c.pad)}${c.round ? ` round=${c.round}` : ''}`;
}

export function dwDyShape(c: DwCase): S4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, c.d ?? 1, c.pad, c.round, true).outShape as S4;
}

export function dwForward(c: DwCase): (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D {
  return (x, w) => tf.depthwiseConv2d(x, w, c.s, c.pad, 'NHWC', c.d ?? 1, c.round);
}

/** Whether cpu's reference kernels (which ignore dilations) and tfjs's gradient (which drops rounding) apply. */
export function cpuIsReference(c: DwCase): { kernel: boolean; grad: boolean } {
  const dilated = c.d !== undefined && c.d !== 1;
  return { kernel: !dilated, grad: !dilated && c.round === undefined };
}

/** A conv case for the Conv2D backprop tests: NHWC x, HWIO filter, strides, padding, rounding. */
export interface ConvCase { x: S4; f: S4; s: number | [number, number]; pad: Pad; round?: Rounding }

export function convName(c: ConvCase): string {
  const s = Array.isArray(c.s) ? c.s.join('x') : c.s;
  return `x=${shapeName(c.x)} f=${shapeName(c.f)} s=${s} pad=${padName(c.pad)}${c.round ? ` round=${c.round}` : ''}`;
}

export function convDyShape(c: ConvCase): S4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad, c.round).outShape as S4;
}
