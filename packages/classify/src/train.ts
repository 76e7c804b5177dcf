/**
 * `finetune()`: scene-classification fine-tuning as a library call (the `train` script and `cmid classify train`
 * wrap it). The reference recipe (cmid.md §12): timm train transform with RandAugment and random erasing, mixup /
 * cutmix with smoothed targets, SoftTargetCrossEntropy, Adan with two decay groups, per-iteration cosine with
 * linear warm-up; evaluation on the test split after every `evalEvery` epochs.
 *
 * Around it, as in pretraining: a progress bar, a JSONL log (`log.jsonl`), loss and accuracy plots, atomic
 * checkpoints of the full trainer state (`checkpoints/last.safetensors`, resumable bit for bit), a clear stop on
 * a non-finite loss. Outputs in the run folder: `model.safetensors` + `model.onnx` (the final classifier),
 * `best.safetensors` (the epoch with the best test top-1: the reference's reported "max accuracy"),
 * `metrics.json`, `confusion.png` (final model), `loss.png`, `accuracy.png`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkpointToTrainerState,
  cmidLr,
  CmidError,
  createTrainer,
  currentBackend,
  DataLoader,
  initBackend,
  JsonlLog,
  prepareRunFolder,
  OnnxRunner,
  plotLines,
  Progress,
  pruneCheckpoints,
  readJsonl,
  readTrainCheckpoint,
  saveTrainCheckpoint,
  seedInit,
  writeConfusionPng,
  type Engine,
  type LoaderPosition,
  type ProgressStream,
  type StepResult,
} from '@cmid/core';
import { normalizationFor, type ClassifyConfig } from './config.js';
import { CLASSIFY_SAMPLE_MAP, collateClassify, transformOptions, type ClassifyItem, type ClassifySampleOptions } from './data.js';
import { checkReadable, type CorruptPolicy } from './datasets/read-scene.js';
import { openSceneDataset, type SceneDatasetKind } from './datasets/index.js';
import { sceneReadOptions, type SceneDataset, type SceneSample } from './datasets/types.js';
import { evaluateOnnx, type EvalResult } from './evaluate.js';
import { buildClassifier, exportClassifier, saveClassifier, TRAIN_FORMAT, writeClassifierOnnx, type ClassifierMeta } from './model-io.js';
import { classifyTrainStep } from './step.js';

export interface FinetuneOptions {
  config: ClassifyConfig;
  /** Run folder. */
  out: string;
  /** A dataset already opened, or `data` (+ `dataKind`) to open; neither: the synthetic UCM set. */
  dataset?: SceneDataset;
  data?: string;
  dataKind?: SceneDatasetKind;
  /** Size of the synthetic set when no data is given. Default 'small' (20 per class). */
  synthSize?: 'tiny' | 'small' | 'medium';
  /** Backbone weights (extracted backbone, CMID pretraining checkpoint, baseline checkpoint); none: random init. */
  weights?: string;
  engine?: Engine;
  threads?: number;
  workers?: number;
  /** true: continue from <out>/checkpoints/last.safetensors; a path: from that file. */
  resume?: boolean | string;
  /** A fresh run into a folder that holds another run deletes its checkpoints and log (default: an error). */
  overwrite?: boolean;
  /** onnxruntime's memory-pattern planning (compiled engine; off by default, see TrainerOptions.memoryPattern). */
  memoryPattern?: boolean;
  maxSteps?: number;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  /** A corrupt training/test image: 'error' (default) stops before training, naming it; 'skip' leaves it out. */
  onCorrupt?: CorruptPolicy;
  progress?: ProgressStream | null;
  onStep?: (r: StepResult & { epoch: number; lr: number }) => void;
}

export interface EpochEval {
  epoch: number;
  step: number;
  top1: number;
  top5: number;
}

export interface FinetuneResult {
  steps: number;
  itersPerEpoch: number;
  losses: number[];
  evals: EpochEval[];
  best: EpochEval | undefined;
  final: EvalResult;
  model: string;
  onnx: string;
  engine: Engine;
  imagesPerSecond: number;
  dataset: { name: string; root: string; train: number; test: number; classes: number };
  weights: string | undefined;
}

/** What the training checkpoint's metadata holds. */
interface TrainMeta {
  step: number;
  position: LoaderPosition;
  itersPerEpoch: number;
  classifier: ClassifierMeta;
  weights: string | null;
  best: EpochEval | null;
  savedAt: string;
}

async function resolveDataset(o: FinetuneOptions): Promise<SceneDataset> {
  if (o.dataset !== undefined) return o.dataset;
  if (o.data !== undefined) return openSceneDataset(o.dataKind ?? 'auto', o.data, { seed: o.config.seed });
  return openSceneDataset('synthetic', undefined, { seed: 0, size: o.synthSize ?? 'small' });
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  if (currentBackend() === undefined) await initBackend();
  const engine = o.engine ?? 'compiled';
  const ckptDir = join(o.out, 'checkpoints');
  await prepareRunFolder(o.out, { resume: o.resume !== undefined && o.resume !== false, overwrite: o.overwrite === true, command: 'cmid classify train' });
  const lastFile = join(ckptDir, 'last.safetensors');
  const stream = o.progress === null ? undefined : (o.progress ?? process.stderr);
  const say = (line: string) => stream?.write(`${line}\n`);

  let config = o.config;
  let resumed: Awaited<ReturnType<typeof readTrainCheckpoint<TrainMeta>>> | undefined;
  let resumeFile: string | undefined;
  if (o.resume !== undefined && o.resume !== false) {
    resumeFile = typeof o.resume === 'string' ? o.resume : lastFile;
    resumed = await readTrainCheckpoint<TrainMeta>(resumeFile, TRAIN_FORMAT, 'classification training checkpoint', 'Pass checkpoints/last.safetensors of a `cmid classify train` run folder.');
    config = resumed.meta.classifier.config;
  }

  const ds = await resolveDataset(o);
  if (resumed === undefined) {
    const norm = normalizationFor(config, ds);
    config = norm.config;
    if (norm.note !== undefined) say(norm.note);
  }
  const read = sceneReadOptions(ds);
  const policy = o.onCorrupt ?? 'error';
  const warn = (m: string) => say(`warning: ${m}`);
  const train = (await checkReadable(ds.train, { ...read, onCorrupt: policy, warn })).samples;
  const test = (await checkReadable(ds.test, { ...read, onCorrupt: policy, warn })).samples;
  const B = config.batchSize;
  const itersPerEpoch = Math.floor(train.length / B);
  if (itersPerEpoch === 0) throw new CmidError('config', `${ds.root}: ${train.length} training images is fewer than one batch (${B}); lower batch_size.`, { file: ds.root });
  if (test.length === 0) throw new CmidError('input', `${ds.root}: the test split is empty; fine-tuning needs test images to evaluate.`, { file: ds.root });
  if (resumed !== undefined && resumed.meta.itersPerEpoch !== itersPerEpoch) {
    throw new CmidError('input', `${resumeFile}: saved with ${resumed.meta.itersPerEpoch} steps per epoch but the data now gives ${itersPerEpoch}; resume with the same data and batch size.`);
  }
  const total = config.epochs * itersPerEpoch;
  const C = ds.classes.length;
  const meta: ClassifierMeta = { classes: ds.classes, bands: ds.bands, config, dataset: ds.name, ...(ds.bandIndices !== undefined ? { bandIndices: ds.bandIndices } : {}) };

  seedInit(config.seed);
  const model = buildClassifier(meta);
  const weights = resumed !== undefined ? (resumed.meta.weights ?? undefined) : o.weights;
  if (o.weights !== undefined && resumed === undefined) {
    const r = await model.loadBackbone(o.weights);
    say(`backbone weights: ${r.loaded.length} tensors from ${o.weights} (${r.via})${r.unexpected.length > 0 ? `, ${r.unexpected.length} extra keys ignored` : ''}${r.missing.length > 0 ? `, kept at init: ${r.missing.join(', ')}` : ''}`);
  }
  const spec = classifyTrainStep(model, config, B, ds.bands);
  const trainer = await createTrainer(spec, {
    engine,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.memoryPattern === true ? { memoryPattern: true } : {}),
    onCompile: (info) => say(`compiled the fine-tuning step: ${info.nodes} ONNX nodes, ${(info.parameters / 1e6).toFixed(2)} M parameters, traced in ${(info.traceMs / 1000).toFixed(1)} s`),
  });
  let position: LoaderPosition = { epoch: 0, batch: 0 };
  let best: EpochEval | undefined;
  if (resumed !== undefined) {
    trainer.setState(checkpointToTrainerState(resumeFile!, resumed.tensors, resumed.meta.step, model, trainer.getState(), `backbone ${config.backbone}, ${C} classes`));
    position = resumed.meta.position;
    best = resumed.meta.best ?? undefined;
    say(`resumed from ${resumeFile} at step ${resumed.meta.step} (epoch ${position.epoch}, batch ${position.batch})`);
  }
  const startStep = trainer.stepCount;
  const lrAt = cmidLr({ baseLr: config.lr, minLr: config.minLr, epochs: config.epochs, itersPerEpoch, warmupEpochs: config.warmupEpochs, warmupRatio: config.warmupFactor });
  const logFile = join(o.out, 'log.jsonl');
  const log = await JsonlLog.open(logFile, { resumeAfter: { key: 'step', value: startStep } });
  const history = { step: [] as number[], loss: [] as number[], evalStep: [] as number[], top1: [] as number[] };
  const evals: EpochEval[] = [];
  if (startStep > 0) {
    for (const r of await readJsonl(logFile)) {
      if (typeof r.step !== 'number' || r.step > startStep) continue;
      if (r.event === 'step') {
        history.step.push(r.step);
        history.loss.push(Number(r.loss));
      } else if (r.event === 'eval') {
        const e = { epoch: Number(r.epoch), step: r.step, top1: Number(r.top1), top5: Number(r.top5) };
        evals.push(e);
        history.evalStep.push(e.step);
        history.top1.push(e.top1);
      }
    }
  }
  if (startStep === 0) {
    log.write({ event: 'start', time: new Date().toISOString(), engine, backend: currentBackend()?.name, dataset: ds.name, root: ds.root, split: ds.split, train: train.length, test: test.length, classes: ds.classes, weights: weights ?? null, itersPerEpoch, config });
  } else log.write({ event: 'resume', time: new Date().toISOString(), step: startStep, from: resumeFile });

  const loader = new DataLoader<SceneSample, ClassifyItem>({
    samples: train,
    map: { ...CLASSIFY_SAMPLE_MAP, options: { transform: transformOptions(config), read, train: true } satisfies ClassifySampleOptions },
    batchSize: B,
    seed: config.seed,
    workers: o.workers ?? 1,
    dropLast: true,
  });
  const evalWorkers = o.workers ?? 1;
  const evaluate = async (): Promise<EvalResult> => {
    trainer.syncToVariables();
    const runner = await OnnxRunner.load(exportClassifier(model, meta), o.threads !== undefined ? { threads: o.threads } : {});
    try {
      return await evaluateOnnx(runner, test, meta, { workers: evalWorkers, read });
    } finally {
      await runner.release();
    }
  };

  const stopAt = Math.min(o.maxSteps ?? total, total);
  const progress = stream === undefined ? undefined : new Progress({ total: stopAt, label: 'finetune', unit: 'step', stream });
  progress?.update(startStep);
  let step = startStep;
  let imagesSeen = 0;
  const t0 = performance.now();
  const keep = o.keepCheckpoints ?? 2;
  const plots = async () => {
    if (history.step.length > 1) await plotLines(join(o.out, 'loss.png'), [{ name: 'soft-target CE', x: history.step, y: history.loss }], { title: `fine-tuning loss (${config.backbone}, ${ds.name})`, xLabel: 'step', yLabel: 'loss' });
    if (history.evalStep.length > 1) await plotLines(join(o.out, 'accuracy.png'), [{ name: 'test top-1 %', x: history.evalStep, y: history.top1 }], { title: `test accuracy (${ds.name})`, xLabel: 'step', yLabel: '%' });
  };
  const checkpoint = async (pos: LoaderPosition, epochEnd: boolean) => {
    const m: TrainMeta = { step, position: pos, itersPerEpoch, classifier: meta, weights: weights ?? null, best: best ?? null, savedAt: new Date().toISOString() };
    await saveTrainCheckpoint(lastFile, TRAIN_FORMAT, model, trainer.getState(), m);
    if (epochEnd) await pruneCheckpoints(ckptDir, keep);
    log.write({ event: 'checkpoint', step, file: lastFile, position: pos });
    await plots();
  };

  try {
    for await (const batch of loader.batches({ from: position, epochs: config.epochs - position.epoch })) {
      if (step >= stopAt) break;
      const t = batch.epoch * itersPerEpoch + batch.index;
      if (t !== step) throw new CmidError('config', `internal: loader step ${t} != trainer step ${step}.`);
      const arrays = collateClassify(batch.items, C, config, { epoch: batch.epoch, batch: batch.index });
      const lr = lrAt(t);
      let r: StepResult;
      try {
        r = await trainer.step({ image: arrays.image, target: arrays.target }, { lr });
      } catch (e) {
        if (e instanceof CmidError && e.kind === 'numeric') {
          log.write({ event: 'non-finite', step: t + 1, message: e.message });
          throw new CmidError('numeric', `${e.message} Run folder: ${o.out}; the last good checkpoint is ${lastFile} (untouched). Resume with --resume after lowering lr.`);
        }
        throw e;
      }
      step = r.step;
      imagesSeen += B;
      const elapsed = (performance.now() - t0) / 1000;
      log.write({ event: 'step', step, epoch: batch.epoch, batch: batch.index, lr, loss: r.loss, mix: arrays.mix.kind, lambda: arrays.mix.lambda, images_per_s: imagesSeen / elapsed, time: new Date().toISOString() });
      history.step.push(step);
      history.loss.push(r.loss);
      progress?.update(step, { epoch: batch.epoch, loss: r.loss, lr, 'img/s': imagesSeen / elapsed, ...(best !== undefined ? { best: best.top1 } : {}) });
      o.onStep?.({ ...r, epoch: batch.epoch, lr });
      const next = loader.after(batch);
      const epochEnd = next.epoch !== batch.epoch;
      const last = step >= stopAt;
      if (epochEnd && ((batch.epoch + 1) % config.evalEvery === 0 || last)) {
        const e = await evaluate();
        const entry = { epoch: batch.epoch, step, top1: e.oa, top5: e.topK[5] ?? e.oa };
        evals.push(entry);
        history.evalStep.push(step);
        history.top1.push(entry.top1);
        if (best === undefined || entry.top1 > best.top1) {
          best = entry;
          await saveClassifier(join(o.out, 'best.safetensors'), model, meta);
        }
        log.write({ event: 'eval', ...entry, aa: e.aa, kappa: e.kappa, best_top1: best.top1 });
      }
      if (epochEnd || last || (o.checkpointEvery !== undefined && step % o.checkpointEvery === 0)) await checkpoint(next, epochEnd);
      if (last) break;
    }
  } finally {
    progress?.done();
    await loader.close();
  }

  // the final model: files, ONNX export, and its full scores
  trainer.syncToVariables();
  const modelFile = join(o.out, 'model.safetensors');
  const onnxFile = join(o.out, 'model.onnx');
  await saveClassifier(modelFile, model, meta);
  await writeClassifierOnnx(onnxFile, model, meta);
  const final = await evaluate();
  log.write({ event: 'final', step, oa: final.oa, aa: final.aa, kappa: final.kappa, top5: final.topK[5], best: best ?? null });
  log.close();
  await writeConfusionPng(join(o.out, 'confusion.png'), final.confusion, ds.classes, { title: `${ds.name} test, ${config.backbone}: OA ${final.oa.toFixed(2)} %` });
  const result: FinetuneResult = {
    steps: step,
    itersPerEpoch,
    losses: history.loss,
    evals,
    best,
    final,
    model: modelFile,
    onnx: onnxFile,
    engine,
    imagesPerSecond: imagesSeen / Math.max((performance.now() - t0) / 1000, 1e-9),
    dataset: { name: ds.name, root: ds.root, train: train.length, test: test.length, classes: C },
    weights,
  };
  await writeFile(join(o.out, 'metrics.json'), JSON.stringify(metricsRecord(result, ds.classes), null, 2));
  await plots();
  trainer.dispose();
  model.dispose();
  return result;
}

/** The run's scores as plain JSON (metrics.json). */
export function metricsRecord(r: FinetuneResult, classes: readonly string[]): Record<string, unknown> {
  return {
    dataset: r.dataset,
    weights: r.weights ?? null,
    steps: r.steps,
    final: { oa: r.final.oa, aa: r.final.aa, kappa: r.final.kappa, top5: r.final.topK[5] ?? null, perClass: Object.fromEntries(classes.map((c, i) => [c, r.final.perClassAccuracy[i]])) },
    best: r.best ?? null,
    evals: r.evals,
    confusion: Array.from({ length: classes.length }, (_, i) => Array.from(r.final.confusion.subarray(i * classes.length, (i + 1) * classes.length))),
  };
}
