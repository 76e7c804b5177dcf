/**
 * The scene-classification protocol of a table row: fine-tune the classifier from the row's backbone weights
 * (or random init) with the classify package's recipe on a dataset, and report the test OA of the final model
 * and the best epoch (the reference reports the maximum over epochs, cmid.md §12), plus kNN / linear-probe
 * accuracy of the frozen backbone before fine-tuning.
 */
import { join } from 'node:path';
import { finetune, probeBackbone, type ClassifyConfig, type SceneDataset } from '@cmid/classify';
import { currentBackend } from '@cmid/core';

export interface ClassifyProtocolOptions {
  config: ClassifyConfig;
  dataset: SceneDataset;
  weights?: string;
  /** Work folder of the run (log.jsonl, checkpoints, model.onnx). */
  out: string;
  threads?: number;
  workers?: number;
  quiet?: boolean;
}

export interface ClassifyProtocolResult {
  metrics: Record<string, number | null>;
  protocol: Record<string, unknown>;
  logs: Record<string, string>;
}

export async function runClassifyProtocol(o: ClassifyProtocolOptions): Promise<ClassifyProtocolResult> {
  const probe = await probeBackbone({ config: o.config, dataset: o.dataset, ...(o.weights !== undefined ? { weights: o.weights } : {}), ...(o.threads !== undefined ? { threads: o.threads } : {}) });
  const r = await finetune({
    config: o.config,
    out: o.out,
    overwrite: true, // the work folder belongs to this table run
    dataset: o.dataset,
    ...(o.weights !== undefined ? { weights: o.weights } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    workers: o.workers ?? 1,
    ...(o.quiet === true ? { progress: null } : {}),
  });
  return {
    metrics: {
      oa: r.final.oa,
      oaBest: r.best?.top1 ?? null,
      bestEpoch: r.best?.epoch ?? null,
      aa: r.final.aa,
      kappa: r.final.kappa,
      knnTop1: probe.knnTop1,
      linearTop1: probe.linearTop1 ?? null,
      steps: r.steps,
      imagesPerSecond: r.imagesPerSecond,
    },
    protocol: {
      task: 'fine-tune',
      backbone: o.config.backbone,
      backboneOptions: o.config.backboneOptions,
      size: o.config.size,
      epochs: o.config.epochs,
      batchSize: o.config.batchSize,
      lr: o.config.lr,
      aa: o.config.aa,
      mixup: o.config.mixup,
      cutmix: o.config.cutmix,
      weights: o.weights ?? null,
      engine: r.engine,
      backend: currentBackend()?.name ?? null,
    },
    logs: { finetune: join(o.out, 'log.jsonl'), metrics: join(o.out, 'metrics.json') },
  };
}
