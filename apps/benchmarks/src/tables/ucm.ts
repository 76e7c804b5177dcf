/**
 * The UCM scene-classification table (README marker `bench:ucm`): one row per (method, backbone, pretraining
 * data) of the paper's table, plus the rows this toolkit can produce on its own.
 *
 * - Paper rows run the classify protocol from the row's checkpoint, found by file name in the weights folder
 *   (`--weights DIR` or CMID_WEIGHTS), on the dataset under `--data` (or CMID_DATA; UC Merced, 8:2 split) or, by
 *   default, on the synthetic UCM set. A row whose checkpoint is absent is shown as not run, with the file it needs.
 * - Toolkit rows need nothing from outside: a small CMID model (ResNet-18 at width 16) pretrained here on the
 *   synthetic MillionAID corpus, and the same network from random init, fine-tuned with the same recipe.
 * Every "ours" cell is read from a result file in benchmarks/results/ (results.ts); the paper's number is printed
 * beside it, and the dataset each number was measured on is stated in the row.
 */
import { join } from 'node:path';
import { CLASSIFY_TINY, mergeClassifyConfig, openSceneDataset, UCM_RESNET50, UCM_SWIN_B, type ClassifyConfig, type SceneDataset } from '@cmid/classify';
import { currentBackend } from '@cmid/core';
import { markdownTable } from '@cmid/core/testing';
import { runCmidDemo } from '@cmid/pretrain';
import { runClassifyProtocol } from '../protocols/classify.js';
import { keepLogs, readRowResults, recordStem, writeRowResult, type RowResult } from '../results.js';

export interface UcmRow {
  id: string;
  method: string;
  backbone: string;
  pretrainData: string;
  /** OA (%) the CMID paper/README reports for UCM 8:2 (baselines-datasets.md). */
  paper: number | null;
  /** For paper rows: the checkpoint file name expected in the weights folder. */
  weightsFile?: string;
  /** For toolkit rows: how the weights are made here. */
  make?: 'cmid-tiny' | 'random';
  config: ClassifyConfig;
}

export const UCM_ROWS: UcmRow[] = [
  { id: 'cmid-r50-millionaid', method: 'CMID', backbone: 'ResNet-50', pretrainData: 'MillionAID', paper: 99.22, weightsFile: 'cmid_resnet50_millionaid.pth', config: UCM_RESNET50 },
  { id: 'cmid-swinb-millionaid', method: 'CMID', backbone: 'Swin-B', pretrainData: 'MillionAID', paper: 99.48, weightsFile: 'cmid_swin_b_millionaid.pth', config: UCM_SWIN_B },
  { id: 'byol-r50-imagenet', method: 'BYOL', backbone: 'ResNet-50', pretrainData: 'ImageNet', paper: 99.22, weightsFile: 'byol_resnet50_imagenet.pth', config: UCM_RESNET50 },
  { id: 'barlow-r50-imagenet', method: 'Barlow Twins', backbone: 'ResNet-50', pretrainData: 'ImageNet', paper: 99.16, weightsFile: 'barlowtwins_resnet50_imagenet.pth', config: UCM_RESNET50 },
  { id: 'mocov2-r50-imagenet', method: 'MoCo-v2', backbone: 'ResNet-50', pretrainData: 'ImageNet', paper: 97.92, weightsFile: 'mocov2_resnet50_imagenet.pth', config: UCM_RESNET50 },
  { id: 'swav-r50-imagenet', method: 'SwAV', backbone: 'ResNet-50', pretrainData: 'ImageNet', paper: 98.96, weightsFile: 'swav_resnet50_imagenet.pth', config: UCM_RESNET50 },
  { id: 'seco-r50-seco1m', method: 'SeCo', backbone: 'ResNet-50', pretrainData: 'SeCo-1m', paper: 97.66, weightsFile: 'seco_resnet50_1m.ckpt', config: UCM_RESNET50 },
  {
    id: 'cmid-tiny-synthetic',
    method: 'CMID (pretrained here)',
    backbone: 'ResNet-18, width 16',
    pretrainData: 'synthetic MillionAID (400 images)',
    paper: null,
    make: 'cmid-tiny',
    config: CLASSIFY_TINY,
  },
  { id: 'random-tiny', method: 'random init', backbone: 'ResNet-18, width 16', pretrainData: '-', paper: null, make: 'random', config: CLASSIFY_TINY },
];

const DEFAULT_PRETRAIN_EPOCHS = 60;

export interface UcmBenchOptions {
  /** UC Merced root (official or reference layout); default: the synthetic UCM set. */
  data?: string;
  /** Folder with the paper rows' checkpoints. */
  weights?: string;
  /** Work folder for runs. */
  work: string;
  /** Only these row ids. */
  rows?: string[];
  /** Override the fine-tuning epochs of the paper rows (200 in the reference); recorded in the result. */
  epochs?: number;
  /** Pretraining epochs of the toolkit CMID row (12 steps each on the synthetic corpus). Default 60. */
  pretrainEpochs?: number;
  threads?: number;
  workers?: number;
  log?: (line: string) => void;
}

async function exists(p: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function datasetRecord(ds: SceneDataset, synthetic: boolean): RowResult['dataset'] {
  return { name: ds.name, root: ds.root, synthetic, train: ds.train.length, test: ds.test.length, classes: ds.classes.length };
}

/** Runs the rows that can run (weights present or made here) and writes one result file per row. */
export async function runUcmTable(o: UcmBenchOptions): Promise<string[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  const synthetic = o.data === undefined;
  const ds = synthetic ? await openSceneDataset('synthetic', undefined, { seed: 0, size: 'small' }) : await openSceneDataset('auto', o.data!, { seed: 0 });
  const written: string[] = [];
  for (const row of UCM_ROWS) {
    if (o.rows !== undefined && !o.rows.includes(row.id)) continue;
    let weights: string | undefined;
    let pretrainSteps: number | undefined;
    const extraLogs: Record<string, string> = {};
    let config = row.config;
    if (row.weightsFile !== undefined) {
      const file = o.weights === undefined ? undefined : join(o.weights, row.weightsFile);
      if (file === undefined || !(await exists(file))) {
        log(`ucm/${row.id}: skipped, no checkpoint ${row.weightsFile}${o.weights !== undefined ? ` in ${o.weights}` : ' (pass --weights DIR)'}`);
        continue;
      }
      weights = file;
      if (o.epochs !== undefined) config = mergeClassifyConfig(config, { epochs: o.epochs });
      if (synthetic) config = mergeClassifyConfig(config, { size: 224 });
    } else if (row.make === 'cmid-tiny') {
      const out = join(o.work, 'cmid-tiny-pretrain');
      log(`ucm/${row.id}: CMID pretraining of the tiny model on the synthetic MillionAID corpus (${out})`);
      const demo = await runCmidDemo({ out, epochs: o.pretrainEpochs ?? DEFAULT_PRETRAIN_EPOCHS, progress: false, log, ...(o.threads !== undefined ? { threads: o.threads } : {}), workers: o.workers ?? 1 });
      weights = demo.pretraining.checkpoint;
      pretrainSteps = demo.pretraining.steps;
      extraLogs.pretrain = join(out, 'log.jsonl');
    }
    log(`ucm/${row.id}: fine-tuning ${config.backbone} for ${config.epochs} epochs on ${ds.name} (${ds.train.length} train / ${ds.test.length} test)`);
    const r = await runClassifyProtocol({ config, dataset: ds, ...(weights !== undefined ? { weights } : {}), out: join(o.work, row.id), ...(o.threads !== undefined ? { threads: o.threads } : {}), workers: o.workers ?? 1, quiet: true });
    const backend = currentBackend()?.name ?? 'wasm';
    const stem = recordStem('ucm', row.id, r.protocol.engine === 'compiled' ? 'ort' : backend);
    const logs = await keepLogs(stem, { ...extraLogs, ...r.logs });
    const file = await writeRowResult(stem, { table: 'ucm', row: row.id, time: new Date().toISOString(), metrics: r.metrics, dataset: datasetRecord(ds, synthetic), protocol: { ...r.protocol, ...(row.make === 'cmid-tiny' ? { pretrainEpochs: o.pretrainEpochs ?? DEFAULT_PRETRAIN_EPOCHS, pretrainSteps } : {}) }, logs, backend });
    log(`ucm/${row.id}: OA ${r.metrics.oa?.toFixed(2)} % (best ${r.metrics.oaBest?.toFixed(2)} %), kNN ${r.metrics.knnTop1?.toFixed(1)} % -> ${file}`);
    written.push(file);
  }
  return written;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(2));

/** The README table from the result files. */
export async function renderUcmTable(root?: string): Promise<string> {
  const results = await readRowResults('ucm', root);
  const rows = UCM_ROWS.map((row) => {
    const r = results.get(row.id);
    if (r === undefined) {
      const why = row.weightsFile !== undefined ? `not run: needs \`${row.weightsFile}\` in --weights` : 'not run yet';
      return [row.method, row.backbone, row.pretrainData, pct(row.paper), '-', '-', '-', why, '-'];
    }
    const ds = r.dataset.synthetic ? `synthetic UCM (${r.dataset.train}/${r.dataset.test} images, ${r.protocol.size} px, ${r.protocol.epochs} epochs)` : `${r.dataset.name} at ${r.dataset.root} (${r.dataset.train}/${r.dataset.test}, ${r.protocol.epochs} epochs)`;
    const frozen = `${pct(r.metrics.knnTop1)} / ${pct(r.metrics.linearTop1)}`;
    return [row.method, row.backbone, row.pretrainData, pct(row.paper), pct(r.metrics.oa), `${pct(r.metrics.oaBest)} (epoch ${r.metrics.bestEpoch ?? '-'})`, frozen, ds, `[json](${r.file})`];
  });
  const table = markdownTable(['Method', 'Backbone', 'Pretraining data', 'UCM OA, paper', 'OA ours (final)', 'OA ours (best epoch)', 'Frozen backbone: kNN / linear', 'Measured on', 'Run'], rows);
  return `${table}\n\nGenerated by \`turbo run bench\` (apps/benchmarks) from the result files named in the last column; each keeps the run's logs under \`benchmarks/results/logs/\`. "Paper" is the CMID README's UCM 8:2 overall accuracy; "best epoch" is the maximum test accuracy over epochs, which is what the reference reports; the OA columns fine-tune the whole network with the reference recipe, the frozen-backbone column is kNN (k = 20) and a linear probe on the backbone's pooled features before fine-tuning. Numbers measured on the synthetic set are not comparable with the paper's.${toolkitComparison(results)}`;
}

/** One sentence comparing the toolkit's CMID row with random init, from the two result files. */
function toolkitComparison(results: Awaited<ReturnType<typeof readRowResults>>): string {
  const c = results.get('cmid-tiny-synthetic'), r = results.get('random-tiny');
  if (c === undefined || r === undefined) return '';
  const m = (x: RowResult, k: string) => x.metrics[k] ?? NaN;
  const cmp = (k: string) => (m(c, k) > m(r, k) ? 'above' : m(c, k) < m(r, k) ? 'below' : 'level with');
  const steps = c.protocol.pretrainSteps !== undefined ? `${String(c.protocol.pretrainSteps)} pretraining steps` : `${String(c.protocol.pretrainEpochs)} pretraining epochs`;
  return ` After ${steps} of the tiny CMID model, its frozen features are ${cmp('linearTop1')} random init on the linear probe (${pct(m(c, 'linearTop1'))} vs ${pct(m(r, 'linearTop1'))} %) and ${cmp('knnTop1')} it on kNN (${pct(m(c, 'knnTop1'))} vs ${pct(m(r, 'knnTop1'))} %); fully fine-tuned for ${String(c.protocol.epochs)} epochs it ends ${cmp('oa')} random init (${pct(m(c, 'oa'))} vs ${pct(m(r, 'oa'))} %; docs/decisions.md discusses this scale).`;
}
