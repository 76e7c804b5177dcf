/**
 * timm's classification losses (src/losses/soft-target-ce.ts): values worked out by hand, smoothOneHot's on/off
 * values and its identity with label smoothing, the gradient (softmax - y) / B at logits of 100s, finite
 * differences, PyTorch 1.13 (timm's formulas and F.cross_entropy(label_smoothing=)) on values and gradients,
 * two SGD steps on the compiled engine against the eager one (int32 and float32 labels fed as graph inputs), a
 * linear classifier that learns, and the messages for bad input.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CmidError, createOptimizer, createTrainer, initBackend, labelSmoothingCrossEntropy, Rng, smoothOneHot, softTargetCrossEntropy,
  type BatchTensor, type Engine, type TrainStepSpec,
} from '../../src/index.js';
import { checkGradFiniteDiff, compareClose, expectClose, runTorch, torchAvailable, torchRequired } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const num = (t: tf.Tensor) => t.dataSync()[0]!;
const logSoftmax = (r: number[]) => {
  const m = Math.max(...r);
  const l = Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
  return r.map((v) => v - l);
};
function normal(rng: Rng, shape: number[], std = 1): BatchTensor & { data: Float32Array } {
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, std)), shape };
}

describe('values by hand, logits [2, 3]', () => {
  const z = [[2, -1, 0.5], [0.1, 0.2, 3]];
  const y = [[0.7, 0.2, 0.1], [0, 0.05, 0.95]];
  it('softTargetCrossEntropy = mean_b sum_k -y log_softmax(z)', () => {
    const want = z.map((r, i) => -logSoftmax(r).reduce((a, v, k) => a + y[i]![k]! * v, 0)).reduce((a, b) => a + b) / 2;
    expect(num(softTargetCrossEntropy(tf.tensor2d(z), tf.tensor2d(y)))).toBeCloseTo(want, 6);
  });
  it('labelSmoothingCrossEntropy = mean_b (1 - s) nll + s mean_k(-logp), with int32 or float32 labels; s = 0 is plain CE', () => {
    const s = 0.1;
    const ls = z.map((r, i) => {
      const lp = logSoftmax(r);
      return (1 - s) * -lp[[0, 2][i]!]! + s * -(lp.reduce((a, b) => a + b) / 3);
    });
    expect(num(labelSmoothingCrossEntropy(tf.tensor2d(z), tf.tensor1d([0, 2], 'int32'), s))).toBeCloseTo((ls[0]! + ls[1]!) / 2, 6);
    expect(num(labelSmoothingCrossEntropy(tf.tensor2d(z), tf.tensor1d([0, 2], 'float32'), s))).toBeCloseTo((ls[0]! + ls[1]!) / 2, 6);
    const ce = (-logSoftmax(z[0]!)[1]! - logSoftmax(z[1]!)[0]!) / 2;
    expect(num(labelSmoothingCrossEntropy(tf.tensor2d(z), tf.tensor1d([1, 0], 'int32'), 0))).toBeCloseTo(ce, 6);
  });
  it('smoothOneHot: off = s / C, on = 1 - s + s / C, rows sum to 1; soft-target CE of it equals label smoothing', () => {
    expectClose(smoothOneHot(tf.tensor1d([2, 0], 'int32'), 4, 0.1).dataSync(), [0.025, 0.025, 0.925, 0.025, 0.925, 0.025, 0.025, 0.025], 1e-7);
    expect(Array.from(smoothOneHot(tf.tensor1d([1], 'int32'), 3).dataSync())).toEqual([0, 1, 0]);
    const rng = new Rng(5);
    const logits = tf.tensor2d(normal(rng, [6, 7], 2).data, [6, 7]);
    const labels = tf.tensor1d([0, 6, 3, 3, 1, 5], 'int32');
    for (const s of [0, 0.1, 0.5]) {
      const a = num(softTargetCrossEntropy(logits, smoothOneHot(labels, 7, s)));
      expect(Math.abs(a - num(labelSmoothingCrossEntropy(logits, labels, s))), `s = ${s}`).toBeLessThan(1e-6);
    }
  });
});

describe('gradients', () => {
  it('softTargetCrossEntropy has the gradient (softmax(z) - y) / B, finite at logits in the 100s', () => {
    const z = [[80, -40, 20], [4, 8, 120]];
    const y = [[0.7, 0.2, 0.1], [0, 0.05, 0.95]];
    const x = tf.tensor2d(z);
    expect(Number.isFinite(num(softTargetCrossEntropy(x, tf.tensor2d(y))))).toBe(true);
    const g = tf.grad((t: tf.Tensor) => softTargetCrossEntropy(t as tf.Tensor2D, tf.tensor2d(y)))(x).arraySync() as number[][];
    z.forEach((r, i) => logSoftmax(r).map(Math.exp).forEach((p, k) => expect(g[i]![k]).toBeCloseTo((p - y[i]![k]!) / 2, 6)));
  });
  it('both losses pass a finite-difference check, logits [4, 6]', () => {
    const rng = new Rng(11);
    const z = normal(rng, [4, 6], 1.5);
    const t = Float32Array.from({ length: 24 }, () => rng.uniform(0, 1));
    for (let i = 0; i < 4; i++) {
      const row = t.subarray(i * 6, i * 6 + 6);
      const s = row.reduce((a, b) => a + b, 0);
      row.forEach((v, k) => (row[k] = v / s));
    }
    checkGradFiniteDiff((x) => softTargetCrossEntropy(x as tf.Tensor2D, tf.tensor2d(t, [4, 6])), z.data, z.shape, { coords: 24 });
    checkGradFiniteDiff((x) => labelSmoothingCrossEntropy(x as tf.Tensor2D, tf.tensor1d([5, 0, 2, 2], 'int32'), 0.2), z.data, z.shape, { coords: 24 });
  });
});

const haveTorch = torchAvailable();
describe('PyTorch 1.13 parity', () => {
  it.skipIf(!haveTorch && !torchRequired())(
    `values and gradients of timm's formulas and F.cross_entropy(label_smoothing=0.1), logits [8, 10] std 3 and one row x50${haveTorch ? '' : ' (SKIPPED: no torch; CMID_REQUIRE_TORCH=1 fails instead)'}`,
    () => {
      const rng = new Rng(2024);
      const B = 8, C = 10, s = 0.1;
      const z = normal(rng, [B, C], 3);
      for (let k = 0; k < C; k++) z.data[k]! *= 50;
      const labels = Int32Array.from({ length: B }, () => rng.int(0, C));
      const y = Float32Array.from({ length: B * C }, () => rng.uniform(0, 1));
      for (let i = 0; i < B; i++) {
        const row = y.subarray(i * C, i * C + C);
        const sum = row.reduce((a, b) => a + b, 0);
        row.forEach((v, k) => (row[k] = v / sum));
      }
      const ref = runTorch(
        `
import torch.nn.functional as F
z = inputs['z'].double(); y = inputs['y'].double(); lab = inputs['lab'].long(); s = ${s}; C = z.shape[1]
z1 = z.clone().requires_grad_()
soft = torch.sum(-y * F.log_softmax(z1, dim=-1), dim=-1).mean()          # timm SoftTargetCrossEntropy
g_soft, = torch.autograd.grad(soft, z1)
z2 = z.clone().requires_grad_()
logp = F.log_softmax(z2, dim=-1)                                          # timm LabelSmoothingCrossEntropy
ls = ((1 - s) * -logp.gather(dim=-1, index=lab.unsqueeze(1)).squeeze(1) + s * -logp.mean(dim=-1)).mean()
g_ls, = torch.autograd.grad(ls, z2)
off = s / C; on = 1.0 - s + off                                           # timm mixup one_hot
oh = torch.full((z.shape[0], C), off, dtype=torch.float64).scatter_(1, lab.view(-1, 1), on)
outputs['soft'] = soft; outputs['g_soft'] = g_soft; outputs['ls'] = ls; outputs['g_ls'] = g_ls
outputs['ls_torch'] = F.cross_entropy(z, lab, label_smoothing=s); outputs['onehot'] = oh
`,
        { z, y: { data: y, shape: [B, C] }, lab: { data: Float32Array.from(labels), shape: [B] } },
      );
      const zt = tf.tensor2d(z.data, [B, C]), yt = tf.tensor2d(y, [B, C]), lt = tf.tensor1d(labels, 'int32');
      expect(Math.abs(ref.ls_torch!.data[0]! - ref.ls!.data[0]!)).toBeLessThan(1e-6); // timm's formula is torch's label_smoothing
      expect(Math.abs(num(softTargetCrossEntropy(zt, yt)) - ref.soft!.data[0]!)).toBeLessThanOrEqual(1e-5 * Math.abs(ref.soft!.data[0]!));
      expect(Math.abs(num(labelSmoothingCrossEntropy(zt, lt, s)) - ref.ls!.data[0]!)).toBeLessThanOrEqual(1e-5 * Math.abs(ref.ls!.data[0]!));
      expectClose(smoothOneHot(lt, C, s).dataSync(), ref.onehot!.data, 1e-7);
      const gs = tf.grad((x: tf.Tensor) => softTargetCrossEntropy(x as tf.Tensor2D, yt))(zt).dataSync();
      const gl = tf.grad((x: tf.Tensor) => labelSmoothingCrossEntropy(x as tf.Tensor2D, lt, s))(zt).dataSync();
      expectClose(gs, ref.g_soft!.data, 1e-6);
      expectClose(gl, ref.g_ls!.data, 1e-6);
    },
  );
});

// --- compiled engine: logits = x W, W trained by SGD with momentum, two steps from the same start
interface LossCase {
  make: () => TrainStepSpec;
  batch: (step: number) => Record<string, BatchTensor>;
}
let uid = 0;
function linearCase(inputs: TrainStepSpec['inputs'], loss: (z: tf.Tensor2D, b: Record<string, tf.Tensor>) => Record<string, tf.Tensor> & { loss: tf.Scalar }, batch: LossCase['batch']): LossCase {
  return {
    make: () => {
      const w = tf.variable(tf.tensor2d(normal(new Rng(1), [8, 5], 0.5).data, [8, 5]), true, `w${uid++}`);
      return {
        variables: { w }, params: [{ name: 'w', shape: [8, 5], weightDecay: 0 }], optimizer: createOptimizer({ kind: 'sgd', momentum: 0.9 }),
        inputs: { x: { shape: [4, 8] }, ...inputs },
        loss: (b) => loss(tf.matMul(b.x as tf.Tensor2D, w), b),
      };
    },
    batch,
  };
}
const labelsOf = (s: number) => Int32Array.from({ length: 4 }, (_, i) => (i * 3 + s) % 5);
const CASES: Record<string, LossCase> = {
  'softTargetCrossEntropy, mixed targets [4, 5] fed': linearCase(
    { y: { shape: [4, 5] } },
    (z, b) => ({ loss: softTargetCrossEntropy(z, b.y as tf.Tensor2D) }),
    (s) => {
      const r = new Rng(10 + s);
      const y = Float32Array.from({ length: 20 }, () => r.uniform(0, 1));
      for (let i = 0; i < 4; i++) {
        const sum = y.subarray(i * 5, i * 5 + 5).reduce((a, v) => a + v, 0);
        for (let k = 0; k < 5; k++) y[i * 5 + k]! /= sum;
      }
      return { x: normal(r, [4, 8]), y: { data: y, shape: [4, 5] } };
    },
  ),
  'labelSmoothingCrossEntropy s=0.1 with int32 labels [4] fed, soft-target CE of smoothOneHot as a term': linearCase(
    { labels: { shape: [4], dtype: 'int32' } },
    (z, b) => ({ loss: labelSmoothingCrossEntropy(z, b.labels as tf.Tensor1D, 0.1), soft: softTargetCrossEntropy(z, smoothOneHot(b.labels as tf.Tensor1D, 5, 0.1)) }),
    (s) => ({ x: normal(new Rng(20 + s), [4, 8]), labels: { data: labelsOf(s), shape: [4] } }),
  ),
  'labelSmoothingCrossEntropy s=0.2 with float32 labels [4] fed': linearCase(
    { labels: { shape: [4] } },
    (z, b) => ({ loss: labelSmoothingCrossEntropy(z, b.labels as tf.Tensor1D, 0.2) }),
    (s) => ({ x: normal(new Rng(30 + s), [4, 8]), labels: { data: Float32Array.from(labelsOf(s)), shape: [4] } }),
  ),
};

async function run(c: LossCase, engine: Engine) {
  const spec = c.make();
  const trainer = await createTrainer(spec, { engine });
  const steps = [];
  for (let s = 0; s < 2; s++) steps.push(await trainer.step(c.batch(s), { lr: 0.1 }));
  trainer.syncToVariables();
  trainer.dispose();
  return { steps, w: (spec.variables.w!.dataSync() as Float32Array).slice() };
}

describe('on the compiled engine vs the eager engine', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: two SGD steps give the same losses, terms and weights (1e-5)`, async () => {
      const initial = (c.make().variables.w!.dataSync() as Float32Array).slice();
      const eager = await run(c, 'eager');
      const compiled = await run(c, 'compiled');
      for (let s = 0; s < 2; s++) {
        const e = eager.steps[s]!, k = compiled.steps[s]!;
        expect(Number.isFinite(e.loss)).toBe(true);
        expect(Math.abs(k.loss - e.loss), `step ${s} loss: compiled ${k.loss}, eager ${e.loss}`).toBeLessThanOrEqual(1e-5 * Math.abs(e.loss));
        for (const [t, v] of Object.entries(e.terms)) {
          expect(Math.abs(k.terms[t]! - v), `step ${s} ${t}`).toBeLessThanOrEqual(1e-5 * Math.abs(v));
          expect(Math.abs(v - e.loss), `${t} = loss (identity)`).toBeLessThanOrEqual(1e-5 * Math.abs(e.loss));
        }
      }
      const r = compareClose(compiled.w, eager.w, 1e-5, 1e-7);
      expect(r.ok, r.message).toBe(true);
      expect(eager.w.some((v, i) => v !== initial[i])).toBe(true);
    });
  }
});

describe('a linear classifier learns with label smoothing', () => {
  it('30 SGD steps on 3 separable Gaussian blobs: loss falls by half, training accuracy 100 %', () => {
    const rng = new Rng(9);
    const centres = [[3, 0], [-3, 3], [0, -3]];
    const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3);
    const x = tf.tensor2d(Float32Array.from({ length: 120 }, (_, j) => centres[labels[j >> 1]!]![j & 1]! + rng.normal(0, 0.5)), [60, 2]);
    const w = tf.variable(tf.zeros([2, 3])), b = tf.variable(tf.zeros([3]));
    const lt = tf.tensor1d(labels, 'int32');
    const loss = () => labelSmoothingCrossEntropy(tf.add(tf.matMul(x, w), b) as tf.Tensor2D, lt, 0.1);
    const first = num(loss());
    const opt = tf.train.sgd(0.5);
    for (let i = 0; i < 30; i++) opt.minimize(loss, true)?.dispose();
    expect(num(loss())).toBeLessThan(first / 2);
    const pred = tf.argMax(tf.add(tf.matMul(x, w), b), 1).dataSync();
    expect(Array.from(pred)).toEqual(Array.from(labels));
  });
});

describe('bad input is a CmidError naming shapes and values', () => {
  it('target shape, label shape, smoothing range, class count, logits rank', () => {
    const z = tf.zeros([2, 3]) as tf.Tensor2D;
    const check = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(CmidError);
      expect(f).toThrow(re);
    };
    check(() => softTargetCrossEntropy(z, tf.zeros([2, 4]) as tf.Tensor2D), /logits are \[2,3\] but targets are \[2,4\]/);
    check(() => labelSmoothingCrossEntropy(z, tf.tensor1d([0, 1, 2], 'int32')), /labels must be \[B\] with B = 2 .* got \[3\]/);
    check(() => labelSmoothingCrossEntropy(z, tf.tensor1d([0, 1], 'int32'), 1), /smoothing is 1; it must be in \[0, 1\)/);
    check(() => smoothOneHot(tf.tensor1d([0], 'int32'), 0, 0.1), /numClasses is 0/);
    check(() => softTargetCrossEntropy(tf.zeros([3]) as unknown as tf.Tensor2D, tf.zeros([3]) as unknown as tf.Tensor2D), /logits must be \[B, C\], got \[3\]/);
  });
});
