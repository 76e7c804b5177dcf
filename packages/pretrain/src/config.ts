/**
 * CMID pretraining configuration: the reference YAMLs as data (cmid.md §1.1: `pt_config.yaml` for ResNet-50,
 * `pt_swin_config.yaml` for Swin-B), small presets for tests and the demo, and the named fixes of the reference's
 * bugs (cmid.md §13 policy: the default reproduces the reference; a fix is an explicit opt-in).
 *
 * Config files are YAML or JSON with these keys (snake_case, as the reference's YAML) or their camelCase
 * spellings; command-line flags override the file.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CmidError } from '@cmid/core';

/** Named fixes of reference quirks (cmid.md §13), all off by default. */
export const CMID_FIXES = {
  /** Quirk 1: cell grids use pixel crop offsets instead of albumentations' [0, 1] fractions. */
  'location-offsets': 'cell-centre grids use the crops\' pixel offsets (quirk 1)',
  /** Quirk 3: the MoCo queue starts with unit-norm keys instead of unit-norm feature rows. */
  'queue-init': 'MoCo queue initialised with unit-norm keys (quirk 3)',
  /** Quirk 7: the local-loss centre is updated once per iteration, from both terms' teacher logits. */
  'center-once': 'local-loss centre updated once per step from both terms (quirk 7)',
} as const;
export type CmidFix = keyof typeof CMID_FIXES;

export interface CmidConfig {
  /** Backbone name in @cmid/core's registry (resnet50, resnet18, swin_b, swin_t). */
  backbone: string;
  /** Options passed to the backbone constructor (baseWidth, embedDim, depths, numHeads, ...). */
  backboneOptions: Record<string, unknown>;
  /** Crop side (and global resize side). 224 in the reference. */
  size: number;
  // ---- heads (cmid.md §3)
  outDim: number;
  hiddenDim: number;
  classFeatSize: number;
  bottleneckDim: number;
  numLayers: number;
  useBn: boolean;
  // ---- global branch (§4.1)
  temperature: number;
  queueSize: number;
  /** Copies of each key written to the queue: 1 = single process (MoCoBased); 4 mimics the 4-GPU run (quirk 4). */
  queueRepeat: number;
  // ---- local branch (§4.3, §5)
  numMatches: number;
  onlineTemp: number;
  branchTemp: number;
  warmupBranchTemp: number;
  warmupBranchTempEpochs: number;
  centerMomentum: number;
  /** -1 (ResNet) or 0 (Swin): shifts the teacher-temperature schedule index (quirk 6). */
  modelWarmupEpoch: number;
  // ---- masking and reconstruction (§4.4, §6.3)
  maskPatchSize: number;
  maskRatio: number;
  alpha: number;
  focalGamma: number;
  fftWeight: number;
  fftUnmaskWeight: number;
  encoderInChannels: number;
  unmaskWeight: number;
  /** Mask view 2 for the student (reference HEAD); false reproduces quirk 2 (pre-2023-08 code). */
  maskView: boolean;
  // ---- EMA (§7)
  baseMomentum: number;
  finalMomentum: number;
  // ---- optimisation (§8)
  optimizer: 'adan' | 'adamw' | 'sgd';
  /** Per-GPU base lr of the YAML. */
  lr: number;
  /** The reference multiplies lr by world size x accumulation steps (4 GPUs: 4). */
  lrMultiplier: number;
  wd: number;
  minLr: number;
  warmupEpochs: number;
  warmupFactor: number;
  epochs: number;
  batchSize: number;
  /** Clip the global gradient norm (null = off, as the reference). */
  maxGradNorm: number | null;
  /**
   * Gradient accumulation: each step runs batchSize / accumulationSteps samples at a time and updates once with the
   * mean gradient (peak memory of the smaller batch). batchSize stays the effective batch, so lr is not rescaled.
   * The reference's --accumulation-steps only multiplies lr (docs/deviations.md).
   */
  accumulationSteps: number;
  // ---- run
  seed: number;
  fixes: CmidFix[];
}

/** `pt_config.yaml` (ResNet-50), single process: batch 64 per device as the README, lr x 4 as its 4-GPU run. */
export const CMID_RESNET50: CmidConfig = {
  backbone: 'resnet50',
  backboneOptions: {},
  size: 224,
  outDim: 256,
  hiddenDim: 2048,
  classFeatSize: 2048,
  bottleneckDim: 256,
  numLayers: 3,
  useBn: true,
  temperature: 0.2,
  queueSize: 65536,
  queueRepeat: 1,
  numMatches: 20,
  onlineTemp: 0.1,
  branchTemp: 0.07,
  warmupBranchTemp: 0.04,
  warmupBranchTempEpochs: 50,
  centerMomentum: 0.9,
  modelWarmupEpoch: -1,
  maskPatchSize: 32,
  maskRatio: 0.6,
  alpha: 0.2,
  focalGamma: 1,
  fftWeight: 1,
  fftUnmaskWeight: 0.001,
  encoderInChannels: 3,
  unmaskWeight: 0,
  maskView: true,
  baseMomentum: 0.996,
  finalMomentum: 1,
  optimizer: 'adan',
  lr: 0.001,
  lrMultiplier: 4,
  wd: 0.02,
  minLr: 1e-6,
  warmupEpochs: 10,
  warmupFactor: 0.01,
  epochs: 400,
  batchSize: 64,
  maxGradNorm: null,
  accumulationSteps: 1,
  seed: 322,
  fixes: [],
};

/** `pt_swin_config.yaml` (Swin-B): no BN in the LocalHead, backbone width 1024, model_warmup_epoch 0. */
export const CMID_SWIN_B: CmidConfig = { ...CMID_RESNET50, backbone: 'swin_b', useBn: false, modelWarmupEpoch: 0 };

/**
 * A small CMID for tests and the demo: ResNet-18 at width 16 on 96 px crops (3 x 3 cells, 4 matches), 16 px mask
 * blocks, heads and queue scaled down. The method is unchanged; only sizes differ.
 */
export const CMID_TINY: CmidConfig = {
  ...CMID_RESNET50,
  backbone: 'resnet18',
  backboneOptions: { baseWidth: 16 },
  size: 96,
  outDim: 64,
  hiddenDim: 256,
  classFeatSize: 256,
  bottleneckDim: 64,
  queueSize: 1024,
  numMatches: 4,
  maskPatchSize: 16,
  warmupBranchTempEpochs: 5,
  warmupEpochs: 1,
  epochs: 10,
  batchSize: 32,
  lrMultiplier: 1,
  seed: 0,
};

export const CMID_PRESETS = { resnet50: CMID_RESNET50, swin_b: CMID_SWIN_B, tiny: CMID_TINY } as const;
export type CmidPreset = keyof typeof CMID_PRESETS;

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Reference YAML keys that mean something else here, or that the reference ignores. */
const ALIASES: Record<string, keyof CmidConfig | null> = {
  epoch: 'epochs',
  maxGradNorm: 'maxGradNorm',
  residual: null, // always false in the reference (additive mask token)
  transformType: null,
  numClasses: null,
  dataset: null,
  baseModel: null,
  inChans: null,
  predictorHiddenDim: null,
  maskStage: null,
  outStage: null,
  kernelSize: null,
  inChannels: null,
  outStride: null,
  globalBranch: null,
  maskColor: null,
  lossWeight: null,
  reduction: null,
  activate: null,
  fftFocal: null,
  fftUnmaskReplace: null,
  name: null,
  warmupMethod: null,
  decayEpochs: null,
  decayRate: null,
  multisteps: null,
  gamma: null,
  k: null,
  t: null,
  distanceFx: null,
  ftClassify: null,
  segmentation: null,
  ignoreIndex: null,
};

/**
 * Overlay `overrides` (snake_case or camelCase keys) on `base`, with type checks; unknown keys are an error that
 * lists the known ones, reference keys that have no effect are ignored.
 */
export function mergeConfig(base: CmidConfig, overrides: Record<string, unknown>, source = 'config'): CmidConfig {
  const out: CmidConfig = { ...base, backboneOptions: { ...base.backboneOptions }, fixes: [...base.fixes] };
  for (const [rawKey, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    let key = camel(rawKey);
    if (key in ALIASES) {
      const a = ALIASES[key];
      if (a === null) continue;
      key = a;
    }
    if (key === 'size' && Array.isArray(value)) {
      if (value[0] !== value[1]) throw new CmidError('config', `${source}: size ${JSON.stringify(value)} must be square.`);
      out.size = Number(value[0]);
      continue;
    }
    if (!(key in base)) {
      throw new CmidError('config', `${source}: unknown key "${rawKey}". Known keys: ${Object.keys(base).join(', ')}.`);
    }
    const k = key as keyof CmidConfig;
    const expected = typeof base[k];
    if (k === 'maxGradNorm') {
      if (value !== null && typeof value !== 'number') throw new CmidError('config', `${source}: max_grad_norm must be a number or null.`);
      out.maxGradNorm = value as number | null;
    } else if (k === 'fixes') {
      const list = Array.isArray(value) ? value : String(value).split(',').filter((s) => s !== '');
      for (const f of list) if (!(f in CMID_FIXES)) throw new CmidError('config', `${source}: unknown fix "${f}". Known fixes: ${Object.keys(CMID_FIXES).join(', ')}.`);
      out.fixes = list as CmidFix[];
    } else if (k === 'backboneOptions') {
      if (typeof value !== 'object' || value === null) throw new CmidError('config', `${source}: backbone_options must be a mapping.`);
      out.backboneOptions = { ...(value as Record<string, unknown>) };
    } else if (expected === 'number') {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new CmidError('config', `${source}: ${rawKey} must be a number, got ${JSON.stringify(value)}.`);
      (out as unknown as Record<string, unknown>)[k] = n;
    } else if (expected === 'boolean') {
      const b = value === 'true' ? true : value === 'false' ? false : value;
      if (typeof b !== 'boolean') throw new CmidError('config', `${source}: ${rawKey} must be true or false, got ${JSON.stringify(value)}.`);
      (out as unknown as Record<string, unknown>)[k] = b;
    } else {
      (out as unknown as Record<string, unknown>)[k] = String(value);
    }
  }
  validateConfig(out, source);
  return out;
}

export function validateConfig(c: CmidConfig, source = 'config'): void {
  const fail = (m: string) => {
    throw new CmidError('config', `${source}: ${m}`);
  };
  if (!['adan', 'adamw', 'sgd'].includes(c.optimizer)) fail(`optimizer "${c.optimizer}" is not one of adan, adamw, sgd.`);
  if (c.size % 32 !== 0) fail(`size ${c.size} must be a multiple of 32 (the backbone's output stride).`);
  if (c.size % c.maskPatchSize !== 0) fail(`size ${c.size} must be a multiple of mask_patch_size ${c.maskPatchSize}.`);
  const cells = (c.size / 32) ** 2;
  if (c.numMatches < 1 || c.numMatches > cells) fail(`num_matches ${c.numMatches} must be in 1..${cells} (the ${c.size / 32} x ${c.size / 32} feature cells).`);
  if (c.batchSize < 2) fail('batch_size must be at least 2 (batch-norm statistics; the reference squeezes away B = 1, quirk 21).');
  if (!Number.isInteger(c.accumulationSteps) || c.accumulationSteps < 1) fail(`accumulation_steps ${c.accumulationSteps} must be a positive integer.`);
  if (c.batchSize % c.accumulationSteps !== 0 || c.batchSize / c.accumulationSteps < 2) {
    fail(`batch_size ${c.batchSize} must split into accumulation_steps = ${c.accumulationSteps} micro-batches of equal size, at least 2 each (batch-norm statistics).`);
  }
  if (c.queueSize % (c.batchSize * c.queueRepeat) !== 0) fail(`queue_size ${c.queueSize} must be a multiple of batch_size x queue_repeat (${c.batchSize * c.queueRepeat}), as the reference asserts.`);
  if (c.maskRatio <= 0 || c.maskRatio >= 1) fail(`mask_ratio ${c.maskRatio} must be in (0, 1).`);
  if (c.epochs < 1) fail('epochs must be >= 1.');
}

/** Reads a YAML or JSON config file and overlays it on a preset (default: the file's backbone's preset). */
export async function loadConfigFile(path: string, base?: CmidConfig): Promise<CmidConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CmidError('input', `${path}: cannot read the config file (${(e as Error).message}).`, { file: path });
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new CmidError('config', `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'} (${(e as Error).message.split('\n')[0]}).`, { file: path });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CmidError('config', `${path}: expected a mapping of keys to values.`, { file: path });
  const obj = raw as Record<string, unknown>;
  const preset = typeof obj.preset === 'string' ? obj.preset : undefined;
  delete obj.preset;
  let start = base;
  if (preset !== undefined) {
    if (!(preset in CMID_PRESETS)) throw new CmidError('config', `${path}: preset "${preset}" is not one of ${Object.keys(CMID_PRESETS).join(', ')}.`, { file: path });
    start = CMID_PRESETS[preset as CmidPreset];
  }
  if (start === undefined) start = String(obj.backbone ?? 'resnet50').startsWith('swin') ? CMID_SWIN_B : CMID_RESNET50;
  // the reference YAML names the backbone "swin" for Swin-B
  if (obj.backbone === 'swin') obj.backbone = 'swin_b';
  return mergeConfig(start, obj, path);
}

/** Teacher temperature at `epoch` (cmid.md §4.3): linear warm-up then constant, indexed at epoch - model_warmup_epoch. */
export function teacherTemperature(c: CmidConfig, epoch: number): number {
  const idx = epoch - c.modelWarmupEpoch;
  const n = c.warmupBranchTempEpochs;
  if (idx >= n) return c.branchTemp;
  if (n <= 1) return c.branchTemp;
  return c.warmupBranchTemp + ((c.branchTemp - c.warmupBranchTemp) * Math.max(idx, 0)) / (n - 1);
}
