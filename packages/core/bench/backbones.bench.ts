/**
 * Backbone benchmark: images/s of ResNet-50 and Swin-T at 224 px, batch 8, in one run on
 *   - our tfjs runtime (default backend: wasm with our kernels): eval forward, and a training step
 *     (train-mode forward, mean-square loss of the pooled features, gradients, SGD update) at --train-batch
 *     (default 2: batch 8 does not fit the 4 GiB wasm heap);
 *   - onnxruntime-node on our ONNX export (inference, all cores);
 *   - PyTorch CPU (Debian python3-torch, same thread count) via benchmarks/reference/torch_backbones.py.
 * Targets (issue "Backbones"): onnxruntime inference >= 1.3x PyTorch CPU; wasm training step >= 0.3x PyTorch.
 * Debian's PyTorch uses a generic BLAS (about 6 GFLOP/s on a 2048^3 matmul), which flatters the Swin ratios.
 * Writes benchmarks/results/backbones-wasm-f32-<machine>-<date>.json and the README table.
 *
 * Usage: pnpm --filter core bench:backbones [-- --batch 8 --size 224 --reps 2]
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend, seedInit, exportModule, createSession, loadOrt } from '../src/index.js';
import { createBackbone } from '../src/backbones/registry.js';
import { gemmThreadingStatus } from '../src/kernels/wasm/gemm.js';
import { formatTable, machineInfo, machineTag, markdownTable, randomArray, renderReadmeSection, repoRoot, timeIt, torchAvailable, PYTHON, writeBenchResult } from '../src/testing/index.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const batch = arg('batch', 8), size = arg('size', 224), reps = arg('reps', 2);
// The wasm heap is 32-bit (4 GiB); tfjs keeps every intermediate of the training step (batch norm is decomposed
// into several full-size ops), and ResNet-50 at batch 8 and 224 px aborts in malloc. Training is therefore
// measured at a batch that fits, for us and for PyTorch alike, so the ratio compares the same work.
const trainBatch = arg('train-batch', 2);
const threads = availableParallelism();
const archs = [{ ours: 'resnet50', torch: 'resnet50' }, { ours: 'swin_t', torch: 'swin_t' }] as const;

interface Row { arch: string; wasmForward: number; wasmTrain: number; ortForward: number; torchForward: number; torchTrain: number; peakRssMiB: number }

async function main(): Promise<void> {
  const info = await initBackend();
  const ort = await loadOrt();
  console.log(`backend ${info.name}; onnxruntime and PyTorch with ${threads} threads; batch ${batch} (training ${trainBatch}), ${size} px, ${reps} timed reps`);
  const rows: Row[] = [];
  const gemm = gemmThreadingStatus();
  const timing = { warmup: 1, minReps: reps, maxReps: reps, minSeconds: 0 };
  for (const a of archs) {
    seedInit(0);
    const m = createBackbone(a.ours);
    const x = tf.tensor4d(randomArray(batch * size * size * 3, 1), [batch, size, size, 3]);
    m.eval();
    const fwd = await timeIt(() => tf.tidy(() => m.forward(x).dataSync()), timing);
    m.train();
    const xt = tf.slice(x, [0], [trainBatch]);
    const vars = m.trainableVariables();
    const opt = tf.train.sgd(0.01);
    const train = await timeIt(() => {
      const loss = opt.minimize(() => tf.mean(tf.square(m.forward(xt as tf.Tensor4D))) as tf.Scalar, true, vars);
      loss?.dataSync();
      loss?.dispose();
    }, timing);
    const peakRssMiB = process.memoryUsage().rss / 2 ** 20;
    xt.dispose();
    const { model, eagerOutputs } = exportModule(m as never, tf.slice(x, [0], [1]) as tf.Tensor4D);
    tf.dispose(eagerOutputs);
    const session = await createSession(model, { threads });
    const feed = { input: new ort.Tensor('float32', x.dataSync() as Float32Array, [batch, size, size, 3]) };
    const ortT = await timeIt(() => session.run(feed), { warmup: 1, minReps: Math.max(reps, 3), maxReps: 10, minSeconds: 2 });
    await session.release();
    let torchForward = NaN, torchTrain = NaN;
    if (torchAvailable()) {
      const run = (b: number) => {
        const out = execFileSync(PYTHON, [join(repoRoot(), 'benchmarks/reference/torch_backbones.py'), a.torch, String(b), String(size), String(threads), String(reps)], { encoding: 'utf8', timeout: 1_200_000 });
        return JSON.parse(out.trim().split('\n').pop()!) as { forward_s: number; train_step_s: number };
      };
      torchForward = run(batch).forward_s;
      torchTrain = run(trainBatch).train_step_s;
    }
    rows.push({ arch: a.ours, wasmForward: fwd.median, wasmTrain: train.median, ortForward: ortT.median, torchForward, torchTrain, peakRssMiB });
    console.log(`  done ${a.ours}`);
    tf.dispose(x);
    m.dispose();
  }
  const ips = (s: number) => batch / s;
  const tips = (s: number) => trainBatch / s;
  const header = ['backbone', `wasm fwd img/s (b${batch})`, `wasm train img/s (b${trainBatch})`, `onnxruntime fwd img/s (b${batch}, ${threads}t)`, `PyTorch fwd img/s (b${batch}, ${threads}t)`, `PyTorch train img/s (b${trainBatch}, ${threads}t)`, 'ORT / PyTorch fwd', 'wasm train / PyTorch train'];
  const table = rows.map((r) => [r.arch, ips(r.wasmForward), tips(r.wasmTrain), ips(r.ortForward), ips(r.torchForward), tips(r.torchTrain), r.torchForward / r.ortForward, r.torchTrain / r.wasmTrain]);
  console.log('\n' + formatTable(header, table));
  const path = writeBenchResult({ bench: 'backbones', backend: info.name }, {
    bench: 'backbones', date: new Date().toISOString(), machine: machineInfo(), batch, trainBatch, size, reps, threads, backend: info.name,
    gemm: { threads: gemm.threads, fma: gemm.fma, fmaReason: gemm.fmaReason }, targets: { ortOverTorchForward: 1.3, wasmTrainOverTorchTrain: 0.3 }, rows,
    note: "Debian python3-torch uses a generic BLAS (about 6 GFLOP/s on a 2048^3 matmul); GEMM-heavy ratios (Swin) against it are flattering.",
  });
  console.log(`\nwrote ${path}`);
  const note = `Measured by \`pnpm --filter core bench:backbones\` on ${machineTag()} (${new Date().toISOString().slice(0, 10)}), batch ${batch}, ${size} px; source: \`${path.slice(path.indexOf('benchmarks/'))}\`. ` +
    `Training at batch ${trainBatch} for both: batch 8 at 224 px exceeds the 4 GiB wasm heap for ResNet-50. ` +
    `wasm: tfjs's shipped kernels on one thread, our kernels (convolutions, matmuls) on ${gemm.threads} thread${gemm.threads === 1 ? '' : 's'}` +
    `${gemm.fma ? ' with fused multiply-add (relaxed SIMD)' : ''}; onnxruntime and PyTorch use all cores. Debian's python3-torch uses a generic BLAS (about 6 GFLOP/s on a 2048^3 matmul), which flatters the Swin ratios.`;
  if (renderReadmeSection('bench:backbones', `${markdownTable(header, table)}\n\n${note}`)) console.log('updated README.md (bench:backbones)');
}

await main();
