/**
 * The four optimisers against PyTorch 1.13 (scripts/parity/optim.py): several steps on random parameters of
 * several shapes (conv HWIO, linear, bias, plain 3-D), with and without weight decay, lr scales, a changing lr,
 * momentum / Nesterov / dampening variants, through the eager driver (createOptimizerState + applyOptimizer).
 * Every parameter after every step and every state slot after the last step must match to 1e-6 relative to the
 * largest reference magnitude. Negative controls show the comparison catches the subtle cases (first-step
 * momentum buffer with dampening, Adan's first-step difference, LARS exclusion).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/index.js';
import { compareClose, randomArray, runTorch, torchAvailable, torchRequired, type OracleArray } from '../../../src/testing/index.js';
import { adamw, adan, applyOptimizer, createOptimizerState, disposeOptimizerState, lars, sgd, type Optimizer, type ParamEntry } from '../../../src/train/optim/index.js';

const PARITY_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'parity');
const RTOL = 1e-6;

interface CaseParam {
  shape: number[];
  weightDecay: number;
  lrScale?: number;
  /** gradient scale (default 1) */
  gradScale?: number;
  /** initial values all zero */
  zeroInit?: boolean;
  /** steps (1-based) whose gradient is all zero */
  zeroGradAt?: number[];
}
interface Case {
  id: string;
  kind: 'sgd' | 'adamw' | 'lars' | 'adan';
  hyper: Record<string, number | boolean | number[]>;
  params: CaseParam[];
  lrs: number[];
}

const CONV = [3, 3, 4, 5];
const LIN = [6, 4];
const BIAS = [7];
const PLAIN = [2, 3, 2];

const CASES: Case[] = [
  // --- SGD (torch.optim.SGD)
  { id: 'sgd_mom', kind: 'sgd', hyper: { momentum: 0.9 }, lrs: [0.1, 0.05, 0.2, 0.08, 0.12],
    params: [{ shape: CONV, weightDecay: 0.05 }, { shape: BIAS, weightDecay: 0 }, { shape: LIN, weightDecay: 0.05, lrScale: 0.5 }] },
  { id: 'sgd_nesterov', kind: 'sgd', hyper: { momentum: 0.9, nesterov: true }, lrs: [0.1, 0.05, 0.2, 0.08, 0.12],
    params: [{ shape: CONV, weightDecay: 1e-2 }, { shape: BIAS, weightDecay: 0 }, { shape: PLAIN, weightDecay: 0.1, gradScale: 3 }] },
  { id: 'sgd_plain', kind: 'sgd', hyper: {}, lrs: [0.3, 0.1, 0.2, 0.05],
    params: [{ shape: LIN, weightDecay: 0.05 }, { shape: BIAS, weightDecay: 0 }] },
  { id: 'sgd_damp', kind: 'sgd', hyper: { momentum: 0.8, dampening: 0.3 }, lrs: [0.2, 0.1, 0.15, 0.1, 0.05],
    params: [{ shape: CONV, weightDecay: 0.02 }, { shape: BIAS, weightDecay: 0 }] },
  // --- AdamW (torch.optim.AdamW)
  { id: 'adamw_default', kind: 'adamw', hyper: {}, lrs: [1e-2, 5e-3, 2e-2, 1e-2, 8e-3, 1.5e-2],
    params: [{ shape: CONV, weightDecay: 0.05 }, { shape: BIAS, weightDecay: 0 }, { shape: LIN, weightDecay: 0.05, lrScale: 0.3 }] },
  { id: 'adamw_mae', kind: 'adamw', hyper: { betas: [0.9, 0.95], eps: 1e-6 }, lrs: [2e-2, 1e-2, 3e-2, 5e-3, 1e-2],
    params: [{ shape: LIN, weightDecay: 0.05, gradScale: 1e-4 }, { shape: PLAIN, weightDecay: 0.05, gradScale: 10 }, { shape: BIAS, weightDecay: 0 }] },
  // --- LARS (solo-learn)
  { id: 'lars_byol', kind: 'lars', hyper: { momentum: 0.9, eta: 0.02, excludeBiasAndNorm: true }, lrs: [0.5, 0.3, 0.8, 0.4, 0.6],
    params: [
      { shape: CONV, weightDecay: 0.01 },
      { shape: BIAS, weightDecay: 0.01 }, // excluded: neither trust ratio nor decay
      { shape: LIN, weightDecay: 0.01, zeroInit: true }, // ||p|| = 0 on step 1: plain gradient
      { shape: PLAIN, weightDecay: 0.01, zeroGradAt: [2, 4] }, // ||g|| = 0: plain (zero) gradient, no decay
    ] },
  { id: 'lars_clip', kind: 'lars', hyper: { momentum: 0.9, nesterov: true, eta: 0.001, clipLr: true }, lrs: [0.1, 0.05, 0.2, 0.1],
    params: [
      { shape: CONV, weightDecay: 1e-3, gradScale: 1e-2 }, // trust / lr near 1: clipped at the small lrs only
      { shape: LIN, weightDecay: 1e-3 }, // trust / lr < 1
      { shape: BIAS, weightDecay: 1e-3, lrScale: 0.5 }, // not excluded in this case
    ] },
  { id: 'lars_nomom', kind: 'lars', hyper: { eta: 0.02 }, lrs: [1, 0.5, 2],
    params: [{ shape: LIN, weightDecay: 0.05 }, { shape: BIAS, weightDecay: 0 }] },
  // --- Adan (cmid.md 8.2)
  { id: 'adan_cmid', kind: 'adan', hyper: {}, lrs: [0.02, 0.04, 0.03, 0.05, 0.01, 0.02, 0.03],
    params: [{ shape: CONV, weightDecay: 0.02 }, { shape: BIAS, weightDecay: 0 }, { shape: LIN, weightDecay: 0.02, gradScale: 0.01 }] },
  { id: 'adan_noprox', kind: 'adan', hyper: { betas: [0.9, 0.9, 0.999], noProx: true, eps: 1e-6 }, lrs: [0.05, 0.02, 0.04, 0.03],
    params: [{ shape: PLAIN, weightDecay: 0.1, lrScale: 0.7 }, { shape: LIN, weightDecay: 0, gradScale: 5 }] },
];

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

function makeOptimizer(c: Case): Optimizer {
  const h = c.hyper as Record<string, never>;
  switch (c.kind) {
    case 'sgd':
      return sgd(h);
    case 'adamw':
      return adamw(h);
    case 'lars':
      return lars(h);
    case 'adan':
      return adan(h);
  }
}

/** Inputs shared by both sides: <id>_p<i> and <id>_g<i>_<t>. */
function caseInputs(c: Case, k: number): Record<string, OracleArray> {
  const out: Record<string, OracleArray> = {};
  c.params.forEach((p, i) => {
    const n = numel(p.shape);
    out[`${c.id}_p${i}`] = { data: p.zeroInit ? new Float32Array(n) : randomArray(n, 1000 * k + i), shape: p.shape };
    c.lrs.forEach((_, j) => {
      const t = j + 1;
      const g = p.zeroGradAt?.includes(t) ? new Float32Array(n) : randomArray(n, 1000 * k + 100 * t + i + 17);
      const scale = p.gradScale ?? 1;
      if (scale !== 1) for (let e = 0; e < n; e++) g[e]! *= scale;
      out[`${c.id}_g${i}_${t}`] = { data: g, shape: p.shape };
    });
  });
  return out;
}

const INPUTS: Record<string, OracleArray> = Object.assign({}, ...CASES.map((c, k) => caseInputs(c, k)));

interface Trajectory {
  params: Float32Array[][]; // [step-1][param]
  slots: Record<string, Float32Array>[]; // [param][slot]
}

/** Our eager trajectory: applyOptimizer over all parameters for each step. */
function runOurs(c: Case, opt: Optimizer = makeOptimizer(c)): Trajectory {
  const entries: ParamEntry[] = c.params.map((p, i) => ({
    spec: { name: `p${i}`, shape: p.shape, weightDecay: p.weightDecay, larsExclude: p.shape.length === 1, ...(p.lrScale !== undefined ? { lrScale: p.lrScale } : {}) },
    variable: tf.tidy(() => tf.variable(tf.tensor(INPUTS[`${c.id}_p${i}`]!.data, p.shape))),
  }));
  const state = createOptimizerState(opt, entries);
  const params: Float32Array[][] = [];
  c.lrs.forEach((lr, j) => {
    const t = j + 1;
    const grads = Object.fromEntries(c.params.map((p, i) => [`p${i}`, tf.tensor(INPUTS[`${c.id}_g${i}_${t}`]!.data, p.shape)]));
    applyOptimizer(opt, entries, grads, state, t, lr);
    tf.dispose(Object.values(grads));
    params.push(entries.map((e) => Float32Array.from(e.variable.dataSync())));
  });
  expect(state.step).toBe(c.lrs.length);
  const slots = entries.map((e) => Object.fromEntries(opt.slots.map((s) => [s, Float32Array.from(state.slots.get(e.spec.name)![s]!.dataSync())])));
  disposeOptimizerState(state);
  entries.forEach((e) => e.variable.dispose());
  return { params, slots };
}

let torchOut: Record<string, OracleArray> | undefined;
function torchResults(): Record<string, OracleArray> {
  torchOut ??= runTorch(
    `import sys\nsys.path.insert(0, ${JSON.stringify(PARITY_DIR)})\nimport optim\n` +
      `outputs.update(optim.run_cases(json.loads(${JSON.stringify(JSON.stringify(CASES))}), inputs))`,
    INPUTS,
  );
  return torchOut;
}

/** Worst error relative to the reference scale over every step, parameter and slot. */
function compareCase(c: Case, ours: Trajectory, ref: Record<string, OracleArray>): { worst: number; where: string; moved: number[] } {
  let worst = 0;
  let where = '';
  const note = (label: string, a: Float32Array, e: Float32Array) => {
    const r = compareClose(a, e, 0, 0);
    const rel = r.scale > 0 ? r.maxAbsDiff / r.scale : r.maxAbsDiff;
    if (!(rel <= worst)) {
      worst = rel;
      where = `${label}: ${r.message}`;
    }
  };
  c.lrs.forEach((_, j) => {
    c.params.forEach((_, i) => {
      const e = ref[`${c.id}_p${i}_${j + 1}`];
      if (e === undefined) throw new Error(`torch output ${c.id}_p${i}_${j + 1} missing`);
      note(`${c.id} param ${i} after step ${j + 1}`, ours.params[j]![i]!, e.data);
    });
  });
  const opt = makeOptimizer(c);
  c.params.forEach((_, i) => {
    for (const slot of opt.slots) {
      const e = ref[`${c.id}_s${i}_${slot}`];
      if (e === undefined) throw new Error(`torch state ${c.id}_s${i}_${slot} missing`);
      note(`${c.id} param ${i} slot ${slot}`, ours.slots[i]![slot]!, e.data);
    }
  });
  // how far each parameter moved, relative to its scale: the comparison is not vacuous
  const moved = c.params.map((_, i) => {
    const p0 = INPUTS[`${c.id}_p${i}`]!.data;
    const pT = ref[`${c.id}_p${i}_${c.lrs.length}`]!.data;
    const r = compareClose(pT, p0, 0, 0);
    return r.maxAbsDiff / Math.max(compareClose(pT, pT, 0, 0).scale, 1e-30);
  });
  return { worst, where, moved };
}

const haveTorch = torchAvailable();
const SKIP_NOTE = haveTorch ? '' : ' (SKIPPED: /usr/bin/python3 cannot import torch; set CMID_REQUIRE_TORCH=1 to fail instead)';
if (!haveTorch && !torchRequired()) console.warn(`optimizer torch parity skipped: /usr/bin/python3 has no torch (apt-get install python3-torch, or CMID_REQUIRE_TORCH=1 to fail).`);

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('optimizers vs PyTorch 1.13 (scripts/parity/optim.py)', () => {
  const worstByKind: Record<string, number> = {};

  for (const kind of ['sgd', 'adamw', 'lars', 'adan'] as const) {
    const cases = CASES.filter((c) => c.kind === kind);
    it.skipIf(!haveTorch && !torchRequired())(`${kind}: ${cases.map((c) => c.id).join(', ')} match to ${RTOL} relative at every step${SKIP_NOTE}`, () => {
      expect(haveTorch, 'CMID_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch (apt-get install python3-torch)').toBe(true);
      const ref = torchResults();
      for (const c of cases) {
        const { worst, where, moved } = compareCase(c, runOurs(c), ref);
        worstByKind[kind] = Math.max(worstByKind[kind] ?? 0, worst);
        console.log(`${c.id}: max relative error ${worst.toExponential(2)} (${where.split(':')[0]}); parameters moved by ${moved.map((m) => m.toExponential(1)).join(', ')} of their scale`);
        expect(worst, where).toBeLessThanOrEqual(RTOL);
        for (const m of moved) expect(m, `${c.id}: a parameter barely moved, the comparison would be vacuous`).toBeGreaterThan(1000 * RTOL);
      }
      console.log(`${kind}: worst relative error vs torch over all cases ${worstByKind[kind]!.toExponential(2)}`);
    });
  }

  it.skipIf(!haveTorch && !torchRequired())(`negative controls: plausible mistakes are far outside the tolerance${SKIP_NOTE}`, () => {
    expect(haveTorch, 'CMID_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch').toBe(true);
    const ref = torchResults();
    const byId = (id: string) => CASES.find((c) => c.id === id)!;
    const withScalars = (opt: Optimizer, f: (step: number, s: Record<string, number>) => Record<string, number>): Optimizer => ({
      ...opt,
      scalars: (step: number, lr: number) => f(step, opt.scalars(step, lr)),
    });
    const controls: [string, Case, Optimizer][] = [
      // SGD without torch's first-step special case: buf = (1 - dampening) * d on step 1
      ['sgd first step without clone', byId('sgd_damp'), withScalars(sgd({ momentum: 0.8, dampening: 0.3 }), (_, s) => ({ ...s, gradCoef: 0.7 }))],
      // Adan with g_prev = 0 on step 1 (diff = g instead of 0)
      ['adan first diff = g', byId('adan_cmid'), withScalars(adan(), (_, s) => ({ ...s, notFirst: 1 }))],
      // Adan without bias correction of the v term
      ['adan no bc2', byId('adan_cmid'), withScalars(adan(), (_, s) => ({ ...s, bc2: 1 }))],
      // AdamW without the first-moment bias correction (stepSize = lr)
      ['adamw without bias correction 1', byId('adamw_default'), withScalars(adamw(), (_, s) => ({ ...s, stepSize: s.lr! }))],
      // LARS applying the trust ratio to excluded 1-D parameters
      ['lars without exclusion', byId('lars_byol'), lars({ momentum: 0.9, eta: 0.02, excludeBiasAndNorm: false })],
      // LARS without the clip
      ['lars without clip', byId('lars_clip'), lars({ momentum: 0.9, nesterov: true, eta: 0.001 })],
    ];
    for (const [label, c, opt] of controls) {
      const { worst } = compareCase(c, runOurs(c, opt), ref);
      console.log(`control "${label}": relative error ${worst.toExponential(2)}`);
      expect(worst, label).toBeGreaterThan(100 * RTOL);
    }
  });
});
