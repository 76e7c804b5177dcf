import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, seedInit, resnet18, exportFunction, exportModule, createSession, loadOrt, dumpGraph, BatchNorm2d } from '../../src/index.js';
import { expectClose, randomArray } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

async function runOnnx(model: Uint8Array, feeds: Record<string, tf.Tensor>): Promise<Record<string, Float32Array>> {
  const ort = await loadOrt();
  const s = await createSession(model, { threads: 1 });
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', t.dataSync() as Float32Array, t.shape)])));
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe('ONNX export', () => {
  it('ResNet-18 (eval, width 16) exported with a dynamic batch matches tfjs at batch 2 and batch 3', async () => {
    seedInit(5);
    const m = resnet18({ baseWidth: 16 });
    // non-trivial batch-norm statistics so the BN lowering is exercised
    for (const [, mod] of m.namedModules()) {
      if (mod instanceof BatchNorm2d) {
        mod.runningMean.assign(tf.tensor(randomArray(mod.numFeatures, 1, -0.2, 0.2)));
        mod.runningVar.assign(tf.tensor(randomArray(mod.numFeatures, 2, 0.5, 1.5)));
      }
    }
    const x = tf.tensor4d(randomArray(2 * 40 * 40 * 3, 3), [2, 40, 40, 3]);
    const { model, graph, eagerOutputs } = exportModule(m, x);
    expect(dumpGraph(graph)).toMatch(/Conv2D \d+/);
    const got = await runOnnx(model, { input: x });
    expectClose(got.output!, eagerOutputs[0]!.dataSync(), 1e-4, 0, 'batch 2');
    m.eval();
    const x3 = tf.tensor4d(randomArray(3 * 40 * 40 * 3, 4), [3, 40, 40, 3]);
    const got3 = await runOnnx(model, { input: x3 });
    expectClose(got3.output!, m.forward(x3).dataSync(), 1e-4, 0, 'batch 3');
    m.dispose();
  });

  it('an op zoo (matmul with transposes, softmax, layer-norm moments, gelu/erf, gather, pad, slice, concat, stack, avg pool, depthwise conv)', async () => {
    const w = tf.tensor2d(randomArray(8 * 8, 10), [8, 8]);
    const table = tf.tensor2d(randomArray(5 * 8, 11), [5, 8]);
    const dw = tf.tensor4d(randomArray(3 * 3 * 8 * 2, 12), [3, 3, 8, 2]);
    const idx = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
    const f = ({ x }: Record<string, tf.Tensor>) => {
      const B = x!.shape[0]!; // the export traces twice, at batch 2 and 3
      const t = tf.reshape(x!, [B, 6, 8]);
      const q = tf.matMul(t, tf.tile(tf.expandDims(w, 0), [B, 1, 1]) as tf.Tensor3D);
      const att = tf.softmax(tf.matMul(q, t, false, true));
      let h = tf.matMul(att, t);
      const { mean, variance } = tf.moments(h, -1, true);
      h = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5)));
      h = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
      h = tf.add(h, tf.expandDims(tf.gather(table, idx), 0));
      const img = tf.reshape(h, [B, 2, 3, 8]) as tf.Tensor4D;
      const padded = tf.pad(img, [[0, 0], [1, 1], [1, 0], [0, 0]]);
      const pooled = tf.avgPool(padded, 2, 1, 'same');
      const d = tf.depthwiseConv2d(pooled, dw as tf.Tensor4D, 1, 'same');
      const s = tf.slice(d, [0, 1, 0, 0], [-1, 2, 3, -1]);
      const stacked = tf.stack([tf.sum(s, [1, 2]), tf.max(s, [1, 2])], 1);
      return { y: tf.concat([tf.reshape(stacked, [B, -1]), tf.mean(h, 1)], 1) };
    };
    const x = tf.tensor2d(randomArray(2 * 48, 13), [2, 48]);
    const { model, eagerOutputs } = exportFunction(f, { x });
    const got = await runOnnx(model, { x });
    expectClose(got.y!, eagerOutputs[0]!.dataSync(), 1e-4, 1e-6);
  });

  it('inference batch norm (one BatchNormalization) on rank 2, 3 and 4 inputs, with and without scale and offset', async () => {
    const C = 5;
    const mean = tf.tensor1d(randomArray(C, 20, -0.5, 0.5)), variance = tf.tensor1d(randomArray(C, 21, 0.3, 2));
    const scale = tf.tensor1d(randomArray(C, 22, 0.5, 1.5)), offset = tf.tensor1d(randomArray(C, 23, -1, 1));
    const f = ({ x }: Record<string, tf.Tensor>) => {
      const B = x!.shape[0]!;
      const x4 = tf.reshape(x!, [B, 2, 3, C]);
      return {
        y2: tf.batchNorm(tf.reshape(x!, [B * 6, C]), mean, variance, offset, scale, 1e-3),
        y3: tf.batchNorm(tf.reshape(x!, [B, 6, C]), mean, variance, undefined, scale, 1e-5),
        y4: tf.batchNorm(x4, mean, variance, offset, undefined, 1e-5),
        y4plain: tf.batchNorm(x4, mean, variance),
      };
    };
    const x = tf.tensor2d(randomArray(2 * 6 * C, 24), [2, 6 * C]);
    const { model, eagerOutputs } = exportFunction(f, { x });
    const got = await runOnnx(model, { x });
    ['y2', 'y3', 'y4', 'y4plain'].forEach((k, i) => expectClose(got[k]!, eagerOutputs[i]!.dataSync(), 1e-5, 1e-6, k));
  });

  it('inference batch norm with [1, 1, 1, C] statistics (tf.batchNorm accepts them; BatchNormalization takes [C])', async () => {
    const C = 4;
    const stat = (seed: number, lo: number, hi: number) => tf.tensor4d(randomArray(C, seed, lo, hi), [1, 1, 1, C]);
    const mean = stat(30, -0.5, 0.5), variance = stat(31, 0.3, 2), offset = stat(32, -1, 1), scale = stat(33, 0.5, 1.5);
    const f = ({ x }: Record<string, tf.Tensor>) => ({ y: tf.batchNorm(x as tf.Tensor4D, mean, variance, offset, scale, 1e-3) });
    const x = tf.tensor4d(randomArray(2 * 3 * 3 * C, 34), [2, 3, 3, C]);
    const { model, eagerOutputs } = exportFunction(f, { x });
    const got = await runOnnx(model, { x });
    expectClose(got.y!, eagerOutputs[0]!.dataSync(), 1e-5, 1e-6);
  });

  it('an op without a lowering is a clear error naming the op', () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    expect(() => exportFunction(({ x: a }) => tf.cumsum(a!, 1), { x }, {}, { dynamicBatch: false })).toThrow(/kernel "Cumsum" has no ONNX lowering yet/);
  });
});

describe('ONNX export of the full-size backbones', () => {
  it('ResNet-50 (x=[1,64,64,3]) and Swin-T (x=[1,224,224,3]) run in onnxruntime and match tfjs to 1e-4', async () => {
    const { createBackbone } = await import('../../src/backbones/registry.js');
    for (const [name, size] of [['resnet50', 64], ['swin_t', 224]] as const) {
      seedInit(7);
      const m = createBackbone(name);
      const x = tf.tensor4d(randomArray(size * size * 3, 20), [1, size, size, 3]);
      const { model, eagerOutputs } = exportModule(m as never, x);
      const got = await runOnnx(model, { input: x });
      expectClose(got.output!, eagerOutputs[0]!.dataSync(), 1e-4, 0, name);
      m.dispose();
    }
  });
});

describe('OnnxRunner', () => {
  it('runs an exported model on NHWC arrays with the same normalisation as the tfjs path', async () => {
    const { OnnxRunner, normalizeNhwc } = await import('../../src/index.js');
    seedInit(9);
    const m = resnet18({ baseWidth: 8 });
    const norm = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const raw = randomArray(2 * 32 * 32 * 3, 30, 0, 1);
    const { model } = exportModule(m, tf.zeros([1, 32, 32, 3]));
    const runner = await OnnxRunner.load(model, { threads: 1, normalization: norm });
    const got = await runner.run(raw, [2, 32, 32, 3]);
    m.eval();
    const want = m.forward(tf.tensor4d(normalizeNhwc(raw, 3, norm), [2, 32, 32, 3])).dataSync();
    expect(got.shape).toEqual([2, 64]);
    expectClose(got.data, want, 1e-4);
    await expect(runner.run(raw.subarray(1), [2, 32, 32, 3])).rejects.toThrow(/do not fill shape/);
    expect(() => normalizeNhwc(raw, 4, norm)).toThrow(/4 bands but mean\/std have 3\/3/);
    await runner.release();
    m.dispose();
  });
});
