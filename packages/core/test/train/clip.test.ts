/** clipGradNorm: torch.nn.utils.clip_grad_norm_ semantics, by hand and against torch 1.13. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, LOWERINGS, trace } from '../../src/index.js';
import { expectClose, randomArray, runTorch, torchAvailable, torchRequired } from '../../src/testing/index.js';
import { clipGradNorm } from '../../src/train/clip.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('clipGradNorm by hand', () => {
  it('total L2 norm of [3, 4] and [[12]] is 13; max 6.5 halves (coef 6.5 / (13 + 1e-6)); max 100 leaves values unchanged', () => {
    const a = tf.tensor([3, 4]);
    const b = tf.tensor([[12]]);
    const r = clipGradNorm({ a, b }, 6.5);
    expect(r.totalNorm.dataSync()[0]).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expectClose(r.grads.a!.dataSync(), [3 * coef, 4 * coef], 1e-7, 0);
    expectClose(r.grads.b!.dataSync(), [12 * coef], 1e-7, 0);
    expect(r.grads.b!.shape).toEqual([1, 1]);
    const keep = clipGradNorm({ a, b }, 100);
    expect(Array.from(keep.grads.a!.dataSync())).toEqual([3, 4]);
    expect(Array.from(keep.grads.b!.dataSync())).toEqual([12]);
    // inputs untouched
    expect(Array.from(a.dataSync())).toEqual([3, 4]);
    tf.dispose([a, b, r.totalNorm, ...Object.values(r.grads), keep.totalNorm, ...Object.values(keep.grads)]);
  });

  it("norm 'inf' is the largest |g|; arrays in, arrays out; no gradients gives norm 0", () => {
    const r = clipGradNorm([tf.tensor([3, -4]), tf.tensor([-12, 1])], 6, 'inf');
    expect(r.totalNorm.dataSync()[0]).toBe(12);
    expectClose(r.grads[1]!.dataSync(), [-12 * (6 / (12 + 1e-6)), 6 / (12 + 1e-6)], 1e-7, 0);
    const e = clipGradNorm([], 1);
    expect(e.totalNorm.dataSync()[0]).toBe(0);
    expect(e.grads).toEqual([]);
  });

  it('leaks nothing and traces to lowered ops only', () => {
    const g = { w: tf.tensor(randomArray(12, 1), [3, 4]), b: tf.tensor(randomArray(4, 2), [4]) };
    const n = tf.memory().numTensors;
    const r = clipGradNorm(g, 0.5);
    expect(tf.memory().numTensors).toBe(n + 3);
    tf.dispose([r.totalNorm, ...Object.values(r.grads)]);
    const tr = trace((i) => {
      const c = clipGradNorm(i, 0.5);
      return { ...c.grads, norm: c.totalNorm };
    }, { inputs: g });
    expect(tr.graph.nodes.filter((x) => !x.folded && LOWERINGS[x.op] === undefined).map((x) => x.op)).toEqual([]);
    tf.dispose([...tr.outputs, ...Object.values(g)]);
  });
});

describe('clipGradNorm vs torch.nn.utils.clip_grad_norm_', () => {
  const haveTorch = torchAvailable();
  it.skipIf(!haveTorch && !torchRequired())(
    `shapes [3,3,4,5], [7], [6,4]; max_norm 1.5 (clips), 1e3 (does not); norm 2 and inf${haveTorch ? '' : ' (SKIPPED: /usr/bin/python3 cannot import torch; set CMID_REQUIRE_TORCH=1 to fail instead)'}`,
    () => {
      expect(haveTorch, 'CMID_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch (apt-get install python3-torch)').toBe(true);
      const shapes = [[3, 3, 4, 5], [7], [6, 4]];
      const data = shapes.map((s, i) => randomArray(s.reduce((a, b) => a * b, 1), 10 + i));
      const inputs = Object.fromEntries(shapes.map((s, i) => [`g${i}`, { data: data[i]!, shape: s }]));
      const ref = runTorch(
        "for mx in (1.5, 1000.0):\n" +
          "    for nt, tag in ((2.0, '2'), (float('inf'), 'inf')):\n" +
          "        ps = [torch.nn.Parameter(torch.zeros_like(inputs[f'g{i}'])) for i in range(3)]\n" +
          "        for i, p in enumerate(ps): p.grad = inputs[f'g{i}'].clone()\n" +
          "        n = torch.nn.utils.clip_grad_norm_(ps, mx, norm_type=nt)\n" +
          "        k = f'{int(mx)}_{tag}'\n" +
          "        outputs['norm_' + k] = n.reshape(1)\n" +
          "        for i, p in enumerate(ps): outputs[f'g{i}_' + k] = p.grad\n",
        inputs,
      );
      for (const mx of [1.5, 1000]) {
        for (const tag of ['2', 'inf'] as const) {
          const k = `${Math.trunc(mx)}_${tag}`;
          const r = clipGradNorm(data.map((d, i) => tf.tensor(d, shapes[i])), mx, tag === 'inf' ? 'inf' : 2);
          expectClose(r.totalNorm.dataSync(), ref[`norm_${k}`]!.data, 1e-6, 0, `norm ${k}`);
          r.grads.forEach((g, i) => expectClose(g.dataSync(), ref[`g${i}_${k}`]!.data, 1e-6, 0, `grad ${i} ${k}`));
          tf.dispose([r.totalNorm, ...r.grads]);
        }
      }
      // the clipping case really clips
      expect(ref['norm_1_2']!.data[0]).toBeGreaterThan(1.5 * 2);
    },
  );
});
