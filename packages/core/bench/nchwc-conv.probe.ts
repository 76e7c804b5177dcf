/**
 * Probe (docs/decisions.md, "onnxruntime's NCHWc convolution with the filter as a graph input"): is onnxruntime's
 * blocked-layout convolution (com.microsoft.nchwc Conv) faster than its standard Conv when the filter is a graph input,
 * as in a training step? For each ResNet-50 convolution shape (batch 8), three one-node graphs:
 *   - std:     Conv on NCHW x and OIHW filter;
 *   - nchwc:   the filter re-blocked in the graph (Reshape + Transpose + Reshape), ReorderInput, NCHWc Conv, ReorderOutput;
 *   - kernel:  the NCHWc Conv alone on operands fed as if already blocked (its speed with the layout kept throughout).
 * Checks that nchwc equals std, and prints second-best-of-N times. Not a bench with a reference: no JSON is written.
 * The block size is onnxruntime's MlasNchwcGetBlockSize(): 16 with AVX-512, 8 with AVX2 (BLOCK overrides; a wrong
 * one shows as a large difference).
 * Usage: tsx --conditions=@cmid/source bench/nchwc-conv.probe.ts [RUNS=10]
 */
import type * as Ort from 'onnxruntime-node';
import { encodeModel, createSession, loadOrt, int64Tensor, TensorDataType, type AttributeValue, type NodeProto, type TensorProto } from '../src/onnx/index.js';
import { formatTable, randomArray } from '../src/testing/index.js';

const runs = Number(process.argv[2] ?? 10);
const BLOCK = Number(process.env.BLOCK ?? (process.arch === 'x64' ? 16 : 8));
const NCHWC = 'com.microsoft.nchwc';
const ort = await loadOrt();

type Kind = 'std' | 'nchwc' | 'kernel';
/** [batch, Ci, Co, H (= W), k, stride] */
const SHAPES: [number, number, number, number, number, number][] = [
  [8, 3, 64, 224, 7, 2],
  [8, 64, 64, 56, 3, 1],
  [8, 128, 128, 28, 3, 1],
  [8, 256, 256, 14, 3, 1],
  [8, 512, 512, 7, 3, 1],
  [8, 128, 128, 56, 3, 2],
  [8, 256, 64, 56, 1, 1],
  [8, 64, 256, 56, 1, 1],
  [8, 1024, 256, 14, 1, 1],
  [8, 2048, 512, 7, 1, 1],
];

async function session(kind: Kind, ci: number, co: number, k: number, s: number, xShape: number[], yShape: number[]): Promise<Ort.InferenceSession> {
  const p = (k - 1) >> 1;
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: { type: 'ints', value: [k, k] },
    pads: { type: 'ints', value: [p, p, p, p] },
    strides: { type: 'ints', value: [s, s] },
  };
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  if (kind === 'std') nodes.push({ opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attributes });
  else if (kind === 'kernel') nodes.push({ opType: 'Conv', domain: NCHWC, inputs: ['x', 'w'], outputs: ['y'], attributes });
  else {
    const blockedIn = ci >= BLOCK;
    // OIHW -> OIHWBiBo ([O/B, I/B, kh, kw, Bi, Bo]) or, for an input of fewer channels than a block, OIHWBo
    const split = blockedIn ? [co / BLOCK, BLOCK, ci / BLOCK, BLOCK, k, k] : [co / BLOCK, BLOCK, ci, k, k];
    const perm = blockedIn ? [0, 2, 4, 5, 3, 1] : [0, 2, 3, 4, 1];
    initializers.push(int64Tensor('split', [split.length], split), int64Tensor('oihw', [4], [co, ci, k, k]));
    nodes.push(
      { opType: 'Reshape', inputs: ['w', 'split'], outputs: ['w_split'] },
      { opType: 'Transpose', inputs: ['w_split'], outputs: ['w_blocked'], attributes: { perm: { type: 'ints', value: perm } } },
      { opType: 'Reshape', inputs: ['w_blocked', 'oihw'], outputs: ['wb'] },
    );
    if (blockedIn) nodes.push({ opType: 'ReorderInput', domain: NCHWC, inputs: ['x'], outputs: ['xc'] });
    nodes.push(
      { opType: 'Conv', domain: NCHWC, inputs: [blockedIn ? 'xc' : 'x', 'wb'], outputs: ['yc'], attributes },
      { opType: 'ReorderOutput', domain: NCHWC, inputs: ['yc'], outputs: ['y'], attributes: { channels: { type: 'int', value: co } } },
    );
  }
  const F = TensorDataType.FLOAT;
  const model = encodeModel({
    opset: 17,
    extraOpsets: [{ domain: NCHWC, version: 1 }],
    graph: { name: kind, nodes, initializers, inputs: [{ name: 'x', elemType: F, shape: xShape }, { name: 'w', elemType: F, shape: [co, ci, k, k] }], outputs: [{ name: 'y', elemType: F, shape: yShape }] },
  });
  return createSession(model);
}

const rows: (string | number)[][] = [];
const sums = { std: 0, nchwc: 0, kernel: 0 };
for (const [n, ci, co, h, k, s] of SHAPES) {
  const ho = Math.floor((h + 2 * ((k - 1) >> 1) - k) / s) + 1;
  const xShape = [n, ci, h, h], yShape = [n, co, ho, ho];
  const feeds = { x: new ort.Tensor('float32', randomArray(n * ci * h * h, 1), xShape), w: new ort.Tensor('float32', randomArray(co * ci * k * k, 2), [co, ci, k, k]) };
  const ms = {} as Record<Kind, number>;
  let ref: Float32Array | undefined, maxDiff = 0;
  for (const kind of ['std', 'nchwc', 'kernel'] as const) {
    const sess = await session(kind, ci, co, k, s, xShape, yShape);
    const y = (await sess.run(feeds)).y!.data as Float32Array;
    if (kind === 'std') ref = y.slice();
    if (kind === 'nchwc') for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i]! - ref![i]!));
    const t: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await sess.run(feeds);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    ms[kind] = t[Math.min(1, t.length - 1)]!;
    sums[kind] += ms[kind];
    await sess.release();
  }
  rows.push([`${k}x${k}x${ci}->${co} at ${h}x${h}${s > 1 ? ` /${s}` : ''}`, ms.std.toFixed(2), ms.nchwc.toFixed(2), ms.kernel.toFixed(2), (ms.std / ms.kernel).toFixed(2), maxDiff.toExponential(1)]);
}
rows.push(['sum', sums.std.toFixed(1), sums.nchwc.toFixed(1), sums.kernel.toFixed(1), (sums.std / sums.kernel).toFixed(2), '']);
console.log(`onnxruntime Conv against NCHWc Conv (block ${BLOCK}), filter as graph input, batch 8, ms (second best of ${runs})`);
console.log(formatTable(['shape', 'std Conv', 'NCHWc + reorders', 'NCHWc kernel alone', 'std / kernel', 'max |diff|'], rows));
