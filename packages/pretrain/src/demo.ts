/**
 * The embedded main job (`pnpm demo`, `cmid demo`): CMID pretraining of a small backbone (CMID_TINY: ResNet-18 at
 * width 16, 96 px) on the synthetic MillionAID corpus, then the frozen student backbone against the SAME network at
 * its pretraining initialisation, by kNN (k 20, T 0.07) and a linear probe on the synthetic UCM scene set
 * (21 classes, stratified 80/20 split). Pretraining must win; if it does not, the method or the data is wrong.
 */
import { join } from 'node:path';
import { createBackbone, loadStateDict, seedInit, type Engine } from '@cmid/core';
import { ensureSynthetic } from '@cmid/core/synth';
import { CMID_TINY, mergeConfig, type CmidConfig } from './config.js';
import { extractFromCheckpoint } from './extract.js';
import { CmidModel } from './model/cmid-model.js';
import { evaluateFeatures, labelledSplit, type MonitorResult } from './monitor.js';
import { pretrain, type PretrainResult } from './train.js';

export interface DemoOptions {
  out?: string;
  /** Pretraining epochs over the 400-image corpus (12 steps each at batch 32). Default 12. */
  epochs?: number;
  engine?: Engine;
  threads?: number;
  workers?: number;
  /** Progress bar (stderr). Default true. */
  progress?: boolean;
  config?: Partial<Record<keyof CmidConfig, unknown>>;
  log?: (line: string) => void;
}

export interface DemoResult {
  pretraining: PretrainResult;
  pretrained: MonitorResult;
  randomInit: MonitorResult;
  config: CmidConfig;
  seconds: number;
}

export async function runCmidDemo(o: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const log = o.log ?? ((l: string) => console.log(l));
  const epochs = o.epochs ?? 12;
  const config = mergeConfig(CMID_TINY, { ...(o.config ?? {}), epochs });
  const out = o.out ?? join('runs', 'cmid-demo');
  log(`CMID demo: ${config.backbone} (width ${String(config.backboneOptions.baseWidth ?? 64)}) at ${config.size} px, ${epochs} epochs over the synthetic MillionAID corpus; run folder ${out}`);
  const pretraining = await pretrain({
    config,
    out,
    synthSize: 'small',
    overwrite: true, // the demo's folder is its own: a second `pnpm demo` starts afresh
    engine: o.engine ?? 'compiled',
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    workers: o.workers ?? 1,
    ...(o.progress === false ? { progress: null } : {}),
  });
  log(`pretraining: ${pretraining.steps} steps, ${pretraining.imagesPerSecond.toFixed(1)} img/s (${pretraining.engine} engine); ` +
    `mean of the first -> last epoch: ${epochMeans('loss', pretraining.losses, pretraining.itersPerEpoch)}` +
    Object.entries(pretraining.terms).map(([k, v]) => `, ${epochMeans(k, v, pretraining.itersPerEpoch)}`).join(''));
  log(`  (global_loss is InfoNCE against a ${config.queueSize}-key queue that starts as random keys and fills with the model's own, ` +
    'harder negatives over the first epochs, so it rises from a low start; the probes below are the verdict)');
  const split = await labelledSplit(join(await ensureSynthetic('ucm', { size: 'small' }), 'Images'));
  const trained = createBackbone(config.backbone, { ...config.backboneOptions });
  const ex = await extractFromCheckpoint(pretraining.checkpoint);
  loadStateDict(trained, ex.tensors, { source: pretraining.checkpoint });
  // the same network at the initialisation pretraining started from
  seedInit(config.seed);
  const initModel = new CmidModel(config);
  const evalOpts = { size: config.size, linear: true, ...(o.threads !== undefined ? { threads: o.threads } : {}) };
  const pretrained = await evaluateFeatures(trained, split, evalOpts);
  const randomInit = await evaluateFeatures(initModel.backbone, split, evalOpts);
  trained.dispose();
  initModel.dispose();
  const pct = (x: number | undefined) => `${(x ?? NaN).toFixed(1)} %`;
  log(`synthetic UCM (${split.classes.length} classes, ${split.train.length} train / ${split.test.length} test images), frozen features:`);
  log(`  kNN top-1     CMID-pretrained ${pct(pretrained.knnTop1)}   random init ${pct(randomInit.knnTop1)}   chance ${pct(100 / split.classes.length)}`);
  log(`  linear probe  CMID-pretrained ${pct(pretrained.linearTop1)}   random init ${pct(randomInit.linearTop1)}`);
  return { pretraining, pretrained, randomInit, config, seconds: (performance.now() - t0) / 1000 };
}

/** "name a -> b": the mean of the first and of the last `per` values (an epoch each). */
function epochMeans(name: string, v: number[], per: number): string {
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const n = Math.max(1, Math.min(per, v.length));
  return `${name} ${mean(v.slice(0, n)).toFixed(3)} -> ${mean(v.slice(-n)).toFixed(3)}`;
}
