/**
 * `pnpm --filter classify bench`: prediction throughput of a ResNet-50 scene classifier (21 classes, 224 px),
 * ours on onnxruntime-node (the exported model.onnx path) against PyTorch CPU (Debian python3-torch 1.13) in the
 * same run: (1) model forward on random batches, (2) end to end over the synthetic UCM test images (decode + eval
 * transform + forward + softmax). Writes benchmarks/results/classify-predict-*.json and the README block.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { initBackend, OnnxRunner, seedInit } from '@cmid/core';
import { formatTable, markdownTable, renderReadmeSection, repoRoot, timeIt, torchAvailable, writeBenchResult, PYTHON } from '@cmid/core/testing';
import { exportClassifier, mergeClassifyConfig, openSceneDataset, ScenePredictor, UCM_RESNET50, buildClassifier, saveClassifier } from '../src/index.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

await initBackend({ backend: 'wasm' });
const threads = availableParallelism();
const batch = 16, size = 224, classes = 21, reps = 5;
seedInit(0);
const ds = await openSceneDataset('synthetic', undefined, { seed: 0, size: 'small' });
const meta = { classes: ds.classes, bands: 3, config: mergeClassifyConfig(UCM_RESNET50, {}) };
const model = buildClassifier(meta);
const runner = await OnnxRunner.load(exportClassifier(model, meta), { threads });
const x = new Float32Array(batch * size * size * 3).map(() => Math.random() - 0.5);
const fwd = await timeIt(() => runner.run(x, [batch, size, size, 3]), { warmup: 1, minReps: reps, maxReps: reps });
await runner.release();
const dir = await mkdtemp(join(tmpdir(), 'cmid-predict-bench-'));
await saveClassifier(join(dir, 'model.safetensors'), model, meta);
const predictor = await ScenePredictor.open(join(dir, 'model.safetensors'), { engine: 'onnx', threads });
const paths = ds.test.map((s) => s.path);
const e2e = await timeIt(() => predictor.predictFiles(paths, { batchSize: batch }), { warmup: 1, minReps: 3, maxReps: 3 });
await predictor.close();
model.dispose();

let torch: { forward_img_s: number; end_to_end_img_s?: number } | undefined;
if (torchAvailable()) {
  const script = join(repoRoot(), 'benchmarks', 'reference', 'torch_classify_predict.py');
  const imageDir = dirname(dirname(paths[0]!));
  torch = JSON.parse(execFileSync(PYTHON, [script, 'resnet50', String(classes), String(batch), String(size), String(threads), String(reps), imageDir], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').pop()!);
}
const ours = { forward_img_s: batch / fwd.median, end_to_end_img_s: paths.length / e2e.median };
const rows: (string | number)[][] = [
  ['model forward (batch 16)', ours.forward_img_s, torch?.forward_img_s ?? NaN, torch ? ours.forward_img_s / torch.forward_img_s : NaN],
  [`decode + transform + forward (${paths.length} synthetic UCM images)`, ours.end_to_end_img_s, torch?.end_to_end_img_s ?? NaN, torch?.end_to_end_img_s ? ours.end_to_end_img_s / torch.end_to_end_img_s : NaN],
];
const header = ['ResNet-50 classifier, 224 px', 'ours, onnxruntime (img/s)', 'PyTorch CPU (img/s)', 'ratio'];
console.log(formatTable(header, rows));
const file = writeBenchResult({ bench: 'classify-predict', backend: 'ort' }, { threads, batch, size, classes, ours, torch: torch ?? null, images: paths.length });
console.log(`wrote ${file}`);
const date = new Date().toISOString().slice(0, 10);
renderReadmeSection('bench:classify-predict', `${markdownTable(header, rows)}\n\nMeasured by \`pnpm --filter classify bench\` (${date}, ${threads} threads for both; source: \`${file.slice(repoRoot().length + 1)}\`). End to end, ours decodes in the main thread (sharp/geotiff) and PyTorch with PIL. Debian's python3-torch uses a generic BLAS (about 6 GFLOP/s on a 2048^3 matmul); its convolutions use oneDNN.`);
