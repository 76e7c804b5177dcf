/**
 * The CMID losses (src/losses) on inputs small enough to work out by hand, the queue-initialisation quirk, the
 * stop-gradients, argument checks, and a finite-difference check of cmidMimLoss's gradient with the detached
 * parts (FFL weight, replaced prediction) held fixed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import {
  cmidMimLoss, focalFrequencyLoss, focalFrequencyWeight, focalL1, initBackend, l2Normalize, localDistillationLoss, mocoInfoNce,
  mocoQueueInit, mocoQueueInitValues, noGrad, Rng, stopGradient,
} from '../../src/index.js';
import { checkGradFiniteDiff, expectClose, randomArray } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const close = (actual: number, exp: number, tol = 1e-6) => expect(Math.abs(actual - exp), `${actual} vs ${exp}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(exp)));
const num = (t: tf.Tensor) => t.dataSync()[0]!;

describe('stopGradient / noGrad', () => {
  it('pass values through and give zero gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(stopGradient(v), v), noGrad((u) => tf.square(u), v))))(x);
    // d/dv [sg(v) v + sg(v^2)] = sg(v)
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(stopGradient(x).dataSync())).toEqual([1, 2, 3]);
    // a non-finite derivative inside noGrad does not leak: sqrt'(0) = inf
    const g0 = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, noGrad((u) => tf.sqrt(u), v))))(tf.zeros([2]));
    expect(Array.from(g0.dataSync())).toEqual([0, 0]);
  });
});

describe('l2Normalize', () => {
  it('is F.normalize: x / max(||x||, eps) along an axis, with a zero gradient (not NaN) at a zero vector', () => {
    expectClose(l2Normalize(tf.tensor2d([[3, 4], [0, 0]])).dataSync(), [0.6, 0.8, 0, 0], 1e-7);
    expectClose(l2Normalize(tf.tensor2d([[3, 1], [4, 0]]), 0).dataSync(), [0.6, 1, 0.8, 0], 1e-7);
    // tiny vector below eps: x / eps
    expectClose(l2Normalize(tf.tensor1d([1e-13, 0])).dataSync(), [0.1, 0], 1e-6);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(l2Normalize(x), tf.tensor1d([1, 2]))))(tf.zeros([2]));
    // below eps the norm is the constant eps: d/dx (x . w / eps) = w / eps
    expectClose(g.dataSync(), [1e12, 2e12], 1e-6);
    // at [3, 4]: d/dx (x/|x|).w = (w - y (y.w)) / |x|
    const g2 = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(l2Normalize(x), tf.tensor1d([1, 2]))))(tf.tensor1d([3, 4]));
    const yw = 0.6 + 1.6;
    expectClose(g2.dataSync(), [(1 - 0.6 * yw) / 5, (2 - 0.8 * yw) / 5], 1e-6);
  });
});

describe('mocoInfoNce', () => {
  it('N 1, D 2, K 2 by hand: -log softmax([q.k, q.Q_1, q.Q_2] / T)[0] and its gradient', () => {
    const q = tf.tensor2d([[1, 0]]), k = tf.tensor2d([[0.6, 0.8]]);
    const queue = tf.tensor2d([[0, 1], [-1, 0]]); // one key per row
    const T = 0.5;
    // logits = [0.6, 0, -1] / 0.5 = [1.2, 0, -2]
    const z = [1.2, 0, -2];
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mocoInfoNce(x as tf.Tensor2D, k, queue, T))(q);
    close(num(value), lse - 1.2);
    // dL/dq = (sum_j p_j v_j - k) / T with v = [k, Q_1, Q_2]
    const p = z.map((v) => Math.exp(v - lse));
    const vs = [[0.6, 0.8], [0, 1], [-1, 0]];
    const exp = [0, 1].map((d) => (p.reduce((s, pj, j) => s + pj * vs[j]![d]!, 0) - vs[0]![d]!) / T);
    expectClose(grad.dataSync(), exp, 1e-6);
  });

  it('keys and queue get no gradient; the loss is the mean over queries', () => {
    const q = tf.tensor2d([[1, 0], [0, 1]]), k = tf.tensor2d([[0.6, 0.8], [1, 0]]), queue = tf.tensor2d([[0, 1], [-1, 0]]);
    const [, gk, gq] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => mocoInfoNce(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, 0.2))([q, k, queue]);
    expect(Array.from(gk!.dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(gq!.dataSync())).toEqual([0, 0, 0, 0]);
    const each = [0, 1].map((i) => num(mocoInfoNce(tf.slice(q, [i, 0], [1, 2]), tf.slice(k, [i, 0], [1, 2]), queue, 0.2)));
    close(num(mocoInfoNce(q, k, queue, 0.2)), (each[0]! + each[1]!) / 2);
  });

  it('rejects mismatched shapes', () => {
    expect(() => mocoInfoNce(tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([3, 4]), 0.2)).toThrow(/one key per row/);
    expect(() => mocoInfoNce(tf.zeros([2, 3]), tf.zeros([1, 3]), tf.zeros([4, 3]), 0.2)).toThrow(/must match/);
  });
});

describe('mocoQueueInit', () => {
  const D = 16, K = 64;
  const rng = new Rng(5);
  const randn = Float32Array.from({ length: D * K }, () => rng.normal());
  it('reference quirk: every feature row has unit norm over the K slots, keys have mean square norm D/K (norm ~ sqrt(D/K))', () => {
    const q = mocoQueueInitValues(randn, D, K); // [K, D]
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let j = 0; j < K; j++) s += q[j * D + d]! ** 2;
      close(s, 1, 1e-5);
    }
    let meanSq = 0;
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += q[j * D + d]! ** 2;
      expect(Math.sqrt(s)).toBeGreaterThan(0.2);
      expect(Math.sqrt(s)).toBeLessThan(0.9); // sqrt(16/64) = 0.5
      meanSq += s / K;
    }
    close(meanSq, D / K, 1e-5);
    // layout: our row j is the reference's column j, scaled per feature row
    let n0 = 0;
    for (let j = 0; j < K; j++) n0 += randn[j]! ** 2;
    close(q[3 * D]!, randn[3]! / Math.sqrt(n0), 1e-6);
  });
  it('normalizeKeys: unit-norm keys (the fix), as a [K, D] tensor', () => {
    const t = mocoQueueInit(randn, D, K, { normalizeKeys: true });
    expect(t.shape).toEqual([K, D]);
    const norms = tf.norm(t, 'euclidean', 1).dataSync();
    for (const n of norms) close(n, 1, 1e-6);
    expect(() => mocoQueueInitValues(randn, D, K + 1)).toThrow(/D\*K/);
  });
});

describe('localDistillationLoss', () => {
  it('P 2 by hand: cross-entropy of softmax((t - c)/tt) against log_softmax(s/ts), and the new centre', () => {
    const s = tf.tensor2d([[1, 0]]), t = tf.tensor2d([[0, 1]]), c = tf.tensor1d([0.5, 0]);
    const opts = { studentTemp: 0.5, teacherTemp: 0.25, centerMomentum: 0.9 };
    // (t - c)/tt = [-2, 4]; s/ts = [2, 0]
    const pt = [1 / (1 + Math.exp(6)), Math.exp(6) / (1 + Math.exp(6))];
    const lz = Math.log(Math.exp(2) + 1);
    const logps = [2 - lz, -lz];
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => localDistillationLoss(x as tf.Tensor2D, t, c, opts).loss)(s);
    close(num(value), -(pt[0]! * logps[0]! + pt[1]! * logps[1]!));
    // dL/ds = (softmax(s/ts) - pt) / ts
    const ps = logps.map(Math.exp);
    expectClose(grad.dataSync(), [0, 1].map((k) => (ps[k]! - pt[k]!) / 0.5), 1e-6);
    const r = localDistillationLoss(s, t, c, { ...opts, teacherTemp: tf.scalar(0.25) });
    close(num(r.loss), num(value));
    expectClose(r.center.dataSync(), [0.45, 0.1], 1e-7);
  });

  it('mean over rows; the centre uses the raw teacher rows; no gradient reaches the teacher or the centre', () => {
    const s = tf.tensor2d([[1, 0], [0, 2]]), t = tf.tensor2d([[0, 1], [3, 1]]), c = tf.tensor1d([0.5, 0]);
    const opts = { studentTemp: 0.1, teacherTemp: 0.04, centerMomentum: 0.9 };
    const rows = [0, 1].map((i) => num(localDistillationLoss(tf.slice(s, [i, 0], [1, 2]), tf.slice(t, [i, 0], [1, 2]), c, opts).loss));
    const r = localDistillationLoss(s, t, c, opts);
    close(num(r.loss), (rows[0]! + rows[1]!) / 2);
    expectClose(r.center.dataSync(), [0.9 * 0.5 + 0.1 * 1.5, 0.1 * 1], 1e-7);
    const [, gt, gc] = tf.grads((a: tf.Tensor, b: tf.Tensor, cc: tf.Tensor) => {
      const o = localDistillationLoss(a as tf.Tensor2D, b as tf.Tensor2D, cc, opts);
      return tf.add(o.loss, tf.sum(o.center));
    })([s, t, c]);
    expect(Array.from(gt!.dataSync())).toEqual([0, 0, 0, 0]);
    expect(Array.from(gc!.dataSync())).toEqual([0, 0]);
    expect(() => localDistillationLoss(s, t, tf.zeros([3]), opts)).toThrow(/expected P = 2/);
  });
});

describe('focalFrequencyLoss', () => {
  // pred [[1, 2], [3, 4]] (one image, one channel), target 0: the ortho 2x2 DFT is [[5, -1], [-2, 0]] (real)
  const pred = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const zero = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  const F = [5, -1, -2, 0];
  /** ortho 2x2 DFT of a real [[a, b], [c, d]] (its own inverse). */
  const dft = ([a, b, c, d]: number[]) => [(a! + b! + c! + d!) / 2, (a! - b! + c! - d!) / 2, (a! + b! - c! - d!) / 2, (a! - b! - c! + d!) / 2];

  it('2x2 by hand: w = log(|dF| + 1) / max, loss = mean(w |dF|^2), gradient = DFT(w dF) / 2', () => {
    const w = F.map((f) => Math.log(Math.abs(f) + 1) / Math.log(6));
    const exp = F.reduce((s, f, i) => s + w[i]! * f * f, 0) / 4;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => focalFrequencyLoss(x as tf.Tensor4D, zero))(pred);
    close(num(value), exp);
    // dL/dF = 2 w F / 4 (w constant), dL/dx = DFT^T(dL/dF) = DFT(w F / 2)
    expectClose(grad.dataSync(), dft(F.map((f, i) => (w[i]! * f) / 2)), 1e-6);
    expectClose(focalFrequencyWeight(pred, zero).dataSync(), w, 1e-6);
  });

  it('2x2 by hand: no log (alpha 2), loss weight, and a zero spectrum difference (NaN weight -> 0, loss 0)', () => {
    const w = F.map((f) => (f * f) / 25);
    close(num(focalFrequencyLoss(pred, zero, { logMatrix: false, alpha: 2, lossWeight: 3 })), (3 * F.reduce((s, f, i) => s + w[i]! * f * f, 0)) / 4);
    expect(num(focalFrequencyLoss(pred, pred))).toBe(0);
    expect(Array.from(focalFrequencyWeight(pred, pred).dataSync())).toEqual([0, 0, 0, 0]);
    const g = tf.grad((x: tf.Tensor) => focalFrequencyLoss(x as tf.Tensor4D, pred))(pred);
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0, 0]);
  });

  it('ave spectrum: the loss of a batch is the loss of its mean images; aveSpectrum false averages over images', () => {
    const a = tf.tensor4d(randomArray(2 * 4 * 4 * 3, 1), [2, 4, 4, 3]), b = tf.tensor4d(randomArray(2 * 4 * 4 * 3, 2), [2, 4, 4, 3]);
    const mean = (x: tf.Tensor4D) => tf.mean(x, 0, true) as tf.Tensor4D;
    close(num(focalFrequencyLoss(a, b)), num(focalFrequencyLoss(mean(a), mean(b))), 1e-5);
    // per-image spectra with one global max: not the sum of the per-image losses, but with per-image maxima it is
    const one = (i: number, o = {}) => num(focalFrequencyLoss(tf.slice(a, [i, 0, 0, 0], [1, 4, 4, 3]), tf.slice(b, [i, 0, 0, 0], [1, 4, 4, 3]), o));
    const perImage = { aveSpectrum: false, batchMatrix: false };
    close(num(focalFrequencyLoss(a, b, perImage)), (one(0, perImage) + one(1, perImage)) / 2, 1e-5);
  });

  it('batchMatrix false normalises each image and channel by its own max; the global max only the largest', () => {
    const a = tf.tensor4d(randomArray(2 * 4 * 4 * 3, 3), [2, 4, 4, 3]), b = tf.zeros([2, 4, 4, 3]) as tf.Tensor4D;
    const maxima = (w: tf.Tensor4D) => tf.max(w, [1, 2]).dataSync(); // [n, C]
    const per = maxima(focalFrequencyWeight(a, b, { aveSpectrum: false, batchMatrix: false }));
    expect(per.length).toBe(6);
    for (const m of per) close(m, 1, 1e-6);
    const glob = Array.from(maxima(focalFrequencyWeight(a, b, { aveSpectrum: false })));
    close(Math.max(...glob), 1, 1e-6);
    expect(Math.min(...glob)).toBeLessThan(1);
  });

  it('a predefined matrix replaces the focal weight (no normalisation, no gradient through it)', () => {
    const m = tf.tensor4d([1, 0, 0, 2], [1, 2, 2, 1]);
    close(num(focalFrequencyLoss(pred, zero, { matrix: m })), (25 + 0) / 4 + 0);
    expect(() => focalFrequencyLoss(pred, tf.zeros([1, 2, 2, 2]) as tf.Tensor4D)).toThrow(/one shape/);
  });
});

describe('focalL1', () => {
  it('a few scalars by hand: d (2 sigmoid(alpha d) - 1)^gamma, the tanh mode d tanh(alpha d)^gamma, and the residual', () => {
    const p = tf.tensor1d([0, 1, -3, 2.5]), t = tf.tensor1d([0, 3, 1, 2.5]); // d = [0, 2, 4, 0]
    const d = [0, 2, 4, 0];
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    expectClose(focalL1(p, t).dataSync(), d.map((v) => v * (2 * sig(0.2 * v) - 1)), 1e-6);
    expectClose(focalL1(p, t).dataSync(), d.map((v) => v * Math.tanh(0.1 * v)), 1e-6); // the identity of cmid.md 4.4
    expectClose(focalL1(p, t, { alpha: 0.5, gamma: 2 }).dataSync(), d.map((v) => v * (2 * sig(0.5 * v) - 1) ** 2), 1e-6);
    expectClose(focalL1(p, t, { activate: 'tanh' }).dataSync(), d.map((v) => v * Math.tanh(0.2 * v)), 1e-6);
    expectClose(focalL1(p, t, { residual: true }).dataSync(), d.map((v) => v * Math.tanh(0.1 * v) + v), 1e-6);
    // derivative d/dd [d tanh(0.1 d)] = tanh(0.1 d) + 0.1 d (1 - tanh^2), signed by pred - target; 0 at d = 0
    const g = tf.grad((x: tf.Tensor) => tf.sum(focalL1(x, t)))(p).dataSync();
    const dd = (v: number) => Math.tanh(0.1 * v) + 0.1 * v * (1 - Math.tanh(0.1 * v) ** 2);
    expectClose(g, [0, -dd(2), -dd(4), 0], 1e-6);
    expect(() => focalL1(p, t, { activate: 'relu' as 'tanh' })).toThrow(/activate/);
  });
});

describe('cmidMimLoss', () => {
  const pred = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const zero = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  const F = [5, -1, -2, 0];
  const ffl = (f: number[]) => {
    const w = f.map((v) => Math.log(Math.abs(v) + 1));
    const mx = Math.max(...w);
    return f.reduce((s, v, i) => s + (w[i]! / mx) * v * v, 0) / 4;
  };

  it('2x2, one masked mask cell (scale 2): spatial = mean focal L1 over the pixels, frequency = FFL of the prediction', () => {
    const r = cmidMimLoss(zero, pred, tf.ones([1, 1, 1]) as tf.Tensor3D, { encoderInChannels: 1 });
    const l = [1, 2, 3, 4].map((v) => v * Math.tanh(0.1 * v));
    close(num(r.spatial), l.reduce((a, b) => a + b, 0) / (4 + 1e-5));
    close(num(r.frequency), ffl(F));
    close(num(r.loss), num(r.spatial) + num(r.frequency));
  });

  it('2x2, nothing masked: spatial 0, the FFL sees 0.001 y + 0.999 (0.5 y + 0.5 x) and passes only 0.001 of its gradient', () => {
    const target = tf.tensor4d([0.5, -1, 0, 2], [1, 2, 2, 1]);
    const mask = tf.zeros([1, 1, 1]) as tf.Tensor3D;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => cmidMimLoss(target, x as tf.Tensor4D, mask).loss)(pred);
    const mixed = tf.add(tf.mul(pred, 0.001 + 0.999 * 0.5), tf.mul(target, 0.999 * 0.5)) as tf.Tensor4D;
    close(num(value), num(focalFrequencyLoss(mixed, target)), 1e-5);
    const gFfl = tf.grad((x: tf.Tensor) => focalFrequencyLoss(x as tf.Tensor4D, target))(mixed);
    expectClose(grad.dataSync(), tf.mul(gFfl, 0.001).dataSync(), 1e-5);
    expect(num(cmidMimLoss(target, pred, mask).spatial)).toBe(0);
  });

  it('mask upsampling repeats each cell (H/h x W/w); the spatial mean counts masked pixels once over channels, / encoderInChannels', () => {
    const B = 1, H = 4, W = 4, C = 3;
    const target = tf.zeros([B, H, W, C]) as tf.Tensor4D;
    const p = tf.tensor4d(randomArray(B * H * W * C, 7, -2, 2), [B, H, W, C]);
    const mask = tf.tensor3d([1, 0, 0, 1], [1, 2, 2]);
    const l = focalL1(p, target).arraySync() as number[][][][];
    let s = 0;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) if ((h < 2) === (w < 2)) for (let c = 0; c < C; c++) s += l[0]![h]![w]![c]!;
    close(num(cmidMimLoss(target, p, mask, { fftWeight: 0 }).loss), s / (8 + 1e-5) / 3);
    // unmask weight: M_s = M + 0.25 (1 - M) in numerator and denominator
    let all = 0;
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) all += l[0]![h]![w]![c]! * ((h < 2) === (w < 2) ? 1 : 0.25);
    close(num(cmidMimLoss(target, p, mask, { fftWeight: 0, unmaskWeight: 0.25 }).spatial), all / (8 + 8 * 0.25 + 1e-5) / 3);
  });

  it('rejects what the spec does not describe: other replace modes, non-integer mask scales, weights outside [0, 1]', () => {
    const t = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const m = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    expect(() => cmidMimLoss(t, t, m, { fftUnmaskReplace: 'target' as 'mixed' })).toThrow(/only 'mixed'/);
    expect(() => cmidMimLoss(t, t, tf.zeros([1, 3, 3]) as tf.Tensor3D)).toThrow(/must divide/);
    expect(() => cmidMimLoss(t, t, m, { unmaskWeight: 2 })).toThrow(/unmaskWeight/);
    expect(() => cmidMimLoss(t, t, tf.zeros([2, 2, 2]) as tf.Tensor3D)).toThrow(/mask must be/);
  });

  it('gradient w.r.t. pred = finite differences of the same loss with the detached parts (FFL weight, replaced prediction) held at their values', () => {
    const B = 2, H = 8, W = 8, C = 3, h = 2, w = 2;
    const shape = [B, H, W, C];
    const p0 = randomArray(B * H * W * C, 11, -1.5, 1.5);
    const target = tf.tensor4d(randomArray(B * H * W * C, 12, -1, 1), shape as [number, number, number, number]);
    const mask = tf.tensor3d([1, 0, 1, 1, 0, 1, 0, 0], [B, h, w]);
    const fu = 0.05; // a larger unmasked weight than CMID's 0.001, so unmasked gradients are not negligible in the check
    const opts = { fftUnmaskWeight: fu };
    // the analytic gradient of the real loss
    const M = tf.reshape(tf.tile(tf.reshape(mask, [B, h, 1, w, 1]), [1, 1, H / h, 1, W / w]), [B, H, W, 1]);
    const Mf = tf.add(M, tf.mul(tf.sub(1, M), fu));
    const pred0 = tf.tensor4d(p0, shape as [number, number, number, number]);
    const replace0 = tf.add(tf.mul(pred0, 0.5), tf.mul(target, 0.5));
    const mixed = (p: tf.Tensor) => tf.add(tf.mul(p, Mf), tf.mul(replace0, tf.sub(1, Mf))) as tf.Tensor4D;
    const w0 = focalFrequencyWeight(mixed(pred0), target);
    // the same function with the stop-gradient parts frozen at p0 (so its full derivative is what autograd gives)
    const frozen = (p: tf.Tensor) =>
      tf.add(cmidMimLoss(target, p as tf.Tensor4D, mask, { ...opts, fftWeight: 0 }).loss, focalFrequencyLoss(mixed(p), target, { matrix: w0 })) as tf.Scalar;
    close(num(frozen(pred0)), num(cmidMimLoss(target, pred0, mask, opts).loss), 1e-5);
    const analytic = tf.grad((p: tf.Tensor) => cmidMimLoss(target, p as tf.Tensor4D, mask, opts).loss)(pred0).dataSync();
    const frozenGrad = tf.grad(frozen)(pred0).dataSync();
    expectClose(analytic, frozenGrad, 1e-5, 0, 'autograd of loss vs of its frozen form');
    checkGradFiniteDiff(frozen, p0, shape, { coords: 48, eps: 1e-2, rtol: 1e-2, seed: 3 });
  });
});
