/**
 * The classification commands, shared by `pnpm --filter classify train|eval|predict` and `cmid classify ...`
 * (apps/cli only wires them). Config: a preset or a YAML/JSON file (the reference's ft_config.yaml keys), then
 * flags on top. Data: --data <root> with --data-kind (auto-detected by default), else the synthetic UCM set.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CmidError, formatClassificationReport, initBackend, writeConfusionPng } from '@cmid/core';
import { CLASSIFY_PRESETS, loadClassifyConfig, mergeClassifyConfig, type ClassifyConfig, type ClassifyPreset } from '../config.js';
import { checkReadable, type CorruptPolicy } from '../datasets/read-scene.js';
import { openSceneDataset, type SceneDatasetKind } from '../datasets/index.js';
import { sceneReadOptions, type SceneDataset } from '../datasets/types.js';
import { evaluateWith } from '../evaluate.js';
import { loadClassifier, writeClassifierOnnx } from '../model-io.js';
import { listImages, predictionsCsv, predictionsJson, ScenePredictor, type PredictEngine } from '../predict.js';
import { probeBackbone } from '../probe.js';
import { finetune } from '../train.js';

const collect = (v: string, prev: string[]) => [...prev, v];
const DATA_KINDS = ['auto', 'ucm', 'eurosat', 'eurosat-ms', 'folder', 'synthetic'];

interface DataFlags {
  data?: string;
  dataKind: string;
  synthSize: string;
  seed?: string;
}

async function datasetFromFlags(f: DataFlags): Promise<SceneDataset> {
  const seed = f.seed !== undefined ? Number(f.seed) : 0;
  if (f.data === undefined || f.data === 'synthetic') return openSceneDataset('synthetic', undefined, { seed, size: f.synthSize as 'small' });
  return openSceneDataset(f.dataKind as SceneDatasetKind, f.data, { seed });
}

interface TrainFlags extends DataFlags {
  config?: string;
  preset?: string;
  out: string;
  weights?: string;
  epochs?: string;
  batchSize?: string;
  accumulationSteps?: string;
  lr?: string;
  engine: 'compiled' | 'eager';
  threads?: string;
  workers: string;
  resume?: string | boolean;
  overwrite?: boolean;
  memoryPattern?: boolean;
  maxSteps?: string;
  onCorrupt: CorruptPolicy;
  set: string[];
  quiet?: boolean;
}

export async function classifyConfigFromFlags(f: Pick<TrainFlags, 'config' | 'preset' | 'epochs' | 'batchSize' | 'lr' | 'set' | 'seed'> & { accumulationSteps?: string }): Promise<ClassifyConfig> {
  const p = (f.preset ?? 'resnet50') as ClassifyPreset;
  if (!(p in CLASSIFY_PRESETS)) throw new CmidError('config', `--preset ${p}: not one of ${Object.keys(CLASSIFY_PRESETS).join(', ')}.`);
  const c = f.config !== undefined ? await loadClassifyConfig(f.config, CLASSIFY_PRESETS[p]) : CLASSIFY_PRESETS[p];
  const o: Record<string, unknown> = {};
  if (f.epochs !== undefined) o.epochs = Number(f.epochs);
  if (f.batchSize !== undefined) o.batchSize = Number(f.batchSize);
  if (f.accumulationSteps !== undefined) o.accumulationSteps = Number(f.accumulationSteps);
  if (f.lr !== undefined) o.lr = Number(f.lr);
  if (f.seed !== undefined) o.seed = Number(f.seed);
  for (const kv of f.set) {
    const i = kv.indexOf('=');
    if (i < 1) throw new CmidError('config', `--set ${kv}: expected key=value (JSON values allowed, e.g. --set scale=[0.5,1]).`);
    const raw = kv.slice(i + 1);
    let v: unknown = raw;
    try {
      v = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    o[kv.slice(0, i)] = v;
  }
  return mergeClassifyConfig(c, o, 'command line');
}

const dataOptions = (c: Command): Command =>
  c
    .option('--data <root>', "dataset root (UCM, EuroSAT, AID/NWPU-style folder) or 'synthetic' (default)")
    .addOption(new Option('--data-kind <kind>', 'how to read --data').choices(DATA_KINDS).default('auto'))
    .option('--synth-size <size>', 'synthetic set size when no --data (tiny|small|medium)', 'small')
    .option('--seed <n>', 'seed of a generated split (and of training)');

export function trainCommand(name = 'train'): Command {
  return dataOptions(new Command(name).description('fine-tune a classifier (the reference UCM recipe) from backbone weights or random init'))
    .option('-c, --config <file>', 'YAML/JSON config (the reference ft_config.yaml keys work)')
    .addOption(new Option('--preset <name>', 'starting config').choices(Object.keys(CLASSIFY_PRESETS)))
    .option('-w, --weights <file>', 'backbone weights: extracted CMID backbone, CMID pretraining checkpoint, baseline checkpoint (.pth/.safetensors)')
    .option('-o, --out <dir>', 'run folder', 'runs/classify')
    .option('--epochs <n>', 'epochs')
    .option('--batch-size <n>', 'batch size (even, for mixup): the images of one update')
    .option('--accumulation-steps <n>', 'split each batch into n micro-batches and accumulate their gradients (less memory, same update)')
    .option('--lr <x>', 'base lr')
    .addOption(new Option('--engine <engine>', 'compiled (one ONNX graph on onnxruntime) or eager (tfjs)').choices(['compiled', 'eager']).default('compiled'))
    .option('--threads <n>', 'onnxruntime threads (default: all cores)')
    .option('--workers <n>', 'data-loader worker threads', '1')
    .option('--resume [file]', 'continue from <out>/checkpoints/last.safetensors, or from this file')
    .option('--overwrite', "start afresh in an --out folder that holds another run (deletes that run's checkpoints and log)")
    .option('--memory-pattern', "onnxruntime's memory-pattern planning (off by default: it raises peak RSS by about the step's activation memory, for up to ~8 % speed)")
    .option('--max-steps <n>', 'stop after this step (checkpointed; resume later)')
    .addOption(new Option('--on-corrupt <policy>', 'a corrupt image: stop with its path, or skip it with a warning').choices(['error', 'skip']).default('error'))
    .option('--set <key=value>', 'override any config key; repeatable', collect, [])
    .option('-q, --quiet', 'no progress bar')
    .action(async (f: TrainFlags) => {
      const config = await classifyConfigFromFlags(f);
      const dataset = await datasetFromFlags(f);
      const r = await finetune({
        config,
        out: f.out,
        dataset,
        ...(f.weights !== undefined ? { weights: f.weights } : {}),
        engine: f.engine,
        ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}),
        workers: Number(f.workers),
        ...(f.resume !== undefined ? { resume: f.resume } : {}),
        ...(f.overwrite === true ? { overwrite: true } : {}),
        ...(f.memoryPattern === true ? { memoryPattern: true } : {}),
        ...(f.maxSteps !== undefined ? { maxSteps: Number(f.maxSteps) } : {}),
        onCorrupt: f.onCorrupt,
        ...(f.quiet === true ? { progress: null } : {}),
      });
      console.log(
        `done: ${r.steps} steps (${r.imagesPerSecond.toFixed(1)} img/s). Test OA ${r.final.oa.toFixed(2)} % (final model), best ${r.best?.top1.toFixed(2) ?? '-'} % at epoch ${r.best?.epoch ?? '-'}; ` +
          `model ${r.model}, ${r.onnx}; metrics ${join(f.out, 'metrics.json')}, confusion ${join(f.out, 'confusion.png')}`,
      );
    });
}

export function evalCommand(name = 'eval'): Command {
  return dataOptions(new Command(name).description("scores of a trained classifier on a dataset's test split: OA, AA, kappa, per-class, confusion PNG"))
    .requiredOption('-m, --model <file>', 'run folder, model.safetensors or model.onnx')
    .option('-o, --out <dir>', 'where to write metrics.json and confusion.png')
    .option('--split <name>', 'test, val or train', 'test')
    .option('--threads <n>', 'onnxruntime threads')
    .option('--workers <n>', 'data-loader worker threads', '1')
    .addOption(new Option('--on-corrupt <policy>', 'a corrupt image: stop, or skip it with a warning').choices(['error', 'skip']).default('error'))
    .action(async (f: DataFlags & { model: string; out?: string; split: string; threads?: string; workers: string; onCorrupt: CorruptPolicy }) => {
      await initBackend();
      const predictor = await ScenePredictor.open(f.model, { engine: 'onnx', ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}) });
      try {
        const meta = predictor.meta;
        const ds = await datasetFromFlags(f);
        if (ds.classes.join() !== meta.classes.join()) {
          throw new CmidError('input', `${f.model}: trained on classes [${meta.classes.slice(0, 5).join(', ')}, ...] (${meta.classes.length}) but ${ds.root} has [${ds.classes.slice(0, 5).join(', ')}, ...] (${ds.classes.length}).`);
        }
        const split = f.split === 'train' ? ds.train : f.split === 'val' ? (ds.val ?? []) : ds.test;
        const samples = (await checkReadable(split, { ...sceneReadOptions(ds), onCorrupt: f.onCorrupt, warn: (m) => console.warn(m) })).samples;
        const r = await evaluateWith((d, n) => predictor.logits(d, n), samples, meta, { workers: Number(f.workers), read: sceneReadOptions(ds) });
        console.log(formatClassificationReport(r, meta.classes));
        if (f.out !== undefined) {
          await mkdir(f.out, { recursive: true });
          await writeFile(join(f.out, 'metrics.json'), JSON.stringify({ model: f.model, data: ds.root, split: f.split, images: r.images, oa: r.oa, aa: r.aa, kappa: r.kappa, top5: r.topK[5] ?? null }, null, 2));
          await writeConfusionPng(join(f.out, 'confusion.png'), r.confusion, meta.classes, { title: `${ds.name} ${f.split}: OA ${r.oa.toFixed(2)} %` });
        }
      } finally {
        await predictor.close();
      }
    });
}

export function predictCommand(name = 'predict'): Command {
  return new Command(name)
    .description('class and probabilities of images or folders (JPEG/PNG/TIFF/GeoTIFF), on onnxruntime (default) or tfjs')
    .argument('<inputs...>', 'image files or folders (searched recursively)')
    .requiredOption('-m, --model <file>', 'run folder, model.onnx or model.safetensors')
    .addOption(new Option('--engine <engine>', 'onnx (onnxruntime-node) or tfjs').choices(['onnx', 'tfjs']).default('onnx'))
    .option('-o, --out <file>', 'write .csv or .json (default: a table on stdout)')
    .option('--batch-size <n>', 'images per run', '16')
    .option('--threads <n>', 'onnxruntime threads')
    .addOption(new Option('--on-corrupt <policy>', 'a corrupt image: stop with its path, or skip it with a warning').choices(['error', 'skip']).default('error'))
    .action(async (inputs: string[], f: { model: string; engine: PredictEngine; out?: string; batchSize: string; threads?: string; onCorrupt: CorruptPolicy }) => {
      await initBackend();
      const predictor = await ScenePredictor.open(f.model, { engine: f.engine, ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}) });
      try {
        const paths = await listImages(inputs);
        const r = await predictor.predictFiles(paths, { batchSize: Number(f.batchSize), onCorrupt: f.onCorrupt, warn: (m) => console.warn(`warning: ${m}`) });
        if (f.out !== undefined) {
          await writeFile(f.out, f.out.endsWith('.json') ? predictionsJson(r, predictor.classes) : predictionsCsv(r, predictor.classes));
          console.log(`${r.predictions.length} images -> ${f.out}${r.skipped.length > 0 ? ` (${r.skipped.length} skipped: ${r.skipped.map((s) => s.path).join(', ')})` : ''}`);
        } else {
          for (const p of r.predictions) console.log(`${p.path}\t${p.label}\t${p.probabilities[p.index]!.toFixed(4)}`);
          if (r.skipped.length > 0) console.log(`skipped ${r.skipped.length}: ${r.skipped.map((s) => s.path).join(', ')}`);
        }
      } finally {
        await predictor.close();
      }
    });
}

export function probeCommand(name = 'probe'): Command {
  return dataOptions(new Command(name).description('kNN and linear-probe accuracy of frozen backbone features (no fine-tuning)'))
    .option('-c, --config <file>', 'YAML/JSON config')
    .addOption(new Option('--preset <name>', 'backbone and transform settings').choices(Object.keys(CLASSIFY_PRESETS)))
    .option('-w, --weights <file>', 'backbone weights; omit for random init')
    .option('--threads <n>', 'onnxruntime threads')
    .option('--set <key=value>', 'override any config key; repeatable', collect, [])
    .action(async (f: DataFlags & { config?: string; preset?: string; weights?: string; threads?: string; set: string[] }) => {
      await initBackend();
      const config = await classifyConfigFromFlags(f);
      const r = await probeBackbone({ config, dataset: await datasetFromFlags(f), ...(f.weights !== undefined ? { weights: f.weights } : {}), ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}) });
      console.log(JSON.stringify(r));
    });
}

export function exportCommand(name = 'export'): Command {
  return new Command(name)
    .description('export a trained classifier (model.safetensors or a checkpoint) to ONNX, with its classes and transform in the metadata')
    .argument('<model>', 'model.safetensors or checkpoints/*.safetensors')
    .requiredOption('-o, --out <file>', 'output .onnx')
    .action(async (file: string, f: { out: string }) => {
      await initBackend();
      const { model, meta } = await loadClassifier(file);
      await writeClassifierOnnx(f.out, model, meta);
      model.dispose();
      console.log(`wrote ${f.out} (${meta.config.backbone}, ${meta.classes.length} classes, input [batch, ${meta.config.size}, ${meta.config.size}, ${meta.bands}] NHWC)`);
    });
}

/** `cmid classify` with its sub-commands (train is the default). */
export function classifyCommand(name = 'classify'): Command {
  return new Command(name)
    .description('scene classification: train (fine-tune), eval, predict, probe (frozen features), export (ONNX)')
    .addCommand(trainCommand('train'), { isDefault: true })
    .addCommand(evalCommand('eval'))
    .addCommand(predictCommand('predict'))
    .addCommand(probeCommand('probe'))
    .addCommand(exportCommand('export'));
}
