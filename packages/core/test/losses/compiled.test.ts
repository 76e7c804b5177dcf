/**
 * Every CMID loss traced into the compiled engine's ONNX training graph: a small trainable variable feeds the
 * loss, two SGD steps (momentum 0.9) run on the compiled and on the eager engine from the same start, and the
 * losses, terms, updated parameters and assigned buffers (the local-loss centre) must agree to 1e-5.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  cmidMimLoss, createOptimizer, createTrainer, focalFrequencyLoss, initBackend, l2Normalize, localDistillationLoss, mocoInfoNce, Rng,
  type BatchTensor, type CmidMimOptions, type Engine, type TrainStepSpec,
} from '../../src/index.js';
import { compareClose } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

interface LossCase {
  /** Fresh variables and spec (the step mutates variables). */
  make: () => TrainStepSpec;
  batch: (step: number) => Record<string, BatchTensor>;
}

function normal(rng: Rng, shape: number[], std = 1): BatchTensor {
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal(0, std)), shape };
}
const variable = (seed: number, shape: number[], std: number, name: string) =>
  tf.variable(tf.tensor(normal(new Rng(seed), shape, std).data as Float32Array, shape), true, name);
let uid = 0;
const sgd = () => createOptimizer({ kind: 'sgd', momentum: 0.9 });

const CASES: Record<string, LossCase> = {
  'MoCo InfoNCE (q = normalize(x W), K 32 queue)': {
    make: () => {
      const w = variable(1, [8, 16], 0.3, `w${uid++}`);
      return {
        variables: { w }, params: [{ name: 'w', shape: [8, 16], weightDecay: 0 }], optimizer: sgd(),
        inputs: { x: { shape: [4, 8] }, k: { shape: [4, 16] }, queue: { shape: [32, 16] } },
        loss: (b) => ({ loss: mocoInfoNce(l2Normalize(tf.matMul(b.x as tf.Tensor2D, w)), l2Normalize(b.k as tf.Tensor2D), b.queue as tf.Tensor2D, 0.2) }),
      };
    },
    batch: (s) => {
      const r = new Rng(100 + s);
      return { x: normal(r, [4, 8]), k: normal(r, [4, 16]), queue: normal(r, [32, 16], 0.25) };
    },
  },
  'local distillation, two chained calls with the centre assigned, teacher temperature fed as a scalar input': {
    make: () => {
      const w = variable(2, [8, 16], 0.3, `w${uid++}`);
      const center = tf.variable(tf.tensor1d(normal(new Rng(3), [16], 0.1).data as Float32Array), false, `c${uid++}`);
      return {
        variables: { w, center }, params: [{ name: 'w', shape: [8, 16], weightDecay: 0 }], optimizer: sgd(),
        inputs: { x1: { shape: [6, 8] }, x2: { shape: [6, 8] }, t1: { shape: [6, 16] }, t2: { shape: [6, 16] }, tt: { shape: [] } },
        loss: (b) => {
          const o = { studentTemp: 0.1, teacherTemp: b.tt as tf.Scalar, centerMomentum: 0.9 };
          const a = localDistillationLoss(tf.matMul(b.x1 as tf.Tensor2D, w), b.t1 as tf.Tensor2D, center, o);
          const c = localDistillationLoss(tf.matMul(b.x2 as tf.Tensor2D, w), b.t2 as tf.Tensor2D, a.center, o);
          center.assign(c.center);
          return { loss: tf.div(tf.add(a.loss, c.loss), 2) as tf.Scalar, first: a.loss };
        },
      };
    },
    batch: (s) => {
      const r = new Rng(200 + s);
      return { x1: normal(r, [6, 8]), x2: normal(r, [6, 8]), t1: normal(r, [6, 16]), t2: normal(r, [6, 16]), tt: { data: new Float32Array([0.04 + 0.01 * s]), shape: [] } };
    },
  },
  'focal frequency loss (prediction as the parameter, 2x8x8x3)': {
    make: () => {
      const p = variable(4, [2, 8, 8, 3], 1, `p${uid++}`);
      return {
        variables: { p }, params: [{ name: 'p', shape: [2, 8, 8, 3], weightDecay: 0 }], optimizer: sgd(),
        inputs: { target: { shape: [2, 8, 8, 3] } },
        loss: (b) => ({ loss: focalFrequencyLoss(p as unknown as tf.Tensor4D, b.target as tf.Tensor4D) }),
      };
    },
    batch: (s) => ({ target: normal(new Rng(300 + s), [2, 8, 8, 3]) }),
  },
  'focal frequency loss, per-image spectra, per-image-and-channel max, no log, alpha 0.5': {
    make: () => {
      const p = variable(6, [2, 8, 8, 3], 1, `p${uid++}`);
      return {
        variables: { p }, params: [{ name: 'p', shape: [2, 8, 8, 3], weightDecay: 0 }], optimizer: sgd(),
        inputs: { target: { shape: [2, 8, 8, 3] } },
        loss: (b) => ({ loss: focalFrequencyLoss(p as unknown as tf.Tensor4D, b.target as tf.Tensor4D, { aveSpectrum: false, batchMatrix: false, logMatrix: false, alpha: 0.5 }) }),
      };
    },
    batch: (s) => ({ target: normal(new Rng(350 + s), [2, 8, 8, 3]) }),
  },
  'CMID MIM loss (prediction = x W per pixel, 2x16x16x3, 4x4 mask)': mimCase({}),
  'CMID MIM loss with tanh focal L1, gamma 2, residual, unmask weight 0.25, fft weight 0.5': mimCase({ activate: 'tanh', gamma: 2, residual: true, unmaskWeight: 0.25, fftWeight: 0.5 }),
};

function mimCase(opts: CmidMimOptions): LossCase {
  return {
    make: () => {
      const w = variable(5, [4, 3], 0.5, `w${uid++}`);
      return {
        variables: { w }, params: [{ name: 'w', shape: [4, 3], weightDecay: 0 }], optimizer: sgd(),
        inputs: { x: { shape: [2, 16, 16, 4] }, target: { shape: [2, 16, 16, 3] }, mask: { shape: [2, 4, 4] } },
        loss: (b) => {
          const pred = tf.reshape(tf.matMul(tf.reshape(b.x!, [-1, 4]), w), [2, 16, 16, 3]) as tf.Tensor4D;
          const r = cmidMimLoss(b.target as tf.Tensor4D, pred, b.mask as tf.Tensor3D, opts);
          return { loss: r.loss, spatial: r.spatial, frequency: r.frequency };
        },
      };
    },
    batch: (s) => {
      const r = new Rng(400 + s);
      const mask = Float32Array.from({ length: 32 }, () => (r.uniform(0, 1) < 0.6 ? 1 : 0));
      return { x: normal(r, [2, 16, 16, 4]), target: normal(r, [2, 16, 16, 3]), mask: { data: mask, shape: [2, 4, 4] } };
    },
  };
}

async function run(c: LossCase, engine: Engine) {
  const spec = c.make();
  const trainer = await createTrainer(spec, { engine });
  const steps = [];
  for (let s = 0; s < 2; s++) steps.push(await trainer.step(c.batch(s), { lr: 0.1 }));
  trainer.syncToVariables();
  trainer.dispose();
  const values = Object.fromEntries(Object.entries(spec.variables).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
  return { steps, values };
}

describe('CMID losses on the compiled engine vs the eager engine', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: two SGD steps give the same losses, terms and variables (1e-5)`, async () => {
      const start = c.make();
      const initial = Object.fromEntries(Object.entries(start.variables).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
      const eager = await run(c, 'eager');
      const compiled = await run(c, 'compiled');
      for (let s = 0; s < 2; s++) {
        const e = eager.steps[s]!, k = compiled.steps[s]!;
        expect(Number.isFinite(e.loss)).toBe(true);
        expect(Math.abs(k.loss - e.loss), `step ${s} loss: compiled ${k.loss}, eager ${e.loss}`).toBeLessThanOrEqual(1e-5 * Math.abs(e.loss));
        for (const [t, v] of Object.entries(e.terms)) expect(Math.abs(k.terms[t]! - v), `step ${s} ${t}`).toBeLessThanOrEqual(1e-5 * Math.abs(v) + 1e-7);
      }
      for (const [k, e] of Object.entries(eager.values)) {
        const r = compareClose(compiled.values[k]!, e, 1e-5, 1e-7);
        expect(r.ok, `${k}: ${r.message}`).toBe(true);
        expect(e.some((v, i) => v !== initial[k]![i]), `${k} changed`).toBe(true);
      }
    });
  }
});
