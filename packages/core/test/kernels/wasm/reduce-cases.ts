/**
 * Shared cases for the Sum and Mean kernel tests: reductions over leading axes (our column-sum route) and the
 * axis patterns, dtypes and sizes that must still go to the shipped kernel, with a float64 reference.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { expectClose, onBackend, randomArray } from '../../../src/testing/index.js';
import { initBackend } from '../../../src/index.js';
import { leadingAxisCount } from '../../../src/kernels/wasm/leading-reduce.js';

export type Axis = number | number[] | null;
export interface ReduceCase { shape: number[]; axis: Axis; keepDims?: boolean; note?: string }

/** Leading-axes reductions (column sums of [rows, cols]): rows around the 16-row blocks, cols around the 4-lane groups. */
export const LEADING: ReduceCase[] = [
  { shape: [2, 5, 5, 7], axis: [0, 1, 2], note: 'NHWC batch-norm statistics, odd C' },
  { shape: [2, 5, 5, 8], axis: [0, 1, 2], keepDims: true },
  { shape: [3, 4], axis: 0, note: 'fewer rows than a block' },
  { shape: [17, 3, 9], axis: [0, 1], note: '51 rows: 3 blocks and 3 rows' },
  { shape: [16, 6], axis: [0], note: 'one block exactly, cols 4 + 2' },
  { shape: [40, 1], axis: 0, note: 'one column' },
  { shape: [2, 3, 4, 5], axis: [-4, -3], note: 'negative axes' },
  { shape: [2, 3, 4, 5], axis: [1, 0], keepDims: true, note: 'unordered axes' },
  { shape: [1, 6, 6, 3], axis: [0, 1, 2], note: 'batch 1' },
  { shape: [3, 40000], axis: 0, note: 'rows wider than the copy chunk' },
  { shape: [2, 200, 100, 3], axis: [0, 1, 2], note: '40000 rows: several copy chunks' },
];

/** Everything else goes to the shipped kernel. */
export const FALLBACK: ReduceCase[] = [
  { shape: [2, 5, 5, 7], axis: [1, 2], note: 'middle axes (global pooling)' },
  { shape: [2, 5, 5, 7], axis: -1 },
  { shape: [2, 5, 5, 7], axis: null, note: 'all axes' },
  { shape: [4, 6], axis: [0, 1], keepDims: true, note: 'all axes, listed' },
  { shape: [4, 6], axis: [1] },
  { shape: [3, 4, 5], axis: [0, 2] },
];

export function reduceName(c: ReduceCase): string {
  return `x=[${c.shape.join(',')}] axis=${JSON.stringify(c.axis)}${c.keepDims ? ' keepDims' : ''}${c.note ? ` (${c.note})` : ''}`;
}

/** float64 sums (or means) over `axis` of row-major x, in the output's element order. */
export function reference(x: ArrayLike<number>, shape: number[], axis: Axis, mean: boolean): Float64Array {
  const rank = shape.length;
  const axes = new Set(axis === null ? shape.map((_, i) => i) : (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)));
  const kept = shape.map((_, i) => i).filter((i) => !axes.has(i));
  const outSize = kept.reduce((p, i) => p * shape[i]!, 1);
  const out = new Float64Array(outSize);
  const count = x.length / Math.max(1, outSize);
  const idx = new Array<number>(rank).fill(0);
  for (let e = 0; e < x.length; e++) {
    let o = 0;
    for (const i of kept) o = o * shape[i]! + idx[i]!;
    out[o] += x[e]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  if (mean) for (let i = 0; i < outSize; i++) out[i] /= count;
  return out;
}

/** Checks one case of `op` on wasm: shape and values against float64 (and the cpu backend). */
export async function checkCase(op: 'sum' | 'mean', c: ReduceCase, seed: number): Promise<void> {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = randomArray(n, seed);
  const f = (): tf.Tensor => (op === 'sum' ? tf.sum : tf.mean)(tf.tensor(x, c.shape), c.axis ?? undefined, c.keepDims);
  await initBackend({ backend: 'cpu' });
  const cpuShape = f().shape;
  const [cpu] = await onBackend('cpu', f);
  await initBackend({ backend: 'wasm' });
  const y = f();
  expect(y.shape).toEqual(cpuShape);
  expect(y.dtype).toBe('float32');
  const got = y.dataSync();
  y.dispose();
  expectClose(got, reference(x, c.shape, c.axis, op === 'mean'), 2e-6, 1e-6, 'vs float64');
  expectClose(got, cpu!, 1e-5, 1e-6, 'vs cpu');
}

/** The leading-axes cases route to our kernel; the fallback ones do not (checked on the routing predicate). */
export function checkRouting(): void {
  for (const c of LEADING) expect(leadingAxisCount(c.axis, c.shape), reduceName(c)).toBeGreaterThan(0);
  for (const c of FALLBACK) expect(leadingAxisCount(c.axis, c.shape), reduceName(c)).toBe(0);
}
