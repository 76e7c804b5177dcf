/**
 * The compiled engine against the eager one on the same step function, and the engine's contracts: exact resume,
 * no state change on a non-finite loss, one graph per input shape, the EMA teacher, random feeds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '../../src/index.js';
import { resnet18 } from '../../src/backbones/resnet.js';
import { SwinTransformer } from '../../src/backbones/swin.js';
import { Linear, seedInit } from '../../src/nn/index.js';
import { createTrainer, type BatchTensor, type CompileInfo, type Engine, type Trainer } from '../../src/compile/trainer.js';
import { moduleVariables, type TrainStepSpec } from '../../src/compile/step-graph.js';
import { createOptimizer, paramSpecsFromModule } from '../../src/train/optim/index.js';
import { CmidError } from '../../src/runtime/errors.js';
import { compareClose, expectClose } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const SIZE = 64;

/** A small ResNet-18 (width 8) with a linear head, cross-entropy on one-hot labels, SGD Nesterov or AdamW. */
function resnetSpec(opt: 'sgd' | 'adamw', seed = 1, clip?: number): TrainStepSpec {
  seedInit(seed);
  const net = resnet18({ baseWidth: 8 }).train();
  const head = new Linear(net.embedDim, 5);
  const variables = { ...moduleVariables(net, 'net'), ...moduleVariables(head, 'head') };
  const params = [
    ...paramSpecsFromModule(net, { weightDecay: 1e-4 }).map((e) => ({ ...e.spec, name: `net.${e.spec.name}` })),
    ...paramSpecsFromModule(head, { weightDecay: 1e-4 }).map((e) => ({ ...e.spec, name: `head.${e.spec.name}` })),
  ];
  return {
    variables, params,
    inputs: { x: { shape: [4, SIZE, SIZE, 3] }, y: { shape: [4, 5] } },
    optimizer: createOptimizer(opt === 'sgd' ? { kind: 'sgd', momentum: 0.9, nesterov: true } : { kind: 'adamw' }),
    ...(clip !== undefined ? { clipGradNorm: clip } : {}),
    loss: (b) => {
      const logits = head.forward(net.forward(b.x as tf.Tensor4D));
      const loss = tf.neg(tf.mean(tf.sum(tf.mul(b.y!, tf.logSoftmax(logits)), 1))) as tf.Scalar;
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(b.y!, 1)), 'float32')) as tf.Scalar;
      return { loss, acc };
    },
  };
}

function batch(step: number, n = 4, size = SIZE): Record<string, BatchTensor> {
  const rng = new Rng(100 + step);
  const x = Float32Array.from({ length: n * size * size * 3 }, () => rng.normal());
  const y = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) y[i * 5 + ((i + step) % 5)] = 1;
  return { x: { data: x, shape: [n, size, size, 3] }, y: { data: y, shape: [n, 5] } };
}

function values(spec: TrainStepSpec): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(spec.variables).filter(([, v]) => v.dtype === 'float32').map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]));
}

async function run(engine: Engine, opt: 'sgd' | 'adamw', steps: number, clip?: number) {
  const spec = resnetSpec(opt, 1, clip);
  const trainer = await createTrainer(spec, { engine });
  const losses: number[] = [];
  const terms: Record<string, number>[] = [];
  for (let s = 0; s < steps; s++) {
    const r = await trainer.step(batch(s), { lr: opt === 'sgd' ? 0.02 : 1e-3 });
    losses.push(r.loss);
    terms.push(r.terms);
  }
  trainer.syncToVariables();
  trainer.dispose();
  return { losses, terms, values: values(spec) };
}

describe('compiled engine vs eager engine', () => {
  for (const opt of ['sgd', 'adamw'] as const) {
    it(`ResNet-18 (width 8), two ${opt} steps with clipping: same losses, parameters and BN statistics`, async () => {
      const eager = await run('eager', opt, 2, 1.0);
      const compiled = await run('compiled', opt, 2, 1.0);
      for (let s = 0; s < 2; s++) {
        expect(Math.abs(compiled.losses[s]! - eager.losses[s]!)).toBeLessThan(1e-4 * Math.abs(eager.losses[s]!));
        expect(compiled.terms[s]!.acc).toBe(eager.terms[s]!.acc);
        expect(Math.abs(compiled.terms[s]!.grad_norm! - eager.terms[s]!.grad_norm!)).toBeLessThan(1e-4 * eager.terms[s]!.grad_norm!);
      }
      let changed = 0;
      const initial = values(resnetSpec(opt, 1));
      for (const [k, e] of Object.entries(eager.values)) {
        if (opt === 'sgd') {
          const r = compareClose(compiled.values[k]!, e, 1e-4, 1e-6);
          expect(r.ok, `${k}: ${r.message}`).toBe(true);
        } else {
          // Adam divides each gradient by its own magnitude, so compare the update (after - before) in L2 norm
          let num = 0, den = 0;
          e.forEach((v, i) => {
            num += (compiled.values[k]![i]! - v) ** 2;
            den += (v - initial[k]![i]!) ** 2;
          });
          if (den > 0) expect(Math.sqrt(num / den), k).toBeLessThan(1e-2);
        }
        if (e.some((v, i) => v !== initial[k]![i])) changed++;
      }
      expect(changed).toBeGreaterThan(Object.keys(eager.values).length * 0.9);
    });
  }
});

describe('compiled engine contracts', () => {
  it('a run interrupted after 2 steps and resumed from its state ends with the same parameters as 4 uninterrupted steps', async () => {
    // Swin with drop-path: the keep masks are random feeds drawn from the model's Rng, saved with the state
    const make = () => {
      seedInit(3);
      const rng = new Rng(11);
      const net = new SwinTransformer('swin_t', { embedDim: 8, depths: [2, 2, 1, 1], numHeads: [1, 1, 1, 1], windowSize: 4, padSmallMap: true, dropPathRate: 0.3, rng }).train();
      const spec: TrainStepSpec = {
        variables: moduleVariables(net),
        params: paramSpecsFromModule(net, { weightDecay: 0.05 }).map((e) => e.spec),
        inputs: { x: { shape: [2, 64, 64, 3] } },
        optimizer: createOptimizer({ kind: 'adamw' }),
        loss: (b) => ({ loss: tf.mean(tf.square(tf.sub(net.forward(b.x as tf.Tensor4D), 0.5))) as tf.Scalar }),
      };
      return { spec, rng };
    };
    const x = (s: number) => ({ x: { data: Float32Array.from({ length: 2 * 64 * 64 * 3 }, (_, i) => Math.sin(i * 0.01 + s)), shape: [2, 64, 64, 3] } });
    const straight = make();
    const t1 = await createTrainer(straight.spec);
    for (let s = 0; s < 4; s++) await t1.step(x(s), { lr: 1e-3 });
    t1.syncToVariables();
    const expected = values(straight.spec);

    const first = make();
    const t2 = await createTrainer(first.spec);
    for (let s = 0; s < 2; s++) await t2.step(x(s), { lr: 1e-3 });
    const saved = t2.getState();
    const rngState = first.rng.getState();
    t2.dispose();

    const second = make(); // fresh weights: everything must come from the saved state
    second.rng.setState(rngState);
    const t3 = await createTrainer(second.spec);
    t3.setState(saved);
    expect(t3.stepCount).toBe(2);
    for (let s = 2; s < 4; s++) await t3.step(x(s), { lr: 1e-3 });
    t3.syncToVariables();
    const resumed = values(second.spec);
    for (const [k, v] of Object.entries(expected)) expect(Array.from(resumed[k]!), k).toEqual(Array.from(v));
    t1.dispose();
    t3.dispose();
  });

  it('the eager engine resumes exactly too', async () => {
    const a = await run('eager', 'adamw', 3);
    const spec = resnetSpec('adamw', 1);
    const t = await createTrainer(spec, { engine: 'eager' });
    await t.step(batch(0), { lr: 1e-3 });
    const state = t.getState();
    t.dispose();
    const spec2 = resnetSpec('adamw', 9);
    const t2 = await createTrainer(spec2, { engine: 'eager' });
    t2.setState(state);
    for (let s = 1; s < 3; s++) await t2.step(batch(s), { lr: 1e-3 });
    const b = values(spec2);
    for (const [k, v] of Object.entries(a.values)) expect(Array.from(b[k]!), k).toEqual(Array.from(v));
  });

  for (const engine of ['compiled', 'eager'] as const) {
    it(`${engine}: a non-finite loss stops with a clear error and leaves the state as it was`, async () => {
      const spec = resnetSpec('sgd');
      const trainer = await createTrainer(spec, { engine });
      await trainer.step(batch(0), { lr: 0.02 });
      const before = trainer.getState();
      const bad = batch(1);
      bad.y!.data[2] = Number.NaN; // (a NaN pixel does not do: the wasm backend's ReLU maps NaN to 0)
      await expect(trainer.step(bad, { lr: 0.02 })).rejects.toThrow(/step 2: the loss is NaN.*not updated/);
      await expect(trainer.step(bad, { lr: 0.02 })).rejects.toBeInstanceOf(CmidError);
      const after = trainer.getState();
      expect(trainer.stepCount).toBe(1);
      for (const [k, t] of Object.entries(before.tensors)) {
        if (k.includes('running_') || k.includes('num_batches')) continue; // eager BN statistics move in forward
        expect(Array.from(after.tensors[k]!.data), k).toEqual(Array.from(t.data));
      }
      if (engine === 'compiled') for (const [k, t] of Object.entries(before.tensors)) expect(Array.from(after.tensors[k]!.data), k).toEqual(Array.from(t.data));
      trainer.dispose();
    });
  }

  it('memoryPattern (onnxruntime\'s pre-planned allocation) changes nothing but the allocation: bit-identical steps', async () => {
    const plain = await run('compiled', 'adamw', 2);
    const spec = resnetSpec('adamw', 1);
    const trainer = await createTrainer(spec, { engine: 'compiled', memoryPattern: true });
    const losses: number[] = [];
    for (let s = 0; s < 2; s++) losses.push((await trainer.step(batch(s), { lr: 1e-3 })).loss);
    trainer.syncToVariables();
    trainer.dispose();
    expect(losses).toEqual(plain.losses);
    const v = values(spec);
    for (const [k, e] of Object.entries(plain.values)) expect(Array.from(v[k]!), k).toEqual(Array.from(e));
  });

  it('filters kept as OHWI inside the engine: the same steps as HWIO, and the state it exports and takes is HWIO', async () => {
    const runLayout = async (filterLayout: 'ohwi' | 'hwio', resumeFrom?: Awaited<ReturnType<Trainer['getState']>>) => {
      const spec = resnetSpec('adamw', 1, 1.0);
      const trainer = await createTrainer(spec, { engine: 'compiled', filterLayout });
      if (resumeFrom !== undefined) trainer.setState(resumeFrom);
      const losses: number[] = [];
      for (let s = resumeFrom?.step ?? 0; s < 3; s++) losses.push((await trainer.step(batch(s), { lr: 1e-3 })).loss);
      const state = trainer.getState();
      trainer.syncToVariables();
      trainer.dispose();
      return { losses, state, values: values(spec) };
    };
    const hwio = await runLayout('hwio');
    const ohwi = await runLayout('ohwi');
    ohwi.losses.forEach((l, s) => expect(Math.abs(l - hwio.losses[s]!), `loss ${s}`).toBeLessThan(1e-5 * Math.abs(hwio.losses[s]!)));
    const filters = Object.keys(hwio.values).filter((k) => hwio.state.tensors[k]?.shape.length === 4);
    expect(filters.length).toBeGreaterThan(10);
    for (const [k, e] of Object.entries(hwio.values)) expectClose(ohwi.values[k]!, e, 1e-4, 1e-6, k);
    for (const [k, t] of Object.entries(hwio.state.tensors)) {
      expect(ohwi.state.tensors[k]!.shape, k).toEqual(t.shape);
      expectClose(ohwi.state.tensors[k]!.data as Float32Array, t.data as Float32Array, 1e-4, 1e-6, k);
    }
    // an HWIO state taken after step 1 and continued in OHWI ends where the HWIO run did
    const first = await (async () => {
      const spec = resnetSpec('adamw', 1, 1.0);
      const trainer = await createTrainer(spec, { engine: 'compiled', filterLayout: 'hwio' });
      await trainer.step(batch(0), { lr: 1e-3 });
      const st = trainer.getState();
      trainer.dispose();
      return st;
    })();
    const resumed = await runLayout('ohwi', first);
    for (const [k, e] of Object.entries(hwio.values)) expectClose(resumed.values[k]!, e, 1e-4, 1e-6, `resumed ${k}`);
  });

  it('another input shape compiles and caches a second graph over the same state', async () => {
    const compiles: CompileInfo[] = [];
    const spec = resnetSpec('sgd');
    const trainer: Trainer = await createTrainer(spec, { onCompile: (i) => compiles.push(i) });
    await trainer.step(batch(0), { lr: 0.02 });
    await trainer.step(batch(1, 3), { lr: 0.02 }); // a last partial batch
    await trainer.step(batch(2), { lr: 0.02 });
    await trainer.step(batch(3, 4, 96), { lr: 0.02 }); // another crop size
    expect(compiles.map((c) => c.key)).toEqual(['x[4x64x64x3],y[4x5]', 'x[3x64x64x3],y[3x5]', 'x[4x96x96x3],y[4x5]']);
    expect(trainer.stepCount).toBe(4);
    expect(compiles[0]!.ops.Conv2DBackpropFilter).toBe(20);
    expect(compiles[0]!.ops.MaxPoolGrad).toBe(1);
    trainer.dispose();
  });

  it('the EMA teacher follows tau * teacher + (1 - tau) * student before the update, and after it when asked', async () => {
    for (const timing of ['before-update', 'after-update'] as const) {
      const student = tf.variable(tf.tensor1d([1, 2, 3]));
      const teacher = tf.variable(tf.tensor1d([10, 20, 30]), false);
      const spec: TrainStepSpec = {
        variables: { s: student, t: teacher },
        params: [{ name: 's', shape: [3], weightDecay: 0 }],
        inputs: { x: { shape: [3] } },
        optimizer: createOptimizer({ kind: 'sgd' }),
        loss: (b) => ({ loss: tf.sum(tf.mul(student, b.x!)) as tf.Scalar }),
        ema: { pairs: [['t', 's']], timing },
      };
      const trainer = await createTrainer(spec);
      await trainer.step({ x: { data: Float32Array.of(1, -1, 2), shape: [3] } }, { lr: 0.5, tau: 0.9 });
      trainer.syncToVariables();
      // SGD: s' = s - 0.5 * x = [0.5, 2.5, 2]
      expect(Array.from(student.dataSync())).toEqual([0.5, 2.5, 2]);
      const src = timing === 'before-update' ? [1, 2, 3] : [0.5, 2.5, 2];
      const expected = [10, 20, 30].map((t, i) => 0.9 * t + 0.1 * src[i]!);
      const r = compareClose(teacher.dataSync() as Float32Array, expected, 1e-6, 0);
      expect(r.ok, r.message).toBe(true);
      await expect(trainer.step({ x: { data: Float32Array.of(1, 1, 1), shape: [3] } }, { lr: 0.5 })).rejects.toThrow(/schedule.tau/);
      trainer.dispose();
    }
  });
});

describe('gradient accumulation', () => {
  /** A conv + linear net without batch norm: accumulation over equal micro-batches equals one big batch. */
  function plainSpec(accumulationSteps: number, clip?: number): TrainStepSpec {
    seedInit(5);
    const net = resnet18({ baseWidth: 8 }); // only its stem conv is used, no BN
    const conv = net.conv1;
    const head = new Linear(8, 5);
    const variables = { ...moduleVariables(conv, 'conv'), ...moduleVariables(head, 'head') };
    const params = [
      ...paramSpecsFromModule(conv, { weightDecay: 1e-4 }).map((e) => ({ ...e.spec, name: `conv.${e.spec.name}` })),
      ...paramSpecsFromModule(head, { weightDecay: 1e-4 }).map((e) => ({ ...e.spec, name: `head.${e.spec.name}` })),
    ];
    return {
      variables, params, accumulationSteps,
      inputs: { x: { shape: [8, 32, 32, 3] }, y: { shape: [8, 5] } },
      optimizer: createOptimizer({ kind: 'adamw' }),
      ...(clip !== undefined ? { clipGradNorm: clip } : {}),
      loss: (b) => {
        const f = tf.mean(tf.relu(conv.forward(b.x as tf.Tensor4D)), [1, 2]) as tf.Tensor2D;
        const logits = head.forward(f);
        return { loss: tf.neg(tf.mean(tf.sum(tf.mul(b.y!, tf.logSoftmax(logits)), 1))) as tf.Scalar, m: tf.mean(logits) as tf.Scalar };
      },
    };
  }

  async function train(spec: TrainStepSpec, engine: Engine, steps: number, n = 8, size = 32) {
    const trainer = await createTrainer(spec, { engine });
    const rs = [];
    for (let s = 0; s < steps; s++) rs.push(await trainer.step(batch(s, n, size), { lr: 1e-2 }));
    trainer.syncToVariables();
    const state = trainer.getState();
    trainer.dispose();
    return { rs, values: values(spec), state };
  }

  for (const engine of ['compiled', 'eager'] as const) {
    it(`${engine}: 4 micro-batches of 2 give the loss, terms, gradient norm and weights of one batch of 8 (no batch norm)`, async () => {
      const whole = await train(plainSpec(1, 100), engine, 3);
      const acc = await train(plainSpec(4, 100), engine, 3);
      for (let s = 0; s < 3; s++) {
        expect(Math.abs(acc.rs[s]!.loss - whole.rs[s]!.loss)).toBeLessThan(1e-5 * Math.abs(whole.rs[s]!.loss));
        expect(acc.rs[s]!.terms.m).toBeCloseTo(whole.rs[s]!.terms.m!, 5);
        expect(Math.abs(acc.rs[s]!.terms.grad_norm! - whole.rs[s]!.terms.grad_norm!)).toBeLessThan(1e-4 * whole.rs[s]!.terms.grad_norm!);
      }
      for (const [k, v] of Object.entries(whole.values)) {
        const r = compareClose(acc.values[k]!, v, 1e-4, 1e-6);
        expect(r.ok, `${k}: ${r.message}`).toBe(true);
      }
      // the accumulators are not part of the resumable state
      expect(Object.keys(acc.state.tensors).sort()).toEqual(Object.keys(whole.state.tensors).sort());
    });
  }

  it('with batch norm: compiled and eager accumulate alike, and the running statistics advance once per micro-batch', async () => {
    const spec = (engineSeed: number) => ({ ...resnetSpec('sgd', engineSeed), accumulationSteps: 2, inputs: { x: { shape: [4, SIZE, SIZE, 3] }, y: { shape: [4, 5] } } });
    const eager = spec(1);
    const compiled = spec(1);
    const te = await createTrainer(eager, { engine: 'eager' });
    const tc = await createTrainer(compiled, { engine: 'compiled' });
    for (let s = 0; s < 2; s++) {
      const re = await te.step(batch(s), { lr: 0.02 });
      const rc = await tc.step(batch(s), { lr: 0.02 });
      expect(Math.abs(rc.loss - re.loss)).toBeLessThan(1e-4 * Math.abs(re.loss));
    }
    tc.syncToVariables();
    const ve = values(eager), vc = values(compiled);
    for (const [k, v] of Object.entries(ve)) {
      const r = compareClose(vc[k]!, v, 1e-4, 1e-6);
      expect(r.ok, `${k}: ${r.message}`).toBe(true);
    }
    expect(Array.from(compiled.variables['net.bn1.num_batches_tracked']!.dataSync())).toEqual([4]);
    // a micro-batch of 2 normalises with its own statistics: not the same step as one batch of 4
    const whole = await run('eager', 'sgd', 2);
    expect(Math.abs(whole.values['net.layer1.0.conv1.weight']![0]! - ve['net.layer1.0.conv1.weight']![0]!)).toBeGreaterThan(0);
    te.dispose();
    tc.dispose();
  });

  for (const engine of ['compiled', 'eager'] as const) {
    it(`${engine}: a NaN in the second micro-batch leaves the whole state as it was (statistics included)`, async () => {
      const s = { ...resnetSpec('sgd'), accumulationSteps: 2 };
      const trainer = await createTrainer(s, { engine });
      await trainer.step(batch(0), { lr: 0.02 });
      const before = trainer.getState();
      const bad = batch(1);
      bad.y!.data[3 * 5 + 1] = Number.NaN; // sample 3: the second micro-batch
      await expect(trainer.step(bad, { lr: 0.02 })).rejects.toThrow(/step 2: the loss is NaN/);
      expect(trainer.stepCount).toBe(1);
      const after = trainer.getState();
      for (const [k, t] of Object.entries(before.tensors)) expect(Array.from(after.tensors[k]!.data), k).toEqual(Array.from(t.data));
      trainer.dispose();
    });
  }

  it('a batch that does not split into equal micro-batches is an error that says what to change', async () => {
    const trainer = await createTrainer(plainSpec(3), { engine: 'compiled' });
    await expect(trainer.step(batch(0, 8, 32), { lr: 0.01 })).rejects.toThrow(/"x" \[8,32,32,3\] does not split into 3 equal micro-batches.*divisible by accumulationSteps = 3/);
    trainer.dispose();
  });
});
