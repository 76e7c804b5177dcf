/** Filters stored as OHWI in a compiled graph: same results, gradients straight out of their Gemm, no stray transposes. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, traceSymbolic, encodeIrGraph, createSession, loadOrt, Rng } from '../../src/index.js';
import { CONV_FILTER_GRAD_OHWI, ohwiShape, storeFiltersOhwi } from '../../src/graph/filter-layout.js';
import { summarize, type IrGraph } from '../../src/graph/ir.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Op counts of the graph's live (not folded) nodes. */
const count = (g: IrGraph) => summarize(g).ops;

/** HWIO data -> OHWI data. */
function toOhwi(data: Float32Array, [a, b, c, d]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const abc = a! * b! * c!;
  for (let i = 0; i < abc; i++) for (let o = 0; o < d!; o++) out[o * abc + i] = data[i * d! + o]!;
  return out;
}

/** x, a filter w and a momentum slot m: loss = sum(conv(conv-ish uses of w)^2); SGD-momentum-like update. */
function step(i: Record<string, tf.Tensor>, twoUses: boolean, W: number[]) {
  const x = i.x as tf.Tensor4D, w = i.w as tf.Tensor4D, m = i.m!;
  const loss = (wv: tf.Tensor) => {
    const y = tf.conv2d(x, wv as tf.Tensor4D, [2, 1], 'same');
    const z = twoUses ? tf.add(tf.sum(tf.square(y)), tf.sum(tf.conv2d(tf.relu(x), wv as tf.Tensor4D, 1, 'valid'))) : tf.sum(tf.square(y));
    return z as tf.Scalar;
  };
  const g = tf.grad(loss)(w);
  const mNew = tf.add(tf.mul(m, 0.9), g);
  const wNew = tf.sub(w, tf.mul(mNew, 0.01));
  // a reader that is neither pointwise nor a convolution: needs the filter back in HWIO
  const rowSums = tf.sum(tf.reshape(w, [W[0]! * W[1]!, W[2]! * W[3]!]), 1);
  return { w_new: wNew, m_new: mNew, rows: rowSums, gsum: tf.sum(g) };
}

async function run(g: IrGraph, feeds: Record<string, { data: Float32Array; shape: number[] }>) {
  const ort = await loadOrt();
  const session = await createSession(encodeIrGraph(g), { threads: 1 });
  const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor('float32', f.data, f.shape)])));
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

describe('storeFiltersOhwi', () => {
  // The OHWI filter gradient is lowered on NCHW operands (batched MatMul, value names dw3d_*) where the activations
  // outweigh the per-image gradient, else as one Gemm over all pixels on NHWC operands: both are checked.
  const cases = [
    { what: 'one filter, NCHW filter gradient', X: [2, 7, 6, 3], W: [3, 3, 3, 4], twoUses: false, nchw: true },
    { what: 'a filter used twice, NCHW filter gradients', X: [2, 7, 6, 3], W: [3, 3, 3, 4], twoUses: true, nchw: true },
    { what: 'one filter on a small map, NHWC filter gradient', X: [2, 4, 3, 8], W: [3, 3, 8, 8], twoUses: false, nchw: false },
  ];
  for (const { what, X, W, twoUses, nchw } of cases) {
    it(`${what}: OHWI inputs and outputs give the HWIO graph's values, the gradient comes out of its GEMM in OHWI`, async () => {
      const trace = await traceSymbolic((i) => step(i, twoUses, W), { inputs: { x: { shape: X }, w: { shape: W }, m: { shape: W } } });
      const g = storeFiltersOhwi(trace.graph, new Set(['w', 'm']), (name) => name === 'w_new' || name === 'm_new');
      const before = count(trace.graph), after = count(g);
      const uses = twoUses ? 2 : 1;
      expect(before.Conv2DBackpropFilter).toBe(uses);
      expect(after.Conv2DBackpropFilter ?? 0).toBe(0);
      expect(after[CONV_FILTER_GRAD_OHWI]).toBe(uses);
      // transposes: one back to HWIO for the filter's readers (convs, reshape), none for m or the update chain
      expect((after.Transpose ?? 0) - (before.Transpose ?? 0)).toBe(1);
      const inputShape = (name: string) => g.values.find((v) => v.name === name)!.shape;
      expect(inputShape('w')).toEqual(ohwiShape(W));
      expect(inputShape('m')).toEqual(ohwiShape(W));
      expect(g.values[g.outputs[g.outputNames.indexOf('w_new')]!]!.shape).toEqual(ohwiShape(W));
      expect(g.values[g.outputs[g.outputNames.indexOf('rows')]!]!.shape).toEqual([W[0]! * W[1]!]);
      expect(new TextDecoder('latin1').decode(encodeIrGraph(g)).includes('dw3d_'), 'NCHW formulation of the filter gradient').toBe(nchw);

      const rng = new Rng(3);
      const rand = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
      const x = rand(X), w = rand(W), m = rand(W);
      const ref = await run(trace.graph, { x: { data: x, shape: X }, w: { data: w, shape: W }, m: { data: m, shape: W } });
      const got = await run(g, { x: { data: x, shape: X }, w: { data: toOhwi(w, W), shape: ohwiShape(W) }, m: { data: toOhwi(m, W), shape: ohwiShape(W) } });
      const close = (a: Float32Array, b: Float32Array, what: string) => {
        expect(a.length, what).toBe(b.length);
        a.forEach((v, k) => expect(Math.abs(v - b[k]!), `${what}[${k}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(b[k]!))));
      };
      close(got.w_new!, toOhwi(ref.w_new!, W), 'w_new');
      close(got.m_new!, toOhwi(ref.m_new!, W), 'm_new');
      close(got.rows!, ref.rows!, 'rows');
      close(got.gsum!, ref.gsum!, 'gsum');
    });
  }

  it('leaves a graph without stored inputs untouched, and rejects a stored input that is not 4D', async () => {
    const trace = await traceSymbolic((i) => ({ y: tf.mul(i.v!, 2) }), { inputs: { v: { shape: [4, 3] } } });
    expect(storeFiltersOhwi(trace.graph, new Set(), () => false)).toBe(trace.graph);
    expect(() => storeFiltersOhwi(trace.graph, new Set(['v']), () => false)).toThrow(/not a 4D filter/);
  });
});
