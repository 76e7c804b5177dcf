/**
 * ResNet parity with torchvision (Debian python3-torch 1.13): scripts/parity/resnet.py writes random-init
 * torchvision weights (with non-trivial batch-norm statistics) as .pth and the expected outputs; we load the .pth
 * with our reader and compare eval features, train-mode features with the updated running statistics, and the
 * weights after one SGD step (momentum, weight decay) of ResNet-18 under a linear head.
 *
 * Two bars are float32-aware (docs/deviations.md, "Parity tolerances"): the train-mode forward of ResNet-50 is
 * compared with a float64 reference, within 1e-4 or twice PyTorch float32's own error, whichever is larger; and
 * the SGD step requires the median tensor to match to 1e-4 and every tensor to 2e-2 of its scale, because
 * pre-ReLU values within rounding of zero flip their ReLU mask between implementations (measured: wasm equals tfjs's
 * cpu reference to 1e-6 on the same network; another input seed moves the outliers to other layers).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend, resnet18, resnet50, loadStateDict, stateDict, nhwcToNchw, type ResNet } from '../../src/index.js';
import { readPth, findStateDict, toFloat32 } from '../../src/checkpoint/index.js';
import { compareClose, expectClose } from '../../src/testing/index.js';
import { f32, nhwcInput, parityEnabled, readStateDict, runParityScript } from './parity-helpers.js';

const hasTorch = parityEnabled('resnet.py');
let dir = '';
const expected = new Map<string, Map<string, { shape: number[]; data: Float32Array }>>();

beforeAll(async () => {
  if (!hasTorch) return;
  dir = runParityScript('resnet.py'); // writes resnet18 and resnet50
  for (const arch of ['resnet18', 'resnet50']) {
    const st = await readStateDict(join(dir, `${arch}.expected.safetensors`));
    expected.set(arch, new Map([...st].map(([k, t]) => [k, { shape: [...t.shape], data: f32(t, k) }])));
  }
  await initBackend({ backend: 'wasm' });
}, 300_000);

async function loaded(arch: 'resnet18' | 'resnet50'): Promise<ResNet> {
  const m = arch === 'resnet18' ? resnet18() : resnet50();
  const found = findStateDict(await readPth(join(dir, `${arch}.pth`)));
  const report = loadStateDict(m, found.stateDict, { source: `${arch}.pth` });
  expect(report.missing).toEqual([]);
  return m;
}

function exp(arch: string, key: string) {
  const t = expected.get(arch)!.get(key);
  if (t === undefined) throw new Error(`expected tensor ${key} missing`);
  return t;
}

const inputOf = (arch: string) => {
  const x = exp(arch, 'input');
  return nhwcInput({ dtype: 'float32', shape: x.shape, data: x.data });
};

const asNchw = (t: tf.Tensor) => nhwcToNchw({ shape: [...t.shape], data: t.dataSync() as Float32Array }).data;

describe.skipIf(!hasTorch)('ResNet parity with torchvision', () => {
  for (const arch of ['resnet18', 'resnet50'] as const) {
    it(`${arch} eval: every stage map and the pooled features, x=[4,3,64,64]`, async () => {
      const m = await loaded(arch);
      m.eval();
      const x = inputOf(arch);
      const maps = m.features(x);
      maps.forEach((f, i) => expectClose(asNchw(f), exp(arch, `eval_layer${i + 1}`).data, 1e-4, 0, `${arch} layer${i + 1}`));
      expectClose(m.forward(x).dataSync(), exp(arch, 'eval_pooled').data, 1e-4, 0, `${arch} pooled`);
      m.dispose();
    });

    it(`${arch} train mode: batch statistics and the updated running mean/var/num_batches_tracked`, async () => {
      const m = await loaded(arch);
      m.train();
      const x = inputOf(arch);
      const maps = m.features(x);
      const ours = asNchw(maps[3]!), f64 = exp(arch, 'train_layer4_f64').data;
      const torch32 = compareClose(exp(arch, 'train_layer4').data, f64, 0, 0);
      const bar = Math.max(1e-4, (2 * torch32.maxAbsDiff) / torch32.scale);
      expectClose(ours, f64, bar, 0, `train layer4 vs float64 (PyTorch float32 is at ${(torch32.maxAbsDiff / torch32.scale).toExponential(1)})`);
      const sd = stateDict(m);
      let checked = 0;
      for (const [k, t] of expected.get(arch)!) {
        if (!k.startsWith('after_train_forward.')) continue;
        const key = k.slice('after_train_forward.'.length);
        expectClose(toFloat32(sd.get(key)!), t.data, 1e-4, 1e-6, key);
        checked++;
      }
      expect(checked).toBeGreaterThan(arch === 'resnet18' ? 50 : 150);
      m.dispose();
    });
  }

  it('resnet18: one SGD step (lr 0.1, momentum 0.9, weight decay 1e-4) under a linear head gives PyTorch\'s updated weights and BN statistics', async () => {
    const m = await loaded('resnet18');
    m.train();
    const x = inputOf('resnet18');
    const hw = tf.variable(tf.transpose(tf.tensor2d(exp('resnet18', 'head.weight').data, [5, 512])));
    const hb = tf.variable(tf.tensor1d(exp('resnet18', 'head.bias').data));
    const labels = Array.from(exp('resnet18', 'labels').data);
    const vars = [...m.trainableVariables(), hw, hb];
    const { value, grads } = tf.variableGrads(() => {
      const logits = tf.add(tf.matMul(m.forward(x), hw), hb);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 5), logits, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
    }, vars);
    expectClose(value.dataSync(), exp('resnet18', 'sgd_loss').data, 1e-5, 0, 'loss');
    const lr = 0.1, wd = 1e-4;
    // PyTorch SGD, first step: buf = g + wd*p; p -= lr*buf
    for (const v of vars) v.assign(tf.sub(v, tf.mul(lr, tf.add(grads[v.name]!, tf.mul(wd, v)))));
    const sd = stateDict(m);
    const rel: number[] = [];
    for (const [k, t] of expected.get('resnet18')!) {
      if (!k.startsWith('after_sgd.') || k.startsWith('after_sgd.head.')) continue;
      const key = k.slice('after_sgd.'.length);
      expectClose(toFloat32(sd.get(key)!), t.data, 2e-2, 1e-7, key); // a wrong formula is O(1) off
      const r = compareClose(toFloat32(sd.get(key)!), t.data, 0, 0);
      rel.push(r.scale === 0 ? 0 : r.maxAbsDiff / r.scale);
    }
    expect(rel.length).toBe(sd.size);
    rel.sort((a, b) => a - b);
    expect(rel[Math.floor(rel.length / 2)]).toBeLessThan(1e-4);
    expectClose(tf.transpose(hw).dataSync(), exp('resnet18', 'after_sgd.head.weight').data, 1e-4, 1e-7, 'head.weight');
    m.dispose();
  });
});
