/**
 * The pure-update contract and the eager machinery around it (no torch needed):
 * purity of `update`, traceability (one ONNX graph, exported at step 1, reproduces the eager update at later
 * steps when only the scalar inputs change), the eager driver, state (de)serialisation, parameter specs from a
 * Module, and option validation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Conv2d, initBackend, LayerNorm, Linear, Module, createSession, decodeSafetensors, encodeSafetensors, exportFunction, loadOrt, trace, LOWERINGS } from '../../../src/index.js';
import { expectClose, randomArray } from '../../../src/testing/index.js';
import {
  adamw,
  adan,
  applyOptimizer,
  createOptimizer,
  createOptimizerState,
  disposeOptimizerState,
  lars,
  loadOptimizerStateDict,
  optimizerMetadata,
  optimizerScalars,
  optimizerStateDict,
  paramSpecsFromModule,
  sgd,
  type Optimizer,
  type ParamSpec,
} from '../../../src/train/optim/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const OPTIMIZERS: [string, () => Optimizer][] = [
  ['sgd momentum 0.9 dampening 0.1', () => sgd({ momentum: 0.9, dampening: 0.1 })],
  ['sgd nesterov', () => sgd({ momentum: 0.9, nesterov: true })],
  ['sgd plain', () => sgd()],
  ['adamw', () => adamw({ betas: [0.9, 0.95] })],
  ['lars clip + exclude', () => lars({ momentum: 0.9, eta: 0.02, clipLr: true, excludeBiasAndNorm: true })],
  ['lars no momentum', () => lars({ eta: 0.001 })],
  ['adan', () => adan()],
  ['adan no_prox', () => adan({ noProx: true })],
];

const SPEC: ParamSpec = { name: 'w', shape: [4, 3], weightDecay: 0.05, lrScale: 0.5 };
const BIAS_SPEC: ParamSpec = { name: 'b', shape: [3], weightDecay: 0, larsExclude: true };

function inputsFor(opt: Optimizer, spec: ParamSpec, seed: number) {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const p = tf.tensor(randomArray(n, seed), spec.shape);
  const g = tf.tensor(randomArray(n, seed + 1), spec.shape);
  const state = Object.fromEntries(opt.slots.map((s, i) => [s, tf.tensor(randomArray(n, seed + 2 + i, s === 'exp_avg_sq' && opt.kind === 'adamw' ? 0 : -1, 1), spec.shape)]));
  return { p, g, state };
}

describe('update is pure', () => {
  for (const [label, make] of OPTIMIZERS) {
    it(`${label}: same inputs give bit-identical outputs; inputs unchanged and still alive after the outputs are disposed`, () => {
      const opt = make();
      for (const spec of [SPEC, BIAS_SPEC]) {
        const { p, g, state } = inputsFor(opt, spec, 11);
        const before = [p, g, ...Object.values(state)].map((t) => Array.from(t.dataSync()));
        for (const step of [1, 4]) {
          const s = optimizerScalars(opt, step, 0.1);
          const a = opt.update(p, g, state, spec, s);
          const b = opt.update(p, g, state, spec, s);
          expect(Object.keys(a.state).sort()).toEqual([...opt.slots].sort());
          expect(Array.from(a.param.dataSync())).toEqual(Array.from(b.param.dataSync()));
          for (const k of opt.slots) expect(Array.from(a.state[k]!.dataSync())).toEqual(Array.from(b.state[k]!.dataSync()));
          // the update does something
          expect(Array.from(a.param.dataSync())).not.toEqual(before[0]);
          tf.dispose([a.param, b.param, ...Object.values(a.state), ...Object.values(b.state), ...Object.values(s)]);
        }
        const after = [p, g, ...Object.values(state)].map((t) => Array.from(t.dataSync()));
        expect(after).toEqual(before);
        tf.dispose([p, g, ...Object.values(state)]);
      }
    });
  }
});

async function runOnnx(model: Uint8Array, feeds: Record<string, tf.Tensor>): Promise<Record<string, Float32Array>> {
  const ort = await loadOrt();
  const sess = await createSession(model, { threads: 1 });
  const out = await sess.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', Float32Array.from(t.dataSync()), t.shape)])));
  await sess.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('update is traceable (the compiled engine path)', () => {
  for (const [label, make] of OPTIMIZERS) {
    it(`${label}: every traced op has an ONNX lowering, and the graph exported at step 1 reproduces the eager update at steps 1, 2 and 7`, async () => {
      const opt = make();
      for (const spec of [SPEC, BIAS_SPEC]) {
        const { p, g, state } = inputsFor(opt, spec, 21);
        const scalarNames = Object.keys(opt.scalars(1, 0.1));
        const f = (inp: Record<string, tf.Tensor>) => {
          const st = Object.fromEntries(opt.slots.map((k) => [k, inp[`state_${k}`]!]));
          const s = Object.fromEntries(scalarNames.map((k) => [k, inp[`s_${k}`] as tf.Scalar]));
          const r = opt.update(inp.p!, inp.g!, st, spec, s);
          return { param: r.param, ...Object.fromEntries(opt.slots.map((k) => [`new_${k}`, r.state[k]!])) };
        };
        const feeds = (step: number) => {
          const s = optimizerScalars(opt, step, 0.1 * step);
          return { p, g, ...Object.fromEntries(opt.slots.map((k) => [`state_${k}`, state[k]!])), ...Object.fromEntries(Object.entries(s).map(([k, v]) => [`s_${k}`, v])) };
        };
        const first = feeds(1);
        const traced = trace(f, { inputs: first });
        const missing = traced.graph.nodes.filter((n) => !n.folded && LOWERINGS[n.op] === undefined).map((n) => n.op);
        expect(missing, 'ops without ONNX lowering').toEqual([]);
        tf.dispose(traced.outputs);
        const { model, eagerOutputs } = exportFunction(f, first, {}, { dynamicBatch: false });
        tf.dispose(eagerOutputs);
        for (const step of [1, 2, 7]) {
          const fd = feeds(step);
          const eager = f(fd);
          const got = await runOnnx(model, fd);
          for (const [k, t] of Object.entries(eager)) expectClose(got[k]!, t.dataSync(), 1e-6, 1e-7, `${label} ${spec.name} step ${step} ${k}`);
          tf.dispose([...Object.values(eager), ...Object.keys(fd).filter((k) => k.startsWith('s_')).map((k) => fd[k as keyof typeof fd] as tf.Tensor)]);
        }
        tf.dispose([p, g, ...Object.values(state), ...Object.keys(first).filter((k) => k.startsWith('s_')).map((k) => first[k as keyof typeof first] as tf.Tensor)]);
      }
    });
  }
});

describe('applyOptimizer (eager driver)', () => {
  it('equals update() on each parameter, skips parameters without a gradient, sets step, and leaks no tensors', () => {
    const opt = adan();
    const specs: ParamSpec[] = [SPEC, BIAS_SPEC, { name: 'frozen_like', shape: [2, 2], weightDecay: 0.02 }];
    const entries = specs.map((spec, i) => ({ spec, variable: tf.tidy(() => tf.variable(tf.tensor(randomArray(spec.shape.reduce((a, b) => a * b, 1), 40 + i), spec.shape))) }));
    const beforeState = tf.memory().numTensors;
    const state = createOptimizerState(opt, entries);
    expect(tf.memory().numTensors).toBe(beforeState + 3 * opt.slots.length); // one variable per slot, nothing else
    for (const e of entries) for (const k of opt.slots) expect(Array.from(state.slots.get(e.spec.name)![k]!.dataSync()).every((v) => v === 0)).toBe(true);
    const grads = { w: tf.tensor(randomArray(12, 50), [4, 3]), b: tf.tensor(randomArray(3, 51), [3]) };
    const p0 = entries.map((e) => Array.from(e.variable.dataSync()));
    // expected: update() on copies, step 1
    const s = optimizerScalars(opt, 1, 0.03);
    const expected = entries.slice(0, 2).map((e) => tf.tidy(() => {
      const zeros = Object.fromEntries(opt.slots.map((k) => [k, tf.zeros(e.spec.shape)]));
      const r = opt.update(e.variable, grads[e.spec.name as 'w' | 'b'], zeros, e.spec, s);
      const out = { param: Array.from(r.param.dataSync()), state: Object.fromEntries(opt.slots.map((k) => [k, Array.from(r.state[k]!.dataSync())])) };
      return out;
    }));
    tf.dispose(Object.values(s));
    const before = tf.memory().numTensors;
    applyOptimizer(opt, entries, grads, state, 1, 0.03);
    expect(tf.memory().numTensors).toBe(before);
    expect(state.step).toBe(1);
    expected.forEach((x, i) => {
      expect(Array.from(entries[i]!.variable.dataSync())).toEqual(x.param);
      for (const k of opt.slots) expect(Array.from(state.slots.get(entries[i]!.spec.name)![k]!.dataSync())).toEqual(x.state[k]);
    });
    expect(Array.from(entries[2]!.variable.dataSync())).toEqual(p0[2]); // no gradient: untouched
    // a second step runs from the stored state
    applyOptimizer(opt, entries, grads, state, 2, 0.03);
    expect(tf.memory().numTensors).toBe(before);
    expect(state.step).toBe(2);
    // shape errors are reported
    const bad = tf.zeros([3, 4]);
    expect(() => applyOptimizer(opt, entries, { w: bad }, state, 3, 0.03)).toThrow(/"w" has spec shape \[4,3\]/);
    bad.dispose();
    disposeOptimizerState(state);
    expect(tf.memory().numTensors).toBe(beforeState + 2); // the two gradients remain
    tf.dispose([...Object.values(grads), ...entries.map((e) => e.variable)]);
  });

  it('SGD and LARS without momentum have no slots; AdamW and Adan have the PyTorch / CMID slot names', () => {
    expect(sgd().slots).toEqual([]);
    expect(sgd({ momentum: 0.9 }).slots).toEqual(['momentum_buffer']);
    expect(lars().slots).toEqual([]);
    expect(adamw().slots).toEqual(['exp_avg', 'exp_avg_sq']);
    expect(adan().slots).toEqual(['exp_avg', 'exp_avg_sq', 'exp_avg_diff', 'pre_grad']);
    expect(createOptimizer({ kind: 'adan' }).hyper).toEqual({ beta1: 0.98, beta2: 0.92, beta3: 0.99, eps: 1e-8, noProx: false });
    expect(createOptimizer({ kind: 'lars', eta: 0.02 }).kind).toBe('lars');
  });

  it('scalars: bias corrections and first-step flags computed in float64', () => {
    expect(adan().scalars(1, 0.004)).toEqual({ lr: 0.004, bc1: 1 - 0.98, bc2: 1 - 0.92, bc3Sqrt: Math.sqrt(1 - 0.99), notFirst: 0 });
    expect(adan().scalars(3, 0.004).notFirst).toBe(1);
    const a = adamw().scalars(2, 1e-3);
    expect(a.stepSize).toBeCloseTo(1e-3 / (1 - 0.9 ** 2), 15);
    expect(a.bc2Sqrt).toBeCloseTo(Math.sqrt(1 - 0.999 ** 2), 15);
    expect(sgd({ momentum: 0.9, dampening: 0.25 }).scalars(1, 0.1).gradCoef).toBe(1);
    expect(sgd({ momentum: 0.9, dampening: 0.25 }).scalars(2, 0.1).gradCoef).toBe(0.75);
    expect(() => adan().scalars(0, 0.1)).toThrow(/step must be an integer >= 1/);
  });

  it('rejects invalid options like torch does', () => {
    expect(() => sgd({ nesterov: true })).toThrow(/Nesterov/);
    expect(() => sgd({ momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => adamw({ betas: [1, 0.999] })).toThrow(/beta1/);
    expect(() => adan({ betas: [0.98, 0.92, -0.1] })).toThrow(/beta3/);
    expect(() => lars({ momentum: -1 })).toThrow(/momentum/);
  });
});

class Toy extends Module {
  readonly conv = this.child('conv', new Conv2d(2, 3, 3));
  readonly norm = this.child('norm', new LayerNorm(3));
  readonly head = this.child('head', new Linear(3, 4));
  readonly table: tf.Variable;
  readonly maskToken: tf.Variable;
  constructor() {
    super();
    // like Swin's relative_position_bias_table: 2-D but flagged no-decay by the module
    this.table = this.param('relative_position_bias_table', tf.zeros([5, 2]), 'plain', false);
    this.maskToken = this.param('mask_token', tf.zeros([1, 1, 3]), 'plain', false);
  }
}

describe('paramSpecsFromModule', () => {
  it("'module' rule: module flags + extras; 'timm' rule: ndim <= 1 or .bias or extras (CMID 8.1); 'all'; order, lrScale, larsExclude, layout", () => {
    const m = new Toy();
    const byName = (xs: ReturnType<typeof paramSpecsFromModule>) => Object.fromEntries(xs.map((e) => [e.spec.name, e.spec]));
    const mod = paramSpecsFromModule(m, { weightDecay: 0.02, extraNoDecay: ['head.weight'] });
    expect(mod.map((e) => e.spec.name)).toEqual(m.namedParameters().map(([n]) => n));
    const a = byName(mod);
    expect(a['conv.weight']!.weightDecay).toBe(0.02);
    expect(a['conv.bias']!.weightDecay).toBe(0);
    expect(a['norm.weight']!.weightDecay).toBe(0);
    expect(a['head.weight']!.weightDecay).toBe(0); // extra
    expect(a['relative_position_bias_table']!.weightDecay).toBe(0); // module flag
    expect(a['mask_token']!.weightDecay).toBe(0);
    expect(a['conv.weight']!.layout).toBe('conv2d');
    expect(a['head.weight']!.layout).toBe('linear');
    expect(a['conv.bias']!.larsExclude).toBe(true);
    expect(a['conv.weight']!.larsExclude).toBe(false);
    expect(a['conv.weight']!.lrScale).toBeUndefined();

    const timm = byName(paramSpecsFromModule(m, { weightDecay: 0.02, rule: 'timm', lrScale: (n) => (n.startsWith('head.') ? 1 : 0.5) }));
    expect(timm['relative_position_bias_table']!.weightDecay).toBe(0.02); // CMID decays it (no no_weight_decay())
    expect(timm['mask_token']!.weightDecay).toBe(0.02);
    expect(timm['head.weight']!.weightDecay).toBe(0.02);
    expect(timm['head.bias']!.weightDecay).toBe(0);
    expect(timm['norm.weight']!.weightDecay).toBe(0);
    expect(timm['conv.weight']!.lrScale).toBe(0.5);
    expect(timm['head.weight']!.lrScale).toBeUndefined();

    const all = paramSpecsFromModule(m, { weightDecay: 1e-4, rule: 'all' });
    expect(all.every((e) => e.spec.weightDecay === 1e-4)).toBe(true);

    m.freeze((n) => n.startsWith('norm.'));
    expect(paramSpecsFromModule(m, { weightDecay: 0.02 }).map((e) => e.spec.name)).not.toContain('norm.weight');
    m.dispose();
  });
});

describe('optimizer state (de)serialisation', () => {
  it('state.<param>.<slot> in PyTorch layout + step; round trip through safetensors restores every value', () => {
    const m = new Toy();
    const entries = paramSpecsFromModule(m, { weightDecay: 0.02 });
    const opt = adan();
    const state = createOptimizerState(opt, entries);
    const grads = Object.fromEntries(entries.map((e, i) => [e.spec.name, tf.tensor(randomArray(e.variable.size, 60 + i), e.variable.shape)]));
    applyOptimizer(opt, entries, grads, state, 1, 0.01);
    applyOptimizer(opt, entries, grads, state, 2, 0.01);
    const dict = optimizerStateDict(opt, state, entries);
    expect([...dict.keys()]).toEqual([...entries.flatMap((e) => opt.slots.map((k) => `state.${e.spec.name}.${k}`)), 'step']);
    expect(dict.has('state.conv.weight.exp_avg_diff')).toBe(true);
    expect(dict.get('step')).toEqual({ dtype: 'int64', shape: [], data: BigInt64Array.of(2n) });
    // conv slot in OIHW: element [o, i, h, w] = tfjs [h, w, i, o]
    const t = dict.get('state.conv.weight.exp_avg')!;
    expect(t.shape).toEqual([3, 2, 3, 3]);
    const hwio = state.slots.get('conv.weight')!.exp_avg!.dataSync();
    const [o, i, h, w] = [2, 1, 0, 2];
    expect((t.data as Float32Array)[((o * 2 + i) * 3 + h) * 3 + w]).toBe(hwio[((h * 3 + w) * 2 + i) * 3 + o]);
    expect(dict.get('state.head.weight.pre_grad')!.shape).toEqual([4, 3]);
    // pre_grad holds the last gradient exactly
    expect(Array.from(dict.get('state.conv.bias.pre_grad')!.data as Float32Array)).toEqual(Array.from(grads['conv.bias']!.dataSync()));

    const bytes = encodeSafetensors(dict, optimizerMetadata(opt, state));
    const joined = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
    bytes.reduce((off, b) => (joined.set(b, off), off + b.byteLength), 0);
    const back = decodeSafetensors(joined);
    expect(back.metadata?.optimizer).toBe('adan');
    const restored = loadOptimizerStateDict(opt, back.tensors, entries);
    expect(restored.step).toBe(2);
    for (const e of entries) {
      for (const k of opt.slots) {
        expect(Array.from(restored.slots.get(e.spec.name)![k]!.dataSync())).toEqual(Array.from(state.slots.get(e.spec.name)![k]!.dataSync()));
      }
    }
    // strictness: a missing slot, a wrong shape, an unexpected parameter
    const broken = new Map(dict);
    broken.delete('state.norm.bias.exp_avg');
    broken.set('state.conv.bias.exp_avg', { dtype: 'float32', shape: [4], data: new Float32Array(4) });
    broken.set('state.ghost.exp_avg', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
    let message = '';
    try {
      loadOptimizerStateDict(opt, broken, entries);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('missing state.norm.bias.exp_avg');
    expect(message).toContain('state.conv.bias.exp_avg is [4], expected [3]');
    expect(message).toContain('unexpected state.ghost.exp_avg');
    // tfjs layout on request
    const raw = optimizerStateDict(opt, state, entries, { torchLayout: false });
    expect(raw.get('state.conv.weight.exp_avg')!.shape).toEqual([3, 3, 2, 3]);
    disposeOptimizerState(state);
    disposeOptimizerState(restored);
    tf.dispose(Object.values(grads));
    m.dispose();
  });
});
