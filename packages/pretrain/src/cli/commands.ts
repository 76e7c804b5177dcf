/**
 * The pretraining commands, shared by `pnpm --filter pretrain train|extract|eval` and `cmid pretrain|extract`
 * (apps/cli only wires them). Config: a preset or a YAML/JSON file (reference keys), then flags on top.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { CmidError, createBackbone, loadStateDict, readSafetensors, initBackend } from '@cmid/core';
import { ensureSynthetic } from '@cmid/core/synth';
import { CMID_FIXES, CMID_PRESETS, loadConfigFile, mergeConfig, type CmidConfig, type CmidPreset } from '../config.js';
import { extractToFile } from '../extract.js';
import { evaluateFeatures, labelledSplit } from '../monitor.js';
import { pretrain } from '../train.js';

const collect = (v: string, prev: string[]) => [...prev, v];

interface TrainFlags {
  config?: string;
  preset?: string;
  data?: string;
  dataKind?: string;
  out: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  engine: 'compiled' | 'eager';
  threads?: string;
  workers?: string;
  resume?: string | boolean;
  overwrite?: boolean;
  memoryPattern?: boolean;
  maxSteps?: string;
  checkpointEvery?: string;
  monitor?: string;
  monitorEvery?: string;
  fix: string[];
  set: string[];
  synthSize?: string;
  accumulationSteps?: string;
  quiet?: boolean;
}

export async function configFromFlags(f: Pick<TrainFlags, 'config' | 'preset' | 'epochs' | 'batchSize' | 'lr' | 'fix' | 'set'> & { accumulationSteps?: string }): Promise<CmidConfig> {
  let c: CmidConfig;
  if (f.config !== undefined) c = await loadConfigFile(f.config, f.preset !== undefined ? CMID_PRESETS[f.preset as CmidPreset] : undefined);
  else {
    const p = (f.preset ?? 'resnet50') as CmidPreset;
    if (!(p in CMID_PRESETS)) throw new CmidError('config', `--preset ${p}: not one of ${Object.keys(CMID_PRESETS).join(', ')}.`);
    c = CMID_PRESETS[p];
  }
  const o: Record<string, unknown> = {};
  if (f.epochs !== undefined) o.epochs = f.epochs;
  if (f.batchSize !== undefined) o.batch_size = f.batchSize;
  if (f.lr !== undefined) o.lr = f.lr;
  if (f.accumulationSteps !== undefined) o.accumulation_steps = f.accumulationSteps;
  if (f.fix.length > 0) o.fixes = f.fix;
  for (const kv of f.set) {
    const i = kv.indexOf('=');
    if (i < 1) throw new CmidError('config', `--set ${kv}: expected key=value.`);
    o[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return mergeConfig(c, o, 'command line');
}

export function trainCommand(name = 'train'): Command {
  return new Command(name)
    .description('CMID self-supervised pretraining (on the synthetic MillionAID corpus unless --data is given)')
    .option('-c, --config <file>', 'YAML/JSON config (the reference pt_config.yaml keys work)')
    .addOption(new Option('--preset <name>', 'starting config').choices(Object.keys(CMID_PRESETS)))
    .option('--data <dir>', 'image folder (MillionAID layout, any depth) or Potsdam folder')
    .addOption(new Option('--data-kind <kind>', 'how to read --data').choices(['imagefolder', 'millionaid', 'potsdam']).default('imagefolder'))
    .option('-o, --out <dir>', 'run folder', 'runs/cmid')
    .option('--epochs <n>', 'epochs (the schedules span them)')
    .option('--batch-size <n>', 'batch size (the effective batch of one update)')
    .option('--accumulation-steps <n>', 'split each batch into n micro-batches and accumulate their gradients (less memory, same update)')
    .option('--lr <x>', 'base lr per device (multiplied by lr_multiplier)')
    .addOption(new Option('--engine <engine>', 'compiled (one ONNX graph on onnxruntime) or eager (tfjs)').choices(['compiled', 'eager']).default('compiled'))
    .option('--threads <n>', 'onnxruntime threads (default: all cores)')
    .option('--workers <n>', 'data-loader worker threads', '1')
    .option('--resume [file]', 'continue from <out>/checkpoints/last.safetensors, or from this file')
    .option('--overwrite', "start afresh in an --out folder that holds another run (deletes that run's checkpoints and log)")
    .option('--memory-pattern', "onnxruntime's memory-pattern planning (off by default: it raises peak RSS by about the step's activation memory, for up to ~8 % speed)")
    .option('--max-steps <n>', 'stop after this step (checkpointed; resume later)')
    .option('--checkpoint-every <n>', 'also checkpoint every n steps')
    .option('--monitor <dir>', "kNN monitor on a labelled folder (class sub-folders) or 'synthetic'")
    .option('--monitor-every <n>', 'epochs between monitor passes', '1')
    .option('--synth-size <size>', 'synthetic corpus size when no --data (tiny|small|medium)', 'small')
    .option('--fix <name>', `opt into a fix of a reference quirk (${Object.keys(CMID_FIXES).join(', ')}); repeatable`, collect, [])
    .option('--set <key=value>', 'override any config key; repeatable', collect, [])
    .option('-q, --quiet', 'no progress bar')
    .action(async (f: TrainFlags) => {
      const config = await configFromFlags(f);
      const r = await pretrain({
        config,
        out: f.out,
        ...(f.data !== undefined ? { data: f.data, dataKind: f.dataKind as 'imagefolder' } : {}),
        synthSize: (f.synthSize ?? 'small') as 'small',
        engine: f.engine,
        ...(f.threads !== undefined ? { threads: Number(f.threads) } : {}),
        workers: Number(f.workers ?? 1),
        ...(f.resume !== undefined ? { resume: f.resume } : {}),
        ...(f.overwrite === true ? { overwrite: true } : {}),
        ...(f.memoryPattern === true ? { memoryPattern: true } : {}),
        ...(f.maxSteps !== undefined ? { maxSteps: Number(f.maxSteps) } : {}),
        ...(f.checkpointEvery !== undefined ? { checkpointEvery: Number(f.checkpointEvery) } : {}),
        ...(f.monitor !== undefined ? { monitor: { data: f.monitor, every: Number(f.monitorEvery ?? 1) } } : {}),
        ...(f.quiet === true ? { progress: null } : {}),
      });
      console.log(`done: ${r.steps} steps (${r.imagesPerSecond.toFixed(1)} img/s, ${r.engine} engine); checkpoint ${r.checkpoint}; log ${join(f.out, 'log.jsonl')}, plot ${join(f.out, 'loss.png')}`);
    });
}

export function extractCommand(name = 'extract'): Command {
  return new Command(name)
    .description('write the backbone-only weights (safetensors, PyTorch key names) of a pretraining checkpoint (ours or the reference .pth)')
    .argument('<checkpoint>', 'checkpoints/last.safetensors, step_N.safetensors, or a reference epoch_N.pth')
    .requiredOption('-o, --out <file>', 'output .safetensors')
    .addOption(new Option('--encoder <which>', 'student (as extract.py) or the EMA teacher').choices(['student', 'teacher']).default('student'))
    .action(async (file: string, f: { out: string; encoder: 'student' | 'teacher' }) => {
      const r = await extractToFile(file, f.out, f.encoder);
      console.log(`wrote ${r.tensors.size} tensors (${f.encoder}${r.backbone ? `, ${r.backbone}` : ''}) to ${f.out}`);
    });
}

export function evalCommand(name = 'eval'): Command {
  return new Command(name)
    .description('kNN / linear-probe accuracy of a backbone (extracted weights, or random init) on a labelled folder')
    .requiredOption('--backbone <name>', 'resnet50, resnet18, swin_b, swin_t')
    .option('--weights <file>', 'backbone safetensors (from extract); omit for random init')
    .option('--backbone-options <json>', 'constructor options, e.g. {"baseWidth":16}', '{}')
    .option('--data <dir>', "labelled folder (class sub-folders) or 'synthetic'", 'synthetic')
    .option('--size <px>', 'input size', '224')
    .option('--linear', 'also a linear probe')
    .action(async (f: { backbone: string; weights?: string; backboneOptions: string; data: string; size: string; linear?: boolean }) => {
      await initBackend();
      const backbone = createBackbone(f.backbone, JSON.parse(f.backboneOptions) as object);
      if (f.weights !== undefined) {
        const st = await readSafetensors(f.weights);
        loadStateDict(backbone, st.tensors, { source: f.weights });
      }
      const root = f.data === 'synthetic' ? join(await ensureSynthetic('ucm', { size: 'small' }), 'Images') : f.data;
      const r = await evaluateFeatures(backbone, await labelledSplit(root), { size: Number(f.size), linear: f.linear === true });
      console.log(JSON.stringify(r));
    });
}
