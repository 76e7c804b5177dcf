/**
 * `cmid classify` end to end through commander (classifyCommand().parseAsync): train a tiny run on the tiny
 * synthetic UCM set, then eval / predict / export / probe on it, and the error paths that must name their file.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '@cmid/core';
import { classifyCommand, openSceneDataset, type SceneDataset } from '../src/index.js';
import { removeTempDirs, tempDir, writeImage8 } from './datasets/helpers.js';

/** A tiny, fast model: the tiny preset's ResNet-18 at width 8 on 64 px. */
const MODEL_FLAGS = ['--preset', 'tiny', '--set', 'size=64', '--set', 'backboneOptions={"baseWidth":8}'];
/**
 * 4 epochs of batch 8 (28 steps on the 63 training images, a few seconds), without mixup / cutmix / RandAugment /
 * erasing / warm-up and evaluated once at the end: after one mixed-up epoch the model still predicts one class for
 * every image, which would make "eval's OA equals predict's accuracy" a weak check; this one spreads its answers.
 */
const EPOCHS = 4;
const BATCH = 8;
const TRAIN_FLAGS = ['--set', `evalEvery=${EPOCHS}`, '--set', 'mixup=0', '--set', 'cutmix=0', '--set', 'aa=null', '--set', 'reprob=0', '--set', 'warmupEpochs=0'];
const DATA_FLAGS = ['--data', 'synthetic', '--synth-size', 'tiny'];

/** Runs `cmid classify <args>` and returns what it printed with console.log. */
async function classify(...args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
  try {
    await classifyCommand().parseAsync(['node', 'cmid-classify', ...args], { from: 'node' });
  } finally {
    spy.mockRestore();
  }
  return lines;
}

interface PredFile {
  classes: string[];
  predictions: { path: string; label: string; index: number; probabilities: number[] }[];
  skipped: unknown[];
}
const readJson = async <T>(p: string): Promise<T> => JSON.parse(await readFile(p, 'utf8')) as T;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let ds: SceneDataset;
let root: string;
let run: string;
let trainLog: string[];
let testPaths: string[];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  ds = await openSceneDataset('synthetic', undefined, { seed: 0, size: 'tiny' });
  testPaths = ds.test.map((s) => s.path);
  root = await tempDir('cmid-classify-cli-');
  run = join(root, 'run');
  trainLog = await classify('train', ...DATA_FLAGS, ...MODEL_FLAGS, ...TRAIN_FLAGS, '--epochs', String(EPOCHS), '--batch-size', String(BATCH), '-o', run, '-q');
}, 300_000);

afterAll(removeTempDirs);

describe('cmid classify', () => {
  it('train writes the model files, metrics.json and the confusion PNG into the run folder', async () => {
    for (const f of ['model.safetensors', 'model.onnx', 'metrics.json', 'confusion.png', 'log.jsonl', 'checkpoints/last.safetensors']) {
      expect((await stat(join(run, f))).size, f).toBeGreaterThan(0);
    }
    const m = await readJson<{ steps: number; dataset: { train: number; test: number; classes: number }; final: { oa: number } }>(join(run, 'metrics.json'));
    expect(m.steps).toBe(EPOCHS * Math.floor(ds.train.length / BATCH)); // --epochs and --batch-size took effect
    expect(m.dataset).toMatchObject({ train: ds.train.length, test: ds.test.length, classes: ds.classes.length });
    expect(m.final.oa).toBeGreaterThanOrEqual(0);
    expect(m.final.oa).toBeLessThanOrEqual(100);
    const done = trainLog.find((l) => l.startsWith('done:'));
    expect(done).toBeDefined();
    expect(done).toContain(`Test OA ${m.final.oa.toFixed(2)} %`);
    expect(done).toContain(join(run, 'model.onnx'));
  });

  it("eval's OA equals the accuracy of predict's labels on the same test images, and the training run's", async () => {
    const evalOut = join(root, 'eval');
    const report = await classify('eval', '-m', run, ...DATA_FLAGS, '-o', evalOut);
    expect(report.join('\n')).toMatch(/OA|overall/i);
    const metrics = await readJson<{ model: string; split: string; images: number; oa: number; aa: number; kappa: number }>(join(evalOut, 'metrics.json'));
    expect(metrics.model).toBe(run);
    expect(metrics.split).toBe('test');
    expect(metrics.images).toBe(ds.test.length);
    expect(metrics.oa).toBeGreaterThanOrEqual(0);
    expect(metrics.oa).toBeLessThanOrEqual(100);
    const png = await readFile(join(evalOut, 'confusion.png'));
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);

    const predsFile = join(root, 'preds.json');
    const out = await classify('predict', ...testPaths, '-m', run, '-o', predsFile);
    expect(out.join('\n')).toContain(`${ds.test.length} images -> ${predsFile}`);
    const preds = await readJson<PredFile>(predsFile);
    expect(preds.classes).toEqual(ds.classes);
    expect(preds.skipped).toEqual([]);
    expect(preds.predictions.map((p) => p.path)).toEqual(testPaths);
    // the comparison below means little if the model answers one class for everything (see TRAIN_FLAGS)
    expect(new Set(preds.predictions.map((p) => p.index)).size, 'distinct predicted classes').toBeGreaterThan(1);
    const C = ds.classes.length;
    const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    let correct = 0;
    ds.test.forEach((s, i) => {
      const p = preds.predictions[i]!;
      const truth = ds.classes[s.label]!;
      expect(basename(dirname(s.path))).toBe(truth); // Images/<class>/<class>NN.tif
      expect(p.label).toBe(ds.classes[p.index]);
      expect(p.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      confusion[s.label]![p.index]!++;
      if (p.label === truth) correct++;
    });
    const oa = (100 * correct) / ds.test.length;
    expect(Math.abs(metrics.oa - oa)).toBeLessThan(1e-6);
    // the run's own final evaluation scored the same model on the same split: same OA, same confusion matrix
    const trained = await readJson<{ final: { oa: number }; confusion: number[][] }>(join(run, 'metrics.json'));
    expect(Math.abs(trained.final.oa - oa)).toBeLessThan(1e-6);
    expect(trained.confusion).toEqual(confusion);
  });

  it('export writes an ONNX that predicts as the run model.onnx, and the tfjs engine agrees with onnxruntime', async () => {
    const other = join(root, 'other.onnx');
    const said = await classify('export', join(run, 'model.safetensors'), '-o', other);
    expect(said.join('\n')).toContain(`wrote ${other}`);
    expect((await stat(other)).size).toBeGreaterThan(0);

    const predict = async (model: string, engine: 'onnx' | 'tfjs', name: string) => {
      const file = join(root, `${name}.json`);
      await classify('predict', ...testPaths, '-m', model, '--engine', engine, '--batch-size', '8', '-o', file);
      const r = await readJson<PredFile>(file);
      expect(r.predictions.map((p) => p.path)).toEqual(testPaths);
      return r.predictions;
    };
    const runOnnx = await predict(join(run, 'model.onnx'), 'onnx', 'p-run-onnx');
    const exported = await predict(other, 'onnx', 'p-exported');
    const eager = await predict(join(run, 'model.safetensors'), 'tfjs', 'p-tfjs');
    const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
    runOnnx.forEach((p, i) => {
      expect(exported[i]!.label, p.path).toBe(p.label);
      expect(maxDiff(exported[i]!.probabilities, p.probabilities), p.path).toBeLessThan(1e-4);
      expect(maxDiff(eager[i]!.probabilities, p.probabilities), p.path).toBeLessThan(1e-4);
      // the same label, unless the two best classes are closer than the tolerance (then either is right)
      const sorted = [...p.probabilities].sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! > 1e-4) expect(eager[i]!.label, p.path).toBe(p.label);
    });
  });

  it('probe prints one JSON line with kNN and linear-probe accuracies in [0, 100]', async () => {
    const lines = await classify('probe', ...DATA_FLAGS, ...MODEL_FLAGS);
    const json = lines.filter((l) => l.trimStart().startsWith('{'));
    expect(json).toHaveLength(1);
    const r = JSON.parse(json[0]!) as Record<string, unknown>;
    for (const k of ['knnTop1', 'knnTop5', 'linearTop1']) {
      expect(typeof r[k], k).toBe('number');
      expect(r[k] as number, k).toBeGreaterThanOrEqual(0);
      expect(r[k] as number, k).toBeLessThanOrEqual(100);
    }
    expect(r.knnTop5 as number).toBeGreaterThanOrEqual(r.knnTop1 as number);
    expect(r).toMatchObject({ trainImages: ds.train.length, testImages: ds.test.length, classes: ds.classes.length, weights: null });
  });

  it('eval on a dataset with other classes, and export of a missing file, fail naming the file', async () => {
    const other = join(root, 'two-classes');
    for (const c of ['alpha', 'beta']) for (let i = 0; i < 5; i++) await writeImage8(join(other, c, `${c}${i}.png`), 32, i, 'png');
    const evalOut = join(root, 'eval-mismatch');
    const err = await classify('eval', '-m', run, '--data', other, '--data-kind', 'folder', '-o', evalOut).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/trained on classes/);
    expect(err!.message).toContain(run);
    expect(err!.message).toContain(other);
    expect(existsSync(join(evalOut, 'metrics.json'))).toBe(false);

    const missing = join(root, 'nope', 'model.safetensors');
    const out = join(root, 'never.onnx');
    await expect(classify('export', missing, '-o', out)).rejects.toThrow(missing);
    expect(existsSync(out)).toBe(false);
  });
});
