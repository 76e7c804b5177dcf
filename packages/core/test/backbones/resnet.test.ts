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
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend, resnet18, resnet50, loadStateDict, stateDict, nchwToNhwc, nhwcToNchw, type ResNet } from '../../src/index.js';
import { readPth, findStateDict, readSafetensors, toFloat32 } from '../../src/checkpoint/index.js';
import { compareClose, expectClose, torchAvailable, torchRequired, PYTHON } from '../../src/testing/index.js';


const hasTorch = torchAvailable();
if (!hasTorch && torchRequired()) throw new Error('CMID_REQUIRE_TORCH=1 but /usr/bin/python3 cannot import torch: apt-get install -y python3-torch python3-torchvision');
if (!hasTorch) console.warn('resnet parity: skipped, /usr/bin/python3 has no torch (apt-get install -y python3-torch python3-torchvision)');

const dir = mkdtempSync(join(tmpdir(), 'cmid-resnet-parity-'));
const expected = new Map<string, Map<string, { shape: number[]; data: Float32Array }>>();

beforeAll(async () => {
  if (!hasTorch) return;
  execFileSync(PYTHON, [resolve(__dirname, '../../scripts/parity/resnet.py'), dir, 'resnet18', 'resnet50'], { stdio: 'pipe', timeout: 300_000 });
  for (const arch of ['resnet18', 'resnet50']) {
    const st = await readSafetensors(join(dir, `${arch}.expected.safetensors`));
    expected.set(arch, new Map([...st.tensors].map(([k, t]) => [k, { shape: [...t.shape], data: toFloat32(t) }])));
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
  const nhwc = nchwToNhwc(x);
  return tf.tensor4d(nhwc.data, nhwc.shape as [number, number, number, number]);
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
