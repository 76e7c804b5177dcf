/** IR rewrites before lowering: the ReLU gradient as one node, and only where nothing else reads the step mask. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, traceSymbolic, encodeIrGraph, createSession, loadOrt, Rng } from '../../src/index.js';
import { fuseReluGrad, WHERE_POSITIVE } from '../../src/graph/fuse.js';
import { summarize, type IrGraph } from '../../src/graph/ir.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Op counts of the graph's live (not folded) nodes. */
const count = (g: IrGraph) => summarize(g).ops;

describe('fuseReluGrad', () => {
  it('replaces Step + Cast + Mul of every ReLU gradient by one node, and onnxruntime gives the eager gradient', async () => {
    const shape = [2, 5, 5, 3];
    const rng = new Rng(4);
    const data = Float32Array.from({ length: 150 }, () => rng.normal());
    data[7] = 0; // the kink: gradient 0 at x = 0, as tfjs's step(0) = 0
    const loss = (x: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.mul(tf.relu(x), 1.5)))) as tf.Scalar;
    const trace = await traceSymbolic((i) => ({ g: tf.grad(loss)(i.x!) }), { inputs: { x: { shape } } });
    const before = count(trace.graph);
    const fused = fuseReluGrad(trace.graph);
    const after = count(fused);
    expect(before.Step).toBe(2);
    expect(after.Step ?? 0).toBe(0);
    expect(after[WHERE_POSITIVE]).toBe(2);
    expect(after.Multiply).toBe(before.Multiply! - 2);
    // each gradient reads a ReLU's output, so no pre-ReLU value (nor a saved copy of one) outlives the forward
    const producer = new Map(fused.nodes.filter((n) => !n.folded).flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    const wheres = fused.nodes.filter((n) => n.op === WHERE_POSITIVE);
    expect(wheres.map((n) => producer.get(n.inputs[0]!)?.op)).toEqual(['Relu', 'Relu']);
    const reluInputs = new Set(fused.nodes.filter((n) => n.op === 'Relu').map((n) => n.inputs[0]!));
    const readers = fused.nodes.filter((n) => !n.folded && n.op !== 'Relu' && n.inputs.some((i) => reluInputs.has(i)));
    expect(readers.map((n) => n.op)).not.toContain('Identity');
    expect(after.Identity ?? 0).toBeLessThan(before.Identity ?? 0);
    const ort = await loadOrt();
    const session = await createSession(encodeIrGraph(trace.graph), { threads: 1 });
    const out = await session.run({ x: new ort.Tensor('float32', data, shape) });
    await session.release();
    const eager = tf.tidy(() => tf.grad(loss)(tf.tensor(data, shape)).dataSync().slice());
    const got = out.g!.data as Float32Array;
    expect(got[7]).toBe(0);
    got.forEach((v, i) => expect(Math.abs(v - eager[i]!), `element ${i}`).toBeLessThan(1e-5));
  });

  it('leaves the pattern alone when the step mask has another reader', async () => {
    const trace = await traceSymbolic((i) => {
      const x = i.x!;
      const mask = tf.step(x);
      return { y: tf.mul(i.y!, mask), m: mask };
    }, { inputs: { x: { shape: [4] }, y: { shape: [4] } } });
    const fused = fuseReluGrad(trace.graph);
    expect(fused).toBe(trace.graph);
  });
});
