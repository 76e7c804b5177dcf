import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index.js';
import { BatchNorm2d, Conv2d, Linear, LayerNorm, loadStateDict, permute, seedInit, stateDict, tfToTorch, torchToTf } from '../../src/nn/index.js';
import { resnet18, resnet50 } from '../../src/backbones/resnet.js';
import { expectClose, randomArray } from '../../src/testing/index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('layout', () => {
  it('permute matches a direct index computation for a 4-D transpose', () => {
    const shape = [2, 3, 4, 5];
    const data = randomArray(120, 1);
    const out = permute(data, shape, [2, 3, 1, 0]);
    expect(out.shape).toEqual([4, 5, 3, 2]);
    for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) for (let h = 0; h < 4; h++) for (let w = 0; w < 5; w++) {
      expect(out.data[((h * 5 + w) * 3 + i) * 2 + o]).toBe(data[((o * 3 + i) * 4 + h) * 5 + w]);
    }
  });

  it('torchToTf and tfToTorch are inverse for every layout', () => {
    const cases: [Parameters<typeof torchToTf>[1], number[]][] = [['conv2d', [6, 4, 3, 3]], ['linear', [7, 5]], ['plain', [9]], ['depthwise2d', [8, 1, 3, 3]]];
    for (const [layout, shape] of cases) {
      const data = randomArray(shape.reduce((a, b) => a * b), 2);
      const back = tfToTorch(torchToTf({ shape, data }, layout), layout);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });
});

describe('Module', () => {
  it('ResNet-50 has exactly torchvision state_dict keys in order (no fc) and 23.5M parameters', () => {
    seedInit(0);
    const m = resnet50();
    const keys = [...stateDict(m).keys()];
    expect(keys.slice(0, 7)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight']);
    expect(keys).toContain('layer1.0.downsample.0.weight');
    expect(keys).toContain('layer4.2.bn3.num_batches_tracked');
    expect(keys.length).toBe(318); // torchvision resnet50 state_dict: 320 entries, minus fc.weight and fc.bias
    expect(m.numParameters()).toBe(23_508_032);
    expect(stateDict(m).get('conv1.weight')!.shape).toEqual([64, 3, 7, 7]);
    m.dispose();
  });

  it('stateDict -> loadStateDict round-trips exactly into a differently seeded model', () => {
    seedInit(1);
    const a = resnet18({ baseWidth: 8 });
    seedInit(2);
    const b = resnet18({ baseWidth: 8 });
    const report = loadStateDict(b, stateDict(a));
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    const sa = stateDict(a), sb = stateDict(b);
    for (const [k, v] of sa) expect(Array.from(sb.get(k)!.data as Float32Array)).toEqual(Array.from(v.data as Float32Array));
    a.dispose(); b.dispose();
  });

  it('strict load reports missing, unexpected and mismatched keys, names the family, and changes nothing', () => {
    seedInit(3);
    const m = resnet18({ baseWidth: 8 });
    const before = m.conv1.weight.dataSync().slice();
    const sd = stateDict(m);
    const bad = new Map([...sd].map(([k, v]) => [`module.${k}`, v]));
    expect(() => loadStateDict(m, bad, { source: 'ckpt.pth' })).toThrow(/ckpt\.pth.*Missing from the checkpoint: conv1\.weight.*start with "module\."/s);
    const mismatched = new Map(sd);
    mismatched.set('conv1.weight', { dtype: 'float32', shape: [8, 4, 7, 7], data: new Float32Array(8 * 4 * 49) });
    expect(() => loadStateDict(m, mismatched, { source: 'x.pth' })).toThrow(/conv1\.weight is \[8,4,7,7\] in the checkpoint, \[8,3,7,7\] in the model/);
    expect(Array.from(m.conv1.weight.dataSync())).toEqual(Array.from(before));
    const partial = new Map([...sd].filter(([k]) => !k.startsWith('layer4')));
    const r = loadStateDict(m, partial, { strict: false });
    expect(r.missing.every((k) => k.startsWith('layer4'))).toBe(true);
    expect(r.missing.length).toBeGreaterThan(0);
    m.dispose();
  });

  it('parameter groups exclude norms and biases from weight decay; freeze removes from trainables', () => {
    const lin = new Linear(4, 3);
    const g = lin.parameterGroups();
    expect(g.decay.map(([n]) => n)).toEqual(['weight']);
    expect(g.noDecay.map(([n]) => n)).toEqual(['bias']);
    lin.freeze((n) => n === 'weight');
    expect(lin.trainableVariables().length).toBe(1);
    lin.dispose();
  });
});

describe('layers against hand computation', () => {
  it('Linear computes x W^T + b with the PyTorch [out, in] weight', () => {
    const lin = new Linear(3, 2);
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]); // torch [2,3]
    loadStateDict(lin, new Map([['weight', { dtype: 'float32', shape: [2, 3], data: w }], ['bias', { dtype: 'float32', shape: [2], data: Float32Array.from([0.5, -1]) }]]));
    const y = lin.forward(tf.tensor2d([[1, 1, 1], [1, 0, -1]])).dataSync();
    expectClose(y, [6.5, 14, -1.5, -3], 1e-6);
    lin.dispose();
  });

  it('Conv2d with PyTorch padding: 3x3 ones kernel, pad 1 on a 3x3 ones image gives the neighbour counts', () => {
    const c = new Conv2d(1, 1, 3, { padding: 1, bias: false });
    loadStateDict(c, new Map([['weight', { dtype: 'float32', shape: [1, 1, 3, 3], data: new Float32Array(9).fill(1) }]]));
    expectClose(c.forward(tf.ones([1, 3, 3, 1])).dataSync(), [4, 6, 4, 6, 9, 6, 4, 6, 4], 0);
    c.dispose();
  });

  it('BatchNorm2d train mode: normalises with the batch and updates running stats with the unbiased variance', () => {
    const bn = new BatchNorm2d(1);
    const y = bn.forward(tf.tensor4d([1, 2, 3, 6], [1, 2, 2, 1])).dataSync();
    const mean = 3, varB = (4 + 1 + 0 + 9) / 4, varU = 14 / 3;
    expectClose(y, [1, 2, 3, 6].map((v) => (v - mean) / Math.sqrt(varB + 1e-5)), 1e-5);
    expectClose(bn.runningMean.dataSync(), [0.1 * mean], 1e-6);
    expectClose(bn.runningVar.dataSync(), [0.9 + 0.1 * varU], 1e-6);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    bn.eval();
    expectClose(bn.forward(tf.tensor4d([1], [1, 1, 1, 1])).dataSync(), [(1 - 0.3) / Math.sqrt(0.9 + 0.1 * varU + 1e-5)], 1e-5);
    bn.dispose();
  });

  it('LayerNorm normalises the last axis', () => {
    const ln = new LayerNorm(4);
    const y = ln.forward(tf.tensor2d([[1, 2, 3, 4]])).dataSync();
    const sd = Math.sqrt(1.25 + 1e-5);
    expectClose(y, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], 1e-5);
    ln.dispose();
  });
});
