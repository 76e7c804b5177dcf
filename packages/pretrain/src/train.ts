/**
 * `pretrain()`: the CMID training loop as a library call (the `train` script and `cmid pretrain` wrap it).
 *
 * Per step: a batch from the data loader (decode + parallel transform + position matches, prefetched in worker
 * threads), the lr of CMID's warm-up cosine (§8.3), the EMA tau of its hook (§7: none at step 0, lagged one step)
 * and the teacher temperature of the epoch (§4.3), then one trainer step (compiled ONNX graph by default, eager
 * tfjs as the reference/fallback). Around it:
 * - a progress bar (step, loss terms, lr, images/s, ETA) and a JSONL log (one record per step, events);
 * - atomic checkpoints with the full state (`checkpoints/last.safetensors`, plus one per epoch, the last
 *   `keepCheckpoints` kept), a loss-curve PNG and a reconstruction preview PNG in the run folder;
 * - `resume`: continue from a checkpoint bit for bit (same batches, same state);
 * - a non-finite loss stops the run with a clear message; the state is not updated and the last good checkpoint
 *   stays as it was;
 * - an optional kNN monitor (k 20, T 0.07) on a labelled folder after every `monitor.every` epochs.
 */
import { copyFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cmidLr,
  cmidEmaTau,
  CmidError,
  createTrainer,
  currentBackend,
  DataLoader,
  initBackend,
  JsonlLog,
  prepareRunFolder,
  plotLines,
  Progress,
  readJsonl,
  seedInit,
  type Engine,
  type ProgressStream,
  type StepResult,
} from '@cmid/core';
import { ensureSynthetic } from '@cmid/core/synth';
import { teacherTemperature, type CmidConfig } from './config.js';
import { checkpointToState, pruneCheckpoints, readCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import { CMID_SAMPLE_MAP, collateCmid, listPretrainImages, type CmidItem, type CmidSampleOptions, type PretrainDatasetKind, type PretrainSample } from './data.js';
import { CmidModel } from './model/cmid-model.js';
import { evaluateFeatures, labelledSplit, type MonitorResult } from './monitor.js';
import { writePreview } from './preview.js';
import { cmidTrainStep } from './step.js';

export interface PretrainOptions {
  config: CmidConfig;
  /** Run folder: log.jsonl, loss.png, preview.png, checkpoints/. */
  out: string;
  /** Image folder (MillionAID layout, any depth) or Potsdam folder; default: the synthetic MillionAID corpus. */
  data?: string;
  dataKind?: PretrainDatasetKind;
  /** Size of the synthetic corpus when `data` is absent. Default 'small' (400 images). */
  synthSize?: 'tiny' | 'small' | 'medium';
  engine?: Engine;
  /** onnxruntime intra-op threads. Default: all cores. */
  threads?: number;
  /** Data-loader worker threads. Default 1. */
  workers?: number;
  /** true: continue from <out>/checkpoints/last.safetensors; a path: from that file. */
  resume?: boolean | string;
  /** A fresh run into a folder that holds another run deletes its checkpoints and log (default: an error). */
  overwrite?: boolean;
  /** onnxruntime's memory-pattern planning (compiled engine; off by default, see TrainerOptions.memoryPattern). */
  memoryPattern?: boolean;
  /** Stop after this global step (a checkpoint is written there); the schedule still spans `config.epochs`. */
  maxSteps?: number;
  /** Also checkpoint every this many steps (epoch ends always checkpoint). */
  checkpointEvery?: number;
  /** Epoch checkpoints to keep. Default 3. */
  keepCheckpoints?: number;
  /** kNN monitor on a labelled folder (class sub-folders); 'synthetic' = the synthetic UCM set. */
  monitor?: { data: string; every?: number; linear?: boolean };
  /** Progress output. Default: process.stderr; null: silent. */
  progress?: ProgressStream | null;
  /** Preview PNG at checkpoints. Default true. */
  preview?: boolean;
  onStep?: (r: StepResult & { epoch: number; lr: number }) => void;
}

export interface PretrainResult {
  steps: number;
  epochs: number;
  itersPerEpoch: number;
  losses: number[];
  /** Each loss term per step (loss_rec, global_loss, pixel_loss, ...), aligned with `losses`. */
  terms: Record<string, number[]>;
  checkpoint: string;
  monitor: (MonitorResult & { epoch: number; step: number })[];
  imagesPerSecond: number;
  engine: Engine;
}

async function resolveData(o: PretrainOptions): Promise<{ samples: PretrainSample[]; source: string }> {
  if (o.data !== undefined) return { samples: await listPretrainImages(o.data, o.dataKind ?? 'imagefolder'), source: o.data };
  const dir = await ensureSynthetic('millionaid', { size: o.synthSize ?? 'small', seed: 0 });
  return { samples: await listPretrainImages(dir, 'imagefolder'), source: `synthetic MillionAID (${o.synthSize ?? 'small'}) at ${dir}` };
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  if (currentBackend() === undefined) await initBackend();
  const engine = o.engine ?? 'compiled';
  const ckptDir = join(o.out, 'checkpoints');
  await prepareRunFolder(o.out, { resume: o.resume !== undefined && o.resume !== false, overwrite: o.overwrite === true, command: 'cmid pretrain' });
  const lastFile = join(ckptDir, 'last.safetensors');

  // config and resume source
  let config = o.config;
  let resumed: Awaited<ReturnType<typeof readCheckpoint>> | undefined;
  let resumeFile: string | undefined;
  if (o.resume !== undefined && o.resume !== false) {
    resumeFile = typeof o.resume === 'string' ? o.resume : lastFile;
    resumed = await readCheckpoint(resumeFile);
    config = resumed.meta.config;
  }
  const stream = o.progress === null ? undefined : (o.progress ?? process.stderr);
  const say = (line: string) => stream?.write(`${line}\n`);

  const { samples, source } = await resolveData(o);
  const B = config.batchSize;
  const itersPerEpoch = Math.floor(samples.length / B);
  if (itersPerEpoch === 0) throw new CmidError('config', `pretraining data: ${samples.length} images in ${source} is fewer than one batch (${B}); lower batch_size or add images.`);
  if (resumed !== undefined && resumed.meta.itersPerEpoch !== itersPerEpoch) {
    throw new CmidError('input', `${resumeFile}: saved with ${resumed.meta.itersPerEpoch} steps per epoch but the data now gives ${itersPerEpoch}; resume with the same data and batch size.`);
  }
  const total = config.epochs * itersPerEpoch;

  seedInit(config.seed);
  const model = new CmidModel(config);
  const spec = cmidTrainStep(model, config, B);
  const trainer = await createTrainer(spec, {
    engine,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.memoryPattern === true ? { memoryPattern: true } : {}),
    onCompile: (info) => say(`compiled the CMID step: ${info.nodes} ONNX nodes, ${(info.parameters / 1e6).toFixed(2)} M parameters, ${(info.modelBytes / 1e6).toFixed(1)} MB graph, traced in ${(info.traceMs / 1000).toFixed(1)} s, session ${(info.sessionMs / 1000).toFixed(1)} s`),
  });
  let position = { epoch: 0, batch: 0 };
  if (resumed !== undefined) {
    trainer.setState(checkpointToState(resumeFile!, resumed, model, trainer.getState()));
    position = resumed.meta.position;
    say(`resumed from ${resumeFile} at step ${resumed.meta.step} (epoch ${position.epoch}, batch ${position.batch})`);
  }
  const startStep = trainer.stepCount;
  const lrAt = cmidLr({ baseLr: config.lr * config.lrMultiplier, minLr: config.minLr, epochs: config.epochs, itersPerEpoch, warmupEpochs: config.warmupEpochs, warmupRatio: config.warmupFactor });
  const log = await JsonlLog.open(join(o.out, 'log.jsonl'), { resumeAfter: { key: 'step', value: startStep } });
  const history: { step: number[]; loss: number[]; terms: Record<string, number[]> } = { step: [], loss: [], terms: {} };
  if (startStep > 0) {
    for (const r of await readJsonl(join(o.out, 'log.jsonl'))) {
      if (r.event !== 'step' || typeof r.step !== 'number' || r.step > startStep) continue;
      history.step.push(r.step);
      history.loss.push(Number(r.loss));
      for (const [k, v] of Object.entries((r.terms ?? {}) as Record<string, number>)) (history.terms[k] ??= []).push(Number(v));
    }
  }
  if (startStep === 0) log.write({ event: 'start', time: new Date().toISOString(), engine, backend: currentBackend()?.name, data: source, images: samples.length, itersPerEpoch, config });
  else log.write({ event: 'resume', time: new Date().toISOString(), step: startStep, from: resumeFile });

  const sampleOptions: CmidSampleOptions = {
    transform: {
      size: config.size,
      maskPatchSize: config.maskPatchSize,
      maskRatio: config.maskRatio,
      locationOffsets: config.fixes.includes('location-offsets') ? 'pixel' : 'fraction',
      maskView: config.maskView,
    },
    numMatches: config.numMatches,
  };
  const loader = new DataLoader<PretrainSample, CmidItem>({
    samples,
    map: { ...CMID_SAMPLE_MAP, options: sampleOptions },
    batchSize: B,
    seed: config.seed,
    workers: o.workers ?? 1,
    dropLast: true,
  });
  const monitorSplit = o.monitor === undefined ? undefined : await labelledSplit(o.monitor.data === 'synthetic' ? `${await ensureSynthetic('ucm', { size: 'small' })}/Images` : o.monitor.data);
  const monitor: PretrainResult['monitor'] = [];
  const stopAt = Math.min(o.maxSteps ?? total, total);
  const progress = stream === undefined ? undefined : new Progress({ total: stopAt, label: 'cmid', unit: 'step', stream });
  progress?.update(startStep);
  let previewBatch: Record<string, { data: Float32Array | Int32Array; shape: number[] }> | undefined;
  let step = startStep;
  let imagesSeen = 0;
  const t0 = performance.now();
  const keep = o.keepCheckpoints ?? 3;

  const checkpoint = async (pos: { epoch: number; batch: number }, epochEnd: boolean) => {
    const meta: CheckpointMeta = { step, position: pos, config, engine, savedAt: new Date().toISOString(), itersPerEpoch };
    await saveCheckpoint(lastFile, model, trainer.getState(), meta);
    if (epochEnd) {
      // the same bytes: copy rather than encode twice (temp file + rename keeps it atomic)
      const epochFile = join(ckptDir, `step_${step}.safetensors`);
      await copyFile(lastFile, `${epochFile}.tmp`);
      await rename(`${epochFile}.tmp`, epochFile);
      await pruneCheckpoints(ckptDir, keep);
    }
    log.write({ event: 'checkpoint', step, file: lastFile, position: pos });
    if (history.step.length > 1) {
      await plotLines(join(o.out, 'loss.png'), [
        { name: 'total', x: history.step, y: history.loss },
        ...Object.entries(history.terms).map(([k, y]) => ({ name: k, x: history.step, y })),
      ], { title: `CMID pretraining (${config.backbone})`, xLabel: 'step', yLabel: 'loss' });
    }
    if ((o.preview ?? true) && previewBatch !== undefined) {
      trainer.syncToVariables();
      await writePreview(join(o.out, 'preview.png'), model, previewBatch, config);
    }
  };

  try {
    outer: for await (const batch of loader.batches({ from: position, epochs: config.epochs - position.epoch })) {
      if (step >= stopAt) break;
      const t = batch.epoch * itersPerEpoch + batch.index;
      if (t !== step) throw new CmidError('config', `internal: loader step ${t} != trainer step ${step}.`);
      const arrays = collateCmid(batch.items, model.cells);
      if (previewBatch === undefined) previewBatch = arrays;
      const tt = teacherTemperature(config, batch.epoch);
      const lr = lrAt(t);
      const tau = cmidEmaTau(t, total, { base: config.baseMomentum, final: config.finalMomentum }) ?? 1;
      let r: StepResult;
      try {
        r = await trainer.step({ ...arrays, teacher_temp: { data: Float32Array.of(tt), shape: [1] } }, { lr, tau });
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
      log.write({ event: 'step', step, epoch: batch.epoch, batch: batch.index, lr, tau, teacher_temp: tt, loss: r.loss, terms: r.terms, images_per_s: imagesSeen / elapsed, time: new Date().toISOString() });
      history.step.push(step);
      history.loss.push(r.loss);
      for (const [k, v] of Object.entries(r.terms)) (history.terms[k] ??= []).push(v);
      progress?.update(step, { epoch: batch.epoch, loss: r.loss, rec: r.terms.loss_rec, global: r.terms.global_loss, local: r.terms.pixel_loss, lr, 'img/s': imagesSeen / elapsed });
      o.onStep?.({ ...r, epoch: batch.epoch, lr });
      const next = loader.after(batch);
      const epochEnd = next.epoch !== batch.epoch;
      if (epochEnd || step >= stopAt || (o.checkpointEvery !== undefined && step % o.checkpointEvery === 0)) await checkpoint(next, epochEnd);
      if (epochEnd && monitorSplit !== undefined && (batch.epoch + 1) % (o.monitor?.every ?? 1) === 0) {
        trainer.syncToVariables();
        const m = await evaluateFeatures(model.backbone, monitorSplit, { size: config.size, linear: o.monitor?.linear ?? false, ...(o.threads !== undefined ? { threads: o.threads } : {}) });
        monitor.push({ ...m, epoch: batch.epoch, step });
        log.write({ event: 'monitor', step, epoch: batch.epoch, ...m });
        say(`epoch ${batch.epoch}: kNN top-1 ${m.knnTop1.toFixed(1)} % (${m.classes} classes, ${m.testImages} test images)${m.linearTop1 !== undefined ? `, linear ${m.linearTop1.toFixed(1)} %` : ''}`);
      }
      if (step >= stopAt) break outer;
    }
  } finally {
    progress?.done();
    log.close();
    await loader.close();
  }
  trainer.syncToVariables();
  const result: PretrainResult = {
    steps: step,
    epochs: config.epochs,
    itersPerEpoch,
    losses: history.loss,
    terms: history.terms,
    checkpoint: lastFile,
    monitor,
    imagesPerSecond: imagesSeen / ((performance.now() - t0) / 1000),
    engine,
  };
  trainer.dispose();
  model.dispose();
  return result;
}
