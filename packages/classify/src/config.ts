/**
 * Scene-classification fine-tuning configuration: the reference's `ft_config.yaml` (cmid.md §1.3, §12) as data,
 * a small preset for tests and the demo, and reading a config file (YAML/JSON keys of the reference, snake_case
 * or camelCase) with command-line overrides on top.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CmidError, IMAGENET_MEAN, IMAGENET_STD } from '@cmid/core';

export interface ClassifyConfig {
  /** Backbone name in @cmid/core's registry (resnet50, swin_b, resnet18, swin_t, vit_b16). */
  backbone: string;
  /** Options passed to the backbone constructor (baseWidth, embedDim, depths, numHeads, dropPathRate, ...). */
  backboneOptions: Record<string, unknown>;
  /** Training crop and evaluation crop side. 224. */
  size: number;
  /** Evaluation resize: shorter side = round(size / cropPct), then a centre crop of `size` (timm: 0.875). */
  cropPct: number;
  /** RandomResizedCrop area range. */
  scale: [number, number];
  /** Horizontal flip probability. */
  hflip: number;
  /** timm auto-augment string ('rand-m9-mstd0.5-inc1'), or null for none. */
  aa: string | null;
  /** Random erasing probability (mode 'pixel', one box). */
  reprob: number;
  /** Mixup alpha (0 = off). */
  mixup: number;
  /** CutMix alpha (0 = off). */
  cutmix: number;
  mixupProb: number;
  mixupSwitchProb: number;
  /** Label smoothing (inside the mixed targets when mixing is on). */
  smoothing: number;
  mean: number[];
  std: number[];
  /** The pixel value that means 1.0 when normalising (255 for 8-bit imagery; e.g. 10000 for Sentinel-2 reflectance). */
  pixelMax: number;
  // ---- optimisation
  optimizer: 'adan' | 'adamw' | 'sgd';
  lr: number;
  wd: number;
  minLr: number;
  warmupEpochs: number;
  warmupFactor: number;
  epochs: number;
  batchSize: number;
  /** Global gradient-norm clip (null = off, as the reference). */
  maxGradNorm: number | null;
  /** Split each batch into this many micro-batches and accumulate their gradients (one update, less memory). */
  accumulationSteps: number;
  /** Train only the classifier head (the backbone frozen, eval-mode BN): a "linear" fine-tune. */
  freezeBackbone: boolean;
  /** Evaluate on the test split every this many epochs (and at the end). */
  evalEvery: number;
  seed: number;
}

/** `ft_config.yaml` with ResNet-50 (hidden_dim 2048): UCM fine-tuning as in the reference's README (batch 16). */
export const UCM_RESNET50: ClassifyConfig = {
  backbone: 'resnet50',
  backboneOptions: {},
  size: 224,
  cropPct: 0.875,
  scale: [0.08, 1],
  hflip: 0.5,
  aa: 'rand-m9-mstd0.5-inc1',
  reprob: 0.25,
  mixup: 0.8,
  cutmix: 1,
  mixupProb: 1,
  mixupSwitchProb: 0.5,
  smoothing: 0.1,
  mean: [...IMAGENET_MEAN],
  std: [...IMAGENET_STD],
  pixelMax: 255,
  optimizer: 'adan',
  lr: 0.003125,
  wd: 0.02,
  minLr: 1e-6,
  warmupEpochs: 5,
  warmupFactor: 0.01,
  epochs: 200,
  batchSize: 16,
  maxGradNorm: null,
  accumulationSteps: 1,
  freezeBackbone: false,
  evalEvery: 1,
  seed: 0,
};

/** `ft_config.yaml` as written (Swin-B, hidden_dim 1024, drop-path 0.5). */
export const UCM_SWIN_B: ClassifyConfig = { ...UCM_RESNET50, backbone: 'swin_b', backboneOptions: { dropPathRate: 0.5 } };

/** A small run for tests and the demo: ResNet-18 at width 16 on 96 px images. */
export const CLASSIFY_TINY: ClassifyConfig = {
  ...UCM_RESNET50,
  backbone: 'resnet18',
  backboneOptions: { baseWidth: 16 },
  size: 96,
  epochs: 8,
  warmupEpochs: 1,
  batchSize: 16,
  lr: 0.003,
};

export const CLASSIFY_PRESETS = { resnet50: UCM_RESNET50, swin_b: UCM_SWIN_B, tiny: CLASSIFY_TINY } as const;
export type ClassifyPreset = keyof typeof CLASSIFY_PRESETS;

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Reference keys with another name here, or that are ignored (logged as such). */
const ALIASES: Record<string, keyof ClassifyConfig | null> = {
  epoch: 'epochs',
  inputSize: 'size',
  numClasses: null, // from the dataset
  hiddenDim: null, // from the backbone
  dataset: null,
  colorJitter: null, // ignored by timm when RandAugment is set; not supported here
  remode: null, // always 'pixel'
  recount: null, // always 1
  cutmixMinmax: null,
  mixupMode: null, // always 'batch'
  name: null, // always cosine
  warmupMethod: null, // always linear
  decayEpochs: null,
  decayRate: null,
  multisteps: null,
  gamma: null,
};

/** Merges `overrides` (reference YAML keys or camelCase) into `base`; unknown keys are an error naming them. */
export function mergeClassifyConfig(base: ClassifyConfig, overrides: Record<string, unknown>, source = 'config'): ClassifyConfig {
  const out: Record<string, unknown> = { ...base };
  const unknown: string[] = [];
  for (const [rawKey, value] of Object.entries(overrides)) {
    let key = camel(rawKey);
    if (key in ALIASES) {
      const to = ALIASES[key];
      if (to === null || to === undefined) continue;
      key = to;
    }
    if (!(key in base)) {
      unknown.push(rawKey);
      continue;
    }
    if (key === 'size' && Array.isArray(value)) out.size = Number(value[0]);
    else out[key] = value;
  }
  if (unknown.length > 0) throw new CmidError('config', `${source}: unknown key(s) ${unknown.join(', ')}. Known: ${Object.keys(base).join(', ')}.`);
  const c = out as unknown as ClassifyConfig;
  if (c.maxGradNorm === 0) c.maxGradNorm = null; // the reference's "0." means off
  validate(c, source);
  return c;
}

function validate(c: ClassifyConfig, source: string): void {
  const bad = (m: string) => new CmidError('config', `${source}: ${m}`);
  if (!(c.size >= 32)) throw bad(`size ${c.size} is too small (at least 32).`);
  if (!(c.batchSize >= 1)) throw bad(`batch_size ${c.batchSize} must be at least 1.`);
  if (!Number.isInteger(c.accumulationSteps) || c.accumulationSteps < 1 || c.batchSize % c.accumulationSteps !== 0 || (c.batchSize / c.accumulationSteps < 2 && !c.freezeBackbone)) {
    throw bad(`accumulation_steps ${c.accumulationSteps}: batch_size ${c.batchSize} must split into that many equal micro-batches of at least 2 images (batch-norm statistics).`);
  }
  if ((c.mixup > 0 || c.cutmix > 0) && c.batchSize % 2 !== 0) throw bad(`mixup/cutmix pair sample i with sample B-1-i and need an even batch; batch_size is ${c.batchSize}.`);
  if (!(c.epochs >= 1)) throw bad(`epochs ${c.epochs} must be at least 1.`);
  if (c.mean.length !== c.std.length) throw bad(`mean has ${c.mean.length} values but std ${c.std.length}.`);
}

/** Reads a YAML or JSON config file onto `base`. */
export async function loadClassifyConfig(file: string, base: ClassifyConfig = UCM_RESNET50): Promise<ClassifyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CmidError('input', `${file}: cannot read the config file (${(e as Error).message}).`, { file });
  }
  const parsed = (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as unknown;
  if (typeof parsed !== 'object' || parsed === null) throw new CmidError('config', `${file}: not a mapping of config keys.`, { file });
  return mergeClassifyConfig(base, parsed as Record<string, unknown>, file);
}

/**
 * The normalisation a run on `ds` uses: the config's, unless it is the ImageNet default and the dataset has its own
 * band statistics (EuroSAT-MS), or it does not fit the dataset's band count, which is an error with the fix.
 */
export function normalizationFor(
  c: ClassifyConfig,
  ds: { root: string; bands: number; normalization?: { mean: number[]; std: number[]; pixelMax: number; source: string } },
): { config: ClassifyConfig; note?: string } {
  const isDefault = c.pixelMax === 255 && c.mean.join() === IMAGENET_MEAN.join() && c.std.join() === IMAGENET_STD.join();
  if (ds.normalization !== undefined && isDefault) {
    const n = ds.normalization;
    return { config: { ...c, mean: [...n.mean], std: [...n.std], pixelMax: n.pixelMax }, note: `normalising with ${n.source} (${ds.bands} bands) instead of the ImageNet default` };
  }
  if (c.mean.length !== ds.bands) {
    throw new CmidError('config', `${ds.root}: the images have ${ds.bands} bands but mean/std have ${c.mean.length} values. Give one per band, e.g. --set mean=[...] --set std=[...] (and --set pixel_max=... for data that is not 8-bit), or select ${c.mean.length} bands.`);
  }
  return { config: c };
}
