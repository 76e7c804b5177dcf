import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index.js';
import { loadStateDict, seedInit, stateDict, tfToTorch } from '../../src/nn/index.js';
import type { CheckpointTensor as StateTensor, StateDict } from '../../src/checkpoint/tensor.js';
import { fromMicrosoftKeys, relativePositionIndex, shiftWindowMask, swin_b, swin_t, SwinTransformer, type SwinOptions } from '../../src/backbones/swin.js';
import { resnet18 } from '../../src/backbones/resnet.js';
import { expectClose } from '../../src/testing/index.js';
import { f32, nhwcInput, nhwcValues, parityEnabled, readStateDict, runParityScript } from './parity-helpers.js';

/** Index of the first differing element (-1 if the shapes and values are identical). */
function firstDifference(a: StateTensor, b: StateTensor): number {
  if (a.shape.join() !== b.shape.join() || a.data.length !== b.data.length) return -2;
  for (let i = 0; i < a.data.length; i++) if (Number(a.data[i]) !== Number(b.data[i])) return i;
  return -1;
}

const SMALL: SwinOptions = { embedDim: 32, depths: [2, 2, 2, 2], numHeads: [1, 2, 4, 8], windowSize: 7, outIndices: [0, 1, 2, 3] };
const enabled = parityEnabled('swin.py');

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('Swin helpers', () => {
  it('relative_position_index equals (ri-rj+6)*13 + (ci-cj+6) for window 7 and spans 0..168', () => {
    const idx = relativePositionIndex(7);
    expect(idx[0]).toBe(6 * 13 + 6);
    expect(idx[48]).toBe(0); // token 0 vs token 48 = (6,6): (0-6+6)*13 + (0-6+6)
    expect(idx[48 * 49]).toBe(168);
    expect(Math.max(...idx)).toBe(168);
  });

  it('shift mask on a 14x14 grid (window 7, shift 3): window 0 open, the last window split into 4 regions', () => {
    const m = shiftWindowMask(14, 14, 7, 3);
    expect(m.length).toBe(4 * 49 * 49);
    expect(m.slice(0, 49 * 49).every((v) => v === 0)).toBe(true);
    const last = m.subarray(3 * 49 * 49);
    // token 0 = (0,0) region (1,1); token 48 = (6,6) region (2,2); token 4 = (0,4) region (1,2)
    expect(last[0 * 49 + 48]).toBe(-100);
    expect(last[0 * 49 + 3]).toBe(0);
    expect(last[0 * 49 + 4]).toBe(-100);
  });
});

describe.skipIf(!enabled)('Swin parity with the PyTorch reference (mmcls / CMID layout)', () => {
  let dir = '';
  let sd: StateDict;
  let expected: StateDict;

  beforeAll(async () => {
    dir = runParityScript('swin.py');
    sd = await readStateDict(join(dir, 'small.safetensors'));
    expected = await readStateDict(join(dir, 'small.expected.safetensors'));
  }, 300_000);

  const cases: [string, string, boolean][] = [
    ['sq224', 'x=[2,224,224,3] embed 32 depths [2,2,2,2] window 7: stages 56/28/14/7, last stage unshifted', false],
    ['rect198x226', 'x=[2,198,226,3]: patch padding, window padding, odd PatchMerging padding, 7x8 last stage', false],
    ['small112pad', 'x=[2,112,112,3] padSmallMap: shifted 7x7 stage, 4x4 stage padded to one window', true],
  ];

  for (const [name, title, padSmallMap] of cases) {
    it(title, () => {
      seedInit(1);
      const model = new SwinTransformer('swin_t', { ...SMALL, padSmallMap });
      const report = loadStateDict(model, sd, { source: 'small.safetensors' });
      expect(report.loaded.length).toBe(sd.size);
      const x = nhwcInput(expected.get(`${name}.input`)!);
      for (const mode of ['eval', 'train'] as const) {
        model.train(mode === 'train');
        const { maps, pooled } = tf.tidy(() => {
          const feats = model.features(x);
          return { maps: feats.map((f) => ({ shape: f.shape, data: f.dataSync() as Float32Array })), pooled: tf.mean(feats[3]!, [1, 2]).dataSync() as Float32Array };
        });
        maps.forEach((m, i) => {
          const ref = nhwcValues(expected.get(`${name}.${mode}_stage${i}`)!);
          expect(m.shape).toEqual(ref.shape);
          const r = expectClose(m.data, ref.data, 1e-4, 1e-6, `${name} ${mode} stage${i}`);
          console.log(`swin ${name} ${mode} stage${i} ${JSON.stringify(m.shape)}: max diff ${r.maxAbsDiff.toExponential(2)} (scale ${r.scale.toFixed(2)})`);
        });
        const r = expectClose(pooled, f32(expected.get(`${name}.${mode}_pooled`)), 1e-4, 1e-6, `${name} ${mode} pooled`);
        console.log(`swin ${name} ${mode} pooled: max diff ${r.maxAbsDiff.toExponential(2)}`);
        // forward() is the same pooled vector
        if (mode === 'eval') {
          const fwd = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
          expectClose(fwd, pooled, 1e-6, 1e-7, 'forward');
        }
      }
      x.dispose();
      model.dispose();
    });
  }

  it('gradients of sum_i mean(stage_i^2) on x=[2,112,112,3] (padSmallMap, train) match torch for every parameter', () => {
    seedInit(1);
    const model = new SwinTransformer('swin_t', { ...SMALL, padSmallMap: true }).train();
    loadStateDict(model, sd);
    const x = nhwcInput(expected.get('small112pad.input')!);
    const named = model.namedParameters();
    const { value, grads } = tf.variableGrads(
      () => tf.addN(model.features(x).map((f) => tf.mean(tf.square(f)))) as tf.Scalar,
      named.map(([, p]) => p.variable),
    );
    expectClose(value.dataSync(), f32(expected.get('grad.loss')), 1e-5, 1e-7, 'loss');
    let worst = 0;
    for (const [name, p] of named) {
      const g = grads[p.variable.name]!;
      const torchG = tfToTorch({ shape: [...g.shape], data: g.dataSync() as Float32Array }, p.layout);
      const r = expectClose(torchG.data, f32(expected.get(`grad.${name}`), name), 1e-4, 1e-7, `grad ${name}`);
      worst = Math.max(worst, r.maxAbsDiff / Math.max(r.scale, 1e-12));
    }
    console.log(`swin grads: ${named.length} parameters, worst max-diff / scale ${worst.toExponential(2)}`);
    tf.dispose([value, grads]);
    x.dispose();
    model.dispose();
  });

  it('stateDict round-trips the reference checkpoint exactly (int64 relative_position_index included)', () => {
    seedInit(2);
    const model = new SwinTransformer('swin_t', SMALL);
    loadStateDict(model, sd);
    const back = stateDict(model);
    expect([...back.keys()].sort()).toEqual([...sd.keys()].sort());
    const idx = back.get('stages.0.blocks.0.attn.w_msa.relative_position_index')!;
    expect(idx.dtype).toBe('int64');
    expect(idx.shape).toEqual([49, 49]);
    for (const [k, t] of sd) {
      const b = back.get(k)!;
      expect(b.shape, k).toEqual(t.shape);
      expect(firstDifference(b, t), k).toBe(-1);
    }
    model.dispose();
  });

  it('fromMicrosoftKeys maps Microsoft names and the position-major PatchMerging axis to ours exactly', async () => {
    const ms = await readStateDict(join(dir, 'small.ms.safetensors'));
    expect(ms.has('layers.0.downsample.reduction.weight')).toBe(true);
    const ours = fromMicrosoftKeys(ms);
    const want = [...sd.keys()].filter((k) => !/^norm[012]\./.test(k)).sort();
    expect([...ours.keys()].sort()).toEqual(want);
    for (const k of want) {
      expect(firstDifference(ours.get(k)!, sd.get(k)!), k).toBe(-1);
    }
    // timm >= 0.9 layout: merging at the start of the next stage, no stored index
    const timm = new Map([...ms].filter(([k]) => !k.endsWith('relative_position_index')).map(([k, t]) => [k.replace(/^layers\.(\d)\.downsample\./, (_: string, s: string) => `layers.${Number(s) + 1}.downsample.`), t]));
    const fromTimm = fromMicrosoftKeys(timm);
    expect([...fromTimm.keys()].sort()).toEqual(want);
    for (const k of want) {
      expect(firstDifference(fromTimm.get(k)!, sd.get(k)!), k).toBe(-1);
    }
  });

  it('swin_t and swin_b have the reference keys, shapes, int64 index buffers and parameter counts', () => {
    const structure = JSON.parse(readFileSync(join(dir, 'structure.json'), 'utf8')) as Record<string, { keys: [string, number[], string][]; num_parameters: number }>;
    for (const [arch, make] of [['swin_t', swin_t], ['swin_b', swin_b]] as const) {
      seedInit(0);
      const model = make();
      const entries = model.stateEntries();
      const ref = structure[arch]!;
      expect(entries.map((e) => e.name)).toEqual(ref.keys.map((k) => k[0]));
      const sdKeys = new Map(ref.keys.map(([k, shape, dtype]) => [k, { shape, dtype }]));
      for (const e of entries) {
        const r = sdKeys.get(e.name)!;
        const shape = e.layout === 'linear' ? [e.variable.shape[1], e.variable.shape[0]] : e.layout === 'conv2d' ? [e.variable.shape[3], e.variable.shape[2], e.variable.shape[0], e.variable.shape[1]] : e.variable.shape;
        expect(shape, e.name).toEqual(r.shape);
        expect(e.torchDtype === 'int64' ? 'torch.int64' : 'torch.float32', e.name).toBe(r.dtype);
      }
      expect(model.numParameters()).toBe(ref.num_parameters);
      console.log(`${arch}: ${entries.length} state entries, ${model.numParameters()} parameters (reference ${ref.num_parameters})`);
      model.dispose();
    }
  });

  it('a Swin checkpoint loaded into a ResNet fails with a report naming the Swin family', () => {
    const model = resnet18();
    expect(() => loadStateDict(model, sd, { source: 'small.safetensors' })).toThrow(/small\.safetensors.*looks like a Swin Transformer/s);
    model.dispose();
  });
});

describe('Swin behaviour', () => {
  const made: SwinTransformer[] = [];
  afterAll(() => made.forEach((m) => m.dispose()));

  it('x=[1,112,112,3] without padSmallMap: the 4x4 last stage is refused with the fix in the message', () => {
    const model = new SwinTransformer('swin_t', { ...SMALL, embedDim: 8 });
    made.push(model);
    expect(() => tf.tidy(() => model.features(tf.zeros([1, 112, 112, 3])))).toThrow(/4x4 feature map is smaller than the window \(7\).*padSmallMap/);
  });

  it('featureInfo matches features(): channels C*2^s, strides 4..32; CMID default has norm3 only', () => {
    seedInit(4);
    const model = new SwinTransformer('swin_t', { embedDim: 8, depths: [1, 1, 1, 1], numHeads: [1, 1, 2, 2] });
    made.push(model);
    expect(model.stateEntries().filter((e) => /^norm\d/.test(e.name)).map((e) => e.name)).toEqual(['norm3.weight', 'norm3.bias']);
    const shapes = tf.tidy(() => model.features(tf.ones([1, 224, 224, 3])).map((f) => f.shape));
    expect(shapes).toEqual(model.featureInfo.map((f) => [1, 224 / f.stride, 224 / f.stride, f.channels]));
    expect(model.featureInfo.map((f) => f.stride)).toEqual([4, 8, 16, 32]);
    expect(model.embedDim).toBe(64);
  });

  it('drop path: train mode with dropPathRate 0.5 differs from eval, eval is deterministic; gradients reach every parameter', () => {
    seedInit(5);
    const model = new SwinTransformer('swin_t', { embedDim: 8, depths: [2, 2, 2, 2], numHeads: [1, 1, 2, 2], dropPathRate: 0.5, inChannels: 4 });
    made.push(model);
    const x = tf.randomNormal([2, 224, 224, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    model.eval();
    const a = tf.tidy(() => model.forward(x).dataSync());
    const b = tf.tidy(() => model.forward(x).dataSync());
    expect(Array.from(a)).toEqual(Array.from(b));
    model.train();
    const c = tf.tidy(() => model.forward(x).dataSync());
    expect(Array.from(c)).not.toEqual(Array.from(a));
    model.train();
    const vars = model.trainableVariables();
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(x))), vars);
    const names = model.namedParameters().map(([n]) => n);
    for (const [i, v] of vars.entries()) {
      const g = grads[v.name]!;
      const finite = tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]);
      expect(finite, names[i]).toBe(1);
    }
    tf.dispose(grads);
    x.dispose();
  });
});
