/**
 * Kernel micro-benchmark: GFLOP/s of conv forward, conv input-gradient, conv filter-gradient and batched matmul
 * (with transposes), side by side in one run on
 *   - the kernels tfjs-backend-wasm ships (XNNPACK or its scalar fallback; "missing" where it has none),
 *   - ours (registered by initBackend on wasm),
 *   - onnxruntime-node (CPU provider, all cores) on a one-op graph with operands as graph inputs.
 * Targets (issue "Foundation"): ours >= 5x the shipped scalar path and >= 0.5x the shipped XNNPACK forward conv
 * on the same shape. Writes benchmarks/results/kernels-wasm-f32-<machine>-<date>.json.
 *
 * Usage: pnpm --filter core bench [-- --quick]
 */
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import { initBackend } from '../src/index.js';
import { createSession, encodeModel, loadOrt, TensorDataType } from '../src/onnx/index.js';
import { hasShipped, runShipped } from '../src/kernels/wasm/shipped.js';
import { gemmThreadingStatus } from '../src/kernels/wasm/gemm.js';
import { formatTable, machineInfo, machineTag, markdownTable, randomArray, renderReadmeSection, timeIt, writeBenchResult } from '../src/testing/index.js';

const quick = process.argv.includes('--quick');
const F = TensorDataType.FLOAT;

interface ConvCase { name: string; x: [number, number, number, number]; k: number; co: number; stride: number }
interface MatCase { name: string; batch: number; m: number; k: number; n: number; tA: boolean; tB: boolean }

const convCases: ConvCase[] = [
  { name: 'resnet 3x3 64->64 s1', x: [8, 56, 56, 64], k: 3, co: 64, stride: 1 },
  { name: 'resnet 3x3 128->128 s2', x: [8, 56, 56, 128], k: 3, co: 128, stride: 2 },
  { name: 'resnet 1x1 256->64 s1', x: [8, 56, 56, 256], k: 1, co: 64, stride: 1 },
  { name: 'stem 7x7 3->64 s2', x: [8, 224, 224, 3], k: 7, co: 64, stride: 2 },
];
const matCases: MatCase[] = [
  { name: 'plain 1024^3', batch: 1, m: 1024, k: 1024, n: 1024, tA: false, tB: false },
  { name: 'attn QK^T 96x197x64x197', batch: 96, m: 197, k: 64, n: 197, tA: false, tB: true },
  { name: 'attn AV 96x197x197x64', batch: 96, m: 197, k: 197, n: 64, tA: false, tB: false },
  { name: 'swin win 2048x49x32x49 tB', batch: 2048, m: 49, k: 32, n: 49, tA: false, tB: true },
  { name: 'weight grad 768x1576^T x3072', batch: 1, m: 768, k: 1576, n: 3072, tA: true, tB: false },
  { name: 'input grad 1576x3072 x768^T', batch: 1, m: 1576, k: 3072, n: 768, tA: false, tB: true },
];

type Row = { op: string; shape: string; gflop: number; shipped: number; ours: number; ort: number; xnnFwd?: number };
const rows: Row[] = [];
const timing = quick ? { minReps: 1, maxReps: 3, minSeconds: 0.3 } : { minReps: 3, maxReps: 20, minSeconds: 1.5 };
const slowTiming = { warmup: 0, minReps: 1, maxReps: 1, minSeconds: 0 };

async function main(): Promise<void> {
  const info = await initBackend({ backend: 'wasm' });
  const backend = tf.backend();
  const ort = await loadOrt();
  const threads = availableParallelism();
  console.log(`backend: ${info.name} (${info.reason}); our kernels: ${info.registeredKernels.join(', ') || 'none'}`);
  const gemm = gemmThreadingStatus();
  console.log(`onnxruntime-node CPU provider, ${threads} threads; tfjs's shipped wasm kernels single-threaded, ours on ${gemm.threads} (${gemm.reason}; fma: ${gemm.fmaReason})\n`);
  const ours = (name: string) => info.registeredKernels.includes(name);
  const gflops = (flop: number, t: { median: number }) => flop / t.median / 1e9;

  async function ortTime(model: Uint8Array, feeds: Record<string, Ort.Tensor>): Promise<number> {
    const s = await createSession(model, { threads });
    const t = await timeIt(() => s.run(feeds), timing);
    await s.release();
    return t.median;
  }
  const ortT = (a: Float32Array, dims: number[]) => new ort.Tensor('float32', a, dims);

  for (const c of quick ? convCases.slice(0, 2) : convCases) {
    const [B, H, W, Ci] = c.x;
    const convInfo = tf.backend_util.computeConv2DInfo(c.x, [c.k, c.k, Ci, c.co], c.stride, 1, 'same');
    const Ho = convInfo.outHeight, Wo = convInfo.outWidth;
    const flop = 2 * B * Ho * Wo * c.co * c.k * c.k * Ci;
    const x = tf.tensor4d(randomArray(B * H * W * Ci, 1), c.x);
    const w = tf.tensor4d(randomArray(c.k * c.k * Ci * c.co, 2, -0.1, 0.1), [c.k, c.k, Ci, c.co]);
    const dy = tf.tensor4d(randomArray(B * Ho * Wo * c.co, 3), [B, Ho, Wo, c.co]);
    const convAttrs = { strides: [c.stride, c.stride], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined } as unknown as tf.NamedAttrMap;
    const shape = `x=[${c.x}] k=${c.k} co=${c.co} s=${c.stride}`;
    const runDispose = (f: () => tf.TensorInfo) => () => backend.disposeData(f().dataId);

    // forward (XNNPACK): the yardstick for the 0.5x target
    const fwd = await timeIt(runDispose(() => runShipped('Conv2D', backend, { x, filter: w }, convAttrs)), timing);
    // ORT graphs take NCHW; the transposes are part of what a lowered NHWC graph would run, so we keep the
    // operands NCHW here and compare pure kernel work.
    const xN = randomArray(B * Ci * H * W, 4), wN = randomArray(c.co * Ci * c.k * c.k, 5, -0.1, 0.1), dyN = randomArray(B * c.co * Ho * Wo, 6);
    const pt = convInfo.padInfo.top, pl = convInfo.padInfo.left, pb = convInfo.padInfo.bottom, pr = convInfo.padInfo.right;
    const convNode = { opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attributes: {
      strides: { type: 'ints' as const, value: [c.stride, c.stride] }, pads: { type: 'ints' as const, value: [pt, pl, pb, pr] } } };
    const ortFwd = await ortTime(encodeModel({ opset: 17, graph: { name: 'conv', nodes: [convNode],
      inputs: [{ name: 'x', elemType: F, shape: [B, Ci, H, W] }, { name: 'w', elemType: F, shape: [c.co, Ci, c.k, c.k] }],
      outputs: [{ name: 'y', elemType: F, shape: [B, c.co, Ho, Wo] }] } }), { x: ortT(xN, [B, Ci, H, W]), w: ortT(wN, [c.co, Ci, c.k, c.k]) });
    rows.push({ op: 'conv forward', shape, gflop: flop / 1e9, shipped: gflops(flop, fwd), ours: NaN, ort: flop / ortFwd / 1e9 });

    // input gradient
    const bpiAttrs = { ...convAttrs, inputShape: c.x } as unknown as tf.NamedAttrMap;
    const shippedBpi = await timeIt(runDispose(() => runShipped('Conv2DBackpropInput', backend, { dy, filter: w }, bpiAttrs)), slowTiming);
    const oursBpi = ours('Conv2DBackpropInput')
      ? await timeIt(() => tf.dispose(tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, bpiAttrs)), timing)
      : { median: NaN };
    const outPad = [H - ((Ho - 1) * c.stride - pt - pb + c.k), W - ((Wo - 1) * c.stride - pl - pr + c.k)];
    const ortBpi = await ortTime(encodeModel({ opset: 17, graph: { name: 'convT', nodes: [{ opType: 'ConvTranspose', inputs: ['dy', 'w'], outputs: ['dx'], attributes: {
        strides: { type: 'ints', value: [c.stride, c.stride] }, pads: { type: 'ints', value: [pt, pl, pb, pr] }, output_padding: { type: 'ints', value: outPad } } }],
      inputs: [{ name: 'dy', elemType: F, shape: [B, c.co, Ho, Wo] }, { name: 'w', elemType: F, shape: [c.co, Ci, c.k, c.k] }],
      outputs: [{ name: 'dx', elemType: F, shape: [B, Ci, H, W] }] } }), { dy: ortT(dyN, [B, c.co, Ho, Wo]), w: ortT(wN, [c.co, Ci, c.k, c.k]) });
    rows.push({ op: 'conv input-grad', shape, gflop: flop / 1e9, shipped: gflops(flop, shippedBpi), ours: gflops(flop, oursBpi), ort: flop / ortBpi / 1e9, xnnFwd: gflops(flop, fwd) });

    // filter gradient
    const bpfAttrs = { ...convAttrs, filterShape: [c.k, c.k, Ci, c.co] } as unknown as tf.NamedAttrMap;
    const shippedBpf = hasShipped('Conv2DBackpropFilter')
      ? await timeIt(runDispose(() => runShipped('Conv2DBackpropFilter', backend, { x, dy }, bpfAttrs)), slowTiming)
      : { median: NaN };
    const oursBpf = ours('Conv2DBackpropFilter')
      ? await timeIt(() => tf.dispose(tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, bpfAttrs)), timing)
      : { median: NaN };
    // ORT: dW^T = Conv(x^T [Ci,B,H,W], dy^T [Co,B,Ho,Wo], dilation = stride), the lowering the compiled engine uses
    const kh = (Ho - 1) * c.stride + 1;
    const ortBpf = await ortTime(encodeModel({ opset: 17, graph: { name: 'convW', nodes: [
        { opType: 'Transpose', inputs: ['x'], outputs: ['xt'], attributes: { perm: { type: 'ints', value: [1, 0, 2, 3] } } },
        { opType: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attributes: { perm: { type: 'ints', value: [1, 0, 2, 3] } } },
        { opType: 'Conv', inputs: ['xt', 'dyt'], outputs: ['dw'], attributes: { dilations: { type: 'ints', value: [c.stride, c.stride] },
          pads: { type: 'ints', value: [pt, pl, Math.max(pb, 0), Math.max(pr, 0)] } } }],
      inputs: [{ name: 'x', elemType: F, shape: [B, Ci, H, W] }, { name: 'dy', elemType: F, shape: [B, c.co, Ho, Wo] }],
      outputs: [{ name: 'dw', elemType: F, shape: [Ci, c.co, 'kh', 'kw'] }] } }), { x: ortT(xN, [B, Ci, H, W]), dy: ortT(dyN, [B, c.co, Ho, Wo]) });
    void kh;
    rows.push({ op: 'conv filter-grad', shape, gflop: flop / 1e9, shipped: gflops(flop, shippedBpf), ours: gflops(flop, oursBpf), ort: flop / ortBpf / 1e9, xnnFwd: gflops(flop, fwd) });
    tf.dispose([x, w, dy]);
    console.log(`  done ${c.name}`);
  }

  for (const c of quick ? matCases.slice(0, 3) : matCases) {
    const flop = 2 * c.batch * c.m * c.k * c.n;
    const aShape = c.tA ? [c.batch, c.k, c.m] : [c.batch, c.m, c.k];
    const bShape = c.tB ? [c.batch, c.n, c.k] : [c.batch, c.k, c.n];
    const a = tf.tensor3d(randomArray(aShape.reduce((p, q) => p * q), 7), aShape as [number, number, number]);
    const b = tf.tensor3d(randomArray(bShape.reduce((p, q) => p * q), 8), bShape as [number, number, number]);
    const attrs = { transposeA: c.tA, transposeB: c.tB } as unknown as tf.NamedAttrMap;
    const plainAttrs = { transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap;
    const isFast = c.batch === 1 && !c.tA && !c.tB;
    const shippedT = await timeIt(() => backend.disposeData(runShipped('BatchMatMul', backend, { a, b }, attrs).dataId), isFast ? timing : slowTiming);
    const oursT = ours('BatchMatMul') ? await timeIt(() => tf.dispose(tf.engine().runKernel('BatchMatMul', { a, b }, attrs)), timing) : { median: NaN };
    // XNNPACK yardstick: the shipped fast path on a batch-1 untransposed matmul of the same m, k, n
    const a1 = tf.tensor3d(randomArray(c.m * c.k, 9), [1, c.m, c.k]), b1 = tf.tensor3d(randomArray(c.k * c.n, 10), [1, c.k, c.n]);
    const xnn = await timeIt(() => backend.disposeData(runShipped('BatchMatMul', backend, { a: a1, b: b1 }, plainAttrs).dataId), timing);
    const nodes = [] as { opType: string; inputs: string[]; outputs: string[]; attributes?: Record<string, { type: 'ints'; value: number[] }> }[];
    let an = 'a', bn = 'b';
    if (c.tA) { nodes.push({ opType: 'Transpose', inputs: ['a'], outputs: ['at'], attributes: { perm: { type: 'ints', value: [0, 2, 1] } } }); an = 'at'; }
    if (c.tB) { nodes.push({ opType: 'Transpose', inputs: ['b'], outputs: ['bt'], attributes: { perm: { type: 'ints', value: [0, 2, 1] } } }); bn = 'bt'; }
    nodes.push({ opType: 'MatMul', inputs: [an, bn], outputs: ['y'] });
    const ortMm = await ortTime(encodeModel({ opset: 17, graph: { name: 'mm', nodes,
      inputs: [{ name: 'a', elemType: F, shape: aShape }, { name: 'b', elemType: F, shape: bShape }],
      outputs: [{ name: 'y', elemType: F, shape: [c.batch, c.m, c.n] }] } }),
      { a: ortT(a.dataSync() as Float32Array, aShape), b: ortT(b.dataSync() as Float32Array, bShape) });
    rows.push({ op: `matmul${c.tA ? ' tA' : ''}${c.tB ? ' tB' : ''}`, shape: c.name, gflop: flop / 1e9, shipped: gflops(flop, shippedT), ours: gflops(flop, oursT), ort: flop / ortMm / 1e9, xnnFwd: (2 * c.m * c.k * c.n) / xnn.median / 1e9 });
    tf.dispose([a, b, a1, b1]);
    console.log(`  done ${c.name}`);
  }

  const table = formatTable(
    ['op', 'shape', 'GFLOP', 'shipped wasm GFLOP/s', 'ours GFLOP/s', 'ours/shipped', 'ours/XNNPACK fwd', `onnxruntime ${threads}t GFLOP/s`],
    rows.map((r) => [r.op, r.shape, r.gflop, r.shipped, r.ours, r.ours / r.shipped, r.xnnFwd === undefined ? '-' : r.ours / r.xnnFwd, r.ort]),
  );
  console.log('\n' + table);
  console.log('\n"shipped" for a missing kernel is "-". "XNNPACK fwd" is the shipped forward conv (or batch-1 plain matmul) on the same shape.');
  const path = writeBenchResult({ bench: 'kernels', backend: 'wasm' }, {
    bench: 'kernels', date: new Date().toISOString(), machine: machineInfo(), quick, ortThreads: threads, gemm: { threads: gemm.threads, fma: gemm.fma },
    tfjs: tf.version.tfjs, ourKernels: info.registeredKernels,
    targets: { oursOverShipped: 5, oursOverXnnpackForward: 0.5 },
    rows: rows.map((r) => ({ ...r, oursOverShipped: r.ours / r.shipped, oursOverXnnpackForward: r.xnnFwd === undefined ? null : r.ours / r.xnnFwd })),
  });
  console.log(`\nwrote ${path}`);
  if (!quick) {
    const md = markdownTable(
      ['op', 'shape', 'shipped wasm GFLOP/s', 'ours GFLOP/s', 'ours / shipped', 'ours / XNNPACK fwd', `onnxruntime (${threads} threads) GFLOP/s`],
      rows.map((r) => [r.op, r.shape, r.shipped, r.ours, r.ours / r.shipped, r.xnnFwd === undefined ? '-' : r.ours / r.xnnFwd, r.ort]),
    );
    const note = `Measured by \`pnpm --filter core bench\` on ${machineTag()} (${new Date().toISOString().slice(0, 10)}); source: \`${path.slice(path.indexOf('benchmarks/'))}\`. ` +
      `tfjs's shipped wasm kernels run one thread in Node; ours run on ${gemm.threads} thread${gemm.threads === 1 ? '' : 's'}` +
      `${gemm.fma ? ' with fused multiply-add (relaxed SIMD)' : ''}; "-" in "shipped" means tfjs-backend-wasm has no such kernel.`;
    if (renderReadmeSection('bench:kernels', `${md}\n\n${note}`)) console.log('updated README.md (bench:kernels)');
  }
}

await main();
