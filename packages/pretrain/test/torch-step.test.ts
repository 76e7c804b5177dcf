/**
 * One full CMID pretraining step against PyTorch 1.13 (benchmarks/reference/torch_cmid_step_parity.py): the same
 * initial state (our stateDict, reference keys), the same batch (the real CMID transform and position matching,
 * helpers/batch.ts), the same lr, EMA tau and teacher temperature. Compared: every loss term, and the whole state
 * after the step (student parameters and BN statistics, teacher parameters and BN statistics, MIM head, queue,
 * centre).
 *
 * The teacher parameters and the centre are perturbed before the step so that the EMA and the centring are not
 * trivially exact (at initialisation the teacher equals the student and the centre is zero). The step is given an
 * explicit tau so the EMA runs in this single step (the trainer skips it at step 0 only because the schedule says
 * so); tau = 0.9 rather than 0.996 makes the teacher's change 25x larger than float32 rounding of the teacher, so
 * an EMA taken after the optimiser update instead of before (quirk 5) fails the test by 3 orders of magnitude.
 * PyTorch runs in float32 and float64; we compare with float64 and report float32's own error beside it.
 * Checked to fail (by editing the Python side): EMA after the update, centre updated once (quirk 7), queue keys
 * prepended as [k_org; k_view], tanh-approximate GELU in the LocalHead.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, initBackend, loadStateDict, readSafetensors, Rng, seedInit, stateDict, writeSafetensors, type StateDict } from '@cmid/core';
import { PYTHON, torchAvailable, torchRequired } from '@cmid/core/testing';
import type { CmidConfig } from '../src/config.js';
import { CmidModel } from '../src/model/cmid-model.js';
import { cmidTrainStep } from '../src/step.js';
import { cmidBatch, SMALL } from './helpers/batch.js';
import { scaledErr } from './helpers/compare.js';

const enabled = torchAvailable();
if (!enabled && torchRequired()) throw new Error('CMID_REQUIRE_TORCH=1 but python3-torch is not importable by /usr/bin/python3.');
if (!enabled) console.warn('torch-step.test.ts: skipped, python3-torch 1.13 (/usr/bin/python3) is not installed (apt-get install -y python3-torch python3-torchvision).');

const script = fileURLToPath(new URL('../../../benchmarks/reference/torch_cmid_step_parity.py', import.meta.url));
const TAU = 0.9;
const TEACHER_TEMP = 0.045;
const TEACHER = /^branch_(encoder|projector|class_projector)\./;

/**
 * Biases of the LocalHead convs that feed a BatchNorm have a zero gradient in exact arithmetic (BN removes the
 * mean): their change is float32 noise on every implementation (float64 PyTorch moves them by ~1e-18), so it is
 * not compared (as in step.test.ts).
 */
const ZERO_GRADIENT = /^class_projector\.mlp\.[03]\.bias$/;

const dirs: string[] = [];
beforeAll(async () => {
  await initBackend();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The initial model: seeded init, then teacher parameters and the centre moved off their trivial starts. */
function initialModel(c: CmidConfig): CmidModel {
  seedInit(c.seed);
  const model = new CmidModel(c);
  const sd = stateDict(model);
  const rng = new Rng(1234);
  for (const [k, t] of sd) {
    const perturb = (TEACHER.test(k) && !/running_|num_batches|weight_g$/.test(k)) || k === 'class_loss.center';
    if (!perturb || t.dtype !== 'float32') continue;
    const d = t.data as Float32Array;
    let ss = 0;
    for (const v of d) ss += v * v;
    const s = Math.max(Math.sqrt(ss / d.length), 0.05);
    for (let i = 0; i < d.length; i++) d[i] = d[i]! + 0.05 * s * rng.normal();
  }
  loadStateDict(model, sd);
  return model;
}

interface Outcome {
  init: StateDict;
  ours: { loss: number; terms: Record<string, number>; state: StateDict };
  torch32: StateDict;
  torch64: StateDict;
}

async function oneStep(c: CmidConfig, engine: 'compiled' | 'eager'): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'cmid-torch-step-'));
  dirs.push(dir);
  const model = initialModel(c);
  const batch = cmidBatch(c, c.batchSize, 100, TEACHER_TEMP);
  const init = stateDict(model);
  await writeSafetensors(join(dir, 'state.safetensors'), init);
  await writeSafetensors(
    join(dir, 'batch.safetensors'),
    new Map(Object.entries(batch).map(([k, b]) => [k, { dtype: b.data instanceof Int32Array ? ('int32' as const) : ('float32' as const), shape: [...b.shape], data: b.data }])),
  );
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      width: (c.backboneOptions as { baseWidth: number }).baseWidth,
      size: c.size,
      out_dim: c.outDim,
      hidden_dim: c.hiddenDim,
      bottleneck_dim: c.bottleneckDim,
      class_feat_size: c.classFeatSize,
      queue_size: c.queueSize,
      queue_repeat: c.queueRepeat,
      num_layers: c.numLayers,
      use_bn: c.useBn,
      temperature: c.temperature,
      online_temp: c.onlineTemp,
      center_momentum: c.centerMomentum,
      alpha: c.alpha,
      gamma: c.focalGamma,
      fft_weight: c.fftWeight,
      fft_unmask_weight: c.fftUnmaskWeight,
      encoder_in_channels: c.encoderInChannels,
      unmask_weight: c.unmaskWeight,
      center_once: c.fixes.includes('center-once'),
      optimizer: c.optimizer,
      lr: c.lr,
      tau: TAU,
      wd: c.wd,
      momentum: 0.9,
      betas: [0.98, 0.92, 0.99],
      eps: 1e-8,
      dtypes: ['float32', 'float64'],
      threads: 2,
    }),
  );
  // PyTorch runs in a child process while our step compiles and runs
  const py = promisify(execFile)(PYTHON, [script, dir], { timeout: 300_000 });
  const trainer = await createTrainer(cmidTrainStep(model, c, c.batchSize), { engine });
  const r = await trainer.step(batch, { lr: c.lr, tau: TAU });
  trainer.syncToVariables();
  const state = stateDict(model);
  trainer.dispose();
  await py;
  const torch32 = (await readSafetensors(join(dir, 'out_float32.safetensors'))).tensors;
  const torch64 = (await readSafetensors(join(dir, 'out_float64.safetensors'))).tensors;
  return { init, ours: { loss: r.loss, terms: r.terms, state }, torch32, torch64 };
}

/** Per tensor: [key, ours vs float64, torch float32 vs float64], worst first; integer tensors must be equal. */
function compare(o: Outcome, skip?: RegExp): [string, number, number][] {
  const rows: [string, number, number][] = [];
  for (const [k, t] of o.ours.state) {
    const ref = o.torch64.get(k);
    expect(ref, `torch has ${k}`).toBeDefined();
    if (t.dtype !== 'float32') {
      // num_batches_tracked: PyTorch's is 0-d, ours [1] (PyTorch loads either); compare the count
      expect(Array.from(t.data as BigInt64Array, Number), k).toEqual(Array.from(ref!.data as BigInt64Array, Number));
      continue;
    }
    expect([...ref!.shape], k).toEqual([...t.shape]);
    if (skip?.test(k)) continue;
    rows.push([k, scaledErr(t.data as Float32Array, ref!.data as Float32Array), scaledErr(o.torch32.get(k)!.data as Float32Array, ref!.data as Float32Array)]);
  }
  expect(rows.length).toBeGreaterThan(100);
  return rows.sort((x, y) => y[1] - x[1]);
}

/**
 * Per float tensor that the step changes: [key, our change vs float64's, torch float32's change vs float64's],
 * each relative to the largest element of float64's change. This is the strict check of the gradients and the
 * optimiser: an update is about lr x gradient, far below 1e-4 of most weights, so comparing the tensors alone
 * would hide a wrong gradient. Tensors that do not change (frozen weight_g) must not change here either.
 */
function compareDelta(o: Outcome, skip?: RegExp): [string, number, number][] {
  const rows: [string, number, number][] = [];
  for (const [k, t] of o.ours.state) {
    if (t.dtype !== 'float32' || skip?.test(k)) continue;
    const before = o.init.get(k)!.data as Float32Array, after = t.data as Float32Array;
    const ours = Float64Array.from(after, (v, i) => v - before[i]!);
    const ref = o.torch64.get(`delta:${k}`)!.data as Float32Array;
    const ref32 = o.torch32.get(`delta:${k}`)!.data as Float32Array;
    let scale = 0;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    if (scale === 0) {
      expect(Math.max(...Array.from(ours, Math.abs)), `${k} does not change`).toBe(0);
      continue;
    }
    rows.push([k, scaledErr(ours, ref, 0), scaledErr(ref32, ref, 0)]);
  }
  return rows.sort((x, y) => y[1] - x[1]);
}

function lossTerms(o: Outcome, tol: number): void {
  const ref = (k: string) => (o.torch64.get(k)!.data as Float32Array)[0]!;
  const ref32 = (k: string) => (o.torch32.get(k)!.data as Float32Array)[0]!;
  expect(Math.abs(o.ours.loss - ref('loss')) / Math.abs(ref('loss')), 'loss').toBeLessThan(tol);
  for (const k of ['loss_rec', 'global_loss', 'pixel_loss']) {
    expect(Math.abs(o.ours.terms[k]! - ref(k)) / Math.abs(ref(k)), `${k} vs torch float64`).toBeLessThan(tol);
    expect(Math.abs(o.ours.terms[k]! - ref32(k)) / Math.abs(ref32(k)), `${k} vs torch float32`).toBeLessThan(tol);
  }
}

const report = (label: string, rows: [string, number, number][]) => {
  const median = rows[Math.floor(rows.length / 2)]!;
  console.log(`${label}: ${rows.length} float tensors; median ${median[1].toExponential(2)}; worst: ${rows.slice(0, 5).map(([k, a, b]) => `${k} ${a.toExponential(2)} (torch f32 ${b.toExponential(2)})`).join(', ')}`);
};

/**
 * The whole check for one configuration and engine. Bounds (see the file header and docs/deviations.md):
 * - loss terms: 1e-4 relative to PyTorch float64 and float32 (measured with SGD: ~1e-7);
 * - tensors after the step: 1e-4 of each tensor's scale, every tensor (measured: worst 6e-6), integer buffers equal;
 * - each tensor's CHANGE in the step, relative to the largest element of float64's change: max(1e-4, 2 x PyTorch
 *   float32's own error) per tensor, and the median below 1e-4. The second term is the float32 floor: a change of
 *   lr x gradient (or (1 - tau) x (student - teacher) for the teacher) is ~1e-4 of the weights, so rounding the new
 *   weights to float32 alone costs ~6e-8 / 1e-4 of the change; PyTorch float32 pays exactly the same (measured:
 *   our error equals its error to three digits on the worst tensors, 5e-4 on teacher tensors).
 */
async function checkStep(label: string, c: CmidConfig, engine: 'compiled' | 'eager', tol = 1e-4): Promise<void> {
  const o = await oneStep(c, engine);
  const r64 = (k: string) => (o.torch64.get(k)!.data as Float32Array)[0]!;
  console.log(`${label}: loss terms ${['loss_rec', 'global_loss', 'pixel_loss'].map((k) => `${k} ${o.ours.terms[k]!.toFixed(6)} (rel ${(Math.abs(o.ours.terms[k]! - r64(k)) / Math.abs(r64(k))).toExponential(1)})`).join(', ')}`);
  lossTerms(o, 1e-4);
  const rows = compare(o, ZERO_GRADIENT);
  report(`${label}, state`, rows);
  const deltas = compareDelta(o, ZERO_GRADIENT);
  report(`${label}, change`, deltas);
  expect(rows[0]![1], `worst tensor ${rows[0]![0]}`).toBeLessThan(tol);
  expect(deltas.length).toBeGreaterThan(200);
  for (const [k, err, err32] of deltas) expect(err, `change of ${k} (torch float32: ${err32})`).toBeLessThan(Math.max(tol, 2 * err32));
  expect(deltas[Math.floor(deltas.length / 2)]![1], 'median change error').toBeLessThan(1e-4);
  // the step moved what it should: student, mask token, heads, teacher (EMA), queue, centre, BN statistics
  for (const k of ['online_encoder.model.conv1.weight', 'online_encoder.mask_token', 'mim2org.decoder_pred.0.weight', 'online_projector.layer.0.3.weight', 'class_projector.last_layer.weight_v', 'branch_encoder.conv1.weight', 'branch_class_projector.mlp.6.weight', 'queue', 'class_loss.center', 'branch_encoder.bn1.running_mean']) {
    expect(deltas.some(([n]) => n === k), `${k} changes`).toBe(true);
  }
}

describe.skipIf(!enabled)('one CMID step against PyTorch 1.13 (SMALL: ResNet-18 width 8, 64 px, batch 4)', () => {
  it('SGD, compiled engine: loss terms, student, teacher, BN statistics, queue and centre', async () => {
    await checkStep('sgd compiled', SMALL, 'compiled');
  }, 240_000);

  it('SGD, eager engine (bounds 1e-3: the eager wasm kernels sum in another order, see docs/deviations.md)', async () => {
    // measured: loss_rec 1.2e-5 relative, worst tensor 1.0e-4 (layer2.1.bn2.weight, zero-initialised gamma, so
    // its value is its change), median change 1e-5; the eager wasm and eager cpu backends differ by up to 1.1e-3
    await checkStep('sgd eager', SMALL, 'eager', 1e-3);
  }, 240_000);

  it('Adan, compiled engine', async () => {
    // Adan's first update is about lr x g / |g|, so float32 noise in small gradients shows in the change (measured
    // worst 3.7e-3 of the change, equal to PyTorch float32's own error); the bound is relative to that error
    await checkStep('adan compiled', { ...SMALL, optimizer: 'adan', lr: 1e-3 }, 'compiled');
  }, 240_000);
});
