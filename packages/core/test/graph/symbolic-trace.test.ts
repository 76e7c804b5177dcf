import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, traceSymbolic, summarize, feed } from '../../src/index.js';
import { resnet50 } from '../../src/backbones/resnet.js';
import { moduleVariables } from '../../src/compile/step-graph.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('traceSymbolic', () => {
  it('records a ResNet-50 training step (batch 8, 224 px) without computing it, and leaves the weights and backend as they were', async () => {
    const net = resnet50().train();
    const vars = moduleVariables(net);
    const before = (vars['conv1.weight']!.dataSync() as Float32Array).slice(0, 8);
    const mean0 = (vars['bn1.running_mean']!.dataSync() as Float32Array).slice();
    const t0 = performance.now();
    const tr = await traceSymbolic((i) => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.forward(i.x as tf.Tensor4D))) as tf.Scalar, net.trainableVariables());
      return { loss: value, g: grads[vars['conv1.weight']!.name]! };
    }, { inputs: { x: { shape: [8, 224, 224, 3] } }, variables: vars });
    const ms = performance.now() - t0;
    const s = summarize(tr.graph);
    expect(s.ops.Conv2D).toBe(53);
    expect(s.ops.Conv2DBackpropFilter).toBe(53);
    expect(s.ops.Conv2DBackpropInput).toBe(52); // none for the stem: the image needs no gradient
    expect(s.ops.MaxPoolGrad).toBe(1);
    expect(tr.assigned.filter((n) => n.endsWith('running_mean'))).toHaveLength(53);
    expect(tr.graph.outputNames.slice(0, 2)).toEqual(['loss', 'g']);
    expect(tr.graph.values[tr.graph.outputs[1]!]!.shape).toEqual([7, 7, 3, 64]);
    // no arithmetic: a real batch-8 forward + backward takes tens of seconds on this backend
    expect(ms).toBeLessThan(20_000);
    expect(tf.getBackend()).toBe('wasm');
    expect(Array.from(vars['conv1.weight']!.dataSync().slice(0, 8))).toEqual(Array.from(before));
    expect(Array.from(vars['bn1.running_mean']!.dataSync())).toEqual(Array.from(mean0));
    net.dispose();
  });

  it('stops with a clear message when traced code reads a computed value', async () => {
    await expect(traceSymbolic((i) => {
      const y = tf.relu(i.x!);
      y.dataSync();
      return { y };
    }, { inputs: { x: { shape: [3] } } })).rejects.toThrow(/reads the data of a computed tensor \[3\].*feed them as inputs/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('names the kernel that has no shape rule', async () => {
    await expect(traceSymbolic((i) => ({ y: tf.cumsum(i.x!) }), { inputs: { x: { shape: [4] } } })).rejects.toThrow(/kernel "Cumsum" has no shape rule/);
  });

  it('folds constant subgraphs on the cpu backend, keeps their values readable, and turns feed() into graph inputs', async () => {
    const tr = await traceSymbolic((i) => {
      const table = tf.add(tf.range(0, 4), 10); // constant: folded, no node in the graph
      const keep = feed([2, 1], () => Float32Array.of(1, 0), { label: 'mask' });
      expect(Array.from(table.dataSync())).toEqual([10, 11, 12, 13]);
      return { y: tf.mul(tf.add(i.x!, table), keep) };
    }, { inputs: { x: { shape: [2, 4] } } });
    expect(tr.graph.nodes.filter((n) => !n.folded).map((n) => n.op)).toEqual(['Add', 'Multiply']);
    expect(tr.feeds.map((f) => [f.name, f.shape])).toEqual([['feed:0:mask', [2, 1]]]);
    expect(tr.graph.inputs.map((id) => tr.graph.values[id]!.name)).toEqual(['x', 'feed:0:mask']);
    // eagerly, feed() is just a tensor
    expect(Array.from(feed([2], () => Float32Array.of(3, 4)).dataSync())).toEqual([3, 4]);
  });
});
