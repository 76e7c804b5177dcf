/**
 * Backbone weights from whatever file a user has: what every downstream task calls to initialise its backbone.
 *
 * Accepted files (`.pth`/`.pt`/`.ckpt` via readPth, `.safetensors`):
 * - a backbone-only state dict (CMID's extract.py output, `cmid extract`, torchvision/timm weights);
 * - a full CMID pretraining checkpoint, ours (safetensors tagged `cmid-pretrain/1`) or the reference's `.pth`
 *   (`model.online_encoder.model.*`): the student backbone is taken, as extract.py does;
 * - a public baseline checkpoint wrapped the usual ways (`state_dict`, `model`, `module.encoder_q.`, `backbone.`,
 *   ...): the wrapper key is found by findStateDict and the prefix chosen is the one under which most of the
 *   backbone's own keys are found (MoCo files hold encoder_q and encoder_k side by side, so "strip whatever all
 *   keys share" is not enough).
 *
 * Loading: every backbone tensor must be present (except `allowMissing`, e.g. Swin's norm0..norm2, which the
 * reference's fine-tuning loader also leaves at their init) and of the right shape; extra keys (a classifier
 * `fc.*`, projector heads) are reported and ignored. Nothing is assigned unless the whole check passes.
 */
import type { Module } from '../nn/module.js';
import { loadStateDict, type LoadReport } from '../nn/state-dict.js';
import { CmidError } from '../runtime/errors.js';
import { extractBackbone } from './extract.js';
import { readPth } from './pth/read-pth.js';
import { COMMON_PREFIXES, stripPrefix } from './remap.js';
import { readSafetensors } from './safetensors.js';
import { findStateDict } from './state-dict.js';
import type { StateDict } from './tensor.js';

export type BackboneWeightsSource = 'cmid-pretrain' | 'reference-pth' | 'state-dict';

export interface BackboneWeights {
  dict: StateDict;
  source: BackboneWeightsSource;
  /** Wrapper path and prefix removed, for the log: e.g. "state_dict / module.encoder_q.". */
  via: string;
}

/** Reads `file` and returns the backbone state dict inside it (not yet matched to a model; see loadBackboneWeights). */
export async function readBackboneWeights(file: string, encoder: 'student' | 'teacher' = 'student'): Promise<BackboneWeights> {
  if (file.endsWith('.safetensors')) {
    const st = await readSafetensors(file);
    if (st.metadata.format === 'cmid-pretrain/1') {
      const dict = extractBackbone({ file, archive: '', tensorCount: st.tensors.size, root: new Map([['model', st.tensors]]) }, { encoder });
      return { dict, source: 'cmid-pretrain', via: `${encoder} encoder of a cmid pretraining checkpoint` };
    }
    return { dict: st.tensors as StateDict, source: 'state-dict', via: 'safetensors' };
  }
  const ckpt = await readPth(file);
  const model = ckpt.root instanceof Map ? ckpt.root.get('model') : undefined;
  if (model instanceof Map && [...model.keys()].some((k) => typeof k === 'string' && k.startsWith('online_encoder.model.'))) {
    return { dict: extractBackbone(ckpt, { encoder }), source: 'reference-pth', via: `${encoder} encoder of a CMID pretraining .pth` };
  }
  const found = findStateDict(ckpt);
  return { dict: found.stateDict, source: 'state-dict', via: found.path.length === 0 ? 'state dict' : found.path.join('.') };
}

/** The prefix (one of COMMON_PREFIXES, or none) under which the most of `want`'s keys are found in `dict`. */
export function bestPrefix(dict: StateDict, want: ReadonlySet<string>): { prefix: string; hits: number } {
  let best = { prefix: '', hits: 0 };
  for (const prefix of ['', ...COMMON_PREFIXES]) {
    let hits = 0;
    for (const k of dict.keys()) if (k.startsWith(prefix) && want.has(k.slice(prefix.length))) hits++;
    if (hits > best.hits) best = { prefix, hits };
  }
  return best;
}

export interface LoadBackboneOptions {
  /** Backbone keys that may be absent from the file (regexps on our key names). */
  allowMissing?: RegExp[];
  encoder?: 'student' | 'teacher';
}

export interface LoadBackboneResult extends LoadReport {
  source: BackboneWeightsSource;
  via: string;
}

/** Loads the backbone weights in `file` into `backbone`; see the file header. Throws CmidError naming the file. */
export async function loadBackboneWeights(backbone: Module, file: string, options: LoadBackboneOptions = {}): Promise<LoadBackboneResult> {
  const w = await readBackboneWeights(file, options.encoder ?? 'student');
  const want = new Set(backbone.stateEntries().map((e) => e.name));
  const { prefix, hits } = bestPrefix(w.dict, want);
  if (hits === 0) {
    const sample = [...w.dict.keys()].slice(0, 6).join(', ');
    throw new CmidError(
      'checkpoint',
      `${file}: none of the ${backbone.constructor.name}'s keys (e.g. ${[...want].slice(0, 3).join(', ')}) is in this file (its keys: ${sample}, ...). ` +
        'It is a checkpoint for another architecture: pick the backbone it was trained with (--backbone), or pass a backbone checkpoint.',
      { file },
    );
  }
  const dict = prefix === '' ? w.dict : stripPrefix(w.dict, prefix, { dropOthers: true });
  const report = loadStateDict(backbone, dict, {
    strict: true,
    allowMissing: options.allowMissing ?? [],
    allowUnexpected: [/.*/],
    source: file,
  });
  return { ...report, source: w.source, via: prefix === '' ? w.via : `${w.via} / ${prefix}` };
}
