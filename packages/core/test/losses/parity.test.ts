/**
 * The CMID losses against PyTorch 1.13 (scripts/parity/losses.py, the formulas of cmid.md section 4 in the
 * reference's NCHW / [D, K] / [B, P, n] layouts): loss values to 1e-5 relative, gradients (w.r.t. the raw
 * queries, the student logits, the prediction) to 1e-4 of the gradient's scale, the local-loss centre over two
 * chained calls, and the queue initialisation. Inputs are drawn here and passed to the script in a safetensors file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  cmidMimLoss, focalFrequencyLoss, initBackend, l2Normalize, localDistillationLoss, mocoInfoNce, mocoQueueInitValues, permute, Rng,
  writeSafetensors, type CheckpointTensor, type CmidMimOptions, type FocalFrequencyOptions,
} from '../../src/index.js';
import { PYTHON, expectClose } from '../../src/testing/index.js';
import { f32, parityEnabled, PARITY_DIR, readStateDict } from '../backbones/parity-helpers.js';

const enabled = parityEnabled('losses.py');

type Case = { kind: string; name: string } & Record<string, unknown>;
const inputs = new Map<string, CheckpointTensor>();
const host = new Map<string, { data: Float32Array; shape: number[] }>();
const cases: Case[] = [];
let expected: Map<string, CheckpointTensor>;
let dir = '';

const rng = new Rng(20240611);
function normal(shape: number[], std = 1): { data: Float32Array; shape: number[] } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => rng.normal(0, std)), shape };
}
function put(name: string, t: { data: Float32Array; shape: number[] }): { data: Float32Array; shape: number[] } {
  inputs.set(name, { dtype: 'float32', data: t.data, shape: t.shape });
  host.set(name, t);
  return t;
}
const nhwc = (t: { data: Float32Array; shape: number[] }) => permute(t.data, t.shape, [0, 2, 3, 1]);
const nchw = (data: Float32Array, shape: number[]) => permute(data, shape, [0, 3, 1, 2]).data;
const ref = (key: string) => f32(expected.get(key), key);

// --- cases (inputs in the reference layout)
const INFONCE = { N: 8, D: 16, K: 64, temperature: 0.2 };
put('infonce.q', normal([INFONCE.N, INFONCE.D]));
put('infonce.k', normal([INFONCE.N, INFONCE.D]));
put('infonce.queue', normal([INFONCE.D, INFONCE.K], 0.25));
cases.push({ kind: 'infonce', name: 'infonce', temperature: INFONCE.temperature });
put('queue.randn', normal([INFONCE.D, INFONCE.K]));
cases.push({ kind: 'queue_init', name: 'queue' });

const LOCAL = { B: 2, P: 16, n: 5, studentTemp: 0.1, teacherTemp: 0.0406, centerMomentum: 0.9 };
for (const k of ['s1', 's2', 't1', 't2']) put(`local.${k}`, normal([LOCAL.B, LOCAL.P, LOCAL.n], k.startsWith('t') ? 0.3 : 1));
put('local.center', normal([1, LOCAL.P, 1], 0.1));
cases.push({ kind: 'local', name: 'local', studentTemp: LOCAL.studentTemp, teacherTemp: LOCAL.teacherTemp, centerMomentum: LOCAL.centerMomentum });

const IMG = [2, 3, 32, 32];
const FFL_CASES: [string, FocalFrequencyOptions][] = [
  ['ffl_default', {}],
  ['ffl_no_ave', { aveSpectrum: false }],
  ['ffl_per_channel_max', { batchMatrix: false }],
  ['ffl_no_log_alpha', { logMatrix: false, alpha: 0.5 }],
  ['ffl_per_image_weighted', { aveSpectrum: false, batchMatrix: false, lossWeight: 2 }],
];
for (const [name, o] of FFL_CASES) {
  put(`${name}.pred`, normal(IMG));
  put(`${name}.target`, normal(IMG));
  cases.push({ kind: 'ffl', name, ...o });
}

const MIM_CASES: [string, CmidMimOptions][] = [
  ['mim_default', {}],
  ['mim_unmask_weight_gamma', { unmaskWeight: 0.25, gamma: 2, alpha: 0.5 }],
  ['mim_tanh_residual', { activate: 'tanh', residual: true, fftWeight: 0.5 }],
  ['mim_no_mix', { fftUnmaskWeight: 1 }],
  ['mim_spatial_only', { fftWeight: 0 }],
];
for (const [name, o] of MIM_CASES) {
  put(`${name}.target`, normal(IMG));
  put(`${name}.pred`, normal(IMG, 0.8));
  const mask = new Float32Array(2 * 8 * 8).map(() => (rng.uniform(0, 1) < 0.6 ? 1 : 0));
  put(`${name}.mask`, { data: mask, shape: [2, 8, 8] });
  cases.push({ kind: 'mim', name, ...o });
}

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  if (!enabled) return;
  dir = mkdtempSync(join(tmpdir(), 'cmid-parity-losses-'));
  await writeSafetensors(join(dir, 'inputs.safetensors'), inputs, { cases: JSON.stringify(cases) });
  try {
    execFileSync(PYTHON, [join(PARITY_DIR, 'losses.py'), dir], { cwd: PARITY_DIR, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`losses.py failed: ${err.stderr?.toString().trim() || err.message}`);
  }
  expected = await readStateDict(join(dir, 'outputs.safetensors'));
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const input = (k: string) => host.get(k)!;
const value = (actual: number, exp: number, label: string) =>
  expect(Math.abs(actual - exp), `${label}: ours ${actual}, torch ${exp}`).toBeLessThanOrEqual(1e-5 * Math.abs(exp) + 1e-7);

describe.skipIf(!enabled)('CMID losses vs PyTorch 1.13', () => {
  it('MoCo InfoNCE (N 8, D 16, K 64, T 0.2) with F.normalize: loss and gradient w.r.t. the raw queries', () => {
    const { N, D, K, temperature } = INFONCE;
    const qRaw = tf.tensor2d(input('infonce.q').data, [N, D]);
    const k = l2Normalize(tf.tensor2d(input('infonce.k').data, [N, D]));
    // ours stores one key per row: the reference's [D, K] queue transposed
    const queue = tf.tensor2d(permute(input('infonce.queue').data, [D, K], [1, 0]).data, [K, D]);
    const f = (x: tf.Tensor) => mocoInfoNce(l2Normalize(x as tf.Tensor2D), k, queue, temperature);
    const { value: loss, grad } = tf.valueAndGrad(f)(qRaw);
    value(loss.dataSync()[0]!, ref('infonce.loss')[0]!, 'loss');
    expectClose(grad.dataSync(), ref('infonce.grad_q'), 1e-4, 0, 'grad q');
    tf.dispose([qRaw, k, queue, loss, grad]);
  });

  it('queue initialisation: the reference quirk (unit rows over K) and the unit-key fix, in our [K, D] layout', () => {
    const { D, K } = INFONCE;
    const r = input('queue.randn').data;
    expectClose(mocoQueueInitValues(r, D, K), permute(ref('queue.quirk'), [D, K], [1, 0]).data, 1e-6, 0, 'quirk');
    expectClose(mocoQueueInitValues(r, D, K, { normalizeKeys: true }), permute(ref('queue.keys'), [D, K], [1, 0]).data, 1e-6, 0, 'keys');
  });

  it('local loss (B 2, P 16, 5 matches): two chained calls, the second seeing the first centre update; losses, gradients, centres', () => {
    const { B, P, n, studentTemp, teacherTemp, centerMomentum } = LOCAL;
    // reference [B, P, n] -> ours [B*n, P]
    const rows = (key: string) => tf.tensor2d(permute(input(key).data, [B, P, n], [0, 2, 1]).data, [B * n, P]);
    let center: tf.Tensor = tf.tensor1d(input('local.center').data);
    const tt = tf.scalar(teacherTemp); // fed as a tensor, as the compiled step does
    for (const i of [1, 2]) {
      const s = rows(`local.s${i}`), t = rows(`local.t${i}`);
      let next: tf.Tensor1D | undefined;
      const { value: loss, grad } = tf.valueAndGrad((x: tf.Tensor) => {
        const r = localDistillationLoss(x as tf.Tensor2D, t, center, { studentTemp, teacherTemp: tt, centerMomentum });
        next = tf.keep(r.center);
        return r.loss;
      })(s);
      value(loss.dataSync()[0]!, ref(`local.loss${i}`)[0]!, `loss ${i}`);
      expectClose(grad.dataSync(), permute(ref(`local.grad_s${i}`), [B, P, n], [0, 2, 1]).data, 1e-4, 0, `grad s${i}`);
      expectClose(next!.dataSync(), ref(`local.center${i}`), 1e-5, 1e-7, `center after call ${i}`);
      tf.dispose([center, s, t, loss, grad]);
      center = next!;
    }
    tf.dispose([center, tt]);
  });

  for (const [name, o] of FFL_CASES) {
    it(`focal frequency loss ${name} (${JSON.stringify(o)}), 2x3x32x32: loss and gradient w.r.t. pred`, () => {
      const p = nhwc(input(`${name}.pred`)), t = nhwc(input(`${name}.target`));
      const target = tf.tensor4d(t.data, t.shape as [number, number, number, number]);
      const pred = tf.tensor4d(p.data, p.shape as [number, number, number, number]);
      const { value: loss, grad } = tf.valueAndGrad((x: tf.Tensor) => focalFrequencyLoss(x as tf.Tensor4D, target, o))(pred);
      value(loss.dataSync()[0]!, ref(`${name}.loss`)[0]!, 'loss');
      expectClose(nchw(grad.dataSync() as Float32Array, grad.shape), ref(`${name}.grad_pred`), 1e-4, 0, 'grad pred');
      tf.dispose([target, pred, loss, grad]);
    });
  }

  for (const [name, o] of MIM_CASES) {
    it(`CMID MIM loss ${name} (${JSON.stringify(o)}), 2x3x32x32 with an 8x8 mask: loss, terms, gradient w.r.t. pred`, () => {
      const p = nhwc(input(`${name}.pred`)), t = nhwc(input(`${name}.target`));
      const target = tf.tensor4d(t.data, t.shape as [number, number, number, number]);
      const pred = tf.tensor4d(p.data, p.shape as [number, number, number, number]);
      const mask = tf.tensor3d(input(`${name}.mask`).data, [2, 8, 8]);
      let terms: number[] = [];
      const { value: loss, grad } = tf.valueAndGrad((x: tf.Tensor) => {
        const r = cmidMimLoss(target, x as tf.Tensor4D, mask, o);
        terms = [r.spatial.dataSync()[0]!, r.frequency.dataSync()[0]!];
        return r.loss;
      })(pred);
      value(loss.dataSync()[0]!, ref(`${name}.loss`)[0]!, 'loss');
      value(terms[0]!, ref(`${name}.spatial`)[0]!, 'spatial');
      value(terms[1]!, ref(`${name}.frequency`)[0]!, 'frequency');
      expectClose(nchw(grad.dataSync() as Float32Array, grad.shape), ref(`${name}.grad_pred`), 1e-4, 0, 'grad pred');
      tf.dispose([target, pred, mask, loss, grad]);
    });
  }
});
